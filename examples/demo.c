/*
 * demo.c — what a Weights & Biases user's first script does, with runlog.
 *
 * Five simulated experiments, each one run: a config (learning rate,
 * architecture, dataset, epochs), then `acc` and `loss` logged once per
 * epoch with noise, then finish. Afterwards every file is read back with
 * the reader API and one summary line per run is printed.
 *
 * The W&B script it mirrors:
 *
 *     for i in range(5):
 *         run = wandb.init(project="runlog-demo", name=f"experiment_{i+1}",
 *                          config={"learning_rate": lr, "architecture": "CNN",
 *                                  "dataset": "CIFAR-100", "epochs": 10})
 *         for epoch in range(1, 11):
 *             run.log({"acc": acc, "loss": loss})
 *         run.finish()
 *
 * Usage: demo OUTDIR   (writes OUTDIR/experiment_1.runlog ... _5.runlog)
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runlog.h"

#define N_RUNS 5
#define EPOCHS 10

/* A fixed-seed PRNG (splitmix64) so that every run of the demo logs the
 * same numbers; only the timestamps and run ids differ. */
static uint64_t demo_rng_state = 0x5eed2024u;

static double demo_random(void)
{
    uint64_t z = (demo_rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0; /* [0, 1) */
}

/* Prints the failing call with the library's detail and exits; a demo has
 * nothing sensible to do after an error. */
static void demo_check(int rc, const char *what, const char *path)
{
    if (rc == 0)
        return;
    fprintf(stderr, "demo: %s: %s: %s (%s)\n", path, what, runlog_strerror(rc),
            runlog_error_detail());
    exit(1);
}

static void demo_set_config(runlog_writer *w, const char *path, double lr)
{
    demo_check(runlog_writer_config_double(w, "learning_rate", lr), "config", path);
    demo_check(runlog_writer_config_string(w, "architecture", "CNN"), "config", path);
    demo_check(runlog_writer_config_string(w, "dataset", "CIFAR-100"), "config", path);
    demo_check(runlog_writer_config_int(w, "epochs", EPOCHS), "config", path);
}

/* The training loop: accuracy rises like 1 - 2^-epoch, loss falls like
 * 2^-epoch, both with noise that shrinks as training goes on, and a
 * per-run offset so the five curves differ. */
static void demo_train(runlog_writer *w, const char *path)
{
    double offset = demo_random() / 5.0;
    for (int epoch = 1; epoch <= EPOCHS; epoch++) {
        double acc = 1.0 - pow(2.0, -epoch) - demo_random() / epoch - offset;
        double loss = pow(2.0, -epoch) + demo_random() / epoch + offset;
        demo_check(runlog_writer_add_double(w, "acc", acc), "log acc", path);
        demo_check(runlog_writer_add_double(w, "loss", loss), "log loss", path);
        demo_check(runlog_writer_commit(w), "commit", path);
    }
}

static void demo_write_run(const char *path, int i, double lr)
{
    char name[32];
    snprintf(name, sizeof name, "experiment_%d", i);

    /* Opening an existing file resumes it; the demo starts each run afresh
     * so that running it twice gives the same result. */
    if (unlink(path) != 0 && errno != ENOENT) {
        fprintf(stderr, "demo: %s: cannot remove old file: %s\n", path, strerror(errno));
        exit(1);
    }

    runlog_writer_options opts = RUNLOG_WRITER_OPTIONS_INIT;
    opts.project = "runlog-demo";
    opts.name = name;
    runlog_writer *w = NULL;
    demo_check(runlog_writer_open(&w, path, &opts), "open for writing", path);
    demo_set_config(w, path, lr);
    demo_train(w, path);
    demo_check(runlog_writer_finish(w, 0), "finish", path);
    demo_check(runlog_writer_close(w), "close", path);
}

/* A float from a map entry, NaN when absent. */
static double demo_get_float(const runlog_value *map, const char *key)
{
    const runlog_value *v = map ? runlog_value_get(map, key) : NULL;
    return v ? runlog_value_float(v) : NAN;
}

static void demo_print_run(const char *path)
{
    runlog_reader *r = NULL;
    runlog_run *run = NULL;
    demo_check(runlog_reader_open(&r, path, NULL), "open for reading", path);
    demo_check(runlog_reader_run(&run, r), "read run", path);

    const runlog_value *name = runlog_value_get(runlog_run_identity(run), "name");
    const runlog_value *config = runlog_run_config(run);
    const runlog_value *summary = runlog_run_summary(run);
    struct stat st;
    long long size = stat(path, &st) == 0 ? (long long)st.st_size : -1;

    printf("%-13s  %-8s  lr=%-7g  acc=%.4f  loss=%.4f  rows=%llu  %lld bytes\n",
           name ? runlog_value_string(name, NULL) : "?",
           runlog_state_name(runlog_run_state(run)),
           demo_get_float(config, "learning_rate"), demo_get_float(summary, "acc"),
           demo_get_float(summary, "loss"), (unsigned long long)runlog_run_rows(run), size);

    runlog_run_free(run);
    runlog_reader_close(r);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: demo OUTDIR\n");
        return 2;
    }
    const char *outdir = argv[1];
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "demo: %s: cannot create directory: %s\n", outdir, strerror(errno));
        return 1;
    }

    static const double learning_rates[N_RUNS] = { 0.1, 0.03, 0.01, 0.003, 0.001 };
    char path[4096];
    for (int i = 1; i <= N_RUNS; i++) {
        snprintf(path, sizeof path, "%s/experiment_%d.runlog", outdir, i);
        demo_write_run(path, i, learning_rates[i - 1]);
    }

    printf("%d runs written to %s/\n", N_RUNS, outdir);
    for (int i = 1; i <= N_RUNS; i++) {
        snprintf(path, sizeof path, "%s/experiment_%d.runlog", outdir, i);
        demo_print_run(path);
    }
    return 0;
}
