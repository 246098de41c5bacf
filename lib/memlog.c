#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "memlog.h"
#include "parse.h"

static const char *const format_names[] = {
    [MEMLOG_AUTO] = "auto",         [MEMLOG_JSONL] = "jsonl",
    [MEMLOG_PSRECORD] = "psrecord", [MEMLOG_MPROF] = "mprof",
    [MEMLOG_PRMON] = "prmon",       [MEMLOG_CSV] = "csv"};

int
memlog_parse_format(const char *s, enum memlog_format *f)
{
	size_t i;

	for (i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
		if (strcmp(s, format_names[i]) == 0) {
			*f = (enum memlog_format)i;
			return 0;
		}
	return -1;
}

const char *
memlog_format_name(enum memlog_format f)
{
	return f <= MEMLOG_CSV ? format_names[f] : "?";
}

static bool
is_time_name(const char *s)
{
	return strcasecmp(s, "ts") == 0 || strcasecmp(s, "time") == 0 ||
	       strcasecmp(s, "timestamp") == 0;
}

/* A CSV header: commas, and one field (quotes and blanks aside) that
 * names the time. */
static bool
csv_header_like(const char *line)
{
	const char *p = line;

	if (strchr(line, ',') == NULL)
		return false;
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char field[16];

		while (n > 0 && (*p == ' ' || *p == '"'))
			p++, n--;
		while (n > 0 &&
		       (p[n - 1] == ' ' || p[n - 1] == '"' || p[n - 1] == '\r'))
			n--;
		if (n < sizeof(field)) {
			memcpy(field, p, n);
			field[n] = '\0';
			if (is_time_name(field))
				return true;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return false;
}

enum memlog_format
memlog_sniff(const char *line)
{
	while (isspace((unsigned char)*line))
		line++;
	if (*line == '{')
		return MEMLOG_JSONL;
	if (strncmp(line, "# Elapsed time", 14) == 0)
		return MEMLOG_PSRECORD;
	if (strncmp(line, "CMDLINE ", 8) == 0 || strncmp(line, "MEM ", 4) == 0)
		return MEMLOG_MPROF;
	if (strncmp(line, "Time\t", 5) == 0)
		return MEMLOG_PRMON;
	return csv_header_like(line) ? MEMLOG_CSV
	                             : MEMLOG_JSONL; /* whose reader says
	                                              * what is wrong */
}

void
memlog_init(struct memlog *m, enum memlog_format f, long child)
{
	memset(m, 0, sizeof(*m));
	m->format = f;
	m->child = child;
	m->ts_col = -1;
}

/* Split at sep (' ': runs of blanks) in place; CSV quotes kept whole. */
static size_t
split(char *line, char sep, char **fields, size_t cap)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		char *start, *w;
		bool quoted;

		if (sep == ' ')
			while (*p == ' ' || *p == '\t')
				p++;
		if (sep == ' ' && *p == '\0')
			return n;
		quoted = sep == ',' && *p == '"';
		start = w = p + quoted;
		for (p = start; *p != '\0'; p++) {
			if (quoted && *p == '"' && p[1] == '"')
				p++; /* "" is one quote */
			else if (quoted && *p == '"') {
				quoted = false;
				continue;
			} else if (!quoted &&
			           (sep == ' ' ? *p == ' ' || *p == '\t'
			                       : *p == sep))
				break;
			*w++ = *p;
		}
		if (n == cap)
			return cap + 1;
		fields[n++] = start;
		if (*p == '\0') {
			*w = '\0';
			return n;
		}
		*w = '\0';
		p++;
	}
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* A number, all of s; NAN when it is none. */
static double
number(char *s)
{
	char *end;
	double v;

	s = trim(s);
	if (*s == '\0')
		return NAN;
	v = strtod(s, &end);
	return *trim(end) == '\0' ? v : NAN;
}

/* Unix seconds, or an ISO 8601 time as parse_iso8601() reads it. */
static double
timestamp(char *s)
{
	double t = number(s);

	if (isnan(t)) {
		s = trim(s);
		if (parse_iso8601(s, strlen(s), &t) < 0)
			return NAN;
	}
	return t;
}

static void
set_column(struct memlog *m, size_t i, const char *name, double scale)
{
	snprintf(m->names[i], MEMLOG_NAME_MAX, "%s", name);
	m->scale[i] = scale;
}

/* prmon's names (kB from smaps, counts) as gxkit's. */
static void
prmon_column(struct memlog *m, size_t i, const char *name)
{
	static const char *const rename[][2] = {
	    {"rss", "rss_kb"},   {"pss", "pss_kb"},       {"vmem", "vsz_kb"},
	    {"swap", "swap_kb"}, {"nthreads", "threads"}, {"nprocs", "nproc"},
	    {"wtime", "wtime_s"}};
	size_t k;

	for (k = 0; k < sizeof(rename) / sizeof(rename[0]); k++)
		if (strcmp(name, rename[k][0]) == 0) {
			set_column(m, i, rename[k][1], 1);
			return;
		}
	set_column(m, i, name, 1);
}

/* A header row: column names; the time column found. */
static int
header(struct memlog *m, char **f, size_t n, const char **why)
{
	size_t i;

	if (n > MEMLOG_COLUMNS) {
		*why = "more than 32 columns";
		return -1;
	}
	m->ncols = n;
	m->ts_col = -1;
	for (i = 0; i < n; i++) {
		char *name = trim(f[i]);

		if (m->format == MEMLOG_PRMON)
			prmon_column(m, i, name);
		else
			set_column(m, i, name, 1);
		if (m->ts_col < 0 && is_time_name(name))
			m->ts_col = (int)i;
	}
	if (m->ts_col < 0) {
		*why = "no ts, time or timestamp column in the header";
		return -1;
	}
	m->header = true;
	return 0;
}

/* psrecord: "# Elapsed time CPU (%) Real (MB) Virtual (MB) [USS (MB)]". */
static void
psrecord_header(struct memlog *m, const char *line)
{
	m->ncols = strstr(line, "USS") != NULL ? 5 : 4;
	set_column(m, 0, "elapsed_s", 1);
	set_column(m, 1, "cpu_pct", 1);
	set_column(m, 2, "rss_kb", 1024); /* psutil's bytes / 1024 ** 2 */
	set_column(m, 3, "vsz_kb", 1024);
	set_column(m, 4, "uss_kb", 1024);
	m->ts_col = 0;
	m->header = true;
}

static int
columns(struct memlog *m, char **f, size_t n, struct memlog_sample *s,
        const char **why)
{
	size_t i;

	if (n != m->ncols) {
		*why = "not as many fields as the header names";
		return -1;
	}
	s->ts = m->format == MEMLOG_CSV ? timestamp(f[m->ts_col])
	                                : number(f[m->ts_col]);
	if (isnan(s->ts)) {
		*why = "no time";
		return -1;
	}
	s->n = 0;
	for (i = 0; i < n; i++) {
		if ((int)i == m->ts_col)
			continue;
		s->names[s->n] = m->names[i];
		s->values[s->n++] = number(f[i]) * m->scale[i];
	}
	return 1;
}

/* A CHLD series not taken, for the message that names them. */
static void
note_other(struct memlog *m, double id)
{
	size_t i;

	if (!(id >= 0 && id < 1e9))
		return;
	for (i = 0; i < m->nothers; i++)
		if (m->others[i] == (long)id)
			return;
	if (m->nothers < sizeof(m->others) / sizeof(m->others[0]))
		m->others[m->nothers++] = (long)id;
}

/* mprof: "MEM MiB ts", "CHLD idx MiB ts"; CMDLINE and FUNC are not
 * samples. */
static int
mprof_line(struct memlog *m, char **f, size_t n, struct memlog_sample *s,
           const char **why)
{
	bool mem = n == 3 && strcmp(f[0], "MEM") == 0,
	     chld = n == 4 && strcmp(f[0], "CHLD") == 0;
	double mib, ts;

	if (n > 0 &&
	    (strcmp(f[0], "CMDLINE") == 0 || strcmp(f[0], "FUNC") == 0))
		return 0;
	if (!mem && !chld) {
		*why = "not an mprof MEM, CHLD, FUNC or CMDLINE line";
		return -1;
	}
	if (chld && number(f[1]) != (double)m->child) {
		note_other(m, number(f[1]));
		return 0; /* another series */
	}
	if (mem && m->child >= 0)
		return 0;
	mib = number(f[mem ? 1 : 2]);
	ts = number(f[mem ? 2 : 3]);
	if (isnan(mib) || isnan(ts)) {
		*why = "not numbers";
		return -1;
	}
	s->ts = ts;
	s->n = 1;
	s->names[0] = "rss_kb";
	s->values[0] = mib * 1024; /* memory_profiler: bytes / 2 ** 20 */
	return 1;
}

int
memlog_line(struct memlog *m, char *line, struct memlog_sample *s,
            const char **why)
{
	char *f[MEMLOG_COLUMNS + 1];
	size_t n;
	char sep = m->format == MEMLOG_PRMON ? '\t'
	           : m->format == MEMLOG_CSV ? ','
	                                     : ' ';

	*why = NULL;
	if (*trim(line) == '\0')
		return 0;
	if (m->format == MEMLOG_PSRECORD && line[0] == '#') {
		psrecord_header(m, line);
		return 0;
	}
	n = split(line, sep, f, MEMLOG_COLUMNS);
	if (n > MEMLOG_COLUMNS) {
		*why = "more than 32 fields";
		return -1;
	}
	switch (m->format) {
	case MEMLOG_MPROF:
		return mprof_line(m, f, n, s, why);
	case MEMLOG_PSRECORD:
		if (!m->header) /* no header: by the count of fields */
			psrecord_header(m, n == 5 ? "USS" : "");
		return columns(m, f, n, s, why);
	case MEMLOG_PRMON:
	case MEMLOG_CSV:
		if (!m->header)
			return header(m, f, n, why) < 0 ? -1 : 0;
		return columns(m, f, n, s, why);
	default:
		*why = "not a log format";
		return -1;
	}
}
