/* weft overlay of musl 1.2.3 src/unistd/dup2.c: the PAL learns of the copy (pal.h: __pal_fd_replacing, __pal_fd_dup) */
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include "syscall.h"
#include "pal.h"

int dup2(int old, int new)
{
	int r;
	if (old != new) __pal_fd_replacing(old, new);
#ifdef SYS_dup2
	while ((r=__syscall(SYS_dup2, old, new))==-EBUSY);
#else
	if (old==new) {
		r = __syscall(SYS_fcntl, old, F_GETFD);
		if (r >= 0) return old;
	} else {
		while ((r=__syscall(SYS_dup3, old, new, 0))==-EBUSY);
	}
#endif
	if (r >= 0 && old != new) __pal_fd_dup(old, new);
	return __syscall_ret(r);
}
