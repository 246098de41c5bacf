/*
 * heap-watch: run a command with libgxkit-heap.so preloaded and write, every
 * interval, its estimated live heap by call site as JSON Lines.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "elfsym.h"
#include "heapsite.h"
#include "jsonl.h"
#include "msg.h"
#include "parse.h"
#include "procmem.h"

#ifndef GXKIT_LIBDIR
#define GXKIT_LIBDIR "/usr/local/lib/gxkit"
#endif
#define PRELOAD_NAME "libgxkit-heap.so"

struct options {
	char **command;
	uint64_t interval_ms;
	double rate;
	long depth, top, callers;
	int raw, children;
	unsigned unwind; /* HEAP_F_SCAN or HEAP_F_EH */
	double max_rss_kb;
	char *output;
	char preload[PATH_MAX];
};

struct args {
	char *interval, *rate, *unwind, *max_rss;
};

struct state {
	struct jsonl_writer out;
	FILE *out_fp;
	int sock; /* ours; the child's end is passed by number */
	int sock_child;
	pid_t child;
	int child_status;
	bool child_reaped;
	struct heap_assembly asm_;
	struct elfsym_cache syms;
	long records;   /* written, of all processes */
	pid_t last_pid; /* of the last record written */
	char comm[64];  /* ... its comm and start, for the exit record */
	double start;
};

/* --- the command's environment -------------------------------------------- */

/* libgxkit-heap.so beside us (../lib/gxkit from bin/, in the build tree
 * and a GX tarball alike), else where make install puts it. */
static int
find_preload(struct options *o)
{
	char self[PATH_MAX], try[PATH_MAX + 64], *slash;
	const char *env = getenv("GXKIT_HEAP_LIB");
	ssize_t n;

	if (env && *env)
		return realpath(env, o->preload) ? 0 : -1;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')))
			*slash = '\0';
		snprintf(try, sizeof(try), "%s/../lib/gxkit/%s", self,
		         PRELOAD_NAME);
		if (realpath(try, o->preload))
			return 0;
	}
	snprintf(try, sizeof(try), "%s/%s", GXKIT_LIBDIR, PRELOAD_NAME);
	return realpath(try, o->preload) ? 0 : -1;
}

struct child_env {
	const struct options *o;
	int fd;
};

/* Between fork and exec: what the library reads, and CPython's small
 * objects through malloc. */
static void
set_child_env(void *arg)
{
	const struct child_env *ce = arg;
	const struct options *o = ce->o;
	const char *old = getenv("LD_PRELOAD");
	char buf[PATH_MAX + 4096];

	snprintf(buf, sizeof(buf), "%d:%.0f:%ld:%llu:%u:%d", ce->fd, o->rate,
	         o->depth, (unsigned long long)o->interval_ms,
	         o->unwind | (o->children ? HEAP_F_CHILDREN : 0),
	         (int)getpid());
	setenv(HEAP_ENV, buf, 1);
	if (old && *old)
		snprintf(buf, sizeof(buf), "%s:%s", o->preload, old);
	else
		snprintf(buf, sizeof(buf), "%s", o->preload);
	setenv("LD_PRELOAD", buf, 1);
	setenv("PYTHONMALLOC", "malloc", 0);
}

/* --- records ---------------------------------------------------------------
 */

/* ts, src, pid, start, comm: read now, or kept from the process's last
 * record once it is gone. */
static void
begin_record(struct state *st, pid_t pid)
{
	struct timespec now = clock_wall();
	struct procmem_proc p;
	struct procmem_sample s;

	if (procmem_open(&p, pid) == 0) {
		if (procmem_sample(&p, &s, 0) == 0) {
			st->last_pid = pid;
			st->start = procmem_start_seconds(p.start_ticks);
			snprintf(st->comm, sizeof(st->comm), "%s", s.comm);
		}
		procmem_close(&p);
	}
	jsonl_begin(&st->out, &now, "heap-watch");
	jsonl_int(&st->out, "pid", pid);
	if (st->last_pid == pid) {
		jsonl_double(&st->out, "start", st->start);
		jsonl_str(&st->out, "comm", st->comm);
	} else {
		jsonl_null(&st->out, "start");
		jsonl_null(&st->out, "comm");
	}
}

static int64_t
kb(double v)
{
	return (int64_t)(v + 0.5);
}

/* The objects --raw names in the sites printed, with what finds them
 * again elsewhere (addr2line -e PATH, or a debug file by build-id). */
static void
write_objects(struct state *st, const struct heap_sites *sites, long top)
{
	char key[300];
	size_t i, k;

	jsonl_array_open(&st->out, "objects");
	for (i = 0; i < st->syms.nobjects; i++) {
		struct elfsym_frame f;
		bool named = false;

		elfsym_describe(st->syms.objects[i], &f);
		snprintf(key, sizeof(key), "%s+0x", f.object);
		for (k = 0; k < sites->n && k < (size_t)top && !named; k++)
			named = strstr(sites->v[k].site, key) != NULL;
		if (!named)
			continue;
		jsonl_object_open(&st->out, NULL);
		jsonl_str(&st->out, "name", f.object);
		jsonl_str(&st->out, "path", f.path);
		if (f.build_id)
			jsonl_str(&st->out, "build_id", f.build_id);
		else
			jsonl_null(&st->out, "build_id");
		jsonl_object_close(&st->out);
	}
	jsonl_array_close(&st->out);
}

static int
write_snapshot(struct state *st, const struct options *o,
               const struct heap_snapshot *s)
{
	struct heap_naming how = {(unsigned)o->callers, o->raw};
	struct heap_sites sites;
	double shown = 0;
	size_t i;

	/* the maps as the process read them (under qemu-user, the guest's),
	 * else as we can */
	if (s->maps_len > 0)
		elfsym_parse_maps(&st->syms, s->maps);
	else
		elfsym_read_maps(&st->syms, s->pid);
	if (heap_sites_name(s, &st->syms, &how, &sites) < 0)
		return -1;
	begin_record(st, s->pid);
	jsonl_int(&st->out, "heap_kb", kb(sites.heap_kb));
	jsonl_array_open(&st->out, "sites");
	for (i = 0; i < sites.n && i < (size_t)o->top; i++) {
		jsonl_object_open(&st->out, NULL);
		jsonl_str(&st->out, "site", sites.v[i].site);
		jsonl_int(&st->out, "live_kb", kb(sites.v[i].live_kb));
		jsonl_int(&st->out, "count", (int64_t)sites.v[i].count);
		jsonl_object_close(&st->out);
		shown += sites.v[i].live_kb;
	}
	jsonl_array_close(&st->out);
	jsonl_int(&st->out, "other_kb",
	          kb(sites.heap_kb > shown ? sites.heap_kb - shown : 0));
	jsonl_int(&st->out, "samples", s->nsamples);
	jsonl_str(&st->out, "unwind", (s->flags & HEAP_F_SCAN) ? "scan" : "eh");
	if (s->taken > 0) /* frames per stack, this library's own not counted */
		jsonl_double(&st->out, "depth",
		             (double)(int)(10.0 * s->frames_sum / s->taken) /
		                 10);
	if (o->raw)
		write_objects(st, &sites, o->top);
	heap_sites_free(&sites);
	st->records++;
	return jsonl_end(&st->out);
}

static int
write_exit(struct state *st)
{
	char buf[16];
	int ws = st->child_status;

	begin_record(st, st->child);
	jsonl_str(&st->out, "event", "exit");
	if (WIFEXITED(ws))
		jsonl_int(&st->out, "status", WEXITSTATUS(ws));
	else
		jsonl_int(&st->out, "status", 128 + WTERMSIG(ws));
	if (WIFSIGNALED(ws))
		jsonl_str(&st->out, "signal",
		          parse_signal_name(WTERMSIG(ws), buf));
	return jsonl_end(&st->out);
}

/* --- the loop
 * ------------------------------------------------------------------ */

static void
ack(struct state *st, const struct heap_snapshot *s)
{
	struct heap_head h = {HEAP_MAGIC, HEAP_MSG_ACK, s->pid, s->seq};

	(void)!send(st->sock, &h, sizeof(h), MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Every datagram waiting; -1 when a record could not be written. */
static int
drain(struct state *st, const struct options *o)
{
	uint64_t buf[HEAP_MSG_MAX / 8 + 1];
	struct heap_snapshot *done;
	const char *note;
	size_t note_len;
	ssize_t n;
	int rc;

	while ((n = recv(st->sock, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		rc = heap_feed(&st->asm_, buf, (size_t)n, &done, &note,
		               &note_len);
		if (rc == HEAP_FEED_NOTE && !msg_quiet())
			warnx("%.*s", (int)note_len, note);
		else if (rc < 0 && !msg_quiet())
			warnx("a malformed message from the library (%s): "
			      "skipped",
			      strerror(errno));
		if (rc != HEAP_FEED_DONE)
			continue;
		/* the snapshot at exit is after the program's own clean-up
		 * (CPython's finalisation frees nearly all): kept only for a
		 * process that ended before its first interval */
		if (!(done->flags & HEAP_F_FINAL) || done->seq == 1)
			rc = write_snapshot(st, o, done);
		else
			rc = 0;
		if (done->flags & HEAP_F_FINAL)
			ack(st, done);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static void
reap(struct state *st)
{
	cli_child_changed = 0;
	if (!st->child_reaped &&
	    waitpid(st->child, &st->child_status, WNOHANG) == st->child)
		st->child_reaped = true;
}

/* TERM, then KILL after 10 s: a command that ignores TERM never keeps
 * us waiting. */
static void
end_child(struct state *st)
{
	int i;

	kill(st->child, SIGTERM);
	for (i = 0; i < 500; i++) {
		struct timespec ts = {0, 20000000};

		if (waitpid(st->child, &st->child_status, WNOHANG) == st->child)
			break;
		nanosleep(&ts, NULL);
	}
	if (i == 500) {
		kill(st->child, SIGKILL);
		waitpid(st->child, &st->child_status, 0);
	}
	st->child_reaped = true;
}

static int
loop(struct state *st, const struct options *o, const sigset_t *unblocked)
{
	struct pollfd p = {.fd = st->sock, .events = POLLIN};
	struct timespec tick = {(time_t)(o->interval_ms / 1000),
	                        (long)(o->interval_ms % 1000) * 1000000L};
	int forwarded = 0;

	while (!st->child_reaped) {
		if (cli_stop_signal) { /* the command decides: TERM, then KILL
			                */
			kill(st->child,
			     forwarded++ ? SIGKILL : cli_stop_signal);
			cli_stop_signal = 0;
		}
		if (ppoll(&p, 1, &tick, unblocked) < 0 && errno != EINTR)
			return -1;
		if (drain(st, o) < 0)
			return -1;
		if (cli_child_changed)
			reap(st);
		if (!st->child_reaped && cli_over_max_rss(o->max_rss_kb))
			return CLI_EXIT_LIMIT; /* the command goes too (main):
			                        * supervise restarts both */
	}
	return drain(st, o);
}

/* --- options
 * ------------------------------------------------------------------- */

static int
validate(struct options *o, const struct args *a)
{
	bool suffix;

	if (!o->command || !o->command[0])
		return cli_usage_error("no COMMAND to run");
	if (a->rate && (parse_size(a->rate, &o->rate, &suffix) < 0 ||
	                o->rate < 1 || o->rate > 1e12))
		return cli_usage_error("--rate: bad size '%s'", a->rate);
	if (o->depth < 1 || o->depth > HEAP_DEPTH_MAX)
		return cli_usage_error("--depth: from 1 to %d frames",
		                       HEAP_DEPTH_MAX);
	if (o->top < 1 || o->top > 1000)
		return cli_usage_error("--top: from 1 to 1000 sites");
	if (o->callers < 0 || o->callers >= o->depth)
		return cli_usage_error("--callers: from 0 to depth - 1");
	if (o->interval_ms < 10)
		return cli_usage_error("--interval: 10ms or more");
	if (!a->unwind)
		return CLI_CONTINUE;
	if (strcmp(a->unwind, "scan") == 0)
		o->unwind = HEAP_F_SCAN;
	else if (strcmp(a->unwind, "eh") == 0)
		o->unwind = HEAP_F_EH;
	else
		return cli_usage_error("--unwind: eh or scan, not '%s'",
		                       a->unwind);
	return CLI_CONTINUE;
}

static int
parse(int argc, char **argv, struct options *o, struct args *a,
      struct cli_strings *strings, poptContext *con)
{
	int rc;
	struct poptOption table[] = {
	    {"interval", 'i', POPT_ARG_STRING, &a->interval, CLI_OPT_STRING,
	     "time between snapshots (default 10s)", "DUR"},
	    {"rate", '\0', POPT_ARG_STRING, &a->rate, CLI_OPT_STRING,
	     "mean bytes between samples (default 512K)", "SIZE"},
	    {"depth", '\0', POPT_ARG_LONG, &o->depth, 0,
	     "frames per stack (default 16, at most 32)", "N"},
	    {"top", '\0', POPT_ARG_LONG, &o->top, 0,
	     "call sites per record (default 10)", "N"},
	    {"callers", '\0', POPT_ARG_LONG, &o->callers, 0,
	     "callers named after a site's own frame (default 3)", "N"},
	    {"output", 'o', POPT_ARG_STRING, &o->output, CLI_OPT_STRING,
	     "append the records to FILE", "FILE"},
	    {"raw", '\0', POPT_ARG_NONE, &o->raw, 0,
	     "objects and offsets, no function names (see addr2line)", NULL},
	    {"children", '\0', POPT_ARG_NONE, &o->children, 0,
	     "trace the command's fork and exec children too", NULL},
	    {"unwind", '\0', POPT_ARG_STRING, &a->unwind, CLI_OPT_STRING,
	     "eh (unwind tables) or scan (the stack, for call sites)",
	     "METHOD"},
	    CLI_MAX_RSS_OPTION(&a->max_rss, "heap-watch"),
	    CLI_TAG_OPTION,
	    CLI_COMMON_OPTIONS,
	    POPT_TABLEEND};
	struct cli_duration d[] = {{"--interval", NULL, &o->interval_ms}};

	o->depth = 16;
	o->top = 10;
	o->callers = 3;
	o->rate = 524288;
#if defined(__arm__)
	o->unwind = HEAP_F_SCAN; /* armhf binaries carry almost no tables */
#else
	o->unwind = HEAP_F_EH;
#endif
	*con =
	    cli_context(argc, argv, table, "[OPTION...] [--] COMMAND [ARG...]",
	                POPT_CONTEXT_POSIXMEHARDER);
	CLI_STRINGS_TRACK(strings, &a->interval, &a->rate, &a->unwind,
	                  &a->max_rss, &o->output);
	while ((rc = poptGetNextOpt(*con)) > 0) {
		cli_strings_update(strings);
		if (rc == CLI_OPT_TAG && (rc = cli_take_tag(*con)) >= 0)
			return rc;
	}
	cli_strings_update(strings);
	if ((rc = cli_finish_options(*con, rc)) >= 0)
		return rc;
	o->command = (char **)poptGetArgs(*con);
	d[0].arg = a->interval ? a->interval : "10s";
	if ((rc = cli_parse_durations(d, 1)) >= 0 ||
	    (rc = cli_parse_max_rss(a->max_rss, &o->max_rss_kb)) >= 0)
		return rc;
	return validate(o, a);
}

/* The socket, the output, the command; CLI_CONTINUE or an exit code. */
static int
acquire(struct state *st, struct options *o, const sigset_t *unblocked)
{
	int sv[2];
	struct child_env ce = {o, -1};

	if (find_preload(o) < 0) {
		warnx("cannot find %s (set GXKIT_HEAP_LIB)", PRELOAD_NAME);
		return CLI_EXIT_FAILURE;
	}
	st->out_fp = stdout;
	if (o->output && !(st->out_fp = fopen(o->output, "ae"))) {
		warn("%s", o->output);
		return CLI_EXIT_FAILURE;
	}
	jsonl_writer_init(&st->out, st->out_fp);
	st->out.tags = &cli_tags;
	setvbuf(st->out_fp, NULL, _IOLBF, 0);
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0) {
		warn("socketpair");
		return CLI_EXIT_FAILURE;
	}
	st->sock = sv[0];
	st->sock_child = ce.fd = sv[1];
	fcntl(st->sock, F_SETFD, FD_CLOEXEC);
	st->child = cli_launch(o->command, unblocked, set_child_env, &ce);
	close(st->sock_child);
	if (st->child <= 0) {
		warn("%s", o->command[0]);
		return st->child == 0 ? CLI_EXIT_NOEXEC : CLI_EXIT_FAILURE;
	}
	return CLI_CONTINUE;
}

static int
exit_code(const struct state *st, int rc)
{
	if (rc != 0 || !st->child_reaped)
		return rc;
	if (WIFEXITED(st->child_status))
		return WEXITSTATUS(st->child_status);
	return 128 + WTERMSIG(st->child_status);
}

int
main(int argc, char **argv)
{
	static struct options o;
	static struct state st = {.sock = -1};
	struct args a = {NULL};
	struct cli_strings strings = {0};
	sigset_t blocked, unblocked;
	poptContext con = NULL;
	int rc;

	if ((rc = parse(argc, argv, &o, &a, &strings, &con)) >= 0)
		goto done;
	cli_watch_signals(&blocked, &unblocked);
	if ((rc = acquire(&st, &o, &unblocked)) >= 0)
		goto cleanup;

	rc = cli_loop_exit(&st.out, loop(&st, &o, &unblocked));
	if (!st.child_reaped) /* stdout gone, or the limit: it ends too */
		end_child(&st);
	if (rc == 0 && !st.out.gone && write_exit(&st) < 0)
		rc = cli_loop_exit(&st.out, -1);
	if (rc == 0 && st.records == 0 && !msg_quiet())
		warnx("no snapshot came from %s: was it linked statically, or "
		      "did it clear LD_PRELOAD?",
		      o.command[0]);
	rc = exit_code(&st, rc);
cleanup:
	if (st.sock >= 0)
		close(st.sock);
	heap_assembly_free(&st.asm_);
	elfsym_free(&st.syms);
	jsonl_writer_free(&st.out);
	if (st.out_fp && st.out_fp != stdout && fclose(st.out_fp) != 0 &&
	    rc == 0) {
		warn("%s", o.output);
		rc = CLI_EXIT_FAILURE;
	}
	rc = cli_finish_stdout(rc);
done:
	cli_strings_free(&strings);
	poptFreeContext(con);
	return rc;
}
