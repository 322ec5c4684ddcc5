/* io.h - the epoll backend's internal interface between its syscall
 * layer (syscall.c, io.c) and its futex layer (futex.c). */
#ifndef WEFT_PAL_EPOLL_IO_H
#define WEFT_PAL_EPOLL_IO_H

#include <stddef.h>
#include <stdint.h>

#ifndef hidden
#define hidden __attribute__((__visibility__("hidden")))
#endif

/* Park the calling task (which must be one: __sched_self() with an id)
 * while *addr == val: until a wake on addr, until deadline (ns,
 * CLOCK_MONOTONIC; 0: none), or until a signal the task does not block
 * is raised on it.  With PAL_WAIT_CANCEL it is a cancellation point.
 * Returns 0 (woken), -EAGAIN (*addr != val), -ETIMEDOUT or -EINTR.
 * Whether a signal handler ran, and with SA_RESTART or not, is left in
 * the task's sigran (scheduler.h). */
hidden int __pal_park(volatile void *addr, int val, uint64_t deadline, int flags);

/* A __pal_park flag for io.c's waits, which clear t->sigran once at the
 * start of the call: PARK_SIGRAN(bits) ends the wait with -EINTR if a
 * handler has already run that set any of bits (SIGRAN_*) in sigran.  A
 * handler that ran before the park (a signal routed to the task while
 * it set up a select, say) would else leave it parked for good. */
#define PARK_SIGRAN(bits) ((bits) << 8)

/* A __pal_park flag, with PAL_WAIT_CANCEL: a cancellation that is due
 * ends the wait with -ECANCELED instead of acting at once, and the
 * caller acts on it (__pal_cancel_act) once it has undone what must not
 * outlive the task: a wait linked on a netpoller entry. */
#define PARK_CANCEL_LATER (1 << 20)

/* Act on the calling thread's due cancellation (musl's __cancel): does
 * not return, unless cancellation is not linked in (-ECANCELED). */
hidden long __pal_cancel_act(void);

/* The calling task t is exiting, with the program's signals blocked:
 * what was routed to it goes back to the process (signal.c). */
struct task;
hidden void __pal_sig_exit(struct task *t);

/* Never a syscall's result (-4095 .. -1 are errnos): a call a backend's
 * first way does not take (syscall.c, PAL_FIRST). */
#define PAL_NOT_TAKEN (-4097L)

/* Blocking I/O, poll/select/epoll_wait and sleeps made by a task, which
 * park it instead of blocking its worker (io.c).  Returns the syscall's
 * result (-errno on error), or sets *handled to 0 and returns 0 if nr is
 * not one io.c handles for this call. */
hidden long __pal_io(long nr, long a, long b, long c, long d, long e,
	long f, int cp, int *handled);

/* Calls on an fd that epoll refuses (regular files, directories,
 * devices without poll: NP_NOPOLL, with flags f and entry e), made by
 * task t: read, readv, pread, preadv (RWF_NOWAIT first), and O_DIRECT
 * pread, pwrite and their vector forms (Linux AIO); anything else on
 * the worker, marked as in a syscall (file.c).  a: the six arguments;
 * cp: a cancellation point.  Returns the syscall's result. */
struct task;
struct __np_fd;
hidden long __pal_file_io(struct task *t, long nr, const long *a, int cp,
	struct __np_fd *e, int f);

/* fsync or fdatasync (nr) of fd a[0] by task t, through Linux AIO when
 * it can (file.c). */
hidden long __pal_file_sync(struct task *t, long nr, const long *a, int cp);

/* The most buffers a writev or sendmsg's rest is kept in, after a first
 * part moved (io.c, pal/uring/call.c). */
#define IOV_BATCH 64

/* Skip done bytes of the n buffers in iov into out (IOV_BATCH room);
 * returns the number left, or -1 if they do not fit (io.c). */
struct iovec;
hidden int __pal_skip_iov(struct iovec *out, const struct iovec *iov, int n,
	size_t done);

/* Return call, made with the calling task marked as in a blocking
 * syscall (the monitor hands its worker's other tasks to a spare;
 * pthread_kill and pthread_cancel interrupt it: sched/signal.c).  For
 * each backend's syscall.c, which includes scheduler.h. */
#define AROUND(call) do { \
	struct task *t = __sched_self(); \
	long r; \
	if (!t || !t->id) return call; \
	__sched_syscall_enter(t); \
	r = call; \
	__sched_syscall_leave(t); \
	return r; \
} while (0)

#endif
