/*
 * human: numbers as people read them in reports: a value in its field's
 * unit, a rate per hour or minute, a percentage, a duration, a moment.
 * Each writes into the caller's buffer (HUMAN_MAX bytes do) and returns
 * it; no state.  Never e-notation, never "-0".
 */
#ifndef GXKIT_HUMAN_H
#define GXKIT_HUMAN_H

#include <stdbool.h>
#include <stddef.h>

#define HUMAN_MAX 32

/*
 * The unit a field is counted in, by its name: KiB for *_kb and *_kib
 * (gxkit's records, the other recorders' logs as read), bytes for
 * *_bytes, *_b and names with "heap" in them (an ESP32's free_heap, a
 * driver's heap counters), else the field's own, unnamed unit.
 */
enum human_unit { HUMAN_KIB, HUMAN_BYTES, HUMAN_PLAIN };
enum human_unit human_unit_of(const char *field);

/* "1.2 MB" (sizes in KB, MB, GB, TB; bytes as B), else the number alone
 * ("137300", "0.25"); "n/a" for NaN. */
const char *human_value(char *buf, size_t cap, const char *field, double v);
/* A rate from a slope per second: "180 KB/h" for a KiB field, "82 B/min"
 * for one in bytes, "4928/h" for the others; the sign kept. */
const char *human_rate(char *buf, size_t cap, const char *field, double per_s);
/* A percentage with its sign and three figures: "+14", "-102", "+0.52". */
const char *human_pct(char *buf, size_t cap, double pct);
/* "4.2s", "38s", "12m 05s", "6h 02m", "3d 04h"; "never" for NaN. */
const char *human_duration(char *buf, size_t cap, double s);
/* Local "2026-12-04 15:13:41"; "+12m 05s" for stamps under 1e9, which
 * are seconds since a start (psrecord's), not dates. */
const char *human_time(char *buf, size_t cap, double ts);

#endif
