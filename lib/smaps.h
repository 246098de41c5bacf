/*
 * smaps: a process's memory by mapping, from /proc/PID/smaps, in fixed
 * memory.  Each mapping falls in one class (the brk heap, anonymous,
 * stack, shared memory, file) and is tallied by name ("[heap]", "[anon]",
 * "[stack]", "[shmem]", or a file's basename) in a fixed table; the
 * largest names make the top list.  The caller owns every struct (the
 * parser is large: keep it static or on the heap once); nothing here
 * allocates.  smaps_read() returns 0, or -1 with errno (ESRCH: gone).
 */
#ifndef GXKIT_SMAPS_H
#define GXKIT_SMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum smaps_class {
	SMAPS_HEAP,  /* [heap]: the brk heap, glibc's main arena */
	SMAPS_ANON,  /* anonymous: mmap'd chunks, arenas, thread stacks */
	SMAPS_STACK, /* [stack]: the main thread's */
	SMAPS_SHMEM, /* shared anonymous, /dev/shm, SysV, memfd */
	SMAPS_FILE,  /* everything backed by a file (and [vdso] and kin) */
	SMAPS_NCLASS
};

#define SMAPS_TOP      5   /* names in the top list */
#define SMAPS_NAMES    256 /* names tallied per read; more fold into classes */
#define SMAPS_NAME_MAX 48
#define SMAPS_SLOTS    (2 * SMAPS_NAMES)

/*
 * glibc's arena heaps are reserved as HEAP_MAX_SIZE, aligned to it
 * (malloc/arena.c, new_heap): 2 * DEFAULT_MMAP_THRESHOLD_MAX, 64 MiB in
 * 64-bit and 1 MiB in 32-bit processes.  Which one the watched process
 * is shows in its addresses (any above 4 GiB: 64-bit), not in rss-watch's
 * own build: a 32-bit rss-watch may watch a 64-bit process, and back.
 */
#define SMAPS_ARENA_64 (UINT64_C(64) << 20)
#define SMAPS_ARENA_32 (UINT64_C(1) << 20)

struct smaps_name {
	char name[SMAPS_NAME_MAX];
	enum smaps_class cls;
	long rss_kb, dirty_kb;
};

struct smaps_totals {
	long rss_kb[SMAPS_NCLASS];   /* resident */
	long dirty_kb[SMAPS_NCLASS]; /* Private_Dirty: what only it wrote */
	long arenas;   /* arena heaps: reservations of SMAPS_ARENA_* */
	long mappings; /* summed over processes with smaps_add */
	struct smaps_name top[SMAPS_TOP]; /* by rss_kb, largest first */
	size_t ntop;
};

/* The streaming parser: text in pieces of any size, lines carried over. */
struct smaps_parser {
	struct smaps_totals *out;
	char line[4352]; /* a header with a PATH_MAX path fits */
	size_t len;
	/* the mapping being read */
	bool in_map, anon_private;
	uint64_t start, end; /* 64-bit, whatever rss-watch's own build */
	enum smaps_class cls;
	char name[SMAPS_NAME_MAX];
	long rss_kb, dirty_kb;
	/* runs of anonymous private mappings from an arena-aligned start,
	 * for both sizes; the process's width picks one at the end */
	bool in_run[2];
	uint64_t run_start[2], run_end[2];
	long runs[2];
	bool wide; /* an address above 4 GiB: a 64-bit process */
	struct smaps_name names[SMAPS_NAMES];
	size_t nnames;
	uint16_t slot[SMAPS_SLOTS]; /* hash of names: index + 1, 0 free */
};

const char *smaps_class_name(enum smaps_class c); /* "heap", ... "file" */
/* The class of a mapping from its permissions ("rw-p") and pathname
 * ("" for none); *name gets what it is tallied as. */
enum smaps_class smaps_classify(const char *perms, const char *path,
                                char name[SMAPS_NAME_MAX]);

void smaps_begin(struct smaps_parser *p, struct smaps_totals *out);
void smaps_feed(struct smaps_parser *p, const char *buf, size_t n);
/* The last mapping tallied, the top list chosen. */
void smaps_end(struct smaps_parser *p);

/* Read dir_fd's "smaps" (dir_fd: an open /proc/PID) into out. */
int smaps_read(int dir_fd, struct smaps_parser *p, struct smaps_totals *out);
/* The same for /proc/pid. */
int smaps_read_pid(pid_t pid, struct smaps_parser *p, struct smaps_totals *out);
/* Add b to a, for --children: classes, arenas and mappings sum; the top
 * lists merge by name (names below either top are not seen). */
void smaps_add(struct smaps_totals *a, const struct smaps_totals *b);

#endif
