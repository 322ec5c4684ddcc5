/*
 * sched.c - weft's M:N scheduler: tasks on a few worker OS threads.
 *
 * Entities
 *   task    a pthread under M:N: musl's TCB (struct pthread, TLS below
 *           it) and a struct task carved from the top of its stack.  The
 *           thread pointer is the TCB, so __thread, errno, locale and keys
 *           follow the task from worker to worker.  tcb->pal = the task.
 *   worker  an OS thread with its own small TCB, a local run queue and a
 *           scheduler context ("g0", Go's name) that runs worker_loop on
 *           its own stack.  A task reaches its worker as t->worker; no
 *           scheduler state lives in __thread.  The worker TCB's pal is
 *           the worker's embedded g0 task (id 0), so code can tell g0.
 *   global  the global run queue (spinlock), the timer heap (spinlock),
 *           the id allocator (spinlock), the array of workers.
 *
 * Switching.  A task that parks, yields or exits records what must be
 * done once its context is saved (w->unlock, w->requeue, w->dead) and
 * switches straight to the next task of its worker: runnext, else the
 * head of the local queue (switch_out).  That task, first thing
 * (resumed), does the recorded work.  When the local queue is empty, and
 * on every 61st and 64th switch, the task switches to g0 instead, which
 * does the work and picks the next task from everywhere (local queue,
 * runnext, global queue, expired timers, the netpoller, stealing from a
 * random victim, else sleep).  This is what makes parking lost-wakeup
 * free: the lot bucket stays locked until the parked task's registers
 * are saved.  From the park, yield or exit until the next context's
 * resumed() the worker is "switching": program handlers that arrive
 * meanwhile wait on the task (pal/epoll/signal.c), since the slots are
 * taken and, inside __sched_switch, the thread pointer and the stack
 * belong to different tasks.
 *
 * runnext (Go's): a task woken by a task goes to the waker's worker's
 * runnext, to run at its next switch; a ping-pong or a ring then stays
 * on one worker instead of being stolen back and forth.  An idle worker
 * takes another's runnext only once that worker has not switched for
 * its idle spin (a couple of microseconds).
 *
 * Rejected for now: per-worker timer heaps (a woken task would have to
 * disarm on another worker's heap).
 *
 * Ownership and ordering
 *   - t->state: see sched.h; changed only through set_state(), which
 *     checks the transition.  RUNNABLE tasks belong to a queue, RUNNING
 *     ones to their worker, PARKED ones to whoever removes their waiter
 *     from the lot (lot.h), DEAD ones to g0 of their last worker.
 *   - Pushing a task on a run queue is a release (runq tail store, or the
 *     global queue's lock); popping is an acquire.  So a task's saved sp
 *     and everything it wrote before parking are visible to the worker
 *     that resumes it.
 *   - Idle workers: a worker sets w->sleeping = 1 (seq_cst), re-checks
 *     every queue and the timers, then futex-waits on w->sleeping.  An
 *     enqueuer pushes, issues a seq_cst fence and wakes a worker whose
 *     sleeping it can CAS from 1 to 0.  One side always sees the other.
 *   - Timers: a task arms its deadline with its waiter queued and bucket
 *     locked; expiry pops it under the timer lock, marks t->timer_busy,
 *     then removes the waiter from the lot (bucket lock; never both
 *     locks).  Disarm waits for timer_busy to clear, so an expiry never
 *     touches a waiter that has been reused for the next wait.
 *
 * What blocks what
 *   futex waits in libc (locks, condvars, sems, join)  the task
 *   bucket, run queue, timer and id spinlocks          the worker, briefly
 *   I/O on pollable fds, poll, sleeps (pal/epoll/io.c)  the task
 *   other syscalls (until the monitor, issue 4)         the worker
 *
 * The netpoller (netpoll.h) is polled by workers: without blocking when
 * their queues are empty (and every 64th schedule), and blocking by one
 * idle worker at a time (S.polling), with the nearest deadline as its
 * timeout; wake_one wakes that one with __np_kick.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include "pthread_impl.h"
#include "libc.h"
#include "syscall.h"
#include "context.h"
#include "scheduler.h"
#include "netpoll.h"

#define ID_CACHE 32	/* free ids a worker keeps (id_free_on) */
/* Task ids start above every kernel tid (PID_MAX_LIMIT on 64-bit Linux,
 * 2^22: pid_max cannot be set higher), so that a task id, which the
 * program sees (gettid), never names a real thread or process: tkill and
 * tgkill by id (pal/epoll/thread.c) are unambiguous.  The main task's id
 * is the process id; mutexes keep owner ids in 30 bits. */
#define SCHED_ID_BASE (1 << 22)

struct worker {
	struct __sched_runq rq;		/* local run queue; see runq.h */
	struct task *runnext;		/* woken by this worker's task: runs
					 * at its next switch, ahead of rq (Go's
					 * runnext).  Set by this worker (atomic
					 * exchange); taken by it, or by a thief
					 * once it has sat there a while.  Low
					 * bit RN_LOCK_TAG: a lock's wake */
	struct task g0;			/* this worker's scheduler context */
	void *g0_tp;			/* thread pointer of the worker's TCB */
	struct task *cur;		/* running task, 0 in g0; this worker */
	struct __sched_bucket *unlock;	/* to unlock after the switch; g0 */
	struct task *requeue;		/* to queue after the switch; g0 */
	int preempted;			/* requeue was preempted: queue it on
					 * the global queue; this worker */
	struct task *dead;		/* to bury after the switch; g0 */
	struct task *parked;		/* the task that parked, with unlock */
	volatile int g0_idle;		/* g0 is blocked in the kernel: it may
					 * run program handlers; this worker */
	int switching;			/* a task is switching out or in: from
					 * its park/yield/exit until the next
					 * context settles (resumed()); this
					 * worker's thread and its handlers */
	volatile int sleeping;		/* SLEEP_*: how it sleeps; CAS to 0 to wake */
	unsigned tick;			/* find_runnable calls; this worker */
	volatile unsigned nswitch;	/* switches to a task; this worker */
	volatile uint64_t sys_since;	/* its task entered a blocking syscall
					 * then (ns), 0: not in one */
	unsigned mon_sw;		/* nswitch at the monitor's last look */
	uint64_t mon_since;		/* when the monitor saw it change */
	uint64_t mon_cpu;		/* the thread's CPU time (ns) then */
	uint64_t mon_sys;		/* sys_since at the last look */
	volatile unsigned preempt;	/* the monitor asks the task that runs
					 * at nswitch == preempt - 1 to yield
					 * (0: no request); monitor, handler */
	int mon_asleep;			/* looks in a row that saw its thread
					 * asleep in the kernel; monitor */
	uint64_t mon_asked;		/* first preemption request for the
					 * task it runs now, 0: none; monitor */

	uint64_t mask;			/* the kernel's mask for this thread */
	int kalt_mode;			/* ALT_*: the kernel's sigaltstack for
					 * this thread; this worker */
	stack_t kalt;			/* with ALT_TASK: which one */
	int ktid;			/* kernel thread id; constant */
	int idx;			/* index in S.w; constant */
	uint32_t rng;			/* steal victim choice; this worker */
	void *alt;			/* ALT_STACK bytes: sigaltstack */
	int nids;			/* free ids cached here (id_free_on); */
	int ids[ID_CACHE];		/* ... this worker */
};

static struct {
	volatile int started;		/* set once, before any second task */
	volatile int n;			/* workers started; grows (monitor) */
	int nprocs;			/* workers started at first; constant */
	int cap;			/* workers allocated: nprocs + SPARE */
	struct worker *w;		/* the workers; constant */
	struct worker mon;		/* the monitor thread's TCB and stack */
	/* Written under contention: each on a cache line of its own, away
	 * from the read-mostly fields above. */
	int qlock __attribute__((aligned(64)));	/* global run queue */
	struct task *qhead, *qtail;
	int tlock __attribute__((aligned(64)));	/* timer heap */
	struct task **heap;
	int nheap, heapcap;
	int idlock __attribute__((aligned(64)));	/* virtual thread ids */
	int *freeids;
	int nfree, nextid, idcap;
	int firstid;			/* the first id issued (SCHED_ID_BASE);
					 * constant */
	volatile int polling __attribute__((aligned(64)));	/* a worker is
					 * blocked in __np_poll */
	int lazy __attribute__((aligned(64)));	/* a lock's wake left idle
					 * workers asleep: __sched_unpark_lock */
} S;

/* w->sleeping: awake, asleep on the futex w->sleeping, or asleep in the
 * netpoller (woken with __np_kick). */
enum { SLEEP_NO, SLEEP_FUTEX, SLEEP_POLL };

static struct task main_task;
static int monitor_main(void *arg);
static void install_sigsync(void);
static void install_overflow_report(struct worker *w0);

/* How long an idle worker sleeps at most while lock wakes leave idle
 * workers asleep (__sched_unpark_lock). */
#define LAZY_NS 100000ULL

/* musl's internal signals (SIGTIMER, SIGCANCEL, SIGSYNCCALL: 32-34). */
#define INTERNAL_SIGS (7ULL << 31)

#define WORKER_STACK 65536
/* Spare workers the monitor may start (see "The monitor"). */
#define SPARE_MAX 32
#define CLONE_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND \
	| CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID \
	| CLONE_DETACHED)
/* Each worker's signal stack, where the stack-overflow report runs. */
#define ALT_STACK 16384

/* ---- Small helpers ------------------------------------------------------ */

/* Real-time signals queue (signal(7)): t->rtcount counts each one sent,
 * the pending bit says "some".  Senders count, then set the bit. */
#define IS_RT(sig) ((sig) >= 32)

static void spin_lock(int *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(l, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
}

static void spin_unlock(int *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static _Noreturn void die(const char *msg)
{
	__syscall(SYS_write, 2, msg, strlen(msg));
	a_crash();
	for (;;);
}

static void set_state(struct task *t, int from, int to)
{
	if (t->state != from) die("weft: scheduler: illegal task state transition\n");
	t->state = to;
}

uint64_t __sched_now(void)
{
	struct timespec ts;
	__clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

struct task *__sched_self(void)
{
	return __pthread_self()->pal;
}

struct __pthread *__sched_main_tcb(void)
{
	return main_task.tcb;
}

/* The worker the caller runs on (task or g0); 0 on the monitor thread,
 * whose struct worker holds its TCB but no run queue anyone takes from. */
static struct worker *self_worker(void)
{
	struct task *t = __sched_self();
	return t && t->worker != &S.mon ? t->worker : 0;
}

/* ---- Ids ---------------------------------------------------------------- */

/* The id and timer arrays grow with malloc, which may park the caller, so
 * never under a spinlock: allocate, then swap in under the lock if still
 * needed.  They only grow, so a racy read of a capacity can only be low. */
static int grow(int *lock, void **arr, int *cap, int *used, int want, size_t elt)
{
	int n = 2 * want + 64;
	void *p = malloc(n * elt), *old;
	if (!p) return -EAGAIN;
	spin_lock(lock);
	old = *arr;
	/* The count is read under the lock: entries added meanwhile (a timer
	 * armed on another worker) must be copied too. */
	if (*cap < want) {
		memcpy(p, *arr, *used * elt);
		*arr = p, *cap = n, p = old;
	}
	spin_unlock(lock);
	free(p);
	return 0;
}

/*
 * Freed ids go first to the freeing worker's cache (w->ids), and creates
 * take from their worker's cache: a spawn's id is taken on the creator's
 * worker and freed by bury() on whichever worker ran the task, and one
 * global lock for both would move its line between the workers twice per
 * spawn.  Half a cache moves to or from the free list under the lock at
 * a time.  Every id ever issued fits in the free list (S.idcap), so
 * flushing a cache never fails.  w: the caller's worker, or 0 (before
 * the scheduler runs, or the monitor): the free list alone.  A worker's
 * cache is used only by what runs on it, one context at a time, and not
 * across a park.
 */
static void id_free_on(struct worker *w, int id)
{
	if (w && w->nids < ID_CACHE) {
		w->ids[w->nids++] = id;
		return;
	}
	spin_lock(&S.idlock);
	S.freeids[S.nfree++] = id;
	while (w && w->nids > ID_CACHE / 2)
		S.freeids[S.nfree++] = w->ids[--w->nids];
	spin_unlock(&S.idlock);
}

static void id_free(int id)
{
	id_free_on(self_worker(), id);
}

/* A free virtual id, with room in the timer heap for every live task. */
static int id_alloc(void)
{
	struct worker *w = self_worker();
	int id = w && w->nids ? w->ids[--w->nids] : 0;
	while (!id) {
		spin_lock(&S.idlock);
		if (S.nfree) {
			id = S.freeids[--S.nfree];
			while (w && S.nfree && w->nids < ID_CACHE / 2)
				w->ids[w->nids++] = S.freeids[--S.nfree];
		} else if (S.nextid - S.firstid < S.idcap) {
			id = S.nextid++;
		}
		spin_unlock(&S.idlock);
		if (id) break;
		/* The free list must hold every id ever issued. */
		if (S.nextid >= (1 << 30) || grow(&S.idlock, (void **)&S.freeids,
		    &S.idcap, &S.nfree, S.nextid - S.firstid + 1, sizeof *S.freeids))
			return -EAGAIN;
		w = self_worker();	/* malloc may have parked the caller */
	}
	/* Live tasks have distinct ids from S.firstid up, and each one's
	 * alloc saw room for it and every lower id: the heap has room for
	 * all of them and the main task (which has none of its own). */
	int need = id - S.firstid + 2;
	if (__atomic_load_n(&S.heapcap, __ATOMIC_RELAXED) < need &&
	    grow(&S.tlock, (void **)&S.heap, &S.heapcap, &S.nheap, need, sizeof *S.heap)) {
		id_free(id);
		return -EAGAIN;
	}
	return id;
}


/* ---- Run queues and idle workers ---------------------------------------- */

static void global_put(struct task *t)
{
	t->next = 0;
	spin_lock(&S.qlock);
	if (S.qtail) S.qtail->next = t;
	else S.qhead = t;
	S.qtail = t;
	spin_unlock(&S.qlock);
}

static struct task *global_get(void)
{
	struct task *t;
	if (!__atomic_load_n(&S.qhead, __ATOMIC_RELAXED)) return 0;
	spin_lock(&S.qlock);
	if ((t = S.qhead) && !(S.qhead = t->next)) S.qtail = 0;
	spin_unlock(&S.qlock);
	return t;
}

/* The local queue is empty: one task from the global queue to run, and
 * up to GLOBAL_BATCH more, in order, onto w's queue (Go's globrunqget):
 * one lock for the batch, and the rest kept in FIFO order rather than
 * taken one per switch. */
#define GLOBAL_BATCH 64
static struct task *global_get_batch(struct worker *w)
{
	struct task *t, *n;
	if (!__atomic_load_n(&S.qhead, __ATOMIC_RELAXED)) return 0;
	spin_lock(&S.qlock);
	if ((t = S.qhead)) {
		n = t->next;
		for (int i = 0; n && i < GLOBAL_BATCH; i++) {
			struct task *m = n->next;
			if (__sched_runq_put(&w->rq, n)) break;
			n = m;
		}
		if (!(S.qhead = n)) S.qtail = 0;
	}
	spin_unlock(&S.qlock);
	return t;
}

/* Wake v if it sleeps (CAS of v->sleeping to 0, then its futex or the
 * netpoller's kick); bool: it did. */
static int wake_worker(struct worker *v)
{
	int s = __atomic_load_n(&v->sleeping, __ATOMIC_RELAXED);
	if (!s || !__atomic_compare_exchange_n(&v->sleeping, &s, 0, 0,
	    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		return 0;
	if (s == SLEEP_POLL) __np_kick();
	else __syscall(SYS_futex, &v->sleeping, FUTEX_WAKE|FUTEX_PRIVATE, 1);
	return 1;
}

static void wake_one(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	struct worker *me = self_worker();
	/* A handler on this worker's sleeping g0 queued it here: the
	 * interrupted sleep must end (the kernel would restart it). */
	if (me && me->g0_idle && wake_worker(me)) return;
	/* Start after the caller's own worker: no shared counter to write
	 * (every push comes here, from every worker). */
	unsigned start = me ? me->idx + 1 : 0;
	int n = __atomic_load_n(&S.n, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++) {
		struct worker *v = &S.w[(start + i) % n];
		/* Not the caller's own (the netpoller's worker, waking tasks). */
		if (v != me && wake_worker(v)) return;
	}
}

/* The run queue is full: half of it and t go to the global queue. */
static __attribute__((noinline)) void push_full(struct worker *w, struct task *t)
{
	void *half[RUNQ_SIZE / 2 + 1];
	unsigned n = w ? __sched_runq_grab_half(&w->rq, t, half) : 0;
	if (!n) global_put(t);
	for (unsigned i = 0; i < n; i++) global_put(half[i]);
}

/* Queue a runnable task on w (the caller's worker, or 0: none, the
 * global queue).  wake: a sleeping worker should come for it; not when
 * w is about to schedule anyway (a yield's requeue). */
static inline void push_on(struct worker *w, struct task *t, int wake)
{
	if (!w || __sched_runq_put(&w->rq, t)) push_full(w, t);
	if (wake) wake_one();
}

static void push(struct task *t, int wake)
{
	push_on(self_worker(), t, wake);
}

/* ---- Timers: a binary min-heap of tasks by deadline, under S.tlock ------ */

static void heap_set(int i, struct task *t)
{
	S.heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(int i)
{
	struct task *t = S.heap[i];
	while (i > 0 && S.heap[(i - 1) / 2]->deadline > t->deadline) {
		heap_set(i, S.heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(i, t);
}

static void heap_down(int i)
{
	struct task *t = S.heap[i];
	for (;;) {
		int c = 2 * i + 1;
		if (c >= S.nheap) break;
		if (c + 1 < S.nheap && S.heap[c + 1]->deadline < S.heap[c]->deadline) c++;
		if (S.heap[c]->deadline >= t->deadline) break;
		heap_set(i, S.heap[c]);
		i = c;
	}
	heap_set(i, t);
}

static void heap_remove(struct task *t)
{
	int i = t->heap_idx;
	struct task *last = S.heap[--S.nheap];
	t->heap_idx = -1;
	if (last == t) return;
	heap_set(i, last);
	heap_up(i);
	heap_down(last->heap_idx);
}

void __sched_timer_arm(struct task *t, uint64_t deadline)
{
	spin_lock(&S.tlock);
	t->deadline = deadline;
	heap_set(S.nheap++, t);
	heap_up(S.nheap - 1);
	spin_unlock(&S.tlock);
}

void __sched_timer_disarm(struct task *t)
{
	spin_lock(&S.tlock);
	if (t->heap_idx >= 0) heap_remove(t);
	spin_unlock(&S.tlock);
	while (__atomic_load_n(&t->timer_busy, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

/* Time out every expired wait; returns the next deadline (0: none). */
static uint64_t run_timers(void)
{
	struct task *batch[32];
	uint64_t now, next;
	int n;

	do {
		if (!__atomic_load_n(&S.nheap, __ATOMIC_RELAXED)) return 0;
		now = __sched_now();
		n = 0;
		spin_lock(&S.tlock);
		while (S.nheap && S.heap[0]->deadline <= now && n < 32) {
			struct task *t = S.heap[0];
			heap_remove(t);
			t->timer_busy = 1;
			batch[n++] = t;
		}
		next = S.nheap ? S.heap[0]->deadline : 0;
		spin_unlock(&S.tlock);
		for (int i = 0; i < n; i++) {
			struct task *t = batch[i];
			if (__sched_lot_remove(&t->w, -ETIMEDOUT))
				__sched_unpark(t);
			__atomic_store_n(&t->timer_busy, 0, __ATOMIC_RELEASE);
		}
	} while (n == 32);
	return next;
}

/* Bool: a wait's deadline has passed and no worker has timed it out
 * yet (the monitor's test: such a task is work, as a queued one is). */
static int timer_due(uint64_t now)
{
	int due;
	if (!__atomic_load_n(&S.nheap, __ATOMIC_RELAXED)) return 0;
	spin_lock(&S.tlock);
	due = S.nheap && S.heap[0]->deadline <= now;
	spin_unlock(&S.tlock);
	return due;
}

/* ---- Program handlers that reach g0 (scheduler.h) ------------------------ */

/* Raise sig again on the calling thread tid (a worker's: a signal left
 * pending on a task or g0).  tkill of a real-time signal fails with
 * EAGAIN while the user's queue is full (RLIMIT_SIGPENDING, which a
 * sigqueue sender keeps full), and the signal would be lost; one
 * queued to the caller itself with si_code SI_USER is always sent.
 * The trampoline takes SI_USER with si_errno SCHED_RERAISE for the
 * SI_TKILL it stands for (scheduler.h). */
static void reraise(int tid, int sig)
{
	if (__syscall(SYS_tkill, tid, sig) != -EAGAIN || sig < 32) return;
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = sig;
	si.si_code = SI_USER;
	si.si_errno = SCHED_RERAISE;
	si.si_pid = __syscall(SYS_getpid);
	si.si_uid = __syscall(SYS_getuid);
	__syscall(SYS_rt_tgsigqueueinfo, si.si_pid, tid, sig, &si);
}

/* Raise again, on w's own thread, what g0 left pending. */
static void g0_raise(struct worker *w)
{
	int sig;
	while ((sig = __sched_sig_take(&w->g0, ~0ULL)))
		reraise(w->ktid, sig);
}

void __sched_g0_idle(int on)
{
	struct task *g = __sched_self();
	if (!g || g->id || !g->worker) return;
	struct worker *w = g->worker;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	w->g0_idle = on;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (on && !g->nosig && __atomic_load_n(&g->sigpending, __ATOMIC_RELAXED))
		g0_raise(w);
}

int __sched_g0_busy(struct task *g)
{
	return g && !g->id && g->worker && g == &g->worker->g0 &&
		!(g->worker->g0_idle && !g->nosig);
}

int __sched_g0_defer(struct task *g, int sig)
{
	if (!__sched_g0_busy(g)) return 0;
	__sched_defer(g, sig);
	return 1;
}

#define SIGWAITERS 64
static struct {
	struct task *t;
	int busy;	/* holders reading t: its exit waits for them */
} sigwaiters[SIGWAITERS];

void __sched_sigwaiter_add(struct task *t)
{
	if (t->sigwaiter) return;
	for (int i = 0; i < SIGWAITERS; i++) {
		struct task *z = 0;
		if (!__atomic_load_n(&sigwaiters[i].t, __ATOMIC_RELAXED) &&
		    __atomic_compare_exchange_n(&sigwaiters[i].t, &z, t, 0,
		    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
			t->sigwaiter = i + 1;
			return;
		}
	}
}

static void sigwaiter_del(struct task *t)
{
	int i = t->sigwaiter - 1;
	if (i < 0) return;
	t->sigwaiter = 0;
	__atomic_store_n(&sigwaiters[i].t, 0, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&sigwaiters[i].busy, __ATOMIC_SEQ_CST))
		a_spin();
}

struct task *__sched_sigwaiter_hold(int sig, int *slot)
{
	uint64_t bit = 1ULL << (sig - 1);
	for (int i = 0; i < SIGWAITERS; i++) {
		if (!__atomic_load_n(&sigwaiters[i].t, __ATOMIC_RELAXED)) continue;
		__atomic_fetch_add(&sigwaiters[i].busy, 1, __ATOMIC_SEQ_CST);
		struct task *t = __atomic_load_n(&sigwaiters[i].t, __ATOMIC_SEQ_CST);
		if (t && !(__atomic_load_n(&t->sigmask, __ATOMIC_RELAXED) & bit)) {
			*slot = i;
			return t;
		}
		__atomic_fetch_sub(&sigwaiters[i].busy, 1, __ATOMIC_RELEASE);
	}
	return 0;
}

void __sched_sigwaiter_release(int slot)
{
	__atomic_fetch_sub(&sigwaiters[slot].busy, 1, __ATOMIC_RELEASE);
}

/* What some registered waiter's mask lets through (for idle masks). */
static uint64_t sigwaiters_open(void)
{
	uint64_t open = 0;
	for (int i = 0; i < SIGWAITERS; i++) {
		if (!__atomic_load_n(&sigwaiters[i].t, __ATOMIC_RELAXED)) continue;
		__atomic_fetch_add(&sigwaiters[i].busy, 1, __ATOMIC_SEQ_CST);
		struct task *t = __atomic_load_n(&sigwaiters[i].t, __ATOMIC_SEQ_CST);
		if (t) open |= ~__atomic_load_n(&t->sigmask, __ATOMIC_RELAXED);
		__atomic_fetch_sub(&sigwaiters[i].busy, 1, __ATOMIC_RELEASE);
	}
	return open;
}

struct task *__sched_main(void)
{
	if (!S.started ||
	    __atomic_load_n(&main_task.state, __ATOMIC_RELAXED) == T_DEAD)
		return 0;
	return &main_task;
}

/* ---- The worker loop (g0) ----------------------------------------------- */

/* The kernel's signal mask for w's thread; w's own thread only. */
static void set_mask(struct worker *w, uint64_t m)
{
	if (w->mask == m) return;
	w->mask = m;
	__syscall(SYS_rt_sigprocmask, SIG_SETMASK, &m, 0, _NSIG/8);
}


/* ---- Alternate signal stacks ---------------------------------------------
 *
 * sigaltstack(2) is per thread, and so per task here: t->alt.  The kernel
 * has one per worker thread, which must be the running task's own, since
 * the kernel puts an SA_ONSTACK handler's frame there.  A task without
 * one gets the worker's default: the worker's own small stack (w->alt),
 * where the stack-overflow report runs (install_overflow_report), or,
 * once the program has installed any SA_ONSTACK handler of its own, none
 * at all, so that such a handler runs on the task's stack as on a thread
 * without one.  (On the worker's stack it would be shared: a handler
 * that parked there would have its frames overwritten by the next
 * signal on that worker.)  Cached per worker (kalt_mode, kalt) like the
 * masks, so switches between tasks without one cost a compare.
 *
 * Order: the next context on a worker installs its stack (alt_sync)
 * before it releases the task that left (after_switch): once that one
 * runs elsewhere, and may free its stack, no other thread has it.
 * A task that switches away from a handler running on its own stack
 * (it parks or yields there) blocks every signal in the kernel until
 * the next context's mask is set: in between, its stack is still the
 * kernel's but the stack pointer is no longer on it, and a signal would
 * be put at the top of it, over the handler's frames.  And a handler's
 * sigreturn gives the kernel the ucontext's uc_stack, the worker's at
 * delivery: the trampoline makes it the task's as the handler starts
 * (__sched_alt_enter), gives the task what it holds as the handler
 * returns, as sigreturn does a thread, and then puts the current
 * worker's there (__sched_alt_restored). */
enum { ALT_OWN, ALT_OFF, ALT_TASK, ALT_UNKNOWN };

/* Set once (sticky), by the first SA_ONSTACK handler of the program.  Not
 * in S: it outlives a fork, as the handlers do. */
static int alt_onstack;

void __sched_alt_onstack_used(void)
{
	if (!__atomic_load_n(&alt_onstack, __ATOMIC_RELAXED))
		__atomic_store_n(&alt_onstack, 1, __ATOMIC_RELAXED);
}

static int alt_default(void)
{
	return __atomic_load_n(&alt_onstack, __ATOMIC_RELAXED) ? ALT_OFF : ALT_OWN;
}

static int alt_same(const stack_t *a, const stack_t *b)
{
	return a->ss_sp == b->ss_sp && a->ss_size == b->ss_size &&
		a->ss_flags == b->ss_flags;
}

/* Give w's thread t's stack (t: 0 or without one: the default). */
static __attribute__((noinline)) void alt_switch(struct worker *w, struct task *t)
{
	stack_t ss;
	int mode;
	if (t && t->alt.ss_size) {
		if (w->kalt_mode == ALT_TASK && alt_same(&w->kalt, &t->alt)) return;
		ss = t->alt;
		mode = ALT_TASK;
	} else {
		mode = alt_default();
		if (w->kalt_mode == mode) return;
		ss = mode == ALT_OWN ? (stack_t){ .ss_sp = w->alt, .ss_size = ALT_STACK }
			: (stack_t){ .ss_flags = SS_DISABLE };
	}
	/* Fails (EPERM) only on the stack being replaced, which no task
	 * that is switched in can be on: then try again next time. */
	if (__syscall(SYS_sigaltstack, &ss, 0)) mode = ALT_UNKNOWN;
	w->kalt = ss;
	w->kalt_mode = mode;
}

static inline void alt_sync(struct worker *w, struct task *t)
{
	if (__builtin_expect((t && t->alt.ss_size) || w->kalt_mode != alt_default(), 0))
		alt_switch(w, t);
}

/* The calling task t's stack pointer is on its own alternate stack, as
 * the kernel's on_sig_stack() sees it. */
static int alt_on(struct task *t)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t base = (uintptr_t)t->alt.ss_sp;
	return t->alt.ss_size && !(t->alt.ss_flags & SS_AUTODISARM) &&
		sp > base && sp - base <= t->alt.ss_size;
}

/* switch_out's guard for a task on its own alternate stack (above). */
static __attribute__((noinline)) void alt_block(struct worker *w, struct task *t)
{
	if (!alt_on(t)) return;
	uint64_t all = ~0ULL;
	__syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, 0, _NSIG/8);
	w->mask = all;
}

int __sched_sigaltstack(struct task *t, const stack_t *ss, stack_t *old)
{
	stack_t o;
	int r = 0;
	if (!t->id) {	/* a handler on g0: the worker's own, resynced later */
		r = __syscall(SYS_sigaltstack, ss, old);
		if (ss && !r) t->worker->kalt_mode = ALT_UNKNOWN;
		return r;
	}
	/* No handler may switch t away meanwhile. */
	__sched_nosig_enter(t);
	struct worker *w = t->worker;
	int on = alt_on(t);
	o = t->alt;
	o.ss_flags = (!o.ss_size ? SS_DISABLE : on ? SS_ONSTACK : 0) |
		(o.ss_flags & SS_AUTODISARM);
	if (ss) {
		int mode = ss->ss_flags & ~SS_AUTODISARM;
		if (on) {
			r = -EPERM;
		} else if (mode != 0 && mode != SS_ONSTACK && mode != SS_DISABLE) {
			r = -EINVAL;
		} else if (mode == SS_DISABLE) {
			t->alt = (stack_t){ .ss_flags = ss->ss_flags };
			alt_switch(w, t);
		} else {
			/* The kernel checks the size, as for a thread. */
			stack_t n = { .ss_sp = ss->ss_sp, .ss_size = ss->ss_size,
				.ss_flags = ss->ss_flags };
			if (!(r = __syscall(SYS_sigaltstack, &n, 0))) {
				t->alt = n;
				w->kalt = n;
				w->kalt_mode = ALT_TASK;
			}
		}
	}
	__sched_nosig_leave(t);
	if (!r && old) *old = o;
	return r;
}

void __sched_alt_enter(struct task *t, stack_t *uc)
{
	struct worker *w = t->worker;
	/* What the kernel saved: the worker's (t's own, or the default). */
	if (!t->alt.ss_size) {
		*uc = (stack_t){ .ss_flags = SS_DISABLE |
			(t->alt.ss_flags & SS_AUTODISARM) };
		return;
	}
	*uc = t->alt;
	/* SS_AUTODISARM: the kernel disarmed it for the handler. */
	if (t->alt.ss_flags & SS_AUTODISARM) {
		t->alt = w->kalt = (stack_t){ .ss_flags = SS_DISABLE };
		w->kalt_mode = ALT_OFF;
	}
}

void __sched_alt_restored(struct task *t, stack_t *uc)
{
	struct worker *w = t->worker;
	/* sigreturn's restore_altstack(), for t: *uc is what it had when
	 * the signal came (__sched_alt_enter), unless the handler changed
	 * the ucontext; not while on the current one, and only if valid
	 * (the kernel's checks, its errors ignored as there). */
	stack_t n = *uc;
	int mode = n.ss_flags & ~SS_AUTODISARM;
	if (!alt_on(t)) {
		if (mode == SS_DISABLE)
			t->alt = (stack_t){ .ss_flags = n.ss_flags };
		else if ((mode == 0 || mode == SS_ONSTACK) && n.ss_size >= MINSIGSTKSZ)
			t->alt = n;
	}
	alt_switch(w, t);
	/* The kernel's restore then changes nothing. */
	*uc = w->kalt;
}

static void bury(struct task *t)
{
	/* A detached thread's mapping goes back to the stack pool (stack.h).
	 * t and the TCB live in it, and once it is pooled another worker
	 * may reuse it at once: read them first. */
	struct __sched_stack st = { .map = t->exit_map,
		.map_size = t->exit_map_size };
	volatile int *exited = t->exited;
	if (st.map) st.guard = t->tcb->guard_size;
	id_free(t->id);
	__sched_stack_put(&st);
	/* Off its stack for good: a joiner may free it now.  The store
	 * is the last touch of t's memory; the wake only hashes the
	 * address. */
	if (exited) {
		a_store(exited, DT_EXITED);
		__sched_lot_wake(exited, 1, __sched_unpark);
	}
}

/* after_switch's cases: the task that switched away parked, releasing
 * its bucket; or it died. */
static __attribute__((noinline)) void after_park(struct worker *w)
{
	struct __sched_bucket *b = w->unlock;
	struct task *p = w->parked;
	w->unlock = 0;
	/* A signal that reached p while it was switching out waits
	 * on p (the trampoline defers it): end p's wait, as if it
	 * had come just after p parked.  p's bucket is still held,
	 * so nothing else can have woken p. */
	int intr = p->nosig <= 1 &&
		(__atomic_load_n(&p->sigpending, __ATOMIC_RELAXED) & ~p->sigmask) &&
		__sched_lot_remove_locked(b, &p->w, -EINTR);
	__sched_lot_unlock(b);
	if (intr) __sched_unpark(p);
}

static __attribute__((noinline)) void after_exit(struct worker *w)
{
	struct task *t = w->dead;
	/* A task that died inside a handler (musl's cancel handler,
	 * or pthread_exit from a program's) left the handler's mask
	 * in the kernel: resync at the next switch. */
	int resync = t->in_handler || t->tcb->cancel;
	w->dead = 0;
	/* Signals left pending on it by the trampoline (they came
	 * while it switched away, or in pthread_exit's blocked
	 * window) were the process's: another task takes them.  Not
	 * musl's internal ones (timer, cancel, synccall). */
	uint64_t left = __atomic_load_n(&t->sigpending, __ATOMIC_RELAXED) &
		~(7ULL << 31);
	for (int sig; left; left &= left - 1) {
		sig = __builtin_ctzll(left) + 1;
		uint32_t n = IS_RT(sig) ? t->rtcount[sig - 32] : 1;
		while (n--) __sched_defer(&w->g0, sig);
	}
	bury(t);
	if (resync) w->mask = ~0ULL;
}

/* What the task that last switched away on w asked for, done by
 * whatever runs next there (g0, or the task it switched to directly)
 * once that task's context is saved: unlock the bucket it parked on,
 * requeue it (a yield), or bury it. */
static inline void after_switch(struct worker *w)
{
	if (w->unlock) after_park(w);
	if (w->requeue) {
		struct task *t = w->requeue;
		w->requeue = 0;
		if (w->preempted) {
			w->preempted = 0;
			push_on(0, t, 1);
		} else {
			push_on(w, t, 0);
		}
	}
	if (w->dead) after_exit(w);
}

/* A runnext slot's value: a task, tagged in its low bit (tasks are at
 * least 8-aligned) if a lock's release woke it (__sched_unpark_lock).
 * The tag is read from the slot, never from the task, which another
 * worker may have taken and ended meanwhile. */
#define RN_LOCK_TAG 1UL
_Static_assert(_Alignof(struct task) > RN_LOCK_TAG, "");

static inline struct task *rn_task(struct task *v)
{
	return (struct task *)((uintptr_t)v & ~RN_LOCK_TAG);
}

static inline int rn_is_lock(struct task *v)
{
	return (uintptr_t)v & RN_LOCK_TAG;
}

/* Work another worker could take now: queued globally or locally.
 * runnext: also count tasks waiting in a worker's runnext (RN_ALL), or
 * those a lock's release did not wake (RN_NOT_LOCK: __sched_unpark_lock). */
enum { RN_NONE, RN_ALL, RN_NOT_LOCK };
static int work_visible(int runnext)
{
	if (__atomic_load_n(&S.qhead, __ATOMIC_RELAXED)) return 1;
	int n = __atomic_load_n(&S.n, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++) {
		if (__sched_runq_len(&S.w[i].rq)) return 1;
		struct task *t = runnext ?
			__atomic_load_n(&S.w[i].runnext, __ATOMIC_RELAXED) : 0;
		if (t && (runnext == RN_ALL || !rn_is_lock(t)))
			return 1;
	}
	return 0;
}

/* w's own runnext, if any. */
static struct task *take_runnext(struct worker *w)
{
	if (!__atomic_load_n(&w->runnext, __ATOMIC_RELAXED)) return 0;
	return rn_task(__atomic_exchange_n(&w->runnext, 0, __ATOMIC_ACQUIRE));
}

static struct task *steal(struct worker *w)
{
	w->rng = w->rng * 1103515245 + 12345;
	unsigned start = w->rng >> 16;
	int n = __atomic_load_n(&S.n, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++) {
		struct worker *v = &S.w[(start + i) % n];
		struct task *t;
		if (v != w && (t = __sched_runq_steal(&w->rq, &v->rq))) return t;
	}
	return 0;
}

/* A runnext is its worker's to run at its next switch, which comes soon
 * when the task that woke it is handing over (it parks next: a
 * ping-pong, a ring, a pipeline stage).  A thief takes it only if the
 * worker has not switched for a while (the idle spin below, a couple of
 * microseconds): the waker went on computing, or blocked in the kernel.
 * Go's runqsteal does the same (stealRunNextG, after usleep(3)). */
struct rn_seen {
	struct worker *v;
	struct task *t;
	unsigned nswitch;
};

static void runnext_look(struct worker *w, struct rn_seen *seen)
{
	int n = __atomic_load_n(&S.n, __ATOMIC_ACQUIRE);
	seen->v = 0;
	for (int i = 0; i < n; i++) {
		struct worker *v = &S.w[(w->idx + 1 + i) % n];
		struct task *t;
		if (v == w || !(t = __atomic_load_n(&v->runnext, __ATOMIC_RELAXED)))
			continue;
		seen->v = v;
		seen->t = t;
		seen->nswitch = v->nswitch;
		return;
	}
}

/* lazy: a lock's wake (RN_LOCK_TAG) may be taken only once the lazy
 * period is over or this worker has slept through LAZY_NS of it. */
static struct task *runnext_steal(struct rn_seen *seen, int lazy)
{
	struct worker *v = seen->v;
	struct task *t = seen->t;
	if (!v || v->nswitch != seen->nswitch || (lazy && rn_is_lock(t)) ||
	    __atomic_load_n(&v->runnext, __ATOMIC_RELAXED) != t ||
	    !__atomic_compare_exchange_n(&v->runnext, &t, 0, 0,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 0;
	return rn_task(t);
}

/* Collect I/O readiness without blocking, if tasks wait for it and no
 * worker is blocked in the netpoller already (it would see it first).
 * Woken tasks land on w's queue; bool: some did. */
static int poll_io(struct worker *w)
{
	if (!__atomic_load_n(&__np_waiters, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&S.polling, __ATOMIC_RELAXED))
		return 0;
	return __np_poll(0) > 0;
}

static struct task *find_runnable(struct worker *w)
{
	struct task *t;
	int lazy_slept = 0;	/* slept LAZY_NS for a lock wake's task */
	/* Now and then a busy worker polls even with work queued, so that
	 * tasks woken by I/O are not starved by a yield-heavy load. */
	if (!(++w->tick & 63)) poll_io(w);
	/* And the global queue gets a turn even while the local one is
	 * never empty (Go's schedtick % 61). */
	if (!(w->tick % 61) && (t = global_get())) return t;
	for (;;) {
		/* A safe point: no lock held, no queue operation half-done. */
		if (__atomic_load_n(&w->g0.sigpending, __ATOMIC_RELAXED)) {
			__sched_g0_idle(1);	/* raises them */
			__sched_g0_idle(0);
		}
		uint64_t next = run_timers();
		/* The local queue ahead of runnext here: switch_out prefers
		 * runnext, and every 61st and 64th pick comes here. */
		if ((t = __sched_runq_get(&w->rq))) return t;
		if ((t = take_runnext(w))) return t;
		if ((t = global_get_batch(w))) return t;
		if (poll_io(w) && (t = __sched_runq_get(&w->rq))) return t;
		if ((t = steal(w))) return t;
		struct rn_seen seen;
		runnext_look(w, &seen);
		for (int i = 0; i < 64; i++) {
			__builtin_ia32_pause();
			if (work_visible(RN_NONE)) break;
		}
		/* In a lazy period, a lock's wake only after a LAZY_NS sleep. */
		int lazy = __atomic_load_n(&S.lazy, __ATOMIC_RELAXED) && !lazy_slept;
		if ((t = runnext_steal(&seen, lazy))) return t;
		/* Others' runnexts keep it spinning: they are taken by their
		 * own workers, or here once they have waited too long. */
		if (work_visible(lazy ? RN_NOT_LOCK : RN_ALL)) continue;

		/* Sleep: one idle worker in the netpoller (its timeout is the
		 * nearest deadline), the others on their futex. */
		int how = SLEEP_FUTEX;
		if (__np_active() && !__atomic_exchange_n(&S.polling, 1, __ATOMIC_ACQUIRE))
			how = SLEEP_POLL;
		__atomic_store_n(&w->sleeping, how, __ATOMIC_SEQ_CST);
		lazy = __atomic_load_n(&S.lazy, __ATOMIC_RELAXED);
		/* A lazy period (__sched_unpark_lock) ends when this worker
		 * has slept LAZY_NS and still finds no work.  During one, the
		 * lock's wakes left in runnexts do not keep it awake. */
		if (lazy && lazy_slept) {
			__atomic_store_n(&S.lazy, 0, __ATOMIC_SEQ_CST);
			lazy = 0;
		}
		if (work_visible(lazy ? RN_NOT_LOCK : RN_ALL) ||
		    (next && next <= __sched_now())) {
			int s = how;
			__atomic_compare_exchange_n(&w->sleeping, &s, 0, 0,
				__ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
			if (how == SLEEP_POLL) __atomic_store_n(&S.polling, 0, __ATOMIC_RELEASE);
			continue;
		}
		lazy_slept = lazy;
		if (lazy) {
			uint64_t until = __sched_now() + LAZY_NS;
			if (!next || until < next) next = until;
		}
		/* Asleep, the worker takes signals as the main task would
		 * (so a process-directed SIGINT still works when every task
		 * is parked), and always musl's internal ones (__synccall). */
		set_mask(w, main_task.kmask & ~sigwaiters_open() & ~INTERNAL_SIGS);
		uint64_t d = 0;
		if (next) {
			uint64_t now = __sched_now();
			d = next > now ? next - now : 0;
		}
		if (how == SLEEP_POLL) {
			__np_poll(next ? (int64_t)d : -1);
			__atomic_store_n(&S.polling, 0, __ATOMIC_RELEASE);
		} else {
			struct timespec ts = { d / 1000000000, d % 1000000000 };
			__sched_g0_idle(1);
			__syscall(SYS_futex, &w->sleeping, FUTEX_WAIT|FUTEX_PRIVATE,
				SLEEP_FUTEX, next ? &ts : 0);
			__sched_g0_idle(0);
		}
		__atomic_store_n(&w->sleeping, 0, __ATOMIC_SEQ_CST);
	}
}

static _Noreturn void worker_loop(struct worker *w)
{
	for (;;) {
		alt_sync(w, 0);		/* before the task that left is released */
		after_switch(w);
		struct task *t = find_runnable(w);
		set_state(t, T_RUNNABLE, T_RUNNING);
		t->worker = w;
		w->cur = t;
		set_mask(w, t->kmask);
		w->nswitch++;
		w->switching = 1;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		__sched_switch(&w->g0.sp, t->sp, t->tp, t);
		w->cur = 0;
	}
}

static void g0_entry(void *arg)
{
	struct task *from = arg;
	worker_loop(from->worker);
}

static int worker_main(void *arg)
{
	struct worker *w = arg;
	sigset_t none = { 0 };
	stack_t ss = { .ss_sp = w->alt, .ss_size = ALT_STACK };
	__syscall(SYS_sigaltstack, &ss, 0);
	__syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, 0, _NSIG/8);
	worker_loop(w);
}

/* ---- Task side: park, yield, exit, signals ------------------------------ */

void __sched_mask_set(struct task *t, uint64_t m, int how)
{
	struct worker *w = t->worker;
	t->sigmask = m;
	if (how == MASK_LAZY) t->kmask &= m;	/* blocks stay out of it */
	else t->kmask = m;
	if (how == MASK_IN_KERNEL)
		w->mask = m;
	else if (w->mask != t->kmask) {
		__syscall(SYS_rt_sigprocmask, SIG_SETMASK, &t->kmask, 0, _NSIG/8);
		w->mask = t->kmask;
	}
	if (__atomic_load_n(&t->sigpending, __ATOMIC_RELAXED) & ~m)
		__sched_deliver(t);
}

uint64_t __sched_mask_wait(struct task *t, uint64_t m)
{
	uint64_t old = t->sigmask;
	t->sigran = 0;
	__sched_mask_set(t, m & ~(1ULL << (SIGKILL - 1) | 1ULL << (SIGSTOP - 1)),
		MASK_KERNEL);
	return old;
}

void __sched_handler_enter(struct task *t, uint64_t h)
{
	t->in_handler++;
	t->sigmask |= h;
	t->kmask = t->worker->mask = h;
	/* Woken by a lock's release and not yet past its retry: releases
	 * meanwhile may have skipped their wake because of it, and the
	 * handler could run for any time first.  Wake another waiter in its
	 * place (one spurious wakeup at worst, if it had retried). */
	volatile void *baton = t->baton;
	if (baton) {
		t->baton = 0;
		__sched_nosig_enter(t);
		__sched_lot_wake(baton, 1, __sched_unpark);
		__sched_nosig_leave(t);
	}
}

void __sched_mask_restored(struct task *t, uint64_t m, uint64_t soft)
{
	t->sigmask = m | soft;
	t->kmask = t->worker->mask = m;
	m |= soft;
	/* What the handler's mask held back and this one lets through:
	 * a kick (sigsync_handler) raises it once the handler returns. */
	if (__atomic_load_n(&t->sigpending, __ATOMIC_RELAXED) & ~m)
		__syscall(SYS_tkill, t->worker->ktid, SIGSYNCCALL);
}


void __sched_defer(struct task *t, int sig)
{
	uint64_t bit = 1ULL << (sig - 1);
	if (IS_RT(sig)) __atomic_fetch_add(&t->rtcount[sig - 32], 1, __ATOMIC_RELEASE);
	__atomic_fetch_or(&t->sigpending, bit, __ATOMIC_SEQ_CST);
}

void __sched_deliver(struct task *t)
{
	/* One signal at a time, taken afresh each time: a handler may fork,
	 * and the child (whose pending set is empty, fork(2)) must not go
	 * on raising the parent's signals, nor at the parent's worker
	 * thread, whose kernel tid t->worker still names. */
	int sig;
	/* A g0 (the leave of a critical section a handler on it entered):
	 * only where it may run them. */
	if (!t->id) {
		if (t->worker && t->worker->g0_idle && !t->nosig) g0_raise(t->worker);
		return;
	}
	/* Mid-switch or in a critical section (a kick from __sched_kill):
	 * resumed(), the park's after_switch() or __sched_nosig_leave
	 * raises them. */
	if (t->nosig || t->worker->switching) return;
	while (__sched_self() == t && (sig = __sched_sig_take(t, ~t->sigmask))) {
		struct sigaction sa;
		if (!__libc_sigaction(sig, 0, &sa) &&
		    sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)
			t->sigran |= SIGRAN_HANDLER |
				(sa.sa_flags & SA_RESTART ? 0 : SIGRAN_NORESTART);
		reraise(t->worker->ktid, sig);
	}
}

int __sched_sig_take(struct task *t, uint64_t set)
{
	uint64_t p;
	while ((p = __atomic_load_n(&t->sigpending, __ATOMIC_ACQUIRE) & set)) {
		uint64_t bit = p & -p;
		int sig = __builtin_ctzll(bit) + 1;
		if (IS_RT(sig)) {
			uint32_t *c = &t->rtcount[sig - 32], n = __atomic_load_n(c, __ATOMIC_ACQUIRE);
			if (n > 1) {
				if (__atomic_compare_exchange_n(c, &n, n - 1, 0,
				    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
					return sig;
				continue;
			}
			if (!(__atomic_fetch_and(&t->sigpending, ~bit, __ATOMIC_ACQ_REL) & bit))
				continue;
			/* The last one, unless a sender counted meanwhile. */
			if (!__atomic_exchange_n(c, 0, __ATOMIC_ACQ_REL)) continue;
			return sig;
		}
		if (__atomic_fetch_and(&t->sigpending, ~bit, __ATOMIC_ACQ_REL) & bit)
			return sig;
	}
	return 0;
}

/* The task side of every switch to t, first thing: finish the previous
 * task's switch, take t's mask, then the signals that waited. */
static inline void resumed(struct task *t)
{
	struct worker *w = t->worker;
	alt_sync(w, t);		/* before the task that left is released */
	after_switch(w);
	set_mask(w, t->kmask);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	w->switching = 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&t->sigpending, __ATOMIC_RELAXED) & ~t->sigmask)
		__sched_deliver(t);
	/* Handlers that came while g0 ran: now, on this task. */
	if (__atomic_load_n(&w->g0.sigpending, __ATOMIC_RELAXED))
		g0_raise(w);
}

/* Switch the caller t (a running task that has set w->switching, its
 * new state and its after-switch work) away: straight to the next task
 * on its worker's queue, or to g0, which also checks the global queue,
 * timers, the netpoller and other workers.  Every 61st and 64th pick
 * goes through g0 (find_runnable's fairness ticks), and so does every
 * pick that the local queue cannot serve.  Returns when t is resumed,
 * maybe on another worker. */
static inline void switch_out(struct task *t)
{
	struct worker *w = t->worker;
	unsigned tick = w->tick + 1;
	struct task *n;
	if (__builtin_expect(t->in_handler && t->alt.ss_size, 0)) alt_block(w, t);
	if ((tick & 63) && (tick % 61) &&
	    ((n = take_runnext(w)) || (n = __sched_runq_get(&w->rq)))) {
		w->tick = tick;
		set_state(n, T_RUNNABLE, T_RUNNING);
		n->worker = w;
		w->cur = n;
		w->nswitch++;
		__sched_switch(&t->sp, n->sp, n->tp, n);
	} else {
		/* The state store (PARKED) before after_switch's read of
		 * t's pending signals, against __sched_kill's store of them
		 * before its read of the state; the direct path has the
		 * run queue's locked exchange between them. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		__sched_switch(&t->sp, w->g0.sp, w->g0_tp, t);
	}
	resumed(t);
}

/* From here until the next context's resumed(), a handler must not run
 * on the worker's tasks (the trampoline defers it): the worker's slots
 * are taken, and inside __sched_switch the thread pointer and the stack
 * belong to different contexts. */
static struct worker *begin_switch(struct task *t)
{
	struct worker *w = t->worker;
	w->switching = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return w;
}

int __sched_hold_handlers(struct task *t)
{
	return t->nosig || (t->worker && t->worker->switching);
}

void __sched_park(struct __sched_bucket *b)
{
	struct task *t = __sched_self();
	struct worker *w = begin_switch(t);
	t->baton = 0;		/* a new wait: past any retry */
	set_state(t, T_RUNNING, T_PARKED);
	w->unlock = b;
	w->parked = t;
	switch_out(t);
	/* Woken by a lock's release (lot.h): from here on, releases wake
	 * another waiter, and until this task has retried the lock it
	 * holds the baton, which a handler must pass on first
	 * (__sched_handler_enter). */
	if (t->w.landing) {
		t->baton = t->w.addr;
		__sched_lot_landed(&t->w);
	}
}

int __sched_spin_ok(void)
{
	struct task *t = __sched_self();
	if (!t || !t->id) return 1;
	struct worker *me = t->worker;
	if (__sched_runq_len(&me->rq) || __atomic_load_n(&me->runnext, __ATOMIC_RELAXED))
		return 0;
	int n = __atomic_load_n(&S.n, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (&S.w[i] != me && !__atomic_load_n(&S.w[i].sleeping, __ATOMIC_RELAXED))
			return 1;
	return 0;
}

/* Woken by a task: t runs next on the waker's worker (runnext), and
 * what was there goes to the back of the queue.  From g0 (timers, the
 * netpoller's worker) in wake order.  lock: a lock's release woke it
 * (__sched_unpark_lock). */
static inline void unpark(struct task *t, int lock)
{
	struct task *self = __sched_self(), *old;
	set_state(t, T_PARKED, T_RUNNABLE);
	if (!self || !self->worker || self == &self->worker->g0) {
		push(t, 1);
		return;
	}
	old = __atomic_exchange_n(&self->worker->runnext,
		(struct task *)((uintptr_t)t | (lock ? RN_LOCK_TAG : 0)), __ATOMIC_SEQ_CST);
	if (old) push(rn_task(old), 0);
	/* Against find_runnable's end of a lazy period: it clears S.lazy,
	 * then looks for runnexts; this made t one, then reads S.lazy.
	 * The wake is still owed to old, if any. */
	if (lock) {
		if (__atomic_load_n(&S.lazy, __ATOMIC_SEQ_CST)) {
			if (!old) return;
		} else {
			__atomic_store_n(&S.lazy, 1, __ATOMIC_RELAXED);
		}
	}
	wake_one();
}

void __sched_unpark(void *p)
{
	unpark(p, 0);
}

/*
 * A lock's release woke t (lot.h, __sched_lot_wake_lock).  It runs next
 * on the waker's worker, as __sched_unpark's do, but an idle worker is
 * woken for it only at the start of a lazy period (S.lazy clear): most
 * often the waker takes the lock again at once, and t, run by another
 * worker, would only contend with it there and park again.  That is how
 * 8 threads on one mutex made both workers pass the lock's line back and
 * forth; a 1:1 libc's losers sleep in the kernel instead.  During the
 * period idle workers sleep at most LAZY_NS at a time (find_runnable),
 * so t waits at most about that long for a worker to steal it, if its
 * waker's worker does not switch first.  The period ends when an idle
 * worker sleeps LAZY_NS and finds no work.
 */
void __sched_unpark_lock(void *p)
{
	unpark(p, 1);
}

void __sched_unpark_io(void *p)
{
	struct task *t = p;
	set_state(t, T_PARKED, T_RUNNABLE);
	struct worker *w = self_worker();
	/* Behind everything already waiting, unless the worker is idle:
	 * a poll can wake hundreds, and on the local queue they would run
	 * ahead of (and push out to the global queue) older tasks. */
	if (w && !__sched_runq_len(&w->rq) && !__atomic_load_n(&S.qhead, __ATOMIC_RELAXED))
		push(t, 1);
	else {
		global_put(t);
		wake_one();
	}
}

void __sched_yield(void)
{
	struct task *t = __sched_self();
	if (!t || !t->worker || t == &t->worker->g0) return;
	struct worker *w = begin_switch(t);
	set_state(t, T_RUNNING, T_RUNNABLE);
	w->requeue = t;
	switch_out(t);
}

_Noreturn void __sched_exit(void *map, size_t size, volatile int *exited)
{
	struct task *t = __sched_self();
	/* pthread_exit has unlinked t from the thread list: the lock goes
	 * now, not after the switch (pal.h).  Held across it, every create
	 * and exit on the other workers queued behind each dying task. */
	__tl_unlock();
	sigwaiter_del(t);
	struct worker *w = begin_switch(t);
	t->exit_map = map;
	t->exit_map_size = size;
	t->exited = exited;
	set_state(t, T_RUNNING, T_DEAD);
	/* Cancelled in a blocking syscall: __syscall_cp left without
	 * __sched_syscall_leave. */
	w->sys_since = 0;
	w->dead = t;
	switch_out(t);
	die("weft: scheduler: a dead task was resumed\n");
}

static int kill_task(struct task *t, int sig);

int __sched_kill(struct task *t, int sig)
{
	struct task *self = __sched_self();
	__sched_nosig_enter(self);
	int r = kill_task(t, sig);
	__sched_nosig_leave(self);
	return r;
}

static int kill_task(struct task *t, int sig)
{
	uint64_t bit;
	if (sig < 0 || sig >= _NSIG) return -EINVAL;
	if (!sig) return 0;	/* existence check: t has not exited */
	bit = 1ULL << (sig - 1);
	/* To itself: the kernel delivers it at once, or keeps it pending
	 * on the worker while the kernel's mask blocks it.  Unless only
	 * t->sigmask blocks it (__pal_sigmask_internal): then it waits on
	 * the task, as below. */
	if (t == __sched_self() && !(t->sigmask & bit))
		return __syscall(SYS_tkill, t->worker->ktid, sig);
	/* In a blocking syscall, with sig deliverable: the kernel thread
	 * under it takes the signal, which interrupts the call.  Under
	 * klock, t cannot leave the syscall state, so the signal reaches
	 * t's worker while t is still on it (a thread in the kernel, or
	 * spinning on klock, takes it before running anything else). */
	spin_lock(&t->klock);
	if (t->in_syscall && !(t->sigmask & bit)) {
		int r = __syscall(SYS_tkill, t->worker->ktid, sig);
		/* A full real-time queue: pending on t, as below (its
		 * syscall goes on, and the leave raises it). */
		if (r != -EAGAIN) {
			spin_unlock(&t->klock);
			return r;
		}
	}
	if (IS_RT(sig)) __atomic_fetch_add(&t->rtcount[sig - 32], 1, __ATOMIC_RELEASE);
	__atomic_fetch_or(&t->sigpending, bit, __ATOMIC_SEQ_CST);
	spin_unlock(&t->klock);
	/* Running (computing) on another worker: kick that worker, whose
	 * handler raises the pending signals of whatever task it is running
	 * then.  If t has left meanwhile, it raises them when it resumes. */
	if (!(t->sigmask & bit) && __atomic_load_n(&t->state, __ATOMIC_RELAXED) == T_RUNNING) {
		struct worker *w = __atomic_load_n(&t->worker, __ATOMIC_RELAXED);
		if (w) __syscall(SYS_tkill, w->ktid, SIGSYNCCALL);
		return 0;
	}
	/* A parked task is woken (its wait returns -EINTR) to take it; for
	 * a signal it blocks, only from sigtimedwait (lot.h's prepare
	 * orders this read against the waiter's check), or a read, which
	 * may be of a signalfd: its readiness counter moves, so that it
	 * tries again, parked or about to park (__sched_sig_lend). */
	if (t->sigmask & bit) {
		volatile int *word = __atomic_load_n(&t->sig_word, __ATOMIC_SEQ_CST);
		if (word) {
			__atomic_fetch_add(word, 1, __ATOMIC_SEQ_CST);
			if (__sched_lot_remove(&t->w, 0)) __sched_unpark(t);
			return 0;
		}
		if (__atomic_load_n(&t->w.addr, __ATOMIC_SEQ_CST) != &t->sigpending)
			return 0;
	}
	if (__sched_lot_remove(&t->w, -EINTR)) __sched_unpark(t);
	return 0;
}

uint64_t __sched_sig_lend(struct task *t)
{
	uint64_t p = __atomic_load_n(&t->sigpending, __ATOMIC_RELAXED) &
		t->kmask & ~INTERNAL_SIGS, lent = 0;
	while (p) {
		uint64_t bit = p & -p;
		int sig = __builtin_ctzll(bit) + 1;
		p &= ~bit;
		if (__sched_sig_take(t, bit)) {
			if (__syscall(SYS_tkill, t->worker->ktid, sig))
				__sched_defer(t, sig);
			else
				lent |= bit;
		}
	}
	return lent;
}

void __sched_sig_reclaim(struct task *t, uint64_t lent)
{
	static const struct timespec zero;
	siginfo_t si;
	int sig;
	while (lent && (sig = __syscall(SYS_rt_sigtimedwait, &lent, &si, &zero,
	    _NSIG/8)) > 0) {
		__sched_defer(t, sig);
		lent &= ~(1ULL << (sig - 1));
	}
}

void __sched_syscall_enter(struct task *t)
{
	/* What is pending and deliverable is raised first (by the leave,
	 * outside the critical section), then the state is set under klock
	 * with nothing pending. */
	for (;;) {
		__sched_nosig_enter(t);
		spin_lock(&t->klock);
		if (!(__atomic_load_n(&t->sigpending, __ATOMIC_RELAXED) & ~t->sigmask))
			break;
		spin_unlock(&t->klock);
		__sched_nosig_leave(t);
	}
	t->in_syscall = 1;
	spin_unlock(&t->klock);
	t->worker->sys_since = __sched_now();
	__sched_nosig_leave(t);
}

void __sched_syscall_leave(struct task *t)
{
	__sched_nosig_enter(t);
	t->worker->sys_since = 0;
	spin_lock(&t->klock);
	t->in_syscall = 0;
	spin_unlock(&t->klock);
	__sched_nosig_leave(t);
}

static int sigwait_task(struct task *t, uint64_t set, uint64_t deadline);

int __sched_sigwait(struct task *t, uint64_t set, uint64_t deadline)
{
	__sched_nosig_enter(t);
	int r = sigwait_task(t, set, deadline);
	__sched_nosig_leave(t);
	return r;
}

static int sigwait_task(struct task *t, uint64_t set, uint64_t deadline)
{
	struct __sched_bucket *b = __sched_lot_lock(&t->sigpending);
	/* In the critical section no handler runs on t: one that ran
	 * since the caller last looked is seen here (sigran_ends). */
	if (t->sigran & t->sigran_ends) {
		__sched_lot_unlock(b);
		return -EINTR;
	}
	__sched_lot_prepare(&t->w, &t->sigpending);
	uint64_t p = __atomic_load_n(&t->sigpending, __ATOMIC_SEQ_CST);
	if (p & (set | ~t->sigmask)) {
		__sched_lot_unlock(b);
		if (p & set) return 0;
		__sched_deliver(t);
		return -EINTR;
	}
	__sched_lot_enqueue(b, &t->w, &t->sigpending, t);
	if (deadline) __sched_timer_arm(t, deadline);
	__sched_park(b);
	if (deadline) __sched_timer_disarm(t);
	if (__atomic_load_n(&t->sigpending, __ATOMIC_ACQUIRE) & set) return 0;
	return t->w.result;
}

/* ---- Spawn and start ---------------------------------------------------- */

static void task_entry(void *arg)
{
	struct task *t = arg;
	resumed(t);
	t->start(t->arg);
	die("weft: scheduler: a task's start function returned\n");
}

int __sched_spawn(struct __pthread *td, int (*start)(void *), void *arg,
	void *stack)
{
	int id = id_alloc();
	if (id < 0) return id;
	struct task *t = (void *)(((uintptr_t)stack - sizeof *t) & -64);
	__builtin_memset(t, 0, sizeof *t);
	t->tcb = td;
	t->tp = TP_ADJ(td);
	t->id = id;
	t->heap_idx = -1;
	t->start = start;
	t->arg = arg;
	/* POSIX: a new thread starts with its creator's mask. */
	struct task *self = __sched_self();
	t->sigmask = self ? self->sigmask : 0;
	t->kmask = self ? self->kmask : 0;
	t->sp = __sched_make(t, task_entry);
	t->state = T_RUNNABLE;
	td->pal = t;
	td->tid = id;
	return id;
}

void __sched_run(struct task *t)
{
	push(t, 1);
}

static int nworkers(void)
{
	unsigned long set[128 / sizeof(long)] = { 0 };
	int n = 0;
	const char *s = getenv("WEFT_WORKERS");
	if (s) {
		char *end;
		long v = strtol(s, &end, 10);
		if (*s && !*end && v >= 1 && v <= 1024) return v;
		static const char msg[] = "weft: ignoring WEFT_WORKERS: not a number from 1 to 1024\n";
		__syscall(SYS_write, 2, msg, sizeof msg - 1);
	}
	long r = __syscall(SYS_sched_getaffinity, 0, sizeof set, set);
	for (long i = 0; i < r / (long)sizeof(long); i++)
		n += __builtin_popcountl(set[i]);
	return n > 0 ? n : 1;
}

static unsigned long hwcap2(void)
{
	for (size_t *a = libc.auxv; a && a[0]; a += 2)
		if (a[0] == 26) return a[1];	/* AT_HWCAP2 */
	return 0;
}

/* A worker's TCB and g0 stack in one mapping: stack below, TLS at top. */
static int worker_init(struct worker *w, int idx, int id)
{
	size_t tls = (libc.tls_size + 4095) & -4096;
	unsigned char *map = __mmap(0, ALT_STACK + WORKER_STACK + tls,
		PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANON, -1, 0);
	if (map == MAP_FAILED) return -ENOMEM;
	w->alt = map;
	map += ALT_STACK;
	struct pthread *td = __copy_tls(map + WORKER_STACK + tls - libc.tls_size);
	struct pthread *self = __pthread_self();
	td->self = td;
	td->tsd = (void **)__pthread_tsd_main;
	td->locale = &libc.global_locale;
	td->robust_list.head = &td->robust_list.head;
	td->canary = self->canary;
	td->sysinfo = self->sysinfo;
	td->detach_state = DT_JOINABLE;
	td->next = td->prev = td;
	td->pal = &w->g0;
	if ((td->tid = id ? id : id_alloc()) < 0) return -EAGAIN;
	w->idx = idx;
	w->rng = idx * 2654435761u + 1;
	w->g0_tp = TP_ADJ(td);
	w->g0.tcb = td;
	w->g0.tp = w->g0_tp;
	w->g0.worker = w;
	w->g0.heap_idx = -1;
	w->g0.sp = map + WORKER_STACK;	/* top of the g0 stack, for now */
	return 0;
}

int __sched_start(void)
{
	struct pthread *self = __pthread_self();
	if (S.started) return 0;
	int n = nworkers();

	S.nextid = S.firstid = SCHED_ID_BASE;
	S.cap = n + SPARE_MAX;
	S.w = calloc(S.cap, sizeof *S.w);
	if (!S.w) return -EAGAIN;
	S.n = S.nprocs = n;
	__sched_cpu_init(hwcap2());
	for (int i = 0; i < n; i++)
		if (worker_init(&S.w[i], i, 0)) return -EAGAIN;
	/* Spare workers are mapped by the monitor, which cannot malloc:
	 * their ids are taken now. */
	for (int i = n; i < S.cap; i++)
		if ((S.w[i].ktid = -id_alloc()) >= 0) return -EAGAIN;
	if (worker_init(&S.mon, -1, 0)) return -EAGAIN;
	install_sigsync();
	install_overflow_report(&S.w[0]);

	/* The caller becomes the main task, running on worker 0. */
	struct worker *w0 = &S.w[0];
	main_task.tcb = self;
	main_task.tp = TP_ADJ(self);
	main_task.id = self->tid;
	main_task.heap_idx = -1;
	main_task.state = T_RUNNING;
	main_task.worker = w0;
	w0->cur = &main_task;
	w0->ktid = __syscall(SYS_gettid);
	__syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0, &main_task.sigmask, _NSIG/8);
	w0->mask = main_task.kmask = main_task.sigmask;
	/* An alternate stack the program set up before is the main task's. */
	if (!__syscall(SYS_sigaltstack, 0, &main_task.alt) &&
	    main_task.alt.ss_size && !(main_task.alt.ss_flags & SS_DISABLE)) {
		main_task.alt.ss_flags &= SS_AUTODISARM;
		w0->kalt = main_task.alt;
		w0->kalt_mode = ALT_TASK;
	} else {
		main_task.alt = (stack_t){ 0 };
		w0->kalt_mode = ALT_UNKNOWN;
		alt_switch(w0, &main_task);
	}
	w0->g0.sp = __sched_make(w0->g0.sp, g0_entry);
	self->pal = &main_task;
	a_store(&S.started, 1);

	for (int i = 1; i < n; i++) {
		struct worker *w = &S.w[i];
		if (__clone(worker_main, w->g0.sp, CLONE_FLAGS, w, &w->ktid, w->g0_tp, 0) < 0)
			die("weft: cannot start a worker thread\n");
	}
	if (__clone(monitor_main, S.mon.g0.sp, CLONE_FLAGS, &S.mon, &S.mon.ktid,
	    S.mon.g0_tp, 0) < 0)
		die("weft: cannot start the monitor thread\n");
	return 0;
}

/* ---- The monitor ----------------------------------------------------------- */

/* A thread of its own (not a worker; all signals but SIGSYNCCALL blocked)
 * that looks at the workers every MON_MIN_NS, backing off to MON_MAX_NS
 * while nothing is stuck.  A worker is stuck when its task has been in a
 * blocking syscall (one the netpoller cannot take: regular files, wait4,
 * flock, ...) for SYSCALL_NS, seen at two looks in a row; or has run one
 * task for SLICE_NS while its thread sleeps in the kernel at three looks
 * in a row (a raw blocking syscall the backend never saw); or has kept
 * one task for PREEMPT_GIVEUP_NS despite preemption requests while its
 * thread used at least half of that in CPU time (a thread the kernel did
 * not run, on an overloaded machine, is not stuck: another worker would
 * not help).  A task that has run SLICE_NS without a switch while work
 * waits is preempted instead (preempt(), at each look until it yields).
 * If some worker is stuck, none sleeps and there is work (tasks queued,
 * a wait past its deadline, or events waiting in the netpoller: tasks
 * that only a worker's poll would wake), the monitor starts a spare
 * worker to run them: the stuck worker's queue is then stolen as any
 * other's.  At most SPARE_MAX spares are ever started; once started, a
 * spare is a worker like the others (it sleeps when there is nothing to
 * do). */
#define MON_MIN_NS 1000000ULL
#define MON_MAX_NS 20000000ULL
#define SYSCALL_NS 1000000ULL
#define SLICE_NS 10000000ULL
#define PREEMPT_GIVEUP_NS 50000000ULL

static int start_spare(void)
{
	int n = S.n;
	if (n >= S.cap) return 0;
	struct worker *w = &S.w[n];
	if (worker_init(w, n, -w->ktid)) return 0;
	w->ktid = 0;
	if (__clone(worker_main, w->g0.sp, CLONE_FLAGS, w, &w->ktid, w->g0_tp, 0) < 0)
		return 0;
	__atomic_store_n(&S.n, n + 1, __ATOMIC_RELEASE);
	return 1;
}

/* CPU time used by kernel thread tid (clock_getcpuclockid(3)'s thread
 * clock: CPUCLOCK_SCHED | CPUCLOCK_PERTHREAD). */
static uint64_t thread_cpu_ns(int tid)
{
	struct timespec ts;
	if (__clock_gettime(((clockid_t)~tid << 3) | 6, &ts)) return 0;
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Bool: kernel thread tid of this process is asleep in the kernel,
 * interruptibly (state S in /proc/self/task/TID/stat, proc(5)).  A
 * worker that runs one task without a switch and sleeps there is in a
 * blocking syscall the backend never saw (syscall(2), sendfile, splice).
 * Not D: a page fault or mmap_lock contention (thread creation) sleeps
 * uninterruptibly for moments, and a spare would not help. */
static int thread_asleep(int tid)
{
	char path[48], buf[256], *p = path + sizeof path - 6;
	__builtin_memcpy(p, "/stat", 6);
	do *--p = '0' + tid % 10; while (tid /= 10);
	p -= 16;
	__builtin_memcpy(p, "/proc/self/task/", 16);
	int fd = __syscall(SYS_open, p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return 0;
	long n = __syscall(SYS_read, fd, buf, sizeof buf - 1);
	__syscall(SYS_close, fd);
	if (n <= 0) return 0;
	buf[n] = 0;
	/* "pid (comm) S ...": the state follows the last ')'. */
	char *s = 0;
	for (char *c = buf; *c; c++)
		if (*c == ')') s = c;
	return s && s[1] == ' ' && s[2] == 'S';
}

/* ---- SIGEV_THREAD timers (scheduler.h) ---------------------------------- */

static struct {
	int lock;
	struct __sched_timer *head;
	uintptr_t cookie;		/* the last one given out */
} timers;

int __sched_timer_attach(struct __sched_timer *r, struct __pthread *td,
	union sigval *value)
{
	spin_lock(&timers.lock);
	r->td = td;
	r->t = td->pal;
	r->cookie = ++timers.cookie;
	r->next = timers.head;
	timers.head = r;
	spin_unlock(&timers.lock);
	value->sival_ptr = (void *)r->cookie;
	return S.mon.ktid;
}

void __sched_timer_detach(struct __sched_timer *r)
{
	spin_lock(&timers.lock);
	for (struct __sched_timer **p = &timers.head; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	spin_unlock(&timers.lock);
}

void __sched_timer_kill(struct __pthread *td)
{
	struct task *self = __sched_self();
	__sched_nosig_enter(self);
	spin_lock(&timers.lock);
	struct __sched_timer *r = timers.head;
	while (r && r->td != td) r = r->next;
	if (r) kill_task(r->t, SIGTIMER);
	spin_unlock(&timers.lock);
	__sched_nosig_leave(self);
}

/* On the monitor: a SIGTIMER from a kernel timer, for the task attached
 * with its cookie, if that one is still attached.  Merged into one not
 * yet taken (timer_sig set), as the kernel merges a timer's signals. */
static void timer_forward(const siginfo_t *si)
{
	if (si->si_code != SI_TIMER) return;
	uintptr_t c = (uintptr_t)si->si_value.sival_ptr;
	spin_lock(&timers.lock);
	struct __sched_timer *r = timers.head;
	while (r && r->cookie != c) r = r->next;
	if (r && !__atomic_exchange_n(&r->t->timer_sig, 1, __ATOMIC_ACQ_REL))
		kill_task(r->t, SIGTIMER);
	spin_unlock(&timers.lock);
}

/* The monitor's sleep of ns: in sigtimedwait for SIGTIMER (blocked on
 * the monitor, like musl's other internal ones but SIGSYNCCALL),
 * forwarding each one that comes meanwhile. */
static void monitor_sleep(uint64_t ns)
{
	static const uint64_t timer_set = 1ULL << (SIGTIMER - 1);
	const uint64_t sync = 1ULL << (SIGSYNCCALL - 1), keep = ~sync;
	uint64_t until = __sched_now() + ns;
	/* Asleep, the monitor also takes the program's signals as the main
	 * task would, as an idle worker does: a process-directed signal
	 * then reaches the main task (pal/epoll/signal.c) even when every
	 * worker is held by a task that blocks it, in a blocking syscall. */
	uint64_t m = ((__atomic_load_n(&main_task.kmask, __ATOMIC_RELAXED) &
		~sigwaiters_open()) | INTERNAL_SIGS) & keep;
	S.mon.g0_idle = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__syscall(SYS_rt_sigprocmask, SIG_SETMASK, &m, 0, _NSIG/8);
	for (;;) {
		uint64_t now = __sched_now();
		if (now >= until) break;
		struct timespec ts = { (until - now) / 1000000000, (until - now) % 1000000000 };
		siginfo_t si;
		int r = __syscall(SYS_rt_sigtimedwait, &timer_set, &si, &ts, _NSIG/8);
		if (r == SIGTIMER) {
			/* Holding locks: a handler waits (scheduler.h). */
			__sched_nosig_enter(&S.mon.g0);
			timer_forward(&si);
			__sched_nosig_leave(&S.mon.g0);
		} else if (r != -EINTR) break;	/* -EAGAIN: slept it all */
	}
	__syscall(SYS_rt_sigprocmask, SIG_SETMASK, &keep, 0, _NSIG/8);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	S.mon.g0_idle = 0;
}

static int monitor_main(void *arg)
{
	uint64_t interval = MON_MIN_NS;
	uint64_t keep = ~(1ULL << (SIGSYNCCALL - 1));
	(void)arg;
	__syscall(SYS_rt_sigprocmask, SIG_SETMASK, &keep, 0, _NSIG/8);
	for (;;) {
		monitor_sleep(interval);
		__sched_stack_trim();
		int n = __atomic_load_n(&S.n, __ATOMIC_ACQUIRE), stuck = 0, idle = 0;
		int preempting = 0;
		uint64_t now = __sched_now();
		for (int i = 0; i < n; i++) {
			struct worker *w = &S.w[i];
			uint64_t since = w->sys_since;
			unsigned sw = w->nswitch;
			if (w->sleeping) {
				idle++;
				continue;
			}
			if (since && now - since >= SYSCALL_NS && since == w->mon_sys) {
				stuck++;
				continue;
			}
			w->mon_sys = since;
			if (sw != w->mon_sw || !w->cur) {
				w->mon_sw = sw;
				w->mon_since = now;
				w->mon_cpu = thread_cpu_ns(w->ktid);
				w->mon_asleep = 0;
				w->mon_asked = 0;
			} else if (now - w->mon_since >= SLICE_NS) {
				/* Asleep at three looks in a row: in a raw
				 * syscall. */
				w->mon_asleep = thread_asleep(w->ktid) ? w->mon_asleep + 1 : 0;
				if (w->mon_asleep >= 3) {
					stuck++;
				} else if (w->mon_asleep) {
					continue;
				} else if (work_visible(RN_ALL) || timer_due(now) || __np_ready()) {
					/* Computing while others wait: preempt
					 * it, asking at each look, since a
					 * request that comes in a critical
					 * section (most of pthread_create) is
					 * dropped.  Asked for PREEMPT_GIVEUP_NS
					 * and still on it with the CPU: a spare
					 * runs the rest. */
					if (!w->mon_asked) w->mon_asked = now;
					if (now - w->mon_asked < PREEMPT_GIVEUP_NS ||
					    thread_cpu_ns(w->ktid) - w->mon_cpu <
					    (now - w->mon_since) / 2) {
						__atomic_store_n(&w->preempt, sw + 1, __ATOMIC_RELEASE);
						__syscall(SYS_tkill, w->ktid, SIGSYNCCALL);
						preempting++;
					} else {
						stuck++;
					}
				}
			}
		}
		if (!stuck) {
			if (preempting) interval = MON_MIN_NS;
			else if (interval < MON_MAX_NS) interval *= 2;
			continue;
		}
		interval = MON_MIN_NS;
		if (!work_visible(RN_ALL) && !timer_due(now) && !__np_ready())
			continue;
		if (idle) wake_one();
		else start_spare();
	}
	return 0;
}

/* ---- Whole-process operations -------------------------------------------- */

/* __synccall: the caller signals every other worker's kernel thread; each
 * handler checks in, waits for "go", runs the function, checks in again
 * and waits for "release", as musl's protocol does, but with kernel
 * futexes only: a handler runs on whatever task its worker was running,
 * and must not park it. */
static struct {
	void (*func)(void *);
	void *ctx;
	volatile int active, arrived, go, done, release, left;
} SC;

static void kwait_until(volatile int *p, int want)
{
	int v;
	while ((v = __atomic_load_n(p, __ATOMIC_ACQUIRE)) < want)
		__syscall(SYS_futex, p, FUTEX_WAIT|FUTEX_PRIVATE, v, 0);
}

static void kbump(volatile int *p)
{
	__atomic_fetch_add(p, 1, __ATOMIC_RELEASE);
	__syscall(SYS_futex, p, FUTEX_WAKE|FUTEX_PRIVATE, INT_MAX);
}

/* Preemption: the monitor saw t run SLICE_NS without a switch while
 * other work waits, and asked (w->preempt, then SIGSYNCCALL).  The
 * handler does not switch tasks itself: it makes t "call"
 * __sched_async_preempt (context.h) where it was interrupted, and
 * returns, so the kernel's signal bookkeeping (mask, frame) ends as for
 * any handler; the landing pad saves t's registers and yields from an
 * ordinary call.  Go's asynchronous preemption (runtime/preempt.go,
 * signal_unix.go's doSigPreempt), with the trampoline's safe points
 * (pal/epoll/signal.c) standing for Go's: not in a switch, not in a
 * blocking syscall (the handler would end it), not in a program handler,
 * and not while t's own mask blocks SIGSYNCCALL (musl's __block_all_sigs
 * windows); in a scheduler critical section, at its end (t->preempt,
 * __sched_nosig_leave), as Go's preemption waits for a safe point.  A
 * request refused otherwise is dropped; the monitor asks again at its
 * next look. */
static void preempt(struct task *t, ucontext_t *uc)
{
	struct worker *w = t->worker;
	unsigned p = __atomic_exchange_n(&w->preempt, 0, __ATOMIC_ACQUIRE);
	if (!p || p - 1 != w->nswitch || w->cur != t) return;
	/* In a critical section (most of pthread_create: the stack pool,
	 * the run queue): at its end (__sched_nosig_leave). */
	if (t->nosig && !w->switching) {
		t->preempt = 1;
		return;
	}
	/* The kernel's mask where t was interrupted is not the one the
	 * worker believes it has: t is in a handler's tail (the trampoline
	 * has recorded the mask its sigreturn will set, but not yet made
	 * it).  Yielding there would leave the next task on this worker
	 * with the handler's mask in the kernel and the restored one in
	 * the cache, and signals blocked on that worker for good. */
	uint64_t m;
	__builtin_memcpy(&m, &uc->uc_sigmask, sizeof m);
	if (m != w->mask || __sched_hold_handlers(t) || t->in_syscall ||
	    t->in_handler || (t->sigmask & 1ULL << (SIGSYNCCALL - 1)))
		return;
	greg_t *g = uc->uc_mcontext.gregs;
	uint64_t sp = g[REG_RSP] - SCHED_PREEMPT_SKIP;
	*(uint64_t *)sp = g[REG_RIP];
	g[REG_RSP] = sp;
	g[REG_RIP] = (uintptr_t)__sched_async_preempt;
}

void __sched_preempt_yield(void)
{
	struct task *t = __sched_self();
	if (!t || !t->id || !t->worker || __sched_hold_handlers(t)) return;
	struct worker *w = t->worker;
	t->preempt = 0;
	/* Through g0, which collects expired timers, ready fds and the
	 * global queue, where what the monitor saw waiting may be; and t
	 * behind everything runnable, on the global queue, as Go puts a
	 * preempted goroutine. */
	w->tick |= 63;
	w->preempted = 1;
	__sched_yield();
}

/* The end of the critical section a preemption request found t in
 * (scheduler.h): yield now, if t may (as the landing pad would). */
void __sched_preempt_point(struct task *t)
{
	t->preempt = 0;
	if (!t->id || !t->worker || t->in_handler || t->in_syscall ||
	    __sched_hold_handlers(t))
		return;
	__sched_preempt_yield();
}

/* SIGSYNCCALL is the scheduler's under M:N (musl's __synccall protocol
 * is replaced): a __synccall, a kick from __sched_kill, or the monitor's
 * preemption request. */
static void sigsync_handler(int sig, siginfo_t *si, void *ctx)
{
	int old_errno = errno;
	struct task *t = __sched_self();
	if (t && t->id && (__atomic_load_n(&t->sigpending, __ATOMIC_RELAXED) & ~t->sigmask))
		__sched_deliver(t);
	else if (t && t->id && t->worker && __atomic_load_n(&t->worker->preempt, __ATOMIC_RELAXED))
		preempt(t, ctx);
	if (!__atomic_load_n(&SC.active, __ATOMIC_ACQUIRE)) {
		errno = old_errno;
		return;
	}
	kbump(&SC.arrived);
	kwait_until(&SC.go, 1);
	SC.func(SC.ctx);
	kbump(&SC.done);
	kwait_until(&SC.release, 1);
	kbump(&SC.left);
	errno = old_errno;
}

void __sched_synccall(void (*func)(void *), void *ctx)
{
	struct worker *me = self_worker();
	int n = 0;

	SC.func = func, SC.ctx = ctx;
	SC.arrived = SC.go = SC.done = SC.release = SC.left = 0;
	__atomic_store_n(&SC.active, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < S.n; i++) {
		struct worker *w = &S.w[i];
		int r;
		if (w == me) continue;
		while ((r = __syscall(SYS_tkill, w->ktid, SIGSYNCCALL)) == -EAGAIN);
		if (r) die("weft: __synccall: cannot signal a worker thread\n");
		n++;
	}
	if (S.mon.ktid > 0) {
		int r;
		while ((r = __syscall(SYS_tkill, S.mon.ktid, SIGSYNCCALL)) == -EAGAIN);
		if (r) die("weft: __synccall: cannot signal the monitor thread\n");
		n++;
	}
	kwait_until(&SC.arrived, n);
	kbump(&SC.go);
	func(ctx);
	kwait_until(&SC.done, n);
	kbump(&SC.release);
	kwait_until(&SC.left, n);
	__atomic_store_n(&SC.active, 0, __ATOMIC_RELEASE);
}

static void install_sigsync(void)
{
	/* Nothing may interrupt the handler (as musl's synccall's). */
	struct sigaction sa = { .sa_sigaction = sigsync_handler,
		.sa_flags = SA_RESTART | SA_SIGINFO };
	memset(&sa.sa_mask, -1, sizeof sa.sa_mask);
	__libc_sigaction(SIGSYNCCALL, &sa, 0);
}

/* In a fork child, the worker that the forking task's record points at:
 * the child's own thread (see __sched_fork_child). */
static struct worker fork_worker;

void __sched_fork_child(void)
{
	struct pthread *self = __pthread_self();
	struct task *t = self->pal;
	/* fork(2): the child's set of pending signals is empty. */
	if (t) {
		__atomic_store_n(&t->sigpending, 0, __ATOMIC_RELAXED);
		memset(t->rtcount, 0, sizeof t->rtcount);
		t->timer_sig = 0;
		/* Frames on the child's stack still hold t (a trampoline
		 * whose handler forked, returning in the child), and t
		 * points at the parent's worker, whose ktid names a thread
		 * of the parent: a re-raise or kick through it signalled the
		 * parent, which in libc-test's raise-race handled its fork
		 * signal thousands of times and forked as often.  It is the
		 * child's own thread now (a worker record of its own, with
		 * no cached mask). */
		memset(&fork_worker, 0, sizeof fork_worker);
		fork_worker.ktid = __syscall(SYS_gettid);
		fork_worker.mask = ~0ULL;
		t->worker = &fork_worker;
	}
	/* The child's thread has the forking worker's alternate stack: the
	 * task's own, or the worker's, which is no stack of the child's. */
	if (t && t->id && !t->alt.ss_size) {
		stack_t off = { .ss_flags = SS_DISABLE };
		__syscall(SYS_sigaltstack, &off, 0);
	}
	memset(&S, 0, sizeof S);
	/* The parent's timer helpers are not in the child (nor are its
	 * timers: timer_create(2)). */
	memset(&timers, 0, sizeof timers);
	memset(&main_task, 0, sizeof main_task);
	__sched_lot_reset();
	__np_fork_child();
	self->pal = 0;
}

/* ---- Stack overflow ------------------------------------------------------ */

/* A task that runs into its guard page faults there; with SIGSEGV at its
 * default action, this handler (on the worker's signal stack, since the
 * task's stack is exhausted) names the task and returns with the default
 * action restored (SA_RESETHAND), so the fault repeats and the process
 * dies of SIGSEGV as it would have: never silent corruption. */
static char *fmt_num(char *p, unsigned long v, int base)
{
	char tmp[24];
	int n = 0;
	do tmp[n++] = "0123456789abcdef"[v % base]; while (v /= base);
	while (n) *p++ = tmp[--n];
	return p;
}

static void overflow_handler(int sig, siginfo_t *si, void *ctx)
{
	struct task *t = __sched_self();
	uintptr_t a = (uintptr_t)si->si_addr;
	if (!t || !t->id) return;
	struct pthread *td = t->tcb;
	uintptr_t lo = (uintptr_t)td->map_base;
	if (!lo || !td->guard_size || a < lo || a >= lo + td->guard_size) return;
	char msg[160], *p = msg;
	static const char a1[] = "weft: task stack overflow: task ", a2[] = " hit its guard page at 0x", a3[] = "\n";
	memcpy(p, a1, sizeof a1 - 1), p += sizeof a1 - 1;
	p = fmt_num(p, t->id, 10);
	memcpy(p, a2, sizeof a2 - 1), p += sizeof a2 - 1;
	p = fmt_num(p, a, 16);
	memcpy(p, a3, 1), p++;
	__syscall(SYS_write, 2, msg, p - msg);
}

static void install_overflow_report(struct worker *w0)
{
	struct sigaction sa, old;
	/* Worker 0's own signal stack is set by __sched_start, unless the
	 * program set one up itself (the main task's then). */
	if (__libc_sigaction(SIGSEGV, 0, &old) || old.sa_handler != SIG_DFL) return;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = overflow_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
	__libc_sigaction(SIGSEGV, &sa, 0);
}
