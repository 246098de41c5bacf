/*
 * procmem: memory samples of processes read from /proc without forking.
 * A struct procmem_proc owns the descriptors it opened (close it with
 * procmem_close); sampling allocates nothing.  Functions return 0 or -1
 * with errno: ESRCH means the process named by (pid, start) is gone, even
 * if its pid has been reused.
 */
#ifndef GXKIT_PROCMEM_H
#define GXKIT_PROCMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* -1 in any counter means "not available" (printed as null). */
struct procmem_sample {
	pid_t pid, ppid;
	uint64_t start_ticks; /* field 22 of /proc/PID/stat */
	char state;
	char comm[64];
	long rss_kb, anon_kb, file_kb, shmem_kb, swap_kb, vsz_kb, hwm_kb;
	long threads, fds;
	long pss_kb, uss_kb; /* with PROCMEM_PSS */
	long nproc;          /* processes summed (1 without a tree) */
};

enum {
	PROCMEM_PSS = 1 << 0, /* read smaps_rollup (costly) */
	PROCMEM_FDS = 1 << 1  /* count /proc/PID/fd */
};

/*
 * The counters of a sample under their record names (DESIGN.md), in the
 * order records carry them: the one list that rss-watch writes and that
 * its --limit-field may name.  with: 0 always, PROCMEM_PSS only with
 * --pss, PROCMEM_FIELD_TREE only with --children.
 */
#define PROCMEM_FIELD_TREE (1 << 8)
struct procmem_field {
	const char *name;
	size_t offset; /* of the long in struct procmem_sample */
	int with;
};
extern const struct procmem_field procmem_fields[];
extern const size_t procmem_nfields;
/* The field named name, or NULL. */
const struct procmem_field *procmem_field_named(const char *name);
static inline long
procmem_field_value(const struct procmem_sample *s,
                    const struct procmem_field *f)
{
	return *(const long *)((const char *)s + f->offset);
}

struct procmem_proc {
	pid_t pid;
	uint64_t start_ticks;
	int dir_fd, stat_fd, status_fd, rollup_fd, fd_dir;
	int pidfd; /* -1 where the kernel has no pidfd_open */
};

/* Attach to pid: fails with ESRCH when there is no such live process. */
int procmem_open(struct procmem_proc *p, pid_t pid);
void procmem_close(struct procmem_proc *p);
/* Sample; ESRCH once the process has exited (zombies count as gone). */
int procmem_sample(struct procmem_proc *p, struct procmem_sample *s,
                   unsigned int flags);
/* Signal the process itself, never a successor with the same pid. */
int procmem_signal(struct procmem_proc *p, int sig);
/* True while the process named by p is alive. */
bool procmem_alive(struct procmem_proc *p);

/* Parsers, exposed for unit tests; buf is NUL-terminated. */
int procmem_parse_stat(const char *buf, struct procmem_sample *s);
void procmem_parse_status(const char *buf, struct procmem_sample *s);
void procmem_parse_rollup(const char *buf, struct procmem_sample *s);
/* Seconds since boot at which the process started. */
double procmem_start_seconds(uint64_t start_ticks);
/* The process's age now in seconds, or -1. */
double procmem_age_seconds(uint64_t start_ticks);

/*
 * Find the oldest live process whose comm, argv[0] basename or (for an
 * interpreter) argv[1] basename is name, skipping exclude.  Returns 0 with
 * *pid, or -1 with errno ESRCH when none matches.
 */
int procmem_find_by_name(const char *name, pid_t exclude, pid_t *pid);
/* Does the process match name (see procmem_find_by_name)? */
bool procmem_name_matches(const char *name, const char *comm,
                          const char *cmdline, size_t cmdline_len);

/*
 * A process tree: all live descendants of a root, found by one scan of
 * /proc.  The arrays grow only when the tree does.
 */
struct procmem_tree {
	pid_t *pid, *ppid;
	size_t n, cap;
	size_t members; /* the last call's descendants: pid[0, members) */
};
void procmem_tree_free(struct procmem_tree *t);
/* Sum the samples of root's descendants into s (root already in s). */
int procmem_sample_children(struct procmem_tree *t, pid_t root,
                            struct procmem_sample *s, unsigned int flags);

/* VmRSS of the calling process in KiB, or -1. */
long procmem_self_rss_kb(void);
/* The --max-rss self-guard: is the caller above max_kb (0: no limit)? */
bool procmem_self_over(double max_kb);

#endif
