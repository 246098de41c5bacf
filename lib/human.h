/*
 * human: numbers as people read them in reports: a value in its field's
 * units (sizes for *_kb fields), a duration, a moment.  Each writes into
 * the caller's buffer (HUMAN_MAX bytes do) and returns it; no state.
 */
#ifndef GXKIT_HUMAN_H
#define GXKIT_HUMAN_H

#include <stdbool.h>
#include <stddef.h>

#define HUMAN_MAX 32

/* Is field one counted in KiB ("anon_kb")? */
bool human_is_kb(const char *field);
/* "1.2 MB" for a *_kb field, else "%.4g"; "n/a" for NaN; never "-0". */
const char *human_value(char *buf, size_t cap, const char *field, double v);
/* "4.2s", "38s", "12m 05s", "6h 02m", "3d 04h"; "never" for NaN. */
const char *human_duration(char *buf, size_t cap, double s);
/* Local "2026-12-04 15:13:41"; "+12m 05s" for stamps under 1e9, which
 * are seconds since a start (psrecord's), not dates. */
const char *human_time(char *buf, size_t cap, double ts);

#endif
