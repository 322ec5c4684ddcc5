/* Barriers: all threads leave a round together, exactly one of them as
 * the serial thread, round after round. */
#define _GNU_SOURCE
#include "testutil.h"

#define NT 4
#define ROUNDS 200

static pthread_barrier_t bar;
static int arrived[ROUNDS], serial[ROUNDS];

static void *rounds(void *p)
{
	for (int i = 0; i < ROUNDS; i++) {
		ainc(&arrived[i]);
		int r = pthread_barrier_wait(&bar);
		if (r == PTHREAD_BARRIER_SERIAL_THREAD)
			ainc(&serial[i]);
		else if (!CHECK_EQ(r, 0))
			break;
		/* Nobody leaves before everyone arrived. */
		CHECK_EQ(aload(&arrived[i]), NT);
	}
	return 0;
}

static void serial_once_per_round(void **state)
{
	pthread_t t[NT];

	assert_int_equal(pthread_barrier_init(&bar, 0, NT), 0);
	for (int i = 0; i < NT; i++)
		t[i] = spawn(rounds, 0);
	for (int i = 0; i < NT; i++)
		join(t[i]);
	assert_thread_checks();
	for (int i = 0; i < ROUNDS; i++) {
		assert_int_equal(arrived[i], NT);
		assert_int_equal(serial[i], 1);
	}
	assert_int_equal(pthread_barrier_destroy(&bar), 0);
}

static void count_one(void **state)
{
	pthread_barrier_t b;

	assert_int_equal(pthread_barrier_init(&b, 0, 1), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_barrier_wait(&b), PTHREAD_BARRIER_SERIAL_THREAD);
	assert_int_equal(pthread_barrier_destroy(&b), 0);
	assert_int_equal(pthread_barrier_init(&b, 0, 0), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(serial_once_per_round),
		cmocka_unit_test(count_one),
	};

	return cmocka_run_group_tests_name("barrier", tests, 0, 0);
}
