/* One guarded task stack, and the pool of them (see stack.h). */
#define _DEFAULT_SOURCE		/* MAP_ANONYMOUS, MAP_NORESERVE, MADV_* */
#include <errno.h>
#include <stdint.h>
#include <string.h>
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

/* ---- The pool ------------------------------------------------------------ */

/* Lives in the top bytes of a pooled mapping (above its guard, in the
 * part a trim keeps). */
struct pool_node {
	struct pool_node *next;
	void *map;
};

/* A class's three LIFO lists: given back since the last trim pass, given
 * back before it, and trimmed. */
enum { YOUNG, OLD, TRIMMED, NLISTS };

static struct {
	int lock;
	size_t bytes;			/* map_size of every pooled mapping */
	size_t untrimmed;		/* ... of those in YOUNG and OLD lists */
	struct pool_class {
		size_t map_size, guard;	/* the shape; map_size 0: class unused */
		size_t count;
		struct pool_node *head[NLISTS];
		struct pool_node *young_tail;	/* last of head[YOUNG] */
	} cls[POOL_CLASSES];
} pool;

static void pool_lock(void)
{
	unsigned n = 0;
	while (__atomic_exchange_n(&pool.lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&pool.lock, __ATOMIC_RELAXED))
			__sched_spin_wait(&n);
}

static void pool_unlock(void)
{
	__atomic_store_n(&pool.lock, 0, __ATOMIC_RELEASE);
}

static struct pool_node *node_of(void *map, size_t map_size)
{
	return (struct pool_node *)((char *)map + map_size) - 1;
}

/* Pool lock held: take a node of class c from list l, or 0. */
static struct pool_node *pool_pop(struct pool_class *c, int l)
{
	struct pool_node *n = c->head[l];
	if (!n)
		return 0;
	c->head[l] = n->next;
	if (l == YOUNG && !c->head[YOUNG])
		c->young_tail = 0;
	pool.bytes -= c->map_size;
	if (l != TRIMMED)
		pool.untrimmed -= c->map_size;
	if (!--c->count)
		c->map_size = 0;
	return n;
}

/* Pool lock held: add map (map_size, guard) to list l; 0, or -1 if the
 * pool is full or has no class for the shape. */
static int pool_push(void *map, size_t map_size, size_t guard, int l)
{
	int i, free_cls = -1;
	struct pool_node *n = node_of(map, map_size);

	if (pool.bytes > WEFT_STACK_POOL_MAX - map_size)
		return -1;
	for (i = 0; i < POOL_CLASSES; i++) {
		struct pool_class *c = &pool.cls[i];
		if (c->map_size == map_size && c->guard == guard)
			break;
		if (!c->map_size && free_cls < 0)
			free_cls = i;
	}
	if (i == POOL_CLASSES) {
		if (free_cls < 0)
			return -1;
		i = free_cls;
		pool.cls[i].map_size = map_size;
		pool.cls[i].guard = guard;
	}
	struct pool_class *c = &pool.cls[i];
	n->map = map;
	n->next = c->head[l];
	c->head[l] = n;
	if (l == YOUNG && !c->young_tail)
		c->young_tail = n;
	c->count++;
	pool.bytes += map_size;
	if (l != TRIMMED)
		pool.untrimmed += map_size;
	return 0;
}

/* Drop what lies between s's guard and its top WEFT_STACK_POOL_HOT bytes;
 * 0, or -errno (EINVAL: mlock()ed, it would stay resident). */
static long trim(void *map, size_t map_size, size_t guard)
{
	if (map_size - guard <= WEFT_STACK_POOL_HOT)
		return 0;
	return __sched_syscall(SYS_madvise, (long)map + guard,
		map_size - guard - WEFT_STACK_POOL_HOT, MADV_DONTNEED, 0, 0, 0);
}

int __sched_stack_get(struct __sched_stack *s, size_t size, size_t guard,
	size_t zero)
{
	size_t pg = sysconf(_SC_PAGESIZE), map_size;
	struct pool_node *n = 0;
	int l = 0;
	char *top;

	if (!size || page_round(&size, pg) || page_round(&guard, pg) ||
	    guard > SIZE_MAX - size)
		return __sched_stack_alloc(s, size, guard);
	map_size = size + guard;
	if (__atomic_load_n(&pool.bytes, __ATOMIC_RELAXED)) {
		pool_lock();
		for (int i = 0; i < POOL_CLASSES && !n; i++) {
			struct pool_class *c = &pool.cls[i];
			if (c->map_size != map_size || c->guard != guard)
				continue;
			for (l = 0; l < NLISTS && !(n = pool_pop(c, l)); l++)
				;
		}
		pool_unlock();
	}
	if (!n)
		return __sched_stack_alloc(s, size, guard);
	s->map = n->map;
	s->map_size = map_size;
	s->guard = guard;
	/* Below its top HOT bytes a trimmed mapping is zero already, and
	 * writing zeros there would only make it resident again. */
	if (zero > size)
		zero = size;
	if (l == TRIMMED && zero > WEFT_STACK_POOL_HOT)
		zero = WEFT_STACK_POOL_HOT;
	top = (char *)s->map + map_size;
	memset(top - zero, 0, zero);
	return 1;
}

void __sched_stack_put(struct __sched_stack *s)
{
	size_t map_size = s->map_size, guard = s->guard;
	int r;

	if (!s->map)
		return;
	/* A racy read, to skip the lock when the pool is full; the
	 * decision to pool is taken again under it. */
	if (guard >= map_size || map_size - guard < sizeof(struct pool_node) ||
	    map_size > WEFT_STACK_POOL_MAX ||
	    __atomic_load_n(&pool.bytes, __ATOMIC_RELAXED) > WEFT_STACK_POOL_MAX - map_size)
		goto unmap;
	/* Never trimmed here, however far over the budget: a trim is a
	 * syscall even for untouched pages, and the mapping is likely to be
	 * reused before the next pass (stack.h, Trimming). */
	pool_lock();
	r = pool_push(s->map, map_size, guard, YOUNG);
	pool_unlock();
	if (r)
		goto unmap;
	s->map = 0;
	s->map_size = s->guard = 0;
	return;
unmap:
	__sched_stack_free(s);
}

void __sched_stack_trim(void)
{
	for (int i = 0; i < POOL_CLASSES; i++) {
		for (;;) {
			struct pool_class *c = &pool.cls[i];
			struct pool_node *n = 0;
			size_t map_size = 0, guard = 0;
			if (__atomic_load_n(&pool.untrimmed, __ATOMIC_RELAXED) <=
			    WEFT_STACK_POOL_UNTRIMMED)
				break;
			pool_lock();
			if (pool.untrimmed > WEFT_STACK_POOL_UNTRIMMED) {
				map_size = c->map_size;
				guard = c->guard;
				n = pool_pop(c, OLD);
			}
			pool_unlock();
			if (!n)
				break;
			struct __sched_stack st = { n->map, map_size, guard };
			int r = -1;
			if (!trim(st.map, map_size, guard)) {
				pool_lock();
				r = pool_push(st.map, map_size, guard, TRIMMED);
				pool_unlock();
			}
			if (r)
				__sched_stack_free(&st);
		}
	}
	/* What was given back since the last pass ages. */
	pool_lock();
	for (int i = 0; i < POOL_CLASSES; i++) {
		struct pool_class *c = &pool.cls[i];
		if (!c->head[YOUNG])
			continue;
		c->young_tail->next = c->head[OLD];
		c->head[OLD] = c->head[YOUNG];
		c->head[YOUNG] = c->young_tail = 0;
	}
	pool_unlock();
}

void __sched_stack_pool_fork(void)
{
	if (pool.lock)
		memset(&pool, 0, sizeof pool);
}
