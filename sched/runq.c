/* runq.c - per-worker run queue; the protocol is described in runq.h. */
#include "runq.h"

#define MASK RUNQ_MASK
#define LOAD RUNQ_LOAD
#define STORE RUNQ_STORE

unsigned __sched_runq_grab_half(struct __sched_runq *q, void *t, void **out)
{
	uint32_t h = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);
	uint32_t tl = q->tail;
	uint32_t n = (tl - h) / 2;

	if (n != RUNQ_SIZE / 2) return 0;
	for (uint32_t i = 0; i < n; i++)
		out[i] = LOAD(q->slot[(h + i) & MASK]);
	if (!__atomic_compare_exchange_n(&q->head, &h, h + n, 0,
	    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		return 0;
	out[n] = t;
	return n + 1;
}

/* Copy up to half of victim's tasks into thief's ring at its tail, then
 * commit by advancing victim's head.  Only then are the copies ours. */
static uint32_t grab(struct __sched_runq *victim, void **ring, uint32_t at)
{
	for (;;) {
		uint32_t h = __atomic_load_n(&victim->head, __ATOMIC_ACQUIRE);
		uint32_t tl = __atomic_load_n(&victim->tail, __ATOMIC_ACQUIRE);
		uint32_t n = tl - h;
		n -= n / 2;
		if (n == 0) return 0;
		if (n > RUNQ_SIZE / 2) continue;	/* inconsistent read */
		for (uint32_t i = 0; i < n; i++)
			STORE(ring[(at + i) & MASK], LOAD(victim->slot[(h + i) & MASK]));
		if (__atomic_compare_exchange_n(&victim->head, &h, h + n, 0,
		    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return n;
	}
}

void *__sched_runq_steal(struct __sched_runq *thief, struct __sched_runq *victim)
{
	uint32_t tl = thief->tail;
	uint32_t n = grab(victim, thief->slot, tl);

	if (n == 0) return 0;
	n--;
	void *t = LOAD(thief->slot[(tl + n) & MASK]);
	if (n) __atomic_store_n(&thief->tail, tl + n, __ATOMIC_RELEASE);
	return t;
}
