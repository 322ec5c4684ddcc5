/* pause(2) and sigsuspend(2) are cancellation points (POSIX 2.9.5.2):
 * pthread_cancel of a thread blocked in either cancels it (its cleanup
 * handler runs, join gives PTHREAD_CANCELED), after other threads
 * exist.  Under M:N the cancel's own signal ended the wait with EINTR
 * and the thread went on. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "conform.h"

static volatile int cleaned, returned, entered;

static void cleanup(void *a)
{
	(void)a;
	cleaned = 1;
}

static void *in_pause(void *a)
{
	pthread_cleanup_push(cleanup, 0);
	__atomic_store_n(&entered, 1, __ATOMIC_SEQ_CST);
	if (a) {
		sigset_t none;
		sigemptyset(&none);
		sigsuspend(&none);
	} else {
		pause();
	}
	returned = 1;
	pthread_cleanup_pop(0);
	return 0;
}

static void run(int suspend)
{
	pthread_t t;
	void *r;
	pthread_create(&t, 0, in_pause, suspend ? (void *)1 : 0);
	while (!__atomic_load_n(&entered, __ATOMIC_SEQ_CST)) sched_yield();
	/* Either way it is cancelled: blocked in the call, or at its start
	 * (a cancellation point acts on a cancel already due). */
	usleep(10000);
	pthread_cancel(t);
	pthread_join(t, &r);
	printf("canceled: %s, cleanup ran: %s, returned from the call: %s\n",
		r == PTHREAD_CANCELED ? "yes" : "no", cleaned ? "yes" : "no",
		returned ? "yes" : "no");
}

static void c_pause(void) { run(0); }
static void c_sigsuspend(void) { run(1); }

int main(void)
{
	static const struct kase k[] = {
		{ "pause", c_pause },
		{ "sigsuspend", c_sigsuspend },
	};
	setvbuf(stdout, NULL, _IONBF, 0);
	case_headers = 1;
	run_cases(k, sizeof k / sizeof *k, 8);
	return 0;
}
