/* Unit tests of a verdict's words and its printing: lib/leak_words
 * (leak_reason), lib/where's judgement and words, lib/print (one call, two
 * forms), lib/leak_report (the report and the JSON say the same), and
 * lib/timeline (any record into samples; what is dropped and why). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <jansson.h>

#include "clock.h"
#include "human.h"
#include "leak_report.h"
#include "msg.h"
#include "print.h"
#include "timeline.h"
#include "where.h"

#define T0 1700000000.0 /* 2023-11-14 22:13:20 UTC */

static const char *
reason_of(const struct leak_result *r, const char *field, double sign,
          const struct leak_rules *rules)
{
	static char buf[512];

	leak_reason(buf, sizeof(buf), r, field, sign, rules);
	return buf;
}

static void
reasons_in_words(void **state)
{
	struct leak_rules rules;
	struct leak_result r;

	(void)state;
	leak_rules_default(&rules);
	memset(&r, 0, sizeof(r));
	r.why = LEAK_WHY_GROWS;
	r.onset_ts = T0;
	r.slope = 300.0 / 3600;
	r.rate_pct_day = 1.5;
	assert_string_equal(reason_of(&r, "anon_kb", 1, &rules),
	                    "grows 300 KB/h since 2023-11-14 22:13:20, +1.5 "
	                    "%/day");
	r.why = LEAK_WHY_FLOOR;
	assert_string_equal(reason_of(&r, "anon_kb", 1, &rules),
	                    "the floor under the sawtooth grows 300 KB/h since "
	                    "2023-11-14 22:13:20, +1.5 %/day");
	/* a falling heap in bytes: what it loses a minute, the rate's sign
	 * a fall's */
	r.why = LEAK_WHY_GROWS;
	r.slope = -4920.0 / 3600;
	r.rate_pct_day = -85.7;
	assert_string_equal(reason_of(&r, "free_heap", -1, &rules),
	                    "loses 82 B/min since 2023-11-14 22:13:20, -85.7 "
	                    "%/day");
	/* a field of its own unit: the number, never e-notation */
	r.slope = -123456.0 / 3600;
	assert_string_equal(reason_of(&r, "free_count", -1, &rules),
	                    "loses 123456/h since 2023-11-14 22:13:20, -85.7 "
	                    "%/day");
	r.slope = 300.0 / 3600;
	r.rate_pct_day = 1.5;
	/* below an absolute --min-rate, said in it */
	r.why = LEAK_WHY_BELOW_RATE;
	rules.min_rate_abs = 10.0 / 60; /* 10 B/min */
	r.slope = -2.0 / 60;
	r.rate_pct_day = -3;
	assert_string_equal(reason_of(&r, "free_heap", -1, &rules),
	                    "loses 2 B/min, -3 %/day, below --min-rate 10 "
	                    "B/min");
	rules.min_rate_abs = NAN;
	/* stale: how old, from when, over what */
	r.why = LEAK_WHY_STALE;
	r.age_s = 26 * 3600;
	r.last_ts = T0;
	r.max_age_s = 7200;
	assert_string_equal(reason_of(&r, "anon_kb", 1, &rules),
	                    "the last sample is 26h 00m old, from 2023-11-14 "
	                    "22:13:20: over --max-age 2h 00m");
	r.why = LEAK_WHY_EPISODES;
	r.episodes = 3;
	r.rise = 1024;
	r.growing_s = 7200;
	r.flat_since = T0 + 3600;
	assert_string_equal(reason_of(&r, "anon_kb", 1, &rules),
	                    "grows in episodes: 3 episodes, 1.0 MB in all, 512 "
	                    "KB/h while growing; never back down, flat since "
	                    "2023-11-14 23:13:20");
	r.why = LEAK_WHY_FAULTS;
	r.fault_in_slope = 600.0 / 3600;
	r.fault_out_slope = 0;
	r.fault_periods = 2;
	r.fault_s = 10800;
	assert_string_equal(reason_of(&r, "anon_kb", 1, &rules),
	                    "grows only during faults: 600 KB/h inside (2 "
	                    "periods, 3h 00m), 0 KB/h outside");
	r.why = LEAK_WHY_LIMIT_SOON;
	r.slope = 1228.8 / 3600;
	r.time_to_limit_s = 7200;
	rules.limit = 65536;
	assert_string_equal(
	    reason_of(&r, "anon_kb", 1, &rules),
	    "at 1.2 MB/h the limit 64.0 MB is reached in 2h 00m");
	r.why = LEAK_WHY_CAME_BACK;
	r.rise = 2048;
	r.fall = 1536;
	assert_string_equal(reason_of(&r, "anon_kb", 1, &rules),
	                    "rose by 2.0 MB and came back by 1.5 MB");
	assert_string_equal(reason_of(&r, "free_kb", -1, &rules),
	                    "fell by 2.0 MB and came back by 1.5 MB");
	r.why = LEAK_WHY_STEADY;
	r.slope = 0;
	r.slope_p = 0.5;
	assert_string_equal(reason_of(&r, "rss_kb", 1, &rules),
	                    "no significant trend: 0 KB/h now, p 0.5");
	r.why = LEAK_WHY_TOO_RECENT;
	r.now_points = 7;
	assert_string_equal(reason_of(&r, "rss_kb", 1, &rules),
	                    "rises since 2023-11-14 22:13:20, over the last 7 "
	                    "samples only: too recent to tell a trend");
	/* psrecord's stamps are seconds since its start, not dates */
	r.onset_ts = 90;
	assert_string_equal(reason_of(&r, "rss_kb", 1, &rules),
	                    "rises since +90s, over the last 7 samples only: "
	                    "too recent to tell a trend");
	/* where's reasons are where's */
	r.why = LEAK_WHY_ARENAS;
	assert_string_equal(reason_of(&r, "anon_kb", 1, &rules), "");
	assert_string_equal(leak_kind_name(LEAK_RISE), "rise");
	assert_string_equal(leak_kind_name(LEAK_FLAT), "flat");
}

static void
values_for_people(void **state)
{
	char b[HUMAN_MAX];

	(void)state;
	assert_string_equal(human_value(b, sizeof(b), "rss_kb", 99.6),
	                    "100 KB");
	assert_string_equal(human_value(b, sizeof(b), "rss_kb", -0.2), "0 KB");
	assert_string_equal(human_value(b, sizeof(b), "rss_kb", 1536),
	                    "1.5 MB");
	assert_string_equal(human_value(b, sizeof(b), "rss_kb", 300 * 1024),
	                    "300 MB");
	/* heaps and *_bytes in bytes, other fields as numbers */
	assert_string_equal(human_value(b, sizeof(b), "heap", -0.0), "0 B");
	assert_string_equal(human_value(b, sizeof(b), "free_heap", 137300),
	                    "134 KB");
	assert_string_equal(human_value(b, sizeof(b), "rx_bytes", 82), "82 B");
	assert_string_equal(human_value(b, sizeof(b), "count", 123456),
	                    "123456");
	assert_string_equal(human_value(b, sizeof(b), "count", 1.25e-5),
	                    "0.0000125");
	assert_string_equal(human_value(b, sizeof(b), "count", -0.0), "0");
	assert_string_equal(human_rate(b, sizeof(b), "free_heap", -82.0 / 60),
	                    "-82 B/min");
	assert_string_equal(human_rate(b, sizeof(b), "anon_kb", 0.05),
	                    "180 KB/h");
	assert_string_equal(human_rate(b, sizeof(b), "count", 1), "3600/h");
	/* a slow leak keeps a decimal, not "0 B/min" */
	assert_string_equal(human_rate(b, sizeof(b), "free_heap", -0.4 / 60),
	                    "-0.4 B/min");
	assert_string_equal(human_rate(b, sizeof(b), "anon_kb", 2.5 / 3600),
	                    "2.5 KB/h");
	assert_string_equal(human_pct(b, sizeof(b), 13.97), "+13.97");
	assert_string_equal(human_pct(b, sizeof(b), -102.4), "-102");
	assert_string_equal(human_pct(b, sizeof(b), 0), "0");
	assert_int_equal(human_unit_of("rss_kib"), HUMAN_KIB);
	assert_string_equal(human_value(b, sizeof(b), "rss_kb", NAN), "n/a");
	assert_string_equal(human_duration(b, sizeof(b), 4.25), "4.2s");
	assert_string_equal(human_duration(b, sizeof(b), 725), "12m 05s");
	assert_string_equal(human_duration(b, sizeof(b), 3600), "1h 00m");
	assert_string_equal(human_duration(b, sizeof(b), 86400 * 3 + 3600 * 4),
	                    "3d 04h");
	assert_string_equal(human_duration(b, sizeof(b), NAN), "never");
}

/* A where set of n minutely readings: anon and threads from the arenas
 * of arenas(i), the heap at heap(i). */
static void
readings(struct where_set *w, int n, double (*arenas)(int), double (*heap)(int))
{
	struct where_reading r;
	int i;

	for (i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		r.ts = T0 + 60 * i;
		r.arenas = arenas(i);
		r.threads = arenas(i);
		r.class_kb[SMAPS_ANON] = 65536 * arenas(i);
		r.class_kb[SMAPS_HEAP] = heap(i);
		r.class_kb[SMAPS_FILE] = 9000;
		assert_int_equal(where_add(w, &r), 0);
	}
}

static double
two_then_twenty(int i)
{
	return i < 20 ? 2 : i < 40 ? 2 + (i - 19) * 0.9 : 20;
}

static double
two(int i)
{
	(void)i;
	return 2;
}

static double
flat_heap(int i)
{
	(void)i;
	return 4000;
}

static double
growing_heap(int i)
{
	return 4000 + 100 * i;
}

static void
where_judges_and_words(void **state)
{
	struct where_set w;
	struct where_findings f;
	struct leak_result r;
	char buf[512];
	int i;

	(void)state;
	/* arenas multiplying with threads, each as large: fragmentation */
	memset(&w, 0, sizeof(w));
	readings(&w, 60, two_then_twenty, flat_heap);
	memset(&r, 0, sizeof(r));
	r.verdict = LEAK_LEAK;
	r.why = LEAK_WHY_GROWS;
	r.onset_ts = T0;
	assert_int_equal(where_judge(&w, &r, &f), 0);
	assert_true(f.known);
	assert_int_equal(r.verdict, LEAK_FRAGMENTATION);
	assert_int_equal(r.why, LEAK_WHY_ARENAS);
	assert_true(where_reason(buf, sizeof(buf), &r, &f, NULL));
	assert_string_equal(buf, "arena heaps multiply with the threads (2 to "
	                         "20 arenas, 2 to 20 threads), each about "
	                         "64.0 MB: new arenas, not more memory in use "
	                         "(MALLOC_ARENA_MAX)");
	assert_string_equal(f.items[0].name, "[anon]");
	/* the same evidence does not make a steady series anything */
	r.verdict = LEAK_STEADY;
	r.why = LEAK_WHY_STEADY;
	assert_int_equal(where_judge(&w, &r, &f), 0);
	assert_int_equal(r.verdict, LEAK_STEADY);
	assert_false(where_reason(buf, sizeof(buf), &r, &f, NULL));
	/* too little data: known, not judged */
	r.verdict = LEAK_INSUFFICIENT;
	assert_int_equal(where_judge(&w, &r, &f), 0);
	assert_true(f.known);
	assert_int_equal(f.nitems, 0);
	where_free(&w);

	/* the heap grows, the program's own allocations do not */
	memset(&w, 0, sizeof(w));
	readings(&w, 60, two, growing_heap);
	for (i = 0; i < 60; i++)
		assert_int_equal(where_add_alloc(&w, T0 + 60 * i, 5000), 0);
	memset(&r, 0, sizeof(r));
	r.verdict = LEAK_LEAK;
	r.why = LEAK_WHY_GROWS;
	r.onset_ts = T0;
	assert_int_equal(where_judge(&w, &r, &f), 0);
	assert_int_equal(r.verdict, LEAK_FRAGMENTATION);
	assert_int_equal(r.why, LEAK_WHY_HEAP_NOT_ALLOC);
	assert_string_equal(f.items[0].name, "[heap]");
	assert_true(f.items[0].share > 0.99);
	assert_true(where_reason(buf, sizeof(buf), &r, &f, "tracemalloc_kb"));
	assert_string_equal(buf, "the brk heap grows 5.9 MB/h while the "
	                         "allocations (tracemalloc_kb) grow 0 KB/h: "
	                         "memory freed but not given back");
	where_words(buf, sizeof(buf), "[heap]");
	assert_string_equal(buf, "the brk heap");
	where_words(buf, sizeof(buf), "libssl.so.3");
	assert_string_equal(buf, "the file mapping libssl.so.3");
	where_free(&w);

	/* no readings: nothing known, nothing changed */
	memset(&w, 0, sizeof(w));
	r.verdict = LEAK_LEAK;
	assert_int_equal(where_judge(&w, &r, &f), 0);
	assert_false(f.known);
	assert_int_equal(r.verdict, LEAK_LEAK);
}

/* What a printer wrote to a temporary stream, NUL-terminated (free it). */
static char *
contents(FILE *fp)
{
	long n = ftell(fp);
	char *s = calloc(1, (size_t)n + 1);

	rewind(fp);
	assert_int_equal(fread(s, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return s;
}

/* The same calls as text and as JSON. */
static void
some_facts(struct printer *p)
{
	print_line(p, PRINT_ANY, "  a $2, b $1$3\n");
	print_num(p, PRINT_ANY, "b", "%.1f", 1.25);
	print_str(p, PRINT_ANY, "a", "%-3s|", "x");
	print_num(p, PRINT_JSON, "json_only", NULL, NAN);
	print_bool_as(p, PRINT_ANY, "flag", true, " (flagged)");
	print_line_end(p);
	print_str(p, PRINT_TEXT, NULL, "%s", "plain\n");
	print_line(p, 0, "  never $1\n"); /* a line left out of the text */
	print_uint(p, PRINT_JSON, "n", NULL, 7);
	print_line_end(p);
	print_open_array(p, "list");
	print_num_as(p, PRINT_ANY, NULL, 3600, "1h\n");
	print_close_array(p);
}

static void
one_call_two_forms(void **state)
{
	struct timespec ts = {1700000000, 500000000};
	struct jsonl_writer w;
	struct printer p;
	FILE *fp;
	char *s;

	(void)state;
	fp = tmpfile();
	print_text_init(&p, fp);
	some_facts(&p);
	s = contents(fp);
	assert_string_equal(s, "  a x  |, b 1.2 (flagged)\nplain\n1h\n");
	free(s);
	fp = tmpfile();
	jsonl_writer_init(&w, fp);
	jsonl_begin(&w, &ts, "t");
	print_json_init(&p, &w);
	some_facts(&p);
	assert_int_equal(jsonl_end(&w), 0);
	jsonl_writer_free(&w);
	s = contents(fp);
	assert_string_equal(s, "{\"ts\":1700000000.5,\"src\":\"t\",\"b\":1.25,"
	                       "\"a\":\"x\",\"json_only\":null,\"flag\":true,"
	                       "\"n\":7,\"list\":[3600]}\n");
	free(s);
}

/* A verdict of a known leak, printed both ways. */
static void
report_and_json_say_the_same(void **state)
{
	struct leak_rules rules;
	struct leak_stream st;
	struct leak_result r;
	struct leak_report v;
	char *text, *line, want[600], why[512];
	json_t *j;
	FILE *fp;
	int i;

	(void)state;
	leak_rules_default(&rules);
	assert_int_equal(leak_stream_init_cap(&st, 1, &rules, 512), 0);
	for (i = 0; i < 600; i++) {
		struct leak_sample x = {.ts = T0 + 60 * i,
		                        .value = 20000 + 5 * i + (i % 7),
		                        .aux = NAN,
		                        .age_s = NAN};

		leak_stream_add(&st, &x);
	}
	leak_series_flush(&st.series);
	assert_int_equal(leak_classify(&st.series, &rules, NULL, &r), 0);
	assert_int_equal(r.verdict, LEAK_LEAK);
	v = (struct leak_report){.field = "anon_kb",
	                         .rules = &rules,
	                         .stream = &st,
	                         .res = &r,
	                         .malformed = 2};
	fp = tmpfile();
	assert_int_equal(leak_report_write(fp, false, &v), 0);
	text = contents(fp);
	leak_report_reason(why, sizeof(why), &v);
	snprintf(want, sizeof(want), "anon_kb: leak (%s)\n", why);
	assert_memory_equal(text, want, strlen(want));
	assert_non_null(
	    strstr(text, "\n  series    600 samples over 9h 59m, "));
	/* the statistics are -v's */
	assert_null(strstr(text, "\n  now "));
	assert_null(strstr(text, "Theil-Sen"));
	assert_null(strstr(text, "$")); /* every slot filled */
	free(text);
	v.verbose = true;
	fp = tmpfile();
	assert_int_equal(leak_report_write(fp, false, &v), 0);
	text = contents(fp);
	assert_non_null(strstr(text, "\n  now       300 KB/h (+"));
	assert_non_null(strstr(text, "\n  overall   Theil-Sen 300 KB/h"));
	assert_null(strstr(text, "$"));
	free(text);
	v.verbose = false;
	fp = tmpfile();
	assert_int_equal(leak_report_write(fp, true, &v), 0);
	line = contents(fp);
	j = json_loads(line, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "verdict")),
	                    "leak");
	assert_string_equal(json_string_value(json_object_get(j, "reason")),
	                    why);
	assert_int_equal(json_integer_value(json_object_get(j, "samples")),
	                 600);
	assert_int_equal(json_integer_value(json_object_get(j, "malformed")),
	                 2);
	assert_float_equal(json_number_value(json_object_get(j, "slope_per_h")),
	                   300, 3);
	assert_null(json_object_get(j, "where")); /* no maps read */
	json_decref(j);
	free(line);
	leak_stream_free(&st);
}

/* Lines into a timeline through a file, as the tools read them. */
static int
read_text(struct timeline *tl, const char *text)
{
	FILE *fp = tmpfile();
	int rc;

	fputs(text, fp);
	rewind(fp);
	rc = timeline_read(tl, fp, "t");
	fclose(fp);
	return rc;
}

static void
timeline_of_any_record(void **state)
{
	struct timeline_options o = {.max_line = JSONL_MAX_LINE, .child = -1};
	struct leak_rules rules;
	struct timeline tl;

	(void)state;
	msg_set_quiet(true); /* the malformed line is counted, not shown */
	leak_rules_default(&rules);
	o.pid = 42;
	assert_int_equal(timeline_init(&tl, &o, 1, &rules), 0);
	assert_int_equal(
	    read_text(
	        &tl, "{\"ts\":1700000000,\"pid\":42,\"start\":5,\"rss_kb\":900,"
	             "\"anon_kb\":100}\n"
	             "{\"ts\":1700000060,\"pid\":42,\"anon_kb\":110}\n"
	             "not json\n\n"
	             "{\"ts\":1700000120,\"pid\":7,\"anon_kb\":120}\n"
	             "{\"ts\":1.7e12,\"pid\":42,\"anon_kb\":130}\n"
	             "{\"ts\":1700000180,\"pid\":42,\"anon_kb\":2e18}\n"
	             "{\"ts\":1700000240,\"pid\":42}\n"
	             "{\"ts\":1700000250,\"pid\":42,\"event\":\"restart\"}\n"
	             "{\"ts\":1700000300,\"pid\":42,\"anon_kb\":150}\n"),
	    0);
	timeline_end(&tl);
	assert_string_equal(tl.field, "anon_kb"); /* the first record's */
	assert_int_equal(tl.malformed, 1);
	assert_int_equal(tl.filtered, 1);
	/* a value no memory is, a record without the field; the stamp in
	 * ms read as the time it is (older than the one before) */
	assert_int_equal(tl.skipped, 2);
	assert_int_equal(tl.st.done[0].samples + tl.st.out_of_order, 3);
	assert_int_equal(tl.st.total_segments, 1);
	assert_int_equal(tl.st.done[0].samples, 2);
	assert_int_equal(tl.st.series.samples, 1);
	timeline_free(&tl);

	/* another recorder's log, sniffed: CSV */
	o.pid = 0;
	o.field = "rss_kb";
	assert_int_equal(timeline_init(&tl, &o, 1, &rules), 0);
	assert_int_equal(read_text(&tl, "ts,rss_kb,threads\n"
	                                "1700000000,100,2\n"
	                                "1700000060,101,2\n"),
	                 0);
	timeline_end(&tl);
	assert_int_equal(tl.st.series.samples, 2);
	timeline_free(&tl);

	/* groups: a record stamped as the one before is delivered twice */
	o.field = NULL;
	o.nby = 1;
	o.by[0] = "host";
	assert_int_equal(timeline_init(&tl, &o, 1, &rules), 0);
	assert_int_equal(
	    read_text(&tl, "{\"ts\":1700000000,\"host\":\"a\",\"rss_kb\":1}\n"
	                   "{\"ts\":1700000000,\"host\":\"a\",\"rss_kb\":1}\n"
	                   "{\"ts\":1700000000,\"host\":\"b\",\"rss_kb\":2}\n"
	                   "{\"ts\":1700000060,\"host\":\"a\",\"rss_kb\":3}\n"),
	    0);
	timeline_end(&tl);
	assert_string_equal(tl.field, "rss_kb");
	assert_int_equal(tl.fleet.n, 2);
	assert_int_equal(fleet_get(&tl.fleet, "a", 1)->duplicates +
	                     fleet_get(&tl.fleet, "a", 1)->st.series.samples *
	                         10,
	                 21);
	timeline_free(&tl);
}

/* Times as records have them: ts, timestamp, time or t; in s, ms or ns;
 * ISO 8601; dotted paths; stamps that are no time counted apart. */
static void
times_and_paths(void **state)
{
	struct timeline_options o = {.max_line = JSONL_MAX_LINE, .child = -1};
	struct leak_rules rules;
	struct timeline tl;
	char seen[256];

	(void)state;
	msg_set_quiet(true);
	leak_rules_default(&rules);
	assert_float_equal(timeline_seconds("t", 1.7e12), 1.7e9, 1e-3);
	assert_float_equal(timeline_seconds("t", 1.7e18), 1.7e9, 1e-3);
	assert_float_equal(timeline_seconds("uptime_ms", 5000), 5, 0);
	assert_float_equal(timeline_seconds("ts", 1.7e9), 1.7e9, 0);
	o.field = "payload.free_heap";
	assert_int_equal(timeline_init(&tl, &o, -1, &rules), 0);
	assert_int_equal(
	    read_text(
	        &tl,
	        "{\"timestamp\":\"2023-11-14T22:13:20Z\",\"payload\":"
	        "{\"free_heap\":1000}}\n"
	        "{\"time\":1700000060000,\"payload\":{\"free_heap\":990}}\n"
	        "{\"t\":\"2023-11-14T23:15:20+01:00\",\"payload\":"
	        "{\"free_heap\":980}}\n"
	        "{\"ts\":0,\"payload\":{\"free_heap\":970}}\n"
	        "{\"ts\":-5,\"payload\":{\"free_heap\":960}}\n"
	        "{\"ts\":\"soon\",\"payload\":{\"free_heap\":950}}\n"),
	    0);
	timeline_end(&tl);
	assert_int_equal(tl.st.series.samples, 3);
	assert_float_equal(tl.st.series.t0, 1700000000, 1e-6);
	assert_float_equal(tl.st.series.last_ts, 1700000120, 1e-6);
	assert_int_equal(tl.bad_ts, 3);
	assert_false(timeline_field_missing(&tl, seen, sizeof(seen)));
	timeline_free(&tl);
	/* --time-field: that one only; a field never there is named */
	o.field = "heap";
	o.time_field = "when_ms";
	assert_int_equal(timeline_init(&tl, &o, 1, &rules), 0);
	assert_int_equal(read_text(&tl, "{\"when_ms\":5000,\"ts\":1,\"free\":"
	                                "3,\"x\":{\"y\":2,\"s\":\"a\"}}\n"),
	                 0);
	timeline_end(&tl);
	assert_true(timeline_field_missing(&tl, seen, sizeof(seen)));
	assert_string_equal(seen, "ts, free, x.y");
	timeline_free(&tl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reasons_in_words),
	    cmocka_unit_test(values_for_people),
	    cmocka_unit_test(where_judges_and_words),
	    cmocka_unit_test(one_call_two_forms),
	    cmocka_unit_test(report_and_json_say_the_same),
	    cmocka_unit_test(timeline_of_any_record),
	    cmocka_unit_test(times_and_paths),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
