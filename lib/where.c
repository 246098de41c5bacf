#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "human.h"
#include "trend.h"
#include "where.h"

/* The class series' names: the mappings' own, as smaps tallies them. */
static const char *const class_series[SMAPS_NCLASS] = {
    [SMAPS_HEAP] = "[heap]",
    [SMAPS_ANON] = "[anon]",
    [SMAPS_STACK] = "[stack]",
    [SMAPS_SHMEM] = "[shmem]",
    [SMAPS_FILE] = "[file]"};

void
where_reset(struct where_set *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		leak_series_reset(&w->names[i].s);
	for (i = 0; i < w->nsites; i++)
		leak_series_reset(&w->sites[i].s);
	w->n = w->nsites = 0;
	w->full = false;
	if (w->ready) {
		leak_series_reset(&w->arenas);
		leak_series_reset(&w->threads);
		leak_series_reset(&w->files);
	}
}

void
where_free(struct where_set *w)
{
	size_t i;

	for (i = 0; i < WHERE_NAMES; i++)
		leak_series_free(&w->names[i].s);
	for (i = 0; i < WHERE_SITES; i++)
		leak_series_free(&w->sites[i].s);
	leak_series_free(&w->arenas);
	leak_series_free(&w->threads);
	leak_series_free(&w->files);
	leak_series_free(&w->allocs);
	memset(w, 0, sizeof(*w));
}

/* Series are made once, at the first reading: no maps, no memory. */
static int
make_ready(struct where_set *w)
{
	size_t i;

	if (w->ready)
		return 0;
	for (i = 0; i < WHERE_NAMES; i++)
		if (leak_series_init_cap(&w->names[i].s, 1, WHERE_BUCKETS) < 0)
			return -1;
	for (i = 0; i < WHERE_SITES; i++)
		if (leak_series_init_cap(&w->sites[i].s, 1, WHERE_BUCKETS) < 0)
			return -1;
	if (leak_series_init_cap(&w->arenas, 1, WHERE_BUCKETS) < 0 ||
	    leak_series_init_cap(&w->threads, 1, WHERE_BUCKETS) < 0 ||
	    leak_series_init_cap(&w->files, 1, WHERE_BUCKETS) < 0 ||
	    leak_series_init_cap(&w->allocs, 1, WHERE_BUCKETS) < 0)
		return -1;
	w->ready = true;
	return 0;
}

static struct leak_series *
series_of(struct where_set *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (strcmp(w->names[i].name, name) == 0)
			return &w->names[i].s;
	if (w->n == WHERE_NAMES) {
		w->full = true;
		return NULL;
	}
	snprintf(w->names[w->n].name, SMAPS_NAME_MAX, "%s", name);
	return &w->names[w->n++].s;
}

static void
add_point(struct where_set *w, const char *name, double ts, double kb)
{
	struct leak_series *s = series_of(w, name);

	if (s != NULL && isfinite(kb))
		leak_series_add(s, ts, kb, NAN);
}

int
where_add(struct where_set *w, const struct where_reading *r)
{
	double files = 0;
	size_t i;
	int c;

	if (make_ready(w) < 0)
		return -1;
	/* files by name where the top list names them, the rest as one;
	 * the classes first, so that they always find room */
	for (i = 0; i < r->ntop; i++)
		if (r->top[i].name[0] != '[')
			files += r->top[i].kb;
	for (c = 0; c < SMAPS_NCLASS; c++)
		add_point(w, class_series[c], r->ts,
		          c == SMAPS_FILE ? r->class_kb[c] - files
		                          : r->class_kb[c]);
	for (i = 0; i < r->ntop; i++)
		if (r->top[i].name[0] != '[')
			add_point(w, r->top[i].name, r->ts, r->top[i].kb);
	leak_series_add(&w->files, r->ts, r->class_kb[SMAPS_FILE], NAN);
	if (isfinite(r->arenas))
		leak_series_add(&w->arenas, r->ts, r->arenas, NAN);
	if (isfinite(r->threads))
		leak_series_add(&w->threads, r->ts, r->threads, NAN);
	return 0;
}

int
where_add_sites(struct where_set *w, const struct where_site_reading *r)
{
	size_t i, k;

	if (make_ready(w) < 0)
		return -1;
	for (i = 0; i < r->n; i++) {
		for (k = 0; k < w->nsites; k++)
			if (strcmp(w->sites[k].name, r->site[i].name) == 0)
				break;
		if (k == w->nsites) {
			if (k == WHERE_SITES) {
				w->full = true;
				continue;
			}
			snprintf(w->sites[k].name, WHERE_SITE_MAX, "%s",
			         r->site[i].name);
			w->nsites++;
		}
		if (isfinite(r->site[i].kb))
			leak_series_add(&w->sites[k].s, r->ts, r->site[i].kb,
			                NAN);
	}
	return 0;
}

int
where_add_alloc(struct where_set *w, double ts, double kb)
{
	if (make_ready(w) < 0)
		return -1;
	if (isfinite(ts) && isfinite(kb) &&
	    (w->allocs.samples == 0 || ts >= w->allocs.last_ts))
		leak_series_add(&w->allocs, ts, kb, NAN);
	return 0;
}

const struct leak_series *
where_class(const struct where_set *w, enum smaps_class c)
{
	size_t i;

	if (!w->ready)
		return NULL;
	if (c == SMAPS_FILE)
		return &w->files;
	for (i = 0; i < w->n; i++)
		if (strcmp(w->names[i].name, class_series[c]) == 0)
			return &w->names[i].s;
	return NULL;
}

/* The buckets of one series at or after a time, on the caller's stack:
 * a series never holds more than WHERE_BUCKETS and its pending one. */
struct window {
	double t[WHERE_BUCKETS + 1], v[WHERE_BUCKETS + 1];
	size_t n;
};

/* The buckets of s at or after since_ts: times from since_ts, values. */
static void
window(const struct leak_series *s, double since_ts, struct window *w)
{
	size_t i, n = 0;

	for (i = 0; i < s->n + (s->pending.n > 0); i++) {
		struct leak_bucket b = i < s->n ? s->b[i] : s->pending;

		if (i == s->n) { /* pending holds sums */
			b.t /= b.n;
			b.v /= b.n;
		}
		if (s->t0 + b.t < since_ts)
			continue;
		w->t[n] = s->t0 + b.t - since_ts;
		w->v[n++] = b.v;
	}
	w->n = n;
}

/* The Theil-Sen slope of s since since_ts into *slope, NAN with fewer
 * than 3 points; -1 when the statistics ran out of memory. */
static int
slope_since(const struct leak_series *s, double since_ts, double *slope)
{
	struct window w;
	struct trend_ts ts;

	window(s, since_ts, &w);
	*slope = NAN;
	if (w.n < 3 || !(w.t[w.n - 1] > w.t[0]))
		return 0;
	if (trend_theil_sen(w.t, w.v, w.n, 0, 0, &ts) < 0)
		return errno == ENOMEM ? -1 : 0;
	*slope = ts.slope;
	return 0;
}

/* A series that grows since since_ts: its index, slope and share. */
struct growth {
	size_t index;
	double slope, share;
};

static int
by_growth_share(const void *a, const void *b)
{
	const struct growth *x = a, *y = b;

	return (x->share < y->share) - (x->share > y->share);
}

/* The series of n, each stride bytes after the one before, that grow
 * since since_ts (positive Theil-Sen slopes), largest share first: their
 * count, or -1 (ENOMEM). */
static int
growing(const struct leak_series *first, size_t stride, size_t n,
        double since_ts, struct growth *g)
{
	double total = 0, slope;
	size_t i, k = 0;

	memset(g, 0, n * sizeof(*g));
	for (i = 0; i < n; i++) {
		const struct leak_series *s =
		    (const void *)((const char *)first + i * stride);

		if (slope_since(s, since_ts, &slope) < 0)
			return -1;
		if (!(slope > 0))
			continue;
		g[k].index = i;
		g[k].slope = slope;
		total += slope;
		k++;
	}
	for (i = 0; i < k; i++)
		g[i].share = g[i].slope / total;
	qsort(g, k, sizeof(*g), by_growth_share);
	return (int)k;
}

int
where_attribute(const struct where_set *w, double since_ts,
                struct where_item *out, size_t cap)
{
	struct growth g[WHERE_NAMES];
	int i,
	    k = growing(&w->names[0].s, sizeof(w->names[0]), w->n, since_ts, g);

	for (i = 0; i < k && (size_t)i < cap; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		memcpy(out[i].name, w->names[g[i].index].name, SMAPS_NAME_MAX);
		out[i].slope = g[i].slope;
		out[i].share = g[i].share;
	}
	return k < 0 ? -1 : i;
}

int
where_attribute_sites(const struct where_set *w, double since_ts,
                      struct where_site_item *out, size_t cap)
{
	struct growth g[WHERE_SITES];
	int i, k = growing(&w->sites[0].s, sizeof(w->sites[0]), w->nsites,
	                   since_ts, g);

	for (i = 0; i < k && (size_t)i < cap; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		memcpy(out[i].site, w->sites[g[i].index].name, WHERE_SITE_MAX);
		out[i].slope = g[i].slope;
		out[i].share = g[i].share;
	}
	return k < 0 ? -1 : i;
}

int
where_site_faults(const struct where_set *w, const struct leak_faults *fa,
                  double alpha, struct where_findings *f)
{
	struct window *win;
	int i;
	size_t k, j;

	if (fa == NULL || fa->n == 0 || f->nsites <= 0)
		return 0;
	if ((win = malloc(sizeof(*win))) == NULL)
		return -1;
	for (i = 0; i < f->nsites; i++) {
		struct where_site_item *it = &f->sites[i];
		struct leak_result r;
		double var = 0;

		for (k = 0; k < w->nsites; k++)
			if (strcmp(w->sites[k].name, it->site) == 0)
				break;
		if (k == w->nsites)
			continue;
		window(&w->sites[k].s, f->since_ts, win);
		if (win->n < 4)
			continue;
		for (j = 1; j < win->n; j++) /* white noise: half of these */
			var += (win->v[j] - win->v[j - 1]) *
			       (win->v[j] - win->v[j - 1]);
		var /= 2.0 * (double)(win->n - 1);
		memset(&r, 0, sizeof(r));
		leak_fault_split(win->t, win->v, win->n, f->since_ts, fa,
		                 fmax(var, 1e-9), &r);
		it->fault_in_slope = r.fault_in_slope;
		it->faults_only =
		    r.fault_in_p < alpha && r.fault_in_slope > 0 &&
		    !(r.fault_out_p < alpha && r.fault_out_slope > 0);
	}
	free(win);
	return 0;
}

/* One frame in words: "function (object)" for the first, "function"
 * for callers, the object alone where no function is known. */
static size_t
frame_words(char *buf, size_t cap, const char *frame, size_t n, bool first)
{
	const char *paren = memchr(frame, '(', n), *plus;
	size_t fn, obj;
	int w;

	if (paren == NULL || paren == frame) { /* "obj+0x1f" or "0x7f.." */
		plus = memchr(frame, '+', n);
		obj = plus ? (size_t)(plus - frame) : n;
		w = snprintf(buf, cap, "%.*s", (int)obj, frame);
	} else {
		fn = (size_t)(paren - frame);
		while (fn > 0 && frame[fn - 1] == ' ')
			fn--;
		plus = memchr(paren, '+', n - (size_t)(paren - frame));
		obj = plus ? (size_t)(plus - paren - 1)
		           : n - (size_t)(paren - frame) - 2;
		w = first ? snprintf(buf, cap, "%.*s (%.*s)", (int)fn, frame,
		                     (int)obj, paren + 1)
		          : snprintf(buf, cap, "%.*s", (int)fn, frame);
	}
	return w < 0 ? 0 : (size_t)w < cap ? (size_t)w : cap - 1;
}

void
where_site_words(char *buf, size_t cap, const char *site)
{
	size_t used = 0;
	bool first = true;

	buf[0] = '\0';
	while (*site && used + 1 < cap) {
		const char *sep = strstr(site, " < ");
		size_t n = sep ? (size_t)(sep - site) : strlen(site);

		if (!first)
			used += (size_t)snprintf(buf + used, cap - used, " < ");
		if (used + 1 < cap)
			used +=
			    frame_words(buf + used, cap - used, site, n, first);
		first = false;
		site += n + (sep ? 3 : 0);
	}
}

int
where_heap_vs_alloc(const struct where_set *w, double since_ts,
                    struct where_heap_evidence *e)
{
	const struct leak_series *heap = where_class(w, SMAPS_HEAP);

	memset(e, 0, sizeof(*e));
	e->heap_slope = e->alloc_slope = NAN;
	if (heap == NULL || w->allocs.samples == 0)
		return 0;
	if (slope_since(heap, since_ts, &e->heap_slope) < 0 ||
	    slope_since(&w->allocs, since_ts, &e->alloc_slope) < 0)
		return -1;
	e->known = isfinite(e->heap_slope) && isfinite(e->alloc_slope);
	e->fired = e->known && e->heap_slope > 0 &&
	           e->alloc_slope < 0.25 * e->heap_slope;
	return 0;
}

/* Median of the first (or last) quarter of a window, at least 2 points. */
static double
quarter_median(double *v, size_t n, bool last)
{
	size_t q = n / 4 < 2 ? 2 : n / 4;

	if (n < 2 * q)
		return NAN;
	return trend_median(last ? v + n - q : v, q);
}

static void
ends_of(const struct leak_series *s, double since_ts, double *from, double *to)
{
	struct window w;

	window(s, since_ts, &w);
	*to = quarter_median(w.v, w.n, true); /* trend_median reorders */
	*from = quarter_median(w.v, w.n, false);
}

int
where_arenas(const struct where_set *w, double since_ts,
             struct where_arena_evidence *e)
{
	const struct leak_series *anon = where_class(w, SMAPS_ANON);
	double anon_from, anon_to;

	memset(e, 0, sizeof(*e));
	if (anon == NULL)
		return 0;
	ends_of(&w->arenas, since_ts, &e->arenas_from, &e->arenas_to);
	ends_of(&w->threads, since_ts, &e->threads_from, &e->threads_to);
	ends_of(anon, since_ts, &anon_from, &anon_to);
	e->per_arena_from_kb = anon_from / fmax(e->arenas_from, 1);
	e->per_arena_to_kb = anon_to / fmax(e->arenas_to, 1);
	e->fired = e->arenas_to >= e->arenas_from + 2 &&
	           e->arenas_to >= 1.5 * fmax(e->arenas_from, 1) &&
	           e->threads_to > e->threads_from && anon_to > anon_from &&
	           fabs(e->per_arena_to_kb / e->per_arena_from_kb - 1) <= 0.25;
	return 0;
}

int
where_judge(const struct where_set *w, struct leak_result *r,
            struct where_findings *f)
{
	double since = isfinite(r->onset_ts) ? r->onset_ts
	               : r->nregimes > 0 ? r->regime[r->nregimes - 1].start_ts
	                                 : r->first_ts;

	memset(f, 0, sizeof(*f));
	f->known = w->ready;
	if (!w->ready || r->verdict == LEAK_INSUFFICIENT)
		return 0;
	f->nitems = where_attribute(w, since, f->items, WHERE_NAMES);
	f->by_site = w->nsites > 0;
	f->since_ts = since;
	f->nsites = where_attribute_sites(w, since, f->sites, WHERE_SITES);
	if (f->nitems < 0 || f->nsites < 0 ||
	    where_arenas(w, since, &f->arenas) < 0 ||
	    where_heap_vs_alloc(w, since, &f->heap) < 0)
		return -1;
	if (r->verdict != LEAK_LEAK)
		return 0;
	if (f->arenas.fired) {
		r->verdict = LEAK_FRAGMENTATION;
		r->why = LEAK_WHY_ARENAS;
	} else if (f->heap.fired && f->nitems > 0 &&
	           strcmp(f->items[0].name, "[heap]") == 0 &&
	           f->items[0].share >= 0.5) {
		r->verdict = LEAK_FRAGMENTATION;
		r->why = LEAK_WHY_HEAP_NOT_ALLOC;
	}
	return 0;
}

bool
where_reason(char *buf, size_t cap, const struct leak_result *r,
             const struct where_findings *f, const char *alloc_field)
{
	const struct where_arena_evidence *e = &f->arenas;
	char a[HUMAN_MAX], b[HUMAN_MAX];

	if (r->why == LEAK_WHY_ARENAS) {
		snprintf(
		    buf, cap,
		    "arena heaps multiply with the threads (%.0f to %.0f "
		    "arenas, %.0f to %.0f threads), each about %s: new "
		    "arenas, not more memory in use (MALLOC_ARENA_MAX)",
		    e->arenas_from, e->arenas_to, e->threads_from,
		    e->threads_to,
		    human_value(a, sizeof(a), "anon_kb", e->per_arena_to_kb));
		return true;
	}
	if (r->why == LEAK_WHY_HEAP_NOT_ALLOC) {
		snprintf(buf, cap,
		         "the brk heap grows %s/h while the allocations (%s) "
		         "grow %s/h: memory freed but not given back",
		         human_value(a, sizeof(a), "x_kb",
		                     f->heap.heap_slope * 3600),
		         alloc_field,
		         human_value(b, sizeof(b), "x_kb",
		                     f->heap.alloc_slope * 3600));
		return true;
	}
	return false;
}

void
where_words(char *buf, size_t cap, const char *name)
{
	static const char *const words[][2] = {
	    {"[heap]", "the brk heap"},
	    {"[anon]", "anonymous mappings"},
	    {"[stack]", "the main stack"},
	    {"[shmem]", "shared memory"},
	    {"[file]", "other file mappings"}};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(name, words[i][0]) == 0) {
			snprintf(buf, cap, "%s", words[i][1]);
			return;
		}
	snprintf(buf, cap, "the file mapping %s", name);
}
