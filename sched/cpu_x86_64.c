/* x86_64 CPU features the context switch depends on (see context.h). */
#include "context.h"

int __sched_fsgsbase;

void __sched_cpu_init(unsigned long hwcap2)
{
	__sched_fsgsbase = !!(hwcap2 & SCHED_HWCAP2_FSGSBASE);
}
