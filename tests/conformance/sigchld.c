/*
 * sigchld: SIGCHLD and waitpid with threads (issue 15 extras).  A thread
 * forks and waits for its child while other threads run; the SIGCHLD
 * handler runs (once per child, when children exit one at a time);
 * waitpid(-1) collects several children; sigwaitinfo in a thread gets
 * the SIGCHLD siginfo; SA_SIGINFO reports a killed child; a stopped and
 * continued child; SIGCHLD ignored reaps children (waitpid: ECHILD).
 * Each case in its own child process, with a deadline.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conform.h"

static volatile sig_atomic_t handled, last_code, last_status;
static void handler(int sig) { handled++; }
static void info_handler(int sig, siginfo_t *si, void *uc)
{
	handled++;
	last_code = si->si_code;
	last_status = si->si_status;
}

static void install(int info, int restart)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	if (info) sa.sa_sigaction = info_handler, sa.sa_flags = SA_SIGINFO;
	else sa.sa_handler = handler;
	if (restart) sa.sa_flags |= SA_RESTART;
	sigaction(SIGCHLD, &sa, 0);
}

/* Wait (bounded) until the handler has run n times. */
static void await_handler(int n)
{
	for (int i = 0; i < 2000 && handled < n; i++) usleep(1000);
}

static const char *status(int st)
{
	static char b[64];
	if (WIFEXITED(st)) snprintf(b, sizeof b, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st)) snprintf(b, sizeof b, "killed by %s", sn(WTERMSIG(st)));
	else if (WIFSTOPPED(st)) snprintf(b, sizeof b, "stopped by %s", WSTOPSIG(st) == SIGSTOP ? "SIGSTOP" : sn(WSTOPSIG(st)));
	else if (WIFCONTINUED(st)) snprintf(b, sizeof b, "continued");
	else snprintf(b, sizeof b, "status %#x", st);
	return b;
}

static pid_t xwaitpid(pid_t p, int *st, int fl)
{
	pid_t r;
	while ((r = waitpid(p, st, fl)) < 0 && errno == EINTR);
	return r;
}

/* "Other threads run": they compute, yielding now and then (a thread
 * that never yields is another matter: see spin.c). */
static volatile int stop;
static void *spinner(void *arg)
{
	volatile unsigned long n = 0;
	while (!stop)
		if (!(++n & 1023)) sched_yield();
	return 0;
}

static void *fork_and_wait(void *arg)
{
	int st = 0;
	pid_t p = fork();
	if (p == 0) _exit(7);
	pid_t r = xwaitpid(p, &st, 0);
	printf("thread's waitpid: %s, %s\n", r == p ? "its child" : "other", status(st));
	return 0;
}

static void c_thread_waits(void)
{
	pthread_t s1, s2, w;
	install(0, 1);
	pthread_create(&s1, 0, spinner, 0);
	pthread_create(&s2, 0, spinner, 0);
	pthread_create(&w, 0, fork_and_wait, 0);
	pthread_join(w, 0);
	await_handler(1);
	stop = 1;
	pthread_join(s1, 0);
	pthread_join(s2, 0);
	printf("SIGCHLD handler ran %d\n", (int)handled);
}

static void *wait_all(void *arg)
{
	int st, codes[6] = { 0 }, n = 0;
	pid_t r;
	while ((r = xwaitpid(-1, &st, 0)) > 0)
		if (WIFEXITED(st) && WEXITSTATUS(st) >= 1 && WEXITSTATUS(st) <= 5)
			codes[WEXITSTATUS(st)]++, n++;
	printf("waitpid(-1) collected %d children, exit codes:", n);
	for (int i = 1; i <= 5; i++) printf(" %d*%d", i, codes[i]);
	printf("\nthen waitpid(-1): %ld %s\n", (long)r, en(errno));
	return 0;
}

static void c_wait_any(void)
{
	pthread_t w;
	int p[2];
	char c;
	install(0, 1);
	pipe(p);
	for (int i = 1; i <= 5; i++)
		if (fork() == 0) {
			close(p[1]);
			read(p[0], &c, 1);	/* all exit once the pipe closes */
			_exit(i);
		}
	close(p[0]);
	pthread_create(&w, 0, wait_all, 0);
	close(p[1]);
	pthread_join(w, 0);
	await_handler(1);
	printf("SIGCHLD handler ran: %s\n", handled ? "yes" : "no");
}

static void *sigwaiter(void *arg)
{
	sigset_t s;
	siginfo_t si;
	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	int r = sigwaitinfo(&s, &si);
	printf("sigwaitinfo: %s, code %s, status %d, pid matches %s\n", r > 0 ? sn(r) : en(errno),
		si.si_code == CLD_EXITED ? "CLD_EXITED" : "other", si.si_status,
		si.si_pid == *(pid_t *)arg ? "yes" : "no");
	return 0;
}

static void c_sigwaitinfo(void)
{
	sigset_t s;
	pthread_t t;
	int p[2], st;
	char c;
	static pid_t pid;
	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	sigprocmask(SIG_BLOCK, &s, 0);
	pipe(p);
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		read(p[0], &c, 1);
		_exit(3);
	}
	pthread_create(&t, 0, sigwaiter, &pid);
	close(p[1]);
	pthread_join(t, 0);
	printf("waitpid: %s\n", xwaitpid(pid, &st, 0) == pid ? status(st) : en(errno));
}

static void *wait_one(void *arg)
{
	int st;
	pid_t p = *(pid_t *)arg;
	printf("thread's waitpid: %s\n", xwaitpid(p, &st, 0) == p ? status(st) : en(errno));
	return 0;
}

static void c_killed(void)
{
	pthread_t t;
	static pid_t pid;
	install(1, 1);
	pid = fork();
	if (pid == 0) {
		for (;;) pause();
	}
	pthread_create(&t, 0, wait_one, &pid);
	kill(pid, SIGTERM);
	pthread_join(t, 0);
	await_handler(1);
	printf("SA_SIGINFO handler ran %d: code %s, status %s\n", (int)handled,
		last_code == CLD_KILLED ? "CLD_KILLED" : "other", sn(last_status));
}

static void c_stopped(void)
{
	int st;
	pid_t pid, r;
	install(0, 1);
	pid = fork();
	if (pid == 0) {
		raise(SIGSTOP);
		_exit(9);
	}
	r = xwaitpid(pid, &st, WUNTRACED);
	printf("waitpid WUNTRACED: %s\n", r == pid ? status(st) : en(errno));
	kill(pid, SIGCONT);
	r = xwaitpid(pid, &st, WCONTINUED);
	if (r == pid && WIFCONTINUED(st)) printf("waitpid WCONTINUED: continued\n");
	else if (r == pid && WIFEXITED(st)) printf("waitpid WCONTINUED: continued\n");	/* it may have exited already */
	if (!(r == pid && WIFEXITED(st))) r = xwaitpid(pid, &st, 0);
	printf("waitpid: %s\n", r == pid ? status(st) : en(errno));
}

static void *wait_ign(void *arg)
{
	int st;
	pid_t r = xwaitpid(*(pid_t *)arg, &st, 0);
	printf("SIGCHLD ignored, thread's waitpid: %ld %s\n", (long)r, r < 0 ? en(errno) : status(st));
	return 0;
}

static void c_ignored(void)
{
	pthread_t t;
	static pid_t pid;
	signal(SIGCHLD, SIG_IGN);
	pid = fork();
	if (pid == 0) _exit(0);
	pthread_create(&t, 0, wait_ign, &pid);
	pthread_join(t, 0);
}

static void *waitid_thread(void *arg)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	int r = waitid(P_PID, *(pid_t *)arg, &si, WEXITED);
	printf("waitid: %d, code %s, status %d\n", r, si.si_code == CLD_EXITED ? "CLD_EXITED" : "other", si.si_status);
	return 0;
}

static void c_waitid(void)
{
	pthread_t t, s1;
	static pid_t pid;
	install(0, 1);
	pthread_create(&s1, 0, spinner, 0);
	pid = fork();
	if (pid == 0) {
		usleep(50000);
		_exit(42);
	}
	pthread_create(&t, 0, waitid_thread, &pid);
	pthread_join(t, 0);
	stop = 1;
	pthread_join(s1, 0);
	await_handler(1);
	printf("SIGCHLD handler ran %d\n", (int)handled);
}

int main(void)
{
	static const struct kase k[] = {
		{ "a thread forks and waits, others spin", c_thread_waits },
		{ "waitpid(-1) in a thread, 5 children", c_wait_any },
		{ "sigwaitinfo in a thread", c_sigwaitinfo },
		{ "SA_SIGINFO, child killed", c_killed },
		{ "stopped and continued child", c_stopped },
		{ "SIGCHLD ignored", c_ignored },
		{ "waitid in a thread", c_waitid },
	};
	setvbuf(stdout, 0, _IONBF, 0);
	case_headers = 1;
	run_cases(k, sizeof k / sizeof *k, 5);
	return 0;
}
