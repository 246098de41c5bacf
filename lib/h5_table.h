/*
 * h5_table: a group's datasets read as one table, rows aligned by index,
 * calibrated on request, selected by time or row and read block by block
 * with read-ahead.  The struct owns its columns and its row of values and
 * releases them in h5_table_close() (also after a failed open); functions
 * return 0, or -1 with a one-line message in the caller's msg.
 */
#ifndef GXKIT_H5_TABLE_H
#define GXKIT_H5_TABLE_H
#include <signal.h>

#include "h5.h"

#define H5_TABLE_MAX_COLS 64

struct h5_table {
	char path[H5_PATH_MAX]; /* the group */
	char only[H5_NAME_MAX]; /* opened as group/dataset: that one */
	struct h5_column col[H5_TABLE_MAX_COLS]; /* time first, by rank */
	int (*rank)(const char *name);           /* of h5_table_open() */
	int ncol, time; /* time: index of the time column, or -1 */
	struct h5_time_scale tscale;
	uint64_t rows;        /* of each column (of the first, unequal) */
	uint64_t first, last; /* the rows selected: [first, last) */
	uint64_t block;       /* rows per read: whole chunks, ~64k */
	unsigned nslot;       /* numeric values per row, time excluded */
	unsigned slot0[H5_TABLE_MAX_COLS]; /* each column's first slot */
	double *val;                       /* h5_table_values(): nslot */
};

/*
 * Open path (a group, or a dataset: its group with just that one) with
 * the datasets named in want (NULL-terminated; NULL or empty: all), time
 * first when the group has one.  equal_lengths: refuse columns of
 * different lengths.  Columns come by rank(name), lowest first, then by
 * name (rank NULL: by name; a layout's own order, as shepherd_field_rank
 * gives).  Selects every row.
 */
int h5_table_open(struct h5_table *t, hid_t file, const char *path,
                  char *const *want, bool equal_lengths,
                  int (*rank)(const char *name), char *msg, size_t len);
/* 0 when the columns are as long as each other (t->rows is theirs). */
int h5_table_equal_lengths(struct h5_table *t, char *msg, size_t len);
void h5_table_close(struct h5_table *t);

/* The column of a calibrated dataset of one value per row, or -1. */
int h5_table_column(const struct h5_table *t, const char *name);

/* Value raw of column c in SI (gain and offset), unless raw. */
static inline double
h5_calibrate(const struct h5_column *c, double v, bool raw)
{
	return !raw && c->has_gain ? v * c->gain + c->offset : v;
}

/* Time of row i of the block read last, in ns (0 without time). */
int64_t h5_table_time(const struct h5_table *t, uint64_t i);
/* Row i of the block into t->val by slot: numbers (SI unless raw), NaN
 * for text. */
void h5_table_values(struct h5_table *t, uint64_t i, bool raw);

/* --from and --to: rows, or seconds from the first stamp (stamps
 * ascend, found by bisection). */
struct h5_selection {
	bool index, has_from, has_to;
	double from, to;
};
int h5_table_select(struct h5_table *t, const struct h5_selection *s, char *msg,
                    size_t len);

/*
 * One pass over the selected rows: every every'th row (0: each) to row(),
 * with its index in the block read and its time; progress() after each
 * block and once more (last) at the end.  only_time reads just the time
 * column.  Ends early when *stop is set.  Returns 0, row()'s negative
 * return, or -2 with a read error in msg.
 */
struct h5_pass {
	uint64_t every;
	bool only_time;
	int (*row)(void *data, uint64_t i, int64_t t);
	void (*progress)(void *data, uint64_t done, uint64_t total, bool last);
	void *data;
	const volatile sig_atomic_t *stop;
};
int h5_table_run(struct h5_table *t, const struct h5_pass *p, char *msg,
                 size_t len);

#endif
