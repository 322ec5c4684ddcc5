/*
 * pal.h - weft's platform abstraction layer: the whole contract between
 * musl (plus libc-overlay/) and a backend (pal/native/, pal/epoll/, ...).
 *
 * musl's thread, TLS, futex and blocking-syscall primitives reach the
 * kernel only through the functions below.  A backend is one directory
 * under pal/ chosen by `configure --pal=NAME`; it defines every function
 * here and nothing else that musl calls.  The overlay and everything above
 * it are identical across backends.
 *
 * Conventions, for every function:
 *  - All are hidden (internal to libc); none sets errno.  Failures return
 *    -errno (Linux error numbers); errno is set once, at the libc boundary.
 *  - "Thread" means a pthread as the program sees it: an OS thread under
 *    the native backend, a task under an M:N backend.  "Caller" is the
 *    calling thread in that sense.
 *  - Deadlines are absolute struct timespec values on the clock named
 *    alongside them (POSIX style, as pthread_cond_timedwait); NULL means
 *    no deadline.  tv_nsec outside [0, 1e9) is -EINVAL.  A deadline
 *    already past gives -ETIMEDOUT without blocking.
 *  - priv != 0 means the futex word is private to this process (the
 *    FUTEX_PRIVATE_FLAG of futex(2)); priv == 0 means it may be shared
 *    with other processes (PTHREAD_PROCESS_SHARED objects, sem_open).
 *  - Every function is thread-safe and async-signal-safe unless it says
 *    otherwise.
 *
 * Sources followed: futex(2) and the Linux futex semantics musl 1.2.3
 * relies on (src/internal/pthread_impl.h, src/thread/__timedwait.c);
 * POSIX.1-2017 XSH 2.9.5 for cancellation points; musl 1.2.3's
 * __syscall_cp, __clone and __set_thread_area for the rest.
 */
#ifndef WEFT_PAL_H
#define WEFT_PAL_H

#include <stddef.h>
#include <signal.h>
#include <time.h>

#ifndef hidden
#define hidden __attribute__((__visibility__("hidden")))
#endif

struct __pthread;	/* musl's TCB, "struct pthread" in pthread_impl.h */

/* Backend name ("native", "epoll", ...), for diagnostics and tests. */
extern hidden const char __pal_name[];

/* ---- Futex: every wait and wake in libc --------------------------------- */

/* __pal_futex_wait flags. */
#define PAL_WAIT_CANCEL 1	/* the wait is a cancellation point */
#define PAL_WAIT_LOCK 2		/* a mutex waiter's wait (below) */

/*
 * Block the caller while *addr == val, until woken by __pal_futex_wake or
 * __pal_futex_requeue on addr, the deadline `at` on clock `clk` passes, or
 * a signal handler runs.  The compare and the sleep are atomic with
 * respect to wakers, as FUTEX_WAIT.  Spurious returns of 0 are allowed;
 * callers re-check their condition.
 * With PAL_WAIT_CANCEL the wait is a POSIX cancellation point: a pending
 * or arriving cancellation request acts as in musl's __syscall_cp (the
 * thread exits, or -ECANCELED if cancellation is masked to "return").
 * With PAL_WAIT_LOCK, addr is musl's mutex lock word (owner in bits
 * 0-29, 0x3fffffff: unrecoverable; bit 30 owner died; bit 31 waiters)
 * and val is the word as the caller last read it, with an owner: the
 * wait sets bit 31 and blocks while the word has an owner.  Native:
 * musl's own, a CAS of val to val|bit 31 and a wait for that value.  M:N:
 * the owner check and the CAS are made with the waiter queued, so an
 * unlock and relock by the holder since the caller's read (which clears
 * bit 31) does not send the waiter round its lock loop again (-EAGAIN
 * only when the word has no owner).
 * Returns 0 (woken or spurious), -EAGAIN (*addr != val on entry),
 * -ETIMEDOUT, -EINTR (a signal handler ran), -ECANCELED, -EINVAL (bad
 * deadline or clock).
 */
hidden int __pal_futex_wait(volatile void *addr, int val, int priv,
	clockid_t clk, const struct timespec *at, int flags);

/*
 * Wake up to cnt threads blocked in __pal_futex_wait on addr (cnt < 0:
 * all).  Returns the number woken (>= 0) or -errno.  Never blocks.
 */
hidden int __pal_futex_wake(volatile void *addr, int cnt, int priv);

/*
 * A lock's release: as __pal_futex_wake(addr, 1, priv) for a lock word
 * whose every waiter, once woken, retries the lock before it waits again
 * (musl's mutexes but PI; condition variables requeue onto them).  The
 * caller has released the lock with a seq_cst RMW on the word.  An M:N
 * backend wakes nobody while a waiter it woke for an earlier release of
 * addr has not yet run: that waiter's retry sees this release.  Returns
 * the number woken (0 or 1) or -errno.  Never blocks.  Native: the wake.
 */
hidden int __pal_futex_wake_lock(volatile void *addr, int priv);

/*
 * Wake up to nwake waiters on `from`, then move up to nmove of the
 * remaining ones to wait on `to` without waking them (FUTEX_REQUEUE).
 * Returns the number woken plus moved, or -errno.  Never blocks.
 */
hidden int __pal_futex_requeue(volatile void *from, int nwake, int nmove,
	volatile void *to, int priv);

/*
 * Priority-inheritance lock on the PI futex word at addr (FUTEX_LOCK_PI:
 * the word holds the owner's thread id, bit 31 marks waiters).  `at` is a
 * deadline on CLOCK_REALTIME.  Returns 0 (locked), -ETIMEDOUT, -EDEADLK
 * (caller owns it), -EINTR, -ENOSYS or -EINVAL (the kernel lacks PI),
 * -ENOTSUP (the backend does not offer PI: pthread_mutexattr_setprotocol
 * then fails with ENOTSUP), or the other errors of FUTEX_LOCK_PI.
 */
hidden int __pal_futex_lock_pi(volatile void *addr, int priv,
	const struct timespec *at);

/* Release a PI futex owned by the caller (FUTEX_UNLOCK_PI).  0 or -errno. */
hidden int __pal_futex_unlock_pi(volatile void *addr, int priv);

/*
 * How a lock waiter should spin (a_spin) before it sleeps in
 * __pal_futex_wait, or before it yields in pthread_spin_lock.  Spinning
 * pays only while the holder can run meanwhile.
 * __pal_spins(n): how many of musl's n rounds to spin (0..n).  Native: n.
 * __pal_spin_ok(): 1 or 0, asked before each round.  Native: 1.
 * M:N: none (0) if the caller is a task and no other worker is awake
 * or a task waits on the caller's worker (Go's sync_runtime_canSpin),
 * since a spinning task holds its worker; else as native.  Cheap: no
 * syscall, no lock.
 */
hidden int __pal_spins(int n);
hidden int __pal_spin_ok(void);

/* ---- Blocking system calls ---------------------------------------------- */

/*
 * Make system call nr with six arguments, as musl's __syscall_cp: the
 * call is a cancellation point.  Every blocking syscall musl issues on
 * behalf of a cancellation-point function comes through here (read,
 * write, accept, connect, poll, nanosleep, open, close, fsync, wait4, ...).
 * Returns the kernel's result: >= 0, or -errno (-ECANCELED as for
 * __pal_futex_wait).  A backend may run the call in any way that gives
 * the same result and the same side effects (an M:N backend parks the
 * task on the netpoller instead of blocking its worker).
 */
hidden long __pal_syscall_cp(long nr, long a, long b, long c, long d,
	long e, long f);

/*
 * The same for a system call that may block but is not a cancellation
 * point (stdio's read and write paths).
 */
hidden long __pal_syscall_block(long nr, long a, long b, long c, long d,
	long e, long f);

/* ---- File descriptors: the program's view -------------------------------- */

/*
 * A backend that keeps state per fd (the M:N backend's netpoller) learns
 * here what the program does to its fds: fcntl(2), ioctl(2) FIONBIO,
 * dup(2) and closes report to it.  Native does nothing.  All are
 * thread-safe and async-signal-safe; fd is any int (unknown fds pass).
 * The kernel's flags are always the program's: no backend hides any.
 *
 * __pal_fd_getfl: the F_GETFL result to show for kernel flags kflags.
 * __pal_fd_setfl: the F_SETFL argument to give the kernel for flags.
 * __pal_fd_fionbio: ioctl FIONBIO with *arg == on; returns 1 if the
 *   backend took it (the call then succeeds without the kernel), else 0.
 * __pal_fd_replacing: newfd is about to become a copy of oldfd (dup2,
 *   dup3): if oldfd is open, calls blocked on newfd must go on with the
 *   open file description they had, as under 1:1 (close(2) through
 *   __pal_syscall_cp does the same itself).
 * __pal_fd_dup: newfd became a copy of oldfd (dup, dup2, dup3, F_DUPFD);
 *   whatever newfd was before is gone.
 * __pal_fd_closed: libc closed fd by a path other than close(2)'s
 *   __syscall_cp (fclose).
 * __pal_fd_sockopt: setsockopt(fd, level, name) succeeded (a backend
 *   that caches SO_RCVTIMEO/SO_SNDTIMEO learns them again).  A raw
 *   syscall(SYS_setsockopt) is not seen.
 */
hidden int __pal_fd_getfl(int fd, int kflags);
hidden int __pal_fd_setfl(int fd, int flags);
hidden int __pal_fd_fionbio(int fd, int on);
hidden void __pal_fd_replacing(int oldfd, int newfd);
hidden void __pal_fd_dup(int oldfd, int newfd);
hidden void __pal_fd_closed(int fd);
hidden void __pal_fd_sockopt(int fd, int level, int name);

/*
 * vfork(2) and posix_spawn's CLONE_VM child run on the caller's memory,
 * stack region and thread pointer until they exec or exit.  Returns 1
 * if that is safe (native: always), 0 if vfork must be a fork (under
 * M:N once the scheduler runs: the child would act on the caller's task
 * and worker, whose masks, queues and locks other workers share).  For
 * the vfork overlay; async-signal-safe.
 */
hidden int __pal_vfork_shares(void);

/* ---- Threads: create, exit, identity, signals --------------------------- */

/*
 * The part of starting a thread (below) that needs no thread-list lock,
 * done before pthread_create takes it, with the same arguments and
 * application signals blocked: the lock then covers little more than the
 * list's links, since every create and exit takes it.  Returns 0, or
 * -EAGAIN (no resources: pthread_create fails without calling
 * __pal_thread_spawn).  Native: nothing (the clone must be made under
 * the lock, so that the thread cannot exit before it is linked).  M:N:
 * the whole task (its id, context and signal state); the task cannot
 * run before __pal_thread_run, and __pal_thread_spawn cannot fail after
 * it, so there is nothing to undo.
 */
hidden int __pal_thread_prepare(struct __pthread *td, int (*start)(void *),
	void *arg, void *stack);

/*
 * Start a new thread whose TCB `td` (musl's struct pthread, with static
 * TLS, set up by __copy_tls) and stack are already prepared: it runs
 * start(arg) on `stack` (16-byte aligned top) with its thread pointer
 * set to TP_ADJ(td).  On success sets td->tid to the thread's id (unique
 * among live threads, > 0, < 2^30) before the new thread can observe it,
 * and returns that id.  The thread's end releases the thread-list lock
 * (see __pal_thread_exit).
 * Called after a successful __pal_thread_prepare, with the thread-list
 * lock held and application signals blocked.  Returns the id, or -EAGAIN
 * (no resources).  The thread may not run until __pal_thread_run(td).
 */
hidden int __pal_thread_spawn(struct __pthread *td, int (*start)(void *),
	void *arg, void *stack);

/*
 * Let the thread that __pal_thread_spawn made for td run, if it does not
 * already: called once per successful spawn, by pthread_create, after td
 * is linked into the thread list, the thread-list lock and the ptc lock
 * are released, the creator's signal mask is restored and the new
 * pthread_t is stored in the caller's variable (glibc stores it before
 * the thread starts; stock musl after).  Native: nothing (clone started
 * it).  M:N: the new task waits in the creator's worker's runnext and
 * the creator goes on (Go's newproc; sched/proc.c, __sched_run); an idle
 * worker is woken and may take it.  Not done under the locks: the new
 * task may run on another worker at once, and every create and exit
 * there takes the thread-list lock.
 */
hidden void __pal_thread_run(struct __pthread *td);

/*
 * End the calling thread (never the process), called by pthread_exit
 * with the thread-list lock held and the thread unlinked from the list.
 * If map_base is non-null, first unmap [map_base, map_base + map_size),
 * which holds the caller's own stack and its TCB (__pal_thread_map's
 * mapping of a detached thread; a backend may pool it instead, as
 * __pal_thread_unmap, reading its guard from the TCB's guard_size): the
 * backend must not touch that stack afterwards.  Called with all signals
 * blocked when map_base is set.  If exited is non-null (the TCB's
 * detach_state), store DT_EXITED (0) there and wake its waiters (the
 * joiner: musl's __wake(exited, 1, 1)).
 *
 * Release of the thread-list lock, and when join may free the stack:
 * natively (musl) the exit store comes before SYS_exit, and the kernel
 * clears and wakes __thread_list_lock (CLONE_CHILD_CLEARTID) once the
 * thread is gone: join's __tl_sync waits for that.  M:N releases the
 * lock at once (nothing but join needs the dead task off its stack) and
 * makes the exit store after the task's last switch, from the next
 * context on its worker: join then finds the stack free.
 */
hidden _Noreturn void __pal_thread_exit(void *map_base, size_t map_size,
	volatile int *exited);

/*
 * Whether thread td (0: a thread pthread_create would start now) runs on
 * a kernel thread of its own, whose kernel tid is td->tid, so that the
 * kernel's per-thread calls on that tid act on td alone: scheduling
 * policy and priority (sched_setscheduler(2)), CPU affinity
 * (sched_setaffinity(2)), the thread CPU-time clock
 * (pthread_getcpuclockid(3)), the name (/proc/self/task/<tid>/comm,
 * PR_SET_NAME); and whose end the kernel reports by clearing and waking
 * the thread-list lock (CLONE_CHILD_CLEARTID), which join's __tl_sync
 * waits for.  Native: always 1.  M:N: 0 for a task, which shares its
 * worker's kernel thread with other tasks and whose td->tid is a task id
 * that may name an unrelated thread or process; the overlay then does the
 * task's own version of the call (libc-overlay/src/thread/, sched/).
 * Thread-safe; td must be live (its creator or joiner has not freed it).
 */
hidden int __pal_thread_is_kernel(struct __pthread *td);

/*
 * SIGEV_THREAD timers (timer_create(3)).  musl gives each such timer a
 * detached notification thread, td, which waits in sigwaitinfo for
 * SIGTIMER and calls the program's function for each one with si_code
 * SI_TIMER; its kernel timer sends SIGTIMER with SIGEV_THREAD_ID.
 *
 * __pal_timer_attach: td, for itself, before its kernel timer exists,
 *   with r in memory it keeps until __pal_timer_detach(r).  Sets *tid
 *   and *value to the kernel timer's sigev_tid and sigev_value.  Native:
 *   td->tid (td itself) and 0.  M:N: the scheduler's monitor thread
 *   (td->tid is a task id, which the kernel would reject or, worse,
 *   find in another process) and a value naming r; the monitor forwards
 *   each SIGTIMER to td's task, whose sigwaitinfo reports it with
 *   si_code SI_TIMER.  One that comes while td has not yet taken the
 *   previous one is merged with it (timer_getoverrun does not count it).
 *   Returns 0 or -errno.
 * __pal_timer_detach: td takes no more notifications: called before it
 *   deletes its kernel timer and exits.
 * __pal_timer_kill: timer_delete's wake-up for td, which may be exiting
 *   meanwhile: SIGTIMER with si_code SI_TKILL.  Native: tkill(td->tid),
 *   as musl.  M:N: only while td is attached (r is then live).
 * Thread-safe; attach and detach are not async-signal-safe.
 */
struct __pal_timer { void *priv[4]; };
hidden int __pal_timer_attach(struct __pthread *td, struct __pal_timer *r,
	int *tid, union sigval *value);
hidden void __pal_timer_detach(struct __pal_timer *r);
hidden void __pal_timer_kill(struct __pthread *td);

/*
 * Identity of the initial thread: called once, from __init_tp, before
 * any other PAL function, with TLS not yet usable.  Returns the initial
 * thread's id, the process id (getpid(2)), as gettid(2) gives it, and
 * arranges for __thread_list_lock to be cleared and woken when that
 * thread exits, as set_tid_address(2) (M:N: the scheduler releases it
 * itself, see __pal_thread_exit).
 */
hidden int __pal_thread_init_main(struct __pthread *td);

/*
 * Thread ids as the program sees them (gettid(2), tkill(2), tgkill(2)):
 * a thread's id is td->tid, unique among the process's live threads,
 * > 0, constant for the thread's life, and the initial thread's is the
 * process id.  musl's gettid() returns td->tid; its syscall(3) sends
 * SYS_gettid, SYS_tkill and SYS_tgkill here (libc-overlay/src/misc/
 * syscall.c), so that raw calls agree with it.
 * __pal_gettid: the caller's id.  Cannot fail.
 * __pal_tkill, __pal_tgkill: send sig (0: only check) to the thread
 *   whose id is tid, as tkill(2) and tgkill(2): if tid names a live
 *   thread of this process (and tgid, for tgkill, is this process's
 *   id), as __pal_thread_kill (the handler runs on that thread);
 *   otherwise the kernel's call, which may reach another process's
 *   thread.  Returns 0 or -errno: -EINVAL (bad signal, tid or tgid
 *   <= 0), -ESRCH (no such thread), -EPERM, -EAGAIN (real-time queue
 *   full).
 * Native: the plain syscalls (td->tid is the kernel tid).  M:N: a task's
 * id is a task id, not a kernel tid, from 2^22 (PID_MAX_LIMIT, above
 * every kernel tid on 64-bit Linux) up, so it never names a real thread
 * or process, and these look it up among the live tasks first (musl's
 * thread list, under the thread-list lock); the main task's id is the
 * process id.  There is no /proc/self/task/<id> for a task.
 */
hidden int __pal_gettid(void);
hidden int __pal_tkill(int tid, int sig);
hidden int __pal_tgkill(int tgid, int tid, int sig);

/*
 * Deliver signal sig to thread td (tkill(2) semantics: the handler runs
 * on td).  Returns 0 or tkill's errors: -EINVAL (bad signal), -EAGAIN
 * (real-time signal queue full).  The caller holds td->killlock and has
 * checked td->tid != 0, i.e. td has not exited (musl's rule for td->tid).
 */
hidden int __pal_thread_kill(struct __pthread *td, int sig);

/*
 * Map the memory of a new thread (its stack, TLS and TCB): size bytes, a
 * multiple of the page size, whose lowest guard bytes fault on access
 * (guard may be 0) and whose rest is readable and writable.  Its highest
 * `zero` bytes (pthread_create: the TLS, TCB and TSD, which musl expects
 * zeroed as mmap leaves them) are zero-filled.  The rest above the guard
 * is zero-filled too in a new mapping, but a backend may instead hand
 * out the mapping of an exited thread, of the same size and guard, with
 * its stack as that thread left it (pal/epoll pools them: see
 * sched/stack.h).  Stores the lowest address in *map.  Returns 0, or
 * -ENOMEM / -EAGAIN.
 */
hidden int __pal_thread_map(void **map, size_t size, size_t guard,
	size_t zero);

/*
 * Give back a mapping made by __pal_thread_map with this size and guard,
 * from a thread other than the one that ran on it (pthread_join, or a
 * failed pthread_create).  The backend may keep it for reuse.
 */
hidden void __pal_thread_unmap(void *map, size_t size, size_t guard);

/*
 * In the child of fork(2), from the only thread left there: forget every
 * other thread and return the caller's new id (> 0, < 2^30).
 */
hidden int __pal_fork_child(struct __pthread *self);

/*
 * Let other threads run (sched_yield(2) semantics: the caller stays
 * runnable).  Returns 0 or -errno.
 */
hidden int __pal_yield(void);

/*
 * The calling thread's signal mask, with rt_sigprocmask(2) semantics on
 * the kernel's sigset (_NSIG/8 bytes): how is SIG_BLOCK, SIG_UNBLOCK or
 * SIG_SETMASK; set may be NULL (query); the previous mask goes to *old if
 * old is not NULL.  The mask belongs to the thread (task) and follows it
 * across workers.  Returns 0, -EINVAL or -EFAULT.
 */
hidden int __pal_sigmask(int how, const void *set, void *old);

/*
 * sigaction(2) seam, from musl's __sigaction (application signals only;
 * the internal 32..34 never reach it).  __pal_sig_wrap is given a copy of
 * the program's action for sig, with a handler (not SIG_DFL or SIG_IGN),
 * and may rewrite it into what the kernel is to be given: the backend's
 * own handler, which calls the program's; if prev is not 0, it first
 * saves there the backend's record of the program's previous action for
 * sig (which wrapping overwrites).  __pal_sig_unwrap turns the action
 * the kernel reports back (*old, from the same call) into the program's,
 * from prev if wrap was called with it in the same call (else 0), so
 * that sigaction(2)'s old action is the one replaced, not the new one.
 * Both async-signal-safe, with no lock: two threads setting one
 * signal's action at once get one of the two, as with the kernel.
 * Native: both do nothing.
 */
hidden void __pal_sig_wrap(int sig, struct sigaction *sa, struct sigaction *prev);
hidden void __pal_sig_unwrap(int sig, struct sigaction *old,
	const struct sigaction *prev);

/*
 * sigaltstack(2) for the calling thread: set its alternate signal stack
 * from ss (may be NULL) and report the previous one in *old (may be
 * NULL), with the kernel's checks and results (ss_flags SS_DISABLE,
 * SS_ONSTACK while running on it, SS_AUTODISARM kept; -EPERM to change
 * it while on it, -EINVAL bad flags, -ENOMEM too small).  A new thread
 * has none.  A handler with SA_ONSTACK runs on the receiving thread's
 * own, or on its normal stack if it has none.  Native: the syscall.
 * M:N: each task has its own (t->alt), which is the kernel's for its
 * worker while it runs (sched/altstack.c).
 */
hidden int __pal_sigaltstack(const stack_t *ss, stack_t *old);

/*
 * The same, for musl's short internal windows only (__block_all_sigs,
 * __block_app_sigs, __restore_sigs): while the window is open no signal
 * handler of the program may run on this thread, which is what keeps
 * libc's locks async-signal-safe.  A backend may keep such blocks out of
 * the kernel, as long as a handled signal that arrives meanwhile waits
 * until the window closes (M:N: see pal/epoll/thread.c).  Native: the
 * same as __pal_sigmask.
 */
hidden int __pal_sigmask_internal(int how, const void *set, void *old);

/*
 * The signals pending for the calling thread, with rt_sigpending(2)
 * semantics (_NSIG/8 bytes at set): those sent to the process and those
 * sent to the thread (task).  Returns 0 or -EFAULT.
 */
hidden int __pal_sigpending(void *set);

/*
 * Wait for a signal in set, as rt_sigtimedwait(2): timeout is relative
 * (NULL: none; zero: poll).  Takes a pending signal of set sent to the
 * thread (task) or the process, fills *si if si is not NULL, and returns
 * its number; or -EAGAIN (timed out), -EINTR (a handler ran), -EINVAL.
 * A cancellation point, as musl's __syscall_cp.
 */
hidden int __pal_sigtimedwait(const void *set, siginfo_t *si,
	const struct timespec *timeout);

/*
 * sigsuspend(2): with *mask (kernel sigset) as the thread's signal mask,
 * wait until a signal handler has run, then put the old mask back and
 * return -EINTR (the only return).  The handler runs with *mask in
 * place, as POSIX (sigsuspend) and sigsuspend(2) say; a pending signal
 * that *mask lets through ends the wait at once.  Signals that run no
 * handler (ignored, stopped and continued) do not end it.  A
 * cancellation point.  Native: rt_sigsuspend(2) through __syscall_cp.
 */
hidden int __pal_sigsuspend(const void *mask);

/*
 * musl's __synccall, from its overlay, after it has blocked all signals,
 * taken the thread-list lock and disabled cancellation: run func(ctx) on
 * every kernel thread of the process (credentials are per kernel thread:
 * setuid(2) and friends), the caller's included, all held until all ran
 * it.  Returns 0 if done, or -ENOSYS: the kernel threads are the
 * pthreads, and musl's own per-thread protocol is to be used.
 */
hidden int __pal_synccall(void (*func)(void *), void *ctx);

/*
 * From musl's SIGCANCEL handler, when the cancelled thread is not at a
 * cancellation point (asynchronous cancellation is off): make the
 * request act at the next one.  uc_mask is the mask the handler returns
 * to (a kernel sigset, SIGCANCEL already added by musl).  Native re-sends
 * SIGCANCEL to itself, as musl does; a backend whose cancellation points
 * all check td->cancel may instead leave SIGCANCEL unblocked.
 */
hidden void __pal_cancel_deferred(struct __pthread *self, void *uc_mask);

/* ---- Thread pointer and TLS --------------------------------------------- */

/*
 * Set the caller's thread pointer (FS base on x86_64) to tp.  Called by
 * __init_tp before TLS is usable, and by a backend whenever it switches
 * threads.  Returns 0 on success, > 0 if TLS works but threads cannot be
 * created, < 0 on failure (as musl's __set_thread_area).
 */
hidden int __pal_set_thread_pointer(void *tp);

#endif
