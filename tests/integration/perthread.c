/*
 * What the kernel keeps per thread, asked for through pthread_t: the
 * scheduling policy and priority, CPU affinity, the CPU-time clock and
 * the name.  Natively each pthread is a kernel thread and musl passes
 * its tid to the kernel.  Under M:N a thread is a task, its tid is no
 * kernel tid (passing it once changed the policy and affinity of an
 * unrelated process), and these calls act on the task itself: see
 * __pal_thread_is_kernel in pal/pal.h.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <string.h>
#include <time.h>
#include "testutil.h"

#ifndef WEFT_PAL
#define WEFT_PAL "native"
#endif
#define MN (strcmp(WEFT_PAL, "native"))

static sem_t gate;

/* Stays alive, so that its pthread_t stays valid, until the gate opens. */
static void *wait_gate(void *p)
{
	sem_wait_long(&gate);
	return p;
}

static pthread_t start_waiter(void)
{
	assert_int_equal(sem_init(&gate, 0, 0), 0);
	return spawn(wait_gate, 0);
}

static void finish_waiter(pthread_t t)
{
	assert_int_equal(sem_post(&gate), 0);
	join(t);
}

static void sched_param_other_only(void **state)
{
	pthread_t t = start_waiter();
	struct sched_param sp = { .sched_priority = 7 };
	int policy = -1;

	assert_int_equal(pthread_getschedparam(t, &policy, &sp), 0);
	assert_int_equal(policy, SCHED_OTHER);
	assert_int_equal(sp.sched_priority, 0);
	assert_int_equal(pthread_setschedparam(t, SCHED_OTHER, &sp), 0);
	assert_int_equal(pthread_setschedprio(t, 0), 0);

	/* Out of range for the policy, or no policy at all: EINVAL from
	 * the kernel natively, from weft under M:N. */
	sp.sched_priority = 5;
	assert_int_equal(pthread_setschedparam(t, SCHED_OTHER, &sp), EINVAL);
	assert_int_equal(pthread_setschedprio(t, 5), EINVAL);
	sp.sched_priority = 0;
	assert_int_equal(pthread_setschedparam(t, 42, &sp), EINVAL);

	if (MN) {
		/* A real-time policy is a kernel thread's: not a task's. */
		sp.sched_priority = 1;
		assert_int_equal(pthread_setschedparam(t, SCHED_FIFO, &sp), ENOTSUP);
		assert_int_equal(pthread_setschedparam(t, SCHED_RR, &sp), ENOTSUP);
		sp.sched_priority = 0;
		assert_int_equal(pthread_setschedparam(t, SCHED_IDLE, &sp), ENOTSUP);
		sp.sched_priority = 100;
		assert_int_equal(pthread_setschedparam(t, SCHED_FIFO, &sp), EINVAL);
	}
	/* Nothing above changed it. */
	assert_int_equal(pthread_getschedparam(t, &policy, &sp), 0);
	assert_int_equal(policy, SCHED_OTHER);
	assert_int_equal(sp.sched_priority, 0);
	finish_waiter(t);
}

static void create_explicit_sched(void **state)
{
	pthread_attr_t a;
	struct sched_param sp = { .sched_priority = 0 };
	pthread_t t;
	void *r = 0;

	assert_int_equal(sem_init(&gate, 0, 0), 0);
	assert_int_equal(pthread_attr_init(&a), 0);
	assert_int_equal(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED), 0);
	assert_int_equal(pthread_attr_setschedpolicy(&a, SCHED_OTHER), 0);
	assert_int_equal(pthread_attr_setschedparam(&a, &sp), 0);
	assert_int_equal(pthread_create(&t, &a, wait_gate, (void *)5L), 0);
	assert_int_equal(sem_post(&gate), 0);
	assert_int_equal(pthread_join(t, &r), 0);
	assert_int_equal((long)r, 5);

	if (MN) {
		/* Refused before any thread exists: nothing to clean up. */
		sp.sched_priority = 1;
		assert_int_equal(pthread_attr_setschedpolicy(&a, SCHED_FIFO), 0);
		assert_int_equal(pthread_attr_setschedparam(&a, &sp), 0);
		assert_int_equal(pthread_create(&t, &a, wait_gate, 0), ENOTSUP);
	}
	assert_int_equal(pthread_attr_destroy(&a), 0);
}

static void cpu_clock(void **state)
{
	pthread_t t = start_waiter();
	clockid_t c;
	struct timespec ts;

	if (MN) {
		/* A task has no kernel CPU-time clock (POSIX: ENOENT). */
		assert_int_equal(pthread_getcpuclockid(t, &c), ENOENT);
		assert_int_equal(pthread_getcpuclockid(pthread_self(), &c), ENOENT);
	} else {
		assert_int_equal(pthread_getcpuclockid(t, &c), 0);
		assert_int_equal(clock_gettime(c, &ts), 0);
	}
	finish_waiter(t);
}

static void affinity(void **state)
{
	pthread_t t = start_waiter();
	cpu_set_t proc, got, one;

	CPU_ZERO(&proc);
	assert_int_equal(sched_getaffinity(0, sizeof proc, &proc), 0);
	/* A new thread has its creator's affinity. */
	CPU_ZERO(&got);
	assert_int_equal(pthread_getaffinity_np(t, sizeof got, &got), 0);
	assert_true(CPU_EQUAL(&got, &proc));
	/* Every CPU it may use already: a change of nothing. */
	assert_int_equal(pthread_setaffinity_np(t, sizeof proc, &proc), 0);

	if (MN && CPU_COUNT(&proc) > 1) {
		/* Pinned apart from its workers: not possible. */
		CPU_ZERO(&one);
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &proc)) {
				CPU_SET(i, &one);
				break;
			}
		assert_int_equal(pthread_setaffinity_np(t, sizeof one, &one), ENOTSUP);
		/* And nothing changed: not the worker's, not anyone's. */
		CPU_ZERO(&got);
		assert_int_equal(sched_getaffinity(0, sizeof got, &got), 0);
		assert_true(CPU_EQUAL(&got, &proc));
	}
	finish_waiter(t);
}

static char name_seen[16];

static void *read_own_name(void *p)
{
	assert_int_equal(pthread_getname_np(pthread_self(), name_seen,
		sizeof name_seen), 0);
	return p;
}

static void names(void **state)
{
	char before[16], buf[16];
	pthread_t t, u;

	assert_int_equal(pthread_getname_np(pthread_self(), before, sizeof before), 0);
	t = start_waiter();
	u = spawn(wait_gate, 0);

	/* A new thread has its creator's name. */
	assert_int_equal(pthread_getname_np(t, buf, sizeof buf), 0);
	assert_string_equal(buf, before);

	assert_int_equal(pthread_setname_np(t, "weft-task-0123"), 0);
	assert_int_equal(pthread_getname_np(t, buf, sizeof buf), 0);
	assert_string_equal(buf, "weft-task-0123");
	/* Per thread: not the caller's, not a neighbour's. */
	assert_int_equal(pthread_getname_np(u, buf, sizeof buf), 0);
	assert_string_equal(buf, before);
	assert_int_equal(pthread_getname_np(pthread_self(), buf, sizeof buf), 0);
	assert_string_equal(buf, before);

	assert_int_equal(pthread_setname_np(t, "sixteen-bytes-x"), 0);
	assert_int_equal(pthread_setname_np(t, "seventeen-bytes-x"), ERANGE);
	assert_int_equal(pthread_getname_np(t, buf, sizeof buf), 0);
	assert_string_equal(buf, "sixteen-bytes-x");
	assert_int_equal(pthread_getname_np(t, buf, 15), ERANGE);

	/* Its own name, seen from itself and inherited by its threads. */
	assert_int_equal(pthread_setname_np(pthread_self(), "namer"), 0);
	assert_int_equal(pthread_getname_np(pthread_self(), buf, sizeof buf), 0);
	assert_string_equal(buf, "namer");
	join(spawn(read_own_name, 0));
	assert_string_equal(name_seen, "namer");
	assert_int_equal(pthread_setname_np(pthread_self(), before), 0);

	assert_int_equal(sem_post(&gate), 0);
	finish_waiter(t);
	join(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sched_param_other_only),
		cmocka_unit_test(create_explicit_sched),
		cmocka_unit_test(cpu_clock),
		cmocka_unit_test(affinity),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests_name("perthread", tests, 0, 0);
}
