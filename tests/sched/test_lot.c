/* Host unit tests of sched/lot.c.  A "task" here is a host thread parked
 * on a flag with the kernel futex; the lot itself is what is tested. */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "util.h"
#include "lot.h"

struct host_task {
	int unparked;
	struct __sched_waiter w;
};

static void unpark(void *p)
{
	struct host_task *t = p;
	__atomic_store_n(&t->unparked, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &t->unparked, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
}

/* futex_wait on the lot, as pal/epoll/futex.c does it (queue, fence,
 * then read the word; lot.h): -EAGAIN on mismatch, else park until
 * unparked. */
static int lot_wait(volatile int *addr, int val, struct host_task *t)
{
	struct __sched_bucket *b = __sched_lot_lock(addr);
	t->unparked = 0;
	__sched_lot_enqueue(b, &t->w, addr, t);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (*addr != val) {
		__sched_lot_remove_locked(b, &t->w, 0);
		__sched_lot_unlock(b);
		return -EAGAIN;
	}
	__sched_lot_unlock(b);
	while (!__atomic_load_n(&t->unparked, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, &t->unparked, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
	return t->w.result;
}

static volatile int word_a, word_b;
static int queued;	/* waiters that have enqueued */

struct arg {
	volatile int *addr;
	struct host_task t;
	int order, ret;
};
static int wake_seq;

static void *waiter(void *p)
{
	struct arg *a = p;
	struct __sched_bucket *b = __sched_lot_lock(a->addr);
	a->t.unparked = 0;
	__sched_lot_enqueue(b, &a->t.w, a->addr, &a->t);
	__atomic_fetch_add(&queued, 1, __ATOMIC_RELEASE);
	__sched_lot_unlock(b);
	while (!__atomic_load_n(&a->t.unparked, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, &a->t.unparked, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
	a->ret = a->t.w.result;
	a->order = __atomic_fetch_add(&wake_seq, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Start n waiters on addr one after another, so their queue order is i. */
static void start(pthread_t *th, struct arg *a, int n, volatile int *addr)
{
	for (int i = 0; i < n; i++) {
		int before = __atomic_load_n(&queued, __ATOMIC_ACQUIRE);
		a[i].addr = addr;
		assert_int_equal(pthread_create(&th[i], 0, waiter, &a[i]), 0);
		while (__atomic_load_n(&queued, __ATOMIC_ACQUIRE) == before)
			sched_yield();
	}
}

static void test_mismatch_and_empty(void **state)
{
	struct host_task t;
	(void)state;
	word_a = 1;
	assert_int_equal(lot_wait(&word_a, 0, &t), -EAGAIN);
	assert_int_equal(__sched_lot_wake(&word_a, 1, unpark), 0);
	assert_int_equal(__sched_lot_wake(&word_a, -1, unpark), 0);
}

static void test_wake_one_then_all_fifo(void **state)
{
	pthread_t th[5];
	struct arg a[5] = { 0 };
	(void)state;
	queued = wake_seq = 0;
	start(th, a, 5, &word_a);
	assert_int_equal(__sched_lot_wake(&word_b, -1, unpark), 0);
	assert_int_equal(__sched_lot_wake(&word_a, 1, unpark), 1);
	pthread_join(th[0], 0);
	assert_int_equal(a[0].order, 0);
	assert_int_equal(__sched_lot_wake(&word_a, -1, unpark), 4);
	for (int i = 1; i < 5; i++) {
		pthread_join(th[i], 0);
		assert_int_equal(a[i].ret, 0);
	}
	assert_int_equal(__sched_lot_wake(&word_a, -1, unpark), 0);
}

static void test_requeue(void **state)
{
	pthread_t th[4];
	struct arg a[4] = { 0 };
	(void)state;
	queued = wake_seq = 0;
	start(th, a, 4, &word_a);
	/* wake 1, move 2 to word_b, leave 1 on word_a */
	assert_int_equal(__sched_lot_requeue(&word_a, 1, 2, &word_b, unpark), 3);
	pthread_join(th[0], 0);
	assert_int_equal(__sched_lot_wake(&word_b, -1, unpark), 2);
	pthread_join(th[1], 0);
	pthread_join(th[2], 0);
	assert_int_equal(__sched_lot_wake(&word_b, -1, unpark), 0);
	assert_int_equal(__sched_lot_wake(&word_a, -1, unpark), 1);
	pthread_join(th[3], 0);
}

static void test_remove(void **state)
{
	struct host_task t;
	struct __sched_bucket *b;
	(void)state;
	b = __sched_lot_lock(&word_a);
	__sched_lot_enqueue(b, &t.w, &word_a, &t);
	__sched_lot_unlock(b);
	assert_int_equal(__sched_lot_remove(&t.w, -ETIMEDOUT), 1);
	assert_int_equal(t.w.result, -ETIMEDOUT);
	assert_int_equal(__sched_lot_remove(&t.w, -ETIMEDOUT), 0);
	assert_int_equal(__sched_lot_wake(&word_a, -1, unpark), 0);
}

/* A lock wake wakes nobody while the waiter it woke for the same word
 * has not landed, and the oldest waiter again once it has; a word that
 * shares the bucket with one in flight is not counted, so each of its
 * lock wakes wakes. */
static void test_wake_lock(void **state)
{
	pthread_t th[3];
	struct arg a[3] = { 0 };
	(void)state;
	queued = wake_seq = 0;
	start(th, a, 3, &word_a);
	assert_int_equal(__sched_lot_wake_lock(&word_a, unpark), 1);
	pthread_join(th[0], 0);
	assert_int_equal(a[0].ret, 0);
	assert_non_null(a[0].t.w.landing);
	/* a[0] is in flight: it will retry the lock */
	assert_int_equal(__sched_lot_wake_lock(&word_a, unpark), 0);
	assert_int_equal(__sched_lot_wake_lock(&word_b, unpark), 0);
	__sched_lot_landed(&a[0].t.w);
	assert_null(a[0].t.w.landing);
	for (int i = 1; i < 3; i++) {
		assert_int_equal(__sched_lot_wake_lock(&word_a, unpark), 1);
		pthread_join(th[i], 0);
		assert_int_equal(a[i].order, i);
		__sched_lot_landed(&a[i].t.w);
	}
	assert_int_equal(__sched_lot_wake_lock(&word_a, unpark), 0);

	/* Two words in one bucket: the second cannot be counted while the
	 * first is in flight, so its releases wake every time. */
	/* Keys only: the lot never reads a word, so any address will do. */
	volatile int *x = &word_a, *y = 0;
	struct __sched_bucket *bx = __sched_lot_lock(x);
	__sched_lot_unlock(bx);
	for (uintptr_t i = 1; i < 1u << 24 && !y; i++) {
		volatile int *c = (volatile int *)((uintptr_t)x + 4 * i);
		struct __sched_bucket *b = __sched_lot_lock(c);
		__sched_lot_unlock(b);
		if (b == bx) y = c;
	}
	assert_non_null(y);
	queued = wake_seq = 0;
	start(th, a, 1, x);
	start(th + 1, a + 1, 2, y);
	assert_int_equal(__sched_lot_wake_lock(x, unpark), 1);
	pthread_join(th[0], 0);
	assert_int_equal(__sched_lot_wake_lock(y, unpark), 1);
	pthread_join(th[1], 0);
	assert_null(a[1].t.w.landing);
	assert_int_equal(__sched_lot_wake_lock(y, unpark), 1);
	pthread_join(th[2], 0);
	__sched_lot_landed(&a[0].t.w);
	assert_int_equal(__sched_lot_wake_lock(x, unpark), 0);
}

/* Wakers and giving-up waiters race: every waiter ends exactly once, and
 * the wakes counted by wakers equal the waiters that ended with 0. */
#define ROUNDS 20000
#define NW 3
static long woken_by_wakers, ended_ok;
static int stop;

static void *racer(void *p)
{
	struct host_task t;
	(void)p;
	for (int i = 0; i < ROUNDS; i++) {
		struct __sched_bucket *b = __sched_lot_lock(&word_a);
		t.unparked = 0;
		__sched_lot_enqueue(b, &t.w, &word_a, &t);
		__sched_lot_unlock(b);
		if (i & 1) sched_yield();
		if (__sched_lot_remove(&t.w, -ETIMEDOUT)) {
			assert_int_equal(t.w.result, -ETIMEDOUT);
			continue;
		}
		/* a waker took it: it will unpark us */
		while (!__atomic_load_n(&t.unparked, __ATOMIC_ACQUIRE))
			syscall(SYS_futex, &t.unparked, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
		assert_int_equal(t.w.result, 0);
		__atomic_fetch_add(&ended_ok, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

static void *waker(void *p)
{
	(void)p;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		long k = __sched_lot_wake(&word_a, 1, unpark);
		/* moves (no wakes) race with remove too */
		__sched_lot_requeue(&word_a, 0, 1, &word_a, unpark);
		k += __sched_lot_wake(&word_a, 1, unpark);
		__atomic_fetch_add(&woken_by_wakers, k, __ATOMIC_RELAXED);
	}
	return 0;
}

static void test_wake_remove_race(void **state)
{
	pthread_t r[NW], w;
	(void)state;
	assert_int_equal(pthread_create(&w, 0, waker, 0), 0);
	for (int i = 0; i < NW; i++)
		assert_int_equal(pthread_create(&r[i], 0, racer, 0), 0);
	for (int i = 0; i < NW; i++)
		pthread_join(r[i], 0);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(w, 0);
	assert_int_equal(ended_ok, woken_by_wakers);
	assert_true(ended_ok > 0);
	assert_int_equal(__sched_lot_wake(&word_a, -1, unpark), 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_mismatch_and_empty),
	cmocka_unit_test(test_wake_one_then_all_fifo),
	cmocka_unit_test(test_requeue),
	cmocka_unit_test(test_remove),
	cmocka_unit_test(test_wake_lock),
	cmocka_unit_test(test_wake_remove_race),
};

TEST_MAIN(tests)
