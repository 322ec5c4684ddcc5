/*
 * spin: threads that compute without ever blocking or yielding must not
 * starve the others (1:1 threads are preempted by the kernel).  With 1,
 * 2, 4 and 8 such spinners running, a thread blocked in read, one in
 * nanosleep and one in pthread_cond_wait are each woken and finish, and
 * then stop the spinners.  Each case in its own child process, with a
 * deadline.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

static volatile int stop;
static void *spinner(void *arg)
{
	volatile unsigned long n = 0;
	while (!stop) n++;
	return 0;
}

static int p[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int signalled;

static void *reader(void *arg)
{
	char c;
	read(p[0], &c, 1);
	return 0;
}

static void *sleeper(void *arg)
{
	struct timespec ts = { 0, 10000000 };
	nanosleep(&ts, 0);
	return 0;
}

static void *waiter(void *arg)
{
	pthread_mutex_lock(&mu);
	while (!signalled) pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return 0;
}

static void spinners(int n)
{
	pthread_t s[8], r, sl, w;
	pipe(p);
	for (int i = 0; i < n; i++) pthread_create(&s[i], 0, spinner, 0);
	pthread_create(&r, 0, reader, 0);
	pthread_create(&sl, 0, sleeper, 0);
	pthread_create(&w, 0, waiter, 0);
	usleep(20000);	/* likelier that they block first; they finish either way */
	write(p[1], "x", 1);
	pthread_mutex_lock(&mu);
	signalled = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(r, 0);
	printf("%d spinners: reader woken\n", n);
	pthread_join(sl, 0);
	printf("%d spinners: sleeper woken\n", n);
	pthread_join(w, 0);
	printf("%d spinners: cond waiter woken\n", n);
	stop = 1;
	for (int i = 0; i < n; i++) pthread_join(s[i], 0);
	printf("%d spinners: all joined\n", n);
}

static void c1(void) { spinners(1); }
static void c2(void) { spinners(2); }
static void c4(void) { spinners(4); }
static void c8(void) { spinners(8); }

int main(void)
{
	static const struct kase k[] = {
		{ "1 spinners", c1 },
		{ "2 spinners", c2 },
		{ "4 spinners", c4 },
		{ "8 spinners", c8 },
	};
	setvbuf(stdout, 0, _IONBF, 0);
	run_cases(k, sizeof k / sizeof *k, 4);
	return 0;
}
