#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	size_t n = strlen(field);
	bool suffix;
	double v;

	if (parse_size(s, &v, &suffix) < 0)
		return -1;
	if (n > 3 && strcmp(field + n - 3, "_kb") == 0)
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
