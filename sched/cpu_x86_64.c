/* x86_64 CPU features the context switch and preemption depend on (see
 * context.h). */
#include "context.h"

int __sched_fsgsbase;
int __sched_xsave_size;

static void cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
	__asm__ volatile ("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
		: "a"(leaf), "c"(sub));
}

void __sched_cpu_init(unsigned long hwcap2)
{
	unsigned r[4];
	__sched_fsgsbase = !!(hwcap2 & SCHED_HWCAP2_FSGSBASE);
	/* XSAVE enabled by the kernel (CPUID.1:ECX.OSXSAVE[27]): the size
	 * of the state XCR0 enables (CPUID.(EAX=0DH,ECX=0):EBX); else 0,
	 * and preemption saves with FXSAVE (preempt_x86_64.S). */
	cpuid(0, 0, r);
	if (r[0] < 0xd) return;
	cpuid(1, 0, r);
	if (!(r[2] & 1u << 27)) return;
	cpuid(0xd, 0, r);
	__sched_xsave_size = r[1];
}
