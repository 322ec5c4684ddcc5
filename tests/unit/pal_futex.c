/*
 * The PAL futex contract (pal/pal.h): __pal_futex_wait, __pal_futex_wake,
 * __pal_futex_requeue, __pal_futex_lock_pi and __pal_futex_unlock_pi,
 * called directly (static link; they are hidden in libc).
 *
 * A waiter on a word nobody changes or wakes returns only when woken, so
 * the counts below are exact; the contract allows spurious returns of 0,
 * which these tests would report as a failed count.
 *
 * One backend does return spuriously: under M:N a process-shared wait
 * (priv == 0) also returns 0 whenever a poll interval (50 us, doubling
 * to 5 ms) passes with the word unchanged, as it cannot see another
 * process's FUTEX_WAKE otherwise (pal/epoll/futex.c).  Exact wake and
 * requeue counts there would need every waiter still asleep when the
 * test wakes or moves it, which only timing gives (a test thread
 * descheduled for a poll interval failed them).  So in that case only,
 * a waiter that returns 0 waits again until the test releases it, and
 * the counts are checked as bounds; the exact counts stay checked for
 * private waits on both backends and for shared ones natively.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include "palutil.h"

#define NW 6
#define MN (strcmp(WEFT_PAL, "native"))

static const int priv_private = 1, priv_shared = 0;
/* A test run once with private and once with shared futexes. */
#define PRIV_TESTS(f) \
	{ #f "_private", f, 0, 0, (void *)&priv_private }, \
	{ #f "_shared", f, 0, 0, (void *)&priv_shared }

struct waitset {
	volatile int a, b;	/* futex words; never changed */
	int priv;
	int spurious;		/* waits may return 0 unwoken (see above) */
	int release;		/* then: a waiter returns on 0 only once set */
	int started, returned;	/* futex words too, for the test itself */
	int result[NW];
	pthread_t t[NW];
};

struct waiter_arg {
	struct waitset *ws;
	int i;
};

static void *waiter(void *p)
{
	struct waiter_arg *wa = p;
	struct waitset *ws = wa->ws;
	struct timespec at = deadline_ms(CLOCK_MONOTONIC, LONG_MS);
	int r;

	count_up(&ws->started);
	do
		r = __pal_futex_wait(&ws->a, 0, ws->priv, CLOCK_MONOTONIC, &at, 0);
	while (!r && ws->spurious && !aload(&ws->release));
	ws->result[wa->i] = r;
	count_up(&ws->returned);
	return 0;
}

static struct waiter_arg args[NW];

static void start_waiters(struct waitset *ws, int priv)
{
	memset(ws, 0, sizeof *ws);
	ws->priv = priv;
	ws->spurious = MN && !priv;
	for (int i = 0; i < NW; i++) {
		args[i] = (struct waiter_arg){ ws, i };
		ws->t[i] = spawn(waiter, &args[i]);
	}
	assert_int_equal(await_count(&ws->started, NW), NW);
}

static void finish_waiters(struct waitset *ws)
{
	assert_int_equal(await_count(&ws->returned, NW), NW);
	for (int i = 0; i < NW; i++) {
		join(ws->t[i]);
		assert_int_equal(ws->result[i], 0);
	}
}

/* Wake repeatedly until all NW waiters were counted: a
 * waiter that was not yet asleep is simply found by a later call.
 * With spurious returns: released, until all returned; each wake
 * within bounds. */
static void wake_all_by(struct waitset *ws, int cnt)
{
	struct timespec at = deadline_ms(CLOCK_MONOTONIC, LONG_MS);
	int sum = 0, n;

	if (ws->spurious) {
		astore(&ws->release, 1);
		while (aload(&ws->returned) < NW) {
			n = __pal_futex_wake(&ws->a, cnt, ws->priv);
			assert_in_range(n, 0, cnt < 0 ? NW : cnt);
			if (ts_ns_since(ts_now(CLOCK_MONOTONIC), at) > 0)
				fail_msg("%d of %d waiters returned in %d ms",
					aload(&ws->returned), NW, LONG_MS);
			if (!n)
				sched_yield();
		}
		return;
	}
	while (sum < NW) {
		n = __pal_futex_wake(&ws->a, cnt, ws->priv);
		assert_in_range(n, 0, cnt < 0 ? NW - sum : cnt);
		sum += n;
		assert_in_range(aload(&ws->returned), 0, sum);
		if (ts_ns_since(ts_now(CLOCK_MONOTONIC), at) > 0)
			fail_msg("woke %d of %d waiters in %d ms", sum, NW, LONG_MS);
		if (!n)
			sched_yield();
	}
}

static void gather_on_b(struct waitset *ws)
{
	struct timespec at = deadline_ms(CLOCK_MONOTONIC, LONG_MS);
	int moved = 0, n;

	while (moved < NW) {
		n = __pal_futex_requeue(&ws->a, 0, INT_MAX, &ws->b, ws->priv);
		assert_in_range(n, 0, NW - moved);
		moved += n;
		if (ts_ns_since(ts_now(CLOCK_MONOTONIC), at) > 0)
			fail_msg("requeued %d of %d waiters in %d ms", moved, NW,
				LONG_MS);
		if (!n)
			sched_yield();
	}
}

/* ---- Wait: immediate returns -------------------------------------------- */

static void wait_value_mismatch(void **state)
{
	volatile int w = 1;
	struct timespec at = deadline_ms(CLOCK_MONOTONIC, LONG_MS);

	assert_int_equal(__pal_futex_wait(&w, 0, 1, CLOCK_REALTIME, 0, 0), -EAGAIN);
	assert_int_equal(__pal_futex_wait(&w, 0, 0, CLOCK_REALTIME, 0, 0), -EAGAIN);
	assert_int_equal(__pal_futex_wait(&w, 2, 1, CLOCK_MONOTONIC, &at, 0), -EAGAIN);
	assert_int_equal(__pal_futex_wait(&w, -1, 1, CLOCK_REALTIME, 0,
		PAL_WAIT_CANCEL), -EAGAIN);
}

static void past_deadline(clockid_t clk)
{
	volatile int w = 0;
	struct timespec at = ts_now(clk);

	at.tv_sec -= 1;
	assert_int_equal(__pal_futex_wait(&w, 0, 1, clk, &at, 0), -ETIMEDOUT);
	assert_int_equal(__pal_futex_wait(&w, 0, 0, clk, &at, 0), -ETIMEDOUT);
	assert_int_equal(__pal_futex_wait(&w, 0, 1, clk, &at, PAL_WAIT_CANCEL),
		-ETIMEDOUT);
	at = (struct timespec){ 0, 0 };
	assert_int_equal(__pal_futex_wait(&w, 0, 1, clk, &at, 0), -ETIMEDOUT);
	at = ts_now(clk);
	assert_int_equal(__pal_futex_wait(&w, 0, 1, clk, &at, 0), -ETIMEDOUT);
}

static void wait_past_deadline_realtime(void **state)
{
	past_deadline(CLOCK_REALTIME);
}

static void wait_past_deadline_monotonic(void **state)
{
	past_deadline(CLOCK_MONOTONIC);
}

static void wait_bad_deadline(void **state)
{
	static const clockid_t clks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC };
	static const long bad[] = { 1000000000, -1, LONG_MAX, LONG_MIN };
	volatile int w = 0;

	for (size_t c = 0; c < NELEM(clks); c++) {
		for (size_t i = 0; i < NELEM(bad); i++) {
			struct timespec at = deadline_ms(clks[c], LONG_MS);
			at.tv_nsec = bad[i];
			assert_int_equal(__pal_futex_wait(&w, 0, 1, clks[c], &at, 0),
				-EINVAL);
		}
	}
}

/* ---- Wait: a real timeout ----------------------------------------------- */

static void timeout_on(clockid_t clk, int priv, int flags)
{
	volatile int w = 0;
	struct timespec at = deadline_ms(clk, SHORT_MS);
	int r;

	while ((r = __pal_futex_wait(&w, 0, priv, clk, &at, flags)) == 0)
		;
	assert_int_equal(r, -ETIMEDOUT);
	assert_deadline_passed(clk, at);
}

static void wait_timeout_realtime(void **state)
{
	timeout_on(CLOCK_REALTIME, 1, 0);
	timeout_on(CLOCK_REALTIME, 0, 0);
}

static void wait_timeout_monotonic(void **state)
{
	timeout_on(CLOCK_MONOTONIC, 1, 0);
	timeout_on(CLOCK_MONOTONIC, 1, PAL_WAIT_CANCEL);
}

/* ---- A mutex waiter's wait (PAL_WAIT_LOCK) ------------------------------- */

/* Wait on lock word *w with val (as last read) until the short deadline:
 * the result other than a spurious 0. */
static int lock_wait(volatile int *w, int val)
{
	struct timespec at = deadline_ms(CLOCK_MONOTONIC, SHORT_MS);
	int r;
	while ((r = __pal_futex_wait(w, val, 1, CLOCK_MONOTONIC, &at,
	    PAL_WAIT_LOCK)) == 0)
		;
	return r;
}

static void *nothing(void *p)
{
	return p;
}

static void wait_lock_word(void **state)
{
	volatile int w = 0;
	pthread_t t;

	/* Under M:N the first thread starts the scheduler, and the caller
	 * becomes a task: the wait below is then the lot's. */
	assert_int_equal(pthread_create(&t, 0, nothing, 0), 0);
	assert_int_equal(pthread_join(t, 0), 0);

	/* No owner: back to the lock loop, the word untouched. */
	assert_int_equal(lock_wait(&w, 16), -EAGAIN);
	assert_int_equal(w, 0);
	/* Owned as read: the waiters bit goes in, and it waits. */
	w = 16;
	assert_int_equal(lock_wait(&w, 16), -ETIMEDOUT);
	assert_int_equal(w, (int)(16 | 0x80000000u));
	/* Owned with the bit already: waits, the word as it was. */
	assert_int_equal(lock_wait(&w, 16 | 0x80000000), -ETIMEDOUT);
	assert_int_equal(w, (int)(16 | 0x80000000u));
	/* Another owner since the read: native is musl's CAS and wait for
	 * the value (so -EAGAIN); M:N waits on any owner. */
	w = 32;
	if (strcmp(WEFT_PAL, "native")) {
		assert_int_equal(lock_wait(&w, 16), -ETIMEDOUT);
		assert_int_equal(w, (int)(32 | 0x80000000u));
		/* Unrecoverable, or only "owner died": no owner to wait for. */
		w = 0x7fffffff;
		assert_int_equal(lock_wait(&w, 0x7fffffff), -EAGAIN);
		w = 0x40000000;
		assert_int_equal(lock_wait(&w, 16), -EAGAIN);
		assert_int_equal(w, 0x40000000);
	} else {
		assert_int_equal(lock_wait(&w, 16), -EAGAIN);
		assert_int_equal(w, 32);
	}
}

/* ---- Wait and wake across threads --------------------------------------- */

static void wake_one_at_a_time(void **state)
{
	struct waitset ws;

	start_waiters(&ws, *(const int *)*state);
	wake_all_by(&ws, 1);
	finish_waiters(&ws);
	assert_int_equal(__pal_futex_wake(&ws.a, 1, ws.priv), 0);
}

static void wake_all(void **state)
{
	struct waitset ws;

	start_waiters(&ws, *(const int *)*state);
	wake_all_by(&ws, -1);
	finish_waiters(&ws);
	assert_int_equal(__pal_futex_wake(&ws.a, -1, ws.priv), 0);
}

static void wake_nobody(void **state)
{
	volatile int w = 0;

	assert_int_equal(__pal_futex_wake(&w, 1, 1), 0);
	assert_int_equal(__pal_futex_wake(&w, -1, 0), 0);
	assert_int_equal(__pal_futex_wake(&w, INT_MAX, 1), 0);
}

/* ---- Requeue ------------------------------------------------------------ */

/* With spurious returns, a waiter requeued to b comes back to a (its
 * loop) after a poll interval: the moves are checked as bounds, then all
 * are released and woken from wherever they wait. */
static void requeue_spurious(struct waitset *ws)
{
	struct timespec at = deadline_ms(CLOCK_MONOTONIC, LONG_MS);
	int n;

	n = __pal_futex_requeue(&ws->a, 0, INT_MAX, &ws->b, ws->priv);
	assert_in_range(n, 0, NW);
	n = __pal_futex_requeue(&ws->b, 1, 2, &ws->a, ws->priv);
	assert_in_range(n, 0, 3);
	astore(&ws->release, 1);
	while (aload(&ws->returned) < NW) {
		n = __pal_futex_wake(&ws->a, -1, ws->priv);
		assert_in_range(n, 0, NW);
		n = __pal_futex_wake(&ws->b, -1, ws->priv);
		assert_in_range(n, 0, NW);
		if (ts_ns_since(ts_now(CLOCK_MONOTONIC), at) > 0)
			fail_msg("%d of %d waiters returned in %d ms",
				aload(&ws->returned), NW, LONG_MS);
		sched_yield();
	}
	finish_waiters(ws);
}

static void requeue_moves_waiters(void **state)
{
	struct waitset ws;

	start_waiters(&ws, *(const int *)*state);
	if (ws.spurious) {
		requeue_spurious(&ws);
		return;
	}
	/* All NW now wait on b, none woken. */
	gather_on_b(&ws);
	assert_int_equal(__pal_futex_wake(&ws.a, -1, ws.priv), 0);
	assert_int_equal(aload(&ws.returned), 0);

	/* Wake 1 and move 2 back to a: 3 counted; NW - 3 stay on b. */
	assert_int_equal(__pal_futex_requeue(&ws.b, 1, 2, &ws.a, ws.priv), 3);
	assert_int_equal(await_count(&ws.returned, 1), 1);

	/* Exactly the waiters known to be there are woken, all at once. */
	assert_int_equal(__pal_futex_wake(&ws.b, -1, ws.priv), NW - 3);
	assert_int_equal(await_count(&ws.returned, NW - 2), NW - 2);
	assert_int_equal(__pal_futex_wake(&ws.a, -1, ws.priv), 2);
	finish_waiters(&ws);
	assert_int_equal(__pal_futex_requeue(&ws.a, 1, INT_MAX, &ws.b, ws.priv), 0);
}

/* ---- Shared futex across processes -------------------------------------- */

static void wake_across_fork(void **state)
{
	volatile int *w = mmap(0, sizeof *w, PROT_READ | PROT_WRITE,
		MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct timespec at;
	int n = 0, r;
	pid_t pid;

	assert_ptr_not_equal(w, MAP_FAILED);
	*w = 0;
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		child_init();
		at = deadline_ms(CLOCK_MONOTONIC, LONG_MS);
		r = __pal_futex_wait(w, 0, 0, CLOCK_MONOTONIC, &at, 0);
		_exit(r == 0 ? 0 : r == -ETIMEDOUT ? 2 : 3);
	}
	at = deadline_ms(CLOCK_MONOTONIC, LONG_MS);
	while (ts_ns_since(ts_now(CLOCK_MONOTONIC), at) < 0 &&
	    !(n = __pal_futex_wake(w, 1, 0)))
		sched_yield();
	assert_int_equal(n, 1);
	assert_child_exited(reap(pid), 0);
	munmap((void *)w, sizeof *w);
}

/* ---- PAL_WAIT_CANCEL ---------------------------------------------------- */

static volatile int cancel_word;
static int cancel_started;

/* Wait with a cancellation request pending; flags in *p. */
static void *wait_cancel_pending(void *p)
{
	int flags = *(int *)p;
	struct timespec at = deadline_ms(CLOCK_MONOTONIC,
		flags ? LONG_MS : SHORT_MS);

	pthread_cancel(pthread_self());
	return (void *)(long)__pal_futex_wait(&cancel_word, 0, 1,
		CLOCK_MONOTONIC, &at, flags);
}

static void cancel_pending_acted_on(void **state)
{
	int flags = PAL_WAIT_CANCEL;

	assert_ptr_equal(join(spawn(wait_cancel_pending, &flags)),
		PTHREAD_CANCELED);
}

/* Without PAL_WAIT_CANCEL the wait is no cancellation point. */
static void cancel_ignored_without_flag(void **state)
{
	int flags = 0;

	assert_int_equal((long)join(spawn(wait_cancel_pending, &flags)),
		-ETIMEDOUT);
}

static void *wait_cancel_arriving(void *p)
{
	struct timespec at = deadline_ms(CLOCK_MONOTONIC, LONG_MS);

	count_up(&cancel_started);
	return (void *)(long)__pal_futex_wait(&cancel_word, 0, 1,
		CLOCK_MONOTONIC, &at, PAL_WAIT_CANCEL);
}

static void cancel_arriving_acted_on(void **state)
{
	pthread_t t;

	cancel_started = 0;
	t = spawn(wait_cancel_arriving, 0);
	assert_int_equal(await_count(&cancel_started, 1), 1);
	assert_int_equal(pthread_cancel(t), 0);
	assert_ptr_equal(join(t), PTHREAD_CANCELED);
}

static void *wait_cancel_masked(void *p)
{
	struct timespec at = deadline_ms(CLOCK_MONOTONIC, LONG_MS);

	pthread_setcancelstate(PTHREAD_CANCEL_MASKED, 0);
	pthread_cancel(pthread_self());
	return (void *)(long)__pal_futex_wait(&cancel_word, 0, 1,
		CLOCK_MONOTONIC, &at, PAL_WAIT_CANCEL);
}

static void cancel_masked_returns_ecanceled(void **state)
{
	assert_int_equal((long)join(spawn(wait_cancel_masked, 0)), -ECANCELED);
}

/* ---- Priority-inheritance futex ----------------------------------------- */

struct pi {
	volatile int w;
	int started;
	int r_past, r_short, r_unlock, r_lock, r_unlock2;
	int id;
};

static void *pi_contender(void *p)
{
	struct pi *pi = p;
	struct timespec at = ts_now(CLOCK_REALTIME);

	at.tv_sec -= 1;
	pi->r_past = __pal_futex_lock_pi(&pi->w, 1, &at);
	at = deadline_ms(CLOCK_REALTIME, SHORT_MS);
	pi->r_short = __pal_futex_lock_pi(&pi->w, 1, &at);
	CHECK(ts_ns_since(ts_now(CLOCK_REALTIME), at) >= 0);
	pi->r_unlock = __pal_futex_unlock_pi(&pi->w, 1);
	count_up(&pi->started);
	pi->r_lock = __pal_futex_lock_pi(&pi->w, 1, 0);
	pi->id = pi->w & 0x3fffffff;
	pi->r_unlock2 = __pal_futex_unlock_pi(&pi->w, 1);
	return 0;
}

static int pi_supported(void)
{
	volatile int w = 0;
	int r = __pal_futex_lock_pi(&w, 1, 0);

	if (r == -ENOSYS || r == -EINVAL || r == -ENOTSUP)
		return 0;
	assert_int_equal(r, 0);
	assert_int_equal(__pal_futex_unlock_pi(&w, 1), 0);
	return 1;
}

static void lock_pi(void **state)
{
	struct pi pi = { 0 };
	int own;
	pthread_t t;

	if (!pi_supported())
		skip();
	assert_int_equal(__pal_futex_lock_pi(&pi.w, 1, 0), 0);
	own = pi.w & 0x3fffffff;
	assert_int_not_equal(own, 0);
	assert_int_equal(__pal_futex_lock_pi(&pi.w, 1, 0), -EDEADLK);

	t = spawn(pi_contender, &pi);
	assert_int_equal(await_count(&pi.started, 1), 1);
	assert_int_equal(pi.r_past, -ETIMEDOUT);
	assert_int_equal(pi.r_short, -ETIMEDOUT);
	assert_int_equal(pi.r_unlock, -EPERM);
	assert_int_equal(pi.w & 0x3fffffff, own);
	assert_int_equal(__pal_futex_unlock_pi(&pi.w, 1), 0);
	join(t);
	assert_thread_checks();
	assert_int_equal(pi.r_lock, 0);
	assert_int_equal(pi.r_unlock2, 0);
	assert_int_not_equal(pi.id, 0);
	assert_int_not_equal(pi.id, own);
	assert_int_equal(pi.w, 0);

	/* Shared (priv == 0) too. */
	assert_int_equal(__pal_futex_lock_pi(&pi.w, 0, 0), 0);
	assert_int_equal(pi.w & 0x3fffffff, own);
	assert_int_equal(__pal_futex_unlock_pi(&pi.w, 0), 0);
	assert_int_equal(pi.w, 0);
}

#define NID 8
static volatile int id_words[NID];
static int ids_locked, ids_release;

static void *take_id(void *p)
{
	volatile int *w = p;
	struct timespec at = deadline_ms(CLOCK_MONOTONIC, LONG_MS);

	CHECK_EQ(__pal_futex_lock_pi(w, 1, 0), 0);
	count_up(&ids_locked);
	while (!aload(&ids_release) && __pal_futex_wait(&ids_release, 0, 1,
	    CLOCK_MONOTONIC, &at, 0) != -ETIMEDOUT)
		;
	CHECK_EQ(__pal_futex_unlock_pi(w, 1), 0);
	return 0;
}

/* The id a PI word records for its owner: > 0, < 2^30, unique among
 * live threads. */
static void thread_ids_unique(void **state)
{
	pthread_t t[NID];

	if (!pi_supported())
		skip();
	ids_locked = ids_release = 0;
	for (int i = 0; i < NID; i++)
		t[i] = spawn(take_id, (void *)&id_words[i]);
	assert_int_equal(await_count(&ids_locked, NID), NID);
	for (int i = 0; i < NID; i++) {
		int id = id_words[i];
		assert_in_range(id, 1, (1 << 30) - 1);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(id, id_words[j]);
	}
	astore(&ids_release, 1);
	__pal_futex_wake(&ids_release, -1, 1);
	for (int i = 0; i < NID; i++)
		join(t[i]);
	assert_thread_checks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wait_value_mismatch),
		cmocka_unit_test(wait_lock_word),
		cmocka_unit_test(wait_past_deadline_realtime),
		cmocka_unit_test(wait_past_deadline_monotonic),
		cmocka_unit_test(wait_bad_deadline),
		cmocka_unit_test(wait_timeout_realtime),
		cmocka_unit_test(wait_timeout_monotonic),
		cmocka_unit_test(wake_nobody),
		PRIV_TESTS(wake_one_at_a_time),
		PRIV_TESTS(wake_all),
		PRIV_TESTS(requeue_moves_waiters),
		cmocka_unit_test(wake_across_fork),
		cmocka_unit_test(cancel_pending_acted_on),
		cmocka_unit_test(cancel_arriving_acted_on),
		cmocka_unit_test(cancel_ignored_without_flag),
		cmocka_unit_test(cancel_masked_returns_ecanceled),
		cmocka_unit_test(lock_pi),
		cmocka_unit_test(thread_ids_unique),
	};

	return cmocka_run_group_tests_name("pal_futex", tests, 0, 0);
}
