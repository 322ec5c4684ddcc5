/* A SIGSEGV that is sent (raise, pthread_kill, kill to the process), not
 * caused by a fault, at its default action ends the process by SIGSEGV
 * (signal(7)), from the main thread or another, once threads exist.
 * Under M:N the stack-overflow reporter's handler (sched/process.c)
 * took it, and returning from it swallowed it: the process went on. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conform.h"

static int how;

static void send_it(void)
{
	switch (how) {
	case 0: raise(SIGSEGV); break;
	case 1: pthread_kill(pthread_self(), SIGSEGV); break;
	case 2: kill(getpid(), SIGSEGV); break;
	}
	/* Still here: it was not acted on (the other threads block it, so
	 * kill delivers it to this one before it returns: POSIX kill()). */
	printf("survived\n");
	exit(0);
}

static void *thread_sends(void *a)
{
	sigset_t all;
	(void)a;
	sigfillset(&all);
	pthread_sigmask(SIG_UNBLOCK, &all, 0);	/* the creator blocks them */
	send_it();
	return 0;
}

static void *idle(void *a)
{
	sigset_t all;
	(void)a;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, 0);
	for (;;) pause();
	return 0;
}

static void run(int h, int from_thread)
{
	pid_t c = fork();
	if (!c) {
		pthread_t t;
		struct rlimit no = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no);	/* no core file */
		how = h;
		pthread_create(&t, 0, idle, 0);
		if (from_thread) {
			sigset_t all;
			sigfillset(&all);
			pthread_sigmask(SIG_BLOCK, &all, 0);
			pthread_create(&t, 0, thread_sends, 0);
			for (;;) pause();
		}
		send_it();
	}
	int st;
	if (!wait_bounded(c, &st)) {
		printf("hang\n");
		return;
	}
	printf("%s\n", wait_status(st, "exited", "killed by signal"));
}

static void c_raise(void) { run(0, 0); }
static void c_raise_thread(void) { run(0, 1); }
static void c_pthread_kill(void) { run(1, 1); }
static void c_kill(void) { run(2, 0); }
static void c_kill_thread(void) { run(2, 1); }

int main(void)
{
	static const struct kase k[] = {
		{ "raise from main", c_raise },
		{ "raise from a thread", c_raise_thread },
		{ "pthread_kill of itself from a thread", c_pthread_kill },
		{ "kill to the process from main", c_kill },
		{ "kill to the process from a thread", c_kill_thread },
	};
	setvbuf(stdout, NULL, _IONBF, 0);
	case_headers = 1;
	run_cases(k, sizeof k / sizeof *k, 8);
	return 0;
}
