/*
 * jsonl_out: the fast half of the jsonl writer, for tools that write
 * millions of lines (h5-dump's dumpers): numbers and stamps formatted
 * straight into the writer's buffer, CSV cells, and write(2) of the
 * buffer with the writer's own error state.  See jsonl.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <csv.h>

#include "jsonl.h"

void
jsonl_put_str(struct jsonl_writer *w, const char *s)
{
	jsonl_put(w, s, strlen(s));
}

/* The digits of v at p (room for 20); returns their count. */
static size_t
format_u64(char *p, uint64_t v)
{
	size_t n = 1, i;
	uint64_t t;

	for (t = v; t >= 10; t /= 10)
		n++;
	for (i = n; i > 0; i--, v /= 10)
		p[i - 1] = (char)('0' + v % 10);
	return n;
}

/* The nine digits of f < 10^9 at p, zero-padded. */
static void
format_nine(char *p, unsigned f)
{
	int i;

	for (i = 8; i >= 0; i--, f /= 10)
		p[i] = (char)('0' + f % 10);
}

/* Digits of a fraction of nine, without its trailing zeros (f > 0). */
static unsigned
frac_digits(unsigned f)
{
	unsigned n = 9;

	while (f % 10 == 0) {
		f /= 10;
		n--;
	}
	return n;
}

void
jsonl_put_u64(struct jsonl_writer *w, uint64_t v)
{
	char *p = jsonl_room_fast(w, 20);

	if (p != NULL)
		w->len += format_u64(p, v);
}

void
jsonl_put_i64(struct jsonl_writer *w, int64_t v)
{
	if (v < 0) {
		jsonl_put_char(w, '-');
		jsonl_put_u64(w, (uint64_t)0 - (uint64_t)v);
	} else {
		jsonl_put_u64(w, (uint64_t)v);
	}
}

void
jsonl_put_double(struct jsonl_writer *w, double v)
{
	char *p = jsonl_room_fast(w, JSONL_DOUBLE_MAX);

	if (p != NULL)
		w->len += jsonl_format_double(p, v);
}

void
jsonl_put_seconds(struct jsonl_writer *w, int64_t ns)
{
	uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	unsigned f = (unsigned)(u % 1000000000u);
	char *p;

	if (ns < 0)
		jsonl_put_char(w, '-');
	jsonl_put_u64(w, u / 1000000000u);
	if (f == 0 || (p = jsonl_room_fast(w, 10)) == NULL)
		return;
	p[0] = '.';
	format_nine(p + 1, f);
	w->len += 1 + frac_digits(f);
}

void
jsonl_stamp_init(struct jsonl_stamp *st, const char *between)
{
	memset(st, 0, sizeof(*st));
	st->between_len = strlen(between);
	if (st->between_len >= sizeof(st->between))
		st->between_len = sizeof(st->between) - 1;
	memcpy(st->between, between, st->between_len);
}

/*
 * Rows share their second with 100000 others at 100 kHz, so its digits
 * are formatted once.  The fixed-size copies of whole arrays are cheaper
 * than copies of their lengths.
 */
void
jsonl_put_stamp(struct jsonl_writer *w, struct jsonl_stamp *st, int64_t ns)
{
	uint64_t sec;
	unsigned frac;
	char *p, *start;

	if (ns < 0) {
		jsonl_put_seconds(w, ns);
		jsonl_put(w, st->between, st->between_len);
		jsonl_put_i64(w, ns);
		return;
	}
	if ((start = p = jsonl_room_fast(w, JSONL_STAMP_MAX)) == NULL)
		return;
	sec = (uint64_t)ns / 1000000000u;
	frac = (unsigned)((uint64_t)ns % 1000000000u);
	if (sec != st->sec_cached || st->sec_len == 0) {
		st->sec_len = format_u64(st->sec_text, sec);
		st->sec_cached = sec;
	}
	memcpy(p, st->sec_text, sizeof(st->sec_text));
	p += st->sec_len;
	if (frac != 0) {
		*p = '.';
		format_nine(p + 1, frac);
		p += 1 + frac_digits(frac);
	}
	memcpy(p, st->between, sizeof(st->between));
	p += st->between_len;
	if (sec == 0) {
		p += format_u64(p, frac);
	} else {
		memcpy(p, st->sec_text, sizeof(st->sec_text));
		format_nine(p + st->sec_len, frac);
		p += st->sec_len + 9;
	}
	w->len += (size_t)(p - start);
}

void
jsonl_put_csv(struct jsonl_writer *w, const char *s, size_t n, char delim)
{
	char quoted[1024], *big;
	size_t need;

	if (strcspn(s, "\"\r\n") >= n && memchr(s, delim, n) == NULL) {
		jsonl_put(w, s, n);
		return;
	}
	need = csv_write2(quoted, sizeof(quoted), s, n, '"');
	if (need <= sizeof(quoted)) {
		jsonl_put(w, quoted, need);
	} else if ((big = malloc(need)) != NULL) {
		jsonl_put(w, big, csv_write2(big, need, s, n, '"'));
		free(big);
	} else {
		w->failed = true;
	}
}

int
jsonl_flush_fd(struct jsonl_writer *w, int fd)
{
	size_t done;
	ssize_t n;

	if (w->failed && w->error == 0)
		w->error = ENOMEM;
	if (w->error != 0) {
		w->len = 0;
		errno = w->error;
		return -1;
	}
	for (done = 0; done < w->len; done += (size_t)n) {
		n = write(fd, w->buf + done, w->len - done);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n < 0) {
			w->error = errno;
			w->gone = errno == EPIPE; /* the reader left */
			w->len = 0;
			return -1;
		}
	}
	w->len = 0;
	return 0;
}
