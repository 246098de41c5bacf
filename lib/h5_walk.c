/*
 * h5_walk: groups and what describing a file needs of its objects (see
 * h5.h).  Every HDF5 handle opened here is closed before the function
 * that opened it returns; callbacks see objects that are open only while
 * they run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "h5.h"

bool
h5_has_link(hid_t loc, const char *name)
{
	bool yes = H5Lexists(loc, name, H5P_DEFAULT) > 0;

	H5Eclear2(H5E_DEFAULT);
	return yes;
}

bool
h5_has_attr(hid_t obj, const char *name)
{
	bool yes = H5Aexists(obj, name) > 0;

	H5Eclear2(H5E_DEFAULT);
	return yes;
}

int
h5_group_open(hid_t file, const char *path, hid_t *group, char *msg, size_t len)
{
	if ((*group = H5Gopen2(file, path, H5P_DEFAULT)) >= 0)
		return 0;
	h5_error(msg, len, path);
	return -1;
}

void
h5_group_close(hid_t group)
{
	if (group >= 0)
		H5Gclose(group);
}

int
h5_resolve(hid_t file, const char *path, char group[H5_PATH_MAX],
           char only[H5_NAME_MAX], char *msg, size_t len)
{
	char *slash;
	hid_t obj;

	snprintf(group, H5_PATH_MAX, "%s", path);
	only[0] = '\0';
	if (strcmp(group, "/") != 0 && !h5_has_link(file, group)) {
		snprintf(msg, len, "%s: no such group", path);
		return -1;
	}
	if ((obj = H5Oopen(file, group, H5P_DEFAULT)) < 0) {
		h5_error(msg, len, path);
		return -1;
	}
	if (H5Iget_type(obj) == H5I_DATASET &&
	    (slash = strrchr(group, '/')) != NULL) {
		snprintf(only, H5_NAME_MAX, "%s", slash + 1);
		*slash = '\0';
		if (group[0] == '\0')
			snprintf(group, H5_PATH_MAX, "/");
	}
	H5Oclose(obj);
	return 0;
}

struct dataset_list {
	char (*names)[H5_NAME_MAX];
	int n, max;
};

static herr_t
list_dataset(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
	struct dataset_list *l = data;
	hid_t obj;

	(void)info;
	if ((obj = H5Oopen(group, name, H5P_DEFAULT)) < 0) {
		H5Eclear2(H5E_DEFAULT);
		return 0;
	}
	if (H5Iget_type(obj) == H5I_DATASET && l->n < l->max &&
	    strlen(name) < H5_NAME_MAX)
		snprintf(l->names[l->n++], H5_NAME_MAX, "%s", name);
	H5Oclose(obj);
	return 0;
}

int
h5_list_datasets(hid_t group, char (*names)[H5_NAME_MAX], int max)
{
	struct dataset_list l = {names, 0, max};

	H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, NULL, list_dataset, &l);
	H5Eclear2(H5E_DEFAULT);
	return l.n;
}

int
h5_columns_equal(const struct h5_column *col, int n, const char *group,
                 char *msg, size_t len)
{
	int i;

	for (i = 1; i < n; i++) {
		if (col[i].rows == col[0].rows)
			continue;
		snprintf(msg, len,
		         "%s: datasets differ in length (%s %llu rows, %s "
		         "%llu); pick equal ones with -d",
		         group, col[0].name, (unsigned long long)col[0].rows,
		         col[i].name, (unsigned long long)col[i].rows);
		return -1;
	}
	return 0;
}

/* ---- describing ---------------------------------------------------- */

/* h5_type_name() returns buf or a constant: copied into out either way. */
static void
type_name(hid_t type, char out[16])
{
	char buf[16];

	snprintf(out, 16, "%s", h5_type_name(type, buf));
}

/* Type, shape, chunks and filters of a dataset. */
static void
dataset_info(struct h5_object *o)
{
	hid_t type = H5Dget_type(o->id), space = H5Dget_space(o->id);
	hid_t dcpl = H5Dget_create_plist(o->id);
	hsize_t dims[H5S_MAX_RANK], chunk[H5S_MAX_RANK];
	int i;

	o->rank = H5Sget_simple_extent_dims(space, dims, NULL);
	o->chunk_rank = 0;
	if (H5Pget_layout(dcpl) == H5D_CHUNKED)
		o->chunk_rank = H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk);
	if (o->rank < 0)
		o->rank = 0;
	if (o->chunk_rank < 0)
		o->chunk_rank = 0;
	for (i = 0; i < o->rank; i++)
		o->dims[i] = dims[i];
	for (i = 0; i < o->chunk_rank; i++)
		o->chunk[i] = chunk[i];
	type_name(type, o->type);
	o->missing[0] = '\0';
	h5_filters(o->id, o->filters, sizeof(o->filters), o->missing,
	           sizeof(o->missing));
	H5Pclose(dcpl);
	H5Sclose(space);
	H5Tclose(type);
	H5Eclear2(H5E_DEFAULT);
}

struct walk {
	h5_object_fn *fn;
	void *data;
	const char *path;
	int depth, rc;
};

static int walk_group(struct walk *w, hid_t group);

static herr_t
walk_member(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
	struct walk *w = data, sub = *w;
	char path[H5_PATH_MAX];
	struct h5_object o;
	H5I_type_t kind;

	(void)info;
	guard_beat("object '%s' in %s", name, w->path);
	o.id = H5Oopen(group, name, H5P_DEFAULT);
	kind = o.id < 0 ? H5I_BADID : H5Iget_type(o.id);
	H5Eclear2(H5E_DEFAULT);
	if (snprintf(path, sizeof(path), "%s/%s",
	             strcmp(w->path, "/") == 0 ? "" : w->path,
	             name) >= (int)sizeof(path))
		kind = H5I_BADID; /* too deep to name: skipped */
	if (kind == H5I_GROUP || kind == H5I_DATASET) {
		o.path = sub.path = path;
		o.name = name;
		o.depth = sub.depth = w->depth + 1;
		o.dataset = kind == H5I_DATASET;
		if (o.dataset)
			dataset_info(&o);
		if ((w->rc = w->fn(&o, w->data)) == 0 && !o.dataset)
			w->rc = walk_group(&sub, o.id);
	}
	if (o.id >= 0)
		H5Oclose(o.id);
	return w->rc < 0 ? -1 : 0;
}

static int
walk_group(struct walk *w, hid_t group)
{
	H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, NULL, walk_member, w);
	H5Eclear2(H5E_DEFAULT);
	return w->rc;
}

int
h5_walk(hid_t file, h5_object_fn *fn, void *data)
{
	struct walk w = {fn, data, "/", 0, 0};
	struct h5_object root = {.path = "/", .name = "/", .depth = 0};
	char msg[64];

	if (h5_group_open(file, "/", &root.id, msg, sizeof(msg)) < 0)
		return 0; /* h5_open() read the root already */
	if ((w.rc = fn(&root, data)) == 0)
		walk_group(&w, root.id);
	h5_group_close(root.id);
	return w.rc;
}

/* An attribute's value: text, up to 16 numbers, or only its type. */
static void
attr_value(hid_t obj, struct h5_attr *a)
{
	hid_t id = H5Aopen(obj, a->name, H5P_DEFAULT), type, space;
	hssize_t n;
	H5T_class_t cls;

	a->kind = H5_ATTR_NONE;
	if (id < 0)
		return;
	type = H5Aget_type(id);
	space = H5Aget_space(id);
	cls = H5Tget_class(type);
	n = H5Sget_simple_extent_npoints(space);
	if (cls == H5T_STRING && n == 1 &&
	    (a->text = h5_attr_string_dup(obj, a->name)) != NULL) {
		a->kind = H5_ATTR_TEXT;
	} else if ((cls == H5T_INTEGER || cls == H5T_FLOAT) && n >= 1 &&
	           n <= H5_ATTR_NUMBERS_MAX &&
	           H5Aread(id, H5T_NATIVE_DOUBLE, a->num) >= 0) {
		a->kind = H5_ATTR_NUMBERS;
		a->n = (int)n;
		a->array = n > 1 || H5Sget_simple_extent_ndims(space) > 0;
	} else {
		a->kind = H5_ATTR_TYPE;
		type_name(type, a->type);
	}
	H5Sclose(space);
	H5Tclose(type);
	H5Aclose(id);
	H5Eclear2(H5E_DEFAULT);
}

struct attr_walk {
	h5_attr_fn *fn;
	void *data;
};

static herr_t
attr_member(hid_t obj, const char *name, const H5A_info_t *info, void *data)
{
	struct attr_walk *w = data;
	struct h5_attr a = {.name = name};

	(void)info;
	h5_beat_attribute(obj, name);
	attr_value(obj, &a);
	w->fn(&a, w->data);
	free(a.text);
	return 0;
}

void
h5_attrs(hid_t obj, h5_attr_fn *fn, void *data)
{
	struct attr_walk w = {fn, data};
	hsize_t idx = 0;

	H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_member, &w);
	H5Eclear2(H5E_DEFAULT);
}
