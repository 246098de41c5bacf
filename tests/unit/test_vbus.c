/*
 * Unit tests of lib/vbus against a private dbus-daemon started here: the
 * BusItem service (in a child process) read back by the client side, the
 * fallbacks against tests/peers/busitem_service.py, SetValue answered now
 * and later, AddSettings against the strict settings peer, name checks,
 * and the D-Bus to JSON conversion of every type.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli.h"
#include "vbus.h"

#define SERVICE "com.victronenergy.test.unit"

static pid_t daemon_pid;
static char tmpdir[64];

/* ---- set-up: a private bus --------------------------------------------- */

static int
start_daemon(void **state)
{
	char addr[512] = "", cmd[128];
	FILE *f;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_vbus.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	daemon_pid = fork();
	if (daemon_pid == 0) {
		snprintf(cmd, sizeof(cmd), "unix:path=%s/bus", tmpdir);
		snprintf(addr, sizeof(addr), "--address=%s", cmd);
		snprintf(cmd, sizeof(cmd), "%s/addr", tmpdir);
		if (freopen(cmd, "w", stdout) == NULL)
			_exit(127);
		execlp("dbus-daemon", "dbus-daemon", "--session", "--nofork",
		       addr, "--print-address=1", (char *)NULL);
		_exit(127);
	}
	snprintf(cmd, sizeof(cmd), "%s/addr", tmpdir);
	for (int i = 0; i < 200 && addr[0] == '\0'; i++) {
		usleep(10000);
		f = fopen(cmd, "r");
		if (f != NULL) {
			if (fgets(addr, sizeof(addr), f) == NULL)
				addr[0] = '\0';
			fclose(f);
		}
	}
	addr[strcspn(addr, "\n")] = '\0';
	if (addr[0] == '\0')
		return -1;
	setenv("DBUS_SESSION_BUS_ADDRESS", addr, 1);
	return 0;
}

static int
stop_daemon(void **state)
{
	char cmd[128];

	(void)state;
	kill(daemon_pid, SIGTERM);
	waitpid(daemon_pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct vbus_client
client(void)
{
	char err[256];
	struct vbus_client c = {vbus_connect("session", NULL, err, 256), 2000};

	assert_non_null(c.conn);
	return c;
}

static void
wait_owner(const struct vbus_client *c, const char *name, bool present)
{
	for (int i = 0; i < 300; i++) {
		char *owner = vbus_name_owner(c, name);
		bool there = owner != NULL;

		free(owner);
		if (there == present)
			return;
		usleep(10000);
	}
	fail_msg("%s did not %s", name, present ? "appear" : "go");
}

static void
stop_child(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* ---- a service in a child process --------------------------------------- */

/* Takes values up to 10 at once; above 10 answers later with 2. */
static DBusMessage *later_call;

static int
child_on_set(struct vbus_service *s, struct vbus_item *item,
             const struct vbus_value *v, DBusMessage *call, void *user)
{
	(void)s, (void)item, (void)user;
	if (v->kind == VBUS_INT && v->i > 10) {
		later_call = dbus_message_ref(call);
		return VBUS_SET_LATER;
	}
	return 0;
}

static pid_t
serve_child(void)
{
	pid_t pid = fork();
	struct vbus_service s = {0};
	struct vbus_value v;
	char err[256];
	int fd;

	if (pid != 0)
		return pid;
	s.conn = vbus_connect("session", NULL, err, sizeof(err));
	s.signals = VBUS_SIGNAL_ITEMS;
	s.on_set = child_on_set;
	v = vbus_double(230.1);
	vbus_add(&s, "/Ac/L1/Voltage", &v, false, "V");
	v = vbus_int(3);
	vbus_add(&s, "/Position", &v, true, NULL);
	v = vbus_string("roof");
	vbus_add(&s, "/CustomName", &v, true, NULL)->text = true;
	v = vbus_invalid();
	vbus_add(&s, "/Ac/Power", &v, false, "W");
	/* paths libdbus would assert on are refused, not added */
	if (vbus_add(&s, "/Ac/L1-Power", &v, false, NULL) != NULL ||
	    vbus_add(&s, "/a/", &v, false, NULL) != NULL ||
	    vbus_add(&s, "no/slash", &v, false, NULL) != NULL)
		_exit(3);
	if (vbus_publish(&s, SERVICE, err, sizeof(err)) < 0)
		_exit(2);
	dbus_connection_get_unix_fd(s.conn, &fd);
	cli_catch_stop_signals();
	while (!cli_stop) {
		struct pollfd p = {fd, POLLIN, 0};

		dbus_connection_flush(s.conn);
		vbus_dispatch(s.conn, NULL);
		if (later_call != NULL) {
			vbus_answer_set(&s, later_call, 2);
			later_call = NULL;
		}
		poll(&p, 1, 100);
	}
	vbus_disconnect(s.conn);
	vbus_service_free(&s);
	_exit(0);
}

/* What the client saw, as "path=json;" pairs. */
struct seen {
	char text[2048];
	int n;
};

static void
collect(void *user, const char *path, DBusMessageIter *value, const char *text)
{
	struct seen *seen = user;
	struct jsonl_writer w;
	FILE *f = tmpfile();
	char line[512] = "";
	struct timespec ts = {0, 0};

	jsonl_writer_init(&w, f);
	jsonl_begin(&w, &ts, "t");
	vbus_write_json(&w, "v", value);
	jsonl_end(&w);
	jsonl_writer_free(&w);
	rewind(f);
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	snprintf(seen->text + strlen(seen->text),
	         sizeof(seen->text) - strlen(seen->text), "%s=%s|%s;", path,
	         strstr(line, "\"v\":") ? strstr(line, "\"v\":") + 4 : "?",
	         text ? text : "(none)");
	seen->n++;
}

static void
service_read_back(void **state)
{
	struct vbus_client c = client();
	struct seen seen = {"", 0};
	pid_t pid = serve_child();
	char err[256], *owner;
	int result = -5;
	struct vbus_value v;

	(void)state;
	wait_owner(&c, SERVICE, true);
	owner = vbus_name_owner(&c, SERVICE);
	assert_non_null(owner);
	assert_int_equal(owner[0], ':');
	free(owner);
	assert_int_equal(vbus_read_service(&c, SERVICE, true, collect, &seen),
	                 VBUS_READ_ITEMS);
	assert_int_equal(seen.n, 4);
	assert_non_null(strstr(seen.text, "/Ac/L1/Voltage=230.1}|230.1V;"));
	assert_non_null(strstr(seen.text, "/Ac/Power=null}|---;"));
	assert_non_null(strstr(seen.text, "/CustomName=\"roof\"}|roof;"));
	seen = (struct seen){"", 0};
	assert_int_equal(vbus_get_value(&c, SERVICE, "/Position", true, collect,
	                                &seen, err, sizeof(err)),
	                 0);
	assert_string_equal(seen.text, "/Position=3}|3;");
	assert_int_equal(vbus_get_value(&c, SERVICE, "/Nope", false, collect,
	                                &seen, err, sizeof(err)),
	                 -1);
	/* SetValue: 0 at once; 1 not writable or the wrong type; 2 later */
	v = vbus_int(7);
	assert_int_equal(vbus_set_value(&c, SERVICE, "/Position", &v, &result,
	                                err, sizeof(err)),
	                 0);
	assert_int_equal(result, 0);
	v = vbus_string("x");
	vbus_set_value(&c, SERVICE, "/Position", &v, &result, err, sizeof(err));
	assert_int_equal(result, 1);
	v = vbus_double(1);
	vbus_set_value(&c, SERVICE, "/Ac/Power", &v, &result, err, sizeof(err));
	assert_int_equal(result, 1);
	v = vbus_int(11);
	vbus_set_value(&c, SERVICE, "/Position", &v, &result, err, sizeof(err));
	assert_int_equal(result, 2);
	/* bad names and paths never reach libdbus */
	assert_int_equal(
	    vbus_set_value(&c, "a b", "/x", &v, &result, err, sizeof(err)), -1);
	assert_int_equal(
	    vbus_set_value(&c, SERVICE, "/x/", &v, &result, err, sizeof(err)),
	    -1);
	stop_child(pid);
	vbus_disconnect(c.conn);
}

static int async_result = -99;
static int async_freed;

static void
async_done(void *user, int result, const char *error)
{
	(void)user;
	async_result = error == NULL ? result : -50;
}

static void
async_free(void *user)
{
	(void)user;
	async_freed++;
}

/* SetValue /Position without waiting, then dispatch until the answer. */
static void
async_set(struct vbus_client *c, const struct vbus_value *v)
{
	async_result = -99;
	assert_int_equal(vbus_set_value_async(c, SERVICE, "/Position", v,
	                                      async_done, NULL, async_free),
	                 0);
	for (int i = 0; i < 300 && async_result == -99; i++) {
		vbus_dispatch(c->conn, NULL);
		usleep(10000);
	}
}

static void
set_value_async(void **state)
{
	struct vbus_client c = client();
	pid_t pid = serve_child();
	struct vbus_value v = vbus_int(12);

	(void)state;
	wait_owner(&c, SERVICE, true);
	async_set(&c, &v);
	assert_int_equal(async_result, 2);
	assert_int_equal(async_freed, 1);
	/* the service gone: the error comes back, the data is freed */
	stop_child(pid);
	wait_owner(&c, SERVICE, false);
	async_set(&c, &v);
	assert_int_equal(async_result, -50);
	assert_int_equal(async_freed, 2);
	/* never answered: freed with the connection */
	pid = serve_child();
	wait_owner(&c, SERVICE, true);
	kill(pid, SIGSTOP);
	assert_int_equal(vbus_set_value_async(&c, SERVICE, "/Position", &v,
	                                      async_done, NULL, async_free),
	                 0);
	vbus_disconnect(c.conn);
	assert_int_equal(async_freed, 3);
	kill(pid, SIGCONT);
	stop_child(pid);
}

/* ---- fallbacks, against the independent python peer -------------------- */

static pid_t
python_peer(const char *script, const char *a1, const char *a2, const char *a3)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl("/usr/bin/python3", "python3", script, a1, a2, a3,
		      (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void
read_fallbacks(void **state)
{
	static const char *const modes[] = {"full", "rootvalue", "introspect"};
	static const enum vbus_read ways[] = {VBUS_READ_ITEMS, VBUS_READ_ROOT,
	                                      VBUS_READ_WALK};
	struct vbus_client c = client();

	(void)state;
	for (int m = 0; m < 3; m++) {
		struct seen seen = {"", 0};
		pid_t pid = python_peer("tests/peers/busitem_service.py",
		                        "com.victronenergy.test.py", "--mode",
		                        modes[m]);

		wait_owner(&c, "com.victronenergy.test.py", true);
		assert_int_equal(vbus_read_service(&c,
		                                   "com.victronenergy.test.py",
		                                   true, collect, &seen),
		                 ways[m]);
		assert_int_equal(seen.n, 6);
		assert_non_null(strstr(seen.text, "/Ac/Power=1234.5}|1234.5;"));
		assert_non_null(strstr(seen.text, "/Dc/0/Voltage=null}|---;"));
		assert_non_null(strstr(seen.text, "/Serial=\"HQ2024\"}"));
		stop_child(pid);
		wait_owner(&c, "com.victronenergy.test.py", false);
	}
	assert_int_equal(vbus_read_service(&c, "com.victronenergy.none", false,
	                                   collect, NULL),
	                 VBUS_READ_NONE);
	vbus_disconnect(c.conn);
}

/* ---- AddSettings, against the strict settings peer ----------------------- */

static void
settings_add(void **state)
{
	struct vbus_client c = client();
	pid_t pid = python_peer("tests/peers/settings_fake.py", "--log",
	                        "/dev/null", NULL);
	struct vbus_setting s[4] = {
	    {.path = "Settings/Devices/x_1/ClassAndVrmInstance",
	     .def = vbus_string("pvinverter:20")},
	    {.path = "/Settings/Devices/x_1/ClassAndVrmInstance",
	     .def = vbus_string("pvinverter:20")},
	    {.path = "/Settings/Devices/x_1/Position",
	     .def = vbus_int(5),
	     .limits = true,
	     .max = 2},
	    {.path = "/Settings/Devices/x_1/Position",
	     .def = vbus_int(1),
	     .limits = true,
	     .max = 2},
	};
	struct vbus_setting clash = {
	    .path = "/Settings/Devices/x_5/ClassAndVrmInstance",
	    .def = vbus_string("pvinverter:20")};
	char err[256];

	(void)state;
	wait_owner(&c, VBUS_SETTINGS, true);
	assert_int_equal(vbus_settings_add(&c, s, 4, err, sizeof(err)), 0);
	/* one answer per entry, in order, also when paths repeat */
	assert_int_equal(s[0].error, VBUS_SETTING_NOT_IN_SETTINGS);
	assert_string_equal(vbus_setting_error_name(s[0].error),
	                    "NotInSettings");
	assert_int_equal(s[1].error, 0);
	assert_int_equal(s[1].value.kind, VBUS_STRING);
	assert_string_equal(s[1].value.s, "pvinverter:20");
	assert_int_equal(s[2].error, VBUS_SETTING_OUT_OF_RANGE);
	assert_int_equal(s[2].value.kind, VBUS_INVALID);
	assert_int_equal(s[3].error, 0);
	assert_true(s[3].value.kind == VBUS_INT && s[3].value.i == 1);
	for (int i = 0; i < 4; i++)
		vbus_value_clear(&s[i].value);
	assert_int_equal(vbus_settings_add(&c, &clash, 1, err, sizeof(err)), 0);
	assert_int_equal(clash.error, 0);
	assert_string_equal(clash.value.s, "pvinverter:21");
	vbus_value_clear(&clash.value);
	/* a path that is no object path fails the whole call */
	clash.path = "/Settings/Devices/a b/ClassAndVrmInstance";
	assert_int_equal(vbus_settings_add(&c, &clash, 1, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "ValueError"));
	stop_child(pid);
	/* no settings service: an error, not a hang */
	wait_owner(&c, VBUS_SETTINGS, false);
	assert_int_equal(vbus_settings_add(&c, &s[1], 1, err, sizeof(err)), -1);
	vbus_disconnect(c.conn);
}

/* ---- checks and conversions (no bus) ----------------------------------- */

static void
names_and_paths(void **state)
{
	static const char *const bad_names[] = {"",
	                                        "a",
	                                        "com..x",
	                                        "com.victronenergy.a b",
	                                        "com.x.{unit}",
	                                        ":1.5",
	                                        ".com.x",
	                                        "com.x.",
	                                        "com.1x",
	                                        "com.é.x"};
	static const char *const bad_paths[] = {"",     "a",    "/a/", "//",
	                                        "/a-b", "/a b", "/é",  "/a//b"};
	char err[256];

	(void)state;
	assert_int_equal(vbus_check_name("com.victronenergy.pvinverter.gw_1",
	                                 err, sizeof(err)),
	                 0);
	assert_int_equal(vbus_check_name("com.a-b.c", err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		assert_int_equal(
		    vbus_check_name(bad_names[i], err, sizeof(err)), -1);
	assert_int_equal(vbus_check_name(NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a valid D-Bus name"));
	assert_int_equal(vbus_check_path("/", err, sizeof(err)), 0);
	assert_int_equal(vbus_check_path("/Ac/L1/Power", err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++)
		assert_int_equal(
		    vbus_check_path(bad_paths[i], err, sizeof(err)), -1);
}

/* The JSON vbus_write_json makes of the first argument of msg. */
static void
json_of(DBusMessage *msg, char *out, size_t len)
{
	struct seen seen = {"", 0};
	DBusMessageIter it;

	dbus_message_iter_init(msg, &it);
	collect(&seen, "", &it, NULL);
	snprintf(out, len, "%s", seen.text);
}

/* The JSON of a one-entry dictionary {key: "x"} whose key has type. */
static void
json_of_dict(const char *sig, int type, const void *key, char *out, size_t len)
{
	DBusMessage *msg = dbus_message_new_signal("/", "a.b", "c");
	DBusMessageIter it, arr, e;
	const char *v = "x";

	dbus_message_iter_init_append(msg, &it);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, sig, &arr);
	dbus_message_iter_open_container(&arr, DBUS_TYPE_DICT_ENTRY, NULL, &e);
	dbus_message_iter_append_basic(&e, type, key);
	dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &v);
	dbus_message_iter_close_container(&arr, &e);
	dbus_message_iter_close_container(&it, &arr);
	json_of(msg, out, len);
	dbus_message_unref(msg);
}

static void
dict_keys_of_every_type(void **state)
{
	dbus_int32_t k = -1;
	double dk = 0.5;
	unsigned char yk = 200;
	const char *ok = "/p";
	char out[512];

	(void)state;
	json_of_dict("{is}", DBUS_TYPE_INT32, &k, out, sizeof(out));
	assert_string_equal(out, "={\"-1\":\"x\"}}|(none);");
	json_of_dict("{ds}", DBUS_TYPE_DOUBLE, &dk, out, sizeof(out));
	assert_string_equal(out, "={\"0.5\":\"x\"}}|(none);");
	json_of_dict("{ys}", DBUS_TYPE_BYTE, &yk, out, sizeof(out));
	assert_string_equal(out, "={\"200\":\"x\"}}|(none);");
	json_of_dict("{os}", DBUS_TYPE_OBJECT_PATH, &ok, out, sizeof(out));
	assert_string_equal(out, "={\"/p\":\"x\"}}|(none);");
}

static void
values_from_json_and_iter(void **state)
{
	json_t *j = json_loads("[1, 2.5, \"s\", null, true, {}, []]",
	                       JSON_DECODE_ANY, NULL);
	DBusMessage *msg = dbus_message_new_signal("/", "a.b", "c");
	DBusMessageIter it;
	struct vbus_value v, copy = vbus_invalid();
	dbus_bool_t b = TRUE;

	(void)state;
	assert_int_equal(vbus_value_from_json(json_array_get(j, 0), &v), 0);
	assert_int_equal(v.kind, VBUS_INT);
	assert_int_equal(vbus_value_from_json(json_array_get(j, 1), &v), 0);
	assert_true(v.kind == VBUS_DOUBLE && v.d == 2.5);
	assert_int_equal(vbus_value_from_json(json_array_get(j, 2), &v), 0);
	vbus_value_copy(&copy, &v);
	assert_string_equal(copy.s, "s");
	vbus_value_clear(&copy);
	assert_int_equal(copy.kind, VBUS_INVALID);
	assert_int_equal(vbus_value_from_json(json_array_get(j, 3), &v), 0);
	assert_int_equal(v.kind, VBUS_INVALID);
	for (int i = 4; i < 7; i++)
		assert_int_equal(
		    vbus_value_from_json(json_array_get(j, (size_t)i), &v), -1);
	json_decref(j);
	/* D-Bus: each value appended, read back; booleans are no values */
	v = vbus_int(-5);
	dbus_message_iter_init_append(msg, &it);
	vbus_append_variant(&it, &v);
	v = vbus_invalid();
	vbus_append_variant(&it, &v);
	dbus_message_append_args(msg, DBUS_TYPE_BOOLEAN, &b, DBUS_TYPE_INVALID);
	dbus_message_iter_init(msg, &it);
	assert_true(vbus_value_from_iter(&it, &v));
	assert_true(v.kind == VBUS_INT && v.i == -5);
	dbus_message_iter_next(&it);
	assert_true(vbus_value_from_iter(&it, &v));
	assert_int_equal(v.kind, VBUS_INVALID);
	dbus_message_iter_next(&it);
	assert_false(vbus_value_from_iter(&it, &v));
	dbus_message_unref(msg);
}

int
main(void)
{
	const struct CMUnitTest bus_tests[] = {
	    cmocka_unit_test(service_read_back),
	    cmocka_unit_test(set_value_async),
	    cmocka_unit_test(read_fallbacks),
	    cmocka_unit_test(settings_add),
	};
	const struct CMUnitTest plain_tests[] = {
	    cmocka_unit_test(names_and_paths),
	    cmocka_unit_test(dict_keys_of_every_type),
	    cmocka_unit_test(values_from_json_and_iter),
	};
	int failed;

	cli_init("test_vbus");
	failed = cmocka_run_group_tests_name("vbus on a private bus", bus_tests,
	                                     start_daemon, stop_daemon);
	failed += cmocka_run_group_tests_name("vbus without a bus", plain_tests,
	                                      NULL, NULL);
	return failed;
}
