/*
 * OS threads come back down (issue 16): threads that block in syscalls
 * the netpoller cannot take (here waitpid) make the M:N monitor start
 * spare workers, so that the other threads keep running; once those
 * calls are over and the process idles, the spares retire and the
 * process is back to its workers, the monitor and a margin of one
 * (WEFT_WORKERS + 2).  Under native every thread is an OS thread, and
 * after the joins only the main thread is left.
 *
 * NBLOCK threads each wait for a child of their own that blocks reading
 * a pipe.  They count themselves under a mutex before the waitpid; when
 * all have counted (under M:N that needs spares: each blocked thread
 * holds a worker), main closes the pipe, the children exit and every
 * waitpid returns.  Then main polls /proc/self/task until the count is
 * low enough; the only deadline is a generous hang detector.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "testutil.h"
#include "osthreads.h"

#define MN (strcmp(WEFT_PAL, "native"))
#define NBLOCK 8
#define HANG_S 60

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_in = PTHREAD_COND_INITIALIZER;
static int counted;
static int pipefd[2];

static void *wait_child(void *arg)
{
	pid_t pid = (pid_t)(long)arg;
	int st;

	pthread_mutex_lock(&m);
	if (++counted == NBLOCK)
		pthread_cond_signal(&all_in);
	pthread_mutex_unlock(&m);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return 0;
}

static void spares_retire(void **state)
{
	pthread_t t[NBLOCK];
	pid_t pid[NBLOCK];
	char c;

	assert_int_equal(pipe(pipefd), 0);
	for (int i = 0; i < NBLOCK; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (!pid[i]) {
			close(pipefd[1]);
			_exit(read(pipefd[0], &c, 1) == 0 ? 0 : 1);
		}
	}
	close(pipefd[0]);
	for (int i = 0; i < NBLOCK; i++)
		assert_int_equal(pthread_create(&t[i], 0, wait_child,
			(void *)(long)pid[i]), 0);

	struct timespec dl = deadline_ms(CLOCK_REALTIME, HANG_S * 1000);
	pthread_mutex_lock(&m);
	while (counted < NBLOCK)
		assert_int_equal(pthread_cond_timedwait(&all_in, &m, &dl), 0);
	pthread_mutex_unlock(&m);

	close(pipefd[1]);		/* every child reads EOF and exits */
	for (int i = 0; i < NBLOCK; i++)
		assert_int_equal(pthread_join(t[i], 0), 0);

	int want = MN ? workers() + 2 : 1, k;
	struct timespec end = deadline_ms(CLOCK_MONOTONIC, HANG_S * 1000);
	while ((k = os_threads()) > want) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec ||
		    (now.tv_sec == end.tv_sec && now.tv_nsec > end.tv_nsec))
			fail_msg("%d OS threads after %d s idle; want at most %d",
				k, HANG_S, want);
		usleep(20000);		/* a poll interval, not a wait for an event */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spares_retire),
	};

	return cmocka_run_group_tests_name("spares", tests, 0, 0);
}
