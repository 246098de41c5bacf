/*
 * heap_proto: the messages the preload library (preload/gxkit-heap.c)
 * sends heap-watch over an AF_UNIX datagram socket, one snapshot as
 * BEGIN, SITES..., END.  Plain structs, no code; each datagram is at most
 * HEAP_MSG_MAX bytes, so that it is sent whole or not at all, and several
 * traced processes (--children) can share the socket.
 */
#ifndef GXKIT_HEAP_PROTO_H
#define GXKIT_HEAP_PROTO_H

#include <stdint.h>

#define HEAP_MAGIC     0x31505748u /* "HWP1" */
#define HEAP_MSG_MAX   4096
#define HEAP_DEPTH_MAX 32
#define HEAP_ENV       "GXKIT_HEAP" /* fd:rate:depth:interval_ms:flags:pid */

enum heap_msg_type {
	HEAP_MSG_BEGIN = 1, /* heap_begin */
	HEAP_MSG_SITES,     /* heap_head then heap_site records, packed */
	HEAP_MSG_END,       /* heap_head; a final one waits for an ack */
	HEAP_MSG_NOTE,      /* heap_head then text: what the library stopped */
	HEAP_MSG_ACK,       /* heap-watch to the library: heap_head */
	HEAP_MSG_MAPS       /* heap_head then whole lines of /proc/self/maps
	                     * (executable, of files), as the process sees
	                     * them: under qemu-user, the guest's addresses */
};

enum heap_flags {
	HEAP_F_CHILDREN = 1, /* trace fork and exec children too */
	HEAP_F_SCAN = 2,     /* unwind by scanning the stack */
	HEAP_F_EH = 4,       /* unwind by tables (.eh_frame, .ARM.exidx) */
	HEAP_F_FINAL = 8     /* the last snapshot, at exit */
};

struct heap_head {
	uint32_t magic, type;
	int32_t pid;
	uint32_t seq; /* snapshot number, per process */
};

struct heap_begin {
	struct heap_head h;
	uint64_t heap_bytes; /* estimated live bytes of all samples */
	uint64_t rate;       /* mean bytes between samples */
	uint32_t nsites, nsamples;
	uint32_t flags;      /* HEAP_F_* */
	uint32_t frames_sum; /* frames of every sample taken ... */
	uint32_t taken;      /* ... and their number: the mean depth */
};

struct heap_site {
	uint64_t live_bytes, count; /* estimates */
	uint32_t nframes, pad;
	uint64_t frames[]; /* return addresses, innermost first */
};

#endif
