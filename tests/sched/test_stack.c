/*
 * test_stack.c - sched/stack.h: guarded task stacks, on the host (glibc).
 * stack.c is included, not linked, so that tests can reset and read its
 * remembered guard method (guard_how).
 */
#define _GNU_SOURCE
#include "stack.c"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include "util.h"

#define KiB 1024
#define NSTACKS 100000

static size_t pg;

/* Lines of /proc/self/maps: the process's VMA count. */
static int maps_lines(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int c, n = 0;

	assert_non_null(f);
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Permissions ("rw-p") of the VMA holding addr, in out[5]; "" if none. */
static const char *maps_perms(const void *addr, char *out)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi, a = (unsigned long)addr;
	char line[512], perms[5];

	out[0] = 0;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 &&
		    a >= lo && a < hi)
			strcpy(out, perms);
	if (f)
		fclose(f);
	return out;
}

/* Does this kernel have MADV_GUARD_INSTALL? */
static int guard_install_works(void)
{
	void *p = mmap(0, pg, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ok;

	assert_true(p != MAP_FAILED);
	ok = !madvise(p, pg, MADV_GUARD_INSTALL);
	munmap(p, pg);
	return ok;
}

static void need_guard_install(void)
{
	if (!guard_install_works()) {
		print_message("MADV_GUARD_INSTALL unsupported (Linux < 6.13)\n");
		skip();
	}
}

/* Make madvise(MADV_GUARD_INSTALL) take action (seccomp), for fallbacks. */
static int deny_guard_install(unsigned action)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_madvise, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MADV_GUARD_INSTALL, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { NELEM(f), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static int setup(void **state)
{
	pg = sysconf(_SC_PAGESIZE);
	return 0;
}

/* ---- layout and arguments ---------------------------------------------- */

static void layout(void **state)
{
	struct __sched_stack s;
	char *m, perms[5];

	assert_int_equal(__sched_stack_alloc(&s, 64 * KiB, 4 * KiB), 0);
	m = s.map;
	assert_non_null(m);
	assert_int_equal((uintptr_t)m % pg, 0);
	assert_int_equal(s.map_size, 68 * KiB);
	assert_int_equal(s.guard, 4 * KiB);
	assert_ptr_equal(__sched_stack_top(&s), m + 68 * KiB);
	memset(m + s.guard, 0xa5, s.map_size - s.guard);
	assert_true(__sched_stack_is_guard(&s, m));
	assert_true(__sched_stack_is_guard(&s, m + s.guard - 1));
	assert_false(__sched_stack_is_guard(&s, m + s.guard));
	assert_false(__sched_stack_is_guard(&s, m - 1));
	assert_false(__sched_stack_is_guard(&s, m + s.map_size));
	assert_false(__sched_stack_is_guard(&s, 0));
	/* a madvise guard is inside the stack's VMA; mprotect splits it */
	maps_perms(m, perms);
	assert_string_equal(perms, guard_how == GUARD_MADVISE ? "rw-p" : "---p");
	__sched_stack_free(&s);
	assert_null(s.map);
	assert_int_equal(s.map_size | s.guard, 0);
	__sched_stack_free(&s);			/* freeing twice is harmless */
	assert_string_equal(maps_perms(m + s.guard, perms), "");
}

static void rounding(void **state)
{
	struct __sched_stack s;

	assert_int_equal(__sched_stack_alloc(&s, 1, 1), 0);
	assert_int_equal(s.map_size, 2 * pg);
	assert_int_equal(s.guard, pg);
	__sched_stack_free(&s);

	assert_int_equal(__sched_stack_alloc(&s, pg + 1, 0), 0);
	assert_int_equal(s.map_size, 2 * pg);
	assert_int_equal(s.guard, 0);
	assert_false(__sched_stack_is_guard(&s, s.map));
	__sched_stack_free(&s);
}

static void errors(void **state)
{
	struct __sched_stack s;
	int n = maps_lines();

	memset(&s, 0x5a, sizeof s);
	assert_int_equal(__sched_stack_alloc(&s, 0, pg), -EINVAL);
	assert_null(s.map);
	assert_int_equal(s.map_size | s.guard, 0);
	assert_int_equal(__sched_stack_alloc(&s, SIZE_MAX, 0), -EINVAL);
	assert_int_equal(__sched_stack_alloc(&s, pg, SIZE_MAX), -EINVAL);
	assert_int_equal(__sched_stack_alloc(&s, SIZE_MAX & -pg, 2 * pg),
		-EINVAL);
	memset(&s, 0x5a, sizeof s);
	assert_int_equal(__sched_stack_alloc(&s, (size_t)1 << 62, pg), -ENOMEM);
	assert_null(s.map);
	assert_int_equal(maps_lines(), n);
}

/* ---- the guard faults ---------------------------------------------------- */

struct touch {
	size_t guard;
	long off;			/* from map + guard; < 0: in the guard */
	int write;
};

static void run_touch(void *arg)
{
	struct touch *t = arg;
	struct __sched_stack s;
	volatile char *p;

	if (__sched_stack_alloc(&s, 64 * KiB, t->guard))
		_exit(10);
	p = (char *)s.map + s.guard + t->off;
	if (t->write)
		*p = 1;
	else
		(void)*p;
}

static void guard_faults(void **state)
{
	struct touch bad[] = {
		{ pg, -1, 1 },			/* top byte of the guard */
		{ pg, -(long)pg, 1 },		/* bottom byte */
		{ pg, -1, 0 },			/* reads fault too */
		{ 3 * pg, -(long)pg - 7, 1 },	/* middle of a longer guard */
	};
	struct touch ok[] = {
		{ pg, 0, 1 },			/* lowest usable byte */
		{ pg, 64 * KiB - 1, 1 },	/* highest usable byte */
	};

	for (size_t i = 0; i < NELEM(bad); i++)
		assert_killed_by(in_child(run_touch, &bad[i]), SIGSEGV, SIGBUS);
	for (size_t i = 0; i < NELEM(ok); i++)
		assert_exited_ok(in_child(run_touch, &ok[i]));
}

/* ---- many stacks --------------------------------------------------------- */

static struct __sched_stack many[NSTACKS];

static void run_touch_guard(void *arg)
{
	struct __sched_stack *s = arg;

	*(volatile char *)s->map = 1;
}

/* 100,000 guarded 64 KiB stacks at once: mprotect guards would need
 * 200,000 VMAs, over vm.max_map_count (65530 by default). */
static void many_stacks(void **state)
{
	struct timespec t0, t1;
	int before, during;

	need_guard_install();
	before = maps_lines();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < NSTACKS; i++) {
		int r = __sched_stack_alloc(&many[i], 64 * KiB, 4 * KiB);
		if (r)
			fail_msg("stack %d of %d: error %d", i, NSTACKS, r);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(guard_how, GUARD_MADVISE);
	during = maps_lines();
	print_message("%d stacks of 64 KiB + 4 KiB guard: /proc/self/maps "
		"%d -> %d lines, %.0f ns per alloc\n", NSTACKS, before, during,
		((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) /
		NSTACKS);
	assert_true(during - before < 100);

	for (int i = 0; i < NSTACKS; i += NSTACKS / 4)
		memset((char *)many[i].map + many[i].guard, 1, 64 * KiB);
	assert_killed_by(in_child(run_touch_guard, &many[NSTACKS / 2]),
		SIGSEGV, SIGBUS);

	for (int i = 0; i < NSTACKS; i++)
		__sched_stack_free(&many[i]);
	assert_true(maps_lines() - before < 10);
}

/* ---- choosing the guard method ------------------------------------------- */

/*
 * With madvise(MADV_GUARD_INSTALL) failing with err, stacks get mprotect
 * guards and later allocations do not try madvise again: a second
 * filter kills the process (SIGSYS) if they do.  Dies by SIGSEGV when
 * it writes into the guard; exits 10+ where a step fails.
 */
static void run_fallback(void *arg)
{
	long err = (long)arg;
	struct __sched_stack a, b;
	char perms[5];

	guard_how = GUARD_UNKNOWN;
	if (deny_guard_install(SECCOMP_RET_ERRNO | err))
		_exit(10);
	if (__sched_stack_alloc(&a, 64 * KiB, 2 * pg))
		_exit(11);
	if (guard_how != GUARD_MPROTECT)
		_exit(12);
	if (strcmp(maps_perms(a.map, perms), "---p") ||
	    strcmp(maps_perms((char *)a.map + a.guard, perms), "rw-p"))
		_exit(13);
	if (deny_guard_install(SECCOMP_RET_KILL_PROCESS))
		_exit(14);
	if (__sched_stack_alloc(&b, 64 * KiB, pg))
		_exit(15);
	*(volatile char *)b.map = 1;
	_exit(16);
}

static void fallback_einval(void **state)
{
	assert_killed_by(in_child(run_fallback, (void *)EINVAL), SIGSEGV, 0);
}

static void fallback_enosys(void **state)
{
	assert_killed_by(in_child(run_fallback, (void *)ENOSYS), SIGSEGV, 0);
}

/*
 * Once madvise has worked it stays the method; a mapping it refuses
 * (mlockall(MCL_FUTURE) makes new mappings VM_LOCKED, and guard install
 * fails with EINVAL there) gets an mprotect guard on its own.
 */
static void run_locked(void *arg)
{
	struct __sched_stack a, b;
	char perms[5];

	guard_how = GUARD_UNKNOWN;
	if (__sched_stack_alloc(&a, 64 * KiB, pg) || guard_how != GUARD_MADVISE)
		_exit(10);
	if (strcmp(maps_perms(a.map, perms), "rw-p"))
		_exit(11);
	if (mlockall(MCL_FUTURE))
		_exit(12);
	if (__sched_stack_alloc(&b, 64 * KiB, pg))
		_exit(13);
	if (guard_how != GUARD_MADVISE)
		_exit(14);
	if (strcmp(maps_perms(b.map, perms), "---p"))
		_exit(15);
	*(volatile char *)b.map = 1;
	_exit(16);
}

static void mlocked_falls_back(void **state)
{
	need_guard_install();
	assert_killed_by(in_child(run_locked, 0), SIGSEGV, 0);
}

/* ---- the pool ------------------------------------------------------------ */

/* Unmap everything pooled; the pool is empty after. */
static void pool_drain(void)
{
	for (int i = 0; i < POOL_CLASSES; i++) {
		struct pool_class *c = &pool.cls[i];
		for (int l = 0; l < NLISTS; l++)
			while (c->head[l]) {
				struct pool_node *n = c->head[l];
				c->head[l] = n->next;
				munmap(n->map, c->map_size);
			}
		c->young_tail = 0;
		c->count = c->map_size = c->guard = 0;
	}
	pool.bytes = pool.untrimmed = 0;
}

/* Which of class 0's lists holds the mapping at m: YOUNG, OLD, TRIMMED,
 * or -1. */
static int list_of(const void *m)
{
	for (int l = 0; l < NLISTS; l++)
		for (struct pool_node *n = pool.cls[0].head[l]; n; n = n->next)
			if (n->map == m)
				return l;
	return -1;
}

/* Pages of [p, p + len) resident, by mincore. */
static size_t resident(const void *p, size_t len)
{
	unsigned char v[1024];
	size_t n = 0, np = len / pg;

	assert_true(np <= sizeof v);
	assert_int_equal(mincore((void *)p, len, v), 0);
	for (size_t i = 0; i < np; i++)
		n += v[i] & 1;
	return n;
}

static void pool_setup(void **state)
{
	pg = sysconf(_SC_PAGESIZE);
	pool_drain();
}

/* Given back, taken again: the same mapping, its top `zero` bytes zero,
 * the rest as left, the guard still faulting. */
static void pool_reuse(void **state)
{
	struct __sched_stack s, t;
	char *m;

	pool_setup(state);
	assert_int_equal(__sched_stack_get(&s, 64 * KiB, 2 * pg, 1000), 0);
	m = s.map;
	assert_int_equal(s.map_size, 64 * KiB + 2 * pg);
	memset(m + s.guard, 0xa5, 64 * KiB);
	__sched_stack_put(&s);
	assert_null(s.map);
	assert_int_equal(pool.bytes, 64 * KiB + 2 * pg);
	/* another shape does not take it */
	assert_int_equal(__sched_stack_get(&t, 64 * KiB, pg, 0), 0);
	assert_ptr_not_equal(t.map, m);
	__sched_stack_free(&t);
	assert_int_equal(__sched_stack_get(&s, 64 * KiB, 2 * pg, 1000), 1);
	assert_ptr_equal(s.map, m);
	assert_int_equal(s.map_size, 64 * KiB + 2 * pg);
	assert_int_equal(s.guard, 2 * pg);
	assert_int_equal(pool.bytes, 0);
	for (size_t i = s.map_size - 1000; i < s.map_size; i++)
		assert_int_equal(m[i], 0);
	assert_int_equal((unsigned char)m[s.map_size - 1001], 0xa5);
	assert_int_equal((unsigned char)m[s.guard], 0xa5);
	assert_killed_by(in_child(run_touch_guard, &s), SIGSEGV, SIGBUS);
	__sched_stack_put(&s);
	pool_drain();
}

/* A worker's cache (stack.h): a put and a get of one shape stay in it
 * (LIFO, the pool untouched), zeroing the top `zero` bytes; a miss takes
 * one from the pool and up to half a cache more; a full cache spills its
 * oldest half to the pool; a mapping over an eighth of the byte cap, or
 * of a shape the pool would not keep, bypasses it; a flush empties it
 * into the pool, where trimming applies. */
static void cache_put_get(void **state)
{
	struct __sched_stack_cache c = { 0 };
	struct __sched_stack s[WEFT_STACK_CACHE + 2], t;
	size_t size = 32 * KiB;
	char *m;

	pool_setup(state);
	assert_int_equal(__sched_stack_cache_get(&c, &s[0], size, pg, 100), 0);
	m = s[0].map;
	memset(m + pg, 0xa5, size);
	__sched_stack_cache_put(&c, &s[0]);
	assert_null(s[0].map);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.bytes, size + pg);
	assert_int_equal(pool.bytes, 0);
	assert_int_equal(__sched_stack_cache_get(&c, &t, size, pg, 100), 1);
	assert_ptr_equal(t.map, m);
	assert_int_equal(t.map_size, size + pg);
	assert_int_equal(t.guard, pg);
	assert_int_equal(c.n, 0);
	assert_int_equal(c.bytes, 0);
	for (size_t i = t.map_size - 100; i < t.map_size; i++)
		assert_int_equal(m[i], 0);
	assert_int_equal((unsigned char)m[t.map_size - 101], 0xa5);
	assert_killed_by(in_child(run_touch_guard, &t), SIGSEGV, SIGBUS);
	/* another shape misses, and does not take it */
	__sched_stack_cache_put(&c, &t);
	assert_int_equal(__sched_stack_cache_get(&c, &s[0], size, 2 * pg, 0), 0);
	assert_ptr_not_equal(s[0].map, m);
	assert_int_equal(c.n, 1);
	__sched_stack_free(&s[0]);
	assert_int_equal(__sched_stack_cache_get(&c, &t, size, pg, 0), 1);
	assert_ptr_equal(t.map, m);
	__sched_stack_free(&t);

	/* full: the oldest half goes to the pool */
	for (int i = 0; i <= WEFT_STACK_CACHE; i++)
		assert_int_equal(__sched_stack_cache_get(&c, &s[i], size, pg, 0), 0);
	for (int i = 0; i <= WEFT_STACK_CACHE; i++)
		__sched_stack_cache_put(&c, &s[i]);
	assert_int_equal(c.n, WEFT_STACK_CACHE / 2 + 1);
	assert_int_equal(pool.bytes, WEFT_STACK_CACHE / 2 * (size + pg));
	/* emptied, a miss refills half a cache at once */
	for (int i = 0; i <= WEFT_STACK_CACHE / 2; i++)
		assert_int_equal(__sched_stack_cache_get(&c, &s[i], size, pg, 0), 1);
	assert_int_equal(c.n, 0);
	assert_int_equal(__sched_stack_cache_get(&c, &t, size, pg, 0), 1);
	assert_int_equal(c.n, WEFT_STACK_CACHE / 2 - 1);
	assert_int_equal(pool.bytes, 0);
	__sched_stack_cache_put(&c, &t);
	for (int i = 0; i <= WEFT_STACK_CACHE / 2; i++)
		__sched_stack_cache_put(&c, &s[i]);
	assert_int_equal(c.n, WEFT_STACK_CACHE / 2 + 1);
	/* flushed: all in the pool */
	size_t pooled = pool.bytes;
	__sched_stack_cache_flush(&c);
	assert_int_equal(c.n, 0);
	assert_int_equal(c.bytes, 0);
	assert_int_equal(pool.bytes, pooled + (WEFT_STACK_CACHE / 2 + 1) * (size + pg));

	/* too big for it: straight to the pool */
	pooled = pool.bytes;
	size = WEFT_STACK_CACHE_BYTES / 8;
	assert_int_equal(__sched_stack_cache_get(&c, &t, size, pg, 0), 0);
	__sched_stack_cache_put(&c, &t);
	assert_int_equal(c.n, 0);
	assert_int_equal(pool.bytes, pooled + size + pg);
	pool_drain();
}

/* A mapping given back is pooled as it is.  A trim pass, while the
 * untrimmed ones exceed WEFT_STACK_POOL_UNTRIMMED, trims those given back
 * before the previous pass: all but the top WEFT_STACK_POOL_HOT bytes
 * dropped (zero, not resident), the guard intact; taking one again zeroes
 * only what is still there.  One given back since the last pass is left
 * alone, however far over the budget the untrimmed ones are: a mapping
 * is never trimmed as it is given back. */
static void pool_trims(void **state)
{
	size_t size = 256 * KiB, hot = WEFT_STACK_POOL_HOT;
	struct __sched_stack s;
	char *m;

	pool_setup(state);
	assert_true(size > hot);
	assert_int_equal(__sched_stack_get(&s, size, pg, 0), 0);
	m = s.map;
	memset(m + s.guard, 0xa5, size);
	assert_int_equal(resident(m + s.guard, size), size / pg);
	__sched_stack_put(&s);
	assert_int_equal(list_of(m), YOUNG);
	assert_int_equal(pool.untrimmed, size + pg);

	/* over budget, but given back since the last pass: aged only */
	pool.untrimmed += WEFT_STACK_POOL_UNTRIMMED;
	__sched_stack_trim();
	assert_int_equal(list_of(m), OLD);
	assert_int_equal(resident(m + pg, size), size / pg);
	/* the next pass trims it */
	__sched_stack_trim();
	pool.untrimmed -= WEFT_STACK_POOL_UNTRIMMED;
	assert_int_equal(pool.untrimmed, 0);
	assert_int_equal(list_of(m), TRIMMED);
	assert_int_equal(pool.bytes, size + pg);
	assert_int_equal(resident(m + pg, size - hot), 0);
	assert_int_equal(resident(m + pg + size - hot, hot), hot / pg);

	assert_int_equal(__sched_stack_get(&s, size, pg, size), 1);
	assert_ptr_equal(s.map, m);
	/* zeroing the whole stack faulted nothing back in below the top */
	assert_int_equal(resident(m + pg, size - hot), 0);
	for (size_t i = pg; i < s.map_size; i += 512)
		assert_int_equal(m[i], 0);
	assert_killed_by(in_child(run_touch_guard, &s), SIGSEGV, SIGBUS);

	/* within the budget: passes leave it as it is */
	memset(m + s.guard, 0xa5, size);
	__sched_stack_put(&s);
	__sched_stack_trim();
	__sched_stack_trim();
	assert_int_equal(list_of(m), OLD);
	assert_int_equal(pool.untrimmed, size + pg);
	assert_int_equal(resident(m + pg, size), size / pg);

	/* far over the budget: still pooled as it is, for the passes */
	assert_int_equal(__sched_stack_get(&s, size, pg, 0), 1);
	memset(m + s.guard, 0xa5, size);
	pool.untrimmed = 4 * (size_t)WEFT_STACK_POOL_UNTRIMMED;
	__sched_stack_put(&s);
	pool.untrimmed -= 4 * (size_t)WEFT_STACK_POOL_UNTRIMMED;
	assert_int_equal(list_of(m), YOUNG);
	assert_int_equal(pool.untrimmed, size + pg);
	assert_int_equal(resident(m + pg, size), size / pg);
	pool_drain();
}

/* A burst leaves at most WEFT_STACK_POOL_MAX bytes pooled, all of it
 * untrimmed, and two trim passes later at most WEFT_STACK_POOL_UNTRIMMED
 * untrimmed; the rest of the burst is unmapped.  Each stack touches its lowest and highest page: a trimmed
 * one keeps only the highest resident. */
static size_t count_trimmed(size_t map_size)
{
	size_t trimmed = 0;
	for (int l = 0; l < NLISTS; l++)
		for (struct pool_node *p = pool.cls[0].head[l]; p; p = p->next) {
			char *m = p->map;
			assert_int_equal(resident(m + pg, pg), l != TRIMMED);
			assert_int_equal(resident(m + map_size - pg, pg), 1);
			trimmed += l == TRIMMED;
		}
	return trimmed;
}

static void pool_cap(void **state)
{
	size_t size = 124 * KiB, map_size = size + pg;
	size_t n = WEFT_STACK_POOL_MAX / map_size + 50, kept, trimmed;
	size_t budget = WEFT_STACK_POOL_UNTRIMMED;
	struct __sched_stack *s = calloc(n, sizeof *s);
	int before = maps_lines();

	pool_setup(state);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(__sched_stack_get(&s[i], size, pg, 0), 0);
		((char *)s[i].map)[pg] = 1;
		((char *)s[i].map)[map_size - 1] = 1;
	}
	for (size_t i = 0; i < n; i++)
		__sched_stack_put(&s[i]);
	kept = WEFT_STACK_POOL_MAX / map_size;
	assert_int_equal(pool.bytes, kept * map_size);
	assert_int_equal(pool.cls[0].count, kept);
	assert_int_equal(pool.untrimmed, kept * map_size);
	assert_int_equal(count_trimmed(map_size), 0);
	__sched_stack_trim();
	__sched_stack_trim();
	assert_true(pool.untrimmed <= budget);
	assert_true(pool.untrimmed + map_size > budget);
	assert_int_equal(pool.bytes, kept * map_size);
	trimmed = count_trimmed(map_size);
	assert_int_equal((kept - trimmed) * map_size, pool.untrimmed);
	print_message("%zu stacks of %zu KiB given back: %zu pooled, %zu of "
		"them trimmed after two passes\n", n, map_size / KiB, kept, trimmed);
	pool_drain();
	free(s);
	assert_true(maps_lines() - before < 10);
}

/* mlock()ed memory cannot be trimmed (MADV_DONTNEED fails with EINVAL)
 * and would stay resident: where it would be trimmed it is unmapped. */
static void run_locked_put(void *arg)
{
	struct __sched_stack s;

	if (mlockall(MCL_FUTURE))
		_exit(10);
	if (__sched_stack_get(&s, 64 * KiB, pg, 0))
		_exit(11);
	__sched_stack_put(&s);			/* pooled as it is */
	if (pool.bytes != 64 * KiB + pg)
		_exit(14);
	/* a trim pass cannot trim it: it is unmapped */
	__sched_stack_trim();
	pool.untrimmed += WEFT_STACK_POOL_UNTRIMMED;
	__sched_stack_trim();
	if (pool.bytes || pool.cls[0].count ||
	    pool.untrimmed != WEFT_STACK_POOL_UNTRIMMED)
		_exit(15);
}

static void pool_mlocked(void **state)
{
	pool_setup(state);
	assert_exited_ok(in_child(run_locked_put, 0));
}

/* POOL_CLASSES shapes at once; a further shape is unmapped until a class
 * empties. */
static void pool_classes(void **state)
{
	struct __sched_stack s[POOL_CLASSES + 1], t;

	pool_setup(state);
	for (int i = 0; i <= POOL_CLASSES; i++)
		assert_int_equal(__sched_stack_get(&s[i], (i + 1) * 16 * KiB, pg, 0), 0);
	for (int i = 0; i <= POOL_CLASSES; i++)
		__sched_stack_put(&s[i]);
	assert_int_equal(pool.bytes, POOL_CLASSES * 8 * KiB * (POOL_CLASSES + 1)
		+ POOL_CLASSES * pg);
	for (int i = 0; i < POOL_CLASSES; i++)
		assert_int_equal(pool.cls[i].count, 1);
	/* take the first shape back: its class is free for the last one */
	assert_int_equal(__sched_stack_get(&t, 16 * KiB, pg, 0), 1);
	assert_int_equal(__sched_stack_get(&s[0], (POOL_CLASSES + 1) * 16 * KiB, pg, 0), 0);
	__sched_stack_put(&s[0]);
	assert_int_equal(__sched_stack_get(&s[0], (POOL_CLASSES + 1) * 16 * KiB, pg, 0), 1);
	__sched_stack_free(&s[0]);
	__sched_stack_free(&t);
	pool_drain();
}

/* Threads taking and giving back stacks at once: no mapping is ever held
 * by two of them (each stamps the top of its own and checks it). */
#define POOL_THREADS 4
#define POOL_ROUNDS 4000

static void *pool_worker(void *arg)
{
	long id = (long)arg;

	for (int r = 0; r < POOL_ROUNDS; r++) {
		struct __sched_stack s[3];
		int k = r % 3 + 1;
		for (int i = 0; i < k; i++) {
			if (__sched_stack_get(&s[i], 32 * KiB, pg, 64) < 0)
				return (void *)1;
			long *top = (long *)((char *)s[i].map + s[i].map_size) - 8;
			for (int j = 0; j < 8; j++)
				if (top[j])
					return (void *)2;
			for (int j = 0; j < 8; j++)
				top[j] = id;
		}
		sched_yield();
		for (int i = 0; i < k; i++) {
			long *top = (long *)((char *)s[i].map + s[i].map_size) - 8;
			for (int j = 0; j < 8; j++)
				if (top[j] != id)
					return (void *)3;
			__sched_stack_put(&s[i]);
		}
	}
	return 0;
}

static volatile int pool_stop;

/* Trim passes (the monitor's) meanwhile. */
static void *pool_trimmer(void *arg)
{
	/* A yield between passes: on a loaded machine a spinning trimmer
	 * that the kernel keeps running while the lock's holder waits for
	 * a CPU stretched the test past its 60 s timeout. */
	while (!__atomic_load_n(&pool_stop, __ATOMIC_ACQUIRE)) {
		__sched_stack_trim();
		sched_yield();
	}
	return 0;
}

static void pool_threads(void **state)
{
	pthread_t t[POOL_THREADS], trimmer;
	void *r;

	pool_setup(state);
	pool_stop = 0;
	assert_int_equal(pthread_create(&trimmer, 0, pool_trimmer, 0), 0);
	for (long i = 0; i < POOL_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], 0, pool_worker, (void *)(i + 1)), 0);
	for (int i = 0; i < POOL_THREADS; i++) {
		assert_int_equal(pthread_join(t[i], &r), 0);
		assert_null(r);
	}
	__atomic_store_n(&pool_stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(trimmer, 0), 0);
	assert_true(pool.cls[0].count <= 3 * POOL_THREADS);
	assert_int_equal(pool.lock, 0);
	pool_drain();
}

/* A fork while the pool's lock is held: the child forgets the pool. */
static void run_fork_locked(void *arg)
{
	struct __sched_stack s;

	pool.lock = 1;
	__sched_stack_pool_fork();
	if (pool.lock || pool.bytes || pool.cls[0].count)
		_exit(10);
	if (__sched_stack_get(&s, 32 * KiB, pg, 0) != 0)
		_exit(11);
	__sched_stack_put(&s);
	if (pool.cls[0].count != 1)
		_exit(12);
}

static void pool_fork(void **state)
{
	struct __sched_stack s;

	pool_setup(state);
	assert_int_equal(__sched_stack_get(&s, 32 * KiB, pg, 0), 0);
	__sched_stack_put(&s);
	__sched_stack_pool_fork();		/* unlocked: kept */
	assert_int_equal(pool.cls[0].count, 1);
	assert_exited_ok(in_child(run_fork_locked, 0));
	pool_drain();
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup(layout, setup),
	cmocka_unit_test_setup(rounding, setup),
	cmocka_unit_test_setup(errors, setup),
	cmocka_unit_test_setup(guard_faults, setup),
	cmocka_unit_test_setup(many_stacks, setup),
	cmocka_unit_test_setup(fallback_einval, setup),
	cmocka_unit_test_setup(fallback_enosys, setup),
	cmocka_unit_test_setup(mlocked_falls_back, setup),
	cmocka_unit_test(pool_reuse),
	cmocka_unit_test(pool_trims),
	cmocka_unit_test(cache_put_get),
	cmocka_unit_test(pool_cap),
	cmocka_unit_test(pool_mlocked),
	cmocka_unit_test(pool_classes),
	cmocka_unit_test(pool_threads),
	cmocka_unit_test(pool_fork),
};

TEST_MAIN(tests)
