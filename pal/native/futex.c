/* Native backend: futex waits and wakes are the futex(2) syscall, exactly
 * as musl 1.2.3 issues them (x86_64: no SYS_futex_time64). */
#include <errno.h>
#include <limits.h>
#include <time.h>
#include "pthread_impl.h"
#include "futex.h"
#include "syscall.h"
#include "pal.h"
#include "reltime.h"

const char __pal_name[] = "native";

/* Kernels without FUTEX_PRIVATE_FLAG answer ENOSYS; retry shared. */
static int futex4(volatile void *addr, int op, int val,
	const struct timespec *to, int cp)
{
	long r;
	if (cp) r = __pal_syscall_cp(SYS_futex, (long)addr, op, val, (long)to, 0, 0);
	else r = __syscall(SYS_futex, addr, op, val, to);
	if (r != -ENOSYS || !(op & FUTEX_PRIVATE)) return r;
	op &= ~FUTEX_PRIVATE;
	if (cp) return __pal_syscall_cp(SYS_futex, (long)addr, op, val, (long)to, 0, 0);
	return __syscall(SYS_futex, addr, op, val, to);
}

int __pal_futex_wait(volatile void *addr, int val, int priv,
	clockid_t clk, const struct timespec *at, int flags)
{
	struct timespec to, *top = 0;

	if (flags & PAL_WAIT_LOCK) {	/* musl's mutex wait */
		int t = val | 0x80000000;
		a_cas(addr, val, t);
		val = t;
	}
	if (at) {
		int r = __pal_reltime(clk, at, &to);
		if (r) return r;
		top = &to;
	}
	return futex4(addr, FUTEX_WAIT | (priv ? FUTEX_PRIVATE : 0), val, top,
		flags & PAL_WAIT_CANCEL);
}

int __pal_futex_wake(volatile void *addr, int cnt, int priv)
{
	if (cnt < 0) cnt = INT_MAX;
	return futex4(addr, FUTEX_WAKE | (priv ? FUTEX_PRIVATE : 0), cnt, 0, 0);
}

int __pal_futex_wake_lock(volatile void *addr, int priv)
{
	return __pal_futex_wake(addr, 1, priv);
}

int __pal_futex_requeue(volatile void *from, int nwake, int nmove,
	volatile void *to, int priv)
{
	int op = FUTEX_REQUEUE | (priv ? FUTEX_PRIVATE : 0);
	long r = __syscall(SYS_futex, from, op, nwake, nmove, to);
	if (r != -ENOSYS || !priv) return r;
	return __syscall(SYS_futex, from, FUTEX_REQUEUE, nwake, nmove, to);
}

/* PI requests go straight to the kernel, as musl issues them. */
int __pal_futex_lock_pi(volatile void *addr, int priv,
	const struct timespec *at)
{
	return __syscall(SYS_futex, addr, FUTEX_LOCK_PI | (priv ? FUTEX_PRIVATE : 0), 0, at);
}

int __pal_futex_unlock_pi(volatile void *addr, int priv)
{
	return __syscall(SYS_futex, addr, FUTEX_UNLOCK_PI | (priv ? FUTEX_PRIVATE : 0));
}
