/*
 * Deferred cancellation: of threads blocked in pthread_cond_wait,
 * pthread_join, sem_wait and read; cleanup handlers; disabling it.
 *
 * The main thread cancels once the target has said it is about to block;
 * whether the request arrives before or during the blocking call, the
 * outcome is the same, so no test depends on timing.  A target that is
 * never cancelled blocks for good, and run.sh reports the timeout.
 */
#define _GNU_SOURCE
#include <string.h>
#include <dirent.h>
#include "testutil.h"

static sem_t ready;
static int cleanups;
static int cleanup_order[4];

static void note(void *p)
{
	cleanup_order[cleanups++] = (int)(long)p;
}

static void reset(void)
{
	sem_init(&ready, 0, 0);
	cleanups = 0;
	memset(cleanup_order, 0, sizeof cleanup_order);
}

/* Cancel t once it is ready; check it ended as cancelled, cleaned up. */
static void cancel_and_check(pthread_t t)
{
	sem_wait_long(&ready);
	assert_int_equal(pthread_cancel(t), 0);
	assert_ptr_equal(join(t), PTHREAD_CANCELED);
	assert_int_equal(cleanups, 1);
}

/* ---- Blocked in pthread_cond_wait --------------------------------------- */

static pthread_mutex_t m;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int unlock_in_cleanup = -1;

static void unlock_m(void *p)
{
	/* Errorcheck: succeeds only if the waiter owns m again. */
	unlock_in_cleanup = pthread_mutex_unlock(&m);
	cleanups++;
}

static void *cond_waiter(void *p)
{
	pthread_mutex_lock(&m);
	pthread_cleanup_push(unlock_m, 0);
	sem_post(&ready);
	for (;;)
		pthread_cond_wait(&cv, &m);
	pthread_cleanup_pop(0);
	return 0;
}

static void cancel_cond_wait(void **state)
{
	pthread_mutexattr_t a;

	reset();
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	assert_int_equal(pthread_mutex_init(&m, &a), 0);
	pthread_mutexattr_destroy(&a);
	cancel_and_check(spawn(cond_waiter, 0));
	assert_int_equal(unlock_in_cleanup, 0);
	assert_int_equal(pthread_mutex_trylock(&m), 0);
	assert_int_equal(pthread_mutex_unlock(&m), 0);
	pthread_mutex_destroy(&m);
}

/* ---- Blocked in pthread_join -------------------------------------------- */

static sem_t gate;
static pthread_t joinee;

static void *wait_gate(void *p)
{
	sem_wait(&gate);
	return (void *)5L;
}

static void *joiner(void *p)
{
	void *r;

	pthread_cleanup_push(note, (void *)1L);
	sem_post(&ready);
	pthread_join(joinee, &r);
	pthread_cleanup_pop(0);
	return 0;
}

static void cancel_join(void **state)
{
	reset();
	sem_init(&gate, 0, 0);
	joinee = spawn(wait_gate, 0);
	cancel_and_check(spawn(joiner, 0));
	/* The cancelled join left the joinee joinable. */
	sem_post(&gate);
	assert_int_equal((long)join(joinee), 5);
}

/* ---- Blocked in sem_wait ------------------------------------------------ */

static sem_t never;

static void *sem_waiter(void *p)
{
	pthread_cleanup_push(note, (void *)1L);
	sem_post(&ready);
	while (sem_wait(&never))
		;
	pthread_cleanup_pop(0);
	return 0;
}

static void cancel_sem_wait(void **state)
{
	int v;

	reset();
	sem_init(&never, 0, 0);
	cancel_and_check(spawn(sem_waiter, 0));
	/* The cancelled wait took nothing. */
	sem_post(&never);
	assert_int_equal(sem_getvalue(&never, &v), 0);
	assert_int_equal(v, 1);
}

/* ---- Blocked in read ---------------------------------------------------- */

static int fd[2];

static void *pipe_reader(void *p)
{
	char c;

	pthread_cleanup_push(note, (void *)1L);
	sem_post(&ready);
	while (read(fd[0], &c, 1) != 0)
		;
	pthread_cleanup_pop(0);
	return 0;
}

/* Open fds, by /proc/self/fd. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	assert_non_null(d);
	while (readdir(d)) n++;
	closedir(d);
	return n;
}

static void cancel_read(void **state)
{
	char c = 0;
	int before = open_fds();

	reset();
	assert_int_equal(pipe(fd), 0);
	cancel_and_check(spawn(pipe_reader, 0));
	/* The pipe is intact: what is written now is read here. */
	assert_int_equal(write(fd[1], "x", 1), 1);
	assert_int_equal(read(fd[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	/* Nothing of the cancelled read is left behind: under M:N, a wait
	 * still linked on the fd would make its close keep a copy of it
	 * open for the dead reader (a keepalive, sched/netpoll.h). */
	close(fd[0]);
	close(fd[1]);
	assert_int_equal(open_fds(), before);
}

/* ---- Cleanup handlers --------------------------------------------------- */

static void *nested_cleanups(void *p)
{
	pthread_cleanup_push(note, (void *)1L);
	pthread_cleanup_push(note, (void *)2L);
	pthread_cleanup_push(note, (void *)9L);
	pthread_cleanup_pop(0);	/* removed, not run */
	pthread_cleanup_push(note, (void *)3L);
	pthread_cleanup_pop(1);	/* run now */
	pthread_cleanup_push(note, (void *)4L);
	pthread_cancel(pthread_self());
	pthread_testcancel();
	pthread_cleanup_pop(0);
	pthread_cleanup_pop(0);
	pthread_cleanup_pop(0);
	return 0;
}

static void cleanup_handlers_order(void **state)
{
	reset();
	assert_ptr_equal(join(spawn(nested_cleanups, 0)), PTHREAD_CANCELED);
	/* 3 by pop(1); then, on cancellation, innermost first. */
	assert_int_equal(cleanups, 4);
	assert_int_equal(cleanup_order[0], 3);
	assert_int_equal(cleanup_order[1], 4);
	assert_int_equal(cleanup_order[2], 2);
	assert_int_equal(cleanup_order[3], 1);
}

/* ---- Disabled cancellation ---------------------------------------------- */

static int survived;

static void *disabled_waiter(void *p)
{
	int old;

	CHECK_EQ(pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old), 0);
	CHECK_EQ(old, PTHREAD_CANCEL_ENABLE);
	sem_post(&ready);
	/* Cancelled while blocked here, but disabled: returns normally. */
	CHECK_EQ(sem_wait(&gate), 0);
	pthread_testcancel();
	survived = 1;
	/* Acted on at the first cancellation point once enabled. */
	CHECK_EQ(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old), 0);
	CHECK_EQ(old, PTHREAD_CANCEL_DISABLE);
	pthread_testcancel();
	survived = 2;
	return 0;
}

static void disable_defers(void **state)
{
	pthread_t t;

	reset();
	survived = 0;
	sem_init(&gate, 0, 0);
	t = spawn(disabled_waiter, 0);
	sem_wait_long(&ready);
	assert_int_equal(pthread_cancel(t), 0);
	sem_post(&gate);
	assert_ptr_equal(join(t), PTHREAD_CANCELED);
	assert_thread_checks();
	assert_int_equal(survived, 1);
}

/* ---- Other cases -------------------------------------------------------- */

static void *return_after_ready(void *p)
{
	sem_post(&ready);
	return (void *)11L;
}

/* A thread past its last cancellation point keeps its own result. */
static void cancel_finished_thread(void **state)
{
	pthread_t t;

	reset();
	t = spawn(return_after_ready, 0);
	sem_wait_long(&ready);
	assert_int_equal(pthread_cancel(t), 0);
	assert_int_equal((long)join(t), 11);
}

static void *type_and_state(void *p)
{
	int old;

	CHECK_EQ(pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &old), 0);
	CHECK_EQ(old, PTHREAD_CANCEL_DEFERRED);
	CHECK_EQ(pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, &old), 0);
	CHECK_EQ(old, PTHREAD_CANCEL_ASYNCHRONOUS);
	CHECK_EQ(pthread_setcanceltype(12345, &old), EINVAL);
	CHECK_EQ(pthread_setcancelstate(12345, &old), EINVAL);
	return (void *)1L;
}

static void cancel_type_and_state(void **state)
{
	assert_int_equal((long)join(spawn(type_and_state, 0)), 1);
	assert_thread_checks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cancel_cond_wait),
		cmocka_unit_test(cancel_join),
		cmocka_unit_test(cancel_sem_wait),
		cmocka_unit_test(cancel_read),
		cmocka_unit_test(cleanup_handlers_order),
		cmocka_unit_test(disable_defers),
		cmocka_unit_test(cancel_finished_thread),
		cmocka_unit_test(cancel_type_and_state),
	};

	return cmocka_run_group_tests_name("cancel", tests, 0, 0);
}
