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
 *   vg_stack_deregister(id):   that stack is gone
 *   vg_running():              bool: running under Valgrind
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
