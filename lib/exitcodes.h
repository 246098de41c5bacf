/*
 * exitcodes: every tool's exit statuses by name, in a header of their own
 * so that lib/ modules that decide a status (leak_verdict_exit) need
 * nothing else of cli.h.  Constants only.
 */
#ifndef GXKIT_EXITCODES_H
#define GXKIT_EXITCODES_H

/*
 * Exit codes (gxkit(7)): 0 to 2 shared by every tool, 3 and up states of
 * one tool, named here so that no tool writes a bare number.  States of
 * different tools, or of modes of one that never run together (dbus-watch's
 * watchdog and its --set), share a number.
 */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1, /* device, bus, file, I/O */
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_LIMIT = 3,        /* --max-rss, a watchdog's limit */
	CLI_EXIT_REFUSED = 3,      /* dbus-watch --set: the service refused */
	CLI_EXIT_INSUFFICIENT = 3, /* leak-classify: too little data */
	CLI_EXIT_LEAK = 4,         /* leak-classify: leak or fragmentation */
	CLI_EXIT_INVALID = 4,      /* h5-dump --check: not a valid recording */
	CLI_EXIT_OOM = 5,          /* leak-classify: the limit is near */
	CLI_EXIT_NO_SERVICE = 4,   /* dbus-watch: no such service */
	CLI_EXIT_BAD_PATH = 5,     /* dbus-watch: a path absent or invalid */
	CLI_EXIT_STALE = 6,        /* dbus-watch --fresh: no change in time */
	CLI_EXIT_NOEXEC = 127      /* rss-watch: COMMAND not run (as sh) */
};

#endif
