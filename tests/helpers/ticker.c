/*
 * ticker: wake every INTERVAL seconds COUNT times and do nothing else, so
 * that benchmarks can tell the cost of waking up from the cost of working.
 * usage: ticker INTERVAL COUNT
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int
main(int argc, char **argv)
{
	struct timespec next;
	double interval;
	long count, i;

	if (argc != 3) {
		fprintf(stderr, "usage: ticker INTERVAL COUNT\n");
		return 2;
	}
	interval = atof(argv[1]);
	count = atol(argv[2]);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; i < count; i++) {
		next.tv_nsec += (long)(interval * 1e9);
		next.tv_sec += next.tv_nsec / 1000000000L;
		next.tv_nsec %= 1000000000L;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	return 0;
}
