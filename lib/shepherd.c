#include <string.h>

#include "shepherd.h"

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
