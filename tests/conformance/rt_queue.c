/* Real-time signals queue (POSIX 2.4.2, signal(7)): two threads
 * pthread_kill() one at a third as fast as they can while it computes
 * and blocks and unblocks the signal; every one sent runs the handler
 * exactly once.  Under M:N two faults lost some: a take of the task's
 * count raced a sender's increment, and the kicks a running task gets
 * for its pending signals (SIGSYNCCALL, itself real-time) queued one per
 * pthread_kill, filled RLIMIT_SIGPENDING, and the re-raises of the
 * signals then collapsed into one pending bit (96,500 handler runs of
 * 100,000 at one worker). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "conform.h"

#define N 40000
#define ROUNDS 2

static volatile int runs, done;
static pthread_t target;

static void handler(int s)
{
	(void)s;
	__atomic_fetch_add(&runs, 1, __ATOMIC_SEQ_CST);
}

static void *receiver(void *a)
{
	sigset_t m;
	(void)a;
	sigemptyset(&m);
	sigaddset(&m, SIGRTMIN + 4);
	while (!__atomic_load_n(&done, __ATOMIC_SEQ_CST)) {
		pthread_sigmask(SIG_BLOCK, &m, 0);
		for (volatile int i = 0; i < 50; i++);
		pthread_sigmask(SIG_UNBLOCK, &m, 0);
		for (volatile int i = 0; i < 50; i++);
	}
	return 0;
}

static volatile int other;

static void *sender(void *a)
{
	(void)a;
	for (int i = 0; i < N; i++) {
		int e;
		while ((e = pthread_kill(target, SIGRTMIN + 4)) == EAGAIN)
			sched_yield();
		if (e) __atomic_fetch_add(&other, 1, __ATOMIC_SEQ_CST);
	}
	return 0;
}

int main(void)
{
	int lost = 0, extra = 0;
	setvbuf(stdout, NULL, _IONBF, 0);
	watchdog(50);
	signal(SIGRTMIN + 4, handler);
	for (int r = 0; r < ROUNDS; r++) {
		pthread_t s1, s2;
		runs = done = 0;
		pthread_create(&target, 0, receiver, 0);
		pthread_create(&s1, 0, sender, 0);
		pthread_create(&s2, 0, sender, 0);
		pthread_join(s1, 0);
		pthread_join(s2, 0);
		/* Until every one has run (a hang detector bounds the wait:
		 * 20 s, far longer than the handlers need). */
		struct timespec ts = { 0, 1000000 };
		for (int i = 0; i < 20000 && __atomic_load_n(&runs, __ATOMIC_SEQ_CST) < 2 * N; i++)
			nanosleep(&ts, 0);
		__atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
		pthread_join(target, 0);
		if (runs < 2 * N) lost = 1;
		if (runs > 2 * N) extra = 1;
	}
	printf("pthread_kill errors: %s\n", other ? "yes" : "no");
	printf("real-time signals lost: %s\n", lost ? "yes" : "no");
	printf("real-time signals run twice: %s\n", extra ? "yes" : "no");
	return 0;
}
