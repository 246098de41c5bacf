/*
 * The regimes of a series: the penalised partition into straight lines
 * under the noise model, the steps between them and what each line is.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "leak.h"
#include "leak_impl.h"
#include "trend.h"

/* A line through [a, b) in two passes (the exact fit). */
void
leak_line_fit(const double *t, const double *y, size_t a, size_t b,
              struct trend_line *l)
{
	double tm = 0, ym = 0, stt = 0, sty = 0, rss = 0;
	size_t i, m = b - a;

	for (i = a; i < b; i++) {
		tm += t[i];
		ym += y[i];
	}
	tm /= (double)m;
	ym /= (double)m;
	for (i = a; i < b; i++) {
		stt += (t[i] - tm) * (t[i] - tm);
		sty += (t[i] - tm) * (y[i] - ym);
	}
	l->slope = stt > 0 ? sty / stt : 0;
	l->mean = ym;
	l->tmean = tm;
	l->stt = stt;
	l->w = (double)m;
	for (i = a; i < b; i++) {
		double e = y[i] - ym - l->slope * (t[i] - tm);

		rss += e * e;
	}
	l->rss = rss;
}

static size_t
seg_end(const struct regimes *g, size_t i)
{
	return i + 1 < g->n ? g->start[i + 1] : g->total;
}

/* The squared error about the mean of what l fits (a level, no slope). */
static double
level_rss(const struct trend_line *l)
{
	return l->rss + l->slope * l->slope * l->stt;
}

/*
 * A series too short to split into lines is one line, and a line through
 * a single step reads the step as steady growth.  Where two levels, one on
 * each side of a step, fit better than the line by more than the penalty
 * of a second line, that step is the split: its index, or 0.
 */
static size_t
one_step(const struct trend_prefix *p, double penalty)
{
	struct trend_line all, before, after;
	size_t k, best = 0;
	double best_rss;

	trend_prefix_line(p, 0, p->n, &all);
	best_rss = all.rss - penalty;
	for (k = 3; k + 3 <= p->n; k++) {
		double rss;

		trend_prefix_line(p, 0, k, &before);
		trend_prefix_line(p, k, p->n, &after);
		rss = level_rss(&before) + level_rss(&after);
		if (rss < best_rss) {
			best_rss = rss;
			best = k;
		}
	}
	return best;
}

/* The partition into lines under a noise model: squared error plus
 * penalty x long-run variance x log n per line, each line at least two
 * correlation times and a 40th of the series long (long enough for the
 * residuals to show the noise's correlation; growth over the last 5% is
 * still a line of its own). */
static void
partition(const struct trend_prefix *p, const struct trend_noise *nz,
          double penalty, struct regimes *g)
{
	size_t n = p->n, min_len = (size_t)ceil(2 / (1 - nz->phi)), step;
	double per_line = penalty * nz->lrvar * log((double)n);

	if (min_len < (n + 39) / 40)
		min_len = (n + 39) / 40;
	g->total = n;
	/* a change needs a line and its noise on either side: 10 points
	 * each, as growth over fewer is too recent to tell; but a step is
	 * no line */
	if (n < 2 * LEAK_RECENT_POINTS) {
		if ((step = one_step(p, per_line)) > 0) {
			g->n = 2;
			g->start[0] = 0;
			g->start[1] = step;
			return;
		}
		min_len = n;
	}
	g->n = trend_segments(p, per_line, min_len < 3 ? 3 : min_len, g->start,
	                      MAX_SEGMENTS);
}

/* Residuals of y about the lines of g into res; their pooled lag-one
 * correlation. */
static double
residuals(const double *t, const double *y, struct regimes *g, double *res)
{
	double num = 0, den = 0;
	size_t i, j;

	for (i = 0; i < g->n; i++) {
		size_t a = g->start[i], b = seg_end(g, i);
		const struct trend_line *l = &g->line[i];

		leak_line_fit(t, y, a, b, &g->line[i]);
		for (j = a; j < b; j++) {
			res[j] = y[j] - l->mean - l->slope * (t[j] - l->tmean);
			den += res[j] * res[j];
			if (j > a)
				num += res[j] * res[j - 1];
		}
	}
	return den > 0 ? fmin(fmax(num / den, 0), 0.999) : 0;
}

/*
 * Regimes and the noise: the partition under the low start estimate of
 * the noise (white, from second differences), then while the noise of the
 * residuals within each regime at every lag is larger (slow wander the
 * lines took for regimes shows there), the partition under it that only
 * merges regimes.  Merging ends; at worst a curve's lines merge, and the
 * tests grow more cautious.  The tests use that noise,
 * or the dependence left in the final residuals where it is larger.
 */
int
leak_fit_regimes(const double *t, const double *y, size_t n,
                 const struct leak_rules *r, struct regimes *g)
{
	struct trend_noise nz, next;
	struct trend_prefix p;
	size_t fine[MAX_SEGMENTS], nfine, i, round;
	double level = 0, floor_var, phi_res, *res;

	for (i = 0; i < n; i++)
		level += fabs(y[i]) / (double)n;
	floor_var = 1e-14 * (level * level + 1);
	if (trend_noise(y, n, &nz) < 0)
		return -1;
	nz.var = fmax(nz.var, floor_var);
	nz.lrvar = fmax(nz.lrvar, nz.var);
	res = malloc(n * sizeof(double));
	if (res == NULL || trend_prefix_init(&p, t, y, NULL, n) < 0) {
		free(res);
		return -1;
	}
	partition(&p, &nz, r->penalty, g);
	for (round = 0; round < 8; round++) {
		(void)residuals(t, y, g, res);
		if (trend_noise_parts(res, n, g->start, g->n, &next) < 0 ||
		    next.lrvar <= 1.05 * nz.lrvar)
			break;
		nz = next;
		nz.var = fmax(nz.var, floor_var);
		nz.lrvar = fmax(nz.lrvar, nz.var);
		nfine = g->n;
		memcpy(fine, g->start, nfine * sizeof(size_t));
		g->n = trend_segments_at(&p,
		                         r->penalty * nz.lrvar * log((double)n),
		                         fine, nfine, g->start);
	}
	phi_res = residuals(t, y, g, res);
	trend_prefix_free(&p);
	free(res);
	g->var = nz.var;
	g->factor = fmax(nz.factor, (1 + phi_res) / (1 - phi_res));
	for (i = 0; i < g->n; i++) {
		double m = g->line[i].w;

		g->s2[i] =
		    m > 2 ? fmax(nz.var, g->line[i].rss / (m - 2)) : nz.var;
		g->se[i] = g->line[i].stt > 0
		               ? sqrt(g->s2[i] * g->factor / g->line[i].stt)
		               : INFINITY;
	}
	return 0;
}

/* The 3x3 inverse of m (Gauss-Jordan); false when singular. */
static bool
invert3(double m[3][3], double inv[3][3])
{
	double a[3][6];
	size_t i, j, k;

	for (i = 0; i < 3; i++)
		for (j = 0; j < 6; j++)
			a[i][j] = j < 3 ? m[i][j] : (j - 3 == i);
	for (j = 0; j < 3; j++) {
		double piv = a[j][j];

		if (!(fabs(piv) > 1e-300))
			return false;
		for (k = 0; k < 6; k++)
			a[j][k] /= piv;
		for (i = 0; i < 3; i++) {
			double f = a[i][j];

			if (i == j)
				continue;
			for (k = 0; k < 6; k++)
				a[i][k] -= f * a[j][k];
		}
	}
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++)
			inv[i][j] = a[i][j + 3];
	return true;
}

/*
 * Is the step between lines [a, b) and [b, c) real?  Two lines joined at
 * the boundary (three parameters) against two free ones (four): a step is
 * what the join cannot fit, more than zc^2 of the noise (an F test with
 * one degree of freedom).  Lines through a curve leave small steps at
 * every boundary that this sees through.
 */
static bool
step_is_real(const double *t, const double *y, size_t a, size_t b, size_t c,
             double rss_free, double noise, double zc)
{
	double m[3][3] = {{0}}, v[3] = {0}, inv[3][3], beta[3], rss = 0;
	double hinge = (t[b - 1] + t[b]) / 2;
	size_t i, j, k;

	for (i = a; i < c; i++) {
		double x[3] = {1, i < b ? t[i] - hinge : 0,
		               i < b ? 0 : t[i] - hinge};

		for (j = 0; j < 3; j++) {
			v[j] += x[j] * y[i];
			for (k = 0; k < 3; k++)
				m[j][k] += x[j] * x[k];
		}
	}
	if (!invert3(m, inv))
		return true;
	for (j = 0; j < 3; j++)
		beta[j] =
		    inv[j][0] * v[0] + inv[j][1] * v[1] + inv[j][2] * v[2];
	for (i = a; i < c; i++) {
		double e = y[i] - beta[0] -
		           (i < b ? beta[1] : beta[2]) * (t[i] - hinge);

		rss += e * e;
	}
	return rss - rss_free > zc * zc * noise;
}

/* One regime for the result, in Unix time and sign-adjusted units. */
void
leak_describe_regime(const struct regimes *g, size_t i, const double *t,
                     const double *y, double t0, double zc,
                     struct leak_regime *o)
{
	const struct trend_line *l = &g->line[i];
	size_t a = g->start[i], b = seg_end(g, i);
	double z = g->se[i] > 0 ? l->slope / g->se[i] : 0, s2_here = g->s2[i];

	memset(o, 0, sizeof(*o));
	o->start_ts = t0 + t[a];
	o->end_ts = t0 + t[b - 1];
	o->slope = l->slope;
	o->points = b - a;
	o->level_start = l->mean + l->slope * (t[a] - l->tmean);
	o->level_end = l->mean + l->slope * (t[b - 1] - l->tmean);
	o->kind = z > zc ? LEAK_RISE : z < -zc ? LEAK_FALL : LEAK_FLAT;
	o->p = trend_norm_sf(fabs(z));
	if (i > 0) {
		const struct trend_line *k = &g->line[i - 1];
		size_t ka = g->start[i - 1];
		double prev = k->mean + k->slope * (t[a - 1] - k->tmean);
		double s2 = fmax(g->s2[i - 1], s2_here);

		o->jump = o->level_start - prev;
		o->jump_significant = step_is_real(
		    t, y, ka, a, b, k->rss + l->rss, s2 * g->factor, zc);
	}
}

/*
 * A step is material when it is more than half of what the lines on
 * either side rise over their own length: a level shift between flat
 * stretches is, the offset lines through a curve leave at their joins
 * is not.
 */
void
leak_material_steps(struct leak_regime *rg, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++) {
		double before = fabs(rg[i - 1].slope) *
		                (rg[i - 1].end_ts - rg[i - 1].start_ts);
		double after =
		    fabs(rg[i].slope) * (rg[i].end_ts - rg[i].start_ts);

		if (fabs(rg[i].jump) <= 0.5 * fmax(before, after))
			rg[i].jump_significant = false;
	}
}
