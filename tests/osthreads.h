/*
 * osthreads.h - for tests that count the process's OS threads (include
 * after testutil.h, in a file that defines _GNU_SOURCE: CPU_COUNT).
 *
 *   os_threads()  entries of /proc/self/task: the process's OS threads
 *   workers()     how many workers the M:N scheduler starts: WEFT_WORKERS
 *                 if valid (sched/proc.c takes 1 to 1024), else one per
 *                 CPU the process may use
 */
#ifndef OSTHREADS_H
#define OSTHREADS_H

#include <dirent.h>
#include <sched.h>

static inline int os_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int k = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			k++;
	closedir(d);
	return k;
}

static inline int workers(void)
{
	const char *s = getenv("WEFT_WORKERS");
	cpu_set_t set;
	char *end;

	if (s && *s) {
		long v = strtol(s, &end, 10);
		if (!*end && v >= 1 && v <= 1024)
			return v;
	}
	assert_int_equal(sched_getaffinity(0, sizeof set, &set), 0);
	return CPU_COUNT(&set);
}

#endif
