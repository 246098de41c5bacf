#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5_table.h"

static int
by_rank(const void *a, const void *b, void *table)
{
	int (*rank)(const char *) = ((const struct h5_table *)table)->rank;
	int ra = rank ? rank(a) : 0, rb = rank ? rank(b) : 0;

	return ra != rb ? ra - rb : strcmp(a, b);
}

/* The datasets to read: time when there is one, then want's or all. */
static int
pick_names(struct h5_table *t, hid_t group, char *const *want,
           char (*name)[H5_NAME_MAX], char *msg, size_t len)
{
	char *one[2] = {t->only, NULL};
	int i, n;

	if (t->only[0] != '\0')
		want = one;
	n = h5_list_datasets(group, name, H5_TABLE_MAX_COLS);
	if (want != NULL && want[0] != NULL) {
		n = 0;
		if (h5_has_link(group, "time"))
			snprintf(name[n++], H5_NAME_MAX, "time");
		for (i = 0; want[i] != NULL && n < H5_TABLE_MAX_COLS; i++)
			if (strcmp(want[i], "time") != 0)
				snprintf(name[n++], H5_NAME_MAX, "%s", want[i]);
	}
	if (n == 0) {
		snprintf(msg, len, "%s: no datasets", t->path);
		return -1;
	}
	qsort_r(name, (size_t)n, H5_NAME_MAX, by_rank, t);
	return n;
}

/* Rows per read: whole chunks of the first column, about 64k rows. */
static uint64_t
block_rows(const struct h5_column *first)
{
	uint64_t rows = first->width > 1 ? 65536 / first->width + 1 : 65536;

	if (first->chunk == 0)
		return rows;
	return first->chunk >= rows ? first->chunk
	                            : (rows / first->chunk) * first->chunk;
}

static int
open_column(struct h5_table *t, hid_t group, const char *name, char *msg,
            size_t len)
{
	struct h5_column *c = &t->col[t->ncol++];

	if (h5_column_open(c, group, t->path, name, 0, msg, len) < 0)
		return -1;
	if (t->ncol == 1)
		t->block = block_rows(c);
	if (h5_column_reserve(c, t->block, msg, len) < 0)
		return -1;
	if (strcmp(c->name, "time") != 0)
		return 0;
	if (c->type != H5_COL_UINT && c->type != H5_COL_INT) {
		snprintf(msg, len, "%s: time stamps must be integers", c->path);
		return -1;
	}
	t->time = t->ncol - 1;
	h5_time_scale(c, &t->tscale);
	return 0;
}

static int
open_columns(struct h5_table *t, hid_t group, char *const *want, char *msg,
             size_t len)
{
	char name[H5_TABLE_MAX_COLS][H5_NAME_MAX];
	int i, n = pick_names(t, group, want, name, msg, len);

	if (n < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (open_column(t, group, name[i], msg, len) < 0)
			return -1;
	for (i = 0; i < t->ncol; i++) {
		t->slot0[i] = t->nslot;
		if (i != t->time)
			t->nslot += t->col[i].width;
	}
	if ((t->val = calloc(t->nslot + 1, sizeof(double))) == NULL) {
		snprintf(msg, len, "out of memory");
		return -1;
	}
	t->rows = t->col[0].rows;
	t->first = 0;
	t->last = t->rows;
	return 0;
}

int
h5_table_open(struct h5_table *t, hid_t file, const char *path,
              char *const *want, bool equal_lengths, int (*rank)(const char *),
              char *msg, size_t len)
{
	hid_t group;
	int rc;

	t->rank = rank;
	t->ncol = 0;
	t->nslot = 0;
	t->time = -1;
	t->val = NULL;
	if (h5_resolve(file, path, t->path, t->only, msg, len) < 0 ||
	    h5_group_open(file, t->path, &group, msg, len) < 0)
		return -1;
	rc = open_columns(t, group, want, msg, len);
	h5_group_close(group);
	if (rc == 0 && equal_lengths)
		rc = h5_table_equal_lengths(t, msg, len);
	return rc;
}

int
h5_table_equal_lengths(struct h5_table *t, char *msg, size_t len)
{
	t->rows = t->col[0].rows;
	return h5_columns_equal(t->col, t->ncol, t->path, msg, len);
}

void
h5_table_close(struct h5_table *t)
{
	int i;

	for (i = 0; i < t->ncol; i++)
		h5_column_close(&t->col[i]);
	t->ncol = 0;
	t->nslot = 0;
	free(t->val);
	t->val = NULL;
}

int
h5_table_column(const struct h5_table *t, const char *name)
{
	int k;

	for (k = 0; k < t->ncol; k++)
		if (k != t->time && strcmp(t->col[k].name, name) == 0 &&
		    t->col[k].width == 1 && t->col[k].has_gain)
			return k;
	return -1;
}

int64_t
h5_table_time(const struct h5_table *t, uint64_t i)
{
	const struct h5_column *c;

	if (t->time < 0)
		return 0;
	c = &t->col[t->time];
	return h5_time_ns(&t->tscale, c->type == H5_COL_UINT
	                                  ? (int64_t)h5_col_uint(c, i, 0)
	                                  : h5_col_int(c, i, 0));
}

void
h5_table_values(struct h5_table *t, uint64_t i, bool raw)
{
	unsigned j;
	int k;

	for (k = 0; k < t->ncol; k++) {
		const struct h5_column *c = &t->col[k];
		double *v = t->val + t->slot0[k];

		if (k == t->time)
			continue;
		for (j = 0; j < c->width; j++)
			v[j] =
			    c->type == H5_COL_STRING
			        ? NAN
			        : h5_calibrate(c, h5_col_double(c, i, j), raw);
	}
}

static int
time_at(struct h5_table *t, uint64_t row, int64_t *ns, char *msg, size_t len)
{
	if (h5_column_read(&t->col[t->time], row, 1, msg, len) < 0)
		return -1;
	*ns = h5_table_time(t, 0);
	return 0;
}

/* The first row stamped at or after t0 + offset (stamps ascend). */
static int
row_at_seconds(struct h5_table *t, int64_t t0, double offset, uint64_t *row,
               char *msg, size_t len)
{
	int64_t want =
	    h5_stamp_add(t0, h5_stamp_of_double(round(offset * 1e9)));
	int64_t ns;
	uint64_t lo = 0, hi = t->rows;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (time_at(t, mid, &ns, msg, len) < 0)
			return -1;
		if (ns < want)
			lo = mid + 1;
		else
			hi = mid;
	}
	*row = lo;
	return 0;
}

int
h5_table_select(struct h5_table *t, const struct h5_selection *s, char *msg,
                size_t len)
{
	int64_t t0;

	t->first = 0;
	t->last = t->rows;
	if (!s->has_from && !s->has_to)
		return 0;
	if (s->index) {
		if (s->has_from)
			t->first = s->from < (double)t->rows ? (uint64_t)s->from
			                                     : t->rows;
		if (s->has_to && s->to < (double)t->rows)
			t->last = (uint64_t)s->to;
	} else {
		if (t->time < 0) {
			snprintf(msg, len,
			         "%s: no time dataset to select by seconds; "
			         "use --index",
			         t->path);
			return -1;
		}
		if (t->rows == 0)
			return 0;
		if (time_at(t, 0, &t0, msg, len) < 0 ||
		    (s->has_from &&
		     row_at_seconds(t, t0, s->from, &t->first, msg, len) < 0) ||
		    (s->has_to &&
		     row_at_seconds(t, t0, s->to, &t->last, msg, len) < 0))
			return -1;
	}
	if (t->last < t->first)
		t->last = t->first;
	return 0;
}

/* Where the block that starts at pos ends: a chunk boundary, or last. */
static uint64_t
block_end(const struct h5_table *t, uint64_t pos)
{
	uint64_t end = (pos / t->block + 1) * t->block;

	return end < t->last ? end : t->last;
}

/* Hand every every'th row of the block [pos, end) to row(). */
static int
hand_rows(const struct h5_table *t, const struct h5_pass *p, uint64_t pos,
          uint64_t end)
{
	uint64_t every = p->every ? p->every : 1;
	uint64_t i = (pos - t->first) % every;
	int rc;

	for (i = i ? pos + every - i : pos; i < end; i += every)
		if ((rc = p->row(p->data, i - pos, h5_table_time(t, i - pos))) <
		    0)
			return rc;
	return 0;
}

/* Blocks end on chunk boundaries; the next block is read on a second
 * thread while row() works through this one. */
int
h5_table_run(struct h5_table *t, const struct h5_pass *p, char *msg, size_t len)
{
	struct h5_column *cols[H5_TABLE_MAX_COLS];
	struct h5_reader reader;
	uint64_t pos = t->first, end;
	int k, n = 0, rc = 0;

	for (k = 0; k < t->ncol; k++)
		if (!p->only_time || k == t->time)
			cols[n++] = &t->col[k];
	h5_reader_start(&reader, cols, n);
	if (pos < t->last)
		h5_reader_request(&reader, pos, block_end(t, pos) - pos);
	while (pos < t->last && !(p->stop != NULL && *p->stop)) {
		end = block_end(t, pos);
		if (h5_reader_wait(&reader, msg, len) < 0) {
			rc = -2;
			break;
		}
		if (end < t->last)
			h5_reader_request(&reader, end,
			                  block_end(t, end) - end);
		if ((rc = hand_rows(t, p, pos, end)) < 0)
			break;
		if (p->progress != NULL)
			p->progress(p->data, end - pos, t->last - t->first,
			            false);
		pos = end;
	}
	h5_reader_stop(&reader);
	if (rc == 0 && p->progress != NULL)
		p->progress(p->data, 0, t->last - t->first, true);
	return rc;
}
