/* poll, select and epoll_wait on a signalfd (signalfd(2)) see a signal
 * sent to the calling thread with pthread_kill, which it blocks: the
 * call returns the fd readable, and a read then gives the signal.  Under
 * M:N such a signal waits on the task, which the kernel's signalfd did
 * not see: the wait ran into its timeout (5 s here) with nothing ready. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "conform.h"

static int ready[2];
static const char *how;

static void *waiter(void *a)
{
	sigset_t m;
	int n = -1;
	(void)a;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &m, 0);
	int fd = signalfd(-1, &m, SFD_CLOEXEC);
	write(ready[1], "r", 1);
	if (!strcmp(how, "poll")) {
		struct pollfd p = { fd, POLLIN, 0 };
		n = poll(&p, 1, 5000);
		if (n == 1 && !(p.revents & POLLIN)) n = -2;
	} else if (!strcmp(how, "select")) {
		fd_set r;
		struct timeval tv = { 5, 0 };
		FD_ZERO(&r);
		FD_SET(fd, &r);
		n = select(fd + 1, &r, 0, 0, &tv);
		if (n == 1 && !FD_ISSET(fd, &r)) n = -2;
	} else {
		int ep = epoll_create1(EPOLL_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		n = epoll_wait(ep, &ev, 1, 5000);
		if (n == 1 && ev.data.fd != fd) n = -2;
		close(ep);
	}
	printf("%s: %d ready\n", how, n);
	if (n == 1) {
		struct signalfd_siginfo si;
		ssize_t r = read(fd, &si, sizeof si);
		printf("%s: read %zd bytes, %s\n", how, r,
			r == sizeof si && si.ssi_signo == SIGUSR1 ? "SIGUSR1" : "not SIGUSR1");
	}
	close(fd);
	return 0;
}

int main(void)
{
	static const char *hows[] = { "poll", "select", "epoll_wait" };
	sigset_t m;
	setvbuf(stdout, NULL, _IONBF, 0);
	watchdog(40);
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &m, 0);
	if (pipe(ready)) return 1;
	for (int i = 0; i < 3; i++) {
		pthread_t t;
		char c;
		how = hows[i];
		pthread_create(&t, 0, waiter, 0);
		read(ready[0], &c, 1);
		pthread_kill(t, SIGUSR1);
		pthread_join(t, 0);
	}
	return 0;
}
