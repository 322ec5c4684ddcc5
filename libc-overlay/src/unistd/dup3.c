/* weft overlay of musl 1.2.3 src/unistd/dup3.c: the PAL learns of the copy (pal.h: __pal_fd_replacing, __pal_fd_dup) */
#define _GNU_SOURCE
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include "syscall.h"
#include "pal.h"

int __dup3(int old, int new, int flags)
{
	int r;
#ifdef SYS_dup2
	if (old==new) return __syscall_ret(-EINVAL);
	__pal_fd_replacing(old, new);
	if (flags & O_CLOEXEC) {
		while ((r=__syscall(SYS_dup3, old, new, flags))==-EBUSY);
		if (r!=-ENOSYS) {
			if (r >= 0) __pal_fd_dup(old, new);
			return __syscall_ret(r);
		}
	}
	while ((r=__syscall(SYS_dup2, old, new))==-EBUSY);
	if (flags & O_CLOEXEC) __syscall(SYS_fcntl, new, F_SETFD, FD_CLOEXEC);
#else
	while ((r=__syscall(SYS_dup3, old, new, flags))==-EBUSY);
#endif
	if (r >= 0) __pal_fd_dup(old, new);
	return __syscall_ret(r);
}

weak_alias(__dup3, dup3);
