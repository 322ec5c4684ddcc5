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

/* Pool lock held: up to max mappings of shape (map_size, guard) into
 * n[], the hottest first (young, then old, then trimmed), and whether
 * each was trimmed into trimmed[]; returns how many. */
static int pool_take(size_t map_size, size_t guard, struct pool_node **n,
	int *trimmed, int max)
{
	int k = 0;
	for (int i = 0; i < POOL_CLASSES; i++) {
		struct pool_class *c = &pool.cls[i];
		if (c->map_size != map_size || c->guard != guard)
			continue;
		for (int l = 0; l < NLISTS && k < max; )
			if ((n[k] = pool_pop(c, l)))
				trimmed[k++] = l == TRIMMED;
			else
				l++;
		break;
	}
	return k;
}

/* Zero [p, p + n), p and n multiples of 8, by plain stores: memset
 * (musl's: rep stosq above 126 bytes) costs 40-70 ns a call here for the
 * few hundred bytes of a thread's TLS and TCB, whatever the length
 * (docs/scheduler.md, "What a create costs"). */
static void zero_words(char *p, size_t n)
{
	typedef long long v2 __attribute__((vector_size(16), may_alias));
	if (n > 4096 || ((uintptr_t)p | n) & 7) {
		memset(p, 0, n);
		return;
	}
	if ((uintptr_t)p & 8) {
		*(volatile long long *)p = 0;
		p += 8, n -= 8;
	}
	for (; n >= 16; p += 16, n -= 16)
		*(volatile v2 *)p = (v2){ 0, 0 };
	if (n)
		*(volatile long long *)p = 0;
}

/* s, taken from the pool or a cache, gets its top `zero` bytes zeroed. */
static int reuse(struct __sched_stack *s, void *map, size_t map_size,
	size_t guard, size_t zero, int trimmed)
{
	s->map = map;
	s->map_size = map_size;
	s->guard = guard;
	/* Below its top HOT bytes a trimmed mapping is zero already, and
	 * writing zeros there would only make it resident again. */
	if (zero > map_size - guard)
		zero = map_size - guard;
	if (trimmed && zero > WEFT_STACK_POOL_HOT)
		zero = WEFT_STACK_POOL_HOT;
	zero_words((char *)map + map_size - zero, zero);
	return 1;
}

static size_t page_size(void)
{
	static size_t pg;
	if (!pg)
		pg = sysconf(_SC_PAGESIZE);
	return pg;
}

/* Round size and guard as __sched_stack_alloc does; -EINVAL if they
 * cannot be represented. */
static int shape(size_t *size, size_t *guard)
{
	size_t pg = page_size();
	if (!*size || page_round(size, pg) || page_round(guard, pg) ||
	    *guard > SIZE_MAX - *size)
		return -EINVAL;
	return 0;
}

int __sched_stack_get(struct __sched_stack *s, size_t size, size_t guard,
	size_t zero)
{
	struct pool_node *n;
	int trimmed, k = 0;

	if (shape(&size, &guard))
		return __sched_stack_alloc(s, size, guard);
	if (__atomic_load_n(&pool.bytes, __ATOMIC_RELAXED)) {
		pool_lock();
		k = pool_take(size + guard, guard, &n, &trimmed, 1);
		pool_unlock();
	}
	if (!k)
		return __sched_stack_alloc(s, size, guard);
	return reuse(s, n->map, size + guard, guard, zero, trimmed);
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

/* ---- A worker's cache (stack.h) ----------------------------------------- */

/* A shape the pool would keep and small enough for a cache. */
static int cacheable(size_t map_size, size_t guard)
{
	return WEFT_STACK_POOL_MAX && guard < map_size &&
		map_size - guard >= sizeof(struct pool_node) &&
		map_size <= WEFT_STACK_CACHE_BYTES / 8;
}

/* The oldest k entries of c go to the pool, under one lock; what it has
 * no room for is unmapped. */
static void spill(struct __sched_stack_cache *c, int k)
{
	struct __sched_stack out[WEFT_STACK_CACHE];
	int nout = 0;

	pool_lock();
	for (int i = 0; i < k; i++) {
		size_t map_size = c->e[i].map_size, guard = c->e[i].guard;
		if (pool_push(c->e[i].map, map_size, guard,
		    c->e[i].trimmed ? TRIMMED : YOUNG))
			out[nout++] = (struct __sched_stack){ c->e[i].map,
				map_size, guard };
		c->bytes -= map_size;
	}
	pool_unlock();
	c->n -= k;
	memmove(&c->e[0], &c->e[k], c->n * sizeof c->e[0]);
	while (nout)
		__sched_stack_free(&out[--nout]);
}

int __sched_stack_cache_get(struct __sched_stack_cache *c,
	struct __sched_stack *s, size_t size, size_t guard, size_t zero)
{
	struct pool_node *n[WEFT_STACK_CACHE / 2 + 1];
	int trimmed[WEFT_STACK_CACHE / 2 + 1], i, k, room;
	size_t map_size;

	/* The newest, of the shape asked for (page multiples already, as
	 * pthread_create asks): most creates. */
	i = c ? c->n - 1 : -1;
	if (i >= 0 && c->e[i].guard == guard &&
	    c->e[i].map_size - guard == size) {
		c->n = i;
		c->bytes -= c->e[i].map_size;
		return reuse(s, c->e[i].map, c->e[i].map_size, guard, zero,
			c->e[i].trimmed);
	}
	if (!c || shape(&size, &guard) || !cacheable(size + guard, guard))
		return __sched_stack_get(s, size, guard, zero);
	map_size = size + guard;
	for (i = c->n - 1; i >= 0; i--) {
		if (c->e[i].map_size != map_size || c->e[i].guard != guard)
			continue;
		void *map = c->e[i].map;
		int t = c->e[i].trimmed;
		c->bytes -= map_size;
		c->n--;
		memmove(&c->e[i], &c->e[i + 1], (c->n - i) * sizeof c->e[0]);
		return reuse(s, map, map_size, guard, zero, t);
	}
	/* A miss: one for s, and up to half a cache more while the lock is
	 * held, the hottest of them cached newest. */
	if (!__atomic_load_n(&pool.bytes, __ATOMIC_RELAXED))
		return __sched_stack_alloc(s, size, guard);
	room = WEFT_STACK_CACHE - c->n;
	if (room > WEFT_STACK_CACHE / 2)
		room = WEFT_STACK_CACHE / 2;
	if ((WEFT_STACK_CACHE_BYTES - c->bytes) / map_size < (size_t)room)
		room = (WEFT_STACK_CACHE_BYTES - c->bytes) / map_size;
	pool_lock();
	k = pool_take(map_size, guard, n, trimmed, room + 1);
	pool_unlock();
	if (!k)
		return __sched_stack_alloc(s, size, guard);
	for (i = k - 1; i > 0; i--) {
		c->e[c->n].map = n[i]->map;
		c->e[c->n].map_size = map_size;
		c->e[c->n].guard = guard;
		c->e[c->n].trimmed = trimmed[i];
		c->n++;
		c->bytes += map_size;
	}
	return reuse(s, n[0]->map, map_size, guard, zero, trimmed[0]);
}

void __sched_stack_cache_put(struct __sched_stack_cache *c,
	struct __sched_stack *s)
{
	if (!s->map)
		return;
	if (!c || !cacheable(s->map_size, s->guard)) {
		__sched_stack_put(s);
		return;
	}
	while (__builtin_expect(c->n == WEFT_STACK_CACHE, 0) ||
	    c->bytes + s->map_size > WEFT_STACK_CACHE_BYTES)
		spill(c, c->n > 1 ? c->n / 2 : 1);
	c->e[c->n].map = s->map;
	c->e[c->n].map_size = s->map_size;
	c->e[c->n].guard = s->guard;
	c->e[c->n].trimmed = 0;
	c->n++;
	c->bytes += s->map_size;
	s->map = 0;
	s->map_size = s->guard = 0;
}

void __sched_stack_cache_flush(struct __sched_stack_cache *c)
{
	if (c && c->n)
		spill(c, c->n);
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
