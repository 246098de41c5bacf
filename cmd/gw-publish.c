/*
 * gw-publish: read gw-read records on stdin and publish them as a Victron
 * Venus OS D-Bus service (com.victronenergy.BusItem), never with stale
 * values: a failed poll or silence makes every measured path invalid.
 */
#include <err.h>
#include <errno.h>
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
#include "procmem.h"
#include "regmap.h"
#include "vbus.h"

#define SETTINGS "com.victronenergy.settings"

struct options {
	const char *service, *type, *map, *product_name, *firmware;
	const char *bus_which, *address, *custom_name;
	long product_id, position, instance;
	uint64_t stale_ms;
	int signals;
	double max_rss_kb;
};

struct publisher {
	const struct options *o;
	struct regmap map;
	bool have_map;
	struct vbus_service svc;
	char settings_base[200]; /* "/Settings/Devices/<unique>", or "" */
	bool connected;
	uint64_t last_good; /* monotonic ms of the last good record */
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

static bool
is_measured(const struct publisher *p, const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(measured) / sizeof(measured[0]); i++)
		if (strcmp(path, measured[i]) == 0)
			return true;
	for (i = 0; p->have_map && i < p->map.n; i++)
		if (p->map.regs[i].dbus_path &&
		    strcmp(path, p->map.regs[i].dbus_path) == 0)
			return true;
	return strncmp(path, "/Pv/", 4) == 0 || strncmp(path, "/Ac/", 4) == 0;
}

/* Paths that hold text; everything else is a number. */
static bool
is_text_path(const struct publisher *p, const char *path)
{
	static const char *const text[] = {
	    "/Mgmt/ProcessName", "/Mgmt/ProcessVersion", "/Mgmt/Connection",
	    "/ProductName",      "/FirmwareVersion",     "/HardwareVersion",
	    "/Serial",           "/CustomName"};
	size_t i;

	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if (strcmp(path, text[i]) == 0)
			return true;
	for (i = 0; p->have_map && i < p->map.n; i++)
		if (p->map.regs[i].dbus_path &&
		    strcmp(path, p->map.regs[i].dbus_path) == 0)
			return p->map.regs[i].type == MB_STR;
	return false;
}

/* Every measured path invalid and /Connected 0: nothing stale shows. */
static void
invalidate(struct publisher *p)
{
	struct vbus_value none = vbus_invalid(), zero = vbus_int(0);
	size_t i;

	for (i = 0; i < p->svc.n; i++)
		if (is_measured(p, p->svc.items[i].path))
			vbus_set(&p->svc, &p->svc.items[i], &none);
	vbus_set(&p->svc, vbus_find(&p->svc, "/Connected"), &zero);
	p->connected = false;
}

/* Keep /Position and /CustomName in the settings service when there is
 * one (fire and forget: the local value is what we answer with). */
static int
on_set(struct vbus_service *s, struct vbus_item *item,
       const struct vbus_value *v, void *user)
{
	struct publisher *p = user;
	char path[256];
	DBusMessage *msg;
	DBusMessageIter it;

	if (strcmp(item->path, "/Position") == 0 &&
	    (v->kind != VBUS_INT || v->i < 0 || v->i > 2))
		return 2;
	if (p->settings_base[0] == '\0')
		return 0;
	snprintf(path, sizeof(path), "%s%s", p->settings_base, item->path);
	msg = dbus_message_new_method_call(SETTINGS, path, VBUS_IFACE,
	                                   "SetValue");
	if (msg == NULL)
		return 0;
	dbus_message_iter_init_append(msg, &it);
	vbus_append_variant(&it, v);
	dbus_message_set_no_reply(msg, TRUE);
	dbus_connection_send(s->conn, msg, NULL);
	dbus_message_unref(msg);
	return 0;
}

/* ---- settings ------------------------------------------------------------ */

static void
add_setting(DBusMessageIter *arr, const char *path,
            const struct vbus_value *def)
{
	DBusMessageIter dict, e;
	const char *k;

	dbus_message_iter_open_container(arr, DBUS_TYPE_ARRAY, "{sv}", &dict);
	dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &e);
	k = "path";
	dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &k);
	{
		struct vbus_value pv = vbus_string(path);

		vbus_append_variant(&e, &pv);
	}
	dbus_message_iter_close_container(&dict, &e);
	dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &e);
	k = "default";
	dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &k);
	vbus_append_variant(&e, def);
	dbus_message_iter_close_container(&dict, &e);
	dbus_message_iter_close_container(arr, &dict);
}

/* One dictionary of the AddSettings reply: its path and value. */
static void
read_setting(DBusMessageIter *dict, long *instance, long *position,
             char *custom, size_t len)
{
	const char *path = NULL;
	DBusMessageIter e, v;
	DBusMessageIter value;
	bool have_value = false;

	do {
		const char *key;

		dbus_message_iter_recurse(dict, &e);
		dbus_message_iter_get_basic(&e, &key);
		dbus_message_iter_next(&e);
		if (strcmp(key, "path") == 0)
			path = vbus_variant_string(&e);
		else if (strcmp(key, "value") == 0) {
			value = e;
			have_value = true;
		}
	} while (dbus_message_iter_next(dict));
	if (path == NULL || !have_value)
		return;
	dbus_message_iter_recurse(&value, &v);
	if (strstr(path, "ClassAndVrmInstance") != NULL) {
		const char *s = vbus_variant_string(&value), *colon;

		colon = s ? strchr(s, ':') : NULL;
		if (colon != NULL)
			*instance = strtol(colon + 1, NULL, 10);
	} else if (strstr(path, "/Position") != NULL &&
	           dbus_message_iter_get_arg_type(&v) == DBUS_TYPE_INT32) {
		dbus_int32_t i;

		dbus_message_iter_get_basic(&v, &i);
		*position = i;
	} else if (strstr(path, "/CustomName") != NULL &&
	           vbus_variant_string(&value) != NULL) {
		snprintf(custom, len, "%s", vbus_variant_string(&value));
	}
}

/*
 * With com.victronenergy.settings on the bus, ask it for our device
 * instance and keep /Position and /CustomName there.  Without it, local
 * values.  Returns 0, or -1 when the settings service answered an error.
 */
static int
settings(struct publisher *p, long *instance, long *position, char *custom,
         size_t len)
{
	const struct options *o = p->o;
	char unique[96], base[160], path[200], def[48];
	DBusMessage *msg, *reply;
	DBusMessageIter it, arr;
	struct vbus_value v;
	DBusError e;

	dbus_error_init(&e);
	if (!dbus_bus_name_has_owner(p->svc.conn, SETTINGS, &e))
		return 0;
	/* unique per service: gxkit_ and the name's suffix */
	snprintf(unique, sizeof(unique), "gxkit_%s",
	         strrchr(o->service, '.') + 1);
	snprintf(base, sizeof(base), "Settings/Devices/%s", unique);
	msg = dbus_message_new_method_call(
	    SETTINGS, "/", "com.victronenergy.Settings", "AddSettings");
	dbus_message_iter_init_append(msg, &it);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "a{sv}", &arr);
	snprintf(path, sizeof(path), "%s/ClassAndVrmInstance", base);
	snprintf(def, sizeof(def), "%s:%ld", o->type, o->instance);
	v = vbus_string(def);
	add_setting(&arr, path, &v);
	snprintf(path, sizeof(path), "%s/Position", base);
	v = vbus_int(o->position);
	add_setting(&arr, path, &v);
	snprintf(path, sizeof(path), "%s/CustomName", base);
	v = vbus_string(o->custom_name ? o->custom_name : "");
	add_setting(&arr, path, &v);
	dbus_message_iter_close_container(&it, &arr);
	reply = dbus_connection_send_with_reply_and_block(p->svc.conn, msg,
	                                                  5000, &e);
	dbus_message_unref(msg);
	if (reply == NULL) {
		warnx("settings: %s", e.message);
		dbus_error_free(&e);
		return -1;
	}
	if (dbus_message_iter_init(reply, &it) &&
	    dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_ARRAY) {
		dbus_message_iter_recurse(&it, &arr);
		while (dbus_message_iter_get_arg_type(&arr) ==
		       DBUS_TYPE_ARRAY) {
			DBusMessageIter dict;

			dbus_message_iter_recurse(&arr, &dict);
			if (dbus_message_iter_get_arg_type(&dict) ==
			    DBUS_TYPE_DICT_ENTRY)
				read_setting(&dict, instance, position, custom,
				             len);
			dbus_message_iter_next(&arr);
		}
	}
	dbus_message_unref(reply);
	snprintf(p->settings_base, sizeof(p->settings_base), "/%s", base);
	cli_debug("settings: instance %ld", *instance);
	return 0;
}

/* ---- the paths ----------------------------------------------------------- */

static int
create_paths(struct publisher *p)
{
	const struct options *o = p->o;
	struct vbus_service *s = &p->svc;
	struct vbus_value none = vbus_invalid(), v;
	long instance = o->instance, position = o->position;
	char custom[128];
	size_t i;

	snprintf(custom, sizeof(custom), "%s",
	         o->custom_name ? o->custom_name : "");
	if (settings(p, &instance, &position, custom, sizeof(custom)) < 0)
		return -1;
	v = vbus_string("gw-publish");
	vbus_add(s, "/Mgmt/ProcessName", &v, false, NULL);
	v = vbus_string(GXKIT_VERSION);
	vbus_add(s, "/Mgmt/ProcessVersion", &v, false, NULL);
	v = vbus_string("gw-read on stdin");
	vbus_add(s, "/Mgmt/Connection", &v, false, NULL);
	v = vbus_int(instance);
	vbus_add(s, "/DeviceInstance", &v, false, NULL);
	v = vbus_int(o->product_id);
	vbus_add(s, "/ProductId", &v, false, NULL);
	v = vbus_string(o->product_name);
	vbus_add(s, "/ProductName", &v, false, NULL);
	v = vbus_string(o->firmware);
	vbus_add(s, "/FirmwareVersion", &v, false, NULL);
	v = vbus_string("");
	vbus_add(s, "/HardwareVersion", &v, false, NULL);
	v = vbus_int(0);
	vbus_add(s, "/Connected", &v, false, NULL);
	if (strcmp(o->type, "pvinverter") == 0) {
		v = vbus_int(position);
		vbus_add(s, "/Position", &v, true, NULL);
		v = vbus_string(custom);
		vbus_add(s, "/CustomName", &v, true, NULL);
		v = vbus_string("");
		vbus_add(s, "/Serial", &v, false, NULL);
		for (i = 0; i < sizeof(measured) / sizeof(measured[0]); i++)
			vbus_add(s, measured[i], &none, false, NULL);
	}
	for (i = 0; p->have_map && i < p->map.n; i++) {
		const struct mb_reg *r = &p->map.regs[i];

		/* a measured path already added takes the map's unit here */
		if (r->dbus_path != NULL)
			vbus_add(s, r->dbus_path, &none, false, r->unit);
	}
	for (i = 0; i < s->n; i++) { /* types decided once, here */
		s->items[i].text = is_text_path(p, s->items[i].path);
		s->items[i].changed = false;
	}
	return 0;
}

/* The D-Bus value of a JSON value for item; false: wrong type, refused. */
static bool
to_value(const struct vbus_item *item, json_t *j, struct vbus_value *v)
{
	bool text = item->text;

	if (json_is_null(j))
		*v = vbus_invalid();
	else if (json_is_integer(j) && !text)
		*v = vbus_int(json_integer_value(j));
	else if (json_is_real(j) && !text)
		*v = vbus_double(json_real_value(j));
	else if (json_is_string(j) && text)
		*v = vbus_string(json_string_value(j));
	else
		return false;
	return true;
}

static const char *
path_of(struct publisher *p, const char *key)
{
	const struct mb_reg *r;

	if (key[0] == '/')
		return key;
	if (strcmp(key, "serial") == 0 && strcmp(p->o->type, "pvinverter") == 0)
		return "/Serial";
	r = p->have_map ? regmap_find(&p->map, key) : NULL;
	return r != NULL ? r->dbus_path : NULL;
}

static void
apply_values(struct publisher *p, struct jsonl_reader *rd, json_t *values)
{
	struct vbus_value v, one = vbus_int(1);
	const char *key;
	json_t *val;

	json_object_foreach(values, key, val)
	{
		const char *path = path_of(p, key);
		struct vbus_item *item;

		if (path == NULL)
			continue;
		item = vbus_find(&p->svc, path);
		if (item == NULL) { /* a new "/..." key: typed by its value */
			struct vbus_value none = vbus_invalid();

			item = vbus_add(&p->svc, path, &none, false, NULL);
			if (item == NULL)
				continue;
			item->text = json_is_string(val);
		}
		if (!to_value(item, val, &v) || item->writable) {
			cli_warn("%s:%llu: %s: value of the wrong type refused",
			         rd->name, (unsigned long long)rd->lineno,
			         path);
			continue;
		}
		vbus_set(&p->svc, item, &v);
	}
	vbus_set(&p->svc, vbus_find(&p->svc, "/Connected"), &one);
	p->connected = true;
}

/* One record from stdin. */
static void
handle_record(struct publisher *p, struct jsonl_reader *rd)
{
	json_t *rec = jsonl_parse_line(rd), *values, *ok, *bus;

	if (rec == NULL)
		return; /* reported with its line number */
	ok = json_object_get(rec, "ok");
	values = json_object_get(rec, "values");
	bus = json_object_get(rec, "bus");
	if (json_is_false(ok)) {
		invalidate(p);
	} else if (json_is_object(values)) {
		if (json_is_string(bus)) {
			struct vbus_value v =
			    vbus_string(json_string_value(bus));

			vbus_set(&p->svc,
			         vbus_find(&p->svc, "/Mgmt/Connection"), &v);
		}
		apply_values(p, rd, values);
		p->last_good = clock_mono_ms();
	} else if (!json_is_string(json_object_get(rec, "event"))) {
		cli_warn("%s:%llu: no values, skipped", rd->name,
		         (unsigned long long)rd->lineno);
	}
	json_decref(rec);
}

/* ---- main ---------------------------------------------------------------- */

/* Serve the bus and stdin until EOF; 0 at EOF or a signal, 1 when the bus
 * went away, 3 past --max-rss. */
static int
loop(struct publisher *p)
{
	DBusConnection *conn = p->svc.conn;
	struct jsonl_reader rd;
	int fd, rc = 0;
	bool eof = false;

	if (!dbus_connection_get_unix_fd(conn, &fd)) {
		warnx("the bus connection has no descriptor to wait on");
		return CLI_EXIT_FAILURE;
	}
	jsonl_reader_init(&rd, stdin, "-");
	p->last_good = clock_mono_ms();
	while (!cli_stop && !eof) {
		struct pollfd pfd[2] = {{STDIN_FILENO, POLLIN, 0},
		                        {fd, POLLIN, 0}};
		uint64_t now = clock_mono_ms(),
		         due = p->last_good + p->o->stale_ms;
		int timeout = p->connected && due > now ? (int)(due - now)
		              : p->connected            ? 0
		                                        : 1000;

		/* Calls that came in during RequestName or a flush wait in
		 * libdbus, not on the socket: serve them before sleeping. */
		dbus_connection_flush(conn);
		vbus_dispatch(conn);
		if (!dbus_connection_get_is_connected(conn)) {
			warnx("lost the connection to the bus");
			rc = CLI_EXIT_FAILURE;
			break;
		}
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			vbus_dispatch(conn);
		if (pfd[0].revents) {
			int r = jsonl_read_some(&rd);

			if (r < 0) {
				warn("stdin");
				rc = CLI_EXIT_FAILURE;
				break;
			}
			eof = r == 0;
			while (jsonl_take_line(&rd))
				handle_record(p, &rd);
		}
		if (p->connected &&
		    clock_mono_ms() - p->last_good >= p->o->stale_ms) {
			cli_debug("no record for %llu ms: invalid",
			          (unsigned long long)p->o->stale_ms);
			invalidate(p);
		}
		if (vbus_flush(&p->svc) < 0) {
			warnx("out of memory for signals");
			rc = CLI_EXIT_FAILURE;
			break;
		}
		if (procmem_self_over(p->o->max_rss_kb)) {
			warnx("own RSS above --max-rss");
			rc = CLI_EXIT_LIMIT;
			break;
		}
	}
	jsonl_report_summary(&rd);
	jsonl_reader_free(&rd);
	return rc;
}

/* "com.victronenergy.<type>.<suffix>": the type, or NULL. */
static const char *
service_type(const char *name, char *buf, size_t len)
{
	const char *pre = "com.victronenergy.", *dot;
	size_t n = strlen(pre);

	if (strncmp(name, pre, n) != 0)
		return NULL;
	dot = strchr(name + n, '.');
	if (dot == NULL || dot == name + n || dot[1] == '\0' ||
	    (size_t)(dot - name - n) >= len)
		return NULL;
	snprintf(buf, len, "%.*s", (int)(dot - name - n), name + n);
	return buf;
}

static int
check(struct options *o, char *const a[], int system, int session, char *type,
      size_t len)
{
	uint64_t ms;

	if (a[0] == NULL)
		return cli_usage_error("which service: give -s "
		                       "com.victronenergy.TYPE.NAME");
	o->service = a[0];
	o->type = service_type(a[0], type, len);
	if (o->type == NULL)
		return cli_usage_error("service '%s' is not "
		                       "com.victronenergy.TYPE.NAME",
		                       a[0]);
	if (system + session + (a[3] != NULL) > 1)
		return cli_usage_error("--system, --session and --address "
		                       "exclude each other");
	o->bus_which = system ? "system" : session ? "session" : NULL;
	o->address = a[3];
	o->signals = VBUS_SIGNAL_ITEMS | VBUS_SIGNAL_PROPERTIES;
	if (a[1] != NULL && strcmp(a[1], "items") == 0)
		o->signals = VBUS_SIGNAL_ITEMS;
	else if (a[1] != NULL && strcmp(a[1], "properties") == 0)
		o->signals = VBUS_SIGNAL_PROPERTIES;
	else if (a[1] != NULL && strcmp(a[1], "both") != 0)
		return cli_usage_error("--signals: '%s' is not items, "
		                       "properties or both",
		                       a[1]);
	if (a[2] != NULL && (cli_parse_duration(a[2], &ms) < 0 || ms == 0))
		return cli_usage_error("--stale-after: bad duration '%s'",
		                       a[2]);
	o->stale_ms = a[2] != NULL ? ms : 30000;
	if (o->position < 0 || o->position > 2)
		return cli_usage_error("--position is 0, 1 or 2");
	if (o->instance < 0 || o->instance > 999)
		return cli_usage_error("--instance is 0 to 999");
	return cli_parse_max_rss(a[4], &o->max_rss_kb);
}

int
main(int argc, char **argv)
{
	static struct options o = {.product_id = 0xFFFF, .instance = 20};
	static struct publisher p;
	char *a[5] = {NULL}, *map = NULL, *pname = NULL, *fw = NULL,
	     *custom = NULL, msg[512], type[64];
	struct cli_strings strings = {0};
	int system = 0, session = 0, rc, i;
	struct poptOption table[] = {
	    {"service", 's', POPT_ARG_STRING, &a[0], CLI_OPT_STRING,
	     "the name to publish as: com.victronenergy.TYPE.NAME", "NAME"},
	    {"map", 'm', POPT_ARG_STRING, &map, CLI_OPT_STRING,
	     "register map whose dbus_path column names the paths", "MAP"},
	    {"product-name", '\0', POPT_ARG_STRING, &pname, CLI_OPT_STRING,
	     "/ProductName (default \"PV inverter\")", "TEXT"},
	    {"product-id", '\0', POPT_ARG_LONG, &o.product_id, 0,
	     "/ProductId (default 65535)", "N"},
	    {"firmware-version", '\0', POPT_ARG_STRING, &fw, CLI_OPT_STRING,
	     "/FirmwareVersion", "TEXT"},
	    {"position", '\0', POPT_ARG_LONG, &o.position, 0,
	     "/Position: 0 AC input 1, 1 AC output, 2 AC input 2", "N"},
	    {"custom-name", '\0', POPT_ARG_STRING, &custom, CLI_OPT_STRING,
	     "/CustomName at first start", "TEXT"},
	    {"instance", '\0', POPT_ARG_LONG, &o.instance, 0,
	     "device instance without a settings service (default 20)", "N"},
	    {"signals", '\0', POPT_ARG_STRING, &a[1], CLI_OPT_STRING,
	     "items, properties or both (default)", "WHICH"},
	    {"stale-after", '\0', POPT_ARG_STRING, &a[2], CLI_OPT_STRING,
	     "no record this long: values invalid (default 30s)", "DUR"},
	    {"system", '\0', POPT_ARG_NONE, &system, 0, "use the system bus",
	     NULL},
	    {"session", '\0', POPT_ARG_NONE, &session, 0, "use the session bus",
	     NULL},
	    {"address", '\0', POPT_ARG_STRING, &a[3], CLI_OPT_STRING,
	     "use the bus at ADDR", "ADDR"},
	    {"max-rss", '\0', POPT_ARG_STRING, &a[4], CLI_OPT_STRING,
	     "exit 3 when gw-publish itself grows past SIZE", "SIZE"},
	    CLI_COMMON_OPTIONS,
	    POPT_TABLEEND};
	poptContext con;

	con = cli_context(argc, argv, table,
	                  "[OPTION...] -s com.victronenergy.TYPE.NAME", 0);
	for (i = 0; i < 5; i++)
		cli_strings_track(&strings, &a[i]);
	cli_strings_track(&strings, &map);
	cli_strings_track(&strings, &pname);
	cli_strings_track(&strings, &fw);
	cli_strings_track(&strings, &custom);
	if ((rc = cli_parse_options(con, &strings)) >= 0 ||
	    (rc = check(&o, a, system, session, type, sizeof(type))) >= 0)
		goto done;
	o.map = map;
	o.product_name = pname ? pname : "PV inverter";
	o.firmware = fw ? fw : "";
	o.custom_name = custom;
	p.o = &o;
	rc = CLI_EXIT_FAILURE;
	if (map != NULL) {
		if (regmap_load(map, &p.map, msg, sizeof(msg)) < 0) {
			warnx("%s", msg);
			goto done;
		}
		p.have_map = true;
	}
	p.svc.conn = vbus_connect(o.bus_which, o.address, msg, sizeof(msg));
	if (p.svc.conn == NULL) {
		warnx("%s", msg);
		goto cleanup;
	}
	p.svc.signals = o.signals;
	p.svc.on_set = on_set;
	p.svc.user = &p;
	cli_catch_stop_signals();
	if (create_paths(&p) < 0 ||
	    vbus_publish(&p.svc, o.service, msg, sizeof(msg)) < 0) {
		if (p.svc.n > 0 && msg[0] != '\0')
			warnx("%s", msg);
		goto cleanup;
	}
	cli_debug("published %s with %zu paths", o.service, p.svc.n);

	rc = loop(&p);

	dbus_bus_release_name(p.svc.conn, o.service, NULL);
	dbus_connection_flush(p.svc.conn);
cleanup:
	if (p.svc.conn != NULL) {
		dbus_connection_close(p.svc.conn);
		dbus_connection_unref(p.svc.conn);
	}
	vbus_service_free(&p.svc);
	regmap_free(&p.map);
done:
	cli_strings_free(&strings);
	poptFreeContext(con);
	dbus_shutdown();
	return rc;
}
