/*
 * print: one call per fact serves text and JSON alike, as iproute2's
 * print_*(PRINT_ANY, key, fmt, value) do.  A printer writes text to a
 * FILE or members into a jsonl_writer record the caller began; each call
 * says in which forms its value shows (PRINT_TEXT, PRINT_JSON, both).
 * Text that does not follow the JSON's order is put together as a line:
 * print_line() gives its template, whose $1..$9 are the texts of the next
 * values given, in order, until print_line_end() writes it.  The printer
 * owns nothing; write errors show on the FILE or in the writer.
 */
#ifndef GXKIT_PRINT_H
#define GXKIT_PRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jsonl.h"

enum print_kind { PRINT_TEXT = 1, PRINT_JSON = 2, PRINT_ANY = 3 };

#define PRINT_SLOTS    9
#define PRINT_LINE_MAX 4096

struct printer {
	FILE *fp;               /* text */
	struct jsonl_writer *w; /* JSON; NULL for text */
	const char *tmpl;       /* the line being put together, or NULL */
	bool left_out;          /* a line the text leaves out, values too */
	char slots[PRINT_LINE_MAX];
	size_t used;
	size_t at[PRINT_SLOTS];
	int nslot;
};

void print_text_init(struct printer *p, FILE *fp);
void print_json_init(struct printer *p, struct jsonl_writer *w);
bool print_is_json(const struct printer *p);

/*
 * Text, when kind has PRINT_TEXT: the template of a line, filled by the
 * next values; a line kind leaves out takes its values' text with it.
 * JSON: nothing.
 */
void print_line(struct printer *p, int kind, const char *tmpl);
void print_line_end(struct printer *p);

/*
 * A value under key (NULL inside arrays): JSON writes it, text prints
 * fmt with it (printf-style, of the value's C type).  A string NULL is
 * null in JSON; a NaN number is null.
 */
void print_str(struct printer *p, int kind, const char *key, const char *fmt,
               const char *s);
void print_strn(struct printer *p, int kind, const char *key, const char *s,
                size_t n);
void print_num(struct printer *p, int kind, const char *key, const char *fmt,
               double v);
void print_uint(struct printer *p, int kind, const char *key, const char *fmt,
                uint64_t v);
/* The same value in two forms: v in JSON, text as given (a size said in
 * its units, a duration in words, a flag as a phrase). */
void print_num_as(struct printer *p, int kind, const char *key, double v,
                  const char *text);
void print_bool_as(struct printer *p, int kind, const char *key, bool v,
                   const char *text);

/* JSON's containers (text has none). */
void print_open_object(struct printer *p, const char *key);
void print_close_object(struct printer *p);
void print_open_array(struct printer *p, const char *key);
void print_close_array(struct printer *p);

#endif
