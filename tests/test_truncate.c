/*
 * test_truncate — a multi-frame file cut at every byte offset.
 *
 * Every prefix of a file is a readable file. A cut
 * inside the file header fails to open with a clear error; any later cut
 * reads exactly the records of the frames wholly before the cut, with the
 * same values, and ends with RUNLOG_ITEROVER (a torn tail is not an error),
 * in strict and in tolerant mode alike.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    char *dir, *full, *cut;
    tu_small sm;
    tu_records all;
    tu_frames fr;
    unsigned char *bytes;
    size_t size;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->dir = tu_tmpdir();
    fx->full = tu_path(fx->dir, "full.runlog");
    fx->cut = tu_path(fx->dir, "cut.runlog");
    tu_write_small(fx->full, 6, 4, 1, &fx->sm);
    fx->bytes = tu_read_file(fx->full, &fx->size);
    assert_int_equal(fx->size, fx->sm.size);
    tu_read_records(&fx->all, fx->full, RUNLOG_READ_STRICT);
    TU_RC(fx->all.end_rc, RUNLOG_ITEROVER);
    tu_frames_from(&fx->fr, &fx->all, &fx->sm);
    /* run start + config, 6 groups with rows, an alert and console text,
     * finish: the file must span several frames for this test to mean
     * anything */
    assert_true(fx->fr.n >= 7);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    tu_records_free(&fx->all);
    tu_frames_free(&fx->fr);
    free(fx->bytes);
    free(fx->full);
    free(fx->cut);
    tu_tmpdir_free(fx->dir);
    free(fx);
    return 0;
}

/* A cut before the first frame: open fails with a clear error, or (a cut
 * after the whole header) opens and yields nothing. Returns 1 if it opened. */
static int check_header_cut(fixture *fx, uint64_t c, const tu_records *got, unsigned flags)
{
    if (got->open_rc == 0) {
        if (got->n != 0 || got->end_rc != RUNLOG_ITEROVER)
            fail_msg("cut %llu (flags %u): %zu records, end %d, before the first frame at %llu",
                     (unsigned long long)c, flags, got->n, got->end_rc,
                     (unsigned long long)fx->fr.start[0]);
        return 1;
    }
    if (c == 0 && got->open_rc == RUNLOG_ENOTRUNLOG)
        return 0;
    if (got->open_rc != RUNLOG_ETRUNCATED)
        fail_msg("cut %llu (flags %u): open returned %d (%s), expected RUNLOG_ETRUNCATED",
                 (unsigned long long)c, flags, got->open_rc, runlog_strerror(got->open_rc));
    return 0;
}

static void check_cut(fixture *fx, uint64_t c, unsigned flags, int *opened_before,
                      uint64_t *late_seen)
{
    tu_records got;
    tu_read_records(&got, fx->cut, flags);
    if (c < fx->fr.start[0]) {
        if (got.open_rc != 0) {
            /* the detail names the file and where it ends ("byte N"), as
             * runlog.h's example "run.runlog: byte 4096: ..." */
            const char *d = runlog_error_detail();
            char at[40];
            snprintf(at, sizeof at, "byte %llu", (unsigned long long)c);
            if (strstr(d, "cut.runlog") == NULL || strstr(d, at) == NULL)
                fail_msg("cut %llu: detail does not name the file and \"%s\": \"%s\"",
                         (unsigned long long)c, at, d);
        }
        int opened = check_header_cut(fx, c, &got, flags);
        if (c == 0 && opened)
            fail_msg("an empty file opened as a run-log");
        if (*opened_before && !opened)
            fail_msg("cut %llu fails to open though a shorter cut opened",
                     (unsigned long long)c);
        *opened_before |= opened;
        tu_records_free(&got);
        return;
    }
    if (got.open_rc != 0)
        fail_msg("cut %llu (flags %u): open returned %d (%s): %s", (unsigned long long)c,
                 flags, got.open_rc, runlog_strerror(got.open_rc), runlog_error_detail());
    if (got.end_rc != RUNLOG_ITEROVER)
        fail_msg("cut %llu (flags %u): after %zu records: %d (%s): %s", (unsigned long long)c,
                 flags, got.n, got.end_rc, runlog_strerror(got.end_rc), runlog_error_detail());
    /* Records of frames that end at or before the cut, in order, and only
     * those; a frame of unknown end (after the last flush) all or nothing. */
    size_t i = 0;
    for (; i < got.n; i++) {
        if (i >= fx->all.n)
            fail_msg("cut %llu: record %zu was invented: %s", (unsigned long long)c, i,
                     got.dump[i]);
        size_t f = fx->fr.rec_frame[i];
        if (fx->fr.end[f] != UINT64_MAX && fx->fr.end[f] > c)
            fail_msg("cut %llu (flags %u): record %zu of frame %llu..%llu read, frame not "
                     "complete: %s", (unsigned long long)c, flags, i,
                     (unsigned long long)fx->fr.start[f], (unsigned long long)fx->fr.end[f],
                     got.dump[i]);
        if (strcmp(got.dump[i], fx->all.dump[i]) != 0 || got.frame[i] != fx->all.frame[i])
            fail_msg("cut %llu: record %zu differs:\n got  %s\n want %s",
                     (unsigned long long)c, i, got.dump[i], fx->all.dump[i]);
    }
    if (i < fx->all.n) {
        size_t f = fx->fr.rec_frame[i];
        if (fx->fr.end[f] != UINT64_MAX && fx->fr.end[f] <= c)
            fail_msg("cut %llu (flags %u): record %zu (frame at %llu, ends %llu) missing",
                     (unsigned long long)c, flags, i, (unsigned long long)fx->fr.start[f],
                     (unsigned long long)fx->fr.end[f]);
        if (i > 0 && fx->fr.rec_frame[i - 1] == f)
            fail_msg("cut %llu: frame at %llu read in part (%zu records)",
                     (unsigned long long)c, (unsigned long long)fx->fr.start[f], i);
        if (fx->fr.end[f] == UINT64_MAX && *late_seen <= c)
            fail_msg("cut %llu: the frame at %llu was read at cut %llu but not now",
                     (unsigned long long)c, (unsigned long long)fx->fr.start[f],
                     (unsigned long long)*late_seen);
    } else if (fx->fr.end[fx->fr.n - 1] == UINT64_MAX && *late_seen == UINT64_MAX) {
        *late_seen = c;
    }
    tu_records_free(&got);
}

static void truncate_everywhere(void **state, unsigned flags)
{
    fixture *fx = *state;
    int opened_before = 0;
    uint64_t late_seen = UINT64_MAX;
    for (uint64_t c = 0; c <= fx->size; c++) {
        tu_write_file(fx->cut, fx->bytes, (size_t)c);
        check_cut(fx, c, flags, &opened_before, &late_seen);
    }
    /* the whole file reads everything (checked in the loop at c == size) */
    assert_true(late_seen <= fx->size);
}

static void test_truncate_strict(void **state)
{
    truncate_everywhere(state, RUNLOG_READ_STRICT);
}

static void test_truncate_tolerant(void **state)
{
    truncate_everywhere(state, RUNLOG_READ_TOLERANT);
}

/* The run view and one key's history of a cut file agree with the records:
 * rows of complete frames only. */
static void test_truncate_history(void **state)
{
    fixture *fx = *state;
    for (size_t b = 0; b < fx->sm.n_bounds; b++) {
        for (int delta = 0; delta <= 1; delta++) {
            uint64_t c = fx->sm.bounds[b] + (uint64_t)delta * 7;
            if (c > fx->size)
                continue;
            tu_write_file(fx->cut, fx->bytes, (size_t)c);
            runlog_reader *r = NULL;
            TU_OK(runlog_reader_open(&r, fx->cut, NULL));
            runlog_history *h = NULL;
            int rc = runlog_reader_history(&h, r, "epoch");
            /* group g (rows 4g..4g+3) ends at bounds[g + 1] */
            size_t want = b * 4;
            if (want == 0) {
                TU_RC(rc, RUNLOG_ENOTFOUND);
            } else {
                TU_OK(rc);
                assert_int_equal(runlog_history_length(h), want);
                for (size_t i = 0; i < want; i++) {
                    assert_int_equal(runlog_history_steps(h)[i], i);
                    assert_int_equal(runlog_value_int(runlog_history_value(h, i)), i / 4);
                }
            }
            runlog_history_free(h);
            runlog_run *run = NULL;
            TU_OK(runlog_reader_run(&run, r));
            assert_int_equal(runlog_run_rows(run), want);
            assert_int_equal(runlog_run_state(run), RUNLOG_STATE_CRASHED);
            runlog_run_free(run);
            runlog_reader_close(r);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncate_strict),
        cmocka_unit_test(test_truncate_tolerant),
        cmocka_unit_test(test_truncate_history),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
