/*
 * Condition variables: signal, broadcast, many waiters, timed waits on
 * CLOCK_REALTIME and (by attribute) CLOCK_MONOTONIC.
 */
#define _GNU_SOURCE
#include "testutil.h"

#define NW 16

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;
static int go, nwaiting, tokens, woken;

/* Wait for pred under m, bounded: 0, or ETIMEDOUT if it never held. */
#define WAIT_FOR(c, pred) ({ \
	struct timespec at_ = deadline_ms(CLOCK_REALTIME, LONG_MS); \
	int r_ = 0; \
	while (!(pred) && r_ != ETIMEDOUT) \
		r_ = pthread_cond_timedwait((c), &m, &at_); \
	(pred) ? 0 : ETIMEDOUT; \
})

static void reset(void)
{
	go = nwaiting = tokens = woken = 0;
}

/* Counted in nwaiting under m before waiting: once the main thread
 * holds m and sees nwaiting == n, all n are blocked in the wait. */
static void *wait_go(void *p)
{
	pthread_mutex_lock(&m);
	nwaiting++;
	pthread_cond_signal(&ready_cv);
	int r = WAIT_FOR(&cv, go);
	woken++;
	pthread_mutex_unlock(&m);
	return (void *)(long)r;
}

static void all_waiting(int n)
{
	pthread_mutex_lock(&m);
	int r = WAIT_FOR(&ready_cv, nwaiting == n);
	pthread_mutex_unlock(&m);
	assert_int_equal(r, 0);
}

static void signal_one(void **state)
{
	pthread_t t;

	reset();
	t = spawn(wait_go, 0);
	all_waiting(1);
	pthread_mutex_lock(&m);
	go = 1;
	assert_int_equal(pthread_cond_signal(&cv), 0);
	pthread_mutex_unlock(&m);
	assert_int_equal((long)join(t), 0);
	assert_int_equal(woken, 1);
}

static void broadcast_all(void **state)
{
	pthread_t t[NW];

	reset();
	for (int i = 0; i < NW; i++)
		t[i] = spawn(wait_go, 0);
	all_waiting(NW);
	pthread_mutex_lock(&m);
	go = 1;
	assert_int_equal(pthread_cond_broadcast(&cv), 0);
	pthread_mutex_unlock(&m);
	for (int i = 0; i < NW; i++)
		assert_int_equal((long)join(t[i]), 0);
	assert_int_equal(woken, NW);
}

/* Each signal lets (at least) one waiter take one token. */
static void *take_token(void *p)
{
	pthread_mutex_lock(&m);
	nwaiting++;
	pthread_cond_signal(&ready_cv);
	int r = WAIT_FOR(&cv, tokens > 0);
	if (!r)
		tokens--;
	woken++;
	pthread_mutex_unlock(&m);
	return (void *)(long)r;
}

static void signal_each(void **state)
{
	pthread_t t[NW];

	reset();
	for (int i = 0; i < NW; i++)
		t[i] = spawn(take_token, 0);
	all_waiting(NW);
	for (int i = 0; i < NW; i++) {
		pthread_mutex_lock(&m);
		tokens++;
		assert_int_equal(pthread_cond_signal(&cv), 0);
		pthread_mutex_unlock(&m);
	}
	for (int i = 0; i < NW; i++)
		assert_int_equal((long)join(t[i]), 0);
	assert_int_equal(tokens, 0);
	assert_int_equal(woken, NW);
}

/* Two threads take turns, many times. */
#define ROUNDS 2000
static int turn;

static void *ping(void *p)
{
	long me = (long)p;

	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&m);
		int r = WAIT_FOR(&cv, turn == me);
		turn = !me;
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&m);
		if (!CHECK_EQ(r, 0))
			break;
	}
	return 0;
}

static void ping_pong(void **state)
{
	pthread_t a, b;

	turn = 0;
	a = spawn(ping, (void *)0L);
	b = spawn(ping, (void *)1L);
	join(a);
	join(b);
	assert_thread_checks();
	assert_int_equal(turn, 0);
}

/* ---- Timed waits -------------------------------------------------------- */

static void timedwait_on(pthread_cond_t *c, clockid_t clk)
{
	struct timespec at = deadline_ms(clk, SHORT_MS);
	int r;

	pthread_mutex_lock(&m);
	while ((r = pthread_cond_timedwait(c, &m, &at)) == 0)
		;
	assert_int_equal(r, ETIMEDOUT);
	/* The mutex is held again. */
	assert_int_equal(pthread_mutex_trylock(&m), EBUSY);
	pthread_mutex_unlock(&m);
	assert_deadline_passed(clk, at);
}

static void timedwait_realtime(void **state)
{
	timedwait_on(&cv, CLOCK_REALTIME);
}

static void timedwait_monotonic(void **state)
{
	pthread_condattr_t a;
	pthread_cond_t c;
	clockid_t clk;

	assert_int_equal(pthread_condattr_init(&a), 0);
	assert_int_equal(pthread_condattr_getclock(&a, &clk), 0);
	assert_int_equal(clk, CLOCK_REALTIME);
	assert_int_equal(pthread_condattr_setclock(&a, CLOCK_MONOTONIC), 0);
	assert_int_equal(pthread_condattr_getclock(&a, &clk), 0);
	assert_int_equal(clk, CLOCK_MONOTONIC);
	assert_int_equal(pthread_condattr_setclock(&a, CLOCK_PROCESS_CPUTIME_ID),
		EINVAL);
	assert_int_equal(pthread_cond_init(&c, &a), 0);
	pthread_condattr_destroy(&a);
	timedwait_on(&c, CLOCK_MONOTONIC);
	assert_int_equal(pthread_cond_destroy(&c), 0);
}

static void *signal_later(void *p)
{
	pthread_mutex_lock(&m);
	go = 1;
	pthread_cond_signal(p);
	pthread_mutex_unlock(&m);
	return 0;
}

/* A monotonic-clock condvar is also woken by signals, of course. */
static void timedwait_monotonic_signalled(void **state)
{
	pthread_condattr_t a;
	pthread_cond_t c;
	pthread_t t;
	int r = 0;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&c, &a);
	pthread_condattr_destroy(&a);
	reset();
	pthread_mutex_lock(&m);
	t = spawn(signal_later, &c);
	struct timespec at = deadline_ms(CLOCK_MONOTONIC, LONG_MS);
	while (!go && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&c, &m, &at);
	pthread_mutex_unlock(&m);
	join(t);
	assert_int_equal(go, 1);
	pthread_cond_destroy(&c);
}

static void timedwait_bad_deadline(void **state)
{
	struct timespec at = deadline_ms(CLOCK_REALTIME, LONG_MS);

	pthread_mutex_lock(&m);
	at.tv_nsec = 1000000000;
	assert_int_equal(pthread_cond_timedwait(&cv, &m, &at), EINVAL);
	at.tv_nsec = -1;
	assert_int_equal(pthread_cond_timedwait(&cv, &m, &at), EINVAL);
	assert_int_equal(pthread_mutex_trylock(&m), EBUSY);
	pthread_mutex_unlock(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signal_one),
		cmocka_unit_test(broadcast_all),
		cmocka_unit_test(signal_each),
		cmocka_unit_test(ping_pong),
		cmocka_unit_test(timedwait_realtime),
		cmocka_unit_test(timedwait_monotonic),
		cmocka_unit_test(timedwait_monotonic_signalled),
		cmocka_unit_test(timedwait_bad_deadline),
	};

	return cmocka_run_group_tests_name("cond", tests, 0, 0);
}
