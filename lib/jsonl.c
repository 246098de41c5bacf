#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dtoa.h"
#include "jsonl.h"
#include "msg.h"

/* ---- writer ---------------------------------------------------------- */

void
jsonl_writer_init(struct jsonl_writer *w, FILE *fp)
{
	memset(w, 0, sizeof(*w));
	w->fp = fp;
}

void
jsonl_writer_free(struct jsonl_writer *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

/* Make room for n more bytes; the buffer only grows, so steady-state
 * records allocate nothing. */
static bool
reserve(struct jsonl_writer *w, size_t n)
{
	size_t cap;
	char *p;

	if (w->len + n <= w->cap)
		return true;
	cap = w->cap ? w->cap : 256;
	while (cap < w->len + n)
		cap *= 2;
	p = realloc(w->buf, cap);
	if (p == NULL) {
		w->failed = true;
		return false;
	}
	w->buf = p;
	w->cap = cap;
	return true;
}

static void
append(struct jsonl_writer *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void
append_char(struct jsonl_writer *w, char c)
{
	if (reserve(w, 1))
		w->buf[w->len++] = c;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t
utf8_valid_len(const unsigned char *s, size_t n)
{
	unsigned int c = s[0], cp;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

void
jsonl_append_string(struct jsonl_writer *w, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run;

	append_char(w, '"');
	while (i < n) {
		unsigned char c = s[i];

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			for (run = i;
			     run < n && s[run] >= 0x20 && s[run] < 0x80 &&
			     s[run] != '"' && s[run] != '\\';
			     run++)
				;
			append(w, str + i, run - i);
			i = run;
			continue;
		}
		if (c >= 0x80) {
			size_t len = utf8_valid_len(s + i, n - i);

			if (len == 0) {
				append(w, "\xef\xbf\xbd", 3); /* U+FFFD */
				len = 1;
			} else {
				append(w, str + i, len);
			}
			i += len;
			continue;
		}
		switch (c) {
		case '"':
			append(w, "\\\"", 2);
			break;
		case '\\':
			append(w, "\\\\", 2);
			break;
		case '\n':
			append(w, "\\n", 2);
			break;
		case '\t':
			append(w, "\\t", 2);
			break;
		case '\r':
			append(w, "\\r", 2);
			break;
		case '\b':
			append(w, "\\b", 2);
			break;
		case '\f':
			append(w, "\\f", 2);
			break;
		default: {
			char u[6] = {'\\', 'u',         '0',
			             '0',  hex[c >> 4], hex[c & 15]};
			append(w, u, 6);
		}
		}
		i++;
	}
	append_char(w, '"');
}

/* Digits of a non-negative integer, backwards into the end of buf. */
static size_t
format_integer(char *buf, double v)
{
	char tmp[24];
	uint64_t u = (uint64_t)fabs(v);
	size_t n = 0, len = 0;

	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		buf[len++] = '-';
	while (n > 0)
		buf[len++] = tmp[--n];
	buf[len] = '\0';
	return len;
}

size_t
jsonl_format_double(char *buf, double v)
{
	int p, len = 0;

	if (!isfinite(v)) {
		memcpy(buf, "null", 5);
		return 4;
	}
	/* Whole numbers below 2^53 are exact as integers. */
	if (v == trunc(v) && fabs(v) < 9007199254740992.0)
		return format_integer(buf, v);
	if (fabs(v) >= DBL_MIN) {
		char digits[18];
		int point, nd = dtoa_shortest(fabs(v), digits, &point);

		if (nd > 0)
			return (size_t)dtoa_format(buf, v < 0, digits, nd,
			                           point);
	}
	/*
	 * Grisu3 declined (about 0.5% of values): the exact way.
	 * %g strips trailing zeros, so when 15 significant digits read back
	 * as v they are already the shortest text that does: a shorter exact
	 * decimal would round to the same 15 digits.  Else 16, else 17.
	 */
	if (fabs(v) >= DBL_MIN) {
		for (p = 15; p <= 17; p++) {
			len = snprintf(buf, 32, "%.*g", p, v);
			if (strtod(buf, NULL) == v)
				break;
		}
		return (size_t)len;
	}
	/* Subnormals carry fewer digits: bisect, round-tripping being
	 * monotone in the precision. */
	{
		int lo = 1, hi = 17;

		while (lo < hi) {
			int mid = (lo + hi) / 2;

			snprintf(buf, 32, "%.*g", mid, v);
			if (strtod(buf, NULL) == v)
				hi = mid;
			else
				lo = mid + 1;
		}
		return (size_t)snprintf(buf, 32, "%.*g", lo, v);
	}
}

void
jsonl_raw(struct jsonl_writer *w, const char *s, size_t n)
{
	append(w, s, n);
}

char *
jsonl_room(struct jsonl_writer *w, size_t n)
{
	return reserve(w, n) ? w->buf + w->len : NULL;
}

void
jsonl_key(struct jsonl_writer *w, const char *key)
{
	if (!w->first[w->depth])
		append_char(w, ',');
	w->first[w->depth] = false;
	if (key != NULL) {
		jsonl_append_string(w, key, strlen(key));
		append_char(w, ':');
	}
}

void
jsonl_begin(struct jsonl_writer *w, const struct timespec *ts, const char *src)
{
	char num[48];
	int n;

	w->len = 0;
	w->depth = 0;
	w->failed = false;
	w->first[0] = true;
	append_char(w, '{');
	/* Milliseconds exactly, trailing zeros trimmed (never binary noise). */
	n = snprintf(num, sizeof(num), "%lld.%03ld", (long long)ts->tv_sec,
	             ts->tv_nsec / 1000000);
	while (num[n - 1] == '0')
		n--;
	if (num[n - 1] == '.')
		n--;
	jsonl_key(w, "ts");
	append(w, num, (size_t)n);
	jsonl_str(w, "src", src);
	if (w->tags != NULL && w->tags->len > 0)
		append(w, w->tags->json, w->tags->len);
}

static bool
tag_key_ok(const char *k, size_t n)
{
	size_t i;

	if (n == 0 || n > JSONL_TAG_KEY_MAX ||
	    !(islower((unsigned char)k[0]) || k[0] == '_'))
		return false;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)k[i]) &&
		    !isdigit((unsigned char)k[i]) && k[i] != '_')
			return false;
	return !(n == 2 && memcmp(k, "ts", 2) == 0) &&
	       !(n == 3 && memcmp(k, "src", 3) == 0);
}

int
jsonl_tags_add(struct jsonl_tags *t, const char *kv, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	struct jsonl_writer w;
	char quoted[JSONL_TAG_KEY_MAX + 8];
	size_t n = eq ? (size_t)(eq - kv) : 0;
	char *p;

	if (eq == NULL || !tag_key_ok(kv, n)) {
		snprintf(err, errlen,
		         "'%s' is not KEY=VALUE with a snake_case KEY other "
		         "than ts and src",
		         kv);
		return -1;
	}
	snprintf(quoted, sizeof(quoted), ",\"%.*s\":", (int)n, kv);
	if (t->json != NULL && strstr(t->json, quoted) != NULL) {
		snprintf(err, errlen, "'%.*s' tagged twice", (int)n, kv);
		return -1;
	}
	jsonl_writer_init(&w, NULL);
	append(&w, quoted, strlen(quoted));
	jsonl_append_string(&w, eq + 1, strlen(eq + 1));
	append_char(&w, '\0');
	if (w.failed || (p = realloc(t->json, t->len + w.len)) == NULL) {
		jsonl_writer_free(&w);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(p + t->len, w.buf, w.len);
	t->json = p;
	t->len += w.len - 1; /* the NUL stays after the text */
	t->n++;
	jsonl_writer_free(&w);
	return 0;
}

void
jsonl_tags_free(struct jsonl_tags *t)
{
	free(t->json);
	memset(t, 0, sizeof(*t));
}

int
jsonl_end(struct jsonl_writer *w)
{
	append(w, "}\n", 2);
	if (w->failed) {
		errno = ENOMEM;
		return -1;
	}
	if (w->gone) {
		errno = EPIPE;
		return -1;
	}
	if (fwrite(w->buf, 1, w->len, w->fp) != w->len || ferror(w->fp)) {
		if (errno == EPIPE) {
			w->gone = true;
			clearerr(w->fp);
		}
		return -1;
	}
	return 0;
}

void
jsonl_str(struct jsonl_writer *w, const char *key, const char *s)
{
	if (s == NULL) {
		jsonl_null(w, key);
		return;
	}
	jsonl_strn(w, key, s, strlen(s));
}

void
jsonl_strn(struct jsonl_writer *w, const char *key, const char *s, size_t n)
{
	jsonl_key(w, key);
	jsonl_append_string(w, s, n);
}

void
jsonl_double(struct jsonl_writer *w, const char *key, double v)
{
	char num[32];
	size_t n = jsonl_format_double(num, v);

	jsonl_key(w, key);
	append(w, num, n);
}

void
jsonl_int(struct jsonl_writer *w, const char *key, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%lld", (long long)v);

	jsonl_key(w, key);
	append(w, num, (size_t)n);
}

void
jsonl_uint(struct jsonl_writer *w, const char *key, uint64_t v)
{
	char num[24];
	int n;

	/* readers (jansson, so every gxkit reader) hold integers as int64:
	 * above that, the nearest double, which prints with an exponent */
	if (v > INT64_MAX) {
		jsonl_double(w, key, (double)v);
		return;
	}
	n = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	jsonl_key(w, key);
	append(w, num, (size_t)n);
}

void
jsonl_bool(struct jsonl_writer *w, const char *key, bool v)
{
	jsonl_key(w, key);
	if (v)
		append(w, "true", 4);
	else
		append(w, "false", 5);
}

void
jsonl_null(struct jsonl_writer *w, const char *key)
{
	jsonl_key(w, key);
	append(w, "null", 4);
}

static void
open_container(struct jsonl_writer *w, const char *key, char c)
{
	jsonl_key(w, key);
	append_char(w, c);
	if (w->depth + 1 < JSONL_MAX_DEPTH)
		w->depth++;
	else
		w->failed = true;
	w->first[w->depth] = true;
}

void
jsonl_object_open(struct jsonl_writer *w, const char *key)
{
	open_container(w, key, '{');
}

void
jsonl_object_close(struct jsonl_writer *w)
{
	append_char(w, '}');
	if (w->depth > 0)
		w->depth--;
}

void
jsonl_array_open(struct jsonl_writer *w, const char *key)
{
	open_container(w, key, '[');
}

void
jsonl_array_close(struct jsonl_writer *w)
{
	append_char(w, ']');
	if (w->depth > 0)
		w->depth--;
}

/* ---- reader ---------------------------------------------------------- */

void
jsonl_reader_init(struct jsonl_reader *r, FILE *fp, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->fp = fp;
	r->name = name;
	r->report_limit = 20;
	r->max_line = JSONL_MAX_LINE;
}

void
jsonl_reader_free(struct jsonl_reader *r)
{
	free(r->buf);
	r->buf = r->line = NULL;
	r->cap = r->start = r->end = 0;
}

static bool
blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

#define READ_BLOCK (1u << 16)

/* Room for the next read: what is left moves to the front; the buffer
 * grows for a long line and shrinks back after it.  -1 out of memory. */
static int
make_room(struct jsonl_reader *r)
{
	size_t left = r->end - r->start, cap = r->cap;
	char *p;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, left);
		r->end = left;
		r->start = 0;
	}
	if (cap - r->end < 2) /* a line longer than the buffer */
		cap = cap ? cap * 2 : READ_BLOCK;
	else if (cap > READ_BLOCK && left < READ_BLOCK / 2)
		cap = READ_BLOCK;
	if (cap == r->cap)
		return 0;
	if ((p = realloc(r->buf, cap)) == NULL)
		return -1;
	r->buf = p;
	r->cap = cap;
	return 0;
}

/* Make room and read more; 0 at EOF (r->eof set), -1 on error. */
static int
fill(struct jsonl_reader *r)
{
	ssize_t n;

	if (make_room(r) < 0)
		return -1;
	/* read(2) hands over what a live pipe has; streams without a
	 * descriptor (fmemopen) go through stdio */
	if (fileno(r->fp) >= 0) {
		do
			n = read(fileno(r->fp), r->buf + r->end,
			         r->cap - r->end - 1);
		while (n < 0 && errno == EINTR);
	} else {
		n = (ssize_t)fread(r->buf + r->end, 1, r->cap - r->end - 1,
		                   r->fp);
		if (n == 0 && ferror(r->fp))
			n = -1;
	}
	if (n < 0)
		return -1;
	if (n == 0)
		r->eof = true;
	r->end += (size_t)n;
	return n > 0;
}

/* A line over max_line: reported once, its bytes dropped as they come. */
static void
skip_long_line(struct jsonl_reader *r, const char *nl)
{
	char why[64];

	if (!r->skipping) {
		r->skipping = true;
		r->lineno++;
		r->too_long++;
		snprintf(why, sizeof(why),
		         "line longer than %zu bytes, skipped", r->max_line);
		jsonl_report(r, why, 0);
	}
	if (nl != NULL) {
		r->start = (size_t)(nl - r->buf) + 1;
		r->skipping = false;
	} else {
		r->start = r->end;
	}
}

/* The next line in place, or 0 when the buffer holds no whole line. */
static int
take_line(struct jsonl_reader *r)
{
	char *nl;

	for (;;) {
		if (r->start >= r->end)
			return 0;
		nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (r->skipping ||
		    (size_t)((nl ? nl : r->buf + r->end) -
		             (r->buf + r->start)) > r->max_line) {
			skip_long_line(r, nl);
			continue;
		}
		break;
	}
	if (nl == NULL) {
		if (!r->eof)
			return 0;
		nl = r->buf + r->end; /* a last line without newline */
	}
	r->line = r->buf + r->start;
	r->len = (size_t)(nl - r->line);
	*nl = '\0'; /* the buffer always keeps a byte spare */
	r->start = (size_t)(nl - r->buf) + (nl < r->buf + r->end);
	if (r->len > 0 && r->line[r->len - 1] == '\r')
		r->line[--r->len] = '\0';
	r->lineno++;
	return 1;
}

int
jsonl_read_some(struct jsonl_reader *r)
{
	if (r->eof)
		return 0;
	return fill(r) < 0 ? -1 : !r->eof;
}

int
jsonl_take_line(struct jsonl_reader *r)
{
	while (take_line(r))
		if (!blank(r->line, r->len))
			return 1;
	return 0;
}

int
jsonl_next_line(struct jsonl_reader *r)
{
	int rc;

	for (;;) {
		while (take_line(r))
			if (!blank(r->line, r->len))
				return 1;
		if (r->eof)
			return 0;
		if ((rc = fill(r)) < 0)
			return -1;
	}
}

size_t
jsonl_tai64n_label(const char *line, size_t len)
{
	size_t i;

	if (len < 26 || line[0] != '@' || line[25] != ' ')
		return 0;
	for (i = 1; i < 25; i++)
		if (!isxdigit((unsigned char)line[i]))
			return 0;
	return 26;
}

void
jsonl_report(struct jsonl_reader *r, const char *why, int column)
{
	r->malformed++;
	if (msg_quiet() || r->reported >= r->report_limit)
		return;
	r->reported++;
	if (column > 0)
		fprintf(stderr, "%s: %s:%llu:%d: %s\n", msg_progname(), r->name,
		        (unsigned long long)r->lineno, column, why);
	else
		fprintf(stderr, "%s: %s:%llu: %s\n", msg_progname(), r->name,
		        (unsigned long long)r->lineno, why);
}

void
jsonl_report_summary(const struct jsonl_reader *r)
{
	if (msg_quiet() || r->malformed <= r->reported)
		return;
	fprintf(stderr, "%s: %s: %llu more malformed lines not shown\n",
	        msg_progname(), r->name,
	        (unsigned long long)(r->malformed - r->reported));
}

json_t *
jsonl_parse_line(struct jsonl_reader *r)
{
	json_error_t error;
	json_t *obj;
	const char *nul = memchr(r->line, '\0', r->len);

	/* a raw NUL is never JSON, but jansson lets one pass after a
	 * number: refuse it here, as the scanner does */
	if (nul != NULL) {
		jsonl_report(r, "NUL byte in the line",
		             (int)(nul - r->line) + 1);
		return NULL;
	}
	/* \u0000 is what the writer makes of a NUL: read it back */
	obj = json_loadb(r->line, r->len, JSON_ALLOW_NUL, &error);
	if (obj == NULL) {
		jsonl_report(r, error.text, error.column);
		return NULL;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		jsonl_report(r, "not a JSON object", 1);
		return NULL;
	}
	return obj;
}

/* ---- fast field scanner ---------------------------------------------- */

/* Matches jansson's JSON_PARSER_MAX_DEPTH. */
#define SCAN_MAX_DEPTH 2048
#define SCAN_KEY_MAX   JSONL_SCAN_KEY_MAX
#define SCAN_NONE      0xff

struct scan {
	const char *p, *end, *line;
	const char *error_at;
	int depth;
	const struct jsonl_scanner *sc;
	bool in_key; /* jansson reads \u0000 in values only, never in keys */
};

static int
scan_fail(struct scan *s)
{
	if (s->error_at == NULL)
		s->error_at = s->p;
	return -1;
}

static inline void
skip_ws(struct scan *s)
{
	/* compact JSONL has no white space between tokens: one test */
	if (s->p < s->end && (unsigned char)*s->p > ' ')
		return;
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	                         *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int
hex4(const char *p, const char *end, unsigned int *out)
{
	unsigned int v = 0;
	int i;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned int)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/*
 * Eight bytes at a time.  Each mask has the top bit set in the bytes that
 * end a run; borrows and carries only travel upwards from such a byte, so
 * on a little-endian machine the lowest set bit is exact.  Big-endian
 * machines take the byte loops.
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SCAN_SWAR 1
#define ONES      0x0101010101010101ULL
#define HIGHS     0x8080808080808080ULL

static inline uint64_t
load8(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* bytes equal to zero, or less than n (n <= 128) */
#define BYTES_ZERO(w)     (((w)-ONES) & ~(w)&HIGHS)
#define BYTES_BELOW(w, n) (((w)-ONES * (n)) & ~(w)&HIGHS)
/* bytes above n (n < 128) */
#define BYTES_ABOVE(w, n) ((((w) + ONES * (127 - (n))) | (w)) & HIGHS)

/* the quote, the backslash, control bytes and non-ASCII */
static inline uint64_t
string_stops(uint64_t w)
{
	return BYTES_ZERO(w ^ (ONES * '"')) | BYTES_ZERO(w ^ (ONES * '\\')) |
	       BYTES_BELOW(w, 0x20) | (w & HIGHS);
}

static inline uint64_t
digit_stops(uint64_t w)
{
	return BYTES_BELOW(w, '0') | BYTES_ABOVE(w, '9');
}
#else
#define SCAN_SWAR 0
#endif

static inline const char *
skip_digits(const char *p, const char *end)
{
#if SCAN_SWAR
	while (end - p >= 8) {
		uint64_t stop = digit_stops(load8(p));

		if (stop != 0)
			return p + (__builtin_ctzll(stop) >> 3);
		p += 8;
	}
#endif
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

/* Bytes that stand for themselves inside a string: printable ASCII but
 * the quote and the backslash.  Built once by jsonl_scan(). */
static unsigned char plain_byte[256];

static void
init_plain_bytes(void)
{
	int c;

	for (c = 0x20; c < 0x80; c++)
		plain_byte[c] = c != '"' && c != '\\';
}

/* The rest of a string from s->p, escapes and UTF-8 checked byte by byte. */
static int
scan_string_rest(struct scan *s, const char *start, const char **str,
                 size_t *len, bool *escaped)
{
	*escaped = false;
	while (s->p < s->end) {
		unsigned char c;
		unsigned int cp, lo;

		while (s->p < s->end && plain_byte[(unsigned char)*s->p])
			s->p++;
		if (s->p >= s->end)
			break;
		c = (unsigned char)*s->p;

		if (c == '"') {
			*str = start;
			*len = (size_t)(s->p - start);
			s->p++;
			return 0;
		}
		if (c < 0x20)
			return scan_fail(s);
		if (c >= 0x80) {
			size_t n = utf8_valid_len((const unsigned char *)s->p,
			                          (size_t)(s->end - s->p));
			if (n == 0)
				return scan_fail(s);
			s->p += n;
			continue;
		}
		if (c != '\\') {
			s->p++;
			continue;
		}
		*escaped = true;
		if (++s->p >= s->end)
			return scan_fail(s);
		if (strchr("\"\\/bfnrt", *s->p) != NULL && *s->p != '\0') {
			s->p++;
			continue;
		}
		if (*s->p != 'u' || hex4(s->p + 1, s->end, &cp) < 0 ||
		    (cp == 0 && s->in_key))
			return scan_fail(s);
		s->p += 5;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return scan_fail(s);
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (s->end - s->p < 6 || s->p[0] != '\\' ||
			    s->p[1] != 'u' || hex4(s->p + 2, s->end, &lo) < 0 ||
			    lo < 0xdc00 || lo > 0xdfff)
				return scan_fail(s);
			s->p += 6;
		}
	}
	return scan_fail(s);
}

/*
 * s->p at the opening quote; leaves it after the closing one.  Keys and
 * most values are plain ASCII: find the end eight bytes at a time here,
 * inline, and leave escapes and UTF-8 to scan_string_rest().
 */
static inline int
scan_string(struct scan *s, const char **str, size_t *len, bool *escaped)
{
	const char *start = ++s->p;

#if SCAN_SWAR
	while (s->end - s->p >= 8) {
		uint64_t stop = string_stops(load8(s->p));

		if (stop == 0) {
			s->p += 8;
			continue;
		}
		s->p += __builtin_ctzll(stop) >> 3;
		if (*s->p != '"')
			break;
		*str = start;
		*len = (size_t)(s->p - start);
		*escaped = false;
		s->p++;
		return 0;
	}
#endif
	return scan_string_rest(s, start, str, len, escaped);
}

static bool
is_digit(const char *p, const char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

/*
 * Clinger's fast path: a decimal of at most 15 significant digits and at
 * most 22 fraction digits is an exact integer divided by an exact power of
 * ten, so one IEEE division rounds it correctly, as strtod would.
 */
static bool
fast_decimal(const char *p, const char *end, double *out)
{
	static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
	                               1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
	                               1e18, 1e19, 1e20, 1e21, 1e22};
	uint64_t m = 0;
	int digits = 0, frac = 0;
	bool neg = *p == '-', in_frac = false;

	if (neg)
		p++;
	for (; p < end; p++) {
		if (*p == '.') {
			in_frac = true;
			continue;
		}
		if (*p < '0' || *p > '9')
			return false; /* an exponent: leave it to strtod */
		if (m == 0 && *p == '0' && !in_frac)
			continue;
		m = m * 10 + (uint64_t)(*p - '0');
		if (m != 0)
			digits++;
		frac += in_frac;
		if (digits > 15 || frac > 22)
			return false;
	}
	*out = (double)m / pow10[frac];
	if (neg)
		*out = -*out;
	return true;
}

/* The digits of [p, end) as an integer; at most 15 of them. */
static inline uint64_t
digits_value(const char *p, const char *end, uint64_t m)
{
	for (; p < end; p++)
		m = m * 10 + (uint64_t)(*p - '0');
	return m;
}

/* Are the digits [p, end) (no leading zeros) beyond int64's range? */
static bool
beyond_int64(const char *p, const char *end, bool negative)
{
	const char *max =
	    negative ? "9223372036854775808" : "9223372036854775807";

	if (end - p != 19)
		return end - p > 19;
	return memcmp(p, max, 19) > 0;
}

/* strtod over [p, end) only, which need not be NUL-terminated; errno is
 * strtod's.  -1 when memory for a very long number ran out. */
static int
strtod_span(const char *p, const char *end, double *v)
{
	char local[512], *buf = local;
	size_t n = (size_t)(end - p);

	if (n >= sizeof(local) && (buf = malloc(n + 1)) == NULL)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	errno = 0;
	*v = strtod(buf, NULL);
	if (buf != local) {
		int saved = errno;

		free(buf);
		errno = saved;
	}
	return 0;
}

static int
scan_number(struct scan *s, double *out, bool want)
{
	static const double pow10[] = {1e0,  1e1,  1e2,  1e3, 1e4,  1e5,
	                               1e6,  1e7,  1e8,  1e9, 1e10, 1e11,
	                               1e12, 1e13, 1e14, 1e15};
	const char *start = s->p, *int_start, *int_end;
	const char *frac_start, *frac_end;
	bool fraction = false, exponent = false;

	if (*s->p == '-')
		s->p++;
	int_start = s->p;
	if (!is_digit(s->p, s->end))
		return scan_fail(s);
	s->p = *s->p == '0' ? s->p + 1 : skip_digits(s->p, s->end);
	int_end = frac_start = frac_end = s->p;
	if (s->p < s->end && *s->p == '.') {
		fraction = true;
		frac_start = ++s->p;
		if (!is_digit(s->p, s->end))
			return scan_fail(s);
		s->p = frac_end = skip_digits(s->p, s->end);
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		exponent = true;
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!is_digit(s->p, s->end))
			return scan_fail(s);
		s->p = skip_digits(s->p, s->end);
	}
	/* jansson refuses integers beyond long long and reals that
	 * overflow a double; do the same so both readers agree. */
	if (!fraction && !exponent &&
	    beyond_int64(int_start, int_end, *start == '-')) {
		s->error_at = start;
		return -1;
	}
	if (want && !exponent &&
	    (int_end - int_start) + (frac_end - frac_start) <= 15) {
		/* exact integer over an exact power of ten: one rounding */
		uint64_t m = digits_value(int_start, int_end, 0);

		m = digits_value(frac_start, frac_end, m);
		*out = fraction ? (double)m / pow10[frac_end - frac_start]
		                : (double)m;
		if (*start == '-')
			*out = -*out;
		return 0;
	}
	if (want || exponent || int_end - int_start > 300) {
		double v;

		if (want && fast_decimal(start, s->p, out))
			return 0;
		if (strtod_span(start, s->p, &v) < 0)
			return scan_fail(s);
		if (errno == ERANGE && isinf(v)) {
			s->error_at = start;
			return -1;
		}
		*out = v;
	}
	return 0;
}

static int scan_value(struct scan *s, struct jsonl_field *f);

static int
scan_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return scan_fail(s);
	s->p += n;
	return 0;
}

/* Decode an escaped key into buf (NUL-free, truncated keys never match). */
static size_t
unescape_key(const char *k, size_t n, char *buf, size_t cap)
{
	size_t i = 0, o = 0;
	unsigned int cp, lo;

	while (i < n && o + 4 < cap) {
		if (k[i] != '\\') {
			buf[o++] = k[i++];
			continue;
		}
		i++;
		switch (k[i]) {
		case 'b':
			buf[o++] = '\b';
			break;
		case 'f':
			buf[o++] = '\f';
			break;
		case 'n':
			buf[o++] = '\n';
			break;
		case 'r':
			buf[o++] = '\r';
			break;
		case 't':
			buf[o++] = '\t';
			break;
		case 'u':
			(void)hex4(k + i + 1, k + n, &cp);
			i += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				(void)hex4(k + i + 3, k + n, &lo);
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
				i += 6;
			}
			if (cp < 0x80) {
				buf[o++] = (char)cp;
			} else if (cp < 0x800) {
				buf[o++] = (char)(0xc0 | (cp >> 6));
				buf[o++] = (char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				buf[o++] = (char)(0xe0 | (cp >> 12));
				buf[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				buf[o++] = (char)(0x80 | (cp & 0x3f));
			} else {
				buf[o++] = (char)(0xf0 | (cp >> 18));
				buf[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
				buf[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				buf[o++] = (char)(0x80 | (cp & 0x3f));
			}
			break;
		default:
			buf[o++] = k[i];
		}
		i++;
	}
	return i < n ? cap : o;
}

/* The first eight bytes of a name, zero-padded, as one word to compare;
 * end NULL for a C string that may be shorter than a word. */
static inline uint64_t
name_head(const char *name, size_t n, const char *end)
{
	uint64_t w = 0;

#if SCAN_SWAR
	if (end != NULL && end - name >= 8)
		return n >= 8 ? load8(name)
		              : load8(name) & ((1ULL << (8 * n)) - 1);
#endif
	(void)end;
	memcpy(&w, name, n < 8 ? n : 8);
	return w;
}

static struct jsonl_field *
find_field(const struct scan *s, const char *key, size_t n, bool escaped,
           struct jsonl_field *f, size_t nf)
{
	char buf[128];
	unsigned int i;
	uint64_t head;

	(void)nf;
	if (escaped) {
		n = unescape_key(key, n, buf, sizeof(buf));
		if (n >= sizeof(buf))
			return NULL;
		key = buf;
	}
	if (n > SCAN_KEY_MAX)
		return NULL;
	i = s->sc->by_len[n];
	if (i == SCAN_NONE)
		return NULL;
	head = name_head(key, n, s->end);
	for (; i != SCAN_NONE; i = s->sc->next_same_len[i]) {
		const char *name = f[i].name;
		size_t k = 8;

		/* names are short: one word, then a plain loop */
		if (s->sc->head[i] != head)
			continue;
		while (k < n && name[k] == key[k])
			k++;
		if (k >= n)
			return &f[i];
	}
	return NULL;
}

static int
scan_container(struct scan *s, bool object, struct jsonl_field *fields,
               size_t nfields)
{
	char close = object ? '}' : ']';

	if (++s->depth > SCAN_MAX_DEPTH)
		return scan_fail(s);
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		s->depth--;
		return 0;
	}
	for (;;) {
		struct jsonl_field *f = NULL;

		skip_ws(s);
		if (object) {
			const char *key;
			size_t n;
			bool esc;

			s->in_key = true;
			if (s->p >= s->end || *s->p != '"' ||
			    scan_string(s, &key, &n, &esc) < 0)
				return scan_fail(s);
			s->in_key = false;
			if (nfields > 0)
				f = find_field(s, key, n, esc, fields, nfields);
			skip_ws(s);
			if (s->p >= s->end || *s->p != ':')
				return scan_fail(s);
			s->p++;
			skip_ws(s);
		}
		if (scan_value(s, f) < 0)
			return -1;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == close) {
			s->p++;
			s->depth--;
			return 0;
		}
		return scan_fail(s);
	}
}

static int
scan_value(struct scan *s, struct jsonl_field *f)
{
	struct jsonl_field dummy;
	const char *str;
	size_t n;
	bool esc;

	if (f == NULL)
		f = &dummy;
	if (s->p >= s->end)
		return scan_fail(s);
	/* records are mostly numbers and strings: test those before a
	 * jump table whose indirect branch mispredicts */
	if ((*s->p >= '0' && *s->p <= '9') || *s->p == '-') {
		f->type = JSONL_NUMBER;
		return scan_number(s, &f->num, f != &dummy);
	}
	if (*s->p == '"') {
		if (scan_string(s, &str, &n, &esc) < 0)
			return -1;
		f->type = JSONL_STRING;
		f->str = str;
		f->str_len = n;
		f->str_escaped = esc;
		return 0;
	}
	switch (*s->p) {
	case '{':
		f->type = JSONL_OBJECT;
		return scan_container(s, true, NULL, 0);
	case '[':
		f->type = JSONL_ARRAY;
		return scan_container(s, false, NULL, 0);
	case 't':
		f->type = JSONL_TRUE;
		return scan_literal(s, "true");
	case 'f':
		f->type = JSONL_FALSE;
		return scan_literal(s, "false");
	case 'n':
		f->type = JSONL_NULL;
		return scan_literal(s, "null");
	default:
		return scan_fail(s);
	}
}

void
jsonl_scanner_init(struct jsonl_scanner *sc, struct jsonl_field *fields,
                   size_t nfields)
{
	size_t i;

	if (!plain_byte['a'])
		init_plain_bytes();
	if (nfields > JSONL_SCAN_FIELDS_MAX)
		nfields = JSONL_SCAN_FIELDS_MAX;
	sc->fields = fields;
	sc->n = nfields;
	memset(sc->by_len, SCAN_NONE, sizeof(sc->by_len));
	/* wanted fields by name length: the first with that length and a
	 * chain to the next; prepending backwards keeps the first first */
	for (i = nfields; i-- > 0;) {
		size_t n = strlen(fields[i].name), j;

		sc->same_as[i] = (unsigned char)i;
		sc->head[i] = name_head(fields[i].name, n, NULL);
		for (j = 0; j < i; j++)
			if (strcmp(fields[j].name, fields[i].name) == 0) {
				sc->same_as[i] = (unsigned char)j;
				break;
			}

		if (n > SCAN_KEY_MAX)
			continue;
		sc->next_same_len[i] = sc->by_len[n];
		sc->by_len[n] = (unsigned char)i;
	}
}

int
jsonl_scan_with(const struct jsonl_scanner *sc, const char *line, size_t len,
                int *column)
{
	struct scan s = {line, line + len, line, NULL, 0, sc, false};
	size_t i;

	for (i = 0; i < sc->n; i++)
		sc->fields[i].type = JSONL_ABSENT;
	skip_ws(&s);
	if (s.p >= s.end || *s.p != '{')
		goto fail;
	if (scan_container(&s, true, sc->fields, sc->n) < 0)
		goto fail;
	skip_ws(&s);
	if (s.p == s.end) {
		for (i = 0; i < sc->n; i++) /* a name asked for twice */
			if (sc->same_as[i] != i) {
				const char *name = sc->fields[i].name;

				sc->fields[i] = sc->fields[sc->same_as[i]];
				sc->fields[i].name = name;
			}
		return 0;
	}
	s.error_at = s.p;
fail:
	if (s.error_at == NULL)
		s.error_at = s.p;
	*column = (int)(s.error_at - line) + 1;
	return -1;
}

int
jsonl_scan(const char *line, size_t len, struct jsonl_field *fields,
           size_t nfields, int *column)
{
	struct jsonl_scanner sc;

	jsonl_scanner_init(&sc, fields, nfields);
	return jsonl_scan_with(&sc, line, len, column);
}
