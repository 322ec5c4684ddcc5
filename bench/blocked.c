/*
 * blocked.c - memory held by blocked threads: N threads (default 100,000,
 * default stack size) each wait on one condition variable.  Once every
 * one is inside pthread_cond_wait, main reads the process's VmRSS
 * (/proc/self/status) and prints (that - VmRSS before the first
 * pthread_create) / N in KiB: what a blocked thread costs, stack, TLS,
 * thread control block and the library's own bookkeeping included.
 * Then it releases and joins them all.
 * usage: blocked [N]
 */
#include <pthread.h>
#include "bench.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER;
static pthread_cond_t all_in = PTHREAD_COND_INITIALIZER;
static long n, waiting;
static int released;

static void *waiter(void *arg)
{
	pthread_mutex_lock(&m);
	if (++waiting == n)
		pthread_cond_signal(&all_in);
	while (!released)
		pthread_cond_wait(&go, &m);
	pthread_mutex_unlock(&m);
	return arg;
}

/* VmRSS of this process, KiB. */
static long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		fail("fopen /proc/self/status", errno);
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	if (kib < 0)
		fail("VmRSS in /proc/self/status", EINVAL);
	return kib;
}

int main(int argc, char **argv)
{
	pthread_t *t;
	long before, after, i;
	int e;

	bench_name = "blocked";
	n = arg_count(argc, argv, 1, 100000);
	t = malloc(n * sizeof *t);
	if (!t)
		fail("malloc", ENOMEM);
	memset(t, 0, n * sizeof *t);	/* resident before the first reading */
	before = rss_kib();
	for (i = 0; i < n; i++)
		if ((e = pthread_create(&t[i], 0, waiter, 0)))
			create_failed(e);
	pthread_mutex_lock(&m);
	while (waiting < n)
		pthread_cond_wait(&all_in, &m);
	/* Every waiter has released m inside pthread_cond_wait. */
	after = rss_kib();
	released = 1;
	pthread_cond_broadcast(&go);
	pthread_mutex_unlock(&m);
	for (i = 0; i < n; i++)
		if ((e = pthread_join(t[i], 0)))
			fail("pthread_join", e);
	report("KiB/thread", (double)(after - before) / n, n);
	return 0;
}
