/*
 * runtime.h - the scheduler's own shared state and helpers: what the
 * sched/*.c files that make up the scheduler (proc.c and the files it
 * names) share with each other, as Go's runtime2.go.  Not for pal/ or
 * netpoll.c, which talk to the scheduler only through scheduler.h.
 *
 * Everything here is hidden (libc-internal).  Names shared across the
 * files carry the __sched_ prefix, since in a static link a hidden
 * symbol still takes part in symbol resolution; S and main_task are
 * short names for __sched_S and __sched_main_task.
 */
#ifndef SCHED_RUNTIME_H
#define SCHED_RUNTIME_H

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
#include "vg.h"
#include "sys.h"

#define ID_CACHE 32	/* free ids a worker keeps (id_free_on) */
#define MSETS 64	/* distinct masks counted in the open set (signal.c) */
#define CONT_MAX 1024	/* displaced tasks a worker keeps (cont_push) */
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
	unsigned tick;			/* find_runnable calls; this worker */
	volatile unsigned nswitch;	/* switches to a task; this worker */
	volatile unsigned nsteal;	/* tasks it stole; this worker */
	volatile unsigned npreempt;	/* its tasks preempted; this worker */
	volatile uint64_t sys_since;	/* its task entered a blocking syscall
					 * then (ns), 0: not in one */
	unsigned mon_sw;		/* nswitch at the monitor's last look */
	uint64_t mon_since;		/* when the monitor saw it change */
	uint64_t mon_idle;		/* no switch since then, and asleep at
					 * the looks that saw it; monitor */
	unsigned mon_idle_sw;		/* nswitch then; monitor */
	uint64_t mon_cpu;		/* the thread's CPU time (ns) then */
	uint64_t mon_sys;		/* sys_since at the last look */
	struct task *mon_cont;		/* the cont deque's oldest then, */
	uint64_t mon_cont_since;	/* first seen oldest then (ns);
					 * monitor */
	int kicked;			/* a kick (SIGSYNCCALL for signals
					 * pending on its task) is on its way:
					 * set by kick() (signal.c), cleared
					 * by the kick's handler */
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
	unsigned sc_gen;		/* the __synccall this thread has taken
					 * part in (process.c, SC.gen); its own
					 * handler, or the caller, writes it */
	int ktid;			/* kernel thread id; constant while it
					 * runs (a spare's: 0 once its thread
					 * has exited, CLONE_CHILD_CLEARTID) */
	unsigned vg_stack;		/* its g0 stack's Valgrind id (vg.h);
					 * kept with the mapping */
	int spare_id;			/* a spare slot's TCB tid, reserved at
					 * start (the monitor cannot malloc) */
	int idx;			/* index in S.w; constant */
	uint32_t rng;			/* steal victim choice; this worker */
	void *alt;			/* ALT_STACK bytes: sigaltstack */
	int nids;			/* free ids cached here (id_free_on); */
	int ids[ID_CACHE];		/* ... this worker */
	struct __sched_stack_cache stacks;	/* task mappings in front of
					 * the pool (stack.h); this worker, in
					 * critical sections */
	uint64_t mpin;			/* mask table entries it holds for its
					 * counts (signal.c); this worker */
	unsigned mcount[MSETS];		/* tasks counted here, per entry, less
					 * those uncounted here; this worker */
	unsigned mgone[MSETS];		/* tasks counted here and uncounted on
					 * another worker; any (atomic) */
	/* On a line of its own: every wake (__sched_wake_one, from every
	 * spawn and every unpark) reads the other workers' word,
	 * and beside the fields a worker writes at each switch that read
	 * moved the line from under its owner each time. */
	_Alignas(64) volatile int sleeping;	/* SLEEP_*: how it sleeps; CAS
					 * to 0 to wake; the monitor's CAS of
					 * SLEEP_FUTEX to SLEEP_RETIRE retires
					 * a spare */
	/* The cont deque, on lines of its own: idle workers read ncont in
	 * their spin (__sched_work_visible), and next to the fields this
	 * worker writes at every switch that read cost a line transfer per
	 * switch (bench/condvar on 2 workers: 0.52-0.67 us a round trip
	 * became 0.82-1.0). */
	_Alignas(64) int cont_lock;	/* guards cont_lo, cont_hi, cont[] */
	unsigned cont_lo, cont_hi;	/* cont[lo..hi), modulo CONT_MAX */
	volatile unsigned ncont;	/* hi - lo, for lock-free looks */
	struct task *cont[CONT_MAX];	/* tasks displaced from runnext:
					 * the owner takes the newest,
					 * thieves the oldest (cont_push);
					 * cont_lock */
};

struct sched {
	volatile int started;		/* set once, before any second task */
	volatile int n;			/* workers running: S.w[0..n); spares
					 * start and retire at the end (the
					 * monitor, under wlock) */
	int nprocs;			/* workers started at first; constant */
	int cap;			/* workers allocated: nprocs + SPARE_MAX */
	struct worker *w;		/* the workers; constant */
	struct worker mon;		/* the monitor thread's TCB and stack */
	/* Written under contention: each on a cache line of its own, away
	 * from the read-mostly fields above. */
	int qlock __attribute__((aligned(64)));	/* global run queue */
	struct task *qhead, *qtail;
	int qlen;			/* tasks on it (WEFT_TRACE) */
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
	uint64_t trace_ns;		/* WEFT_TRACE=schedtrace: its interval,
					 * 0: off; constant */
	int trace_io;			/* WEFT_TRACE lists io; constant */
	const struct __sched_io_hooks *volatile io;	/* a backend's
					 * per-worker I/O queues, 0: none; set
					 * once (__sched_set_io_hooks) */
	int wlock;			/* S.n's changes (the monitor: spares
					 * start, retire) against __synccall,
					 * which signals every worker */
	int lazy __attribute__((aligned(64)));	/* a lock's wake left idle
					 * workers asleep: __sched_unpark_lock */
};

/* w->sleeping: awake, asleep on the futex w->sleeping, or asleep in the
 * netpoller (woken with __np_kick). */
enum { SLEEP_NO, SLEEP_FUTEX, SLEEP_POLL, SLEEP_RETIRE, SLEEP_GONE };


extern hidden struct sched __sched_S;		/* proc.c */
#define S __sched_S
extern hidden struct task __sched_main_task;	/* proc.c */
#define main_task __sched_main_task

/* How long an idle worker sleeps at most while lock wakes leave idle
 * workers asleep (__sched_unpark_lock). */
#define LAZY_NS 100000ULL
/* Idle spins an idle worker keeps up for others' runnexts alone (proc.c,
 * find_runnable): about 2-4 us each. */
#define RN_SPINS 16
/* How long another worker's runnext must sit unchanged, its owner not
 * switching, before an idle worker takes it (proc.c, runnext_steal). */
#define RN_GRACE_NS 5000ULL

/* musl's internal signals (SIGTIMER, SIGCANCEL, SIGSYNCCALL: 32-34). */
#define INTERNAL_SIGS (7ULL << 31)

#define WORKER_STACK 65536
/* Spare workers the monitor may run at once (monitor.c). */
#define SPARE_MAX 32
#define CLONE_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND \
	| CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID \
	| CLONE_DETACHED)
/* Each worker's signal stack, where the stack-overflow report runs. */
#define ALT_STACK 16384

/* Real-time signals queue (signal(7)): t->rtcount counts each one sent,
 * the pending bit says "some".  Senders count, then set the bit. */
#define IS_RT(sig) ((sig) >= 32)

static inline void spin_lock(int *l)
{
	unsigned n = 0;
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(l, __ATOMIC_RELAXED))
			__sched_spin_wait(&n);
}

static inline void spin_unlock(int *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static inline _Noreturn void die(const char *msg)
{
	__syscall(SYS_write, 2, msg, strlen(msg));
	a_crash();
	for (;;);
}

static inline void set_state(struct task *t, int from, int to)
{
	if (t->state != from) die("weft: scheduler: illegal task state transition\n");
	t->state = to;
}


/* The worker the caller runs on (task or g0); 0 on the monitor thread,
 * whose struct worker holds its TCB but no run queue anyone takes from. */
static inline struct worker *self_worker(void)
{
	struct task *t = __sched_self();
	return t && t->worker != &S.mon ? t->worker : 0;
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

/* What __sched_work_visible counts besides queued tasks (proc.c). */
enum { RN_NONE, RN_ALL, RN_NOT_LOCK };

/* The kernel's signal mask for w's thread; w's own thread only. */
static inline void set_mask(struct worker *w, uint64_t m)
{
	if (w->mask == m) return;
	w->mask = m;
	__syscall(SYS_rt_sigprocmask, SIG_SETMASK, &m, 0, _NSIG/8);
}


/* Alternate signal stacks: how w's thread's stack was last set (altstack.c). */
enum { ALT_OWN, ALT_OFF, ALT_TASK, ALT_UNKNOWN };
extern hidden int __sched_alt_onstack;
hidden void __sched_alt_switch(struct worker *w, struct task *t);
hidden void __sched_alt_block(struct worker *w, struct task *t);

static inline int alt_default(void)
{
	return __atomic_load_n(&__sched_alt_onstack, __ATOMIC_RELAXED) ? ALT_OFF : ALT_OWN;
}

static inline void alt_sync(struct worker *w, struct task *t)
{
	if (__builtin_expect((t && t->alt.ss_size) || w->kalt_mode != alt_default(), 0))
		__sched_alt_switch(w, t);
}

/* proc.c: queues, workers, the monitor's view of them. */
hidden void __sched_wake_one(void);
hidden int __sched_work_visible(int runnext);
hidden int __sched_worker_init(struct worker *w, int idx, int id);
hidden int __sched_worker_main(void *arg);

/* time.c: the timer heap and SIGEV_THREAD forwarding. */
hidden uint64_t __sched_run_timers(void);
hidden int __sched_timer_due(uint64_t now);
hidden void __sched_timer_forward(const siginfo_t *si);
hidden void __sched_timers_fork_child(void);
hidden int __sched_timers_attached(void);

/* signal.c */
hidden void __sched_g0_raise(struct worker *w);
hidden void __sched_sig_start(struct task *main);
hidden void __sched_sig_list(struct task *t);
hidden uint64_t __sched_sig_open(void);
hidden void __sched_sig_unpin(struct worker *w);
hidden int __sched_kill_task(struct task *t, int sig);

/* monitor.c */
hidden int __sched_monitor_main(void *arg);

/* preempt.c */
hidden void __sched_preempt_signal(struct task *t, ucontext_t *uc);

/* The oldest task in w's cont deque, a racy look (0: none), for the
 * monitor's age rule; and its move to the global queue if it is still
 * old (proc.c, cont_push). */
hidden struct task *__sched_cont_oldest(struct worker *w);
hidden void __sched_cont_age_out(struct worker *w, struct task *old);

/* Kick w (SIGSYNCCALL): its handler raises the signals pending on the
 * task w runs; one kick on its way per worker (signal.c). */
hidden void __sched_kick(struct worker *w);
hidden void __sched_kicked(struct worker *w);

/* process.c */
hidden void __sched_install_sigsync(void);
hidden char *__sched_fmt_num(char *p, unsigned long v, int base);
hidden void __sched_install_overflow_report(struct worker *w0);

#endif
