/*
 * signal.c - signals on tasks (Go's signal_unix.go): each task's mask
 * and pending set, delivery at its next safe moment, kill and sigwait
 * of a task, and program handlers that reach a worker's g0.  The
 * trampoline that decides where a kernel signal goes is the backend's
 * (pal/epoll/signal.c).  See proc.c.
 */
#define _GNU_SOURCE
#include "runtime.h"

/* ---- Program handlers that reach g0 (scheduler.h) ------------------------ */

/* Raise sig again on the calling thread tid (a worker's: a signal left
 * pending on a task or g0).  tkill of a real-time signal fails with
 * EAGAIN while the user's queue is full (RLIMIT_SIGPENDING, which a
 * sigqueue sender keeps full), and the signal would be lost; one
 * queued to the caller itself with si_code SI_USER is always sent.
 * The trampoline takes SI_USER with si_errno SCHED_RERAISE for the
 * SI_TKILL it stands for (scheduler.h). */
static void queue_self(int tid, int sig, int mark)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = sig;
	si.si_code = SI_USER;
	si.si_errno = mark;
	si.si_pid = __syscall(SYS_getpid);
	si.si_uid = __syscall(SYS_getuid);
	__syscall(SYS_rt_tgsigqueueinfo, si.si_pid, tid, sig, &si);
}

static void reraise(int tid, int sig)
{
	if (__syscall(SYS_tkill, tid, sig) != -EAGAIN || sig < 32) return;
	queue_self(tid, sig, SCHED_RERAISE);
}

/* Raise again, on w's own thread, what g0 left pending: marked
 * SCHED_RERAISE_G0, so that the trampoline takes it as the process's
 * (with the siginfo kept for this thread's g0) even when a task runs
 * here by then, and not as a tkill to that task. */
void __sched_g0_raise(struct worker *w)
{
	int sig;
	while ((sig = __sched_sig_take(&w->g0, ~0ULL)))
		queue_self(w->ktid, sig, SCHED_RERAISE_G0);
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
		__sched_g0_raise(w);
}

int __sched_g0_busy(struct task *g)
{
	return g && !g->id && g->worker && g == &g->worker->g0 &&
		!(g->worker->g0_idle && !g->nosig);
}

void __sched_g0_block(struct task *g, uint64_t bits)
{
	struct worker *w = g->worker;
	if (w && g == &w->g0) w->mask |= bits;
}

int __sched_g0_defer(struct task *g, int sig)
{
	if (!__sched_g0_busy(g)) return 0;
	__sched_defer(g, sig);
	return 1;
}

/* ---- Every live task, and what their masks let through (scheduler.h) --- */

/*
 * The task table: a slot per task id (ids are dense from S.firstid, proc.c),
 * in chunks mapped as ids first need them and kept until the process ends,
 * so a signal handler can walk it without a lock: a slot's busy count
 * keeps its task from exiting (__sched_sig_unlist waits for it).  The main
 * task has a slot of its own.  Ids past the table (over 2^20 live tasks)
 * are not listed, and a process-directed signal does not look for them.
 */
#define TT_CHUNK 1024
#define TT_CHUNKS 1024
struct tslot {
	struct task *t;
	int busy;	/* holders reading t: its exit waits for them */
};
static struct tslot *tt_chunk[TT_CHUNKS];
static struct tslot tt_main;
static int tt_n;		/* slots ever used (an index bound) */
static unsigned tt_next;	/* where the next hold starts looking */

static struct tslot *tt_slot(struct task *t, int make)
{
	if (t == &main_task) return &tt_main;
	unsigned i = t->id - S.firstid;
	if (i >= TT_CHUNK * TT_CHUNKS) return 0;
	struct tslot *c = __atomic_load_n(&tt_chunk[i / TT_CHUNK], __ATOMIC_ACQUIRE);
	if (!c && make) {
		void *m = __mmap(0, TT_CHUNK * sizeof *c, PROT_READ|PROT_WRITE,
			MAP_PRIVATE|MAP_ANON, -1, 0);
		if (m == MAP_FAILED) return 0;
		if (__atomic_compare_exchange_n(&tt_chunk[i / TT_CHUNK], &c, m, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			c = m;
		else
			__munmap(m, TT_CHUNK * sizeof *c);
	}
	return c ? &c[i % TT_CHUNK] : 0;
}

/* The slot of table index i (0: the main task's, then id order). */
static struct tslot *tt_at(int i)
{
	if (!i) return &tt_main;
	struct tslot *c = __atomic_load_n(&tt_chunk[(i - 1) / TT_CHUNK], __ATOMIC_ACQUIRE);
	return c ? &c[(i - 1) % TT_CHUNK] : 0;
}

/*
 * The open set: what some live task's counted mask (t->cmask, the mask as
 * the program last set it: its kernel part, t->kmask, outside handlers)
 * lets through.  Tasks share few masks, so each distinct one is an entry
 * with counts of tasks (an idle worker's look is one pass over the
 * entries); tasks whose mask finds no free entry are counted per signal
 * instead.
 *
 * Counts per worker.  A task is counted on the worker it was counted on
 * (its creator's, or where it changed its mask): w->mcount[i] - w->mgone[i].
 * Only that worker writes mcount (plain stores: it counts there, and a
 * task uncounted there takes itself off there), and a task that ends on
 * another worker adds to mgone (atomic).  So a spawn and an exit on one
 * worker touch only that worker's lines, without a locked instruction;
 * before, every create and exit of a spawn tree on two workers moved one
 * shared count's line between them.  (Both are unsigned and only their
 * difference counts.)  Counting and uncounting are done where the task
 * cannot move to another worker (critical sections, or switching, for
 * an exit).  An entry is in use while its refs are above 0: a worker
 * holds one ref (a pin, bit i of w->mpin) while it may count there, and
 * gives it back once idle with no task counted there
 * (__sched_sig_unpin; only w adds to its count, so a zero it reads stays
 * zero).  Counts made off the regular workers (the main task at start,
 * spares, which retire) are the global gcount[i], each with a ref of its
 * own.  An entry is open while the sum of its counts is above 0: a
 * reader takes mgone before mcount, so a task live throughout its pass
 * is seen, as with one count per entry; tasks that come or go meanwhile
 * may or may not be.
 */
static struct {
	uint64_t mask;
	int refs;	/* pins and global counts; -1: being claimed */
} msets[MSETS];
static int gcount[MSETS];	/* tasks counted globally, per entry */
static int mopen[64];	/* per signal: tasks counted per signal that let it in */
static int nover;	/* tasks counted per signal */

/* The regular worker the caller runs on (the first S.nprocs, which never
 * retire), or 0. */
static struct worker *count_worker(void)
{
	struct task *t = __pthread_self()->pal;
	struct worker *w = t ? t->worker : 0;
	return w && w != &S.mon && w->idx < S.nprocs ? w : 0;
}

static void uncount(struct task *t)
{
	if (t->mset > 0) {
		int i = t->mset - 1;
		if (t->mset_w) {
			struct worker *w = &S.w[t->mset_w - 1];
			if (w == count_worker())
				__atomic_store_n(&w->mcount[i], w->mcount[i] - 1, __ATOMIC_RELAXED);
			else
				__atomic_fetch_add(&w->mgone[i], 1, __ATOMIC_SEQ_CST);
		} else {
			__atomic_fetch_sub(&gcount[i], 1, __ATOMIC_SEQ_CST);
			__atomic_fetch_sub(&msets[i].refs, 1, __ATOMIC_SEQ_CST);
		}
	} else if (t->mset < 0) {
		for (uint64_t o = ~t->cmask; o; o &= o - 1)
			__atomic_fetch_sub(&mopen[__builtin_ctzll(o)], 1, __ATOMIC_SEQ_CST);
		__atomic_fetch_sub(&nover, 1, __ATOMIC_SEQ_CST);
	}
	t->mset = t->mset_w = 0;
}

/* A ref on an entry for mask m, found or claimed; its index, or -1. */
static int claim(uint64_t m)
{
	for (int i = 0; i < MSETS; i++) {
		int r = __atomic_load_n(&msets[i].refs, __ATOMIC_ACQUIRE);
		while (r > 0 && __atomic_load_n(&msets[i].mask, __ATOMIC_RELAXED) == m) {
			if (!__atomic_compare_exchange_n(&msets[i].refs, &r, r + 1, 0,
			    __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE))
				continue;
			/* Freed and claimed for another mask meanwhile. */
			if (__atomic_load_n(&msets[i].mask, __ATOMIC_SEQ_CST) != m) {
				__atomic_fetch_sub(&msets[i].refs, 1, __ATOMIC_SEQ_CST);
				break;
			}
			return i;
		}
	}
	for (int i = 0; i < MSETS; i++) {
		int z = 0;
		if (__atomic_load_n(&msets[i].refs, __ATOMIC_RELAXED) ||
		    !__atomic_compare_exchange_n(&msets[i].refs, &z, -1, 0,
		    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&msets[i].mask, m, __ATOMIC_RELAXED);
		__atomic_store_n(&msets[i].refs, 1, __ATOMIC_SEQ_CST);
		return i;
	}
	return -1;
}

static void count(struct task *t, uint64_t m)
{
	struct worker *w = count_worker();
	int i;
	t->cmask = m;
	/* An entry this worker holds: its own count, no shared line. */
	for (uint64_t p = w ? w->mpin : 0; p; p &= p - 1) {
		i = __builtin_ctzll(p);
		if (__atomic_load_n(&msets[i].mask, __ATOMIC_RELAXED) != m) continue;
		__atomic_store_n(&w->mcount[i], w->mcount[i] + 1, __ATOMIC_RELAXED);
		t->mset = i + 1;
		t->mset_w = w->idx + 1;
		return;
	}
	if ((i = claim(m)) >= 0) {
		if (w) {
			/* The ref is w's pin. */
			w->mpin |= 1ULL << i;
			__atomic_store_n(&w->mcount[i], w->mcount[i] + 1, __ATOMIC_RELAXED);
			t->mset_w = w->idx + 1;
		} else {
			__atomic_fetch_add(&gcount[i], 1, __ATOMIC_SEQ_CST);
		}
		t->mset = i + 1;
		return;
	}
	__atomic_fetch_add(&nover, 1, __ATOMIC_SEQ_CST);
	for (uint64_t o = ~m; o; o &= o - 1)
		__atomic_fetch_add(&mopen[__builtin_ctzll(o)], 1, __ATOMIC_SEQ_CST);
	t->mset = -1;
}

/* w (its own g0, idle) gives back the entries it holds no count on. */
void __sched_sig_unpin(struct worker *w)
{
	for (uint64_t p = w->mpin; p; p &= p - 1) {
		int i = __builtin_ctzll(p);
		if (w->mcount[i] != __atomic_load_n(&w->mgone[i], __ATOMIC_SEQ_CST))
			continue;
		w->mpin &= ~(1ULL << i);
		__atomic_fetch_sub(&msets[i].refs, 1, __ATOMIC_SEQ_CST);
	}
}

uint64_t __sched_sig_open(void)
{
	uint64_t open = 0;
	int nw = S.started ? S.nprocs : 0;
	for (int i = 0; i < MSETS; i++) {
		if (__atomic_load_n(&msets[i].refs, __ATOMIC_ACQUIRE) <= 0) continue;
		uint64_t m = __atomic_load_n(&msets[i].mask, __ATOMIC_RELAXED);
		int c = __atomic_load_n(&gcount[i], __ATOMIC_SEQ_CST);
		for (int k = 0; k < nw && c <= 0; k++) {
			unsigned gone = __atomic_load_n(&S.w[k].mgone[i], __ATOMIC_SEQ_CST);
			c += (int)(__atomic_load_n(&S.w[k].mcount[i], __ATOMIC_SEQ_CST) - gone);
		}
		if (c > 0) open |= ~m;
	}
	if (__atomic_load_n(&nover, __ATOMIC_ACQUIRE))
		for (int b = 0; b < 64; b++)
			if (__atomic_load_n(&mopen[b], __ATOMIC_RELAXED) > 0)
				open |= 1ULL << b;
	return open;
}

/* The calling task t's program mask is now m (a mask change of its own,
 * in a critical section): count it, and wake the idle workers whose
 * mask no longer matches the open set on what changed, so that they take
 * it again (their sleep ends with EINTR; proc.c find_runnable).  Else a
 * worker asleep with a signal blocked that only t now lets through would
 * leave it pending in the kernel while t parks and another task holds
 * t's worker, or one asleep with it open would take at its default
 * action a signal every task blocks. */
static void recount(struct task *t, uint64_t m)
{
	uint64_t changed = t->cmask ^ m;
	if (t->mset && !changed) return;
	uncount(t);
	count(t, m);
	changed &= ~INTERNAL_SIGS;
	if (!changed || !S.started) return;
	uint64_t idle = ~__sched_sig_open() & ~INTERNAL_SIGS;
	int n = __atomic_load_n(&S.n, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++) {
		struct worker *w = &S.w[i];
		if (w != t->worker && __atomic_load_n(&w->sleeping, __ATOMIC_SEQ_CST) &&
		    ((__atomic_load_n(&w->mask, __ATOMIC_RELAXED) ^ idle) & changed))
			__syscall(SYS_tkill, w->ktid, SIGSYNCCALL);
	}
}

void __sched_sig_list(struct task *t)
{
	struct tslot *s = tt_slot(t, 1);
	count(t, t->kmask);
	if (!s) return;
	int i = s == &tt_main ? 0 : t->id - S.firstid + 1, n;
	while ((n = __atomic_load_n(&tt_n, __ATOMIC_RELAXED)) <= i &&
	    !__atomic_compare_exchange_n(&tt_n, &n, i + 1, 0,
	    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
	/* Release: a hold that misses a task this new finds its creator,
	 * with the same mask. */
	__atomic_store_n(&s->t, t, __ATOMIC_RELEASE);
	t->listed = 1;
}

void __sched_sig_unlist(struct task *t)
{
	uncount(t);
	if (!t->listed) return;
	struct tslot *s = tt_slot(t, 0);
	t->listed = 0;
	__atomic_store_n(&s->t, 0, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&s->busy, __ATOMIC_SEQ_CST))
		a_spin();
}

/* The scheduler starts (again, in a fork child): nothing is listed or
 * counted but the main task. */
void __sched_sig_start(struct task *m)
{
	for (int i = 0; i < TT_CHUNKS; i++)
		if (tt_chunk[i]) memset(tt_chunk[i], 0, TT_CHUNK * sizeof *tt_chunk[i]);
	memset(&tt_main, 0, sizeof tt_main);
	memset(msets, 0, sizeof msets);
	memset(gcount, 0, sizeof gcount);
	memset(mopen, 0, sizeof mopen);
	nover = tt_n = 0;
	m->listed = m->mset = m->mset_w = 0;
	__sched_sig_list(m);
}

struct task *__sched_sig_hold(int sig, struct task *skip, int *slot)
{
	uint64_t bit = 1ULL << (sig - 1);
	int n = __atomic_load_n(&tt_n, __ATOMIC_ACQUIRE);
	if (!n) return 0;
	unsigned start = __atomic_load_n(&tt_next, __ATOMIC_RELAXED);
	/* First a task whose mask lets it through now; then one whose
	 * program mask does (it takes the signal when its window ends). */
	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < n; k++) {
			int i = (start + k) % n;
			struct tslot *s = tt_at(i);
			if (!s || !__atomic_load_n(&s->t, __ATOMIC_RELAXED)) continue;
			__atomic_fetch_add(&s->busy, 1, __ATOMIC_SEQ_CST);
			struct task *t = __atomic_load_n(&s->t, __ATOMIC_SEQ_CST);
			if (t && t != skip && !(__atomic_load_n(pass ? &t->cmask :
			    &t->sigmask, __ATOMIC_RELAXED) & bit)) {
				__atomic_store_n(&tt_next, i + 1, __ATOMIC_RELAXED);
				*slot = i;
				return t;
			}
			__atomic_fetch_sub(&s->busy, 1, __ATOMIC_RELEASE);
		}
	}
	return 0;
}

void __sched_sig_release(int slot)
{
	__atomic_fetch_sub(&tt_at(slot)->busy, 1, __ATOMIC_RELEASE);
}

struct task *__sched_main(void)
{
	if (!S.started ||
	    __atomic_load_n(&main_task.state, __ATOMIC_RELAXED) == T_DEAD)
		return 0;
	return &main_task;
}

/* ---- Task side: masks, pending signals, delivery ------------------------- */

static __attribute__((noinline)) void mask_set(struct task *t, uint64_t m,
	uint64_t k, int how);

void __sched_mask_set(struct task *t, uint64_t m, int how)
{
	uint64_t k = how == MASK_LAZY ? t->kmask & m : m;	/* blocks stay out of it */
	/* Most changes (musl's internal windows, four per pthread_create
	 * and exit; a new thread's first mask) leave the kernel's part, its
	 * count and the worker's kernel mask as they are: mask_set's work
	 * then, without its frame. */
	if (how != MASK_IN_KERNEL && !t->in_handler && k == t->kmask &&
	    t->mset && t->cmask == k && t->worker->mask == k) {
		t->sigmask = m;
		if (__atomic_load_n(&t->sigpending, __ATOMIC_RELAXED) & ~m)
			__sched_deliver(t);
		return;
	}
	mask_set(t, m, k, how);
}

static void mask_set(struct task *t, uint64_t m, uint64_t k, int how)
{
	struct worker *w = t->worker;
	/* Outside handlers (whose mask sigreturn puts back) the kernel's
	 * part is the program's own mask: counted (the open set). */
	if (how != MASK_IN_KERNEL && !t->in_handler && (!t->mset || t->cmask != k)) {
		__sched_nosig_enter(t);
		recount(t, k);
		__sched_nosig_leave(t);
	}
	uint64_t opened = t->sigmask & ~m;
	t->sigmask = m;
	t->kmask = k;
	/* A sender (__sched_kill_task) sets a bit in sigpending, then reads
	 * sigmask: this stores sigmask, then reads sigpending.  Without a
	 * full fence between, each could miss the other's store (x86 lets
	 * a load pass an earlier store), and a signal this unblocks would
	 * wait on the task, unkicked, until its next mask change. */
	if (opened) __atomic_thread_fence(__ATOMIC_SEQ_CST);
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

void __sched_mask_restored(struct task *t, uint64_t m, uint64_t soft,
	uint64_t kernel)
{
	t->sigmask = m | soft;
	t->kmask = m;
	t->worker->mask = kernel;
	m |= soft;
	/* What the handler's mask held back and this one lets through:
	 * a kick (sigsync_handler) raises it once the handler returns.
	 * The fence: as in __sched_mask_set. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&t->sigpending, __ATOMIC_RELAXED) & ~m)
		__sched_kick(t->worker);
}


/* SIGSYNCCALL is real-time: each one sent queues in the kernel, against
 * RLIMIT_SIGPENDING, until its handler runs.  Two threads' 100,000
 * pthread_kills at a running task queued a kick each, filled the user's
 * queue, and the re-raises of the signals themselves then failed (the
 * kernel keeps a pending bit for what no longer fits: signals lost).
 * So one kick on its way per worker: the handler clears the flag before
 * it looks at the pending set, which a sender writes before the flag. */
void __sched_kick(struct worker *w)
{
	if (__atomic_exchange_n(&w->kicked, 1, __ATOMIC_SEQ_CST)) return;
	if (__syscall(SYS_tkill, w->ktid, SIGSYNCCALL))
		__atomic_store_n(&w->kicked, 0, __ATOMIC_SEQ_CST);
}

void __sched_kicked(struct worker *w)
{
	__atomic_store_n(&w->kicked, 0, __ATOMIC_SEQ_CST);
}

void __sched_defer(struct task *t, int sig)
{
	uint64_t bit = 1ULL << (sig - 1);
	if (IS_RT(sig)) __atomic_fetch_add(&t->rtcount[sig - 32], 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_or(&t->sigpending, bit, __ATOMIC_SEQ_CST);
}

static void deliver(struct task *t, int most, uint64_t open);

void __sched_deliver(struct task *t)
{
	deliver(t, -1, ~0ULL);
}

/* From the kick's handler (process.c), where every signal is blocked: a
 * signal raised there waits in the kernel until the handler returns, so
 * raise at most one that runs a handler (its return kicks again while
 * more are pending: __sched_mask_restored).  Raising them all there
 * queued as many real-time signals as were counted on the task, past
 * RLIMIT_SIGPENDING, where the kernel keeps one pending bit for the
 * rest: two threads' 100,000 pthread_kills at a third that blocked and
 * unblocked the signal ran its handler about 96,500 times.  Only what
 * the kernel's mask after the handler lets in (scheduler.h): a raise it
 * blocked waited on the worker's thread, and a task preempted before it
 * unblocked it left it to the next context there (a g0, which took a
 * routed real-time signal as a tkill of its own, without its siginfo). */
void __sched_deliver_kick(struct task *t, uint64_t kernel)
{
	deliver(t, 1, ~kernel);
}

/* Raise on t what its mask and open (the kernel's) let through, at most
 * most (-1: all) that run a handler. */
static void deliver(struct task *t, int most, uint64_t open)
{
	/* One signal at a time, taken afresh each time: a handler may fork,
	 * and the child (whose pending set is empty, fork(2)) must not go
	 * on raising the parent's signals, nor at the parent's worker
	 * thread, whose kernel tid t->worker still names. */
	int sig;
	/* A g0 (the leave of a critical section a handler on it entered):
	 * only where it may run them. */
	if (!t->id) {
		if (t->worker && t->worker->g0_idle && !t->nosig) __sched_g0_raise(t->worker);
		return;
	}
	/* Mid-switch or in a critical section (a kick from __sched_kill):
	 * resumed(), the park's after_switch() or __sched_nosig_leave
	 * raises them. */
	if (t->nosig || t->worker->switching) return;
	while (most && __sched_self() == t && (sig = __sched_sig_take(t, ~t->sigmask & open))) {
		struct sigaction sa;
		if (!__libc_sigaction(sig, 0, &sa) &&
		    sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN) {
			t->sigran |= SIGRAN_HANDLER |
				(sa.sa_flags & SA_RESTART ? 0 : SIGRAN_NORESTART);
			most--;
		}
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
			/* A sender counts, then sets the bit (__sched_kill_task,
			 * __sched_defer).  Take one from the count; the taker of
			 * the last clears the bit, then sets it again if a
			 * sender counted meanwhile.  (Before, the last one's
			 * taker swapped the count to 0, and dropped the one a
			 * sender had counted between its read and the swap:
			 * routed, a sigqueue storm lost a signal in tens of
			 * thousands.) */
			uint32_t *c = &t->rtcount[sig - 32], n = __atomic_load_n(c, __ATOMIC_SEQ_CST);
			if (!n) {
				/* A stale bit: its count was taken. */
				__atomic_fetch_and(&t->sigpending, ~bit, __ATOMIC_SEQ_CST);
				if (__atomic_load_n(c, __ATOMIC_SEQ_CST))
					__atomic_fetch_or(&t->sigpending, bit, __ATOMIC_SEQ_CST);
				continue;
			}
			if (!__atomic_compare_exchange_n(c, &n, n - 1, 0,
			    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
				continue;
			if (n == 1) {
				__atomic_fetch_and(&t->sigpending, ~bit, __ATOMIC_SEQ_CST);
				if (__atomic_load_n(c, __ATOMIC_SEQ_CST))
					__atomic_fetch_or(&t->sigpending, bit, __ATOMIC_SEQ_CST);
			}
			return sig;
		}
		if (__atomic_fetch_and(&t->sigpending, ~bit, __ATOMIC_ACQ_REL) & bit)
			return sig;
	}
	return 0;
}

int __sched_kill(struct task *t, int sig)
{
	struct task *self = __sched_self();
	__sched_nosig_enter(self);
	int r = __sched_kill_task(t, sig);
	__sched_nosig_leave(self);
	return r;
}

int __sched_kill_task(struct task *t, int sig)
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
	if (IS_RT(sig)) __atomic_fetch_add(&t->rtcount[sig - 32], 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_or(&t->sigpending, bit, __ATOMIC_SEQ_CST);
	spin_unlock(&t->klock);
	/* Running (computing) on another worker: kick that worker, whose
	 * handler raises the pending signals of whatever task it is running
	 * then.  If t has left meanwhile, it raises them when it resumes. */
	if (!(t->sigmask & bit) && __atomic_load_n(&t->state, __ATOMIC_RELAXED) == T_RUNNING) {
		struct worker *w = __atomic_load_n(&t->worker, __ATOMIC_RELAXED);
		if (w) __sched_kick(w);
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

