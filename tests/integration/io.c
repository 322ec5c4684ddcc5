/*
 * Blocking I/O from threads: under the M:N backend each of these parks
 * the task on the netpoller instead of blocking its worker (more
 * threads block than there are workers), and the program sees the
 * semantics of read(2), write(2), socket(7), poll(2), select(2),
 * epoll_wait(2), nanosleep(2) and signal(7) unchanged.  Every test also
 * runs on the native backend, where the kernel provides them.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include "testutil.h"

#ifndef WEFT_PAL
#define WEFT_PAL "native"
#endif
#define MN (strcmp(WEFT_PAL, "native"))

/* ---- Many readers, few workers ------------------------------------------ */

#define PIPES 300

static int pipes[PIPES][2];

static void *pipe_reader(void *arg)
{
	int i = (int)(long)arg;
	char buf[16];
	ssize_t n = read(pipes[i][0], buf, sizeof buf);
	CHECK_EQ(n, 4);
	CHECK(!memcmp(buf, "ping", 4));
	return 0;
}

/* Every reader blocks before any data comes: under M:N only the
 * netpoller lets PIPES blocked readers share a few workers. */
static void many_blocked_readers(void **state)
{
	pthread_t t[PIPES];
	for (int i = 0; i < PIPES; i++) {
		assert_int_equal(pipe(pipes[i]), 0);
		t[i] = spawn(pipe_reader, (void *)(long)i);
	}
	for (int i = 0; i < PIPES; i++)
		assert_int_equal(write(pipes[i][1], "ping", 4), 4);
	for (int i = 0; i < PIPES; i++) {
		join(t[i]);
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	assert_thread_checks();
}

/* ---- Stream sockets: ping-pong, full writes ---------------------------- */

#define BIG (1 << 22)

static void *big_reader(void *arg)
{
	int fd = (int)(long)arg;
	char *buf = malloc(65536);
	long total = 0, sum = 0;
	ssize_t n;
	while ((n = read(fd, buf, 65536)) > 0) {
		for (ssize_t i = 0; i < n; i++) sum += (unsigned char)buf[i];
		total += n;
	}
	CHECK_EQ(n, 0);
	CHECK_EQ(total, BIG);
	free(buf);
	return (void *)sum;
}

/* A blocking write of 4 MiB to a socket writes all of it in one call,
 * as it does on a blocking socket (the buffer is far smaller). */
static void full_write(void **state)
{
	int sv[2];
	char *buf = malloc(BIG);
	long sum = 0;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (long i = 0; i < BIG; i++) {
		buf[i] = (char)(i * 7);
		sum += (unsigned char)buf[i];
	}
	pthread_t t = spawn(big_reader, (void *)(long)sv[1]);
	assert_int_equal(write(sv[0], buf, BIG), BIG);
	close(sv[0]);
	assert_int_equal((long)join(t), sum);
	close(sv[1]);
	free(buf);
	assert_thread_checks();
}

/* ---- The program's view of O_NONBLOCK ----------------------------------- */

static void *echo_once(void *arg)
{
	int fd = (int)(long)arg;
	char c;
	CHECK_EQ(read(fd, &c, 1), 1);
	CHECK_EQ(write(fd, &c, 1), 1);
	return 0;
}

static void nonblock_view(void **state)
{
	int sv[2], on = 1, off = 0;
	char c;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pthread_t t = spawn(echo_once, (void *)(long)sv[1]);
	assert_int_equal(write(sv[0], "x", 1), 1);
	assert_int_equal(read(sv[0], &c, 1), 1);	/* blocks, then works */
	join(t);
	/* Whatever the backend did to the fds, the program set nothing. */
	assert_int_equal(fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0);
	assert_int_equal(fcntl(sv[1], F_GETFL) & O_NONBLOCK, 0);
	int d = dup(sv[0]);
	assert_true(d >= 0);
	assert_int_equal(fcntl(d, F_GETFL) & O_NONBLOCK, 0);
	close(d);

	/* MSG_DONTWAIT, and O_NONBLOCK set by the program, give EAGAIN. */
	errno = 0;
	assert_int_equal(recv(sv[0], &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK), 0);
	assert_int_equal(fcntl(sv[0], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	errno = 0;
	assert_int_equal(read(sv[0], &c, 1), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) & ~O_NONBLOCK), 0);
	assert_int_equal(fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0);
	/* ioctl FIONBIO likewise. */
	assert_int_equal(ioctl(sv[0], FIONBIO, &on), 0);
	errno = 0;
	assert_int_equal(read(sv[0], &c, 1), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(ioctl(sv[0], FIONBIO, &off), 0);
	/* And blocking again: a thread's write completes the read. */
	t = spawn(echo_once, (void *)(long)sv[1]);
	assert_int_equal(write(sv[0], "y", 1), 1);
	assert_int_equal(read(sv[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	join(t);
	close(sv[0]);
	close(sv[1]);
	assert_thread_checks();
}

/* ---- Timeouts, errors, shutdown, close ---------------------------------- */

static void rcvtimeo(void **state)
{
	int sv[2];
	char c;
	struct timeval tv = { 0, SHORT_MS * 1000 };
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
	struct timespec at = deadline_ms(CLOCK_MONOTONIC, SHORT_MS);
	errno = 0;
	assert_int_equal(read(sv[0], &c, 1), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	assert_deadline_passed(CLOCK_MONOTONIC, at);
	close(sv[0]);
	close(sv[1]);
}

static void connect_refused(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM, 0), s;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* A port that was just free: bound, then closed without listening. */
	assert_int_equal(bind(l, (void *)&a, sizeof a), 0);
	assert_int_equal(getsockname(l, (void *)&a, &len), 0);
	close(l);
	s = socket(AF_INET, SOCK_STREAM, 0);
	errno = 0;
	assert_int_equal(connect(s, (void *)&a, sizeof a), -1);
	assert_int_equal(errno, ECONNREFUSED);
	close(s);
}

static int listener(struct sockaddr_in *a)
{
	socklen_t len = sizeof *a;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	*a = (struct sockaddr_in){ .sin_family = AF_INET };
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (void *)a, sizeof *a), 0);
	assert_int_equal(listen(l, 64), 0);
	assert_int_equal(getsockname(l, (void *)a, &len), 0);
	return l;
}

/* A connected loopback TCP pair: c (connected) and *s (accepted). */
static int tcp_pair(int *s)
{
	struct sockaddr_in a;
	int l = listener(&a), c = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(c, (void *)&a, sizeof a), 0);
	*s = accept(l, 0, 0);
	assert_true(*s >= 0);
	close(l);
	return c;
}

/* Reads fd until end of file; the bytes read. */
static void *read_to_eof(void *arg)
{
	int fd = (int)(long)arg;
	char buf[100];
	long total = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0) total += n;
	return (void *)(n < 0 ? -(long)errno : total);
}

/* The netpoller skips a read when it knows the fd has nothing (a short
 * read of a stream, or EAGAIN, since the last event): then a short read
 * must not hide what comes without an event of its own.  End of file
 * after a short read, on a TCP socket and on a pipe, with the reader
 * blocked first or not; MSG_PEEK's short answer, which leaves the data
 * there; MSG_WAITALL, which waits for the rest. */
static void short_reads(void **state)
{
	int s, c = tcp_pair(&s), p[2];
	char buf[16];

	for (int round = 0; round < 2; round++) {
		pthread_t t = spawn(read_to_eof, (void *)(long)s);
		if (round) for (int i = 0; i < 100; i++) sched_yield();
		assert_int_equal(write(c, "abc", 3), 3);
		for (int i = 0; i < 100; i++) sched_yield();
		assert_int_equal(write(c, "de", 2), 2);
		if (round) {
			assert_int_equal(shutdown(c, SHUT_WR), 0);
			assert_int_equal((long)join(t), 5);
		} else {
			/* Reset after the data: the read ends with the error or
			 * end of file, never blocked. */
			struct linger lg = { 1, 0 };
			assert_int_equal(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
			close(c);
			long r = (long)join(t);
			assert_true(r == 5 || r == -ECONNRESET);
			close(s);
			c = tcp_pair(&s);
		}
	}
	close(c);
	close(s);

	assert_int_equal(pipe(p), 0);
	pthread_t t = spawn(read_to_eof, (void *)(long)p[0]);
	assert_int_equal(write(p[1], "abc", 3), 3);
	for (int i = 0; i < 100; i++) sched_yield();
	assert_int_equal(write(p[1], "de", 2), 2);
	close(p[1]);
	assert_int_equal((long)join(t), 5);
	close(p[0]);

	c = tcp_pair(&s);
	assert_int_equal(write(c, "ab", 2), 2);
	/* The first answer may come before both bytes are there. */
	while (recv(s, buf, sizeof buf, MSG_PEEK) != 2)
		;
	assert_int_equal(recv(s, buf, sizeof buf, MSG_PEEK), 2);
	assert_int_equal(recv(s, buf, sizeof buf, MSG_PEEK), 2);
	assert_int_equal(read(s, buf, 1), 1);
	assert_int_equal(read(s, buf, sizeof buf), 1);
	assert_int_equal(write(c, "xyz", 3), 3);
	assert_int_equal(shutdown(c, SHUT_WR), 0);
	assert_int_equal(recv(s, buf, sizeof buf, MSG_WAITALL), 3);
	assert_int_equal(read(s, buf, sizeof buf), 0);
	close(c);
	close(s);
}

/* SO_SNDTIMEO after part of a write went out: the count so far, as
 * socket(7) says, not EAGAIN (the rest is lost to no one). */
static void sndtimeo_partial(void **state)
{
	int sv[2];
	size_t len = 4 << 20;
	char *buf = calloc(1, len);
	struct timeval tv = { 0, SHORT_MS * 1000 };
	assert_non_null(buf);
	for (int kind = 0; kind < 2; kind++) {
		int s, c;
		if (kind) {
			c = tcp_pair(&s);
		} else {
			assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
			c = sv[0], s = sv[1];
		}
		assert_int_equal(setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), 0);
		ssize_t n = write(c, buf, len);
		assert_true(n > 0 && (size_t)n < len);
		close(c);
		close(s);
	}
	free(buf);
}

static void *read_one(void *arg)
{
	int fd = (int)(long)arg;
	char c;
	ssize_t n = read(fd, &c, 1);
	return (void *)(n < 0 ? -(long)errno : n);
}

/* SO_RCVTIMEO set through a dup of the fd: the socket is shared, so
 * reads on the first fd take the new timeout too (the netpoller caches
 * the timeouts, and a setsockopt of either makes it learn them again).
 * The first read learns SHORT_MS; the dup then clears it, and a read
 * must wait for the data, however late it comes. */
static void rcvtimeo_after_dup(void **state)
{
	int sv[2];
	char c;
	struct timeval tv = { 0, SHORT_MS * 1000 }, none = { 0, 0 };
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
	errno = 0;
	assert_int_equal(read(sv[0], &c, 1), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	int d = dup(sv[0]);
	assert_true(d >= 0);
	assert_int_equal(setsockopt(d, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none), 0);
	pthread_t t = spawn(read_one, (void *)(long)sv[0]);
	/* Longer than the old timeout: a read that kept it fails. */
	struct timespec ts = { 0, 4 * SHORT_MS * 1000000L };
	nanosleep(&ts, 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal((long)join(t), 1);
	/* And the other way: a timeout set through the dup ends a wait on
	 * the first fd. */
	assert_int_equal(setsockopt(d, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
	errno = 0;
	assert_int_equal(read(sv[0], &c, 1), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	close(d);
	close(sv[0]);
	close(sv[1]);
}

static void *accept_one(void *arg)
{
	int l = (int)(long)arg;
	return (void *)(long)accept(l, 0, 0);
}

/* connect and accept, each blocking in a thread; then EMFILE from
 * accept, after which the listener still works. */
static void accept_emfile(void **state)
{
	struct sockaddr_in a;
	struct rlimit old, lim;
	int l = listener(&a), fds[64], n = 0;
	pthread_t t = spawn(accept_one, (void *)(long)l);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(c, (void *)&a, sizeof a), 0);
	int s = (int)(long)join(t);
	assert_true(s >= 0);
	close(s);
	close(c);

	c = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(c, (void *)&a, sizeof a), 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	lim = old;
	lim.rlim_cur = c + 8;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
	while (n < 64 && (fds[n] = dup(0)) >= 0) n++;
	errno = 0;
	assert_int_equal(accept(l, 0, 0), -1);
	assert_int_equal(errno, EMFILE);
	close(fds[--n]);
	s = accept(l, 0, 0);
	assert_true(s >= 0);
	close(s);
	while (n) close(fds[--n]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	close(c);
	close(l);
}

static void *writer_until_error(void *arg)
{
	int fd = (int)(long)arg;
	static char buf[65536];
	ssize_t n;
	while ((n = write(fd, buf, sizeof buf)) > 0)
		;
	return (void *)(long)(n < 0 ? errno : 0);
}

/* The peer resets while a writer is blocked: EPIPE or ECONNRESET (with
 * SIGPIPE ignored). */
static void peer_reset(void **state)
{
	struct sockaddr_in a;
	struct linger lg = { 1, 0 };
	int l = listener(&a);
	signal(SIGPIPE, SIG_IGN);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(c, (void *)&a, sizeof a), 0);
	int s = accept(l, 0, 0);
	assert_true(s >= 0);
	pthread_t t = spawn(writer_until_error, (void *)(long)c);
	/* Reset once the writer has filled the buffers and blocked (or is
	 * about to): SO_LINGER 0 makes close send RST. */
	char buf[4096];
	assert_true(read(s, buf, sizeof buf) > 0);
	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
	close(s);
	long e = (long)join(t);
	assert_true(e == EPIPE || e == ECONNRESET);
	signal(SIGPIPE, SIG_DFL);
	close(c);
	close(l);
}

static void *read_result(void *arg)
{
	int fd = (int)(long)arg;
	char c;
	ssize_t n = read(fd, &c, 1);
	return (void *)(long)(n < 0 ? -errno : n);
}

/* shutdown wakes a blocked reader with end of file, on every backend. */
static void shutdown_wakes(void **state)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pthread_t t = spawn(read_result, (void *)(long)sv[0]);
	assert_int_equal(shutdown(sv[0], SHUT_RD), 0);
	assert_int_equal((long)join(t), 0);
	close(sv[0]);
	close(sv[1]);
}

static volatile int closer_fd;

static void *read_char(void *arg)
{
	int fd = (int)(long)arg;
	char c;
	ssize_t n = read(fd, &c, 1);
	return (void *)(long)(n < 0 ? -errno : n == 1 ? c : 0);
}

static volatile int closer_sent;	/* 1: the old peer's send went through */

static void *close_reuse_later(void *arg)
{
	int *peer = arg, p[2];
	/* Give the reader a chance to block first; nothing below depends on
	 * whether it did (see close_keeps_file). */
	for (int i = 0; i < 100; i++) sched_yield();
	close(closer_fd);
	/* The number is reused at once, and the new file has data. */
	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(write(p[1], "n", 1), 1);
	/* The old file's peer writes: a reader still blocked gets this. */
	closer_sent = send(*peer, "k", 1, MSG_NOSIGNAL) == 1;
	close(p[0]);
	close(p[1]);
	return 0;
}

/* close (and dup2 onto the fd) while a thread is blocked reading it:
 * as under Linux 1:1, the blocked read keeps the open file description
 * and goes on waiting; it never reads the file that reuses the number.
 *
 * Whether the reader was blocked before the close is not up to the test
 * (no sleeps as synchronisation), so the peer's send decides: it goes
 * through only while some call still holds the old socket, and then the
 * reader must get 'k'; it fails with EPIPE only if the reader had not
 * started, and then the reader may see the closed fd (EBADF) or the file
 * that reuses the number, as any 1:1 program would. */
static void close_keeps_file(void **state)
{
	for (int dup = 0; dup < 2; dup++) {
		int sv[2], q[2];
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		pthread_t r = spawn(read_char, (void *)(long)sv[0]);
		if (dup) {
			/* dup2 a pipe's read end over the fd instead. */
			assert_int_equal(pipe(q), 0);
			for (int i = 0; i < 100; i++) sched_yield();
			assert_int_equal(write(q[1], "d", 1), 1);
			assert_int_equal(dup2(q[0], sv[0]), sv[0]);
			ssize_t sent = send(sv[1], "k", 1, MSG_NOSIGNAL);
			int e = errno;
			long c = (long)join(r);
			if (sent == 1) assert_int_equal(c, 'k');
			else assert_true(e == EPIPE && c == 'd');
			close(q[0]);
			close(q[1]);
			close(sv[0]);
		} else {
			closer_fd = sv[0];
			closer_sent = 0;
			pthread_t c = spawn(close_reuse_later, &sv[1]);
			long got = (long)join(r);
			join(c);
			if (closer_sent) assert_int_equal(got, 'k');
			else assert_true(got == -EBADF || got == 'n');
		}
		close(sv[1]);
	}
}

/* ---- poll, select, epoll_wait -------------------------------------------- */

static void *write_byte(void *arg)
{
	int fd = (int)(long)arg;
	CHECK_EQ(write(fd, "z", 1), 1);
	return 0;
}

static void poll_family(void **state)
{
	int p[2], q[2], ep;
	char c;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);

	/* Timeouts. */
	struct pollfd pf[2] = { { p[0], POLLIN, 0 }, { q[0], POLLIN, 0 } };
	struct timespec at = deadline_ms(CLOCK_MONOTONIC, SHORT_MS);
	assert_int_equal(poll(pf, 2, SHORT_MS), 0);
	assert_deadline_passed(CLOCK_MONOTONIC, at);
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	struct timeval tv = { 0, SHORT_MS * 1000 };
	at = deadline_ms(CLOCK_MONOTONIC, SHORT_MS);
	assert_int_equal(select(p[0] + 1, &rs, 0, 0, &tv), 0);
	assert_deadline_passed(CLOCK_MONOTONIC, at);

	/* Readiness from another thread: poll on two fds, one fd. */
	pthread_t t = spawn(write_byte, (void *)(long)q[1]);
	assert_int_equal(poll(pf, 2, LONG_MS), 1);
	assert_int_equal(pf[1].revents, POLLIN);
	join(t);
	assert_int_equal(read(q[0], &c, 1), 1);
	t = spawn(write_byte, (void *)(long)p[1]);
	assert_int_equal(poll(pf, 1, -1), 1);
	join(t);
	assert_int_equal(read(p[0], &c, 1), 1);

	/* select on two fds. */
	t = spawn(write_byte, (void *)(long)p[1]);
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	FD_SET(q[0], &rs);
	tv = (struct timeval){ LONG_MS / 1000, 0 };
	assert_int_equal(select((p[0] > q[0] ? p[0] : q[0]) + 1, &rs, 0, 0, &tv), 1);
	assert_true(FD_ISSET(p[0], &rs));
	assert_false(FD_ISSET(q[0], &rs));
	join(t);
	assert_int_equal(read(p[0], &c, 1), 1);

	/* The program's own epoll set. */
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = q[0] }, out[4];
	ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(ep >= 0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev), 0);
	at = deadline_ms(CLOCK_MONOTONIC, SHORT_MS);
	assert_int_equal(epoll_wait(ep, out, 4, SHORT_MS), 0);
	assert_deadline_passed(CLOCK_MONOTONIC, at);
	t = spawn(write_byte, (void *)(long)q[1]);
	assert_int_equal(epoll_wait(ep, out, 4, LONG_MS), 1);
	assert_int_equal(out[0].data.fd, q[0]);
	join(t);
	close(ep);
	for (int i = 0; i < 2; i++) {
		close(p[i]);
		close(q[i]);
	}
	assert_thread_checks();
}

/* ---- Sleeps -------------------------------------------------------------- */

#define SLEEPERS 1000
#define SLEEP_MS 200

static void *sleeper(void *arg)
{
	struct timespec d = { 0, SLEEP_MS * 1000000L };
	CHECK_EQ(nanosleep(&d, 0), 0);
	return 0;
}

/* A thousand threads sleep at once: it takes about one sleep, not a
 * thousand (which it would if sleeping blocked a worker). */
static void sleepers(void **state)
{
	pthread_t t[SLEEPERS];
	struct timespec t0 = ts_now(CLOCK_MONOTONIC);
	for (int i = 0; i < SLEEPERS; i++) t[i] = spawn(sleeper, 0);
	for (int i = 0; i < SLEEPERS; i++) join(t[i]);
	long long ms = ts_ns_since(ts_now(CLOCK_MONOTONIC), t0) / 1000000;
	assert_true(ms >= SLEEP_MS);
	assert_true(ms < SLEEP_MS * 10 + SLACK_MS);
	assert_thread_checks();

	/* Absolute and relative clock_nanosleep, usleep. */
	struct timespec at = deadline_ms(CLOCK_MONOTONIC, SHORT_MS);
	assert_int_equal(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, 0), 0);
	assert_deadline_passed(CLOCK_MONOTONIC, at);
	at = deadline_ms(CLOCK_REALTIME, SHORT_MS);
	assert_int_equal(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &at, 0), 0);
	assert_deadline_passed(CLOCK_REALTIME, at);
	at = deadline_ms(CLOCK_MONOTONIC, SHORT_MS);
	assert_int_equal(usleep(SHORT_MS * 1000), 0);
	assert_deadline_passed(CLOCK_MONOTONIC, at);
	struct timespec bad = { 0, 1000000000 };
	assert_int_equal(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, 0), EINVAL);
}

/* ---- Signals: EINTR and SA_RESTART ---------------------------------------- */

static volatile int handled;

static void on_usr1(int sig)
{
	(void)sig;
	__atomic_add_fetch(&handled, 1, __ATOMIC_SEQ_CST);
}

static int sigpipe_fd[2];
static volatile int reader_done;

static void *reader_reporting(void *arg)
{
	(void)arg;
	long r = (long)read_result((void *)(long)sigpipe_fd[0]);
	astore(&reader_done, 1);
	return (void *)r;
}

static void *sleeper_reporting(void *arg)
{
	struct timespec d = { LONG_MS / 1000, 0 }, rem = { 0, 0 };
	(void)arg;
	int r = nanosleep(&d, &rem);
	astore(&reader_done, 1);
	if (r) CHECK(rem.tv_sec > 0 || rem.tv_nsec > 0);
	return (void *)(long)(r ? -errno : 0);
}

/* Signal t until it reports done; returns its result. */
static long kick_until_done(pthread_t t)
{
	while (!aload(&reader_done)) {
		pthread_kill(t, SIGUSR1);
		struct timespec d = { 0, 1000000 };
		nanosleep(&d, 0);
	}
	return (long)join(t);
}

static void eintr(void **state)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	assert_int_equal(pipe(sigpipe_fd), 0);

	/* Without SA_RESTART: the blocked read fails with EINTR. */
	sigaction(SIGUSR1, &sa, 0);
	astore(&reader_done, 0);
	assert_int_equal(kick_until_done(spawn(reader_reporting, 0)), -EINTR);

	/* nanosleep too, with the time left in rem. */
	astore(&reader_done, 0);
	assert_int_equal(kick_until_done(spawn(sleeper_reporting, 0)), -EINTR);

	/* With SA_RESTART: the read goes on and gets the data. */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, 0);
	astore(&reader_done, 0);
	astore(&handled, 0);
	pthread_t t = spawn(reader_reporting, 0);
	while (aload(&handled) < 5) {
		pthread_kill(t, SIGUSR1);
		struct timespec d = { 0, 1000000 };
		nanosleep(&d, 0);
	}
	assert_int_equal(write(sigpipe_fd[1], "r", 1), 1);
	assert_int_equal((long)join(t), 1);
	signal(SIGUSR1, SIG_DFL);
	close(sigpipe_fd[0]);
	close(sigpipe_fd[1]);
	assert_thread_checks();
}

/* ---- Syscalls the netpoller cannot take ------------------------------------ */

static int release_pipe[2];

static void *release_child(void *arg)
{
	(void)arg;
	CHECK_EQ(write(release_pipe[1], "go", 2), 2);
	return 0;
}

/* The main thread blocks in waitpid (not pollable) for a child that
 * exits only when another thread tells it to.  Under M:N with one
 * worker, that thread runs only if the monitor hands the blocked
 * worker's queue to a spare worker; otherwise this deadlocks (and the
 * child's alarm ends it). */
static void blocking_syscall_handoff(void **state)
{
	assert_int_equal(pipe(release_pipe), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		char buf[2];
		alarm(LONG_MS / 1000);
		_exit(read(release_pipe[0], buf, 2) == 2 ? 0 : 1);
	}
	pthread_t t = spawn(release_child, 0);
	assert_child_exited(reap(pid), 0);
	join(t);
	close(release_pipe[0]);
	close(release_pipe[1]);
	assert_thread_checks();
}

/* ---- Name lookup and stdio from many threads ------------------------------ */

#define LOOKUPS 1000

static void *lookup(void *arg)
{
	struct addrinfo *ai = 0, hints = { .ai_socktype = SOCK_STREAM };
	(void)arg;
	CHECK_EQ(getaddrinfo("localhost", "80", &hints, &ai), 0);
	if (ai) freeaddrinfo(ai);
	return 0;
}

static void getaddrinfo_many(void **state)
{
	pthread_t t[LOOKUPS];
	for (int i = 0; i < LOOKUPS; i++) t[i] = spawn(lookup, 0);
	for (int i = 0; i < LOOKUPS; i++) join(t[i]);
	assert_thread_checks();
}

static void *line_writer(void *arg)
{
	FILE *f = fdopen((int)(long)arg, "w");
	for (int i = 0; i < 1000; i++) fprintf(f, "line %d\n", i);
	fclose(f);
	return 0;
}

static void stdio_pipe(void **state)
{
	int p[2];
	char line[64];
	int n = 0;
	assert_int_equal(pipe(p), 0);
	FILE *f = fdopen(p[0], "r");
	pthread_t t = spawn(line_writer, (void *)(long)p[1]);
	while (fgets(line, sizeof line, f)) {
		char want[64];
		snprintf(want, sizeof want, "line %d\n", n++);
		assert_string_equal(line, want);
	}
	assert_int_equal(n, 1000);
	join(t);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(many_blocked_readers),
		cmocka_unit_test(full_write),
		cmocka_unit_test(nonblock_view),
		cmocka_unit_test(rcvtimeo),
		cmocka_unit_test(rcvtimeo_after_dup),
		cmocka_unit_test(short_reads),
		cmocka_unit_test(sndtimeo_partial),
		cmocka_unit_test(connect_refused),
		cmocka_unit_test(accept_emfile),
		cmocka_unit_test(peer_reset),
		cmocka_unit_test(shutdown_wakes),
		cmocka_unit_test(close_keeps_file),
		cmocka_unit_test(poll_family),
		cmocka_unit_test(sleepers),
		cmocka_unit_test(eintr),
		cmocka_unit_test(blocking_syscall_handoff),
		cmocka_unit_test(getaddrinfo_many),
		cmocka_unit_test(stdio_pipe),
	};

	return cmocka_run_group_tests_name("io", tests, 0, 0);
}
