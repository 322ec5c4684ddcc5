/*
 * yield.c - a bare task switch: the process pins itself to one CPU, then
 * two threads call sched_yield N times each (default 1,000,000), so every
 * yield hands the CPU (or, under weft's M:N backend, the one worker that
 * the affinity mask gives it) to the other thread.  Prints ns per switch,
 * one way (wall time / 2N).
 * usage: yield [N]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include "bench.h"

static long n;

static void *yield_loop(void *arg)
{
	for (long i = 0; i < n; i++)
		if (sched_yield()) fail("sched_yield", errno);
	return arg;
}

int main(int argc, char **argv)
{
	cpu_set_t one;
	pthread_t t;
	double t0;
	int e;

	bench_name = "yield";
	n = arg_count(argc, argv, 1, 1000000);
	/* Before the first pthread_create: threads (and weft's workers) inherit it. */
	CPU_ZERO(&one);
	if (sched_getaffinity(0, sizeof one, &one)) fail("sched_getaffinity", errno);
	for (e = 0; e < CPU_SETSIZE && !CPU_ISSET(e, &one); e++)
		;
	CPU_ZERO(&one);
	CPU_SET(e, &one);
	if (sched_setaffinity(0, sizeof one, &one)) fail("sched_setaffinity", errno);

	t0 = now_ns();
	if ((e = pthread_create(&t, 0, yield_loop, 0))) create_failed(e);
	yield_loop(0);
	if ((e = pthread_join(t, 0))) fail("pthread_join", e);
	report("ns/switch", (now_ns() - t0) / (2.0 * n), n);
	return 0;
}
