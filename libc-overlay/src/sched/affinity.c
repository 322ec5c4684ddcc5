#define _GNU_SOURCE
#include <sched.h>
#include <string.h>
#include "pthread_impl.h"
#include "syscall.h"

int sched_setaffinity(pid_t tid, size_t size, const cpu_set_t *set)
{
	return syscall(SYS_sched_setaffinity, tid, size, set);
}

/* weft: an M:N task runs on any of the workers, which have the
 * process's affinity; it cannot be pinned apart from them.  A set that
 * allows every CPU the process may use changes nothing and succeeds. */
static int task_setaffinity(size_t size, const cpu_set_t *set)
{
	unsigned long cur[1024 / (8 * sizeof(long))] = { 0 };
	const unsigned long *want = (const void *)set;
	long n = __syscall(SYS_sched_getaffinity, 0, sizeof cur, cur);
	if (n < 0) return -n;
	for (size_t i = 0; i < n / sizeof(long); i++) {
		unsigned long w = 0;
		if (i < size / sizeof(long)) w = want[i];
		else if (i * sizeof(long) < size) {
			memcpy(&w, &want[i], size - i * sizeof(long));
		}
		if (cur[i] & ~w) return ENOTSUP;
	}
	return 0;
}

int pthread_setaffinity_np(pthread_t td, size_t size, const cpu_set_t *set)
{
	if (!__pal_thread_is_kernel(td)) return task_setaffinity(size, set);
	return -__syscall(SYS_sched_setaffinity, td->tid, size, set);
}

static int do_getaffinity(pid_t tid, size_t size, cpu_set_t *set)
{
	long ret = __syscall(SYS_sched_getaffinity, tid, size, set);
	if (ret < 0) return ret;
	if (ret < size) memset((char *)set+ret, 0, size-ret);
	return 0;
}

int sched_getaffinity(pid_t tid, size_t size, cpu_set_t *set)
{
	return __syscall_ret(do_getaffinity(tid, size, set));
}

int pthread_getaffinity_np(pthread_t td, size_t size, cpu_set_t *set)
{
	/* weft: an M:N task may run on any CPU its worker may. */
	return -do_getaffinity(__pal_thread_is_kernel(td) ? td->tid : 0, size, set);
}
