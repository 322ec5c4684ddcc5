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
 * The fd table also keeps what the syscall layer (pal/epoll/io.c) needs
 * to make blocking calls on non-blocking fds: whether the backend set
 * O_NONBLOCK on the open file description itself (NP_OURNB), and whether
 * the program asked for it (NP_USERNB), which is what fcntl(F_GETFL)
 * then shows.
 *
 * Thread-safety: entries are created once and never freed (their
 * addresses are wait addresses); flags change under a per-entry lock bit
 * (NP_LOCK) and are read with atomic loads; seq only grows.
 */
#ifndef WEFT_SCHED_NETPOLL_H
#define WEFT_SCHED_NETPOLL_H

#include <stdint.h>

#ifndef hidden
#define hidden __attribute__((__visibility__("hidden")))
#endif

struct __np_fd {
	volatile int seq;	/* readiness events seen for this fd */
	volatile int flags;	/* NP_*; see above */
};

enum {
	NP_KNOWN   = 1 << 0,	/* the fields below have been learned */
	NP_REG     = 1 << 1,	/* registered in the netpoller's epoll */
	NP_NOPOLL  = 1 << 2,	/* epoll refuses it (regular file, ...) */
	NP_OURNB   = 1 << 3,	/* we set O_NONBLOCK on its description */
	NP_USERNB  = 1 << 4,	/* the program wants O_NONBLOCK */
	NP_NOTSOCK = 1 << 5,	/* not a socket (no SO_*TIMEO, SO_ERROR) */
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

/* fd was closed or replaced (close, dup2 onto it): forget what was
 * learned about it and wake every task waiting on it, whose retried call
 * then fails as Linux says (EBADF, or acts on the new file). */
hidden void __np_forget(int fd);

/* The process-wide counter for tasks waiting on several fds; such a task
 * counts itself in __np_multi while it waits. */
hidden extern volatile int __np_multi_seq;
hidden extern volatile int __np_multi;

/* Tasks parked on fds now; while it is 0, workers do not poll. */
hidden extern volatile int __np_waiters;

/* Collect ready events and wake the tasks waiting on them.  timeout_ns:
 * 0 do not block, < 0 block until an event or __np_kick, else block at
 * most that long.  Returns the number of fds with events, or -errno.
 * Called by workers (g0) only; at most one of them blocks at a time. */
hidden int __np_poll(int64_t timeout_ns);

/* Make a blocked __np_poll return (the scheduler has work for it). */
hidden void __np_kick(void);

/* Bool: the netpoller exists (some fd was registered). */
hidden int __np_active(void);

/* In a fork child: the parent's epoll instance is shared with the child,
 * so drop it and every registration; the fd flags stay (the descriptions
 * are shared too, O_NONBLOCK included). */
hidden void __np_fork_child(void);

#endif
