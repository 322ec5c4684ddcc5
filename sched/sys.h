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

#endif
