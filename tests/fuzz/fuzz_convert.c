/*
 * Fuzz target: the converters that write trees and binary files, and the
 * whole-run passes that the stream converters (fuzz_export.c) do not reach:
 *   - runlog_export() as HDF5, W&B, images, one artifact, one table, the
 *     per-key history CSV and the HTML report (those this build has:
 *     RUNLOG_EUNSUPPORTED is an answer), tolerant and, where tolerant
 *     reported damage, strict;
 *   - the runs table (runlog_runs_open, cells, JSON and CSV forms) and the
 *     summary pass (runlog_reader_run_summary);
 *   - a cursor pass that hands every image to runlog_reader_image().
 * Invariants: never a crash; an error has a detail; strict fails where
 * tolerant skipped damage; nothing is written outside the output path
 * (the scratch directory holds only the input and `out` afterwards).
 */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <ftw.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "runlog.h"
#include "runlog_export.h"

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (ftw->level > 0)
        remove(path);
    return 0;
}

/* Everything in the scratch directory but the input, then the check that
 * the converter wrote only at `out`. */
static void check_and_clean(void)
{
    DIR *d = opendir(fuzz_tmpdir());
    FUZZ_ASSERT(d != NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "in.runlog"))
            continue;
        if (strcmp(e->d_name, "out") != 0) {
            fprintf(stderr, "fuzz_convert: wrote outside its output: %s\n", e->d_name);
            abort();
        }
    }
    closedir(d);
    char out[1024];
    snprintf(out, sizeof out, "%s/out", fuzz_tmpdir());
    nftw(out, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    remove(out);
}

static int export(const char *path, runlog_export_options opts, runlog_damage_policy damage)
{
    char out[1024];
    snprintf(out, sizeof out, "%s/out", fuzz_tmpdir());
    opts.damage = damage;
    int rc = runlog_export(&path, 1, out, &opts);
    FUZZ_ASSERT(rc <= 0);
    FUZZ_ASSERT(rc == 0 || runlog_error_detail()[0] != '\0');
    check_and_clean();
    return rc;
}

static void export_both(const char *path, runlog_export_options opts)
{
    if (export(path, opts, RUNLOG_DAMAGE_TOLERANT) == RUNLOG_EDAMAGED)
        FUZZ_ASSERT(export(path, opts, RUNLOG_DAMAGE_STRICT) < 0);
}

/* The first key and the first artifact name of the run (for the history,
 * table and artifact converters), and every image through the reader. */
static void survey(const char *path, char *key, size_t keylen, char *artifact, size_t artlen)
{
    runlog_reader *r = NULL;
    key[0] = artifact[0] = '\0';
    if (runlog_reader_open(&r, path, NULL) != 0)
        return;
    runlog_run *run = NULL;
    if (runlog_reader_run_summary(&run, r) == 0) {
        fuzz_touch_value(runlog_run_identity(run));
        fuzz_touch_value(runlog_run_summary(run));
        if (runlog_run_key_count(run) > 0)
            snprintf(key, keylen, "%s", runlog_run_key(run, 0));
        runlog_run_free(run);
    } else {
        FUZZ_ASSERT(runlog_error_detail()[0] != '\0');
    }
    runlog_cursor *c = NULL;
    if (runlog_cursor_open(&c, r) == 0) {
        const runlog_record *rec;
        while (runlog_cursor_next(c, &rec) == 0) {
            const char *name, *type;
            uint32_t version;
            const runlog_value *aliases;
            size_t n;
            if (runlog_record_type_of(rec) == RUNLOG_RECORD_ARTIFACT && !artifact[0] &&
                runlog_record_artifact(rec, &name, &type, &version, &aliases, &n) == 0)
                snprintf(artifact, artlen, "%s", name);
            for (size_t i = 0; i < runlog_record_field_count(rec); i++) {
                const runlog_value *v = runlog_record_field_value(rec, i);
                runlog_image_info info = RUNLOG_IMAGE_INFO_INIT;
                void *bytes = NULL;
                size_t len = 0;
                if (runlog_value_image(&info, v) == 0 && runlog_reader_image(&bytes, &len, r, v) == 0) {
                    FUZZ_ASSERT(len == info.size);
                    runlog_free(bytes);
                }
            }
        }
        runlog_cursor_close(c);
    }
    runlog_reader_close(r);
}

static void runs_table(const char *path)
{
    runlog_runs_options o = RUNLOG_RUNS_OPTIONS_INIT;
    runlog_runs *t = NULL;
    const char *paths[2] = {path, path};
    if (runlog_runs_open(&t, paths, 2, &o) != 0) {
        FUZZ_ASSERT(runlog_error_detail()[0] != '\0');
        return;
    }
    /* One run, or (a file no run can be read from) one row per name given. */
    FUZZ_ASSERT(runlog_runs_count(t) <= 1 || runlog_runs_damaged(t) == runlog_runs_count(t));
    for (size_t row = 0; row < runlog_runs_count(t); row++) {
        fuzz_touch_value(runlog_runs_row(t, row));
        for (size_t col = 0; col < runlog_runs_column_count(t); col++) {
            FUZZ_ASSERT(runlog_runs_column(t, col) != NULL);
            fuzz_touch_value(runlog_runs_cell(t, row, col));
        }
    }
    char *s = NULL;
    if (runlog_runs_to_json(&s, t) == 0)
        free(s);
    s = NULL;
    if (runlog_runs_to_csv(&s, t) == 0)
        free(s);
    runlog_runs_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const runlog_export_format trees[] = {
        RUNLOG_EXPORT_HDF5, RUNLOG_EXPORT_WANDB, RUNLOG_EXPORT_IMAGES, RUNLOG_EXPORT_REPORT};
    char path[1024], key[256], artifact[256];

    if (fuzz_write_file(path, sizeof path, "in.runlog", data, size) != 0)
        return 0;
    survey(path, key, sizeof key, artifact, sizeof artifact);
    runs_table(path);
    for (size_t i = 0; i < sizeof trees / sizeof trees[0]; i++) {
        runlog_export_options opts = RUNLOG_EXPORT_OPTIONS_INIT;
        opts.format = trees[i];
        export_both(path, opts);
    }
    if (key[0]) {
        runlog_export_options opts = RUNLOG_EXPORT_OPTIONS_INIT;
        const char *keys[1] = {key};
        opts.format = RUNLOG_EXPORT_HISTORY;
        opts.keys = keys;
        opts.nkeys = 1;
        export_both(path, opts);
        opts = (runlog_export_options)RUNLOG_EXPORT_OPTIONS_INIT;
        opts.format = RUNLOG_EXPORT_CSV_TABLE;
        opts.table = key;
        export_both(path, opts);
    }
    if (artifact[0]) {
        runlog_export_options opts = RUNLOG_EXPORT_OPTIONS_INIT;
        opts.format = RUNLOG_EXPORT_ARTIFACT;
        opts.artifact = artifact;
        export_both(path, opts);
    }
    return 0;
}
