/*
 * Fuzz target: runlog_repair on a copy of the input, then the repaired file
 * read again. Invariants: after a successful repair the file has no torn
 * tail and ends with a trailer; a tolerant reader sees the same rows before
 * and after (repair never drops or invents an intact row).
 */
#include <string.h>

#include "fuzz_common.h"
#include "runlog.h"

static int rows(const char *path, uint64_t *nrows, uint64_t *sum)
{
    runlog_reader_options o = RUNLOG_READER_OPTIONS_INIT;
    o.flags = RUNLOG_READ_TOLERANT;
    runlog_reader *r = NULL;
    if (runlog_reader_open(&r, path, &o) != 0)
        return -1;
    const runlog_record *rec;
    int rc;
    *nrows = *sum = 0;
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        if (runlog_record_type_of(rec) == RUNLOG_RECORD_HISTORY) {
            (*nrows)++;
            *sum = *sum * 31 + runlog_record_step(rec) + runlog_record_field_count(rec);
        }
    }
    runlog_reader_close(r);
    return rc == RUNLOG_ITEROVER ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[1024];
    if (fuzz_write_file(path, sizeof path, "in.runlog", data, size) != 0)
        return 0;
    uint64_t n0 = 0, s0 = 0, n1 = 0, s1 = 0;
    int before = rows(path, &n0, &s0);
    uint64_t cut = 0;
    if (runlog_repair(&cut, path) == 0) {
        FUZZ_ASSERT(cut <= size);
        runlog_report *rep = NULL;
        FUZZ_ASSERT(runlog_verify(&rep, path) == 0);
        for (size_t i = 0; i < runlog_report_damage_count(rep); i++) {
            runlog_damage_kind kind;
            uint64_t off, len;
            const char *what;
            FUZZ_ASSERT(runlog_report_damage(rep, i, &kind, &off, &len, &what) == 0);
            FUZZ_ASSERT(kind != RUNLOG_DAMAGE_TORN_TAIL);
        }
        FUZZ_ASSERT(runlog_report_has_trailer(rep));
        runlog_report_free(rep);
        if (before == 0) {
            FUZZ_ASSERT(rows(path, &n1, &s1) == 0);
            FUZZ_ASSERT(n0 == n1 && s0 == s1);
        }
    }
    fuzz_cleanup_dir();
    return 0;
}
