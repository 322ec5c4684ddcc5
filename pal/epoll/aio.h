/* aio.h - the epoll backend's Linux AIO context (aio.c), for file.c. */
#ifndef WEFT_PAL_EPOLL_AIO_H
#define WEFT_PAL_EPOLL_AIO_H

#ifndef hidden
#define hidden __attribute__((__visibility__("hidden")))
#endif

struct task;
struct iocb;

/*
 * Submit cb (made with libaio.h's io_prep_*; its data and eventfd are
 * set here) to the process's AIO context, created on first use, and park
 * the calling task t until the kernel has completed it.  Program signal
 * handlers and a cancellation request that arrive meanwhile wait until
 * the completion (see aio.c).  Returns 0 with the completion's result
 * (>= 0 or -errno, as the syscall's) in *res; or -errno from io_setup or
 * io_submit (no context, a full ring, an fd or command the kernel's AIO
 * refuses): nothing was submitted, and the caller makes the call itself.
 */
hidden int __pal_aio_call(struct task *t, struct iocb *cb, long *res);

/* In a fork child (pal.h, __pal_fork_child): the child has no AIO
 * context (the kernel does not copy it); the next call makes one. */
hidden void __pal_aio_fork_child(void);

#endif
