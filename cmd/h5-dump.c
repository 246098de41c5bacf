/*
 * h5-dump: stream shepherd HDF5 recordings out as JSON Lines or CSV.
 * Without a group it describes the file; with one it streams the group's
 * datasets row by row, aligned by index and calibrated to SI, reading one
 * chunk-aligned block at a time so that memory stays the same whatever
 * the file's size.
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
#include "guard.h"
#include "h5_table.h"
#include "jsonl.h"
#include "parse.h"
#include "shepherd.h"
#include "trend.h"

#define PROG    "h5-dump"
#define NKEY    3 /* a column's keys: plain, _min, _max */
#define KEY_MAX (H5_NAME_MAX * 6 + 16)

enum format { FMT_JSONL, FMT_CSV, FMT_TREE };

struct verdict {
	unsigned problems, jumps;
	int64_t expected, t_prev; /* the usual step; the last stamp */
	uint64_t rows;            /* stamps seen */
};

struct options {
	const char *file, *group;
	enum format format;
	char delim;
	char *names[H5_TABLE_MAX_COLS];       /* -d, NULL-terminated */
	int raw, index, minmax, stats, check; /* popt's flags */
	bool progress;
	bool has_from, has_to;
	double from, to;
	uint64_t every, downsample;
	uint64_t deadline_ms; /* of libhdf5 without progress; 0: unguarded */
};

struct form;

/* One group being streamed: its columns, the selection and the sinks. */
struct dump {
	const struct options *o;
	hid_t file;
	struct h5_table t;
	struct key {
		char text[KEY_MAX];
		size_t len;
	} key[H5_TABLE_MAX_COLS][NKEY];
	struct jsonl_writer out;
	bool first_cell;          /* no CSV cell on this line yet */
	bool header;              /* CSV: write names instead of values */
	struct jsonl_stamp stamp; /* between ts and t_ns: the delimiter, or
	                           * JSON up to t_ns */
	struct progress {
		bool on;
		uint64_t done, total, start_ms, shown_ms;
	} progress;
	struct trend_block ds; /* --downsample */
	int64_t ds_t0;         /* the block's first stamp */
	struct shepherd_stats st;
	struct verdict *verdict; /* --check */
	const struct form *form; /* describing */
	bool write_failed;       /* and was reported */
	char msg[512];
};

/* ---- output ------------------------------------------------------------ */

static void
put_double(struct dump *d, double v)
{
	if (!isfinite(v)) {
		if (d->o->format == FMT_JSONL)
			jsonl_put(&d->out, "null", 4);
		return;
	}
	jsonl_put_double(&d->out, v);
}

static void
put_text(struct dump *d, const char *s, size_t n)
{
	if (d->o->format == FMT_JSONL)
		jsonl_append_string(&d->out, s, n);
	else
		jsonl_put_csv(&d->out, s, n, d->o->delim);
}

static void
put_sep(struct dump *d)
{
	jsonl_put_char(&d->out, d->o->delim);
}

/* Before each value: ,"name<suffix>": in JSON, the delimiter in CSV. */
static void
put_key(struct dump *d, const char *name, const char *suffix)
{
	char key[H5_NAME_MAX + 8];
	size_t n;

	if (d->o->format == FMT_CSV) {
		if (!d->first_cell)
			put_sep(d);
		d->first_cell = false;
		return;
	}
	n = (size_t)snprintf(key, sizeof(key), "%s%s", name, suffix);
	jsonl_put_char(&d->out, ',');
	jsonl_append_string(&d->out, key, n);
	jsonl_put_char(&d->out, ':');
}

static int
end_line(struct dump *d)
{
	if (d->o->format == FMT_JSONL)
		jsonl_put(&d->out, "}\n", 2);
	else
		jsonl_put(&d->out, "\n", 1);
	return d->out.len >= JSONL_FLUSH_AT ? jsonl_flush_fd(&d->out, 1) : 0;
}

static void
begin_line(struct dump *d, bool has_time, int64_t t_ns)
{
	d->first_cell = true;
	if (d->o->format == FMT_CSV) {
		if (has_time) {
			jsonl_put_stamp(&d->out, &d->stamp, t_ns);
			d->first_cell = false;
		}
		return;
	}
	jsonl_put(&d->out, "{\"ts\":", 6);
	if (has_time)
		jsonl_put_stamp(&d->out, &d->stamp, t_ns);
	else
		jsonl_put_str(&d->out, "null,\"src\":\"" PROG "\"");
	if (d->out.tags != NULL && d->out.tags->len > 0)
		jsonl_put(&d->out, d->out.tags->json, d->out.tags->len);
}

/* ,"name<suffix>": of each column, escaped once: rows reuse them. */
static const char *const key_suffix[NKEY] = {"", "_min", "_max"};

static void
make_keys(struct dump *d, int k)
{
	struct jsonl_writer w;
	char name[H5_NAME_MAX + 8];
	int s;

	jsonl_writer_init(&w, NULL);
	for (s = 0; s < NKEY; s++) {
		w.len = 0;
		jsonl_raw(&w, ",", 1);
		snprintf(name, sizeof(name), "%s%s", d->t.col[k].name,
		         key_suffix[s]);
		jsonl_append_string(&w, name, strlen(name));
		jsonl_raw(&w, ":", 1);
		d->key[k][s].len = w.len < KEY_MAX ? w.len : 0;
		memcpy(d->key[k][s].text, w.buf, d->key[k][s].len);
	}
	jsonl_writer_free(&w);
}

/* ---- opening a group ---------------------------------------------------- */

static int
open_group(struct dump *d, const char *path, char *const *want,
           bool equal_lengths)
{
	int k;

	if (h5_table_open(&d->t, d->file, path, want, equal_lengths,
	                  shepherd_field_rank, d->msg, sizeof(d->msg)) < 0)
		return -1;
	for (k = 0; k < d->t.ncol; k++)
		make_keys(d, k);
	return 0;
}

/* ---- progress ---------------------------------------------------------- */

static void
progress_show(void *data, uint64_t rows, uint64_t total, bool last)
{
	struct progress *p = &((struct dump *)data)->progress;
	uint64_t now = clock_mono_ms();
	double s = (double)(now - p->start_ms) / 1000;

	p->done += rows;
	p->total = total;
	if (!p->on || (!last && now - p->shown_ms < 500))
		return;
	p->shown_ms = now;
	fprintf(stderr, "\r" PROG ": %3.0f%%  %.3g M rows/s   ",
	        p->total ? 100.0 * (double)p->done / (double)p->total : 100.0,
	        s > 0 ? (double)p->done / s / 1e6 : 0.0);
	if (last)
		fprintf(stderr, "\r%40s\r", "");
}

/* ---- rows --------------------------------------------------------------- */

static void
put_value(struct dump *d, const struct h5_column *c, uint64_t i, unsigned j)
{
	const char *s;
	size_t n;

	if (c->type == H5_COL_STRING) {
		s = h5_col_text(c, i, &n);
		put_text(d, s, n);
	} else if (c->type == H5_COL_FLOAT || (!d->o->raw && c->has_gain)) {
		put_double(d,
		           h5_calibrate(c, h5_col_double(c, i, j), d->o->raw));
	} else if (c->type == H5_COL_UINT) {
		jsonl_put_u64(&d->out, h5_col_uint(c, i, j));
	} else {
		jsonl_put_i64(&d->out, h5_col_int(c, i, j));
	}
}

static void
put_column_key(struct dump *d, int k, int s)
{
	if (d->o->format == FMT_JSONL && d->key[k][s].len > 0)
		jsonl_put(&d->out, d->key[k][s].text, d->key[k][s].len);
	else
		put_key(d, d->t.col[k].name, key_suffix[s]);
}

/* One column's values: a number, or an array (CSV: one cell each). */
static void
put_column(struct dump *d, int k, int suffix, uint64_t i, const double *v)
{
	const struct h5_column *c = &d->t.col[k];
	bool array = c->width > 1 && d->o->format == FMT_JSONL;
	unsigned j;

	if (array) {
		put_column_key(d, k, suffix);
		jsonl_put_char(&d->out, '[');
	}
	for (j = 0; j < c->width; j++) {
		if (array && j > 0)
			jsonl_put_char(&d->out, ',');
		else if (!array)
			put_column_key(d, k, suffix);
		if (v != NULL)
			put_double(d, v[d->t.slot0[k] + j]);
		else
			put_value(d, c, i, j);
	}
	if (array)
		jsonl_put_char(&d->out, ']');
}

static int
emit_row(void *data, uint64_t i, int64_t t)
{
	struct dump *d = data;
	int k;

	begin_line(d, d->t.time >= 0, t);
	for (k = 0; k < d->t.ncol; k++)
		if (k != d->t.time)
			put_column(d, k, 0, i, NULL);
	return end_line(d);
}

/* CSV's header: ts and t_ns, then each value's name (name_j for N x k). */
static int
emit_header(struct dump *d)
{
	static const char *const plain[] = {"", NULL};
	static const char *const minmax[] = {"_min", "_max", NULL};
	const char *const *suffix = d->o->minmax ? minmax : plain;
	char name[H5_NAME_MAX + 16];
	int k, s;
	unsigned j;

	d->first_cell = d->t.time < 0;
	if (d->t.time >= 0) {
		jsonl_put_str(&d->out, "ts");
		put_sep(d);
		jsonl_put_str(&d->out, "t_ns");
	}
	for (k = 0; k < d->t.ncol; k++) {
		const struct h5_column *c = &d->t.col[k];

		for (s = 0; k != d->t.time && suffix[s] != NULL; s++) {
			for (j = 0; j < c->width; j++) {
				if (c->width > 1)
					snprintf(name, sizeof(name), "%s_%u%s",
					         c->name, j, suffix[s]);
				else
					snprintf(name, sizeof(name), "%s%s",
					         c->name, suffix[s]);
				put_key(d, name, "");
				put_text(d, name, strlen(name));
			}
		}
	}
	return end_line(d);
}

/* ---- downsampling ----------------------------------------------------- */

/* Block means (or min and max) of --downsample rows, stamped with the
 * block's first time stamp. */
static int
ds_flush(struct dump *d)
{
	struct trend_block *b = &d->ds;
	int k;

	if (b->n == 0)
		return 0;
	trend_block_end(b);
	begin_line(d, d->t.time >= 0, d->ds_t0);
	for (k = 0; k < d->t.ncol; k++) {
		if (k == d->t.time)
			continue;
		if (d->o->minmax) {
			put_column(d, k, 1, 0, b->min);
			put_column(d, k, 2, 0, b->max);
		} else {
			put_column(d, k, 0, 0, b->sum);
		}
	}
	return end_line(d);
}

static int
ds_setup(struct dump *d)
{
	if (trend_block_init(&d->ds, d->t.nslot) == 0)
		return 0;
	snprintf(d->msg, sizeof(d->msg), "%s", strerror(ENOMEM));
	return -2;
}

static int
ds_add(void *data, uint64_t i, int64_t t)
{
	struct dump *d = data;

	h5_table_values(&d->t, i, d->o->raw);
	if (d->ds.n == 0)
		d->ds_t0 = t;
	trend_block_add(&d->ds, d->t.val);
	return d->ds.n < d->o->downsample ? 0 : ds_flush(d);
}

/* ---- statistics ------------------------------------------------------- */

static int
stats_add(void *data, uint64_t i, int64_t t)
{
	struct dump *d = data;

	shepherd_stats_add(&d->st, &d->t, i, t, d->o->raw);
	return 0;
}

static int
stats_setup(struct dump *d)
{
	if (shepherd_stats_init(&d->st, &d->t) == 0)
		return 0;
	snprintf(d->msg, sizeof(d->msg), "%s", strerror(ENOMEM));
	return -2;
}

static void
stats_field(struct dump *d, const char *name, const struct trend_running *r)
{
	static const char *const what[] = {"count", "min", "max", "mean",
	                                   "std"};
	double v[5] = {(double)r->n, r->min, r->max, r->mean,
	               trend_running_std(r)};
	int i;

	if (r->n == 0)
		v[1] = v[2] = v[3] = NAN;
	if (d->o->format == FMT_JSONL) {
		put_key(d, name, "");
		jsonl_put_char(&d->out, '{');
	}
	for (i = 0; i < 5; i++) {
		char key[2 * H5_NAME_MAX];

		if (d->o->format == FMT_JSONL) {
			if (i > 0)
				jsonl_put_char(&d->out, ',');
			jsonl_append_string(&d->out, what[i], strlen(what[i]));
			jsonl_put_char(&d->out, ':');
		} else {
			snprintf(key, sizeof(key), "%s_%s", name, what[i]);
			put_key(d, key, "");
			if (d->header) {
				put_text(d, key, strlen(key));
				continue;
			}
		}
		put_double(d, v[i]);
	}
	if (d->o->format == FMT_JSONL)
		jsonl_put_char(&d->out, '}');
}

/* A record (JSONL) or a header and a line (CSV) about the whole file. */
static void
begin_summary(struct dump *d)
{
	struct timespec now = clock_wall();

	d->first_cell = true;
	if (d->o->format == FMT_JSONL) {
		/* jsonl_begin() starts the buffer afresh. */
		jsonl_flush_fd(&d->out, 1);
		jsonl_begin(&d->out, &now, PROG);
	}
}

static void
summary_number(struct dump *d, const char *key, double v)
{
	put_key(d, key, "");
	if (d->header)
		put_text(d, key, strlen(key));
	else
		put_double(d, v);
}

static int
stats_line(struct dump *d)
{
	struct shepherd_stats *st = &d->st;
	char name[H5_NAME_MAX + 16];
	unsigned j;
	int k;

	begin_summary(d);
	if (d->o->format == FMT_JSONL) {
		jsonl_put_str(&d->out, ",\"file\":");
		jsonl_append_string(&d->out, d->o->file, strlen(d->o->file));
		jsonl_put_str(&d->out, ",\"group\":");
		jsonl_append_string(&d->out, d->t.path, strlen(d->t.path));
	}
	summary_number(d, "rows", (double)st->rows);
	if (d->t.time >= 0) {
		summary_number(d, "duration_s", shepherd_stats_duration(st));
		summary_number(d, "sample_rate_hz", shepherd_stats_rate(st));
	}
	if (st->volt >= 0 && st->curr >= 0)
		summary_number(d, "energy_j", shepherd_stats_energy(st));
	for (k = 0; k < d->t.ncol; k++) {
		const struct h5_column *c = &d->t.col[k];

		for (j = 0;
		     k != d->t.time && c->type != H5_COL_STRING && j < c->width;
		     j++) {
			if (c->width > 1)
				snprintf(name, sizeof(name), "%s_%u", c->name,
				         j);
			else
				snprintf(name, sizeof(name), "%s", c->name);
			stats_field(d, name, &st->slot[d->t.slot0[k] + j]);
		}
	}
	return end_line(d);
}

static int
stats_emit(struct dump *d)
{
	if (d->o->format == FMT_CSV) {
		d->header = true;
		if (stats_line(d) < 0)
			return -1;
		d->header = false;
	}
	return stats_line(d);
}

/* ---- the loop ----------------------------------------------------------- */

/* One pass of fn over the selected rows, with progress. */
static int
run(struct dump *d, int (*fn)(void *, uint64_t, int64_t), bool only_time)
{
	struct h5_pass p = {d->o->every,   only_time, fn,
	                    progress_show, d,         &cli_stop};

	d->progress.start_ms = clock_mono_ms();
	return h5_table_run(&d->t, &p, d->msg, sizeof(d->msg));
}

static int
failed(struct dump *d, int rc)
{
	if (rc == -2) {
		warnx("%s", d->msg);
		return CLI_EXIT_FAILURE;
	}
	if (d->out.gone)
		return CLI_EXIT_OK;
	d->write_failed = true;
	return cli_write_error();
}

static int
stream(struct dump *d)
{
	const struct options *o = d->o;
	int rc;

	struct h5_selection sel = {o->index, o->has_from, o->has_to, o->from,
	                           o->to};

	if (open_group(d, o->group, o->names, true) < 0 ||
	    h5_table_select(&d->t, &sel, d->msg, sizeof(d->msg)) < 0) {
		warnx("%s", d->msg);
		return CLI_EXIT_FAILURE;
	}
	if (o->stats) {
		if ((rc = stats_setup(d)) == 0 &&
		    (rc = run(d, stats_add, false)) == 0)
			rc = stats_emit(d);
	} else {
		if (o->downsample && (rc = ds_setup(d)) < 0)
			return failed(d, rc);
		rc = o->format == FMT_CSV ? emit_header(d) : 0;
		if (rc == 0)
			rc = run(d, o->downsample ? ds_add : emit_row, false);
		if (rc == 0 && o->downsample)
			rc = ds_flush(d);
	}
	return rc < 0 ? failed(d, rc) : CLI_EXIT_OK;
}

/* ---- --check ------------------------------------------------------------ */

static int
verdict_line(struct dump *d, const char *check, bool ok, const char *key,
             const char *value)
{
	begin_summary(d);
	jsonl_put_str(&d->out, ",\"file\":");
	jsonl_append_string(&d->out, d->o->file, strlen(d->o->file));
	jsonl_put_str(&d->out, ",\"check\":");
	jsonl_append_string(&d->out, check, strlen(check));
	jsonl_put_str(&d->out, ok ? ",\"ok\":true" : ",\"ok\":false");
	if (key != NULL) {
		put_key(d, key, "");
		if (value != NULL)
			jsonl_append_string(&d->out, value, strlen(value));
		else
			jsonl_put(&d->out, "null", 4);
	}
	return end_line(d);
}

static int
jump_row(void *data, uint64_t i, int64_t t)
{
	struct dump *d = data;
	struct verdict *v = d->verdict;
	int64_t step = h5_stamp_sub(t, v->t_prev);
	uint64_t row = v->rows++;

	v->t_prev = t;
	(void)i;
	if (row == 0 || step == v->expected)
		return 0;
	v->jumps++;
	begin_summary(d);
	jsonl_put_str(&d->out, ",\"file\":");
	jsonl_append_string(&d->out, d->o->file, strlen(d->o->file));
	jsonl_put_str(&d->out,
	              ",\"check\":\"time_step\",\"ok\":false,\"index\":");
	jsonl_put_u64(&d->out, row);
	jsonl_put_str(&d->out, ",\"step_ns\":");
	jsonl_put_i64(&d->out, step);
	jsonl_put_str(&d->out, ",\"expected_ns\":");
	jsonl_put_i64(&d->out, v->expected);
	return end_line(d);
}

/* The usual step, from the first stamps. */
static int
expected_step(struct dump *d, int64_t *step)
{
	int64_t t[SHEPHERD_STEPS_MAX + 1];
	uint64_t rows = d->t.col[d->t.time].rows, i;
	uint64_t n =
	    rows > SHEPHERD_STEPS_MAX + 1 ? SHEPHERD_STEPS_MAX + 1 : rows;

	if (h5_column_read(&d->t.col[d->t.time], 0, n, d->msg, sizeof(d->msg)) <
	    0)
		return -1;
	for (i = 0; i < n; i++)
		t[i] = h5_table_time(&d->t, i);
	*step = shepherd_expected_step(t, (size_t)n);
	return 0;
}

/* Constant time steps: every jump reported with its index and size. */
static int
check_steps(struct dump *d, struct verdict *v)
{
	bool only_time;

	if (d->t.time < 0 || d->t.col[d->t.time].rows < 2)
		return 0;
	if (expected_step(d, &v->expected) < 0)
		return -2;
	d->verdict = v;
	/* Read every column too (a damaged chunk is a finding), unless
	 * their lengths differ. */
	only_time = h5_table_equal_lengths(&d->t, d->msg, sizeof(d->msg)) < 0;
	d->t.first = 0;
	d->t.last = d->t.col[d->t.time].rows;
	return run(d, jump_row, only_time);
}

/* Each finding a line; the failed ones counted. */
static int
report(struct dump *d, struct verdict *v, const struct shepherd_finding *f,
       int n)
{
	int i;

	for (i = 0; i < n; i++) {
		v->problems += !f[i].ok;
		if (verdict_line(d, f[i].check, f[i].ok, f[i].key, f[i].value) <
		    0)
			return -1;
	}
	return 0;
}

/* Calibration, lengths and chunking of time, voltage and current. */
static int
check_datasets(struct dump *d, struct verdict *v, enum shepherd_layout layout)
{
	struct shepherd_finding f[SHEPHERD_COLUMN_FINDINGS];
	char lengths[sizeof(d->msg)];
	bool equal = h5_table_equal_lengths(&d->t, d->msg, sizeof(d->msg)) == 0;

	snprintf(lengths, sizeof(lengths), "%s", d->msg);
	return report(d, v, f,
	              shepherd_check_columns(d->t.col, d->t.ncol, layout,
	                                     equal ? NULL : lengths, f));
}

static int
check(struct dump *d)
{
	struct verdict v = {0};
	struct shepherd_identity id;
	struct shepherd_finding f[2];
	char count[64];
	int rc;

	shepherd_identify(d->file, &id);
	if ((rc = report(d, &v, f, shepherd_check_mode(&id, f))) < 0)
		return failed(d, rc);
	if (open_group(d, "/data", NULL, false) < 0) {
		f[0] =
		    (struct shepherd_finding){"data", false, "message", d->msg};
		if ((rc = report(d, &v, f, 1)) < 0)
			return failed(d, rc);
	} else if ((rc = check_datasets(d, &v, id.layout)) < 0 ||
	           (rc = check_steps(d, &v)) < 0) {
		return failed(d, rc);
	}
	v.problems += v.jumps;
	snprintf(count, sizeof(count), "%u problems, %u time jumps", v.problems,
	         v.jumps);
	if ((rc = verdict_line(d, "summary", v.problems == 0, "message",
	                       count)) < 0)
		return failed(d, rc);
	return v.problems ? CLI_EXIT_INVALID : CLI_EXIT_OK;
}

/* ---- describing --------------------------------------------------------- */

/*
 * How a description is written, chosen once: a tree for people or JSONL
 * for programs.  Each object is one line: its start, its attributes,
 * its end; the shepherd summary is a line of members.
 */
struct form {
	void (*object)(struct dump *d, const struct h5_object *o);
	void (*attr)(struct dump *d, const struct h5_attr *a);
	void (*end_attrs)(struct dump *d);
	void (*summary)(struct dump *d);
	void (*member)(struct dump *d, const char *key, const char *text,
	               double num);
};

/* An attribute's value as JSON: number, string, small array or a type. */
static void
put_attr_value(struct dump *d, const struct h5_attr *a, size_t max_text)
{
	size_t n;
	int i;

	switch (a->kind) {
	case H5_ATTR_NONE:
		jsonl_put(&d->out, "null", 4);
		break;
	case H5_ATTR_TEXT:
		n = strlen(a->text);
		jsonl_append_string(&d->out, a->text,
		                    n < max_text ? n : max_text);
		break;
	case H5_ATTR_NUMBERS:
		if (a->array)
			jsonl_put_char(&d->out, '[');
		for (i = 0; i < a->n; i++) {
			if (i > 0)
				jsonl_put_char(&d->out, ',');
			put_double(d, a->num[i]);
		}
		if (a->array)
			jsonl_put_char(&d->out, ']');
		break;
	case H5_ATTR_TYPE:
		jsonl_append_string(&d->out, a->type, strlen(a->type));
		break;
	}
}

static void
put_dims(struct dump *d, const uint64_t *dims, int n, const char *between)
{
	int i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			jsonl_put_str(&d->out, between);
		jsonl_put_u64(&d->out, dims[i]);
	}
}

/* "  data/" or "    time  u8 [25000] chunks [10000] lzf(32000)" */
static void
tree_object(struct dump *d, const struct h5_object *o)
{
	int i;

	for (i = 0; i < o->depth; i++)
		jsonl_put(&d->out, "  ", 2);
	jsonl_put_str(&d->out, o->name);
	if (!o->dataset && o->depth > 0)
		jsonl_put_char(&d->out, '/');
	if (!o->dataset)
		return;
	jsonl_put(&d->out, "  ", 2);
	jsonl_put_str(&d->out, o->type);
	jsonl_put(&d->out, " [", 2);
	put_dims(d, o->dims, o->rank, " x ");
	jsonl_put_char(&d->out, ']');
	if (o->chunk_rank > 0) {
		jsonl_put_str(&d->out, " chunks [");
		put_dims(d, o->chunk, o->chunk_rank, " x ");
		jsonl_put_char(&d->out, ']');
	}
	if (o->filters[0] != '\0') {
		jsonl_put_char(&d->out, ' ');
		jsonl_put_str(&d->out, o->filters);
	}
	if (o->missing[0] != '\0') {
		jsonl_put(&d->out, " (", 2);
		jsonl_put_str(&d->out, o->missing);
		jsonl_put_char(&d->out, ')');
	}
}

static void
tree_attr(struct dump *d, const struct h5_attr *a)
{
	jsonl_put(&d->out, "  ", 2);
	jsonl_put_str(&d->out, a->name);
	jsonl_put_char(&d->out, '=');
	put_attr_value(d, a, 60);
}

static void
tree_end_attrs(struct dump *d)
{
	(void)d;
}

static void
tree_summary(struct dump *d)
{
	jsonl_put_str(&d->out, "shepherd recording:");
}

static void
tree_member(struct dump *d, const char *key, const char *text, double num)
{
	if (text != NULL && text[0] == '\0')
		return;
	jsonl_put_char(&d->out, ' ');
	jsonl_put_str(&d->out, key);
	jsonl_put_char(&d->out, '=');
	if (text != NULL)
		jsonl_append_string(&d->out, text, strlen(text));
	else
		put_double(d, num);
}

static void
jsonl_line(struct dump *d, const char *path, const char *kind)
{
	begin_summary(d);
	jsonl_put_str(&d->out, ",\"path\":");
	jsonl_append_string(&d->out, path, strlen(path));
	jsonl_put_str(&d->out, ",\"kind\":\"");
	jsonl_put_str(&d->out, kind);
	jsonl_put_char(&d->out, '"');
}

static void
jsonl_object(struct dump *d, const struct h5_object *o)
{
	jsonl_line(d, o->path, o->dataset ? "dataset" : "group");
	if (o->dataset) {
		jsonl_put_str(&d->out, ",\"type\":\"");
		jsonl_put_str(&d->out, o->type);
		jsonl_put_str(&d->out, "\",\"shape\":[");
		put_dims(d, o->dims, o->rank, ",");
		jsonl_put_char(&d->out, ']');
		if (o->chunk_rank > 0) {
			jsonl_put_str(&d->out, ",\"chunks\":[");
			put_dims(d, o->chunk, o->chunk_rank, ",");
			jsonl_put_char(&d->out, ']');
		}
		jsonl_put_str(&d->out, ",\"filters\":");
		jsonl_append_string(&d->out, o->filters, strlen(o->filters));
		if (o->missing[0] != '\0') {
			jsonl_put_str(&d->out, ",\"error\":");
			jsonl_append_string(&d->out, o->missing,
			                    strlen(o->missing));
		}
	}
	jsonl_put_str(&d->out, ",\"attrs\":{");
	d->first_cell = true;
}

static void
jsonl_attr(struct dump *d, const struct h5_attr *a)
{
	if (!d->first_cell)
		jsonl_put_char(&d->out, ',');
	d->first_cell = false;
	jsonl_append_string(&d->out, a->name, strlen(a->name));
	jsonl_put_char(&d->out, ':');
	put_attr_value(d, a, SIZE_MAX);
}

static void
jsonl_end_attrs(struct dump *d)
{
	jsonl_put_char(&d->out, '}');
}

static void
jsonl_summary(struct dump *d)
{
	jsonl_line(d, "/", "shepherd");
}

static void
jsonl_member(struct dump *d, const char *key, const char *text, double num)
{
	put_key(d, key, "");
	if (text != NULL && text[0] != '\0')
		jsonl_append_string(&d->out, text, strlen(text));
	else if (text != NULL)
		jsonl_put(&d->out, "null", 4);
	else
		put_double(d, num);
}

static const struct form tree_form = {tree_object, tree_attr, tree_end_attrs,
                                      tree_summary, tree_member};
static const struct form jsonl_form = {
    jsonl_object, jsonl_attr, jsonl_end_attrs, jsonl_summary, jsonl_member};

static void
describe_attr(const struct h5_attr *a, void *data)
{
	struct dump *d = data;

	d->form->attr(d, a);
}

static int
describe_object(const struct h5_object *o, void *data)
{
	struct dump *d = data;

	d->form->object(d, o);
	h5_attrs(o->id, describe_attr, d);
	d->form->end_attrs(d);
	return end_line(d);
}

/* Mode, datatype, samples, duration, rate and energy of /data. */
static int
describe_shepherd(struct dump *d)
{
	static char *const iv[] = {"voltage", "current", NULL};
	void (*member)(struct dump *, const char *, const char *, double) =
	    d->form->member;
	struct shepherd_identity id;
	int rc;

	shepherd_identify(d->file, &id);
	if (id.layout == SHEPHERD_NONE)
		return 0;
	if (open_group(d, "/data", iv, true) < 0)
		return -2;
	if (d->t.time < 0) {
		snprintf(d->msg, sizeof(d->msg), "/data: no time dataset");
		return -2;
	}
	if ((rc = stats_setup(d)) < 0 || (rc = run(d, stats_add, false)) < 0)
		return rc;
	d->form->summary(d);
	member(d, "layout", shepherd_layout_name(id.layout), 0);
	member(d, "mode", id.mode, 0);
	member(d, "datatype", id.datatype, 0);
	member(d, "hostname", id.hostname, 0);
	member(d, "config", id.config_in, 0);
	member(d, "window_samples", NULL, id.window_samples);
	member(d, "samples", NULL, (double)d->t.rows);
	member(d, "duration_s", NULL, shepherd_stats_duration(&d->st));
	member(d, "sample_rate_hz", NULL, shepherd_stats_rate(&d->st));
	if (d->st.volt >= 0 && d->st.curr >= 0)
		member(d, "energy_j", NULL, shepherd_stats_energy(&d->st));
	return end_line(d);
}

static int
describe(struct dump *d)
{
	int rc;

	d->form = d->o->format == FMT_TREE ? &tree_form : &jsonl_form;
	if ((rc = h5_walk(d->file, describe_object, d)) == 0)
		rc = describe_shepherd(d);
	return rc < 0 ? failed(d, rc) : CLI_EXIT_OK;
}

/* ---- options ------------------------------------------------------------ */

/* "1.5", "250ms", "10us", "2m": seconds.  Not parse_duration(),
 * whose milliseconds are too coarse for 10 us samples. */
static int
parse_seconds(const char *s, double *out)
{
	static const struct {
		const char *unit;
		double scale;
	} units[] = {{"", 1},      {"s", 1},  {"ms", 1e-3}, {"us", 1e-6},
	             {"ns", 1e-9}, {"m", 60}, {"h", 3600}};
	char *end;
	size_t i;

	errno = 0;
	*out = strtod(s, &end);
	if (errno != 0 || end == s || !isfinite(*out) || *out < 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0) {
			*out *= units[i].scale;
			return 0;
		}
	return -1;
}

static int
parse_bound(const char *opt, const char *s, bool index, double *v)
{
	long n;

	if (s == NULL)
		return CLI_CONTINUE;
	if (index ? parse_long(s, 0, LONG_MAX, &n) < 0
	          : parse_seconds(s, v) < 0)
		return cli_usage_error("%s: bad %s '%s'", opt,
		                       index ? "row index" : "time", s);
	if (index)
		*v = (double)n;
	return CLI_CONTINUE;
}

static int
parse_count(const char *opt, const char *s, uint64_t *n)
{
	long v;

	if (s == NULL)
		return CLI_CONTINUE;
	if (parse_long(s, 1, LONG_MAX, &v) < 0)
		return cli_usage_error("%s: '%s' is not a positive count", opt,
		                       s);
	*n = (uint64_t)v;
	return CLI_CONTINUE;
}

static int
parse_format(struct options *o, const char *fmt, const char *delim)
{
	if (fmt == NULL)
		o->format = o->group == NULL && !o->check && isatty(1)
		                ? FMT_TREE
		                : FMT_JSONL;
	else if (strcmp(fmt, "jsonl") == 0 || strcmp(fmt, "json") == 0)
		o->format = FMT_JSONL;
	else if (strcmp(fmt, "csv") == 0)
		o->format = FMT_CSV;
	else if (strcmp(fmt, "tree") == 0)
		o->format = FMT_TREE;
	else
		return cli_usage_error("--format: '%s' is not jsonl, csv or "
		                       "tree",
		                       fmt);
	if (delim == NULL)
		o->delim = ',';
	else if (strcmp(delim, "tab") == 0 || strcmp(delim, "\\t") == 0)
		o->delim = '\t';
	else if (strlen(delim) == 1 && strchr("\"\r\n", delim[0]) == NULL)
		o->delim = delim[0];
	else
		return cli_usage_error("--delimiter: '%s' is not one character",
		                       delim);
	return CLI_CONTINUE;
}

/* What goes with what: two lines on stderr and 2 when it does not. */
static int
check_modes(struct options *o)
{
	bool streaming = o->group != NULL && !o->stats;

	if (o->file == NULL)
		return cli_usage_error("which recording: give FILE");
	if (o->check && (o->group != NULL || o->stats))
		return cli_usage_error("--check looks at the whole file: give "
		                       "no GROUP and no --stats");
	if (o->stats && o->group == NULL)
		o->group = "/data";
	if (o->format == FMT_TREE && o->group != NULL)
		return cli_usage_error("--format tree describes a file: give "
		                       "no GROUP");
	if (o->format != FMT_JSONL && cli_tags.n > 0)
		return cli_usage_error("--tag adds fields to records: JSONL "
		                       "only");
	if (o->format == FMT_CSV && o->group == NULL)
		return cli_usage_error("--format csv needs a GROUP to stream "
		                       "(or --stats)");
	if (o->minmax && !o->downsample)
		return cli_usage_error("--minmax goes with --downsample N");
	if (o->stats && o->downsample)
		return cli_usage_error("--stats counts every row: drop "
		                       "--downsample");
	if (!streaming && !o->stats &&
	    (o->has_from || o->has_to || o->every || o->downsample ||
	     o->names[0] != NULL))
		return cli_usage_error("selections (--from, --to, --every, "
		                       "--downsample, -d) need a GROUP");
	if (o->has_from && o->has_to && o->to < o->from)
		return cli_usage_error("--to is before --from");
	return CLI_CONTINUE;
}

/* -d NAME, repeatable, with comma lists. */
static int
add_names(struct options *o, char *arg, char *store, size_t *used)
{
	char *tok, *save = NULL;
	int n = 0;

	while (o->names[n] != NULL)
		n++;
	for (tok = strtok_r(arg, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t len = strlen(tok) + 1;

		if (n >= H5_TABLE_MAX_COLS - 1 ||
		    *used + len > H5_TABLE_MAX_COLS * H5_NAME_MAX ||
		    len > H5_NAME_MAX)
			return cli_usage_error(
			    "-d: too many or too long names");
		o->names[n++] = memcpy(store + *used, tok, len);
		*used += len;
	}
	return CLI_CONTINUE;
}

/* The option strings, named; NULL when not given. */
struct args {
	char *format, *delim, *from, *to, *every, *downsample, *deadline;
	int progress;
};

/* What the strings say, into o; CLI_CONTINUE or a usage error's code. */
static int
check_args(struct options *o, const struct args *a)
{
	int rc;

	o->progress = (a->progress || isatty(2)) && !cli_common.quiet;
	o->has_from = a->from != NULL;
	o->has_to = a->to != NULL;
	o->deadline_ms = 10000;
	if (a->deadline != NULL &&
	    parse_duration(a->deadline, &o->deadline_ms) < 0)
		return cli_usage_error("--deadline: bad duration '%s'",
		                       a->deadline);
	if ((rc = parse_format(o, a->format, a->delim)) >= 0 ||
	    (rc = parse_bound("--from", a->from, o->index, &o->from)) >= 0 ||
	    (rc = parse_bound("--to", a->to, o->index, &o->to)) >= 0 ||
	    (rc = parse_count("--every", a->every, &o->every)) >= 0 ||
	    (rc = parse_count("--downsample", a->downsample, &o->downsample)) >=
	        0)
		return rc;
	return check_modes(o);
}

static int
parse(int argc, char **argv, struct options *o, struct args *a,
      struct cli_strings *strings, poptContext *con)
{
	static char store[H5_TABLE_MAX_COLS * H5_NAME_MAX];
	size_t used = 0;
	char *arg;
	int rc;
	struct poptOption table[] = {
	    {"format", 'f', POPT_ARG_STRING, &a->format, CLI_OPT_STRING,
	     "jsonl, csv or tree (describe on a terminal)", "FMT"},
	    {"delimiter", '\0', POPT_ARG_STRING, &a->delim, CLI_OPT_STRING,
	     "CSV field separator (default ','; 'tab')", "C"},
	    {"dataset", 'd', POPT_ARG_STRING, NULL, 'd',
	     "stream only these datasets of the group (repeat or list)",
	     "NAME"},
	    {"raw", '\0', POPT_ARG_NONE, &o->raw, 0,
	     "raw integers: no gain and offset", NULL},
	    {"from", '\0', POPT_ARG_STRING, &a->from, CLI_OPT_STRING,
	     "start at this time from the recording's start (or row)", "T"},
	    {"to", '\0', POPT_ARG_STRING, &a->to, CLI_OPT_STRING,
	     "stop before this time from the start (or row)", "T"},
	    {"index", '\0', POPT_ARG_NONE, &o->index, 0,
	     "--from and --to are row indexes", NULL},
	    {"every", '\0', POPT_ARG_STRING, &a->every, CLI_OPT_STRING,
	     "keep every Nth row", "N"},
	    {"downsample", '\0', POPT_ARG_STRING, &a->downsample,
	     CLI_OPT_STRING, "mean of each N rows", "N"},
	    {"minmax", '\0', POPT_ARG_NONE, &o->minmax, 0,
	     "with --downsample: min and max of each block", NULL},
	    {"stats", '\0', POPT_ARG_NONE, &o->stats, 0,
	     "count, min, max, mean, std per field and energy", NULL},
	    {"check", '\0', POPT_ARG_NONE, &o->check, 0,
	     "check the shepherd layout; exit 4 when invalid", NULL},
	    {"progress", '\0', POPT_ARG_NONE, &a->progress, 0,
	     "percent and rows/s on stderr (default on a terminal)", NULL},
	    {"deadline", '\0', POPT_ARG_STRING, &a->deadline, CLI_OPT_STRING,
	     "a corrupt file that stalls libhdf5 this long fails (10s; 0 "
	     "reads in-process)",
	     "DUR"},
	    CLI_TAG_OPTION,
	    CLI_COMMON_OPTIONS,
	    POPT_TABLEEND};

	*con = cli_context(argc, argv, table, "[OPTION...] FILE [GROUP]", 0);
	CLI_STRINGS_TRACK(strings, &a->format, &a->delim, &a->from, &a->to,
	                  &a->every, &a->downsample, &a->deadline);
	while ((rc = poptGetNextOpt(*con)) > 0) {
		cli_strings_update(strings);
		if (rc == CLI_OPT_TAG && (rc = cli_take_tag(*con)) >= 0)
			return rc;
		if (rc != 'd')
			continue;
		arg = poptGetOptArg(*con);
		rc = add_names(o, arg, store, &used);
		free(arg);
		if (rc >= 0)
			return rc;
	}
	if ((rc = cli_finish_options(*con, rc)) >= 0)
		return rc;
	o->file = poptGetArg(*con);
	o->group = poptGetArg(*con);
	if (poptPeekArg(*con) != NULL)
		return cli_usage_error("one FILE and one GROUP at most");
	return check_args(o, a);
}

static int
finish(struct dump *d, int rc)
{
	int left;

	/* A failed write ends in 1 whatever the verdict so far: a --check
	 * whose report was lost has said nothing. */
	if (jsonl_flush_fd(&d->out, 1) < 0 && !d->out.gone && !d->write_failed)
		rc = cli_write_error();
	h5_table_close(&d->t);
	shepherd_stats_free(&d->st);
	trend_block_free(&d->ds);
	/* Every handle must be closed by now: a leak here is a bug. */
	if ((left = h5_close(d->file)) != 0) {
		warnx("internal error: %d HDF5 objects left open", left);
		rc = CLI_EXIT_FAILURE;
	}
	jsonl_writer_free(&d->out);
	if (d->write_failed) /* said once already */
		fclose(stdout);
	else if (cli_close_stdout() != 0 && rc == CLI_EXIT_OK)
		rc = CLI_EXIT_FAILURE;
	return rc;
}

/*
 * libhdf5 can crash or spin on a corrupt file: the reading happens in a
 * child that this process watches (lib/guard).  True in the watcher once
 * the child ended, with the exit code in *rc; false in the child.
 */
static bool
watched_child_ended(const struct options *o, int *rc)
{
	char msg[GUARD_WHAT_MAX + 64];

	if (o->deadline_ms == 0)
		return false;
	switch (guard_start(o->deadline_ms, rc, msg, sizeof(msg))) {
	case 0:
		return false;
	case 1:
		if (msg[0] != '\0')
			warnx("%s: libhdf5 %s", o->file, msg);
		return true;
	default:
		warn("fork");
		*rc = CLI_EXIT_FAILURE;
		return true;
	}
}

int
main(int argc, char **argv)
{
	static struct options o;
	static struct dump d;
	struct args a = {NULL};
	struct cli_strings strings = {0};
	poptContext con = NULL;
	int rc;

	if ((rc = parse(argc, argv, &o, &a, &strings, &con)) >= 0)
		goto done;
	if (watched_child_ended(&o, &rc))
		goto done;
	d.o = &o;
	jsonl_stamp_init(&d.stamp, o.format == FMT_CSV
	                               ? (char[2]){o.delim, '\0'}
	                               : ",\"src\":\"" PROG "\",\"t_ns\":");
	d.progress.on = o.progress;
	if (h5_init(d.msg, sizeof(d.msg)) < 0 ||
	    h5_open(&d.file, o.file, d.msg, sizeof(d.msg)) < 0) {
		warnx("%s", d.msg);
		rc = CLI_EXIT_FAILURE;
		goto done;
	}
	cli_catch_stop_signals();
	jsonl_writer_init(&d.out, stdout);
	d.out.tags = &cli_tags;

	if (o.check)
		rc = check(&d);
	else if (o.group == NULL)
		rc = describe(&d);
	else
		rc = stream(&d);
	rc = finish(&d, rc);
done:
	cli_strings_free(&strings);
	poptFreeContext(con);
	return rc;
}
