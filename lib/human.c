#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "human.h"

static bool
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n > m && strcmp(s + n - m, tail) == 0;
}

enum human_unit
human_unit_of(const char *field)
{
	if (ends_with(field, "_kb") || ends_with(field, "_kib"))
		return HUMAN_KIB;
	if (ends_with(field, "_bytes") || ends_with(field, "_b") ||
	    strstr(field, "heap") != NULL)
		return HUMAN_BYTES;
	return HUMAN_PLAIN;
}

/* A number in fixed notation with about four figures: what rounds to
 * zero is "0". */
static const char *
plain(char *buf, size_t cap, double v)
{
	double a = fabs(v);
	int decimals = a >= 1000 || a == 0 ? 0 : 3 - (int)floor(log10(a));

	size_t n;

	if (decimals > 12)
		decimals = 12;
	snprintf(buf, cap, "%.*f", decimals, v + 0.0);
	if (strchr(buf, '.') != NULL) { /* "12.50" is "12.5" */
		for (n = strlen(buf); buf[n - 1] == '0'; n--)
			buf[n - 1] = '\0';
		if (buf[n - 1] == '.')
			buf[n - 1] = '\0';
	}
	if (strcmp(buf, "-0") == 0)
		snprintf(buf, cap, "0");
	return buf;
}

/* A size of bytes: B below a KiB (from unit 0), then KB, MB, GB, TB.
 * A rate (fine) keeps a decimal below 10, so that a slow leak is not "0". */
static const char *
size_of_bytes(char *buf, size_t cap, double bytes, size_t u, bool fine)
{
	static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
	double a = fabs(bytes) / (u ? 1024 : 1), v = bytes / (u ? 1024 : 1);

	while (a >= 1024 && u < 4) {
		a /= 1024;
		v /= 1024;
		u++;
	}
	if (fine && a < 10 && a >= 0.05 && fabs(v - round(v)) >= 0.05)
		snprintf(buf, cap, "%.1f %s", v, units[u]);
	else if (a >= 100 || u <= 1) /* B and KB whole; "0 KB", not "-0 KB" */
		snprintf(buf, cap, "%.0f %s", a < 0.5 ? 0.0 : v, units[u]);
	else
		snprintf(buf, cap, "%.1f %s", a < 0.05 ? 0.0 : v, units[u]);
	return buf;
}

static const char *
value_of(char *buf, size_t cap, const char *field, double v, bool fine)
{
	if (isnan(v))
		return "n/a";
	switch (human_unit_of(field)) {
	case HUMAN_KIB:
		/* KiB as sizes from KB up, never in bytes */
		return size_of_bytes(buf, cap, v * 1024, 1, fine);
	case HUMAN_BYTES:
		return size_of_bytes(buf, cap, v, 0, fine);
	default:
		return plain(buf, cap, v);
	}
}

const char *
human_value(char *buf, size_t cap, const char *field, double v)
{
	return value_of(buf, cap, field, v, false);
}

const char *
human_rate(char *buf, size_t cap, const char *field, double per_s)
{
	char v[HUMAN_MAX];
	bool bytes = human_unit_of(field) == HUMAN_BYTES;

	if (isnan(per_s))
		return "n/a";
	/* a heap in bytes loses bytes a minute; memory in KiB, KB an hour */
	snprintf(
	    buf, cap, "%s/%s",
	    value_of(v, sizeof(v), field, per_s * (bytes ? 60 : 3600), true),
	    bytes ? "min" : "h");
	return buf;
}

const char *
human_pct(char *buf, size_t cap, double pct)
{
	char v[HUMAN_MAX];

	if (isnan(pct))
		return "n/a";
	plain(v, sizeof(v), fabs(pct) >= 100 ? round(pct) : pct);
	snprintf(buf, cap, "%s%s", pct > 0 && strcmp(v, "0") != 0 ? "+" : "",
	         v);
	return buf;
}

const char *
human_duration(char *buf, size_t cap, double s)
{
	if (isnan(s))
		snprintf(buf, cap, "never");
	else if (s < 10)
		snprintf(buf, cap, "%.1fs", s);
	else if (s < 120)
		snprintf(buf, cap, "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, cap, "%.0fm %02.0fs", floor(s / 60),
		         floor(fmod(s, 60)));
	else if (s < 172800)
		snprintf(buf, cap, "%.0fh %02.0fm", floor(s / 3600),
		         floor(fmod(s, 3600) / 60));
	else
		snprintf(buf, cap, "%.0fd %02.0fh", floor(s / 86400),
		         floor(fmod(s, 86400) / 3600));
	return buf;
}

const char *
human_time(char *buf, size_t cap, double ts)
{
	time_t t = (time_t)ts;
	struct tm tm;
	char d[HUMAN_MAX];

	if (ts >= 0 && ts < 1e9) /* psrecord's elapsed seconds, not dates */
		snprintf(buf, cap, "+%s", human_duration(d, sizeof(d), ts));
	else if (localtime_r(&t, &tm) == NULL ||
	         strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, cap, "%.0f", ts);
	return buf;
}
