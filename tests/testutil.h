/*
 * testutil.h - helpers shared by weft's cmocka tests (tests/unit/,
 * tests/integration/).  Header-only: every test binary is one .c file.
 *
 * cmocka's assertions may only run in the thread that runs the test (a
 * failing one longjmps to that thread's runner), so other threads record
 * failures with CHECK()/CHECK_EQ() and the test reports them afterwards
 * with assert_thread_checks().  Forked children use neither: they report
 * through their exit status.
 */
#ifndef WEFT_TESTUTIL_H
#define WEFT_TESTUTIL_H

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <cmocka.h>

/* A "short deadline" that tests expect to expire, in ms. */
#define SHORT_MS 50
/* How late past a deadline a timeout may be reported, in ms. */
#define SLACK_MS 5000
/* Bound on waits that should end promptly: a lost wakeup becomes a
 * failed assertion instead of a hang. */
#define LONG_MS 10000

#define NELEM(a) (sizeof (a) / sizeof *(a))

/* In a test's own process (a forked child): make syscall nr fail with
 * err from now on, by a seccomp filter (classic BPF; the kernel's
 * headers are not weft's), x86_64 only.  Returns 0, or -1 with errno.
 * After it no_new_privs is set, as seccomp(2) requires. */
struct tu_bpf_insn { unsigned short code; unsigned char jt, jf; unsigned k; };
struct tu_bpf_prog { unsigned short len; struct tu_bpf_insn *filter; };

static inline int tu_seccomp_deny(long nr, int err)
{
	struct tu_bpf_insn f[] = {
		{ 0x20, 0, 0, 4 },			/* ld arch */
		{ 0x15, 0, 3, 0xc000003e },		/* x86_64? */
		{ 0x20, 0, 0, 0 },			/* ld nr */
		{ 0x15, 0, 1, (unsigned)nr },
		{ 0x06, 0, 0, 0x00050000 | err },	/* SECCOMP_RET_ERRNO */
		{ 0x06, 0, 0, 0x7fff0000 },		/* SECCOMP_RET_ALLOW */
	};
	struct tu_bpf_prog p = { NELEM(f), f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) return -1;
	return prctl(PR_SET_SECCOMP, 2 /* SECCOMP_MODE_FILTER */, &p, 0, 0);
}

#define aload(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define astore(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define ainc(p) __atomic_add_fetch((p), 1, __ATOMIC_SEQ_CST)
#define aadd(p, v) __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)

/* ---- Time --------------------------------------------------------------- */

static inline struct timespec ts_now(clockid_t clk)
{
	struct timespec t;
	clock_gettime(clk, &t);
	return t;
}

static inline struct timespec ts_add_ms(struct timespec t, long ms)
{
	t.tv_sec += ms / 1000;
	t.tv_nsec += ms % 1000 * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

static inline struct timespec deadline_ms(clockid_t clk, long ms)
{
	return ts_add_ms(ts_now(clk), ms);
}

/* a - b in nanoseconds */
static inline long long ts_ns_since(struct timespec a, struct timespec b)
{
	return (a.tv_sec - b.tv_sec) * 1000000000LL + (a.tv_nsec - b.tv_nsec);
}

/* Assert that clock clk has reached deadline at, but not long ago. */
#define assert_deadline_passed(clk, at) do { \
	long long ns_ = ts_ns_since(ts_now(clk), (at)); \
	if (ns_ < 0) \
		fail_msg("timed out %lld ns before the deadline", -ns_); \
	if (ns_ > SLACK_MS * 1000000LL) \
		fail_msg("timed out %lld ms after the deadline", ns_ / 1000000); \
} while (0)

/* ---- Failures in other threads ------------------------------------------ */

static struct {
	int n;
	int line;
	const char *expr;
	long long a, b;
} thread_checks __attribute__((unused));

static inline int check_eq_(long long a, long long b, const char *expr,
	int line)
{
	if (a == b)
		return 1;
	if (ainc(&thread_checks.n) == 1) {
		thread_checks.line = line;
		thread_checks.expr = expr;
		thread_checks.a = a;
		thread_checks.b = b;
	}
	return 0;
}

#define CHECK(c) check_eq_(!!(c), 1, #c, __LINE__)
#define CHECK_EQ(a, b) check_eq_((long long)(a), (long long)(b), \
	#a " == " #b, __LINE__)

/* Report (and clear) failures recorded by CHECK in other threads. */
#define assert_thread_checks() do { \
	int n_ = thread_checks.n; \
	thread_checks.n = 0; \
	if (n_) \
		fail_msg("%d check(s) failed in other threads; first at " \
			"line %d: %s (%lld vs %lld)", n_, thread_checks.line, \
			thread_checks.expr, thread_checks.a, thread_checks.b); \
} while (0)

/* ---- Threads ------------------------------------------------------------ */

static inline pthread_t spawn(void *(*f)(void *), void *arg)
{
	pthread_t t;
	assert_int_equal(pthread_create(&t, 0, f, arg), 0);
	return t;
}

static inline void *join(pthread_t t)
{
	void *r = 0;
	assert_int_equal(pthread_join(t, &r), 0);
	return r;
}

/* sem_wait that fails the test instead of hanging when nothing posts. */
static inline void sem_wait_long(sem_t *s)
{
	struct timespec at = deadline_ms(CLOCK_REALTIME, LONG_MS);
	int r;
	while ((r = sem_timedwait(s, &at)) && errno == EINTR)
		;
	if (r)
		fail_msg("sem_timedwait: nothing posted within %d ms (errno %d)",
			LONG_MS, errno);
}

/* ---- Processes ---------------------------------------------------------- */

/*
 * First thing in a forked child: cmocka's crash handlers would longjmp
 * into the child's copy of the test runner, so restore the defaults; and
 * bound the child's life, so a hang in it cannot hang the test.
 */
static inline void child_init(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS,
		SIGABRT };
	for (size_t i = 0; i < NELEM(sigs); i++)
		signal(sigs[i], SIG_DFL);
	alarm(LONG_MS / 1000);
}

/*
 * A re-executed child's failure report: "WHAT (PAL, WEFT_WORKERS=N): "
 * and the message on stderr, written with one write(2) (no stdio locks,
 * so it works from any thread), then exit status 1.  For children that
 * report through their status (stress.c, migrate.c).
 */
static inline _Noreturn void child_vfail(const char *what, const char *pal,
	const char *fmt, va_list ap)
{
	char buf[4096];
	const char *w = getenv("WEFT_WORKERS");
	size_t n;

	snprintf(buf, sizeof buf, "%s (%s, WEFT_WORKERS=%s): ", what, pal,
		w ? w : "unset");
	n = strlen(buf);
	vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
	n = strlen(buf);
	buf[n++] = '\n';
	if (write(2, buf, n) < 0)
		_exit(2);
	_exit(1);
}

/* Wait for child pid; its wait status. */
static inline int reap(pid_t pid)
{
	int st, r;
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	assert_int_equal(r, pid);
	return st;
}

#define assert_child_exited(st, code) do { \
	int st_ = (st); \
	if (!WIFEXITED(st_)) \
		fail_msg("child did not exit: wait status %#x (signal %d)", \
			st_, WIFSIGNALED(st_) ? WTERMSIG(st_) : 0); \
	assert_int_equal(WEXITSTATUS(st_), (code)); \
} while (0)

#endif
