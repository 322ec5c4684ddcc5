/* Signals still work after posix_spawn and vfork: a raise(SIGINT) with a
 * handler runs the handler (program with a helper thread), after a vfork
 * whose child restores its signal mask and execs, and after a plain fork;
 * and select(30 s) after a posix_spawn is interrupted by alarm(1). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conform.h"

extern char **environ;
static volatile sig_atomic_t hits, alrm;
static void on_int(int s) { (void)s; hits++; }
static void on_alrm(int s) { (void)s; alrm++; }
static int hp[2];

static void *helper(void *a)
{
	char c;
	(void)a;
	while (read(hp[0], &c, 1) < 0 && errno == EINTR) ; /* parked until main ends it */
	return 0;
}

static const char *status(int s) { return wait_status(s, "exited", "killed by"); }

static void check_raise(const char *what)
{
	sigset_t m, p;
	int before = hits;
	raise(SIGINT);
	int now = hits - before;
	sigprocmask(SIG_SETMASK, 0, &m);
	sigpending(&p);
	printf("%s: raise(SIGINT) ran handler: %s; SIGINT blocked: %s, pending: %s\n", what,
	       now == 1 ? "yes" : now ? "more than once" : "no",
	       sigismember(&m, SIGINT) ? "yes" : "no", sigismember(&p, SIGINT) ? "yes" : "no");
}

static int spawn_true(void)
{
	pid_t pid;
	char *argv[] = { "true", 0 };
	int s;
	if (posix_spawn(&pid, "/bin/true", 0, 0, argv, environ)) return -1;
	if (waitpid(pid, &s, 0) != pid) return -1;
	return s;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	watchdog(10);
	struct sigaction sa = { .sa_handler = on_int };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, 0);
	sa.sa_handler = on_alrm; /* no SA_RESTART */
	sigaction(SIGALRM, &sa, 0);

	/* 1. select(30 s) after posix_spawn, still single-threaded */
	int s = spawn_true();
	printf("posix_spawn /bin/true: %s\n", status(s));
	{
		int p[2];
		pipe(p);
		fd_set rf;
		FD_ZERO(&rf); FD_SET(p[0], &rf);
		struct timeval tv = { 30, 0 };
		alarm(1);
		int r = select(p[0] + 1, &rf, 0, 0, &tv);
		int e = errno;
		alarm(0);
		printf("select(30 s) after posix_spawn, alarm(1): ret=%d %s, handler ran: %s\n", r,
		       r < 0 && e == EINTR ? "EINTR" : r < 0 ? "other error" : "-", alrm ? "yes" : "no");
		close(p[0]); close(p[1]);
	}
	alarm(60);

	/* 2. with a helper thread parked in read() */
	pipe(hp);
	pthread_t t;
	pthread_create(&t, 0, helper, 0);
	check_raise("helper thread, before spawn");
	s = spawn_true();
	printf("posix_spawn /bin/true with helper thread: %s\n", status(s));
	check_raise("after posix_spawn");
	s = spawn_true();
	check_raise("after second posix_spawn");

	/* 3. vfork; the child restores the mask the parent blocked, then execs */
	{
		sigset_t all, old;
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, &old);
		pid_t pid = vfork();
		if (pid == 0) {
			char *argv[] = { "true", 0 };
			sigprocmask(SIG_SETMASK, &old, 0);
			execve("/bin/true", argv, environ);
			_exit(127);
		}
		sigprocmask(SIG_SETMASK, &old, 0);
		if (pid < 0 || waitpid(pid, &s, 0) != pid) puts("vfork failed");
		else printf("vfork+exec /bin/true: %s\n", status(s));
		check_raise("after vfork+exec");
	}

	/* 4. plain fork + exec */
	{
		pid_t pid = fork();
		if (pid == 0) {
			execl("/bin/true", "true", (char *)0);
			_exit(127);
		}
		waitpid(pid, &s, 0);
		printf("fork+exec /bin/true: %s\n", status(s));
		check_raise("after fork+exec");
	}

	/* 5. select interrupted by alarm, now with the helper thread around
	 * (it blocks nothing, so the signal may go to either thread) */
	{
		s = spawn_true();
		alrm = 0;
		alarm(1);
		struct timeval tv = { 3, 0 };
		/* wait for the alarm in pieces so that which thread takes it does not matter */
		for (int i = 0; i < 10 && !alrm; i++) {
			tv.tv_sec = 3; tv.tv_usec = 0;
			select(0, 0, 0, 0, &tv);
		}
		alarm(60);
		printf("alarm(1) after posix_spawn with helper thread ran handler: %s\n", alrm ? "yes" : "no");
	}

	close(hp[1]);
	pthread_join(t, 0);
	puts("done");
	return 0;
}
