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

/* The median absolute deviation scaled to a normal's sd (50% breakdown;
 * n > 0); a is reordered. */
double trend_mad_sd(double *a, size_t n);

/* Standard normal upper tail P(Z > z) and its inverse. */
double trend_norm_sf(double z);
double trend_norm_isf(double p);

/*
 * The one-sided p that k steps d[] sum to as much as they do were their
 * signs a coin's (Fisher's randomisation test of a walk that goes each
 * way alike): exact up to TREND_FLIP_EXACT steps, the normal
 * approximation of sum / sqrt(sum of squares) above; 1 when k is 0.
 */
#define TREND_FLIP_EXACT 16
double trend_sign_flip_p(const double *d, size_t k);

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
 * The noise of a series about its slow trend, fitted as white noise plus
 * an AR(1) or plus a random walk to its semivariogram: var is the
 * marginal variance, lrvar what the slope of a line over all n points
 * sees (the long-run variance, bounded by what a walk of the same short
 * steps gives over n points), factor = lrvar / var.
 *
 * trend_noise() is the estimate to start from, biased low: white noise
 * from the series' lag-one second differences by their median absolute
 * deviation (blind to any slope; the few points next to a kink or a step
 * do not move it).  trend_noise_parts() reads residuals about a piecewise fit,
 * from first differences within each part (starts: the first index of each of
 * nparts parts) at lags up to n/8, by their plain standard deviation.  0, or -1
 * (EINVAL: too few points, ENOMEM).
 */
struct trend_noise {
	double var, lrvar, phi, factor;
};
int trend_noise(const double *v, size_t n, struct trend_noise *out);
int trend_noise_parts(const double *r, size_t n, const size_t *starts,
                      size_t nparts, struct trend_noise *out);

/*
 * Weighted least-squares lines over any range [a, b) of points in O(1),
 * from prefix sums of the centred series (the caller frees them).
 */
struct trend_prefix {
	double *s; /* 6 sums per point */
	double t0, v0;
	size_t n;
};
struct trend_line {
	double slope, mean, tmean; /* the line: mean + slope (t - tmean) */
	double rss, stt, w;        /* squared error, spread of t, weight */
};
int trend_prefix_init(struct trend_prefix *p, const double *t, const double *v,
                      const double *w, size_t n);
void trend_prefix_free(struct trend_prefix *p);
void trend_prefix_line(const struct trend_prefix *p, size_t a, size_t b,
                       struct trend_line *out);

/*
 * The partition into lines (each of at least min_len points) that
 * minimises the total squared error plus penalty per line: optimal
 * partitioning with PELT's pruning.  Writes the first index of each part
 * into starts (at most cap) and returns how many.
 */
size_t trend_segments(const struct trend_prefix *p, double penalty,
                      size_t min_len, size_t *starts, size_t cap);
/* The same, with parts starting only at cuts[] (cuts[0] = 0; ncuts of
 * them): the best merging of a finer partition.  starts needs ncuts. */
size_t trend_segments_at(const struct trend_prefix *p, double penalty,
                         const size_t *cuts, size_t ncuts, size_t *starts);

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

/*
 * Blocks of rows summed up slot by slot (h5-dump --downsample): the sum,
 * minimum and maximum of each slot since the block began.  The struct
 * owns its arrays (trend_block_free()).
 */
struct trend_block {
	double *sum, *min, *max;
	size_t nslot;
	unsigned long long n; /* rows in the block */
};
/* 0, or -1 when out of memory. */
int trend_block_init(struct trend_block *b, size_t nslot);
void trend_block_add(struct trend_block *b, const double *v);
/* The means into b->sum, and the next block begun. */
void trend_block_end(struct trend_block *b);
void trend_block_free(struct trend_block *b);

#endif
