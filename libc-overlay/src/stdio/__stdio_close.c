/* weft overlay of musl 1.2.3 src/stdio/__stdio_close.c: the PAL learns of the close (pal.h: __pal_fd_closed) */
#include "stdio_impl.h"
#include "aio_impl.h"
#include "pal.h"

static int dummy(int fd)
{
	return fd;
}

weak_alias(dummy, __aio_close);

int __stdio_close(FILE *f)
{
	int fd = __aio_close(f->fd), r = __syscall(SYS_close, fd);
	__pal_fd_closed(fd);
	return __syscall_ret(r);
}
