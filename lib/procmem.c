#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procmem.h"

/* Large enough for /proc/PID/status and smaps_rollup of any kernel. */
#define PROC_BUF 8192

static int
close_fd(int fd)
{
	return fd >= 0 ? close(fd) : 0;
}

/* Read a whole /proc file through a kept descriptor; ESRCH when gone. */
static ssize_t
read_at(int fd, char *buf, size_t cap)
{
	ssize_t n = pread(fd, buf, cap - 1, 0);

	if (n < 0) {
		if (errno == ENOENT || errno == EINVAL)
			errno = ESRCH;
		return -1;
	}
	buf[n] = '\0';
	return n;
}

static ssize_t
read_file_at(int dir_fd, const char *name, char *buf, size_t cap)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		if (errno == ENOENT)
			errno = ESRCH;
		return -1;
	}
	n = read_at(fd, buf, cap);
	close(fd);
	return n;
}

int
procmem_parse_stat(const char *buf, struct procmem_sample *s)
{
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	unsigned long long start = 0;
	int ppid = 0, field;
	const char *p;
	size_t n;

	if (open == NULL || close == NULL || close < open)
		return -1;
	s->pid = (pid_t)atoi(buf);
	n = (size_t)(close - open - 1);
	if (n >= sizeof(s->comm))
		n = sizeof(s->comm) - 1;
	memcpy(s->comm, open + 1, n);
	s->comm[n] = '\0';
	/* After "comm)": field 3 is the state, 4 ppid, 22 starttime. */
	p = close + 1;
	for (field = 3; field <= 22 && *p != '\0'; field++) {
		while (*p == ' ')
			p++;
		if (field == 3)
			s->state = *p;
		else if (field == 4)
			ppid = atoi(p);
		else if (field == 22)
			start = strtoull(p, NULL, 10);
		while (*p != ' ' && *p != '\0')
			p++;
	}
	if (field <= 22)
		return -1;
	s->ppid = (pid_t)ppid;
	s->start_ticks = start;
	return 0;
}

static long
kb_value(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return isdigit((unsigned char)*p) ? strtol(p, NULL, 10) : -1;
}

void
procmem_parse_status(const char *buf, struct procmem_sample *s)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
	    {"VmRSS:", offsetof(struct procmem_sample, rss_kb)},
	    {"RssAnon:", offsetof(struct procmem_sample, anon_kb)},
	    {"RssFile:", offsetof(struct procmem_sample, file_kb)},
	    {"RssShmem:", offsetof(struct procmem_sample, shmem_kb)},
	    {"VmSwap:", offsetof(struct procmem_sample, swap_kb)},
	    {"VmSize:", offsetof(struct procmem_sample, vsz_kb)},
	    {"VmHWM:", offsetof(struct procmem_sample, hwm_kb)},
	    {"Threads:", offsetof(struct procmem_sample, threads)},
	};
	const char *line = buf;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		*(long *)((char *)s + keys[i].off) = -1;
	s->comm[0] = '\0';
	s->state = '?';
	while (line != NULL && *line != '\0') {
		if (strncmp(line, "Name:\t", 6) == 0) {
			size_t n = strcspn(line + 6, "\n");

			if (n >= sizeof(s->comm))
				n = sizeof(s->comm) - 1;
			memcpy(s->comm, line + 6, n);
			s->comm[n] = '\0';
		} else if (strncmp(line, "State:\t", 7) == 0) {
			s->state = line[7];
		} else if (strncmp(line, "PPid:", 5) == 0) {
			s->ppid = (pid_t)kb_value(line + 5);
		}
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			size_t n = strlen(keys[i].key);

			if (strncmp(line, keys[i].key, n) == 0) {
				*(long *)((char *)s + keys[i].off) =
				    kb_value(line + n);
				break;
			}
		}
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
}

void
procmem_parse_rollup(const char *buf, struct procmem_sample *s)
{
	long pss = -1, priv_clean = -1, priv_dirty = -1;
	const char *line = buf;

	while (line != NULL && *line != '\0') {
		if (strncmp(line, "Pss:", 4) == 0)
			pss = kb_value(line + 4);
		else if (strncmp(line, "Private_Clean:", 14) == 0)
			priv_clean = kb_value(line + 14);
		else if (strncmp(line, "Private_Dirty:", 14) == 0)
			priv_dirty = kb_value(line + 14);
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	s->pss_kb = pss;
	s->uss_kb = priv_clean >= 0 && priv_dirty >= 0 &&
	                    priv_clean <= LONG_MAX - priv_dirty
	                ? priv_clean + priv_dirty
	                : -1;
}

double
procmem_start_seconds(uint64_t start_ticks)
{
	static long hz;

	if (hz <= 0)
		hz = sysconf(_SC_CLK_TCK);
	return (double)start_ticks / (double)(hz > 0 ? hz : 100);
}

double
procmem_age_seconds(uint64_t start_ticks)
{
	struct timespec now;

	/* /proc's start times count from boot, suspended time included */
	if (clock_gettime(CLOCK_BOOTTIME, &now) != 0)
		return -1;
	return fmax((double)now.tv_sec + (double)now.tv_nsec / 1e9 -
	                procmem_start_seconds(start_ticks),
	            0);
}

/*
 * Count entries of /proc/PID/fd with getdents64: no DIR, no malloc.  A
 * kept descriptor (*kept, opened on first use) is rewound instead of
 * reopened; kept NULL opens and closes one.
 */
static long
count_fds(int dir_fd, int *kept)
{
	char buf[4096];
	long count = 0;
	int fd = kept != NULL ? *kept : -1;
	long n;

	if (fd >= 0 && lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		fd = *kept = -1;
	}
	if (fd < 0)
		fd = openat(dir_fd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (kept != NULL)
		*kept = fd;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		long off = 0;

		while (off < n) {
			unsigned short reclen;
			const char *name = buf + off + 19;

			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			if (name[0] != '.')
				count++;
			off += reclen;
		}
	}
	if (kept == NULL)
		close(fd);
	return n < 0 ? -1 : count;
}

static int
pidfd_open_compat(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

int
procmem_open(struct procmem_proc *p, pid_t pid)
{
	char path[32], buf[1024];
	struct procmem_sample s;

	memset(p, 0, sizeof(*p));
	p->dir_fd = p->stat_fd = p->status_fd = p->rollup_fd = p->pidfd = -1;
	p->fd_dir = -1;
	p->pid = pid;
	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	p->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dir_fd < 0)
		goto gone;
	p->pidfd = pidfd_open_compat(pid);
	p->stat_fd = openat(p->dir_fd, "stat", O_RDONLY | O_CLOEXEC);
	p->status_fd = openat(p->dir_fd, "status", O_RDONLY | O_CLOEXEC);
	if (p->stat_fd < 0 || p->status_fd < 0)
		goto gone;
	/* Read the start time after the pidfd exists: both then name the
	 * same process. */
	if (read_at(p->stat_fd, buf, sizeof(buf)) < 0 ||
	    procmem_parse_stat(buf, &s) < 0 || s.state == 'Z' || s.state == 'X')
		goto gone;
	p->start_ticks = s.start_ticks;
	return 0;
gone:
	procmem_close(p);
	errno = ESRCH;
	return -1;
}

void
procmem_close(struct procmem_proc *p)
{
	close_fd(p->rollup_fd);
	close_fd(p->fd_dir);
	close_fd(p->status_fd);
	close_fd(p->stat_fd);
	close_fd(p->dir_fd);
	close_fd(p->pidfd);
	p->dir_fd = p->stat_fd = p->status_fd = p->rollup_fd = p->pidfd = -1;
	p->fd_dir = -1;
}

/*
 * One sample from /proc/PID/status (and fd, smaps_rollup): status names
 * the process and its state too, so stat is not read.  A kept status
 * descriptor fails with ESRCH once its process is reaped, whatever
 * process has the pid by then.
 */
static int
sample_dir(int dir_fd, int status_fd, int *rollup_fd, int *fd_dir,
           struct procmem_sample *s, unsigned int flags)
{
	char buf[PROC_BUF];

	if ((status_fd >= 0
	         ? read_at(status_fd, buf, sizeof(buf))
	         : read_file_at(dir_fd, "status", buf, sizeof(buf))) < 0)
		return -1;
	procmem_parse_status(buf, s);
	/* zombies, and kernel threads, have no memory lines */
	if (s->rss_kb < 0 || s->state == 'Z' || s->state == 'X') {
		errno = ESRCH;
		return -1;
	}
	s->fds = flags & PROCMEM_FDS ? count_fds(dir_fd, fd_dir) : -1;
	s->pss_kb = s->uss_kb = -1;
	if (flags & PROCMEM_PSS) {
		if (*rollup_fd < 0)
			*rollup_fd = openat(dir_fd, "smaps_rollup",
			                    O_RDONLY | O_CLOEXEC);
		if (*rollup_fd >= 0 &&
		    read_at(*rollup_fd, buf, sizeof(buf)) > 0)
			procmem_parse_rollup(buf, s);
	}
	s->nproc = 1;
	return 0;
}

int
procmem_sample(struct procmem_proc *p, struct procmem_sample *s,
               unsigned int flags)
{
	if (p->dir_fd < 0) {
		errno = ESRCH;
		return -1;
	}
	if (sample_dir(p->dir_fd, p->status_fd, &p->rollup_fd, &p->fd_dir, s,
	               flags) < 0)
		return -1;
	s->pid = p->pid;
	s->start_ticks = p->start_ticks;
	return 0;
}

bool
procmem_alive(struct procmem_proc *p)
{
	char buf[1024];
	struct procmem_sample s;

	if (p->stat_fd < 0 || read_at(p->stat_fd, buf, sizeof(buf)) < 0)
		return false;
	return procmem_parse_stat(buf, &s) == 0 && s.state != 'Z' &&
	       s.state != 'X' && s.start_ticks == p->start_ticks;
}

int
procmem_signal(struct procmem_proc *p, int sig)
{
#ifdef SYS_pidfd_send_signal
	if (p->pidfd >= 0)
		return (int)syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL,
		                    0);
#endif
	/* Without pidfds: check identity right before kill(2). */
	if (!procmem_alive(p)) {
		errno = ESRCH;
		return -1;
	}
	return kill(p->pid, sig);
}

static const char *
base_name(const char *s, size_t n, size_t *len)
{
	const char *b = s;
	size_t i;

	for (i = 0; i < n && s[i] != '\0'; i++)
		if (s[i] == '/')
			b = s + i + 1;
	*len = (size_t)(s + i - b);
	return b;
}

/* name equals base, or base without its extension ("x.py" for "x"). */
static bool
base_matches(const char *name, const char *base, size_t len)
{
	size_t n = strlen(name);
	const char *dot;

	if (len == n && memcmp(base, name, n) == 0)
		return true;
	dot = memchr(base, '.', len);
	return dot != NULL && (size_t)(dot - base) == n &&
	       memcmp(base, name, n) == 0;
}

static bool
is_interpreter(const char *base, size_t len)
{
	static const char *const names[] = {"python", "perl", "sh",  "bash",
	                                    "node",   "ruby", "lua", "dash"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (len >= strlen(names[i]) &&
		    memcmp(base, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

bool
procmem_name_matches(const char *name, const char *comm, const char *cmdline,
                     size_t cmdline_len)
{
	size_t len, arg0_len;
	const char *b;

	/* comm is cut to 15 bytes: a longer name matches its prefix only
	 * when argv agrees below. */
	if (strcmp(comm, name) == 0)
		return true;
	if (cmdline_len == 0)
		return false;
	b = base_name(cmdline, cmdline_len, &len);
	if (base_matches(name, b, len))
		return true;
	arg0_len = strnlen(cmdline, cmdline_len) + 1;
	if (!is_interpreter(b, len) || arg0_len >= cmdline_len)
		return false;
	/* argv[1] of an interpreter, skipping its options. */
	cmdline += arg0_len;
	cmdline_len -= arg0_len;
	while (cmdline_len > 0 && cmdline[0] == '-') {
		size_t n = strnlen(cmdline, cmdline_len) + 1;

		if (n >= cmdline_len)
			return false;
		cmdline += n;
		cmdline_len -= n;
	}
	b = base_name(cmdline, cmdline_len, &len);
	return base_matches(name, b, len);
}

/* Calls fn for every numeric entry of /proc; stops when fn returns 1. */
static int
for_each_pid(int (*fn)(int proc_fd, pid_t pid, void *arg), void *arg)
{
	char buf[8192];
	int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long n;
	int rc = 0;

	if (proc_fd < 0)
		return -1;
	while (rc == 0 &&
	       (n = syscall(SYS_getdents64, proc_fd, buf, sizeof(buf))) > 0) {
		long off = 0;

		while (rc == 0 && off < n) {
			unsigned short reclen;
			const char *name = buf + off + 19;

			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			off += reclen;
			if (isdigit((unsigned char)name[0]))
				rc = fn(proc_fd, (pid_t)atoi(name), arg);
		}
	}
	close(proc_fd);
	return 0;
}

struct name_search {
	const char *name;
	pid_t exclude, best;
	uint64_t best_start;
};

static int
match_one(int proc_fd, pid_t pid, void *arg)
{
	struct name_search *ns = arg;
	char path[48], stat[1024], cmdline[4096];
	struct procmem_sample s;
	ssize_t n;

	if (pid == ns->exclude)
		return 0;
	snprintf(path, sizeof(path), "%d/stat", (int)pid);
	if (read_file_at(proc_fd, path, stat, sizeof(stat)) < 0 ||
	    procmem_parse_stat(stat, &s) < 0 || s.state == 'Z' ||
	    s.state == 'X')
		return 0;
	snprintf(path, sizeof(path), "%d/cmdline", (int)pid);
	n = read_file_at(proc_fd, path, cmdline, sizeof(cmdline));
	if (n <= 0) /* kernel threads have no command line */
		return 0;
	if (!procmem_name_matches(ns->name, s.comm, cmdline, (size_t)n))
		return 0;
	if (ns->best == 0 || s.start_ticks < ns->best_start ||
	    (s.start_ticks == ns->best_start && pid < ns->best)) {
		ns->best = pid;
		ns->best_start = s.start_ticks;
	}
	return 0;
}

int
procmem_find_by_name(const char *name, pid_t exclude, pid_t *pid)
{
	struct name_search ns = {name, exclude, 0, 0};

	if (for_each_pid(match_one, &ns) < 0)
		return -1;
	if (ns.best == 0) {
		errno = ESRCH;
		return -1;
	}
	*pid = ns.best;
	return 0;
}

static int
tree_add(int proc_fd, pid_t pid, void *arg)
{
	struct procmem_tree *t = arg;
	char path[48], stat[1024];
	struct procmem_sample s;

	snprintf(path, sizeof(path), "%d/stat", (int)pid);
	if (read_file_at(proc_fd, path, stat, sizeof(stat)) < 0 ||
	    procmem_parse_stat(stat, &s) < 0)
		return 0;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 512;
		pid_t *a = realloc(t->pid, cap * sizeof(*a));

		if (a == NULL)
			return -1;
		t->pid = a;
		a = realloc(t->ppid, cap * sizeof(*a));
		if (a == NULL)
			return -1;
		t->ppid = a;
		t->cap = cap;
	}
	t->pid[t->n] = pid;
	t->ppid[t->n] = s.ppid;
	t->n++;
	return 0;
}

void
procmem_tree_free(struct procmem_tree *t)
{
	free(t->pid);
	free(t->ppid);
	memset(t, 0, sizeof(*t));
}

/* A sum is unknown (-1) as soon as one term is. */
static void
add_counter(long *sum, long v)
{
	*sum = *sum < 0 || v < 0 ? -1 : *sum + v;
}

static void
add_sample(struct procmem_sample *sum, const struct procmem_sample *s)
{
	add_counter(&sum->rss_kb, s->rss_kb);
	add_counter(&sum->anon_kb, s->anon_kb);
	add_counter(&sum->file_kb, s->file_kb);
	add_counter(&sum->shmem_kb, s->shmem_kb);
	add_counter(&sum->swap_kb, s->swap_kb);
	add_counter(&sum->vsz_kb, s->vsz_kb);
	add_counter(&sum->hwm_kb, s->hwm_kb);
	add_counter(&sum->threads, s->threads);
	add_counter(&sum->fds, s->fds);
	add_counter(&sum->pss_kb, s->pss_kb);
	add_counter(&sum->uss_kb, s->uss_kb);
	sum->nproc++;
}

static void
swap_entries(struct procmem_tree *t, size_t a, size_t b)
{
	pid_t pid = t->pid[a], ppid = t->ppid[a];

	t->pid[a] = t->pid[b];
	t->ppid[a] = t->ppid[b];
	t->pid[b] = pid;
	t->ppid[b] = ppid;
}

int
procmem_sample_children(struct procmem_tree *t, pid_t root,
                        struct procmem_sample *sum, unsigned int flags)
{
	size_t i, j, members = 0, next = 0;
	pid_t parent = root;

	t->n = t->members = 0;
	if (for_each_pid(tree_add, t) < 0)
		return -1;
	/* Breadth first, in place: entries [0, members) are the descendants
	 * found so far; each one's children are swapped in behind them. */
	for (;;) {
		for (i = members; i < t->n; i++) {
			if (t->ppid[i] != parent)
				continue;
			swap_entries(t, i, members);
			members++;
		}
		if (next == members)
			break;
		parent = t->pid[next++];
	}
	t->members = members;
	for (j = 0; j < members; j++) {
		char path[32];
		struct procmem_sample s;
		int dir_fd, rollup_fd = -1;

		snprintf(path, sizeof(path), "/proc/%d", (int)t->pid[j]);
		dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir_fd < 0)
			continue;
		if (sample_dir(dir_fd, -1, &rollup_fd, NULL, &s, flags) == 0)
			add_sample(sum, &s);
		close_fd(rollup_fd);
		close(dir_fd);
	}
	return 0;
}

long
procmem_self_rss_kb(void)
{
	char buf[PROC_BUF];
	struct procmem_sample s;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read_at(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return -1;
	procmem_parse_status(buf, &s);
	return s.rss_kb;
}

bool
procmem_self_over(double max_kb)
{
	return max_kb > 0 && (double)procmem_self_rss_kb() > max_kb;
}

#define FIELD(name, with)                                                      \
	{                                                                      \
#name, offsetof(struct procmem_sample, name), with             \
	}
const struct procmem_field procmem_fields[] = {
    FIELD(rss_kb, 0),
    FIELD(anon_kb, 0),
    FIELD(file_kb, 0),
    FIELD(shmem_kb, 0),
    FIELD(swap_kb, 0),
    FIELD(vsz_kb, 0),
    FIELD(hwm_kb, 0),
    FIELD(threads, 0),
    FIELD(fds, 0),
    FIELD(pss_kb, PROCMEM_PSS),
    FIELD(uss_kb, PROCMEM_PSS),
    FIELD(nproc, PROCMEM_FIELD_TREE)};
#undef FIELD
const size_t procmem_nfields =
    sizeof(procmem_fields) / sizeof(procmem_fields[0]);

const struct procmem_field *
procmem_field_named(const char *name)
{
	size_t i;

	for (i = 0; i < procmem_nfields; i++)
		if (strcmp(name, procmem_fields[i].name) == 0)
			return &procmem_fields[i];
	return NULL;
}
