/*
 * netpoll.h - the netpoller: one epoll instance per process, into which
 * every fd a task waits on is registered once, edge-triggered, for input
 * and output.  Readiness is a counter per fd: the poller bumps it on each
 * event for the fd and wakes whoever waits on it in the lot.  A task that
 * needs an fd to become ready reads the counter, retries its call, and
 * parks on the counter's address only if the counter has not moved (a
 * futex-style wait, so no edge is lost between the try and the park).
 *
 * Tasks waiting on several fds at once (poll, select with more than one
 * fd) park on one process-wide counter instead, bumped on every event
 * while such waiters exist.
 *
 * Calls blocked on an fd (struct __np_wait) are listed on its entry.
 * When the program closes the fd, or dup2s another over it, while calls
 * are blocked on it, the netpoller first copies the fd to a number of
 * its own (a keepalive, close-on-exec) and moves those calls there: they
 * go on waiting on the same open file description, as a blocked call
 * does under 1:1 Linux (the kernel holds its file until it returns), and
 * never retry on the reused number.  The last call to leave a keepalive
 * closes it.  poll-family waiters on several fds park on a counter of
 * their own, which each of their fds' events bump (only theirs).
 *
 * The fd table also keeps what the syscall layer (pal/epoll/io.c) needs:
 * whether the open file description is O_NONBLOCK (NP_USERNB: the
 * program, or a process sharing it, set it; the backend itself never
 * does), and whether the fd is a socket.
 *
 * Thread-safety: entries are created once and never freed (their
 * addresses are wait addresses); flags and waiter lists change under a
 * per-entry lock bit (NP_LOCK), flags are read with atomic loads; seq
 * only grows.
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
};

/* A call blocked on an fd, on the caller's stack while it is linked
 * (__np_wait_begin .. __np_wait_end). */
struct __np_wait {
	struct __np_wait *next, *prev;	/* on its fd's entry; NP_LOCK */
	volatile int fd;	/* the fd the call goes on with: its own, a
				 * keepalive copy after a close, or -1 if the
				 * fd was closed and could not be copied (the
				 * call fails with EBADF); NP_LOCK */
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
	NP_DIRECT  = 1 << 9,	/* its description is O_DIRECT (pal/epoll/
				 * file.c: AIO for pread and pwrite) */
	NP_LOCK    = 1 << 30,	/* flags are being changed */
};

/* The entry for fd (>= 0, < NP_MAX_FD); 0 if out of range or out of
 * memory.  Async-signal-safe once created. */
#define NP_MAX_FD (1 << 20)
hidden struct __np_fd *__np_entry(int fd);

/* The entry for fd if it exists (was ever created), else 0. */
hidden struct __np_fd *__np_lookup(int fd);

/* Lock / unlock e's flags (a spin on NP_LOCK); returns the flags. */
hidden int __np_lock(struct __np_fd *e);
hidden void __np_unlock(struct __np_fd *e, int flags);

/* Register fd in the netpoller (e locked by the caller): 0, or -errno
 * from epoll_ctl (-EPERM: fd cannot be polled) or from creating the
 * epoll instance.  Sets NP_REG or NP_NOPOLL in *flags. */
hidden int __np_register(int fd, int *flags);

/* Register fd (an eventfd) so that each readiness event on it calls fn
 * on the polling worker's g0 instead of bumping a counter; fn returns
 * how many tasks it woke.  One such fd per process: the Linux AIO
 * context's (pal/epoll/aio.c).  0 or -errno.  Forgotten in a fork
 * child, as every registration. */
hidden int __np_register_hook(int fd, int (*fn)(void));

/* fd is about to be closed or replaced (close, dup2 onto it): calls
 * blocked on it move to a keepalive copy (above), poll-family waiters
 * are woken (their retry sees the fd as it is then, as Linux's poll
 * does).  Then the caller closes or replaces it, and calls
 * __np_forget(fd). */
hidden void __np_closing(int fd);

/* fd was closed or replaced: forget what was learned about it and wake
 * whoever waits on its counter. */
hidden void __np_forget(int fd);

/* Link w, a call about to wait on fd, to fd's entry (created if need
 * be); word: as struct __np_wait.  Then the caller reads w->fd again at
 * each retry, and parks on __np_entry(w->fd)->seq (or on *word).
 * __np_wait_end unlinks it, closing a keepalive it was the last on.
 * Returns 0, or -ENOMEM (no entry: the caller blocks without waiting on
 * the netpoller). */
hidden int __np_wait_begin(struct __np_wait *w, int fd, volatile int *word);
hidden void __np_wait_end(struct __np_wait *w);

/* Lock the entry w is linked on (*flags: its flags, for __np_unlock);
 * 0 if w was unlinked by a close that could not copy the fd. */
hidden struct __np_fd *__np_wait_lock(struct __np_wait *w, int *flags);

/* Bump a counter and wake every task parked on it. */
hidden void __np_bump(volatile int *seq);

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
