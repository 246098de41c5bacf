/* Unit tests of lib/cli: durations, sizes, limits, signals, usage errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "cli.h"
#include "parse.h"

static void
durations(void **state)
{
	static const struct {
		const char *text;
		uint64_t ms;
	} good[] = {{"500ms", 500},   {"5s", 5000},     {"2m", 120000},
	            {"6h", 21600000}, {"1d", 86400000}, {"1.5s", 1500},
	            {"3", 3000},      {"0", 0},         {"10min", 600000}};
	static const char *const bad[] = {"",   "s",   "-1s", "5x", "1e400",
	                                  "ms", "5 s", "abc", NULL};
	uint64_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(parse_duration(good[i].text, &ms), 0);
		assert_int_equal(ms, good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_duration(bad[i], &ms), -1);
}

static void
sizes(void **state)
{
	double v;
	bool suffix;

	(void)state;
	assert_int_equal(parse_size("128M", &v, &suffix), 0);
	assert_float_equal(v, 128.0 * 1024 * 1024, 0);
	assert_true(suffix);
	assert_int_equal(parse_size("512k", &v, &suffix), 0);
	assert_float_equal(v, 512.0 * 1024, 0);
	assert_int_equal(parse_size("1.5GiB", &v, &suffix), 0);
	assert_float_equal(v, 1.5 * 1024 * 1024 * 1024, 0);
	assert_int_equal(parse_size("4096", &v, &suffix), 0);
	assert_false(suffix);
	assert_float_equal(v, 4096, 0);
	assert_int_equal(parse_size("12Q", &v, &suffix), -1);
	assert_int_equal(parse_size("-5M", &v, &suffix), -1);
	assert_int_equal(parse_size("5MX", &v, &suffix), -1);
}

static void
field_limits(void **state)
{
	double v;

	(void)state;
	/* *_kb fields: sizes in KiB, a bare number is bytes */
	assert_int_equal(parse_field_limit("rss_kb", "128M", &v), 0);
	assert_float_equal(v, 131072, 0);
	assert_int_equal(parse_field_limit("rss_kb", "2048", &v), 0);
	assert_float_equal(v, 2, 0);
	/* other fields: their own units */
	assert_int_equal(parse_field_limit("threads", "40", &v), 0);
	assert_float_equal(v, 40, 0);
	assert_int_equal(parse_field_limit("threads", "x", &v), -1);
}

static void
signals(void **state)
{
	char buf[16];
	int sig;

	(void)state;
	assert_int_equal(parse_signal("TERM", &sig), 0);
	assert_int_equal(sig, SIGTERM);
	assert_int_equal(parse_signal("sigusr1", &sig), 0);
	assert_int_equal(sig, SIGUSR1);
	assert_int_equal(parse_signal("9", &sig), 0);
	assert_int_equal(sig, 9);
	assert_int_equal(parse_signal("NOPE", &sig), -1);
	assert_int_equal(parse_signal("0", &sig), -1);
	assert_string_equal(parse_signal_name(SIGKILL, buf), "KILL");
	assert_string_equal(parse_signal_name(SIGRTMIN + 1, buf),
	                    buf); /* numbered */
}

static void
longs(void **state)
{
	long v;

	(void)state;
	assert_int_equal(parse_long("247", 1, 247, &v), 0);
	assert_int_equal(v, 247);
	assert_int_equal(parse_long("248", 1, 247, &v), -1);
	assert_int_equal(parse_long("12a", 1, 247, &v), -1);
	assert_int_equal(parse_long("", 1, 247, &v), -1);
}

static void
usage_error_returns_two(void **state)
{
	FILE *saved = stderr;
	char buf[256] = {0};

	(void)state;
	cli_init("/usr/bin/tool");
	stderr = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(cli_usage_error("bad %s", "thing"), 2);
	fclose(stderr);
	stderr = saved;
	assert_string_equal(buf, "tool: bad thing\nTry 'tool --help'.\n");
}

/* The shared option pieces: durations by name, the bus choice, the
 * string slots and the go-on convention. */
static void
shared_option_pieces(void **state)
{
	uint64_t a = 7, b = 7;
	struct cli_duration d[] = {{"every", "250ms", &a}, {"none", NULL, &b}};
	struct cli_duration bad[] = {{"every", "soon", &a}};
	struct cli_bus bus = {0};
	const char *which = "x";
	struct cli_strings strings = {0};
	char *s1 = NULL, *s2 = NULL;

	(void)state;
	assert_int_equal(cli_parse_durations(d, 2), CLI_CONTINUE);
	assert_int_equal(a, 250);
	assert_int_equal(b, 7);
	assert_int_equal(cli_parse_durations(bad, 1), CLI_EXIT_USAGE);
	assert_int_equal(cli_bus_choice(&bus, &which), CLI_CONTINUE);
	assert_null(which);
	bus.session = 1;
	assert_int_equal(cli_bus_choice(&bus, &which), CLI_CONTINUE);
	assert_string_equal(which, "session");
	bus.address = "unix:path=/x";
	assert_int_equal(cli_bus_choice(&bus, &which), CLI_EXIT_USAGE);
	CLI_STRINGS_TRACK(&strings, &s1, &s2);
	assert_int_equal(strings.n, 2);
	assert_true(CLI_CONTINUE < 0);
	assert_int_equal(cli_parse_max_rss(NULL, &(double){0}), CLI_CONTINUE);
}

/* --min-rate's rates: relative, a size a time, a number a time. */
static void
slopes(void **state)
{
	enum parse_slope_kind k;
	double v;

	(void)state;
	assert_int_equal(parse_slope("1%/day", &v, &k), 0);
	assert_int_equal(k, PARSE_SLOPE_PCT_DAY);
	assert_float_equal(v, 1, 1e-12);
	assert_int_equal(parse_slope("2.5", &v, &k), 0);
	assert_float_equal(v, 2.5, 1e-12);
	assert_int_equal(parse_slope("1%/h", &v, &k), 0);
	assert_float_equal(v, 24, 1e-12);
	assert_int_equal(parse_slope("50B/min", &v, &k), 0);
	assert_int_equal(k, PARSE_SLOPE_BYTES);
	assert_float_equal(v, 50.0 / 60, 1e-12);
	assert_int_equal(parse_slope("2K/h", &v, &k), 0);
	assert_float_equal(v, 2048.0 / 3600, 1e-12);
	assert_int_equal(parse_slope("1M/day", &v, &k), 0);
	assert_float_equal(v, 1048576.0 / 86400, 1e-9);
	assert_int_equal(parse_slope("100/h", &v, &k), 0);
	assert_int_equal(k, PARSE_SLOPE_PLAIN);
	assert_float_equal(v, 100.0 / 3600, 1e-12);
	assert_int_equal(parse_slope("50B/fortnight", &v, &k), -1);
	assert_int_equal(parse_slope("fast", &v, &k), -1);
	assert_int_equal(parse_slope("/h", &v, &k), -1);
	assert_int_equal(parse_slope("1K%/day", &v, &k), -1);
	assert_int_equal(parse_slope("", &v, &k), -1);
}

/* ISO 8601 as records carry it. */
static void
iso_times(void **state)
{
	static const struct {
		const char *text;
		double ts;
	} good[] = {{"2023-11-14T22:13:20Z", 1700000000},
	            {"2023-11-14T22:13:20.25Z", 1700000000.25},
	            {"2023-11-14 23:13:20+01:00", 1700000000},
	            {"2023-11-14T17:43:20-0430", 1700000000},
	            {"2023-11-14T22:13Z", 1699999980},
	            {"2023-11-14T22:13:20", 1700000000}}; /* local: TZ=UTC */
	static const char *const bad[] = {
	    "2023-11-14",           "2023-13-14T22:13:20Z",
	    "2023-11-14T25:13:20Z", "2023-11-14T22:13:20Q",
	    "14/11/2023 22:13",     "2023-11-14T22:13:20+1"};
	double ts;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(
		    parse_iso8601(good[i].text, strlen(good[i].text), &ts), 0);
		assert_float_equal(ts, good[i].ts, 1e-6);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_iso8601(bad[i], strlen(bad[i]), &ts),
		                 -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(durations),
	    cmocka_unit_test(sizes),
	    cmocka_unit_test(field_limits),
	    cmocka_unit_test(signals),
	    cmocka_unit_test(longs),
	    cmocka_unit_test(slopes),
	    cmocka_unit_test(iso_times),
	    cmocka_unit_test(usage_error_returns_two),
	    cmocka_unit_test(shared_option_pieces),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
