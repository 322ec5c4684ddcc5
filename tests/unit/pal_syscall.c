/*
 * The PAL blocking-syscall contract (pal/pal.h): __pal_syscall_cp and
 * __pal_syscall_block make the call and return its result or -errno,
 * never touching errno; only __pal_syscall_cp is a cancellation point.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "palutil.h"

typedef long (*syscall_fn)(long, long, long, long, long, long, long);

static const syscall_fn fn_cp = __pal_syscall_cp, fn_block = __pal_syscall_block;

/* A test run once with each of the two functions. */
#define BOTH(f) \
	{ #f "_cp", f, 0, 0, (void *)&fn_cp }, \
	{ #f "_block", f, 0, 0, (void *)&fn_block }

#define SC(nr, a, b, c, d, e, f) \
	(*(const syscall_fn *)*state)(nr, (long)(a), (long)(b), (long)(c), \
		(long)(d), (long)(e), (long)(f))

static void error_is_negative_errno(void **state)
{
	char buf[1];

	errno = 0;
	assert_int_equal(SC(SYS_read, -1, buf, 1, 0, 0, 0), -EBADF);
	assert_int_equal(SC(SYS_close, -1, 0, 0, 0, 0, 0), -EBADF);
	assert_int_equal(SC(SYS_write, 12345, buf, 1, 0, 0, 0), -EBADF);
	assert_int_equal(SC(SYS_openat, AT_FDCWD, "/nonexistent/weft", O_RDONLY,
		0, 0, 0), -ENOENT);
	assert_int_equal(SC(SYS_clock_gettime, CLOCK_REALTIME, 1, 0, 0, 0, 0),
		-EFAULT);
	assert_int_equal(errno, 0);
}

static void simple_results(void **state)
{
	assert_int_equal(SC(SYS_getpid, 0, 0, 0, 0, 0, 0), getpid());
	assert_int_equal(SC(SYS_getppid, 0, 0, 0, 0, 0, 0), getppid());
}

/* mmap takes all six arguments. */
static void six_arguments(void **state)
{
	int fd = memfd_create("weft-pal", 0);
	char *p;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 3 * 4096), 0);
	assert_int_equal(pwrite(fd, "xyz", 3, 2 * 4096), 3);
	p = (char *)SC(SYS_mmap, 0, 4096, PROT_READ, MAP_SHARED, fd, 2 * 4096);
	assert_false((unsigned long)p >= -4095UL);
	assert_memory_equal(p, "xyz", 3);
	assert_int_equal(SC(SYS_munmap, p, 4096, 0, 0, 0, 0), 0);
	close(fd);
}

static void pipe_read_write(void **state)
{
	int fd[2];
	char buf[16] = { 0 };

	assert_int_equal(SC(SYS_pipe2, fd, O_CLOEXEC, 0, 0, 0, 0), 0);
	assert_int_equal(SC(SYS_write, fd[1], "hello", 5, 0, 0, 0), 5);
	assert_int_equal(SC(SYS_read, fd[0], buf, sizeof buf, 0, 0, 0), 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(SC(SYS_close, fd[1], 0, 0, 0, 0, 0), 0);
	assert_int_equal(SC(SYS_read, fd[0], buf, sizeof buf, 0, 0, 0), 0);
	assert_int_equal(SC(SYS_close, fd[0], 0, 0, 0, 0, 0), 0);
}

/* ---- Blocking across threads -------------------------------------------- */

struct blocked_read {
	syscall_fn fn;
	int fd;
	char buf[16];
};

static void *read_blocking(void *p)
{
	struct blocked_read *br = p;

	return (void *)br->fn(SYS_read, br->fd, (long)br->buf, sizeof br->buf,
		0, 0, 0);
}

static void read_blocks_until_written(void **state)
{
	struct blocked_read br = { .fn = *(const syscall_fn *)*state };
	int fd[2];
	pthread_t t;

	assert_int_equal(pipe(fd), 0);
	br.fd = fd[0];
	t = spawn(read_blocking, &br);
	assert_int_equal(write(fd[1], "ping", 4), 4);
	assert_int_equal((long)join(t), 4);
	assert_memory_equal(br.buf, "ping", 4);
	close(fd[0]);
	close(fd[1]);
}

/* ---- Cancellation ------------------------------------------------------- */

static int cleanup_ran;

static void note_cleanup(void *p)
{
	cleanup_ran++;
}

static void *read_cancellable(void *p)
{
	struct blocked_read *br = p;
	void *r;

	pthread_cleanup_push(note_cleanup, 0);
	r = read_blocking(br);
	pthread_cleanup_pop(0);
	return r;
}

static void cp_read_is_cancellation_point(void **state)
{
	struct blocked_read br = { .fn = __pal_syscall_cp };
	int fd[2];
	pthread_t t;

	cleanup_ran = 0;
	assert_int_equal(pipe(fd), 0);
	br.fd = fd[0];
	t = spawn(read_cancellable, &br);
	assert_int_equal(pthread_cancel(t), 0);
	assert_ptr_equal(join(t), PTHREAD_CANCELED);
	assert_int_equal(cleanup_ran, 1);
	close(fd[0]);
	close(fd[1]);
}

static void *pending_cancel_then(void *p)
{
	struct blocked_read *br = p;

	pthread_cancel(pthread_self());
	return read_blocking(br);
}

static void block_read_is_not_cancellation_point(void **state)
{
	struct blocked_read br = { .fn = __pal_syscall_block };
	int fd[2];

	assert_int_equal(pipe(fd), 0);
	br.fd = fd[0];
	assert_int_equal(write(fd[1], "data", 4), 4);
	assert_int_equal((long)join(spawn(pending_cancel_then, &br)), 4);
	close(fd[0]);
	close(fd[1]);
}

static void cp_pending_cancel_acted_on(void **state)
{
	struct blocked_read br = { .fn = __pal_syscall_cp };
	int fd[2];

	assert_int_equal(pipe(fd), 0);
	br.fd = fd[0];
	/* Data is ready, yet the pending request wins. */
	assert_int_equal(write(fd[1], "data", 4), 4);
	assert_ptr_equal(join(spawn(pending_cancel_then, &br)), PTHREAD_CANCELED);
	close(fd[0]);
	close(fd[1]);
}

static void *masked_getpid(void *p)
{
	pthread_setcancelstate(PTHREAD_CANCEL_MASKED, 0);
	pthread_cancel(pthread_self());
	return (void *)__pal_syscall_cp(SYS_getpid, 0, 0, 0, 0, 0, 0);
}

static void cp_masked_returns_ecanceled(void **state)
{
	assert_int_equal((long)join(spawn(masked_getpid, 0)), -ECANCELED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(error_is_negative_errno),
		BOTH(simple_results),
		BOTH(six_arguments),
		BOTH(pipe_read_write),
		BOTH(read_blocks_until_written),
		cmocka_unit_test(cp_read_is_cancellation_point),
		cmocka_unit_test(cp_pending_cancel_acted_on),
		cmocka_unit_test(block_read_is_not_cancellation_point),
		cmocka_unit_test(cp_masked_returns_ecanceled),
	};

	return cmocka_run_group_tests_name("pal_syscall", tests, 0, 0);
}
