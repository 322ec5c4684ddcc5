/* M:N backend: the dispatcher.  I/O on pollable fds, poll/select/
 * epoll_wait and sleeps park the task (io.c).  Other blocking syscalls
 * are made directly on the worker, with the task marked as in one: the
 * monitor then hands the worker's other tasks to a spare (sched/
 * monitor.c), and pthread_kill and pthread_cancel interrupt it as they
 * would a thread (sched/signal.c: __sched_kill).  Cancellation as
 * musl's (syscall_cp.h).
 *
 * pal/uring builds this file too, with PAL_NAME "uring" and PAL_FIRST
 * its ring call (pal/uring/pal.mak): a call goes to the task's ring if
 * that takes it, else the way above. */
#include "pthread_impl.h"
#include "syscall.h"
#include "pal.h"
#include "syscall_cp.h"
#include "scheduler.h"
#include "io.h"

#ifndef PAL_NAME
#define PAL_NAME "epoll"
#endif
const char __pal_name[] = PAL_NAME;

/* Make syscall nr with arguments a (six) as a cancellation point if cp
 * the backend's own way, before io.c's: returns its result, or
 * PAL_NOT_TAKEN (io.h). */
#ifdef PAL_FIRST
hidden long PAL_FIRST(long nr, const long *a, int cp);
#define first(nr, a, b, c, d, e, f, cp) \
	PAL_FIRST(nr, (const long []){ a, b, c, d, e, f }, cp)
#else
#define first(nr, a, b, c, d, e, f, cp) PAL_NOT_TAKEN
#endif

long __pal_syscall_cp(long nr, long a, long b, long c, long d, long e, long f)
{
	int handled;
	/* pause(2) is sigsuspend(2) with the task's own mask: it parks the
	 * task instead of holding its worker. */
	if (nr == SYS_pause) {
		struct task *t = __sched_self();
		if (t && t->id) {
			uint64_t m = t->sigmask;
			return __pal_sigsuspend(&m);
		}
	}
	long r = first(nr, a, b, c, d, e, f, 1);
	if (r != PAL_NOT_TAKEN) return r;
	r = __pal_io(nr, a, b, c, d, e, f, 1, &handled);
	if (handled) return r;
	AROUND(__syscall_cp_c(nr, a, b, c, d, e, f));
}

long __pal_syscall_block(long nr, long a, long b, long c, long d, long e, long f)
{
	int handled;
	long r = first(nr, a, b, c, d, e, f, 0);
	if (r != PAL_NOT_TAKEN) return r;
	r = __pal_io(nr, a, b, c, d, e, f, 0, &handled);
	if (handled) return r;
	AROUND(__syscall(nr, a, b, c, d, e, f));
}

/* Once the scheduler runs, a vfork child on the caller's thread pointer
 * would act on its task and worker: vfork is then _Fork (pal.h). */
int __pal_vfork_shares(void)
{
	return !__sched_self();
}
