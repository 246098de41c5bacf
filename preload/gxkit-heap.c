/*
 * libgxkit-heap.so: heap-watch's preload library.  It samples the
 * traced program's allocations by bytes, keeps the live samples with
 * their call stacks in tables mapped once at start, and sends heap-watch
 * a snapshot every interval over the socket named in $GXKIT_HEAP
 * (lib/heap_proto.h).  It owns nothing of the program's: it never
 * allocates through its own hooks, keeps errno, and whatever it cannot
 * do (a full table, a socket gone) it stops doing and says once.
 *
 * Sampling (as tcmalloc's and jemalloc's profilers): each thread counts
 * down an exponential draw of mean RATE bytes; an allocation of n bytes
 * that crosses zero is sampled with weight n / (1 - exp(-n/RATE)), the
 * inverse of its chance, so that live bytes per site are unbiased.  From
 * 16 RATE up every allocation is sampled at its true size.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <unwind.h>

#include "heap_proto.h"

#define EXPORT __attribute__((visibility("default")))
#define TLS    __attribute__((tls_model("initial-exec")))

/* Fixed memory, mapped at start (stated in heap-watch(1)). */
#define SAMPLES_CAP 65536 /* live samples; 3/4 of it used at most */
#define STACKS_CAP  8192  /* distinct stacks */
#define FILTER_BITS 18    /* the quick check on free: 256 KiB */
#define EXEC_CAP    512   /* executable segments, for the stack scan */
#define SCAN_WINDOW 65536 /* bytes of stack scanned at most */
#define BOOT_ARENA  16384 /* what dlsym allocates before malloc is known */
#define BIG_RATES   16    /* from BIG_RATES * rate up: always sampled */
#define ACK_WAIT_MS 2000

struct sample {
	uintptr_t addr;      /* 0: empty */
	float weight, count; /* estimated bytes and allocations */
	uint32_t stack;      /* index in stacks; 0 for none */
};

struct stack {
	uint32_t hash, nframes;
	double live, count; /* a snapshot's sums */
};

struct real_fns {
	void *(*malloc)(size_t);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void (*free)(void *);
	void *(*memalign)(size_t, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*malloc_usable_size)(void *);
};

struct exec_range {
	uintptr_t lo, hi;
};

static struct real_fns real;
static _Atomic int resolving; /* dlsym at work: serve from boot */
static _Atomic int state;     /* 0 new, 1 initialising, 2 ready */
static _Atomic int sampling;  /* samples are taken */
static _Atomic unsigned said; /* notes given once, by bit */
static int sock = -1;         /* to heap-watch */
static ino_t sock_ino;        /* ... and what it must still be */
static pid_t traced_pid;      /* the process the snapshots are of */
static uint64_t rate = 524288, big;
static unsigned depth = 16, flags;
static unsigned interval_ms = 1000;
static uintptr_t self_lo, self_hi; /* this library's text */

static char boot[BOOT_ARENA] __attribute__((aligned(16)));
static size_t boot_used;

static struct sample *samples;
static struct stack *stacks;
static uintptr_t *frames;        /* STACKS_CAP * depth */
static uint32_t *stack_index;    /* 2 * STACKS_CAP: stack number + 1 */
static uint8_t *filter_count;    /* samples per address hash (lock) */
static _Atomic uint64_t *filter; /* a bit each: count > 0, 32 KiB, what
                                  * every free reads */
/* What every sample writes, on cache lines of its own: the hooks' fast
 * path reads only lines that no other thread keeps writing. */
static struct {
	pthread_mutex_t lock;
	uint32_t nsamples;
	uint32_t nstacks; /* 0 is "no stack" */
	uint64_t frames_sum, taken;
	char pad[64];
} hot __attribute__((aligned(64))) = {.lock = PTHREAD_MUTEX_INITIALIZER,
                                      .nstacks = 1};
static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t exec_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t seq;

static struct exec_range execs[EXEC_CAP];
static unsigned nexecs;
static unsigned long long execs_adds = ~0ULL, execs_subs;

static __thread int busy TLS;           /* in the library: pass through */
static __thread uint64_t left TLS;      /* bytes to the next sample */
static __thread uint64_t rng TLS;       /* xorshift64* state; 0 unseeded */
static __thread uintptr_t stack_hi TLS; /* end of this thread's stack */

enum note_bit {
	NOTE_SAMPLES = 1,
	NOTE_STACKS = 2,
	NOTE_SOCKET = 4,
	NOTE_THREAD = 8,
	NOTE_MAPS = 16,
	NOTE_EXECS = 32
};

static void send_note(unsigned bit, const char *text);
static void head(struct heap_head *h, uint32_t type);

/* --- bootstrap ---------------------------------------------------------- */

static bool
in_boot(const void *p)
{
	return (const char *)p >= boot && (const char *)p < boot + BOOT_ARENA;
}

/* What dlsym allocates while the real functions are being found: never
 * freed, it is a few bytes once. */
static void *
boot_alloc(size_t n)
{
	size_t at = (boot_used + 15) & ~(size_t)15;

	if (at + n > BOOT_ARENA)
		return NULL;
	boot_used = at + n;
	return boot + at;
}

static void
resolve(void)
{
	atomic_store(&resolving, 1);
	real.malloc = dlsym(RTLD_NEXT, "malloc");
	real.calloc = dlsym(RTLD_NEXT, "calloc");
	real.realloc = dlsym(RTLD_NEXT, "realloc");
	real.free = dlsym(RTLD_NEXT, "free");
	real.memalign = dlsym(RTLD_NEXT, "memalign");
	real.posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
	real.aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
	real.valloc = dlsym(RTLD_NEXT, "valloc");
	real.pvalloc = dlsym(RTLD_NEXT, "pvalloc");
	real.malloc_usable_size = dlsym(RTLD_NEXT, "malloc_usable_size");
	atomic_store(&resolving, 0);
}

/* --- configuration and tables --------------------------------------------- */

static unsigned long
field(const char **s)
{
	unsigned long v = 0;

	while (**s >= '0' && **s <= '9')
		v = v * 10 + (unsigned long)(*(*s)++ - '0');
	if (**s == ':')
		(*s)++;
	return v;
}

/* $GXKIT_HEAP: fd:rate:depth:interval_ms:flags:pid.  False: not ours. */
static bool
configure(void)
{
	const char *s = getenv(HEAP_ENV);
	struct stat st;
	int fd;

	if (!s)
		return false;
	fd = (int)field(&s);
	rate = field(&s);
	depth = (unsigned)field(&s);
	interval_ms = (unsigned)field(&s);
	flags = (unsigned)field(&s);
	traced_pid = (pid_t)field(&s);
	if (rate == 0 || depth == 0 || depth > HEAP_DEPTH_MAX)
		return false;
	if (traced_pid != getpid() && !(flags & HEAP_F_CHILDREN))
		return false;
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	sock = fd;
	sock_ino = st.st_ino;
	big = rate * BIG_RATES;
	return true;
}

static void *
map_zeroed(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static bool
map_tables(void)
{
	samples = map_zeroed(SAMPLES_CAP * sizeof(*samples));
	stacks = map_zeroed(STACKS_CAP * sizeof(*stacks));
	frames = map_zeroed((size_t)STACKS_CAP * depth * sizeof(*frames));
	stack_index = map_zeroed(2 * STACKS_CAP * sizeof(*stack_index));
	if (!samples || !stacks || !frames || !stack_index)
		return false;
	if (!(filter_count = map_zeroed((size_t)1 << FILTER_BITS)))
		return false;
	/* last: a mapped filter says the tables are there */
	filter = map_zeroed(((size_t)1 << FILTER_BITS) / 8);
	return filter != NULL;
}

static int
find_self(struct dl_phdr_info *info, size_t size, void *data)
{
	uintptr_t here = (uintptr_t)data;
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    here >= lo && here < lo + ph->p_memsz) {
			self_lo = lo;
			self_hi = lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

/* Remove this library from LD_PRELOAD in place (no allocation), so that
 * the programs a process execs never load it. */
static void
strip_preload(void)
{
	char *v = getenv("LD_PRELOAD"), *p, *w;

	if (!v)
		return;
	for (p = w = v; *p;) {
		size_t n = strcspn(p, ": ");
		bool ours = n >= 16 && memmem(p, n, "libgxkit-heap.so", 16);

		if (!ours) {
			if (w != v)
				*w++ = ':';
			memmove(w, p, n);
			w += n;
		}
		p += n;
		p += strspn(p, ": ");
	}
	*w = '\0';
}

static void after_fork_child(void);
static void before_fork(void);
static void after_fork_parent(void);

static void
init(void)
{
	int expected = 0;

	if (!atomic_compare_exchange_strong(&state, &expected, 1))
		return;
	busy++;
	resolve();
	if (configure() && map_tables()) {
		dl_iterate_phdr(find_self, (void *)(uintptr_t)&init);
		pthread_atfork(before_fork, after_fork_parent,
		               after_fork_child);
		atomic_store(&sampling, 1);
	}
	if (!(flags & HEAP_F_CHILDREN))
		strip_preload();
	atomic_store(&state, 2);
	busy--;
}

enum phase { PHASE_BOOT, PHASE_PASS, PHASE_SAMPLE };

/* What a hook can do now: serve from boot while dlsym works, pass
 * through while another thread initialises, or sample. */
static inline enum phase
phase(void)
{
	int s = atomic_load_explicit(&state, memory_order_acquire);

	if (__builtin_expect(s == 2, 1))
		return PHASE_SAMPLE;
	if (s == 0 && !atomic_load(&resolving))
		init();
	if (atomic_load(&state) == 2)
		return PHASE_SAMPLE;
	return atomic_load(&resolving) || !real.free ? PHASE_BOOT : PHASE_PASS;
}

/* --- stacks --------------------------------------------------------------- */

/* libgcc_s's unwinder, found at load (glibc's own pthread_cancel needs
 * it, so a GX has it): linked in, it would need a newer glibc. */
static _Unwind_Reason_Code (*backtrace_fn)(_Unwind_Trace_Fn, void *);
static _Unwind_Ptr (*get_ip_fn)(struct _Unwind_Context *);

struct unwind_walk {
	uintptr_t *out;
	unsigned n, cap;
};

static _Unwind_Reason_Code
unwind_step(struct _Unwind_Context *ctx, void *data)
{
	struct unwind_walk *w = data;
	uintptr_t ip;

#if defined(__arm__) /* _Unwind_GetIP is a macro over this, there */
	uint32_t pc = 0;

	((_Unwind_VRS_Result(*)(struct _Unwind_Context *, _Unwind_VRS_RegClass,
	                        uint32_t, _Unwind_VRS_DataRepresentation,
	                        void *))(void *)get_ip_fn)(ctx, _UVRSC_CORE, 15,
	                                                   _UVRSD_UINT32, &pc);
	ip = pc & ~(uintptr_t)1;
#else
	ip = (uintptr_t)get_ip_fn(ctx);
#endif

	if (ip == 0)
		return _URC_END_OF_STACK;
	if (ip >= self_lo && ip < self_hi)
		return _URC_NO_REASON;
	w->out[w->n++] = ip;
	return w->n < w->cap ? _URC_NO_REASON : _URC_END_OF_STACK;
}

/* inlined, as record() is: every frame of ours costs the unwinder a
 * table lookup before the first frame that counts */
static inline __attribute__((always_inline)) unsigned
unwind_eh(uintptr_t *out, unsigned cap)
{
	struct unwind_walk w = {out, 0, cap};

	if (backtrace_fn)
		backtrace_fn(unwind_step, &w);
	return w.n;
}

static bool
find_unwinder(void)
{
	void *h = dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return false;
	*(void **)&backtrace_fn = dlsym(h, "_Unwind_Backtrace");
#if defined(__arm__)
	*(void **)&get_ip_fn = dlsym(h, "_Unwind_VRS_Get");
#else
	*(void **)&get_ip_fn = dlsym(h, "_Unwind_GetIP");
#endif
	if (!backtrace_fn || !get_ip_fn)
		backtrace_fn = NULL;
	return backtrace_fn != NULL;
}

static int
add_execs(struct dl_phdr_info *info, size_t size, void *data)
{
	int i;

	(void)size;
	(void)data;
	for (i = 0; i < info->dlpi_phnum && nexecs < EXEC_CAP; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    (ph->p_flags & PF_R)) {
			execs[nexecs].lo = info->dlpi_addr + ph->p_vaddr;
			execs[nexecs].hi = execs[nexecs].lo + ph->p_memsz;
			nexecs++;
		}
	}
	if (nexecs == EXEC_CAP)
		send_note(NOTE_EXECS, "more than 512 executable segments: the "
		                      "stack scan sees the first 512");
	execs_adds = info->dlpi_adds;
	execs_subs = info->dlpi_subs;
	return 0;
}

static int
loaded_changed(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	*(bool *)data =
	    info->dlpi_adds != execs_adds || info->dlpi_subs != execs_subs;
	return 1;
}

/* The executable segments of what is loaded now, by address (under
 * exec_lock). */
static void
refresh_execs(void)
{
	bool changed = false;
	unsigned i, j;

	dl_iterate_phdr(loaded_changed, &changed);
	if (!changed)
		return;
	nexecs = 0;
	dl_iterate_phdr(add_execs, NULL);
	for (i = 1; i < nexecs; i++) {
		struct exec_range r = execs[i];

		for (j = i; j > 0 && execs[j - 1].lo > r.lo; j--)
			execs[j] = execs[j - 1];
		execs[j] = r;
	}
}

/* In a segment, far enough in that the call before it can be read. */
static bool
executable(uintptr_t a)
{
	unsigned lo = 0, hi = nexecs;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (a < execs[mid].lo)
			hi = mid;
		else if (a >= execs[mid].hi)
			lo = mid + 1;
		else
			return a >= execs[mid].lo + 8;
	}
	return false;
}

/* Does the code just before return address ra call? */
static bool
after_call(uintptr_t ra)
{
#if defined(__arm__)
	if (ra & 1) { /* Thumb: BL/BLX imm (32 bits) or BLX reg (16) */
		const uint16_t *hw = (const uint16_t *)(ra - 1);

		if ((hw[-2] & 0xF800) == 0xF000 && (hw[-1] & 0xC000) == 0xC000)
			return true;
		return (hw[-1] & 0xFF87) == 0x4780;
	}
	if (ra & 3)
		return false;
	{
		uint32_t insn = ((const uint32_t *)ra)[-1];

		return (insn & 0x0F000000) == 0x0B000000 || /* BL */
		       (insn & 0xFE000000) == 0xFA000000 || /* BLX imm */
		       (insn & 0x0FFFFFF0) == 0x012FFF30;   /* BLX reg */
	}
#elif defined(__aarch64__)
	uint32_t insn;

	if (ra & 3)
		return false;
	insn = ((const uint32_t *)ra)[-1];
	return (insn & 0xFC000000) == 0x94000000 || /* BL */
	       (insn & 0xFFFFFC1F) == 0xD63F0000;   /* BLR */
#elif defined(__x86_64__) || defined(__i386__)
	const uint8_t *c = (const uint8_t *)ra;

	if (c[-5] == 0xE8) /* call rel32 */
		return true;
	/* call r/m: FF /2 with a 0-, 1-, 4- or 5-byte tail */
	return (c[-2] == 0xFF && (c[-1] & 0x38) == 0x10) ||
	       (c[-3] == 0xFF && (c[-2] & 0x38) == 0x10) ||
	       (c[-6] == 0xFF && (c[-5] & 0x38) == 0x10) ||
	       (c[-7] == 0xFF && (c[-6] & 0x38) == 0x10);
#else
	(void)ra;
	return false;
#endif
}

/* The end of the mapping that holds sp, from /proc/self/maps read into a
 * buffer on the stack: once per thread. */
static uintptr_t
stack_end(uintptr_t sp)
{
	char buf[4096];
	size_t have = 0;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	uintptr_t end = 0;

	if (fd < 0)
		return 0;
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *line = buf, *nl;

		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		while ((nl = strchr(line, '\n'))) {
			char *dash;
			uintptr_t lo = strtoul(line, &dash, 16);
			uintptr_t hi = strtoul(dash + 1, NULL, 16);

			if (sp >= lo && sp < hi)
				end = hi;
			line = nl + 1;
		}
		have = (size_t)(buf + have - line);
		memmove(buf, line, have);
		if (end)
			break;
	}
	close(fd);
	return end;
}

/* The words on the stack that are return addresses: in an executable
 * segment, just after a call instruction (as crash reporters scan). */
static unsigned
unwind_scan(uintptr_t sp, uintptr_t *out, unsigned cap)
{
	uintptr_t top, *w;
	unsigned n = 0;

	if (!stack_hi)
		stack_hi = stack_end(sp);
	if (!stack_hi || stack_hi <= sp) {
		send_note(NOTE_MAPS, "a thread's stack is not in /proc/self/"
		                     "maps: its samples have no stack");
		return 0;
	}
	top = stack_hi - sp > SCAN_WINDOW ? sp + SCAN_WINDOW : stack_hi;
	pthread_mutex_lock(&exec_lock);
	refresh_execs();
	for (w = (uintptr_t *)sp; (uintptr_t)(w + 1) <= top && n < cap; w++) {
		uintptr_t ra = *w;

		if (ra >= self_lo && ra < self_hi)
			continue;
		if (executable(ra) && after_call(ra))
			out[n++] = ra;
	}
	pthread_mutex_unlock(&exec_lock);
	return n;
}

static uint32_t
hash_frames(const uintptr_t *f, unsigned n)
{
	uint64_t h = 1469598103934665603ULL;
	unsigned i;

	for (i = 0; i < n; i++)
		h = (h ^ (uint64_t)f[i]) * 1099511628211ULL;
	return (uint32_t)(h ^ (h >> 32)) | 1;
}

/* The stack's number (under lock); 0 when the table is full. */
static uint32_t
intern(const uintptr_t *f, unsigned n)
{
	uint32_t h = hash_frames(f, n), mask = 2 * STACKS_CAP - 1, i, id;

	for (i = h & mask;; i = (i + 1) & mask) {
		id = stack_index[i];
		if (id == 0)
			break;
		if (stacks[id - 1].hash == h && stacks[id - 1].nframes == n &&
		    memcmp(frames + (size_t)(id - 1) * depth, f,
		           n * sizeof(*f)) == 0)
			return id - 1;
	}
	if (hot.nstacks == STACKS_CAP) {
		send_note(NOTE_STACKS, "8192 call stacks: new stacks count "
		                       "as other");
		return 0;
	}
	id = hot.nstacks++;
	stacks[id].hash = h;
	stacks[id].nframes = n;
	memcpy(frames + (size_t)id * depth, f, n * sizeof(*f));
	stack_index[i] = id + 1;
	return id;
}

/* --- live samples -----------------------------------------------------------
 */

static inline uint32_t
addr_hash(uintptr_t a)
{
	uint64_t h = (uint64_t)a * 0x9E3779B97F4A7C15ULL;

	return (uint32_t)(h >> 32);
}

/* The filter's bit for address a: the address itself, in 16-byte
 * granules (malloc's alignment), modulo 4 MiB: the frees of blocks near
 * each other read the same cache lines, where a hash would miss them. */
static inline uint32_t
filter_bit(uintptr_t a)
{
	return (uint32_t)(a >> 4) & (((uint32_t)1 << FILTER_BITS) - 1);
}

static inline bool
maybe_sampled(const void *p)
{
	uint32_t f = filter_bit((uintptr_t)p);

	return (atomic_load_explicit(&filter[f / 64], memory_order_relaxed) >>
	        (f % 64)) &
	       1;
}

/* (under lock) */
static void
filter_add(uintptr_t a, int d)
{
	uint32_t f = filter_bit(a);
	uint8_t v = filter_count[f];
	uint64_t bit = (uint64_t)1 << (f % 64);

	if (v == 255) /* saturated: stays a "maybe" */
		return;
	filter_count[f] = (uint8_t)(v + d);
	if (v == 0 && d > 0)
		atomic_fetch_or_explicit(&filter[f / 64], bit,
		                         memory_order_relaxed);
	else if (v == 1 && d < 0)
		atomic_fetch_and_explicit(&filter[f / 64], ~bit,
		                          memory_order_relaxed);
}

/* Linear probing with backward-shift deletion: no tombstones. */
static uint32_t
slot_of(uintptr_t a)
{
	uint32_t i, mask = SAMPLES_CAP - 1;

	for (i = addr_hash(a) & mask; samples[i].addr; i = (i + 1) & mask)
		if (samples[i].addr == a)
			return i;
	return i;
}

static void
remove_slot(uint32_t i)
{
	uint32_t mask = SAMPLES_CAP - 1, j = i, k;

	filter_add(samples[i].addr, -1);
	hot.nsamples--;
	for (;;) {
		samples[i].addr = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (!samples[j].addr)
				return;
			k = addr_hash(samples[j].addr) & mask;
			/* move j back to i unless its home lies in (i, j] */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		samples[i] = samples[j];
		i = j;
	}
}

static void
forget(const void *p)
{
	int nested = busy++;
	uint32_t i;

	/* nested: inside the library on this thread, maybe holding the lock
	 * (a free from a signal handler that interrupted it): never waited
	 * for, the sample left counted */
	if (nested && pthread_mutex_trylock(&hot.lock) != 0) {
		busy--;
		return;
	}
	if (!nested)
		pthread_mutex_lock(&hot.lock);
	i = slot_of((uintptr_t)p);
	if (samples[i].addr)
		remove_slot(i);
	pthread_mutex_unlock(&hot.lock);
	busy--;
}

static void
keep(uintptr_t a, double weight, double count, const uintptr_t *f, unsigned n)
{
	uint32_t i;

	pthread_mutex_lock(&hot.lock);
	i = slot_of(a);
	if (samples[i].addr) { /* freed behind our back (RTLD_DEEPBIND) */
		remove_slot(i);
		i = slot_of(a);
	}
	if (hot.nsamples >= SAMPLES_CAP / 4 * 3) {
		atomic_store(&sampling, 0);
		pthread_mutex_unlock(&hot.lock);
		send_note(NOTE_SAMPLES, "49152 live samples: sampling stopped "
		                        "(raise --rate)");
		return;
	}
	samples[i].addr = a;
	samples[i].weight = (float)weight;
	samples[i].count = (float)count;
	samples[i].stack = intern(f, n);
	hot.frames_sum += n;
	hot.taken++;
	hot.nsamples++;
	filter_add(a, 1);
	pthread_mutex_unlock(&hot.lock);
}

/* --- sampling ---------------------------------------------------------------
 */

static uint64_t
draw(void)
{
	double u;

	if (rng == 0)
		rng = ((uint64_t)(uintptr_t)&rng * 0x9E3779B97F4A7C15ULL) ^
		      (uint64_t)time(NULL) ^ 0x2545F4914F6CDD1DULL;
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	u = (double)((rng * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
	return (uint64_t)(-log(1.0 - u) * (double)rate) + 1;
}

/* Is an allocation of n bytes sampled?  The fast path is one compare. */
static inline bool
crosses(size_t n)
{
	if (__builtin_expect(left > n, 1)) {
		left -= n;
		return false;
	}
	return true;
}

/* start: the hook's frame, where the scan begins (below it is only this
 * library's own, with stale words of its earlier calls). */
static inline __attribute__((always_inline)) void
record(void *p, size_t n, uintptr_t start)
{
	uintptr_t f[HEAP_DEPTH_MAX];
	unsigned nf;
	double weight, count;

	if (!p || !atomic_load_explicit(&sampling, memory_order_relaxed))
		return;
	if (n < big) {
		bool first = left == 0 && rng == 0;

		left = draw();
		if (first && left > n) { /* the first draw, not a crossing */
			left -= n;
			return;
		}
		weight = (double)n / -expm1(-(double)n / (double)rate);
	} else {
		weight = (double)n;
	}
	count = n ? weight / (double)n : weight;
	nf = (flags & HEAP_F_SCAN) ? unwind_scan(start, f, depth)
	                           : unwind_eh(f, depth);
	keep((uintptr_t)p, weight, count, f, nf);
}

/* After the real call: sample p, keeping errno as the call left it. */
static inline void
unsample(void *p)
{
	if (p && filter && maybe_sampled(p)) {
		int e = errno;

		forget(p);
		errno = e;
	}
}

#define HOOK_FRAME ((uintptr_t)__builtin_frame_address(0) - 2 * sizeof(void *))

/* The body of a hook that allocates: ON_BOOT while dlsym works, the real
 * CALL while another thread initialises, else CALL sampled as N bytes.
 * A macro, so that HOOK_FRAME is the hook's own frame. */
#define ALLOC_HOOK(on_boot, call, n)                                           \
	do {                                                                   \
		switch (phase()) {                                             \
		case PHASE_BOOT:                                               \
			return on_boot;                                        \
		case PHASE_PASS:                                               \
			return call;                                           \
		case PHASE_SAMPLE:                                             \
			break;                                                 \
		}                                                              \
		return sampled(call, n, HOOK_FRAME);                           \
	} while (0)

static inline void *
sampled(void *p, size_t n, uintptr_t start)
{
	int e;

	/* a sampled address handed out again was freed past the hooks (a
	 * library bound with RTLD_DEEPBIND frees through its own libc) */
	if (__builtin_expect(p != NULL && filter != NULL && maybe_sampled(p),
	                     0))
		unsample(p);
	if (busy || __builtin_expect(!crosses(n) && n < big, 1))
		return p;
	e = errno;
	busy++;
	record(p, n, start);
	busy--;
	errno = e;
	return p;
}

/* --- the interposed functions
 * ------------------------------------------------- */

EXPORT void *
malloc(size_t n)
{
	ALLOC_HOOK(boot_alloc(n), real.malloc(n), n);
}

EXPORT void *
calloc(size_t k, size_t n)
{
	size_t bytes;

	if (__builtin_mul_overflow(k, n, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	/* boot's arena is static: zeroed */
	ALLOC_HOOK(boot_alloc(bytes), real.calloc(k, n), bytes);
}

EXPORT void
free(void *p)
{
	if (!p || in_boot(p))
		return;
	/* the fast path: the filter is mapped only once init has found the
	 * real functions */
	if (__builtin_expect(filter != NULL, 1)) {
		if (__builtin_expect(maybe_sampled(p), 0))
			unsample(p);
		real.free(p);
		return;
	}
	switch (phase()) {
	case PHASE_BOOT:
		return; /* cannot be: nothing was allocated but boot */
	case PHASE_PASS:
		real.free(p);
		return;
	case PHASE_SAMPLE:
		break;
	}
	unsample(p);
	real.free(p);
}

EXPORT void *
realloc(void *p, size_t n)
{
	void *q;

	if (in_boot(p)) {
		size_t avail = (size_t)(boot + BOOT_ARENA - (char *)p);

		q = malloc(n);
		if (q)
			memcpy(q, p, n < avail ? n : avail);
		return q;
	}
	switch (phase()) {
	case PHASE_BOOT:
		return boot_alloc(n);
	case PHASE_PASS:
		return real.realloc(p, n);
	case PHASE_SAMPLE:
		break;
	}
	unsample(p);
	q = real.realloc(p, n);
	return n ? sampled(q, n, HOOK_FRAME) : q;
}

EXPORT void *
reallocarray(void *p, size_t k, size_t n)
{
	size_t bytes;

	if (__builtin_mul_overflow(k, n, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, bytes);
}

EXPORT void *
memalign(size_t align, size_t n)
{
	ALLOC_HOOK(NULL, real.memalign(align, n), n);
}

EXPORT int
posix_memalign(void **out, size_t align, size_t n)
{
	int rc;

	switch (phase()) {
	case PHASE_BOOT:
		return ENOMEM;
	case PHASE_PASS:
		return real.posix_memalign(out, align, n);
	case PHASE_SAMPLE:
		break;
	}
	rc = real.posix_memalign(out, align, n);
	if (rc == 0)
		sampled(*out, n, HOOK_FRAME);
	return rc;
}

EXPORT void *
aligned_alloc(size_t align, size_t n)
{
	ALLOC_HOOK(NULL, real.aligned_alloc(align, n), n);
}

EXPORT void *
valloc(size_t n)
{
	ALLOC_HOOK(NULL, real.valloc(n), n);
}

EXPORT void *
pvalloc(size_t n)
{
	ALLOC_HOOK(NULL, real.pvalloc(n), n);
}

EXPORT size_t
malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (in_boot(p) || phase() == PHASE_BOOT)
		return 0;
	return real.malloc_usable_size(p);
}

/* --- snapshots
 * ---------------------------------------------------------------- */

/* Sent whole, to the socket heap-watch gave, or not at all: a descriptor
 * the program closed and reused is never written. */
static bool
send_msg(const void *m, size_t n)
{
	struct stat st;
	ssize_t sent = -1;

	if (sock < 0)
		return false;
	if (fstat(sock, &st) == 0 && st.st_ino == sock_ino &&
	    S_ISSOCK(st.st_mode))
		do /* a signal the program handles, without SA_RESTART */
			sent = send(sock, m, n, MSG_NOSIGNAL);
		while (sent < 0 && errno == EINTR);
	if (sent != (ssize_t)n) {
		sock = -1;
		atomic_store(&sampling, 0);
		if (!(atomic_fetch_or(&said, NOTE_SOCKET) & NOTE_SOCKET)) {
			static const char msg[] =
			    "libgxkit-heap: heap-watch is "
			    "gone: tracing stopped\n";

			if (write(2, msg, sizeof(msg) - 1) < 0)
				return false;
		}
		return false;
	}
	return true;
}

static void
head(struct heap_head *h, uint32_t type)
{
	h->magic = HEAP_MAGIC;
	h->type = type;
	h->pid = getpid();
	h->seq = seq;
}

static void
send_note(unsigned bit, const char *text)
{
	char m[512];
	size_t n = strlen(text);

	if (atomic_fetch_or(&said, bit) & bit)
		return;
	if (n > sizeof(m) - sizeof(struct heap_head))
		n = sizeof(m) - sizeof(struct heap_head);
	head((struct heap_head *)(void *)m, HEAP_MSG_NOTE);
	memcpy(m + sizeof(struct heap_head), text, n);
	send_msg(m, sizeof(struct heap_head) + n);
}

/* The executable file mappings, from /proc/self/maps, whole lines in
 * messages: heap-watch names frames by them. */
static bool
send_maps(void)
{
	char in[4096], m[HEAP_MSG_MAX];
	size_t have = 0, used = sizeof(struct heap_head);
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	bool ok = true;
	ssize_t n;

	if (fd < 0)
		return true;
	head((struct heap_head *)(void *)m, HEAP_MSG_MAPS);
	while (ok && (n = read(fd, in + have, sizeof(in) - have)) > 0) {
		char *line = in, *nl;

		have += (size_t)n;
		while ((nl = memchr(line, '\n', have - (size_t)(line - in)))) {
			size_t len = (size_t)(nl - line) + 1;
			char *sp = memchr(line, ' ', len);

			if (sp && sp + 3 < nl && sp[3] == 'x' &&
			    memchr(line, '/', len)) {
				if (used + len > sizeof(m)) {
					ok = send_msg(m, used);
					used = sizeof(struct heap_head);
				}
				if (len <= sizeof(m) - used) {
					memcpy(m + used, line, len);
					used += len;
				}
			}
			line = nl + 1;
		}
		have -= (size_t)(line - in);
		memmove(in, line, have);
		if (have == sizeof(in)) /* a line longer than the buffer */
			have = 0;
	}
	close(fd);
	return ok && (used == sizeof(struct heap_head) || send_msg(m, used));
}

/* Sums per stack of the live samples (under lock). */
static void
tally(struct heap_begin *b)
{
	uint32_t i;

	for (i = 0; i < hot.nstacks; i++)
		stacks[i].live = stacks[i].count = 0;
	for (i = 0; i < SAMPLES_CAP; i++) {
		struct sample *s = &samples[i];

		if (!s->addr)
			continue;
		stacks[s->stack].live += s->weight;
		stacks[s->stack].count += s->count;
		b->heap_bytes += (uint64_t)s->weight;
	}
	for (i = 0; i < hot.nstacks; i++)
		if (stacks[i].live > 0)
			b->nsites++;
	b->nsamples = hot.nsamples;
	b->frames_sum = (uint32_t)hot.frames_sum;
	b->taken = (uint32_t)hot.taken;
}

static bool
send_sites(uint32_t n)
{
	uint64_t m[HEAP_MSG_MAX / 8];
	size_t used = sizeof(struct heap_head);
	uint32_t i;

	head((struct heap_head *)m, HEAP_MSG_SITES);
	for (i = 0; i < n; i++) {
		struct heap_site *s;
		size_t size, k;

		if (stacks[i].live <= 0)
			continue;
		size = sizeof(*s) + stacks[i].nframes * sizeof(uint64_t);
		if (used + size > sizeof(m)) {
			if (!send_msg(m, used))
				return false;
			used = sizeof(struct heap_head);
		}
		s = (struct heap_site *)(void *)((char *)m + used);
		s->live_bytes = (uint64_t)stacks[i].live;
		s->count = (uint64_t)(stacks[i].count + 0.5);
		s->nframes = stacks[i].nframes;
		s->pad = 0;
		for (k = 0; k < s->nframes; k++)
			s->frames[k] = frames[(size_t)i * depth + k];
		used += size;
	}
	return used == sizeof(struct heap_head) || send_msg(m, used);
}

/* heap-watch acknowledges a final snapshot once it has read our maps,
 * which vanish when the process exits. */
static void
wait_ack(void)
{
	struct pollfd p = {.fd = sock, .events = POLLIN};
	struct heap_head h;

	if (poll(&p, 1, ACK_WAIT_MS) == 1)
		(void)!recv(sock, &h, sizeof(h), MSG_DONTWAIT);
}

static void
snapshot(bool final)
{
	struct heap_begin b;
	struct heap_head end;
	uint32_t n;

	if (sock < 0)
		return;
	memset(&b, 0, sizeof(b));
	pthread_mutex_lock(&snap_lock);
	seq++;
	head(&b.h, HEAP_MSG_BEGIN);
	b.rate = rate;
	b.flags = flags | (final ? HEAP_F_FINAL : 0);
	pthread_mutex_lock(&hot.lock);
	tally(&b);
	n = hot.nstacks;
	pthread_mutex_unlock(&hot.lock);
	/* the sums stay put: only this function, under snap_lock, writes
	 * them; new stacks past n wait for the next snapshot */
	head(&end, HEAP_MSG_END);
	end.type = HEAP_MSG_END;
	if (send_msg(&b, sizeof(b)) && send_maps() && send_sites(n) &&
	    send_msg(&end, sizeof(end)) && final)
		wait_ack();
	pthread_mutex_unlock(&snap_lock);
}

static void *
snapshots(void *arg)
{
	struct timespec ts = {interval_ms / 1000,
	                      (long)(interval_ms % 1000) * 1000000L};

	(void)arg;
	busy++; /* this thread's own allocations are not the program's */
	while (sock >= 0) {
		nanosleep(&ts, NULL);
		snapshot(false);
	}
	return NULL;
}

static void
start_thread(void)
{
	pthread_attr_t a;
	pthread_t t;
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 65536);
	if (pthread_create(&t, &a, snapshots, NULL) != 0)
		send_note(NOTE_THREAD, "no snapshot thread: only the final "
		                       "snapshot is sent");
	pthread_attr_destroy(&a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void
before_fork(void)
{
	pthread_mutex_lock(&snap_lock);
	pthread_mutex_lock(&exec_lock);
	pthread_mutex_lock(&hot.lock);
}

static void
after_fork_parent(void)
{
	pthread_mutex_unlock(&hot.lock);
	pthread_mutex_unlock(&exec_lock);
	pthread_mutex_unlock(&snap_lock);
}

/* A fork child is traced only with --children; else it drops the
 * library's work and what it would hand on to exec'd programs. */
static void
after_fork_child(void)
{
	pthread_mutex_init(&hot.lock, NULL);
	pthread_mutex_init(&exec_lock, NULL);
	pthread_mutex_init(&snap_lock, NULL);
	if (!(flags & HEAP_F_CHILDREN)) {
		atomic_store(&sampling, 0);
		sock = -1;
		strip_preload();
		return;
	}
	seq = 0;
	stack_hi = 0;
	busy++;
	start_thread();
	busy--;
}

__attribute__((constructor)) static void
on_load(void)
{
	int e = errno;

	init();
	if (atomic_load(&sampling)) {
		busy++;
		if (flags & HEAP_F_SCAN) { /* prime what the scan reads */
			pthread_mutex_lock(&exec_lock);
			refresh_execs();
			pthread_mutex_unlock(&exec_lock);
		} else if (find_unwinder()) { /* its first use allocates */
			uintptr_t f[4];

			unwind_eh(f, 4);
		} else {
			flags = (flags & ~(unsigned)HEAP_F_EH) | HEAP_F_SCAN;
			send_note(NOTE_THREAD,
			          "no libgcc_s.so.1 to unwind with: "
			          "stacks by scanning");
		}
		start_thread();
		busy--;
	}
	errno = e;
}

__attribute__((destructor)) static void
on_unload(void)
{
	int e = errno;

	if (sock >= 0) {
		busy++;
		snapshot(true);
		busy--;
	}
	errno = e;
}
