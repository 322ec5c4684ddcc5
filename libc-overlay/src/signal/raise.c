#include <signal.h>
#include <stdint.h>
#include "syscall.h"
#include "pthread_impl.h"

int raise(int sig)
{
	sigset_t set;
	__block_app_sigs(&set);
	int ret = __syscall_ret(__pal_thread_kill(__pthread_self(), sig));
	__restore_sigs(&set);
	return ret;
}
