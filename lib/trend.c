#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trend.h"

static void
swap(double *a, double *b)
{
	double t = *a;

	*a = *b;
	*b = t;
}

/* Wirth's selection: afterwards a[k] is the k-th smallest, with no larger
 * value before it and no smaller one after it.  No NaNs, please. */
static void
select_kth(double *a, size_t n, size_t kk)
{
	long lo = 0, hi = (long)n - 1, k = (long)kk;

	while (lo < hi) {
		double pivot = a[k];
		long i = lo, j = hi;

		do {
			while (a[i] < pivot)
				i++;
			while (pivot < a[j])
				j--;
			if (i <= j) {
				swap(&a[i], &a[j]);
				i++;
				j--;
			}
		} while (i <= j);
		if (j < k)
			lo = i;
		if (k < i)
			hi = j;
	}
}

static double
min_from(const double *a, size_t from, size_t n)
{
	double m = a[from];
	size_t i;

	for (i = from + 1; i < n; i++)
		if (a[i] < m)
			m = a[i];
	return m;
}

double
trend_quantile(double *a, size_t n, double q)
{
	double pos, frac, lo;
	size_t k;

	if (n == 0)
		return NAN;
	if (q <= 0)
		q = 0;
	if (q >= 1)
		q = 1;
	pos = q * (double)(n - 1);
	k = (size_t)pos;
	frac = pos - (double)k;
	select_kth(a, n, k);
	lo = a[k];
	if (frac == 0 || k + 1 >= n)
		return lo;
	return lo + frac * (min_from(a, k + 1, n) - lo);
}

double
trend_median(double *a, size_t n)
{
	return trend_quantile(a, n, 0.5);
}

double
trend_norm_sf(double z)
{
	return 0.5 * erfc(z / sqrt(2.0));
}

double
trend_norm_isf(double p)
{
	double lo = -40, hi = 40;
	int i;

	for (i = 0; i < 200; i++) {
		double mid = (lo + hi) / 2;

		if (trend_norm_sf(mid) > p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

int
trend_ols(const double *t, const double *v, size_t n, struct trend_ols *out)
{
	double tm = 0, vm = 0, sxx = 0, sxy = 0, syy = 0, sse;
	size_t i;

	if (n < 2) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++) {
		tm += t[i];
		vm += v[i];
	}
	tm /= (double)n;
	vm /= (double)n;
	for (i = 0; i < n; i++) {
		sxx += (t[i] - tm) * (t[i] - tm);
		sxy += (t[i] - tm) * (v[i] - vm);
		syy += (v[i] - vm) * (v[i] - vm);
	}
	if (sxx == 0) {
		errno = EINVAL;
		return -1;
	}
	out->slope = sxy / sxx;
	out->intercept = vm - out->slope * tm;
	sse = syy - out->slope * sxy;
	if (sse < 0)
		sse = 0;
	out->r2 = syy > 0 ? 1 - sse / syy : 1;
	out->slope_se = n > 2 ? sqrt(sse / (double)(n - 2) / sxx) : NAN;
	return 0;
}

/* Merge sort of a (scratch tmp) counting strict inversions a[i] > a[j]. */
static uint64_t
sort_count(double *a, double *tmp, size_t n)
{
	size_t mid = n / 2, i = 0, j = mid, k = 0;
	uint64_t inv;

	if (n < 2)
		return 0;
	inv = sort_count(a, tmp, mid) + sort_count(a + mid, tmp, n - mid);
	while (i < mid && j < n) {
		if (a[j] < a[i]) {
			inv += mid - i;
			tmp[k++] = a[j++];
		} else {
			tmp[k++] = a[i++];
		}
	}
	while (i < mid)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, n * sizeof(*a));
	return inv;
}

void
trend_mk_correct(struct trend_mk *mk, double factor)
{
	double var = mk->var_s * factor, s = mk->s;

	mk->factor = factor;
	if (var <= 0) {
		mk->z = 0;
		mk->p = 1;
		return;
	}
	mk->z = s > 0 ? (s - 1) / sqrt(var) : s < 0 ? (s + 1) / sqrt(var) : 0;
	mk->p = 2 * trend_norm_sf(fabs(mk->z));
	if (mk->p > 1)
		mk->p = 1;
}

int
trend_mann_kendall(const double *v, size_t n, struct trend_mk *out)
{
	double *a, *tmp, dn = (double)n, ties = 0, tied_pairs = 0;
	uint64_t inversions;
	size_t i, run;

	if (n < 3) {
		errno = EINVAL;
		return -1;
	}
	a = malloc(2 * n * sizeof(*a));
	if (a == NULL)
		return -1;
	tmp = a + n;
	memcpy(a, v, n * sizeof(*a));
	inversions = sort_count(a, tmp, n);
	/* a is sorted now: runs of equal values are the tie groups. */
	for (i = 0; i < n; i += run) {
		double g;

		for (run = 1; i + run < n && a[i + run] == a[i]; run++)
			;
		g = (double)run;
		tied_pairs += g * (g - 1) / 2;
		ties += g * (g - 1) * (2 * g + 5);
	}
	free(a);
	/* concordant = pairs - tied - inversions; S = concordant - inv */
	out->s = dn * (dn - 1) / 2 - tied_pairs - 2 * (double)inversions;
	out->var_s = (dn * (dn - 1) * (2 * dn + 5) - ties) / 18;
	trend_mk_correct(out, 1);
	return 0;
}

struct ranked {
	double v;
	size_t i;
};

static int
cmp_ranked(const void *a, const void *b)
{
	double x = ((const struct ranked *)a)->v,
	       y = ((const struct ranked *)b)->v;

	return (x > y) - (x < y);
}

/* Average ranks (1-based) of v - slope * t into rank[]. */
static int
detrended_ranks(const double *t, const double *v, size_t n, double slope,
                double *rank)
{
	struct ranked *r = malloc(n * sizeof(*r));
	size_t i, j, k;

	if (r == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		r[i].v = v[i] - slope * t[i];
		r[i].i = i;
	}
	qsort(r, n, sizeof(*r), cmp_ranked);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && r[j].v == r[i].v; j++)
			;
		for (k = i; k < j; k++)
			rank[r[k].i] = (double)(i + j + 1) / 2;
	}
	free(r);
	return 0;
}

double
trend_hamed_rao(const double *t, const double *v, size_t n, double slope,
                double z_crit)
{
	double *rank, mean = ((double)n + 1) / 2, denom = 0, sum = 0, bound,
	              dn = (double)n, factor;
	size_t i, k;

	if (n < 4)
		return 1;
	rank = malloc(n * sizeof(*rank));
	if (rank == NULL || detrended_ranks(t, v, n, slope, rank) < 0) {
		free(rank);
		return 1;
	}
	for (i = 0; i < n; i++) {
		rank[i] -= mean;
		denom += rank[i] * rank[i];
	}
	bound = z_crit / sqrt(dn);
	for (k = 1; k < n - 2 && denom > 0; k++) {
		double num = 0, r, dk = (double)k;

		for (i = 0; i + k < n; i++)
			num += rank[i] * rank[i + k];
		r = num / denom;
		if (fabs(r) > bound)
			sum += (dn - dk) * (dn - dk - 1) * (dn - dk - 2) * r;
	}
	free(rank);
	factor = 1 + 2 * sum / (dn * (dn - 1) * (dn - 2));
	return factor < 1 || !isfinite(factor) ? 1 : factor;
}

double
trend_ar1_factor(const double *t, const double *v, size_t n, double slope)
{
	double mean = 0, num = 0, den = 0, r1, prev = 0;
	size_t i;

	if (n < 4)
		return 1;
	for (i = 0; i < n; i++)
		mean += v[i] - slope * t[i];
	mean /= (double)n;
	for (i = 0; i < n; i++) {
		double e = v[i] - slope * t[i] - mean;

		den += e * e;
		if (i > 0)
			num += e * prev;
		prev = e;
	}
	if (den <= 0)
		return 1;
	r1 = num / den;
	if (r1 <= 0)
		return 1;
	if (r1 >= 1 - 1.0 / (double)n)
		return (double)n;
	return fmin((1 + r1) / (1 - r1), (double)n);
}

/* xorshift64*: a small fixed-seed generator for pair sampling. */
static uint64_t
next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static size_t
fill_slopes(const double *t, const double *v, size_t n, double *slopes,
            bool *exact)
{
	size_t i, j, m = 0, tries;
	uint64_t rng = 0x9e3779b97f4a7c15ULL;

	*exact = n <= TREND_TS_EXACT_MAX;
	if (*exact) {
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (t[j] != t[i])
					slopes[m++] =
					    (v[j] - v[i]) / (t[j] - t[i]);
		return m;
	}
	for (tries = 0; m < TREND_TS_SAMPLES && tries < 4 * TREND_TS_SAMPLES;
	     tries++) {
		i = (size_t)(next_random(&rng) % n);
		j = (size_t)(next_random(&rng) % n);
		if (t[i] != t[j])
			slopes[m++] = (v[j] - v[i]) / (t[j] - t[i]);
	}
	return m;
}

int
trend_theil_sen(const double *t, const double *v, size_t n, double var_s,
                double z_conf, struct trend_ts *out)
{
	double pairs = (double)n * ((double)n - 1) / 2, c, lo_rank, hi_rank;
	double *slopes, *resid;
	size_t m, cap, i;

	if (n < 2) {
		errno = EINVAL;
		return -1;
	}
	cap = n <= TREND_TS_EXACT_MAX ? n * (n - 1) / 2 : TREND_TS_SAMPLES;
	slopes = malloc((cap > n ? cap : n) * sizeof(*slopes));
	if (slopes == NULL)
		return -1;
	m = fill_slopes(t, v, n, slopes, &out->exact);
	if (m == 0) {
		free(slopes);
		errno = EINVAL;
		return -1;
	}
	out->slope = trend_median(slopes, m);
	/* Sen (1968): ranks (N -/+ C)/2 of the ordered slopes, C = z sd(S),
	 * read as fractions so that sampled slopes serve too. */
	c = z_conf * sqrt(var_s > 0 ? var_s : 0);
	lo_rank = (pairs - c) / 2;
	hi_rank = (pairs + c) / 2 + 1;
	out->lo = trend_quantile(
	    slopes, m, lo_rank <= 1 ? 0 : (lo_rank - 1) / (pairs - 1));
	out->hi = trend_quantile(
	    slopes, m, hi_rank >= pairs ? 1 : (hi_rank - 1) / (pairs - 1));
	resid = slopes; /* reuse: cap >= n */
	for (i = 0; i < n; i++)
		resid[i] = v[i] - out->slope * t[i];
	out->intercept = trend_median(resid, n);
	free(slopes);
	return 0;
}

size_t
trend_envelope(const double *t, const double *v, size_t n, size_t windows,
               bool lower, double *et, double *ev)
{
	double t0, span;
	size_t i, w, count = 0, cur = (size_t)-1;

	if (n == 0 || windows == 0)
		return 0;
	t0 = t[0];
	span = t[n - 1] - t0;
	for (i = 0; i < n; i++) {
		w = span > 0 ? (size_t)((t[i] - t0) / span * (double)windows)
		             : 0;
		if (w >= windows)
			w = windows - 1;
		if (w != cur) {
			cur = w;
			et[count] = t[i];
			ev[count] = v[i];
			count++;
			continue;
		}
		if (lower ? v[i] < ev[count - 1] : v[i] > ev[count - 1]) {
			et[count - 1] = t[i];
			ev[count - 1] = v[i];
		}
	}
	return count;
}

struct sums {
	double n, t, v, tt, tv, vv;
};

static double
sse_of(const struct sums *s, double *slope)
{
	double sxx, sxy, syy, sse;

	if (s->n < 2) {
		*slope = 0;
		return 0;
	}
	sxx = s->tt - s->t * s->t / s->n;
	sxy = s->tv - s->t * s->v / s->n;
	syy = s->vv - s->v * s->v / s->n;
	*slope = sxx > 0 ? sxy / sxx : 0;
	sse = sxx > 0 ? syy - sxy * sxy / sxx : syy;
	return sse > 0 ? sse : 0;
}

static void
sums_add(struct sums *s, double t, double v, double sign)
{
	s->n += sign;
	s->t += sign * t;
	s->v += sign * v;
	s->tt += sign * t * t;
	s->tv += sign * t * v;
	s->vv += sign * v * v;
}

int
trend_changepoint(const double *t, const double *v, size_t n, size_t min_seg,
                  struct trend_cp *out)
{
	struct sums left = {0}, right = {0};
	double total, best = INFINITY, slope, sl, sr, t0, v0;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (min_seg < 2)
		min_seg = 2;
	if (n < 2 * min_seg) {
		errno = EINVAL;
		return -1;
	}
	t0 = t[0];
	v0 = v[0];
	for (i = 0; i < n; i++)
		sums_add(&right, t[i] - t0, v[i] - v0, 1);
	total = sse_of(&right, &slope);
	for (i = 0; i + min_seg <= n; i++) {
		double sse;

		if (i >= min_seg) {
			sse = sse_of(&left, &sl) + sse_of(&right, &sr);
			if (sse < best) {
				best = sse;
				out->found = true;
				out->index = i;
				out->t = t[i];
				out->slope_before = sl;
				out->slope_after = sr;
			}
		}
		sums_add(&left, t[i] - t0, v[i] - v0, 1);
		sums_add(&right, t[i] - t0, v[i] - v0, -1);
	}
	out->gain = total > 0 && out->found ? 1 - best / total : 0;
	if (out->gain < 0)
		out->gain = 0;
	return 0;
}

void
trend_running_add(struct trend_running *r, double v)
{
	double d;

	if (isnan(v))
		return;
	if (r->n == 0 || v < r->min)
		r->min = v;
	if (r->n == 0 || v > r->max)
		r->max = v;
	r->n++;
	d = v - r->mean;
	r->mean += d / (double)r->n;
	r->m2 += d * (v - r->mean);
}

double
trend_running_std(const struct trend_running *r)
{
	return r->n < 2 ? NAN : sqrt(r->m2 / (double)(r->n - 1));
}

void
trend_sum_add(struct trend_sum *s, double v)
{
	double t = s->sum + v;

	if (fabs(s->sum) >= fabs(v))
		s->comp += (s->sum - t) + v;
	else
		s->comp += (v - t) + s->sum;
	s->sum = t;
}

double
trend_sum_value(const struct trend_sum *s)
{
	return s->sum + s->comp;
}
