/* Unit tests of lib/memlog: sniffing, and each format's lines, names and
 * units, with the malformed ones refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "memlog.h"

/* One line through m: its result; the sample in *s. */
static int
feed(struct memlog *m, const char *text, struct memlog_sample *s)
{
	static char line[512];
	const char *why;

	snprintf(line, sizeof(line), "%s", text);
	return memlog_line(m, line, s, &why);
}

static double
value_of(const struct memlog_sample *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return s->values[i];
	return -12345;
}

static void
sniffing(void **state)
{
	enum memlog_format f;

	(void)state;
	assert_int_equal(memlog_sniff("{\"ts\":1}"), MEMLOG_JSONL);
	assert_int_equal(memlog_sniff("# Elapsed time   CPU (%)"),
	                 MEMLOG_PSRECORD);
	assert_int_equal(memlog_sniff("CMDLINE python3 x.py"), MEMLOG_MPROF);
	assert_int_equal(memlog_sniff("MEM 1.5 1700000000.0"), MEMLOG_MPROF);
	assert_int_equal(memlog_sniff("Time\twtime\trss"), MEMLOG_PRMON);
	assert_int_equal(memlog_sniff("host, \"Timestamp\" ,rss_kb"),
	                 MEMLOG_CSV);
	/* garbage with a comma is no CSV: the JSONL reader says so */
	assert_int_equal(memlog_sniff("not json, at all"), MEMLOG_JSONL);
	assert_int_equal(memlog_parse_format("prmon", &f), 0);
	assert_int_equal(f, MEMLOG_PRMON);
	assert_int_equal(memlog_parse_format("PRMON", &f), -1);
	assert_string_equal(memlog_format_name(MEMLOG_CSV), "csv");
}

static void
psrecord(void **state)
{
	struct memlog m;
	struct memlog_sample s;

	(void)state;
	memlog_init(&m, MEMLOG_PSRECORD, -1);
	assert_int_equal(feed(&m,
	                      "# Elapsed time   CPU (%)     Real (MB)   "
	                      "Virtual (MB)    USS (MB)",
	                      &s),
	                 0);
	assert_int_equal(feed(&m,
	                      "       1.500       12.000       10.500  "
	                      "    200.000        8.000",
	                      &s),
	                 1);
	assert_true(s.ts == 1.5);
	assert_true(value_of(&s, "rss_kb") == 10.5 * 1024);
	assert_true(value_of(&s, "uss_kb") == 8 * 1024);
	assert_true(value_of(&s, "cpu_pct") == 12);
	assert_int_equal(feed(&m, "1.0 2.0 3.0", &s), -1); /* short */
	assert_int_equal(feed(&m, "x 2.0 3.0 4.0 5.0", &s), -1);
	/* no header: four numbers are the four columns */
	memlog_init(&m, MEMLOG_PSRECORD, -1);
	assert_int_equal(feed(&m, "2.0 1.0 3.0 4.0", &s), 1);
	assert_true(value_of(&s, "vsz_kb") == 4096);
}

static void
mprof(void **state)
{
	struct memlog m;
	struct memlog_sample s;

	(void)state;
	memlog_init(&m, MEMLOG_MPROF, -1);
	assert_int_equal(feed(&m, "CMDLINE python3 leak.py", &s), 0);
	assert_int_equal(feed(&m, "MEM 12.500000 1764633600.2500", &s), 1);
	assert_true(s.ts == 1764633600.25);
	assert_true(value_of(&s, "rss_kb") == 12800);
	assert_int_equal(feed(&m, "CHLD 0 3.000000 1764633600.3000", &s), 0);
	assert_int_equal(feed(&m, "FUNC f 1.0 2.0 3.0 4.0", &s), 0);
	assert_int_equal(feed(&m, "MEM twelve 1764633600", &s), -1);
	assert_int_equal(feed(&m, "HEAP 1 2", &s), -1);
	/* --child 1: CHLD 1 only */
	memlog_init(&m, MEMLOG_MPROF, 1);
	assert_int_equal(feed(&m, "MEM 12.5 1764633600.25", &s), 0);
	assert_int_equal(feed(&m, "CHLD 0 3.0 1764633600.3", &s), 0);
	assert_int_equal(feed(&m, "CHLD 1 4.0 1764633600.3", &s), 1);
	assert_true(value_of(&s, "rss_kb") == 4096);
}

static void
prmon(void **state)
{
	struct memlog m;
	struct memlog_sample s;

	(void)state;
	memlog_init(&m, MEMLOG_PRMON, -1);
	assert_int_equal(feed(&m, "Time\twtime\tnthreads\tpss\trss\tvmem", &s),
	                 0);
	assert_int_equal(feed(&m, "1764633600\t30\t9\t900\t1000\t4000", &s), 1);
	assert_true(s.ts == 1764633600);
	assert_true(value_of(&s, "rss_kb") == 1000); /* kB already */
	assert_true(value_of(&s, "pss_kb") == 900);
	assert_true(value_of(&s, "vsz_kb") == 4000);
	assert_true(value_of(&s, "threads") == 9);
	assert_true(value_of(&s, "wtime_s") == 30);
	assert_int_equal(feed(&m, "1764633600\t30\t9", &s), -1);
	/* a header without Time is no prmon file */
	memlog_init(&m, MEMLOG_PRMON, -1);
	assert_int_equal(feed(&m, "wtime\trss", &s), -1);
}

static void
csv(void **state)
{
	struct memlog m;
	struct memlog_sample s;

	(void)state;
	memlog_init(&m, MEMLOG_CSV, -1);
	assert_int_equal(feed(&m, "\"host\",Timestamp,heap_kb", &s), 0);
	assert_int_equal(
	    feed(&m, "\"gx, \"\"42\"\"\",2026-12-01T00:01:30Z,17", &s), 1);
	assert_true(s.ts == 1796083290);
	assert_true(value_of(&s, "heap_kb") == 17);
	assert_true(isnan(value_of(&s, "host"))); /* text: no number */
	assert_int_equal(feed(&m, "a,2026-12-01 01:00:00+01:00,5", &s), 1);
	assert_true(s.ts == 1796083200);
	assert_int_equal(feed(&m, "a,1764547200.5,5", &s), 1);
	assert_true(s.ts == 1764547200.5);
	assert_int_equal(feed(&m, "a,yesterday,5", &s), -1);
	assert_int_equal(feed(&m, "a,1,2,3", &s), -1);
	assert_int_equal(feed(&m, "", &s), 0);
	memlog_init(&m, MEMLOG_CSV, -1);
	assert_int_equal(feed(&m, "host,heap_kb", &s), -1); /* no time */
	memlog_init(&m, MEMLOG_CSV, -1);
	assert_int_equal(feed(&m,
	                      "ts,a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,"
	                      "u,v,w,x,y,z,A,B,C,D,E,F",
	                      &s),
	                 -1); /* 33 columns */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sniffing), cmocka_unit_test(psrecord),
	    cmocka_unit_test(mprof),    cmocka_unit_test(prmon),
	    cmocka_unit_test(csv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
