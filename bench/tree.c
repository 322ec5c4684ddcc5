/*
 * tree.c - a recursive spawn tree: every inner thread creates 10 children
 * and joins them; a leaf returns 1 and each inner node the sum of its
 * children's results.  LEAVES (default 100,000) must be a power of ten.
 * Default thread attributes, unless STACK (bytes) is given: a program
 * that means to run a million threads sets a small stack, so the 10^6
 * row uses 64 KiB.  Prints ms for the whole tree.  A 1:1 libc that runs
 * out of threads reports "cannot: pthread_create: ..." (exit 3).
 * usage: tree [LEAVES [STACK]]
 */
#include <pthread.h>
#include <stdint.h>
#include "bench.h"

#define FANOUT 10

static pthread_attr_t attr, *attrp;

static void *node(void *arg)
{
	intptr_t depth = (intptr_t)arg, leaves = 0;
	pthread_t t[FANOUT];
	int e, k;

	if (depth == 0)
		return (void *)1;
	for (k = 0; k < FANOUT; k++)
		if ((e = pthread_create(&t[k], attrp, node, (void *)(depth - 1))))
			create_failed(e);
	for (k = 0; k < FANOUT; k++) {
		void *r;
		if ((e = pthread_join(t[k], &r))) fail("pthread_join", e);
		leaves += (intptr_t)r;
	}
	return (void *)leaves;
}

int main(int argc, char **argv)
{
	long leaves, stack, n;
	intptr_t depth = 0;
	void *r;
	double t0;
	int e;

	bench_name = "tree";
	leaves = arg_count(argc, argv, 1, 100000);
	stack = arg_count(argc, argv, 2, 0);
	for (n = leaves; n > 1 && n % FANOUT == 0; n /= FANOUT)
		depth++;
	if (n != 1) {
		fprintf(stderr, "tree: error: LEAVES must be a power of %d\n", FANOUT);
		return 2;
	}
	if (stack) {
		if ((e = pthread_attr_init(&attr))) fail("pthread_attr_init", e);
		if ((e = pthread_attr_setstacksize(&attr, stack)))
			fail("pthread_attr_setstacksize", e);
		attrp = &attr;
	}
	t0 = now_ns();
	r = node((void *)depth);	/* main is the root */
	if ((intptr_t)r != leaves) {
		fprintf(stderr, "tree: error: counted %ld leaves, not %ld\n", (long)(intptr_t)r, leaves);
		return 1;
	}
	report("ms", (now_ns() - t0) / 1e6, leaves);
	return 0;
}
