/*
 * Read-write locks: readers hold it together, a writer alone; try and
 * timed variants.
 */
#define _GNU_SOURCE
#include "testutil.h"

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;

/* ---- Readers together --------------------------------------------------- */

#define NR 4

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int nreading;

/* Each reader holds the lock until all NR hold it: possible only if
 * they really hold it at the same time. */
static void *read_together(void *p)
{
	struct timespec at = deadline_ms(CLOCK_REALTIME, LONG_MS);
	int r = 0;

	if (!CHECK_EQ(pthread_rwlock_rdlock(&rw), 0))
		return 0;
	pthread_mutex_lock(&m);
	nreading++;
	pthread_cond_broadcast(&cv);
	while (nreading < NR && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&cv, &m, &at);
	CHECK_EQ(nreading, NR);
	pthread_mutex_unlock(&m);
	CHECK_EQ(pthread_rwlock_unlock(&rw), 0);
	return 0;
}

static void readers_concurrent(void **state)
{
	pthread_t t[NR];

	nreading = 0;
	for (int i = 0; i < NR; i++)
		t[i] = spawn(read_together, 0);
	for (int i = 0; i < NR; i++)
		join(t[i]);
	assert_thread_checks();
}

/* ---- Writers alone ------------------------------------------------------ */

#define ITERS 5000

static int readers_in, writers_in;
static long a, b;

static void *writer(void *p)
{
	for (int i = 0; i < ITERS; i++) {
		if (!CHECK_EQ(pthread_rwlock_wrlock(&rw), 0))
			break;
		CHECK_EQ(ainc(&writers_in), 1);
		CHECK_EQ(aload(&readers_in), 0);
		a++;
		b++;
		__atomic_sub_fetch(&writers_in, 1, __ATOMIC_SEQ_CST);
		CHECK_EQ(pthread_rwlock_unlock(&rw), 0);
	}
	return 0;
}

static void *reader(void *p)
{
	for (int i = 0; i < ITERS; i++) {
		if (!CHECK_EQ(pthread_rwlock_rdlock(&rw), 0))
			break;
		ainc(&readers_in);
		CHECK_EQ(aload(&writers_in), 0);
		CHECK_EQ(a, b);
		__atomic_sub_fetch(&readers_in, 1, __ATOMIC_SEQ_CST);
		CHECK_EQ(pthread_rwlock_unlock(&rw), 0);
	}
	return 0;
}

static void writer_exclusion(void **state)
{
	pthread_t t[4];

	a = b = 0;
	t[0] = spawn(writer, 0);
	t[1] = spawn(reader, 0);
	t[2] = spawn(writer, 0);
	t[3] = spawn(reader, 0);
	for (int i = 0; i < 4; i++)
		join(t[i]);
	assert_thread_checks();
	assert_int_equal(a, 2 * ITERS);
	assert_int_equal(b, 2 * ITERS);
}

/* ---- Try and timed ------------------------------------------------------ */

struct tries {
	int tryrd, trywr, timedrd, timedwr;
};

static void *try_all(void *p)
{
	struct tries *t = p;
	struct timespec at;

	if (!(t->tryrd = pthread_rwlock_tryrdlock(&rw)))
		pthread_rwlock_unlock(&rw);
	if (!(t->trywr = pthread_rwlock_trywrlock(&rw)))
		pthread_rwlock_unlock(&rw);
	at = deadline_ms(CLOCK_REALTIME, SHORT_MS);
	if (!(t->timedrd = pthread_rwlock_timedrdlock(&rw, &at)))
		pthread_rwlock_unlock(&rw);
	else
		CHECK(ts_ns_since(ts_now(CLOCK_REALTIME), at) >= 0);
	at = deadline_ms(CLOCK_REALTIME, SHORT_MS);
	if (!(t->timedwr = pthread_rwlock_timedwrlock(&rw, &at)))
		pthread_rwlock_unlock(&rw);
	else
		CHECK(ts_ns_since(ts_now(CLOCK_REALTIME), at) >= 0);
	return 0;
}

static struct tries try_in_other(void)
{
	struct tries t = { -1, -1, -1, -1 };

	join(spawn(try_all, &t));
	assert_thread_checks();
	return t;
}

static void try_and_timed(void **state)
{
	struct tries t;

	t = try_in_other();
	assert_int_equal(t.tryrd, 0);
	assert_int_equal(t.trywr, 0);
	assert_int_equal(t.timedrd, 0);
	assert_int_equal(t.timedwr, 0);

	assert_int_equal(pthread_rwlock_wrlock(&rw), 0);
	t = try_in_other();
	assert_int_equal(t.tryrd, EBUSY);
	assert_int_equal(t.trywr, EBUSY);
	assert_int_equal(t.timedrd, ETIMEDOUT);
	assert_int_equal(t.timedwr, ETIMEDOUT);
	assert_int_equal(pthread_rwlock_tryrdlock(&rw), EBUSY);
	assert_int_equal(pthread_rwlock_trywrlock(&rw), EBUSY);
	assert_int_equal(pthread_rwlock_unlock(&rw), 0);

	assert_int_equal(pthread_rwlock_rdlock(&rw), 0);
	assert_int_equal(pthread_rwlock_tryrdlock(&rw), 0);
	t = try_in_other();
	assert_int_equal(t.tryrd, 0);
	assert_int_equal(t.trywr, EBUSY);
	assert_int_equal(t.timedrd, 0);
	assert_int_equal(t.timedwr, ETIMEDOUT);
	assert_int_equal(pthread_rwlock_unlock(&rw), 0);
	assert_int_equal(pthread_rwlock_trywrlock(&rw), EBUSY);
	assert_int_equal(pthread_rwlock_unlock(&rw), 0);
	assert_int_equal(pthread_rwlock_trywrlock(&rw), 0);
	assert_int_equal(pthread_rwlock_unlock(&rw), 0);
}

static void *write_after(void *p)
{
	int r = pthread_rwlock_wrlock(&rw);

	if (!r)
		pthread_rwlock_unlock(&rw);
	return (void *)(long)r;
}

/* A writer blocked behind readers gets the lock when they leave. */
static void writer_waits_for_readers(void **state)
{
	pthread_t t;

	assert_int_equal(pthread_rwlock_rdlock(&rw), 0);
	t = spawn(write_after, 0);
	assert_int_equal(pthread_rwlock_unlock(&rw), 0);
	assert_int_equal((long)join(t), 0);
}

static void init_and_bad_deadline(void **state)
{
	struct timespec at = deadline_ms(CLOCK_REALTIME, LONG_MS);
	pthread_rwlock_t l;

	assert_int_equal(pthread_rwlock_init(&l, 0), 0);
	assert_int_equal(pthread_rwlock_wrlock(&l), 0);
	at.tv_nsec = 1000000000;
	assert_int_equal(pthread_rwlock_timedrdlock(&l, &at), EINVAL);
	assert_int_equal(pthread_rwlock_timedwrlock(&l, &at), EINVAL);
	assert_int_equal(pthread_rwlock_unlock(&l), 0);
	assert_int_equal(pthread_rwlock_destroy(&l), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(readers_concurrent),
		cmocka_unit_test(writer_exclusion),
		cmocka_unit_test(try_and_timed),
		cmocka_unit_test(writer_waits_for_readers),
		cmocka_unit_test(init_and_bad_deadline),
	};

	return cmocka_run_group_tests_name("rwlock", tests, 0, 0);
}
