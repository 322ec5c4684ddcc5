/* M:N backend: signals sent to a task wait in t->sigpending until the
 * task takes them (sched/signal.c); these calls see both those and the
 * kernel's.  Before the scheduler starts they are the kernel's. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>
#include "pthread_impl.h"
#include "syscall.h"
#include "pal.h"
#include "scheduler.h"

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
	while (!(t->sigran & SIGRAN_HANDLER)) {
		if (self->cancel && self->canceldisable != PTHREAD_CANCEL_DISABLE) {
			t->sigran_ends = 0;
			__sched_mask_set(t, old, MASK_KERNEL);
			return __cancel();
		}
		/* Until a signal m lets through is pending (it is raised
		 * before this returns): its handler may not end the wait
		 * (an ignored one runs none).  A handler that runs between
		 * the test above and the park ends it (sigran_ends). */
		__sched_sigwait(t, 0, 0);
	}
	t->sigran_ends = 0;
	__sched_mask_set(t, old, MASK_KERNEL);
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
 * does too: a small table of instances, each claimed by the re-raise of
 * its signal on its owner in the order they were kept (seq).  When it is
 * full, a routed one says SI_TKILL, as before routing. */
#define RTQ 64
static struct {
	int state;		/* PS_*: claimed with CAS */
	int sig;
	int routed;
	struct task *owner;
	int ktid;
	int pid;
	unsigned seq;
	siginfo_t si;
} rtq[RTQ];
static unsigned rtq_seq;

static void rt_put(int sig, const siginfo_t *si, struct task *owner,
	int routed, int ktid)
{
	int pid = __syscall(SYS_getpid);
	for (int i = 0; i < RTQ; i++) {
		int s = __atomic_load_n(&rtq[i].state, __ATOMIC_ACQUIRE);
		/* Free, or kept by the process this was forked from. */
		if (s == PS_BUSY || (s == PS_FULL && rtq[i].pid == pid) ||
		    !__atomic_compare_exchange_n(&rtq[i].state, &s, PS_BUSY, 0,
		    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		rtq[i].si = *si;
		rtq[i].sig = sig;
		rtq[i].owner = owner;
		rtq[i].routed = routed;
		rtq[i].ktid = ktid;
		rtq[i].pid = pid;
		rtq[i].seq = __atomic_fetch_add(&rtq_seq, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&rtq[i].state, PS_FULL, __ATOMIC_RELEASE);
		return;
	}
}

static int rt_claim(int sig, struct task *t, siginfo_t *si)
{
	int pid = __syscall(SYS_getpid), tid = t->id ? 0 : __syscall(SYS_gettid);
	for (;;) {
		int best = -1;
		for (int i = 0; i < RTQ; i++) {
			if (__atomic_load_n(&rtq[i].state, __ATOMIC_ACQUIRE) != PS_FULL ||
			    rtq[i].sig != sig || rtq[i].pid != pid ||
			    (rtq[i].owner ? rtq[i].owner != t : rtq[i].ktid != tid))
				continue;
			if (best < 0 || (int)(rtq[i].seq - rtq[best].seq) < 0)
				best = i;
		}
		if (best < 0) return 0;
		int s = PS_FULL;
		if (!__atomic_compare_exchange_n(&rtq[best].state, &s, PS_BUSY, 0,
		    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		int r = rtq[best].routed ? 1 : 2;
		*si = rtq[best].si;
		__atomic_store_n(&rtq[best].state, PS_FREE, __ATOMIC_RELEASE);
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

/* A re-raise (SI_TKILL) of sig on the task or g0 t: if a process-directed
 * one was kept for it, put its siginfo in *si and return 1 if it has been
 * routed already, 2 if it is still to be. */
static int ps_claim(int sig, struct task *t, siginfo_t *si)
{
	if (sig >= 32) return rt_claim(sig, t, si);
	if (__atomic_load_n(&psi[sig].state, __ATOMIC_ACQUIRE) != PS_FULL)
		return 0;
	struct task *o = psi[sig].owner;
	if (o ? o != t : psi[sig].ktid != __syscall(SYS_gettid))
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

/* Route the process-directed sig that reached t (a task, or a g0).
 * Returns 1 if it was sent on or left pending, 0 to run it here. */
static int route(struct task *t, int sig, siginfo_t *si)
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
		 * has exited. */
		m = __sched_main();
		if ((!m || (m->sigmask & bit)) && to_any(sig, si, 0)) return 1;
		if (!m) return 0;
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
			 * __pal_sigmask_internal), when that ends. */
			if (!(t->sigmask & bit)) return 0;
			if (to_any(sig, si, t)) return 1;
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

	if (si && si->si_code == SI_USER && si->si_errno == SCHED_RERAISE) {
		si->si_code = SI_TKILL;	/* sched/signal.c, reraise */
		si->si_errno = 0;
	}
	int kept = 0;
	if (t && si && !is_fault(sig, si)) {
		int pd = si->si_code == SI_TKILL ? (kept = ps_claim(sig, t, si)) == 2 :
			procdir(sig, si);
		if (pd && route(t, sig, si))
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
