/*
 * jsonl: JSON Lines records.  The writer owns one growable line buffer per
 * struct jsonl_writer and reports write errors through jsonl_end()'s return
 * (errno kept); the reader owns its line buffer, reports malformed lines on
 * stderr with file and line number, counts them and never fails on input.
 * Callers own the jansson trees jsonl_parse_line() hands out (json_decref
 * them).
 */
#ifndef GXKIT_JSONL_H
#define GXKIT_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

/* ---- writer ---------------------------------------------------------- */

#define JSONL_MAX_DEPTH 32

struct jsonl_writer {
	FILE *fp;
	char *buf;
	size_t len, cap;
	int depth;
	bool first[JSONL_MAX_DEPTH]; /* no member written yet at this depth */
	bool gone;                   /* the reader closed the pipe */
	bool failed;                 /* out of memory while building */
	int error; /* jsonl_flush_fd(): errno of the first failure, or 0 */
	const struct jsonl_tags *tags; /* after "src" in every record */
};

/*
 * --tag KEY=VALUE: fields every record gets after "src", kept as their
 * JSON text.  The struct owns the text (jsonl_tags_free()).  Keys are
 * snake_case, at most 63 bytes, not ts or src, each once; values are
 * strings.
 */
#define JSONL_TAG_KEY_MAX 63
struct jsonl_tags {
	char *json; /* ,"key":"value"... */
	size_t len, cap;
	unsigned n;
};
/* 0, or -1 with the reason in err. */
int jsonl_tags_add(struct jsonl_tags *t, const char *kv, char *err,
                   size_t errlen);
void jsonl_tags_free(struct jsonl_tags *t);

void jsonl_writer_init(struct jsonl_writer *w, FILE *fp);
void jsonl_writer_free(struct jsonl_writer *w);

/* Start a record with "ts" (from a CLOCK_REALTIME timespec) and "src". */
void jsonl_begin(struct jsonl_writer *w, const struct timespec *ts,
                 const char *src);
/* Finish the line and write it; 0, or -1 with errno (EPIPE: w->gone). */
int jsonl_end(struct jsonl_writer *w);

void jsonl_key(struct jsonl_writer *w, const char *key);
void jsonl_str(struct jsonl_writer *w, const char *key, const char *s);
void jsonl_strn(struct jsonl_writer *w, const char *key, const char *s,
                size_t n);
void jsonl_double(struct jsonl_writer *w, const char *key, double v);
void jsonl_int(struct jsonl_writer *w, const char *key, int64_t v);
void jsonl_uint(struct jsonl_writer *w, const char *key, uint64_t v);
void jsonl_bool(struct jsonl_writer *w, const char *key, bool v);
void jsonl_null(struct jsonl_writer *w, const char *key);
/* Nested containers; key NULL inside arrays. */
void jsonl_object_open(struct jsonl_writer *w, const char *key);
void jsonl_object_close(struct jsonl_writer *w);
void jsonl_array_open(struct jsonl_writer *w, const char *key);
void jsonl_array_close(struct jsonl_writer *w);

/*
 * Shortest decimal form of v that reads back as the same double; "null"
 * for NaN and infinities.  buf needs JSONL_DOUBLE_MAX bytes; returns the
 * length.
 */
#define JSONL_DOUBLE_MAX 32
size_t jsonl_format_double(char *buf, double v);

/* Append n bytes the caller has already made valid JSON (fast writers
 * that keep their own commas). */
void jsonl_raw(struct jsonl_writer *w, const char *s, size_t n);
/* At least n free bytes at the end of w's buffer, for the caller to write
 * into and add to w->len; NULL (and w->failed) when memory ran out. */
char *jsonl_room(struct jsonl_writer *w, size_t n);
/* Append s as a JSON string (quotes, escapes, invalid UTF-8 as U+FFFD). */
void jsonl_append_string(struct jsonl_writer *w, const char *s, size_t n);

/* ---- buffered output (lib/jsonl_out.c) ------------------------------- */

/*
 * For tools that write millions of lines: they format straight into the
 * writer's buffer with jsonl_put_*() (the caller writes the commas) and
 * send it with jsonl_flush_fd() once it holds JSONL_FLUSH_AT bytes, with
 * write(2): stdio would copy it again.  The writer keeps its error state:
 * after the first failure (w->error: its errno, ENOMEM when building ran
 * out of memory) every flush fails at once and drops what it holds.
 */
#define JSONL_FLUSH_AT 65536

/* jsonl_room() without a call when the room is there (every value). */
static inline char *
jsonl_room_fast(struct jsonl_writer *w, size_t n)
{
	if (w->cap - w->len >= n)
		return w->buf + w->len;
	return jsonl_room(w, n);
}

static inline void
jsonl_put(struct jsonl_writer *w, const char *s, size_t n)
{
	char *p = jsonl_room_fast(w, n);

	if (p != NULL) {
		memcpy(p, s, n);
		w->len += n;
	}
}

static inline void
jsonl_put_char(struct jsonl_writer *w, char c)
{
	char *p = jsonl_room_fast(w, 1);

	if (p != NULL) {
		*p = c;
		w->len++;
	}
}

void jsonl_put_str(struct jsonl_writer *w, const char *s);
void jsonl_put_u64(struct jsonl_writer *w, uint64_t v);
void jsonl_put_i64(struct jsonl_writer *w, int64_t v);
/* Shortest round-trip form; "null" when not finite. */
void jsonl_put_double(struct jsonl_writer *w, double v);
/* Seconds from nanoseconds, exactly: "1700000000.00001". */
void jsonl_put_seconds(struct jsonl_writer *w, int64_t ns);

/*
 * A row's stamp twice, as exact seconds and as nanoseconds, with fixed
 * text between them (JSON: ,"src":"x","t_ns": or a CSV delimiter).  The
 * seconds' digits are kept for the next stamp in the same second.
 */
#define JSONL_STAMP_MAX (24 + 10 + 32 + 24 + 9)
struct jsonl_stamp {
	char between[32];
	size_t between_len;
	char sec_text[24]; /* the digits of sec_cached */
	size_t sec_len;
	uint64_t sec_cached;
};
void jsonl_stamp_init(struct jsonl_stamp *st, const char *between);
void jsonl_put_stamp(struct jsonl_writer *w, struct jsonl_stamp *st,
                     int64_t ns);

/* A CSV cell: s as is, or quoted (RFC 4180) when it holds a quote, a line
 * break or delim. */
void jsonl_put_csv(struct jsonl_writer *w, const char *s, size_t n, char delim);

/* Write what w holds to fd; 0, or -1 with errno (EPIPE: w->gone). */
int jsonl_flush_fd(struct jsonl_writer *w, int fd);

/* ---- reader ---------------------------------------------------------- */

/* Lines longer than this are reported and skipped (DESIGN: 1 MiB). */
#define JSONL_MAX_LINE (1u << 20)

struct jsonl_reader {
	FILE *fp;         /* read through its descriptor, never through stdio */
	const char *name; /* for messages: file name or "-" */
	char *buf;        /* block buffer; lines are handed out inside it */
	size_t cap, start, end;
	size_t max_line; /* longer lines are skipped (JSONL_MAX_LINE) */
	bool eof;
	bool skipping;         /* inside a line longer than max_line */
	char *line;            /* the current line, NUL-terminated */
	size_t len;            /* length of the current line */
	uint64_t lineno;       /* of the current line */
	uint64_t malformed;    /* lines that were not a JSON object */
	uint64_t too_long;     /* of them, lines longer than max_line */
	uint64_t reported;     /* messages printed so far */
	uint64_t report_limit; /* stop printing after this many (0: none) */
};

void jsonl_reader_init(struct jsonl_reader *r, FILE *fp, const char *name);
void jsonl_reader_free(struct jsonl_reader *r);

/*
 * Next non-blank line into r->line (NUL-terminated, newline stripped).
 * Returns 1, 0 at end of input, -1 on a read error (errno set).
 */
int jsonl_next_line(struct jsonl_reader *r);

/*
 * The length of a daemontools multilog label at the start of line ("@"
 * and 24 hex digits of TAI64N, then a space: multilog's t), else 0.
 */
size_t jsonl_tai64n_label(const char *line, size_t len);

/*
 * For poll(2) loops: jsonl_read_some() reads once (1 data, 0 end of input,
 * -1 error); jsonl_take_line() then hands out each whole non-blank line
 * already read (1), or 0 when none is left.
 */
int jsonl_read_some(struct jsonl_reader *r);
int jsonl_take_line(struct jsonl_reader *r);

/* Parse the current line with jansson; NULL (counted, reported) if it is
 * not a JSON object. */
json_t *jsonl_parse_line(struct jsonl_reader *r);

/* Report the current line as malformed with a reason; counts it. */
void jsonl_report(struct jsonl_reader *r, const char *why, int column);
/* After the input: a summary when reports were cut short. */
void jsonl_report_summary(const struct jsonl_reader *r);

/* ---- fast field scanner ---------------------------------------------- */

/*
 * Validate one line as a JSON object (RFC 8259, as strict as jansson) and
 * pick out the top-level members named in fields[] without building a
 * tree.  Strings are returned as spans into the line, unescaped only when
 * they held no escapes (str_escaped tells).  Returns 0, or -1 with the
 * 1-based column of the first error in *column.
 */
enum jsonl_type {
	JSONL_ABSENT,
	JSONL_NULL,
	JSONL_FALSE,
	JSONL_TRUE,
	JSONL_NUMBER,
	JSONL_STRING,
	JSONL_OBJECT,
	JSONL_ARRAY
};

struct jsonl_field {
	const char *name;
	enum jsonl_type type;
	double num;
	const char *str; /* inside the line, without the quotes */
	size_t str_len;
	bool str_escaped;
};

int jsonl_scan(const char *line, size_t len, struct jsonl_field *fields,
               size_t nfields, int *column);

/* The same with the field list prepared once (jsonl_scanner_init), for
 * readers that scan millions of lines for the same fields.  A name asked
 * for twice fills both fields. */
#define JSONL_SCAN_KEY_MAX    63
#define JSONL_SCAN_FIELDS_MAX 32
struct jsonl_scanner {
	struct jsonl_field *fields; /* owned by the caller */
	size_t n;
	unsigned char by_len[JSONL_SCAN_KEY_MAX + 1];
	unsigned char next_same_len[JSONL_SCAN_FIELDS_MAX];
	uint64_t head[JSONL_SCAN_FIELDS_MAX]; /* first 8 bytes of each name */
	unsigned char same_as[JSONL_SCAN_FIELDS_MAX]; /* first field with
	                                               * the same name */
};
void jsonl_scanner_init(struct jsonl_scanner *sc, struct jsonl_field *fields,
                        size_t nfields);
int jsonl_scan_with(const struct jsonl_scanner *sc, const char *line,
                    size_t len, int *column);

#endif
