/* M:N backend: the initial thread's id is the process id (its kernel
 * tid), and stays the main task's (pal.h: __pal_gettid); the thread
 * pointer is set as natively until the scheduler switches it per task.
 * No set_tid_address: the scheduler releases the thread-list lock
 * itself when a task exits (__pal_thread_exit). */
#define SYSCALL_NO_TLS 1
#include "pthread_impl.h"
#include "syscall.h"
#include "pal.h"

int __pal_thread_init_main(struct pthread *td)
{
	return __syscall(SYS_gettid);
}

int __pal_set_thread_pointer(void *tp)
{
	return __set_thread_area(tp);
}
