/* Host unit tests of sched/runq.c: order, bounds, grab_half, steal, and a
 * concurrent owner-vs-thieves run where every task must be taken exactly
 * once. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"
#include "runq.h"

static struct __sched_runq q, q2;
static long item[4 * RUNQ_SIZE];

static int setup(void **state)
{
	(void)state;
	memset(&q, 0, sizeof q);
	memset(&q2, 0, sizeof q2);
	return 0;
}

static void test_fifo(void **state)
{
	(void)state;
	assert_null(__sched_runq_get(&q));
	for (int i = 0; i < 10; i++)
		assert_int_equal(__sched_runq_put(&q, &item[i]), 0);
	assert_int_equal(__sched_runq_len(&q), 10);
	for (int i = 0; i < 10; i++)
		assert_ptr_equal(__sched_runq_get(&q), &item[i]);
	assert_null(__sched_runq_get(&q));
}

static void test_full_and_wrap(void **state)
{
	(void)state;
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < RUNQ_SIZE; i++)
			assert_int_equal(__sched_runq_put(&q, &item[i]), 0);
		assert_int_equal(__sched_runq_put(&q, &item[RUNQ_SIZE]), -1);
		for (int i = 0; i < RUNQ_SIZE; i++)
			assert_ptr_equal(__sched_runq_get(&q), &item[i]);
	}
}

static void test_grab_half(void **state)
{
	void *out[RUNQ_SIZE / 2 + 1];
	(void)state;
	for (int i = 0; i < RUNQ_SIZE; i++)
		__sched_runq_put(&q, &item[i]);
	assert_int_equal(__sched_runq_grab_half(&q, &item[999], out), RUNQ_SIZE / 2 + 1);
	assert_ptr_equal(out[0], &item[0]);
	assert_ptr_equal(out[RUNQ_SIZE / 2 - 1], &item[RUNQ_SIZE / 2 - 1]);
	assert_ptr_equal(out[RUNQ_SIZE / 2], &item[999]);
	assert_int_equal(__sched_runq_len(&q), RUNQ_SIZE / 2);
	assert_ptr_equal(__sched_runq_get(&q), &item[RUNQ_SIZE / 2]);
	/* not full any more: grab_half refuses */
	assert_int_equal(__sched_runq_grab_half(&q, &item[999], out), 0);
}

static void test_steal_half(void **state)
{
	(void)state;
	assert_null(__sched_runq_steal(&q2, &q));
	for (int i = 0; i < 9; i++)
		__sched_runq_put(&q, &item[i]);
	/* ceil(9/2) = 5 stolen: the oldest four queued on q2, the fifth returned */
	assert_ptr_equal(__sched_runq_steal(&q2, &q), &item[4]);
	assert_int_equal(__sched_runq_len(&q2), 4);
	assert_int_equal(__sched_runq_len(&q), 4);
	for (int i = 0; i < 4; i++)
		assert_ptr_equal(__sched_runq_get(&q2), &item[i]);
	for (int i = 5; i < 9; i++)
		assert_ptr_equal(__sched_runq_get(&q), &item[i]);
}

/* Concurrency: one owner puts N tasks (getting some itself), thieves
 * steal into their own queues and drain them.  Each task is counted. */
#define N 2000000
#define THIEVES 2
static unsigned char *seen;
static long taken[THIEVES + 1];
static int done;

static void take(void *t, int who)
{
	uintptr_t i = (uintptr_t)t - 1;
	__atomic_fetch_add(&seen[i], 1, __ATOMIC_RELAXED);
	taken[who]++;
}

static void *thief(void *arg)
{
	int who = (int)(intptr_t)arg;
	struct __sched_runq *mine = calloc(1, sizeof *mine);
	void *t;
	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE) || __sched_runq_len(&q)) {
		if ((t = __sched_runq_steal(mine, &q))) {
			take(t, who);
			while ((t = __sched_runq_get(mine)))
				take(t, who);
		}
	}
	free(mine);
	return 0;
}

static void test_concurrent_steal(void **state)
{
	pthread_t th[THIEVES];
	void *t;
	(void)state;
	seen = calloc(N, 1);
	assert_non_null(seen);
	for (int i = 0; i < THIEVES; i++)
		assert_int_equal(pthread_create(&th[i], 0, thief, (void *)(intptr_t)(i + 1)), 0);
	for (uintptr_t i = 0; i < N; i++) {
		while (__sched_runq_put(&q, (void *)(i + 1))) {
			void *out[RUNQ_SIZE / 2 + 1];
			unsigned n = __sched_runq_grab_half(&q, (void *)(i + 1), out);
			for (unsigned k = 0; k < n; k++)
				take(out[k], 0);
			if (n) break;
		}
		if (i % 3 == 0 && (t = __sched_runq_get(&q)))
			take(t, 0);
	}
	while ((t = __sched_runq_get(&q)))
		take(t, 0);
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < THIEVES; i++)
		pthread_join(th[i], 0);
	long sum = 0;
	for (int i = 0; i <= THIEVES; i++)
		sum += taken[i];
	assert_int_equal(sum, N);
	for (long i = 0; i < N; i++)
		if (seen[i] != 1)
			fail_msg("task %ld taken %d times", i, seen[i]);
	free(seen);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup(test_fifo, setup),
	cmocka_unit_test_setup(test_full_and_wrap, setup),
	cmocka_unit_test_setup(test_grab_half, setup),
	cmocka_unit_test_setup(test_steal_half, setup),
	cmocka_unit_test_setup(test_concurrent_steal, setup),
};

TEST_MAIN(tests)
