/*
 * sys.h - the one place sched/'s C code enters the kernel.
 *
 * A raw system call, as musl's internal __syscall: returns the result or
 * -errno and never touches errno (on a task, errno is the program's).  It
 * references no libc symbol, so sched/ linked into libc.a cannot bind to
 * a program's own mmap() and the host tests run exactly this code.
 * x86_64 SysV, like switch_x86_64.S; another ABI gets its own sys_<abi>.h.
 */
#ifndef WEFT_SCHED_SYS_H
#define WEFT_SCHED_SYS_H

#include <sys/syscall.h>

static inline long __sched_syscall(long n, long a, long b, long c, long d,
	long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ __volatile__ ("syscall" : "=a"(ret)
		: "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
		: "rcx", "r11", "memory");
	return ret;
}

/* One round of waiting for a spinlock held on another CPU (the caller's
 * round counter in *n, zero at first): a pause, and every 128th round
 * (about 3 us) a sched_yield, so that a holder the kernel preempted on a
 * busy machine gets a CPU back sooner than the end of the waiter's time
 * slice (lock-holder preemption; Go's lock_futex spins, then yields).
 * Our spinlocks are held for a few instructions, so an uncontended or
 * briefly contended wait never gets that far. */
static inline void __sched_spin_wait(unsigned *n)
{
	if (++*n & 127)
		__builtin_ia32_pause();
	else
		__sched_syscall(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
}

#endif
