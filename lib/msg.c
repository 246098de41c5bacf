#include <stdio.h>
#include <string.h>

#include "msg.h"

static const char *progname = "gxkit";
static bool quiet, verbose;

void
msg_init(const char *argv0)
{
	const char *slash;

	if (argv0 == NULL || *argv0 == '\0')
		return;
	slash = strrchr(argv0, '/');
	progname = slash ? slash + 1 : argv0;
}

const char *
msg_progname(void)
{
	return progname;
}

void
msg_set_quiet(bool q)
{
	quiet = q;
}

void
msg_set_verbose(bool v)
{
	verbose = v;
}

bool
msg_quiet(void)
{
	return quiet;
}

void
msg_verror(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
msg_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_verror(fmt, ap);
	va_end(ap);
}

void
msg_warn(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	msg_verror(fmt, ap);
	va_end(ap);
}

void
msg_debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	msg_verror(fmt, ap);
	va_end(ap);
}
