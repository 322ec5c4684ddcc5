/*
 * yield.c - two threads each call sched_yield N times (default 10^6);
 * prints ns per yield.  usage: yield [N]
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long n;

static void *yield_loop(void *arg)
{
	for (long i = 0; i < n; i++)
		sched_yield();
	return arg;
}

int main(int argc, char **argv)
{
	struct timespec a, b;
	pthread_t t;

	n = argc > 1 ? atol(argv[1]) : 1000000;
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (pthread_create(&t, 0, yield_loop, 0)) return 1;
	yield_loop(0);
	pthread_join(t, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.1f ns per yield\n",
		((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (2.0 * n));
	return 0;
}
