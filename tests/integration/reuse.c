/*
 * Thread memory reused: a thread that runs in the mapping of one that
 * exited (the epoll backend pools them, joined and detached alike) starts
 * exactly as in a new one: __thread variables at their initial values,
 * errno 0, no thread-specific data, cancellation enabled and deferred.
 * Stack-size and guard-size attributes still hold, and a stack the
 * program supplied is never handed to another thread.
 */
#define _GNU_SOURCE
#include <string.h>
#include "testutil.h"

#define ROUNDS 300

static __thread int tvar = 42;
static __thread char tzero[512];
static pthread_key_t key;
static int bad;			/* rounds that saw something not reset */
static sem_t done;

/* Checks the fresh-thread state, then dirties it all, and some stack. */
static void *dirty(void *arg)
{
	int old, zero = 1;
	volatile char buf[8192];

	for (size_t i = 0; i < sizeof tzero; i++)
		zero &= !tzero[i];
	if (tvar != 42 || !zero || errno || pthread_getspecific(key))
		ainc(&bad);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	if (old != PTHREAD_CANCEL_ENABLE)
		ainc(&bad);
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &old);
	if (old != PTHREAD_CANCEL_DEFERRED)
		ainc(&bad);
	pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, 0);
	tvar = -1;
	memset(tzero, 0xa5, sizeof tzero);
	errno = EIO;
	pthread_setspecific(key, &old);
	memset((char *)buf, 0x5a, sizeof buf);
	if (arg)
		sem_post(&done);
	return (void *)pthread_self();
}

static int setup(void **state)
{
	assert_int_equal(pthread_key_create(&key, 0), 0);
	assert_int_equal(sem_init(&done, 0, 0), 0);
	bad = 0;
	return 0;
}

static int teardown(void **state)
{
	pthread_key_delete(key);
	sem_destroy(&done);
	return 0;
}

/* Joined threads, one at a time, some with their own stack or guard
 * size: every one starts clean; under epoll most reuse a mapping. */
static void joined(void **state)
{
	pthread_attr_t big, noguard;
	pthread_t t, seen[ROUNDS];
	int reused = 0;
	void *r;

	assert_int_equal(pthread_attr_init(&big), 0);
	assert_int_equal(pthread_attr_setstacksize(&big, 256 * 1024), 0);
	assert_int_equal(pthread_attr_init(&noguard), 0);
	assert_int_equal(pthread_attr_setguardsize(&noguard, 0), 0);
	for (int i = 0; i < ROUNDS; i++) {
		pthread_attr_t *a = i % 3 == 1 ? &big : i % 3 == 2 ? &noguard : 0;
		assert_int_equal(pthread_create(&t, a, dirty, 0), 0);
		assert_int_equal(pthread_join(t, &r), 0);
		seen[i] = (pthread_t)r;
		for (int j = 0; j < i; j++)
			if (seen[j] == seen[i]) {
				reused++;
				break;
			}
		if (a == &big) {
			/* the stack size asked for is the stack size given */
			pthread_attr_t got;
			size_t sz;
			assert_int_equal(pthread_create(&t, &big, dirty, 0), 0);
			assert_int_equal(pthread_getattr_np(t, &got), 0);
			assert_int_equal(pthread_attr_getstacksize(&got, &sz), 0);
			assert_true(sz >= 256 * 1024);
			pthread_attr_destroy(&got);
			assert_int_equal(pthread_join(t, 0), 0);
		}
	}
	assert_int_equal(aload(&bad), 0);
	print_message("%d of %d threads ran in a reused mapping\n", reused, ROUNDS);
	if (strcmp(WEFT_PAL, "native"))
		assert_true(reused >= ROUNDS / 2);
	pthread_attr_destroy(&big);
	pthread_attr_destroy(&noguard);
}

/* Detached threads of a size no other test uses: their mappings come
 * back through the scheduler's exit path, and start clean too. */
static void detached(void **state)
{
	pthread_attr_t a;
	pthread_t t, seen[ROUNDS];
	int reused = 0;

	assert_int_equal(pthread_attr_init(&a), 0);
	assert_int_equal(pthread_attr_setstacksize(&a, 200 * 1024), 0);
	assert_int_equal(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED), 0);
	for (int i = 0; i < ROUNDS; i++) {
		assert_int_equal(pthread_create(&t, &a, dirty, (void *)1), 0);
		seen[i] = t;
		assert_int_equal(sem_wait(&done), 0);
		/* let it finish exiting (no join to wait for that) */
		usleep(200);
		for (int j = 0; j < i; j++)
			if (seen[j] == seen[i]) {
				reused++;
				break;
			}
	}
	assert_int_equal(aload(&bad), 0);
	print_message("%d of %d detached threads ran in a reused mapping\n",
		reused, ROUNDS);
	if (strcmp(WEFT_PAL, "native"))
		assert_true(reused > 0);
	pthread_attr_destroy(&a);
}

/* A program's own stack is the program's: after its thread is joined,
 * no later thread runs on it. */
static void *where(void *arg)
{
	return __builtin_frame_address(0);
}

static void user_stack(void **state)
{
	static char mem[2][256 * 1024] __attribute__((aligned(4096)));
	pthread_attr_t a;
	pthread_t t;
	void *r;

	for (int k = 0; k < 2; k++) {
		/* k = 0: TLS fits on the given stack; k = 1: it does not
		 * (musl maps it apart, with no guard) */
		size_t size = k ? 8192 : sizeof mem[k];
		assert_int_equal(pthread_attr_init(&a), 0);
		assert_int_equal(pthread_attr_setstack(&a, mem[k], size), 0);
		assert_int_equal(pthread_create(&t, &a, where, 0), 0);
		assert_int_equal(pthread_join(t, &r), 0);
		assert_true((char *)r >= mem[k] && (char *)r < mem[k] + size);
		pthread_attr_destroy(&a);
		for (int i = 0; i < 20; i++) {
			assert_int_equal(pthread_create(&t, 0, where, 0), 0);
			assert_int_equal(pthread_join(t, &r), 0);
			if ((char *)r >= mem[0] && (char *)r < mem[1] + sizeof mem[1])
				fail_msg("a thread ran on the program's stack %d", k);
			if ((char *)t >= mem[0] && (char *)t < mem[1] + sizeof mem[1])
				fail_msg("a thread's TCB is in the program's stack %d", k);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(joined, setup, teardown),
		cmocka_unit_test_setup_teardown(detached, setup, teardown),
		cmocka_unit_test(user_stack),
	};
	return cmocka_run_group_tests_name("reuse", tests, 0, 0);
}
