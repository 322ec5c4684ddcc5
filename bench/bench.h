/*
 * bench.h - the few helpers every bench/ program shares: a monotonic
 * clock, the result line, and loud failure.  Plain POSIX C; it builds the
 * same with glibc, stock musl and weft.
 *
 * Every program prints exactly one line on stdout:
 *   BENCH name=NAME unit=UNIT value=V ops=N      (exit 0)
 *   BENCH name=NAME cannot=ERRNO_NAME            (exit 3: a resource limit,
 *                                                 e.g. pthread_create's EAGAIN)
 * and any other error prints "NAME: error: ..." on stderr and exits 1.
 * bench/run.sh reads these lines.
 */
#ifndef BENCH_H
#define BENCH_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *bench_name = "bench";

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static void report(const char *unit, double value, long ops)
{
	printf("BENCH name=%s unit=%s value=%.1f ops=%ld\n", bench_name, unit, value, ops);
	fflush(stdout);
}

/* A call failed with error number e: stop the whole process now. */
static void fail(const char *call, int e)
{
	fprintf(stderr, "%s: error: %s: %s\n", bench_name, call, strerror(e));
	fflush(stderr);
	_exit(1);
}

/*
 * A call hit a resource limit (a 1:1 libc out of threads, memory or map
 * areas): not a bug, the program just cannot run at this size.  Other
 * threads may still be running, so leave at once with _exit.
 */
static void cannot(const char *call, int e)
{
	const char *name = e == EAGAIN ? "EAGAIN" : e == ENOMEM ? "ENOMEM" : 0;
	char num[16];

	if (!name) {
		snprintf(num, sizeof num, "errno%d", e);
		name = num;
	}
	fprintf(stderr, "%s: cannot: %s: %s\n", bench_name, call, strerror(e));
	printf("BENCH name=%s cannot=%s\n", bench_name, name);
	fflush(stderr);
	fflush(stdout);
	_exit(3);
}

/* pthread_create's errors: EAGAIN (and ENOMEM) are limits, the rest bugs. */
static void create_failed(int e)
{
	if (e == EAGAIN || e == ENOMEM)
		cannot("pthread_create", e);
	fail("pthread_create", e);
}

/* Argument i as a positive count, or dflt when absent. */
static long arg_count(int argc, char **argv, int i, long dflt)
{
	char *end;
	long v;

	if (argc <= i) return dflt;
	v = strtol(argv[i], &end, 10);
	if (*end || end == argv[i] || v <= 0) {
		fprintf(stderr, "%s: error: bad count '%s'\n", bench_name, argv[i]);
		exit(2);
	}
	return v;
}

#endif
