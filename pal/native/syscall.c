/* Native backend: blocking syscalls are made directly; cancellation as
 * musl's (syscall_cp.h). */
#include "pthread_impl.h"
#include "syscall.h"
#include "pal.h"
#include "syscall_cp.h"

long __pal_syscall_cp(long nr, long a, long b, long c, long d, long e, long f)
{
	return __syscall_cp_c(nr, a, b, c, d, e, f);
}

long __pal_syscall_block(long nr, long a, long b, long c, long d, long e, long f)
{
	return __syscall(nr, a, b, c, d, e, f);
}

/* The program's view of its fds is the kernel's (pal.h). */
int __pal_fd_getfl(int fd, int kflags) { return kflags; }
int __pal_fd_setfl(int fd, int flags) { return flags; }
int __pal_fd_fionbio(int fd, int on) { return 0; }
void __pal_fd_replacing(int oldfd, int newfd) { }
void __pal_fd_dup(int oldfd, int newfd) { }
void __pal_fd_closed(int fd) { }
void __pal_fd_sockopt(int fd, int level, int name) { }

/* A vfork child shares the caller's memory as under stock musl (pal.h). */
int __pal_vfork_shares(void) { return 1; }
