/* alarm() and setitimer(ITIMER_REAL): the SIGALRM handler runs and a blocked
 * call without SA_RESTART is interrupted, in a single-threaded process and
 * with other threads around (which block SIGALRM, or which are the only ones
 * not blocking it); a periodic timer keeps firing; alarm()/getitimer() report
 * the time left; SIGALRM at the default action kills the process.
 *
 * The 100 ms timers repeat until disarmed, and the handler counts only
 * the runs that come while the call is under way (calling): a tick taken
 * before the call because the process was descheduled 100 ms, or one
 * after it, leaves the output as it was; with a one-shot timer the call
 * would block until the watchdog.  (alarm(1) leaves a second.) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

static volatile sig_atomic_t hits, calling = 1;
static volatile pthread_t handler_thread;
static void handler(int s)
{
	(void)s;
	if (!calling) return;
	hits++;
	handler_thread = pthread_self();
}
/* A call made with ticks counted only while it is under way. */
#define CALL(c) (calling = 1, r = (c), e = errno, calling = 0)

static void shot(long us, long interval_us)
{
	struct itimerval it = { { interval_us / 1000000, interval_us % 1000000 }, { us / 1000000, us % 1000000 } };
	setitimer(ITIMER_REAL, &it, 0);
}

static const char *res(int r, int e)
{
	if (r >= 0) return "returned normally";
	if (e == EINTR) return "EINTR";
	return "other error";
}

static int rp[2];
static volatile int helper_done;
static int helper_ret, helper_err;
static volatile pthread_t helper_self;
static pthread_barrier_t bar;

static void *blocker(void *a) /* blocks SIGALRM, then parks */
{
	sigset_t s;
	(void)a;
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &s, 0);
	pthread_barrier_wait(&bar);
	char c;
	read(rp[0], &c, 1);
	return 0;
}

static void *receiver(void *a) /* the only thread with SIGALRM unblocked */
{
	sigset_t s;
	(void)a;
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &s, 0);
	helper_self = pthread_self();
	int p[2];
	pipe(p);
	pthread_barrier_wait(&bar);
	char c;
	helper_ret = read(p[0], &c, 1);
	helper_err = errno;
	helper_done = 1;
	return 0;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = handler };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, 0); /* no SA_RESTART */
	setvbuf(stdout, NULL, _IONBF, 0);
	pid_t wd = watchdog_msg(8, "watchdog: blocked call never interrupted\n");
	int p[2], r, e;
	char c;
	pipe(p);

	/* 1. single thread */
	hits = 0;
	alarm(1);
	r = read(p[0], &c, 1); e = errno;
	printf("alarm(1), read on empty pipe: %s, handler ran: %s\n", res(r, e), hits == 1 ? "once" : hits ? "more" : "no");

	hits = 0;
	calling = 0;
	shot(100000, 100000);
	CALL(pause());
	shot(0, 0);
	printf("setitimer 100 ms, pause(): %s, handler ran: %s\n", res(r, e), hits == 1 ? "once" : hits ? "more" : "no");

	hits = 0;
	struct timespec ts = { 30, 0 };
	shot(100000, 100000);
	CALL(nanosleep(&ts, 0));
	shot(0, 0);
	printf("setitimer 100 ms, nanosleep(30 s): %s, handler ran: %s\n", res(r, e), hits == 1 ? "once" : hits ? "more" : "no");

	hits = 0;
	calling = 1;
	shot(20000, 20000);
	int eintr = 0;
	for (int i = 0; i < 5; i++) if (pause() < 0 && errno == EINTR) eintr++;
	shot(0, 0);
	printf("periodic 20 ms timer, 5 pause() calls: %d returned EINTR, ticks >= 5: %s\n", eintr, hits >= 5 ? "yes" : "no");

	alarm(10);
	unsigned left = alarm(0);
	printf("alarm(0) after alarm(10) returns 9..10: %s\n", left >= 9 && left <= 10 ? "yes" : "no");
	shot(10000000, 0);
	struct itimerval cur;
	getitimer(ITIMER_REAL, &cur);
	printf("getitimer after 10 s setitimer: 9..10 s left: %s\n",
	       cur.it_value.tv_sec >= 9 && cur.it_value.tv_sec <= 10 ? "yes" : "no");
	shot(0, 0);
	getitimer(ITIMER_REAL, &cur);
	printf("getitimer after disarm is zero: %s\n", !cur.it_value.tv_sec && !cur.it_value.tv_usec ? "yes" : "no");

	/* 2. SIGALRM at the default action kills a child blocked in read */
	{
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			signal(SIGALRM, SIG_DFL);
			shot(100000, 0);
			read(p[0], &c, 1);
			_exit(0);
		}
		int s;
		waitpid(pid, &s, 0);
		printf("default SIGALRM, child blocked in read: %s %d\n",
		       WIFSIGNALED(s) ? "killed by signal" : "exited", WIFSIGNALED(s) ? WTERMSIG(s) : WEXITSTATUS(s));
	}

	/* 3. other threads block SIGALRM; main is blocked in read */
	{
		pipe(rp);
		pthread_t t[3];
		pthread_barrier_init(&bar, 0, 4);
		for (int i = 0; i < 3; i++) pthread_create(&t[i], 0, blocker, 0);
		pthread_barrier_wait(&bar);
		hits = 0;
		calling = 0;
		shot(100000, 100000);
		CALL(read(p[0], &c, 1));
		shot(0, 0);
		printf("3 threads block SIGALRM, main in read, setitimer 100 ms: %s, handler ran on main: %s\n",
		       res(r, e), hits && pthread_equal(handler_thread, pthread_self()) ? "yes" : "no");
		close(rp[1]);
		for (int i = 0; i < 3; i++) pthread_join(t[i], 0);
	}

	/* 4. main blocks SIGALRM; a helper thread is the only receiver, blocked in read */
	{
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGALRM);
		pthread_sigmask(SIG_BLOCK, &s, 0);
		pthread_t t;
		pthread_barrier_init(&bar, 0, 2);
		pthread_create(&t, 0, receiver, 0);
		pthread_barrier_wait(&bar);
		hits = 0;
		calling = 1;
		alarm(1);
		pthread_join(t, 0);
		printf("main blocks SIGALRM, helper in read, alarm(1): %s, handler ran on helper: %s\n",
		       res(helper_ret, helper_err), hits && pthread_equal(handler_thread, helper_self) ? "yes" : "no");
		pthread_sigmask(SIG_UNBLOCK, &s, 0);
	}
	kill(wd, SIGKILL);
	waitpid(wd, 0, 0);
	return 0;
}
