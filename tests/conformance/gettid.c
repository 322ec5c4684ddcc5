/* gettid() identifies the calling thread: unique among live threads, stable
 * for the thread's life, equal to getpid() in the main thread, equal to
 * syscall(SYS_gettid), and tgkill(getpid(), gettid(), sig) reaches the
 * calling thread itself. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

#define NT 8
#define TRIES 20

static pthread_barrier_t bar;
static pid_t tids[NT];
static int ok_sys[NT], ok_stable[NT], ok_notpid[NT], ok_kill_now[NT], ok_kill_late[NT];
static __thread volatile sig_atomic_t hits;

static void handler(int sig) { (void)sig; hits++; }

static void nap(long ns)
{
	struct timespec ts = { 0, ns };
	nanosleep(&ts, 0);
}

static void *worker(void *arg)
{
	int i = (int)(long)arg;
	pid_t t = gettid();
	tids[i] = t;
	ok_sys[i] = (pid_t)syscall(SYS_gettid) == t;
	ok_notpid[i] = t != getpid();
	pthread_barrier_wait(&bar); /* all NT threads alive at once */
	ok_stable[i] = 1;
	for (int k = 0; k < 20; k++) {
		if (k & 1) nap(200000); else sched_yield();
		if (gettid() != t || (pid_t)syscall(SYS_gettid) != t)
			ok_stable[i] = 0;
	}
	int now = 0, late = 0;
	for (int k = 0; k < TRIES; k++) {
		int before = hits;
		syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
		if (hits == before + 1) now++;
		for (int w = 0; w < 100 && hits == before; w++) nap(1000000);
		if (hits == before + 1) late++;
	}
	ok_kill_now[i] = now == TRIES;
	ok_kill_late[i] = late == TRIES;
	pthread_barrier_wait(&bar); /* keep all alive until every check ran */
	return 0;
}

static int all(int *v)
{
	for (int i = 0; i < NT; i++) if (!v[i]) return 0;
	return 1;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	watchdog(10);
	pthread_t th[NT];
	struct sigaction sa = { .sa_handler = handler };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, 0);
	alarm(60);

	printf("main gettid()==getpid(): %s\n", gettid() == getpid() ? "yes" : "no");
	printf("main syscall(SYS_gettid)==gettid(): %s\n",
	       (pid_t)syscall(SYS_gettid) == gettid() ? "yes" : "no");

	pthread_barrier_init(&bar, 0, NT);
	for (long i = 0; i < NT; i++)
		if (pthread_create(&th[i], 0, worker, (void *)i)) { puts("pthread_create failed"); return 1; }
	for (int i = 0; i < NT; i++) pthread_join(th[i], 0);

	int uniq = 1;
	for (int i = 0; i < NT; i++)
		for (int j = i + 1; j < NT; j++)
			if (tids[i] == tids[j]) uniq = 0;
	printf("%d live threads have distinct tids: %s\n", NT, uniq ? "yes" : "no");
	printf("thread tid != getpid(): %s\n", all(ok_notpid) ? "yes" : "no");
	printf("thread syscall(SYS_gettid)==gettid(): %s\n", all(ok_sys) ? "yes" : "no");
	printf("tid stable across sleeps and yields: %s\n", all(ok_stable) ? "yes" : "no");
	printf("tgkill(getpid(),gettid()) handler ran on sender before return, %d tries: %s\n",
	       TRIES, all(ok_kill_now) ? "yes" : "no");
	printf("tgkill(getpid(),gettid()) handler ran on sender at all, %d tries: %s\n",
	       TRIES, all(ok_kill_late) ? "yes" : "no");
	int before = hits;
	syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
	printf("main tgkill to itself ran handler: %s\n", hits == before + 1 ? "yes" : "no");
	return 0;
}
