/*
 * fdreuse: a read blocked on an fd keeps its open file description when
 * the fd is closed (or dup2'd over) by another thread, as under Linux
 * 1:1 (issue 15 item 4).  The fd number is then reused by a new socket
 * or pipe holding "NEWDATA"/"PIPEDATA"; the blocked reader must not see
 * those, but the "OLDDATA" written later into its old peer, or EOF when
 * the old peer is closed.  Each case in its own child process, with a
 * deadline.
 *
 * Whether the reader is already blocked in read() when the fd is closed
 * is not left to a sleep: after the close (or dup2), the old file is
 * still open only if a call holds it, which the old peer sees (no
 * POLLHUP/POLLERR).  If the close was the last reference, the reader had
 * not yet called read() (it then gets EBADF, or EOF from the pipe dup2'd
 * over the fd), and the case is set up again; only a round in which the
 * reader held the old file is printed, so the output does not depend on
 * how fast the reader got to its read().
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conform.h"

static int rfd;
static sem_t started;
static char got[64];

static void *reader(void *arg)
{
	char buf[32];
	sem_post(&started);
	ssize_t n = read(rfd, buf, sizeof buf - 1);
	if (n > 0) buf[n] = 0, snprintf(got, sizeof got, "%s", buf);
	else if (n == 0) snprintf(got, sizeof got, "EOF");
	else snprintf(got, sizeof got, "-1 %s", en(errno));
	return 0;
}

/* After the close (or dup2) of the reader's fd: whether the old file is
 * still open, seen from its peer (socket: POLLHUP once the other end is
 * gone; pipe: POLLERR once no reader is left). */
static int old_file_open(int peer)
{
	struct pollfd p = { .fd = peer, .events = POLLOUT };
	return poll(&p, 1, 0) >= 0 && !(p.revents & (POLLHUP | POLLERR));
}

#define TRIES 10

/* old: 0 socketpair, 1 pipe; how: 0 close + new socketpair,
 * 1 close + new pipe, 2 dup2 of a pipe over it; end: 0 OLDDATA into
 * the old peer, 1 close the old peer. */
static void reuse(const char *name, int old, int how, int end)
{
	int o[2], n[2], try;
	pthread_t t;
	char buf[32];
	printf("== %s\n", name);
	for (try = 0; try < TRIES; try++) {
		if (old == 0) socketpair(AF_UNIX, SOCK_STREAM, 0, o);
		else pipe(o);
		rfd = o[0];
		got[0] = 0;
		sem_init(&started, 0, 0);
		pthread_create(&t, 0, reader, 0);
		sem_wait(&started);
		usleep(100000);	/* likelier that the reader is blocked in read() */
		if (how == 2) {
			pipe(n);
			dup2(n[0], o[0]);
			close(n[0]);
			n[0] = o[0];
		} else {
			close(o[0]);
		}
		if (old_file_open(o[1]))
			break;
		/* The reader had not called read() yet: it reads the closed
		 * fd (EBADF) or the pipe dup2'd over it (EOF).  Again. */
		if (how == 2) close(n[1]);
		pthread_join(t, 0);
		if (how == 2) close(n[0]);
		close(o[1]);
	}
	if (try == TRIES) {
		printf("the reader was not blocked in read() when its fd was closed, "
			"in %d tries\n", TRIES);
		return;
	}
	const char *data = "NEWDATA";
	if (how == 2) {
		data = "PIPEDATA";
		printf("dup2'd a pipe over the fd\n");
	} else {
		if (how == 0) socketpair(AF_UNIX, SOCK_STREAM, 0, n);
		else pipe(n);
		printf("closed; new %s reuses the number: %s\n", how ? "pipe" : "socketpair",
			n[0] == o[0] ? "yes" : "no");
	}
	write(n[1], data, strlen(data));
	usleep(50000);	/* a reader that (wrongly) went to the new fd gets there */
	if (end == 0) {
		write(o[1], "OLDDATA", 7);
		printf("wrote OLDDATA into the old peer\n");
	} else {
		close(o[1]);
		printf("closed the old peer\n");
	}
	pthread_join(t, 0);
	printf("blocked reader got: %s\n", got);
	fcntl(n[0], F_SETFL, O_NONBLOCK);
	ssize_t m = read(n[0], buf, sizeof buf - 1);
	if (m > 0) buf[m] = 0;
	printf("the new fd still holds: %s\n", m > 0 ? buf : m == 0 ? "EOF" : en(errno));
}

static void c1(void) { reuse("socketpair, close, new socketpair, OLDDATA", 0, 0, 0); }
static void c2(void) { reuse("socketpair, close, new socketpair, peer closed", 0, 0, 1); }
static void c3(void) { reuse("socketpair, close, new pipe, OLDDATA", 0, 1, 0); }
static void c4(void) { reuse("socketpair, dup2 pipe over it, OLDDATA", 0, 2, 0); }
static void c5(void) { reuse("socketpair, dup2 pipe over it, peer closed", 0, 2, 1); }
static void c6(void) { reuse("pipe, close, new pipe, OLDDATA", 1, 1, 0); }
static void c7(void) { reuse("pipe, close, new socketpair, writer closed", 1, 0, 1); }
static void c8(void) { reuse("pipe, dup2 pipe over it, OLDDATA", 1, 2, 0); }

int main(void)
{
	static const struct kase k[] = {
		{ "socketpair, close, new socketpair, OLDDATA", c1 },
		{ "socketpair, close, new socketpair, peer closed", c2 },
		{ "socketpair, close, new pipe, OLDDATA", c3 },
		{ "socketpair, dup2 pipe over it, OLDDATA", c4 },
		{ "socketpair, dup2 pipe over it, peer closed", c5 },
		{ "pipe, close, new pipe, OLDDATA", c6 },
		{ "pipe, close, new socketpair, writer closed", c7 },
		{ "pipe, dup2 pipe over it, OLDDATA", c8 },
	};
	setvbuf(stdout, 0, _IONBF, 0);
	signal(SIGPIPE, SIG_IGN);	/* a wrongly closed old reader shows as EPIPE */
	run_cases(k, sizeof k / sizeof *k, 5);
	return 0;
}
