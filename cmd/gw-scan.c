/*
 * gw-scan: which Modbus units answer on this bus.  Probes each unit once
 * (absent units cost one timeout each, present ones one round trip), names
 * them from a map's identity registers, and with --every keeps watching for
 * units that appear and vanish.
 */
#include <err.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "jsonl.h"
#include "mb.h"
#include "parse.h"
#include "regmap.h"

struct options {
	struct mb_bus bus;
	bool units[256];
	int nunits;
	uint64_t timeout_ms, every_ms;
	long count;
	double max_rss_kb;
	bool progress;
};

struct scanner {
	const struct options *o;
	struct regmap map;
	bool have_map;
	modbus_t *ctx;
	bool present[256], was_present[256];
	struct jsonl_writer out;
};

static void
begin(struct scanner *s, int unit)
{
	struct timespec now = clock_wall();

	jsonl_begin(&s->out, &now, "gw-scan");
	jsonl_str(&s->out, "bus", s->o->bus.spec);
	if (unit > 0)
		jsonl_int(&s->out, "unit", unit);
}

/* Read one named identity register into the record. */
static void
identity(struct scanner *s, const char *key, const char *name)
{
	const struct mb_reg *r = name ? regmap_find(&s->map, name) : NULL;
	uint16_t words[MB_MAX_READ];
	struct mb_value v;
	int rc;

	if (r == NULL)
		return;
	rc = mb_read(s->ctx, r->fc, r->address, r->words, words);
	if (rc != r->words) {
		jsonl_null(&s->out, key);
		return;
	}
	mb_decode(r, words, &v);
	if (v.kind == MB_TEXT)
		jsonl_str(&s->out, key, v.text);
	else if (v.kind == MB_NUMBER)
		jsonl_double(&s->out, key, v.num);
	else
		jsonl_null(&s->out, key);
}

/*
 * Probe one unit.  Any answer, an exception included, means a device is
 * there; only silence means absent.  Returns -1 when output failed.
 */
static int
probe(struct scanner *s, int unit)
{
	enum mb_fc fc = s->have_map ? s->map.probe_fc : MB_INPUT;
	uint16_t addr = s->have_map ? s->map.probe_address : 0, word;
	uint64_t start = clock_mono_ms();
	char msg[300];
	int rc, e;

	s->present[unit] = false;
	if (s->ctx == NULL) {
		s->ctx = mb_connect(&s->o->bus, s->o->timeout_ms);
		if (s->ctx == NULL)
			return 0;
	}
	modbus_set_slave(s->ctx, unit);
	rc = mb_read(s->ctx, fc, addr, 1, &word);
	e = errno;
	if (rc != 1 && strcmp(mb_error_word(e), "timeout") == 0)
		return 0;
	if (rc != 1 && mb_error_needs_reconnect(e)) {
		modbus_close(s->ctx);
		modbus_free(s->ctx);
		s->ctx = NULL;
		return 0;
	}
	s->present[unit] = true;
	begin(s, unit);
	jsonl_bool(&s->out, "ok", rc == 1);
	jsonl_double(&s->out, "latency_ms", (double)(clock_mono_ms() - start));
	if (rc != 1) {
		jsonl_str(&s->out, "error", mb_error_word(e));
		jsonl_str(&s->out, "message",
		          mb_error_message(msg, sizeof(msg), e, &s->o->bus,
		                           unit, s->o->timeout_ms));
	} else if (s->have_map) {
		identity(s, "model", s->map.model);
		identity(s, "serial", s->map.serial);
		identity(s, "firmware", s->map.firmware);
	}
	return jsonl_end(&s->out);
}

static int
scan_done(struct scanner *s, int scanned, uint64_t start)
{
	int u;

	begin(s, 0);
	jsonl_str(&s->out, "event", "scan_done");
	jsonl_array_open(&s->out, "found");
	for (u = 1; u < 256; u++)
		if (s->present[u])
			jsonl_int(&s->out, NULL, u);
	jsonl_array_close(&s->out);
	jsonl_int(&s->out, "scanned", scanned);
	jsonl_double(&s->out, "elapsed_s",
	             round((double)(clock_mono_ms() - start)) / 1000);
	return jsonl_end(&s->out);
}

/* appeared/vanished against the scan before. */
static int
changes(struct scanner *s)
{
	int u;

	for (u = 1; u < 256; u++) {
		if (s->present[u] == s->was_present[u])
			continue;
		begin(s, u);
		jsonl_str(&s->out, "event",
		          s->present[u] ? "appeared" : "vanished");
		if (jsonl_end(&s->out) < 0)
			return -1;
	}
	return 0;
}

static int
scan(struct scanner *s, bool first)
{
	uint64_t start = clock_mono_ms();
	int u, done = 0;

	memcpy(s->was_present, s->present, sizeof(s->present));
	for (u = 1; u < 256 && !cli_stop; u++) {
		if (!s->o->units[u])
			continue;
		if (s->o->progress)
			fprintf(stderr, "\rscanning unit %d (%d of %d)...", u,
			        ++done, s->o->nunits);
		if (probe(s, u) < 0)
			return -1;
	}
	if (s->o->progress)
		fprintf(stderr, "\r%40s\r", "");
	if (!first && changes(s) < 0)
		return -1;
	return scan_done(s, s->o->nunits, start);
}

static int
loop(struct scanner *s)
{
	const struct options *o = s->o;
	uint64_t tick = clock_mono_ms();
	long scans = 0;

	for (;;) {
		if (scan(s, scans == 0) < 0)
			return -1;
		scans++;
		if (cli_stop || o->every_ms == 0 ||
		    (o->count > 0 && scans >= o->count))
			return 0;
		if (cli_over_max_rss(o->max_rss_kb))
			return CLI_EXIT_LIMIT;
		tick += o->every_ms;
		while (!cli_stop && clock_mono_ms() < tick) {
			struct timespec ts = clock_from_ms(tick);

			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
			                NULL);
		}
		if (cli_stop)
			return 0;
	}
}

/* The option strings, named; NULL when not given. */
struct args {
	char *bus, *units, *map, *timeout, *every, *max_rss;
};

static int
check(struct options *o, const struct args *a, char *msg, size_t len)
{
	int u;

	if (mb_parse_bus_units(a->bus, a->units, "1-247", &o->bus, o->units,
	                       msg, len) < 0)
		return cli_usage_error("%s", msg);
	for (u = 0; u < 256; u++)
		o->nunits += o->units[u];
	if (a->timeout != NULL &&
	    (parse_duration(a->timeout, &o->timeout_ms) < 0 ||
	     o->timeout_ms == 0))
		return cli_usage_error("--timeout: bad duration '%s'",
		                       a->timeout);
	if (a->every != NULL &&
	    (parse_duration(a->every, &o->every_ms) < 0 || o->every_ms == 0))
		return cli_usage_error("--every: bad duration '%s'", a->every);
	return cli_parse_max_rss(a->max_rss, &o->max_rss_kb);
}

/* Parse and check every option into o and a; CLI_CONTINUE or an exit
 * code. */
static int
parse(int argc, char **argv, struct options *o, struct args *a,
      struct cli_strings *strings, poptContext *con)
{
	static int progress;
	char msg[300];
	int rc;
	struct poptOption table[] = {
	    {"bus", 'b', POPT_ARG_STRING, &a->bus, CLI_OPT_STRING,
	     "rtu:DEVICE[:BAUD[:8N1]] or tcp:HOST[:PORT]", "SPEC"},
	    {"units", 'u', POPT_ARG_STRING, &a->units, CLI_OPT_STRING,
	     "unit ids to probe: lists and ranges (default 1-247)", "IDS"},
	    {"map", 'm', POPT_ARG_STRING, &a->map, CLI_OPT_STRING,
	     "probe and identify with this register map", "MAP"},
	    {"timeout", '\0', POPT_ARG_STRING, &a->timeout, CLI_OPT_STRING,
	     "how long to wait for each unit (default 100ms)", "DUR"},
	    {"every", '\0', POPT_ARG_STRING, &a->every, CLI_OPT_STRING,
	     "scan again every DUR: appeared and vanished events", "DUR"},
	    {"count", 'n', POPT_ARG_LONG, &o->count, 0,
	     "with --every: stop after N scans", "N"},
	    {"progress", '\0', POPT_ARG_NONE, &progress, 0,
	     "show progress on stderr (default when it is a terminal)", NULL},
	    CLI_MAX_RSS_OPTION(&a->max_rss, "gw-scan"),
	    CLI_TAG_OPTION,
	    CLI_COMMON_OPTIONS,
	    POPT_TABLEEND};

	*con = cli_context(argc, argv, table, "[OPTION...] -b SPEC", 0);
	CLI_STRINGS_TRACK(strings, &a->bus, &a->units, &a->map, &a->timeout,
	                  &a->every, &a->max_rss);
	if ((rc = cli_parse_options(*con, strings)) >= 0 ||
	    (rc = check(o, a, msg, sizeof(msg))) >= 0)
		return rc;
	o->progress = progress || (isatty(STDERR_FILENO) && !cli_common.quiet);
	return CLI_CONTINUE;
}

int
main(int argc, char **argv)
{
	static struct options o = {.timeout_ms = 100};
	static struct scanner s;
	struct args a = {NULL};
	struct cli_strings strings = {0};
	poptContext con = NULL;
	char msg[300];
	int rc;

	if ((rc = parse(argc, argv, &o, &a, &strings, &con)) >= 0)
		goto done;
	s.o = &o;
	/* a name that does not resolve scans nothing: said, not "none" */
	if (mb_resolve(&o.bus) < 0) {
		warnx("%s: no such host: %s", o.bus.spec, o.bus.host);
		rc = CLI_EXIT_FAILURE;
		goto done;
	}
	if (a.map != NULL) {
		if (regmap_load(a.map, &s.map, msg, sizeof(msg)) < 0) {
			warnx("%s", msg);
			rc = CLI_EXIT_FAILURE;
			goto done;
		}
		s.have_map = true;
	}
	cli_catch_stop_signals();
	setvbuf(stdout, NULL, _IOLBF, 0);
	jsonl_writer_init(&s.out, stdout);
	s.out.tags = &cli_tags;

	rc = cli_loop_exit(&s.out, loop(&s));
	if (s.ctx != NULL) {
		modbus_close(s.ctx);
		modbus_free(s.ctx);
	}
	jsonl_writer_free(&s.out);
	rc = cli_finish_stdout(rc);
	regmap_free(&s.map);
done:
	cli_strings_free(&strings);
	poptFreeContext(con);
	return rc;
}
