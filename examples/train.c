/*
 * train.c — the second part of a Weights & Biases user's first script, with
 * runlog: a classifier's training loop (simulated) that logs train and
 * validation metrics, a table of predictions with an image per row, a model
 * checkpoint every epoch, a summary value and an alert.
 *
 * The W&B script it mirrors:
 *
 *     run = wandb.init(project="runlog-demo", config={"epochs": 5,
 *                      "batch_size": 128, "lr": 1e-3, "dropout": dropout})
 *     for epoch in range(epochs):
 *         for step in range(n_steps):
 *             run.log({"train/loss": loss, "train/acc": acc, "train/epoch": e})
 *         table = wandb.Table(columns=["image", "pred", "target"] +
 *                                     [f"score_{i}" for i in range(10)])
 *         for img, pred, targ, prob in samples:
 *             table.add_data(wandb.Image(img), pred, targ, *prob)
 *         run.log({"predictions_table": table}, commit=False)
 *         run.log({"val/loss": val_loss, "val/acc": val_acc})
 *         run.log_model(path, name="mnist-cnn",
 *                       aliases=[f"epoch-{epoch+1}_dropout-{round(dropout, 2)}"])
 *     run.summary["test_accuracy"] = test_acc
 *     if test_acc < threshold:
 *         run.alert(title="Low accuracy", text=...)
 *     run.finish()
 *
 * The digits are drawn as seven-segment figures with noise, and the
 * "model" guesses right more often as epochs pass. Checkpoints are files of
 * pseudo-random bytes (like real weights, they do not compress) written to a
 * temporary folder first, as a training script would.
 *
 * Usage: train OUTDIR   (writes OUTDIR/train.runlog)
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

#define EPOCHS 5
#define STEPS_PER_EPOCH 20
#define TABLE_ROWS 100
#define CKPT_BYTES (384u << 10)
#define ACC_THRESHOLD 0.9
#define SIDE 28

static uint64_t rng_state = 0x7ea1u;

static double rnd(void) /* splitmix64, [0, 1): the same numbers every time */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static void check(int rc, const char *what, const char *path)
{
    if (rc == 0)
        return;
    fprintf(stderr, "train: %s: %s: %s (%s)\n", path, what, runlog_strerror(rc),
            runlog_error_detail());
    exit(1);
}

/* ---- synthetic digits ---------------------------------------------------- */

/* Segments a..g of a seven-segment display, bit 0 = a, for 0..9. */
static const uint8_t segments[10] = {0x3f, 0x06, 0x5b, 0x4f, 0x66, 0x6d, 0x7d, 0x07, 0x7f, 0x6f};

static void bar(uint8_t *px, int x0, int y0, int x1, int y1)
{
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            px[y * SIDE + x] = 230;
}

/* A 28x28 grey digit: its segments as 2-pixel bars, a random shift, noise. */
static void draw_digit(uint8_t px[SIDE * SIDE], int digit)
{
    int dx = (int)(rnd() * 5) - 2, dy = (int)(rnd() * 5) - 2, l = 8 + dx, r = 18 + dx,
        t = 4 + dy, m = 13 + dy, b = 22 + dy;
    uint8_t s = segments[digit];

    for (int i = 0; i < SIDE * SIDE; i++)
        px[i] = (uint8_t)(rnd() * 40);
    if (s & 0x01) bar(px, l, t, r, t + 1);     /* a: top */
    if (s & 0x02) bar(px, r - 1, t, r, m);     /* b: top right */
    if (s & 0x04) bar(px, r - 1, m, r, b);     /* c: bottom right */
    if (s & 0x08) bar(px, l, b - 1, r, b);     /* d: bottom */
    if (s & 0x10) bar(px, l, m, l + 1, b);     /* e: bottom left */
    if (s & 0x20) bar(px, l, t, l + 1, m);     /* f: top left */
    if (s & 0x40) bar(px, l, m - 1, r, m);     /* g: middle */
}

/* ---- the simulated model ------------------------------------------------- */

/* Probability of a right guess after `progress` epochs (0..EPOCHS). */
static double skill(double progress, double dropout)
{
    return 0.55 + 0.33 * (1.0 - exp(-progress / 1.8)) - 0.05 * fabs(dropout - 0.3);
}

/* Scores for the ten classes (softmax of noisy logits; the guess is the
 * largest). Returns the guess. */
static int predict(int target, double p, double scores[10])
{
    int guess = rnd() < p ? target : (int)(rnd() * 10), best = 0;
    double sum = 0;

    for (int k = 0; k < 10; k++) {
        scores[k] = exp(rnd() * 1.5 + (k == guess ? 3.0 : 0.0));
        sum += scores[k];
    }
    for (int k = 0; k < 10; k++) {
        scores[k] /= sum;
        if (scores[k] > scores[best])
            best = k;
    }
    return best;
}

static void log_train_steps(runlog_writer *w, const char *path, int epoch, double dropout)
{
    for (int s = 0; s < STEPS_PER_EPOCH; s++) {
        double progress = epoch + (double)(s + 1) / STEPS_PER_EPOCH;
        double acc = skill(progress, dropout) + (rnd() - 0.5) * 0.06;
        check(runlog_writer_add_double(w, "train/loss", 2.3 * (1.0 - acc) + rnd() * 0.1), "log",
              path);
        check(runlog_writer_add_double(w, "train/acc", acc), "log", path);
        check(runlog_writer_add_double(w, "train/epoch", progress), "log", path);
        check(runlog_writer_commit(w), "commit", path);
    }
}

/* The predictions table of one epoch; returns the validation accuracy. */
static double log_predictions(runlog_writer *w, const char *path, int epoch, double dropout)
{
    static const char *const names[13] = {"image", "pred", "target", "score_0", "score_1",
                                          "score_2", "score_3", "score_4", "score_5", "score_6",
                                          "score_7", "score_8", "score_9"};
    runlog_column_type types[13] = {RUNLOG_COLUMN_IMAGE, RUNLOG_COLUMN_INT, RUNLOG_COLUMN_INT};
    uint8_t px[SIDE * SIDE];
    double scores[10];
    runlog_table *t;
    int right = 0;

    for (int k = 3; k < 13; k++)
        types[k] = RUNLOG_COLUMN_FLOAT;
    check(runlog_table_new(&t, w, names, types, 13), "table", path);
    for (int i = 0; i < TABLE_ROWS; i++) {
        int target = (int)(rnd() * 10);
        int pred = predict(target, skill(epoch + 1, dropout), scores);
        right += pred == target;
        draw_digit(px, target);
        check(runlog_table_image(t, px, SIDE, SIDE, 1, RUNLOG_PIXELS_U8, NULL), "image", path);
        check(runlog_table_int(t, pred), "cell", path);
        check(runlog_table_int(t, target), "cell", path);
        for (int k = 0; k < 10; k++)
            check(runlog_table_float(t, scores[k]), "cell", path);
        check(runlog_table_end_row(t), "row", path);
    }
    /* wandb.log({"predictions_table": table}, commit=False) */
    check(runlog_writer_add_table(w, "predictions_table", t), "log table", path);
    runlog_table_free(t);
    return (double)right / TABLE_ROWS;
}

/* Writes a fake checkpoint (pseudo-random bytes, different every epoch). */
static void write_checkpoint(const char *file)
{
    FILE *f = fopen(file, "wb");
    uint8_t buf[4096];

    if (!f) {
        fprintf(stderr, "train: %s: %s\n", file, strerror(errno));
        exit(1);
    }
    for (unsigned n = 0; n < CKPT_BYTES; n += sizeof buf) {
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (uint8_t)(rnd() * 256);
        fwrite(buf, 1, sizeof buf, f);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "train: %s: %s\n", file, strerror(errno));
        exit(1);
    }
}

static void log_checkpoint(runlog_writer *w, const char *path, const char *tmpdir, int epoch,
                           double dropout)
{
    char file[4200], alias[64];
    const char *aliases[1] = {alias};
    uint32_t version;

    snprintf(file, sizeof file, "%s/model.pt", tmpdir);
    write_checkpoint(file);
    snprintf(alias, sizeof alias, "epoch-%d_dropout-%.2f", epoch + 1, dropout);
    check(runlog_writer_log_model(&version, w, file, "mnist-cnn", aliases, 1), "log_model", path);
    unlink(file);
}

static void train(const char *path, const char *tmpdir)
{
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_writer *w;
    double dropout = 0.01 + rnd() * 0.79, val_acc = 0;
    char text[256];

    o.project = "runlog-demo";
    o.name = "mnist-classifier";
    o.job_type = "train";
    check(runlog_writer_open(&w, path, &o), "open", path);
    check(runlog_writer_config_int(w, "epochs", EPOCHS), "config", path);
    check(runlog_writer_config_int(w, "batch_size", 128), "config", path);
    check(runlog_writer_config_double(w, "lr", 1e-3), "config", path);
    check(runlog_writer_config_double(w, "dropout", dropout), "config", path);
    for (int epoch = 0; epoch < EPOCHS; epoch++) {
        log_train_steps(w, path, epoch, dropout);
        val_acc = log_predictions(w, path, epoch, dropout);
        check(runlog_writer_add_double(w, "val/loss", 2.3 * (1.0 - val_acc) + rnd() * 0.05),
              "log", path);
        check(runlog_writer_add_double(w, "val/acc", val_acc), "log", path);
        check(runlog_writer_commit(w), "commit", path);
        log_checkpoint(w, path, tmpdir, epoch, dropout);
    }
    double test_acc = val_acc - 0.01 + rnd() * 0.02;
    check(runlog_writer_summary_double(w, "test_accuracy", test_acc), "summary", path);
    if (test_acc < ACC_THRESHOLD) {
        snprintf(text, sizeof text, "test accuracy %.4f is below the threshold %.2f", test_acc,
                 ACC_THRESHOLD);
        check(runlog_writer_alert(w, "Low accuracy", text, RUNLOG_ALERT_WARN), "alert", path);
    }
    check(runlog_writer_finish(w, 0), "finish", path);
    check(runlog_writer_close(w), "close", path);
}

/* Reads the file back and prints one line. */
static void print_summary(const char *path)
{
    runlog_reader *r;
    runlog_run *run;
    struct stat st;

    check(runlog_reader_open(&r, path, NULL), "open", path);
    check(runlog_reader_run(&run, r), "read", path);
    const runlog_value *sum = runlog_run_summary(run);
    const runlog_value *arts = runlog_run_artifacts(run);
    double test = runlog_value_float(runlog_value_get(sum, "test_accuracy"));
    double val = runlog_value_float(runlog_value_get(sum, "val/acc"));
    size_t n = arts ? runlog_value_count(arts) : 0;
    stat(path, &st);
    printf("%s: %s, %llu rows, val/acc %.2f, test_accuracy %.4f, %zu checkpoints "
           "(mnist-cnn:v0..v%zu), %llu alert(s), %lld bytes\n",
           path, runlog_state_name(runlog_run_state(run)),
           (unsigned long long)runlog_run_rows(run), val, test, n, n ? n - 1 : 0,
           (unsigned long long)runlog_run_record_count(run, RUNLOG_RECORD_ALERT),
           (long long)st.st_size);
    runlog_run_free(run);
    runlog_reader_close(r);
}

int main(int argc, char **argv)
{
    char path[4096], tmpdir[] = "/tmp/runlog-train-XXXXXX";

    if (argc != 2) {
        fprintf(stderr, "usage: train OUTDIR\n");
        return 2;
    }
    if (mkdir(argv[1], 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "train: %s: cannot create directory: %s\n", argv[1], strerror(errno));
        return 1;
    }
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "train: %s: %s\n", tmpdir, strerror(errno));
        return 1;
    }
    snprintf(path, sizeof path, "%s/train.runlog", argv[1]);
    if (unlink(path) < 0 && errno != ENOENT) { /* a fresh run each time */
        fprintf(stderr, "train: %s: cannot remove old file: %s\n", path, strerror(errno));
        return 1;
    }
    train(path, tmpdir);
    rmdir(tmpdir);
    print_summary(path);
    return 0;
}
