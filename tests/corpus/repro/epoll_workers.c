/* epoll_workers PORT THREADS: an echo server built the way libevent
 * servers (memcached) are: the main thread accepts and hands each new
 * fd to one of THREADS worker threads through that worker's pipe; each
 * worker runs its own epoll_wait loop over its pipe and its sockets
 * (level-triggered, non-blocking), echoing what it reads. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
struct w { int ep, pipe[2]; pthread_t t; };
static void *worker(void *a) {
	struct w *w = a; struct epoll_event ev[64]; char buf[16384];
	for (;;) {
		int n = epoll_wait(w->ep, ev, 64, -1);
		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;
			if (fd == w->pipe[0]) {
				int nfd;
				while (read(fd, &nfd, sizeof nfd) == sizeof nfd) {
					struct epoll_event e = { .events = EPOLLIN, .data.fd = nfd };
					epoll_ctl(w->ep, EPOLL_CTL_ADD, nfd, &e);
				}
				continue;
			}
			ssize_t r = read(fd, buf, sizeof buf);
			if (r <= 0) { if (r < 0 && errno == EAGAIN) continue; epoll_ctl(w->ep, EPOLL_CTL_DEL, fd, 0); close(fd); continue; }
			for (ssize_t o = 0; o < r;) { ssize_t k = write(fd, buf + o, r - o); if (k < 0) { if (errno == EAGAIN) continue; break; } o += k; }
		}
	}
	return 0;
}
int main(int argc, char **argv) {
	int port = atoi(argv[1]), nt = atoi(argv[2]);
	struct w *ws = calloc(nt, sizeof *ws);
	for (int i = 0; i < nt; i++) {
		ws[i].ep = epoll_create1(0); pipe2(ws[i].pipe, O_NONBLOCK);
		struct epoll_event e = { .events = EPOLLIN, .data.fd = ws[i].pipe[0] };
		epoll_ctl(ws[i].ep, EPOLL_CTL_ADD, ws[i].pipe[0], &e);
		pthread_create(&ws[i].t, 0, worker, &ws[i]);
	}
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7f000001) };
	if (bind(s, (void *)&a, sizeof a) || listen(s, 4096)) { perror("bind/listen"); return 1; }
	for (int i = 0;; i++) {
		int c = accept4(s, 0, 0, SOCK_NONBLOCK);
		if (c < 0) continue;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		write(ws[i % nt].pipe[1], &c, sizeof c);
	}
}
