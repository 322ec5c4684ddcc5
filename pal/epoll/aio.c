/*
 * aio.c - M:N backend: the process's Linux AIO context, for fsync,
 * fdatasync and O_DIRECT reads and writes (file.c).
 *
 * One context per process (io_setup), made by the first call that needs
 * it, with one eventfd: every iocb carries IOCB_FLAG_RESFD with it, and
 * the eventfd is registered in the netpoller (__np_register_hook).  A
 * task submits its iocb (io_submit), whose data names a struct req on
 * its stack, and parks on req.done.  When the netpoller sees the
 * eventfd readable, the polling worker's g0 reaps every completion
 * (io_getevents with a zero timeout, skipped when the ring's head and
 * tail say it is empty: libaio's aio_ring.h) and unparks each task by
 * its req.  The eventfd is edge-triggered and never read: the kernel
 * puts the event in the ring before it signals the eventfd, and each
 * signal is a new edge, so a completion after a reap's last look brings
 * another reap.  One worker reaps at a time; a poller that finds
 * another reaping leaves `again` set, and the reaper drains once more.
 *
 * Signals and cancellation.  An fsync under 1:1 sleeps in the kernel
 * until the disk is done, and a signal's handler runs, or a cancel
 * request acts, only after it returns (it never returns EINTR).  A
 * parked AIO call does the same: it never returns before the kernel has
 * finished with its iocb and buffer (no io_cancel: few files support
 * it, and a handler that longjmps out must not find the kernel still
 * writing its buffer).  From the submit to the completion the task is
 * in a scheduler critical section (scheduler.h), so a handler that
 * arrives meanwhile is left pending on it, and a signal that wakes it
 * (its park returns -EINTR) only makes it park again; the handlers run
 * when the call returns, where a deferred cancel request then acts at
 * the next cancellation point, as after a 1:1 fsync.
 *
 * When there is no AIO: io_setup refused with ENOSYS or EPERM (a
 * seccomp filter, a kernel without AIO) or EINVAL is remembered for the
 * process's life, and every call goes to the blocking handoff; EAGAIN
 * (aio-max-nr reached) and ENOMEM are tried again at the next call.
 * io_submit refusing a call (EAGAIN: AIO_EVENTS in flight; EINVAL: an
 * fd without fsync, a kernel before 4.18 for IOCB_CMD_FSYNC) sends that
 * call to the handoff (file.c); io_submit refused with ENOSYS or EPERM
 * turns AIO off too.  fork: the child has no context (the kernel does
 * not copy it) and closes the eventfd it inherited; exec: the eventfd
 * is close-on-exec and the kernel drops the context.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <libaio.h>
#include <aio_ring.h>
#include "syscall.h"
#include "pal.h"
#include "scheduler.h"
#include "netpoll.h"
#include "io.h"
#include "aio.h"

/* Calls in flight at once (io_setup's nr_events); one more gets EAGAIN
 * from io_submit and makes its call on the worker.  The kernel counts
 * about twice this against /proc/sys/fs/aio-max-nr (65,536 by default). */
#define AIO_EVENTS 256
#define REAP_BATCH 32

/* A parked call, on its task's stack: iocb.data points here. */
struct req {
	volatile int done;	/* set by the reaper, after res */
	long res;		/* the completion's result */
};

static io_context_t ctx;		/* valid while state > 0 */
static int efd = -1;			/* the eventfd; likewise */
static volatile int state;		/* 0 none yet, 1 ready, -errno: no AIO
					 * for this process; lock to change */
static volatile int lock;		/* making the context */
static volatile int reaping, again;	/* one reaper at a time (above) */

static void spin_lock(volatile int *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

static void spin_unlock(volatile int *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

/* Wake the tasks whose calls completed; from the polling worker's g0,
 * one at a time.  Returns the number woken. */
static int drain(void)
{
	struct io_event ev[REAP_BATCH];
	struct timespec zero = { 0, 0 };
	int n, woke = 0;
	do {
		if (aio_ring_is_empty(ctx, &zero)) break;
		n = __syscall(SYS_io_getevents, ctx, 0, REAP_BATCH, ev, &zero);
		for (int i = 0; i < n; i++) {
			struct req *q = ev[i].data;
			q->res = (long)ev[i].res;
			/* The task may see done and return at once: q is not
			 * touched again, and a wake of its address that finds
			 * another waiter there is a spurious wake. */
			__atomic_store_n(&q->done, 1, __ATOMIC_SEQ_CST);
			woke += __sched_lot_wake(&q->done, 1, __sched_unpark_io);
		}
	} while (n == REAP_BATCH);
	return woke;
}

/* The netpoller's hook for the eventfd. */
static int reap(void)
{
	struct task *g = __sched_self();
	int woke = 0;
	__sched_nosig_enter(g);
	__atomic_store_n(&again, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&again, __ATOMIC_SEQ_CST) &&
	       !__atomic_exchange_n(&reaping, 1, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&again, 0, __ATOMIC_SEQ_CST);
		woke += drain();
		__atomic_store_n(&reaping, 0, __ATOMIC_SEQ_CST);
	}
	__sched_nosig_leave(g);
	return woke;
}

/* Refusals that will not change for this process. */
static int for_good(int err)
{
	return err == -ENOSYS || err == -EPERM || err == -EINVAL;
}

/* Make the context (called by the task t): 0, or -errno. */
static int setup(struct task *t)
{
	__sched_nosig_enter(t);
	spin_lock(&lock);
	if (!state) {
		io_context_t c = 0;
		int e = -1, r = __syscall(SYS_io_setup, AIO_EVENTS, &c);
		if (!r && (e = r = __syscall(SYS_eventfd2, 0, EFD_NONBLOCK|EFD_CLOEXEC)) >= 0)
			r = __np_register_hook(e, reap, 0);
		if (r < 0) {
			if (e >= 0) __syscall(SYS_close, e);
			if (c) __syscall(SYS_io_destroy, c);
			if (for_good(r)) state = r;
		} else {
			ctx = c;
			efd = e;
			__atomic_store_n(&state, 1, __ATOMIC_RELEASE);
		}
	}
	int s = state;
	spin_unlock(&lock);
	__sched_nosig_leave(t);
	return s > 0 ? 0 : s < 0 ? s : -EAGAIN;
}

int __pal_aio_call(struct task *t, struct iocb *cb, long *res)
{
	struct req q = { 0, 0 };
	struct iocb *list[1] = { cb };
	int r;

	if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) <= 0 && (r = setup(t)))
		return r;
	io_set_eventfd(cb, efd);
	cb->data = &q;
	/* Until the completion (see the top). */
	__sched_nosig_enter(t);
	/* Counted as a netpoller waiter: workers poll while it waits. */
	__atomic_fetch_add(&__np_waiters, 1, __ATOMIC_SEQ_CST);
	r = __syscall(SYS_io_submit, ctx, 1, list);
	if (r == 1) {
		while (!__atomic_load_n(&q.done, __ATOMIC_ACQUIRE))
			__pal_park(&q.done, 0, 0, 0);
		*res = q.res;
		r = 0;
	} else if (r >= 0) {
		r = -EAGAIN;
	} else if (r == -ENOSYS || r == -EPERM) {
		__atomic_store_n(&state, r, __ATOMIC_RELEASE);
	}
	__atomic_fetch_sub(&__np_waiters, 1, __ATOMIC_RELAXED);
	__sched_nosig_leave(t);
	return r;
}

void __pal_aio_fork_child(void)
{
	if (state > 0) {
		__syscall(SYS_close, efd);
		state = 0;
	}
	ctx = 0;
	efd = -1;
	lock = reaping = again = 0;
}
