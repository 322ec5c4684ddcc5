/*
 * The PAL thread contract (pal/pal.h): __pal_name, and __pal_thread_kill
 * delivering a signal to one given thread, whose handler then interrupts
 * the PAL's blocking calls with -EINTR.  (Spawn, exit and the thread
 * pointer are exercised by every pthread test.)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sched.h>
#include <stdint.h>
#include "palutil.h"

static void backend_name(void **state)
{
	assert_string_equal(__pal_name, WEFT_PAL);
	assert_int_not_equal(strlen(__pal_name), 0);
}

/* ---- Delivery to a given thread ----------------------------------------- */

static pthread_t hit_by;
static int hits;

static void on_signal(int sig)
{
	hit_by = pthread_self();
	count_up(&hits);
}

static void handle(int sig, int flags)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(sig, &sa, 0), 0);
}

static int gate;

static void *park(void *p)
{
	struct timespec at = deadline_ms(CLOCK_MONOTONIC, LONG_MS);

	/* Handlers may interrupt the wait; only the gate ends it. */
	while (!aload(&gate) && __pal_futex_wait(&gate, 0, 1, CLOCK_MONOTONIC,
	    &at, 0) != -ETIMEDOUT)
		;
	return 0;
}

static void kill_and_check(pthread_t t, int sig, int n)
{
	assert_int_equal(__pal_thread_kill(t, sig), 0);
	assert_int_equal(await_count(&hits, n), n);
	assert_true(pthread_equal(hit_by, t));
}

static void kill_targets_thread(void **state)
{
	pthread_t t[3];

	handle(SIGUSR1, SA_RESTART);
	hits = gate = 0;
	for (int i = 0; i < 3; i++)
		t[i] = spawn(park, 0);
	kill_and_check(t[1], SIGUSR1, 1);
	kill_and_check(t[2], SIGUSR1, 2);
	kill_and_check(t[0], SIGUSR1, 3);
	kill_and_check(pthread_self(), SIGUSR1, 4);
	kill_and_check(t[1], SIGUSR1, 5);
	astore(&gate, 1);
	__pal_futex_wake(&gate, -1, 1);
	for (int i = 0; i < 3; i++)
		join(t[i]);
	assert_int_equal(hits, 5);
}

/* A blocked signal stays pending on the target thread only. */
static int blocked_ready, blocked_checked;
static sigset_t blocked_pending;

static void *block_and_look(void *p)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, 0);
	count_up(&blocked_ready);
	await_count(&gate, 1);
	sigpending(&blocked_pending);
	CHECK_EQ(sigwaitinfo(&set, 0), SIGUSR2);
	count_up(&blocked_checked);
	return 0;
}

static void kill_blocked_stays_pending(void **state)
{
	sigset_t mine;
	pthread_t t;

	blocked_ready = blocked_checked = gate = 0;
	t = spawn(block_and_look, 0);
	assert_int_equal(await_count(&blocked_ready, 1), 1);
	assert_int_equal(__pal_thread_kill(t, SIGUSR2), 0);
	sigpending(&mine);
	assert_false(sigismember(&mine, SIGUSR2));
	count_up(&gate);
	assert_int_equal(await_count(&blocked_checked, 1), 1);
	join(t);
	assert_thread_checks();
	assert_true(sigismember(&blocked_pending, SIGUSR2));
}

static void kill_bad_signal(void **state)
{
	assert_int_equal(__pal_thread_kill(pthread_self(), 0), 0);
	assert_int_equal(__pal_thread_kill(pthread_self(), -1), -EINVAL);
	assert_int_equal(__pal_thread_kill(pthread_self(), _NSIG), -EINVAL);
	assert_int_equal(__pal_thread_kill(pthread_self(), 1000), -EINVAL);
}

/* ---- A handler interrupts blocking PAL calls ---------------------------- */

enum { BLOCK_FUTEX, BLOCK_CP_READ, BLOCK_READ };

static int intr_started, intr_done;
static long intr_result;
static int intr_fd[2];
static volatile int intr_word;

static void *block_once(void *p)
{
	struct timespec at = deadline_ms(CLOCK_MONOTONIC, LONG_MS);
	char c;

	count_up(&intr_started);
	switch (*(int *)p) {
	case BLOCK_FUTEX:
		intr_result = __pal_futex_wait(&intr_word, 0, 1, CLOCK_MONOTONIC,
			&at, PAL_WAIT_CANCEL);
		break;
	case BLOCK_CP_READ:
		intr_result = __pal_syscall_cp(SYS_read, intr_fd[0], (long)&c, 1,
			0, 0, 0);
		break;
	case BLOCK_READ:
		intr_result = __pal_syscall_block(SYS_read, intr_fd[0], (long)&c,
			1, 0, 0, 0);
		break;
	}
	count_up(&intr_done);
	return 0;
}

/*
 * The signal may land before the thread blocks (its handler runs and the
 * thread then blocks), so keep signalling until the call returns.
 */
static void interrupted(void **state)
{
	struct timespec at = deadline_ms(CLOCK_MONOTONIC, LONG_MS);
	pthread_t t;

	handle(SIGUSR1, 0);
	intr_started = intr_done = hits = 0;
	intr_result = 1;
	assert_int_equal(pipe(intr_fd), 0);
	t = spawn(block_once, *state);
	assert_int_equal(await_count(&intr_started, 1), 1);
	do {
		assert_int_equal(__pal_thread_kill(t, SIGUSR1), 0);
		if (ts_ns_since(ts_now(CLOCK_MONOTONIC), at) > 0)
			fail_msg("blocking call not interrupted in %d ms", LONG_MS);
	} while (!await_count_ms(&intr_done, 1, 10));
	join(t);
	close(intr_fd[0]);
	close(intr_fd[1]);
	assert_int_equal(intr_result, -EINTR);
	assert_true(hits >= 1);
}

static const int block_futex = BLOCK_FUTEX, block_cp_read = BLOCK_CP_READ,
	block_read = BLOCK_READ;

/* ---- Thread memory, fork, yield ------------------------------------------ */

static void map_layout(void **state)
{
	size_t pg = sysconf(_SC_PAGESIZE), size = 16 * pg, guard = 2 * pg;
	unsigned char *map = 0;

	/* all of it asked zeroed (a reused mapping is zeroed only that far) */
	assert_int_equal(__pal_thread_map((void **)&map, size, guard,
		size - guard), 0);
	assert_non_null(map);
	assert_int_equal((uintptr_t)map % pg, 0);
	/* above the guard: zero-filled and writable, to the last byte */
	for (size_t i = guard; i < size; i++)
		if (map[i]) fail_msg("byte %zu is %d, not 0", i, map[i]);
	memset(map + guard, 0xa5, size - guard);
	/* the guard faults: checked in a child */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		child_init();
		map[guard - 1] = 1;
		_exit(0);
	}
	int st = reap(pid);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSEGV)
		fail_msg("write to the guard: wait status %#x, not SIGSEGV", st);
	__pal_thread_unmap(map, size, guard);
}

/* A mapping given back and taken again: the asked-for top is zero again
 * and the guard still faults, whether the backend reused it (epoll
 * pools it: the same address, the rest of the stack as it was left) or
 * made a new one (native). */
static void map_reuse(void **state)
{
	size_t pg = sysconf(_SC_PAGESIZE), size = 24 * pg, guard = 3 * pg,
		zero = pg + 100;
	unsigned char *map = 0, *again = 0;

	assert_int_equal(__pal_thread_map((void **)&map, size, guard, zero), 0);
	memset(map + guard, 0xa5, size - guard);
	__pal_thread_unmap(map, size, guard);
	assert_int_equal(__pal_thread_map((void **)&again, size, guard, zero), 0);
	if (strcmp(WEFT_PAL, "native")) {
		assert_ptr_equal(again, map);
		assert_int_equal(again[size - zero - 1], 0xa5);
	}
	for (size_t i = size - zero; i < size; i++)
		if (again[i]) fail_msg("byte %zu of the top %zu is %d, not 0",
			i - (size - zero), zero, again[i]);
	memset(again + guard, 0x5a, size - guard);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		child_init();
		again[0] = 1;
		_exit(0);
	}
	int st = reap(pid);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSEGV)
		fail_msg("write to the reused guard: wait status %#x, not SIGSEGV", st);
	__pal_thread_unmap(again, size, guard);
}

static void map_no_guard_and_errors(void **state)
{
	size_t pg = sysconf(_SC_PAGESIZE);
	void *map = 0;

	errno = 0;
	assert_int_equal(__pal_thread_map(&map, 4 * pg, 0, pg), 0);
	((volatile char *)map)[0] = 1;
	__pal_thread_unmap(map, 4 * pg, 0);
	/* more than the address space: -ENOMEM, and errno untouched */
	map = 0;
	assert_int_equal(__pal_thread_map(&map, (size_t)-1 & -pg, pg, pg), -ENOMEM);
	assert_null(map);
	assert_int_equal(errno, 0);
}

static void fork_child_id(void **state)
{
	int fd[2];
	assert_int_equal(pipe(fd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		child_init();
		int id = __pal_fork_child((struct __pthread *)pthread_self());
		_exit(write(fd[1], &id, sizeof id) == sizeof id ? 0 : 1);
	}
	int id = 0;
	assert_int_equal(read(fd[0], &id, sizeof id), sizeof id);
	assert_int_equal(WEXITSTATUS(reap(pid)), 0);
	assert_true(id > 0 && id < (1 << 30));
	close(fd[0]);
	close(fd[1]);
}

static void yield_ok(void **state)
{
	for (int i = 0; i < 100; i++)
		assert_int_equal(__pal_yield(), 0);
	assert_int_equal(sched_yield(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(backend_name),
		cmocka_unit_test(map_layout),
		cmocka_unit_test(map_no_guard_and_errors),
		cmocka_unit_test(map_reuse),
		cmocka_unit_test(fork_child_id),
		cmocka_unit_test(yield_ok),
		cmocka_unit_test(kill_targets_thread),
		cmocka_unit_test(kill_blocked_stays_pending),
		cmocka_unit_test(kill_bad_signal),
		{ "interrupted_futex_wait", interrupted, 0, 0, (void *)&block_futex },
		{ "interrupted_syscall_cp", interrupted, 0, 0, (void *)&block_cp_read },
		{ "interrupted_syscall_block", interrupted, 0, 0, (void *)&block_read },
	};

	return cmocka_run_group_tests_name("pal_thread", tests, 0, 0);
}
