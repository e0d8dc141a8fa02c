/*
 * w_runlog.c — runlog through its C API with default options (writer
 * thread, timed flush every second): add each value, commit the row.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "runlog.h"

typedef struct bench_rl {
    runlog_writer *w;
    const bench_shape *s;
    const char *path;
} bench_rl;

static void bench_rl_die(const char *path, const char *what, int rc)
{
    char why[512];
    snprintf(why, sizeof why, "%s (%s)", runlog_strerror(rc), runlog_error_detail());
    bench_die(path, what, why);
}

static void *bench_rl_open(const bench_writer *wr, const char *path, const bench_shape *s,
                           uint32_t run)
{
    bench_rl *h = bench_xmalloc(sizeof *h);
    h->s = s;
    h->path = path;
    bench_remove(path); /* an existing file would be resumed */
    int rc = runlog_writer_open(&h->w, path, NULL);
    if (rc)
        bench_rl_die(path, "open for writing", rc);
    return h;
}

static uint64_t bench_rl_step(void *hv, uint64_t step, const double *vals)
{
    bench_rl *h = hv;
    for (uint32_t k = 0; k < h->s->keys; k++) {
        int rc = runlog_writer_add_double(h->w, h->s->key_names[k], vals[k]);
        if (rc)
            bench_rl_die(h->path, "add", rc);
    }
    uint64_t t0 = bench_now_ns();
    int rc = runlog_writer_commit(h->w);
    uint64_t t1 = bench_now_ns();
    if (rc)
        bench_rl_die(h->path, "commit", rc);
    return t1 - t0;
}

/* finish() writes the index and trailer and fsyncs. */
static void bench_rl_close(void *hv)
{
    bench_rl *h = hv;
    int rc = runlog_writer_finish(h->w, 0);
    if (rc)
        bench_rl_die(h->path, "finish", rc);
    rc = runlog_writer_close(h->w);
    if (rc)
        bench_rl_die(h->path, "close", rc);
    free(h);
}

/* Checks a history of the read column (steps 0, 1, ...) and sums it. */
static double bench_rl_sum(const char *path, const runlog_history *hist, size_t *n)
{
    *n = runlog_history_length(hist);
    const double *v = runlog_history_values(hist);
    const uint64_t *steps = runlog_history_steps(hist);
    double acc = 0.0;
    for (size_t i = 0; i < *n; i++) {
        if (steps[i] != i)
            bench_die(path, "history", "steps out of order");
        acc += v[i];
    }
    return acc;
}

/* Open (timed apart), then one key's history. */
static uint64_t bench_rl_read(const bench_writer *wr, const char *path, const bench_shape *s,
                              uint32_t run, double *sum, bench_read_info *info)
{
    runlog_reader *r = NULL;
    runlog_history *hist = NULL;
    uint64_t t0 = bench_now_ns();
    int rc = runlog_reader_open(&r, path, NULL);
    info->open_ns = bench_now_ns() - t0;
    if (rc)
        bench_rl_die(path, "open for reading", rc);
    rc = runlog_reader_history(&hist, r, s->key_names[s->read_key]);
    if (rc)
        bench_rl_die(path, "history", rc);
    size_t n;
    *sum = bench_rl_sum(path, hist, &n);
    info->bytes_decoded = runlog_history_bytes_decoded(hist);
    runlog_history_free(hist);
    /* Then up to 8 other keys on the same reader, timed apart: the first of
     * them (the second read, which builds the reader's key map where the
     * first did not: a sealed file of more than 4,096 keys a frame, or an
     * unsealed one), then the others, which use the map. */
    uint64_t t1 = bench_now_ns();
    for (uint32_t i = 1; i <= 8 && i < s->keys; i++) {
        const char *key = s->key_names[(s->read_key + i * (s->keys / 9 + 1)) % s->keys];
        if ((rc = runlog_reader_history(&hist, r, key)))
            bench_rl_die(path, "history", rc);
        if (i > 1)
            info->next_points += runlog_history_length(hist);
        runlog_history_free(hist);
        if (i == 1)
            info->second_ns = bench_now_ns() - t1;
    }
    info->next_ns = bench_now_ns() - t1 - info->second_ns;
    runlog_reader_close(r);
    return n;
}

/* Open, then every key in one pass (runlog_reader_histories). */
static uint64_t bench_rl_read_all(const bench_writer *wr, const char *path, const bench_shape *s,
                                  uint32_t run, double *sum, bench_read_info *info)
{
    runlog_reader *r = NULL;
    runlog_histories *hs = NULL;
    uint64_t t0 = bench_now_ns();
    int rc = runlog_reader_open(&r, path, NULL);
    info->open_ns = bench_now_ns() - t0;
    if (rc)
        bench_rl_die(path, "open for reading", rc);
    rc = runlog_reader_histories(&hs, r);
    if (rc)
        bench_rl_die(path, "histories", rc);
    size_t at, n;
    if (runlog_histories_count(hs) != s->keys ||
        runlog_histories_find(&at, hs, s->key_names[s->read_key]) != 0)
        bench_die(path, "histories", "not every key");
    *sum = bench_rl_sum(path, runlog_histories_get(hs, at), &n);
    uint64_t points = 0;
    for (size_t i = 0; i < runlog_histories_count(hs); i++)
        points += runlog_history_length(runlog_histories_get(hs, i));
    info->bytes_decoded = runlog_histories_bytes_decoded(hs);
    runlog_histories_free(hs);
    runlog_reader_close(r);
    return points;
}

const bench_writer bench_runlog_writer = {
    "runlog", "runlog", 0, 0, bench_rl_open, bench_rl_step, bench_rl_close, bench_rl_read,
    bench_rl_read_all,
};
