#include "pthread_impl.h"
#include "syscall.h"

/* Every cancellation-point syscall goes to the PAL's blocking-call
 * dispatcher; the native backend keeps musl's weak __syscall_cp_c. */
long (__syscall_cp)(syscall_arg_t nr,
                    syscall_arg_t u, syscall_arg_t v, syscall_arg_t w,
                    syscall_arg_t x, syscall_arg_t y, syscall_arg_t z)
{
	return __pal_syscall_cp(nr, u, v, w, x, y, z);
}
