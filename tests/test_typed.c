/*
 * test_typed — one open reader serving many passes (cursors, the run, a
 * key's history, blobs) without reopening its path; and the typed
 * accessors (alert, console, image, table, artifact) on what the writer
 * writes and on the forms spec/FORMAT.md forbids, which they refuse.
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


/* ---- crafted record bodies ----------------------------------------------- */

/* One entry of a crafted CBOR map: 't' text (s, or n bytes of s when n),
 * 'i' int, 'b' n bytes of s, 'z' null, 'l' a list of one text s. */
typedef struct kv {
    const char *k;
    char kind;
    const char *s;
    int64_t i;
    size_t n;
} kv;

static void put_kv(rl_buf *b, const kv *e, size_t n)
{
    assert_int_equal(rl_cbor_map(b, n), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rl_cbor_text(b, e[i].k, strlen(e[i].k)), 0);
        switch (e[i].kind) {
        case 't': assert_int_equal(rl_cbor_text(b, e[i].s, e[i].n ? e[i].n : strlen(e[i].s)), 0); break;
        case 'i': assert_int_equal(rl_cbor_int(b, e[i].i), 0); break;
        case 'b': assert_int_equal(rl_cbor_bytes(b, e[i].s, e[i].n), 0); break;
        case 'z': assert_int_equal(rl_cbor_null(b), 0); break;
        case 'l':
            assert_int_equal(rl_cbor_array(b, 1), 0);
            assert_int_equal(rl_cbor_text(b, e[i].s, strlen(e[i].s)), 0);
            break;
        default: fail();
        }
    }
}

/* Appends a record of wire type `type` whose body is the map e[n]. */
static void craft(runlog_writer *w, uint8_t type, const kv *e, size_t n)
{
    rl_buf b = {0};
    put_kv(&b, e, n);
    TU_OK(rl_writer_record(w, type, &b));
    rl_buf_free(&b);
}

/* Reads every record of path of one type, calling fn(rec, i, ctx) on the
 * i-th of them. */
typedef void (*rec_fn)(const runlog_record *rec, size_t i, void *ctx);
static size_t each_record(const char *path, int type, rec_fn fn, void *ctx)
{
    runlog_reader *r;
    runlog_cursor *c;
    const runlog_record *rec;
    size_t n = 0;
    int rc;

    TU_OK(runlog_reader_open(&r, path, NULL));
    TU_OK(runlog_cursor_open(&c, r));
    while ((rc = runlog_cursor_next(c, &rec)) == 0)
        if ((int)runlog_record_type_of(rec) == type)
            fn(rec, n++, ctx);
    assert_int_equal(rc, RUNLOG_ITEROVER);
    runlog_cursor_close(c);
    runlog_reader_close(r);
    return n;
}

/* The detail of a refusal names the file and a byte offset, and says what. */
static void assert_refused(int rc, const char *path, const char *what)
{
    const char *d = runlog_error_detail();
    if (rc != RUNLOG_ECORRUPT || !strstr(d, path) || !strstr(d, ": byte ") || !strstr(d, what))
        fail_msg("got %d (%s), detail \"%s\"; wanted ECORRUPT naming %s, a byte offset and \"%s\"", rc,
                 runlog_strerror(rc), d, path, what);
}

/* ---- alert and console ----------------------------------------------------- */

static void check_written_alert(const runlog_record *rec, size_t i, void *ctx)
{
    static const char *const titles[] = { "a", "b", "c" }, *const texts[] = { "", "two", "three" };
    const char *title, *text;
    size_t tl, xl;
    runlog_alert_level level;
    (void)ctx;
    TU_OK(runlog_record_alert(rec, &title, &tl, &text, &xl, &level));
    assert_true(i < 3);
    assert_string_equal(title, titles[i]);
    assert_int_equal(tl, 1);
    assert_string_equal(text, texts[i]);
    assert_int_equal(xl, strlen(texts[i]));
    assert_int_equal(level, (runlog_alert_level)i);
    TU_OK(runlog_record_alert(rec, NULL, NULL, NULL, NULL, NULL));
    runlog_stream st = 0;
    TU_RC(runlog_record_console(rec, &st, NULL, NULL), RUNLOG_EINVAL); /* not a console record */
    assert_int_equal(st, 0);
}

static const unsigned char console_bytes[] = { 'o', 'k', 0, 0xff, 0xc3, '\n' };

static void check_written_console(const runlog_record *rec, size_t i, void *ctx)
{
    runlog_stream st;
    const void *data;
    size_t len;
    (void)ctx;
    TU_OK(runlog_record_console(rec, &st, &data, &len));
    assert_int_equal(st, i == 0 ? RUNLOG_STDOUT : RUNLOG_STDERR);
    assert_int_equal(len, sizeof console_bytes);
    assert_memory_equal(data, console_bytes, len);
    TU_RC(runlog_record_alert(rec, NULL, NULL, NULL, NULL, NULL), RUNLOG_EINVAL);
}

static void test_alert_console_written(void **state)
{
    fixture *fx = *state;
    tu_clock clock;
    runlog_writer *w = open_writer(fx->path, &clock);

    TU_OK(runlog_writer_alert(w, "a", NULL, RUNLOG_ALERT_INFO));
    TU_OK(runlog_writer_alert(w, "b", "two", RUNLOG_ALERT_WARN));
    TU_OK(runlog_writer_alert(w, "c", "three", RUNLOG_ALERT_ERROR));
    TU_OK(runlog_writer_console(w, RUNLOG_STDOUT, console_bytes, sizeof console_bytes));
    TU_OK(runlog_writer_console(w, RUNLOG_STDERR, console_bytes, sizeof console_bytes));
    TU_OK(runlog_writer_close(w));
    assert_int_equal(each_record(fx->path, RUNLOG_RECORD_ALERT, check_written_alert, NULL), 3);
    assert_int_equal(each_record(fx->path, RUNLOG_RECORD_CONSOLE, check_written_console, NULL), 2);
    TU_RC(runlog_record_alert(NULL, NULL, NULL, NULL, NULL, NULL), RUNLOG_EINVAL);
    TU_RC(runlog_record_console(NULL, NULL, NULL, NULL), RUNLOG_EINVAL);
}

/* Each crafted alert or console body and the word its refusal must say. */
typedef struct bad_body {
    uint8_t type;
    kv e[4];
    size_t n;
    const char *what; /* NULL: a valid body (the control) */
} bad_body;

#define T(k, v) { k, 't', v, 0, 0 }
#define I(k, v) { k, 'i', NULL, v, 0 }
#define B(k, v, n) { k, 'b', v, 0, n }
#define Z(k) { k, 'z', NULL, 0, 0 }
static const bad_body bad_bodies[] = {
    { RL_REC_ALERT, { T("title", "ok"), T("text", ""), T("level", "ERROR") }, 3, NULL },
    { RL_REC_ALERT, { T("title", "x"), T("text", ""), I("level", 2) }, 3, "level" },
    { RL_REC_ALERT, { T("title", "x"), T("text", ""), T("level", "warn") }, 3, "level" },
    { RL_REC_ALERT, { T("title", "x"), T("text", "") }, 2, "level" },
    { RL_REC_ALERT, { { "title", 't', "x", 0, 1 }, T("text", ""), { "level", 't', "INFO\0x", 0, 6 } }, 3, "level" },
    { RL_REC_ALERT, { Z("title"), T("text", ""), T("level", "INFO") }, 3, "title" },
    { RL_REC_ALERT, { T("title", "x"), Z("text"), T("level", "INFO") }, 3, "text" },
    { RL_REC_ALERT, { T("title", "x"), T("level", "INFO") }, 2, "text" },
    { RL_REC_CONSOLE, { T("stream", "stderr"), B("data", "ab", 2) }, 2, NULL },
    { RL_REC_CONSOLE, { I("stream", 2), B("data", "ab", 2) }, 2, "stream" },
    { RL_REC_CONSOLE, { T("stream", "STDERR"), B("data", "ab", 2) }, 2, "stream" },
    { RL_REC_CONSOLE, { B("data", "ab", 2) }, 1, "stream" },
    { RL_REC_CONSOLE, { T("stream", "stdout"), T("data", "ab") }, 2, "data" },
    { RL_REC_CONSOLE, { T("stream", "stdout"), T("text", "ab") }, 2, "data" },
    { RL_REC_CONSOLE, { T("stream", "stdout"), B("bytes", "ab", 2) }, 2, "data" },
};
#define NBAD (sizeof bad_bodies / sizeof bad_bodies[0])

typedef struct bad_ctx {
    const char *path;
    size_t seen;
} bad_ctx;

static void check_bad_body(const runlog_record *rec, size_t i, void *ctx)
{
    bad_ctx *bc = ctx;
    const bad_body *b = &bad_bodies[bc->seen++];
    runlog_alert_level level = (runlog_alert_level)77;
    runlog_stream stream = (runlog_stream)77;
    const void *data = NULL;
    int rc;
    (void)i;
    if (b->type == RL_REC_ALERT) {
        assert_int_equal(runlog_record_type_of(rec), RUNLOG_RECORD_ALERT);
        rc = runlog_record_alert(rec, NULL, NULL, NULL, NULL, &level);
    } else {
        assert_int_equal(runlog_record_type_of(rec), RUNLOG_RECORD_CONSOLE);
        rc = runlog_record_console(rec, &stream, &data, NULL);
    }
    if (!b->what) {
        TU_OK(rc);
        assert_true(level == RUNLOG_ALERT_ERROR || stream == RUNLOG_STDERR);
        return;
    }
    assert_refused(rc, bc->path, b->what);
    assert_int_equal(level, 77); /* nothing written on failure */
    assert_int_equal(stream, 77);
    assert_null(data);
}

static void any_record(const runlog_record *rec, size_t i, void *ctx)
{
    int t = runlog_record_type_of(rec);
    (void)i;
    if (t == RUNLOG_RECORD_ALERT || t == RUNLOG_RECORD_CONSOLE)
        check_bad_body(rec, 0, ctx);
}

static void test_alert_console_forbidden(void **state)
{
    fixture *fx = *state;
    tu_clock clock;
    runlog_writer *w = open_writer(fx->path, &clock);

    for (size_t i = 0; i < NBAD; i++)
        craft(w, bad_bodies[i].type, bad_bodies[i].e, bad_bodies[i].n);
    TU_OK(runlog_writer_close(w));
    bad_ctx bc = { fx->path, 0 };
    each_record(fx->path, 0, NULL, NULL); /* the file reads: the records are only odd */
    runlog_reader *r;
    runlog_cursor *c;
    const runlog_record *rec;
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    TU_OK(runlog_cursor_open(&c, r));
    while (runlog_cursor_next(c, &rec) == 0)
        any_record(rec, 0, &bc);
    runlog_cursor_close(c);
    runlog_reader_close(r);
    assert_int_equal(bc.seen, NBAD);
}

/* ---- config, summary, metadata, partial and finish entries of the wrong type -- */

/* spec/FORMAT.md §5.2 "Malformed entries": a `set` that is not a map sets
 * nothing (a list used to be read as a map and crash the reader and a
 * resuming writer), and a finish without an int exit_code does not end the
 * run (it used to read as exit code 0, "finished"). Both passes of the run
 * agree. */
static void check_odd_run(const char *path)
{
    runlog_reader *r;
    runlog_run *run;

    TU_OK(runlog_reader_open(&r, path, NULL));
    for (int light = 0; light < 2; light++) {
        TU_OK(light ? runlog_reader_run_summary(&run, r) : runlog_reader_run(&run, r));
        assert_int_equal(runlog_value_count(runlog_run_config(run)), 1);
        assert_non_null(runlog_value_get(runlog_run_config(run), "ok"));
        assert_int_equal(runlog_value_count(runlog_run_summary(run)), 0);
        assert_int_equal(runlog_value_count(runlog_run_metadata(run)), 0);
        assert_int_equal(runlog_run_state(run), RUNLOG_STATE_CRASHED);
        assert_int_equal(runlog_run_record_count(run, RUNLOG_RECORD_FINISH), 2);
        runlog_run_free(run);
    }
    runlog_reader_close(r);
}

static void test_odd_entries(void **state)
{
    fixture *fx = *state;
    tu_clock clock;
    runlog_writer *w = open_writer(fx->path, &clock);
    const kv list_set[] = { I("t", 5), { "set", 'l', "a", 0, 0 } };
    const kv int_set[] = { I("t", 6), I("set", 7) };
    const kv ok_set[] = { I("t", 6), { "set", 'z', NULL, 0, 0 } };
    const kv text_code[] = { I("t", 8), T("exit_code", "0"), T("state", "finished") };
    const kv no_code[] = { I("t", 9), T("state", "finished") };

    TU_OK(runlog_writer_config_int(w, "ok", 1));
    craft(w, RL_REC_CONFIG, list_set, 2);
    craft(w, RL_REC_SUMMARY, int_set, 2);
    craft(w, RL_REC_SUMMARY, ok_set, 2);
    craft(w, RL_REC_METADATA, list_set, 2);
    craft(w, RL_REC_FINISH, text_code, 3);
    craft(w, RL_REC_FINISH, no_code, 2);
    craft(w, RL_REC_PARTIAL, list_set, 2);
    TU_OK(runlog_writer_close(w));
    check_odd_run(fx->path);
    /* A resuming writer restores the last partial record: nothing here. */
    w = open_writer(fx->path, &clock);
    TU_OK(runlog_writer_close(w));
}

/* An alias record without an unsigned version names no version: it takes
 * no alias (it took "latest" from every version, as version -1). */
static void test_alias_without_version(void **state)
{
    fixture *fx = *state;
    tu_clock clock;
    runlog_writer *w = open_writer(fx->path, &clock);
    runlog_artifact *a;
    runlog_reader *r;
    runlog_run *run;
    const kv no_version[] = { I("t", 5), T("name", "model"), { "aliases", 'l', "latest", 0, 0 } };
    const kv text_version[] = { I("t", 6), T("name", "model"), T("version", "1"), { "aliases", 'l', "latest", 0, 0 } };

    TU_OK(runlog_artifact_new(&a, "model", "model"));
    TU_OK(runlog_artifact_add_reference(a, "s3://bucket/w.bin", "w.bin", 3, NULL));
    TU_OK(runlog_writer_log_artifact(NULL, w, a));
    runlog_artifact_free(a);
    craft(w, RL_REC_ALIAS, no_version, 3);
    craft(w, RL_REC_ALIAS, text_version, 4);
    TU_OK(runlog_writer_close(w));
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    TU_OK(runlog_reader_run(&run, r));
    const runlog_value *arts = runlog_run_artifacts(run);
    assert_int_equal(runlog_value_count(arts), 1);
    const runlog_value *al = runlog_value_get(runlog_value_item(arts, 0), "aliases");
    assert_int_equal(runlog_value_count(al), 1);
    assert_string_equal(runlog_value_string(runlog_value_item(al, 0), NULL), "latest");
    runlog_run_free(run);
    runlog_reader_close(r);
}

/* Two chunks of one blob at offset 0 (a hostile file): the first in file
 * order is used (spec/FORMAT.md §12.1), here the whole blob; the second, a
 * 1-byte prefix, is skipped as a repeat. With the prefix first, the blob
 * would be incomplete (no chunk at offset 1). */
static void test_chunks_same_offset(void **state)
{
    fixture *fx = *state;
    tu_clock clock;
    runlog_writer *w = open_writer(fx->path, &clock);
    static const char bytes[] = "abcdef";
    runlog_digest d;
    runlog_reader *r;
    void *got;
    size_t len;

    rl_digest(d.bytes, bytes, 6);
    TU_OK(rl_writer_blob_chunk(w, d.bytes, 0, 6, bytes, 6, 0));
    TU_OK(rl_writer_blob_chunk(w, d.bytes, 0, 6, bytes, 1, 0));
    TU_OK(rl_writer_blob_chunk(w, d.bytes, 0, 6, bytes, 1, 0));
    TU_OK(runlog_writer_close(w));
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    TU_OK(runlog_reader_blob(&got, &len, r, &d));
    assert_int_equal(len, 6);
    assert_memory_equal(got, bytes, 6);
    free(got);
    runlog_reader_close(r);
}

/* ---- images ---------------------------------------------------------------- */

/* A 1x1 RGB PNG (the one tests/test_media.c uses). */
static const uint8_t png_1x1[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00,
    0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0xf8, 0xdf, 0xc0, 0x00, 0x00, 0x04, 0x01, 0x01, 0x80, 0xc5, 0x2a, 0x18,
    0x5d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

typedef struct img_ctx {
    runlog_reader *r;
    uint8_t px[2 * 3 * 4];
    size_t images;
} img_ctx;

static void check_images(const runlog_record *rec, size_t i, void *ctx)
{
    img_ctx *ic = ctx;
    (void)i;
    for (size_t f = 0; f < runlog_record_field_count(rec); f++) {
        const char *key = runlog_record_field_key(rec, f);
        const runlog_value *v = runlog_record_field_value(rec, f);
        runlog_image_info info = RUNLOG_IMAGE_INFO_INIT;
        void *bytes;
        size_t len;
        if (strcmp(key, "n") == 0) {
            TU_RC(runlog_value_image(&info, v), RUNLOG_ECORRUPT); /* an int is no image */
            continue;
        }
        TU_OK(runlog_value_image(&info, v));
        TU_OK(runlog_reader_image(&bytes, &len, ic->r, v));
        assert_int_equal(len, info.size);
        if (strcmp(key, "raw") == 0) {
            assert_int_equal(info.format, RUNLOG_IMAGE_RAW);
            assert_int_equal(info.height, 2);
            assert_int_equal(info.width, 3);
            assert_int_equal(info.channels, 4);
            assert_int_equal(info.size, 24);
            assert_string_equal(info.caption, "rgba");
            assert_int_equal(info.caption_len, 4);
            assert_memory_equal(bytes, ic->px, 24);
        } else {
            assert_string_equal(key, "png");
            assert_int_equal(info.format, RUNLOG_IMAGE_PNG);
            assert_int_equal(info.height, 1);
            assert_int_equal(info.width, 1);
            assert_int_equal(info.channels, 3);
            assert_null(info.caption);
            assert_int_equal(len, sizeof png_1x1);
            assert_memory_equal(bytes, png_1x1, len);
        }
        runlog_digest d;
        TU_OK(runlog_value_digest(&d, v));
        assert_memory_equal(d.bytes, info.digest.bytes, 16);
        runlog_free(bytes);
        ic->images++;
    }
}

/* Decodes a crafted CBOR map into a value (arena a). */
static const runlog_value *crafted_value(rl_arena *a, const kv *e, size_t n)
{
    rl_buf b = {0};
    runlog_value *v;
    const char *why;
    put_kv(&b, e, n);
    rl_cur c = rl_cur_make(b.p, b.len);
    assert_int_equal(rl_cbor_decode(&c, a, &v, &why), 0);
    rl_buf_free(&b);
    return v;
}

static void test_image_typed(void **state)
{
    fixture *fx = *state;
    tu_clock clock;
    runlog_writer *w = open_writer(fx->path, &clock);
    img_ctx ic = {0};

    for (size_t i = 0; i < sizeof ic.px; i++)
        ic.px[i] = (uint8_t)(i * 11);
    TU_OK(runlog_writer_add_image(w, "raw", ic.px, 2, 3, 4, RUNLOG_PIXELS_U8, "rgba"));
    TU_OK(runlog_writer_add_image_encoded(w, "png", png_1x1, sizeof png_1x1, NULL));
    TU_OK(runlog_writer_add_int(w, "n", 1));
    TU_OK(runlog_writer_commit(w));
    runlog_digest d12;
    TU_OK(runlog_writer_blob(&d12, w, ic.px, 12));
    TU_OK(runlog_writer_close(w));
    TU_OK(runlog_reader_open(&ic.r, fx->path, NULL));
    assert_int_equal(each_record(fx->path, RUNLOG_RECORD_HISTORY, check_images, &ic), 1);
    assert_int_equal(ic.images, 2);

    /* Maps the spec does not allow, each refused with the reason. */
    static const char dg[16] = "0123456789abcde";
    struct {
        kv e[8];
        size_t n;
        const char *what;
    } bad[] = {
        { { T("_type", "image"), B("digest", dg, 16), T("format", "raw"), I("width", 1), I("height", 1),
            I("channels", 2), I("size", 2) }, 7, "channels" },
        { { T("_type", "image"), B("digest", dg, 16), T("format", "raw"), I("width", 1), I("height", 1),
            I("channels", 5), I("size", 5) }, 7, "channels" },
        { { T("_type", "image"), B("digest", dg, 16), T("format", "png"), I("width", 1), I("height", 1),
            I("channels", 0), I("size", 5) }, 7, "channels" },
        { { T("_type", "image"), B("digest", dg, 16), T("format", "raw"), I("width", 0), I("height", 1),
            I("channels", 1), I("size", 0) }, 7, "height or width" },
        { { T("_type", "image"), B("digest", dg, 16), T("format", "png"), I("width", 1LL << 32), I("height", 1),
            I("channels", 1), I("size", 9) }, 7, "height or width" },
        { { T("_type", "image"), B("digest", dg, 16), T("format", "raw"), I("width", 2), I("height", 2),
            I("channels", 1), I("size", 5) }, 7, "height x width x channels" },
        /* 2^31 x 2^31 x 4 wraps to 0 in 64 bits */
        { { T("_type", "image"), B("digest", dg, 16), T("format", "raw"), I("width", 1LL << 31),
            I("height", 1LL << 31), I("channels", 4), I("size", 0) }, 7, "height x width x channels" },
        { { T("_type", "image"), B("digest", dg, 16), T("format", "gif"), I("width", 1), I("height", 1),
            I("channels", 1), I("size", 1) }, 7, "format" },
        { { T("_type", "image"), B("digest", dg, 15), T("format", "raw"), I("width", 1), I("height", 1),
            I("channels", 1), I("size", 1) }, 7, "digest" },
        { { T("_type", "video"), B("digest", dg, 16), T("format", "raw"), I("width", 1), I("height", 1),
            I("channels", 1), I("size", 1) }, 7, "not an image" },
        { { T("_type", "image"), B("digest", dg, 16), T("format", "raw"), T("width", "1"), I("height", 1),
            I("channels", 1), I("size", 1) }, 7, "unsigned integer" },
        { { T("_type", "image"), B("digest", dg, 16), T("format", "raw"), I("width", 1), I("height", 1),
            I("channels", 1), I("size", 1), I("caption", 3) }, 8, "caption" },
    };
    rl_arena a = {0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const runlog_value *v = crafted_value(&a, bad[i].e, bad[i].n);
        runlog_image_info info = RUNLOG_IMAGE_INFO_INIT;
        void *bytes = NULL;
        size_t len = 0;
        int rc = runlog_value_image(&info, v);
        if (rc != RUNLOG_ECORRUPT || !strstr(runlog_error_detail(), bad[i].what))
            fail_msg("case %zu: %d \"%s\", wanted \"%s\"", i, rc, runlog_error_detail(), bad[i].what);
        assert_int_equal(info.width, 0);
        TU_RC(runlog_reader_image(&bytes, &len, ic.r, v), RUNLOG_ECORRUPT);
        assert_null(bytes);
    }
    /* A consistent map (1 x 1 x 3 = 3 bytes) naming a 12-byte blob. */
    kv lie[] = { T("_type", "image"), B("digest", (const char *)d12.bytes, 16), T("format", "raw"), I("width", 1),
                 I("height", 1), I("channels", 3), I("size", 3) };
    const runlog_value *v = crafted_value(&a, lie, 7);
    runlog_image_info info = RUNLOG_IMAGE_INFO_INIT;
    void *bytes = NULL;
    size_t len = 0;
    TU_OK(runlog_value_image(&info, v));
    TU_RC(runlog_reader_image(&bytes, &len, ic.r, v), RUNLOG_ECORRUPT);
    assert_non_null(strstr(runlog_error_detail(), "the blob holds 12"));
    assert_null(bytes);
    info.version = 99;
    TU_RC(runlog_value_image(&info, v), RUNLOG_EINVAL);
    rl_arena_reset(&a);
    runlog_reader_close(ic.r);
}

/* ---- tables ---------------------------------------------------------------- */

typedef struct table_ctx {
    runlog_reader *r;
    int seen;
} table_ctx;

static void check_table(const runlog_record *rec, size_t i, void *ctx)
{
    table_ctx *tc = ctx;
    static const char *const names[] = { "i", "f", "s", "b", "img", "v" };
    runlog_digest d;
    runlog_doc *doc;
    size_t ncols, nrows;
    (void)i;
    TU_OK(runlog_value_digest(&d, runlog_record_field_value(rec, 0)));
    TU_OK(runlog_reader_table(&doc, tc->r, &d));
    TU_OK(runlog_doc_table(doc, &ncols, &nrows));
    assert_int_equal(ncols, 6);
    assert_int_equal(nrows, 2);
    for (size_t c = 0; c < 6; c++) {
        const char *name;
        size_t nl;
        runlog_column_type t;
        TU_OK(runlog_doc_table_column(doc, c, &name, &nl, &t));
        assert_string_equal(name, names[c]);
        assert_int_equal(nl, strlen(names[c]));
        assert_int_equal(t, (runlog_column_type)c);
    }
    TU_RC(runlog_doc_table_column(doc, 6, NULL, NULL, NULL), RUNLOG_ENOTFOUND);
    assert_int_equal(runlog_value_int(runlog_doc_table_cell(doc, 1, 0)), 7);
    assert_int_equal(runlog_value_type(runlog_doc_table_cell(doc, 0, 0)), RUNLOG_NULL);
    TU_ASSERT_SAME_DOUBLE(runlog_value_float(runlog_doc_table_cell(doc, 0, 1)), 0.25);
    assert_string_equal(runlog_value_string(runlog_doc_table_cell(doc, 1, 2), NULL), "two");
    assert_int_equal(runlog_value_bool(runlog_doc_table_cell(doc, 0, 3)), 1);
    runlog_image_info info = RUNLOG_IMAGE_INFO_INIT;
    TU_OK(runlog_value_image(&info, runlog_doc_table_cell(doc, 0, 4)));
    assert_int_equal(info.channels, 1);
    assert_int_equal(info.size, 4);
    void *px;
    size_t len;
    TU_OK(runlog_reader_image(&px, &len, tc->r, runlog_doc_table_cell(doc, 0, 4)));
    assert_int_equal(len, 4);
    assert_memory_equal(px, "\1\2\3\4", 4);
    runlog_free(px);
    assert_int_equal(runlog_value_count(runlog_doc_table_cell(doc, 1, 5)), 2);
    assert_null(runlog_doc_table_cell(doc, 2, 0));
    assert_null(runlog_doc_table_cell(doc, 0, 6));
    runlog_doc_free(doc);
    tc->seen++;
}

static void test_table_typed(void **state)
{
    fixture *fx = *state;
    tu_clock clock;
    runlog_writer *w = open_writer(fx->path, &clock);
    static const char *const names[] = { "i", "f", "s", "b", "img", "v" };
    static const runlog_column_type types[] = { RUNLOG_COLUMN_INT, RUNLOG_COLUMN_FLOAT, RUNLOG_COLUMN_STRING,
                                                RUNLOG_COLUMN_BOOL, RUNLOG_COLUMN_IMAGE, RUNLOG_COLUMN_VALUE };
    runlog_table *t;

    TU_OK(runlog_table_new(&t, w, names, types, 6));
    TU_OK(runlog_table_null(t));
    TU_OK(runlog_table_float(t, 0.25));
    TU_OK(runlog_table_string(t, "one"));
    TU_OK(runlog_table_bool(t, 1));
    TU_OK(runlog_table_image(t, "\1\2\3\4", 2, 2, 1, RUNLOG_PIXELS_U8, NULL));
    TU_OK(runlog_table_json(t, "{\"a\":1}"));
    TU_OK(runlog_table_end_row(t));
    TU_OK(runlog_table_int(t, 7));
    TU_OK(runlog_table_float(t, 1.5));
    TU_OK(runlog_table_string(t, "two"));
    TU_OK(runlog_table_bool(t, 0));
    TU_OK(runlog_table_null(t));
    TU_OK(runlog_table_json(t, "[1,2]"));
    TU_OK(runlog_table_end_row(t));
    TU_OK(runlog_writer_add_table(w, "tbl", t));
    TU_OK(runlog_writer_commit(w));
    runlog_table_free(t);
    TU_OK(runlog_writer_close(w));
    table_ctx tc = {0};
    TU_OK(runlog_reader_open(&tc.r, fx->path, NULL));
    assert_int_equal(each_record(fx->path, RUNLOG_RECORD_HISTORY, check_table, &tc), 1);
    assert_int_equal(tc.seen, 1);
    TU_RC(runlog_doc_table(NULL, NULL, NULL), RUNLOG_EINVAL);
    assert_null(runlog_doc_table_cell(NULL, 0, 0));
    runlog_reader_close(tc.r);
}

/* ---- artifacts -------------------------------------------------------------- */

static void check_written_artifact(const runlog_record *rec, size_t i, void *ctx)
{
    const char *name, *type;
    uint32_t version;
    const runlog_value *aliases;
    size_t n;
    (void)i;
    (void)ctx;
    TU_OK(runlog_record_artifact(rec, &name, &type, &version, &aliases, &n));
    assert_string_equal(name, "data");
    assert_string_equal(type, "dataset");
    assert_int_equal(version, 0);
    assert_int_equal(runlog_value_count(aliases), 2);
    assert_string_equal(runlog_value_string(runlog_value_item(aliases, 0), NULL), "best");
    assert_string_equal(runlog_value_string(runlog_value_item(aliases, 1), NULL), "latest");
    assert_int_equal(n, 3);
    runlog_artifact_entry_info e[3];
    for (size_t k = 0; k < 3; k++) {
        runlog_artifact_entry_info init = RUNLOG_ARTIFACT_ENTRY_INFO_INIT;
        e[k] = init;
        TU_OK(runlog_record_artifact_entry(&e[k], rec, k));
    }
    assert_string_equal(e[0].path, "a/one.txt");
    assert_int_equal(e[0].size, 3);
    assert_true(e[0].has_digest);
    assert_null(e[0].ref);
    assert_string_equal(e[1].path, "b.txt");
    assert_int_equal(e[1].size, 5);
    assert_null(e[1].ref);
    assert_string_equal(e[2].path, "remote.bin");
    assert_string_equal(e[2].ref, "s3://bucket/remote.bin");
    assert_int_equal(e[2].ref_len, strlen("s3://bucket/remote.bin"));
    assert_int_equal(e[2].size, 1000);
    assert_false(e[2].has_digest);
    runlog_artifact_entry_info x = RUNLOG_ARTIFACT_ENTRY_INFO_INIT;
    TU_RC(runlog_record_artifact_entry(&x, rec, 3), RUNLOG_ENOTFOUND);
    x.version = 0;
    TU_RC(runlog_record_artifact_entry(&x, rec, 0), RUNLOG_EINVAL);
}

static void test_artifact_written(void **state)
{
    fixture *fx = *state;
    tu_clock clock;
    runlog_writer *w = open_writer(fx->path, &clock);
    char *f1 = tu_path(fx->dir, "one.txt"), *f2 = tu_path(fx->dir, "b.txt");
    runlog_artifact *a;

    tu_write_file(f1, "one", 3);
    tu_write_file(f2, "bbbbb", 5);
    TU_OK(runlog_artifact_new(&a, "data", "dataset"));
    TU_OK(runlog_artifact_add_file(a, f1, "a/one.txt"));
    TU_OK(runlog_artifact_add_file(a, f2, NULL));
    TU_OK(runlog_artifact_add_reference(a, "s3://bucket/remote.bin", NULL, 1000, NULL));
    TU_OK(runlog_artifact_alias(a, "best"));
    TU_OK(runlog_writer_log_artifact(NULL, w, a));
    runlog_artifact_free(a);
    TU_OK(runlog_writer_alert(w, "not", "an artifact", RUNLOG_ALERT_INFO));
    TU_OK(runlog_writer_close(w));
    assert_int_equal(each_record(fx->path, RUNLOG_RECORD_ARTIFACT, check_written_artifact, NULL), 1);
    free(f1);
    free(f2);
}

/* An artifact body with the given entries: (path, size, has digest, ref). */
typedef struct fake_entry {
    const char *path;
    size_t path_len; /* 0: strlen */
    int64_t size;
    int digest;
    const char *ref;
} fake_entry;

static void craft_artifact(runlog_writer *w, int64_t version, int64_t total, const fake_entry *e, size_t n)
{
    rl_buf b = {0};
    static const char dg[16] = "0123456789abcde";
    assert_int_equal(rl_cbor_map(&b, 9), 0);
    rl_cbor_text(&b, "t", 1), rl_cbor_int(&b, 1);
    rl_cbor_text(&b, "name", 4), rl_cbor_text(&b, "m", 1);
    rl_cbor_text(&b, "type", 4), rl_cbor_text(&b, "model", 5);
    rl_cbor_text(&b, "version", 7), rl_cbor_int(&b, version);
    rl_cbor_text(&b, "description", 11), rl_cbor_text(&b, "", 0);
    rl_cbor_text(&b, "aliases", 7), rl_cbor_array(&b, 1), rl_cbor_text(&b, "latest", 6);
    rl_cbor_text(&b, "digest", 6), rl_cbor_bytes(&b, dg, 16);
    rl_cbor_text(&b, "size", 4), rl_cbor_int(&b, total);
    rl_cbor_text(&b, "entries", 7), rl_cbor_array(&b, n);
    for (size_t i = 0; i < n; i++) {
        rl_cbor_map(&b, 2 + (e[i].digest != 0) + (e[i].ref != NULL));
        rl_cbor_text(&b, "path", 4), rl_cbor_text(&b, e[i].path, e[i].path_len ? e[i].path_len : strlen(e[i].path));
        rl_cbor_text(&b, "size", 4), rl_cbor_int(&b, e[i].size);
        if (e[i].digest)
            rl_cbor_text(&b, "digest", 6), rl_cbor_bytes(&b, dg, 16);
        if (e[i].ref)
            rl_cbor_text(&b, "ref", 3), rl_cbor_text(&b, e[i].ref, strlen(e[i].ref));
    }
    TU_OK(rl_writer_record(w, RL_REC_ARTIFACT, &b));
    rl_buf_free(&b);
}

static char long_component[300];

typedef struct bad_artifact {
    int64_t version, total;
    fake_entry e[2];
    size_t n;
    const char *what; /* NULL: valid */
} bad_artifact;

static const bad_artifact bad_artifacts[] = {
    { 0, 3, { { "ok/a.txt", 0, 1, 1, NULL }, { "ok/b.txt", 0, 2, 1, NULL } }, 2, NULL },
    { 0, 1, { { "../evil", 0, 1, 1, NULL } }, 1, "path \"../evil\": '.' or '..' component" },
    { 0, 1, { { "a/./b", 0, 1, 1, NULL } }, 1, "'.' or '..' component" },
    { 0, 1, { { "/etc/passwd", 0, 1, 1, NULL } }, 1, "path \"/etc/passwd\": absolute path" },
    { 0, 1, { { "a\\b", 0, 1, 1, NULL } }, 1, "backslash" },
    { 0, 1, { { "a//b", 0, 1, 1, NULL } }, 1, "empty path component" },
    { 0, 1, { { "a/", 0, 1, 1, NULL } }, 1, "empty path component" },
    { 0, 1, { { "", 0, 1, 1, NULL } }, 1, "empty path" },
    { 0, 1, { { "a\0b", 3, 1, 1, NULL } }, 1, "NUL byte" },
    /* (a path that is not UTF-8 cannot get here: the CBOR decoder refuses
     * such text in any record, §5.1) */
    { 0, 1, { { long_component, 0, 1, 1, NULL } }, 1, "longer than 255" },
    { 0, 3, { { "b", 0, 1, 1, NULL }, { "a", 0, 2, 1, NULL } }, 2, "out of path order" },
    { 0, 2, { { "a", 0, 1, 1, NULL }, { "a", 0, 1, 1, NULL } }, 2, "a second entry" },
    { 0, 4, { { "a", 0, 1, 1, NULL }, { "b", 0, 2, 1, NULL } }, 2, "sum of its entries" },
    { 0, 1, { { "a", 0, 1, 0, NULL } }, 1, "missing on a stored entry" },
    { 0, 1, { { "a", 0, -1, 1, NULL } }, 1, "\"size\"" },
    { -1, 1, { { "a", 0, 1, 1, NULL } }, 1, "\"version\"" },
    { 0, 5, { { "r", 0, 5, 0, "s3://x" } }, 1, NULL }, /* a reference needs no digest */
};
#define NBADART (sizeof bad_artifacts / sizeof bad_artifacts[0])

static void check_bad_artifact(const runlog_record *rec, size_t i, void *ctx)
{
    const bad_artifact *b = &bad_artifacts[i];
    const char *name = "untouched";
    size_t n = 99;
    int rc = runlog_record_artifact(rec, &name, NULL, NULL, NULL, &n);
    if (!b->what) {
        TU_OK(rc);
        assert_int_equal(n, b->n);
        return;
    }
    assert_refused(rc, (const char *)ctx, b->what);
    assert_string_equal(name, "untouched");
    assert_int_equal(n, 99);
    /* The entry accessor alone refuses a bad entry too. */
    for (size_t k = 0; k < b->n; k++) {
        runlog_artifact_entry_info e = RUNLOG_ARTIFACT_ENTRY_INFO_INIT;
        rc = runlog_record_artifact_entry(&e, rec, k);
        if (rc) {
            assert_int_equal(rc, RUNLOG_ECORRUPT);
            assert_null(e.path);
        }
    }
}

static void test_artifact_forbidden(void **state)
{
    fixture *fx = *state;
    tu_clock clock;
    runlog_writer *w = open_writer(fx->path, &clock);

    memset(long_component, 'x', 256);
    long_component[256] = 0;
    for (size_t i = 0; i < NBADART; i++)
        craft_artifact(w, bad_artifacts[i].version, bad_artifacts[i].total, bad_artifacts[i].e, bad_artifacts[i].n);
    TU_OK(runlog_writer_close(w));
    assert_int_equal(each_record(fx->path, RUNLOG_RECORD_ARTIFACT, check_bad_artifact, fx->path), NBADART);
}

/* The one path rule, public; the writer applies it too. */
static void test_path_check(void **state)
{
    fixture *fx = *state;
    static char p[5000];
    memset(p, 'a', sizeof p);
    for (size_t i = 199; i < sizeof p; i += 200)
        p[i] = '/';
    TU_OK(runlog_artifact_path_check("a", 1));
    TU_OK(runlog_artifact_path_check("dir/sub/file.bin", 16));
    TU_OK(runlog_artifact_path_check("..a/b..", 7));
    TU_RC(runlog_artifact_path_check(p, 200), RUNLOG_EINVAL); /* ends in '/' */
    TU_OK(runlog_artifact_path_check(p, 4096));
    TU_RC(runlog_artifact_path_check(p, 4097), RUNLOG_EINVAL);
    assert_non_null(strstr(runlog_error_detail(), "longer than 4096"));
    memset(p, 'a', 256);
    TU_OK(runlog_artifact_path_check(p, 255)); /* one component of 255 bytes */
    TU_RC(runlog_artifact_path_check(p, 256), RUNLOG_EINVAL);
    assert_non_null(strstr(runlog_error_detail(), "longer than 255"));
    TU_RC(runlog_artifact_path_check("a\0b", 3), RUNLOG_EINVAL);
    TU_RC(runlog_artifact_path_check("a\\b", 3), RUNLOG_EINVAL);
    TU_RC(runlog_artifact_path_check("..", 2), RUNLOG_EINVAL);
    TU_RC(runlog_artifact_path_check("/a", 2), RUNLOG_EINVAL);
    TU_RC(runlog_artifact_path_check("", 0), RUNLOG_EINVAL);
    TU_RC(runlog_artifact_path_check(NULL, 0), RUNLOG_EINVAL);
    TU_RC(runlog_artifact_path_check("\xc3", 1), RUNLOG_EINVAL);
    /* The writer refuses what readers would refuse. */
    char *f = tu_path(fx->dir, "x");
    runlog_artifact *a;
    tu_write_file(f, "x", 1);
    TU_OK(runlog_artifact_new(&a, "m", "model"));
    TU_RC(runlog_artifact_add_file(a, f, "win\\path"), RUNLOG_EINVAL);
    p[256] = 0;
    TU_RC(runlog_artifact_add_file(a, f, p), RUNLOG_EINVAL); /* a 256-byte component */
    TU_OK(runlog_artifact_add_file(a, f, "ok/x"));
    runlog_artifact_free(a);
    free(f);
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
        cmocka_unit_test_setup_teardown(test_alert_console_written, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_alert_console_forbidden, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_odd_entries, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_alias_without_version, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_chunks_same_offset, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_image_typed, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_table_typed, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_artifact_written, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_artifact_forbidden, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_path_check, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
