#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "guard.h"

/* The page parent and child share: a beat counter and the last "what". */
struct guard_page {
	volatile uint64_t beats;
	char what[GUARD_WHAT_MAX];
};

static struct guard_page *page; /* NULL unguarded, and in the parent */
static volatile sig_atomic_t child_pid, stop_signal;

void
guard_beat(const char *fmt, ...)
{
	va_list ap;

	if (page == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(page->what, sizeof(page->what), fmt, ap);
	va_end(ap);
	page->beats++;
}

static void
on_stop(int sig)
{
	stop_signal = sig;
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

/* The child's end as an exit code; msg says why when it was not its own. */
static int
child_end(int status, const struct guard_page *g, char *msg, size_t len)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status) && stop_signal != 0 &&
	    WTERMSIG(status) == stop_signal)
		return 128 + stop_signal; /* asked for: no crash to report */
	snprintf(msg, len, "crashed (%s) reading %s",
	         strsignal(WIFSIGNALED(status) ? WTERMSIG(status) : 0),
	         g->what[0] ? g->what : "the file");
	return 1;
}

/* Wait for the child, killing it when it stops beating. */
static int
watch(pid_t pid, struct guard_page *g, uint64_t deadline_ms, char *msg,
      size_t len)
{
	uint64_t last = g->beats, since = clock_mono_ms(), stop_at = 0;
	const struct timespec tick = {0, 100 * 1000 * 1000};
	sigset_t chld;
	int status;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		uint64_t now = clock_mono_ms();

		if (r == pid)
			return child_end(status, g, msg, len);
		if (r < 0 && errno != EINTR)
			return 1;
		if (g->beats != last) {
			last = g->beats;
			since = now;
		}
		/* a stop asked for and not taken within a second: KILL */
		if (stop_signal != 0 && stop_at == 0)
			stop_at = now + 1000;
		if (now - since >= deadline_ms ||
		    (stop_at != 0 && now >= stop_at)) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			if (stop_at != 0 && now >= stop_at)
				return 128 + stop_signal;
			snprintf(msg, len,
			         "made no progress for %llu ms reading %s "
			         "(stopped)",
			         (unsigned long long)(now - since),
			         g->what[0] ? g->what : "the file");
			return 1;
		}
		/* SIGCHLD is blocked: it ends this wait at once */
		(void)sigtimedwait(&chld, NULL, &tick);
	}
}

int
guard_start(uint64_t deadline_ms, int *code, char *msg, size_t len)
{
	struct guard_page *g;
	struct sigaction sa;
	sigset_t chld, old;
	pid_t pid;

	g = mmap(NULL, sizeof(*g), PROT_READ | PROT_WRITE,
	         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED)
		return -1;
	memset(g, 0, sizeof(*g));
	msg[0] = '\0';
	fflush(NULL); /* nothing buffered twice */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	if ((pid = fork()) < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		munmap(g, sizeof(*g));
		return -1;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		page = g;
		return 0;
	}
	child_pid = pid;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* the parent writes nothing: a closed pipe is the child's to see */
	signal(SIGPIPE, SIG_IGN);
	*code = watch(pid, g, deadline_ms, msg, len);
	sigprocmask(SIG_SETMASK, &old, NULL);
	munmap(g, sizeof(*g));
	return 1;
}
