#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "human.h"

bool
human_is_kb(const char *field)
{
	size_t n = strlen(field);

	return n > 3 && strcmp(field + n - 3, "_kb") == 0;
}

const char *
human_value(char *buf, size_t cap, const char *field, double v)
{
	static const char *const units[] = {"KB", "MB", "GB", "TB"};
	double a = fabs(v);
	size_t u = 0;

	if (isnan(v))
		return "n/a";
	if (!human_is_kb(field)) {
		snprintf(buf, cap, "%.4g", v + 0.0); /* never "-0" */
		return buf;
	}
	while (a >= 1024 && u < 3) {
		a /= 1024;
		v /= 1024;
		u++;
	}
	if (a >= 100 || u == 0) {
		/* what rounds to zero has no sign: "0 KB/h", not "-0" */
		snprintf(buf, cap, "%.0f %s", a < 0.5 ? 0.0 : v, units[u]);
	} else {
		snprintf(buf, cap, "%.1f %s", a < 0.05 ? 0.0 : v, units[u]);
	}
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
	else if (s < 7200)
		snprintf(buf, cap, "%.0fm %02.0fs", floor(s / 60), fmod(s, 60));
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
