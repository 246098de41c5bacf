/*
 * gw-publish: read gw-read records on stdin and publish them as Victron
 * Venus OS D-Bus services (com.victronenergy.BusItem), one per Modbus
 * unit, never with stale values: a failed poll or silence makes a unit's
 * measured paths invalid.  The device instance, /Position and /CustomName
 * live in com.victronenergy.settings, as with Victron's own drivers.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "jsonl.h"
#include "msg.h"
#include "parse.h"
#include "regmap.h"
#include "vbus.h"
#include "venus.h"

#define MAX_DEVICES       256  /* Modbus TCP unit ids 0-255 */
#define BAD_KEYS_REPORTED 64   /* distinct bad keys named on stderr */
#define MAX_PATHS         4096 /* default --max-paths */
#define NO_UNIT           (-1)

struct options {
	const char *service; /* a name, or a template with {unit}/{serial} */
	char type[64];       /* "pvinverter" */
	bool per_unit;
	const char *map, *product_name, *firmware, *custom_name;
	const char *bus_which, *address;
	long product_id, position, instance;
	uint64_t stale_ms;
	int signals;
	double max_rss_kb;
	size_t max_line;       /* --max-line: longer input lines are skipped */
	long max_paths;        /* --max-paths: items per service */
	const char *commands;  /* --commands: gw-read's FIFO of writes */
	double max_power;      /* --max-power W: /Ac/MaxPower */
	uint64_t min_write_ms; /* --min-write-interval */
};

struct publisher;

/* One published service: one unit's records. */
struct device {
	struct publisher *p;
	int unit;                 /* NO_UNIT while the records carry none */
	char name[256];           /* the bus name */
	char base[200];           /* "/Settings/Devices/<ident>" */
	struct vbus_service svc;  /* on a connection of its own */
	long instance;            /* without settings */
	struct venus_limit limit; /* /Ac/PowerLimit, with --commands */
	bool connected, registered;
	uint64_t last_good; /* monotonic ms of the last good record */
};

struct publisher {
	const struct options *o;
	struct regmap map;
	bool have_map;
	const char *serial_key;     /* the values key holding the serial */
	struct vbus_client ctl;     /* settings calls and their signals */
	struct vbus_watch settings; /* com.victronenergy.settings */
	bool settings_new;          /* it appeared: register every device */
	struct device *dev[MAX_DEVICES];
	size_t ndev;
	int fatal; /* an exit code that ends the loop */
	/* "/" keys refused, reported once each (by hash; bounded) */
	uint32_t bad_keys[BAD_KEYS_REPORTED];
	size_t nbad_keys;
	bool full_reported; /* --max-paths reached, said once */
	int cmd_fd;         /* --commands, written; -1 without */
};

/* A SetValue on our service waiting for the settings service's answer. */
struct pending_write {
	struct device *d;
	char path[64];
	struct vbus_value v;
	DBusMessage *call;
};

/* Paths a pvinverter must have that hold measurements. */
static const char *const measured[] = {
    "/StatusCode",    "/ErrorCode",
    "/Ac/Power",      "/Ac/Energy/Forward",
    "/Ac/L1/Voltage", "/Ac/L1/Current",
    "/Ac/L1/Power",   "/Ac/L1/Energy/Forward",
    "/Ac/L2/Voltage", "/Ac/L2/Current",
    "/Ac/L2/Power",   "/Ac/L2/Energy/Forward",
    "/Ac/L3/Voltage", "/Ac/L3/Current",
    "/Ac/L3/Power",   "/Ac/L3/Energy/Forward"};

#define NMEASURED (sizeof(measured) / sizeof(measured[0]))

#define POWER_LIMIT "/Ac/PowerLimit"
#define MAX_POWER   "/Ac/MaxPower"
#define RATE_REG    "active_power_rate" /* the Growatt maps' name */

static const struct mb_reg *
map_reg_of_path(const struct publisher *p, const char *path)
{
	size_t i;

	for (i = 0; p->have_map && i < p->map.n; i++)
		if (p->map.regs[i].dbus_path &&
		    strcmp(path, p->map.regs[i].dbus_path) == 0)
			return &p->map.regs[i];
	return NULL;
}

static bool
is_measured(const struct publisher *p, const char *path)
{
	size_t i;

	for (i = 0; i < NMEASURED; i++)
		if (strcmp(path, measured[i]) == 0)
			return true;
	return map_reg_of_path(p, path) != NULL ||
	       strncmp(path, "/Pv/", 4) == 0 || strncmp(path, "/Ac/", 4) == 0;
}

/* Paths that hold text; everything else is a number. */
static bool
is_text_path(const struct publisher *p, const char *path)
{
	static const char *const text[] = {
	    "/Mgmt/ProcessName", "/Mgmt/ProcessVersion", "/Mgmt/Connection",
	    "/ProductName",      "/FirmwareVersion",     "/HardwareVersion",
	    "/Serial",           "/CustomName"};
	const struct mb_reg *r;
	size_t i;

	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if (strcmp(path, text[i]) == 0)
			return true;
	r = map_reg_of_path(p, path);
	return r != NULL && r->type == MB_STR;
}

static void
set_path(struct device *d, const char *path, const struct vbus_value *v)
{
	struct vbus_item *item = vbus_find(&d->svc, path);

	if (item != NULL)
		vbus_set(&d->svc, item, v);
}

/* Every measured path invalid and /Connected 0: nothing stale shows.  The
 * rated power is no measurement: it stays. */
static void
invalidate(struct device *d)
{
	struct vbus_value none = vbus_invalid(), zero = vbus_int(0);
	size_t i;

	for (i = 0; i < d->svc.n; i++)
		if (is_measured(d->p, d->svc.items[i].path) &&
		    strcmp(d->svc.items[i].path, MAX_POWER) != 0)
			vbus_set(&d->svc, &d->svc.items[i], &none);
	set_path(d, "/Connected", &zero);
	d->connected = false;
}

/* ---- settings ------------------------------------------------------------ */

/* A value from the settings service for leaf (below the device's base). */
static void
apply_setting(struct device *d, const char *leaf, const struct vbus_value *v)
{
	char cls[64];
	long n;

	if (strcmp(leaf, "ClassAndVrmInstance") == 0 &&
	    v->kind == VBUS_STRING) {
		struct vbus_value inst;

		if (venus_class_instance(v->s, cls, sizeof(cls), &n) < 0)
			return;
		if (strcmp(cls, d->p->o->type) != 0)
			msg_warn("%s: settings give the class %s; still "
			         "published as %s",
			         d->name, cls, d->p->o->type);
		inst = vbus_int(n);
		set_path(d, "/DeviceInstance", &inst);
	} else if (strcmp(leaf, "Position") == 0 && v->kind == VBUS_INT) {
		set_path(d, "/Position", v);
	} else if (strcmp(leaf, "CustomName") == 0 && v->kind == VBUS_STRING) {
		set_path(d, "/CustomName", v);
	}
}

/*
 * AddSettings for a device, as Victron's Modbus drivers do it: the
 * instance (class:N, the service hands out the next free N), /Position
 * 0..2 and /CustomName.  Every refusal is reported with its name.
 */
static void
register_settings(struct device *d)
{
	const struct options *o = d->p->o;
	char paths[3][256], def[96], err[512];
	struct vbus_setting s[3];
	size_t i, n = strcmp(o->type, "pvinverter") == 0 ? 3 : 1;

	memset(s, 0, sizeof(s));
	snprintf(def, sizeof(def), "%s:%ld", o->type, o->instance);
	snprintf(paths[0], sizeof(paths[0]), "%s/ClassAndVrmInstance", d->base);
	s[0] = (struct vbus_setting){.path = paths[0], .def = vbus_string(def)};
	snprintf(paths[1], sizeof(paths[1]), "%s/Position", d->base);
	s[1] = (struct vbus_setting){.path = paths[1],
	                             .def = vbus_int(o->position),
	                             .limits = true,
	                             .max = 2};
	snprintf(paths[2], sizeof(paths[2]), "%s/CustomName", d->base);
	s[2] = (struct vbus_setting){
	    .path = paths[2],
	    .def = vbus_string(o->custom_name ? o->custom_name : "")};
	if (vbus_settings_add(&d->p->ctl, s, n, err, sizeof(err)) < 0) {
		warnx("%s: settings: %s", d->name, err);
		return;
	}
	d->registered = true;
	for (i = 0; i < n; i++) {
		if (s[i].error != 0) {
			warnx("%s: settings refused %s: %s (%d)", d->name,
			      s[i].path, vbus_setting_error_name(s[i].error),
			      s[i].error);
			d->registered = false;
		} else {
			apply_setting(d, strrchr(s[i].path, '/') + 1,
			              &s[i].value);
		}
		vbus_value_clear(&s[i].value);
	}
}

/* A setting changed in the settings service (the GUI writes there). */
static void
on_setting_changed(void *user, const char *service, const char *path,
                   DBusMessageIter *value, const char *text)
{
	struct publisher *p = user;
	struct vbus_value v;
	size_t i, n;

	(void)service;
	(void)text;
	if (!vbus_value_from_iter(value, &v))
		return;
	for (i = 0; i < p->ndev; i++) {
		struct device *d = p->dev[i];

		n = strlen(d->base);
		if (strncmp(path, d->base, n) == 0 && path[n] == '/' &&
		    strchr(path + n + 1, '/') == NULL) {
			apply_setting(d, path + n + 1, &v);
			vbus_flush(&d->svc);
		}
	}
}

/* It came after we started: every device registers there (next loop). */
static void
on_settings_appeared(void *user, const char *service, const char *owner,
                     bool initial)
{
	struct publisher *p = user;

	(void)service;
	(void)owner;
	p->settings_new = !initial;
}

static void
on_settings_vanished(void *user, const char *service, const char *owner)
{
	struct publisher *p = user;

	(void)owner;
	p->settings_new = false;
	msg_warn("%s went away: settings kept here until it is back", service);
}

static const char *
settings_owner(const struct publisher *p)
{
	return vbus_watch_owner(&p->settings, VBUS_SETTINGS);
}

/* Follow the settings service: its owner now and from now on, and its
 * devices' settings as they change. */
static int
watch_settings(struct publisher *p, char *err, size_t errlen)
{
	p->settings = (struct vbus_watch){.bus = &p->ctl,
	                                  .service = VBUS_SETTINGS,
	                                  .path_namespace = "/Settings/Devices",
	                                  .ops = {on_settings_appeared,
	                                          on_settings_vanished,
	                                          on_setting_changed},
	                                  .user = p};
	if (vbus_watch_start(&p->settings, err, errlen) < 0)
		return -1;
	(void)vbus_watch_list(&p->settings, err, errlen);
	if (settings_owner(p) == NULL)
		msg_warn("no %s on the bus yet: device instances from "
		         "--instance until it appears",
		         VBUS_SETTINGS);
	return 0;
}

/* The settings service appeared after we started: register there. */
static void
settings_appeared(struct publisher *p)
{
	size_t i;

	p->settings_new = false;
	for (i = 0; i < p->ndev; i++) {
		struct device *d = p->dev[i];

		register_settings(d);
		vbus_flush(&d->svc);
		if (d->registered)
			msg_warn("%s appeared: %s registered as %s",
			         VBUS_SETTINGS, d->name, d->base);
	}
}

/* ---- the control path: /Ac/PowerLimit to gw-read ---------------------------
 */

/* One command line to gw-read; a full or closed FIFO is said, not fatal:
 * 0, or -1. */
static int
send_command(struct device *d, const char *name, double value)
{
	char line[256], num[JSONL_DOUBLE_MAX], unit[24] = "";
	int n;

	jsonl_format_double(num, value);
	if (d->unit != NO_UNIT)
		snprintf(unit, sizeof(unit), "\"unit\":%d,", d->unit);
	n = snprintf(line, sizeof(line), "{%s\"name\":\"%s\",\"value\":%s}\n",
	             unit, name, num);
	if (n >= (int)sizeof(line) ||
	    write(d->p->cmd_fd, line, (size_t)n) != n) {
		warn("%s: %s", d->p->o->commands, name);
		return -1;
	}
	msg_debug("%s: %s %s", d->name, name, num);
	return 0;
}

/* A SetValue's number (NaN for anything else). */
static double
number_of(const struct vbus_value *v)
{
	return v->kind == VBUS_DOUBLE ? v->d
	       : v->kind == VBUS_INT  ? (double)v->i
	                              : NAN;
}

/* A path of a map register marked writable, with the control path. */
static const struct mb_reg *
device_writable(const struct publisher *p, const char *path)
{
	const struct mb_reg *r = map_reg_of_path(p, path);

	return p->cmd_fd >= 0 && r != NULL && r->writable ? r : NULL;
}

/* SetValue on a writable register's path: within the map's limits, one
 * command to gw-read; the path then shows what the device reports. */
static int
set_register(struct device *d, const struct mb_reg *r,
             const struct vbus_value *v)
{
	double x = number_of(v);

	if (!mb_write_allowed(r, x) || send_command(d, r->name, x) < 0)
		return VBUS_SET_REFUSED;
	return VBUS_SET_DONE;
}

/* SetValue on /Ac/PowerLimit: accepted in 0..max, sent when it changes
 * and not too often; the path then shows what the inverter reports. */
static int
set_power_limit(struct device *d, const struct vbus_value *v)
{
	int pct = venus_limit_percent(&d->limit, number_of(v));

	if (pct < 0)
		return VBUS_SET_REFUSED;
	pct = venus_limit_request(&d->limit, pct, clock_mono_ms());
	if (pct >= 0)
		(void)send_command(d, RATE_REG, pct);
	return VBUS_SET_DONE;
}

/* The rate the inverter reports (a poll, or gw-read's read-back) as W,
 * once the rated power is known. */
static void
show_power_limit(struct device *d, json_t *rate)
{
	struct vbus_value v;

	if (d->p->cmd_fd < 0 || !json_is_number(rate) || !(d->limit.max_w > 0))
		return;
	v = vbus_double(venus_limit_watts(&d->limit, json_number_value(rate)));
	set_path(d, POWER_LIMIT, &v);
}

/* Kept limits whose time has come. */
static void
send_due_limits(struct publisher *p, uint64_t now)
{
	uint64_t due;
	size_t i;
	int pct;

	for (i = 0; p->cmd_fd >= 0 && i < p->ndev; i++)
		if ((pct = venus_limit_due(&p->dev[i]->limit, now, &due)) >= 0)
			(void)send_command(p->dev[i], RATE_REG, pct);
}

/* ---- writes from D-Bus --------------------------------------------------- */

static void
write_done(void *user, int result, const char *error)
{
	struct pending_write *w = user;
	struct device *d = w->d;

	if (error == NULL && result == 0) {
		set_path(d, w->path, &w->v);
		vbus_answer_set(&d->svc, w->call, VBUS_SET_DONE);
	} else {
		warnx("%s: %s%s refused by %s: %s", d->name, d->base, w->path,
		      VBUS_SETTINGS, error ? error : "result is not 0");
		vbus_answer_set(&d->svc, w->call, VBUS_SET_REFUSED);
	}
	w->call = NULL;
}

static void
write_free(void *user)
{
	struct pending_write *w = user;

	if (w->call != NULL) /* never answered: the bus went away */
		vbus_set_forget(w->call);
	vbus_value_clear(&w->v);
	free(w);
}

/*
 * SetValue on /Position or /CustomName: checked here as the drivers do,
 * then stored in the settings service, and answered when it has answered
 * (refused when it refused).  Without the service, kept here.
 */
static int
on_set(struct vbus_service *s, struct vbus_item *item,
       const struct vbus_value *v, DBusMessage *call, void *user)
{
	struct device *d = user;
	const struct mb_reg *r;
	struct pending_write *w;
	char path[256];

	(void)s;
	if (strcmp(item->path, POWER_LIMIT) == 0)
		return set_power_limit(d, v);
	if ((r = device_writable(d->p, item->path)) != NULL)
		return set_register(d, r, v);
	if (strcmp(item->path, "/Position") == 0 &&
	    (v->kind != VBUS_INT || v->i < 0 || v->i > 2))
		return VBUS_SET_REFUSED;
	if (!d->registered || settings_owner(d->p) == NULL)
		return VBUS_SET_DONE;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return VBUS_SET_REFUSED;
	w->d = d;
	snprintf(w->path, sizeof(w->path), "%s", item->path);
	vbus_value_copy(&w->v, v);
	w->call = vbus_set_keep(call);
	snprintf(path, sizeof(path), "%s%s", d->base, item->path);
	if (vbus_set_value_async(&d->p->ctl, VBUS_SETTINGS, path, v, write_done,
	                         w, write_free) < 0) {
		return VBUS_SET_REFUSED; /* w and its reference on call are
		                            freed */
	}
	return VBUS_SET_LATER;
}

/* ---- devices ------------------------------------------------------------- */

static void
add_text(struct device *d, const char *path, const char *text, bool writable)
{
	struct vbus_value v = vbus_string(text);

	vbus_add(&d->svc, path, &v, writable, NULL);
}

static void
add_int(struct device *d, const char *path, long i, bool writable)
{
	struct vbus_value v = vbus_int(i);

	vbus_add(&d->svc, path, &v, writable, NULL);
}

/* Every path, before the name is requested. */
static void
create_paths(struct device *d, const char *connection)
{
	const struct publisher *p = d->p;
	const struct options *o = p->o;
	struct vbus_value none = vbus_invalid(),
	                  max = vbus_double(o->max_power);
	size_t i;

	add_text(d, "/Mgmt/ProcessName", "gw-publish", false);
	add_text(d, "/Mgmt/ProcessVersion", GXKIT_VERSION, false);
	add_text(d, "/Mgmt/Connection", connection, false);
	add_int(d, "/DeviceInstance", d->instance, false);
	add_int(d, "/ProductId", o->product_id, false);
	add_text(d, "/ProductName", o->product_name, false);
	add_text(d, "/FirmwareVersion", o->firmware, false);
	add_text(d, "/HardwareVersion", "", false);
	add_int(d, "/Connected", 0, false);
	if (strcmp(o->type, "pvinverter") == 0) {
		add_int(d, "/Position", o->position, true);
		add_text(d, "/CustomName", o->custom_name ? o->custom_name : "",
		         true);
		add_text(d, "/Serial", "", false);
		for (i = 0; i < NMEASURED; i++)
			vbus_add(&d->svc, measured[i], &none, false, NULL);
	}
	/* the rated power: --max-power, else the map's register */
	if ((o->max_power > 0 || p->cmd_fd >= 0) &&
	    map_reg_of_path(p, MAX_POWER) == NULL)
		vbus_add(&d->svc, MAX_POWER, o->max_power > 0 ? &max : &none,
		         false, "W");
	if (p->cmd_fd >= 0) /* the control path: writable, in W */
		vbus_add(&d->svc, POWER_LIMIT, &none, true, "W");
	for (i = 0; p->have_map && i < p->map.n; i++) {
		const struct mb_reg *r = &p->map.regs[i];
		bool given = o->max_power > 0 && r->dbus_path != NULL &&
		             strcmp(r->dbus_path, MAX_POWER) == 0;

		/* a measured path already added takes the map's unit here */
		if (r->dbus_path != NULL)
			vbus_add(&d->svc, r->dbus_path, given ? &max : &none,
			         device_writable(p, r->dbus_path) != NULL,
			         r->unit);
	}
	for (i = 0; i < d->svc.n; i++) /* types decided once, here */
		d->svc.items[i].text = is_text_path(p, d->svc.items[i].path);
}

/* The serial in a record's values, or NULL. */
static const char *
record_serial(const struct publisher *p, json_t *values)
{
	json_t *s = json_object_get(values, p->serial_key);

	return json_is_string(s) && json_string_length(s) > 0
	           ? json_string_value(s)
	           : NULL;
}

/*
 * A new service for unit, from its first good record: named, its settings
 * registered (so /DeviceInstance is right at first sight), its paths
 * made, then its name requested.  NULL (p->fatal set) when that failed.
 */
static struct device *
device_new(struct publisher *p, int unit, json_t *rec, json_t *values)
{
	const char *serial = record_serial(p, values), *bus;
	char err[512], ident[128], connection[300];
	struct device *d = calloc(1, sizeof(*d));

	p->fatal = CLI_EXIT_FAILURE;
	if (d == NULL)
		return NULL;
	p->dev[p->ndev++] = d;
	d->p = p;
	d->unit = unit;
	d->instance = p->o->instance + (long)p->ndev - 1;
	if (venus_expand(p->o->service, unit, serial, d->name, sizeof(d->name),
	                 err, sizeof(err)) < 0 ||
	    vbus_check_name(d->name, err, sizeof(err)) < 0) {
		warnx("unit %d: %s", unit, err);
		return NULL;
	}
	venus_ident(p->map.vendor ? p->map.vendor : "gxkit", serial, d->name,
	            ident, sizeof(ident));
	snprintf(d->base, sizeof(d->base), "/Settings/Devices/%s", ident);
	bus = json_string_value(json_object_get(rec, "bus"));
	if (bus != NULL)
		venus_connection(bus, unit, connection, sizeof(connection));
	else
		snprintf(connection, sizeof(connection), "gw-read on stdin");
	d->svc.conn =
	    vbus_connect(p->o->bus_which, p->o->address, err, sizeof(err));
	if (d->svc.conn == NULL) {
		warnx("%s", err);
		return NULL;
	}
	d->svc.signals = p->o->signals;
	d->svc.on_set = on_set;
	d->svc.user = d;
	venus_limit_init(&d->limit, p->o->max_power, p->o->min_write_ms);
	create_paths(d, connection);
	if (settings_owner(p) != NULL)
		register_settings(d);
	for (size_t i = 0; i < d->svc.n; i++)
		d->svc.items[i].changed = false;
	if (vbus_publish(&d->svc, d->name, err, sizeof(err)) < 0) {
		warnx("%s", err);
		return NULL;
	}
	msg_debug("published %s (unit %d) with %zu paths", d->name, unit,
	          d->svc.n);
	p->fatal = 0;
	return d;
}

static void
device_free(struct device *d)
{
	vbus_unpublish(&d->svc, d->name);
	vbus_disconnect(d->svc.conn);
	vbus_service_free(&d->svc);
	free(d);
}

/* ---- records ------------------------------------------------------------- */

static const char *
path_of(const struct publisher *p, const char *key)
{
	const struct mb_reg *r;

	if (key[0] == '/')
		return key;
	if (strcmp(key, p->serial_key) == 0 &&
	    strcmp(p->o->type, "pvinverter") == 0)
		return "/Serial";
	r = p->have_map ? regmap_find(&p->map, key) : NULL;
	return r != NULL ? r->dbus_path : NULL;
}

/* Was this bad key reported before?  Remembers it if not. */
static bool
bad_key_known(struct publisher *p, const char *key)
{
	uint32_t h = vbus_path_hash(key);
	size_t i;

	for (i = 0; i < p->nbad_keys; i++)
		if (p->bad_keys[i] == h)
			return true;
	if (p->nbad_keys == BAD_KEYS_REPORTED)
		return true;
	p->bad_keys[p->nbad_keys++] = h;
	if (p->nbad_keys == BAD_KEYS_REPORTED)
		msg_warn("more invalid \"/\" keys: not reported");
	return p->nbad_keys == BAD_KEYS_REPORTED;
}

/* May a "/" key become a new path?  libdbus asserts on a bad object path
 * and every path is kept for good: check both before vbus_add. */
static bool
new_path_ok(struct device *d, struct jsonl_reader *rd, const char *path)
{
	struct publisher *p = d->p;
	char err[256];

	if (vbus_check_path(path, err, sizeof(err)) < 0) {
		if (!bad_key_known(p, path))
			msg_warn("%s:%llu: %s; the key is skipped", rd->name,
			         (unsigned long long)rd->lineno, err);
		return false;
	}
	if (d->svc.n < (size_t)p->o->max_paths)
		return true;
	if (!p->full_reported)
		msg_warn("%s:%llu: %s: %s has %zu paths (--max-paths); new "
		         "keys are skipped",
		         rd->name, (unsigned long long)rd->lineno, path,
		         d->name, d->svc.n);
	p->full_reported = true;
	return false;
}

static void
apply_values(struct device *d, struct jsonl_reader *rd, json_t *values)
{
	struct vbus_value v, one = vbus_int(1);
	const char *key;
	json_t *val;

	json_object_foreach(values, key, val)
	{
		const char *path = path_of(d->p, key);
		struct vbus_item *item;

		if (path == NULL ||
		    (d->p->o->max_power > 0 && strcmp(path, MAX_POWER) == 0))
			continue; /* the user's rated power stands */
		item = vbus_find(&d->svc, path);
		if (item == NULL) { /* a new "/..." key: typed by its value */
			struct vbus_value none = vbus_invalid();

			if (!new_path_ok(d, rd, path))
				continue;
			item = vbus_add(&d->svc, path, &none, false, NULL);
			if (item == NULL)
				continue;
			item->text = json_is_string(val);
		}
		/* a writable path holds a setting, or the device's own
		 * register (the control path): only the latter reads it */
		if (vbus_value_from_json(val, &v) < 0 ||
		    (item->writable && !device_writable(d->p, path)) ||
		    (v.kind != VBUS_INVALID &&
		     (v.kind == VBUS_STRING) != item->text)) {
			msg_warn("%s:%llu: %s: value of the wrong type refused",
			         rd->name, (unsigned long long)rd->lineno,
			         path);
			continue;
		}
		if (strcmp(path, MAX_POWER) == 0 && number_of(&v) > 0) {
			v = vbus_double(number_of(&v)); /* W, as dbus-fronius */
			d->limit.max_w = v.d; /* the map's rated power */
		}
		vbus_set(&d->svc, item, &v);
	}
	show_power_limit(d, json_object_get(values, RATE_REG));
	set_path(d, "/Connected", &one);
	d->connected = true;
	d->last_good = clock_mono_ms();
}

/* "units 1 and 5" for the message about a plain name. */
static void
many_units(struct publisher *p, int unit)
{
	warnx("records from units %d and %d for one service %s: name one "
	      "service per unit, e.g. -s '%.*s.growatt_{unit}'",
	      p->dev[0]->unit, unit, p->o->service,
	      (int)(strrchr(p->o->service, '.') - p->o->service),
	      p->o->service);
	p->fatal = CLI_EXIT_FAILURE;
}

/* The device for a record of unit; NULL when there is none (yet). */
static struct device *
device_of(struct publisher *p, int unit)
{
	size_t i;

	if (!p->o->per_unit) { /* a plain name: one unit only */
		if (p->ndev == 0)
			return NULL;
		if (unit != NO_UNIT && p->dev[0]->unit == NO_UNIT)
			p->dev[0]->unit = unit;
		if (unit != NO_UNIT && unit != p->dev[0]->unit) {
			many_units(p, unit);
			return NULL;
		}
		return p->dev[0];
	}
	for (i = 0; i < p->ndev; i++)
		if (p->dev[i]->unit == unit)
			return p->dev[i];
	return NULL;
}

static int
record_unit(struct publisher *p, struct jsonl_reader *rd, json_t *rec)
{
	json_t *u = json_object_get(rec, "unit");

	if (json_is_integer(u) && json_integer_value(u) >= 0 &&
	    json_integer_value(u) < MAX_DEVICES)
		return (int)json_integer_value(u);
	if (p->o->per_unit)
		msg_warn("%s:%llu: no unit to name the service by, skipped",
		         rd->name, (unsigned long long)rd->lineno);
	return NO_UNIT;
}

/* gw-read's record of a rate it wrote (or was refused). */
static bool
is_rate_written(json_t *rec)
{
	const char *event = json_string_value(json_object_get(rec, "event"));
	const char *reg = json_string_value(json_object_get(rec, "register"));

	if (event == NULL || strcmp(event, "write") != 0 || reg == NULL ||
	    strcmp(reg, RATE_REG) != 0)
		return false;
	if (!json_is_true(json_object_get(rec, "ok")))
		msg_warn("gw-read could not write %s: %s", RATE_REG,
		         json_string_value(json_object_get(rec, "message")));
	return true;
}

/* One record from stdin. */
static void
handle_record(struct publisher *p, struct jsonl_reader *rd)
{
	json_t *rec = jsonl_parse_line(rd), *values;
	struct device *d;
	int unit;

	if (rec == NULL)
		return; /* reported with its line number */
	values = json_object_get(rec, "values");
	unit = record_unit(p, rd, rec);
	if (unit == NO_UNIT && p->o->per_unit)
		goto done;
	d = device_of(p, unit);
	if (p->fatal != 0)
		goto done;
	if (json_is_false(json_object_get(rec, "ok"))) {
		if (d != NULL)
			invalidate(d);
	} else if (json_is_object(values)) {
		if (d == NULL && p->ndev < MAX_DEVICES)
			d = device_new(p, unit, rec, values);
		if (d != NULL)
			apply_values(d, rd, values);
	} else if (is_rate_written(rec)) {
		if (d != NULL)
			show_power_limit(d, json_object_get(rec, "read_back"));
	} else if (!json_is_string(json_object_get(rec, "event"))) {
		msg_warn("%s:%llu: no values, skipped", rd->name,
		         (unsigned long long)rd->lineno);
	}
done:
	json_decref(rec);
}

/* ---- the loop ------------------------------------------------------------ */

/* Wait no longer than until the first connected device goes stale. */
static int
poll_timeout(const struct publisher *p, uint64_t now)
{
	uint64_t first = UINT64_MAX;
	size_t i;

	for (i = 0; i < p->ndev; i++) {
		const struct device *d = p->dev[i];
		uint64_t due = d->last_good + p->o->stale_ms;

		if (d->connected && due < first)
			first = due;
	}
	for (i = 0; p->cmd_fd >= 0 && i < p->ndev; i++) {
		const struct venus_limit *l = &p->dev[i]->limit;

		if (l->pending_pct >= 0 &&
		    l->sent_ms + l->min_interval_ms < first)
			first = l->sent_ms + l->min_interval_ms;
	}
	if (first == UINT64_MAX)
		return 1000;
	return first > now ? (int)(first - now) : 0;
}

/* Serve what came in on every connection; -1 when one was lost. */
static int
serve_buses(struct publisher *p)
{
	size_t i;

	(void)vbus_serve(p->ctl.conn, &cli_stop);
	if (p->settings_new)
		settings_appeared(p);
	for (i = 0; i < p->ndev; i++) {
		DBusConnection *conn = p->dev[i]->svc.conn;

		/* calls that came in during RequestName or a flush wait in
		 * libdbus, not on the socket: serve them before sleeping */
		if (!vbus_serve(conn, &cli_stop))
			return -1;
	}
	return vbus_connected(p->ctl.conn) ? 0 : -1;
}

/* After input and calls: staleness, signals, our own size. */
static int
after_wakeup(struct publisher *p)
{
	uint64_t now = clock_mono_ms();
	size_t i;

	send_due_limits(p, now);
	for (i = 0; i < p->ndev; i++) {
		struct device *d = p->dev[i];

		if (d->connected && now - d->last_good >= p->o->stale_ms) {
			msg_debug("%s: no record for %llu ms: invalid", d->name,
			          (unsigned long long)p->o->stale_ms);
			invalidate(d);
		}
		if (vbus_flush(&d->svc) < 0) {
			warnx("out of memory for signals");
			return CLI_EXIT_FAILURE;
		}
	}
	if (cli_over_max_rss(p->o->max_rss_kb))
		return CLI_EXIT_LIMIT;
	return 0;
}

/* Serve the buses and stdin until EOF; 0 at EOF or a signal, 1 when a bus
 * connection went away or the input cannot be published, 3 past
 * --max-rss. */
static int
loop(struct publisher *p)
{
	struct pollfd pfd[MAX_DEVICES + 2];
	struct jsonl_reader rd;
	int rc = 0, r;
	bool eof = false;
	size_t i;

	jsonl_reader_init(&rd, stdin, "-");
	rd.max_line = p->o->max_line;
	while (!cli_stop && !eof && rc == 0) {
		if (serve_buses(p) < 0) {
			warnx("lost the connection to the bus");
			rc = CLI_EXIT_FAILURE;
			break;
		}
		pfd[0] = (struct pollfd){STDIN_FILENO, POLLIN, 0};
		pfd[1] = (struct pollfd){-1, POLLIN, 0};
		pfd[1].fd = vbus_fd(p->ctl.conn);
		for (i = 0; i < p->ndev; i++) {
			pfd[i + 2] = (struct pollfd){-1, POLLIN, 0};
			pfd[i + 2].fd = vbus_fd(p->dev[i]->svc.conn);
		}
		if (poll(pfd, p->ndev + 2, poll_timeout(p, clock_mono_ms())) <
		        0 &&
		    errno != EINTR)
			break;
		if (pfd[0].revents) {
			if ((r = jsonl_read_some(&rd)) < 0) {
				warn("stdin");
				rc = CLI_EXIT_FAILURE;
				break;
			}
			eof = r == 0;
			while (p->fatal == 0 && jsonl_take_line(&rd))
				handle_record(p, &rd);
		}
		rc = p->fatal != 0 ? p->fatal : after_wakeup(p);
	}
	jsonl_report_summary(&rd);
	jsonl_reader_free(&rd);
	return rc;
}

/* ---- options ------------------------------------------------------------- */

struct args {
	char *service, *signals, *stale_after, *max_rss, *max_line;
	char *commands, *min_write;
	char *map, *product_name, *firmware, *custom_name;
	struct cli_bus bus;
};

static int
check(struct options *o, const struct args *a)
{
	char err[512], name[256];
	uint64_t ms;
	int rc;

	if (a->service == NULL)
		return cli_usage_error("which service: give -s "
		                       "com.victronenergy.TYPE.NAME");
	if (venus_parse_template(a->service, o->type, sizeof(o->type),
	                         &o->per_unit, err, sizeof(err)) < 0 ||
	    venus_expand(a->service, 1, "X", name, sizeof(name), err,
	                 sizeof(err)) < 0 ||
	    vbus_check_name(name, err, sizeof(err)) < 0)
		return cli_usage_error("%s", err);
	o->service = a->service;
	if ((rc = cli_bus_choice(&a->bus, &o->bus_which)) >= 0)
		return rc;
	o->address = a->bus.address;
	o->signals = VBUS_SIGNAL_ITEMS | VBUS_SIGNAL_PROPERTIES;
	if (a->signals != NULL && strcmp(a->signals, "items") == 0)
		o->signals = VBUS_SIGNAL_ITEMS;
	else if (a->signals != NULL && strcmp(a->signals, "properties") == 0)
		o->signals = VBUS_SIGNAL_PROPERTIES;
	else if (a->signals != NULL && strcmp(a->signals, "both") != 0)
		return cli_usage_error("--signals: '%s' is not items, "
		                       "properties or both",
		                       a->signals);
	if (a->stale_after != NULL &&
	    (parse_duration(a->stale_after, &ms) < 0 || ms == 0))
		return cli_usage_error("--stale-after: bad duration '%s'",
		                       a->stale_after);
	o->stale_ms = a->stale_after != NULL ? ms : 30000;
	if (o->position < 0 || o->position > 2)
		return cli_usage_error("--position is 0, 1 or 2");
	if (o->instance < 0 || o->instance > 999)
		return cli_usage_error("--instance is 0 to 999");
	o->map = a->map;
	o->product_name = a->product_name ? a->product_name : "PV inverter";
	o->firmware = a->firmware ? a->firmware : "";
	o->custom_name = a->custom_name;
	o->commands = a->commands;
	if (o->max_power != 0 && !(o->max_power > 0 && o->max_power < 1e7))
		return cli_usage_error("--max-power: bad power %g W",
		                       o->max_power);
	o->min_write_ms = 5000;
	if (a->min_write != NULL &&
	    parse_duration(a->min_write, &o->min_write_ms) < 0)
		return cli_usage_error("--min-write-interval: bad duration "
		                       "'%s'",
		                       a->min_write);
	if (o->max_paths < 64 || o->max_paths > 1000000)
		return cli_usage_error("--max-paths is 64 to 1000000");
	if ((rc = cli_parse_max_line(a->max_line, &o->max_line)) >= 0)
		return rc;
	return cli_parse_max_rss(a->max_rss, &o->max_rss_kb);
}

/* Load the map, connect the control connection: 0, or an exit code. */
static int
acquire(struct publisher *p)
{
	const struct options *o = p->o;
	char err[512];

	if (o->map != NULL) {
		if (regmap_load(o->map, &p->map, err, sizeof(err)) < 0) {
			warnx("%s", err);
			return CLI_EXIT_FAILURE;
		}
		p->have_map = true;
	}
	if (o->commands != NULL && o->max_power == 0 &&
	    map_reg_of_path(p, MAX_POWER) == NULL)
		return cli_usage_error("--commands needs the inverter's rated "
		                       "power: --max-power W, or a map with "
		                       "an " MAX_POWER " register");
	p->serial_key = p->map.serial ? p->map.serial : "serial";
	/* read-write: gw-read may open its end later; never blocks */
	if (o->commands != NULL &&
	    (p->cmd_fd = open(o->commands, O_RDWR | O_NONBLOCK | O_CLOEXEC)) <
	        0)
		warn("%s: %s stays read-only", o->commands, POWER_LIMIT);
	p->ctl.timeout_ms = 5000;
	p->ctl.conn = vbus_connect(o->bus_which, o->address, err, sizeof(err));
	if (p->ctl.conn == NULL || watch_settings(p, err, sizeof(err)) < 0) {
		warnx("%s", err);
		return CLI_EXIT_FAILURE;
	}
	return 0;
}

static void
release(struct publisher *p)
{
	size_t i;

	/* the control connection first: its pending writes answer on the
	 * devices' connections */
	vbus_watch_free(&p->settings);
	vbus_disconnect(p->ctl.conn);
	for (i = 0; i < p->ndev; i++)
		device_free(p->dev[i]);
	if (p->cmd_fd >= 0)
		close(p->cmd_fd);
	regmap_free(&p->map);
}

/* Parse and check every option into o; CLI_CONTINUE or an exit code. */
static int
parse(int argc, char **argv, struct options *o, struct args *a,
      struct cli_strings *strings, poptContext *con)
{
	int rc;
	struct poptOption table[] = {
	    {"service", 's', POPT_ARG_STRING, &a->service, CLI_OPT_STRING,
	     "the name: com.victronenergy.TYPE.NAME; NAME may hold {unit} "
	     "and {serial}",
	     "NAME"},
	    {"map", 'm', POPT_ARG_STRING, &a->map, CLI_OPT_STRING,
	     "register map whose dbus_path column names the paths", "MAP"},
	    {"product-name", '\0', POPT_ARG_STRING, &a->product_name,
	     CLI_OPT_STRING, "/ProductName (default \"PV inverter\")", "TEXT"},
	    {"product-id", '\0', POPT_ARG_LONG, &o->product_id, 0,
	     "/ProductId (default 65535)", "N"},
	    {"firmware-version", '\0', POPT_ARG_STRING, &a->firmware,
	     CLI_OPT_STRING, "/FirmwareVersion", "TEXT"},
	    {"position", '\0', POPT_ARG_LONG, &o->position, 0,
	     "/Position: 0 AC input 1, 1 AC output, 2 AC input 2", "N"},
	    {"custom-name", '\0', POPT_ARG_STRING, &a->custom_name,
	     CLI_OPT_STRING, "/CustomName at first start", "TEXT"},
	    {"instance", '\0', POPT_ARG_LONG, &o->instance, 0,
	     "device instance asked for (default 20)", "N"},
	    {"signals", '\0', POPT_ARG_STRING, &a->signals, CLI_OPT_STRING,
	     "items, properties or both (default)", "WHICH"},
	    {"stale-after", '\0', POPT_ARG_STRING, &a->stale_after,
	     CLI_OPT_STRING,
	     "no record this long: values invalid (default 30s)", "DUR"},
	    CLI_BUS_OPTIONS(&a->bus),
	    {"commands", '\0', POPT_ARG_STRING, &a->commands, CLI_OPT_STRING,
	     "writable /Ac/PowerLimit: writes to gw-read --commands FIFO",
	     "FIFO"},
	    {"max-power", '\0', POPT_ARG_DOUBLE, &o->max_power, 0,
	     "/Ac/MaxPower: the rated power in W the limit is a share of", "W"},
	    {"min-write-interval", '\0', POPT_ARG_STRING, &a->min_write,
	     CLI_OPT_STRING, "at most one limit written per DUR (default 5s)",
	     "DUR"},
	    {"max-line", '\0', POPT_ARG_STRING, &a->max_line, CLI_OPT_STRING,
	     "skip input lines longer than SIZE (default 1M)", "SIZE"},
	    {"max-paths", '\0', POPT_ARG_LONG, &o->max_paths, 0,
	     "paths per service, \"/\" keys included (default 4096)", "N"},
	    CLI_MAX_RSS_OPTION(&a->max_rss, "gw-publish"),
	    CLI_COMMON_OPTIONS,
	    POPT_TABLEEND};

	*con = cli_context(argc, argv, table,
	                   "[OPTION...] -s com.victronenergy.TYPE.NAME", 0);
	CLI_STRINGS_TRACK(strings, &a->service, &a->signals, &a->stale_after,
	                  &a->bus.address, &a->max_rss, &a->max_line, &a->map,
	                  &a->firmware, &a->product_name, &a->custom_name,
	                  &a->commands, &a->min_write);
	if ((rc = cli_parse_options(*con, strings)) >= 0)
		return rc;
	return check(o, a);
}

int
main(int argc, char **argv)
{
	static struct options o = {.product_id = 0xFFFF,
	                           .instance = 20,
	                           .max_line = JSONL_MAX_LINE,
	                           .max_paths = MAX_PATHS};
	static struct publisher p = {.o = &o, .cmd_fd = -1};
	struct args a = {0};
	struct cli_strings strings = {0};
	poptContext con = NULL;
	int rc;

	if ((rc = parse(argc, argv, &o, &a, &strings, &con)) >= 0)
		goto done;
	cli_catch_stop_signals();
	if ((rc = acquire(&p)) == 0)
		rc = loop(&p);
	release(&p);
done:
	cli_strings_free(&strings);
	poptFreeContext(con);
	vbus_shutdown();
	return rc;
}
