/*
 * spawn.c - create and join N threads (default 100,000) in batches of
 * 1,000: 1,000 threads alive at a time, default attributes.  Prints ns
 * per create+join.
 * usage: spawn [N]
 */
#include <pthread.h>
#include "bench.h"

#define BATCH 1000

static void *nothing(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	long n, done = 0;
	pthread_t t[BATCH];
	double t0;
	int e;

	bench_name = "spawn";
	n = arg_count(argc, argv, 1, 100000);
	t0 = now_ns();
	while (done < n) {
		int k, batch = n - done < BATCH ? (int)(n - done) : BATCH;

		for (k = 0; k < batch; k++)
			if ((e = pthread_create(&t[k], 0, nothing, (void *)(long)(k + 1))))
				create_failed(e);
		for (k = 0; k < batch; k++) {
			void *r;
			if ((e = pthread_join(t[k], &r))) fail("pthread_join", e);
			if (r != (void *)(long)(k + 1)) fail("pthread_join: wrong result", EINVAL);
		}
		done += batch;
	}
	report("ns/op", (now_ns() - t0) / n, n);
	return 0;
}
