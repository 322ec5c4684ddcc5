/* An exec'd child reads and writes the pipes and sockets it inherits: /bin/cat
 * between two pipes, /bin/sh on a pipe, and this program re-executed as an
 * echo server on a socketpair and on an accepted TCP socket (the inetd
 * pattern).  The child must see blocking fds (no O_NONBLOCK it did not ask
 * for), never get EAGAIN, and move all data intact, while other threads of
 * the parent keep feeding it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conform.h"

#define SIZE (1 << 20)

extern char **environ;

/* child mode: echo everything from fd IN to fd OUT until EOF.
 * exit status bits: 1 O_NONBLOCK seen, 2 EAGAIN, 4 other error */
static int child_echo(int in, int out)
{
	int st = 0;
	if (fcntl(in, F_GETFL) & O_NONBLOCK) st |= 1;
	if (fcntl(out, F_GETFL) & O_NONBLOCK) st |= 1;
	static char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n < 0 && errno == EINTR) continue;
		if (n < 0) { st |= errno == EAGAIN ? 2 : 4; break; }
		if (n == 0) break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, n - off);
			if (w < 0 && errno == EINTR) continue;
			if (w < 0) { st |= errno == EAGAIN ? 2 : 4; goto done; }
			off += w;
		}
	}
done:
	if (in == out) shutdown(out, SHUT_WR);
	return st;
}

static unsigned char pat(size_t i) { return (unsigned char)(i * 131 + (i >> 9)); }

struct feed { int fd; int shut; };
static void *feeder(void *p)
{
	struct feed *f = p;
	static unsigned char buf[SIZE];
	for (size_t i = 0; i < SIZE; i++) buf[i] = pat(i);
	for (size_t off = 0; off < SIZE;) {
		ssize_t w = write(f->fd, buf + off, SIZE - off);
		if (w < 0 && errno == EINTR) continue;
		if (w < 0) break;
		off += w;
	}
	if (f->shut) shutdown(f->fd, SHUT_WR); else close(f->fd);
	return 0;
}

/* read until EOF, check the pattern; returns bytes read, *ok = intact */
static size_t drain(int fd, int *ok)
{
	static unsigned char buf[65536];
	size_t total = 0;
	*ok = 1;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) { if (n < 0 || total != SIZE) *ok = 0; break; }
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pat(total + i)) *ok = 0;
		total += n;
	}
	return total;
}

/* O_NONBLOCK as the kernel has it, from /proc/self/fdinfo */
static int kernel_nonblock(int fd)
{
	char p[64], line[256];
	unsigned long fl = 0;
	snprintf(p, sizeof p, "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(p, "r");
	if (!f) return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "flags: %lo", &fl) == 1) break;
	fclose(f);
	return (fl & O_NONBLOCK) != 0;
}

static const char *status(int s) { return wait_status(s, "exit", "signal"); }

/* fork and re-exec this program as an echo server on fd 3 = src */
static pid_t spawn_self(int src, int other)
{
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = { "exec_inherit", "echo", "3", "3", 0 };
		close(other);
		if (src != 3) { dup2(src, 3); close(src); }
		execve("/proc/self/exe", argv, environ);
		_exit(127);
	}
	return pid;
}

struct srv { int l; pid_t pid; int got, getfl, kern; };
static void *server(void *p)
{
	struct srv *v = p;
	int a = accept(v->l, 0, 0);
	if (a < 0) return 0;
	write(a, "R", 1);
	char req[6];
	size_t got = 0;
	while (got < 6) {
		ssize_t n = read(a, req + got, 6 - got);
		if (n <= 0) break;
		got += n;
	}
	v->got = got == 6 && !memcmp(req, "HELLO\n", 6);
	v->getfl = (fcntl(a, F_GETFL) & O_NONBLOCK) != 0;
	v->kern = kernel_nonblock(a);
	v->pid = fork();
	if (v->pid == 0) {
		dup2(a, 0); dup2(a, 1);
		close(a);
		execl("/bin/cat", "cat", (char *)0);
		_exit(127);
	}
	close(a);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "echo"))
		return child_echo(atoi(argv[2]), atoi(argv[3]));
	setvbuf(stdout, NULL, _IONBF, 0);
	watchdog(10);
	signal(SIGPIPE, SIG_IGN);
	alarm(60);

	/* 1. /bin/cat between two pipes, fed by a thread */
	{
		int a[2], b[2], s, ok;
		pipe(a); pipe(b);
		pid_t pid = fork();
		if (pid == 0) {
			dup2(a[0], 0); dup2(b[1], 1);
			close(a[0]); close(a[1]); close(b[0]); close(b[1]);
			execl("/bin/cat", "cat", (char *)0);
			_exit(127);
		}
		close(a[0]); close(b[1]);
		struct feed f = { a[1], 0 };
		pthread_t t;
		pthread_create(&t, 0, feeder, &f);
		size_t n = drain(b[0], &ok);
		pthread_join(t, 0);
		close(b[0]);
		waitpid(pid, &s, 0);
		printf("cat over pipes: %zu of %d bytes back, intact: %s, cat %s\n", n, SIZE, ok ? "yes" : "no", status(s));
	}

	/* 2. /bin/sh reads a line from a pipe and answers on another */
	{
		int a[2], b[2], s;
		pipe(a); pipe(b);
		pid_t pid = fork();
		if (pid == 0) {
			dup2(a[0], 0); dup2(b[1], 1);
			close(a[0]); close(a[1]); close(b[0]); close(b[1]);
			execl("/bin/sh", "sh", "-c", "read x; echo \"got $x\"; read y; echo \"then $y\"", (char *)0);
			_exit(127);
		}
		close(a[0]); close(b[1]);
		char buf[128] = { 0 };
		write(a[1], "hello\n", 6);
		size_t got = 0;
		while (got < 10) { /* "got hello\n" */
			ssize_t n = read(b[0], buf + got, sizeof buf - 1 - got);
			if (n <= 0) break;
			got += n;
		}
		write(a[1], "world\n", 6);
		close(a[1]);
		for (;;) {
			ssize_t n = read(b[0], buf + got, sizeof buf - 1 - got);
			if (n <= 0) break;
			got += n;
		}
		close(b[0]);
		waitpid(pid, &s, 0);
		printf("sh over pipes answered: %s", buf);
		printf("sh %s\n", status(s));
	}

	/* 3. this program re-executed as echo server on a socketpair (fd 3) */
	{
		int sv[2], s, ok;
		socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		pid_t pid = spawn_self(sv[1], sv[0]);
		close(sv[1]);
		struct feed f = { sv[0], 1 };
		pthread_t t;
		pthread_create(&t, 0, feeder, &f);
		size_t n = drain(sv[0], &ok);
		pthread_join(t, 0);
		close(sv[0]);
		waitpid(pid, &s, 0);
		printf("echo child over socketpair: %zu of %d bytes back, intact: %s, child %s%s%s\n", n, SIZE,
		       ok ? "yes" : "no", status(s),
		       WIFEXITED(s) && WEXITSTATUS(s) & 1 ? " (saw O_NONBLOCK)" : "",
		       WIFEXITED(s) && WEXITSTATUS(s) & 2 ? " (got EAGAIN)" : "");
	}

	/* 4. inetd pattern: a thread accepts on loopback TCP, waits for a
	 * request line, then execs /bin/cat on the accepted socket (fd 0 and 1) */
	{
		int l = socket(AF_INET, SOCK_STREAM, 0), s, ok;
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t sl = sizeof sa;
		bind(l, (struct sockaddr *)&sa, sizeof sa);
		listen(l, 1);
		getsockname(l, (struct sockaddr *)&sa, &sl);
		struct srv sv = { l, -1, 0, -1, -1 };
		pthread_t st;
		pthread_create(&st, 0, server, &sv);
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&sa, sizeof sa)) { puts("connect failed"); return 1; }
		char r;
		if (read(c, &r, 1) != 1) { puts("no greeting"); return 1; }
		write(c, "HELLO\n", 6);
		pthread_join(st, 0);
		close(l);
		printf("server read the request: %s\n", sv.got ? "yes" : "no");
		printf("accepted socket O_NONBLOCK in F_GETFL: %s\n", sv.getfl ? "yes" : "no");
		printf("accepted socket O_NONBLOCK in the kernel: %s\n", sv.kern ? "yes" : "no");
		struct feed f = { c, 1 };
		pthread_t t;
		pthread_create(&t, 0, feeder, &f);
		size_t n = drain(c, &ok);
		pthread_join(t, 0);
		close(c);
		waitpid(sv.pid, &s, 0);
		printf("cat on accepted TCP socket (fd 0 and 1): %zu of %d bytes back, intact: %s, cat %s\n", n, SIZE,
		       ok ? "yes" : "no", status(s));
	}

	/* 5. /bin/cat on a socketpair end as fd 0 and 1, fed by a thread */
	{
		int sv[2], s, ok;
		socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		pid_t pid = fork();
		if (pid == 0) {
			dup2(sv[1], 0); dup2(sv[1], 1);
			close(sv[0]); close(sv[1]);
			execl("/bin/cat", "cat", (char *)0);
			_exit(127);
		}
		close(sv[1]);
		struct feed f = { sv[0], 1 };
		pthread_t t;
		pthread_create(&t, 0, feeder, &f);
		size_t n = drain(sv[0], &ok);
		pthread_join(t, 0);
		close(sv[0]);
		waitpid(pid, &s, 0);
		printf("cat on socketpair (fd 0 and 1): %zu of %d bytes back, intact: %s, cat %s\n", n, SIZE,
		       ok ? "yes" : "no", status(s));
	}

	return 0;
}
