/*
 * guard: run the risky part of a program in a child process that its
 * parent watches, for libraries that can crash or loop forever on what
 * they read (libhdf5 on a corrupt file).  The guard owns one shared page;
 * the child says what it is doing with guard_beat(); the parent reports a
 * child that dies of a signal or stops beating past the deadline, in the
 * caller's message buffer.  Nothing here exits: the caller's main does.
 */
#ifndef GXKIT_GUARD_H
#define GXKIT_GUARD_H

#include <stddef.h>
#include <stdint.h>

#define GUARD_WHAT_MAX 200

/*
 * Fork before any thread starts.  Returns 0 in the child, which goes on
 * with the work and ends as it would unguarded.  In the parent, once the
 * child is gone, returns 1 with the exit code to end with in *code: the
 * child's own, or 1 with msg set when it died of a signal or made no
 * progress for deadline_ms (then it is killed).  SIGINT and SIGTERM reach
 * the child.  -1 (errno set) when no child could be made.
 */
int guard_start(uint64_t deadline_ms, int *code, char *msg, size_t len);

/* Progress, from the child (any thread): what it reads now, as
 * printf(3) would format it.  Does nothing unguarded. */
void guard_beat(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
