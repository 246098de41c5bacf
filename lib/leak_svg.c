#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "human.h"
#include "leak_svg.h"

struct frame {
	double t_span, lo, hi;
};

#define SVG_W 800.0
#define SVG_H 320.0
#define SVG_L 70.0
#define SVG_R 20.0
#define SVG_T 30.0
#define SVG_B 40.0

static double
sx(const struct frame *f, double t)
{
	return SVG_L +
	       (f->t_span > 0 ? t / f->t_span : 0) * (SVG_W - SVG_L - SVG_R);
}

static double
sy(const struct frame *f, double v)
{
	return SVG_H - SVG_B -
	       (f->hi > f->lo ? (v - f->lo) / (f->hi - f->lo) : 0.5) *
	           (SVG_H - SVG_T - SVG_B);
}

static void
svg_series(FILE *fp, const struct leak_series *s, const struct frame *f)
{
	size_t i;

	/* min..max band, then the mean line */
	fputs("<polygon fill=\"#cfe3f7\" stroke=\"none\" points=\"", fp);
	for (i = 0; i < s->n; i++)
		fprintf(fp, "%.1f,%.1f ", sx(f, s->b[i].t),
		        sy(f, s->sign > 0 ? s->b[i].vmax : -s->b[i].vmin));
	for (i = s->n; i-- > 0;)
		fprintf(fp, "%.1f,%.1f ", sx(f, s->b[i].t),
		        sy(f, s->sign > 0 ? s->b[i].vmin : -s->b[i].vmax));
	fputs("\"/>\n<polyline fill=\"none\" stroke=\"#1f5fa8\" "
	      "stroke-width=\"1.2\" points=\"",
	      fp);
	for (i = 0; i < s->n; i++)
		fprintf(fp, "%.1f,%.1f ", sx(f, s->b[i].t),
		        sy(f, s->sign * s->b[i].v));
	fputs("\"/>\n", fp);
}

static void
svg_overlays(FILE *fp, const struct leak_result *r, const struct frame *f,
             double t0)
{
	size_t i;

	if (r->env_n > 1) {
		fputs("<polyline fill=\"none\" stroke=\"#2a9d3a\" "
		      "stroke-width=\"1.5\" points=\"",
		      fp);
		for (i = 0; i < r->env_n; i++)
			fprintf(fp, "%.1f,%.1f ", sx(f, r->env_t[i]),
			        sy(f, r->env_v[i]));
		fputs("\"/>\n", fp);
	}
	for (i = 0; i < r->nregimes; i++) { /* the regimes' lines */
		const struct leak_regime *x = &r->regime[i];

		fprintf(fp,
		        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		        "stroke=\"#c0392b\" stroke-dasharray=\"6 4\" "
		        "stroke-width=\"1.5\"/>\n",
		        sx(f, x->start_ts - t0), sy(f, x->level_start),
		        sx(f, x->end_ts - t0), sy(f, x->level_end));
	}
	if (!isnan(r->onset_ts))
		fprintf(fp,
		        "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" "
		        "stroke=\"#e67e22\" stroke-width=\"1.5\"/>\n",
		        sx(f, r->onset_ts - t0), SVG_T, sx(f, r->onset_ts - t0),
		        SVG_H - SVG_B);
}

static void
svg_faults(FILE *fp, const struct leak_faults *fl, double t0,
           const struct frame *f)
{
	size_t i;

	for (i = 0; i < fl->n; i++) {
		double a = fmax(fl->start[i] - t0, 0),
		       b = fmin(fl->end[i] - t0, f->t_span);

		if (b <= a)
			continue;
		fprintf(fp,
		        "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" "
		        "height=\"%.0f\" fill=\"#f5c6cb\" opacity=\"0.6\"/>\n",
		        sx(f, a), SVG_T, sx(f, b) - sx(f, a),
		        SVG_H - SVG_T - SVG_B);
	}
}

static void
svg_text(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '<')
			fputs("&lt;", fp);
		else if (*s == '>')
			fputs("&gt;", fp);
		else if (*s == '&')
			fputs("&amp;", fp);
		else
			fputc(*s, fp);
	}
}

#define SVG_MAPS_H 220.0 /* the stacked classes' panel, below */

/*
 * With maps: the classes stacked over time in a panel of their own, the
 * heap at the bottom, each band as tall as its resident KiB, so that the
 * one that grows shows as the band that widens.
 */
static void
svg_maps(FILE *fp, const struct where_set *w, const struct frame *f, double t0)
{
	static const char *const fill[SMAPS_NCLASS] = {
	    "#e4572e", "#f3a712", "#a8c686", "#669bbc", "#b8b8d1"};
	const struct leak_series *cls[SMAPS_NCLASS];
	double top = 0, y0 = SVG_H, h = SVG_MAPS_H - SVG_B, base[2];
	char a[HUMAN_MAX];
	size_t i, n = SIZE_MAX;
	int k, j;

	for (k = 0; k < SMAPS_NCLASS; k++) {
		if ((cls[k] = where_class(w, k)) == NULL)
			return;
		n = cls[k]->n < n ? cls[k]->n : n;
	}
	for (i = 0; i < n; i++) {
		double sum = 0;

		for (k = 0; k < SMAPS_NCLASS; k++)
			sum += cls[k]->b[i].v;
		top = fmax(top, sum);
	}
	if (n < 2 || !(top > 0))
		return;
	/* each band: its upper edge left to right, its lower one back */
	for (k = SMAPS_NCLASS - 1; k >= 0; k--) {
		fprintf(fp, "<polygon fill=\"%s\" stroke=\"none\" points=\"",
		        fill[k]);
		for (j = 0; j < 2; j++)
			for (size_t m = 0; m < n; m++) {
				size_t at = j == 0 ? m : n - 1 - m;
				int upto = j == 0 ? k : k - 1, q;

				base[j] = 0;
				for (q = 0; q <= upto; q++)
					base[j] += cls[q]->b[at].v;
				fprintf(
				    fp, "%.1f,%.1f ",
				    sx(f, cls[k]->t0 + cls[k]->b[at].t - t0),
				    y0 + h - base[j] / top * (h - 10));
			}
		fputs("\"/>\n", fp);
		fprintf(fp,
		        "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" "
		        "height=\"10\" fill=\"%s\"/><text x=\"%.0f\" "
		        "y=\"%.0f\">[%s]</text>\n",
		        SVG_L + 10 + 90.0 * k, y0 + h + 14, fill[k],
		        SVG_L + 24 + 90.0 * k, y0 + h + 23,
		        smaps_class_name(k));
	}
	fprintf(fp, "<text x=\"4\" y=\"%.0f\">%s</text>\n", y0 + 14,
	        human_value(a, sizeof(a), "x_kb", top));
}

void
leak_svg_write(FILE *fp, const struct leak_report *v, const struct where_set *w,
               const struct leak_faults *faults)
{
	const struct leak_series *s = &v->stream->series;
	const struct leak_result *r = v->res;
	struct frame f = {r->span_s, INFINITY, -INFINITY};
	char a[HUMAN_MAX], b[HUMAN_MAX], d[HUMAN_MAX];
	size_t i;

	for (i = 0; i < s->n; i++) {
		f.lo = fmin(
		    f.lo, fmin(s->sign * s->b[i].vmin, s->sign * s->b[i].vmax));
		f.hi = fmax(
		    f.hi, fmax(s->sign * s->b[i].vmin, s->sign * s->b[i].vmax));
	}
	fprintf(fp,
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
	        "height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
	        "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
	        SVG_W, SVG_H + (w->ready ? SVG_MAPS_H : 0));
	svg_faults(fp, faults, s->t0, &f);
	svg_series(fp, s, &f);
	svg_overlays(fp, r, &f, s->t0);
	svg_maps(fp, w, &f, s->t0);
	fprintf(fp, "<text x=\"%.0f\" y=\"18\" font-size=\"14\">", SVG_L);
	svg_text(fp, v->field);
	fprintf(fp,
	        ": %s</text>\n"
	        "<text x=\"4\" y=\"%.0f\">%s</text>\n"
	        "<text x=\"4\" y=\"%.0f\">%s</text>\n"
	        "<text x=\"%.0f\" y=\"%.0f\">0</text>\n"
	        "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s</text>\n"
	        "</svg>\n",
	        leak_verdict_name(r->verdict), SVG_T + 10,
	        human_value(a, sizeof(a), v->field, f.hi), SVG_H - SVG_B,
	        human_value(b, sizeof(b), v->field, f.lo), SVG_L, SVG_H - 20,
	        SVG_W - SVG_R, SVG_H - 20,
	        human_duration(d, sizeof(d), f.t_span));
}
