# The M:N backend links the scheduler and includes its headers.
PAL_DIRS += sched
PAL_CPPFLAGS = -I$(srcdir)/sched $(VALGRIND_CPPFLAGS)
