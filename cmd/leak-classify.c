/*
 * leak-classify: read a memory timeline as JSON Lines (or another
 * recorder's log) and say whether it leaks, in words (a report), as one
 * JSON verdict, or as an SVG chart; with --by, a verdict per group.  The
 * input is lib/timeline's, the verdict lib/leak's and lib/where's, its
 * printing lib/leak_report's and lib/leak_svg's: here are the options,
 * the loop and the choice of output form.
 */
#include <err.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "human.h"
#include "jsonl.h"
#include "leak_report.h"
#include "leak_svg.h"
#include "msg.h"
#include "parse.h"
#include "timeline.h"

/* --restart-event and --fault-event: their names, the values poptGetNextOpt
 * gives them */
#define EVENT_MAX         64
#define OPT_RESTART_EVENT 1100
#define OPT_FAULT_EVENT   1101
#define OPT_MIN_RATE      1102

struct options {
	char *field; /* NULL: anon_kb when present, else rss_kb */
	int falling, rising, json;
	char *limit_arg, *horizon_arg, *events, *svg, *warmup_arg;
	char *max_line_arg, *format_arg, *alloc_field, *by_arg, *expire_arg;
	char *edge_arg, *max_age_arg, *last_arg, *time_field;
	long pid, child, windows, min_samples, max_groups;
	double max_age_s;    /* --max-age, 0: none */
	double min_rate_abs; /* --min-rate SIZE/TIME or N/TIME, per s */
	bool min_rate_bytes; /* ... given as a size (bytes) */
	struct leak_rules rules;
	struct timeline_options in; /* what to read, from the above */
	char by_store[256];         /* --by's fields, split */
	/* --restart-event names, then --fault-event pairs */
	char event_store[2 * TIMELINE_EVENTS][EVENT_MAX];
	uint64_t edge_ms; /* --edge, when given */
};

struct context {
	const struct options *o;
	struct leak_rules rules; /* o->rules with the limit in field units */
	struct timeline tl;
	struct leak_faults faults;
	struct where_findings no_maps;   /* of a group: maps are not followed */
	int worst;                       /* exit code of the worst verdict */
	enum leak_verdict worst_verdict; /* the worst verdict (--by) */
	bool header_done;                /* of the --by table */
};

/* ---- options ------------------------------------------------------------ */

static int
check_rules(struct options *o)
{
	struct leak_rules *r = &o->rules;
	uint64_t ms;

	if (o->falling && o->rising)
		return cli_usage_error("--falling and --rising exclude each "
		                       "other");
	if (!(r->alpha > 0 && r->alpha < 0.5))
		return cli_usage_error("--alpha must be between 0 and 0.5");
	if (o->windows < 4 || o->windows > LEAK_ENVELOPE_MAX)
		return cli_usage_error("--windows must be 4 to %d",
		                       LEAK_ENVELOPE_MAX);
	if (o->min_samples < 3)
		return cli_usage_error("--min-samples must be 3 or more");
	if (!(r->settle_ratio >= 0) || !(r->envelope_share >= 0) ||
	    !(r->step_share >= 0 && r->step_share <= 1))
		return cli_usage_error("rule thresholds must be positive "
		                       "(--step-share at most 1)");
	r->windows = (size_t)o->windows;
	r->min_samples = (uint64_t)o->min_samples;
	if (o->horizon_arg != NULL) {
		if (parse_duration(o->horizon_arg, &ms) < 0)
			return cli_usage_error("--horizon: bad duration '%s'",
			                       o->horizon_arg);
		r->horizon_s = (double)ms / 1000;
	}
	if (!(r->penalty > 0) || !(r->material >= 0))
		return cli_usage_error("--penalty must be positive, "
		                       "--material not negative");
	if (o->max_age_arg != NULL) {
		if (parse_duration(o->max_age_arg, &ms) < 0 || ms == 0)
			return cli_usage_error("--max-age: bad duration '%s'",
			                       o->max_age_arg);
		o->max_age_s = (double)ms / 1000;
	}
	if (o->last_arg != NULL) {
		if (parse_duration(o->last_arg, &ms) < 0 || ms == 0)
			return cli_usage_error("--last: bad duration '%s'",
			                       o->last_arg);
		r->last_s = (double)ms / 1000;
	}
	if (o->warmup_arg != NULL && strcmp(o->warmup_arg, "auto") != 0) {
		if (parse_duration(o->warmup_arg, &ms) < 0)
			return cli_usage_error("--warmup: bad duration '%s'",
			                       o->warmup_arg);
		r->warmup_s = (double)ms / 1000;
	}
	return CLI_CONTINUE;
}

/* What to read and how: --format, --child, --max-line, --pid. */
static int
check_input(struct options *o)
{
	struct timeline_options *in = &o->in;
	int rc;

	if (o->format_arg != NULL &&
	    memlog_parse_format(o->format_arg, &in->format) < 0)
		return cli_usage_error("--format: '%s' is not auto, jsonl, "
		                       "psrecord, mprof, prmon or csv",
		                       o->format_arg);
	if (o->child < -1 || (o->child >= 0 && in->format != MEMLOG_AUTO &&
	                      in->format != MEMLOG_MPROF))
		return cli_usage_error("--child: an mprof CHLD index, 0 or "
		                       "more");
	if ((rc = cli_parse_max_line(o->max_line_arg, &in->max_line)) >= 0)
		return rc;
	if (o->pid < 0)
		return cli_usage_error("--pid: bad process id %ld", o->pid);
	if (o->edge_arg != NULL && parse_duration(o->edge_arg, &o->edge_ms) < 0)
		return cli_usage_error("--edge: bad duration '%s'",
		                       o->edge_arg);
	if ((o->edge_arg != NULL || in->nfault_events > 0) && o->events == NULL)
		return cli_usage_error("--edge and --fault-event go with "
		                       "--events");
	in->field = o->field;
	in->time_field = o->time_field;
	in->alloc_field = o->alloc_field;
	in->pid = o->pid;
	in->child = o->child;
	return CLI_CONTINUE;
}

/* --by FIELD[,FIELD] and --expire DUR. */
static int
parse_by(struct options *o)
{
	struct timeline_options *in = &o->in;
	char *tok, *save = NULL;
	uint64_t ms;

	if (o->expire_arg != NULL &&
	    (o->by_arg == NULL || parse_duration(o->expire_arg, &ms) < 0))
		return cli_usage_error("--expire: %s '%s'",
		                       o->by_arg ? "bad duration"
		                                 : "goes with --by",
		                       o->expire_arg);
	if (o->expire_arg != NULL)
		in->expire_s = (double)ms / 1000;
	if (o->max_groups < 1)
		return cli_usage_error("--max-groups: 1 or more");
	in->max_groups = (size_t)o->max_groups;
	if (o->by_arg == NULL)
		return CLI_CONTINUE;
	if (o->svg != NULL)
		return cli_usage_error("--svg draws one series: not with --by");
	snprintf(o->by_store, sizeof(o->by_store), "%s", o->by_arg);
	for (tok = strtok_r(o->by_store, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (in->nby == FLEET_FIELDS || strlen(tok) > JSONL_SCAN_KEY_MAX)
			return cli_usage_error("--by: at most %d fields of at "
			                       "most %d bytes",
			                       FLEET_FIELDS,
			                       JSONL_SCAN_KEY_MAX);
		in->by[in->nby++] = tok;
	}
	if (in->nby == 0)
		return cli_usage_error("--by: which fields");
	return CLI_CONTINUE;
}

/*
 * --restart-event NAME and --fault-event START=END, each repeatable, into
 * o's store: a name, or a pair split at its '='.  Without a restart event
 * the two a device's records show a reboot by (Meshtastic's
 * connection_lost, reboot); the pairs are markers of periods judged as
 * faults are (its mark_event: burst_start=burst_end).
 */
static int
take_event(struct options *o, poptContext con, bool pair)
{
	struct timeline_options *in = &o->in;
	int *n = pair ? &in->nfault_events : &in->nrestart_events;
	char *arg = poptGetOptArg(con), *store, *eq;
	int rc = CLI_CONTINUE;

	eq = arg != NULL ? strchr(arg, '=') : NULL;
	if (arg == NULL || arg[0] == '\0' || strlen(arg) >= EVENT_MAX ||
	    (pair && (eq == NULL || eq == arg || eq[1] == '\0' ||
	              strchr(eq + 1, '=') != NULL)))
		rc = cli_usage_error(pair ? "--fault-event: START=END, two "
		                            "event names, not '%s'"
		                          : "--restart-event: a name of 1 to "
		                            "63 bytes, not '%s'",
		                     arg ? arg : "");
	else if (*n == TIMELINE_EVENTS)
		rc = cli_usage_error("--%s: at most %d",
		                     pair ? "fault-event" : "restart-event",
		                     TIMELINE_EVENTS);
	else {
		store = o->event_store[*n + (pair ? TIMELINE_EVENTS : 0)];
		snprintf(store, EVENT_MAX, "%s", arg);
		if (pair) {
			store[eq - arg] = '\0';
			in->fault_events[*n][0] = store;
			in->fault_events[*n][1] = store + (eq - arg) + 1;
		} else {
			in->restart_events[*n] = store;
		}
		(*n)++;
	}
	free(arg);
	return rc;
}

/* --min-rate, relative ("1%/day") or absolute ("50B/min"), each at most
 * once. */
static int
take_min_rate(struct options *o, poptContext con)
{
	char *arg = poptGetOptArg(con);
	enum parse_slope_kind kind;
	double v;
	int rc = CLI_CONTINUE;

	if (arg == NULL || parse_slope(arg, &v, &kind) < 0 || !(v >= 0))
		rc = cli_usage_error("--min-rate: '%s' is not a rate such as "
		                     "1%%/day or 50B/min",
		                     arg ? arg : "");
	else if (kind == PARSE_SLOPE_PCT_DAY)
		o->rules.min_rate = v;
	else {
		o->min_rate_abs = v;
		o->min_rate_bytes = kind == PARSE_SLOPE_BYTES;
	}
	free(arg);
	return rc;
}

static int
parse_loop(poptContext con, struct options *o, struct cli_strings *strings)
{
	int rc;

	while ((rc = poptGetNextOpt(con)) > 0) {
		cli_strings_update(strings);
		if ((rc == OPT_RESTART_EVENT || rc == OPT_FAULT_EVENT) &&
		    (rc = take_event(o, con, rc == OPT_FAULT_EVENT)) >= 0)
			return rc;
		if (rc == OPT_MIN_RATE && (rc = take_min_rate(o, con)) >= 0)
			return rc;
	}
	cli_strings_update(strings);
	if ((rc = cli_finish_options(con, rc)) >= 0)
		return rc;
	if (o->in.nrestart_events == 0) {
		o->in.restart_events[o->in.nrestart_events++] =
		    "connection_lost";
		o->in.restart_events[o->in.nrestart_events++] = "reboot";
	}
	return CLI_CONTINUE;
}

/* The rows of the options on the lives and fault periods of records. */
#define LIVES_OPTIONS(o)                                                       \
	{"fault-event",                                                        \
	 '\0',                                                                 \
	 POPT_ARG_STRING,                                                      \
	 NULL,                                                                 \
	 OPT_FAULT_EVENT,                                                      \
	 "with --events: START=END markers of periods judged as faults "       \
	 "(repeatable)",                                                       \
	 "START=END"},                                                         \
	    {"edge",                                                           \
	     '\0',                                                             \
	     POPT_ARG_STRING,                                                  \
	     &o->edge_arg,                                                     \
	     CLI_OPT_STRING,                                                   \
	     "samples this near a fault's edge are left out (default: the "    \
	     "sampling interval)",                                             \
	     "DUR"},                                                           \
	{                                                                      \
		"restart-event", '\0', POPT_ARG_STRING, NULL,                  \
		    OPT_RESTART_EVENT,                                         \
		    "a life ends where the field jumps back at event NAME "    \
		    "(repeatable; connection_lost, reboot)",                   \
		    "NAME"                                                     \
	}

/* Every option into o, with its checks; CLI_CONTINUE or an exit code. */
static int
parse(int argc, char **argv, struct options *o, struct cli_strings *strings,
      poptContext *con)
{
	double unused;
	int rc;
	struct poptOption table[] = {
	    {"field", 'f', POPT_ARG_STRING, &o->field, CLI_OPT_STRING,
	     "the numeric field to judge (default anon_kb, else rss_kb)",
	     "NAME"},
	    {"falling", '\0', POPT_ARG_NONE, &o->falling, 0,
	     "a falling field is the problem (free memory)", NULL},
	    {"rising", '\0', POPT_ARG_NONE, &o->rising, 0,
	     "a rising field is the problem (the default)", NULL},
	    {"pid", 'p', POPT_ARG_LONG, &o->pid, 0,
	     "only records of process PID", "PID"},
	    {"limit", '\0', POPT_ARG_STRING, &o->limit_arg, CLI_OPT_STRING,
	     "memory limit: oom_imminent when the trend reaches it", "SIZE"},
	    {"horizon", '\0', POPT_ARG_STRING, &o->horizon_arg, CLI_OPT_STRING,
	     "how far ahead --limit looks (default 24h)", "DUR"},
	    {"events", '\0', POPT_ARG_STRING, &o->events, CLI_OPT_STRING,
	     "JSONL whose \"ok\": false records mark fault periods", "FILE"},
	    {"json", '\0', POPT_ARG_NONE, &o->json, 0,
	     "print one JSON verdict object instead of the report", NULL},
	    {"svg", '\0', POPT_ARG_STRING, &o->svg, CLI_OPT_STRING,
	     "draw the series, envelope and trend into FILE", "FILE"},
	    {"alpha", '\0', POPT_ARG_DOUBLE, &o->rules.alpha, 0,
	     "significance level of the trend test (default 0.01)", "P"},
	    {"min-rate", '\0', POPT_ARG_STRING, NULL, OPT_MIN_RATE,
	     "slower growth is steady: 1%/day of the level (default), "
	     "50B/min, 2K/h (either, or both)",
	     "RATE"},
	    {"max-age", '\0', POPT_ARG_STRING, &o->max_age_arg, CLI_OPT_STRING,
	     "a last sample older than DUR is stale (exit 6)", "DUR"},
	    {"last", '\0', POPT_ARG_STRING, &o->last_arg, CLI_OPT_STRING,
	     "judge only the last DUR of the records", "DUR"},
	    {"time-field", '\0', POPT_ARG_STRING, &o->time_field,
	     CLI_OPT_STRING,
	     "the records' time (default ts, timestamp, time or t)", "NAME"},
	    {"min-samples", '\0', POPT_ARG_LONG, &o->min_samples, 0,
	     "fewer samples are insufficient_data (default 10)", "N"},
	    {"settle-ratio", '\0', POPT_ARG_DOUBLE, &o->rules.settle_ratio, 0,
	     "tail/head slope below R is settling (default 0.25)", "R"},
	    {"envelope-share", '\0', POPT_ARG_DOUBLE, &o->rules.envelope_share,
	     0, "a leak lifts the floor by S of the trend (default 0.5)", "S"},
	    {"step-share", '\0', POPT_ARG_DOUBLE, &o->rules.step_share, 0,
	     "steps carrying S of the rise suggest fragmentation (0.8)", "S"},
	    {"windows", '\0', POPT_ARG_LONG, &o->windows, 0,
	     "windows of the envelopes (default 16)", "N"},
	    {"warmup", '\0', POPT_ARG_STRING, &o->warmup_arg, CLI_OPT_STRING,
	     "leave out DUR after the process start (default auto)", "DUR"},
	    {"penalty", '\0', POPT_ARG_DOUBLE, &o->rules.penalty, 0,
	     "cost of one more regime, in BIC units (default 20)", "X"},
	    {"material", '\0', POPT_ARG_DOUBLE, &o->rules.material, 0,
	     "least rise of a growth episode, in noise sds (default 3)", "K"},
	    {"max-line", '\0', POPT_ARG_STRING, &o->max_line_arg,
	     CLI_OPT_STRING, "skip input lines longer than SIZE (default 1M)",
	     "SIZE"},
	    {"format", '\0', POPT_ARG_STRING, &o->format_arg, CLI_OPT_STRING,
	     "input: auto (default), jsonl, psrecord, mprof, prmon or csv",
	     "FMT"},
	    {"child", '\0', POPT_ARG_LONG, &o->child, 0,
	     "mprof: judge the CHLD lines of IDX, not MEM", "IDX"},
	    {"alloc-field", '\0', POPT_ARG_STRING, &o->alloc_field,
	     CLI_OPT_STRING,
	     "the process's own live allocations (KiB), against the heap",
	     "NAME"},
	    {"by", '\0', POPT_ARG_STRING, &o->by_arg, CLI_OPT_STRING,
	     "one verdict per group of these fields (host,comm)", "FIELDS"},
	    {"expire", '\0', POPT_ARG_STRING, &o->expire_arg, CLI_OPT_STRING,
	     "with --by: judge and drop a group silent this long", "DUR"},
	    {"max-groups", '\0', POPT_ARG_LONG, &o->max_groups, 0,
	     "with --by: at most N groups (default 1000, 29 MiB)", "N"},
	    LIVES_OPTIONS(o),
	    CLI_COMMON_OPTIONS,
	    POPT_TABLEEND};

	/* the rules' defaults are lib/leak's, popt's longs start there */
	leak_rules_default(&o->rules);
	o->windows = (long)o->rules.windows;
	o->min_samples = (long)o->rules.min_samples;
	*con = cli_context(argc, argv, table, "[OPTION...] [FILE...]", 0);
	CLI_STRINGS_TRACK(strings, &o->field, &o->limit_arg, &o->horizon_arg,
	                  &o->events, &o->svg, &o->warmup_arg, &o->max_line_arg,
	                  &o->format_arg, &o->alloc_field, &o->by_arg,
	                  &o->expire_arg, &o->edge_arg, &o->max_age_arg,
	                  &o->last_arg, &o->time_field);
	if ((rc = parse_loop(*con, o, strings)) >= 0 ||
	    (rc = check_rules(o)) >= 0 || (rc = check_input(o)) >= 0)
		return rc;
	if (o->limit_arg != NULL && parse_size(o->limit_arg, &unused, NULL) < 0)
		return cli_usage_error("--limit: bad size '%s'", o->limit_arg);
	return parse_by(o);
}

/* ---- input -------------------------------------------------------------- */

/* The limit and an absolute --min-rate need the field's unit (KiB for
 * *_kb): set once it is known. */
static int
apply_limit(struct context *c)
{
	const struct options *o = c->o;

	c->rules.min_rate_abs =
	    o->min_rate_bytes && human_unit_of(c->tl.field) == HUMAN_KIB
	        ? o->min_rate_abs / 1024
	        : o->min_rate_abs;
	if (o->limit_arg == NULL)
		return 0;
	return parse_field_limit(c->tl.field, o->limit_arg, &c->rules.limit);
}

static double
now_s(void)
{
	struct timespec t = clock_wall();

	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static bool
worse(enum leak_verdict a, enum leak_verdict b)
{
	return leak_verdict_severity(a) > leak_verdict_severity(b);
}

/* A verdict worth a cron mail: the ones -q prints. */
static bool
alarming(enum leak_verdict v)
{
	return v == LEAK_LEAK || v == LEAK_FRAGMENTATION || v == LEAK_OOM;
}

static int
read_file(struct context *c, const char *name)
{
	FILE *fp = strcmp(name, "-") == 0 ? stdin : fopen(name, "r");
	int rc;

	if (fp == NULL) {
		warn("%s", name);
		return -1;
	}
	rc = timeline_read(&c->tl, fp, name);
	if (rc < 0 && errno == ENOMEM)
		err(CLI_EXIT_FAILURE, "out of memory");
	if (fp != stdin)
		fclose(fp);
	return rc;
}

/* The events, then every file (stdin without any), into c's timeline,
 * checked and flushed: 0, or -1 after the message. */
static int
read_all(struct context *c, const char **files)
{
	const struct options *o = c->o;

	if (o->events != NULL &&
	    timeline_read_faults(&c->tl, o->events, &c->faults) < 0)
		return -1;
	if (files == NULL || files[0] == NULL) {
		if (read_file(c, "-") < 0)
			return -1;
	}
	for (; files != NULL && *files != NULL; files++)
		if (read_file(c, *files) < 0)
			return -1;
	if (c->tl.st.interleaved) {
		warnx("records of several processes interleave (pid %.0f "
		      "comes back): pick one with --pid",
		      c->tl.st.interleaved_pid);
		return -1;
	}
	timeline_end(&c->tl);
	return 0;
}

/* Records came, none with the field: which fields they had. */
static void
field_missing(const struct context *c)
{
	char seen[TIMELINE_SEEN * 50];

	switch (timeline_field_missing(&c->tl, seen, sizeof(seen))) {
	case TIMELINE_NO_FIELD:
		warnx("no field %s in %llu records; numeric fields seen: %s",
		      c->tl.field, (unsigned long long)c->tl.records, seen);
		break;
	case TIMELINE_NO_TIME:
		warnx("no time in %llu records with %s (looked for %s); "
		      "numeric fields seen: %s",
		      (unsigned long long)c->tl.untimed, c->tl.field,
		      c->o->in.time_field ? c->o->in.time_field
		                          : "ts, time, timestamp, t",
		      seen);
		break;
	case TIMELINE_HAS_SAMPLES:
		break;
	}
}

/* ---- output ------------------------------------------------------------- */

/* What a verdict's printing needs, pointed at: the one series's, or a
 * group's (g). */
static struct leak_report
report_of(const struct context *c, const struct leak_stream *st,
          const struct leak_result *r, const struct where_findings *w,
          const struct fleet_group *g)
{
	return (struct leak_report){.field = c->tl.field,
	                            .rules = &c->rules,
	                            .stream = st,
	                            .res = r,
	                            .where = w,
	                            .alloc_field = c->o->alloc_field,
	                            .malformed = c->tl.malformed,
	                            .skipped = c->tl.skipped,
	                            .bad_ts = c->tl.bad_ts,
	                            .verbose = cli_common.verbose > 0,
	                            .by = c->o->in.by,
	                            .nby = g != NULL ? c->o->in.nby : 0,
	                            .key = g != NULL ? g->key : NULL,
	                            .key_len = g != NULL ? g->key_len : 0};
}

static int
write_svg(const struct context *c, const struct leak_report *v)
{
	const char *path = c->o->svg;
	FILE *fp = fopen(path, "w");

	if (fp == NULL) {
		warn("%s", path);
		return -1;
	}
	leak_svg_write(fp, v, &c->tl.where, &c->faults);
	if (ferror(fp) | fclose(fp)) {
		warn("%s: write error", path);
		return -1;
	}
	return 0;
}

/* The one series judged: the chart, then the report or the JSON. */
static int
emit(struct context *c)
{
	struct where_findings where;
	struct leak_result res;
	struct leak_report v;

	if (apply_limit(c) < 0 || leak_judge(&c->tl.st, &c->faults, &res) < 0) {
		warn("classify");
		return CLI_EXIT_FAILURE;
	}
	if (where_judge(&c->tl.where, &res, &where) < 0 ||
	    where_site_faults(&c->tl.where, &c->faults, c->rules.alpha,
	                      &where) < 0)
		err(CLI_EXIT_FAILURE, "out of memory");
	leak_stale(&res, now_s(), c->o->max_age_s);
	v = report_of(c, &c->tl.st, &res, &where, NULL);
	if (c->o->svg != NULL && write_svg(c, &v) < 0)
		return CLI_EXIT_FAILURE;
	if ((!cli_common.quiet || alarming(res.verdict)) &&
	    leak_report_write(stdout, c->o->json, &v) < 0 && errno != EPIPE)
		return cli_write_error();
	return cli_close_stdout() == 0 ? leak_verdict_exit(res.verdict)
	                               : CLI_EXIT_FAILURE;
}

/* ---- --by: a verdict per group ----------------------------------------- */

/* One group's verdict: a JSON line with its fields, or a table row. */
static void
print_group(struct context *c, const struct fleet_group *g)
{
	struct leak_report v;

	if (g->rc < 0) {
		warn("classify");
		c->worst = c->worst > 1 ? c->worst : CLI_EXIT_FAILURE;
		return;
	}
	if (g->st.interleaved)
		msg_warn("%.*s: records of several processes interleave (pid "
		         "%.0f comes back)",
		         (int)g->key_len, g->key, g->st.interleaved_pid);
	if (worse(g->res.verdict, c->worst_verdict)) {
		c->worst_verdict = g->res.verdict;
		c->worst = leak_verdict_exit(g->res.verdict);
	}
	if (cli_common.quiet && !alarming(g->res.verdict))
		return;
	v = report_of(c, &g->st, &g->res, &c->no_maps, g);
	if (c->o->json) {
		if (leak_report_write(stdout, true, &v) < 0 && errno != EPIPE)
			c->worst = cli_write_error();
		return;
	}
	if (!c->header_done)
		leak_report_table_header(stdout);
	c->header_done = true;
	leak_report_table_row(stdout, &v);
}

static int
by_badness(const void *a, const void *b)
{
	return fleet_compare(*(struct fleet_group *const *)a,
	                     *(struct fleet_group *const *)b);
}

/* Judge, print (worst first) and drop the n groups of g. */
static void
judge_groups(struct context *c, struct fleet_group **g, size_t n)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t i;

	fleet_judge(g, n, &c->faults, cpus > 1 ? (int)cpus : 1);
	for (i = 0; i < n; i++)
		leak_stale(&g[i]->res, now_s(), c->o->max_age_s);
	qsort(g, n, sizeof(*g), by_badness);
	for (i = 0; i < n; i++) {
		print_group(c, g[i]);
		fleet_drop(&c->tl.fleet, g[i]);
	}
	fflush(stdout);
}

/* --expire: groups gone silent, judged while the input goes on. */
static void
on_due(void *user, struct timeline *tl, struct fleet_group **g, size_t n)
{
	struct context *c = user;

	if (tl->field != NULL)
		apply_limit(c); /* the field may have been chosen since */
	judge_groups(c, g, n);
}

/* What --by found at the end of the input; the worst verdict's code. */
static int
emit_groups(struct context *c)
{
	struct fleet_group **all;
	size_t n, i;
	uint64_t late = 0, twice = 0;

	if (apply_limit(c) < 0)
		return CLI_EXIT_FAILURE;
	if ((all = fleet_list(&c->tl.fleet, &n)) == NULL)
		err(CLI_EXIT_FAILURE, "out of memory");
	for (i = 0; i < n; i++) {
		late += all[i]->st.out_of_order;
		twice += all[i]->duplicates;
	}
	if (late > 0)
		msg_warn("%llu records older than the one before in their "
		         "group skipped",
		         (unsigned long long)late);
	if (twice > 0)
		msg_debug("%llu records stamped as the one before in their "
		          "group (delivered twice) skipped",
		          (unsigned long long)twice);
	msg_debug("%zu groups left of at most %zu KiB each (%zu buckets): "
	          "%.1f MiB in all",
	          n, fleet_group_bytes(FLEET_BUCKETS) / 1024,
	          (size_t)FLEET_BUCKETS,
	          (double)(n * fleet_group_bytes(FLEET_BUCKETS)) / 1048576);
	judge_groups(c, all, n);
	free(all);
	if (c->o->json == 0 && !c->header_done)
		msg_warn("no records to group");
	return cli_close_stdout() == 0 ? c->worst : CLI_EXIT_FAILURE;
}

/* ---- main --------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	static struct options o = {.in = {.max_line = JSONL_MAX_LINE}};
	static struct context c;
	struct cli_strings strings = {0};
	poptContext con = NULL;
	double sign;
	int rc;

	o.child = -1;
	o.max_groups = FLEET_MAX_GROUPS;
	if ((rc = parse(argc, argv, &o, &strings, &con)) >= 0)
		goto done;
	sign = o.falling || (!o.rising && o.field && leak_field_falls(o.field))
	           ? -1
	           : 1;
	c.o = &o;
	c.rules = o.rules;
	c.faults.edge_given = o.edge_arg != NULL;
	c.faults.edge_s = (double)o.edge_ms / 1000;
	o.in.due = on_due;
	o.in.user = &c;
	if (timeline_init(&c.tl, &o.in, sign, &c.rules) < 0)
		err(CLI_EXIT_FAILURE, "out of memory");
	c.no_maps.known = false;
	rc = CLI_EXIT_FAILURE;
	if (read_all(&c, poptGetArgs(con)) < 0)
		goto cleanup;
	c.no_maps.known = c.tl.where.ready;
	c.worst_verdict = LEAK_STEADY;
	field_missing(&c);
	rc = o.in.nby > 0 ? emit_groups(&c) : emit(&c);
cleanup:
	timeline_free(&c.tl);
	leak_faults_free(&c.faults);
done:
	cli_strings_free(&strings);
	poptFreeContext(con);
	return rc;
}
