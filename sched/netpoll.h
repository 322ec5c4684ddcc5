/*
 * netpoll.h - the netpoller: one epoll instance per process, into which
 * every fd a task waits on is registered once, edge-triggered, for input
 * and output.  Readiness is a counter per fd: the poller bumps it on each
 * event for the fd and wakes whoever waits on it in the lot.  A task that
 * needs an fd to become ready reads the counter, retries its call, and
 * parks on the counter's address only if the counter has not moved (a
 * futex-style wait, so no edge is lost between the try and the park).
 * It skips the try when the counter still has the value at which the fd
 * was last seen drained (the drained marks, netpoll.c).
 *
 * The backend (pal/epoll/io.c) makes a blocking call through one
 * function, __np_io (one fd), or __np_io_multi (the poll family), giving
 * the call as a try and a wait (struct __np_ops); everything else, the
 * entry lock included, is the netpoller's.  Go's netpoll.go splits the
 * same way: the caller's loop is pollDesc.wait around a non-blocking
 * call, and the netpoller owns the descriptor state.
 *
 * Calls blocked on an fd (struct __np_wait) are listed on its entry.
 * When the program closes the fd, or dup2s another over it, while calls
 * are blocked on it, the netpoller first copies the fd to a number of
 * its own (a keepalive, close-on-exec) and moves those calls there: they
 * go on waiting on the same open file description, as a blocked call
 * does under 1:1 Linux (the kernel holds its file until it returns), and
 * never retry on the reused number: a retry is made with the entry
 * locked, and checks the entry's generation (gen, bumped by every close
 * and dup2 over the number), so a call that a close did not move fails
 * with EBADF.  The last call to leave a keepalive closes it.
 *
 * poll-family waiters park on a counter of their own, linked on each of
 * their fds' entries, which only those fds' events bump; past
 * NP_MULTI_MAX distinct fds, on one process-wide counter bumped on every
 * event while such waiters exist.
 *
 * The fd table also keeps what the calls need: whether the open file
 * description is O_NONBLOCK (NP_USERNB: the program, or a process
 * sharing it, set it; the backend itself never does), whether the fd is
 * a socket, and its SO_RCVTIMEO/SO_SNDTIMEO, learned once and again after
 * any setsockopt of a timeout in the process (__np_timeo_changed).
 *
 * Thread-safety: entries are created once and never freed (their
 * addresses are wait addresses); flags, gen, the socket timeouts and
 * waiter lists change under a per-entry lock bit (NP_LOCK: a short spin,
 * then a futex wait), flags are read with atomic loads; seq only grows;
 * the drained marks are plain atomic stores (any value is safe, see
 * netpoll.c).
 */
#ifndef WEFT_SCHED_NETPOLL_H
#define WEFT_SCHED_NETPOLL_H

#include <stdint.h>

#ifndef hidden
#define hidden __attribute__((__visibility__("hidden")))
#endif

struct __np_wait;

struct __np_fd {
	volatile int seq;	/* readiness events seen for this fd */
	volatile int flags;	/* NP_*; see above */
	struct __np_wait *waiters;	/* calls blocked on it; NP_LOCK */
	volatile int nmulti;	/* of which poll-family (w->word); NP_LOCK */
	volatile int gen;	/* closes and dup2s over this number; NP_LOCK */
	volatile int drained[2];	/* seq at which input [0], output [1]
				 * was last seen drained (__np_io); any */
	volatile int timeo_epoch[2];	/* __np_timeo_epoch when timeo[] was
				 * learned, 0: never; NP_LOCK */
	uint64_t timeo[2];	/* SO_RCVTIMEO, SO_SNDTIMEO in ns, 0: none;
				 * NP_LOCK */
};

/* A call blocked on an fd, on the caller's stack while it is linked
 * (netpoll.c only). */
struct __np_wait {
	struct __np_wait *next, *prev;	/* on its fd's entry; NP_LOCK */
	volatile int fd;	/* the fd the call goes on with: its own, a
				 * keepalive copy after a close, or -1 if the
				 * fd was closed and could not be copied (the
				 * call fails with EBADF); NP_LOCK */
	int gen;		/* its entry's gen when it was linked or
				 * moved: another means the number was closed
				 * without moving it (EBADF); NP_LOCK */
	volatile int *word;	/* poll family: its own counter, bumped on
				 * each event of this fd; else 0 (the call
				 * parks on the entry's seq) */
};

enum {
	NP_KNOWN   = 1 << 0,	/* the fields below have been learned */
	NP_REG     = 1 << 1,	/* registered in the netpoller's epoll */
	NP_NOPOLL  = 1 << 2,	/* epoll refuses it (regular file, ...) */
	NP_SOCK    = 1 << 3,	/* a socket (else: no SO_*TIMEO, SO_ERROR) */
	NP_USERNB  = 1 << 4,	/* its description is O_NONBLOCK */
	NP_NOTSOCK = 1 << 5,	/* not a socket */
	NP_NONOWAIT = 1 << 6,	/* preadv2/pwritev2 refuse RWF_NOWAIT (ttys,
				 * inotify): wait for readiness, then call */
	NP_KEEP    = 1 << 7,	/* a keepalive copy made by the netpoller */
	NP_INCALL  = 1 << 8,	/* a task is making a blocking call on it
				 * that cannot be made non-blocking (accept,
				 * NP_NONOWAIT); the others wait their turn */
	NP_STREAM  = 1 << 9,	/* a short transfer proves it drained: a TCP
				 * socket, or a pipe or FIFO */
	NP_PKT     = 1 << 10,	/* a pipe in packet mode (O_DIRECT): a short
				 * read does not prove it drained */
	NP_URG     = 1 << 11,	/* urgent data was seen (EPOLLPRI): a short
				 * read stops at its mark, proving nothing */
	NP_HUP     = 1 << 12,	/* a hangup or error was seen: after a short
				 * transfer the next call may end at once
				 * (EOF, EPIPE, ECONNRESET), with no event */
	NP_DIRECT  = 1 << 13,	/* its description is O_DIRECT (pal/epoll/
				 * file.c: AIO for pread and pwrite) */
	NP_LOCKW   = 1 << 29,	/* someone futex-waits for NP_LOCK */
	NP_LOCK    = 1 << 30,	/* flags are being changed */
};

/* The entry for fd (>= 0, < NP_MAX_FD); 0 if out of range or out of
 * memory.  Async-signal-safe once created. */
#define NP_MAX_FD (1 << 20)
hidden struct __np_fd *__np_entry(int fd);

/* The entry for fd if it exists (was ever created), else 0. */
hidden struct __np_fd *__np_lookup(int fd);

/*
 * ---- Blocking calls: __np_io and __np_io_multi --------------------------
 *
 * The backend (pal/epoll/io.c) makes each blocking call on a pollable fd
 * through one of these two, and they own everything else: what is known
 * about the fd (learned once: O_NONBLOCK, socket or not, registered),
 * the entry's lock, linking the call where a close finds it, parking,
 * the socket timeouts and the retries.  The backend gives the call as a
 * pair of functions (struct __np_ops) and its own state (arg):
 *
 *   try   makes the call once; how (struct __np_try) says in what way:
 *         NP_TRY_NOWAIT   without blocking (MSG_DONTWAIT, RWF_NOWAIT);
 *                         -EAGAIN: not ready, wait and try again
 *         NP_TRY_ASIS     exactly as the program made it (its fd is
 *                         O_NONBLOCK, or NP_IO_ASIS): never waited for
 *         NP_TRY_BLOCK    a blocking call, on the worker: poll(2) said
 *                         the fd is ready and the call holds the fd's
 *                         turn (NP_INCALL; accept, a tty's read)
 *         NP_TRY_AGAIN    (or'd in) this is a retry after a wait
 *         NP_TRY_LOCKED   (or'd in) made with the entry locked: it must
 *                         not block, park, or be a cancellation point
 *         It returns the call's result (>= 0, or -errno), or
 *         NP_TRY_UNSUP if a non-socket refuses the non-blocking form
 *         (preadv2's EOPNOTSUPP on a tty) before any progress: the fd
 *         is marked NP_NONOWAIT and the call goes on with NP_TRY_BLOCK.
 *         A read that returns 0 < n < what it asked, having consumed
 *         it (no MSG_PEEK), sets t->short_io.
 *   wait  parks the calling task while *word == val, until deadline
 *         (ns, CLOCK_MONOTONIC; 0: none): the backend's futex-style park,
 *         with its signal and cancellation rules.  Returns 1 to try
 *         again, or the -errno to end the call with.
 *
 * Returns try's or wait's final result, or NP_IO_BLOCK: the netpoller
 * cannot wait for this fd (epoll refuses it, no memory for its entry, it
 * is not open: F_GETFL fails), and the caller makes the call blocking
 * on the worker, where the kernel gives the answer.  Called by tasks
 * only; thread-safe; not async-signal-safe (it parks).
 *
 * Readiness (Go's netpoll.go, pollDesc.wait): the entry's seq is read
 * before each try, and the call parks on seq only if it has not moved,
 * so no edge is lost between the try and the park.  A try on a fd the
 * netpoller knows is not ready is skipped (the drained marks, netpoll.c).
 *
 * Close and reuse (close(2), "Multithreaded processes and close()"):
 * under Linux 1:1 a blocked call holds its open file description when
 * another thread closes the fd or dup2s over it, and goes on waiting.
 * A parked call is linked on its entry; the close moves it to a
 * keepalive copy of the fd (above), and its retries, made with the
 * entry locked, go to the copy: never to the file that reuses the
 * number.  A call that finds the entry's gen moved since it started,
 * and was not moved, lost its file to a close racing its first try
 * (the close came before the call held the file): it fails with EBADF.
 */
struct __np_try {
	int fd;		/* the fd to make it on (a keepalive after a close) */
	int flags;	/* the entry's NP_* flags */
	int how;	/* NP_TRY_* */
	int short_io;	/* set by try: see above */
};

enum {
	NP_TRY_NOWAIT = 0,
	NP_TRY_ASIS   = 1,
	NP_TRY_BLOCK  = 2,
	NP_TRY_AGAIN  = 1 << 4,
	NP_TRY_LOCKED = 1 << 5,
};

/* Bool: with flags f, a transfer in direction d (0 input, 1 output)
 * that moved fewer bytes than asked, and more than none, proves the fd
 * drained (netpoll.c, the drained marks); the flags read after seq. */
#define NP_SHORT_DRAINS(f, d) (((f) & (NP_STREAM | NP_HUP | \
	((d) ? 0 : NP_PKT | NP_URG))) == NP_STREAM)

/* Never a syscall's result (-4095 .. -1 are errnos). */
#define NP_IO_BLOCK (-4096L)
#define NP_TRY_UNSUP (-4097L)

struct __np_ops {
	long (*try)(void *arg, struct __np_try *t);
	long (*wait)(void *arg, volatile int *word, int val, uint64_t deadline);
	int (*fd_at)(void *arg, long i);	/* __np_io_multi only */
};

/* __np_io's mode: one direction, and what else applies. */
enum {
	NP_IN       = 1,	/* waits for input (EPOLLIN) */
	NP_OUT      = 2,	/* waits for output (EPOLLOUT) */
	NP_IO_ASIS  = 1 << 2,	/* the program asked not to block
				 * (MSG_DONTWAIT): one NP_TRY_ASIS */
	NP_IO_TURN  = 1 << 3,	/* cannot be made non-blocking (accept):
				 * wait for readiness and the fd's turn,
				 * then one NP_TRY_BLOCK */
	NP_IO_TIMEO = 1 << 4,	/* a socket's SO_RCVTIMEO (NP_IN) or
				 * SO_SNDTIMEO (NP_OUT) is the deadline; the
				 * wait gets it (cached, __np_timeo_epoch) */
	NP_IO_NOMARK = 1 << 5,	/* an EAGAIN or short transfer says nothing
				 * of the fd's data (MSG_PEEK, MSG_OOB,
				 * MSG_ERRQUEUE, connect) */
};

/* One blocking call on fd (>= 0).  mode: NP_IN or NP_OUT, | NP_IO_*;
 * deadline: ns, CLOCK_MONOTONIC, 0: none (NP_IO_TIMEO replaces it). */
hidden long __np_io(int fd, int mode, uint64_t deadline,
	const struct __np_ops *ops, void *arg);

/* A wait on several fds (poll, select, epoll_wait): ops->fd_at(arg, i)
 * for i in [0, n) names them (they may repeat; a negative one is
 * skipped); try (NP_TRY_NOWAIT, with t->fd -1) says what is ready, or
 * -EAGAIN if nothing is, and the call parks on a counter of its own,
 * linked on each fd's entry, which only their events bump; past
 * NP_MULTI_MAX distinct fds, on the shared __np_multi_seq.  Linux's poll
 * looks at each fd again at each retry, so a close does not move these
 * calls: it wakes them.  Returns as __np_io (NP_IO_BLOCK if one of the
 * fds is open but cannot be polled: a regular file). */
hidden long __np_io_multi(long n, uint64_t deadline,
	const struct __np_ops *ops, void *arg);

/* A program's setsockopt(SOL_SOCKET, SO_RCVTIMEO/SO_SNDTIMEO, _OLD or
 * _NEW) returned: every cached socket timeout is learned again at its
 * next use (dup'd fds share the socket).  A raw syscall(SYS_setsockopt)
 * bypasses it: a wait then keeps the timeout it had learned. */
hidden void __np_timeo_changed(void);

/* What is known about fd (NP_* flags), learned now if it was not, and fd
 * registered if it can be (NP_REG) or marked NP_NOPOLL if epoll refuses
 * it (a regular file: pal/epoll/file.c's).  0 if fd is not open. */
hidden int __np_learn(int fd);

/* Register fd (an eventfd) so that each readiness event on it calls fn
 * on the polling worker's g0 instead of bumping a counter; fn returns
 * how many tasks it woke.  At most two such fds per process: the Linux
 * AIO context's (pal/epoll/aio.c) and the io_uring rings' (pal/uring).
 * Forgotten in a fork child, as every registration, which then calls
 * fork_child (if not 0) from __np_fork_child.  0 or -errno (-ENOSPC:
 * no room). */
hidden int __np_register_hook(int fd, int (*fn)(void), void (*fork_child)(void));

/* What is known about fd (NP_* flags), as __np_learn, but never
 * registering it in the netpoller: for a backend that waits for fd by
 * other means (pal/uring).  0 if fd is not open. */
hidden int __np_flags(int fd);

/* Socket fd's SO_RCVTIMEO (d 0) or SO_SNDTIMEO (d 1) in ns, 0: none or
 * not a socket; cached as __np_io's NP_IO_TIMEO.  fd's entry must exist
 * (__np_flags). */
hidden uint64_t __np_sock_timeo(int fd, int d);

/* fd is about to be closed or replaced (close, dup2 onto it): calls
 * blocked on it move to a keepalive copy (above), poll-family waiters
 * are woken (their retry sees the fd as it is then, as Linux's poll
 * does).  Then the caller closes or replaces it, and calls
 * __np_forget(fd). */
hidden void __np_closing(int fd);

/* fd was closed or replaced: forget what was learned about it, bump its
 * gen and wake whoever waits on its counter. */
hidden void __np_forget(int fd);

/* O_NONBLOCK (and O_DIRECT, a pipe's packet mode) as the program set
 * them on fd (F_SETFL, FIONBIO, or F_GETFL's answer): kept in the entry
 * if one exists. */
hidden void __np_setfl(int fd, int flags);

/* newfd became a copy of oldfd (dup): it takes what is known of oldfd. */
hidden void __np_dup(int oldfd, int newfd);

/* Bool: calls are blocked on fd. */
hidden int __np_has_waiters(int fd);

/* The process-wide counter for poll-family waiters on more fds than
 * they link (NP_MULTI_MAX); such a task counts itself in __np_multi
 * while it waits. */
#define NP_MULTI_MAX 16
hidden extern volatile int __np_multi_seq;
hidden extern volatile int __np_multi;

/* Tasks parked on fds now; while it is 0, workers do not poll. */
hidden extern volatile int __np_waiters;

/* Collect ready events and wake the tasks waiting on them.  timeout_ns:
 * 0 do not block, < 0 block until an event or __np_kick, else block at
 * most that long.  Returns the number of fds with events, or -errno.
 * Called by workers (g0) only; at most one of them blocks at a time. */
hidden int __np_poll(int64_t timeout_ns);

/* Bool: events wait in the netpoller, not yet collected by __np_poll
 * (a poll(2) of its epoll fd: nothing is taken).  For the monitor. */
hidden int __np_ready(void);

/* Make a blocked __np_poll return (the scheduler has work for it). */
hidden void __np_kick(void);

/* Bool: the netpoller exists (some fd was registered). */
hidden int __np_active(void);

/* In a fork child: the parent's epoll instance is shared with the child,
 * so drop it and every registration; the fd flags stay (the descriptions
 * are shared too, O_NONBLOCK included).  The child has no blocked calls:
 * waiter lists are emptied, and keepalives are closed. */
hidden void __np_fork_child(void);

#endif
