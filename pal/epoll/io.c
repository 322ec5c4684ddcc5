/*
 * io.c - M:N backend: blocking I/O, poll/select/epoll_wait and sleeps
 * park the calling task instead of blocking its worker.
 *
 * Pollable fds (sockets, pipes, FIFOs, ttys, eventfds, epoll fds: what
 * epoll_ctl accepts) that a task blocks on are registered with the
 * netpoller (sched/netpoll.h) and made O_NONBLOCK on their open file
 * description.  A blocking call is then: read the fd's readiness
 * counter, make the call; on EAGAIN park on the counter (unless it has
 * moved) and try again.  What the program sees is unchanged:
 *   - fcntl(F_GETFL) shows O_NONBLOCK only if the program set it (fcntl,
 *     ioctl FIONBIO, SOCK_NONBLOCK, open), and then calls on the fd
 *     return EAGAIN as before; so does MSG_DONTWAIT.
 *   - write, send and sendto on a blocking fd write everything (as a
 *     blocking stream socket or pipe does), unless a signal handler
 *     without SA_RESTART or SO_SNDTIMEO cuts it short, when the count
 *     so far is returned; writev and sendmsg likewise for up to
 *     IOV_BATCH buffers.  recv with MSG_WAITALL waits for all of it.
 *   - SO_RCVTIMEO and SO_SNDTIMEO end a wait with EAGAIN (EINPROGRESS
 *     for connect), as socket(7) says.
 *   - a signal handler interrupts the call with EINTR unless it has
 *     SA_RESTART (signal(7)); poll, select, epoll_wait and sleeps are
 *     always interrupted; a signal that runs no handler never is.
 *   - close wakes the tasks parked on the fd; their call then fails as
 *     it would on a closed fd (EBADF).  shutdown wakes them through the
 *     netpoller's HUP event.
 * fds 0, 1 and 2 are shared with other processes (the shell's tty):
 * they are never made non-blocking; a task waits for them to be ready,
 * then makes the call (which can block its worker, if another process
 * takes the data first).  Regular files and other fds epoll refuses are
 * read and written on the worker (the monitor's handoff is issue 4).
 *
 * Limits: O_NONBLOCK set here stays on the description, which a child
 * process that inherits the fd (fork+exec) also sees; a program that
 * makes raw syscall(2) reads on such an fd sees EAGAIN.  poll/select on
 * more than one fd wake on any netpoller event (see netpoll.h).  An
 * absolute CLOCK_REALTIME sleep ends after the time it had to go when it
 * started, not at a changed wall-clock time.
 *
 * Sources: read(2), write(2), send(2), recv(2), connect(2), accept(2),
 * socket(7), poll(2), select(2), epoll_wait(2), nanosleep(2),
 * clock_nanosleep(2), signal(7); Go's runtime/netpoll.go for the design.
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

/* Learn fd's flags (once) and, for a task about to wait on it, register
 * it with the netpoller; nb: also make it O_NONBLOCK if the program has
 * not.  Returns the flags, or 0 if fd is unusable (the call itself will
 * say why). */
static int learn(int fd, struct __np_fd *e, int reg, int nb)
{
	int f = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
	if ((f & NP_KNOWN) &&
	    (!reg || (f & (NP_REG | NP_NOPOLL))) &&
	    (!nb || fd <= 2 || (f & (NP_OURNB | NP_USERNB | NP_NOPOLL))))
		return f;
	f = __np_lock(e);
	if (!(f & NP_KNOWN)) {
		int fl = __syscall(SYS_fcntl, fd, F_GETFL);
		if (fl < 0) {
			__np_unlock(e, f);
			return 0;
		}
		f |= NP_KNOWN | (fl & O_NONBLOCK ? NP_USERNB : 0);
	}
	if (reg && !(f & (NP_REG | NP_NOPOLL))) __np_register(fd, &f);
	if (nb && fd > 2 && (f & NP_REG) && !(f & (NP_USERNB | NP_OURNB))) {
		int fl = __syscall(SYS_fcntl, fd, F_GETFL);
		if (fl >= 0 && !__syscall(SYS_fcntl, fd, F_SETFL, fl | O_NONBLOCK))
			f |= NP_OURNB;
	}
	__np_unlock(e, f);
	return f;
}

/* The socket timeout (SO_RCVTIMEO / SO_SNDTIMEO) as a deadline, 0: none. */
static uint64_t sock_deadline(int fd, struct __np_fd *e, int dir)
{
	struct timeval tv;
	socklen_t len = sizeof tv;
	if (e->flags & NP_NOTSOCK) return 0;
	int r = __syscall(SYS_getsockopt, fd, SOL_SOCKET,
		dir == D_READ ? SO_RCVTIMEO : SO_SNDTIMEO, &tv, &len);
	if (r == -ENOTSOCK) {
		__atomic_fetch_or(&e->flags, NP_NOTSOCK, __ATOMIC_RELAXED);
		return 0;
	}
	if (r || (!tv.tv_sec && !tv.tv_usec)) return 0;
	return __sched_now() + tv.tv_sec * 1000000000ULL + tv.tv_usec * 1000ULL;
}

/* Park task t on a netpoller counter while it reads s, counted in
 * __np_waiters (so that workers poll); clears t->sigran first.  As
 * __pal_park. */
static int park_io(struct task *t, volatile int *word, int s,
	uint64_t deadline, int cp)
{
	t->sigran = 0;
	__atomic_fetch_add(&__np_waiters, 1, __ATOMIC_SEQ_CST);
	int r = __pal_park(word, s, deadline, cp ? PAL_WAIT_CANCEL : 0);
	__atomic_fetch_sub(&__np_waiters, 1, __ATOMIC_RELAXED);
	return r;
}

/* Wait for fd to become ready for dir, after a try that saw counter
 * value s.  A task parks; without one (before the scheduler, in a fork
 * child) the kernel's poll blocks.  Returns 0 (try again), -ETIMEDOUT,
 * or -EINTR (a handler ran that ends the call: see restart). */
static int wait_fd(struct task *t, int fd, struct __np_fd *e, int s,
	int dir, uint64_t deadline, int cp)
{
	int r;
	if (!t) {
		struct pollfd p = { fd, dir == D_READ ? POLLIN : POLLOUT, 0 };
		int ms = -1;
		if (deadline) {
			uint64_t now = __sched_now();
			if (now >= deadline) return -ETIMEDOUT;
			ms = (deadline - now + 999999) / 1000000;
		}
		struct call c = { SYS_poll, { (long)&p, 1, ms }, cp };
		r = sys(&c);
		if (!r) return -ETIMEDOUT;
		return r == -EINTR ? -EINTR : 0;
	}
	r = park_io(t, &e->seq, s, deadline, cp);
	return r == -EAGAIN ? 0 : r;
}

/* After -EINTR from a wait: bool, the call goes on (no handler ran, or
 * every one that did has SA_RESTART). */
static int restart(struct task *t)
{
	return !t || !(t->sigran & SIGRAN_NORESTART);
}

/* fds 0-2 (never made non-blocking): wait until poll says the fd is
 * ready for dir, then make the call on the worker. */
static long ready_then_call(struct task *t, int fd, struct __np_fd *e,
	int dir, const struct call *c)
{
	for (;;) {
		int s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		struct pollfd p = { fd, dir == D_READ ? POLLIN : POLLOUT, 0 };
		if (__syscall(SYS_poll, &p, 1, 0)) return on_worker(t, c);
		int r = wait_fd(t, fd, e, s, dir, 0, c->cp);
		if (r == -EINTR && !restart(t)) return -EINTR;
	}
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

/* A read try: a signalfd (signalfd(2)) sees the signals sent to the
 * task that it blocks (scheduler.h, __sched_sig_lend). */
static long read_try(struct task *t, const struct call *c)
{
	if (!t || !(__atomic_load_n(&t->sigpending, __ATOMIC_RELAXED) & t->sigmask))
		return sys(c);
	/* Not a cancellation point here (it would leave in the critical
	 * section); the wait that follows is. */
	struct call k = *c;
	k.cp = 0;
	__sched_nosig_enter(t);
	uint64_t lent = __sched_sig_lend(t);
	long r = sys(&k);
	if (lent) __sched_sig_reclaim(t, lent);
	__sched_nosig_leave(t);
	return r;
}

static long fd_call(struct task *t, struct call *c, int dir)
{
	int fd = c->a[0];
	struct __np_fd *e = t ? __np_entry(fd) : __np_lookup(fd);
	struct call cur = *c;
	struct iovec iov[IOV_BATCH];
	struct msghdr msg;
	uint64_t deadline = 0;
	int have_deadline = 0;
	size_t done = 0;
	long r;

	if (!e) return on_worker(t, c);
	int f = t ? learn(fd, e, 1, 1) : __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
	if ((f & NP_USERNB) || (msg_flags(c) & MSG_DONTWAIT)) return sys(c);
	if (!(f & NP_OURNB)) {
		if (t && (f & NP_REG)) return ready_then_call(t, fd, e, dir, c);
		return on_worker(t, c);
	}
	/* accept: the new fd is non-blocking from the start, and known. */
	if (c->nr == SYS_accept) {
		cur.nr = SYS_accept4;
		cur.a[3] = 0;
	}
	int accept_nb = 0;
	if (cur.nr == SYS_accept4 && !(cur.a[3] & SOCK_NONBLOCK)) {
		cur.a[3] |= SOCK_NONBLOCK;
		accept_nb = 1;
	}
	int waitall = c->nr == SYS_recvfrom && (c->a[3] & MSG_WAITALL);

	for (;;) {
		int s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		r = dir == D_READ ? read_try(t, &cur) : sys(&cur);
		if (r >= 0) {
			if (accept_nb) {
				struct __np_fd *n = __np_entry(r);
				if (n) {
					__np_lock(n);
					__np_unlock(n, NP_KNOWN | NP_OURNB);
				}
				return r;
			}
			if (dir == D_WRITE) {
				done += r;
				if (write_rest(&cur, c, done, iov, &msg)) continue;
				return done;
			}
			if (waitall && r > 0 && done + r < (size_t)c->a[2]) {
				done += r;
				cur.a[1] = c->a[1] + done;
				cur.a[2] = c->a[2] - done;
				continue;
			}
			return done + r;
		}
		if (r != -EAGAIN) break;
		if (!have_deadline) {
			deadline = sock_deadline(fd, e, dir);
			have_deadline = 1;
		}
		if (t && dir == D_READ) __atomic_store_n(&t->sig_word, &e->seq, __ATOMIC_SEQ_CST);
		int w = wait_fd(t, fd, e, s, dir, deadline, c->cp);
		if (t && dir == D_READ) __atomic_store_n(&t->sig_word, 0, __ATOMIC_RELAXED);
		if (w == -ETIMEDOUT) {
			r = -EAGAIN;
			break;
		}
		if (w == -EINTR && !restart(t)) {
			r = -EINTR;
			break;
		}
	}
	return done ? (long)done : r;
}

static long connect_call(struct task *t, struct call *c)
{
	int fd = c->a[0];
	struct __np_fd *e = t ? __np_entry(fd) : __np_lookup(fd);
	if (!e) return on_worker(t, c);
	int f = t ? learn(fd, e, 1, 1) : __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
	if (f & NP_USERNB) return sys(c);
	if (!(f & NP_OURNB)) return on_worker(t, c);
	long r = sys(c);
	if (r != -EINPROGRESS) return r;
	uint64_t deadline = sock_deadline(fd, e, D_WRITE);
	for (;;) {
		int s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		struct pollfd p = { fd, POLLOUT, 0 };
		if (__syscall(SYS_poll, &p, 1, 0) > 0) {
			int err = 0;
			socklen_t len = sizeof err;
			r = __syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_ERROR, &err, &len);
			return r ? r : -err;
		}
		int w = wait_fd(t, fd, e, s, D_WRITE, deadline, c->cp);
		/* Interrupted or timed out, the connection goes on in the
		 * background, as Linux's does (connect(2)). */
		if (w == -ETIMEDOUT) return -EINPROGRESS;
		if (w == -EINTR && !restart(t)) return -EINTR;
	}
}

/* ---- poll, select, epoll_wait -------------------------------------------- */

/* Common to the poll family: register the fds; then, until try() finds
 * something or the deadline passes, park on the one fd's counter or on
 * the shared one.  try: the call with a zero timeout. */
struct waitset {
	int n, one;		/* fds registered; the fd if n == 1 */
};

static int add_fd(struct waitset *ws, int fd)
{
	struct __np_fd *e;
	if (fd < 0) return 0;
	if (!(e = __np_entry(fd))) return -1;
	int f = learn(fd, e, 1, 0);
	if (!(f & NP_REG)) return (f & NP_KNOWN) ? -1 : 0;
	ws->one = fd;
	ws->n++;
	return 0;
}

static long wait_any(struct task *t, struct waitset *ws, uint64_t deadline,
	int cp, long (*try)(void *), void *ctx)
{
	volatile int *word = ws->n == 1 ? &__np_entry(ws->one)->seq : &__np_multi_seq;
	long r;
	if (ws->n != 1) __atomic_fetch_add(&__np_multi, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		int s = __atomic_load_n(word, __ATOMIC_SEQ_CST);
		if ((r = try(ctx))) break;
		if (deadline && __sched_now() >= deadline) break;
		int w = park_io(t, word, s, deadline, cp);
		if (w == -ETIMEDOUT) {
			r = try(ctx);
			break;
		}
		if (w == -EINTR && (t->sigran & SIGRAN_HANDLER)) {
			r = -EINTR;
			break;
		}
	}
	if (ws->n != 1) __atomic_fetch_sub(&__np_multi, 1, __ATOMIC_RELAXED);
	return r;
}

static uint64_t ms_deadline(long ms)
{
	return ms < 0 ? 0 : __sched_now() + ms * 1000000ULL + !ms;
}

static uint64_t ts_deadline(const struct timespec *ts)
{
	if (!ts) return 0;
	return __sched_now() + ts->tv_sec * 1000000000ULL + ts->tv_nsec + 1;
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
	__sched_sigwaiter_add(t);
	uint64_t old = __sched_mask_wait(t, m);
	long r = t->sigran & SIGRAN_HANDLER ? -EINTR : call(t, c);
	__sched_mask_set(t, old, MASK_KERNEL);
	return r;
}

static long poll_call(struct task *t, struct call *c)
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

static long select_call(struct task *t, struct call *c)
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
		deadline = __sched_now() + tv->tv_sec * 1000000000ULL + tv->tv_usec * 1000ULL + 1;
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
	if (tv) {
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

static long epoll_call(struct task *t, struct call *c)
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

/* ---- Sleeps -------------------------------------------------------------- */

static long sleep_call(struct task *t, struct call *c)
{
	clockid_t clk = CLOCK_REALTIME;
	int flags = 0;
	const struct timespec *req;
	struct timespec *rem;
	uint64_t d, deadline;

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
	if (flags & TIMER_ABSTIME) {
		struct timespec now;
		__clock_gettime(clk, &now);
		if (req->tv_sec < now.tv_sec ||
		    (req->tv_sec == now.tv_sec && req->tv_nsec <= now.tv_nsec))
			return 0;
		d = (req->tv_sec - now.tv_sec) * 1000000000ULL + req->tv_nsec - now.tv_nsec;
	} else {
		d = req->tv_sec * 1000000000ULL + req->tv_nsec;
	}
	if (!d) {
		__sched_yield();
		return 0;
	}
	deadline = __sched_now() + d;
	for (;;) {
		volatile int word = 0;
		t->sigran = 0;
		int r = __pal_park(&word, 0, deadline, c->cp ? PAL_WAIT_CANCEL : 0);
		if (r == -ETIMEDOUT) return 0;
		if (r == -EINTR && (t->sigran & SIGRAN_HANDLER)) {
			if (rem && !(flags & TIMER_ABSTIME)) {
				uint64_t now = __sched_now(), left = deadline > now ? deadline - now : 0;
				rem->tv_sec = left / 1000000000;
				rem->tv_nsec = left % 1000000000;
			}
			return -EINTR;
		}
		if (__sched_now() >= deadline) return 0;
	}
}

/* ---- Dispatch -------------------------------------------------------------- */

long __pal_io(long nr, long a, long b, long c, long d, long e, long f,
	int cp, int *handled)
{
	struct call k = { nr, { a, b, c, d, e, f }, cp };
	struct task *t = self_task();
	long r;

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
	}
	*handled = 0;
	return 0;
}

/* ---- The program's view of O_NONBLOCK (fcntl, ioctl, dup) ---------------- */

int __pal_fd_getfl(int fd, int kflags)
{
	struct __np_fd *e = __np_lookup(fd);
	int f = e ? __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) : 0;
	if ((f & NP_OURNB) && !(f & NP_USERNB)) kflags &= ~O_NONBLOCK;
	return kflags;
}

int __pal_fd_setfl(int fd, int flags)
{
	struct __np_fd *e = __np_lookup(fd);
	if (!e) return flags;
	int f = __np_lock(e);
	if (f & NP_KNOWN) {
		f = (f & ~NP_USERNB) | (flags & O_NONBLOCK ? NP_USERNB : 0);
		if (f & NP_OURNB) flags |= O_NONBLOCK;
	}
	__np_unlock(e, f);
	return flags;
}

int __pal_fd_fionbio(int fd, int on)
{
	struct __np_fd *e = __np_lookup(fd);
	if (!e) return 0;
	int f = __np_lock(e), handled = 0;
	if (f & NP_KNOWN) {
		f = (f & ~NP_USERNB) | (on ? NP_USERNB : 0);
		handled = !!(f & NP_OURNB);
	}
	__np_unlock(e, f);
	return handled;
}

void __pal_fd_dup(int oldfd, int newfd)
{
	struct __np_fd *o = __np_lookup(oldfd), *n;
	int f = o ? __atomic_load_n(&o->flags, __ATOMIC_ACQUIRE) : 0;
	/* newfd was closed if it was open: wake its waiters. */
	__np_forget(newfd);
	if (!(f & NP_KNOWN) || !(n = __np_entry(newfd))) return;
	__np_lock(n);
	__np_unlock(n, f & (NP_KNOWN | NP_OURNB | NP_USERNB | NP_NOTSOCK));
}

void __pal_fd_closed(int fd)
{
	__np_forget(fd);
}
