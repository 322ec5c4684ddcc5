/* A real-time signal sent to the process (sigqueue) while every thread
 * but main blocks it: main takes it (POSIX 2.4.1, Linux complete_signal),
 * its blocked read() is interrupted (no SA_RESTART), and the handler sees
 * the sender's si_code and si_value (sigqueue(3)), in the order sent.
 * Under M:N real-time signals sent to the process were not routed: the
 * handler ran on whichever worker's scheduler loop the kernel picked,
 * and main's read went on waiting.  A sender thread (which blocks the
 * signal) queues one every 20 ms until main's read has returned, so that
 * one comes while main is blocked whatever the timing. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

#define SIG (SIGRTMIN + 5)
#define MAXQ 500	/* 10 s of sends: then the pipe ends the read */

static pthread_t main_thread;
static volatile int runs, sent, returned, on_main = 1, in_order = 1, all_queue = 1;
static int p[2];

static void handler(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	if (si->si_value.sival_int != 100 + runs) in_order = 0;
	if (si->si_code != SI_QUEUE) all_queue = 0;
	if (!pthread_equal(pthread_self(), main_thread)) on_main = 0;
	runs++;
}

static void *sender(void *a)
{
	sigset_t m;
	struct timespec ts = { 0, 20000000 };
	(void)a;
	sigemptyset(&m);
	sigaddset(&m, SIG);
	pthread_sigmask(SIG_BLOCK, &m, 0);
	for (int i = 0; i < MAXQ && !__atomic_load_n(&returned, __ATOMIC_SEQ_CST); i++) {
		union sigval v = { .sival_int = 100 + i };
		if (sigqueue(getpid(), SIG, v)) break;
		__atomic_store_n(&sent, i + 1, __ATOMIC_SEQ_CST);
		nanosleep(&ts, 0);
	}
	if (!__atomic_load_n(&returned, __ATOMIC_SEQ_CST)) write(p[1], "x", 1);
	return 0;
}

int main(void)
{
	pthread_t t;
	struct sigaction sa;
	char c;

	setvbuf(stdout, NULL, _IONBF, 0);
	watchdog(40);
	main_thread = pthread_self();
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIG, &sa, 0);
	if (pipe(p)) return 1;
	pthread_create(&t, 0, sender, 0);
	ssize_t r = read(p[0], &c, 1);
	int e = errno;
	__atomic_store_n(&returned, 1, __ATOMIC_SEQ_CST);
	pthread_join(t, 0);
	/* Every one sent runs its handler (hang detector: 10 s). */
	struct timespec ts = { 0, 1000000 };
	for (int i = 0; i < 10000 && runs < sent; i++) nanosleep(&ts, 0);

	printf("main's read interrupted: %s\n", r < 0 && e == EINTR ? "yes" : "no");
	printf("every signal sent ran its handler once: %s\n", runs == sent ? "yes" : "no");
	printf("handlers ran on main: %s\n", on_main ? "yes" : "no");
	printf("handlers saw SI_QUEUE: %s\n", all_queue ? "yes" : "no");
	printf("handlers saw the values in the order sent: %s\n", in_order ? "yes" : "no");
	return 0;
}
