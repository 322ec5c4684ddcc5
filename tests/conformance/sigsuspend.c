/*
 * sigsuspend: the waits that take a signal mask (issue 15 item 2).
 * SIGUSR1 is blocked in every thread; sigsuspend, ppoll, pselect and
 * epoll_pwait unblock it for the wait.  Another thread sends it, either
 * to the process (kill) or to the waiting thread (pthread_kill): the
 * wait fails with EINTR after the handler ran exactly once, and the
 * signal is no longer pending.  A signal sent before the wait begins
 * stays pending (blocked everywhere), so the order does not matter.
 * Then sigwaitinfo and a signalfd read by a thread, woken by
 * pthread_kill to that thread or by kill to the process.  Each case in
 * its own child process, with a deadline.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conform.h"

static volatile sig_atomic_t handled;
static void handler(int sig) { handled++; }

static pthread_t target;
static int to_thread;	/* 1: pthread_kill(target), 0: kill(getpid()) */

static void *sender(void *arg)
{
	if (to_thread) pthread_kill(target, SIGUSR1);
	else kill(getpid(), SIGUSR1);
	return 0;
}

/* SIGUSR1: handler installed, blocked in this thread (and so in every
 * thread created after). */
static void block_usr1(int with_handler)
{
	struct sigaction sa;
	sigset_t s;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	if (with_handler) sigaction(SIGUSR1, &sa, 0);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigprocmask(SIG_BLOCK, &s, 0);
}

static void send_usr1(int thread)
{
	pthread_t t;
	to_thread = thread;
	target = pthread_self();
	pthread_create(&t, 0, sender, 0);
	pthread_detach(t);
}

static void report(const char *name, long r, int e)
{
	sigset_t p;
	sigpending(&p);
	printf("%s: %ld %s, handler ran %d, still pending %s\n", name, r,
		r < 0 ? en(e) : "", (int)handled, sigismember(&p, SIGUSR1) ? "yes" : "no");
}

static void wait_kind(int kind, int thread, const char *name)
{
	sigset_t none;
	int p[2];
	long r = 0;
	sigemptyset(&none);
	pipe(p);
	block_usr1(1);
	send_usr1(thread);
	if (kind == 0) {
		r = sigsuspend(&none);
	} else if (kind == 1) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		r = ppoll(&pf, 1, 0, &none);
	} else if (kind == 2) {
		fd_set rf;
		FD_ZERO(&rf);
		FD_SET(p[0], &rf);
		r = pselect(p[0] + 1, &rf, 0, 0, 0, &none);
	} else {
		struct epoll_event ev = { .events = EPOLLIN }, out;
		int ep = epoll_create1(0);
		epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
		r = epoll_pwait(ep, &out, 1, -1, &none);
	}
	report(name, r, errno);
}

static void c_sigsuspend_k(void) { wait_kind(0, 0, "sigsuspend, kill"); }
static void c_sigsuspend_t(void) { wait_kind(0, 1, "sigsuspend, pthread_kill"); }
static void c_ppoll_k(void) { wait_kind(1, 0, "ppoll, kill"); }
static void c_ppoll_t(void) { wait_kind(1, 1, "ppoll, pthread_kill"); }
static void c_pselect_k(void) { wait_kind(2, 0, "pselect, kill"); }
static void c_pselect_t(void) { wait_kind(2, 1, "pselect, pthread_kill"); }
static void c_epoll_pwait_k(void) { wait_kind(3, 0, "epoll_pwait, kill"); }
static void c_epoll_pwait_t(void) { wait_kind(3, 1, "epoll_pwait, pthread_kill"); }

/* The same from a second thread, woken by pthread_kill from main. */
static void *th_sigsuspend(void *arg)
{
	sigset_t none;
	sigemptyset(&none);
	*(long *)arg = sigsuspend(&none);
	return 0;
}

static void c_sigsuspend_thread(void)
{
	pthread_t t;
	long r;
	block_usr1(1);
	pthread_create(&t, 0, th_sigsuspend, &r);
	pthread_kill(t, SIGUSR1);
	pthread_join(t, 0);
	report("sigsuspend in thread, pthread_kill", r, EINTR);
}

/* A thread reads a signalfd for SIGUSR1 (blocked everywhere). */
static int sfd;
static void *th_signalfd(void *arg)
{
	struct signalfd_siginfo si;
	ssize_t n = read(sfd, &si, sizeof si);
	if (n == sizeof si)
		printf("%s: read a siginfo, signo %s, code %s\n", (char *)arg, sn(si.ssi_signo),
			si.ssi_code == SI_TKILL ? "SI_TKILL" : si.ssi_code == SI_USER ? "SI_USER" : "other");
	else
		printf("%s: read %ld %s\n", (char *)arg, (long)n, n < 0 ? en(errno) : "");
	return 0;
}

static void signalfd_case(int thread, char *name)
{
	pthread_t t;
	sigset_t s;
	block_usr1(0);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sfd = signalfd(-1, &s, 0);
	pthread_create(&t, 0, th_signalfd, name);
	usleep(50000);	/* likelier to find the reader blocked; either way it gets it */
	if (thread) pthread_kill(t, SIGUSR1);
	else kill(getpid(), SIGUSR1);
	pthread_join(t, 0);
	sigset_t p;
	sigpending(&p);
	printf("%s: still pending %s\n", name, sigismember(&p, SIGUSR1) ? "yes" : "no");
}

static void c_signalfd_t(void) { signalfd_case(1, "signalfd in thread, pthread_kill"); }
static void c_signalfd_k(void) { signalfd_case(0, "signalfd in thread, kill"); }

/* sigwaitinfo in a thread. */
static void *th_sigwait(void *arg)
{
	sigset_t s;
	siginfo_t si;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	int r = sigwaitinfo(&s, &si);
	printf("%s: returned %s\n", (char *)arg, r > 0 ? sn(r) : en(errno));
	return 0;
}

static void sigwait_case(int thread, char *name)
{
	pthread_t t;
	block_usr1(1);
	pthread_create(&t, 0, th_sigwait, name);
	usleep(50000);
	if (thread) pthread_kill(t, SIGUSR1);
	else kill(getpid(), SIGUSR1);
	pthread_join(t, 0);
	printf("%s: handler ran %d\n", name, (int)handled);
}

static void c_sigwait_t(void) { sigwait_case(1, "sigwaitinfo in thread, pthread_kill"); }
static void c_sigwait_k(void) { sigwait_case(0, "sigwaitinfo in thread, kill"); }

int main(void)
{
	static const struct kase k[] = {
		{ "sigsuspend, kill", c_sigsuspend_k },
		{ "sigsuspend, pthread_kill", c_sigsuspend_t },
		{ "sigsuspend in thread, pthread_kill", c_sigsuspend_thread },
		{ "ppoll, kill", c_ppoll_k },
		{ "ppoll, pthread_kill", c_ppoll_t },
		{ "pselect, kill", c_pselect_k },
		{ "pselect, pthread_kill", c_pselect_t },
		{ "epoll_pwait, kill", c_epoll_pwait_k },
		{ "epoll_pwait, pthread_kill", c_epoll_pwait_t },
		{ "signalfd in thread, pthread_kill", c_signalfd_t },
		{ "signalfd in thread, kill", c_signalfd_k },
		{ "sigwaitinfo in thread, pthread_kill", c_sigwait_t },
		{ "sigwaitinfo in thread, kill", c_sigwait_k },
	};
	setvbuf(stdout, 0, _IONBF, 0);
	run_cases(k, sizeof k / sizeof *k, 4);
	return 0;
}
