/*
 * test_runset — several files of one run (spec/EXPORTS.md §11): grouping by
 * run id, duplicates by file UUID, the merge order, the merged config,
 * summary, keys and history, and the conflicts that name both files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* A writer with a fixed clock starting at start_s (seconds), a file UUID
 * made of uuid_byte, and the run id and project given. */
typedef struct wfile {
    runlog_writer *w;
    tu_clock clock;
    uint8_t uuid[16];
} wfile;

static void wopen(wfile *f, const char *path, const char *id, const char *project, int64_t start_s,
                  uint8_t uuid_byte)
{
    runlog_writer_options o;
    f->clock.now = start_s * 1000000000LL;
    f->clock.step_ns = 1000;
    tu_fixed_options(&o, &f->clock, 1);
    memset(f->uuid, uuid_byte, sizeof f->uuid);
    f->uuid[6] = 0x40 | (uuid_byte & 0x0f); /* version 4 */
    f->uuid[8] = 0x80 | (uuid_byte & 0x3f);
    o.file_uuid = f->uuid;
    o.run_id = id;
    o.project = project;
    TU_OK(runlog_writer_open(&f->w, path, &o));
}

/* Rows from..to of keys "loss", "seen" and "phase": values depend on the step and
 * on salt only, so two files of one run agree where they overlap. */
static void rows(runlog_writer *w, int from, int to, double salt)
{
    for (int s = from; s <= to; s++) {
        TU_OK(runlog_writer_add_double(w, "loss", salt + 1.0 / (s + 1)));
        TU_OK(runlog_writer_add_int(w, "seen", s * 10));
        TU_OK(runlog_writer_add_string(w, "phase", s % 2 ? "odd" : "even"));
        TU_OK(runlog_writer_commit_step(w, (uint64_t)s));
    }
}

/* One finished file of run id with rows 0..n-1. */
static void write_run(const char *path, const char *id, int64_t start_s, uint8_t uuid_byte, int n)
{
    wfile f;
    wopen(&f, path, id, "p", start_s, uuid_byte);
    TU_OK(runlog_writer_config_int(f.w, "batch", 32));
    rows(f.w, 0, n - 1, 0);
    TU_OK(runlog_writer_finish(f.w, 0));
    TU_OK(runlog_writer_close(f.w));
}

static void copy_file(const char *from, const char *to)
{
    size_t len;
    unsigned char *b = tu_read_file(from, &len);
    tu_write_file(to, b, len);
    free(b);
}

static runlog_runset *open_set(const char *const *paths, size_t n, unsigned flags)
{
    runlog_runset_options o = RUNLOG_RUNSET_OPTIONS_INIT;
    runlog_runset *s = NULL;
    o.flags = flags;
    TU_OK(runlog_runset_open(&s, paths, n, &o));
    assert_non_null(s);
    return s;
}

/* Opening must fail with want; the detail must name both files and what. */
static void expect_conflict(const char *const *paths, size_t n, int want, const char *a, const char *b,
                            const char *what)
{
    runlog_runset *s = (runlog_runset *)&s; /* not written on failure */
    runlog_runset *sentinel = s;
    int rc = runlog_runset_open(&s, paths, n, NULL);
    const char *d = runlog_error_detail();
    if (rc != want)
        fail_msg("runlog_runset_open returned %d (%s), expected %d; detail: %s", rc, runlog_strerror(rc),
                 want, d);
    assert_ptr_equal(s, sentinel);
    if ((a && !strstr(d, a)) || (b && !strstr(d, b)) || (what && !strstr(d, what)))
        fail_msg("detail should name %s, %s and \"%s\": %s", a, b ? b : "-", what ? what : "-", d);
}

static int64_t summary_int(const runlog_value *m, const char *key)
{
    const runlog_value *v = runlog_value_get(m, key);
    assert_non_null(v);
    assert_int_equal(runlog_value_type(v), RUNLOG_INT);
    return runlog_value_int(v);
}

/* ---- duplicates -------------------------------------------------------------------- */

static void test_same_path_twice(void **state)
{
    tu_fixture *fx = *state;
    write_run(fx->path, "twice", 100, 0x11, 5);
    const char *paths[] = { fx->path, fx->path };
    runlog_runset *s = open_set(paths, 2, RUNLOG_READ_STRICT);

    assert_int_equal(runlog_runset_run_count(s), 1);
    assert_int_equal(runlog_runset_file_count(s, 0), 1);
    assert_int_equal(runlog_runset_duplicate_count(s), 1);
    assert_string_equal(runlog_runset_duplicate_path(s, 0), fx->path);
    assert_string_equal(runlog_runset_duplicate_of(s, 0), fx->path);
    assert_null(runlog_runset_duplicate_path(s, 1));
    assert_int_equal(runlog_runset_rows(s, 0), 5);
    assert_int_equal(runlog_runset_resumes(s, 0), 0);
    runlog_history *h = NULL;
    TU_OK(runlog_runset_history(&h, s, 0, "loss"));
    assert_int_equal(runlog_history_length(h), 5);
    runlog_history_free(h);
    runlog_runset_free(s);
}

static void test_byte_copy(void **state)
{
    tu_fixture *fx = *state;
    char *copy = tu_path(fx->dir, "copy.runlog");
    write_run(fx->path, "copied", 100, 0x12, 5);
    copy_file(fx->path, copy);
    const char *paths[] = { copy, fx->path };
    runlog_runset *s = open_set(paths, 2, RUNLOG_READ_STRICT);

    assert_int_equal(runlog_runset_run_count(s), 1);
    assert_int_equal(runlog_runset_file_count(s, 0), 1);
    /* Equal copies: the first given is kept. */
    assert_string_equal(runlog_runset_file_path(s, 0, 0), copy);
    assert_int_equal(runlog_runset_duplicate_count(s), 1);
    assert_string_equal(runlog_runset_duplicate_path(s, 0), fx->path);
    assert_string_equal(runlog_runset_duplicate_of(s, 0), copy);
    assert_int_equal(runlog_runset_rows(s, 0), 5);
    runlog_runset_free(s);
    free(copy);
}

/* A copy taken before the file grew is a prefix of it: the longer is kept,
 * wherever it was given. */
static void test_earlier_copy(void **state)
{
    tu_fixture *fx = *state;
    char *early = tu_path(fx->dir, "early.runlog");
    wfile f;
    wopen(&f, fx->path, "grown", "p", 100, 0x13);
    rows(f.w, 0, 4, 0);
    TU_OK(runlog_writer_close(f.w));
    copy_file(fx->path, early);
    wopen(&f, fx->path, "grown", "p", 200, 0x13);
    rows(f.w, 5, 9, 0);
    TU_OK(runlog_writer_finish(f.w, 0));
    TU_OK(runlog_writer_close(f.w));

    const char *paths[] = { early, fx->path };
    runlog_runset *s = open_set(paths, 2, RUNLOG_READ_STRICT);
    assert_int_equal(runlog_runset_file_count(s, 0), 1);
    assert_string_equal(runlog_runset_file_path(s, 0, 0), fx->path);
    assert_int_equal(runlog_runset_duplicate_count(s), 1);
    assert_string_equal(runlog_runset_duplicate_path(s, 0), early);
    assert_string_equal(runlog_runset_duplicate_of(s, 0), fx->path);
    assert_int_equal(runlog_runset_rows(s, 0), 10);
    assert_int_equal(runlog_runset_state(s, 0), RUNLOG_STATE_FINISHED);
    runlog_runset_free(s);
    free(early);
}

/* ---- one run in two files ---------------------------------------------------------- */

static void test_continued(void **state)
{
    tu_fixture *fx = *state;
    char *a = tu_path(fx->dir, "a.runlog"), *b = tu_path(fx->dir, "b.runlog");
    wfile f;

    /* The first node: steps 0..4, then the job is killed. */
    wopen(&f, a, "cont", "p", 100, 0x21);
    TU_OK(runlog_writer_config_int(f.w, "batch", 32));
    TU_OK(runlog_writer_config_double(f.w, "lr", 0.1));
    TU_OK(runlog_writer_metadata_json(f.w, "{\"host\":\"node-1\",\"rank\":0}"));
    TU_OK(runlog_writer_summary_int(f.w, "best", 1));
    TU_OK(runlog_writer_summary_int(f.w, "first_only", 7));
    rows(f.w, 0, 4, 0);
    TU_OK(runlog_writer_add_int(f.w, "acc", 50));
    TU_OK(runlog_writer_commit_step(f.w, 4)); /* a second row at step 4 */
    TU_OK(runlog_writer_close(f.w));
    /* Requeued: a new file from the checkpoint of step 3, equal values at
     * steps 3 and 4, then a new key. */
    wopen(&f, b, "cont", "p", 200, 0x22);
    TU_OK(runlog_writer_config_int(f.w, "batch", 32));
    TU_OK(runlog_writer_config_string(f.w, "opt", "adam"));
    TU_OK(runlog_writer_metadata_json(f.w, "{\"host\":\"node-2\"}"));
    TU_OK(runlog_writer_summary_int(f.w, "best", 2));
    rows(f.w, 3, 4, 0);
    TU_OK(runlog_writer_add_int(f.w, "acc", 50));
    TU_OK(runlog_writer_commit_step(f.w, 4));
    rows(f.w, 5, 9, 0);
    TU_OK(runlog_writer_add_double(f.w, "lr_now", 0.01));
    TU_OK(runlog_writer_commit_step(f.w, 9));
    TU_OK(runlog_writer_finish(f.w, 3));
    TU_OK(runlog_writer_close(f.w));

    const char *paths[] = { b, a }; /* given newest first: merged oldest first */
    runlog_runset *s = open_set(paths, 2, RUNLOG_READ_STRICT);
    assert_int_equal(runlog_runset_run_count(s), 1);
    assert_string_equal(runlog_runset_run_id(s, 0), "cont");
    assert_int_equal(runlog_runset_file_count(s, 0), 2);
    assert_string_equal(runlog_runset_file_path(s, 0, 0), a);
    assert_string_equal(runlog_runset_file_path(s, 0, 1), b);
    assert_non_null(runlog_runset_file_reader(s, 0, 1));
    assert_int_equal(runlog_run_rows(runlog_runset_file_run(s, 0, 0)), 6);
    assert_null(runlog_runset_file_path(s, 0, 2));
    assert_int_equal(runlog_runset_duplicate_count(s), 0);

    /* config: the union, in order of first appearance */
    const runlog_value *c = runlog_runset_config(s, 0);
    assert_int_equal(runlog_value_count(c), 3);
    assert_string_equal(runlog_value_key(c, 0, NULL), "batch");
    assert_string_equal(runlog_value_key(c, 1, NULL), "lr");
    assert_string_equal(runlog_value_key(c, 2, NULL), "opt");
    assert_int_equal(summary_int(c, "batch"), 32);
    assert_string_equal(runlog_value_string(runlog_value_get(c, "opt"), NULL), "adam");
    /* summary and metadata: later files win, earlier keys stay */
    const runlog_value *sm = runlog_runset_summary(s, 0);
    assert_int_equal(summary_int(sm, "best"), 2);
    assert_int_equal(summary_int(sm, "first_only"), 7);
    TU_ASSERT_SAME_DOUBLE(runlog_value_float(runlog_value_get(sm, "loss")), 1.0 / 10);
    const runlog_value *md = runlog_runset_metadata(s, 0);
    assert_string_equal(runlog_value_string(runlog_value_get(md, "host"), NULL), "node-2");
    assert_int_equal(summary_int(md, "rank"), 0);
    /* keys: each once, in order of first appearance */
    assert_int_equal(runlog_runset_key_count(s, 0), 5);
    assert_string_equal(runlog_runset_key(s, 0, 0), "loss");
    assert_string_equal(runlog_runset_key(s, 0, 1), "seen");
    assert_string_equal(runlog_runset_key(s, 0, 2), "phase");
    assert_string_equal(runlog_runset_key(s, 0, 3), "acc");
    assert_string_equal(runlog_runset_key(s, 0, 4), "lr_now");
    assert_null(runlog_runset_key(s, 0, 5));
    /* facts: the last file's state, rows counted per file */
    assert_int_equal(runlog_runset_state(s, 0), RUNLOG_STATE_FAILED);
    assert_int_equal(runlog_runset_exit_code(s, 0), 3);
    assert_int_equal(runlog_runset_rows(s, 0), 6 + 9);
    assert_int_equal(runlog_runset_last_step(s, 0), 9);
    assert_int_equal(runlog_runset_resumes(s, 0), 1);
    int64_t t0 = runlog_runset_start_time(s, 0);
    assert_true(t0 >= 100 * 1000000000LL && t0 < 101 * 1000000000LL); /* the first file's */
    assert_true(runlog_runset_end_time(s, 0) >= 200 * 1000000000LL);
    assert_string_equal(runlog_value_string(runlog_value_get(runlog_runset_identity(s, 0), "id"), NULL),
                        "cont");

    /* history: by step, the overlap once, from the first file */
    runlog_history *h = NULL;
    TU_OK(runlog_runset_history(&h, s, 0, "loss"));
    assert_int_equal(runlog_history_length(h), 10);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(runlog_history_steps(h)[i], i);
        TU_ASSERT_SAME_DOUBLE(runlog_history_values(h)[i], 1.0 / (double)(i + 1));
        assert_int_equal(runlog_history_file(h, i), i < 5 ? 0 : 1);
        assert_int_equal(runlog_history_times(h)[i] < 200 * 1000000000LL, i < 5);
    }
    runlog_history_free(h);
    TU_OK(runlog_runset_history(&h, s, 0, "seen"));
    assert_int_equal(runlog_history_length(h), 10);
    assert_int_equal(runlog_value_int(runlog_history_value(h, 9)), 90);
    runlog_history_free(h);
    TU_OK(runlog_runset_history(&h, s, 0, "phase"));
    assert_int_equal(runlog_history_length(h), 10);
    for (size_t i = 0; i < 10; i++)
        assert_string_equal(runlog_value_string(runlog_history_value(h, i), NULL), i % 2 ? "odd" : "even");
    runlog_history_free(h);
    TU_OK(runlog_runset_history(&h, s, 0, "acc"));
    assert_int_equal(runlog_history_length(h), 1);
    assert_int_equal(runlog_history_steps(h)[0], 4);
    assert_int_equal(runlog_history_file(h, 0), 0);
    runlog_history_free(h);
    /* a key of the second file only: its entries say so */
    TU_OK(runlog_runset_history(&h, s, 0, "lr_now"));
    assert_int_equal(runlog_history_length(h), 1);
    assert_int_equal(runlog_history_file(h, 0), 1);
    runlog_history_free(h);
    h = (runlog_history *)&h;
    TU_RC(runlog_runset_history(&h, s, 0, "nope"), RUNLOG_ENOTFOUND);
    assert_ptr_equal(h, (runlog_history *)&h);
    TU_RC(runlog_runset_history(&h, s, 1, "loss"), RUNLOG_EINVAL);
    runlog_runset_free(s);
    free(a);
    free(b);
}

/* ---- conflicts ------------------------------------------------------------------- */

/* Four ranks of one job that were given one run id: each file holds steps
 * 0..19, with values of its own. */
static void test_per_rank(void **state)
{
    tu_fixture *fx = *state;
    char *p[4];
    for (int rank = 0; rank < 4; rank++) {
        char name[32];
        wfile f;
        snprintf(name, sizeof name, "rank%d.runlog", rank);
        p[rank] = tu_path(fx->dir, name);
        wopen(&f, p[rank], "ddp", "p", 100, (uint8_t)(0x30 + rank));
        TU_OK(runlog_writer_config_int(f.w, "batch", 32));
        rows(f.w, 0, 19, rank * 100.0);
        TU_OK(runlog_writer_finish(f.w, 0));
        TU_OK(runlog_writer_close(f.w));
    }
    const char *paths[] = { p[0], p[1], p[2], p[3] };
    expect_conflict(paths, 4, RUNLOG_EINVAL, p[0], p[1], "key 'loss' at step 0 differs (steps 0..19 and 0..19)");
    /* Any two of them. */
    const char *two[] = { p[3], p[2] };
    expect_conflict(two, 2, RUNLOG_EINVAL, p[2], p[3], "not one run");
    for (int rank = 0; rank < 4; rank++)
        free(p[rank]);
}

static void test_config_conflict(void **state)
{
    tu_fixture *fx = *state;
    char *a = tu_path(fx->dir, "a.runlog"), *b = tu_path(fx->dir, "b.runlog");
    wfile f;
    wopen(&f, a, "cfg", "p", 100, 0x41);
    TU_OK(runlog_writer_config_double(f.w, "lr", 0.1));
    rows(f.w, 0, 2, 0);
    TU_OK(runlog_writer_close(f.w));
    wopen(&f, b, "cfg", "p", 200, 0x42);
    TU_OK(runlog_writer_config_double(f.w, "lr", 0.2));
    rows(f.w, 3, 5, 0);
    TU_OK(runlog_writer_close(f.w));
    const char *paths[] = { a, b };
    expect_conflict(paths, 2, RUNLOG_EINVAL, a, b, "config key 'lr' differs");
    free(a);
    free(b);
}

static void test_identity_conflict(void **state)
{
    tu_fixture *fx = *state;
    char *a = tu_path(fx->dir, "a.runlog"), *b = tu_path(fx->dir, "b.runlog");
    wfile f;
    wopen(&f, a, "ident", "vision", 100, 0x51);
    rows(f.w, 0, 2, 0);
    TU_OK(runlog_writer_close(f.w));
    wopen(&f, b, "ident", "speech", 200, 0x52);
    rows(f.w, 3, 5, 0);
    TU_OK(runlog_writer_close(f.w));
    const char *paths[] = { b, a };
    expect_conflict(paths, 2, RUNLOG_EINVAL, a, b, "identity differs (project)");
    free(a);
    free(b);
}

/* One artifact version (name, vN) with two manifests. */
static void test_artifact_conflict(void **state)
{
    tu_fixture *fx = *state;
    char *a = tu_path(fx->dir, "a.runlog"), *b = tu_path(fx->dir, "b.runlog");
    char *model = tu_path(fx->dir, "model.bin");
    const char *paths[] = { a, b };
    wfile f;
    uint32_t version = 9;
    for (int i = 0; i < 2; i++) {
        tu_write_file(model, i ? "weights-b" : "weights-a", 9);
        wopen(&f, i ? b : a, "art", "p", 100 + 100 * i, (uint8_t)(0x91 + i));
        rows(f.w, 3 * i, 3 * i + 2, 0);
        TU_OK(runlog_writer_log_model(&version, f.w, model, "model", NULL, 0));
        assert_int_equal(version, 0);
        TU_OK(runlog_writer_close(f.w));
    }
    expect_conflict(paths, 2, RUNLOG_EINVAL, a, b, "artifact model:v0 has another manifest");
    /* The same bytes: one version, no conflict. */
    tu_write_file(model, "weights-a", 9);
    remove(b);
    wopen(&f, b, "art", "p", 300, 0x93);
    TU_OK(runlog_writer_log_model(&version, f.w, model, "model", NULL, 0));
    TU_OK(runlog_writer_close(f.w));
    runlog_runset *s = open_set(paths, 2, RUNLOG_READ_STRICT);
    assert_int_equal(runlog_runset_file_count(s, 0), 2);
    runlog_runset_free(s);
    free(a);
    free(b);
    free(model);
}

/* ---- several runs ---------------------------------------------------------------- */

static void test_separate_runs(void **state)
{
    tu_fixture *fx = *state;
    char *x = tu_path(fx->dir, "x.runlog"), *y = tu_path(fx->dir, "y.runlog");
    char *z = tu_path(fx->dir, "z.runlog"), *x2 = tu_path(fx->dir, "x2.runlog");
    write_run(x, "zeta", 300, 0x61, 3);
    write_run(y, "alpha", 100, 0x62, 4);
    write_run(z, "mid", 200, 0x63, 5);
    /* zeta again, continued: steps 3..5 in a file started later */
    wfile f;
    wopen(&f, x2, "zeta", "p", 400, 0x64);
    TU_OK(runlog_writer_config_int(f.w, "batch", 32));
    rows(f.w, 3, 5, 0);
    TU_OK(runlog_writer_finish(f.w, 0));
    TU_OK(runlog_writer_close(f.w));

    const char *paths[] = { x, y, z, x2 };
    runlog_runset *s = open_set(paths, 4, RUNLOG_READ_STRICT);
    assert_int_equal(runlog_runset_run_count(s), 3);
    assert_string_equal(runlog_runset_run_id(s, 0), "zeta");
    assert_string_equal(runlog_runset_run_id(s, 1), "alpha");
    assert_string_equal(runlog_runset_run_id(s, 2), "mid");
    assert_null(runlog_runset_run_id(s, 3));
    assert_int_equal(runlog_runset_file_count(s, 0), 2);
    assert_int_equal(runlog_runset_file_count(s, 1), 1);
    assert_int_equal(runlog_runset_file_count(s, 2), 1);
    assert_string_equal(runlog_runset_file_path(s, 1, 0), y);
    assert_string_equal(runlog_runset_file_path(s, 2, 0), z);
    assert_int_equal(runlog_runset_rows(s, 0), 6);
    assert_int_equal(runlog_runset_rows(s, 1), 4);
    assert_int_equal(runlog_runset_rows(s, 2), 5);
    runlog_history *h = NULL;
    TU_OK(runlog_runset_history(&h, s, 0, "seen"));
    assert_int_equal(runlog_history_length(h), 6);
    assert_int_equal(runlog_history_file(h, 5), 1);
    runlog_history_free(h);
    TU_OK(runlog_runset_history(&h, s, 2, "seen"));
    assert_int_equal(runlog_history_length(h), 5);
    runlog_history_free(h);
    runlog_runset_free(s);
    free(x);
    free(y);
    free(z);
    free(x2);
}

/* Files started at one moment: the one whose steps come first, first. */
static void test_order_by_steps(void **state)
{
    tu_fixture *fx = *state;
    char *a = tu_path(fx->dir, "a.runlog"), *b = tu_path(fx->dir, "b.runlog");
    wfile f;
    wopen(&f, a, "same-start", "p", 100, 0x71);
    rows(f.w, 10, 12, 0);
    TU_OK(runlog_writer_close(f.w));
    wopen(&f, b, "same-start", "p", 100, 0x72);
    rows(f.w, 0, 2, 0);
    TU_OK(runlog_writer_close(f.w));
    const char *paths[] = { a, b };
    runlog_runset *s = open_set(paths, 2, RUNLOG_READ_STRICT);
    assert_string_equal(runlog_runset_file_path(s, 0, 0), b);
    assert_string_equal(runlog_runset_file_path(s, 0, 1), a);
    runlog_runset_free(s);
    free(a);
    free(b);
}

/* ---- damage and arguments ------------------------------------------------------------ */

static void test_damaged(void **state)
{
    tu_fixture *fx = *state;
    tu_small sm;
    tu_write_small(fx->path, 4, 5, 1, &sm);
    /* A byte in the middle of the second group's frame. */
    size_t len;
    unsigned char *bytes = tu_read_file(fx->path, &len);
    uint64_t at = (sm.bounds[1] + sm.bounds[2]) / 2;
    bytes[at] ^= 0x40;
    tu_write_file(fx->path, bytes, len);
    free(bytes);

    const char *paths[] = { fx->path };
    runlog_runset *s = (runlog_runset *)&s, *sentinel = s;
    int rc = runlog_runset_open(&s, paths, 1, NULL);
    assert_true(rc == RUNLOG_ECHECKSUM || rc == RUNLOG_ECORRUPT);
    assert_ptr_equal(s, sentinel);
    assert_non_null(strstr(runlog_error_detail(), fx->path));

    s = open_set(paths, 1, RUNLOG_READ_TOLERANT);
    assert_int_equal(runlog_runset_run_count(s), 1);
    uint64_t rows_left = runlog_runset_rows(s, 0);
    assert_true(rows_left > 0 && rows_left < 20);
    runlog_history *h = NULL;
    TU_OK(runlog_runset_history(&h, s, 0, "loss"));
    assert_int_equal(runlog_history_length(h), rows_left);
    runlog_history_free(h);
    runlog_runset_free(s);
}

static void test_arguments(void **state)
{
    tu_fixture *fx = *state;
    runlog_runset *s = NULL;
    runlog_runset_options o = RUNLOG_RUNSET_OPTIONS_INIT;
    write_run(fx->path, "args", 100, 0x81, 1);
    const char *paths[] = { fx->path, NULL };

    TU_RC(runlog_runset_open(NULL, paths, 1, NULL), RUNLOG_EINVAL);
    TU_RC(runlog_runset_open(&s, NULL, 1, NULL), RUNLOG_EINVAL);
    TU_RC(runlog_runset_open(&s, paths, 0, NULL), RUNLOG_EINVAL);
    TU_RC(runlog_runset_open(&s, paths, 2, NULL), RUNLOG_EINVAL);
    o.flags = RUNLOG_READ_FOLLOW;
    TU_RC(runlog_runset_open(&s, paths, 1, &o), RUNLOG_EINVAL);
    o.flags = 0;
    o.version = 99;
    TU_RC(runlog_runset_open(&s, paths, 1, &o), RUNLOG_EINVAL);
    assert_null(s);
    char *missing = tu_path(fx->dir, "missing.runlog");
    const char *bad[] = { fx->path, missing };
    TU_RC(runlog_runset_open(&s, bad, 2, NULL), RUNLOG_EIO);
    assert_null(s);
    free(missing);
    /* NULL and out of range are harmless */
    runlog_runset_free(NULL);
    assert_int_equal(runlog_runset_run_count(NULL), 0);
    assert_null(runlog_runset_config(NULL, 0));
    assert_int_equal(runlog_history_file(NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_path_twice, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_byte_copy, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_earlier_copy, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_continued, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_per_rank, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_config_conflict, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_identity_conflict, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_artifact_conflict, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_separate_runs, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_order_by_steps, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_damaged, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_arguments, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests_name("runset", tests, NULL, NULL);
}
