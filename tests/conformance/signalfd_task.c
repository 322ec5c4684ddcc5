/* signalfd read by a thread blocking on it (SIGUSR1/SIGUSR2/SIGRTMIN blocked
 * in every thread): it receives a process-directed kill(), a sigqueue() with
 * its value, and a pthread_kill() aimed at the reading thread itself; a
 * pthread_kill() aimed at another thread stays pending for that thread. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

static int sfd;
static struct signalfd_siginfo last;
static volatile int seq; /* bumped per signal read */
static pthread_t reader_t;

static void *reader(void *a)
{
	(void)a;
	for (;;) {
		struct signalfd_siginfo si;
		ssize_t n = read(sfd, &si, sizeof si);
		if (n < 0 && errno == EINTR) continue;
		if (n != sizeof si) return 0;
		last = si;
		__atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST);
		if (si.ssi_signo == SIGUSR2) return 0;
	}
}

/* bounded wait (5 s) for the reader to have read n signals */
static int wait_seq(int n)
{
	struct timespec ts = { 0, 1000000 };
	for (int i = 0; i < 5000 && seq < n; i++) nanosleep(&ts, 0);
	return seq >= n;
}

static void report(const char *what, int n, int signo, int code)
{
	if (!wait_seq(n)) {
		printf("%s: reader not woken within 5 s\n", what);
		fflush(stdout);
		_exit(2);
	}
	printf("%s: got %s, code %s, sender is us: %s\n", what,
	       (int)last.ssi_signo == signo ? "it" : "another signal",
	       (int)last.ssi_code == code ? "as sent" : "different",
	       (pid_t)last.ssi_pid == getpid() ? "yes" : "no");
}

static void *other(void *a) { (void)a; return 0; }

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	watchdog(10);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, 0); /* inherited by every thread */
	sfd = signalfd(-1, &set, 0);
	alarm(60);
	pthread_create(&reader_t, 0, reader, 0);

	kill(getpid(), SIGUSR1);
	report("kill(getpid(), SIGUSR1)", 1, SIGUSR1, SI_USER);

	union sigval sv = { .sival_int = 4242 };
	sigqueue(getpid(), SIGRTMIN, sv);
	report("sigqueue(getpid(), SIGRTMIN, 4242)", 2, SIGRTMIN, SI_QUEUE);
	printf("sigqueue value delivered: %s\n", last.ssi_int == 4242 ? "yes" : "no");

	pthread_kill(reader_t, SIGUSR1);
	report("pthread_kill(reader, SIGUSR1)", 3, SIGUSR1, SI_TKILL);

	/* a signal directed at main is main's: the reader must not get it */
	pthread_kill(pthread_self(), SIGRTMIN);
	sigset_t p;
	sigpending(&p);
	printf("pthread_kill(main, SIGRTMIN) pending in main: %s\n", sigismember(&p, SIGRTMIN) ? "yes" : "no");
	struct signalfd_siginfo si;
	int mfd = signalfd(-1, &set, SFD_NONBLOCK);
	int r = read(mfd, &si, sizeof si);
	printf("main reads it from its own signalfd: %s\n", r == sizeof si && (int)si.ssi_signo == SIGRTMIN ? "yes" : "no");
	printf("reader got no extra signal: %s\n", seq == 3 ? "yes" : "no");

	pthread_kill(reader_t, SIGUSR2); /* ends the reader */
	report("pthread_kill(reader, SIGUSR2)", 4, SIGUSR2, SI_TKILL);
	pthread_join(reader_t, 0);
	(void)other;
	return 0;
}
