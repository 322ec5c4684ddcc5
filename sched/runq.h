/*
 * runq.h - a worker's local run queue: a bounded ring of task pointers
 * with one producer (the owning worker) and many consumers (the owner
 * and thieves), after Go's runtime (runqput/runqget/runqgrab).
 *
 *   tail  written only by the owner (store-release after filling a slot)
 *   head  advanced by any consumer with a CAS (acquire/release)
 *   slot  a slot in [head, tail) is owned by the queue; a consumer reads
 *         it before its CAS on head, and the CAS tells whether the read
 *         counted.  The owner never writes a slot before head passes it.
 *
 * Indices are free-running uint32_t; tail - head is the length (<= SIZE).
 * No locks, no allocation; every function is async-signal-safe.
 */
#ifndef WEFT_SCHED_RUNQ_H
#define WEFT_SCHED_RUNQ_H

#include <stdint.h>

#ifndef hidden
#define hidden __attribute__((__visibility__("hidden")))
#endif

#define RUNQ_SIZE 256	/* power of two */

struct __sched_runq {
	uint32_t head;			/* any consumer, CAS */
	uint32_t tail;			/* owner only */
	void *slot[RUNQ_SIZE];		/* see above */
};

#define RUNQ_MASK (RUNQ_SIZE - 1)

/* Slots are read speculatively by consumers whose CAS may then fail while
 * the owner reuses the slot: relaxed atomics make that race well-defined
 * (plain moves on x86). */
#define RUNQ_LOAD(p) __atomic_load_n(&(p), __ATOMIC_RELAXED)
#define RUNQ_STORE(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELAXED)

/* put and get are on every switch: inline. */

/* Owner only.  Append t; returns 0, or -1 if the queue is full (the
 * caller then moves work to the global queue, see grab_half). */
static inline int __sched_runq_put(struct __sched_runq *q, void *t)
{
	uint32_t h = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);
	uint32_t tl = q->tail;

	if (tl - h >= RUNQ_SIZE) return -1;
	RUNQ_STORE(q->slot[tl & RUNQ_MASK], t);
	__atomic_store_n(&q->tail, tl + 1, __ATOMIC_RELEASE);
	return 0;
}

/* Owner only.  Remove the oldest task, or return 0 if empty. */
static inline void *__sched_runq_get(struct __sched_runq *q)
{
	for (;;) {
		uint32_t h = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);
		uint32_t tl = q->tail;
		if (tl == h) return 0;
		void *t = RUNQ_LOAD(q->slot[h & RUNQ_MASK]);
		if (__atomic_compare_exchange_n(&q->head, &h, h + 1, 0,
		    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return t;
	}
}

/* Owner only, when put failed: take half of the queue (the oldest
 * tasks), plus t, into out[] (room for RUNQ_SIZE/2 + 1) for the global
 * queue.  Returns how many were taken, or 0 if the queue was not full
 * or a thief took from it meanwhile (proc.c's push then queues the task
 * globally). */
hidden unsigned __sched_runq_grab_half(struct __sched_runq *q, void *t,
	void **out);

/* Any thread.  Move up to half of victim's tasks (rounded up) to thief's
 * queue, which must be empty and owned by the caller.  Returns one of the
 * stolen tasks for the caller to run directly, or 0 if there was nothing
 * to steal. */
hidden void *__sched_runq_steal(struct __sched_runq *thief,
	struct __sched_runq *victim);

/* Any thread: a racy snapshot of the length, for heuristics only. */
static inline uint32_t __sched_runq_len(const struct __sched_runq *q)
{
	uint32_t h = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);
	uint32_t t = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
	return t - h > RUNQ_SIZE ? 0 : t - h;
}

#endif
