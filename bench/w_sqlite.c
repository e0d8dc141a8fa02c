/*
 * w_sqlite.c — SQLite with MLflow's metrics table (one row per key per
 * step, every run in one database), in WAL mode with synchronous=NORMAL
 * (the usual WAL pairing: commits survive a process crash, as runlog's
 * flushed frames do, and the WAL is synced at checkpoints). Two writers:
 * one transaction per step, and one per 100 steps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "bench.h"

typedef struct bench_sq {
    sqlite3 *db;
    sqlite3_stmt *ins;
    const bench_shape *s;
    const char *path;
    char run_uuid[33];
    uint64_t per_txn;
    int in_txn;
} bench_sq;

static const char bench_sq_schema[] =
    "CREATE TABLE IF NOT EXISTS metrics ("
    " key TEXT NOT NULL, value DOUBLE NOT NULL, timestamp BIGINT NOT NULL,"
    " step BIGINT NOT NULL DEFAULT 0, run_uuid TEXT NOT NULL,"
    " is_nan BOOLEAN NOT NULL DEFAULT 0,"
    " CONSTRAINT metric_pk PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan))";

static void bench_sq_exec(bench_sq *h, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(h->db, sql, NULL, NULL, &err) != SQLITE_OK)
        bench_die(h->path, sql, err ? err : "sqlite3_exec failed");
}

/* A fixed uuid per run, so the reader finds the run again. */
static void bench_sq_uuid(char out[33], uint32_t run)
{
    uint64_t a = 0x6a09e667f3bcc908u ^ run, b = 0xbb67ae8584caa73bu * (run + 1u);
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

static void *bench_sq_open(const bench_writer *wr, const char *path, const bench_shape *s,
                           uint32_t run)
{
    bench_sq *h = bench_xmalloc(sizeof *h);
    memset(h, 0, sizeof *h);
    h->s = s;
    h->path = path;
    h->per_txn = (uint64_t)wr->variant;
    bench_sq_uuid(h->run_uuid, run);
    if (sqlite3_open(path, &h->db) != SQLITE_OK)
        bench_die(path, "open", sqlite3_errmsg(h->db));
    bench_sq_exec(h, "PRAGMA journal_mode=WAL");
    bench_sq_exec(h, "PRAGMA synchronous=NORMAL");
    bench_sq_exec(h, bench_sq_schema);
    if (sqlite3_prepare_v2(h->db, "INSERT INTO metrics VALUES (?,?,?,?,?,?)", -1, &h->ins,
                           NULL) != SQLITE_OK)
        bench_die(path, "prepare", sqlite3_errmsg(h->db));
    return h;
}

static void bench_sq_insert(bench_sq *h, const char *key, double v, int64_t ts, uint64_t step)
{
    sqlite3_stmt *st = h->ins;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, v);
    sqlite3_bind_int64(st, 3, ts);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)step);
    sqlite3_bind_text(st, 5, h->run_uuid, 32, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, v != v);
    if (sqlite3_step(st) != SQLITE_DONE)
        bench_die(h->path, "insert", sqlite3_errmsg(h->db));
    sqlite3_reset(st);
}

static uint64_t bench_sq_step(void *hv, uint64_t step, const double *vals)
{
    bench_sq *h = hv;
    uint64_t t0 = bench_now_ns();
    if (!h->in_txn) {
        bench_sq_exec(h, "BEGIN");
        h->in_txn = 1;
    }
    int64_t ts = bench_wall_ms();
    for (uint32_t k = 0; k < h->s->keys; k++)
        bench_sq_insert(h, h->s->key_names[k], vals[k], ts, step);
    if ((step + 1) % h->per_txn == 0) {
        bench_sq_exec(h, "COMMIT");
        h->in_txn = 0;
    }
    return bench_now_ns() - t0;
}

static void bench_sq_close(void *hv)
{
    bench_sq *h = hv;
    if (h->in_txn)
        bench_sq_exec(h, "COMMIT");
    sqlite3_finalize(h->ins);
    /* The last connection to close checkpoints the WAL into the database
     * and removes it. */
    if (sqlite3_close(h->db) != SQLITE_OK)
        bench_die(h->path, "close", "sqlite3_close failed");
    bench_fsync_path(h->path);
    free(h);
}

static uint64_t bench_sq_read(const bench_writer *wr, const char *path, const bench_shape *s,
                              uint32_t run, double *sum, bench_read_info *info)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char uuid[33];
    bench_sq_uuid(uuid, run);
    uint64_t t0 = bench_now_ns();
    int orc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    info->open_ns = bench_now_ns() - t0;
    if (orc != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT step, value FROM metrics WHERE key=? AND run_uuid=? "
                               "ORDER BY step", -1, &st, NULL) != SQLITE_OK)
        bench_die(path, "query", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, s->key_names[s->read_key], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, uuid, 32, SQLITE_STATIC);
    uint64_t n = 0;
    double acc = 0.0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((uint64_t)sqlite3_column_int64(st, 0) != n)
            bench_die(path, "query", "steps out of order");
        acc += sqlite3_column_double(st, 1);
        n++;
    }
    if (rc != SQLITE_DONE)
        bench_die(path, "query", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    *sum = acc;
    return n;
}

const bench_writer bench_sqlite_step_writer = {
    "sqlite-txn1", "db", 1, 1, bench_sq_open, bench_sq_step, bench_sq_close, bench_sq_read, NULL,
};

const bench_writer bench_sqlite_batch_writer = {
    "sqlite-txn100", "db", 100, 1, bench_sq_open, bench_sq_step, bench_sq_close, bench_sq_read, NULL,
};
