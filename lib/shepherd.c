#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "shepherd.h"
#include "trend.h"

enum shepherd_layout
shepherd_layout(const char *mode, bool time_has_gain)
{
	if (mode == NULL)
		return SHEPHERD_NONE;
	if (strcmp(mode, "harvesting") == 0 || strcmp(mode, "load") == 0)
		return SHEPHERD_V1;
	if (strcmp(mode, "harvester") == 0 || strcmp(mode, "emulator") == 0)
		return time_has_gain ? SHEPHERD_CURRENT : SHEPHERD_V2;
	return SHEPHERD_NONE;
}

const char *
shepherd_layout_name(enum shepherd_layout l)
{
	static const char *const names[] = {"unknown", "v1", "v2", "current"};

	return names[l];
}

/* The emulator replays iv samples only; a harvester records any kind. */
bool
shepherd_datatype_ok(const char *mode, const char *datatype)
{
	if (mode == NULL || datatype == NULL)
		return false;
	if (strcmp(mode, "emulator") == 0)
		return strcmp(datatype, "ivsample") == 0;
	if (strcmp(mode, "harvester") == 0)
		return strcmp(datatype, "ivsample") == 0 ||
		       strcmp(datatype, "ivcurve") == 0 ||
		       strcmp(datatype, "isc_voc") == 0;
	return false;
}

int
shepherd_field_rank(const char *name)
{
	static const char *const first[] = {"time", "voltage", "current"};
	int i;

	for (i = 0; i < 3; i++)
		if (strcmp(name, first[i]) == 0)
			return i;
	return 3;
}

/* ---- a file's identity and its checks -------------------------------- */

void
shepherd_identify(hid_t file, struct shepherd_identity *id)
{
	hid_t data, t = H5I_INVALID_HID;
	bool time_gain = false;
	char msg[64];
	double g;

	memset(id, 0, sizeof(*id));
	id->window_samples = NAN;
	h5_attr_string(file, "mode", id->mode, sizeof(id->mode));
	h5_attr_string(file, "hostname", id->hostname, sizeof(id->hostname));
	guard_beat("attribute 'config' of /");
	if (h5_has_attr(file, "config"))
		snprintf(id->config_in, sizeof(id->config_in), "/");
	guard_beat("group /data");
	if (h5_group_open(file, "/data", &data, msg, sizeof(msg)) == 0) {
		if (h5_has_link(data, "time"))
			t = H5Dopen2(data, "time", H5P_DEFAULT);
		time_gain = t >= 0 && h5_attr_double(t, "gain", &g) == 0;
		if (t >= 0)
			H5Dclose(t);
		h5_attr_string(data, "datatype", id->datatype,
		               sizeof(id->datatype));
		h5_attr_double(data, "window_samples", &id->window_samples);
		if (!id->config_in[0] && h5_has_attr(data, "config"))
			snprintf(id->config_in, sizeof(id->config_in), "/data");
		h5_group_close(data);
	}
	H5Eclear2(H5E_DEFAULT);
	id->layout = shepherd_layout(id->mode[0] ? id->mode : NULL, time_gain);
}

static int
found(struct shepherd_finding *f, const char *check, bool ok, const char *key,
      const char *value)
{
	f->check = check;
	f->ok = ok;
	f->key = key;
	f->value = value;
	return 1;
}

int
shepherd_check_mode(const struct shepherd_identity *id,
                    struct shepherd_finding f[2])
{
	int n = found(&f[0], "mode", id->layout != SHEPHERD_NONE, "value",
	              id->mode[0] ? id->mode : NULL);

	if (id->layout == SHEPHERD_V1 || id->layout == SHEPHERD_NONE)
		return n;
	return n + found(&f[1], "datatype",
	                 shepherd_datatype_ok(id->mode, id->datatype), "value",
	                 id->datatype[0] ? id->datatype : NULL);
}

int
shepherd_check_columns(const struct h5_column *col, int ncol,
                       enum shepherd_layout layout, const char *lengths,
                       struct shepherd_finding f[SHEPHERD_COLUMN_FINDINGS])
{
	static const char *const need[] = {"time", "voltage", "current"};
	int i, k, n = 0;

	for (i = 0; i < 3; i++) {
		for (k = 0; k < ncol; k++)
			if (strcmp(col[k].name, need[i]) == 0)
				break;
		if (k == ncol) {
			n += found(&f[n], "dataset", false, "missing", need[i]);
			continue;
		}
		/* v1 and v2 stamps are plain nanoseconds */
		if (i > 0 || layout == SHEPHERD_CURRENT)
			n += found(&f[n], "calibration", col[k].has_gain,
			           "dataset", col[k].path);
		if (col[k].chunk != 0)
			n += found(&f[n], "chunks",
			           col[k].rows % col[k].chunk == 0, "dataset",
			           col[k].path);
	}
	return n + found(&f[n], "lengths", lengths == NULL, "message", lengths);
}

int64_t
shepherd_expected_step(const int64_t *t, size_t n)
{
	double steps[SHEPHERD_STEPS_MAX];
	size_t i;

	if (n > SHEPHERD_STEPS_MAX + 1)
		n = SHEPHERD_STEPS_MAX + 1;
	if (n < 2)
		return 0;
	for (i = 0; i + 1 < n; i++)
		steps[i] = (double)h5_stamp_sub(t[i + 1], t[i]);
	return h5_stamp_of_double(trend_median(steps, n - 1));
}

/* ---- statistics of a recording --------------------------------------- */

int
shepherd_stats_init(struct shepherd_stats *st, const struct h5_table *t)
{
	memset(st, 0, sizeof(*st));
	st->volt = h5_table_column(t, "voltage");
	st->curr = h5_table_column(t, "current");
	st->slot = calloc(t->nslot + 1, sizeof(*st->slot));
	return st->slot != NULL ? 0 : -1;
}

void
shepherd_stats_free(struct shepherd_stats *st)
{
	free(st->slot);
	st->slot = NULL;
}

/* Energy: the previous row's power over the step to this row, in SI
 * whatever raw says. */
void
shepherd_stats_add(struct shepherd_stats *st, struct h5_table *t, uint64_t i,
                   int64_t ts, bool raw)
{
	double p = 0;
	unsigned s;

	h5_table_values(t, i, raw);
	for (s = 0; s < t->nslot; s++)
		trend_running_add(&st->slot[s], t->val[s]);
	if (st->volt >= 0 && st->curr >= 0) {
		const struct h5_column *v = &t->col[st->volt];
		const struct h5_column *c = &t->col[st->curr];

		p = h5_calibrate(v, h5_col_double(v, i, 0), false) *
		    h5_calibrate(c, h5_col_double(c, i, 0), false);
	}
	if (st->rows == 0) {
		st->t_first = ts;
	} else {
		st->step = h5_stamp_sub(ts, st->t_prev);
		trend_sum_add(&st->energy, st->power * (double)st->step / 1e9);
	}
	st->power = p;
	st->t_prev = ts;
	st->rows++;
}

double
shepherd_stats_duration(const struct shepherd_stats *st)
{
	return (double)(st->t_prev - st->t_first) / 1e9;
}

double
shepherd_stats_rate(const struct shepherd_stats *st)
{
	double s = shepherd_stats_duration(st);

	return s > 0 ? (double)(st->rows - 1) / s : NAN;
}

/* The last row holds its power for one more step. */
double
shepherd_stats_energy(const struct shepherd_stats *st)
{
	struct trend_sum e = st->energy;

	trend_sum_add(&e, st->power * (double)st->step / 1e9);
	return trend_sum_value(&e);
}
