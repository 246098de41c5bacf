/* Unit tests of lib/jsonl: the writer's numbers and strings, the reader's
 * error accounting, and the fast scanner agreeing with jansson. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "jsonl.h"

/* The next line that is a JSON object: 1 with *obj, 0 at EOF, -1 error. */
static int
read_object(struct jsonl_reader *r, json_t **obj)
{
	int rc;

	while ((rc = jsonl_next_line(r)) == 1) {
		*obj = jsonl_parse_line(r);
		if (*obj != NULL)
			return 1;
	}
	return rc;
}

static void
shortest_doubles(void **state)
{
	static const struct {
		double v;
		const char *text;
	} cases[] = {{230.1, "230.1"},
	             {0.1, "0.1"},
	             {1.0 / 3, "0.3333333333333333"},
	             {100, "100"},
	             {-2.5, "-2.5"},
	             {1e21, "1e+21"},
	             {5e-324, "5e-324"},
	             {0, "0"},
	             {1795289516.482, "1795289516.482"}};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jsonl_format_double(buf, cases[i].v);
		assert_string_equal(buf, cases[i].text);
		assert_true(strtod(buf, NULL) == cases[i].v);
	}
	jsonl_format_double(buf, NAN);
	assert_string_equal(buf, "null");
	jsonl_format_double(buf, INFINITY);
	assert_string_equal(buf, "null");
}

static void
round_trip_random_doubles(void **state)
{
	char buf[32];
	int i;

	(void)state;
	srand(3);
	for (i = 0; i < 20000; i++) {
		double v = ((double)rand() / RAND_MAX - 0.5) *
		           pow(10, rand() % 40 - 20);

		jsonl_format_double(buf, v);
		assert_true(strtod(buf, NULL) == v);
	}
}

/* The exact way: the fewest %.Ng digits that read back as v. */
static void
shortest_by_printf(char *buf, double v)
{
	int p;

	for (p = 1; p <= 17; p++) {
		snprintf(buf, 32, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* Grisu3 (dtoa) gives what printf gives, over all exponents and over
 * calibrated sensor values, powers of two included. */
static void
grisu_matches_printf(void **state)
{
	uint64_t x = 88172645463325252ULL, bits;
	char fast[32], exact[32];
	double v;
	int i;

	(void)state;
	for (i = 0; i < 300000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		bits = x & ~(0x7ffULL << 52);
		bits |= (uint64_t)(1 + x % 2046) << 52; /* normal, finite */
		if (i % 3 == 0)
			memcpy(&v, &bits, sizeof(v));
		else if (i % 3 == 1)
			v = (double)(x >> 32) * 3e-9 - 2.5e-9;
		else
			v = ldexp(1.0, (int)(x % 2000) - 1000);
		if (v == trunc(v) && fabs(v) < 9007199254740992.0)
			continue;
		jsonl_format_double(fast, v);
		shortest_by_printf(exact, v);
		/* At powers of two the gap below v is half the one above:
		 * there the shortest digits need not be printf's rounding
		 * (Python's repr agrees with Grisu). */
		assert_true(strtod(fast, NULL) == v);
		assert_true(strlen(fast) <= strlen(exact));
		if (strlen(fast) == strlen(exact))
			assert_string_equal(fast, exact);
	}
}

/* Write one record to a memory stream and return the line. */
static char *
render(void (*fill)(struct jsonl_writer *))
{
	static char out[1024];
	struct jsonl_writer w;
	struct timespec ts = {1700000000, 120000000};
	FILE *fp = fmemopen(out, sizeof(out), "w");

	jsonl_writer_init(&w, fp);
	jsonl_begin(&w, &ts, "test");
	fill(&w);
	assert_int_equal(jsonl_end(&w), 0);
	fclose(fp);
	jsonl_writer_free(&w);
	return out;
}

static void
fill_mixed(struct jsonl_writer *w)
{
	jsonl_str(w, "s", "a\"b\\c\n\t\x01\xc3\xa9\xff");
	jsonl_uint(w, "big", 18446744073709551615ULL);
	jsonl_int(w, "neg", -9223372036854775807LL - 1);
	jsonl_null(w, "n");
	jsonl_bool(w, "b", false);
	jsonl_array_open(w, "a");
	jsonl_double(w, NULL, 1.5);
	jsonl_object_open(w, NULL);
	jsonl_double(w, "x", NAN);
	jsonl_object_close(w);
	jsonl_array_close(w);
}

static void
writer_escapes_and_integers(void **state)
{
	json_error_t e;
	json_t *obj;
	char *line;

	(void)state;
	line = render(fill_mixed);
	assert_string_equal(
	    line, "{\"ts\":1700000000.12,\"src\":\"test\","
	          "\"s\":\"a\\\"b\\\\c\\n\\t\\u0001\xc3\xa9\xef\xbf\xbd\","
	          "\"big\":1.8446744073709552e+19,"
	          "\"neg\":-9223372036854775808,\"n\":null,\"b\":false,"
	          "\"a\":[1.5,{\"x\":null}]}\n");
	/* and jansson reads it back */
	obj = json_loads(line, JSON_DECODE_INT_AS_REAL, &e);
	assert_non_null(obj);
	json_decref(obj);
}

static void
reader_counts_malformed_lines(void **state)
{
	const char *input = "{\"a\":1}\n\n   \n{bad\n[1,2]\n{\"b\":2}\n";
	FILE *fp = fmemopen((void *)input, strlen(input), "r");
	struct jsonl_reader r;
	json_t *obj;
	int n = 0;

	(void)state;
	jsonl_reader_init(&r, fp, "mem");
	r.report_limit = 0; /* keep the test output clean */
	while (read_object(&r, &obj) == 1) {
		n++;
		json_decref(obj);
	}
	assert_int_equal(n, 2);
	assert_int_equal(r.malformed, 2);
	assert_int_equal(r.lineno, 6);
	jsonl_reader_free(&r);
	fclose(fp);
}

static void
scanner_picks_fields(void **state)
{
	const char *line =
	    " {\"ts\": 12.5, \"x\": {\"ts\": 1}, \"rss_kb\": 300,"
	    " \"ev\\u0065nt\": \"restart\", \"ok\": false,"
	    " \"s\": \"a\\\"b\"} ";
	struct jsonl_field f[] = {{.name = "ts"},    {.name = "rss_kb"},
	                          {.name = "event"}, {.name = "ok"},
	                          {.name = "s"},     {.name = "missing"}};
	int col = 0;

	(void)state;
	assert_int_equal(jsonl_scan(line, strlen(line), f, 6, &col), 0);
	assert_int_equal(f[0].type, JSONL_NUMBER);
	assert_float_equal(f[0].num, 12.5, 0); /* the nested ts is ignored */
	assert_float_equal(f[1].num, 300, 0);
	assert_int_equal(f[2].type, JSONL_STRING); /* escaped key matched */
	assert_int_equal(f[2].str_len, 7);
	assert_int_equal(f[3].type, JSONL_FALSE);
	assert_true(f[4].str_escaped);
	assert_int_equal(f[5].type, JSONL_ABSENT);
}

static void
scanner_fills_a_name_asked_twice(void **state)
{
	const char *line = "{\"anon_kb\": 7, \"ts\": 1}";
	struct jsonl_field f[] = {
	    {.name = "anon_kb"}, {.name = "ts"}, {.name = "anon_kb"}};
	int col;

	(void)state;
	assert_int_equal(jsonl_scan(line, strlen(line), f, 3, &col), 0);
	assert_int_equal(f[2].type, JSONL_NUMBER);
	assert_float_equal(f[2].num, 7, 0);
	assert_string_equal(f[2].name, "anon_kb");
}

/* The scanner's fast decimal path must give strtod's double, always. */
static void
scanner_numbers_match_strtod(void **state)
{
	static const char *const fixed[] = {"0",
	                                    "-0",
	                                    "0.1",
	                                    "123456789012345",
	                                    "1234567890123456",
	                                    "0.000000000000000000001",
	                                    "-7.25",
	                                    "1795289516.482",
	                                    "9007199254740993",
	                                    "1e5",
	                                    "2.5E-3",
	                                    "0.30000000000000004"};
	char line[96], num[48];
	size_t i;
	int col;

	(void)state;
	srand(11);
	for (i = 0; i < 40000; i++) {
		struct jsonl_field f[] = {{.name = "v"}};

		if (i < sizeof(fixed) / sizeof(fixed[0]))
			snprintf(num, sizeof(num), "%s", fixed[i]);
		else
			snprintf(num, sizeof(num), "%.*f", rand() % 12,
			         ((double)rand() / RAND_MAX - 0.5) *
			             pow(10, rand() % 16));
		snprintf(line, sizeof(line), "{\"v\":%s}", num);
		assert_int_equal(jsonl_scan(line, strlen(line), f, 1, &col), 0);
		if (f[0].num != strtod(num, NULL))
			fail_msg("%s read as %.17g", num, f[0].num);
	}
}

/* The scanner and jansson must agree on what is a valid object. */
static void
scanner_agrees_with_jansson(void **state)
{
	static const char *const lines[] = {"{}",
	                                    "{\"a\":1}",
	                                    "{\"a\":[1,2,{\"b\":null}]}",
	                                    "{\"a\":-0.5e-3}",
	                                    "{\"a\":01}",
	                                    "{\"a\":1.}",
	                                    "{\"a\":.5}",
	                                    "{\"a\":+1}",
	                                    "{\"a\":1,}",
	                                    "{\"a\" 1}",
	                                    "{\"a\":tru}",
	                                    "{\"a\":\"x\ty\"}",
	                                    "{\"a\":\"\\u0000\"}",
	                                    "{\"a\":\"\\ud800\"}",
	                                    "{\"a\":\"\\ud83d\\ude00\"}",
	                                    "{\"a\":\"\xff\"}",
	                                    "{\"a\":1} x",
	                                    "[1]",
	                                    "\"s\"",
	                                    "{\"a\":1e400}",
	                                    "{\"a\":99999999999999999999}",
	                                    "{\"a\":-9223372036854775808}",
	                                    "{\"a\":9223372036854775808}",
	                                    "{\"a\":1e-400}",
	                                    "{\"a\":\"\\x\"}",
	                                    "{\"a\":NaN}",
	                                    "{1:2}",
	                                    "{\"a\":{\"b\":{\"c\":[[[]]]}}}",
	                                    "",
	                                    "{\"a\":\"\xc3\xa9\"}",
	                                    "{\"a\":\"\xe0\x80\x80\"}",
	                                    "{\"a\":true,\"a\":false}"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct jsonl_field f[] = {{.name = "a"}};
		json_error_t e;
		json_t *obj =
		    json_loadb(lines[i], strlen(lines[i]), JSON_ALLOW_NUL, &e);
		bool jansson_ok = obj != NULL && json_is_object(obj);
		int col;
		bool scan_ok =
		    jsonl_scan(lines[i], strlen(lines[i]), f, 1, &col) == 0;

		if (jansson_ok != scan_ok)
			fail_msg("disagree on line %zu: %s", i, lines[i]);
		json_decref(obj);
	}
}

/* Lines long enough for the eight-byte paths, mutated at random: the
 * scanner must still agree with jansson on validity, strings and numbers. */
static void
scanner_agrees_on_mutated_lines(void **state)
{
	static const char *const templates[] = {
	    "{\"a\":\"abcdefghijklmnopqrstuvwxyz0123456789\",\"b\":"
	    "1234567890123}",
	    "{\"a\":12345678901234.5678,\"key_with_a_long_name\":\"v\"}",
	    "{\"long_name_number_one\":\"x\",\"a\":-0.000012345678}",
	    "{\"a\":\"caf\xc3\xa9 \\u00e9 \\\" quoted \\\\ tail\"}"};
	static const char bytes[] =
	    "\"\\\x01\x1f\x7f\x80\xc3\xa9 09.-eE+u{}[],:a\0";
	char line[128];
	size_t i;

	(void)state;
	srand(5);
	for (i = 0; i < 200000; i++) {
		const char *t = templates[i % 4];
		size_t n = strlen(t), k, edits = 1 + (size_t)rand() % 3;
		struct jsonl_field f[] = {{.name = "a"}};
		json_error_t e;
		json_t *obj, *a;
		bool jansson_ok, scan_ok;
		int col;

		memcpy(line, t, n);
		for (k = 0; k < edits; k++)
			line[(size_t)rand() % n] =
			    bytes[(size_t)rand() % (sizeof(bytes) - 1)];
		/* as jsonl_parse_line reads: no raw NUL, then jansson */
		obj = memchr(line, '\0', n) != NULL
		          ? NULL
		          : json_loadb(line, n, JSON_ALLOW_NUL, &e);
		jansson_ok = obj != NULL && json_is_object(obj);
		scan_ok = jsonl_scan(line, n, f, 1, &col) == 0;
		if (jansson_ok != scan_ok)
			fail_msg("disagree on %.*s", (int)n, line);
		a = jansson_ok ? json_object_get(obj, "a") : NULL;
		if (json_is_string(a) && !f[0].str_escaped &&
		    (f[0].str_len != json_string_length(a) ||
		     memcmp(f[0].str, json_string_value(a), f[0].str_len)))
			fail_msg("string differs on %.*s", (int)n, line);
		if (json_is_number(a) && f[0].num != json_number_value(a))
			fail_msg("number differs on %.*s", (int)n, line);
		json_decref(obj);
	}
}

/* Lines over max_line are counted, reported and skipped, in files and
 * pipes; the buffer shrinks back after them. */
static void
reader_skips_long_lines(void **state)
{
	FILE *fp = tmpfile();
	struct jsonl_reader r;
	json_t *obj;
	int n = 0, i;

	(void)state;
	fputs("{\"a\":1}\n", fp);
	for (i = 0; i < 300000; i++)
		fputc('x', fp);
	fputs("\n{\"a\":2}\n", fp);
	for (i = 0; i < 5000; i++)
		fputc('y', fp); /* a last line, long, without newline */
	rewind(fp);
	jsonl_reader_init(&r, fp, "tmp");
	r.report_limit = 0;
	r.max_line = 4096;
	while (read_object(&r, &obj) == 1) {
		assert_int_equal(json_integer_value(json_object_get(obj, "a")),
		                 ++n);
		json_decref(obj);
	}
	assert_int_equal(n, 2);
	assert_int_equal(r.too_long, 2);
	assert_int_equal(r.malformed, 2);
	assert_int_equal(r.lineno, 4);
	assert_true(r.cap <= 1 << 17); /* never the whole long line */
	jsonl_reader_free(&r);
	fclose(fp);
}

/* The scanner stays inside len: nothing after it is read, whatever it is. */
static void
scanner_stays_within_len(void **state)
{
	static const char *lines[] = {
	    "{\"a\":92233720368547758070}", "{\"a\":1.5e3000}",
	    "{\"a\":\"abcdefgh\"}", "{\"a\":12345678}", "{\"a\":true}"};
	size_t i, cut;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		size_t n = strlen(lines[i]);

		for (cut = 1; cut < n; cut++) {
			/* exactly cut bytes, nothing after: ASan sees a read
			 * past them; here the error is at the end */
			char *buf = malloc(cut);
			struct jsonl_field f[] = {{.name = "a"}};
			int col = 0;

			memcpy(buf, lines[i], cut);
			if (jsonl_scan(buf, cut, f, 1, &col) == 0)
				fail_msg("%.*s accepted", (int)cut, buf);
			/* a number cut short is a number; the line is not */
			assert_true(col >= 1 && (size_t)col <= cut + 1);
			if (cut == 24 && i == 0)
				assert_int_equal(col,
				                 25); /* in range: the '}' */
			free(buf);
		}
	}
}

static uint64_t
next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Check one written line against both readers. */
static void
read_back(const char *line, size_t n, const char *s, size_t slen, double d,
          int64_t i, uint64_t u)
{
	struct jsonl_field f[] = {
	    {.name = "s"}, {.name = "d"}, {.name = "i"}, {.name = "u"}};
	json_error_t e;
	json_t *obj = json_loadb(line, n, JSON_ALLOW_NUL, &e), *js;
	int col;

	if (obj == NULL)
		fail_msg("jansson refuses what the writer wrote: %s (%.*s)",
		         e.text, (int)n, line);
	if (jsonl_scan(line, n, f, 4, &col) != 0)
		fail_msg("scanner refuses column %d of %.*s", col, (int)n,
		         line);
	js = json_object_get(obj, "s");
	/* valid UTF-8 comes back byte for byte, NULs included */
	if (s != NULL && (json_string_length(js) != slen ||
	                  memcmp(json_string_value(js), s, slen) != 0))
		fail_msg("string differs: %.*s", (int)n, line);
	if (isfinite(d) && (json_real_value(json_object_get(obj, "d")) != d &&
	                    json_integer_value(json_object_get(obj, "d")) != d))
		fail_msg("double differs: %.*s", (int)n, line);
	if (isfinite(d) && f[1].num != d)
		fail_msg("scanner's double differs: %.*s", (int)n, line);
	if (!isfinite(d) && !json_is_null(json_object_get(obj, "d")))
		fail_msg("non-finite not null: %.*s", (int)n, line);
	if (json_integer_value(json_object_get(obj, "i")) != i)
		fail_msg("int64 differs: %.*s", (int)n, line);
	if (json_number_value(json_object_get(obj, "u")) != (double)u ||
	    f[3].num != (double)u)
		fail_msg("uint64 differs: %.*s", (int)n, line);
	json_decref(obj);
}

/* Whatever the writer writes, the readers read back: random bytes as
 * strings, random bit patterns as doubles, int64 and uint64 extremes. */
static void
writer_and_readers_agree(void **state)
{
	struct jsonl_writer w;
	struct timespec ts = {1700000000, 0};
	uint64_t x = 88172645463325252ULL;
	char str[64];
	int k;

	(void)state;
	jsonl_writer_init(&w, NULL);
	for (k = 0; k < 200000; k++) {
		size_t slen = next_rand(&x) % sizeof(str), j;
		uint64_t bits = next_rand(&x), u = next_rand(&x);
		int64_t i = (int64_t)next_rand(&x);
		bool utf8 = k % 2 == 0;
		double d;
		char *line;

		for (j = 0; j < slen; j++) /* ASCII and NULs, or any byte */
			str[j] = (char)(utf8 ? next_rand(&x) % 128
			                     : next_rand(&x) % 256);
		memcpy(&d, &bits, sizeof(d));
		if (k % 3 == 0)
			d = (double)(int64_t)bits / 1e6;
		if (k < 4)
			i = k < 2 ? INT64_MIN : INT64_MAX,
			u = k % 2 ? UINT64_MAX : (uint64_t)INT64_MAX + 1;
		jsonl_begin(&w, &ts, "test");
		jsonl_strn(&w, "s", str, slen);
		jsonl_double(&w, "d", d);
		jsonl_int(&w, "i", i);
		jsonl_uint(&w, "u", u);
		jsonl_raw(&w, "}", 1);
		line = w.buf;
		read_back(line, w.len, utf8 ? str : NULL, slen, d, i, u);
	}
	jsonl_writer_free(&w);
}

/* The buffered half: stamps (cached seconds, negative ones), exact
 * seconds, CSV quoting, and the error state of jsonl_flush_fd(). */
static void
buffered_output_and_its_errors(void **state)
{
	struct jsonl_writer w;
	struct jsonl_stamp st;
	int fds[2];
	char got[256];
	ssize_t n;

	(void)state;
	jsonl_writer_init(&w, NULL);
	jsonl_stamp_init(&st, ",");
	jsonl_put_stamp(&w, &st, 1700000000000010000);
	jsonl_put_char(&w, ' ');
	jsonl_put_stamp(&w, &st, 1700000000500000000); /* same second */
	jsonl_put_char(&w, ' ');
	jsonl_put_stamp(&w, &st, 999); /* second 0: no leading zeros */
	jsonl_put_char(&w, ' ');
	jsonl_put_stamp(&w, &st, -1500000000);
	jsonl_put_char(&w, ' ');
	jsonl_put_seconds(&w, 42000000000);
	jsonl_put_char(&w, ' ');
	jsonl_put_i64(&w, INT64_MIN);
	jsonl_put_char(&w, ' ');
	jsonl_put_u64(&w, UINT64_MAX);
	jsonl_put_char(&w, ' ');
	jsonl_put_double(&w, NAN);
	jsonl_put_char(&w, ' ');
	jsonl_put_csv(&w, "a;b", 3, ';');
	jsonl_put_csv(&w, "say \"hi\"", 8, ',');
	jsonl_put_csv(&w, "plain", 5, ',');
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(jsonl_flush_fd(&w, fds[1]), 0);
	assert_int_equal(w.len, 0);
	n = read(fds[0], got, sizeof(got) - 1);
	assert_true(n > 0);
	got[n] = '\0';
	assert_string_equal(
	    got, "1700000000.00001,1700000000000010000 "
	         "1700000000.5,1700000000500000000 0.000000999,999 "
	         "-1.5,-1500000000 42 -9223372036854775808 "
	         "18446744073709551615 null \"a;b\"\"say \"\"hi\"\"\"plain");
	/* A reader gone: EPIPE kept, and every later flush fails at once. */
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	jsonl_put_str(&w, "lost\n");
	assert_int_equal(jsonl_flush_fd(&w, fds[1]), -1);
	assert_int_equal(w.error, EPIPE);
	assert_true(w.gone);
	jsonl_put_str(&w, "more\n");
	errno = 0;
	assert_int_equal(jsonl_flush_fd(&w, fds[1]), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(w.len, 0);
	close(fds[1]);
	/* Out of memory while building is ENOMEM at the flush. */
	jsonl_writer_free(&w);
	jsonl_writer_init(&w, NULL);
	w.failed = true;
	assert_int_equal(jsonl_flush_fd(&w, 1), -1);
	assert_int_equal(w.error, ENOMEM);
	jsonl_writer_free(&w);
}

/* multilog's t label before a record: its length, or 0 when not one */
static void
multilog_labels(void **state)
{
	const char *l = "@400000006569a2c01d2a3b4c {\"ts\":1}";

	(void)state;
	assert_int_equal(jsonl_tai64n_label(l, strlen(l)), 26);
	assert_int_equal(jsonl_tai64n_label(l, 25), 0);
	assert_int_equal(jsonl_tai64n_label("{\"ts\":1}", 8), 0);
	l = "@400000006569a2c01d2a3b4g {}"; /* not hex */
	assert_int_equal(jsonl_tai64n_label(l, strlen(l)), 0);
	l = "@400000006569a2c01d2a3b4c{}"; /* no space */
	assert_int_equal(jsonl_tai64n_label(l, strlen(l)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(shortest_doubles),
	    cmocka_unit_test(round_trip_random_doubles),
	    cmocka_unit_test(grisu_matches_printf),
	    cmocka_unit_test(writer_escapes_and_integers),
	    cmocka_unit_test(reader_counts_malformed_lines),
	    cmocka_unit_test(scanner_picks_fields),
	    cmocka_unit_test(scanner_fills_a_name_asked_twice),
	    cmocka_unit_test(scanner_numbers_match_strtod),
	    cmocka_unit_test(scanner_agrees_with_jansson),
	    cmocka_unit_test(scanner_agrees_on_mutated_lines),
	    cmocka_unit_test(reader_skips_long_lines),
	    cmocka_unit_test(scanner_stays_within_len),
	    cmocka_unit_test(writer_and_readers_agree),
	    cmocka_unit_test(buffered_output_and_its_errors),
	    cmocka_unit_test(multilog_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
