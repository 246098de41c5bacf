/*
 * cli: the option table every tool shares, duration and size parsing, usage
 * errors and the checked close of stdout.  Nothing here exits: parsers
 * return an exit code (CLI_EXIT_*) or CLI_CONTINUE, and cmd/ decides;
 * messages go to stderr prefixed with the program name.
 */
#ifndef GXKIT_CLI_H
#define GXKIT_CLI_H

#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <popt.h>

#define GXKIT_VERSION "0.1.0"

#include "exitcodes.h" /* CLI_EXIT_* */

/*
 * What option parsers return when they found nothing that ends the run:
 * every exit code is >= 0, so callers go on while rc < 0, as in
 * if ((rc = parse(...)) >= 0) goto done;
 */
#define CLI_CONTINUE (-1)

/* Flags set by the shared table; read them after parsing. */
struct cli_common {
	int help;
	int usage;
	int version;
	int quiet;
	int verbose;
};
extern struct cli_common cli_common;
extern struct poptOption cli_common_table[];

#define CLI_COMMON_OPTIONS                                                     \
	{                                                                      \
		NULL, '\0', POPT_ARG_INCLUDE_TABLE, cli_common_table, 0,       \
		    "Common options:", NULL                                    \
	}

/* Sets the program name of messages (lib/msg) from argv[0]. */
void cli_init(const char *argv0);

/*
 * After poptGetNextOpt() returned rc < 0: print the popt error as a usage
 * error when rc < -1 and return CLI_EXIT_USAGE; handle --help, --usage and
 * --version (printing to stdout, returning CLI_EXIT_OK).  Returns
 * CLI_CONTINUE when the tool should go on.
 */
int cli_finish_options(poptContext con, int rc);

/*
 * popt gives POPT_ARG_STRING options a malloc'd copy and never frees the
 * one an option given twice replaces.  Register each string slot (which
 * must start NULL: apply defaults after parsing), call cli_strings_update()
 * after every poptGetNextOpt(), and cli_strings_free() at the end.
 */
#define CLI_MAX_STRINGS 24
/* val of string options, so poptGetNextOpt() returns after each one */
#define CLI_OPT_STRING 1000
struct cli_strings {
	char **slot[CLI_MAX_STRINGS];
	char *seen[CLI_MAX_STRINGS];
	size_t n;
};
void cli_strings_track(struct cli_strings *s, char **slot);
/* cli_strings_track() of each slot given: CLI_STRINGS_TRACK(s, &a, &b). */
#define CLI_STRINGS_TRACK(s, ...)                                              \
	cli_strings_track_n((s), (char **[]){__VA_ARGS__},                     \
	                    sizeof((char **[]){__VA_ARGS__}) /                 \
	                        sizeof(char **))
void cli_strings_track_n(struct cli_strings *s, char **const slots[], size_t n);
void cli_strings_update(struct cli_strings *s);
void cli_strings_free(struct cli_strings *s);

/*
 * SIGINT and SIGTERM set cli_stop (the handler does nothing else) and
 * SIGPIPE is ignored, so a closed pipe shows up as EPIPE on write.
 */
extern volatile sig_atomic_t cli_stop;
void cli_catch_stop_signals(void);

/* cli_init() and a popt context over table with the usage line shown in
 * --help; free it with poptFreeContext(). */
poptContext cli_context(int argc, char **argv, const struct poptOption *table,
                        const char *usage, unsigned int flags);
/*
 * Parse every option of a tool whose options need no handling of their
 * own (string options tracked in s); then as cli_finish_options().
 */
int cli_parse_options(poptContext con, struct cli_strings *s);
/*
 * --max-rss, which every long-running tool has: its option row (the
 * string into slot), the parsing of it into KiB (CLI_EXIT_USAGE after the
 * message, or CLI_CONTINUE), and the check between iterations: true,
 * after saying so, once this process's RSS is above kb (0: no limit).
 */
#define CLI_MAX_RSS_OPTION(slot, prog)                                         \
	{                                                                      \
		"max-rss", '\0', POPT_ARG_STRING, (slot), CLI_OPT_STRING,      \
		    "exit 3 when " prog " itself grows past SIZE", "SIZE"      \
	}
int cli_parse_max_rss(const char *arg, double *kb);
bool cli_over_max_rss(double kb);
/* --max-line SIZE of the JSONL readers into *bytes (left alone when arg is
 * NULL); CLI_CONTINUE, or a usage error's exit code. */
int cli_parse_max_line(const char *arg, size_t *bytes);

/*
 * The D-Bus tools' choice of bus: the rows of --system, --session and
 * --address (the string tracked by the caller), and the check that at
 * most one is given; which becomes "system", "session" or NULL (the
 * address, else the default bus).  CLI_CONTINUE or a usage error's code.
 */
struct cli_bus {
	int system, session;
	char *address;
};
#define CLI_BUS_OPTIONS(b)                                                     \
	{"system", '\0', POPT_ARG_NONE, &(b)->system, 0, "use the system bus", \
	 NULL},                                                                \
	    {"session",     '\0', POPT_ARG_NONE,                               \
	     &(b)->session, 0,    "use the session bus",                       \
	     NULL},                                                            \
	{                                                                      \
		"address", '\0', POPT_ARG_STRING, &(b)->address,               \
		    CLI_OPT_STRING, "use the bus at ADDR", "ADDR"              \
	}
int cli_bus_choice(const struct cli_bus *b, const char **which);

/*
 * --tag KEY=VALUE of the tools that write records: the option row (its
 * poptGetNextOpt() value is CLI_OPT_TAG, which cli_parse_options()
 * handles itself; tools with a loop of their own call cli_take_tag()),
 * gathered in cli_tags for the writers (w->tags = &cli_tags) and freed by
 * cli_strings_free().
 */
#define CLI_OPT_TAG 1001
#define CLI_TAG_OPTION                                                         \
	{                                                                      \
		"tag", '\0', POPT_ARG_STRING, NULL, CLI_OPT_TAG,               \
		    "add KEY=VALUE to every record (repeatable)", "KEY=VALUE"  \
	}
struct jsonl_tags;
extern struct jsonl_tags cli_tags;
int cli_take_tag(poptContext con);

/* A duration option: its name for messages, the string given (NULL: not
 * given) and where its milliseconds go. */
struct cli_duration {
	const char *name, *arg;
	uint64_t *ms;
};
/* Each given duration into its ms; CLI_CONTINUE, or a usage error naming
 * the first bad one. */
int cli_parse_durations(const struct cli_duration *d, size_t n);

/* "tool: message" and "Try 'tool --help'." on stderr; returns 2. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Flush and close stdout, as util-linux's close_stdout does.  Returns 0;
 * 1 after printing why the write failed; EPIPE counts as success (a closed
 * pipe ends a tool quietly).
 */
int cli_close_stdout(void);
/* Report a failed write of stdout (errno) once per run; CLI_EXIT_FAILURE.
 * cli_close_stdout() then stays quiet about the same error. */
int cli_write_error(void);
/* The end of main: cli_close_stdout(), whose failure turns an rc of 0
 * into CLI_EXIT_FAILURE; returns the rc to exit with. */
int cli_finish_stdout(int rc);

struct jsonl_writer;
/* The exit code of a loop that writes records and returned rc: a
 * negative rc is a failed write, reported (CLI_EXIT_FAILURE), or the
 * reader's leaving (w->gone or EPIPE: 0, quietly); else rc. */
int cli_loop_exit(const struct jsonl_writer *w, int rc);

/*
 * Start COMMAND (argv, by PATH) for the tools that watch it: its signal
 * mask set, its standard output our standard error (records stand alone
 * on ours), in_child(arg) run between fork and exec.  A close-on-exec
 * pipe tells whether exec worked, so the caller never watches itself: the
 * child's pid, 0 with errno when exec failed (the child reaped), -1 with
 * errno when fork did.
 */
pid_t cli_launch(char **argv, const sigset_t *mask, void (*in_child)(void *),
                 void *arg);

/*
 * The signals of a tool that watches a command: INT, TERM and HUP set
 * cli_stop_signal to their number, CHLD sets cli_child_changed; all four
 * blocked (their set in *blocked, the mask before in *unblocked) so that
 * they arrive only inside ppoll(unblocked) and a loop step is never cut;
 * SIGPIPE ignored.
 */
extern volatile sig_atomic_t cli_stop_signal, cli_child_changed;
void cli_watch_signals(sigset_t *blocked, sigset_t *unblocked);

/* True when errno says the reader of stdout went away. */
bool cli_stdout_gone(int saved_errno);

#endif
