/*
 * gdbinfo.c - what weft's gdb extension (toolchain/weft-gdb.py: `info
 * weft-tasks`, `weft-bt`) finds in a program linked with the M:N
 * scheduler: the script's name, and a table of the scheduler's
 * addresses, field offsets and constants.  proc.c refers to the table,
 * so every program that links the scheduler links this file.
 *
 * The script.  A .debug_gdb_scripts entry (gdb manual, "The
 * .debug_gdb_scripts section"): byte 1, then the file name of a Python
 * script, NUL-terminated.  gdb loads the file when it loads the program
 * (or libc.so), if the file lies in its `auto-load safe-path`.  The
 * build writes the build directory's copy (share/weft/gdb/weft-gdb.py
 * there) here, and `make install` rewrites the entry in the installed
 * libc.a and libc.so to name the installed copy (the Makefile's
 * install rule), so that both find theirs.
 *
 * The table, and why not DWARF or a generated offsets file.  libc is
 * built without -g (musl's flags: only call frame information, for
 * unwinding, tools/debug-frame.h).  Building sched/ with -g would add
 * the types of half of musl's internal headers to every program, and a
 * lookup by name (`struct task`, `struct worker`) would find the
 * program's own type of that name first.  A Python file of offsets
 * generated at build time and installed beside the script would be
 * right only for programs linked with that very build: not for a binary
 * built before the layout changed, nor against another prefix's libc.
 * The table is filled in by the compiler from the real declarations,
 * travels with the libc that the program actually runs (static, or
 * libc.so), survives strip -g (it is data: `info weft-tasks` works
 * without any debug info, only weft-bt then cannot unwind libc), and
 * costs about 1.5 KiB of read-only data.  The script reads it by name
 * from the symbol __sched_gdb (kept as a local symbol in anything not
 * fully stripped); a key it lacks is a clear error, not a wrong offset.
 *
 * Entries are { name, value } pairs, ended by { 0, 0 }.  Names: "version",
 * addresses ("S", "main_task", ...), "sizeof.X", "X.field" for offsets,
 * and constants by their C names.  Add entries freely; bump "version"
 * only when an existing entry changes meaning.
 */
#include "runtime.h"

#ifndef WEFT_GDB_SCRIPT
#define WEFT_GDB_SCRIPT "weft-gdb.py"	/* the Makefile gives the path */
#endif

/* "MS": mergeable strings, so that a link with several copies (never
 * the case here) keeps one; gdb also loads each name only once. */
__asm__(".pushsection .debug_gdb_scripts, \"MS\",@progbits,1\n"
	".byte 1\n"
	".asciz \"" WEFT_GDB_SCRIPT "\"\n"
	".popsection\n");

struct __sched_gdb_entry {
	const char *name;
	unsigned long value;
};

/* netpoll.c: the fd table's chunk array, entries per chunk, chunks. */
hidden extern const unsigned long __np_gdb[3];

#define V(name, v)	{ name, (unsigned long)(v) }
#define OFF(name, type, member)	{ name, offsetof(type, member) }

/* retain: nothing refers to it at run time, and --gc-sections (libc.so,
 * and any program linked with it) would drop it. */
hidden const struct __sched_gdb_entry __sched_gdb[]
	__attribute__((used, retain)) = {
	V("version", 1),
	/* Addresses */
	V("S", &S),
	V("main_task", &main_task),
	V("np_gdb", __np_gdb),
	V("np_multi_seq", &__np_multi_seq),
	/* struct sched */
	OFF("sched.n", struct sched, n),
	OFF("sched.w", struct sched, w),
	OFF("sched.mon", struct sched, mon),
	V("sizeof.worker", sizeof(struct worker)),
	/* struct worker */
	OFF("worker.cur", struct worker, cur),
	OFF("worker.ktid", struct worker, ktid),
	OFF("worker.idx", struct worker, idx),
	OFF("worker.switching", struct worker, switching),
	OFF("worker.sleeping", struct worker, sleeping),
	OFF("worker.sys_since", struct worker, sys_since),
	/* struct task */
	OFF("task.sp", struct task, sp),
	OFF("task.tcb", struct task, tcb),
	OFF("task.worker", struct task, worker),
	OFF("task.state", struct task, state),
	OFF("task.id", struct task, id),
	OFF("task.w.addr", struct task, w.addr),
	OFF("task.deadline", struct task, deadline),
	OFF("task.heap_idx", struct task, heap_idx),
	OFF("task.in_syscall", struct task, in_syscall),
	OFF("task.sigpending", struct task, sigpending),
	OFF("task.start", struct task, start),
	OFF("task.arg", struct task, arg),
	/* struct pthread (musl's TCB) */
	OFF("pthread.next", struct pthread, next),
	OFF("pthread.tid", struct pthread, tid),
	OFF("pthread.detach_state", struct pthread, detach_state),
	OFF("pthread.pal", struct pthread, pal),
	OFF("pthread.task_name", struct pthread, task_name),
	OFF("pthread.stack", struct pthread, stack),
	OFF("pthread.stack_size", struct pthread, stack_size),
	/* The netpoller's fd entries and the calls blocked on them */
	V("sizeof.np_fd", sizeof(struct __np_fd)),
	OFF("np_fd.seq", struct __np_fd, seq),
	OFF("np_fd.waiters", struct __np_fd, waiters),
	OFF("np_wait.next", struct __np_wait, next),
	OFF("np_wait.fd", struct __np_wait, fd),
	OFF("np_wait.word", struct __np_wait, word),
	/* A parked task's saved frame, at t->sp (context.h) */
	V("SCHED_FRAME_R12", SCHED_FRAME_R12),
	V("SCHED_FRAME_R13", SCHED_FRAME_R13),
	V("SCHED_FRAME_R14", SCHED_FRAME_R14),
	V("SCHED_FRAME_R15", SCHED_FRAME_R15),
	V("SCHED_FRAME_RBX", SCHED_FRAME_RBX),
	V("SCHED_FRAME_RBP", SCHED_FRAME_RBP),
	V("SCHED_FRAME_RIP", SCHED_FRAME_RIP),
	V("SCHED_FRAME_SIZE", SCHED_FRAME_SIZE),
	/* Task states */
	V("T_RUNNABLE", T_RUNNABLE),
	V("T_RUNNING", T_RUNNING),
	V("T_PARKED", T_PARKED),
	V("T_DEAD", T_DEAD),
	{ 0, 0 }
};
