/*
 * spawn.c - create and join N threads (default 200,000), 1,000 alive at a
 * time, 64 KiB stack attribute; prints ns per create+join.
 * usage: spawn [N]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BATCH 1000

static void *nothing(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	pthread_t t[BATCH];
	pthread_attr_t at;
	struct timespec a, b;

	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 65536);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i += BATCH) {
		for (int k = 0; k < BATCH; k++)
			if (pthread_create(&t[k], &at, nothing, 0)) {
				fprintf(stderr, "pthread_create failed\n");
				return 1;
			}
		for (int k = 0; k < BATCH; k++)
			pthread_join(t[k], 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.0f ns per create+join\n",
		((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}
