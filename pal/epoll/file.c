/*
 * file.c - M:N backend: I/O on fds that epoll refuses (NP_NOPOLL:
 * regular files, directories, devices without poll), and fsync.
 *
 * A page-cache hit should cost one syscall on the worker, and a wait
 * for the disk should park the task, not hold its worker:
 *   - read, readv, pread, preadv first try preadv2 with RWF_NOWAIT (at
 *     offset -1, the file position, for read and readv), which returns
 *     what the page cache holds, or EAGAIN.  EAGAIN: the call itself is
 *     made on the worker, marked as in a syscall (the monitor's handoff
 *     to a spare).  EOPNOTSUPP or ENOSYS (a filesystem or device without
 *     RWF_NOWAIT, a kernel before 4.14): the same, and remembered for the
 *     fd (NP_NONOWAIT).  A short count that is not the end of the file
 *     (part of the range was cached): the rest is read with the blocking
 *     call and the total returned, since a 1:1 read of a regular file
 *     is short only at its end.  Other errors are the call's own.
 *   - fsync and fdatasync go through Linux AIO (IOCB_CMD_FSYNC,
 *     IOCB_CMD_FDSYNC; aio.c): the task parks until the kernel is done.
 *     Refused (no AIO, a kernel before 4.18 for these commands, an fd
 *     without fsync such as a pipe): the call on the worker, which gives
 *     the kernel's own answer; a refusal with EINVAL for an fd whose
 *     fsync then succeeds means the kernel lacks AIO fsync, and fsync
 *     stops trying AIO.
 *   - pread, preadv, pwrite and pwritev on an O_DIRECT fd (NP_DIRECT)
 *     go through Linux AIO too (IOCB_CMD_PREAD, _PWRITE, _PREADV,
 *     _PWRITEV).  read, readv, write and writev on one do not: AIO has
 *     no file position, and keeping it with lseek around the call would
 *     break the atomic position update that Linux gives threads sharing
 *     the fd; they, and every other call here, run on the worker.
 * Cancellation: a read's first try is the cancellation point (as
 * musl's __syscall_cp); the rest of a short read is not one.  An AIO
 * call acts on a pending cancel request before it submits, and on one
 * that arrives meanwhile only after the completion (aio.c).
 *
 * Limit: when a read at the file position comes back short from the
 * page cache and two tasks read the same open file description at
 * once, the other's read can fall between the two parts, where 1:1
 * gives each read one contiguous range.
 *
 * Sources: preadv2(2) (RWF_NOWAIT), io_submit(2), io_setup(2); Linux's
 * filemap_read (IOCB_NOWAIT: a partial count, or EAGAIN) and
 * aio_prep_fsync (EINVAL without f_op->fsync).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/uio.h>
#include <libaio.h>
#include "pthread_impl.h"
#include "syscall.h"
#include "pal.h"
#include "syscall_cp.h"
#include "scheduler.h"
#include "netpoll.h"
#include "io.h"
#include "aio.h"

/* preadv2's flag (linux/fs.h, Linux 4.14); musl 1.2.3 lacks it. */
#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

hidden long __cancel(void);

/* What the page cache holds a file in: pages (or folios of them), so
 * never less than 4096 bytes, aligned. */
#define PAGE_CACHE_UNIT 4096

/* The kernel refused IOCB_CMD_FSYNC for a file that has fsync. */
static volatile int no_aio_fsync;

static long sys(int cp, long nr, const long *a)
{
	if (cp) return __syscall_cp_c(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	return __syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* The call on the worker, marked as in a syscall (the monitor's
 * handoff, syscall.c). */
static long blocking(struct task *t, int cp, long nr, const long *a)
{
	__sched_syscall_enter(t);
	long r = sys(cp, nr, a);
	__sched_syscall_leave(t);
	return r;
}

static int cancel_due(void)
{
	struct pthread *self = __pthread_self();
	return self->cancel && self->canceldisable != PTHREAD_CANCEL_DISABLE;
}

/* ---- Reads: RWF_NOWAIT first ------------------------------------------- */

struct rd {
	int fd;
	const struct iovec *iov;
	int n;
	long off;		/* -1: the file position */
};

static size_t iov_total(const struct iovec *iov, int n)
{
	size_t s = 0;
	for (int i = 0; i < n; i++) s += iov[i].iov_len;
	return s;
}

/* After done bytes of r came from the page cache: the rest, blocking,
 * as one or two calls (the rest of the buffer where the count stopped,
 * then the buffers after it).  Returns the total. */
static long read_rest(struct task *t, const struct rd *r, size_t done)
{
	size_t total = done;
	int i = 0;
	while (i < r->n && done >= r->iov[i].iov_len) done -= r->iov[i++].iov_len;
	if (i < r->n && done) {
		size_t want = r->iov[i].iov_len - done;
		long a[6] = { r->fd, (long)((char *)r->iov[i].iov_base + done), want,
			r->off < 0 ? 0 : r->off + total };
		long k = blocking(t, 0, r->off < 0 ? SYS_read : SYS_pread64, a);
		if (k <= 0) return total;
		total += k;
		if ((size_t)k < want) return total;
		i++;
	}
	if (i < r->n) {
		long a[6] = { r->fd, (long)(r->iov + i), r->n - i,
			r->off < 0 ? 0 : r->off + total, 0 };
		long k = blocking(t, 0, r->off < 0 ? SYS_readv : SYS_preadv, a);
		if (k > 0) total += k;
	}
	return total;
}

static long read_nowait(struct task *t, long nr, const long *a, int cp,
	struct __np_fd *e)
{
	struct iovec one = { (void *)a[1], a[2] };
	struct rd r = { a[0], &one, 1, -1 };
	/* A count past SSIZE_MAX: read's error (EFAULT) is not preadv2's. */
	if ((nr == SYS_read || nr == SYS_pread64) && a[2] < 0)
		return blocking(t, cp, nr, a);
	if (nr == SYS_readv || nr == SYS_preadv) {
		r.iov = (void *)a[1];
		r.n = a[2];
	}
	if (nr == SYS_pread64 || nr == SYS_preadv) {
		r.off = a[3];
		/* -1 would be the file position: let the kernel refuse it. */
		if (r.off < 0) return blocking(t, cp, nr, a);
	}
	long k[6] = { r.fd, (long)r.iov, r.n, r.off, 0, RWF_NOWAIT };
	long got = sys(cp, SYS_preadv2, k);
	if (got == -EAGAIN) return blocking(t, cp, nr, a);
	if (got == -EOPNOTSUPP || got == -ENOSYS) {
		__atomic_fetch_or(&e->flags, NP_NONOWAIT, __ATOMIC_RELAXED);
		return blocking(t, cp, nr, a);
	}
	if (got <= 0 || (size_t)got >= iov_total(r.iov, r.n)) return got;
	/* The page cache stops a read at a page boundary: a pread that
	 * stopped elsewhere met the end of the file. */
	if (r.off >= 0 && (r.off + got) % PAGE_CACHE_UNIT) return got;
	return read_rest(t, &r, got);
}

/* ---- Linux AIO ---------------------------------------------------------- */

/* O_DIRECT pread, preadv, pwrite, pwritev. */
static long direct(struct task *t, long nr, const long *a, int cp)
{
	struct iocb cb;
	long res;
	/* A negative offset, or a count past SSIZE_MAX: the kernel's own
	 * error for the call, which AIO's need not be. */
	if (a[3] < 0 || ((nr == SYS_pread64 || nr == SYS_pwrite64) && a[2] < 0))
		return blocking(t, cp, nr, a);
	if (cp && cancel_due()) return __cancel();
	switch (nr) {
	case SYS_pread64:
		io_prep_pread(&cb, a[0], (void *)a[1], a[2], a[3]);
		break;
	case SYS_pwrite64:
		io_prep_pwrite(&cb, a[0], (void *)a[1], a[2], a[3]);
		break;
	case SYS_preadv:
		io_prep_preadv(&cb, a[0], (void *)a[1], a[2], a[3]);
		break;
	default:
		io_prep_pwritev(&cb, a[0], (void *)a[1], a[2], a[3]);
		break;
	}
	if (!__pal_aio_call(t, &cb, &res)) return res;
	return blocking(t, cp, nr, a);
}

long __pal_file_sync(struct task *t, long nr, const long *a, int cp)
{
	struct iocb cb;
	long res;
	if (__atomic_load_n(&no_aio_fsync, __ATOMIC_RELAXED))
		return blocking(t, cp, nr, a);
	if (cp && cancel_due()) return __cancel();
	if (nr == SYS_fsync) io_prep_fsync(&cb, a[0]);
	else io_prep_fdsync(&cb, a[0]);
	int r = __pal_aio_call(t, &cb, &res);
	if (!r) return res;
	res = blocking(t, cp, nr, a);
	if (r == -EINVAL && !res) __atomic_store_n(&no_aio_fsync, 1, __ATOMIC_RELAXED);
	return res;
}

long __pal_file_io(struct task *t, long nr, const long *a, int cp,
	struct __np_fd *e, int f)
{
	switch (nr) {
	case SYS_pread64: case SYS_preadv:
		if (f & NP_DIRECT) return direct(t, nr, a, cp);
		/* fallthrough */
	case SYS_read: case SYS_readv:
		if (!(f & (NP_DIRECT | NP_NONOWAIT))) return read_nowait(t, nr, a, cp, e);
		break;
	case SYS_pwrite64: case SYS_pwritev:
		if (f & NP_DIRECT) return direct(t, nr, a, cp);
		break;
	}
	return blocking(t, cp, nr, a);
}
