/*
 * make_runs.c — writes the run-logs that tests/wandb/check_wandb.py checks
 * after `runlog export wandb`, with a fixed clock and ids:
 *
 *   full.runlog      every kind of record: nested config with NaN, 1e-05 and
 *                    quoted text; a wide row of 5,000 keys (over one 32 KiB
 *                    log block); NaN/inf/int/bool/null/string cells; raw
 *                    images alone and in a list; a table with an image column
 *                    and one under a key outside W&B's artifact-name characters;
 *                    a 100 KB console chunk with a bad UTF-8 byte and a NUL;
 *                    stderr; alerts; system samples of every sampler key;
 *                    metadata with host and git; an artifact of two stored
 *                    files and one reference logged twice (v0, v1); finish(0).
 *   crashed.runlog   closed without finish (exported as failed, exit code 1).
 *   resumed.runlog   closed without finish, reopened (a resume record), more
 *                    rows, finish(3).
 *   split-a.runlog, split-b.runlog  one run id in two files (a requeued
 *                    run): a crashes, b starts later, continues the steps
 *                    and finishes. They agree as spec/EXPORTS.md §11.3 asks
 *                    (one identity, a config key set in both has one value).
 *
 * Every file has its own file UUID (fixed, made from its name): files with
 * one UUID are one file to the exporter (§11.1).
 *
 * usage: wandb-make-runs DIR
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runlog.h"

static int64_t clock_ns(void *ctx)
{
    int64_t *t = ctx, now = *t;

    *t += 125000000; /* 125 ms per call */
    return now;
}

#define CHECK(call)                                                                   \
    do {                                                                              \
        if ((call) < 0) {                                                             \
            fprintf(stderr, "wandb-make-runs: line %d: %s: %s\n", __LINE__, #call,    \
                    runlog_error_detail());                                           \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

static runlog_writer *open_run(const char *dir, const char *file, const char *id, int64_t *clock)
{
    static const char *const tags[] = {"wandb", "export"};
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_writer *w;
    char path[4096];
    static uint8_t uuid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    const char *c;

    snprintf(path, sizeof path, "%s/%s", dir, file);
    for (c = file; *c; c++) /* the file's own UUID */
        uuid[(size_t)(c - file) % 16] ^= (uint8_t)*c;
    o.run_id = id;
    o.project = "wandb-tests";
    o.name = id; /* the run's name: one for the files of one run */
    o.group = "g1";
    o.job_type = "train";
    o.notes = "made by tests/wandb/make_runs.c";
    o.tags = tags;
    o.n_tags = 2;
    o.clock = clock_ns;
    o.clock_ctx = clock;
    o.salt = 7;
    o.file_uuid = uuid;
    o.synchronous = 1;
    CHECK(runlog_writer_open(&w, path, &o));
    return w;
}

static void pixels(uint8_t *px, size_t n, unsigned seed)
{
    size_t i;

    for (i = 0; i < n; i++)
        px[i] = (uint8_t)((i * 37u + seed * 101u) & 0xff);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");

    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void media(runlog_writer *w)
{
    static const char *const names[] = {"id", "image", "label", "score"};
    static const runlog_column_type types[] = {RUNLOG_COLUMN_INT, RUNLOG_COLUMN_IMAGE,
                                                RUNLOG_COLUMN_STRING, RUNLOG_COLUMN_FLOAT};
    runlog_table *t;
    uint8_t px[4 * 3 * 3];
    int i;

    pixels(px, sizeof px, 1);
    CHECK(runlog_writer_add_image(w, "samples/one", px, 4, 3, 3, RUNLOG_PIXELS_U8, "first"));
    pixels(px, sizeof px, 2);
    CHECK(runlog_writer_add_image(w, "grid", px, 3, 4, 3, RUNLOG_PIXELS_U8, NULL));
    pixels(px, 12, 3);
    CHECK(runlog_writer_add_image(w, "grid", px, 3, 4, 1, RUNLOG_PIXELS_U8, "grey"));
    CHECK(runlog_table_new(&t, w, names, types, 4));
    for (i = 0; i < 3; i++) {
        pixels(px, sizeof px, 10u + (unsigned)i);
        CHECK(runlog_table_int(t, i));
        CHECK(runlog_table_image(t, px, 3, 4, 3, RUNLOG_PIXELS_U8, NULL));
        CHECK(runlog_table_string(t, i == 1 ? "cat \"two\"" : "dog"));
        if (i == 2)
            CHECK(runlog_table_null(t));
        else
            CHECK(runlog_table_float(t, i == 0 ? NAN : 0.25));
        CHECK(runlog_table_end_row(t));
    }
    CHECK(runlog_writer_add_table(w, "preds", t));
    runlog_table_free(t);
    /* a key with characters W&B's artifact names lack: the run_table
     * artifact's name is sanitized as W&B does (a CRC suffix) */
    CHECK(runlog_table_new(&t, w, names, types, 1));
    CHECK(runlog_table_int(t, 7));
    CHECK(runlog_table_end_row(t));
    CHECK(runlog_writer_add_table(w, "eval/top k", t));
    runlog_table_free(t);
    /* and one whose artifact name would pass W&B's 128 characters */
    CHECK(runlog_table_new(&t, w, names, types, 1));
    CHECK(runlog_table_int(t, 8));
    CHECK(runlog_table_end_row(t));
    CHECK(runlog_writer_add_table(w, "long_key_of_a_table_whose_run_table_artifact_name_"
                                     "would_be_longer_than_the_128_characters_that_W_and_B_allows",
                                  t));
    runlog_table_free(t);
    CHECK(runlog_writer_commit(w));
}

static void artifacts(runlog_writer *w, const char *dir)
{
    char a[4096], b[4096], ref[4096];
    runlog_artifact *art;
    int v;

    snprintf(a, sizeof a, "%s/weights.bin", dir);
    snprintf(b, sizeof b, "%s/notes.txt", dir);
    snprintf(ref, sizeof ref, "%s/shared-data.csv", dir);
    write_file(a, "0123456789abcdef weights\n");
    write_file(b, "notes for the model\n");
    write_file(ref, "x,y\n1,2\n");
    for (v = 0; v < 2; v++) {
        CHECK(runlog_artifact_new(&art, "my-model", "model"));
        CHECK(runlog_artifact_description(art, "a test model"));
        CHECK(runlog_artifact_metadata_json(art, "{\"epochs\": 3, \"lr\": 0.001}"));
        CHECK(runlog_artifact_alias(art, v ? "best" : "first"));
        CHECK(runlog_artifact_add_file(art, a, "ckpt/weights.bin"));
        CHECK(runlog_artifact_add_file(art, b, NULL));
        CHECK(runlog_artifact_add_reference(art, ref, "data.csv", 0, NULL));
        CHECK(runlog_writer_log_artifact(NULL, w, art));
        runlog_artifact_free(art);
        write_file(a, "changed weights, version 1\n");
    }
}

static void full(const char *dir)
{
    int64_t clock = 1700000000000000000LL;
    runlog_writer *w = open_run(dir, "full.runlog", "full-run-1", &clock);
    /* every key runlog's sampler writes (spec/EXPORTS.md §8.2), each mapped
     * to W&B's name and unit by the export (§10.1) */
    static const char *const sys_keys[] = {"cpu", "proc.cpu.threads", "proc.memory.rssMB",
        "proc.memory.percent", "system.cpu", "memory_percent", "proc.memory.availableMB",
        "disk.in", "disk.out", "disk.usagePercent", "disk.usageGB", "network.sent",
        "network.recv", "gpu.0.gpu", "gpu.0.memory", "gpu.0.memoryAllocated",
        "gpu.0.memoryAllocatedBytes", "gpu.0.temp", "gpu.0.powerWatts", "gpu.0.powerPercent"};
    enum { NSYS = sizeof sys_keys / sizeof *sys_keys };
    double sys[NSYS] = {412.5, 17, 2048.5, 12.5, 55.25, 40.0, 9000.0, 12.0, 34.0, 71.5, 120.25,
                        1e6, 2e6, 88, 31, 64.5, 5.1e10, 61.0, 250.5, 71.5};
    char key[32], *chunk;
    size_t i;

    CHECK(runlog_writer_metadata_json(w, "{\"host\": \"node-7\", \"os\": \"Linux\", "
        "\"argv\": [\"train.py\", \"--lr\", \"0.1\"], \"user\": \"ada\", \"cpu_count\": 8, "
        "\"memory_total_bytes\": 17179869184, \"disk_mount\": \"/scratch/team a\", "
        "\"disk_total_bytes\": 1000204886016, \"disk_used_bytes\": 412316860416, "
        "\"git\": {\"commit\": \"0123456789abcdef0123456789abcdef01234567\", "
        "\"remote\": \"https://example.org/repo.git\", \"branch\": \"main\", \"dirty\": false}}"));
    CHECK(runlog_writer_config_json(w, "{\"lr\": 1e-05, \"epochs\": 3, \"name\": \"say \\\"hi\\\"\\n\", "
        "\"opt\": {\"name\": \"adam\", \"betas\": [0.9, 0.999]}, \"flag\": true, \"none\": null, "
        "\"big\": 1e+20, \"yes\": \"yes\", \"unicode\": \"caf\\u00e9 \\u2028\"}"));
    CHECK(runlog_writer_config_double(w, "nan_value", NAN));
    CHECK(runlog_writer_add_double(w, "loss", 1.5));
    CHECK(runlog_writer_add_int(w, "epoch", 0));
    CHECK(runlog_writer_add_string(w, "note", "tab\there \"q\" caf\xc3\xa9"));
    CHECK(runlog_writer_commit(w));
    CHECK(runlog_writer_flush(w)); /* several frames: the damage test breaks one */
    CHECK(runlog_writer_system(w, sys_keys, sys, NSYS));
    CHECK(runlog_writer_add_double(w, "loss", NAN));
    CHECK(runlog_writer_add_double(w, "acc", INFINITY));
    CHECK(runlog_writer_add_double(w, "neg", -INFINITY));
    CHECK(runlog_writer_add_bool(w, "ok", 0));
    CHECK(runlog_writer_add_null(w, "nothing"));
    CHECK(runlog_writer_add_int(w, "big", 9007199254740993LL));
    CHECK(runlog_writer_add_json(w, "nested", "{\"a\": [1, 2.5, \"x\"], \"b\": {\"c\": null}}"));
    CHECK(runlog_writer_commit_step(w, 10));
    CHECK(runlog_writer_flush(w));
    for (i = 0; i < 5000; i++) { /* the wide row: about 90 KB of protobuf */
        snprintf(key, sizeof key, "wide/k%04zu", i);
        CHECK(runlog_writer_add_double(w, key, (double)i * 0.001));
    }
    CHECK(runlog_writer_commit(w));
    CHECK(runlog_writer_flush(w));
    media(w);
    CHECK(runlog_writer_flush(w));
    sys[0] = 99.0;
    CHECK(runlog_writer_system(w, sys_keys, sys, NSYS));
    chunk = malloc(100 * 1000);
    for (i = 0; i < 100 * 1000; i++)
        chunk[i] = i % 80 == 79 ? '\n' : (char)('a' + i % 26);
    chunk[500] = (char)0xff;
    chunk[501] = '\0';
    CHECK(runlog_writer_console(w, RUNLOG_STDOUT, chunk, 100 * 1000));
    free(chunk);
    CHECK(runlog_writer_console(w, RUNLOG_STDERR, "warning: x\n", 11));
    CHECK(runlog_writer_alert(w, "Loss is NaN", "at step 10", RUNLOG_ALERT_WARN));
    CHECK(runlog_writer_alert(w, "done", NULL, RUNLOG_ALERT_INFO));
    artifacts(w, dir);
    CHECK(runlog_writer_summary_double(w, "best_acc", 0.875));
    CHECK(runlog_writer_summary_json(w, "final", "{\"x\": [1, 2]}"));
    CHECK(runlog_writer_finish(w, 0));
    CHECK(runlog_writer_close(w));
}

/* Rows at steps from .. from + n - 1 (a requeued run's new file goes on
 * from the step its checkpoint had). */
static void rows(runlog_writer *w, int from, int n)
{
    int i;

    for (i = from; i < from + n; i++) {
        CHECK(runlog_writer_add_int(w, "i", i));
        CHECK(runlog_writer_add_double(w, "x", i * 0.5));
        CHECK(runlog_writer_commit_step(w, (uint64_t)i));
    }
}

int main(int argc, char **argv)
{
    static const char *const disk_keys[] = {"disk.usagePercent", "disk.usageGB"};
    static const double disk_vals[] = {42.5, 7.25};
    int64_t clock = 1710000000000000000LL;
    runlog_writer *w;

    if (argc != 2) {
        fprintf(stderr, "usage: wandb-make-runs DIR\n");
        return 2;
    }
    full(argv[1]);

    w = open_run(argv[1], "crashed.runlog", "crashed-run", &clock);
    CHECK(runlog_writer_config_int(w, "seed", 1));
    rows(w, 0, 3);
    /* disk space in a file without the metadata's disk_mount (as files
     * written before it was recorded): W&B's default path "/" */
    CHECK(runlog_writer_system(w, disk_keys, disk_vals, 2));
    CHECK(runlog_writer_console(w, RUNLOG_STDOUT, "before the crash\n", 17));
    CHECK(runlog_writer_close(w)); /* no finish: crashed */

    clock = 1720000000000000000LL;
    w = open_run(argv[1], "resumed.runlog", "resumed-run", &clock);
    rows(w, 0, 2);
    CHECK(runlog_writer_close(w));
    w = open_run(argv[1], "resumed.runlog", "resumed-run", &clock);
    rows(w, 2, 2);
    CHECK(runlog_writer_finish(w, 3));
    CHECK(runlog_writer_close(w));

    clock = 1730000000000000000LL;
    w = open_run(argv[1], "split-a.runlog", "split-run", &clock);
    CHECK(runlog_writer_config_int(w, "seed", 5));
    rows(w, 0, 2);
    CHECK(runlog_writer_close(w));
    clock = 1730000100000000000LL;
    w = open_run(argv[1], "split-b.runlog", "split-run", &clock);
    CHECK(runlog_writer_config_int(w, "seed", 5));
    CHECK(runlog_writer_config_int(w, "attempt", 2));
    rows(w, 2, 3);
    CHECK(runlog_writer_finish(w, 0));
    CHECK(runlog_writer_close(w));
    return 0;
}
