/* set*id(2) from one thread while others compute: musl changes every
 * thread's ids (__synccall, signalling each thread), and the call
 * returns.  Under M:N a kick or a preemption request that reached the
 * calling thread during its synccall made it wait, in the handler, for
 * a go only it could give: setegid beside two spinning threads hung in
 * 8 of 48 runs at two workers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "conform.h"

static volatile int stop;
static volatile unsigned long spins;

static void *spin(void *a)
{
	(void)a;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		__atomic_fetch_add(&spins, 1, __ATOMIC_RELAXED);
	return 0;
}

static void c_setxid(void)
{
	pthread_t t[2];
	int bad = 0;
	for (int i = 0; i < 2; i++) pthread_create(&t[i], 0, spin, 0);
	for (int i = 0; i < 300; i++) {
		bad |= setegid(getegid()) != 0;
		bad |= seteuid(geteuid()) != 0;
		bad |= setregid(-1, getegid()) != 0;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 2; i++) pthread_join(t[i], 0);
	printf("900 set*id calls returned, all 0: %s\n", bad ? "no" : "yes");
}

int main(void)
{
	static const struct kase k[] = { { "setxid", c_setxid } };
	setvbuf(stdout, NULL, _IONBF, 0);
	run_cases(k, 1, 8);
	return 0;
}
