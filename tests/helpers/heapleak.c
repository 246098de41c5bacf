/*
 * heapleak: a program whose leak heap-watch must find by name.
 *   heapleak [-t THREADS] [-n ITERATIONS] [-s BYTES] [-f] [-e CMD] [-w MS]
 *            [-b] [-m MAX]
 * Each iteration leaks one block of BYTES (default 4096) in leak_record(),
 * stores one in a bounded cache (cache_store(), 256 entries, replaced),
 * and churns: 64 blocks of mixed sizes allocated and freed.  With -t the
 * work runs in THREADS threads that pass their churn to the next thread
 * to free (frees of each other's allocations).  A constructor keeps 2 MiB
 * from before main (early_table()).  -f forks a child that leaks in
 * child_leak() for a while; -e runs CMD through system() (an exec'd
 * child); -w waits MS at the end; -b (for benchmarks) neither sleeps nor
 * passes blocks between threads; -m MAX churns sizes of 16 to 16 + MAX
 * bytes (default 4000).  Prints the bytes leaked to stderr.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CACHE 256
#define QUEUE 1024

static long iterations = 20000, block = 4096;
void *early; /* read at the end: not optimised away */
static void **leaks;
static long nleaks;
static pthread_mutex_t leaks_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long sink;

struct queue {
	pthread_mutex_t lock;
	void *v[QUEUE];
	size_t n;
};
static struct queue queues[64];
static int nthreads = 1, bench;
static long churn_max = 4000; /* -m: churn sizes 16 .. 16 + this */

__attribute__((noinline, constructor)) static void
early_table(void)
{
	early = malloc(2 << 20);
	memset(early, 7, 2 << 20);
}

__attribute__((noinline)) static void
leak_record(void)
{
	void *p = malloc((size_t)block);

	memset(p, 1, (size_t)block);
	pthread_mutex_lock(&leaks_lock);
	leaks[nleaks++] = p; /* kept, never freed: the leak */
	pthread_mutex_unlock(&leaks_lock);
}

__attribute__((noinline)) static void
cache_store(void **cache, long i)
{
	void *p = malloc(2048);

	memset(p, 2, 2048);
	free(cache[i % CACHE]);
	cache[i % CACHE] = p;
}

/* Blocks for the next thread to free, or freed here when alone. */
__attribute__((noinline)) static void
churn(int self, long i)
{
	struct queue *q = &queues[(self + 1) % nthreads];
	void *v[64];
	int k;

	for (k = 0; k < 64; k++) {
		v[k] = malloc(16 + (size_t)((i * 7 + k * 131) % churn_max));
		sink += (unsigned long)(uintptr_t)v[k];
	}
	for (k = 0; k < 64; k++) {
		pthread_mutex_lock(&q->lock);
		if (nthreads > 1 && !bench && q->n < QUEUE) {
			q->v[q->n++] = v[k];
			v[k] = NULL;
		}
		pthread_mutex_unlock(&q->lock);
		free(v[k]);
	}
	q = &queues[self];
	pthread_mutex_lock(&q->lock);
	while (q->n > 0)
		free(q->v[--q->n]);
	pthread_mutex_unlock(&q->lock);
}

static void *
work(void *arg)
{
	int self = (int)(intptr_t)arg;
	void **cache = calloc(CACHE, sizeof(*cache));
	long i;

	for (i = self; i < iterations; i += nthreads) {
		leak_record();
		cache_store(cache, i);
		churn(self, i);
		if (i % 200 == 0 && !bench)
			usleep(1000);
	}
	for (i = 0; i < CACHE; i++)
		free(cache[i]);
	free(cache);
	return NULL;
}

__attribute__((noinline)) static void
child_leak(void)
{
	int i;

	for (i = 0; i < 2000; i++) {
		void *p = malloc(8192);

		memset(p, 3, 8192);
		sink += (unsigned long)(uintptr_t)p;
	}
	usleep(400000);
}

int
main(int argc, char **argv)
{
	pthread_t t[64];
	const char *command = NULL;
	int c, i, fork_child = 0, wait_ms = 0;
	pid_t child = 0;

	while ((c = getopt(argc, argv, "t:n:s:fe:w:bm:")) != -1) {
		switch (c) {
		case 'm':
			churn_max = atol(optarg);
			break;
		case 'b':
			bench = 1;
			break;
		case 't':
			nthreads = atoi(optarg);
			break;
		case 'n':
			iterations = atol(optarg);
			break;
		case 's':
			block = atol(optarg);
			break;
		case 'f':
			fork_child = 1;
			break;
		case 'e':
			command = optarg;
			break;
		case 'w':
			wait_ms = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (nthreads < 1 || nthreads > 64 || iterations < 1 || block < 1 ||
	    churn_max < 1)
		return 2;
	leaks = calloc((size_t)iterations, sizeof(*leaks));
	for (i = 0; i < nthreads; i++)
		pthread_mutex_init(&queues[i].lock, NULL);
	if (fork_child && (child = fork()) == 0) {
		child_leak();
		_exit(0);
	}
	if (command && system(command) != 0)
		fprintf(stderr, "heapleak: %s failed\n", command);
	for (i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, work, (void *)(intptr_t)i);
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	if (child > 0)
		waitpid(child, NULL, 0);
	if (wait_ms)
		usleep((useconds_t)wait_ms * 1000);
	fprintf(stderr, "heapleak: leaked %ld bytes (%d)\n", nleaks * block,
	        ((char *)early)[1]);
	return 0;
}
