/*
 * hiddennb: whatever a backend does to make blocking calls cheap must
 * be invisible to other processes and to every other call (issue 15
 * item 3).  A socket accepted by a thread, which has blocked on it once,
 * is blocking (F_GETFL), so:
 *   - a fork+exec'd child (this program re-executed, and /bin/cat) that
 *     gets it as stdin sees it blocking and reads the whole 4 MB stream;
 *   - sendfile of an 8 MB file to it completes, however slow the reader;
 *   - splice from it, tee from a pipe and raw syscall(SYS_read) block
 *     until data come, as read does.
 * Each case in its own child process, with a deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conform.h"

#define MB (1 << 20)

static int nonblock(int fd) { return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }

/* A connected TCP pair over loopback: *srv is accepted by a second
 * thread, which first blocks reading a 6-byte header the client sends
 * 50 ms later; that thread then runs fn(srv) and is joined. */
static int lsn;
static void *(*server_fn)(void *);
static void *server(void *arg)
{
	char h[6];
	int s = accept4(lsn, 0, 0, SOCK_CLOEXEC), n = 0;
	while (n < 6) {
		ssize_t r = read(s, h + n, 6 - n);
		if (r <= 0) break;
		n += r;
	}
	printf("server: header %s, O_NONBLOCK %s\n", n == 6 && !memcmp(h, "HELLO\n", 6) ? "ok" : "bad",
		nonblock(s) ? "yes" : "no");
	return server_fn((void *)(long)s);
}

static int tcp_client(pthread_t *t, void *(*fn)(void *))
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	/* close-on-exec: an exec'd child must hold only its stdin */
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	lsn = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bind(lsn, (void *)&a, sizeof a);
	listen(lsn, 1);
	getsockname(lsn, (void *)&a, &al);
	server_fn = fn;
	pthread_create(t, 0, server, 0);
	connect(c, (void *)&a, sizeof a);
	usleep(50000);	/* likelier that the server blocks on the header first */
	write(c, "HELLO\n", 6);
	return c;
}

/* What the client did, printed after the server thread is joined. */
static char client_msg[64];

/* Client side: n bytes in 64 KB chunks, a pause between chunks so the
 * other end often finds the socket empty; then close.  Prints whether
 * all went out. */
static void slow_send(int c, long n)
{
	static char buf[64 << 10];
	long done = 0;
	int err = 0;
	memset(buf, 'x', sizeof buf);
	while (done < n) {
		ssize_t r = write(c, buf, n - done < (long)sizeof buf ? n - done : (long)sizeof buf);
		if (r < 0) { err = errno; break; }
		done += r;
		usleep(2000);
	}
	snprintf(client_msg, sizeof client_msg, "client: sent all %s%s%s\n",
		done == n ? "yes" : "no", err ? ", " : "", err ? en(err) : "");
	close(c);
}

/* Client side: read everything slowly, print the total. */
static void slow_recv(int c, long n)
{
	static char buf[64 << 10];
	long done = 0;
	for (;;) {
		ssize_t r = read(c, buf, sizeof buf);
		if (r <= 0) break;
		done += r;
		usleep(1000);
	}
	snprintf(client_msg, sizeof client_msg, "client: received %s\n", done == n ? "all" : "not all");
	close(c);
}

/* The re-executed child: stdin is the socket. */
static int child_read(void)
{
	char buf[64 << 10];
	long n = 0;
	int err = 0;
	printf("exec'd child: stdin O_NONBLOCK %s\n", nonblock(0) ? "yes" : "no");
	for (;;) {
		ssize_t r = read(0, buf, sizeof buf);
		if (r < 0) { err = errno; break; }
		if (r == 0) break;
		n += r;
	}
	printf("exec'd child: read %s, error %s\n", n == 4 * MB ? "4 MB" : "less", en(err));
	return 0;
}

static void *srv_exec(void *arg)
{
	int s = (long)arg, st;
	pid_t p = fork();
	if (p == 0) {
		dup2(s, 0);
		execl("/proc/self/exe", "hiddennb", "child-read", (char *)0);
		_exit(127);
	}
	close(s);
	waitpid(p, &st, 0);
	printf("server: child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

static void c_exec_self(void)
{
	pthread_t t;
	int c = tcp_client(&t, srv_exec);
	slow_send(c, 4 * MB);
	pthread_join(t, 0);
	fputs(client_msg, stdout);
}

static void *srv_cat(void *arg)
{
	int s = (long)arg, st, p[2];
	char buf[64 << 10];
	long n = 0;
	pipe2(p, O_CLOEXEC);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(s, 0);
		dup2(p[1], 1);
		execl("/bin/cat", "cat", (char *)0);
		_exit(127);
	}
	close(s);
	close(p[1]);
	for (;;) {
		ssize_t r = read(p[0], buf, sizeof buf);
		if (r <= 0) break;
		n += r;
	}
	waitpid(pid, &st, 0);
	printf("server: cat copied %s, exit %d\n", n == 4 * MB ? "4 MB" : "less",
		WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

static void c_exec_cat(void)
{
	pthread_t t;
	int c = tcp_client(&t, srv_cat);
	slow_send(c, 4 * MB);
	pthread_join(t, 0);
	fputs(client_msg, stdout);
}

static void *srv_sendfile(void *arg)
{
	int s = (long)arg, err = 0;
	char tmpl[] = "/tmp/conf-hiddennb-XXXXXX";
	int f = mkstemp(tmpl);
	long done = 0;
	unlink(tmpl);
	ftruncate(f, 8 * MB);
	while (done < 8 * MB) {
		ssize_t r = sendfile(s, f, 0, 8 * MB - done);
		if (r < 0) { err = errno; break; }
		if (r == 0) break;
		done += r;
	}
	printf("server: sendfile sent %s, error %s\n", done == 8 * MB ? "8 MB" : "less", en(err));
	close(s);
	return 0;
}

static void c_sendfile(void)
{
	pthread_t t;
	int c = tcp_client(&t, srv_sendfile);
	slow_recv(c, 8 * MB);
	pthread_join(t, 0);
	fputs(client_msg, stdout);
}

static void *srv_splice(void *arg)
{
	int s = (long)arg, err = 0, p[2];
	char buf[64 << 10];
	long done = 0;
	pipe(p);
	while (done < MB) {
		ssize_t r = splice(s, 0, p[1], 0, sizeof buf, 0);
		if (r < 0) { err = errno; break; }
		if (r == 0) break;
		done += read(p[0], buf, r);
	}
	printf("server: splice moved %s, error %s\n", done == MB ? "1 MB" : "less", en(err));
	close(s);
	return 0;
}

static void c_splice(void)
{
	pthread_t t;
	int c = tcp_client(&t, srv_splice);
	slow_send(c, MB);
	pthread_join(t, 0);
	fputs(client_msg, stdout);
}

/* raw syscall(SYS_read) and tee on fds a thread blocked on before. */
static int rfd, wfd, kind;
static sem_t got_first;
static void *raw_reader(void *arg)
{
	char c[2];
	long r = read(rfd, c, 1);
	printf("%s: first read() %ld\n", (char *)arg, r);
	sem_post(&got_first);
	if (kind == 0) {
		r = syscall(SYS_read, rfd, c, 1);
	} else {
		int q[2];
		pipe(q);
		r = tee(rfd, q[1], 1, 0);
		if (r == 1) read(q[0], c, 1);
	}
	if (r == 1) printf("%s: then %s: %c\n", (char *)arg, kind ? "tee" : "syscall(SYS_read)", c[0]);
	else printf("%s: then %s: %ld %s\n", (char *)arg, kind ? "tee" : "syscall(SYS_read)", r, en(errno));
	return 0;
}

static void raw_case(int sock, int k, char *name)
{
	int fd[2];
	pthread_t t;
	if (sock) socketpair(AF_UNIX, SOCK_STREAM, 0, fd);
	else pipe(fd);
	rfd = fd[0], wfd = fd[1], kind = k;
	sem_init(&got_first, 0, 0);
	pthread_create(&t, 0, raw_reader, name);
	usleep(50000);	/* likelier that the reader blocks in read() first */
	write(wfd, "a", 1);
	sem_wait(&got_first);
	usleep(50000);	/* likelier that it blocks in the second call */
	write(wfd, "b", 1);
	pthread_join(t, 0);
	fputs(client_msg, stdout);
}

static void c_raw_sock(void) { raw_case(1, 0, "socketpair"); }
static void c_raw_pipe(void) { raw_case(0, 0, "pipe"); }
static void c_tee_pipe(void) { raw_case(0, 1, "pipe, tee"); }

int main(int argc, char **argv)
{
	static const struct kase k[] = {
		{ "exec self", c_exec_self },
		{ "exec cat", c_exec_cat },
		{ "sendfile", c_sendfile },
		{ "splice", c_splice },
		{ "raw syscall socketpair", c_raw_sock },
		{ "raw syscall pipe", c_raw_pipe },
		{ "tee pipe", c_tee_pipe },
	};
	setvbuf(stdout, 0, _IONBF, 0);
	if (argc > 1 && !strcmp(argv[1], "child-read")) return child_read();
	signal(SIGPIPE, SIG_IGN);
	run_cases(k, sizeof k / sizeof *k, 8);
	return 0;
}
