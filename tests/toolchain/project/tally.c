#include <pthread.h>
#include "tally.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long total;

void tally_add(long n)
{
	pthread_mutex_lock(&lock);
	total += n;
	pthread_mutex_unlock(&lock);
}

long tally_get(void)
{
	long t;

	pthread_mutex_lock(&lock);
	t = total;
	pthread_mutex_unlock(&lock);
	return t;
}
