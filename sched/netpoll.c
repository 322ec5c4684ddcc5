/* netpoll.c - the netpoller; the protocol is described in netpoll.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include "vg.h"
#include "syscall.h"
#include "futex.h"
#include "scheduler.h"
#include "netpoll.h"

#define CHUNK_BITS 10
#define CHUNK (1 << CHUNK_BITS)
#define KICK_DATA ((uint64_t)-1)
#define HOOK_DATA ((uint64_t)-2)	/* hook i: HOOK_DATA - i */
#define NP_HOOKS 2

/* __np_lock: spins this many times before it futex-waits. */
#define LOCK_SPIN 128

/* Flags a copy of the fd (dup, a keepalive) shares with it: they are
 * the open file description's. */
#define NP_DESC (NP_KNOWN | NP_USERNB | NP_SOCK | NP_NOTSOCK | NP_NONOWAIT | \
	NP_STREAM | NP_PKT | NP_URG | NP_HUP | NP_DIRECT)

static struct __np_fd *volatile top[NP_MAX_FD >> CHUNK_BITS];
static int epfd = -1, kickfd = -1;
static int init_lock;
static volatile int ready;	/* epfd and kickfd are set up */
static int (*volatile hook[NP_HOOKS])(void);	/* __np_register_hook's */
static void (*volatile hook_fork[NP_HOOKS])(void);
static int nhooks;			/* init_lock */

volatile int __np_multi_seq, __np_multi, __np_waiters;

/* Bumped by every setsockopt of a socket timeout (__np_timeo_changed);
 * starts at 1, so that an entry's 0 is "never learned". */
static volatile int timeo_epoch = 1;

/* For the gdb extension (gdbinfo.c): the table, its chunks' size, and
 * how many there can be. */
hidden const unsigned long __np_gdb[3] = {
	(unsigned long)top, CHUNK, NP_MAX_FD >> CHUNK_BITS };

struct __np_fd *__np_entry(int fd)
{
	if (fd < 0 || fd >= NP_MAX_FD) return 0;
	struct __np_fd *c = __atomic_load_n(&top[fd >> CHUNK_BITS], __ATOMIC_ACQUIRE);
	if (!c) {
		/* Raw mmap: this runs in any context, malloc's lock included. */
		void *p = (void *)__syscall(SYS_mmap, 0, CHUNK * sizeof *c,
			PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
		if ((unsigned long)p > -4096UL) return 0;
		c = 0;
		if (!__atomic_compare_exchange_n(&top[fd >> CHUNK_BITS], &c, p, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			__syscall(SYS_munmap, p, CHUNK * sizeof *c);
		else
			c = p;
	}
	return &c[fd & (CHUNK - 1)];
}

struct __np_fd *__np_lookup(int fd)
{
	struct __np_fd *c;
	if (fd < 0 || fd >= NP_MAX_FD ||
	    !(c = __atomic_load_n(&top[fd >> CHUNK_BITS], __ATOMIC_ACQUIRE)))
		return 0;
	return &c[fd & (CHUNK - 1)];
}

/* ---- The entry lock ------------------------------------------------------ */

/*
 * NP_LOCK, a bit of e->flags.  Held for a few instructions or one
 * non-blocking syscall (a retry, netpoll.h), in a critical section
 * (scheduler.h), so the holder's task never switches away: a waiter
 * only waits for the holder's worker thread to run.  Under host load
 * that thread may be descheduled for a whole time slice, so a waiter
 * spins LOCK_SPIN times, then sets NP_LOCKW and sleeps in the kernel's
 * futex on the flags word (blocking its worker, which the holder does
 * not need); the unlock that finds NP_LOCKW wakes every sleeper, and
 * those that lose the race set it again.  It used to spin for good: an
 * epoll-per-thread server (tests/corpus/repro/epoll_workers.c) was seen
 * burning its CPU in here while the holder waited for that CPU.
 * Returns the flags, without NP_LOCK and NP_LOCKW.
 */
static int lock(struct __np_fd *e)
{
	__sched_nosig_enter(__sched_self());	/* until unlock */
	for (int spins = 0;; spins++) {
		int f = __atomic_load_n(&e->flags, __ATOMIC_RELAXED);
		if (!(f & NP_LOCK)) {
			if (__atomic_compare_exchange_n(&e->flags, &f, f | NP_LOCK,
			    1, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				return f;
			continue;
		}
		if (spins < LOCK_SPIN) {
			__builtin_ia32_pause();
			continue;
		}
		if (!(f & NP_LOCKW) && !__atomic_compare_exchange_n(&e->flags, &f,
		    f | NP_LOCKW, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			continue;
		__syscall(SYS_futex, &e->flags, FUTEX_WAIT|FUTEX_PRIVATE,
			f | NP_LOCKW, 0);
	}
}

/* Unlock e, leaving flags (what lock returned, changed) in it. */
static void unlock(struct __np_fd *e, int flags)
{
	int old = __atomic_exchange_n(&e->flags, flags & ~(NP_LOCK | NP_LOCKW),
		__ATOMIC_RELEASE);
	if (old & NP_LOCKW)
		__syscall(SYS_futex, &e->flags, FUTEX_WAKE|FUTEX_PRIVATE, INT_MAX);
	__sched_nosig_leave(__sched_self());
}

static void spin_lock(int *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

/* ---- The epoll instance -------------------------------------------------- */

static int setup(void)
{
	int r = 0;
	spin_lock(&init_lock);
	if (!ready) {
		int e = __syscall(SYS_epoll_create1, EPOLL_CLOEXEC);
		int k = e < 0 ? -1 : __syscall(SYS_eventfd2, 0, EFD_NONBLOCK|EFD_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = KICK_DATA };
		if (e < 0) r = e;
		else if (k < 0) r = k;
		else r = __syscall(SYS_epoll_ctl, e, EPOLL_CTL_ADD, k, &ev);
		if (r) {
			if (e >= 0) __syscall(SYS_close, e);
			if (k >= 0) __syscall(SYS_close, k);
		} else {
			epfd = e, kickfd = k;
			__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
		}
	}
	__atomic_store_n(&init_lock, 0, __ATOMIC_RELEASE);
	return r;
}

int __np_active(void)
{
	return __atomic_load_n(&ready, __ATOMIC_ACQUIRE);
}

/* Forget e's drained marks: no seq value matches them until seq wraps. */
static void unmark(struct __np_fd *e)
{
	int s = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&e->drained[0], s - 1, __ATOMIC_RELAXED);
	__atomic_store_n(&e->drained[1], s - 1, __ATOMIC_RELAXED);
}

/* Register fd (entry e, locked) in the netpoller: 0, or -errno from
 * epoll_ctl (-EPERM: fd cannot be polled) or from creating the epoll
 * instance.  Sets NP_REG or NP_NOPOLL in *flags. */
static int do_register(int fd, struct __np_fd *e, int *flags)
{
	int r;
	if (!__np_active() && (r = setup())) return r;
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET,
		.data.u64 = (unsigned)fd,
	};
	/* Marks made before (another file at this number, or a fork's
	 * parent) prove nothing about this registration. */
	unmark(e);
	r = __syscall(SYS_epoll_ctl, epfd, EPOLL_CTL_ADD, fd, &ev);
	if (r == -EEXIST) r = 0;	/* the same description, still there */
	if (!r) *flags |= NP_REG;
	else if (r == -EPERM) *flags |= NP_NOPOLL;
	return r;
}

int __np_register_hook(int fd, int (*fn)(void), void (*fork_child)(void))
{
	int r, i;
	if (!__np_active() && (r = setup())) return r;
	spin_lock(&init_lock);
	i = nhooks < NP_HOOKS ? nhooks++ : -1;
	if (i >= 0) {
		hook_fork[i] = fork_child;
		__atomic_store_n(&hook[i], fn, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&init_lock, 0, __ATOMIC_RELEASE);
	if (i < 0) return -ENOSPC;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = HOOK_DATA - i };
	return __syscall(SYS_epoll_ctl, epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Learn fd's flags (once) and register it with the netpoller, unless
 * its flags have one of enough: NP_USERNB for a call that waits only if
 * the fd is blocking, NP_KNOWN for one that never waits, 0 for a wait
 * on readiness itself (poll).  An event loop's O_NONBLOCK sockets so
 * stay out of the netpoller's epoll set, and their traffic does not
 * wake it.  Returns the flags, or 0 if fd is unusable (the call itself
 * will say why). */
static int learn(int fd, struct __np_fd *e, int enough)
{
	int f = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
	if ((f & NP_KNOWN) && (f & (NP_REG | NP_NOPOLL | enough))) return f;
	f = lock(e);
	if (!(f & NP_KNOWN)) {
		int v, fl = __syscall(SYS_fcntl, fd, F_GETFL);
		socklen_t len = sizeof v;
		struct stat st;
		if (fl < 0) {
			unlock(e, f);
			return 0;
		}
		f |= NP_KNOWN | (fl & O_NONBLOCK ? NP_USERNB : 0) |
			(fl & O_DIRECT ? NP_DIRECT : 0);
		if (!__syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_TYPE, &v, &len)) {
			f |= NP_SOCK;
			len = sizeof v;
			if (v == SOCK_STREAM && !__syscall(SYS_getsockopt, fd,
			    SOL_SOCKET, SO_PROTOCOL, &v, &len) && v == IPPROTO_TCP)
				f |= NP_STREAM;
		} else {
			f |= NP_NOTSOCK;
			if (!__syscall(SYS_fstat, fd, &st) && S_ISFIFO(st.st_mode))
				f |= NP_STREAM | (fl & O_DIRECT ? NP_PKT : 0);
		}
	}
	if (!(f & (NP_REG | NP_NOPOLL | enough))) do_register(fd, e, &f);
	unlock(e, f);
	return f;
}

int __np_learn(int fd)
{
	struct __np_fd *e = __np_entry(fd);
	return e ? learn(fd, e, 0) : 0;
}

int __np_flags(int fd)
{
	struct __np_fd *e = __np_entry(fd);
	return e ? learn(fd, e, NP_KNOWN) : 0;
}

static void bump(volatile int *seq)
{
	struct task *t = __sched_self();
	__sched_nosig_enter(t);	/* queue operations follow */
	__atomic_fetch_add(seq, 1, __ATOMIC_SEQ_CST);
	__sched_lot_wake(seq, -1, __sched_unpark_io);
	__sched_nosig_leave(t);
}

/* ---- What the program does to its fds ------------------------------------ */

void __np_forget(int fd)
{
	struct __np_fd *e = __np_lookup(fd);
	if (!e) return;
	lock(e);
	e->gen++;
	e->timeo_epoch[0] = e->timeo_epoch[1] = 0;
	unmark(e);
	unlock(e, 0);	/* waiters stay linked: they unlink themselves */
	bump(&e->seq);
	if (__atomic_load_n(&__np_multi, __ATOMIC_SEQ_CST)) bump(&__np_multi_seq);
}

void __np_setfl(int fd, int flags)
{
	struct __np_fd *e = __np_lookup(fd);
	if (!e) return;
	int want = (flags & O_NONBLOCK ? NP_USERNB : 0) |
		(flags & O_DIRECT ? NP_PKT | NP_DIRECT : 0);
	int cur = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
	/* Nothing to learn (F_GETFL's answer, most often): no lock. */
	if (!(cur & NP_KNOWN)) return;
	if (!(cur & NP_STREAM) || (cur & NP_SOCK)) want &= ~NP_PKT;
	if ((cur & (NP_USERNB | NP_PKT | NP_DIRECT)) == want) return;
	int f = lock(e);
	if (f & NP_KNOWN) {
		f = (f & ~(NP_USERNB | NP_DIRECT)) | (want & (NP_USERNB | NP_DIRECT));
		if ((f & NP_STREAM) && !(f & NP_SOCK))
			f = (f & ~NP_PKT) | (want & NP_PKT);
	}
	unlock(e, f);
}

void __np_dup(int oldfd, int newfd)
{
	struct __np_fd *o = __np_lookup(oldfd), *n;
	int f = o ? __atomic_load_n(&o->flags, __ATOMIC_ACQUIRE) : 0;
	/* newfd was closed if it was open: wake its waiters. */
	__np_forget(newfd);
	if (!(f & NP_KNOWN) || !(n = __np_entry(newfd))) return;
	lock(n);
	unlock(n, f & NP_DESC);
}

int __np_has_waiters(int fd)
{
	struct __np_fd *e = __np_lookup(fd);
	return e && __atomic_load_n(&e->waiters, __ATOMIC_ACQUIRE);
}

void __np_timeo_changed(void)
{
	__atomic_fetch_add(&timeo_epoch, 1, __ATOMIC_SEQ_CST);
}

/* ---- Calls blocked on an fd ---------------------------------------------- */

/* Wake the poll-family waiters linked on e (locked). */
static void bump_multi(struct __np_fd *e)
{
	for (struct __np_wait *w = e->waiters; w; w = w->next)
		if (w->word) bump(w->word);
}

/* Link w on e (locked), the entry of fd. */
static void link_wait(struct __np_fd *e, struct __np_wait *w, int fd)
{
	w->fd = fd;
	w->gen = e->gen;
	w->prev = 0;
	w->next = e->waiters;
	if (w->next) w->next->prev = w;
	e->waiters = w;
	if (w->word) e->nmulti++;
}

static void unlink_wait(struct __np_fd *e, struct __np_wait *w)
{
	if (w->prev) w->prev->next = w->next;
	else e->waiters = w->next;
	if (w->next) w->next->prev = w->prev;
	if (w->word) e->nmulti--;
}

/* A close-on-exec copy of fd at a number the program is unlikely to
 * expect free: at or above min(RLIMIT_NOFILE, 4096) - 64. */
static int copy_fd(int fd)
{
	struct rlimit rl;
	long base = 0;
	if (!__syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, &rl))
		base = (rl.rlim_cur > 4096 ? 4096 : (long)rl.rlim_cur) - 64;
	if (base < 3) base = 3;
	int k = __syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, base);
	if (k < 0) k = __syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3);
	return k;
}

/* Close a keepalive k (entry ke, locked): out of the epoll set first, in
 * case the program still has the description open by another fd. */
static void drop_keepalive(int k, struct __np_fd *ke)
{
	if (ke->flags & NP_REG)
		__syscall(SYS_epoll_ctl, epfd, EPOLL_CTL_DEL, k, 0);
	__syscall(SYS_close, k);
	ke->gen++;
	bump(&ke->seq);
}

void __np_closing(int fd)
{
	struct __np_fd *e = __np_lookup(fd), *ke = 0;
	struct __np_wait *w, *next;
	int single = 0, k = -1, kf = 0;

	/* No call waits on fd (every close but a few): no lock.  A call
	 * that links itself meanwhile finds gen moved (__np_forget) when it
	 * wakes, and fails with EBADF: it raced the close. */
	if (!e || !__atomic_load_n(&e->waiters, __ATOMIC_ACQUIRE)) return;
	int f = lock(e);
	for (w = e->waiters; w; w = w->next)
		if (!w->word) single++;
	if (single && (k = copy_fd(fd)) >= 0) {
		if ((ke = __np_entry(k))) {
			lock(ke);
			kf = (f & (NP_DESC | NP_INCALL)) | NP_KEEP;
			if (do_register(k, ke, &kf)) {
				unlock(ke, 0);
				ke = 0;
			}
		}
		if (!ke) {
			__syscall(SYS_close, k);
			k = -1;
		}
	}
	for (w = e->waiters; w; w = next) {
		next = w->next;
		if (w->word) continue;
		unlink_wait(e, w);
		if (ke) link_wait(ke, w, k);
		__atomic_store_n(&w->fd, k, __ATOMIC_RELEASE);
	}
	if (ke) {
		ke->timeo_epoch[0] = e->timeo_epoch[0];
		ke->timeo_epoch[1] = e->timeo_epoch[1];
		ke->timeo[0] = e->timeo[0];
		ke->timeo[1] = e->timeo[1];
		unlock(ke, kf);
	}
	/* The moved calls are parked on e's counter. */
	bump(&e->seq);
	bump_multi(e);
	unlock(e, f);
}

/* Lock the entry w is linked on (*flags: its flags, for unlock); 0 if
 * w was unlinked by a close that could not copy the fd. */
static struct __np_fd *wait_lock(struct __np_wait *w, int *flags)
{
	for (;;) {
		int fd = __atomic_load_n(&w->fd, __ATOMIC_ACQUIRE);
		if (fd < 0) return 0;	/* unlinked by __np_closing */
		struct __np_fd *e = __np_lookup(fd);
		*flags = lock(e);
		if (w->fd == fd) return e;
		unlock(e, *flags);	/* moved meanwhile */
	}
}

/* Unlink w from e (locked, its flags *f), closing a keepalive it was
 * the last call on. */
static void unlink_locked(struct __np_fd *e, struct __np_wait *w, int *f)
{
	unlink_wait(e, w);
	if ((*f & NP_KEEP) && !e->waiters) {
		drop_keepalive(w->fd, e);
		*f = 0;
	}
}

static void wait_end(struct __np_wait *w)
{
	int f;
	struct __np_fd *e = wait_lock(w, &f);
	if (!e) return;
	unlink_locked(e, w, &f);
	unlock(e, f);
}

/* The socket timeout of direction d (0 SO_RCVTIMEO, 1 SO_SNDTIMEO) as a
 * deadline, 0: none.  e locked, f its flags.  Learned once per entry and
 * again after a setsockopt of either timeout anywhere in the process
 * (timeo_epoch, read before the getsockopt: a change the getsockopt
 * misses bumps it after). */
static uint64_t sock_deadline(struct __np_fd *e, int fd, int f, int d)
{
	struct timeval tv;
	socklen_t len = sizeof tv;
	if (!(f & NP_SOCK)) return 0;
	int ep = __atomic_load_n(&timeo_epoch, __ATOMIC_SEQ_CST);
	if (e->timeo_epoch[d] != ep) {
		if (__syscall(SYS_getsockopt, fd, SOL_SOCKET,
		    d ? SO_SNDTIMEO : SO_RCVTIMEO, &tv, &len))
			return 0;
		e->timeo[d] = tv.tv_sec * 1000000000ULL + tv.tv_usec * 1000ULL;
		/* After timeo: __np_sock_timeo reads them unlocked. */
		__atomic_store_n(&e->timeo_epoch[d], ep, __ATOMIC_RELEASE);
	}
	if (!e->timeo[d]) return 0;
	return __sched_deadline_after(e->timeo[d] / 1000000000, e->timeo[d] % 1000000000);
}

uint64_t __np_sock_timeo(int fd, int d)
{
	struct __np_fd *e = __np_lookup(fd);
	if (!e) return 0;
	/* Learned at this epoch, and none: no lock (every call of a
	 * program that sets no socket timeout, after the first). */
	if (__atomic_load_n(&e->timeo_epoch[d], __ATOMIC_ACQUIRE) ==
	    __atomic_load_n(&timeo_epoch, __ATOMIC_SEQ_CST) && !e->timeo[d])
		return 0;
	int f = lock(e);
	uint64_t ns = 0;
	if ((f & NP_SOCK) && sock_deadline(e, fd, f, d)) ns = e->timeo[d];
	unlock(e, f);
	return ns;
}

/* Park on word while it is val, counted in __np_waiters (workers poll
 * while it is not 0).  ops->wait's result. */
static long wait_io(const struct __np_ops *ops, void *arg, volatile int *word,
	int val, uint64_t deadline, volatile int *sig_word)
{
	struct task *t = __sched_self();
	long r;
	/* A signal sent to t that it blocks bumps the counter: a signalfd
	 * may now be read (scheduler.h, sig_word). */
	if (sig_word) __atomic_store_n(&t->sig_word, sig_word, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&__np_waiters, 1, __ATOMIC_SEQ_CST);
	r = ops->wait(arg, word, val, deadline);
	__atomic_fetch_sub(&__np_waiters, 1, __ATOMIC_RELAXED);
	if (sig_word) __atomic_store_n(&t->sig_word, 0, __ATOMIC_RELAXED);
	return r;
}

/*
 * The drained marks.  e->drained[d] is a value of e->seq, read before a
 * try that found direction d drained: the try failed with EAGAIN, or
 * (NP_STREAM, and not NP_PKT or NP_URG for input) moved fewer bytes than
 * asked, more than none.  While seq still has that value the fd is still
 * drained, and a call parks at once instead of trying first:
 *   - the fd is registered edge-triggered (NP_REG): the kernel queues
 *     the fd's epitem on every wakeup of the file's wait queue (data
 *     arriving, space freed, a hangup or error), unless it is queued
 *     already, and epoll_wait takes it off as it reports it (ep_poll_
 *     callback, ep_send_events).  So whatever arrives after the try
 *     queues an event that is reported after that, or one reported
 *     after the seq read; either way __np_poll bumps seq past the mark.
 *   - the park itself is futex-style on seq (lot.h), so a bump between
 *     the mark's check and the park is not lost.
 *   - only EAGAIN proves a datagram socket, an eventfd or a unix socket
 *     drained: a short datagram is one message of several; a unix
 *     stream read stops at a message that carries fds or other
 *     credentials; a TCP read stops at urgent data (EPOLLPRI: NP_URG);
 *     a packet-mode pipe (O_DIRECT) reads one packet.  End of file
 *     (0 bytes) never marks: it stays.
 *   - the calls that do not consume what they find (MSG_PEEK), or look
 *     at another queue (MSG_OOB, MSG_ERRQUEUE), and connect, pass
 *     NP_IO_NOMARK (MSG_PEEK's EAGAIN could mark; it does not bother).
 * Anything else that bumps seq (a close, a signal for a signalfd, a
 * turn given back) only costs one try more.  A stale mark written late
 * by a slow caller holds an older seq, which never comes back.
 */
static int may_mark(int f, int d, struct __np_try *k)
{
	return k->short_io && NP_SHORT_DRAINS(f, d);
}

static long io_turn(struct __np_fd *e, int fd, int gen, int mode,
	uint64_t deadline, const struct __np_ops *ops, void *arg);

/* Link w, a call about to wait on fd, on its entry e, unless fd was
 * closed or replaced since the call read its generation gen (-EBADF);
 * with NP_IO_TIMEO in mode, *deadline becomes the socket timeout's. */
static int link_live(struct __np_fd *e, struct __np_wait *w, int fd, int gen,
	int mode, uint64_t *deadline)
{
	int f = lock(e);
	if (e->gen != gen) {
		unlock(e, f);
		return -EBADF;
	}
	if (mode & NP_IO_TIMEO)
		*deadline = sock_deadline(e, fd, f, (mode & NP_OUT) ? 1 : 0);
	link_wait(e, w, fd);
	unlock(e, f);
	return 0;
}

/* __np_io for a fd that can be tried without blocking: see netpoll.h. */
static long io_loop(struct __np_fd *e, int fd, int f, int gen, int mode,
	uint64_t deadline, const struct __np_ops *ops, void *arg)
{
	struct __np_wait w = { .word = 0 };
	struct __np_try k = { fd, f, NP_TRY_NOWAIT, 0 };
	int d = (mode & NP_OUT) ? 1 : 0, mark = !(mode & NP_IO_NOMARK);
	long r;

	int s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	/* After seq: NP_HUP and NP_URG are set before the bump. */
	k.flags = f = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) & ~(NP_LOCK | NP_LOCKW);
	if (!mark || s != __atomic_load_n(&e->drained[d], __ATOMIC_RELAXED)) {
		r = ops->try(arg, &k);
		if (r == NP_TRY_UNSUP) goto unsup;
		if (r != -EAGAIN) {
			if (mark && r > 0 && may_mark(f, d, &k))
				__atomic_store_n(&e->drained[d], s, __ATOMIC_RELAXED);
			return r;
		}
		if (mark) __atomic_store_n(&e->drained[d], s, __ATOMIC_RELAXED);
	}

	/* Waiting: be found by a close of fd. */
	if (link_live(e, &w, fd, gen, mode, &deadline)) return -EBADF;

	for (;;) {
		r = wait_io(ops, arg, &e->seq, s, deadline, d ? 0 : &e->seq);
		if (r <= 0) break;
		/* The retry holds the entry locked, so that a close cannot
		 * come between the checks and the call (netpoll.h). */
		if (!(e = wait_lock(&w, &f))) {
			r = -EBADF;
			break;
		}
		if (e->gen != w.gen) {
			r = -EBADF;
			unlink_locked(e, &w, &f);
			unlock(e, f);
			return r;
		}
		s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		if (mark && s == __atomic_load_n(&e->drained[d], __ATOMIC_RELAXED)) {
			unlock(e, f);	/* nothing new: woken by a signal */
			continue;
		}
		k = (struct __np_try){ w.fd, f, NP_TRY_NOWAIT | NP_TRY_AGAIN | NP_TRY_LOCKED, 0 };
		r = ops->try(arg, &k);
		if (r == -EAGAIN) {
			if (mark) __atomic_store_n(&e->drained[d], s, __ATOMIC_RELAXED);
			unlock(e, f);
			continue;
		}
		if (mark && r > 0 && may_mark(f, d, &k))
			__atomic_store_n(&e->drained[d], s, __ATOMIC_RELAXED);
		fd = w.fd;
		unlink_locked(e, &w, &f);
		if (r == NP_TRY_UNSUP) {
			f |= NP_NONOWAIT;
			gen = e->gen;
			unlock(e, f);
			return io_turn(e, fd, gen, mode, deadline, ops, arg);
		}
		unlock(e, f);
		return r;
	}
	wait_end(&w);
	return r;

unsup:
	/* No RWF_NOWAIT for this kind of file (ttys). */
	f = lock(e);
	if (e->gen == gen) f |= NP_NONOWAIT;
	unlock(e, f);
	return io_turn(e, fd, gen, mode, deadline, ops, arg);
}

/* A call that cannot be made non-blocking (accept, a tty's read): wait
 * until poll says the fd is ready and it is this call's turn, then make
 * it blocking on the worker.  Other tasks of this process never take
 * the data from under it; another process can, and then the call
 * blocks the worker (the monitor starts a spare). */
static long io_turn(struct __np_fd *e, int fd, int gen, int mode,
	uint64_t deadline, const struct __np_ops *ops, void *arg)
{
	struct __np_wait w = { .word = 0 };
	struct __np_try k;
	int d = (mode & NP_OUT) ? 1 : 0;
	long r;

	int f;
	if (link_live(e, &w, fd, gen, mode, &deadline)) return -EBADF;
	for (;;) {
		if (!(e = wait_lock(&w, &f))) {
			r = -EBADF;
			break;
		}
		if (e->gen != w.gen) {
			unlock(e, f);
			r = -EBADF;
			break;
		}
		int s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		struct pollfd p = { w.fd, d ? POLLOUT : POLLIN, 0 };
		if (!(f & NP_INCALL) && __syscall(SYS_poll, &p, 1, 0)) {
			k = (struct __np_try){ w.fd, f, NP_TRY_BLOCK, 0 };
			unlock(e, f | NP_INCALL);
			r = ops->try(arg, &k);
			/* Give the turn back, and wake the others waiting. */
			if ((e = wait_lock(&w, &f))) {
				unlock(e, f & ~NP_INCALL);
				bump(&e->seq);
			}
			break;
		}
		unlock(e, f);
		r = wait_io(ops, arg, &e->seq, s, deadline, 0);
		if (r <= 0) break;
	}
	wait_end(&w);
	return r;
}

long __np_io(int fd, int mode, uint64_t deadline,
	const struct __np_ops *ops, void *arg)
{
	struct __np_fd *e = __np_entry(fd);
	if (!e) return NP_IO_BLOCK;
	int gen = __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE);
	int f = learn(fd, e, (mode & NP_IO_ASIS) ? NP_KNOWN : NP_USERNB);
	if (!(f & NP_KNOWN)) return NP_IO_BLOCK;
	if ((f & NP_USERNB) || (mode & NP_IO_ASIS)) {
		struct __np_try k = { fd, f, NP_TRY_ASIS, 0 };
		return ops->try(arg, &k);
	}
	if (!(f & NP_REG)) return NP_IO_BLOCK;
	if ((mode & NP_IO_TURN) || (f & NP_NONOWAIT))
		return io_turn(e, fd, gen, mode, deadline, ops, arg);
	return io_loop(e, fd, f, gen, mode, deadline, ops, arg);
}

/* ---- Calls blocked on several fds (the poll family) ---------------------- */

/* Link w, a poll-family call, on fd's entry, with its own counter. */
static int wait_begin(struct __np_wait *w, int fd, volatile int *word)
{
	struct __np_fd *e = __np_entry(fd);
	if (!e) return -ENOMEM;
	w->word = word;
	int f = lock(e);
	link_wait(e, w, fd);
	unlock(e, f);
	return 0;
}

static __attribute__((noinline)) long multi_loop(const int *fds, int n, int many,
	uint64_t deadline, const struct __np_ops *ops, void *arg)
{
	struct __np_wait w[NP_MULTI_MAX];
	struct __np_try k = { -1, 0, NP_TRY_NOWAIT | NP_TRY_AGAIN, 0 };
	volatile int own = 0, *word = many ? &__np_multi_seq : &own;
	int linked = 0;
	long r;

	if (many) __atomic_fetch_add(&__np_multi, 1, __ATOMIC_SEQ_CST);
	else
		while (linked < n && !wait_begin(&w[linked], fds[linked], &own))
			linked++;
	for (;;) {
		int s = __atomic_load_n(word, __ATOMIC_SEQ_CST);
		if ((r = ops->try(arg, &k)) != -EAGAIN) break;
		/* word, also bumped by a signal sent to the task that it
		 * blocks: a signalfd among the fds may be ready now (the
		 * try sees such signals: pal/epoll/io.c, multi_sys). */
		if ((r = wait_io(ops, arg, word, s, deadline, word)) <= 0) break;
	}
	if (many) __atomic_fetch_sub(&__np_multi, 1, __ATOMIC_RELAXED);
	while (linked) wait_end(&w[--linked]);
	return r;
}

long __np_io_multi(long n, uint64_t deadline, const struct __np_ops *ops,
	void *arg)
{
	struct __np_try k = { -1, 0, NP_TRY_NOWAIT, 0 };
	int fds[NP_MULTI_MAX], nfds = 0, many = 0;
	long r = ops->try(arg, &k);
	if (r != -EAGAIN) return r;
	for (long i = 0; i < n; i++) {
		int fd = ops->fd_at(arg, i), f, j;
		struct __np_fd *e;
		if (fd < 0) continue;
		if (!(e = __np_entry(fd))) return NP_IO_BLOCK;
		f = learn(fd, e, 0);
		if (!(f & NP_REG)) {
			if (f & NP_KNOWN) return NP_IO_BLOCK;
			continue;	/* not open: poll says so (POLLNVAL) */
		}
		if (many) continue;
		for (j = 0; j < nfds && fds[j] != fd; j++)
			;
		if (j < nfds) continue;
		if (nfds == NP_MULTI_MAX) many = 1;
		else fds[nfds++] = fd;
	}
	return multi_loop(fds, nfds, many, deadline, ops, arg);
}

/* ---- Polling ------------------------------------------------------------- */

int __np_poll(int64_t timeout_ns)
{
	struct epoll_event ev[128];
	struct timespec ts, *tsp = 0;
	int n, woke = 0, hooked = 0;

	if (!__np_active()) return 0;
	if (timeout_ns >= 0) {
		ts.tv_sec = timeout_ns / 1000000000;
		ts.tv_nsec = timeout_ns % 1000000000;
		tsp = &ts;
	}
	/* Blocked in the kernel, a worker's g0 takes program handlers
	 * (scheduler.h, __sched_g0_idle). */
	if (timeout_ns) __sched_g0_idle(1);
	/* epoll_pwait2 for its ns timeout, unless the kernel lacks it (then
	 * never again) or Valgrind runs us (it does not know it). */
	static int no_pwait2;
	n = -ENOSYS;
	if (!no_pwait2 && !(no_pwait2 = vg_running()))
		n = __syscall(SYS_epoll_pwait2, epfd, ev, 128, tsp, 0, _NSIG/8);
	if (n == -ENOSYS) {
		no_pwait2 = 1;
		/* Before Linux 5.11: millisecond timeouts, rounded up. */
		int ms = timeout_ns < 0 ? -1 : timeout_ns > INT_MAX * 1000000LL ?
			INT_MAX : (int)((timeout_ns + 999999) / 1000000);
		n = __syscall(SYS_epoll_pwait, epfd, ev, 128, ms, 0, _NSIG/8);
	}
	if (timeout_ns) __sched_g0_idle(0);
	if (n < 0) return n;
	for (int i = 0; i < n; i++) {
		if (ev[i].data.u64 == KICK_DATA) {
			uint64_t v;
			__syscall(SYS_read, kickfd, &v, sizeof v);
			continue;
		}
		if (ev[i].data.u64 > HOOK_DATA - NP_HOOKS) {
			hooked += hook[HOOK_DATA - ev[i].data.u64]();
			continue;
		}
		struct __np_fd *e = __np_entry((int)ev[i].data.u64);
		/* Urgent data, a hangup or an error: a short transfer no
		 * longer proves the fd drained (the drained marks).  Before
		 * the bump, so that a caller that sees the bump sees the
		 * flag. */
		int why = (ev[i].events & EPOLLPRI ? NP_URG : 0) |
			(ev[i].events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR) ? NP_HUP : 0);
		if (why && (e->flags & NP_STREAM) && (e->flags & why) != why) {
			int f = lock(e);
			unlock(e, f | why);
		}
		bump(&e->seq);
		if (__atomic_load_n(&e->nmulti, __ATOMIC_RELAXED)) {
			int f = lock(e);
			bump_multi(e);
			unlock(e, f);
		}
		woke++;
	}
	if (woke && __atomic_load_n(&__np_multi, __ATOMIC_SEQ_CST))
		bump(&__np_multi_seq);
	return woke + hooked;
}

int __np_ready(void)
{
	struct pollfd p = { epfd, POLLIN, 0 };
	return __np_active() && __syscall(SYS_poll, &p, 1, 0) > 0;
}

void __np_kick(void)
{
	uint64_t one = 1;
	if (__np_active()) __syscall(SYS_write, kickfd, &one, sizeof one);
}

void __np_fork_child(void)
{
	if (ready) {
		__syscall(SYS_close, epfd);
		__syscall(SYS_close, kickfd);
	}
	epfd = kickfd = -1;
	ready = 0;
	for (int i = 0; i < nhooks; i++) {
		hook[i] = 0;
		if (hook_fork[i]) hook_fork[i]();
		hook_fork[i] = 0;
	}
	nhooks = 0;
	init_lock = 0;
	__np_multi = __np_waiters = 0;
	for (int i = 0; i < NP_MAX_FD >> CHUNK_BITS; i++) {
		struct __np_fd *c = top[i];
		if (c) for (int j = 0; j < CHUNK; j++) {
			if (c[j].flags & NP_KEEP) {
				__syscall(SYS_close, i * CHUNK + j);
				c[j].flags = 0;
			}
			c[j].flags &= ~(NP_REG | NP_LOCK | NP_LOCKW | NP_INCALL);
			c[j].waiters = 0;
			c[j].nmulti = 0;
		}
	}
}
