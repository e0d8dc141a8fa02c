/*
 * Fuzz target: librunlog-export's stream converters (runlog_export():
 * JSON, JSON Lines, CSV, CSV --long, dump, history), run on the input as a file,
 * the output into a scratch file. Each call must return 0 (exported),
 * RUNLOG_EDAMAGED (exported, damage skipped) or another error with a
 * detail, never crash; a damaged input must also fail the strict policy.
 */
#include <string.h>

#include "fuzz_common.h"
#include "runlog_export.h"

/* The keys given to RUNLOG_EXPORT_HISTORY: one key (read alone), then two
 * (every key in one pass); the seeds' runs hold "loss". */
static const char *const history_keys[] = { "loss", "acc" };
static size_t history_nkeys;

static int export(const char *path, runlog_export_format format, runlog_damage_policy damage)
{
    runlog_export_options opts = RUNLOG_EXPORT_OPTIONS_INIT;
    char out[1024];
    int rc;

    snprintf(out, sizeof out, "%s/out", fuzz_tmpdir());
    opts.format = format;
    opts.damage = damage;
    opts.keys = history_keys;
    opts.nkeys = history_nkeys;
    rc = runlog_export(&path, 1, out, &opts);
    FUZZ_ASSERT(rc <= 0);
    FUZZ_ASSERT(rc == 0 || runlog_error_detail()[0] != '\0');
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const runlog_export_format formats[] = {
        RUNLOG_EXPORT_JSON, RUNLOG_EXPORT_JSONL, RUNLOG_EXPORT_CSV, RUNLOG_EXPORT_CSV_LONG,
        RUNLOG_EXPORT_DUMP};
    char path[1024];
    size_t i;

    if (fuzz_write_file(path, sizeof path, "in.runlog", data, size) != 0)
        return 0;
    for (i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (export(path, formats[i], RUNLOG_DAMAGE_TOLERANT) == RUNLOG_EDAMAGED)
            /* Strict stops at the damage tolerant skipped. */
            FUZZ_ASSERT(export(path, formats[i], RUNLOG_DAMAGE_STRICT) < 0);
    /* history (spec/EXPORTS.md §4.4): checked without values, then only the
     * keys asked for; damage it reports fails it strict too. */
    for (history_nkeys = 1; history_nkeys <= 2; history_nkeys++)
        if (export(path, RUNLOG_EXPORT_HISTORY, RUNLOG_DAMAGE_TOLERANT) == RUNLOG_EDAMAGED)
            FUZZ_ASSERT(export(path, RUNLOG_EXPORT_HISTORY, RUNLOG_DAMAGE_STRICT) < 0);
    history_nkeys = 0;
    fuzz_cleanup_dir();
    return 0;
}
