#include "pthread_impl.h"
#include "pal.h"
#include <errno.h>

int pthread_spin_lock(pthread_spinlock_t *s)
{
	/* Under M:N the holder may be waiting for this worker: yield to it
	 * when spinning cannot help (pal.h). */
	while (*(volatile int *)s || a_cas(s, 0, EBUSY))
		if (__pal_spin_ok()) a_spin();
		else __pal_yield();
	return 0;
}
