#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <csv.h>

#include "parse.h"
#include "regmap.h"

#ifndef GXKIT_MAPDIR
#define GXKIT_MAPDIR "/usr/local/share/gxkit/maps"
#endif

enum col {
	C_NAME,
	C_FC,
	C_ADDRESS,
	C_TYPE,
	C_SCALE,
	C_UNIT,
	C_DBUS,
	C_DESC,
	C_TEXT,
	C_INVALID,
	C_WRITE,
	C_COUNT
};
static const char *const col_names[C_COUNT] = {
    "name",      "fc",          "address", "type",    "scale", "unit",
    "dbus_path", "description", "text",    "invalid", "write"};
#define REQUIRED_COLS 8 /* all but text, invalid and write */

/* The parser's state between libcsv callbacks. */
struct loader {
	struct regmap *m;
	const char *file;
	unsigned long line;
	bool header_done, failed;
	int col_of[C_COUNT]; /* field index of each column, -1 if absent */
	int ncols;
	char *fields[32]; /* the current row */
	int nfields;
	char *err;
	size_t errlen;
	size_t cap;
};

static void
failf(struct loader *ld, int column, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ld->failed)
		return;
	ld->failed = true;
	n = snprintf(ld->err, ld->errlen, "%s:%lu:%d: ", ld->file, ld->line,
	             column);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < ld->errlen)
		vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static void
on_field(void *s, size_t len, void *data)
{
	struct loader *ld = data;
	char *f;

	if (ld->nfields >= 32) {
		failf(ld, ld->nfields + 1, "too many columns");
		return;
	}
	f = malloc(len + 1);
	if (f == NULL) {
		failf(ld, ld->nfields + 1, "out of memory");
		return;
	}
	memcpy(f, s ? s : "", len);
	f[len] = '\0';
	ld->fields[ld->nfields++] = f;
}

static void
header_row(struct loader *ld)
{
	int i, c;

	for (c = 0; c < C_COUNT; c++)
		ld->col_of[c] = -1;
	for (i = 0; i < ld->nfields; i++) {
		for (c = 0; c < C_COUNT; c++)
			if (strcmp(ld->fields[i], col_names[c]) == 0)
				break;
		if (c == C_COUNT) {
			failf(ld, i + 1, "unknown column '%s'", ld->fields[i]);
			return;
		}
		ld->col_of[c] = i;
	}
	for (c = 0; c < REQUIRED_COLS; c++)
		if (ld->col_of[c] < 0) {
			failf(ld, 1, "header lacks the column '%s'",
			      col_names[c]);
			return;
		}
	ld->ncols = ld->nfields;
	ld->header_done = true;
}

static const char *
field(struct loader *ld, enum col c)
{
	int i = ld->col_of[c];

	return i >= 0 && i < ld->nfields ? ld->fields[i] : "";
}

static int
column(struct loader *ld, enum col c)
{
	return ld->col_of[c] + 1;
}

static bool
parse_raw(const char *s, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 0);
	return *s != '\0' && *end == '\0' && errno == 0;
}

/* "0=waiting;1=normal;3=fault" */
static bool
parse_text(const char *s, struct mb_reg *r)
{
	char *copy = strdup(s), *tok, *save = NULL;
	bool ok = copy != NULL;

	for (tok = ok ? strtok_r(copy, ";", &save) : NULL; ok && tok != NULL;
	     tok = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(tok, '=');
		long raw;
		void *a, *b;

		if (eq == NULL || eq[1] == '\0') {
			ok = false;
			break;
		}
		*eq = '\0';
		if (!parse_raw(tok, &raw)) {
			ok = false;
			break;
		}
		a = realloc(r->text_raw, (r->ntext + 1) * sizeof(long));
		if (a != NULL)
			r->text_raw = a;
		b = realloc(r->text, (r->ntext + 1) * sizeof(char *));
		if (b != NULL)
			r->text = b;
		if (a == NULL || b == NULL) {
			ok = false;
			break;
		}
		r->text_raw[r->ntext] = raw;
		r->text[r->ntext] = strdup(eq + 1);
		if (r->text[r->ntext++] == NULL)
			ok = false;
	}
	free(copy);
	return ok;
}

/* "65535;0x7fff" */
static bool
parse_invalid(const char *s, struct mb_reg *r)
{
	char *copy = strdup(s), *tok, *save = NULL;
	bool ok = copy != NULL;

	for (tok = ok ? strtok_r(copy, ";", &save) : NULL; ok && tok != NULL;
	     tok = strtok_r(NULL, ";", &save)) {
		long raw, *a;

		a = realloc(r->invalid, (r->ninvalid + 1) * sizeof(long));
		if (a == NULL || !parse_raw(tok, &raw)) {
			if (a != NULL)
				r->invalid = a;
			ok = false;
			break;
		}
		r->invalid = a;
		r->invalid[r->ninvalid++] = raw;
	}
	free(copy);
	return ok;
}

/* "0..100": may be written, within these limits (in scaled units). */
static bool
parse_write(const char *s, struct mb_reg *r)
{
	const char *dots = strstr(s, "..");
	char low[64], *end;

	if (*s == '\0')
		return true;
	if (r->fc != MB_HOLDING || r->type == MB_STR || dots == NULL ||
	    dots == s || (size_t)(dots - s) >= sizeof(low))
		return false;
	/* strtod would take "0." of "0..100" */
	memcpy(low, s, (size_t)(dots - s));
	low[dots - s] = '\0';
	r->write_min = strtod(low, &end);
	if (*end != '\0')
		return false;
	s = dots + 2;
	r->write_max = strtod(s, &end);
	if (end == s || *end != '\0' || !(r->write_min <= r->write_max))
		return false;
	r->writable = true;
	return true;
}

static bool
valid_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!islower((unsigned char)*s) &&
		    !isdigit((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static char *
dup_or_null(const char *s)
{
	return *s != '\0' ? strdup(s) : NULL;
}

/* Name, function, address and type of a row into *r (which holds nothing
 * to free yet), or ld->failed. */
static void
row_where(struct loader *ld, struct mb_reg *r)
{
	long address;

	if (!valid_name(field(ld, C_NAME))) {
		failf(ld, column(ld, C_NAME), "name '%s' is not snake_case",
		      field(ld, C_NAME));
		return;
	}
	if (regmap_find(ld->m, field(ld, C_NAME)) != NULL) {
		failf(ld, column(ld, C_NAME), "register '%s' twice",
		      field(ld, C_NAME));
		return;
	}
	if (strcmp(field(ld, C_FC), "input") == 0)
		r->fc = MB_INPUT;
	else if (strcmp(field(ld, C_FC), "holding") == 0)
		r->fc = MB_HOLDING;
	else {
		failf(ld, column(ld, C_FC), "fc '%s' is not input or holding",
		      field(ld, C_FC));
		return;
	}
	if (!parse_raw(field(ld, C_ADDRESS), &address) || address < 0 ||
	    address > 65535) {
		failf(ld, column(ld, C_ADDRESS), "bad address '%s'",
		      field(ld, C_ADDRESS));
		return;
	}
	r->address = (uint16_t)address;
	if (mb_parse_type(field(ld, C_TYPE), &r->type, &r->words,
	                  &r->low_first) < 0) {
		failf(ld, column(ld, C_TYPE),
		      "unknown type '%s' (u16 s16 u32 s32 u64 s64 "
		      "f32, le suffix, str:N)",
		      field(ld, C_TYPE));
		return;
	}
	if (address + r->words > 65536) {
		failf(ld, column(ld, C_ADDRESS), "register runs past 65535");
		return;
	}
}

/* Scale, D-Bus path, texts, invalid values and write range into *r, or
 * ld->failed with r freed. */
static void
row_what(struct loader *ld, struct mb_reg *r)
{
	char *end;

	r->scale = 1;
	if (*field(ld, C_SCALE) != '\0') {
		r->scale = strtod(field(ld, C_SCALE), &end);
		if (*end != '\0' || !(r->scale != 0)) {
			failf(ld, column(ld, C_SCALE), "bad scale '%s'",
			      field(ld, C_SCALE));
			return;
		}
	}
	if (*field(ld, C_DBUS) != '\0' && field(ld, C_DBUS)[0] != '/') {
		failf(ld, column(ld, C_DBUS),
		      "dbus_path '%s' does not start with /",
		      field(ld, C_DBUS));
		return;
	}
	if (*field(ld, C_TEXT) != '\0' && !parse_text(field(ld, C_TEXT), r)) {
		mb_reg_free(r);
		failf(ld, column(ld, C_TEXT),
		      "bad text '%s' (want 0=waiting;1=normal)",
		      field(ld, C_TEXT));
		return;
	}
	if (*field(ld, C_INVALID) != '\0' &&
	    !parse_invalid(field(ld, C_INVALID), r)) {
		mb_reg_free(r);
		failf(ld, column(ld, C_INVALID), "bad invalid '%s'",
		      field(ld, C_INVALID));
		return;
	}
	if (!parse_write(field(ld, C_WRITE), r)) {
		mb_reg_free(r);
		failf(ld, column(ld, C_WRITE),
		      "bad write '%s' (MIN..MAX, holding numbers only)",
		      field(ld, C_WRITE));
		return;
	}
}

/* Check and store one data row; on error the register is freed. */
static void
data_row(struct loader *ld)
{
	struct mb_reg r;

	memset(&r, 0, sizeof(r));
	row_where(ld, &r);
	if (!ld->failed)
		row_what(ld, &r);
	if (ld->failed)
		return;
	r.name = strdup(field(ld, C_NAME));
	r.unit = dup_or_null(field(ld, C_UNIT));
	r.dbus_path = dup_or_null(field(ld, C_DBUS));
	r.description = dup_or_null(field(ld, C_DESC));
	if (ld->m->n == ld->cap) {
		size_t cap = ld->cap ? ld->cap * 2 : 32;
		struct mb_reg *a = realloc(ld->m->regs, cap * sizeof(*a));

		if (a == NULL) {
			mb_reg_free(&r);
			failf(ld, 1, "out of memory");
			return;
		}
		ld->m->regs = a;
		ld->cap = cap;
	}
	ld->m->regs[ld->m->n++] = r;
	if (r.name == NULL)
		failf(ld, 1, "out of memory");
}

static void
on_row(int c, void *data)
{
	struct loader *ld = data;
	int i;

	(void)c;
	if (!ld->failed) {
		if (!ld->header_done)
			header_row(ld);
		else if (ld->nfields != ld->ncols)
			failf(ld, ld->nfields + 1,
			      "%d fields where the header has %d", ld->nfields,
			      ld->ncols);
		else
			data_row(ld);
	}
	for (i = 0; i < ld->nfields; i++)
		free(ld->fields[i]);
	ld->nfields = 0;
}

/* "# max-registers: 45", "# min-gap: 850ms", "# probe: input 0",
 * "# identity: model=a serial=b firmware=c", "# vendor: growatt"; other
 * comments are prose. */
static void
directive(struct loader *ld, const char *line)
{
	struct regmap *m = ld->m;
	char key[32], val[200], fc[16];
	long n;

	if (sscanf(line, "# %31[a-z-]: %199[^\n]", key, val) != 2)
		return;
	if (strcmp(key, "max-registers") == 0 || strcmp(key, "max-hole") == 0) {
		if (parse_long(val, strcmp(key, "max-hole") == 0 ? 0 : 1,
		               MB_MAX_READ, &n) < 0) {
			failf(ld, 3, "bad %s '%s'", key, val);
			return;
		}
		*(key[4] == 'r' ? &m->max_registers : &m->max_hole) = (int)n;
	} else if (strcmp(key, "min-gap") == 0) {
		if (parse_duration(val, &m->min_gap_ms) < 0) {
			failf(ld, 3, "bad min-gap '%s'", val);
			return;
		}
	} else if (strcmp(key, "probe") == 0) {
		if (sscanf(val, "%15s %ld", fc, &n) != 2 || n < 0 ||
		    n > 65535 ||
		    (strcmp(fc, "input") != 0 && strcmp(fc, "holding") != 0)) {
			failf(ld, 3, "bad probe '%s' (input 0)", val);
			return;
		}
		m->probe_fc = fc[0] == 'i' ? MB_INPUT : MB_HOLDING;
		m->probe_address = (uint16_t)n;
	} else if (strcmp(key, "vendor") == 0) {
		if (strspn(val, "abcdefghijklmnopqrstuvwxyz0123456789") !=
		    strlen(val)) {
			failf(ld, 3, "bad vendor '%s' (a-z, 0-9)", val);
			return;
		}
		free(m->vendor);
		m->vendor = strdup(val);
	} else if (strcmp(key, "identity") == 0) {
		char *copy = strdup(val), *tok, *save = NULL;

		for (tok = copy ? strtok_r(copy, " ", &save) : NULL; tok;
		     tok = strtok_r(NULL, " ", &save)) {
			char **slot =
			    strncmp(tok, "model=", 6) == 0      ? &m->model
			    : strncmp(tok, "serial=", 7) == 0   ? &m->serial
			    : strncmp(tok, "firmware=", 9) == 0 ? &m->firmware
			                                        : NULL;

			if (slot == NULL) {
				failf(ld, 3, "bad identity '%s'", tok);
				break;
			}
			free(*slot);
			*slot = strdup(strchr(tok, '=') + 1);
		}
		free(copy);
	}
}

/*
 * Where a short map name lives: $GXKIT_MAPS; next to the binary, where a
 * GX tarball keeps them (bin/../share/maps), a relocated install
 * (bin/../share/gxkit/maps) or the source tree (build/bin/../../lib/maps);
 * else the installed map directory.
 */
static char *
find_map(const char *name)
{
	static const char *const near[] = {
	    "../share/maps", "../share/gxkit/maps", "../../lib/maps"};
	char exe[4096], path[4600], *slash;
	const char *env = getenv("GXKIT_MAPS");
	ssize_t n;

	if (strchr(name, '/') != NULL || strstr(name, ".csv") != NULL)
		return strdup(name);
	if (env != NULL) {
		snprintf(path, sizeof(path), "%s/%s.csv", env, name);
		if (access(path, R_OK) == 0)
			return strdup(path);
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		for (size_t i = 0; slash != NULL && i < 3; i++) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/%s/%s.csv", exe,
			         near[i], name);
			if (access(path, R_OK) == 0)
				return strdup(path);
		}
	}
	snprintf(path, sizeof(path), "%s/%s.csv", GXKIT_MAPDIR, name);
	return strdup(path);
}

static int
parse_file(FILE *fp, struct loader *ld)
{
	struct csv_parser p;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		return -1;
	while (!ld->failed && (n = getline(&line, &cap, fp)) > 0) {
		ld->line++;
		if (line[0] == '#') {
			if (!ld->header_done)
				directive(ld, line);
			continue;
		}
		if (line[0] == '\n' || (line[0] == '\r' && line[1] == '\n'))
			continue;
		if (csv_parse(&p, line, (size_t)n, on_field, on_row, ld) !=
		    (size_t)n)
			failf(ld, ld->nfields + 1, "%s",
			      csv_strerror(csv_error(&p)));
	}
	if (!ld->failed && csv_fini(&p, on_field, on_row, ld) != 0)
		failf(ld, ld->nfields + 1, "%s", csv_strerror(csv_error(&p)));
	csv_free(&p);
	free(line);
	for (n = 0; n < ld->nfields; n++)
		free(ld->fields[n]);
	return ld->failed ? -1 : 0;
}

int
regmap_load(const char *name, struct regmap *m, char *err, size_t errlen)
{
	struct loader ld;
	const char *base;
	FILE *fp;

	memset(m, 0, sizeof(*m));
	memset(&ld, 0, sizeof(ld));
	m->max_registers = MB_MAX_READ;
	m->max_hole = 16;
	m->probe_fc = MB_INPUT;
	m->path = find_map(name);
	if (m->path == NULL)
		return -1;
	base = strrchr(m->path, '/') ? strrchr(m->path, '/') + 1 : m->path;
	m->name = strndup(base, strcspn(base, "."));
	ld.m = m;
	ld.file = m->path;
	ld.err = err;
	ld.errlen = errlen;
	fp = fopen(m->path, "r");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", m->path, strerror(errno));
		regmap_free(m);
		return -1;
	}
	if (parse_file(fp, &ld) == 0 && m->n == 0) {
		ld.line = ld.line ? ld.line : 1;
		failf(&ld, 1, "no registers");
	}
	fclose(fp);
	if (ld.failed) {
		regmap_free(m);
		return -1;
	}
	return 0;
}

const struct mb_reg *
regmap_find(const struct regmap *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->regs[i].name, name) == 0)
			return &m->regs[i];
	return NULL;
}

/* Mark the registers named in one "NAME[,NAME...]" list; 0, or -1 with
 * the name not found in err. */
static int
mark_named(const struct regmap *m, const char *list, bool *keep, char *err,
           size_t errlen)
{
	const char *p = list;

	while (*p != '\0') {
		size_t len = strcspn(p, ","), i;
		bool found = false;

		for (i = 0; i < m->n; i++)
			if (strlen(m->regs[i].name) == len &&
			    strncmp(m->regs[i].name, p, len) == 0)
				found = keep[i] = true;
		if (!found) {
			snprintf(err, errlen, "no register '%.*s' in %s",
			         (int)len, p, m->name);
			return -1;
		}
		p += len + (p[len] == ',');
	}
	return 0;
}

int
regmap_select(struct regmap *m, const char *const *lists, size_t nlists,
              char *err, size_t errlen)
{
	bool *keep = calloc(m->n ? m->n : 1, sizeof(bool));
	size_t i, k = 0;

	if (keep == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < nlists; i++)
		if (mark_named(m, lists[i], keep, err, errlen) < 0) {
			free(keep);
			return -1;
		}
	for (i = 0; i < m->n; i++) {
		if (keep[i])
			m->regs[k++] = m->regs[i];
		else
			mb_reg_free(&m->regs[i]);
	}
	m->n = k;
	free(keep);
	return 0;
}

void
regmap_free(struct regmap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		mb_reg_free(&m->regs[i]);
	free(m->regs);
	free(m->path);
	free(m->name);
	free(m->model);
	free(m->vendor);
	free(m->serial);
	free(m->firmware);
	memset(m, 0, sizeof(*m));
}
