/*
 * h5_fixture.c — run-logs for the HDF5 export test (tests/h5/test_h5.py).
 *
 *   h5-fixture DIR             writes DIR/crafted.runlog (every kind of value
 *                              and record), DIR/resumed_a.runlog and
 *                              DIR/resumed_b.runlog (one run in two files,
 *                              overlapping at steps 5-9 with equal values),
 *                              DIR/conflict_a.runlog and DIR/conflict_b.runlog
 *                              (one run id, step 3 differs), DIR/ident_b.runlog
 *                              (the id of resumed_a, another project)
 *   h5-fixture --big FILE ROWS KEYS
 *                              one run of ROWS rows x KEYS float keys, for the
 *                              throughput figures of spec/HDF5.md
 *   h5-fixture --wide FILE KEYS STEPS
 *                              one run of KEYS int keys, each at STEPS steps:
 *                              rows of at most 10 000 keys, one frame each (a
 *                              frame holds at most 65 536 blocks), for the
 *                              many-keys export (spec/HDF5.md §6)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h> /* needs stdio.h first */
#include <spng.h>

#include "runlog.h"

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "h5-fixture: %s: %s (%s)\n", what, runlog_strerror(rc),
                runlog_error_detail());
        exit(1);
    }
}

static runlog_writer *open_run(const char *dir, const char *file, const char *id,
                               const char *project)
{
    static const char *const tags[] = {"h5", "tést"};
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_writer *w;
    char path[4096];

    snprintf(path, sizeof path, "%s/%s", dir, file);
    o.run_id = id;
    o.project = project;
    o.name = "crafted ünï";
    o.group = "g1";
    o.tags = tags;
    o.n_tags = 2;
    check(runlog_writer_open(&w, path, &o), path);
    return w;
}

/* A PNG (RGB, 5 x 3) encoded with libspng, in memory. */
static void *make_png(size_t *len)
{
    uint8_t px[3 * 5 * 3];
    struct spng_ihdr ihdr = {0};
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    void *out;
    int err = 0;

    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 7);
    ihdr.width = 5;
    ihdr.height = 3;
    ihdr.bit_depth = 8;
    ihdr.color_type = SPNG_COLOR_TYPE_TRUECOLOR;
    spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    spng_set_ihdr(ctx, &ihdr);
    if (spng_encode_image(ctx, px, sizeof px, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE) != 0)
        exit(1);
    out = spng_get_png_buffer(ctx, len, &err);
    spng_ctx_free(ctx);
    return out;
}

/* A grey JPEG (8 x 8) encoded with libjpeg, in memory. */
static unsigned char *make_jpeg(unsigned long *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    unsigned char *out = NULL, row[8];
    JSAMPROW rp = row;

    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, len);
    c.image_width = 8;
    c.image_height = 8;
    c.input_components = 1;
    c.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 100, TRUE);
    jpeg_start_compress(&c, TRUE);
    for (int y = 0; y < 8; y++) {
        for (int x = 0; x < 8; x++)
            row[x] = (unsigned char)(y * 32);
        jpeg_write_scanlines(&c, &rp, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return out;
}

static void crafted_history(runlog_writer *w)
{
    static const double specials[] = {NAN, INFINITY, -INFINITY, -0.0};
    uint8_t rgb[6 * 8 * 3];

    for (size_t i = 0; i < sizeof rgb; i++)
        rgb[i] = (uint8_t)i;
    for (int s = 0; s < 12; s++) {
        check(runlog_writer_add_double(w, "train", 1.0 / (s + 1)), "train");
        check(runlog_writer_add_double(w, "train/loss", s % 3 == 1 ? specials[(s / 3) % 4] : s * 0.5),
              "train/loss");
        check(runlog_writer_add_int(w, "train/step", s * 100), "train/step");
        check(runlog_writer_add_int(w, "epoch", s / 4), "epoch");
        check(runlog_writer_add_bool(w, "flag", s % 2), "flag");
        check(runlog_writer_add_string(w, "phase", s < 6 ? "warm-up" : "main ✓"), "phase");
        check(runlog_writer_add_double(w, "ünï/ключ", s * 1.25), "unicode");
        if (s % 2 == 0)
            check(runlog_writer_add_int(w, "sparse/int_float", s), "int_float");
        else
            check(runlog_writer_add_double(w, "sparse/int_float", s + 0.5), "int_float");
        if (s == 3)
            check(runlog_writer_add_string(w, "mixed", "three"), "mixed");
        else if (s < 6)
            check(runlog_writer_add_int(w, "mixed", s), "mixed");
        if (s == 2)
            check(runlog_writer_add_null(w, "mixed_null"), "null");
        if (s == 4)
            check(runlog_writer_add_json(w, "mixed_null", "{\"a\":[1,2]}"), "json");
        if (s == 5) { /* two images under one key in one row, then one alone */
            check(runlog_writer_add_image(w, "samples", rgb, 6, 8, 3, RUNLOG_PIXELS_U8, "first"), "img");
            check(runlog_writer_add_image(w, "samples", rgb, 6, 8, 3, RUNLOG_PIXELS_U8, NULL), "img");
        }
        if (s == 7)
            check(runlog_writer_add_image(w, "samples", rgb, 8, 6, 1, RUNLOG_PIXELS_U8, "grey"), "img");
        if (s == 9) { /* a list of images as the last value: the summary holds the list */
            check(runlog_writer_add_image(w, "gallery", rgb, 2, 2, 3, RUNLOG_PIXELS_U8, NULL), "img");
            check(runlog_writer_add_image(w, "gallery", rgb, 2, 2, 1, RUNLOG_PIXELS_U8, NULL), "img");
        }
        if (s == 8) {
            size_t plen;
            unsigned long jlen = 0;
            void *png = make_png(&plen);
            unsigned char *jpg = make_jpeg(&jlen);
            check(runlog_writer_add_image_encoded(w, "encoded/png", png, plen, "a png"), "png");
            check(runlog_writer_add_image_encoded(w, "encoded/jpeg", jpg, jlen, NULL), "jpeg");
            free(png);
            free(jpg);
        }
        check(runlog_writer_commit(w), "commit");
    }
}

static void crafted_tables(runlog_writer *w)
{
    static const char *const names[] = {"img", "n", "x", "s", "b", "v"};
    const runlog_column_type types[] = {RUNLOG_COLUMN_IMAGE, RUNLOG_COLUMN_INT,
                                        RUNLOG_COLUMN_FLOAT, RUNLOG_COLUMN_STRING,
                                        RUNLOG_COLUMN_BOOL, RUNLOG_COLUMN_VALUE};
    static const char *const names2[] = {"pic", "col/with slash"};
    const runlog_column_type types2[] = {RUNLOG_COLUMN_IMAGE, RUNLOG_COLUMN_FLOAT};
    uint8_t px[4 * 4 * 3];
    runlog_table *t;

    check(runlog_table_new(&t, w, names, types, 6), "table");
    for (int r = 0; r < 3; r++) {
        memset(px, r * 40, sizeof px);
        check(runlog_table_image(t, px, 4, 4, 1, RUNLOG_PIXELS_U8, NULL), "cell");
        check(runlog_table_int(t, r - 1), "cell");
        check(runlog_table_float(t, r == 1 ? NAN : r * 0.25), "cell");
        check(runlog_table_string(t, r == 2 ? "ünï" : "plain"), "cell");
        check(runlog_table_bool(t, r == 0), "cell");
        check(runlog_table_json(t, r == 0 ? "[1,2]" : "{\"k\":\"v\"}"), "cell");
        check(runlog_table_end_row(t), "row");
    }
    check(runlog_writer_add_table(w, "eval/preds", t), "add table");
    runlog_table_free(t);
    /* Images of two shapes, and a null: one dataset per row. */
    check(runlog_table_new(&t, w, names2, types2, 2), "table2");
    memset(px, 200, sizeof px);
    check(runlog_table_image(t, px, 4, 4, 3, RUNLOG_PIXELS_U8, "rgb"), "cell");
    check(runlog_table_float(t, 1.5), "cell");
    check(runlog_table_end_row(t), "row");
    check(runlog_table_image(t, px, 2, 3, 1, RUNLOG_PIXELS_U8, NULL), "cell");
    check(runlog_table_float(t, 2.5), "cell");
    check(runlog_table_end_row(t), "row");
    check(runlog_table_null(t), "cell");
    check(runlog_table_float(t, 3.5), "cell");
    check(runlog_table_end_row(t), "row");
    check(runlog_writer_add_table(w, "ragged", t), "add table2");
    runlog_table_free(t);
    check(runlog_writer_commit(w), "commit");
}

static void crafted_artifact(runlog_writer *w, const char *dir)
{
    char path[4096];
    runlog_artifact *a;
    FILE *f;

    snprintf(path, sizeof path, "%s/weights.bin", dir);
    if (!(f = fopen(path, "wb")))
        exit(1);
    for (int i = 0; i < 300000; i++)
        fputc((i * 31) & 0xff, f);
    fclose(f);
    check(runlog_artifact_new(&a, "model-ü", "model"), "artifact");
    check(runlog_artifact_metadata_json(a, "{\"acc\":0.5,\"layers\":[1,2]}"), "metadata");
    check(runlog_artifact_alias(a, "best"), "alias");
    check(runlog_artifact_add_file(a, path, "sub/weights.bin"), "add file");
    check(runlog_artifact_add_reference(a, "s3://bucket/data.tar", "data.tar", 1234, NULL), "ref");
    check(runlog_writer_log_artifact(NULL, w, a), "log artifact");
    runlog_artifact_free(a);
}

static void crafted(const char *dir)
{
    static const char *const sys_keys[] = {"cpu", "proc.memory.rssMB"};
    double sys_vals[2] = {12.5, 300.25};
    runlog_writer *w = open_run(dir, "crafted.runlog", "h5-crafted/ü", "h5test");

    check(runlog_writer_config_json(w, "{\"lr\":0.001,\"layers\":3,\"name\":\"résumé\","
                                       "\"flag\":true,\"none\":null,\"a/b\":1,"
                                       "\"opt\":{\"name\":\"adam\",\"betas\":[0.9,0.999]},"
                                       "\"json\":{\"x\":1},\"mixed\":[1,\"a\"],"
                                       "\"big\":9007199254740993}"), "config");
    check(runlog_writer_config_double(w, "nan", NAN), "config");
    check(runlog_writer_metadata_json(w, "{\"host\":\"node-1\",\"gpus\":[\"A\",\"B\"]}"), "meta");
    crafted_history(w);
    crafted_tables(w);
    crafted_artifact(w, dir);
    check(runlog_writer_system(w, sys_keys, sys_vals, 2), "system");
    sys_vals[0] = 50.0;
    check(runlog_writer_system(w, sys_keys, sys_vals, 2), "system");
    check(runlog_writer_alert(w, "Loss is NaN", "at step 1", RUNLOG_ALERT_WARN), "alert");
    check(runlog_writer_alert(w, "done", NULL, RUNLOG_ALERT_INFO), "alert");
    check(runlog_writer_console(w, RUNLOG_STDOUT, "hello ✓\n", strlen("hello ✓\n")), "console");
    check(runlog_writer_console(w, RUNLOG_STDERR, "bad \xff byte\n", 11), "console");
    check(runlog_writer_summary_double(w, "best", 0.9), "summary");
    check(runlog_writer_summary_string(w, "note", "ok"), "summary");
    check(runlog_writer_finish(w, 0), "finish");
    check(runlog_writer_close(w), "close");
}

/* Steps from..to of a resumed run; values depend on the step only. */
static void resumed_rows(runlog_writer *w, int from, int to, int bad_step)
{
    for (int s = from; s <= to; s++) {
        check(runlog_writer_add_double(w, "loss", s == bad_step ? 99.0 : 1.0 / (s + 1)), "loss");
        check(runlog_writer_add_int(w, "seen", s * 10), "seen");
        check(runlog_writer_commit_step(w, (uint64_t)s), "commit");
    }
}

static void two_files(const char *dir, const char *a, const char *b, const char *id, int bad_step)
{
    runlog_writer *w = open_run(dir, a, id, "h5test");

    check(runlog_writer_config_int(w, "batch", 32), "config");
    resumed_rows(w, 0, 4, -1);
    check(runlog_writer_close(w), "close"); /* crashed here; resumed in place: */
    w = open_run(dir, a, id, "h5test");
    resumed_rows(w, 5, 9, -1);
    check(runlog_writer_close(w), "close");
    /* requeued on another node: a new file, restarting from step 5 */
    w = open_run(dir, b, id, "h5test");
    check(runlog_writer_config_int(w, "batch", 32), "config");
    resumed_rows(w, 5, 14, bad_step);
    check(runlog_writer_finish(w, 0), "finish");
    check(runlog_writer_close(w), "close");
}

static int big(const char *path, long rows, int keys)
{
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_writer *w;
    char name[32];
    double v = 0;

    o.run_id = "big";
    o.project = "bench";
    check(runlog_writer_open(&w, path, &o), path);
    for (long r = 0; r < rows; r++) {
        for (int k = 0; k < keys; k++) {
            snprintf(name, sizeof name, "metric_%d", k);
            v += sin((double)(r * keys + k)) * 0.01;
            check(runlog_writer_add_double(w, name, v + k), "add");
        }
        check(runlog_writer_commit(w), "commit");
    }
    check(runlog_writer_finish(w, 0), "finish");
    check(runlog_writer_close(w), "close");
    return 0;
}

/* Key k at steps group(k), group(k) + ngroups, ...: each step's row holds
 * one group of up to 10 000 keys, flushed alone. */
static int wide(const char *path, long keys, long steps)
{
    enum { GROUP = 10000 };
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    long ngroups = (keys + GROUP - 1) / GROUP, s, g, k;
    runlog_writer *w;
    char name[32];

    o.run_id = "wide";
    o.project = "bench";
    check(runlog_writer_open(&w, path, &o), path);
    for (s = 0; s < steps; s++)
        for (g = 0; g < ngroups; g++) {
            for (k = g * GROUP; k < keys && k < (g + 1) * GROUP; k++) {
                snprintf(name, sizeof name, "k%06ld", k);
                check(runlog_writer_add_int(w, name, s * keys + k), "add");
            }
            check(runlog_writer_commit(w), "commit");
            if (ngroups > 1)
                check(runlog_writer_flush(w), "flush");
        }
    check(runlog_writer_finish(w, 0), "finish");
    check(runlog_writer_close(w), "close");
    return 0;
}

/* Runs for the name links and the runs index (spec/HDF5.md §3.1, §3.2). */
static int64_t fixed_clock(void *ctx)
{
    return *(const int64_t *)ctx;
}

static void named_run(const char *dir, const char *file, const char *id, const char *project,
                      const char *name, int64_t start, double acc)
{
    static int64_t clocks[8];
    static int nclocks;
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_writer *w;
    char path[4096];

    snprintf(path, sizeof path, "%s/%s", dir, file);
    clocks[nclocks] = start;
    o.run_id = id;
    o.project = project;
    o.name = name;
    o.clock = fixed_clock;
    o.clock_ctx = &clocks[nclocks++];
    check(runlog_writer_open(&w, path, &o), path);
    check(runlog_writer_config_double(w, "lr", acc / 100), "config");
    check(runlog_writer_add_double(w, "val/acc", acc), "acc");
    check(runlog_writer_commit_step(w, 3), "commit");
    check(runlog_writer_finish(w, 0), "finish");
    check(runlog_writer_close(w), "close");
}

/* A table at steps 5 (twice: the second row at that step wins), 470 and
 * 471; at 470 also one under the key "470". */
static void tables_by_step(const char *dir)
{
    static const char *const cols[] = {"n"};
    const runlog_column_type types[] = {RUNLOG_COLUMN_INT};
    static const uint64_t steps[] = {5, 5, 470, 471};
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_writer *w;
    runlog_table *t;
    char path[4096];

    snprintf(path, sizeof path, "%s/steps.runlog", dir);
    o.run_id = "h5-steps";
    o.project = "h5names";
    o.name = "steps";
    check(runlog_writer_open(&w, path, &o), path);
    for (int i = 0; i < 4; i++) {
        check(runlog_table_new(&t, w, cols, types, 1), "table");
        check(runlog_table_int(t, i), "cell");
        check(runlog_table_end_row(t), "row");
        check(runlog_writer_add_table(w, "preds", t), "add table");
        runlog_table_free(t);
        if (steps[i] == 470) { /* a key of digits: tables_by_step/%_470/470 */
            check(runlog_table_new(&t, w, cols, types, 1), "table");
            check(runlog_table_int(t, 470), "cell");
            check(runlog_table_end_row(t), "row");
            check(runlog_writer_add_table(w, "470", t), "add table");
            runlog_table_free(t);
        }
        check(runlog_writer_commit_step(w, steps[i]), "commit");
    }
    check(runlog_writer_finish(w, 0), "finish");
    check(runlog_writer_close(w), "close");
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--wide") == 0)
        return wide(argv[2], atol(argv[3]), atol(argv[4]));
    if (argc == 5 && strcmp(argv[1], "--big") == 0)
        return big(argv[2], atol(argv[3]), atoi(argv[4]));
    if (argc != 2) {
        fprintf(stderr, "usage: h5-fixture DIR | h5-fixture --big FILE ROWS KEYS | "
                        "h5-fixture --wide FILE KEYS STEPS\n");
        return 2;
    }
    crafted(argv[1]);
    two_files(argv[1], "resumed_a.runlog", "resumed_b.runlog", "h5-resumed", -1);
    two_files(argv[1], "conflict_a.runlog", "conflict_b.runlog", "h5-conflict", 7);
    {
        runlog_writer *w = open_run(argv[1], "ident_b.runlog", "h5-resumed", "other-project");
        resumed_rows(w, 0, 2, -1);
        check(runlog_writer_finish(w, 0), "finish");
        check(runlog_writer_close(w), "close");
    }
    /* Two runs named "twin" in one project (the later start written
     * first), one with neither project nor name, names with '/' and '.'. */
    named_run(argv[1], "twin_new.runlog", "h5-twin-new", "h5names", "twin", 2000000000000LL, 0.8);
    named_run(argv[1], "twin_old.runlog", "h5-twin-old", "h5names", "twin", 1000000000000LL, 0.9);
    named_run(argv[1], "anon.runlog", "h5-anon/1", NULL, NULL, 1500000000000LL, 0.5);
    named_run(argv[1], "slash.runlog", "h5-slash", "h5names", "a/b.c", 1500000000000LL, 0.6);
    named_run(argv[1], "dot.runlog", "h5-dot", "h5names", ".", 1500000000000LL, 0.7);
    tables_by_step(argv[1]);
    return 0;
}
