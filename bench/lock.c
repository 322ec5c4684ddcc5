/*
 * lock.c - uncontended mutex: one thread locks and unlocks its own
 * default pthread mutex N times (default 50,000,000) while main waits in
 * pthread_join, so the process is multithreaded but nobody else touches
 * the mutex.  Prints ns per lock+unlock pair.
 * usage: lock [N]
 */
#include <pthread.h>
#include "bench.h"

static long n;
static double elapsed;

static void *locker(void *arg)
{
	pthread_mutex_t m;
	double t0;
	int e;

	if ((e = pthread_mutex_init(&m, 0))) fail("pthread_mutex_init", e);
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		if ((e = pthread_mutex_lock(&m))) fail("pthread_mutex_lock", e);
		if ((e = pthread_mutex_unlock(&m))) fail("pthread_mutex_unlock", e);
	}
	elapsed = now_ns() - t0;
	pthread_mutex_destroy(&m);
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t t;
	int e;

	bench_name = "lock";
	n = arg_count(argc, argv, 1, 50000000);
	if ((e = pthread_create(&t, 0, locker, 0))) create_failed(e);
	if ((e = pthread_join(t, 0))) fail("pthread_join", e);
	report("ns/op", elapsed / n, n);
	return 0;
}
