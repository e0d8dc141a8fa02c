/*
 * test_commit — the history commit semantics of the writer, and argument
 * checking: automatic and explicit steps, a step going back (refused, the
 * pending values kept), equal steps, a key added twice, empty rows, calls
 * after finish, bad keys and bad JSON (refused, nothing written), NULLs,
 * rows and samples the encoder could not store (refused at the call).
 * Every scenario runs with the writer thread and in synchronous mode.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef tu_fixture fixture;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* History rows of a file as "step: key=value key=value" lines. */
static char *rows_of(const char *path)
{
    runlog_reader *r = NULL;
    TU_OK(runlog_reader_open(&r, path, NULL));
    tu_str s = {0};
    tu_str_add(&s, "", 0);
    const runlog_record *rec;
    int rc;
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        if (runlog_record_type_of(rec) != RUNLOG_RECORD_HISTORY)
            continue;
        tu_str_addf(&s, "%llu:", (unsigned long long)runlog_record_step(rec));
        /* the order of fields within a row is not part of the contract */
        size_t n = runlog_record_field_count(rec);
        char **f = calloc(n + 1, sizeof *f);
        assert_non_null(f);
        for (size_t i = 0; i < n; i++) {
            tu_str one = {0};
            tu_str_addf(&one, " %s=", runlog_record_field_key(rec, i));
            tu_dump_value(&one, runlog_record_field_value(rec, i));
            f[i] = one.p;
        }
        qsort(f, n, sizeof *f, cmp_str);
        for (size_t i = 0; i < n; i++) {
            tu_str_addf(&s, "%s", f[i]);
            free(f[i]);
        }
        free(f);
        tu_str_addf(&s, "\n");
    }
    TU_RC(rc, RUNLOG_ITEROVER);
    runlog_reader_close(r);
    return s.p;
}

static runlog_writer *open_writer(fixture *fx, tu_clock *clock, int synchronous)
{
    runlog_writer_options o;
    tu_fixed_options(&o, clock, synchronous);
    runlog_writer *w = NULL;
    remove(fx->path);
    TU_OK(runlog_writer_open(&w, fx->path, &o));
    return w;
}

static void steps_scenario(fixture *fx, int synchronous)
{
    tu_clock clock = {1000, 1};
    runlog_writer *w = open_writer(fx, &clock, synchronous);
    assert_int_equal(runlog_writer_next_step(w), 0);
    for (int i = 0; i < 3; i++) {
        TU_OK(runlog_writer_add_int(w, "i", i));
        TU_OK(runlog_writer_commit(w));
    }
    assert_int_equal(runlog_writer_next_step(w), 3);
    TU_OK(runlog_writer_add_int(w, "i", 10));
    TU_OK(runlog_writer_commit_step(w, 10));
    assert_int_equal(runlog_writer_next_step(w), 11);
    TU_OK(runlog_writer_add_int(w, "i", 11));
    TU_OK(runlog_writer_commit(w));
    /* going back: refused, nothing written, values stay pending */
    TU_OK(runlog_writer_add_int(w, "back", 1));
    TU_RC(runlog_writer_commit_step(w, 5), RUNLOG_ESTATE);
    TU_RC(runlog_writer_commit_step(w, 0), RUNLOG_ESTATE);
    assert_int_equal(runlog_writer_next_step(w), 12);
    TU_OK(runlog_writer_add_int(w, "i", 12));
    TU_OK(runlog_writer_commit(w));
    /* an equal step is another row at the same step */
    TU_OK(runlog_writer_add_int(w, "i", 120));
    TU_OK(runlog_writer_commit_step(w, 12));
    assert_int_equal(runlog_writer_next_step(w), 13);
    /* a key added twice keeps the last value */
    TU_OK(runlog_writer_add_double(w, "x", 1.0));
    TU_OK(runlog_writer_add_string(w, "x", "second"));
    TU_OK(runlog_writer_add_double(w, "y", 2.0));
    TU_OK(runlog_writer_add_double(w, "x", 3.0));
    TU_OK(runlog_writer_commit(w));
    /* an empty row advances the step */
    TU_OK(runlog_writer_commit(w));
    TU_OK(runlog_writer_add_bool(w, "last", 1));
    TU_OK(runlog_writer_commit_step(w, 100));
    TU_OK(runlog_writer_finish(w, 0));
    /* after finish: history calls refused */
    TU_RC(runlog_writer_add_double(w, "late", 1.0), RUNLOG_ESTATE);
    TU_RC(runlog_writer_commit(w), RUNLOG_ESTATE);
    TU_RC(runlog_writer_commit_step(w, 1000), RUNLOG_ESTATE);
    TU_OK(runlog_writer_close(w));

    char *rows = rows_of(fx->path);
    const char *want = "0: i=i0\n"
                       "1: i=i1\n"
                       "2: i=i2\n"
                       "10: i=i10\n"
                       "11: i=i11\n"
                       "12: back=i1 i=i12\n"
                       "12: i=i120\n"
                       "13: x=f4008000000000000 y=f4000000000000000\n"
                       "14:\n"
                       "100: last=b1\n";
    if (strcmp(rows, want) != 0)
        fail_msg("rows:\n%s\nexpected:\n%s", rows, want);
    free(rows);
}

static void test_steps_threaded(void **state)
{
    steps_scenario(*state, 0);
}

static void test_steps_sync(void **state)
{
    steps_scenario(*state, 1);
}

static void bad_input_scenario(fixture *fx, int synchronous)
{
    tu_clock clock = {1000, 1};
    runlog_writer *w = open_writer(fx, &clock, synchronous);
    char key[RUNLOG_MAX_KEY + 2];
    memset(key, 'k', sizeof key);
    key[RUNLOG_MAX_KEY + 1] = '\0';
    /* over the limit by one byte */
    TU_RC(runlog_writer_add_double(w, key, 1.0), RUNLOG_EINVAL);
    TU_RC(runlog_writer_config_int(w, key, 1), RUNLOG_EINVAL);
    TU_RC(runlog_writer_summary_int(w, key, 1), RUNLOG_EINVAL);
    /* exactly at the limit: allowed */
    key[RUNLOG_MAX_KEY] = '\0';
    TU_OK(runlog_writer_add_int(w, key, 7));
    /* invalid UTF-8: a lone continuation byte, a truncated sequence, an
     * overlong encoding of '/', a surrogate */
    const char *bad_utf8[] = {"a\x80", "\xe6\x90", "\xc0\xaf", "\xed\xa0\x80"};
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof *bad_utf8; i++) {
        TU_RC(runlog_writer_add_double(w, bad_utf8[i], 1.0), RUNLOG_EINVAL);
        TU_RC(runlog_writer_add_string(w, "s", bad_utf8[i]), RUNLOG_EINVAL);
        TU_RC(runlog_writer_config_double(w, bad_utf8[i], 1.0), RUNLOG_EINVAL);
        TU_RC(runlog_writer_summary_double(w, bad_utf8[i], 1.0), RUNLOG_EINVAL);
    }
    /* NULL arguments */
    TU_RC(runlog_writer_add_double(NULL, "a", 1.0), RUNLOG_EINVAL);
    TU_RC(runlog_writer_add_double(w, NULL, 1.0), RUNLOG_EINVAL);
    TU_RC(runlog_writer_add_string(w, "a", NULL), RUNLOG_EINVAL);
    TU_RC(runlog_writer_add_json(w, "a", NULL), RUNLOG_EINVAL);
    TU_RC(runlog_writer_config_string(w, "a", NULL), RUNLOG_EINVAL);
    TU_RC(runlog_writer_config_json(w, NULL), RUNLOG_EINVAL);
    TU_RC(runlog_writer_summary_json(w, "a", NULL), RUNLOG_EINVAL);
    TU_RC(runlog_writer_alert(w, NULL, "text", RUNLOG_ALERT_INFO), RUNLOG_EINVAL);
    TU_RC(runlog_writer_console(w, RUNLOG_STDOUT, NULL, 3), RUNLOG_EINVAL);
    TU_RC(runlog_writer_commit(NULL), RUNLOG_EINVAL);
    TU_RC(runlog_writer_flush(NULL), RUNLOG_EINVAL);
    /* bad JSON */
    TU_RC(runlog_writer_config_json(w, "{\"lr\": 0.1,"), RUNLOG_EINVAL);
    assert_non_null(strstr(runlog_error_detail(), "line"));
    TU_RC(runlog_writer_config_json(w, "[1, 2]"), RUNLOG_EINVAL);
    TU_RC(runlog_writer_config_json(w, "{\"a\": 1} trailing"), RUNLOG_EINVAL);
    TU_RC(runlog_writer_add_json(w, "j", "{\"a\": }"), RUNLOG_EINVAL);
    TU_RC(runlog_writer_summary_json(w, "j", "nul"), RUNLOG_EINVAL);
    TU_OK(runlog_writer_config_json(w, "{\"ok\": true}"));
    TU_OK(runlog_writer_commit(w));
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));

    /* nothing refused was written */
    runlog_reader *r = NULL;
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    runlog_run *run = NULL;
    TU_OK(runlog_reader_run(&run, r));
    assert_int_equal(runlog_run_rows(run), 1);
    assert_int_equal(runlog_run_key_count(run), 1);
    assert_string_equal(runlog_run_key(run, 0), key);
    const runlog_value *cfg = runlog_run_config(run);
    assert_int_equal(runlog_value_count(cfg), 1);
    assert_int_equal(runlog_value_bool(runlog_value_get(cfg, "ok")), 1);
    /* the summary holds the one history key and nothing explicit */
    assert_int_equal(runlog_value_count(runlog_run_summary(run)), 1);
    assert_int_equal(runlog_run_record_count(run, RUNLOG_RECORD_ALERT), 0);
    assert_int_equal(runlog_run_record_count(run, RUNLOG_RECORD_CONSOLE), 0);
    runlog_run_free(run);
    runlog_reader_close(r);
    char *rows = rows_of(fx->path);
    tu_str want = {0};
    tu_str_addf(&want, "0: %s=i7\n", key);
    assert_string_equal(rows, want.p);
    tu_str_free(&want);
    free(rows);
}

static void test_bad_input_threaded(void **state)
{
    bad_input_scenario(*state, 0);
}

static void test_bad_input_sync(void **state)
{
    bad_input_scenario(*state, 1);
}

/* Rows the encoder would refuse are refused at the call, and what was
 * accepted before stays: the run start, the config and the earlier rows are
 * in the file after finish (issue 17 item 5). */
static void limits_scenario(fixture *fx, int synchronous)
{
    tu_clock clock = {1000, 1};
    runlog_writer *w = open_writer(fx, &clock, synchronous);
    TU_OK(runlog_writer_config_int(w, "seed", 7));
    TU_OK(runlog_writer_add_int(w, "i", 0));
    TU_OK(runlog_writer_commit(w));

    /* Rows of 20 000 new keys each: one batch of four would need 80 000
     * column blocks, more than a frame holds (65 536); the batch is sealed
     * before that instead of failing at finish with everything in it. */
    char key[32];
    for (int r = 0; r < 4; r++) {
        for (int k = 0; k < 20000; k++) {
            snprintf(key, sizeof key, "w%d.%d", r, k);
            TU_OK(runlog_writer_add_double(w, key, k));
        }
        TU_OK(runlog_writer_commit(w));
    }

    /* More keys than a row may hold: the extra key is refused, the row
     * keeps the others and can still be committed. */
    for (uint32_t k = 0; k < RUNLOG_MAX_ROW_KEYS; k++) {
        snprintf(key, sizeof key, "w0.%u", k);
        TU_OK(runlog_writer_add_int(w, key, 1));
    }
    TU_RC(runlog_writer_add_int(w, "one.more", 1), RUNLOG_ETOOLARGE);
    assert_non_null(strstr(runlog_error_detail(), "RUNLOG_MAX_ROW_KEYS"));
    TU_OK(runlog_writer_add_int(w, "w0.0", 2)); /* replacing a value is fine */
    TU_OK(runlog_writer_commit(w));

    /* System samples: too many keys, or a key twice. */
    const char **sys = malloc((RUNLOG_MAX_ROW_KEYS + 1) * sizeof *sys);
    double *vals = calloc(RUNLOG_MAX_ROW_KEYS + 1, sizeof *vals);
    assert_true(sys && vals);
    for (uint32_t k = 0; k <= RUNLOG_MAX_ROW_KEYS; k++)
        sys[k] = "cpu";
    TU_RC(runlog_writer_system(w, sys, vals, RUNLOG_MAX_ROW_KEYS + 1), RUNLOG_ETOOLARGE);
    TU_RC(runlog_writer_system(w, sys, vals, 2), RUNLOG_EINVAL);
    assert_non_null(strstr(runlog_error_detail(), "twice"));
    TU_OK(runlog_writer_system(w, sys, vals, 1));
    free(sys);
    free(vals);

    /* Step 2^64 - 1 leaves no automatic step after it: refused. */
    TU_OK(runlog_writer_add_int(w, "i", 1));
    TU_RC(runlog_writer_commit_step(w, UINT64_MAX), RUNLOG_EINVAL);
    assert_non_null(strstr(runlog_error_detail(), "RUNLOG_MAX_STEP"));
    TU_OK(runlog_writer_commit_step(w, RUNLOG_MAX_STEP));
    assert_true(runlog_writer_next_step(w) == UINT64_MAX);
    TU_OK(runlog_writer_add_int(w, "i", 2));
    TU_RC(runlog_writer_commit(w), RUNLOG_EINVAL);
    assert_non_null(strstr(runlog_error_detail(), "no automatic step"));
    TU_OK(runlog_writer_commit_step(w, RUNLOG_MAX_STEP)); /* the pending value, same step */
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));

    runlog_reader *r = NULL;
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    const runlog_record *rec;
    int rc, starts = 0, configs = 0, finishes = 0;
    uint64_t rows = 0, fields = 0, last = 0;
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        runlog_record_type t = runlog_record_type_of(rec);
        starts += t == RUNLOG_RECORD_RUN_START;
        configs += t == RUNLOG_RECORD_CONFIG;
        finishes += t == RUNLOG_RECORD_FINISH;
        if (t == RUNLOG_RECORD_HISTORY) {
            rows++;
            fields += runlog_record_field_count(rec);
            last = runlog_record_step(rec);
        }
    }
    TU_RC(rc, RUNLOG_ITEROVER);
    runlog_reader_close(r);
    assert_int_equal(starts, 1);
    assert_int_equal(configs, 1);
    assert_int_equal(finishes, 1);
    assert_int_equal(rows, 1 + 4 + 1 + 2);
    assert_int_equal(fields, 1 + 80000 + RUNLOG_MAX_ROW_KEYS + 1 + 1);
    assert_true(last == RUNLOG_MAX_STEP);
}

static void test_limits_threaded(void **state)
{
    limits_scenario(*state, 0);
}

static void test_limits_sync(void **state)
{
    limits_scenario(*state, 1);
}

static void test_open_arguments(void **state)
{
    fixture *fx = *state;
    runlog_writer *w = NULL;
    TU_RC(runlog_writer_open(&w, NULL, NULL), RUNLOG_EINVAL);
    assert_null(w);
    TU_RC(runlog_writer_open(NULL, fx->path, NULL), RUNLOG_EINVAL);
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    o.version = 999;
    TU_RC(runlog_writer_open(&w, fx->path, &o), RUNLOG_EINVAL);
    assert_null(w);
    /* a directory that does not exist */
    char *missing = tu_path(fx->dir, "no/such/dir.runlog");
    int rc = runlog_writer_open(&w, missing, NULL);
    assert_int_equal(rc, RUNLOG_EIO);
    assert_null(w);
    assert_non_null(strstr(runlog_error_detail(), "dir.runlog"));
    free(missing);
    runlog_writer_close(NULL); /* accepts NULL */
    runlog_reader *r = NULL;
    TU_RC(runlog_reader_open(&r, NULL, NULL), RUNLOG_EINVAL);
    assert_null(r);
    runlog_reader_close(NULL);
}

/* Every error code has its own text; unknown codes and types still get one. */
static void test_names(void **state)
{
    (void)state;
    for (int a = RUNLOG_ITEROVER; a <= 0; a++) {
        assert_non_null(runlog_strerror(a));
        assert_true(runlog_strerror(a)[0] != '\0');
        for (int b = RUNLOG_ITEROVER; b < a; b++)
            assert_string_not_equal(runlog_strerror(a), runlog_strerror(b));
    }
    assert_non_null(runlog_strerror(-1000));
    assert_non_null(runlog_strerror(5));
    assert_string_equal(runlog_record_type_name(RUNLOG_RECORD_HISTORY), "history");
    assert_string_equal(runlog_record_type_name(RUNLOG_RECORD_RUN_START), "run_start");
    assert_string_equal(runlog_record_type_name(999), "unknown");
    assert_non_null(runlog_error_detail());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_steps_threaded, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_steps_sync, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_threaded, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_sync, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_limits_threaded, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_limits_sync, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_open_arguments, tu_setup, tu_teardown),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
