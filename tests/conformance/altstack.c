/*
 * altstack: the alternate signal stack belongs to the thread (issue 15
 * item 6; sigaltstack(2): "each thread has its own alternate signal
 * stack").  4 threads each install their own alternate stack and take,
 * 200 times each, a SIGUSR1 (raise) and a real SIGSEGV (a write to
 * address 0, left with siglongjmp), both with SA_ONSTACK: the handler
 * must run on that thread's own alternate stack (a local's address lies
 * inside it, and sigaltstack() reports SS_ONSTACK there).  Then thread A
 * disables and frees its alternate stack and thread B, which has none,
 * faults: B's handler must run on B's own stack, not on A's freed one.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NT 4
#define ROUNDS 200
#define ALTSZ (64 << 10)

static __thread char *alt_lo, *alt_hi;
static __thread sigjmp_buf jb;
static __thread int on_own, on_flag, handled;
static __thread uintptr_t last_local;
static pthread_barrier_t bar;

static void handler(int sig)
{
	char local;
	stack_t cur;
	handled++;
	last_local = (uintptr_t)&local;
	if (&local >= alt_lo && &local < alt_hi) on_own++;
	if (sigaltstack(0, &cur) == 0 && (cur.ss_flags & SS_ONSTACK)) on_flag++;
	if (sig == SIGSEGV) siglongjmp(jb, 1);
}

static void install(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_ONSTACK | SA_NODEFER;
	sigaction(sig, &sa, 0);
}

static void set_alt(void)
{
	stack_t ss = { .ss_size = ALTSZ };
	alt_lo = ss.ss_sp = malloc(ALTSZ);
	alt_hi = alt_lo + ALTSZ;
	sigaltstack(&ss, 0);
}

static void fault(void)
{
	if (sigsetjmp(jb, 1) == 0)
		*(volatile int *)0 = 1;
}

struct res { int usr1_own, usr1_flag, segv_own, segv_flag, query_own; };
static struct res res[NT];

static void *worker(void *arg)
{
	struct res *r = &res[(long)arg];
	stack_t q;
	set_alt();
	pthread_barrier_wait(&bar);
	for (int i = 0; i < ROUNDS; i++) {
		raise(SIGUSR1);
		sched_yield();
	}
	r->usr1_own = on_own, r->usr1_flag = on_flag;
	on_own = on_flag = 0;
	for (int i = 0; i < ROUNDS; i++) {
		fault();
		sched_yield();
	}
	r->segv_own = on_own, r->segv_flag = on_flag;
	sigaltstack(0, &q);
	r->query_own = q.ss_sp == alt_lo && q.ss_size == ALTSZ && !(q.ss_flags & SS_ONSTACK);
	pthread_barrier_wait(&bar);
	return 0;
}

/* Thread A frees its alternate stack without disabling it (it takes
 * no more signals, so that is fine); thread B, which has none, mallocs
 * a block (likely the memory A freed), fills it, then faults. */
static char *freed_lo, *freed_hi;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stage;

static void *thread_a(void *arg)
{
	set_alt();
	raise(SIGUSR1);
	freed_lo = alt_lo, freed_hi = alt_hi;
	free(alt_lo);
	pthread_mutex_lock(&mu);
	stage = 1;
	pthread_cond_broadcast(&cv);
	while (stage != 2) pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return 0;
}

static void *thread_b(void *arg)
{
	stack_t q;
	int *ok = arg;
	pthread_mutex_lock(&mu);
	while (stage != 1) pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	sigaltstack(0, &q);
	ok[0] = (q.ss_flags & SS_DISABLE) != 0;
	char *blk = malloc(ALTSZ);
	memset(blk, 0x5a, ALTSZ);
	fault();
	ok[4] = 1;
	for (int i = 0; i < ALTSZ; i++)
		if (blk[i] != 0x5a) ok[4] = 0;
	free(blk);
	ok[1] = handled == 1;
	ok[2] = !(last_local >= (uintptr_t)freed_lo && last_local < (uintptr_t)freed_hi);
	ok[3] = on_flag == 0;
	pthread_mutex_lock(&mu);
	stage = 2;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return 0;
}

static const char *yesno(int b) { return b ? "yes" : "no"; }

int main(void)
{
	pthread_t t[NT], a, b;
	int ok[5];
	setvbuf(stdout, 0, _IONBF, 0);
	install(SIGUSR1);
	install(SIGSEGV);
	pthread_barrier_init(&bar, 0, NT);
	for (long i = 0; i < NT; i++) pthread_create(&t[i], 0, worker, (void *)i);
	for (int i = 0; i < NT; i++) {
		pthread_join(t[i], 0);
		printf("thread %d: SIGUSR1 on own altstack %d/%d, SS_ONSTACK %d/%d\n", i,
			res[i].usr1_own, ROUNDS, res[i].usr1_flag, ROUNDS);
		printf("thread %d: SIGSEGV on own altstack %d/%d, SS_ONSTACK %d/%d\n", i,
			res[i].segv_own, ROUNDS, res[i].segv_flag, ROUNDS);
		printf("thread %d: sigaltstack() reports its own stack: %s\n", i, yesno(res[i].query_own));
	}
	/* B first: its stack must be mapped before A frees its alternate
	 * stack, or (A freeing before B's creation, on a loaded machine)
	 * B's new stack could be given that freed memory, and B's handler,
	 * rightly on B's own stack, would look as if on A's freed one. */
	pthread_create(&b, 0, thread_b, ok);
	pthread_create(&a, 0, thread_a, 0);
	pthread_join(a, 0);
	pthread_join(b, 0);
	printf("thread B: no altstack: %s\n", yesno(ok[0]));
	printf("thread B: SIGSEGV handled once: %s\n", yesno(ok[1]));
	printf("thread B: handler off A's freed altstack: %s\n", yesno(ok[2]));
	printf("thread B: SS_ONSTACK not reported: %s\n", yesno(ok[3]));
	printf("thread B: its heap block intact: %s\n", yesno(ok[4]));
	return 0;
}
