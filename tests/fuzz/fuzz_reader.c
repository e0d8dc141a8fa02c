/*
 * Fuzz target: a whole file through the public reader, as `runlog info`,
 * `dump` and `history` use it: strict and tolerant iteration,
 * runlog_reader_run, runlog_reader_history of the first keys,
 * runlog_reader_histories (every key in one pass), runlog_verify and
 * runlog_verify_structure (within verify's report).
 * Invariants: a tolerant reader never reports damage as an error; history
 * lengths agree with the steps array; verify counts what the reader saw;
 * the all-keys read holds no more of a key than its own read (a damaged
 * frame costs it every key's values), and exactly as much, bit for bit,
 * when verify finds the file intact.
 */
#include <string.h>

#include "fuzz_common.h"
#include "runlog.h"

static void touch_record(const runlog_record *rec)
{
    (void)runlog_record_type_name(runlog_record_type_of(rec));
    (void)runlog_record_step(rec);
    (void)runlog_record_time(rec);
    for (size_t i = 0; i < runlog_record_field_count(rec); i++) {
        FUZZ_ASSERT(runlog_record_field_key(rec, i) != NULL);
        fuzz_touch_value(runlog_record_field_value(rec, i));
    }
    fuzz_touch_value(runlog_record_body(rec));
    /* The typed accessors (spec/FORMAT.md §5.2, §12): on any body they
     * answer 0 with checked fields, or an error with a detail. */
    const char *a, *b;
    size_t alen, blen, n;
    const void *data;
    runlog_alert_level level;
    runlog_stream stream;
    uint32_t version;
    const runlog_value *aliases;
    switch (runlog_record_type_of(rec)) {
    case RUNLOG_RECORD_ALERT:
        if (runlog_record_alert(rec, &a, &alen, &b, &blen, &level) == 0)
            FUZZ_ASSERT(a && b && runlog_alert_level_name(level) != NULL);
        break;
    case RUNLOG_RECORD_CONSOLE:
        if (runlog_record_console(rec, &stream, &data, &n) == 0)
            FUZZ_ASSERT(runlog_stream_name(stream) != NULL && (data || n == 0));
        break;
    case RUNLOG_RECORD_ARTIFACT:
        if (runlog_record_artifact(rec, &a, &b, &version, &aliases, &n) == 0) {
            for (size_t i = 0; i < n; i++) {
                runlog_artifact_entry_info e = RUNLOG_ARTIFACT_ENTRY_INFO_INIT;
                if (runlog_record_artifact_entry(&e, rec, i) == 0)
                    FUZZ_ASSERT(runlog_artifact_path_check(e.path, e.path_len) == 0);
            }
        }
        break;
    case RUNLOG_RECORD_HISTORY:
        for (size_t i = 0; i < runlog_record_field_count(rec); i++) {
            runlog_image_info info = RUNLOG_IMAGE_INFO_INIT;
            if (runlog_value_image(&info, runlog_record_field_value(rec, i)) == 0)
                FUZZ_ASSERT(info.width >= 1 && info.height >= 1 && info.channels >= 1 &&
                            info.channels <= 4);
        }
        break;
    default:
        break;
    }
}

static uint64_t iterate(const char *path, unsigned flags)
{
    runlog_reader_options o = RUNLOG_READER_OPTIONS_INIT;
    o.flags = flags;
    runlog_reader *r = NULL;
    if (runlog_reader_open(&r, path, &o) != 0)
        return 0;
    const runlog_record *rec;
    uint64_t n = 0;
    int rc;
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        touch_record(rec);
        n++;
    }
    FUZZ_ASSERT(rc < 0 && rc != RUNLOG_EAGAIN);
    FUZZ_ASSERT(runlog_error_detail() != NULL);
    /* Tolerant readers skip damage: only I/O and memory fail them. */
    if (flags & RUNLOG_READ_TOLERANT)
        FUZZ_ASSERT(rc == RUNLOG_ITEROVER || rc == RUNLOG_ENOMEM || rc == RUNLOG_EIO ||
                    rc == RUNLOG_EUNSUPPORTED);
    runlog_reader_close(r);
    return n;
}

/* Every key in one pass, against the one-key reads of keys[0..nkeys). */
static void all_keys(runlog_reader *r, runlog_history **one, const char **keys, size_t nkeys, int intact)
{
    runlog_histories *hs = NULL;
    int rc = runlog_reader_histories(&hs, r);
    if (rc != 0) {
        FUZZ_ASSERT(hs == NULL && runlog_error_detail() != NULL);
        /* Tolerant: only the reader's limits, I/O and memory fail it. */
        FUZZ_ASSERT(rc == RUNLOG_ENOMEM || rc == RUNLOG_EIO || rc == RUNLOG_EUNSUPPORTED ||
                    rc == RUNLOG_ETOOLARGE);
        return;
    }
    size_t n = runlog_histories_count(hs);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0, at = (size_t)-1;
        const char *key = runlog_histories_key(hs, i, &len);
        const runlog_history *h = runlog_histories_get(hs, i);
        FUZZ_ASSERT(key != NULL && strlen(key) == len && h != NULL);
        FUZZ_ASSERT(runlog_history_length(h) > 0 && runlog_history_steps(h) != NULL);
        FUZZ_ASSERT(runlog_histories_find(&at, hs, key) == 0 && at == i);
        FUZZ_ASSERT(runlog_history_value(h, runlog_history_length(h) - 1) != NULL);
    }
    FUZZ_ASSERT(runlog_histories_get(hs, n) == NULL && runlog_histories_key(hs, n, NULL) == NULL);
    for (size_t k = 0; k < nkeys; k++) {
        size_t at;
        size_t mine = one[k] ? runlog_history_length(one[k]) : 0;
        if (runlog_histories_find(&at, hs, keys[k]) != 0) {
            FUZZ_ASSERT(!intact || mine == 0);
            continue;
        }
        const runlog_history *h = runlog_histories_get(hs, at);
        size_t len = runlog_history_length(h);
        FUZZ_ASSERT(len <= mine);
        if (intact) {
            FUZZ_ASSERT(len == mine);
            FUZZ_ASSERT(memcmp(runlog_history_steps(h), runlog_history_steps(one[k]), len * 8) == 0);
            FUZZ_ASSERT(memcmp(runlog_history_values(h), runlog_history_values(one[k]), len * 8) == 0);
        }
    }
    runlog_histories_free(hs);
}

static void run_and_history(const char *path, int intact)
{
    runlog_reader_options o = RUNLOG_READER_OPTIONS_INIT;
    o.flags = RUNLOG_READ_TOLERANT;
    runlog_reader *r = NULL;
    if (runlog_reader_open(&r, path, &o) != 0)
        return;
    runlog_run *run = NULL;
    if (runlog_reader_run(&run, r) == 0) {
        fuzz_touch_value(runlog_run_identity(run));
        fuzz_touch_value(runlog_run_config(run));
        fuzz_touch_value(runlog_run_summary(run));
        fuzz_touch_value(runlog_run_metadata(run));
        (void)runlog_state_name(runlog_run_state(run));
        size_t nkeys = runlog_run_key_count(run);
        runlog_history *one[2] = { NULL, NULL };
        const char *keys[2];
        size_t k;
        for (k = 0; k < nkeys && k < 2; k++) {
            const char *key = runlog_run_key(run, k);
            FUZZ_ASSERT(key != NULL);
            keys[k] = key;
            runlog_history *h = NULL;
            if (runlog_reader_history(&h, r, key) == 0) {
                size_t n = runlog_history_length(h);
                const uint64_t *steps = runlog_history_steps(h);
                const double *vals = runlog_history_values(h);
                volatile double sink = 0;
                for (size_t i = 0; i < n; i++) {
                    sink += vals[i] + (double)steps[i] + (double)runlog_history_times(h)[i];
                    fuzz_touch_value(runlog_history_value(h, i));
                }
                (void)sink;
                FUZZ_ASSERT(runlog_history_value(h, n) == NULL);
            }
            one[k] = h;
        }
        all_keys(r, one, keys, k, intact);
        for (size_t i = 0; i < k; i++)
            runlog_history_free(one[i]);
        runlog_run_free(run);
    }
    runlog_reader_close(r);
}

/* runlog_verify_structure() against verify's report full: it opens what
 * verify opens, reports only damage that verify reports (the same kind at
 * the same byte), and counts the same when both find the file intact. */
static void structure_within(const char *path, const runlog_report *full)
{
    runlog_report *rep = NULL;
    int rc = runlog_verify_structure(&rep, path);
    FUZZ_ASSERT((rc == 0) == (full != NULL));
    if (rc)
        return;
    for (size_t i = 0; i < runlog_report_damage_count(rep); i++) {
        runlog_damage_kind kind, kind2;
        uint64_t off, off2;
        size_t j;
        FUZZ_ASSERT(runlog_report_damage(rep, i, &kind, &off, NULL, NULL) == 0);
        for (j = 0; j < runlog_report_damage_count(full); j++)
            if (runlog_report_damage(full, j, &kind2, &off2, NULL, NULL) == 0 && kind2 == kind &&
                off2 == off)
                break;
        FUZZ_ASSERT(j < runlog_report_damage_count(full));
    }
    if (runlog_report_intact(full)) {
        FUZZ_ASSERT(runlog_report_intact(rep));
        FUZZ_ASSERT(runlog_report_frames(rep) == runlog_report_frames(full));
        FUZZ_ASSERT(runlog_report_records(rep) == runlog_report_records(full));
    }
    runlog_report_free(rep);
}

/* 1 when verify finds the file intact. */
static int verify(const char *path)
{
    runlog_report *rep = NULL;
    if (runlog_verify(&rep, path) != 0) {
        structure_within(path, NULL);
        return 0;
    }
    structure_within(path, rep);
    size_t nd = runlog_report_damage_count(rep);
    for (size_t i = 0; i < nd; i++) {
        runlog_damage_kind kind;
        uint64_t off, len;
        const char *what = NULL;
        FUZZ_ASSERT(runlog_report_damage(rep, i, &kind, &off, &len, &what) == 0);
        FUZZ_ASSERT(what != NULL && off + len <= runlog_report_file_size(rep));
    }
    FUZZ_ASSERT(runlog_report_intact(rep) == (nd == 0));
    runlog_report_free(rep);
    return nd == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[1024];
    if (fuzz_write_file(path, sizeof path, "in.runlog", data, size) != 0)
        return 0;
    uint64_t strict = iterate(path, RUNLOG_READ_STRICT);
    uint64_t tolerant = iterate(path, RUNLOG_READ_TOLERANT);
    /* Strict stops at the first damage; tolerant goes past it. */
    FUZZ_ASSERT(tolerant >= strict);
    run_and_history(path, verify(path));
    fuzz_cleanup_dir();
    return 0;
}
