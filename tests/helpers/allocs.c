/*
 * allocs: a C program whose glibc malloc heap does what its mode says, for
 * the real-allocator corpus (tests/bench/realcorpus.py) and the CLI tests.
 * Its truth is in how it is written: only `leak` and `leak-late` keep
 * memory they can no longer reach.
 *
 *   allocs churn      objects of a program's sizes (16 B to 16 KiB, most
 *                     small) made and freed; the live set wanders about a
 *                     mean
 *   allocs leak       churn, and RATE KiB a second kept for good
 *   allocs leak-late  churn; the leak starts after a third of the time
 *   allocs cache      a cache filled to its bound, then entries replaced
 *   allocs frag       rounds of small objects, all but every 16th freed
 *                     at once, the survivors two rounds later: holes the
 *                     heap cannot give back; the live set is bounded
 *   allocs threads    a thread started every 1.5 s, up to 12, each
 *                     churning on its own: arenas multiply, then hold
 *
 *   --seed N   the random sizes, lifetimes and rates (default 1)
 *   --for S    run S seconds (default 60)
 *   --rate K   the leak, KiB a second (default from the seed, 8 to 64)
 *   --live K   the mean live set of churn, KiB (default from the seed)
 */
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TICK_US 20000 /* 50 ticks a second */
/* A busy program's allocations, 20,000 a second: its heap reaches its
 * working size in the first seconds, as a field process's does in the
 * first hours of the day it is judged over. */
#define CHURN_OPS 400
#define SLOTS     65536

struct params {
	const char *mode;
	uint64_t seed;
	double for_s, rate_kb, live_kb;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*, one per thread */
static uint64_t
next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static double
uniform(uint64_t *s)
{
	return (double)(next(s) >> 11) / 9007199254740992.0;
}

/* The sizes a program's structs, strings and buffers come in: most of
 * them small, a few buffers of pages */
static size_t
object_size(uint64_t *s)
{
	static const size_t sizes[] = {16,  24,  32,  48,   64,   96,   128,
	                               192, 256, 512, 1024, 2048, 4096, 16384};
	double u = uniform(s);

	return sizes[(size_t)(u * u *
	                      (double)(sizeof(sizes) / sizeof(sizes[0])))];
}

static void *
touched(size_t n)
{
	char *p = malloc(n);

	if (p == NULL)
		exit(1);
	memset(p, 0x5a, n);
	return p;
}

/* A pool of live objects: made and freed at random, the live set held
 * near target_kb. */
struct pool {
	void *p[SLOTS];
	size_t size[SLOTS];
	double live_kb, target_kb;
	uint64_t rng;
};

static void
churn_tick(struct pool *pl, int ops)
{
	int k;

	for (k = 0; k < ops; k++) {
		size_t i = next(&pl->rng) % SLOTS;
		bool grow = pl->live_kb <
		            pl->target_kb * (0.9 + 0.2 * uniform(&pl->rng));

		if (pl->p[i] != NULL && (!grow || uniform(&pl->rng) < 0.5)) {
			pl->live_kb -= (double)pl->size[i] / 1024;
			free(pl->p[i]);
			pl->p[i] = NULL;
		} else if (pl->p[i] == NULL && grow) {
			pl->size[i] = object_size(&pl->rng);
			pl->p[i] = touched(pl->size[i]);
			pl->live_kb += (double)pl->size[i] / 1024;
		}
	}
}

/* What a leak keeps: a chain the program lost the head of. */
static void *volatile lost;

static void
leak_kb(double kb, uint64_t *rng)
{
	static double owed;

	owed += kb * 1024;
	while (owed >= 16) {
		size_t n = 16 + next(rng) % 496;
		void **q = touched(n);

		*q = lost;
		lost = q;
		owed -= (double)n;
	}
}

static struct params P;
static volatile int stop;

static void *
worker(void *arg)
{
	struct pool *pl = arg;

	while (!stop) {
		churn_tick(pl, CHURN_OPS);
		usleep(TICK_US);
	}
	return NULL;
}

/* A thread started every second and a half up to 12, each churning its
 * own pool: the arenas multiply over the first 18 s, then hold. */
static void
threads(double t0)
{
	static struct pool pools[12];
	pthread_t th[12];
	int n = 0, i;

	while (now_s() - t0 < P.for_s) {
		if (n < 12 && now_s() - t0 >= 1.5 * n) {
			pools[n].rng = P.seed * 7919 + (uint64_t)n + 1;
			pools[n].target_kb = P.live_kb / 4;
			pthread_create(&th[n], NULL, worker, &pools[n]);
			n++;
		}
		usleep(TICK_US);
	}
	stop = 1;
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

/* Holes: rounds of small objects, all but every 16th freed at once; the
 * survivors of a round live until two rounds later, when they are freed
 * too (nothing is lost: the live set is bounded).  Six rounds in the first
 * half; what the holes cost the heap stays. */
static void
frag(double t0, struct pool *pl)
{
	static void *small[3][8192];
	int round = 0, i;

	while (now_s() - t0 < P.for_s) {
		if (round < 6 && now_s() - t0 >= round * P.for_s / 12) {
			void **r = small[round % 3];

			for (i = 0; i < 8192; i += 16) /* two rounds old */
				free(r[i]);
			for (i = 0; i < 8192; i++)
				r[i] = touched(64 + next(&pl->rng) % 192);
			for (i = 0; i < 8192; i++)
				if (i % 16 != 0)
					free(r[i]);
			round++;
		}
		churn_tick(pl, CHURN_OPS);
		usleep(TICK_US);
	}
}

/* A cache of entries of random size, filled to its bound in the first
 * third, then entries replaced. */
static void
cache(double t0, struct pool *pl)
{
	static void *entry[4096];
	static size_t entry_kb[4096];
	double held = 0, bound = P.live_kb;
	size_t i;

	while (now_s() - t0 < P.for_s) {
		i = next(&pl->rng) % 4096;
		if (entry[i] != NULL &&
		    (held >= bound || now_s() - t0 >= P.for_s / 3)) {
			free(entry[i]);
			held -= (double)entry_kb[i];
			entry[i] = NULL;
		}
		if (entry[i] == NULL && held < bound) {
			entry_kb[i] = 1 + next(&pl->rng) % 32;
			entry[i] = touched(entry_kb[i] * 1024);
			held += (double)entry_kb[i];
		}
		churn_tick(pl, CHURN_OPS / 4);
		usleep(TICK_US / 4);
	}
}

static void
run(void)
{
	static struct pool pl;
	double t0 = now_s(), last = t0, t;
	bool leaking = strcmp(P.mode, "leak") == 0;

	pl.rng = P.seed * 2654435761u + 1;
	pl.target_kb = P.live_kb;
	if (strcmp(P.mode, "threads") == 0) {
		threads(t0);
		return;
	}
	if (strcmp(P.mode, "frag") == 0) {
		frag(t0, &pl);
		return;
	}
	if (strcmp(P.mode, "cache") == 0) {
		cache(t0, &pl);
		return;
	}
	while ((t = now_s()) - t0 < P.for_s) {
		churn_tick(&pl, CHURN_OPS);
		if (strcmp(P.mode, "leak-late") == 0)
			leaking = t - t0 >= P.for_s / 3;
		if (leaking)
			leak_kb(P.rate_kb * (t - last), &pl.rng);
		last = t;
		usleep(TICK_US);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"seed", required_argument, NULL, 's'},
	    {"for", required_argument, NULL, 'f'},
	    {"rate", required_argument, NULL, 'r'},
	    {"live", required_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0}};
	uint64_t rng;
	int c;

	P.seed = 1;
	P.for_s = 60;
	P.rate_kb = -1;
	P.live_kb = -1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		double v = atof(optarg);

		switch (c) {
		case 's':
			P.seed = (uint64_t)v;
			break;
		case 'f':
			P.for_s = v;
			break;
		case 'r':
			P.rate_kb = v;
			break;
		case 'l':
			P.live_kb = v;
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: allocs MODE [--seed N] [--for S] "
		                "[--rate KB] [--live KB]\n");
		return 2;
	}
	P.mode = argv[optind];
	rng = P.seed * 0x9E3779B97F4A7C15ULL + 1;
	if (P.rate_kb < 0)
		P.rate_kb = 8 * pow(8, uniform(&rng));
	if (P.live_kb < 0)
		P.live_kb = 4096 * pow(4, uniform(&rng));
	/* the parameters the corpus's truth needs, on stderr */
	fprintf(stderr, "params: rate_kb=%.3f live_kb=%.0f\n", P.rate_kb,
	        P.live_kb);
	run();
	return 0;
}
