/* Native backend: one kernel thread per pthread, as stock musl. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <sys/mman.h>
#include "pthread_impl.h"
#include "syscall.h"
#include "pal.h"

int __pal_thread_prepare(struct pthread *td, int (*start)(void *),
	void *arg, void *stack)
{
	return 0;
}

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

void __pal_thread_run(struct pthread *td)
{
}

_Noreturn void __pal_thread_exit(void *map_base, size_t map_size,
	volatile int *exited)
{
	if (exited) {
		a_store(exited, DT_EXITED);
		__wake(exited, 1, 1);
	}
	/* __unmapself unmaps the stack it runs on and exits without
	 * touching it again. */
	if (map_base) __unmapself(map_base, map_size);
	for (;;) __syscall(SYS_exit, 0);
}

int __pal_thread_kill(struct pthread *td, int sig)
{
	return __syscall(SYS_tkill, td->tid, sig);
}

int __pal_timer_attach(struct pthread *td, struct __pal_timer *r,
	int *tid, union sigval *value)
{
	*tid = td->tid;
	value->sival_ptr = 0;
	return 0;
}

void __pal_timer_detach(struct __pal_timer *r)
{
}

void __pal_timer_kill(struct pthread *td)
{
	__syscall(SYS_tkill, td->tid, SIGTIMER);
}

/* As musl's pthread_create: PROT_NONE, then the part above the guard made
 * accessible (ENOSYS tolerated: no MMU).  errno is left as it was.  A
 * new mapping is zero-filled throughout, `zero` bytes included. */
int __pal_thread_map(void **out, size_t size, size_t guard, size_t zero)
{
	int e = errno, r = 0;
	unsigned char *map;

	map = __mmap(0, size, guard ? PROT_NONE : PROT_READ|PROT_WRITE,
		MAP_PRIVATE|MAP_ANON, -1, 0);
	if (map == MAP_FAILED) {
		r = -errno;
	} else if (guard && __mprotect(map+guard, size-guard, PROT_READ|PROT_WRITE)
	    && errno != ENOSYS) {
		r = -errno;
		__munmap(map, size);
	}
	errno = e;
	if (r) return r;
	*out = map;
	return 0;
}

void __pal_thread_unmap(void *map, size_t size, size_t guard)
{
	int e = errno;
	__munmap(map, size);
	errno = e;
}

int __pal_fork_child(struct pthread *self)
{
	return __syscall(SYS_gettid);
}

int __pal_spins(int n)
{
	return n;
}

int __pal_spin_ok(void)
{
	return 1;
}

int __pal_yield(void)
{
	return __syscall(SYS_sched_yield);
}

int __pal_sigmask(int how, const void *set, void *old)
{
	return __syscall(SYS_rt_sigprocmask, how, set, old, _NSIG/8);
}

int __pal_sigmask_internal(int how, const void *set, void *old)
{
	return __syscall(SYS_rt_sigprocmask, how, set, old, _NSIG/8);
}

int __pal_thread_is_kernel(struct pthread *td)
{
	(void)td;
	return 1;
}

int __pal_gettid(void)
{
	return __syscall(SYS_gettid);
}

int __pal_tkill(int tid, int sig)
{
	return __syscall(SYS_tkill, tid, sig);
}

int __pal_tgkill(int tgid, int tid, int sig)
{
	return __syscall(SYS_tgkill, tgid, tid, sig);
}

int __pal_sigaltstack(const stack_t *ss, stack_t *old)
{
	return __syscall(SYS_sigaltstack, ss, old);
}
