/*
 * leak: the bounded store of a memory timeline and the rules that turn it
 * into a verdict (leak-classify(1) documents them).  A struct leak_series
 * owns its bucket array (leak_series_free); leak_classify() allocates only
 * scratch that it frees, and returns -1 with errno ENOMEM on failure.
 */
#ifndef GXKIT_LEAK_H
#define GXKIT_LEAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trend.h"

/*
 * At most LEAK_MAX_BUCKETS buckets per segment: when full, neighbours merge
 * and each bucket holds twice as many samples, so memory stays at
 * LEAK_MAX_BUCKETS * sizeof(struct leak_bucket) (256 KiB) for any length.
 */
#define LEAK_MAX_BUCKETS  4096
#define LEAK_ENVELOPE_MAX 64

struct leak_bucket {
	double t;          /* mean time, seconds from the segment's start */
	double v;          /* mean value (sign-adjusted: up is bad) */
	double vmin, vmax; /* extremes within the bucket */
	double aux_min;    /* min of the auxiliary (anon) series, or NAN */
	double n;          /* samples */
};

struct leak_series {
	struct leak_bucket *b;
	size_t n;
	uint64_t per_bucket; /* samples per full bucket */
	struct leak_bucket pending;
	double t0;         /* Unix time of the first sample */
	double last_ts;    /* Unix time of the last sample */
	double last_value; /* sign-adjusted */
	uint64_t samples;
	double sign; /* +1: rising is bad; -1: falling is bad */
};

int leak_series_init(struct leak_series *s, double sign);
void leak_series_reset(struct leak_series *s);
void leak_series_free(struct leak_series *s);
/* Add a sample (Unix time, raw value, raw auxiliary value or NAN). */
void leak_series_add(struct leak_series *s, double ts, double v, double aux);
/* Move the pending bucket into the array (before classifying). */
void leak_series_flush(struct leak_series *s);

enum leak_verdict {
	LEAK_INSUFFICIENT,
	LEAK_STEADY,
	LEAK_SETTLING,
	LEAK_RECOVERY,
	LEAK_LEAK,
	LEAK_FRAGMENTATION,
	LEAK_OOM
};

const char *leak_verdict_name(enum leak_verdict v);
/* 0 no leak, 3 insufficient data, 4 leak or fragmentation, 5 OOM soon. */
int leak_verdict_exit(enum leak_verdict v);

/* The rules' thresholds; leak_rules_default() fills the documented ones. */
struct leak_rules {
	uint64_t min_samples;
	double alpha;    /* Mann-Kendall significance level */
	double min_rate; /* %/day of the level below which growth is noise */
	double settle_ratio;   /* tail slope / head slope for a plateau */
	double envelope_share; /* envelope rise / trend rise for a leak */
	double step_share;     /* share of the rise in the largest steps */
	size_t windows;        /* windows of the envelopes */
	double limit;          /* sign-adjusted limit, NAN for none */
	double horizon_s;
};
void leak_rules_default(struct leak_rules *r);

/* Fault periods ([start, end) Unix times, sorted, disjoint). */
struct leak_faults {
	double *start, *end;
	size_t n;
};

struct leak_result {
	enum leak_verdict verdict;
	const char *why; /* one sentence, static */
	size_t points;
	uint64_t samples;
	double first_ts, last_ts, span_s;
	double level, last, fit_last; /* raw units (sign undone) */
	struct trend_ts ts;           /* slopes per second, raw units */
	struct trend_ols ols;
	struct trend_mk mk;
	double rate_pct_day;
	double envelope_slope, envelope_share;
	bool envelope_from_aux;
	double step_share;
	bool steps_monotone;
	double head_slope, tail_slope, tail_p;
	struct trend_cp cp;
	bool growth_started;
	double time_to_limit_s; /* NAN when no limit or never */
	bool have_faults;
	double fault_in_slope, fault_out_slope, fault_s; /* per second */
	size_t fault_periods;
	/* lower envelope, for charts */
	size_t env_n;
	double env_t[LEAK_ENVELOPE_MAX], env_v[LEAK_ENVELOPE_MAX];
};

int leak_classify(const struct leak_series *s, const struct leak_rules *r,
                  const struct leak_faults *faults, struct leak_result *out);

/* Is a field one where falling means trouble (free_*, avail*, ...)? */
bool leak_field_falls(const char *field);

#endif
