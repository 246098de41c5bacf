#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smaps.h"

static const char *const class_names[SMAPS_NCLASS] = {[SMAPS_HEAP] = "heap",
                                                      [SMAPS_ANON] = "anon",
                                                      [SMAPS_STACK] = "stack",
                                                      [SMAPS_SHMEM] = "shmem",
                                                      [SMAPS_FILE] = "file"};

const char *
smaps_class_name(enum smaps_class c)
{
	return c < SMAPS_NCLASS ? class_names[c] : "?";
}

/* Does s begin with the string literal lit?  (No strlen per line.) */
#define starts(s, lit) (strncmp((s), (lit), sizeof(lit) - 1) == 0)

static void
set_name(char name[SMAPS_NAME_MAX], const char *s, size_t n)
{
	if (n >= SMAPS_NAME_MAX)
		n = SMAPS_NAME_MAX - 1;
	memcpy(name, s, n);
	name[n] = '\0';
}

enum smaps_class
smaps_classify(const char *perms, const char *path, char name[SMAPS_NAME_MAX])
{
	static const char deleted[] = " (deleted)";
	const char *base;
	size_t n = strlen(path);

	if (strcmp(path, "[heap]") == 0) {
		set_name(name, "[heap]", 6);
		return SMAPS_HEAP;
	}
	if (starts(path, "[stack")) {
		set_name(name, "[stack]", 7);
		return SMAPS_STACK;
	}
	/* shared memory by name, or shared and anonymous (/dev/zero) */
	if (starts(path, "/dev/shm/") || starts(path, "/SYSV") ||
	    starts(path, "/memfd:") ||
	    (perms[3] == 's' && (n == 0 || starts(path, "/dev/zero")))) {
		set_name(name, "[shmem]", 7);
		return SMAPS_SHMEM;
	}
	/* unnamed, or named by prctl(PR_SET_VMA_ANON_NAME) */
	if (n == 0 || starts(path, "[anon:")) {
		set_name(name, "[anon]", 6);
		return SMAPS_ANON;
	}
	if (n > sizeof(deleted) - 1 &&
	    strcmp(path + n - (sizeof(deleted) - 1), deleted) == 0)
		n -= sizeof(deleted) - 1;
	base = memrchr(path, '/', n);
	base = base != NULL ? base + 1 : path;
	set_name(name, base, n - (size_t)(base - path));
	return SMAPS_FILE;
}

void
smaps_begin(struct smaps_parser *p, struct smaps_totals *out)
{
	memset(out, 0, sizeof(*out));
	p->out = out;
	p->len = 0;
	p->in_map = p->wide = false;
	p->in_run[0] = p->in_run[1] = false;
	p->runs[0] = p->runs[1] = 0;
	p->nnames = 0;
	memset(p->slot, 0, sizeof(p->slot));
}

static uint32_t
name_hash(const char *s, enum smaps_class cls)
{
	uint32_t h = 2166136261u ^ (uint32_t)cls; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* Tally a name; past SMAPS_NAMES only the class totals see it. */
static void
tally(struct smaps_parser *p, const char *name, enum smaps_class cls,
      long rss_kb, long dirty_kb)
{
	uint32_t h = name_hash(name, cls) % SMAPS_SLOTS;
	size_t i;

	for (; p->slot[h] != 0; h = (h + 1) % SMAPS_SLOTS) {
		i = p->slot[h] - 1u;
		if (p->names[i].cls == cls &&
		    strcmp(p->names[i].name, name) == 0)
			break;
	}
	if (p->slot[h] == 0) {
		if (p->nnames == SMAPS_NAMES)
			return;
		i = p->nnames++;
		p->slot[h] = (uint16_t)(i + 1);
		memcpy(p->names[i].name, name, SMAPS_NAME_MAX);
		p->names[i].cls = cls;
		p->names[i].rss_kb = p->names[i].dirty_kb = 0;
	}
	p->names[i].rss_kb += rss_kb;
	p->names[i].dirty_kb += dirty_kb;
}

/*
 * Arena heaps: a run of adjacent anonymous private mappings (the part in
 * use, then the PROT_NONE rest) that starts on a multiple of the arena
 * size and spans exactly that; followed for both sizes (k 0: 32-bit).
 */
static void
follow_run(struct smaps_parser *p, int k)
{
	uint64_t size = k ? SMAPS_ARENA_64 : SMAPS_ARENA_32;

	if (!p->anon_private) {
		p->in_run[k] = false;
		return;
	}
	if (p->in_run[k] && p->start == p->run_end[k]) {
		p->run_end[k] = p->end;
	} else if (p->start % size == 0) {
		p->in_run[k] = true;
		p->run_start[k] = p->start;
		p->run_end[k] = p->end;
	} else {
		p->in_run[k] = false;
		return;
	}
	if (p->run_end[k] - p->run_start[k] == size) {
		p->runs[k]++;
		p->in_run[k] = false;
	} else if (p->run_end[k] - p->run_start[k] > size) {
		p->in_run[k] = false;
	}
}

static void
close_map(struct smaps_parser *p)
{
	if (!p->in_map)
		return;
	p->out->rss_kb[p->cls] += p->rss_kb;
	p->out->dirty_kb[p->cls] += p->dirty_kb;
	p->out->mappings++;
	tally(p, p->name, p->cls, p->rss_kb, p->dirty_kb);
	follow_run(p, 0);
	follow_run(p, 1);
	p->wide |= p->end > UINT64_C(0xffffffff);
	p->in_map = false;
}

/* "55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0    [heap]" */
static bool
parse_header(struct smaps_parser *p, char *line)
{
	char *s = line, *end, *perms, *path;
	unsigned long long a, b;
	int field;

	errno = 0;
	a = strtoull(s, &end, 16);
	if (end == s || *end != '-')
		return false;
	s = end + 1;
	b = strtoull(s, &end, 16);
	if (end == s || *end != ' ' || errno != 0 || b < a)
		return false;
	perms = end + 1;
	if (strlen(perms) < 5 || perms[4] != ' ')
		return false;
	/* past perms, offset, device and inode to the path */
	for (s = perms, field = 0; field < 4 && s != NULL; field++) {
		s = strchr(s, ' ');
		if (s != NULL)
			while (*s == ' ')
				s++;
	}
	if (s == NULL && field < 4)
		return false;
	path = s != NULL ? s : ""; /* anonymous: the line ends at the inode */
	close_map(p);
	p->in_map = true;
	p->start = a;
	p->end = b;
	p->rss_kb = p->dirty_kb = 0;
	p->cls = smaps_classify(perms, path, p->name);
	p->anon_private = perms[3] == 'p' && path[0] == '\0';
	return true;
}

static long
kb_after(const char *s)
{
	return strtol(s, NULL, 10);
}

static void
parse_line(struct smaps_parser *p, char *line)
{
	if (line[0] >= 'A' && line[0] <= 'Z') { /* "Key: value kB" */
		if (!p->in_map)
			return;
		if (starts(line, "Rss:"))
			p->rss_kb = kb_after(line + 4);
		else if (starts(line, "Private_Dirty:"))
			p->dirty_kb = kb_after(line + 14);
		return;
	}
	if (!parse_header(p, line)) /* not a mapping: not counted */
		close_map(p);
}

void
smaps_feed(struct smaps_parser *p, const char *buf, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t take = nl != NULL ? (size_t)(nl - buf) : n;
		size_t room = sizeof(p->line) - 1 - p->len;

		if (take > room) /* a path's tail: the name is cut */
			take = room;
		memcpy(p->line + p->len, buf, take);
		p->len += take;
		if (nl == NULL)
			return;
		p->line[p->len] = '\0';
		parse_line(p, p->line);
		p->len = 0;
		n -= (size_t)(nl - buf) + 1;
		buf = nl + 1;
	}
}

static int
by_rss(const void *a, const void *b)
{
	const struct smaps_name *x = a, *y = b;

	return (x->rss_kb < y->rss_kb) - (x->rss_kb > y->rss_kb);
}

/* The largest n of names[] into top[] (names reordered). */
static size_t
pick_top(struct smaps_name *names, size_t n, struct smaps_name *top)
{
	qsort(names, n, sizeof(*names), by_rss);
	if (n > SMAPS_TOP)
		n = SMAPS_TOP;
	memcpy(top, names, n * sizeof(*names));
	return n;
}

void
smaps_end(struct smaps_parser *p)
{
	if (p->len > 0) { /* a last line without its newline */
		p->line[p->len] = '\0';
		parse_line(p, p->line);
		p->len = 0;
	}
	close_map(p);
	p->out->arenas = p->runs[p->wide];
	p->out->ntop = pick_top(p->names, p->nnames, p->out->top);
}

int
smaps_read(int dir_fd, struct smaps_parser *p, struct smaps_totals *out)
{
	char buf[16384];
	ssize_t n;
	int fd = openat(dir_fd, "smaps", O_RDONLY | O_CLOEXEC), saved;

	if (fd < 0)
		return -1;
	smaps_begin(p, out);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		smaps_feed(p, buf, (size_t)n);
	saved = errno;
	close(fd);
	smaps_end(p);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	/* a process gone (or a zombie) reads as empty */
	if (out->mappings == 0) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}

int
smaps_read_pid(pid_t pid, struct smaps_parser *p, struct smaps_totals *out)
{
	char path[32];
	int dir_fd, rc, saved;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return -1;
	rc = smaps_read(dir_fd, p, out);
	saved = errno;
	close(dir_fd);
	errno = saved;
	return rc;
}

void
smaps_add(struct smaps_totals *a, const struct smaps_totals *b)
{
	struct smaps_name merged[2 * SMAPS_TOP];
	size_t n = 0, i, j;
	int c;

	for (c = 0; c < SMAPS_NCLASS; c++) {
		a->rss_kb[c] += b->rss_kb[c];
		a->dirty_kb[c] += b->dirty_kb[c];
	}
	a->arenas += b->arenas;
	a->mappings += b->mappings;
	memcpy(merged, a->top, a->ntop * sizeof(merged[0]));
	n = a->ntop;
	for (i = 0; i < b->ntop; i++) {
		for (j = 0; j < n; j++)
			if (merged[j].cls == b->top[i].cls &&
			    strcmp(merged[j].name, b->top[i].name) == 0)
				break;
		if (j == n)
			merged[n++] = b->top[i];
		else {
			merged[j].rss_kb += b->top[i].rss_kb;
			merged[j].dirty_kb += b->top[i].dirty_kb;
		}
	}
	a->ntop = pick_top(merged, n, a->top);
}
