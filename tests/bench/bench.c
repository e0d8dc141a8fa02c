/*
 * bench.c — runlog-bench-core: the figures of the performance
 * section, and the same workload through a JSON-Lines + zstd writer (how
 * W&B keeps a history file) for comparison.
 *
 * It prints figures; it asserts nothing about time (docs/CONVENTIONS.md: benchmarks
 * are programs, never timed tests). It does check that what it reads back
 * is what it wrote, because a fast wrong answer is not a figure.
 *
 * Workload: rows of 10 float64 scalars shaped like training curves plus
 * noise. ML metrics come out of float32 tensors, so the main series is
 * (double)(float)(curve + noise); a second series keeps full float64 noise,
 * the hard case for any compressor.
 *
 * Usage: runlog-bench-core [--rows N] [--long-rows N] [--quick] [--dir D] [--keep]
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "runlog.h"

#define BENCH_KEYS 10
/* Reads are repeated: the first pays for fresh memory (page faults on the
 * output arrays), later ones show the decoder alone. Both are printed. */
#define BENCH_READS 3
/* The generated block of rows is reused cyclically: long runs then need no
 * more memory than short ones, and the repeat period (65536 rows, about 5 MiB
 * of values) is far larger than a runlog frame or a zstd window. */
#define BENCH_BLOCK_ROWS 65536u

static const char *const bench_keys[BENCH_KEYS] = {
    "loss", "acc", "val_loss", "val_acc", "lr",
    "grad_norm", "weight_norm", "perplexity", "throughput", "gpu_mem_gb",
};

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct bench_opts {
    uint64_t rows;      /* rows of the throughput, size, latency and read runs */
    uint64_t long_rows; /* rows of the RSS run; 0 skips it */
    const char *dir;
    int keep;           /* keep the files written */
} bench_opts;

static void bench_usage(FILE *f)
{
    fprintf(f, "usage: runlog-bench-core [--rows N] [--long-rows N] [--quick] [--dir D] [--keep]\n"
               "  --rows N       rows of 10 float64 per measured run (default 2000000)\n"
               "  --long-rows N  rows of the peak-RSS run (default 10000000; 0 skips it)\n"
               "  --quick        --rows 200000 --long-rows 1000000\n"
               "  --dir D        where the files go (default /tmp)\n"
               "  --keep         keep the files written\n");
}

static uint64_t bench_parse_count(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end != '\0') {
        fprintf(stderr, "runlog-bench-core: not a count: '%s'\n", s);
        exit(2);
    }
    return v;
}

static bench_opts bench_parse_args(int argc, char **argv)
{
    bench_opts o = { 2000000, 10000000, "/tmp", 0 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_next = i + 1 < argc;
        if (!strcmp(a, "--rows") && has_next) {
            o.rows = bench_parse_count(argv[++i]);
        } else if (!strcmp(a, "--long-rows") && has_next) {
            o.long_rows = bench_parse_count(argv[++i]);
        } else if (!strcmp(a, "--quick")) {
            o.rows = 200000;
            o.long_rows = 1000000;
        } else if (!strcmp(a, "--dir") && has_next) {
            o.dir = argv[++i];
        } else if (!strcmp(a, "--keep")) {
            o.keep = 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            bench_usage(stdout);
            exit(0);
        } else {
            bench_usage(stderr);
            exit(2);
        }
    }
    if (o.rows == 0) {
        fprintf(stderr, "runlog-bench-core: --rows must be at least 1\n");
        exit(2);
    }
    return o;
}

/* ------------------------------------------------------------------------ */
/* Small helpers: time, memory, files, failure                               */
/* ------------------------------------------------------------------------ */

static uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double bench_wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void bench_die_rl(int rc, const char *what, const char *path)
{
    fprintf(stderr, "runlog-bench-core: %s: %s: %s (%s)\n", path, what, runlog_strerror(rc),
            runlog_error_detail());
    exit(1);
}

static void bench_die_errno(const char *what, const char *path)
{
    fprintf(stderr, "runlog-bench-core: %s: %s: %s\n", path, what, strerror(errno));
    exit(1);
}

static void *bench_xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "runlog-bench-core: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

static uint64_t bench_file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        bench_die_errno("stat", path);
    return (uint64_t)st.st_size;
}

/* A field of /proc/self/status in KiB (VmRSS, VmHWM); 0 if unavailable. */
static uint64_t bench_proc_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    uint64_t kib = 0;
    size_t n = strlen(field);
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, field, n) && line[n] == ':') {
            kib = strtoull(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

/* The 1-minute load average: other work on the machine skews every figure,
 * so the report says how busy it was. Negative if unavailable. */
static double bench_loadavg(void)
{
    double l = -1.0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1.0;
        fclose(f);
    }
    return l;
}

/* Resets the peak-RSS mark (VmHWM) so the long run measures its own peak,
 * not that of earlier phases. Linux >= 4.0; returns 0 when it worked. */
static int bench_reset_peak_rss(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, "5", 1);
    close(fd);
    return n == 1 ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* The workload                                                              */
/* ------------------------------------------------------------------------ */

static uint64_t bench_rng = 0x243f6a8885a308d3u;

/* xorshift64*: cheap and good enough for noise. */
static double bench_uniform(void)
{
    bench_rng ^= bench_rng >> 12;
    bench_rng ^= bench_rng << 25;
    bench_rng ^= bench_rng >> 27;
    return (double)((bench_rng * 0x2545f4914f6cdd1du) >> 11) / 9007199254740992.0;
}

/* Roughly Gaussian noise in [-1, 1] (a sum of three uniforms). */
static double bench_noise(void)
{
    return (bench_uniform() + bench_uniform() + bench_uniform() - 1.5) / 1.5;
}

/* The smooth part of key k at training progress t in [0, 1): decaying
 * losses, rising accuracies, a cosine learning-rate schedule, drifting
 * norms, a steady throughput. */
static double bench_curve(int k, double t)
{
    switch (k) {
    case 0: return 0.3 + 2.0 * exp(-6.0 * t);
    case 1: return 0.95 - 0.85 * exp(-5.0 * t);
    case 2: return 0.4 + 1.9 * exp(-5.0 * t);
    case 3: return 0.91 - 0.8 * exp(-4.0 * t);
    case 4: return 1e-3 * 0.5 * (1.0 + cos(3.141592653589793 * t));
    case 5: return 1.0 + 4.0 * exp(-3.0 * t);
    case 6: return 40.0 + 15.0 * t;
    case 7: return exp(0.3 + 2.0 * exp(-6.0 * t));
    case 8: return 2500.0;
    default: return 31.5 + 0.5 * t;
    }
}

/* Noise as a fraction of the curve, per key. */
static const double bench_noise_frac[BENCH_KEYS] = {
    0.05, 0.02, 0.03, 0.01, 0.001, 0.2, 0.001, 0.05, 0.04, 0.002,
};

/* Fills a block of BENCH_BLOCK_ROWS x BENCH_KEYS values (row-major).
 * as_float32 rounds each value through float, as a float32 metric is. */
static double *bench_make_block(int as_float32)
{
    double *v = bench_xmalloc(sizeof(double) * BENCH_BLOCK_ROWS * BENCH_KEYS);
    bench_rng = 0x243f6a8885a308d3u;
    for (uint32_t r = 0; r < BENCH_BLOCK_ROWS; r++) {
        double t = (double)r / BENCH_BLOCK_ROWS;
        for (int k = 0; k < BENCH_KEYS; k++) {
            double c = bench_curve(k, t);
            double x = c + c * bench_noise_frac[k] * bench_noise();
            v[(size_t)r * BENCH_KEYS + k] = as_float32 ? (double)(float)x : x;
        }
    }
    return v;
}

static const double *bench_row(const double *block, uint64_t row)
{
    return block + (size_t)(row % BENCH_BLOCK_ROWS) * BENCH_KEYS;
}

/* ------------------------------------------------------------------------ */
/* Latency histogram: 10 ns buckets up to 1 ms, then one overflow bucket.    */
/* A histogram instead of a sample array keeps memory flat.                  */
/* ------------------------------------------------------------------------ */

#define BENCH_HIST_BUCKET_NS 10u
#define BENCH_HIST_BUCKETS 100000u

typedef struct bench_hist {
    uint64_t count[BENCH_HIST_BUCKETS + 1];
    uint64_t total;
    uint64_t max_ns;
} bench_hist;

static void bench_hist_add(bench_hist *h, uint64_t ns)
{
    uint64_t b = ns / BENCH_HIST_BUCKET_NS;
    h->count[b < BENCH_HIST_BUCKETS ? b : BENCH_HIST_BUCKETS]++;
    h->total++;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

/* The q-quantile in microseconds (upper edge of its bucket). */
static double bench_hist_quantile_us(const bench_hist *h, double q)
{
    uint64_t want = (uint64_t)ceil(q * (double)h->total), seen = 0;
    for (uint32_t b = 0; b <= BENCH_HIST_BUCKETS; b++) {
        seen += h->count[b];
        if (seen >= want && seen > 0)
            return b == BENCH_HIST_BUCKETS ? (double)h->max_ns / 1e3
                                           : (double)(b + 1) * BENCH_HIST_BUCKET_NS / 1e3;
    }
    return 0.0;
}

/* ------------------------------------------------------------------------ */
/* Results                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct bench_result {
    double write_pps;       /* points/s, open -> N rows -> close */
    double bytes_per_point; /* float32-rounded noise */
    double bytes_per_point_f64;
    double commit_p50_us, commit_p99_us, commit_max_us;
    double row_p99_us;      /* the whole row: adding 10 values + commit */
    double read_pps;        /* points/s of one key read back, first read */
    double read_best_pps;   /* best of BENCH_READS reads */
} bench_result;

/* ------------------------------------------------------------------------ */
/* runlog                                                                    */
/* ------------------------------------------------------------------------ */

static void bench_remove(const char *path)
{
    if (unlink(path) != 0 && errno != ENOENT)
        bench_die_errno("remove", path);
}

static runlog_writer *bench_rl_open(const char *path)
{
    runlog_writer_options opts = RUNLOG_WRITER_OPTIONS_INIT;
    opts.project = "runlog-bench";
    opts.name = "bench";
    runlog_writer *w = NULL;
    bench_remove(path); /* an existing file would be resumed */
    int rc = runlog_writer_open(&w, path, &opts);
    if (rc)
        bench_die_rl(rc, "open for writing", path);
    return w;
}

static void bench_rl_row(runlog_writer *w, const double *v, const char *path)
{
    for (int k = 0; k < BENCH_KEYS; k++) {
        int rc = runlog_writer_add_double(w, bench_keys[k], v[k]);
        if (rc)
            bench_die_rl(rc, "add", path);
    }
}

static void bench_rl_commit(runlog_writer *w, const char *path)
{
    int rc = runlog_writer_commit(w);
    if (rc)
        bench_die_rl(rc, "commit", path);
}

static void bench_rl_close(runlog_writer *w, const char *path)
{
    int rc = runlog_writer_finish(w, 0);
    if (rc)
        bench_die_rl(rc, "finish", path);
    rc = runlog_writer_close(w);
    if (rc)
        bench_die_rl(rc, "close", path);
}

/* Writes rows; with histograms, times each commit (hist) and each whole
 * row, adds included (hist_row). Returns seconds from open to close (finish
 * writes the index and fsyncs; that is included). */
static double bench_rl_write(const char *path, const double *block, uint64_t rows,
                             bench_hist *hist, bench_hist *hist_row)
{
    uint64_t t0 = bench_now_ns();
    runlog_writer *w = bench_rl_open(path);
    for (uint64_t r = 0; r < rows; r++) {
        if (hist) {
            uint64_t a0 = bench_now_ns();
            bench_rl_row(w, bench_row(block, r), path);
            uint64_t c0 = bench_now_ns();
            bench_rl_commit(w, path);
            uint64_t c1 = bench_now_ns();
            bench_hist_add(hist, c1 - c0);
            bench_hist_add(hist_row, c1 - a0);
        } else {
            bench_rl_row(w, bench_row(block, r), path);
            bench_rl_commit(w, path);
        }
    }
    bench_rl_close(w, path);
    return (double)(bench_now_ns() - t0) / 1e9;
}

/* Reads key 0 back; checks every step and value bit for bit after the
 * clock stops. Returns seconds from open to the arrays in hand. */
static double bench_rl_read(const char *path, const double *block, uint64_t rows)
{
    runlog_reader *r = NULL;
    runlog_history *h = NULL;
    uint64_t t0 = bench_now_ns();
    int rc = runlog_reader_open(&r, path, NULL);
    if (rc)
        bench_die_rl(rc, "open for reading", path);
    rc = runlog_reader_history(&h, r, bench_keys[0]);
    if (rc)
        bench_die_rl(rc, "history", path);
    double secs = (double)(bench_now_ns() - t0) / 1e9;

    size_t n = runlog_history_length(h);
    const double *vals = runlog_history_values(h);
    const uint64_t *steps = runlog_history_steps(h);
    if (n != rows) {
        fprintf(stderr, "runlog-bench-core: %s: read %zu values of '%s', wrote %" PRIu64 "\n",
                path, n, bench_keys[0], rows);
        exit(1);
    }
    for (uint64_t i = 0; i < rows; i++) {
        double want = bench_row(block, i)[0];
        if (steps[i] != i || memcmp(&vals[i], &want, sizeof want) != 0) {
            fprintf(stderr, "runlog-bench-core: %s: row %" PRIu64 " reads back as step %" PRIu64
                    " value %.17g, wrote step %" PRIu64 " value %.17g\n",
                    path, i, steps[i], vals[i], i, want);
            exit(1);
        }
    }
    runlog_history_free(h);
    runlog_reader_close(r);
    return secs;
}

static void bench_runlog(const bench_opts *o, const double *b32, const double *b64,
                         bench_result *res, bench_hist *hist, bench_hist *hist_row)
{
    char p32[4096], p64[4096], plat[4096];
    double points = (double)o->rows * BENCH_KEYS;
    snprintf(p32, sizeof p32, "%s/runlog-bench-%d-f32.runlog", o->dir, (int)getpid());
    snprintf(p64, sizeof p64, "%s/runlog-bench-%d-f64.runlog", o->dir, (int)getpid());
    snprintf(plat, sizeof plat, "%s/runlog-bench-%d-lat.runlog", o->dir, (int)getpid());

    double secs = bench_rl_write(p32, b32, o->rows, NULL, NULL);
    res->write_pps = points / secs;
    res->bytes_per_point = (double)bench_file_size(p32) / points;
    for (int i = 0; i < BENCH_READS; i++) {
        double pps = (double)o->rows / bench_rl_read(p32, b32, o->rows);
        if (i == 0)
            res->read_pps = pps;
        if (pps > res->read_best_pps)
            res->read_best_pps = pps;
    }

    bench_rl_write(p64, b64, o->rows, NULL, NULL);
    res->bytes_per_point_f64 = (double)bench_file_size(p64) / points;

    bench_rl_write(plat, b32, o->rows, hist, hist_row);
    res->row_p99_us = bench_hist_quantile_us(hist_row, 0.99);
    res->commit_p50_us = bench_hist_quantile_us(hist, 0.50);
    res->commit_p99_us = bench_hist_quantile_us(hist, 0.99);
    res->commit_max_us = (double)hist->max_ns / 1e3;

    if (!o->keep) {
        bench_remove(p32);
        bench_remove(p64);
    }
    bench_remove(plat);
}

/* ------------------------------------------------------------------------ */
/* The long run: peak RSS as the run grows                                   */
/* ------------------------------------------------------------------------ */

static void bench_rss_line(const char *when, uint64_t rows, double secs)
{
    printf("  %-6s %10" PRIu64 " rows (%6.1f s):  VmRSS %7.1f MiB   VmHWM (peak) %7.1f MiB\n",
           when, rows, secs, bench_proc_kib("VmRSS") / 1024.0, bench_proc_kib("VmHWM") / 1024.0);
}

/* Checkpoints at 10 %, 50 % and 100 % of the run. Returns the peak growth
 * from the first checkpoint to the end, in KiB. */
static uint64_t bench_long_run(const bench_opts *o, const double *b32)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/runlog-bench-%d-long.runlog", o->dir, (int)getpid());
    uint64_t marks[3] = { o->long_rows / 10, o->long_rows / 2, o->long_rows };
    int m = 0;
    uint64_t hwm_first = 0;

    printf("\nPeak RSS of one long run (%" PRIu64 " rows = %" PRIu64 " points)%s:\n",
           o->long_rows, o->long_rows * BENCH_KEYS,
           bench_reset_peak_rss() == 0 ? "" : " [could not reset VmHWM; it includes earlier phases]");
    uint64_t t0 = bench_now_ns();
    runlog_writer *w = bench_rl_open(path);
    for (uint64_t r = 0; r < o->long_rows; r++) {
        bench_rl_row(w, bench_row(b32, r), path);
        bench_rl_commit(w, path);
        while (m < 3 && r + 1 == marks[m]) {
            if (m == 0)
                hwm_first = bench_proc_kib("VmHWM");
            bench_rss_line("after", r + 1, (double)(bench_now_ns() - t0) / 1e9);
            m++;
        }
    }
    bench_rl_close(w, path);
    bench_rss_line("closed", o->long_rows, (double)(bench_now_ns() - t0) / 1e9);
    printf("  file: %.1f MiB\n", (double)bench_file_size(path) / 1048576.0);
    bench_remove(path);
    uint64_t hwm_end = bench_proc_kib("VmHWM");
    return hwm_end > hwm_first ? hwm_end - hwm_first : 0;
}

/* ------------------------------------------------------------------------ */
/* JSON Lines + zstd: the comparison writer and reader                       */
/* ------------------------------------------------------------------------ */

typedef struct bench_jsonl {
    int fd;
    const char *path;
    ZSTD_CCtx *cctx;
    void *out;
    size_t out_cap;
} bench_jsonl;

static void bench_zstd_check(size_t rc, const char *what, const char *path)
{
    if (ZSTD_isError(rc)) {
        fprintf(stderr, "runlog-bench-core: %s: %s: %s\n", path, what, ZSTD_getErrorName(rc));
        exit(1);
    }
}

static void bench_write_all(int fd, const void *buf, size_t n, const char *path)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            bench_die_errno("write", path);
        p += k;
        n -= (size_t)k;
    }
}

static void bench_jsonl_open(bench_jsonl *j, const char *path)
{
    j->path = path;
    j->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (j->fd < 0)
        bench_die_errno("open", path);
    j->cctx = ZSTD_createCCtx();
    j->out_cap = ZSTD_CStreamOutSize();
    j->out = bench_xmalloc(j->out_cap);
    if (!j->cctx)
        bench_zstd_check((size_t)-1, "ZSTD_createCCtx", path);
    bench_zstd_check(ZSTD_CCtx_setParameter(j->cctx, ZSTD_c_compressionLevel, 3), "level", path);
}

/* Feeds bytes to the compressor; whatever it emits goes to the file, as a
 * streaming writer that never buffers more than one output block does. */
static void bench_jsonl_feed(bench_jsonl *j, const void *src, size_t n, ZSTD_EndDirective mode)
{
    ZSTD_inBuffer in = { src, n, 0 };
    size_t left;
    do {
        ZSTD_outBuffer out = { j->out, j->out_cap, 0 };
        left = ZSTD_compressStream2(j->cctx, &out, &in, mode);
        bench_zstd_check(left, "ZSTD_compressStream2", j->path);
        if (out.pos)
            bench_write_all(j->fd, j->out, out.pos, j->path);
    } while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
}

/* One history line as W&B writes it: _step, _timestamp, then the keys. */
static size_t bench_jsonl_format(char *buf, size_t cap, uint64_t step, const double *v)
{
    size_t n = (size_t)snprintf(buf, cap, "{\"_step\":%" PRIu64 ",\"_timestamp\":%.17g", step,
                                bench_wall_seconds());
    for (int k = 0; k < BENCH_KEYS; k++)
        n += (size_t)snprintf(buf + n, cap - n, ",\"%s\":%.17g", bench_keys[k], v[k]);
    n += (size_t)snprintf(buf + n, cap - n, "}\n");
    return n;
}

static void bench_jsonl_close(bench_jsonl *j)
{
    bench_jsonl_feed(j, NULL, 0, ZSTD_e_end);
    /* runlog's finish fsyncs; so does this, to compare like with like. */
    if (fsync(j->fd) != 0 || close(j->fd) != 0)
        bench_die_errno("fsync/close", j->path);
    ZSTD_freeCCtx(j->cctx);
    free(j->out);
}

/* Writes rows as JSON lines; with a histogram, times format + compress of
 * each line. Returns seconds from open to close. */
static double bench_jsonl_write(const char *path, const double *block, uint64_t rows,
                                bench_hist *hist)
{
    char line[1024];
    bench_jsonl j;
    uint64_t t0 = bench_now_ns();
    bench_jsonl_open(&j, path);
    for (uint64_t r = 0; r < rows; r++) {
        uint64_t c0 = hist ? bench_now_ns() : 0;
        size_t n = bench_jsonl_format(line, sizeof line, r, bench_row(block, r));
        bench_jsonl_feed(&j, line, n, ZSTD_e_continue);
        if (hist)
            bench_hist_add(hist, bench_now_ns() - c0);
    }
    bench_jsonl_close(&j);
    return (double)(bench_now_ns() - t0) / 1e9;
}

/* Parses key 0 out of each complete line of buf[0..n); returns the bytes
 * consumed (a partial last line stays for the next call). */
static size_t bench_jsonl_parse_lines(const char *buf, size_t n, double *vals, uint64_t *count,
                                      uint64_t cap)
{
    static const char needle[] = "\"loss\":";
    size_t pos = 0;
    for (;;) {
        const char *nl = memchr(buf + pos, '\n', n - pos);
        if (!nl)
            return pos;
        const char *hit = memmem(buf + pos, (size_t)(nl - (buf + pos)), needle,
                                 sizeof needle - 1);
        if (hit && *count < cap)
            vals[(*count)++] = strtod(hit + sizeof needle - 1, NULL);
        pos = (size_t)(nl - buf) + 1;
    }
}

/* Decompresses the whole file and parses one key with strtod. Returns
 * seconds; the values are checked bit for bit after the clock stops. */
static double bench_jsonl_read(const char *path, const double *block, uint64_t rows)
{
    size_t in_cap = ZSTD_DStreamInSize(), buf_cap = 4 * ZSTD_DStreamOutSize();
    char *in = bench_xmalloc(in_cap), *buf = bench_xmalloc(buf_cap);
    double *vals = bench_xmalloc(sizeof(double) * rows);
    uint64_t count = 0;
    size_t have = 0;

    uint64_t t0 = bench_now_ns();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ZSTD_DCtx *d = ZSTD_createDCtx();
    if (fd < 0)
        bench_die_errno("open", path);
    ssize_t got;
    while ((got = read(fd, in, in_cap)) > 0) {
        ZSTD_inBuffer ib = { in, (size_t)got, 0 };
        while (ib.pos < ib.size) {
            ZSTD_outBuffer ob = { buf + have, buf_cap - have, 0 };
            bench_zstd_check(ZSTD_decompressStream(d, &ob, &ib), "decompress", path);
            have += ob.pos;
            size_t used = bench_jsonl_parse_lines(buf, have, vals, &count, rows);
            memmove(buf, buf + used, have - used);
            have -= used;
        }
    }
    if (got < 0)
        bench_die_errno("read", path);
    close(fd);
    ZSTD_freeDCtx(d);
    double secs = (double)(bench_now_ns() - t0) / 1e9;

    for (uint64_t i = 0; i < rows; i++) {
        double want = bench_row(block, i)[0];
        if (i >= count || memcmp(&vals[i], &want, sizeof want) != 0) {
            fprintf(stderr, "runlog-bench-core: %s: line %" PRIu64 " reads back wrong\n", path, i);
            exit(1);
        }
    }
    free(in);
    free(buf);
    free(vals);
    return secs;
}

static void bench_jsonl_all(const bench_opts *o, const double *b32, const double *b64,
                            bench_result *res, bench_hist *hist)
{
    char path[4096];
    double points = (double)o->rows * BENCH_KEYS;
    snprintf(path, sizeof path, "%s/runlog-bench-%d.jsonl.zst", o->dir, (int)getpid());

    res->write_pps = points / bench_jsonl_write(path, b32, o->rows, NULL);
    res->bytes_per_point = (double)bench_file_size(path) / points;
    for (int i = 0; i < BENCH_READS; i++) {
        double pps = (double)o->rows / bench_jsonl_read(path, b32, o->rows);
        if (i == 0)
            res->read_pps = pps;
        if (pps > res->read_best_pps)
            res->read_best_pps = pps;
    }

    bench_jsonl_write(path, b64, o->rows, NULL);
    res->bytes_per_point_f64 = (double)bench_file_size(path) / points;

    bench_jsonl_write(path, b32, o->rows, hist);
    res->commit_p50_us = bench_hist_quantile_us(hist, 0.50);
    res->commit_p99_us = bench_hist_quantile_us(hist, 0.99);
    res->commit_max_us = (double)hist->max_ns / 1e3;
    res->row_p99_us = res->commit_p99_us; /* formatting the line is the whole row */
    if (!o->keep)
        bench_remove(path);
}

/* ------------------------------------------------------------------------ */
/* Report                                                                    */
/* ------------------------------------------------------------------------ */

static const char *bench_verdict(int met)
{
    return met ? "met" : "MISSED";
}

static void bench_print_line(const char *what, double rl, double js, double scale,
                             const char *goal, int met)
{
    printf("%-34s %10.3f %10.3f %8.2fx   %-14s %s\n", what, rl / scale, js / scale, rl / js,
           goal, goal[0] ? bench_verdict(met) : "");
}

static void bench_print_table(const bench_opts *o, const bench_result *rl, const bench_result *js)
{
    printf("\n%" PRIu64 " rows x %d float64 = %" PRIu64 " points per run, files in %s;"
           " load average %.2f at the end\n\n",
           o->rows, BENCH_KEYS, o->rows * BENCH_KEYS, o->dir, bench_loadavg());
    printf("%-34s %10s %10s %9s   %-14s %s\n", "figure", "runlog", "jsonl+zstd", "rl/jsonl",
           "goal (runlog)", "");
    bench_print_line("write, M points/s (open..close)", rl->write_pps, js->write_pps, 1e6,
                     ">= 20", rl->write_pps >= 20e6);
    bench_print_line("bytes/point, float32 noise", rl->bytes_per_point, js->bytes_per_point,
                     1, "<= 3", rl->bytes_per_point <= 3.0);
    bench_print_line("bytes/point, float64 noise", rl->bytes_per_point_f64,
                     js->bytes_per_point_f64, 1, "", 0);
    bench_print_line("commit p50, us", rl->commit_p50_us, js->commit_p50_us, 1, "", 0);
    bench_print_line("commit p99, us", rl->commit_p99_us, js->commit_p99_us, 1, "<= 20",
                     rl->commit_p99_us <= 20.0);
    bench_print_line("commit max, us", rl->commit_max_us, js->commit_max_us, 1, "", 0);
    bench_print_line("row (10 adds + commit) p99, us", rl->row_p99_us, js->row_p99_us, 1, "", 0);
    bench_print_line("read one key, M points/s, 1st", rl->read_pps, js->read_pps, 1e6, ">= 50",
                     rl->read_pps >= 50e6);
    bench_print_line("read one key, M points/s, best", rl->read_best_pps, js->read_best_pps, 1e6,
                     ">= 50", rl->read_best_pps >= 50e6);
}

int main(int argc, char **argv)
{
    bench_opts o = bench_parse_args(argc, argv);
    bench_hist *hist = calloc(1, sizeof *hist), *hist_row = calloc(1, sizeof *hist_row);
    double *b32 = bench_make_block(1), *b64 = bench_make_block(0);
    bench_result rl = { 0 }, js = { 0 };
    if (!hist || !hist_row) {
        fprintf(stderr, "runlog-bench-core: out of memory\n");
        return 1;
    }

    printf("runlog-bench-core (librunlog %s, zstd %s; %ld CPUs online; load average %.2f)\n",
           RUNLOG_VERSION_STRING, ZSTD_versionString(), sysconf(_SC_NPROCESSORS_ONLN),
           bench_loadavg());
    printf("runlog: default writer options (writer thread; flush every 1 s or 1 MiB; zstd 3).\n"
           "jsonl+zstd: one JSON line per row (%%.17g), ZSTD_compressStream2 level 3, one thread.\n"
           "Both fsync at close. Reads come from the page cache (the file was just written).\n"
           "Commit latency: runlog_writer_commit() alone (the row: 10 adds + commit);\n"
           "for jsonl, format + compress of one line. Read: open + one key's full history\n"
           "(runlog_reader_history; jsonl: decompress + find the key + strtod), the\n"
           "first of %d reads in this process and the best of them.\n", BENCH_READS);
    fflush(stdout);

    bench_runlog(&o, b32, b64, &rl, hist, hist_row);
    memset(hist, 0, sizeof *hist);
    bench_jsonl_all(&o, b32, b64, &js, hist);
    bench_print_table(&o, &rl, &js);

    if (o.long_rows >= 10) {
        uint64_t growth = bench_long_run(&o, b32);
        int flat = growth <= 4096;
        printf("  peak growth from the first checkpoint to the end: %.1f MiB   "
               "goal: flat (<= 4 MiB)   %s\n", growth / 1024.0, bench_verdict(flat));
    }
    free(hist);
    free(hist_row);
    free(b32);
    free(b64);
    return 0;
}
