/*
 * Threads: create, join, detach, exit, attributes, identity, and signals
 * aimed at one thread.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"

static void *twice(void *p)
{
	return (void *)((long)p * 2);
}

static void create_join_value(void **state)
{
	pthread_t t;
	void *r = 0;

	assert_int_equal(pthread_create(&t, 0, twice, (void *)21L), 0);
	assert_int_equal(pthread_join(t, &r), 0);
	assert_int_equal((long)r, 42);
	/* A NULL result pointer is allowed. */
	assert_int_equal(pthread_create(&t, 0, twice, 0), 0);
	assert_int_equal(pthread_join(t, 0), 0);
}

static void *self(void *p)
{
	return (void *)pthread_self();
}

static void self_and_equal(void **state)
{
	pthread_t t = spawn(self, 0);
	pthread_t u = (pthread_t)join(t);

	assert_true(pthread_equal(t, u));
	assert_false(pthread_equal(t, pthread_self()));
	assert_true(pthread_equal(pthread_self(), pthread_self()));
}

#define MANY 64

static void many_concurrent(void **state)
{
	pthread_t t[MANY];

	for (long i = 0; i < MANY; i++)
		t[i] = spawn(twice, (void *)i);
	for (long i = 0; i < MANY; i++)
		assert_int_equal((long)join(t[i]), 2 * i);
}

static void many_sequential(void **state)
{
	for (long i = 0; i < 300; i++)
		assert_int_equal((long)join(spawn(twice, (void *)i)), 2 * i);
}

static void nested_exit(long v)
{
	pthread_exit((void *)v);
}

static void *exit_early(void *p)
{
	nested_exit(99);
	return 0;
}

static void pthread_exit_value(void **state)
{
	assert_int_equal((long)join(spawn(exit_early, 0)), 99);
}

/* ---- Detached threads --------------------------------------------------- */

static sem_t ran, gate;

static void *post_ran(void *p)
{
	if (p)
		sem_wait(&gate);
	sem_post(&ran);
	return 0;
}

static void detach_running(void **state)
{
	pthread_t t;

	sem_init(&ran, 0, 0);
	sem_init(&gate, 0, 0);
	t = spawn(post_ran, (void *)1);
	assert_int_equal(pthread_detach(t), 0);
	sem_post(&gate);
	sem_wait_long(&ran);
}

static void attr_detached(void **state)
{
	pthread_attr_t a;
	pthread_t t;
	int ds;

	sem_init(&ran, 0, 0);
	assert_int_equal(pthread_attr_init(&a), 0);
	assert_int_equal(pthread_attr_getdetachstate(&a, &ds), 0);
	assert_int_equal(ds, PTHREAD_CREATE_JOINABLE);
	assert_int_equal(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED), 0);
	assert_int_equal(pthread_attr_getdetachstate(&a, &ds), 0);
	assert_int_equal(ds, PTHREAD_CREATE_DETACHED);
	assert_int_equal(pthread_attr_setdetachstate(&a, 12345), EINVAL);
	for (int i = 0; i < 20; i++)
		assert_int_equal(pthread_create(&t, &a, post_ran, 0), 0);
	for (int i = 0; i < 20; i++)
		sem_wait_long(&ran);
	pthread_attr_destroy(&a);
}

/* Detaching a thread that already finished reclaims it. */
static void detach_finished(void **state)
{
	pthread_t t;

	sem_init(&ran, 0, 0);
	t = spawn(post_ran, 0);
	sem_wait_long(&ran);
	assert_int_equal(pthread_detach(t), 0);
}

static void *wait_gate(void *p)
{
	sem_wait(&gate);
	return p;
}

/* musl's non-portable joins report a still-running thread. */
static void tryjoin_timedjoin(void **state)
{
	struct timespec at;
	pthread_t t;
	void *r = 0;

	sem_init(&gate, 0, 0);
	t = spawn(wait_gate, (void *)7L);
	assert_int_equal(pthread_tryjoin_np(t, &r), EBUSY);
	at = deadline_ms(CLOCK_REALTIME, SHORT_MS);
	assert_int_equal(pthread_timedjoin_np(t, &r, &at), ETIMEDOUT);
	assert_deadline_passed(CLOCK_REALTIME, at);
	assert_null(r);
	sem_post(&gate);
	at = deadline_ms(CLOCK_REALTIME, LONG_MS);
	assert_int_equal(pthread_timedjoin_np(t, &r, &at), 0);
	assert_int_equal((long)r, 7);
}

static void *block_on_pipe(void *p)
{
	char c;

	read(*(int *)p, &c, 1);
	return 0;
}

/*
 * Joining a detached thread is undefined; musl 1.2.3 traps (a_crash)
 * rather than returning EINVAL.  Checked in a child, with the thread
 * still alive so that its descriptor is valid.
 */
static void join_detached_traps(void **state)
{
	pid_t pid = fork();
	int fd[2];

	assert_true(pid >= 0);
	if (!pid) {
		pthread_t t;
		child_init();
		if (pipe(fd) || pthread_create(&t, 0, block_on_pipe, &fd[0]) ||
		    pthread_detach(t))
			_exit(2);
		pthread_join(t, 0);
		_exit(3);
	}
	int st = reap(pid);
	if (!WIFSIGNALED(st))
		fail_msg("child was not killed by a signal: wait status %#x", st);
	assert_int_not_equal(WTERMSIG(st), SIGALRM);
}

/* exit() ends the process even while detached threads still run. */
static void exit_with_threads_running(void **state)
{
	pid_t pid = fork();
	int fd[2];

	assert_true(pid >= 0);
	if (!pid) {
		pthread_t t;
		child_init();
		if (pipe(fd))
			_exit(2);
		for (int i = 0; i < 4; i++)
			if (pthread_create(&t, 0, block_on_pipe, &fd[0]) ||
			    (i & 1 && pthread_detach(t)))
				_exit(2);
		exit(3);
	}
	assert_child_exited(reap(pid), 3);
}

static void *exit_last(void *p)
{
	sem_wait(&gate);
	exit(5);
}

/* After main calls pthread_exit, the process lives on in its threads. */
static void main_pthread_exit(void **state)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		pthread_t t;
		child_init();
		sem_init(&gate, 0, 0);
		if (pthread_create(&t, 0, exit_last, 0) || pthread_detach(t))
			_exit(2);
		sem_post(&gate);
		pthread_exit(0);
	}
	assert_child_exited(reap(pid), 5);
}

/* ---- Stacks ------------------------------------------------------------- */

/* Uses 4 KiB of stack; returns an address in it. */
static void *stack_address(void *p)
{
	volatile char buf[4096];
	uintptr_t a = (uintptr_t)buf;

	memset((char *)buf, 1, sizeof buf);
	__asm__ ("" : "+r" (a));
	return (void *)a;
}

static void user_stack(void **state)
{
	size_t sz = 256 * 1024;
	pthread_attr_t a;
	void *stk = 0, *got;
	size_t gsz;
	pthread_t t;

	assert_int_equal(posix_memalign(&stk, 4096, sz), 0);
	assert_int_equal(pthread_attr_init(&a), 0);
	assert_int_equal(pthread_attr_setstack(&a, stk, sz), 0);
	assert_int_equal(pthread_attr_getstack(&a, &got, &gsz), 0);
	assert_ptr_equal(got, stk);
	assert_int_equal(gsz, sz);
	assert_int_equal(pthread_create(&t, &a, stack_address, 0), 0);
	char *local = join(t);
	assert_true(local >= (char *)stk && local < (char *)stk + sz);
	pthread_attr_destroy(&a);
	free(stk);
}

static void small_stack(void **state)
{
	pthread_attr_t a;
	size_t sz;
	pthread_t t;

	assert_int_equal(pthread_attr_init(&a), 0);
	assert_int_equal(pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN - 1), EINVAL);
	assert_int_equal(pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN + 16384), 0);
	assert_int_equal(pthread_attr_getstacksize(&a, &sz), 0);
	assert_int_equal(sz, PTHREAD_STACK_MIN + 16384);
	assert_int_equal(pthread_attr_setguardsize(&a, 8192), 0);
	assert_int_equal(pthread_create(&t, &a, stack_address, 0), 0);
	assert_non_null(join(t));
	pthread_attr_destroy(&a);
}

/* ---- Signals to one thread ---------------------------------------------- */

static pthread_t hit_by;
static volatile sig_atomic_t hits;
static sem_t hit;

static void on_signal(int sig)
{
	hit_by = pthread_self();
	hits++;
	sem_post(&hit);
}

static void handle(int sig)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(sig, &sa, 0), 0);
}

static void pthread_kill_targets_thread(void **state)
{
	pthread_t t[3];

	handle(SIGUSR1);
	sem_init(&gate, 0, 0);
	sem_init(&hit, 0, 0);
	for (int i = 0; i < 3; i++)
		t[i] = spawn(wait_gate, 0);
	for (int k = 0; k < 6; k++) {
		pthread_t to = t[(k * 2) % 3];
		assert_int_equal(pthread_kill(to, SIGUSR1), 0);
		sem_wait_long(&hit);
		assert_true(pthread_equal(hit_by, to));
	}
	assert_int_equal(pthread_kill(t[0], 0), 0);
	assert_int_equal(pthread_kill(t[0], _NSIG + 1), EINVAL);
	for (int i = 0; i < 3; i++)
		sem_post(&gate);
	for (int i = 0; i < 3; i++)
		join(t[i]);
}

static void *raise_here(void *p)
{
	int before = hits;

	CHECK_EQ(raise(SIGUSR1), 0);
	/* The handler has run, on this thread, before raise returns. */
	CHECK_EQ(hits, before + 1);
	CHECK(pthread_equal(hit_by, pthread_self()));
	return 0;
}

static void raise_in_thread(void **state)
{
	handle(SIGUSR1);
	sem_init(&hit, 0, 0);
	join(spawn(raise_here, 0));
	assert_thread_checks();
}

static sem_t blocked;

static void *sigwait_here(void *p)
{
	sigset_t set, pend;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, 0);
	sem_post(&blocked);
	sem_wait(&gate);
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGUSR2));
	CHECK_EQ(sigwait(&set, &sig), 0);
	CHECK_EQ(sig, SIGUSR2);
	return 0;
}

/* A signal sent to a thread that blocks it stays pending on that thread. */
static void signal_mask_per_thread(void **state)
{
	pthread_t t;

	sem_init(&blocked, 0, 0);
	sem_init(&gate, 0, 0);
	t = spawn(sigwait_here, 0);
	sem_wait_long(&blocked);
	assert_int_equal(pthread_kill(t, SIGUSR2), 0);
	sem_post(&gate);
	join(t);
	assert_thread_checks();
}

/* Real-time signals sent to a thread that blocks them queue, one handler
 * run each when it unblocks (signal(7)); a child forked by one of those
 * handlers starts with no signals pending (fork(2)), so it neither runs
 * the parent's remaining ones nor sends them anywhere. */
#define NRT 20
static volatile sig_atomic_t rt_runs, rt_in_child, rt_runs_at_fork;
static pid_t rt_pid[NRT];

static void rt_fork(int sig)
{
	pid_t p;

	if (rt_runs >= NRT) {	/* a stray one: counted, no more children */
		rt_runs++;
		return;
	}
	p = fork();
	if (p == 0) {
		rt_in_child = 1;
		rt_runs_at_fork = rt_runs;
		alarm(LONG_MS / 1000);
		return;
	}
	rt_pid[rt_runs++] = p;
}

static void *take_queued(void *p)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	pthread_sigmask(SIG_BLOCK, &set, 0);
	sem_post(&blocked);
	sem_wait(&gate);
	pthread_sigmask(SIG_UNBLOCK, &set, 0);
	if (rt_in_child)
		_exit(rt_runs == rt_runs_at_fork ? 0 : 3);
	CHECK_EQ(rt_runs, NRT);
	return 0;
}

static void rt_signals_queue_and_fork(void **state)
{
	struct sigaction sa = { .sa_handler = rt_fork };
	pthread_t t;

	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGRTMIN + 1, &sa, 0), 0);
	sem_init(&blocked, 0, 0);
	sem_init(&gate, 0, 0);
	t = spawn(take_queued, 0);
	sem_wait_long(&blocked);
	for (int i = 0; i < NRT; i++)
		assert_int_equal(pthread_kill(t, SIGRTMIN + 1), 0);
	sem_post(&gate);
	join(t);
	assert_thread_checks();
	assert_int_equal(rt_runs, NRT);
	for (int i = 0; i < NRT; i++)
		assert_child_exited(reap(rt_pid[i]), 0);
	/* Nothing arrived from the children meanwhile. */
	assert_int_equal(rt_runs, NRT);
	signal(SIGRTMIN + 1, SIG_DFL);
}

/* Signals that arrive while threads hand the CPU to each other: a child
 * process queues NSTORM real-time signals at this process as fast as it
 * can while two threads ping-pong on semaphores (under M:N, each hop is
 * a switch from one task to the next on a worker, and a signal caught
 * mid-switch waits on the task until the switch is done).  Every one
 * must run its handler exactly once: none lost, none doubled.  The
 * handler yields, so handlers that switch tasks are covered too. */
#define NSTORM 20000
static volatile int storm_runs;
static sem_t ping, pong;

static void storm_handler(int sig)
{
	ainc(&storm_runs);
	sched_yield();
}

/* The other end of a ping-pong: answers each ping, until a ping finds
 * pp_quit set (by the pinger, where it awaits no pong). */
static volatile int pp_quit;

static void *ponger(void *p)
{
	for (;;) {
		sem_wait_long(&ping);
		if (aload(&pp_quit))
			return 0;
		sem_post(&pong);
	}
}

/* A child that queues n real-time signals sig at this process as fast as
 * the queue takes them, then exits 0. */
static pid_t queue_signals(int sig, int n)
{
	pid_t parent = getpid(), child = fork();

	assert_true(child >= 0);
	if (child == 0) {
		union sigval v = { 0 };
		child_init();
		for (int i = 0; i < n; i++)
			while (sigqueue(parent, sig, v))
				if (errno != EAGAIN)
					_exit(2);
		_exit(0);
	}
	return child;
}

static void signals_while_switching(void **state)
{
	struct sigaction sa = { .sa_handler = storm_handler,
		.sa_flags = SA_RESTART };
	struct timespec until = deadline_ms(CLOCK_MONOTONIC, LONG_MS);
	pid_t child;
	pthread_t t;

	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGRTMIN + 2, &sa, 0), 0);
	sem_init(&ping, 0, 0);
	sem_init(&pong, 0, 0);
	pp_quit = 0;
	t = spawn(ponger, 0);
	child = queue_signals(SIGRTMIN + 2, NSTORM);
	while (aload(&storm_runs) < NSTORM &&
	    ts_ns_since(ts_now(CLOCK_MONOTONIC), until) < 0) {
		sem_post(&ping);
		sem_wait_long(&pong);
	}
	astore(&pp_quit, 1);
	sem_post(&ping);
	join(t);
	assert_child_exited(reap(child), 0);
	assert_int_equal(aload(&storm_runs), NSTORM);
	signal(SIGRTMIN + 2, SIG_DFL);
}

/* The classic async-signal-safe pattern, under load: a handler posts a
 * semaphore that a thread waits on.  A child queues NSTORM real-time
 * signals while two threads ping-pong, so the handlers land on running
 * threads, in the middle of their semaphore operations, and on the
 * workers' scheduler loops (g0) between them.  Every post must arrive:
 * the waiter takes exactly NSTORM of them. */
static sem_t posted;
static volatile int pp_stop;

static void post_handler(int sig)
{
	sem_post(&posted);
}

static void *pinger(void *p)
{
	while (!aload(&pp_stop)) {
		sem_post(&ping);
		sem_wait_long(&pong);
	}
	/* Set here, where no pong is awaited: the ponger leaves on it. */
	astore(&pp_quit, 1);
	sem_post(&ping);
	return 0;
}

static void handler_posts_semaphore(void **state)
{
	struct sigaction sa = { .sa_handler = post_handler,
		.sa_flags = SA_RESTART };
	pid_t child;
	pthread_t a, b;
	int v;

	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGRTMIN + 3, &sa, 0), 0);
	sem_init(&posted, 0, 0);
	sem_init(&ping, 0, 0);
	sem_init(&pong, 0, 0);
	pp_stop = pp_quit = 0;
	b = spawn(ponger, 0);
	a = spawn(pinger, 0);
	child = queue_signals(SIGRTMIN + 3, NSTORM);
	for (int i = 0; i < NSTORM; i++)
		sem_wait_long(&posted);
	astore(&pp_stop, 1);
	join(a);
	join(b);
	assert_child_exited(reap(child), 0);
	assert_int_equal(sem_getvalue(&posted, &v), 0);
	assert_int_equal(v, 0);	/* and no more than NSTORM */
	signal(SIGRTMIN + 3, SIG_DFL);
}

/* A handler that runs while every task waits, on a worker idle in the
 * kernel, and wakes one (sem_post): the worker must run it, not go back
 * to sleep with it queued.  One worker, in a forked child that starts a
 * fresh scheduler; a grandchild keeps signalling, so a lost wakeup is a
 * hang that child_init's alarm ends. */
static sem_t idle_sem;

static void idle_post(int sig)
{
	sem_post(&idle_sem);
}

static void handler_wakes_idle_worker(void **state)
{
	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0) {
		struct sigaction sa = { .sa_handler = idle_post,
			.sa_flags = SA_RESTART };
		pid_t me = getpid(), sender;
		pthread_t t;

		child_init();
		setenv("WEFT_WORKERS", "1", 1);
		if (pthread_create(&t, 0, twice, 0) || pthread_join(t, 0))
			_exit(2);
		sem_init(&idle_sem, 0, 0);
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, 0);
		sender = fork();
		if (sender == 0) {
			/* Pacing only: each signal is a chance to hit the idle
			 * worker; the parent's alarm bounds the test. */
			while (getppid() == me && !kill(me, SIGUSR1))
				usleep(1000);
			_exit(0);
		}
		while (sem_wait(&idle_sem))
			if (errno != EINTR)
				_exit(3);
		kill(sender, SIGKILL);
		waitpid(sender, 0, 0);
		_exit(0);
	}
	assert_child_exited(reap(child), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_join_value),
		cmocka_unit_test(self_and_equal),
		cmocka_unit_test(many_concurrent),
		cmocka_unit_test(many_sequential),
		cmocka_unit_test(pthread_exit_value),
		cmocka_unit_test(detach_running),
		cmocka_unit_test(attr_detached),
		cmocka_unit_test(detach_finished),
		cmocka_unit_test(tryjoin_timedjoin),
		cmocka_unit_test(join_detached_traps),
		cmocka_unit_test(exit_with_threads_running),
		cmocka_unit_test(main_pthread_exit),
		cmocka_unit_test(user_stack),
		cmocka_unit_test(small_stack),
		cmocka_unit_test(pthread_kill_targets_thread),
		cmocka_unit_test(raise_in_thread),
		cmocka_unit_test(signal_mask_per_thread),
		cmocka_unit_test(rt_signals_queue_and_fork),
		cmocka_unit_test(signals_while_switching),
		cmocka_unit_test(handler_posts_semaphore),
		cmocka_unit_test(handler_wakes_idle_worker),
	};

	return cmocka_run_group_tests_name("thread", tests, 0, 0);
}
