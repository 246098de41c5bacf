/*
 * regmap: register maps read from CSV with libcsv.  A struct regmap owns
 * every string and array in it (regmap_free).  regmap_load() returns 0, or
 * -1 with one message "FILE:LINE:COLUMN: what" in the caller's buffer.
 */
#ifndef GXKIT_REGMAP_H
#define GXKIT_REGMAP_H

#include <stddef.h>
#include <stdint.h>

#include "mb.h"

struct regmap {
	char *path; /* the file read */
	char *name; /* its short name: basename without .csv */
	struct mb_reg *regs;
	size_t n;
	int max_registers;   /* "# max-registers: N", default 125 */
	int max_hole;        /* "# max-hole: N", default 16 */
	uint64_t min_gap_ms; /* "# min-gap: DUR", default 0 */
	enum mb_fc probe_fc; /* "# probe: input 0" */
	uint16_t probe_address;
	/* "# identity: model=NAME serial=NAME firmware=NAME" */
	char *model, *serial, *firmware;
	char *vendor; /* "# vendor: growatt": the settings ident's prefix */
};

/*
 * Load a map by path, or by short name ("growatt-v120") from $GXKIT_MAPS,
 * the source tree next to the binary, then the installed map directory.
 */
int regmap_load(const char *name, struct regmap *m, char *err, size_t errlen);
void regmap_free(struct regmap *m);
/* The register called name, or NULL. */
const struct mb_reg *regmap_find(const struct regmap *m, const char *name);
/*
 * Keep only the registers named in lists (each "NAME[,NAME...]"), in the
 * map's order, freeing the rest: 0, or -1 with "no register NAME in MAP"
 * in err (the map unchanged).
 */
int regmap_select(struct regmap *m, const char *const *lists, size_t nlists,
                  char *err, size_t errlen);

#endif
