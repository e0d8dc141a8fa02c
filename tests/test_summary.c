/*
 * test_summary.c — runlog_reader_run_summary() gives what runlog_reader_run()
 * gives (it only leaves the history values undecoded), on clean, crashed,
 * resumed, truncated and damaged files; runlog_reader_writer_alive() tells a
 * live writer from none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void dump_run(tu_str *s, const runlog_run *run)
{
    tu_str_addf(s, "identity ");
    tu_dump_value(s, runlog_run_identity(run));
    tu_str_addf(s, "\nconfig ");
    tu_dump_value(s, runlog_run_config(run));
    tu_str_addf(s, "\nsummary ");
    tu_dump_value(s, runlog_run_summary(run));
    tu_str_addf(s, "\nmetadata ");
    tu_dump_value(s, runlog_run_metadata(run));
    tu_str_addf(s, "\nartifacts ");
    tu_dump_value(s, runlog_run_artifacts(run));
    tu_str_addf(s, "\nstate %d exit %d end %lld rows %llu last %llu resumes %llu damage %llu torn %d\n",
                (int)runlog_run_state(run), runlog_run_exit_code(run), (long long)runlog_run_end_time(run),
                (unsigned long long)runlog_run_rows(run), (unsigned long long)runlog_run_last_step(run),
                (unsigned long long)runlog_run_resumes(run), (unsigned long long)runlog_run_damage_count(run),
                runlog_run_torn(run));
    for (int t = 0; t < 16; t++)
        tu_str_addf(s, "%llu ", (unsigned long long)runlog_run_record_count(run, t));
    tu_str_addf(s, "\nkeys");
    for (size_t i = 0; i < runlog_run_key_count(run); i++)
        tu_str_addf(s, " %s", runlog_run_key(run, i));
    tu_str_addf(s, "\n");
}

/* Both passes over path with flags: the same result code and, on success,
 * the same run. Returns the code. */
static int same_run(const char *path, unsigned flags)
{
    runlog_reader_options ro = RUNLOG_READER_OPTIONS_INIT;
    runlog_reader *r = NULL;
    runlog_run *full = NULL, *light = NULL;
    ro.flags = flags;
    int rc = runlog_reader_open(&r, path, &ro);
    if (rc)
        return rc;
    int rc_full = runlog_reader_run(&full, r);
    int rc_light = runlog_reader_run_summary(&light, r);
    if (rc_full != rc_light)
        fail_msg("%s: runlog_reader_run %d, runlog_reader_run_summary %d (%s)", path, rc_full, rc_light,
                 runlog_error_detail());
    if (rc_full == 0) {
        tu_str a = { 0 }, b = { 0 };
        dump_run(&a, full);
        dump_run(&b, light);
        if (strcmp(a.p, b.p) != 0)
            fail_msg("%s: runs differ\nfull:\n%s\nsummary:\n%s", path, a.p, b.p);
        tu_str_free(&a);
        tu_str_free(&b);
    }
    runlog_run_free(full);
    runlog_run_free(light);
    runlog_reader_close(r);
    return rc_full;
}

/* Many frames; keys that stop early, change type within a batch and across
 * batches, an explicit summary value over an auto one, media-free records
 * of every other kind. */
static void write_varied(const char *path, int finish)
{
    tu_clock clock = { 1700000000000000000LL, 1000 };
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    tu_fixed_options(&o, &clock, 1);
    o.project = "p";
    o.name = "varied";
    o.group = "g";
    o.flush_bytes = 4096;
    runlog_writer *w;
    TU_OK(runlog_writer_open(&w, path, &o));
    TU_OK(runlog_writer_config_json(w, "{\"lr\": 0.01, \"opt\": {\"name\": \"adam\"}}"));
    TU_OK(runlog_writer_metadata_json(w, "{\"host\": \"n1\"}"));
    for (int step = 0; step < 3000; step++) {
        TU_OK(runlog_writer_add_double(w, "loss", 1.0 / (step + 1)));
        if (step < 100)
            TU_OK(runlog_writer_add_int(w, "early", step));
        if (step % 7 == 0)
            TU_OK(runlog_writer_add_string(w, "sparse", step % 2 ? "odd" : "even"));
        if (step % 500 == 499)
            TU_OK(runlog_writer_add_json(w, "mixed", "[1, 2]"));
        else if (step % 3 == 0)
            TU_OK(runlog_writer_add_int(w, "mixed", step));
        else if (step % 3 == 1)
            TU_OK(runlog_writer_add_double(w, "mixed", step + 0.5));
        if (step == 1500) {
            TU_OK(runlog_writer_summary_double(w, "loss", -1.0));
            TU_OK(runlog_writer_config_int(w, "epochs", 3));
            TU_OK(runlog_writer_alert(w, "half", "way", RUNLOG_ALERT_WARN));
            TU_OK(runlog_writer_console(w, RUNLOG_STDOUT, "half\n", 5));
        }
        TU_OK(runlog_writer_commit(w));
        if (step % 250 == 0)
            TU_OK(runlog_writer_flush(w));
    }
    const char *k[] = { "cpu" };
    double v[] = { 0.5 };
    TU_OK(runlog_writer_system(w, k, v, 1));
    if (finish)
        TU_OK(runlog_writer_finish(w, 3));
    TU_OK(runlog_writer_close(w));
}

static void test_same_as_full_read(void **state)
{
    tu_fixture *fx = *state;
    write_varied(fx->path, 1);
    assert_int_equal(same_run(fx->path, RUNLOG_READ_STRICT), 0);
    assert_int_equal(same_run(fx->path, RUNLOG_READ_TOLERANT), 0);

    /* The summary holds the last values, read from the frames that hold them. */
    runlog_reader *r;
    runlog_run *run;
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    TU_OK(runlog_reader_run_summary(&run, r));
    const runlog_value *sum = runlog_run_summary(run);
    assert_int_equal(runlog_value_int(runlog_value_get(sum, "early")), 99);
    TU_ASSERT_SAME_DOUBLE(runlog_value_float(runlog_value_get(sum, "loss")), -1.0);
    assert_int_equal(runlog_value_type(runlog_value_get(sum, "mixed")), RUNLOG_LIST);
    assert_string_equal(runlog_value_string(runlog_value_get(sum, "sparse"), NULL), "even");
    assert_int_equal(runlog_run_state(run), RUNLOG_STATE_FAILED);
    assert_int_equal(runlog_run_rows(run), 3000);
    runlog_run_free(run);
    runlog_reader_close(r);
}

/* A crashed run, then resumed and crashed again: no trailer, two sessions. */
static void test_crashed_and_resumed(void **state)
{
    tu_fixture *fx = *state;
    write_varied(fx->path, 0);
    assert_int_equal(same_run(fx->path, RUNLOG_READ_STRICT), 0);
    runlog_writer *w;
    TU_OK(runlog_writer_open(&w, fx->path, NULL));
    TU_OK(runlog_writer_add_double(w, "late", 1.5));
    TU_OK(runlog_writer_commit(w));
    TU_OK(runlog_writer_flush(w));
    /* While the writer holds the lock the run is running, in both passes. */
    assert_int_equal(same_run(fx->path, RUNLOG_READ_STRICT), 0);
    runlog_reader *r;
    runlog_run *run;
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    assert_int_equal(runlog_reader_writer_alive(r), 1);
    TU_OK(runlog_reader_run_summary(&run, r));
    assert_int_equal(runlog_run_state(run), RUNLOG_STATE_RUNNING);
    runlog_run_free(run);
    TU_OK(runlog_writer_close(w));
    assert_int_equal(runlog_reader_writer_alive(r), 0);
    TU_OK(runlog_reader_run_summary(&run, r));
    assert_int_equal(runlog_run_state(run), RUNLOG_STATE_CRASHED);
    assert_int_equal(runlog_run_resumes(run), 1);
    runlog_run_free(run);
    runlog_reader_close(r);
    assert_int_equal(runlog_reader_writer_alive(NULL), 0);
    assert_int_equal(same_run(fx->path, RUNLOG_READ_STRICT), 0);
}

/* Every prefix of a small file (a step of 7 bytes), tolerant: the same run,
 * torn tails included. */
static void test_every_prefix(void **state)
{
    tu_fixture *fx = *state;
    tu_small sm;
    tu_write_small(fx->path, 4, 20, 1, &sm);
    size_t len;
    unsigned char *bytes = tu_read_file(fx->path, &len);
    char *cut = tu_path(fx->dir, "cut.runlog");
    int torn = 0;
    for (size_t n = 72; n <= len; n += (n + 7 <= len || n == len) ? 7 : len - n) {
        tu_write_file(cut, bytes, n);
        assert_int_equal(same_run(cut, RUNLOG_READ_TOLERANT), 0);
        runlog_reader *r;
        runlog_run *run;
        TU_OK(runlog_reader_open(&r, cut, NULL));
        TU_OK(runlog_reader_run_summary(&run, r));
        torn += runlog_run_torn(run);
        runlog_run_free(run);
        runlog_reader_close(r);
        if (n == len)
            break;
    }
    assert_true(torn > 0);
    free(cut);
    free(bytes);
}

/* Bit flips through the file: the same result code, the same run and the
 * same damage count when tolerant. */
static void test_flipped_bytes(void **state)
{
    tu_fixture *fx = *state;
    write_varied(fx->path, 1);
    size_t len;
    unsigned char *bytes = tu_read_file(fx->path, &len);
    char *bad = tu_path(fx->dir, "bad.runlog");
    uint64_t seed = 14, damaged = 0;
    runlog_reader_options ro = RUNLOG_READER_OPTIONS_INIT;
    ro.flags = RUNLOG_READ_TOLERANT;
    for (int i = 0; i < 60; i++) {
        size_t at = 72 + (size_t)(tu_rand64(&seed) % (len - 72));
        unsigned char bit = (unsigned char)(1u << (tu_rand64(&seed) % 8));
        bytes[at] ^= bit;
        tu_write_file(bad, bytes, len);
        bytes[at] ^= bit;
        (void)same_run(bad, RUNLOG_READ_STRICT);
        assert_int_equal(same_run(bad, RUNLOG_READ_TOLERANT), 0);
        runlog_reader *r;
        runlog_run *run;
        TU_OK(runlog_reader_open(&r, bad, &ro));
        TU_OK(runlog_reader_run_summary(&run, r));
        damaged += runlog_run_damage_count(run);
        runlog_run_free(run);
        runlog_reader_close(r);
    }
    assert_true(damaged > 0);
    free(bad);
    free(bytes);
}

/* A run set opened with RUNLOG_RUNSET_SUMMARY merges as one opened without. */
static void test_runset_summary(void **state)
{
    tu_fixture *fx = *state;
    write_varied(fx->path, 1);
    const char *paths[] = { fx->path };
    runlog_runset_options so = RUNLOG_RUNSET_OPTIONS_INIT;
    runlog_runset *a, *b;
    TU_OK(runlog_runset_open(&a, paths, 1, NULL));
    so.flags = RUNLOG_RUNSET_SUMMARY | RUNLOG_READ_TOLERANT;
    TU_OK(runlog_runset_open(&b, paths, 1, &so));
    tu_str x = { 0 }, y = { 0 };
    tu_dump_value(&x, runlog_runset_summary(a, 0));
    tu_dump_value(&y, runlog_runset_summary(b, 0));
    assert_string_equal(x.p, y.p);
    assert_int_equal(runlog_runset_rows(a, 0), runlog_runset_rows(b, 0));
    tu_str_free(&x);
    tu_str_free(&y);
    runlog_runset_free(a);
    runlog_runset_free(b);
    so.flags = 0x200u;
    TU_RC(runlog_runset_open(&b, paths, 1, &so), RUNLOG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_as_full_read, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_crashed_and_resumed, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_every_prefix, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_flipped_bytes, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_runset_summary, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
