/*
 * echo_load.c - load generator for echo_server.c (build it with the
 * system gcc; it is Linux-specific: epoll, non-blocking sockets).
 *
 * usage: echo_load [-t THREADS] [-d SECONDS | -r ROUNDS] [-s BYTES]
 *                  [-b BATCH] [-w WAIT] HOST PORT CONNS
 *   -t  event-loop threads, each with its own epoll set (default 2)
 *   -d  measure for SECONDS (default 10), or
 *   -r  measure ROUNDS round trips on every connection
 *   -s  message size, 8..65536 bytes (default 64)
 *   -b  connections being set up at once, over all threads (default 256)
 *   -w  seconds without progress before giving up (default 30)
 *
 * It first opens CONNS connections, BATCH at a time so the server's
 * listen backlog is not flooded.  A connection counts as open once one
 * message has come back over it, i.e. the server has accepted it and is
 * serving it; a refused or timed-out connect is retried a few times.
 * Only when all CONNS are open at once does the measurement start: each
 * connection then sends a message and waits for its whole echo before
 * sending the next.  A message holds the connection id, a sequence
 * number and a pattern derived from both, and every byte that comes back
 * is checked.  Latency is send to complete echo, kept in a histogram
 * that is exact to 1 us below 2048 us and to 0.1% above; percentiles
 * are exact ranks over it.  requests/s counts the round trips completed
 * in the measured time (with -d, the requests still in flight then are
 * completed and checked too, and counted in reqs and the latencies).
 * The last line is machine-readable:
 *   RESULT conns=N reqs=N rps=N p50_us=N p99_us=N max_us=N verify_fail=N errors=N
 * errors counts everything that went wrong (verification failures, a
 * connection closed or reset by the server, connect failures, echoes
 * still missing WAIT seconds after the run); the exit status is 0 only
 * if it is 0 and all CONNS connections were held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_TRIES	5		/* connect attempts per connection */
#define CONNECT_NS	5000000000ULL	/* one connect attempt may take 5 s */
#define NBUCKETS	(2048 + 30 * 1024)	/* latency histogram, see bucket() */

enum { RAMP, RUN, STOP, ABORT };			/* phase */
enum { C_NEW, C_CONNECTING, C_RETRY, C_HELLO, C_READY, C_BUSY, C_DONE, C_DEAD };

struct conn {
	int fd;
	unsigned char state, tries, wantout;
	uint32_t id, seq;		/* seq 0 is the set-up message */
	uint32_t woff, roff;		/* bytes of msg written, echoed */
	uint64_t t0;			/* ns: connect started, or request sent */
	unsigned char *msg;		/* the message in flight */
};

struct worker {
	pthread_t th;
	int ep;
	struct conn *c;
	int n, next, pending, outstanding;
	uint64_t last_done;		/* ns: last measured echo completed */
	uint64_t *hist, max_us;
	atomic_ulong reqs;		/* measured round trips */
};

static struct {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	const char *host, *port;
	int conns, threads, size, batch;
	long rounds, seconds, wait;
} cfg = { .threads = 2, .size = 64, .batch = 256, .seconds = 10, .wait = 30 };

static atomic_int phase = RAMP;
static atomic_int fatal;		/* a connection could not be set up */
static atomic_long established;		/* connections open and echoing */
static atomic_long settled;		/* connections done with their rounds, or dead */
static atomic_long errors, verify_fail;
static atomic_int messages;		/* error lines printed */
static uint64_t t_stop;			/* ns: STOP was set */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Report an error; past the first 20, only count it. */
static void error(atomic_long *counter, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	atomic_fetch_add(counter, 1);
	if (counter != &errors) atomic_fetch_add(&errors, 1);
	if (atomic_fetch_add(&messages, 1) >= 20) return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "echo_load: %s\n", line);	/* one call: whole lines */
}

/* The message for connection id, number seq: id, seq, then a pattern of both. */
static void fill(unsigned char *m, uint32_t id, uint32_t seq)
{
	uint64_t x = (uint64_t)id << 32 | seq;
	memcpy(m, &id, 4);
	memcpy(m + 4, &seq, 4);
	for (int i = 8; i < cfg.size; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		m[i] = x >> 56;
	}
}

/* Histogram bucket of a latency in us: exact below 2048, 1024 per octave above. */
static int bucket(uint64_t us)
{
	int e;
	if (us < 2048) return us;
	if (us >= 1ULL << 41) us = (1ULL << 41) - 1;
	e = 63 - __builtin_clzll(us);
	return 2048 + (e - 11) * 1024 + (int)((us >> (e - 10)) & 1023);
}

static uint64_t bucket_value(int b)
{
	int e;
	if (b < 2048) return b;
	e = (b - 2048) / 1024 + 11;
	return (uint64_t)(1024 + (b - 2048) % 1024) << (e - 10);
}

static void set_events(struct worker *w, struct conn *c, int op, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };
	if (epoll_ctl(w->ep, op, c->fd, &e)) {
		perror("echo_load: epoll_ctl");
		exit(1);
	}
}

/* Close a connection that failed; while setting up, that ends the run. */
static void kill_conn(struct worker *w, struct conn *c)
{
	if (c->fd >= 0) close(c->fd);
	c->fd = -1;
	if (atomic_load(&phase) == RAMP) atomic_store(&fatal, 1);
	if (c->state == C_CONNECTING || c->state == C_RETRY || c->state == C_HELLO) {
		w->pending--;
	} else {
		if (c->state == C_READY) atomic_fetch_add(&established, -1);
		if (c->state == C_BUSY) w->outstanding--;
		atomic_fetch_add(&settled, 1);
	}
	c->state = C_DEAD;
}

/* Write what is left of the message; 0 if the connection died. */
static int push(struct worker *w, struct conn *c)
{
	while (c->woff < (uint32_t)cfg.size) {
		ssize_t k = write(c->fd, c->msg + c->woff, cfg.size - c->woff);
		if (k < 0 && errno == EINTR) continue;
		if (k < 0 && errno == EAGAIN) {
			if (!c->wantout) set_events(w, c, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT);
			c->wantout = 1;
			return 1;
		}
		if (k < 0) {
			error(&errors, "conn %u seq %u: write: %s", c->id, c->seq, strerror(errno));
			kill_conn(w, c);
			return 0;
		}
		c->woff += k;
	}
	if (c->wantout) set_events(w, c, EPOLL_CTL_MOD, EPOLLIN);
	c->wantout = 0;
	return 1;
}

static void send_msg(struct worker *w, struct conn *c, uint32_t seq, int state)
{
	if (c->state == C_READY && state == C_BUSY) w->outstanding++;
	c->seq = seq;
	c->state = state;
	c->woff = c->roff = 0;
	fill(c->msg, c->id, seq);
	c->t0 = now_ns();
	push(w, c);
}

static void start_connect(struct worker *w, struct conn *c)
{
	int one = 1;

	if (c->state == C_NEW) w->pending++;
	c->fd = socket(cfg.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		error(&errors, "conn %u: socket: %s", c->id, strerror(errno));
		c->state = C_CONNECTING;	/* so kill_conn counts it as pending */
		kill_conn(w, c);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->t0 = now_ns();
	c->tries++;
	c->wantout = 0;
	if (connect(c->fd, (struct sockaddr *)&cfg.addr, cfg.addrlen) && errno != EINPROGRESS) {
		int e = errno;
		if ((e == ECONNREFUSED || e == EAGAIN || e == EINTR) && c->tries < MAX_TRIES) {
			close(c->fd);
			c->fd = -1;
			c->state = C_RETRY;
			return;
		}
		c->state = C_CONNECTING;	/* so kill_conn counts it as pending */
		error(&errors, "conn %u: connect to %s port %s failed (try %d): %s",
			c->id, cfg.host, cfg.port, c->tries, strerror(e));
		kill_conn(w, c);
		return;
	}
	c->state = C_CONNECTING;
	set_events(w, c, EPOLL_CTL_ADD, EPOLLOUT);
}

static void connected(struct worker *w, struct conn *c)
{
	int e = 0;
	socklen_t len = sizeof e;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len)) e = errno;
	if (!e) {
		set_events(w, c, EPOLL_CTL_MOD, EPOLLIN);
		send_msg(w, c, 0, C_HELLO);
		return;
	}
	if ((e == ECONNREFUSED || e == EAGAIN || e == ETIMEDOUT) && c->tries < MAX_TRIES) {
		close(c->fd);
		c->fd = -1;
		c->state = C_RETRY;
		c->t0 = now_ns();
		return;
	}
	error(&errors, "conn %u: connect to %s port %s failed (try %d): %s",
		c->id, cfg.host, cfg.port, c->tries, strerror(e));
	kill_conn(w, c);
}

/* A whole echo came back. */
static void echoed(struct worker *w, struct conn *c, uint64_t t)
{
	if (c->state == C_HELLO) {
		c->state = C_READY;
		w->pending--;
		atomic_fetch_add(&established, 1);
		if (atomic_load(&phase) == RUN) send_msg(w, c, 1, C_BUSY);
		return;
	}
	uint64_t us = (t - c->t0) / 1000;
	w->hist[bucket(us)]++;
	if (us > w->max_us) w->max_us = us;
	w->last_done = t;
	atomic_fetch_add_explicit(&w->reqs, 1, memory_order_relaxed);
	if (cfg.rounds && c->seq >= cfg.rounds) {
		c->state = C_DONE;
		w->outstanding--;
		atomic_fetch_add(&settled, 1);
	} else if (atomic_load(&phase) == RUN) {
		send_msg(w, c, c->seq + 1, C_BUSY);
	} else {
		c->state = C_READY;
		w->outstanding--;
	}
}

static void readable(struct worker *w, struct conn *c, uint64_t t)
{
	unsigned char buf[65536];
	int idle = c->state != C_HELLO && c->state != C_BUSY;
	size_t want = idle ? sizeof buf : c->woff - c->roff;
	ssize_t k;

	if (!want) return;	/* nothing sent yet that could come back */
	do k = read(c->fd, buf, want);
	while (k < 0 && errno == EINTR);
	if (k < 0 && errno == EAGAIN) return;
	if (k < 0) {
		error(&errors, "conn %u seq %u: read: %s", c->id, c->seq, strerror(errno));
		kill_conn(w, c);
		return;
	}
	if (!k) {
		error(&errors, "conn %u seq %u: unexpected EOF from the server (%u of %d bytes echoed)",
			c->id, c->seq, c->roff, cfg.size);
		kill_conn(w, c);
		return;
	}
	if (idle) {
		error(&verify_fail, "conn %u: %zd bytes from the server with no request outstanding",
			c->id, k);
		kill_conn(w, c);
		return;
	}
	for (ssize_t i = 0; i < k; i++)
		if (buf[i] != c->msg[c->roff + i]) {
			error(&verify_fail, "conn %u seq %u byte %u: got 0x%02x, sent 0x%02x",
				c->id, c->seq, (unsigned)(c->roff + i), buf[i], c->msg[c->roff + i]);
			kill_conn(w, c);
			return;
		}
	c->roff += k;
	if (c->roff == (uint32_t)cfg.size) echoed(w, c, t);
}

/* Connect timeouts and retries, while setting up. */
static void check_pending(struct worker *w, uint64_t t)
{
	for (int i = 0; i < w->next; i++) {
		struct conn *c = &w->c[i];
		if (c->state == C_CONNECTING && t - c->t0 > CONNECT_NS) {
			if (c->tries >= MAX_TRIES) {
				error(&errors, "conn %u: connect to %s port %s: no answer in %d tries of %llu s",
					c->id, cfg.host, cfg.port, c->tries, CONNECT_NS / 1000000000ULL);
				kill_conn(w, c);
				continue;
			}
			close(c->fd);
			c->fd = -1;
			c->state = C_RETRY;
			c->t0 = t;
		}
		/* back off 100 ms per failed try before the next */
		if (c->state == C_RETRY && t - c->t0 > c->tries * 100000000ULL)
			start_connect(w, c);
	}
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[256];
	int cap = cfg.batch / cfg.threads > 0 ? cfg.batch / cfg.threads : 1;
	int started = 0;
	uint64_t last_check = 0;

	for (;;) {
		int ph = atomic_load(&phase), k;
		uint64_t t;

		if (ph == ABORT) break;
		if (ph == RAMP)
			while (w->pending < cap && w->next < w->n)
				start_connect(w, &w->c[w->next++]);
		if (ph >= RUN && !started) {
			started = 1;
			for (int i = 0; i < w->n; i++)
				if (w->c[i].state == C_READY)
					send_msg(w, &w->c[i], 1, C_BUSY);
		}
		if (ph == STOP && !w->outstanding) break;
		k = epoll_wait(w->ep, ev, 256, 10);
		if (k < 0 && errno != EINTR) {
			perror("echo_load: epoll_wait");
			exit(1);
		}
		t = now_ns();
		for (int i = 0; i < k; i++) {
			struct conn *c = ev[i].data.ptr;
			if (c->state == C_CONNECTING) {
				connected(w, c);
				continue;
			}
			if (c->state == C_DEAD) continue;
			if (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) readable(w, c, t);
			if (c->state != C_DEAD && c->wantout && (ev[i].events & EPOLLOUT)) push(w, c);
		}
		if (w->pending && t - last_check > 50000000) {
			check_pending(w, t);
			last_check = t;
		}
		if (ph == STOP && w->outstanding && t - t_stop > cfg.wait * 1000000000ULL) {
			error(&errors, "%d requests still unanswered %ld s after the run",
				w->outstanding, cfg.wait);
			atomic_fetch_add(&errors, w->outstanding - 1);
			break;
		}
	}
	for (int i = 0; i < w->n; i++)
		if (w->c[i].fd >= 0) close(w->c[i].fd);
	return 0;
}

static long number(const char *s, const char *what, long min, long max)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || !*s || *end || v < min || v > max) {
		fprintf(stderr, "echo_load: %s must be a number from %ld to %ld, not '%s'\n",
			what, min, max, s);
		exit(2);
	}
	return v;
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-t THREADS] [-d SECONDS | -r ROUNDS] [-s BYTES] [-b BATCH] "
		"[-w WAIT] HOST PORT CONNS\n", argv0);
	exit(2);
}

static long total_reqs(struct worker *w)
{
	long n = 0;
	for (int i = 0; i < cfg.threads; i++)
		n += atomic_load_explicit(&w[i].reqs, memory_order_relaxed);
	return n;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct rlimit rl;
	struct worker *w;
	struct conn *conns;
	unsigned char *msgs;
	uint64_t t0, t_start, t_end = 0, max_us = 0, *hist, count = 0;
	uint64_t p50 = 0, p99 = 0;
	long held, reqs, last, need, window;
	int opt, e, ok;

	while ((opt = getopt(argc, argv, "t:d:r:s:b:w:")) != -1)
		switch (opt) {
		case 't': cfg.threads = number(optarg, "THREADS", 1, 1024); break;
		case 'd': cfg.seconds = number(optarg, "SECONDS", 1, 86400); cfg.rounds = 0; break;
		case 'r': cfg.rounds = number(optarg, "ROUNDS", 1, 1L << 31); break;
		case 's': cfg.size = number(optarg, "BYTES", 8, 65536); break;
		case 'b': cfg.batch = number(optarg, "BATCH", 1, 1 << 20); break;
		case 'w': cfg.wait = number(optarg, "WAIT", 1, 3600); break;
		default: usage(argv[0]);
		}
	if (argc - optind != 3) usage(argv[0]);
	cfg.host = argv[optind];
	cfg.port = argv[optind + 1];
	cfg.conns = number(argv[optind + 2], "CONNS", 1, 1 << 24);
	if (cfg.threads > cfg.conns) cfg.threads = cfg.conns;

	if ((e = getaddrinfo(cfg.host, cfg.port, &hints, &ai))) {
		fprintf(stderr, "echo_load: %s port %s: %s\n", cfg.host, cfg.port, gai_strerror(e));
		return 1;
	}
	memcpy(&cfg.addr, ai->ai_addr, ai->ai_addrlen);
	cfg.addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);

	/* One descriptor per connection, one epoll set per thread, stdio. */
	need = cfg.conns + cfg.threads + 16;
	if (getrlimit(RLIMIT_NOFILE, &rl)) return perror("getrlimit"), 1;
	if (rl.rlim_cur < (rlim_t)need) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)need ? rl.rlim_max : (rlim_t)need;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < (rlim_t)need) {
		fprintf(stderr, "echo_load: %d connections need %ld file descriptors, "
			"the limit is %llu (hard %llu): raise ulimit -n\n", cfg.conns, need,
			(unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
		return 1;
	}

	conns = calloc(cfg.conns, sizeof *conns);
	msgs = malloc((size_t)cfg.conns * cfg.size);
	w = calloc(cfg.threads, sizeof *w);
	hist = calloc(NBUCKETS, sizeof *hist);
	if (!conns || !msgs || !w || !hist) return perror("echo_load: malloc"), 1;
	for (int i = 0; i < cfg.conns; i++) {
		conns[i].fd = -1;
		conns[i].id = i;
		conns[i].msg = msgs + (size_t)i * cfg.size;
	}
	t0 = now_ns();
	for (int i = 0; i < cfg.threads; i++) {
		int lo = (long)cfg.conns * i / cfg.threads, hi = (long)cfg.conns * (i + 1) / cfg.threads;
		w[i].c = conns + lo;
		w[i].n = hi - lo;
		w[i].hist = calloc(NBUCKETS, sizeof *w[i].hist);
		w[i].ep = epoll_create1(EPOLL_CLOEXEC);
		if (!w[i].hist || w[i].ep < 0) return perror("echo_load: epoll_create1"), 1;
		if ((e = pthread_create(&w[i].th, 0, run, &w[i]))) {
			fprintf(stderr, "echo_load: pthread_create: %s\n", strerror(e));
			return 1;
		}
	}

	/* Set up: all connections open and echoing, or give up. */
	for (uint64_t progress = t0, last_n = 0;;) {
		uint64_t n = atomic_load(&established), t;
		sleep_ms(10);
		t = now_ns();
		if (n == (uint64_t)cfg.conns || atomic_load(&fatal)) break;
		if (n != last_n) last_n = n, progress = t;
		if (t - progress > cfg.wait * 1000000000ULL) {
			error(&errors, "set-up stalled: %llu of %d connections open and echoing, "
				"none more for %ld s", (unsigned long long)n, cfg.conns, cfg.wait);
			break;
		}
	}
	held = atomic_load(&established);
	if (held < cfg.conns || atomic_load(&fatal)) {
		atomic_store(&phase, ABORT);
		for (int i = 0; i < cfg.threads; i++)
			pthread_join(w[i].th, 0);
		fprintf(stderr, "echo_load: could not hold %d connections (%ld open), no measurement\n",
			cfg.conns, held);
		printf("RESULT conns=%ld reqs=0 rps=0 p50_us=0 p99_us=0 max_us=0 verify_fail=%ld errors=%ld\n",
			held, atomic_load(&verify_fail), atomic_load(&errors) ? atomic_load(&errors) : 1);
		return 1;
	}
	printf("echo_load: %d connections open at once (set up in %.2f s), %s\n", cfg.conns,
		(now_ns() - t0) / 1e9, cfg.rounds ? "measuring rounds" : "measuring");
	fflush(stdout);

	/* Measure: for cfg.seconds, or until every connection did its rounds. */
	t_start = now_ns();
	atomic_store(&phase, RUN);
	last = 0;
	for (uint64_t progress = t_start;;) {
		uint64_t t;
		sleep_ms(10);
		t = now_ns();
		if (!cfg.rounds && t - t_start >= cfg.seconds * 1000000000ULL) break;
		if (atomic_load(&settled) == cfg.conns) break;
		if (cfg.rounds) {
			reqs = total_reqs(w);
			if (reqs != last) last = reqs, progress = t;
			if (t - progress > cfg.wait * 1000000000ULL) {
				error(&errors, "no round trip completed for %ld s", cfg.wait);
				break;
			}
		}
	}
	t_stop = now_ns();
	window = total_reqs(w);
	atomic_store(&phase, STOP);
	for (int i = 0; i < cfg.threads; i++)
		pthread_join(w[i].th, 0);

	for (int i = 0; i < cfg.threads; i++) {
		for (int b = 0; b < NBUCKETS; b++) {
			hist[b] += w[i].hist[b];
			count += w[i].hist[b];
		}
		if (w[i].last_done > t_end) t_end = w[i].last_done;
		if (w[i].max_us > max_us) max_us = w[i].max_us;
	}
	reqs = total_reqs(w);
	/* The rate: round trips done while measuring (not those drained after), or
	 * with -r all of them, over the time it took. */
	if (!cfg.rounds || t_end < t_start) t_end = t_stop;
	else window = reqs;
	for (uint64_t b = 0, cum = 0, r50 = (count + 1) / 2, r99 = (count * 99 + 99) / 100;
	     b < NBUCKETS && count; b++) {
		if (cum < r50 && cum + hist[b] >= r50) p50 = bucket_value(b);
		if (cum < r99 && cum + hist[b] >= r99) p99 = bucket_value(b);
		cum += hist[b];
	}
	double secs = (t_end - t_start) / 1e9, rps = secs > 0 ? window / secs : 0;
	ok = !atomic_load(&errors);
	printf("echo_load: %d connections held; %ld round trips of %d bytes in %.2f s: %.0f requests/s\n",
		cfg.conns, window, cfg.size, secs, rps);
	if (reqs != window)
		printf("echo_load: and %ld round trips in flight at the end, completed and verified\n",
			reqs - window);
	printf("echo_load: latency p50 %llu us, p99 %llu us, max %llu us\n",
		(unsigned long long)p50, (unsigned long long)p99, (unsigned long long)max_us);
	printf("echo_load: verification failures %ld, errors in all %ld: %s\n",
		atomic_load(&verify_fail), atomic_load(&errors), ok ? "OK" : "FAILED");
	printf("RESULT conns=%d reqs=%ld rps=%.0f p50_us=%llu p99_us=%llu max_us=%llu verify_fail=%ld errors=%ld\n",
		cfg.conns, reqs, rps, (unsigned long long)p50, (unsigned long long)p99,
		(unsigned long long)max_us, atomic_load(&verify_fail), atomic_load(&errors));
	for (int i = 0; i < cfg.threads; i++) {
		close(w[i].ep);
		free(w[i].hist);
	}
	free(hist);
	free(w);
	free(msgs);
	free(conns);
	return ok ? 0 : 1;
}
