/*
 * context.h - the task context switch: two primitives in the manner of
 * Boost.Context (make, switch), implemented per ABI in switch_<abi>.S.
 * Only x86_64 SysV exists so far (switch_x86_64.S, cpu_x86_64.c).
 *
 * A suspended context is one pointer: its saved stack pointer, which
 * points at the frame below.  A context is suspended either by
 * __sched_switch (the frame holds the callee-saved registers of that
 * call) or was made by __sched_make and never run.
 *
 * Floating point: MXCSR (SSE control and status) and the x87 control
 * word are per context, as POSIX wants the floating-point environment
 * per thread.  The x87 status word (its sticky exception flags) is not
 * saved, as in Boost.Context: fetestexcept() in one task can see x87
 * exceptions raised by another on the same worker.  SSE flags are exact.
 *
 * This header is shared with the assembler: offsets are macros, checked
 * against the C view of the frame below.
 */
#ifndef WEFT_SCHED_CONTEXT_H
#define WEFT_SCHED_CONTEXT_H

/* Saved frame, at the saved stack pointer (x86_64 SysV). */
#define SCHED_FRAME_MXCSR	0x00	/* 4 bytes: SSE control/status */
#define SCHED_FRAME_X87CW	0x04	/* 2 bytes: x87 control word (+2 pad) */
#define SCHED_FRAME_R12		0x08
#define SCHED_FRAME_R13		0x10
#define SCHED_FRAME_R14		0x18
#define SCHED_FRAME_R15		0x20
#define SCHED_FRAME_RBX		0x28
#define SCHED_FRAME_RBP		0x30
#define SCHED_FRAME_RIP		0x38	/* return address of __sched_switch */
#define SCHED_FRAME_SIZE	0x40

/* How far asynchronous preemption's landing pad moves rsp down (below):
 * the red zone and the slot of its return address. */
#define SCHED_PREEMPT_SKIP	136

/* From <asm/prctl.h> and <asm/hwcap2.h>, which musl does not ship. */
#define SCHED_ARCH_SET_FS	0x1002
#define SCHED_HWCAP2_FSGSBASE	(1UL << 1)

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

#ifndef hidden
#define hidden __attribute__((__visibility__("hidden")))
#endif

/* The frame as C sees it: for debuggers, tests and stack walks of a
 * suspended task (rip and rbp start its backtrace). */
struct __sched_frame {
	uint32_t mxcsr;
	uint16_t x87cw;
	uint16_t pad;
	uint64_t r12, r13, r14, r15, rbx, rbp;
	uint64_t rip;
};

_Static_assert(offsetof(struct __sched_frame, mxcsr) == SCHED_FRAME_MXCSR, "");
_Static_assert(offsetof(struct __sched_frame, x87cw) == SCHED_FRAME_X87CW, "");
_Static_assert(offsetof(struct __sched_frame, r12) == SCHED_FRAME_R12, "");
_Static_assert(offsetof(struct __sched_frame, r13) == SCHED_FRAME_R13, "");
_Static_assert(offsetof(struct __sched_frame, r14) == SCHED_FRAME_R14, "");
_Static_assert(offsetof(struct __sched_frame, r15) == SCHED_FRAME_R15, "");
_Static_assert(offsetof(struct __sched_frame, rbx) == SCHED_FRAME_RBX, "");
_Static_assert(offsetof(struct __sched_frame, rbp) == SCHED_FRAME_RBP, "");
_Static_assert(offsetof(struct __sched_frame, rip) == SCHED_FRAME_RIP, "");
_Static_assert(sizeof(struct __sched_frame) == SCHED_FRAME_SIZE, "");
_Static_assert(SCHED_FRAME_SIZE % 16 == 0, "saved sp must stay 16-aligned");

/* Nonzero: set the thread pointer with wrfsbase; zero: arch_prctl.
 * Written once by __sched_cpu_init before any switch, then read-only. */
extern hidden int __sched_fsgsbase;

/* Bytes XSAVE writes for the state the kernel enabled (XCR0), or 0 if
 * XSAVE is not enabled (FXSAVE's 512 are used); for preemption.
 * Written once by __sched_cpu_init, then read-only. */
extern hidden int __sched_xsave_size;

/* Choose how to set the thread pointer from the aux vector's AT_HWCAP2
 * (the kernel sets HWCAP2_FSGSBASE only if it enabled the instructions),
 * and learn the XSAVE size.  Called once, before the first switch. */
hidden void __sched_cpu_init(unsigned long hwcap2);

/*
 * Asynchronous preemption's landing pad (preempt_x86_64.S): a signal
 * handler makes the interrupted context "call" it by keeping the
 * interrupted rip in the task (t->preempt_rip) and setting rip to this
 * function, rsp unchanged.  It moves rsp 136 bytes down (past the red
 * zone, and a slot for the return address), saves every caller-saved
 * register, the flags and the FPU/vector state, stores the interrupted
 * rip that __sched_preempt_landed() returns in the slot, calls
 * __sched_preempt_yield(), restores them and returns to the
 * interrupted rip with the original rsp.  Never called directly.
 */
hidden void __sched_async_preempt(void);
hidden uintptr_t __sched_preempt_landed(void);
hidden void __sched_preempt_yield(void);

/*
 * Suspend the caller: save its callee-saved registers and FP control
 * words on its stack and the stack pointer in *save_sp.  If to_tp is not
 * NULL, make it the thread pointer (FS base).  Then resume the context
 * whose saved stack pointer is to_sp; there, the __sched_switch call that
 * suspended it returns arg (or, for a context never run, its entry is
 * called with arg).  Returns, when something switches back to the
 * caller, the arg that switch passed.  save_sp may be where to_sp was
 * read from.  *save_sp is stored after the whole frame, and the switch
 * itself does not touch the old stack after that store; but a signal
 * handler run before the stack switch does (below the frame, with the
 * new thread pointer already set).  So hand the suspended context to
 * another worker only from the resumed side, or with signals blocked.
 */
hidden void *__sched_switch(void **save_sp, void *to_sp, void *to_tp,
	void *arg);

/*
 * Prepare a context on the stack whose highest address is stack_top
 * (rounded down to 16 bytes; SCHED_FRAME_SIZE bytes below it are used)
 * and return its saved stack pointer.  The first __sched_switch to it
 * calls entry(arg) with the switch's arg, on an ABI-aligned stack, with
 * the MXCSR and x87 control word that the caller of __sched_make had
 * (POSIX: a new thread inherits the creator's floating-point
 * environment).  entry must not return: if it does, the context executes
 * ud2 (SIGILL) instead of running off its stack.
 */
hidden void *__sched_make(void *stack_top, void (*entry)(void *));

#endif /* !__ASSEMBLER__ */
#endif
