/*
 * altstack.c - sigaltstack(2) per task.  See proc.c.
 */
#define _GNU_SOURCE
#include "runtime.h"

/* ---- Alternate signal stacks ---------------------------------------------
 *
 * sigaltstack(2) is per thread, and so per task here: t->alt.  The kernel
 * has one per worker thread, which must be the running task's own, since
 * the kernel puts an SA_ONSTACK handler's frame there.  A task without
 * one gets the worker's default: the worker's own small stack (w->alt),
 * where the stack-overflow report runs (install_overflow_report), or,
 * once the program has installed any SA_ONSTACK handler of its own, none
 * at all, so that such a handler runs on the task's stack as on a thread
 * without one.  (On the worker's stack it would be shared: a handler
 * that parked there would have its frames overwritten by the next
 * signal on that worker.)  Cached per worker (kalt_mode, kalt) like the
 * masks, so switches between tasks without one cost a compare.
 *
 * Order: the next context on a worker installs its stack (alt_sync)
 * before it releases the task that left (after_switch): once that one
 * runs elsewhere, and may free its stack, no other thread has it.
 * A task that switches away from a handler running on its own stack
 * (it parks or yields there) blocks every signal in the kernel until
 * the next context's mask is set: in between, its stack is still the
 * kernel's but the stack pointer is no longer on it, and a signal would
 * be put at the top of it, over the handler's frames.  And a handler's
 * sigreturn gives the kernel the ucontext's uc_stack, the worker's at
 * delivery: the trampoline makes it the task's as the handler starts
 * (__sched_alt_enter), gives the task what it holds as the handler
 * returns, as sigreturn does a thread, and then puts the current
 * worker's there (__sched_alt_restored). */

/* Set once (sticky), by the first SA_ONSTACK handler of the program.  Not
 * in S: it outlives a fork, as the handlers do. */
int __sched_alt_onstack;

void __sched_alt_onstack_used(void)
{
	if (!__atomic_load_n(&__sched_alt_onstack, __ATOMIC_RELAXED))
		__atomic_store_n(&__sched_alt_onstack, 1, __ATOMIC_RELAXED);
}

static int alt_same(const stack_t *a, const stack_t *b)
{
	return a->ss_sp == b->ss_sp && a->ss_size == b->ss_size &&
		a->ss_flags == b->ss_flags;
}

/* Give w's thread t's stack (t: 0 or without one: the default). */
void __sched_alt_switch(struct worker *w, struct task *t)
{
	stack_t ss;
	int mode;
	if (t && t->alt.ss_size) {
		if (w->kalt_mode == ALT_TASK && alt_same(&w->kalt, &t->alt)) return;
		ss = t->alt;
		mode = ALT_TASK;
	} else {
		mode = alt_default();
		if (w->kalt_mode == mode) return;
		ss = mode == ALT_OWN ? (stack_t){ .ss_sp = w->alt, .ss_size = ALT_STACK }
			: (stack_t){ .ss_flags = SS_DISABLE };
	}
	/* Fails (EPERM) only on the stack being replaced, which no task
	 * that is switched in can be on: then try again next time. */
	if (__syscall(SYS_sigaltstack, &ss, 0)) mode = ALT_UNKNOWN;
	w->kalt = ss;
	w->kalt_mode = mode;
}

/* The calling task t's stack pointer is on its own alternate stack, as
 * the kernel's on_sig_stack() sees it. */
static int alt_on(struct task *t)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t base = (uintptr_t)t->alt.ss_sp;
	return t->alt.ss_size && !(t->alt.ss_flags & SS_AUTODISARM) &&
		sp > base && sp - base <= t->alt.ss_size;
}

/* switch_out's guard for a task on its own alternate stack (above). */
void __sched_alt_block(struct worker *w, struct task *t)
{
	if (!alt_on(t)) return;
	uint64_t all = ~0ULL;
	__syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, 0, _NSIG/8);
	w->mask = all;
}

int __sched_sigaltstack(struct task *t, const stack_t *ss, stack_t *old)
{
	stack_t o;
	int r = 0;
	if (!t->id) {	/* a handler on g0: the worker's own, resynced later */
		r = __syscall(SYS_sigaltstack, ss, old);
		if (ss && !r) t->worker->kalt_mode = ALT_UNKNOWN;
		return r;
	}
	/* No handler may switch t away meanwhile. */
	__sched_nosig_enter(t);
	struct worker *w = t->worker;
	int on = alt_on(t);
	o = t->alt;
	o.ss_flags = (!o.ss_size ? SS_DISABLE : on ? SS_ONSTACK : 0) |
		(o.ss_flags & SS_AUTODISARM);
	if (ss) {
		int mode = ss->ss_flags & ~SS_AUTODISARM;
		if (on) {
			r = -EPERM;
		} else if (mode != 0 && mode != SS_ONSTACK && mode != SS_DISABLE) {
			r = -EINVAL;
		} else if (mode == SS_DISABLE) {
			t->alt = (stack_t){ .ss_flags = ss->ss_flags };
			__sched_alt_switch(w, t);
		} else {
			/* The kernel checks the size, as for a thread. */
			stack_t n = { .ss_sp = ss->ss_sp, .ss_size = ss->ss_size,
				.ss_flags = ss->ss_flags };
			if (!(r = __syscall(SYS_sigaltstack, &n, 0))) {
				t->alt = n;
				w->kalt = n;
				w->kalt_mode = ALT_TASK;
			}
		}
	}
	__sched_nosig_leave(t);
	if (!r && old) *old = o;
	return r;
}

void __sched_alt_enter(struct task *t, stack_t *uc)
{
	struct worker *w = t->worker;
	/* What the kernel saved: the worker's (t's own, or the default). */
	if (!t->alt.ss_size) {
		*uc = (stack_t){ .ss_flags = SS_DISABLE |
			(t->alt.ss_flags & SS_AUTODISARM) };
		return;
	}
	*uc = t->alt;
	/* SS_AUTODISARM: the kernel disarmed it for the handler. */
	if (t->alt.ss_flags & SS_AUTODISARM) {
		t->alt = w->kalt = (stack_t){ .ss_flags = SS_DISABLE };
		w->kalt_mode = ALT_OFF;
	}
}

void __sched_alt_restored(struct task *t, stack_t *uc)
{
	struct worker *w = t->worker;
	/* sigreturn's restore_altstack(), for t: *uc is what it had when
	 * the signal came (__sched_alt_enter), unless the handler changed
	 * the ucontext; not while on the current one, and only if valid
	 * (the kernel's checks, its errors ignored as there). */
	stack_t n = *uc;
	int mode = n.ss_flags & ~SS_AUTODISARM;
	if (!alt_on(t)) {
		if (mode == SS_DISABLE)
			t->alt = (stack_t){ .ss_flags = n.ss_flags };
		else if ((mode == 0 || mode == SS_ONSTACK) && n.ss_size >= MINSIGSTKSZ)
			t->alt = n;
	}
	__sched_alt_switch(w, t);
	/* The kernel's restore then changes nothing. */
	*uc = w->kalt;
}

