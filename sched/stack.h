/*
 * stack.h - one guarded task stack, and the pool that reuses them.
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

/*
 * The pool: whole mappings of exited threads, kept to be handed out
 * again instead of an mmap + guard install + munmap per thread.
 *
 * Shape.  A pooled mapping is exactly what __sched_stack_alloc made
 * (guard at the bottom, usable stack above; pal/epoll puts a pthread's
 * TLS, TCB and TSD at its top), kept whole, guard included: the guard
 * (MADV_GUARD_INSTALL or mprotect) persists across reuse and trimming.
 * It is keyed by (map_size, guard), page multiples, and only a request
 * of that exact shape reuses it.  At most POOL_CLASSES shapes are pooled
 * at once (in practice one: the default pthread stack); a class is
 * freed for another shape when it empties.  Each class is a LIFO list
 * (the stack freed last, the one most likely cached, goes out first)
 * linked through a node in the top bytes of each pooled mapping, so the
 * pool allocates nothing.
 *
 * Cap.  The pool holds at most WEFT_STACK_POOL_MAX bytes of mappings
 * (address space, guards included; 256 MiB: ~1870 default pthread
 * mappings of 140 KiB); a mapping given back beyond that is unmapped.
 * A burst of 10^6 threads therefore leaves at most that much mapped.
 *
 * Trimming.  Memory a pooled stack touched stays resident unless it is
 * given back to the kernel (MADV_DONTNEED: a syscall, ~0.6 us even where
 * nothing was touched, and for touched pages a TLB shootdown, ~8 us for
 * 4 pages: more than all the rest of a spawn and join).  So trimming is
 * kept off the spawn path and left to age, as Go's scavenger does: a
 * mapping is pooled as it is, and __sched_stack_trim (the scheduler's
 * monitor, every 1 to 20 ms) trims those that were given back before
 * its previous pass, while the untrimmed ones total more than
 * WEFT_STACK_POOL_UNTRIMMED bytes (64 MiB of address space, ~470
 * default mappings).  A trim drops all between the guard and the top
 * WEFT_STACK_POOL_HOT bytes (16 KiB, where the TLS, TCB and a
 * short-lived thread's frames are).  Stacks that are reused within a
 * pass (a pool of threads that come and go) are never trimmed, and a
 * mapping is never trimmed as it is given back, however far over the
 * budget: a burst faster than the passes (1,000 default threads alive at
 * once are 137 MiB of mappings) would pay a syscall per give-back for
 * pages that were often never touched.  The memory the pool keeps
 * resident is thus at most what its mappings' threads touched, within
 * the cap (WEFT_STACK_POOL_MAX: pooled mappings are those of threads
 * that were alive at once, minus those alive now), and two passes after
 * the last give-back at most WEFT_STACK_POOL_UNTRIMMED plus
 * WEFT_STACK_POOL_HOT per trimmed mapping (~64 + 29 MiB with the
 * defaults).  The trade-off, measured: docs/scheduler.md.  Each
 * WEFT_STACK_POOL_* may be overridden with -D when building libc;
 * WEFT_STACK_POOL_MAX=0 disables the pool.
 *
 * Thread safety.  One spinlock, held for a few loads and stores and
 * never across a syscall; get, put and trim may be called from any task,
 * a worker's g0 or the monitor thread (they use no __thread state and no
 * libc function but memset, memmove and sysconf).  Not async-signal-safe.
 */
#define POOL_CLASSES 4
#ifndef WEFT_STACK_POOL_MAX
#define WEFT_STACK_POOL_MAX (256u << 20)
#endif
#ifndef WEFT_STACK_POOL_UNTRIMMED
#define WEFT_STACK_POOL_UNTRIMMED (64u << 20)
#endif
#ifndef WEFT_STACK_POOL_HOT
#define WEFT_STACK_POOL_HOT (16u << 10)
#endif

/* A stack of size usable bytes under a guard of guard bytes (rounded up
 * to pages as by __sched_stack_alloc): a pooled mapping of that shape if
 * there is one, else a new one.  The highest `zero` bytes of the mapping
 * are zero-filled; a new mapping is zero throughout, a reused one holds
 * whatever its last thread left below those bytes.  Returns 0 (new), 1
 * (reused), or the errors of __sched_stack_alloc; on failure *s is
 * zeroed. */
hidden int __sched_stack_get(struct __sched_stack *s, size_t size,
	size_t guard, size_t zero);

/* Give s back: into the pool as it is (never trimmed here), or unmapped
 * if the pool is full or the shape has no class.  s must have come from
 * __sched_stack_get or _alloc, and nothing may touch its memory
 * afterwards.  Zeroes s. */
hidden void __sched_stack_put(struct __sched_stack *s);

/* A trim pass (see Trimming above): trim pooled mappings given back
 * before the previous pass while the untrimmed ones exceed the budget
 * (one that cannot be trimmed, mlock()ed memory, is unmapped), then age
 * those given back since.  Call it periodically, from one
 * thread at a time. */
hidden void __sched_stack_trim(void);

/* In the child of fork(2), single-threaded: if another thread of the
 * parent held the pool's lock at the fork, the pool may be inconsistent
 * there, and is forgotten (its mappings stay mapped, unused). */
hidden void __sched_stack_pool_fork(void);

/*
 * A cache in front of the pool, one per worker (the scheduler's): the
 * pool's lock is shared by every worker, and a spawn tree on two workers
 * took it at every create and join from both.  A cache is a LIFO array
 * of mappings of any pooled shape, at most WEFT_STACK_CACHE of them and
 * WEFT_STACK_CACHE_BYTES (map sizes summed; mappings over an eighth of
 * that bypass the cache).  A miss takes one mapping from the pool and up
 * to half a cache more of the same shape under one lock; a put into a
 * full cache first moves its older half to the pool under one lock.
 * Cached mappings are not trimmed, so a worker's cache keeps at most
 * WEFT_STACK_CACHE_BYTES resident; its owner flushes it to the pool
 * (where trimming applies) when it goes idle.  Guards and zeroing are
 * the pool's.  A cache is its owner's alone: no lock, one context at a
 * time (the scheduler uses it in critical sections on the worker's own
 * thread).  c == 0: the pool alone.
 */
#ifndef WEFT_STACK_CACHE
#define WEFT_STACK_CACHE 16
#endif
#ifndef WEFT_STACK_CACHE_BYTES
#define WEFT_STACK_CACHE_BYTES (2u << 20)
#endif

struct __sched_stack_cache {
	int n;				/* entries in e[0..n), newest last */
	size_t bytes;			/* their map sizes, summed */
	struct {
		void *map;
		size_t map_size, guard;
		int trimmed;		/* came from the pool trimmed */
	} e[WEFT_STACK_CACHE];
};

/* __sched_stack_get and __sched_stack_put through cache c. */
hidden int __sched_stack_cache_get(struct __sched_stack_cache *c,
	struct __sched_stack *s, size_t size, size_t guard, size_t zero);
hidden void __sched_stack_cache_put(struct __sched_stack_cache *c,
	struct __sched_stack *s);

/* Move everything in c to the pool (unmapping what it has no room for). */
hidden void __sched_stack_cache_flush(struct __sched_stack_cache *c);

/* Highest address of the usable stack, where a context is made. */
static inline void *__sched_stack_top(const struct __sched_stack *s)
{
	return (char *)s->map + s->map_size;
}

#endif
