/* Unit tests of lib/leak: the bounded store, the stream of segments, fault
 * periods, and the verdict rules on series whose truth is known by
 * construction, the field's own patterns among them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleet.h"
#include "leak.h"

/* A series of LEAK_MAX_BUCKETS, as one stream has. */
static int
series_init(struct leak_series *s, double sign)
{
	return leak_series_init_cap(s, sign, LEAK_MAX_BUCKETS);
}

#define T0 1.7e9

/* deterministic noise in [-1, 1] */
static double
noise(unsigned int *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return ((double)((*seed >> 8) % 20001) - 10000) / 10000;
}

/* A normal variate from the [-1, 1] noise (sum of 12, centred). */
static double
gauss(unsigned int *seed)
{
	double x = 0;
	int k;

	for (k = 0; k < 12; k++)
		x += noise(seed) / 2;
	return x;
}

static enum leak_verdict
classify(double (*shape)(int, unsigned int *), int n, double sign, double limit,
         struct leak_result *res)
{
	struct leak_series s;
	struct leak_rules r;
	unsigned int seed = 42;
	int i;

	leak_rules_default(&r);
	r.limit = limit;
	assert_int_equal(series_init(&s, sign), 0);
	for (i = 0; i < n; i++)
		leak_series_add(&s, T0 + i, shape(i, &seed), NAN);
	leak_series_flush(&s);
	assert_int_equal(leak_classify(&s, &r, NULL, res), 0);
	leak_series_free(&s);
	return res->verdict;
}

static double
linear_leak(int i, unsigned int *seed)
{
	return 50000 + 2.0 * i + 20 * noise(seed);
}
static double
flat(int i, unsigned int *seed)
{
	(void)i;
	return 50000 + 20 * noise(seed);
}
static double
sawtooth(int i, unsigned int *seed)
{
	return 50000 + 40.0 * (i % 100) + 10 * noise(seed);
}
static double
settling(int i, unsigned int *seed)
{
	return 50000 + 8000 * (1 - exp(-i / 150.0)) + 10 * noise(seed);
}
static double
shrinking(int i, unsigned int *seed)
{
	return 90000 - 3.0 * i + 20 * noise(seed);
}
static double
free_memory_falling(int i, unsigned int *seed)
{
	return 400000 - 20.0 * i + 50 * noise(seed);
}

static void
verdicts_of_known_shapes(void **state)
{
	struct leak_result r;

	(void)state;
	assert_int_equal(classify(linear_leak, 2000, 1, NAN, &r), LEAK_LEAK);
	assert_int_equal(r.why, LEAK_WHY_GROWS);
	/* slope 2/s within 2%, in its interval */
	assert_float_equal(r.slope, 2.0, 0.04);
	assert_true(r.slope_lo <= 2.0 && r.slope_hi >= 2.0);
	assert_float_equal(r.ts.slope, 2.0, 0.04);
	assert_int_equal(classify(flat, 2000, 1, NAN, &r), LEAK_STEADY);
	assert_int_equal(classify(sawtooth, 2000, 1, NAN, &r), LEAK_STEADY);
	assert_int_equal(classify(settling, 2000, 1, NAN, &r), LEAK_SETTLING);
	assert_int_equal(classify(shrinking, 2000, 1, NAN, &r), LEAK_RECOVERY);
	assert_int_equal(classify(free_memory_falling, 2000, -1, NAN, &r),
	                 LEAK_LEAK);
	assert_float_equal(r.slope, -20.0, 0.5);
	assert_int_equal(classify(flat, 5, 1, NAN, &r), LEAK_INSUFFICIENT);
}

static double
short_step(int i, unsigned int *seed)
{
	return 50000 + (i < 7 ? 0 : 52) + 0.5 * noise(seed);
}
static double
short_ramp(int i, unsigned int *seed)
{
	return 50000 + 20.0 * i + 10 * noise(seed);
}

/* Too short for two lines (under 20 points), one step is still a step:
 * grown once and flat since, where a line through it would rise (node's
 * floor under its collector's sawtooth in a 10 s recording); a ramp as
 * short is still a leak. */
static void
one_step_in_a_short_series(void **state)
{
	struct leak_result r;

	(void)state;
	assert_int_equal(classify(short_step, 18, 1, NAN, &r), LEAK_SETTLING);
	assert_int_equal(r.why, LEAK_WHY_SETTLED);
	assert_int_equal(r.nregimes, 2);
	assert_int_equal(classify(short_ramp, 18, 1, NAN, &r), LEAK_LEAK);
	assert_int_equal(r.nregimes, 1);
}

static void
limit_and_horizon(void **state)
{
	struct leak_result r;

	(void)state;
	/* at 2/s from 54000 (t = 2000 s), 60000 is 3000 s away */
	assert_int_equal(classify(linear_leak, 2000, 1, 60000, &r), LEAK_OOM);
	assert_float_equal(r.time_to_limit_s, 3000, 100);
	/* 1e9 is far beyond 24h: still just a leak */
	assert_int_equal(classify(linear_leak, 2000, 1, 1e9, &r), LEAK_LEAK);
	/* free memory falling to a floor: the limit is a floor */
	assert_int_equal(classify(free_memory_falling, 2000, -1, 300000, &r),
	                 LEAK_OOM);
}

static void
store_stays_bounded(void **state)
{
	struct leak_series s;
	double total = 0;
	size_t i;

	(void)state;
	assert_int_equal(series_init(&s, 1), 0);
	for (i = 0; i < 1000000; i++)
		leak_series_add(&s, T0 + (double)i, (double)i, NAN);
	leak_series_flush(&s);
	assert_true(s.n <= LEAK_MAX_BUCKETS);
	for (i = 0; i < s.n; i++)
		total += s.b[i].n;
	assert_float_equal(total, 1000000, 0);
	/* means stay means: the first bucket of a ramp sits on the ramp */
	assert_float_equal(s.b[0].v, s.b[0].t, 1e-6);
	leak_series_free(&s);
}

static void
steps_over_a_flat_floor(void **state)
{
	unsigned int seed = 5;
	struct leak_series s;
	struct leak_rules r;
	struct leak_result res;
	int i;

	(void)state;
	leak_rules_default(&r);
	assert_int_equal(series_init(&s, 1), 0);
	/* RSS climbs in three steps, with the noise of a real one (without
	 * it, a series of steps: three are what a walk of steps takes one
	 * time in eight, see heap_in_pages); the anonymous floor stays put */
	for (i = 0; i < 3000; i++)
		leak_series_add(&s, T0 + i,
		                80000 + 5000.0 * (i / 800) + 20 * noise(&seed),
		                20000 + (i % 50));
	leak_series_flush(&s);
	assert_int_equal(leak_classify(&s, &r, NULL, &res), 0);
	assert_int_equal(res.verdict, LEAK_FRAGMENTATION);
	assert_true(res.envelope_from_aux);
	leak_series_free(&s);
}

static void
growth_only_in_faults(void **state)
{
	double start[] = {T0 + 1000, T0 + 3000}, end[] = {T0 + 2000, T0 + 4000};
	struct leak_faults f = {.start = start, .end = end, .n = 2, .cap = 2};
	struct leak_series s;
	struct leak_rules r;
	struct leak_result res;
	double v = 10000;
	unsigned int seed = 3;
	int i;

	(void)state;
	leak_rules_default(&r);
	assert_int_equal(series_init(&s, 1), 0);
	for (i = 0; i < 5000; i++) {
		double t = T0 + i;
		bool fault = (t >= start[0] && t < end[0]) ||
		             (t >= start[1] && t < end[1]);

		v += fault ? 3.0 : 0;
		leak_series_add(&s, t, v + 20 * gauss(&seed), NAN);
	}
	leak_series_flush(&s);
	assert_int_equal(leak_classify(&s, &r, &f, &res), 0);
	assert_true(res.have_faults);
	assert_int_equal(res.fault_periods, 2);
	assert_float_equal(res.fault_s, 2000, 2);
	assert_float_equal(res.fault_in_slope, 3.0, 0.1);
	assert_float_equal(res.fault_out_slope, 0.0, 0.1);
	assert_true(res.fault_in_p < 0.01 && res.fault_out_p > 0.01);
	assert_int_equal(res.verdict, LEAK_LEAK);
	assert_int_equal(res.why, LEAK_WHY_FAULTS);
	leak_series_free(&s);
}

static void
add_series(struct leak_series *s, const double *v, size_t n, double step)
{
	size_t i;

	for (i = 0; i < n; i++)
		leak_series_add(s, T0 + step * (double)i, v[i], NAN);
	leak_series_flush(s);
}

/*
 * The field's own pattern: the heap grows only while the inverter sleeps
 * (20:00 to 06:00), flat by day, judged at 19:00 after two nights: a leak
 * in episodes, not settling; with the nights as fault periods, a leak
 * that grows only during faults.
 */
static void
night_only_growth_judged_in_the_evening(void **state)
{
	static double v[3300];
	double start[2] = {T0 + 8 * 3600, T0 + 32 * 3600},
	       end[2] = {T0 + 18 * 3600, T0 + 42 * 3600}, x = 30000;
	struct leak_faults f = {.start = start, .end = end, .n = 2, .cap = 2};
	struct leak_series s;
	struct leak_rules r;
	struct leak_result res;
	unsigned int seed = 11;
	size_t i;

	(void)state;
	leak_rules_default(&r);
	/* from 12:00 on day 0, one sample a minute, to 19:00 on day 2 */
	for (i = 0; i < 3300; i++) {
		double hour = fmod(12 + (double)i / 60, 24);

		if (hour >= 20 || hour < 6)
			x += 3; /* 180 KB an hour at night */
		v[i] = x + 15 * gauss(&seed);
	}
	assert_int_equal(series_init(&s, 1), 0);
	add_series(&s, v, 3300, 60);
	assert_int_equal(leak_classify(&s, &r, NULL, &res), 0);
	assert_int_equal(res.verdict, LEAK_LEAK);
	assert_int_equal(res.why, LEAK_WHY_EPISODES);
	assert_int_equal(res.episodes, 2);
	assert_float_equal(res.rise, 2 * 600 * 3, 300);
	assert_float_equal(res.growing_s, 2 * 36000, 5000);
	assert_true(!isnan(res.flat_since));
	assert_int_equal(leak_classify(&s, &r, &f, &res), 0);
	assert_int_equal(res.verdict, LEAK_LEAK);
	assert_int_equal(res.why, LEAK_WHY_FAULTS);
	assert_float_equal(res.fault_in_slope * 3600, 180, 10);
	leak_series_free(&s);
}

/*
 * A heap that moves in pages: flat between steps, so no noise within its
 * stretches.  A bounded one's steps go both ways (a real glibc cache's,
 * recorded by rss-watch: nine steps, 208 KB up in all) and are no leak;
 * the nights' growth of the field's driver, in whole pages with no other
 * noise, is hundreds of steps up and still one.
 */
static void
heap_in_pages(void **state)
{
	static const int at[] = {50, 170, 190, 192, 374, 386, 440, 478, 480};
	static const double by[] = {32, 32, 32, 28, -20, -24, 12, 88, 28};
	static double v[3300];
	struct leak_series s;
	struct leak_rules r;
	struct leak_result res;
	double x = 20704, kb = 30000;
	size_t i, k = 0;

	(void)state;
	leak_rules_default(&r);
	for (i = 0; i < 540; i++) {
		if (k < 9 && (int)i == at[k])
			x += by[k++];
		v[i] = x;
	}
	assert_int_equal(series_init(&s, 1), 0);
	add_series(&s, v, 540, 0.5);
	assert_int_equal(leak_classify(&s, &r, NULL, &res), 0);
	assert_int_equal(res.verdict, LEAK_STEADY);
	assert_int_equal(res.why, LEAK_WHY_STEPS_WANDER);
	assert_int_equal(res.steps, 9);
	assert_float_equal(res.steps_net, 208, 1e-9);
	assert_true(res.steps_p >= r.alpha);
	leak_series_free(&s);

	for (i = 0; i < 3300; i++) {
		double hour = fmod(12 + (double)i / 60, 24);

		if (hour >= 20 || hour < 6)
			kb += 3; /* 180 KB an hour at night */
		v[i] = 4 * floor(kb / 4);
	}
	assert_int_equal(series_init(&s, 1), 0);
	add_series(&s, v, 3300, 60);
	assert_int_equal(leak_classify(&s, &r, NULL, &res), 0);
	assert_int_equal(res.verdict, LEAK_LEAK);
	assert_int_equal(res.why, LEAK_WHY_EPISODES);
	assert_true(res.steps > 400);
	assert_true(res.steps_p < 1e-6);
	leak_series_free(&s);
}

/*
 * --last: only the last hours are judged, at their own resolution however
 * long the stream: a month a minute apart that leaked until six hours
 * ago is steady over the last six.  --max-age: a verdict on data a day
 * old is stale.
 */
static void
last_hours_and_stale(void **state)
{
	struct leak_stream st;
	struct leak_rules r;
	struct leak_result res;
	unsigned int seed = 3;
	int i, n = 30 * 1440;

	(void)state;
	leak_rules_default(&r);
	r.last_s = 6 * 3600;
	assert_int_equal(leak_stream_init(&st, 1, &r), 0);
	for (i = 0; i < n; i++) {
		struct leak_sample x = {.ts = T0 + 60.0 * i,
		                        .aux = NAN,
		                        .age_s = NAN,
		                        .uptime = NAN};

		x.value = 50000 + 2.0 * (i < n - 360 ? i : n - 360) +
		          10 * gauss(&seed);
		leak_stream_add(&st, &x);
	}
	leak_series_flush(&st.series);
	assert_int_equal(st.series.per_bucket, 1); /* never merged */
	assert_true(st.series.samples >= 360 && st.series.samples <= 361);
	assert_float_equal(st.series.t0, T0 + 60.0 * (n - 361), 61);
	assert_int_equal(leak_judge(&st, NULL, &res), 0);
	assert_int_equal(res.verdict, LEAK_STEADY);
	leak_stream_free(&st);
	assert_false(leak_stale(&res, T0 + 60.0 * n + 3600, 7200));
	assert_true(leak_stale(&res, T0 + 60.0 * n + 86400, 7200));
	assert_int_equal(res.verdict, LEAK_STALE);
	assert_int_equal(res.why, LEAK_WHY_STALE);
	assert_int_equal(leak_verdict_exit(res.verdict), 6);
	assert_float_equal(res.age_s, 86400 + 60, 1);
	/* stamps that are no dates are never stale */
	res.last_ts = 5000;
	res.verdict = LEAK_LEAK;
	assert_false(leak_stale(&res, T0, 60));
}

/* Flat for 2.5 h, then 40 KB a minute for 3.5 h: a leak, onset found. */
static void
late_onset(void **state)
{
	static double v[360];
	struct leak_series s;
	struct leak_rules r;
	struct leak_result res;
	unsigned int seed = 5;
	size_t i;

	(void)state;
	leak_rules_default(&r);
	for (i = 0; i < 360; i++)
		v[i] = 30000 + (i < 150 ? 0 : 40.0 * (double)(i - 150)) +
		       100 * gauss(&seed);
	assert_int_equal(series_init(&s, 1), 0);
	add_series(&s, v, 360, 60);
	assert_int_equal(leak_classify(&s, &r, NULL, &res), 0);
	assert_int_equal(res.verdict, LEAK_LEAK);
	assert_int_equal(res.why, LEAK_WHY_GROWS);
	assert_float_equal(res.onset_ts, T0 + 150 * 60, 0.05 * 360 * 60);
	assert_float_equal(res.slope * 60, 40, 4);
	leak_series_free(&s);
}

/* A GC sawtooth of 8000 KB, period 25 samples, over 400 KB/h: a leak on
 * the floor, whose slope is the leak's. */
static void
sawtooth_over_a_slow_leak(void **state)
{
	static double v[360];
	struct leak_series s;
	struct leak_rules r;
	struct leak_result res;
	unsigned int seed = 9;
	size_t i;

	(void)state;
	leak_rules_default(&r);
	for (i = 0; i < 360; i++)
		v[i] = 50000 + 8000.0 * (double)(i % 25) / 25 +
		       400.0 / 60 * (double)i + 20 * gauss(&seed);
	assert_int_equal(series_init(&s, 1), 0);
	add_series(&s, v, 360, 60);
	assert_int_equal(leak_classify(&s, &r, NULL, &res), 0);
	assert_true(res.sawtooth);
	assert_int_equal(res.verdict, LEAK_LEAK);
	assert_int_equal(res.why, LEAK_WHY_FLOOR);
	assert_float_equal(res.slope * 3600, 400, 60);
	leak_series_free(&s);
}

/* Steps up that come back down, and a cache that fills then stops. */
static void
not_leaks_with_history(void **state)
{
	static double v[1440];
	struct leak_series s;
	struct leak_rules r;
	struct leak_result res;
	unsigned int seed = 13;
	size_t i;

	(void)state;
	leak_rules_default(&r);
	for (i = 0; i < 1440; i++)
		v[i] = 40000 + (i > 300 && i < 500 ? 2000 : 0) +
		       (i > 800 && i < 1100 ? 3000 : 0) + 30 * gauss(&seed);
	assert_int_equal(series_init(&s, 1), 0);
	add_series(&s, v, 1440, 60);
	assert_int_equal(leak_classify(&s, &r, NULL, &res), 0);
	assert_int_equal(res.verdict, LEAK_STEADY);
	assert_true(res.nregimes >= 5);
	leak_series_reset(&s);
	for (i = 0; i < 1440; i++)
		v[i] = 40000 + 20.0 * (double)(i < 500 ? i : 500) +
		       30 * gauss(&seed);
	add_series(&s, v, 1440, 60);
	assert_int_equal(leak_classify(&s, &r, NULL, &res), 0);
	assert_int_equal(res.verdict, LEAK_SETTLING);
	assert_int_equal(res.why, LEAK_WHY_SETTLED);
	assert_float_equal(res.flat_since, T0 + 500 * 60, 1200);
	leak_series_free(&s);
}

/* The start-up ramp of a process seen from its start is left out. */
static void
warmup_of_a_launched_process(void **state)
{
	static double v[600];
	struct leak_series s;
	struct leak_rules r;
	struct leak_result res;
	unsigned int seed = 17;
	size_t i;

	(void)state;
	leak_rules_default(&r);
	for (i = 0; i < 600; i++)
		v[i] = 5000 + (i < 40 ? 100.0 * (double)i : 4000) +
		       10 * gauss(&seed);
	assert_int_equal(series_init(&s, 1), 0);
	for (i = 0; i < 600; i++) {
		leak_series_add(&s, T0 + (double)i, v[i], NAN);
		if (i == 0)
			s.first_age = 0.5; /* seen half a second after start */
	}
	leak_series_flush(&s);
	assert_int_equal(leak_classify(&s, &r, NULL, &res), 0);
	assert_float_equal(res.warmup_s, 0.1 * 600 - 0.5, 1);
	assert_int_equal(res.verdict, LEAK_STEADY);
	r.warmup_s = 0; /* no warm-up: the ramp is growth that stopped */
	assert_int_equal(leak_classify(&s, &r, NULL, &res), 0);
	assert_int_equal(res.verdict, LEAK_SETTLING);
	leak_series_free(&s);
}

static void
stream_splits_at_restarts(void **state)
{
	struct leak_stream st;
	struct leak_rules r;
	struct leak_sample x = {0};
	int i;

	(void)state;
	leak_rules_default(&r);
	assert_int_equal(leak_stream_init(&st, 1, &r), 0);
	x.has_id = true;
	x.aux = x.age_s = NAN;
	for (i = 0; i < 300; i++) { /* pid 10, then pid 11, then 10 again */
		x.ts = T0 + i;
		x.pid = i < 100 ? 10 : i < 200 ? 11 : 10;
		x.start = x.pid;
		x.value = 1000 + i % 7;
		leak_stream_add(&st, &x);
	}
	assert_int_equal(st.total_segments, 2);
	assert_true(st.interleaved);
	assert_float_equal(st.interleaved_pid, 10, 0);
	x.ts = T0; /* older than the last: skipped */
	leak_stream_add(&st, &x);
	assert_int_equal(st.out_of_order, 1);
	x = (struct leak_sample){.restart = true};
	leak_stream_add(&st, &x);
	assert_int_equal(st.total_segments, 3);
	assert_int_equal(st.series.samples, 0);
	assert_int_equal(st.done[0].samples, 100);
	assert_int_equal(st.done[0].verdict, LEAK_STEADY);
	leak_stream_free(&st);
}

static void
fault_reader_periods(void **state)
{
	struct leak_faults f = {0};
	struct leak_fault_reader fr;

	(void)state;
	leak_fault_reader_init(&fr, &f);
	/* unit 1 down 10..30, unit 5 down 20..40: one fault 10..40 */
	assert_int_equal(leak_fault_record(&fr, 10, "1", 0), 0);
	leak_fault_record(&fr, 20, "5", 0);
	leak_fault_record(&fr, 30, "1", 1);
	leak_fault_record(&fr, 40, "5", 1);
	leak_fault_record(&fr, 35, "5", 0); /* out of order: ignored */
	leak_fault_record(&fr, 50, "1", -1);
	leak_fault_record(&fr, 60, "1", 0); /* still down at the end */
	leak_fault_record(&fr, 70, "2", 1);
	assert_int_equal(leak_fault_reader_end(&fr), 0);
	assert_int_equal(f.n, 2);
	assert_float_equal(f.start[0], 10, 0);
	assert_float_equal(f.end[0], 40, 0);
	assert_float_equal(f.start[1], 60, 0);
	/* still open when the events end: to the end of the series judged
	 * (cmocka's float compare passes infinities: isinf) */
	assert_true(isinf(f.end[1]) && f.end[1] > 0);
	leak_faults_free(&f);
	assert_null(f.start);
}

/* A stream of lives: n samples a minute each, value(life, i). */
static void
add_lives(struct leak_stream *st, int lives, int n, int last_n,
          double (*value)(int life, int i, unsigned int *seed))
{
	struct leak_sample x = {
	    .has_id = true, .aux = NAN, .age_s = NAN, .uptime = NAN};
	unsigned int seed = 5;
	double t = T0;
	int life, i;

	for (life = 0; life <= lives; life++) {
		for (i = 0; i < (life < lives ? n : last_n); i++) {
			x.ts = t;
			t += 60;
			x.pid = x.start = 100 + life;
			x.value = value(life, i, &seed);
			leak_stream_add(st, &x);
		}
	}
	leak_series_flush(&st->series);
}

static double
leaking_life(int life, int i, unsigned int *seed)
{
	(void)life;
	return 20000 + 5 * i + 40 * gauss(seed);
}

static double
leaked_then_stopped(int life, int i, unsigned int *seed)
{
	return 20000 + (life < 2 ? 5 * i : 0) + 40 * gauss(seed);
}

static double
ramp_then_hold(int life, int i, unsigned int *seed)
{
	(void)life;
	return 20000 + 8000 * fmin(i, 20) / 20 + 40 * gauss(seed);
}

static double
calm_life(int life, int i, unsigned int *seed)
{
	(void)life;
	(void)i;
	return 20000 + 40 * gauss(seed);
}

/* The verdict of the current life, n minutes into it, read with lives
 * of 1440 minutes before it. */
static struct leak_result
judged_lives(int lives, int minutes, int n,
             double (*value)(int, int, unsigned int *))
{
	struct leak_stream st;
	struct leak_rules r;
	struct leak_result res;

	leak_rules_default(&r);
	r.limit = 40000;
	assert_int_equal(leak_stream_init(&st, 1, &r), 0);
	add_lives(&st, lives, minutes, n, value);
	assert_int_equal(leak_judge(&st, NULL, &res), 0);
	leak_stream_free(&st);
	return res;
}

static void
lives_judged_together(void **state)
{
	struct leak_result res;

	(void)state;
	/* a leak restarted away every day, judged 5 minutes into a life */
	res = judged_lives(5, 1440, 5, leaking_life);
	assert_int_equal(res.verdict, LEAK_LEAK);
	assert_int_equal(res.why, LEAK_WHY_RECURS);
	assert_int_equal(res.lives, LEAK_RECENT_LIVES);
	assert_int_equal(res.lives_leaking, LEAK_RECENT_LIVES);
	assert_float_equal(res.slope * 3600, 300, 15);
	assert_float_equal(res.life_every_s, 86400, 1);
	/* time to the limit from this life's last value: 20000 to go at
	 * 5 a minute, 66 h */
	assert_true(res.time_to_limit_s > 60 * 3600 &&
	            res.time_to_limit_s < 72 * 3600);
	/* without lives before it, too little data stays that */
	res = judged_lives(0, 1440, 5, leaking_life);
	assert_int_equal(res.verdict, LEAK_INSUFFICIENT);
	/* a leak that stopped two lives ago */
	res = judged_lives(4, 1440, 5, leaked_then_stopped);
	assert_int_equal(res.verdict, LEAK_STEADY);
	assert_int_equal(res.why, LEAK_WHY_STOPPED);
	assert_int_equal(res.lives_leaked, 2);
	assert_int_equal(res.lives_calm, 2);
	/* a long current life that does not grow ends the recurrence */
	res = judged_lives(4, 1440, 600, calm_life);
	assert_int_equal(res.verdict, LEAK_STEADY);
	res = judged_lives(4, 1440, 5, calm_life);
	assert_int_equal(res.verdict, LEAK_STEADY);
	assert_int_equal(res.why, LEAK_WHY_LIVES_CALM);
	/* healthy lives that each start with a ramp, one 15 min in it */
	res = judged_lives(4, 360, 15, ramp_then_hold);
	assert_int_equal(res.verdict, LEAK_STEADY);
	assert_int_equal(res.why, LEAK_WHY_RAMPS);
	assert_float_equal(res.ramp_s, 20 * 60, 120);
	/* past the ramp's time it is judged on its own again */
	res = judged_lives(4, 360, 200, ramp_then_hold);
	assert_int_equal(res.verdict, LEAK_SETTLING);
}

static void
lives_end_where_records_say(void **state)
{
	struct leak_stream st;
	struct leak_rules r;
	struct leak_sample x = {.aux = NAN, .age_s = NAN, .uptime = NAN};
	int i;

	(void)state;
	leak_rules_default(&r);
	assert_int_equal(leak_stream_init(&st, -1, &r), 0); /* free heap */
	for (i = 0; i < 40; i++) { /* uptime starts again at 30: a reboot */
		x.ts = T0 + 60 * i;
		x.uptime = i < 30 ? 60 * i : 60 * (i - 30);
		x.value = 100000 - 100 * (i % 30);
		leak_stream_add(&st, &x);
	}
	assert_int_equal(st.total_segments, 1);
	assert_int_equal(st.done[0].end, LEAK_END_UPTIME);
	assert_int_equal(st.done[0].samples, 30);
	/* a named event: a new life only if the field jumps back */
	x = (struct leak_sample){.jump = true};
	leak_stream_add(&st, &x);
	x = (struct leak_sample){
	    .ts = T0 + 60 * 41, .value = 99000, .aux = NAN, .uptime = NAN};
	leak_stream_add(&st, &x); /* lower free heap: no jump back */
	assert_int_equal(st.total_segments, 1);
	x.jump = true;
	leak_stream_add(&st, &x);
	x = (struct leak_sample){
	    .ts = T0 + 60 * 42, .value = 100000, .aux = NAN, .uptime = NAN};
	leak_stream_add(&st, &x); /* back up: a reboot */
	assert_int_equal(st.total_segments, 2);
	assert_int_equal(st.done[1].end, LEAK_END_EVENT);
	/* a watchdog's limit, then its exit: the life ends when another
	 * sample follows, ended at the limit */
	leak_stream_add(&st, &(struct leak_sample){.limit = true});
	leak_stream_add(&st, &(struct leak_sample){.exited = true});
	assert_int_equal(st.total_segments, 2);
	x.ts += 60;
	leak_stream_add(&st, &x);
	assert_int_equal(st.total_segments, 3);
	assert_int_equal(st.done[2].end, LEAK_END_LIMIT);
	leak_stream_free(&st);
}

static void
bursts_that_keep(void **state)
{
	struct leak_series s;
	struct leak_rules r;
	struct leak_result res;
	unsigned int seed = 3;
	double keep[] = {0, 2048};
	int k, b, i, t;

	(void)state;
	leak_rules_default(&r);
	for (k = 0; k < 2; k++) {
		assert_int_equal(series_init(&s, 1), 0);
		for (t = 0, b = 0; b <= 4; b++) { /* 15 min flat, 5 min up */
			for (i = 0; i < 90; i++, t += 10)
				leak_series_add(&s, T0 + t,
				                6144 + b * keep[k] +
				                    60 * gauss(&seed),
				                NAN);
			for (i = 0; b < 4 && i < 30; i++, t += 10)
				leak_series_add(&s, T0 + t,
				                36000 + b * keep[k] +
				                    300 * gauss(&seed),
				                NAN);
		}
		leak_series_flush(&s);
		assert_int_equal(leak_classify(&s, &r, NULL, &res), 0);
		assert_int_equal(res.verdict, k ? LEAK_LEAK : LEAK_STEADY);
		if (k) {
			assert_int_equal(res.why, LEAK_WHY_BURSTS);
			assert_int_equal(res.bursts, 4);
			assert_float_equal(res.burst_kept, 2048, 100);
			assert_float_equal(res.floor_to - res.floor_from,
			                   4 * 2048, 300);
		}
		leak_series_free(&s);
	}
}

/* Growth only while faults last, the events polled every 5 minutes and
 * seen up to one poll late: the tolerance of an edge keeps the lag from
 * counting as growth outside. */
static void
fault_edges_have_a_tolerance(void **state)
{
	double start[3] = {T0 + 3600, T0 + 4 * 3600, T0 + 7 * 3600},
	       end[3] = {T0 + 2 * 3600, T0 + 5 * 3600, INFINITY};
	struct leak_faults f = {
	    .start = start, .end = end, .n = 3, .cap = 3, .edge_s = 300};
	struct leak_series s;
	struct leak_rules r;
	struct leak_result res;
	unsigned int seed = 9;
	double v = 20000;
	int i, j;

	(void)state;
	leak_rules_default(&r);
	assert_int_equal(series_init(&s, 1), 0);
	for (i = 0; i < 8 * 60; i++) { /* a sample a minute, 8 h */
		double t = T0 + 60 * i, lag = t - 240;
		bool in = false;

		for (j = 0; j < 3; j++)
			in |= lag >= start[j] && lag < end[j];
		v += in ? 50 : 0;
		leak_series_add(&s, t, v + 10 * gauss(&seed), NAN);
	}
	leak_series_flush(&s);
	assert_int_equal(leak_classify(&s, &r, &f, &res), 0);
	assert_int_equal(res.verdict, LEAK_LEAK);
	assert_int_equal(res.why, LEAK_WHY_FAULTS);
	assert_float_equal(res.fault_edge_s, 300, 1);
	assert_int_equal(res.fault_periods, 3);
	assert_true(res.fault_out_p > 0.01);
	/* without the tolerance the lag counts as growth outside */
	f.edge_given = true;
	f.edge_s = 0;
	assert_int_equal(leak_classify(&s, &r, &f, &res), 0);
	assert_true(res.fault_out_p < 0.01);
	leak_series_free(&s);
}

static void
falling_fields(void **state)
{
	(void)state;
	assert_true(leak_field_falls("free_heap"));
	assert_true(leak_field_falls("payload.free_heap"));
	assert_false(leak_field_falls("free.rss_kb"));
	assert_true(leak_field_falls("mem_available"));
	assert_true(leak_field_falls("available_kb"));
	assert_false(leak_field_falls("rss_kb"));
	assert_int_equal(leak_verdict_exit(LEAK_OOM), 5);
	assert_int_equal(leak_verdict_exit(LEAK_FRAGMENTATION), 4);
	assert_int_equal(leak_verdict_exit(LEAK_INSUFFICIENT), 3);
	assert_int_equal(leak_verdict_exit(LEAK_SETTLING), 0);
}

static int
by_badness(const void *a, const void *b)
{
	return fleet_compare(*(struct fleet_group *const *)a,
	                     *(struct fleet_group *const *)b);
}

/* lib/fleet: groups found again by key, many of them (the table grows),
 * dropped, judged on two threads as on one, and ordered worst first. */
static void
fleet_groups(void **state)
{
	struct leak_rules r;
	struct fleet f;
	struct fleet_group *g, **all, **one;
	char key[16];
	size_t n, i, m;
	int k;

	(void)state;
	leak_rules_default(&r);
	assert_int_equal(fleet_init(&f, 1, &r, 64), 0);
	for (k = 0; k < 600; k++) {
		int len = snprintf(key, sizeof(key), "gx%d", k);

		g = fleet_get(&f, key, (size_t)len);
		assert_non_null(g);
		for (i = 0; i < 200; i++) {
			struct leak_sample x = {
			    .ts = 1.7e9 + 60.0 * (double)i,
			    .value = 1000 +
			             (k % 10 == 0 ? 5.0 * (double)i : 0) +
			             (double)(i * 7919 % 13),
			    .aux = NAN,
			    .age_s = NAN};

			leak_stream_add(&g->st, &x);
		}
	}
	assert_int_equal(f.n, 600);
	assert_true(f.nslot >= 600);
	assert_ptr_equal(fleet_get(&f, "gx42", 4), fleet_get(&f, "gx42", 4));
	assert_int_equal(f.n, 600);
	assert_true(fleet_group_bytes(64) < 64 * 1024);
	all = fleet_list(&f, &n);
	assert_int_equal(n, 600);
	one = malloc(n * sizeof(*one));
	memcpy(one, all, n * sizeof(*one));
	fleet_judge(all, n, NULL, 2);
	for (i = 0, m = 0; i < n; i++) {
		struct leak_result res;

		assert_int_equal(all[i]->rc, 0);
		assert_int_equal(
		    leak_classify(&all[i]->st.series, &r, NULL, &res), 0);
		assert_int_equal(res.verdict, all[i]->res.verdict);
		m += all[i]->res.verdict == LEAK_LEAK;
	}
	assert_int_equal(m, 60);
	qsort(one, n, sizeof(*one), by_badness);
	for (i = 0; i < 60; i++)
		assert_int_equal(one[i]->res.verdict, LEAK_LEAK);
	assert_true(one[0]->res.rate_pct_day >= one[59]->res.rate_pct_day);
	g = fleet_get(&f, "gx7", 3);
	fleet_drop(&f, g);
	assert_int_equal(f.n, 599);
	free(one);
	free(all);
	fleet_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(verdicts_of_known_shapes),
	    cmocka_unit_test(one_step_in_a_short_series),
	    cmocka_unit_test(limit_and_horizon),
	    cmocka_unit_test(store_stays_bounded),
	    cmocka_unit_test(steps_over_a_flat_floor),
	    cmocka_unit_test(growth_only_in_faults),
	    cmocka_unit_test(falling_fields),
	    cmocka_unit_test(night_only_growth_judged_in_the_evening),
	    cmocka_unit_test(heap_in_pages),
	    cmocka_unit_test(last_hours_and_stale),
	    cmocka_unit_test(late_onset),
	    cmocka_unit_test(sawtooth_over_a_slow_leak),
	    cmocka_unit_test(not_leaks_with_history),
	    cmocka_unit_test(warmup_of_a_launched_process),
	    cmocka_unit_test(stream_splits_at_restarts),
	    cmocka_unit_test(fault_reader_periods),
	    cmocka_unit_test(fleet_groups),
	    cmocka_unit_test(lives_judged_together),
	    cmocka_unit_test(lives_end_where_records_say),
	    cmocka_unit_test(bursts_that_keep),
	    cmocka_unit_test(fault_edges_have_a_tolerance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
