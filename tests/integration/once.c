/* pthread_once: the routine runs exactly once, and every caller returns
 * only after it finished, however many threads race for it. */
#define _GNU_SOURCE
#include <sched.h>
#include "testutil.h"

#define NT 8
#define ROUNDS 50

static pthread_once_t once[ROUNDS];
static pthread_barrier_t start;
static int runs[ROUNDS], done[ROUNDS];
static int round_now;

static void init_round(void)
{
	int i = round_now;

	ainc(&runs[i]);
	/* Widen the window for racing callers. */
	for (int k = 0; k < 10; k++)
		sched_yield();
	astore(&done[i], 1);
}

static void *race(void *p)
{
	for (int i = 0; i < ROUNDS; i++) {
		if (pthread_barrier_wait(&start) == PTHREAD_BARRIER_SERIAL_THREAD)
			astore(&round_now, i);
		pthread_barrier_wait(&start);
		CHECK_EQ(pthread_once(&once[i], init_round), 0);
		CHECK_EQ(aload(&done[i]), 1);
		CHECK_EQ(pthread_once(&once[i], init_round), 0);
	}
	return 0;
}

static void once_under_contention(void **state)
{
	pthread_t t[NT];

	for (int i = 0; i < ROUNDS; i++)
		once[i] = (pthread_once_t)PTHREAD_ONCE_INIT;
	assert_int_equal(pthread_barrier_init(&start, 0, NT), 0);
	for (int i = 0; i < NT; i++)
		t[i] = spawn(race, 0);
	for (int i = 0; i < NT; i++)
		join(t[i]);
	assert_thread_checks();
	for (int i = 0; i < ROUNDS; i++)
		assert_int_equal(runs[i], 1);
	pthread_barrier_destroy(&start);
}

/* A routine cancelled part-way leaves the once control reset. */
static pthread_once_t cancel_once = PTHREAD_ONCE_INIT;
static int cancel_runs;
static sem_t in_init, never;

static void init_blocking(void)
{
	struct timespec at = deadline_ms(CLOCK_REALTIME, LONG_MS);

	if (ainc(&cancel_runs) == 1) {
		sem_post(&in_init);
		while (sem_timedwait(&never, &at) && errno == EINTR)
			;
	}
}

static void *call_once_blocking(void *p)
{
	pthread_once(&cancel_once, init_blocking);
	return 0;
}

static void once_cancelled_runs_again(void **state)
{
	pthread_t t;

	sem_init(&in_init, 0, 0);
	sem_init(&never, 0, 0);
	t = spawn(call_once_blocking, 0);
	sem_wait_long(&in_init);
	assert_int_equal(pthread_cancel(t), 0);
	assert_ptr_equal(join(t), PTHREAD_CANCELED);
	assert_int_equal(pthread_once(&cancel_once, init_blocking), 0);
	assert_int_equal(cancel_runs, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(once_under_contention),
		cmocka_unit_test(once_cancelled_runs_again),
	};

	return cmocka_run_group_tests_name("once", tests, 0, 0);
}
