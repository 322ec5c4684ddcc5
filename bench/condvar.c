/*
 * condvar.c - two threads play ping-pong through one mutex and two
 * condition variables, N round trips (default 100,000).  A round trip is
 * ping -> pong -> ping: two condvar waits and two signals.  Prints ns per
 * round trip.
 * usage: condvar [N]
 */
#include <pthread.h>
#include "bench.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t to_ping = PTHREAD_COND_INITIALIZER;
static pthread_cond_t to_pong = PTHREAD_COND_INITIALIZER;
static int turn;		/* lock: 0 ping's, 1 pong's */
static long n;

static void check(const char *call, int e)
{
	if (e) fail(call, e);
}

/* me plays when turn == side, then hands over to the other side. */
static void play(int side, pthread_cond_t *mine, pthread_cond_t *theirs)
{
	check("pthread_mutex_lock", pthread_mutex_lock(&lock));
	for (long i = 0; i < n; i++) {
		while (turn != side)
			check("pthread_cond_wait", pthread_cond_wait(mine, &lock));
		turn = !side;
		check("pthread_cond_signal", pthread_cond_signal(theirs));
	}
	check("pthread_mutex_unlock", pthread_mutex_unlock(&lock));
}

static void *pong(void *arg)
{
	play(1, &to_pong, &to_ping);
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t t;
	double t0;
	int e;

	bench_name = "condvar";
	n = arg_count(argc, argv, 1, 100000);
	t0 = now_ns();
	if ((e = pthread_create(&t, 0, pong, 0))) create_failed(e);
	play(0, &to_ping, &to_pong);
	check("pthread_join", pthread_join(t, 0));
	report("ns/roundtrip", (now_ns() - t0) / n, n);
	return 0;
}
