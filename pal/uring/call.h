/* call.h - the uring backend's calls on its rings (call.c), for the
 * dispatcher it shares with pal/epoll (pal/epoll/syscall.c, PAL_FIRST). */
#ifndef WEFT_PAL_URING_CALL_H
#define WEFT_PAL_URING_CALL_H

#ifndef hidden
#define hidden __attribute__((__visibility__("hidden")))
#endif

/* Never a syscall's result (pal/epoll/io.h). */
#define NOT_TAKEN PAL_NOT_TAKEN

/* Make syscall nr with arguments a (six) on the calling task's ring, if
 * it is one the ring takes (call.c), as a cancellation point if cp:
 * returns its result, or NOT_TAKEN, and the caller makes it the epoll
 * backend's way.  A close first flushes every ring's queued calls,
 * which must hold their files (call.c), and is not taken. */
hidden long __ring_call(long nr, const long *a, int cp);

#endif
