/* A small threaded program: NTHREADS threads add to libtally's counter
 * under its mutex; main joins them and prints the total. */
#include <pthread.h>
#include <stdio.h>
#include "tally.h"

#define NTHREADS 16
#define ROUNDS 1000

static void *work(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < ROUNDS; i++)
		tally_add(id);
	return NULL;
}

int main(void)
{
	pthread_t t[NTHREADS];

	for (long i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, work, (void *)(i + 1))) {
			perror("pthread_create");
			return 1;
		}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	printf("%d threads, tally %ld\n", NTHREADS, tally_get());
	return tally_get() != (long)ROUNDS * NTHREADS * (NTHREADS + 1) / 2;
}
