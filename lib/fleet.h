/*
 * fleet: many series at once, one per group (leak-classify --by): groups
 * found by the values of their fields, each with its own leak_stream of
 * a bounded number of buckets, and judged in parallel.  The struct owns
 * its groups (fleet_drop(), fleet_free()); a group's memory is at most
 * fleet_group_bytes().  Functions return 0 or -1 (out of memory).
 */
#ifndef GXKIT_FLEET_H
#define GXKIT_FLEET_H
#include <stdbool.h>
#include <stddef.h>

#include "leak.h"

#define FLEET_KEY_MAX 256 /* the group's values, joined by FLEET_SEP */
#define FLEET_SEP     '\x1f'
#define FLEET_FIELDS  4   /* --by FIELD,... at most */
#define FLEET_BUCKETS 512 /* of a group's series (LEAK_MAX_BUCKETS alone) */
/* --max-groups' default: a GX's share, 1000 groups of at most
 * fleet_group_bytes(FLEET_BUCKETS), 29 MiB */
#define FLEET_MAX_GROUPS 1000

struct fleet_group {
	struct fleet_group *next; /* in its hash chain */
	char key[FLEET_KEY_MAX];
	size_t key_len;
	struct leak_stream st;
	double last_ts; /* the newest record's */
	uint64_t records;
	uint64_t duplicates; /* stamped as the one before: skipped */
	/* fleet_judge(): */
	struct leak_result res;
	int rc; /* of leak_classify() */
};

struct fleet {
	struct fleet_group **slot;
	size_t nslot, n;
	double sign;
	const struct leak_rules *rules;
	size_t buckets;    /* per group */
	size_t max_groups; /* 0: no bound */
};

int fleet_init(struct fleet *f, double sign, const struct leak_rules *rules,
               size_t buckets);
void fleet_free(struct fleet *f);
/* The group of key, created when new; NULL when out of memory, or
 * (E2BIG) when new and max_groups are there already. */
struct fleet_group *fleet_get(struct fleet *f, const char *key, size_t len);
/* Remove g from the fleet and free it. */
void fleet_drop(struct fleet *f, struct fleet_group *g);
/* The groups in a malloc'd array the caller frees; *n of them. */
struct fleet_group **fleet_list(const struct fleet *f, size_t *n);
/* Classify each of the n groups into its res and rc, on up to threads
 * threads (faults may be NULL). */
void fleet_judge(struct fleet_group **g, size_t n,
                 const struct leak_faults *faults, int threads);
/* What one group may hold, in bytes, with buckets per series. */
size_t fleet_group_bytes(size_t buckets);

/* "worst first": oom, leak, fragmentation_suspect, then the calm ones;
 * a negative, zero or positive number as for qsort. */
int fleet_compare(const struct fleet_group *a, const struct fleet_group *b);

#endif
