/* netpoll.c - the netpoller; the protocol is described in netpoll.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include "syscall.h"
#include "scheduler.h"
#include "netpoll.h"

#define CHUNK_BITS 10
#define CHUNK (1 << CHUNK_BITS)
#define KICK_DATA ((uint64_t)-1)

static struct __np_fd *volatile top[NP_MAX_FD >> CHUNK_BITS];
static int epfd = -1, kickfd = -1;
static int init_lock;
static volatile int ready;	/* epfd and kickfd are set up */

volatile int __np_multi_seq, __np_multi, __np_waiters;

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

int __np_lock(struct __np_fd *e)
{
	__sched_nosig_enter(__sched_self());	/* until __np_unlock */
	for (;;) {
		int f = __atomic_load_n(&e->flags, __ATOMIC_RELAXED);
		if (!(f & NP_LOCK) && __atomic_compare_exchange_n(&e->flags, &f,
		    f | NP_LOCK, 1, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return f;
		__builtin_ia32_pause();
	}
}

void __np_unlock(struct __np_fd *e, int flags)
{
	__atomic_store_n(&e->flags, flags & ~NP_LOCK, __ATOMIC_RELEASE);
	__sched_nosig_leave(__sched_self());
}

static void spin_lock(int *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

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

int __np_register(int fd, int *flags)
{
	int r;
	if (!__np_active() && (r = setup())) return r;
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET,
		.data.u64 = (unsigned)fd,
	};
	r = __syscall(SYS_epoll_ctl, epfd, EPOLL_CTL_ADD, fd, &ev);
	if (r == -EEXIST) r = 0;	/* the same description, still there */
	if (!r) *flags |= NP_REG;
	else if (r == -EPERM) *flags |= NP_NOPOLL;
	return r;
}

static void bump(volatile int *seq)
{
	struct task *t = __sched_self();
	__sched_nosig_enter(t);	/* queue operations follow */
	__atomic_fetch_add(seq, 1, __ATOMIC_SEQ_CST);
	__sched_lot_wake(seq, -1, __sched_unpark_io);
	__sched_nosig_leave(t);
}

void __np_forget(int fd)
{
	struct __np_fd *e = __np_lookup(fd);
	if (!e) return;
	__np_lock(e);
	__np_unlock(e, 0);
	bump(&e->seq);
	if (__atomic_load_n(&__np_multi, __ATOMIC_SEQ_CST)) bump(&__np_multi_seq);
}

int __np_poll(int64_t timeout_ns)
{
	struct epoll_event ev[128];
	struct timespec ts, *tsp = 0;
	int n, woke = 0;

	if (!__np_active()) return 0;
	if (timeout_ns >= 0) {
		ts.tv_sec = timeout_ns / 1000000000;
		ts.tv_nsec = timeout_ns % 1000000000;
		tsp = &ts;
	}
	/* Blocked in the kernel, a worker's g0 takes program handlers
	 * (scheduler.h, __sched_g0_idle). */
	if (timeout_ns) __sched_g0_idle(1);
	n = __syscall(SYS_epoll_pwait2, epfd, ev, 128, tsp, 0, _NSIG/8);
	if (n == -ENOSYS) {
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
		bump(&__np_entry((int)ev[i].data.u64)->seq);
		woke++;
	}
	if (woke && __atomic_load_n(&__np_multi, __ATOMIC_SEQ_CST))
		bump(&__np_multi_seq);
	return woke;
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
	init_lock = 0;
	__np_multi = __np_waiters = 0;
	for (int i = 0; i < NP_MAX_FD >> CHUNK_BITS; i++) {
		struct __np_fd *c = top[i];
		if (c) for (int j = 0; j < CHUNK; j++)
			c[j].flags &= ~(NP_REG | NP_LOCK);
	}
}
