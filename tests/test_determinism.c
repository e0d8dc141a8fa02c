/*
 * test_determinism — the same calls with a fixed clock, salt, file UUID and
 * run id give byte-identical files, with the writer thread and without it
 * (docs/CONVENTIONS.md, "Comments and tests"). The frames are cut by size only
 * (RUNLOG_NO_TIMED_FLUSH), so the thread's timing must not show in the file.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    char *dir;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->dir = tu_tmpdir();
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    tu_tmpdir_free(fx->dir);
    free(fx);
    return 0;
}

/* A run touching every writer call; several frames cut by size, explicit
 * flushes, and a pending value left at close (no finish) when `crash`. */
static void write_run(const char *path, int synchronous, int crash)
{
    tu_clock clock = {1700000000000000000LL, 1000};
    runlog_writer_options o;
    tu_fixed_options(&o, &clock, synchronous);
    static const char *const tags[] = {"a", "b"};
    o.tags = tags;
    o.n_tags = 2;
    o.group = "g";
    o.flush_bytes = 4096;
    runlog_writer *w = NULL;
    remove(path);
    TU_OK(runlog_writer_open(&w, path, &o));
    TU_OK(runlog_writer_config_json(w, "{\"lr\": 0.1, \"layers\": [1, 2, {\"x\": null}]}"));
    TU_OK(runlog_writer_config_string(w, "arch", "mlp"));
    uint64_t rnd = 1;
    for (int i = 0; i < 3000; i++) {
        TU_OK(runlog_writer_add_double(w, "loss", tu_bits2d(tu_rand64(&rnd) >> 2)));
        TU_OK(runlog_writer_add_int(w, "i", i));
        if (i % 7 == 0)
            TU_OK(runlog_writer_add_string(w, "note", "seven"));
        if (i % 100 == 0)
            TU_OK(runlog_writer_add_json(w, "j", "{\"k\": [1, 2.5]}"));
        TU_OK(runlog_writer_commit(w));
        if (i == 1000)
            TU_OK(runlog_writer_flush(w));
        if (i == 1500) {
            TU_OK(runlog_writer_alert(w, "half", "way", RUNLOG_ALERT_INFO));
            TU_OK(runlog_writer_console(w, RUNLOG_STDERR, "warn\n", 5));
            TU_OK(runlog_writer_summary_int(w, "best_i", i));
        }
    }
    TU_OK(runlog_writer_commit_step(w, 5000));
    if (crash) {
        TU_OK(runlog_writer_add_double(w, "pending", 1.0));
    } else {
        TU_OK(runlog_writer_finish(w, 0));
    }
    TU_OK(runlog_writer_close(w));
}

static void assert_same_files(const char *a, const char *b)
{
    size_t na, nb;
    unsigned char *pa = tu_read_file(a, &na), *pb = tu_read_file(b, &nb);
    size_t n = na < nb ? na : nb, i = 0;
    while (i < n && pa[i] == pb[i])
        i++;
    if (na != nb || i != n)
        fail_msg("%s (%zu bytes) and %s (%zu bytes) differ first at byte %zu", a, na, b, nb, i);
    free(pa);
    free(pb);
}

static void twice(fixture *fx, int synchronous, int crash)
{
    char *a = tu_path(fx->dir, "a.runlog"), *b = tu_path(fx->dir, "b.runlog");
    write_run(a, synchronous, crash);
    write_run(b, synchronous, crash);
    assert_same_files(a, b);
    /* and the file holds what was written: a check that the run is real */
    runlog_report *rep = NULL;
    TU_OK(runlog_verify(&rep, a));
    assert_int_equal(runlog_report_intact(rep), 1);
    assert_true(runlog_report_frames(rep) >= 3);
    runlog_report_free(rep);
    free(a);
    free(b);
}

static void test_sync_twice(void **state)
{
    twice(*state, 1, 0);
}

static void test_threaded_twice(void **state)
{
    twice(*state, 0, 0);
}

static void test_closed_unfinished_twice(void **state)
{
    twice(*state, 0, 1);
    twice(*state, 1, 1);
}

/* The writer thread only moves work off the caller: it writes the same
 * bytes as the synchronous writer. */
static void test_sync_equals_threaded(void **state)
{
    fixture *fx = *state;
    char *a = tu_path(fx->dir, "sync.runlog"), *b = tu_path(fx->dir, "thread.runlog");
    write_run(a, 1, 0);
    write_run(b, 0, 0);
    assert_same_files(a, b);
    free(a);
    free(b);
}

/* The options that make files equal are the ones that make them differ:
 * another salt gives another file (the test above would pass trivially if
 * the writer ignored its inputs). */
static void test_salt_matters(void **state)
{
    fixture *fx = *state;
    char *a = tu_path(fx->dir, "a.runlog"), *b = tu_path(fx->dir, "b.runlog");
    tu_clock c1 = {5, 1}, c2 = {5, 1};
    runlog_writer_options o1, o2;
    tu_fixed_options(&o1, &c1, 1);
    tu_fixed_options(&o2, &c2, 1);
    o2.salt = 0x1111;
    runlog_writer *w = NULL;
    remove(a);
    remove(b);
    TU_OK(runlog_writer_open(&w, a, &o1));
    TU_OK(runlog_writer_close(w));
    TU_OK(runlog_writer_open(&w, b, &o2));
    TU_OK(runlog_writer_close(w));
    size_t na, nb;
    unsigned char *pa = tu_read_file(a, &na), *pb = tu_read_file(b, &nb);
    assert_true(na != nb || memcmp(pa, pb, na) != 0);
    free(pa);
    free(pb);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_twice),
        cmocka_unit_test(test_threaded_twice),
        cmocka_unit_test(test_closed_unfinished_twice),
        cmocka_unit_test(test_sync_equals_threaded),
        cmocka_unit_test(test_salt_matters),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
