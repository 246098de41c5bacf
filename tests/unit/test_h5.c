/* lib/h5, lib/shepherd and the streaming statistics of lib/trend. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "h5.h"
#include "h5_table.h"
#include "shepherd.h"
#include "trend.h"

#define ROWS 25000

static char path[64];

/* A file written with the C API: LZF through our filter, a gain. */
static void
write_fixture(void)
{
	hsize_t dims = ROWS, chunk = 10000, one = 1;
	hid_t f, space, dcpl, d, str, aspace, a;
	static unsigned v[ROWS];
	static const char *msgs[3] = {"a", "b\"c", "d\n"};
	double gain = 3e-9;
	int i;

	for (i = 0; i < ROWS; i++)
		v[i] = (unsigned)i * 7u;
	f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(f >= 0);
	space = H5Screate_simple(1, &dims, NULL);
	dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_chunk(dcpl, 1, &chunk);
	assert_true(H5Pset_filter(dcpl, H5_FILTER_LZF_ID, H5Z_FLAG_OPTIONAL, 0,
	                          NULL) >= 0);
	d = H5Dcreate2(f, "volts", H5T_STD_U32LE, space, H5P_DEFAULT, dcpl,
	               H5P_DEFAULT);
	assert_true(H5Dwrite(d, H5T_NATIVE_UINT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
	                     v) >= 0);
	aspace = H5Screate_simple(1, &one, NULL);
	a = H5Acreate2(d, "gain", H5T_IEEE_F64LE, aspace, H5P_DEFAULT,
	               H5P_DEFAULT);
	H5Awrite(a, H5T_NATIVE_DOUBLE, &gain);
	H5Aclose(a);
	H5Dclose(d);
	H5Sclose(space);
	dims = 3;
	space = H5Screate_simple(1, &dims, NULL);
	str = H5Tcopy(H5T_C_S1);
	H5Tset_size(str, H5T_VARIABLE);
	H5Tset_cset(str, H5T_CSET_UTF8);
	d = H5Dcreate2(f, "log", str, space, H5P_DEFAULT, H5P_DEFAULT,
	               H5P_DEFAULT);
	H5Dwrite(d, str, H5S_ALL, H5S_ALL, H5P_DEFAULT, msgs);
	a = H5Acreate2(f, "mode", str, aspace, H5P_DEFAULT, H5P_DEFAULT);
	H5Awrite(a, str, &msgs[1]);
	H5Aclose(a);
	H5Dclose(d);
	H5Tclose(str);
	H5Sclose(space);
	H5Sclose(aspace);
	H5Pclose(dcpl);
	H5Fclose(f);
}

static int
setup(void **state)
{
	char msg[256];

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_h5.%d.h5", (int)getpid());
	assert_int_equal(h5_init(msg, sizeof(msg)), 0);
	write_fixture();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void
lzf_round_trip_in_blocks(void **state)
{
	struct h5_column c;
	char msg[256], filters[64];
	uint64_t first, i;
	hid_t f;

	(void)state;
	assert_int_equal(h5_open(&f, path, msg, sizeof(msg)), 0);
	assert_int_equal(
	    h5_column_open(&c, f, "/", "volts", 10000, msg, sizeof(msg)), 0);
	assert_int_equal(
	    h5_filters(c.dset, filters, sizeof(filters), msg, sizeof(msg)), 0);
	assert_string_equal(filters, "lzf(32000)");
	assert_int_equal(c.rows, ROWS);
	assert_int_equal(c.chunk, 10000);
	assert_int_equal(c.type, H5_COL_UINT);
	assert_true(c.has_gain && c.gain == 3e-9 && c.offset == 0);
	for (first = 0; first < ROWS; first += 10000) {
		uint64_t n = ROWS - first < 10000 ? ROWS - first : 10000;

		assert_int_equal(h5_column_read(&c, first, n, msg, sizeof(msg)),
		                 0);
		for (i = 0; i < n; i++)
			assert_int_equal(h5_col_uint(&c, i, 0),
			                 (first + i) * 7);
	}
	h5_column_close(&c);
	assert_int_equal(h5_close(f), 0);
	assert_int_equal(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), 0);
}

/* Blocks read on the second thread arrive in order, in both columns. */
static void
read_ahead_keeps_order(void **state)
{
	struct h5_column c[2], *cols[2] = {&c[0], &c[1]};
	struct h5_reader r;
	char msg[256];
	uint64_t first, next, i;
	hid_t f;
	int k;

	(void)state;
	assert_int_equal(h5_open(&f, path, msg, sizeof(msg)), 0);
	for (k = 0; k < 2; k++)
		assert_int_equal(h5_column_open(&c[k], f, "/", "volts", 7000,
		                                msg, sizeof(msg)),
		                 0);
	h5_reader_start(&r, cols, 2);
	assert_true(r.threaded);
	assert_int_equal(h5_reader_wait(&r, msg, sizeof(msg)), 0); /* idle */
	h5_reader_request(&r, 0, 7000);
	for (first = 0; first < ROWS; first = next) {
		next = first + 7000 < ROWS ? first + 7000 : ROWS;
		assert_int_equal(h5_reader_wait(&r, msg, sizeof(msg)), 0);
		if (next < ROWS)
			h5_reader_request(
			    &r, next,
			    (next + 7000 < ROWS ? next + 7000 : ROWS) - next);
		for (k = 0; k < 2; k++) {
			assert_int_equal(c[k].nrows, next - first);
			for (i = 0; i < next - first; i++)
				assert_int_equal(h5_col_uint(&c[k], i, 0),
				                 (first + i) * 7);
		}
	}
	/* Past the end: the thread's error comes back whole, on one line. */
	h5_reader_request(&r, ROWS - 10, 20);
	assert_int_equal(h5_reader_wait(&r, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "/volts"));
	assert_null(strchr(msg, '\n'));
	/* Stopped with a read under way: it ends first, close reclaims. */
	h5_reader_request(&r, 0, 7000);
	h5_reader_stop(&r);
	for (k = 0; k < 2; k++)
		h5_column_close(&c[k]);
	assert_int_equal(h5_close(f), 0);
}

/* vlen strings read ahead are reclaimed on the reader's thread. */
static void
read_ahead_of_strings(void **state)
{
	struct h5_column c, *cols[1] = {&c};
	struct h5_reader r;
	char msg[256];
	const char *want[3] = {"a", "b\"c", "d\n"}, *s;
	size_t n;
	uint64_t i;
	hid_t f;

	(void)state;
	assert_int_equal(h5_open(&f, path, msg, sizeof(msg)), 0);
	assert_int_equal(h5_column_open(&c, f, "/", "log", 1, msg, sizeof(msg)),
	                 0);
	h5_reader_start(&r, cols, 1);
	h5_reader_request(&r, 0, 1);
	for (i = 0; i < 3; i++) {
		assert_int_equal(h5_reader_wait(&r, msg, sizeof(msg)), 0);
		if (i < 2)
			h5_reader_request(&r, i + 1, 1);
		s = h5_col_text(&c, 0, &n);
		assert_int_equal(n, strlen(want[i]));
		assert_memory_equal(s, want[i], n);
	}
	h5_reader_stop(&r);
	h5_column_close(&c);
	assert_int_equal(h5_close(f), 0);
	assert_int_equal(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), 0);
}

static void
vlen_strings_and_attributes(void **state)
{
	struct h5_column c;
	char msg[256], mode[16];
	size_t n;
	const char *s;
	hid_t f;

	(void)state;
	assert_int_equal(h5_open(&f, path, msg, sizeof(msg)), 0);
	assert_int_equal(h5_attr_string(f, "mode", mode, sizeof(mode)), 0);
	assert_string_equal(mode, "b\"c");
	assert_int_equal(h5_column_open(&c, f, "/", "log", 4, msg, sizeof(msg)),
	                 0);
	assert_int_equal(c.type, H5_COL_STRING);
	assert_int_equal(h5_column_read(&c, 1, 2, msg, sizeof(msg)), 0);
	s = h5_col_text(&c, 1, &n);
	assert_int_equal(n, 2);
	assert_memory_equal(s, "d\n", 2);
	h5_column_close(&c); /* reclaims: valgrind would say otherwise */
	assert_int_equal(
	    h5_column_open(&c, f, "/", "nope", 4, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "/nope: no such dataset");
	h5_column_close(&c);
	assert_int_equal(h5_close(f), 0);
}

static void
errors_are_one_line(void **state)
{
	char msg[256], txt[sizeof(path) + 8];
	FILE *fp;
	hid_t f;

	(void)state;
	snprintf(txt, sizeof(txt), "%s.txt", path);
	fp = fopen(txt, "w");
	fputs("plain text\n", fp);
	fclose(fp);
	assert_int_equal(h5_open(&f, txt, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "not an HDF5 file"));
	unlink(txt);
	assert_int_equal(h5_open(&f, "/nonexistent/x.h5", msg, sizeof(msg)),
	                 -1);
	assert_non_null(strstr(msg, "No such file"));
	assert_null(strchr(msg, '\n'));
}

static void
time_scales(void **state)
{
	struct h5_column c = {.has_gain = true, .gain = 1e-9, .offset = 0};
	struct h5_time_scale t;

	(void)state;
	h5_time_scale(&c, &t);
	assert_int_equal(h5_time_ns(&t, 1700000000000000001LL),
	                 1700000000000000001LL);
	c.gain = 1e-6; /* microseconds */
	h5_time_scale(&c, &t);
	assert_int_equal(h5_time_ns(&t, 1700000000000001LL),
	                 1700000000000001000LL);
	c.has_gain = false; /* v1, v2: nanoseconds */
	h5_time_scale(&c, &t);
	assert_int_equal(h5_time_ns(&t, 42), 42);
}

static void
shepherd_rules(void **state)
{
	(void)state;
	assert_int_equal(shepherd_layout("harvesting", false), SHEPHERD_V1);
	assert_int_equal(shepherd_layout("emulator", false), SHEPHERD_V2);
	assert_int_equal(shepherd_layout("harvester", true), SHEPHERD_CURRENT);
	assert_int_equal(shepherd_layout("sleeping", true), SHEPHERD_NONE);
	assert_true(shepherd_datatype_ok("harvester", "isc_voc"));
	assert_true(shepherd_datatype_ok("emulator", "ivsample"));
	assert_false(shepherd_datatype_ok("emulator", "ivcurve"));
	assert_false(shepherd_datatype_ok(NULL, "ivsample"));
	assert_true(shepherd_field_rank("time") <
	            shepherd_field_rank("voltage"));
	assert_true(shepherd_field_rank("current") <
	            shepherd_field_rank("cpu"));
}

/* Welford keeps the variance where the textbook formula cancels. */
static void
running_stats_are_stable(void **state)
{
	struct trend_running r = {0};
	struct trend_sum s = {0};
	int i;

	(void)state;
	for (i = 0; i < 1000000; i++)
		trend_running_add(&r, 1e9 + (i % 2 ? 1 : -1));
	assert_true(r.n == 1000000 && r.min == 1e9 - 1 && r.max == 1e9 + 1);
	assert_true(fabs(r.mean - 1e9) < 1e-6);
	assert_true(fabs(trend_running_std(&r) - 1.0000005) < 1e-6);
	trend_running_add(&r, NAN); /* ignored */
	assert_true(r.n == 1000000);
	trend_sum_add(&s, 1e16);
	for (i = 0; i < 1000; i++)
		trend_sum_add(&s, 1.0);
	trend_sum_add(&s, -1e16);
	assert_true(trend_sum_value(&s) == 1000.0);
}

/* Stamps of a corrupt file saturate instead of overflowing. */
static void
stamp_arithmetic_saturates(void **state)
{
	struct h5_time_scale t = {0};

	(void)state;
	assert_true(h5_stamp_sub(INT64_MIN, 1) == INT64_MIN);
	assert_true(h5_stamp_sub(INT64_MAX, -1) == INT64_MAX);
	assert_true(h5_stamp_sub(5, 7) == -2);
	assert_true(h5_stamp_add(INT64_MAX, 1) == INT64_MAX);
	assert_true(h5_stamp_add(INT64_MIN, -1) == INT64_MIN);
	assert_true(h5_stamp_of_double(NAN) == 0);
	assert_true(h5_stamp_of_double(1e300) == INT64_MAX);
	assert_true(h5_stamp_of_double(-1e300) == INT64_MIN);
	assert_true(h5_stamp_of_double(-2.5) == -2);
	t.ns_per_unit = 1000000000;
	assert_true(h5_time_ns(&t, INT64_MAX / 2) == INT64_MAX);
	assert_true(h5_time_ns(&t, INT64_MIN / 2) == INT64_MIN);
	t.ns_per_unit = 0;
	t.scale = 1e300;
	assert_true(h5_time_ns(&t, 3) == INT64_MAX);
	t.scale = 2.5;
	t.offset_ns = INT64_MAX;
	assert_true(h5_time_ns(&t, 4) == INT64_MAX);
}

/* /data of a recording: time every 10 us, voltage and current with gains;
 * current one row short when short_current. */
static void
write_recording(const char *file, bool short_current)
{
	static uint64_t t[50000];
	static unsigned v[50000];
	hsize_t n = 50000, chunk = 10000, one = 1;
	const char *names[] = {"time", "voltage", "current"};
	double gains[] = {0, 1e-3, 1e-6};
	hid_t f, g, space, dcpl, ds, aspace, a;
	int i, k;

	for (i = 0; i < 50000; i++) {
		t[i] = 1700000000000000000u + (uint64_t)i * 10000;
		v[i] = (unsigned)(i % 1000);
	}
	f = H5Fcreate(file, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	g = H5Gcreate2(f, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_chunk(dcpl, 1, &chunk);
	aspace = H5Screate_simple(1, &one, NULL);
	for (k = 0; k < 3; k++) {
		n = short_current && k == 2 ? 49999 : 50000;
		space = H5Screate_simple(1, &n, NULL);
		ds = H5Dcreate2(g, names[k],
		                k == 0 ? H5T_STD_U64LE : H5T_STD_U32LE, space,
		                H5P_DEFAULT, dcpl, H5P_DEFAULT);
		H5Dwrite(ds, k == 0 ? H5T_NATIVE_UINT64 : H5T_NATIVE_UINT,
		         H5S_ALL, H5S_ALL, H5P_DEFAULT, k == 0 ? (void *)t : v);
		if (k > 0) {
			a = H5Acreate2(ds, "gain", H5T_IEEE_F64LE, aspace,
			               H5P_DEFAULT, H5P_DEFAULT);
			H5Awrite(a, H5T_NATIVE_DOUBLE, &gains[k]);
			H5Aclose(a);
			a = H5Acreate2(ds, "offset", H5T_IEEE_F64LE, aspace,
			               H5P_DEFAULT, H5P_DEFAULT);
			H5Awrite(a, H5T_NATIVE_DOUBLE, &gains[0]);
			H5Aclose(a);
		}
		H5Dclose(ds);
		H5Sclose(space);
	}
	H5Sclose(aspace);
	H5Pclose(dcpl);
	H5Gclose(g);
	H5Fclose(f);
}

struct seen {
	uint64_t rows;
	int64_t last;
	struct shepherd_stats *st;
	struct h5_table *t;
	uint64_t progress;
	bool ended;
};

static int
see_row(void *data, uint64_t i, int64_t ts)
{
	struct seen *s = data;

	s->rows++;
	s->last = ts;
	if (s->st != NULL)
		shepherd_stats_add(s->st, s->t, i, ts, false);
	return 0;
}

static void
see_progress(void *data, uint64_t done, uint64_t total, bool last)
{
	struct seen *s = data;

	s->progress += done;
	s->ended = last && total == s->progress;
}

/* lib/h5_table's opening, selection and passes, and lib/shepherd's
 * statistics and findings over them. */
static void
table_selects_and_passes(void **state)
{
	char file[64], msg[256];
	struct h5_table t = {0};
	struct shepherd_stats st;
	struct shepherd_finding f[SHEPHERD_COLUMN_FINDINGS];
	struct h5_selection sel = {false, true, true, 0.1, 0.2};
	struct seen seen = {0};
	struct h5_pass pass = {1000, false, see_row, see_progress, &seen, NULL};
	char *only_current[] = {"current", NULL};
	int64_t stamps[3] = {0, 10, 30};
	hid_t fh;
	int n, i;

	(void)state;
	snprintf(file, sizeof(file), "/tmp/test_h5t.%d.h5", (int)getpid());
	write_recording(file, false);
	assert_int_equal(h5_open(&fh, file, msg, sizeof(msg)), 0);
	assert_int_equal(h5_table_open(&t, fh, "/data", NULL, true,
	                               shepherd_field_rank, msg, sizeof(msg)),
	                 0);
	assert_int_equal(t.ncol, 3);
	assert_int_equal(t.time, 0);
	assert_string_equal(t.col[1].name, "voltage");
	assert_int_equal(t.block, 60000);
	assert_int_equal(t.nslot, 2);
	assert_int_equal(h5_table_column(&t, "current"), 2);
	assert_int_equal(h5_table_column(&t, "time"), -1);
	/* 0.1 s to 0.2 s of 10 us rows: rows 10000 to 20000, every 1000th */
	assert_int_equal(h5_table_select(&t, &sel, msg, sizeof(msg)), 0);
	assert_int_equal(t.first, 10000);
	assert_int_equal(t.last, 20000);
	assert_int_equal(h5_table_run(&t, &pass, msg, sizeof(msg)), 0);
	assert_int_equal(seen.rows, 10);
	assert_int_equal(seen.last, 1700000000000000000 + 19000 * 10000LL);
	assert_true(seen.ended);
	/* statistics of every row: energy is the sum of v * i * 10 us */
	sel = (struct h5_selection){0};
	assert_int_equal(h5_table_select(&t, &sel, msg, sizeof(msg)), 0);
	assert_int_equal(shepherd_stats_init(&st, &t), 0);
	seen = (struct seen){.st = &st, .t = &t};
	pass = (struct h5_pass){0, false, see_row, NULL, &seen, NULL};
	assert_int_equal(h5_table_run(&t, &pass, msg, sizeof(msg)), 0);
	assert_int_equal(st.rows, 50000);
	assert_true(fabs(shepherd_stats_rate(&st) - 1e5) < 1e-6);
	{
		double e = 0;

		for (i = 0; i < 50000; i++)
			e += (i % 1000) * 1e-3 * (i % 1000) * 1e-6 * 1e-5;
		assert_true(fabs(shepherd_stats_energy(&st) - e) < 1e-12);
	}
	assert_true(fabs(st.slot[0].max - 0.999) < 1e-12);
	shepherd_stats_free(&st);
	/* every finding passes but time's calibration, asked of "current" */
	n = shepherd_check_columns(t.col, t.ncol, SHEPHERD_CURRENT, NULL, f);
	assert_int_equal(n, 7);
	for (i = 0; i < n; i++)
		assert_true(f[i].ok ==
		            (strcmp(f[i].check, "calibration") != 0 ||
		             strcmp(f[i].value, "/data/time") != 0));
	h5_table_close(&t);
	/* -d current and a dataset path both mean time and that one */
	assert_int_equal(h5_table_open(&t, fh, "/data", only_current, true,
	                               shepherd_field_rank, msg, sizeof(msg)),
	                 0);
	assert_int_equal(t.ncol, 2);
	h5_table_close(&t);
	assert_int_equal(h5_table_open(&t, fh, "/data/voltage", NULL, true,
	                               shepherd_field_rank, msg, sizeof(msg)),
	                 0);
	assert_string_equal(t.path, "/data");
	assert_int_equal(t.ncol, 2);
	assert_string_equal(t.col[1].name, "voltage");
	h5_table_close(&t);
	assert_int_equal(h5_table_open(&t, fh, "/nope", NULL, true,
	                               shepherd_field_rank, msg, sizeof(msg)),
	                 -1);
	assert_string_equal(msg, "/nope: no such group");
	h5_table_close(&t);
	assert_int_equal(h5_close(fh), 0);
	/* unequal lengths: refused, and a failed lengths finding */
	write_recording(file, true);
	assert_int_equal(h5_open(&fh, file, msg, sizeof(msg)), 0);
	assert_int_equal(h5_table_open(&t, fh, "/data", NULL, true,
	                               shepherd_field_rank, msg, sizeof(msg)),
	                 -1);
	assert_non_null(strstr(msg, "datasets differ in length"));
	n = shepherd_check_columns(t.col, t.ncol, SHEPHERD_V2, msg, f);
	/* v2: time needs no calibration; current's 49999 rows are not
	 * whole chunks */
	assert_int_equal(n, 6);
	assert_string_equal(f[4].check, "chunks");
	assert_string_equal(f[4].value, "/data/current");
	assert_false(f[4].ok);
	assert_string_equal(f[n - 1].check, "lengths");
	assert_false(f[n - 1].ok);
	h5_table_close(&t);
	assert_int_equal(h5_close(fh), 0);
	unlink(file);
	assert_int_equal(shepherd_expected_step(stamps, 3), 15);
	assert_int_equal(shepherd_expected_step(stamps, 1), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(lzf_round_trip_in_blocks),
	    cmocka_unit_test(stamp_arithmetic_saturates),
	    cmocka_unit_test(read_ahead_keeps_order),
	    cmocka_unit_test(read_ahead_of_strings),
	    cmocka_unit_test(vlen_strings_and_attributes),
	    cmocka_unit_test(errors_are_one_line),
	    cmocka_unit_test(time_scales),
	    cmocka_unit_test(shepherd_rules),
	    cmocka_unit_test(running_stats_are_stable),
	    cmocka_unit_test(table_selects_and_passes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
