#define _BSD_SOURCE
#include <unistd.h>
#include "syscall.h"
#include "pal.h"
#include <stdarg.h>

#undef syscall

long syscall(long n, ...)
{
	va_list ap;
	syscall_arg_t a,b,c,d,e,f;
	va_start(ap, n);
	a=va_arg(ap, syscall_arg_t);
	b=va_arg(ap, syscall_arg_t);
	c=va_arg(ap, syscall_arg_t);
	d=va_arg(ap, syscall_arg_t);
	e=va_arg(ap, syscall_arg_t);
	f=va_arg(ap, syscall_arg_t);
	va_end(ap);
	/* weft: thread ids are the PAL's (pal.h: __pal_gettid). */
	switch (n) {
	case SYS_gettid: return __pal_gettid();
	case SYS_tkill: return __syscall_ret(__pal_tkill(a, b));
	case SYS_tgkill: return __syscall_ret(__pal_tgkill(a, b, c));
	}
	return __syscall_ret(__syscall(n,a,b,c,d,e,f));
}
