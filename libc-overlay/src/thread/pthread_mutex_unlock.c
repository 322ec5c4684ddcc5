#include "pthread_impl.h"
#include "pal.h"

static int unlock_owned(pthread_mutex_t *m);

/* weft: a normal mutex (no owner to check, not robust, not PI) first,
 * in a function small enough to need no stack frame: what the general
 * path below does for that type, which saved six registers first. */
int __pthread_mutex_unlock(pthread_mutex_t *m)
{
	if (m->_m_type & 15) return unlock_owned(m);
	int waiters = m->_m_waiters;
	int cont = a_swap(&m->_m_lock, 0);
	if (waiters || cont<0)
		__pal_futex_wake_lock(&m->_m_lock, (m->_m_type & 128) ^ 128);
	return 0;
}

static __attribute__((noinline)) int unlock_owned(pthread_mutex_t *m)
{
	pthread_t self;
	int waiters = m->_m_waiters;
	int cont;
	int type = m->_m_type & 15;
	int priv = (m->_m_type & 128) ^ 128;
	int new = 0;
	int old;

	if (type != PTHREAD_MUTEX_NORMAL) {
		self = __pthread_self();
		old = m->_m_lock;
		int own = old & 0x3fffffff;
		if (own != self->tid)
			return EPERM;
		if ((type&3) == PTHREAD_MUTEX_RECURSIVE && m->_m_count)
			return m->_m_count--, 0;
		if ((type&4) && (old&0x40000000))
			new = 0x7fffffff;
		if (!priv) {
			self->robust_list.pending = &m->_m_next;
			__vm_lock();
		}
		volatile void *prev = m->_m_prev;
		volatile void *next = m->_m_next;
		*(volatile void *volatile *)prev = next;
		if (next != &self->robust_list.head) *(volatile void *volatile *)
			((char *)next - sizeof(void *)) = prev;
	}
	if (type&8) {
		if (old<0 || a_cas(&m->_m_lock, old, new)!=old) {
			if (new) a_store(&m->_m_waiters, -1);
			__pal_futex_unlock_pi(&m->_m_lock, priv);
		}
		cont = 0;
		waiters = 0;
	} else {
		cont = a_swap(&m->_m_lock, new);
	}
	if (type != PTHREAD_MUTEX_NORMAL && !priv) {
		self->robust_list.pending = 0;
		__vm_unlock();
	}
	/* weft: a robust mutex left unrecoverable wakes every waiter, as
	 * each will only return ENOTRECOVERABLE (musl woke one, and the
	 * rest waited forever; PI ones are the kernel's or the backend's
	 * unlock_pi's).  Otherwise a lock wake (pal.h), which under M:N
	 * does not wake a second waiter while the first is on its way. */
	if (new == 0x7fffffff && !(type&8))
		__wake(&m->_m_lock, -1, priv);
	else if (waiters || cont<0)
		__pal_futex_wake_lock(&m->_m_lock, priv);
	return 0;
}

weak_alias(__pthread_mutex_unlock, pthread_mutex_unlock);
