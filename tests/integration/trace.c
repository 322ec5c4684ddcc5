/*
 * WEFT_TRACE=schedtrace[:MS] (issue 17): under M:N the monitor prints one
 * line of scheduler state per interval to stderr (docs/debugging.md); a
 * bad value is named and ignored.  Under native nothing is printed.
 *
 * The child runs with its stderr on a pipe and waits, in a read, for the
 * parent to say "go"; the parent says it once it has read a whole trace
 * line (under native, at once), so no timing is assumed.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "testutil.h"

#define MN (strcmp(WEFT_PAL, "native"))

static int go[2];

static void *nothing(void *x)
{
	return x;
}

/* Returns the child's stderr, up to its exit, in buf. */
static void run_traced(const char *value, char *buf, size_t size)
{
	int err[2], st;
	size_t got = 0;
	ssize_t n;
	int told = 0;
	assert_int_equal(pipe(err), 0);
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		pthread_t t;
		char c;
		alarm(60);	/* hang detector */
		dup2(err[1], 2);
		close(err[0]);
		close(err[1]);
		close(go[1]);
		setenv("WEFT_TRACE", value, 1);
		pthread_create(&t, 0, nothing, 0);
		pthread_join(t, 0);
		_exit(read(go[0], &c, 1) == 1 ? 0 : 1);
	}
	close(err[1]);
	close(go[0]);
	if (!MN || strncmp(value, "schedtrace", 10) || strchr(value, 'x')) {
		assert_int_equal(write(go[1], "g", 1), 1);
		told = 1;
	}
	while (got + 1 < size && (n = read(err[0], buf + got, size - 1 - got)) > 0) {
		got += n;
		buf[got] = 0;
		if (!told && strstr(buf, "weft: schedtrace ") && strchr(strstr(buf, "weft: schedtrace "), '\n')) {
			assert_int_equal(write(go[1], "g", 1), 1);
			told = 1;
		}
	}
	buf[got] = 0;
	close(err[0]);
	close(go[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void schedtrace_lines(void **state)
{
	char buf[8192];
	run_traced("schedtrace:5", buf, sizeof buf);
	if (!MN) {
		assert_string_equal(buf, "");
		return;
	}
	char *l = strstr(buf, "weft: schedtrace ");
	assert_non_null(l);
	const char *fields[] = { "ms: workers=", " spares=", " busy=", " spinning=",
		" idle=", " syscall=", " runqueue=", " tasks=", " running=",
		" runnable=", " parked=", " switches/s=", " steals/s=", " preempts/s=" };
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
		char *f = strstr(l, fields[i]);
		assert_non_null(f);
		assert_true(f < strchr(l, '\n'));
		l = f;
	}
}

static void bad_value_named(void **state)
{
	char buf[8192];
	run_traced("schedtrace:x", buf, sizeof buf);
	if (!MN) {
		assert_string_equal(buf, "");
		return;
	}
	assert_non_null(strstr(buf, "weft: ignoring WEFT_TRACE"));
	assert_null(strstr(buf, "weft: schedtrace "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(schedtrace_lines),
		cmocka_unit_test(bad_value_named),
	};

	return cmocka_run_group_tests_name("trace", tests, 0, 0);
}
