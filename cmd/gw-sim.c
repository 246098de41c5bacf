/*
 * gw-sim: a Modbus inverter you can run anywhere.  Serves a register map
 * as one or more slaves over TCP or RTU with plausible PV values, and fails
 * on demand (offline periods, exceptions, corrupt frames, latency).
 */
#include <err.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "mb.h"
#include "msg.h"
#include "parse.h"
#include "regmap.h"

#define MAX_CLIENTS 32
#define FRAME_MAX   260

struct options {
	struct mb_bus bus;
	bool units[256];
	uint64_t offline_after_ms, offline_for_ms, latency_ms;
	double exception_rate, corrupt_rate, peak_w;
	double start_hour; /* simulated time of day at start, or < 0: real */
	uint64_t seed;
	double max_rss_kb;
};

/* One served unit: its registers and its energy counters. */
struct slave {
	modbus_mapping_t *mapping;
	double energy_today_kwh, time_total_s;
	uint64_t last_update; /* monotonic ms */
};

/* What a register holds, found once from the names of the Growatt maps. */
enum role {
	R_PATTERN,
	R_STATUS,
	R_PV_POWER,
	R_STRING_V,
	R_STRING_I,
	R_STRING_P,
	R_AC_POWER,
	R_FREQUENCY,
	R_L1_VOLTAGE,
	R_L1_CURRENT,
	R_OTHER_PHASE,
	R_ENERGY_TODAY,
	R_ENERGY_TOTAL,
	R_TIME_TOTAL,
	R_TEMPERATURE,
	R_ADDRESS,
	R_DEVICE_TYPE,
	R_RATED,
	R_ZERO,
	R_SERIAL,
	R_TEXT,
	R_WRITABLE /* the map's write column: holds what is written */
};

struct sim {
	const struct options *o;
	struct regmap map;
	enum role *roles; /* per register of the map */
	struct slave slaves[256];
	modbus_t *ctx;
	uint64_t started; /* monotonic ms */
	uint64_t rng;
	uint16_t in_lo, in_hi, hold_lo, hold_hi; /* served ranges */
};

static double
random01(struct sim *s)
{
	uint64_t x = s->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->rng = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/* Hours since midnight of the simulated clock. */
static double
sim_hour(const struct sim *s)
{
	double h;

	if (s->o->start_hour >= 0)
		h = s->o->start_hour +
		    (double)(clock_mono_ms() - s->started) / 3600000.0;
	else {
		time_t t = time(NULL);
		struct tm tm;

		localtime_r(&t, &tm);
		h = tm.tm_hour + tm.tm_min / 60.0 + tm.tm_sec / 3600.0;
	}
	return fmod(h, 24);
}

/* A clear-sky day: zero at night, a half sine from 6 to 18 h. */
static double
pv_power(struct sim *s)
{
	double h = sim_hour(s), p;

	if (h < 6 || h > 18)
		return 0;
	p = s->o->peak_w * sin(M_PI * (h - 6) / 12);
	return fmax(0, p * (0.98 + 0.04 * random01(s)));
}

static enum role
role_of(const struct mb_reg *r)
{
	static const struct {
		const char *name;
		enum role role;
	} exact[] = {{"status", R_STATUS},
	             {"pv_power", R_PV_POWER},
	             {"ac_power", R_AC_POWER},
	             {"l1_power", R_AC_POWER},
	             {"grid_frequency", R_FREQUENCY},
	             {"l1_voltage", R_L1_VOLTAGE},
	             {"l1_current", R_L1_CURRENT},
	             {"energy_today", R_ENERGY_TODAY},
	             {"energy_total", R_ENERGY_TOTAL},
	             {"time_total", R_TIME_TOTAL},
	             {"temperature", R_TEMPERATURE},
	             {"modbus_address", R_ADDRESS},
	             {"device_type", R_DEVICE_TYPE},
	             {"rated_power", R_RATED},
	             {"fault_code", R_ZERO},
	             {"serial", R_SERIAL}};
	const char *n = r->name;
	size_t i;

	if (r->writable)
		return R_WRITABLE;
	for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strcmp(n, exact[i].name) == 0)
			return exact[i].role;
	if (r->type == MB_STR)
		return R_TEXT;
	if (strncmp(n, "pv1_", 4) == 0 || strncmp(n, "pv2_", 4) == 0)
		return strstr(n, "voltage")   ? R_STRING_V
		       : strstr(n, "current") ? R_STRING_I
		                              : R_STRING_P;
	if (strncmp(n, "l2_", 3) == 0 || strncmp(n, "l3_", 3) == 0)
		return R_OTHER_PHASE; /* a single-phase inverter */
	return R_PATTERN;
}

/* The value of register r (of role) now. */
static double
value_of(struct sim *s, const struct slave *sl, const struct mb_reg *r,
         enum role role, double pv, int unit)
{
	double ac = pv * 0.97, v = pv > 0 ? 350 + 20 * random01(s) : 0;
	/* strings are pv1_ (60%) and pv2_ (40%) */
	double share =
	    role >= R_STRING_V && role <= R_STRING_P && r->name[2] == '1' ? 0.6
	                                                                  : 0.4;

	switch (role) {
	case R_STATUS:
		return pv > 0 ? 1 : 0;
	case R_PV_POWER:
		return pv;
	case R_STRING_V:
		return v;
	case R_STRING_I:
		return v > 0 ? pv * share / v : 0;
	case R_STRING_P:
		return pv * share;
	case R_AC_POWER:
		return ac;
	case R_FREQUENCY:
		return 49.98 + 0.04 * random01(s);
	case R_L1_VOLTAGE:
		return 229 + 2 * random01(s);
	case R_L1_CURRENT:
		return ac / 230;
	case R_ENERGY_TODAY:
		return sl->energy_today_kwh;
	case R_ENERGY_TOTAL:
		return 12345.6 + sl->energy_today_kwh;
	case R_TIME_TOTAL:
		return 3.6e7 + sl->time_total_s;
	case R_TEMPERATURE:
		return 25 + 20 * pv / fmax(s->o->peak_w, 1);
	case R_ADDRESS:
		return unit;
	case R_DEVICE_TYPE:
		return 5000;
	case R_RATED: /* the curve's peak is the nameplate */
		return s->o->peak_w;
	case R_PATTERN:
		return (double)(r->address % 100) * r->scale;
	default: /* zero, other phases, strings */
		return 0;
	}
}

/* The share of the PV curve the writable registers allow: off is none,
 * an active power rate in % that much. */
static double
limit_share(const struct sim *s, const struct slave *sl)
{
	double share = 1;
	struct mb_value v;
	size_t i;

	if (sl->last_update == 0)
		return 1;
	for (i = 0; i < s->map.n; i++) {
		const struct mb_reg *r = &s->map.regs[i];

		if (s->roles[i] != R_WRITABLE)
			continue;
		mb_decode(
		    r, sl->mapping->tab_registers + (r->address - s->hold_lo),
		    &v);
		if (strcmp(r->name, "on_off") == 0 && v.num == 0)
			share = 0;
		else if (strstr(r->name, "power_rate") != NULL)
			share *= fmax(0, fmin(v.num, 100)) / 100;
	}
	return share;
}

static void
update(struct sim *s, int unit)
{
	struct slave *sl = &s->slaves[unit];
	uint64_t now = clock_mono_ms();
	double pv = pv_power(s), dt = (double)(now - sl->last_update) / 1000;
	char serial[16];
	size_t i;
	bool first = sl->last_update == 0;

	pv *= limit_share(s, sl);
	if (sl->last_update != 0 && pv > 0) { /* counters only rise */
		sl->energy_today_kwh += pv * 0.97 * dt / 3.6e6;
		sl->time_total_s += dt;
	}
	sl->last_update = now;
	snprintf(serial, sizeof(serial), "SIM%07d", unit);
	for (i = 0; i < s->map.n; i++) {
		const struct mb_reg *r = &s->map.regs[i];
		uint16_t *base = r->fc == MB_INPUT
		                     ? sl->mapping->tab_input_registers +
		                           (r->address - s->in_lo)
		                     : sl->mapping->tab_registers +
		                           (r->address - s->hold_lo);

		/* what a client wrote stays; at start, the most allowed
		 * (on, 100 %) */
		if (s->roles[i] == R_WRITABLE) {
			if (first)
				mb_encode(r, r->write_max, NULL, base);
			continue;
		}
		mb_encode(r, value_of(s, sl, r, s->roles[i], pv, unit),
		          s->roles[i] == R_SERIAL ? serial : "GS1.0", base);
	}
}

/* Serving, or asleep like an inverter at night? */
static bool
offline(const struct sim *s)
{
	uint64_t cycle = s->o->offline_after_ms + s->o->offline_for_ms;

	if (s->o->offline_for_ms == 0)
		return false;
	return (clock_mono_ms() - s->started) % cycle >= s->o->offline_after_ms;
}

static uint16_t
crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xffff;
	size_t i;
	int b;

	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (b = 0; b < 8; b++)
			crc = crc & 1 ? (uint16_t)((crc >> 1) ^ 0xa001)
			              : (uint16_t)(crc >> 1);
	}
	return crc;
}

/* A read reply that must not be accepted: a bad CRC (RTU) or another
 * transaction id (TCP). */
static void
send_corrupt(struct sim *s, const uint8_t *req, int header, int unit, int fd)
{
	const struct slave *sl = &s->slaves[unit];
	uint8_t rsp[FRAME_MAX];
	int fc = req[header], n = 0, i;
	int addr = req[header + 1] << 8 | req[header + 2];
	int count = req[header + 3] << 8 | req[header + 4];

	if (count > MB_MAX_READ)
		count = MB_MAX_READ;
	if (header == 7) { /* MBAP: transaction id off by one */
		rsp[n++] = req[0];
		rsp[n++] = (uint8_t)(req[1] + 1);
		rsp[n++] = 0;
		rsp[n++] = 0;
		rsp[n++] = (uint8_t)((3 + 2 * count) >> 8);
		rsp[n++] = (uint8_t)(3 + 2 * count);
	}
	rsp[n++] = (uint8_t)unit;
	rsp[n++] = (uint8_t)fc;
	rsp[n++] = (uint8_t)(2 * count);
	for (i = 0; i < count; i++) {
		int a = fc == 4 ? addr - s->in_lo + i : addr - s->hold_lo + i;
		uint16_t w = 0;

		if (fc == 4 && a >= 0 && a < sl->mapping->nb_input_registers)
			w = sl->mapping->tab_input_registers[a];
		else if (fc == 3 && a >= 0 && a < sl->mapping->nb_registers)
			w = sl->mapping->tab_registers[a];
		rsp[n++] = (uint8_t)(w >> 8);
		rsp[n++] = (uint8_t)w;
	}
	if (header != 7) {
		uint16_t crc = crc16(rsp, (size_t)n) ^ 0x5a5a;

		rsp[n++] = (uint8_t)crc;
		rsp[n++] = (uint8_t)(crc >> 8);
	}
	(void)!write(fd, rsp, (size_t)n);
}

/*
 * A write (function 6 or 16): the exception a Growatt gives, or 0.  Only
 * registers the map marks writable take values, within their limits.
 */
static int
write_refused(const struct sim *s, const uint8_t *req, int len, int header)
{
	int fc = req[header], addr = req[header + 1] << 8 | req[header + 2];
	int count = fc == 6 ? 1 : req[header + 3] << 8 | req[header + 4];
	const uint8_t *val = req + header + (fc == 6 ? 3 : 6);
	int done = 0;
	size_t i;

	if (fc != 6 && fc != 16)
		return 0;
	if (count < 1 || header + (fc == 6 ? 3 : 6) + 2 * count > len)
		return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE; /* a short frame */
	for (i = 0; i < s->map.n && done < count; i++) {
		const struct mb_reg *r = &s->map.regs[i];
		uint16_t words[4];
		struct mb_value v;
		int k, off = r->address - addr;

		if (r->fc != MB_HOLDING || off < 0 || off + r->words > count)
			continue;
		if (!r->writable)
			return MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
		for (k = 0; k < r->words && k < 4; k++)
			words[k] = (uint16_t)(val[2 * (off + k)] << 8 |
			                      val[2 * (off + k) + 1]);
		mb_decode(r, words, &v);
		if (!mb_write_allowed(r, v.num))
			return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
		done += r->words;
	}
	return done == count ? 0 : MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
}

/* Answer one request (or stay silent, as asked). */
static void
handle(struct sim *s, uint8_t *req, int len, int header, int unit, int fd)
{
	const struct options *o = s->o;
	double dice;
	int refused;

	if (unit < 1 || unit > 255 || !o->units[unit] || offline(s))
		return; /* silence: absent, or asleep */
	if (o->latency_ms > 0) {
		struct timespec ts = clock_from_ms(o->latency_ms);

		nanosleep(&ts, NULL);
	}
	update(s, unit);
	dice = random01(s);
	if (s->o->bus.kind == MB_RTU)
		modbus_set_slave(s->ctx, unit);
	if ((refused = write_refused(s, req, len, header)) != 0)
		modbus_reply_exception(s->ctx, req, (unsigned)refused);
	else if (dice < o->exception_rate)
		modbus_reply_exception(s->ctx, req,
		                       MODBUS_EXCEPTION_SLAVE_OR_SERVER_BUSY);
	else if (dice < o->exception_rate + o->corrupt_rate &&
	         (req[header] == 3 || req[header] == 4))
		send_corrupt(s, req, header, unit, fd);
	else
		modbus_reply(s->ctx, req, len, s->slaves[unit].mapping);
}

/* ---- TCP --------------------------------------------------------------- */

static int
serve_tcp(struct sim *s)
{
	int listener, clients[MAX_CLIENTS], nclients = 0, i;
	uint8_t req[MODBUS_TCP_MAX_ADU_LENGTH];

	/* by name or address (getaddrinfo): an address it cannot bind, or
	 * a name it cannot resolve, is said, not served */
	listener = modbus_tcp_pi_listen(s->ctx, MAX_CLIENTS);
	if (listener < 0) {
		warnx("cannot listen on %s: %s", s->o->bus.spec,
		      errno == ECONNREFUSED ? "no address of it to bind"
		                            : modbus_strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	modbus_set_indication_timeout(s->ctx, 1, 0);
	while (!cli_stop) {
		struct timeval tv = {0, 200000};
		fd_set rd;
		int maxfd = listener;

		FD_ZERO(&rd);
		FD_SET(listener, &rd);
		for (i = 0; i < nclients; i++) {
			FD_SET(clients[i], &rd);
			if (clients[i] > maxfd)
				maxfd = clients[i];
		}
		if (select(maxfd + 1, &rd, NULL, NULL, &tv) <= 0)
			continue;
		if (FD_ISSET(listener, &rd)) {
			int fd = modbus_tcp_pi_accept(s->ctx, &listener);

			if (fd >= 0 && nclients < MAX_CLIENTS)
				clients[nclients++] = fd;
			else if (fd >= 0)
				close(fd);
		}
		for (i = 0; i < nclients; i++) {
			int rc;

			if (!FD_ISSET(clients[i], &rd))
				continue;
			modbus_set_socket(s->ctx, clients[i]);
			rc = modbus_receive(s->ctx, req);
			if (rc > 0) {
				handle(s, req, rc, 7, req[6], clients[i]);
			} else if (rc < 0) { /* the client went away */
				close(clients[i]);
				clients[i--] = clients[--nclients];
			}
		}
		if (cli_over_max_rss(s->o->max_rss_kb))
			return CLI_EXIT_LIMIT;
	}
	for (i = 0; i < nclients; i++)
		close(clients[i]);
	close(listener);
	return 0;
}

/* ---- RTU --------------------------------------------------------------- */

/* Bytes a request of this function has, once its header is in; 0 when
 * only the line going quiet can tell. */
static int
frame_length(const uint8_t *f, int n)
{
	if (n < 2)
		return 0;
	if (f[1] >= 1 && f[1] <= 6)
		return 8;
	if ((f[1] == 15 || f[1] == 16) && n >= 7)
		return 9 + f[6];
	return 0;
}

/*
 * One request frame: complete by its length, or ended by 5 ms of silence.
 * Framing ourselves, not with modbus_receive(), lets one port serve many
 * ids and ignore the others without libmodbus's slave filter, which takes
 * the next frame on the line for the ignored request's answer.
 * Returns the length, 0 when nothing came, -1 when the port is gone.
 */
static int
read_frame(int fd, uint8_t *buf)
{
	int n = 0, want;

	for (;;) {
		struct timeval tv = {0, n == 0 ? 200000 : 5000};
		fd_set rd;
		ssize_t r;

		FD_ZERO(&rd);
		FD_SET(fd, &rd);
		if (select(fd + 1, &rd, NULL, NULL, &tv) <= 0)
			return cli_stop || n > 0 ? n : 0;
		r = read(fd, buf + n, (size_t)(FRAME_MAX - n));
		if (r <= 0)
			return r < 0 && errno == EINTR ? n : -1;
		n += (int)r;
		want = frame_length(buf, n);
		if ((want > 0 && n >= want) || n >= FRAME_MAX)
			return want > 0 ? want : n;
	}
}

static int
serve_rtu(struct sim *s)
{
	uint8_t frame[FRAME_MAX];
	int fd, n;

	if (modbus_connect(s->ctx) < 0) {
		warnx("cannot open %s: %s", s->o->bus.device,
		      modbus_strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	fd = modbus_get_socket(s->ctx);
	while (!cli_stop) {
		n = read_frame(fd, frame);
		if (n < 0) {
			warnx("%s: the port went away", s->o->bus.device);
			return CLI_EXIT_FAILURE;
		}
		if (n < 4 || crc16(frame, (size_t)n - 2) !=
		                 (frame[n - 2] | frame[n - 1] << 8))
			continue; /* noise or a broken frame: no answer */
		handle(s, frame, n, 1, frame[0], fd);
		if (cli_over_max_rss(s->o->max_rss_kb))
			return CLI_EXIT_LIMIT;
	}
	return 0;
}

/* ---- main -------------------------------------------------------------- */

static int
make_mappings(struct sim *s)
{
	size_t i;
	int u;

	s->roles = calloc(s->map.n, sizeof(*s->roles));
	if (s->roles == NULL)
		return -1;
	for (i = 0; i < s->map.n; i++)
		s->roles[i] = role_of(&s->map.regs[i]);
	s->in_lo = s->hold_lo = 0xffff;
	for (i = 0; i < s->map.n; i++) {
		const struct mb_reg *r = &s->map.regs[i];
		uint16_t *lo = r->fc == MB_INPUT ? &s->in_lo : &s->hold_lo,
		         *hi = r->fc == MB_INPUT ? &s->in_hi : &s->hold_hi;

		if (r->address < *lo)
			*lo = r->address;
		if (r->address + r->words - 1 > *hi)
			*hi = (uint16_t)(r->address + r->words - 1);
	}
	for (u = 1; u < 256; u++) {
		if (!s->o->units[u])
			continue;
		s->slaves[u].mapping = modbus_mapping_new_start_address(
		    0, 0, 0, 0, s->hold_lo,
		    s->hold_lo <= s->hold_hi ? s->hold_hi - s->hold_lo + 1 : 0,
		    s->in_lo,
		    s->in_lo <= s->in_hi ? s->in_hi - s->in_lo + 1 : 0);
		if (s->slaves[u].mapping == NULL)
			return -1;
	}
	return 0;
}

static int
parse_rate(const char *name, const char *arg, double *out)
{
	char *end;

	if (arg == NULL)
		return CLI_CONTINUE;
	*out = strtod(arg, &end);
	if (*end != '\0' || !(*out >= 0 && *out <= 1))
		return cli_usage_error("--%s: '%s' is not between 0 and 1",
		                       name, arg);
	return CLI_CONTINUE;
}

/* The option strings, named; NULL when not given. */
struct args {
	char *bus, *map, *units, *time, *peak, *offline_after, *offline_for,
	    *exception_rate, *corrupt_rate, *latency, *seed, *max_rss;
};

static int
parse_clock(const char *arg, double *hour)
{
	int hh, mm;

	if (arg == NULL)
		return CLI_CONTINUE;
	if (sscanf(arg, "%d:%d", &hh, &mm) != 2 || hh < 0 || hh > 23 ||
	    mm < 0 || mm > 59)
		return cli_usage_error("--time: '%s' is not HH:MM", arg);
	*hour = hh + mm / 60.0;
	return CLI_CONTINUE;
}

static int
parse_durations(struct options *o, const struct args *a)
{
	const struct cli_duration d[] = {
	    {"offline-after", a->offline_after, &o->offline_after_ms},
	    {"offline-for", a->offline_for, &o->offline_for_ms},
	    {"latency", a->latency, &o->latency_ms}};
	int rc;

	if ((rc = cli_parse_durations(d, sizeof(d) / sizeof(d[0]))) >= 0)
		return rc;
	if ((o->offline_for_ms > 0) != (o->offline_after_ms > 0))
		return cli_usage_error("--offline-after and --offline-for go "
		                       "together");
	return CLI_CONTINUE;
}

static int
check(struct options *o, const struct args *a)
{
	char err[300], *end;
	int rc;

	if (mb_parse_bus_units(a->bus, a->units, "1", &o->bus, o->units, err,
	                       sizeof(err)) < 0)
		return cli_usage_error("%s", err);
	if ((rc = parse_clock(a->time, &o->start_hour)) >= 0 ||
	    (rc = parse_rate("exception-rate", a->exception_rate,
	                     &o->exception_rate)) >= 0 ||
	    (rc = parse_rate("corrupt-rate", a->corrupt_rate,
	                     &o->corrupt_rate)) >= 0 ||
	    (rc = cli_parse_max_rss(a->max_rss, &o->max_rss_kb)) >= 0 ||
	    (rc = parse_durations(o, a)) >= 0)
		return rc;
	if (a->seed != NULL &&
	    (o->seed = strtoull(a->seed, &end, 0), *end != '\0'))
		return cli_usage_error("--seed: '%s'", a->seed);
	if (a->peak != NULL &&
	    parse_field_limit("peak", a->peak, &o->peak_w) < 0)
		return cli_usage_error("--peak: bad power '%s'", a->peak);
	if (a->map == NULL)
		return cli_usage_error("which registers: give -m MAP");
	return CLI_CONTINUE;
}

static int
parse(int argc, char **argv, struct options *o, struct args *a,
      struct cli_strings *strings, poptContext *con)
{
	struct poptOption table[] = {
	    {"bus", 'b', POPT_ARG_STRING, &a->bus, CLI_OPT_STRING,
	     "serve on tcp:HOST[:PORT] or rtu:DEVICE[:BAUD[:8N1]]", "SPEC"},
	    {"map", 'm', POPT_ARG_STRING, &a->map, CLI_OPT_STRING,
	     "register map: a CSV file or a short name", "MAP"},
	    {"units", 'u', POPT_ARG_STRING, &a->units, CLI_OPT_STRING,
	     "unit ids to answer as (default 1)", "IDS"},
	    {"time", '\0', POPT_ARG_STRING, &a->time, CLI_OPT_STRING,
	     "simulated time of day at start (default: the clock)", "HH:MM"},
	    {"peak", '\0', POPT_ARG_STRING, &a->peak, CLI_OPT_STRING,
	     "PV power at noon in W (default 3000)", "W"},
	    {"offline-after", '\0', POPT_ARG_STRING, &a->offline_after,
	     CLI_OPT_STRING, "stop answering after DUR, as at night ...",
	     "DUR"},
	    {"offline-for", '\0', POPT_ARG_STRING, &a->offline_for,
	     CLI_OPT_STRING, "... for DUR, then answer again (repeats)", "DUR"},
	    {"exception-rate", '\0', POPT_ARG_STRING, &a->exception_rate,
	     CLI_OPT_STRING, "answer this share of requests with an exception",
	     "P"},
	    {"corrupt-rate", '\0', POPT_ARG_STRING, &a->corrupt_rate,
	     CLI_OPT_STRING, "answer this share with a corrupt frame", "P"},
	    {"latency", '\0', POPT_ARG_STRING, &a->latency, CLI_OPT_STRING,
	     "wait DUR before every answer", "DUR"},
	    {"seed", '\0', POPT_ARG_STRING, &a->seed, CLI_OPT_STRING,
	     "seed of the random faults and noise (default 1)", "N"},
	    CLI_MAX_RSS_OPTION(&a->max_rss, "gw-sim"),
	    CLI_COMMON_OPTIONS,
	    POPT_TABLEEND};
	int rc;

	*con = cli_context(argc, argv, table, "[OPTION...] -b SPEC -m MAP", 0);
	CLI_STRINGS_TRACK(strings, &a->bus, &a->map, &a->units, &a->time,
	                  &a->peak, &a->offline_after, &a->offline_for,
	                  &a->exception_rate, &a->corrupt_rate, &a->latency,
	                  &a->seed, &a->max_rss);
	if ((rc = cli_parse_options(*con, strings)) >= 0)
		return rc;
	return check(o, a);
}

int
main(int argc, char **argv)
{
	static struct options o = {.start_hour = -1, .peak_w = 3000, .seed = 1};
	static struct sim s;
	struct args a = {NULL};
	struct cli_strings strings = {0};
	poptContext con = NULL;
	char msg[300];
	int rc, i;

	if ((rc = parse(argc, argv, &o, &a, &strings, &con)) >= 0)
		goto done;
	s.o = &o;
	s.rng = o.seed * 0x9e3779b97f4a7c15ULL + 1;
	if (regmap_load(a.map, &s.map, msg, sizeof(msg)) < 0) {
		warnx("%s", msg);
		rc = CLI_EXIT_FAILURE;
		goto done;
	}
	if (make_mappings(&s) < 0)
		err(CLI_EXIT_FAILURE, "out of memory");
	if ((s.ctx = mb_new(&o.bus)) == NULL) {
		rc = CLI_EXIT_FAILURE;
		if (errno == MB_ERESOLVE)
			warnx("cannot listen on %s: no such host: %s",
			      o.bus.spec, o.bus.host);
		else
			warn("%s", o.bus.spec);
		goto done;
	}
	cli_catch_stop_signals();
	s.started = clock_mono_ms();
	msg_debug("serving %s on %s", s.map.name, o.bus.spec);

	rc = o.bus.kind == MB_TCP ? serve_tcp(&s) : serve_rtu(&s);

	modbus_close(s.ctx);
	modbus_free(s.ctx);
	for (i = 0; i < 256; i++)
		if (s.slaves[i].mapping != NULL)
			modbus_mapping_free(s.slaves[i].mapping);
	free(s.roles);
	regmap_free(&s.map);
done:
	cli_strings_free(&strings);
	poptFreeContext(con);
	return rc;
}
