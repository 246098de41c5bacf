/*
 * The lives of a process in one stream: a series per life, split where the
 * process changes, restarts or reboots; each closed life judged and kept,
 * and the verdict of the current life read with the recent ones before it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leak.h"
#include "trend.h"

int
leak_stream_init(struct leak_stream *st, double sign,
                 const struct leak_rules *rules)
{
	return leak_stream_init_cap(st, sign, rules, LEAK_MAX_BUCKETS);
}

int
leak_stream_init_cap(struct leak_stream *st, double sign,
                     const struct leak_rules *rules, size_t cap)
{
	memset(st, 0, sizeof(*st));
	st->rules = rules;
	st->last_uptime = NAN;
	if (leak_series_init_cap(&st->series, sign, cap) < 0)
		return -1;
	st->series.window_s = rules != NULL ? rules->last_s : 0;
	return 0;
}

void
leak_stream_free(struct leak_stream *st)
{
	leak_series_free(&st->series);
}

/* How long a life rose after its start before it held: a settling one
 * until it was flat, one still slowing all of it, the warm-up left out of
 * a steady one; 0 for the others. */
static double
ramp_of(const struct leak_result *r)
{
	if (r->verdict == LEAK_SETTLING && r->why == LEAK_WHY_SETTLED)
		return r->flat_since - r->first_ts;
	if (r->verdict == LEAK_SETTLING)
		return r->span_s;
	if (r->verdict == LEAK_STEADY && r->warmup_s > 0)
		return r->warmup_s;
	return 0;
}

/* Close the current life: judge it, keep it, start anew. */
static void
close_life(struct leak_stream *st, enum leak_end end)
{
	struct leak_segment *s = &st->cur;
	struct leak_result res;

	st->jumped = st->exited = false;
	if (st->series.samples == 0)
		return;
	leak_series_flush(&st->series);
	s->first_ts = st->series.t0;
	s->last_ts = st->series.last_ts;
	s->samples = st->series.samples;
	s->verdict = LEAK_INSUFFICIENT;
	s->why = LEAK_WHY_TOO_FEW;
	s->slope = s->level = NAN;
	s->end = st->limit_seen && end == LEAK_END_RESTART   ? LEAK_END_LIMIT
	         : st->limit_seen && end == LEAK_END_PROCESS ? LEAK_END_LIMIT
	                                                     : end;
	st->limit_seen = false;
	if (leak_classify(&st->series, st->rules, NULL, &res) == 0) {
		s->verdict = res.verdict;
		s->why = res.why;
		s->slope = res.slope;
		s->level = res.level;
		s->ramp_s = ramp_of(&res);
	}
	if (st->ndone == LEAK_KEEP_SEGMENTS) {
		memmove(st->done, st->done + 1,
		        (LEAK_KEEP_SEGMENTS - 1) * sizeof(st->done[0]));
		st->ndone--;
	}
	st->done[st->ndone++] = *s;
	st->total_segments++;
	leak_series_reset(&st->series);
	memset(s, 0, sizeof(*s));
}

/* A (pid, start) seen in a closed segment again: processes interleave. */
static bool
seen_before(const struct leak_stream *st, double pid, double start)
{
	size_t i;

	for (i = 0; i < st->ndone; i++)
		if (st->done[i].has_id && st->done[i].pid == pid &&
		    st->done[i].start == start)
			return true;
	return false;
}

/* Where a sample starts a life of its own: an uptime lower than the one
 * before (a reboot), or the field jumping back after a named event. */
static void
new_life_at(struct leak_stream *st, const struct leak_sample *x)
{
	const struct leak_series *s = &st->series;

	if (st->exited)
		close_life(st, LEAK_END_RESTART);
	else if (!isnan(x->uptime) && !isnan(st->last_uptime) &&
	         x->uptime < st->last_uptime)
		close_life(st, LEAK_END_UPTIME);
	else if (st->jumped && s->samples > 0 &&
	         s->sign * x->value < s->last_value)
		close_life(st, LEAK_END_EVENT);
	st->jumped = st->exited = false;
	if (!isnan(x->uptime))
		st->last_uptime = x->uptime;
}

void
leak_stream_add(struct leak_stream *st, const struct leak_sample *x)
{
	struct leak_series *s = &st->series;

	if (x->limit || x->jump || x->exited) {
		st->limit_seen |= x->limit;
		st->jumped |= x->jump;
		st->exited |= x->exited;
		return;
	}
	if (x->restart) {
		close_life(st, LEAK_END_RESTART);
		return;
	}
	if (x->has_id && st->cur.has_id &&
	    (x->pid != st->cur.pid || x->start != st->cur.start)) {
		if (!st->interleaved && seen_before(st, x->pid, x->start)) {
			st->interleaved = true;
			st->interleaved_pid = x->pid;
		}
		close_life(st, LEAK_END_PROCESS);
	}
	if (s->samples > 0 && x->ts < s->last_ts) {
		st->out_of_order++;
		return;
	}
	new_life_at(st, x);
	if (s->samples == 0) {
		st->cur.has_id = x->has_id;
		st->cur.pid = x->pid;
		st->cur.start = x->start;
	}
	leak_series_add(s, x->ts, x->value, x->aux);
	if (s->samples == 1)
		s->first_age = x->age_s;
}

/* ---- the verdict over the lives ---------------------------------------- */

static bool
leaky(enum leak_verdict v)
{
	return v == LEAK_LEAK || v == LEAK_FRAGMENTATION || v == LEAK_OOM;
}

/* The recent judged lives, newest first, and what they add up to. */
struct lives {
	const struct leak_segment *recent[LEAK_RECENT_LIVES];
	size_t n;
	double slope;   /* sign-adjusted median of the leaking run */
	double ramp;    /* the least and the greatest ramp of them */
	double ramp_lo; /* (RAMPS) */
	double level;   /* the greatest level they held, sign-adjusted */
	double onset;   /* the start of the oldest of the leaking run */
};

static double
median_of(double *v, size_t n)
{
	return n > 0 ? trend_median(v, n) : NAN;
}

/* Median time from one life's start to the next's, the current one's
 * start included. */
static double
every(const struct leak_stream *st, const struct leak_result *o)
{
	double gaps[LEAK_KEEP_SEGMENTS];
	size_t i, n = 0;

	for (i = 1; i < st->ndone; i++)
		gaps[n++] = st->done[i].first_ts - st->done[i - 1].first_ts;
	if (st->ndone > 0 && o->samples > 0)
		gaps[n++] = o->first_ts - st->done[st->ndone - 1].first_ts;
	return median_of(gaps, n);
}

/* Whether a closed life ended inside --last's window. */
static bool
in_window(const struct leak_stream *st, const struct leak_segment *s)
{
	double newest = st->series.samples > 0 ? st->series.last_ts
	                : st->ndone > 0        ? st->done[st->ndone - 1].last_ts
	                                       : s->last_ts;

	return !(st->series.window_s > 0) ||
	       s->last_ts >= newest - st->series.window_s;
}

static void
gather(const struct leak_stream *st, struct leak_result *o, struct lives *l)
{
	double sign = st->series.sign, slopes[LEAK_RECENT_LIVES];
	size_t i, run;

	memset(l, 0, sizeof(*l));
	l->level = -INFINITY;
	l->ramp_lo = INFINITY;
	for (i = st->ndone; i-- > 0 && l->n < LEAK_RECENT_LIVES;)
		if (st->done[i].verdict != LEAK_INSUFFICIENT &&
		    in_window(st, &st->done[i]))
			l->recent[l->n++] = &st->done[i];
	for (run = 0; run < l->n && leaky(l->recent[run]->verdict); run++)
		slopes[run] = sign * l->recent[run]->slope;
	l->slope = median_of(slopes, run);
	for (i = 0; i < l->n; i++) {
		const struct leak_segment *s = l->recent[i];

		o->lives_leaked += leaky(s->verdict);
		l->level = fmax(l->level, sign * s->level);
		l->ramp = fmax(l->ramp, s->ramp_s);
		l->ramp_lo = fmin(l->ramp_lo, s->ramp_s);
		if (i < run)
			l->onset = s->first_ts;
	}
	for (i = 0; i < l->n && !leaky(l->recent[i]->verdict); i++)
		;
	o->lives = l->n;
	o->lives_leaking = run;
	o->lives_calm =
	    i + (o->verdict != LEAK_INSUFFICIENT && !leaky(o->verdict));
	o->lives_slope = sign * l->slope;
	o->life_every_s = every(st, o);
	o->life_s = o->samples > 0 ? o->span_s : 0;
	o->lives_end = st->ndone > 0 ? (int)st->done[st->ndone - 1].end : 0;
}

/* The leak of the recent lives goes on in this one. */
static void
recurs(const struct leak_stream *st, const struct lives *l,
       struct leak_result *o)
{
	const struct leak_rules *r = st->rules;
	double sign = st->series.sign, limit = sign * r->limit;
	double last = o->samples > 0 ? sign * o->last : l->level;

	if (o->verdict == LEAK_INSUFFICIENT || isnan(o->level))
		o->level = sign * l->level;
	o->verdict = LEAK_LEAK;
	o->why = LEAK_WHY_RECURS;
	o->slope = sign * l->slope;
	o->slope_lo = o->slope_hi = o->slope_p = NAN; /* of no one fit */
	o->rate_pct_day = leak_rate_pct_day(o->slope, o->level);
	o->onset_ts = l->onset;
	o->time_to_limit_s = NAN;
	if (isnan(limit))
		return;
	if (last >= limit) {
		o->verdict = LEAK_OOM;
		o->why = LEAK_WHY_LIMIT_NOW;
		return;
	}
	o->time_to_limit_s = (limit - last) / l->slope;
	if (o->time_to_limit_s <= r->horizon_s) {
		o->verdict = LEAK_OOM;
		o->why = LEAK_WHY_LIMIT_SOON;
	}
}

/* The upper end of the current life's slope, sign-adjusted. */
static double
slope_high(const struct leak_stream *st, const struct leak_result *o)
{
	return st->series.sign > 0 ? o->slope_hi : -o->slope_lo;
}

static void
judge_lives(const struct leak_stream *st, struct leak_result *o)
{
	double sign = st->series.sign;
	struct lives l;

	gather(st, o, &l);
	if (l.n == 0)
		return;
	if (leaky(o->verdict)) {
		/* a young life in the rise each calm life before it began
		 * with, no higher than they held */
		if (l.n >= LEAK_RECUR_LIVES && o->lives_leaked == 0 &&
		    l.ramp_lo > 0 && o->life_s <= 1.5 * l.ramp &&
		    sign * o->last <= l.level + 3 * o->noise_sd) {
			o->verdict = LEAK_STEADY;
			o->why = LEAK_WHY_RAMPS;
			o->ramp_s = l.ramp;
		}
		return;
	}
	if (o->lives_leaking >= LEAK_RECUR_LIVES) {
		/* unless this life already grows at less than half their
		 * rate, beyond doubt */
		if (o->verdict == LEAK_INSUFFICIENT ||
		    !(slope_high(st, o) < 0.5 * l.slope))
			recurs(st, &l, o);
		else if (o->verdict == LEAK_STEADY)
			o->why = LEAK_WHY_STOPPED;
		return;
	}
	if (o->lives_leaking > 0)
		return; /* the last life leaked, not those before it */
	if (o->verdict == LEAK_INSUFFICIENT && l.n >= LEAK_RECUR_LIVES) {
		o->verdict = LEAK_STEADY;
		o->why = o->lives_leaked > 0 ? LEAK_WHY_STOPPED
		                             : LEAK_WHY_LIVES_CALM;
	} else if (o->verdict == LEAK_STEADY && o->lives_leaked > 0) {
		o->why = LEAK_WHY_STOPPED;
	}
}

int
leak_judge(const struct leak_stream *st, const struct leak_faults *faults,
           struct leak_result *out)
{
	if (leak_classify(&st->series, st->rules, faults, out) < 0)
		return -1;
	judge_lives(st, out);
	return 0;
}
