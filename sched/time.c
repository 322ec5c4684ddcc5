/*
 * time.c - timers: the heap of tasks by deadline that times out waits
 * (find_runnable runs it), and SIGEV_THREAD timers, whose kernel
 * signals the monitor forwards to the task attached.  See proc.c.
 */
#define _GNU_SOURCE
#include "runtime.h"

/* ---- Timers: a binary min-heap of tasks by deadline, under S.tlock ------ */

static void heap_set(int i, struct task *t)
{
	S.heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(int i)
{
	struct task *t = S.heap[i];
	while (i > 0 && S.heap[(i - 1) / 2]->deadline > t->deadline) {
		heap_set(i, S.heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(i, t);
}

static void heap_down(int i)
{
	struct task *t = S.heap[i];
	for (;;) {
		int c = 2 * i + 1;
		if (c >= S.nheap) break;
		if (c + 1 < S.nheap && S.heap[c + 1]->deadline < S.heap[c]->deadline) c++;
		if (S.heap[c]->deadline >= t->deadline) break;
		heap_set(i, S.heap[c]);
		i = c;
	}
	heap_set(i, t);
}

static void heap_remove(struct task *t)
{
	int i = t->heap_idx;
	struct task *last = S.heap[--S.nheap];
	t->heap_idx = -1;
	if (last == t) return;
	heap_set(i, last);
	heap_up(i);
	heap_down(last->heap_idx);
}

void __sched_timer_arm(struct task *t, uint64_t deadline)
{
	spin_lock(&S.tlock);
	t->deadline = deadline;
	heap_set(S.nheap++, t);
	heap_up(S.nheap - 1);
	spin_unlock(&S.tlock);
}

void __sched_timer_disarm(struct task *t)
{
	spin_lock(&S.tlock);
	if (t->heap_idx >= 0) heap_remove(t);
	spin_unlock(&S.tlock);
	while (__atomic_load_n(&t->timer_busy, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

/* Time out every expired wait; returns the next deadline (0: none). */
uint64_t __sched_run_timers(void)
{
	struct task *batch[32];
	uint64_t now, next;
	int n;

	do {
		if (!__atomic_load_n(&S.nheap, __ATOMIC_RELAXED)) return 0;
		now = __sched_now();
		n = 0;
		spin_lock(&S.tlock);
		while (S.nheap && S.heap[0]->deadline <= now && n < 32) {
			struct task *t = S.heap[0];
			heap_remove(t);
			t->timer_busy = 1;
			batch[n++] = t;
		}
		next = S.nheap ? S.heap[0]->deadline : 0;
		spin_unlock(&S.tlock);
		for (int i = 0; i < n; i++) {
			struct task *t = batch[i];
			int removed = __sched_lot_remove(&t->w, -ETIMEDOUT);
			/* Done with t->w: a waiter this removed stays parked
			 * until the unpark below (lot.h: the remover unparks),
			 * so its disarm cannot be waiting yet; one woken by
			 * someone else may be, and must not wait for our
			 * unpark's wake of a worker (a futex syscall; the
			 * corpus's sqlite_wal spent 12-17% of its time here
			 * when this store came after the unpark). */
			__atomic_store_n(&t->timer_busy, 0, __ATOMIC_RELEASE);
			if (removed) __sched_unpark(t);
		}
	} while (n == 32);
	return next;
}

/* Bool: a wait's deadline has passed and no worker has timed it out
 * yet (the monitor's test: such a task is work, as a queued one is). */
int __sched_timer_due(uint64_t now)
{
	int due;
	if (!__atomic_load_n(&S.nheap, __ATOMIC_RELAXED)) return 0;
	spin_lock(&S.tlock);
	due = S.nheap && S.heap[0]->deadline <= now;
	spin_unlock(&S.tlock);
	return due;
}

/* ---- SIGEV_THREAD timers (scheduler.h) ---------------------------------- */

static struct {
	int lock;
	struct __sched_timer *head;
	uintptr_t cookie;		/* the last one given out */
} timers;

int __sched_timer_attach(struct __sched_timer *r, struct __pthread *td,
	union sigval *value)
{
	spin_lock(&timers.lock);
	r->td = td;
	r->t = td->pal;
	r->cookie = ++timers.cookie;
	r->next = timers.head;
	timers.head = r;
	spin_unlock(&timers.lock);
	value->sival_ptr = (void *)r->cookie;
	return S.mon.ktid;
}

void __sched_timer_detach(struct __sched_timer *r)
{
	spin_lock(&timers.lock);
	for (struct __sched_timer **p = &timers.head; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	spin_unlock(&timers.lock);
}

void __sched_timer_kill(struct __pthread *td)
{
	struct task *self = __sched_self();
	__sched_nosig_enter(self);
	spin_lock(&timers.lock);
	struct __sched_timer *r = timers.head;
	while (r && r->td != td) r = r->next;
	if (r) __sched_kill_task(r->t, SIGTIMER);
	spin_unlock(&timers.lock);
	__sched_nosig_leave(self);
}

/* On the monitor: a SIGTIMER from a kernel timer, for the task attached
 * with its cookie, if that one is still attached.  Merged into one not
 * yet taken (timer_sig set), as the kernel merges a timer's signals. */
void __sched_timer_forward(const siginfo_t *si)
{
	if (si->si_code != SI_TIMER) return;
	uintptr_t c = (uintptr_t)si->si_value.sival_ptr;
	spin_lock(&timers.lock);
	struct __sched_timer *r = timers.head;
	while (r && r->cookie != c) r = r->next;
	if (r && !__atomic_exchange_n(&r->t->timer_sig, 1, __ATOMIC_ACQ_REL))
		__sched_kill_task(r->t, SIGTIMER);
	spin_unlock(&timers.lock);
}

void __sched_timers_fork_child(void)
{
	/* The parent's timer helpers are not in the child (nor are its
	 * timers: timer_create(2)). */
	memset(&timers, 0, sizeof timers);
}

/* Bool: some SIGEV_THREAD timer is attached (its signal may wake a task
 * at any time: the monitor's deadlock report). */
int __sched_timers_attached(void)
{
	return __atomic_load_n(&timers.head, __ATOMIC_RELAXED) != 0;
}
