/*
 * fsync.c - appends made durable: N threads (default 64) each append
 * 4 KiB to a file of its own and call fdatasync, K times (default
 * 2,000).  Prints the wall time of the whole (ms) and, on stderr, the
 * most OS threads the process had (/proc/self/status, sampled every
 * 2 ms by one more thread): under 1:1 about N + 2; under M:N the
 * workers, the monitor and whatever spares the monitor started for
 * threads blocked in the kernel.  Not in `make bench` (yet): run it by
 * hand, e.g. under `strace -c -f` for the syscalls it makes.
 * usage: fsync [N [K [DIR]]]   (files DIR/bench-fsync-*, removed at the end)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include "bench.h"

#define BLK 4096

static long k;
static const char *dir = ".";
static volatile int done;
static int peak;

static int os_threads(void)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY), n = 0;
	ssize_t m;
	if (fd < 0) return 0;
	m = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (m <= 0) return 0;
	buf[m] = 0;
	char *p = strstr(buf, "\nThreads:");
	if (p) n = atoi(p + 9);
	return n;
}

static void *sampler(void *arg)
{
	struct timespec ts = { 0, 2000000 };
	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
		int n = os_threads();
		if (n > peak) peak = n;
		nanosleep(&ts, 0);
	}
	return arg;
}

static void *appender(void *arg)
{
	char path[4096], b[BLK];
	snprintf(path, sizeof path, "%s/bench-fsync-%ld", dir, (long)arg);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (fd < 0) fail("open", errno);
	unlink(path);
	memset(b, 'a' + (long)arg % 26, sizeof b);
	for (long i = 0; i < k; i++) {
		if (write(fd, b, BLK) != BLK) fail("write", errno);
		if (fdatasync(fd)) fail("fdatasync", errno);
	}
	close(fd);
	return arg;
}

int main(int argc, char **argv)
{
	bench_name = "fsync";
	long n = arg_count(argc, argv, 1, 64);
	k = arg_count(argc, argv, 2, 2000);
	if (argc > 3) dir = argv[3];
	pthread_t s, *t = calloc(n, sizeof *t);
	int e;
	if (!t) fail("calloc", errno);
	if ((e = pthread_create(&s, 0, sampler, 0))) create_failed(e);
	double t0 = now_ns();
	for (long i = 0; i < n; i++)
		if ((e = pthread_create(&t[i], 0, appender, (void *)i))) create_failed(e);
	for (long i = 0; i < n; i++) pthread_join(t[i], 0);
	double t1 = now_ns();
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	pthread_join(s, 0);
	fprintf(stderr, "fsync: peak OS threads %d\n", peak);
	report("ms", (t1 - t0) / 1e6, n * k);
	return 0;
}
