/*
 * parse: numbers with their units as people write them on a command line
 * or in a register map: durations, sizes, a field's limit, bounded
 * integers and signals.  No state and no messages: functions return 0, or
 * -1 with errno (EINVAL, ERANGE), and the caller says what was wrong.
 */
#ifndef GXKIT_PARSE_H
#define GXKIT_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * "500ms", "5s", "2m", "6h", "1d", "1.5s"; a bare number is seconds.
 * The duration in milliseconds.
 */
int parse_duration(const char *s, uint64_t *ms);

/*
 * "4096", "512K", "128M", "1.5G" (binary multiples; "KB", "KiB" and
 * lower case accepted).  A bare number is taken as is (*had_suffix false),
 * which tools read in the unit of the field it applies to (had_suffix may
 * be NULL).  The size in bytes (or units).
 */
int parse_size(const char *s, double *bytes, bool *had_suffix);

/*
 * A limit for a record field: fields named *_kb take a size (a bare number
 * is bytes), which is returned in KiB; other fields take a number in their
 * own units, a K/M/G suffix multiplying it.
 */
int parse_field_limit(const char *field, const char *s, double *limit);

/*
 * A rate, for --min-rate: "1%/day" (also "%/h"; a bare number is %/day),
 * a size a time ("50B/min", "2K/h", "1M/day": bytes per second), or a
 * number a time ("100/h": per second, in the field's own unit).  Times:
 * s, min, h, day (or d).
 */
enum parse_slope_kind {
	PARSE_SLOPE_PCT_DAY,
	PARSE_SLOPE_BYTES,
	PARSE_SLOPE_PLAIN
};
int parse_slope(const char *s, double *v, enum parse_slope_kind *kind);

/*
 * An ISO 8601 date and time, "2026-12-04T15:13:41Z", with a fraction of
 * a second, a space for the T, and a zone (Z, +01:00, +0100) as written;
 * without a zone, local time.  Unix time in seconds.
 */
int parse_iso8601(const char *s, size_t n, double *ts);

/* A decimal integer in [min, max]. */
int parse_long(const char *s, long min, long max, long *out);

/* A signal by name ("TERM", "SIGUSR1", "hup") or number. */
int parse_signal(const char *s, int *sig);
/* The inverse: "TERM" for SIGTERM; "SIG<n>" for unnamed ones, written
 * into buf (16 bytes). */
const char *parse_signal_name(int sig, char *buf);

#endif
