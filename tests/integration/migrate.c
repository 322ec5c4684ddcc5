/*
 * Migration: under M:N a thread (task) that parks or yields may resume on
 * another worker OS thread.  Its __thread variables, errno, pthread_self()
 * and pthread keys must go with it, not stay with the worker: they live
 * in its own TCB and TLS block, and the thread pointer is switched with
 * the task.  A bug there corrupts programs silently, so this test makes
 * tasks migrate often and checks every value after every wait and yield.
 *
 * Threads pass tokens around through a mutex and condvar each, waking by
 * preference a thread that waits on another worker: a woken task is
 * queued on its waker's worker, so such a wake is a migration.  Each
 * thread keeps its own values in an int, a struct, a pointer into its
 * own stack and a pthread key, sets errno to a fresh value before each
 * wait, lock or yield, and checks them all afterwards.  A migration is
 * seen as a change of the kernel's gettid between two points of one
 * thread: under M:N that is the tid of the worker running the task;
 * under 1:1 it never changes.  It is asked with the syscall instruction
 * itself: libc's gettid() and syscall(SYS_gettid) give the task's id.
 *
 * The worker count is read at the first pthread_create, so each test
 * runs this binary again ("/proc/self/exe --child MIN CAP") with
 * WEFT_WORKERS set.  The child reports a wrong value on stderr and exits
 * 1, or prints its token passes and migrations.  Under epoll, on 2 and 4
 * workers, it runs until it has seen MIN (2,000) migrations (or CAP
 * passes, or MIGRATE_MS), and the test asserts that it did; on 1 worker
 * there is one OS thread, so none.  Under native there are none either,
 * and a fixed number of passes checks the values only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include "testutil.h"

#define MN (strcmp(WEFT_PAL, "native"))

/* The kernel tid of the OS thread running the caller (see above). */
static long kernel_tid(void)
{
	long r;
	__asm__ volatile ("syscall" : "=a"(r) : "a"((long)SYS_gettid)
		: "rcx", "r11", "memory");
	return r;
}
#define NT 16
#define NTOK 4
/* Migrations to see under M:N on 2 or more workers: enough to check
 * the values across many moves, few enough that a loaded machine, where
 * both workers' threads are rarely on a CPU at once, still gets there
 * long before MIGRATE_MS (a hang detector, not a deadline). */
#define MIGRATIONS 2000L
/* Token passes, in all: the cap while migrations are wanted (then a
 * child also stops after MIGRATE_MS), and the count otherwise. */
#define CAP_PASSES 10000000L
#define FIXED_PASSES 20000L
/* How long a child may take to see MIGRATIONS: migrations need both
 * workers' threads on a CPU at once, which a loaded machine makes rare
 * (58,051 in 10 s seen under load, against 100,000 in 0.11 s idle).
 * Two such children stay within tests.mk's TEST_TIMEOUT of 60 s. */
#define MIGRATE_MS 20000

/* ---- Per-thread values -------------------------------------------------- */

struct blk {
	long a[16];
	char tag[24];
	double d;
};

static __thread int t_init = 0x5eed;	/* starts at its initial value */
static __thread int t_id;
static __thread struct blk t_blk;
static __thread long *t_stackp;		/* into this thread's own stack */
static pthread_key_t key;

#define ID(i) (0x1000 + 0x77 * (i))
#define COOKIE(i) (0xc00c1e000L + (i))

static void fill(struct blk *b, int i)
{
	memset(b, 0, sizeof *b);
	for (int j = 0; j < 16; j++)
		b->a[j] = (long)i << 32 | j;
	snprintf(b->tag, sizeof b->tag, "thread %d", i);
	b->d = i + 0.25;
}

/* ---- The child ---------------------------------------------------------- */

static long min_migrations, max_passes;
static struct timespec started;
static long migrations;		/* seen so far, summed now and then */

static _Noreturn __attribute__((format(printf, 2, 3)))
void cfail(int me, const char *fmt, ...)
{
	char what[32] = "migrate";
	va_list ap;

	if (me >= 0) snprintf(what, sizeof what, "migrate, thread %d", me);
	va_start(ap, fmt);
	child_vfail(what, WEFT_PAL, fmt, ap);
}

/* What one thread expects to find. */
struct me {
	int i;			/* thread index */
	int err;		/* errno, as set before the last wait */
	int *errp;		/* &errno */
	int *idp;		/* &t_id */
	struct blk blk;		/* t_blk's contents */
	long *cookie;		/* on this thread's stack */
	pthread_t self;
	long tid;		/* kernel tid last seen */
	long migr;		/* migrations seen, not yet summed */
	long n;			/* errno values set */
};

/* Before a wait or yield: a fresh errno value, unique to the thread. */
static void set_errno(struct me *m)
{
	m->err = 1000000 * (m->i + 1) + (int)(++m->n % 1000000);
	errno = m->err;
}

/* After it: every value still the thread's own; a new tid is a
 * migration. */
#define VFAIL(fmt, ...) cfail(m->i, "after %s (on kernel tid %ld, %ld " \
	"before): " fmt, after, tid, m->tid, __VA_ARGS__)

static void verify(struct me *m, const char *after)
{
	int e = errno;
	long tid = kernel_tid();

	if (e != m->err)
		VFAIL("errno is %d, set to %d", e, m->err);
	if (&errno != m->errp)
		VFAIL("&errno moved from %p to %p", (void *)m->errp,
			(void *)&errno);
	if (&t_id != m->idp)
		VFAIL("&t_id moved from %p to %p", (void *)m->idp,
			(void *)&t_id);
	if (t_id != ID(m->i))
		VFAIL("__thread int is %#x, expected %#x", t_id, ID(m->i));
	if (memcmp(&t_blk, &m->blk, sizeof m->blk))
		VFAIL("__thread struct changed (tag \"%.24s\")", t_blk.tag);
	if (t_stackp != m->cookie || *t_stackp != COOKIE(m->i))
		VFAIL("__thread pointer is %p, expected %p into this "
			"thread's stack", (void *)t_stackp, (void *)m->cookie);
	if (!pthread_equal(pthread_self(), m->self))
		VFAIL("pthread_self() changed from %p to %p", (void *)m->self,
			(void *)pthread_self());
	if (pthread_getspecific(key) != m->cookie)
		VFAIL("pthread_getspecific is %p, expected %p",
			pthread_getspecific(key), (void *)m->cookie);
	if (errno != m->err)
		VFAIL("errno changed to %d by the checks", errno);
	if (tid != m->tid) {
		m->migr++;
		m->tid = tid;
	}
}

/*
 * Tokens: NTOK of them, in the threads' slots.  A thread waits on its
 * slot's condvar until the slot has a token, takes it, yields, and
 * passes it to a slot without one, preferring a thread that is waiting
 * and waited on another worker than the passer's: the woken thread is
 * queued on its waker's worker, so that wake is a migration.  Each slot
 * has its own mutex: with one shared mutex, threads woken from it would
 * follow the unlocker and all gather on one worker.  The pass that
 * reaches the cap, or finds enough migrations counted, sets stop and
 * wakes everyone.  At the end no token was lost or made.
 */
static struct slot {
	pthread_mutex_t m;
	pthread_cond_t cv;
	int token;		/* under m; read unlocked by pick() */
	int waiting;		/* likewise */
	long tid;		/* where the thread last waited; likewise */
} slots[NT];
static long passes, takes;
static int stop;

/* Lock and return a slot other than i without a token, preferring (for
 * two rounds) one whose thread waits, and waited on another worker than
 * tid.  NTOK < NT and the caller's token is in no slot, so there is one. */
static struct slot *pick(int i, long tid, uint32_t *rng)
{
	for (int tries = 0;; tries++) {
		*rng = *rng * 1103515245 + 12345;
		int j = (*rng >> 16) % NT;
		for (int k = 0; k < NT; k++, j = (j + 1) % NT) {
			struct slot *s = &slots[j];
			if (j == i || aload(&s->token) || (tries < 2 &&
			    (!aload(&s->waiting) || aload(&s->tid) == tid)))
				continue;
			pthread_mutex_lock(&s->m);
			if (!s->token)
				return s;
			pthread_mutex_unlock(&s->m);
		}
	}
}

static void *runner(void *p)
{
	int i = (long)p;
	long cookie = COOKIE(i);
	struct me m = { .i = i, .cookie = &cookie, .self = pthread_self(),
		.errp = &errno, .idp = &t_id, .tid = kernel_tid() };
	struct slot *s = &slots[i];
	uint32_t rng = i + 1;
	long n = 0;

	if (t_init != 0x5eed || t_id || t_stackp || t_blk.a[3] || t_blk.tag[0])
		cfail(i, "__thread variables do not start at their initial "
			"values");
	if (pthread_getspecific(key))
		cfail(i, "a new thread's key is not NULL");
	t_id = ID(i);
	fill(&t_blk, i);
	fill(&m.blk, i);
	t_stackp = &cookie;
	if (pthread_setspecific(key, &cookie))
		cfail(i, "pthread_setspecific failed");
	set_errno(&m);
	verify(&m, "start");

	for (;;) {
		struct timespec at = deadline_ms(CLOCK_REALTIME, LONG_MS);
		int e;

		/* Take a token. */
		set_errno(&m);
		pthread_mutex_lock(&s->m);
		verify(&m, "pthread_mutex_lock");
		while (!s->token && !aload(&stop)) {
			astore(&s->tid, m.tid);
			astore(&s->waiting, 1);
			set_errno(&m);
			e = pthread_cond_timedwait(&s->cv, &s->m, &at);
			verify(&m, "pthread_cond_timedwait");
			if (e == ETIMEDOUT && !s->token && !aload(&stop))
				cfail(i, "no token within %d ms: lost wakeup?",
					LONG_MS);
			if (e && e != ETIMEDOUT)
				cfail(i, "pthread_cond_timedwait: error %d", e);
		}
		astore(&s->waiting, 0);
		if (aload(&stop)) {
			pthread_mutex_unlock(&s->m);
			break;
		}
		astore(&s->token, 0);
		pthread_mutex_unlock(&s->m);
		ainc(&takes);

		set_errno(&m);
		sched_yield();
		verify(&m, "sched_yield");
		if (++n % 64 == 0) {
			aadd(&migrations, m.migr);
			m.migr = 0;
		}

		/* Pass it on. */
		set_errno(&m);
		struct slot *to = pick(i, m.tid, &rng);
		verify(&m, "pthread_mutex_lock");
		astore(&to->token, 1);
		pthread_cond_signal(&to->cv);
		pthread_mutex_unlock(&to->m);
		verify(&m, "pthread_cond_signal");
		long np = ainc(&passes);
		if (np == max_passes || (min_migrations && n % 64 == 0 &&
		    (aload(&migrations) >= min_migrations ||
		    ts_ns_since(ts_now(CLOCK_MONOTONIC), started) >=
		    MIGRATE_MS * 1000000LL))) {
			if (__atomic_exchange_n(&stop, 1, __ATOMIC_SEQ_CST))
				continue;
			for (int k = 0; k < NT; k++) {
				pthread_mutex_lock(&slots[k].m);
				pthread_cond_signal(&slots[k].cv);
				pthread_mutex_unlock(&slots[k].m);
			}
		}
	}
	aadd(&migrations, m.migr);
	return 0;
}

static int child(long min, long cap)
{
	pthread_t t[NT];
	int left = 0;

	alarm(MIGRATE_MS / 1000 + 5);
	min_migrations = min;
	max_passes = cap;
	started = ts_now(CLOCK_MONOTONIC);
	if (pthread_key_create(&key, 0))
		cfail(-1, "pthread_key_create failed");
	for (int i = 0; i < NT; i++) {
		pthread_mutex_init(&slots[i].m, 0);
		pthread_cond_init(&slots[i].cv, 0);
		slots[i].token = i < NTOK;
	}
	for (long i = 0; i < NT; i++)
		if (pthread_create(&t[i], 0, runner, (void *)i))
			cfail(-1, "pthread_create failed");
	for (int i = 0; i < NT; i++)
		pthread_join(t[i], 0);
	for (int i = 0; i < NT; i++)
		left += slots[i].token;
	if (left != NTOK || takes != passes)
		cfail(-1, "%d tokens left of %d, %ld taken, %ld passed", left,
			NTOK, takes, passes);
	printf("%ld %ld\n", passes, migrations);
	return 0;
}

/* ---- The tests ---------------------------------------------------------- */

/*
 * Run "/proc/self/exe --child MIN CAP" with WEFT_WORKERS=workers; its
 * token passes and migrations.
 */
static void run_child(int workers, long min, long cap, long *passes_,
	long *migr)
{
	struct timespec t0 = ts_now(CLOCK_MONOTONIC);
	char w[16], a[32], b[32], out[128];
	int fd[2], st;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	snprintf(w, sizeof w, "%d", workers);
	snprintf(a, sizeof a, "%ld", min);
	snprintf(b, sizeof b, "%ld", cap);
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		setenv("WEFT_WORKERS", w, 1);
		execl("/proc/self/exe", "migrate", "--child", a, b, (char *)0);
		_exit(127);
	}
	close(fd[1]);
	while (n < sizeof out - 1 &&
	    ((r = read(fd[0], out + n, sizeof out - 1 - n)) > 0 ||
	    (r < 0 && errno == EINTR)))
		if (r > 0)
			n += r;
	out[n] = 0;
	close(fd[0]);
	st = reap(pid);
	if (WIFSIGNALED(st))
		fail_msg("migrate, WEFT_WORKERS=%d: child killed by signal %d%s",
			workers, WTERMSIG(st), WTERMSIG(st) == SIGALRM ?
			" (SIGALRM: hung, or far too slow)" : "");
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("migrate, WEFT_WORKERS=%d: a check failed in the child, "
			"exit status %d (its message is above)", workers,
			WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	if (sscanf(out, "%ld %ld", passes_, migr) != 2)
		fail_msg("migrate, WEFT_WORKERS=%d: child printed \"%s\"",
			workers, out);
	print_message("migrate, WEFT_WORKERS=%d: %ld migrations in %ld token "
		"passes, %.2f s\n", workers, *migr, *passes_,
		ts_ns_since(ts_now(CLOCK_MONOTONIC), t0) / 1e9);
}

/* A fixed number of passes; no migrations. */
static void no_migrations(int workers)
{
	long n, migr;

	run_child(workers, 0, FIXED_PASSES, &n, &migr);
	assert_in_range(n, FIXED_PASSES, FIXED_PASSES + NT);
	assert_int_equal(migr, 0);
}

/* One worker: every task runs on the one OS thread. */
static void one_worker(void **state)
{
	no_migrations(1);
}

static void workers(int w)
{
	long n, migr;

	if (!MN) {
		/* 1:1: a thread is its OS thread. */
		no_migrations(w);
		return;
	}
	run_child(w, MIGRATIONS, CAP_PASSES, &n, &migr);
	if (migr < MIGRATIONS)
		fail_msg("only %ld migrations seen in %ld token passes on %d "
			"workers, expected %ld", migr, n, w, MIGRATIONS);
}

static void two_workers(void **state)
{
	workers(2);
}

static void four_workers(void **state)
{
	workers(4);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_worker),
		cmocka_unit_test(two_workers),
		cmocka_unit_test(four_workers),
	};

	if (argc == 4 && !strcmp(argv[1], "--child"))
		return child(atol(argv[2]), atol(argv[3]));
	return cmocka_run_group_tests_name("migrate", tests, 0, 0);
}
