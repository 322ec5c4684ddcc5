/*
 * Stress: mutexes, condition variables, semaphores, read-write locks and
 * barriers, each under many threads (64 under M:N, fewer under 1:1) that
 * yield at random points, inside critical sections too, for at least
 * 10^6 calls of the primitive (lock, unlock, wait, post, signal...),
 * ending in an exact invariant: no lost update, every item produced
 * consumed exactly once, no lost post, no reader that sees a
 * half-written state, one serial thread per barrier generation.
 *
 * Why: the focused tests (mutex.c, cond.c, ...) show each path works
 * once; lost wakeups and broken exclusion show up only when parking,
 * waking, timeouts and yields interleave by the million.  A yield inside
 * a critical section matters most under M:N, where nothing preempts a
 * task: without it one worker would never see contention at all.
 *
 * Under M:N each primitive runs on one worker and on four.  The worker
 * count is read once, at the first pthread_create, so each test runs
 * this binary again ("/proc/self/exe --child NAME") with WEFT_WORKERS=1,
 * then 4, and asserts that the child exited 0.  The native backend
 * ignores WEFT_WORKERS, so there it runs once.  A child reports a failure
 * on stderr and exits 1.  A lost wakeup fails a timed wait (LONG_MS)
 * where the primitive has one; barriers have none, so a watchdog thread
 * ends the child once no thread made progress for LONG_MS, and alarm()
 * ends it should the watchdog itself stop running (a child killed by
 * SIGALRM hung).  Neither bounds how long a child may take in all: on a
 * loaded machine a run that makes progress may take many times its
 * unloaded time (16 s for barriers under 1:1 beside two CPU-bound
 * processes on two cores, against a former alarm of 20 s for the run).
 *
 * Sizes: under 1:1 every yield and every blocking wait is a system call
 * of some µs, so there are fewer threads and rarer yields; a run of 10^6
 * barrier waits still takes a few seconds on two cores.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"

#define MN (strcmp(WEFT_PAL, "native"))
#define MAXT 64
/* Calls of the primitive per run, at least; OPS is a multiple of MAXT. */
#define MIN_OPS 1000000L
#define OPS (1L << 20)
/* A yield with probability 1/2^YB between operations, 1/2^YI inside. */
#define YB (MN ? 4 : 6)
#define YI (MN ? 3 : 5)

static int nt;			/* threads in the child */
static const char *body_name;	/* the child's primitive */
static long nops;		/* calls of the primitive, summed at exit */

/* ---- The child's failure report and watchdog ---------------------------- */

static _Noreturn __attribute__((format(printf, 1, 2)))
void cfail(const char *fmt, ...)
{
	char what[64];
	va_list ap;

	snprintf(what, sizeof what, "stress %s", body_name);
	va_start(ap, fmt);
	child_vfail(what, WEFT_PAL, fmt, ap);
}

/* Each thread's progress, read by the watchdog. */
static struct prog {
	unsigned long n;
	const char *where;
} __attribute__((aligned(64))) prog[MAXT];

static inline void progress(int me, const char *where)
{
	__atomic_store_n(&prog[me].where, where, __ATOMIC_RELAXED);
	__atomic_store_n(&prog[me].n, prog[me].n + 1, __ATOMIC_RELAXED);
}

static sem_t wd_done;

/* Ends the child once no thread made progress for LONG_MS.  Each round
 * pushes the alarm back: it fires only if this thread stops running. */
static void *watchdog(void *p)
{
	struct timespec since = ts_now(CLOCK_MONOTONIC);
	unsigned long last = 0;

	for (;;) {
		struct timespec at = deadline_ms(CLOCK_REALTIME, 200);
		alarm(2 * LONG_MS / 1000);
		if (!sem_timedwait(&wd_done, &at))
			return 0;
		unsigned long sum = 0;
		for (int i = 0; i < nt; i++)
			sum += __atomic_load_n(&prog[i].n, __ATOMIC_RELAXED);
		if (sum != last) {
			last = sum;
			since = ts_now(CLOCK_MONOTONIC);
			continue;
		}
		if (ts_ns_since(ts_now(CLOCK_MONOTONIC), since) < LONG_MS * 1000000LL)
			continue;
		char buf[3072];
		size_t n = 0;
		for (int i = 0; i < nt && n < sizeof buf - 64; i++)
			n += snprintf(buf + n, sizeof buf - n, " [%d] %lu %s", i,
				__atomic_load_n(&prog[i].n, __ATOMIC_RELAXED),
				__atomic_load_n(&prog[i].where, __ATOMIC_RELAXED));
		cfail("no thread made progress for %d ms (lost wakeup or "
			"deadlock); per thread, operations done and last step:%s",
			LONG_MS, buf);
	}
}

/* ---- Helpers ------------------------------------------------------------ */

/* xorshift32: a cheap per-thread PRNG; never seeded with 0. */
static inline uint32_t rnd(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static inline uint32_t seed(int me)
{
	return 2654435761u * (uint32_t)(me + 1) | 1;
}

/* True with probability 1 / 2^bits. */
static inline int chance(uint32_t *s, int bits)
{
	return !(rnd(s) & ((1u << bits) - 1));
}

static inline void maybe_yield(uint32_t *s, int bits)
{
	if (chance(s, bits))
		sched_yield();
}

static inline struct timespec long_deadline(void)
{
	return deadline_ms(CLOCK_REALTIME, LONG_MS);
}

/* ---- Mutexes ------------------------------------------------------------ */

/*
 * Three mutexes: normal, recursive (locked twice), error-checking.  Each
 * operation picks one and a way to lock it (timed, plain, try), and
 * increments its counter as read, maybe yield, write: a second owner
 * would lose an update, and is also caught by the owner field.
 */
static pthread_mutex_t mx[3];
static long mcount[3];		/* under mx[k] */
static int mowner[3];		/* under mx[k]: -1 or the owner */
static long mdone[3];		/* per-thread tallies, summed at exit */

static void mutex_setup(void)
{
	static const int types[3] = { PTHREAD_MUTEX_NORMAL,
		PTHREAD_MUTEX_RECURSIVE, PTHREAD_MUTEX_ERRORCHECK };
	for (int k = 0; k < 3; k++) {
		pthread_mutexattr_t a;
		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, types[k]);
		if (pthread_mutex_init(&mx[k], &a))
			cfail("pthread_mutex_init");
		pthread_mutexattr_destroy(&a);
		mowner[k] = -1;
	}
}

/* Lock m one of three ways; the calls it took. */
static int mutex_take(pthread_mutex_t *m, uint32_t r, int me)
{
	int e, calls = 1;

	switch (r & 7) {
	case 0:
		e = pthread_mutex_lock(m);
		break;
	case 1:
		if ((e = pthread_mutex_trylock(m)) != EBUSY)
			break;
		calls++;
		/* fall through */
	default: {
		struct timespec at = long_deadline();
		e = pthread_mutex_timedlock(m, &at);
		if (e == ETIMEDOUT)
			cfail("thread %d: pthread_mutex_timedlock: not woken "
				"within %d ms: lost wakeup?", me, LONG_MS);
	}
	}
	if (e)
		cfail("thread %d: locking a mutex: error %d", me, e);
	return calls;
}

static void *mutex_thread(void *p)
{
	int me = (long)p;
	uint32_t s = seed(me);
	long mine[3] = { 0 }, ops = 0;

	for (long i = 0; i < OPS / 2 / nt; i++) {
		uint32_t r = rnd(&s);
		int k = (r >> 8) % 3;
		pthread_mutex_t *m = &mx[k];

		progress(me, "mutex lock");
		ops += mutex_take(m, r, me);
		if (mowner[k] != -1)
			cfail("thread %d: locked mutex %d while thread %d "
				"holds it", me, k, mowner[k]);
		mowner[k] = me;
		if (k == 1 && pthread_mutex_lock(m))
			cfail("thread %d: recursive relock failed", me);
		if (k == 2 && !(r >> 24 & 15)) {
			if (pthread_mutex_trylock(m) != EBUSY)
				cfail("thread %d: error-checking trylock by "
					"the owner did not fail with EBUSY", me);
			ops++;
		}
		long c = mcount[k];
		/* Contention, under M:N too: others come and park. */
		maybe_yield(&s, YI);
		mcount[k] = c + 1;
		if (mowner[k] != me)
			cfail("thread %d: mutex %d owner changed to %d while "
				"held", me, k, mowner[k]);
		if (k == 1 && pthread_mutex_unlock(m))
			cfail("thread %d: recursive unlock failed", me);
		mowner[k] = -1;
		if (pthread_mutex_unlock(m))
			cfail("thread %d: pthread_mutex_unlock failed", me);
		ops += 1 + (k == 1) * 2;
		mine[k]++;
		maybe_yield(&s, YB);
	}
	for (int k = 0; k < 3; k++)
		aadd(&mdone[k], mine[k]);
	aadd(&nops, ops);
	return 0;
}

static void mutex_check(void)
{
	long sum = 0;

	for (int k = 0; k < 3; k++) {
		if (mcount[k] != mdone[k])
			cfail("mutex %d: counter %ld after %ld increments: lost "
				"updates", k, mcount[k], mdone[k]);
		if (pthread_mutex_trylock(&mx[k]))
			cfail("mutex %d: still locked at the end", k);
		pthread_mutex_unlock(&mx[k]);
		pthread_mutex_destroy(&mx[k]);
		sum += mdone[k];
	}
	if (sum != OPS / 2)
		cfail("%ld lock/unlock pairs done, expected %ld", sum, OPS / 2);
}

/* ---- Condition variables ------------------------------------------------ */

/*
 * A bounded queue of QN items under one mutex, with not_full and
 * not_empty condvars; half the threads produce, half consume.  Items are
 * numbered: each is consumed once (the seen map), each consumer sees a
 * producer's items in order, and all are consumed.  The consumer that
 * takes the last item broadcasts, so the others stop.  Each item costs
 * two signals (or broadcasts), so OPS / 2 items.
 */
#define QN 8
#define ITEMS (OPS / 2)

static pthread_mutex_t qm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static long queue[QN];
static int qhead, qlen;		/* under qm */
static long consumed;		/* under qm */
static unsigned char seen[ITEMS];

/* Wait on c under qm while cond holds, bounded by LONG_MS; counts the
 * waits in the caller's ops. */
#define QWAIT(c, cond, me, what) do { \
	int have_at_ = 0; \
	struct timespec at_; \
	while (cond) { \
		if (!have_at_) \
			at_ = long_deadline(), have_at_ = 1; \
		int e_ = pthread_cond_timedwait((c), &qm, &at_); \
		ops++; \
		if (e_ == ETIMEDOUT && (cond)) \
			cfail("thread %d (%s): not woken within %d ms: lost " \
				"wakeup? (queue %d/%d, %ld consumed)", (me), \
				(what), LONG_MS, qlen, QN, consumed); \
		if (e_ && e_ != ETIMEDOUT) \
			cfail("pthread_cond_timedwait: error %d", e_); \
	} \
} while (0)

static void *cond_thread(void *p)
{
	int me = (long)p, np = nt / 2;
	long per = ITEMS / np, ops = 0;
	uint32_t s = seed(me);

	if (me < np) {
		/* producer me */
		for (long i = 0; i < per; i++) {
			maybe_yield(&s, YB);
			progress(me, "producer");
			pthread_mutex_lock(&qm);
			QWAIT(&not_full, qlen == QN, me, "producer");
			queue[(qhead + qlen++) % QN] = me * per + i;
			maybe_yield(&s, YI + 3);	/* holding qm */
			if (chance(&s, 3))
				pthread_cond_broadcast(&not_empty);
			else
				pthread_cond_signal(&not_empty);
			ops++;
			pthread_mutex_unlock(&qm);
		}
	} else {
		/* consumer */
		long last[MAXT / 2];
		for (int j = 0; j < np; j++)
			last[j] = -1;
		for (;;) {
			maybe_yield(&s, YB);
			progress(me, "consumer");
			pthread_mutex_lock(&qm);
			QWAIT(&not_empty, !qlen && consumed < ITEMS, me,
				"consumer");
			if (!qlen) {
				pthread_mutex_unlock(&qm);
				break;
			}
			long v = queue[qhead];
			qhead = (qhead + 1) % QN;
			qlen--;
			if (++consumed == ITEMS) {
				pthread_cond_broadcast(&not_empty);
				ops++;
			}
			maybe_yield(&s, YI + 3);	/* holding qm */
			pthread_cond_signal(&not_full);
			ops++;
			pthread_mutex_unlock(&qm);

			if (v < 0 || v >= ITEMS)
				cfail("consumer %d: item %ld out of range", me, v);
			if (__atomic_exchange_n(&seen[v], 1, __ATOMIC_RELAXED))
				cfail("item %ld consumed twice", v);
			int from = v / per;
			if (v % per <= last[from])
				cfail("consumer %d: item %ld of producer %d after "
					"item %ld: out of order", me, v % per,
					from, last[from]);
			last[from] = v % per;
		}
	}
	aadd(&nops, ops);
	return 0;
}

static void cond_check(void)
{
	if (consumed != ITEMS || qlen)
		cfail("%ld items consumed, %d left queued; expected %ld, 0",
			consumed, qlen, ITEMS);
	for (long v = 0; v < ITEMS; v++)
		if (!seen[v])
			cfail("item %ld was never consumed", v);
}

/* ---- Semaphores --------------------------------------------------------- */

/*
 * Half the threads use a semaphore of value LIMIT as a counting lock:
 * never more than LIMIT inside.  A quarter post an "items" semaphore, a
 * quarter wait on it, as many times.  At the end lim is back to LIMIT
 * and items to 0.  OPS / 4 wait/post pairs on each.
 */
#define LIMIT 3

static sem_t lim, items;
static int inside;

/* Take sm, trying first now and then; the calls it took. */
static int sem_take(sem_t *sm, int me, uint32_t *s, const char *what)
{
	int calls = 1;

	if (chance(s, 2)) {
		if (!sem_trywait(sm))
			return 1;
		calls++;
	}
	struct timespec at = long_deadline();
	while (sem_timedwait(sm, &at)) {
		if (errno == ETIMEDOUT)
			cfail("thread %d: sem_timedwait (%s): nothing posted "
				"within %d ms: lost wakeup?", me, what, LONG_MS);
		if (errno != EINTR)
			cfail("thread %d: sem_timedwait: errno %d", me, errno);
		calls++;
	}
	return calls;
}

static void *sem_thread(void *p)
{
	int me = (long)p;
	uint32_t s = seed(me);
	long nlim = OPS / 4 / (nt / 2), nitems = OPS / 4 / (nt / 4), ops = 0;

	if (me < nt / 2) {
		for (long i = 0; i < nlim; i++) {
			progress(me, "sem lim");
			ops += sem_take(&lim, me, &s, "lim");
			int n = ainc(&inside);
			if (n > LIMIT)
				cfail("%d threads inside a semaphore of value %d",
					n, LIMIT);
			maybe_yield(&s, YI);
			aadd(&inside, -1);
			if (sem_post(&lim))
				cfail("sem_post: errno %d", errno);
			ops++;
			maybe_yield(&s, YB);
		}
	} else if (me < nt / 2 + nt / 4) {
		for (long i = 0; i < nitems; i++) {
			progress(me, "sem post");
			if (sem_post(&items))
				cfail("sem_post: errno %d", errno);
			ops++;
			maybe_yield(&s, YB);
		}
	} else {
		for (long i = 0; i < nitems; i++) {
			progress(me, "sem wait");
			ops += sem_take(&items, me, &s, "items");
			maybe_yield(&s, YB);
		}
	}
	aadd(&nops, ops);
	return 0;
}

static void sem_setup(void)
{
	if (sem_init(&lim, 0, LIMIT) || sem_init(&items, 0, 0))
		cfail("sem_init");
}

static void sem_check(void)
{
	int v;

	sem_getvalue(&lim, &v);
	if (v != LIMIT)
		cfail("counting semaphore ends at %d, expected %d", v, LIMIT);
	sem_getvalue(&items, &v);
	if (v)
		cfail("items semaphore ends at %d, expected 0", v);
	if (inside)
		cfail("%d threads still inside", inside);
	sem_destroy(&lim);
	sem_destroy(&items);
}

/* ---- Read-write locks --------------------------------------------------- */

/*
 * A writer sets every word of data to one more than before, yielding
 * halfway now and then; readers check that all words are equal, that
 * they never go backwards, and that they stay put while the read lock
 * is held (across a yield).  At the end every word counts the writes.
 * One lock in 8 is a write lock; OPS / 2 lock/unlock pairs.
 */
#define NWORDS 8

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static volatile long data[NWORDS];
static int rd_inside, wr_inside;
static long writes;

static void rw_check_words(int me, long v, const char *when)
{
	for (int i = 0; i < NWORDS; i++)
		if (data[i] != v)
			cfail("reader %d %s: word %d is %ld, word 0 %ld: a "
				"writer's half-done state", me, when, i, data[i], v);
}

static void *rw_thread(void *p)
{
	int me = (long)p;
	uint32_t s = seed(me);
	long mine = 0, seen_v = 0, ops = 0;

	for (long i = 0; i < OPS / 2 / nt; i++) {
		uint32_t r = rnd(&s);
		struct timespec at = long_deadline();
		int e;

		if (!(r & 7)) {
			progress(me, "wrlock");
			e = r >> 3 & 7 ? pthread_rwlock_timedwrlock(&rw, &at) :
				pthread_rwlock_wrlock(&rw);
			if (e == ETIMEDOUT)
				cfail("thread %d: pthread_rwlock_timedwrlock: not "
					"granted within %d ms", me, LONG_MS);
			if (e)
				cfail("thread %d: wrlock: error %d", me, e);
			if (ainc(&wr_inside) != 1 || aload(&rd_inside))
				cfail("writer %d is not alone: %d writers, %d "
					"readers", me, wr_inside, rd_inside);
			long v = data[0];
			for (int w = 0; w < NWORDS; w++) {
				data[w] = v + 1;
				if (w == NWORDS / 2)
					maybe_yield(&s, YI);
			}
			aadd(&wr_inside, -1);
			mine++;
		} else {
			progress(me, "rdlock");
			switch (r >> 3 & 7) {
			case 0:
				e = pthread_rwlock_rdlock(&rw);
				break;
			case 1:
				if ((e = pthread_rwlock_tryrdlock(&rw)) != EBUSY)
					break;
				ops++;
				/* fall through */
			default:
				e = pthread_rwlock_timedrdlock(&rw, &at);
			}
			if (e == ETIMEDOUT)
				cfail("thread %d: pthread_rwlock_timedrdlock: not "
					"granted within %d ms", me, LONG_MS);
			if (e)
				cfail("thread %d: rdlock: error %d", me, e);
			ainc(&rd_inside);
			if (aload(&wr_inside))
				cfail("reader %d got in with a writer", me);
			long v = data[0];
			rw_check_words(me, v, "on entry");
			if (v < seen_v)
				cfail("reader %d: data went back from %ld to %ld",
					me, seen_v, v);
			seen_v = v;
			if (chance(&s, YI + 1)) {
				sched_yield();
				rw_check_words(me, v, "after a yield");
			}
			aadd(&rd_inside, -1);
		}
		if ((e = pthread_rwlock_unlock(&rw)))
			cfail("thread %d: pthread_rwlock_unlock: error %d", me, e);
		ops += 2;
		maybe_yield(&s, YB);
	}
	aadd(&writes, mine);
	aadd(&nops, ops);
	return 0;
}

static void rw_check(void)
{
	for (int i = 0; i < NWORDS; i++)
		if (data[i] != writes)
			cfail("word %d is %ld after %ld writes", i, data[i], writes);
	if (writes < OPS / 2 / 16)
		cfail("only %ld writes in %ld locks", writes, OPS / 2);
	if (pthread_rwlock_trywrlock(&rw))
		cfail("rwlock still held at the end");
	pthread_rwlock_unlock(&rw);
}

/* ---- Barriers ----------------------------------------------------------- */

/*
 * NG groups of threads, each round on its group's barrier; every 256
 * rounds, all threads on one more.  In round r each thread writes r in
 * its slot of buffer r & 1 before the wait and checks every slot of its
 * group after it: all arrived in this generation.  (Buffer r & 1 is not
 * written again before round r + 2, which nobody starts before all have
 * left round r + 1, so after their checks.)  The serial thread of round
 * r finds serials == r, so there is exactly one per generation, and
 * every thread finds serials r or r + 1.  OPS waits.
 */
#define NG 4

static pthread_barrier_t gbar[NG], allbar;
static volatile long slots[NG][2][MAXT / NG];
static long serials[NG], all_serials;

static void *barrier_thread(void *p)
{
	int me = (long)p, gs = nt / NG, g = me / gs, i = me % gs;
	uint32_t s = seed(me);
	long rounds = OPS / nt, ops = 0;

	for (long r = 0; r < rounds; r++) {
		maybe_yield(&s, YB);
		slots[g][r & 1][i] = r;
		progress(me, "barrier");
		int e = pthread_barrier_wait(&gbar[g]);
		ops++;
		if (e == PTHREAD_BARRIER_SERIAL_THREAD) {
			long n = __atomic_fetch_add(&serials[g], 1, __ATOMIC_SEQ_CST);
			if (n != r)
				cfail("group %d round %ld: serial thread finds "
					"%ld serial threads before", g, r, n);
		} else if (e) {
			cfail("pthread_barrier_wait: error %d", e);
		}
		for (int j = 0; j < gs; j++)
			if (slots[g][r & 1][j] != r)
				cfail("group %d round %ld: thread %d left the barrier "
					"while thread %d was at round %ld", g, r, i,
					j, slots[g][r & 1][j]);
		long n = aload(&serials[g]);
		if (n < r || n > r + 1)
			cfail("group %d round %ld: %ld serial threads so far", g,
				r, n);
		if (r % 256 == 255) {
			progress(me, "all-thread barrier");
			e = pthread_barrier_wait(&allbar);
			ops++;
			if (e == PTHREAD_BARRIER_SERIAL_THREAD)
				ainc(&all_serials);
			else if (e)
				cfail("pthread_barrier_wait: error %d", e);
		}
	}
	aadd(&nops, ops);
	return 0;
}

static void barrier_setup(void)
{
	for (int g = 0; g < NG; g++)
		if (pthread_barrier_init(&gbar[g], 0, nt / NG))
			cfail("pthread_barrier_init");
	if (pthread_barrier_init(&allbar, 0, nt))
		cfail("pthread_barrier_init");
}

static void barrier_check(void)
{
	long rounds = OPS / nt;

	for (int g = 0; g < NG; g++) {
		if (serials[g] != rounds)
			cfail("group %d: %ld serial threads in %ld rounds", g,
				serials[g], rounds);
		pthread_barrier_destroy(&gbar[g]);
	}
	if (all_serials != rounds / 256)
		cfail("%ld serial threads in %ld all-thread rounds",
			all_serials, rounds / 256);
	pthread_barrier_destroy(&allbar);
}

/* ---- The child ---------------------------------------------------------- */

static const struct body {
	const char *name;
	int nt_mn, nt_native;	/* threads: multiples of 8, up to MAXT */
	void (*setup)(void);
	void *(*thread)(void *);
	void (*check)(void);
} bodies[] = {
	{ "mutex", 64, 16, mutex_setup, mutex_thread, mutex_check },
	{ "cond", 64, 16, 0, cond_thread, cond_check },
	{ "sem", 64, 16, sem_setup, sem_thread, sem_check },
	{ "rwlock", 64, 16, 0, rw_thread, rw_check },
	{ "barrier", 64, 8, barrier_setup, barrier_thread, barrier_check },
};

static const struct body *body(const char *name)
{
	for (size_t i = 0; i < NELEM(bodies); i++)
		if (!strcmp(bodies[i].name, name))
			return &bodies[i];
	return 0;
}

static int child(const char *name)
{
	const struct body *b = body(name);
	pthread_t t[MAXT], wd;

	body_name = name;
	if (!b)
		cfail("no such stress body");
	/* The last resort, should the watchdog not run (it pushes this back
	 * while it does). */
	alarm(2 * LONG_MS / 1000);
	nt = MN ? b->nt_mn : b->nt_native;
	if (b->setup)
		b->setup();
	sem_init(&wd_done, 0, 0);
	if (pthread_create(&wd, 0, watchdog, 0))
		cfail("pthread_create");
	for (long i = 0; i < nt; i++)
		if (pthread_create(&t[i], 0, b->thread, (void *)i))
			cfail("pthread_create");
	for (int i = 0; i < nt; i++)
		pthread_join(t[i], 0);
	sem_post(&wd_done);
	pthread_join(wd, 0);
	b->check();
	if (nops < MIN_OPS)
		cfail("only %ld calls", nops);
	return 0;
}

/* ---- The tests ---------------------------------------------------------- */

/* Run "/proc/self/exe --child name" with WEFT_WORKERS=workers. */
static void run_child(const char *name, int workers)
{
	const struct body *b = body(name);
	struct timespec t0 = ts_now(CLOCK_MONOTONIC);
	char w[16];
	pid_t pid;
	int st;

	snprintf(w, sizeof w, "%d", workers);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		setenv("WEFT_WORKERS", w, 1);
		execl("/proc/self/exe", "stress", "--child", name, (char *)0);
		_exit(127);
	}
	st = reap(pid);
	if (WIFSIGNALED(st))
		fail_msg("stress %s, WEFT_WORKERS=%d: child killed by signal %d%s",
			name, workers, WTERMSIG(st), WTERMSIG(st) == SIGALRM ?
			" (SIGALRM: hung, or far too slow)" : "");
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("stress %s, WEFT_WORKERS=%d: child failed, exit status "
			"%d (its message is above)", name, workers,
			WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	print_message("stress %s, %s: %d threads, %.2f s\n", name,
		MN ? (workers == 1 ? "1 worker" : "4 workers") : "1:1",
		MN ? b->nt_mn : b->nt_native,
		ts_ns_since(ts_now(CLOCK_MONOTONIC), t0) / 1e9);
}

static void stress(const char *name)
{
	run_child(name, 1);
	if (MN)
		run_child(name, 4);
}

static void mutex_stress(void **state)
{
	stress("mutex");
}

static void cond_stress(void **state)
{
	stress("cond");
}

static void sem_stress(void **state)
{
	stress("sem");
}

static void rwlock_stress(void **state)
{
	stress("rwlock");
}

static void barrier_stress(void **state)
{
	stress("barrier");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mutex_stress),
		cmocka_unit_test(cond_stress),
		cmocka_unit_test(sem_stress),
		cmocka_unit_test(rwlock_stress),
		cmocka_unit_test(barrier_stress),
	};

	if (argc == 3 && !strcmp(argv[1], "--child"))
		return child(argv[2]);
	return cmocka_run_group_tests_name("stress", tests, 0, 0);
}
