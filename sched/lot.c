/* lot.c - the parking lot; the protocol is described in lot.h. */
#define _DEFAULT_SOURCE		/* MADV_DONTNEED */
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "lot.h"
#include "sys.h"

/* 2^15 buckets of 32 bytes: 1 MiB of zero pages, resident only where an
 * address hashed (a page per 128 buckets), so the table costs a program
 * with many futexes at most 1 MiB.  A bucket's queue is scanned whole on
 * a wake, so its length is what a wake costs: with 2^10 buckets, the
 * 10^6-leaf spawn tree (~10^5 joiners parked at once) spent 90% of its
 * time scanning and spinning on bucket locks.  Two buckets share a cache
 * line: contention between them needs two busy addresses to hash there. */
#define LOT_BITS 15

struct __sched_bucket {
	int lock;			/* 0 free, 1 held */
	struct __sched_waiter *head;	/* FIFO of waiters; lock */
	struct __sched_waiter *tail;
	uint64_t woken;			/* addr << 16 | n: n waiters on addr
					 * woken by wake_lock have not yet
					 * landed; atomic (lot.h) */
} __attribute__((aligned(32)));
_Static_assert(sizeof(struct __sched_bucket) == 32, "two buckets a line");

static struct __sched_bucket lot[1 << LOT_BITS] __attribute__((aligned(4096)));
_Static_assert(sizeof lot % 4096 == 0, "the table must own its pages");

static struct __sched_bucket *bucket(volatile void *addr)
{
	uint64_t h = (uint64_t)(uintptr_t)addr * 0x9e3779b97f4a7c15ULL;
	return &lot[h >> (64 - LOT_BITS)];
}

static void lock(struct __sched_bucket *b)
{
	unsigned n = 0;
	while (__atomic_exchange_n(&b->lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&b->lock, __ATOMIC_RELAXED))
			__sched_spin_wait(&n);
}

static void unlock(struct __sched_bucket *b)
{
	__atomic_store_n(&b->lock, 0, __ATOMIC_RELEASE);
}

struct __sched_bucket *__sched_lot_lock(volatile void *addr)
{
	struct __sched_bucket *b = bucket(addr);
	lock(b);
	return b;
}

void __sched_lot_unlock(struct __sched_bucket *b)
{
	unlock(b);
}

static void append(struct __sched_bucket *b, struct __sched_waiter *w)
{
	w->next = 0;
	w->prev = b->tail;
	if (b->tail) b->tail->next = w;
	else __atomic_store_n(&b->head, w, __ATOMIC_RELAXED);	/* see wake */
	b->tail = w;
	w->queued = 1;
}

static void unlink_waiter(struct __sched_bucket *b, struct __sched_waiter *w)
{
	if (w->prev) w->prev->next = w->next;
	else __atomic_store_n(&b->head, w->next, __ATOMIC_RELAXED);
	if (w->next) w->next->prev = w->prev;
	else b->tail = w->prev;
	w->queued = 0;
}

void __sched_lot_enqueue(struct __sched_bucket *b, struct __sched_waiter *w,
	volatile void *addr, void *task)
{
	__atomic_store_n(&w->addr, addr, __ATOMIC_RELAXED);
	w->task = task;
	w->result = 0;
	w->landing = 0;
	append(b, w);
}

/* Bucket locked: detach up to n waiters on addr onto *list (linked by
 * ->next), result 0.  Returns how many. */
static int take(struct __sched_bucket *b, volatile void *addr, int n,
	struct __sched_waiter **list)
{
	struct __sched_waiter *w, *next, **end = list;
	int k = 0;

	for (w = b->head; w && k != n; w = next) {
		next = w->next;
		if (w->addr != addr) continue;
		unlink_waiter(b, w);
		w->result = 0;
		*end = w;
		end = &w->next;
		k++;
	}
	*end = 0;
	return k;
}

/* The waiters are off every queue; read ->next before unparking, since
 * an unparked task may run and reuse its waiter at once. */
static void unpark_all(struct __sched_waiter *w, __sched_unpark_fn *unpark)
{
	while (w) {
		struct __sched_waiter *next = w->next;
		unpark(w->task);
		w = next;
	}
}

int __sched_lot_wake(volatile void *addr, int n, __sched_unpark_fn *unpark)
{
	struct __sched_bucket *b = bucket(addr);
	struct __sched_waiter *list;
	int k;

	if (n == 0) return 0;
	/* An empty bucket is skipped without its lock, which a contended
	 * mutex's every unlock would otherwise bounce between workers.  The
	 * caller changed the word before calling; a waiter queues before it
	 * reads the word (lot.h); the fences order the two sides. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&b->head, __ATOMIC_RELAXED)) return 0;
	lock(b);
	k = take(b, addr, n, &list);
	unlock(b);
	unpark_all(list, unpark);
	return k;
}

#define WOKEN_N 0xffff

int __sched_lot_wake_lock(volatile void *addr, __sched_unpark_fn *unpark)
{
	struct __sched_bucket *b = bucket(addr);
	uint64_t a = (uintptr_t)addr, f, nf;
	struct __sched_waiter *w;

	if (a >> 48) return __sched_lot_wake(addr, 1, unpark);	/* no room */
	/* The caller's release is ordered before this read, and a landing
	 * waiter's decrement before its retry: seeing its count here means
	 * its retry comes after the release.  The release is musl's a_swap
	 * (asm, not a C11 atomic), hence the fence, as in wake; on x86_64
	 * the xchg already is one. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	f = __atomic_load_n(&b->woken, __ATOMIC_SEQ_CST);
	if ((f & WOKEN_N) && f >> 16 == a) return 0;
	if (!__atomic_load_n(&b->head, __ATOMIC_RELAXED)) return 0;
	lock(b);
	if (!take(b, addr, 1, &w)) {
		unlock(b);
		return 0;
	}
	/* Count it in flight, if the bucket's slot is free or addr's (else
	 * later releases just wake as a plain futex would). */
	f = __atomic_load_n(&b->woken, __ATOMIC_RELAXED);
	for (;;) {
		if (!(f & WOKEN_N)) nf = a << 16 | 1;
		else if (f >> 16 == a && (f & WOKEN_N) != WOKEN_N) nf = f + 1;
		else break;
		if (__atomic_compare_exchange_n(&b->woken, &f, nf, 1,
		    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
			w->landing = b;
			break;
		}
	}
	unlock(b);
	unpark(w->task);
	return 1;
}

void __sched_lot_landed(struct __sched_waiter *w)
{
	__atomic_fetch_sub(&w->landing->woken, 1, __ATOMIC_SEQ_CST);
	w->landing = 0;
}

int __sched_lot_requeue(volatile void *from, int nwake, int nmove,
	volatile void *to, __sched_unpark_fn *unpark)
{
	struct __sched_bucket *bf = bucket(from), *bt = bucket(to);
	struct __sched_waiter *list, *w, *next;
	int k, m = 0;

	/* Two buckets are locked in address order. */
	if (bf == bt) lock(bf);
	else if (bf < bt) lock(bf), lock(bt);
	else lock(bt), lock(bf);
	k = take(bf, from, nwake, &list);
	for (w = bf->head; w && m != nmove; w = next) {
		next = w->next;
		if (w->addr != from) continue;
		unlink_waiter(bf, w);
		__atomic_store_n(&w->addr, to, __ATOMIC_RELAXED);	/* see remove */
		append(bt, w);
		m++;
	}
	unlock(bf);
	if (bt != bf) unlock(bt);
	unpark_all(list, unpark);
	return k + m;
}

int __sched_lot_remove(struct __sched_waiter *w, int err)
{
	/* w->addr changes only under its bucket's lock (requeue), so lock
	 * the bucket it names and check it still does. */
	for (;;) {
		volatile void *addr = __atomic_load_n(&w->addr, __ATOMIC_SEQ_CST);
		struct __sched_bucket *b = bucket(addr);
		lock(b);
		if (w->addr != addr) {
			unlock(b);
			continue;
		}
		int queued = w->queued;
		if (queued) {
			unlink_waiter(b, w);
			w->result = err;
		}
		unlock(b);
		return queued;
	}
}

int __sched_lot_remove_locked(struct __sched_bucket *b,
	struct __sched_waiter *w, int err)
{
	if (!w->queued) return 0;
	unlink_waiter(b, w);
	w->result = err;
	return 1;
}

struct __sched_waiter *__sched_lot_dequeue(struct __sched_bucket *b,
	volatile void *addr, int *more)
{
	struct __sched_waiter *w, *first = 0;
	*more = 0;
	for (w = b->head; w; w = w->next) {
		if (w->addr != addr) continue;
		if (first) {
			*more = 1;
			break;
		}
		first = w;
	}
	if (first) {
		unlink_waiter(b, first);
		first->result = 0;
	}
	return first;
}

int __sched_lot_has_waiters(struct __sched_bucket *b, volatile void *addr)
{
	for (struct __sched_waiter *w = b->head; w; w = w->next)
		if (w->addr == addr) return 1;
	return 0;
}

void __sched_lot_prepare(struct __sched_waiter *w, volatile void *addr)
{
	__atomic_store_n(&w->addr, addr, __ATOMIC_SEQ_CST);
}

void __sched_lot_reset(void)
{
	/* The table has its pages to itself: dropping them zeroes it, at
	 * the cost of the pages in use, where a memset would touch 1 MiB. */
	if (__sched_syscall(SYS_madvise, (long)lot, sizeof lot, MADV_DONTNEED,
	    0, 0, 0))
		memset(lot, 0, sizeof lot);
}
