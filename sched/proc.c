/*
 * proc.c - weft's M:N scheduler: tasks on a few worker OS threads.
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
 *     locks) and clears timer_busy before it unparks the task.  Disarm
 *     waits for timer_busy to clear, so an expiry never touches a waiter
 *     that has been reused for the next wait.
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
 * timeout; __sched_wake_one wakes that one with __np_kick.
 *
 * A backend with I/O queues per worker (pal/uring's io_urings) gets a
 * call at each round of find_runnable (scheduler.h, __sched_io_hooks):
 * what the worker's tasks queued since its last round is submitted
 * there at once, and what completed is collected.
 */

/*
 * The scheduler's files, one per concern (as Go's runtime):
 *   proc.c      this essay; ids, run queues, the worker loop, park,
 *               unpark, yield, exit, spawn and start
 *   time.c      the timer heap; SIGEV_THREAD timers' signals
 *   signal.c    signals on tasks: masks, pending sets, delivery, kill,
 *               sigwait, handlers that reach g0
 *   altstack.c  sigaltstack per task
 *   preempt.c   asynchronous preemption
 *   monitor.c   the monitor: blocking syscalls, spares, preemption
 *               requests, stuck workers
 *   process.c   whole-process operations: __synccall, fork, the
 *               stack-overflow report
 *   runtime.h   what they share; scheduler.h is the interface to pal/
 *   netpoll.c, lot.c, runq.c, stack.c: the netpoller, the parking lot,
 *               the run queues, the stack pool (each with its header)
 */
#define _GNU_SOURCE
#include "runtime.h"

struct sched S;
struct task main_task;

/* The gdb extension's table (gdbinfo.c): this reference links it in. */
hidden extern const char __sched_gdb[];
static const void *const gdbinfo __attribute__((used)) = __sched_gdb;

/* ---- Small helpers ------------------------------------------------------ */

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


/* ---- Stacks --------------------------------------------------------------- */

/* Creates take from, and joins and bury() give back to, the worker they
 * run on, so a spawn tree's mappings mostly stay on one worker without
 * the pool's lock (stack.h, the cache).  The cache is used only in
 * critical sections, by what runs on the worker, one context at a time. */
int __sched_stack_take(struct __sched_stack *s, size_t size, size_t guard,
	size_t zero)
{
	struct worker *w = self_worker();
	return __sched_stack_cache_get(w ? &w->stacks : 0, s, size, guard, zero);
}

void __sched_stack_give(struct __sched_stack *s)
{
	struct worker *w = self_worker();
	__sched_stack_cache_put(w ? &w->stacks : 0, s);
}

/* ---- Run queues and idle workers ---------------------------------------- */

static void global_put(struct task *t)
{
	t->next = 0;
	spin_lock(&S.qlock);
	if (S.qtail) S.qtail->next = t;
	else S.qhead = t;
	S.qtail = t;
	S.qlen++;
	spin_unlock(&S.qlock);
}

static struct task *global_get(void)
{
	struct task *t;
	if (!__atomic_load_n(&S.qhead, __ATOMIC_RELAXED)) return 0;
	spin_lock(&S.qlock);
	if ((t = S.qhead)) {
		S.qlen--;
		if (!(S.qhead = t->next)) S.qtail = 0;
	}
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
		S.qlen--;
		for (int i = 0; n && i < GLOBAL_BATCH; i++) {
			struct task *m = n->next;
			if (__sched_runq_put(&w->rq, n)) break;
			S.qlen--;
			n = m;
		}
		if (!(S.qhead = n)) S.qtail = 0;
	}
	spin_unlock(&S.qlock);
	return t;
}

/* Wake v if it sleeps (CAS of v->sleeping to 0, then its futex or the
 * netpoller's kick); bool: it did.  Not a spare that is retiring. */
static int wake_worker(struct worker *v)
{
	int s = __atomic_load_n(&v->sleeping, __ATOMIC_RELAXED);
	if (!s || s >= SLEEP_RETIRE || !__atomic_compare_exchange_n(&v->sleeping, &s, 0, 0,
	    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		return 0;
	if (s == SLEEP_POLL) __np_kick();
	else __syscall(SYS_futex, &v->sleeping, FUTEX_WAKE|FUTEX_PRIVATE, 1);
	return 1;
}

/* __sched_wake_one for a caller whose push was a seq_cst exchange (a
 * runnext), already the fence the idle protocol needs. */
static void wake_one_fenced(void)
{
	struct worker *me = self_worker();
	/* A handler on this worker's sleeping g0 queued it here: the
	 * interrupted sleep must end (the kernel would restart it). */
	if (me && me->g0_idle && wake_worker(me)) return;
	/* Start after the caller's own worker: no shared counter to write
	 * (every push comes here, from every worker). */
	int n = __atomic_load_n(&S.n, __ATOMIC_ACQUIRE), np = S.nprocs;
	int j = me && me->idx + 1 < np ? me->idx + 1 : 0;
	for (int i = 0; i < np; i++) {
		/* (No %: a division per worker, at every spawn and wake.) */
		struct worker *v = &S.w[j];
		if (++j == np) j = 0;
		/* Not the caller's own (the netpoller's worker, waking tasks). */
		if (v != me && wake_worker(v)) return;
	}
	/* Spares only when no other worker sleeps: an idle one then stays
	 * asleep, and retires (monitor.c). */
	for (int i = np; i < n; i++)
		if (&S.w[i] != me && wake_worker(&S.w[i])) return;
}

void __sched_wake_one(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wake_one_fenced();
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
	if (wake) __sched_wake_one();
}

static void cont_push(struct worker *w, struct task *t);


static void push(struct task *t, int wake)
{
	push_on(self_worker(), t, wake);
}

/* ---- The worker loop (g0) ----------------------------------------------- */

static void unpark_joiner(void *p);

static void bury(struct task *t)
{
	/* A detached thread's mapping goes back to the stack pool (stack.h).
	 * t and the TCB live in it, and once it is pooled another worker
	 * may reuse it at once: read them first. */
	struct __sched_stack st = { .map = t->exit_map,
		.map_size = t->exit_map_size };
	volatile int *exited = t->exited;
	if (st.map) st.guard = t->tcb->guard_size;
	vg_stack_deregister(t->vg_stack);
	vg_stack_deregister(t->vg_alt);
	id_free(t->id);
	__sched_stack_give(&st);
	/* Off its stack for good: a joiner may free it now.  The store
	 * is the last touch of t's memory; the wake only hashes the
	 * address. */
	if (exited) {
		/* Release: the joiner reads t's result after it.  The
		 * wake's fence orders it before its look for waiters. */
		__atomic_store_n(exited, DT_EXITED, __ATOMIC_RELEASE);
		__sched_lot_wake(exited, 1, unpark_joiner);
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
	/* Signals that reached it after its backend handed on what was
	 * pending (pal/epoll/signal.c, __pal_sig_exit: a router that
	 * chose it just before it blocked them) were the process's:
	 * sent to the process again, the kernel gives them to a worker
	 * whose mask lets them in, or keeps them until one does.  (Raised
	 * on g0, they could land on the next task here, which may block
	 * them for good.)  Not musl's internal ones (timer, cancel,
	 * synccall). */
	uint64_t left = __atomic_load_n(&t->sigpending, __ATOMIC_RELAXED) &
		~INTERNAL_SIGS;
	for (int sig; left; left &= left - 1) {
		sig = __builtin_ctzll(left) + 1;
		uint32_t n = IS_RT(sig) ? t->rtcount[sig - 32] : 1;
		while (n--) __syscall(SYS_kill, __syscall(SYS_getpid), sig);
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

/* Work another worker could take now: queued globally or locally.
 * runnext: also count tasks waiting in a worker's runnext (RN_ALL), or
 * those a lock's release did not wake (RN_NOT_LOCK: __sched_unpark_lock). */
int __sched_work_visible(int runnext)
{
	if (__atomic_load_n(&S.qhead, __ATOMIC_RELAXED)) return 1;
	int n = __atomic_load_n(&S.n, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++) {
		if (__sched_runq_len(&S.w[i].rq) ||
		    __atomic_load_n(&S.w[i].ncont, __ATOMIC_RELAXED)) return 1;
		struct task *t = runnext ?
			__atomic_load_n(&S.w[i].runnext, __ATOMIC_RELAXED) : 0;
		if (t && (runnext == RN_ALL || !rn_is_lock(t)))
			return 1;
	}
	return 0;
}

/*
 * Tasks displaced from runnext, in a deque per worker (Cilk's): a newer
 * one took their place, a new task (__sched_run) or a wake (unpark).
 * They were next in line, so they stay ahead of the FIFO run queue, and
 * the newest goes first: in a fork-join program that is the task nearest
 * the leaves, so the tree runs depth first and the tasks alive at once
 * stay few (one displaced to the run queue's tail would only run after
 * older ones had each started another subtree).  A thief takes the
 * oldest, the biggest piece of work left.
 * Order of a switch (switch_out): runnext, the newest here, the run
 * queue; find_runnable, every 32nd or so and when idle, looks at the run
 * queue first.  So that none waits forever, the monitor moves the oldest
 * to the global queue once it has been the oldest for SLICE_NS
 * (__sched_cont_age_out).  That is by age, not by count: a tick-based
 * turn (every 1024th pick) started one more of a fork-join tree's big
 * early subtrees every 1024 switches, each left half done while the
 * newest work went on, and 10^6 leaves then held 20,000 tasks and
 * 180 MB at one worker.  Past CONT_MAX the oldest goes to the run
 * queue.
 */
static void cont_push(struct worker *w, struct task *t)
{
	struct task *out = 0;
	spin_lock(&w->cont_lock);
	if (w->cont_hi - w->cont_lo == CONT_MAX)
		out = w->cont[w->cont_lo++ % CONT_MAX];
	w->cont[w->cont_hi++ % CONT_MAX] = t;
	__atomic_store_n(&w->ncont, w->cont_hi - w->cont_lo, __ATOMIC_RELEASE);
	spin_unlock(&w->cont_lock);
	if (out) push_on(w, out, 0);
}

struct task *__sched_cont_oldest(struct worker *w)
{
	if (!__atomic_load_n(&w->ncont, __ATOMIC_ACQUIRE)) return 0;
	return __atomic_load_n(&w->cont[__atomic_load_n(&w->cont_lo,
		__ATOMIC_RELAXED) % CONT_MAX], __ATOMIC_RELAXED);
}

void __sched_cont_age_out(struct worker *w, struct task *old)
{
	struct task *t = 0;
	spin_lock(&w->cont_lock);
	if (w->cont_hi != w->cont_lo && w->cont[w->cont_lo % CONT_MAX] == old) {
		t = w->cont[w->cont_lo++ % CONT_MAX];
		__atomic_store_n(&w->ncont, w->cont_hi - w->cont_lo, __ATOMIC_RELEASE);
	}
	spin_unlock(&w->cont_lock);
	if (t) {
		global_put(t);
		__sched_wake_one();
	}
}

/* newest: the owner's end; else the oldest, a thief's. */
static struct task *cont_take(struct worker *w, int newest)
{
	struct task *t = 0;
	if (!__atomic_load_n(&w->ncont, __ATOMIC_ACQUIRE)) return 0;
	spin_lock(&w->cont_lock);
	if (w->cont_hi != w->cont_lo)
		t = newest ? w->cont[--w->cont_hi % CONT_MAX] :
			w->cont[w->cont_lo++ % CONT_MAX];
	__atomic_store_n(&w->ncont, w->cont_hi - w->cont_lo, __ATOMIC_RELEASE);
	spin_unlock(&w->cont_lock);
	return t;
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
	for (int i = 0; i < n; i++) {
		struct worker *v = &S.w[(start + i) % n];
		struct task *t;
		if (v != w && (t = cont_take(v, 0))) return t;
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
	uint64_t since;		/* first seen so (ns) */
};

/* Note the first other worker's runnext, and since when it has been so
 * (its owner not having switched meanwhile). */
static void runnext_look(struct worker *w, struct rn_seen *seen)
{
	int n = __atomic_load_n(&S.n, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++) {
		struct worker *v = &S.w[(w->idx + 1 + i) % n];
		struct task *t;
		if (v == w || !(t = __atomic_load_n(&v->runnext, __ATOMIC_RELAXED)))
			continue;
		unsigned sw = __atomic_load_n(&v->nswitch, __ATOMIC_RELAXED);
		if (seen->v != v || seen->t != t || seen->nswitch != sw) {
			seen->v = v;
			seen->t = t;
			seen->nswitch = sw;
			seen->since = __sched_now();
		}
		return;
	}
	seen->v = 0;
}

/* lazy: a lock's wake (RN_LOCK_TAG) may be taken only once the lazy
 * period is over or this worker has slept through LAZY_NS of it. */
static struct task *runnext_steal(struct rn_seen *seen, int lazy)
{
	struct worker *v = seen->v;
	struct task *t = seen->t;
	/* Only one that has waited RN_GRACE_NS: a task that wakes another
	 * and then parks at once (a ping-pong, a condvar handoff) switches
	 * to it within a microsecond or so; taken from under it, the pair
	 * would bounce between workers (Go's runqsteal waits 3 us too). */
	if (!v || v->nswitch != seen->nswitch || (lazy && rn_is_lock(t)) ||
	    __sched_now() - seen->since < RN_GRACE_NS ||
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

/*
 * A spare that the monitor retires (monitor.c): asleep for a while (on
 * its futex or in the netpoller), it finds SLEEP_RETIRE there, and once
 * the monitor no longer counts it in S.n, SLEEP_GONE.  It hands on what
 * is left on it: tasks its last poll woke (queued on it), signals
 * deferred on its g0, its cached ids; it wakes another worker, which
 * takes over the netpoller if it had it; and its thread exits.
 * The kernel then clears w->ktid (CLONE_CHILD_CLEARTID), and the slot,
 * with its mapping and reserved id, can take the next spare.
 */
static _Noreturn void worker_retire(struct worker *w)
{
	uint64_t all = ~0ULL;
	int sig;
	/* No more signals here: the kernel picks another thread. */
	__syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, 0, _NSIG/8);
	w->mask = all;
	while (__atomic_load_n(&w->sleeping, __ATOMIC_ACQUIRE) != SLEEP_GONE)
		__syscall(SYS_futex, &w->sleeping, FUTEX_WAIT|FUTEX_PRIVATE,
			SLEEP_RETIRE, 0);
	/* Handlers that came while its g0 was busy: worker 0's g0 raises
	 * them (when it next idles or switches). */
	while ((sig = __sched_sig_take(&w->g0, ~0ULL)))
		__sched_defer(&S.w[0].g0, sig);
	struct task *t = take_runnext(w);
	if (t) global_put(t);
	while ((t = __sched_runq_get(&w->rq))) global_put(t);
	while ((t = cont_take(w, 0))) global_put(t);
	while (w->nids) id_free_on(0, w->ids[--w->nids]);
	__sched_stack_cache_flush(&w->stacks);
	if (!wake_worker(&S.w[0])) __sched_wake_one();
	for (;;) __syscall(SYS_exit, 0);
}

/* One of the first S.nprocs workers that sleeps on its futex, or 0. */
static struct worker *regular_sleeper(void)
{
	for (int i = 0; i < S.nprocs; i++)
		if (__atomic_load_n(&S.w[i].sleeping, __ATOMIC_RELAXED) == SLEEP_FUTEX)
			return &S.w[i];
	return 0;
}

/* The end of w's sleep (it woke, or found work before sleeping): back to
 * awake, unless the monitor is retiring it. */
static void sleep_end(struct worker *w, int how)
{
	int s = how;
	if (!__atomic_compare_exchange_n(&w->sleeping, &s, 0, 0,
	    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED) && s >= SLEEP_RETIRE)
		worker_retire(w);
}

static struct task *find_runnable(struct worker *w)
{
	struct task *t;
	int lazy_slept = 0;	/* slept LAZY_NS for a lock wake's task */
	int rn_spins = 0;	/* spins kept up only by others' runnexts */
	struct rn_seen seen = { 0 };
	/* Now and then a busy worker polls even with work queued, so that
	 * tasks woken by I/O are not starved by a yield-heavy load. */
	if (!(++w->tick & 63))
		poll_io(w);
	/* And the global queue gets a turn even while the local one is
	 * never empty (Go's schedtick % 61). */
	if (!(w->tick % 61) && (t = global_get())) return t;
	for (;;) {
		/* A safe point: no lock held, no queue operation half-done. */
		if (__atomic_load_n(&w->g0.sigpending, __ATOMIC_RELAXED)) {
			__sched_g0_idle(1);	/* raises them */
			__sched_g0_idle(0);
		}
		/* A backend's per-worker I/O queues (scheduler.h): once a
		 * round, so that one submission serves every task that
		 * queued since the last. */
		const struct __sched_io_hooks *io = S.io;
		if (io) io->round(w->idx);
		uint64_t next = __sched_run_timers();
		/* The local queue ahead of runnext here: switch_out prefers
		 * runnext, and every 61st and 64th pick comes here. */
		if ((t = __sched_runq_get(&w->rq))) return t;
		if ((t = take_runnext(w))) return t;
		if ((t = cont_take(w, 1))) return t;
		if ((t = global_get_batch(w))) return t;
		if (poll_io(w) && (t = __sched_runq_get(&w->rq))) return t;
		if ((t = steal(w))) {
			w->nsteal++;
			return t;
		}
		runnext_look(w, &seen);
		for (int i = 0; i < 64; i++) {
			__builtin_ia32_pause();
			if (__sched_work_visible(RN_NONE)) break;
		}
		/* In a lazy period, a lock's wake only after a LAZY_NS sleep. */
		int lazy = __atomic_load_n(&S.lazy, __ATOMIC_RELAXED) && !lazy_slept;
		if ((t = runnext_steal(&seen, lazy))) {
			w->nsteal++;
			return t;
		}
		/* Others' runnexts keep it spinning: they are taken by their
		 * own workers, or here once they have waited too long.  But
		 * not for ever: a runnext that a busy worker refills at each
		 * switch (a ping-pong between two of its tasks) never waits
		 * long, and watching it only pulls that worker's lines away
		 * and keeps a CPU busy that other processes could use.  After
		 * RN_SPINS rounds in which the owner moved on it
		 * sleeps: any runnext filled after that wakes it (the
		 * unpark's wake_one).  One left behind a task that keeps its
		 * worker is stolen above once it has waited RN_GRACE_NS, but
		 * for one that its owner leaves there as it switches to
		 * another task (find_runnable's run-queue turn) in the very
		 * round this worker gives up: that one waits for its owner's
		 * next switch or for preemption (monitor.c). */
		int rn = lazy ? RN_NOT_LOCK : RN_ALL;
		if (rn_spins >= RN_SPINS) rn = RN_NONE;
		if (__sched_work_visible(rn)) {
			/* A round counts once the runnext watched has been
			 * taken or its owner has switched: one left sitting
			 * behind a running task keeps it here until the
			 * grace has passed and it is stolen above. */
			struct worker *v = seen.v;
			if (rn != RN_NONE && !__sched_work_visible(RN_NONE) &&
			    (!v || __atomic_load_n(&v->nswitch, __ATOMIC_RELAXED) != seen.nswitch ||
			     __atomic_load_n(&v->runnext, __ATOMIC_RELAXED) != seen.t))
				rn_spins++;
			continue;
		}

		/* Sleep: one idle worker in the netpoller (its timeout is the
		 * nearest deadline), the others on their futex.  A spare
		 * leaves both the netpoller and the timers to the first
		 * S.nprocs workers while one of them sleeps, so that an idle
		 * spare stays asleep and retires (monitor.c): it sleeps
		 * without a timeout, and wakes one of them to take the
		 * netpoller if no one has it. */
		int how = SLEEP_FUTEX, spare = w->idx >= S.nprocs;
		struct worker *reg = spare ? regular_sleeper() : 0;
		if (__np_active() && !reg && !__atomic_exchange_n(&S.polling, 1, __ATOMIC_ACQUIRE))
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
		if (__sched_work_visible(rn_spins >= RN_SPINS ? RN_NONE :
		    lazy ? RN_NOT_LOCK : RN_ALL) ||
		    (next && next <= __sched_now())) {
			if (how == SLEEP_POLL) __atomic_store_n(&S.polling, 0, __ATOMIC_RELEASE);
			sleep_end(w, how);
			continue;
		}
		lazy_slept = lazy;
		if (lazy && !spare) {
			uint64_t until = __sched_now() + LAZY_NS;
			if (!next || until < next) next = until;
		}
		if (reg) {
			next = 0;
			if (__np_active() && !__atomic_load_n(&S.polling, __ATOMIC_RELAXED))
				wake_worker(reg);
		}
		/* Its cached stacks go where the trim pass sees them, and
		 * the mask entries it no longer counts on are let go. */
		if (w->stacks.n) __sched_stack_cache_flush(&w->stacks);
		if (w->mpin) __sched_sig_unpin(w);
		/* Asleep, the worker takes what some task would take (so a
		 * process-directed SIGINT still works when every task is
		 * parked; signal.c, the open set), and always musl's
		 * internal ones (__synccall). */
		set_mask(w, ~__sched_sig_open() & ~INTERNAL_SIGS);
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
		sleep_end(w, how);
		rn_spins = 0;
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

int __sched_worker_main(void *arg)
{
	struct worker *w = arg;
	stack_t ss = { .ss_sp = w->alt, .ss_size = ALT_STACK };
	__syscall(SYS_sigaltstack, &ss, 0);
	/* As an idle worker: what no task lets through stays blocked (a
	 * worker that started with none blocked took, at its default
	 * action, a kill() every task blocked). */
	uint64_t m = ~__sched_sig_open() & ~INTERNAL_SIGS;
	__syscall(SYS_rt_sigprocmask, SIG_SETMASK, &m, 0, _NSIG/8);
	w->mask = m;
	worker_loop(w);
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
		__sched_g0_raise(w);
}

/* t switches away in a handler: if it is on its own alternate stack
 * (the program's memory), that stack is registered with Valgrind too,
 * else the switch back onto it would be taken for a frame made or
 * popped between it and the stack left (vg.h).  Once per range, until
 * the task exits (bury). */
static __attribute__((noinline)) void vg_alt_register(struct task *t)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	const stack_t *a = &t->alt;
	if (!vg_running() || sp - (uintptr_t)a->ss_sp >= a->ss_size) return;
	if (t->vg_alt && t->vg_alt_ss.ss_sp == a->ss_sp &&
	    t->vg_alt_ss.ss_size == a->ss_size)
		return;
	vg_stack_deregister(t->vg_alt);
	t->vg_alt = vg_stack_register(a->ss_sp, (char *)a->ss_sp + a->ss_size);
	t->vg_alt_ss = *a;
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
	if (__builtin_expect(t->in_handler && t->alt.ss_size, 0)) {
		__sched_alt_block(w, t);
		vg_alt_register(t);
	}
	if ((tick & 63) && (tick % 61) &&
	    ((n = take_runnext(w)) || (n = cont_take(w, 1)) ||
	     (n = __sched_runq_get(&w->rq)))) {
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
	if (__sched_runq_len(&me->rq) || __atomic_load_n(&me->runnext, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&me->ncont, __ATOMIC_RELAXED))
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
	if (old) cont_push(self->worker, rn_task(old));
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
	wake_one_fenced();
}

void __sched_unpark(void *p)
{
	unpark(p, 0);
}

/* A joiner whose thread has died (bury, on the worker that ran it, from
 * g0 or the task that runs next): it runs next here, as any task's wake
 * makes its wakee (Go's ready puts it in runnext).  Queued behind the
 * run queue instead, a fork-join tree's parents waited there while
 * their siblings' subtrees started, and the tree ran breadth first:
 * 10^6 leaves held 20,000 tasks and 200 MB at one worker. */
static void unpark_joiner(void *p)
{
	struct task *t = p;
	struct worker *w = self_worker();
	if (!w) {
		unpark(t, 0);
		return;
	}
	set_state(t, T_PARKED, T_RUNNABLE);
	struct task *old = __atomic_exchange_n(&w->runnext, t, __ATOMIC_SEQ_CST);
	if (old) cont_push(w, rn_task(old));
	wake_one_fenced();
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
		__sched_wake_one();
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
	/* Switching: no handler or preemption moves t to another worker
	 * while it takes itself out of its worker's count (signal.c). */
	struct worker *w = begin_switch(t);
	__sched_sig_unlist(t);
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
	t->vg_stack = vg_stack_register((char *)td->stack - td->stack_size, td->stack);
	/* POSIX: a new thread starts with its creator's mask. */
	struct task *self = __sched_self();
	t->sigmask = self ? self->sigmask : 0;
	t->kmask = self ? self->kmask : 0;
	__sched_sig_list(t);
	t->sp = __sched_make(t, task_entry);
	t->state = T_RUNNABLE;
	td->pal = t;
	td->tid = id;
	return id;
}

/*
 * A new task waits in its creator's runnext, and the creator goes on, as
 * a new goroutine does (Go's newproc: runqput(pp, newg, true), then
 * wakep): an idle worker is woken, and takes it after runnext's grace
 * (find_runnable), so creator and new task run side by side as two
 * kernel threads would; else it runs when the creator parks, yields,
 * exits or is preempted.  Under 1:1 the creator usually goes on first
 * too (Linux runs a new thread after its parent), and ordinary programs
 * rely on that without knowing it: libc-test's regression/raise-race
 * sends its signals right after pthread_create, and broke at one worker
 * when the new thread ran first.  The runnext a creator displaces goes
 * to the newest end of the worker's deque (cont_push), so a fork-join
 * program still runs depth first: its tasks alive at once number about
 * depth x fan-out per worker, not a whole level of the tree.  Not from
 * a handler's or g0's context, or with a switch under way: then t is
 * queued behind the others.
 */
void __sched_run(struct task *t)
{
	struct task *self = __sched_self();
	if (!self || !self->worker || self == &self->worker->g0 ||
	    self->in_handler || self->worker->switching) {
		push(t, 1);
		return;
	}
	/* In the caller's critical section: self stays on this worker. */
	struct worker *w = self->worker;
	struct task *old = __atomic_exchange_n(&w->runnext, t, __ATOMIC_SEQ_CST);
	if (old) cont_push(w, rn_task(old));
	wake_one_fenced();
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

/* WEFT_TRACE: a comma-separated list of schedtrace[:MS] (GODEBUG's
 * schedtrace: the monitor's trace interval in ns, 1000 ms by default)
 * and io (S.trace_io: the backend's I/O engine).  A bad item is named
 * and ignored; the others stay. */
static uint64_t trace_item(const char *s, size_t len)
{
	char *end;
	long ms = 1000;
	if (len == 2 && !strncmp(s, "io", 2)) {
		S.trace_io = 1;
		return 0;
	}
	if (len >= 10 && !strncmp(s, "schedtrace", 10)) {
		if (len == 10) return ms * 1000000ULL;
		if (s[10] == ':' && len > 11) {
			ms = strtol(s + 11, &end, 10);
			if (end == s + len && ms >= 1 && ms <= 3600000) return ms * 1000000ULL;
		}
	}
	static const char msg[] = "weft: ignoring WEFT_TRACE: expected schedtrace or schedtrace:MS (1 to 3600000), or io\n";
	__syscall(SYS_write, 2, msg, sizeof msg - 1);
	return 0;
}

static uint64_t trace_interval(void)
{
	const char *s = getenv("WEFT_TRACE");
	uint64_t ns = 0;
	S.trace_io = 0;
	while (s && *s) {
		size_t len = strcspn(s, ",");
		uint64_t v = trace_item(s, len);
		if (v) ns = v;
		s += len + (s[len] == ',');
	}
	return ns;
}

void __sched_set_io_hooks(const struct __sched_io_hooks *h)
{
	__atomic_store_n(&S.io, h, __ATOMIC_RELEASE);
}

int __sched_slot(struct task *t)
{
	int i = t->worker->idx;
	return i < S.nprocs ? i : -1;
}

int __sched_slots(void)
{
	return S.nprocs;
}

int __sched_trace_io(void)
{
	return S.trace_io;
}

static unsigned long hwcap2(void)
{
	for (size_t *a = libc.auxv; a && a[0]; a += 2)
		if (a[0] == 26) return a[1];	/* AT_HWCAP2 */
	return 0;
}

/* A worker's signal stack, g0 stack and TCB in one mapping, from the
 * bottom: ALT_STACK bytes of sigaltstack, a PROT_NONE page, the g0
 * stack, the TLS.  The page stops a g0 overflow from running into the
 * signal stack, and is what Valgrind needs: its clone wrapper registers
 * the new thread's stack as the whole mapping segment under the first
 * sp, down to the first change of protection, and without the page that
 * takes in the mappings below, adjacent task stacks included; a task
 * switch inside that range looks to memcheck like a frame made or
 * popped (vg.h).  With it the range is the g0 stack, as registered here.
 * A spare slot that had a spare before keeps its mapping: the rest of
 * the record starts afresh (its run queue was left empty). */
#define G0_GUARD 4096

int __sched_worker_init(struct worker *w, int idx, int id)
{
	size_t tls = (libc.tls_size + 4095) & -4096;
	unsigned char *map = w->alt;
	if (map) {
		struct __sched_runq rq = w->rq;
		int spare_id = w->spare_id;
		unsigned vg = w->vg_stack;
		memset(w, 0, sizeof *w);
		w->rq = rq;
		w->spare_id = spare_id;
		w->vg_stack = vg;
	} else {
		map = __mmap(0, ALT_STACK + G0_GUARD + WORKER_STACK + tls,
			PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANON, -1, 0);
		if (map == MAP_FAILED) return -ENOMEM;
		/* Best effort: without it (no memory for one more mapping)
		 * the worker runs, unguarded. */
		__mprotect(map + ALT_STACK, G0_GUARD, PROT_NONE);
		w->vg_stack = vg_stack_register(map + ALT_STACK + G0_GUARD,
			map + ALT_STACK + G0_GUARD + WORKER_STACK);
	}
	w->alt = map;
	map += ALT_STACK + G0_GUARD;
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
	S.trace_ns = trace_interval();

	S.nextid = S.firstid = SCHED_ID_BASE;
	S.cap = n + SPARE_MAX;
	S.w = calloc(S.cap, sizeof *S.w);
	if (!S.w) return -EAGAIN;
	S.n = S.nprocs = n;
	__sched_cpu_init(hwcap2());
	for (int i = 0; i < n; i++)
		if (__sched_worker_init(&S.w[i], i, 0)) return -EAGAIN;
	/* Spare workers are mapped by the monitor, which cannot malloc:
	 * their ids are taken now. */
	for (int i = n; i < S.cap; i++)
		if ((S.w[i].spare_id = id_alloc()) < 0) return -EAGAIN;
	if (__sched_worker_init(&S.mon, -1, 0)) return -EAGAIN;
	__sched_install_sigsync();
	__sched_install_overflow_report(&S.w[0]);

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
	__sched_sig_start(&main_task);
	/* An alternate stack the program set up before is the main task's. */
	if (!__syscall(SYS_sigaltstack, 0, &main_task.alt) &&
	    main_task.alt.ss_size && !(main_task.alt.ss_flags & SS_DISABLE)) {
		main_task.alt.ss_flags &= SS_AUTODISARM;
		w0->kalt = main_task.alt;
		w0->kalt_mode = ALT_TASK;
	} else {
		main_task.alt = (stack_t){ 0 };
		w0->kalt_mode = ALT_UNKNOWN;
		__sched_alt_switch(w0, &main_task);
	}
	w0->g0.sp = __sched_make(w0->g0.sp, g0_entry);
	self->pal = &main_task;
	a_store(&S.started, 1);

	for (int i = 1; i < n; i++) {
		struct worker *w = &S.w[i];
		if (__clone(__sched_worker_main, w->g0.sp, CLONE_FLAGS, w, &w->ktid, w->g0_tp, 0) < 0)
			die("weft: cannot start a worker thread\n");
	}
	if (__clone(__sched_monitor_main, S.mon.g0.sp, CLONE_FLAGS, &S.mon, &S.mon.ktid,
	    S.mon.g0_tp, 0) < 0)
		die("weft: cannot start the monitor thread\n");
	return 0;
}

