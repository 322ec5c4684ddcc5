/* "Forever" timeouts ({LONG_MAX,0} and far deadlines) block until a signal
 * interrupts them; they neither overflow into an immediate return nor fail. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

static volatile sig_atomic_t hits;
static void handler(int sig) { (void)sig; hits++; }

static const char *ename(int e)
{
	switch (e) {
	case 0: return "0";
	case EINTR: return "EINTR";
	case EINVAL: return "EINVAL";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EAGAIN: return "EAGAIN";
	case EOVERFLOW: return "EOVERFLOW";
	default: return "other";
	}
}

/* Every 100 ms until disarmed: a tick that comes before the call blocks
 * (the caller descheduled that long) leaves the next one to interrupt
 * it, where a one-shot timer would leave it blocked for good. */
static void arm(void)
{
	struct itimerval it = { { 0, 100000 }, { 0, 100000 } };
	hits = 0;
	setitimer(ITIMER_REAL, &it, 0);
}

static void disarm(const char *what, int ret, int err)
{
	struct itimerval it = { { 0, 0 }, { 0, 0 } };
	int ran = hits;
	setitimer(ITIMER_REAL, &it, 0);
	printf("main %s: ret=%d errno=%s handler_before_return=%s\n", what, ret,
	       ret ? ename(err) : "-", ran ? "yes" : "no");
}


#define NCASES 11
static const char *case_name[NCASES] = {
	"nanosleep({LONG_MAX,0})",
	"nanosleep({LONG_MAX,999999999})",
	"clock_nanosleep(MONOTONIC, rel {LONG_MAX,0})",
	"clock_nanosleep(REALTIME, abs {LONG_MAX,0})",
	"ppoll({LONG_MAX,0})",
	"ppoll(no fds, {LONG_MAX,0})",
	"select({LONG_MAX,0})",
	"select({INT_MAX,999999})",
	"pselect({LONG_MAX,0})",
	"sem_timedwait(abs {LONG_MAX,0})",
	"sem_timedwait(now + 100 years)",
};

/* Performs blocking case c; returns its result, errno in *err. */
static int do_case(int c, int *err)
{
	int r = 0, p[2];
	struct timespec ts = { LONG_MAX, 0 };
	struct timeval tv = { LONG_MAX, 0 };
	struct pollfd pfd;
	fd_set rf;
	sem_t s;

	if (pipe(p)) { *err = errno; return -9; }
	pfd.fd = p[0]; pfd.events = POLLIN; pfd.revents = 0;
	FD_ZERO(&rf); FD_SET(p[0], &rf);
	sem_init(&s, 0, 0);
	errno = 0;
	switch (c) {
	case 0: r = nanosleep(&ts, 0); break;
	case 1: ts.tv_nsec = 999999999; r = nanosleep(&ts, 0); break;
	case 2: r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, 0); errno = r; r = r ? -1 : 0; break;
	case 3: r = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, 0); errno = r; r = r ? -1 : 0; break;
	case 4: r = ppoll(&pfd, 1, &ts, 0); break;
	case 5: r = ppoll(0, 0, &ts, 0); break;
	case 6: r = select(p[0] + 1, &rf, 0, 0, &tv); break;
	case 7: tv.tv_sec = INT_MAX; tv.tv_usec = 999999; r = select(p[0] + 1, &rf, 0, 0, &tv); break;
	case 8: r = pselect(p[0] + 1, &rf, 0, 0, &ts, 0); break;
	case 9: r = sem_timedwait(&s, &ts); break;
	case 10:
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 100L * 365 * 86400;
		r = sem_timedwait(&s, &ts);
		break;
	}
	*err = errno;
	sem_destroy(&s);
	close(p[0]); close(p[1]);
	return r;
}

/* --- thread cases: a waiter thread, interrupted by repeated pthread_kill --- */
static pthread_mutex_t mx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int pred;
static volatile int done;
static volatile int tret, terr, tran;

static void *case_waiter(void *a)
{
	int e;
	tret = do_case((int)(long)a, &e);
	terr = e;
	tran = hits;
	done = 1;
	return 0;
}

static void *cond_waiter(void *a)
{
	(void)a;
	struct timespec far = { LONG_MAX, 0 };
	int r = 0;
	pthread_mutex_lock(&mx);
	while (!pred) {
		r = pthread_cond_timedwait(&cv, &mx, &far);
		if (r) break;
	}
	tran = pred; /* woken by the signal below, not by a timeout */
	pthread_mutex_unlock(&mx);
	tret = r;
	done = 1;
	return 0;
}

/* Runs case c (or the condvar case, c < 0) in a new thread; main sends
 * SIGUSR1 to it every 50 ms until it returns (condvar: signals the condvar
 * once the handler has run). */
static void run_thread(int c)
{
	pthread_t t;
	done = 0; hits = 0; tret = -2; terr = 0; tran = 0; pred = 0;
	pthread_create(&t, 0, c < 0 ? cond_waiter : case_waiter, (void *)(long)c);
	struct timespec ts = { 0, 50000000 };
	for (int i = 0; i < 100 && !done; i++) {
		nanosleep(&ts, 0);
		if (done) break;
		if (c < 0 && hits) {
			pthread_mutex_lock(&mx);
			pred = 1;
			pthread_cond_signal(&cv);
			pthread_mutex_unlock(&mx);
		} else {
			pthread_kill(t, SIGUSR1);
		}
	}
	if (!done) {
		printf("thread %s: still blocked after 5 s\n",
		       c < 0 ? "pthread_cond_timedwait" : case_name[c]);
		fflush(stdout);
		_exit(3);
	}
	pthread_join(t, 0);
	if (c < 0)
		printf("thread pthread_cond_timedwait(abs {LONG_MAX,0}): ret=%s woken_by_cond_signal=%s\n",
		       ename(tret), tran ? "yes" : "no");
	else
		printf("thread %s: ret=%d errno=%s handler_ran=%s\n", case_name[c], tret,
		       tret ? ename(terr) : "-", tran ? "yes" : "no");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	watchdog(10);
	struct sigaction sa = { .sa_handler = handler };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, 0); /* no SA_RESTART */
	sigaction(SIGUSR1, &sa, 0);
	alarm(60);

	/* only thread: interrupted by SIGALRM from a 100 ms setitimer (the
	 * output says only whether the handler ran, not how often) */
	for (int c = 0; c < NCASES; c++) {
		int e, r;
		arm();
		r = do_case(c, &e);
		disarm(case_name[c], r, e);
	}
	alarm(60);
	/* a second thread blocks; main interrupts it with pthread_kill */
	for (int c = 0; c < NCASES; c++)
		run_thread(c);
	run_thread(-1);
	return 0;
}
