/*
 * maphog: a process whose growth lives in one kind of mapping, for
 * rss-watch --maps and leak-classify's "where".
 *
 *   maphog heap   --rate KB/s        small mallocs kept: the brk heap
 *   maphog anon   --rate KB/s        256 KiB mallocs kept, above glibc's
 *                                    mmap threshold: anonymous mappings
 *   maphog arenas --every S [--kb K] a new thread every S seconds, each
 *                                    allocating K KiB (default 2048) in
 *                                    small chunks in its own arena, then
 *                                    idle: arenas multiply, each flat
 *   maphog file   --rate KB/s --file PATH
 *                                    a shared mapping of PATH (made 256
 *                                    MiB long) read page by page
 *   maphog fragment --rate KB/s [--alloc-log FILE]
 *                                    the brk heap grows while the live
 *                                    allocations hardly do: a working set
 *                                    that peaks a little higher each time
 *                                    is freed under a small block kept on
 *                                    top of it, which pins the heap at
 *                                    the peak; FILE gets {"ts",
 *                                    "alloc_kb"} lines of glibc's own
 *                                    count of bytes in use (mallinfo2's
 *                                    uordblks)
 *
 * --for S ends it after S seconds (default: until signalled).
 */
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define TICK_S      0.02
#define FILE_BYTES  (256UL << 20)
#define MAX_THREADS 64

struct params {
	const char *mode, *file, *alloc_log;
	double rate_kb, every_s, kb, for_s;
};

static volatile sig_atomic_t done;

static void
on_term(int sig)
{
	(void)sig;
	done = 1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
tick(void)
{
	struct timespec ts = {0, (long)(TICK_S * 1e9)};

	nanosleep(&ts, NULL);
}

/* Keep kb KiB in chunks of chunk bytes, every byte written; what does
 * not make a whole chunk is owed to the next call. */
static void
keep(double kb, size_t chunk)
{
	static double owed;
	size_t n, i;

	owed += kb * 1024;
	n = (size_t)(owed / (double)chunk);
	owed -= (double)n * (double)chunk;
	for (i = 0; i < n; i++) {
		char *p = malloc(chunk);

		if (p == NULL)
			exit(1);
		memset(p, 0x5a, chunk);
	}
}

/* A working set kb KiB higher than the last, in 2 KiB blocks (past
 * tcache), freed under a 32-byte block kept on top. */
static void
fragment(double kb)
{
	static char *blocks[65536];
	static double peak_kb;
	size_t n, i;
	char *pin;

	peak_kb += kb;
	n = (size_t)(peak_kb / 2);
	if (n > sizeof(blocks) / sizeof(blocks[0]))
		n = sizeof(blocks) / sizeof(blocks[0]);
	for (i = 0; i < n; i++)
		if ((blocks[i] = malloc(2048)) != NULL)
			memset(blocks[i], 0x5a, 2048);
	if ((pin = malloc(32)) != NULL)
		memset(pin, 0x5a, 32);
	for (i = 0; i < n; i++)
		free(blocks[i]);
}

static void
log_allocs(FILE *fp)
{
	struct mallinfo2 mi = mallinfo2();
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(fp, "{\"ts\":%.3f,\"src\":\"maphog\",\"alloc_kb\":%.1f}\n",
	        (double)ts.tv_sec + (double)ts.tv_nsec / 1e9,
	        (double)mi.uordblks / 1024);
	fflush(fp);
}

static void *
arena_thread(void *arg)
{
	const struct params *p = arg;

	size_t i, n = (size_t)(p->kb * 2); /* 512-byte chunks */
	char *q;

	for (i = 0; i < n; i++) /* a thread's first malloc makes its arena */
		if ((q = malloc(512)) != NULL)
			memset(q, 0x5a, 512);
	while (!done)
		tick();
	return NULL;
}

static char *
map_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	char *m;

	if (fd < 0 || ftruncate(fd, (off_t)FILE_BYTES) < 0) {
		perror(path);
		exit(1);
	}
	m = mmap(NULL, FILE_BYTES, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return m;
}

static int
run(struct params *p)
{
	double start = now_s(), last = start, read_kb = 0;
	pthread_t threads[MAX_THREADS];
	int nthreads = 0;
	char *file = p->file ? map_file(p->file) : NULL;
	volatile char sink = 0;
	FILE *allocs = p->alloc_log ? fopen(p->alloc_log, "w") : NULL;
	double logged = 0;

	if (p->alloc_log != NULL && allocs == NULL) {
		perror(p->alloc_log);
		return 1;
	}
	while (!done && (p->for_s <= 0 || now_s() - start < p->for_s)) {
		double t = now_s(), dt = t - last, kb = p->rate_kb * dt;

		last = t;
		if (strcmp(p->mode, "heap") == 0)
			keep(kb, 64);
		else if (strcmp(p->mode, "anon") == 0)
			keep(kb, 256 << 10);
		else if (strcmp(p->mode, "fragment") == 0)
			fragment(kb);
		else if (strcmp(p->mode, "file") == 0)
			for (; read_kb < (t - start) * p->rate_kb &&
			       read_kb * 1024 < FILE_BYTES;
			     read_kb += 4)
				sink ^= file[(size_t)read_kb * 1024];
		else if (nthreads < MAX_THREADS &&
		         t - start >= nthreads * p->every_s) {
			if (pthread_create(&threads[nthreads], NULL,
			                   arena_thread, p) != 0)
				return 1;
			nthreads++;
		}
		if (allocs != NULL && t - logged >= 0.1) {
			log_allocs(allocs);
			logged = t;
		}
		tick();
	}
	done = 1;
	if (allocs != NULL)
		fclose(allocs);
	while (nthreads > 0)
		pthread_join(threads[--nthreads], NULL);
	(void)sink;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longs[] = {
	    {"rate", required_argument, NULL, 'r'},
	    {"every", required_argument, NULL, 'e'},
	    {"kb", required_argument, NULL, 'k'},
	    {"file", required_argument, NULL, 'f'},
	    {"for", required_argument, NULL, 't'},
	    {"alloc-log", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0}};
	struct params p = {.kb = 2048, .every_s = 0.5};
	int c;

	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'r':
			p.rate_kb = atof(optarg);
			break;
		case 'e':
			p.every_s = atof(optarg);
			break;
		case 'k':
			p.kb = atof(optarg);
			break;
		case 'f':
			p.file = optarg;
			break;
		case 't':
			p.for_s = atof(optarg);
			break;
		case 'a':
			p.alloc_log = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc ||
	    (strcmp(argv[optind], "file") == 0 && p.file == NULL)) {
		fprintf(stderr,
		        "usage: maphog heap|anon|arenas|file|fragment ...\n");
		return 2;
	}
	p.mode = argv[optind];
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	return run(&p);
}
