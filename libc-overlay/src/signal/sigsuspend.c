#include <signal.h>
#include "syscall.h"
#include "pal.h"

int sigsuspend(const sigset_t *mask)
{
	/* weft: the wait is the backend's, whose thread mask it must swap
	 * (pal.h). */
	return __syscall_ret(__pal_sigsuspend(mask));
}
