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
#include <stdio.h>
#include <stdlib.h>
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int go, waiting;
static void *f(void *a) { pthread_mutex_lock(&m); waiting++; while (!go) pthread_cond_wait(&c, &m); pthread_mutex_unlock(&m); return a; }
static int ntask(void) { DIR *d = opendir("/proc/self/task"); struct dirent *e; int n = 0; while ((e = readdir(d))) if (e->d_name[0] != '.') n++; closedir(d); return n; }
int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 100000;
	pthread_t *t = malloc(n * sizeof *t); pthread_attr_t a; pthread_attr_init(&a); pthread_attr_setstacksize(&a, 65536);
	for (int i = 0; i < n; i++) if (pthread_create(&t[i], &a, f, 0)) { printf("create %d failed\n", i); return 1; }
	for (;;) { pthread_mutex_lock(&m); int w = waiting; pthread_mutex_unlock(&m); if (w == n) break; sched_yield(); }
	printf("%d threads blocked on one condvar; OS threads: %d\n", n, ntask());
	pthread_mutex_lock(&m); go = 1; pthread_cond_broadcast(&c); pthread_mutex_unlock(&m);
	for (int i = 0; i < n; i++) pthread_join(t[i], 0);
	printf("joined all %d\n", n); return 0;
}
