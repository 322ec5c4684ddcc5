/*
 * mc_load PORT CONNS ROUNDS [SECONDS]: a loopback load for memcached, for
 * make corpus (tests/corpus/memcached.sh).  Built with the system gcc:
 * it is the fixed client, not a subject.
 *
 * Opens CONNS connections to 127.0.0.1:PORT at once and keeps them all
 * open; on each, ROUNDS times: "set" a key unique to the connection and
 * round with a value of 10 to 4000 bytes made from both, expect
 * "STORED", then "get" it and compare the whole reply byte for byte.
 * One epoll loop, no threads.  Gives up after SECONDS (default 120).
 *
 * Prints "mc_load: N passed, M failed" (N verified values, M connections
 * that failed or did not finish) and exits 0 only if none failed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXVAL 4000
#define BUF (MAXVAL + 256)

struct conn {
	int fd, round, phase; /* phase 0: connecting, 1: set sent, 2: get sent, 3: done, 4: failed */
	char out[BUF], want[BUF], in[BUF];
	int outlen, outoff, wantlen, inlen;
};

static int rounds;
static long passed, failed_conns;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int vlen(int c, int r) { return 10 + (int)(((unsigned)c * 2654435761u + (unsigned)r * 40503u) % (MAXVAL - 10)); }

static void value(char *p, int c, int r, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = 'a' + (char)((c * 7 + r * 13 + i) % 26);
}

static void prepare(struct conn *k, int c)
{
	char key[64];
	int n = vlen(c, k->round);
	snprintf(key, sizeof key, "k%d_%d", c, k->round);
	if (k->phase == 1) { /* set */
		k->outlen = snprintf(k->out, BUF, "set %s 0 0 %d\r\n", key, n);
		value(k->out + k->outlen, c, k->round, n);
		k->outlen += n;
		memcpy(k->out + k->outlen, "\r\n", 2);
		k->outlen += 2;
		k->wantlen = snprintf(k->want, BUF, "STORED\r\n");
	} else { /* get */
		k->outlen = snprintf(k->out, BUF, "get %s\r\n", key);
		k->wantlen = snprintf(k->want, BUF, "VALUE %s 0 %d\r\n", key, n);
		value(k->want + k->wantlen, c, k->round, n);
		k->wantlen += n;
		memcpy(k->want + k->wantlen, "\r\nEND\r\n", 7);
		k->wantlen += 7;
	}
	k->outoff = 0;
	k->inlen = 0;
}

static void fail(struct conn *k, int c, const char *why)
{
	if (k->phase != 4) {
		if (failed_conns < 10)
			fprintf(stderr, "mc_load: connection %d round %d: %s\n", c, k->round, why);
		failed_conns++;
	}
	k->phase = 4;
	close(k->fd);
}

static void flush(struct conn *k, int c)
{
	while (k->outoff < k->outlen) {
		ssize_t w = write(k->fd, k->out + k->outoff, k->outlen - k->outoff);
		if (w < 0) {
			if (errno != EAGAIN)
				fail(k, c, strerror(errno));
			return;
		}
		k->outoff += w;
	}
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: mc_load PORT CONNS ROUNDS [SECONDS]\n");
		return 2;
	}
	int port = atoi(argv[1]), n = atoi(argv[2]);
	rounds = atoi(argv[3]);
	double limit = argc > 4 ? atof(argv[4]) : 120;
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);

	struct conn *cs = calloc(n, sizeof *cs);
	int ep = epoll_create1(0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	for (int c = 0; c < n; c++) {
		struct conn *k = &cs[c];
		k->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (k->fd < 0) {
			perror("mc_load: socket");
			return 1;
		}
		int one = 1;
		setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(k->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
			fail(k, c, strerror(errno));
			continue;
		}
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = c };
		epoll_ctl(ep, EPOLL_CTL_ADD, k->fd, &ev);
	}
	double t0 = now();
	long live = n - failed_conns;
	struct epoll_event evs[256];
	while (live > 0 && now() - t0 < limit) {
		int m = epoll_wait(ep, evs, 256, 1000);
		for (int i = 0; i < m; i++) {
			int c = evs[i].data.u32;
			struct conn *k = &cs[c];
			if (k->phase >= 3)
				continue;
			if (k->phase == 0) {
				int err = 0;
				socklen_t l = sizeof err;
				getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &l);
				if (err) {
					fail(k, c, strerror(err));
					live--;
					continue;
				}
				if (!(evs[i].events & EPOLLOUT))
					continue;
				k->phase = 1;
				prepare(k, c);
			}
			flush(k, c);
			for (;;) {
				if (k->phase == 4)
					break;
				ssize_t r = read(k->fd, k->in + k->inlen, BUF - k->inlen);
				if (r < 0) {
					if (errno != EAGAIN)
						fail(k, c, strerror(errno));
					break;
				}
				if (r == 0) {
					fail(k, c, "closed by the server");
					break;
				}
				k->inlen += r;
				if (k->inlen > k->wantlen || memcmp(k->in, k->want, k->inlen)) {
					fail(k, c, "reply differs from what was stored");
					break;
				}
				if (k->inlen < k->wantlen)
					continue;
				if (k->phase == 2) {
					passed++;
					if (++k->round == rounds) {
						k->phase = 3;
						close(k->fd);
						break;
					}
					k->phase = 1;
				} else {
					k->phase = 2;
				}
				prepare(k, c);
				flush(k, c);
			}
			if (k->phase >= 3)
				live--;
		}
	}
	for (int c = 0; c < n; c++)
		if (cs[c].phase < 3)
			fail(&cs[c], c, "did not finish in time");
	printf("mc_load: %d connections, %d rounds, %.2f s\n", n, rounds, now() - t0);
	printf("mc_load: %ld passed, %ld failed\n", passed, failed_conns);
	return failed_conns ? 1 : 0;
}
