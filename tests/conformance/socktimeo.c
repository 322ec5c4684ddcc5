/*
 * socktimeo: SO_RCVTIMEO and SO_SNDTIMEO (issue 15 extras; socket(7):
 * a blocking call that times out fails with EAGAIN, or returns the count
 * so far).  recv/read/accept with SO_RCVTIMEO of 100 ms on a socketpair,
 * a TCP socket and a listening socket, from the main thread and from a
 * second thread, time out with EAGAIN after at least the timeout; data
 * arriving in time are returned; send on a full socket with SO_SNDTIMEO
 * ends in EAGAIN.  Only errno names and "waited at least the timeout"
 * (a lower bound the kernel guarantees) are printed.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

#define TMO_MS 100

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_tmo(int fd, int opt, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv);
}

static void tcp_pair(int *c, int *s, int *l)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	*l = socket(AF_INET, SOCK_STREAM, 0);
	*c = socket(AF_INET, SOCK_STREAM, 0);
	bind(*l, (void *)&a, sizeof a);
	listen(*l, 4);
	getsockname(*l, (void *)&a, &al);
	connect(*c, (void *)&a, sizeof a);
	*s = accept(*l, 0, 0);
}

/* One timed-out call, reported as "NAME: -1 EAGAIN, waited >= 100 ms yes". */
static void timed(const char *name, int fd, int kind)
{
	char buf[16];
	long t0 = now_ms(), r;
	if (kind == 0) r = recv(fd, buf, sizeof buf, 0);
	else if (kind == 1) r = read(fd, buf, sizeof buf);
	else r = accept(fd, 0, 0);
	int e = errno;
	long dt = now_ms() - t0;
	printf("%s: %ld %s, waited >= %d ms %s\n", name, r, r < 0 ? en(e) : "", TMO_MS,
		dt >= TMO_MS - 5 ? "yes" : "no");
}

struct job { const char *name; int fd, kind; };
static void *th_timed(void *arg)
{
	struct job *j = arg;
	timed(j->name, j->fd, j->kind);
	return 0;
}

static void in_thread(const char *name, int fd, int kind)
{
	pthread_t t;
	struct job j = { name, fd, kind };
	pthread_create(&t, 0, th_timed, &j);
	pthread_join(t, 0);
}

static void c_socketpair(void)
{
	int sv[2];
	struct timeval tv;
	socklen_t tl = sizeof tv;
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	set_tmo(sv[0], SO_RCVTIMEO, TMO_MS);
	getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, &tl);
	printf("getsockopt SO_RCVTIMEO: %ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);
	timed("socketpair recv, main", sv[0], 0);
	timed("socketpair read, main", sv[0], 1);
	in_thread("socketpair recv, thread", sv[0], 0);
	in_thread("socketpair read, thread", sv[0], 1);
}

static void c_tcp(void)
{
	int c, s, l;
	tcp_pair(&c, &s, &l);
	set_tmo(s, SO_RCVTIMEO, TMO_MS);
	set_tmo(l, SO_RCVTIMEO, TMO_MS);
	timed("tcp recv, main", s, 0);
	in_thread("tcp recv, thread", s, 0);
	in_thread("tcp read, thread", s, 1);
	timed("accept, main", l, 2);
	in_thread("accept, thread", l, 2);
}

/* With another thread parked on something else meanwhile. */
static int pp[2];
static void *parked(void *arg)
{
	char c;
	read(pp[0], &c, 1);
	return 0;
}

static void c_with_parked(void)
{
	int sv[2];
	pthread_t t;
	pipe(pp);
	pthread_create(&t, 0, parked, 0);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	set_tmo(sv[0], SO_RCVTIMEO, TMO_MS);
	timed("recv, another thread parked", sv[0], 0);
	in_thread("recv in a thread, another thread parked", sv[0], 0);
	write(pp[1], "x", 1);
	pthread_join(t, 0);
}

/* Data that arrive in time are returned. */
static int dfd;
static void *late_writer(void *arg)
{
	usleep(20000);
	write(dfd, "data", 4);
	return 0;
}

static void c_in_time(void)
{
	int sv[2];
	char buf[16];
	pthread_t t;
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	set_tmo(sv[0], SO_RCVTIMEO, 5000);
	dfd = sv[1];
	pthread_create(&t, 0, late_writer, 0);
	long r = recv(sv[0], buf, sizeof buf, 0);
	pthread_join(t, 0);
	printf("data in time (5 s timeout): %ld bytes%s\n", r, r < 0 ? en(errno) : "");
}

/* SO_SNDTIMEO: send until it fails on the full socket (a send cut short
 * after some bytes returns the count; the next one fails). */
static void sndtimeo(const char *name, int fd)
{
	static char buf[4096];
	long r = 0, t0 = 0;
	int i, e = 0;
	set_tmo(fd, SO_SNDTIMEO, TMO_MS);
	for (i = 0; i < 100000; i++) {
		t0 = now_ms();
		r = send(fd, buf, sizeof buf, 0);
		if (r < 0) { e = errno; break; }
	}
	long dt = now_ms() - t0;
	printf("%s: %ld %s, waited >= %d ms %s\n", name, r, r < 0 ? en(e) : "", TMO_MS,
		dt >= TMO_MS - 5 ? "yes" : "no");
}

static void *th_snd(void *arg)
{
	sndtimeo("tcp send SO_SNDTIMEO, thread", *(int *)arg);
	return 0;
}

static void c_sndtimeo(void)
{
	int sv[2], c, s, l;
	pthread_t t;
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	sndtimeo("socketpair send SO_SNDTIMEO, main", sv[0]);
	tcp_pair(&c, &s, &l);
	pthread_create(&t, 0, th_snd, &c);
	pthread_join(t, 0);
}

int main(void)
{
	static const struct kase k[] = {
		{ "socketpair", c_socketpair },
		{ "tcp", c_tcp },
		{ "parked", c_with_parked },
		{ "in time", c_in_time },
		{ "sndtimeo", c_sndtimeo },
	};
	setvbuf(stdout, 0, _IONBF, 0);
	run_cases(k, sizeof k / sizeof *k, 8);
	return 0;
}
