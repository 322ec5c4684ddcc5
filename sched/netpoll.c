/* netpoll.c - the netpoller; the protocol is described in netpoll.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include "vg.h"
#include "syscall.h"
#include "scheduler.h"
#include "netpoll.h"

#define CHUNK_BITS 10
#define CHUNK (1 << CHUNK_BITS)
#define KICK_DATA ((uint64_t)-1)
#define HOOK_DATA ((uint64_t)-2)

static struct __np_fd *volatile top[NP_MAX_FD >> CHUNK_BITS];
static int epfd = -1, kickfd = -1;
static int init_lock;
static volatile int ready;	/* epfd and kickfd are set up */
static int (*volatile hook)(void);	/* __np_register_hook's fn */

volatile int __np_multi_seq, __np_multi, __np_waiters;

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

int __np_register_hook(int fd, int (*fn)(void))
{
	int r;
	if (!__np_active() && (r = setup())) return r;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = HOOK_DATA };
	__atomic_store_n(&hook, fn, __ATOMIC_RELEASE);
	return __syscall(SYS_epoll_ctl, epfd, EPOLL_CTL_ADD, fd, &ev);
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
	__np_unlock(e, 0);	/* waiters stay linked: they unlink themselves */
	bump(&e->seq);
	if (__atomic_load_n(&__np_multi, __ATOMIC_SEQ_CST)) bump(&__np_multi_seq);
}

/* Wake the poll-family waiters linked on e (locked). */
static void bump_multi(struct __np_fd *e)
{
	for (struct __np_wait *w = e->waiters; w; w = w->next)
		if (w->word) bump(w->word);
}

static void link_wait(struct __np_fd *e, struct __np_wait *w)
{
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
	bump(&ke->seq);
}

void __np_closing(int fd)
{
	struct __np_fd *e = __np_lookup(fd), *ke = 0;
	struct __np_wait *w, *next;
	int single = 0, k = -1, kf = 0;

	/* No call waits on fd (every close but a few): no lock.  A call
	 * that links itself meanwhile races the close in the program too. */
	if (!e || !__atomic_load_n(&e->waiters, __ATOMIC_ACQUIRE)) return;
	int f = __np_lock(e);
	for (w = e->waiters; w; w = w->next)
		if (!w->word) single++;
	if (single && (k = copy_fd(fd)) >= 0) {
		if ((ke = __np_entry(k))) {
			__np_lock(ke);
			kf = (f & (NP_KNOWN | NP_SOCK | NP_NOTSOCK | NP_USERNB |
				NP_NONOWAIT | NP_INCALL)) | NP_KEEP;
			if (__np_register(k, &kf)) {
				__np_unlock(ke, 0);
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
		__atomic_store_n(&w->fd, k, __ATOMIC_RELEASE);
		if (ke) link_wait(ke, w);
	}
	if (ke) __np_unlock(ke, kf);
	/* The moved calls are parked on e's counter. */
	bump(&e->seq);
	bump_multi(e);
	__np_unlock(e, f);
}

int __np_wait_begin(struct __np_wait *w, int fd, volatile int *word)
{
	struct __np_fd *e = __np_entry(fd);
	if (!e) return -ENOMEM;
	w->word = word;
	int f = __np_lock(e);
	w->fd = fd;
	link_wait(e, w);
	__np_unlock(e, f);
	return 0;
}

struct __np_fd *__np_wait_lock(struct __np_wait *w, int *flags)
{
	for (;;) {
		int fd = __atomic_load_n(&w->fd, __ATOMIC_ACQUIRE);
		if (fd < 0) return 0;	/* unlinked by __np_closing */
		struct __np_fd *e = __np_lookup(fd);
		*flags = __np_lock(e);
		if (w->fd == fd) return e;
		__np_unlock(e, *flags);	/* moved meanwhile */
	}
}

void __np_bump(volatile int *seq)
{
	bump(seq);
}

void __np_wait_end(struct __np_wait *w)
{
	int f;
	struct __np_fd *e = __np_wait_lock(w, &f);
	if (!e) return;
	unlink_wait(e, w);
	if ((f & NP_KEEP) && !e->waiters) {
		drop_keepalive(w->fd, e);
		f = 0;
	}
	__np_unlock(e, f);
}

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
		if (ev[i].data.u64 == HOOK_DATA) {
			hooked += hook();
			continue;
		}
		struct __np_fd *e = __np_entry((int)ev[i].data.u64);
		bump(&e->seq);
		if (__atomic_load_n(&e->nmulti, __ATOMIC_RELAXED)) {
			int f = __np_lock(e);
			bump_multi(e);
			__np_unlock(e, f);
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
	hook = 0;
	init_lock = 0;
	__np_multi = __np_waiters = 0;
	for (int i = 0; i < NP_MAX_FD >> CHUNK_BITS; i++) {
		struct __np_fd *c = top[i];
		if (c) for (int j = 0; j < CHUNK; j++) {
			if (c[j].flags & NP_KEEP) {
				__syscall(SYS_close, i * CHUNK + j);
				c[j].flags = 0;
			}
			c[j].flags &= ~(NP_REG | NP_LOCK | NP_INCALL);
			c[j].waiters = 0;
			c[j].nmulti = 0;
		}
	}
}
