/*
 * The bounded series of a life: buckets that merge as they fill, the
 * --last window.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
