/*
 * The parts of leak_classify() (lib/leak.c) that live in files of their
 * own, for lib/leak*.c only: the regime fit (leak_regimes.c), the story
 * of episodes it tells (leak_episodes.c) and the envelopes, sawtooth
 * and fragmentation (leak_envelope.c).  The caller owns every array and
 * struct passed.  What allocates frees its scratch before it returns:
 * leak_fit_regimes() says a failure (-1), leak_sawtooth_troughs() and
 * leak_step_walk() go without (no sawtooth; no step walk).  Included
 * after leak.h and trend.h, whose types it uses: it includes neither, so
 * that leak.c and it make no circle.
 */
#ifndef GXKIT_LEAK_IMPL_H
#define GXKIT_LEAK_IMPL_H

#define MAX_SEGMENTS 512 /* lines of the regime fit */

/* The series as arrays; one allocation, freed by the caller. */
struct arrays {
	double *t, *y, *ymin, *ymax, *aux;
	size_t n;
};

/* The lines of the regimes, with the noise the tests assume. */
/* Growth over fewer points is too recent to tell from the noise. */
#define LEAK_RECENT_POINTS 10

struct regimes {
	size_t start[MAX_SEGMENTS], n;
	struct trend_line line[MAX_SEGMENTS];
	double se[MAX_SEGMENTS]; /* of each slope */
	double s2[MAX_SEGMENTS]; /* noise variance used for it */
	double var, factor;
	size_t total; /* points */
};

/* What the regimes add up to. */
struct story {
	size_t episodes;
	double rise, fall, growing_s, onset_ts, ended_ts;
	double first_onset_ts;          /* of the first episode that counted */
	double third_first, third_last; /* the rise in the first and the
	                                 * last third of the time */
	bool growing_now, falling_now, slowing;
	double now_slope, now_se;
	size_t now_points; /* of the current episode */
	double material;   /* the least rise an episode needs */
	struct leak_burst_story bursts;
	size_t steps; /* of a series that moves in steps, else 0 */
	double steps_net, steps_p;
};

/* ---- the envelopes (leak_envelope.c) ---------------------------------- */

size_t leak_sawtooth_troughs(const struct arrays *a, double *ft, double *fy);
size_t leak_floor_series(const struct arrays *a, double tooth, double *ft,
                         double *fy);
bool leak_fragmentation(const struct arrays *a, const struct leak_rules *r,
                        struct leak_result *out);

/* ---- the regime fit (leak_regimes.c) ---------------------------------- */

void leak_line_fit(const double *t, const double *y, size_t a, size_t b,
                   struct trend_line *l);
int leak_fit_regimes(const double *t, const double *y, size_t n,
                     const struct leak_rules *r, struct regimes *g);
void leak_describe_regime(const struct regimes *g, size_t i, const double *t,
                          const double *y, double t0, double zc,
                          struct leak_regime *o);
void leak_material_steps(struct leak_regime *rg, size_t n);

/* ---- the episodes (leak_episodes.c) ----------------------------------- */

size_t leak_rising_lines(const struct leak_regime *rg, size_t n);
bool leak_slowing(const double *t, const double *y, size_t n, double from,
                  double settle_ratio, bool monotone);
void leak_tell(const struct leak_regime *rg, size_t n, const double *se,
               double zc, double settle_ratio, double material,
               struct story *st);
void leak_step_walk(const double *y, size_t n, struct story *st);
void leak_thirds(const struct leak_regime *rg, size_t n, struct story *st);
bool leak_thinning(const struct story *st, double settle_ratio);

#endif
