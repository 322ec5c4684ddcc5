/*
 * process.c - whole-process operations: __synccall across every worker,
 * the SIGSYNCCALL handler that also carries kicks and preemption
 * requests, the fork child's reset, and the task stack-overflow report.
 * See proc.c.
 */
#define _GNU_SOURCE
#include "runtime.h"

/* ---- Whole-process operations -------------------------------------------- */

/* __synccall: the caller signals every other worker's kernel thread; each
 * handler checks in, waits for "go", runs the function, checks in again
 * and waits for "release", as musl's protocol does, but with kernel
 * futexes only: a handler runs on whatever task its worker was running,
 * and must not park it. */
static struct {
	void (*func)(void *);
	void *ctx;
	volatile int active, arrived, go, done, release, left;
	volatile unsigned gen;	/* counts __synccalls; wlock */
} SC;

/* The worker, or the monitor, whose thread this is; 0 if neither. */
static struct worker *thread_worker(void)
{
	int tid = __syscall(SYS_gettid);
	if (S.mon.ktid == tid) return &S.mon;
	for (int i = 0; i < S.n; i++)
		if (S.w[i].ktid == tid) return &S.w[i];
	return 0;
}

static void kwait_until(volatile int *p, int want)
{
	int v;
	while ((v = __atomic_load_n(p, __ATOMIC_ACQUIRE)) < want)
		__syscall(SYS_futex, p, FUTEX_WAIT|FUTEX_PRIVATE, v, 0);
}

static void kbump(volatile int *p)
{
	__atomic_fetch_add(p, 1, __ATOMIC_RELEASE);
	__syscall(SYS_futex, p, FUTEX_WAKE|FUTEX_PRIVATE, INT_MAX);
}

/* SIGSYNCCALL is the scheduler's under M:N (musl's __synccall protocol
 * is replaced): a __synccall, a kick from __sched_kill, or the monitor's
 * preemption request. */
static void sigsync_handler(int sig, siginfo_t *si, void *ctx)
{
	int old_errno = errno;
	struct task *t = __sched_self();
	if (t && t->worker && t->worker != &S.mon) __sched_kicked(t->worker);
	uint64_t kernel;
	__builtin_memcpy(&kernel, &((ucontext_t *)ctx)->uc_sigmask, sizeof kernel);
	if (t && t->id && (__atomic_load_n(&t->sigpending, __ATOMIC_SEQ_CST) & ~t->sigmask & ~kernel))
		__sched_deliver_kick(t, kernel);
	else if (t && t->id && t->worker && __atomic_load_n(&t->worker->preempt, __ATOMIC_RELAXED))
		__sched_preempt_signal(t, ctx);
	if (!__atomic_load_n(&SC.active, __ATOMIC_ACQUIRE)) {
		errno = old_errno;
		return;
	}
	/* Each thread takes part once, the caller's not at all: a kick or a
	 * preemption request that reached the caller's thread during its
	 * synccall made it wait, in the handler, for the go only it gives
	 * (setegid beside two spinning threads hung in 8 of 48 runs); one
	 * that reached a worker just after it left ran func twice. */
	struct worker *w = thread_worker();
	unsigned g = __atomic_load_n(&SC.gen, __ATOMIC_ACQUIRE);
	if (!w || w->sc_gen == g) {
		errno = old_errno;
		return;
	}
	w->sc_gen = g;
	kbump(&SC.arrived);
	kwait_until(&SC.go, 1);
	SC.func(SC.ctx);
	kbump(&SC.done);
	kwait_until(&SC.release, 1);
	kbump(&SC.left);
	errno = old_errno;
}

void __sched_synccall(void (*func)(void *), void *ctx)
{
	struct worker *me = self_worker();
	int n = 0;

	/* The workers stay those of S.w[0..S.n) until every one has left
	 * the handler: no spare starts or retires meanwhile (monitor.c). */
	spin_lock(&S.wlock);
	SC.func = func, SC.ctx = ctx;
	SC.arrived = SC.go = SC.done = SC.release = SC.left = 0;
	unsigned g = SC.gen + 1;
	if (me) me->sc_gen = g;	/* the caller's thread takes no part */
	__atomic_store_n(&SC.gen, g, __ATOMIC_RELEASE);
	__atomic_store_n(&SC.active, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < S.n; i++) {
		struct worker *w = &S.w[i];
		int r;
		if (w == me) continue;
		while ((r = __syscall(SYS_tkill, w->ktid, SIGSYNCCALL)) == -EAGAIN);
		if (r) die("weft: __synccall: cannot signal a worker thread\n");
		n++;
	}
	if (S.mon.ktid > 0) {
		int r;
		while ((r = __syscall(SYS_tkill, S.mon.ktid, SIGSYNCCALL)) == -EAGAIN);
		if (r) die("weft: __synccall: cannot signal the monitor thread\n");
		n++;
	}
	kwait_until(&SC.arrived, n);
	kbump(&SC.go);
	func(ctx);
	kwait_until(&SC.done, n);
	kbump(&SC.release);
	kwait_until(&SC.left, n);
	__atomic_store_n(&SC.active, 0, __ATOMIC_RELEASE);
	spin_unlock(&S.wlock);
}

void __sched_install_sigsync(void)
{
	/* Nothing may interrupt the handler (as musl's synccall's). */
	struct sigaction sa = { .sa_sigaction = sigsync_handler,
		.sa_flags = SA_RESTART | SA_SIGINFO };
	memset(&sa.sa_mask, -1, sizeof sa.sa_mask);
	__libc_sigaction(SIGSYNCCALL, &sa, 0);
}

/* In a fork child, the worker that the forking task's record points at:
 * the child's own thread (see __sched_fork_child). */
static struct worker fork_worker;

void __sched_fork_child(void)
{
	struct pthread *self = __pthread_self();
	struct task *t = self->pal;
	/* fork(2): the child's set of pending signals is empty. */
	if (t) {
		__atomic_store_n(&t->sigpending, 0, __ATOMIC_RELAXED);
		memset(t->rtcount, 0, sizeof t->rtcount);
		t->timer_sig = 0;
		/* Frames on the child's stack still hold t (a trampoline
		 * whose handler forked, returning in the child), and t
		 * points at the parent's worker, whose ktid names a thread
		 * of the parent: a re-raise or kick through it signalled the
		 * parent, which in libc-test's raise-race handled its fork
		 * signal thousands of times and forked as often.  It is the
		 * child's own thread now (a worker record of its own, with
		 * no cached mask). */
		memset(&fork_worker, 0, sizeof fork_worker);
		fork_worker.ktid = __syscall(SYS_gettid);
		fork_worker.mask = ~0ULL;
		t->worker = &fork_worker;
	}
	/* The child's thread has the forking worker's alternate stack: the
	 * task's own, or the worker's, which is no stack of the child's. */
	if (t && t->id && !t->alt.ss_size) {
		stack_t off = { .ss_flags = SS_DISABLE };
		__syscall(SYS_sigaltstack, &off, 0);
	}
	memset(&S, 0, sizeof S);
	__sched_timers_fork_child();
	memset(&main_task, 0, sizeof main_task);
	__sched_lot_reset();
	__np_fork_child();
	self->pal = 0;
}

/* ---- Stack overflow ------------------------------------------------------ */

/* A task that runs into its guard page faults there; with SIGSEGV at its
 * default action, this handler (on the worker's signal stack, since the
 * task's stack is exhausted) names the task and returns with the default
 * action restored (SA_RESETHAND), so the fault repeats and the process
 * dies of SIGSEGV as it would have: never silent corruption.  A SIGSEGV
 * that was sent is sent again. */
char *__sched_fmt_num(char *p, unsigned long v, int base)
{
	char tmp[24];
	int n = 0;
	do tmp[n++] = "0123456789abcdef"[v % base]; while (v /= base);
	while (n) *p++ = tmp[--n];
	return p;
}

static void overflow_handler(int sig, siginfo_t *si, void *ctx)
{
	struct task *t = __sched_self();
	uintptr_t a = (uintptr_t)si->si_addr;
	/* Sent (kill, raise, pthread_kill, sigqueue: si_code <= 0), not a
	 * fault, which would repeat: SA_RESETHAND made it SIG_DFL, so sent
	 * again it ends the process as it would have.  Returning swallowed
	 * it. */
	if (si->si_code <= 0) {
		__syscall(SYS_tkill, __syscall(SYS_gettid), SIGSEGV);
		return;
	}
	if (!t || !t->id) return;
	struct pthread *td = t->tcb;
	uintptr_t lo = (uintptr_t)td->map_base;
	if (!lo || !td->guard_size || a < lo || a >= lo + td->guard_size) return;
	char msg[160], *p = msg;
	static const char a1[] = "weft: task stack overflow: task ", a2[] = " hit its guard page at 0x", a3[] = "\n";
	memcpy(p, a1, sizeof a1 - 1), p += sizeof a1 - 1;
	p = __sched_fmt_num(p, t->id, 10);
	memcpy(p, a2, sizeof a2 - 1), p += sizeof a2 - 1;
	p = __sched_fmt_num(p, a, 16);
	memcpy(p, a3, 1), p++;
	__syscall(SYS_write, 2, msg, p - msg);
}

void __sched_install_overflow_report(struct worker *w0)
{
	struct sigaction sa, old;
	/* Worker 0's own signal stack is set by __sched_start, unless the
	 * program set one up itself (the main task's then). */
	if (__libc_sigaction(SIGSEGV, 0, &old) || old.sa_handler != SIG_DFL) return;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = overflow_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
	__libc_sigaction(SIGSEGV, &sa, 0);
}

