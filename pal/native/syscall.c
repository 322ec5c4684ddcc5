/* Native backend: blocking syscalls are made directly.  Cancellation keeps
 * musl's static-linking trick: __syscall_cp_c is a weak plain syscall
 * unless pthread_cancel.o (which defines the real one) is linked in. */
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
