/*
 * test_typed — one open reader serving many passes (cursors, the run, a
 * key's history, blobs) without reopening its path.
 *
 * Below the public API only to craft record bodies that runlog's writer never
 * writes (rl_writer_record with hand-made CBOR); everything is read back
 * through the public API.
 */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

typedef tu_fixture fixture;

static runlog_writer *open_writer(const char *path, tu_clock *clock)
{
    runlog_writer_options o;
    runlog_writer *w = NULL;

    clock->now = 1700000000000000000LL;
    clock->step_ns = 1000;
    tu_fixed_options(&o, clock, 1);
    TU_OK(runlog_writer_open(&w, path, &o));
    return w;
}

/* ---- reader and cursors apart --------------------------------------------- */

/* A run with several frames: config, rows with a metric, alerts, console,
 * an image blob, an artifact; finished. *blob receives the image's digest. */
static void write_mixed(const char *path, const char *dir, runlog_digest *blob)
{
    tu_clock clock;
    runlog_writer *w = open_writer(path, &clock);
    uint8_t px[4 * 5 * 3];

    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 7);
    TU_OK(runlog_writer_config_int(w, "epochs", 3));
    for (int g = 0; g < 4; g++) {
        for (int i = 0; i < 50; i++) {
            TU_OK(runlog_writer_add_double(w, "loss", 1.0 / (g * 50 + i + 1)));
            if (i % 10 == 0)
                TU_OK(runlog_writer_add_int(w, "lr_step", g * 50 + i));
            TU_OK(runlog_writer_commit(w));
        }
        TU_OK(runlog_writer_alert(w, "group", "done", RUNLOG_ALERT_WARN));
        TU_OK(runlog_writer_console(w, RUNLOG_STDERR, "x\n", 2));
        TU_OK(runlog_writer_flush(w));
    }
    TU_OK(runlog_writer_blob(blob, w, px, sizeof px));
    char *f = tu_path(dir, "weights.bin");
    tu_write_file(f, "abcdef", 6);
    runlog_artifact *a;
    TU_OK(runlog_artifact_new(&a, "model", "model"));
    TU_OK(runlog_artifact_add_file(a, f, "w/weights.bin"));
    TU_OK(runlog_writer_log_artifact(NULL, w, a));
    runlog_artifact_free(a);
    free(f);
    TU_OK(runlog_writer_summary_double(w, "best", 0.5));
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
}

/* What a separate reader sees: every pass on a fresh reader of its own. */
typedef struct expected {
    tu_records recs;
    char *run_json;
    size_t hist_len;
    tu_str hist;
    void *blob;
    size_t blob_len;
} expected;

static char *run_text(const runlog_run *run)
{
    tu_str s = {0};
    tu_dump_value(&s, runlog_run_identity(run));
    tu_dump_value(&s, runlog_run_config(run));
    tu_dump_value(&s, runlog_run_summary(run));
    tu_dump_value(&s, runlog_run_artifacts(run));
    tu_str_addf(&s, " state=%d rows=%llu", (int)runlog_run_state(run),
                (unsigned long long)runlog_run_rows(run));
    return s.p;
}

static void hist_text(tu_str *s, const runlog_history *h)
{
    for (size_t i = 0; i < runlog_history_length(h); i++) {
        tu_str_addf(s, "%llu:%lld:", (unsigned long long)runlog_history_steps(h)[i],
                    (long long)runlog_history_times(h)[i]);
        tu_dump_value(s, runlog_history_value(h, i));
        tu_str_addf(s, "\n");
    }
}

static void expect(expected *e, const char *path, const runlog_digest *blob)
{
    runlog_reader *r;
    runlog_run *run;
    runlog_history *h;

    memset(e, 0, sizeof *e);
    tu_read_records(&e->recs, path, 0);
    assert_int_equal(e->recs.end_rc, RUNLOG_ITEROVER);
    TU_OK(runlog_reader_open(&r, path, NULL));
    TU_OK(runlog_reader_run(&run, r));
    e->run_json = run_text(run);
    runlog_run_free(run);
    runlog_reader_close(r);
    TU_OK(runlog_reader_open(&r, path, NULL));
    TU_OK(runlog_reader_history(&h, r, "lr_step"));
    e->hist_len = runlog_history_length(h);
    hist_text(&e->hist, h);
    runlog_history_free(h);
    runlog_reader_close(r);
    TU_OK(runlog_reader_open(&r, path, NULL));
    TU_OK(runlog_reader_blob(&e->blob, &e->blob_len, r, blob));
    runlog_reader_close(r);
}

static void expected_free(expected *e)
{
    tu_records_free(&e->recs);
    free(e->run_json);
    tu_str_free(&e->hist);
    runlog_free(e->blob);
}

static void check_record(const expected *e, size_t i, const runlog_record *rec)
{
    tu_str s = {0};
    assert_true(i < e->recs.n);
    tu_dump_record(&s, rec);
    assert_string_equal(s.p, e->recs.dump[i]);
    assert_int_equal(runlog_record_frame_offset(rec), e->recs.frame[i]);
    tu_str_free(&s);
}

/* The run, the history and the blob, on reader r, match what separate
 * readers saw. */
static void side_passes(const expected *e, runlog_reader *r, const runlog_digest *blob)
{
    runlog_run *run;
    runlog_history *h;
    void *bytes;
    size_t len;
    tu_str s = {0};

    TU_OK(runlog_reader_run(&run, r));
    char *t = run_text(run);
    assert_string_equal(t, e->run_json);
    free(t);
    runlog_run_free(run);
    TU_OK(runlog_reader_history(&h, r, "lr_step"));
    hist_text(&s, h);
    assert_int_equal(runlog_history_length(h), e->hist_len);
    assert_string_equal(s.p, e->hist.p);
    tu_str_free(&s);
    runlog_history_free(h);
    TU_OK(runlog_reader_blob(&bytes, &len, r, blob));
    assert_int_equal(len, e->blob_len);
    assert_memory_equal(bytes, e->blob, len);
    runlog_free(bytes);
}

static size_t open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    size_t n = 0;
    struct dirent *de;

    assert_non_null(d);
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

/* Two cursors and runlog_reader_next() alternating on one reader whose path
 * was unlinked right after open, with the run, a history and a blob read in
 * the middle of the passes: every pass gives what separate readers give, and
 * the process holds one descriptor for the file throughout. */
static void test_one_reader_many_passes(void **state)
{
    fixture *fx = *state;
    runlog_digest blob;
    expected e;
    runlog_reader *r;
    runlog_cursor *a, *b;
    const runlog_record *ra, *rb, *rn;

    write_mixed(fx->path, fx->dir, &blob);
    expect(&e, fx->path, &blob);
    assert_true(e.recs.n > 200);

    size_t fds = open_fds();
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    assert_int_equal(unlink(fx->path), 0); /* no pass can reopen it now */
    assert_int_equal(open_fds(), fds + 1);
    TU_OK(runlog_cursor_open(&a, r));
    TU_OK(runlog_cursor_open(&b, r));
    size_t ia = 0, ib = 0, in = 0;
    int rc_a = 0, rc_b = 0, rc_n = 0;
    /* a takes one step, b two, runlog_reader_next three: they drift apart. */
    while (rc_a == 0 || rc_b == 0 || rc_n == 0) {
        if (rc_a == 0 && (rc_a = runlog_cursor_next(a, &ra)) == 0) {
            check_record(&e, ia++, ra);
            if (ia == e.recs.n / 2) {
                side_passes(&e, r, &blob);
                check_record(&e, ia - 1, ra); /* still valid after the side passes */
            }
        }
        for (int k = 0; k < 2 && rc_b == 0; k++)
            if ((rc_b = runlog_cursor_next(b, &rb)) == 0)
                check_record(&e, ib++, rb);
        for (int k = 0; k < 3 && rc_n == 0; k++)
            if ((rc_n = runlog_reader_next(r, &rn)) == 0)
                check_record(&e, in++, rn);
        if (rc_a == 0 && ia > 1)
            check_record(&e, ia - 1, ra); /* the other passes left a's record alone */
        assert_int_equal(open_fds(), fds + 1);
    }
    assert_int_equal(rc_a, RUNLOG_ITEROVER);
    assert_int_equal(rc_b, RUNLOG_ITEROVER);
    assert_int_equal(rc_n, RUNLOG_ITEROVER);
    assert_int_equal(ia, e.recs.n);
    assert_int_equal(ib, e.recs.n);
    assert_int_equal(in, e.recs.n);
    /* After every pass ended, the side passes still work, and a new cursor
     * starts from the first record again. */
    side_passes(&e, r, &blob);
    runlog_cursor_close(a);
    TU_OK(runlog_cursor_open(&a, r));
    TU_OK(runlog_cursor_next(a, &ra));
    check_record(&e, 0, ra);
    runlog_cursor_close(a);
    runlog_cursor_close(b);
    runlog_cursor_close(NULL);
    assert_int_equal(open_fds(), fds + 1);
    runlog_reader_close(r);
    assert_int_equal(open_fds(), fds);
    expected_free(&e);
}

/* A file without an index (the writer still holds it): the history scans,
 * the run reports "running" from the lock seen through the reader's own
 * descriptor, all after the path is gone. */
static void test_unindexed_unlinked(void **state)
{
    fixture *fx = *state;
    tu_clock clock;
    runlog_writer *w = open_writer(fx->path, &clock);
    runlog_reader *r;
    runlog_run *run;
    runlog_history *h;
    runlog_cursor *c;
    const runlog_record *rec;

    for (int i = 0; i < 30; i++) {
        TU_OK(runlog_writer_add_int(w, "i", i));
        TU_OK(runlog_writer_commit(w));
        if (i % 10 == 9)
            TU_OK(runlog_writer_flush(w));
    }
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    assert_int_equal(unlink(fx->path), 0);
    TU_OK(runlog_cursor_open(&c, r));
    TU_OK(runlog_cursor_next(c, &rec)); /* run_start */
    TU_OK(runlog_reader_history(&h, r, "i"));
    assert_int_equal(runlog_history_length(h), 30);
    for (size_t i = 0; i < 30; i++)
        assert_int_equal(runlog_value_int(runlog_history_value(h, i)), (int64_t)i);
    runlog_history_free(h);
    TU_OK(runlog_reader_run(&run, r));
    assert_int_equal(runlog_run_rows(run), 30);
    assert_int_equal(runlog_run_state(run), RUNLOG_STATE_RUNNING);
    runlog_run_free(run);
    size_t n = 1;
    int rc;
    while ((rc = runlog_cursor_next(c, &rec)) == 0)
        n++;
    assert_int_equal(rc, RUNLOG_ITEROVER);
    assert_int_equal(n, 31);
    runlog_cursor_close(c);
    runlog_reader_close(r);
    TU_OK(runlog_writer_close(w));
}

static void test_cursor_null(void **state)
{
    (void)state;
    runlog_cursor *c = (runlog_cursor *)&c;
    const runlog_record *rec = NULL;
    TU_RC(runlog_cursor_open(&c, NULL), RUNLOG_EINVAL);
    assert_ptr_equal(c, (runlog_cursor *)&c);
    TU_RC(runlog_cursor_open(NULL, NULL), RUNLOG_EINVAL);
    TU_RC(runlog_cursor_next(NULL, &rec), RUNLOG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_reader_many_passes, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_unindexed_unlinked, tu_setup, tu_teardown),
        cmocka_unit_test(test_cursor_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
