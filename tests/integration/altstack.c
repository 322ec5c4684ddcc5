/*
 * sigaltstack is per thread (sigaltstack(2)): each thread's handlers
 * with SA_ONSTACK run on its own alternate stack, or on its normal stack
 * if it has none; sigaltstack() reports the caller's, with SS_ONSTACK
 * while on it; a stack overflow is caught on the thread's own; and a
 * stack one thread disabled and freed is never written by another's
 * handler.  Under M:N every task has its own, which is its worker's
 * while it runs (docs/scheduler.md, "Alternate signal stacks"), also
 * when a handler running on it parks and moves to another worker.
 */
#define _GNU_SOURCE
#include "testutil.h"

#define NT 6
#define ALTSZ (64 * 1024)

static __thread char *my_alt;		/* this thread's, or 0 */
static __thread volatile int where;	/* 1: on my_alt, 2: elsewhere */
static __thread volatile int flags_in_handler, eperm_in_handler, canary_bad;
static char *alts[NT + 1];
static pthread_barrier_t bar;

static int on(const char *base, const void *p)
{
	return base && (const char *)p >= base && (const char *)p < base + ALTSZ;
}

static void on_usr1(int sig)
{
	char probe;
	volatile unsigned char canary[256];
	stack_t o, n = { .ss_sp = my_alt, .ss_size = ALTSZ };
	where = on(my_alt, &probe) ? 1 : 2;
	sigaltstack(0, &o);
	flags_in_handler = o.ss_flags;
	eperm_in_handler = sigaltstack(&n, 0) == -1 && errno == EPERM;
	unsigned char v = (unsigned char)(uintptr_t)&probe;
	for (int i = 0; i < 256; i++) canary[i] = v + i;
	usleep(300);	/* parks: resumes maybe on another worker */
	sched_yield();
	for (int i = 0; i < 256; i++)
		if (canary[i] != (unsigned char)(v + i)) canary_bad++;
	char probe2;
	if (where == 1 && !on(my_alt, &probe2)) where = 3;
}

static __thread sigjmp_buf jb;
static __thread volatile int segv_where;
static void on_segv(int sig)
{
	char probe;
	segv_where = on(my_alt, &probe) ? 1 : 2;
	siglongjmp(jb, 1);
}

static volatile int sink;
static int recurse(int n)
{
	volatile char buf[512];
	buf[0] = n;
	sink = buf[0];
	return n ? recurse(n + 1) + buf[0] : 0;
}

static void *with_alt(void *p)
{
	int i = (int)(long)p;
	stack_t o, ss = { .ss_sp = alts[i], .ss_size = ALTSZ };
	CHECK_EQ(sigaltstack(0, &o), 0);
	CHECK_EQ(o.ss_flags, SS_DISABLE);	/* a new thread has none */
	my_alt = alts[i];
	CHECK_EQ(sigaltstack(&ss, 0), 0);
	pthread_barrier_wait(&bar);
	for (int k = 0; k < 10; k++) {
		usleep(500);
		CHECK_EQ(sigaltstack(0, &o), 0);
		CHECK(o.ss_sp == my_alt);
		CHECK_EQ(o.ss_size, ALTSZ);
		CHECK_EQ(o.ss_flags, 0);
		where = 0;
		CHECK_EQ(pthread_kill(pthread_self(), SIGUSR1), 0);
		CHECK_EQ(where, 1);
		CHECK_EQ(flags_in_handler, SS_ONSTACK);
		CHECK(eperm_in_handler);
		CHECK_EQ(canary_bad, 0);
	}
	/* A stack overflow, caught on this thread's own stack. */
	segv_where = 0;
	if (!sigsetjmp(jb, 1)) recurse(1);
	CHECK_EQ(segv_where, 1);
	pthread_barrier_wait(&bar);
	return 0;
}

/* A thread without one: the handler runs on its normal stack. */
static void *without_alt(void *p)
{
	stack_t o;
	char probe;
	where = 0;
	CHECK_EQ(pthread_kill(pthread_self(), SIGUSR1), 0);
	CHECK_EQ(where, 2);
	for (int i = 0; i <= NT; i++) CHECK(!on(alts[i], &probe));
	CHECK_EQ(sigaltstack(0, &o), 0);
	CHECK_EQ(o.ss_flags, SS_DISABLE);
	return 0;
}

static void per_thread(void **state)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_ONSTACK };
	struct sigaction sb = { .sa_handler = on_segv, .sa_flags = SA_ONSTACK | SA_NODEFER };
	assert_int_equal(sigaction(SIGUSR1, &sa, 0), 0);
	assert_int_equal(sigaction(SIGSEGV, &sb, 0), 0);
	for (int i = 0; i <= NT; i++) assert_non_null(alts[i] = malloc(ALTSZ));
	assert_int_equal(pthread_barrier_init(&bar, 0, NT + 1), 0);
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 256 * 1024);
	pthread_t t[NT], u[NT];
	for (int i = 0; i < NT; i++) {
		assert_int_equal(pthread_create(&t[i], &a, with_alt, (void *)(long)i), 0);
		u[i] = spawn(without_alt, 0);
	}
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	for (int i = 0; i < NT; i++) {
		join(t[i]);
		join(u[i]);
	}
	assert_thread_checks();
	signal(SIGSEGV, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
}

static void *disable_and_leave(void *p)
{
	stack_t ss = { .ss_sp = p, .ss_size = ALTSZ };
	CHECK_EQ(sigaltstack(&ss, 0), 0);
	usleep(200);
	ss.ss_flags = SS_DISABLE;
	CHECK_EQ(sigaltstack(&ss, 0), 0);
	return 0;
}

/* One thread sets a stack, disables it and exits; its memory is then a
 * live heap block that other threads' SA_ONSTACK handlers (they have no
 * stack of their own) must not write. */
static void freed_stack_untouched(void **state)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_ONSTACK };
	assert_int_equal(sigaction(SIGUSR1, &sa, 0), 0);
	unsigned char *blk = malloc(ALTSZ);
	assert_non_null(blk);
	join(spawn(disable_and_leave, blk));
	memset(blk, 0xab, ALTSZ);
	for (int r = 0; r < 20; r++) join(spawn(without_alt, 0));
	assert_thread_checks();
	int bad = 0;
	for (int i = 0; i < ALTSZ; i++) bad += blk[i] != 0xab;
	assert_int_equal(bad, 0);
	free(blk);
	signal(SIGUSR1, SIG_DFL);
}

static void errors(void **state)
{
	char *m = malloc(ALTSZ);
	stack_t o, ss = { .ss_sp = m, .ss_size = 100 };
	errno = 0;
	assert_int_equal(sigaltstack(&ss, 0), -1);
	assert_int_equal(errno, ENOMEM);
	ss.ss_size = ALTSZ;
	ss.ss_flags = 12345;
	assert_int_equal(sigaltstack(&ss, 0), -1);
	assert_int_equal(errno, EINVAL);
	ss.ss_flags = 0;
	assert_int_equal(sigaltstack(&ss, &o), 0);
	assert_int_equal(o.ss_flags, SS_DISABLE);
	ss.ss_flags = SS_DISABLE;
	assert_int_equal(sigaltstack(&ss, &o), 0);
	assert_ptr_equal(o.ss_sp, m);
	assert_int_equal(o.ss_flags, 0);
	assert_int_equal(sigaltstack(0, &o), 0);
	assert_int_equal(o.ss_flags, SS_DISABLE);
	assert_null(o.ss_sp);
	assert_int_equal(o.ss_size, 0);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(per_thread),
		cmocka_unit_test(freed_stack_untouched),
		cmocka_unit_test(errors),
	};
	return cmocka_run_group_tests_name("altstack", tests, 0, 0);
}
