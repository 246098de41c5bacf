/*
 * rss-watch: record the memory of processes over time as JSON Lines, follow
 * a service across restarts, and act as a memory watchdog.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "jsonl.h"
#include "msg.h"
#include "parse.h"
#include "procmem.h"
#include "smaps.h"

#define MAX_TARGETS 64
#define ACTION_EXIT 0 /* --action exit: leave the target alone */

enum { OPT_PID = 1, OPT_NAME, OPT_LIMIT, OPT_ACTION };

struct target {
	struct procmem_proc proc;
	bool active;      /* attached and alive */
	bool limit_fired; /* for this process; re-armed below the limit */
	uint64_t kill_at; /* monotonic ms of the SIGKILL escalation, or 0 */
	pid_t last_pid;   /* previous process, for restart events */
	char comm[64];
	long samples; /* of this process, for --maps-every */
};

struct options {
	pid_t pids[MAX_TARGETS];
	size_t npids;
	char *name;
	char **command;
	uint64_t interval_ms, duration_ms, grace_ms;
	long count;
	int pss, children, wait;
	const char *limit_field;
	const struct procmem_field *limit_f; /* of limit_field */
	char *limit_arg;
	double limit;
	int action; /* a signal number, or ACTION_EXIT */
	char *action_arg;
	double max_rss_kb;
	int maps;        /* --maps: smaps by class */
	long maps_every; /* ... every this many samples */
};

static void
put_counter(struct jsonl_writer *w, const char *key, long v)
{
	if (v < 0)
		jsonl_null(w, key);
	else
		jsonl_int(w, key, v);
}

/* Start a record about target t: ts, src, pid, start, comm. */
static void
begin_record(struct jsonl_writer *w, const struct target *t)
{
	struct timespec now = clock_wall();

	jsonl_begin(w, &now, "rss-watch");
	jsonl_int(w, "pid", t->proc.pid);
	jsonl_double(w, "start", procmem_start_seconds(t->proc.start_ticks));
	jsonl_str(w, "comm", t->comm);
}

/* "maps": resident and private dirty KiB per class, arena heaps, the
 * largest mappings by name. */
static void
write_maps(struct jsonl_writer *w, const struct smaps_totals *m)
{
	char key[32];
	size_t i;
	int c;

	jsonl_object_open(w, "maps");
	for (c = 0; c < SMAPS_NCLASS; c++) {
		snprintf(key, sizeof(key), "%s_kb", smaps_class_name(c));
		jsonl_int(w, key, m->rss_kb[c]);
		snprintf(key, sizeof(key), "%s_dirty_kb", smaps_class_name(c));
		jsonl_int(w, key, m->dirty_kb[c]);
	}
	jsonl_int(w, "arenas", m->arenas);
	jsonl_int(w, "mappings", m->mappings);
	jsonl_array_open(w, "top");
	for (i = 0; i < m->ntop; i++) {
		jsonl_object_open(w, NULL);
		jsonl_str(w, "name", m->top[i].name);
		jsonl_int(w, "rss_kb", m->top[i].rss_kb);
		jsonl_int(w, "dirty_kb", m->top[i].dirty_kb);
		jsonl_object_close(w);
	}
	jsonl_array_close(w);
	jsonl_object_close(w);
}

/* The counters that come with with (procmem_fields), in their order. */
static void
put_counters(struct jsonl_writer *w, const struct procmem_sample *s, int with)
{
	size_t i;

	for (i = 0; i < procmem_nfields; i++)
		if (procmem_fields[i].with == with)
			put_counter(w, procmem_fields[i].name,
			            procmem_field_value(s, &procmem_fields[i]));
}

static int
write_sample(struct jsonl_writer *w, const struct target *t,
             const struct procmem_sample *s, const struct options *o,
             const struct smaps_totals *maps)
{
	begin_record(w, t);
	put_counters(w, s, 0);
	jsonl_double(w, "age_s", procmem_age_seconds(t->proc.start_ticks));
	if (o->pss)
		put_counters(w, s, PROCMEM_PSS);
	if (o->children)
		put_counters(w, s, PROCMEM_FIELD_TREE);
	if (maps != NULL)
		write_maps(w, maps);
	return jsonl_end(w);
}

static int
write_exit(struct jsonl_writer *w, const struct target *t, int wstatus,
           bool known)
{
	char buf[16];

	begin_record(w, t);
	jsonl_str(w, "event", "exit");
	if (known && WIFEXITED(wstatus))
		jsonl_int(w, "status", WEXITSTATUS(wstatus));
	else if (known && WIFSIGNALED(wstatus))
		jsonl_int(w, "status", 128 + WTERMSIG(wstatus));
	else
		jsonl_null(w, "status");
	if (known && WIFSIGNALED(wstatus))
		jsonl_str(w, "signal",
		          parse_signal_name(WTERMSIG(wstatus), buf));
	return jsonl_end(w);
}

static int
write_limit(struct jsonl_writer *w, const struct target *t, long value,
            const struct options *o, int action, bool escalated)
{
	char buf[16];

	begin_record(w, t);
	jsonl_str(w, "event", "limit");
	jsonl_str(w, "field", o->limit_field);
	jsonl_int(w, "value", value);
	jsonl_double(w, "limit", o->limit);
	jsonl_str(w, "action",
	          action == ACTION_EXIT ? "exit"
	                                : parse_signal_name(action, buf));
	if (escalated)
		jsonl_bool(w, "escalated", true);
	return jsonl_end(w);
}

static int
write_restart(struct jsonl_writer *w, const struct target *t)
{
	begin_record(w, t);
	jsonl_str(w, "event", "restart");
	jsonl_int(w, "old_pid", t->last_pid);
	return jsonl_end(w);
}

static int
parse_action(struct options *o)
{
	if (strcmp(o->action_arg, "exit") == 0)
		o->action = ACTION_EXIT;
	else if (strcmp(o->action_arg, "term") == 0)
		o->action = SIGTERM;
	else if (strcmp(o->action_arg, "kill") == 0)
		o->action = SIGKILL;
	else if (parse_signal(o->action_arg, &o->action) < 0)
		return cli_usage_error("--action: '%s' is not exit, term, "
		                       "kill or a signal name",
		                       o->action_arg);
	return CLI_CONTINUE;
}

/* Options after popt: the checks that need all of them. */
static int
validate(struct options *o)
{
	int targets = (o->npids > 0) + (o->name != NULL) + (o->command != NULL);

	if (targets == 0)
		return cli_usage_error("nothing to watch: give -p PID, "
		                       "-N NAME or -- COMMAND");
	if (targets > 1)
		return cli_usage_error(
		    "-p, -N and -- COMMAND exclude each other");
	if (o->interval_ms == 0)
		return cli_usage_error("--interval must be more than 0");
	if ((o->limit_f = procmem_field_named(o->limit_field)) == NULL)
		return cli_usage_error("--limit-field: unknown field '%s'",
		                       o->limit_field);
	if (!o->pss && o->limit_f->with == PROCMEM_PSS)
		return cli_usage_error("--limit-field %s needs --pss",
		                       o->limit_field);
	if (!o->children && o->limit_f->with == PROCMEM_FIELD_TREE)
		return cli_usage_error("--limit-field %s needs --children",
		                       o->limit_field);
	if (o->limit_arg != NULL &&
	    parse_field_limit(o->limit_field, o->limit_arg, &o->limit) < 0)
		return cli_usage_error("--limit: bad size '%s'", o->limit_arg);
	if (o->action_arg != NULL && o->limit_arg == NULL)
		return cli_usage_error("--action needs --limit");
	if (o->maps_every < 0 || (o->maps_every > 0 && !o->maps))
		return cli_usage_error("--maps-every is a count of samples, "
		                       "with --maps");
	if (o->maps_every == 0) /* about once a minute */
		o->maps_every =
		    (long)((60000 + o->interval_ms / 2) / o->interval_ms);
	if (o->maps_every == 0)
		o->maps_every = 1;
	return o->action_arg != NULL ? parse_action(o) : -1;
}

static int
attach(struct target *t, pid_t pid)
{
	struct procmem_sample s;

	if (procmem_open(&t->proc, pid) < 0)
		return -1;
	t->active = true;
	t->limit_fired = false;
	t->kill_at = 0;
	t->samples = 0;
	if (procmem_sample(&t->proc, &s, 0) == 0)
		memcpy(t->comm, s.comm, sizeof(t->comm));
	return 0;
}

static int
fire_limit(struct jsonl_writer *w, struct target *t, long value,
           const struct options *o, uint64_t now)
{
	t->limit_fired = true;
	if (write_limit(w, t, value, o, o->action, false) < 0)
		return -1;
	if (o->action == ACTION_EXIT)
		return 0;
	if (procmem_signal(&t->proc, o->action) < 0 && errno != ESRCH)
		warn("cannot signal pid %d", (int)t->proc.pid);
	if (o->action == SIGTERM)
		t->kill_at = now + o->grace_ms;
	return 0;
}

/* Escalate a TERM that was not heeded within --grace. */
static int
escalate(struct jsonl_writer *w, struct target *t, const struct options *o,
         uint64_t now)
{
	if (t->kill_at == 0 || now < t->kill_at)
		return 0;
	t->kill_at = 0;
	if (!procmem_alive(&t->proc))
		return 0;
	if (procmem_signal(&t->proc, SIGKILL) < 0 && errno != ESRCH)
		warn("cannot kill pid %d", (int)t->proc.pid);
	return write_limit(w, t, -1, o, SIGKILL, true);
}

struct state {
	struct jsonl_writer out;
	struct target targets[MAX_TARGETS];
	size_t ntargets;
	struct procmem_tree tree;
	pid_t child; /* the launched command, or 0 */
	int child_status;
	bool child_reaped;
	bool limit_hit;
	bool stop_now;              /* --action exit fired */
	bool child_ended_by_us;     /* -n or -d ran out before the command */
	struct smaps_parser parser; /* --maps: one fixed table */
	struct smaps_totals maps, child_maps;
};

/* --maps, when due: the target's smaps (with --children, its tree's,
 * summed); NULL when not due or unreadable (the sample goes without). */
static const struct smaps_totals *
read_maps(struct state *st, struct target *t, const struct options *o)
{
	size_t i;

	if (!o->maps || t->samples++ % o->maps_every != 0)
		return NULL;
	if (smaps_read(t->proc.dir_fd, &st->parser, &st->maps) < 0)
		return NULL;
	for (i = 0; o->children && i < st->tree.members; i++)
		if (smaps_read_pid(st->tree.pid[i], &st->parser,
		                   &st->child_maps) == 0)
			smaps_add(&st->maps, &st->child_maps);
	return &st->maps;
}

/* Sample one target; on its end write the exit event.  -1: output failed. */
static int
sample_target(struct state *st, struct target *t, const struct options *o,
              uint64_t now)
{
	unsigned int flags = PROCMEM_FDS | (o->pss ? PROCMEM_PSS : 0);
	struct procmem_sample s;
	long value;

	if (procmem_sample(&t->proc, &s, flags) < 0) {
		bool mine = st->child != 0 && t->proc.pid == st->child;

		if (mine && !st->child_reaped &&
		    waitpid(st->child, &st->child_status, 0) == st->child)
			st->child_reaped = true;
		t->active = false;
		t->last_pid = t->proc.pid;
		if (write_exit(&st->out, t, st->child_status,
		               mine && st->child_reaped) < 0)
			return -1;
		procmem_close(&t->proc);
		return 0;
	}
	memcpy(t->comm, s.comm, sizeof(t->comm));
	if (o->children &&
	    procmem_sample_children(&st->tree, t->proc.pid, &s, flags) < 0)
		warn("cannot scan the process tree of %d", (int)t->proc.pid);
	if (write_sample(&st->out, t, &s, o, read_maps(st, t, o)) < 0)
		return -1;
	value = procmem_field_value(&s, o->limit_f);
	if (o->limit_arg == NULL || value < 0)
		return 0;
	if ((double)value < o->limit) {
		t->limit_fired = false;
		return 0;
	}
	if (t->limit_fired)
		return 0;
	st->limit_hit = true;
	if (o->action == ACTION_EXIT)
		st->stop_now = true;
	return fire_limit(&st->out, t, value, o, now);
}

/* -N: find the process again after it ended; write restart on success. */
static int
follow_name(struct state *st, const struct options *o)
{
	struct target *t = &st->targets[0];
	pid_t pid;

	if (t->active || procmem_find_by_name(o->name, getpid(), &pid) < 0)
		return 0;
	if (attach(t, pid) < 0)
		return 0;
	msg_debug("following %s: pid %d", o->name, (int)pid);
	if (t->last_pid != 0 && write_restart(&st->out, t) < 0)
		return -1;
	return 0;
}

static bool
any_active(const struct state *st)
{
	size_t i;

	for (i = 0; i < st->ntargets; i++)
		if (st->targets[i].active)
			return true;
	return false;
}

/*
 * Sleep until the next tick, a target's end, an escalation or a signal.
 * Returns ppoll's result: 0 when the time simply ran out.
 */
static int
wait_tick(struct state *st, uint64_t until, const sigset_t *unblocked)
{
	struct pollfd fds[MAX_TARGETS];
	nfds_t n = 0;
	size_t i;
	uint64_t now = clock_mono_ms();
	struct timespec timeout;

	for (i = 0; i < st->ntargets; i++) {
		struct target *t = &st->targets[i];

		if (t->active && t->proc.pidfd >= 0) {
			fds[n].fd = t->proc.pidfd;
			fds[n].events = POLLIN;
			n++;
		}
		if (t->kill_at != 0 && t->kill_at < until)
			until = t->kill_at;
	}
	if (until <= now)
		return 0;
	timeout = clock_from_ms(until - now);
	return ppoll(fds, n, &timeout, unblocked);
}

static int exit_code(const struct state *st, int rc);

static int
acquire(struct state *st, const struct options *o, const sigset_t *mask)
{
	size_t i;
	pid_t pid;

	if (o->command != NULL) {
		st->child = cli_launch(o->command, mask, NULL, NULL);
		if (st->child <= 0) {
			warn("cannot run '%s'", o->command[0]);
			return CLI_EXIT_NOEXEC;
		}
		st->ntargets = 1;
		if (attach(&st->targets[0], st->child) == 0)
			return CLI_CONTINUE;
		/* gone before the first look: still report how it ended */
		if (waitpid(st->child, &st->child_status, 0) != st->child) {
			warn("cannot watch '%s'", o->command[0]);
			return 1;
		}
		st->child_reaped = true;
		st->targets[0].proc.pid = st->child;
		snprintf(st->targets[0].comm, sizeof(st->targets[0].comm), "%s",
		         o->command[0]);
		if (write_exit(&st->out, &st->targets[0], st->child_status,
		               true) < 0)
			return 1;
		return exit_code(st, 0);
	}
	if (o->name != NULL) {
		st->ntargets = 1;
		if (procmem_find_by_name(o->name, getpid(), &pid) == 0 &&
		    attach(&st->targets[0], pid) == 0)
			return CLI_CONTINUE;
		if (o->wait)
			return CLI_CONTINUE;
		warnx("no process named '%s' (use --wait to wait for one)",
		      o->name);
		return 1;
	}
	for (i = 0; i < o->npids; i++) {
		if (attach(&st->targets[i], o->pids[i]) < 0) {
			warnx("no such process: %d", (int)o->pids[i]);
			return 1;
		}
	}
	st->ntargets = o->npids;
	return CLI_CONTINUE;
}

static bool
target_ended(struct state *st)
{
	size_t i;

	for (i = 0; i < st->ntargets; i++)
		if (st->targets[i].active &&
		    !procmem_alive(&st->targets[i].proc))
			return true;
	return false;
}

static bool
finished(const struct state *st, const struct options *o, long samples,
         uint64_t elapsed)
{
	return st->stop_now || cli_stop_signal ||
	       (o->count > 0 && samples >= o->count) ||
	       (o->duration_ms > 0 && elapsed >= o->duration_ms) ||
	       (o->name == NULL && !any_active(st));
}

/* Returns 0 when done, CLI_EXIT_LIMIT past --max-rss, -1 on output error. */
static int
loop(struct state *st, const struct options *o, const sigset_t *unblocked)
{
	uint64_t start = clock_mono_ms(), tick = start, now = start;
	long samples = 0;
	size_t i;

	for (;;) {
		if (o->name != NULL && follow_name(st, o) < 0)
			return -1;
		for (i = 0; i < st->ntargets; i++)
			if (st->targets[i].active &&
			    sample_target(st, &st->targets[i], o, now) < 0)
				return -1;
		samples++;
		if (finished(st, o, samples, now - start))
			return 0;
		if (cli_over_max_rss(o->max_rss_kb))
			return CLI_EXIT_LIMIT;
		tick += o->interval_ms;
		if (tick < now) /* suspended or very late: skip missed ticks */
			tick = now + o->interval_ms;
		while (!cli_stop_signal && (now = clock_mono_ms()) < tick) {
			int woke = wait_tick(st, tick, unblocked);

			now = clock_mono_ms();
			for (i = 0; i < st->ntargets; i++)
				if (escalate(&st->out, &st->targets[i], o,
				             now) < 0)
					return -1;
			/* only a pidfd or a signal can mean an end */
			if (woke != 0 &&
			    (cli_child_changed || target_ended(st))) {
				cli_child_changed = 0;
				tick = now; /* sample the end right away */
				break;
			}
		}
	}
}

/*
 * In launch mode the command ends with us: a signal we got is passed on;
 * when -n or -d ran out it gets TERM, and KILL after --grace, as with
 * timeout(1).
 */
static void
finish_child(struct state *st, const struct options *o)
{
	uint64_t deadline;
	pid_t rc;

	if (st->child == 0 || st->child_reaped)
		return;
	kill(st->child, cli_stop_signal ? cli_stop_signal : SIGTERM);
	st->child_ended_by_us = !cli_stop_signal;
	deadline = clock_mono_ms() + o->grace_ms;
	while ((rc = waitpid(st->child, &st->child_status, WNOHANG)) == 0 &&
	       clock_mono_ms() < deadline) {
		struct timespec ts = {0, 20000000};

		nanosleep(&ts, NULL);
	}
	if (rc == 0) {
		kill(st->child, SIGKILL);
		rc = waitpid(st->child, &st->child_status, 0);
	}
	st->child_reaped = rc == st->child;
}

static int
exit_code(const struct state *st, int rc)
{
	if (rc != 0)
		return rc;
	if (st->limit_hit)
		return CLI_EXIT_LIMIT;
	if (st->child != 0 && st->child_reaped && !st->child_ended_by_us) {
		if (WIFEXITED(st->child_status))
			return WEXITSTATUS(st->child_status);
		if (WIFSIGNALED(st->child_status))
			return 128 + WTERMSIG(st->child_status);
	}
	return 0;
}

static int
parse_pids(struct options *o, const char *arg)
{
	char buf[256], *tok, *save = NULL;
	long pid;

	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (o->npids == MAX_TARGETS ||
		    parse_long(tok, 1, 0x7fffffff, &pid) < 0)
			return -1;
		o->pids[o->npids++] = (pid_t)pid;
	}
	return 0;
}

static int
parse_durations(struct options *o, const char *interval, const char *duration,
                const char *grace)
{
	if (parse_duration(interval, &o->interval_ms) < 0)
		return cli_usage_error("--interval: bad duration '%s'",
		                       interval);
	if (duration != NULL && parse_duration(duration, &o->duration_ms) < 0)
		return cli_usage_error("--duration: bad duration '%s'",
		                       duration);
	if (parse_duration(grace, &o->grace_ms) < 0)
		return cli_usage_error("--grace: bad duration '%s'", grace);
	return CLI_CONTINUE;
}

/* The option strings of their own, named; NULL when not given. */
struct args {
	char *interval, *duration, *grace, *max_rss, *limit_field;
};

/* Every option into o, with its checks; CLI_CONTINUE or an exit code. */
static int
parse(int argc, char **argv, struct options *o, struct args *a,
      struct cli_strings *strings, poptContext *con)
{
	static char *pid;
	int rc;
	struct poptOption table[] = {
	    {"pid", 'p', POPT_ARG_STRING, &pid, OPT_PID,
	     "watch process PID (repeatable, or a comma list)", "PID"},
	    {"name", 'N', POPT_ARG_STRING, &o->name, CLI_OPT_STRING,
	     "watch the process named NAME (comm or argv[0]), following "
	     "restarts",
	     "NAME"},
	    {"wait", '\0', POPT_ARG_NONE, &o->wait, 0,
	     "with -N: wait for the process to appear", NULL},
	    {"interval", 'i', POPT_ARG_STRING, &a->interval, CLI_OPT_STRING,
	     "time between samples (default 1s)", "DUR"},
	    {"count", 'n', POPT_ARG_LONG, &o->count, 0, "stop after N samples",
	     "N"},
	    {"duration", 'd', POPT_ARG_STRING, &a->duration, CLI_OPT_STRING,
	     "stop after DUR", "DUR"},
	    {"pss", '\0', POPT_ARG_NONE, &o->pss, 0,
	     "add pss_kb and uss_kb from smaps_rollup (costly)", NULL},
	    {"children", '\0', POPT_ARG_NONE, &o->children, 0,
	     "sum the whole process tree, add nproc", NULL},
	    {"maps", '\0', POPT_ARG_NONE, &o->maps, 0,
	     "add \"maps\": memory by mapping class, from smaps", NULL},
	    {"maps-every", '\0', POPT_ARG_LONG, &o->maps_every, 0,
	     "with --maps: every N samples (default: about once a minute)",
	     "N"},
	    {"limit", '\0', POPT_ARG_STRING, &o->limit_arg, CLI_OPT_STRING,
	     "watchdog: act when the limit field reaches SIZE", "SIZE"},
	    {"limit-field", '\0', POPT_ARG_STRING, &a->limit_field,
	     CLI_OPT_STRING, "field the limit applies to (default rss_kb)",
	     "FIELD"},
	    {"action", '\0', POPT_ARG_STRING, &o->action_arg, CLI_OPT_STRING,
	     "on the limit: exit, term (default), kill or a signal name",
	     "ACTION"},
	    {"grace", '\0', POPT_ARG_STRING, &a->grace, CLI_OPT_STRING,
	     "after term, send KILL when still alive after DUR (10s)", "DUR"},
	    CLI_MAX_RSS_OPTION(&a->max_rss, "rss-watch"),
	    CLI_TAG_OPTION,
	    CLI_COMMON_OPTIONS,
	    POPT_TABLEEND};

	o->action = SIGTERM;
	*con = cli_context(argc, argv, table,
	                   "[OPTION...] {-p PID | -N NAME | [--] "
	                   "COMMAND [ARG...]}",
	                   POPT_CONTEXT_POSIXMEHARDER);
	CLI_STRINGS_TRACK(strings, &pid, &o->name, &a->interval, &a->duration,
	                  &o->limit_arg, &a->limit_field, &o->action_arg,
	                  &a->grace, &a->max_rss);
	while ((rc = poptGetNextOpt(*con)) > 0) {
		cli_strings_update(strings);
		if (rc == OPT_PID && parse_pids(o, pid) < 0)
			return cli_usage_error("--pid: bad process id '%s'",
			                       pid);
		if (rc == CLI_OPT_TAG && (rc = cli_take_tag(*con)) >= 0)
			return rc;
	}
	cli_strings_update(strings);
	if ((rc = cli_finish_options(*con, rc)) >= 0)
		return rc;
	o->command = (char **)poptGetArgs(*con);
	o->limit_field = a->limit_field ? a->limit_field : "rss_kb";
	if ((rc = parse_durations(o, a->interval ? a->interval : "1s",
	                          a->duration, a->grace ? a->grace : "10s")) >=
	        0 ||
	    (rc = validate(o)) >= 0)
		return rc;
	return cli_parse_max_rss(a->max_rss, &o->max_rss_kb);
}

int
main(int argc, char **argv)
{
	static struct options o;
	static struct state st;
	struct args a = {NULL};
	struct cli_strings strings = {0};
	sigset_t blocked, unblocked;
	poptContext con = NULL;
	int rc, i;

	if ((rc = parse(argc, argv, &o, &a, &strings, &con)) >= 0)
		goto done;
	cli_watch_signals(&blocked, &unblocked);
	jsonl_writer_init(&st.out, stdout);
	st.out.tags = &cli_tags;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((rc = acquire(&st, &o, &unblocked)) >= 0)
		goto cleanup;

	rc = cli_loop_exit(&st.out, loop(&st, &o, &unblocked));
	finish_child(&st, &o);
	if (st.child_ended_by_us && st.child_reaped && !st.out.gone &&
	    write_exit(&st.out, &st.targets[0], st.child_status, true) < 0 &&
	    rc == 0)
		rc = CLI_EXIT_FAILURE;
	rc = exit_code(&st, rc);
cleanup:
	for (i = 0; i < (int)st.ntargets; i++)
		procmem_close(&st.targets[i].proc);
	procmem_tree_free(&st.tree);
	jsonl_writer_free(&st.out);
	rc = cli_finish_stdout(rc);
done:
	cli_strings_free(&strings);
	poptFreeContext(con);
	return rc;
}
