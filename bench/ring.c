/*
 * ring.c - the thread ring: 503 threads (default attributes) in a ring,
 * each waiting on its own semaphore; a token is passed N hops (default
 * 1,000,000) round the ring, each hop a sem_post to the next thread and
 * a sem_wait by it.  Prints ns per hop.
 * usage: ring [HOPS]
 */
#include <pthread.h>
#include <semaphore.h>
#include "bench.h"

#define THREADS 503

static sem_t sem[THREADS];
static long token;		/* owned by whoever holds the token */
static int done;		/* likewise */
static double t_end;

static void *node(void *arg)
{
	int i = (int)(long)arg;
	sem_t *next = &sem[(i + 1) % THREADS];
	int last;

	for (;;) {
		while (sem_wait(&sem[i]))
			if (errno != EINTR) fail("sem_wait", errno);
		if (!done && token == 0) {
			t_end = now_ns();
			done = 1;
		}
		if (!done)
			token--;
		/* token and done belong to the holder of the token, so done is
		 * read before the token is passed on, never after: once next
		 * is posted, the token can go a whole lap and set done while
		 * this thread is still on its way out of sem_post (descheduled
		 * for a lap: under a millisecond), and it would then return
		 * without having taken its last post.  The stopping lap would
		 * end at it and every node after it would wait forever. */
		last = done;
		if (sem_post(next)) fail("sem_post", errno);
		if (last) return 0;	/* the token passes once more round to stop each */
	}
}

int main(int argc, char **argv)
{
	pthread_t t[THREADS];
	long hops;
	double t0;
	int e, i;

	bench_name = "ring";
	hops = arg_count(argc, argv, 1, 1000000);
	for (i = 0; i < THREADS; i++)
		if (sem_init(&sem[i], 0, 0)) fail("sem_init", errno);
	for (i = 0; i < THREADS; i++)
		if ((e = pthread_create(&t[i], 0, node, (void *)(long)i)))
			create_failed(e);
	token = hops;
	t0 = now_ns();
	if (sem_post(&sem[0])) fail("sem_post", errno);
	for (i = 0; i < THREADS; i++)
		if ((e = pthread_join(t[i], 0))) fail("pthread_join", e);
	report("ns/hop", (t_end - t0) / hops, hops);
	return 0;
}
