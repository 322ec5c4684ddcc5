/* M:N backend: signals sent to a task wait in t->sigpending until the
 * task takes them (sched/signal.c); these calls see both those and the
 * kernel's.  Before the scheduler starts they are the kernel's. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include "pthread_impl.h"
#include "syscall.h"
#include "pal.h"
#include "scheduler.h"
#include "io.h"

/* Signals sent to the process (kill(2)) go to the kernel's pending set;
 * a task waiting in sigtimedwait for one looks there this often (ns). */
#define SIGWAIT_POLL_NS 10000000ULL

hidden long __cancel(void);	/* weak in futex.c, musl's if linked */

static int task(struct task *t)
{
	return t && t->id;
}

int __pal_sigpending(void *set)
{
	struct task *t = __sched_self();
	uint64_t k;
	int r = __syscall(SYS_rt_sigpending, &k, _NSIG/8);
	if (r) return r;
	if (task(t)) k |= __atomic_load_n(&t->sigpending, __ATOMIC_ACQUIRE);
	__builtin_memcpy(set, &k, sizeof k);
	return 0;
}

static int ps_claim(int sig, struct task *t, siginfo_t *si);

/* Take the lowest signal of set pending on t, if any. */
static int take(struct task *t, uint64_t set, siginfo_t *si)
{
	int sig = __sched_sig_take(t, set);
	/* A SIGTIMER its timer sent (the monitor forwarded it), not one
	 * from timer_delete (scheduler.h, __sched_timer_*). */
	int timer = sig == SIGTIMER &&
		__atomic_exchange_n(&t->timer_sig, 0, __ATOMIC_ACQ_REL);
	if (sig && si) {
		memset(si, 0, sizeof *si);
		si->si_signo = sig;
		if (timer) {
			si->si_code = SI_TIMER;
		} else if (ps_claim(sig, t, si)) {
			/* A process-directed one routed to t. */
		} else {
			/* What tkill(2) reports: sent by this process. */
			si->si_code = SI_TKILL;
			si->si_pid = __syscall(SYS_getpid);
			si->si_uid = __syscall(SYS_getuid);
		}
	}
	return sig;
}

int __pal_sigtimedwait(const void *mask, siginfo_t *si,
	const struct timespec *timeout)
{
	struct task *t = __sched_self();
	struct pthread *self = __pthread_self();
	static const struct timespec zero;
	uint64_t set, deadline = 0;
	int r;

	if (!task(t))
		return __syscall_cp(SYS_rt_sigtimedwait, mask, si, timeout, _NSIG/8);
	if (timeout) {
		if (timeout->tv_sec < 0 || (unsigned long)timeout->tv_nsec >= 1000000000UL)
			return -EINVAL;
		deadline = __sched_deadline_after(timeout->tv_sec, timeout->tv_nsec);
	}
	__builtin_memcpy(&set, mask, sizeof set);
	set &= ~(1ULL << (SIGKILL - 1) | 1ULL << (SIGSTOP - 1));
	for (;;) {
		if (self->cancel && self->canceldisable != PTHREAD_CANCEL_DISABLE)
			return __cancel();
		if ((r = take(t, set, si))) return r;
		r = __syscall(SYS_rt_sigtimedwait, mask, si, &zero, _NSIG/8);
		if (r != -EAGAIN) return r;
		uint64_t now = __sched_now(), until = now + SIGWAIT_POLL_NS;
		if (deadline && now >= deadline) return -EAGAIN;
		if (deadline && deadline < until) until = deadline;
		r = __sched_sigwait(t, set, until);
		if (r == -EINTR) return r;
	}
}

int __pal_sigsuspend(const void *mask)
{
	struct task *t = __sched_self();
	struct pthread *self = __pthread_self();
	uint64_t m, old;

	if (!task(t)) return __syscall_cp(SYS_rt_sigsuspend, mask, _NSIG/8);
	__builtin_memcpy(&m, mask, sizeof m);
	old = __sched_mask_wait(t, m);
	t->sigran_ends = SIGRAN_HANDLER;
	/* A cancellation point (musl's syscall_cp): one that is due acts,
	 * before the wait or when it ends, also when the cancel's own
	 * signal (musl's handler) is what ended it.  Before, that returned
	 * EINTR and the thread went on (pause and sigsuspend alike). */
	while (!(t->sigran & SIGRAN_HANDLER) &&
	    !(self->cancel && self->canceldisable != PTHREAD_CANCEL_DISABLE)) {
		/* Until a signal m lets through is pending (it is raised
		 * before this returns): its handler may not end the wait
		 * (an ignored one runs none).  A handler that runs between
		 * the test above and the park ends it (sigran_ends). */
		__sched_sigwait(t, 0, 0);
	}
	t->sigran_ends = 0;
	__sched_mask_set(t, old, MASK_KERNEL);
	if (self->cancel && self->canceldisable != PTHREAD_CANCEL_DISABLE)
		return __cancel();
	return -EINTR;
}

/* The program's handlers (sigaction), which the kernel never sees: it
 * is given sig_tramp, which calls them.  When a handler returns,
 * sigreturn restores the mask in the ucontext, and the trampoline makes
 * that the task's recorded mask as well, since the handler may have
 * changed it (a sigprocmask, or musl's fork blocking and restoring every
 * signal), parked, or moved to another worker meanwhile. */
static struct {
	void *fn;	/* sa_handler or sa_sigaction */
	int flags;	/* the program's sa_flags */
	uint64_t mask;	/* its sa_mask (kernel sigset) */
} handlers[_NSIG];
/* Signals whose kernel handler has been the trampoline (bit sig - 1):
 * set by __pal_sig_wrap, never cleared. */
static uint64_t wrapped;

/* A synchronous fault (si_code > 0: sent by the kernel for the faulting
 * instruction), which returning from the handler would raise again. */
static int is_fault(int sig, const siginfo_t *si)
{
	return si && si->si_code > 0 && si->si_code != SI_KERNEL &&
		(sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
		 sig == SIGFPE || sig == SIGTRAP);
}

/*
 * Process-directed signals (kill(2) to the process, alarm, SIGCHLD,
 * sigqueue, SIGEV_SIGNAL timers).  The kernel gives one to whichever
 * worker thread's mask lets it in, whatever task runs there (idle
 * workers take the main task's mask).  Linux's rule (kernel/signal.c,
 * complete_signal) is: the main thread if it does not block it, else a
 * thread that does not.  So the trampoline sends it on, with
 * __sched_kill, to the main task when the main task does not block it
 * and is not the one running here (its park ends with EINTR, or its
 * syscall is interrupted, as a thread's would be); else it stays here.
 * Where no handler may run now (a critical section, a busy g0) it is
 * left pending here as any signal is, and routed when raised again.
 *
 * The handler should see the kernel's siginfo (si_code, si_pid, the
 * SIGCHLD status, si_value), not the SI_TKILL of a re-raise: it is kept
 * in psi[sig], and the trampoline that runs the handler for the task it
 * was kept for puts it back in the frame.  One per standard signal, as
 * the kernel keeps at most one pending instance of one per process; a
 * real-time one's instances queue in rtq (below).
 */
enum { PS_FREE, PS_BUSY, PS_FULL };
static struct {
	int state;		/* PS_*: claimed with CAS */
	int routed;		/* owner is the target, else where it waits */
	struct task *owner;	/* the task it is kept for, or 0: ... */
	int ktid;		/* ... a g0 left it pending on this thread */
	int pid;		/* getpid() when kept: not a fork child's */
	siginfo_t si;
} psi[32];

static int procdir(int sig, const siginfo_t *si)
{
	if (!si) return 0;
	switch (si->si_code) {
	case SI_TKILL:
		return 0;
	case SI_USER:
		/* The kernel's own SIGPIPE or SIGXFSZ for a write made on
		 * this thread (kill(getpid(), SIGPIPE) looks the same). */
		if (sig >= 32 && !si->si_pid)
			return 0;	/* a re-raise whose info the kernel
					 * dropped (queue full): see reraise */
		return !((sig == SIGPIPE || sig == SIGXFSZ) &&
			si->si_pid == __syscall(SYS_getpid));
	case SI_QUEUE: case SI_TIMER: case SI_MESGQ: case SI_ASYNCIO:
	case SI_SIGIO:
		return 1;
	case SI_KERNEL:	/* a fault too (a general protection SIGSEGV) */
		return !(sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
			sig == SIGFPE || sig == SIGTRAP);
	}
	/* CLD_* and POLL_* (F_SETOWN to the process); > 0 otherwise is a
	 * fault's. */
	return si->si_code > 0 && (sig == SIGCHLD || sig == SIGIO);
}

/* Real-time ones queue (one per instance sent), so their kept siginfo
 * does too: a table of instances, each claimed by the re-raise of its
 * signal on its owner in the order they were kept (seq).  The table
 * grows as a burst needs (chunks mapped in the handler, mmap being
 * async-signal-safe, and kept): a sigqueue storm at a process whose
 * main thread blocks the signal has thousands routed at once, and a
 * fixed 64 gave most of them SI_TKILL instead of their siginfo.  Past
 * RTQ_MAX instances a routed one says SI_TKILL, as before routing: a
 * claim scans the whole table, and at 65,600 the claims of a 20,000-
 * signal storm from another process (integration/thread.c,
 * signals_while_switching) took seconds instead of a fraction of one. */
#define RTQ_FIRST 64
#define RTQ_CHUNK 1024
#define RTQ_CHUNKS 1
#define RTQ_MAX (RTQ_FIRST + RTQ_CHUNK * RTQ_CHUNKS)
struct rt_kept {
	int state;		/* PS_*: claimed with CAS */
	int sig;
	int routed;
	struct task *owner;
	int ktid;
	int pid;
	unsigned seq;
	siginfo_t si;
};
static struct rt_kept rtq0[RTQ_FIRST];
static struct rt_kept *rtq_more[RTQ_CHUNKS];	/* mapped once, kept */
static int rtq_n = RTQ_FIRST;			/* entries that exist */
static unsigned rtq_seq;

/* Entry i (< rtq_n), or 0 while its chunk is being mapped. */
static struct rt_kept *rt_at(int i)
{
	if (i < RTQ_FIRST) return &rtq0[i];
	i -= RTQ_FIRST;
	struct rt_kept *c = __atomic_load_n(&rtq_more[i / RTQ_CHUNK], __ATOMIC_ACQUIRE);
	return c ? &c[i % RTQ_CHUNK] : 0;
}

/* One chunk more, unless another thread added one meanwhile (then the
 * caller looks again) or none can be had.  Returns 0 if there is no more
 * room. */
static int rt_grow(int n)
{
	int k = (n - RTQ_FIRST) / RTQ_CHUNK;
	if (k >= RTQ_CHUNKS) return 0;
	if (!__atomic_load_n(&rtq_more[k], __ATOMIC_ACQUIRE)) {
		void *m = __mmap(0, RTQ_CHUNK * sizeof(struct rt_kept),
			PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANON, -1, 0);
		if (m == MAP_FAILED) return 0;
		struct rt_kept *z = 0;
		if (!__atomic_compare_exchange_n(&rtq_more[k], &z, m, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			__munmap(m, RTQ_CHUNK * sizeof(struct rt_kept));
	}
	__atomic_compare_exchange_n(&rtq_n, &n, n + RTQ_CHUNK, 0,
		__ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	return 1;
}

static void rt_put(int sig, const siginfo_t *si, struct task *owner,
	int routed, int ktid)
{
	int pid = __syscall(SYS_getpid);
	for (;;) {
		int n = __atomic_load_n(&rtq_n, __ATOMIC_ACQUIRE);
		for (int i = 0; i < n; i++) {
			struct rt_kept *e = rt_at(i);
			if (!e) continue;
			int s = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);
			/* Free, or kept by the process this was forked from. */
			if (s == PS_BUSY || (s == PS_FULL && e->pid == pid) ||
			    !__atomic_compare_exchange_n(&e->state, &s, PS_BUSY, 0,
			    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				continue;
			e->si = *si;
			e->sig = sig;
			e->owner = owner;
			e->routed = routed;
			e->ktid = ktid;
			e->pid = pid;
			e->seq = __atomic_fetch_add(&rtq_seq, 1, __ATOMIC_RELAXED);
			__atomic_store_n(&e->state, PS_FULL, __ATOMIC_RELEASE);
			return;
		}
		if (!rt_grow(n)) return;
	}
}

static int rt_claim(int sig, struct task *t, siginfo_t *si)
{
	int pid = __syscall(SYS_getpid), tid = t ? 0 : __syscall(SYS_gettid);
	for (;;) {
		struct rt_kept *best = 0;
		int n = __atomic_load_n(&rtq_n, __ATOMIC_ACQUIRE);
		for (int i = 0; i < n; i++) {
			struct rt_kept *e = rt_at(i);
			if (!e || __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != PS_FULL ||
			    e->sig != sig || e->pid != pid ||
			    (e->owner ? e->owner != t : e->ktid != tid))
				continue;
			if (!best || (int)(e->seq - best->seq) < 0)
				best = e;
		}
		if (!best) return 0;
		int s = PS_FULL;
		if (!__atomic_compare_exchange_n(&best->state, &s, PS_BUSY, 0,
		    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		int r = best->routed ? 1 : 2;
		*si = best->si;
		__atomic_store_n(&best->state, PS_FREE, __ATOMIC_RELEASE);
		return r;
	}
}

static void ps_put(int sig, const siginfo_t *si, struct task *owner,
	int routed, int ktid)
{
	if (sig >= 32) {
		rt_put(sig, si, owner, routed, ktid);
		return;
	}
	int s = PS_FREE;
	if (!__atomic_compare_exchange_n(&psi[sig].state, &s, PS_BUSY, 0,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		/* One already kept: still pending there (merged, as the
		 * kernel merges it), unless its owner no longer has it
		 * pending (it exited, or this is a fork child): replace. */
		struct task *o = psi[sig].owner;
		if (s != PS_FULL || (o && (__atomic_load_n(&o->sigpending,
		    __ATOMIC_RELAXED) & 1ULL << (sig - 1)) &&
		    psi[sig].pid == __syscall(SYS_getpid)) ||
		    !__atomic_compare_exchange_n(&psi[sig].state, &s, PS_BUSY,
		    0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
	}
	psi[sig].si = *si;
	psi[sig].owner = owner;
	psi[sig].routed = routed;
	psi[sig].ktid = ktid;
	psi[sig].pid = __syscall(SYS_getpid);
	__atomic_store_n(&psi[sig].state, PS_FULL, __ATOMIC_RELEASE);
}

/* A re-raise (SI_TKILL) of sig on the task t, or (t 0) of one the g0 of
 * the caller's thread held: if a process-directed one was kept for it,
 * put its siginfo in *si and return 1 if it has been routed already, 2
 * if it is still to be. */
static int ps_claim(int sig, struct task *t, siginfo_t *si)
{
	if (sig >= 32) return rt_claim(sig, t, si);
	if (__atomic_load_n(&psi[sig].state, __ATOMIC_ACQUIRE) != PS_FULL)
		return 0;
	struct task *o = psi[sig].owner;
	if (o ? o != t : t || psi[sig].ktid != __syscall(SYS_gettid))
		return 0;
	int s = PS_FULL;
	if (psi[sig].pid != __syscall(SYS_getpid) ||
	    !__atomic_compare_exchange_n(&psi[sig].state, &s, PS_BUSY, 0,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 0;
	int r = psi[sig].routed ? 1 : 2;
	*si = psi[sig].si;
	__atomic_store_n(&psi[sig].state, PS_FREE, __ATOMIC_RELEASE);
	return r;
}

/* Send sig to the process again, with its siginfo si if the kernel takes
 * it from a thread that is not the main one (a negative si_code, not
 * SI_TKILL: rt_sigqueueinfo(2)), else as kill(2) from this process. */
static void to_process(int sig, siginfo_t *si)
{
	int pid = __syscall(SYS_getpid);
	if (si && si->si_code < 0 && si->si_code != SI_TKILL &&
	    !__syscall(SYS_rt_sigqueueinfo, pid, sig, si))
		return;
	__syscall(SYS_kill, pid, sig);
}

/* The calling task t is exiting (__pal_thread_exit), with the program's
 * signals blocked in its mask.  What was routed to it and is still
 * pending on it is the process's: a thread's exit leaves a process-
 * directed signal pending for the others (signal(7)).  It goes back to
 * the kernel, sent to the process with the siginfo kept for it, once t
 * blocks them in the kernel too: the kernel then gives it to a worker
 * whose mask lets it in (a task that takes it, or an idle worker while
 * some task would: sched/signal.c, the open set), or keeps it pending
 * until one does.  Before, the scheduler handed it to its worker's g0,
 * whose re-raise could land on the next task there, which blocked it
 * for good: one-at-a-time sigqueues to a process whose only takers were
 * short-lived threads lost one within the first hundred or so
 * (conformance/rt_transient).  Only siginfo with a negative si_code can
 * be sent again as it was (rt_sigqueueinfo(2) refuses the kernel's own
 * codes from a thread that is not the main one; at RLIMIT_SIGPENDING it
 * fails): the others go as kill(2) from this process.  What was sent to
 * t alone (pthread_kill) is passed on the same way, as the scheduler
 * did, rather than dropped as a thread's exit would.  Then no siginfo
 * is kept for t: its memory may carry another task next.
 * None of it where nothing can have been routed to t: nothing pending on
 * it, and no program handler (wrapped) for what its kernel mask lets in,
 * so that the kernel gives its thread no signal the trampoline would
 * route.  The mask change alone doubled the cost of a create and join
 * (bench/spawn: a syscall here, another for the next task). */
void __pal_sig_exit(struct task *t)
{
	/* All but musl's SIGTIMER, SIGCANCEL and SIGSYNCCALL. */
	const uint64_t app = ~(7ULL << 31);
	int sig;
	if (!(__atomic_load_n(&wrapped, __ATOMIC_ACQUIRE) & ~t->kmask & app) &&
	    !(__atomic_load_n(&t->sigpending, __ATOMIC_ACQUIRE) & app))
		return;
	__sched_mask_set(t, t->sigmask | app, MASK_KERNEL);
	/* No router can choose t after this: what it routed is here. */
	__sched_sig_unlist(t);
	while ((sig = __sched_sig_take(t, app))) {
		siginfo_t si;
		to_process(sig, ps_claim(sig, t, &si) ? &si : 0);
	}
	for (int i = 0; i < 32; i++) {
		int s = PS_FULL;
		if (psi[i].owner == t)
			__atomic_compare_exchange_n(&psi[i].state, &s, PS_FREE, 0,
				__ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	}
	int n = __atomic_load_n(&rtq_n, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++) {
		struct rt_kept *e = rt_at(i);
		int s = PS_FULL;
		if (e && e->owner == t)
			__atomic_compare_exchange_n(&e->state, &s, PS_FREE, 0,
				__ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	}
}

/* To a task other than skip that lets sig through (scheduler.h,
 * __sched_sig_hold): Linux's complete_signal looks for one, round robin,
 * when the main thread blocks it.  Its wait ends with EINTR, or its
 * blocking syscall is interrupted (__sched_kill), as a thread's would. */
static int to_any(int sig, siginfo_t *si, struct task *skip)
{
	int slot;
	struct task *w = __sched_sig_hold(sig, skip, &slot);
	if (!w) return 0;
	ps_put(sig, si, w, 1, 0);
	__sched_kill(w, sig);
	__sched_sig_release(slot);
	return 1;
}

/* No task takes sig now: back to the process, once the thread here
 * blocks it (uc: the mask sigreturn puts back), else the kernel would
 * give it straight back to this thread. */
static void to_process_here(int sig, siginfo_t *si, uint64_t *uc)
{
	*uc |= 1ULL << (sig - 1);
	to_process(sig, si);
}

/* Route the process-directed sig that reached t (a task, or a g0); uc:
 * the kernel mask sigreturn puts back (the ucontext's).  Returns 1 if
 * it was sent on or left pending, 0 to run it here. */
static int route(struct task *t, int sig, siginfo_t *si, uint64_t *uc)
{
	uint64_t bit = 1ULL << (sig - 1);
	struct task *m;
	if (!t->id) {
		if (__sched_g0_busy(t)) {
			ps_put(sig, si, 0, 0, __syscall(SYS_gettid));
			__sched_defer(t, sig);
			return 1;
		}
		/* An idle g0 (its worker asleep, or the monitor): the main
		 * task, unless it blocks it and another task does not, or it
		 * has exited.  If the main task's program mask blocks it too,
		 * no task takes it now (the open set this thread's mask was
		 * made from is out of date): back to the process, where the
		 * kernel keeps it until a task lets it in.  Given to the main
		 * task, it waited there for good. */
		m = __sched_main();
		if ((!m || (m->sigmask & bit)) && to_any(sig, si, 0)) return 1;
		if (!m) return 0;
		if (m->kmask & bit) {
			__sched_g0_block(t, bit);
			to_process_here(sig, si, uc);
			return 1;
		}
	} else {
		if (__sched_hold_handlers(t)) {
			ps_put(sig, si, t, 0, 0);
			__sched_defer(t, sig);
			return 1;
		}
		m = __sched_main();
		if (!m || m == t || (m->sigmask & bit)) {
			/* Here; else another task that lets it through; else
			 * if only t's mask blocks it (a window of
			 * __pal_sigmask_internal), when that ends; else (a
			 * re-raise of what a g0 or an exiting task held, on a
			 * task whose program mask blocks it) back to the
			 * process: the kernel keeps it until a task lets it
			 * in, as no task here does now. */
			if (!(t->sigmask & bit)) return 0;
			if (to_any(sig, si, t)) return 1;
			if (t->kmask & bit) {
				to_process_here(sig, si, uc);
				return 1;
			}
			ps_put(sig, si, t, 1, 0);
			__sched_defer(t, sig);
			return 1;
		}
	}
	ps_put(sig, si, m, 1, 0);
	__sched_kill(m, sig);
	return 1;
}

static void sig_tramp(int sig, siginfo_t *si, void *ctx)
{
	void *fn = __atomic_load_n(&handlers[sig].fn, __ATOMIC_ACQUIRE);
	int flags = __atomic_load_n(&handlers[sig].flags, __ATOMIC_RELAXED);
	struct task *t = __sched_self();
	uint64_t m, soft = 0, em = 0, es = 0;

	/* The task's masks as the code this interrupted had them: its
	 * handler returns to them, whatever the ucontext says (em, es).
	 * The two differ when that code was in the head of another
	 * trampoline (before its handler_enter: the kernel has that one's
	 * handler mask, which the task never had) or in the middle of a
	 * mask change (sched/signal.c, __sched_mask_set).  Before, the
	 * ucontext's mask became the task's: a pthread_kill landing in the
	 * first instructions of raise's own trampoline left the raised
	 * signal blocked and pending on the task for good, and every later
	 * raise was lost (libc-test regression/raise-race, "lost signals"). */
	if (task(t)) {
		em = __atomic_load_n(&t->kmask, __ATOMIC_RELAXED);
		es = __atomic_load_n(&t->sigmask, __ATOMIC_RELAXED);
	}

	/* sched/signal.c, reraise: g0's are the process's (its worker's
	 * g0 held them), whatever task runs on the thread now. */
	int g0held = 0;
	if (si && si->si_code == SI_USER &&
	    (si->si_errno == SCHED_RERAISE || si->si_errno == SCHED_RERAISE_G0)) {
		g0held = si->si_errno == SCHED_RERAISE_G0;
		si->si_code = SI_TKILL;
		si->si_errno = 0;
	}
	int kept = 0;
	if (t && si && !is_fault(sig, si)) {
		int pd = g0held ? (kept = ps_claim(sig, 0, si), 1) :
			si->si_code == SI_TKILL ?
			(kept = ps_claim(sig, task(t) ? t : 0, si)) == 2 :
			procdir(sig, si);
		if (pd && route(t, sig, si, (uint64_t *)&((ucontext_t *)ctx)->uc_sigmask))
			return;
	}

	__builtin_memcpy(&m, &((ucontext_t *)ctx)->uc_sigmask, sizeof m);
	if (task(t)) {
		/* Later, when the task takes it: a signal blocked only by the
		 * task's mask (thread.c), or any that comes while the task
		 * switches (sched/proc.c: begin_switch to resumed).  Never a
		 * fault the code that was interrupted caused: it would only
		 * recur. */
		if ((t->sigmask & 1ULL << (sig - 1) || __sched_hold_handlers(t)) &&
		    !is_fault(sig, si)) {
			if (kept) ps_put(sig, si, t, 1, 0);
			__sched_defer(t, sig);
			return;
		}
		/* What only the task's mask blocked when the signal came
		 * stays blocked after it. */
		soft = es & ~em;
		/* What the kernel blocks while the handler runs: the
		 * handler's mask (sigaction(2)). */
		uint64_t h = m | __atomic_load_n(&handlers[sig].mask, __ATOMIC_RELAXED);
		if (!(flags & SA_NODEFER)) h |= 1ULL << (sig - 1);
		__sched_handler_enter(t, h);
		__sched_alt_enter(t, &((ucontext_t *)ctx)->uc_stack);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	} else if (!is_fault(sig, si) && __sched_g0_defer(t, sig)) {
		return;	/* on a busy g0: later (scheduler.h) */
	}
	/* For a wait that ends when a handler runs (scheduler.h, sigran):
	 * one the kernel delivered straight to the worker's thread, as a
	 * mask change lets a process-pending signal in, as well as those
	 * __sched_deliver raises. */
	if (task(t))
		t->sigran |= SIGRAN_HANDLER | (flags & SA_RESTART ? 0 : SIGRAN_NORESTART);
	if (flags & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))fn)(sig, si, ctx);
	else
		((void (*)(int))fn)(sig);
	/* The same task (the TCB is its own), maybe on another worker. */
	if (task(t)) {
		/* Until sigreturn the kernel's mask is the handler's, not the
		 * ucontext's: a signal that came in between (the kick below,
		 * say) would return to that mask and make it the task's.
		 * Nothing comes in between: sigreturn sets the mask. */
		static const uint64_t all = -1;
		__syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, 0, _NSIG/8);
		t->in_handler--;
		__builtin_memcpy(&m, &((ucontext_t *)ctx)->uc_sigmask, sizeof m);
		__sched_mask_restored(t, em, soft, m);
		__sched_alt_restored(t, &((ucontext_t *)ctx)->uc_stack);
	}
}

void __pal_sig_wrap(int sig, struct sigaction *sa, struct sigaction *prev)
{
	uint64_t mask;
	if (prev) {	/* what unwrap reports if the kernel had sig_tramp */
		prev->sa_handler = (void (*)(int))__atomic_load_n(&handlers[sig].fn, __ATOMIC_ACQUIRE);
		prev->sa_flags = __atomic_load_n(&handlers[sig].flags, __ATOMIC_RELAXED);
	}
	__builtin_memcpy(&mask, &sa->sa_mask, sizeof mask);
	__atomic_store_n(&handlers[sig].mask, mask, __ATOMIC_RELAXED);
	__atomic_store_n(&handlers[sig].flags, sa->sa_flags, __ATOMIC_RELAXED);
	__atomic_store_n(&handlers[sig].fn, (void *)sa->sa_handler, __ATOMIC_RELEASE);
	if (sig < 65) __atomic_fetch_or(&wrapped, 1ULL << (sig - 1), __ATOMIC_SEQ_CST);
	sa->sa_sigaction = sig_tramp;
	sa->sa_flags |= SA_SIGINFO;
	if (sa->sa_flags & SA_ONSTACK) __sched_alt_onstack_used();
}

void __pal_sig_unwrap(int sig, struct sigaction *old,
	const struct sigaction *prev)
{
	if (old->sa_sigaction != sig_tramp) {
		/* SA_RESETHAND made the kernel's handler SIG_DFL at a
		 * delivery and kept its flags, SA_SIGINFO of the wrap
		 * included: the program's flags have theirs. */
		int pf = prev ? prev->sa_flags :
			__atomic_load_n(&handlers[sig].flags, __ATOMIC_RELAXED);
		if (old->sa_handler == SIG_DFL && (old->sa_flags & SA_RESETHAND) &&
		    (pf & SA_RESETHAND))
			old->sa_flags = (old->sa_flags & ~SA_SIGINFO) | (pf & SA_SIGINFO);
		return;
	}
	/* The kernel's flags are the program's plus SA_SIGINFO (wrap), and
	 * its mask is the program's. */
	if (prev) {
		old->sa_handler = prev->sa_handler;
		old->sa_flags = (old->sa_flags & ~SA_SIGINFO) |
			(prev->sa_flags & SA_SIGINFO);
		return;
	}
	old->sa_handler = (void (*)(int))__atomic_load_n(&handlers[sig].fn, __ATOMIC_ACQUIRE);
	old->sa_flags = (old->sa_flags & ~SA_SIGINFO) |
		(__atomic_load_n(&handlers[sig].flags, __ATOMIC_RELAXED) & SA_SIGINFO);
}

_Static_assert(sizeof(struct __pal_timer) >= sizeof(struct __sched_timer), "");

int __pal_timer_attach(struct pthread *td, struct __pal_timer *r,
	int *tid, union sigval *value)
{
	if (!task(td->pal)) {	/* a plain thread: no scheduler */
		((struct __sched_timer *)r)->t = 0;
		*tid = td->tid;
		value->sival_ptr = 0;
		return 0;
	}
	*tid = __sched_timer_attach((void *)r, td, value);
	return 0;
}

void __pal_timer_detach(struct __pal_timer *r)
{
	struct __sched_timer *s = (void *)r;
	if (task(s->t)) __sched_timer_detach(s);
}

void __pal_timer_kill(struct pthread *td)
{
	if (__sched_self()) __sched_timer_kill(td);
	else __syscall(SYS_tkill, td->tid, SIGTIMER);
}

int __pal_synccall(void (*func)(void *), void *ctx)
{
	if (!task(__sched_self())) return -ENOSYS;
	__sched_synccall(func, ctx);
	return 0;
}

void __pal_cancel_deferred(struct pthread *self, void *uc_mask)
{
	/* Every cancellation point checks self->cancel (the syscall
	 * sequence in __syscall_cp_asm, the futex waits): leave SIGCANCEL
	 * unblocked on this worker, which other tasks use next. */
	unsigned long *m = uc_mask;
	m[(SIGCANCEL - 1) / (8 * sizeof *m)] &= ~(1UL << ((SIGCANCEL - 1) % (8 * sizeof *m)));
}
