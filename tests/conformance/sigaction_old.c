/* sigaction() reports the previous disposition in *old: handler, SA_SIGINFO
 * and SA_RESTART flags, SIG_IGN and SIG_DFL; also from a second thread and
 * via signal(). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <string.h>

#include "conform.h"

static void A(int s) { (void)s; }
static void B(int s) { (void)s; }
static void C(int s, siginfo_t *i, void *u) { (void)s; (void)i; (void)u; }

static const char *name(const struct sigaction *sa)
{
	if (sa->sa_flags & SA_SIGINFO)
		return sa->sa_sigaction == C ? "C(siginfo)" : "other(siginfo)";
	if (sa->sa_handler == SIG_DFL) return "SIG_DFL";
	if (sa->sa_handler == SIG_IGN) return "SIG_IGN";
	if (sa->sa_handler == A) return "A";
	if (sa->sa_handler == B) return "B";
	return "other";
}

static void flags(const char *what, const struct sigaction *sa)
{
	printf("%s: %s SA_SIGINFO=%d SA_RESTART=%d SA_NODEFER=%d SA_RESETHAND=%d mask_has_SIGUSR2=%d\n",
	       what, name(sa), !!(sa->sa_flags & SA_SIGINFO), !!(sa->sa_flags & SA_RESTART),
	       !!(sa->sa_flags & SA_NODEFER), !!(sa->sa_flags & SA_RESETHAND),
	       sigismember(&sa->sa_mask, SIGUSR2));
}

static void set(int sig, void (*h)(int), void (*si)(int, siginfo_t *, void *), int fl,
		int mask_usr2, const char *what)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	memset(&old, 0x55, sizeof old);
	sigemptyset(&sa.sa_mask);
	if (mask_usr2) sigaddset(&sa.sa_mask, SIGUSR2);
	sa.sa_flags = fl;
	if (si) sa.sa_sigaction = si; else sa.sa_handler = h;
	if (sigaction(sig, &sa, &old)) { printf("%s: sigaction failed\n", what); return; }
	if (strstr(what, "vary")) printf("%s: %s\n", what, name(&old)); else flags(what, &old);
}

static void *thr(void *a)
{
	(void)a;
	set(SIGUSR1, B, 0, 0, 0, "thread: install B, old");
	set(SIGUSR1, A, 0, SA_RESTART, 0, "thread: install A|RESTART, old");
	return 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	watchdog(10);
	struct sigaction cur;
	set(SIGUSR1, A, 0, 0, 0, "install A, old");
	set(SIGUSR1, B, 0, 0, 0, "install B, old");
	set(SIGUSR1, 0, C, SA_SIGINFO, 0, "install C|SIGINFO, old");
	set(SIGUSR1, A, 0, SA_RESTART, 1, "install A|RESTART mask USR2, old");
	set(SIGUSR1, B, 0, SA_NODEFER | SA_RESETHAND, 0, "install B|NODEFER|RESETHAND, old");
	set(SIGUSR1, SIG_IGN, 0, 0, 0, "install SIG_IGN, old");
	set(SIGUSR1, SIG_DFL, 0, 0, 0, "install SIG_DFL, old");
	set(SIGUSR1, A, 0, 0, 0, "install A, old");
	sigaction(SIGUSR1, 0, &cur);
	flags("query only", &cur);

	pthread_t t;
	pthread_create(&t, 0, thr, 0);
	pthread_join(t, 0);
	sigaction(SIGUSR1, 0, &cur);
	flags("main after thread, query", &cur);
	set(SIGUSR1, B, 0, 0, 0, "main after thread: install B, old");

	/* signal() returns the previous handler too */
	printf("signal(SIGUSR2, A) returned SIG_DFL: %s\n", signal(SIGUSR2, A) == SIG_DFL ? "yes" : "no");
	printf("signal(SIGUSR2, B) returned A: %s\n", signal(SIGUSR2, B) == A ? "yes" : "no");
	printf("signal(SIGUSR2, SIG_IGN) returned B: %s\n", signal(SIGUSR2, SIG_IGN) == B ? "yes" : "no");
	printf("signal(SIGUSR2, SIG_DFL) returned SIG_IGN: %s\n", signal(SIGUSR2, SIG_DFL) == SIG_IGN ? "yes" : "no");

	/* (glibc's signal() sets SA_RESTART and masks the signal itself, musl's
	 * only SA_RESTART: start from a disposition set by sigaction) */
	set(SIGUSR2, SIG_DFL, 0, 0, 0, "SIGUSR2 reset to SIG_DFL by sigaction, old (flags vary by libc)");
	/* a handler installed with SA_RESETHAND reads back as SIG_DFL once run */
	set(SIGUSR2, A, 0, SA_RESETHAND, 0, "SIGUSR2 install A|RESETHAND, old");
	raise(SIGUSR2);
	sigaction(SIGUSR2, 0, &cur);
	flags("SIGUSR2 after one delivery, query", &cur);
	return 0;
}
