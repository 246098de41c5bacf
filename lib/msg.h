/*
 * msg: how gxkit speaks on stderr, "prog: text", for the tools and for
 * lib/ alike.  The program's name and the choice of -q/-v are this
 * module's state, set once by the caller (lib/cli does, from argv[0] and
 * the options), so that no lib module needs the command line.  Nothing
 * here exits.
 */
#ifndef GXKIT_MSG_H
#define GXKIT_MSG_H

#include <stdarg.h>
#include <stdbool.h>

/* The name messages start with: argv[0]'s last part ("gxkit" until set). */
void msg_init(const char *argv0);
const char *msg_progname(void);

/* -q: warnings are not printed; -v: msg_debug() lines are. */
void msg_set_quiet(bool quiet);
void msg_set_verbose(bool verbose);
bool msg_quiet(void);

/* warnx(3)-style lines: msg_warn() unless quiet, msg_debug() when
 * verbose, msg_error() always. */
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_verror(const char *fmt, va_list ap);

#endif
