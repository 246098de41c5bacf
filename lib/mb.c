#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/socket.h>

#include "mb.h"

static int
fail(char *err, size_t errlen, const char *fmt, const char *what)
{
	snprintf(err, errlen, fmt, what);
	errno = EINVAL;
	return -1;
}

static bool
parse_int(const char *s, size_t n, long min, long max, long *out)
{
	char buf[24], *end;
	long v;

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (*end != '\0' || errno != 0 || v < min || v > max ||
	    !isdigit((unsigned char)buf[0]))
		return false;
	*out = v;
	return true;
}

static int
parse_rtu(const char *rest, struct mb_bus *bus, char *err, size_t errlen)
{
	const char *c1 = strchr(rest, ':'), *c2;
	size_t n = c1 ? (size_t)(c1 - rest) : strlen(rest);
	long baud;

	if (n == 0 || n >= sizeof(bus->device))
		return fail(err, errlen, "bad bus '%s': no serial device",
		            bus->spec);
	memcpy(bus->device, rest, n);
	bus->device[n] = '\0';
	bus->baud = 9600;
	bus->data_bits = 8;
	bus->parity = 'N';
	bus->stop_bits = 1;
	if (c1 == NULL)
		return 0;
	c2 = strchr(c1 + 1, ':');
	n = c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);
	if (!parse_int(c1 + 1, n, 50, 4000000, &baud))
		return fail(err, errlen, "bad bus '%s': bad baud rate",
		            bus->spec);
	bus->baud = (int)baud;
	if (c2 == NULL)
		return 0;
	c2++;
	if (strlen(c2) != 3 || (c2[0] != '7' && c2[0] != '8') ||
	    strchr("NEO", toupper((unsigned char)c2[1])) == NULL ||
	    (c2[2] != '1' && c2[2] != '2'))
		return fail(err, errlen,
		            "bad bus '%s': framing is 8N1, 8E1, 8O1 or 8N2",
		            bus->spec);
	bus->data_bits = c2[0] - '0';
	bus->parity = (char)toupper((unsigned char)c2[1]);
	bus->stop_bits = c2[2] - '0';
	return 0;
}

static int
parse_tcp(const char *rest, struct mb_bus *bus, char *err, size_t errlen)
{
	const char *colon = strrchr(rest, ':');
	size_t n = colon ? (size_t)(colon - rest) : strlen(rest);
	long port = 502;

	if (n == 0 || n >= sizeof(bus->host))
		return fail(err, errlen, "bad bus '%s': no host", bus->spec);
	memcpy(bus->host, rest, n);
	bus->host[n] = '\0';
	if (colon != NULL &&
	    !parse_int(colon + 1, strlen(colon + 1), 1, 65535, &port))
		return fail(err, errlen, "bad bus '%s': bad port", bus->spec);
	bus->port = (int)port;
	return 0;
}

int
mb_parse_bus(const char *spec, struct mb_bus *bus, char *err, size_t errlen)
{
	memset(bus, 0, sizeof(*bus));
	snprintf(bus->spec, sizeof(bus->spec), "%s", spec ? spec : "");
	if (spec != NULL && strncmp(spec, "rtu:", 4) == 0) {
		bus->kind = MB_RTU;
		return parse_rtu(spec + 4, bus, err, errlen);
	}
	if (spec != NULL && strncmp(spec, "tcp:", 4) == 0) {
		bus->kind = MB_TCP;
		return parse_tcp(spec + 4, bus, err, errlen);
	}
	return fail(err, errlen,
	            "bad bus '%s': use rtu:DEVICE[:BAUD[:8N1]] or "
	            "tcp:HOST[:PORT]",
	            bus->spec);
}

int
mb_resolve(const struct mb_bus *bus)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	char port[16];

	if (bus->kind != MB_TCP)
		return 0;
	snprintf(port, sizeof(port), "%d", bus->port);
	if (getaddrinfo(bus->host, port, &hints, &ai) != 0) {
		errno = MB_ERESOLVE;
		return -1;
	}
	freeaddrinfo(ai);
	return 0;
}

modbus_t *
mb_new(const struct mb_bus *bus)
{
	char port[16];

	if (bus->kind == MB_RTU)
		return modbus_new_rtu(bus->device, bus->baud, bus->parity,
		                      bus->data_bits, bus->stop_bits);
	if (mb_resolve(bus) < 0)
		return NULL;
	/* by name or address, IPv4 or 6, as mbpoll (getaddrinfo) */
	snprintf(port, sizeof(port), "%d", bus->port);
	return modbus_new_tcp_pi(bus->host, port);
}

modbus_t *
mb_connect(const struct mb_bus *bus, uint64_t timeout_ms)
{
	modbus_t *ctx;
	int saved;

	if ((ctx = mb_new(bus)) == NULL)
		return NULL;
	modbus_set_response_timeout(ctx, (uint32_t)(timeout_ms / 1000),
	                            (uint32_t)(timeout_ms % 1000) * 1000);
	/* We retry on our own schedule; libmodbus's link recovery would
	 * sleep and reconnect inside every failed call. */
	modbus_set_error_recovery(ctx, MODBUS_ERROR_RECOVERY_NONE);
	if (modbus_connect(ctx) < 0) {
		saved = errno;
		modbus_free(ctx);
		errno = saved;
		return NULL;
	}
	return ctx;
}

int
mb_parse_bus_units(const char *bus, const char *units,
                   const char *default_units, struct mb_bus *b, bool set[256],
                   char *err, size_t errlen)
{
	char why[200];
	int n;

	if (bus == NULL) {
		snprintf(err, errlen, "which bus: give -b SPEC");
		return -1;
	}
	if (mb_parse_bus(bus, b, err, errlen) < 0)
		return -1;
	n = mb_parse_units(units ? units : default_units, set,
	                   b->kind == MB_RTU ? MB_MAX_UNIT : 255, why,
	                   sizeof(why));
	if (n < 0)
		snprintf(err, errlen, "--units: %s", why);
	return n;
}

int
mb_read(modbus_t *ctx, enum mb_fc fc, int address, int count, uint16_t *dest)
{
	return fc == MB_INPUT
	           ? modbus_read_input_registers(ctx, address, count, dest)
	           : modbus_read_registers(ctx, address, count, dest);
}

int
mb_parse_units(const char *spec, bool units[256], int max, char *err,
               size_t errlen)
{
	const char *p = spec;
	int count = 0;

	memset(units, 0, 256 * sizeof(bool));
	if (spec == NULL || *spec == '\0')
		return fail(err, errlen, "empty unit list%s", "");
	while (*p != '\0') {
		const char *comma = strchr(p, ','), *dash;
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		long lo, hi;

		dash = memchr(p, '-', n);
		if (dash == NULL
		        ? !parse_int(p, n, 0, 255, &lo)
		        : !parse_int(p, (size_t)(dash - p), 0, 255, &lo) ||
		              !parse_int(dash + 1, n - (size_t)(dash - p) - 1,
		                         0, 255, &hi))
			return fail(err, errlen, "bad unit list '%s'", spec);
		if (dash == NULL)
			hi = lo;
		if (lo < 1 || hi > max || lo > hi) {
			snprintf(err, errlen,
			         "unit ids must be 1 to %d: '%.*s'", max,
			         (int)n, p);
			errno = ERANGE;
			return -1;
		}
		for (; lo <= hi; lo++)
			if (!units[lo]) {
				units[lo] = true;
				count++;
			}
		p += n;
		if (*p == ',')
			p++;
	}
	return count;
}

int
mb_parse_type(const char *s, enum mb_type *type, int *words, bool *low_first)
{
	static const struct {
		const char *name;
		enum mb_type type;
		int words;
	} types[] = {{"u16", MB_U16, 1}, {"s16", MB_S16, 1}, {"u32", MB_U32, 2},
	             {"s32", MB_S32, 2}, {"u64", MB_U64, 4}, {"s64", MB_S64, 4},
	             {"f32", MB_F32, 2}};
	size_t i, n = strlen(s);
	long len;

	if (strncmp(s, "str:", 4) == 0) {
		if (!parse_int(s + 4, n - 4, 1, MB_MAX_READ, &len))
			return -1;
		*type = MB_STR;
		*words = (int)len;
		*low_first = false;
		return 0;
	}
	*low_first = n > 2 && strcmp(s + n - 2, "le") == 0;
	if (n > 2 &&
	    (strcmp(s + n - 2, "le") == 0 || strcmp(s + n - 2, "be") == 0))
		n -= 2;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strlen(types[i].name) == n &&
		    strncmp(s, types[i].name, n) == 0) {
			if (types[i].words == 1 && *low_first)
				return -1; /* "u16le" means nothing */
			*type = types[i].type;
			*words = types[i].words;
			return 0;
		}
	}
	return -1;
}

/* Words in significance order (high first), whatever the wire order. */
static uint64_t
combine(const struct mb_reg *r, const uint16_t *w)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < r->words; i++)
		v = (v << 16) | w[r->low_first ? r->words - 1 - i : i];
	return v;
}

static void
decode_string(const struct mb_reg *r, const uint16_t *w, struct mb_value *out)
{
	size_t n = 0, i;

	for (i = 0; i < (size_t)r->words && n + 2 < sizeof(out->text); i++) {
		out->text[n++] = (char)(w[i] >> 8);
		out->text[n++] = (char)(w[i] & 0xff);
	}
	out->text[n] = '\0';
	/* NUL and space trimmed; anything else unprintable becomes '?' */
	n = strnlen(out->text, n);
	while (n > 0 && out->text[n - 1] == ' ')
		out->text[--n] = '\0';
	for (i = 0; i < n; i++)
		if ((unsigned char)out->text[i] < 0x20 ||
		    (unsigned char)out->text[i] >= 0x7f)
			out->text[i] = '?';
	i = strspn(out->text, " ");
	memmove(out->text, out->text + i, n - i + 1);
	out->kind = MB_TEXT;
}

void
mb_decode(const struct mb_reg *r, const uint16_t *w, struct mb_value *out)
{
	uint64_t u;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (r->type == MB_STR) {
		decode_string(r, w, out);
		return;
	}
	u = combine(r, w);
	switch (r->type) {
	case MB_S16:
		out->raw = (int16_t)u;
		break;
	case MB_S32:
		out->raw = (int32_t)u;
		break;
	case MB_S64:
		out->raw = (int64_t)u;
		break;
	case MB_F32: {
		uint32_t bits = (uint32_t)u;
		float f;

		memcpy(&f, &bits, sizeof(f));
		out->raw = (int64_t)bits;
		out->kind = isfinite(f) ? MB_NUMBER : MB_NONE;
		out->num = (double)f * r->scale;
		break;
	}
	default: /* unsigned */
		out->raw = (int64_t)u;
	}
	for (i = 0; i < r->ninvalid; i++)
		if (r->invalid[i] == out->raw) {
			out->kind = MB_NONE;
			return;
		}
	for (i = 0; i < r->ntext; i++)
		if (r->text_raw[i] == out->raw)
			out->label = r->text[i];
	if (r->type == MB_F32)
		return;
	out->kind = MB_NUMBER;
	out->num =
	    (r->type == MB_U64 ? (double)u : (double)out->raw) * r->scale;
	/* 0.1 * 2301 is 230.10000000000002: round to the scale's decimals */
	if (r->scale > 0 && r->scale < 1) {
		double digits = ceil(-log10(r->scale) - 1e-9);
		double p = pow(10, digits);

		out->num = round(out->num * p) / p;
	}
}

void
mb_encode(const struct mb_reg *r, double value, const char *text, uint16_t *w)
{
	uint64_t u;
	int i;

	if (r->type == MB_STR) {
		size_t n = text ? strlen(text) : 0;

		for (i = 0; i < r->words; i++) {
			unsigned char hi = (size_t)(2 * i) < n ? text[2 * i]
			                                       : ' ',
			              lo = (size_t)(2 * i + 1) < n
			                       ? text[2 * i + 1]
			                       : ' ';
			w[i] = (uint16_t)(hi << 8 | lo);
		}
		return;
	}
	if (r->type == MB_F32) {
		float f = (float)(value / r->scale);
		uint32_t bits;

		memcpy(&bits, &f, sizeof(bits));
		u = bits;
	} else {
		u = (uint64_t)(int64_t)llround(value / r->scale);
	}
	for (i = 0; i < r->words; i++) {
		uint16_t word = (uint16_t)(u >> (16 * (r->words - 1 - i)));

		w[r->low_first ? r->words - 1 - i : i] = word;
	}
}

static int
cmp_reg(const void *a, const void *b)
{
	const struct mb_reg *x = *(const struct mb_reg *const *)a,
	                    *y = *(const struct mb_reg *const *)b;

	if (x->fc != y->fc)
		return (int)x->fc - (int)y->fc;
	return (int)x->address - (int)y->address;
}

size_t
mb_plan(const struct mb_reg *regs, size_t n, int max_count, int max_hole,
        struct mb_request *out, size_t cap)
{
	const struct mb_reg **sorted;
	size_t i, count = 0;
	struct mb_request cur = {MB_INPUT, 0, 0};
	bool open = false;

	if (n == 0)
		return 0;
	sorted = malloc(n * sizeof(*sorted));
	if (sorted == NULL)
		return 0;
	for (i = 0; i < n; i++)
		sorted[i] = &regs[i];
	qsort(sorted, n, sizeof(*sorted), cmp_reg);
	for (i = 0; i < n; i++) {
		const struct mb_reg *r = sorted[i];
		int end = r->address + r->words; /* one past */
		int cur_end = cur.address + cur.count;

		if (open && r->fc == cur.fc &&
		    r->address <= cur_end + max_hole &&
		    (end > cur_end ? end : cur_end) - cur.address <=
		        max_count) {
			if (end > cur_end)
				cur.count = (uint16_t)(end - cur.address);
			continue;
		}
		if (open && count < cap)
			out[count] = cur;
		count += open;
		cur.fc = r->fc;
		cur.address = r->address;
		cur.count = (uint16_t)r->words;
		open = true;
	}
	if (count < cap)
		out[count] = cur;
	count++;
	free(sorted);
	return count;
}

int
mb_plan_writes(const struct mb_reg *const *regs, size_t n, size_t *order,
               struct mb_request *out, size_t clash[2])
{
	size_t i, j;
	int count = 0;

	for (i = 0; i < n; i++) { /* insertion: a few --write at most */
		for (j = i;
		     j > 0 && regs[order[j - 1]]->address > regs[i]->address;
		     j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	for (i = 0; i < n; i++) {
		const struct mb_reg *r = regs[order[i]];
		struct mb_request *cur = count > 0 ? &out[count - 1] : NULL;
		int cur_end = cur ? cur->address + cur->count : -1;

		if (cur != NULL && r->address < cur_end) {
			clash[0] = order[i - 1];
			clash[1] = order[i];
			return -1;
		}
		if (cur != NULL && r->address == cur_end &&
		    cur->count + r->words <= MB_MAX_WRITE) {
			cur->count = (uint16_t)(cur->count + r->words);
			continue;
		}
		out[count++] = (struct mb_request){MB_HOLDING, r->address,
		                                   (uint16_t)r->words};
	}
	return count;
}

const char *
mb_error_message(char *buf, size_t cap, int err, const struct mb_bus *bus,
                 int unit, uint64_t timeout_ms)
{
	if (err == MB_ERESOLVE)
		snprintf(buf, cap, "no such host: %s", bus->host);
	else if (err == ETIMEDOUT || err == EAGAIN)
		snprintf(buf, cap,
		         timeout_ms < 1000 ? "no response from unit %d within "
		                             "%.0f ms"
		                           : "no response from unit %d within "
		                             "%.3g s",
		         unit,
		         timeout_ms < 1000 ? (double)timeout_ms
		                           : (double)timeout_ms / 1000);
	else
		snprintf(buf, cap, "%s", modbus_strerror(err));
	return buf;
}

const char *
mb_error_word(int err)
{
	if (err == ETIMEDOUT || err == EAGAIN)
		return "timeout";
	if (err == EMBBADCRC)
		return "crc";
	if (err >= MODBUS_ENOBASE + 1 && err <= EMBXGTAR)
		return "exception";
	if (err == ECONNRESET || err == EPIPE || err == ECONNREFUSED ||
	    err == EBADF || err == ENOTCONN || err == ENOENT || err == ENODEV ||
	    err == ENXIO)
		return "closed";
	return "io";
}

bool
mb_error_needs_reconnect(int err)
{
	return strcmp(mb_error_word(err), "closed") == 0 ||
	       strcmp(mb_error_word(err), "io") == 0;
}

bool
mb_write_allowed(const struct mb_reg *r, double value)
{
	return r->writable && value >= r->write_min && value <= r->write_max;
}

void
mb_reg_free(struct mb_reg *r)
{
	size_t i;

	for (i = 0; i < r->ntext; i++)
		free(r->text[i]);
	free(r->text);
	free(r->text_raw);
	free(r->invalid);
	free(r->name);
	free(r->unit);
	free(r->dbus_path);
	free(r->description);
	memset(r, 0, sizeof(*r));
}
