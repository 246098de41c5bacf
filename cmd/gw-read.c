/*
 * gw-read: poll the registers of Modbus units (RTU or TCP) through a
 * register map or ad-hoc addresses and print one JSON record per unit and
 * poll.  Units that stop answering are kept and retried with backoff.
 */
#include <err.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <csv.h>

#include "cli.h"
#include "clock.h"
#include "jsonl.h"
#include "mb.h"
#include "msg.h"
#include "regmap.h"

#define MAX_REQUESTS 256
#define MAX_ADHOC    64
#define MAX_WRITES   32

enum { OPT_REG = 1, OPT_WRITE };

/* One --write: the register (of the map, or made from ADDR[:TYPE]) and
 * the value in its units. */
struct reg_write {
	const char *spec;
	const struct mb_reg *reg;
	struct mb_reg adhoc; /* when reg points here */
	double value;
	const char *text; /* for str registers */
};

struct unit {
	int id;
	uint64_t failing_since; /* monotonic ms of the first failure, or 0 */
	uint64_t next_try;      /* in backoff: when to try again */
	bool offline;           /* in backoff */
};

struct options {
	struct mb_bus bus;
	bool unit_set[256]; /* -u */
	uint64_t interval_ms, timeout_ms, gap_ms, backoff_after_ms, backoff_ms;
	long count;
	bool csv, gap_set, interval_set; /* -i 0: back to back */
	double max_rss_kb;
	const char *commands; /* --commands: a FIFO of write commands */
};

struct poller {
	const struct options *o;
	struct unit units[256]; /* polled, in id order, with their backoff */
	int nunits;
	struct regmap map; /* from -m, or built from -r */
	struct mb_request req[MAX_REQUESTS];
	size_t nreq;
	modbus_t *ctx;
	uint64_t last_request;    /* monotonic ms */
	uint16_t words[2][65536]; /* [0] input, [1] holding */
	struct jsonl_writer out;
	const char **labels; /* per register: enum label of this poll */
	bool any_failed;
	struct reg_write writes[MAX_WRITES];
	size_t nwrites;
	size_t order[MAX_WRITES];             /* writes by address */
	struct mb_request blocks[MAX_WRITES]; /* ... as requests */
	size_t nblocks;
	FILE *cmd_fp; /* --commands, read between polls */
	struct jsonl_reader cmd;
};

static uint16_t *
words_of(struct poller *p, enum mb_fc fc)
{
	return p->words[fc == MB_HOLDING];
}

/* "35", "0x23:u32:0.1", "23:str:5"; appended to the ad-hoc map. */
static int
add_adhoc(struct regmap *m, const char *spec, enum mb_fc fc)
{
	char buf[64], *addr, *type, *scale, *end, *save = NULL;
	struct mb_reg *r;
	long a;

	if (strlen(spec) >= sizeof(buf) || m->n == MAX_ADHOC)
		return -1;
	strcpy(buf, spec);
	addr = strtok_r(buf, ":", &save);
	type = strtok_r(NULL, ":", &save);
	if (type != NULL && strcmp(type, "str") == 0) {
		char *len = strtok_r(NULL, ":", &save);

		if (len == NULL)
			return -1;
		len[-1] = ':'; /* "str:N" again */
	}
	scale = strtok_r(NULL, ":", &save);
	errno = 0;
	a = addr ? strtol(addr, &end, 0) : -1;
	if (addr == NULL || *end != '\0' || errno || a < 0 || a > 65535)
		return -1;
	r = &m->regs[m->n];
	memset(r, 0, sizeof(*r));
	r->fc = fc;
	r->address = (uint16_t)a;
	r->type = MB_U16;
	r->words = 1;
	r->scale = 1;
	if (type != NULL &&
	    mb_parse_type(type, &r->type, &r->words, &r->low_first) < 0)
		return -1;
	if (scale != NULL) {
		r->scale = strtod(scale, &end);
		if (*end != '\0' || r->scale == 0)
			return -1;
	}
	if (a + r->words > 65536)
		return -1;
	r->name = strdup(addr);
	m->n++;
	return r->name ? 0 : -1;
}

/* Keep the least gap between requests on the bus. */
static void
wait_gap(struct poller *p)
{
	uint64_t now = clock_mono_ms(), due = p->last_request + p->o->gap_ms;
	struct timespec ts;

	if (p->last_request == 0 || now >= due)
		return;
	ts = clock_from_ms(due - now);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !cli_stop)
		;
}

static void
disconnect(struct poller *p)
{
	if (p->ctx == NULL)
		return;
	modbus_close(p->ctx);
	modbus_free(p->ctx);
	p->ctx = NULL;
}

/* Read every planned request from one unit; 0, or -1 with errno. */
static int
read_unit(struct poller *p, int unit)
{
	size_t i;

	if (p->ctx == NULL) {
		p->ctx = mb_connect(&p->o->bus, p->o->timeout_ms);
		if (p->ctx == NULL)
			return -1;
	}
	if (modbus_set_slave(p->ctx, unit) < 0)
		return -1;
	for (i = 0; i < p->nreq; i++) {
		const struct mb_request *q = &p->req[i];
		uint16_t *dst = words_of(p, q->fc) + q->address;
		int rc;

		wait_gap(p);
		rc = mb_read(p->ctx, q->fc, q->address, q->count, dst);
		p->last_request = clock_mono_ms();
		if (rc != q->count) {
			if (rc >= 0)
				errno = EMBBADDATA;
			return -1;
		}
	}
	return 0;
}

static void
begin(struct poller *p, int unit)
{
	struct timespec now = clock_wall();

	jsonl_begin(&p->out, &now, "gw-read");
	jsonl_str(&p->out, "bus", p->o->bus.spec);
	jsonl_int(&p->out, "unit", unit);
	jsonl_str(&p->out, "map", p->map.name);
}

static void
put_value(struct jsonl_writer *w, const char *key, const struct mb_value *v)
{
	if (v->kind == MB_NUMBER)
		jsonl_double(w, key, v->num);
	else if (v->kind == MB_TEXT)
		jsonl_str(w, key, v->text);
	else
		jsonl_null(w, key);
}

static int
write_values(struct poller *p, int unit, double latency_ms)
{
	struct mb_value v;
	bool labels = false;
	size_t i;

	begin(p, unit);
	jsonl_bool(&p->out, "ok", true);
	jsonl_double(&p->out, "latency_ms", round(latency_ms * 10) / 10);
	jsonl_object_open(&p->out, "values");
	for (i = 0; i < p->map.n; i++) {
		const struct mb_reg *r = &p->map.regs[i];

		mb_decode(r, words_of(p, r->fc) + r->address, &v);
		put_value(&p->out, r->name, &v);
		p->labels[i] = v.label; /* points into the map */
		labels |= v.label != NULL;
	}
	jsonl_object_close(&p->out);
	if (labels) { /* enum labels beside the numbers */
		jsonl_object_open(&p->out, "text");
		for (i = 0; i < p->map.n; i++)
			if (p->labels[i] != NULL)
				jsonl_str(&p->out, p->map.regs[i].name,
				          p->labels[i]);
		jsonl_object_close(&p->out);
	}
	return jsonl_end(&p->out);
}

static int
write_failure(struct poller *p, int unit, int err, double latency_ms)
{
	char msg[300];

	begin(p, unit);
	jsonl_bool(&p->out, "ok", false);
	jsonl_double(&p->out, "latency_ms", round(latency_ms * 10) / 10);
	jsonl_str(&p->out, "error", mb_error_word(err));
	jsonl_str(&p->out, "message",
	          mb_error_message(msg, sizeof(msg), err, &p->o->bus, unit,
	                           p->o->timeout_ms));
	return jsonl_end(&p->out);
}

static int
write_event(struct poller *p, int unit, const char *event, const char *key,
            double seconds)
{
	begin(p, unit);
	jsonl_str(&p->out, "event", event);
	jsonl_double(&p->out, key, round(seconds * 10) / 10);
	return jsonl_end(&p->out);
}

/* ---- CSV --------------------------------------------------------------- */

static void
csv_field(FILE *fp, const char *s, bool first)
{
	if (!first)
		fputc(',', fp);
	csv_fwrite(fp, s, strlen(s));
}

static void
csv_header(struct poller *p)
{
	size_t i;

	fputs("ts,bus,unit,ok,latency_ms,error", stdout);
	for (i = 0; i < p->map.n; i++)
		csv_field(stdout, p->map.regs[i].name, false);
	fputc('\n', stdout);
}

static int
csv_row(struct poller *p, int unit, int err, double latency_ms)
{
	struct timespec now = clock_wall();
	struct mb_value v;
	char num[32];
	size_t i;

	printf("%lld.%03ld,", (long long)now.tv_sec, now.tv_nsec / 1000000);
	csv_field(stdout, p->o->bus.spec, true);
	printf(",%d,%s,%.1f,%s", unit, err ? "false" : "true", latency_ms,
	       err ? mb_error_word(err) : "");
	for (i = 0; i < p->map.n; i++) {
		const struct mb_reg *r = &p->map.regs[i];

		fputc(',', stdout);
		if (err)
			continue;
		mb_decode(r, words_of(p, r->fc) + r->address, &v);
		if (v.kind == MB_TEXT) {
			csv_fwrite(stdout, v.text, strlen(v.text));
		} else if (v.kind == MB_NUMBER) {
			jsonl_format_double(num, v.num);
			fputs(num, stdout);
		}
	}
	fputc('\n', stdout);
	return ferror(stdout) ? -1 : 0;
}

/* ---- one poll ---------------------------------------------------------- */

static int
report(struct poller *p, int unit, int err, double latency_ms)
{
	if (p->o->csv)
		return csv_row(p, unit, err, latency_ms);
	return err ? write_failure(p, unit, err, latency_ms)
	           : write_values(p, unit, latency_ms);
}

static int
event(struct poller *p, int unit, const char *what, const char *key,
      double seconds)
{
	if (p->o->csv) {
		msg_warn("unit %d: %s (%s %.0f s)", unit, what, key, seconds);
		return 0;
	}
	return write_event(p, unit, what, key, seconds);
}

/*
 * Poll one unit when it is due, and move it between online, failing and
 * offline (backoff).  Returns -1 when output failed.
 */
static int
poll_unit(struct poller *p, struct unit *u)
{
	const struct options *o = p->o;
	uint64_t start = clock_mono_ms(), now;
	int err = 0;

	if (u->offline && start < u->next_try)
		return 0;
	if (read_unit(p, u->id) < 0) {
		err = errno ? errno : EIO;
		if (mb_error_needs_reconnect(err))
			disconnect(p);
	}
	now = clock_mono_ms();
	if (report(p, u->id, err, (double)(now - start)) < 0)
		return -1;
	if (err == 0) {
		if (u->offline &&
		    event(p, u->id, "online", "offline_s",
		          (double)(now - u->failing_since) / 1000) < 0)
			return -1;
		u->offline = false;
		u->failing_since = 0;
		return 0;
	}
	p->any_failed = true;
	if (u->failing_since == 0)
		u->failing_since = start;
	if (u->offline) {
		u->next_try = now + o->backoff_ms;
		return event(p, u->id, "backoff", "retry_in_s",
		             (double)o->backoff_ms / 1000);
	}
	if (now - u->failing_since >= o->backoff_after_ms) {
		u->offline = true;
		u->next_try = now + o->backoff_ms;
		return event(p, u->id, "offline", "failing_s",
		             (double)(now - u->failing_since) / 1000);
	}
	return 0;
}

/* ---- main -------------------------------------------------------------- */

static int
sleep_until(uint64_t due)
{
	struct timespec ts = clock_from_ms(due);

	while (!cli_stop && clock_mono_ms() < due &&
	       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	           EINTR)
		;
	return cli_stop ? -1 : 0;
}

/* ---- --commands ------------------------------------------------------- */

/* The start of a write record, done or refused. */
static void
begin_write(struct poller *p, int unit, const char *name)
{
	begin(p, unit);
	jsonl_str(&p->out, "event", "write");
	jsonl_str(&p->out, "register", name);
}

static int write_one(struct poller *p, int unit, const struct reg_write *w);

static bool
polled_unit(const struct options *o, long unit)
{
	return unit >= 0 && unit < 256 && o->unit_set[unit];
}

/* A refused command, said on stderr and in the stream for the publisher. */
static int
refuse(struct poller *p, long unit, const char *name, const char *why)
{
	msg_warn("%s:%llu: %s", p->cmd.name, (unsigned long long)p->cmd.lineno,
	         why);
	begin_write(p, (int)unit, name);
	jsonl_bool(&p->out, "ok", false);
	jsonl_str(&p->out, "error", "refused");
	jsonl_str(&p->out, "message", why);
	return jsonl_end(&p->out);
}

/* {"unit":1,"name":"active_power_rate","value":40}: only what the map
 * marks writable, within its limits; never --force. */
static int
run_command(struct poller *p)
{
	json_t *c = jsonl_parse_line(&p->cmd), *v;
	const char *name;
	struct reg_write w = {.spec = "command"};
	long unit;
	int rc = 0;

	if (c == NULL)
		return 0; /* reported with its line number */
	name = json_string_value(json_object_get(c, "name"));
	v = json_object_get(c, "value");
	unit = json_is_integer(json_object_get(c, "unit"))
	           ? (long)json_integer_value(json_object_get(c, "unit"))
	           : p->units[0].id;
	w.reg = name ? regmap_find(&p->map, name) : NULL;
	if (name == NULL || !json_is_number(v))
		rc = refuse(p, unit, name ? name : "", "want name and value");
	else if (!polled_unit(p->o, unit))
		rc = refuse(p, unit, name, "a unit this gw-read does not poll");
	else if (w.reg == NULL || !w.reg->writable)
		rc =
		    refuse(p, unit, name, "not a writable register of the map");
	else if (!mb_write_allowed(w.reg, json_number_value(v)))
		rc = refuse(p, unit, name, "outside the map's limits");
	else {
		w.value = json_number_value(v);
		rc = write_one(p, (int)unit, &w) < 0 ? -1 : 0;
	}
	json_decref(c);
	return rc;
}

/* Until due: commands as they come (or a plain sleep without them).
 * 0 when due; -1 when stopped; -2 when a record could not be written;
 * CLI_EXIT_FAILURE when the FIFO could not be read (said). */
static int
wait_commands(struct poller *p, uint64_t due)
{
	uint64_t now;

	if (p->cmd_fp == NULL)
		return sleep_until(due);
	while (!cli_stop && (now = clock_mono_ms()) < due) {
		struct pollfd pfd = {fileno(p->cmd_fp), POLLIN, 0};
		int r;

		if (poll(&pfd, 1, (int)(due - now)) <= 0)
			continue;
		r = jsonl_read_some(&p->cmd);
		if (r < 0 && errno != EAGAIN && errno != EINTR) {
			warn("%s", p->o->commands);
			return CLI_EXIT_FAILURE;
		}
		while (jsonl_take_line(&p->cmd))
			if (run_command(p) < 0)
				return -2;
	}
	return cli_stop ? -1 : 0;
}

/* The FIFO, opened read-write: no writer yet is no end of input. */
static int
open_commands(struct poller *p)
{
	int fd;

	if (p->o->commands == NULL)
		return CLI_CONTINUE;
	fd = open(p->o->commands, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || (p->cmd_fp = fdopen(fd, "r")) == NULL) {
		warn("%s", p->o->commands);
		if (fd >= 0)
			close(fd);
		return CLI_EXIT_FAILURE;
	}
	jsonl_reader_init(&p->cmd, p->cmd_fp, p->o->commands);
	return CLI_CONTINUE;
}

static void
close_commands(struct poller *p)
{
	if (p->cmd_fp == NULL)
		return;
	jsonl_reader_free(&p->cmd);
	fclose(p->cmd_fp);
	p->cmd_fp = NULL;
}

static int
loop(struct poller *p)
{
	const struct options *o = p->o;
	uint64_t tick = clock_mono_ms();
	long polls = 0;
	int i;

	for (;;) {
		for (i = 0; i < p->nunits && !cli_stop; i++)
			if (poll_unit(p, &p->units[i]) < 0)
				return -1;
		if (o->csv)
			fflush(stdout);
		polls++;
		if (cli_stop || !o->interval_set ||
		    (o->count > 0 && polls >= o->count))
			return 0;
		if (cli_over_max_rss(o->max_rss_kb))
			return CLI_EXIT_LIMIT;
		tick += o->interval_ms;
		if (tick < clock_mono_ms())
			tick = clock_mono_ms();
		switch ((i = wait_commands(p, tick))) {
		case 0:
			break;
		case -1:
			return 0;
		case -2:
			return -1; /* a record could not be written */
		default:
			return i;
		}
	}
}

/* ---- --write ------------------------------------------------------------ */

/* The register a --write names: by name in the map, or ADDR[:TYPE[:SCALE]]
 * (a holding register; the map's own when it has one there). */
static int
write_target(struct poller *p, struct reg_write *w, const char *target,
             bool force)
{
	struct regmap one = {.regs = &w->adhoc};
	size_t i;

	if (!isdigit((unsigned char)target[0])) {
		if ((w->reg = regmap_find(&p->map, target)) == NULL)
			return cli_usage_error("--write: no register '%s' in "
			                       "the map",
			                       target);
		return CLI_CONTINUE;
	}
	if (add_adhoc(&one, target, MB_HOLDING) < 0)
		return cli_usage_error("--write: bad register '%s' (want "
		                       "ADDR[:TYPE])",
		                       target);
	w->reg = &w->adhoc;
	for (i = 0; i < p->map.n; i++)
		if (p->map.regs[i].fc == MB_HOLDING &&
		    p->map.regs[i].address == w->adhoc.address) {
			w->reg = &p->map.regs[i];
			mb_reg_free(&w->adhoc);
			memset(&w->adhoc, 0, sizeof(w->adhoc));
			return CLI_CONTINUE;
		}
	if (p->map.n > 0 && !force) {
		mb_reg_free(&w->adhoc);
		return cli_usage_error("--write: %s is not in the map %s "
		                       "(--force writes it anyway)",
		                       target, p->map.name);
	}
	return CLI_CONTINUE;
}

/* Check one --write NAME=VALUE or ADDR[:TYPE]=VALUE against the map. */
static int
add_write(struct poller *p, const char *spec, bool force)
{
	struct reg_write *w = &p->writes[p->nwrites];
	const char *eq = strchr(spec, '=');
	char target[64], *end;
	const struct mb_reg *r;
	int rc;

	if (p->nwrites == MAX_WRITES)
		return cli_usage_error("--write: at most %d", MAX_WRITES);
	if (eq == NULL || eq == spec || (size_t)(eq - spec) >= sizeof(target))
		return cli_usage_error("--write: '%s' is not NAME=VALUE or "
		                       "ADDR[:TYPE]=VALUE",
		                       spec);
	memcpy(target, spec, (size_t)(eq - spec));
	target[eq - spec] = '\0';
	memset(w, 0, sizeof(*w));
	w->spec = spec;
	if ((rc = write_target(p, w, target, force)) >= 0)
		return rc;
	p->nwrites++; /* from here on freed with the others */
	r = w->reg;
	if (r->fc != MB_HOLDING)
		return cli_usage_error("--write: %s is an input register; only "
		                       "holding registers can be written",
		                       target);
	w->text = r->type == MB_STR ? eq + 1 : NULL;
	w->value = strtod(eq + 1, &end);
	if (w->text == NULL && (end == eq + 1 || *end != '\0'))
		return cli_usage_error("--write: '%s' is not a number", eq + 1);
	if (force || r == &w->adhoc)
		return CLI_CONTINUE;
	if (!r->writable)
		return cli_usage_error("--write: the map does not mark %s "
		                       "writable (--force writes it anyway)",
		                       r->name);
	if (!mb_write_allowed(r, w->value))
		return cli_usage_error("--write: %s=%s is outside %g..%g "
		                       "(--force writes it anyway)",
		                       r->name, eq + 1, r->write_min,
		                       r->write_max);
	return CLI_CONTINUE;
}

/* A block's request and its read-back: 0, or the errno of the failure. */
static int
write_request(struct poller *p, int unit, const struct mb_request *q,
              const uint16_t *words, uint16_t *back)
{
	int rc = -1;

	if (p->ctx == NULL)
		p->ctx = mb_connect(&p->o->bus, p->o->timeout_ms);
	if (p->ctx != NULL && modbus_set_slave(p->ctx, unit) == 0) {
		wait_gap(p);
		rc = q->count == 1
		         ? modbus_write_register(p->ctx, q->address, words[0])
		         : modbus_write_registers(p->ctx, q->address, q->count,
		                                  words);
		p->last_request = clock_mono_ms();
		if (rc >= 0) {
			wait_gap(p);
			rc = modbus_read_registers(p->ctx, q->address, q->count,
			                           back);
			p->last_request = clock_mono_ms();
		}
	}
	if (rc >= 0)
		return 0;
	rc = errno != 0 ? errno : EIO;
	if (mb_error_needs_reconnect(rc))
		disconnect(p);
	return rc;
}

/* The record of one register of a block: what was written, what came
 * back.  1 when they match, 0 when not, -1 when it could not be written. */
static int
write_record(struct poller *p, int unit, const struct reg_write *w,
             const uint16_t *words, const uint16_t *back, int err)
{
	const struct mb_reg *r = w->reg;
	struct mb_value wrote, got;
	char msg[300];
	bool same = err == 0 && memcmp(words, back, (size_t)r->words * 2) == 0;

	mb_decode(r, words, &wrote);
	begin_write(p, unit, r->name ? r->name : w->spec);
	jsonl_int(&p->out, "address", r->address);
	put_value(&p->out, "value", &wrote);
	if (err == 0) {
		mb_decode(r, back, &got);
		put_value(&p->out, "read_back", &got);
	} else {
		jsonl_null(&p->out, "read_back");
	}
	jsonl_bool(&p->out, "ok", same);
	if (err != 0) {
		jsonl_str(&p->out, "error", mb_error_word(err));
		jsonl_str(&p->out, "message",
		          mb_error_message(msg, sizeof(msg), err, &p->o->bus,
		                           unit, p->o->timeout_ms));
	} else if (!same) {
		jsonl_str(&p->out, "error", "mismatch");
		jsonl_str(&p->out, "message", "read back another value");
	}
	return jsonl_end(&p->out) < 0 ? -1 : same;
}

/*
 * Write one block of registers that follow each other, ws[0..n) by
 * address: one request (function 6 for one word, else 16) and one
 * read-back, then a record per register.  1 when all read back, 0 when
 * not, -1 when a record could not be written.
 */
static int
write_block(struct poller *p, int unit, const struct reg_write *const *ws,
            size_t n, const struct mb_request *q)
{
	uint16_t words[MB_MAX_WRITE], back[MB_MAX_WRITE];
	size_t k;
	int err, rc, all = 1;

	memset(words, 0, sizeof(words));
	memset(back, 0, sizeof(back));
	for (k = 0; k < n; k++)
		mb_encode(ws[k]->reg, ws[k]->value, ws[k]->text,
		          words + (ws[k]->reg->address - q->address));
	err = write_request(p, unit, q, words, back);
	for (k = 0; k < n; k++) {
		size_t at = ws[k]->reg->address - q->address;

		if ((rc = write_record(p, unit, ws[k], words + at, back + at,
		                       err)) < 0)
			return -1;
		all &= rc;
	}
	return all;
}

/* One register, a block of its own (a --commands line). */
static int
write_one(struct poller *p, int unit, const struct reg_write *w)
{
	const struct reg_write *ws[1] = {w};
	struct mb_request q = {MB_HOLDING, w->reg->address,
	                       (uint16_t)w->reg->words};

	return write_block(p, unit, ws, 1, &q);
}

/* Every --write on every unit, once, block by block: 0 when all read
 * back, else 1. */
static int
run_writes(struct poller *p)
{
	const struct reg_write *ws[MAX_WRITES];
	size_t k = 0, b, n;
	bool all = true;
	int i, rc;

	for (i = 0; i < p->nunits && !cli_stop; i++)
		for (b = 0, k = 0; b < p->nblocks && !cli_stop; b++, k += n) {
			const struct mb_request *q = &p->blocks[b];

			for (n = 0; k + n < p->nwrites &&
			            p->writes[p->order[k + n]].reg->address <
			                q->address + q->count;
			     n++)
				ws[n] = &p->writes[p->order[k + n]];
			if ((rc = write_block(p, p->units[i].id, ws, n, q)) < 0)
				return -1;
			all &= rc == 1;
		}
	return all ? 0 : CLI_EXIT_FAILURE;
}

static void
free_writes(struct poller *p)
{
	size_t k;

	for (k = 0; k < p->nwrites; k++)
		if (p->writes[k].reg == &p->writes[k].adhoc)
			mb_reg_free(&p->writes[k].adhoc);
}

/* Check every --write and plan them as blocks of adjacent registers. */
static int
setup_writes(struct poller *p, char **specs, int n, bool force)
{
	const struct mb_reg *regs[MAX_WRITES];
	size_t clash[2], k;
	int i, rc;

	if (n > MAX_WRITES)
		return cli_usage_error("--write: at most %d", MAX_WRITES);
	for (i = 0; i < n; i++)
		if ((rc = add_write(p, specs[i], force)) >= 0)
			return rc;
	for (k = 0; k < p->nwrites; k++)
		regs[k] = p->writes[k].reg;
	rc = mb_plan_writes(regs, p->nwrites, p->order, p->blocks, clash);
	if (rc < 0)
		return cli_usage_error("--write: %s and %s write the same "
		                       "register",
		                       p->writes[clash[0]].spec,
		                       p->writes[clash[1]].spec);
	p->nblocks = (size_t)rc;
	return CLI_CONTINUE;
}

/* The option strings, named (NULL when not given), and the repeated
 * -r and -w, which the caller frees. */
struct args {
	char *bus, *units, *map, *fc, *format, *max_rss, *commands;
	char *interval, *timeout, *gap, *backoff_after, *backoff;
	char *adhoc[MAX_ADHOC], *writes[MAX_WRITES];
	int nadhoc, nwrites, force;
	bool too_many; /* more --write than MAX_WRITES */
};

static int
parse_durations(struct options *o, const struct args *a)
{
	const struct cli_duration d[] = {
	    {"interval", a->interval, &o->interval_ms},
	    {"timeout", a->timeout, &o->timeout_ms},
	    {"gap", a->gap, &o->gap_ms},
	    {"backoff-after", a->backoff_after, &o->backoff_after_ms},
	    {"backoff", a->backoff, &o->backoff_ms}};
	int rc;

	if ((rc = cli_parse_durations(d, sizeof(d) / sizeof(d[0]))) >= 0)
		return rc;
	o->gap_set = a->gap != NULL;
	o->interval_set = a->interval != NULL;
	if (a->timeout != NULL && o->timeout_ms == 0)
		return cli_usage_error("--timeout must be more than 0");
	return CLI_CONTINUE;
}

static int
load_registers(struct poller *p, const char *map, char **adhoc, int nadhoc,
               const char *fc, bool writes)
{
	char msg[512];
	int i;

	if (map == NULL && nadhoc == 0 && !writes)
		return cli_usage_error("what to read: give -m MAP or -r ADDR");
	if (strcmp(fc, "input") != 0 && strcmp(fc, "holding") != 0)
		return cli_usage_error("--fc: '%s' is not input or holding",
		                       fc);
	if (map != NULL) {
		if (regmap_load(map, &p->map, msg, sizeof(msg)) < 0) {
			warnx("%s", msg);
			return CLI_EXIT_FAILURE;
		}
		/* -r with a map: its registers by name */
		if (nadhoc > 0 &&
		    regmap_select(&p->map, (const char *const *)adhoc,
		                  (size_t)nadhoc, msg, sizeof(msg)) < 0)
			return cli_usage_error("-r: %s", msg);
		return CLI_CONTINUE;
	}
	p->map.regs = calloc(MAX_ADHOC, sizeof(struct mb_reg));
	p->map.name = strdup("adhoc");
	p->map.max_registers = MB_MAX_READ;
	p->map.max_hole = 16;
	if (p->map.regs == NULL || p->map.name == NULL)
		err(CLI_EXIT_FAILURE, "out of memory");
	for (i = 0; i < nadhoc; i++)
		if (add_adhoc(&p->map, adhoc[i],
		              fc[0] == 'i' ? MB_INPUT : MB_HOLDING) < 0)
			return cli_usage_error("-r: bad register '%s' (want "
			                       "ADDR[:TYPE[:SCALE]])",
			                       adhoc[i]);
	return CLI_CONTINUE;
}

static int
plan(struct poller *p)
{
	p->nreq = mb_plan(p->map.regs, p->map.n, p->map.max_registers,
	                  p->map.max_hole, p->req, MAX_REQUESTS);
	if (p->nreq > MAX_REQUESTS) {
		warnx("%s: needs %zu requests, more than %d", p->map.path,
		      p->nreq, MAX_REQUESTS);
		return CLI_EXIT_FAILURE;
	}
	p->labels = calloc(p->map.n, sizeof(*p->labels));
	if (p->labels == NULL)
		err(CLI_EXIT_FAILURE, "out of memory");
	msg_debug("%zu registers in %zu requests", p->map.n, p->nreq);
	return CLI_CONTINUE;
}

static int
check(struct options *o, const struct args *a)
{
	char err[300];
	int rc;

	if (mb_parse_bus_units(a->bus, a->units, "1", &o->bus, o->unit_set, err,
	                       sizeof(err)) < 0)
		return cli_usage_error("%s", err);
	if ((rc = parse_durations(o, a)) >= 0)
		return rc;
	if (a->format != NULL && strcmp(a->format, "csv") != 0 &&
	    strcmp(a->format, "jsonl") != 0)
		return cli_usage_error("--format: '%s' is not jsonl or csv",
		                       a->format);
	o->csv = a->format != NULL && strcmp(a->format, "csv") == 0;
	if (o->csv && cli_tags.n > 0)
		return cli_usage_error("--tag adds fields to records: not with "
		                       "--format csv");
	if ((rc = cli_parse_max_rss(a->max_rss, &o->max_rss_kb)) >= 0)
		return rc;
	o->commands = a->commands;
	if (a->commands != NULL && (a->map == NULL || !o->interval_set))
		return cli_usage_error("--commands needs -m MAP and -i");
	return CLI_CONTINUE;
}

/* Every option until the end, -r and -w kept in order. */
static int
next_options(poptContext con, struct args *a, struct cli_strings *strings,
             char **reg, char **write)
{
	int rc;

	while ((rc = poptGetNextOpt(con)) > 0) {
		cli_strings_update(strings);
		if (rc == OPT_REG && a->nadhoc < MAX_ADHOC)
			a->adhoc[a->nadhoc++] = *reg;
		else if (rc == OPT_REG)
			free(*reg);
		if (rc == CLI_OPT_TAG && (rc = cli_take_tag(con)) >= 0)
			return rc;
		if (rc == OPT_WRITE && a->nwrites < MAX_WRITES)
			a->writes[a->nwrites++] = *write;
		else if (rc == OPT_WRITE)
			free(*write), a->too_many = true;
		*reg = *write = NULL;
	}
	if ((rc = cli_finish_options(con, rc)) >= 0)
		return rc;
	if (poptPeekArg(con) != NULL)
		return cli_usage_error("unexpected argument '%s'",
		                       poptPeekArg(con));
	return CLI_CONTINUE;
}

static int
parse(int argc, char **argv, struct options *o, struct args *a,
      struct cli_strings *strings, poptContext *con)
{
	static char *reg, *write;
	int rc;
	struct poptOption table[] = {
	    {"bus", 'b', POPT_ARG_STRING, &a->bus, CLI_OPT_STRING,
	     "rtu:DEVICE[:BAUD[:8N1]] or tcp:HOST[:PORT]", "SPEC"},
	    {"units", 'u', POPT_ARG_STRING, &a->units, CLI_OPT_STRING,
	     "unit ids: 1,2 or 1-5 (default 1)", "IDS"},
	    {"map", 'm', POPT_ARG_STRING, &a->map, CLI_OPT_STRING,
	     "register map: a CSV file or a short name", "MAP"},
	    {"register", 'r', POPT_ARG_STRING, &reg, OPT_REG,
	     "read ADDR[:TYPE[:SCALE]]; with -m, the map's NAME[,NAME] "
	     "(repeatable)",
	     "ADDR"},
	    {"fc", '\0', POPT_ARG_STRING, &a->fc, CLI_OPT_STRING,
	     "function of -r registers: input (default) or holding", "FC"},
	    {"interval", 'i', POPT_ARG_STRING, &a->interval, CLI_OPT_STRING,
	     "poll every DUR (default: once)", "DUR"},
	    {"count", 'n', POPT_ARG_LONG, &o->count, 0, "stop after N polls",
	     "N"},
	    {"format", '\0', POPT_ARG_STRING, &a->format, CLI_OPT_STRING,
	     "jsonl (default) or csv", "FMT"},
	    {"timeout", '\0', POPT_ARG_STRING, &a->timeout, CLI_OPT_STRING,
	     "response timeout (default 500ms)", "DUR"},
	    {"gap", '\0', POPT_ARG_STRING, &a->gap, CLI_OPT_STRING,
	     "least time between requests (default: the map's, on RTU)", "DUR"},
	    {"backoff-after", '\0', POPT_ARG_STRING, &a->backoff_after,
	     CLI_OPT_STRING,
	     "a unit failing this long is offline (default 30s)", "DUR"},
	    {"backoff", '\0', POPT_ARG_STRING, &a->backoff, CLI_OPT_STRING,
	     "retry an offline unit every DUR (default 60s)", "DUR"},
	    {"write", 'w', POPT_ARG_STRING, &write, OPT_WRITE,
	     "write a holding register, read it back, exit (repeatable)",
	     "NAME=VALUE"},
	    {"force", '\0', POPT_ARG_NONE, &a->force, 0,
	     "--write what the map does not mark writable or allow", NULL},
	    {"commands", '\0', POPT_ARG_STRING, &a->commands, CLI_OPT_STRING,
	     "between polls, do the writes FIFO asks for (gw-publish)", "FIFO"},
	    CLI_MAX_RSS_OPTION(&a->max_rss, "gw-read"),
	    CLI_TAG_OPTION,
	    CLI_COMMON_OPTIONS,
	    POPT_TABLEEND};

	*con = cli_context(argc, argv, table,
	                   "[OPTION...] -b SPEC {-m MAP | -r ADDR...}", 0);
	CLI_STRINGS_TRACK(strings, &a->bus, &a->units, &a->map, &a->fc,
	                  &a->format, &a->max_rss, &a->commands, &a->interval,
	                  &a->timeout, &a->gap, &a->backoff_after, &a->backoff);
	if ((rc = next_options(*con, a, strings, &reg, &write)) >= 0)
		return rc;
	return check(o, a);
}

/* The registers, the writes or the plan, the units and the FIFO. */
static int
setup(struct poller *p, struct options *o, const struct args *a)
{
	int rc, id;

	for (id = 0; id < 256; id++)
		if (o->unit_set[id])
			p->units[p->nunits++].id = id;
	if ((rc = load_registers(p, a->map, (char **)a->adhoc, a->nadhoc,
	                         a->fc ? a->fc : "input", a->nwrites > 0)) >=
	        0 ||
	    (rc = a->nwrites > 0
	              ? setup_writes(p, (char **)a->writes,
	                             a->nwrites + a->too_many, a->force)
	              : plan(p)) >= 0)
		return rc;
	/* the map's gap is the RTU line's silence between frames: TCP has
	 * none */
	if (!o->gap_set && o->bus.kind == MB_RTU)
		o->gap_ms = p->map.min_gap_ms;
	return open_commands(p);
}

int
main(int argc, char **argv)
{
	static struct options o = {
	    .timeout_ms = 500, .backoff_after_ms = 30000, .backoff_ms = 60000};
	static struct poller p = {.o = &o};
	static struct args a;
	struct cli_strings strings = {0};
	poptContext con = NULL;
	int rc, i;

	if ((rc = parse(argc, argv, &o, &a, &strings, &con)) >= 0 ||
	    (rc = setup(&p, &o, &a)) >= 0)
		goto cleanup;

	cli_catch_stop_signals();
	setvbuf(stdout, NULL, o.csv ? _IOFBF : _IOLBF, 0);
	jsonl_writer_init(&p.out, stdout);
	p.out.tags = &cli_tags;
	if (o.csv)
		csv_header(&p);
	rc = cli_loop_exit(&p.out, a.nwrites > 0 ? run_writes(&p) : loop(&p));
	if (rc == 0 && !o.interval_set && p.any_failed)
		rc = CLI_EXIT_FAILURE; /* a one-shot read that failed */
	disconnect(&p);
	jsonl_writer_free(&p.out);
	rc = cli_finish_stdout(rc);
cleanup:
	close_commands(&p);
	free_writes(&p);
	free(p.labels);
	regmap_free(&p.map);
	for (i = 0; i < a.nadhoc; i++)
		free(a.adhoc[i]);
	for (i = 0; i < a.nwrites; i++)
		free(a.writes[i]);
	cli_strings_free(&strings);
	poptFreeContext(con);
	return rc;
}
