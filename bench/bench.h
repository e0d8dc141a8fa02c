/*
 * bench.h — runlog-bench: one workload through runlog and through the
 * writers users pick instead (HDF5 as h5py logs, SQLite as MLflow keeps
 * metrics, JSON Lines as W&B keeps history), one forked child per writer.
 *
 * Shared between main.c (workloads, harness, tables), gen.c (values,
 * latency histogram, small helpers) and one w_*.c file per writer.
 */
#ifndef RUNLOG_BENCH_H
#define RUNLOG_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* The shape of one workload: `runs` runs, each `steps` rows of `keys`
 * float64 values. key_names[k] is the name of column k. */
typedef struct bench_shape {
    const char *workload;
    uint32_t runs;
    uint64_t steps;
    uint32_t keys;
    char **key_names;
    uint32_t read_key; /* the column read back */
} bench_shape;

/* One writer. A handle is opened per run; step() writes one row and returns
 * the nanoseconds of the part the issue calls the commit (the whole per-step
 * call for every writer but runlog, whose adds only fill the pending row). */
typedef struct bench_writer bench_writer;
/* What a read tells besides its values: the part of it that opened the file
 * (the rest is the key's read), and for runlog the block bytes decoded. */
typedef struct bench_read_info {
    uint64_t open_ns;
    uint64_t bytes_decoded; /* 0: not known */
    /* runlog: more keys read on the same open reader after the first (as
     * a user who opens once and reads many keys): the second apart (it may
     * build the reader's key map), then up to 7 more: points and time. */
    uint64_t second_ns;
    uint64_t next_points, next_ns;
} bench_read_info;
struct bench_writer {
    const char *name;
    const char *ext;
    int variant;     /* hdf5: 1 = gzip+shuffle; sqlite: steps per transaction; jsonl: 1 = zstd */
    int shared_file; /* all runs of a workload go into one file (MLflow's one database) */
    void *(*open)(const bench_writer *wr, const char *path, const bench_shape *s, uint32_t run);
    uint64_t (*step)(void *h, uint64_t step, const double *vals);
    void (*close)(void *h);
    /* Reads column s->read_key of `run` back: returns the number of values,
     * and their sum in step order in *sum (checked against what was written). */
    uint64_t (*read)(const bench_writer *wr, const char *path, const bench_shape *s,
                     uint32_t run, double *sum, bench_read_info *info);
    /* Reads every key of `run` in one pass (NULL: the writer has no such
     * read): returns the points read, the read column's sum in *sum. */
    uint64_t (*read_all)(const bench_writer *wr, const char *path, const bench_shape *s,
                         uint32_t run, double *sum, bench_read_info *info);
};

extern const bench_writer bench_runlog_writer;
extern const bench_writer bench_hdf5_gzip_writer;
extern const bench_writer bench_hdf5_plain_writer;
extern const bench_writer bench_sqlite_step_writer;
extern const bench_writer bench_sqlite_batch_writer;
extern const bench_writer bench_jsonl_zstd_writer;
extern const bench_writer bench_jsonl_writer;

/* gen.c: the values. A seeded generator per run, so that every writer's
 * child writes the same rows. */
typedef struct bench_gen {
    uint64_t rng;
    uint64_t steps;
    uint32_t keys;
} bench_gen;

void bench_gen_init(bench_gen *g, const bench_shape *s, uint32_t run);
/* Fills vals[0..keys) for `step`: training-like curves plus noise, each
 * rounded through float32 as metrics that come from float32 tensors are. */
void bench_gen_row(bench_gen *g, uint64_t step, double *vals);

/* gen.c: latency histogram with about 3% resolution from 1 ns to hours;
 * a histogram keeps memory flat however many steps are timed. */
#define BENCH_HIST_SUB 32u
#define BENCH_HIST_BUCKETS (64u * BENCH_HIST_SUB)
typedef struct bench_hist {
    uint64_t count[BENCH_HIST_BUCKETS];
    uint64_t total;
} bench_hist;

void bench_hist_add(bench_hist *h, uint64_t ns);
double bench_hist_quantile_us(const bench_hist *h, double q);

/* gen.c: helpers. The die functions print "runlog-bench: PATH: WHAT: why"
 * and exit(1): a child that fails makes its writer's row say "failed". */
uint64_t bench_now_ns(void);
int64_t bench_wall_ms(void);
void bench_die(const char *path, const char *what, const char *why);
void bench_die_errno(const char *path, const char *what);
void *bench_xmalloc(size_t n);
uint64_t bench_file_size(const char *path); /* 0 when it does not exist */
void bench_fsync_path(const char *path);
void bench_remove(const char *path);

#endif
