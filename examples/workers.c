/*
 * workers.c - an ordinary pthread program, unmodified for weft: a pool
 * of worker threads takes jobs from a queue guarded by a mutex and two
 * condition variables, and main checks every result.
 *
 * usage: workers [THREADS [JOBS]]   (defaults 64 and 200000)
 * Prints the totals and the OS threads the process had at the peak
 * (/proc/self/task), then exits 0 if every job's result was right.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define QCAP 256

static struct {
	pthread_mutex_t lock;
	pthread_cond_t nonempty, nonfull;
	long job[QCAP];
	int head, len, done;
} q = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
	PTHREAD_COND_INITIALIZER };

static unsigned long long total;	/* protected by q.lock */
static int os_threads;			/* protected by q.lock */

static int count_os_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;
	if (!d) return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') n++;
	closedir(d);
	return n;
}

static unsigned long long work(long x)
{
	unsigned long long h = x;
	for (int i = 0; i < 64; i++)
		h = h * 6364136223846793005ULL + 1442695040888963407ULL;
	return h >> 32;
}

static void *worker(void *arg)
{
	unsigned long long sum = 0;
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&q.lock);
		while (!q.len && !q.done)
			pthread_cond_wait(&q.nonempty, &q.lock);
		if (!q.len) {
			pthread_mutex_unlock(&q.lock);
			break;
		}
		long x = q.job[q.head];
		q.head = (q.head + 1) % QCAP;
		q.len--;
		pthread_cond_signal(&q.nonfull);
		pthread_mutex_unlock(&q.lock);
		sum += work(x);
	}
	pthread_mutex_lock(&q.lock);
	total += sum;
	pthread_mutex_unlock(&q.lock);
	return 0;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 64;
	long njobs = argc > 2 ? atol(argv[2]) : 200000;
	unsigned long long want = 0;
	pthread_t *t;

	if (nthreads < 1 || njobs < 0) {
		fprintf(stderr, "usage: %s [THREADS>0 [JOBS>=0]]\n", argv[0]);
		return 2;
	}
	t = calloc(nthreads, sizeof *t);
	if (!t) return perror("calloc"), 1;
	for (int i = 0; i < nthreads; i++) {
		int e = pthread_create(&t[i], 0, worker, 0);
		if (e) {
			fprintf(stderr, "pthread_create %d: error %d\n", i, e);
			return 1;
		}
	}
	for (long j = 0; j < njobs; j++) {
		want += work(j);
		pthread_mutex_lock(&q.lock);
		while (q.len == QCAP)
			pthread_cond_wait(&q.nonfull, &q.lock);
		q.job[(q.head + q.len++) % QCAP] = j;
		if (j == njobs / 2) os_threads = count_os_threads();
		pthread_cond_signal(&q.nonempty);
		pthread_mutex_unlock(&q.lock);
	}
	pthread_mutex_lock(&q.lock);
	q.done = 1;
	if (!njobs) os_threads = count_os_threads();
	pthread_cond_broadcast(&q.nonempty);
	pthread_mutex_unlock(&q.lock);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], 0);

	printf("workers: %d threads ran %ld jobs; OS threads at peak: %d; results %s\n",
		nthreads, njobs, os_threads, total == want ? "all correct" : "WRONG");
	free(t);
	return total == want ? 0 : 1;
}
