/*
 * Semaphores: unnamed between threads, timed waits, named (sem_open,
 * sem_unlink), and process-shared across fork.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/mman.h>
#include "testutil.h"

static void basic(void **state)
{
	sem_t s;
	int v;

	assert_int_equal(sem_init(&s, 0, 2), 0);
	assert_int_equal(sem_getvalue(&s, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(sem_trywait(&s), 0);
	assert_int_equal(sem_wait(&s), 0);
	errno = 0;
	assert_int_equal(sem_trywait(&s), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(sem_post(&s), 0);
	assert_int_equal(sem_getvalue(&s, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(sem_destroy(&s), 0);

	errno = 0;
	assert_int_equal(sem_init(&s, 0, (unsigned)SEM_VALUE_MAX + 1), -1);
	assert_int_equal(errno, EINVAL);
}

/* Producers and consumers: every post is taken exactly once. */
#define NP 2
#define NC 2
#define ITEMS 5000

static sem_t items;

static void *produce(void *p)
{
	for (int i = 0; i < ITEMS; i++)
		CHECK_EQ(sem_post(&items), 0);
	return 0;
}

static void *consume(void *p)
{
	struct timespec at = deadline_ms(CLOCK_REALTIME, LONG_MS);

	for (int i = 0; i < ITEMS; i++) {
		int r;
		while ((r = sem_timedwait(&items, &at)) && errno == EINTR)
			;
		if (!CHECK_EQ(r, 0))
			break;
	}
	return 0;
}

static void producers_consumers(void **state)
{
	pthread_t t[NP + NC];
	int v;

	assert_int_equal(sem_init(&items, 0, 0), 0);
	for (int i = 0; i < NC; i++)
		t[i] = spawn(consume, 0);
	for (int i = 0; i < NP; i++)
		t[NC + i] = spawn(produce, 0);
	for (int i = 0; i < NP + NC; i++)
		join(t[i]);
	assert_thread_checks();
	assert_int_equal(sem_getvalue(&items, &v), 0);
	assert_int_equal(v, (NP - NC) * ITEMS);
	sem_destroy(&items);
}

static void timedwait_timeout(void **state)
{
	struct timespec at;
	sem_t s;

	assert_int_equal(sem_init(&s, 0, 0), 0);
	at = deadline_ms(CLOCK_REALTIME, SHORT_MS);
	errno = 0;
	assert_int_equal(sem_timedwait(&s, &at), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_deadline_passed(CLOCK_REALTIME, at);

	at = ts_now(CLOCK_REALTIME);
	at.tv_sec--;
	errno = 0;
	assert_int_equal(sem_timedwait(&s, &at), -1);
	assert_int_equal(errno, ETIMEDOUT);

	at.tv_nsec = 1000000000;
	errno = 0;
	assert_int_equal(sem_timedwait(&s, &at), -1);
	assert_int_equal(errno, EINVAL);

	/* Available: taken at once, whatever the deadline. */
	sem_post(&s);
	at = (struct timespec){ 0, 0 };
	assert_int_equal(sem_timedwait(&s, &at), 0);
	sem_destroy(&s);
}

static void *post_it(void *p)
{
	sem_post(p);
	return 0;
}

static void wait_across_threads(void **state)
{
	sem_t s;

	assert_int_equal(sem_init(&s, 0, 0), 0);
	pthread_t t = spawn(post_it, &s);
	assert_int_equal(sem_wait(&s), 0);
	join(t);
	sem_destroy(&s);
}

/* ---- Named -------------------------------------------------------------- */

static char name[64];

static int named_setup(void **state)
{
	snprintf(name, sizeof name, "/weft-test-%d", (int)getpid());
	sem_unlink(name);
	return 0;
}

static int named_teardown(void **state)
{
	sem_unlink(name);
	return 0;
}

/* musl keeps named semaphores in /dev/shm. */
static void need_dev_shm(void)
{
	if (access("/dev/shm", W_OK))
		skip();
}

static void named(void **state)
{
	sem_t *s, *s2;
	int v;

	need_dev_shm();
	errno = 0;
	assert_ptr_equal(sem_open(name, 0), SEM_FAILED);
	assert_int_equal(errno, ENOENT);
	s = sem_open(name, O_CREAT | O_EXCL, 0600, 1);
	assert_ptr_not_equal(s, SEM_FAILED);
	errno = 0;
	assert_ptr_equal(sem_open(name, O_CREAT | O_EXCL, 0600, 1), SEM_FAILED);
	assert_int_equal(errno, EEXIST);
	/* Opened again: the same semaphore. */
	s2 = sem_open(name, 0);
	assert_ptr_not_equal(s2, SEM_FAILED);
	assert_int_equal(sem_wait(s), 0);
	assert_int_equal(sem_trywait(s2), -1);
	assert_int_equal(sem_post(s2), 0);
	assert_int_equal(sem_getvalue(s, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(sem_close(s2), 0);
	assert_int_equal(sem_unlink(name), 0);
	errno = 0;
	assert_int_equal(sem_unlink(name), -1);
	assert_int_equal(errno, ENOENT);
	/* Still usable after unlink while open. */
	assert_int_equal(sem_trywait(s), 0);
	assert_int_equal(sem_close(s), 0);
	errno = 0;
	assert_ptr_equal(sem_open(name, 0), SEM_FAILED);
	assert_int_equal(errno, ENOENT);
}

static void named_across_fork(void **state)
{
	sem_t *s;
	pid_t pid;

	need_dev_shm();
	s = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
	assert_ptr_not_equal(s, SEM_FAILED);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		child_init();
		sem_t *c = sem_open(name, 0);
		_exit(c == SEM_FAILED ? 2 : sem_post(c) ? 3 : 0);
	}
	sem_wait_long(s);
	assert_child_exited(reap(pid), 0);
	sem_close(s);
	assert_int_equal(sem_unlink(name), 0);
}

/* ---- Process-shared unnamed --------------------------------------------- */

#define PINGS 200

static void pshared_ping_pong(void **state)
{
	sem_t *s = mmap(0, 2 * sizeof *s, PROT_READ | PROT_WRITE,
		MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid;

	assert_ptr_not_equal(s, MAP_FAILED);
	assert_int_equal(sem_init(&s[0], 1, 0), 0);
	assert_int_equal(sem_init(&s[1], 1, 0), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		child_init();
		for (int i = 0; i < PINGS; i++)
			if (sem_wait(&s[0]) || sem_post(&s[1]))
				_exit(2);
		_exit(0);
	}
	for (int i = 0; i < PINGS; i++) {
		assert_int_equal(sem_post(&s[0]), 0);
		sem_wait_long(&s[1]);
	}
	assert_child_exited(reap(pid), 0);
	sem_destroy(&s[0]);
	sem_destroy(&s[1]);
	munmap(s, 2 * sizeof *s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(basic),
		cmocka_unit_test(producers_consumers),
		cmocka_unit_test(timedwait_timeout),
		cmocka_unit_test(wait_across_threads),
		cmocka_unit_test_setup_teardown(named, named_setup, named_teardown),
		cmocka_unit_test_setup_teardown(named_across_fork, named_setup,
			named_teardown),
		cmocka_unit_test(pshared_ping_pong),
	};

	return cmocka_run_group_tests_name("sem", tests, 0, 0);
}
