/*
 * sqlite_wal DB WRITERS READERS TXNS ROWS: a many-thread WAL workload for
 * make corpus (tests/corpus/sqlite3.sh), built against sqlite's
 * amalgamation with each compiler.
 *
 * WRITERS threads, each on its own connection, insert TXNS transactions
 * of ROWS rows (BEGIN IMMEDIATE ... COMMIT) into a
 * WAL-mode database.  READERS threads, each on its own connection, read
 * count(*) and sum(seq) until the writers are done: every snapshot must
 * hold whole transactions (count a multiple of ROWS) and never go back.
 * At the end: the row count, each writer's row count, and
 * PRAGMA integrity_check must be right.
 *
 * busy_timeout is 300 s: it is there to catch a lost wakeup or a
 * deadlock, not to judge speed.  With 60 s, 100 writers and 100 readers
 * on a host busy with other work made writers give up ("database is
 * locked") on glibc and on weft alike.
 *
 * Prints each failed check, then "sqlite_wal: N passed, M failed";
 * exits 0 only if none failed.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sqlite3.h"

static const char *db_path;
static int nw, nr, ntx, nrows;
static atomic_int writers_left;
static atomic_int passed, failed;

static void check(int ok, const char *what, long a, long b)
{
	if (ok) {
		atomic_fetch_add(&passed, 1);
	} else {
		atomic_fetch_add(&failed, 1);
		printf("FAIL: %s (%ld, %ld)\n", what, a, b);
		fflush(stdout);
	}
}

static sqlite3 *open_db(void)
{
	sqlite3 *db;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, 0) != SQLITE_OK) {
		printf("FAIL: open: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	sqlite3_busy_timeout(db, 300000);
	return db;
}

static int exec(sqlite3 *db, const char *sql)
{
	char *err = 0;
	int rc = sqlite3_exec(db, sql, 0, 0, &err);
	if (rc != SQLITE_OK) {
		printf("error: %s: %s\n", sql, err ? err : "?");
		sqlite3_free(err);
	}
	return rc;
}

static void *writer(void *arg)
{
	long w = (long)arg;
	sqlite3 *db = open_db();
	sqlite3_stmt *ins;
	int ok = 1;
	sqlite3_prepare_v2(db, "INSERT INTO t(w, seq, payload) VALUES (?1, ?2, hex(randomblob(40)))", -1, &ins, 0);
	for (int i = 0; i < ntx && ok; i++) {
		if (exec(db, "BEGIN IMMEDIATE") != SQLITE_OK) {
			ok = 0;
			break;
		}
		for (int j = 0; j < nrows; j++) {
			sqlite3_bind_int64(ins, 1, w);
			sqlite3_bind_int64(ins, 2, (long)i * nrows + j);
			if (sqlite3_step(ins) != SQLITE_DONE) {
				printf("error: insert: %s\n", sqlite3_errmsg(db));
				ok = 0;
			}
			sqlite3_reset(ins);
		}
		if (exec(db, ok ? "COMMIT" : "ROLLBACK") != SQLITE_OK)
			ok = 0;
	}
	check(ok, "writer committed every transaction", w, 0);
	sqlite3_finalize(ins);
	sqlite3_close(db);
	atomic_fetch_sub(&writers_left, 1);
	return 0;
}

static void *reader(void *arg)
{
	long r = (long)arg, last = 0, reads = 0;
	int ok = 1;
	sqlite3 *db = open_db();
	sqlite3_stmt *q;
	sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &q, 0);
	for (;;) {
		int done = atomic_load(&writers_left) == 0;
		if (sqlite3_step(q) != SQLITE_ROW) {
			printf("error: reader %ld: %s\n", r, sqlite3_errmsg(db));
			ok = 0;
			break;
		}
		long n = sqlite3_column_int64(q, 0);
		sqlite3_reset(q);
		reads++;
		if (n % nrows != 0 || n < last) {
			printf("reader %ld: saw %ld rows after %ld\n", r, n, last);
			ok = 0;
		}
		last = n;
		if (done)
			break;
		usleep(2000);
	}
	check(ok && reads > 0, "reader saw whole transactions, never going back", r, reads);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return 0;
}

static long one(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &q, 0) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: sqlite_wal DB WRITERS READERS TXNS ROWS\n");
		return 2;
	}
	db_path = argv[1];
	nw = atoi(argv[2]), nr = atoi(argv[3]), ntx = atoi(argv[4]), nrows = atoi(argv[5]);
	char buf[4096];
	snprintf(buf, sizeof buf, "%s-wal", db_path);
	unlink(buf);
	snprintf(buf, sizeof buf, "%s-shm", db_path);
	unlink(buf);
	unlink(db_path);

	sqlite3 *db = open_db();
	if (exec(db, "PRAGMA journal_mode=WAL") || exec(db,
		"CREATE TABLE t(id INTEGER PRIMARY KEY, w INT, seq INT, payload TEXT)"))
		return 1;
	atomic_store(&writers_left, nw);
	pthread_t *t = calloc(nw + nr, sizeof *t);
	int created = 0;
	for (long i = 0; i < nw + nr; i++) {
		int e = pthread_create(&t[i], 0, i < nw ? writer : reader, (void *)(i < nw ? i : i - nw));
		if (e) {
			printf("FAIL: pthread_create %ld: %s\n", i, strerror(e));
			return 1;
		}
		created++;
	}
	for (int i = 0; i < created; i++)
		pthread_join(t[i], 0);

	long want = (long)nw * ntx * nrows;
	long got = one(db, "SELECT count(*) FROM t");
	check(got == want, "row count", got, want);
	long groups = one(db, "SELECT count(*) FROM (SELECT w, count(*) AS n FROM t GROUP BY w)");
	long right = one(db, "SELECT count(*) FROM (SELECT w, count(*) AS n, count(DISTINCT seq) AS d FROM t GROUP BY w)"
			     " WHERE n = d");
	snprintf(buf, sizeof buf, "SELECT count(*) FROM (SELECT w, count(*) AS n FROM t GROUP BY w) WHERE n = %ld",
		 (long)ntx * nrows);
	long full = one(db, buf);
	check(groups == nw && right == nw && full == nw, "each writer's rows, once each", full, nw);
	sqlite3_stmt *q;
	const char *ic = "?";
	int icok = 0;
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, 0) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) {
		ic = (const char *)sqlite3_column_text(q, 0);
		icok = ic && !strcmp(ic, "ok");
		printf("integrity_check: %s\n", ic ? ic : "(null)");
	}
	check(icok, "PRAGMA integrity_check is ok", 0, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	printf("rows %ld of %ld\n", got, want);
	printf("sqlite_wal: %d passed, %d failed\n", atomic_load(&passed), atomic_load(&failed));
	return atomic_load(&failed) ? 1 : 0;
}
