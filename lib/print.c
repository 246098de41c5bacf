#include <stdarg.h>
#include <string.h>

#include "print.h"

void
print_text_init(struct printer *p, FILE *fp)
{
	memset(p, 0, sizeof(*p));
	p->fp = fp;
}

void
print_json_init(struct printer *p, struct jsonl_writer *w)
{
	memset(p, 0, sizeof(*p));
	p->w = w;
}

bool
print_is_json(const struct printer *p)
{
	return p->w != NULL;
}

void
print_line(struct printer *p, int kind, const char *tmpl)
{
	if (p->w != NULL)
		return;
	p->left_out = !(kind & PRINT_TEXT);
	p->tmpl = p->left_out ? NULL : tmpl;
	p->used = 0;
	p->nslot = 0;
}

void
print_line_end(struct printer *p)
{
	const char *t;

	p->left_out = false;
	if (p->w != NULL || p->tmpl == NULL)
		return;
	for (t = p->tmpl; *t != '\0'; t++) {
		int i = t[1] - '1';

		if (t[0] == '$' && i >= 0 && i < p->nslot) {
			fputs(p->slots + p->at[i], p->fp);
			t++;
		} else {
			fputc(*t, p->fp);
		}
	}
	p->tmpl = NULL;
}

/* A value's text: into the line's next slot, or straight out. */
__attribute__((format(printf, 2, 3))) static void
text(struct printer *p, const char *fmt, ...)
{
	size_t room = sizeof(p->slots) - p->used;
	va_list ap;
	int n;

	if (p->left_out)
		return;
	va_start(ap, fmt);
	if (p->tmpl == NULL) {
		vfprintf(p->fp, fmt, ap);
	} else if (p->nslot < PRINT_SLOTS) {
		n = vsnprintf(p->slots + p->used, room, fmt, ap);
		p->at[p->nslot++] = p->used;
		p->used += n < 0 ? 0 : (size_t)n < room ? (size_t)n + 1 : room;
	}
	va_end(ap);
}

static bool
shows(const struct printer *p, int kind, int form)
{
	return (kind & form) != 0 && (form == PRINT_JSON) == (p->w != NULL);
}

void
print_str(struct printer *p, int kind, const char *key, const char *fmt,
          const char *s)
{
	if (shows(p, kind, PRINT_JSON))
		jsonl_str(p->w, key, s);
	else if (shows(p, kind, PRINT_TEXT))
		text(p, fmt, s ? s : "");
}

void
print_strn(struct printer *p, int kind, const char *key, const char *s,
           size_t n)
{
	if (shows(p, kind, PRINT_JSON))
		jsonl_strn(p->w, key, s, n);
	else if (shows(p, kind, PRINT_TEXT))
		text(p, "%.*s", (int)n, s);
}

void
print_num(struct printer *p, int kind, const char *key, const char *fmt,
          double v)
{
	if (shows(p, kind, PRINT_JSON))
		jsonl_double(p->w, key, v);
	else if (shows(p, kind, PRINT_TEXT))
		text(p, fmt, v);
}

void
print_uint(struct printer *p, int kind, const char *key, const char *fmt,
           uint64_t v)
{
	if (shows(p, kind, PRINT_JSON))
		jsonl_uint(p->w, key, v);
	else if (shows(p, kind, PRINT_TEXT))
		text(p, fmt, (unsigned long long)v);
}

void
print_num_as(struct printer *p, int kind, const char *key, double v,
             const char *s)
{
	if (shows(p, kind, PRINT_JSON))
		jsonl_double(p->w, key, v);
	else if (shows(p, kind, PRINT_TEXT))
		text(p, "%s", s);
}

void
print_bool_as(struct printer *p, int kind, const char *key, bool v,
              const char *s)
{
	if (shows(p, kind, PRINT_JSON))
		jsonl_bool(p->w, key, v);
	else if (shows(p, kind, PRINT_TEXT))
		text(p, "%s", s);
}

void
print_open_object(struct printer *p, const char *key)
{
	if (p->w != NULL)
		jsonl_object_open(p->w, key);
}

void
print_close_object(struct printer *p)
{
	if (p->w != NULL)
		jsonl_object_close(p->w);
}

void
print_open_array(struct printer *p, const char *key)
{
	if (p->w != NULL)
		jsonl_array_open(p->w, key);
}

void
print_close_array(struct printer *p)
{
	if (p->w != NULL)
		jsonl_array_close(p->w);
}
