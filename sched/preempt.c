/*
 * preempt.c - asynchronous preemption of a task that computes for a
 * whole time slice while others wait (Go's preempt.go).  The landing
 * pad is preempt_x86_64.S.  See proc.c and docs/scheduler.md.
 */
#define _GNU_SOURCE
#include "runtime.h"

/* Preemption: the monitor saw t run SLICE_NS without a switch while
 * other work waits, and asked (w->preempt, then SIGSYNCCALL).  The
 * handler does not switch tasks itself: it makes t "call"
 * __sched_async_preempt (context.h) where it was interrupted, and
 * returns, so the kernel's signal bookkeeping (mask, frame) ends as for
 * any handler; the landing pad saves t's registers and yields from an
 * ordinary call.  Go's asynchronous preemption (runtime/preempt.go,
 * signal_unix.go's doSigPreempt), with the trampoline's safe points
 * (pal/epoll/signal.c) standing for Go's: not in a switch, not in a
 * blocking syscall (the handler would end it), not in a program handler,
 * and not while t's own mask blocks SIGSYNCCALL (musl's __block_all_sigs
 * windows); in a scheduler critical section, at its end (t->preempt,
 * __sched_nosig_leave), as Go's preemption waits for a safe point.  A
 * request refused otherwise is dropped; the monitor asks again at its
 * next look.
 *
 * The interrupted rip goes to the task (t->preempt_rip), not onto its
 * stack as Go's does: Go's handler runs on the signal stack, this one
 * (SIGSYNCCALL, no SA_ONSTACK) on the interrupted stack, where its own
 * frame starts at the red zone, the kernel's xsave area on top.  A slot
 * below the red zone is inside that frame: written there, the rip
 * clobbered the area's end marker (FP_XSTATE_MAGIC2) whenever the
 * interrupted rsp was 8 mod 64 (with this machine's 2820-byte area), and
 * sigreturn then restored only the x87/SSE state: the upper halves of
 * the ymm registers came back zero.  The pad makes its slot itself,
 * where memcheck also sees the stack grow (vg.h). */
void __sched_preempt_signal(struct task *t, ucontext_t *uc)
{
	struct worker *w = t->worker;
	unsigned p = __atomic_exchange_n(&w->preempt, 0, __ATOMIC_ACQUIRE);
	if (!p || p - 1 != w->nswitch || w->cur != t) return;
	/* In a critical section (most of pthread_create: the stack pool,
	 * the run queue): at its end (__sched_nosig_leave). */
	if (t->nosig && !w->switching) {
		t->preempt = 1;
		return;
	}
	/* The kernel's mask where t was interrupted is not the one the
	 * worker believes it has: t is in a handler's tail (the trampoline
	 * has recorded the mask its sigreturn will set, but not yet made
	 * it).  Yielding there would leave the next task on this worker
	 * with the handler's mask in the kernel and the restored one in
	 * the cache, and signals blocked on that worker for good. */
	uint64_t m;
	__builtin_memcpy(&m, &uc->uc_sigmask, sizeof m);
	/* Nor in a mask change (sched/signal.c, mask_set), whose new
	 * kernel part is not yet the kernel's: signals raised for t that
	 * it is about to let in would wait on this thread for the next
	 * task, or g0, to take. */
	if (m != w->mask || m != t->kmask || __sched_hold_handlers(t) || t->in_syscall ||
	    t->in_handler || (t->sigmask & 1ULL << (SIGSYNCCALL - 1)))
		return;
	/* One at a time: a request that comes while t is in the pad,
	 * before the pad has taken the rip, is dropped. */
	if (t->preempt_rip) return;
	greg_t *g = uc->uc_mcontext.gregs;
	t->preempt_rip = g[REG_RIP];
	g[REG_RIP] = (uintptr_t)__sched_async_preempt;
}

/* The landing pad's first call, with everything saved: the rip to
 * return to, for its slot (where a debugger's unwind finds it, while
 * __sched_preempt_yield runs).  A new request may land once it is
 * taken: it nests as a call would. */
uintptr_t __sched_preempt_landed(void)
{
	struct task *t = __sched_self();
	uintptr_t rip = t->preempt_rip;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->preempt_rip = 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return rip;
}

void __sched_preempt_yield(void)
{
	struct task *t = __sched_self();
	if (!t || !t->id || !t->worker || __sched_hold_handlers(t)) return;
	struct worker *w = t->worker;
	t->preempt = 0;
	/* Through g0, which collects expired timers, ready fds and the
	 * global queue, where what the monitor saw waiting may be; and t
	 * behind everything runnable, on the global queue, as Go puts a
	 * preempted goroutine. */
	w->tick |= 63;
	w->preempted = 1;
	w->npreempt++;
	__sched_yield();
}

/* The end of the critical section a preemption request found t in
 * (scheduler.h): yield now, if t may (as the landing pad would). */
void __sched_preempt_point(struct task *t)
{
	t->preempt = 0;
	if (!t->id || !t->worker || t->in_handler || t->in_syscall ||
	    __sched_hold_handlers(t))
		return;
	__sched_preempt_yield();
}

