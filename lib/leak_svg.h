/*
 * leak_svg: a verdict drawn as an SVG chart: the series' band and mean,
 * the lower envelope, the regimes' lines, the onset, the fault periods,
 * and with maps a panel of the mappings' classes stacked over time.
 * Writes to the caller's FILE; owns nothing.
 */
#ifndef GXKIT_LEAK_SVG_H
#define GXKIT_LEAK_SVG_H

#include <stdio.h>

#include "leak_report.h"

/* The chart of v (w: its maps, may be unready; faults may be empty). */
void leak_svg_write(FILE *fp, const struct leak_report *v,
                    const struct where_set *w,
                    const struct leak_faults *faults);

#endif
