/* timerfd read by threads blocking on it: 4 threads each block in read() on
 * their own one-shot timerfd (50..200 ms) and get 1 expiration; an absolute
 * deadline in the past expires at once; a disarmed timerfd blocks until a
 * signal interrupts the read (EINTR); timerfd_gettime on a disarmed timer
 * reads zero. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

#define NT 4

static int tfd[NT];
static uint64_t exp_[NT];
static volatile int done[NT];
static volatile sig_atomic_t hits;
static void handler(int s) { (void)s; hits++; }

static void nap(void) { struct timespec ts = { 0, 1000000 }; nanosleep(&ts, 0); }

static void *reader(void *a)
{
	int i = (int)(long)a;
	uint64_t v = 0;
	while (read(tfd[i], &v, 8) < 0 && errno == EINTR) ;
	exp_[i] = v;
	done[i] = 1;
	return 0;
}

static int dis_fd, dis_ret, dis_err;
static volatile int dis_done;
static void *dis_reader(void *a)
{
	(void)a;
	uint64_t v;
	dis_ret = read(dis_fd, &v, 8);
	dis_err = errno;
	dis_done = 1;
	return 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	watchdog(10);
	pthread_t t[NT];
	struct sigaction sa = { .sa_handler = handler };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, 0);
	alarm(60);

	for (long i = 0; i < NT; i++) {
		tfd[i] = timerfd_create(CLOCK_MONOTONIC, 0);
		struct itimerspec its = { { 0, 0 }, { 0, 50000000 * (i + 1) } };
		timerfd_settime(tfd[i], 0, &its, 0);
		pthread_create(&t[i], 0, reader, (void *)i);
	}
	int ok = 1;
	for (int i = 0; i < NT; i++) {
		pthread_join(t[i], 0);
		if (exp_[i] != 1) ok = 0;
	}
	printf("%d threads blocked in read() on one-shot timerfds got 1 expiration each: %s\n", NT, ok ? "yes" : "no");

	{
		int fd = timerfd_create(CLOCK_REALTIME, 0);
		struct itimerspec its = { { 0, 0 }, { 1, 0 } }; /* 1970: long past */
		timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, 0);
		uint64_t v = 0;
		int r = read(fd, &v, 8);
		printf("absolute deadline in the past: read %d, expirations %llu\n", r, (unsigned long long)v);
		close(fd);
	}
	{
		int fd = timerfd_create(CLOCK_MONOTONIC, 0);
		struct itimerspec its = { { 0, 10000000 }, { 0, 10000000 } };
		timerfd_settime(fd, 0, &its, 0);
		uint64_t v = 0;
		int r = read(fd, &v, 8);
		printf("periodic 10 ms timer: read %d, expirations >= 1: %s\n", r, v >= 1 ? "yes" : "no");
		struct itimerspec cur;
		its = (struct itimerspec){ { 0, 0 }, { 0, 0 } };
		timerfd_settime(fd, 0, &its, 0);
		timerfd_gettime(fd, &cur);
		printf("disarmed timerfd_gettime is zero: %s\n",
		       !cur.it_value.tv_sec && !cur.it_value.tv_nsec && !cur.it_interval.tv_sec && !cur.it_interval.tv_nsec ? "yes" : "no");
		close(fd);
	}
	{
		dis_fd = timerfd_create(CLOCK_MONOTONIC, 0);
		pthread_t d;
		pthread_create(&d, 0, dis_reader, 0);
		/* keep signalling the reader until its read returns (bounded, 5 s) */
		for (int i = 0; i < 100 && !dis_done; i++) {
			struct timespec ts = { 0, 50000000 };
			nanosleep(&ts, 0);
			if (!dis_done) pthread_kill(d, SIGUSR1);
		}
		if (!dis_done) { puts("read on disarmed timerfd not interrupted after 5 s"); return 1; }
		pthread_join(d, 0);
		printf("read on disarmed timerfd interrupted by pthread_kill: ret=%d %s, handler ran: %s\n", dis_ret,
		       dis_ret < 0 && dis_err == EINTR ? "EINTR" : dis_ret < 0 ? "other error" : "-", hits ? "yes" : "no");
	}
	(void)nap;
	return 0;
}
