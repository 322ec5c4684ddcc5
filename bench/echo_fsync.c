/*
 * echo_fsync.c - examples/echo_server.c, unchanged, with durable appends
 * beside it in the same process: N more threads (default 64) each append
 * 4 KiB to a file of its own and call fdatasync, in a loop, for the
 * server's whole life.  `make bench` drives it with examples/echo_load.c
 * as it drives echo_server, so its echo p99 beside the plain server's
 * shows what file I/O that blocks in the kernel does to the other tasks
 * (issue 18: at most 2x under weft's M:N backends).
 *
 * Under 1:1 each appender blocks only its own thread.  Under weft's M:N
 * backends fdatasync parks the task on Linux AIO (docs/scheduler.md,
 * "Files"); were it to block the worker instead, every connection on
 * that worker would wait for the disk.
 *
 * usage: echo_fsync [PORT [N [DIR]]]   (PORT as echo_server's; the files
 * are DIR/bench-echo-fsync-PID-I, default DIR ".", unlinked once open)
 * Prints "port N" as echo_server does; exits 1 with a message naming the
 * call if an append fails.  Stop it with SIGTERM or SIGINT.
 */
#define main echo_server_main
#include "../examples/echo_server.c"
#undef main

#include <fcntl.h>

#define BLK 4096

static const char *dir = ".";

static void *appender(void *arg)
{
	char path[4096], b[BLK];
	int fd;

	snprintf(path, sizeof path, "%s/bench-echo-fsync-%ld-%ld", dir,
		(long)getpid(), (long)(intptr_t)arg);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (fd < 0) {
		fprintf(stderr, "echo_fsync: open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	unlink(path);
	memset(b, 'a' + (int)((intptr_t)arg % 26), sizeof b);
	for (long i = 0;; i++) {
		/* Start again at 4 MiB, so the file stays small. */
		if (i % 1024 == 1023 && ftruncate(fd, 0)) {
			fprintf(stderr, "echo_fsync: ftruncate: %s\n", strerror(errno));
			exit(1);
		}
		ssize_t w = write(fd, b, BLK);
		if (w != BLK) {
			fprintf(stderr, "echo_fsync: write: %s\n",
				w < 0 ? strerror(errno) : "short count");
			exit(1);
		}
		if (fdatasync(fd)) {
			fprintf(stderr, "echo_fsync: fdatasync: %s\n", strerror(errno));
			exit(1);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	char *srv_argv[] = { argv[0], argc > 1 ? argv[1] : "0", 0 };
	long n = 64;
	char *end;

	if (argc > 2) {
		n = strtol(argv[2], &end, 10);
		if (*end || end == argv[2] || n < 0 || n > 100000) {
			fprintf(stderr, "usage: %s [PORT [N [DIR]]]   (N: 0 to 100000 appenders)\n", argv[0]);
			return 2;
		}
	}
	if (argc > 3) dir = argv[3];
	if (argc > 4) {
		fprintf(stderr, "usage: %s [PORT [N [DIR]]]\n", argv[0]);
		return 2;
	}
	for (long i = 0; i < n; i++) {
		pthread_t t;
		int e = pthread_create(&t, 0, appender, (void *)(intptr_t)i);
		if (e) {
			fprintf(stderr, "echo_fsync: pthread_create: %s\n", strerror(e));
			return 1;
		}
		pthread_detach(t);
	}
	return echo_server_main(2, srv_argv);
}
