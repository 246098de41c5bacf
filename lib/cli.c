#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "jsonl.h"
#include "msg.h"
#include "parse.h"
#include "procmem.h"

struct cli_common cli_common;

struct poptOption cli_common_table[] = {
    {"help", 'h', POPT_ARG_NONE, &cli_common.help, 0, "show this help and exit",
     NULL},
    {"usage", '\0', POPT_ARG_NONE, &cli_common.usage, 0,
     "show a short usage message and exit", NULL},
    {"version", 'V', POPT_ARG_NONE, &cli_common.version, 0,
     "show the version and exit", NULL},
    {"quiet", 'q', POPT_ARG_NONE, &cli_common.quiet, 0,
     "print no warnings, only errors", NULL},
    {"verbose", 'v', POPT_ARG_NONE, &cli_common.verbose, 0,
     "say more on stderr", NULL},
    POPT_TABLEEND};

void
cli_init(const char *argv0)
{
	msg_init(argv0);
}

int
cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_verror(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help'.\n", msg_progname());
	return CLI_EXIT_USAGE;
}

int
cli_finish_options(poptContext con, int rc)
{
	msg_set_quiet(cli_common.quiet);
	msg_set_verbose(cli_common.verbose);
	if (rc < -1)
		return cli_usage_error(
		    "%s: %s", poptBadOption(con, POPT_BADOPTION_NOALIAS),
		    poptStrerror(rc));
	if (cli_common.help) {
		poptPrintHelp(con, stdout, 0);
		return cli_close_stdout();
	}
	if (cli_common.usage) {
		poptPrintUsage(con, stdout, 0);
		return cli_close_stdout();
	}
	if (cli_common.version) {
		printf("%s (gxkit) %s\n", msg_progname(), GXKIT_VERSION);
		return cli_close_stdout();
	}
	return CLI_CONTINUE;
}

bool
cli_stdout_gone(int saved_errno)
{
	return saved_errno == EPIPE;
}

/* Set once the write error is reported, so that closing says nothing. */
static bool write_error_reported;

int
cli_write_error(void)
{
	if (!write_error_reported)
		msg_error("write error: %s", strerror(errno));
	write_error_reported = true;
	return CLI_EXIT_FAILURE;
}

int
cli_finish_stdout(int rc)
{
	if (cli_close_stdout() != 0 && rc == CLI_EXIT_OK)
		return CLI_EXIT_FAILURE;
	return rc;
}

bool
cli_over_max_rss(double kb)
{
	if (!procmem_self_over(kb))
		return false;
	msg_error("own RSS above --max-rss");
	return true;
}

int
cli_close_stdout(void)
{
	bool had_error = ferror(stdout) != 0;
	int flush_rc = fflush(stdout);
	int saved = errno;

	if (fclose(stdout) != 0 && flush_rc == 0) {
		flush_rc = EOF;
		saved = errno;
	}
	if (flush_rc == 0 && !had_error)
		return CLI_EXIT_OK;
	if (flush_rc != 0 && cli_stdout_gone(saved))
		return CLI_EXIT_OK;
	if (flush_rc == 0)
		saved = EIO;
	errno = saved;
	return cli_write_error();
}

void
cli_strings_track_n(struct cli_strings *s, char **const slots[], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cli_strings_track(s, slots[i]);
}

void
cli_strings_track(struct cli_strings *s, char **slot)
{
	if (s->n < CLI_MAX_STRINGS) {
		s->slot[s->n] = slot;
		s->seen[s->n] = *slot;
		s->n++;
	}
}

void
cli_strings_update(struct cli_strings *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (*s->slot[i] == s->seen[i])
			continue;
		free(s->seen[i]); /* an earlier copy the option replaced */
		s->seen[i] = *s->slot[i];
	}
}

void
cli_strings_free(struct cli_strings *s)
{
	size_t i;

	cli_strings_update(s);
	for (i = 0; i < s->n; i++) {
		free(*s->slot[i]);
		*s->slot[i] = NULL;
		s->seen[i] = NULL;
	}
	jsonl_tags_free(&cli_tags);
}

volatile sig_atomic_t cli_stop;

static void
on_stop_signal(int sig)
{
	(void)sig;
	cli_stop = 1;
}

void
cli_catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal; /* no SA_RESTART: sleeps wake up */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

poptContext
cli_context(int argc, char **argv, const struct poptOption *table,
            const char *usage, unsigned int flags)
{
	poptContext con;

	cli_init(argv[0]);
	con = poptGetContext(NULL, argc, (const char **)argv, table, flags);
	poptSetOtherOptionHelp(con, usage);
	return con;
}

int
cli_parse_options(poptContext con, struct cli_strings *s)
{
	int rc;

	while ((rc = poptGetNextOpt(con)) > 0) {
		cli_strings_update(s);
		if (rc == CLI_OPT_TAG && (rc = cli_take_tag(con)) >= 0)
			return rc;
	}
	cli_strings_update(s);
	return cli_finish_options(con, rc);
}

int
cli_parse_max_line(const char *arg, size_t *bytes)
{
	double v;

	if (arg == NULL)
		return CLI_CONTINUE;
	if (parse_size(arg, &v, NULL) < 0 || v < 64 || v > (1u << 30))
		return cli_usage_error("--max-line: bad size '%s' (64 to 1G)",
		                       arg);
	*bytes = (size_t)v;
	return CLI_CONTINUE;
}

struct jsonl_tags cli_tags;

int
cli_take_tag(poptContext con)
{
	char *arg = poptGetOptArg(con), err[300];
	int rc = CLI_CONTINUE;

	if (arg == NULL || jsonl_tags_add(&cli_tags, arg, err, sizeof(err)) < 0)
		rc = cli_usage_error("--tag: %s", arg ? err : "missing");
	free(arg);
	return rc;
}

int
cli_bus_choice(const struct cli_bus *b, const char **which)
{
	if (b->system + b->session + (b->address != NULL) > 1)
		return cli_usage_error("--system, --session and --address "
		                       "exclude each other");
	*which = b->system ? "system" : b->session ? "session" : NULL;
	return CLI_CONTINUE;
}

int
cli_parse_durations(const struct cli_duration *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (d[i].arg != NULL && parse_duration(d[i].arg, d[i].ms) < 0)
			return cli_usage_error("--%s: bad duration '%s'",
			                       d[i].name, d[i].arg);
	return CLI_CONTINUE;
}

int
cli_parse_max_rss(const char *arg, double *kb)
{
	if (arg == NULL || parse_field_limit("self_kb", arg, kb) == 0)
		return CLI_CONTINUE;
	return cli_usage_error("--max-rss: bad size '%s'", arg);
}

int
cli_loop_exit(const struct jsonl_writer *w, int rc)
{
	if (rc >= 0)
		return rc;
	if (w->gone || errno == EPIPE)
		return CLI_EXIT_OK;
	return cli_write_error();
}

pid_t
cli_launch(char **argv, const sigset_t *mask, void (*in_child)(void *),
           void *arg)
{
	int fds[2], err = 0;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, mask, NULL);
		close(fds[0]);
		if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(CLI_EXIT_NOEXEC);
		if (in_child)
			in_child(arg);
		execvp(argv[0], argv);
		err = errno;
		(void)!write(fds[1], &err, sizeof(err));
		_exit(CLI_EXIT_NOEXEC);
	}
	close(fds[1]);
	if (read(fds[0], &err, sizeof(err)) == (ssize_t)sizeof(err)) {
		waitpid(pid, NULL, 0);
		close(fds[0]);
		errno = err;
		return 0;
	}
	close(fds[0]);
	return pid;
}

volatile sig_atomic_t cli_stop_signal, cli_child_changed;

static void
on_watch_signal(int sig)
{
	if (sig == SIGCHLD)
		cli_child_changed = 1;
	else
		cli_stop_signal = sig;
}

void
cli_watch_signals(sigset_t *blocked, sigset_t *unblocked)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD};
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_watch_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(blocked);
	for (i = 0; i < sizeof(sigs) / sizeof(*sigs); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(blocked, sigs[i]);
	}
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_BLOCK, blocked, unblocked);
}
