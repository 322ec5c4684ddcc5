/* M:N backend: the initial thread is task 1; the thread pointer is set
 * as natively until the scheduler switches it per task. */
#define SYSCALL_NO_TLS 1
#include "pthread_impl.h"
#include "syscall.h"
#include "pal.h"

int __pal_thread_init_main(struct pthread *td)
{
	return 1;
}

int __pal_set_thread_pointer(void *tp)
{
	return __set_thread_area(tp);
}
