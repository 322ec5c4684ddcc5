/*
 * debug-frame.h - forced into every libc compile (-include, Makefile:
 * CFLAGS_CFI) together with -fasynchronous-unwind-tables: the call frame
 * information gcc then emits for each function goes to .debug_frame,
 * which debuggers read, instead of .eh_frame, which would be loaded with
 * the program.  musl builds with no unwind tables at all and without
 * frame pointers, so gdb could not walk a single libc frame: a backtrace
 * of a thread blocked in pthread_mutex_lock stopped in the scheduler.
 * The directive must come before gcc's first .cfi_startproc, and gcc
 * emits top-level asm first.  .s files are not preprocessed (no effect).
 */
#ifdef __ASSEMBLER__
	.cfi_sections .debug_frame
#else
__asm__(".cfi_sections .debug_frame");
#endif
