#include <time.h>
#include <limits.h>
#include "pthread_impl.h"
#include "pal.h"

int timer_delete(timer_t t)
{
	if ((intptr_t)t < 0) {
		pthread_t td = (void *)((uintptr_t)t << 1);
		a_store(&td->timer_id, td->timer_id | INT_MIN);
		/* weft: not tkill(td->tid): under M:N that is a task id
		 * (pal.h, __pal_timer_kill). */
		__pal_timer_kill(td);
		return 0;
	}
	return __syscall(SYS_timer_delete, t);
}
