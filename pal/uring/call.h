/* call.h - the uring backend's calls on its rings (call.c), for its
 * dispatcher (syscall.c). */
#ifndef WEFT_PAL_URING_CALL_H
#define WEFT_PAL_URING_CALL_H

#ifndef hidden
#define hidden __attribute__((__visibility__("hidden")))
#endif

/* Never a syscall's result (-4095 .. -1 are errnos). */
#define NOT_TAKEN (-4097L)

/* Make syscall nr with arguments a (six) on the calling task's ring, if
 * it is one the ring takes (call.c), as a cancellation point if cp:
 * returns its result, or NOT_TAKEN, and the caller makes it the epoll
 * backend's way. */
hidden long __ring_call(long nr, const long *a, int cp);

#endif
