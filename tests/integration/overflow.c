/*
 * A thread that overflows its stack dies loudly: the process gets
 * SIGSEGV at the guard page (both backends), and under M:N weft first
 * names the task on stderr ("weft: task stack overflow").  Run in a
 * forked child, whose stderr is a pipe read back here.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include "testutil.h"

static int deep(int n)
{
	volatile char buf[1024];
	buf[0] = n;
	return n ? deep(n - 1) + buf[0] : 0;
}

static void *overflow(void *arg)
{
	return (void *)(long)deep(1 << 20);
}

static void child(int errfd)
{
	pthread_attr_t a;
	pthread_t t;
	dup2(errfd, 2);
	signal(SIGSEGV, SIG_DFL);	/* cmocka catches it; a program does not */
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 65536);
	if (pthread_create(&t, &a, overflow, 0)) _exit(2);
	pthread_join(t, 0);
	_exit(3);	/* not reached: the overflow kills the process */
}

static void stack_overflow_is_loud(void **state)
{
	int fd[2], status;
	char buf[512] = { 0 };
	size_t n = 0;
	ssize_t k;

	assert_int_equal(pipe(fd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(fd[0]);
		child(fd[1]);
	}
	close(fd[1]);
	while (n < sizeof buf - 1 && (k = read(fd[0], buf + n, sizeof buf - 1 - n)) > 0)
		n += k;
	close(fd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
	if (!strcmp(WEFT_PAL, "native")) return;
	if (!strstr(buf, "weft: task stack overflow: task "))
		fail_msg("stderr of the child: \"%s\"", buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stack_overflow_is_loud),
	};
	return cmocka_run_group_tests_name("overflow", tests, 0, 0);
}
