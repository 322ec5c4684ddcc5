/*
 * echo_server.c - an ordinary thread-per-connection TCP echo server in
 * portable POSIX C, unmodified for weft: main accepts connections and
 * starts one detached thread (default attributes) per connection, which
 * echoes with blocking read() and write() until the peer closes.  It
 * builds as is with glibc, stock musl and weft; with weft's M:N backend
 * each connection is a green task instead of an OS thread.
 *
 * usage: echo_server [PORT]   (default 0: an ephemeral port)
 * Listens on 127.0.0.1:PORT and prints "port N" (the port it got) on
 * stdout.  Accept errors that a busy server can see (out of file
 * descriptors or memory, aborted connections) are reported on stderr and
 * it keeps serving after a short pause; so does a failed pthread_create,
 * which closes that one connection.  SIGPIPE is ignored, so a peer that
 * vanishes only ends its own thread.  Stop it with SIGTERM or SIGINT.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BACKLOG 4096		/* the kernel caps it at net.core.somaxconn */

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void *echo(void *arg)
{
	int fd = (int)(intptr_t)arg;
	const char *failed = 0;
	char buf[4096];
	ssize_t n, w;

	while (!failed && (n = read(fd, buf, sizeof buf))) {
		if (n < 0) {
			if (errno != EINTR) failed = "read";
			continue;
		}
		for (ssize_t off = 0; off < n && !failed; off += w) {
			w = write(fd, buf + off, n - off);
			if (w < 0) {
				if (errno != EINTR) failed = "write";
				w = 0;
			}
		}
	}
	/* A peer that resets or goes away is normal; anything else is odd. */
	if (failed && errno != ECONNRESET && errno != EPIPE)
		fprintf(stderr, "echo_server: %s: %s\n", failed, strerror(errno));
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { 0 };
	socklen_t alen = sizeof a;
	char *end;
	long port = argc > 1 ? strtol(argv[1], &end, 10) : 0;
	int one = 1, lfd;

	if (argc > 2 || (argc > 1 && (*end || end == argv[1])) || port < 0 || port > 65535) {
		fprintf(stderr, "usage: %s [PORT]   (0 or none: an ephemeral port)\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0) return perror("socket"), 1;
	if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one))
		return perror("setsockopt SO_REUSEADDR"), 1;
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&a, sizeof a)) return perror("bind"), 1;
	if (listen(lfd, BACKLOG)) return perror("listen"), 1;
	if (getsockname(lfd, (struct sockaddr *)&a, &alen))
		return perror("getsockname"), 1;
	printf("port %d\n", ntohs(a.sin_port));
	fflush(stdout);

	for (;;) {
		pthread_t t;
		int fd = accept(lfd, 0, 0), e;

		if (fd < 0) {
			switch (e = errno) {
			case EINTR:
				continue;
			case ECONNABORTED:
			case EPROTO:
				fprintf(stderr, "echo_server: accept: %s (continuing)\n", strerror(e));
				continue;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				fprintf(stderr, "echo_server: accept: %s (pausing 100 ms)\n", strerror(e));
				pause_ms(100);
				continue;
			default:
				fprintf(stderr, "echo_server: accept: %s\n", strerror(e));
				return 1;
			}
		}
		e = pthread_create(&t, 0, echo, (void *)(intptr_t)fd);
		if (e) {
			fprintf(stderr, "echo_server: pthread_create: %s (connection closed, pausing 100 ms)\n",
				strerror(e));
			close(fd);
			pause_ms(100);
			continue;
		}
		pthread_detach(t);
	}
}
