/*
 * test_switch.c - sched/context.h: __sched_make, __sched_switch and the
 * thread-pointer switch, on the host (glibc).  Built by tests/tests.mk with
 * -fno-stack-protector: a context running on a fake TCB must not read a
 * canary at %fs:0x28, nor call anything in glibc.
 */
#define _GNU_SOURCE
#include <fenv.h>
#include <time.h>
#include <asm/hwcap2.h>
#include <asm/prctl.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "util.h"
#include "context.h"
#include "sys.h"

_Static_assert(SCHED_ARCH_SET_FS == ARCH_SET_FS, "");
_Static_assert(SCHED_HWCAP2_FSGSBASE == HWCAP2_FSGSBASE, "");

#define STACK_SIZE	(256 << 10)
#define MXCSR_RC	0x6000		/* MXCSR rounding-control bits */
#define MXCSR_CTL	0xffc0		/* MXCSR control bits (not flags) */
#define X87_RC		0x0c00		/* x87 control-word rounding bits */

static void *main_sp, *a_sp, *b_sp;

/* Top of a fresh stack; the test process exits soon, so never freed. */
static char *stack_top(void)
{
	char *p = mmap(0, STACK_SIZE, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p + STACK_SIZE;
}

/* The FS base, without glibc (callable on a fake TCB). */
static unsigned long fs_base(void)
{
	unsigned long fs = 0;

	__sched_syscall(SYS_arch_prctl, ARCH_GET_FS, (long)&fs, 0, 0, 0, 0);
	return fs;
}

static int have_fsgsbase(void)
{
	return !!(getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE);
}

/* Select the FS-base method, skipping the test if the CPU lacks it. */
static void use_fsgsbase(int on)
{
	if (on && !have_fsgsbase())
		skip();
	__sched_fsgsbase = on;
}

/* ---- args and ping-pong ------------------------------------------------ */

#define PINGS 1000000L

static long ping_bad, pong_bad, pongs;

/* A: sends odd numbers to B, expects the next even one back. */
static void ping(void *arg)
{
	for (long i = 0; i < PINGS; i++) {
		long r = (long)__sched_switch(&a_sp, b_sp, NULL,
			(void *)(2 * i + 1));
		ping_bad += r != 2 * i + 2;
	}
	__sched_switch(&a_sp, main_sp, NULL, (void *)PINGS);
	__builtin_trap();
}

/* B: its first arg is A's first; answers each with the next even one. */
static void pong(void *arg)
{
	for (long i = 0;; i++) {
		pong_bad += (long)arg != 2 * i + 1;
		pongs++;
		arg = __sched_switch(&b_sp, a_sp, NULL, (void *)(2 * i + 2));
	}
}

static void ping_pong(void **state)
{
	a_sp = __sched_make(stack_top(), ping);
	b_sp = __sched_make(stack_top(), pong);
	assert_int_equal((long)__sched_switch(&main_sp, a_sp, NULL, 0), PINGS);
	assert_int_equal(pongs, PINGS);
	assert_int_equal(ping_bad, 0);
	assert_int_equal(pong_bad, 0);
}

/* ---- callee-saved registers -------------------------------------------- */

/*
 * Eight values, a multiplier and a count are live across every switch:
 * more than the six callee-saved registers, so at -O2 each of rbx, rbp
 * and r12-r15 holds one and the rest sit in the frame (checked by
 * deleting each restore from the asm: every one fails this test).  The
 * values are checked against volatile copies, so the compiler cannot
 * recompute them after the call, and step as an LCG, so it cannot fold
 * them into a few induction variables.  The two contexts hold different
 * values, multipliers and counts.
 */
#define NV 8
#define ROUNDS 100000
#define STEP(v, k) ((v) * mul + (k))

struct churn {
	void **self, **peer;
	void *peer_arg;			/* B's struct, for its entry */
	long rounds;
	volatile unsigned long mul, in[NV];
	long bad, checks;
};

__attribute__((noinline)) static void churn(struct churn *c)
{
	unsigned long mul = c->mul;
	unsigned long v0 = c->in[0], v1 = c->in[1], v2 = c->in[2];
	unsigned long v3 = c->in[3], v4 = c->in[4], v5 = c->in[5];
	unsigned long v6 = c->in[6], v7 = c->in[7];

	for (long n = c->rounds; n > 0; n--) {
		__sched_switch(c->self, *c->peer, NULL, c->peer_arg);
		c->bad += (v0 != c->in[0]) + (v1 != c->in[1]) +
			(v2 != c->in[2]) + (v3 != c->in[3]) +
			(v4 != c->in[4]) + (v5 != c->in[5]) +
			(v6 != c->in[6]) + (v7 != c->in[7]);
		c->checks++;
		v0 = STEP(v0, 0); v1 = STEP(v1, 1); v2 = STEP(v2, 2);
		v3 = STEP(v3, 3); v4 = STEP(v4, 4); v5 = STEP(v5, 5);
		v6 = STEP(v6, 6); v7 = STEP(v7, 7);
		for (int k = 0; k < NV; k++)
			c->in[k] = c->in[k] * c->mul + k;
	}
}

static void churn_entry(void *arg)
{
	struct churn *c = arg;

	churn(c);
	__sched_switch(c->self, main_sp, NULL, 0);	/* A only */
	__builtin_trap();
}

static void callee_saved(void **state)
{
	static struct churn a = { .self = &a_sp, .peer = &b_sp },
		b = { .self = &b_sp, .peer = &a_sp };

	a.peer_arg = &b;
	a.rounds = ROUNDS;
	b.rounds = ROUNDS + 12345;	/* never finishes: A ends the test */
	a.mul = 6364136223846793005UL;
	b.mul = 2862933555777941757UL;
	for (int k = 0; k < NV; k++) {
		a.in[k] = 0x0111111100000000UL * (k + 1) + k;
		b.in[k] = -0x0123456789abUL * (k + 1) - k;
	}
	a_sp = __sched_make(stack_top(), churn_entry);
	b_sp = __sched_make(stack_top(), churn_entry);
	__sched_switch(&main_sp, a_sp, NULL, &a);
	assert_int_equal(a.checks, ROUNDS);
	assert_int_equal(b.checks, ROUNDS - 1);
	assert_int_equal(a.bad, 0);
	assert_int_equal(b.bad, 0);
}

/* ---- floating-point control -------------------------------------------- */

struct fp_seen {
	int x87_rc;			/* fegetround(): the x87 control word */
	unsigned mxcsr_rc;
	double q;			/* 1/10, an SSE divide under MXCSR */
};

static struct fp_seen fp_a[3], fp_c;

static void fp_record(struct fp_seen *s)
{
	volatile double one = 1, ten = 10;	/* 0.1 rounds up to nearest */

	s->x87_rc = fegetround();
	s->mxcsr_rc = __builtin_ia32_stmxcsr() & MXCSR_RC;
	s->q = one / ten;
}

static void fp_entry(void *arg)
{
	fesetround(FE_TOWARDZERO);
	for (int i = 0; i < 3; i++) {
		fp_record(&fp_a[i]);
		__sched_switch(&a_sp, main_sp, NULL, 0);
	}
	__builtin_trap();
}

static void fp_inherit_entry(void *arg)
{
	fp_record(&fp_c);
	__sched_switch(&a_sp, main_sp, NULL, 0);
	__builtin_trap();
}

/* SSE 1/10 under rounding mode r: 0.1 rounds up to nearest, so the
 * directed modes toward zero and downward give a smaller value. */
static double tenth(int r)
{
	struct fp_seen s;

	fesetround(r);
	fp_record(&s);
	fesetround(FE_TONEAREST);
	return s.q;
}

/* A rounding mode set in one context neither leaks into another nor is
 * lost when switching back; a made context starts with its maker's. */
static void fp_control(void **state)
{
	double rn = tenth(FE_TONEAREST), rz = tenth(FE_TOWARDZERO);
	double rd = tenth(FE_DOWNWARD);
	struct fp_seen m;

	assert_true(rz < rn && rd < rn);
	a_sp = __sched_make(stack_top(), fp_entry);
	for (int i = 0; i < 3; i++) {
		__sched_switch(&main_sp, a_sp, NULL, 0);
		fp_record(&m);
		assert_int_equal(m.x87_rc, FE_TONEAREST);
		assert_int_equal(m.mxcsr_rc, 0);
		assert_true(m.q == rn);
		assert_int_equal(fp_a[i].x87_rc, FE_TOWARDZERO);
		assert_int_equal(fp_a[i].mxcsr_rc, MXCSR_RC);
		assert_true(fp_a[i].q == rz);
	}

	fesetround(FE_DOWNWARD);
	a_sp = __sched_make(stack_top(), fp_inherit_entry);
	fesetround(FE_TONEAREST);
	__sched_switch(&main_sp, a_sp, NULL, 0);
	assert_int_equal(fp_c.x87_rc, FE_DOWNWARD);
	assert_int_equal(fp_c.mxcsr_rc, 0x2000);
	assert_true(fp_c.q == rd);
	assert_int_equal(fegetround(), FE_TONEAREST);
}

/* ---- __sched_make's frame and the entry's stack alignment ---------------- */

static void make_frame(void **state)
{
	char *top = stack_top();
	unsigned ctl = __builtin_ia32_stmxcsr() & MXCSR_CTL;

	for (int d = 0; d < 16; d++) {
		char *t = top - 64 - d;
		struct __sched_frame *f = __sched_make(t, churn_entry);
		uintptr_t sp = (uintptr_t)f;

		assert_int_equal(sp % 16, 0);
		assert_int_equal(sp + SCHED_FRAME_SIZE, (uintptr_t)t & -16);
		assert_int_equal(f->r12, (uintptr_t)churn_entry);
		assert_int_equal(f->rbp, 0);
		assert_int_equal(f->rbx | f->r13 | f->r14 | f->r15, 0);
		assert_int_equal(f->mxcsr & MXCSR_CTL, ctl);
		assert_int_equal(f->x87cw & X87_RC, FE_TONEAREST);
		assert_int_equal(f->pad, 0);
		assert_true(f->rip != 0);
	}
}

struct align_seen {
	uintptr_t frame, local;
	int n;
	char buf[32];
};

static void align_entry(void *arg)
{
	struct align_seen *s = arg;
	__attribute__((aligned(16))) char local[16];
	volatile double x = 2.0 / 3;

	s->frame = (uintptr_t)__builtin_frame_address(0);
	s->local = (uintptr_t)local;
	/* varargs with a double: glibc spills xmm registers with movaps,
	 * which faults on a misaligned stack */
	s->n = snprintf(s->buf, sizeof s->buf, "%.3f", x);
	__sched_switch(&a_sp, main_sp, NULL, 0);
	__builtin_trap();
}

/* Whatever stack_top's alignment, entry sees an ABI-aligned stack. */
static void entry_alignment(void **state)
{
	char *top = stack_top();

	for (int d = 0; d < 16; d++) {
		struct align_seen s = { 0 };

		a_sp = __sched_make(top - 64 - d, align_entry);
		__sched_switch(&main_sp, a_sp, NULL, &s);
		assert_int_equal(s.frame % 16, 0);	/* rbp = entry rsp - 8 */
		assert_int_equal(s.local % 16, 0);
		assert_int_equal(s.n, 5);
		assert_string_equal(s.buf, "0.667");
	}
}

/* ---- traps --------------------------------------------------------------- */

static void returning_entry(void *arg)
{
}

static void run_returning(void *top)
{
	a_sp = __sched_make(top, returning_entry);
	__sched_switch(&main_sp, a_sp, NULL, 0);
	_exit(3);
}

static void entry_return_traps(void **state)
{
	assert_killed_by(in_child(run_returning, stack_top()), SIGILL, SIGSEGV);
}

static void exit_entry(void *arg)
{
	_exit(3);
}

static void run_bad_tp(void *top)
{
	a_sp = __sched_make(top, exit_entry);
	__sched_switch(&main_sp, a_sp, (void *)0x8000000000000000UL, 0);
	_exit(3);
}

/* A non-canonical thread pointer: arch_prctl fails and the switch traps
 * (ud2, SIGILL); wrfsbase raises #GP (SIGSEGV). */
static void bad_tp_traps_prctl(void **state)
{
	use_fsgsbase(0);
	assert_killed_by(in_child(run_bad_tp, stack_top()), SIGILL, SIGILL);
}

static void bad_tp_traps_wrfsbase(void **state)
{
	use_fsgsbase(1);
	assert_killed_by(in_child(run_bad_tp, stack_top()), SIGSEGV, SIGSEGV);
}

/* ---- thread pointer ------------------------------------------------------ */

static unsigned long main_fs;
static long same_bad;

static void same_tp_entry(void *arg)
{
	for (;;) {
		same_bad += fs_base() != main_fs;
		__sched_switch(&a_sp, main_sp, (void *)main_fs, 0);
	}
}

/* Switching to the thread's own FS base, both ways, keeps glibc working. */
static void same_tp(int on)
{
	use_fsgsbase(on);
	main_fs = fs_base();
	same_bad = 0;
	a_sp = __sched_make(stack_top(), same_tp_entry);
	for (int i = 0; i < 1000; i++)
		__sched_switch(&main_sp, a_sp, (void *)main_fs, 0);
	assert_int_equal(fs_base(), main_fs);
	assert_int_equal(same_bad, 0);
	errno = EDOM;			/* TLS still reachable */
	assert_int_equal(errno, EDOM);
}

static void same_tp_prctl(void **state) { same_tp(0); }
static void same_tp_wrfsbase(void **state) { same_tp(1); }

/* A TCB in the x86_64 TLS ABI's sense: first word points to itself. */
static struct fake_tcb {
	struct fake_tcb *self;
	unsigned long pad[31];
} tcb;

static struct {
	void *fs0;			/* %fs:0 */
	unsigned long base;		/* ARCH_GET_FS */
	unsigned long rd;		/* rdfsbase, when enabled */
} seen;

static void other_tp_entry(void *arg)
{
	void *p;

	__asm__ __volatile__ ("movq %%fs:0, %0" : "=r"(p));
	seen.fs0 = p;
	seen.base = fs_base();
	if (__sched_fsgsbase)
		__asm__ __volatile__ ("rdfsbase %0" : "=r"(seen.rd));
	__sched_switch(&a_sp, main_sp, (void *)main_fs, 0);
	__builtin_trap();
}

/* A context on another TCB sees it through %fs; switching back restores
 * glibc's. */
static void other_tp(int on)
{
	use_fsgsbase(on);
	main_fs = fs_base();
	tcb.self = &tcb;
	a_sp = __sched_make(stack_top(), other_tp_entry);
	__sched_switch(&main_sp, a_sp, &tcb, 0);
	assert_int_equal(fs_base(), main_fs);
	assert_ptr_equal(seen.fs0, &tcb);
	assert_int_equal(seen.base, (unsigned long)&tcb);
	if (on)
		assert_int_equal(seen.rd, (unsigned long)&tcb);
	errno = EDOM;
	assert_int_equal(errno, EDOM);
}

static void other_tp_prctl(void **state) { other_tp(0); }
static void other_tp_wrfsbase(void **state) { other_tp(1); }

/* ---- benchmark (printed, not asserted) ----------------------------------- */

static void *bench_tp;

static void bounce(void *arg)
{
	for (;;)
		__sched_switch(&a_sp, main_sp, bench_tp, 0);
}

/* ns per one-way switch, over n round trips. */
static double bench(int fsgsbase, void *tp, long n)
{
	struct timespec t0, t1;

	__sched_fsgsbase = fsgsbase;
	bench_tp = tp;
	a_sp = __sched_make(stack_top(), bounce);
	for (int i = 0; i < 1000; i++)
		__sched_switch(&main_sp, a_sp, tp, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++)
		__sched_switch(&main_sp, a_sp, tp, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) /
		(2.0 * n);
}

static void bench_switch(void **state)
{
	void *fs = (void *)fs_base();

	print_message("ns per one-way switch, no FS change:     %6.1f\n",
		bench(0, NULL, 10000000));
	if (have_fsgsbase())
		print_message("ns per one-way switch, FS via wrfsbase:  %6.1f\n",
			bench(1, fs, 10000000));
	print_message("ns per one-way switch, FS via arch_prctl: %6.1f\n",
		bench(0, fs, 1000000));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(ping_pong),
	cmocka_unit_test(callee_saved),
	cmocka_unit_test(fp_control),
	cmocka_unit_test(make_frame),
	cmocka_unit_test(entry_alignment),
	cmocka_unit_test(entry_return_traps),
	cmocka_unit_test(bad_tp_traps_prctl),
	cmocka_unit_test(bad_tp_traps_wrfsbase),
	cmocka_unit_test(same_tp_prctl),
	cmocka_unit_test(same_tp_wrfsbase),
	cmocka_unit_test(other_tp_prctl),
	cmocka_unit_test(other_tp_wrfsbase),
	cmocka_unit_test(bench_switch),
};

TEST_MAIN(tests)
