/*
 * monitor.c - the monitor thread (Go's sysmon): it sees tasks in
 * blocking syscalls and stuck workers, starts spares, asks tasks that
 * compute too long to yield (preempt.c), and forwards SIGEV_THREAD
 * timers' signals (time.c).  See proc.c.
 */
#define _GNU_SOURCE
#include "runtime.h"

/* ---- Blocking syscalls (scheduler.h) ------------------------------------ */

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
	/* What tasks queued on this worker must not wait for the call. */
	const struct __sched_io_hooks *io = S.io;
	if (io) io->flush(t->worker->idx);
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
 * other's.  A spare is a worker like the others (it sleeps when there is
 * nothing to do), until it has slept SPARE_IDLE_NS without running a
 * task: then, if it is the last of S.w[0..S.n), it retires (its thread
 * exits; proc.c, worker_retire), so that a burst of blocking calls does
 * not leave its threads behind.  At most SPARE_MAX spares run at once:
 * and one is started only while fewer than S.nprocs workers are not
 * stuck, so the process has at most S.nprocs + min(stuck, SPARE_MAX)
 * workers and the monitor; with no blocking calls and no hog that
 * ignores preemption, S.nprocs and the monitor once the spares have
 * retired. */
#define MON_MIN_NS 1000000ULL
#define MON_MAX_NS 10000000ULL
#define SYSCALL_NS 1000000ULL
#define SLICE_NS 10000000ULL
#define PREEMPT_GIVEUP_NS 50000000ULL
#define SPARE_IDLE_NS 1000000000ULL

static int try_lock(int *l)
{
	return !__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE);
}

/* A spare in slot S.n; under S.wlock, against __synccall.  A slot whose
 * last spare's thread has not yet exited (w->ktid still set) waits for
 * the next look. */
static int start_spare(void)
{
	int n = S.n, ok = 0;
	if (n >= S.cap) return 0;
	struct worker *w = &S.w[n];
	if (__atomic_load_n(&w->ktid, __ATOMIC_ACQUIRE) || !try_lock(&S.wlock))
		return 0;
	if (!__sched_worker_init(w, n, w->spare_id) &&
	    __clone(__sched_worker_main, w->g0.sp, CLONE_FLAGS | CLONE_CHILD_CLEARTID,
	    w, &w->ktid, w->g0_tp, &w->ktid) >= 0) {
		__atomic_store_n(&S.n, n + 1, __ATOMIC_RELEASE);
		ok = 1;
	}
	spin_unlock(&S.wlock);
	return ok;
}

/* Retire the last spare if it has slept SPARE_IDLE_NS without running a
 * task: SLEEP_RETIRE (a CAS from how it sleeps, so that no one is waking
 * it), out of S.n, then SLEEP_GONE and a wake, and its thread exits
 * (proc.c, worker_retire). */
static void retire_spare(uint64_t now)
{
	int n = S.n;
	if (n <= S.nprocs) return;
	struct worker *w = &S.w[n - 1];
	int s = __atomic_load_n(&w->sleeping, __ATOMIC_RELAXED);
	if ((s != SLEEP_FUTEX && s != SLEEP_POLL) || !w->mon_idle ||
	    now - w->mon_idle < SPARE_IDLE_NS || !try_lock(&S.wlock))
		return;
	if (__atomic_compare_exchange_n(&w->sleeping, &s, SLEEP_RETIRE, 0,
	    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
		__atomic_store_n(&S.n, n - 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&w->sleeping, SLEEP_GONE, __ATOMIC_SEQ_CST);
		__syscall(SYS_futex, &w->sleeping, FUTEX_WAKE|FUTEX_PRIVATE, 1);
		if (s == SLEEP_POLL) __np_kick();
	}
	spin_unlock(&S.wlock);
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

/* The monitor's sleep of ns: in sigtimedwait for SIGTIMER (blocked on
 * the monitor, like musl's other internal ones but SIGSYNCCALL),
 * forwarding each one that comes meanwhile. */
static void monitor_sleep(uint64_t ns)
{
	static const uint64_t timer_set = 1ULL << (SIGTIMER - 1);
	const uint64_t sync = 1ULL << (SIGSYNCCALL - 1), keep = ~sync;
	uint64_t until = __sched_now() + ns;
	/* Asleep, the monitor also takes the program's signals that some
	 * task would take, as an idle worker does: a process-directed signal
	 * then reaches a task that takes it (pal/epoll/signal.c) even when
	 * every worker is held by a task that blocks it, in a blocking
	 * syscall. */
	uint64_t m = (~__sched_sig_open() | INTERNAL_SIGS) & keep;
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
			__sched_timer_forward(&si);
			__sched_nosig_leave(&S.mon.g0);
		} else if (r == -EINTR) {
			/* A handler ran: the open set may have changed (one
			 * no task takes now is sent back to the process:
			 * pal/epoll/signal.c, and must not come back here). */
			m = (~__sched_sig_open() | INTERNAL_SIGS) & keep;
			__syscall(SYS_rt_sigprocmask, SIG_SETMASK, &m, 0, _NSIG/8);
		} else break;	/* -EAGAIN: slept it all */
	}
	__syscall(SYS_rt_sigprocmask, SIG_SETMASK, &keep, 0, _NSIG/8);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	S.mon.g0_idle = 0;
}

/* ---- The deadlock report ----------------------------------------------- */

/*
 * Go's "all goroutines are asleep - deadlock!", for a C program: when
 * every task is parked on a futex (a lock, condvar, semaphore, barrier or
 * join) and nothing can ever wake one (no worker busy or in a syscall, no
 * task queued, no timer or timed wait armed, no task waiting on an fd or
 * for a signal, no SIGEV_THREAD timer, and no program handler for a
 * signal that may come from outside, which could post a semaphore), for
 * DEADLOCK_NS without a switch, the
 * monitor prints each task's wait to stderr, once per such episode.  The
 * process then goes on waiting, as under 1:1, unless WEFT_DEADLOCK=abort,
 * which ends it with SIGABRT (a core dump to look at).
 */
#define DEADLOCK_NS 1000000000ULL

static uint64_t dead_since;	/* all parked since then (0: not); monitor */
static unsigned dead_sw;	/* the workers' switches then; monitor */
static int dead_told;		/* reported this episode; monitor */

static unsigned switches(int n)
{
	unsigned sum = 0;
	for (int i = 0; i < n; i++) sum += S.w[i].nswitch;
	return sum;
}

/* Bool: nothing but a futex wake could make progress. */
static int all_parked(int n)
{
	for (int i = 0; i < n; i++)
		if (!S.w[i].sleeping || S.w[i].sys_since) return 0;
	return !__sched_work_visible(RN_ALL) && !__atomic_load_n(&S.nheap, __ATOMIC_RELAXED) &&
		!__atomic_load_n(&__np_waiters, __ATOMIC_RELAXED) &&
		!__sched_timers_attached();
}

/* Bool: the program has a handler for some signal that may come from
 * outside.  Not the synchronous ones (a fault's own handler: crash
 * reporters, cmocka's), nor musl's internal ones. */
static int program_handlers(void)
{
	for (int sig = 1; sig < _NSIG; sig++) {
		struct sigaction sa;
		if (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
		    sig == SIGSYS || sig == SIGTRAP || (sig >= 32 && sig <= 34) ||
		    sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (!__libc_sigaction(sig, 0, &sa) && sa.sa_handler != SIG_DFL &&
		    sa.sa_handler != SIG_IGN)
			return 1;
	}
	return 0;
}

static void say(char *buf, char *p)
{
	__syscall(SYS_write, 2, buf, p - buf);
}

static char *put(char *p, const char *s)
{
	while (*s) *p++ = *s++;
	return p;
}

/* Each task's wait, from musl's thread list (nothing runs: no lock). */
static int report_deadlock(void)
{
	struct pthread *first = main_task.tcb, *td = first;
	char buf[160], *p;
	/* A task in sigwaitinfo, sigsuspend or pause waits for a signal
	 * from outside (they park on its pending set). */
	do {
		struct task *t = td->pal;
		if (t && t->state == T_PARKED && t->w.addr == &t->sigpending) return 0;
	} while ((td = td->next) != first);
	if (program_handlers()) return 0;
	p = put(buf, "weft: all tasks are blocked: every thread waits for a lock, "
		"condition, semaphore or join that no other can release\n");
	say(buf, p);
	do {
		struct task *t = td->pal;
		p = put(buf, "weft:   thread ");
		p = __sched_fmt_num(p, td->tid, 10);
		if (t == &main_task) p = put(p, " (main)");
		if (!t || t->state != T_PARKED) {
			p = put(p, " is not parked\n");
		} else {
			struct pthread *j = first;
			p = put(p, " waits on futex 0x");
			p = __sched_fmt_num(p, (uintptr_t)t->w.addr, 16);
			do if (t->w.addr == &j->detach_state) {
				p = put(p, " (joining thread ");
				p = __sched_fmt_num(p, j->tid, 10);
				p = put(p, ")");
			} while ((j = j->next) != first);
			p = put(p, "\n");
		}
		say(buf, p);
	} while ((td = td->next) != first);
	const char *k = getenv("WEFT_DEADLOCK");
	if (k && !strcmp(k, "abort")) {
		p = put(buf, "weft: WEFT_DEADLOCK=abort: aborting\n");
		say(buf, p);
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		uint64_t abrt = 1ULL << (SIGABRT - 1);
		__libc_sigaction(SIGABRT, &dfl, 0);
		__syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &abrt, 0, _NSIG/8);
		__syscall(SYS_tkill, S.mon.ktid, SIGABRT);
	}
	p = put(buf, "weft: still waiting, as the program would under 1:1 "
		"(WEFT_DEADLOCK=abort aborts instead)\n");
	say(buf, p);
	return 1;
}

static void check_deadlock(int n, uint64_t now)
{
	unsigned sw = switches(n);
	if (!all_parked(n) || (dead_since && sw != dead_sw)) {
		dead_since = 0;
		if (sw != dead_sw) dead_told = 0;
		dead_sw = sw;
		return;
	}
	if (!dead_since) {
		dead_since = now;
		dead_sw = sw;
	} else if (!dead_told && now - dead_since >= DEADLOCK_NS) {
		dead_told = 1;
		report_deadlock();
	}
}

/* ---- WEFT_TRACE=schedtrace ---------------------------------------------- */

/* One line per S.trace_ns on stderr, as Go's GODEBUG=schedtrace: the
 * workers by state (a spare counts in both workers and spares), the
 * global queue and each worker's (runnext included), tasks running,
 * runnable and parked, and switches, steals and preemptions per second
 * since the last line.  Read without locks: a snapshot, not an atomic
 * one.  Format documented in docs/debugging.md. */
static struct {
	uint64_t start, next, last;
	unsigned long sw, steal, pre;
} tr;

/* Tasks waiting on w for a worker: its run queue, runnext and cont deque
 * (a snapshot, for the trace). */
static unsigned queued_on(struct worker *w)
{
	return __sched_runq_len(&w->rq) + !!__atomic_load_n(&w->runnext, __ATOMIC_RELAXED) +
		__atomic_load_n(&w->ncont, __ATOMIC_RELAXED);
}

static void trace(int n, uint64_t now)
{
	char buf[1024], *p = buf, *lim = buf + sizeof buf - 64;
	int busy = 0, spin = 0, idle = 0, sys = 0, local = 0;
	unsigned long sw = 0, steal = 0, pre = 0;
	if (!tr.start) tr.start = tr.last = now;
	if (now < tr.next) return;
	tr.next = now + S.trace_ns;
	for (int i = 0; i < n; i++) {
		struct worker *w = &S.w[i];
		if (w->sleeping) idle++;
		else if (w->sys_since) sys++;
		else if (w->cur) busy++;
		else spin++;
		sw += w->nswitch, steal += w->nsteal, pre += w->npreempt;
		local += queued_on(w);
	}
	/* Ids: every one issued but free ones, the workers' and the
	 * monitor's; the main task has the process id. */
	int ids = S.nextid - S.firstid - S.nfree - (S.cap + 1);
	for (int i = 0; i < S.cap; i++) ids -= S.w[i].nids;
	int tasks = ids + (__sched_main() != 0), running = busy + sys;
	int runnable = S.qlen + local, parked = tasks - running - runnable;
	uint64_t dt = now - tr.last;
	#define NUM(v) (p = __sched_fmt_num(p, (v), 10))
	#define RATE(v, old) NUM(dt ? ((v) - (old)) * 1000000000ULL / dt : 0)
	p = put(p, "weft: schedtrace ");
	NUM((now - tr.start) / 1000000);
	p = put(p, "ms: workers=");
	NUM(n);
	p = put(p, " spares=");
	NUM(n - S.nprocs);
	p = put(p, " busy=");
	NUM(busy);
	p = put(p, " spinning=");
	NUM(spin);
	p = put(p, " idle=");
	NUM(idle);
	p = put(p, " syscall=");
	NUM(sys);
	p = put(p, " runqueue=");
	NUM(S.qlen);
	p = put(p, " [");
	for (int i = 0; i < n && p < lim; i++) {
		if (i) *p++ = ' ';
		NUM(queued_on(&S.w[i]));
	}
	p = put(p, "] tasks=");
	NUM(tasks);
	p = put(p, " running=");
	NUM(running);
	p = put(p, " runnable=");
	NUM(runnable);
	p = put(p, " parked=");
	NUM(parked > 0 ? parked : 0);
	p = put(p, " switches/s=");
	RATE(sw, tr.sw);
	p = put(p, " steals/s=");
	RATE(steal, tr.steal);
	p = put(p, " preempts/s=");
	RATE(pre, tr.pre);
	*p++ = '\n';
	#undef NUM
	#undef RATE
	say(buf, p);
	tr.sw = sw, tr.steal = steal, tr.pre = pre, tr.last = now;
}

int __sched_monitor_main(void *arg)
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
		if (S.trace_ns) trace(n, now);
		for (int i = 0; i < n; i++) {
			struct worker *w = &S.w[i];
			uint64_t since = w->sys_since;
			unsigned sw = w->nswitch;
			/* A spare's idleness: it has run no task since
			 * mon_idle (a wake that found nothing does not
			 * count). */
			if (!w->mon_idle || sw != w->mon_idle_sw) {
				w->mon_idle = now;
				w->mon_idle_sw = sw;
			}
			/* The cont deque's oldest, the oldest for
			 * SLICE_NS: to the global queue (proc.c, cont_push),
			 * where any worker takes it in turn. */
			struct task *co = __sched_cont_oldest(w);
			if (co != w->mon_cont) {
				w->mon_cont = co;
				w->mon_cont_since = now;
			} else if (co && now - w->mon_cont_since >= SLICE_NS) {
				__sched_cont_age_out(w, co);
				w->mon_cont = 0;
			}
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
				/* Entries queued on it before this task
				 * ran (scheduler.h, flush). */
				const struct __sched_io_hooks *io = S.io;
				if (io) io->flush(i);
				/* Asleep at three looks in a row: in a raw
				 * syscall. */
				w->mon_asleep = thread_asleep(w->ktid) ? w->mon_asleep + 1 : 0;
				if (w->mon_asleep >= 3) {
					stuck++;
				} else if (w->mon_asleep) {
					continue;
				} else if (__sched_work_visible(RN_ALL) || __sched_timer_due(now) || __np_ready()) {
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
			else if ((interval *= 2) > MON_MAX_NS) interval = MON_MAX_NS;
			retire_spare(now);
			if (idle == n) check_deadlock(n, now);
			continue;
		}
		interval = MON_MIN_NS;
		if (!__sched_work_visible(RN_ALL) && !__sched_timer_due(now) && !__np_ready())
			retire_spare(now);
		else if (idle) __sched_wake_one();
		/* Workers that are not stuck stay at most S.nprocs, as
		 * Go's Ps: a spare stands for a stuck worker, and the
		 * others' queues wait for preemption, not for more
		 * threads.  So the process has at most S.nprocs + the
		 * stuck workers + the monitor. */
		else if (n - stuck < S.nprocs) start_spare();
	}
	return 0;
}

