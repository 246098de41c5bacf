/* Unit tests of lib/venus: service templates, settings idents,
 * /Mgmt/Connection and class:instance values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <string.h>
#include <cmocka.h>

#include "venus.h"

static void
templates(void **state)
{
	char type[64], err[256];
	bool per_unit;
	static const char *const bad[] = {
	    "org.example.x",
	    "com.victronenergy.pvinverter",
	    "com.victronenergy..x",
	    "com.victronenergy.pvinverter.",
	    "com.victronenergy.{unit}.x",
	    "com.victronenergy.pvinverter.a{b}",
	    "com.victronenergy.pvinverter.a}",
	    "com.victronenergy.pvinverter.a{unit",
	};

	(void)state;
	assert_int_equal(
	    venus_parse_template("com.victronenergy.pvinverter.gw_1", type,
	                         sizeof(type), &per_unit, err, sizeof(err)),
	    0);
	assert_string_equal(type, "pvinverter");
	assert_false(per_unit);
	assert_int_equal(venus_parse_template(
	                     "com.victronenergy.pvinverter.gw_{unit}_{serial}",
	                     type, sizeof(type), &per_unit, err, sizeof(err)),
	                 0);
	assert_true(per_unit);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(venus_parse_template(bad[i], type,
		                                      sizeof(type), &per_unit,
		                                      err, sizeof(err)),
		                 -1);
	assert_non_null(strstr(err, "unknown placeholder"));
}

static void
expansion(void **state)
{
	char out[64], err[256];

	(void)state;
	assert_int_equal(venus_expand("com.victronenergy.pvinverter.gw_{unit}",
	                              5, NULL, out, sizeof(out), err,
	                              sizeof(err)),
	                 0);
	assert_string_equal(out, "com.victronenergy.pvinverter.gw_5");
	assert_int_equal(venus_expand("com.x.gw_{serial}", 5, "AB-12 3", out,
	                              sizeof(out), err, sizeof(err)),
	                 0);
	assert_string_equal(out, "com.x.gw_AB_12_3");
	assert_int_equal(venus_expand("com.x.gw_{serial}", 5, NULL, out,
	                              sizeof(out), err, sizeof(err)),
	                 -1);
	assert_int_equal(venus_expand("com.x.gw_{serial}", 5, "", out,
	                              sizeof(out), err, sizeof(err)),
	                 -1);
	assert_int_equal(venus_expand("com.victronenergy.pvinverter."
	                              "a_very_long_name_{serial}",
	                              1, "0123456789012345678901234567890", out,
	                              sizeof(out), err, sizeof(err)),
	                 -1);
}

static void
idents(void **state)
{
	char out[64];

	(void)state;
	venus_ident("growatt", "SIM0000001", "com.x.y.gw_1", out, sizeof(out));
	assert_string_equal(out, "growatt_SIM0000001");
	venus_ident("growatt", "AB/12.3 ", "com.x.y.gw_1", out, sizeof(out));
	assert_string_equal(out, "growatt_AB_12_3_");
	venus_ident("growatt", NULL, "com.x.y.gw-1", out, sizeof(out));
	assert_string_equal(out, "gw_1");
	venus_ident("growatt", "", "com.x.y.gw_1", out, sizeof(out));
	assert_string_equal(out, "gw_1");
	venus_ident("growatt", "x", "com.x.y.gw_1", out, 5);
	assert_string_equal(out, "grow");
}

static void
connections(void **state)
{
	char out[128];

	(void)state;
	venus_connection("rtu:/dev/ttyUSB0:9600", 1, out, sizeof(out));
	assert_string_equal(out, "Modbus RTU ttyUSB0:1");
	venus_connection("tcp:192.0.2.10:502", 3, out, sizeof(out));
	assert_string_equal(out, "Modbus TCP 192.0.2.10:3");
	venus_connection("tcp:192.0.2.10", 1, out, sizeof(out));
	assert_string_equal(out, "Modbus TCP 192.0.2.10:1");
	venus_connection("something else", 1, out, sizeof(out));
	assert_string_equal(out, "something else");
}

static void
class_instances(void **state)
{
	char cls[16];
	long n;

	(void)state;
	assert_int_equal(
	    venus_class_instance("pvinverter:21", cls, sizeof(cls), &n), 0);
	assert_string_equal(cls, "pvinverter");
	assert_int_equal(n, 21);
	assert_int_equal(
	    venus_class_instance("pvinverter", cls, sizeof(cls), &n), -1);
	assert_int_equal(venus_class_instance(":2", cls, sizeof(cls), &n), -1);
	assert_int_equal(venus_class_instance("a:2:3", cls, sizeof(cls), &n),
	                 -1);
	assert_int_equal(venus_class_instance("a:x", cls, sizeof(cls), &n), -1);
	assert_int_equal(venus_class_instance("a:", cls, sizeof(cls), &n), -1);
	assert_int_equal(venus_class_instance("averyveryverylongclass:1", cls,
	                                      sizeof(cls), &n),
	                 -1);
	assert_int_equal(venus_class_instance(NULL, cls, sizeof(cls), &n), -1);
}

/* Watts to percent, sent only when it changes and not too often. */
static void
power_limit(void **state)
{
	struct venus_limit l;
	uint64_t due = 0;

	(void)state;
	venus_limit_init(&l, 5000, 5000);
	assert_int_equal(venus_limit_percent(&l, 2000), 40);
	assert_int_equal(venus_limit_percent(&l, 5000), 100);
	assert_int_equal(venus_limit_percent(&l, 0), 0);
	assert_int_equal(venus_limit_percent(&l, 2024), 40);
	assert_int_equal(venus_limit_percent(&l, 2026), 41);
	assert_int_equal(venus_limit_percent(&l, 9000), 100); /* bounded */
	assert_int_equal(venus_limit_percent(&l, -1), 0);
	assert_int_equal(venus_limit_percent(&l, 0.0 / 0.0), -1);
	venus_limit_init(&l, 0, 5000); /* rated power not known yet */
	assert_int_equal(venus_limit_percent(&l, 2000), -1);
	venus_limit_init(&l, 5000, 5000);
	assert_int_equal(venus_limit_request(&l, 40, 1000), 40); /* first */
	assert_int_equal(venus_limit_request(&l, 40, 2000), -1); /* same */
	assert_int_equal(venus_limit_request(&l, 60, 3000), -1); /* too soon */
	assert_int_equal(venus_limit_request(&l, 70, 4000), -1); /* latest */
	assert_int_equal(venus_limit_due(&l, 5000, &due), -1);
	assert_true(due == 6000);
	assert_int_equal(venus_limit_due(&l, 6000, &due), 70);
	assert_int_equal(venus_limit_due(&l, 20000, &due), -1); /* sent */
	assert_int_equal(venus_limit_request(&l, 50, 7000), -1);
	assert_int_equal(venus_limit_request(&l, 70, 8000), -1); /* back */
	assert_int_equal(venus_limit_due(&l, 20000, &due), -1);
	assert_int_equal(venus_limit_request(&l, 101, 30000), -1);
	assert_int_equal(venus_limit_request(&l, 10, 30000), 10);
	assert_true(venus_limit_watts(&l, 10) == 500);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(power_limit), cmocka_unit_test(templates),
	    cmocka_unit_test(expansion),   cmocka_unit_test(idents),
	    cmocka_unit_test(connections), cmocka_unit_test(class_instances),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
