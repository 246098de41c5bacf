#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapsite.h"

#define SITE_MAX 1024 /* bytes of a site's name */

/* --- assembly ----------------------------------------------------------------
 */

static struct heap_snapshot *
slot_of(struct heap_assembly *a, pid_t pid, bool make)
{
	size_t i;

	for (i = 0; i < HEAP_PROCS; i++)
		if (a->procs[i].pid == pid)
			return &a->procs[i];
	if (!make)
		return NULL;
	for (i = 0; i < HEAP_PROCS; i++)
		if (a->procs[i].pid == 0) {
			a->procs[i].pid = pid;
			return &a->procs[i];
		}
	return NULL;
}

static int
add_stack(struct heap_snapshot *s, const struct heap_site *site)
{
	struct heap_stack *k;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct heap_stack *v = realloc(s->stacks, cap * sizeof(*v));

		if (!v)
			return -1;
		s->stacks = v;
		s->cap = cap;
	}
	k = &s->stacks[s->n++];
	k->live = site->live_bytes;
	k->count = site->count;
	k->nframes = site->nframes;
	memcpy(k->frames, site->frames, site->nframes * sizeof(uint64_t));
	return 0;
}

static int
feed_sites(struct heap_snapshot *s, const unsigned char *p, size_t len)
{
	size_t at = sizeof(struct heap_head);

	while (at < len) {
		struct heap_site site;
		size_t size;

		if (len - at < sizeof(site))
			goto bad;
		memcpy(&site, p + at, sizeof(site));
		if (site.nframes > HEAP_DEPTH_MAX)
			goto bad;
		size = sizeof(site) + site.nframes * sizeof(uint64_t);
		if (len - at < size)
			goto bad;
		{
			uint64_t buf[(sizeof(site) + HEAP_DEPTH_MAX * 8) / 8];

			memcpy(buf, p + at, size);
			if (add_stack(
			        s, (const struct heap_site *)(void *)buf) < 0)
				return -1;
		}
		at += size;
	}
	return 0;
bad:
	errno = EPROTO;
	return -1;
}

static int
feed_maps(struct heap_snapshot *s, const unsigned char *p, size_t len)
{
	size_t n = len - sizeof(struct heap_head);

	if (s->maps_len + n + 1 > s->maps_cap) {
		size_t cap = 2 * (s->maps_len + n + 1);
		char *m = realloc(s->maps, cap);

		if (!m)
			return -1;
		s->maps = m;
		s->maps_cap = cap;
	}
	memcpy(s->maps + s->maps_len, p + sizeof(struct heap_head), n);
	s->maps_len += n;
	s->maps[s->maps_len] = '\0';
	return 0;
}

int
heap_feed(struct heap_assembly *a, const void *msg, size_t len,
          struct heap_snapshot **done, const char **note, size_t *note_len)
{
	const unsigned char *p = msg;
	struct heap_head h;
	struct heap_begin b;
	struct heap_snapshot *s;

	if (len < sizeof(h))
		goto bad;
	memcpy(&h, p, sizeof(h));
	if (h.magic != HEAP_MAGIC || h.pid <= 0)
		goto bad;
	if (h.type == HEAP_MSG_NOTE) {
		*note = (const char *)p + sizeof(h);
		*note_len = len - sizeof(h);
		return HEAP_FEED_NOTE;
	}
	if (!(s = slot_of(a, h.pid, h.type == HEAP_MSG_BEGIN))) {
		errno = h.type == HEAP_MSG_BEGIN ? ENOMEM : EPROTO;
		return -1;
	}
	switch (h.type) {
	case HEAP_MSG_BEGIN:
		if (len < sizeof(b))
			goto bad;
		memcpy(&b, p, sizeof(b));
		s->seq = h.seq;
		s->heap_bytes = b.heap_bytes;
		s->rate = b.rate;
		s->flags = b.flags;
		s->nsamples = b.nsamples;
		s->frames_sum = b.frames_sum;
		s->taken = b.taken;
		s->n = 0;
		s->maps_len = 0;
		return HEAP_FEED_MORE;
	case HEAP_MSG_MAPS:
		if (h.seq != s->seq)
			goto bad;
		return feed_maps(s, p, len) < 0 ? -1 : HEAP_FEED_MORE;
	case HEAP_MSG_SITES:
		if (h.seq != s->seq)
			goto bad;
		return feed_sites(s, p, len) < 0 ? -1 : HEAP_FEED_MORE;
	case HEAP_MSG_END:
		if (h.seq != s->seq)
			goto bad;
		*done = s;
		return HEAP_FEED_DONE;
	}
bad:
	errno = EPROTO;
	return -1;
}

void
heap_assembly_free(struct heap_assembly *a)
{
	size_t i;

	for (i = 0; i < HEAP_PROCS; i++) {
		free(a->procs[i].stacks);
		free(a->procs[i].maps);
	}
	memset(a, 0, sizeof(*a));
}

/* --- naming
 * -------------------------------------------------------------------- */

static bool
prefixed(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool
heap_frame_is_allocator(const char *object, const char *function)
{
	static const char *const objects[] = {"libc.so", "libc-", "ld-linux",
	                                      "ld-2.", "libgxkit-heap.so"};
	/* wrappers that only pass the size on: the code that called them
	 * is the site */
	static const char *const functions[] = {"_Znw",
	                                        "_Zna",
	                                        "PyMem_",
	                                        "_PyMem_",
	                                        "PyObject_Malloc",
	                                        "PyObject_Calloc",
	                                        "PyObject_Realloc",
	                                        "_PyObject_Malloc",
	                                        "_PyObject_Calloc",
	                                        "_PyObject_Realloc",
	                                        "g_malloc",
	                                        "g_malloc0",
	                                        "g_realloc",
	                                        "g_try_malloc",
	                                        "g_slice_alloc",
	                                        "xmalloc",
	                                        "xcalloc",
	                                        "xrealloc",
	                                        "xstrdup"};
	size_t i;

	for (i = 0; object && i < sizeof(objects) / sizeof(*objects); i++)
		if (prefixed(object, objects[i]))
			return true;
	for (i = 0; function && i < sizeof(functions) / sizeof(*functions); i++)
		if (prefixed(function, functions[i]))
			return true;
	return false;
}

/* One frame, as "function (object+0xOFF)", "object+0xOFF" or "0xADDR". */
static size_t
name_frame(char *buf, size_t cap, const struct elfsym_frame *f, bool known,
           uint64_t pc, bool raw)
{
	int n;

	if (!known)
		n = snprintf(buf, cap, "0x%llx", (unsigned long long)pc);
	else if (raw || !f->function)
		n = snprintf(buf, cap, "%s+0x%llx", f->object,
		             (unsigned long long)f->offset);
	else
		n = snprintf(buf, cap, "%s (%s+0x%llx)", f->function, f->object,
		             (unsigned long long)f->offset);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* The stack's name: its innermost frame outside the allocator, then
 * how->callers callers, joined by " < ". */
static void
name_stack(const struct heap_stack *k, struct elfsym_cache *c,
           const struct heap_naming *how, char *buf, unsigned *unresolved)
{
	size_t used = 0, i, taken = 0;

	buf[0] = '\0';
	for (i = 0; i < k->nframes && taken <= how->callers; i++) {
		/* the call, not the return address after it (Thumb's bit 0
		 * goes too) */
		uint64_t pc = (k->frames[i] & ~(uint64_t)1) - 1;
		struct elfsym_frame f;
		bool known = elfsym_lookup(c, pc, &f);

		if (!known)
			(*unresolved)++;
		if (taken == 0 && known &&
		    heap_frame_is_allocator(f.object, f.function))
			continue;
		if (taken > 0 && used + 4 < SITE_MAX)
			used += (size_t)snprintf(buf + used, SITE_MAX - used,
			                         " < ");
		used += name_frame(buf + used, SITE_MAX - used, &f, known, pc,
		                   how->raw);
		taken++;
	}
	if (taken == 0)
		snprintf(buf, SITE_MAX, "%s",
		         k->nframes ? "[allocator only]" : "[no stack]");
}

static int
by_site(const void *a, const void *b)
{
	return strcmp(((const struct heap_site_out *)a)->site,
	              ((const struct heap_site_out *)b)->site);
}

static int
by_live(const void *a, const void *b)
{
	const struct heap_site_out *x = a, *y = b;

	if (x->live_kb != y->live_kb)
		return x->live_kb > y->live_kb ? -1 : 1;
	return strcmp(x->site, y->site);
}

/* Stacks that read alike summed into one site. */
static void
merge_alike(struct heap_sites *out)
{
	size_t i, w = 0;

	qsort(out->v, out->n, sizeof(*out->v), by_site);
	for (i = 0; i < out->n; i++) {
		if (w > 0 && strcmp(out->v[w - 1].site, out->v[i].site) == 0) {
			out->v[w - 1].live_kb += out->v[i].live_kb;
			out->v[w - 1].count += out->v[i].count;
			free(out->v[i].site);
			continue;
		}
		out->v[w++] = out->v[i];
	}
	out->n = w;
	qsort(out->v, out->n, sizeof(*out->v), by_live);
}

int
heap_sites_name(const struct heap_snapshot *s, struct elfsym_cache *c,
                const struct heap_naming *how, struct heap_sites *out)
{
	char buf[SITE_MAX];
	size_t i;

	memset(out, 0, sizeof(*out));
	out->heap_kb = (double)s->heap_bytes / 1024.0;
	if (s->n && !(out->v = calloc(s->n, sizeof(*out->v))))
		return -1;
	for (i = 0; i < s->n; i++) {
		name_stack(&s->stacks[i], c, how, buf, &out->unresolved);
		if (!(out->v[out->n].site = strdup(buf))) {
			heap_sites_free(out);
			return -1;
		}
		out->v[out->n].live_kb = (double)s->stacks[i].live / 1024.0;
		out->v[out->n].count = (double)s->stacks[i].count;
		out->n++;
	}
	merge_alike(out);
	return 0;
}

void
heap_sites_free(struct heap_sites *out)
{
	size_t i;

	for (i = 0; i < out->n; i++)
		free(out->v[i].site);
	free(out->v);
	memset(out, 0, sizeof(*out));
}
