/* inotify read by a thread blocking on it: the thread waits in read() on an
 * inotify fd watching a fresh directory while main creates, writes, renames
 * and deletes files there; the thread sees every event, in order. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conform.h"

static int ifd;
static char log_[4096];
static size_t loglen;

static void *reader(void *a)
{
	(void)a;
	char buf[4096] __attribute__((aligned(8)));
	for (;;) {
		ssize_t n = read(ifd, buf, sizeof buf);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) return 0;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			const char *what = e->mask & IN_CREATE ? "create" : e->mask & IN_CLOSE_WRITE ? "close_write"
					 : e->mask & IN_MOVED_FROM ? "moved_from" : e->mask & IN_MOVED_TO ? "moved_to"
					 : e->mask & IN_DELETE ? "delete" : e->mask & IN_IGNORED ? "ignored" : "other";
			loglen += snprintf(log_ + loglen, sizeof log_ - loglen, "  %s %s\n", what, e->len ? e->name : "-");
			if (e->mask & IN_IGNORED) return 0;
			p += sizeof *e + e->len;
		}
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	watchdog(10);
	char dir[] = "/tmp/conformance-inotify-XXXXXX", path[PATH_MAX], path2[PATH_MAX];
	alarm(60);
	if (!mkdtemp(dir)) { puts("mkdtemp failed"); return 1; }
	ifd = inotify_init1(IN_CLOEXEC);
	int wd = inotify_add_watch(ifd, dir, IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE);
	pthread_t t;
	pthread_create(&t, 0, reader, 0);

	snprintf(path, sizeof path, "%s/a", dir);
	snprintf(path2, sizeof path2, "%s/b", dir);
	int fd = open(path, O_CREAT | O_WRONLY, 0600);
	write(fd, "data", 4);
	close(fd);
	rename(path, path2);
	unlink(path2);
	mkdir(path, 0700);
	rmdir(path);
	inotify_rm_watch(ifd, wd); /* queues IN_IGNORED, which ends the reader */
	pthread_join(t, 0);
	rmdir(dir);
	printf("events seen by the blocked reader thread:\n%s", log_);
	return 0;
}
