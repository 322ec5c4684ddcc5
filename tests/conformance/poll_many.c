/* poll() and select() on several fds from many threads at once: 200 threads
 * each wait on their own two pipes; main makes one fd of each thread
 * readable, one thread at a time; every thread must report exactly the fd
 * that was written, and no other.  Correctness only (the performance side
 * of issue 15 item 12 is not measured here). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

#include "conform.h"

#define NT 200

static int pa[NT][2], pb[NT][2];
static int result[NT];  /* 1: a readable, 2: b readable, 3: both, <0 error */
static int spurious[NT];
static int use_select;
static pthread_barrier_t bar;

static void *waiter(void *arg)
{
	int i = (int)(long)arg, res = 0;
	pthread_barrier_wait(&bar);
	for (;;) {
		int r;
		if (use_select && pb[i][0] < FD_SETSIZE) {
			fd_set rf;
			FD_ZERO(&rf);
			FD_SET(pa[i][0], &rf);
			FD_SET(pb[i][0], &rf);
			int nfds = (pa[i][0] > pb[i][0] ? pa[i][0] : pb[i][0]) + 1;
			r = select(nfds, &rf, 0, 0, 0);
			if (r > 0)
				res = (FD_ISSET(pa[i][0], &rf) ? 1 : 0) | (FD_ISSET(pb[i][0], &rf) ? 2 : 0);
		} else {
			struct pollfd p[2] = { { pa[i][0], POLLIN, 0 }, { pb[i][0], POLLIN, 0 } };
			r = poll(p, 2, -1);
			if (r > 0)
				res = (p[0].revents & POLLIN ? 1 : 0) | (p[1].revents & POLLIN ? 2 : 0)
				    | (p[0].revents & ~POLLIN || p[1].revents & ~POLLIN ? 4 : 0);
		}
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) { res = -1; break; }
		if (r == 0) { spurious[i]++; continue; } /* infinite wait returned 0: wrong */
		break;
	}
	result[i] = res;
	char c;
	/* consume what was written, so the data is known to have come through */
	if (res & 1 && read(pa[i][0], &c, 1) != 1) result[i] = -2;
	if (res & 2 && read(pb[i][0], &c, 1) != 1) result[i] = -2;
	return 0;
}

static int round_(const char *what)
{
	pthread_t th[NT];
	pthread_barrier_init(&bar, 0, NT + 1);
	for (long i = 0; i < NT; i++) {
		result[i] = 0; spurious[i] = 0;
		if (pthread_create(&th[i], 0, waiter, (void *)i)) { printf("pthread_create failed\n"); return 1; }
	}
	pthread_barrier_wait(&bar);
	/* even threads get their first pipe written, odd ones their second */
	for (int i = 0; i < NT; i++) {
		int fd = i & 1 ? pb[i][1] : pa[i][1];
		if (write(fd, "x", 1) != 1) { printf("write failed\n"); return 1; }
		pthread_join(th[i], 0); /* only thread i may wake up and finish */
	}
	int right = 0, wrong = 0, both = 0, err = 0, spur = 0;
	for (int i = 0; i < NT; i++) {
		int want = i & 1 ? 2 : 1;
		if (result[i] == want) right++;
		else if (result[i] < 0) err++;
		else if (result[i] == 3) both++;
		else wrong++;
		if (spurious[i]) spur++;
	}
	printf("%s: %d threads reported the written fd: %s (wrong fd: %d, both: %d, errors: %d, spurious 0 returns: %d)\n",
	       what, NT, right == NT ? "yes" : "no", wrong, both, err, spur);
	return 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	watchdog(10);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 4 * NT + 64 && rl.rlim_max >= 4 * NT + 64) {
		rl.rlim_cur = 4 * NT + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	alarm(60);
	for (int i = 0; i < NT; i++)
		if (pipe(pa[i]) || pipe(pb[i])) { printf("pipe failed\n"); return 1; }
	use_select = 0;
	if (round_("poll")) return 1;
	use_select = 1;
	if (round_("select")) return 1;
	return 0;
}
