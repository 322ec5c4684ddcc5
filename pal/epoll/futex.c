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

const char __pal_name[] = "epoll";

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

int __pal_futex_wait(volatile void *addr, int val, int priv,
	clockid_t clk, const struct timespec *at, int flags)
{
	struct task *t = __sched_self();
	struct pthread *self = __pthread_self();
	struct timespec rel;
	uint64_t deadline = 0;
	int r;

	if (at && (r = __pal_reltime(clk, at, &rel))) return r;
	if ((flags & PAL_WAIT_CANCEL) && cancel_due(self)) return __cancel();
	if (!t || !t->id) {
		/* Before the scheduler, or in g0: the kernel's futex. */
		if (flags & PAL_WAIT_CANCEL)
			return __pal_syscall_cp(SYS_futex, (long)addr,
				FUTEX_WAIT | (priv ? FUTEX_PRIVATE : 0), val,
				at ? (long)&rel : 0, 0, 0);
		return kernel_wait(addr, val, priv, at ? &rel : 0);
	}
	if (at) {
		uint64_t d = rel.tv_sec * 1000000000ULL + rel.tv_nsec;
		deadline = __sched_now() + (d ? d : 1);
	}

	struct __sched_bucket *b = __sched_lot_lock(addr);
	if (*(volatile int *)addr != val) {
		__sched_lot_unlock(b);
		return -EAGAIN;
	}
	/* A signal sent before the bucket was locked is taken now: the
	 * sender's wakeup (lot remove) would find nothing queued. */
	if (__atomic_load_n(&t->sigpending, __ATOMIC_ACQUIRE)) {
		__sched_lot_unlock(b);
		__sched_deliver(t);
		r = -EINTR;
		goto out;
	}
	__sched_lot_enqueue(b, &t->w, addr, t);
	if (deadline) __sched_timer_arm(t, deadline);
	__sched_park(b);
	if (deadline) __sched_timer_disarm(t);
	r = t->w.result;
out:
	if (r == -EINTR && (flags & PAL_WAIT_CANCEL) && cancel_due(self))
		return __cancel();
	return r;
}

int __pal_futex_wake(volatile void *addr, int cnt, int priv)
{
	int n = 0;
	if (cnt < 0) cnt = INT_MAX;
	if (__sched_self()) n = __sched_lot_wake(addr, cnt, __sched_unpark);
	/* Waiters in the kernel: other processes (shared objects), or this
	 * one before the scheduler started. */
	if (!priv || !__sched_self()) {
		int k = __syscall(SYS_futex, addr, FUTEX_WAKE | (priv ? FUTEX_PRIVATE : 0), cnt);
		if (k > 0) n += k;
	}
	return n;
}

int __pal_futex_requeue(volatile void *from, int nwake, int nmove,
	volatile void *to, int priv)
{
	if (!__sched_self())
		return __syscall(SYS_futex, from, FUTEX_REQUEUE | (priv ? FUTEX_PRIVATE : 0),
			nwake, nmove, to);
	return __sched_lot_requeue(from, nwake, nmove, to, __sched_unpark);
}

/* Priority inheritance needs kernel thread ids in the futex word; tasks
 * have virtual ids, so PI mutexes are not offered under M:N
 * (pthread_mutexattr_setprotocol says ENOTSUP). */
int __pal_futex_lock_pi(volatile void *addr, int priv, const struct timespec *at)
{
	return -ENOTSUP;
}

int __pal_futex_unlock_pi(volatile void *addr, int priv)
{
	return -ENOTSUP;
}
