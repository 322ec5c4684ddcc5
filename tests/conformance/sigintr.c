/*
 * sigintr: a process-directed signal interrupts a blocked call (issue 15
 * item 1).  The main thread blocks in accept, read, recv, poll, select,
 * nanosleep, sem_wait, ...; a second thread, which blocks the signal,
 * sends it to the process (kill) or arms alarm().  The handler has no
 * SA_RESTART, so POSIX (2.4.1, signal(7)) says the main thread, the only
 * one not blocking it, takes it and its call fails with EINTR.  A 16 MB
 * send into a full socketpair cut short by alarm(1) returns a partial
 * count.  With SA_RESTART, read is restarted but poll and nanosleep are
 * not.  Each case runs in its own child process with a deadline.
 *
 * The signal is sent 100 ms after the main thread set out for its call,
 * which then has almost certainly blocked; the output does not rely on
 * it.  A handler run that comes before the main thread reached its call
 * (it was descheduled that long) is seen by the handler itself (the
 * call not yet started), and leaves the call blocked: the signal is then
 * sent again the same way, and the early run is not counted.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

static volatile sig_atomic_t handled, calling, early;
static void handler(int sig)
{
	handled++;
	if (!calling) early = 1;
}
/* Set just before the blocking call. */
#define CALL(c) (calling = 1, (c))

static int sig = SIGTERM;
static int use_alarm;	/* 0: kill after 100 ms, 1: alarm(1), 2: neither,
			   3: a forked child kills after 100 ms, 4: kill
			   after 100 ms, then write to wake_fd after 100 ms */
static int wake_fd = -1;
static volatile int returned;
static volatile sig_atomic_t resends;	/* handler runs not to count */

/* The signal again, as the case sends it (2: SIGCHLD from a child). */
static void send_again(void)
{
	pid_t parent = getpid();
	if (use_alarm == 1) alarm(1);
	else if (use_alarm == 0 || use_alarm == 4) kill(parent, sig);
	else if (fork() == 0) {
		if (use_alarm == 3) kill(parent, sig);
		_exit(0);
	}
}

/* The other thread: blocks the signal, then sends it to the process
 * once the main thread is (almost certainly) blocked.  While the call
 * has not returned, each second: if the handler ran before the call
 * (early), the signal is sent again and that run not counted; if not,
 * the kill case sends it once more all the same, so that a call the
 * signal did not interrupt shows as a second handler run, not a hang. */
static void *sender(void *arg)
{
	sigset_t s;
	int again = 0;
	sigemptyset(&s);
	sigaddset(&s, sig);
	pthread_sigmask(SIG_BLOCK, &s, 0);
	if (use_alarm == 1) alarm(1);
	if (use_alarm == 3) {
		pid_t parent = getpid();
		if (fork() == 0) {
			usleep(100000);
			kill(parent, sig);
			_exit(0);
		}
	}
	if (use_alarm == 0 || use_alarm == 4) {
		usleep(100000);
		kill(getpid(), sig);
	}
	if (use_alarm == 4) {
		usleep(100000);
		write(wake_fd, "d", 1);
		return 0;
	}
	for (int k = 0; k < 5; k++) {
		for (int i = 0; i < 100 && !returned; i++) usleep(10000);
		if (returned) break;
		if (early) {
			early = 0;
			resends++;
			send_again();
		} else if (use_alarm == 0 && !again) {
			again = 1;
			kill(getpid(), sig);
		}
	}
	return 0;
}

static pthread_t setup_flags(int s, int alarmed, int flags)
{
	struct sigaction sa;
	pthread_t t;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sig = s;
	use_alarm = alarmed;
	sigaction(sig, &sa, 0);
	pthread_create(&t, 0, sender, 0);
	return t;
}

static pthread_t setup(int s, int alarmed) { return setup_flags(s, alarmed, 0); }	/* no SA_RESTART */

static void report(const char *name, long r, int e)
{
	returned = 1;
	int n = handled - resends;
	if (r < 0) printf("%s: -1 %s, handler ran %d\n", name, en(e), n);
	else printf("%s: returned %ld, handler ran %d\n", name, r, n);
}

static void c_accept(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int l = socket(AF_INET, SOCK_STREAM, 0);
	bind(l, (void *)&a, sizeof a);
	listen(l, 1);
	setup(SIGTERM, 0);
	long r = CALL(accept(l, 0, 0));
	report("accept", r, errno);
}

static void c_read(void)
{
	int p[2];
	char c;
	pipe(p);
	setup(SIGTERM, 0);
	long r = CALL(read(p[0], &c, 1));
	report("read pipe", r, errno);
}

static void c_read_alarm(void)
{
	int p[2];
	char c;
	pipe(p);
	setup(SIGALRM, 1);
	long r = CALL(read(p[0], &c, 1));
	report("read pipe, alarm", r, errno);
}

static void c_recv(void)
{
	int sv[2];
	char c;
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	setup(SIGTERM, 0);
	long r = CALL(recv(sv[0], &c, 1, 0));
	report("recv socketpair", r, errno);
}

static void c_recv_tcp(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), s;
	char ch;
	bind(l, (void *)&a, sizeof a);
	listen(l, 1);
	getsockname(l, (void *)&a, &al);
	connect(c, (void *)&a, sizeof a);
	s = accept(l, 0, 0);
	setup(SIGINT, 0);
	long r = CALL(recv(s, &ch, 1, 0));
	report("recv tcp, SIGINT", r, errno);
}

static void c_poll(void)
{
	int p[2];
	pipe(p);
	struct pollfd pf = { .fd = p[0], .events = POLLIN };
	setup(SIGTERM, 0);
	long r = CALL(poll(&pf, 1, -1));
	report("poll", r, errno);
}

static void c_poll2(void)
{
	int p[2], q[2];
	pipe(p);
	pipe(q);
	struct pollfd pf[2] = { { .fd = p[0], .events = POLLIN }, { .fd = q[0], .events = POLLIN } };
	setup(SIGTERM, 0);
	long r = CALL(poll(pf, 2, 30000));
	report("poll 2 fds, 30 s", r, errno);
}

static void c_select(void)
{
	int p[2];
	fd_set rf;
	pipe(p);
	FD_ZERO(&rf);
	FD_SET(p[0], &rf);
	setup(SIGTERM, 0);
	long r = CALL(select(p[0] + 1, &rf, 0, 0, 0));
	report("select", r, errno);
}

static void c_select_alarm(void)
{
	struct timeval tv = { 30, 0 };
	setup(SIGALRM, 1);
	long r = CALL(select(0, 0, 0, 0, &tv));
	report("select 30 s, alarm", r, errno);
}

static void c_nanosleep(void)
{
	struct timespec ts = { 30, 0 }, rem;
	setup(SIGTERM, 0);
	long r = CALL(nanosleep(&ts, &rem));
	report("nanosleep", r, errno);
}

static void c_sem_wait(void)
{
	sem_t s;
	sem_init(&s, 0, 0);
	setup(SIGTERM, 0);
	long r = CALL(sem_wait(&s));
	report("sem_wait", r, errno);
}

static void c_pause(void)
{
	setup(SIGTERM, 0);
	long r = CALL(pause());
	report("pause", r, errno);
}

static void c_read_child(void)
{
	int p[2];
	char c;
	pipe(p);
	setup(SIGTERM, 3);
	long r = CALL(read(p[0], &c, 1));
	report("read pipe, kill from a child process", r, errno);
}

/* SA_RESTART: read is restarted and returns the byte written 100 ms
 * after the signal; poll and nanosleep fail with EINTR all the same
 * (signal(7)). */
static void c_read_restart(void)
{
	int p[2];
	char c;
	pipe(p);
	wake_fd = p[1];
	setup_flags(SIGTERM, 4, SA_RESTART);
	long r = CALL(read(p[0], &c, 1));
	report("read pipe, SA_RESTART", r, errno);
}

static void c_poll_restart(void)
{
	int p[2];
	pipe(p);
	struct pollfd pf = { .fd = p[0], .events = POLLIN };
	setup_flags(SIGTERM, 0, SA_RESTART);
	long r = CALL(poll(&pf, 1, -1));
	report("poll, SA_RESTART", r, errno);
}

static void c_nanosleep_restart(void)
{
	struct timespec ts = { 30, 0 }, rem;
	setup_flags(SIGTERM, 0, SA_RESTART);
	long r = CALL(nanosleep(&ts, &rem));
	report("nanosleep, SA_RESTART", r, errno);
}

static void c_sigchld_read(void)
{
	int p[2];
	char c;
	pipe(p);
	/* the other thread blocks SIGCHLD; a child exits after 100 ms */
	setup(SIGCHLD, 2);
	if (fork() == 0) {
		usleep(100000);
		_exit(0);
	}
	long r = CALL(read(p[0], &c, 1));
	report("read pipe, SIGCHLD", r, errno);
}

#define BIG (16 << 20)
static void c_send_big(void)
{
	int sv[2];
	char *buf = calloc(1, BIG);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	setup(SIGALRM, 1);
	long r = CALL(send(sv[0], buf, BIG, 0));
	int e = errno;
	returned = 1;
	if (r > 0 && r < BIG) printf("send 16 MB, alarm: partial, handler ran %d\n",
		(int)(handled - resends));
	else report("send 16 MB, alarm", r, e);
}

int main(void)
{
	static const struct kase k[] = {
		{ "accept", c_accept },
		{ "read pipe", c_read },
		{ "read pipe, alarm", c_read_alarm },
		{ "read pipe, SIGCHLD", c_sigchld_read },
		{ "read pipe, kill from a child process", c_read_child },
		{ "read pipe, SA_RESTART", c_read_restart },
		{ "poll, SA_RESTART", c_poll_restart },
		{ "nanosleep, SA_RESTART", c_nanosleep_restart },
		{ "recv socketpair", c_recv },
		{ "recv tcp, SIGINT", c_recv_tcp },
		{ "poll", c_poll },
		{ "poll 2 fds, 30 s", c_poll2 },
		{ "select", c_select },
		{ "select 30 s, alarm", c_select_alarm },
		{ "nanosleep", c_nanosleep },
		{ "sem_wait", c_sem_wait },
		{ "pause", c_pause },
		{ "send 16 MB, alarm", c_send_big },
	};
	setvbuf(stdout, 0, _IONBF, 0);
	run_cases(k, sizeof k / sizeof *k, 4);
	return 0;
}
