/*
 * Thread ids as the program sees them: gettid() and syscall(SYS_gettid)
 * agree, are unique among live threads and stable for a thread's life
 * (across sleeps and migrations), and the main thread's is the process
 * id; tkill and tgkill through syscall() reach the thread with that id.
 * Under M:N a thread is a task and its id a task id, not its worker's
 * kernel tid (pal.h: __pal_gettid).
 */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include "testutil.h"

#define NT 8

static pthread_barrier_t bar;
static volatile pid_t ids[NT];
static volatile int stop, reached[NT];
static __thread volatile int hit;	/* the handler ran on this thread */

static void on_usr1(int sig)
{
	hit++;
}

static long sys_gettid(void)
{
	return syscall(SYS_gettid);
}

static void *worker(void *p)
{
	int i = (int)(long)p;
	pid_t id = gettid();
	CHECK_EQ(sys_gettid(), id);
	ids[i] = id;
	pthread_barrier_wait(&bar);
	for (int k = 0; k < 20; k++) {
		usleep(500);
		CHECK_EQ(gettid(), id);
		CHECK_EQ(sys_gettid(), id);
		/* To itself, by id: the handler runs here, before the call
		 * returns, as for raise(). */
		hit = 0;
		CHECK_EQ(syscall(SYS_tgkill, getpid(), id, SIGUSR1), 0);
		CHECK_EQ(hit, 1);
		hit = 0;
		CHECK_EQ(syscall(SYS_tkill, id, SIGUSR1), 0);
		CHECK_EQ(hit, 1);
		sched_yield();
	}
	hit = 0;
	pthread_barrier_wait(&bar);
	/* From main, by id (below). */
	while (!aload(&stop)) {
		if (hit) {
			hit = 0;
			ainc(&reached[i]);
		}
		usleep(200);
	}
	return 0;
}

static void ids_are_tasks(void **state)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	assert_int_equal(sigaction(SIGUSR1, &sa, 0), 0);
	assert_int_equal(gettid(), getpid());
	assert_int_equal(sys_gettid(), getpid());
	assert_int_equal(pthread_barrier_init(&bar, 0, NT + 1), 0);
	pthread_t t[NT];
	for (int i = 0; i < NT; i++) t[i] = spawn(worker, (void *)(long)i);
	pthread_barrier_wait(&bar);
	for (int i = 0; i < NT; i++) {
		assert_true(ids[i] > 0);
		assert_int_not_equal(ids[i], getpid());
		for (int j = 0; j < i; j++) assert_int_not_equal(ids[i], ids[j]);
	}
	pthread_barrier_wait(&bar);
	/* Each thread, by id, from main: the handler runs on that thread. */
	for (int i = 0; i < NT; i++) {
		long r = i % 2 ? syscall(SYS_tkill, ids[i], SIGUSR1)
			: syscall(SYS_tgkill, getpid(), ids[i], SIGUSR1);
		assert_int_equal(r, 0);
		for (int w = 0; w < LONG_MS && !aload(&reached[i]); w++) usleep(1000);
		assert_int_equal(aload(&reached[i]), 1);
	}
	/* The main thread's id, after other threads exist. */
	assert_int_equal(gettid(), getpid());
	assert_int_equal(sys_gettid(), getpid());
	hit = 0;
	assert_int_equal(syscall(SYS_tkill, getpid(), SIGUSR1), 0);
	assert_int_equal(hit, 1);
	/* Existence checks and a bad signal, by id. */
	assert_int_equal(syscall(SYS_tkill, ids[0], 0), 0);
	assert_int_equal(syscall(SYS_tgkill, getpid(), ids[0], 0), 0);
	errno = 0;
	assert_int_equal(syscall(SYS_tkill, ids[0], 999), -1);
	assert_int_equal(errno, EINVAL);
	pid_t gone = ids[NT - 1];
	astore(&stop, 1);
	for (int i = 0; i < NT; i++) join(t[i]);
	assert_thread_checks();
	/* A joined thread's id is gone. Under 1:1 the kernel clears the
	 * tid that pthread_join waits on (CLONE_CHILD_CLEARTID, in
	 * exit_mm) before it unhashes the thread (exit_notify), so tgkill
	 * may still find it for a moment on native and glibc: poll, with
	 * the hang detector as the only deadline. tgkill, not tkill, so a
	 * number reused by another process cannot keep it alive. */
	long r;
	for (int w = 0; w < LONG_MS; w++) {
		errno = 0;
		r = syscall(SYS_tgkill, getpid(), gone, 0);
		if (r == -1) break;
		usleep(1000);
	}
	assert_int_equal(r, -1);
	assert_int_equal(errno, ESRCH);
	signal(SIGUSR1, SIG_DFL);
}

/* Another process's thread: the kernel's, not ours. */
static void other_process(void **state)
{
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	pid_t c = fork();
	assert_true(c >= 0);
	if (!c) {
		sigset_t s;
		int sig;
		sigemptyset(&s);
		sigaddset(&s, SIGUSR2);
		sigprocmask(SIG_BLOCK, &s, 0);
		/* A fork child's id is its pid again. */
		if (gettid() != getpid() || syscall(SYS_gettid) != getpid()) _exit(2);
		if (write(pfd[1], "r", 1) != 1) _exit(3);
		sigwait(&s, &sig);
		_exit(sig == SIGUSR2 ? 0 : 1);
	}
	char ch;
	assert_int_equal(read(pfd[0], &ch, 1), 1);
	/* Our thread ids are no threads of the child's. */
	errno = 0;
	assert_int_equal(syscall(SYS_tgkill, c, gettid(), SIGUSR2), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(syscall(SYS_tgkill, c, c, SIGUSR2), 0);
	int st;
	assert_int_equal(waitpid(c, &st, 0), c);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(pfd[0]);
	close(pfd[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids_are_tasks),
		cmocka_unit_test(other_process),
	};
	return cmocka_run_group_tests_name("tid", tests, 0, 0);
}
