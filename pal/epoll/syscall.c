/* M:N backend, part 1: blocking syscalls still block the worker (the
 * netpoller and the monitor's handoff are issue 4).  Cancellation is
 * musl's, keyed on the task's own TCB. */
#include "pthread_impl.h"
#include "syscall.h"
#include "pal.h"

hidden long __syscall_cp_c();

static long sccp(syscall_arg_t nr,
                 syscall_arg_t u, syscall_arg_t v, syscall_arg_t w,
                 syscall_arg_t x, syscall_arg_t y, syscall_arg_t z)
{
	return __syscall(nr, u, v, w, x, y, z);
}

weak_alias(sccp, __syscall_cp_c);

long __pal_syscall_cp(long nr, long a, long b, long c, long d, long e, long f)
{
	return __syscall_cp_c(nr, a, b, c, d, e, f);
}

long __pal_syscall_block(long nr, long a, long b, long c, long d, long e, long f)
{
	return __syscall(nr, a, b, c, d, e, f);
}
