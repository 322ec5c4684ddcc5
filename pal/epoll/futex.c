/* M:N backend: futex waits park the task in the parking lot (sched/lot.c);
 * before the scheduler starts (one thread) they are the kernel's. */
#include <errno.h>
#include <limits.h>
#include <time.h>
#include "pthread_impl.h"
#include "futex.h"
#include "syscall.h"
#include "pal.h"
#include "reltime.h"
#include "scheduler.h"
#include "io.h"

/* Process-shared waits (priv == 0) park in the lot too, so in-process
 * wakes are immediate; a wake from another process is a kernel
 * FUTEX_WAKE the lot cannot see, so such a wait also looks at the word
 * again after a poll interval that doubles from MIN to MAX while the word
 * stays the same (a spurious wakeup, which every futex user allows).
 * The thread-list lock is priv == 0 for the kernel's CLONE_CHILD_CLEARTID
 * wake only, which the scheduler does itself: no polling there. */
#define SHARED_POLL_MIN_NS 50000ULL
#define SHARED_POLL_MAX_NS 5000000ULL

static long no_cancel(void) { return -ECANCELED; }
weak_alias(no_cancel, __cancel);
hidden long __cancel(void);

static int kernel_wait(volatile void *addr, int val, int priv,
	const struct timespec *rel)
{
	int op = FUTEX_WAIT | (priv ? FUTEX_PRIVATE : 0);
	return __syscall(SYS_futex, addr, op, val, rel);
}

/* A pending cancellation request acts at a cancellation point, as in
 * musl's __syscall_cp_c. */
static int cancel_due(struct pthread *self)
{
	return self->cancel && self->canceldisable != PTHREAD_CANCEL_DISABLE;
}

/* Park the calling task t while *addr == val, until woken, until the
 * deadline (ns, CLOCK_MONOTONIC; 0: none), or until a signal it does not
 * block (or, with PAL_WAIT_CANCEL, a cancel request) arrives; see io.h. */
static int park(struct task *t, volatile void *addr, int val,
	uint64_t deadline, int flags);

/* In a critical section (scheduler.h) from the bucket lock to the end of
 * the wait: a handler that came meanwhile runs after it. */
int __pal_park(volatile void *addr, int val, uint64_t deadline, int flags)
{
	struct task *t = __sched_self();
	__sched_nosig_enter(t);
	/* From here no handler runs on t until the wait ends: one that ran
	 * before is seen here (io.h, PARK_SIGRAN). */
	int r = (t->sigran & (flags >> 8)) ? -EINTR :
		park(t, addr, val, deadline, flags);
	__sched_nosig_leave(t);
	if (r == -EINTR && (flags & PAL_WAIT_CANCEL) && cancel_due(__pthread_self()))
		return (flags & PARK_CANCEL_LATER) ? -ECANCELED : __cancel();
	return r;
}

long __pal_cancel_act(void)
{
	return __cancel();
}

/* Queued, the last check before parking: the word is still val; or,
 * for a mutex waiter (PAL_WAIT_LOCK, pal.h), the word has an owner and
 * now the waiters bit, which the owner's unlock will see. */
static int still_waiting(volatile void *addr, int val, int flags)
{
	volatile int *w = addr;
	if (!(flags & PAL_WAIT_LOCK)) return *w == val;
	for (;;) {
		int v = *w, own = v & 0x3fffffff;
		if (!own || own == 0x3fffffff) return 0;
		if (v < 0 || a_cas(w, v, v | 0x80000000) == v) return 1;
	}
}

static int park(struct task *t, volatile void *addr, int val,
	uint64_t deadline, int flags)
{
	struct pthread *self = __pthread_self();
	int r;

	struct __sched_bucket *b = __sched_lot_lock(addr);
	/* Queued before the word is read: a waker may look at the bucket
	 * without its lock (lot.h). */
	__sched_lot_prepare(&t->w, addr);
	__sched_lot_enqueue(b, &t->w, addr, t);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!still_waiting(addr, val, flags)) {
		__sched_lot_remove_locked(b, &t->w, 0);
		__sched_lot_unlock(b);
		return -EAGAIN;
	}
	/* A signal or cancel request sent before the bucket was locked is
	 * taken now: the sender's wakeup (lot remove) would find nothing
	 * queued.  prepare orders this check against the sender's. */
	/* Only in the outermost critical section: a wait nested in one
	 * (a lock taken inside spawn) waits on, since the signal is not
	 * raised before that section ends. */
	if ((t->nosig == 1 &&
	     (__atomic_load_n(&t->sigpending, __ATOMIC_SEQ_CST) & ~t->sigmask)) ||
	    ((flags & PAL_WAIT_CANCEL) && cancel_due(self))) {
		__sched_lot_remove_locked(b, &t->w, 0);
		__sched_lot_unlock(b);
		r = -EINTR;	/* __pal_park's leave raises the signals */
	} else {
		if (deadline) __sched_timer_arm(t, deadline);
		__sched_park(b);
		if (deadline) __sched_timer_disarm(t);
		r = t->w.result;
	}
	return r;
}

int __pal_futex_wait(volatile void *addr, int val, int priv,
	clockid_t clk, const struct timespec *at, int flags)
{
	struct task *t = __sched_self();
	struct pthread *self = __pthread_self();
	struct timespec rel;
	uint64_t deadline = 0;
	int r, polled = 0;

	if (at && (r = __pal_reltime(clk, at, &rel))) return r;
	if ((flags & PAL_WAIT_CANCEL) && cancel_due(self)) return __cancel();
	if (!t || !t->id) {
		if (flags & PAL_WAIT_LOCK) {	/* musl's mutex wait, as native */
			int w = val | 0x80000000;
			a_cas(addr, val, w);
			val = w;
		}
		/* Before the scheduler, or in g0: the kernel's futex. */
		if (flags & PAL_WAIT_CANCEL)
			return __pal_syscall_cp(SYS_futex, (long)addr,
				FUTEX_WAIT | (priv ? FUTEX_PRIVATE : 0), val,
				at ? (long)&rel : 0, 0, 0);
		return kernel_wait(addr, val, priv, at ? &rel : 0);
	}
	if (at) deadline = __sched_deadline_after(rel.tv_sec, rel.tv_nsec);
	if (!priv && addr != &__thread_list_lock) {
		if (!t->shared_poll_ns) t->shared_poll_ns = SHARED_POLL_MIN_NS;
		uint64_t poll = __sched_now() + t->shared_poll_ns;
		if (!deadline || poll < deadline) {
			deadline = poll;
			polled = 1;
		}
	}
	r = __pal_park(addr, val, deadline, flags);
	if (r == -EAGAIN) {
		t->shared_poll_ns = SHARED_POLL_MIN_NS;
	} else if (polled) {
		if (r != -ETIMEDOUT) {
			t->shared_poll_ns = SHARED_POLL_MIN_NS;
		} else {
			if (t->shared_poll_ns < SHARED_POLL_MAX_NS)
				t->shared_poll_ns *= 2;
			r = 0;
		}
	}
	return r;
}

int __pal_futex_wake(volatile void *addr, int cnt, int priv)
{
	int n = 0;
	if (cnt < 0) cnt = INT_MAX;
	struct task *t = __sched_self();
	if (t) {
		__sched_nosig_enter(t);
		n = __sched_lot_wake(addr, cnt, __sched_unpark);
		__sched_nosig_leave(t);
	}
	/* Waiters in the kernel: other processes (shared objects), or this
	 * one before the scheduler started.  Not on the thread-list lock,
	 * shared only for CLONE_CHILD_CLEARTID's sake: tasks wait for it in
	 * the lot (the wait above), and no other process does. */
	if (!t || (!priv && addr != &__thread_list_lock)) {
		int k = __syscall(SYS_futex, addr, FUTEX_WAKE | (priv ? FUTEX_PRIVATE : 0), cnt);
		if (k > 0) n += k;
	}
	return n;
}

int __pal_futex_wake_lock(volatile void *addr, int priv)
{
	struct task *t = __sched_self();
	if (!t || !priv) return __pal_futex_wake(addr, 1, priv);
	t->baton = 0;	/* an unlock: any retry of ours is long done */
	__sched_nosig_enter(t);
	int n = __sched_lot_wake_lock(addr, __sched_unpark_lock);
	__sched_nosig_leave(t);
	return n;
}

int __pal_futex_requeue(volatile void *from, int nwake, int nmove,
	volatile void *to, int priv)
{
	struct task *t = __sched_self();
	if (!t)
		return __syscall(SYS_futex, from, FUTEX_REQUEUE | (priv ? FUTEX_PRIVATE : 0),
			nwake, nmove, to);
	__sched_nosig_enter(t);
	int r = __sched_lot_requeue(from, nwake, nmove, to, __sched_unpark);
	__sched_nosig_leave(t);
	return r;
}

/* PI futexes (futex(2) FUTEX_LOCK_PI / FUTEX_UNLOCK_PI word protocol:
 * owner id | FUTEX_WAITERS | FUTEX_OWNER_DIED) in the lot: the owner id
 * is the task's virtual id, and unlock hands the lock to the oldest
 * waiter by writing its id into the word before waking it.  There is no
 * priority to inherit between tasks on the same workers, so the "PI" is
 * the protocol and the FIFO handoff; process-shared PI mutexes used
 * across processes would need kernel tids (the fork child has them). */
#define PI_TID 0x3fffffff
#define PI_WAITERS 0x80000000
#define PI_DIED 0x40000000

static int lock_pi(volatile void *addr, int priv, const struct timespec *at);
static int unlock_pi(volatile void *addr, int priv);

int __pal_futex_lock_pi(volatile void *addr, int priv, const struct timespec *at)
{
	struct task *t = __sched_self();
	__sched_nosig_enter(t);
	int r = lock_pi(addr, priv, at);
	__sched_nosig_leave(t);
	return r;
}

int __pal_futex_unlock_pi(volatile void *addr, int priv)
{
	struct task *t = __sched_self();
	__sched_nosig_enter(t);
	int r = unlock_pi(addr, priv);
	__sched_nosig_leave(t);
	return r;
}

static int lock_pi(volatile void *addr, int priv, const struct timespec *at)
{
	struct task *t = __sched_self();
	volatile int *p = addr;
	struct timespec rel;
	uint64_t deadline = 0;
	int tid, r, woken = 0;

	if (!t || !t->id)
		return __syscall(SYS_futex, addr, FUTEX_LOCK_PI | (priv ? FUTEX_PRIVATE : 0), 0, at);
	if (at) {
		/* The deadline is absolute, CLOCK_REALTIME (futex(2)). */
		if ((r = __pal_reltime(CLOCK_REALTIME, at, &rel))) return r;
		deadline = __sched_deadline_after(rel.tv_sec, rel.tv_nsec + 1);
	}
	tid = t->tcb->tid;
	for (;;) {
		struct __sched_bucket *b = __sched_lot_lock(addr);
		int v = *p, owner = v & PI_TID;
		if (owner == tid) {
			__sched_lot_unlock(b);
			return woken ? 0 : -EDEADLK;
		}
		if (!owner) {
			int n = tid | (v & PI_DIED) |
				(__sched_lot_has_waiters(b, addr) ? PI_WAITERS : 0);
			int ok = a_cas(p, v, n) == v;
			__sched_lot_unlock(b);
			if (ok) return 0;
			continue;
		}
		if (!(v & PI_WAITERS) && a_cas(p, v, v | PI_WAITERS) != v) {
			__sched_lot_unlock(b);
			continue;
		}
		__sched_lot_enqueue(b, &t->w, addr, t);
		if (deadline) __sched_timer_arm(t, deadline);
		__sched_park(b);
		if (deadline) __sched_timer_disarm(t);
		if (t->w.result == -ETIMEDOUT) return -ETIMEDOUT;
		/* A signal: leave the critical section so that it runs
		 * (the mutex code retries, as after the kernel's EINTR). */
		if (t->w.result == -EINTR) return -EINTR;
		woken = 1;
	}
}

static int unlock_pi(volatile void *addr, int priv)
{
	struct task *t = __sched_self();
	volatile int *p = addr;
	struct __sched_waiter *w;
	int more;

	if (!t || !t->id)
		return __syscall(SYS_futex, addr, FUTEX_UNLOCK_PI | (priv ? FUTEX_PRIVATE : 0));
	struct __sched_bucket *b = __sched_lot_lock(addr);
	if ((*p & PI_TID) != t->tcb->tid) {
		__sched_lot_unlock(b);
		return -EPERM;
	}
	if ((w = __sched_lot_dequeue(b, addr, &more))) {
		struct task *next = w->task;
		a_store(p, next->tcb->tid | (more ? PI_WAITERS : 0));
		__sched_lot_unlock(b);
		__sched_unpark(next);
	} else {
		a_store(p, 0);
		__sched_lot_unlock(b);
	}
	return 0;
}
