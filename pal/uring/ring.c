/*
 * ring.c - the uring backend's rings: one io_uring per worker.
 *
 * A task that makes a blocking call takes a free entry (SQE) of its
 * worker's ring, fills it, queues it and parks (call.c).  Nothing is
 * submitted then: the worker's g0 submits everything its tasks queued,
 * in one io_uring_enter, at its next round (find_runnable, through
 * __sched_io_hooks), and at the same round collects the completions
 * (CQEs) from the ring's memory without a syscall and unparks their
 * tasks.  So a worker that runs many tasks in a row, each of which
 * parks on a call, enters the kernel once for all of them.  Queued
 * entries never wait for a busy or blocked worker: the scheduler also
 * calls flush when a task blocks the worker in a syscall and when the
 * monitor finds the worker on one task for a time slice, and a close
 * flushes every ring (__ring_flush_all).
 *
 * An idle worker sleeps in the netpoller (sched/netpoll.c), not on the
 * rings.  One eventfd, registered with every ring (IORING_REGISTER_
 * EVENTFD), is in the netpoller's epoll set as a hook: a completion
 * signals it, and the polling worker's g0 collects the CQEs of every
 * ring.  As with aio.c's eventfd, it is edge-triggered and never read.
 *
 * Locks.  A ring's submission queue (taking an entry, filling it,
 * submitting) is under sqlock, a spinlock held for a few stores or one
 * io_uring_enter, in a critical section; its completion queue is read by
 * one reaper at a time (reaping, with aio.c's `again` protocol, so that
 * a completion that comes while another reaps is not left behind).
 * Any thread may submit to any ring: no IORING_SETUP_SINGLE_ISSUER.
 *
 * The rings are made by the first call that needs one, all at once (so
 * the process's fds change once).  The first that io_uring_setup
 * refuses for good (EPERM: a seccomp filter or
 * kernel.io_uring_disabled; ENOSYS; EINVAL: a kernel without what the
 * rings need) turns the rings off for the process's life: every call
 * then goes the epoll backend's way (the netpoller and Linux AIO), and
 * WEFT_TRACE=io says so.  Under Valgrind the rings are off from the
 * start (memcheck cannot follow the kernel's writes through them).
 * Other failures (ENOMEM, EMFILE) send that one
 * call the epoll way and are tried again at the next.
 *
 * A fork child has its parent's ring mappings and fds: it must not touch
 * them (the kernel's rings are the parent's).  The netpoller's fork hook
 * closes and unmaps them and starts afresh; exec drops them (the fds
 * are close-on-exec).
 *
 * liburing's headers only (docs/design.md, "io_uring"): struct io_uring
 * is filled here as liburing's io_uring_queue_mmap does, so that its
 * inline accessors and io_uring_prep_* work on it; setup, enter and
 * register are raw syscalls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <liburing.h>
#include "syscall.h"
#include "vg.h"
#include "scheduler.h"
#include "netpoll.h"
#include "ring.h"

#define SQ_ENTRIES 256
#define CQ_ENTRIES 4096

struct ring {
	struct io_uring u;		/* liburing's view of the rings */
	volatile int sqlock;		/* the submission queue */
	volatile unsigned queued;	/* entries filled, not yet taken by
					 * the kernel; sqlock to change */
	volatile int reaping, again;	/* the completion queue (see top) */
	int slot;			/* its worker's; constant */
	void *sqes;			/* mappings, for a fork child */
	size_t sqes_sz;
};

static struct ring *volatile *rings;	/* per slot, made once */
static int nslots;			/* rings' length; constant once set */
static volatile int hi;			/* rings exist only below this slot */
static volatile int state;		/* 0 untried, 1 rings work, -errno:
					 * refused for good (lock to change) */
static volatile int lock;		/* making rings */
static int efd = -1;			/* the eventfd; constant once state > 0 */

static void spin_lock(volatile int *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

static void spin_unlock(volatile int *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

/* ---- WEFT_TRACE=io ------------------------------------------------------ */

static char *put(char *p, const char *s)
{
	while (*s) *p++ = *s++;
	return p;
}

static char *num(char *p, unsigned long v)
{
	char d[24];
	int n = 0;
	do d[n++] = '0' + v % 10; while (v /= 10);
	while (n) *p++ = d[--n];
	return p;
}

static void say(const char *a, unsigned long x, const char *b, long y, const char *c)
{
	char buf[256], *p = buf;
	if (!__sched_trace_io()) return;
	p = put(p, "weft: uring: ");
	p = put(p, a);
	p = num(p, x);
	p = put(p, b);
	if (y < 0) {
		*p++ = '-';
		y = -y;
	}
	p = num(p, y);
	p = put(p, c);
	__syscall(SYS_write, 2, buf, p - buf);
}

/* ---- Submitting and reaping ------------------------------------------ */

/* Hand r's queued entries to the kernel; sqlock held. */
static void submit_locked(struct ring *r)
{
	unsigned n = r->queued;
	if (!n) return;
	/* liburing's __io_uring_flush_sq: publish the new tail. */
	io_uring_smp_store_release(r->u.sq.ktail, r->u.sq.sqe_tail);
	r->u.sq.sqe_head = r->u.sq.sqe_tail;
	long k = __syscall(SYS_io_uring_enter, r->u.ring_fd, n, 0, 0, 0, 0);
	if (k > 0) {
		__atomic_store_n(&r->queued, n - (k < n ? k : n), __ATOMIC_RELAXED);
		if (k > 1) say("worker ", r->slot, " submitted ", k, " entries in one enter\n");
	}
	/* k < 0 (EBUSY, EAGAIN: completions overflowed, or no memory): the
	 * entries stay queued for the next round. */
}

static void flush(struct ring *r)
{
	if (!__atomic_load_n(&r->queued, __ATOMIC_RELAXED)) return;
	spin_lock(&r->sqlock);
	submit_locked(r);
	spin_unlock(&r->sqlock);
}

/* Wake the tasks whose calls completed on r; one reaper at a time. */
static int drain(struct ring *r)
{
	struct io_uring_cq *cq = &r->u.cq;
	unsigned head = *cq->khead, tail;
	int woke = 0;
	while ((tail = io_uring_smp_load_acquire(cq->ktail)) != head) {
		do {
			struct io_uring_cqe *c = &cq->cqes[head & cq->ring_mask];
			struct ureq *q = (void *)(uintptr_t)c->user_data;
			int res = c->res;
			head++;
			if (!q) continue;	/* a cancel's own completion */
			q->res = res;
			/* The task may see done and return at once: q is not
			 * touched again (aio.c's drain). */
			__atomic_store_n(&q->done, 1, __ATOMIC_SEQ_CST);
			woke += __sched_lot_wake(&q->done, 1, __sched_unpark_io);
		} while (head != tail);
		io_uring_smp_store_release(cq->khead, head);
	}
	/* Completions the CQ had no room for wait in the kernel: bring
	 * them in, and look again. */
	if (IO_URING_READ_ONCE(*r->u.sq.kflags) & IORING_SQ_CQ_OVERFLOW) {
		__syscall(SYS_io_uring_enter, r->u.ring_fd, 0, 0, IORING_ENTER_GETEVENTS, 0, 0);
		__atomic_store_n(&r->again, 1, __ATOMIC_SEQ_CST);
	}
	return woke;
}

static int reap(struct ring *r)
{
	int woke = 0;
	if (io_uring_cq_ready(&r->u) == 0 &&
	    !(IO_URING_READ_ONCE(*r->u.sq.kflags) & IORING_SQ_CQ_OVERFLOW))
		return 0;
	__atomic_store_n(&r->again, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&r->again, __ATOMIC_SEQ_CST) &&
	       !__atomic_exchange_n(&r->reaping, 1, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&r->again, 0, __ATOMIC_SEQ_CST);
		woke += drain(r);
		__atomic_store_n(&r->reaping, 0, __ATOMIC_SEQ_CST);
	}
	return woke;
}

static struct ring *ring_at(int slot)
{
	if (!rings || slot < 0 || slot >= nslots) return 0;
	return __atomic_load_n(&rings[slot], __ATOMIC_ACQUIRE);
}

/* __sched_io_hooks.round: from the worker's g0. */
static int round_hook(int slot)
{
	struct ring *r = ring_at(slot);
	if (!r) return 0;
	struct task *g = __sched_self();
	__sched_nosig_enter(g);
	flush(r);
	int woke = reap(r);
	__sched_nosig_leave(g);
	return woke;
}

/* __sched_io_hooks.flush: from any thread. */
static void flush_hook(int slot)
{
	struct ring *r = ring_at(slot);
	if (!r) return;
	struct task *g = __sched_self();
	__sched_nosig_enter(g);
	flush(r);
	__sched_nosig_leave(g);
}

static const struct __sched_io_hooks hooks = { round_hook, flush_hook };

/* The netpoller's hook for the eventfd: every ring's completions. */
static int poll_hook(void)
{
	struct task *g = __sched_self();
	int woke = 0, n = __atomic_load_n(&hi, __ATOMIC_ACQUIRE);
	__sched_nosig_enter(g);
	for (int i = 0; i < n; i++) {
		struct ring *r = ring_at(i);
		if (r) woke += reap(r);
	}
	__sched_nosig_leave(g);
	return woke;
}

void __ring_flush_all(void)
{
	struct task *t = __sched_self();
	int n = __atomic_load_n(&hi, __ATOMIC_ACQUIRE);
	if (!n) return;
	__sched_nosig_enter(t);
	/* Not from a spare's thread, whose submissions the kernel would
	 * cancel when it retires (scheduler.h): a call queued on the fd
	 * then waits for its worker's round, as a call that comes just
	 * after the close would. */
	if (!t || !t->worker || __sched_slot(t) >= 0)
		for (int i = 0; i < n; i++) {
			struct ring *r = ring_at(i);
			if (r) flush(r);
		}
	__sched_nosig_leave(t);
}

/* ---- Making the rings ------------------------------------------------ */

static void *map(size_t size, int fd, long off)
{
	long p = __syscall(SYS_mmap, 0, size, PROT_READ|PROT_WRITE,
		fd < 0 ? MAP_PRIVATE|MAP_ANONYMOUS : MAP_SHARED|MAP_POPULATE, fd, off);
	return (unsigned long)p > -4096UL ? 0 : (void *)p;
}

static void unmap(struct ring *r)
{
	if (r->u.sq.ring_ptr) __syscall(SYS_munmap, r->u.sq.ring_ptr, r->u.sq.ring_sz);
	if (r->u.cq.ring_ptr && r->u.cq.ring_ptr != r->u.sq.ring_ptr)
		__syscall(SYS_munmap, r->u.cq.ring_ptr, r->u.cq.ring_sz);
	if (r->sqes) __syscall(SYS_munmap, r->sqes, r->sqes_sz);
	if (r->u.ring_fd >= 0) __syscall(SYS_close, r->u.ring_fd);
	__syscall(SYS_munmap, r, sizeof *r);
}

/* liburing's io_uring_queue_init_params, with raw syscalls: 0 or
 * -errno. */
static int ring_init(struct ring *r)
{
	struct io_uring_params p;
	struct io_uring_sq *sq = &r->u.sq;
	struct io_uring_cq *cq = &r->u.cq;
	memset(&p, 0, sizeof p);
	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = CQ_ENTRIES;
	int fd = __syscall(SYS_io_uring_setup, SQ_ENTRIES, &p);
	if (fd < 0) return fd;
	r->u.ring_fd = r->u.enter_ring_fd = fd;
	r->u.flags = p.flags;
	r->u.features = p.features;
	/* What the calls need: the file position (-1 offsets), and
	 * completions never dropped (5.5, 5.6). */
	if (!(p.features & IORING_FEAT_RW_CUR_POS) || !(p.features & IORING_FEAT_NODROP))
		return -EINVAL;
	sq->ring_sz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cq->ring_sz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (cq->ring_sz > sq->ring_sz) sq->ring_sz = cq->ring_sz;
		cq->ring_sz = sq->ring_sz;
	}
	if (!(sq->ring_ptr = map(sq->ring_sz, fd, IORING_OFF_SQ_RING))) return -ENOMEM;
	if (p.features & IORING_FEAT_SINGLE_MMAP) cq->ring_ptr = sq->ring_ptr;
	else if (!(cq->ring_ptr = map(cq->ring_sz, fd, IORING_OFF_CQ_RING))) return -ENOMEM;
	r->sqes_sz = p.sq_entries * sizeof(struct io_uring_sqe);
	if (!(r->sqes = map(r->sqes_sz, fd, IORING_OFF_SQES))) return -ENOMEM;
	char *s = sq->ring_ptr, *c = cq->ring_ptr;
	sq->khead = (void *)(s + p.sq_off.head);
	sq->ktail = (void *)(s + p.sq_off.tail);
	sq->kring_mask = (void *)(s + p.sq_off.ring_mask);
	sq->kring_entries = (void *)(s + p.sq_off.ring_entries);
	sq->kflags = (void *)(s + p.sq_off.flags);
	sq->kdropped = (void *)(s + p.sq_off.dropped);
	sq->array = (void *)(s + p.sq_off.array);
	sq->sqes = r->sqes;
	cq->khead = (void *)(c + p.cq_off.head);
	cq->ktail = (void *)(c + p.cq_off.tail);
	cq->kring_mask = (void *)(c + p.cq_off.ring_mask);
	cq->kring_entries = (void *)(c + p.cq_off.ring_entries);
	cq->koverflow = (void *)(c + p.cq_off.overflow);
	cq->cqes = (void *)(c + p.cq_off.cqes);
	if (p.cq_off.flags) cq->kflags = (void *)(c + p.cq_off.flags);
	sq->ring_mask = *sq->kring_mask;
	sq->ring_entries = *sq->kring_entries;
	cq->ring_mask = *cq->kring_mask;
	cq->ring_entries = *cq->kring_entries;
	/* Entry i of the SQ array is SQE i, for good (liburing's setup). */
	for (unsigned i = 0; i < sq->ring_entries; i++) sq->array[i] = i;
	return __syscall(SYS_io_uring_register, fd, IORING_REGISTER_EVENTFD, &efd, 1);
}

/* io_uring_setup's refusals that will not change for this process;
 * and after FAILS_MAX other failures in a row (ENOMEM: before Linux
 * 5.12 the rings count against RLIMIT_MEMLOCK), any: a failing setup
 * must not cost every call a syscall. */
#define FAILS_MAX 8
static int fails;	/* lock */

static int for_good(int err)
{
	return err == -EPERM || err == -ENOSYS || err == -EINVAL || err == -EACCES ||
		++fails >= FAILS_MAX;
}

static const char *errname(int err)
{
	switch (err) {
	case -EPERM: return "EPERM";
	case -ENOSYS: return "ENOSYS";
	case -EINVAL: return "EINVAL";
	case -EACCES: return "EACCES";
	case -ENOMEM: return "ENOMEM";
	case -EMFILE: return "EMFILE";
	}
	return "?";
}

/* WEFT_TRACE=io: the rings are off for good. */
static void refused(int err)
{
	char buf[160], *p = buf;
	if (!__sched_trace_io()) return;
	p = put(p, "weft: uring: io_uring_setup failed (");
	p = put(p, errname(err));
	p = put(p, ", errno ");
	p = num(p, -err);
	p = put(p, "): falling back to the epoll netpoller and Linux AIO\n");
	__syscall(SYS_write, 2, buf, p - buf);
}

static void fork_child(void);

/* The first ring: the slot table, the eventfd and the hooks.  lock
 * held.  0 or -errno. */
static int first(void)
{
	if (!rings) {
		nslots = __sched_slots();
		if (!(rings = map(nslots * sizeof *rings, -1, 0))) return -ENOMEM;
	}
	if (efd < 0) {
		int e = __syscall(SYS_eventfd2, 0, EFD_NONBLOCK|EFD_CLOEXEC);
		if (e < 0) return e;
		int r = __np_register_hook(e, poll_hook, fork_child);
		if (r < 0) {
			__syscall(SYS_close, e);
			return r;
		}
		efd = e;
		__sched_set_io_hooks(&hooks);
	}
	return 0;
}

/* The ring of slot, made now; lock held.  0 or -errno. */
static int make_one(int slot)
{
	struct ring *r;
	int err;
	if (ring_at(slot)) return 0;
	if (!(r = map(sizeof *r, -1, 0))) return -ENOMEM;
	r->u.ring_fd = -1;
	r->slot = slot;
	if ((err = ring_init(r))) {
		unmap(r);
		return err;
	}
	__atomic_store_n(&rings[slot], r, __ATOMIC_RELEASE);
	if (slot >= hi) __atomic_store_n(&hi, slot + 1, __ATOMIC_RELEASE);
	return 0;
}

/*
 * The ring of slot, or 0.  The first call makes every worker's ring at
 * once, so that the process's fds (one per ring) all appear at its
 * first blocking call, not one by one as tasks reach other workers; a
 * ring that could not be made then is tried again by its worker's next
 * call.
 */
static struct ring *make(int slot)
{
	spin_lock(&lock);
	/* Under Valgrind, no rings: memcheck does not see what the kernel
	 * writes into a buffer through one (it would report every byte a
	 * ring read brought as uninitialised). */
	if (!state && vg_running()) state = -ENOSYS;
	int err = state < 0 ? state : first();
	if (!err && !(err = make_one(slot))) {
		if (!state) {
			for (int i = 0; i < nslots; i++) make_one(i);
			say("rings of ", SQ_ENTRIES, " entries, one per worker (", hi,
				" workers)\n");
		}
		state = 1;
		fails = 0;
	}
	if (err && state <= 0 && for_good(err)) {
		if (!state) refused(err);
		state = err;
	}
	spin_unlock(&lock);
	return ring_at(slot);
}

struct ring *__ring_self(struct task *t)
{
	if (__atomic_load_n(&state, __ATOMIC_RELAXED) < 0) return 0;
	int slot = __sched_slot(t);
	if (slot < 0) return 0;		/* a spare: the epoll way */
	struct ring *r = ring_at(slot);
	return r ? r : make(slot);
}

struct io_uring_sqe *__ring_sqe(struct ring *r)
{
	struct io_uring_sqe *s;
	spin_lock(&r->sqlock);
	if (!(s = io_uring_get_sqe(&r->u))) {
		submit_locked(r);
		s = io_uring_get_sqe(&r->u);
	}
	if (!s) spin_unlock(&r->sqlock);
	return s;
}

void __ring_queue(struct ring *r, struct ureq *q)
{
	struct io_uring_sqe *s = &r->u.sq.sqes[(r->u.sq.sqe_tail - 1) & r->u.sq.ring_mask];
	io_uring_sqe_set_data(s, q);
	__atomic_store_n(&r->queued, r->queued + 1, __ATOMIC_RELAXED);
	spin_unlock(&r->sqlock);
}

void __ring_cancel(struct ring *r, struct ureq *q)
{
	struct io_uring_sqe *s;
	spin_lock(&r->sqlock);
	if (!(s = io_uring_get_sqe(&r->u))) {
		submit_locked(r);
		s = io_uring_get_sqe(&r->u);
	}
	if (s) {
		io_uring_prep_cancel(s, q, 0);
		io_uring_sqe_set_data(s, 0);
		r->queued++;
	}
	submit_locked(r);
	spin_unlock(&r->sqlock);
	/* No room even after a submit: the call completes by itself (it
	 * is in flight), only later. */
}

/* In a fork child (the netpoller's fork hook): the parent's rings are
 * not ours.  Unmap and close them; the next call makes new ones. */
static void fork_child(void)
{
	for (int i = 0; i < hi; i++) {
		struct ring *r = rings[i];
		if (r) unmap(r);
		rings[i] = 0;
	}
	if (efd >= 0) __syscall(SYS_close, efd);
	efd = -1;
	/* The child's scheduler may start with another number of workers. */
	if (rings) __syscall(SYS_munmap, (void *)rings, nslots * sizeof *rings);
	rings = 0;
	nslots = 0;
	hi = 0;
	lock = 0;
	fails = 0;
	if (state > 0) state = 0;
}
