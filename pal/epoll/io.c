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
 * A try that finds nothing parks the task on the fd's readiness counter
 * unless the counter has moved since before the try, so no edge is lost.
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
 *     the reused number.  shutdown wakes them through the netpoller's
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
 * EAGAIN.  An absolute CLOCK_REALTIME sleep ends after the time it had
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

#define IOV_BATCH 64

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

/* ---- What is known about an fd ----------------------------------------- */

/* Learn fd's flags (once) and register it with the netpoller.  Returns
 * the flags, or 0 if fd is unusable (the call itself will say why). */
static int learn(int fd, struct __np_fd *e)
{
	int f = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
	if ((f & NP_KNOWN) && (f & (NP_REG | NP_NOPOLL))) return f;
	f = __np_lock(e);
	if (!(f & NP_KNOWN)) {
		int type, fl = __syscall(SYS_fcntl, fd, F_GETFL);
		socklen_t len = sizeof type;
		if (fl < 0) {
			__np_unlock(e, f);
			return 0;
		}
		f |= NP_KNOWN | (fl & O_NONBLOCK ? NP_USERNB : 0) |
			(fl & O_DIRECT ? NP_DIRECT : 0);
		f |= __syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_TYPE, &type, &len) ?
			NP_NOTSOCK : NP_SOCK;
	}
	if (!(f & (NP_REG | NP_NOPOLL))) __np_register(fd, &f);
	__np_unlock(e, f);
	return f;
}

/* The socket timeout (SO_RCVTIMEO / SO_SNDTIMEO) as a deadline, 0: none. */
static uint64_t sock_deadline(int fd, int f, int dir)
{
	struct timeval tv;
	socklen_t len = sizeof tv;
	if (!(f & NP_SOCK)) return 0;
	if (__syscall(SYS_getsockopt, fd, SOL_SOCKET,
	    dir == D_READ ? SO_RCVTIMEO : SO_SNDTIMEO, &tv, &len))
		return 0;
	if (!tv.tv_sec && !tv.tv_usec) return 0;
	return __sched_deadline_after(tv.tv_sec, tv.tv_usec * 1000ULL);
}

/* Park task t on a netpoller counter while it reads s, counted in
 * __np_waiters (so that workers poll).  The caller cleared t->sigran at
 * the start of its call; a handler that has set one of sigran_ends
 * since (SIGRAN_*) ends the wait at once.  As __pal_park. */
static int park_io(struct task *t, volatile int *word, int s,
	uint64_t deadline, int cp, int sigran_ends)
{
	__atomic_fetch_add(&__np_waiters, 1, __ATOMIC_SEQ_CST);
	int r = __pal_park(word, s, deadline,
		(cp ? PAL_WAIT_CANCEL : 0) | PARK_SIGRAN(sigran_ends));
	__atomic_fetch_sub(&__np_waiters, 1, __ATOMIC_RELAXED);
	return r;
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

/* Skip done bytes of the n buffers in iov into out (IOV_BATCH room);
 * returns the number left, or -1 if they do not fit. */
static int skip_iov(struct iovec *out, const struct iovec *iov, int n, size_t done)
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
		if ((k = skip_iov(iov, (void *)orig->a[1], orig->a[2], done)) <= 0) return 0;
		c->a[1] = (long)iov;
		c->a[2] = k;
		return 1;
	case SYS_sendmsg:
		om = (void *)orig->a[1];
		if (done >= iov_total(om->msg_iov, om->msg_iovlen)) return 0;
		if ((k = skip_iov(iov, om->msg_iov, om->msg_iovlen, done)) <= 0) return 0;
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

/* Take (bool) or give back the fd's turn for a call that cannot be made
 * non-blocking (NP_INCALL).  Giving it back wakes the tasks waiting. */
static int take_turn(struct __np_wait *w)
{
	int f, ok = 0;
	struct __np_fd *e = __np_wait_lock(w, &f);
	if (!e) return 1;
	if (!(f & NP_INCALL)) {
		f |= NP_INCALL;
		ok = 1;
	}
	__np_unlock(e, f);
	return ok;
}

static void give_turn(struct __np_wait *w)
{
	int f;
	struct __np_fd *e = __np_wait_lock(w, &f);
	if (!e) return;
	__np_unlock(e, f & ~NP_INCALL);
	__np_bump(&e->seq);
}

/* A call that cannot be made non-blocking (accept, a tty's read): wait
 * until poll says the fd is ready for dir and it is this task's turn,
 * then make the call on the worker. */
static long ready_then_call(struct task *t, const struct call *c, int dir,
	uint64_t deadline)
{
	struct __np_wait w;
	struct call k = *c;
	long r;

	if (__np_wait_begin(&w, c->a[0], 0)) return on_worker(t, c);
	for (;;) {
		int fd = __atomic_load_n(&w.fd, __ATOMIC_ACQUIRE);
		if (fd < 0) {
			r = -EBADF;
			break;
		}
		struct __np_fd *e = __np_entry(fd);
		int s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		struct pollfd p = { fd, dir == D_READ ? POLLIN : POLLOUT, 0 };
		if (__syscall(SYS_poll, &p, 1, 0) && take_turn(&w)) {
			k.a[0] = fd;
			r = on_worker(t, &k);
			give_turn(&w);
			break;
		}
		r = waited(t, park_io(t, &e->seq, s, deadline, c->cp, SIGRAN_NORESTART));
		if (r <= 0) break;
	}
	__np_wait_end(&w);
	return r;
}

/* The loop of a blocking read or write (see the top); iov and msg:
 * room for the rest of a writev or sendmsg (IOV_BATCH buffers), else 0.
 * Kept apart from that room and from the poll family's frames: a task
 * parked here holds this stack depth while it waits, and with 10,000
 * connections a deeper one costs a page per task. */
static __attribute__((noinline)) long fd_loop(struct task *t, struct call *c,
	int dir, struct iovec *iov, struct msghdr *msg)
{
	struct __np_wait w;
	struct __np_fd *e;
	struct call cur = *c;
	uint64_t deadline = 0;
	int fd = c->a[0], linked = 0, have_deadline = 0;
	size_t done = 0;
	long r;

	if (!t || !(e = __np_entry(fd))) return on_worker(t, c);
	int f = learn(fd, e);
	if (f & NP_NOPOLL) return __pal_file_io(t, c->nr, c->a, c->cp, e, f);
	if ((f & NP_USERNB) || (msg_flags(c) & MSG_DONTWAIT))
		return dir == D_READ ? read_try(t, c, fd, -1) : sys(c);
	if (!(f & NP_REG)) return on_worker(t, c);
	if (c->nr == SYS_accept || c->nr == SYS_accept4 || (f & NP_NONOWAIT))
		return ready_then_call(t, c, dir, sock_deadline(fd, f, dir));
	int waitall = c->nr == SYS_recvfrom && (c->a[3] & MSG_WAITALL);

	for (;;) {
		int s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		r = dir == D_READ ? read_try(t, &cur, fd, f) :
			try_nowait(&cur, fd, f, done > 0);
		if (r >= 0) {
			if (dir == D_WRITE) {
				done += r;
				if (write_rest(&cur, c, done, iov, msg)) continue;
				r = done;
				break;
			}
			if (waitall && r > 0 && done + r < (size_t)c->a[2]) {
				done += r;
				cur.a[1] = c->a[1] + done;
				cur.a[2] = c->a[2] - done;
				continue;
			}
			r += done;
			break;
		}
		if ((r == -EOPNOTSUPP || r == -ENOSYS) && !(f & NP_SOCK) && !done) {
			/* No RWF_NOWAIT for this kind of file (ttys). */
			__atomic_fetch_or(&e->flags, NP_NONOWAIT, __ATOMIC_RELAXED);
			if (linked) __np_wait_end(&w);
			return ready_then_call(t, c, dir, 0);
		}
		if (r != -EAGAIN) break;
		if (!have_deadline) {
			deadline = sock_deadline(fd, f, dir);
			have_deadline = 1;
		}
		/* Waiting: be found by a close of fd (netpoll.h). */
		if (!linked) {
			if (__np_wait_begin(&w, fd, 0)) {
				r = on_worker(t, &cur);
				break;
			}
			linked = 1;
		}
		/* A signal sent to t that it blocks bumps the counter: a
		 * signalfd may now be read (scheduler.h, sig_word). */
		if (dir == D_READ) __atomic_store_n(&t->sig_word, &e->seq, __ATOMIC_SEQ_CST);
		r = waited(t, park_io(t, &e->seq, s, deadline, c->cp, SIGRAN_NORESTART));
		if (dir == D_READ) __atomic_store_n(&t->sig_word, 0, __ATOMIC_RELAXED);
		if (r <= 0) break;
		if ((fd = __atomic_load_n(&w.fd, __ATOMIC_ACQUIRE)) < 0) {
			r = -EBADF;
			break;
		}
		e = __np_entry(fd);
		f = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
		/* Part of a write is out and the socket has a pending error
		 * (a reset): end with the count, leaving the error for the
		 * next call, as the kernel's blocking send does; a try would
		 * take it (sock_error). */
		if (done && (f & NP_SOCK)) {
			struct pollfd p = { fd, POLLOUT, 0 };
			if (__syscall(SYS_poll, &p, 1, 0) > 0 && (p.revents & POLLERR)) {
				r = done;
				break;
			}
		}
	}
	if (linked) __np_wait_end(&w);
	/* An error after a first part: the count so far, as the kernel. */
	return r < 0 && done ? (long)done : r;
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

static __attribute__((noinline)) long connect_call(struct task *t, struct call *c)
{
	struct __np_fd *e;
	int fd = c->a[0];
	if (!t || !(e = __np_entry(fd))) return on_worker(t, c);
	int f = learn(fd, e);
	if (f & NP_USERNB) return sys(c);
	if (!(f & NP_REG)) return on_worker(t, c);
	/* O_NONBLOCK for the connect call alone (see the top). */
	int fl = __syscall(SYS_fcntl, fd, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK) ||
	    __syscall(SYS_fcntl, fd, F_SETFL, fl | O_NONBLOCK))
		return on_worker(t, c);
	long r = sys(c);
	__syscall(SYS_fcntl, fd, F_SETFL, fl);
	if (r != -EINPROGRESS) return r;
	uint64_t deadline = sock_deadline(fd, f, D_WRITE);
	for (;;) {
		int s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		struct pollfd p = { fd, POLLOUT, 0 };
		if (__syscall(SYS_poll, &p, 1, 0) > 0) {
			int err = 0;
			socklen_t len = sizeof err;
			r = __syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_ERROR, &err, &len);
			return r ? r : -err;
		}
		/* Interrupted or timed out, the connection goes on in the
		 * background, as Linux's does (connect(2)). */
		int w = waited(t, park_io(t, &e->seq, s, deadline, c->cp, SIGRAN_NORESTART));
		if (w == -EAGAIN) return -EINPROGRESS;
		if (w < 0) return w;
	}
}

/* ---- poll, select, epoll_wait -------------------------------------------- */

/* Common to the poll family: register the fds; then, until try() finds
 * something or the deadline passes, park on a counter of the caller's
 * own, linked to each fd (netpoll.h), so that only these fds' events
 * wake it; past NP_MULTI_MAX distinct fds, on the shared counter.  try:
 * the call with a zero timeout. */
struct waitset {
	int n, many;		/* distinct fds in fd[]; more than fit */
	int fd[NP_MULTI_MAX];
};

static int add_fd(struct waitset *ws, int fd)
{
	struct __np_fd *e;
	if (fd < 0) return 0;
	if (!(e = __np_entry(fd))) return -1;
	int f = learn(fd, e);
	if (!(f & NP_REG)) return (f & NP_KNOWN) ? -1 : 0;
	if (ws->many) return 0;
	for (int i = 0; i < ws->n; i++)
		if (ws->fd[i] == fd) return 0;
	if (ws->n == NP_MULTI_MAX) ws->many = 1;
	else ws->fd[ws->n++] = fd;
	return 0;
}

static long wait_any(struct task *t, struct waitset *ws, uint64_t deadline,
	int cp, long (*try)(void *), void *ctx)
{
	struct __np_wait w[NP_MULTI_MAX];
	volatile int own = 0, *word = ws->many ? &__np_multi_seq : &own;
	int linked = 0;
	long r;
	if (ws->many) __atomic_fetch_add(&__np_multi, 1, __ATOMIC_SEQ_CST);
	else
		while (linked < ws->n && !__np_wait_begin(&w[linked], ws->fd[linked], &own))
			linked++;
	for (;;) {
		int s = __atomic_load_n(word, __ATOMIC_SEQ_CST);
		if ((r = try(ctx))) break;
		if (deadline && __sched_now() >= deadline) break;
		int w = park_io(t, word, s, deadline, cp, SIGRAN_HANDLER);
		if (w == -ETIMEDOUT) {
			r = try(ctx);
			break;
		}
		if (w == -EINTR && (t->sigran & SIGRAN_HANDLER)) {
			r = -EINTR;
			break;
		}
	}
	if (ws->many) __atomic_fetch_sub(&__np_multi, 1, __ATOMIC_RELAXED);
	while (linked) __np_wait_end(&w[--linked]);
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

struct pollctx { struct pollfd *fds; long n; };

static long try_poll(void *p)
{
	struct pollctx *c = p;
	return __syscall(SYS_poll, c->fds, c->n, 0);
}

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
	struct pollctx ctx = { (void *)c->a[0], c->a[1] };
	struct waitset ws = { 0 };
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
	if ((r = try_poll(&ctx))) return r;
	for (long i = 0; i < ctx.n; i++)
		if (add_fd(&ws, ctx.fds[i].fd)) return on_worker(t, c);
	return wait_any(t, &ws, deadline, c->cp, try_poll, &ctx);
}

struct selctx {
	int n;
	fd_set *set[3], save[3];
	size_t bytes;
};

static long try_select(void *p)
{
	struct selctx *c = p;
	struct timeval zero = { 0, 0 };
	for (int i = 0; i < 3; i++)
		if (c->set[i]) memcpy(c->set[i], &c->save[i], c->bytes);
	return __syscall(SYS_select, c->n, c->set[0], c->set[1], c->set[2], &zero);
}

static __attribute__((noinline)) long select_call(struct task *t, struct call *c)
{
	struct selctx ctx;
	struct waitset ws = { 0 };
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
	if ((r = try_select(&ctx))) return r;
	for (int fd = 0; fd < ctx.n; fd++)
		for (int i = 0; i < 3; i++)
			if (ctx.set[i] && FD_ISSET(fd, &ctx.save[i])) {
				if (add_fd(&ws, fd)) {
					for (int j = 0; j < 3; j++)
						if (ctx.set[j]) memcpy(ctx.set[j], &ctx.save[j], ctx.bytes);
					return on_worker(t, c);
				}
				break;
			}
	r = wait_any(t, &ws, deadline, c->cp, try_select, &ctx);
	if (tv && deadline) {
		/* Linux's select leaves the time not slept in *tv. */
		now = __sched_now();
		uint64_t left = deadline > now ? deadline - now : 0;
		tv->tv_sec = left / 1000000000;
		tv->tv_usec = left % 1000000000 / 1000;
	}
	return r;
}

struct epctx { long epfd, ev, cnt; };

static long try_epoll(void *p)
{
	struct epctx *c = p;
	return __syscall(SYS_epoll_pwait, c->epfd, c->ev, c->cnt, 0, 0, _NSIG/8);
}

static __attribute__((noinline)) long epoll_call(struct task *t, struct call *c)
{
	struct epctx ctx = { c->a[0], c->a[1], c->a[2] };
	struct waitset ws = { 0 };
	int ms = c->a[3];
	long r;

	if (c->nr == SYS_epoll_pwait && c->a[4]) {	/* a signal mask */
		struct call k = *c;
		k.a[4] = 0;
		return with_mask(t, &k, (void *)c->a[4], epoll_call);
	}
	if (!ms) return sys(c);
	if ((r = try_epoll(&ctx))) return r;
	if (add_fd(&ws, ctx.epfd) || !ws.n) return on_worker(t, c);
	return wait_any(t, &ws, ms_deadline(ms), c->cp, try_epoll, &ctx);
}

/* pread, pwrite and their vector forms: file.c's on fds epoll refuses. */
static long file_call(struct task *t, struct call *c)
{
	struct __np_fd *e = __np_entry(c->a[0]);
	int f = e ? learn(c->a[0], e) : 0;
	if (!(f & NP_NOPOLL)) return on_worker(t, c);
	return __pal_file_io(t, c->nr, c->a, c->cp, e, f);
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
	struct __np_fd *e = __np_lookup(fd);
	if (!e) return flags;
	/* Nothing to learn (F_GETFL's answer, most often): no lock. */
	int want = (flags & O_NONBLOCK ? NP_USERNB : 0) | (flags & O_DIRECT ? NP_DIRECT : 0);
	int cur = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
	if (!(cur & NP_KNOWN) || (cur & (NP_USERNB | NP_DIRECT)) == want) return flags;
	int f = __np_lock(e);
	if (f & NP_KNOWN) f = (f & ~(NP_USERNB | NP_DIRECT)) | want;
	__np_unlock(e, f);
	return flags;
}

int __pal_fd_fionbio(int fd, int on)
{
	__pal_fd_setfl(fd, on ? O_NONBLOCK : 0);
	return 0;	/* the kernel does it */
}

void __pal_fd_replacing(int oldfd, int newfd)
{
	struct __np_fd *e = __np_lookup(newfd);
	/* A dup2 that fails (oldfd not open) leaves newfd's calls alone. */
	if (e && __atomic_load_n(&e->waiters, __ATOMIC_ACQUIRE) &&
	    __syscall(SYS_fcntl, oldfd, F_GETFD) >= 0)
		__np_closing(newfd);
}

void __pal_fd_dup(int oldfd, int newfd)
{
	struct __np_fd *o = __np_lookup(oldfd), *n;
	int f = o ? __atomic_load_n(&o->flags, __ATOMIC_ACQUIRE) : 0;
	/* newfd was closed if it was open: wake its waiters. */
	__np_forget(newfd);
	if (!(f & NP_KNOWN) || !(n = __np_entry(newfd))) return;
	__np_lock(n);
	__np_unlock(n, f & (NP_KNOWN | NP_USERNB | NP_SOCK | NP_NOTSOCK | NP_NONOWAIT |
		NP_DIRECT));
}

void __pal_fd_closed(int fd)
{
	__np_forget(fd);
}
