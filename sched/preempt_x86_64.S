/*
 * preempt_x86_64.S - asynchronous preemption's landing pad, x86_64 SysV
 * ELF (Go's asyncPreempt, runtime/preempt_amd64.s, for C code).
 *
 * The monitor's preemption signal (preempt.c: __sched_preempt_signal) does not switch
 * tasks inside the handler: it makes the interrupted context return
 * here, as if the code had called __sched_async_preempt at the point it
 * was interrupted, and returns from the signal normally.  The handler
 * has kept the interrupted rip in the task and left rsp as it was; the
 * first instruction here steps over the 128-byte red zone that C code
 * may use below rsp, and makes the slot of a return address:
 *
 *	interrupted rsp - 128 .. rsp	red zone, untouched
 *	interrupted rsp - 136		interrupted rip (our return address),
 *					stored once __sched_preempt_landed
 *					has given it
 *
 * (Not the handler: its own frame is there while it runs, preempt.c.)
 * This saves everything the interrupted code may have live (every
 * general register but the callee-saved ones, which the C calls below
 * preserve; the flags; the whole x87/SSE/AVX state with XSAVE, of
 * __sched_xsave_size bytes, or FXSAVE's 512 where there is no XSAVE),
 * takes the rip (__sched_preempt_landed) into the slot, calls
 * __sched_preempt_yield, restores it all, and returns to the
 * interrupted rip with `ret $128`, which also gives back the red zone.
 */
#include "context.h"

/* The slot, above the 11 registers pushed below rbp. */
#define RIP_SLOT	(11 * 8)

	.hidden	__sched_xsave_size			/* cpu_x86_64.c */
	.hidden	__sched_preempt_landed			/* preempt.c */
	.hidden	__sched_preempt_yield			/* preempt.c */

	.text
	.globl	__sched_async_preempt
	.hidden	__sched_async_preempt
	.type	__sched_async_preempt,@function
	.align	16
__sched_async_preempt:
	/* Call frame information, for debuggers only (a preempted task's
	 * backtrace, weft-bt): the caller is the interrupted code, whose
	 * rsp is 128 above the usual call's and whose rip is exact (a
	 * signal frame: not a return address after a call).  The rip is
	 * in the slot only once stored: before that, the unwind ends here.
	 * At the first instruction the CFA (the slot + 8) is rsp - 128. */
	.cfi_startproc
	.cfi_signal_frame
	.cfi_def_cfa_offset -128
	.cfi_val_offset rsp, 128
	.cfi_undefined rip
	leaq	-SCHED_PREEMPT_SKIP(%rsp), %rsp		/* red zone and slot (flags kept) */
	.cfi_def_cfa_offset 8
	pushfq
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rflags, 0
	pushq	%rax
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rax, 0
	pushq	%rcx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rcx, 0
	pushq	%rdx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rdx, 0
	pushq	%rsi
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rsi, 0
	pushq	%rdi
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rdi, 0
	pushq	%r8
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r8, 0
	pushq	%r9
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r9, 0
	pushq	%r10
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r10, 0
	pushq	%r11
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r11, 0
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rbp, 0
	movq	%rsp, %rbp
	.cfi_def_cfa_register rbp
	cld					/* the ABI's direction flag */
	movl	__sched_xsave_size(%rip), %eax
	testl	%eax, %eax
	jz	.Lfxsave
	subq	%rax, %rsp
	andq	$-64, %rsp
	/* XRSTOR faults on nonzero reserved bytes in the XSAVE header
	 * (bytes 512-575), which XSAVE does not all write: clear them. */
	xorl	%ecx, %ecx
	movq	%rcx, 512(%rsp)
	movq	%rcx, 520(%rsp)
	movq	%rcx, 528(%rsp)
	movq	%rcx, 536(%rsp)
	movq	%rcx, 544(%rsp)
	movq	%rcx, 552(%rsp)
	movq	%rcx, 560(%rsp)
	movq	%rcx, 568(%rsp)
	movl	$-1, %eax
	movl	$-1, %edx
	xsave	(%rsp)
	jmp	.Lsaved
.Lfxsave:
	subq	$512, %rsp
	andq	$-16, %rsp
	fxsave	(%rsp)
.Lsaved:
	call	__sched_preempt_landed
	movq	%rax, RIP_SLOT(%rbp)			/* the interrupted rip */
	.cfi_offset rip, -8
	call	__sched_preempt_yield
	movl	__sched_xsave_size(%rip), %eax
	testl	%eax, %eax
	jz	.Lfxrstor
	movl	$-1, %eax
	movl	$-1, %edx
	xrstor	(%rsp)
	jmp	.Lrestore
.Lfxrstor:
	fxrstor	(%rsp)
.Lrestore:
	movq	%rbp, %rsp
	.cfi_def_cfa_register rsp
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore rbp
	popq	%r11
	.cfi_adjust_cfa_offset -8
	.cfi_restore r11
	popq	%r10
	.cfi_adjust_cfa_offset -8
	.cfi_restore r10
	popq	%r9
	.cfi_adjust_cfa_offset -8
	.cfi_restore r9
	popq	%r8
	.cfi_adjust_cfa_offset -8
	.cfi_restore r8
	popq	%rdi
	.cfi_adjust_cfa_offset -8
	.cfi_restore rdi
	popq	%rsi
	.cfi_adjust_cfa_offset -8
	.cfi_restore rsi
	popq	%rdx
	.cfi_adjust_cfa_offset -8
	.cfi_restore rdx
	popq	%rcx
	.cfi_adjust_cfa_offset -8
	.cfi_restore rcx
	popq	%rax
	.cfi_adjust_cfa_offset -8
	.cfi_restore rax
	popfq
	.cfi_adjust_cfa_offset -8
	.cfi_restore rflags
	ret	$(SCHED_PREEMPT_SKIP - 8)		/* the slot's rip, then the red zone */
	.cfi_endproc
	.size	__sched_async_preempt, .-__sched_async_preempt

	.section .note.GNU-stack,"",@progbits
