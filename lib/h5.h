/*
 * h5: reading HDF5 files in fixed-size blocks.  Each struct owns the HDF5
 * handles and buffers it holds and releases them in its *_close();
 * functions return 0, or -1 with a one-line message in the caller's msg
 * (HDF5's error stack, which h5_init() stops printing, condensed).
 */
#ifndef GXKIT_H5_H
#define GXKIT_H5_H
#include <stdbool.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>

#include <hdf5.h>

#define H5_FILTER_LZF_ID 32000 /* h5py's LZF, registered by h5_init() */
#define H5_NAME_MAX      64
#define H5_PATH_MAX      256

/* Switch off HDF5's stack printing and register the LZF filter; 0 or -1. */
int h5_init(char *msg, size_t len);

/* HDF5's current error stack as "what: outer message (inner cause)"; the
 * stack is cleared. */
void h5_error(char *msg, size_t len, const char *what);

/*
 * Open a file read-only.  Not HDF5, truncated and unreadable files give
 * -1 with a message that says which.
 */
int h5_open(hid_t *file, const char *path, char *msg, size_t len);
/* Close the file; returns how many other HDF5 objects were still open in
 * it (0 unless a handle leaked). */
int h5_close(hid_t file);

/* Tell lib/guard's watcher which attribute of which object is read now
 * (every h5_attr_* does). */
void h5_beat_attribute(hid_t obj, const char *name);

/* Numeric attribute of any integer or float type; 0, or -1 if absent or
 * not a number. */
int h5_attr_double(hid_t obj, const char *name, double *v);
/* String attribute (variable or fixed length) into buf; 0 or -1. */
int h5_attr_string(hid_t obj, const char *name, char *buf, size_t len);
/* Attribute as a malloc'd string of any length (NULL if absent). */
char *h5_attr_string_dup(hid_t obj, const char *name);

/* "u4", "i8", "f8", "string", "bytes", "compound", ...: numpy's names. */
const char *h5_type_name(hid_t type, char buf[16]);

/*
 * The filters a dataset needs: names and ids into buf ("lzf(32000),
 * deflate(1)").  Returns 0 when all are available, or -1 with msg naming
 * the first missing one.
 */
int h5_filters(hid_t dset, char *buf, size_t buflen, char *msg, size_t len);

enum h5_col_type {
	H5_COL_UINT,
	H5_COL_INT,
	H5_COL_FLOAT,
	H5_COL_STRING /* variable or fixed length text, or vlen bytes */
};

/*
 * One dataset read as a column of rows: rank 1 gives one value per row,
 * rank 2 (N x k) gives k values per row.  h5_column_read() fills buf with
 * a block of rows; the values stay valid until the next read or close.
 */
struct h5_column {
	char name[H5_NAME_MAX];
	char path[H5_PATH_MAX];
	hid_t dset, memtype;
	enum h5_col_type type;
	size_t size;     /* bytes of one value in memory */
	unsigned width;  /* values per row */
	uint64_t rows;   /* rows in the dataset */
	uint64_t chunk;  /* rows per chunk, 0 when contiguous */
	bool vlen;       /* variable-length strings: char * values */
	bool vlen_bytes; /* hvl_t sequences of bytes */
	bool has_gain;   /* gain and offset attributes present */
	double gain, offset;
	char unit[16];
	void *buf;         /* cap_rows rows */
	uint64_t cap_rows; /* allocated rows */
	uint64_t nrows;    /* rows held (from first) */
	bool held_vlen;    /* buf holds vlen data to reclaim */
	void *spare;       /* the next block, read ahead (NULL until then) */
	uint64_t spare_rows;
	bool spare_vlen;
};

/* Open group/name (types checked, filters checked) with room for
 * cap_rows rows per read; with 0, h5_column_reserve() makes the room. */
int h5_column_open(struct h5_column *c, hid_t group, const char *group_path,
                   const char *name, uint64_t cap_rows, char *msg, size_t len);
int h5_column_reserve(struct h5_column *c, uint64_t cap_rows, char *msg,
                      size_t len);
/* Read rows [first, first + count), count <= cap_rows. */
int h5_column_read(struct h5_column *c, uint64_t first, uint64_t count,
                   char *msg, size_t len);
/* The same into the spare buffer, which h5_column_flip() makes current:
 * the caller keeps working on buf meanwhile. */
int h5_column_read_ahead(struct h5_column *c, uint64_t first, uint64_t count,
                         char *msg, size_t len);
void h5_column_flip(struct h5_column *c);
void h5_column_close(struct h5_column *c);

/*
 * Read-ahead over columns: a second thread reads the next block into the
 * spares while the caller formats the current one (HDF5's inflate and the
 * caller's work overlap on two cores).  Between h5_reader_start() and
 * h5_reader_stop() only that thread may call HDF5 for these columns; the
 * caller owns the columns throughout.  Without a thread (creation failed)
 * requests are read at once: the same results, one core.
 */
enum h5_reader_state {
	H5_READER_IDLE,
	H5_READER_BUSY, /* a block is being read */
	H5_READER_DONE, /* it is in the spares */
	H5_READER_QUIT
};
struct h5_reader {
	struct h5_column **col;
	int ncol;
	bool threaded;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum h5_reader_state state;
	uint64_t first, count;
	int rc;
	char msg[512];
};
void h5_reader_start(struct h5_reader *r, struct h5_column **col, int ncol);
/* Post rows [first, first + count) to be read into the spares. */
void h5_reader_request(struct h5_reader *r, uint64_t first, uint64_t count);
/* Wait for the posted block and make it current; 0 (also when nothing was
 * posted), or -1 with its read error in msg. */
int h5_reader_wait(struct h5_reader *r, char *msg, size_t len);
/* Let a read under way end, then end the thread. */
void h5_reader_stop(struct h5_reader *r);

/* Value j of row i of the block, as the type says. */
uint64_t h5_col_uint(const struct h5_column *c, uint64_t i, unsigned j);
int64_t h5_col_int(const struct h5_column *c, uint64_t i, unsigned j);
double h5_col_double(const struct h5_column *c, uint64_t i, unsigned j);
/* Text of row i (not NUL-terminated: *n bytes); "" for a null string. */
const char *h5_col_text(const struct h5_column *c, uint64_t i, size_t *n);

/* ---- groups and describing (lib/h5_walk.c) ------------------------- */

/* Does loc have a link, obj an attribute, of that name (errors: no)? */
bool h5_has_link(hid_t loc, const char *name);
bool h5_has_attr(hid_t obj, const char *name);
/* The caller closes the group with h5_group_close(); 0 or -1. */
int h5_group_open(hid_t file, const char *path, hid_t *group, char *msg,
                  size_t len);
void h5_group_close(hid_t group);
/* A path to stream from: a group (only ""), or a dataset, which gives
 * its group and its name in only.  0, or -1 when there is none. */
int h5_resolve(hid_t file, const char *path, char group[H5_PATH_MAX],
               char only[H5_NAME_MAX], char *msg, size_t len);
/* The names of a group's datasets in name order, at most max; returns
 * how many. */
int h5_list_datasets(hid_t group, char (*names)[H5_NAME_MAX], int max);
/* 0 when every column is as long as the first, else -1 with a message
 * naming two that differ. */
int h5_columns_equal(const struct h5_column *col, int n, const char *group,
                     char *msg, size_t len);

/* What describing shows of a group or dataset, read once. */
struct h5_object {
	const char *path, *name; /* "/" both for the root */
	int depth;               /* 0 for the root */
	bool dataset;            /* else a group */
	hid_t id;                /* open while the callback runs */
	/* datasets only: */
	char type[16];        /* h5_type_name() */
	int rank, chunk_rank; /* chunk_rank 0: contiguous */
	uint64_t dims[H5S_MAX_RANK], chunk[H5S_MAX_RANK];
	char filters[256], missing[256]; /* h5_filters() */
};
typedef int h5_object_fn(const struct h5_object *o, void *data);
/* The root, then every group and dataset below it, depth first in name
 * order (objects that cannot be opened are left out).  Stops when fn
 * returns nonzero and returns that; else 0. */
int h5_walk(hid_t file, h5_object_fn *fn, void *data);

#define H5_ATTR_NUMBERS_MAX 16
struct h5_attr {
	const char *name;
	enum {
		H5_ATTR_NONE,    /* could not be opened */
		H5_ATTR_TEXT,    /* a string: text */
		H5_ATTR_NUMBERS, /* up to 16 numbers: num[n], array */
		H5_ATTR_TYPE     /* anything else: only its type */
	} kind;
	char *text; /* h5_attrs() frees it after fn */
	double num[H5_ATTR_NUMBERS_MAX];
	int n;
	bool array; /* written as [..]: a simple dataspace */
	char type[16];
};
typedef void h5_attr_fn(const struct h5_attr *a, void *data);
/* Each attribute of obj in name order. */
void h5_attrs(hid_t obj, h5_attr_fn *fn, void *data);

/*
 * Stamps of a corrupt file can be anything: their arithmetic saturates at
 * INT64_MIN and INT64_MAX instead of overflowing (undefined in C), and a
 * double becomes a stamp by clamping (NaN is 0).
 */
static inline int64_t
h5_stamp_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static inline int64_t
h5_stamp_sub(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static inline int64_t
h5_stamp_of_double(double v)
{
	if (!(v == v))
		return 0;
	if (v >= 9223372036854775807.0)
		return INT64_MAX;
	if (v <= -9223372036854775807.0)
		return INT64_MIN;
	return (int64_t)v;
}

/* Exact nanoseconds from a raw time stamp given its unit and gain. */
struct h5_time_scale {
	int64_t ns_per_unit; /* 0: not a whole number of ns, use the double */
	double scale;        /* ns per unit as a double */
	int64_t offset_ns;
};
void h5_time_scale(const struct h5_column *c, struct h5_time_scale *t);
int64_t h5_time_ns(const struct h5_time_scale *t, int64_t raw);

#endif
