#include <unistd.h>
#include <signal.h>
#include <string.h>
#include "syscall.h"
#include "libc.h"
#include "lock.h"
#include "pthread_impl.h"
#include "pal.h"
#include "aio_impl.h"

static void dummy(int x) { }
weak_alias(dummy, __aio_atfork);

pid_t _Fork(void)
{
	pid_t ret;
	sigset_t set, all;
	/* In the kernel, not only in the task (pal.h): the child starts
	 * with the kernel's mask and must run no handler before it is set
	 * up, and the parent's mask (its internal blocks included) is what
	 * the child gets back below. */
	memset(&all, -1, sizeof all);
	__pal_sigmask(SIG_BLOCK, &all, &set);
	__aio_atfork(-1);
	LOCK(__abort_lock);
#ifdef SYS_fork
	ret = __syscall(SYS_fork);
#else
	ret = __syscall(SYS_clone, SIGCHLD, 0);
#endif
	if (!ret) {
		pthread_t self = __pthread_self();
		self->tid = __pal_fork_child(self);
		self->robust_list.off = 0;
		self->robust_list.pending = 0;
		self->next = self->prev = self;
		__thread_list_lock = 0;
		libc.threads_minus_1 = 0;
		if (libc.need_locks) libc.need_locks = -1;
	}
	UNLOCK(__abort_lock);
	__aio_atfork(!ret);
	__pal_sigmask(SIG_SETMASK, &set, 0);
	return __syscall_ret(ret);
}
