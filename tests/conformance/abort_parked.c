/* abort() while other threads are parked in read(), in pthread_cond_wait()
 * and in nanosleep(): the process dies of SIGABRT, from the main thread or
 * from another thread, even with a SIGABRT handler that returns, with
 * SIGABRT blocked, or ignored; the handler does run first.  Each case runs
 * in a child process; the parent prints how it ended. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

static void on_abrt(int s) { static const char m[] = "  SIGABRT handler ran\n"; (void)s; write(1, m, sizeof m - 1); }

enum { MAIN, THREAD, HANDLER, BLOCKED, IGNORED, NMODES };
static int mode;

static void *aborter(void *a) { (void)a; pthread_barrier_wait(&park_bar); abort(); return 0; }

static void child(void)
{
	pthread_t t;
	struct rlimit rl = { 0, 0 };
	setrlimit(RLIMIT_CORE, &rl); /* no core files */
	if (mode == HANDLER) {
		struct sigaction sa = { .sa_handler = on_abrt };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGABRT, &sa, 0);
	}
	if (mode == IGNORED) signal(SIGABRT, SIG_IGN);
	if (mode == BLOCKED) {
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGABRT);
		sigprocmask(SIG_BLOCK, &s, 0); /* inherited by all threads */
	}
	int from_thread = mode == THREAD;
	park_threads(from_thread);
	if (from_thread) {
		pthread_create(&t, 0, aborter, 0);
		pthread_barrier_wait(&park_bar);
		char c;
		read(park_pipe[0], &c, 1); /* main parks too */
		_exit(99);
	}
	pthread_barrier_wait(&park_bar);
	{ struct timespec ts = { 0, 20000000 }; nanosleep(&ts, 0); } /* let them park (result does not depend on it) */
	abort();
}

int main(void)
{
	static const char *names[] = {
		"abort() from main, 3 threads parked",
		"abort() from a thread, main and 3 threads parked",
		"abort() with a SIGABRT handler that returns",
		"abort() with SIGABRT blocked in every thread",
		"abort() with SIGABRT ignored",
	};
	alarm(60);
	for (mode = 0; mode < NMODES; mode++) {
		printf("%s:\n", names[mode]);
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) { child(); _exit(98); }
		int s;
		if (!wait_bounded(pid, &s)) printf("%s: hang\n", names[mode]);
		else if (WIFEXITED(s)) printf("%s: exited with status %d\n", names[mode], WEXITSTATUS(s));
		else if (WIFSIGNALED(s)) printf("%s: killed by signal %d%s\n", names[mode], WTERMSIG(s),
						WTERMSIG(s) == SIGABRT ? " (SIGABRT)" : "");
		else printf("%s: other status\n", names[mode]);
		fflush(stdout);
	}
	return 0;
}
