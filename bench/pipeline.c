/*
 * pipeline.c - a pigz-shaped pipeline: a producer thread cuts BLOCKS
 * blocks of 128 KiB, THREADS compressor threads (default 2, as
 * `pigz -p 2`) each run an LZ77-style match finder over a block (a few
 * hundred microseconds of integer work, no external library), and a
 * writer thread takes the results strictly in block order and folds them
 * into one checksum.  Blocks travel the way pigz hands them on: a
 * bounded pool of 2 * THREADS + 3 buffers (pigz's INBUFS), a compress
 * queue, and a write list sorted by block number, each behind one mutex
 * and one condvar, every change announced with pthread_cond_broadcast
 * (pigz's yarn `twist`).  So THREADS + 2 threads want a CPU at times
 * (main only waits in pthread_join): more than there are CPUs at
 * THREADS = 2 on two cores.  Prints the wall time in ms from the first
 * pthread_create to the last join.
 *
 * The output is checked: every compressor checks the block number
 * stamped into its block; the writer's checksum depends on the order of
 * the results and must equal the known value for the block counts
 * bench/run.sh uses (500 and 8000); and main recomputes every 64th
 * block's result serially after the clock has stopped.  The BENCH line
 * carries the checksum (check=) and which check was made (checked=known,
 * or checked=sample for other block counts).
 * usage: pipeline [BLOCKS [THREADS]]   (default 8000 blocks, 2 threads)
 */
#include <pthread.h>
#include <stdint.h>
#include "bench.h"

#define BLOCK (128 * 1024)		/* pigz's default block size */
#define SRC (1024 * 1024)		/* the "input file" blocks are cut from */
#define HBITS 15			/* deflate's hash: 3 bytes, 15 bits */
#define HSIZE (1 << HBITS)
#define MAXMATCH 258
#define SAMPLE 64			/* main recomputes every 64th block */

/* The final checksum for the block counts bench/run.sh uses. */
static const struct { long blocks; uint64_t check; } known[] = {
	{ 500, 0x2a60a1dddf3b5130u },
	{ 8000, 0x5d347d74f440bad8u },
};

struct job {
	long seq;
	unsigned char *buf;
	uint64_t result;
	struct job *next;
};

/* A mutex, a condvar and the list it guards: pigz's yarn "lock". */
struct queue {
	pthread_mutex_t m;
	pthread_cond_t c;
	struct job *head, *tail;
};

static struct queue pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
static struct queue work = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
static struct queue done = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };

static long blocks;
static unsigned char *src;
static uint64_t *results;		/* written by the writer, by seq */
static uint64_t final_check;

static void check(const char *call, int e)
{
	if (e) fail(call, e);
}

static void lock(struct queue *q) { check("pthread_mutex_lock", pthread_mutex_lock(&q->m)); }
static void wait_on(struct queue *q) { check("pthread_cond_wait", pthread_cond_wait(&q->c, &q->m)); }

/* Announce a change and let go, as pigz's twist() does. */
static void twist(struct queue *q)
{
	check("pthread_cond_broadcast", pthread_cond_broadcast(&q->c));
	check("pthread_mutex_unlock", pthread_mutex_unlock(&q->m));
}

static void append(struct queue *q, struct job *j)
{
	j->next = 0;
	if (q->tail) q->tail->next = j;
	else q->head = j;
	q->tail = j;
}

static struct job *take(struct queue *q)
{
	struct job *j = q->head;

	q->head = j->next;
	if (!q->head) q->tail = 0;
	return j;
}

/* Deterministic "input": 16 letters from an LCG, some repeats to match. */
static void make_src(void)
{
	uint32_t x = 12345;
	long i;

	for (i = 0; i < SRC + BLOCK; i++) {
		x = x * 1103515245u + 12345u;
		src[i] = 'a' + (x >> 27 & 15);
		if (i >= 64 && (x >> 8 & 7) == 0) {	/* copy a run from back there */
			long from = i - 1 - (x >> 12 & 63), k;
			for (k = 0; k < 8 && i < SRC + BLOCK; k++, i++)
				src[i] = src[from + k];
			i--;
		}
	}
}

/* Block seq's contents: a slice of src, its number in the first 8 bytes. */
static void fill(unsigned char *b, long seq)
{
	uint64_t s = seq;

	memcpy(b, src + (seq * 40503u) % SRC, BLOCK);
	memcpy(b, &s, sizeof s);
}

/*
 * The compressor's work: greedy LZ77 over the block with deflate's rolling
 * 3-byte hash and a head table, hashing the token stream (literals and
 * (distance, length) pairs) with FNV-1a.  Pure integer arithmetic: the
 * same value from every compiler and libc.
 */
static uint64_t crunch(const unsigned char *p, uint32_t *head)
{
	uint64_t f = 1469598103934665603u;
	uint32_t h = (p[0] << 5 ^ p[1]) & (HSIZE - 1);
	long i = 0, len;

	memset(head, 0, HSIZE * sizeof *head);
	while (i + 2 < BLOCK) {
		uint32_t cand;

		h = (h << 5 ^ p[i + 2]) & (HSIZE - 1);
		cand = head[h];
		head[h] = i + 1;
		len = 0;
		if (cand--)
			while (len < MAXMATCH && i + len < BLOCK && p[cand + len] == p[i + len])
				len++;
		if (len >= 3) {
			f = (f ^ (uint64_t)(i - cand) << 16 ^ len) * 0x100000001b3u;
			i += len;
			if (i + 1 < BLOCK) h = (p[i] << 5 ^ p[i + 1]) & (HSIZE - 1);
		} else {
			f = (f ^ p[i]) * 0x100000001b3u;
			i++;
		}
	}
	for (; i < BLOCK; i++)
		f = (f ^ p[i]) * 0x100000001b3u;
	return f;
}

static struct job end = { .seq = -1 };	/* the last job: no more blocks */

static void *producer(void *arg)
{
	long seq;

	for (seq = 0; seq < blocks; seq++) {
		struct job *j;

		lock(&pool);			/* pigz: get_space() */
		while (!pool.head)
			wait_on(&pool);
		j = take(&pool);
		twist(&pool);
		j->seq = seq;
		fill(j->buf, seq);
		lock(&work);			/* pigz: the reader queues a job */
		append(&work, j);
		twist(&work);
	}
	lock(&work);
	append(&work, &end);
	twist(&work);
	return arg;
}

static void *compressor(void *arg)
{
	uint32_t *head = malloc(HSIZE * sizeof *head);

	if (!head) fail("malloc", ENOMEM);
	for (;;) {
		struct job *j, **p;
		uint64_t stamp;

		lock(&work);
		while (!work.head)
			wait_on(&work);
		if (work.head == &end) {	/* left there for the others */
			check("pthread_mutex_unlock", pthread_mutex_unlock(&work.m));
			break;
		}
		j = take(&work);
		twist(&work);
		memcpy(&stamp, j->buf, sizeof stamp);
		if (stamp != (uint64_t)j->seq) {
			fprintf(stderr, "pipeline: error: block %ld holds block %llu's data\n",
				j->seq, (unsigned long long)stamp);
			_exit(1);
		}
		j->result = crunch(j->buf, head);
		lock(&done);			/* into the write list, sorted */
		for (p = &done.head; *p && (*p)->seq < j->seq; p = &(*p)->next)
			;
		j->next = *p;
		*p = j;
		twist(&done);
	}
	free(head);
	return arg;
}

/* Takes the results in block order, as pigz's writer does. */
static void *writer(void *arg)
{
	uint64_t sum = 0;
	long seq;

	for (seq = 0; seq < blocks; seq++) {
		struct job *j;

		lock(&done);
		while (!done.head || done.head->seq != seq)
			wait_on(&done);
		j = take(&done);
		check("pthread_mutex_unlock", pthread_mutex_unlock(&done.m));
		results[seq] = j->result;
		sum = (sum ^ j->result) * 0x100000001b3u + seq;
		lock(&pool);			/* pigz: drop_space() */
		append(&pool, j);
		twist(&pool);
	}
	final_check = sum;
	return arg;
}

int main(int argc, char **argv)
{
	long threads, njobs, i;
	pthread_t prod, wr, *comp;
	uint32_t *head;
	double t0, t1;
	int e, ref = 0;

	bench_name = "pipeline";
	blocks = arg_count(argc, argv, 1, 8000);
	threads = arg_count(argc, argv, 2, 2);
	njobs = 2 * threads + 3;		/* pigz's INBUFS(p) */
	src = malloc(SRC + BLOCK);
	results = calloc(blocks, sizeof *results);
	comp = calloc(threads, sizeof *comp);
	head = malloc(HSIZE * sizeof *head);
	if (!src || !results || !comp || !head) fail("malloc", ENOMEM);
	make_src();
	for (i = 0; i < njobs; i++) {
		struct job *j = calloc(1, sizeof *j);
		if (!j || !(j->buf = malloc(BLOCK))) fail("malloc", ENOMEM);
		append(&pool, j);
	}

	t0 = now_ns();
	if ((e = pthread_create(&wr, 0, writer, 0))) create_failed(e);
	for (i = 0; i < threads; i++)
		if ((e = pthread_create(&comp[i], 0, compressor, 0))) create_failed(e);
	if ((e = pthread_create(&prod, 0, producer, 0))) create_failed(e);
	check("pthread_join", pthread_join(prod, 0));
	for (i = 0; i < threads; i++)
		check("pthread_join", pthread_join(comp[i], 0));
	check("pthread_join", pthread_join(wr, 0));
	t1 = now_ns();

	/* Check: a sample of blocks recomputed here, the total if known. */
	for (i = 0; i < blocks; i += SAMPLE) {
		fill(pool.head->buf, i);
		if (crunch(pool.head->buf, head) != results[i]) {
			fprintf(stderr, "pipeline: error: block %ld: result %016llx, not %016llx\n",
				i, (unsigned long long)results[i],
				(unsigned long long)crunch(pool.head->buf, head));
			return 1;
		}
	}
	for (i = 0; i < (long)(sizeof known / sizeof *known); i++)
		if (known[i].blocks == blocks) {
			if (known[i].check != final_check) {
				fprintf(stderr, "pipeline: error: checksum %016llx, not %016llx\n",
					(unsigned long long)final_check,
					(unsigned long long)known[i].check);
				return 1;
			}
			ref = 1;
		}
	/* report()'s line, with the thread count and the checksum added */
	(void)report;
	printf("BENCH name=%s unit=ms value=%.1f ops=%ld threads=%ld check=%016llx%s\n",
		bench_name, (t1 - t0) / 1e6, blocks, threads,
		(unsigned long long)final_check, ref ? " checked=known" : " checked=sample");
	return 0;
}
