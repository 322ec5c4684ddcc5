/* exit() and friends while other threads are parked in read(), in
 * pthread_cond_wait() and in nanosleep(): the process ends at once with the
 * status given, atexit handlers run and stdio is flushed (exit only). Each
 * case runs in a child process; the parent prints how it ended. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

static int mode;
static void at_exit(void) { static const char m[] = "  atexit handler ran\n"; write(1, m, sizeof m - 1); }

static void finish(void)
{
	switch (mode) {
	case 0: printf("  buffered line flushed by exit"); exit(7);
	case 1: printf("  buffered line flushed by exit"); exit(7);
	case 2: _exit(9);
	case 3: quick_exit(5);
	}
}

static void *exiter(void *a) { (void)a; pthread_barrier_wait(&park_bar); finish(); return 0; }

/* child: park 3 threads (plus the exiter for modes 1..3), then end */
static void child(void)
{
	int from_thread = mode != 0;
	atexit(at_exit);
	park_threads(from_thread);
	if (from_thread) {
		pthread_t e;
		pthread_create(&e, 0, exiter, 0);
		pthread_barrier_wait(&park_bar);
		/* main parks too */
		char c;
		read(park_pipe[0], &c, 1);
		_exit(99); /* not reached */
	}
	pthread_barrier_wait(&park_bar);
	{ struct timespec ts = { 0, 20000000 }; nanosleep(&ts, 0); } /* let them park (result does not depend on it) */
	finish();
}

/* returning from main also exits */
static int child_return(void)
{
	atexit(at_exit);
	park_threads(0);
	pthread_barrier_wait(&park_bar);
	printf("  buffered line flushed by return from main");
	return 3;
}

static void report(const char *what, pid_t pid)
{
	int s;
	if (!wait_bounded(pid, &s)) { printf("\n%s: hang\n", what); fflush(stdout); return; }
	if (WIFEXITED(s)) printf("\n%s: exited with status %d\n", what, WEXITSTATUS(s));
	else if (WIFSIGNALED(s)) printf("\n%s: killed by signal %d\n", what, WTERMSIG(s));
	else printf("\n%s: other status\n", what);
	fflush(stdout);
}

int main(void)
{
	static const char *names[] = {
		"exit(7) from main, 3 threads parked",
		"exit(7) from a thread, main and 3 threads parked",
		"_exit(9) from a thread, main and 3 threads parked",
		"quick_exit(5) from a thread, main and 3 threads parked",
	};
	alarm(60);
	for (mode = 0; mode < 4; mode++) {
		printf("%s:\n", names[mode]);
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) child();
		report(names[mode], pid);
	}
	printf("return 3 from main, 3 threads parked:\n");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) exit(child_return());
	report("return 3 from main, 3 threads parked", pid);
	return 0;
}
