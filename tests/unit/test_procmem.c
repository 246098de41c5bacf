/* Unit tests of lib/procmem: /proc parsers on fixed text, and the
 * identity rules on real child processes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "procmem.h"

static void
parse_stat_with_odd_comm(void **state)
{
	/* a comm with spaces and a ')' must not shift the fields */
	const char *stat = "4242 (a) b (c)) S 17 4242 4242 0 -1 4194560 100 0 "
	                   "0 0 5 3 0 0 20 0 1 0 123456 2412544 200 "
	                   "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1";
	struct procmem_sample s;

	(void)state;
	assert_int_equal(procmem_parse_stat(stat, &s), 0);
	assert_int_equal(s.pid, 4242);
	assert_string_equal(s.comm, "a) b (c)");
	assert_int_equal(s.state, 'S');
	assert_int_equal(s.ppid, 17);
	assert_int_equal(s.start_ticks, 123456);
	assert_int_equal(procmem_parse_stat("garbage", &s), -1);
	assert_int_equal(procmem_parse_stat("1 (x) S 1 2", &s), -1);
}

static void
parse_status_new_and_old_kernels(void **state)
{
	const char *now = "Name:\tdbus-growatt\nState:\tS (sleeping)\n"
	                  "PPid:\t17\nVmSize:\t  2412 kB\nVmHWM:\t   900 kB\n"
	                  "VmRSS:\t   800 kB\nRssAnon:\t  80 kB\n"
	                  "RssFile:\t 720 kB\nRssShmem:\t   0 kB\n"
	                  "VmSwap:\t  12 kB\nThreads:\t3\n";
	const char *old = "Name:\tx\nVmSize:\t 100 kB\nVmRSS:\t 50 kB\n";
	struct procmem_sample s;

	(void)state;
	procmem_parse_status(now, &s);
	assert_string_equal(s.comm, "dbus-growatt");
	assert_int_equal(s.state, 'S');
	assert_int_equal(s.ppid, 17);
	assert_int_equal(s.rss_kb, 800);
	assert_int_equal(s.anon_kb, 80);
	assert_int_equal(s.file_kb, 720);
	assert_int_equal(s.shmem_kb, 0);
	assert_int_equal(s.swap_kb, 12);
	assert_int_equal(s.vsz_kb, 2412);
	assert_int_equal(s.hwm_kb, 900);
	assert_int_equal(s.threads, 3);
	procmem_parse_status(old, &s);
	assert_int_equal(s.rss_kb, 50);
	assert_int_equal(s.anon_kb, -1); /* printed as null */
	assert_int_equal(s.threads, -1);
}

static void
parse_rollup(void **state)
{
	const char *r = "Rss: 1744 kB\nPss: 678 kB\nPss_Anon: 112 kB\n"
	                "Shared_Clean: 1508 kB\nPrivate_Clean: 124 kB\n"
	                "Private_Dirty: 112 kB\n";
	struct procmem_sample s;

	(void)state;
	procmem_parse_rollup(r, &s);
	assert_int_equal(s.pss_kb, 678);
	assert_int_equal(s.uss_kb, 236);
}

static void
name_matching(void **state)
{
	const char py[] = "/usr/bin/python3\0-u\0/opt/dbus-growatt.py\0";
	const char bin[] = "/usr/sbin/sshd\0-D\0";

	(void)state;
	assert_true(procmem_name_matches("sshd", "sshd", bin, sizeof(bin)));
	assert_true(procmem_name_matches("sshd", "other", bin, sizeof(bin)));
	assert_true(
	    procmem_name_matches("dbus-growatt", "python3", py, sizeof(py)));
	assert_true(
	    procmem_name_matches("dbus-growatt.py", "python3", py, sizeof(py)));
	assert_false(
	    procmem_name_matches("growatt", "python3", py, sizeof(py)));
	assert_false(procmem_name_matches("ssh", "sshd", bin, sizeof(bin)));
}

static pid_t
spawn_sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void
sample_a_live_process(void **state)
{
	struct procmem_proc p;
	struct procmem_sample s;

	(void)state;
	assert_int_equal(procmem_open(&p, getpid()), 0);
	assert_int_equal(procmem_sample(&p, &s, PROCMEM_FDS | PROCMEM_PSS), 0);
	assert_true(s.rss_kb > 0);
	assert_true(s.fds >= 3);
	assert_true(s.threads >= 1);
	assert_true(s.pss_kb > 0 && s.uss_kb > 0);
	procmem_close(&p);
	assert_true(procmem_self_rss_kb() > 0);
}

static void
gone_process_is_never_signalled(void **state)
{
	struct procmem_proc p;
	struct procmem_sample s;
	pid_t pid = spawn_sleeper();

	(void)state;
	assert_int_equal(procmem_open(&p, pid), 0);
	assert_true(procmem_alive(&p));
	assert_int_equal(procmem_signal(&p, SIGKILL), 0);
	waitpid(pid, NULL, 0);
	/* reaped: the kept descriptors and the pidfd refuse */
	assert_false(procmem_alive(&p));
	assert_int_equal(procmem_sample(&p, &s, 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(procmem_signal(&p, SIGTERM), -1);
	assert_int_equal(errno, ESRCH);
	procmem_close(&p);
	assert_int_equal(procmem_open(&p, 0), -1);
}

static void
zombie_counts_as_gone(void **state)
{
	struct procmem_proc p;
	struct procmem_sample s;
	pid_t pid = spawn_sleeper();

	(void)state;
	assert_int_equal(procmem_open(&p, pid), 0);
	kill(pid, SIGKILL);
	usleep(100000); /* now a zombie, not yet reaped */
	assert_int_equal(procmem_sample(&p, &s, 0), -1);
	assert_int_equal(errno, ESRCH);
	waitpid(pid, NULL, 0);
	procmem_close(&p);
}

static void
find_and_tree(void **state)
{
	struct procmem_tree t = {0};
	struct procmem_sample s;
	struct procmem_proc p;
	pid_t a = spawn_sleeper(), b = spawn_sleeper(), found;

	(void)state;
	/* our children are forks: same name as us, and older than none */
	assert_int_equal(procmem_find_by_name("test_procmem", 0, &found), 0);
	assert_int_equal(procmem_find_by_name("no-such-proc-x", 0, &found), -1);
	assert_int_equal(procmem_open(&p, getpid()), 0);
	assert_int_equal(procmem_sample(&p, &s, 0), 0);
	assert_int_equal(procmem_sample_children(&t, getpid(), &s, 0), 0);
	assert_int_equal(s.nproc, 3);
	procmem_close(&p);
	procmem_tree_free(&t);
	kill(a, SIGKILL);
	kill(b, SIGKILL);
	waitpid(a, NULL, 0);
	waitpid(b, NULL, 0);
}

/* Absurd kernel text: no overflow, unknown instead. */
static void
parse_rollup_absurd(void **state)
{
	struct procmem_sample s;

	(void)state;
	memset(&s, 0, sizeof(s));
	procmem_parse_rollup("Pss: 99999999999999999999999 kB\n"
	                     "Private_Clean: 9223372036854775807 kB\n"
	                     "Private_Dirty: 9223372036854775807 kB\n",
	                     &s);
	assert_int_equal(s.uss_kb, -1);
	procmem_parse_rollup("Private_Clean: 5 kB\nPrivate_Dirty: 7 kB\n", &s);
	assert_int_equal(s.uss_kb, 12);
	procmem_parse_rollup("Private_Clean: -5 kB\nPrivate_Dirty", &s);
	assert_int_equal(s.uss_kb, -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_stat_with_odd_comm),
	    cmocka_unit_test(parse_status_new_and_old_kernels),
	    cmocka_unit_test(parse_rollup),
	    cmocka_unit_test(parse_rollup_absurd),
	    cmocka_unit_test(name_matching),
	    cmocka_unit_test(sample_a_live_process),
	    cmocka_unit_test(gone_process_is_never_signalled),
	    cmocka_unit_test(zombie_counts_as_gone),
	    cmocka_unit_test(find_and_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
