/*
 * fuzz_runset — the run-set rule (spec/EXPORTS.md §11) on any bytes: the
 * input as one file, given twice (a duplicate: read once), and beside a
 * byte copy of itself under another name (the same file UUID). Either the
 * set opens and holds one run whose merged values and history are sane, or
 * the open fails with a detail; never a crash or a second run.
 */
#include <string.h>

#include "fuzz_common.h"
#include "runlog.h"

static void check_set(const char *const *paths, size_t n)
{
    runlog_runset_options o = RUNLOG_RUNSET_OPTIONS_INIT;
    runlog_runset *s = NULL;

    o.flags = RUNLOG_READ_TOLERANT;
    if (runlog_runset_open(&s, paths, n, &o) != 0) {
        FUZZ_ASSERT(runlog_error_detail()[0] != '\0');
        return;
    }
    FUZZ_ASSERT(runlog_runset_run_count(s) == 1);
    FUZZ_ASSERT(runlog_runset_file_count(s, 0) == 1);
    FUZZ_ASSERT(runlog_runset_duplicate_count(s) == n - 1);
    fuzz_touch_value(runlog_runset_identity(s, 0));
    fuzz_touch_value(runlog_runset_config(s, 0));
    fuzz_touch_value(runlog_runset_summary(s, 0));
    fuzz_touch_value(runlog_runset_metadata(s, 0));
    size_t nkeys = runlog_runset_key_count(s, 0);
    for (size_t k = 0; k < nkeys && k < 2; k++) {
        runlog_history *h = NULL;
        if (runlog_runset_history(&h, s, 0, runlog_runset_key(s, 0, k)) == 0) {
            /* One file (the others are duplicates): the file's own order,
             * which a crafted file may give out of step order. */
            for (size_t i = 0; i < runlog_history_length(h); i++)
                FUZZ_ASSERT(runlog_history_file(h, i) == 0);
        }
        runlog_history_free(h);
    }
    runlog_runset_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char a[1024], b[1024];
    const char *paths[2];

    if (fuzz_write_file(a, sizeof a, "a.runlog", data, size) != 0 ||
        fuzz_write_file(b, sizeof b, "b.runlog", data, size) != 0)
        return 0;
    paths[0] = a;
    check_set(paths, 1);
    paths[1] = a;
    check_set(paths, 2);
    paths[1] = b;
    check_set(paths, 2);
    fuzz_cleanup_dir();
    return 0;
}
