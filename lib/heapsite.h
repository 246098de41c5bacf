/*
 * heapsite: heap-watch's snapshots, from the preload library's messages
 * (heap_proto.h) to named call sites.  Messages are assembled per
 * process; each stack is named through elfsym, the allocator's own frames
 * (libc, the library, operator new, CPython's and GLib's allocation
 * wrappers) skipped; stacks named alike are summed and sorted by live
 * bytes.  A struct heap_assembly and a struct heap_sites own what they
 * hold (heap_assembly_free, heap_sites_free); functions return 0, or -1
 * with errno (ENOMEM, EPROTO for a malformed message).
 */
#ifndef GXKIT_HEAPSITE_H
#define GXKIT_HEAPSITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "elfsym.h"
#include "heap_proto.h"

#define HEAP_PROCS 64 /* processes assembled at once (--children) */

struct heap_stack {
	uint64_t live, count;
	uint32_t nframes;
	uint64_t frames[HEAP_DEPTH_MAX];
};

struct heap_snapshot {
	pid_t pid; /* 0: a free slot */
	uint32_t seq, flags, nsamples, frames_sum, taken;
	uint64_t heap_bytes, rate;
	struct heap_stack *stacks;
	size_t n, cap;
	char *maps; /* the process's maps as it sent them, or NULL */
	size_t maps_len, maps_cap;
};

struct heap_assembly {
	struct heap_snapshot procs[HEAP_PROCS];
};

enum heap_feed {
	HEAP_FEED_MORE, /* a part of a snapshot */
	HEAP_FEED_DONE, /* *done is complete, until the next feed */
	HEAP_FEED_NOTE  /* *note (not terminated, *note_len bytes) */
};

/* One datagram; an enum heap_feed, or -1 with errno. */
int heap_feed(struct heap_assembly *a, const void *msg, size_t len,
              struct heap_snapshot **done, const char **note, size_t *note_len);
void heap_assembly_free(struct heap_assembly *a);

struct heap_site_out {
	char *site;
	double live_kb, count;
};

struct heap_sites {
	struct heap_site_out *v; /* by live_kb, largest first */
	size_t n;
	double heap_kb;
	unsigned unresolved; /* frames no mapping held */
};

struct heap_naming {
	unsigned callers; /* frames after the site's own */
	bool raw;         /* object+0xOFF only, no function names */
};

/* Sites of s, named from c. */
int heap_sites_name(const struct heap_snapshot *s, struct elfsym_cache *c,
                    const struct heap_naming *how, struct heap_sites *out);
void heap_sites_free(struct heap_sites *out);

/* A frame of the allocator, not of the code that allocates. */
bool heap_frame_is_allocator(const char *object, const char *function);

#endif
