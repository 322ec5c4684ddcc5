/*
 * Regular files from threads: under the M:N backend reads try the page
 * cache first (preadv2 RWF_NOWAIT), and fsync, fdatasync and O_DIRECT
 * pread/pwrite park the task on Linux AIO (pal/epoll/file.c, aio.c);
 * the program sees read(2), pread(2), fsync(2) and O_DIRECT unchanged.
 * Every test also runs on the native backend, where the kernel
 * provides them.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include "testutil.h"

#define BLK 4096

/* A new empty file in the build directory (the tests' cwd) or /var/tmp,
 * unlinked; with O_DIRECT in flags, one where the filesystem takes it
 * (-1 if none does). */
static int temp_file(int flags)
{
	static const char *dirs[] = { ".", "/var/tmp" };
	for (size_t i = 0; i < NELEM(dirs); i++) {
		char path[256];
		snprintf(path, sizeof path, "%s/weft-files-XXXXXX", dirs[i]);
		int fd = mkostemp(path, flags & ~O_ACCMODE);
		if (fd < 0) continue;
		unlink(path);
		return fd;
	}
	return -1;
}

static void fill(char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) p[i] = (char)(seed * 31 + i * 7);
}

/* ---- fsync, fdatasync ------------------------------------------------- */

static void *sync_task(void *arg)
{
	int fd = temp_file(0);
	char w[3 * BLK], r[3 * BLK];
	CHECK(fd >= 0);
	fill(w, sizeof w, 1);
	CHECK_EQ(write(fd, w, sizeof w), sizeof w);
	CHECK_EQ(fsync(fd), 0);
	CHECK_EQ(pwrite(fd, w, BLK, 3 * BLK), BLK);
	CHECK_EQ(fdatasync(fd), 0);
	/* What the syncs wrote back, through another description. */
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int fd2 = open(path, O_RDONLY);
	CHECK(fd2 >= 0);
	CHECK_EQ(pread(fd2, r, sizeof r, 0), sizeof r);
	CHECK(!memcmp(r, w, sizeof r));
	CHECK_EQ(pread(fd2, r, 2 * BLK, 3 * BLK), BLK);
	CHECK(!memcmp(r, w, BLK));
	struct stat st;
	CHECK_EQ(fstat(fd2, &st), 0);
	CHECK_EQ(st.st_size, 4 * BLK);
	close(fd2);
	close(fd);
	return 0;
}

static void sync_file(void **state)
{
	join(spawn(sync_task, 0));
	assert_thread_checks();
}

static void *sync_errors_task(void *arg)
{
	int p[2], s[2];
	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
	int fds[] = { p[0], p[1], s[0] };
	for (size_t i = 0; i < NELEM(fds); i++) {
		errno = 0;
		CHECK_EQ(fsync(fds[i]), -1);
		CHECK_EQ(errno, EINVAL);
		errno = 0;
		CHECK_EQ(fdatasync(fds[i]), -1);
		CHECK_EQ(errno, EINVAL);
	}
	int closed = dup(p[0]);
	close(closed);
	int bad[] = { -1, closed, 1 << 20 };
	for (size_t i = 0; i < NELEM(bad); i++) {
		errno = 0;
		CHECK_EQ(fsync(bad[i]), -1);
		CHECK_EQ(errno, EBADF);
		errno = 0;
		CHECK_EQ(fdatasync(bad[i]), -1);
		CHECK_EQ(errno, EBADF);
	}
	/* A directory has fsync. */
	int d = open(".", O_RDONLY | O_DIRECTORY);
	CHECK(d >= 0);
	CHECK_EQ(fsync(d), 0);
	close(d);
	close(p[0]), close(p[1]), close(s[0]), close(s[1]);
	return 0;
}

/* fsync on a pipe or socket is EINVAL, on a bad fd EBADF, as natively. */
static void sync_errors(void **state)
{
	join(spawn(sync_errors_task, 0));
	assert_thread_checks();
}

/* ---- Reads: the page cache, part of it, none of it --------------------- */

#define RBLKS 16

/* Leave the file's bytes from `from` on out of the page cache (the
 * rest in): drop it all, then read the first part back without
 * readahead.  (Dropping only a range can miss: a large folio holds
 * both halves.) */
static void drop(int fd, off_t from)
{
	static char scratch[RBLKS * BLK];
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	if (from) CHECK_EQ(pread(fd, scratch, from, 0), from);
	posix_fadvise(fd, 0, 0, POSIX_FADV_NORMAL);
}

static void *read_task(void *arg)
{
	int fd = temp_file(0);
	static char w[RBLKS * BLK], r[RBLKS * BLK + 100];
	CHECK(fd >= 0);
	fill(w, sizeof w, 2);
	CHECK_EQ(write(fd, w, sizeof w), sizeof w);
	CHECK_EQ(fdatasync(fd), 0);
	for (int round = 0; round < 3; round++) {
		/* round 0: all cached; 1: the second half dropped (a
		 * page-cache read stops part way); 2: all dropped. */
		if (round) drop(fd, round == 1 ? RBLKS / 2 * BLK : 0);
		/* read: the whole file at once, then the end. */
		CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
		memset(r, 0, sizeof r);
		CHECK_EQ(read(fd, r, sizeof r), sizeof w);
		CHECK(!memcmp(r, w, sizeof w));
		CHECK_EQ(read(fd, r, sizeof r), 0);
		CHECK_EQ(lseek(fd, 0, SEEK_CUR), sizeof w);
		if (round) drop(fd, round == 1 ? RBLKS / 2 * BLK : 0);
		/* readv, the buffers split across the dropped half. */
		CHECK_EQ(lseek(fd, 100, SEEK_SET), 100);
		memset(r, 0, sizeof r);
		struct iovec v[3] = {
			{ r, 5 }, { r + 5, RBLKS / 2 * BLK + 1000 }, { r + 5 + RBLKS / 2 * BLK + 1000, BLK },
		};
		size_t want = 5 + RBLKS / 2 * BLK + 1000 + BLK;
		CHECK_EQ(readv(fd, v, 3), want);
		CHECK(!memcmp(r, w + 100, want));
		CHECK_EQ(lseek(fd, 0, SEEK_CUR), 100 + want);
		if (round) drop(fd, round == 1 ? RBLKS / 2 * BLK : 0);
		/* pread, preadv: the position stays; a short count only at
		 * the end. */
		memset(r, 0, sizeof r);
		CHECK_EQ(pread(fd, r, 3 * BLK, RBLKS / 2 * BLK - 10), 3 * BLK);
		CHECK(!memcmp(r, w + RBLKS / 2 * BLK - 10, 3 * BLK));
		CHECK_EQ(pread(fd, r, 3 * BLK, sizeof w - 10), 10);
		CHECK_EQ(pread(fd, r, 3 * BLK, sizeof w), 0);
		struct iovec pv[2] = { { r, BLK }, { r + BLK, sizeof w } };
		CHECK_EQ(preadv(fd, pv, 2, 1), sizeof w - 1);
		CHECK(!memcmp(r, w + 1, sizeof w - 1));
		CHECK_EQ(lseek(fd, 0, SEEK_CUR), 100 + want);
	}
	errno = 0;
	CHECK_EQ(pread(fd, r, 10, -1), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(pread(fd, r, 10, -2), -1);
	CHECK_EQ(errno, EINVAL);
	/* Opened write-only: EBADF, as natively. */
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int wo = open(path, O_WRONLY);
	errno = 0;
	CHECK_EQ(read(wo, r, 10), -1);
	CHECK_EQ(errno, EBADF);
	errno = 0;
	CHECK_EQ(pread(wo, r, 10, 0), -1);
	CHECK_EQ(errno, EBADF);
	close(wo);
	/* A directory: EISDIR. */
	int d = open(".", O_RDONLY | O_DIRECTORY);
	errno = 0;
	CHECK_EQ(read(d, r, 10), -1);
	CHECK_EQ(errno, EISDIR);
	close(d);
	/* O_NONBLOCK set by the program changes nothing for a file. */
	CHECK_EQ(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	CHECK_EQ(pread(fd, r, BLK, 0), BLK);
	CHECK(!memcmp(r, w, BLK));
	close(fd);
	/* A device without RWF_NOWAIT (remembered per fd). */
	int z = open("/dev/zero", O_RDONLY);
	for (int i = 0; i < 3; i++) {
		memset(r, 1, 100);
		CHECK_EQ(read(z, r, 100), 100);
		CHECK(!r[0] && !r[99]);
	}
	close(z);
	return 0;
}

static void reads(void **state)
{
	join(spawn(read_task, 0));
	assert_thread_checks();
}

/* ---- O_DIRECT ------------------------------------------------------------ */

static void *direct_task(void *arg)
{
	int *skipped = arg;
	int fd = temp_file(O_DIRECT);
	if (fd < 0) {
		*skipped = 1;
		return 0;
	}
	char *w = 0, *r = 0;
	CHECK_EQ(posix_memalign((void **)&w, BLK, 4 * BLK), 0);
	CHECK_EQ(posix_memalign((void **)&r, BLK, 4 * BLK), 0);
	fill(w, 4 * BLK, 3);
	errno = 0;
	ssize_t k = pwrite(fd, w, 2 * BLK, 0);
	if (k < 0 && errno == EINVAL) {	/* the filesystem refuses O_DIRECT */
		*skipped = 1;
		goto out;
	}
	CHECK_EQ(k, 2 * BLK);
	struct iovec v[2] = { { w + 2 * BLK, BLK }, { w + 3 * BLK, BLK } };
	CHECK_EQ(pwritev(fd, v, 2, 2 * BLK), 2 * BLK);
	CHECK_EQ(fdatasync(fd), 0);
	memset(r, 0, 4 * BLK);
	CHECK_EQ(pread(fd, r, 4 * BLK, 0), 4 * BLK);
	CHECK(!memcmp(r, w, 4 * BLK));
	memset(r, 0, 4 * BLK);
	struct iovec rv[2] = { { r, BLK }, { r + BLK, 3 * BLK } };
	CHECK_EQ(preadv(fd, rv, 2, BLK), 3 * BLK);	/* short: the end */
	CHECK(!memcmp(r, w + BLK, 3 * BLK));
	CHECK_EQ(pread(fd, r, BLK, 4 * BLK), 0);
	/* The position is not used, and read/write at it work too. */
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0);
	CHECK_EQ(read(fd, r, BLK), BLK);
	CHECK(!memcmp(r, w, BLK));
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), BLK);
	errno = 0;
	CHECK_EQ(pread(fd, r, BLK, -BLK), -1);
	CHECK_EQ(errno, EINVAL);
	/* Misaligned: the kernel's EINVAL, from the completion. */
	errno = 0;
	CHECK_EQ(pread(fd, r + 1, BLK, 0), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(pwrite(fd, w, BLK, 1), -1);
	CHECK_EQ(errno, EINVAL);
out:
	free(w);
	free(r);
	close(fd);
	return 0;
}

static void direct(void **state)
{
	int skipped = 0;
	join(spawn(direct_task, &skipped));
	assert_thread_checks();
	if (skipped) {
		print_message("O_DIRECT refused in . and /var/tmp: skipped\n");
		skip();
	}
}

/* ---- Many syncs while another task runs ------------------------------- */

#define SYNCERS 32
#define MAX_ROUNDS 1000

static volatile long counter;
static volatile int stop, moved;
static int sync_fd;

static void *counting(void *arg)
{
	while (!aload(&stop)) astore(&counter, counter + 1);
	return 0;
}

/* Append a block and fdatasync it, round after round, until one of the
 * syncers has seen the counter move while it was in fdatasync. */
static void *syncer(void *arg)
{
	int id = (int)(long)arg;
	char b[BLK];
	for (int round = 0; round < MAX_ROUNDS && !aload(&moved); round++) {
		memset(b, 0, sizeof b);
		b[0] = id;
		memcpy(b + 1, &round, sizeof round);
		CHECK_EQ(write(sync_fd, b, BLK), BLK);
		long c0 = aload(&counter);
		CHECK_EQ(fdatasync(sync_fd), 0);
		if (aload(&counter) != c0) astore(&moved, 1);
	}
	return 0;
}

static void many_syncs(void **state)
{
	pthread_t c, t[SYNCERS];
	sync_fd = temp_file(0);
	assert_true(sync_fd >= 0);
	assert_int_equal(fcntl(sync_fd, F_SETFL, O_APPEND), 0);
	stop = moved = 0;
	c = spawn(counting, 0);
	for (int i = 0; i < SYNCERS; i++) t[i] = spawn(syncer, (void *)(long)i);
	for (int i = 0; i < SYNCERS; i++) join(t[i]);
	astore(&stop, 1);
	join(c);
	assert_thread_checks();
	assert_true(moved);
	/* Every block whole, each writer's rounds in order. */
	struct stat st;
	assert_int_equal(fstat(sync_fd, &st), 0);
	assert_int_equal(st.st_size % BLK, 0);
	int next[SYNCERS] = { 0 };
	char b[BLK], zero[BLK] = { 0 };
	for (off_t off = 0; off < st.st_size; off += BLK) {
		int round;
		assert_int_equal(pread(sync_fd, b, BLK, off), BLK);
		assert_in_range(b[0], 0, SYNCERS - 1);
		memcpy(&round, b + 1, sizeof round);
		assert_int_equal(round, next[(int)b[0]]++);
		assert_memory_equal(b + 1 + sizeof round, zero, BLK - 1 - sizeof round);
	}
	close(sync_fd);
}

/* ---- Signals and cancellation during fsync ----------------------------- */

static sem_t handled;
static volatile int sig_stop;

static void on_usr1(int sig)
{
	sem_post(&handled);
}

static void *fsync_loop(void *arg)
{
	int fd = *(int *)arg, n = 0;
	char b[BLK] = { 1 };
	while (!aload(&sig_stop)) {
		CHECK_EQ(pwrite(fd, b, BLK, (n++ % 64) * BLK), BLK);
		CHECK_EQ(fsync(fd), 0);	/* never EINTR */
	}
	return 0;
}

static void fsync_signals(void **state)
{
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	int fd = temp_file(0);
	assert_true(fd >= 0);
	sem_init(&handled, 0, 0);
	sigaction(SIGUSR1, &sa, 0);
	sig_stop = 0;
	pthread_t t = spawn(fsync_loop, &fd);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(pthread_kill(t, SIGUSR1), 0);
		sem_wait_long(&handled);
	}
	astore(&sig_stop, 1);
	join(t);
	signal(SIGUSR1, SIG_DFL);
	close(fd);
	assert_thread_checks();
}

static void *fsync_forever(void *arg)
{
	int fd = *(int *)arg;
	char b[BLK] = { 1 };
	for (int n = 0;; n++) {
		CHECK_EQ(pwrite(fd, b, BLK, (n % 64) * BLK), BLK);
		CHECK_EQ(fsync(fd), 0);
	}
	return 0;
}

/* fsync is a cancellation point; a request that comes while it waits
 * acts once it has returned (at the next one). */
static void fsync_cancel(void **state)
{
	int fd = temp_file(0);
	assert_true(fd >= 0);
	for (int i = 0; i < 20; i++) {
		pthread_t t = spawn(fsync_forever, &fd);
		assert_int_equal(pthread_cancel(t), 0);
		assert_ptr_equal(join(t), PTHREAD_CANCELED);
	}
	close(fd);
	assert_thread_checks();
}

/* ---- No AIO: fork, seccomp --------------------------------------------- */


/* In a child, after the parent's tasks used AIO: deny nr (0: nothing)
 * with err, then fsync, fdatasync and O_DIRECT I/O from threads. */
static void child_syncs(long nr, int err)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		child_init();
		if (nr && tu_seccomp_deny(nr, err)) _exit(3);
		/* No cmocka assertions in the child (testutil.h). */
		for (int i = 0; i < 3; i++) {
			int skipped = 0;
			pthread_t t;
			if (pthread_create(&t, 0, sync_task, 0) || pthread_join(t, 0) ||
			    pthread_create(&t, 0, direct_task, &skipped) || pthread_join(t, 0))
				_exit(4);
		}
		if (thread_checks.n)
			fprintf(stderr, "child: line %d: %s (%lld vs %lld)\n",
				thread_checks.line, thread_checks.expr,
				thread_checks.a, thread_checks.b);
		_exit(thread_checks.n ? 1 : 0);
	}
	assert_child_exited(reap(pid), 0);
}

static void fork_child(void **state)
{
	join(spawn(sync_task, 0));	/* the parent has a context */
	child_syncs(0, 0);
}

static void no_io_setup(void **state)
{
	join(spawn(sync_task, 0));
	child_syncs(SYS_io_setup, ENOSYS);
	child_syncs(SYS_io_setup, EPERM);
	child_syncs(SYS_io_setup, EAGAIN);
}

static void no_io_submit(void **state)
{
	child_syncs(SYS_io_submit, EPERM);
	child_syncs(SYS_io_submit, EAGAIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sync_file),
		cmocka_unit_test(sync_errors),
		cmocka_unit_test(reads),
		cmocka_unit_test(direct),
		cmocka_unit_test(many_syncs),
		cmocka_unit_test(fsync_signals),
		cmocka_unit_test(fsync_cancel),
		cmocka_unit_test(fork_child),
		cmocka_unit_test(no_io_setup),
		cmocka_unit_test(no_io_submit),
	};

	return cmocka_run_group_tests_name("files", tests, 0, 0);
}
