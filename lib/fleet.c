#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"

static uint64_t
hash_key(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211u;
	}
	return h;
}

int
fleet_init(struct fleet *f, double sign, const struct leak_rules *rules,
           size_t buckets)
{
	memset(f, 0, sizeof(*f));
	f->sign = sign;
	f->rules = rules;
	f->buckets = buckets;
	f->nslot = 256;
	f->slot = calloc(f->nslot, sizeof(*f->slot));
	return f->slot != NULL ? 0 : -1;
}

static void
group_free(struct fleet_group *g)
{
	leak_stream_free(&g->st);
	free(g);
}

void
fleet_free(struct fleet *f)
{
	struct fleet_group *g, *next;
	size_t i;

	for (i = 0; i < f->nslot && f->slot != NULL; i++)
		for (g = f->slot[i]; g != NULL; g = next) {
			next = g->next;
			group_free(g);
		}
	free(f->slot);
	memset(f, 0, sizeof(*f));
}

/* Twice the slots once there are more groups than slots. */
static void
grow(struct fleet *f)
{
	size_t nslot = f->nslot * 2, i;
	struct fleet_group **slot = calloc(nslot, sizeof(*slot)), *g, *next;

	if (slot == NULL)
		return; /* longer chains, still right */
	for (i = 0; i < f->nslot; i++)
		for (g = f->slot[i]; g != NULL; g = next) {
			size_t h = hash_key(g->key, g->key_len) & (nslot - 1);

			next = g->next;
			g->next = slot[h];
			slot[h] = g;
		}
	free(f->slot);
	f->slot = slot;
	f->nslot = nslot;
}

struct fleet_group *
fleet_get(struct fleet *f, const char *key, size_t len)
{
	size_t h;
	struct fleet_group *g;

	if (len >= FLEET_KEY_MAX)
		len = FLEET_KEY_MAX - 1;
	h = hash_key(key, len) & (f->nslot - 1);
	for (g = f->slot[h]; g != NULL; g = g->next)
		if (g->key_len == len && memcmp(g->key, key, len) == 0)
			return g;
	if (f->max_groups > 0 && f->n >= f->max_groups) {
		errno = E2BIG;
		return NULL;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	if (leak_stream_init_cap(&g->st, f->sign, f->rules, f->buckets) < 0) {
		free(g);
		return NULL;
	}
	memcpy(g->key, key, len);
	g->key_len = len;
	g->next = f->slot[h];
	f->slot[h] = g;
	if (++f->n > f->nslot)
		grow(f);
	return g;
}

void
fleet_drop(struct fleet *f, struct fleet_group *g)
{
	size_t h = hash_key(g->key, g->key_len) & (f->nslot - 1);
	struct fleet_group **p;

	for (p = &f->slot[h]; *p != NULL; p = &(*p)->next)
		if (*p == g) {
			*p = g->next;
			f->n--;
			group_free(g);
			return;
		}
}

struct fleet_group **
fleet_list(const struct fleet *f, size_t *n)
{
	struct fleet_group **all = malloc((f->n + 1) * sizeof(*all)), *g;
	size_t i;

	*n = 0;
	if (all == NULL)
		return NULL;
	for (i = 0; i < f->nslot; i++)
		for (g = f->slot[i]; g != NULL; g = g->next)
			all[(*n)++] = g;
	return all;
}

struct judging {
	struct fleet_group **g;
	size_t n;
	const struct leak_faults *faults;
	atomic_size_t next;
};

static void *
judge_some(void *arg)
{
	struct judging *j = arg;
	size_t i;

	while ((i = atomic_fetch_add(&j->next, 1)) < j->n) {
		struct fleet_group *g = j->g[i];

		leak_series_flush(&g->st.series);
		g->rc = leak_judge(&g->st, j->faults, &g->res);
	}
	return NULL;
}

void
fleet_judge(struct fleet_group **g, size_t n, const struct leak_faults *faults,
            int threads)
{
	struct judging j = {g, n, faults, 0};
	pthread_t t[8];
	int k, started = 0;

	if (threads > 8)
		threads = 8;
	for (k = 1; k < threads && (size_t)k < n; k++)
		if (pthread_create(&t[started], NULL, judge_some, &j) == 0)
			started++;
	judge_some(&j);
	for (k = 0; k < started; k++)
		pthread_join(t[k], NULL);
}

size_t
fleet_group_bytes(size_t buckets)
{
	return sizeof(struct fleet_group) +
	       buckets * sizeof(struct leak_bucket);
}

/* The order of badness: lower is worse. */
static int
badness(const struct fleet_group *g)
{
	static const int rank[] = {
	    [LEAK_OOM] = 0,    [LEAK_LEAK] = 1,        [LEAK_FRAGMENTATION] = 2,
	    [LEAK_STALE] = 3,  [LEAK_SETTLING] = 4,    [LEAK_RECOVERY] = 5,
	    [LEAK_STEADY] = 6, [LEAK_INSUFFICIENT] = 7};

	return g->rc < 0 ? 8 : rank[g->res.verdict];
}

int
fleet_compare(const struct fleet_group *a, const struct fleet_group *b)
{
	int ra = badness(a), rb = badness(b), c;
	double sa = a->res.rate_pct_day, sb = b->res.rate_pct_day;
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;

	if (ra != rb)
		return ra - rb;
	if (sa != sb && sa == sa && sb == sb)
		return sa > sb ? -1 : 1;
	if ((c = memcmp(a->key, b->key, n)) != 0)
		return c;
	return (a->key_len > b->key_len) - (a->key_len < b->key_len);
}
