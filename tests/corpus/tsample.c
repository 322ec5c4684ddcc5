/*
 * tsample: run a command under a timeout and measure it, for make corpus.
 *
 *   tsample [-t SECONDS] [-n NAME] [-o FILE] -- COMMAND [ARG]...
 *
 * Runs COMMAND in its own process group.  Every 20 ms it reads
 * /proc/PID/task of every process in that group (and of every process
 * whose comm is NAME, when -n is given: a server a test script starts in
 * the background may leave the group).  It reports the peak number of
 * OS threads that any one such process had, which for a test harness
 * (sh, perl) running a program is the program's.  After SECONDS (default
 * 600) the whole group gets SIGKILL: an M:N program that hangs may not
 * die of SIGTERM.
 *
 * Writes one line to FILE (default stderr):
 *   rc=N wall=SECONDS threads=N [timeout=1]
 * and exits with COMMAND's status (128+signal if killed; 124 on timeout).
 *
 * Built with the system gcc; it is the measuring tool, not a subject.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Threads of process pid if it is in process group pgid or named name. */
static int threads_of(const char *pid, pid_t pgid, const char *name)
{
	char path[64], buf[512];
	int fd, n;
	snprintf(path, sizeof path, "/proc/%s/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* pid (comm) state ppid pgrp session tty tpgid flags ... field 20: num_threads */
	char *l = strchr(buf, '('), *r = strrchr(buf, ')');
	if (!l || !r)
		return 0;
	int match = 0;
	if (name && (size_t)(r - l - 1) == strlen(name) && !memcmp(l + 1, name, r - l - 1))
		match = 1;
	char state;
	long ppid, pgrp, sess, tty, tpgid, fl, a, b, c, d, ut, st, cut, cst, prio, nice, nthr;
	if (sscanf(r + 2, "%c %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld",
		   &state, &ppid, &pgrp, &sess, &tty, &tpgid, &fl, &a, &b, &c, &d, &ut, &st,
		   &cut, &cst, &prio, &nice, &nthr) != 18)
		return 0;
	if (state == 'Z')
		return 0;
	if (pgrp == pgid)
		match = 1;
	return match ? (int)nthr : 0;
}

static int sample(pid_t pgid, const char *name)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int peak = 0;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		int t = threads_of(e->d_name, pgid, name);
		if (t > peak)
			peak = t;
	}
	closedir(d);
	return peak;
}

int main(int argc, char **argv)
{
	double limit = 600;
	const char *name = NULL, *out = NULL;
	int i;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "-t") && i + 1 < argc)
			limit = atof(argv[++i]);
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			name = argv[++i];
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else
			break;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: tsample [-t SECONDS] [-n NAME] [-o FILE] -- COMMAND [ARG]...\n");
		return 2;
	}
	double t0 = now();
	pid_t pid = fork();
	if (pid < 0) {
		perror("tsample: fork");
		return 2;
	}
	if (pid == 0) {
		setpgid(0, 0);
		execvp(argv[i], argv + i);
		fprintf(stderr, "tsample: %s: %s\n", argv[i], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	int peak = 0, status = 0, timedout = 0;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		int t = sample(pid, name);
		if (t > peak)
			peak = t;
		if (!timedout && now() - t0 > limit) {
			timedout = 1;
			kill(-pid, SIGKILL);
		}
		usleep(20000);
	}
	double wall = now() - t0;
	/* whatever the command left behind in its group goes too */
	kill(-pid, SIGKILL);
	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (timedout)
		rc = 124;
	FILE *f = out ? fopen(out, "w") : stderr;
	if (!f)
		f = stderr;
	fprintf(f, "rc=%d wall=%.2f threads=%d%s\n", rc, wall, peak, timedout ? " timeout=1" : "");
	if (f != stderr)
		fclose(f);
	return rc;
}
