/*
 * memhog: a process with a known memory behaviour, for tests and the demo.
 *
 *   memhog steady   [--base KB]                     flat
 *   memhog leak     --rate KB/s [--base KB]         linear growth
 *   memhog sawtooth --peak KB --period S [--rate]   GC-like; --rate adds a leak
 *   memhog settle   --peak KB --tau S               1 - exp(-t/tau) to a
 * plateau memhog steps    --step KB --period S            jumps, flat in
 * between memhog restart  --every S [MODE options]        a supervisor whose
 * worker
 *                                                   ("memhog-worker") exits
 *                                                   every S seconds and is
 *                                                   started again
 * --for S ends the process after S seconds (default: run until signalled);
 * --ignore-term makes it deaf to SIGTERM (a watchdog must escalate).
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TICK_S 0.02

struct params {
	const char *mode;
	double rate_kb, base_kb, peak_kb, period_s, tau_s, step_kb, for_s;
	double every_s;
};

static volatile sig_atomic_t done;
static volatile pid_t worker; /* restart mode: pass the end on */

static void
on_term(int sig)
{
	done = 1;
	if (worker > 0)
		kill(worker, sig);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Touched anonymous memory that can be given back (sawtooth). */
static void *
grab(size_t kb)
{
	void *p = mmap(NULL, kb * 1024, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("memhog: mmap");
		exit(1);
	}
	memset(p, 0x5a, kb * 1024);
	return p;
}

/* The chain of leaked chunks: the compiler may not drop what it sees used. */
static void *volatile leaked;

/* Leaked memory: touched, never freed. */
static void
leak_kb(double kb)
{
	static double owed;
	size_t n;
	char *p;

	owed += kb;
	n = (size_t)owed;
	if (n == 0)
		return;
	owed -= (double)n;
	p = malloc(n * 1024);
	if (p == NULL)
		exit(1);
	memset(p, 0x6b, n * 1024);
	*(void **)p = leaked;
	leaked = p;
}

struct held {
	void *p;
	size_t kb;
};

static void
release(struct held *h)
{
	if (h->p != NULL)
		munmap(h->p, h->kb * 1024);
	h->p = NULL;
	h->kb = 0;
}

/* Hold exactly want_kb of mapped memory (resizing one mapping). */
static void
hold(struct held *h, double want_kb)
{
	size_t want = (size_t)want_kb;

	if (want == h->kb)
		return;
	if (want < h->kb || h->p == NULL) {
		release(h);
		if (want > 0) {
			h->p = grab(want);
			h->kb = want;
		}
		return;
	}
	h->p = mremap(h->p, h->kb * 1024, want * 1024, MREMAP_MAYMOVE);
	if (h->p == MAP_FAILED)
		exit(1);
	memset((char *)h->p + h->kb * 1024, 0x5a, (want - h->kb) * 1024);
	h->kb = want;
}

static void
run(const struct params *p)
{
	struct held shaped = {0};
	double start = now_s(), t, last = 0;

	if (p->base_kb > 0)
		grab((size_t)p->base_kb);
	while (!done) {
		t = now_s() - start;
		if (p->for_s > 0 && t >= p->for_s)
			break;
		if (strcmp(p->mode, "sawtooth") == 0)
			hold(&shaped,
			     p->peak_kb * fmod(t, p->period_s) / p->period_s);
		else if (strcmp(p->mode, "settle") == 0)
			hold(&shaped, p->peak_kb * (1 - exp(-t / p->tau_s)));
		else if (strcmp(p->mode, "steps") == 0)
			hold(&shaped, p->step_kb * floor(t / p->period_s));
		/* by the clock, not by ticks: a slow tick leaks more */
		if (p->rate_kb > 0)
			leak_kb(p->rate_kb * (t - last));
		last = t;
		usleep((useconds_t)(TICK_S * 1e6));
	}
	release(&shaped);
}

static void
supervise(struct params *p)
{
	p->for_s = p->every_s;
	p->mode = "leak";
	while (!done) {
		pid_t pid = fork();

		if (pid == 0) {
			prctl(PR_SET_NAME, "memhog-worker");
			run(p);
			_exit(0);
		}
		worker = pid;
		if (pid < 0 || waitpid(pid, NULL, 0) < 0)
			break;
		worker = 0;
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"rate", required_argument, NULL, 'r'},
	    {"base", required_argument, NULL, 'b'},
	    {"peak", required_argument, NULL, 'p'},
	    {"period", required_argument, NULL, 'P'},
	    {"tau", required_argument, NULL, 't'},
	    {"step", required_argument, NULL, 's'},
	    {"for", required_argument, NULL, 'f'},
	    {"every", required_argument, NULL, 'e'},
	    {"ignore-term", no_argument, NULL, 'i'},
	    {NULL, 0, NULL, 0}};
	struct params p = {.period_s = 1, .tau_s = 1, .every_s = 1};
	int c, ignore_term = 0;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		double v = optarg ? atof(optarg) : 0;

		switch (c) {
		case 'r':
			p.rate_kb = v;
			break;
		case 'b':
			p.base_kb = v;
			break;
		case 'p':
			p.peak_kb = v;
			break;
		case 'P':
			p.period_s = v;
			break;
		case 't':
			p.tau_s = v;
			break;
		case 's':
			p.step_kb = v;
			break;
		case 'f':
			p.for_s = v;
			break;
		case 'e':
			p.every_s = v;
			break;
		case 'i':
			ignore_term = 1;
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: memhog MODE [options]\n");
		return 2;
	}
	p.mode = argv[optind];
	signal(SIGTERM, ignore_term ? SIG_IGN : on_term);
	signal(SIGINT, on_term);
	if (strcmp(p.mode, "restart") == 0)
		supervise(&p);
	else
		run(&p);
	return 0;
}
