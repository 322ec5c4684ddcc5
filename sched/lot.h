/*
 * lot.h - the parking lot: wait queues keyed by address, the user-space
 * futex under the M:N backend.  The lot only keeps queues; parking and
 * unparking a task is the scheduler's job, through the callback given to
 * the wake functions.
 *
 * A waiter (struct __sched_waiter, usually on the parked task's stack)
 * is queued in the bucket of its address while its bucket lock is held.
 * Exactly one party removes it: a waker (wake, requeue) or the waiter's
 * own side (timeout, signal, cancellation: __sched_lot_remove).  The
 * remover sets ->result and is then responsible for unparking it; a
 * waiter that was removed is never touched by the lot again, but for
 * its own __sched_lot_landed.
 *
 * To park without losing a wakeup, the waiter's task enqueues with the
 * bucket locked, issues a seq_cst fence and only then checks the futex
 * word (dequeuing itself if it changed), and the bucket lock is released
 * only after the task's context is saved (the scheduler does it after
 * switching away).  __sched_lot_wake reads an empty bucket without its
 * lock, after a seq_cst fence that follows the waker's change to the
 * word: as in the kernel's futex (hb->waiters before the value check),
 * either the waker sees the waiter queued or the waiter sees the new
 * word.  Bucket locks are spinlocks held for a few
 * instructions; nothing blocks or parks while holding one.
 */
#ifndef WEFT_SCHED_LOT_H
#define WEFT_SCHED_LOT_H

#include <stdint.h>

#ifndef hidden
#define hidden __attribute__((__visibility__("hidden")))
#endif

struct __sched_bucket;

struct __sched_waiter {
	volatile void *addr;		/* futex word; bucket lock */
	struct __sched_waiter *next;	/* bucket queue links; bucket lock */
	struct __sched_waiter *prev;
	void *task;			/* what the unpark callback gets; constant */
	int queued;			/* 1 while in a queue; bucket lock */
	int result;			/* 0 woken, or -errno; set by the remover */
	struct __sched_bucket *landing;	/* woken by __sched_lot_wake_lock:
					 * its count to drop on resuming
					 * (__sched_lot_landed); else 0.  Set
					 * by the waker before the unpark */
};

typedef void __sched_unpark_fn(void *task);

/* Lock / unlock the bucket that addr hashes to. */
hidden struct __sched_bucket *__sched_lot_lock(volatile void *addr);
hidden void __sched_lot_unlock(struct __sched_bucket *b);

/* Bucket of addr locked by the caller: append w (FIFO) for addr. */
hidden void __sched_lot_enqueue(struct __sched_bucket *b,
	struct __sched_waiter *w, volatile void *addr, void *task);

/* Remove up to n waiters on addr (n < 0: all), oldest first, set their
 * result to 0 and unpark each.  Returns the number woken. */
hidden int __sched_lot_wake(volatile void *addr, int n, __sched_unpark_fn *unpark);

/* A lock's release (musl's mutex unlock): wake the oldest waiter on
 * addr, unless a waiter woken by an earlier call for addr has not yet
 * resumed (__sched_lot_landed).  That one retries the lock after this
 * release, so it takes the lock, or sees an owner whose release will
 * wake, or waits again.  The contract on the waiters: each, once woken,
 * goes straight to that retry (timedlock's loop; condition waiters
 * requeued onto the mutex relock it), and one that is held up first (a
 * program handler runs on its task: the scheduler's
 * __sched_handler_enter) wakes another waiter in its place.  Without
 * this, each release would wake another waiter while the first still
 * sits in a run queue, and the woken tasks come back to contend and park
 * (Go's sync.Mutex keeps the same "woken" state, in its word).  Returns
 * the number woken, 0 or 1.  The caller released the lock (a seq_cst
 * RMW on its word) before calling. */
hidden int __sched_lot_wake_lock(volatile void *addr, __sched_unpark_fn *unpark);

/* A waiter with w->landing set, as its task resumes and before it
 * retries the lock: it is no longer in flight. */
hidden void __sched_lot_landed(struct __sched_waiter *w);

/* Wake up to nwake waiters on from, then move up to nmove of the rest to
 * wait on to without waking them.  Returns woken + moved. */
hidden int __sched_lot_requeue(volatile void *from, int nwake, int nmove,
	volatile void *to, __sched_unpark_fn *unpark);

/* The waiter's side gives up (timeout, signal, cancel): if w is still
 * queued, remove it with result err and return 1 (the caller then
 * unparks it, or simply returns if it never parked); return 0 if a waker
 * got there first (it has set the result and unparks it). */
hidden int __sched_lot_remove(struct __sched_waiter *w, int err);

/* The same, by a caller that holds w's bucket locked (the bucket of
 * w->addr): the scheduler, interrupting a task's park before it lets go
 * of the bucket.  Returns 1 if it removed w, 0 if w was not queued. */
hidden int __sched_lot_remove_locked(struct __sched_bucket *b,
	struct __sched_waiter *w, int err);

/* The waiter's side, with the bucket of addr locked, before it checks
 * whatever would stop it parking (a signal, a cancel request): say that
 * w waits on addr (a seq_cst store).  A remover publishes its reason
 * first (a seq_cst RMW) and then reads w->addr, so either the waiter
 * sees the reason or the remover locks this bucket and finds w queued.
 * Without it a remover could read a stale addr and lock another bucket. */
hidden void __sched_lot_prepare(struct __sched_waiter *w, volatile void *addr);

/* In a fork child: empty every queue and lock (the parent's waiters and
 * lock holders do not exist there). */
hidden void __sched_lot_reset(void);

/* Bucket of addr locked by the caller: remove the oldest waiter on addr
 * with result 0 and return it (0: none); *more says whether others
 * remain.  The caller unparks it, after unlocking.  For handoffs (a PI
 * unlock names the new owner in the word first). */
hidden struct __sched_waiter *__sched_lot_dequeue(struct __sched_bucket *b,
	volatile void *addr, int *more);

/* Bucket of addr locked by the caller: is anyone waiting on addr? */
hidden int __sched_lot_has_waiters(struct __sched_bucket *b, volatile void *addr);

#endif
