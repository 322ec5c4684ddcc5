/*
 * mkdata MIB FILE: write a deterministic MIB-MiB "mixed" file for the
 * pigz workload: 256 KiB blocks, each of one kind picked by a fixed
 * PRNG: English-like text (40%), log-like records with counters (30%),
 * incompressible random bytes (20%) and zero runs (10%).  The same
 * bytes on every machine, so runs are comparable.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t s = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return s;
}

static const char *words[] = {
	"the", "of", "and", "a", "to", "in", "is", "you", "that", "it", "he", "was", "for",
	"on", "are", "as", "with", "his", "they", "at", "be", "this", "have", "from", "or",
	"one", "had", "by", "word", "but", "not", "what", "all", "were", "we", "when", "your",
	"can", "said", "there", "use", "an", "each", "which", "she", "do", "how", "their",
	"if", "will", "up", "other", "about", "out", "many", "then", "them", "these", "so",
	"thread", "worker", "scheduler", "futex", "epoll", "socket", "buffer", "compress",
};

#define BLK (256 * 1024)

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mkdata MIB FILE\n");
		return 2;
	}
	long mib = atol(argv[1]);
	FILE *f = fopen(argv[2], "wb");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	static unsigned char b[BLK + 256];
	uint64_t rec = 0;
	for (long blk = 0; blk < mib * 4; blk++) {
		unsigned kind = rnd() % 10;
		size_t n = 0;
		if (kind < 4) {
			while (n < BLK) {
				const char *w = words[rnd() % (sizeof words / sizeof *words)];
				size_t l = strlen(w);
				memcpy(b + n, w, l);
				n += l;
				b[n++] = rnd() % 12 ? ' ' : '\n';
			}
		} else if (kind < 7) {
			while (n < BLK)
				n += sprintf((char *)b + n, "%llu ts=%llu level=%s req=%08llx bytes=%llu\n",
					     (unsigned long long)rec++, 1700000000000ull + rec * 37,
					     rnd() % 5 ? "info" : "warn", (unsigned long long)(rnd() & 0xffffffff),
					     (unsigned long long)(rnd() % 100000));
		} else if (kind < 9) {
			for (; n < BLK; n += 8) {
				uint64_t r = rnd();
				memcpy(b + n, &r, 8);
			}
		} else {
			memset(b, 0, BLK);
			n = BLK;
		}
		if (fwrite(b, 1, BLK, f) != BLK) {
			perror("write");
			return 1;
		}
	}
	return fclose(f) ? 1 : 0;
}
