/*
 * main.c — runlog-bench: runs each workload through runlog and through the
 * writers users pick instead, each writer in a forked child (so that peak
 * RSS is the writer's own and one writer's heap never helps another), and
 * prints a table per workload with ratios to runlog, then the goals.
 *
 * It prints figures and asserts nothing about time (docs/CONVENTIONS.md): it is never
 * part of the test suite. It does check that what each writer reads back
 * is what it wrote (count, step order and the exact sum of the values),
 * because a fast wrong answer is not a figure.
 *
 * Usage: runlog-bench [--quick] [--json] [--dir D] [--keep] [--only NAME]
 *                     [--writers LIST]
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define BENCH_MAX_RUNS 8
#define BENCH_MAX_WORKLOADS 24
#define BENCH_FLAT 1.25 /* "flat" and "linear": within 25% */

static const bench_writer *const bench_writers[] = {
    &bench_runlog_writer,      &bench_hdf5_gzip_writer,    &bench_hdf5_plain_writer,
    &bench_sqlite_step_writer, &bench_sqlite_batch_writer, &bench_jsonl_zstd_writer,
    &bench_jsonl_writer,
};
#define BENCH_NWRITERS (sizeof bench_writers / sizeof bench_writers[0])

typedef struct bench_opts {
    int quick, json, keep;
    const char *dir;
    const char *only;    /* run only workloads whose name starts with this */
    const char *writers; /* run only these writers (a comma-separated list) */
} bench_opts;

/* A workload and the most points a writer other than runlog is given
 * (peers past it print "skipped (over budget)"); jsonl-zstd gets
 * zstd_cap, being W&B's format and the 3x goal's reference. */
typedef struct bench_workload {
    char name[32];
    bench_shape shape;
    uint64_t peer_cap, zstd_cap;
} bench_workload;

typedef enum { BENCH_NOTRUN, BENCH_OK, BENCH_SKIPPED, BENCH_FAILED } bench_status;

typedef struct bench_result {
    bench_status status;
    double pps, bpp, p50, p99, rss_mib, read_pps;
    /* The read split: the file's open (ms, per run), the key's read after it
     * (points/s), block bytes decoded per point read (0: not known), and
     * every key in one pass, open included (0: no such read). */
    double open_ms, key_pps, dec_bpp, all_pps;
    /* runlog, on the same reader: the second key's read (ms, per run), and
     * up to 7 more keys (points/s); 0: not measured */
    double second_ms, next_pps;
} bench_result;

/* What a writing child sends back through its pipe. */
typedef struct bench_wmsg {
    double secs;
    uint64_t bytes;
    double p50, p99;
    double sums[BENCH_MAX_RUNS]; /* of the read column, per run, in step order */
} bench_wmsg;

typedef struct bench_rmsg {
    double secs, open_secs;
    uint64_t points, bytes_decoded;
    double all_secs;
    uint64_t all_points;
    double second_secs, next_secs;
    uint64_t next_points;
} bench_rmsg;

static FILE *bench_table_out; /* stdout, or stderr under --json */

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

static void bench_usage(FILE *f)
{
    fprintf(f,
            "usage: runlog-bench [--quick] [--json] [--dir D] [--keep] [--only NAME]\n"
            "                    [--writers LIST]\n"
            "  --quick      small sizes (under a minute)\n"
            "  --json       one JSON object per writer per workload on stdout\n"
            "               (the tables go to stderr)\n"
            "  --dir D      where the files go (default: a new directory under /tmp,\n"
            "               removed at the end)\n"
            "  --keep       keep the files written\n"
            "  --only NAME  only the workloads whose name starts with NAME\n"
            "               (seed, train, wide, points-, keys-, keys1e7-)\n"
            "  --writers L  only these writers, comma-separated (runlog, hdf5-gzip,\n"
            "               hdf5-plain, sqlite-txn1, sqlite-txn100, jsonl-zstd, jsonl)\n");
}

static bench_opts bench_parse_args(int argc, char **argv)
{
    bench_opts o = { 0, 0, 0, NULL, NULL, NULL };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_next = i + 1 < argc;
        if (!strcmp(a, "--quick")) {
            o.quick = 1;
        } else if (!strcmp(a, "--json")) {
            o.json = 1;
        } else if (!strcmp(a, "--keep")) {
            o.keep = 1;
        } else if (!strcmp(a, "--dir") && has_next) {
            o.dir = argv[++i];
        } else if (!strcmp(a, "--only") && has_next) {
            o.only = argv[++i];
        } else if (!strcmp(a, "--writers") && has_next) {
            o.writers = argv[++i];
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            bench_usage(stdout);
            exit(0);
        } else {
            bench_usage(stderr);
            exit(2);
        }
    }
    return o;
}

/* ------------------------------------------------------------------------ */
/* Workloads                                                                 */
/* ------------------------------------------------------------------------ */

static const char *const bench_train_keys[10] = {
    "loss", "acc", "val_loss", "val_acc", "lr",
    "grad_norm", "weight_norm", "perplexity", "throughput", "gpu_mem_gb",
};

static const char *const bench_layer_stats[10] = {
    "loss", "acc", "val_loss", "val_acc", "lr",
    "grad_norm", "weight_norm", "act_mean", "act_std", "update_ratio",
};

/* Ten keys or fewer: the training names; more: per-layer statistics. */
static char **bench_key_names(uint32_t keys)
{
    char **names = bench_xmalloc(sizeof(char *) * keys);
    for (uint32_t k = 0; k < keys; k++) {
        names[k] = bench_xmalloc(64);
        if (keys <= 10)
            snprintf(names[k], 64, "%s", bench_train_keys[k]);
        else
            snprintf(names[k], 64, "layers.%u.%s", k / 10, bench_layer_stats[k % 10]);
    }
    return names;
}

static void bench_add(bench_workload *w, size_t *n, const char *name, uint32_t runs,
                      uint64_t steps, uint32_t keys, uint64_t peer_cap, uint64_t zstd_cap)
{
    if (*n >= BENCH_MAX_WORKLOADS)
        abort();
    bench_workload *x = &w[(*n)++];
    snprintf(x->name, sizeof x->name, "%s", name);
    x->shape.workload = x->name;
    x->shape.runs = runs;
    x->shape.steps = steps;
    x->shape.keys = keys;
    x->shape.key_names = bench_key_names(keys);
    x->shape.read_key = keys / 2; /* a key from the middle, not the first */
    x->peer_cap = peer_cap;
    x->zstd_cap = zstd_cap;
}

/* The sizes. Full: the workloads, the scale curve 10^4..10^8 points
 * (peers capped at 10^7, jsonl-zstd allowed 10^8) and 10..10^4 keys at 10^6
 * points. Quick: the same shapes, small. */
static size_t bench_workloads(bench_workload *w, int quick)
{
    size_t n = 0;
    uint64_t cap = quick ? 1000000u : 10000000u;
    bench_add(w, &n, "seed", 5, 10, 4, cap, cap);
    bench_add(w, &n, "train", 1, quick ? 10000u : 100000u, 10, cap, cap);
    bench_add(w, &n, "wide", 1, quick ? 200u : 10000u, 1000, cap, cap);
    uint64_t top = quick ? 1000000u : 100000000u;
    for (uint64_t p = 10000; p <= top; p *= 10) {
        char name[32];
        snprintf(name, sizeof name, "points-1e%d", (int)lround(log10((double)p)));
        bench_add(w, &n, name, 1, p / 10, 10, quick ? 100000u : cap, quick ? top : 100000000u);
    }
    uint64_t fixed = quick ? 100000u : 1000000u;
    for (uint32_t k = 10; k <= 10000; k *= 10) {
        char name[32];
        snprintf(name, sizeof name, "keys-%u", k);
        bench_add(w, &n, name, 1, fixed / k, k, cap, cap);
    }
    /* The same curve at 10^7 points (runlog alone): at 10^6 points and
     * 10,000 keys a run is 100 steps, short enough for the first frame's
     * set-up (key tables, fresh buffers) to weigh on the time per point. */
    for (uint32_t k = 10; !quick && k <= 10000; k *= 10) {
        char name[32];
        snprintf(name, sizeof name, "keys1e7-%u", k);
        bench_add(w, &n, name, 1, 10000000u / k, k, 0, 0);
    }
    return n;
}

static uint64_t bench_points(const bench_shape *s)
{
    return (uint64_t)s->runs * s->steps * s->keys;
}

/* ------------------------------------------------------------------------ */
/* One writer on one workload, in forked children                            */
/* ------------------------------------------------------------------------ */

static void bench_path(char *out, size_t cap, const char *dir, const bench_writer *wr,
                       const bench_shape *s, uint32_t run)
{
    if (wr->shared_file)
        snprintf(out, cap, "%s/%s-%s.%s", dir, wr->name, s->workload, wr->ext);
    else
        snprintf(out, cap, "%s/%s-%s-r%u.%s", dir, wr->name, s->workload, run, wr->ext);
}

static void bench_remove_files(const char *dir, const bench_writer *wr, const bench_shape *s)
{
    char path[4096], side[4200];
    for (uint32_t run = 0; run < s->runs; run++) {
        bench_path(path, sizeof path, dir, wr, s, run);
        bench_remove(path);
        snprintf(side, sizeof side, "%s-wal", path);
        bench_remove(side);
        snprintf(side, sizeof side, "%s-shm", path);
        bench_remove(side);
    }
}

/* Every run: open, all rows, close (fsync included). Only the writer's
 * calls are timed: generating the values happens outside the clock. */
static void bench_write_child(const bench_writer *wr, const bench_shape *s, const char *dir,
                              int fd)
{
    bench_wmsg m;
    memset(&m, 0, sizeof m);
    bench_hist *hist = calloc(1, sizeof *hist);
    double *vals = bench_xmalloc(sizeof(double) * s->keys);
    char path[4096];
    uint64_t ns = 0;
    for (uint32_t run = 0; run < s->runs; run++) {
        bench_gen g;
        bench_gen_init(&g, s, run);
        bench_path(path, sizeof path, dir, wr, s, run);
        uint64_t t0 = bench_now_ns();
        void *h = wr->open(wr, path, s, run);
        ns += bench_now_ns() - t0;
        for (uint64_t step = 0; step < s->steps; step++) {
            bench_gen_row(&g, step, vals);
            m.sums[run] += vals[s->read_key];
            t0 = bench_now_ns();
            bench_hist_add(hist, wr->step(h, step, vals));
            ns += bench_now_ns() - t0;
        }
        t0 = bench_now_ns();
        wr->close(h);
        ns += bench_now_ns() - t0;
    }
    for (uint32_t run = 0; run < (wr->shared_file ? 1u : s->runs); run++) {
        bench_path(path, sizeof path, dir, wr, s, run);
        m.bytes += bench_file_size(path);
    }
    m.secs = (double)ns / 1e9;
    m.p50 = bench_hist_quantile_us(hist, 0.50);
    m.p99 = bench_hist_quantile_us(hist, 0.99);
    if (write(fd, &m, sizeof m) != (ssize_t)sizeof m)
        _exit(1);
    _exit(0);
}

static void bench_read_child(const bench_writer *wr, const bench_shape *s, const char *dir,
                             const bench_wmsg *wm, int fd)
{
    bench_rmsg m;
    memset(&m, 0, sizeof m);
    char path[4096];
    for (uint32_t run = 0; run < s->runs; run++) {
        double sum = 0.0;
        bench_read_info info = { 0 };
        bench_path(path, sizeof path, dir, wr, s, run);
        uint64_t t0 = bench_now_ns();
        uint64_t n = wr->read(wr, path, s, run, &sum, &info);
        /* the more keys read after the first are timed apart */
        m.secs += (double)(bench_now_ns() - t0 - info.second_ns - info.next_ns) / 1e9;
        m.open_secs += (double)info.open_ns / 1e9;
        m.bytes_decoded += info.bytes_decoded;
        m.next_points += info.next_points;
        m.second_secs += (double)info.second_ns / 1e9;
        m.next_secs += (double)info.next_ns / 1e9;
        if (n != s->steps || memcmp(&sum, &wm->sums[run], sizeof sum) != 0) {
            fprintf(stderr, "runlog-bench: %s: read %llu values summing to %.17g; "
                    "wrote %llu summing to %.17g\n", path, (unsigned long long)n, sum,
                    (unsigned long long)s->steps, wm->sums[run]);
            _exit(1);
        }
        m.points += n;
        if (!wr->read_all)
            continue;
        sum = 0.0;
        t0 = bench_now_ns();
        n = wr->read_all(wr, path, s, run, &sum, &info);
        m.all_secs += (double)(bench_now_ns() - t0) / 1e9;
        if (n != s->steps * s->keys || memcmp(&sum, &wm->sums[run], sizeof sum) != 0) {
            fprintf(stderr, "runlog-bench: %s: read all: %llu points, the column summing to %.17g\n",
                    path, (unsigned long long)n, sum);
            _exit(1);
        }
        m.all_points += n;
    }
    if (write(fd, &m, sizeof m) != (ssize_t)sizeof m)
        _exit(1);
    _exit(0);
}

/* Forks a writing or reading child, which sends `size` bytes through a
 * pipe. Returns 0 when the child succeeded, with its peak RSS in *rss_kib. */

static int bench_fork(const bench_writer *wr, const bench_shape *s, const char *dir,
                      const void *arg, int reading, void *msg, size_t size, long *rss_kib)
{
    int p[2];
    if (pipe(p) != 0)
        bench_die_errno("pipe", "create");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        bench_die_errno("fork", "create");
    if (pid == 0) {
        close(p[0]);
        if (reading)
            bench_read_child(wr, s, dir, arg, p[1]);
        else
            bench_write_child(wr, s, dir, p[1]);
    }
    close(p[1]);
    ssize_t got = read(p[0], msg, size);
    close(p[0]);
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
        ;
    *rss_kib = ru.ru_maxrss;
    return got == (ssize_t)size && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Is `name` in the comma-separated list? */
static int bench_listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == '\0'))
            return 1;
    }
    return 0;
}

/* sqlite-txn1 runs at under 100k points/s whatever the size (a WAL commit
 * per step): past 2 million points it would take minutes and show nothing
 * new, so it is held to that. */
#define BENCH_SQLITE_TXN1_CAP 2000000u

static int bench_allowed(const bench_writer *wr, const bench_workload *w)
{
    uint64_t pts = bench_points(&w->shape);
    if (wr == &bench_runlog_writer)
        return 1;
    /* The 10,000-key run at 10^7 points is where the wide-runs goal
     * compares runlog's per-key read with HDF5's (a dataset per key). */
    if (wr == &bench_hdf5_plain_writer && !strcmp(w->name, "keys1e7-10000"))
        return 1;
    if (wr == &bench_jsonl_zstd_writer)
        return pts <= w->zstd_cap;
    if (wr == &bench_sqlite_step_writer && pts > BENCH_SQLITE_TXN1_CAP)
        return 0;
    return pts <= w->peer_cap;
}

/* One write child and one read child: a figure. */
static bench_result bench_measure_once(const bench_writer *wr, const bench_workload *w,
                                       const bench_opts *o, double *secs)
{
    bench_result r;
    memset(&r, 0, sizeof r);
    r.status = BENCH_FAILED;
    const bench_shape *s = &w->shape;
    double pts = (double)bench_points(s);
    bench_wmsg wm;
    bench_rmsg rm;
    long rss = 0, rss_read = 0;
    *secs = 0.0;
    bench_remove_files(o->dir, wr, s);
    if (bench_fork(wr, s, o->dir, NULL, 0, &wm, sizeof wm, &rss) == 0 &&
        bench_fork(wr, s, o->dir, &wm, 1, &rm, sizeof rm, &rss_read) == 0) {
        r.status = BENCH_OK;
        r.pps = pts / wm.secs;
        r.bpp = (double)wm.bytes / pts;
        r.p50 = wm.p50;
        r.p99 = wm.p99;
        r.rss_mib = (double)rss / 1024.0;
        r.read_pps = (double)rm.points / rm.secs;
        r.open_ms = rm.open_secs * 1e3 / s->runs;
        r.key_pps = rm.secs > rm.open_secs ? (double)rm.points / (rm.secs - rm.open_secs) : 0;
        r.dec_bpp = (double)rm.bytes_decoded / (double)rm.points;
        r.all_pps = rm.all_secs > 0 ? (double)rm.all_points / rm.all_secs : 0;
        r.second_ms = rm.second_secs * 1e3 / s->runs;
        r.next_pps = rm.next_secs > 0 ? (double)rm.next_points / rm.next_secs : 0;
        *secs = wm.secs + rm.secs + rm.all_secs + rm.second_secs + rm.next_secs;
    }
    if (!o->keep)
        bench_remove_files(o->dir, wr, s);
    return r;
}

/* Measurements under a second are repeated and the run with the median
 * points/s is kept: the fsync at close and the other users of a shared
 * machine make short runs noisy. Longer ones run once, for time. */
#define BENCH_REPEAT_UNDER_S 1.0
#define BENCH_REPEAT_UNDER_S_QUICK 0.25 /* --quick must stay under a minute */
#define BENCH_REPEATS 3

static int bench_by_pps(const void *a, const void *b)
{
    double x = ((const bench_result *)a)->pps, y = ((const bench_result *)b)->pps;
    return (x > y) - (x < y);
}

static bench_result bench_measure(const bench_writer *wr, const bench_workload *w,
                                  const bench_opts *o)
{
    bench_result r = { .status = BENCH_NOTRUN };
    if (o->writers && !bench_listed(o->writers, wr->name))
        return r;
    if (!bench_allowed(wr, w)) {
        r.status = BENCH_SKIPPED;
        return r;
    }
    fprintf(stderr, "  %-10s %-14s ...", w->name, wr->name);
    uint64_t t0 = bench_now_ns();
    bench_result rep[BENCH_REPEATS];
    double secs, repeat_under = o->quick ? BENCH_REPEAT_UNDER_S_QUICK : BENCH_REPEAT_UNDER_S;
    int n = 0;
    do {
        rep[n] = bench_measure_once(wr, w, o, &secs);
        if (rep[n++].status != BENCH_OK)
            break;
    } while (n < BENCH_REPEATS && secs < repeat_under);
    if (rep[n - 1].status != BENCH_OK) {
        r = rep[n - 1];
    } else {
        qsort(rep, (size_t)n, sizeof rep[0], bench_by_pps);
        r = rep[n / 2];
    }
    fprintf(stderr, " %s (%d run%s, %.1f s)\n", r.status == BENCH_OK ? "ok" : "FAILED", n,
            n == 1 ? "" : "s", (double)(bench_now_ns() - t0) / 1e9);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */
/* ------------------------------------------------------------------------ */

/* 12345678 -> "12.3M" */
static const char *bench_si(char *buf, double v)
{
    if (v >= 1e9)
        snprintf(buf, 16, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, 16, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, 16, "%.1fk", v / 1e3);
    else
        snprintf(buf, 16, "%.0f", v);
    return buf;
}

static void bench_print_table(const bench_workload *w, const bench_result *res)
{
    FILE *f = bench_table_out;
    const bench_shape *s = &w->shape;
    const bench_result *rl = &res[0];
    char a[16], b[16], c[16], d[16], e[16];
    fprintf(f, "\n== %s: %u run%s x %llu steps x %u keys = %llu points ==\n", w->name, s->runs,
            s->runs == 1 ? "" : "s", (unsigned long long)s->steps, s->keys,
            (unsigned long long)bench_points(s));
    fprintf(f, "%-14s %10s %8s %9s %8s %10s %10s %8s %11s %9s %10s %9s %10s %8s %10s\n", "writer",
            "points/s", "rl/w", "bytes/pt", "rl/w", "p50 us", "p99 us", "RSS MiB", "read pts/s",
            "open ms", "key pts/s", "dec B/pt", "all pts/s", "2nd ms", "next pts/s");
    for (size_t i = 0; i < BENCH_NWRITERS; i++) {
        const bench_result *r = &res[i];
        if (r->status == BENCH_NOTRUN)
            continue;
        if (r->status != BENCH_OK) {
            fprintf(f, "%-14s %s\n", bench_writers[i]->name,
                    r->status == BENCH_SKIPPED ? "skipped (over budget)" : "FAILED");
            continue;
        }
        int have_rl = rl->status == BENCH_OK;
        char g[16] = "-";
        if (r->second_ms > 0)
            snprintf(g, sizeof g, "%.3f", r->second_ms);
        fprintf(f, "%-14s %10s %7.2fx %9.3f %7.2fx %10.2f %10.2f %8.1f %11s %9.3f %10s %9.0f %10s %8s %10s\n",
                bench_writers[i]->name, bench_si(a, r->pps),
                have_rl ? rl->pps / r->pps : NAN, r->bpp, have_rl ? rl->bpp / r->bpp : NAN,
                r->p50, r->p99, r->rss_mib, bench_si(b, r->read_pps), r->open_ms,
                bench_si(c, r->key_pps), r->dec_bpp, r->all_pps > 0 ? bench_si(d, r->all_pps) : "-",
                g, r->next_pps > 0 ? bench_si(e, r->next_pps) : "-");
    }
    fflush(f);
}

static void bench_print_json(const bench_workload *w, const bench_result *res)
{
    for (size_t i = 0; i < BENCH_NWRITERS; i++) {
        const bench_result *r = &res[i];
        if (r->status == BENCH_NOTRUN)
            continue;
        printf("{\"writer\":\"%s\",\"workload\":\"%s\",\"runs\":%u,\"steps\":%llu,\"keys\":%u,"
               "\"points\":%llu,", bench_writers[i]->name, w->name, w->shape.runs,
               (unsigned long long)w->shape.steps, w->shape.keys,
               (unsigned long long)bench_points(&w->shape));
        if (r->status != BENCH_OK) {
            printf("\"skipped\":\"%s\"}\n",
                   r->status == BENCH_SKIPPED ? "over budget" : "failed");
            continue;
        }
        printf("\"points_per_s\":%.6g,\"bytes_per_point\":%.6g,\"commit_p50_us\":%.6g,"
               "\"commit_p99_us\":%.6g,\"peak_rss_mib\":%.6g,\"read_points_per_s\":%.6g,"
               "\"read_open_ms\":%.6g,\"read_key_points_per_s\":%.6g",
               r->pps, r->bpp, r->p50, r->p99, r->rss_mib, r->read_pps, r->open_ms, r->key_pps);
        if (r->dec_bpp > 0)
            printf(",\"read_bytes_decoded_per_point\":%.6g", r->dec_bpp);
        if (r->all_pps > 0)
            printf(",\"read_all_points_per_s\":%.6g", r->all_pps);
        if (r->second_ms > 0)
            printf(",\"read_second_key_ms\":%.6g", r->second_ms);
        if (r->next_pps > 0)
            printf(",\"read_next_keys_points_per_s\":%.6g", r->next_pps);
        printf("}\n");
    }
    fflush(stdout);
}

/* ------------------------------------------------------------------------ */
/* Goals                                                                     */
/* ------------------------------------------------------------------------ */

static const char *bench_verdict(int met)
{
    return met ? "met" : "MISSED";
}

/* One ratio goal: runlog's figure over a peer's, against a bound. */
static void bench_goal_ratio(const char *what, const bench_result *rl, const bench_result *peer,
                             int speed, double bound)
{
    FILE *f = bench_table_out;
    if (rl->status != BENCH_OK || peer->status != BENCH_OK)
        return;
    double ratio = speed ? rl->pps / peer->pps : rl->bpp / peer->bpp;
    int met = speed ? ratio >= bound : ratio <= bound;
    fprintf(f, "  %-44s %8.2fx  (goal %s %.2gx)  %s\n", what, ratio, speed ? ">=" : "<=", bound,
            bench_verdict(met));
}

static void bench_print_goals(const bench_workload *w, const bench_result *res)
{
    FILE *f = bench_table_out;
    const bench_result *rl = &res[0];
    fprintf(f, "goals on %s (runlog / writer):\n", w->name);
    bench_goal_ratio("points/s vs hdf5-gzip", rl, &res[1], 1, 10.0);
    bench_goal_ratio("points/s vs hdf5-plain", rl, &res[2], 1, 10.0);
    bench_goal_ratio("points/s vs jsonl-zstd", rl, &res[5], 1, 3.0);
    bench_goal_ratio("bytes/point vs jsonl-zstd", rl, &res[5], 0, 0.5);
    bench_goal_ratio("bytes/point vs hdf5-gzip (below)", rl, &res[1], 0, 0.999);
    if (rl->status == BENCH_OK)
        fprintf(f, "  %-44s %8.2f us (goal <= 20 us)  %s\n", "runlog commit p99", rl->p99,
                bench_verdict(rl->p99 <= 20.0));
    fflush(f);
}

/* Growth of runlog's figures along a curve: the last point over a base. */
static void bench_print_growth(const bench_workload *w, const bench_result *res, size_t n,
                               const char *prefix, size_t base)
{
    FILE *f = bench_table_out;
    size_t first = n, last = n, count = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(w[i].name, prefix, strlen(prefix)) || res[i * BENCH_NWRITERS].status != BENCH_OK)
            continue;
        if (count == base)
            first = i;
        last = i;
        count++;
    }
    if (first == n || last == first)
        return;
    fprintf(f, "\nrunlog along %s*:\n%-12s %10s %10s %9s %8s %10s\n", prefix, "workload",
            "ns/point", "points/s", "bytes/pt", "RSS MiB", "p99 us");
    for (size_t i = 0; i < n; i++) {
        const bench_result *r = &res[i * BENCH_NWRITERS];
        if (strncmp(w[i].name, prefix, strlen(prefix)) || r->status != BENCH_OK)
            continue;
        char a[16];
        fprintf(f, "%-12s %10.1f %10s %9.3f %8.1f %10.2f\n", w[i].name, 1e9 / r->pps,
                bench_si(a, r->pps), r->bpp, r->rss_mib, r->p99);
    }
    const bench_result *a = &res[first * BENCH_NWRITERS], *b = &res[last * BENCH_NWRITERS];
    double t = a->pps / b->pps, m = b->rss_mib / a->rss_mib;
    if (!strcmp(prefix, "points-")) {
        fprintf(f, "  time per point %s -> %s: %.2fx (linear: <= %.2fx)  %s\n", w[first].name,
                w[last].name, t, BENCH_FLAT, bench_verdict(t <= BENCH_FLAT));
        fprintf(f, "  peak RSS %s -> %s: %.2fx (flat: <= %.2fx)  %s\n", w[first].name,
                w[last].name, m, BENCH_FLAT, bench_verdict(m <= BENCH_FLAT));
    } else {
        fprintf(f, "  time per point %s -> %s: %.2fx (flat: <= %.2fx)  %s\n", w[first].name,
                w[last].name, t, BENCH_FLAT, bench_verdict(t <= BENCH_FLAT));
    }
    fflush(f);
}

/* ------------------------------------------------------------------------ */

static char bench_tmpdir[64];

int main(int argc, char **argv)
{
    bench_opts o = bench_parse_args(argc, argv);
    bench_table_out = o.json ? stderr : stdout;
    if (!o.dir) {
        snprintf(bench_tmpdir, sizeof bench_tmpdir, "/tmp/runlog-bench-XXXXXX");
        if (!mkdtemp(bench_tmpdir))
            bench_die_errno(bench_tmpdir, "mkdtemp");
        o.dir = bench_tmpdir;
    }
    static bench_workload w[BENCH_MAX_WORKLOADS];
    static bench_result res[BENCH_MAX_WORKLOADS * BENCH_NWRITERS];
    size_t n = bench_workloads(w, o.quick);
    fprintf(stderr, "runlog-bench: %s sizes, files in %s\n", o.quick ? "quick" : "full", o.dir);
    for (size_t i = 0; i < n; i++) {
        if (o.only && strncmp(w[i].name, o.only, strlen(o.only)))
            continue;
        bench_result *r = &res[i * BENCH_NWRITERS];
        for (size_t j = 0; j < BENCH_NWRITERS; j++)
            r[j] = bench_measure(bench_writers[j], &w[i], &o);
        bench_print_table(&w[i], r);
        if (!strcmp(w[i].name, "train") || !strcmp(w[i].name, "wide"))
            bench_print_goals(&w[i], r);
        if (o.json)
            bench_print_json(&w[i], r);
    }
    /* Memory and time per point from 10^6 points up (10^5 with --quick);
     * below that the fixed cost of open, close and fsync dominates. Keys
     * from 10 up. */
    bench_print_growth(w, res, n, "points-", o.quick ? 1 : 2);
    bench_print_growth(w, res, n, "keys-", 0);
    if (!o.quick)
        bench_print_growth(w, res, n, "keys1e7-", 0);
    if (bench_tmpdir[0] && !o.keep && rmdir(bench_tmpdir) != 0)
        bench_die_errno(bench_tmpdir, "remove");
    return 0;
}
