#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lzf.h>

#include "guard.h"
#include "h5.h"

#define H5_MDC_BYTES (32 * 1024)

/* ---- errors ---------------------------------------------------------- */

struct stack_walk {
	char outer[160], inner[160];
	int n;
};

static herr_t
walk_error(unsigned n, const H5E_error2_t *e, void *data)
{
	struct stack_walk *w = data;

	(void)n;
	if (e->desc == NULL || e->desc[0] == '\0')
		return 0;
	if (w->n++ == 0)
		snprintf(w->outer, sizeof(w->outer), "%s", e->desc);
	snprintf(w->inner, sizeof(w->inner), "%s", e->desc);
	return 0;
}

void
h5_error(char *msg, size_t len, const char *what)
{
	struct stack_walk w = {.n = 0};

	H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk_error, &w);
	H5Eclear2(H5E_DEFAULT);
	if (w.n == 0)
		snprintf(msg, len, "%s: HDF5 error", what);
	else if (w.n == 1 || strcmp(w.outer, w.inner) == 0)
		snprintf(msg, len, "%s: %s", what, w.inner);
	else
		snprintf(msg, len, "%s: %s (%s)", what, w.outer, w.inner);
}

/* ---- LZF, as h5py writes it ------------------------------------------ */

/* cd_values: [0] filter version, [1] LZF API version, [2] chunk bytes. */
static herr_t
lzf_set_local(hid_t dcpl, hid_t type, hid_t space)
{
	unsigned flags, cd[3] = {4, LZF_VERSION, 0};
	size_t ncd = 3;
	hsize_t dims[32];
	int rank, i;
	size_t bytes = H5Tget_size(type);

	(void)space;
	if (H5Pget_filter_by_id2(dcpl, H5_FILTER_LZF_ID, &flags, &ncd, cd, 0,
	                         NULL, NULL) < 0)
		return -1;
	rank = H5Pget_chunk(dcpl, 32, dims);
	if (rank < 0 || bytes == 0)
		return -1;
	for (i = 0; i < rank; i++)
		bytes *= dims[i];
	cd[0] = 4;
	cd[1] = LZF_VERSION;
	cd[2] = (unsigned)bytes;
	return H5Pmodify_filter(dcpl, H5_FILTER_LZF_ID, flags, 3, cd);
}

static size_t
lzf_decode(size_t ncd, const unsigned cd[], size_t nbytes, size_t *buf_size,
           void **buf)
{
	size_t out_size = ncd >= 3 && cd[2] != 0 ? cd[2] : 3 * *buf_size;
	unsigned n;
	void *out;

	/* Chunk size unknown (old writers): grow until it fits. */
	for (;;) {
		if ((out = malloc(out_size)) == NULL)
			return 0;
		n = lzf_decompress(*buf, (unsigned)nbytes, out,
		                   (unsigned)out_size);
		if (n != 0)
			break;
		free(out);
		if (errno != E2BIG || out_size > (1u << 30))
			return 0;
		out_size *= 2;
	}
	free(*buf);
	*buf = out;
	*buf_size = out_size;
	return n;
}

static size_t
lzf_filter(unsigned flags, size_t ncd, const unsigned cd[], size_t nbytes,
           size_t *buf_size, void **buf)
{
	unsigned n;
	void *out;

	if (flags & H5Z_FLAG_REVERSE)
		return lzf_decode(ncd, cd, nbytes, buf_size, buf);
	/* No room to gain anything: the filter is optional, HDF5 then
	 * stores the chunk as it is. */
	if (nbytes < 2 || (out = malloc(nbytes)) == NULL)
		return 0;
	n = lzf_compress(*buf, (unsigned)nbytes, out, (unsigned)nbytes - 1);
	if (n == 0) {
		free(out);
		return 0;
	}
	free(*buf);
	*buf = out;
	*buf_size = nbytes;
	return n;
}

static const H5Z_class2_t lzf_class = {
    H5Z_CLASS_T_VERS, H5_FILTER_LZF_ID, 1, 1, "lzf", NULL,
    lzf_set_local,    lzf_filter};

int
h5_init(char *msg, size_t len)
{
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	if (H5Zregister(&lzf_class) < 0) {
		h5_error(msg, len, "registering the LZF filter");
		return -1;
	}
	return 0;
}

/* ---- files and attributes ------------------------------------------- */

/*
 * File access with a fixed, small metadata cache.  By default it keeps
 * every chunk-index B-tree node it loaded until its 2 MiB (adaptive up to
 * 32 MiB) fill; it counts a node by its file image, but the node holds
 * some 20 times that in memory, so RSS grew with the file: 2 MB per 20M
 * rows.  Reading front to back needs only the current path through the
 * tree.  32 KiB: 1x and 8x files then differ by a few KB, at no cost in
 * speed.
 */
static hid_t
bounded_fapl(void)
{
	H5AC_cache_config_t mdc = {.version = H5AC__CURR_CACHE_CONFIG_VERSION};
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);

	if (fapl < 0 || H5Pget_mdc_config(fapl, &mdc) < 0) {
		H5Eclear2(H5E_DEFAULT);
		return fapl;
	}
	mdc.set_initial_size = true;
	mdc.initial_size = mdc.min_size = mdc.max_size = H5_MDC_BYTES;
	mdc.min_clean_fraction = 0.5;
	mdc.incr_mode = H5C_incr__off;
	mdc.flash_incr_mode = H5C_flash_incr__off;
	mdc.decr_mode = H5C_decr__off;
	if (H5Pset_mdc_config(fapl, &mdc) < 0)
		H5Eclear2(H5E_DEFAULT);
	return fapl;
}

int
h5_open(hid_t *file, const char *path, char *msg, size_t len)
{
	FILE *fp = fopen(path, "rb");
	htri_t is;
	hid_t fapl;

	/* A plain open first, for errno's message rather than HDF5's. */
	if (fp == NULL) {
		snprintf(msg, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	fclose(fp);
	guard_beat("the superblock");
	is = H5Fis_hdf5(path);
	if (is == 0) {
		H5Eclear2(H5E_DEFAULT);
		snprintf(msg, len, "%s: not an HDF5 file", path);
		return -1;
	}
	fapl = bounded_fapl();
	*file = is < 0 || fapl < 0 ? H5I_INVALID_HID
	                           : H5Fopen(path, H5F_ACC_RDONLY, fapl);
	/* The error first: every later call clears the stack. */
	if (*file < 0)
		h5_error(msg, len, path);
	if (fapl >= 0)
		H5Pclose(fapl);
	return *file < 0 ? -1 : 0;
}

int
h5_close(hid_t file)
{
	ssize_t open = H5Fget_obj_count(file, H5F_OBJ_ALL | H5F_OBJ_LOCAL);

	H5Fclose(file);
	return open > 1 ? (int)(open - 1) : 0;
}

void
h5_beat_attribute(hid_t obj, const char *name)
{
	char path[H5_PATH_MAX];

	if (H5Iget_name(obj, path, sizeof(path)) <= 0)
		snprintf(path, sizeof(path), "?");
	guard_beat("attribute '%s' of %s", name, path);
}

int
h5_attr_double(hid_t obj, const char *name, double *v)
{
	hid_t a, type, space;
	H5T_class_t cls;
	int rc = -1;

	h5_beat_attribute(obj, name);
	if (H5Aexists(obj, name) <= 0)
		return -1;
	if ((a = H5Aopen(obj, name, H5P_DEFAULT)) < 0)
		return -1;
	type = H5Aget_type(a);
	space = H5Aget_space(a);
	cls = H5Tget_class(type);
	if ((cls == H5T_INTEGER || cls == H5T_FLOAT) &&
	    H5Sget_simple_extent_npoints(space) == 1)
		rc = H5Aread(a, H5T_NATIVE_DOUBLE, v) < 0 ? -1 : 0;
	H5Sclose(space);
	H5Tclose(type);
	H5Aclose(a);
	H5Eclear2(H5E_DEFAULT);
	return rc;
}

char *
h5_attr_string_dup(hid_t obj, const char *name)
{
	hid_t a, type, mem = H5I_INVALID_HID;
	char *s = NULL, *vs = NULL;
	size_t n;

	h5_beat_attribute(obj, name);
	if (H5Aexists(obj, name) <= 0 ||
	    (a = H5Aopen(obj, name, H5P_DEFAULT)) < 0)
		return NULL;
	type = H5Aget_type(a);
	if (H5Tget_class(type) != H5T_STRING)
		goto out;
	mem = H5Tcopy(H5T_C_S1);
	H5Tset_cset(mem, H5Tget_cset(type)); /* HDF5 converts no csets */
	if (H5Tis_variable_str(type) > 0) {
		H5Tset_size(mem, H5T_VARIABLE);
		if (H5Aread(a, mem, &vs) >= 0 && vs != NULL) {
			s = strdup(vs);
			H5free_memory(vs);
		}
	} else {
		n = H5Tget_size(type);
		H5Tset_size(mem, n + 1);
		if ((s = calloc(1, n + 1)) != NULL && H5Aread(a, mem, s) < 0) {
			free(s);
			s = NULL;
		}
	}
out:
	if (mem >= 0)
		H5Tclose(mem);
	H5Tclose(type);
	H5Aclose(a);
	H5Eclear2(H5E_DEFAULT);
	return s;
}

int
h5_attr_string(hid_t obj, const char *name, char *buf, size_t len)
{
	char *s = h5_attr_string_dup(obj, name);

	if (s == NULL)
		return -1;
	snprintf(buf, len, "%s", s);
	free(s);
	return 0;
}

const char *
h5_type_name(hid_t type, char buf[16])
{
	size_t size = H5Tget_size(type);
	hid_t super;

	switch (H5Tget_class(type)) {
	case H5T_INTEGER:
		snprintf(buf, 16, "%c%zu",
		         H5Tget_sign(type) == H5T_SGN_NONE ? 'u' : 'i', size);
		return buf;
	case H5T_FLOAT:
		snprintf(buf, 16, "f%zu", size);
		return buf;
	case H5T_STRING:
		if (H5Tis_variable_str(type) > 0)
			return H5Tget_cset(type) == H5T_CSET_UTF8 ? "string"
			                                          : "bytes";
		snprintf(buf, 16, "S%zu", size);
		return buf;
	case H5T_ENUM:
		return "enum";
	case H5T_VLEN:
		super = H5Tget_super(type);
		snprintf(buf, 16, "%s",
		         H5Tget_class(super) == H5T_INTEGER &&
		                 H5Tget_size(super) == 1
		             ? "bytes"
		             : "vlen");
		H5Tclose(super);
		return buf;
	case H5T_COMPOUND:
		return "compound";
	case H5T_ARRAY:
		return "array";
	case H5T_OPAQUE:
		return "opaque";
	case H5T_REFERENCE:
		return "reference";
	case H5T_BITFIELD:
		return "bitfield";
	default:
		return "unknown";
	}
}

int
h5_filters(hid_t dset, char *buf, size_t buflen, char *msg, size_t len)
{
	hid_t dcpl = H5Dget_create_plist(dset);
	int n = dcpl < 0 ? 0 : H5Pget_nfilters(dcpl), i, rc = 0;
	size_t used = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		unsigned flags, cd[8], config;
		size_t ncd = 8;
		char name[64] = "";
		H5Z_filter_t id =
		    H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd,
		                   sizeof(name), name, &config);

		if (id == H5Z_FILTER_DEFLATE)
			snprintf(name, sizeof(name), "gzip");
		else if (id == H5_FILTER_LZF_ID)
			snprintf(name, sizeof(name), "lzf");
		else if (name[0] == '\0')
			snprintf(name, sizeof(name), "unnamed");
		if (used < buflen)
			used += (size_t)snprintf(buf + used, buflen - used,
			                         "%s%s(%d)", i ? ", " : "",
			                         name, (int)id);
		if (rc == 0 && H5Zfilter_avail(id) <= 0) {
			snprintf(msg, len,
			         "needs HDF5 filter '%s' (id %d), which is "
			         "not available",
			         name, (int)id);
			rc = -1;
		}
	}
	if (dcpl >= 0)
		H5Pclose(dcpl);
	H5Eclear2(H5E_DEFAULT);
	return rc;
}

/* ---- columns ---------------------------------------------------------- */

/* The memory type to read a dataset's file type into, and its class. */
static int
column_memtype(struct h5_column *c, hid_t ftype, char *msg, size_t len)
{
	H5T_class_t cls = H5Tget_class(ftype);
	hid_t base = H5I_INVALID_HID;
	char tname[16];

	if (cls == H5T_ENUM) { /* h5py's bool: read as its integer */
		base = H5Tget_super(ftype);
		ftype = base;
		cls = H5T_INTEGER;
	}
	if (cls == H5T_INTEGER) {
		c->memtype = H5Tget_native_type(ftype, H5T_DIR_ASCEND);
		c->type = H5Tget_sign(ftype) == H5T_SGN_NONE ? H5_COL_UINT
		                                             : H5_COL_INT;
	} else if (cls == H5T_FLOAT) {
		c->memtype = H5Tcopy(H5T_NATIVE_DOUBLE);
		c->type = H5_COL_FLOAT;
	} else if (cls == H5T_STRING) {
		c->memtype = H5Tcopy(H5T_C_S1);
		c->vlen = H5Tis_variable_str(ftype) > 0;
		H5Tset_size(c->memtype,
		            c->vlen ? H5T_VARIABLE : H5Tget_size(ftype));
		H5Tset_cset(c->memtype, H5Tget_cset(ftype));
		c->type = H5_COL_STRING;
	} else if (cls == H5T_VLEN &&
	           strcmp(h5_type_name(ftype, tname), "bytes") == 0) {
		c->memtype = H5Tvlen_create(H5T_NATIVE_UCHAR);
		c->vlen_bytes = true;
		c->type = H5_COL_STRING;
	} else {
		snprintf(msg, len, "%s: type %s is not supported", c->path,
		         h5_type_name(ftype, tname));
		c->memtype = H5I_INVALID_HID;
	}
	if (base >= 0)
		H5Tclose(base);
	if (c->memtype < 0)
		return -1;
	c->size = H5Tget_size(c->memtype);
	return 0;
}

/* Shape: rows, values per row, rows per chunk. */
static int
column_shape(struct h5_column *c, char *msg, size_t len)
{
	hid_t space = H5Dget_space(c->dset), dcpl;
	hsize_t dims[H5S_MAX_RANK], chunk[H5S_MAX_RANK];
	int rank = H5Sget_simple_extent_dims(space, dims, NULL), i;

	H5Sclose(space);
	if (rank < 0) {
		h5_error(msg, len, c->path);
		return -1;
	}
	c->rows = rank == 0 ? 1 : dims[0];
	c->width = 1;
	for (i = 1; i < rank; i++)
		c->width *= (unsigned)dims[i];
	if (c->width == 0 || c->width > 4096) {
		snprintf(msg, len, "%s: %u values per row is not supported",
		         c->path, c->width);
		return -1;
	}
	dcpl = H5Dget_create_plist(c->dset);
	c->chunk = 0;
	if (H5Pget_layout(dcpl) == H5D_CHUNKED &&
	    H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk) > 0)
		c->chunk = chunk[0];
	H5Pclose(dcpl);
	return 0;
}

int
h5_column_open(struct h5_column *c, hid_t group, const char *group_path,
               const char *name, uint64_t cap_rows, char *msg, size_t len)
{
	hid_t ftype;
	char filters[256];
	int rc;

	memset(c, 0, sizeof(*c));
	c->dset = c->memtype = H5I_INVALID_HID;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->path, sizeof(c->path), "%s/%s",
	         strcmp(group_path, "/") == 0 ? "" : group_path, name);
	guard_beat("dataset %s", c->path);
	if (H5Lexists(group, name, H5P_DEFAULT) <= 0 ||
	    (c->dset = H5Dopen2(group, name, H5P_DEFAULT)) < 0) {
		H5Eclear2(H5E_DEFAULT);
		snprintf(msg, len, "%s: no such dataset", c->path);
		return -1;
	}
	if (h5_filters(c->dset, filters, sizeof(filters), msg, len) < 0) {
		char why[200];

		snprintf(why, sizeof(why), "%s", msg);
		snprintf(msg, len, "%s: %s", c->path, why);
		return -1;
	}
	ftype = H5Dget_type(c->dset);
	rc = column_memtype(c, ftype, msg, len);
	H5Tclose(ftype);
	if (rc < 0 || column_shape(c, msg, len) < 0)
		return -1;
	c->has_gain = h5_attr_double(c->dset, "gain", &c->gain) == 0;
	if (c->has_gain && h5_attr_double(c->dset, "offset", &c->offset) < 0)
		c->offset = 0;
	if (h5_attr_string(c->dset, "unit", c->unit, sizeof(c->unit)) < 0)
		c->unit[0] = '\0';
	return cap_rows ? h5_column_reserve(c, cap_rows, msg, len) : 0;
}

/* A buffer of cap_rows rows (vlen bytes are hvl_t sequences). */
static void *
block_alloc(const struct h5_column *c)
{
	return calloc(c->cap_rows * c->width,
	              c->vlen_bytes ? sizeof(hvl_t) : c->size);
}

int
h5_column_reserve(struct h5_column *c, uint64_t cap_rows, char *msg, size_t len)
{
	free(c->buf);
	free(c->spare);
	c->spare = NULL;
	c->cap_rows = cap_rows;
	if ((c->buf = block_alloc(c)) == NULL) {
		snprintf(msg, len, "%s: %s", c->path, strerror(ENOMEM));
		return -1;
	}
	return 0;
}

/* Give back what HDF5 allocated for the strings of a block. */
static void
reclaim_block(const struct h5_column *c, void *buf, uint64_t nrows,
              bool *held_vlen)
{
	hsize_t n = nrows * c->width;
	hid_t space;

	if (!*held_vlen)
		return;
	space = H5Screate_simple(1, &n, NULL);
	H5Dvlen_reclaim(c->memtype, space, H5P_DEFAULT, buf);
	H5Sclose(space);
	*held_vlen = false;
}

/* Rows [first, first + count) into buf. */
static int
read_block(const struct h5_column *c, void *buf, uint64_t first, uint64_t count,
           char *msg, size_t len)
{
	hsize_t start[H5S_MAX_RANK] = {0}, n[H5S_MAX_RANK];
	hsize_t mdims = count * c->width;
	hid_t fspace, mspace;
	int rank, rc = 0;

	guard_beat("dataset %s, rows %llu to %llu", c->path,
	           (unsigned long long)first,
	           (unsigned long long)(first + count));
	fspace = H5Dget_space(c->dset);
	/* Rows [first, first + count), whole along the other dimensions. */
	rank = H5Sget_simple_extent_dims(fspace, n, NULL);
	if (rank > 0) {
		start[0] = first;
		n[0] = count;
		rc = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, n,
		                         NULL);
	}
	mspace = H5Screate_simple(1, &mdims, NULL);
	if (rc >= 0 && rank >= 0)
		rc = H5Dread(c->dset, c->memtype, mspace, fspace, H5P_DEFAULT,
		             buf);
	/* Before any other call: each one clears the error stack. */
	if (rc < 0 || rank < 0)
		h5_error(msg, len, c->path);
	H5Sclose(mspace);
	H5Sclose(fspace);
	return rc < 0 || rank < 0 ? -1 : 0;
}

/* The current buffer, by reading ahead into it with the roles swapped. */
int
h5_column_read(struct h5_column *c, uint64_t first, uint64_t count, char *msg,
               size_t len)
{
	int rc;

	h5_column_flip(c);
	rc = h5_column_read_ahead(c, first, count, msg, len);
	h5_column_flip(c);
	return rc;
}

int
h5_column_read_ahead(struct h5_column *c, uint64_t first, uint64_t count,
                     char *msg, size_t len)
{
	reclaim_block(c, c->spare, c->spare_rows, &c->spare_vlen);
	c->spare_rows = 0;
	if (count == 0)
		return 0;
	if (c->spare == NULL && (c->spare = block_alloc(c)) == NULL) {
		snprintf(msg, len, "%s: %s", c->path, strerror(ENOMEM));
		return -1;
	}
	if (read_block(c, c->spare, first, count, msg, len) < 0)
		return -1;
	c->spare_rows = count;
	c->spare_vlen = c->vlen || c->vlen_bytes;
	return 0;
}

void
h5_column_flip(struct h5_column *c)
{
	void *buf = c->buf;
	uint64_t nrows = c->nrows;
	bool held = c->held_vlen;

	c->buf = c->spare;
	c->nrows = c->spare_rows;
	c->held_vlen = c->spare_vlen;
	c->spare = buf;
	c->spare_rows = nrows;
	c->spare_vlen = held;
}

void
h5_column_close(struct h5_column *c)
{
	reclaim_block(c, c->buf, c->nrows, &c->held_vlen);
	reclaim_block(c, c->spare, c->spare_rows, &c->spare_vlen);
	free(c->buf);
	free(c->spare);
	c->buf = c->spare = NULL;
	if (c->memtype >= 0)
		H5Tclose(c->memtype);
	if (c->dset >= 0)
		H5Dclose(c->dset);
	c->memtype = c->dset = H5I_INVALID_HID;
}

/* ---- read-ahead --------------------------------------------------------- */

/* Read the posted block into every column's spare; 0 or -1 with r->msg. */
static int
reader_read(struct h5_reader *r)
{
	int k;

	for (k = 0; k < r->ncol; k++)
		if (h5_column_read_ahead(r->col[k], r->first, r->count, r->msg,
		                         sizeof(r->msg)) < 0)
			return -1;
	return 0;
}

static void *
reader_main(void *arg)
{
	struct h5_reader *r = arg;

	/* HDF5's error printing is per thread: silence this one too. */
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (r->state == H5_READER_IDLE || r->state == H5_READER_DONE)
			pthread_cond_wait(&r->cond, &r->lock);
		if (r->state == H5_READER_QUIT)
			break;
		pthread_mutex_unlock(&r->lock);
		r->rc = reader_read(r);
		pthread_mutex_lock(&r->lock);
		r->state = H5_READER_DONE;
		pthread_cond_broadcast(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

void
h5_reader_start(struct h5_reader *r, struct h5_column **col, int ncol)
{
	memset(r, 0, sizeof(*r));
	r->col = col;
	r->ncol = ncol;
	r->state = H5_READER_IDLE;
	if (pthread_mutex_init(&r->lock, NULL) != 0)
		return;
	if (pthread_cond_init(&r->cond, NULL) != 0) {
		pthread_mutex_destroy(&r->lock);
		return;
	}
	/* Without a thread every block is read in h5_reader_request(). */
	if (pthread_create(&r->thread, NULL, reader_main, r) != 0) {
		pthread_cond_destroy(&r->cond);
		pthread_mutex_destroy(&r->lock);
		return;
	}
	r->threaded = true;
}

void
h5_reader_request(struct h5_reader *r, uint64_t first, uint64_t count)
{
	r->first = first;
	r->count = count;
	if (!r->threaded) {
		r->rc = reader_read(r);
		r->state = H5_READER_DONE;
		return;
	}
	pthread_mutex_lock(&r->lock);
	r->state = H5_READER_BUSY;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* Wait until no read is under way. */
static void
reader_settle(struct h5_reader *r)
{
	if (!r->threaded)
		return;
	pthread_mutex_lock(&r->lock);
	while (r->state == H5_READER_BUSY)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
}

int
h5_reader_wait(struct h5_reader *r, char *msg, size_t len)
{
	int k;

	reader_settle(r);
	if (r->state != H5_READER_DONE)
		return 0;
	r->state = H5_READER_IDLE;
	if (r->rc < 0) {
		snprintf(msg, len, "%s", r->msg);
		return -1;
	}
	for (k = 0; k < r->ncol; k++)
		h5_column_flip(r->col[k]);
	return 0;
}

void
h5_reader_stop(struct h5_reader *r)
{
	if (!r->threaded)
		return;
	reader_settle(r); /* only this thread posts: none can start now */
	pthread_mutex_lock(&r->lock);
	r->state = H5_READER_QUIT;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	r->threaded = false;
}

uint64_t
h5_col_uint(const struct h5_column *c, uint64_t i, unsigned j)
{
	const unsigned char *p =
	    (const unsigned char *)c->buf + (i * c->width + j) * c->size;

	switch (c->size) {
	case 1:
		return *p;
	case 2:
		return *(const uint16_t *)(const void *)p;
	case 4:
		return *(const uint32_t *)(const void *)p;
	default:
		return *(const uint64_t *)(const void *)p;
	}
}

int64_t
h5_col_int(const struct h5_column *c, uint64_t i, unsigned j)
{
	const unsigned char *p =
	    (const unsigned char *)c->buf + (i * c->width + j) * c->size;

	switch (c->size) {
	case 1:
		return *(const int8_t *)p;
	case 2:
		return *(const int16_t *)(const void *)p;
	case 4:
		return *(const int32_t *)(const void *)p;
	default:
		return *(const int64_t *)(const void *)p;
	}
}

double
h5_col_double(const struct h5_column *c, uint64_t i, unsigned j)
{
	switch (c->type) {
	case H5_COL_UINT:
		return (double)h5_col_uint(c, i, j);
	case H5_COL_INT:
		return (double)h5_col_int(c, i, j);
	case H5_COL_FLOAT:
		return ((const double *)c->buf)[i * c->width + j];
	default:
		return NAN;
	}
}

const char *
h5_col_text(const struct h5_column *c, uint64_t i, size_t *n)
{
	const char *s;

	if (c->vlen_bytes) {
		const hvl_t *v = (const hvl_t *)c->buf + i * c->width;

		*n = v->len;
		return v->p != NULL ? v->p : "";
	}
	if (c->vlen) {
		s = ((char *const *)c->buf)[i * c->width];
		*n = s != NULL ? strlen(s) : 0;
		return s != NULL ? s : "";
	}
	s = (const char *)c->buf + i * c->width * c->size;
	*n = strnlen(s, c->size);
	return s;
}

void
h5_time_scale(const struct h5_column *c, struct h5_time_scale *t)
{
	/* Stamps are ns unless the dataset says seconds with a gain. */
	double ns = c->has_gain ? c->gain * 1e9 : 1.0;
	double off = c->has_gain ? c->offset * 1e9 : 0.0;

	t->scale = ns;
	t->ns_per_unit = 0;
	if (ns >= 1 && fabs(ns - round(ns)) < 1e-6 * ns)
		t->ns_per_unit = h5_stamp_of_double(round(ns));
	t->offset_ns = h5_stamp_of_double(round(off));
}

int64_t
h5_time_ns(const struct h5_time_scale *t, int64_t raw)
{
	int64_t ns;

	if (t->ns_per_unit != 0) {
		if (__builtin_mul_overflow(raw, t->ns_per_unit, &ns))
			ns = (raw < 0) != (t->ns_per_unit < 0) ? INT64_MIN
			                                       : INT64_MAX;
	} else {
		ns = h5_stamp_of_double(round((double)raw * t->scale));
	}
	return h5_stamp_add(ns, t->offset_ns);
}
