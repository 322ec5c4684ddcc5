/* weft overlay of musl 1.2.3 src/linux/flock.c: a flock that may wait (no LOCK_NB) is a blocking syscall for the PAL (pal.h: __pal_syscall_block), so that an M:N backend can hand its worker's other tasks to a spare at once instead of finding it asleep in the kernel later */
#include <sys/file.h>
#include "syscall.h"
#include "pal.h"

int flock(int fd, int op)
{
	if (op & LOCK_NB) return syscall(SYS_flock, fd, op);
	return __syscall_ret(__pal_syscall_block(SYS_flock, fd, op, 0, 0, 0, 0));
}
