#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "jsonl.h"
#include "msg.h"
#include "parse.h"
#include "smaps.h"
#include "timeline.h"
#include "trend.h"

/* One input record, whichever parser read it. */
struct record {
	bool has_ts, has_value, has_anon, has_rss, has_pid, has_start, has_age;
	bool ts_present; /* a time field, whether or not it reads as one */
	double ts, value, anon, rss, pid, start, age;
	double uptime;      /* the first uptime-like field, or NAN */
	bool value_invalid; /* present but null or not a number */
	char event[32];
	int ok; /* -1 absent, 0 false, 1 true */
	char unit[32];
	bool has_threads, has_maps, has_alloc, has_heap, has_sites;
	double threads, alloc, heap;
	char group[FLEET_KEY_MAX]; /* --by: the values, FLEET_SEP between */
	size_t group_len;
	/* last, not cleared per record: filled where has_maps, has_sites */
	struct where_reading maps;       /* rss-watch --maps */
	struct where_site_reading sites; /* heap-watch */
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
	FLD_HEAP,
	FLD_SITES,
	FLD_ALLOC,
	FLD_UPTIME_S, /* uptime-like: lower than before, a new life */
	FLD_UPTIME,
	FLD_UPTIME_MS,
	FLD_TIMESTAMP, /* the time, where ts is not: the first there */
	FLD_TIME,
	FLD_T,
	FLD_BY, /* FLEET_FIELDS of them */
	FLD_COUNT = FLD_BY + FLEET_FIELDS
};

/* The fields a record is read for, prepared once per field name. */
struct parser {
	struct jsonl_field f[FLD_COUNT];
	struct jsonl_scanner sc;
	const char *field;
	int nby;
	bool nested; /* the field or the time field is a dotted path */
};

double
timeline_seconds(const char *name, double v)
{
	size_t n = strlen(name);

	if (n > 3 && strcmp(name + n - 3, "_ms") == 0)
		return v / 1e3;
	if (n > 3 && strcmp(name + n - 3, "_us") == 0)
		return v / 1e6;
	if (n > 3 && strcmp(name + n - 3, "_ns") == 0)
		return v / 1e9;
	/* seconds since 1970 reach 1e11 in the year 5138 */
	if (fabs(v) >= 1e17)
		return v / 1e9;
	if (fabs(v) >= 1e14)
		return v / 1e6;
	if (fabs(v) >= 1e11)
		return v / 1e3;
	return v;
}

/* A time field's value in seconds: a number, or an ISO 8601 string;
 * false when it is neither. */
static bool
time_of(const char *name, const struct jsonl_field *f, double *ts)
{
	if (f->type == JSONL_NUMBER) {
		*ts = timeline_seconds(name, f->num);
		return true;
	}
	return f->type == JSONL_STRING && !f->str_escaped &&
	       parse_iso8601(f->str, f->str_len, ts) == 0;
}

/* The record's time: the first time field there is, read. */
static void
ts_from_scan(const struct jsonl_field *f, struct record *r)
{
	static const int order[] = {FLD_TS, FLD_TIMESTAMP, FLD_TIME, FLD_T};
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const struct jsonl_field *x = &f[order[i]];

		if (x->type == JSONL_ABSENT)
			continue;
		r->ts_present = true;
		r->has_ts = time_of(x->name, x, &r->ts);
		return;
	}
}

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
	memset(r, 0, offsetof(struct record, maps));
	r->ok = -1;
	ts_from_scan(f, r);
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
	r->has_heap = f[FLD_HEAP].type == JSONL_NUMBER;
	r->heap = f[FLD_HEAP].num;
	r->has_alloc = f[FLD_ALLOC].type == JSONL_NUMBER;
	r->alloc = f[FLD_ALLOC].num;
	r->uptime = f[FLD_UPTIME_S].type == JSONL_NUMBER ? f[FLD_UPTIME_S].num
	            : f[FLD_UPTIME].type == JSONL_NUMBER ? f[FLD_UPTIME].num
	            : f[FLD_UPTIME_MS].type == JSONL_NUMBER
	                ? f[FLD_UPTIME_MS].num
	            : r->has_age ? r->age
	                         : NAN;
	if (f[FLD_EVENT].type == JSONL_STRING && !f[FLD_EVENT].str_escaped)
		copy_str(r->event, sizeof(r->event), f[FLD_EVENT].str,
		         f[FLD_EVENT].str_len);
	if (f[FLD_OK].type == JSONL_TRUE || f[FLD_OK].type == JSONL_FALSE)
		r->ok = f[FLD_OK].type == JSONL_TRUE;
	if (f[FLD_UNIT].type == JSONL_STRING)
		copy_str(r->unit, sizeof(r->unit), f[FLD_UNIT].str,
		         f[FLD_UNIT].str_len);
	else if (f[FLD_UNIT].type == JSONL_NUMBER)
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

static void
parser_init(struct parser *p, const char *field, const char *time_field,
            const char *alloc_field, const char *const *by, int nby)
{
	static const char *const names[FLD_COUNT] = {
	    [FLD_TS] = "ts",
	    [FLD_ANON] = "anon_kb",
	    [FLD_TIMESTAMP] = "timestamp",
	    [FLD_TIME] = "time",
	    [FLD_T] = "t",
	    [FLD_RSS] = "rss_kb",
	    [FLD_PID] = "pid",
	    [FLD_START] = "start",
	    [FLD_EVENT] = "event",
	    [FLD_OK] = "ok",
	    [FLD_UNIT] = "unit",
	    [FLD_AGE] = "age_s",
	    [FLD_THREADS] = "threads",
	    [FLD_MAPS] = "maps",
	    [FLD_HEAP] = "heap_kb",
	    [FLD_SITES] = "sites",
	    [FLD_UPTIME_S] = "uptime_s",
	    [FLD_UPTIME] = "uptime",
	    [FLD_UPTIME_MS] = "uptime_ms"};
	size_t i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < FLD_COUNT; i++)
		p->f[i].name = names[i];
	p->f[FLD_VALUE].name = field;
	if (time_field != NULL) { /* that one only */
		p->f[FLD_TS].name = time_field;
		p->f[FLD_TIMESTAMP].name = p->f[FLD_TIME].name =
		    p->f[FLD_T].name = "\x01";
	}
	p->nested = strchr(field, '.') != NULL ||
	            (time_field != NULL && strchr(time_field, '.') != NULL);
	p->f[FLD_ALLOC].name = alloc_field ? alloc_field : "\x01";
	for (i = 0; i < FLEET_FIELDS; i++) /* "\x01": no key is that */
		p->f[FLD_BY + i].name = (int)i < nby ? by[i] : "\x01";
	p->field = field;
	p->nby = nby;
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

/* heap-watch's "sites": live KiB by call site. */
static void
sites_from_json(json_t *a, struct record *r)
{
	struct where_site_reading *w = &r->sites;
	json_t *e;
	size_t i;

	r->has_sites = json_is_array(a);
	w->ts = r->ts;
	w->n = 0;
	json_array_foreach(a, i, e)
	{
		const char *name =
		    json_string_value(json_object_get(e, "site"));
		double kb = number_or_nan(e, "live_kb");

		if (name == NULL || !isfinite(kb) || w->n == WHERE_SITES)
			continue;
		snprintf(w->site[w->n].name, WHERE_SITE_MAX, "%s", name);
		w->site[w->n++].kb = kb;
	}
}

/* The member at a dotted path ("payload.free_heap"), or NULL. */
static json_t *
at_path(json_t *obj, const char *path)
{
	char key[JSONL_SCAN_KEY_MAX + 1];
	const char *dot;

	while (json_is_object(obj) && (dot = strchr(path, '.')) != NULL) {
		size_t n = (size_t)(dot - path);

		if (n > JSONL_SCAN_KEY_MAX)
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		obj = json_object_get(obj, key);
		path = dot + 1;
	}
	return json_is_object(obj) ? json_object_get(obj, path) : NULL;
}

/* A dotted field and time field the scanner, which reads the top level
 * only, could not see (a key with dots in it, there, wins). */
static void
nested_from_json(json_t *obj, const struct parser *p, struct record *r)
{
	const char *tname = p->f[FLD_TS].name;
	json_t *v = r->has_value ? NULL : at_path(obj, p->field);
	json_t *t = r->ts_present ? NULL : at_path(obj, tname);

	if (v != NULL) {
		r->has_value = json_is_number(v);
		r->value_invalid = !r->has_value;
		r->value = json_number_value(v);
	}
	if (t != NULL) {
		r->ts_present = true;
		if (json_is_number(t)) {
			r->has_ts = true;
			r->ts = timeline_seconds(tname, json_number_value(t));
		} else if (json_is_string(t)) {
			r->has_ts =
			    parse_iso8601(json_string_value(t),
			                  json_string_length(t), &r->ts) == 0;
		}
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
	if (p->f[FLD_MAPS].type != JSONL_OBJECT &&
	    p->f[FLD_SITES].type != JSONL_ARRAY &&
	    !(p->nested && (!r->has_value || !r->ts_present)))
		return true;
	if ((obj = jsonl_parse_line(rd)) == NULL)
		return false;
	if (p->nested)
		nested_from_json(obj, p, r);
	if (p->f[FLD_MAPS].type == JSONL_OBJECT)
		maps_from_json(json_object_get(obj, "maps"), r);
	if (p->f[FLD_SITES].type == JSONL_ARRAY)
		sites_from_json(json_object_get(obj, "sites"), r);
	json_decref(obj);
	return true;
}

/* ---- records into streams ------------------------------------------- */

int
timeline_init(struct timeline *tl, const struct timeline_options *o,
              double sign, const struct leak_rules *rules)
{
	memset(tl, 0, sizeof(*tl));
	tl->o = o;
	tl->field = o->field;
	tl->field_is_anon =
	    o->field != NULL && strcmp(o->field, "anon_kb") == 0;
	if (leak_stream_init_cap(&tl->st, sign, rules, LEAK_MAX_BUCKETS) < 0 ||
	    fleet_init(&tl->fleet, sign, rules, FLEET_BUCKETS) < 0)
		return -1;
	tl->fleet.max_groups = o->max_groups;
	return 0;
}

void
timeline_free(struct timeline *tl)
{
	fleet_free(&tl->fleet);
	where_free(&tl->where);
	leak_stream_free(&tl->st);
}

/* The field judged, when none was given: anon_kb where the first record
 * that has a memory field has it, else rss_kb, else heap-watch's heap_kb. */
static void
choose_field(struct timeline *tl, struct record *r)
{
	if (tl->field != NULL || (!r->has_anon && !r->has_rss && !r->has_heap))
		return;
	tl->field = r->has_anon ? "anon_kb" : r->has_rss ? "rss_kb" : "heap_kb";
	tl->field_is_anon = r->has_anon;
	r->has_value = true;
	r->value = r->has_anon ? r->anon : r->has_rss ? r->rss : r->heap;
}

/* --expire: the groups silent that long (in record time), looked for
 * every eighth of it, handed to the caller. */
static int
expire(struct timeline *tl)
{
	double after = tl->o->expire_s;
	struct fleet_group **all;
	size_t n, i, k = 0;

	if (after <= 0 || tl->newest_ts - tl->swept_ts < fmax(1, after / 8))
		return 0;
	tl->swept_ts = tl->newest_ts;
	if ((all = fleet_list(&tl->fleet, &n)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (all[i]->last_ts < tl->newest_ts - after)
			all[k++] = all[i];
	tl->o->due(tl->o->user, tl, all, k);
	free(all);
	return 0;
}

/* Count an event nothing reads, for the summary (the first names). */
static void
unread(struct timeline *tl, const char *name)
{
	size_t i;

	for (i = 0; i < tl->nunread; i++)
		if (strcmp(tl->unread[i].name, name) == 0)
			break;
	if (i == tl->nunread) {
		if (tl->nunread == TIMELINE_UNREAD)
			return;
		snprintf(tl->unread[i].name, sizeof(tl->unread[i].name), "%s",
		         name);
		tl->nunread++;
	}
	tl->unread[i].count++;
}

/* An event that ends a life, or may: into x (true); false for the
 * others (counted when nothing reads them). */
static bool
event_of(struct timeline *tl, const char *event, struct leak_sample *x)
{
	int i;

	x->restart = strcmp(event, "restart") == 0;
	x->exited = strcmp(event, "exit") == 0;
	x->limit = strcmp(event, "limit") == 0;
	for (i = 0; i < tl->o->nrestart_events; i++)
		x->jump |= strcmp(event, tl->o->restart_events[i]) == 0;
	if (x->restart || x->exited || x->limit || x->jump)
		return true;
	unread(tl, event);
	return false;
}

/* The stream a record goes to: its group's with --by (created when new),
 * else the one; NULL when out of memory. */
static struct leak_stream *
stream_of(struct timeline *tl, const struct record *r, struct fleet_group **g)
{
	*g = NULL;
	if (tl->o->nby == 0)
		return &tl->st;
	if ((*g = fleet_get(&tl->fleet, r->group, r->group_len)) == NULL)
		return NULL;
	(*g)->records++;
	return &(*g)->st;
}

/* The sample of a record that has one, into x; false (counted as skipped
 * unless it is an event) when it has none. */
static bool
sample_of(struct timeline *tl, struct record *r, struct leak_sample *x)
{
	choose_field(tl, r);
	if (r->ts_present && r->has_value &&
	    (!r->has_ts || !isfinite(r->ts) || r->ts < 0 ||
	     (r->ts == 0 && !tl->elapsed))) {
		tl->bad_ts++; /* never judged: said at the end */
		return false;
	}
	if (!r->has_ts || !r->has_value) {
		if (r->event[0] == '\0')
			tl->skipped++;
		if (r->has_value && !r->ts_present)
			tl->untimed++;
		return false;
	}
	if (fabs(r->value) > TIMELINE_MAX_VALUE ||
	    fabs(r->ts) > TIMELINE_MAX_TS) {
		tl->skipped++;
		return false;
	}
	x->ts = r->ts;
	x->value = r->value;
	x->aux = !tl->field_is_anon && r->has_anon ? r->anon : NAN;
	x->has_id = r->has_pid && r->has_start;
	x->pid = r->pid;
	x->start = r->start;
	x->age_s = r->has_age ? r->age : NAN;
	x->uptime = r->uptime;
	return true;
}

/* A record into its stream (with its maps, for the one series): 0, or -1
 * (ENOMEM). */
static int
add_record(struct timeline *tl, struct record *r)
{
	struct leak_sample x = {.uptime = NAN};
	struct fleet_group *g;
	struct leak_stream *st;

	/* the allocations' readings: of this process, whoever wrote them */
	if (r->has_alloc && r->has_ts &&
	    where_add_alloc(&tl->where, r->ts, r->alloc) < 0)
		return -1;
	if (r->has_alloc && !r->has_value && !r->has_rss && !r->has_anon)
		return 0; /* a reading of allocations only */
	if (tl->o->pid > 0 && (!r->has_pid || r->pid != (double)tl->o->pid)) {
		tl->filtered++;
		return 0;
	}
	if ((st = stream_of(tl, r, &g)) == NULL && errno == E2BIG) {
		if (tl->over_groups++ == 0)
			msg_warn(
			    "more than %zu groups: the records of new ones "
			    "are skipped (--max-groups)",
			    tl->fleet.max_groups);
		return 0;
	}
	if (st == NULL)
		return -1;
	if (r->event[0] != '\0' && event_of(tl, r->event, &x)) {
		leak_stream_add(st, &x);
		return 0;
	}
	if (!sample_of(tl, r, &x))
		return 0;
	if (g != NULL && g->st.series.samples > 0 && r->ts == g->last_ts) {
		g->duplicates++; /* QoS 1 delivers at least once */
		return 0;
	}
	leak_stream_add(st, &x);
	tl->samples++;
	if (g != NULL) {
		g->last_ts = fmax(g->last_ts, r->ts);
		tl->newest_ts = fmax(tl->newest_ts, r->ts);
		return expire(tl);
	}
	if (!r->has_maps && !r->has_sites)
		return 0;
	if (tl->st.total_segments != tl->where_segment) { /* a new process */
		where_reset(&tl->where);
		tl->where_segment = tl->st.total_segments;
	}
	if (r->has_sites && where_add_sites(&tl->where, &r->sites) < 0)
		return -1;
	return r->has_maps ? where_add(&tl->where, &r->maps) : 0;
}

/* A sample of another recorder's log as a record. */
static void
record_from_log(const struct timeline *tl, const struct memlog_sample *s,
                struct record *r)
{
	const char *field = tl->field ? tl->field : "anon_kb";
	size_t i;

	memset(r, 0, offsetof(struct record, maps));
	r->ok = -1;
	r->uptime = NAN;
	r->has_ts = r->ts_present = true;
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

/* A numeric field of a record without the one judged, to name. */
static void
seen_name(struct timeline *tl, const char *name)
{
	size_t i;

	if (strlen(name) >= sizeof(tl->seen[0]))
		return;
	for (i = 0; i < tl->nseen; i++)
		if (strcmp(tl->seen[i], name) == 0)
			return;
	if (tl->nseen < TIMELINE_SEEN)
		snprintf(tl->seen[tl->nseen++], sizeof(tl->seen[0]), "%s",
		         name);
}

static bool
is_time_field(const struct timeline *tl, const char *name)
{
	const char *t = tl->o->time_field;

	return t != NULL
	           ? strcmp(name, t) == 0
	           : strcmp(name, "ts") == 0 ||
	                 strcmp(name, "timestamp") == 0 ||
	                 strcmp(name, "time") == 0 || strcmp(name, "t") == 0;
}

/* The numeric members of obj, nested ones as dotted paths (two levels). */
static void
seen_members(struct timeline *tl, json_t *obj, const char *prefix)
{
	const char *key;
	json_t *v;
	char path[96];

	json_object_foreach(obj, key, v)
	{
		snprintf(path, sizeof(path), "%s%s%s", prefix,
		         prefix[0] ? "." : "", key);
		if (json_is_number(v) && !is_time_field(tl, path))
			seen_name(tl, path);
		else if (json_is_object(v) && prefix[0] == '\0')
			seen_members(tl, v, path);
	}
}

/* The first records without the field judged: what they have instead. */
#define TIMELINE_PROBES 64

static void
probe_fields(struct timeline *tl, struct jsonl_reader *rd,
             const struct record *r)
{
	json_t *obj;

	if ((r->has_value && r->ts_present) || r->event[0] != '\0' ||
	    tl->probed++ >= TIMELINE_PROBES ||
	    (obj = json_loadb(rd->line, rd->len, JSON_DECODE_ANY, NULL)) ==
	        NULL)
		return;
	if (json_is_object(obj))
		seen_members(tl, obj, "");
	json_decref(obj);
}

/* One line of psrecord, mprof, prmon or CSV. */
static int
add_log_line(struct timeline *tl, struct jsonl_reader *rd, struct memlog *ml)
{
	struct memlog_sample s;
	struct record r;
	const char *why;
	size_t i;
	int rc = memlog_line(ml, rd->line, &s, &why);

	if (rc < 0)
		jsonl_report(rd, why, 0);
	if (rc <= 0)
		return 0;
	tl->records++;
	record_from_log(tl, &s, &r);
	for (i = 0; !r.has_value && i < s.n; i++)
		if (!isnan(s.values[i]))
			seen_name(tl, s.names[i]);
	return add_record(tl, &r);
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

/* The next line's record into its stream: 1 on, 0 at the end, -1. */
static int
read_line(struct timeline *tl, struct jsonl_reader *rd, struct parser *p,
          struct memlog *ml)
{
	struct record r;
	int rc = jsonl_next_line(rd);
	size_t label;

	if (rc != 1)
		return rc;
	/* a record in a daemontools log: multilog's t label goes */
	if ((label = jsonl_tai64n_label(rd->line, rd->len)) > 0) {
		rd->line += label;
		rd->len -= label;
	}
	if (ml->format == MEMLOG_AUTO) { /* by its first line */
		memlog_init(ml, memlog_sniff(rd->line), tl->o->child);
		msg_debug("%s: read as %s", rd->name,
		          memlog_format_name(ml->format));
	}
	/* psrecord's clock is the seconds since its start: 0 is a time */
	tl->elapsed = ml->format == MEMLOG_PSRECORD;
	if (ml->format != MEMLOG_JSONL)
		return add_log_line(tl, rd, ml) < 0 ? -2 : 1;
	if (tl->field != NULL && p->field != tl->field) /* chosen on the way */
		parser_init(p, tl->field, tl->o->time_field, tl->o->alloc_field,
		            tl->o->by, tl->o->nby);
	if (!parse_record(rd, p, &r))
		return 1;
	tl->records++;
	probe_fields(tl, rd, &r);
	return add_record(tl, &r) < 0 ? -2 : 1;
}

int
timeline_read(struct timeline *tl, FILE *fp, const char *name)
{
	struct jsonl_reader rd;
	struct memlog ml;
	struct parser p;
	int rc;

	parser_init(&p, tl->field ? tl->field : "anon_kb", tl->o->time_field,
	            tl->o->alloc_field, tl->o->by, tl->o->nby);
	jsonl_reader_init(&rd, fp, name);
	rd.max_line = tl->o->max_line;
	memlog_init(&ml, tl->o->format, tl->o->child);
	while ((rc = read_line(tl, &rd, &p, &ml)) == 1)
		;
	if (rc == -2) { /* out of memory: nothing more to say */
		jsonl_reader_free(&rd);
		errno = ENOMEM;
		return -1;
	}
	if (rc < 0)
		msg_error("%s: read error: %s", name, strerror(errno));
	jsonl_report_summary(&rd);
	report_children(name, &ml);
	tl->malformed += rd.malformed;
	jsonl_reader_free(&rd);
	return rc;
}

/* "burst_start (3), burst_end (3)" into buf. */
static void
list_unread(char *buf, size_t cap, const struct timeline_event *e, size_t n)
{
	size_t i, at = 0;

	buf[0] = '\0';
	for (i = 0; i < n && at < cap; i++)
		at += (size_t)snprintf(buf + at, cap - at, "%s%s (%llu)",
		                       i ? ", " : "", e[i].name,
		                       (unsigned long long)e[i].count);
}

/* The events nothing read, once, with their counts; then forgotten. */
static void
report_unread(struct timeline *tl, const char *name)
{
	char names[512];

	if (tl->nunread == 0)
		return;
	list_unread(names, sizeof(names), tl->unread, tl->nunread);
	msg_warn("%s: events nothing reads: %s", name, names);
	tl->nunread = 0;
}

void
timeline_end(struct timeline *tl)
{
	if (tl->field == NULL)
		tl->field = "rss_kb";
	report_unread(tl, "input");
	if (tl->bad_ts > 0)
		msg_warn("%llu records whose time is not a positive, finite "
		         "time skipped",
		         (unsigned long long)tl->bad_ts);
	if (tl->skipped > 0 && tl->samples > 0) /* else: no field at all */
		msg_warn("%llu records without a time and a numeric %s "
		         "skipped",
		         (unsigned long long)tl->skipped, tl->field);
	if (tl->st.out_of_order > 0)
		msg_warn("%llu records older than the one before skipped",
		         (unsigned long long)tl->st.out_of_order);
	if (tl->over_groups > 0)
		msg_warn("%llu records of groups past --max-groups %zu skipped",
		         (unsigned long long)tl->over_groups,
		         tl->fleet.max_groups);
	leak_series_flush(&tl->st.series);
}

enum timeline_missing
timeline_field_missing(const struct timeline *tl, char *buf, size_t cap)
{
	size_t i, at = 0;

	if (tl->records == 0 || tl->samples > 0)
		return TIMELINE_HAS_SAMPLES;
	buf[0] = '\0';
	for (i = 0; i < tl->nseen && at < cap; i++)
		at += (size_t)snprintf(buf + at, cap - at, "%s%s",
		                       i ? ", " : "", tl->seen[i]);
	if (tl->nseen == 0)
		snprintf(buf, cap, "none");
	return tl->untimed > 0 ? TIMELINE_NO_TIME : TIMELINE_NO_FIELD;
}

/* ---- fault periods from --events -------------------------------------- */

/* What an event record says of the fault state: 0 failing, 1 good, -1
 * nothing (a state kept); the marker pairs of --fault-event open and close
 * a unit of their own.  Names nothing reads are counted. */
static int
fault_state(struct timeline *tl, const struct record *r, const char **unit)
{
	const struct timeline_options *o = tl->o;
	int i;

	for (i = 0; r->event[0] != '\0' && i < o->nfault_events; i++) {
		if (strcmp(r->event, o->fault_events[i][0]) == 0 ||
		    strcmp(r->event, o->fault_events[i][1]) == 0) {
			*unit = o->fault_events[i][0];
			return strcmp(r->event, o->fault_events[i][1]) == 0;
		}
	}
	if (r->ok == 0 || strcmp(r->event, "offline") == 0)
		return 0;
	if (r->ok == 1 || strcmp(r->event, "online") == 0)
		return 1;
	if (r->event[0] != '\0' && strcmp(r->event, "backoff") != 0)
		unread(tl, r->event);
	return -1;
}

/* The events' median interval: the tolerance of their edges. */
#define GAPS_KEPT 65536

static double
median_gap(double *gaps, size_t n)
{
	return n > 0 ? trend_median(gaps, n) : 0;
}

int
timeline_read_faults(struct timeline *tl, const char *path,
                     struct leak_faults *faults)
{
	struct leak_fault_reader fr;
	struct jsonl_reader rd;
	struct parser p;
	struct record r;
	FILE *fp = fopen(path, "r");
	double *gaps = malloc(GAPS_KEPT * sizeof(double)), last = NAN;
	size_t ngaps = 0;
	int rc = 0;

	if (fp == NULL || gaps == NULL) {
		msg_error("%s: %s", path, strerror(errno));
		if (fp != NULL)
			fclose(fp);
		free(gaps);
		return -1;
	}
	leak_fault_reader_init(&fr, faults);
	faults->marked = tl->o->nfault_events > 0;
	parser_init(&p, "ts", tl->o->time_field, NULL,
	            (const char *const[]){NULL}, 0);
	jsonl_reader_init(&rd, fp, path);
	rd.max_line = tl->o->max_line;
	while (rc == 0 && (rc = jsonl_next_line(&rd)) == 1) {
		const char *unit;
		int state;

		rc = 0;
		if (!parse_record(&rd, &p, &r) || !r.has_ts)
			continue;
		if (r.ts > last && ngaps < GAPS_KEPT)
			gaps[ngaps++] = r.ts - last;
		last = isnan(last) || r.ts > last ? r.ts : last;
		unit = r.unit;
		state = fault_state(tl, &r, &unit);
		if (leak_fault_record(&fr, r.ts, unit, state) < 0) {
			msg_error("%s: fault periods: %s", path,
			          strerror(errno));
			rc = -2;
		}
	}
	if (rc == -1)
		msg_error("%s: read error: %s", path, strerror(errno));
	else if (rc == 0 && leak_fault_reader_end(&fr) < 0) {
		msg_error("%s: fault periods: %s", path, strerror(errno));
		rc = -2;
	}
	if (!faults->edge_given)
		faults->edge_s = median_gap(gaps, ngaps);
	jsonl_report_summary(&rd);
	jsonl_reader_free(&rd);
	free(gaps);
	fclose(fp);
	report_unread(tl, path);
	return rc < 0 ? -1 : 0;
}
