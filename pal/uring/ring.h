/* ring.h - the uring backend's per-worker io_urings (ring.c), for its
 * calls (call.c). */
#ifndef WEFT_PAL_URING_RING_H
#define WEFT_PAL_URING_RING_H

#ifndef hidden
#define hidden __attribute__((__visibility__("hidden")))
#endif

struct task;
struct ring;
struct io_uring_sqe;

/* A call in flight, on its task's stack: its entry's user_data.  The
 * reaper stores res, then done (and wakes the task parked on done);
 * after that it never touches the record again. */
struct ureq {
	volatile int done;
	int res;
};

/* The ring of the worker that runs t, made on first use; 0 if there is
 * none (io_uring refused for this process, or no memory now): the call
 * then goes the epoll backend's way.  In a critical section (t stays on
 * its worker). */
hidden struct ring *__ring_self(struct task *t);

/* A free entry of r, with r's submission queue locked, or 0 (the queue
 * is full and cannot be submitted now; r unlocked).  Fill it, then
 * __ring_queue(r, q): the entry carries q, is queued for the worker's
 * next round (scheduler.h, __sched_io_hooks) and r is unlocked.  In a
 * critical section. */
hidden struct io_uring_sqe *__ring_sqe(struct ring *r);
hidden void __ring_queue(struct ring *r, struct ureq *q);

/* Ask r's kernel to cancel the call of q (IORING_OP_ASYNC_CANCEL),
 * submitted at once; q still completes (-ECANCELED, or its own result
 * if it came first).  In a critical section. */
hidden void __ring_cancel(struct ring *r, struct ureq *q);

/* Submit what every ring holds queued: before a close, so that a call
 * queued on the fd holds its file before the number can be reused. */
hidden void __ring_flush_all(void);

#endif
