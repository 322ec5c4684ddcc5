/*
 * Many threads: an unmodified pthread program creates 100,000 threads
 * (64 KiB stacks), all blocked at once on one condition variable, and
 * under M:N the process still has no more OS threads than its workers
 * (WEFT_WORKERS, plus a margin of 2).  Then one broadcast releases them
 * all and every join succeeds.
 *
 * A 1:1 libc cannot do this (pid_max is 32768 by default, and each
 * thread is a kernel task): under the native backend the same program
 * runs with a small count, and the OS thread count must then be exactly
 * one per thread plus the main thread, which shows that the count is
 * read right.
 *
 * Threads count themselves under the mutex before waiting, and the last
 * one signals a second condvar, so main knows that all of them are in
 * pthread_cond_wait (each released the mutex inside the wait) when it
 * sees the full count under the mutex.  No sleeps: main's wait is timed
 * (LONG_MS) so that a lost wakeup fails instead of hanging, and the
 * joins are bounded by run.sh's timeout.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "osthreads.h"

#define MN (strcmp(WEFT_PAL, "native"))
#define NMANY 100000
#define NFEW 500
#define STACK 65536

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;	/* threads wait */
static pthread_cond_t all_in = PTHREAD_COND_INITIALIZER;	/* main waits */
static int n, waiting, go, left;	/* all under m */

static void *waiter(void *arg)
{
	pthread_mutex_lock(&m);
	if (++waiting == n)
		pthread_cond_signal(&all_in);
	while (!go)
		CHECK_EQ(pthread_cond_wait(&cv, &m), 0);
	left++;
	pthread_mutex_unlock(&m);
	return arg;
}

static void many_blocked_on_one_condvar(void **state)
{
	pthread_t *t;
	pthread_attr_t a;
	struct timespec at;
	int i, e, k;

	n = MN ? NMANY : NFEW;
	t = malloc(n * sizeof *t);
	assert_non_null(t);
	assert_int_equal(pthread_attr_init(&a), 0);
	assert_int_equal(pthread_attr_setstacksize(&a, STACK), 0);
	for (i = 0; i < n; i++)
		if ((e = pthread_create(&t[i], &a, waiter, (void *)(long)i)))
			fail_msg("pthread_create of thread %d of %d: %s", i, n,
				strerror(e));
	pthread_attr_destroy(&a);

	/* All n in pthread_cond_wait on cv. */
	at = deadline_ms(CLOCK_REALTIME, LONG_MS);
	pthread_mutex_lock(&m);
	while (waiting < n) {
		e = pthread_cond_timedwait(&all_in, &m, &at);
		if (e == ETIMEDOUT && waiting < n)
			fail_msg("only %d of %d threads waiting after %d ms",
				waiting, n, LONG_MS);
		assert_true(!e || e == ETIMEDOUT);
	}
	pthread_mutex_unlock(&m);

	k = os_threads();
	print_message("many (%s): %d threads blocked on one condvar, %d OS "
		"threads\n", WEFT_PAL, n, k);
	if (MN) {
		if (k > workers() + 2)
			fail_msg("%d OS threads for %d workers", k, workers());
	} else {
		assert_int_equal(k, n + 1);
	}

	pthread_mutex_lock(&m);
	go = 1;
	assert_int_equal(pthread_cond_broadcast(&cv), 0);
	pthread_mutex_unlock(&m);
	for (i = 0; i < n; i++) {
		void *r = 0;
		if ((e = pthread_join(t[i], &r)))
			fail_msg("pthread_join of thread %d: %s", i, strerror(e));
		if (r != (void *)(long)i)
			fail_msg("thread %d returned %p", i, r);
	}
	assert_int_equal(left, n);
	assert_thread_checks();
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(many_blocked_on_one_condvar),
	};
	return cmocka_run_group_tests_name("many", tests, 0, 0);
}
