/*
 * vg.h - Valgrind client requests the scheduler makes, from Debian's
 * valgrind.h when configure found it (WEFT_VALGRIND_H), else no-ops.
 * Outside Valgrind each request is a few instructions that do nothing.
 *
 * Task and worker stacks are registered (VALGRIND_STACK_REGISTER, in
 * valgrind.h's words "the client is switching stacks"), so that memcheck
 * sees a task switch as a switch between known stacks, not as a huge
 * allocation or release of stack memory.
 *   vg_stack_register(lo, hi): [lo, hi) is a stack; returns its id
 *   vg_stack_deregister(id):   that stack is gone (0: none, a no-op)
 *   vg_running():              bool: running under Valgrind
 *
 * What memcheck does with them (coregrind/m_stacks.c, 3.19): a change of
 * the stack pointer by an amount unknown when translating (movq %rsi,
 * %rsp in __sched_switch) goes to VG_(unknown_SP_update).  If the new SP
 * is outside the current stack (one for the whole process, not one per
 * thread) and inside another registered one (a linear search, later
 * registrations first, reordered as it goes), that is a stack switch and
 * memory is left alone.  Otherwise a move of up to --max-stackframe
 * (2 MB) is a frame made (new_mem_stack: undefined) or popped
 * (die_mem_stack: no access) between the two SPs.  So every stack a
 * task or g0 runs on must be registered, a task's own alternate stack
 * included once a handler parks on it (proc.c, vg_alt_register), and no
 * registered range may span two of them.  Valgrind registers one more
 * per thread it creates: the mapping segment under the new thread's
 * first sp, down to the first change of protection, which is why a
 * worker's g0 stack has a PROT_NONE page below it (proc.c,
 * __sched_worker_init).  See docs/debugging.md, "Valgrind".
 */
#ifndef SCHED_VG_H
#define SCHED_VG_H

#ifdef WEFT_VALGRIND_H
#include WEFT_VALGRIND_H
#define vg_stack_register(lo, hi) \
	((unsigned)VALGRIND_STACK_REGISTER((lo), (hi)))
/* Id 0 is Valgrind's own, the process stack: never one of ours (the
 * main task's vg_stack is 0). */
#define vg_stack_deregister(id) \
	do { if (id) VALGRIND_STACK_DEREGISTER(id); } while (0)
#define vg_running() (RUNNING_ON_VALGRIND != 0)
#else
#define vg_stack_register(lo, hi) ((void)(lo), (void)(hi), 0U)
#define vg_stack_deregister(id) ((void)(id))
#define vg_running() 0
#endif

#endif
