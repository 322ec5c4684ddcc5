#include "pthread_impl.h"
#include "pal.h"

void __wait(volatile int *addr, volatile int *waiters, int val, int priv)
{
	int spins = __pal_spins(100);
	while (spins-- && (!waiters || !*waiters)) {
		if (*addr==val) a_spin();
		else return;
	}
	if (waiters) a_inc(waiters);
	while (*addr==val)
		__pal_futex_wait(addr, val, priv, CLOCK_REALTIME, 0, 0);
	if (waiters) a_dec(waiters);
}
