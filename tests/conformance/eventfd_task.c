/* eventfd read by threads blocking on it: each of 8 threads blocks in read()
 * on its own eventfd and gets exactly the value main writes; 4 threads share
 * an EFD_SEMAPHORE eventfd and each gets 1; a thread blocked in write() on a
 * full counter proceeds once main reads. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

#define NT 8
#define NS 4

static int efd[NT], sem_fd, full_fd;
static uint64_t got[NT], sem_got[NS];
static volatile int done[NT], sem_done[NS], wdone;
static int wret;

static void nap(void) { struct timespec ts = { 0, 1000000 }; nanosleep(&ts, 0); }
/* bounded wait for a flag, 5 s */
static int wait_flag(volatile int *f) { for (int i = 0; i < 5000 && !*f; i++) nap(); return *f; }

static void *reader(void *a)
{
	int i = (int)(long)a;
	uint64_t v = 0;
	while (read(efd[i], &v, 8) < 0 && errno == EINTR) ;
	got[i] = v;
	done[i] = 1;
	return 0;
}

static void *sem_reader(void *a)
{
	int i = (int)(long)a;
	uint64_t v = 0;
	while (read(sem_fd, &v, 8) < 0 && errno == EINTR) ;
	sem_got[i] = v;
	sem_done[i] = 1;
	return 0;
}

static void *writer(void *a)
{
	(void)a;
	uint64_t v = 1;
	wret = write(full_fd, &v, 8); /* counter is at the max: blocks */
	wdone = 1;
	return 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	watchdog(10);
	pthread_t t[NT], s[NS], w;
	alarm(60);
	for (long i = 0; i < NT; i++) {
		efd[i] = eventfd(0, 0);
		pthread_create(&t[i], 0, reader, (void *)i);
	}
	/* wake them one at a time, in reverse order */
	int ok = 1;
	for (int i = NT - 1; i >= 0; i--) {
		uint64_t v = 100 + i;
		write(efd[i], &v, 8);
		if (!wait_flag(&done[i])) { printf("reader %d not woken\n", i); return 1; }
		pthread_join(t[i], 0);
		if (got[i] != (uint64_t)(100 + i)) ok = 0;
	}
	printf("%d threads blocked in read() each got their own eventfd's value: %s\n", NT, ok ? "yes" : "no");

	sem_fd = eventfd(0, EFD_SEMAPHORE);
	for (long i = 0; i < NS; i++) pthread_create(&s[i], 0, sem_reader, (void *)i);
	uint64_t v = NS;
	write(sem_fd, &v, 8);
	ok = 1;
	for (int i = 0; i < NS; i++) {
		if (!wait_flag(&sem_done[i])) { printf("semaphore reader %d not woken\n", i); return 1; }
		pthread_join(s[i], 0);
		if (sem_got[i] != 1) ok = 0;
	}
	printf("%d threads on one EFD_SEMAPHORE eventfd, counter %d: each read 1: %s\n", NS, NS, ok ? "yes" : "no");

	full_fd = eventfd(0, 0);
	v = 0xfffffffffffffffeULL;
	write(full_fd, &v, 8);
	pthread_create(&w, 0, writer, 0);
	uint64_t r = 0;
	read(full_fd, &r, 8);
	printf("main read the full counter: %s\n", r == 0xfffffffffffffffeULL ? "yes" : "no");
	if (!wait_flag(&wdone)) { puts("blocked writer not woken"); return 1; }
	pthread_join(w, 0);
	read(full_fd, &r, 8);
	printf("blocked write() completed: %s, value then read: %llu\n", wret == 8 ? "yes" : "no", (unsigned long long)r);
	return 0;
}
