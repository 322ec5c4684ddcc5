/*
 * reltime.h - for backends: turn an absolute deadline on a clock into the
 * time left (the pal.h deadline convention), without touching errno.
 */
#ifndef WEFT_PAL_RELTIME_H
#define WEFT_PAL_RELTIME_H

#include <errno.h>
#include <time.h>

hidden int __clock_gettime(clockid_t, struct timespec *);

/* *rel = at - now(clk).  Returns 0, -EINVAL (bad tv_nsec or clock) or
 * -ETIMEDOUT (at has passed). */
static inline int __pal_reltime(clockid_t clk, const struct timespec *at,
	struct timespec *rel)
{
	struct timespec now;
	int e = errno;

	if (at->tv_nsec >= 1000000000UL) return -EINVAL;
	if (__clock_gettime(clk, &now)) {
		errno = e;	/* __clock_gettime sets it; the PAL must not */
		return -EINVAL;
	}
	rel->tv_sec = at->tv_sec - now.tv_sec;
	if ((rel->tv_nsec = at->tv_nsec - now.tv_nsec) < 0) {
		rel->tv_sec--;
		rel->tv_nsec += 1000000000;
	}
	return rel->tv_sec < 0 ? -ETIMEDOUT : 0;
}

#endif
