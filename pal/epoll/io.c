/*
 * io.c - M:N backend: blocking I/O, poll/select/epoll_wait and sleeps
 * park the calling task instead of blocking its worker.
 *
 * Pollable fds (sockets, pipes, FIFOs, ttys, eventfds, epoll fds: what
 * epoll_ctl accepts) that a task blocks on are registered with the
 * netpoller (sched/netpoll.h).  The backend never changes an fd's open
 * file description: O_NONBLOCK stays as the program (or another process
 * sharing the description) set it, so F_GETFL, a child that inherits the
 * fd across fork+exec, sendfile, splice and raw syscall(2) all see what
 * they would under 1:1.  Instead each try of a blocking call is made
 * non-blocking for that call alone:
 *   - sockets: the send/recv family with MSG_DONTWAIT (read, readv,
 *     write and writev become recvfrom, recvmsg, sendto and sendmsg,
 *     which the kernel treats alike);
 *   - other fds: preadv2/pwritev2 at the current position with
 *     RWF_NOWAIT (pipes, FIFOs, eventfds, timerfds, signalfds);
 *   - where the kernel refuses RWF_NOWAIT (ttys, inotify: EOPNOTSUPP)
 *     and for accept: wait until poll says the fd is ready, then make
 *     the blocking call on the worker, one task per fd at a time
 *     (NP_INCALL), so that tasks of this process never take the data
 *     from under each other; another process can, and then the call
 *     blocks the worker (the monitor starts a spare);
 *   - connect: O_NONBLOCK is set for the connect call alone and cleared
 *     at once, then the task parks until the socket is writable.
 * Each call goes to the netpoller as a try and a wait (__np_io,
 * __np_io_multi; sched/netpoll.h), which learns the fd, links and parks
 * the task, and retries.  A try that finds nothing parks the task on the
 * fd's readiness counter unless the counter has moved since before the
 * try, so no edge is lost; and while the counter has not moved since a
 * try found the fd drained (EAGAIN, or a short read or write of a TCP
 * socket or a pipe), the next call parks without trying.
 * What the program sees is unchanged:
 *   - with O_NONBLOCK (fcntl, ioctl FIONBIO, SOCK_NONBLOCK, open) or
 *     MSG_DONTWAIT the call is made as is and returns EAGAIN as before;
 *   - write, send and sendto on a blocking fd write everything (as a
 *     blocking stream socket or pipe does), unless a signal handler
 *     without SA_RESTART or SO_SNDTIMEO cuts it short, when the count
 *     so far is returned; writev and sendmsg likewise for up to
 *     IOV_BATCH buffers.  After a first part is written, a socket's
 *     tries carry MSG_NOSIGNAL: as the kernel's blocking send, an error
 *     after a partial write returns the count and raises no SIGPIPE
 *     (a pipe's does raise it, as pipe_write does).  recv with
 *     MSG_WAITALL waits for all of it.
 *   - SO_RCVTIMEO and SO_SNDTIMEO end a wait with EAGAIN (EINPROGRESS
 *     for connect), as socket(7) says.
 *   - a signal handler interrupts the call with EINTR unless it has
 *     SA_RESTART (signal(7)); poll, select, epoll_wait and sleeps are
 *     always interrupted; a signal that runs no handler never is.
 *   - close, or dup2 onto the fd, while calls are blocked on it: they
 *     go on waiting on the same open file description, moved by the
 *     netpoller to a keepalive copy of the fd (netpoll.h), as under 1:1
 *     Linux, where the blocked call holds the file; they never retry on
 *     the reused number (one that links itself while the close runs
 *     fails with EBADF).  shutdown wakes them through the netpoller's
 *     HUP event.
 * Regular files and other fds epoll refuses, and fsync, are file.c's:
 * reads try RWF_NOWAIT first; fsync, fdatasync and O_DIRECT pread and
 * pwrite park the task on Linux AIO; the rest runs on the worker,
 * marked as in a syscall (the monitor's handoff).
 *
 * Limits: NP_USERNB is learned once per fd (F_GETFL) and kept up to
 * date by this process's fcntl and ioctl; O_NONBLOCK set on a shared
 * description by another process, or through another fd of this one
 * (dup), is not seen, and a task then waits where 1:1 would return
 * EAGAIN.  SO_RCVTIMEO and SO_SNDTIMEO are cached per fd and learned
 * again after any setsockopt of either (__pal_fd_sockopt); one set by a
 * raw syscall(SYS_setsockopt) is not seen by a fd that had learned them.
 * An absolute CLOCK_REALTIME sleep ends after the time it had
 * to go when it started, not at a changed wall-clock time.
 *
 * Sources: read(2), write(2), readv(2) (preadv2, RWF_NOWAIT), send(2),
 * recv(2), connect(2), accept(2), socket(7), poll(2), select(2),
 * epoll_wait(2), nanosleep(2), clock_nanosleep(2), signal(7); Linux's
 * tcp_sendmsg_locked, unix_stream_sendmsg and pipe_write for partial
 * writes; Go's runtime/netpoll.go for the design.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include "pthread_impl.h"
#include "syscall.h"
#include "pal.h"
#include "syscall_cp.h"
#include "scheduler.h"
#include "netpoll.h"
#include "io.h"


/* preadv2/pwritev2's flag (linux/fs.h, Linux 4.14); musl 1.2.3 lacks it. */
#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

enum { D_READ = 1, D_WRITE = 2 };

struct call {
	long nr, a[6];
	int cp;			/* a cancellation point */
};

static long sys(const struct call *c)
{
	if (c->cp) return __syscall_cp_c(c->nr, c->a[0], c->a[1], c->a[2],
		c->a[3], c->a[4], c->a[5]);
	return __syscall(c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5]);
}

/* The call made on the worker, marked as in a syscall (syscall.c). */
static long on_worker(struct task *t, const struct call *c)
{
	long r;
	if (!t) return sys(c);
	__sched_syscall_enter(t);
	r = sys(c);
	__sched_syscall_leave(t);
	return r;
}

static struct task *self_task(void)
{
	struct task *t = __sched_self();
	return t && t->id ? t : 0;
}

/* After -EINTR from a wait: bool, the call goes on (no handler ran, or
 * every one that did has SA_RESTART). */
static int restart(struct task *t)
{
	return !(t->sigran & SIGRAN_NORESTART);
}

/* The end of a wait, as the call's result: 1 try again; else the -errno
 * to return (-EAGAIN after SO_*TIMEO's deadline, -EINTR). */
static int waited(struct task *t, int w)
{
	if (w == -ETIMEDOUT) return -EAGAIN;
	if (w == -EINTR && !restart(t)) return -EINTR;
	return 1;
}

/* ---- Reads, writes, accept, connect ------------------------------------ */

static int msg_flags(const struct call *c)
{
	switch (c->nr) {
	case SYS_recvfrom: case SYS_sendto: return c->a[3];
	case SYS_recvmsg: case SYS_sendmsg: return c->a[2];
	case SYS_recvmmsg: case SYS_sendmmsg: return c->a[3];
	}
	return 0;
}

/* Make c once without blocking, on fd (flags f); cont: a first part of
 * a write is already written (no SIGPIPE from a socket now).  See the
 * top of the file. */
static long try_nowait(const struct call *c, int fd, int f, int cont)
{
	struct call k = *c;
	struct iovec v;
	struct msghdr m;
	int rd = 0, nosig = cont ? MSG_NOSIGNAL : 0;

	k.a[0] = fd;
	switch (c->nr) {
	case SYS_read:
		rd = 1;
		/* fallthrough */
	case SYS_write:
		if (f & NP_SOCK) {
			k.nr = rd ? SYS_recvfrom : SYS_sendto;
			k.a[3] = MSG_DONTWAIT | (rd ? 0 : nosig);
			k.a[4] = k.a[5] = 0;
			break;
		}
		v.iov_base = (void *)c->a[1];
		v.iov_len = c->a[2];
		k.a[1] = (long)&v;
		k.a[2] = 1;
		goto rw2;
	case SYS_readv:
		rd = 1;
		/* fallthrough */
	case SYS_writev:
		if (f & NP_SOCK) {
			__builtin_memset(&m, 0, sizeof m);
			m.msg_iov = (void *)c->a[1];
			m.msg_iovlen = c->a[2];
			k.nr = rd ? SYS_recvmsg : SYS_sendmsg;
			k.a[1] = (long)&m;
			k.a[2] = MSG_DONTWAIT | (rd ? 0 : nosig);
			break;
		}
	rw2:
		k.nr = rd ? SYS_preadv2 : SYS_pwritev2;
		k.a[3] = -1;	/* the current position (pos_l; pos_h 0) */
		k.a[4] = 0;
		k.a[5] = RWF_NOWAIT;
		break;
	case SYS_recvfrom: case SYS_recvmmsg:
		k.a[3] |= MSG_DONTWAIT;
		break;
	case SYS_sendto: case SYS_sendmmsg:
		k.a[3] |= MSG_DONTWAIT | nosig;
		break;
	case SYS_recvmsg:
		k.a[2] |= MSG_DONTWAIT;
		break;
	case SYS_sendmsg:
		k.a[2] |= MSG_DONTWAIT | nosig;
		break;
	}
	return sys(&k);
}

int __pal_skip_iov(struct iovec *out, const struct iovec *iov, int n,
	size_t done)
{
	int k = 0;
	if (n > IOV_BATCH) return -1;
	for (int i = 0; i < n; i++) {
		if (done >= iov[i].iov_len) {
			done -= iov[i].iov_len;
			continue;
		}
		out[k].iov_base = (char *)iov[i].iov_base + done;
		out[k].iov_len = iov[i].iov_len - done;
		done = 0;
		k++;
	}
	return k;
}

static size_t iov_total(const struct iovec *iov, int n)
{
	size_t s = 0;
	for (int i = 0; i < n; i++) s += iov[i].iov_len;
	return s;
}

/* The rest of a write after done bytes of it, in c (whose buffers may
 * be rewritten into iov / msg); bool: there is a rest to write. */
static int write_rest(struct call *c, const struct call *orig, size_t done,
	struct iovec *iov, struct msghdr *msg)
{
	const struct msghdr *om;
	int k;
	switch (orig->nr) {
	case SYS_write: case SYS_sendto:
		if (done >= (size_t)orig->a[2]) return 0;
		c->a[1] = orig->a[1] + done;
		c->a[2] = orig->a[2] - done;
		return 1;
	case SYS_writev:
		if (done >= iov_total((void *)orig->a[1], orig->a[2])) return 0;
		if ((k = __pal_skip_iov(iov, (void *)orig->a[1], orig->a[2], done)) <= 0) return 0;
		c->a[1] = (long)iov;
		c->a[2] = k;
		return 1;
	case SYS_sendmsg:
		om = (void *)orig->a[1];
		if (done >= iov_total(om->msg_iov, om->msg_iovlen)) return 0;
		if ((k = __pal_skip_iov(iov, om->msg_iov, om->msg_iovlen, done)) <= 0) return 0;
		*msg = *om;
		msg->msg_iov = iov;
		msg->msg_iovlen = k;
		/* Ancillary data went with the first bytes. */
		msg->msg_control = 0;
		msg->msg_controllen = 0;
		c->a[1] = (long)msg;
		return 1;
	}
	return 0;
}

/* A read try (try_nowait), or (f < 0) the program's own non-blocking
 * read made as it is: a signalfd (signalfd(2)) sees the signals sent to
 * the task that it blocks (scheduler.h, __sched_sig_lend). */
static long read_try(struct task *t, const struct call *c, int fd, int f)
{
	if (!(__atomic_load_n(&t->sigpending, __ATOMIC_RELAXED) & t->sigmask))
		return f < 0 ? sys(c) : try_nowait(c, fd, f, 0);
	/* Not a cancellation point here (it would leave in the critical
	 * section); the wait that follows is, and a non-blocking read
	 * acts on a pending cancellation first. */
	struct call k = *c;
	if (f < 0 && c->cp) {
		k.nr = SYS_getpid;	/* a cancellation point that cannot block */
		sys(&k);
		k = *c;
	}
	k.cp = 0;
	__sched_nosig_enter(t);
	uint64_t lent = __sched_sig_lend(t);
	long r = f < 0 ? sys(&k) : try_nowait(&k, fd, f, 0);
	if (lent) __sched_sig_reclaim(t, lent);
	__sched_nosig_leave(t);
	return r;
}

/* ---- The calls, as __np_io sees them (sched/netpoll.h) --------------- */

struct fdctx {
	struct task *t;
	const struct call *c;	/* as the program made it */
	struct call cur;	/* what is left of it */
	struct iovec *iov;	/* room for the rest of a writev or sendmsg */
	struct msghdr *msg;	/* (IOV_BATCH buffers), else 0 */
	size_t done;		/* bytes moved so far */
	int dir, waitall;
	int cancel;		/* a wait ended for a due cancellation */
	long early;		/* connect: its result, known before a wait */
};

/* The length a read asks for, or 0 if a short answer says nothing (a
 * recvmmsg). */
static size_t read_len(const struct call *c)
{
	switch (c->nr) {
	case SYS_read: case SYS_recvfrom: return c->a[2];
	case SYS_readv: return iov_total((void *)c->a[1], c->a[2]);
	case SYS_recvmsg: {
		const struct msghdr *m = (void *)c->a[1];
		return iov_total(m->msg_iov, m->msg_iovlen);
	}
	}
	return 0;
}

static long fd_read(struct fdctx *x, struct __np_try *k)
{
	long r;
	for (;;) {
		r = read_try(x->t, &x->cur, k->fd, k->flags);
		if (r < 0) break;
		if (x->waitall && r > 0 && x->done + r < (size_t)x->c->a[2]) {
			x->done += r;
			x->cur.a[1] = x->c->a[1] + x->done;
			x->cur.a[2] = x->c->a[2] - x->done;
			/* Drained: no need to see EAGAIN (netpoll.c). */
			if (NP_SHORT_DRAINS(k->flags, 0)) return -EAGAIN;
			continue;
		}
		if (r > 0 && (size_t)r < read_len(&x->cur)) k->short_io = 1;
		return r + x->done;
	}
	if ((r == -EOPNOTSUPP || r == -ENOSYS) && !(k->flags & NP_SOCK) && !x->done)
		return NP_TRY_UNSUP;	/* no RWF_NOWAIT for this file (ttys) */
	if (r == -EAGAIN) return r;
	/* An error after a first part: the count so far, as the kernel. */
	return x->done ? (long)x->done : r;
}

static long fd_write(struct fdctx *x, struct __np_try *k)
{
	long r;
	/* Part of a write is out and the socket has a pending error (a
	 * reset): end with the count, leaving the error for the next call,
	 * as the kernel's blocking send does; a try would take it. */
	if (x->done && (k->how & NP_TRY_AGAIN) && (k->flags & NP_SOCK)) {
		struct pollfd p = { k->fd, POLLOUT, 0 };
		if (__syscall(SYS_poll, &p, 1, 0) > 0 && (p.revents & POLLERR))
			return x->done;
	}
	for (;;) {
		r = try_nowait(&x->cur, k->fd, k->flags, x->done > 0);
		if (r < 0) break;
		x->done += r;
		if (!write_rest(&x->cur, x->c, x->done, x->iov, x->msg))
			return x->done;
		/* A short write fills a stream's buffer: drained (netpoll.c). */
		if (NP_SHORT_DRAINS(k->flags, 1)) return -EAGAIN;
	}
	if ((r == -EOPNOTSUPP || r == -ENOSYS) && !(k->flags & NP_SOCK) && !x->done)
		return NP_TRY_UNSUP;
	if (r == -EAGAIN) return r;
	return x->done ? (long)x->done : r;
}

/* __np_ops.try for reads, writes and accept. */
static long fd_try(void *arg, struct __np_try *k)
{
	struct fdctx *x = arg;
	struct call b;
	switch (k->how & 3) {
	case NP_TRY_ASIS:
		return x->dir == D_READ ? read_try(x->t, x->c, k->fd, -1) : sys(x->c);
	case NP_TRY_BLOCK:
		b = *x->c;
		b.a[0] = k->fd;
		return on_worker(x->t, &b);
	}
	/* A cancellation point at the first try only: a retry holds the
	 * fd's entry locked, and comes after a wait that is one. */
	x->cur.cp = x->c->cp && !(k->how & NP_TRY_LOCKED);
	return x->dir == D_READ ? fd_read(x, k) : fd_write(x, k);
}

/* The park flags of a wait in call c: as a cancellation point, one
 * acted on after the netpoller has unlinked the wait (the caller's
 * x->cancel, m->cancel). */
static int cp_flags(int cp)
{
	return cp ? PAL_WAIT_CANCEL | PARK_CANCEL_LATER : 0;
}

/* __np_ops.wait for one fd: ends with SO_*TIMEO's deadline (-EAGAIN),
 * a handler without SA_RESTART (-EINTR), or a cancellation. */
static long fd_wait(void *arg, volatile int *word, int val, uint64_t deadline)
{
	struct fdctx *x = arg;
	int w = __pal_park(word, val, deadline,
		cp_flags(x->c->cp) | PARK_SIGRAN(SIGRAN_NORESTART));
	if (w == -ECANCELED) {
		x->cancel = 1;
		return w;
	}
	return waited(x->t, w);
}

static const struct __np_ops fd_ops = { fd_try, fd_wait, 0 };

/* The mode of __np_io for a read or write call c (see the top). */
static int fd_mode(const struct call *c, int dir)
{
	int fl = msg_flags(c);
	int m = (dir == D_READ ? NP_IN : NP_OUT) | NP_IO_TIMEO;
	if (fl & MSG_DONTWAIT) m |= NP_IO_ASIS;
	if (fl & (MSG_PEEK | MSG_OOB | MSG_ERRQUEUE)) m |= NP_IO_NOMARK;
	if (c->nr == SYS_accept || c->nr == SYS_accept4) m |= NP_IO_TURN;
	return m;
}

/* A call on an fd epoll refuses (a regular file: reads, writes, pread,
 * pwrite and their vector forms): file.c's; any other that the
 * netpoller cannot take, on the worker. */
static long file_call(struct task *t, struct call *c)
{
	int f = __np_learn(c->a[0]);
	struct __np_fd *e = __np_lookup(c->a[0]);
	if (!(f & NP_NOPOLL) || !e) return on_worker(t, c);
	return __pal_file_io(t, c->nr, c->a, c->cp, e, f);
}

/* A blocking read or write (see the top); iov and msg: room for the
 * rest of a writev or sendmsg (IOV_BATCH buffers), else 0.  Kept apart
 * from that room and from the poll family's frames: a task parked here
 * holds this stack depth while it waits, and with 10,000 connections a
 * deeper one costs a page per task. */
static __attribute__((noinline)) long fd_loop(struct task *t, struct call *c,
	int dir, struct iovec *iov, struct msghdr *msg)
{
	struct fdctx x = { t, c, *c, iov, msg, 0, dir, 0, 0, 0 };
	long r;
	if (!t) return on_worker(t, c);
	x.waitall = c->nr == SYS_recvfrom && (c->a[3] & MSG_WAITALL);
	r = __np_io(c->a[0], fd_mode(c, dir), 0, &fd_ops, &x);
	if (r == NP_IO_BLOCK) return file_call(t, c);
	if (x.cancel) return __pal_cancel_act();
	/* A wait that ends the call (SO_*TIMEO, EINTR) after a first part:
	 * the count so far, as the kernel. */
	return r < 0 && x.done ? (long)x.done : r;
}

static __attribute__((noinline)) long fd_call_vec(struct task *t,
	struct call *c)
{
	struct iovec iov[IOV_BATCH];
	struct msghdr msg;
	return fd_loop(t, c, D_WRITE, iov, &msg);
}

static long fd_call(struct task *t, struct call *c, int dir)
{
	if (c->nr == SYS_writev || c->nr == SYS_sendmsg) return fd_call_vec(t, c);
	return fd_loop(t, c, dir, 0, 0);
}

/* __np_ops.try for connect: the first try connects with O_NONBLOCK set
 * for that call alone (see the top); the others wait for the socket to
 * be writable and take its SO_ERROR. */
static long connect_try(void *arg, struct __np_try *k)
{
	struct fdctx *x = arg;
	long r;
	if ((k->how & 3) == NP_TRY_ASIS) return sys(x->c);
	if (!(k->how & NP_TRY_AGAIN)) {
		int fd = k->fd, fl = __syscall(SYS_fcntl, fd, F_GETFL);
		if (fl < 0 || (fl & O_NONBLOCK) ||
		    __syscall(SYS_fcntl, fd, F_SETFL, fl | O_NONBLOCK)) {
			x->early = on_worker(x->t, x->c);
			return 0;
		}
		r = sys(x->c);
		__syscall(SYS_fcntl, fd, F_SETFL, fl);
		if (r == -EINPROGRESS) return -EAGAIN;
		x->early = r;	/* done, or failed at once (-EAGAIN too) */
		return 0;
	}
	struct pollfd p = { k->fd, POLLOUT, 0 };
	if (__syscall(SYS_poll, &p, 1, 0) > 0) {
		int err = 0;
		socklen_t len = sizeof err;
		r = __syscall(SYS_getsockopt, k->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		x->early = r ? r : -err;
		return 0;
	}
	return -EAGAIN;
}

static const struct __np_ops connect_ops = { connect_try, fd_wait, 0 };

static __attribute__((noinline)) long connect_call(struct task *t, struct call *c)
{
	struct fdctx x = { t, c, *c, 0, 0, 0, D_WRITE, 0, 0, 0 };
	if (!t) return on_worker(t, c);
	long r = __np_io(c->a[0], NP_OUT | NP_IO_TIMEO | NP_IO_NOMARK, 0,
		&connect_ops, &x);
	if (r == NP_IO_BLOCK) return on_worker(t, c);
	if (x.cancel) return __pal_cancel_act();
	/* Interrupted or timed out, the connection goes on in the
	 * background, as Linux's does (connect(2)). */
	if (r == -EAGAIN) return -EINPROGRESS;
	return r < 0 ? r : x.early;
}

/* ---- poll, select, epoll_wait -------------------------------------------- */

/* Common to the poll family (__np_io_multi): each context starts with
 * struct multi; its try makes the call with a zero timeout and gives
 * -EAGAIN for "nothing yet" until the wait has seen the deadline pass
 * (last), and then the call's own answer. */
struct multi {
	struct task *t;
	int cp, last;
	int cancel;		/* a wait ended for a due cancellation */
};

/* Until the deadline, a handler (-EINTR, SA_RESTART or not: poll(2)),
 * or an event on one of the fds. */
static long multi_wait(void *arg, volatile int *word, int val, uint64_t deadline)
{
	struct multi *m = arg;
	if (deadline && __sched_now() >= deadline) {
		m->last = 1;
		return 1;
	}
	int w = __pal_park(word, val, deadline,
		cp_flags(m->cp) | PARK_SIGRAN(SIGRAN_HANDLER));
	if (w == -ECANCELED) {
		m->cancel = 1;
		return w;
	}
	if (w == -ETIMEDOUT) m->last = 1;
	else if (w == -EINTR && (m->t->sigran & SIGRAN_HANDLER)) return -EINTR;
	return 1;
}

static long multi_result(struct multi *m, long r)
{
	return r || m->last ? r : -EAGAIN;
}

/* __np_io_multi's result as the call's. */
static long multi_end(struct task *t, struct call *c, struct multi *m, long r)
{
	if (r == NP_IO_BLOCK) return on_worker(t, c);
	if (m->cancel) return __pal_cancel_act();
	return r;
}

static uint64_t ms_deadline(long ms)
{
	return ms < 0 ? 0 : __sched_deadline_after(ms / 1000, ms % 1000 * 1000000ULL);
}

static uint64_t ts_deadline(const struct timespec *ts)
{
	if (!ts) return 0;
	return __sched_deadline_after(ts->tv_sec, ts->tv_nsec + 1);
}

/* A poll family try (zero timeout, on the worker's thread): a signalfd
 * among its fds sees the signals sent to the task that it blocks, as a
 * read of it does (read_try, __sched_sig_lend); the kernel looks at the
 * calling thread's pending set.  A signal sent to the task meanwhile
 * ends the wait, so the call tries again (netpoll.c, multi_loop's
 * sig_word). */
static long multi_sys(struct task *t, long nr, long a, long b, long c,
	long d, long e, long f)
{
	if (!(__atomic_load_n(&t->sigpending, __ATOMIC_RELAXED) & t->sigmask))
		return __syscall(nr, a, b, c, d, e, f);
	__sched_nosig_enter(t);
	uint64_t lent = __sched_sig_lend(t);
	long r = __syscall(nr, a, b, c, d, e, f);
	if (lent) __sched_sig_reclaim(t, lent);
	__sched_nosig_leave(t);
	return r;
}

struct pollctx { struct multi m; struct pollfd *fds; long n; };

static long try_poll(void *p, struct __np_try *k)
{
	struct pollctx *c = p;
	return multi_result(&c->m, multi_sys(c->m.t, SYS_poll, (long)c->fds,
		c->n, 0, 0, 0, 0));
}

static int poll_fd(void *p, long i)
{
	struct pollctx *c = p;
	return c->fds[i].fd;
}

static const struct __np_ops poll_ops = { try_poll, multi_wait, poll_fd };

/* ppoll, pselect6, epoll_pwait with a signal mask (signal(7)): the
 * task's mask is *set for the wait, so that what it lets through ends
 * the wait and its handler runs with it in place; c is the call without
 * the mask.  A pending signal it lets through ends it at once. */
static long with_mask(struct task *t, struct call *c, const void *set,
	long (*call)(struct task *, struct call *))
{
	uint64_t m;
	memcpy(&m, set, sizeof m);
	uint64_t old = __sched_mask_wait(t, m);
	long r = t->sigran & SIGRAN_HANDLER ? -EINTR : call(t, c);
	__sched_mask_set(t, old, MASK_KERNEL);
	return r;
}

static __attribute__((noinline)) long poll_call(struct task *t, struct call *c)
{
	struct pollctx ctx = { { t, c->cp, 0, 0 }, (void *)c->a[0], c->a[1] };
	uint64_t deadline;
	long r;

	if (c->nr == SYS_ppoll) {
		const struct timespec *ts = (void *)c->a[2];
		if (c->a[3]) {	/* a signal mask */
			struct call k = *c;
			k.a[3] = 0;
			return with_mask(t, &k, (void *)c->a[3], poll_call);
		}
		if (ts && (ts->tv_sec < 0 || (unsigned long)ts->tv_nsec >= 1000000000))
			return -EINVAL;
		deadline = ts_deadline(ts);
		if (ts && !ts->tv_sec && !ts->tv_nsec) return sys(c);
	} else {
		if ((int)c->a[2] == 0) return sys(c);
		deadline = ms_deadline((int)c->a[2]);
	}
	r = __np_io_multi(ctx.n, deadline, &poll_ops, &ctx);
	return multi_end(t, c, &ctx.m, r);
}

struct selctx {
	struct multi m;
	int n;
	fd_set *set[3], save[3];
	size_t bytes;
};

static void select_restore(struct selctx *c)
{
	for (int i = 0; i < 3; i++)
		if (c->set[i]) memcpy(c->set[i], &c->save[i], c->bytes);
}

static long try_select(void *p, struct __np_try *k)
{
	struct selctx *c = p;
	struct timeval zero = { 0, 0 };
	select_restore(c);
	return multi_result(&c->m, multi_sys(c->m.t, SYS_select, c->n,
		(long)c->set[0], (long)c->set[1], (long)c->set[2], (long)&zero, 0));
}

/* The fds the sets name, in order; -1 for the numbers they do not. */
static int select_fd(void *p, long fd)
{
	struct selctx *c = p;
	for (int i = 0; i < 3; i++)
		if (c->set[i] && FD_ISSET(fd, &c->save[i])) return fd;
	return -1;
}

static const struct __np_ops select_ops = { try_select, multi_wait, select_fd };

static __attribute__((noinline)) long select_call(struct task *t, struct call *c)
{
	struct selctx ctx = { { t, c->cp, 0, 0 } };
	uint64_t deadline = 0, now;
	struct timeval *tv = 0;
	const struct timespec *ts = 0;
	long r;

	ctx.n = c->a[0];
	if (ctx.n < 0) return -EINVAL;
	if (ctx.n > FD_SETSIZE) return on_worker(t, c);
	ctx.bytes = (ctx.n + 63) / 64 * 8;
	for (int i = 0; i < 3; i++) {
		ctx.set[i] = (void *)c->a[1 + i];
		if (ctx.set[i]) memcpy(&ctx.save[i], ctx.set[i], ctx.bytes);
	}
	if (c->nr == SYS_pselect6) {
		const long *data = (void *)c->a[5];
		if (data && data[0]) {	/* a signal mask */
			long nomask[2] = { 0, data[1] };
			struct call k = *c;
			k.a[5] = (long)nomask;
			return with_mask(t, &k, (void *)data[0], select_call);
		}
		ts = (void *)c->a[4];
		if (ts && (ts->tv_sec < 0 || (unsigned long)ts->tv_nsec >= 1000000000))
			return -EINVAL;
		if (ts && !ts->tv_sec && !ts->tv_nsec) return sys(c);
		deadline = ts_deadline(ts);
	} else if ((tv = (void *)c->a[4])) {
		if (tv->tv_sec < 0 || (unsigned long)tv->tv_usec >= 1000000) return -EINVAL;
		if (!tv->tv_sec && !tv->tv_usec) return sys(c);
		deadline = __sched_deadline_after(tv->tv_sec, tv->tv_usec * 1000ULL + 1);
	}
	r = __np_io_multi(ctx.n, deadline, &select_ops, &ctx);
	if (r == NP_IO_BLOCK) select_restore(&ctx);
	if (r == NP_IO_BLOCK || ctx.m.cancel) return multi_end(t, c, &ctx.m, r);
	if (tv && deadline) {
		/* Linux's select leaves the time not slept in *tv. */
		now = __sched_now();
		uint64_t left = deadline > now ? deadline - now : 0;
		tv->tv_sec = left / 1000000000;
		tv->tv_usec = left % 1000000000 / 1000;
	}
	return r;
}

struct epctx { struct multi m; long epfd, ev, cnt; };

static long try_epoll(void *p, struct __np_try *k)
{
	struct epctx *c = p;
	return multi_result(&c->m, multi_sys(c->m.t, SYS_epoll_pwait, c->epfd,
		(long)c->ev, c->cnt, 0, 0, _NSIG/8));
}

static int epoll_fd(void *p, long i)
{
	struct epctx *c = p;
	return c->epfd;
}

static const struct __np_ops epoll_ops = { try_epoll, multi_wait, epoll_fd };

static __attribute__((noinline)) long epoll_call(struct task *t, struct call *c)
{
	struct epctx ctx = { { t, c->cp, 0, 0 }, c->a[0], c->a[1], c->a[2] };
	int ms = c->a[3];
	long r;

	if (c->nr == SYS_epoll_pwait && c->a[4]) {	/* a signal mask */
		struct call k = *c;
		k.a[4] = 0;
		return with_mask(t, &k, (void *)c->a[4], epoll_call);
	}
	if (!ms) return sys(c);
	r = __np_io_multi(1, ms_deadline(ms), &epoll_ops, &ctx);
	return multi_end(t, c, &ctx.m, r);
}


/* ---- Sleeps -------------------------------------------------------------- */

static __attribute__((noinline)) long sleep_call(struct task *t, struct call *c)
{
	clockid_t clk = CLOCK_REALTIME;
	int flags = 0;
	const struct timespec *req;
	struct timespec *rem;
	uint64_t deadline;

	if (c->nr == SYS_nanosleep) {
		req = (void *)c->a[0];
		rem = (void *)c->a[1];
	} else {
		clk = c->a[0];
		flags = c->a[1];
		req = (void *)c->a[2];
		rem = (void *)c->a[3];
	}
	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC && clk != CLOCK_BOOTTIME &&
	    clk != CLOCK_TAI)
		return on_worker(t, c);	/* CPU-time clocks: the kernel's answer */
	if (!req || req->tv_sec < 0 || (unsigned long)req->tv_nsec >= 1000000000)
		return req ? -EINVAL : -EFAULT;
	uint64_t sec = req->tv_sec, nsec = req->tv_nsec;
	if (flags & TIMER_ABSTIME) {
		struct timespec now;
		__clock_gettime(clk, &now);
		if (req->tv_sec < now.tv_sec ||
		    (req->tv_sec == now.tv_sec && req->tv_nsec <= now.tv_nsec))
			return 0;
		sec = req->tv_sec - now.tv_sec;
		if (req->tv_nsec >= now.tv_nsec) {
			nsec = req->tv_nsec - now.tv_nsec;
		} else {
			sec--;
			nsec = req->tv_nsec + 1000000000 - now.tv_nsec;
		}
	}
	if (!sec && !nsec) {
		__sched_yield();
		return 0;
	}
	/* 0: too far to wrap (a "forever" sleep): until interrupted. */
	deadline = __sched_deadline_after(sec, nsec);
	for (;;) {
		volatile int word = 0;
		int r = __pal_park(&word, 0, deadline,
			(c->cp ? PAL_WAIT_CANCEL : 0) | PARK_SIGRAN(SIGRAN_HANDLER));
		if (r == -ETIMEDOUT) return 0;
		if (r == -EINTR && (t->sigran & SIGRAN_HANDLER)) {
			if (rem && !(flags & TIMER_ABSTIME)) {
				uint64_t now = __sched_now(), left = deadline > now ? deadline - now : 0;
				if (!deadline) {
					*rem = *req;	/* about all of it */
				} else {
					rem->tv_sec = left / 1000000000;
					rem->tv_nsec = left % 1000000000;
				}
			}
			return -EINTR;
		}
		if (deadline && __sched_now() >= deadline) return 0;
	}
}

/* ---- Dispatch -------------------------------------------------------------- */

long __pal_io(long nr, long a, long b, long c, long d, long e, long f,
	int cp, int *handled)
{
	struct call k = { nr, { a, b, c, d, e, f }, cp };
	struct task *t = self_task();
	long r;

	/* What handlers run during this call (park_io, PARK_SIGRAN). */
	if (t) t->sigran = 0;
	*handled = 1;
	switch (nr) {
	case SYS_read: case SYS_readv: case SYS_recvfrom: case SYS_recvmsg:
	case SYS_recvmmsg: case SYS_accept: case SYS_accept4:
		return fd_call(t, &k, D_READ);
	case SYS_write: case SYS_writev: case SYS_sendto: case SYS_sendmsg:
	case SYS_sendmmsg:
		return fd_call(t, &k, D_WRITE);
	case SYS_connect:
		return connect_call(t, &k);
	case SYS_close:
		__np_closing(a);
		r = sys(&k);
		__np_forget(a);
		return r;
	}
	if (!t) {
		*handled = 0;
		return 0;
	}
	switch (nr) {
	case SYS_poll: case SYS_ppoll:
		return poll_call(t, &k);
	case SYS_select: case SYS_pselect6:
		return select_call(t, &k);
	case SYS_epoll_wait: case SYS_epoll_pwait:
		return epoll_call(t, &k);
	case SYS_nanosleep: case SYS_clock_nanosleep:
		return sleep_call(t, &k);
	case SYS_fsync: case SYS_fdatasync:
		return __pal_file_sync(t, nr, k.a, cp);
	case SYS_pread64: case SYS_preadv: case SYS_pwrite64: case SYS_pwritev:
		return file_call(t, &k);
	}
	*handled = 0;
	return 0;
}

/* ---- What the program changes: O_NONBLOCK, dup (pal.h) ---------------- */

/* The kernel's flags are the program's (nothing is hidden): F_GETFL's
 * answer refreshes what was learned. */
int __pal_fd_getfl(int fd, int kflags)
{
	__pal_fd_setfl(fd, kflags);
	return kflags;
}

int __pal_fd_setfl(int fd, int flags)
{
	__np_setfl(fd, flags);
	return flags;
}

int __pal_fd_fionbio(int fd, int on)
{
	struct __np_fd *e = __np_lookup(fd);
	int f = e ? __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) : 0;
	/* The pipe's packet mode stays as it was. */
	__np_setfl(fd, (on ? O_NONBLOCK : 0) | (f & NP_PKT ? O_DIRECT : 0));
	return 0;	/* the kernel does it */
}

void __pal_fd_replacing(int oldfd, int newfd)
{
	/* A dup2 that fails (oldfd not open) leaves newfd's calls alone. */
	if (__np_has_waiters(newfd) && __syscall(SYS_fcntl, oldfd, F_GETFD) >= 0)
		__np_closing(newfd);
}

void __pal_fd_dup(int oldfd, int newfd)
{
	__np_dup(oldfd, newfd);
}

void __pal_fd_closed(int fd)
{
	__np_forget(fd);
}

void __pal_fd_sockopt(int fd, int level, int name)
{
	/* SO_RCVTIMEO_OLD, SO_SNDTIMEO_OLD, and their _NEW forms (Linux's
	 * asm-generic/socket.h; musl 1.2.3 names only the ones it uses). */
	if (level == SOL_SOCKET && (name == 20 || name == 21 || name == 66 || name == 67))
		__np_timeo_changed();
}
