/*
 * conform.h: helpers shared by the conformance tests (tests/conformance/
 * NAME.c include it as "conform.h"; every helper is static, so a test
 * gets its own copy and may leave some unused).
 *
 *   en(e)        errno name ("EINTR", "0", else "errno N"): the same text
 *                under musl and glibc, unlike strerror
 *   sn(s)        signal name ("SIGTERM", else "signal N")
 *   run_cases(k, n, deadline_s)
 *                runs each case k[i].fn in its own child process, all at
 *                once, and prints their outputs in order; a case that does
 *                not finish within deadline_s seconds prints "NAME: hang"
 *                (set case_headers for a "== NAME" line before each one)
 *   watchdog(sec), watchdog_msg(sec, msg)
 *                a child process that SIGKILLs this one (after printing
 *                msg) if it still runs after sec seconds
 *   wait_bounded(pid, &st)
 *                waitpid for at most 5 s; kills pid and returns 0 if it
 *                did not end
 *   wait_status(st, exited, signaled)
 *                "EXITED N", "SIGNALED N" or "other" for a wait status
 *   park_threads(extra)
 *                three threads parked in read(), pthread_cond_wait() and
 *                sleep() once park_bar (4 + extra threads) is passed
 */
#ifndef CONFORM_H
#define CONFORM_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONFORM_UNUSED __attribute__((unused))

CONFORM_UNUSED static const char *en(int e)
{
	static char b[32];
	switch (e) {
	case 0: return "0";
	case EINTR: return "EINTR";
	case EAGAIN: return "EAGAIN";
	case EPIPE: return "EPIPE";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case ECONNRESET: return "ECONNRESET";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECHILD: return "ECHILD";
	case ENOENT: return "ENOENT";
	case ENOTCONN: return "ENOTCONN";
	case EINPROGRESS: return "EINPROGRESS";
	case EISDIR: return "EISDIR";
	case EFAULT: return "EFAULT";
	case ESPIPE: return "ESPIPE";
	case EWOULDBLOCK == EAGAIN ? -1 : EWOULDBLOCK: return "EWOULDBLOCK";
	}
	snprintf(b, sizeof b, "errno %d", e);
	return b;
}

CONFORM_UNUSED static const char *sn(int s)
{
	static char b[32];
	switch (s) {
	case SIGKILL: return "SIGKILL";
	case SIGTERM: return "SIGTERM";
	case SIGPIPE: return "SIGPIPE";
	case SIGALRM: return "SIGALRM";
	case SIGCHLD: return "SIGCHLD";
	case SIGSEGV: return "SIGSEGV";
	case SIGABRT: return "SIGABRT";
	case SIGUSR1: return "SIGUSR1";
	case SIGUSR2: return "SIGUSR2";
	case SIGINT: return "SIGINT";
	case SIGBUS: return "SIGBUS";
	}
	snprintf(b, sizeof b, "signal %d", s);
	return b;
}

/* Run every case in its own child process, all at once, with stdout to
 * a temporary file; wait at most deadline_s seconds for all of them,
 * then print each case's output in order (after a line "== NAME" if
 * case_headers is set), and "NAME: hang" for one that did not finish
 * (killed), "NAME: killed by SIG" for one a signal ended. */
CONFORM_UNUSED static int case_headers;
struct kase { const char *name; void (*fn)(void); };
CONFORM_UNUSED static void run_cases(const struct kase *k, int n, int deadline_s)
{
	pid_t pid[64];
	FILE *out[64];
	int st[64], done[64], left = n;
	for (int i = 0; i < n; i++) {
		out[i] = tmpfile();
		done[i] = 0;
		fflush(stdout);
		pid[i] = fork();
		if (pid[i] == 0) {
			dup2(fileno(out[i]), 1);
			k[i].fn();
			fflush(stdout);
			_exit(0);
		}
	}
	for (int t = 0; left && t < deadline_s * 100; t++) {
		for (int i = 0; i < n; i++)
			if (!done[i] && waitpid(pid[i], &st[i], WNOHANG) == pid[i])
				done[i] = 1, left--;
		if (left) usleep(10000);
	}
	for (int i = 0; i < n; i++) {
		char buf[4096];
		size_t m;
		if (!done[i]) {
			kill(pid[i], SIGKILL);
			waitpid(pid[i], &st[i], 0);
		}
		rewind(out[i]);
		if (case_headers) printf("== %s\n", k[i].name);
		while ((m = fread(buf, 1, sizeof buf, out[i])) > 0)
			fwrite(buf, 1, m, stdout);
		fclose(out[i]);
		if (!done[i]) printf("%s: hang\n", k[i].name);
		else if (WIFSIGNALED(st[i])) printf("%s: killed by %s\n", k[i].name, sn(WTERMSIG(st[i])));
		else if (WEXITSTATUS(st[i])) printf("%s: exit %d\n", k[i].name, WEXITSTATUS(st[i]));
	}
}

/* Hang guard: a child process that SIGKILLs this one after SEC seconds,
 * printing MSG first (a signal-based watchdog is no good where signals
 * are what is broken).  Returns its pid. */
CONFORM_UNUSED static pid_t watchdog_msg(int sec, const char *msg)
{
	pid_t me = getpid(), pid;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != me) _exit(0);
		sleep(sec);
		if (getppid() == me) {
			write(1, msg, strlen(msg));
			kill(me, SIGKILL);
		}
		_exit(0);
	}
	return pid;
}

CONFORM_UNUSED static pid_t watchdog(int sec) { return watchdog_msg(sec, "watchdog: timed out\n"); }

/* wait for pid at most 5 s; kills it and returns 0 if it did not end */
CONFORM_UNUSED static int wait_bounded(pid_t pid, int *s)
{
	for (int i = 0; i < 500; i++) {
		if (waitpid(pid, s, WNOHANG) == pid) return 1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, s, 0);
	return 0;
}

/* A wait status as "EXITED N" (exit status), "SIGNALED N" (signal
 * number) or "other"; EXITED and SIGNALED are the caller's words. */
CONFORM_UNUSED static const char *wait_status(int s, const char *exited, const char *signaled)
{
	static char b[64];
	if (WIFEXITED(s)) snprintf(b, sizeof b, "%s %d", exited, WEXITSTATUS(s));
	else if (WIFSIGNALED(s)) snprintf(b, sizeof b, "%s %d", signaled, WTERMSIG(s));
	else snprintf(b, sizeof b, "other");
	return b;
}

/* park_threads(extra): a pipe park_pipe, a barrier park_bar for 4 + extra
 * threads, and three threads that pass it and then park, one in
 * read(park_pipe[0]), one in pthread_cond_wait(), one in sleep(100). */
CONFORM_UNUSED static int park_pipe[2];
CONFORM_UNUSED static pthread_mutex_t park_mx = PTHREAD_MUTEX_INITIALIZER;
CONFORM_UNUSED static pthread_cond_t park_cv = PTHREAD_COND_INITIALIZER;
CONFORM_UNUSED static pthread_barrier_t park_bar;

CONFORM_UNUSED static void *park_in_read(void *a) { char c; (void)a; pthread_barrier_wait(&park_bar); read(park_pipe[0], &c, 1); return 0; }
CONFORM_UNUSED static void *park_in_cond(void *a)
{
	(void)a;
	pthread_mutex_lock(&park_mx);
	pthread_barrier_wait(&park_bar);
	for (;;) pthread_cond_wait(&park_cv, &park_mx);
	return 0;
}
CONFORM_UNUSED static void *park_in_sleep(void *a) { (void)a; pthread_barrier_wait(&park_bar); sleep(100); return 0; }

CONFORM_UNUSED static void park_threads(int extra)
{
	pthread_t t;
	pipe(park_pipe);
	pthread_barrier_init(&park_bar, 0, 4 + extra);
	pthread_create(&t, 0, park_in_read, 0);
	pthread_create(&t, 0, park_in_cond, 0);
	pthread_create(&t, 0, park_in_sleep, 0);
}

#endif
