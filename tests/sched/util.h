/*
 * util.h - helpers for the host-side tests of sched/ (glibc + Debian's
 * libcmocka-dev), built and run by `make check` (tests/tests.mk).
 *
 * Each binary runs all its tests without arguments, one test when given
 * its name, and lists their names with --list.
 */
#ifndef WEFT_TESTS_SCHED_UTIL_H
#define WEFT_TESTS_SCHED_UTIL_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#define NELEM(a) (sizeof(a) / sizeof *(a))

/* A forked child that neither dies nor exits within this many seconds
 * is killed by SIGALRM, which the tests report as a hang. */
#define CHILD_ALARM 10

#define TEST_MAIN(tests) \
int main(int argc, char **argv) \
{ \
	if (argc > 1 && !strcmp(argv[1], "--list")) { \
		for (size_t i = 0; i < NELEM(tests); i++) \
			puts(tests[i].name); \
		return 0; \
	} \
	if (argc > 1) \
		cmocka_set_test_filter(argv[1]); \
	return cmocka_run_group_tests(tests, NULL, NULL); \
}

/*
 * Run fn(arg) in a forked child and return its wait status; the child
 * exits 0 if fn returns.  cmocka's crash handlers are reset there (they
 * would longjmp into the child's copy of the runner) and an alarm bounds
 * its life.  Children report through their exit status or death, never
 * through cmocka.
 */
static inline int in_child(void (*fn)(void *), void *arg)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS };
	int st, r;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		for (size_t i = 0; i < NELEM(sigs); i++)
			signal(sigs[i], SIG_DFL);
		alarm(CHILD_ALARM);
		fn(arg);
		_exit(0);
	}
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	assert_int_equal(r, pid);
	return st;
}

/* Assert that a child died by signal s1 or s2, printing what happened. */
#define assert_killed_by(st, s1, s2) do { \
	int st_ = (st); \
	if (!WIFSIGNALED(st_)) \
		fail_msg("child exited with status %d, expected signal %d", \
			WEXITSTATUS(st_), (s1)); \
	if (WTERMSIG(st_) != (s1) && WTERMSIG(st_) != (s2)) \
		fail_msg("child killed by signal %d, expected %d or %d", \
			WTERMSIG(st_), (s1), (s2)); \
} while (0)

#define assert_exited_ok(st) do { \
	int st_ = (st); \
	if (!WIFEXITED(st_)) \
		fail_msg("child killed by signal %d, expected exit 0", \
			WTERMSIG(st_)); \
	assert_int_equal(WEXITSTATUS(st_), 0); \
} while (0)

#endif
