# The M:N backend links the scheduler and includes its headers.
PAL_DIRS += sched
PAL_CPPFLAGS = -I$(srcdir)/sched
# Until the netpoller (issue 4), blocking syscalls are made directly, as
# natively: the same file.
PAL_EXTRA_SRCS = $(srcdir)/pal/native/syscall.c
