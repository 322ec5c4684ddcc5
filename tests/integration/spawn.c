/*
 * Spawn order: under M:N a new thread waits next in line on its
 * creator's worker, and the creator goes on (sched/proc.c, __sched_run;
 * tasks displaced from runnext wait in the worker's cont deque).  What a
 * program can see of that, and must keep seeing:
 *
 * - pthread_create's thread id is stored before the new thread runs,
 *   as glibc stores it (M:N only: stock musl, and so the native
 *   backend, stores it after clone, and the thread may look first).
 * - A creator that a ping-pong between two of its threads keeps out of
 *   runnext still gets to run: here main must get to set the flag that
 *   ends the ping-pong, whatever the number of workers (one worker is
 *   the hard case).  A lost turn is a hang, caught by run.sh's timeout.
 * - A recursive spawn tree (each thread creates FANOUT children and
 *   joins them) counts every leaf, with default and with small stacks.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>
#include "testutil.h"

#define MN (strcmp(WEFT_PAL, "native"))

/* ---- The thread id is stored before the thread runs --------------------- */

static pthread_t stored[64];
static int seen_equal[64];

static void *look_at_own_id(void *arg)
{
	long i = (long)arg;
	astore(&seen_equal[i], pthread_equal(stored[i], pthread_self()) ? 1 : 2);
	return 0;
}

static void id_stored_before_start(void **state)
{
	(void)state;
	for (long i = 0; i < 64; i++)
		assert_int_equal(pthread_create(&stored[i], 0, look_at_own_id,
			(void *)i), 0);
	for (int i = 0; i < 64; i++) {
		assert_int_equal(pthread_join(stored[i], 0), 0);
		if (MN) assert_int_equal(aload(&seen_equal[i]), 1);
		else assert_true(aload(&seen_equal[i]) != 0);
	}
}

/* ---- A creator kept out of runnext still runs --------------------------- */

static pthread_mutex_t pm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pcv = PTHREAD_COND_INITIALIZER;
static int turn, stop;	/* under pm */
static long rounds[2];

static void *ping_pong(void *arg)
{
	int me = (int)(long)arg;
	pthread_mutex_lock(&pm);
	while (!stop) {
		if (turn == me) {
			turn = !me;
			rounds[me]++;
			pthread_cond_broadcast(&pcv);
		}
		if (!stop) pthread_cond_wait(&pcv, &pm);
	}
	pthread_cond_broadcast(&pcv);
	pthread_mutex_unlock(&pm);
	return 0;
}

static void creator_not_starved(void **state)
{
	pthread_t a, b;
	(void)state;
	assert_int_equal(pthread_create(&a, 0, ping_pong, (void *)0), 0);
	assert_int_equal(pthread_create(&b, 0, ping_pong, (void *)1), 0);
	/* Here only if main got a turn while the two pass theirs back and
	 * forth; then it ends them. */
	pthread_mutex_lock(&pm);
	stop = 1;
	pthread_cond_broadcast(&pcv);
	pthread_mutex_unlock(&pm);
	assert_int_equal(pthread_join(a, 0), 0);
	assert_int_equal(pthread_join(b, 0), 0);
}

/* ---- Spawn trees -------------------------------------------------------- */

#define FANOUT 10
static pthread_attr_t small;

static void *node(void *arg)
{
	intptr_t depth = (intptr_t)arg, leaves = 0;
	pthread_t t[FANOUT];
	int k, e;
	if (!depth) return (void *)1;
	for (k = 0; k < FANOUT; k++) {
		e = pthread_create(&t[k], depth & 1 ? &small : 0, node,
			(void *)(depth - 1));
		CHECK_EQ(e, 0);
		if (e) break;
	}
	while (k--) {
		void *r;
		CHECK_EQ(pthread_join(t[k], &r), 0);
		leaves += (intptr_t)r;
	}
	return (void *)leaves;
}

static void tree_counts_every_leaf(void **state)
{
	(void)state;
	assert_int_equal(pthread_attr_init(&small), 0);
	assert_int_equal(pthread_attr_setstacksize(&small, 65536), 0);
	/* 10^4 leaves, 11,111 threads: under native at most a few hundred
	 * are alive at once (each inner one joins its 10). */
	assert_int_equal((intptr_t)node((void *)4), 10000);
	assert_thread_checks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(id_stored_before_start),
		cmocka_unit_test(creator_not_starved),
		cmocka_unit_test(tree_counts_every_leaf),
	};
	return cmocka_run_group_tests_name("spawn", tests, 0, 0);
}
