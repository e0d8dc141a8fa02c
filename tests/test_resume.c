/*
 * test_resume — reopening a file appends to the same run (spec/FORMAT.md):
 * after a crash mid-frame (a torn tail) or with garbage at the end, the tail
 * is moved to the sidecar PATH.torn-OFFSET byte for byte, a resume record
 * marks the boundary and the steps go on; a cleanly closed file resumes
 * too; values left pending at close are committed with the next row; a
 * writer opened for a step the commit would refuse writes nothing.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef tu_fixture fixture;

static runlog_writer *open_w(const char *path, tu_clock *clock, int *resumed)
{
    runlog_writer_options o;
    tu_fixed_options(&o, clock, 0);
    runlog_writer *w = NULL;
    TU_OK(runlog_writer_open(&w, path, &o));
    *resumed = runlog_writer_resumed(w);
    return w;
}

static void add_rows(runlog_writer *w, uint64_t from, uint64_t to)
{
    for (uint64_t s = from; s < to; s++) {
        TU_OK(runlog_writer_add_double(w, "x", (double)s * 0.5));
        TU_OK(runlog_writer_add_int(w, "s", (int64_t)s));
        TU_OK(runlog_writer_commit(w));
    }
}

/* Writes rows 0..9, flush, rows 10..19, flush; returns the sizes after each
 * flush in b[0], b[1] (the writer is then closed without finish). */
static void write_two_groups(const char *path, uint64_t b[2])
{
    tu_clock clock = {1000, 1};
    int resumed;
    runlog_writer *w = open_w(path, &clock, &resumed);
    assert_int_equal(resumed, 0);
    add_rows(w, 0, 10);
    TU_OK(runlog_writer_flush(w));
    b[0] = (uint64_t)tu_file_size(path);
    add_rows(w, 10, 20);
    TU_OK(runlog_writer_flush(w));
    b[1] = (uint64_t)tu_file_size(path);
    TU_OK(runlog_writer_close(w));
}

/* Every history row is x = s * 0.5, s = step, steps 0..n-1 in order; one
 * resume record per resume; the run finished. */
static void check_file(const char *path, uint64_t n, uint64_t resumes)
{
    runlog_reader *r = NULL;
    TU_OK(runlog_reader_open(&r, path, NULL));
    const runlog_record *rec;
    int rc;
    uint64_t rows = 0, resume_records = 0;
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        if (runlog_record_type_of(rec) == RUNLOG_RECORD_RESUME)
            resume_records++;
        if (runlog_record_type_of(rec) != RUNLOG_RECORD_HISTORY)
            continue;
        assert_int_equal(runlog_record_step(rec), rows);
        rows++;
    }
    TU_RC(rc, RUNLOG_ITEROVER);
    assert_int_equal(rows, n);
    assert_int_equal(resume_records, resumes);
    runlog_history *h = NULL;
    TU_OK(runlog_reader_history(&h, r, "x"));
    assert_int_equal(runlog_history_length(h), n);
    for (uint64_t i = 0; i < n; i++) {
        assert_int_equal(runlog_history_steps(h)[i], i);
        assert_int_equal(tu_dbits(runlog_history_values(h)[i]), tu_dbits((double)i * 0.5));
    }
    runlog_history_free(h);
    runlog_run *run = NULL;
    TU_OK(runlog_reader_run(&run, r));
    assert_int_equal(runlog_run_state(run), RUNLOG_STATE_FINISHED);
    assert_int_equal(runlog_run_rows(run), n);
    assert_int_equal(runlog_run_last_step(run), n - 1);
    assert_int_equal(runlog_run_resumes(run), resumes);
    assert_int_equal(runlog_run_record_count(run, RUNLOG_RECORD_RESUME), resumes);
    assert_int_equal(runlog_run_record_count(run, RUNLOG_RECORD_RUN_START), 1);
    runlog_run_free(run);
    runlog_reader_close(r);
    runlog_report *rep = NULL;
    TU_OK(runlog_verify(&rep, path));
    assert_int_equal(runlog_report_intact(rep), 1);
    assert_int_equal(runlog_report_has_trailer(rep), 1);
    runlog_report_free(rep);
}

/* The one sidecar in dir must be "test.runlog.torn-<off>" holding `tail`. */
static void check_sidecar(fixture *fx, uint64_t off, const unsigned char *tail, size_t len)
{
    char **names;
    size_t n = tu_list_prefix(fx->dir, "test.runlog.torn-", &names);
    assert_int_equal(n, 1);
    char want[64];
    snprintf(want, sizeof want, "test.runlog.torn-%llu", (unsigned long long)off);
    assert_string_equal(names[0], want);
    char *p = tu_path(fx->dir, names[0]);
    size_t got_len;
    unsigned char *got = tu_read_file(p, &got_len);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, tail, len);
    free(got);
    free(p);
    tu_free_names(names, n);
}

/* Resumes `path` (rows 0..9 intact), appends 10..14, finishes. */
static void resume_and_finish(const char *path, uint64_t next, uint64_t upto)
{
    tu_clock clock = {9000, 1};
    int resumed;
    runlog_writer *w = open_w(path, &clock, &resumed);
    assert_int_equal(resumed, 1);
    assert_string_equal(runlog_writer_run_id(w), "test-run-0001");
    assert_int_equal(runlog_writer_next_step(w), next);
    add_rows(w, next, upto);
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
}

static void test_resume_torn_frame(void **state)
{
    fixture *fx = *state;
    char *longer = tu_path(fx->dir, "longer.runlog");
    uint64_t b[2];
    write_two_groups(longer, b);
    size_t size;
    unsigned char *bytes = tu_read_file(longer, &size);
    /* a crash in the middle of writing the second group's frame */
    uint64_t cut = b[0] + (b[1] - b[0]) / 2;
    tu_write_file(fx->path, bytes, (size_t)cut);
    resume_and_finish(fx->path, 10, 15);
    check_sidecar(fx, b[0], bytes + b[0], (size_t)(cut - b[0]));
    check_file(fx->path, 15, 1);
    free(bytes);
    free(longer);
}

static void test_resume_garbage_tail(void **state)
{
    fixture *fx = *state;
    char *longer = tu_path(fx->dir, "longer.runlog");
    uint64_t b[2];
    write_two_groups(longer, b);
    size_t size;
    unsigned char *bytes = tu_read_file(longer, &size);
    unsigned char *junk = malloc(b[0] + 300);
    assert_non_null(junk);
    memcpy(junk, bytes, b[0]);
    uint64_t rnd = 99;
    for (size_t i = 0; i < 300; i++)
        junk[b[0] + i] = (unsigned char)tu_rand64(&rnd);
    tu_write_file(fx->path, junk, (size_t)b[0] + 300);
    resume_and_finish(fx->path, 10, 15);
    check_sidecar(fx, b[0], junk + b[0], 300);
    check_file(fx->path, 15, 1);
    free(junk);
    free(bytes);
    free(longer);
}

/* A file that a writer closed cleanly (index and trailer, no finish). */
static void test_resume_closed(void **state)
{
    fixture *fx = *state;
    uint64_t b[2];
    write_two_groups(fx->path, b);
    /* closed, unfinished, nobody holds it: crashed */
    runlog_reader *r = NULL;
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    runlog_run *run = NULL;
    TU_OK(runlog_reader_run(&run, r));
    assert_int_equal(runlog_run_state(run), RUNLOG_STATE_CRASHED);
    runlog_run_free(run);
    runlog_reader_close(r);
    resume_and_finish(fx->path, 20, 30);
    char **names;
    size_t n = tu_list_prefix(fx->dir, "test.runlog.torn-", &names);
    assert_int_equal(n, 0); /* nothing was cut */
    tu_free_names(names, n);
    check_file(fx->path, 30, 1);
}

/* Resumed twice: each resume adds its own resume record. */
static void test_resume_twice(void **state)
{
    fixture *fx = *state;
    uint64_t b[2];
    write_two_groups(fx->path, b);
    tu_clock clock = {5000, 1};
    int resumed;
    runlog_writer *w = open_w(fx->path, &clock, &resumed);
    assert_int_equal(resumed, 1);
    add_rows(w, 20, 25);
    TU_OK(runlog_writer_close(w));
    resume_and_finish(fx->path, 25, 27);
    check_file(fx->path, 27, 2);
}

/* Values added without a commit when the writer closed come back. */
static void test_resume_pending(void **state)
{
    fixture *fx = *state;
    tu_clock clock = {1000, 1};
    int resumed;
    runlog_writer *w = open_w(fx->path, &clock, &resumed);
    add_rows(w, 0, 5);
    TU_OK(runlog_writer_add_double(w, "p", 1.5));
    TU_OK(runlog_writer_add_string(w, "ps", "pending λ"));
    TU_OK(runlog_writer_close(w));

    /* the pending values are a partial record, in no history row */
    runlog_reader *r = NULL;
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    runlog_run *run = NULL;
    TU_OK(runlog_reader_run(&run, r));
    assert_int_equal(runlog_run_rows(run), 5);
    assert_int_equal(runlog_run_record_count(run, RUNLOG_RECORD_PARTIAL), 1);
    runlog_run_free(run);
    runlog_history *h = NULL;
    TU_RC(runlog_reader_history(&h, r, "p"), RUNLOG_ENOTFOUND);
    runlog_reader_close(r);

    w = open_w(fx->path, &clock, &resumed);
    assert_int_equal(resumed, 1);
    assert_int_equal(runlog_writer_next_step(w), 5);
    TU_OK(runlog_writer_add_double(w, "q", 2.5));
    TU_OK(runlog_writer_add_double(w, "x", 2.5));
    TU_OK(runlog_writer_add_int(w, "s", 5));
    TU_OK(runlog_writer_commit(w));
    add_rows(w, 6, 8);
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));

    check_file(fx->path, 8, 1);
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    const char *keys[] = {"p", "ps", "q"};
    for (int k = 0; k < 3; k++) {
        TU_OK(runlog_reader_history(&h, r, keys[k]));
        assert_int_equal(runlog_history_length(h), 1);
        assert_int_equal(runlog_history_steps(h)[0], 5);
        const runlog_value *v = runlog_history_value(h, 0);
        if (k == 1)
            assert_string_equal(runlog_value_string(v, NULL), "pending λ");
        else
            assert_true(runlog_value_float(v) == (k == 0 ? 1.5 : 2.5));
        runlog_history_free(h);
    }
    runlog_reader_close(r);
}

/* A different run id is refused, and the file is left as it was. */
static void test_resume_wrong_id(void **state)
{
    fixture *fx = *state;
    uint64_t b[2];
    write_two_groups(fx->path, b);
    size_t n1, n2;
    unsigned char *before = tu_read_file(fx->path, &n1);
    tu_clock clock = {1, 1};
    runlog_writer_options o;
    tu_fixed_options(&o, &clock, 1);
    o.run_id = "another-run";
    runlog_writer *w = NULL;
    TU_RC(runlog_writer_open(&w, fx->path, &o), RUNLOG_EINVAL);
    assert_null(w);
    unsigned char *after = tu_read_file(fx->path, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(before, after, n1);
    free(before);
    free(after);
}

/* Not a run-log: refused, not overwritten. */
static void test_resume_not_runlog(void **state)
{
    fixture *fx = *state;
    const char text[] = "this is a text file, not a run-log\n";
    tu_write_file(fx->path, text, sizeof text - 1);
    runlog_writer *w = NULL;
    TU_RC(runlog_writer_open(&w, fx->path, NULL), RUNLOG_ENOTRUNLOG);
    assert_null(w);
    size_t n;
    unsigned char *after = tu_read_file(fx->path, &n);
    assert_int_equal(n, sizeof text - 1);
    assert_memory_equal(after, text, n);
    free(after);
}

/* The file at path holds exactly the n bytes of want. */
static void assert_file_is(const char *path, const unsigned char *want, size_t n)
{
    size_t got_n;
    unsigned char *got = tu_read_file(path, &got_n);
    assert_int_equal(got_n, n);
    assert_memory_equal(got, want, n);
    free(got);
}

/* runlog_writer_open_for_step(): a step the commit would refuse is refused
 * by the open, with the commit's error, and the file is left byte for byte
 * as it was (runlog_writer_open() would cut the torn tail and record a
 * resume); a step it would commit opens as runlog_writer_open() does. */
static void test_resume_refused_step(void **state)
{
    fixture *fx = *state;
    char *longer = tu_path(fx->dir, "longer.runlog"), *top = tu_path(fx->dir, "top.runlog"),
         *fresh = tu_path(fx->dir, "fresh.runlog");
    uint64_t b[2], step;
    write_two_groups(longer, b);
    size_t size;
    unsigned char *bytes = tu_read_file(longer, &size);
    /* a crash in the middle of the second group's frame: steps 0..9 intact */
    uint64_t cut = b[0] + (b[1] - b[0]) / 2;
    tu_write_file(fx->path, bytes, (size_t)cut);
    tu_clock clock = {9000, 1};
    runlog_writer_options o;
    tu_fixed_options(&o, &clock, 0);
    runlog_writer *w = NULL;

    step = 8;
    TU_RC(runlog_writer_open_for_step(&w, fx->path, &o, &step), RUNLOG_ESTATE);
    assert_null(w);
    assert_non_null(strstr(runlog_error_detail(), "test.runlog: step 8 is lower than the last step 9"));
    step = UINT64_MAX;
    TU_RC(runlog_writer_open_for_step(&w, fx->path, &o, &step), RUNLOG_EINVAL);
    assert_null(w);
    assert_non_null(strstr(runlog_error_detail(),
                           "test.runlog: step 18446744073709551615 is over the limit of 18446744073709551614"));
    assert_file_is(fx->path, bytes, (size_t)cut);
    char **names;
    size_t n = tu_list_prefix(fx->dir, "test.runlog.torn-", &names);
    assert_int_equal(n, 0); /* nothing was cut */
    tu_free_names(names, n);

    /* A step the commit takes: the tail is cut and the resume recorded. */
    step = 10;
    TU_OK(runlog_writer_open_for_step(&w, fx->path, &o, &step));
    assert_int_equal(runlog_writer_resumed(w), 1);
    assert_int_equal(runlog_writer_next_step(w), 10);
    add_rows(w, 10, 15);
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
    w = NULL;
    check_sidecar(fx, b[0], bytes + b[0], (size_t)(cut - b[0]));
    check_file(fx->path, 15, 1);

    /* No automatic step follows RUNLOG_MAX_STEP; that step itself is fine. */
    TU_OK(runlog_writer_open(&w, top, &o));
    TU_OK(runlog_writer_add_int(w, "i", 1));
    TU_OK(runlog_writer_commit_step(w, RUNLOG_MAX_STEP));
    TU_OK(runlog_writer_close(w));
    w = NULL;
    free(bytes);
    bytes = tu_read_file(top, &size);
    TU_RC(runlog_writer_open_for_step(&w, top, &o, NULL), RUNLOG_EINVAL);
    assert_null(w);
    assert_non_null(strstr(runlog_error_detail(),
                           "top.runlog: no automatic step follows the last step 18446744073709551614"));
    assert_file_is(top, bytes, size);
    step = RUNLOG_MAX_STEP;
    TU_OK(runlog_writer_open_for_step(&w, top, &o, &step));
    TU_OK(runlog_writer_commit_step(w, step));
    TU_OK(runlog_writer_close(w));
    w = NULL;

    /* A new file: a step over the limit creates nothing; any other opens. */
    step = UINT64_MAX;
    TU_RC(runlog_writer_open_for_step(&w, fresh, &o, &step), RUNLOG_EINVAL);
    assert_null(w);
    assert_false(tu_exists(fresh));
    TU_OK(runlog_writer_open_for_step(&w, fresh, &o, NULL));
    assert_int_equal(runlog_writer_resumed(w), 0);
    TU_OK(runlog_writer_commit(w));
    TU_OK(runlog_writer_close(w));
    assert_true(tu_exists(fresh));

    free(bytes);
    free(fresh);
    free(top);
    free(longer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resume_torn_frame, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_resume_garbage_tail, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_resume_closed, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_resume_twice, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_resume_pending, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_resume_wrong_id, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_resume_not_runlog, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_resume_refused_step, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
