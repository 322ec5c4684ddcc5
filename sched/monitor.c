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
	if (__sched_worker_init(w, n, -w->ktid)) return 0;
	w->ktid = 0;
	if (__clone(__sched_worker_main, w->g0.sp, CLONE_FLAGS, w, &w->ktid, w->g0_tp, 0) < 0)
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
		} else if (r != -EINTR) break;	/* -EAGAIN: slept it all */
	}
	__syscall(SYS_rt_sigprocmask, SIG_SETMASK, &keep, 0, _NSIG/8);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	S.mon.g0_idle = 0;
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
			else if (interval < MON_MAX_NS) interval *= 2;
			continue;
		}
		interval = MON_MIN_NS;
		if (!__sched_work_visible(RN_ALL) && !__sched_timer_due(now) && !__np_ready())
			continue;
		if (idle) __sched_wake_one();
		else start_spare();
	}
	return 0;
}

