#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "leak.h"

/* ---- the bounded series ---------------------------------------------- */

int
leak_series_init_cap(struct leak_series *s, double sign, size_t cap)
{
	memset(s, 0, sizeof(*s));
	cap = cap < 2 ? 2 : cap & ~(size_t)1; /* halves evenly */
	s->b = malloc(cap * sizeof(*s->b));
	if (s->b == NULL)
		return -1;
	s->cap = cap;
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
	s->first_age = NAN;
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

/*
 * --last: the buckets older than the window dropped once at least
 * min_drop of them are (a few at a time would move the array for each),
 * times counted from the first kept one's.
 */
static void
drop_before_window(struct leak_series *s, size_t min_drop)
{
	double cut, shift;
	size_t k = 0, i;

	if (!(s->window_s > 0) || s->n == 0)
		return;
	cut = s->last_ts - s->window_s - s->t0;
	while (k < s->n && s->b[k].t < cut)
		k++;
	if (k == 0 || k < min_drop)
		return;
	for (i = 0; i < k; i++)
		s->samples -= (uint64_t)s->b[i].n;
	memmove(s->b, s->b + k, (s->n - k) * sizeof(*s->b));
	s->n -= k;
	shift = s->n > 0           ? s->b[0].t
	        : s->pending.n > 0 ? s->pending.t / s->pending.n
	                           : 0;
	for (i = 0; i < s->n; i++)
		s->b[i].t -= shift;
	s->pending.t -= s->pending.n * shift; /* it holds sums */
	s->t0 += shift;
	s->first_age += shift; /* NAN stays NAN */
}

static void
push(struct leak_series *s, struct leak_bucket *bk)
{
	size_t i;

	bk->t /= bk->n; /* pending holds sums */
	bk->v /= bk->n;
	drop_before_window(s, s->n == s->cap ? 1 : s->cap / 8);
	if (s->n == s->cap) {
		for (i = 0; i < s->cap / 2; i++) {
			s->b[i] = s->b[2 * i];
			merge_into(&s->b[i], &s->b[2 * i + 1]);
		}
		s->n = s->cap / 2;
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

	if (s->samples == 0) {
		s->t0 = ts;
		s->first_age = NAN;
	}
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
	drop_before_window(s, 1);
}

/* ---- verdicts -------------------------------------------------------- */

const char *
leak_verdict_name(enum leak_verdict v)
{
	static const char *const names[] = {
	    "insufficient_data", "steady", "settling",
	    "recovery",          "leak",   "fragmentation_suspect",
	    "oom_imminent",      "stale"};

	return v < LEAK_VERDICTS ? names[v] : "unknown";
}

int
leak_verdict_severity(enum leak_verdict v)
{
	switch (v) {
	case LEAK_OOM:
		return 4;
	case LEAK_LEAK:
	case LEAK_FRAGMENTATION:
		return 3;
	case LEAK_STALE:
		return 2;
	case LEAK_INSUFFICIENT:
		return 1;
	default:
		return 0;
	}
}

int
leak_verdict_exit(enum leak_verdict v)
{
	switch (v) {
	case LEAK_INSUFFICIENT:
		return CLI_EXIT_INSUFFICIENT;
	case LEAK_LEAK:
	case LEAK_FRAGMENTATION:
		return CLI_EXIT_LEAK;
	case LEAK_OOM:
		return CLI_EXIT_OOM;
	case LEAK_STALE:
		return CLI_EXIT_STALE;
	default:
		return CLI_EXIT_OK;
	}
}

void
leak_rules_default(struct leak_rules *r)
{
	r->min_samples = 10;
	r->alpha = 0.01;
	r->min_rate = 1.0;
	r->min_rate_abs = NAN;
	r->last_s = 0;
	r->settle_ratio = 0.25;
	r->envelope_share = 0.5;
	r->step_share = 0.8;
	r->windows = 16;
	r->limit = NAN;
	r->horizon_s = 86400;
	r->penalty = 20;
	r->material = 3;
	r->warmup_s = -1;
}

bool
leak_field_falls(const char *path)
{
	/* a dotted path (payload.free_heap) is named by its last key */
	const char *dot = strrchr(path, '.');
	const char *f = dot ? dot + 1 : path;

	return strncmp(f, "free", 4) == 0 || strncmp(f, "avail", 5) == 0 ||
	       strcmp(f, "mem_available") == 0 || strstr(f, "_free") != NULL ||
	       strstr(f, "_available") != NULL;
}

/* ---- classification ---------------------------------------------------- */

#define MAX_SEGMENTS 512 /* lines of the regime fit */

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

/* The arrays from index i0 on (no copy). */
static struct arrays
arrays_tail(const struct arrays *a, size_t i0)
{
	struct arrays b = {a->t + i0,    a->y + i0,   a->ymin + i0,
	                   a->ymax + i0, a->aux + i0, a->n - i0};

	return b;
}

/*
 * Where judging starts.  --warmup counts from the process's start when
 * its age is known, else from the first sample; automatic: a process seen
 * within a minute of its start has its first 10% (at most 10 minutes) of
 * observed life left out, the start-up ramp of a launched command.
 */
static size_t
warmup_index(const struct leak_series *s, const struct arrays *a,
             const struct leak_rules *r, double *warm_s)
{
	double span = a->t[a->n - 1], age = s->first_age, end = 0;
	size_t i;

	*warm_s = 0;
	if (r->warmup_s >= 0)
		end = r->warmup_s - (isnan(age) ? 0 : age);
	else if (!isnan(age) && age >= 0 && age <= 60)
		end = fmin(0.1 * (span + age), 600) - age;
	if (!(end > 0))
		return 0;
	for (i = 0; i < a->n && a->t[i] < end; i++)
		;
	if (a->n - i < 6)
		return 0;
	*warm_s = end;
	return i;
}

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
static size_t
sawtooth_troughs(const struct arrays *a, double *ft, double *fy)
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
static size_t
floor_series(const struct arrays *a, double tooth, double *ft, double *fy)
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

/* The lines of the regimes, with the noise the tests assume. */
/* Growth over fewer points is too recent to tell from the noise. */
#define LEAK_RECENT_POINTS 10

struct regimes {
	size_t start[MAX_SEGMENTS], n;
	struct trend_line line[MAX_SEGMENTS];
	double se[MAX_SEGMENTS]; /* of each slope */
	double s2[MAX_SEGMENTS]; /* noise variance used for it */
	double var, factor;
	size_t total; /* points */
};

/* A line through [a, b) in two passes (the exact fit). */
static void
line_fit(const double *t, const double *y, size_t a, size_t b,
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

/* The partition into lines under a noise model: squared error plus
 * penalty x long-run variance x log n per line, each line at least two
 * correlation times and a 40th of the series long (long enough for the
 * residuals to show the noise's correlation; growth over the last 5% is
 * still a line of its own). */
static void
partition(const struct trend_prefix *p, const struct trend_noise *nz,
          double penalty, struct regimes *g)
{
	size_t n = p->n, min_len = (size_t)ceil(2 / (1 - nz->phi));

	if (min_len < (n + 39) / 40)
		min_len = (n + 39) / 40;
	/* a change needs a line and its noise on either side: 10 points
	 * each, as growth over fewer is too recent to tell */
	if (n < 2 * LEAK_RECENT_POINTS)
		min_len = n;

	g->total = n;
	g->n =
	    trend_segments(p, penalty * nz->lrvar * log((double)n),
	                   min_len < 3 ? 3 : min_len, g->start, MAX_SEGMENTS);
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

		line_fit(t, y, a, b, &g->line[i]);
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
static int
fit_regimes(const double *t, const double *y, size_t n,
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

static bool invert3(double m[3][3], double inv[3][3]);

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
static void
describe_regime(const struct regimes *g, size_t i, const double *t,
                const double *y, double t0, double zc, struct leak_regime *o)
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
static void
material_steps(struct leak_regime *rg, size_t n)
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

/* What the regimes add up to. */
struct story {
	size_t episodes;
	double rise, fall, growing_s, onset_ts, ended_ts;
	double first_onset_ts;          /* of the first episode that counted */
	double third_first, third_last; /* the rise in the first and the
	                                 * last third of the time */
	bool growing_now, falling_now, slowing;
	double now_slope, now_se;
	size_t now_points; /* of the current episode */
	double material;   /* the least rise an episode needs */
	struct leak_burst_story bursts;
	size_t steps; /* of a series that moves in steps, else 0 */
	double steps_net, steps_p;
};

/*
 * Walk the regimes in time: an episode is a run of growth (rising
 * regimes, significant steps up) that a flat or falling stretch ends, and
 * counts when it rose by `material` or more.
 * The current regime decides "growing now"; a flat one right after a
 * rise that cannot be told from half that rise is still the rise.
 */
/*
 * The rising lines of the current episode while it still rises (0 when
 * they cannot be a settling curve): a curve
 * settling is several of them, none much faster than the one before;
 * growth that stopped at a kink (a night's ramp, then the day) has a flat
 * line last, or just two lines with the rate dropping more than 20-fold
 * between them, and growth that comes and goes rises again: no curve.
 */
static size_t
rising_lines(const struct leak_regime *rg, size_t n)
{
	size_t k = 0, i = n;

	while (i > 0 && rg[i - 1].kind == LEAK_RISE) {
		k++;
		i--;
		if (rg[i].jump_significant && rg[i].jump < 0)
			break;
	}
	/* two lines only, the rate dropping 20-fold between them: a kink */
	if (k == 2 && rg[n - 1].slope < 0.05 * rg[n - 2].slope)
		return 0;
	/* a rate that rises again (beyond noise) does not fall steadily */
	for (i = n - k + 1; i < n; i++)
		if (rg[i].slope > 1.5 * rg[i - 1].slope)
			return 0;
	return k;
}

/* A flat regime after a rise (no step between) that cannot be told from
 * half that rise: the rise going on, not a pause. */
static bool
still_rising(const struct leak_regime *rg, const double *se, size_t i,
             double zc)
{
	return i > 0 && rg[i].kind == LEAK_FLAT &&
	       rg[i - 1].kind == LEAK_RISE && !rg[i].jump_significant &&
	       rg[i].slope + zc * se[i] >= 0.5 * rg[i - 1].slope;
}

/*
 * Growth that slows toward zero (a curve settling onto a plateau): over
 * the current episode, split in thirds by time, the last third rises at
 * most settle_ratio of the first.  A leak keeps its rate; a curve
 * settling within the episode has lost nearly all of it.  monotone: the
 * middle third must also lie between (an episode of one line, which a
 * curve becomes when its bend reads as noise).
 */
static bool
slowing(const double *t, const double *y, size_t n, double from,
        double settle_ratio, bool monotone)
{
	struct trend_line head, mid, tail;
	size_t a = 0, b, c;
	double span;

	while (a < n && t[a] < from)
		a++;
	if (n - a < 9)
		return false;
	span = t[n - 1] - t[a];
	for (b = a; b < n && t[b] - t[a] < span / 3; b++)
		;
	for (c = b; c < n && t[c] - t[a] < 2 * span / 3; c++)
		;
	if (b - a < 3 || n - c < 3)
		return false;
	line_fit(t, y, a, b, &head);
	line_fit(t, y, b, c, &mid);
	line_fit(t, y, c, n, &tail);
	if (monotone && !(mid.slope < head.slope && tail.slope < mid.slope))
		return false;
	return head.slope > 0 && tail.slope <= settle_ratio * head.slope;
}

/*
 * A rise that is a pause between episodes: at less than settle_ratio of
 * the rate of the rise before it, and by less than the material amount
 * over its whole length (a day's creep between two nights of growth).
 */
static bool
is_pause_between_episodes(const struct leak_regime *rg, size_t i,
                          double settle_ratio, double material)
{
	const struct leak_regime *x = &rg[i];

	return i > 0 && rg[i - 1].kind == LEAK_RISE &&
	       x->slope < settle_ratio * rg[i - 1].slope &&
	       x->slope * (x->end_ts - x->start_ts) < material;
}

/* The end of an episode: it counts when it rose at least `material`. */
static void
close_episode(struct story *st, double *rise, double *grow_s, double onset,
              double end, double material)
{
	if (*rise >= material) {
		st->episodes++;
		st->rise += *rise;
		st->growing_s += *grow_s;
		if (st->episodes == 1)
			st->first_onset_ts = onset;
		st->onset_ts = onset;
		st->ended_ts = end;
	}
	*rise = *grow_s = 0;
}

static void
tell(const struct leak_regime *rg, size_t n, const double *se, double zc,
     double settle_ratio, double material, struct story *st)
{
	const struct leak_regime *now = &rg[n - 1];
	double ep_rise = 0, ep_s = 0, ep_onset = NAN;
	bool in = false;
	size_t i, ep_points = 0;

	memset(st, 0, sizeof(*st));
	st->onset_ts = st->ended_ts = NAN;
	st->material = material;
	for (i = 0; i < n; i++) {
		const struct leak_regime *x = &rg[i];
		double dur = x->end_ts - x->start_ts;
		bool up = x->jump_significant && x->jump > 0;
		bool rising = (x->kind == LEAK_RISE &&
		               !is_pause_between_episodes(rg, i, settle_ratio,
		                                          material)) ||
		              ((in || up) && still_rising(rg, se, i, zc));

		if (x->jump_significant && x->jump < 0) {
			st->fall -= x->jump;
			if (in)
				close_episode(st, &ep_rise, &ep_s, ep_onset,
				              x->start_ts, material);
			in = false;
		}
		if (up || rising) {
			if (!in) {
				ep_onset = x->start_ts;
				ep_points = 0;
			}
			ep_points += x->points;
			in = true;
			ep_rise += (up ? x->jump : 0) +
			           (rising ? fmax(x->slope, 0) * dur : 0);
			ep_s += rising ? dur : 0;
		}
		if (!rising) {
			if (x->kind == LEAK_FALL)
				st->fall -= x->slope * dur;
			if (in)
				close_episode(st, &ep_rise, &ep_s, ep_onset,
				              x->start_ts, material);
			in = false;
		}
	}
	/* growing now: the current episode, if it has risen enough */
	st->growing_now = in && ep_rise >= material;
	st->now_points = in ? ep_points : 0;
	if (in)
		close_episode(st, &ep_rise, &ep_s, ep_onset, now->end_ts,
		              material);
	st->now_slope = now->slope;
	st->now_se = se[n - 1];
	/* falling now: the current regime falls, by enough */
	st->falling_now =
	    now->kind == LEAK_FALL &&
	    -now->slope * (now->end_ts - now->start_ts) >= material;
	if (st->growing_now && now->kind != LEAK_RISE) {
		st->now_slope = rg[n - 2].slope;
		st->now_se = se[n - 2];
	}
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
static bool
fragmentation(const struct arrays *a, const struct leak_rules *r,
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

/* Whole-series reference statistics, under the same noise model. */
static void
overall(const double *t, const double *y, size_t n, const struct regimes *g,
        double alpha, struct leak_result *out)
{
	double z = trend_norm_isf(alpha / 2);

	if (trend_mann_kendall(y, n, &out->mk) == 0) {
		trend_mk_correct(&out->mk, g->factor);
		(void)trend_theil_sen(t, y, n, out->mk.var_s * g->factor, z,
		                      &out->ts);
	}
	(void)trend_ols(t, y, n, &out->ols);
}

double
leak_rate_pct_day(double slope, double level)
{
	return slope * 86400 / fmax(fabs(level), 1e-9) * 100;
}

/* The slope the verdict rests on, its one-sided interval and p. */
static void
set_slope(struct leak_result *o, double slope, double se, double zc)
{
	o->slope = slope;
	o->slope_lo = slope - zc * se;
	o->slope_hi = slope + zc * se;
	o->slope_p = se > 0 ? trend_norm_sf(slope / se) : slope > 0 ? 0 : 1;
	o->rate_pct_day = leak_rate_pct_day(slope, o->level);
}

static void
verdict(struct leak_result *o, enum leak_verdict v, enum leak_reason why)
{
	o->verdict = v;
	o->why = why;
}

static double
median3(double a, double b, double c)
{
	return fmax(fmin(a, b), fmin(fmax(a, b), c));
}

/*
 * A series that moves in steps, most samples the same as the one before
 * (a heap grown and trimmed by pages): within its flat stretches there
 * is no noise, so every step is material and two steps up are episodes.
 * Its noise is its steps.  A heap that wanders within bounds steps either
 * way; a leak steps up more than a walk of the same steps with a coin's
 * signs would (trend_sign_flip_p()).  The steps are the levels it rests
 * at, each sample the median of it and its neighbours (the ends, of the
 * three there): a burst of one sample is an excursion, not two steps.
 */
static void
step_walk(const double *y, size_t n, struct story *st)
{
	double *d = malloc(n * sizeof(double)), net = 0, prev, at;
	size_t i, k = 0;

	if (d == NULL || n < 3)
		goto done;
	prev = median3(y[0], y[1], y[2]);
	for (i = 1; i < n; i++, prev = at) {
		at = i + 1 < n ? median3(y[i - 1], y[i], y[i + 1])
		               : median3(y[n - 3], y[n - 2], y[n - 1]);
		if (at != prev) {
			d[k] = at - prev;
			net += d[k++];
		}
	}
	if (k == 0 || 2 * k > n - 1)
		goto done;
	st->steps = k;
	st->steps_net = net;
	st->steps_p = trend_sign_flip_p(d, k);
done:
	free(d);
}

/*
 * Episodes in a series of steps that a walk of them reaches as often.
 * Only episodes need it: growing now rests on its line's slope, whose
 * test has the residuals about the line, but episodes have no test beyond
 * rising by the material amount, which a series of steps makes nil.
 */
static bool
steps_wander(struct leak_result *o, const struct story *st, double alpha)
{
	if (st->steps == 0 || st->steps_p < alpha)
		return false;
	verdict(o, LEAK_STEADY, LEAK_WHY_STEPS_WANDER);
	return true;
}

/*
 * Episodes that have stopped: a leak's come at some rate and go on at it,
 * so a flat stretch longer than ln(1/alpha) of their mean spacing would
 * come with probability alpha were they still coming (as a Poisson
 * process's gaps), while a cache or a heap that filled up stays flat.
 */
static bool
stopped(struct leak_result *o, const struct story *st, double alpha)
{
	o->episode_gap_s =
	    (st->onset_ts - st->first_onset_ts) / (double)(st->episodes - 1);
	return o->last_ts - st->ended_ts > o->episode_gap_s * log(1 / alpha);
}

/* The regimes' level at ts (a line's end past it, the first's start
 * before it). */
static double
level_at(const struct leak_regime *rg, size_t n, double ts)
{
	size_t i = 0;

	while (i + 1 < n && rg[i + 1].start_ts <= ts)
		i++;
	if (ts <= rg[i].start_ts)
		return rg[i].level_start;
	if (ts >= rg[i].end_ts)
		return rg[i].level_end;
	return rg[i].level_start + rg[i].slope * (ts - rg[i].start_ts);
}

/* The rise of the first and of the last third of the time judged. */
static void
thirds(const struct leak_regime *rg, size_t n, struct story *st)
{
	double a = rg[0].start_ts, d = rg[n - 1].end_ts, third = (d - a) / 3;

	st->third_first = level_at(rg, n, a + third) - level_at(rg, n, a);
	st->third_last = level_at(rg, n, d) - level_at(rg, n, d - third);
}

/*
 * Episodes that come ever less: the rise of the last third of the time
 * at most settle_ratio of the first's, the test of a slowing curve
 * (slowing()) on growth that comes in steps: a heap or a cache filling
 * up, the steps of a leak keep coming.
 */
static bool
thinning(const struct story *st, double settle_ratio)
{
	return st->third_first > 0 &&
	       st->third_last <= settle_ratio * st->third_first;
}

/* Growth (sign-adjusted, per s) at --min-rate or faster. */
static bool
fast_enough(const struct leak_rules *r, double slope, double level)
{
	return leak_rate_pct_day(slope, level) >= r->min_rate &&
	       !(slope < r->min_rate_abs);
}

/* A leak (or fragmentation) at slope, unless slower than --min-rate:
 * steady then.  Whether it is one. */
static bool
leaks_at(struct leak_result *o, const struct leak_rules *r, double slope,
         double se, enum leak_verdict v, enum leak_reason why)
{
	set_slope(o, slope, se, trend_norm_isf(r->alpha));
	if (o->rate_pct_day < r->min_rate || slope < r->min_rate_abs) {
		verdict(o, LEAK_STEADY, LEAK_WHY_BELOW_RATE);
		return false;
	}
	verdict(o, v, why);
	return true;
}

/* Growing now: whether it leaks. */
static bool
decide_growing(struct leak_result *o, const struct leak_rules *r,
               const struct story *st, bool frag)
{
	if (st->fall >= 0.5 * st->rise)
		verdict(o, LEAK_STEADY, LEAK_WHY_CAME_BACK);
	else if (st->now_points < LEAK_RECENT_POINTS)
		verdict(o, LEAK_STEADY, LEAK_WHY_TOO_RECENT);
	else if (st->slowing)
		verdict(o, LEAK_SETTLING, LEAK_WHY_SLOWING);
	else
		return leaks_at(o, r, st->now_slope, st->now_se,
		                frag ? LEAK_FRAGMENTATION : LEAK_LEAK,
		                frag          ? LEAK_WHY_STEPS
		                : o->sawtooth ? LEAK_WHY_FLOOR
		                              : LEAK_WHY_GROWS);
	return false;
}

/* Not growing now: what the episodes before say; whether it leaks. */
static bool
decide_past(struct leak_result *o, const struct leak_rules *r,
            const struct story *st, bool frag)
{
	if (st->falling_now) {
		verdict(o, LEAK_RECOVERY, LEAK_WHY_FALLING);
	} else if (st->episodes > 0 && st->fall >= 0.5 * st->rise) {
		verdict(o, LEAK_STEADY, LEAK_WHY_CAME_BACK);
	} else if (st->episodes >= 2 && stopped(o, st, r->alpha)) {
		verdict(o, LEAK_SETTLING, LEAK_WHY_EPISODES_STOPPED);
	} else if (st->episodes >= 2 && thinning(st, r->settle_ratio)) {
		o->third_first = st->third_first;
		o->third_last = st->third_last;
		verdict(o, LEAK_SETTLING, LEAK_WHY_EPISODES_THIN);
	} else if (st->episodes >= 2 && !steps_wander(o, st, r->alpha)) {
		return leaks_at(o, r, st->rise / o->span_s, 0,
		                frag ? LEAK_FRAGMENTATION : LEAK_LEAK,
		                frag ? LEAK_WHY_STEPS : LEAK_WHY_EPISODES);
	} else if (st->episodes == 1) {
		verdict(o, LEAK_SETTLING, LEAK_WHY_SETTLED);
	} else if (o->slope_p < r->alpha && o->slope > 0) {
		verdict(o, LEAK_STEADY, LEAK_WHY_WITHIN_NOISE);
	}
	return false;
}

/* The decision, in the order leak-classify(1) gives (sign-adjusted). */
static void
decide(struct leak_result *o, const struct leak_rules *r,
       const struct story *st, bool frag, double limit_y)
{
	double zc = trend_norm_isf(r->alpha);
	bool leaks;

	verdict(o, LEAK_STEADY, LEAK_WHY_STEADY);
	set_slope(o, st->now_slope, st->now_se, zc);
	if (!isnan(limit_y) && o->last >= limit_y) {
		verdict(o, LEAK_OOM, LEAK_WHY_LIMIT_NOW);
		return;
	}
	if (o->have_faults && o->fault_in_p < r->alpha &&
	    fast_enough(r, o->fault_in_slope, o->level) &&
	    !(o->fault_out_p < r->alpha &&
	      fast_enough(r, o->fault_out_slope, o->level))) {
		verdict(o, LEAK_LEAK, LEAK_WHY_FAULTS);
		set_slope(o, o->fault_in_slope, 0, zc);
		leaks = true;
	} else if (st->bursts.keeps &&
	           !leak_bursts_stopped(&st->bursts, r->alpha)) {
		leaks = leaks_at(
		    o, r,
		    st->bursts.kept /
		        fmax(st->bursts.last_ts - st->bursts.first_ts, 1),
		    0, LEAK_LEAK, LEAK_WHY_BURSTS);
	} else if (st->growing_now) {
		leaks = decide_growing(o, r, st, frag);
	} else {
		leaks = decide_past(o, r, st, frag);
	}
	if (leaks && !isnan(limit_y) && o->slope > 0) {
		o->time_to_limit_s =
		    fmax(0, (limit_y - o->fit_last) / o->slope);
		if (o->time_to_limit_s <= r->horizon_s)
			verdict(o, LEAK_OOM, LEAK_WHY_LIMIT_SOON);
	}
}

static void
swap_d(double *a, double *b)
{
	double t = *a;

	*a = *b;
	*b = t;
}

/* Turn sign-adjusted numbers back into the field's own units. */
static void
unsign(struct leak_result *o, double sign)
{
	size_t i;

	if (sign > 0)
		return;
	o->level = -o->level;
	o->last = -o->last;
	o->fit_last = -o->fit_last;
	o->ts.slope = -o->ts.slope;
	o->ts.intercept = -o->ts.intercept;
	swap_d(&o->ts.lo, &o->ts.hi);
	o->ts.lo = -o->ts.lo;
	o->ts.hi = -o->ts.hi;
	o->ols.slope = -o->ols.slope;
	o->ols.intercept = -o->ols.intercept;
	o->mk.s = -o->mk.s;
	o->mk.z = -o->mk.z;
	o->slope = -o->slope;
	swap_d(&o->slope_lo, &o->slope_hi);
	o->slope_lo = -o->slope_lo;
	o->slope_hi = -o->slope_hi;
	o->envelope_slope = -o->envelope_slope;
	o->fault_in_slope = -o->fault_in_slope;
	o->fault_out_slope = -o->fault_out_slope;
	o->steps_net = -o->steps_net;
	o->rate_pct_day = -o->rate_pct_day; /* a fall is a negative rate */
	o->floor_from = -o->floor_from;
	o->floor_to = -o->floor_to;
	for (i = 0; i < o->env_n; i++)
		o->env_v[i] = -o->env_v[i];
	for (i = 0; i < o->nregimes; i++) {
		struct leak_regime *x = &o->regime[i];

		x->slope = -x->slope;
		x->level_start = -x->level_start;
		x->level_end = -x->level_end;
		x->jump = -x->jump;
		x->kind = x->kind == LEAK_RISE   ? LEAK_FALL
		          : x->kind == LEAK_FALL ? LEAK_RISE
		                                 : LEAK_FLAT;
	}
}

/* The regimes' story into the result: the last LEAK_MAX_REGIMES lines. */
static void
keep_regimes(struct leak_result *o, const struct regimes *g,
             const struct leak_regime *rg, const struct story *st)
{
	size_t skip = g->n > LEAK_MAX_REGIMES ? g->n - LEAK_MAX_REGIMES : 0;

	o->nregimes = g->n - skip;
	memcpy(o->regime, rg + skip, o->nregimes * sizeof(rg[0]));
	o->noise_sd = sqrt(g->var);
	o->noise_factor = g->factor;
	o->noise_phi = (g->factor - 1) / (g->factor + 1);
	o->episodes = st->episodes;
	o->bursts = st->bursts.bursts;
	o->burst_kept = st->bursts.bursts > 0
	                    ? st->bursts.kept / (double)st->bursts.bursts
	                    : NAN;
	o->floor_from = st->bursts.floor_from;
	o->floor_to = st->bursts.floor_to;
	o->now_points = st->now_points;
	o->rise = st->rise;
	o->fall = st->fall;
	o->growing_s = st->growing_s;
	o->onset_ts = st->episodes > 0 ? st->onset_ts : NAN;
	o->fit_last = rg[g->n - 1].level_end;
	o->material = st->material;
	o->steps = st->steps;
	o->steps_net = st->steps_net;
	o->steps_p = st->steps_p;
	if (!st->growing_now && st->episodes > 0)
		o->flat_since = st->ended_ts;
}

/*
 * A sawtooth the regimes show: three or more significant steps down
 * between rises, which carry at least half of all the rising (the series
 * keeps coming back down).  Its mean tooth in points, or 0.
 */
static double
regime_tooth(const struct regimes *g, const struct leak_regime *rg)
{
	double down = 0, up = 0;
	size_t i, drops = 0, first = 0, last = 0;

	for (i = 1; i < g->n; i++) {
		if (rg[i].kind == LEAK_RISE)
			up += rg[i].slope * (rg[i].end_ts - rg[i].start_ts);
		if (!rg[i].jump_significant)
			continue;
		if (rg[i].jump > 0) {
			up += rg[i].jump;
			continue;
		}
		down -= rg[i].jump;
		if (drops++ == 0)
			first = g->start[i];
		last = g->start[i];
	}
	if (drops < 3 || down < 0.5 * up)
		return 0;
	return (double)(last - first) / (double)(drops - 1);
}

/* What is judged: the series after the warm-up, or the floor of its
 * sawtooth (troughs after its drops, or with a tooth from the regimes the
 * least of each window); scratch for the floor in *floor (the caller
 * frees it). */
static void
choose_view(const struct arrays *b, double tooth, struct leak_result *o,
            double **floor, const double **t, const double **y, size_t *n)
{
	size_t fn;

	*t = b->t;
	*y = b->y;
	*n = b->n;
	if ((*floor = malloc(2 * b->n * sizeof(double))) == NULL)
		return;
	fn = tooth > 0 ? floor_series(b, tooth, *floor, *floor + b->n)
	               : sawtooth_troughs(b, *floor, *floor + b->n);
	if (fn < 6) {
		free(*floor);
		*floor = NULL;
		return;
	}
	o->sawtooth = true;
	o->tooth_s = (b->t[b->n - 1] - b->t[0]) / (double)fn;
	*t = *floor;
	*y = *floor + b->n;
	*n = fn;
}

static int
judge(const struct leak_series *s, const struct leak_rules *r,
      const struct leak_faults *faults, const struct arrays *a,
      struct leak_result *out)
{
	double zc = trend_norm_isf(r->alpha), *floor = NULL, *copy;
	struct regimes *g = malloc(sizeof(*g));
	struct leak_regime *rg = malloc(MAX_SEGMENTS * sizeof(*rg));
	struct arrays b = arrays_tail(a, warmup_index(s, a, r, &out->warmup_s));
	const double *vt, *vy;
	struct story st;
	size_t vn, i, lines;
	int rc = -1;

	if (g == NULL || rg == NULL)
		goto done;
	choose_view(&b, 0, out, &floor, &vt, &vy, &vn);
	if ((copy = malloc(b.n * sizeof(double))) == NULL)
		goto done;
	memcpy(copy, b.y, b.n * sizeof(double));
	out->level = trend_median(copy, b.n);
	free(copy);
	if (fit_regimes(vt, vy, vn, r, g) < 0)
		goto done;
	for (i = 0; i < g->n; i++)
		describe_regime(g, i, vt, vy, s->t0, zc, &rg[i]);
	if (!out->sawtooth && floor == NULL) { /* the regimes may show one */
		choose_view(&b, regime_tooth(g, rg), out, &floor, &vt, &vy,
		            &vn);
		if (out->sawtooth && fit_regimes(vt, vy, vn, r, g) < 0)
			goto done;
		for (i = 0; out->sawtooth && i < g->n; i++)
			describe_regime(g, i, vt, vy, s->t0, zc, &rg[i]);
	}
	material_steps(rg, g->n);
	tell(rg, g->n, g->se, zc, r->settle_ratio, r->material * sqrt(g->var),
	     &st);
	/* bursts as regimes, else as jumps between points */
	if (!(leak_bursts(rg, g->n, st.material, &st.bursts) >=
	          LEAK_BURSTS_KEEP &&
	      st.bursts.keeps))
		leak_bursts_of(vt, vy, vn, &st.bursts);
	thirds(rg, g->n, &st);
	st.steps_net = st.steps_p = NAN;
	if (!out->sawtooth) /* a floor's points are not the heap's steps */
		step_walk(vy, vn, &st);
	lines = rising_lines(rg, g->n);
	/* the current growth in samples of the series, not of its floor */
	for (st.now_points = 0, i = 0; st.growing_now && i < b.n; i++)
		st.now_points += b.t[i] >= st.onset_ts - s->t0;
	st.slowing = st.growing_now && lines >= 1 &&
	             slowing(vt, vy, vn, st.onset_ts - s->t0, r->settle_ratio,
	                     lines == 1);
	keep_regimes(out, g, rg, &st);
	overall(b.t, b.y, b.n, g, r->alpha, out);
	if (faults != NULL && faults->n > 0) {
		out->have_faults = true;
		leak_fault_split(vt, vy, vn, s->t0, faults, g->var * g->factor,
		                 out);
	}
	decide(out, r, &st, fragmentation(&b, r, out), s->sign * r->limit);
	rc = 0;
done:
	free(floor);
	free(g);
	free(rg);
	return rc;
}

bool
leak_stale(struct leak_result *r, double now, double max_age_s)
{
	if (!(max_age_s > 0) || r->samples == 0 || r->last_ts < 1e9 ||
	    !(now - r->last_ts > max_age_s))
		return false;
	r->verdict = LEAK_STALE;
	r->why = LEAK_WHY_STALE;
	r->age_s = now - r->last_ts;
	r->max_age_s = max_age_s;
	return true;
}

int
leak_classify(const struct leak_series *s, const struct leak_rules *r,
              const struct leak_faults *faults, struct leak_result *out)
{
	struct arrays a;
	int rc;

	memset(out, 0, sizeof(*out));
	out->samples = s->samples;
	out->points = s->n;
	out->time_to_limit_s = NAN;
	out->fault_in_slope = out->fault_out_slope = NAN;
	out->onset_ts = out->flat_since = NAN;
	out->slope = out->slope_lo = out->slope_hi = NAN;
	out->envelope_slope = out->envelope_share = NAN;
	out->lives_slope = out->life_every_s = out->level = NAN;
	out->episode_gap_s = NAN;
	out->steps_net = out->steps_p = NAN;
	verdict(out, LEAK_INSUFFICIENT, LEAK_WHY_TOO_FEW);
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
	out->last = s->last_value;
	out->life_judged = true;
	rc = judge(s, r, faults, &a, out);
	free(a.t);
	if (rc == 0)
		unsign(out, s->sign);
	else
		verdict(out, LEAK_INSUFFICIENT, LEAK_WHY_TOO_FEW);
	out->life_judged = rc == 0;
	return rc;
}
