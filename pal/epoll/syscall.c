/* M:N backend: blocking syscalls are still made directly on the worker
 * (the netpoller and the monitor's handoff are issue 4), but a task in
 * one is marked so that pthread_kill and pthread_cancel interrupt it as
 * they would a thread (sched.c: __sched_kill).  Cancellation as musl's
 * (syscall_cp.h). */
#include "pthread_impl.h"
#include "syscall.h"
#include "pal.h"
#include "syscall_cp.h"
#include "scheduler.h"


/* The syscall itself, with the task marked as in it (see above). */
#define AROUND(call) do { \
	struct task *t = __sched_self(); \
	long r; \
	if (!t || !t->id) return call; \
	__sched_syscall_enter(t); \
	r = call; \
	__sched_syscall_leave(t); \
	return r; \
} while (0)

long __pal_syscall_cp(long nr, long a, long b, long c, long d, long e, long f)
{
	AROUND(__syscall_cp_c(nr, a, b, c, d, e, f));
}

long __pal_syscall_block(long nr, long a, long b, long c, long d, long e, long f)
{
	AROUND(__syscall(nr, a, b, c, d, e, f));
}
