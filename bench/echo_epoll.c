/*
 * echo_epoll.c - the hand-written event-loop echo server that `make bench`
 * holds weft's thread-per-connection server against (issue 18's anchor).
 * Linux only: epoll, SO_REUSEPORT, accept4; built with the system gcc.
 *
 * One event loop per CPU the process may run on, each a thread with its
 * own epoll set and its own listening socket, all bound to the same port
 * with SO_REUSEPORT, so that the kernel spreads new connections over the
 * loops and no two loops share a descriptor.  Every socket is
 * non-blocking; epoll is level-triggered.  A readable connection is read
 * once (up to 4096 bytes, as examples/echo_server.c reads) into the
 * loop's buffer and written straight back; only when the write comes up
 * short are the rest kept in a buffer of its own, and the connection
 * waits for EPOLLOUT instead of EPOLLIN until it drains.  So an idle
 * connection costs one small struct and the kernel's socket.
 *
 * usage: echo_epoll [PORT]   (default 0: an ephemeral port)
 * Same protocol and output as examples/echo_server.c: listens on
 * 127.0.0.1:PORT, prints "port N" on stdout, echoes every byte until the
 * peer closes.  Accept errors of a busy server (out of descriptors or
 * memory) are reported on stderr and that loop pauses 100 ms.  Stop it
 * with SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BACKLOG 4096		/* the kernel caps it at net.core.somaxconn */
#define BUF 4096		/* one read, as echo_server.c's */
#define EVENTS 256		/* events taken per epoll_wait */

/* A connection, owned by the one loop whose epoll set holds it. */
struct conn {
	int fd;
	int off, len;		/* pend[off..len) still to be written */
	char *pend;		/* 0 unless a write came up short */
};

struct loop {
	pthread_t th;
	int ep, lfd;
};

static void die(const char *what)
{
	fprintf(stderr, "echo_epoll: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* A listening socket on 127.0.0.1:port that shares the port. */
static int listener(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one))
		die("setsockopt SO_REUSEADDR");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one))
		die("setsockopt SO_REUSEPORT");
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof a)) die("bind");
	if (listen(fd, BACKLOG)) die("listen");
	return fd;
}

static void watch(struct loop *l, struct conn *c, int op, unsigned ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };

	if (epoll_ctl(l->ep, op, c->fd, &e)) die("epoll_ctl");
}

static void drop(struct conn *c)
{
	close(c->fd);		/* also takes it out of the epoll set */
	free(c->pend);
	free(c);
}

/* 0 if the connection was dropped (a peer that resets or goes away is normal). */
static int failed(struct conn *c, const char *what)
{
	if (errno != ECONNRESET && errno != EPIPE)
		fprintf(stderr, "echo_epoll: %s: %s\n", what, strerror(errno));
	drop(c);
	return 0;
}

/* Write buf[0..n); keep what the socket does not take.  0: dropped. */
static int send_all(struct loop *l, struct conn *c, const char *buf, int n)
{
	int off = 0;
	ssize_t w;

	while (off < n) {
		w = send(c->fd, buf + off, n - off, MSG_NOSIGNAL);
		if (w >= 0) {
			off += w;
			continue;
		}
		if (errno == EINTR) continue;
		if (errno != EAGAIN) return failed(c, "write");
		if (!c->pend && !(c->pend = malloc(BUF))) die("malloc");
		memmove(c->pend, buf + off, n - off);
		c->off = 0;
		c->len = n - off;
		watch(l, c, EPOLL_CTL_MOD, EPOLLOUT);
		return 1;
	}
	return 1;
}

static void readable(struct loop *l, struct conn *c, char *buf)
{
	ssize_t n = read(c->fd, buf, BUF);

	if (n > 0) {
		send_all(l, c, buf, n);
	} else if (n == 0) {
		drop(c);
	} else if (errno != EAGAIN && errno != EINTR) {
		failed(c, "read");
	}
}

static void writable(struct loop *l, struct conn *c)
{
	int off = c->off, len = c->len;

	c->len = 0;
	if (!send_all(l, c, c->pend + off, len - off)) return;
	if (!c->len) {		/* all out: back to reading */
		free(c->pend);
		c->pend = 0;
		watch(l, c, EPOLL_CTL_MOD, EPOLLIN);
	}
}

static void accept_all(struct loop *l)
{
	for (;;) {
		int fd = accept4(l->lfd, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC), e;
		struct conn *c;

		if (fd < 0) {
			switch (e = errno) {
			case EAGAIN:
				return;
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
				continue;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				fprintf(stderr, "echo_epoll: accept: %s (pausing 100 ms)\n", strerror(e));
				pause_ms(100);
				return;
			default:
				die("accept");
			}
		}
		if (!(c = calloc(1, sizeof *c))) die("malloc");
		c->fd = fd;
		watch(l, c, EPOLL_CTL_ADD, EPOLLIN);
	}
}

static void *run(void *arg)
{
	struct loop *l = arg;
	struct epoll_event ev[EVENTS];
	struct epoll_event le = { .events = EPOLLIN, .data.ptr = 0 };
	char buf[BUF];

	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->lfd, &le)) die("epoll_ctl");
	for (;;) {
		int n = epoll_wait(l->ep, ev, EVENTS, -1);

		if (n < 0) {
			if (errno == EINTR) continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;

			if (!c) accept_all(l);
			else if (c->pend) writable(l, c);
			else readable(l, c, buf);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof a;
	struct loop *loops;
	cpu_set_t cpus;
	char *end;
	long port = argc > 1 ? strtol(argv[1], &end, 10) : 0;
	int nloops, i, e;

	if (argc > 2 || (argc > 1 && (*end || end == argv[1])) || port < 0 || port > 65535) {
		fprintf(stderr, "usage: %s [PORT]   (0 or none: an ephemeral port)\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	nloops = sched_getaffinity(0, sizeof cpus, &cpus) ? 1 : CPU_COUNT(&cpus);
	if (nloops < 1) nloops = 1;
	if (!(loops = calloc(nloops, sizeof *loops))) die("malloc");

	/* The first socket picks the port; the others join it. */
	for (i = 0; i < nloops; i++) {
		loops[i].lfd = listener(port);
		if (i == 0) {
			if (getsockname(loops[0].lfd, (struct sockaddr *)&a, &alen))
				die("getsockname");
			port = ntohs(a.sin_port);
		}
		if ((loops[i].ep = epoll_create1(EPOLL_CLOEXEC)) < 0) die("epoll_create1");
	}
	for (i = 0; i < nloops; i++)
		if ((e = pthread_create(&loops[i].th, 0, run, &loops[i]))) {
			errno = e;
			die("pthread_create");
		}
	printf("port %ld\n", port);
	fflush(stdout);
	pthread_join(loops[0].th, 0);	/* the loops never return */
	return 1;
}
