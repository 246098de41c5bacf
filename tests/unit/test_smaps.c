/* Unit tests of lib/smaps: mapping classes, the streaming parser fed in
 * pieces of every size, arena heaps, the top list, and a live read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "procmem.h"
#include "smaps.h"

static struct smaps_parser parser; /* large: once */

/* One mapping's lines as the kernel writes them. */
static size_t
map_text(char *buf, size_t cap, unsigned long long start,
         unsigned long long end, const char *perms, const char *path, long rss,
         long dirty)
{
	return (size_t)snprintf(
	    buf, cap,
	    "%llx-%llx %s 00000000 00:00 0%s%s\n"
	    "Size:             %8llu kB\nKernelPageSize:        4 kB\n"
	    "Rss:              %8ld kB\nPss:              %8ld kB\n"
	    "Shared_Clean:          0 kB\nPrivate_Dirty:    %8ld kB\n"
	    "Anonymous:        %8ld kB\nVmFlags: rd wr mr mw me ac sd\n",
	    start, end, perms, path[0] ? "                          " : "",
	    path, (end - start) >> 10, rss, rss, dirty, dirty);
}

static char *
sample_smaps(size_t *len)
{
	static char text[16384];
	unsigned long long arena = SMAPS_ARENA_64, a0 = 8 * arena;
	size_t n = 0;

	n += map_text(text + n, sizeof(text) - n, 0x400000, 0x401000, "r-xp",
	              "/usr/bin/python3.11", 4, 0);
	n += map_text(text + n, sizeof(text) - n, 0x600000, 0x700000, "rw-p",
	              "[heap]", 900, 880);
	/* an arena heap: 132 KiB in use, the rest PROT_NONE */
	n += map_text(text + n, sizeof(text) - n, a0, a0 + 0x21000, "rw-p", "",
	              120, 120);
	n += map_text(text + n, sizeof(text) - n, a0 + 0x21000, a0 + arena,
	              "---p", "", 0, 0);
	/* a second one right after it, and a mapping not aligned */
	n += map_text(text + n, sizeof(text) - n, a0 + arena, a0 + 2 * arena,
	              "rw-p", "", 30, 30);
	n += map_text(text + n, sizeof(text) - n, a0 + 2 * arena + 0x1000,
	              a0 + 2 * arena + 0x101000, "rw-p", "", 1000, 1000);
	n += map_text(text + n, sizeof(text) - n, 0x7f0000000000ULL,
	              0x7f0000100000ULL, "r--s", "/dev/shm/ring (deleted)", 64,
	              0);
	n += map_text(text + n, sizeof(text) - n, 0x7f0000200000ULL,
	              0x7f0000300000ULL, "rw-s", "", 16, 16);
	n += map_text(text + n, sizeof(text) - n, 0x7f0000400000ULL,
	              0x7f0000500000ULL, "r--p", "/data/log/rec 1.h5 (deleted)",
	              500, 0);
	n += map_text(text + n, sizeof(text) - n, 0x7f0000600000ULL,
	              0x7f0000601000ULL, "r-xp", "/usr/lib/libc.so.6", 300, 0);
	n += map_text(text + n, sizeof(text) - n, 0x7f0000700000ULL,
	              0x7f0000701000ULL, "rw-p", "/usr/lib/libc.so.6", 8, 8);
	n += map_text(text + n, sizeof(text) - n, 0x7ffd00000000ULL,
	              0x7ffd00021000ULL, "rw-p", "[stack]", 40, 40);
	*len = n;
	return text;
}

static void
check_totals(const struct smaps_totals *t)
{
	assert_int_equal(t->mappings, 12);
	assert_int_equal(t->rss_kb[SMAPS_HEAP], 900);
	assert_int_equal(t->dirty_kb[SMAPS_HEAP], 880);
	assert_int_equal(t->rss_kb[SMAPS_ANON], 1150);
	assert_int_equal(t->rss_kb[SMAPS_STACK], 40);
	assert_int_equal(t->rss_kb[SMAPS_SHMEM], 80);
	assert_int_equal(t->dirty_kb[SMAPS_SHMEM], 16);
	assert_int_equal(t->rss_kb[SMAPS_FILE], 812);
	assert_int_equal(t->arenas, 2);
	assert_int_equal(t->ntop, SMAPS_TOP);
	assert_string_equal(t->top[0].name, "[anon]");
	assert_int_equal(t->top[0].rss_kb, 1150);
	assert_string_equal(t->top[1].name, "[heap]");
	assert_string_equal(t->top[2].name, "rec 1.h5");
	assert_string_equal(t->top[3].name, "libc.so.6");
	assert_int_equal(t->top[3].rss_kb, 308);
	assert_string_equal(t->top[4].name, "[shmem]");
}

static void
parses_in_pieces(void **state)
{
	struct smaps_totals t;
	size_t len, piece, at;
	const char *text = sample_smaps(&len);

	(void)state;
	for (piece = 1; piece <= len;
	     piece = piece < 64 ? piece + 1 : piece * 3) {
		smaps_begin(&parser, &t);
		for (at = 0; at < len; at += piece)
			smaps_feed(&parser, text + at,
			           len - at < piece ? len - at : piece);
		smaps_end(&parser);
		check_totals(&t);
	}
}

static void
arenas_of_a_32_bit_process(void **state)
{
	static char text[4096];
	unsigned long long mib = SMAPS_ARENA_32;
	struct smaps_totals t;
	size_t n = 0;

	(void)state;
	n += map_text(text + n, sizeof(text) - n, 0xb5000000ULL,
	              0xb5000000ULL + 0x21000, "rw-p", "", 120, 120);
	n += map_text(text + n, sizeof(text) - n, 0xb5000000ULL + 0x21000,
	              0xb5000000ULL + mib, "---p", "", 0, 0);
	n += map_text(text + n, sizeof(text) - n, 0xbe000000ULL, 0xbe021000ULL,
	              "rw-p", "[stack]", 40, 40);
	smaps_begin(&parser, &t);
	smaps_feed(&parser, text, n);
	smaps_end(&parser);
	assert_int_equal(t.arenas, 1);
}

static void
classes(void **state)
{
	char name[SMAPS_NAME_MAX];

	(void)state;
	assert_int_equal(smaps_classify("rw-p", "[heap]", name), SMAPS_HEAP);
	assert_int_equal(smaps_classify("rw-p", "[stack:123]", name),
	                 SMAPS_STACK);
	assert_string_equal(name, "[stack]");
	assert_int_equal(smaps_classify("rw-p", "[anon:v8]", name), SMAPS_ANON);
	assert_int_equal(smaps_classify("rw-s", "/dev/zero (deleted)", name),
	                 SMAPS_SHMEM);
	assert_int_equal(smaps_classify("rw-s", "/memfd:pool (deleted)", name),
	                 SMAPS_SHMEM);
	assert_int_equal(smaps_classify("rw-s", "/SYSV00000000", name),
	                 SMAPS_SHMEM);
	assert_int_equal(smaps_classify("r--s", "/data/x.bin", name),
	                 SMAPS_FILE);
	assert_string_equal(name, "x.bin");
	assert_int_equal(smaps_classify("r-xp", "[vdso]", name), SMAPS_FILE);
	assert_int_equal(smaps_classify("r--p",
	                                "/a/very-long-name-of-a-"
	                                "library-file-past-the-table-"
	                                "width.so",
	                                name),
	                 SMAPS_FILE);
	assert_int_equal(strlen(name), SMAPS_NAME_MAX - 1);
	assert_string_equal(smaps_class_name(SMAPS_SHMEM), "shmem");
}

static void
garbage_is_not_counted(void **state)
{
	static const char junk[] =
	    "not smaps\nRss: 99 kB\nzz-yy rw-p\n12-10 rw-p 0 0 0\n"
	    "10-20 rw\n\n\x01\x02\n";
	static char longline[10000];
	struct smaps_totals t;

	(void)state;
	smaps_begin(&parser, &t);
	smaps_feed(&parser, junk, sizeof(junk) - 1);
	memset(longline, 'a', sizeof(longline) - 1);
	smaps_feed(&parser, longline, sizeof(longline) - 1);
	smaps_end(&parser);
	assert_int_equal(t.mappings, 0);
	assert_int_equal(t.rss_kb[SMAPS_ANON], 0);
}

static void
children_add_up(void **state)
{
	struct smaps_totals a, b;
	size_t len;
	const char *text = sample_smaps(&len);

	(void)state;
	smaps_begin(&parser, &a);
	smaps_feed(&parser, text, len);
	smaps_end(&parser);
	b = a;
	smaps_add(&a, &b);
	assert_int_equal(a.mappings, 24);
	assert_int_equal(a.arenas, 4);
	assert_int_equal(a.rss_kb[SMAPS_HEAP], 1800);
	assert_string_equal(a.top[0].name, "[anon]");
	assert_int_equal(a.top[0].rss_kb, 2300);
	assert_int_equal(a.ntop, SMAPS_TOP);
}

static void
live_read_matches_status(void **state)
{
	struct smaps_totals t;
	struct procmem_sample s;
	struct procmem_proc p;
	long sum = 0;
	int c;

	(void)state;
	assert_int_equal(procmem_open(&p, getpid()), 0);
	assert_int_equal(smaps_read(p.dir_fd, &parser, &t), 0);
	assert_int_equal(procmem_sample(&p, &s, 0), 0);
	for (c = 0; c < SMAPS_NCLASS; c++)
		sum += t.rss_kb[c];
	/* the same pages, counted twice a moment apart */
	assert_true(labs(sum - s.rss_kb) < s.rss_kb / 10 + 64);
	assert_true(t.rss_kb[SMAPS_FILE] > 0);
	assert_true(t.mappings > 5);
	procmem_close(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_in_pieces),
	    cmocka_unit_test(classes),
	    cmocka_unit_test(arenas_of_a_32_bit_process),
	    cmocka_unit_test(garbage_is_not_counted),
	    cmocka_unit_test(children_add_up),
	    cmocka_unit_test(live_read_matches_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
