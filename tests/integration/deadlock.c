/*
 * The deadlock report (issue 17): under M:N, when every thread waits on
 * a futex that no other can release, the monitor says so on stderr,
 * naming each thread's wait, and WEFT_DEADLOCK=abort ends the process
 * with SIGABRT (sched/monitor.c, "The deadlock report").  A program whose
 * threads all wait for what a signal handler will post is not
 * deadlocked, and nothing is printed.  Under native (1:1) there is no
 * report: a deadlocked program just waits, so that case is skipped.
 *
 * Each case runs in a forked child with its stderr on a pipe; the parent
 * reads it to EOF and waits for the child, with alarm() as a generous
 * hang detector.
 */
#define _GNU_SOURCE
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "testutil.h"

#define MN (strcmp(WEFT_PAL, "native"))

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t bar;

static void *lock_ab(void *x)
{
	pthread_mutex_lock(&a);
	pthread_barrier_wait(&bar);
	pthread_mutex_lock(&b);
	return x;
}

static void *lock_ba(void *x)
{
	pthread_mutex_lock(&b);
	pthread_barrier_wait(&bar);
	pthread_mutex_lock(&a);
	return x;
}

static void child_deadlock(void)
{
	pthread_t x, y;
	setenv("WEFT_DEADLOCK", "abort", 1);
	alarm(60);	/* hang detector: SIGALRM is not SIGABRT */
	pthread_barrier_init(&bar, 0, 2);
	pthread_create(&x, 0, lock_ab, 0);
	pthread_create(&y, 0, lock_ba, 0);
	pthread_join(x, 0);
	_exit(0);
}

static sem_t posted;

static void post(int sig)
{
	sem_post(&posted);
}

static void *wait_posted(void *x)
{
	while (sem_wait(&posted) && errno == EINTR)
		;
	return x;
}

/* Every thread waits, but a handler will post the semaphore. */
static void child_handler_wakes(void)
{
	pthread_t x;
	setenv("WEFT_DEADLOCK", "abort", 1);
	sem_init(&posted, 0, 0);
	signal(SIGALRM, post);
	pthread_create(&x, 0, wait_posted, 0);
	alarm(2);	/* longer than the report's 1 s */
	pthread_join(x, 0);
	_exit(0);
}

/* Runs fn in a child; its stderr into buf; returns its wait status. */
static int run_child(void (*fn)(void), char *buf, size_t size)
{
	int p[2], st;
	size_t got = 0;
	ssize_t n;
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		fn();
	}
	close(p[1]);
	while (got + 1 < size && (n = read(p[0], buf + got, size - 1 - got)) > 0)
		got += n;
	buf[got] = 0;
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void deadlock_reported(void **state)
{
	char buf[4096];
	if (!MN) skip();
	int st = run_child(child_deadlock, buf, sizeof buf);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
	assert_non_null(strstr(buf, "weft: all tasks are blocked"));
	assert_non_null(strstr(buf, "(main) waits on futex"));
	assert_non_null(strstr(buf, "(joining thread "));
	assert_non_null(strstr(buf, "WEFT_DEADLOCK=abort: aborting"));
}

static void handler_wake_not_deadlock(void **state)
{
	char buf[4096];
	int st = run_child(child_handler_wakes, buf, sizeof buf);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deadlock_reported),
		cmocka_unit_test(handler_wake_not_deadlock),
	};

	return cmocka_run_group_tests_name("deadlock", tests, 0, 0);
}
