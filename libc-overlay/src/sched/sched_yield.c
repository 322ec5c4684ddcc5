#include <sched.h>
#include "syscall.h"
#include "pal.h"

int sched_yield()
{
	return __syscall_ret(__pal_yield());
}
