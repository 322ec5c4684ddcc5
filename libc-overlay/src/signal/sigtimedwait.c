#include <signal.h>
#include <errno.h>
#include "syscall.h"
#include "pal.h"

/* weft: the wait is the backend's, which also sees signals sent to the
 * task (pal.h); the time64 syscall split is not needed on 64-bit. */
static int do_sigtimedwait(const sigset_t *restrict mask, siginfo_t *restrict si, const struct timespec *restrict ts)
{
	return __pal_sigtimedwait(mask, si, ts);
}

int sigtimedwait(const sigset_t *restrict mask, siginfo_t *restrict si, const struct timespec *restrict timeout)
{
	int ret;
	do ret = do_sigtimedwait(mask, si, timeout);
	while (ret==-EINTR);
	return __syscall_ret(ret);
}
