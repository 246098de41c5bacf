/*
 * leak: a memory timeline in bounded memory, split where the process
 * restarts, with the fault periods of an events stream, and the rules that
 * turn it into a verdict (leak-classify(1) documents them).  A struct
 * leak_series owns its bucket array, a struct leak_stream its series, a
 * struct leak_faults its arrays (the *_free functions); leak_classify()
 * allocates only scratch that it frees.  Functions return 0, or -1 with
 * errno (ENOMEM, E2BIG).
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
 * LEAK_MAX_BUCKETS * sizeof(struct leak_bucket) (192 KiB) for any length.
 */
#define LEAK_MAX_BUCKETS  4096
#define LEAK_ENVELOPE_MAX 64
#define LEAK_MAX_REGIMES  32 /* regimes reported; earlier ones merge */

struct leak_bucket {
	double t;          /* mean time, seconds from the segment's start */
	double v;          /* mean value (sign-adjusted: up is bad) */
	double vmin, vmax; /* extremes within the bucket */
	double aux_min;    /* min of the auxiliary (anon) series, or NAN */
	double n;          /* samples */
};

struct leak_series {
	struct leak_bucket *b;
	size_t n, cap;
	double window_s;     /* > 0: only the last so many seconds are kept
	                      * (--last); older buckets are dropped */
	uint64_t per_bucket; /* samples per full bucket */
	struct leak_bucket pending;
	double t0;         /* Unix time of the first sample */
	double last_ts;    /* Unix time of the last sample */
	double last_value; /* sign-adjusted */
	uint64_t samples;
	double sign;      /* +1: rising is bad; -1: falling is bad */
	double first_age; /* the process's age at the first sample, or NAN */
};

/* With room for cap buckets (even; LEAK_MAX_BUCKETS for one series). */
int leak_series_init_cap(struct leak_series *s, double sign, size_t cap);
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
	LEAK_OOM,
	LEAK_STALE /* the last sample older than --max-age */
};
#define LEAK_VERDICTS (LEAK_STALE + 1)

const char *leak_verdict_name(enum leak_verdict v);
/* How bad a verdict is, for one exit status over several (--by): the
 * limit near 4, a leak or fragmentation 3, stale 2, too little data 1,
 * the others 0. */
int leak_verdict_severity(enum leak_verdict v);
/* 0 no leak, 3 insufficient data, 4 leak or fragmentation, 5 OOM soon,
 * 6 stale. */
int leak_verdict_exit(enum leak_verdict v);

/* The rules' thresholds; leak_rules_default() fills the documented ones. */
struct leak_rules {
	uint64_t min_samples;
	double alpha;    /* one-sided significance of every test */
	double min_rate; /* %/day of the level below which growth is noise */
	double min_rate_abs;   /* per second, sign-adjusted: the same in field
	                        * units, or NAN (--min-rate 50B/min) */
	double last_s;         /* judge only the last so many seconds; 0: all */
	double settle_ratio;   /* last / first slope of a slowing rise */
	double envelope_share; /* floor rise / trend rise for fragmentation */
	double step_share;     /* share of the rise in the largest steps */
	size_t windows;        /* windows of the envelopes */
	double limit;          /* sign-adjusted limit, NAN for none */
	double horizon_s;
	double penalty;  /* regimes: BIC multiples per extra line */
	double material; /* an episode's least rise, in noise sds */
	double warmup_s; /* seconds from the process start not judged;
	                  * < 0: automatic (leak-classify(1)) */
};
void leak_rules_default(struct leak_rules *r);

/* Fault periods ([start, end) Unix times, sorted, disjoint; a period
 * still open when the events ended lasts to the end, INFINITY). */
struct leak_faults {
	double *start, *end;
	size_t n, cap;
	double edge_s;   /* the events' sampling interval, or --edge */
	bool edge_given; /* --edge: edge_s as it is */
	bool marked;     /* periods between markers, not faults */
};
void leak_faults_free(struct leak_faults *f);

/*
 * Fault periods from an events stream (gw-read records): a period is a
 * fault while any unit is failing ("ok": false, or an "offline" event)
 * until every unit is back.  Feed records in time order.
 */
#define LEAK_FAULT_UNITS 256
struct leak_fault_reader {
	struct leak_faults *f;
	char units[LEAK_FAULT_UNITS][32];
	bool down[LEAK_FAULT_UNITS];
	size_t nunits, ndown;
	double open_since, last_ts;
};
void leak_fault_reader_init(struct leak_fault_reader *fr,
                            struct leak_faults *f);
/* state: 1 good (ok true, "online"), 0 bad (ok false, "offline"), -1
 * neither (ignored). */
int leak_fault_record(struct leak_fault_reader *fr, double ts, const char *unit,
                      int state);
/* The end of the events: a fault still open lasts to the end of the
 * series judged (its end INFINITY). */
int leak_fault_reader_end(struct leak_fault_reader *fr);

/*
 * The growth of the points (t in s from t0, Unix; y sign-adjusted) inside
 * and outside the fault periods into out's fault_* (leak_classify()'s,
 * lib/leak_faults.c), var the noise variance of its model.
 */
struct leak_result;
void leak_fault_split(const double *t, const double *y, size_t n, double t0,
                      const struct leak_faults *f, double var,
                      struct leak_result *out);

/*
 * What leak_classify() found.  Slopes are per second in the field's own
 * units.  A regime is one line of the piecewise fit; an episode is a run
 * of growth (rising regimes and the steps up between them).
 */
enum leak_kind { LEAK_FLAT, LEAK_RISE, LEAK_FALL };
struct leak_regime {
	double start_ts, end_ts, slope, p; /* p of the slope's direction */
	double level_start, level_end;     /* the line at its ends */
	double jump;                       /* step from the regime before */
	bool jump_significant;
	enum leak_kind kind;
	size_t points;
};

enum leak_reason {
	LEAK_WHY_TOO_FEW,
	LEAK_WHY_STEADY,         /* no significant growth */
	LEAK_WHY_BELOW_RATE,     /* growth below --min-rate */
	LEAK_WHY_WITHIN_NOISE,   /* significant, but not above the noise */
	LEAK_WHY_TOO_RECENT,     /* growth over the last few points only */
	LEAK_WHY_CAME_BACK,      /* rose and came back down */
	LEAK_WHY_SETTLED,        /* grew once, flat since */
	LEAK_WHY_SLOWING,        /* growth slows toward zero */
	LEAK_WHY_FALLING,        /* recovery */
	LEAK_WHY_GROWS,          /* the current regime grows */
	LEAK_WHY_EPISODES,       /* grows in episodes, never down */
	LEAK_WHY_FLOOR,          /* the floor under a sawtooth rises */
	LEAK_WHY_FAULTS,         /* grows only during faults */
	LEAK_WHY_STEPS,          /* peaks climb in steps, floor flat */
	LEAK_WHY_LIMIT_NOW,      /* the limit is reached */
	LEAK_WHY_LIMIT_SOON,     /* the trend reaches it within the horizon */
	LEAK_WHY_ARENAS,         /* arena heaps multiply, each flat (where.h) */
	LEAK_WHY_HEAP_NOT_ALLOC, /* the heap grows, the allocations do not */
	LEAK_WHY_RECURS,         /* leaked in each recent life: still does */
	LEAK_WHY_STOPPED,        /* leaked in earlier lives, not the recent */
	LEAK_WHY_LIVES_CALM,     /* no leak in the recent lives */
	LEAK_WHY_RAMPS,          /* each life starts with a rise that holds */
	LEAK_WHY_BURSTS,         /* each burst leaves the floor higher */
	LEAK_WHY_EPISODES_STOPPED, /* episodes that stopped coming */
	LEAK_WHY_EPISODES_THIN,    /* episodes that come ever less */
	LEAK_WHY_STEPS_WANDER,     /* steps both ways, as a walk's */
	LEAK_WHY_STALE             /* the last sample is too old */
};

/* How a life ended (struct leak_stream below). */
enum leak_end {
	LEAK_END_PROCESS, /* another process (pid and start) */
	LEAK_END_RESTART, /* a "restart" or "exit" event */
	LEAK_END_LIMIT,   /* the same, after a watchdog's "limit" event */
	LEAK_END_UPTIME,  /* an uptime field started again: a reboot */
	LEAK_END_EVENT    /* the field jumped back at a --restart-event */
};

struct leak_result {
	enum leak_verdict verdict;
	enum leak_reason why;
	size_t points;
	uint64_t samples;
	double first_ts, last_ts, span_s;
	double warmup_s;              /* seconds at the start left out */
	double level, last, fit_last; /* raw units (sign undone) */
	/* the whole judged series, for reference */
	struct trend_ts ts; /* slopes per second, raw units */
	struct trend_ols ols;
	struct trend_mk mk;
	double rate_pct_day; /* of the slope the verdict rests on */
	/* the noise model the tests use */
	double noise_sd, noise_phi, noise_factor;
	/* regimes and what they add up to */
	struct leak_regime regime[LEAK_MAX_REGIMES];
	size_t nregimes;
	double slope, slope_lo, slope_hi, slope_p; /* the verdict's slope */
	double onset_ts;   /* start of the latest growth, NAN if none */
	size_t now_points; /* points of the current growth, 0 if none */
	double flat_since; /* start of the flat current regime, or NAN */
	size_t episodes;   /* runs of growth */
	size_t bursts;     /* that rose and fell back (leak_bursts()) */
	double burst_kept; /* what each kept, on average */
	double floor_from, floor_to; /* the floors before and after them */
	double material;             /* the least rise that makes one */
	double rise, fall; /* total growth and fall of the significant parts */
	double growing_s;  /* time spent in rising regimes */
	double episode_gap_s;           /* their mean spacing, onset to onset */
	double third_first, third_last; /* the rise of the first and the last
	                                 * third of the time (sign-adjusted) */
	/* a series that moves in steps (most samples as the one before) */
	size_t steps;     /* its steps, 0 when it is not one */
	double steps_net; /* what they add up to (sign-adjusted) */
	double steps_p;   /* trend_sign_flip_p() of them */
	double age_s;     /* of the last sample, by the wall clock (STALE) */
	double max_age_s; /* --max-age (STALE) */
	/* a sawtooth's floor (GC), when the series has one */
	bool sawtooth;
	double tooth_s;
	/* fragmentation evidence */
	double envelope_slope, envelope_share;
	bool envelope_from_aux;
	double step_share;
	bool steps_monotone;
	double time_to_limit_s; /* NAN when no limit or never */
	/* growth inside and outside fault periods */
	bool have_faults;
	double fault_in_slope, fault_out_slope, fault_s; /* per second */
	double fault_in_p, fault_out_p;
	size_t fault_periods;
	double fault_edge_s; /* samples this near an edge left out */
	bool fault_marked;   /* the periods are --fault-event markers' */
	/* lower envelope, for charts */
	size_t env_n;
	double env_t[LEAK_ENVELOPE_MAX], env_v[LEAK_ENVELOPE_MAX];
	bool life_judged; /* the current life had the data for a verdict */
	/* the lives before the current one (leak_judge()) */
	size_t lives;         /* judged lives among the recent ones */
	size_t lives_leaking; /* of them, the newest that leaked in a row */
	size_t lives_leaked;  /* of them, those that leaked */
	size_t lives_calm;    /* the newest that did not, this one with them */
	double lives_slope;   /* the leaking ones' median slope (per s) */
	double life_every_s;  /* median time from one life's start to the
	                       * next's */
	double life_s;        /* the current life's age so far */
	double ramp_s;        /* the rise each life starts with (RAMPS) */
	int lives_end;        /* enum leak_end of the newest life before */
};

int leak_classify(const struct leak_series *s, const struct leak_rules *r,
                  const struct leak_faults *faults, struct leak_result *out);
/* --max-age: a verdict whose last sample is older than max_age_s at now
 * (Unix times) becomes LEAK_STALE, its statistics kept; stamps that are
 * not dates (under 1e9: seconds since a start) are left as they are.
 * Whether it did. */
bool leak_stale(struct leak_result *r, double now, double max_age_s);

/*
 * Bursts read off n regimes (sign-adjusted, as leak_classify() fits them;
 * lib/leak_bursts.c): the floors between them, and whether every burst
 * kept more than material above the floor before it.  Returns the bursts.
 */
#define LEAK_BURSTS_KEEP 3 /* bursts that each kept memory: a leak */
struct leak_burst_story {
	size_t bursts;
	bool keeps;  /* every one kept more than material */
	double kept; /* what they kept in all */
	double floor_from, floor_to;
	double first_ts, last_ts; /* the first floor's end, the last's start */
	double end_ts;            /* of the series read */
};
/* Bursts that stopped coming: the last floor longer than ln(1/alpha)
 * times their mean spacing (as episodes, leak_classify()). */
bool leak_bursts_stopped(const struct leak_burst_story *b, double alpha);
size_t leak_bursts(const struct leak_regime *rg, size_t n, double material,
                   struct leak_burst_story *out);
/* The same of bursts too short to be regimes, off the points (t, y)
 * (sign-adjusted): jumps up and down over the step-to-step noise, whose
 * own scale (robust, the bursts left out) is the measure: the regimes'
 * noise model takes short bursts for noise. */
size_t leak_bursts_of(const double *t, const double *y, size_t n,
                      struct leak_burst_story *out);

/*
 * The verdict's reason in one sentence, with the numbers it rests on in
 * field's units (lib/leak_words.c): the report and the JSON's "reason"
 * say the same.  sign is the series' (+1: rising is the problem).  The
 * reasons that rest on where's evidence (LEAK_WHY_ARENAS,
 * LEAK_WHY_HEAP_NOT_ALLOC) are where_reason()'s: here they are "".
 */
void leak_reason(char *buf, size_t cap, const struct leak_result *r,
                 const char *field, double sign,
                 const struct leak_rules *rules);
/* "rise", "fall", "flat". */
const char *leak_kind_name(enum leak_kind k);
/* How a life ended: "process", "restart", "limit", "uptime", "event";
 * and as a verb: "restarted", "restarted at its limit", "rebooted", ... */
const char *leak_end_name(enum leak_end end);
const char *leak_end_words(enum leak_end end);

/* A slope (per s) as %/day of level. */
double leak_rate_pct_day(double slope, double level);

/* Is a field one where falling means trouble (free_*, avail*, ...)?  A
 * dotted path is named by its last key. */
bool leak_field_falls(const char *field);

/*
 * The stream of records of one field, in lives (lib/leak_lives.c): a life
 * ends where the process changes (pid and start), at a "restart" or "exit"
 * event, where an uptime-like field starts again (a reboot), or where the
 * field jumps back after a named event (--restart-event).  Each life is
 * judged as it closes and the last LEAK_KEEP_SEGMENTS are kept for the
 * verdict and the report.  A process coming back after another is
 * "interleaved": records of several processes mixed up, which the caller
 * reports.
 */
#define LEAK_KEEP_SEGMENTS 32
#define LEAK_RECENT_LIVES  4 /* the lives a verdict looks back on */
#define LEAK_RECUR_LIVES   2 /* leaking in a row: a leak that recurs */

struct leak_segment {
	double first_ts, last_ts, pid, start, slope;
	uint64_t samples;
	bool has_id;
	enum leak_verdict verdict;
	enum leak_reason why;
	enum leak_end end;
	double level;  /* median, raw units */
	double ramp_s; /* it rose after its start for so long, then held */
};
struct leak_sample {
	double ts, value, aux; /* aux NAN when absent */
	bool has_id;           /* pid and start */
	double pid, start;
	double age_s;  /* the process's age, or NAN */
	double uptime; /* an uptime-like field, or NAN: lower is a reboot */
	bool restart;  /* a "restart" event: the life ends */
	bool exited;   /* an "exit" event: the life ends if another follows */
	bool limit;    /* a watchdog's "limit" event: its restart follows */
	bool jump;     /* a --restart-event: the life ends if the field jumps
	                * back at the next sample */
};
struct leak_stream {
	struct leak_series series; /* the current life */
	const struct leak_rules *rules;
	struct leak_segment cur;
	struct leak_segment done[LEAK_KEEP_SEGMENTS];
	size_t ndone, total_segments;
	uint64_t out_of_order;
	bool interleaved;
	double interleaved_pid;
	double last_uptime;              /* NAN until one is seen */
	bool limit_seen, jumped, exited; /* events awaiting the next sample */
};
int leak_stream_init(struct leak_stream *st, double sign,
                     const struct leak_rules *rules);
/* With room for cap buckets instead of LEAK_MAX_BUCKETS. */
int leak_stream_init_cap(struct leak_stream *st, double sign,
                         const struct leak_rules *rules, size_t cap);
void leak_stream_free(struct leak_stream *st);
void leak_stream_add(struct leak_stream *st, const struct leak_sample *x);
/*
 * The verdict of a stream (its series flushed): the current life's, read
 * with the recent lives before it.  A leak that recurs in each of them
 * (LEAK_RECUR_LIVES in a row) is a leak minutes into a new life, unless
 * the life so far already grows slower than half their rate; lives that
 * each start with a rise that holds explain a young life's rise; a young
 * life after calm lives is steady.  Time to the limit counts from the
 * current life.  0, or -1 (ENOMEM).
 */
int leak_judge(const struct leak_stream *st, const struct leak_faults *faults,
               struct leak_result *out);

#endif
