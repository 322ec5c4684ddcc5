/* M:N backend: pthreads are tasks (sched/proc.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include "pthread_impl.h"
#include "syscall.h"
#include "pal.h"
#include "scheduler.h"
#include "aio.h"
#include "io.h"

/* The whole task, before the thread-list lock (pal.h): spawn, under
 * it, only reports the id. */
int __pal_thread_prepare(struct pthread *td, int (*start)(void *),
	void *arg, void *stack)
{
	/* A task is calling: the scheduler runs.  (__sched_start would
	 * count the CPUs, a getenv and a sched_getaffinity, before finding
	 * that out: one syscall per pthread_create.) */
	if (!__sched_self()) {
		int r = __sched_start();
		if (r) return r;
	}
	struct task *t = __sched_self();
	__sched_nosig_enter(t);
	int r = __sched_spawn(td, start, arg, stack);
	__sched_nosig_leave(t);
	return r < 0 ? r : 0;
}

int __pal_thread_spawn(struct pthread *td, int (*start)(void *),
	void *arg, void *stack)
{
	return td->tid;
}

void __pal_thread_run(struct pthread *td)
{
	struct task *t = __sched_self();
	__sched_nosig_enter(t);
	__sched_run(td->pal);
	__sched_nosig_leave(t);
}

_Noreturn void __pal_thread_exit(void *map_base, size_t map_size,
	volatile int *exited)
{
	struct task *t = __sched_self();
	if (t) {
		if (t->id) __pal_sig_exit(t);
		__sched_exit(map_base, map_size, exited);
	}
	/* A plain thread (none is, while the scheduler runs). */
	if (exited) {
		a_store(exited, DT_EXITED);
		__wake(exited, 1, 1);
	}
	for (;;) __syscall(SYS_exit, 0);
}

/* A plain thread: the main thread before the scheduler starts, or a
 * forked child's.  Every thread pthread_create makes here is a task. */
int __pal_thread_is_kernel(struct pthread *td)
{
	return td && !td->pal;
}

int __pal_thread_kill(struct pthread *td, int sig)
{
	struct task *t = td->pal;
	if (!t) return __syscall(SYS_tkill, __syscall(SYS_gettid), sig);
	return __sched_kill(t, sig);
}

/* Ids (pal.h).  A task's is td->tid, from SCHED_ID_BASE (2^22) up, above
 * every kernel tid; the main task's is the process id.  Before the
 * scheduler starts, and in a fork child, the caller is a plain thread
 * and its id is its kernel tid. */
int __pal_gettid(void)
{
	if (!__sched_self()) return __syscall(SYS_gettid);
	return __pthread_self()->tid;
}

/* Send sig, as pthread_kill does, to the live thread of this process
 * whose id is tid, if there is one (*found).  Found in musl's thread
 * list under the thread-list lock, which also keeps it from exiting
 * meanwhile: pthread_exit unlinks the thread under that lock, before it
 * clears its tid (so the lock stands in for pthread_kill's killlock,
 * which pthread_exit takes before this one: it cannot be taken here).
 * From a task, the walk starts at the caller.  From a program handler on
 * an idle worker's g0 (not in the list), it starts at the main task,
 * unless that has exited: then no task is found; and the lock is taken
 * by spinning, since g0 cannot park and the lock's wake goes to the
 * lot, not to the kernel. */
static int kill_id(int tid, int sig, int *found)
{
	struct pthread *self = __pthread_self(), *start = self, *td;
	struct task *t = __sched_self();
	sigset_t set;
	int r = 0;

	*found = 0;
	__block_all_sigs(&set);
	if (t->id) {
		__tl_lock();
	} else {
		while (a_cas(&__thread_list_lock, 0, self->tid))
			__syscall(SYS_sched_yield);
		start = __sched_main_tcb();
	}
	if (start && start->tid) {
		td = start;
		do {
			if (td->tid == tid) {
				*found = 1;
				r = __pal_thread_kill(td, sig);
				break;
			}
		} while ((td = td->next) != start);
	}
	__tl_unlock();
	__restore_sigs(&set);
	return r;
}

/* tid is this process's: a live task, or the main thread's id (the
 * pid) once it has exited.  Natively the latter is the thread-group
 * leader, a zombie, which takes the signal and never runs a handler;
 * here the kernel would run it on whatever task worker 0 runs. */
static int kill_own(int tid, int sig, int *own)
{
	int r = kill_id(tid, sig, own);
	if (*own) return r;
	if (tid == __syscall(SYS_getpid)) {
		*own = 1;
		return (unsigned)sig >= _NSIG ? -EINVAL : 0;
	}
	return 0;
}

int __pal_tkill(int tid, int sig)
{
	int own, r;
	if (__sched_self() && tid > 0) {
		r = kill_own(tid, sig, &own);
		if (own) return r;
	}
	return __syscall(SYS_tkill, tid, sig);
}

int __pal_tgkill(int tgid, int tid, int sig)
{
	int own, r;
	if (__sched_self() && tid > 0 && tgid == __syscall(SYS_getpid)) {
		r = kill_own(tid, sig, &own);
		if (own) return r;
	}
	return __syscall(SYS_tgkill, tgid, tid, sig);
}

/* Guards by MADV_GUARD_INSTALL where the kernel has it (no extra VMA per
 * thread, so 100,000s of threads fit under vm.max_map_count), else
 * mprotect; mappings of exited threads are pooled and reused (joined
 * ones from here, detached ones from the scheduler's bury()): all in
 * sched/stack.c, whose stack.h describes the pool. */
int __pal_thread_map(void **out, size_t size, size_t guard, size_t zero)
{
	struct __sched_stack st;
	struct task *t = __sched_self();
	__sched_nosig_enter(t);
	int r = __sched_stack_take(&st, size - guard, guard, zero);
	__sched_nosig_leave(t);
	if (r < 0) return r == -EINVAL ? -ENOMEM : r;
	*out = st.map;
	return 0;
}

void __pal_thread_unmap(void *map, size_t size, size_t guard)
{
	struct __sched_stack st = { .map = map, .map_size = size, .guard = guard };
	struct task *t = __sched_self();
	__sched_nosig_enter(t);
	__sched_stack_give(&st);
	__sched_nosig_leave(t);
}

int __pal_fork_child(struct pthread *self)
{
	/* The child has one kernel thread, running the task that forked:
	 * it goes on as a plain thread with its kernel tid (so robust and
	 * process-shared objects work as natively), and a later
	 * pthread_create starts a fresh scheduler. */
	if (self->pal) __sched_fork_child();
	__sched_stack_pool_fork();
	__pal_aio_fork_child();
	return __syscall(SYS_gettid);
}

int __pal_spins(int n)
{
	return __sched_spin_ok() ? n : 0;
}

int __pal_spin_ok(void)
{
	return __sched_spin_ok();
}

int __pal_yield(void)
{
	if (!__sched_self()) return __syscall(SYS_sched_yield);
	__sched_yield();
	return 0;
}

/* A task's mask is t->sigmask, which follows it to the next worker; the
 * worker's kernel mask (w->mask) is made equal to it whenever the task
 * is switched in.
 *
 * Inside a program handler the kernel has added the handler's mask
 * behind t->sigmask (and sigreturn will restore the ucontext's), so
 * there the kernel is asked, and told, as stock musl does; the
 * trampoline (signal.c) resyncs t->sigmask as the handler returns.
 *
 * Elsewhere t->sigmask is the truth and the kernel's mask may be a
 * subset of it: __pal_sigmask_internal (musl's short internal windows,
 * pthread_create, pthread_exit, raise, ...) only records its blocks in
 * t->sigmask.  A handled signal that arrives in such a window reaches
 * the trampoline, which leaves it pending on the task (__sched_defer);
 * the window's end raises it.  A signal at its default action is not
 * held back: it acts a few microseconds early, as if it had arrived
 * just before the window.  __pal_sigmask (pthread_sigmask, sigprocmask)
 * always puts its result in the kernel. */
static int sigmask(int how, const void *set, void *old, int internal)
{
	struct task *t = __sched_self();
	uint64_t cur, s, m;
	int r;

	if (!t || !t->id)
		return __syscall(SYS_rt_sigprocmask, how, set, old, _NSIG/8);
	if (t->in_handler) {
		if ((r = __syscall(SYS_rt_sigprocmask, how, set, &cur, _NSIG/8)))
			return r;
	} else {
		cur = t->sigmask;
	}
	m = cur;
	if (set) {
		__builtin_memcpy(&s, set, sizeof s);
		switch (how) {
		case SIG_BLOCK: m = cur | s; break;
		case SIG_UNBLOCK: m = cur & ~s; break;
		case SIG_SETMASK: m = s; break;
		default: return -EINVAL;
		}
	}
	if (old) __builtin_memcpy(old, &cur, sizeof cur);
	m &= ~(1ULL << (SIGKILL - 1) | 1ULL << (SIGSTOP - 1));
	__sched_mask_set(t, m, t->in_handler ? MASK_IN_KERNEL :
		internal ? MASK_LAZY : MASK_KERNEL);
	return 0;
}

int __pal_sigmask(int how, const void *set, void *old)
{
	return sigmask(how, set, old, 0);
}

int __pal_sigmask_internal(int how, const void *set, void *old)
{
	return sigmask(how, set, old, 1);
}

/* Each task's own alternate signal stack (sched/altstack.c, "Alternate signal
 * stacks"); before the scheduler, and in a fork child, the kernel's. */
int __pal_sigaltstack(const stack_t *ss, stack_t *old)
{
	struct task *t = __sched_self();
	if (!t) return __syscall(SYS_sigaltstack, ss, old);
	return __sched_sigaltstack(t, ss, old);
}
