/* Native backend: one kernel thread per pthread, as stock musl. */
#define _GNU_SOURCE
#include <sched.h>
#include "pthread_impl.h"
#include "syscall.h"
#include "pal.h"

int __pal_thread_spawn(struct pthread *td, int (*start)(void *),
	void *arg, void *stack)
{
	unsigned flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND
		| CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS
		| CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED;
	int r = __clone(start, stack, flags, arg, &td->tid, TP_ADJ(td),
		&__thread_list_lock);
	return r < 0 ? -EAGAIN : r;
}

_Noreturn void __pal_thread_exit(void *map_base, size_t map_size)
{
	/* __unmapself unmaps the stack it runs on and exits without
	 * touching it again. */
	if (map_base) __unmapself(map_base, map_size);
	for (;;) __syscall(SYS_exit, 0);
}

int __pal_thread_kill(struct pthread *td, int sig)
{
	return __syscall(SYS_tkill, td->tid, sig);
}
