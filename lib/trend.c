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

/*
 * Floyd and Rivest's selection (CACM 18(3), 1975, algorithm 489):
 * afterwards a[k] is the k-th smallest, with no larger value before it and
 * no smaller one after it.  On large ranges it first selects within a
 * sample around k, so that the pivot splits close to k: about n + min(k,
 * n - k) comparisons, against some 3.4 n for a pivot taken as it comes.
 * No NaNs, please.
 */
static void
select_range(double *a, long left, long right, long k)
{
	while (right > left) {
		double t;
		long i, j;

		if (right - left > 600) {
			double n = (double)(right - left + 1),
			       m = (double)(k - left + 1), z = log(n),
			       s = 0.5 * exp(2 * z / 3),
			       sd = 0.5 * sqrt(z * s * (n - s) / n) *
			            (m < n / 2 ? -1 : 1);
			long lo = (long)((double)k - m * s / n + sd),
			     hi = (long)((double)k + (n - m) * s / n + sd);

			select_range(a, lo > left ? lo : left,
			             hi < right ? hi : right, k);
		}
		t = a[k];
		i = left;
		j = right;
		swap(&a[left], &a[k]);
		if (a[right] > t)
			swap(&a[right], &a[left]);
		while (i < j) {
			swap(&a[i], &a[j]);
			i++;
			j--;
			while (a[i] < t)
				i++;
			while (a[j] > t)
				j--;
		}
		if (a[left] == t) {
			swap(&a[left], &a[j]);
		} else {
			j++;
			swap(&a[j], &a[right]);
		}
		if (j <= k)
			left = j + 1;
		if (k <= j)
			right = j - 1;
	}
}

static void
select_kth(double *a, size_t n, size_t k)
{
	if (n > 1)
		select_range(a, 0, (long)n - 1, (long)k);
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

/*
 * The q-quantile of a[0..n) that select_kth(a, n, m) split already
 * (a[i] <= a[m] <= a[j] for i < m < j): the selection stays on the side
 * the quantile is on.  The same value as trend_quantile(), for less.
 */
static double
quantile_split(double *a, size_t n, size_t m, double q)
{
	double pos = (q <= 0 ? 0 : q >= 1 ? 1 : q) * (double)(n - 1);
	size_t k = (size_t)pos;
	double frac = pos - (double)k, lo, next;

	if (k < m) {
		select_kth(a, m, k);
		lo = a[k];
		next = k + 1 < m ? min_from(a, k + 1, m) : a[m];
	} else if (k == m) {
		lo = a[m];
		next = k + 1 < n ? min_from(a, k + 1, n) : lo;
	} else {
		select_kth(a + m + 1, n - m - 1, k - m - 1);
		lo = a[k];
		next = k + 1 < n ? min_from(a, k + 1, n) : lo;
	}
	if (frac == 0 || k + 1 >= n)
		return lo;
	return lo + frac * (next - lo);
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
	/* the median split the slopes at (m - 1) / 2 */
	out->lo =
	    quantile_split(slopes, m, (m - 1) / 2,
	                   lo_rank <= 1 ? 0 : (lo_rank - 1) / (pairs - 1));
	out->hi =
	    quantile_split(slopes, m, (m - 1) / 2,
	                   hi_rank >= pairs ? 1 : (hi_rank - 1) / (pairs - 1));
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
		double pos =
		    span > 0 ? (t[i] - t0) / span * (double)windows : 0;

		/* stamps that go back (or NaN) stay in the current window:
		 * windows only move on, so at most `windows` of them */
		w = pos >= 1 ? pos < (double)windows ? (size_t)pos : windows - 1
		             : 0;
		if (count == 0 || w > cur) {
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

/* ---- noise ------------------------------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * The standard deviation of the central 90% of a[] (reordered), scaled to
 * estimate a Gaussian's: sparse jumps (level shifts, slope changes) fall
 * in the trimmed tails, a constant drift in the trimmed mean.
 */
static double
trimmed_sd(double *a, size_t n)
{
	size_t lo, hi, i;
	double mean = 0, var = 0;

	qsort(a, n, sizeof(a[0]), cmp_double);
	lo = n >= 20 ? n / 20 : 0;
	hi = n - lo;
	for (i = lo; i < hi; i++)
		mean += a[i];
	mean /= (double)(hi - lo);
	for (i = lo; i < hi; i++)
		var += (a[i] - mean) * (a[i] - mean);
	var /= (double)(hi - lo > 1 ? hi - lo - 1 : 1);
	/* a normal's central 90% have sd 0.78932 */
	return sqrt(var) / (lo > 0 ? 0.78932 : 1);
}

/* Weighted least squares of g[k] on w + c a[k] (weights 1/g[k]^2: a fit
 * in relative terms), w and c at least 0; the relative squared error. */
static double
fit_nugget(const double *g, const double *a, size_t n, double *w, double *c)
{
	double s11 = 0, s12 = 0, s22 = 0, b1 = 0, b2 = 0, det, err = 0;
	size_t k;

	for (k = 0; k < n; k++) {
		double q = 1 / (g[k] * g[k]);

		s11 += q;
		s12 += q * a[k];
		s22 += q * a[k] * a[k];
		b1 += q * g[k];
		b2 += q * a[k] * g[k];
	}
	det = s11 * s22 - s12 * s12;
	*w = det > 0 ? (b1 * s22 - b2 * s12) / det : b1 / s11;
	*c = det > 0 ? (s11 * b2 - s12 * b1) / det : 0;
	if (*c < 0 || !(det > 0)) { /* white noise alone */
		*c = 0;
		*w = b1 / s11;
	} else if (*w < 0) { /* the correlated part alone */
		*w = 0;
		*c = s22 > 0 ? b2 / s22 : 0;
	}
	for (k = 0; k < n; k++) {
		double e = (g[k] - *w - *c * a[k]) / g[k];

		err += e * e;
	}
	return err;
}

static const size_t noise_lags[] = {1,  2,  3,  4,  6,   8,   12,  16,  24,
                                    32, 48, 64, 96, 128, 192, 256, 384, 512};
#define NOISE_LAGS (sizeof(noise_lags) / sizeof(noise_lags[0]))
/* How many sampling errors the correlated part must lift the variogram
 * by.  Lenient on purpose: a correlation dropped that was there calls
 * wander a leak; one kept that was not only widens the tests (tuned on
 * leakgen seeds 1 and 3: 0.5 kept a staircase's misfit as noise, 2.3
 * doubled the random walks called leaks). */
#define NOISE_RISE_SE 1.0

/* The correlated part's share of the semivariogram at each lag:
 * G(k) = w + c (1 - phi^k); phi 1 is a random walk, G = w + c k. */
static void
basis(double phi, const size_t *lags, size_t nl, double *a)
{
	size_t k;

	for (k = 0; k < nl; k++) {
		double x = (double)lags[k];

		a[k] = phi >= 1 ? x : -expm1(x * log(fmax(phi, 1e-300)));
	}
}

/*
 * The model that fits the measured g[] (per lag) best: white noise w
 * plus an AR(1) of variance c and correlation phi, or plus a random walk
 * (phi 1, c per step).  Its long-run variance is what a slope over n
 * points sees: w + c (1 + phi) / (1 - phi), but never more than a walk
 * of the same short-lag steps gives over n points (0.2 c (1 - phi) n^2);
 * and that walk's when the correlation time 1 / (1 - phi) is beyond half
 * the longest lag measured (residuals about a line cannot show whether
 * such a process saturates).
 *
 * The correlated part counts only when the rise it gives the variogram
 * from the first lag, at its clearest lag, is beyond those lags' sampling
 * error (se[]): heavy tails or a few misfit points bend a measured
 * variogram by chance, and a walk read from such a bend would widen every
 * test a hundredfold and merge a staircase into one curve.
 */
static void
fit_noise(const double *g, const double *se, size_t nl, size_t n,
          size_t max_lag, struct trend_noise *out)
{
	double a[NOISE_LAGS], best = INFINITY, nn = (double)n * (double)n;
	double rise = 0, white = 0;
	size_t i, k;

	for (i = 0; i <= 1001; i++) {
		double phi = i < 900 ? i / 1000.0 : 0.9 + (i - 900) / 1010.0;
		double w, c, err;

		if (i == 1001)
			phi = 1;
		basis(phi, noise_lags, nl, a);
		err = fit_nugget(g, a, nl, &w, &c);
		if (!(err < best))
			continue;
		best = err;
		/* the rise it gives, in sampling errors, at its clearest lag */
		for (rise = 0, k = 1; k < nl; k++)
			rise =
			    fmax(rise, c * (a[k] - a[0]) /
			                   sqrt(se[0] * se[0] + se[k] * se[k]));
		out->phi = c > 0 ? phi : 0;
		if (c <= 0) {
			out->var = out->lrvar = w;
		} else if (phi >= 1) {
			out->var = w + c * (double)n / 3;
			out->lrvar = w + 0.2 * c * nn;
		} else if (1 / (1 - phi) > max_lag / 2.0) {
			/* no saturation within the lags measured: it may
			 * as well be a walk of the same steps */
			out->var = w + c;
			out->lrvar = w + 0.2 * c * (1 - phi) * nn;
		} else {
			out->var = w + c;
			out->lrvar = w + c * fmin((1 + phi) / (1 - phi),
			                          0.2 * (1 - phi) * nn);
		}
	}
	if (out->phi > 0 && !(rise > NOISE_RISE_SE)) {
		for (i = 0; i < nl; i++)
			white += g[i] / (double)nl;
		out->phi = 0;
		out->var = out->lrvar = white;
	}
	out->var = fmax(out->var, 1e-300);
	out->lrvar = fmax(out->lrvar, out->var);
	out->factor = out->lrvar / out->var;
}

double
trend_mad_sd(double *a, size_t n)
{
	double med;
	size_t i;

	qsort(a, n, sizeof(a[0]), cmp_double);
	med = a[n / 2];
	for (i = 0; i < n; i++)
		a[i] = fabs(a[i] - med);
	qsort(a, n, sizeof(a[0]), cmp_double);
	return 1.4826 * a[n / 2];
}

double
trend_sign_flip_p(const double *d, size_t k)
{
	double sum = 0, sq = 0, flip = 0, tol;
	size_t i, at_least = 0;
	uint32_t code, gray, prev = 0;

	for (i = 0; i < k; i++) {
		sum += d[i];
		sq += d[i] * d[i];
	}
	if (k == 0 || sq == 0)
		return 1;
	if (k > TREND_FLIP_EXACT)
		return trend_norm_sf(sum / sqrt(sq));
	/* every sign pattern once, one sign changed at a time (Gray code) */
	tol = 1e-9 * sqrt(sq);
	for (i = 0; i < k; i++)
		flip += fabs(d[i]);
	for (code = 0; code < (uint32_t)1 << k; code++) {
		uint32_t changed;

		gray = code ^ (code >> 1);
		changed = gray ^ prev;
		if (changed != 0) {
			for (i = 0; !(changed >> i & 1); i++)
				;
			flip += (gray & changed ? -2 : 2) * fabs(d[i]);
		}
		prev = gray;
		at_least += flip >= sum - tol;
	}
	return (double)at_least / (double)((uint32_t)1 << k);
}

/* The MAD sd; the trimmed sd where quantised steps make it 0. */
static double
mad_or_trimmed_sd(double *a, size_t n)
{
	double mad = trend_mad_sd(a, n);

	return mad > 0 ? mad : trimmed_sd(a, n);
}

/*
 * The semivariance of differences d[] (half their variance) and its
 * sampling error from their fourth moment; differences over `lag` steps
 * overlap, so only one in `lag` is independent.
 */
static double
semivariance(const double *d, size_t m, size_t lag, double *se)
{
	double mean = 0, v = 0, q = 0;
	size_t i;

	for (i = 0; i < m; i++)
		mean += d[i] / (double)m;
	for (i = 0; i < m; i++) {
		double e = (d[i] - mean) * (d[i] - mean);

		v += e / (double)(m - 1);
		q += e * e / (double)m;
	}
	*se = sqrt(fmax(q - v * v, 0) * (double)lag / (double)m) / 2;
	return fmax(v / 2, 1e-300);
}

int
trend_noise(const double *v, size_t n, struct trend_noise *out)
{
	double *d, sd;
	size_t i, m = 0;

	memset(out, 0, sizeof(*out));
	out->factor = 1;
	if (n < 5 || (d = malloc(n * sizeof(double))) == NULL) {
		errno = n < 5 ? EINVAL : ENOMEM;
		return -1;
	}
	/* second differences: blind to any slope, touched only next to a
	 * kink or a step, which the MAD ignores */
	for (i = 1; i + 1 < n; i++)
		d[m++] = v[i - 1] - 2 * v[i] + v[i + 1];
	sd = mad_or_trimmed_sd(d, m);
	free(d);
	out->var = out->lrvar = fmax(sd * sd / 6, 1e-300);
	return 0;
}

int
trend_noise_parts(const double *r, size_t n, const size_t *starts,
                  size_t nparts, struct trend_noise *out)
{
	double g[NOISE_LAGS], se[NOISE_LAGS], *d;
	size_t nl = 0, k, p, i;

	memset(out, 0, sizeof(*out));
	out->factor = 1;
	if (n < 3 || (d = malloc(n * sizeof(double))) == NULL) {
		errno = n < 3 ? EINVAL : ENOMEM;
		return -1;
	}
	for (k = 0; k < NOISE_LAGS; k++) {
		size_t lag = noise_lags[k], m = 0;

		if (lag > 1 && 8 * lag > n)
			break;
		for (p = 0; p < nparts; p++) {
			size_t a = starts[p],
			       b = p + 1 < nparts ? starts[p + 1] : n;

			for (i = a; i + lag < b; i++)
				d[m++] = r[i + lag] - r[i];
		}
		if (m < 8)
			break;
		g[nl] = semivariance(d, m, lag, &se[nl]);
		nl++;
	}
	free(d);
	if (nl == 0) {
		errno = EINVAL;
		return -1;
	}
	fit_noise(g, se, nl, n, noise_lags[nl - 1], out);
	return 0;
}

/* ---- lines over ranges, and the partition into them --------------------- */

int
trend_prefix_init(struct trend_prefix *p, const double *t, const double *v,
                  const double *w, size_t n)
{
	double tm = 0, vm = 0, wsum = 0;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->s = calloc(6 * (n + 1), sizeof(double));
	if (p->s == NULL)
		return -1;
	p->n = n;
	for (i = 0; i < n; i++) {
		double wi = w ? w[i] : 1;

		tm += wi * t[i];
		vm += wi * v[i];
		wsum += wi;
	}
	/* centred: the sums of squares keep their precision */
	p->t0 = wsum > 0 ? tm / wsum : 0;
	p->v0 = wsum > 0 ? vm / wsum : 0;
	for (i = 0; i < n; i++) {
		double wi = w ? w[i] : 1, x = t[i] - p->t0, y = v[i] - p->v0;
		double *a = p->s + 6 * i, *b = a + 6;

		b[0] = a[0] + wi;
		b[1] = a[1] + wi * x;
		b[2] = a[2] + wi * x * x;
		b[3] = a[3] + wi * y;
		b[4] = a[4] + wi * x * y;
		b[5] = a[5] + wi * y * y;
	}
	return 0;
}

void
trend_prefix_free(struct trend_prefix *p)
{
	free(p->s);
	p->s = NULL;
}

void
trend_prefix_line(const struct trend_prefix *p, size_t a, size_t b,
                  struct trend_line *out)
{
	const double *x = p->s + 6 * a, *y = p->s + 6 * b;
	double w = y[0] - x[0], st = y[1] - x[1], stt = y[2] - x[2];
	double sv = y[3] - x[3], stv = y[4] - x[4], svv = y[5] - x[5];
	double sxx, sxy, syy;

	memset(out, 0, sizeof(*out));
	if (w <= 0)
		return;
	sxx = stt - st * st / w;
	sxy = stv - st * sv / w;
	syy = svv - sv * sv / w;
	out->w = w;
	out->tmean = st / w + p->t0;
	out->stt = sxx > 0 ? sxx : 0;
	out->slope = sxx > 0 ? sxy / sxx : 0;
	out->mean = sv / w + p->v0;
	out->rss = fmax(sxx > 0 ? syy - out->slope * sxy : syy, 0);
}

/* The squared error of the line through [a, b): the part of
 * trend_prefix_line() the partition needs, inline and without fmax. */
static inline double
range_rss(const double *ps, size_t a, size_t b)
{
	const double *x = ps + 6 * a, *y = ps + 6 * b;
	double w = y[0] - x[0], st = y[1] - x[1], sv = y[3] - x[3];
	double sxx = (y[2] - x[2]) - st * st / w;
	double sxy = (y[4] - x[4]) - st * sv / w;
	double r = (y[5] - x[5]) - sv * sv / w;

	if (sxx > 0)
		r -= sxy * sxy / sxx;
	return r > 0 ? r : 0;
}

size_t
trend_segments(const struct trend_prefix *p, double penalty, size_t min_len,
               size_t *starts, size_t cap)
{
	size_t n = p->n, j, nr = 0, k, count = 0, at;
	double *f = malloc((n + 1) * sizeof(double));
	double *cost = malloc((n + 1) * sizeof(double));
	size_t *last = malloc((n + 1) * sizeof(size_t));
	size_t *cand = malloc((n + 1) * sizeof(size_t));

	if (min_len < 2)
		min_len = 2;
	if (f == NULL || cost == NULL || last == NULL || cand == NULL ||
	    n < min_len || cap == 0) {
		free(f), free(cost), free(last), free(cand);
		if (cap > 0 && n > 0) {
			starts[0] = 0;
			return 1;
		}
		return 0;
	}
	/* optimal partitioning with PELT's pruning (Killick et al. 2012):
	 * f[j] is the least cost of the first j points; each candidate's
	 * cost to j is computed once, for the minimum and the pruning */
	f[0] = -penalty;
	for (j = 1; j <= n; j++) {
		f[j] = INFINITY;
		last[j] = 0;
		if (j >= min_len && (j == min_len || j - min_len >= min_len))
			cand[nr++] = j - min_len;
		for (k = 0; k < nr; k++) {
			cost[k] = f[cand[k]] + range_rss(p->s, cand[k], j);
			if (cost[k] + penalty < f[j]) {
				f[j] = cost[k] + penalty;
				last[j] = cand[k];
			}
		}
		for (k = 0, at = 0; k < nr; k++) /* prune hopeless starts */
			if (cost[k] <= f[j])
				cand[at++] = cand[k];
		nr = at;
	}
	/* back from the end: count, then fill in time order */
	for (j = n; j > 0; j = last[j])
		count++;
	if (count > cap)
		count = cap;
	for (j = n, k = count; j > 0 && k > 0; j = last[j])
		starts[--k] = last[j];
	if (count > 0)
		starts[0] = 0;
	free(f), free(cost), free(last), free(cand);
	return count;
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

size_t
trend_segments_at(const struct trend_prefix *p, double penalty,
                  const size_t *cuts, size_t ncuts, size_t *starts)
{
	double *f = malloc((ncuts + 1) * sizeof(double));
	size_t *last = malloc((ncuts + 1) * sizeof(size_t)), i, j, k, count = 0;
	struct trend_line line;

	if (f == NULL || last == NULL || ncuts == 0) {
		free(f), free(last);
		if (ncuts > 0)
			starts[0] = 0;
		return ncuts > 0;
	}
	/* boundary i is cuts[i] (cuts[0] = 0); ncuts is the end */
	f[0] = -penalty;
	for (j = 1; j <= ncuts; j++) {
		size_t end = j < ncuts ? cuts[j] : p->n;

		f[j] = INFINITY;
		for (i = 0; i < j; i++) {
			double c;

			trend_prefix_line(p, cuts[i], end, &line);
			c = f[i] + line.rss + penalty;
			if (c < f[j]) {
				f[j] = c;
				last[j] = i;
			}
		}
	}
	for (j = ncuts; j > 0; j = last[j])
		count++;
	for (j = ncuts, k = count; j > 0; j = last[j])
		starts[--k] = cuts[last[j]];
	free(f), free(last);
	return count;
}

int
trend_block_init(struct trend_block *b, size_t nslot)
{
	b->nslot = nslot;
	b->n = 0;
	b->sum = calloc(nslot + 1, sizeof(double));
	b->min = calloc(nslot + 1, sizeof(double));
	b->max = calloc(nslot + 1, sizeof(double));
	return b->sum != NULL && b->min != NULL && b->max != NULL ? 0 : -1;
}

void
trend_block_add(struct trend_block *b, const double *v)
{
	size_t s;

	for (s = 0; s < b->nslot; s++) {
		b->sum[s] = b->n ? b->sum[s] + v[s] : v[s];
		b->min[s] = b->n && b->min[s] <= v[s] ? b->min[s] : v[s];
		b->max[s] = b->n && b->max[s] >= v[s] ? b->max[s] : v[s];
	}
	b->n++;
}

void
trend_block_end(struct trend_block *b)
{
	size_t s;

	for (s = 0; s < b->nslot && b->n > 0; s++)
		b->sum[s] /= (double)b->n;
	b->n = 0;
}

void
trend_block_free(struct trend_block *b)
{
	free(b->sum);
	free(b->min);
	free(b->max);
	b->sum = b->min = b->max = NULL;
}
