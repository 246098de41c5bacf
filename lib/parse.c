#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "human.h"
#include "parse.h"

/* A non-negative decimal number followed by a unit suffix; *end at suffix. */
static int
parse_number(const char *s, double *value, const char **end)
{
	char *p;
	double v;

	if (s == NULL)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s) && *s != '.')
		return -1;
	errno = 0;
	v = strtod(s, &p);
	if (p == s || errno == ERANGE || !isfinite(v) || v < 0)
		return -1;
	*value = v;
	*end = p;
	return 0;
}

struct unit {
	const char *suffix;
	double scale;
};

/* Scale a number by its suffix from a table (case-insensitively when
 * nocase); -1 for an unknown suffix. */
static int
parse_scaled(const char *s, const struct unit *units, size_t n, bool nocase,
             double *out, bool *had_suffix)
{
	const char *suffix;
	double v;
	size_t i;

	if (parse_number(s, &v, &suffix) < 0)
		goto bad;
	for (i = 0; i < n; i++) {
		if ((nocase ? strcasecmp(suffix, units[i].suffix)
		            : strcmp(suffix, units[i].suffix)) != 0)
			continue;
		*out = v * units[i].scale;
		if (had_suffix != NULL)
			*had_suffix = *suffix != '\0';
		return 0;
	}
bad:
	errno = EINVAL;
	return -1;
}

int
parse_duration(const char *s, uint64_t *ms)
{
	static const struct unit units[] = {
	    {"", 1000},   {"ms", 1},      {"s", 1000},    {"sec", 1000},
	    {"m", 60000}, {"min", 60000}, {"h", 3600000}, {"d", 86400000}};
	double v;

	if (parse_scaled(s, units, sizeof(units) / sizeof(units[0]), false, &v,
	                 NULL) < 0)
		return -1;
	if (v > 1e15) {
		errno = ERANGE;
		return -1;
	}
	*ms = (uint64_t)llround(v);
	return 0;
}

int
parse_size(const char *s, double *bytes, bool *had_suffix)
{
	static const struct unit units[] = {
	    {"", 1},         {"B", 1},       {"K", 0x1p10},   {"KB", 0x1p10},
	    {"KiB", 0x1p10}, {"M", 0x1p20},  {"MB", 0x1p20},  {"MiB", 0x1p20},
	    {"G", 0x1p30},   {"GB", 0x1p30}, {"GiB", 0x1p30}, {"T", 0x1p40},
	    {"TB", 0x1p40},  {"TiB", 0x1p40}};

	return parse_scaled(s, units, sizeof(units) / sizeof(units[0]), true,
	                    bytes, had_suffix);
}

int
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno == ERANGE || v < min || v > max) {
		errno = EINVAL;
		return -1;
	}
	*out = v;
	return 0;
}

int
parse_field_limit(const char *field, const char *s, double *limit)
{
	bool suffix;
	double v;

	if (parse_size(s, &v, &suffix) < 0)
		return -1;
	if (human_unit_of(field) == HUMAN_KIB)
		v /= 1024;
	*limit = v;
	return 0;
}

static const struct {
	const char *name;
	int sig;
} signals[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},
               {"ABRT", SIGABRT}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
               {"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},
               {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"CONT", SIGCONT},
               {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"WINCH", SIGWINCH},
               {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}, {"PWR", SIGPWR}};

int
parse_signal(const char *s, int *sig)
{
	long n;
	size_t i;

	if (parse_long(s, 1, SIGRTMAX, &n) == 0) {
		*sig = (int)n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (strcasecmp(s, signals[i].name) == 0) {
			*sig = signals[i].sig;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

const char *
parse_signal_name(int sig, char *buf)
{
	size_t i;

	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (signals[i].sig == sig)
			return signals[i].name;
	snprintf(buf, 16, "SIG%d", sig);
	return buf;
}

/* "min" into seconds; 0 when not a time. */
static double
per_time(const char *s)
{
	static const struct {
		const char *name;
		double s;
	} times[] = {{"s", 1},    {"sec", 1},     {"min", 60},  {"m", 60},
	             {"h", 3600}, {"hour", 3600}, {"d", 86400}, {"day", 86400}};
	size_t i;

	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		if (strcmp(s, times[i].name) == 0)
			return times[i].s;
	return 0;
}

int
parse_slope(const char *s, double *v, enum parse_slope_kind *kind)
{
	char amount[64];
	const char *slash = strchr(s, '/');
	double x, per = 86400;
	bool suffix;
	size_t n = slash ? (size_t)(slash - s) : strlen(s);

	errno = EINVAL;
	if (n == 0 || n >= sizeof(amount) ||
	    (slash && !(per = per_time(slash + 1))))
		return -1;
	memcpy(amount, s, n);
	amount[n] = '\0';
	if (amount[n - 1] == '%' || !slash) { /* "1%/day", "1%", "1" */
		if (amount[n - 1] == '%')
			amount[n - 1] = '\0';
		if (parse_size(amount, &x, &suffix) < 0 || suffix)
			return -1;
		*v = x * 86400 / per;
		*kind = PARSE_SLOPE_PCT_DAY;
		return 0;
	}
	if (parse_size(amount, &x, &suffix) < 0)
		return -1;
	*v = x / per;
	*kind = suffix ? PARSE_SLOPE_BYTES : PARSE_SLOPE_PLAIN;
	return 0;
}

/* n digits of s as a number; -1 when they are not all digits. */
static int
digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* A zone's offset from UTC in seconds ("Z", "+01:00", "-0530"); the
 * length read in *len, 0 when there is none. */
static int
zone_offset(const char *s, size_t n, size_t *len, long *off)
{
	int h, m = 0;

	*len = 0;
	*off = 0;
	if (n == 0)
		return 0;
	if (s[0] == 'Z') {
		*len = 1;
		return 0;
	}
	if ((s[0] != '+' && s[0] != '-') || n < 3 || (h = digits(s + 1, 2)) < 0)
		return -1;
	*len = 3;
	if (n >= 6 && s[3] == ':' && (m = digits(s + 4, 2)) >= 0)
		*len = 6;
	else if (n >= 5 && (m = digits(s + 3, 2)) >= 0)
		*len = 5;
	else
		m = 0;
	*off = (s[0] == '-' ? -1 : 1) * (h * 3600L + m * 60L);
	return 0;
}

int
parse_iso8601(const char *s, size_t n, double *ts)
{
	struct tm tm = {0};
	double frac = 0, scale = 0.1;
	size_t i = 19, zlen;
	long off;
	time_t t;

	errno = EINVAL;
	if (n < 16 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':')
		return -1;
	tm.tm_year = digits(s, 4) - 1900;
	tm.tm_mon = digits(s + 5, 2) - 1;
	tm.tm_mday = digits(s + 8, 2);
	tm.tm_hour = digits(s + 11, 2);
	tm.tm_min = digits(s + 14, 2);
	if (n >= 19 && s[16] == ':')
		tm.tm_sec = digits(s + 17, 2);
	else
		i = 16;
	if (tm.tm_year < -1899 || tm.tm_mon < 0 || tm.tm_mon > 11 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour < 0 ||
	    tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 ||
	    tm.tm_sec < 0 || tm.tm_sec > 60)
		return -1;
	if (i < n && (s[i] == '.' || s[i] == ','))
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
			frac += (s[i] - '0') * scale;
	if (zone_offset(s + i, n - i, &zlen, &off) < 0 || i + zlen != n)
		return -1;
	if (zlen > 0) {
		t = timegm(&tm);
		t -= off;
	} else {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	if (t == (time_t)-1 && !(tm.tm_year == 69 && tm.tm_mon == 11))
		return -1;
	*ts = (double)t + frac;
	return 0;
}
