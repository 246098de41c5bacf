#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "jsonl.h"
#include "procmem.h"

struct cli_common cli_common;
static const char *progname = "gxkit";

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
	const char *slash;

	if (argv0 == NULL || *argv0 == '\0')
		return;
	slash = strrchr(argv0, '/');
	progname = slash ? slash + 1 : argv0;
}

const char *
cli_progname(void)
{
	return progname;
}

int
cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", progname);
	return CLI_EXIT_USAGE;
}

static void
vmessage(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	if (cli_common.quiet)
		return;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

void
cli_debug(const char *fmt, ...)
{
	va_list ap;

	if (!cli_common.verbose)
		return;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

int
cli_finish_options(poptContext con, int rc)
{
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
		printf("%s (gxkit) %s\n", progname, GXKIT_VERSION);
		return cli_close_stdout();
	}
	return CLI_CONTINUE;
}

/* A non-negative decimal number followed by a unit suffix; *end at suffix. */
static int
parse_number(const char *s, double *value, const char **end)
{
	char *p;
	double v;

	if (s == NULL)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s) && *s != '.')
		return -1;
	errno = 0;
	v = strtod(s, &p);
	if (p == s || errno == ERANGE || !isfinite(v) || v < 0)
		return -1;
	*value = v;
	*end = p;
	return 0;
}

struct unit {
	const char *suffix;
	double scale;
};

/* Scale a number by its suffix from a table (case-insensitively when
 * nocase); -1 for an unknown suffix. */
static int
parse_scaled(const char *s, const struct unit *units, size_t n, bool nocase,
             double *out, bool *had_suffix)
{
	const char *suffix;
	double v;
	size_t i;

	if (parse_number(s, &v, &suffix) < 0)
		goto bad;
	for (i = 0; i < n; i++) {
		if ((nocase ? strcasecmp(suffix, units[i].suffix)
		            : strcmp(suffix, units[i].suffix)) != 0)
			continue;
		*out = v * units[i].scale;
		if (had_suffix != NULL)
			*had_suffix = *suffix != '\0';
		return 0;
	}
bad:
	errno = EINVAL;
	return -1;
}

int
cli_parse_duration(const char *s, uint64_t *ms)
{
	static const struct unit units[] = {
	    {"", 1000},   {"ms", 1},      {"s", 1000},    {"sec", 1000},
	    {"m", 60000}, {"min", 60000}, {"h", 3600000}, {"d", 86400000}};
	double v;

	if (parse_scaled(s, units, sizeof(units) / sizeof(units[0]), false, &v,
	                 NULL) < 0)
		return -1;
	if (v > 1e15) {
		errno = ERANGE;
		return -1;
	}
	*ms = (uint64_t)llround(v);
	return 0;
}

int
cli_parse_size(const char *s, double *bytes, bool *had_suffix)
{
	static const struct unit units[] = {
	    {"", 1},         {"B", 1},       {"K", 0x1p10},   {"KB", 0x1p10},
	    {"KiB", 0x1p10}, {"M", 0x1p20},  {"MB", 0x1p20},  {"MiB", 0x1p20},
	    {"G", 0x1p30},   {"GB", 0x1p30}, {"GiB", 0x1p30}, {"T", 0x1p40},
	    {"TB", 0x1p40},  {"TiB", 0x1p40}};

	return parse_scaled(s, units, sizeof(units) / sizeof(units[0]), true,
	                    bytes, had_suffix);
}

int
cli_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno == ERANGE || v < min || v > max) {
		errno = EINVAL;
		return -1;
	}
	*out = v;
	return 0;
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
		fprintf(stderr, "%s: write error: %s\n", progname,
		        strerror(errno));
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
	fprintf(stderr, "%s: own RSS above --max-rss\n", progname);
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

int
cli_parse_field_limit(const char *field, const char *s, double *limit)
{
	size_t n = strlen(field);
	bool suffix;
	double v;

	if (cli_parse_size(s, &v, &suffix) < 0)
		return -1;
	if (n > 3 && strcmp(field + n - 3, "_kb") == 0)
		v /= 1024;
	*limit = v;
	return 0;
}

static const struct {
	const char *name;
	int sig;
} signals[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},
               {"ABRT", SIGABRT}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
               {"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},
               {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"CONT", SIGCONT},
               {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"WINCH", SIGWINCH},
               {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}, {"PWR", SIGPWR}};

int
cli_parse_signal(const char *s, int *sig)
{
	long n;
	size_t i;

	if (cli_parse_long(s, 1, SIGRTMAX, &n) == 0) {
		*sig = (int)n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (strcasecmp(s, signals[i].name) == 0) {
			*sig = signals[i].sig;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

const char *
cli_signal_name(int sig, char *buf)
{
	size_t i;

	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (signals[i].sig == sig)
			return signals[i].name;
	snprintf(buf, 16, "SIG%d", sig);
	return buf;
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
	if (cli_parse_size(arg, &v, NULL) < 0 || v < 64 || v > (1u << 30))
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
		if (d[i].arg != NULL &&
		    cli_parse_duration(d[i].arg, d[i].ms) < 0)
			return cli_usage_error("--%s: bad duration '%s'",
			                       d[i].name, d[i].arg);
	return CLI_CONTINUE;
}

int
cli_parse_max_rss(const char *arg, double *kb)
{
	if (arg == NULL || cli_parse_field_limit("self_kb", arg, kb) == 0)
		return CLI_CONTINUE;
	return cli_usage_error("--max-rss: bad size '%s'", arg);
}
