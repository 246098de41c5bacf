/*
 * dbus-watch: see what Venus D-Bus services are doing.  Finds the services
 * matching a glob, now and as they appear, prints every path's value and
 * then every change (PropertiesChanged and ItemsChanged) as JSON Lines.
 * --get and --set read or write one value.
 */
#include <err.h>
#include <errno.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "jsonl.h"
#include "procmem.h"
#include "vbus.h"

#define MAX_SERVICES 256

struct service {
	char *name, *owner; /* well-known name and its unique owner */
	bool batches;       /* sends ItemsChanged: its PropertiesChanged
	                     * only repeat the same changes */
};

struct watcher {
	DBusConnection *conn;
	const char *glob;
	const char **paths; /* path globs, NULL-terminated; none: all */
	bool text, failed;
	int timeout_ms;
	struct service svc[MAX_SERVICES];
	size_t nsvc;
	struct jsonl_writer out;
};

static bool
path_wanted(const struct watcher *w, const char *path)
{
	size_t i;

	if (w->paths == NULL || w->paths[0] == NULL)
		return true;
	for (i = 0; w->paths[i] != NULL; i++)
		if (fnmatch(w->paths[i], path, 0) == 0)
			return true;
	return false;
}

static void
begin(struct watcher *w, const char *service)
{
	struct timespec now = clock_wall();

	jsonl_begin(&w->out, &now, "dbus-watch");
	jsonl_str(&w->out, "service", service);
}

static void
end(struct watcher *w)
{
	if (jsonl_end(&w->out) < 0 && !w->out.gone)
		w->failed = true;
	if (w->out.gone)
		cli_stop = 1;
}

/* One record: the value (a variant at it) and, from text, its text. */
static void
write_value(struct watcher *w, const char *service, const char *path,
            DBusMessageIter *value, const char *text)
{
	if (!path_wanted(w, path))
		return;
	begin(w, service);
	jsonl_str(&w->out, "path", path);
	vbus_write_json(&w->out, "value", value);
	if (w->text)
		jsonl_str(&w->out, "text", text);
	end(w);
}

static DBusMessage *
call(struct watcher *w, const char *dest, const char *path, const char *iface,
     const char *method, DBusError *e)
{
	DBusMessage *msg, *reply;

	if (!dbus_validate_path(path, NULL) ||
	    !dbus_validate_bus_name(dest, NULL)) {
		dbus_set_error(e, DBUS_ERROR_INVALID_ARGS, "bad name or path");
		return NULL;
	}
	msg = dbus_message_new_method_call(dest, path, iface, method);
	if (msg == NULL)
		return NULL;
	reply = dbus_connection_send_with_reply_and_block(w->conn, msg,
	                                                  w->timeout_ms, e);
	dbus_message_unref(msg);
	return reply;
}

/* The {Value, Text} dictionary of GetItems and the signals. */
static void
write_value_text(struct watcher *w, const char *service, const char *path,
                 DBusMessageIter *dict)
{
	DBusMessageIter e, value;
	const char *text = NULL;
	bool have = false;

	if (dbus_message_iter_get_arg_type(dict) != DBUS_TYPE_DICT_ENTRY)
		return;
	do {
		const char *key;

		dbus_message_iter_recurse(dict, &e);
		if (dbus_message_iter_get_arg_type(&e) != DBUS_TYPE_STRING)
			continue;
		dbus_message_iter_get_basic(&e, &key);
		dbus_message_iter_next(&e);
		if (strcmp(key, "Value") == 0) {
			value = e;
			have = true;
		} else if (strcmp(key, "Text") == 0) {
			text = vbus_variant_string(&e);
		}
	} while (dbus_message_iter_next(dict));
	if (have)
		write_value(w, service, path, &value, text);
}

/* a{sa{sv}}: GetItems replies and ItemsChanged. */
static void
write_items(struct watcher *w, const char *service, DBusMessageIter *it)
{
	DBusMessageIter arr, e, dict;

	if (dbus_message_iter_get_arg_type(it) != DBUS_TYPE_ARRAY)
		return;
	dbus_message_iter_recurse(it, &arr);
	while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY) {
		const char *path;

		dbus_message_iter_recurse(&arr, &e);
		dbus_message_iter_get_basic(&e, &path);
		dbus_message_iter_next(&e);
		if (dbus_message_iter_get_arg_type(&e) == DBUS_TYPE_ARRAY) {
			dbus_message_iter_recurse(&e, &dict);
			write_value_text(w, service, path, &dict);
		}
		dbus_message_iter_next(&arr);
	}
}

/* GetText of one path, for --text in the fallbacks; NULL if none. */
static char *
get_text(struct watcher *w, const char *service, const char *path)
{
	DBusError e;
	DBusMessage *r;
	const char *s = NULL;
	char *copy = NULL;

	dbus_error_init(&e);
	r = call(w, service, path, VBUS_IFACE, "GetText", &e);
	if (r != NULL && dbus_message_get_args(r, NULL, DBUS_TYPE_STRING, &s,
	                                       DBUS_TYPE_INVALID))
		copy = strdup(s);
	if (r != NULL)
		dbus_message_unref(r);
	dbus_error_free(&e);
	return copy;
}

/* Second way: GetValue on "/" gives a{sv} keyed without the slash. */
static bool
read_root_value(struct watcher *w, const char *service)
{
	DBusMessageIter it, var, arr, e;
	DBusMessage *r;
	DBusError err;

	dbus_error_init(&err);
	r = call(w, service, "/", VBUS_IFACE, "GetValue", &err);
	dbus_error_free(&err);
	if (r == NULL)
		return false;
	if (!dbus_message_iter_init(r, &it) ||
	    dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_VARIANT) {
		dbus_message_unref(r);
		return false;
	}
	dbus_message_iter_recurse(&it, &var);
	if (dbus_message_iter_get_arg_type(&var) != DBUS_TYPE_ARRAY) {
		dbus_message_unref(r);
		return false;
	}
	dbus_message_iter_recurse(&var, &arr);
	while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY) {
		const char *key;
		char path[512];
		char *text;

		dbus_message_iter_recurse(&arr, &e);
		dbus_message_iter_get_basic(&e, &key);
		dbus_message_iter_next(&e);
		snprintf(path, sizeof(path), "/%s", key);
		text = w->text && path_wanted(w, path)
		           ? get_text(w, service, path)
		           : NULL;
		write_value(w, service, path, &e, text);
		free(text);
		dbus_message_iter_next(&arr);
	}
	dbus_message_unref(r);
	return true;
}

/* Third way: walk the introspection tree, GetValue on every leaf. */
static void
read_tree(struct watcher *w, const char *service, const char *path, int depth)
{
	DBusMessage *r;
	DBusError e;
	const char *xml, *p;
	bool children = false;

	dbus_error_init(&e);
	r = call(w, service, path, DBUS_INTERFACE_INTROSPECTABLE, "Introspect",
	         &e);
	dbus_error_free(&e);
	if (r == NULL || !dbus_message_get_args(r, NULL, DBUS_TYPE_STRING, &xml,
	                                        DBUS_TYPE_INVALID)) {
		if (r != NULL)
			dbus_message_unref(r);
		return;
	}
	for (p = strstr(xml, "<node name=\""); p != NULL && depth < 16;
	     p = strstr(p + 1, "<node name=\"")) {
		char child[512];
		size_t n = strcspn(p + 12, "\"");

		if (n == 0 || p[12] == '/') /* the node itself, named */
			continue;
		snprintf(child, sizeof(child), "%s%s%.*s",
		         strcmp(path, "/") == 0 ? "" : path, "/", (int)n,
		         p + 12);
		if (!dbus_validate_path(child, NULL))
			continue;
		children = true;
		read_tree(w, service, child, depth + 1);
	}
	dbus_message_unref(r);
	if (!children && strcmp(path, "/") != 0 && path_wanted(w, path)) {
		DBusMessageIter it;
		char *text;

		dbus_error_init(&e);
		r = call(w, service, path, VBUS_IFACE, "GetValue", &e);
		dbus_error_free(&e);
		if (r == NULL)
			return;
		text = w->text ? get_text(w, service, path) : NULL;
		if (dbus_message_iter_init(r, &it))
			write_value(w, service, path, &it, text);
		free(text);
		dbus_message_unref(r);
	}
}

/*
 * Every value of a service: GetItems, else GetValue on /, else a walk.
 * Returns whether GetItems worked: such services batch their changes in
 * ItemsChanged too.
 */
static bool
read_service(struct watcher *w, const char *service)
{
	DBusMessage *r;
	DBusMessageIter it;
	DBusError e;

	dbus_error_init(&e);
	r = call(w, service, "/", VBUS_IFACE, "GetItems", &e);
	dbus_error_free(&e);
	if (r != NULL) {
		if (dbus_message_iter_init(r, &it))
			write_items(w, service, &it);
		dbus_message_unref(r);
		return true;
	}
	if (!read_root_value(w, service))
		read_tree(w, service, "/", 0);
	return false;
}

/* ---- services ------------------------------------------------------------ */

static struct service *
find_service(struct watcher *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->nsvc; i++)
		if (strcmp(w->svc[i].name, name) == 0)
			return &w->svc[i];
	return NULL;
}

static void
event(struct watcher *w, const char *what, const char *service,
      const char *owner)
{
	begin(w, service);
	jsonl_str(&w->out, "event", what);
	jsonl_str(&w->out, "owner", owner);
	end(w);
}

static void
appeared(struct watcher *w, const char *name, const char *owner, bool quiet)
{
	struct service *s = find_service(w, name);

	if (s == NULL) {
		if (w->nsvc == MAX_SERVICES)
			return;
		s = &w->svc[w->nsvc++];
		s->name = strdup(name);
		s->owner = NULL;
		s->batches = false;
	}
	free(s->owner);
	s->owner = strdup(owner);
	if (!quiet)
		event(w, "appeared", name, owner);
	s->batches = read_service(w, name);
}

static void
vanished(struct watcher *w, const char *name, const char *old_owner)
{
	struct service *s = find_service(w, name);

	if (s == NULL)
		return;
	event(w, "vanished", name, old_owner);
	free(s->name);
	free(s->owner);
	*s = w->svc[--w->nsvc];
}

/* The services matching the glob right now. */
static int
list_services(struct watcher *w)
{
	DBusMessage *r;
	DBusMessageIter it, arr;
	DBusError e;

	dbus_error_init(&e);
	r = call(w, DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
	         "ListNames", &e);
	if (r == NULL) {
		warnx("ListNames: %s", e.message);
		dbus_error_free(&e);
		return -1;
	}
	dbus_message_iter_init(r, &it);
	dbus_message_iter_recurse(&it, &arr);
	while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_STRING) {
		const char *name;
		char *owner;

		dbus_message_iter_get_basic(&arr, &name);
		dbus_message_iter_next(&arr);
		if (name[0] == ':' || fnmatch(w->glob, name, 0) != 0)
			continue;
		owner = NULL;
		{
			DBusMessage *m = dbus_message_new_method_call(
			    DBUS_SERVICE_DBUS, DBUS_PATH_DBUS,
			    DBUS_INTERFACE_DBUS, "GetNameOwner");
			DBusMessage *o;
			const char *u;

			dbus_message_append_args(m, DBUS_TYPE_STRING, &name,
			                         DBUS_TYPE_INVALID);
			o = dbus_connection_send_with_reply_and_block(
			    w->conn, m, w->timeout_ms, NULL);
			dbus_message_unref(m);
			if (o != NULL &&
			    dbus_message_get_args(o, NULL, DBUS_TYPE_STRING, &u,
			                          DBUS_TYPE_INVALID))
				owner = strdup(u);
			if (o != NULL)
				dbus_message_unref(o);
		}
		if (owner != NULL)
			appeared(w, name, owner, true);
		free(owner);
	}
	dbus_message_unref(r);
	return 0;
}

/* Signals: owners changing, and values changing. */
static DBusHandlerResult
filter(DBusConnection *conn, DBusMessage *msg, void *data)
{
	struct watcher *w = data;
	const char *sender = dbus_message_get_sender(msg);
	DBusMessageIter it, dict;
	size_t i;

	(void)conn;
	if (dbus_message_is_signal(msg, DBUS_INTERFACE_DBUS,
	                           "NameOwnerChanged")) {
		const char *name, *old, *new;

		if (dbus_message_get_args(
		        msg, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING,
		        &old, DBUS_TYPE_STRING, &new, DBUS_TYPE_INVALID) &&
		    name[0] != ':' && fnmatch(w->glob, name, 0) == 0) {
			if (old[0] != '\0')
				vanished(w, name, old);
			if (new[0] != '\0')
				appeared(w, name, new, false);
		}
		return DBUS_HANDLER_RESULT_HANDLED;
	}
	if (sender == NULL || !dbus_message_iter_init(msg, &it))
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	for (i = 0; i < w->nsvc; i++) {
		if (strcmp(w->svc[i].owner, sender) != 0)
			continue;
		if (dbus_message_is_signal(msg, VBUS_IFACE, "ItemsChanged")) {
			w->svc[i].batches = true;
			write_items(w, w->svc[i].name, &it);
		} else if (!w->svc[i].batches &&
		           dbus_message_is_signal(msg, VBUS_IFACE,
		                                  "PropertiesChanged") &&
		           dbus_message_iter_get_arg_type(&it) ==
		               DBUS_TYPE_ARRAY) {
			dbus_message_iter_recurse(&it, &dict);
			write_value_text(w, w->svc[i].name,
			                 dbus_message_get_path(msg), &dict);
		}
		dbus_message_iter_init(msg, &it);
	}
	return DBUS_HANDLER_RESULT_HANDLED;
}

/* ---- modes --------------------------------------------------------------- */

static int
add_matches(struct watcher *w)
{
	static const char *const rules[] = {
	    "type='signal',sender='" DBUS_SERVICE_DBUS
	    "',interface='" DBUS_INTERFACE_DBUS "',member='NameOwnerChanged'",
	    "type='signal',interface='" VBUS_IFACE
	    "',member='PropertiesChanged'",
	    "type='signal',interface='" VBUS_IFACE "',member='ItemsChanged'"};
	DBusError e;
	size_t i;

	dbus_error_init(&e);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		dbus_bus_add_match(w->conn, rules[i], &e);
		if (dbus_error_is_set(&e)) {
			warnx("add match: %s", e.message);
			dbus_error_free(&e);
			return -1;
		}
	}
	return dbus_connection_add_filter(w->conn, filter, w, NULL) ? 0 : -1;
}

/* Watch until a signal, a closed pipe, or the bus going away. */
static int
watch(struct watcher *w, double max_rss_kb)
{
	int fd;

	/* matches first, then the listing: no change falls in between */
	if (add_matches(w) < 0 || list_services(w) < 0 ||
	    !dbus_connection_get_unix_fd(w->conn, &fd))
		return CLI_EXIT_FAILURE;
	while (!cli_stop && !w->failed) {
		struct pollfd pfd = {fd, POLLIN, 0};

		/* signals read during a blocking call (GetValue of a new
		 * service) wait in libdbus: print them before sleeping */
		vbus_dispatch(w->conn);
		fflush(stdout);
		if (!dbus_connection_get_is_connected(w->conn)) {
			warnx("lost the connection to the bus");
			return CLI_EXIT_FAILURE;
		}
		if (poll(&pfd, 1, 500) < 0 && errno != EINTR)
			break;
		if (procmem_self_over(max_rss_kb)) {
			warnx("own RSS above --max-rss");
			return CLI_EXIT_LIMIT;
		}
	}
	return w->failed ? CLI_EXIT_FAILURE : 0;
}

static int
get_one(struct watcher *w, const char *service, const char *path)
{
	DBusMessage *r;
	DBusMessageIter it;
	DBusError e;
	char *text;

	dbus_error_init(&e);
	r = call(w, service, path, VBUS_IFACE, "GetValue", &e);
	if (r == NULL) {
		warnx("%s %s: %s", service, path, e.message);
		dbus_error_free(&e);
		return CLI_EXIT_FAILURE;
	}
	text = w->text ? get_text(w, service, path) : NULL;
	w->paths = NULL;
	if (dbus_message_iter_init(r, &it))
		write_value(w, service, path, &it, text);
	free(text);
	dbus_message_unref(r);
	return w->failed ? CLI_EXIT_FAILURE : 0;
}

/* --set: JSON to a variant, SetValue, and its result code. */
static int
set_one(struct watcher *w, const char *service, const char *path,
        const char *json)
{
	json_error_t jerr;
	json_t *j = json_loads(json, JSON_DECODE_ANY, &jerr);
	struct vbus_value v;
	DBusMessage *msg, *r;
	DBusMessageIter it;
	dbus_int32_t result = -1;
	DBusError e;

	if (!dbus_validate_path(path, NULL) ||
	    !dbus_validate_bus_name(service, NULL)) {
		json_decref(j);
		return cli_usage_error("--set: bad service '%s' or path '%s'",
		                       service, path);
	}
	if (j == NULL || json_is_object(j) || json_is_array(j) ||
	    json_is_boolean(j)) {
		json_decref(j);
		return cli_usage_error("--set: '%s' is not a number, a string "
		                       "or null",
		                       json);
	}
	v = json_is_null(j)      ? vbus_invalid()
	    : json_is_integer(j) ? vbus_int(json_integer_value(j))
	    : json_is_real(j)    ? vbus_double(json_real_value(j))
	                         : vbus_string(json_string_value(j));
	msg =
	    dbus_message_new_method_call(service, path, VBUS_IFACE, "SetValue");
	dbus_message_iter_init_append(msg, &it);
	vbus_append_variant(&it, &v);
	json_decref(j);
	dbus_error_init(&e);
	r = dbus_connection_send_with_reply_and_block(w->conn, msg,
	                                              w->timeout_ms, &e);
	dbus_message_unref(msg);
	if (r == NULL) {
		warnx("%s %s: %s", service, path, e.message);
		dbus_error_free(&e);
		return CLI_EXIT_FAILURE;
	}
	dbus_message_get_args(r, NULL, DBUS_TYPE_INT32, &result,
	                      DBUS_TYPE_INVALID);
	dbus_message_unref(r);
	begin(w, service);
	jsonl_str(&w->out, "path", path);
	jsonl_int(&w->out, "result", result);
	end(w);
	return w->failed ? CLI_EXIT_FAILURE : result == 0 ? 0 : CLI_EXIT_LIMIT;
}

int
main(int argc, char **argv)
{
	static struct watcher w = {.timeout_ms = 5000};
	char *addr = NULL, *max_rss = NULL, *timeout = NULL, msg[300];
	struct cli_strings strings = {0};
	int once = 0, get = 0, set = 0, text = 0, system = 0, session = 0,
	    nargs, rc;
	double max_rss_kb = 0;
	uint64_t ms;
	const char **args;
	struct poptOption table[] = {
	    {"once", '\0', POPT_ARG_NONE, &once, 0,
	     "print the current values and exit", NULL},
	    {"get", '\0', POPT_ARG_NONE, &get, 0,
	     "SERVICE PATH: print one value", NULL},
	    {"set", '\0', POPT_ARG_NONE, &set, 0,
	     "SERVICE PATH JSON: SetValue, print its result code", NULL},
	    {"text", '\0', POPT_ARG_NONE, &text, 0, "add each value's text",
	     NULL},
	    {"timeout", '\0', POPT_ARG_STRING, &timeout, CLI_OPT_STRING,
	     "how long a call may take (default 5s)", "DUR"},
	    {"system", '\0', POPT_ARG_NONE, &system, 0, "use the system bus",
	     NULL},
	    {"session", '\0', POPT_ARG_NONE, &session, 0, "use the session bus",
	     NULL},
	    {"address", '\0', POPT_ARG_STRING, &addr, CLI_OPT_STRING,
	     "use the bus at ADDR", "ADDR"},
	    {"max-rss", '\0', POPT_ARG_STRING, &max_rss, CLI_OPT_STRING,
	     "exit 3 when dbus-watch itself grows past SIZE", "SIZE"},
	    CLI_COMMON_OPTIONS,
	    POPT_TABLEEND};
	poptContext con;

	con = cli_context(argc, argv, table,
	                  "[OPTION...] SERVICE-GLOB [PATH-GLOB...]\n"
	                  "   or: dbus-watch --get SERVICE PATH\n"
	                  "   or: dbus-watch --set SERVICE PATH JSON",
	                  0);
	cli_strings_track(&strings, &addr);
	cli_strings_track(&strings, &max_rss);
	cli_strings_track(&strings, &timeout);
	if ((rc = cli_parse_options(con, &strings)) >= 0)
		goto done;
	args = poptGetArgs(con);
	for (nargs = 0; args != NULL && args[nargs] != NULL; nargs++)
		;
	if (get + set + once > 1)
		rc = cli_usage_error(
		    "--once, --get and --set exclude each other");
	else if ((get && nargs != 2) || (set && nargs != 3) || nargs < 1)
		rc = cli_usage_error(
		    get   ? "--get takes SERVICE PATH"
		    : set ? "--set takes SERVICE PATH JSON"
		          : "which services: give a SERVICE-GLOB");
	else if (system + session + (addr != NULL) > 1)
		rc =
		    cli_usage_error("--system, --session and --address exclude "
		                    "each other");
	else if (timeout != NULL &&
	         (cli_parse_duration(timeout, &ms) < 0 || ms == 0))
		rc = cli_usage_error("--timeout: bad duration '%s'", timeout);
	else
		rc = cli_parse_max_rss(max_rss, &max_rss_kb);
	if (rc >= 0)
		goto done;
	if (timeout != NULL)
		w.timeout_ms = (int)ms;
	w.text = text;
	w.glob = args[0];
	w.paths = args + 1;
	w.conn = vbus_connect(system    ? "system"
	                      : session ? "session"
	                                : NULL,
	                      addr, msg, sizeof(msg));
	if (w.conn == NULL) {
		warnx("%s", msg);
		rc = CLI_EXIT_FAILURE;
		goto done;
	}
	cli_catch_stop_signals();
	setvbuf(stdout, NULL, once || get || set ? _IOFBF : _IOLBF, 0);
	jsonl_writer_init(&w.out, stdout);

	if (get)
		rc = get_one(&w, args[0], args[1]);
	else if (set)
		rc = set_one(&w, args[0], args[1], args[2]);
	else if (once)
		rc = list_services(&w) < 0 ? CLI_EXIT_FAILURE
		     : w.failed            ? CLI_EXIT_FAILURE
		                           : 0;
	else
		rc = watch(&w, max_rss_kb);

	for (size_t i = 0; i < w.nsvc; i++) {
		free(w.svc[i].name);
		free(w.svc[i].owner);
	}
	jsonl_writer_free(&w.out);
	if (cli_close_stdout() != 0 && rc == 0)
		rc = CLI_EXIT_FAILURE;
	dbus_connection_close(w.conn);
	dbus_connection_unref(w.conn);
done:
	cli_strings_free(&strings);
	poptFreeContext(con);
	dbus_shutdown();
	return rc;
}
