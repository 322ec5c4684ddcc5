/* C11 <threads.h>: thrd, mtx, cnd, call_once and tss. */
#define _GNU_SOURCE
#include <threads.h>
#include "testutil.h"

static int add_one(void *p)
{
	return (int)(long)p + 1;
}

static void create_join(void **state)
{
	thrd_t t[8];
	int r;

	for (long i = 0; i < 8; i++)
		assert_int_equal(thrd_create(&t[i], add_one, (void *)i), thrd_success);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(thrd_join(t[i], &r), thrd_success);
		assert_int_equal(r, i + 1);
	}
}

static int exit_seven(void *p)
{
	thrd_exit(7);
}

static int current(void *p)
{
	*(thrd_t *)p = thrd_current();
	thrd_yield();
	return 0;
}

static void exit_current_equal(void **state)
{
	thrd_t t, seen;
	int r;

	assert_int_equal(thrd_create(&t, exit_seven, 0), thrd_success);
	assert_int_equal(thrd_join(t, &r), thrd_success);
	assert_int_equal(r, 7);
	assert_int_equal(thrd_create(&t, current, &seen), thrd_success);
	assert_int_equal(thrd_join(t, 0), thrd_success);
	assert_true(thrd_equal(t, seen));
	assert_false(thrd_equal(t, thrd_current()));
}

static mtx_t dm;
static int detached_ran;
static cnd_t dc;

static int detached(void *p)
{
	mtx_lock(&dm);
	detached_ran = 1;
	cnd_signal(&dc);
	mtx_unlock(&dm);
	return 0;
}

static void detach(void **state)
{
	struct timespec at = deadline_ms(CLOCK_REALTIME, LONG_MS);
	thrd_t t;
	int r = thrd_success;

	assert_int_equal(mtx_init(&dm, mtx_plain), thrd_success);
	assert_int_equal(cnd_init(&dc), thrd_success);
	assert_int_equal(thrd_create(&t, detached, 0), thrd_success);
	assert_int_equal(thrd_detach(t), thrd_success);
	mtx_lock(&dm);
	while (!detached_ran && r != thrd_timedout)
		r = cnd_timedwait(&dc, &dm, &at);
	mtx_unlock(&dm);
	assert_int_equal(detached_ran, 1);
	cnd_destroy(&dc);
	mtx_destroy(&dm);
}

/* ---- Mutexes ------------------------------------------------------------ */

static mtx_t m;
static long counter;

static int count(void *p)
{
	for (int i = 0; i < 10000; i++) {
		if (mtx_lock(&m) != thrd_success)
			return 1;
		counter++;
		mtx_unlock(&m);
	}
	return 0;
}

static int try_other(void *p)
{
	int r = mtx_trylock(p);

	if (r == thrd_success)
		mtx_unlock(p);
	return r;
}

static int in_other(int (*f)(void *), void *arg)
{
	thrd_t t;
	int r;

	assert_int_equal(thrd_create(&t, f, arg), thrd_success);
	assert_int_equal(thrd_join(t, &r), thrd_success);
	return r;
}

static void mutex_plain(void **state)
{
	thrd_t t[4];
	int r;

	assert_int_equal(mtx_init(&m, mtx_plain), thrd_success);
	counter = 0;
	for (int i = 0; i < 4; i++)
		assert_int_equal(thrd_create(&t[i], count, 0), thrd_success);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(thrd_join(t[i], &r), thrd_success);
		assert_int_equal(r, 0);
	}
	assert_int_equal(counter, 40000);
	assert_int_equal(mtx_lock(&m), thrd_success);
	assert_int_equal(in_other(try_other, &m), thrd_busy);
	assert_int_equal(mtx_unlock(&m), thrd_success);
	assert_int_equal(in_other(try_other, &m), thrd_success);
	mtx_destroy(&m);
}

static void mutex_recursive(void **state)
{
	assert_int_equal(mtx_init(&m, mtx_plain | mtx_recursive), thrd_success);
	assert_int_equal(mtx_lock(&m), thrd_success);
	assert_int_equal(mtx_lock(&m), thrd_success);
	assert_int_equal(mtx_trylock(&m), thrd_success);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(in_other(try_other, &m), thrd_busy);
		assert_int_equal(mtx_unlock(&m), thrd_success);
	}
	assert_int_equal(in_other(try_other, &m), thrd_success);
	mtx_destroy(&m);
}

static int timed_other(void *p)
{
	struct timespec at = deadline_ms(CLOCK_REALTIME, SHORT_MS);
	int r = mtx_timedlock(p, &at);

	if (r == thrd_success)
		mtx_unlock(p);
	else if (ts_ns_since(ts_now(CLOCK_REALTIME), at) < 0)
		return -1;
	return r;
}

static void mutex_timed(void **state)
{
	assert_int_equal(mtx_init(&m, mtx_timed), thrd_success);
	assert_int_equal(mtx_lock(&m), thrd_success);
	assert_int_equal(in_other(timed_other, &m), thrd_timedout);
	assert_int_equal(mtx_unlock(&m), thrd_success);
	assert_int_equal(in_other(timed_other, &m), thrd_success);
	mtx_destroy(&m);
}

/* ---- Condition variables ------------------------------------------------ */

static cnd_t c;
static int go, waiting;

static int wait_go(void *p)
{
	struct timespec at = deadline_ms(CLOCK_REALTIME, LONG_MS);
	int r = thrd_success;

	mtx_lock(&m);
	waiting++;
	cnd_broadcast(&c);
	while (!go && r == thrd_success)
		r = cnd_timedwait(&c, &m, &at);
	mtx_unlock(&m);
	return r;
}

static void condvar(void **state)
{
	struct timespec at = deadline_ms(CLOCK_REALTIME, LONG_MS);
	thrd_t t[4];
	int r = thrd_success;

	assert_int_equal(mtx_init(&m, mtx_plain), thrd_success);
	assert_int_equal(cnd_init(&c), thrd_success);
	go = waiting = 0;
	for (int i = 0; i < 4; i++)
		assert_int_equal(thrd_create(&t[i], wait_go, 0), thrd_success);
	mtx_lock(&m);
	while (waiting < 4 && r == thrd_success)
		r = cnd_timedwait(&c, &m, &at);
	assert_int_equal(waiting, 4);
	go = 1;
	assert_int_equal(cnd_broadcast(&c), thrd_success);
	mtx_unlock(&m);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(thrd_join(t[i], &r), thrd_success);
		assert_int_equal(r, thrd_success);
	}

	/* cnd_signal wakes a waiter too. */
	go = waiting = 0;
	assert_int_equal(thrd_create(&t[0], wait_go, 0), thrd_success);
	at = deadline_ms(CLOCK_REALTIME, LONG_MS);
	r = thrd_success;
	mtx_lock(&m);
	while (waiting < 1 && r == thrd_success)
		r = cnd_timedwait(&c, &m, &at);
	go = 1;
	assert_int_equal(cnd_signal(&c), thrd_success);
	mtx_unlock(&m);
	assert_int_equal(thrd_join(t[0], &r), thrd_success);
	assert_int_equal(r, thrd_success);

	/* And a timed wait times out. */
	at = deadline_ms(CLOCK_REALTIME, SHORT_MS);
	mtx_lock(&m);
	while ((r = cnd_timedwait(&c, &m, &at)) == thrd_success)
		;
	mtx_unlock(&m);
	assert_int_equal(r, thrd_timedout);
	assert_deadline_passed(CLOCK_REALTIME, at);
	cnd_destroy(&c);
	mtx_destroy(&m);
}

/* ---- call_once and tss -------------------------------------------------- */

static once_flag flag = ONCE_FLAG_INIT;
static int once_runs;

static void once_fn(void)
{
	ainc(&once_runs);
}

static int call_it(void *p)
{
	call_once(&flag, once_fn);
	return once_runs;
}

static void once(void **state)
{
	thrd_t t[8];
	int r;

	for (int i = 0; i < 8; i++)
		assert_int_equal(thrd_create(&t[i], call_it, 0), thrd_success);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(thrd_join(t[i], &r), thrd_success);
		assert_int_equal(r, 1);
	}
	assert_int_equal(once_runs, 1);
}

static tss_t key;
static long dtor_sum;

static void dtor(void *v)
{
	aadd(&dtor_sum, (long)v);
}

static int use_tss(void *p)
{
	if (tss_get(key) || tss_set(key, p) != thrd_success)
		return 1;
	return tss_get(key) != p;
}

static void thread_specific(void **state)
{
	thrd_t t[4];
	int r;

	dtor_sum = 0;
	assert_int_equal(tss_create(&key, dtor), thrd_success);
	for (long i = 0; i < 4; i++)
		assert_int_equal(thrd_create(&t[i], use_tss, (void *)(i + 1)),
			thrd_success);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(thrd_join(t[i], &r), thrd_success);
		assert_int_equal(r, 0);
	}
	assert_int_equal(dtor_sum, 1 + 2 + 3 + 4);
	assert_null(tss_get(key));
	tss_delete(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_join),
		cmocka_unit_test(exit_current_equal),
		cmocka_unit_test(detach),
		cmocka_unit_test(mutex_plain),
		cmocka_unit_test(mutex_recursive),
		cmocka_unit_test(mutex_timed),
		cmocka_unit_test(condvar),
		cmocka_unit_test(once),
		cmocka_unit_test(thread_specific),
	};

	return cmocka_run_group_tests_name("c11threads", tests, 0, 0);
}
