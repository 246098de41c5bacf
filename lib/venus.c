#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mb.h"
#include "venus.h"

/* The placeholder at p ("{unit}", "{serial}"): its length, or 0. */
static size_t
placeholder(const char *p, bool *is_unit)
{
	if (strncmp(p, "{unit}", 6) == 0) {
		*is_unit = true;
		return 6;
	}
	if (strncmp(p, "{serial}", 8) == 0) {
		*is_unit = false;
		return 8;
	}
	return 0;
}

int
venus_parse_template(const char *tmpl, char *type, size_t typelen,
                     bool *per_unit, char *err, size_t errlen)
{
	size_t n = strlen(VENUS_PREFIX);
	const char *dot, *p;

	*per_unit = false;
	if (strncmp(tmpl, VENUS_PREFIX, n) != 0 ||
	    (dot = strchr(tmpl + n, '.')) == NULL || dot == tmpl + n ||
	    dot[1] == '\0') {
		snprintf(err, errlen,
		         "service '%s' is not com.victronenergy.TYPE.NAME",
		         tmpl);
		return -1;
	}
	if ((size_t)(dot - tmpl - n) >= typelen ||
	    memchr(tmpl + n, '{', (size_t)(dot - tmpl - n)) != NULL) {
		snprintf(err, errlen, "service '%s': bad TYPE", tmpl);
		return -1;
	}
	snprintf(type, typelen, "%.*s", (int)(dot - tmpl - n), tmpl + n);
	for (p = dot + 1; *p != '\0'; p++) {
		bool is_unit;
		size_t len;

		if (*p == '}') {
			snprintf(err, errlen,
			         "service '%s': a '}' without "
			         "'{'",
			         tmpl);
			return -1;
		}
		if (*p != '{')
			continue;
		len = placeholder(p, &is_unit);
		if (len == 0) {
			snprintf(err, errlen,
			         "service '%s': unknown placeholder at '%.20s' "
			         "(there are {unit} and {serial})",
			         tmpl, p);
			return -1;
		}
		*per_unit = true;
		p += len - 1;
	}
	return 0;
}

/* Append src to out[*at], every character outside [A-Za-z0-9_] as '_'. */
static void
put_clean(char *out, size_t len, size_t *at, const char *src)
{
	for (; *src != '\0' && *at + 1 < len; src++)
		out[(*at)++] = isalnum((unsigned char)*src) ? *src : '_';
	out[*at] = '\0';
}

int
venus_expand(const char *tmpl, int unit, const char *serial, char *out,
             size_t len, char *err, size_t errlen)
{
	size_t at = 0;
	const char *p;

	out[0] = '\0';
	for (p = tmpl; *p != '\0'; p++) {
		bool is_unit;
		size_t n = *p == '{' ? placeholder(p, &is_unit) : 0;
		char num[16];

		if (n == 0) {
			if (at + 1 < len)
				out[at++] = *p;
			out[at] = '\0';
			continue;
		}
		if (!is_unit && (serial == NULL || serial[0] == '\0')) {
			snprintf(err, errlen,
			         "no serial to name {serial} in "
			         "'%s'",
			         tmpl);
			return -1;
		}
		snprintf(num, sizeof(num), "%d", unit);
		put_clean(out, len, &at, is_unit ? num : serial);
		p += n - 1;
	}
	if (at + 1 >= len) {
		snprintf(err, errlen, "service name from '%s' is too long",
		         tmpl);
		return -1;
	}
	return 0;
}

void
venus_ident(const char *vendor, const char *serial, const char *service,
            char *out, size_t len)
{
	const char *dot = strrchr(service, '.');
	size_t at = 0;

	out[0] = '\0';
	if (serial != NULL && serial[0] != '\0') {
		put_clean(out, len, &at, vendor);
		put_clean(out, len, &at, "_");
		put_clean(out, len, &at, serial);
	} else {
		put_clean(out, len, &at, dot ? dot + 1 : service);
	}
}

void
venus_connection(const char *bus, int unit, char *out, size_t len)
{
	struct mb_bus b;
	char err[64];
	const char *base;

	if (mb_parse_bus(bus, &b, err, sizeof(err)) < 0) {
		snprintf(out, len, "%s", bus);
		return;
	}
	if (b.kind == MB_TCP) {
		snprintf(out, len, "Modbus TCP %s:%d", b.host, unit);
		return;
	}
	base = strrchr(b.device, '/');
	snprintf(out, len, "Modbus RTU %s:%d", base ? base + 1 : b.device,
	         unit);
}

int
venus_class_instance(const char *s, char *cls, size_t clslen, long *instance)
{
	const char *colon = s ? strchr(s, ':') : NULL;
	char *end;

	if (colon == NULL || colon == s || strchr(colon + 1, ':') != NULL ||
	    (size_t)(colon - s) >= clslen)
		return -1;
	errno = 0;
	*instance = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end != '\0' || errno != 0)
		return -1;
	snprintf(cls, clslen, "%.*s", (int)(colon - s), s);
	return 0;
}

void
venus_limit_init(struct venus_limit *l, double max_w, uint64_t min_interval_ms)
{
	l->max_w = max_w;
	l->min_interval_ms = min_interval_ms;
	l->sent_pct = l->pending_pct = -1;
	l->sent_ms = 0;
}

int
venus_limit_percent(const struct venus_limit *l, double watts)
{
	if (!(l->max_w > 0) || isnan(watts))
		return -1;
	return (int)lround(fmax(0, fmin(watts / l->max_w, 1)) * 100);
}

int
venus_limit_request(struct venus_limit *l, int pct, uint64_t now)
{
	if (pct < 0 || pct > 100)
		return -1;
	if (pct == l->sent_pct) {
		l->pending_pct = -1; /* back where the inverter is */
		return -1;
	}
	if (l->sent_pct >= 0 && now - l->sent_ms < l->min_interval_ms) {
		l->pending_pct = pct;
		return -1;
	}
	l->sent_pct = pct;
	l->sent_ms = now;
	l->pending_pct = -1;
	return pct;
}

int
venus_limit_due(struct venus_limit *l, uint64_t now, uint64_t *due_ms)
{
	int pct = l->pending_pct;

	if (pct < 0)
		return -1;
	if (now - l->sent_ms < l->min_interval_ms) {
		*due_ms = l->sent_ms + l->min_interval_ms;
		return -1;
	}
	l->pending_pct = -1;
	return venus_limit_request(l, pct, now);
}

double
venus_limit_watts(const struct venus_limit *l, double pct)
{
	return pct / 100 * l->max_w;
}
