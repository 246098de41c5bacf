/* Unit tests of lib/leak: the bounded store and the verdict rules on
 * series whose truth is known by construction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <cmocka.h>

#include "leak.h"

#define T0 1.7e9

/* deterministic noise in [-1, 1] */
static double
noise(unsigned int *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return ((double)((*seed >> 8) % 20001) - 10000) / 10000;
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
	assert_int_equal(leak_series_init(&s, sign), 0);
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
	/* slope 2/s within 2% */
	assert_float_equal(r.ts.slope, 2.0, 0.04);
	assert_true(r.ts.lo <= 2.0 && r.ts.hi >= 2.0);
	assert_int_equal(classify(flat, 2000, 1, NAN, &r), LEAK_STEADY);
	assert_int_equal(classify(sawtooth, 2000, 1, NAN, &r), LEAK_STEADY);
	assert_int_equal(classify(settling, 2000, 1, NAN, &r), LEAK_SETTLING);
	assert_int_equal(classify(shrinking, 2000, 1, NAN, &r), LEAK_RECOVERY);
	assert_int_equal(classify(free_memory_falling, 2000, -1, NAN, &r),
	                 LEAK_LEAK);
	assert_float_equal(r.ts.slope, -20.0, 0.5);
	assert_int_equal(classify(flat, 5, 1, NAN, &r), LEAK_INSUFFICIENT);
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
	assert_int_equal(leak_series_init(&s, 1), 0);
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
	struct leak_series s;
	struct leak_rules r;
	struct leak_result res;
	int i;

	(void)state;
	leak_rules_default(&r);
	assert_int_equal(leak_series_init(&s, 1), 0);
	/* RSS climbs in three steps; the anonymous floor stays put */
	for (i = 0; i < 3000; i++)
		leak_series_add(&s, T0 + i, 80000 + 5000.0 * (i / 800),
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
	struct leak_faults f = {start, end, 2};
	struct leak_series s;
	struct leak_rules r;
	struct leak_result res;
	double v = 10000;
	int i;

	(void)state;
	leak_rules_default(&r);
	assert_int_equal(leak_series_init(&s, 1), 0);
	for (i = 0; i < 5000; i++) {
		double t = T0 + i;
		bool fault = (t >= start[0] && t < end[0]) ||
		             (t >= start[1] && t < end[1]);

		v += fault ? 3.0 : 0;
		leak_series_add(&s, t, v, NAN);
	}
	leak_series_flush(&s);
	assert_int_equal(leak_classify(&s, &r, &f, &res), 0);
	assert_true(res.have_faults);
	assert_int_equal(res.fault_periods, 2);
	assert_float_equal(res.fault_s, 2000, 2);
	assert_float_equal(res.fault_in_slope, 3.0, 0.1);
	assert_float_equal(res.fault_out_slope, 0.0, 0.1);
	leak_series_free(&s);
}

static void
falling_fields(void **state)
{
	(void)state;
	assert_true(leak_field_falls("free_heap"));
	assert_true(leak_field_falls("mem_available"));
	assert_true(leak_field_falls("available_kb"));
	assert_false(leak_field_falls("rss_kb"));
	assert_int_equal(leak_verdict_exit(LEAK_OOM), 5);
	assert_int_equal(leak_verdict_exit(LEAK_FRAGMENTATION), 4);
	assert_int_equal(leak_verdict_exit(LEAK_INSUFFICIENT), 3);
	assert_int_equal(leak_verdict_exit(LEAK_SETTLING), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(verdicts_of_known_shapes),
	    cmocka_unit_test(limit_and_horizon),
	    cmocka_unit_test(store_stays_bounded),
	    cmocka_unit_test(steps_over_a_flat_floor),
	    cmocka_unit_test(growth_only_in_faults),
	    cmocka_unit_test(falling_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
