/*
 * call.c - the uring backend's blocking calls: which go to the worker's
 * io_uring (ring.c), and how a task waits for one.
 *
 * On the ring, made by a task (not g0, not before the scheduler):
 *   - sockets: read, readv, recvfrom, recvmsg (IORING_OP_RECV,
 *     _RECVMSG), write, writev, sendto, sendmsg (_SEND, _SENDMSG),
 *     accept, accept4 (_ACCEPT), connect (_CONNECT);
 *   - pipes and FIFOs: read and readv (_READ, _READV at the file
 *     position);
 *   - open and openat (_OPENAT).
 * Not regular files (read, write, pread, pwrite, fsync: the epoll
 * backend's file.c and Linux AIO).  They were on the ring at first
 * (commit 020e0a4 has the code: IORING_OP_READ, _WRITE, _READV,
 * _WRITEV, _FSYNC, O_DIRECT at the file position excepted), and the
 * conformance suite's inotify_task then failed in about one run in six,
 * with IN_CLOSE_WRITE after the events that followed the close: a ring
 * request holds a reference to its file until the kernel frees it, on
 * the worker that submitted it, after the completion is posted; a task
 * woken by another worker's reap can close the fd in between, and the
 * file's last reference (IN_CLOSE_WRITE, flock release, the space of an
 * unlinked file) then goes with the request, after close returned.  The
 * same window exists for sockets and pipes (a FIN, a pipe's last reader
 * or writer), where it has not been seen to change a test's output; the
 * fix, reaping a ring only on the worker that submitted to it (whose
 * return to user space runs the kernel's deferred file release first),
 * is left for later (pal/uring/EXPERIMENTAL).
 * Everything else goes the epoll backend's way (pal/epoll/io.c, file.c),
 * and so do these in the cases where the ring would not give 1:1's
 * answer, or has no benefit:
 *   - an fd whose description is O_NONBLOCK, and MSG_DONTWAIT and every
 *     other flag but MSG_NOSIGNAL (MSG_PEEK, MSG_WAITALL, MSG_OOB...):
 *     one try as is, or the netpoller's special cases;
 *   - a socket with SO_RCVTIMEO (reads, accept) or SO_SNDTIMEO (writes,
 *     connect): the kernel's io_uring ignores them, the netpoller keeps
 *     them;
 *   - writes to pipes: pipe_write raises SIGPIPE on the thread that
 *     makes the write, which for a ring entry is the worker (or an
 *     io-wq thread), not the task;
 *   - ttys, eventfds, signalfds, timerfds, inotify, epoll fds and
 *     devices: a signalfd read on the ring would read the worker's
 *     signals; the others gain nothing;
 *   - poll, select, epoll_wait and sleeps: the netpoller and the
 *     scheduler's timers (ring timeouts are left out for now);
 *   - close: the epoll backend's, which moves the calls the netpoller
 *     has parked on the fd to a keepalive; the calls on the ring hold
 *     their file in the kernel already, as a 1:1 blocked call does.
 *     Every ring is flushed first (__ring_call), so a call queued on the
 *     fd holds its file before the number can be reused.
 *
 * Waiting.  The task fills its entry and parks on its record (struct
 * ureq, on its stack); the worker submits at its next round and the
 * reaper unparks it.  Two ways, as 1:1 sleeps:
 *   - interruptible (sockets, pipes, open): a signal whose handler has
 *     SA_RESTART, or that runs no handler, leaves the call in flight
 *     (the handler runs, the task parks again); a handler without
 *     SA_RESTART, or a due cancellation (the call is a cancellation
 *     point), cancels the entry (IORING_OP_ASYNC_CANCEL) and waits for
 *     its completion, which must come before the stack that holds the
 *     buffer and the record goes away.  Cancelled (-ECANCELED, -EINTR):
 *     the call returns -EINTR, or the cancellation acts.  Completed
 *     first: its result is returned (the cancellation then acts at the
 *     next cancellation point), as a 1:1 call that had already
 *     transferred data.
 *   - uninterruptible (for calls 1:1 sleeps for in the kernel
 *     uninterruptibly, file I/O: none at present, see above): as aio.c,
 *     the task is in a critical section until the completion, so
 *     handlers and a cancellation request that come meanwhile act after
 *     it.
 * A completion -ECANCELED that the call did not ask for (the kernel
 * cancels what a thread submitted when that thread exits: a retiring
 * spare worker) makes the call again on the task's current worker.
 *
 * A send is first tried without waiting (MSG_DONTWAIT, from the task:
 * the try io_uring itself makes at submission, made before the worker's
 * round); only what does not fit goes on the ring.  Reads are not tried
 * first: they go on the ring at once, and the kernel tries them there.
 * Writes on a blocking socket write everything, as a 1:1 stream socket
 * does: a short count queues the rest (up to IOV_BATCH buffers for
 * writev and sendmsg; past that the count is returned).  Every send
 * carries MSG_NOSIGNAL; EPIPE with nothing written, on a call that did
 * not ask for MSG_NOSIGNAL, raises SIGPIPE on the task, as the kernel
 * raises it on the calling thread.  An interrupted write returns the
 * count so far if there is one.
 *
 * Limits: an open interrupted by a handler without SA_RESTART in the short time
 * before it runs returns EINTR, where a 1:1 open of a regular file
 * would have completed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "pthread_impl.h"
/* linux/limits.h (liburing.h includes linux/fs.h) has its own
 * NGROUPS_MAX; nothing here uses either. */
#undef NGROUPS_MAX
#include <liburing.h>
#include "syscall.h"
#include "pal.h"
#include "scheduler.h"
#include "netpoll.h"
#include "io.h"
#include "ring.h"
#include "call.h"


/* ring_op's result for a call ended by a due cancellation. */
#define CANCELLED (-4099L)

struct op {
	struct ureq q;
	struct ring *r;
};

/* One entry: liburing's io_uring_prep_rw and the union word that holds
 * msg_flags, rw_flags, accept_flags, fsync_flags and open_flags. */
struct desc {
	int opcode, fd;
	const void *addr;
	unsigned len;
	uint64_t off;		/* or addr2: accept's addrlen */
	unsigned flags;
};

static int cancel_due(void)
{
	struct pthread *self = __pthread_self();
	return self->cancel && self->canceldisable != PTHREAD_CANCEL_DISABLE;
}

/* Queue d on t's ring and wait for its completion (see the top); intr:
 * interruptible.  In and out of a critical section; returns NOT_TAKEN
 * if there is no ring or no room on it (nothing was queued). */
static long ring_op(struct task *t, const struct desc *d, int cp, int intr)
{
	struct op o;
	int why;
	/* A pending request acts before the call, as musl's
	 * __syscall_cp: nothing is consumed. */
	if (cp && cancel_due()) return CANCELLED;
again:
	why = 0;
	__sched_nosig_enter(t);
	struct io_uring_sqe *s = (o.r = __ring_self(t)) ? __ring_sqe(o.r) : 0;
	if (!s) {
		__sched_nosig_leave(t);
		return NOT_TAKEN;
	}
	io_uring_prep_rw(d->opcode, s, d->fd, d->addr, d->len, d->off);
	s->rw_flags = d->flags;
	o.q.done = 0;
	__ring_queue(o.r, &o.q);
	/* Counted as a netpoller waiter: idle workers poll (ring.c's
	 * eventfd) while it waits. */
	__atomic_fetch_add(&__np_waiters, 1, __ATOMIC_SEQ_CST);
	if (intr) {
		__sched_nosig_leave(t);
		int flags = (cp ? PAL_WAIT_CANCEL | PARK_CANCEL_LATER : 0) |
			PARK_SIGRAN(SIGRAN_NORESTART);
		while (!__atomic_load_n(&o.q.done, __ATOMIC_ACQUIRE)) {
			int w = __pal_park(&o.q.done, 0, 0, flags);
			if (w == -ECANCELED) why = CANCELLED;
			else if (w == -EINTR && (t->sigran & SIGRAN_NORESTART)) why = -EINTR;
			if (why) break;
		}
		__sched_nosig_enter(t);
		if (why && !__atomic_load_n(&o.q.done, __ATOMIC_ACQUIRE))
			__ring_cancel(o.r, &o.q);
	}
	while (!__atomic_load_n(&o.q.done, __ATOMIC_ACQUIRE))
		__pal_park(&o.q.done, 0, 0, 0);
	__atomic_fetch_sub(&__np_waiters, 1, __ATOMIC_RELAXED);
	__sched_nosig_leave(t);
	long r = o.q.res;
	if (r == -ECANCELED || r == -EINTR) {
		if (why) return why;
		if (r == -ECANCELED) goto again;
	}
	return r;
}

/* The result of a call as the program's: a due cancellation acts. */
static long end(long r)
{
	return r == CANCELLED ? __pal_cancel_act() : r;
}

/* ---- Sockets --------------------------------------------------------- */

/* One send of d without waiting (MSG_DONTWAIT), from the task. */
static long try_send(const struct desc *d)
{
	if (d->opcode == IORING_OP_SEND)
		return __syscall(SYS_sendto, d->fd, d->addr, d->len,
			d->flags | MSG_DONTWAIT, 0, 0);
	return __syscall(SYS_sendmsg, d->fd, d->addr, d->flags | MSG_DONTWAIT);
}

/* A blocking send of everything (see the top): d is IORING_OP_SEND
 * (addr, len) or _SENDMSG (addr: a struct msghdr); uflags: the flags
 * the program gave.  The first part waits on the ring as a send; once
 * part of it is out, the rest waits as a poll for POLLOUT and is then
 * tried again: a send on the ring that failed (a reset) would take the
 * socket's pending error, which the kernel's blocking send, having
 * written a first part, leaves for the next call (pal/epoll/io.c's
 * fd_write does the same). */
static long send_all(struct task *t, struct desc *d, int cp, int uflags)
{
	struct iovec iov[IOV_BATCH];
	struct msghdr m;
	const struct msghdr *um = d->addr;
	size_t done = 0, total = d->len;
	long r;
	if (d->opcode == IORING_OP_SENDMSG) {
		total = 0;
		for (size_t i = 0; i < (size_t)um->msg_iovlen; i++)
			total += um->msg_iov[i].iov_len;
	}
	d->flags |= MSG_NOSIGNAL;
	if (cp && cancel_due()) return CANCELLED;
	r = try_send(d);
	for (;;) {
		if (r == -EAGAIN && !done) {
			r = ring_op(t, d, cp, 1);
		} else if (r == -EAGAIN) {
			struct desc p = { IORING_OP_POLL_ADD, d->fd, 0, 0, 0, POLLOUT };
			long ev = ring_op(t, &p, cp, 1);
			if (ev == NOT_TAKEN || ev < 0 || (ev & POLLERR)) break;
			r = try_send(d);
			continue;
		}
		if (r <= 0 || r == NOT_TAKEN) break;
		done += r;
		if (done >= total) break;
		if (d->opcode == IORING_OP_SEND) {
			d->addr = (const char *)d->addr + r;
			d->len -= r;
		} else {
			int k = __pal_skip_iov(iov, um->msg_iov, um->msg_iovlen, done);
			if (k <= 0) break;
			m = *um;
			m.msg_iov = iov;
			m.msg_iovlen = k;
			m.msg_control = 0;	/* went with the first part */
			m.msg_controllen = 0;
			d->addr = &m;
		}
		r = try_send(d);
	}
	if (done) return done;
	if (r == -EPIPE && !(uflags & MSG_NOSIGNAL)) __pal_tkill(__pal_gettid(), SIGPIPE);
	return r;
}

static long sock_call(struct task *t, long nr, const long *a, int cp)
{
	struct desc d = { 0, a[0], (void *)a[1], a[2], 0, 0 };
	struct iovec one;
	struct msghdr m;
	int uflags = 0, rd = 1;
	long r;

	/* A count past what one call moves: the kernel's own answer. */
	if ((nr == SYS_read || nr == SYS_write || nr == SYS_recvfrom ||
	     nr == SYS_sendto) && (unsigned long)a[2] > 0x7ffff000UL)
		return NOT_TAKEN;
	switch (nr) {
	case SYS_read:
		d.opcode = IORING_OP_RECV;
		break;
	case SYS_recvfrom:
		if ((uflags = a[3])) return NOT_TAKEN;
		d.opcode = IORING_OP_RECV;
		if (!a[4]) break;
		if (!a[5]) return NOT_TAKEN;	/* the kernel's EFAULT */
		one = (struct iovec){ (void *)a[1], a[2] };
		m = (struct msghdr){ .msg_name = (void *)a[4],
			.msg_namelen = *(socklen_t *)a[5], .msg_iov = &one, .msg_iovlen = 1 };
		d = (struct desc){ IORING_OP_RECVMSG, a[0], &m, 1, 0, 0 };
		r = ring_op(t, &d, cp, 1);
		if (r >= 0) *(socklen_t *)a[5] = m.msg_namelen;
		return r;
	case SYS_readv:
		m = (struct msghdr){ .msg_iov = (void *)a[1], .msg_iovlen = a[2] };
		d = (struct desc){ IORING_OP_RECVMSG, a[0], &m, 1, 0, 0 };
		break;
	case SYS_recvmsg:
		if ((uflags = a[2])) return NOT_TAKEN;
		d = (struct desc){ IORING_OP_RECVMSG, a[0], (void *)a[1], 1, 0, 0 };
		break;
	case SYS_write:
		rd = 0;
		d.opcode = IORING_OP_SEND;
		break;
	case SYS_sendto:
		rd = 0;
		if ((uflags = a[3]) & ~MSG_NOSIGNAL) return NOT_TAKEN;
		d.opcode = IORING_OP_SEND;
		if (!a[4]) break;
		one = (struct iovec){ (void *)a[1], a[2] };
		m = (struct msghdr){ .msg_name = (void *)a[4], .msg_namelen = a[5],
			.msg_iov = &one, .msg_iovlen = 1 };
		d = (struct desc){ IORING_OP_SENDMSG, a[0], &m, 1, 0, 0 };
		break;
	case SYS_writev:
		rd = 0;
		m = (struct msghdr){ .msg_iov = (void *)a[1], .msg_iovlen = a[2] };
		d = (struct desc){ IORING_OP_SENDMSG, a[0], &m, 1, 0, 0 };
		break;
	case SYS_sendmsg:
		rd = 0;
		if ((uflags = a[2]) & ~MSG_NOSIGNAL) return NOT_TAKEN;
		d = (struct desc){ IORING_OP_SENDMSG, a[0], (void *)a[1], 1, 0, 0 };
		break;
	case SYS_accept: case SYS_accept4:
		d = (struct desc){ IORING_OP_ACCEPT, a[0], (void *)a[1], 0,
			(uintptr_t)a[2], nr == SYS_accept4 ? a[3] : 0 };
		break;
	case SYS_connect:
		rd = 0;
		d = (struct desc){ IORING_OP_CONNECT, a[0], (void *)a[1], 0, a[2], 0 };
		break;
	default:
		return NOT_TAKEN;
	}
	/* Socket timeouts are the netpoller's (see the top). */
	if (__np_sock_timeo(a[0], !rd)) return NOT_TAKEN;
	if (d.opcode == IORING_OP_SEND || d.opcode == IORING_OP_SENDMSG)
		return send_all(t, &d, cp, uflags);
	return ring_op(t, &d, cp, 1);
}

/* ---- Pipes, files, open ---------------------------------------------- */

static long pipe_call(struct task *t, long nr, const long *a, int cp)
{
	struct desc d = { IORING_OP_READ, a[0], (void *)a[1], a[2], -1, 0 };
	if (nr == SYS_readv) d.opcode = IORING_OP_READV;
	else if (nr != SYS_read || (unsigned long)a[2] > 0x7ffff000UL) return NOT_TAKEN;
	return ring_op(t, &d, cp, 1);
}

static long open_call(struct task *t, long nr, const long *a, int cp)
{
	struct desc d = { IORING_OP_OPENAT, AT_FDCWD, (void *)a[0], a[2], 0, a[1] };
	if (nr == SYS_openat)
		d = (struct desc){ IORING_OP_OPENAT, a[0], (void *)a[1], a[3], 0, a[2] };
	return ring_op(t, &d, cp, 1);
}

long __ring_call(long nr, const long *a, int cp)
{
	struct task *t = __sched_self();
	long r;
	int f;

	/* A call queued on the fd must hold its file first. */
	if (nr == SYS_close) __ring_flush_all();
	if (!t || !t->id) return NOT_TAKEN;
	switch (nr) {
	case SYS_open: case SYS_openat:
		t->sigran = 0;
		return end(open_call(t, nr, a, cp));
	case SYS_read: case SYS_readv: case SYS_recvfrom: case SYS_recvmsg:
	case SYS_write: case SYS_writev: case SYS_sendto: case SYS_sendmsg:
	case SYS_accept: case SYS_accept4: case SYS_connect:
		break;
	default:
		return NOT_TAKEN;
	}
	f = __np_flags(a[0]);
	if (!(f & NP_KNOWN) || (f & NP_USERNB)) return NOT_TAKEN;
	/* What handlers run during this call (io.h, PARK_SIGRAN). */
	t->sigran = 0;
	if (f & NP_SOCK) r = sock_call(t, nr, a, cp);
	else if ((f & NP_STREAM) && !(f & NP_PKT)) r = pipe_call(t, nr, a, cp);
	else return NOT_TAKEN;	/* regular files: see the top */
	return end(r);
}
