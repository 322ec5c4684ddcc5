#include <pthread.h>
#include <time.h>
#include <errno.h>
#include "futex.h"
#include "syscall.h"
#include "pthread_impl.h"

static volatile int dummy = 0;
weak_alias(dummy, __eintr_valid_flag);

static int timedwait(volatile int *addr, int val,
	clockid_t clk, const struct timespec *at, int priv, int flags)
{
	int r = -__pal_futex_wait(addr, val, priv, clk, at, flags);
	if (r != EINTR && r != ETIMEDOUT && r != ECANCELED && r != EINVAL)
		r = 0;
	/* Mitigate bug in old kernels wrongly reporting EINTR for non-
	 * interrupting (SA_RESTART) signal handlers. This is only practical
	 * when NO interrupting signal handlers have been installed, and
	 * works by sigaction tracking whether that's the case. */
	if (r == EINTR && !__eintr_valid_flag) r = 0;

	return r;
}

int __timedwait_cp(volatile int *addr, int val,
	clockid_t clk, const struct timespec *at, int priv)
{
	return timedwait(addr, val, clk, at, priv, PAL_WAIT_CANCEL);
}

int __timedwait(volatile int *addr, int val,
	clockid_t clk, const struct timespec *at, int priv)
{
	int cs, r;
	__pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cs);
	r = timedwait(addr, val, clk, at, priv, PAL_WAIT_CANCEL);
	__pthread_setcancelstate(cs, 0);
	return r;
}

/* weft: a mutex waiter's wait (pal.h, PAL_WAIT_LOCK): r is the lock word
 * as last read, with an owner; sets the waiters bit and waits while the
 * word has an owner.  Not a cancellation point. */
int __timedwait_lock(volatile int *addr, int r,
	clockid_t clk, const struct timespec *at, int priv)
{
	return timedwait(addr, r, clk, at, priv, PAL_WAIT_LOCK);
}
