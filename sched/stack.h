/*
 * stack.h - one guarded task stack.  Pooling is the scheduler's job.
 *
 *	map                map + guard                         map + map_size
 *	| guard (faults)   | usable stack, grows down <-------- |
 *
 * The guard is installed with madvise(MADV_GUARD_INSTALL) (Linux 6.13),
 * which adds no VMA, so guarded stacks are not capped by vm.max_map_count
 * (65530 by default; mprotect guards cost 2 VMAs a stack, so ~32k
 * stacks).  Older kernels get mprotect(PROT_NONE).  Pages are reserved
 * lazily (MAP_NORESERVE): a stack costs memory only where it was touched.
 */
#ifndef WEFT_SCHED_STACK_H
#define WEFT_SCHED_STACK_H

#include <stddef.h>

#ifndef hidden
#define hidden __attribute__((__visibility__("hidden")))
#endif

struct __sched_stack {
	void *map;		/* whole mapping; guard at its low end */
	size_t map_size;	/* bytes mapped: guard + usable stack */
	size_t guard;		/* bytes of guard at map (0: none) */
};

/* Map a stack of size usable bytes under a guard of guard bytes, each
 * rounded up to pages.  Returns 0, -EINVAL (size 0, or too large to
 * represent), -ENOMEM or another -errno from mmap/madvise/mprotect; on
 * failure *s is zeroed and nothing stays mapped. */
hidden int __sched_stack_alloc(struct __sched_stack *s, size_t size,
	size_t guard);

/* Unmap s (if mapped) and zero it. */
hidden void __sched_stack_free(struct __sched_stack *s);

/* Bool: addr lies in s's guard, i.e. a fault there is a stack overflow.
 * Async-signal-safe, for the SIGSEGV handler. */
hidden int __sched_stack_is_guard(const struct __sched_stack *s,
	const void *addr);

/* Highest address of the usable stack, where a context is made. */
static inline void *__sched_stack_top(const struct __sched_stack *s)
{
	return (char *)s->map + s->map_size;
}

#endif
