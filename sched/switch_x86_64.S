/*
 * switch_x86_64.S - task context switch, x86_64 SysV ELF (see context.h).
 *
 * Saved frame, at a suspended context's saved stack pointer (16-aligned):
 *
 *	offset	size	contents
 *	0x00	4	MXCSR (SSE control and status)
 *	0x04	2	x87 control word (then 2 bytes of padding)
 *	0x08	8	r12   (__sched_make: entry)
 *	0x10	8	r13
 *	0x18	8	r14
 *	0x20	8	r15
 *	0x28	8	rbx
 *	0x30	8	rbp   (__sched_make: 0, ends frame-pointer walks)
 *	0x38	8	rip   (return address; __sched_make: trampoline)
 *	0x40		caller's frame (__sched_make: stack_top & -16)
 *
 * Only what the ABI says a callee preserves is saved: rbx, rbp, r12-r15,
 * rsp, MXCSR and the x87 control word.  Everything else is dead across a
 * call.  The offsets are the SCHED_FRAME_* macros, checked in context.h.
 */
#include <sys/syscall.h>
#include "context.h"

	.hidden	__sched_fsgsbase			/* defined in cpu_x86_64.c */

	.text

/* void *__sched_switch(void **save_sp, void *to_sp, void *to_tp, void *arg)
 *	rdi = save_sp, rsi = to_sp, rdx = to_tp, rcx = arg */
	.globl	__sched_switch
	.hidden	__sched_switch
	.type	__sched_switch,@function
	.align	16
__sched_switch:
	leaq	-(SCHED_FRAME_SIZE - 8)(%rsp), %rsp	/* frame below the return address */
	stmxcsr	SCHED_FRAME_MXCSR(%rsp)			/* save SSE control/status */
	fnstcw	SCHED_FRAME_X87CW(%rsp)			/* save x87 control word */
	movq	%r12, SCHED_FRAME_R12(%rsp)		/* save callee-saved registers */
	movq	%r13, SCHED_FRAME_R13(%rsp)
	movq	%r14, SCHED_FRAME_R14(%rsp)
	movq	%r15, SCHED_FRAME_R15(%rsp)
	movq	%rbx, SCHED_FRAME_RBX(%rsp)
	movq	%rbp, SCHED_FRAME_RBP(%rsp)
	movq	%rsp, (%rdi)				/* *save_sp = frame; old stack untouched from here */
	testq	%rdx, %rdx				/* to_tp == NULL: keep the thread pointer */
	jz	.Lresume
	cmpl	$0, __sched_fsgsbase(%rip)		/* FSGSBASE enabled by the kernel? */
	je	.Lprctl
	wrfsbase %rdx					/* thread pointer = to_tp, no kernel entry */
.Lresume:
	/* MXCSR and the x87 control word are restored only when they
	 * differ from the suspended side's (almost never): ldmxcsr and
	 * fldcw are slow, the compares are not. */
	movl	SCHED_FRAME_MXCSR(%rsi), %eax
	cmpl	SCHED_FRAME_MXCSR(%rsp), %eax
	jne	.Lmxcsr
.Lmxcsr_done:
	movzwl	SCHED_FRAME_X87CW(%rsi), %eax
	cmpw	SCHED_FRAME_X87CW(%rsp), %ax
	jne	.Lx87cw
.Lx87cw_done:
	movq	%rsi, %rsp				/* now on the resumed context's frame */
	movq	SCHED_FRAME_R12(%rsp), %r12		/* restore callee-saved registers */
	movq	SCHED_FRAME_R13(%rsp), %r13
	movq	SCHED_FRAME_R14(%rsp), %r14
	movq	SCHED_FRAME_R15(%rsp), %r15
	movq	SCHED_FRAME_RBX(%rsp), %rbx
	movq	SCHED_FRAME_RBP(%rsp), %rbp
	leaq	SCHED_FRAME_RIP(%rsp), %rsp		/* pop the frame, leaving the return address */
	movq	%rcx, %rax				/* its __sched_switch returns arg */
	ret						/* ... in the resumed context */
.Lmxcsr:
	ldmxcsr	SCHED_FRAME_MXCSR(%rsi)			/* restore SSE control/status */
	jmp	.Lmxcsr_done
.Lx87cw:
	fldcw	SCHED_FRAME_X87CW(%rsi)			/* restore x87 control word */
	jmp	.Lx87cw_done
.Lprctl:
	movq	%rsi, %r8				/* syscall clobbers rax, rcx, r11: */
	movq	%rcx, %r9				/* keep to_sp and arg where it doesn't */
	movl	$SCHED_ARCH_SET_FS, %edi		/* arch_prctl(ARCH_SET_FS, to_tp) */
	movq	%rdx, %rsi
	movl	$SYS_arch_prctl, %eax
	syscall						/* kernel entry; rsp still the old stack */
	testq	%rax, %rax				/* failed (non-canonical to_tp)? */
	jnz	.Lbad_tp
	movq	%r8, %rsi				/* to_sp back */
	movq	%r9, %rcx				/* arg back */
	jmp	.Lresume
.Lbad_tp:
	ud2						/* fail loudly, on the suspended stack */
	.size	__sched_switch, .-__sched_switch

/* void *__sched_make(void *stack_top, void (*entry)(void *))
 *	rdi = stack_top, rsi = entry; returns the new context's saved sp */
	.globl	__sched_make
	.hidden	__sched_make
	.type	__sched_make,@function
	.align	16
__sched_make:
	movq	%rdi, %rax
	andq	$-16, %rax				/* ABI: 16-aligned where the trampoline calls */
	subq	$SCHED_FRAME_SIZE, %rax			/* frame just below; rax = saved sp */
	stmxcsr	SCHED_FRAME_MXCSR(%rax)			/* inherit our MXCSR */
	movl	$0, SCHED_FRAME_X87CW(%rax)		/* clear the padding ... */
	fnstcw	SCHED_FRAME_X87CW(%rax)			/* ... and inherit our x87 control word */
	movq	%rsi, SCHED_FRAME_R12(%rax)		/* r12 = entry, for the trampoline */
	xorl	%ecx, %ecx
	movq	%rcx, SCHED_FRAME_R13(%rax)		/* the other registers start as 0 */
	movq	%rcx, SCHED_FRAME_R14(%rax)
	movq	%rcx, SCHED_FRAME_R15(%rax)
	movq	%rcx, SCHED_FRAME_RBX(%rax)
	movq	%rcx, SCHED_FRAME_RBP(%rax)		/* rbp = 0: outermost frame */
	leaq	__sched_trampoline(%rip), %rcx
	movq	%rcx, SCHED_FRAME_RIP(%rax)		/* first switch "returns" here */
	ret
	.size	__sched_make, .-__sched_make

/* First code of a made context, entered by __sched_switch's ret with
 * rsp = stack_top & -16, rax = arg and r12 = entry. */
	.type	__sched_trampoline,@function
	.align	16
__sched_trampoline:
	.cfi_startproc
	.cfi_undefined rip				/* unwinders stop here */
	movq	%rax, %rdi				/* entry(arg) */
	call	*%r12					/* rsp was 16-aligned: ABI holds in entry */
	ud2						/* entry returned: trap, never run off the stack */
	.cfi_endproc
	.size	__sched_trampoline, .-__sched_trampoline

	.section .note.GNU-stack,"",@progbits
