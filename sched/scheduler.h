/*
 * scheduler.h - the M:N scheduler's entities and its interface to the epoll
 * backend (pal/epoll/).  The design essay is at the top of sched/proc.c;
 * the scheduler's files, one per concern, are listed below it.
 */
#ifndef WEFT_SCHEDULER_H
#define WEFT_SCHEDULER_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include "lot.h"
#include "runq.h"
#include "stack.h"

#ifndef hidden
#define hidden __attribute__((__visibility__("hidden")))
#endif

struct __pthread;
struct worker;

/* Task states; transitions go through set_state() (runtime.h). */
enum {
	T_RUNNABLE = 1,	/* in a run queue; owned by the queue */
	T_RUNNING,	/* on t->worker; owned by that worker */
	T_PARKED,	/* waiter queued; owned by whoever removes the waiter */
	T_DEAD,		/* exited; owned by the worker that switched away */
};

struct task {
	void *sp;			/* saved context; valid unless RUNNING */
	void *tp;			/* thread pointer: TP_ADJ(tcb); constant */
	struct __pthread *tcb;		/* musl's TCB; constant */
	struct worker *worker;		/* set by the worker that runs it */
	int state;			/* see above */
	int id;				/* task id (gettid), < 2^30: the main
					 * task's is the pid, others' are from
					 * SCHED_ID_BASE (runtime.h); g0: 0;
					 * constant */
	struct task *next;		/* global run queue link; its lock */
	struct __sched_waiter w;	/* lot waiter while parked */
	uint64_t deadline;		/* ns, CLOCK_MONOTONIC; timer lock */
	int heap_idx;			/* index in the timer heap, -1: none */
	unsigned vg_stack;		/* its stack's Valgrind id (vg.h); spawn
					 * sets, bury drops */
	unsigned vg_alt;		/* Valgrind id of its alternate stack
					 * as vg_alt_ss was, 0: none (proc.c,
					 * vg_alt_register); bury drops it */
	stack_t vg_alt_ss;
	uintptr_t preempt_rip;		/* where asynchronous preemption
					 * interrupted it, from the handler to
					 * the landing pad; 0: none (preempt.c) */
	volatile int timer_busy;	/* the expiry path is using w */
	uint64_t sigpending;		/* signals to raise when it runs */
	uint32_t rtcount[33];		/* how many of each real-time one */
	uint64_t sigmask;		/* its signal mask (kernel sigset) */
	uint64_t kmask;			/* the part of it the kernel must have
					 * while it runs (the rest: blocks of
					 * __pal_sigmask_internal); the task */
	int in_handler;			/* depth of program handlers running */
	int nosig;			/* critical-section depth (below); the task */
	int klock;			/* orders in_syscall against kill */
	int in_syscall;			/* in a blocking syscall; klock */
	uint64_t shared_poll_ns;	/* pal/epoll/futex.c; the task */
	volatile void *baton;		/* woken by a lock's release and not
					 * yet past its retry (lot.h,
					 * __sched_lot_wake_lock): the lock
					 * word, else 0; the task */
	int sigran;			/* SIGRAN_*: handlers run; the task */
	int sigran_ends;		/* __sched_sigwait ends (-EINTR) once
					 * sigran has one of these: a handler
					 * that ran just before the park; the
					 * task (__pal_sigsuspend) */
	volatile int preempt;		/* a preemption request came while it
					 * was in a critical section: the
					 * outermost __sched_nosig_leave yields
					 * (preempt.c); the task and
					 * its worker's signal handler */
	void *exit_map;			/* unmap after the task's last switch */
	size_t exit_map_size;
	volatile int *exited;		/* store 0 (DT_EXITED) after it */
	int timer_sig;			/* a pending SIGTIMER came from its
					 * timer (SI_TIMER): __sched_timer_* */
	stack_t alt;			/* its sigaltstack as sigaltstack(2)
					 * stores it (ss_size 0: none); in the
					 * kernel while it runs (altstack.c,
					 * "Alternate signal stacks"); the task */
	int listed;			/* in the task table (signal.c,
					 * __sched_sig_list); the task */
	int mset;			/* where cmask is counted: its entry + 1
					 * in the mask table, -1: the per-signal
					 * counts, 0: not counted (signal.c) */
	int mset_w;			/* whose count of that entry: a worker's
					 * index + 1, 0: the global one */
	uint64_t cmask;			/* its mask as the program set it (no
					 * internal window, no handler's mask):
					 * what the open set counts; the task */
	volatile int *sig_word;		/* a read's readiness counter while it
					 * waits: a signal it blocks bumps it
					 * (a signalfd may be read); the task */
	int (*start)(void *);		/* entry, run by the first switch */
	void *arg;
};

/* t->sigran: __sched_deliver ORs in what the signals it raised did, so
 * that a wait that returned -EINTR can tell (signal(7)) whether to end
 * the call (a handler without SA_RESTART) or go on (a restarting
 * handler, or no handler at all: ignored, or stopped and continued).
 * The waiting code clears it before it parks. */
/* si_errno of a real-time signal the scheduler raised again on a
 * worker's thread as SI_USER (signal.c, reraise): the trampoline reports
 * it as the SI_TKILL it stands for. */
#define SCHED_RERAISE 0x57656674
/* The same for any signal a worker's g0 held, raised again on its thread
 * (__sched_g0_raise), maybe while a task runs there: the process's. */
#define SCHED_RERAISE_G0 0x57656675

#define SIGRAN_HANDLER 1	/* a handler ran */
#define SIGRAN_NORESTART 2	/* one of them lacks SA_RESTART */

/* Start the scheduler if it is not running: the caller (the only thread)
 * becomes the main task on worker 0.  0 or -errno. */
hidden int __sched_start(void);

/* The calling thread's task, or 0 before the scheduler started. */
hidden struct task *__sched_self(void);

/* The main task's TCB (musl's initial thread), 0 before the scheduler
 * started.  It stays in musl's thread list until the main thread exits
 * (pthread_exit), which then sets its tid to 0. */
hidden struct __pthread *__sched_main_tcb(void);

/*
 * SIGEV_THREAD timers (pal.h, __pal_timer_*).  A timer's notification
 * task t registers r (memory it keeps until it detaches); its kernel
 * timer sends SIGTIMER to the monitor thread, with sigev_value *value
 * naming r, and the monitor sets t->timer_sig and sends t SIGTIMER, if
 * t->timer_sig was clear.  Attach returns the monitor's kernel tid.
 * Kill sends SIGTIMER (timer_sig untouched) to the task of TCB td if it
 * is still attached.  All under one spinlock; not async-signal-safe.
 */
struct __sched_timer {
	struct __sched_timer *next;
	struct __pthread *td;
	struct task *t;
	uintptr_t cookie;
};
hidden int __sched_timer_attach(struct __sched_timer *r, struct __pthread *td,
	union sigval *value);
hidden void __sched_timer_detach(struct __sched_timer *r);
hidden void __sched_timer_kill(struct __pthread *td);

/* Make a task for td running start(arg) on stack (top), runnable but
 * not queued: __sched_run queues it.  Returns its id, or -EAGAIN. */
hidden int __sched_spawn(struct __pthread *td, int (*start)(void *),
	void *arg, void *stack);

/* A task's mapping, as __sched_stack_get and __sched_stack_put
 * (stack.h), through the caller's worker's cache (none on the monitor
 * or before the scheduler runs).  In a critical section. */
hidden int __sched_stack_take(struct __sched_stack *s, size_t size,
	size_t guard, size_t zero);
hidden void __sched_stack_give(struct __sched_stack *s);

/* Let t, made by __sched_spawn, run; once.  From a task (in its own
 * critical section): t waits in the caller's worker's runnext, and the
 * caller goes on (proc.c).  Else t is queued.  Either way an idle
 * worker is woken for it. */
hidden void __sched_run(struct task *t);

/* Park the calling task, whose waiter is queued in b (locked); b is
 * unlocked after the task's context is saved.  Returns when unparked. */
hidden void __sched_park(struct __sched_bucket *b);

/* Make a parked task runnable (the lot's unpark callback). */
hidden void __sched_unpark(void *task);
hidden void __sched_unpark_lock(void *task);

/* The same for the netpoller: the task queues behind those already
 * runnable (the global queue), so tasks woken by I/O run in FIFO order. */
hidden void __sched_unpark_io(void *task);

/* Arm / disarm the caller's deadline (ns, CLOCK_MONOTONIC) for its wait:
 * on expiry its waiter is removed with -ETIMEDOUT.  Arm with the bucket
 * locked and the waiter queued; disarm after the wait, always. */
hidden void __sched_timer_arm(struct task *t, uint64_t deadline);
hidden void __sched_timer_disarm(struct task *t);

/* Yield the caller's worker to other runnable tasks. */
hidden void __sched_yield(void);

/* End the calling task; unmap [map, map+size) after leaving its stack. */
hidden _Noreturn void __sched_exit(void *map, size_t size, volatile int *exited);

/* __pal_spin_ok (pal.h) under M:N: 1 if the caller is not a task, or
 * another worker is awake (not asleep in futex or netpoller) and the
 * caller's worker has no queued task; else 0. */
hidden int __sched_spin_ok(void);

/* Raise sig in task t: now if t is the caller, else when t next runs,
 * waking it if it is parked (its wait returns -EINTR). */
hidden int __sched_kill(struct task *t, int sig);

/* Take one signal of set pending on t (as sigtimedwait does): returns
 * its number, or 0 if none. */
hidden int __sched_sig_take(struct task *t, uint64_t set);

/* Raise, on the calling task t, the signals sent to it meanwhile that
 * its mask lets through (the others stay pending on the task). */
hidden void __sched_deliver(struct task *t);
/* The same from the kick's handler (SIGSYNCCALL, every signal blocked):
 * at most one that runs a handler; its return kicks for the next.  Only
 * what kernel, the mask the handler's return puts back, lets in: what it
 * blocks would wait on the worker's thread, and if t switched away
 * before unblocking it (preempted in a mask change), the next context
 * there would take t's signal. */
hidden void __sched_deliver_kick(struct task *t, uint64_t kernel);

/* From the trampoline, as a program handler starts on the running task
 * t: h is the mask the kernel gave the worker's thread for it (the
 * interrupted mask, the handler's sa_mask and, without SA_NODEFER, the
 * signal), which is t's until the handler returns: if the handler
 * switches t away, the next task's mask goes in the kernel, and h again
 * wherever t runs on. */
hidden void __sched_handler_enter(struct task *t, uint64_t h);

/* From the trampoline that runs every program handler (pal/epoll/
 * signal.c), as the handler returns on the task t: m and soft are t's
 * kmask and the rest of its sigmask as the interrupted code had them,
 * which become t's again; kernel is the mask its sigreturn puts on the
 * worker's thread (the ucontext's), which the worker's cache records.
 * The two differ when the signal came in another trampoline's head or
 * in the middle of a mask change. */
hidden void __sched_mask_restored(struct task *t, uint64_t m, uint64_t soft,
	uint64_t kernel);

/* The calling task t takes m as its signal mask, then raises what m
 * unblocks that is pending on it.  how: MASK_KERNEL, the kernel gets m
 * too; MASK_LAZY, the same unless m only adds blocks to the kernel's
 * (__pal_sigmask_internal's windows); MASK_IN_KERNEL, the caller has
 * already set m in the kernel. */
enum { MASK_KERNEL, MASK_LAZY, MASK_IN_KERNEL };
hidden void __sched_mask_set(struct task *t, uint64_t m, int how);

/* For a wait with a signal mask (sigsuspend, ppoll, pselect,
 * epoll_pwait): the calling task t clears t->sigran, takes m (less
 * SIGKILL and SIGSTOP) as its mask, in the kernel too, and raises what m
 * lets through that is pending; returns its old mask, which the caller
 * puts back with __sched_mask_set(t, old, MASK_KERNEL) after the wait.
 * t->sigran & SIGRAN_HANDLER then says whether a handler ran already. */
hidden uint64_t __sched_mask_wait(struct task *t, uint64_t m);

/* 1 if a program handler must not run on t now, and is deferred with
 * __sched_defer: t is in a critical section (above), or its worker is
 * switching tasks (from a park, yield or exit until the next task has
 * finished it).  t: the caller's own task. */
hidden int __sched_hold_handlers(struct task *t);

/* Scheduler critical sections.  From enter to leave the calling context
 * t (a task, or a worker's g0) may hold scheduler spinlocks (lot buckets,
 * queues, the stack pool, netpoller entries) or be using its worker's
 * run queue, so a program handler that arrives meanwhile must not run
 * on it: the handler could wait for a lock t holds, or switch t away
 * (sched_yield, a lock it must wait for) in the middle.  The trampoline
 * (pal/epoll/signal.c) leaves such a signal pending on t, and the
 * outermost leave raises it.  They nest; a park inside one keeps it
 * across the switch.  t == 0 (no scheduler yet): nothing to do. */
static inline void __sched_nosig_enter(struct task *t)
{
	if (!t) return;
	t->nosig++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

hidden void __sched_preempt_point(struct task *t);

static inline void __sched_nosig_leave(struct task *t)
{
	if (!t) return;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (--t->nosig) return;
	if (__atomic_load_n(&t->sigpending, __ATOMIC_RELAXED) & ~t->sigmask)
		__sched_deliver(t);
	if (t->preempt) __sched_preempt_point(t);
}

/* A worker's g0 runs scheduler code (queues, buckets, timers) almost all
 * the time, and a program handler there (a sem_post, say) could find a
 * run queue or a lock half-way: so a handler that arrives on g0 is left
 * pending on g0 (__sched_g0_defer returns 1), except while g0 is idle,
 * blocked in the kernel (__sched_g0_idle(1) .. (0), the calling g0's
 * worker only).  What was left is raised again just before g0 next
 * blocks, or as soon as the next task runs on the worker.  g: the
 * caller's own context; 0 if it is not a g0. */
hidden void __sched_g0_idle(int on);
hidden int __sched_g0_defer(struct task *g, int sig);
/* A handler on the idle g0 g has added bits to the mask its thread
 * returns to (the ucontext's): the worker's record of its kernel mask
 * takes them too, so that the next task's mask is set in full. */
hidden void __sched_g0_block(struct task *g, uint64_t bits);
/* 1 if g is a g0 on which __sched_g0_defer would leave a signal. */
hidden int __sched_g0_busy(struct task *g);

/* Every live task is listed (signal.c) from its spawn (the main task:
 * from the scheduler's start) until its exit, and its mask as the
 * program last set it is counted in the open set: what some live task
 * lets through, which idle workers and the monitor let in, so that a
 * process-directed signal reaches the kernel whenever some task would
 * take it (and not otherwise).  hold finds a listed task other than
 * skip that lets sig through (its current mask; failing that, its
 * counted one, which an internal window or a handler's mask hides for a
 * moment), round robin as Linux's complete_signal looks, and keeps it
 * from exiting until release(*slot); 0 if none.  hold and release are
 * async-signal-safe. */
hidden struct task *__sched_sig_hold(int sig, struct task *skip, int *slot);
hidden void __sched_sig_release(int slot);
/* Take the exiting task t (the caller) off the list and out of the open
 * set, waiting for the holds on it to be released: after it no hold
 * finds t.  __sched_exit does it; a backend may do it first, to hand on
 * what was routed to t knowing that nothing more will be
 * (pal/epoll/signal.c, __pal_sig_exit).  Idempotent. */
hidden void __sched_sig_unlist(struct task *t);

/* The main task (the program's initial thread), or 0 before the
 * scheduler starts or once it has exited: where a process-directed
 * signal goes first (pal/epoll/signal.c, Linux's complete_signal). */
hidden struct task *__sched_main(void);

/* A program handler for sig reached the running task t while t->sigmask
 * blocks sig (a window of __pal_sigmask_internal, which leaves the
 * kernel's mask alone): keep it pending on t, to be raised when t
 * unblocks it. */
hidden void __sched_defer(struct task *t, int sig);


/*
 * A backend's I/O engine with queues of its own per worker (pal/uring:
 * one io_uring per worker, whose submissions are batched).  Workers are
 * named by slot, 0 .. __sched_slots() - 1: the workers started with the
 * scheduler, whose threads live as long as the process.  Spares (which
 * retire, and whose thread then exits: the kernel cancels the io_uring
 * requests a thread submitted when it exits) have none; the hooks are
 * called with their index, which is >= __sched_slots().
 *   round(slot)  from the worker's g0 at each round of its search for a
 *                task (before it looks at its queues, and so before it
 *                sleeps): submit what tasks queued there and collect what
 *                completed; returns how many tasks it made runnable
 *                (__sched_unpark_io).
 *   flush(slot)  submit what is queued on the worker, from any thread:
 *                called when a task is about to block the worker in a
 *                syscall (__sched_syscall_enter), and by the monitor when
 *                the worker has run one task for a time slice, so that
 *                queued work never waits for a busy or blocked worker.
 * Set once, by the first task that needs it; the scheduler reads the
 * pointer at each use.
 */
struct __sched_io_hooks {
	int (*round)(int slot);
	void (*flush)(int slot);
};
hidden void __sched_set_io_hooks(const struct __sched_io_hooks *h);

/* The slot of the worker that runs the calling task t, -1 on a spare
 * (in a critical section: t stays there until it leaves it), and how
 * many slots there are; constant while the scheduler runs. */
hidden int __sched_slot(struct task *t);
hidden int __sched_slots(void);

/* Bool: WEFT_TRACE lists io (docs/debugging.md): a backend reports, on
 * stderr, how it does I/O (pal/uring: its rings, batches, fallback). */
hidden int __sched_trace_io(void);

/* Around a blocking syscall made by the calling task t: while it is in
 * one, a signal it does not block is sent by kill to its worker's kernel
 * thread, so that it interrupts the call as it would a thread's.  enter
 * first raises what is already pending and deliverable. */
hidden void __sched_syscall_enter(struct task *t);
hidden void __sched_syscall_leave(struct task *t);

/* Around a non-blocking read try by the calling task t (in a critical
 * section): signals pending on t that its kernel mask blocks are raised
 * on its worker's thread, where a signalfd read sees them (signalfd(2)
 * reads the calling thread's pending signals), and those left there
 * after the try are taken back onto t.  lend returns what reclaim takes
 * back.  For signalfd; a task waiting for a read sets t->sig_word so
 * that such a signal ends its wait (kill_task). */
hidden uint64_t __sched_sig_lend(struct task *t);
hidden void __sched_sig_reclaim(struct task *t, uint64_t lent);

/* Park the calling task t until a signal in set (kernel sigset) is
 * pending on it, a signal it does not block arrives, or the deadline (ns,
 * CLOCK_MONOTONIC; 0: none) passes.  Returns 0 (a signal in set is
 * pending on t), -EINTR or -ETIMEDOUT.  For sigtimedwait. */
hidden int __sched_sigwait(struct task *t, uint64_t set, uint64_t deadline);

/* Run func(ctx) on every worker's kernel thread but the caller's, each
 * from a signal handler, all held until every one has run it (musl's
 * __synccall contract); the caller runs it itself in between.  The caller
 * has all signals blocked and holds the thread-list lock. */
hidden void __sched_synccall(void (*func)(void *), void *ctx);

/* In a fork child: forget the parent's scheduler (the child has one
 * kernel thread); the caller stops being a task.  A later
 * pthread_create starts a fresh scheduler. */
hidden void __sched_fork_child(void);

/* sigaltstack(2) for the calling task t (pal.h: __pal_sigaltstack):
 * set (ss) and get (old) t's own alternate signal stack, which is the
 * kernel's for t's worker whenever t runs.  0 or -errno. */
hidden int __sched_sigaltstack(struct task *t, const stack_t *ss, stack_t *old);

/* From the trampoline, as a program handler starts on task t (enter)
 * and returns (restored): *uc is the ucontext's uc_stack.  The kernel
 * saved its worker's there and sigreturn restores it: enter makes it
 * t's own (as a thread's handler sees it); restored gives t, as
 * sigreturn does a thread, what it holds then (undoing a change made
 * in the handler) and puts back what t's current worker has, since
 * the handler may have moved to another worker. */
hidden void __sched_alt_enter(struct task *t, stack_t *uc);
hidden void __sched_alt_restored(struct task *t, stack_t *uc);

/* A program handler with SA_ONSTACK was installed (pal/epoll/signal.c):
 * from now on tasks without an alternate stack of their own run with
 * none at all, not their worker's (altstack.c). */
hidden void __sched_alt_onstack_used(void);

/* Monotonic clock, ns. */
hidden uint64_t __sched_now(void);

/* The deadline (ns, CLOCK_MONOTONIC) sec seconds and nsec ns from now,
 * at least 1 ns away; 0 (none: wait until woken) if it lies past 2^63
 * ns, some 292 years, so that a "forever" timeout such as {LONG_MAX, 0}
 * never wraps into the past.  sec, nsec >= 0. */
static inline uint64_t __sched_deadline_after(uint64_t sec, uint64_t nsec)
{
	uint64_t now = __sched_now(), lim = (1ULL << 63) - now;
	if (sec >= lim / 1000000000ULL) return 0;
	uint64_t d = sec * 1000000000ULL + nsec;
	if (d >= lim) return 0;
	return now + (d ? d : 1);
}

#endif
