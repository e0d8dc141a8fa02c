/*
 * test_roundtrip — write a run, read it back, compare every value bit for
 * bit: every value type, the float64 values that lossy or text encodings get
 * wrong (NaN payloads and signs, infinities, -0.0, denormals), int64 limits,
 * empty and non-ASCII keys and strings, nested JSON values, config merging,
 * explicit and automatic summary, alerts, console bytes. Then 100 000 rows of
 * 10 keys (some missing in some rows) through the writer thread with small
 * frames, checked key by key and row by row.
 */
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef tu_fixture fixture;

/* ---- the values ---------------------------------------------------------- */

enum kind { K_DOUBLE, K_INT, K_BOOL, K_STRING, K_NULL, K_JSON };

typedef struct entry {
    const char *key;
    enum kind kind;
    uint64_t bits;    /* K_DOUBLE: the double's bits */
    int64_t i;        /* K_INT, K_BOOL */
    const char *s;    /* K_STRING: the text; K_JSON: the JSON text */
    const char *want; /* K_JSON: the expected tu_dump_value() text, by hand */
} entry;

#define D(k, b) {k, K_DOUBLE, b, 0, NULL, NULL}
#define I(k, v) {k, K_INT, 0, v, NULL, NULL}
#define B(k, v) {k, K_BOOL, 0, v, NULL, NULL}
#define S(k, v) {k, K_STRING, 0, 0, v, NULL}
#define J(k, j, w) {k, K_JSON, 0, 0, j, w}

static char long_string[100001];

static const entry entries[] = {
    D("f/nan_payload", 0x7ff8000000000123ULL),
    D("f/neg_nan", 0xfff8000000000456ULL),
    D("f/snan", 0x7ff0000000000001ULL),
    D("f/+inf", 0x7ff0000000000000ULL),
    D("f/-inf", 0xfff0000000000000ULL),
    D("f/-0", 0x8000000000000000ULL),
    D("f/+0", 0x0000000000000000ULL),
    D("f/dbl_min", 0x0010000000000000ULL),
    D("f/denorm_min", 0x0000000000000001ULL),
    D("f/denorm_max", 0x000fffffffffffffULL),
    D("f/-denorm", 0x800000000000abcdULL),
    D("f/dbl_max", 0x7fefffffffffffffULL),
    D("f/third", 0x3fd5555555555555ULL),
    D("", 0x400921fb54442d18ULL), /* the empty key holds pi */
    D("λ/損失", 0x3fb999999999999aULL),
    D("emoji 🚀", 0xbff0000000000000ULL),
    I("i/min", INT64_MIN),
    I("i/max", INT64_MAX),
    I("i/zero", 0),
    I("i/-1", -1),
    I("i/2^53+1", 9007199254740993LL),
    B("b/true", 1),
    B("b/false", 0),
    S("s/empty", ""),
    S("s/λ", "λ/損失 ünïcödé"),
    S("s/emoji", "🚀🔥 rocket \U0001F600"),
    S("s/control", "tab\there\nnew line\r\x01\x1f\x7f end"),
    S("s/json-like", "{\"not\": \"json\"} \\ \" '"),
    {"s/long", K_STRING, 0, 0, long_string, NULL},
    {"n/null", K_NULL, 0, 0, NULL, NULL},
    J("j/nested", "{\"a\": [1, 2.5, \"x\", null, true, {\"b\": -0.0}], \"c\": {}}",
      "{1:61=[i1,f4004000000000000,s1:78,null,b1,{1:62=f8000000000000000,},],1:63={},}"),
    J("j/ints", "[9223372036854775807, -9223372036854775808, 0, 1e300]",
      "[i9223372036854775807,i-9223372036854775808,i0,f7e37e43c8800759c,]"),
    J("j/escapes", "\"\\u00e9\\ud83d\\ude80\\n\"", "s7:c3a9f09f9a800a"),
    J("j/scalar", "3", "i3"),
    J("j/false", "false", "b0"),
};
#define N_ENTRIES (sizeof entries / sizeof *entries)

static void fill_long_string(void)
{
    /* ASCII and two-byte characters, never split: 'a'..'y' then "é" */
    size_t n = 0;
    while (n + 2 < sizeof long_string) {
        if (n % 27 == 25) {
            long_string[n++] = (char)0xc3;
            long_string[n++] = (char)0xa9;
        } else {
            long_string[n] = (char)('a' + n % 27);
            n++;
        }
    }
    long_string[n] = '\0';
}

static void want_dump(tu_str *s, const entry *e)
{
    switch (e->kind) {
    case K_DOUBLE:
        tu_str_addf(s, "f%016llx", (unsigned long long)e->bits);
        break;
    case K_INT:
        tu_str_addf(s, "i%lld", (long long)e->i);
        break;
    case K_BOOL:
        tu_str_addf(s, "b%d", (int)e->i);
        break;
    case K_STRING:
        tu_str_addf(s, "s%zu:", strlen(e->s));
        for (const char *p = e->s; *p; p++)
            tu_str_addf(s, "%02x", (unsigned char)*p);
        break;
    case K_NULL:
        tu_str_addf(s, "null");
        break;
    case K_JSON:
        tu_str_addf(s, "%s", e->want);
        break;
    }
}

static void add_entry(runlog_writer *w, const entry *e)
{
    switch (e->kind) {
    case K_DOUBLE:
        TU_OK(runlog_writer_add_double(w, e->key, tu_bits2d(e->bits)));
        break;
    case K_INT:
        TU_OK(runlog_writer_add_int(w, e->key, e->i));
        break;
    case K_BOOL:
        TU_OK(runlog_writer_add_bool(w, e->key, (int)e->i));
        break;
    case K_STRING:
        TU_OK(runlog_writer_add_string(w, e->key, e->s));
        break;
    case K_NULL:
        TU_OK(runlog_writer_add_null(w, e->key));
        break;
    case K_JSON:
        TU_OK(runlog_writer_add_json(w, e->key, e->s));
        break;
    }
}

static void assert_value(const runlog_value *v, const char *want, const char *what)
{
    tu_str got = {0};
    tu_dump_value(&got, v);
    if (strcmp(got.p, want) != 0)
        fail_msg("%s:\n got  %.300s\n want %.300s", what, got.p, want);
    tu_str_free(&got);
}

static void assert_entry(const runlog_value *v, const entry *e)
{
    tu_str want = {0};
    want_dump(&want, e);
    assert_value(v, want.p, e->key);
    tu_str_free(&want);
}

/* ---- writing the small run ----------------------------------------------- */

#define T0 1700000000123456789LL

static const char *const tags[] = {"baseline", "λ-tag", ""};
static unsigned char bin[256];

static void write_values(const char *path, int synchronous)
{
    tu_clock clock = {T0, 0};
    runlog_writer_options o;
    tu_fixed_options(&o, &clock, synchronous);
    o.group = "sweep-1";
    o.job_type = "train";
    o.notes = "notes: λ";
    o.tags = tags;
    o.n_tags = 3;
    runlog_writer *w = NULL;
    remove(path);
    TU_OK(runlog_writer_open(&w, path, &o));
    assert_string_equal(runlog_writer_run_id(w), "test-run-0001");
    assert_int_equal(runlog_writer_resumed(w), 0);

    TU_OK(runlog_writer_config_double(w, "lr", 0.001));
    TU_OK(runlog_writer_config_int(w, "epochs", 10));
    TU_OK(runlog_writer_config_bool(w, "amp", 1));
    TU_OK(runlog_writer_config_string(w, "arch", "λ-net"));
    TU_OK(runlog_writer_config_json(w, "{\"optimizer\": {\"name\": \"adam\", \"betas\": "
                                       "[0.5, 0.25]}, \"layers\": [64, 64], \"lr\": 0.5}"));
    TU_OK(runlog_writer_config_int(w, "epochs", 20));

    for (size_t i = 0; i < N_ENTRIES; i++)
        add_entry(w, &entries[i]);
    TU_OK(runlog_writer_commit(w)); /* step 0 at T0 */

    tu_clock_set(&clock, T0 + 5000);
    for (size_t i = N_ENTRIES; i-- > 0;)
        if (entries[i].kind == K_DOUBLE)
            add_entry(w, &entries[i]);
    TU_OK(runlog_writer_commit_step(w, 5)); /* the doubles again at step 5 */

    TU_OK(runlog_writer_summary_double(w, "best", -0.0));
    TU_OK(runlog_writer_summary_string(w, "i/max", "overridden"));
    TU_OK(runlog_writer_summary_int(w, "test/count", INT64_MIN));
    TU_OK(runlog_writer_summary_json(w, "nested", "{\"a\": [1, \"λ\"]}"));

    TU_OK(runlog_writer_alert(w, "loss is NaN λ", "at step 5", RUNLOG_ALERT_WARN));
    TU_OK(runlog_writer_alert(w, "only a title", NULL, RUNLOG_ALERT_ERROR));

    for (int i = 0; i < 256; i++)
        bin[i] = (unsigned char)i;
    TU_OK(runlog_writer_console(w, RUNLOG_STDOUT, "hello\n", 6));
    TU_OK(runlog_writer_console(w, RUNLOG_STDERR, bin, sizeof bin));
    TU_OK(runlog_writer_console(w, RUNLOG_STDOUT, "no newline", 10));
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
}

/* ---- checking it --------------------------------------------------------- */

static const entry *find_entry(const char *key)
{
    for (size_t i = 0; i < N_ENTRIES; i++)
        if (strcmp(entries[i].key, key) == 0)
            return &entries[i];
    return NULL;
}

/* Rows through runlog_reader_next(): every field exactly. */
static void check_rows(runlog_reader *r)
{
    const runlog_record *rec;
    int rc, row = 0, alerts = 0, consoles = 0, finishes = 0, starts = 0;
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        int type = runlog_record_type_of(rec);
        starts += type == RUNLOG_RECORD_RUN_START;
        alerts += type == RUNLOG_RECORD_ALERT;
        consoles += type == RUNLOG_RECORD_CONSOLE;
        finishes += type == RUNLOG_RECORD_FINISH;
        if (type != RUNLOG_RECORD_HISTORY) {
            assert_non_null(runlog_record_body(rec));
            continue;
        }
        assert_null(runlog_record_body(rec));
        assert_true(row < 2);
        assert_int_equal(runlog_record_step(rec), row == 0 ? 0 : 5);
        assert_int_equal(runlog_record_time(rec), row == 0 ? T0 : T0 + 5000);
        size_t n = runlog_record_field_count(rec), want_n = 0;
        for (size_t i = 0; i < N_ENTRIES; i++)
            want_n += row == 0 || entries[i].kind == K_DOUBLE;
        assert_int_equal(n, want_n);
        for (size_t i = 0; i < n; i++) {
            const entry *e = find_entry(runlog_record_field_key(rec, i));
            if (e == NULL)
                fail_msg("unexpected key \"%s\"", runlog_record_field_key(rec, i));
            assert_entry(runlog_record_field_value(rec, i), e);
        }
        row++;
    }
    TU_RC(rc, RUNLOG_ITEROVER);
    assert_int_equal(row, 2);
    assert_int_equal(starts, 1);
    assert_int_equal(alerts, 2);
    assert_int_equal(consoles, 3);
    assert_int_equal(finishes, 1);
}

/* Every key's history arrays. */
static void check_histories(runlog_reader *r)
{
    for (size_t i = 0; i < N_ENTRIES; i++) {
        const entry *e = &entries[i];
        runlog_history *h = NULL;
        TU_OK(runlog_reader_history(&h, r, e->key));
        size_t n = e->kind == K_DOUBLE ? 2 : 1;
        assert_int_equal(runlog_history_length(h), n);
        for (size_t j = 0; j < n; j++) {
            assert_int_equal(runlog_history_steps(h)[j], j == 0 ? 0 : 5);
            assert_int_equal(runlog_history_times(h)[j], j == 0 ? T0 : T0 + 5000);
            assert_entry(runlog_history_value(h, j), e);
            double d = runlog_history_values(h)[j];
            if (e->kind == K_DOUBLE)
                assert_int_equal(tu_dbits(d), e->bits);
            else if (e->kind == K_INT)
                assert_true(d == (double)e->i);
            else if (e->kind == K_BOOL)
                assert_true(d == (double)e->i);
            else if (e->kind != K_JSON)
                assert_true(isnan(d));
        }
        runlog_history_free(h);
    }
    runlog_history *h = NULL;
    TU_RC(runlog_reader_history(&h, r, "never logged"), RUNLOG_ENOTFOUND);
    assert_null(h);
}

static void check_config(const runlog_value *cfg)
{
    assert_int_equal(runlog_value_type(cfg), RUNLOG_MAP);
    assert_int_equal(runlog_value_count(cfg), 6);
    assert_value(runlog_value_get(cfg, "lr"), "f3fe0000000000000", "config lr (from JSON, later)");
    assert_value(runlog_value_get(cfg, "epochs"), "i20", "config epochs");
    assert_value(runlog_value_get(cfg, "amp"), "b1", "config amp");
    assert_value(runlog_value_get(cfg, "arch"), "s6:cebb2d6e6574", "config arch");
    assert_value(runlog_value_get(cfg, "optimizer"),
                 "{4:6e616d65=s4:6164616d,5:6265746173=[f3fe0000000000000,f3fd0000000000000,],}",
                 "config optimizer");
    assert_value(runlog_value_get(cfg, "layers"), "[i64,i64,]", "config layers");
}

static void check_summary(const runlog_value *sum)
{
    /* every history key (last value) plus three explicit new keys */
    assert_int_equal(runlog_value_count(sum), N_ENTRIES + 3);
    for (size_t i = 0; i < N_ENTRIES; i++) {
        const entry *e = &entries[i];
        if (strcmp(e->key, "i/max") == 0)
            continue;
        assert_entry(runlog_value_get(sum, e->key), e);
    }
    assert_value(runlog_value_get(sum, "i/max"), "s10:6f76657272696464656e", "summary i/max");
    assert_value(runlog_value_get(sum, "best"), "f8000000000000000", "summary best");
    assert_value(runlog_value_get(sum, "test/count"), "i-9223372036854775808", "summary count");
    assert_value(runlog_value_get(sum, "nested"), "{1:61=[i1,s2:cebb,],}", "summary nested");
}

static void check_identity(const runlog_value *id)
{
    assert_value(runlog_value_get(id, "id"), "s13:746573742d72756e2d30303031", "id");
    assert_string_equal(runlog_value_string(runlog_value_get(id, "project"), NULL),
                        "runlog-tests");
    assert_string_equal(runlog_value_string(runlog_value_get(id, "name"), NULL), "fixed");
    assert_string_equal(runlog_value_string(runlog_value_get(id, "group"), NULL), "sweep-1");
    assert_string_equal(runlog_value_string(runlog_value_get(id, "job_type"), NULL), "train");
    assert_string_equal(runlog_value_string(runlog_value_get(id, "notes"), NULL), "notes: λ");
    assert_value(runlog_value_get(id, "tags"), "[s8:626173656c696e65,s6:cebb2d746167,s0:,]",
                 "tags");
    assert_int_equal(runlog_value_int(runlog_value_get(id, "start_time")), T0);
}

static void check_run(runlog_reader *r)
{
    runlog_run *run = NULL;
    TU_OK(runlog_reader_run(&run, r));
    check_identity(runlog_run_identity(run));
    check_config(runlog_run_config(run));
    check_summary(runlog_run_summary(run));
    assert_int_equal(runlog_run_state(run), RUNLOG_STATE_FINISHED);
    assert_int_equal(runlog_run_exit_code(run), 0);
    assert_int_equal(runlog_run_rows(run), 2);
    assert_int_equal(runlog_run_last_step(run), 5);
    assert_int_equal(runlog_run_key_count(run), N_ENTRIES);
    for (size_t i = 0; i < N_ENTRIES; i++)
        assert_string_equal(runlog_run_key(run, i), entries[i].key);
    assert_int_equal(runlog_run_record_count(run, RUNLOG_RECORD_HISTORY), 2);
    assert_int_equal(runlog_run_record_count(run, RUNLOG_RECORD_ALERT), 2);
    assert_int_equal(runlog_run_record_count(run, RUNLOG_RECORD_CONSOLE), 3);
    assert_int_equal(runlog_run_record_count(run, RUNLOG_RECORD_FINISH), 1);
    assert_int_equal(runlog_run_record_count(run, RUNLOG_RECORD_RESUME), 0);
    assert_int_equal(runlog_run_resumes(run), 0);
    runlog_run_free(run);
}

static void values_roundtrip(fixture *fx, int synchronous)
{
    fill_long_string();
    write_values(fx->path, synchronous);
    runlog_reader *r = NULL;
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    check_rows(r);
    check_histories(r);
    check_run(r);
    runlog_reader_close(r);
}

static void test_values_sync(void **state)
{
    values_roundtrip(*state, 1);
}

static void test_values_threaded(void **state)
{
    values_roundtrip(*state, 0);
}

/* Alert bodies {title, text, level: "INFO"|"WARN"|"ERROR"} and console bodies
 * {stream: "stdout"|"stderr", data: bytes}, as lib/writer.c writes them. */
static void test_alerts_console(void **state)
{
    fixture *fx = *state;
    fill_long_string();
    write_values(fx->path, 0);
    runlog_reader *r = NULL;
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    const runlog_record *rec;
    int rc, alerts = 0, consoles = 0;
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        const runlog_value *b = runlog_record_body(rec);
        if (runlog_record_type_of(rec) == RUNLOG_RECORD_ALERT) {
            if (alerts == 0) {
                assert_value(runlog_value_get(b, "title"),
                             "s14:6c6f7373206973204e614e20cebb", "alert title");
                assert_value(runlog_value_get(b, "text"), "s9:617420737465702035",
                             "alert text");
                assert_value(runlog_value_get(b, "level"), "s4:5741524e", "alert level WARN");
            } else {
                assert_value(runlog_value_get(b, "title"), "s12:6f6e6c792061207469746c65",
                             "alert title");
                /* no text: an empty string */
                assert_value(runlog_value_get(b, "text"), "s0:", "alert text");
                assert_value(runlog_value_get(b, "level"), "s5:4552524f52", "alert level ERROR");
            }
            assert_int_equal(runlog_record_time(rec), T0 + 5000);
            alerts++;
        } else if (runlog_record_type_of(rec) == RUNLOG_RECORD_CONSOLE) {
            static const char *const streams[] = {"stdout", "stderr", "stdout"};
            assert_string_equal(runlog_value_string(runlog_value_get(b, "stream"), NULL),
                                streams[consoles]);
            assert_int_equal(runlog_value_type(runlog_value_get(b, "data")), RUNLOG_BYTES);
            size_t len = 0;
            const char *data = runlog_value_string(runlog_value_get(b, "data"), &len);
            assert_non_null(data);
            if (consoles == 0) {
                assert_int_equal(len, 6);
                assert_memory_equal(data, "hello\n", 6);
            } else if (consoles == 1) {
                assert_int_equal(len, 256);
                assert_memory_equal(data, bin, 256);
            } else {
                assert_int_equal(len, 10);
                assert_memory_equal(data, "no newline", 10);
            }
            consoles++;
        }
    }
    TU_RC(rc, RUNLOG_ITEROVER);
    assert_int_equal(alerts, 2);
    assert_int_equal(consoles, 3);
    runlog_reader_close(r);
}

/* ---- many rows ----------------------------------------------------------- */

#define N_ROWS 100000
#define N_KEYS 10

static int present(uint64_t i, int k)
{
    if (k == N_KEYS - 1)
        return i % 1000 == 0; /* a sparse key */
    return (i * 7 + (uint64_t)k * 13) % 10 != 0;
}

/* Key 0: int64; key 1: bool; the others: random bit patterns as doubles
 * (NaNs, infinities and denormals included). */
static uint64_t value_bits(uint64_t i, int k)
{
    uint64_t s = i * N_KEYS + (uint64_t)k;
    return tu_rand64(&s);
}

static void write_many(const char *path)
{
    tu_clock clock = {T0, 0};
    runlog_writer_options o;
    tu_fixed_options(&o, &clock, 0);
    o.flush_bytes = 16384;
    runlog_writer *w = NULL;
    remove(path);
    TU_OK(runlog_writer_open(&w, path, &o));
    char key[8];
    for (uint64_t i = 0; i < N_ROWS; i++) {
        for (int k = 0; k < N_KEYS; k++) {
            if (!present(i, k))
                continue;
            snprintf(key, sizeof key, "m%d", k);
            uint64_t b = value_bits(i, k);
            if (k == 0)
                TU_OK(runlog_writer_add_int(w, key, (int64_t)b));
            else if (k == 1)
                TU_OK(runlog_writer_add_bool(w, key, (int)(b & 1)));
            else
                TU_OK(runlog_writer_add_double(w, key, tu_bits2d(b)));
        }
        tu_clock_set(&clock, T0 + (int64_t)i * 1000);
        TU_OK(runlog_writer_commit(w));
    }
    TU_OK(runlog_writer_summary_double(w, "m3", 42.0));
    TU_OK(runlog_writer_finish(w, 3));
    TU_OK(runlog_writer_close(w));
}

static void assert_many_value(const runlog_value *v, uint64_t i, int k)
{
    uint64_t b = value_bits(i, k);
    if (k == 0) {
        assert_int_equal(runlog_value_type(v), RUNLOG_INT);
        assert_int_equal(runlog_value_int(v), (int64_t)b);
    } else if (k == 1) {
        assert_int_equal(runlog_value_type(v), RUNLOG_BOOL);
        assert_int_equal(runlog_value_bool(v), (int)(b & 1));
    } else {
        assert_int_equal(runlog_value_type(v), RUNLOG_FLOAT);
        assert_int_equal(tu_dbits(runlog_value_float(v)), b);
    }
}

static void check_many_histories(runlog_reader *r)
{
    char key[8];
    for (int k = 0; k < N_KEYS; k++) {
        snprintf(key, sizeof key, "m%d", k);
        runlog_history *h = NULL;
        TU_OK(runlog_reader_history(&h, r, key));
        const uint64_t *steps = runlog_history_steps(h);
        const int64_t *times = runlog_history_times(h);
        const double *vals = runlog_history_values(h);
        size_t j = 0;
        for (uint64_t i = 0; i < N_ROWS; i++) {
            if (!present(i, k))
                continue;
            assert_true(j < runlog_history_length(h));
            if (steps[j] != i || times[j] != T0 + (int64_t)i * 1000)
                fail_msg("%s[%zu]: step %llu time %lld, expected step %llu", key, j,
                         (unsigned long long)steps[j], (long long)times[j],
                         (unsigned long long)i);
            uint64_t b = value_bits(i, k);
            if (k == 0)
                assert_true(vals[j] == (double)(int64_t)b);
            else if (k == 1)
                assert_true(vals[j] == (double)(b & 1));
            else if (tu_dbits(vals[j]) != b)
                fail_msg("%s[%zu]: bits %016llx, expected %016llx", key, j,
                         (unsigned long long)tu_dbits(vals[j]), (unsigned long long)b);
            assert_many_value(runlog_history_value(h, j), i, k);
            j++;
        }
        assert_int_equal(runlog_history_length(h), j);
        runlog_history_free(h);
    }
}

static void check_many_rows(runlog_reader *r)
{
    const runlog_record *rec;
    int rc;
    uint64_t i = 0;
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        if (runlog_record_type_of(rec) != RUNLOG_RECORD_HISTORY)
            continue;
        assert_int_equal(runlog_record_step(rec), i);
        size_t want = 0;
        for (int k = 0; k < N_KEYS; k++)
            want += present(i, k);
        assert_int_equal(runlog_record_field_count(rec), want);
        for (size_t f = 0; f < want; f++) {
            const char *key = runlog_record_field_key(rec, f);
            assert_true(key[0] == 'm' && key[1] >= '0' && key[1] <= '9' && key[2] == '\0');
            int k = key[1] - '0';
            assert_true(present(i, k));
            assert_many_value(runlog_record_field_value(rec, f), i, k);
        }
        i++;
    }
    TU_RC(rc, RUNLOG_ITEROVER);
    assert_int_equal(i, N_ROWS);
}

static void check_many_run(runlog_reader *r)
{
    runlog_run *run = NULL;
    TU_OK(runlog_reader_run(&run, r));
    assert_int_equal(runlog_run_rows(run), N_ROWS);
    assert_int_equal(runlog_run_last_step(run), N_ROWS - 1);
    assert_int_equal(runlog_run_state(run), RUNLOG_STATE_FAILED);
    assert_int_equal(runlog_run_exit_code(run), 3);
    /* keys in order of first appearance: row 0 lacks m0 (0 % 10 == 0) */
    assert_int_equal(runlog_run_key_count(run), N_KEYS);
    char seen[N_KEYS] = {0};
    size_t n = 0;
    for (uint64_t i = 0; n < N_KEYS; i++)
        for (int k = 0; k < N_KEYS; k++)
            if (present(i, k) && !seen[k]) {
                seen[k] = 1;
                char key[8];
                snprintf(key, sizeof key, "m%d", k);
                assert_string_equal(runlog_run_key(run, n), key);
                n++;
            }
    /* auto-summary: the last value of each key; m3 set explicitly */
    const runlog_value *sum = runlog_run_summary(run);
    assert_int_equal(runlog_value_count(sum), N_KEYS);
    for (int k = 0; k < N_KEYS; k++) {
        char key[8];
        snprintf(key, sizeof key, "m%d", k);
        const runlog_value *v = runlog_value_get(sum, key);
        assert_non_null(v);
        if (k == 3) {
            assert_int_equal(tu_dbits(runlog_value_float(v)), tu_dbits(42.0));
            continue;
        }
        uint64_t last = N_ROWS - 1;
        while (!present(last, k))
            last--;
        assert_many_value(v, last, k);
    }
    runlog_run_free(run);
}

static void test_many_rows(void **state)
{
    fixture *fx = *state;
    write_many(fx->path);
    runlog_report *rep = NULL;
    TU_OK(runlog_verify(&rep, fx->path));
    assert_int_equal(runlog_report_intact(rep), 1);
    assert_int_equal(runlog_report_has_trailer(rep), 1);
    print_message("%llu rows: %llu frames, %llu bytes\n", (unsigned long long)N_ROWS,
                  (unsigned long long)runlog_report_frames(rep),
                  (unsigned long long)runlog_report_file_size(rep));
    /* 16 KiB frames: the 5 MB of raw values span many frames */
    assert_true(runlog_report_frames(rep) >= 50);
    runlog_report_free(rep);
    runlog_reader *r = NULL;
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    check_many_histories(r);
    check_many_rows(r);
    check_many_run(r);
    runlog_reader_close(r);
}

/* ---- one key's history reads only its frames when there is an index ------ */

static void test_history_uses_index(void **state)
{
    fixture *fx = *state;
    tu_clock clock = {T0, 1};
    runlog_writer_options o;
    tu_fixed_options(&o, &clock, 1);
    runlog_writer *w = NULL;
    remove(fx->path);
    TU_OK(runlog_writer_open(&w, fx->path, &o));
    uint64_t last_flush = 0;
    for (int g = 0; g < 20; g++) {
        for (int i = 0; i < 10; i++) {
            TU_OK(runlog_writer_add_double(w, "loss", g * 10 + i));
            if (g == 7)
                TU_OK(runlog_writer_add_int(w, "rare", i));
            TU_OK(runlog_writer_commit(w));
        }
        TU_OK(runlog_writer_flush(w));
        last_flush = (uint64_t)tu_file_size(fx->path);
    }
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));

    /* the same file as a crashed writer leaves it: no finish, no index */
    size_t size;
    unsigned char *bytes = tu_read_file(fx->path, &size);
    char *crashed = tu_path(fx->dir, "crashed.runlog");
    tu_write_file(crashed, bytes, (size_t)last_flush);
    free(bytes);

    /* Per file: the first read, then a second one on the same reader. */
    uint64_t frames_read[2][2];
    const char *paths[2] = {fx->path, crashed};
    for (int p = 0; p < 2; p++) {
        runlog_reader *r = NULL;
        TU_OK(runlog_reader_open(&r, paths[p], NULL));
        for (int pass = 0; pass < 2; pass++) {
            runlog_history *h = NULL;
            TU_OK(runlog_reader_history(&h, r, "rare"));
            assert_int_equal(runlog_history_length(h), 10);
            for (size_t i = 0; i < 10; i++) {
                assert_int_equal(runlog_history_steps(h)[i], 70 + i);
                assert_value(runlog_history_value(h, i), (char[8]){'i', (char)('0' + i)}, "rare");
            }
            frames_read[p][pass] = runlog_history_frames_read(h);
            runlog_history_free(h);
        }
        assert_null(runlog_reader_index_notice(r));
        runlog_reader_close(r);
    }
    print_message("frames read for one key: %llu then %llu with the index, %llu then %llu by scanning\n",
                  (unsigned long long)frames_read[0][0], (unsigned long long)frames_read[0][1],
                  (unsigned long long)frames_read[1][0], (unsigned long long)frames_read[1][1]);
    /* The first read checks every frame: in an unsealed file through the
     * index, every entry against its frame (spec/FORMAT.md §7.2); in a
     * sealed one, as this is, by building the key map from every frame's
     * directory and block 0 (§7.1). Later ones read the key's one frame. */
    assert_true(frames_read[0][0] >= 20);
    assert_true(frames_read[0][1] >= 1 && frames_read[0][1] <= 2);
    /* Without an index: the same (scanning the whole file once, unsealed),
     * then the key's frame. */
    assert_true(frames_read[1][0] >= 20);
    assert_true(frames_read[1][1] >= 1 && frames_read[1][1] <= 2);
    free(crashed);
}

/* ---- every key at once -------------------------------------------------------- */

static void assert_same_value(const runlog_value *a, const runlog_value *b)
{
    assert_int_equal(runlog_value_type(a), runlog_value_type(b));
    switch (runlog_value_type(a)) {
    case RUNLOG_INT: assert_true(runlog_value_int(a) == runlog_value_int(b)); break;
    case RUNLOG_BOOL: assert_int_equal(runlog_value_bool(a), runlog_value_bool(b)); break;
    case RUNLOG_FLOAT: {
        double x = runlog_value_float(a), y = runlog_value_float(b);
        assert_memory_equal(&x, &y, sizeof x);
        break;
    }
    case RUNLOG_NULL: break;
    default: {
        size_t n, m;
        const char *p = runlog_value_string(a, &n), *q = runlog_value_string(b, &m);
        assert_non_null(p);
        assert_int_equal(n, m);
        assert_memory_equal(p, q, n);
    }
    }
}

/* runlog_reader_histories: every key's history, as runlog_reader_history()
 * gives it, in one pass; keys in order of first appearance; system metrics
 * of the same name stay out; a file without an index is one scan too. */
static void test_histories_all_keys(void **state)
{
    fixture *fx = *state;
    tu_clock clock = {T0, 1};
    runlog_writer_options o;
    tu_fixed_options(&o, &clock, 1);
    runlog_writer *w = NULL;
    remove(fx->path);
    TU_OK(runlog_writer_open(&w, fx->path, &o));
    uint64_t last_flush = 0;
    const char *sys_keys[] = {"a"};
    for (int i = 0; i < 30; i++) {
        TU_OK(runlog_writer_add_double(w, "a", i * 0.5));
        TU_OK(runlog_writer_add_int(w, "b", ((int64_t)1 << 60) + i)); /* not exact as a double */
        if (i % 2 == 0)
            TU_OK(runlog_writer_add_string(w, "c", i % 4 ? "two" : "four"));
        if (i < 15)
            TU_OK(runlog_writer_add_double(w, "d", -i));
        else
            TU_OK(runlog_writer_add_string(w, "d", "text now")); /* its type changes in a frame */
        if (i == 3)
            TU_OK(runlog_writer_add_null(w, "e"));
        TU_OK(runlog_writer_commit(w));
        double sv = 100 + i;
        TU_OK(runlog_writer_system(w, sys_keys, &sv, 1));
        if (i % 7 == 6) {
            TU_OK(runlog_writer_flush(w));
            last_flush = (uint64_t)tu_file_size(fx->path);
        }
    }
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
    size_t size;
    unsigned char *bytes = tu_read_file(fx->path, &size);
    char *crashed = tu_path(fx->dir, "crashed.runlog");
    tu_write_file(crashed, bytes, (size_t)last_flush);
    free(bytes);

    static const char *order[] = {"a", "b", "c", "d", "e"};
    const char *paths[2] = {fx->path, crashed};
    for (int p = 0; p < 2; p++) {
        runlog_reader *r = NULL;
        runlog_histories *hs = NULL;
        TU_OK(runlog_reader_open(&r, paths[p], NULL));
        TU_OK(runlog_reader_histories(&hs, r));
        assert_int_equal(runlog_histories_count(hs), 5);
        runlog_report *rep = NULL;
        TU_OK(runlog_verify(&rep, paths[p]));
        /* one pass: each data frame once, whatever the number of keys */
        assert_true(runlog_histories_frames_read(hs) >= 4);
        assert_true(runlog_histories_frames_read(hs) <= runlog_report_frames(rep));
        runlog_report_free(rep);
        for (size_t k = 0; k < 5; k++) {
            size_t len, at;
            assert_string_equal(runlog_histories_key(hs, k, &len), order[k]);
            assert_int_equal(len, 1);
            TU_OK(runlog_histories_find(&at, hs, order[k]));
            assert_int_equal(at, k);
            const runlog_history *all = runlog_histories_get(hs, k);
            runlog_history *one = NULL;
            TU_OK(runlog_reader_history(&one, r, order[k]));
            size_t n = runlog_history_length(one);
            /* runlog_history_type(): d changes type (ENOTFOUND), the
             * others keep theirs; 30 and 15 values take the 8-at-a-time
             * compare and its tail. */
            static const int one_type[] = {RUNLOG_FLOAT, RUNLOG_INT, RUNLOG_STRING, -1, RUNLOG_NULL};
            runlog_type t = (runlog_type)99;
            if (one_type[k] < 0) {
                TU_RC(runlog_history_type(&t, all), RUNLOG_ENOTFOUND);
                assert_int_equal(t, 99);
            } else {
                TU_OK(runlog_history_type(&t, all));
                assert_int_equal(t, one_type[k]);
            }
            assert_int_equal(runlog_history_length(all), n);
            assert_memory_equal(runlog_history_steps(all), runlog_history_steps(one), n * 8);
            assert_memory_equal(runlog_history_times(all), runlog_history_times(one), n * 8);
            assert_memory_equal(runlog_history_values(all), runlog_history_values(one), n * 8);
            for (size_t i = 0; i < n; i++) {
                /* runlog_history_value() of a number is a scratch slot of its
                 * history: read one's before asking all's */
                const runlog_value *vo = runlog_history_value(one, i);
                runlog_type to = runlog_value_type(vo);
                int64_t io = runlog_value_int(vo);
                const runlog_value *va = runlog_history_value(all, i);
                assert_int_equal(runlog_value_type(va), to);
                if (to == RUNLOG_INT)
                    assert_true(runlog_value_int(va) == io);
                else if (to != RUNLOG_NULL && to != RUNLOG_FLOAT)
                    assert_same_value(va, runlog_history_value(one, i));
            }
            runlog_history_free(one);
        }
        const runlog_history *b = runlog_histories_get(hs, 1);
        size_t nb = runlog_history_length(b);
        assert_true(runlog_value_int(runlog_history_value(b, nb - 1)) == ((int64_t)1 << 60) + (int64_t)nb - 1);
        assert_int_equal(runlog_history_length(runlog_histories_get(hs, 0)), p == 0 ? 30 : 28);
        assert_int_equal(runlog_history_length(runlog_histories_get(hs, 4)), 1);
        assert_null(runlog_histories_get(hs, 5));
        assert_null(runlog_histories_key(hs, 5, NULL));
        TU_RC(runlog_histories_find(NULL, hs, "nope"), RUNLOG_ENOTFOUND);
        runlog_histories_free(hs);
        runlog_reader_close(r);
    }
    runlog_histories_free(NULL);
    assert_int_equal(runlog_histories_count(NULL), 0);
    free(crashed);
}

/* Every history of the set is the one runlog_reader_history() gives, bit
 * for bit, entry types and exact ints included: the one-key read's arrays
 * against the set's. */
static void assert_same_history(const runlog_history *all, const runlog_history *one)
{
    size_t n = runlog_history_length(one);
    assert_int_equal(runlog_history_length(all), n);
    assert_memory_equal(runlog_history_steps(all), runlog_history_steps(one), n * 8);
    assert_memory_equal(runlog_history_times(all), runlog_history_times(one), n * 8);
    assert_memory_equal(runlog_history_values(all), runlog_history_values(one), n * 8);
    for (size_t i = 0; i < n; i++) {
        const runlog_value *vo = runlog_history_value(one, i);
        runlog_type to = runlog_value_type(vo);
        int64_t io = to == RUNLOG_INT || to == RUNLOG_BOOL ? runlog_value_int(vo) : 0;
        const runlog_value *va = runlog_history_value(all, i);
        assert_int_equal(runlog_value_type(va), to);
        if (to == RUNLOG_INT || to == RUNLOG_BOOL)
            assert_true(runlog_value_int(va) == io);
        else if (to == RUNLOG_STRING)
            assert_same_value(va, runlog_history_value(one, i));
    }
}

/* The all-keys read shares one copy of the record rows among the keys
 * logged at every row, and sizes every key's values from the index: keys
 * that share the rows for a while and then stop (a pause, a gap inside a
 * frame, a second type in a frame), start late, change type between
 * frames, or have no index to size them (a crashed file) still get the
 * entries the one-key read gives. */
static void test_histories_shared_rows(void **state)
{
    fixture *fx = *state;
    tu_clock clock = {T0, 1};
    runlog_writer_options o;
    tu_fixed_options(&o, &clock, 1);
    runlog_writer *w = NULL;
    remove(fx->path);
    TU_OK(runlog_writer_open(&w, fx->path, &o));
    uint64_t flushed[8] = {0};
    int nflushed = 0;
    for (int i = 0; i < 64; i++) {
        TU_OK(runlog_writer_add_double(w, "full", i * 0.25));
        if (i >= 16 && i != 50) /* from the third frame on, then a gap */
            TU_OK(runlog_writer_add_double(w, "late", -i));
        if (i >= 24) /* from the fourth frame on, every row */
            TU_OK(runlog_writer_add_double(w, "tail", i * 1e-3));
        if (i < 16 || i >= 24) /* misses the third frame */
            TU_OK(runlog_writer_add_double(w, "pause", i + 0.5));
        if (i < 32 || i % 3 == 0) /* every row, then one in three */
            TU_OK(runlog_writer_add_double(w, "gap", i * 3.0));
        if (i < 32)
            TU_OK(runlog_writer_add_int(w, "typed", ((int64_t)1 << 58) + i));
        else
            TU_OK(runlog_writer_add_bool(w, "typed", i % 2));
        if (i < 24) /* floats, then ints from the fourth frame on */
            TU_OK(runlog_writer_add_double(w, "mixed", i * 0.5));
        else
            TU_OK(runlog_writer_add_int(w, "mixed", -i));
        TU_OK(runlog_writer_add_int(w, "count", i));
        if (i < 40)
            TU_OK(runlog_writer_add_string(w, "text", i % 2 ? "odd" : "even"));
        else if (i == 41)
            TU_OK(runlog_writer_add_double(w, "text", 1.5)); /* two types in a frame */
        else
            TU_OK(runlog_writer_add_string(w, "text", "late"));
        TU_OK(runlog_writer_commit(w));
        if (i % 8 == 7) {
            TU_OK(runlog_writer_flush(w));
            flushed[nflushed++] = (uint64_t)tu_file_size(fx->path);
        }
    }
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
    size_t size;
    unsigned char *bytes = tu_read_file(fx->path, &size);
    char *crashed = tu_path(fx->dir, "crashed.runlog");
    tu_write_file(crashed, bytes, (size_t)flushed[6]);
    free(bytes);

    static const char *keys[] = {"full", "late", "tail", "pause", "gap", "typed", "mixed", "count", "text"};
    static const size_t lens[][9] = {{64, 47, 40, 56, 43, 64, 64, 64, 64}, {56, 39, 32, 48, 40, 56, 56, 56, 56}};
    /* runlog_history_type() of each: -1 for values of more than one type */
    static const int types[] = {RUNLOG_FLOAT, RUNLOG_FLOAT, RUNLOG_FLOAT, RUNLOG_FLOAT, RUNLOG_FLOAT,
                                -1, -1, RUNLOG_INT, -1};
    const char *paths[2] = {fx->path, crashed};
    for (int p = 0; p < 2; p++) {
        runlog_reader *r = NULL;
        runlog_histories *hs = NULL;
        TU_OK(runlog_reader_open(&r, paths[p], NULL));
        TU_OK(runlog_reader_histories(&hs, r));
        assert_int_equal(runlog_histories_count(hs), 9);
        for (size_t k = 0; k < 9; k++) {
            size_t at;
            TU_OK(runlog_histories_find(&at, hs, keys[k]));
            const runlog_history *all = runlog_histories_get(hs, at);
            runlog_history *one = NULL;
            TU_OK(runlog_reader_history(&one, r, keys[k]));
            assert_int_equal(runlog_history_length(all), lens[p][k]);
            assert_same_history(all, one);
            runlog_type t = (runlog_type)99;
            if (types[k] < 0) {
                TU_RC(runlog_history_type(&t, all), RUNLOG_ENOTFOUND);
            } else {
                TU_OK(runlog_history_type(&t, all));
                assert_int_equal(t, types[k]);
            }
            runlog_history_free(one);
        }
        size_t at;
        TU_OK(runlog_histories_find(&at, hs, "late"));
        assert_true(runlog_history_steps(runlog_histories_get(hs, at))[0] == 16);
        TU_OK(runlog_histories_find(&at, hs, "tail"));
        assert_true(runlog_history_steps(runlog_histories_get(hs, at))[0] == 24);
        runlog_histories_free(hs);
        runlog_reader_close(r);
    }
    free(crashed);
}

/* A wide run without an index (crashed): nothing sizes the histories, so
 * every key grows as the frames come, and the values outgrow the first
 * piece of memory the set carves them from; each history is still the
 * one-key read's, the file's and the crashed copy's alike. */
static void test_histories_wide_no_index(void **state)
{
    fixture *fx = *state;
    tu_clock clock = {T0, 1};
    runlog_writer_options o;
    tu_fixed_options(&o, &clock, 1);
    runlog_writer *w = NULL;
    remove(fx->path);
    TU_OK(runlog_writer_open(&w, fx->path, &o));
    enum { KEYS = 300, STEPS = 640 };
    char key[32];
    uint64_t flushed = 0;
    for (int i = 0; i < STEPS; i++) {
        for (int k = 0; k < KEYS; k++) {
            snprintf(key, sizeof key, "layer%03d/grad", k);
            TU_OK(runlog_writer_add_double(w, key, k + i * 1e-3));
        }
        TU_OK(runlog_writer_commit(w));
        if (i % 64 == 63) {
            TU_OK(runlog_writer_flush(w));
            flushed = (uint64_t)tu_file_size(fx->path);
        }
    }
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
    size_t size;
    unsigned char *bytes = tu_read_file(fx->path, &size);
    char *crashed = tu_path(fx->dir, "crashed.runlog");
    tu_write_file(crashed, bytes, (size_t)flushed - 1); /* the last frame torn */
    free(bytes);
    const char *paths[2] = {fx->path, crashed};
    for (int p = 0; p < 2; p++) {
        runlog_reader *r = NULL;
        runlog_histories *hs = NULL;
        TU_OK(runlog_reader_open(&r, paths[p], NULL));
        TU_OK(runlog_reader_histories(&hs, r));
        assert_int_equal(runlog_histories_count(hs), KEYS);
        for (size_t k = 0; k < KEYS; k++) {
            const runlog_history *all = runlog_histories_get(hs, k);
            assert_int_equal(runlog_history_length(all), p == 0 ? STEPS : STEPS - 64);
            if (k % 23 != 0 && k != KEYS - 1)
                continue;
            runlog_history *one = NULL;
            TU_OK(runlog_reader_history(&one, r, runlog_histories_key(hs, k, NULL)));
            assert_same_history(all, one);
            runlog_history_free(one);
        }
        runlog_histories_free(hs);
        runlog_reader_close(r);
    }
    free(crashed);
}

/* The reads after the first on one reader come from its key map: the same
 * histories, fewer bytes decoded on a wide run, and a file that grew is
 * read afresh (the map describes the size it was built at). */
static void test_history_key_map(void **state)
{
    fixture *fx = *state;
    tu_clock clock = {T0, 1};
    runlog_writer_options o;
    tu_fixed_options(&o, &clock, 1);
    char key[16];
    for (int round = 0; round < 2; round++) {
        runlog_writer *w = NULL;
        TU_OK(runlog_writer_open(&w, fx->path, &o)); /* the second round resumes */
        for (int i = 0; i < 40; i++) {
            for (int k = 0; k < 300; k++) {
                snprintf(key, sizeof key, "k%d", k);
                if (k != 7 || i % 3 == 0) /* k7 sparse: a presence bitmap */
                    TU_OK(runlog_writer_add_double(w, key, k * 1000 + i + round * 0.5));
            }
            TU_OK(runlog_writer_commit(w));
            if (i % 10 == 9)
                TU_OK(runlog_writer_flush(w));
        }
        TU_OK(runlog_writer_finish(w, 0));
        TU_OK(runlog_writer_close(w));
        if (round == 1)
            break;
    }
    runlog_reader *r = NULL, *fresh = NULL;
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    static const char *keys[] = {"k1", "k7", "k299", "k1", "k150"};
    uint64_t first_bytes = 0;
    for (size_t i = 0; i < 5; i++) {
        runlog_history *h = NULL, *g = NULL;
        TU_OK(runlog_reader_history(&h, r, keys[i]));
        TU_OK(runlog_reader_open(&fresh, fx->path, NULL)); /* a first read, no map */
        TU_OK(runlog_reader_history(&g, fresh, keys[i]));
        size_t n = runlog_history_length(g);
        assert_int_equal(runlog_history_length(h), n);
        assert_int_equal(n, strcmp(keys[i], "k7") ? 80 : 28);
        assert_memory_equal(runlog_history_steps(h), runlog_history_steps(g), n * 8);
        assert_memory_equal(runlog_history_times(h), runlog_history_times(g), n * 8);
        assert_memory_equal(runlog_history_values(h), runlog_history_values(g), n * 8);
        if (i == 0)
            first_bytes = runlog_history_bytes_decoded(h);
        else if (i >= 2) /* from the map: no key table, no descriptors */
            assert_true(runlog_history_bytes_decoded(h) < first_bytes);
        runlog_history_free(h);
        runlog_history_free(g);
        runlog_reader_close(fresh);
    }
    TU_RC(runlog_reader_history((runlog_history *[]){NULL}, r, "nope"), RUNLOG_ENOTFOUND);
    /* The file grows: the map is dropped, the new rows are read. */
    runlog_writer *w = NULL;
    TU_OK(runlog_writer_open(&w, fx->path, &o));
    TU_OK(runlog_writer_add_double(w, "k1", 42.0));
    TU_OK(runlog_writer_commit(w));
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
    runlog_history *h = NULL;
    TU_OK(runlog_reader_history(&h, r, "k1"));
    assert_int_equal(runlog_history_length(h), 81);
    assert_true(runlog_history_values(h)[80] == 42.0);
    runlog_history_free(h);
    runlog_reader_close(r);
}

/* Flips the low bit of the byte at offset at of the file. */
static void flip_byte(const char *path, uint64_t at)
{
    size_t len;
    unsigned char *file = tu_read_file(path, &len);
    assert_true(at < len);
    file[at] ^= 0x01;
    tu_write_file(path, file, len);
    free(file);
}

/* A reader of path, strict or tolerant. */
static runlog_reader *open_reader_mode(const char *path, int tolerant)
{
    runlog_reader_options ro = RUNLOG_READER_OPTIONS_INIT;
    runlog_reader *r = NULL;
    ro.flags = tolerant ? RUNLOG_READ_TOLERANT : 0;
    TU_OK(runlog_reader_open(&r, path, &ro));
    return r;
}

/* A wide sealed file (format 1.2, spec/FORMAT.md §4.1) writes k0..k<nkeys-1>
 * over 40 rows in 4 frames; *frame1: the offset of its second data frame
 * and *end1 the end of that frame's payload. */
static void write_sealed_wide(const char *path, int nkeys, uint64_t *frame1, uint64_t *end1)
{
    tu_clock clock = {T0, 1};
    runlog_writer_options o;
    tu_fixed_options(&o, &clock, 1);
    runlog_writer *w = NULL;
    char key[16];
    TU_OK(runlog_writer_open(&w, path, &o));
    for (int i = 0; i < 40; i++) {
        for (int k = 0; k < nkeys; k++) {
            snprintf(key, sizeof key, "k%d", k);
            TU_OK(runlog_writer_add_double(w, key, k * 1000 + i));
        }
        TU_OK(runlog_writer_commit(w));
        if (i % 10 == 9)
            TU_OK(runlog_writer_flush(w));
    }
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
    size_t len;
    unsigned char *file = tu_read_file(path, &len);
    assert_true((file[24] & 0x2) != 0); /* incompat_flags: sealed_blocks */
    uint64_t off = 72, size = file[72 + 24] | file[72 + 25] << 8 | (uint64_t)file[72 + 26] << 16 |
                              (uint64_t)file[72 + 27] << 24;
    off += 48 + size; /* past the first data frame */
    assert_int_equal(file[off + 4], 1); /* the second one: data */
    size = file[off + 24] | file[off + 25] << 8 | (uint64_t)file[off + 26] << 16 | (uint64_t)file[off + 27] << 24;
    *frame1 = off;
    *end1 = off + 48 + size;
    free(file);
}

/* A sealed file is read in part (§4.1): the first read of a key builds the
 * key map from the frames' directories and block 0s, and reads only the
 * key's own blocks; the values are the whole-file scan's. A value block
 * that fails its checksum is seen by the reads that need it (strict: a
 * checksum error naming its frame; tolerant: the scan's answer, the frame
 * skipped), not by the others, which the spec allows (§4.1, "Reading part
 * of a sealed frame"). */
static void test_history_sealed_partial(void **state)
{
    fixture *fx = *state;
    uint64_t frame1, end1;
    write_sealed_wide(fx->path, 300, &frame1, &end1);
    runlog_reader *r = NULL;
    runlog_histories *all = NULL;
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    TU_OK(runlog_reader_histories(&all, r)); /* a whole-file scan */
    uint64_t all_bytes = runlog_histories_bytes_decoded(all);
    runlog_reader_close(r);
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    static const char *keys[] = {"k0", "k150", "k299"};
    uint64_t first = 0;
    for (size_t i = 0; i < 3; i++) {
        runlog_history *h = NULL;
        size_t at;
        TU_OK(runlog_reader_history(&h, r, keys[i]));
        TU_OK(runlog_histories_find(&at, all, keys[i]));
        const runlog_history *g = runlog_histories_get(all, at);
        size_t n = runlog_history_length(g);
        assert_int_equal(n, 40);
        assert_int_equal(runlog_history_length(h), n);
        assert_memory_equal(runlog_history_steps(h), runlog_history_steps(g), n * 8);
        assert_memory_equal(runlog_history_times(h), runlog_history_times(g), n * 8);
        assert_memory_equal(runlog_history_values(h), runlog_history_values(g), n * 8);
        /* The first read: the 4 frames' block 0s and the key's blocks (a
         * pack of 16 KiB or a little more, §6.1, per frame), not the other
         * blocks; the next ones: the key's blocks only. */
        uint64_t dec = runlog_history_bytes_decoded(h);
        assert_true(dec < all_bytes);
        if (i == 0)
            first = dec;
        else
            assert_true(dec < first && dec <= 4 * (16384 + 1024));
        runlog_history_free(h);
    }
    runlog_reader_close(r);
    runlog_histories_free(all);

    /* The last byte of the second frame's last block, flipped: the frame is
     * damaged for a scan (verify), and for the reads of the keys in that block. */
    flip_byte(fx->path, end1 - 1);
    runlog_report *rep = NULL;
    TU_OK(runlog_verify(&rep, fx->path));
    assert_int_equal(runlog_report_damage_count(rep), 1);
    runlog_damage_kind kind;
    uint64_t off, dlen;
    const char *what;
    TU_OK(runlog_report_damage(rep, 0, &kind, &off, &dlen, &what));
    assert_int_equal(kind, RUNLOG_DAMAGE_FRAME);
    assert_true(off == frame1);
    assert_string_equal(what, "block checksum mismatch");
    runlog_report_free(rep);
    char where[64];
    snprintf(where, sizeof where, "byte %llu", (unsigned long long)frame1);
    for (int tolerant = 0; tolerant < 2; tolerant++) {
        r = open_reader_mode(fx->path, tolerant);
        int ok = 0, bad = 0;
        char key[16];
        for (int k = 0; k < 300; k++) {
            snprintf(key, sizeof key, "k%d", k);
            runlog_history *h = NULL;
            int rc = runlog_reader_history(&h, r, key);
            if (rc == 0 && runlog_history_length(h) == 40) {
                ok++;
                assert_true(runlog_history_values(h)[39] == k * 1000 + 39);
            } else if (tolerant) {
                TU_OK(rc); /* the scan's answer: the second frame's 10 rows lost */
                assert_int_equal(runlog_history_length(h), 30);
                bad++;
            } else {
                assert_int_equal(rc, RUNLOG_ECHECKSUM);
                assert_non_null(strstr(runlog_error_detail(), where));
                bad++;
            }
            runlog_history_free(h);
        }
        assert_true(bad >= 1 && ok >= 200);
        runlog_reader_close(r);
    }
}

/* A sealed file whose frames hold more keys than a key map pays for on a
 * first read (5,000 > KEY_MAP_FIRST_READ_KEYS, lib/reader.c): the first read
 * reads every frame's directory and block 0 and the key's blocks, without a
 * map; the second builds the map from the same; the third reads the key's
 * blocks only. A value block that fails its checksum, met by the first
 * read, makes it read the file again as a scan: strict, the checksum error
 * naming its frame; tolerant, the scan's answer. */
static void test_history_sealed_wide_first_read(void **state)
{
    fixture *fx = *state;
    enum { KEYS = 5000 };
    uint64_t frame1, end1;
    write_sealed_wide(fx->path, KEYS, &frame1, &end1);
    runlog_reader *r = NULL;
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    static const char *keys[] = {"k4999", "k0", "k2500"};
    static const double first_value[] = {4999000, 0, 2500000};
    uint64_t dec[3], frames[3];
    for (int i = 0; i < 3; i++) {
        runlog_history *h = NULL;
        TU_OK(runlog_reader_history(&h, r, keys[i]));
        assert_int_equal(runlog_history_length(h), 40);
        for (size_t j = 0; j < 40; j++) {
            assert_int_equal(runlog_history_steps(h)[j], j);
            assert_true(runlog_history_values(h)[j] == first_value[i] + (double)j);
        }
        dec[i] = runlog_history_bytes_decoded(h);
        frames[i] = runlog_history_frames_read(h);
        runlog_history_free(h);
    }
    runlog_reader_close(r);
    print_message("bytes decoded: %llu, %llu, %llu; frames read: %llu, %llu, %llu\n",
                  (unsigned long long)dec[0], (unsigned long long)dec[1], (unsigned long long)dec[2],
                  (unsigned long long)frames[0], (unsigned long long)frames[1],
                  (unsigned long long)frames[2]);
    /* The first read reads the 5 data frames (the last holds the finish
     * record) and decodes their block 0s (5,000 keys and descriptors each)
     * and the key's packs; the second the same to build the map, then the
     * key's 4 frames; the third those 4 frames' packs only (a map built by
     * the first read would make the second like the third). */
    assert_int_equal(frames[0], 5);
    assert_int_equal(frames[1], 5 + 4);
    assert_int_equal(frames[2], 4);
    assert_true(dec[0] > 2 * dec[2] && dec[1] > 2 * dec[2]);
    assert_true(dec[2] <= 4 * (16384 + 1024));

    /* The last byte of the second frame's last block (k4999's pack), flipped. */
    flip_byte(fx->path, end1 - 1);
    char where[64];
    snprintf(where, sizeof where, "byte %llu", (unsigned long long)frame1);
    for (int tolerant = 0; tolerant < 2; tolerant++) {
        r = open_reader_mode(fx->path, tolerant);
        runlog_history *h = NULL;
        int rc = runlog_reader_history(&h, r, "k4999");
        if (tolerant) {
            TU_OK(rc); /* the scan's answer: the second frame's 10 rows lost */
            assert_int_equal(runlog_history_length(h), 30);
            assert_int_equal(runlog_history_steps(h)[10], 20);
            runlog_history_free(h);
        } else {
            assert_int_equal(rc, RUNLOG_ECHECKSUM);
            assert_non_null(strstr(runlog_error_detail(), where));
        }
        runlog_reader_close(r);
    }
}

/* tests/data/hostile/record_unknown_required.runlog (RUNLOG_TEST_DATA, set
 * by meson): a frame with a record of type 0x7F, required and unknown. A
 * reader must refuse to go on there, read tolerantly too (spec/FORMAT.md
 * §5): the one-key reads (the first, and the second of the same reader)
 * and the all-keys read say so, naming the frame, as the record cursor
 * does. Before, they passed over every record but history records. */
static void test_history_refuses_unknown_required(void **state)
{
    (void)state;
    const char *data = getenv("RUNLOG_TEST_DATA");
    if (!data)
        fail_msg("RUNLOG_TEST_DATA is not set (meson test sets it to tests/data)");
    char *dir = tu_path(data, "hostile"), *path = tu_path(dir, "record_unknown_required.runlog");
    for (int tolerant = 0; tolerant < 2; tolerant++) {
        runlog_reader *r = open_reader_mode(path, tolerant);
        for (int pass = 0; pass < 2; pass++) {
            runlog_history *h = NULL;
            assert_int_equal(runlog_reader_history(&h, r, "loss"), RUNLOG_EUNSUPPORTED);
            assert_null(h);
            assert_non_null(strstr(runlog_error_detail(), "byte 307: unknown required record type"));
        }
        runlog_histories *all = NULL;
        assert_int_equal(runlog_reader_histories(&all, r), RUNLOG_EUNSUPPORTED);
        assert_non_null(strstr(runlog_error_detail(), "byte 307: unknown required record type"));
        runlog_reader_close(r);
    }
    free(path);
    free(dir);
}

/* A sealed frame whose directory is longer than the key map's first read
 * of a frame (64 KiB): 6,000 string columns of 4,100 bytes, each a block of
 * its own, make a directory of ~96 KB; the map reads it whole and the key
 * reads back. */
static void test_history_sealed_long_directory(void **state)
{
    fixture *fx = *state;
    tu_clock clock = {T0, 1};
    runlog_writer_options o;
    tu_fixed_options(&o, &clock, 1);
    runlog_writer *w = NULL;
    enum { KEYS = 6000, LEN = 4100 };
    char *text = malloc(LEN + 1), key[16];
    assert_non_null(text);
    TU_OK(runlog_writer_open(&w, fx->path, &o));
    for (int k = 0; k < KEYS; k++) {
        for (int i = 0; i < LEN; i++)
            text[i] = (char)('a' + (k * 7 + i * 13) % 26);
        text[LEN] = '\0';
        snprintf(key, sizeof key, "s%d", k);
        TU_OK(runlog_writer_add_string(w, key, text));
    }
    TU_OK(runlog_writer_commit(w));
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
    runlog_reader *r = NULL;
    runlog_history *h = NULL;
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    TU_OK(runlog_reader_history(&h, r, "s5999"));
    assert_int_equal(runlog_history_length(h), 1);
    size_t n;
    const char *got = runlog_value_string(runlog_history_value(h, 0), &n);
    assert_int_equal(n, LEN);
    for (int i = 0; i < LEN; i++)
        assert_int_equal(got[i], (char)('a' + (5999 * 7 + i * 13) % 26));
    /* the map read the frame in part: far fewer bytes than the frame's */
    assert_true(runlog_history_bytes_decoded(h) < (uint64_t)KEYS * LEN / 4);
    runlog_history_free(h);
    runlog_reader_close(r);
    free(text);
}

/* ---- JSON rendering of the values JSON cannot hold ------------------------ */

/* runlog.h: NaN and the infinities become "NaN", "Infinity", "-Infinity". */
static void test_value_to_json(void **state)
{
    fixture *fx = *state;
    fill_long_string();
    write_values(fx->path, 1);
    runlog_reader *r = NULL;
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    static const struct {
        const char *key, *json;
    } cases[] = {
        {"f/nan_payload", "\"NaN\""},
        {"f/neg_nan", "\"NaN\""},
        {"f/+inf", "\"Infinity\""},
        {"f/-inf", "\"-Infinity\""},
        {"i/min", "-9223372036854775808"},
        {"i/max", "9223372036854775807"},
        {"b/true", "true"},
        {"n/null", "null"},
        {"s/empty", "\"\""},
        {"j/scalar", "3"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        runlog_history *h = NULL;
        TU_OK(runlog_reader_history(&h, r, cases[i].key));
        char *json = NULL;
        TU_OK(runlog_value_to_json(&json, runlog_history_value(h, 0), 0));
        if (strcmp(json, cases[i].json) != 0)
            fail_msg("%s as JSON: %s, expected %s", cases[i].key, json, cases[i].json);
        runlog_free(json);
        runlog_history_free(h);
    }
    runlog_reader_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_values_sync, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_values_threaded, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_alerts_console, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_many_rows, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_history_uses_index, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_histories_all_keys, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_histories_shared_rows, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_histories_wide_no_index, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_history_key_map, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_history_sealed_partial, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_history_sealed_wide_first_read, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_history_sealed_long_directory, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_history_refuses_unknown_required, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_value_to_json, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
