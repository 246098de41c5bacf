/*
 * Fault periods: read from an events stream, kept sorted and disjoint.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leak.h"
#include "trend.h"

#define MAX_FAULTS (1u << 20)

void
leak_faults_free(struct leak_faults *f)
{
	free(f->start);
	free(f->end);
	memset(f, 0, sizeof(*f));
}

static int
fault_push(struct leak_faults *f, double start, double end)
{
	if (end <= start)
		return 0;
	if (f->n > 0 && start <= f->end[f->n - 1]) { /* overlap: merge */
		f->end[f->n - 1] = fmax(f->end[f->n - 1], end);
		return 0;
	}
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		double *s, *e;

		if (cap > MAX_FAULTS) {
			errno = E2BIG;
			return -1;
		}
		s = realloc(f->start, cap * sizeof(double));
		if (s == NULL)
			return -1;
		f->start = s;
		e = realloc(f->end, cap * sizeof(double));
		if (e == NULL)
			return -1;
		f->end = e;
		f->cap = cap;
	}
	f->start[f->n] = start;
	f->end[f->n] = end;
	f->n++;
	return 0;
}

void
leak_fault_reader_init(struct leak_fault_reader *fr, struct leak_faults *f)
{
	memset(fr, 0, sizeof(*fr));
	fr->f = f;
	fr->last_ts = -INFINITY;
}

static size_t
unit_slot(struct leak_fault_reader *fr, const char *unit)
{
	size_t i;

	for (i = 0; i < fr->nunits; i++)
		if (strcmp(fr->units[i], unit) == 0)
			return i;
	if (fr->nunits == LEAK_FAULT_UNITS)
		return LEAK_FAULT_UNITS - 1;
	snprintf(fr->units[fr->nunits], sizeof(fr->units[0]), "%s", unit);
	return fr->nunits++;
}

int
leak_fault_record(struct leak_fault_reader *fr, double ts, const char *unit,
                  int state)
{
	size_t u;

	if (state < 0 || !isfinite(ts) || ts < fr->last_ts)
		return 0;
	fr->last_ts = ts;
	u = unit_slot(fr, unit ? unit : "");
	if (state == 0 && !fr->down[u]) {
		fr->down[u] = true;
		if (fr->ndown++ == 0)
			fr->open_since = ts;
	} else if (state == 1 && fr->down[u]) {
		fr->down[u] = false;
		if (--fr->ndown == 0)
			return fault_push(fr->f, fr->open_since, ts);
	}
	return 0;
}

int
leak_fault_reader_end(struct leak_fault_reader *fr)
{
	if (fr->ndown == 0)
		return 0;
	fr->ndown = 0;
	return fault_push(fr->f, fr->open_since, INFINITY);
}

/* ---- growth inside and outside them ------------------------------------ */

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

/*
 * How near a fault's edge a sample tells nothing: the records and the
 * events each see a change up to one of their sampling intervals late, so
 * the growth of that interval falls on either side.  --edge, else the
 * larger of the events' interval and the series' (its median step).
 */
static double
fault_edge(const double *t, size_t n, const struct leak_faults *f)
{
	double *d, step = 0;
	size_t i;

	if (f->edge_given || n < 2)
		return f->edge_s;
	if ((d = malloc((n - 1) * sizeof(double))) != NULL) {
		for (i = 0; i + 1 < n; i++)
			d[i] = t[i + 1] - t[i];
		step = trend_median(d, n - 1);
		free(d);
	}
	return fmax(step, f->edge_s);
}

static bool
near_edge(const struct leak_faults *f, double ts, double edge)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (fabs(ts - f->start[i]) <= edge ||
		    fabs(ts - f->end[i]) <= edge)
			return true;
	return false;
}

static bool
in_fault(const struct leak_faults *f, double ts)
{
	size_t i;

	for (i = 0; i < f->n && f->start[i] <= ts; i++)
		if (ts < f->end[i])
			return true;
	return false;
}

/* Least-squares sums of the lines through stretches of one state. */
struct within {
	double stt, sty;
};

static void
add_stretch(struct within *w, const double *t, const double *y, size_t a,
            size_t b)
{
	double tm = 0, ym = 0;
	size_t i;

	for (i = a; i < b; i++) {
		tm += t[i] / (double)(b - a);
		ym += y[i] / (double)(b - a);
	}
	for (i = a; i < b; i++) {
		w->stt += (t[i] - tm) * (t[i] - tm);
		w->sty += (t[i] - tm) * (y[i] - ym);
	}
}

static void
split_slope(const struct within *w, double var, double *slope, double *p)
{
	if (!(w->stt > 0))
		return;
	*slope = w->sty / w->stt;
	*p = trend_norm_sf(*slope / sqrt(fmax(var / w->stt, 1e-300)));
}

/*
 * The growth rate inside and outside the fault periods, and its
 * one-sided p under the noise model: a line through each stretch of
 * samples of one state, each stretch at its own level (the "within"
 * estimator), the samples within an edge's tolerance of a fault's start
 * or end left out.  What happens at an edge (a step, growth a poll late)
 * moves a stretch's level, not a slope.
 */
void
leak_fault_split(const double *t, const double *y, size_t n, double t0,
                 const struct leak_faults *f, double var,
                 struct leak_result *out)
{
	struct within w[2] = {{0, 0}, {0, 0}};
	size_t i, a = 0;
	int state = -1, now;

	out->fault_edge_s = fault_edge(t, n, f);
	out->fault_marked = f->marked;
	out->fault_in_slope = out->fault_out_slope = NAN;
	out->fault_in_p = out->fault_out_p = 1;
	out->fault_s = fault_time(f, t0, t[n - 1]) - fault_time(f, t0, t[0]);
	for (i = 0; i < f->n; i++)
		if (f->end[i] > t0 + t[0] && f->start[i] < t0 + t[n - 1])
			out->fault_periods++;
	for (i = 0; i <= n; i++) {
		now = i == n || near_edge(f, t0 + t[i], out->fault_edge_s)
		          ? -1
		          : in_fault(f, t0 + t[i]);
		if (now == state)
			continue;
		if (state >= 0 && i - a >= 2)
			add_stretch(&w[state], t, y, a, i);
		state = now;
		a = i;
	}
	if (out->fault_s > 0)
		split_slope(&w[1], var, &out->fault_in_slope, &out->fault_in_p);
	if (t[n - 1] - t[0] - out->fault_s > 0)
		split_slope(&w[0], var, &out->fault_out_slope,
		            &out->fault_out_p);
}
