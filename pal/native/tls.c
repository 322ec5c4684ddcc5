/* Native backend: the initial thread's identity and the thread pointer.
 * Both run from __init_tp, before TLS is usable. */
#define SYSCALL_NO_TLS 1
#include "pthread_impl.h"
#include "syscall.h"
#include "pal.h"

int __pal_thread_init_main(struct pthread *td)
{
	return __syscall(SYS_set_tid_address, &__thread_list_lock);
}

int __pal_set_thread_pointer(void *tp)
{
	return __set_thread_area(tp);
}
