/* Unit tests of lib/mb and lib/regmap: bus specs, unit lists, decoding of
 * hand-made register frames, planning, and map errors with positions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mb.h"
#include "regmap.h"

static void
bus_specs(void **state)
{
	struct mb_bus b;
	char err[200];

	(void)state;
	assert_int_equal(mb_parse_bus("rtu:/dev/ttyUSB0", &b, err, 200), 0);
	assert_int_equal(b.kind, MB_RTU);
	assert_string_equal(b.device, "/dev/ttyUSB0");
	assert_int_equal(b.baud, 9600);
	assert_int_equal(b.parity, 'N');
	assert_int_equal(mb_parse_bus("rtu:/dev/ttyS1:19200:8E1", &b, err, 200),
	                 0);
	assert_int_equal(b.baud, 19200);
	assert_int_equal(b.parity, 'E');
	assert_int_equal(b.stop_bits, 1);
	assert_int_equal(mb_parse_bus("rtu:/dev/x:9600:8N2", &b, err, 200), 0);
	assert_int_equal(b.stop_bits, 2);
	assert_int_equal(mb_parse_bus("tcp:192.0.2.1", &b, err, 200), 0);
	assert_int_equal(b.port, 502);
	assert_int_equal(mb_parse_bus("tcp:localhost:1502", &b, err, 200), 0);
	assert_int_equal(b.port, 1502);
	assert_string_equal(b.host, "localhost");
	assert_int_equal(mb_parse_bus("udp:x", &b, err, 200), -1);
	assert_non_null(strstr(err, "rtu:DEVICE"));
	assert_int_equal(mb_parse_bus("rtu:", &b, err, 200), -1);
	assert_int_equal(mb_parse_bus("rtu:/dev/x:fast", &b, err, 200), -1);
	assert_int_equal(mb_parse_bus("rtu:/dev/x:9600:8X1", &b, err, 200), -1);
	assert_int_equal(mb_parse_bus("tcp:h:99999", &b, err, 200), -1);
	assert_int_equal(mb_parse_bus("tcp::502", &b, err, 200), -1);
	assert_int_equal(mb_parse_bus(NULL, &b, err, 200), -1);
}

static void
unit_lists(void **state)
{
	bool u[256];
	char err[200];

	(void)state;
	assert_int_equal(mb_parse_units("1,5,10-12", u, 247, err, 200), 5);
	assert_true(u[1] && u[5] && u[10] && u[11] && u[12]);
	assert_false(u[2] || u[13]);
	assert_int_equal(mb_parse_units("1-247", u, 247, err, 200), 247);
	/* refused before libmodbus sees them */
	assert_int_equal(mb_parse_units("248", u, 247, err, 200), -1);
	assert_non_null(strstr(err, "1 to 247"));
	assert_int_equal(mb_parse_units("0", u, 247, err, 200), -1);
	assert_int_equal(mb_parse_units("255", u, 255, err, 200), 1);
	assert_int_equal(mb_parse_units("5-3", u, 247, err, 200), -1);
	assert_int_equal(mb_parse_units("a", u, 247, err, 200), -1);
	assert_int_equal(mb_parse_units("", u, 247, err, 200), -1);
}

static struct mb_reg
reg(const char *type, double scale)
{
	struct mb_reg r;

	memset(&r, 0, sizeof(r));
	assert_int_equal(mb_parse_type(type, &r.type, &r.words, &r.low_first),
	                 0);
	r.scale = scale;
	return r;
}

static void
decode_frames(void **state)
{
	/* hand-made frames, as the registers arrive on the wire */
	const uint16_t u32be[] = {0x0001, 0x2345}, u32le[] = {0x2345, 0x0001},
	               s32[] = {0xfffe, 0x7960}, f32[] = {0x4366, 0x8000},
	               u64[] = {0x0000, 0x0100, 0x0000, 0x0005},
	               s16[] = {0xfffe}, str[] = {0x2041, 0x4243, 0x0000},
	               scaled[] = {2301}, big[] = {0xffff, 0xffff};
	struct mb_reg r;
	struct mb_value v;

	(void)state;
	r = reg("u32", 1);
	mb_decode(&r, u32be, &v);
	assert_float_equal(v.num, 74565, 0);
	r = reg("u32le", 1);
	mb_decode(&r, u32le, &v);
	assert_float_equal(v.num, 74565, 0);
	r = reg("s32", 1);
	mb_decode(&r, s32, &v);
	assert_float_equal(v.num, -100000, 0);
	r = reg("f32", 1);
	mb_decode(&r, f32, &v);
	assert_float_equal(v.num, 230.5, 0);
	r = reg("u64", 1);
	mb_decode(&r, u64, &v);
	assert_float_equal(v.num, 1099511627781.0, 0);
	r = reg("s16", 0.1);
	mb_decode(&r, s16, &v);
	assert_float_equal(v.num, -0.2, 1e-12);
	r = reg("u16", 0.1);
	mb_decode(&r, scaled, &v);
	assert_true(v.num ==
	            230.1); /* exactly the decimal, not 230.10000000000002 */
	r = reg("u32", 0.1);
	mb_decode(&r, big, &v);
	assert_float_equal(v.num, 429496729.5, 1e-6);
	r = reg("str:3", 1);
	mb_decode(&r, str, &v);
	assert_int_equal(v.kind, MB_TEXT);
	assert_string_equal(v.text, "ABC"); /* space and NUL trimmed */
	assert_int_equal(
	    mb_parse_type("u16le", &r.type, &r.words, &r.low_first), -1);
	assert_int_equal(mb_parse_type("u17", &r.type, &r.words, &r.low_first),
	                 -1);
	assert_int_equal(
	    mb_parse_type("str:0", &r.type, &r.words, &r.low_first), -1);
}

static void
text_and_invalid(void **state)
{
	long raw[] = {0, 1, 3}, invalid[] = {65535};
	char *labels[] = {"waiting", "normal", "fault"};
	const uint16_t three[] = {3}, ffff[] = {0xffff}, seven[] = {7};
	struct mb_reg r = reg("u16", 1);
	struct mb_value v;

	(void)state;
	r.text_raw = raw;
	r.text = labels;
	r.ntext = 3;
	r.invalid = invalid;
	r.ninvalid = 1;
	mb_decode(&r, three, &v);
	assert_float_equal(v.num, 3, 0);
	assert_string_equal(v.label, "fault");
	mb_decode(&r, ffff, &v);
	assert_int_equal(v.kind, MB_NONE);
	mb_decode(&r, seven, &v);
	assert_null(v.label);
}

static void
encode_round_trips(void **state)
{
	const char *types[] = {"u16", "s16", "u32", "s32le",
	                       "u64", "s64", "f32"};
	const double values[] = {65535,           -32768, 74565, -7,
	                         1099511627781.0, -3,     230.5};
	uint16_t w[8];
	struct mb_value v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct mb_reg r = reg(types[i], 1);

		mb_encode(&r, values[i], NULL, w);
		mb_decode(&r, w, &v);
		assert_float_equal(v.num, values[i], 0);
	}
}

static void
planning(void **state)
{
	struct mb_reg regs[6];
	struct mb_request q[8];
	size_t i;

	(void)state;
	for (i = 0; i < 6; i++)
		regs[i] = reg("u16", 1), regs[i].fc = MB_INPUT;
	regs[0].address = 0;
	regs[1].address = 1;
	regs[2] = reg("u32", 1), regs[2].fc = MB_INPUT, regs[2].address = 5;
	regs[3].address = 40; /* hole 33: its own request */
	regs[4].address = 45; /* hole 4: bridged */
	regs[5].fc = MB_HOLDING, regs[5].address = 2;
	assert_int_equal(mb_plan(regs, 6, 125, 16, q, 8), 3);
	assert_int_equal(q[0].fc, MB_HOLDING);
	assert_int_equal(q[1].address, 0);
	assert_int_equal(q[1].count, 7); /* 0..6, the u32 at 5 included */
	assert_int_equal(q[2].address, 40);
	assert_int_equal(q[2].count, 6);
	/* a maximum of 4 registers splits 0..6 */
	assert_int_equal(mb_plan(regs, 6, 4, 16, q, 8), 5);
	/* no holes bridged at all */
	assert_int_equal(mb_plan(regs, 6, 125, 0, q, 8), 5);
	assert_int_equal(mb_plan(regs, 0, 125, 0, q, 8), 0);
}

static void
write_planning(void **state)
{
	struct mb_reg r[5];
	const struct mb_reg *w[5];
	struct mb_request q[5];
	size_t order[5], clash[2], i;

	(void)state;
	for (i = 0; i < 5; i++)
		r[i] = reg("u16", 1), r[i].fc = MB_HOLDING, w[i] = &r[i];
	r[0].address = 4;
	r[1] = reg("u32", 1), r[1].fc = MB_HOLDING, r[1].address = 2;
	r[2].address = 0;
	r[3].address = 10; /* a gap: a request of its own */
	r[4].address = 5;
	/* 0 | 2-3 4 5 | 10: the adjacent ones are one function 16 */
	assert_int_equal(mb_plan_writes(w, 5, order, q, clash), 3);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[4], 3);
	assert_int_equal(q[0].address, 0);
	assert_int_equal(q[0].count, 1);
	assert_int_equal(q[1].address, 2);
	assert_int_equal(q[1].count, 4);
	assert_int_equal(q[2].address, 10);
	/* one register twice, or inside another's words: refused */
	r[4].address = 3;
	assert_int_equal(mb_plan_writes(w, 5, order, q, clash), -1);
	assert_true(clash[0] == 1 && clash[1] == 4);
	/* a run longer than one request can write is split */
	for (i = 0; i < 5; i++)
		r[i] = reg("str:40", 1), r[i].fc = MB_HOLDING,
		r[i].address = (uint16_t)(40 * i);
	assert_int_equal(mb_plan_writes(w, 5, order, q, clash), 2);
	assert_int_equal(q[0].count, 120);
	assert_int_equal(q[1].address, 120);
	assert_int_equal(mb_plan_writes(w, 0, order, q, clash), 0);
}

static void
growatt_map_in_few_requests(void **state)
{
	struct mb_request q[64];
	struct regmap m;
	char err[300];

	(void)state;
	assert_int_equal(regmap_load("growatt-v120", &m, err, sizeof(err)), 0);
	assert_int_equal(m.n, 31);
	/* writable: the active power rate and on/off, nothing else */
	for (size_t i = 0; i < m.n; i++)
		assert_int_equal(m.regs[i].writable,
		                 strcmp(m.regs[i].name, "active_power_rate") ==
		                         0 ||
		                     strcmp(m.regs[i].name, "on_off") == 0);
	assert_true(regmap_find(&m, "active_power_rate")->write_max == 100);
	assert_true(regmap_find(&m, "active_power_rate")->address == 3);
	assert_string_equal(regmap_find(&m, "rated_power")->dbus_path,
	                    "/Ac/MaxPower");
	assert_int_equal(m.min_gap_ms, 850);
	assert_string_equal(m.serial, "serial");
	assert_non_null(regmap_find(&m, "energy_total"));
	assert_string_equal(regmap_find(&m, "energy_total")->dbus_path,
	                    "/Ac/Energy/Forward");
	assert_int_equal(
	    mb_plan(m.regs, m.n, m.max_registers, m.max_hole, q, 64), 4);
	regmap_free(&m);
	assert_int_equal(regmap_load("growatt-v315", &m, err, sizeof(err)), 0);
	assert_int_equal(m.max_registers, 45);
	regmap_free(&m);
}

/* Write text to a temporary map and load it; returns the error or "". */
static const char *
load_text(const char *text)
{
	static char err[300];
	char path[] = "/tmp/gxkit-map-XXXXXX.csv";
	struct regmap m;
	int fd = mkstemps(path, 4);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	err[0] = '\0';
	if (regmap_load(path, &m, err, sizeof(err)) == 0)
		regmap_free(&m);
	unlink(path);
	/* drop the temporary path: keep ":LINE:COLUMN: what" */
	return strchr(err, ':') ? strchr(err, ':') : err;
}

#define HEAD "name,fc,address,type,scale,unit,dbus_path,description\n"

static void
map_errors_have_positions(void **state)
{
	(void)state;
	assert_string_equal(load_text(HEAD "a,input,0,u16,1,,,\n"), "");
	assert_string_equal(load_text(HEAD "a,input,0,u17,1,,,\n"),
	                    ":2:4: unknown type 'u17' (u16 s16 u32 s32 u64 "
	                    "s64 f32, le suffix, str:N)");
	assert_string_equal(load_text(HEAD "a,coil,0,u16,1,,,\n"),
	                    ":2:2: fc 'coil' is not input or holding");
	assert_string_equal(
	    load_text("# max-registers: 45\n" HEAD
	              "a,input,0,u16,1,,,\nb,input,70000,u16,1,,,\n"),
	    ":4:3: bad address '70000'");
	assert_string_equal(
	    load_text(HEAD "a,input,0,u16,1,,,\na,input,1,u16,1,,,\n"),
	    ":3:1: register 'a' twice");
	assert_string_equal(load_text(HEAD "a,input,0,u16,x,,,\n"),
	                    ":2:5: bad scale 'x'");
	assert_string_equal(load_text(HEAD "a,input,0,u16,1,,Ac,\n"),
	                    ":2:7: dbus_path 'Ac' does not start with /");
	assert_string_equal(load_text("name,fc,address\n"),
	                    ":1:1: header lacks the column 'type'");
	assert_string_equal(load_text(HEAD "a,input,0,u16\n"),
	                    ":2:5: 4 fields where the header has 8");
	assert_string_equal(
	    load_text("name,fc,address,type,scale,unit,"
	              "dbus_path,description,text\n"
	              "a,input,0,u16,1,,,,0=x;junk\n"),
	    ":2:9: bad text '0=x;junk' (want 0=waiting;1=normal)");
	assert_string_equal(load_text("# max-registers: 500\n" HEAD),
	                    ":1:3: bad max-registers '500'");
	assert_string_equal(load_text(HEAD), ":1:1: no registers");
#define HEADW                                                                  \
	"name,fc,address,type,scale,unit,dbus_path,description,text,invalid,"  \
	"write\n"
	assert_string_equal(load_text(HEADW "a,holding,3,u16,1,,,,,,0..100\n"),
	                    "");
	assert_string_equal(
	    load_text(HEADW "a,holding,3,s16,0.1,,,,,,-5.5..5\n"), "");
	assert_string_equal(
	    load_text(HEADW "a,input,3,u16,1,,,,,,0..100\n"),
	    ":2:11: bad write '0..100' (MIN..MAX, holding numbers "
	    "only)");
	assert_string_equal(
	    load_text(HEADW "a,holding,3,u16,1,,,,,,100..0\n"),
	    ":2:11: bad write '100..0' (MIN..MAX, holding numbers "
	    "only)");
	assert_string_equal(
	    load_text(HEADW "a,holding,3,str:2,1,,,,,,0..1\n"),
	    ":2:11: bad write '0..1' (MIN..MAX, holding numbers "
	    "only)");
	assert_string_equal(load_text(HEADW "a,holding,3,u16,1,,,,,,yes\n"),
	                    ":2:11: bad write 'yes' (MIN..MAX, holding numbers "
	                    "only)");
	assert_string_equal(load_text(HEAD "a,input,0,u16,1,\"x,,,\n"),
	                    ":2:6: error parsing data while strict checking "
	                    "enabled");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bus_specs),
	    cmocka_unit_test(unit_lists),
	    cmocka_unit_test(decode_frames),
	    cmocka_unit_test(text_and_invalid),
	    cmocka_unit_test(encode_round_trips),
	    cmocka_unit_test(planning),
	    cmocka_unit_test(write_planning),
	    cmocka_unit_test(growatt_map_in_few_requests),
	    cmocka_unit_test(map_errors_have_positions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
