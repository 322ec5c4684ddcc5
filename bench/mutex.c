/*
 * mutex.c - contended mutex: 8 threads each add 1 to one shared counter
 * under one default pthread mutex, N times in all (default 40,000,000).
 * Prints ns per increment: the time from the first thread's start to the
 * last thread's end, over N.  (Each thread takes its own times: under M:N
 * main may not run again until the adders are done.)
 * usage: mutex [N]
 */
#include <pthread.h>
#include "bench.h"

#define THREADS 8

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start;
static long counter;		/* lock */
static long per_thread;
static double first_start, last_end;	/* lock */

static void *adder(void *arg)
{
	int e = pthread_barrier_wait(&start);
	double t0 = now_ns(), t1;

	if (e && e != PTHREAD_BARRIER_SERIAL_THREAD) fail("pthread_barrier_wait", e);
	for (long i = 0; i < per_thread; i++) {
		if ((e = pthread_mutex_lock(&lock))) fail("pthread_mutex_lock", e);
		counter++;
		if ((e = pthread_mutex_unlock(&lock))) fail("pthread_mutex_unlock", e);
	}
	t1 = now_ns();
	if ((e = pthread_mutex_lock(&lock))) fail("pthread_mutex_lock", e);
	if (!first_start || t0 < first_start) first_start = t0;
	if (t1 > last_end) last_end = t1;
	if ((e = pthread_mutex_unlock(&lock))) fail("pthread_mutex_unlock", e);
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t t[THREADS];
	long n;
	int e, i;

	bench_name = "mutex";
	n = arg_count(argc, argv, 1, 40000000);
	per_thread = (n + THREADS - 1) / THREADS;
	n = per_thread * THREADS;
	if ((e = pthread_barrier_init(&start, 0, THREADS + 1)))
		fail("pthread_barrier_init", e);
	for (i = 0; i < THREADS; i++)
		if ((e = pthread_create(&t[i], 0, adder, 0))) create_failed(e);
	e = pthread_barrier_wait(&start);
	if (e && e != PTHREAD_BARRIER_SERIAL_THREAD) fail("pthread_barrier_wait", e);
	for (i = 0; i < THREADS; i++)
		if ((e = pthread_join(t[i], 0))) fail("pthread_join", e);
	if (counter != n) {
		fprintf(stderr, "mutex: error: counter is %ld, not %ld\n", counter, n);
		return 1;
	}
	report("ns/op", (last_end - first_start) / n, n);
	return 0;
}
