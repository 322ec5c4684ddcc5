/* Native backend: signal waits and whole-process calls are the kernel's
 * and musl's own. */
#include <errno.h>
#include <signal.h>
#include "pthread_impl.h"
#include "syscall.h"
#include "pal.h"

int __pal_sigpending(void *set)
{
	return __syscall(SYS_rt_sigpending, set, _NSIG/8);
}

int __pal_sigtimedwait(const void *set, siginfo_t *si,
	const struct timespec *timeout)
{
	return __syscall_cp(SYS_rt_sigtimedwait, set, si, timeout, _NSIG/8);
}

int __pal_sigsuspend(const void *mask)
{
	return __syscall_cp(SYS_rt_sigsuspend, mask, _NSIG/8);
}

void __pal_sig_wrap(int sig, struct sigaction *sa, struct sigaction *prev)
{
}

void __pal_sig_unwrap(int sig, struct sigaction *old,
	const struct sigaction *prev)
{
}

int __pal_synccall(void (*func)(void *), void *ctx)
{
	return -ENOSYS;
}

void __pal_cancel_deferred(struct pthread *self, void *uc_mask)
{
	__syscall(SYS_tkill, self->tid, SIGCANCEL);
}
