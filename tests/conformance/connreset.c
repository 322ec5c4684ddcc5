/*
 * connreset: a write blocked on a socket whose peer goes away (issue 15
 * item 5).  TCP over loopback: the peer sets SO_LINGER {1, 0} and closes
 * with unread data, so it sends a reset: the blocked writer's first
 * failing write returns -1 ECONNRESET (maybe after a short count), with
 * no SIGPIPE, so the process lives at the default action.  A socketpair
 * whose peer closes: the first failing write returns -1 EPIPE and raises
 * SIGPIPE exactly once (the handler runs once; at the default action the
 * process dies by SIGPIPE).  Each case in its own child process.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conform.h"

static volatile sig_atomic_t handled;
static void handler(int sig) { handled++; }

static int wfd;
static int first_err;
static void *writer(void *arg)
{
	static char buf[256 << 10];
	for (int i = 0; i < 100000; i++)
		if (write(wfd, buf, sizeof buf) < 0) {
			first_err = errno;
			break;
		}
	return 0;
}

static void pipe_handler(int mode)	/* 0 default, 1 handler, 2 ignore */
{
	if (mode == 1) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = handler;
		sigaction(SIGPIPE, &sa, 0);
	} else if (mode == 2) {
		signal(SIGPIPE, SIG_IGN);
	}
}

static void tcp_reset(int mode)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	struct linger lg = { 1, 0 };
	pthread_t t;
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), s;
	pipe_handler(mode);
	bind(l, (void *)&a, sizeof a);
	listen(l, 1);
	getsockname(l, (void *)&a, &al);
	connect(c, (void *)&a, sizeof a);
	s = accept(l, 0, 0);
	wfd = c;
	pthread_create(&t, 0, writer, 0);
	usleep(100000);	/* the writer is blocked by now; it fails either way */
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(s);
	pthread_join(t, 0);
	printf("tcp writer: first error %s, SIGPIPE handler ran %d, process alive\n",
		en(first_err), (int)handled);
}

static void socketpair_close(int mode)
{
	int sv[2];
	pthread_t t;
	pipe_handler(mode);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	wfd = sv[0];
	pthread_create(&t, 0, writer, 0);
	usleep(100000);
	close(sv[1]);
	pthread_join(t, 0);
	printf("socketpair writer: first error %s, SIGPIPE handler ran %d, process alive\n",
		en(first_err), (int)handled);
}

static void c_tcp_dfl(void) { tcp_reset(0); }
static void c_tcp_handler(void) { tcp_reset(1); }
static void c_tcp_ign(void) { tcp_reset(2); }
static void c_sp_dfl(void) { socketpair_close(0); }
static void c_sp_handler(void) { socketpair_close(1); }
static void c_sp_ign(void) { socketpair_close(2); }

int main(void)
{
	static const struct kase k[] = {
		{ "tcp reset, SIGPIPE default", c_tcp_dfl },
		{ "tcp reset, SIGPIPE handler", c_tcp_handler },
		{ "tcp reset, SIGPIPE ignored", c_tcp_ign },
		{ "socketpair peer closed, SIGPIPE default", c_sp_dfl },
		{ "socketpair peer closed, SIGPIPE handler", c_sp_handler },
		{ "socketpair peer closed, SIGPIPE ignored", c_sp_ign },
	};
	setvbuf(stdout, 0, _IONBF, 0);
	run_cases(k, sizeof k / sizeof *k, 5);
	return 0;
}
