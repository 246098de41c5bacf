/* Unit tests of lib/trend against values computed by hand (see comments). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <cmocka.h>

#include "trend.h"

/* t = 0..4, v = 1 2 4 3 5 throughout. */
static const double T5[] = {0, 1, 2, 3, 4}, V5[] = {1, 2, 4, 3, 5};

static void
median_and_quantile(void **state)
{
	double a[] = {5, 1, 4, 2, 3}, b[] = {4, 1, 3, 2}, c[] = {7};

	(void)state;
	assert_float_equal(trend_median(a, 5), 3, 1e-12);
	assert_float_equal(trend_median(b, 4), 2.5, 1e-12);
	assert_float_equal(trend_quantile(b, 4, 0), 1, 1e-12);
	assert_float_equal(trend_quantile(b, 4, 1), 4, 1e-12);
	/* q = 0.25 over 1 2 3 4: position 0.75 -> 1.75 */
	assert_float_equal(trend_quantile(b, 4, 0.25), 1.75, 1e-12);
	assert_float_equal(trend_median(c, 1), 7, 1e-12);
}

static void
normal_tail(void **state)
{
	(void)state;
	assert_float_equal(trend_norm_sf(0), 0.5, 1e-12);
	assert_float_equal(trend_norm_sf(1.959963985), 0.025, 1e-9);
	assert_float_equal(trend_norm_isf(0.005), 2.5758293, 1e-6);
}

static void
ols_by_hand(void **state)
{
	struct trend_ols o;

	(void)state;
	/* Sxx = 10, Sxy = 9: slope 0.9, intercept 3 - 1.8 = 1.2 */
	assert_int_equal(trend_ols(T5, V5, 5, &o), 0);
	assert_float_equal(o.slope, 0.9, 1e-12);
	assert_float_equal(o.intercept, 1.2, 1e-12);
	/* Syy = 10, SSE = 10 - 0.9 * 9 = 1.9, R^2 = 0.81 */
	assert_float_equal(o.r2, 0.81, 1e-12);
	assert_int_equal(trend_ols(T5, V5, 1, &o), -1);
}

static void
mann_kendall_by_hand(void **state)
{
	const double ties[] = {1, 1, 2, 2, 2}, flat[] = {3, 3, 3, 3};
	struct trend_mk mk;

	(void)state;
	/* concordant 9, discordant 1 (4 > 3): S = 8;
	 * var = 5*4*15/18 = 16.667; z = 7/sqrt(16.667) = 1.7146 */
	assert_int_equal(trend_mann_kendall(V5, 5, &mk), 0);
	assert_float_equal(mk.s, 8, 1e-12);
	assert_float_equal(mk.var_s, 300.0 / 18, 1e-9);
	assert_float_equal(mk.z, 7 / sqrt(300.0 / 18), 1e-9);
	assert_float_equal(mk.p, 0.08641, 1e-4);
	/* ties 2 and 3: var = (300 - 2*1*9 - 3*2*11)/18 = 12, S = 6 */
	assert_int_equal(trend_mann_kendall(ties, 5, &mk), 0);
	assert_float_equal(mk.s, 6, 1e-12);
	assert_float_equal(mk.var_s, 12, 1e-9);
	assert_int_equal(trend_mann_kendall(flat, 4, &mk), 0);
	assert_float_equal(mk.s, 0, 1e-12);
	assert_float_equal(mk.p, 1, 1e-12);
	/* a correction factor of 4 halves z */
	assert_int_equal(trend_mann_kendall(V5, 5, &mk), 0);
	trend_mk_correct(&mk, 4);
	assert_float_equal(mk.z, 3.5 / sqrt(300.0 / 18), 1e-9);
}

static void
mann_kendall_large_matches_pairs(void **state)
{
	enum { N = 500 };
	double v[N], s = 0;
	struct trend_mk mk;
	int i, j;

	(void)state;
	srand(7);
	for (i = 0; i < N; i++)
		v[i] = (double)(rand() % 50) + i * 0.05;
	for (i = 0; i < N; i++)
		for (j = i + 1; j < N; j++)
			s += (v[j] > v[i]) - (v[j] < v[i]);
	assert_int_equal(trend_mann_kendall(v, N, &mk), 0);
	assert_float_equal(mk.s, s, 1e-9);
}

static void
theil_sen_by_hand(void **state)
{
	struct trend_ts ts;

	(void)state;
	/* slopes sorted: -1 .5 .5 .667 1 1 1 1.5 2 2 -> median 1;
	 * intercept median(v - t) = median(1 1 2 0 1) = 1 */
	assert_int_equal(trend_theil_sen(T5, V5, 5, 300.0 / 18, 1.96, &ts), 0);
	assert_true(ts.exact);
	assert_float_equal(ts.slope, 1, 1e-12);
	assert_float_equal(ts.intercept, 1, 1e-12);
	/* C = 1.96 * 4.08 = 8.0: ranks (10 - 8)/2 ~ 1 and (10 + 8)/2 + 1 =
	 * 10: the extremes */
	assert_float_equal(ts.lo, -1, 1e-12);
	assert_float_equal(ts.hi, 2, 1e-12);
	/* a zero variance gives a zero-width interval at the median */
	assert_int_equal(trend_theil_sen(T5, V5, 5, 0, 1.96, &ts), 0);
	assert_true(ts.lo <= 1 && ts.hi >= 1);
}

static void
theil_sen_sampled_on_a_line(void **state)
{
	enum { N = 3000 };
	double *t = malloc(N * sizeof(double)), *v = malloc(N * sizeof(double));
	struct trend_ts ts;
	int i;

	(void)state;
	for (i = 0; i < N; i++) {
		t[i] = i;
		v[i] = 2.5 * i + 10 + (i % 7 == 0 ? 1000 : 0); /* outliers */
	}
	assert_int_equal(trend_theil_sen(t, v, N, 1e6, 1.96, &ts), 0);
	assert_false(ts.exact);
	assert_float_equal(ts.slope, 2.5, 1e-9);
	assert_true(ts.lo <= 2.5 && ts.hi >= 2.5);
	free(t);
	free(v);
}

static void
envelope_minima_and_maxima(void **state)
{
	const double t[] = {0, 1, 2, 3, 4, 5, 6, 7},
	             v[] = {5, 3, 6, 2, 7, 1, 8, 0};
	double et[4], ev[4];

	(void)state;
	/* windows [0,1.75) [1.75,3.5) [3.5,5.25) [5.25,7] */
	assert_int_equal(trend_envelope(t, v, 8, 4, true, et, ev), 4);
	assert_float_equal(ev[0], 3, 0);
	assert_float_equal(ev[1], 2, 0);
	assert_float_equal(ev[2], 1, 0);
	assert_float_equal(ev[3], 0, 0);
	assert_float_equal(et[3], 7, 0);
	assert_int_equal(trend_envelope(t, v, 8, 4, false, et, ev), 4);
	assert_float_equal(ev[0], 5, 0);
	assert_float_equal(ev[3], 8, 0);
}

/* A deterministic normal variate (Box-Muller on an LCG). */
static double
gauss(unsigned *seed)
{
	double u, v;

	*seed = *seed * 1103515245u + 12345u;
	u = ((*seed >> 8) + 1.0) / 16777218.0;
	*seed = *seed * 1103515245u + 12345u;
	v = ((*seed >> 8) + 1.0) / 16777218.0;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static void
noise_white_ar_and_walk(void **state)
{
	static double v[4000];
	struct trend_noise nz;
	unsigned seed = 7;
	size_t i, start = 0;
	double x = 0;

	(void)state;
	/* white noise of sd 2 on a steep ramp: the second differences do
	 * not see the ramp, the first differences of residuals see white */
	for (i = 0; i < 4000; i++)
		v[i] = 1000 + 50.0 * (double)i + 2 * gauss(&seed);
	assert_int_equal(trend_noise(v, 4000, &nz), 0);
	assert_float_equal(sqrt(nz.var), 2, 0.2);
	assert_float_equal(nz.factor, 1, 0);
	for (i = 0; i < 4000; i++)
		v[i] = 2 * gauss(&seed);
	assert_int_equal(trend_noise_parts(v, 4000, &start, 1, &nz), 0);
	assert_float_equal(sqrt(nz.var), 2, 0.2);
	assert_true(nz.factor < 1.3);
	/* AR(1), phi 0.8: factor near (1 + phi) / (1 - phi) = 9 */
	for (i = 0; i < 4000; i++) {
		x = 0.8 * x + 0.6 * gauss(&seed);
		v[i] = x;
	}
	assert_int_equal(trend_noise_parts(v, 4000, &start, 1, &nz), 0);
	assert_true(nz.phi > 0.7 && nz.phi < 0.9);
	assert_true(nz.factor > 6 && nz.factor < 12);
	/* a random walk: the variance a slope sees is a walk's, huge */
	for (i = 0, x = 0; i < 4000; i++) {
		x += gauss(&seed);
		v[i] = x;
	}
	assert_int_equal(trend_noise_parts(v, 4000, &start, 1, &nz), 0);
	assert_true(nz.lrvar > 0.1 * 0.5 * 4000.0 * 4000.0);
	assert_int_equal(trend_noise(v, 3, &nz), -1);
}

static void
segments_find_regimes(void **state)
{
	double t[300], v[300];
	struct trend_prefix p;
	struct trend_line line;
	size_t starts[16], cuts[4] = {0, 100, 200, 250}, k;
	unsigned seed = 3;
	int i;

	(void)state;
	/* flat, a ramp, a step down, flat: three changes */
	for (i = 0; i < 300; i++) {
		t[i] = 60.0 * i;
		v[i] = i < 100 ? 100 : i < 200 ? 100 + 2.0 * (i - 100) : 150;
		v[i] += gauss(&seed);
	}
	assert_int_equal(trend_prefix_init(&p, t, v, NULL, 300), 0);
	trend_prefix_line(&p, 100, 200, &line);
	assert_float_equal(line.slope, 2.0 / 60, 0.001);
	assert_true(line.rss / 98 < 2);
	k = trend_segments(&p, 3 * 1 * log(300.0), 5, starts, 16);
	assert_int_equal(k, 3);
	assert_true(starts[0] == 0);
	assert_true(starts[1] >= 98 && starts[1] <= 102);
	assert_true(starts[2] >= 198 && starts[2] <= 201);
	/* a huge penalty: one line; merging at given cuts: the best subset */
	assert_int_equal(trend_segments(&p, 1e12, 5, starts, 16), 1);
	k = trend_segments_at(&p, 3 * log(300.0), cuts, 4, starts);
	assert_int_equal(k, 3);
	assert_true(starts[1] == 100 && starts[2] == 200);
	trend_prefix_free(&p);
}

/* Stamps that go back, NaN and huge ones: never more windows than asked. */
static void
envelope_of_disordered_stamps(void **state)
{
	double t[200], v[200], et[4], ev[4];
	size_t i, n;

	(void)state;
	for (i = 0; i < 200; i++) {
		t[i] = (i % 2 ? 1000.0 : 0.0) - (double)i; /* back and forth */
		v[i] = (double)i;
	}
	t[199] = 100;
	t[50] = NAN;
	t[60] = 1e308;
	t[70] = -1e308;
	n = trend_envelope(t, v, 200, 4, true, et, ev);
	assert_true(n >= 1 && n <= 4);
	t[0] = NAN;
	n = trend_envelope(t, v, 200, 4, false, et, ev);
	assert_true(n >= 1 && n <= 4);
}

/* Blocks of rows: means, minima and maxima per slot; a new block after
 * each end. */
static void
blocks_of_rows(void **state)
{
	struct trend_block b;
	const double r1[] = {1, -2}, r2[] = {3, 5}, r3[] = {10, 0};

	(void)state;
	assert_int_equal(trend_block_init(&b, 2), 0);
	trend_block_add(&b, r1);
	trend_block_add(&b, r2);
	assert_int_equal(b.n, 2);
	assert_true(b.min[0] == 1 && b.max[0] == 3);
	assert_true(b.min[1] == -2 && b.max[1] == 5);
	trend_block_end(&b);
	assert_true(b.sum[0] == 2 && b.sum[1] == 1.5);
	assert_int_equal(b.n, 0);
	trend_block_add(&b, r3);
	assert_true(b.min[0] == 10 && b.max[1] == 0 && b.sum[0] == 10);
	trend_block_free(&b);
	assert_null(b.sum);
}

/* The sign-flip test against counts by hand: five steps up of one size
 * are 1 pattern in 32; a step back down of the same size, 6 of 64 reach
 * the sum; the normal approximation beyond the exact range. */
static void
sign_flip_by_hand(void **state)
{
	double up5[] = {1, 1, 1, 1, 1}, mixed[] = {1, 1, 1, 1, 1, -1};
	double cache[] = {32, 32, 32, 28, -20, -24, 12, 88, 28};
	double many[40];
	size_t i;

	(void)state;
	assert_float_equal(trend_sign_flip_p(up5, 5), 1.0 / 32, 1e-12);
	/* sum 4 of six unit steps: at least 5 of 6 up, 7 patterns of 64 */
	assert_float_equal(trend_sign_flip_p(mixed, 6), 7.0 / 64, 1e-12);
	/* a heap's pages both ways (issue 23's c:cache): not below 0.02 */
	assert_true(trend_sign_flip_p(cache, 9) > 0.02);
	assert_float_equal(trend_sign_flip_p(NULL, 0), 1, 0);
	for (i = 0; i < 40; i++)
		many[i] =
		    i % 4 == 0 ? -1 : 1; /* 30 up, 10 down: z = 20/sqrt(40) */
	assert_float_equal(trend_sign_flip_p(many, 40),
	                   trend_norm_sf(20 / sqrt(40)), 1e-12);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(median_and_quantile),
	    cmocka_unit_test(envelope_of_disordered_stamps),
	    cmocka_unit_test(normal_tail),
	    cmocka_unit_test(ols_by_hand),
	    cmocka_unit_test(mann_kendall_by_hand),
	    cmocka_unit_test(mann_kendall_large_matches_pairs),
	    cmocka_unit_test(theil_sen_by_hand),
	    cmocka_unit_test(theil_sen_sampled_on_a_line),
	    cmocka_unit_test(envelope_minima_and_maxima),
	    cmocka_unit_test(noise_white_ar_and_walk),
	    cmocka_unit_test(segments_find_regimes),
	    cmocka_unit_test(blocks_of_rows),
	    cmocka_unit_test(sign_flip_by_hand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
