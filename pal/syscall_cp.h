/* Shared by the backends' syscall.c: musl's static-linking trick for
 * cancellation.  __syscall_cp_c is this weak plain syscall unless
 * pthread_cancel.o (which defines the real one) is linked in. */
#ifndef WEFT_PAL_SYSCALL_CP_H
#define WEFT_PAL_SYSCALL_CP_H

hidden long __syscall_cp_c();

static long sccp(syscall_arg_t nr,
                 syscall_arg_t u, syscall_arg_t v, syscall_arg_t w,
                 syscall_arg_t x, syscall_arg_t y, syscall_arg_t z)
{
	return __syscall(nr, u, v, w, x, y, z);
}

weak_alias(sccp, __syscall_cp_c);

#endif
