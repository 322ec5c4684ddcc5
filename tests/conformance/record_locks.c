/* fcntl record locks: F_SETLKW waits for a lock held by another process and
 * for an OFD lock held through another open file description in another
 * thread, while the rest of the process keeps running; F_SETLK reports the
 * conflict; F_GETLK names the holder; a blocked F_SETLKW is interrupted by
 * a signal handler (EINTR). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conform.h"

static char path[64] = "/tmp/conformance-locks-XXXXXX";

static int lk(int fd, int cmd, short type, off_t start, off_t len);
/* result and errno of one call, as text */
#define EN(call) ({ int r_ = (call); int e_ = errno; lk_en(r_, e_); })

static int lk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl;
	memset(&fl, 0, sizeof fl);
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = start;
	fl.l_len = len;
	return fcntl(fd, cmd, &fl);
}

/* a lock call's result (EAGAIN and EACCES both mean a conflict) */
static const char *lk_en(int r, int e)
{
	if (r == 0) return "0";
	if (e == EAGAIN || e == EACCES) return "EAGAIN/EACCES";
	if (e == EINTR) return "EINTR";
	if (e == EDEADLK) return "EDEADLK";
	return "other error";
}

static volatile sig_atomic_t alrm;
static void on_alrm(int s)
{
	(void)s;
	if (++alrm > 25) { /* 5 s of 200 ms ticks and still blocked */
		static const char m[] = "F_SETLKW not interrupted after 5 s\n";
		write(1, m, sizeof m - 1);
		_exit(3);
	}
}

struct arg { int fd, r, e; };
static void *same_proc_locker(void *p)
{
	struct arg *x = p;
	x->r = lk(x->fd, F_SETLKW, F_WRLCK, 0, 10);
	x->e = errno;
	return 0;
}

/* --- OFD locks between threads --- */
static int ofd1, ofd2, tpipe[2];
static volatile int t_ret = -9, t_saw = -1;
static char shared_mark;

static void *ofd_waiter(void *a)
{
	(void)a;
	write(tpipe[1], "w", 1);          /* about to wait */
	int r = lk(ofd2, F_OFD_SETLKW, F_WRLCK, 0, 10);
	t_ret = r ? errno : 0;
	t_saw = shared_mark == 'M';       /* main set it before unlocking */
	lk(ofd2, F_OFD_SETLK, F_UNLCK, 0, 10);
	return 0;
}

/* --- process lock wait while another thread of the waiting process runs --- */
static int ctl[2];
static void *unlocker_thread(void *a)
{
	(void)a;
	/* tell the child (holder) to release: must run while the other thread
	 * of this process is blocked in F_SETLKW */
	write(ctl[1], "u", 1);
	return 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	watchdog(10);
	alarm(60);
	int fd = mkstemp(path);
	if (fd < 0) { puts("mkstemp failed"); return 1; }
	/* nothing left behind even if killed: reopen through /proc from now on */
	unlink(path);
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	write(fd, "..........", 10);

	/* 1. parent holds a write lock; child probes, then waits */
	{
		int p[2];
		pipe(p);
		printf("parent F_SETLK write [0,10): %s\n", EN(lk(fd, F_SETLK, F_WRLCK, 0, 10)));
		pid_t pid = fork();
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			int cfd = open(path, O_RDWR);
			int r = lk(cfd, F_SETLK, F_WRLCK, 0, 10);
			int e = errno;
			struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1 };
			fcntl(cfd, F_GETLK, &fl);
			int holder_ok = fl.l_type == F_WRLCK && fl.l_pid == getppid();
			int r2 = lk(cfd, F_SETLK, F_WRLCK, 20, 10); /* no conflict there */
			char res[4] = { r == 0 ? '0' : (e == EAGAIN || e == EACCES) ? 'A' : 'x',
					holder_ok ? 'H' : 'h', r2 == 0 ? '0' : 'x', 0 };
			write(p[1], res, 3);
			r = lk(cfd, F_SETLKW, F_WRLCK, 0, 10);
			char buf[10] = { 0 };
			pread(cfd, buf, 1, 0);
			res[0] = r == 0 ? '0' : 'x';
			res[1] = buf[0]; /* 'P' if the parent wrote before unlocking */
			write(p[1], res, 2);
			_exit(0);
		}
		char res[4] = { 0 };
		read(p[0], res, 3);
		printf("child F_SETLK on it: %s\n", res[0] == 'A' ? "EAGAIN/EACCES" : res[0] == '0' ? "0" : "other");
		printf("child F_GETLK names parent as holder: %s\n", res[1] == 'H' ? "yes" : "no");
		printf("child F_SETLK on a free range: %s\n", res[2] == '0' ? "0" : "failed");
		/* the child is now entering F_SETLKW; let it block (not needed for the result) */
		usleep(100000);
		pwrite(fd, "P", 1, 0);
		lk(fd, F_SETLK, F_UNLCK, 0, 10);
		memset(res, 0, sizeof res);
		read(p[0], res, 2);
		printf("child F_SETLKW: %s, returned after parent's unlock: %s\n",
		       res[0] == '0' ? "0" : "failed", res[1] == 'P' ? "yes" : "no");
		int s;
		waitpid(pid, &s, 0);
		close(p[0]); close(p[1]);
	}

	/* 2. child holds the lock; a parent thread waits in F_SETLKW while a
	 * second parent thread tells the child to release it */
	{
		int ready[2];
		pipe(ready); pipe(ctl);
		pid_t pid = fork();
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(ctl[1]);
			int cfd = open(path, O_RDWR);
			lk(cfd, F_SETLK, F_WRLCK, 0, 10);
			write(ready[1], "r", 1);
			char c;
			read(ctl[0], &c, 1);
			pwrite(cfd, "C", 1, 0);
			lk(cfd, F_SETLK, F_UNLCK, 0, 10);
			_exit(0);
		}
		char c;
		read(ready[0], &c, 1);
		pthread_t t;
		pthread_create(&t, 0, unlocker_thread, 0);
		int r = lk(fd, F_SETLKW, F_WRLCK, 0, 10);
		int e = errno;
		char buf[2] = { 0 };
		pread(fd, buf, 1, 0);
		printf("parent F_SETLKW on child's lock, other thread runs meanwhile: %s, after child's unlock: %s\n",
		       lk_en(r, e), buf[0] == 'C' ? "yes" : "no");
		pthread_join(t, 0);
		lk(fd, F_SETLK, F_UNLCK, 0, 10);
		int s;
		waitpid(pid, &s, 0);
	}

	/* 3. locks are per process: another thread of the same process is not blocked */
	{
		lk(fd, F_SETLK, F_WRLCK, 0, 10);
		pthread_t t;
		struct arg a = { fd, -1, 0 };
		pthread_create(&t, 0, same_proc_locker, &a);
		pthread_join(t, 0);
		printf("same-process thread F_SETLKW on a held range: %s\n", lk_en(a.r, a.e));
		lk(fd, F_SETLK, F_UNLCK, 0, 10);
	}

	/* 4. OFD locks conflict between two open file descriptions, thread to thread */
	{
		ofd1 = open(path, O_RDWR);
		ofd2 = open(path, O_RDWR);
		pipe(tpipe);
		printf("thread A F_OFD_SETLK: %s\n", EN(lk(ofd1, F_OFD_SETLK, F_WRLCK, 0, 10)));
		printf("F_OFD_SETLK via second description: %s\n", EN(lk(ofd2, F_OFD_SETLK, F_WRLCK, 0, 10)));
		pthread_t t;
		pthread_create(&t, 0, ofd_waiter, 0);
		char c;
		read(tpipe[0], &c, 1);
		usleep(100000); /* let it block (not needed for the result) */
		shared_mark = 'M';
		lk(ofd1, F_OFD_SETLK, F_UNLCK, 0, 10);
		pthread_join(t, 0);
		printf("thread B F_OFD_SETLKW: %s, returned after A's unlock: %s\n",
		       lk_en(t_ret ? -1 : 0, t_ret), t_saw == 1 ? "yes" : "no");
	}

	/* 5. a blocked F_SETLKW is interrupted by a handler without SA_RESTART */
	{
		struct sigaction sa = { .sa_handler = on_alrm };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, 0);
		int ready[2], done[2];
		pipe(ready); pipe(done);
		pid_t pid = fork();
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(done[1]);
			int cfd = open(path, O_RDWR);
			lk(cfd, F_SETLK, F_WRLCK, 0, 10);
			write(ready[1], "r", 1);
			char c;
			read(done[0], &c, 1);
			_exit(0);
		}
		char c;
		read(ready[0], &c, 1);
		struct itimerval it = { { 0, 200000 }, { 0, 200000 } };
		setitimer(ITIMER_REAL, &it, 0);
		int r = lk(fd, F_SETLKW, F_WRLCK, 0, 10);
		int e = errno;
		memset(&it, 0, sizeof it);
		setitimer(ITIMER_REAL, &it, 0);
		printf("F_SETLKW interrupted by SIGALRM: %s, handler ran: %s\n", lk_en(r, e), alrm ? "yes" : "no");
		write(done[1], "d", 1);
		int s;
		waitpid(pid, &s, 0);
	}
	return 0;
}
