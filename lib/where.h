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

/* heap-watch's call sites ("cache_put (libfoo.so+0x1139) < main (...)"):
 * the first WHERE_SITES names get a series each. */
#define WHERE_SITES    16
#define WHERE_SITE_MAX 256
struct where_site_series {
	char name[WHERE_SITE_MAX];
	struct leak_series s;
};

struct where_set {
	struct where_series names[WHERE_NAMES];
	size_t n;
	bool full; /* a name came that found no room */
	struct leak_series arenas, threads;
	struct leak_series files;  /* file_kb whole, for charts */
	struct leak_series allocs; /* the process's own, where known */
	struct where_site_series sites[WHERE_SITES];
	size_t nsites;
	bool ready; /* series allocated */
};

/* One heap-watch record's "sites": live KiB by call site. */
struct where_site_reading {
	double ts;
	struct {
		char name[WHERE_SITE_MAX];
		double kb;
	} site[WHERE_SITES];
	size_t n;
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

/* A zeroed struct is an empty set. */
void where_reset(struct where_set *w); /* a new segment: names forgotten */
void where_free(struct where_set *w);
int where_add(struct where_set *w, const struct where_reading *r);
/* The process's own live allocations at ts (KiB), from whatever knows
 * them (tracemalloc, mallinfo2, a driver's debug path); matched to the
 * heap by time, so kept across where_reset. */
int where_add_alloc(struct where_set *w, double ts, double kb);
int where_add_sites(struct where_set *w, const struct where_site_reading *r);
/* A class's series as read (the file class whole), for charts; NULL
 * before the first reading.  All five have one point per reading, so
 * their buckets line up index by index. */
const struct leak_series *where_class(const struct where_set *w,
                                      enum smaps_class c);

/* The growth since since_ts, by name: positive Theil-Sen slopes (KiB/s)
 * and their shares of all of them, largest first. */
struct where_item {
	char name[SMAPS_NAME_MAX];
	double share, slope;
};
int where_attribute(const struct where_set *w, double since_ts,
                    struct where_item *out, size_t cap);
/* ... and by call site: slopes and shares of the sites' growth. */
struct where_site_item {
	char site[WHERE_SITE_MAX];
	double share, slope;
	bool faults_only;      /* grows in fault periods only (--events) */
	double fault_in_slope; /* ... at this rate there (KiB/s) */
};
int where_attribute_sites(const struct where_set *w, double since_ts,
                          struct where_site_item *out, size_t cap);
/* A site in words: its frame as "function (object)", then its callers'
 * functions: "cache_put (libfoo.so) < handle_reply < main". */
void where_site_words(char *buf, size_t cap, const char *site);

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

/*
 * Fragmentation in the heap: since since_ts the brk heap grew (Theil-Sen)
 * while the process's own allocations grew by less than a quarter as
 * fast: memory freed but not given back, the allocator's, not the
 * program's.  Needs 3 allocation readings in the window.
 */
struct where_heap_evidence {
	bool known, fired;
	double heap_slope, alloc_slope; /* KiB/s */
};
int where_heap_vs_alloc(const struct where_set *w, double since_ts,
                        struct where_heap_evidence *e);

/*
 * What the maps say of a verdict: the growth by mapping since the current
 * growth began (or the current regime), and the allocator's evidence.
 * known: the set had readings (judged unless the verdict is
 * insufficient_data).
 */
struct where_findings {
	bool known;
	struct where_item items[WHERE_NAMES];
	int nitems;
	bool by_site;    /* heap-watch's records: sites, not mappings */
	double since_ts; /* the growth judged is since then */
	struct where_site_item sites[WHERE_SITES];
	int nsites;
	struct where_arena_evidence arenas;
	struct where_heap_evidence heap;
};
/*
 * Judge r's growth by the set's readings into f; a leak that the arenas'
 * or the heap's evidence explains becomes fragmentation_suspect (with
 * LEAK_WHY_ARENAS or LEAK_WHY_HEAP_NOT_ALLOC).  0, or -1 (ENOMEM).
 */
int where_judge(const struct where_set *w, struct leak_result *r,
                struct where_findings *f);
/*
 * The sentence of where's reasons (LEAK_WHY_ARENAS,
 * LEAK_WHY_HEAP_NOT_ALLOC) into buf, alloc_field naming the allocations'
 * field; false, buf untouched, for the other reasons (leak_reason()'s).
 */
/*
 * With fault periods (--events): each growing site's growth inside and
 * outside them (lib/leak_faults' split, the site's own noise from its
 * first differences); a site that grows inside at alpha and not outside
 * is faults_only.  0, or -1 (ENOMEM).
 */
int where_site_faults(const struct where_set *w, const struct leak_faults *fa,
                      double alpha, struct where_findings *f);

bool where_reason(char *buf, size_t cap, const struct leak_result *r,
                  const struct where_findings *f, const char *alloc_field);
/* A mapping's name in words: "the brk heap", "the file mapping libx.so". */
void where_words(char *buf, size_t cap, const char *name);

#endif
