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

static int
get_one(struct watcher *w, const char *service, const char *path)
{
	struct seen seen = {w, service};
	char err[512];

	w->paths = NULL;
	if (vbus_get_value(&w->bus, service, path, w->text, write_seen, &seen,
	                   err, sizeof(err)) < 0) {
		warnx("%s %s: %s", service, path, err);
		return CLI_EXIT_FAILURE;
	}
	return w->failed ? CLI_EXIT_FAILURE : 0;
}

/* --set: JSON to a variant, SetValue, and its result code. */
static int
set_one(struct watcher *w, const char *service, const char *path,
        const char *json)
{
	json_t *j = json_loads(json, JSON_DECODE_ANY, NULL);
	struct vbus_value v;
	char err[512];
	int result = -1, rc;

	if (j == NULL || vbus_value_from_json(j, &v) < 0) {
		json_decref(j);
		return cli_usage_error("--set: '%s' is not a number, a string "
		                       "or null",
		                       json);
	}
	rc = vbus_set_value(&w->bus, service, path, &v, &result, err,
	                    sizeof(err));
	json_decref(j);
	if (rc < 0) {
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

struct args {
	int once, get, set, text;
	struct cli_bus bus;
	const char *bus_which; /* of bus */
	char *max_rss, *timeout;
	const char **args; /* the operands */
	int nargs;
	double max_rss_kb;
};

/* The options and operands make sense together; CLI_CONTINUE, else the
 * exit code after the message. */
static int
check(struct args *a, struct watcher *w)
{
	char err[512];
	uint64_t ms;
	int rc;

	for (a->nargs = 0; a->args != NULL && a->args[a->nargs] != NULL;
	     a->nargs++)
		;
	if (a->get + a->set + a->once > 1)
		return cli_usage_error(
		    "--once, --get and --set exclude each other");
	if ((a->get && a->nargs != 2) || (a->set && a->nargs != 3) ||
	    a->nargs < 1)
		return cli_usage_error(
		    a->get   ? "--get takes SERVICE PATH"
		    : a->set ? "--set takes SERVICE PATH JSON"
		             : "which services: give a SERVICE-GLOB");
	if ((a->get || a->set) &&
	    (vbus_check_name(a->args[0], err, sizeof(err)) < 0 ||
	     vbus_check_path(a->args[1], err, sizeof(err)) < 0))
		return cli_usage_error("%s", err);
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
	if (a->once)
		return list_services(w) < 0 || w->failed ? CLI_EXIT_FAILURE : 0;
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
	     "SERVICE PATH JSON: SetValue, print its result code", NULL},
	    {"text", '\0', POPT_ARG_NONE, &a->text, 0, "add each value's text",
	     NULL},
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
	                   "   or: dbus-watch --set SERVICE PATH JSON",
	                   0);
	CLI_STRINGS_TRACK(strings, &a->bus.address, &a->max_rss, &a->timeout);
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
	setvbuf(stdout, NULL, a.once || a.get || a.set ? _IOFBF : _IOLBF, 0);
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
