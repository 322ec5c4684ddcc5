#include <signal.h>
#include <errno.h>
#include "syscall.h"
#include "pal.h"

int sigaltstack(const stack_t *restrict ss, stack_t *restrict old)
{
	if (ss) {
		if (!(ss->ss_flags & SS_DISABLE) && ss->ss_size < MINSIGSTKSZ) {
			errno = ENOMEM;
			return -1;
		}
		if (ss->ss_flags & SS_ONSTACK) {
			errno = EINVAL;
			return -1;
		}
	}
	/* weft: the calling thread's (task's) own. */
	return __syscall_ret(__pal_sigaltstack(ss, old));
}
