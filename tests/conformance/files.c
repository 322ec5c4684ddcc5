/* Regular files from a thread (under epoll: RWF_NOWAIT reads and Linux
 * AIO, pal/epoll/file.c): fsync and fdatasync of a file, a directory, a
 * pipe, a socket and bad fds; read, readv, pread, preadv and stdio with
 * all, part or none of the file in the page cache (counts, data, file
 * position); their errors; O_DIRECT pread/pwrite; fsync while signals
 * arrive; fsync in a fork child; no fd of the backend's (the AIO
 * eventfd) survives an exec. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conform.h"

#define BLK 4096
#define NB 16

static char w[NB * BLK], r[NB * BLK + 64];

/* result and errno as text */
static const char *re(long k)
{
	static char b[64];
	if (k >= 0) snprintf(b, sizeof b, "%ld", k);
	else snprintf(b, sizeof b, "-1 %s", en(errno));
	return b;
}

static int temp(int flags)
{
	static const char *dirs[] = { ".", "/var/tmp" };
	for (int i = 0; i < 2; i++) {
		char path[256];
		snprintf(path, sizeof path, "%s/conformance-files-XXXXXX", dirs[i]);
		int fd = mkostemp(path, flags);
		if (fd >= 0) {
			unlink(path);
			return fd;
		}
	}
	return -1;
}

static void syncs(void)
{
	int p[2], s[2], fd = temp(0);
	pipe(p);
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	write(fd, w, BLK);
	printf("fsync file: %s\n", re(fsync(fd)));
	printf("fdatasync file: %s\n", re(fdatasync(fd)));
	int d = open(".", O_RDONLY | O_DIRECTORY);
	printf("fsync dir: %s\n", re(fsync(d)));
	printf("fsync pipe: %s\n", re(fsync(p[0])));
	printf("fdatasync pipe: %s\n", re(fdatasync(p[1])));
	printf("fsync socket: %s\n", re(fsync(s[0])));
	printf("fsync -1: %s\n", re(fsync(-1)));
	int c = dup(fd);
	close(c);
	printf("fsync closed: %s\n", re(fsync(c)));
	printf("fdatasync closed: %s\n", re(fdatasync(c)));
	close(d), close(fd), close(p[0]), close(p[1]), close(s[0]), close(s[1]);
}

/* Leave the file's bytes from `from` on out of the page cache (the
 * rest in): drop it all, then read the first part back without
 * readahead.  (Dropping only a range can miss: a large folio holds
 * both halves.) */
static void drop(int fd, off_t from)
{
	static char scratch[NB * BLK];
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	if (from) pread(fd, scratch, from, 0);
	posix_fadvise(fd, 0, 0, POSIX_FADV_NORMAL);
}

static void reads(void)
{
	int fd = temp(0);
	for (size_t i = 0; i < sizeof w; i++) w[i] = (char)(i * 7 + i / 4096);
	write(fd, w, sizeof w);
	fdatasync(fd);
	static const char *how[] = { "cached", "half", "none" };
	for (int k = 0; k < 3; k++) {
		off_t from = k == 1 ? NB / 2 * BLK : 0;
		if (k) drop(fd, from);
		lseek(fd, 0, SEEK_SET);
		memset(r, 0, sizeof r);
		long n = read(fd, r, sizeof r);
		printf("%s: read %s same %d", how[k], re(n), !memcmp(r, w, sizeof w));
		printf(" then %s", re(read(fd, r, 10)));
		printf(" pos %ld\n", (long)lseek(fd, 0, SEEK_CUR));
		if (k) drop(fd, from);
		lseek(fd, 3, SEEK_SET);
		struct iovec v[3] = { { r, 1 }, { r + 1, NB / 2 * BLK }, { r + 1 + NB / 2 * BLK, 2 * BLK + 5 } };
		n = readv(fd, v, 3);
		printf("%s: readv %s same %d pos %ld\n", how[k], re(n),
			!memcmp(r, w + 3, n > 0 ? n : 0), (long)lseek(fd, 0, SEEK_CUR));
		if (k) drop(fd, from);
		n = pread(fd, r, 3 * BLK, NB / 2 * BLK - 1);
		printf("%s: pread %s same %d", how[k], re(n), !memcmp(r, w + NB / 2 * BLK - 1, 3 * BLK));
		printf(" end %s", re(pread(fd, r, BLK, sizeof w - 3)));
		printf(" past %s", re(pread(fd, r, BLK, sizeof w + 1)));
		struct iovec pv[2] = { { r, 7 }, { r + 7, sizeof w } };
		n = preadv(fd, pv, 2, 2);
		printf(" preadv %s same %d pos %ld\n", re(n), !memcmp(r, w + 2, sizeof w - 2),
			(long)lseek(fd, 0, SEEK_CUR));
		if (k) drop(fd, from);
		char path[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		FILE *f = fopen(path, "r");
		size_t m = 0, got;
		while ((got = fread(r, 1, 1000, f)) > 0) m += got;
		printf("%s: fread %zu eof %d\n", how[k], m, feof(f));
		fclose(f);
	}
	printf("pread -1: %s\n", re(pread(fd, r, 10, -1)));
	volatile size_t huge = (size_t)-1 / 2 + 1;	/* past SSIZE_MAX */
	printf("read huge count: %s\n", re(read(fd, r, huge)));
	printf("pread huge count: %s\n", re(pread(fd, r, huge, 0)));
	int p[2];
	pipe(p);
	printf("pread pipe: %s\n", re(pread(p[0], r, 10, 0)));
	int d = open(".", O_RDONLY | O_DIRECTORY);
	printf("read dir: %s\n", re(read(d, r, 10)));
	printf("pread dir: %s\n", re(pread(d, r, 10, 0)));
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int wo = open(path, O_WRONLY);
	printf("read wronly: %s\n", re(read(wo, r, 10)));
	printf("preadv wronly: %s\n", re(preadv(wo, &(struct iovec){ r, 10 }, 1, 0)));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	printf("pread O_NONBLOCK: %s\n", re(pread(fd, r, BLK, 0)));
	close(wo), close(d), close(p[0]), close(p[1]), close(fd);
}

static void direct(void)
{
	int fd = temp(O_DIRECT);
	char *a, *b;
	posix_memalign((void **)&a, BLK, 4 * BLK);
	posix_memalign((void **)&b, BLK, 4 * BLK);
	memcpy(a, w, 4 * BLK);
	long n = fd < 0 ? -1 : pwrite(fd, a, 4 * BLK, 0);
	if (n < 0) {
		/* tmpfs and a few others refuse O_DIRECT: the same either way */
		printf("direct: refused\n");
		return;
	}
	printf("direct pwrite: %s\n", re(n));
	struct iovec v[2] = { { a, BLK }, { a + BLK, BLK } };
	printf("direct pwritev: %s\n", re(pwritev(fd, v, 2, 4 * BLK)));
	printf("direct fdatasync: %s\n", re(fdatasync(fd)));
	memset(b, 0, 4 * BLK);
	n = pread(fd, b, 4 * BLK, 2 * BLK);
	printf("direct pread: %s same %d\n", re(n), !memcmp(b, w + 2 * BLK, 2 * BLK) &&
		!memcmp(b + 2 * BLK, w, 2 * BLK));
	struct iovec rv[2] = { { b, BLK }, { b + BLK, 3 * BLK } };
	printf("direct preadv end: %s\n", re(preadv(fd, rv, 2, 3 * BLK)));
	printf("direct pread past: %s\n", re(pread(fd, b, BLK, 6 * BLK)));
	printf("direct pread misaligned buffer: %s\n", re(pread(fd, b + 1, BLK, 0)));
	printf("direct pwrite misaligned offset: %s\n", re(pwrite(fd, a, BLK, 5)));
	printf("direct pread -4096: %s\n", re(pread(fd, b, BLK, -BLK)));
	printf("direct read: %s", re(read(fd, b, BLK)));
	printf(" pos %ld\n", (long)lseek(fd, 0, SEEK_CUR));
	close(fd);
}

static sem_t handled;
static volatile int nsig;
static void on_usr1(int s) { (void)s; nsig++; sem_post(&handled); }

static volatile int stop;
static void *fsyncer(void *arg)
{
	int fd = *(int *)arg, bad = 0;
	for (int i = 0; !stop; i++) {
		pwrite(fd, w, BLK, (i % 8) * BLK);
		if (fsync(fd)) bad++;
	}
	return (void *)(long)bad;
}

static void signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;	/* no SA_RESTART */
	sigaction(SIGUSR1, &sa, 0);
	sem_init(&handled, 0, 0);
	int fd = temp(0);
	pthread_t t;
	void *bad;
	pthread_create(&t, 0, fsyncer, &fd);
	for (int i = 0; i < 50; i++) {
		pthread_kill(t, SIGUSR1);
		sem_wait(&handled);
	}
	stop = 1;
	pthread_join(t, &bad);
	printf("fsync under signals: handlers %d, failures %ld\n", nsig, (long)bad);
	close(fd);
}

static char base[16];	/* open fds beyond stdio as the program started */

static void *main_task(void *arg)
{
	(void)arg;
	syncs();
	reads();
	direct();
	signals();
	fflush(stdout);
	pid_t pid = fork();
	if (!pid) {
		int fd = temp(0);
		write(fd, w, BLK);
		printf("child fsync: %s\n", re(fsync(fd)));
		printf("child fdatasync: %s\n", re(fdatasync(fd)));
		fflush(stdout);
		_exit(0);
	}
	int st;
	wait_bounded(pid, &st);
	printf("child: %s\n", wait_status(st, "exited", "signaled"));
	fflush(stdout);
	if (!(pid = fork())) {
		char *args[] = { "files", "fds", base, 0 };
		execve("/proc/self/exe", args, environ);
		_exit(127);
	}
	wait_bounded(pid, &st);
	printf("exec child: %s\n", wait_status(st, "exited", "signaled"));
	return 0;
}

/* Re-executed: the fds it inherited beyond stdio (the backend's
 * epoll fd and eventfds, the AIO one included, are close-on-exec). */
static int open_fds(void)
{
	int n = 0;
	for (int fd = 3; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0) n++;
	return n;
}

static int inherited(const char *b)
{
	printf("exec child: %d fds more than the parent started with\n",
		open_fds() - atoi(b));
	return 0;
}

extern char **environ;

int main(int argc, char **argv)
{
	pthread_t t;
	if (argc > 2 && !strcmp(argv[1], "fds")) return inherited(argv[2]);
	snprintf(base, sizeof base, "%d", open_fds());
	watchdog(60);
	pthread_create(&t, 0, main_task, 0);
	pthread_join(t, 0);
	return 0;
}
