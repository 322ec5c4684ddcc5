#include <signal.h>
#include "syscall.h"
#include "pal.h"

int sigpending(sigset_t *set)
{
	/* weft: the thread's (task's) pending signals too. */
	return __syscall_ret(__pal_sigpending(set));
}
