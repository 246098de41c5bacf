/* Unit tests of heap-watch's library logic: lib/heapsite (the library's
 * messages assembled, malformed ones refused, stacks named with the
 * allocator's frames skipped and alike ones summed), lib/elfsym (this
 * very binary's symbols, its maps) and lib/where's sites (slopes, shares
 * and words). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "elfsym.h"
#include "heapsite.h"
#include "where.h"

__attribute__((noinline)) int
unit_marker_function(int x)
{
	return x * 3 + 1;
}

static size_t
put_head(unsigned char *m, uint32_t type, int pid, uint32_t seq)
{
	struct heap_head h = {HEAP_MAGIC, type, pid, seq};

	memcpy(m, &h, sizeof(h));
	return sizeof(h);
}

static size_t
put_site(unsigned char *m, uint64_t live, uint64_t count, unsigned n,
         const uint64_t *frames)
{
	struct heap_site s = {live, count, n, 0};

	memcpy(m, &s, sizeof(s));
	memcpy(m + sizeof(s), frames, n * sizeof(uint64_t));
	return sizeof(s) + n * sizeof(uint64_t);
}

static void
assembles_a_snapshot(void **state)
{
	struct heap_assembly *a = calloc(1, sizeof(*a));
	struct heap_snapshot *done = NULL;
	struct heap_begin b;
	unsigned char m[HEAP_MSG_MAX];
	uint64_t f[2] = {0x1000, 0x2000};
	const char *note;
	size_t n, note_len;

	(void)state;
	memset(&b, 0, sizeof(b));
	put_head((unsigned char *)&b, HEAP_MSG_BEGIN, 42, 1);
	b.heap_bytes = 3 << 20;
	b.nsamples = 7;
	assert_int_equal(heap_feed(a, &b, sizeof(b), &done, &note, &note_len),
	                 HEAP_FEED_MORE);
	n = put_head(m, HEAP_MSG_SITES, 42, 1);
	n += put_site(m + n, 2 << 20, 512, 2, f);
	n += put_site(m + n, 1 << 20, 3, 1, f + 1);
	assert_int_equal(heap_feed(a, m, n, &done, &note, &note_len),
	                 HEAP_FEED_MORE);
	n = put_head(m, HEAP_MSG_END, 42, 1);
	assert_int_equal(heap_feed(a, m, n, &done, &note, &note_len),
	                 HEAP_FEED_DONE);
	assert_non_null(done);
	assert_int_equal(done->pid, 42);
	assert_int_equal(done->n, 2);
	assert_int_equal(done->stacks[0].nframes, 2);
	assert_int_equal(done->stacks[1].frames[0], 0x2000);
	assert_int_equal(done->heap_bytes, 3 << 20);
	/* a note passes its text */
	n = put_head(m, HEAP_MSG_NOTE, 42, 1);
	memcpy(m + n, "full", 4);
	assert_int_equal(heap_feed(a, m, n + 4, &done, &note, &note_len),
	                 HEAP_FEED_NOTE);
	assert_int_equal(note_len, 4);
	heap_assembly_free(a);
	free(a);
}

static void
refuses_malformed_messages(void **state)
{
	struct heap_assembly *a = calloc(1, sizeof(*a));
	struct heap_snapshot *done;
	unsigned char m[HEAP_MSG_MAX];
	uint64_t f[1] = {1};
	const char *note;
	size_t n, note_len;

	(void)state;
	memset(m, 0, sizeof(m));
	/* too short, bad magic, no BEGIN first, a site past the end, too
	 * many frames, another snapshot's parts */
	assert_int_equal(heap_feed(a, m, 3, &done, &note, &note_len), -1);
	assert_int_equal(errno, EPROTO);
	n = put_head(m, HEAP_MSG_END, 5, 1);
	m[0] ^= 1;
	assert_int_equal(heap_feed(a, m, n, &done, &note, &note_len), -1);
	m[0] ^= 1;
	assert_int_equal(heap_feed(a, m, n, &done, &note, &note_len), -1);
	n = put_head(m, HEAP_MSG_BEGIN, 5, 1);
	memset(m + n, 0, sizeof(struct heap_begin) - n);
	assert_int_equal(
	    heap_feed(a, m, sizeof(struct heap_begin), &done, &note, &note_len),
	    HEAP_FEED_MORE);
	n = put_head(m, HEAP_MSG_SITES, 5, 1);
	n += put_site(m + n, 1, 1, 1, f);
	assert_int_equal(heap_feed(a, m, n - 4, &done, &note, &note_len), -1);
	n = put_head(m, HEAP_MSG_SITES, 5, 1);
	n += put_site(m + n, 1, 1, 1, f);
	((struct heap_site *)(void *)(m + sizeof(struct heap_head)))->nframes =
	    HEAP_DEPTH_MAX + 1;
	assert_int_equal(heap_feed(a, m, n, &done, &note, &note_len), -1);
	n = put_head(m, HEAP_MSG_END, 5, 2);
	assert_int_equal(heap_feed(a, m, n, &done, &note, &note_len), -1);
	heap_assembly_free(a);
	free(a);
}

static void
allocator_frames(void **state)
{
	(void)state;
	assert_true(heap_frame_is_allocator("libc.so.6", "malloc"));
	assert_true(heap_frame_is_allocator("libc-2.31.so", NULL));
	assert_true(heap_frame_is_allocator("libgxkit-heap.so", "x"));
	assert_true(heap_frame_is_allocator("libstdc++.so.6", "_Znwm"));
	assert_true(heap_frame_is_allocator("python3.11", "PyMem_Malloc"));
	assert_true(heap_frame_is_allocator("libglib-2.0.so.0", "g_malloc0"));
	assert_false(heap_frame_is_allocator("python3.11", "list_resize"));
	assert_false(heap_frame_is_allocator("libfoo.so", "cache_put"));
	assert_false(heap_frame_is_allocator(NULL, NULL));
}

/* This binary's own function, named from its maps and .symtab. */
static void
names_this_binary(void **state)
{
	struct elfsym_cache c;
	struct elfsym_frame f;
	uint64_t at = (uint64_t)(uintptr_t)&unit_marker_function + 2;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(elfsym_read_maps(&c, getpid()), 0);
	assert_true(elfsym_lookup(&c, at, &f));
	assert_string_equal(f.function, "unit_marker_function");
	assert_string_equal(f.object, "test_heap");
	assert_null(strchr(f.object, '/'));
	assert_false(elfsym_lookup(&c, 8, &f));
	/* a stack named, its first frame skipped as the allocator's when
	 * in libc, alike stacks summed */
	{
		struct heap_snapshot s;
		struct heap_stack k[2];
		struct heap_naming how = {1, false};
		struct heap_sites out;

		memset(&s, 0, sizeof(s));
		memset(k, 0, sizeof(k));
		k[0].live = k[1].live = 4096;
		k[0].count = k[1].count = 2;
		k[0].nframes = k[1].nframes = 1;
		k[0].frames[0] = k[1].frames[0] = at + 1;
		s.stacks = k;
		s.n = 2;
		s.heap_bytes = 8192;
		assert_int_equal(heap_sites_name(&s, &c, &how, &out), 0);
		assert_int_equal(out.n, 1);
		assert_true(strncmp(out.v[0].site,
		                    "unit_marker_function (test_heap+0x",
		                    34) == 0);
		assert_true(out.v[0].live_kb == 8.0);
		heap_sites_free(&out);
		how.raw = true;
		assert_int_equal(heap_sites_name(&s, &c, &how, &out), 0);
		assert_true(strncmp(out.v[0].site, "test_heap+0x", 12) == 0);
		heap_sites_free(&out);
	}
	elfsym_free(&c);
	/* a file that is not ELF has no functions, and is no error */
	{
		struct elfsym_object *o = elfsym_open("/proc/self/status");

		assert_non_null(o);
		assert_null(elfsym_function(o, 0x1000));
		elfsym_close(o);
	}
	/* maps text as the process read them */
	memset(&c, 0, sizeof(c));
	assert_int_equal(elfsym_parse_maps(&c, "garbage\n\n1-2 r-xp\n"), 0);
	assert_int_equal(c.nmaps, 0);
	elfsym_free(&c);
}

static void
sites_in_words(void **state)
{
	char buf[256];

	(void)state;
	where_site_words(buf, sizeof(buf),
	                 "cache_put (libfoo.so+0x1139) < handle_reply "
	                 "(leaky+0x11a2) < main (leaky+0x1250)");
	assert_string_equal(buf, "cache_put (libfoo.so) < handle_reply < main");
	where_site_words(buf, sizeof(buf),
	                 "python3.11+0x5a7183 < _PyEval_EvalFrameDefault "
	                 "(python3.11+0x52c98b) < 0x7f0012");
	assert_string_equal(buf,
	                    "python3.11 < _PyEval_EvalFrameDefault < 0x7f0012");
	where_site_words(buf, 12, "cache_put (libfoo.so+0x1) < main (x+0x2)");
	assert_true(strlen(buf) < 12);
	where_site_words(buf, sizeof(buf), "[no stack]");
	assert_string_equal(buf, "[no stack]");
}

/* One site grows, one stays: all the growth is the first's. */
static void
sites_attributed(void **state)
{
	struct where_set w;
	struct where_site_reading r;
	struct where_site_item items[WHERE_SITES];
	int i, n;

	(void)state;
	memset(&w, 0, sizeof(w));
	for (i = 0; i < 30; i++) {
		memset(&r, 0, sizeof(r));
		r.ts = 1000 + 60 * i;
		snprintf(r.site[0].name, WHERE_SITE_MAX, "grows (a+0x1)");
		r.site[0].kb = 100 + 10 * i;
		snprintf(r.site[1].name, WHERE_SITE_MAX, "stays (a+0x2)");
		r.site[1].kb = 500 + (i % 2);
		r.n = 2;
		assert_int_equal(where_add_sites(&w, &r), 0);
	}
	n = where_attribute_sites(&w, 0, items, WHERE_SITES);
	assert_int_equal(n, 1);
	assert_string_equal(items[0].site, "grows (a+0x1)");
	assert_true(fabs(items[0].share - 1) < 1e-9);
	assert_true(fabs(items[0].slope - 10.0 / 60) < 1e-6);
	/* seventeen names: the sixteenth's series is the last kept */
	for (i = 0; i < 17; i++) {
		memset(&r, 0, sizeof(r));
		r.ts = 5000 + i;
		snprintf(r.site[0].name, WHERE_SITE_MAX, "s%d", i);
		r.site[0].kb = 1;
		r.n = 1;
		assert_int_equal(where_add_sites(&w, &r), 0);
	}
	assert_int_equal(w.nsites, WHERE_SITES);
	assert_true(w.full);
	where_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(assembles_a_snapshot),
	    cmocka_unit_test(refuses_malformed_messages),
	    cmocka_unit_test(allocator_frames),
	    cmocka_unit_test(names_this_binary),
	    cmocka_unit_test(sites_in_words),
	    cmocka_unit_test(sites_attributed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
