/*
 * gen.c — the values every writer logs, the latency histogram, and small
 * helpers shared by the writers.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

void bench_gen_init(bench_gen *g, const bench_shape *s, uint32_t run)
{
    /* Any non-zero seed works for xorshift; the run number keeps the runs
     * of the seed workload different from each other. */
    g->rng = 0x9e3779b97f4a7c15u ^ ((uint64_t)(run + 1) * 0xd1b54a32d192ed03u);
    g->steps = s->steps;
    g->keys = s->keys;
}

/* xorshift64*: cheap and good enough for noise. */
static double bench_uniform(bench_gen *g)
{
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return (double)((g->rng * 0x2545f4914f6cdd1du) >> 11) / 9007199254740992.0;
}

/* Roughly Gaussian noise in [-1, 1] (a sum of three uniforms). */
static double bench_noise(bench_gen *g)
{
    return (bench_uniform(g) + bench_uniform(g) + bench_uniform(g) - 1.5) / 1.5;
}

/* The smooth part of a series of kind k at training progress t in [0, 1):
 * decaying losses, rising accuracies, a cosine learning-rate schedule,
 * drifting norms, a steady throughput. */
static double bench_curve(uint32_t k, double t)
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

/* Noise as a fraction of the curve, per kind; the learning rate is smooth. */
static const double bench_noise_frac[10] = {
    0.05, 0.02, 0.03, 0.01, 0.0, 0.2, 0.001, 0.05, 0.04, 0.002,
};

void bench_gen_row(bench_gen *g, uint64_t step, double *vals)
{
    double t = (double)step / (double)g->steps;
    for (uint32_t k = 0; k < g->keys; k++) {
        uint32_t kind = k % 10;
        /* Wide workloads: column k of kind k % 10 gets its own scale, as
         * each layer's statistics have their own magnitude. */
        double c = bench_curve(kind, t) * (1.0 + 0.01 * (double)(k / 10));
        double x = c + c * bench_noise_frac[kind] * bench_noise(g);
        vals[k] = (double)(float)x;
    }
}

/* ------------------------------------------------------------------------ */
/* Latency histogram                                                         */
/* ------------------------------------------------------------------------ */

/* Below 32 ns one bucket per ns; above, 32 buckets per power of two. */
static uint32_t bench_hist_bucket(uint64_t ns)
{
    if (ns < BENCH_HIST_SUB)
        return (uint32_t)ns;
    uint32_t msb = 63u - (uint32_t)__builtin_clzll(ns);
    return (msb - 4u) * BENCH_HIST_SUB + (uint32_t)((ns >> (msb - 5u)) & (BENCH_HIST_SUB - 1));
}

static double bench_hist_mid_ns(uint32_t b)
{
    if (b < BENCH_HIST_SUB)
        return (double)b;
    uint32_t msb = b / BENCH_HIST_SUB + 4u, sub = b % BENCH_HIST_SUB;
    double width = ldexp(1.0, (int)msb - 5);
    return (double)(BENCH_HIST_SUB + sub) * width + width / 2.0;
}

void bench_hist_add(bench_hist *h, uint64_t ns)
{
    h->count[bench_hist_bucket(ns)]++;
    h->total++;
}

double bench_hist_quantile_us(const bench_hist *h, double q)
{
    uint64_t want = (uint64_t)ceil(q * (double)h->total), seen = 0;
    if (want == 0)
        want = 1;
    for (uint32_t b = 0; b < BENCH_HIST_BUCKETS; b++) {
        seen += h->count[b];
        if (seen >= want)
            return bench_hist_mid_ns(b) / 1e3;
    }
    return 0.0;
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t bench_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bench_die(const char *path, const char *what, const char *why)
{
    fprintf(stderr, "runlog-bench: %s: %s: %s\n", path, what, why);
    exit(1);
}

void bench_die_errno(const char *path, const char *what)
{
    bench_die(path, what, strerror(errno));
}

void *bench_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        bench_die("(memory)", "malloc", "out of memory");
    return p;
}

uint64_t bench_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

void bench_fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        bench_die_errno(path, "open for fsync");
    if (fsync(fd) != 0)
        bench_die_errno(path, "fsync");
    close(fd);
}

void bench_remove(const char *path)
{
    if (unlink(path) != 0 && errno != ENOENT)
        bench_die_errno(path, "remove");
}
