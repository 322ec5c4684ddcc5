/*
 * many_threads.c - an ordinary pthread program, unmodified for weft: it
 * keeps N threads (default 100,000) alive at once, each with a 64 KiB
 * stack attribute and blocked on one condvar, prints how many OS threads
 * the process has (/proc/self/task), then releases and joins them all.
 * A 1:1 libc cannot run the default here (pid_max is 32768); weft's M:N
 * backend runs it on its worker threads.
 *
 * usage: many_threads [N]
 */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t release = PTHREAD_COND_INITIALIZER;
static int go, waiting;		/* lock */

static void *blocked(void *arg)
{
	pthread_mutex_lock(&lock);
	waiting++;
	while (!go)
		pthread_cond_wait(&release, &lock);
	pthread_mutex_unlock(&lock);
	return arg;
}

static int os_threads(void)
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

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100000, w;
	pthread_attr_t a;
	pthread_t *t;

	if (n < 1 || !(t = malloc(n * sizeof *t))) {
		fprintf(stderr, "usage: %s [N>0]\n", argv[0]);
		return 2;
	}
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 65536);
	for (int i = 0; i < n; i++) {
		int e = pthread_create(&t[i], &a, blocked, 0);
		if (e) {
			fprintf(stderr, "pthread_create %d: error %d\n", i, e);
			return 1;
		}
	}
	do {
		sched_yield();
		pthread_mutex_lock(&lock);
		w = waiting;
		pthread_mutex_unlock(&lock);
	} while (w < n);
	printf("%d threads blocked on one condvar; OS threads: %d\n", n, os_threads());

	pthread_mutex_lock(&lock);
	go = 1;
	pthread_cond_broadcast(&release);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], 0);
	printf("joined all %d\n", n);
	free(t);
	return 0;
}
