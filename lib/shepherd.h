/*
 * shepherd: what the shepherd testbed's recordings look like (layouts,
 * modes, datatypes, the order of /data's fields) and what h5-dump --check
 * holds them to.  Rules over names, attributes and columns already read;
 * only shepherd_identify() reads a file, through lib/h5.  Nothing here
 * allocates or fails; findings point into what the caller passed in.
 */
#ifndef GXKIT_SHEPHERD_H
#define GXKIT_SHEPHERD_H
#include <stdbool.h>
#include <stdint.h>

#include "h5_table.h"
#include "trend.h"

enum shepherd_layout {
	SHEPHERD_NONE,   /* no known mode attribute */
	SHEPHERD_V1,     /* 2019: harvesting / load, LZF */
	SHEPHERD_V2,     /* 2021-2023: harvester / emulator, time in ns */
	SHEPHERD_CURRENT /* shepherd-core: time with unit s and gain 1e-9 */
};

/* From the root's mode and whether /data/time carries a gain. */
enum shepherd_layout shepherd_layout(const char *mode, bool time_has_gain);
const char *shepherd_layout_name(enum shepherd_layout l);
/* Is datatype allowed for mode (v2 and current; v1 has none)? */
bool shepherd_datatype_ok(const char *mode, const char *datatype);
/* Sort key of a dataset in a row: time, voltage, current, then others. */
int shepherd_field_rank(const char *name);

/* What the root and /data say about a recording. */
struct shepherd_identity {
	char mode[64], datatype[64], hostname[64];
	char config_in[8];     /* where the config attribute is: "/", "/data" */
	double window_samples; /* NaN when absent */
	enum shepherd_layout layout;
};
void shepherd_identify(hid_t file, struct shepherd_identity *id);

/* One line of a check: which, whether it passed, and one detail (key
 * NULL: none; value NULL: null). */
struct shepherd_finding {
	const char *check;
	bool ok;
	const char *key, *value;
};
/* Mode known and datatype allowed for it: 1 or 2 findings. */
int shepherd_check_mode(const struct shepherd_identity *id,
                        struct shepherd_finding f[2]);
/* time, voltage and current present, calibrated (time only in the current
 * layout) and of whole chunks, then the lengths (lengths: the message of
 * h5_columns_equal(), NULL when equal).  Returns how many findings. */
#define SHEPHERD_COLUMN_FINDINGS 7
int shepherd_check_columns(const struct h5_column *col, int ncol,
                           enum shepherd_layout layout, const char *lengths,
                           struct shepherd_finding f[SHEPHERD_COLUMN_FINDINGS]);

/* The usual step of n stamps: the median of the steps between the first
 * SHEPHERD_STEPS_MAX + 1 of them (0 with fewer than two). */
#define SHEPHERD_STEPS_MAX 1001
int64_t shepherd_expected_step(const int64_t *t, size_t n);

/*
 * --stats and the description's summary: running statistics of each value
 * slot of a table, its rows and stamps, and the energy of voltage times
 * current.  The struct owns slot (shepherd_stats_free()).
 */
struct shepherd_stats {
	struct trend_running *slot; /* one per value slot */
	struct trend_sum energy;
	int volt, curr; /* calibrated columns, or -1: no energy */
	double power;   /* of the previous row */
	int64_t t_first, t_prev, step;
	uint64_t rows;
};
/* 0, or -1 when out of memory. */
int shepherd_stats_init(struct shepherd_stats *st, const struct h5_table *t);
void shepherd_stats_free(struct shepherd_stats *st);
/* Row i of the block read last, stamped ts. */
void shepherd_stats_add(struct shepherd_stats *st, struct h5_table *t,
                        uint64_t i, int64_t ts, bool raw);
double shepherd_stats_duration(const struct shepherd_stats *st);
/* Rows per second over the duration; NaN for less than two stamps. */
double shepherd_stats_rate(const struct shepherd_stats *st);
double shepherd_stats_energy(const struct shepherd_stats *st);

#endif
