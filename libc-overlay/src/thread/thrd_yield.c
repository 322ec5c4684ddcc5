#include <threads.h>
#include "syscall.h"
#include "pal.h"

void thrd_yield()
{
	__pal_yield();
}
