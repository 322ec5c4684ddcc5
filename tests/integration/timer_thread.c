/*
 * timer_create(SIGEV_THREAD): musl runs each timer's notifications on a
 * helper thread of its own, which waits for SIGTIMER sent by the kernel
 * timer to its tid.  Under M:N the helper is a task, and its tid is no
 * kernel tid: the kernel timer now signals the scheduler's monitor,
 * which forwards to the right task (pal.h, __pal_timer_attach).  Before
 * that, timer_create failed with EINVAL under M:N.
 */
#define _GNU_SOURCE
#include <time.h>
#include <signal.h>
#include "testutil.h"

/* Each test has values of its own: a notification may still come just
 * after timer_delete returns (POSIX allows it, and musl does it too). */
#define NTIMERS 5

static sem_t fired[NTIMERS];
static int calls[NTIMERS];
static pthread_t notifier[NTIMERS];

static void notify(union sigval v)
{
	int i = v.sival_int;
	notifier[i] = pthread_self();
	ainc(&calls[i]);
	sem_post(&fired[i]);
}

static timer_t make_timer(int i)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD,
		.sigev_notify_function = notify,
		.sigev_value.sival_int = i };
	timer_t t;
	assert_int_equal(timer_create(CLOCK_MONOTONIC, &sev, &t), 0);
	return t;
}

static void arm(timer_t t, long first_ns, long period_ns)
{
	struct itimerspec its = { .it_value.tv_nsec = first_ns,
		.it_interval.tv_nsec = period_ns };
	assert_int_equal(timer_settime(t, 0, &its, 0), 0);
}

static int setup(void **state)
{
	for (int i = 0; i < NTIMERS; i++)
		if (sem_init(&fired[i], 0, 0)) return -1;
	return 0;
}

/* A periodic timer calls its function, with its value, on a thread that
 * is not the caller's; its time and overrun count can be read; and it is
 * deleted. */
static void periodic(void **state)
{
	timer_t t = make_timer(0);
	struct itimerspec its;

	arm(t, 1000000, 2000000);
	for (int k = 0; k < 5; k++)
		sem_wait_long(&fired[0]);
	assert_false(pthread_equal(notifier[0], pthread_self()));
	assert_int_equal(timer_gettime(t, &its), 0);
	assert_int_equal(its.it_interval.tv_sec, 0);
	assert_int_equal(its.it_interval.tv_nsec, 2000000);
	assert_true(timer_getoverrun(t) >= 0);
	assert_int_equal(timer_delete(t), 0);
	assert_true(aload(&calls[0]) >= 5);
}

/* Several timers at once: each one's signal reaches its own helper.  Only
 * the middle one (value 2) is armed; a notification routed to another
 * helper would call the function with that one's value. */
static void routed_to_its_own(void **state)
{
	timer_t t[3];
	for (int i = 0; i < 3; i++)
		t[i] = make_timer(1 + i);
	arm(t[1], 1000000, 1000000);
	for (int k = 0; k < 20; k++)
		sem_wait_long(&fired[2]);
	assert_int_equal(timer_delete(t[1]), 0);
	assert_int_equal(aload(&calls[1]), 0);
	assert_int_equal(aload(&calls[3]), 0);
	assert_int_equal(timer_delete(t[0]), 0);
	assert_int_equal(timer_delete(t[2]), 0);
}

/* Created, fired once and deleted, many times over: every helper takes
 * its own notification and ends (a helper left behind would keep its
 * stack, and its id, forever). */
static void create_fire_delete(void **state)
{
	for (int n = 0; n < 200; n++) {
		timer_t t = make_timer(4);
		arm(t, 100000, 0);
		sem_wait_long(&fired[4]);
		assert_int_equal(timer_delete(t), 0);
		assert_int_equal(aload(&calls[4]), n + 1);
	}
	/* and one never armed */
	assert_int_equal(timer_delete(make_timer(4)), 0);
}

/* A one-shot timer whose function deletes it, as one-shots often do. */
static timer_t self_timer;
static int self_rc = -2;
static sem_t self_done;

static void notify_delete(union sigval v)
{
	astore(&self_rc, timer_delete(self_timer));
	sem_post(&self_done);
}

static void deletes_itself(void **state)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD,
		.sigev_notify_function = notify_delete };
	assert_int_equal(sem_init(&self_done, 0, 0), 0);
	for (int n = 0; n < 50; n++) {
		astore(&self_rc, -2);
		assert_int_equal(timer_create(CLOCK_MONOTONIC, &sev, &self_timer), 0);
		arm(self_timer, 100000, 0);
		sem_wait_long(&self_done);
		assert_int_equal(aload(&self_rc), 0);
	}
}

/* Bad input: an unknown notification method. */
static void bad_notify(void **state)
{
	struct sigevent sev = { .sigev_notify = 12345 };
	timer_t t;
	errno = 0;
	assert_int_equal(timer_create(CLOCK_MONOTONIC, &sev, &t), -1);
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(periodic),
		cmocka_unit_test(routed_to_its_own),
		cmocka_unit_test(create_fire_delete),
		cmocka_unit_test(deletes_itself),
		cmocka_unit_test(bad_notify),
	};

	return cmocka_run_group_tests_name("timer_thread", tests, setup, 0);
}
