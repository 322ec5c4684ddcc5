/* weft overlay of musl 1.2.3 src/unistd/dup.c: the PAL learns of the copy (pal.h: __pal_fd_dup) */
#include <unistd.h>
#include "syscall.h"
#include "pal.h"

int dup(int fd)
{
	int r = __syscall(SYS_dup, fd);
	if (r >= 0) __pal_fd_dup(fd, r);
	return __syscall_ret(r);
}
