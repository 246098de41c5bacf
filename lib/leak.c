#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "leak.h"

/* ---- the bounded series ---------------------------------------------- */

int
leak_series_init(struct leak_series *s, double sign)
{
	memset(s, 0, sizeof(*s));
	s->b = malloc(LEAK_MAX_BUCKETS * sizeof(*s->b));
	if (s->b == NULL)
		return -1;
	s->sign = sign;
	leak_series_reset(s);
	return 0;
}

void
leak_series_reset(struct leak_series *s)
{
	s->n = 0;
	s->per_bucket = 1;
	s->samples = 0;
	memset(&s->pending, 0, sizeof(s->pending));
}

void
leak_series_free(struct leak_series *s)
{
	free(s->b);
	s->b = NULL;
}

static void
merge_into(struct leak_bucket *a, const struct leak_bucket *b)
{
	double n = a->n + b->n;

	a->t = (a->t * a->n + b->t * b->n) / n;
	a->v = (a->v * a->n + b->v * b->n) / n;
	a->vmin = fmin(a->vmin, b->vmin);
	a->vmax = fmax(a->vmax, b->vmax);
	a->aux_min = fmin(a->aux_min, b->aux_min); /* fmin skips NAN */
	a->n = n;
}

static void
push(struct leak_series *s, struct leak_bucket *bk)
{
	size_t i;

	bk->t /= bk->n; /* pending holds sums */
	bk->v /= bk->n;
	if (s->n == LEAK_MAX_BUCKETS) {
		for (i = 0; i < LEAK_MAX_BUCKETS / 2; i++) {
			s->b[i] = s->b[2 * i];
			merge_into(&s->b[i], &s->b[2 * i + 1]);
		}
		s->n = LEAK_MAX_BUCKETS / 2;
		s->per_bucket *= 2;
	}
	s->b[s->n++] = *bk;
	memset(bk, 0, sizeof(*bk));
}

void
leak_series_add(struct leak_series *s, double ts, double v, double aux)
{
	struct leak_bucket *p = &s->pending;
	double y = s->sign * v, ya = s->sign * aux;

	if (s->samples == 0)
		s->t0 = ts;
	s->samples++;
	s->last_ts = ts;
	s->last_value = y;
	if (p->n == 0) {
		p->vmin = p->vmax = y;
		p->aux_min = ya;
	} else {
		p->vmin = fmin(p->vmin, y);
		p->vmax = fmax(p->vmax, y);
		p->aux_min = fmin(p->aux_min, ya);
	}
	p->t += ts - s->t0;
	p->v += y;
	p->n++;
	if (p->n >= (double)s->per_bucket)
		push(s, p);
}

void
leak_series_flush(struct leak_series *s)
{
	if (s->pending.n > 0)
		push(s, &s->pending);
}

/* ---- verdicts -------------------------------------------------------- */

const char *
leak_verdict_name(enum leak_verdict v)
{
	static const char *const names[] = {
	    "insufficient_data", "steady", "settling",
	    "recovery",          "leak",   "fragmentation_suspect",
	    "oom_imminent"};

	return names[v];
}

int
leak_verdict_exit(enum leak_verdict v)
{
	switch (v) {
	case LEAK_INSUFFICIENT:
		return 3;
	case LEAK_LEAK:
	case LEAK_FRAGMENTATION:
		return 4;
	case LEAK_OOM:
		return 5;
	default:
		return 0;
	}
}

void
leak_rules_default(struct leak_rules *r)
{
	r->min_samples = 10;
	r->alpha = 0.01;
	r->min_rate = 1.0;
	r->settle_ratio = 0.25;
	r->envelope_share = 0.5;
	r->step_share = 0.8;
	r->windows = 16;
	r->limit = NAN;
	r->horizon_s = 86400;
}

bool
leak_field_falls(const char *f)
{
	return strncmp(f, "free", 4) == 0 || strncmp(f, "avail", 5) == 0 ||
	       strcmp(f, "mem_available") == 0 || strstr(f, "_free") != NULL ||
	       strstr(f, "_available") != NULL;
}

/* The series as arrays; one allocation, freed by the caller. */
struct arrays {
	double *t, *y, *ymin, *ymax, *aux;
	size_t n;
};

static int
arrays_from(const struct leak_series *s, struct arrays *a)
{
	size_t i, n = s->n;

	a->n = n;
	a->t = malloc(5 * (n ? n : 1) * sizeof(double));
	if (a->t == NULL)
		return -1;
	a->y = a->t + n;
	a->ymin = a->y + n;
	a->ymax = a->ymin + n;
	a->aux = a->ymax + n;
	for (i = 0; i < n; i++) {
		a->t[i] = s->b[i].t;
		a->y[i] = s->b[i].v;
		a->ymin[i] = s->b[i].vmin;
		a->ymax[i] = s->b[i].vmax;
		a->aux[i] = s->b[i].aux_min;
	}
	return 0;
}

/* Theil-Sen slope of a part, with its autocorrelation-corrected MK p. */
static int
robust_slope(const double *t, const double *y, size_t n, double alpha,
             struct trend_ts *ts, struct trend_mk *mk)
{
	double z = trend_norm_isf(alpha / 2), factor;

	if (n < 4) {
		errno = EINVAL;
		return -1;
	}
	if (trend_mann_kendall(y, n, mk) < 0 ||
	    trend_theil_sen(t, y, n, mk->var_s, z, ts) < 0)
		return -1;
	factor = fmax(trend_hamed_rao(t, y, n, ts->slope, 1.96),
	              trend_ar1_factor(t, y, n, ts->slope));
	trend_mk_correct(mk, factor);
	return trend_theil_sen(t, y, n, mk->var_s * factor, z, ts);
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

	if (windows > LEAK_ENVELOPE_MAX)
		windows = widths[2] = LEAK_ENVELOPE_MAX;
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
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y) - (x > y);
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

	if (windows > LEAK_ENVELOPE_MAX)
		windows = LEAK_ENVELOPE_MAX;
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

/* Seconds of fault time from t0 (Unix) to t0 + rel. */
static double
fault_time(const struct leak_faults *f, double t0, double rel)
{
	double end = t0 + rel, sum = 0;
	size_t i;

	for (i = 0; i < f->n && f->start[i] < end; i++) {
		double a = fmax(f->start[i], t0), b = fmin(f->end[i], end);

		if (b > a)
			sum += b - a;
	}
	return sum;
}

/* OLS of y on (fault time, clear time): the growth rate in each. */
static void
fault_slopes(const struct arrays *a, double t0, const struct leak_faults *f,
             struct leak_result *out)
{
	double m[3][4] = {{0}}, x[3];
	size_t i, j, k;

	out->fault_in_slope = out->fault_out_slope = NAN;
	out->fault_s = fault_time(f, t0, a->t[a->n - 1]);
	for (i = 0; i < f->n; i++)
		if (f->end[i] > t0 && f->start[i] < t0 + a->t[a->n - 1])
			out->fault_periods++;
	for (i = 0; i < a->n; i++) {
		double in = fault_time(f, t0, a->t[i]);
		double row[4] = {1, in, a->t[i] - in, a->y[i]};

		for (j = 0; j < 3; j++)
			for (k = 0; k < 4; k++)
				m[j][k] += row[j] * row[k];
	}
	/* Gauss-Jordan on the 3x3 normal equations. */
	for (j = 0; j < 3; j++) {
		double piv = m[j][j];

		if (fabs(piv) < 1e-12)
			return;
		for (k = 0; k < 4; k++)
			m[j][k] /= piv;
		for (i = 0; i < 3; i++) {
			double f2 = m[i][j];

			if (i == j)
				continue;
			for (k = 0; k < 4; k++)
				m[i][k] -= f2 * m[j][k];
		}
	}
	for (j = 0; j < 3; j++)
		x[j] = m[j][3];
	if (out->fault_s > 0)
		out->fault_in_slope = x[1];
	if (a->t[a->n - 1] - out->fault_s > 0)
		out->fault_out_slope = x[2];
}

/* Head and tail thirds (by time): is the growth levelling off? */
static void
thirds(const struct arrays *a, double alpha, struct leak_result *out)
{
	double span = a->t[a->n - 1] - a->t[0];
	size_t head = 0, tail = a->n;
	struct trend_ts ts;
	struct trend_mk mk;

	while (head < a->n && a->t[head] - a->t[0] < span / 3)
		head++;
	while (tail > 0 && a->t[tail - 1] - a->t[0] >= 2 * span / 3)
		tail--;
	out->head_slope = out->tail_slope = NAN;
	out->tail_p = 1;
	if (robust_slope(a->t, a->y, head, alpha, &ts, &mk) == 0)
		out->head_slope = ts.slope;
	if (robust_slope(a->t + tail, a->y + tail, a->n - tail, alpha, &ts,
	                 &mk) == 0) {
		out->tail_slope = ts.slope;
		out->tail_p = mk.s > 0 ? mk.p : 1; /* only upward counts */
	}
}

static void
change_point(const struct arrays *a, double alpha, struct leak_result *out)
{
	size_t min_seg = a->n / 10 > 4 ? a->n / 10 : 4;
	struct trend_ts ts;
	struct trend_mk mk;

	if (trend_changepoint(a->t, a->y, a->n, min_seg, &out->cp) < 0)
		return;
	/* "growth started at T": flat before, significant growth after */
	out->growth_started =
	    out->cp.gain >= 0.3 && out->cp.slope_after > 0 &&
	    out->cp.slope_before <= 0.2 * out->cp.slope_after &&
	    robust_slope(a->t + out->cp.index, a->y + out->cp.index,
	                 a->n - out->cp.index, alpha, &ts, &mk) == 0 &&
	    mk.p < alpha && ts.lo > 0;
}

/* The decision, from the statistics already in o (sign-adjusted). */
static void
decide(struct leak_result *o, const struct leak_rules *r, double limit_y)
{
	bool up = o->mk.p < r->alpha && o->ts.slope > 0 && o->ts.lo > 0 &&
	          o->rate_pct_day >= r->min_rate;
	bool down = o->mk.p < r->alpha && o->ts.slope < 0 && o->ts.hi < 0 &&
	            -o->rate_pct_day >= r->min_rate;
	bool flat_floor = !(o->envelope_share >= r->envelope_share);
	/* A smooth plateau still creeps up significantly: judge the
	 * deceleration by the slopes, not by the tail's p-value. */
	bool plateau = o->head_slope > 0 &&
	               o->tail_slope <= r->settle_ratio * o->head_slope;

	o->verdict = LEAK_STEADY;
	o->why = "no significant trend";
	if (!isnan(limit_y) && o->last >= limit_y) {
		o->verdict = LEAK_OOM;
		o->why = "the limit is already reached";
		return;
	}
	if (down) {
		o->verdict = LEAK_RECOVERY;
		o->why = "memory is going down significantly";
		return;
	}
	/* A staircase is too autocorrelated for the trend test; its own
	 * evidence is a stepped upper envelope that never falls. */
	if (flat_floor && !up && o->steps_monotone &&
	    o->step_share >= r->step_share && o->rate_pct_day >= r->min_rate) {
		o->verdict = LEAK_FRAGMENTATION;
		o->why = "peaks climb in steps while the floor stays flat";
		goto limit;
	}
	if (!up) {
		if (o->mk.p < r->alpha && o->rate_pct_day > 0)
			o->why = "growth is significant but below --min-rate";
		return;
	}
	if (flat_floor && o->step_share >= r->step_share) {
		o->verdict = LEAK_FRAGMENTATION;
		o->why = "peaks climb in steps while the floor stays flat";
	} else if (flat_floor) {
		o->why = "only the peaks rise; the floor stays flat";
		return;
	} else if (plateau) {
		o->verdict = LEAK_SETTLING;
		o->why = "growth levels off to a plateau";
		return;
	} else {
		o->verdict = LEAK_LEAK;
		o->why = "the trend and its floor rise steadily";
	}
limit:
	if (!isnan(limit_y) && o->ts.slope > 0 &&
	    (limit_y - o->fit_last) / o->ts.slope <= r->horizon_s) {
		o->verdict = LEAK_OOM;
		o->why = "the trend reaches the limit within the horizon";
	}
}

/* Turn sign-adjusted numbers back into the field's own units. */
static void
unsign(struct leak_result *o, double sign)
{
	double lo = o->ts.lo, hi = o->ts.hi;
	size_t i;

	o->level *= sign;
	o->last *= sign;
	o->fit_last *= sign;
	o->ts.slope *= sign;
	o->ts.intercept *= sign;
	o->ts.lo = sign > 0 ? lo : -hi;
	o->ts.hi = sign > 0 ? hi : -lo;
	o->ols.slope *= sign;
	o->ols.intercept *= sign;
	o->mk.s *= sign;
	o->mk.z *= sign;
	o->envelope_slope *= sign;
	o->head_slope *= sign;
	o->tail_slope *= sign;
	o->cp.slope_before *= sign;
	o->cp.slope_after *= sign;
	o->fault_in_slope *= sign;
	o->fault_out_slope *= sign;
	for (i = 0; i < o->env_n; i++)
		o->env_v[i] *= sign;
}

static void
statistics(const struct arrays *a, const struct leak_series *s,
           const struct leak_rules *r, struct leak_result *out)
{
	double *scratch = a->ymax; /* reused only after its last use */
	double level, rise;
	bool aux = false;
	size_t i;

	out->step_share = step_share(a, r->windows, &out->steps_monotone);
	memcpy(scratch, a->y, a->n * sizeof(double));
	level = trend_median(scratch, a->n);
	out->level = level;
	out->last = s->last_value;
	(void)robust_slope(a->t, a->y, a->n, r->alpha, &out->ts, &out->mk);
	(void)trend_ols(a->t, a->y, a->n, &out->ols);
	out->fit_last = out->ts.intercept + out->ts.slope * a->t[a->n - 1];
	out->rate_pct_day =
	    out->ts.slope * 86400 / fmax(fabs(level), 1e-9) * 100;
	rise = out->ts.slope * out->span_s;
	/* The floor of the anonymous set when it rides along. */
	for (i = 0; i < a->n && !aux; i++)
		aux = !isnan(a->aux[i]);
	for (i = 0; aux && i < a->n; i++)
		if (isnan(a->aux[i]))
			a->aux[i] = i > 0 ? a->aux[i - 1] : a->ymin[i];
	out->envelope_from_aux = aux;
	out->envelope_share =
	    rise > 0 ? envelope_share(a, aux ? a->aux : a->ymin, rise,
	                              r->windows, out, &out->envelope_slope)
	             : NAN;
	if (rise <= 0) {
		out->env_n = trend_envelope(a->t, a->ymin, a->n,
		                            r->windows > LEAK_ENVELOPE_MAX
		                                ? LEAK_ENVELOPE_MAX
		                                : r->windows,
		                            true, out->env_t, out->env_v);
		out->envelope_slope = NAN;
	}
	thirds(a, r->alpha, out);
	change_point(a, r->alpha, out);
}

int
leak_classify(const struct leak_series *s, const struct leak_rules *r,
              const struct leak_faults *faults, struct leak_result *out)
{
	double limit_y = s->sign * r->limit;
	struct arrays a;

	memset(out, 0, sizeof(*out));
	out->samples = s->samples;
	out->points = s->n;
	out->time_to_limit_s = NAN;
	out->fault_in_slope = out->fault_out_slope = NAN;
	out->verdict = LEAK_INSUFFICIENT;
	out->why = "too few samples";
	if (s->samples == 0)
		return 0;
	out->first_ts = s->t0;
	out->last_ts = s->last_ts;
	out->span_s = s->last_ts - s->t0;
	out->last = s->last_value * s->sign;
	if (s->samples < r->min_samples || s->n < 6 || out->span_s <= 0)
		return 0;
	if (arrays_from(s, &a) < 0)
		return -1;
	statistics(&a, s, r, out);
	if (faults != NULL && faults->n > 0) {
		out->have_faults = true;
		fault_slopes(&a, s->t0, faults, out);
	}
	decide(out, r, limit_y);
	if (!isnan(limit_y) && out->ts.slope > 0)
		out->time_to_limit_s =
		    fmax(0, (limit_y - out->fit_last) / out->ts.slope);
	free(a.t);
	unsign(out, s->sign);
	return 0;
}
