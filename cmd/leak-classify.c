/*
 * leak-classify: read a memory timeline as JSON Lines and say whether it
 * leaks, in words (a report), as one JSON verdict, or as an SVG chart.
 */
#include <err.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "jsonl.h"
#include "leak.h"
#include "memlog.h"
#include "msg.h"
#include "parse.h"
#include "smaps.h"
#include "where.h"
#include "fleet.h"

struct options {
	char *field; /* NULL: anon_kb when present, else rss_kb */
	int falling, rising, json;
	char *limit_arg, *horizon_arg, *events, *svg, *warmup_arg;
	char *max_line_arg, *format_arg, *alloc_field;
	size_t max_line;           /* longer input lines are skipped */
	enum memlog_format format; /* of every input; AUTO: each sniffed */
	long child;                /* mprof: a CHLD index, or -1 */
	long pid;
	struct leak_rules rules;
	long windows, min_samples;
	char *by_arg, *expire_arg;
	char by_store[256];
	const char *by[FLEET_FIELDS]; /* --by: the group's fields */
	int nby;
	uint64_t expire_ms; /* --expire: 0 never */
};

/* One input record, whichever parser read it. */
struct record {
	bool has_ts, has_value, has_anon, has_rss, has_pid, has_start, has_age;
	double ts, value, anon, rss, pid, start, age;
	bool value_invalid; /* present but null or not a number */
	char event[16];
	int ok; /* -1 absent, 0 false, 1 true */
	char unit[32];
	bool has_threads, has_maps, has_alloc;
	double threads, alloc;
	struct where_reading maps; /* rss-watch --maps */
	char group[FLEET_KEY_MAX]; /* --by: the values, FLEET_SEP between */
	size_t group_len;
};

struct context {
	const struct options *o;
	struct leak_rules rules; /* o->rules with the limit in field units */
	const char *field;
	bool field_is_anon;
	struct leak_stream st;
	uint64_t malformed, skipped, filtered;
	struct leak_faults faults;
	struct where_set where; /* of the current segment */
	size_t where_segment;   /* st.total_segments it belongs to */
	struct where_item items[WHERE_NAMES];
	int nitems;
	struct where_arena_evidence arenas;
	struct where_heap_evidence heap;
	/* --by: */
	struct fleet fleet;
	const struct fleet_group *group; /* the one write_json() is about */
	double newest_ts, swept_ts;      /* of the records, for --expire */
	int worst;                       /* exit code of the worst verdict */
	bool header_done;                /* of the table */
};

enum {
	FLD_TS,
	FLD_VALUE,
	FLD_ANON,
	FLD_RSS,
	FLD_PID,
	FLD_START,
	FLD_EVENT,
	FLD_OK,
	FLD_UNIT,
	FLD_AGE,
	FLD_THREADS,
	FLD_MAPS,
	FLD_ALLOC,
	FLD_BY, /* FLEET_FIELDS of them */
	FLD_COUNT = FLD_BY + FLEET_FIELDS
};

static void
copy_str(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static void
record_from_scan(const struct jsonl_field *f, struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->ok = -1;
	r->has_ts = f[FLD_TS].type == JSONL_NUMBER;
	r->ts = f[FLD_TS].num;
	r->has_value = f[FLD_VALUE].type == JSONL_NUMBER;
	r->value = f[FLD_VALUE].num;
	r->value_invalid = f[FLD_VALUE].type != JSONL_ABSENT && !r->has_value;
	r->has_anon = f[FLD_ANON].type == JSONL_NUMBER;
	r->anon = f[FLD_ANON].num;
	r->has_rss = f[FLD_RSS].type == JSONL_NUMBER;
	r->rss = f[FLD_RSS].num;
	r->has_pid = f[FLD_PID].type == JSONL_NUMBER;
	r->pid = f[FLD_PID].num;
	r->has_start = f[FLD_START].type == JSONL_NUMBER;
	r->start = f[FLD_START].num;
	r->has_age = f[FLD_AGE].type == JSONL_NUMBER;
	r->age = f[FLD_AGE].num;
	r->has_threads = f[FLD_THREADS].type == JSONL_NUMBER;
	r->threads = f[FLD_THREADS].num;
	r->has_alloc = f[FLD_ALLOC].type == JSONL_NUMBER;
	r->alloc = f[FLD_ALLOC].num;
	if (f[FLD_EVENT].type == JSONL_STRING && !f[FLD_EVENT].str_escaped)
		copy_str(r->event, sizeof(r->event), f[FLD_EVENT].str,
		         f[FLD_EVENT].str_len);
	if (f[FLD_OK].type == JSONL_TRUE || f[FLD_OK].type == JSONL_FALSE)
		r->ok = f[FLD_OK].type == JSONL_TRUE;
	if (f[FLD_UNIT].type == JSONL_STRING ||
	    f[FLD_UNIT].type == JSONL_NUMBER)
		copy_str(
		    r->unit, sizeof(r->unit),
		    f[FLD_UNIT].type == JSONL_STRING ? f[FLD_UNIT].str : "n",
		    f[FLD_UNIT].type == JSONL_STRING ? f[FLD_UNIT].str_len : 1);
	if (f[FLD_UNIT].type == JSONL_NUMBER)
		snprintf(r->unit, sizeof(r->unit), "%g", f[FLD_UNIT].num);
}

/* --by: the values of the group's fields as one key; an absent or null
 * field is empty, a string as written (escapes kept), a number as %.17g. */
static void
group_from_scan(const struct jsonl_field *f, int nby, struct record *r)
{
	size_t at = 0;
	int i, n;

	for (i = 0; i < nby; i++) {
		const struct jsonl_field *x = &f[FLD_BY + i];
		size_t room = sizeof(r->group) - at;

		if (i > 0 && room > 1) {
			r->group[at++] = FLEET_SEP;
			room--;
		}
		if (x->type == JSONL_STRING) {
			n = (int)(x->str_len < room - 1 ? x->str_len
			                                : room - 1);
			memcpy(r->group + at, x->str, (size_t)n);
		} else if (x->type == JSONL_NUMBER || x->type == JSONL_TRUE ||
		           x->type == JSONL_FALSE) {
			n = x->type == JSONL_NUMBER
			        ? snprintf(r->group + at, room, "%.17g", x->num)
			        : snprintf(r->group + at, room, "%s",
			                   x->type == JSONL_TRUE ? "true"
			                                         : "false");
			n = n < (int)room ? n : (int)room - 1;
		} else {
			n = 0;
		}
		at += (size_t)n;
	}
	r->group_len = at;
}

/* The fields a record is read for, prepared once per field name. */
struct parser {
	struct jsonl_field f[FLD_COUNT];
	struct jsonl_scanner sc;
	const char *field;
	int nby;
};

static void
parser_init(struct parser *p, const char *field, const struct options *o)
{
	static const char *const names[FLD_COUNT] = {
	    [FLD_TS] = "ts",       [FLD_ANON] = "anon_kb",
	    [FLD_RSS] = "rss_kb",  [FLD_PID] = "pid",
	    [FLD_START] = "start", [FLD_EVENT] = "event",
	    [FLD_OK] = "ok",       [FLD_UNIT] = "unit",
	    [FLD_AGE] = "age_s",   [FLD_THREADS] = "threads",
	    [FLD_MAPS] = "maps"};
	size_t i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < FLD_COUNT; i++)
		p->f[i].name = names[i];
	p->f[FLD_VALUE].name = field;
	p->f[FLD_ALLOC].name = o->alloc_field ? o->alloc_field : "\x01";
	for (i = 0; i < FLEET_FIELDS; i++) /* "\x01": no key is that */
		p->f[FLD_BY + i].name = (int)i < o->nby ? o->by[i] : "\x01";
	p->field = field;
	p->nby = o->nby;
	jsonl_scanner_init(&p->sc, p->f, FLD_COUNT);
}

/* A number of obj, NAN when it is not one. */
static double
number_or_nan(json_t *obj, const char *key)
{
	json_t *x = json_object_get(obj, key);

	return json_is_number(x) ? json_number_value(x) : NAN;
}

/* rss-watch's "maps" object; r->has_maps when its classes are there. */
static void
maps_from_json(json_t *m, struct record *r)
{
	struct where_reading *w = &r->maps;
	json_t *top = json_object_get(m, "top"), *e;
	char key[32];
	size_t i;
	int c;

	r->has_maps = json_is_object(m);
	for (c = 0; r->has_maps && c < SMAPS_NCLASS; c++) {
		snprintf(key, sizeof(key), "%s_kb", smaps_class_name(c));
		w->class_kb[c] = number_or_nan(m, key);
		r->has_maps = isfinite(w->class_kb[c]);
	}
	if (!r->has_maps)
		return;
	w->ts = r->ts;
	w->arenas = number_or_nan(m, "arenas");
	w->threads = r->has_threads ? r->threads : NAN;
	w->ntop = 0;
	json_array_foreach(top, i, e)
	{
		const char *name =
		    json_string_value(json_object_get(e, "name"));
		double kb = number_or_nan(e, "rss_kb");

		if (name == NULL || !isfinite(kb) || w->ntop == SMAPS_TOP)
			continue;
		snprintf(w->top[w->ntop].name, SMAPS_NAME_MAX, "%s", name);
		w->top[w->ntop++].kb = kb;
	}
}

/* Parse the reader's current line; false when malformed (reported).
 * Records with "maps" (one a minute) go through jansson for it. */
static bool
parse_record(struct jsonl_reader *rd, struct parser *p, struct record *r)
{
	int column;
	json_t *obj;

	if (jsonl_scan_with(&p->sc, rd->line, rd->len, &column) != 0) {
		/* jansson says why: the two refuse alike (fuzz_jsonl and
		 * test_jsonl abort on any line they disagree on) */
		if ((obj = jsonl_parse_line(rd)) != NULL) {
			json_decref(obj);
			jsonl_report(rd, "not a record", column);
		}
		return false;
	}
	record_from_scan(p->f, r);
	group_from_scan(p->f, p->nby, r);
	if (p->f[FLD_MAPS].type != JSONL_OBJECT)
		return true;
	if ((obj = jsonl_parse_line(rd)) == NULL)
		return false;
	maps_from_json(json_object_get(obj, "maps"), r);
	json_decref(obj);
	return true;
}

static void
choose_field(struct context *c, struct record *r)
{
	if (c->field != NULL || (!r->has_anon && !r->has_rss))
		return;
	c->field = r->has_anon ? "anon_kb" : "rss_kb";
	c->field_is_anon = r->has_anon;
	r->has_value = true;
	r->value = r->has_anon ? r->anon : r->rss;
}

static void expire_groups(struct context *c);

/* The stream a record goes to: its group's with --by, else the one. */
static struct leak_stream *
stream_of(struct context *c, const struct record *r, struct fleet_group **g)
{
	*g = NULL;
	if (c->o->nby == 0)
		return &c->st;
	if ((*g = fleet_get(&c->fleet, r->group, r->group_len)) == NULL)
		err(CLI_EXIT_FAILURE, "out of memory");
	(*g)->records++;
	return &(*g)->st;
}

static void
add_record(struct context *c, struct record *r)
{
	struct leak_sample x = {0};
	struct fleet_group *g;
	struct leak_stream *st;

	/* the allocations' readings: of this process, whoever wrote them */
	if (r->has_alloc && r->has_ts &&
	    where_add_alloc(&c->where, r->ts, r->alloc) < 0)
		err(CLI_EXIT_FAILURE, "out of memory");
	if (r->has_alloc && !r->has_value && !r->has_rss && !r->has_anon)
		return; /* a reading of allocations only */
	if (c->o->pid > 0 && (!r->has_pid || r->pid != (double)c->o->pid)) {
		c->filtered++;
		return;
	}
	st = stream_of(c, r, &g);
	if (strcmp(r->event, "restart") == 0) {
		x.restart = true;
		leak_stream_add(st, &x);
		return;
	}
	choose_field(c, r);
	if (!r->has_ts || !r->has_value) {
		if (r->event[0] == '\0')
			c->skipped++;
		return;
	}
	if (fabs(r->value) > 1e18 || fabs(r->ts) > 1e12) {
		c->skipped++;
		return;
	}
	x.ts = r->ts;
	x.value = r->value;
	x.aux = !c->field_is_anon && r->has_anon ? r->anon : NAN;
	x.has_id = r->has_pid && r->has_start;
	x.pid = r->pid;
	x.start = r->start;
	x.age_s = r->has_age ? r->age : NAN;
	if (g != NULL && g->st.series.samples > 0 && r->ts == g->last_ts) {
		g->duplicates++; /* QoS 1 delivers at least once */
		return;
	}
	leak_stream_add(st, &x);
	if (g != NULL) {
		g->last_ts = fmax(g->last_ts, r->ts);
		c->newest_ts = fmax(c->newest_ts, r->ts);
		expire_groups(c);
		return;
	}
	if (!r->has_maps)
		return;
	if (c->st.total_segments != c->where_segment) { /* a new process */
		where_reset(&c->where);
		c->where_segment = c->st.total_segments;
	}
	if (where_add(&c->where, &r->maps) < 0)
		err(CLI_EXIT_FAILURE, "out of memory");
}

/* A sample of another recorder's log as a record. */
static void
record_from_log(const struct context *c, const struct memlog_sample *s,
                struct record *r)
{
	const char *field = c->field ? c->field : "anon_kb";
	size_t i;

	memset(r, 0, sizeof(*r));
	r->ok = -1;
	r->has_ts = true;
	r->ts = s->ts;
	for (i = 0; i < s->n; i++) {
		const char *n = s->names[i];
		double v = s->values[i];
		bool num = !isnan(v);

		if (strcmp(n, field) == 0) {
			r->has_value = num;
			r->value_invalid = !num;
			r->value = v;
		}
		if (strcmp(n, "anon_kb") == 0)
			r->has_anon = num, r->anon = v;
		else if (strcmp(n, "rss_kb") == 0)
			r->has_rss = num, r->rss = v;
		else if (strcmp(n, "threads") == 0)
			r->has_threads = num, r->threads = v;
	}
}

/* One line of psrecord, mprof, prmon or CSV. */
static void
add_log_line(struct context *c, struct jsonl_reader *rd, struct memlog *ml)
{
	struct memlog_sample s;
	struct record r;
	const char *why;
	int rc = memlog_line(ml, rd->line, &s, &why);

	if (rc < 0)
		jsonl_report(rd, why, 0);
	if (rc <= 0)
		return;
	record_from_log(c, &s, &r);
	add_record(c, &r);
}

/* mprof's CHLD series left aside: named, so one can be picked. */
static void
report_children(const char *name, const struct memlog *ml)
{
	char ids[128] = "";
	size_t i, at = 0;

	for (i = 0; i < ml->nothers && at < sizeof(ids); i++)
		at += (size_t)snprintf(ids + at, sizeof(ids) - at, "%s%ld",
		                       i ? ", " : "", ml->others[i]);
	if (ml->nothers > 0)
		msg_warn("%s: the CHLD series of %s not judged: pick one with "
		         "--child ID",
		         name, ids);
}

static int
read_series(struct context *c, FILE *fp, const char *name)
{
	enum memlog_format format = c->o->format;
	struct jsonl_reader rd;
	struct memlog ml;
	struct parser p;
	struct record r;
	int rc;

	parser_init(&p, c->field ? c->field : "anon_kb", c->o);
	jsonl_reader_init(&rd, fp, name);
	rd.max_line = c->o->max_line;
	memlog_init(&ml, format, c->o->child);
	while ((rc = jsonl_next_line(&rd)) == 1) {
		if (format == MEMLOG_AUTO) { /* by its first line */
			format = memlog_sniff(rd.line);
			memlog_init(&ml, format, c->o->child);
			msg_debug("%s: %s", name, memlog_format_name(format));
		}
		if (format != MEMLOG_JSONL) {
			add_log_line(c, &rd, &ml);
			continue;
		}
		if (c->field != NULL && p.field != c->field)
			parser_init(&p, c->field, c->o); /* chosen on the way */
		if (parse_record(&rd, &p, &r))
			add_record(c, &r);
	}
	if (rc < 0)
		warn("%s: read error", name);
	jsonl_report_summary(&rd);
	report_children(name, &ml);
	c->malformed += rd.malformed;
	jsonl_reader_free(&rd);
	return rc;
}

/* ---- fault periods from --events --------------------------------------- */

static int
read_faults(const char *path, size_t max_line, struct leak_faults *faults)
{
	struct leak_fault_reader fr;
	struct jsonl_reader rd;
	struct parser p;
	struct record r;
	FILE *fp = fopen(path, "r");
	int rc = 0;

	if (fp == NULL) {
		warn("%s", path);
		return -1;
	}
	leak_fault_reader_init(&fr, faults);
	parser_init(&p, "ts", &(struct options){0});
	jsonl_reader_init(&rd, fp, path);
	rd.max_line = max_line;
	while (rc == 0 && (rc = jsonl_next_line(&rd)) == 1) {
		int state;

		rc = 0;
		if (!parse_record(&rd, &p, &r) || !r.has_ts)
			continue;
		state = r.ok == 0 || strcmp(r.event, "offline") == 0  ? 0
		        : r.ok == 1 || strcmp(r.event, "online") == 0 ? 1
		                                                      : -1;
		if (leak_fault_record(&fr, r.ts, r.unit, state) < 0) {
			warn("%s: fault periods", path);
			rc = -2;
		}
	}
	if (rc == -1)
		warn("%s: read error", path);
	else if (rc == 0 && leak_fault_reader_end(&fr) < 0) {
		warn("%s: fault periods", path);
		rc = -2;
	}
	jsonl_report_summary(&rd);
	jsonl_reader_free(&rd);
	fclose(fp);
	return rc < 0 ? -1 : 0;
}

/* ---- output ------------------------------------------------------------ */

static bool
is_kb(const char *field)
{
	size_t n = strlen(field);

	return n > 3 && strcmp(field + n - 3, "_kb") == 0;
}

/* A value in the field's units, for people: sizes for *_kb fields. */
static const char *
fmt_value(char *buf, size_t cap, const char *field, double v)
{
	static const char *const units[] = {"KB", "MB", "GB", "TB"};
	double a = fabs(v);
	size_t u = 0;

	if (isnan(v))
		return "n/a";
	if (!is_kb(field)) {
		snprintf(buf, cap, "%.4g", v + 0.0); /* never "-0" */
		return buf;
	}
	while (a >= 1024 && u < 3) {
		a /= 1024;
		v /= 1024;
		u++;
	}
	if (a >= 100 || u == 0) {
		/* what rounds to zero has no sign: "0 KB/h", not "-0" */
		snprintf(buf, cap, "%.0f %s", a < 0.5 ? 0.0 : v, units[u]);
	} else {
		snprintf(buf, cap, "%.1f %s", a < 0.05 ? 0.0 : v, units[u]);
	}
	return buf;
}

static const char *
fmt_duration(char *buf, size_t cap, double s)
{
	if (isnan(s))
		snprintf(buf, cap, "never");
	else if (s < 10)
		snprintf(buf, cap, "%.1fs", s);
	else if (s < 120)
		snprintf(buf, cap, "%.0fs", s);
	else if (s < 7200)
		snprintf(buf, cap, "%.0fm %02.0fs", floor(s / 60), fmod(s, 60));
	else if (s < 172800)
		snprintf(buf, cap, "%.0fh %02.0fm", floor(s / 3600),
		         floor(fmod(s, 3600) / 60));
	else
		snprintf(buf, cap, "%.0fd %02.0fh", floor(s / 86400),
		         floor(fmod(s, 86400) / 3600));
	return buf;
}

static const char *
fmt_time(char *buf, size_t cap, double ts)
{
	time_t t = (time_t)ts;
	struct tm tm;
	char d[32];

	if (ts >= 0 && ts < 1e9) /* psrecord's elapsed seconds, not dates */
		snprintf(buf, cap, "+%s", fmt_duration(d, sizeof(d), ts));
	else if (localtime_r(&t, &tm) == NULL ||
	         strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, cap, "%.0f", ts);
	return buf;
}

/* Eight-level unicode sparkline of the bucket means. */
static void
sparkline(FILE *fp, const struct leak_series *s, size_t width)
{
	static const char *const bars[] = {"\u2581", "\u2582", "\u2583",
	                                   "\u2584", "\u2585", "\u2586",
	                                   "\u2587", "\u2588"};
	double lo = INFINITY, hi = -INFINITY, col[64];
	size_t i, j;

	if (s->n == 0)
		return;
	if (width > s->n)
		width = s->n;
	for (j = 0; j < width; j++) {
		size_t a = j * s->n / width, b = (j + 1) * s->n / width;
		double sum = 0, n = 0;

		for (i = a; i < b; i++) {
			sum += s->b[i].v * s->b[i].n;
			n += s->b[i].n;
		}
		col[j] = s->sign * sum / n;
		lo = fmin(lo, col[j]);
		hi = fmax(hi, col[j]);
	}
	for (j = 0; j < width; j++) {
		int k = hi > lo ? (int)((col[j] - lo) / (hi - lo) * 7.999) : 0;

		fputs(bars[k], fp);
	}
}

/* "grows" for a field where rising is bad, "falls" for free memory. */
static const char *
verb(const struct context *c, const char *up, const char *down)
{
	return c->st.series.sign > 0 ? up : down;
}

/*
 * The verdict's reason in one sentence, with the numbers it rests on: the
 * same words in the report and in the JSON.  Long on purpose: one case
 * per reason, each its sentence, read best side by side.
 */
static void
reason(char *buf, size_t cap, const struct context *c,
       const struct leak_result *r)
{
	const char *f = c->field;
	char a[32], b[32], d[32], t[32];

	switch (r->why) {
	case LEAK_WHY_TOO_FEW:
		snprintf(buf, cap, "too few samples");
		break;
	case LEAK_WHY_STEADY:
		snprintf(buf, cap, "no significant trend: %s/h now, p %.2g",
		         fmt_value(a, sizeof(a), f, r->slope * 3600),
		         r->slope_p);
		break;
	case LEAK_WHY_BELOW_RATE:
		snprintf(buf, cap,
		         "%s %s/h (%+.2f %%/day), below --min-rate %g %%/day",
		         verb(c, "grows", "falls"),
		         fmt_value(a, sizeof(a), f, r->slope * 3600),
		         r->rate_pct_day, c->rules.min_rate);
		break;
	case LEAK_WHY_WITHIN_NOISE:
		snprintf(buf, cap,
		         "%s %s/h (p %.2g) but by less than %s, %g noise sds: "
		         "within the noise",
		         verb(c, "rises", "falls"),
		         fmt_value(a, sizeof(a), f, r->slope * 3600),
		         r->slope_p, fmt_value(b, sizeof(b), f, r->material),
		         c->rules.material);
		break;
	case LEAK_WHY_TOO_RECENT:
		snprintf(buf, cap,
		         "%s since %s, over the last %zu samples only: too "
		         "recent to tell a trend",
		         verb(c, "rises", "falls"),
		         fmt_time(t, sizeof(t), r->onset_ts), r->now_points);
		break;
	case LEAK_WHY_CAME_BACK:
		snprintf(buf, cap, "%s by %s and came back by %s",
		         verb(c, "rose", "fell"),
		         fmt_value(a, sizeof(a), f, r->rise),
		         fmt_value(b, sizeof(b), f, r->fall));
		break;
	case LEAK_WHY_SETTLED:
		snprintf(buf, cap, "%s once, by %s, and is flat since %s",
		         verb(c, "grew", "fell"),
		         fmt_value(a, sizeof(a), f, r->rise),
		         fmt_time(t, sizeof(t), r->flat_since));
		break;
	case LEAK_WHY_SLOWING:
		snprintf(buf, cap,
		         "growth slows toward zero: %s/h now, levelling off",
		         fmt_value(a, sizeof(a), f, r->slope * 3600));
		break;
	case LEAK_WHY_FALLING:
		snprintf(
		    buf, cap, "%s since %s: %s/h", verb(c, "falls", "rises"),
		    fmt_time(t, sizeof(t), r->regime[r->nregimes - 1].start_ts),
		    fmt_value(a, sizeof(a), f, r->slope * 3600));
		break;
	case LEAK_WHY_GROWS:
	case LEAK_WHY_FLOOR:
		snprintf(buf, cap, "%s%s since %s: %s/h (%+.2f %%/day)",
		         r->why == LEAK_WHY_FLOOR ? "the floor under the "
		                                    "sawtooth "
		                                  : "",
		         verb(c, "grows", "falls"),
		         fmt_time(t, sizeof(t), r->onset_ts),
		         fmt_value(a, sizeof(a), f, r->slope * 3600),
		         r->rate_pct_day);
		break;
	case LEAK_WHY_EPISODES:
		snprintf(buf, cap,
		         "%s in episodes: %zu episodes, %s in all, %s/h while "
		         "growing; never back down, flat since %s",
		         verb(c, "grows", "falls"), r->episodes,
		         fmt_value(a, sizeof(a), f, r->rise),
		         fmt_value(b, sizeof(b), f,
		                   r->growing_s > 0
		                       ? r->rise / r->growing_s * 3600
		                       : NAN),
		         fmt_time(t, sizeof(t), r->flat_since));
		break;
	case LEAK_WHY_FAULTS:
		snprintf(
		    buf, cap,
		    "%s only during faults: %s/h inside (%zu period%s, %s), "
		    "%s/h outside",
		    verb(c, "grows", "falls"),
		    fmt_value(a, sizeof(a), f, r->fault_in_slope * 3600),
		    r->fault_periods, r->fault_periods == 1 ? "" : "s",
		    fmt_duration(d, sizeof(d), r->fault_s),
		    fmt_value(b, sizeof(b), f, r->fault_out_slope * 3600));
		break;
	case LEAK_WHY_STEPS:
		snprintf(buf, cap,
		         "peaks climb in steps while the floor stays flat");
		break;
	case LEAK_WHY_LIMIT_NOW:
		snprintf(buf, cap, "the limit %s is already reached",
		         fmt_value(a, sizeof(a), f, c->rules.limit));
		break;
	case LEAK_WHY_ARENAS:
		snprintf(buf, cap,
		         "arena heaps multiply with the threads (%.0f to %.0f "
		         "arenas, %.0f to %.0f threads), each about %s: new "
		         "arenas, not more memory in use (MALLOC_ARENA_MAX)",
		         c->arenas.arenas_from, c->arenas.arenas_to,
		         c->arenas.threads_from, c->arenas.threads_to,
		         fmt_value(a, sizeof(a), "anon_kb",
		                   c->arenas.per_arena_to_kb));
		break;
	case LEAK_WHY_HEAP_NOT_ALLOC:
		snprintf(
		    buf, cap,
		    "the brk heap grows %s/h while the allocations (%s) "
		    "grow %s/h: memory freed but not given back",
		    fmt_value(a, sizeof(a), "x_kb", c->heap.heap_slope * 3600),
		    c->o->alloc_field,
		    fmt_value(b, sizeof(b), "x_kb",
		              c->heap.alloc_slope * 3600));
		break;
	case LEAK_WHY_LIMIT_SOON:
		snprintf(buf, cap, "at %s/h the limit %s is reached in %s",
		         fmt_value(a, sizeof(a), f, r->slope * 3600),
		         fmt_value(b, sizeof(b), f, c->rules.limit),
		         fmt_duration(d, sizeof(d), r->time_to_limit_s));
		break;
	}
}

static const char *
kind_name(enum leak_kind k)
{
	return k == LEAK_RISE ? "rise" : k == LEAK_FALL ? "fall" : "flat";
}

static void
report_regimes(FILE *fp, const struct context *c, const struct leak_result *r)
{
	size_t i = r->nregimes > 6 ? r->nregimes - 6 : 0;
	char a[32], t1[32], t2[32];

	fprintf(fp, "  regimes   %zu; episodes of growth %zu%s\n", r->nregimes,
	        r->episodes,
	        r->sawtooth ? " (of the floor under the sawtooth)" : "");
	for (; i < r->nregimes; i++) {
		const struct leak_regime *x = &r->regime[i];

		fprintf(fp, "            %s .. %s  %-4s %s/h%s\n",
		        fmt_time(t1, sizeof(t1), x->start_ts),
		        fmt_time(t2, sizeof(t2), x->end_ts), kind_name(x->kind),
		        fmt_value(a, sizeof(a), c->field, x->slope * 3600),
		        x->jump_significant ? ", after a step" : "");
	}
}

static void
report_faults(FILE *fp, const struct leak_result *r, const char *field)
{
	char a[32], b[32], d[32];

	if (!r->have_faults)
		return;
	fprintf(fp,
	        "  faults    %zu period%s, %s in all: growth %s/h inside "
	        "(p %.2g), %s/h outside (p %.2g)\n",
	        r->fault_periods, r->fault_periods == 1 ? "" : "s",
	        fmt_duration(d, sizeof(d), r->fault_s),
	        fmt_value(a, sizeof(a), field, r->fault_in_slope * 3600),
	        r->fault_in_p,
	        fmt_value(b, sizeof(b), field, r->fault_out_slope * 3600),
	        r->fault_out_p);
}

static void
report_segments(FILE *fp, const struct context *c)
{
	char a[32], t1[32], t2[32];
	size_t i;

	if (c->st.total_segments == 0)
		return;
	fprintf(fp,
	        "  segments  %zu earlier (restarts); this report is on "
	        "the latest\n",
	        c->st.total_segments);
	for (i = 0; i < c->st.ndone; i++) {
		const struct leak_segment *s = &c->st.done[i];

		fprintf(fp, "            pid %-7.0f %s .. %s  %-17s %s/h\n",
		        s->pid, fmt_time(t1, sizeof(t1), s->first_ts),
		        fmt_time(t2, sizeof(t2), s->last_ts),
		        leak_verdict_name(s->verdict),
		        fmt_value(a, sizeof(a), c->field, s->slope * 3600));
	}
}

/* A mapping's name in words. */
static void
mapping_words(char *buf, size_t cap, const char *name)
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

/* "92 % of the growth is in the brk heap (+1.2 MiB/h); 8 % in ..." */
static void
report_where(FILE *fp, const struct context *c)
{
	char words[96], rate[32];
	int i;

	if (!c->where.ready)
		return;
	if (c->nitems <= 0) {
		fprintf(fp, "  where     no mapping grows\n");
		return;
	}
	for (i = 0; i < c->nitems && i < 4 && c->items[i].share >= 0.01; i++) {
		mapping_words(words, sizeof(words), c->items[i].name);
		fmt_value(rate, sizeof(rate), "x_kb", c->items[i].slope * 3600);
		fprintf(fp, "%s%.0f %% %s %s (%s, %s/h)",
		        i == 0 ? "  where     " : "; ", 100 * c->items[i].share,
		        i == 0 ? "of the growth is in" : "in", words,
		        c->items[i].name, rate);
	}
	fputc('\n', fp);
	if (c->arenas.arenas_to > 0 || c->arenas.arenas_from > 0)
		fprintf(fp,
		        "  arenas    %.0f to %.0f arena heaps, %.0f to %.0f "
		        "threads%s\n",
		        c->arenas.arenas_from, c->arenas.arenas_to,
		        c->arenas.threads_from, c->arenas.threads_to,
		        c->arenas.fired ? ": each flat, fragmentation" : "");
	if (c->heap.known) {
		fmt_value(words, sizeof(words), "x_kb",
		          c->heap.heap_slope * 3600);
		fmt_value(rate, sizeof(rate), "x_kb",
		          c->heap.alloc_slope * 3600);
		fprintf(fp, "  allocs    heap %s/h, %s %s/h%s\n", words,
		        c->o->alloc_field, rate,
		        c->heap.fired ? ": the heap outgrows them" : "");
	}
}

static void
report(FILE *fp, const struct context *c, const struct leak_result *r)
{
	const char *f = c->field;
	char a[32], b[32], d[32], e[32], why[512];

	reason(why, sizeof(why), c, r);
	fprintf(fp, "%s: %s (%s)\n", f, leak_verdict_name(r->verdict), why);
	fprintf(fp, "  series    %llu samples over %s, level %s, last %s  ",
	        (unsigned long long)r->samples,
	        fmt_duration(d, sizeof(d), r->span_s),
	        fmt_value(a, sizeof(a), f, r->level),
	        fmt_value(b, sizeof(b), f, r->last));
	sparkline(fp, &c->st.series, 32);
	fputc('\n', fp);
	if (r->verdict == LEAK_INSUFFICIENT) {
		fprintf(fp,
		        "  need      at least %llu samples over some time\n",
		        (unsigned long long)c->rules.min_samples);
		return;
	}
	if (r->warmup_s > 0)
		fprintf(fp,
		        "  warm-up   the first %s after the start left out\n",
		        fmt_duration(d, sizeof(d), r->warmup_s));
	fprintf(fp,
	        "  now       %s/h (%+.2f %%/day), %g%% one-sided CI %s/h .. "
	        "%s/h, p %.2g\n",
	        fmt_value(a, sizeof(a), f, r->slope * 3600), r->rate_pct_day,
	        100 * (1 - 2 * c->rules.alpha),
	        fmt_value(b, sizeof(b), f, r->slope_lo * 3600),
	        fmt_value(d, sizeof(d), f, r->slope_hi * 3600), r->slope_p);
	report_regimes(fp, c, r);
	fprintf(fp,
	        "  noise     sd %s, lag-1 correlation %.2f: variances wider "
	        "x%.2f\n",
	        fmt_value(a, sizeof(a), f, r->noise_sd), r->noise_phi,
	        r->noise_factor);
	fprintf(fp,
	        "  overall   Theil-Sen %s/h, OLS %s/h (R\u00b2 %.2f), "
	        "Mann-Kendall z %.2f\n",
	        fmt_value(a, sizeof(a), f, r->ts.slope * 3600),
	        fmt_value(b, sizeof(b), f, r->ols.slope * 3600), r->ols.r2,
	        r->mk.z);
	if (!isnan(c->rules.limit))
		fprintf(fp, "  limit     %s reached in %s (horizon %s)\n",
		        fmt_value(a, sizeof(a), f, c->rules.limit),
		        fmt_duration(d, sizeof(d), r->time_to_limit_s),
		        fmt_duration(e, sizeof(e), c->rules.horizon_s));
	report_faults(fp, r, f);
	report_where(fp, c);
	report_segments(fp, c);
}

static void
json_per_hour(struct jsonl_writer *w, const char *key, double per_s)
{
	jsonl_double(w, key, per_s * 3600);
}

static void
json_segments(struct jsonl_writer *w, const struct context *c)
{
	size_t i;

	jsonl_int(w, "segment_count", (int64_t)c->st.total_segments + 1);
	jsonl_array_open(w, "segments");
	for (i = 0; i < c->st.ndone; i++) {
		const struct leak_segment *s = &c->st.done[i];

		jsonl_object_open(w, NULL);
		jsonl_double(w, "first_ts", s->first_ts);
		jsonl_double(w, "last_ts", s->last_ts);
		jsonl_uint(w, "samples", s->samples);
		if (s->has_id) {
			jsonl_double(w, "pid", s->pid);
			jsonl_double(w, "start", s->start);
		}
		jsonl_str(w, "verdict", leak_verdict_name(s->verdict));
		json_per_hour(w, "slope_per_h", s->slope);
		jsonl_object_close(w);
	}
	jsonl_array_close(w);
}

static void
json_regimes(struct jsonl_writer *w, const struct leak_result *r)
{
	size_t i;

	jsonl_array_open(w, "regimes");
	for (i = 0; i < r->nregimes; i++) {
		const struct leak_regime *x = &r->regime[i];

		jsonl_object_open(w, NULL);
		jsonl_double(w, "start_ts", x->start_ts);
		jsonl_double(w, "end_ts", x->end_ts);
		jsonl_str(w, "kind", kind_name(x->kind));
		json_per_hour(w, "slope_per_h", x->slope);
		jsonl_double(w, "p", x->p);
		jsonl_double(w, "level_start", x->level_start);
		jsonl_double(w, "level_end", x->level_end);
		jsonl_double(w, "step", x->jump_significant ? x->jump : 0);
		jsonl_uint(w, "points", x->points);
		jsonl_object_close(w);
	}
	jsonl_array_close(w);
	jsonl_double(w, "onset_ts", r->onset_ts);
	jsonl_double(w, "flat_since_ts", r->flat_since);
	jsonl_object_open(w, "episodes");
	jsonl_uint(w, "count", r->episodes);
	jsonl_double(w, "rise", r->rise);
	jsonl_double(w, "fall", r->fall);
	jsonl_double(w, "growing_s", r->growing_s);
	json_per_hour(w, "rate_per_h",
	              r->growing_s > 0 ? r->rise / r->growing_s : NAN);
	jsonl_object_close(w);
}

static void
json_stats(struct jsonl_writer *w, const struct leak_result *r,
           const struct leak_rules *o)
{
	json_per_hour(w, "slope_per_h", r->slope);
	jsonl_array_open(w, "slope_ci_per_h");
	json_per_hour(w, NULL, r->slope_lo);
	json_per_hour(w, NULL, r->slope_hi);
	jsonl_array_close(w);
	jsonl_double(w, "slope_p", r->slope_p);
	jsonl_double(w, "confidence", 1 - 2 * o->alpha);
	jsonl_double(w, "rate_pct_day", r->rate_pct_day);
	jsonl_double(w, "warmup_s", r->warmup_s);
	json_regimes(w, r);
	jsonl_object_open(w, "noise");
	jsonl_double(w, "sd", r->noise_sd);
	jsonl_double(w, "phi", r->noise_phi);
	jsonl_double(w, "factor", r->noise_factor);
	jsonl_object_close(w);
	jsonl_bool(w, "sawtooth", r->sawtooth);
	jsonl_double(w, "tooth_s", r->sawtooth ? r->tooth_s : NAN);
	json_per_hour(w, "theil_sen_slope_per_h", r->ts.slope);
	json_per_hour(w, "ols_slope_per_h", r->ols.slope);
	jsonl_double(w, "ols_r2", r->ols.r2);
	jsonl_double(w, "mk_z", r->mk.z);
	jsonl_double(w, "mk_p", r->mk.p);
	json_per_hour(w, "envelope_slope_per_h", r->envelope_slope);
	jsonl_double(w, "envelope_share", r->envelope_share);
	jsonl_str(w, "envelope_field", r->envelope_from_aux ? "anon_kb" : NULL);
	jsonl_double(w, "step_share", r->step_share);
	jsonl_double(w, "growth_started_ts", r->onset_ts);
	jsonl_double(w, "limit", o->limit);
	jsonl_double(w, "time_to_limit_h", r->time_to_limit_s / 3600);
	if (r->have_faults) {
		jsonl_object_open(w, "faults");
		jsonl_uint(w, "periods", r->fault_periods);
		jsonl_double(w, "fault_s", r->fault_s);
		json_per_hour(w, "in_slope_per_h", r->fault_in_slope);
		jsonl_double(w, "in_p", r->fault_in_p);
		json_per_hour(w, "out_slope_per_h", r->fault_out_slope);
		jsonl_double(w, "out_p", r->fault_out_p);
		jsonl_object_close(w);
	}
}

/* "where" and the arenas' evidence, with maps in the input. */
static void
json_where(struct jsonl_writer *w, const struct context *c)
{
	const struct where_arena_evidence *e = &c->arenas;
	int i;

	if (!c->where.ready)
		return;
	jsonl_array_open(w, "where");
	for (i = 0; i < c->nitems; i++) {
		jsonl_object_open(w, NULL);
		jsonl_str(w, "mapping", c->items[i].name);
		jsonl_double(w, "share", c->items[i].share);
		json_per_hour(w, "slope_per_h", c->items[i].slope);
		jsonl_object_close(w);
	}
	jsonl_array_close(w);
	jsonl_object_open(w, "arenas");
	jsonl_bool(w, "fired", e->fired);
	jsonl_double(w, "from", e->arenas_from);
	jsonl_double(w, "to", e->arenas_to);
	jsonl_double(w, "threads_from", e->threads_from);
	jsonl_double(w, "threads_to", e->threads_to);
	jsonl_double(w, "per_arena_kb_from", e->per_arena_from_kb);
	jsonl_double(w, "per_arena_kb_to", e->per_arena_to_kb);
	jsonl_object_close(w);
	if (!c->heap.known)
		return;
	jsonl_object_open(w, "allocations");
	jsonl_str(w, "field", c->o->alloc_field);
	jsonl_bool(w, "fired", c->heap.fired);
	json_per_hour(w, "heap_slope_per_h", c->heap.heap_slope);
	json_per_hour(w, "alloc_slope_per_h", c->heap.alloc_slope);
	jsonl_object_close(w);
}

/* --by: the group's fields, each value as a string. */
static void
json_group(struct jsonl_writer *w, const struct context *c)
{
	const char *k, *end;
	int i;

	if (c->group == NULL)
		return;
	k = c->group->key;
	end = k + c->group->key_len;
	for (i = 0; i < c->o->nby; i++) {
		const char *sep = memchr(k, FLEET_SEP, (size_t)(end - k));
		size_t n = (size_t)((sep ? sep : end) - k);

		jsonl_strn(w, c->o->by[i], k, n);
		k = sep ? sep + 1 : end;
	}
}

static int
write_json(const struct context *c, const struct leak_result *r)
{
	struct jsonl_writer w;
	struct timespec now = clock_wall();
	char why[512];
	int rc;

	reason(why, sizeof(why), c, r);
	jsonl_writer_init(&w, stdout);
	jsonl_begin(&w, &now, "leak-classify");
	json_group(&w, c);
	jsonl_str(&w, "verdict", leak_verdict_name(r->verdict));
	jsonl_str(&w, "reason", why);
	jsonl_str(&w, "field", c->field);
	jsonl_str(&w, "direction",
	          c->st.series.sign > 0 ? "rising" : "falling");
	jsonl_uint(&w, "samples", r->samples);
	jsonl_uint(&w, "points", r->points);
	jsonl_double(&w, "first_ts", r->samples ? r->first_ts : NAN);
	jsonl_double(&w, "last_ts", r->samples ? r->last_ts : NAN);
	jsonl_double(&w, "span_s", r->span_s);
	jsonl_double(&w, "level", r->verdict ? r->level : NAN);
	jsonl_double(&w, "last", r->samples ? r->last : NAN);
	if (r->verdict != LEAK_INSUFFICIENT)
		json_stats(&w, r, &c->rules);
	json_where(&w, c);
	json_segments(&w, c);
	jsonl_uint(&w, "malformed", c->malformed);
	jsonl_uint(&w, "skipped", c->skipped);
	jsonl_uint(&w, "out_of_order", c->st.out_of_order);
	rc = jsonl_end(&w);
	jsonl_writer_free(&w);
	return rc;
}

/* ---- SVG chart ------------------------------------------------------------
 */

struct frame {
	double t_span, lo, hi;
};

#define SVG_W 800.0
#define SVG_H 320.0
#define SVG_L 70.0
#define SVG_R 20.0
#define SVG_T 30.0
#define SVG_B 40.0

static double
sx(const struct frame *f, double t)
{
	return SVG_L +
	       (f->t_span > 0 ? t / f->t_span : 0) * (SVG_W - SVG_L - SVG_R);
}

static double
sy(const struct frame *f, double v)
{
	return SVG_H - SVG_B -
	       (f->hi > f->lo ? (v - f->lo) / (f->hi - f->lo) : 0.5) *
	           (SVG_H - SVG_T - SVG_B);
}

static void
svg_series(FILE *fp, const struct leak_series *s, const struct frame *f)
{
	size_t i;

	/* min..max band, then the mean line */
	fputs("<polygon fill=\"#cfe3f7\" stroke=\"none\" points=\"", fp);
	for (i = 0; i < s->n; i++)
		fprintf(fp, "%.1f,%.1f ", sx(f, s->b[i].t),
		        sy(f, s->sign > 0 ? s->b[i].vmax : -s->b[i].vmin));
	for (i = s->n; i-- > 0;)
		fprintf(fp, "%.1f,%.1f ", sx(f, s->b[i].t),
		        sy(f, s->sign > 0 ? s->b[i].vmin : -s->b[i].vmax));
	fputs("\"/>\n<polyline fill=\"none\" stroke=\"#1f5fa8\" "
	      "stroke-width=\"1.2\" points=\"",
	      fp);
	for (i = 0; i < s->n; i++)
		fprintf(fp, "%.1f,%.1f ", sx(f, s->b[i].t),
		        sy(f, s->sign * s->b[i].v));
	fputs("\"/>\n", fp);
}

static void
svg_overlays(FILE *fp, const struct leak_result *r, const struct frame *f,
             double t0)
{
	size_t i;

	if (r->env_n > 1) {
		fputs("<polyline fill=\"none\" stroke=\"#2a9d3a\" "
		      "stroke-width=\"1.5\" points=\"",
		      fp);
		for (i = 0; i < r->env_n; i++)
			fprintf(fp, "%.1f,%.1f ", sx(f, r->env_t[i]),
			        sy(f, r->env_v[i]));
		fputs("\"/>\n", fp);
	}
	for (i = 0; i < r->nregimes; i++) { /* the regimes' lines */
		const struct leak_regime *x = &r->regime[i];

		fprintf(fp,
		        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		        "stroke=\"#c0392b\" stroke-dasharray=\"6 4\" "
		        "stroke-width=\"1.5\"/>\n",
		        sx(f, x->start_ts - t0), sy(f, x->level_start),
		        sx(f, x->end_ts - t0), sy(f, x->level_end));
	}
	if (!isnan(r->onset_ts))
		fprintf(fp,
		        "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" "
		        "stroke=\"#e67e22\" stroke-width=\"1.5\"/>\n",
		        sx(f, r->onset_ts - t0), SVG_T, sx(f, r->onset_ts - t0),
		        SVG_H - SVG_B);
}

static void
svg_faults(FILE *fp, const struct leak_faults *fl, double t0,
           const struct frame *f)
{
	size_t i;

	for (i = 0; i < fl->n; i++) {
		double a = fmax(fl->start[i] - t0, 0),
		       b = fmin(fl->end[i] - t0, f->t_span);

		if (b <= a)
			continue;
		fprintf(fp,
		        "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" "
		        "height=\"%.0f\" fill=\"#f5c6cb\" opacity=\"0.6\"/>\n",
		        sx(f, a), SVG_T, sx(f, b) - sx(f, a),
		        SVG_H - SVG_T - SVG_B);
	}
}

static void
svg_text(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '<')
			fputs("&lt;", fp);
		else if (*s == '>')
			fputs("&gt;", fp);
		else if (*s == '&')
			fputs("&amp;", fp);
		else
			fputc(*s, fp);
	}
}

#define SVG_MAPS_H 220.0 /* the stacked classes' panel, below */

/*
 * With maps: the classes stacked over time in a panel of their own, the
 * heap at the bottom, each band as tall as its resident KiB, so that the
 * one that grows shows as the band that widens.
 */
static void
svg_maps(FILE *fp, const struct context *c, const struct frame *f, double t0)
{
	static const char *const fill[SMAPS_NCLASS] = {
	    "#e4572e", "#f3a712", "#a8c686", "#669bbc", "#b8b8d1"};
	const struct leak_series *cls[SMAPS_NCLASS];
	double top = 0, y0 = SVG_H, h = SVG_MAPS_H - SVG_B, base[2];
	char a[32];
	size_t i, n = SIZE_MAX;
	int k, j;

	for (k = 0; k < SMAPS_NCLASS; k++) {
		if ((cls[k] = where_class(&c->where, k)) == NULL)
			return;
		n = cls[k]->n < n ? cls[k]->n : n;
	}
	for (i = 0; i < n; i++) {
		double sum = 0;

		for (k = 0; k < SMAPS_NCLASS; k++)
			sum += cls[k]->b[i].v;
		top = fmax(top, sum);
	}
	if (n < 2 || !(top > 0))
		return;
	/* each band: its upper edge left to right, its lower one back */
	for (k = SMAPS_NCLASS - 1; k >= 0; k--) {
		fprintf(fp, "<polygon fill=\"%s\" stroke=\"none\" points=\"",
		        fill[k]);
		for (j = 0; j < 2; j++)
			for (size_t m = 0; m < n; m++) {
				size_t at = j == 0 ? m : n - 1 - m;
				int upto = j == 0 ? k : k - 1, q;

				base[j] = 0;
				for (q = 0; q <= upto; q++)
					base[j] += cls[q]->b[at].v;
				fprintf(
				    fp, "%.1f,%.1f ",
				    sx(f, cls[k]->t0 + cls[k]->b[at].t - t0),
				    y0 + h - base[j] / top * (h - 10));
			}
		fputs("\"/>\n", fp);
		fprintf(fp,
		        "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" "
		        "height=\"10\" fill=\"%s\"/><text x=\"%.0f\" "
		        "y=\"%.0f\">[%s]</text>\n",
		        SVG_L + 10 + 90.0 * k, y0 + h + 14, fill[k],
		        SVG_L + 24 + 90.0 * k, y0 + h + 23,
		        smaps_class_name(k));
	}
	fprintf(fp, "<text x=\"4\" y=\"%.0f\">%s</text>\n", y0 + 14,
	        fmt_value(a, sizeof(a), "x_kb", top));
}

static int
write_svg(const char *path, const struct context *c,
          const struct leak_result *r)
{
	const struct leak_series *s = &c->st.series;
	struct frame f = {r->span_s, INFINITY, -INFINITY};
	char a[32], b[32], d[32];
	FILE *fp = fopen(path, "w");
	size_t i;

	if (fp == NULL) {
		warn("%s", path);
		return -1;
	}
	for (i = 0; i < s->n; i++) {
		f.lo = fmin(
		    f.lo, fmin(s->sign * s->b[i].vmin, s->sign * s->b[i].vmax));
		f.hi = fmax(
		    f.hi, fmax(s->sign * s->b[i].vmin, s->sign * s->b[i].vmax));
	}
	fprintf(fp,
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
	        "height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
	        "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
	        SVG_W, SVG_H + (c->where.ready ? SVG_MAPS_H : 0));
	svg_faults(fp, &c->faults, s->t0, &f);
	svg_series(fp, s, &f);
	svg_overlays(fp, r, &f, s->t0);
	svg_maps(fp, c, &f, s->t0);
	fprintf(fp, "<text x=\"%.0f\" y=\"18\" font-size=\"14\">", SVG_L);
	svg_text(fp, c->field);
	fprintf(fp,
	        ": %s</text>\n"
	        "<text x=\"4\" y=\"%.0f\">%s</text>\n"
	        "<text x=\"4\" y=\"%.0f\">%s</text>\n"
	        "<text x=\"%.0f\" y=\"%.0f\">0</text>\n"
	        "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s</text>\n"
	        "</svg>\n",
	        leak_verdict_name(r->verdict), SVG_T + 10,
	        fmt_value(a, sizeof(a), c->field, f.hi), SVG_H - SVG_B,
	        fmt_value(b, sizeof(b), c->field, f.lo), SVG_L, SVG_H - 20,
	        SVG_W - SVG_R, SVG_H - 20,
	        fmt_duration(d, sizeof(d), f.t_span));
	if (ferror(fp) | fclose(fp)) {
		warn("%s: write error", path);
		return -1;
	}
	return 0;
}

/* ---- main -------------------------------------------------------------- */

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
	if (!(r->min_rate >= 0) || !(r->settle_ratio >= 0) ||
	    !(r->envelope_share >= 0) ||
	    !(r->step_share >= 0 && r->step_share <= 1))
		return cli_usage_error("rule thresholds must be positive "
		                       "(--step-share at most 1)");
	r->windows = (size_t)o->windows;
	r->min_samples = (uint64_t)o->min_samples;
	if (parse_duration(o->horizon_arg ? o->horizon_arg : "24h", &ms) < 0)
		return cli_usage_error("--horizon: bad duration '%s'",
		                       o->horizon_arg);
	r->horizon_s = (double)ms / 1000;
	if (!(r->penalty > 0) || !(r->material >= 0))
		return cli_usage_error("--penalty must be positive, "
		                       "--material not negative");
	if (o->warmup_arg != NULL && strcmp(o->warmup_arg, "auto") != 0) {
		if (parse_duration(o->warmup_arg, &ms) < 0)
			return cli_usage_error("--warmup: bad duration '%s'",
			                       o->warmup_arg);
		r->warmup_s = (double)ms / 1000;
	}
	if (o->format_arg != NULL &&
	    memlog_parse_format(o->format_arg, &o->format) < 0)
		return cli_usage_error("--format: '%s' is not auto, jsonl, "
		                       "psrecord, mprof, prmon or csv",
		                       o->format_arg);
	if (o->child < -1 || (o->child >= 0 && o->format != MEMLOG_AUTO &&
	                      o->format != MEMLOG_MPROF))
		return cli_usage_error("--child: an mprof CHLD index, 0 or "
		                       "more");
	return cli_parse_max_line(o->max_line_arg, &o->max_line);
}

/* The limit needs the field's name (KiB for *_kb): parse it once known. */
static int
apply_limit(struct context *c)
{
	if (c->o->limit_arg == NULL)
		return 0;
	return parse_field_limit(c->field, c->o->limit_arg, &c->rules.limit);
}

static int
read_inputs(struct context *c, const char **files)
{
	int rc = 0;

	if (files == NULL || files[0] == NULL)
		return read_series(c, stdin, "-");
	for (; *files != NULL && rc == 0; files++) {
		FILE *fp =
		    strcmp(*files, "-") == 0 ? stdin : fopen(*files, "r");

		if (fp == NULL) {
			warn("%s", *files);
			return -1;
		}
		rc = read_series(c, fp, *files);
		if (fp != stdin)
			fclose(fp);
	}
	return rc;
}

static void
summarize_input(const struct context *c)
{
	if (c->skipped > 0)
		msg_warn("%llu records without a numeric ts and %s skipped",
		         (unsigned long long)c->skipped, c->field);
	if (c->st.out_of_order > 0)
		msg_warn("%llu records older than the one before skipped",
		         (unsigned long long)c->st.out_of_order);
}

/*
 * With "maps": the current growth by mapping, and the arenas' evidence,
 * which makes a leak fragmentation_suspect when it fired.
 */
static void
attribute(struct context *c, struct leak_result *r)
{
	double since = isfinite(r->onset_ts) ? r->onset_ts
	               : r->nregimes > 0 ? r->regime[r->nregimes - 1].start_ts
	                                 : r->first_ts;

	if (!c->where.ready || r->verdict == LEAK_INSUFFICIENT)
		return;
	c->nitems = where_attribute(&c->where, since, c->items, WHERE_NAMES);
	if (c->nitems < 0 || where_arenas(&c->where, since, &c->arenas) < 0 ||
	    where_heap_vs_alloc(&c->where, since, &c->heap) < 0)
		err(CLI_EXIT_FAILURE, "out of memory");
	if (r->verdict != LEAK_LEAK)
		return;
	if (c->arenas.fired) {
		r->verdict = LEAK_FRAGMENTATION;
		r->why = LEAK_WHY_ARENAS;
	} else if (c->heap.fired && c->nitems > 0 &&
	           strcmp(c->items[0].name, "[heap]") == 0 &&
	           c->items[0].share >= 0.5) {
		r->verdict = LEAK_FRAGMENTATION;
		r->why = LEAK_WHY_HEAP_NOT_ALLOC;
	}
}

/* ---- --by: a verdict per group ----------------------------------------- */

/* The group's values for people: "gx1,python3"; "-" for an empty one. */
static void
group_text(char *buf, size_t cap, const struct fleet_group *g)
{
	size_t i, at = 0;
	bool empty = true;

	for (i = 0; i <= g->key_len && at + 2 < cap; i++) {
		if (i == g->key_len || g->key[i] == FLEET_SEP) {
			if (empty)
				buf[at++] = '-';
			if (i < g->key_len)
				buf[at++] = ',';
			empty = true;
			continue;
		}
		buf[at++] = g->key[i];
		empty = false;
	}
	buf[at] = '\0';
}

static void
table_row(struct context *c, const struct fleet_group *g)
{
	const struct leak_result *r = &g->res;
	char name[FLEET_KEY_MAX + 8], a[32], t[32], d[32];
	bool calm = r->verdict == LEAK_INSUFFICIENT;

	if (!c->header_done)
		printf("%-20s %-22s %14s %9s  %-19s  %s\n", "GROUP", "VERDICT",
		       "SLOPE", "%/DAY", "ONSET", "TO LIMIT");
	c->header_done = true;
	group_text(name, sizeof(name), g);
	printf("%-20s %-22s %12s/h %+9.2f  %-19s  %s\n", name,
	       leak_verdict_name(r->verdict),
	       calm ? "-" : fmt_value(a, sizeof(a), c->field, r->slope * 3600),
	       calm ? 0.0 : r->rate_pct_day,
	       isfinite(r->onset_ts) ? fmt_time(t, sizeof(t), r->onset_ts)
	                             : "-",
	       isfinite(r->time_to_limit_s)
	           ? fmt_duration(d, sizeof(d), r->time_to_limit_s)
	           : "-");
}

/* One group's verdict: a JSON line with its fields, or a table row. */
static void
print_group(struct context *c, const struct fleet_group *g)
{
	struct context gc;

	if (g->rc < 0) {
		warn("classify");
		c->worst = c->worst > 1 ? c->worst : CLI_EXIT_FAILURE;
		return;
	}
	if (g->st.interleaved)
		msg_warn("%.*s: records of several processes interleave (pid "
		         "%.0f comes back)",
		         (int)g->key_len, g->key, g->st.interleaved_pid);
	if (leak_verdict_exit(g->res.verdict) > c->worst)
		c->worst = leak_verdict_exit(g->res.verdict);
	if (!c->o->json) {
		table_row(c, g);
		return;
	}
	gc = *c; /* a view for write_json(): this group's stream */
	gc.st = g->st;
	gc.group = g;
	if (write_json(&gc, &g->res) < 0 && errno != EPIPE)
		c->worst = cli_write_error();
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
	qsort(g, n, sizeof(*g), by_badness);
	for (i = 0; i < n; i++) {
		print_group(c, g[i]);
		fleet_drop(&c->fleet, g[i]);
	}
	fflush(stdout);
}

/* --expire: groups silent that long (in record time) are judged and
 * dropped, looked for every eighth of it. */
static void
expire_groups(struct context *c)
{
	double after = (double)c->o->expire_ms / 1000;
	struct fleet_group **all;
	size_t n, i, k = 0;

	if (after <= 0 || c->newest_ts - c->swept_ts < fmax(1, after / 8))
		return;
	c->swept_ts = c->newest_ts;
	if (c->field != NULL)
		apply_limit(c); /* the field may have been chosen since */
	if ((all = fleet_list(&c->fleet, &n)) == NULL)
		err(CLI_EXIT_FAILURE, "out of memory");
	for (i = 0; i < n; i++)
		if (all[i]->last_ts < c->newest_ts - after)
			all[k++] = all[i];
	judge_groups(c, all, k);
	free(all);
}

/* What --by found at the end of the input; the worst verdict's code. */
static int
emit_groups(struct context *c)
{
	struct fleet_group **all;
	size_t n, i;
	uint64_t late = 0, twice = 0;

	if ((all = fleet_list(&c->fleet, &n)) == NULL)
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

static int
emit(struct context *c, const struct leak_result *r)
{
	if (c->o->svg != NULL && write_svg(c->o->svg, c, r) < 0)
		return CLI_EXIT_FAILURE;
	if (c->o->json) {
		if (write_json(c, r) < 0 && errno != EPIPE) {
			return cli_write_error();
		}
	} else {
		report(stdout, c, r);
	}
	return cli_close_stdout() == 0 ? leak_verdict_exit(r->verdict)
	                               : CLI_EXIT_FAILURE;
}

/* --by FIELD[,FIELD] and --expire DUR. */
static int
parse_by(struct options *o)
{
	char *tok, *save = NULL;

	if (o->expire_arg != NULL &&
	    (o->by_arg == NULL ||
	     parse_duration(o->expire_arg, &o->expire_ms) < 0))
		return cli_usage_error("--expire: %s '%s'",
		                       o->by_arg ? "bad duration"
		                                 : "goes with --by",
		                       o->expire_arg);
	if (o->by_arg == NULL)
		return CLI_CONTINUE;
	if (o->svg != NULL)
		return cli_usage_error("--svg draws one series: not with --by");
	snprintf(o->by_store, sizeof(o->by_store), "%s", o->by_arg);
	for (tok = strtok_r(o->by_store, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (o->nby == FLEET_FIELDS || strlen(tok) > JSONL_SCAN_KEY_MAX)
			return cli_usage_error("--by: at most %d fields of at "
			                       "most %d bytes",
			                       FLEET_FIELDS,
			                       JSONL_SCAN_KEY_MAX);
		o->by[o->nby++] = tok;
	}
	if (o->nby == 0)
		return cli_usage_error("--by: which fields");
	return CLI_CONTINUE;
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
	    {"min-rate", '\0', POPT_ARG_DOUBLE, &o->rules.min_rate, 0,
	     "growth below PCT %/day of the level is steady (default 1)",
	     "PCT"},
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
	    CLI_COMMON_OPTIONS,
	    POPT_TABLEEND};

	leak_rules_default(&o->rules);
	*con = cli_context(argc, argv, table, "[OPTION...] [FILE...]", 0);
	CLI_STRINGS_TRACK(strings, &o->field, &o->limit_arg, &o->horizon_arg,
	                  &o->events, &o->svg, &o->warmup_arg, &o->max_line_arg,
	                  &o->format_arg, &o->alloc_field, &o->by_arg,
	                  &o->expire_arg);
	if ((rc = cli_parse_options(*con, strings)) >= 0 ||
	    (rc = check_rules(o)) >= 0)
		return rc;
	if (o->limit_arg != NULL && parse_size(o->limit_arg, &unused, NULL) < 0)
		return cli_usage_error("--limit: bad size '%s'", o->limit_arg);
	if (o->pid < 0)
		return cli_usage_error("--pid: bad process id %ld", o->pid);
	return parse_by(o);
}

/* The input read into c's stream, checked and flushed: 0, or -1 after
 * the message. */
static int
read_all(struct context *c, const char **files)
{
	const struct options *o = c->o;

	if (o->events != NULL &&
	    read_faults(o->events, o->max_line, &c->faults) < 0)
		return -1;
	if (read_inputs(c, files) < 0)
		return -1;
	if (c->st.interleaved) {
		warnx("records of several processes interleave (pid %.0f "
		      "comes back): pick one with --pid",
		      c->st.interleaved_pid);
		return -1;
	}
	if (c->field == NULL)
		c->field = "rss_kb";
	summarize_input(c);
	leak_series_flush(&c->st.series);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct options o = {.windows = 16,
	                           .min_samples = 10,
	                           .max_line = JSONL_MAX_LINE,
	                           .child = -1};
	static struct context c;
	struct cli_strings strings = {0};
	struct leak_result res;
	poptContext con = NULL;
	double sign;
	int rc;

	if ((rc = parse(argc, argv, &o, &strings, &con)) >= 0)
		goto done;
	sign = o.falling || (!o.rising && o.field && leak_field_falls(o.field))
	           ? -1
	           : 1;
	c.o = &o;
	c.rules = o.rules;
	c.field = o.field;
	c.field_is_anon = o.field != NULL && strcmp(o.field, "anon_kb") == 0;
	if (leak_stream_init(&c.st, sign, &c.rules) < 0 ||
	    fleet_init(&c.fleet, sign, &c.rules, FLEET_BUCKETS) < 0)
		err(CLI_EXIT_FAILURE, "out of memory");
	rc = CLI_EXIT_FAILURE;
	if (read_all(&c, poptGetArgs(con)) < 0)
		goto cleanup;
	if (o.nby > 0) {
		rc = apply_limit(&c) < 0 ? CLI_EXIT_FAILURE : emit_groups(&c);
		goto cleanup;
	}
	if (apply_limit(&c) < 0 ||
	    leak_classify(&c.st.series, &c.rules, &c.faults, &res) < 0) {
		warn("classify");
		goto cleanup;
	}
	attribute(&c, &res);
	rc = emit(&c, &res);
cleanup:
	fleet_free(&c.fleet);
	where_free(&c.where);
	leak_stream_free(&c.st);
	leak_faults_free(&c.faults);
done:
	cli_strings_free(&strings);
	poptFreeContext(con);
	return rc;
}
