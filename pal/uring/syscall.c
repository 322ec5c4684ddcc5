/* M:N backend on io_uring: the dispatcher.  A blocking call goes to the
 * calling task's ring if call.c takes it, else the epoll backend's way
 * (pal/epoll/io.c: the netpoller, file.c, sleeps), else it is made on
 * the worker with the task marked as in a syscall, as pal/epoll/
 * syscall.c does (the monitor's handoff). */
#include "pthread_impl.h"
#include "syscall.h"
#include "pal.h"
#include "syscall_cp.h"
#include "scheduler.h"
#include "io.h"
#include "call.h"
#include "ring.h"

const char __pal_name[] = "uring";

static long dispatch(long nr, long *a, int cp, int *handled)
{
	long r = __ring_call(nr, a, cp);
	*handled = 1;
	if (r != NOT_TAKEN) return r;
	/* A call queued on the fd must hold its file first (call.c). */
	if (nr == SYS_close) __ring_flush_all();
	return __pal_io(nr, a[0], a[1], a[2], a[3], a[4], a[5], cp, handled);
}

long __pal_syscall_cp(long nr, long a, long b, long c, long d, long e, long f)
{
	long k[6] = { a, b, c, d, e, f };
	int handled;
	/* pause(2) parks the task, as in pal/epoll/syscall.c. */
	if (nr == SYS_pause) {
		struct task *t = __sched_self();
		if (t && t->id) {
			uint64_t m = t->sigmask;
			return __pal_sigsuspend(&m);
		}
	}
	long r = dispatch(nr, k, 1, &handled);
	if (handled) return r;
	AROUND(__syscall_cp_c(nr, a, b, c, d, e, f));
}

long __pal_syscall_block(long nr, long a, long b, long c, long d, long e, long f)
{
	long k[6] = { a, b, c, d, e, f };
	int handled;
	long r = dispatch(nr, k, 0, &handled);
	if (handled) return r;
	AROUND(__syscall(nr, a, b, c, d, e, f));
}

int __pal_vfork_shares(void)
{
	return !__sched_self();
}
