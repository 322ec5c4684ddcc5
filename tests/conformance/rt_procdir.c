/* A real-time signal sent to the process (sigqueue) while every thread
 * but main blocks it: main takes it (POSIX 2.4.1, Linux complete_signal),
 * its blocked read() is interrupted (no SA_RESTART), and the handler sees
 * the sender's si_code and si_value (sigqueue(3)), in the order sent.
 * Under M:N real-time signals sent to the process were not routed: the
 * handler ran on whichever worker's scheduler loop the kernel picked,
 * and main's read went on waiting. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conform.h"

#define SIG (SIGRTMIN + 5)
#define NQ 3

static pthread_t main_thread;
static volatile int runs, on_main = 1, vals[NQ], codes[NQ];

static void handler(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	int i = runs;
	if (i < NQ) {
		vals[i] = si->si_value.sival_int;
		codes[i] = si->si_code;
	}
	if (!pthread_equal(pthread_self(), main_thread)) on_main = 0;
	runs = i + 1;
}

static int gate[2];

static void *blocker(void *a)
{
	sigset_t m;
	char c;
	(void)a;
	sigemptyset(&m);
	sigaddset(&m, SIG);
	pthread_sigmask(SIG_BLOCK, &m, 0);
	while (read(gate[0], &c, 1) < 0 && errno == EINTR);
	return 0;
}

int main(void)
{
	int p[2], go[2];
	pthread_t t[3];
	struct sigaction sa;
	char c;

	setvbuf(stdout, NULL, _IONBF, 0);
	watchdog(30);
	main_thread = pthread_self();
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIG, &sa, 0);
	if (pipe(p) || pipe(gate) || pipe(go)) return 1;
	for (int i = 0; i < 3; i++) pthread_create(&t[i], 0, blocker, 0);

	pid_t parent = getpid(), child = fork();
	if (child == 0) {
		/* Once main is (about to be) in read: each value in turn. */
		read(go[0], &c, 1);
		for (int i = 0; i < NQ; i++) {
			union sigval v = { .sival_int = 100 + i };
			while (sigqueue(parent, SIG, v) && errno == EAGAIN);
		}
		_exit(0);
	}
	write(go[1], "g", 1);
	int eintr = 0;
	while (runs < NQ) {
		ssize_t r = read(p[0], &c, 1);
		if (r < 0 && errno == EINTR) eintr++;
		else if (r >= 0) break;
	}
	int st;
	wait_bounded(child, &st);
	write(gate[1], "xxx", 3);
	for (int i = 0; i < 3; i++) pthread_join(t[i], 0);

	printf("handler runs: %d\n", runs);
	printf("main's read interrupted: %s\n", eintr ? "yes" : "no");
	printf("handler ran on main: %s\n", on_main ? "yes" : "no");
	for (int i = 0; i < NQ && i < runs; i++)
		printf("signal %d: si_code %s, si_value %d\n", i,
			codes[i] == SI_QUEUE ? "SI_QUEUE" : "other", vals[i]);
	return 0;
}
