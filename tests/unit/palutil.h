/* palutil.h - helpers for the PAL unit tests, built on the PAL itself. */
#ifndef WEFT_PALUTIL_H
#define WEFT_PALUTIL_H

#include "testutil.h"
#include "pal.h"

/* musl's internal cancel state: cancellation points return -ECANCELED. */
#define PTHREAD_CANCEL_MASKED 2

/* Wait until the counter *p (which only grows) reaches want, or ms pass;
 * returns its last value. */
static inline int await_count_ms(int *p, int want, long ms)
{
	struct timespec at = deadline_ms(CLOCK_MONOTONIC, ms);
	int v;

	while ((v = aload(p)) < want)
		if (__pal_futex_wait(p, v, 1, CLOCK_MONOTONIC, &at, 0) == -ETIMEDOUT)
			return aload(p);
	return v;
}

static inline int await_count(int *p, int want)
{
	return await_count_ms(p, want, LONG_MS);
}

/* Bump a counter waited on by await_count (async-signal-safe). */
static inline void count_up(int *p)
{
	ainc(p);
	__pal_futex_wake(p, -1, 1);
}

#endif
