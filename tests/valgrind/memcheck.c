/*
 * Valgrind's memcheck finds no error in a correct threaded program
 * (issue 17): under M:N that means it follows every task switch, which
 * it does only if each stack a task or g0 runs on is registered and no
 * registered range spans two of them (sched/vg.h, docs/debugging.md).
 * The program (this binary with --child) runs 50 threads through a
 * mutex, a condition variable, a semaphore, pipe I/O and sleeps, then
 * detached threads (their stacks go back to the pool at exit, for later
 * ones); it runs under memcheck with WEFT_WORKERS=1 and 2, and must
 * exit 0 with no error reported.  Skipped without valgrind in PATH, or
 * when this build has no client requests (configure found no
 * valgrind.h: install valgrind, then configure again).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include "testutil.h"

#ifndef WEFT_CLIENT_REQUESTS
#define WEFT_CLIENT_REQUESTS 0	/* tests.mk: 1 if configure found valgrind.h */
#endif

#define NT 50
#define NDETACHED 20

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int started, sum;
static sem_t done;
static int pipes[NT / 2][2][2];	/* pair k: [0] even to odd, [1] back */

static int readall(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r <= 0) return -1;
		p += r, n -= r;
	}
	return 0;
}

static void *worker(void *arg)
{
	int i = (int)(intptr_t)arg, k = i / 2, v;
	int *heap = malloc(64 * sizeof *heap);
	if (!heap) return (void *)1;
	for (int j = 0; j < 64; j++) heap[j] = i + j;

	/* All started before any goes on: a condition variable. */
	pthread_mutex_lock(&lock);
	started++;
	pthread_cond_broadcast(&cond);
	while (started < NT) pthread_cond_wait(&cond, &lock);
	sum += heap[63] - 63;
	pthread_mutex_unlock(&lock);

	usleep(1000 + 100 * (i % 7));
	struct timespec ts = { 0, 200000 };
	nanosleep(&ts, 0);

	/* A ping and its answer through a pair of pipes. */
	if (i % 2 == 0) {
		v = i;
		if (write(pipes[k][0][1], &v, sizeof v) != sizeof v ||
		    readall(pipes[k][1][0], &v, sizeof v) || v != i + 1000)
			return (void *)2;
	} else {
		if (readall(pipes[k][0][0], &v, sizeof v) || v != i - 1)
			return (void *)3;
		v += 1000;
		if (write(pipes[k][1][1], &v, sizeof v) != sizeof v)
			return (void *)4;
	}
	free(heap);
	sem_post(&done);
	return 0;
}

static void *detached(void *arg)
{
	char buf[256];
	memset(buf, (int)(intptr_t)arg, sizeof buf);
	pthread_mutex_lock(&lock);
	sum += buf[100];
	pthread_mutex_unlock(&lock);
	sem_post(&done);
	return 0;
}

static int child(void)
{
	pthread_t t[NT];
	pthread_attr_t a;
	void *r;
	if (sem_init(&done, 0, 0)) return 10;
	for (int k = 0; k < NT / 2; k++)
		if (pipe(pipes[k][0]) || pipe(pipes[k][1])) return 11;
	for (int i = 0; i < NT; i++)
		if (pthread_create(&t[i], 0, worker, (void *)(intptr_t)i)) return 12;
	for (int i = 0; i < NT; i++)
		while (sem_wait(&done))
			;
	for (int i = 0; i < NT; i++)
		if (pthread_join(t[i], &r) || r) return 13;
	if (sum != NT * (NT - 1) / 2) return 14;

	/* Detached threads, two at a time: their stacks are pooled at
	 * exit, where later ones find them. */
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < NDETACHED; i++) {
		pthread_t d;
		if (pthread_create(&d, &a, detached, (void *)(intptr_t)1)) return 15;
		if (i % 2) {
			while (sem_wait(&done))
				;
			while (sem_wait(&done))
				;
		}
	}
	pthread_attr_destroy(&a);
	if (sum != NT * (NT - 1) / 2 + NDETACHED) return 16;
	for (int k = 0; k < NT / 2; k++)
		for (int j = 0; j < 2; j++)
			close(pipes[k][j][0]), close(pipes[k][j][1]);
	return 0;
}

/* valgrind's path in PATH, or 0. */
static const char *valgrind_path(void)
{
	static char buf[PATH_MAX];
	const char *path = getenv("PATH");
	if (!path) path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n && n < sizeof buf - 10) {
			snprintf(buf, sizeof buf, "%.*s/valgrind", (int)n, path);
			if (!access(buf, X_OK)) return buf;
		}
		path += n + !!path[n];
	}
	return 0;
}

/* The start of memcheck's report (all of it is in the file). */
static void show(const char *log)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(log, "r");
	if (!f) return;
	while (fgets(line, sizeof line, f) && n++ < 40)
		print_error("%s", line);
	fclose(f);
}

static void memcheck(int workers)
{
	const char *vg = valgrind_path();
	char exe[PATH_MAX], ws[8], log[PATH_MAX + 32], logopt[PATH_MAX + 48];
	ssize_t n;
	int st;
	if (!vg) {
		print_message("valgrind not in PATH: skipped\n");
		skip();
	}
	if (!WEFT_CLIENT_REQUESTS && strcmp(WEFT_PAL, "native")) {
		print_message("this build has no Valgrind client requests "
			"(configure found no valgrind.h): skipped\n");
		skip();
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	assert_true(n > 0);
	exe[n] = 0;
	snprintf(ws, sizeof ws, "%d", workers);
	snprintf(log, sizeof log, "%s-w%d.log", exe, workers);
	snprintf(logopt, sizeof logopt, "--log-file=%s", log);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		setenv("WEFT_WORKERS", ws, 1);
		alarm(60);	/* a hang detector (it survives the exec) */
		execl(vg, "valgrind", "-q", "--error-exitcode=99", logopt,
			exe, "--child", (char *)0);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		show(log);
		fail_msg("memcheck, WEFT_WORKERS=%d: %s %d%s; report in %s",
			workers,
			WIFEXITED(st) ? "exit status" : "killed by signal",
			WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
			WIFEXITED(st) && WEXITSTATUS(st) == 99 ?
			" (memcheck reported errors)" :
			WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM ?
			" (hung: the alarm fired)" : "", log);
	}
}

static void memcheck_one_worker(void **state) { memcheck(1); }
static void memcheck_two_workers(void **state) { memcheck(2); }

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--child"))
		return child();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(memcheck_one_worker),
		cmocka_unit_test(memcheck_two_workers),
	};
	return cmocka_run_group_tests_name("memcheck", tests, 0, 0);
}
