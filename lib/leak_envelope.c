/*
 * The envelopes of a series: a garbage collector's sawtooth and its floor,
 * the upper envelope's steps, and fragmentation read off them.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "leak.h"
#include "leak_impl.h"
#include "trend.h"

static int
cmp_asc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * A garbage collector's sawtooth: measured from the median step (a
 * tooth's steady rise), most of the falling is done by a few large drops
 * (over 6 sd of the step-to-step noise and 3 steps of rising) and they
 * outweigh the large rises twice.  A drop over consecutive steps is one
 * collection.  Its
 * floor is the trough after each collection (the least bucket minimum
 * before the next one, within half a tooth), into ft/fy; returns how
 * many, or 0 for no sawtooth.
 */
size_t
leak_sawtooth_troughs(const struct arrays *a, double *ft, double *fy)
{
	double *d, s, med, neg = 0, big_neg = 0, big_pos = 0;
	size_t i, m, k, drops = 0, *end, half;

	if (a->n < 30 || (d = malloc((a->n - 1) * sizeof(double))) == NULL)
		return 0;
	if ((end = malloc(a->n * sizeof(size_t))) == NULL) {
		free(d);
		return 0;
	}
	m = a->n - 1;
	for (i = 0; i < m; i++)
		d[i] = a->y[i + 1] - a->y[i];
	qsort(d, m, sizeof(d[0]), cmp_asc);
	med = d[m / 2];
	s = trend_mad_sd(d, m);
	/* a drop undoes several steps of rising, and is over the noise */
	s = fmax(6 * s, 3 * fabs(med));
	for (i = 0; i < m; i++) {
		double x = a->y[i + 1] - a->y[i] - med;

		if (x < 0)
			neg -= x;
		if (x < -s) {
			big_neg -= x;
			if (drops > 0 && end[drops - 1] == i) /* goes on */
				end[drops - 1] = i + 1;
			else
				end[drops++] = i + 1;
		} else if (x > s) {
			big_pos += x;
		}
	}
	free(d);
	if (drops < 3 || big_neg < 0.5 * neg || big_neg < 2 * big_pos) {
		free(end);
		return 0;
	}
	half = (end[drops - 1] - end[0]) / (2 * (drops - 1)) + 1;
	for (k = 0; k < drops; k++) {
		size_t stop = k + 1 < drops ? end[k + 1] : a->n, at = end[k];

		if (stop > end[k] + half)
			stop = end[k] + half;
		for (i = end[k]; i < stop; i++)
			if (a->ymin[i] < a->ymin[at])
				at = i;
		ft[k] = a->t[at];
		fy[k] = a->ymin[at];
	}
	free(end);
	return drops;
}

/* The floor under a sawtooth: the least bucket minimum of each window of
 * one and a half teeth (a trough in each, teeth jittered by a third), at
 * its time.  Returns the number of windows. */
size_t
leak_floor_series(const struct arrays *a, double tooth, double *ft, double *fy)
{
	size_t w = (size_t)ceil(1.5 * tooth), i, j, k = 0;

	if (w < 2)
		w = 2;
	for (i = 0; i < a->n; i += w) {
		size_t end = i + w < a->n ? i + w : a->n, at = i;

		if (end - i < w / 2 && k > 0)
			break;
		for (j = i; j < end; j++)
			if (a->ymin[j] < a->ymin[at])
				at = j;
		ft[k] = a->t[at];
		fy[k++] = a->ymin[at];
	}
	return k;
}

/*
 * The least rise of the lower envelope over 4, 8 and `windows` windows,
 * as a share of the trend's rise: a sawtooth needs windows longer than its
 * period to show its flat floor, a leak lifts the floor at any width.
 */
static double
envelope_share(const struct arrays *a, const double *floor_v, double rise,
               size_t windows, struct leak_result *out, double *slope_out)
{
	double et[LEAK_ENVELOPE_MAX], ev[LEAK_ENVELOPE_MAX], best = INFINITY;
	size_t widths[] = {4, 8, windows}, i, m;

	*slope_out = NAN;
	for (i = 0; i < 3; i++) {
		struct trend_mk mk;
		struct trend_ts ts;

		m = trend_envelope(a->t, floor_v, a->n, widths[i], true, et,
		                   ev);
		if (m < 3 || trend_mann_kendall(ev, m, &mk) < 0 ||
		    trend_theil_sen(et, ev, m, mk.var_s, 1.96, &ts) < 0)
			continue;
		if (widths[i] == windows) {
			out->env_n = m;
			memcpy(out->env_t, et, m * sizeof(double));
			memcpy(out->env_v, ev, m * sizeof(double));
		}
		if (ts.slope * (a->t[a->n - 1] - a->t[0]) / rise < best) {
			best = ts.slope * (a->t[a->n - 1] - a->t[0]) / rise;
			*slope_out = ts.slope;
		}
	}
	return best;
}

static int
cmp_desc(const void *a, const void *b)
{
	return cmp_asc(b, a);
}

/*
 * Share of the upper envelope's rises carried by its largest few steps;
 * *monotone tells whether the envelope never fell by more than 2% of its
 * rise (a staircase does not, a random walk does).
 */
static double
step_share(const struct arrays *a, size_t windows, bool *monotone)
{
	double et[LEAK_ENVELOPE_MAX], ev[LEAK_ENVELOPE_MAX];
	double d[LEAK_ENVELOPE_MAX], total = 0, top = 0;
	size_t m, i, k = 0, keep;

	*monotone = false;
	m = trend_envelope(a->t, a->ymax, a->n, windows, false, et, ev);
	if (m < 4 || ev[m - 1] <= ev[0])
		return 0;
	*monotone = true;
	for (i = 1; i < m; i++) {
		if (ev[i] > ev[i - 1]) {
			d[k] = ev[i] - ev[i - 1];
			total += d[k++];
		}
		if (ev[i] < ev[i - 1] - 0.02 * (ev[m - 1] - ev[0]))
			*monotone = false;
	}
	qsort(d, k, sizeof(d[0]), cmp_desc);
	keep = (m + 4) / 5; /* a fifth of the windows, at least one */
	for (i = 0; i < k && i < keep; i++)
		top += d[i];
	return total > 0 ? top / total : 0;
}

/* Peaks that climb in steps over a flat floor (anon_kb's when it rides
 * along): the evidence of fragmentation. */
bool
leak_fragmentation(const struct arrays *a, const struct leak_rules *r,
                   struct leak_result *out)
{
	size_t windows =
	    r->windows > LEAK_ENVELOPE_MAX ? LEAK_ENVELOPE_MAX : r->windows;
	double rise = out->ts.slope * (a->t[a->n - 1] - a->t[0]);
	bool aux = false;
	size_t i;

	out->step_share = step_share(a, windows, &out->steps_monotone);
	for (i = 0; i < a->n && !aux; i++)
		aux = !isnan(a->aux[i]);
	for (i = 0; aux && i < a->n; i++)
		if (isnan(a->aux[i]))
			a->aux[i] = i > 0 ? a->aux[i - 1] : a->ymin[i];
	out->envelope_from_aux = aux;
	out->envelope_share = NAN;
	out->envelope_slope = NAN;
	if (rise > 0)
		out->envelope_share =
		    envelope_share(a, aux ? a->aux : a->ymin, rise, windows,
		                   out, &out->envelope_slope);
	else
		out->env_n = trend_envelope(a->t, a->ymin, a->n, windows, true,
		                            out->env_t, out->env_v);
	return rise > 0 && !(out->envelope_share >= r->envelope_share) &&
	       out->steps_monotone && out->step_share >= r->step_share;
}
