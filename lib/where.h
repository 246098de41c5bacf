/*
 * where: a process's growth attributed to its mappings, from the "maps"
 * objects of rss-watch --maps records: a bounded series per name
 * ("[heap]", "[anon]", "[stack]", "[shmem]", a file's basename, "[file]"
 * for files outside the top lists), the arena heaps and the thread count,
 * and what they say about the current regime.  A struct where_set owns
 * its series (where_free); where_attribute() allocates only scratch it
 * frees.  Functions return 0 or a count, or -1 with errno (ENOMEM).
 */
#ifndef GXKIT_WHERE_H
#define GXKIT_WHERE_H

#include <stdbool.h>
#include <stddef.h>

#include "leak.h"
#include "smaps.h"

#define WHERE_NAMES   16  /* names followed; later new names are not */
#define WHERE_BUCKETS 512 /* per name: 12 KiB, a year of minutely reads */

struct where_series {
	char name[SMAPS_NAME_MAX];
	struct leak_series s;
};

struct where_set {
	struct where_series names[WHERE_NAMES];
	size_t n;
	bool full; /* a name came that found no room */
	struct leak_series arenas, threads;
	bool ready; /* series allocated */
};

/* One "maps" reading: classes and top list from the same record. */
struct where_reading {
	double ts;
	double class_kb[SMAPS_NCLASS];
	double arenas, threads; /* NAN when absent */
	struct {
		char name[SMAPS_NAME_MAX];
		double kb;
	} top[SMAPS_TOP];
	size_t ntop;
};

void where_init(struct where_set *w);
void where_reset(struct where_set *w); /* a new segment: names forgotten */
void where_free(struct where_set *w);
int where_add(struct where_set *w, const struct where_reading *r);

/* The growth since since_ts, by name: positive Theil-Sen slopes (KiB/s)
 * and their shares of all of them, largest first. */
struct where_item {
	char name[SMAPS_NAME_MAX];
	double share, slope;
};
int where_attribute(const struct where_set *w, double since_ts,
                    struct where_item *out, size_t cap);

/*
 * Fragmentation by arenas (the MALLOC_ARENA_MAX case): since since_ts the
 * arena heaps multiplied (at least 2 more, at least half as many again)
 * as the threads grew, while anonymous memory per arena stayed within
 * 25 %: the growth is new arenas, each as large as the last, not more
 * memory in use.  Medians of the first and last quarter of the readings
 * are compared, so a single odd reading does not decide.
 */
struct where_arena_evidence {
	bool fired;
	double arenas_from, arenas_to, threads_from, threads_to;
	double per_arena_from_kb, per_arena_to_kb;
};
int where_arenas(const struct where_set *w, double since_ts,
                 struct where_arena_evidence *e);

#endif
