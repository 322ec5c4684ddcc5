/* One guarded task stack (see stack.h). */
#define _DEFAULT_SOURCE		/* MAP_ANONYMOUS, MAP_NORESERVE, MADV_* */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "stack.h"
#include "sys.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102	/* Linux 6.13; musl 1.2.3 predates it */
#endif

/*
 * How guards go in: unknown until one has been installed, then fixed.
 * Racing first allocations probe alike and store the same answer.  Once
 * madvise has worked it stays the choice even if one call fails with
 * EINVAL, as it does on mlock()ed (mlockall(MCL_FUTURE)) mappings: that
 * stack alone falls back to mprotect.
 */
enum { GUARD_UNKNOWN, GUARD_MADVISE, GUARD_MPROTECT };
static int guard_how;

static long guard_install(void *p, size_t len)
{
	int how = __atomic_load_n(&guard_how, __ATOMIC_RELAXED);
	long r;

	if (how != GUARD_MPROTECT) {
		r = __sched_syscall(SYS_madvise, (long)p, len,
			MADV_GUARD_INSTALL, 0, 0, 0);
		if (r != -EINVAL && r != -ENOSYS) {
			if (!r && how == GUARD_UNKNOWN)
				__atomic_store_n(&guard_how, GUARD_MADVISE,
					__ATOMIC_RELAXED);
			return r;
		}
		if (how == GUARD_UNKNOWN)
			__atomic_store_n(&guard_how, GUARD_MPROTECT,
				__ATOMIC_RELAXED);
	}
	return __sched_syscall(SYS_mprotect, (long)p, len, PROT_NONE, 0, 0, 0);
}

/* Round *n up to a multiple of pg (a power of two); -EINVAL on overflow. */
static int page_round(size_t *n, size_t pg)
{
	if (*n > SIZE_MAX - (pg - 1))
		return -EINVAL;
	*n = (*n + pg - 1) & -pg;
	return 0;
}

int __sched_stack_alloc(struct __sched_stack *s, size_t size, size_t guard)
{
	size_t pg = sysconf(_SC_PAGESIZE);
	long r, e;

	s->map = 0;
	s->map_size = s->guard = 0;
	if (!size || page_round(&size, pg) || page_round(&guard, pg) ||
	    guard > SIZE_MAX - size)
		return -EINVAL;

	r = __sched_syscall(SYS_mmap, 0, size + guard, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if ((unsigned long)r > -4096UL)
		return r;
	if (guard && (e = guard_install((void *)r, guard)))
		goto unmap;
	s->map = (void *)r;
	s->map_size = size + guard;
	s->guard = guard;
	return 0;
unmap:
	__sched_syscall(SYS_munmap, r, size + guard, 0, 0, 0, 0);
	return e;
}

void __sched_stack_free(struct __sched_stack *s)
{
	if (s->map)
		__sched_syscall(SYS_munmap, (long)s->map, s->map_size,
			0, 0, 0, 0);
	s->map = 0;
	s->map_size = s->guard = 0;
}

int __sched_stack_is_guard(const struct __sched_stack *s, const void *addr)
{
	return (uintptr_t)addr - (uintptr_t)s->map < s->guard;
}
