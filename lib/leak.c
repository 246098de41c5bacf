#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "leak.h"
#include "leak_impl.h"
#include "trend.h"

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
	} else if (st->episodes >= 2 && leak_thinning(st, r->settle_ratio)) {
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
	fn = tooth > 0 ? leak_floor_series(b, tooth, *floor, *floor + b->n)
	               : leak_sawtooth_troughs(b, *floor, *floor + b->n);
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
	if (leak_fit_regimes(vt, vy, vn, r, g) < 0)
		goto done;
	for (i = 0; i < g->n; i++)
		leak_describe_regime(g, i, vt, vy, s->t0, zc, &rg[i]);
	if (!out->sawtooth && floor == NULL) { /* the regimes may show one */
		choose_view(&b, regime_tooth(g, rg), out, &floor, &vt, &vy,
		            &vn);
		if (out->sawtooth && leak_fit_regimes(vt, vy, vn, r, g) < 0)
			goto done;
		for (i = 0; out->sawtooth && i < g->n; i++)
			leak_describe_regime(g, i, vt, vy, s->t0, zc, &rg[i]);
	}
	leak_material_steps(rg, g->n);
	leak_tell(rg, g->n, g->se, zc, r->settle_ratio,
	          r->material * sqrt(g->var), &st);
	/* bursts as regimes, else as jumps between points */
	if (!(leak_bursts(rg, g->n, st.material, &st.bursts) >=
	          LEAK_BURSTS_KEEP &&
	      st.bursts.keeps))
		leak_bursts_of(vt, vy, vn, &st.bursts);
	leak_thirds(rg, g->n, &st);
	st.steps_net = st.steps_p = NAN;
	if (!out->sawtooth) /* a floor's points are not the heap's steps */
		leak_step_walk(vy, vn, &st);
	lines = leak_rising_lines(rg, g->n);
	/* the current growth in samples of the series, not of its floor */
	for (st.now_points = 0, i = 0; st.growing_now && i < b.n; i++)
		st.now_points += b.t[i] >= st.onset_ts - s->t0;
	st.slowing = st.growing_now && lines >= 1 &&
	             leak_slowing(vt, vy, vn, st.onset_ts - s->t0,
	                          r->settle_ratio, lines == 1);
	keep_regimes(out, g, rg, &st);
	overall(b.t, b.y, b.n, g, r->alpha, out);
	if (faults != NULL && faults->n > 0) {
		out->have_faults = true;
		leak_fault_split(vt, vy, vn, s->t0, faults, g->var * g->factor,
		                 out);
	}
	decide(out, r, &st, leak_fragmentation(&b, r, out), s->sign * r->limit);
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
