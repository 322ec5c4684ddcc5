/*
 * No task can keep the others from running (issue 16): a thread that
 * computes without ever blocking must not freeze the rest, on any number
 * of workers.  Under M:N the monitor preempts such a task when others
 * wait (docs/scheduler.md, "Preemption"); under 1:1 the kernel does.
 * Each case runs in a child re-executed with WEFT_WORKERS=1 and 2, with
 * an alarm as its hang detector; the tests assert only that it finishes.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include "testutil.h"

static volatile int flag, stop;

static void *spin_until_flag(void *arg)
{
	while (!aload(&flag))
		;
	return 0;
}

static void *set_flag_later(void *arg)
{
	usleep(20000);
	astore(&flag, 1);
	return 0;
}

/* More spinners than workers wait for a flag that a sleeping thread
 * sets: the sleeper's timer must fire and it must get a worker. */
static int child_spinners(void)
{
	pthread_t t[3], s;
	for (int i = 0; i < 3; i++)
		if (pthread_create(&t[i], 0, spin_until_flag, 0)) return 2;
	if (pthread_create(&s, 0, set_flag_later, 0)) return 2;
	for (int i = 0; i < 3; i++) pthread_join(t[i], 0);
	pthread_join(s, 0);
	return 0;
}

static sem_t started;

static void *spin_async(void *arg)
{
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, 0);
	sem_post(&started);
	for (;;)
		;
	return 0;
}

/* libc-test's functional/pthread_cancel: cancel a thread that spins
 * with asynchronous cancellation; the canceller must get to run. */
static int child_cancel(void)
{
	pthread_t t;
	void *res;
	sem_init(&started, 0, 0);
	if (pthread_create(&t, 0, spin_async, 0)) return 2;
	while (sem_wait(&started))
		;
	if (pthread_cancel(t) || pthread_join(t, &res)) return 3;
	return res == PTHREAD_CANCELED ? 0 : 4;
}

static void *hog(void *arg)
{
	while (!aload(&stop))
		;
	return 0;
}

/* A CPU hog per worker and a thread ticking 10 sleeps of 5 ms, whose
 * last tick stops the hogs. */
static int child_sleeper(void)
{
	pthread_t h[2];
	for (int i = 0; i < 2; i++)
		if (pthread_create(&h[i], 0, hog, 0)) return 2;
	for (int i = 0; i < 10; i++) usleep(5000);
	astore(&stop, 1);
	for (int i = 0; i < 2; i++) pthread_join(h[i], 0);
	return 0;
}

/* Preempted at any instruction, a task must get back every register
 * and the floating-point state it had: three tasks that compute the same
 * long chain of float and integer operations (several slices each, so
 * the monitor preempts them among each other on one worker) must all
 * get the result the main thread got alone. */
#define CHAIN 40000000L
static __attribute__((noinline)) void *chain(void *arg)
{
	double x = 1.0, y = 0.5;
	unsigned long h = 1469598103934665603UL;
	for (long i = 0; i < CHAIN; i++) {
		x = x * 1.0000001 + (double)(i & 7) * 1e-9;
		y = y * 0.9999999 + x * 1e-12;
		h = (h ^ (unsigned long)i) * 1099511628211UL;
	}
	unsigned long *r = arg;
	__builtin_memcpy(&r[0], &x, 8);
	__builtin_memcpy(&r[1], &y, 8);
	r[2] = h;
	return 0;
}

static int child_registers(void)
{
	unsigned long want[3], got[3][3];
	pthread_t t[3];
	chain(want);
	for (int i = 0; i < 3; i++)
		if (pthread_create(&t[i], 0, chain, got[i])) return 2;
	for (int i = 0; i < 3; i++) pthread_join(t[i], 0);
	for (int i = 0; i < 3; i++)
		if (memcmp(got[i], want, sizeof want)) return 3;
	return 0;
}

/* ... and the upper halves of the ymm registers, which the x87/SSE state
 * does not hold.  The handler once wrote the interrupted rip just below
 * the red zone of the interrupted stack, inside its own signal frame:
 * with the interrupted rsp at one offset mod 64 (which one depends on
 * the CPU's xsave size) that hit the end marker of the frame's xsave
 * area, and sigreturn restored only the x87/SSE state, zeroing them.
 * Three tasks (preempted on one worker and on two) set all-ones, spin,
 * and check, with rsp at each of the 8 offsets in turn. */
static volatile int vstop;
static void *ymm_spin(void *arg)
{
	long lost = 0;
	for (long n = 0; !aload(&vstop); n++) {
		unsigned m;
		__asm__ volatile(
			"sub %2, %%rsp\n\t"
			"vpcmpeqd %%ymm8, %%ymm8, %%ymm8\n\t"
			"mov $3000000, %%ecx\n"
			"1: dec %%ecx\n\t"
			"jnz 1b\n\t"
			"vextracti128 $1, %%ymm8, %%xmm9\n\t"
			"vpmovmskb %%xmm9, %%eax\n\t"
			"add %2, %%rsp\n\t"
			"vzeroupper"
			: "=a"(m) : "0"(0), "r"(8L * (n % 8))
			: "rcx", "xmm8", "xmm9", "cc");
		lost += m != 0xffff;
	}
	*(long *)arg = lost;
	return 0;
}

static int child_vector(void)
{
	pthread_t t[3];
	long lost[3];
	for (int i = 0; i < 3; i++)
		if (pthread_create(&t[i], 0, ymm_spin, &lost[i])) return 2;
	usleep(1500000);
	astore(&vstop, 1);
	for (int i = 0; i < 3; i++) pthread_join(t[i], 0);
	for (int i = 0; i < 3; i++)
		if (lost[i]) return 3;
	return 0;
}

static void run(const char *mode)
{
	for (int w = 1; w <= 2; w++) {
		char ws[8];
		int st;
		snprintf(ws, sizeof ws, "%d", w);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (!pid) {
			setenv("WEFT_WORKERS", ws, 1);
			execl("/proc/self/exe", "preempt", "--child", mode, (char *)0);
			_exit(127);
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fail_msg("preempt %s, WEFT_WORKERS=%d: %s %d%s", mode, w,
				WIFEXITED(st) ? "exit status" : "killed by signal",
				WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
				WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM ?
				" (hung: the alarm fired)" : "");
	}
}

static void spinners(void **state) { run("spinners"); }
static void async_cancel(void **state) { run("cancel"); }
static void sleeper_behind_hogs(void **state) { run("sleeper"); }
static void registers_survive(void **state) { run("registers"); }
static void vector_registers_survive(void **state)
{
	if (!__builtin_cpu_supports("avx2")) skip();
	run("vector");
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--child")) {
		alarm(30);	/* a hang detector, not a deadline */
		if (!strcmp(argv[2], "spinners")) return child_spinners();
		if (!strcmp(argv[2], "cancel")) return child_cancel();
		if (!strcmp(argv[2], "sleeper")) return child_sleeper();
		if (!strcmp(argv[2], "registers")) return child_registers();
		if (!strcmp(argv[2], "vector")) return child_vector();
		return 126;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spinners),
		cmocka_unit_test(async_cancel),
		cmocka_unit_test(sleeper_behind_hogs),
		cmocka_unit_test(registers_survive),
		cmocka_unit_test(vector_registers_survive),
	};
	return cmocka_run_group_tests_name("preempt", tests, 0, 0);
}
