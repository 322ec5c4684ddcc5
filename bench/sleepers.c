/*
 * sleepers.c - idle cost of sleeping threads: N threads (default 5,000)
 * each loop on usleep(INTERVAL ms) (default 1,000) until told to stop.
 * Once all have started, main measures the process's CPU time
 * (getrusage RUSAGE_SELF, user + system) over SECONDS (default 5) of
 * wall time and prints it as a percentage of one CPU.  Stopping is a
 * flag the sleepers see at their next wakeup; main joins them all.
 * usage: sleepers [N [INTERVAL_MS [SECONDS]]]
 */
#include <pthread.h>
#include <sys/resource.h>
#include "bench.h"

static long interval_us;
static volatile int stop;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static long started;

static void *sleeper(void *arg)
{
	pthread_mutex_lock(&m);
	if (++started == (long)arg) pthread_cond_signal(&c);
	pthread_mutex_unlock(&m);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		usleep(interval_us);
	return 0;
}

static double cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9
		+ (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

int main(int argc, char **argv)
{
	long n, secs, i;
	pthread_t *t;
	pthread_attr_t a;
	double w0, c0;
	int e;

	bench_name = "sleepers";
	n = arg_count(argc, argv, 1, 5000);
	interval_us = arg_count(argc, argv, 2, 1000) * 1000;
	secs = arg_count(argc, argv, 3, 5);
	if (!(t = malloc(n * sizeof *t))) fail("malloc", ENOMEM);
	/* Small stacks, so that a 1:1 libc fits 5,000 threads easily. */
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 65536);
	for (i = 0; i < n; i++)
		if ((e = pthread_create(&t[i], &a, sleeper, (void *)n)))
			create_failed(e);
	pthread_mutex_lock(&m);
	while (started < n) pthread_cond_wait(&c, &m);
	pthread_mutex_unlock(&m);
	w0 = now_ns();
	c0 = cpu_ns();
	sleep(secs);
	report("%cpu", 100 * (cpu_ns() - c0) / (now_ns() - w0), n);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++)
		if ((e = pthread_join(t[i], 0))) fail("pthread_join", e);
	return 0;
}
