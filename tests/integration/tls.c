/*
 * Thread-local storage: __thread / _Thread_local variables, one copy per
 * thread with its initial value, and pthread keys with destructors.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include "testutil.h"

#define NT 8

static __thread int tvar = 42;
static __thread char tzero[256];
static _Thread_local long taligned __attribute__((aligned(64))) = 7;

static pthread_barrier_t all_set;

struct seen {
	int init, zero, aligned_ok, aligned_init, after;
	uintptr_t addr;
};

static struct seen seen[NT];

static void *per_thread(void *p)
{
	long id = (long)p;
	struct seen *s = &seen[id];
	int zero = 1;

	s->init = tvar;
	for (size_t i = 0; i < sizeof tzero; i++)
		zero &= !tzero[i];
	s->zero = zero;
	s->aligned_ok = ((uintptr_t)&taligned & 63) == 0;
	s->aligned_init = taligned;
	s->addr = (uintptr_t)&tvar;
	tvar = 1000 + id;
	memset(tzero, (int)id + 1, sizeof tzero);
	taligned = id;
	/* All threads have written their copies. */
	pthread_barrier_wait(&all_set);
	s->after = tvar == 1000 + id && tzero[17] == id + 1 && taligned == id;
	return 0;
}

static void thread_variables(void **state)
{
	pthread_t t[NT];

	tvar = -1;
	assert_int_equal(pthread_barrier_init(&all_set, 0, NT), 0);
	for (long i = 0; i < NT; i++)
		t[i] = spawn(per_thread, (void *)i);
	for (int i = 0; i < NT; i++)
		join(t[i]);
	for (int i = 0; i < NT; i++) {
		assert_int_equal(seen[i].init, 42);
		assert_true(seen[i].zero);
		assert_true(seen[i].aligned_ok);
		assert_int_equal(seen[i].aligned_init, 7);
		assert_true(seen[i].after);
		assert_int_not_equal(seen[i].addr, (uintptr_t)&tvar);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(seen[i].addr, seen[j].addr);
	}
	/* The main thread's copy is its own. */
	assert_int_equal(tvar, -1);
	assert_int_equal(((uintptr_t)&taligned & 63), 0);
	pthread_barrier_destroy(&all_set);
}

/* ---- Keys --------------------------------------------------------------- */

static pthread_key_t key;
static long dtor_sum;
static int dtor_calls;

static void dtor(void *v)
{
	aadd(&dtor_sum, (long)v);
	ainc(&dtor_calls);
}

static void *set_key(void *p)
{
	CHECK(pthread_getspecific(key) == 0);
	CHECK_EQ(pthread_setspecific(key, p), 0);
	CHECK(pthread_getspecific(key) == p);
	return 0;
}

static void key_destructors(void **state)
{
	pthread_t t[NT];

	dtor_sum = dtor_calls = 0;
	assert_int_equal(pthread_key_create(&key, dtor), 0);
	assert_null(pthread_getspecific(key));
	assert_int_equal(pthread_setspecific(key, (void *)1000L), 0);
	/* Thread i stores i: thread 0 stores NULL, whose destructor is not run. */
	for (long i = 0; i < NT; i++)
		t[i] = spawn(set_key, (void *)i);
	for (int i = 0; i < NT; i++)
		join(t[i]);
	assert_thread_checks();
	assert_int_equal(dtor_calls, NT - 1);
	assert_int_equal(dtor_sum, NT * (NT - 1) / 2);
	/* Other threads did not touch the main thread's value. */
	assert_ptr_equal(pthread_getspecific(key), (void *)1000L);
	assert_int_equal(pthread_setspecific(key, 0), 0);
	assert_int_equal(pthread_key_delete(key), 0);
}

/* A destructor that stores a new value is called again, a bounded
 * number of times (PTHREAD_DESTRUCTOR_ITERATIONS). */
static pthread_key_t rekey;
static int redtor_calls;

static void redtor(void *v)
{
	long n = (long)v;

	ainc(&redtor_calls);
	if (n < 3)
		pthread_setspecific(rekey, (void *)(n + 1));
}

static void *set_rekey(void *p)
{
	pthread_setspecific(rekey, (void *)1L);
	return 0;
}

static void key_destructor_resets(void **state)
{
	redtor_calls = 0;
	assert_int_equal(pthread_key_create(&rekey, redtor), 0);
	join(spawn(set_rekey, 0));
	assert_int_equal(redtor_calls, 3);
	assert_int_equal(pthread_key_delete(rekey), 0);
}

static void keys_distinct(void **state)
{
	pthread_key_t k[16];

	for (int i = 0; i < 16; i++) {
		assert_int_equal(pthread_key_create(&k[i], 0), 0);
		assert_int_equal(pthread_setspecific(k[i], (void *)(long)(i + 1)), 0);
	}
	for (int i = 0; i < 16; i++)
		assert_ptr_equal(pthread_getspecific(k[i]), (void *)(long)(i + 1));
	for (int i = 0; i < 16; i++)
		assert_int_equal(pthread_key_delete(k[i]), 0);
	/* A new key starts out NULL even where an old one was set. */
	assert_int_equal(pthread_key_create(&k[0], 0), 0);
	assert_null(pthread_getspecific(k[0]));
	assert_int_equal(pthread_key_delete(k[0]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(thread_variables),
		cmocka_unit_test(key_destructors),
		cmocka_unit_test(key_destructor_resets),
		cmocka_unit_test(keys_distinct),
	};

	return cmocka_run_group_tests_name("tls", tests, 0, 0);
}
