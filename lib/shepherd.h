/*
 * shepherd: what the shepherd testbed's recordings look like (layouts,
 * modes, datatypes, the order of /data's fields).  Pure rules over names
 * and attributes already read; nothing here touches a file, allocates or
 * fails.
 */
#ifndef GXKIT_SHEPHERD_H
#define GXKIT_SHEPHERD_H
#include <stdbool.h>

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

#endif
