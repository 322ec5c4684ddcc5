#include "pthread_impl.h"

int pthread_getcpuclockid(pthread_t t, clockid_t *clockid)
{
	/* weft: an M:N task has no kernel thread, so no CPU-time clock
	 * (POSIX: ENOENT); its tid is not a kernel tid. */
	if (!__pal_thread_is_kernel(t)) return ENOENT;
	*clockid = (-t->tid-1)*8U + 6;
	return 0;
}
