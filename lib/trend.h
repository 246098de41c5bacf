/*
 * trend: robust trend statistics over a time series (t, v) in time order.
 * Callers own the arrays; scratch memory is allocated and freed inside each
 * call.  Functions return 0, or -1 with errno (EINVAL: too few points,
 * ENOMEM).  Pass t as seconds from the first sample, not Unix time, so that
 * sums of squares keep their precision.
 */
#ifndef GXKIT_TREND_H
#define GXKIT_TREND_H

#include <stdbool.h>
#include <stddef.h>

/* Theil-Sen is exact (all pairs) up to this many points, sampled above. */
#define TREND_TS_EXACT_MAX 1024
#define TREND_TS_SAMPLES   262144

/* Median and linear-interpolated quantile (q in [0,1]); reorder a. */
double trend_median(double *a, size_t n);
double trend_quantile(double *a, size_t n, double q);

/* Standard normal upper tail P(Z > z) and its inverse. */
double trend_norm_sf(double z);
double trend_norm_isf(double p);

struct trend_ols {
	double slope, intercept, r2, slope_se;
};
int trend_ols(const double *t, const double *v, size_t n,
              struct trend_ols *out);

/*
 * Mann-Kendall: S by merge-sort inversion counting (O(n log n)) and its
 * variance with the tie correction.  var_s is before any autocorrelation
 * correction; z and p (two-sided) use var_s * factor (factor 1: none).
 */
struct trend_mk {
	double s, var_s, factor, z, p;
};
int trend_mann_kendall(const double *v, size_t n, struct trend_mk *out);
/* Recompute z and p of mk with a variance inflation factor. */
void trend_mk_correct(struct trend_mk *mk, double factor);

/*
 * Hamed-Rao (1998) variance correction: ranks of the series detrended by
 * slope, their significant lag autocorrelations (|r_k| > z_crit/sqrt(n))
 * summed into n/n*.  Never below 1, so it only ever widens.
 */
double trend_hamed_rao(const double *t, const double *v, size_t n, double slope,
                       double z_crit);

/*
 * Lag-1 effective sample size correction (Yue and Wang 2004): with r1 the
 * lag-1 autocorrelation of v - slope * t, n/n* = (1 + r1) / (1 - r1),
 * between 1 and n.  Where Hamed-Rao, on ranks of a detrended series, lets
 * a random walk pass for a trend, this does not.
 */
double trend_ar1_factor(const double *t, const double *v, size_t n,
                        double slope);

/*
 * Theil-Sen slope (median of pairwise slopes) and Sen's confidence interval
 * from var_s (the variance of the Mann-Kendall S, corrected or not) at the
 * two-sided normal quantile z_conf.  Exact for n <= TREND_TS_EXACT_MAX;
 * above it, TREND_TS_SAMPLES pairs drawn with a fixed seed (deterministic).
 * Intercept: median of v - slope * t.
 */
struct trend_ts {
	double slope, intercept, lo, hi;
	bool exact;
};
int trend_theil_sen(const double *t, const double *v, size_t n, double var_s,
                    double z_conf, struct trend_ts *out);

/*
 * Per-window extremes over `windows` equal spans of time: the lower
 * envelope (minima, lower true) or the upper one.  et/ev need room for
 * `windows` points; returns how many windows held data.
 */
size_t trend_envelope(const double *t, const double *v, size_t n,
                      size_t windows, bool lower, double *et, double *ev);

/*
 * Change point: the split that best fits two independent lines (least
 * total squared error, each side at least min_seg points).  gain is the
 * share of the one-line error the split removes (0..1).
 */
struct trend_cp {
	bool found;
	size_t index; /* first point of the second part */
	double t, slope_before, slope_after, gain;
};
int trend_changepoint(const double *t, const double *v, size_t n,
                      size_t min_seg, struct trend_cp *out);

/*
 * Streaming statistics in O(1) memory: Welford's mean and variance (no
 * cancellation however long the stream), min and max; and Neumaier's
 * compensated sum.  The caller owns the structs; start them zeroed.
 */
struct trend_running {
	unsigned long long n;
	double mean, m2, min, max;
};
void trend_running_add(struct trend_running *r, double v);
/* Sample standard deviation (n - 1); NaN below two values. */
double trend_running_std(const struct trend_running *r);

struct trend_sum {
	double sum, comp;
};
void trend_sum_add(struct trend_sum *s, double v);
double trend_sum_value(const struct trend_sum *s);

#endif
