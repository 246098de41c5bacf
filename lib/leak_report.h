/*
 * leak_report: a verdict of leak-classify printed, once, through lib/print:
 * the report people read, or the JSON verdict object, with the same facts
 * in each; and the --by table's row.  A struct leak_report only points at
 * what it prints (the caller owns all of it), so a group is printed
 * without copying anything.  The words of the verdict are leak_reason()'s
 * and where_reason()'s.
 */
#ifndef GXKIT_LEAK_REPORT_H
#define GXKIT_LEAK_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "leak.h"
#include "print.h"
#include "where.h"

struct leak_report {
	const char *field;
	const struct leak_rules *rules;   /* the limit in field units */
	const struct leak_stream *stream; /* the series, the earlier lives */
	const struct leak_result *res;
	const struct where_findings *where; /* NULL: no maps read */
	const char *alloc_field;            /* --alloc-field, or NULL */
	uint64_t malformed, skipped;        /* of the input */
	uint64_t bad_ts;                    /* stamps not positive, finite */
	bool verbose; /* the statistics in the text too (-v) */
	/* --by: the group's fields, and their values (FLEET_SEP between) */
	const char *const *by;
	int nby;
	const char *key;
	size_t key_len;
};

/* The verdict's reason in words: leak_reason() or where_reason(). */
void leak_report_reason(char *buf, size_t cap, const struct leak_report *v);

/* The report (text) or the verdict's members (JSON) into p. */
void leak_report_print(struct printer *p, const struct leak_report *v);

/*
 * The whole of it to fp: the report, or one JSON line stamped now.  0,
 * or -1 with errno when the JSON line could not be written (EPIPE: the
 * reader left).
 */
int leak_report_write(FILE *fp, bool json, const struct leak_report *v);

/* --by's table, worst first: its header, then one row per group. */
void leak_report_table_header(FILE *fp);
void leak_report_table_row(FILE *fp, const struct leak_report *v);

#endif
