/*
 * Fault periods: read from an events stream, kept sorted and disjoint.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leak.h"

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
