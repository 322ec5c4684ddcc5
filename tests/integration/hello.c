/* Hello world: stdio to stdout, to a file, and from several threads. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include "testutil.h"

/* printf to stdout, with stdout briefly on a pipe to read it back. */
static void hello_stdout(void **state)
{
	int fd[2], saved;
	char buf[64] = { 0 };

	assert_int_equal(pipe(fd), 0);
	fflush(stdout);
	saved = dup(1);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd[1], 1), 1);
	int n = printf("hello, %s\n", "world");
	int f = fflush(stdout);
	assert_int_equal(dup2(saved, 1), 1);
	close(saved);
	close(fd[1]);
	assert_int_equal(n, 13);
	assert_int_equal(f, 0);
	assert_int_equal(read(fd[0], buf, sizeof buf - 1), 13);
	assert_string_equal(buf, "hello, world\n");
	close(fd[0]);
}

static void hello_file(void **state)
{
	char buf[64];
	FILE *f = tmpfile();

	assert_non_null(f);
	assert_int_equal(fprintf(f, "%s, %d %.1f %x\n", "hello", 42, 2.5, 255), 17);
	rewind(f);
	assert_non_null(fgets(buf, sizeof buf, f));
	assert_string_equal(buf, "hello, 42 2.5 ff\n");
	assert_null(fgets(buf, sizeof buf, f));
	assert_true(feof(f));
	assert_int_equal(fclose(f), 0);
}

static void hello_snprintf(void **state)
{
	char buf[8];

	/* The truncation is what is tested. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
	assert_int_equal(snprintf(buf, sizeof buf, "hello, world"), 12);
	assert_string_equal(buf, "hello, ");
}

/* Lines written by many threads to one FILE come out whole. */
#define NT 4
#define LINES 500

static FILE *shared;

static void *write_lines(void *p)
{
	long id = (long)p;

	for (int i = 0; i < LINES; i++)
		CHECK(fprintf(shared, "thread %ld line %d end\n", id, i) > 0);
	return 0;
}

static void hello_threads(void **state)
{
	pthread_t t[NT];
	int next[NT] = { 0 };
	char buf[64];
	long id;
	int i, n = 0;

	shared = tmpfile();
	assert_non_null(shared);
	for (i = 0; i < NT; i++)
		t[i] = spawn(write_lines, (void *)(long)i);
	for (i = 0; i < NT; i++)
		join(t[i]);
	assert_thread_checks();
	rewind(shared);
	while (fgets(buf, sizeof buf, shared)) {
		char end[8];
		assert_int_equal(sscanf(buf, "thread %ld line %d %7s", &id, &i, end), 3);
		assert_string_equal(end, "end");
		assert_in_range(id, 0, NT - 1);
		/* Each thread's lines in its own order. */
		assert_int_equal(i, next[id]);
		next[id]++;
		n++;
	}
	assert_int_equal(n, NT * LINES);
	fclose(shared);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hello_stdout),
		cmocka_unit_test(hello_file),
		cmocka_unit_test(hello_snprintf),
		cmocka_unit_test(hello_threads),
	};

	return cmocka_run_group_tests_name("hello", tests, 0, 0);
}
