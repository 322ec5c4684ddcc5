/*
 * Tasks in gdb (issue 17): toolchain/weft-gdb.py, which gdb auto-loads
 * for an M:N program (sched/gdbinfo.c), lists every task with its state
 * (`info weft-tasks`) and prints a parked task's backtrace (`weft-bt`).
 *
 * A forked child deadlocks: two threads lock two mutexes in opposite
 * order, the main thread joins the first.  The parent waits until the
 * child's scheduler says, on the child's stderr, that every task is
 * blocked (the deadlock report, docs/debugging.md): from then on nothing
 * in the child moves, with no sleep assumed.  It then runs
 *   gdb -batch -p CHILD -ex 'info weft-tasks' -ex 'weft-bt ID' ...
 * and checks that the three tasks, their waits and their start routines
 * are listed, and that each backtrace reaches the test's own functions
 * through libc's.
 *
 * Skipped under native (no tasks), without gdb or its Python, and where
 * ptrace is not permitted (a container without CAP_SYS_PTRACE, Yama's
 * ptrace_scope 3); the reason is printed.  WEFT_GDB names another gdb.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "testutil.h"

#define MN (strcmp(WEFT_PAL, "native"))

#ifndef WEFT_GDB_DIR
#define WEFT_GDB_DIR ""	/* tests.mk: the build's share/weft/gdb */
#endif

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t bar;
static int ids[2];	/* the child tells the parent its threads' ids */

/* which: 0 lock_ab, 1 lock_ba */
static void tell_id(int which)
{
	int m[2] = { which, gettid() };
	if (write(ids[1], m, sizeof m) != sizeof m) _exit(3);
}

static void *lock_ab(void *x)
{
	pthread_setname_np(pthread_self(), "locker-ab");
	pthread_mutex_lock(&a);
	tell_id(0);
	pthread_barrier_wait(&bar);
	pthread_mutex_lock(&b);
	return x;
}

static void *lock_ba(void *x)
{
	pthread_mutex_lock(&b);
	tell_id(1);
	pthread_barrier_wait(&bar);
	pthread_mutex_lock(&a);
	return x;
}

static void child_deadlock(void)
{
	pthread_t x, y;
	alarm(60);	/* hang detector, should the parent die */
	unsetenv("WEFT_DEADLOCK");
	/* Yama's ptrace_scope 1: let gdb, not our parent, attach. */
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
	pthread_barrier_init(&bar, 0, 2);
	pthread_create(&x, 0, lock_ab, 0);
	pthread_create(&y, 0, lock_ba, 0);
	pthread_join(x, 0);
	_exit(0);
}

/* Reads fd until its text contains want or EOF; bounded by LONG_MS of
 * silence, so that a missing report fails instead of hanging. */
static int read_until(int fd, char *buf, size_t size, const char *want)
{
	size_t got = strlen(buf);
	while (!strstr(buf, want)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, LONG_MS) != 1) return 0;
		ssize_t n = read(fd, buf + got, size - 1 - got);
		if (n <= 0) return 0;
		buf[got += n] = 0;
	}
	return 1;
}

/* The first gdb on PATH (or $WEFT_GDB), else 0. */
static const char *find_gdb(char *buf, size_t size)
{
	const char *env = getenv("WEFT_GDB"), *path = getenv("PATH");
	if (env && *env) return access(env, X_OK) ? 0 : env;
	while (path && *path) {
		size_t n = strcspn(path, ":");
		snprintf(buf, size, "%.*s/gdb", (int)n, path);
		if (n && !access(buf, X_OK)) return buf;
		path += n + (path[n] == ':');
	}
	return 0;
}

/* Runs gdb with argv (0-terminated), its output (stdout and stderr)
 * into buf; returns its wait status. */
static int run_gdb(char *const argv[], char *buf, size_t size)
{
	int out[2], st;
	size_t got = 0;
	ssize_t n;
	assert_int_equal(pipe(out), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		close(out[0]);
		close(out[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	while (got + 1 < size && (n = read(out[0], buf + got, size - 1 - got)) > 0)
		got += n;
	buf[got] = 0;
	close(out[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

/* The line of buf that starts (after blanks and a '*') with the task id
 * id in `info weft-tasks`, copied into line. */
static int task_line(const char *buf, int id, char *line, size_t size)
{
	char key[32];
	snprintf(key, sizeof key, "%d ", id);
	for (const char *p = buf; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "") {
		const char *q = p;
		while (*q == ' ' || *q == '*') q++;
		if (!strncmp(q, key, strlen(key))) {
			size_t n = strcspn(p, "\n");
			snprintf(line, size, "%.*s", (int)(n < size ? n : size - 1), p);
			return 1;
		}
	}
	return 0;
}

/* The part of buf between the marker lines ==name== and the next ==. */
static void section(const char *buf, const char *name, char *out, size_t size)
{
	char key[64];
	snprintf(key, sizeof key, "==%s==\n", name);
	const char *p = strstr(buf, key), *e;
	out[0] = 0;
	if (!p) return;
	p += strlen(key);
	e = strstr(p, "\n==");
	snprintf(out, size, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
}

#define EXPECT_IN(hay, needle) do { \
	if (!strstr((hay), (needle))) { \
		print_error("expected \"%s\" in:\n%s\n", (needle), (hay)); \
		fail(); \
	} } while (0)

static void tasks_in_gdb(void **state)
{
	static char out[65536], err[8192];
	char gdbpath[4096], probe[4096], line[512], sec[8192];
	char cmd_bt_ab[64], cmd_bt_ba[64], cmd_bt_main[64], safe[4200];
	int errp[2], st;
	int tid_ab = 0, tid_ba = 0, m[2];

	if (!MN) skip();
	const char *gdb = find_gdb(gdbpath, sizeof gdbpath);
	if (!gdb) {
		print_message("gdb_tasks: skipped: no gdb (WEFT_GDB, else on PATH: "
			"apt-get install gdb)\n");
		skip();
	}
	char *const py[] = { (char *)gdb, "-nx", "-batch", "-ex",
		"python print('weft-py-' + 'ok')", 0 };
	run_gdb(py, probe, sizeof probe);
	if (!strstr(probe, "weft-py-ok")) {
		print_message("gdb_tasks: skipped: %s has no Python:\n%s\n", gdb, probe);
		skip();
	}

	assert_int_equal(pipe(errp), 0);
	assert_int_equal(pipe(ids), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(errp[1], 2);
		close(errp[0]);
		close(errp[1]);
		close(ids[0]);
		child_deadlock();
	}
	close(errp[1]);
	close(ids[1]);
	/* Which thread is which: they tell before the barrier. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(read(ids[0], m, sizeof m), sizeof m);
		*(m[0] ? &tid_ba : &tid_ab) = m[1];
	}
	close(ids[0]);
	err[0] = 0;
	int blocked = read_until(errp[0], err, sizeof err, "weft: still waiting");
	if (!blocked) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		print_error("no deadlock report from the child:\n%s\n", err);
		fail();
	}

	snprintf(safe, sizeof safe, "add-auto-load-safe-path %s", WEFT_GDB_DIR);
	snprintf(cmd_bt_ab, sizeof cmd_bt_ab, "weft-bt %d", tid_ab);
	snprintf(cmd_bt_ba, sizeof cmd_bt_ba, "weft-bt %d", tid_ba);
	snprintf(cmd_bt_main, sizeof cmd_bt_main, "weft-bt %d", pid);
	char spid[16];
	snprintf(spid, sizeof spid, "%d", pid);
	char *const argv[] = { (char *)gdb, "-nx", "-batch",
		"-iex", "set debuginfod enabled off",
		"-iex", safe, "-p", spid,
		"-ex", "echo ==tasks==\\n", "-ex", "info weft-tasks",
		"-ex", "echo ==bt1==\\n", "-ex", cmd_bt_ab,
		"-ex", "echo ==bt2==\\n", "-ex", cmd_bt_ba,
		"-ex", "echo ==btmain==\\n", "-ex", cmd_bt_main,
		"-ex", "echo ==end==\\n", 0 };
	st = run_gdb(argv, out, sizeof out);
	kill(pid, SIGKILL);
	waitpid(pid, 0, 0);
	close(errp[0]);

	if (strstr(out, "ptrace: Operation not permitted") ||
	    strstr(out, "Could not attach to process")) {
		print_message("gdb_tasks: skipped: ptrace is not permitted here "
			"(a container without CAP_SYS_PTRACE, or Yama's "
			"kernel.yama.ptrace_scope):\n%s\n", out);
		skip();
	}
	fputs(out, stdout);	/* print_message cuts at 1 KiB */
	fflush(stdout);
	assert_true(WIFEXITED(st));

	section(out, "tasks", sec, sizeof sec);
	EXPECT_IN(sec, "3 task(s)");
	assert_true(task_line(sec, pid, line, sizeof line));
	char want[64];
	snprintf(want, sizeof want, "parked: join of thread %d", tid_ab);
	EXPECT_IN(line, want);
	EXPECT_IN(line, "main");
	assert_true(task_line(sec, tid_ab, line, sizeof line));
	EXPECT_IN(line, "locker-ab");
	EXPECT_IN(line, "parked: on mutex b (futex 0x");
	EXPECT_IN(line, "lock_ab");
	assert_true(task_line(sec, tid_ba, line, sizeof line));
	EXPECT_IN(line, "parked: on mutex a (futex 0x");
	EXPECT_IN(line, "lock_ba");

	/* pthread_mutex_lock tail-calls pthread_mutex_timedlock (musl),
	 * and pthread_join pthread_timedjoin_np: the callers' frames are
	 * gone, the callees' are there. */
	section(out, "bt1", sec, sizeof sec);
	EXPECT_IN(sec, "__sched_park");
	EXPECT_IN(sec, "pthread_mutex_timedlock");
	EXPECT_IN(sec, "lock_ab");
	EXPECT_IN(sec, "gdb_tasks.c");
	section(out, "bt2", sec, sizeof sec);
	EXPECT_IN(sec, "pthread_mutex_timedlock");
	EXPECT_IN(sec, "lock_ba");
	section(out, "btmain", sec, sizeof sec);
	EXPECT_IN(sec, "pthread_timedjoin_np");
	EXPECT_IN(sec, "child_deadlock");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tasks_in_gdb),
	};

	return cmocka_run_group_tests_name("gdb_tasks", tests, 0, 0);
}
