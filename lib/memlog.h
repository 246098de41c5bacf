/*
 * memlog: the logs of other memory recorders, line by line, as named
 * numbers with a time: psrecord's --log text, mprof's .dat, prmon's TSV
 * and plain CSV with a header.  Names and units are gxkit's (KiB in
 * *_kb fields, seconds); leak-classify(1) lists them per format.  A
 * struct memlog is the caller's and holds a header's column names;
 * nothing here allocates.  The line given must be NUL-terminated.
 */
#ifndef GXKIT_MEMLOG_H
#define GXKIT_MEMLOG_H

#include <stdbool.h>
#include <stddef.h>

enum memlog_format {
	MEMLOG_AUTO,
	MEMLOG_JSONL,
	MEMLOG_PSRECORD,
	MEMLOG_MPROF,
	MEMLOG_PRMON,
	MEMLOG_CSV
};

#define MEMLOG_COLUMNS  32
#define MEMLOG_NAME_MAX 32

struct memlog {
	enum memlog_format format;
	long child;     /* mprof: the CHLD id to take; -1: the MEM lines */
	long others[8]; /* CHLD ids seen and not taken, the first 8 */
	size_t nothers;
	size_t ncols;
	char names[MEMLOG_COLUMNS][MEMLOG_NAME_MAX];
	double scale[MEMLOG_COLUMNS]; /* to KiB, or 1 */
	int ts_col;                   /* -1 until a header names it */
	bool header;
};

/* "auto", "jsonl", "psrecord", "mprof", "prmon", "csv": 0, or -1. */
int memlog_parse_format(const char *s, enum memlog_format *f);
const char *memlog_format_name(enum memlog_format f);
/* The format a log's first non-blank line shows: psrecord's, mprof's and
 * prmon's first lines; MEMLOG_CSV for a comma-separated header naming a
 * ts, time or timestamp column; else MEMLOG_JSONL, whose reader says
 * what is wrong. */
enum memlog_format memlog_sniff(const char *line);

void memlog_init(struct memlog *m, enum memlog_format f, long child);

/*
 * One line.  1: a sample, *ts and values[0..*n) under names[] (pointers
 * into m, valid until the next header); 0: a header, comment or another
 * series' line; -1: malformed, with a reason in why.
 */
struct memlog_sample {
	double ts;
	size_t n;
	const char *names[MEMLOG_COLUMNS];
	double values[MEMLOG_COLUMNS];
};
int memlog_line(struct memlog *m, char *line, struct memlog_sample *s,
                const char **why);

#endif
