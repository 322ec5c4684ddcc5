/*
 * sigpipe: SIGPIPE under the default action, ignored, and with a
 * handler (issue 15 extras), from the main thread and from a second
 * thread, on a pipe and a socketpair whose reader is gone, for a write
 * that finds it gone and for one blocked on a full pipe when the reader
 * closes.  Default: the process dies by SIGPIPE.  Ignored: -1 EPIPE.
 * Handler: -1 EPIPE after the handler ran once.  MSG_NOSIGNAL: -1 EPIPE,
 * no signal.  Each case in its own child process.
 */
#include <errno.h>
#include <fcntl.h>
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

static void set_mode(int mode)	/* 0 default, 1 handler, 2 ignore */
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = mode == 0 ? SIG_DFL : mode == 1 ? handler : SIG_IGN;
	sigaction(SIGPIPE, &sa, 0);
}

static int wfd, flags;
static long result;
static int err;
static void do_write(void)
{
	result = flags < 0 ? write(wfd, "x", 1) : send(wfd, "x", 1, flags);
	err = errno;
}
static void *th_write(void *arg) { do_write(); return 0; }

static const char *cur;
static void report(void)
{
	printf("%s: write %ld %s, handler ran %d\n", cur, result, result < 0 ? en(err) : "", (int)handled);
}

/* kind: 0 pipe, 1 socketpair, 2 socketpair with MSG_NOSIGNAL */
static void closed_reader(int mode, int kind, int in_thread)
{
	int fd[2];
	if (kind == 0) pipe(fd);
	else socketpair(AF_UNIX, SOCK_STREAM, 0, fd);
	flags = kind == 2 ? MSG_NOSIGNAL : kind == 1 ? 0 : -1;
	set_mode(mode);
	close(fd[0]);
	wfd = fd[1];
	if (in_thread) {
		pthread_t t;
		pthread_create(&t, 0, th_write, 0);
		pthread_join(t, 0);
	} else {
		do_write();
	}
	report();
}

static void c_dfl_main(void) { closed_reader(0, 0, 0); }
static void c_dfl_thread(void) { closed_reader(0, 0, 1); }
static void c_dfl_sock(void) { closed_reader(0, 1, 1); }
static void c_dfl_nosig(void) { closed_reader(0, 2, 1); }
static void c_ign_main(void) { closed_reader(2, 0, 0); }
static void c_ign_thread(void) { closed_reader(2, 0, 1); }
static void c_ign_sock(void) { closed_reader(2, 1, 1); }
static void c_h_main(void) { closed_reader(1, 0, 0); }
static void c_h_thread(void) { closed_reader(1, 0, 1); }
static void c_h_sock(void) { closed_reader(1, 1, 1); }
static void c_h_nosig(void) { closed_reader(1, 2, 1); }

/* A thread blocked writing 1 byte into a full 64 KB pipe (nothing of it
 * written yet) when the reader closes. */
static void blocked_writer(int mode)
{
	int fd[2];
	pthread_t t;
	static char buf[65536];
	pipe(fd);
	set_mode(mode);
	if (fcntl(fd[1], F_SETPIPE_SZ, 65536) != 65536) printf("F_SETPIPE_SZ failed\n");
	write(fd[1], buf, sizeof buf);
	wfd = fd[1];
	flags = -1;
	pthread_create(&t, 0, th_write, 0);
	usleep(100000);	/* likelier that it blocks first; it fails either way */
	close(fd[0]);
	pthread_join(t, 0);
	report();
}

static void c_blk_dfl(void) { blocked_writer(0); }
static void c_blk_ign(void) { blocked_writer(2); }
static void c_blk_h(void) { blocked_writer(1); }

/* The default action in a child process whose second thread writes,
 * while the main thread is blocked in a read. */
static void c_dfl_blocked_main(void)
{
	int p[2];
	char c;
	pipe(p);
	closed_reader(0, 0, 1);
	read(p[0], &c, 1);
}

int main(void)
{
	static const struct kase k[] = {
		{ "default, pipe, main thread", c_dfl_main },
		{ "default, pipe, second thread", c_dfl_thread },
		{ "default, pipe, second thread, main blocked in read", c_dfl_blocked_main },
		{ "default, socketpair, second thread", c_dfl_sock },
		{ "default, socketpair MSG_NOSIGNAL", c_dfl_nosig },
		{ "ignored, pipe, main thread", c_ign_main },
		{ "ignored, pipe, second thread", c_ign_thread },
		{ "ignored, socketpair, second thread", c_ign_sock },
		{ "handler, pipe, main thread", c_h_main },
		{ "handler, pipe, second thread", c_h_thread },
		{ "handler, socketpair, second thread", c_h_sock },
		{ "handler, socketpair MSG_NOSIGNAL", c_h_nosig },
		{ "default, blocked writer, reader closes", c_blk_dfl },
		{ "ignored, blocked writer, reader closes", c_blk_ign },
		{ "handler, blocked writer, reader closes", c_blk_h },
	};
	setvbuf(stdout, 0, _IONBF, 0);
	for (int i = 0; i < (int)(sizeof k / sizeof *k); i++) {
		cur = k[i].name;
		run_cases(k + i, 1, 5);
	}
	return 0;
}
