/*
 * What the uring backend (pal/uring) adds, run under every backend: the
 * behaviour asserted is the same everywhere, and under uring the trace
 * (WEFT_TRACE=io) shows that the ring was used:
 *   - batched: tasks that park on reads one after another on one worker
 *     are submitted in one io_uring_enter (the trace line "submitted N
 *     entries in one enter", N >= 2), and every read gets its data;
 *   - fallback: in a child whose seccomp filter makes io_uring_setup
 *     fail (EPERM, ENOSYS), sockets, pipes and files work, and the trace
 *     says the backend fell back to the netpoller and Linux AIO (and
 *     says nothing without WEFT_TRACE);
 *   - cancel: pthread_cancel of a task parked in read, recv and accept
 *     ends it (PTHREAD_CANCELED), and the cancelled read took no data:
 *     what is written afterwards is all there for the next reader;
 *   - close: a read parked on a socket whose fd another thread closes
 *     keeps its file (the number, reused, is not read), as under 1:1.
 * Each traced case runs in a forked child with its stderr on a pipe.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "testutil.h"

#define URING (!strcmp(WEFT_PAL, "uring"))
#define NREAD 8

/* ---- A child with its stderr on a pipe ------------------------------- */

/* Runs fn in a child with WEFT_TRACE=trace (0: unset) and
 * WEFT_WORKERS=workers (0: unset); returns its stderr in buf and
 * asserts it exited 0. */
static void run_child(void (*fn)(void), const char *trace, const char *workers,
	char *buf, size_t size)
{
	int err[2];
	size_t got = 0;
	ssize_t n;
	assert_int_equal(pipe(err), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		child_init();
		dup2(err[1], 2);
		close(err[0]);
		close(err[1]);
		if (trace) setenv("WEFT_TRACE", trace, 1);
		else unsetenv("WEFT_TRACE");
		if (workers) setenv("WEFT_WORKERS", workers, 1);
		fn();
		_exit(thread_checks.n ? 1 : 0);
	}
	close(err[1]);
	buf[0] = 0;
	while (got + 1 < size && (n = read(err[0], buf + got, size - 1 - got)) > 0) {
		got += n;
		buf[got] = 0;
	}
	close(err[0]);
	int st = reap(pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fprintf(stderr, "child's stderr:\n%s\n", buf);
	assert_child_exited(st, 0);
}

/* The child's report of a failed CHECK (no cmocka in a child). */
static void child_report(void)
{
	if (thread_checks.n)
		fprintf(stderr, "child: line %d: %s (%lld vs %lld)\n",
			thread_checks.line, thread_checks.expr,
			thread_checks.a, thread_checks.b);
}

/* ---- Batched submission ---------------------------------------------- */

static int pipes[NREAD][2];

static void *reader(void *arg)
{
	int i = (int)(long)arg;
	char c = 0;
	CHECK_EQ(read(pipes[i][0], &c, 1), 1);
	CHECK_EQ(c, 'a' + i);
	return 0;
}

/* One worker: each reader runs at once when created, parks on its read
 * and hands the worker back to main (docs/differences.md, "A new thread
 * runs first"); main's join then sends the worker to its round, which
 * submits the reads together. */
static void batch_child(void)
{
	pthread_t t[NREAD];
	for (int i = 0; i < NREAD; i++) {
		CHECK_EQ(pipe(pipes[i]), 0);
		CHECK_EQ(pthread_create(&t[i], 0, reader, (void *)(long)i), 0);
	}
	for (int i = 0; i < NREAD; i++) {
		char c = 'a' + i;
		CHECK_EQ(write(pipes[i][1], &c, 1), 1);
	}
	for (int i = 0; i < NREAD; i++) CHECK_EQ(pthread_join(t[i], 0), 0);
	child_report();
}

/* The largest N of the trace's "submitted N entries in one enter". */
static long most_batched(const char *buf)
{
	long most = 0;
	for (const char *p = buf; (p = strstr(p, " submitted ")); p++) {
		long n = strtol(p + 11, 0, 10);
		if (n > most) most = n;
	}
	return most;
}

static void batched(void **state)
{
	char buf[8192];
	run_child(batch_child, "io", "1", buf, sizeof buf);
	if (URING) {
		assert_non_null(strstr(buf, "weft: uring: rings of "));
		assert_true(most_batched(buf) >= 2);
	} else {
		assert_null(strstr(buf, "weft: uring"));
	}
}

/* ---- Fallback when io_uring_setup fails ------------------------------- */


static int sv[2];

static void *echo(void *arg)
{
	char b[64];
	ssize_t n;
	while ((n = read(sv[1], b, sizeof b)) > 0)
		CHECK_EQ(write(sv[1], b, n), n);
	CHECK_EQ(n, 0);
	return 0;
}

/* Sockets, a pipe and a file from tasks. */
static void io_round(void)
{
	char b[64];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pthread_t t;
	CHECK_EQ(pthread_create(&t, 0, echo, 0), 0);
	for (int i = 0; i < 100; i++) {
		CHECK_EQ(send(sv[0], "ping", 4, 0), 4);
		CHECK_EQ(recv(sv[0], b, 4, MSG_WAITALL), 4);
		CHECK_EQ(memcmp(b, "ping", 4), 0);
	}
	CHECK_EQ(shutdown(sv[0], SHUT_WR), 0);
	CHECK_EQ(pthread_join(t, 0), 0);
	close(sv[0]);
	close(sv[1]);
	CHECK_EQ(pipe(pipes[0]), 0);
	CHECK_EQ(pthread_create(&t, 0, reader, 0), 0);
	CHECK_EQ(write(pipes[0][1], "a", 1), 1);
	CHECK_EQ(pthread_join(t, 0), 0);
	char path[] = "weft-uring-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	unlink(path);
	CHECK_EQ(write(fd, "file", 4), 4);
	CHECK_EQ(fsync(fd), 0);
	CHECK_EQ(pread(fd, b, 4, 0), 4);
	CHECK_EQ(memcmp(b, "file", 4), 0);
	close(fd);
}

static void *io_task(void *arg)
{
	io_round();
	return 0;
}

static long denied_nr;
static int denied_err;

static void fallback_child(void)
{
	pthread_t t;
	/* The parent's rings are gone in the child; deny new ones. */
	if (denied_nr && tu_seccomp_deny(denied_nr, denied_err)) _exit(3);
	CHECK_EQ(pthread_create(&t, 0, io_task, 0), 0);
	CHECK_EQ(pthread_join(t, 0), 0);
	child_report();
}

static void fallback(void **state)
{
	static const int errs[] = { EPERM, ENOSYS };
	char buf[8192];
	join(spawn(io_task, 0));	/* the parent has rings (uring) */
	for (size_t i = 0; i < NELEM(errs); i++) {
		denied_nr = SYS_io_uring_setup;
		denied_err = errs[i];
		run_child(fallback_child, "io", 0, buf, sizeof buf);
		if (URING) {
			assert_non_null(strstr(buf, "falling back to the epoll netpoller"));
			assert_non_null(strstr(buf, errs[i] == EPERM ? "EPERM" : "ENOSYS"));
		} else {
			assert_null(strstr(buf, "weft: uring"));
		}
		/* Without the trace knob: silent. */
		run_child(fallback_child, 0, 0, buf, sizeof buf);
		assert_null(strstr(buf, "weft: "));
	}
	/* And a child that may use io_uring: rings of its own. */
	denied_nr = 0;
	run_child(fallback_child, "io", 0, buf, sizeof buf);
	if (URING) assert_non_null(strstr(buf, "weft: uring: rings of "));
}

/* ---- Cancellation of a parked call ------------------------------------ */

static int cfd;
static sem_t started;

static void *park_read(void *arg)
{
	char b[16];
	int how = (int)(long)arg;
	sem_post(&started);
	if (how == 0) read(cfd, b, sizeof b);
	else if (how == 1) recv(cfd, b, sizeof b, 0);
	else accept(cfd, 0, 0);
	CHECK(0);	/* never returns: no data, no connection */
	return 0;
}

static void cancel(void **state)
{
	for (int how = 0; how < 3; how++) {
		for (int i = 0; i < 20; i++) {
			int s[2], l = -1;
			if (how < 2) {
				assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
				cfd = s[0];
			} else {
				l = socket(AF_UNIX, SOCK_STREAM, 0);
				assert_true(l >= 0);
				struct sockaddr sa = { .sa_family = AF_UNIX };
				/* An abstract address: autobind. */
				assert_int_equal(bind(l, &sa, sizeof(sa_family_t)), 0);
				assert_int_equal(listen(l, 1), 0);
				cfd = l;
			}
			sem_init(&started, 0, 0);
			pthread_t t = spawn(park_read, (void *)(long)how);
			sem_wait_long(&started);
			assert_int_equal(pthread_cancel(t), 0);
			assert_ptr_equal(join(t), PTHREAD_CANCELED);
			if (how < 2) {
				/* The cancelled read took nothing. */
				char b[16] = { 0 };
				assert_int_equal(write(s[1], "after", 5), 5);
				assert_int_equal(read(s[0], b, sizeof b), 5);
				assert_string_equal(b, "after");
				close(s[0]);
				close(s[1]);
			} else {
				close(l);
			}
		}
	}
	assert_thread_checks();
}

/* ---- Close of a busy fd -------------------------------------------- */

static char got[32];

static void *busy_reader(void *arg)
{
	ssize_t n;
	sem_post(&started);
	n = read(cfd, got, sizeof got - 1);
	if (n >= 0) got[n] = 0;
	else snprintf(got, sizeof got, "errno %d", errno);
	return 0;
}

/* After the close: the old socket is still open only if a call holds
 * it (its peer sees no hangup): as tests/conformance/fdreuse.c. */
static int old_file_open(int peer)
{
	struct pollfd p = { .fd = peer, .events = POLLOUT };
	return poll(&p, 1, 0) >= 0 && !(p.revents & (POLLHUP | POLLERR));
}

static void close_busy(void **state)
{
	int held = 0;
	for (int try = 0; try < 20 && !held; try++) {
		int o[2], n[2];
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, o), 0);
		cfd = o[0];
		got[0] = 0;
		sem_init(&started, 0, 0);
		pthread_t t = spawn(busy_reader, 0);
		sem_wait_long(&started);
		assert_int_equal(close(o[0]), 0);
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, n), 0);
		held = old_file_open(o[1]);
		if (held) {
			/* The number, reused, is never read by the parked call. */
			assert_int_equal(write(n[1], "NEW", 3), 3);
			assert_int_equal(write(o[1], "OLD", 3), 3);
			join(t);
			assert_string_equal(got, "OLD");
			char b[8] = { 0 };
			fcntl(n[0], F_SETFL, O_NONBLOCK);
			assert_int_equal(read(n[0], b, sizeof b), 3);
			assert_string_equal(b, "NEW");
		} else {
			/* The reader had not reached its read: it fails with
			 * EBADF or reads the new socket.  Again. */
			close(n[1]);
			join(t);
		}
		close(n[0]);
		if (held) close(n[1]);
		close(o[1]);
	}
	/* Not a failure if the reader never got there first (the output
	 * would not depend on the backend); but say so. */
	if (!held) print_message("close_busy: the reader never parked before the close\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(batched),
		cmocka_unit_test(fallback),
		cmocka_unit_test(cancel),
		cmocka_unit_test(close_busy),
	};
	return cmocka_run_group_tests_name("uring", tests, 0, 0);
}
