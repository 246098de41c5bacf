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
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "jsonl.h"
#include "parse.h"
#include "vbus.h"

struct watcher {
	struct vbus_client bus;
	struct vbus_watch watch; /* the services of the glob */
	const char **paths;      /* path globs, NULL-terminated; none: all */
	bool text, failed;
	unsigned lost_reports; /* values JSON could not carry, reported */
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
	if (jsonl_end(&w->out) < 0 && !w->out.gone) {
		cli_write_error();
		w->failed = true;
	}
	if (w->out.gone)
		cli_stop = 1;
}

/* What JSON could not carry of a peer's value, said on stderr: the first
 * few times, as a peer may send such values in every signal. */
#define LOST_REPORTS 10

static void
report_lost(struct watcher *w, const char *service, const char *path,
            unsigned lost)
{
	if (lost == 0 || cli_common.quiet || w->lost_reports > LOST_REPORTS)
		return;
	if (w->lost_reports++ == LOST_REPORTS) {
		warnx("more values JSON cannot carry: not reported");
		return;
	}
	if (lost & VBUS_JSON_FD)
		warnx("%s %s: a unix fd has no JSON form; shown as null",
		      service, path);
	if (lost & VBUS_JSON_CUT)
		warnx("%s %s: nested deeper than %d levels; cut at \"%s\"",
		      service, path, JSONL_MAX_DEPTH - 1, VBUS_JSON_CUT_MARK);
}

/* One record: a service's path, its value (a variant) and its text. */
static void
write_value(void *user, const char *service, const char *path,
            DBusMessageIter *value, const char *text)
{
	struct watcher *w = user;

	if (!path_wanted(w, path))
		return;
	begin(w, service);
	jsonl_str(&w->out, "path", path);
	report_lost(w, service, path, vbus_write_json(&w->out, "value", value));
	if (w->text)
		jsonl_str(&w->out, "text", text);
	end(w);
}

/* ---- services ------------------------------------------------------------ */

static void
event(struct watcher *w, const char *what, const char *service,
      const char *owner)
{
	begin(w, service);
	jsonl_str(&w->out, "event", what);
	jsonl_str(&w->out, "owner", owner);
	end(w);
}

/* Those there at the start are not news: their values are. */
static void
appeared(void *user, const char *service, const char *owner, bool initial)
{
	if (!initial)
		event(user, "appeared", service, owner);
}

static void
vanished(void *user, const char *service, const char *owner)
{
	event(user, "vanished", service, owner);
}

/* The services matching the glob right now, with their values. */
static int
list_services(struct watcher *w)
{
	char err[512];

	if (vbus_watch_list(&w->watch, err, sizeof(err)) < 0) {
		warnx("ListNames: %s", err);
		return -1;
	}
	return 0;
}

/* ---- modes --------------------------------------------------------------- */

/* --once: the values of every matching service; none is exit 4. */
static int
once(struct watcher *w)
{
	if (list_services(w) < 0 || w->failed)
		return CLI_EXIT_FAILURE;
	if (w->watch.n == 0) {
		warnx("no service on the bus matches '%s'", w->watch.service);
		return CLI_EXIT_NO_SERVICE;
	}
	return CLI_EXIT_OK;
}

/* Watch until a signal, a closed pipe, or the bus going away. */
static int
watch(struct watcher *w, double max_rss_kb)
{
	char err[512];
	int fd;

	/* matches first, then the listing: no change falls in between */
	if (vbus_watch_start(&w->watch, err, sizeof(err)) < 0) {
		warnx("%s", err);
		return CLI_EXIT_FAILURE;
	}
	if (list_services(w) < 0 || (fd = vbus_fd(w->bus.conn)) < 0)
		return CLI_EXIT_FAILURE;
	while (!cli_stop && !w->failed) {
		/* stdout too: a pipe whose reader left reports POLLERR, so
		 * `dbus-watch ... | head -n1` ends when head does */
		struct pollfd pfd[2] = {{fd, POLLIN, 0}, {STDOUT_FILENO, 0, 0}};

		/* signals read during a blocking call (GetValue of a new
		 * service) wait in libdbus: print them before sleeping */
		vbus_dispatch(w->bus.conn, &cli_stop);
		fflush(stdout);
		if (!vbus_connected(w->bus.conn)) {
			warnx("lost the connection to the bus");
			return CLI_EXIT_FAILURE;
		}
		if (poll(pfd, 2, 500) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & (POLLERR | POLLHUP))
			break; /* the reader went away: end quietly */
		if (cli_over_max_rss(max_rss_kb))
			return CLI_EXIT_LIMIT;
	}
	return w->failed ? CLI_EXIT_FAILURE : 0;
}

/* What --get's item callback needs: the watcher and the service. */
struct seen {
	struct watcher *w;
	const char *service;
};

static void
write_seen(void *user, const char *path, DBusMessageIter *value,
           const char *text)
{
	const struct seen *seen = user;

	write_value(seen->w, seen->service, path, value, text);
}

static void
ignore_value(void *user, const char *path, DBusMessageIter *value,
             const char *text)
{
	(void)user;
	(void)path;
	(void)value;
	(void)text;
}

/* A failed call's message, and the exit status its state gives. */
static int
call_failed(const char *service, const char *path, enum vbus_health h,
            const char *err)
{
	if (h == VBUS_HEALTH_NO_SERVICE)
		warnx("no service %s on the bus", service);
	else
		warnx("%s %s: %s", service, path, err);
	return vbus_health_exit(&h, 1);
}

/* --get: the record of a value, null when invalid; the exit status of its
 * state (an invalid value is 5, as with --check). */
static int
get_one(struct watcher *w, const char *service, const char *path)
{
	struct seen seen = {w, service};
	enum vbus_health h;
	char err[512];

	w->paths = NULL;
	h = vbus_get_health(&w->bus, service, path, w->text, write_seen, &seen,
	                    err, sizeof(err));
	if (h >= VBUS_HEALTH_ABSENT)
		return call_failed(service, path, h, err);
	return w->failed ? CLI_EXIT_FAILURE : vbus_health_exit(&h, 1);
}

static void
holds_string(void *user, const char *path, DBusMessageIter *value,
             const char *text)
{
	(void)path;
	(void)text;
	*(bool *)user = vbus_variant_string(value) != NULL;
}

/* --set's value: JSON, or a plain word as a string where the path holds
 * one now (as a shell user writes Roof, not '"Roof"'); NULL after a
 * message with *rc set. */
static json_t *
set_argument(struct watcher *w, const char *service, const char *path,
             const char *arg, int *rc)
{
	json_t *j = json_loads(arg, JSON_DECODE_ANY, NULL);
	enum vbus_health h;
	bool is_string = false;
	char err[512];

	if (j != NULL)
		return j;
	h = vbus_get_health(&w->bus, service, path, false, holds_string,
	                    &is_string, err, sizeof(err));
	if (h >= VBUS_HEALTH_ABSENT) {
		*rc = call_failed(service, path, h, err);
		return NULL;
	}
	if (!is_string || (j = json_string(arg)) == NULL)
		*rc = cli_usage_error("--set: '%s' is not a number or null, "
		                      "and %s holds no string to take it as "
		                      "one",
		                      arg, path);
	return j;
}

/* --set: the value to a variant, SetValue, and its result code. */
static int
set_one(struct watcher *w, const char *service, const char *path,
        const char *arg)
{
	json_t *j;
	struct vbus_value v;
	char err[512];
	int result = -1, rc;

	if ((j = set_argument(w, service, path, arg, &rc)) == NULL)
		return rc;
	if (vbus_value_from_json(j, &v) < 0) {
		json_decref(j);
		return cli_usage_error("--set: '%s' is not a number, a string "
		                       "or null",
		                       arg);
	}
	rc = vbus_set_value(&w->bus, service, path, &v, &result, err,
	                    sizeof(err));
	json_decref(j);
	if (rc < 0) {
		char why[512];
		/* a service or path not there says so, as with --get */
		enum vbus_health h =
		    vbus_get_health(&w->bus, service, path, false, ignore_value,
		                    NULL, why, sizeof(why));

		if (h >= VBUS_HEALTH_NO_SERVICE || h == VBUS_HEALTH_ABSENT)
			return call_failed(service, path, h, why);
		warnx("%s %s: %s", service, path, err);
		return CLI_EXIT_FAILURE;
	}
	begin(w, service);
	jsonl_str(&w->out, "path", path);
	jsonl_int(&w->out, "result", result);
	end(w);
	return w->failed     ? CLI_EXIT_FAILURE
	       : result == 0 ? CLI_EXIT_OK
	                     : CLI_EXIT_REFUSED;
}

/* ---- --check ------------------------------------------------------------ */

/* A health check of one service's paths. */
struct check {
	struct watcher *w;
	const char *service;
	const char *const *paths;
	size_t n;
	enum vbus_health *state;
	bool *changed;
	uint64_t fresh_ms; /* 0: no --fresh */
	bool gone;         /* the service left while we waited */
	char text[256];    /* the value's text, for the line */
};

static void
check_changed(void *user, const char *service, const char *path,
              DBusMessageIter *value, const char *text)
{
	struct check *ck = user;
	size_t i;

	(void)service;
	(void)value;
	(void)text;
	for (i = 0; i < ck->n; i++)
		if (strcmp(ck->paths[i], path) == 0)
			ck->changed[i] = true;
}

static void
check_vanished(void *user, const char *service, const char *owner)
{
	(void)service;
	(void)owner;
	((struct check *)user)->gone = true;
}

/* Whether every path there is to wait for has changed. */
static bool
all_changed(const struct check *ck)
{
	size_t i;

	for (i = 0; i < ck->n; i++)
		if (!ck->changed[i] && ck->state[i] != VBUS_HEALTH_ABSENT)
			return false;
	return true;
}

/* Up to --fresh for a change of each path that can send one; 0, or the
 * exit code when the bus went away. */
static int
wait_for_changes(struct check *ck)
{
	struct vbus_watch watch = {.bus = &ck->w->bus,
	                           .service = ck->service,
	                           .ops = {NULL, check_vanished, check_changed},
	                           .user = ck};
	uint64_t deadline = clock_mono_ms() + ck->fresh_ms, now;
	char err[512];
	int rc = 0, fd = vbus_fd(ck->w->bus.conn);

	if (vbus_watch_start(&watch, err, sizeof(err)) < 0 ||
	    vbus_watch_list(&watch, err, sizeof(err)) < 0) {
		warnx("%s", err);
		vbus_watch_free(&watch);
		return CLI_EXIT_FAILURE;
	}
	while (!cli_stop && !ck->gone && !all_changed(ck) &&
	       (now = clock_mono_ms()) < deadline) {
		struct pollfd pfd = {fd, POLLIN, 0};

		if (!vbus_connected(ck->w->bus.conn)) {
			warnx("lost the connection to the bus");
			rc = CLI_EXIT_FAILURE;
			break;
		}
		if (poll(&pfd, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			break;
		vbus_dispatch(ck->w->bus.conn, &cli_stop);
	}
	vbus_watch_free(&watch);
	return rc;
}

static void
check_value(void *user, const char *path, DBusMessageIter *value,
            const char *text)
{
	struct check *ck = user;

	(void)path;
	if (ck->w->text) {
		snprintf(ck->text, sizeof(ck->text), "%s", text ? text : "");
		return;
	}
	report_lost(ck->w, ck->service, path,
	            vbus_write_json(&ck->w->out, "value", value));
}

/* One path's state now, as a record or, with --text, a line. */
static void
check_path(struct check *ck, size_t i)
{
	struct watcher *w = ck->w;
	char err[512] = "";
	bool stale;

	ck->text[0] = '\0';
	if (!w->text) {
		begin(w, ck->service);
		jsonl_str(&w->out, "path", ck->paths[i]);
	}
	ck->state[i] =
	    vbus_get_health(&w->bus, ck->service, ck->paths[i], w->text,
	                    check_value, ck, err, sizeof(err));
	stale = ck->fresh_ms > 0 && !ck->changed[i];
	if (ck->state[i] == VBUS_HEALTH_OK && stale)
		ck->state[i] = VBUS_HEALTH_STALE;
	if (w->text) {
		printf("%s %s %s%s%s\n", ck->service, ck->paths[i],
		       vbus_health_name(ck->state[i]), ck->text[0] ? " " : "",
		       ck->text);
		return;
	}
	if (ck->state[i] >= VBUS_HEALTH_ABSENT)
		jsonl_null(&w->out, "value");
	jsonl_str(&w->out, "state", vbus_health_name(ck->state[i]));
	if (ck->fresh_ms > 0)
		jsonl_bool(&w->out, "changed", ck->changed[i]);
	if (ck->state[i] >= VBUS_HEALTH_ABSENT)
		jsonl_str(&w->out, "message", err);
	end(w);
}

/* --check: each path's state, a change of each within --fresh; the exit
 * status of the worst (vbus_health_exit()). */
static int
check_service(struct watcher *w, const char *const *args, size_t nargs,
              uint64_t fresh_ms)
{
	struct check ck = {.w = w,
	                   .service = args[0],
	                   .paths = args + 1,
	                   .n = nargs - 1,
	                   .fresh_ms = fresh_ms};
	char why[512];
	size_t i;
	int rc = 0;

	ck.state = calloc(ck.n, sizeof(*ck.state));
	ck.changed = calloc(ck.n, sizeof(*ck.changed));
	if (ck.state == NULL || ck.changed == NULL)
		err(CLI_EXIT_FAILURE, "out of memory");
	for (i = 0; i < ck.n && fresh_ms > 0; i++)
		ck.state[i] =
		    vbus_get_health(&w->bus, ck.service, ck.paths[i], false,
		                    ignore_value, NULL, why, sizeof(why));
	if (fresh_ms > 0 &&
	    vbus_health_exit(ck.state, ck.n) != CLI_EXIT_NO_SERVICE &&
	    vbus_health_exit(ck.state, ck.n) != CLI_EXIT_FAILURE)
		rc = wait_for_changes(&ck);
	for (i = 0; rc == 0 && i < ck.n && !w->failed; i++)
		check_path(&ck, i);
	if (rc == 0)
		rc = w->failed ? CLI_EXIT_FAILURE
		               : vbus_health_exit(ck.state, ck.n);
	free(ck.state);
	free(ck.changed);
	return rc;
}

struct args {
	int once, get, set, check, text;
	char *fresh;
	uint64_t fresh_ms;
	struct cli_bus bus;
	const char *bus_which; /* of bus */
	char *max_rss, *timeout;
	const char **args; /* the operands */
	int nargs;
	double max_rss_kb;
};

/* The operands each mode takes, names and paths valid where exact. */
static int
check_operands(const struct args *a)
{
	char err[512];
	int i;

	if (a->get + a->set + a->once + a->check > 1)
		return cli_usage_error(
		    "--once, --get, --set and --check exclude each other");
	if ((a->get && a->nargs != 2) || (a->set && a->nargs != 3) ||
	    (a->check && a->nargs < 2) || a->nargs < 1)
		return cli_usage_error(
		    a->get     ? "--get takes SERVICE PATH"
		    : a->set   ? "--set takes SERVICE PATH VALUE"
		    : a->check ? "--check takes SERVICE PATH..."
		               : "which services: give a SERVICE-GLOB");
	if (a->fresh != NULL && !a->check)
		return cli_usage_error("--fresh goes with --check");
	if (!a->get && !a->set && !a->check)
		return CLI_CONTINUE;
	if (vbus_check_name(a->args[0], err, sizeof(err)) < 0)
		return cli_usage_error("%s", err);
	for (i = 1; i < (a->set ? 2 : a->nargs); i++)
		if (vbus_check_path(a->args[i], err, sizeof(err)) < 0)
			return cli_usage_error("%s", err);
	return CLI_CONTINUE;
}

/* The options and operands make sense together; CLI_CONTINUE, else the
 * exit code after the message. */
static int
check(struct args *a, struct watcher *w)
{
	uint64_t ms;
	int rc;

	for (a->nargs = 0; a->args != NULL && a->args[a->nargs] != NULL;
	     a->nargs++)
		;
	if ((rc = check_operands(a)) >= 0)
		return rc;
	if (a->fresh != NULL &&
	    (parse_duration(a->fresh, &a->fresh_ms) < 0 || a->fresh_ms == 0))
		return cli_usage_error("--fresh: bad duration '%s'", a->fresh);
	if ((rc = cli_bus_choice(&a->bus, &a->bus_which)) >= 0)
		return rc;
	if (a->timeout != NULL &&
	    (parse_duration(a->timeout, &ms) < 0 || ms == 0 || ms > INT32_MAX))
		return cli_usage_error("--timeout: bad duration '%s'",
		                       a->timeout);
	w->bus.timeout_ms = a->timeout != NULL ? (int)ms : 5000;
	w->text = a->text;
	w->watch = (struct vbus_watch){.bus = &w->bus,
	                               .service = a->args[0],
	                               .read_values = true,
	                               .text = a->text,
	                               .ops = {appeared, vanished, write_value},
	                               .user = w};
	w->paths = a->args + 1;
	return cli_parse_max_rss(a->max_rss, &a->max_rss_kb);
}

static int
run(struct watcher *w, const struct args *a)
{
	if (a->get)
		return get_one(w, a->args[0], a->args[1]);
	if (a->set)
		return set_one(w, a->args[0], a->args[1], a->args[2]);
	if (a->check)
		return check_service(w, a->args, (size_t)a->nargs, a->fresh_ms);
	if (a->once)
		return once(w);
	return watch(w, a->max_rss_kb);
}

static int
parse(int argc, char **argv, struct args *a, struct watcher *w,
      struct cli_strings *strings, poptContext *con)
{
	int rc;
	struct poptOption table[] = {
	    {"once", '\0', POPT_ARG_NONE, &a->once, 0,
	     "print the current values and exit", NULL},
	    {"get", '\0', POPT_ARG_NONE, &a->get, 0,
	     "SERVICE PATH: print one value", NULL},
	    {"set", '\0', POPT_ARG_NONE, &a->set, 0,
	     "SERVICE PATH VALUE: SetValue, print its result code", NULL},
	    {"check", '\0', POPT_ARG_NONE, &a->check, 0,
	     "SERVICE PATH...: each path's state; exit 4 no service, "
	     "5 a path absent or invalid, 6 stale",
	     NULL},
	    {"fresh", '\0', POPT_ARG_STRING, &a->fresh, CLI_OPT_STRING,
	     "with --check: each path must change within DUR", "DUR"},
	    {"text", '\0', POPT_ARG_NONE, &a->text, 0,
	     "add each value's text; with --check, a line per path", NULL},
	    {"timeout", '\0', POPT_ARG_STRING, &a->timeout, CLI_OPT_STRING,
	     "how long a call may take (default 5s)", "DUR"},
	    CLI_BUS_OPTIONS(&a->bus),
	    CLI_MAX_RSS_OPTION(&a->max_rss, "dbus-watch"),
	    CLI_TAG_OPTION,
	    CLI_COMMON_OPTIONS,
	    POPT_TABLEEND};

	*con = cli_context(argc, argv, table,
	                   "[OPTION...] SERVICE-GLOB [PATH-GLOB...]\n"
	                   "   or: dbus-watch --get SERVICE PATH\n"
	                   "   or: dbus-watch --set SERVICE PATH VALUE\n"
	                   "   or: dbus-watch --check [--fresh DUR] SERVICE "
	                   "PATH...",
	                   0);
	CLI_STRINGS_TRACK(strings, &a->bus.address, &a->max_rss, &a->timeout,
	                  &a->fresh);
	if ((rc = cli_parse_options(*con, strings)) >= 0)
		return rc;
	a->args = poptGetArgs(*con);
	return check(a, w);
}

int
main(int argc, char **argv)
{
	static struct watcher w;
	struct args a = {0};
	struct cli_strings strings = {0};
	poptContext con = NULL;
	char err[512];
	int rc;

	if ((rc = parse(argc, argv, &a, &w, &strings, &con)) >= 0)
		goto done;
	w.bus.conn = vbus_connect(a.bus_which, a.bus.address, err, sizeof(err));
	if (w.bus.conn == NULL) {
		warnx("%s", err);
		rc = CLI_EXIT_FAILURE;
		goto done;
	}
	cli_catch_stop_signals();
	setvbuf(stdout, NULL,
	        a.once || a.get || a.set || a.check ? _IOFBF : _IOLBF, 0);
	jsonl_writer_init(&w.out, stdout);
	w.out.tags = &cli_tags;

	rc = run(&w, &a);

	vbus_watch_free(&w.watch);
	jsonl_writer_free(&w.out);
	rc = cli_finish_stdout(rc);
	vbus_disconnect(w.bus.conn);
done:
	cli_strings_free(&strings);
	poptFreeContext(con);
	vbus_shutdown();
	return rc;
}
