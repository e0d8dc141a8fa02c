/*
 * test_export_json.c — librunlog-export's stream formats called directly
 * (runlog_export(): JSON, JSONL, CSV, CSV_LONG, CSV_TABLE, HISTORY, DUMP):
 * byte for byte what the `runlog` command writes for the same file, the
 * output descriptor mode, the output that is an input, the damage policy,
 * json_nan_null, csv_with_run (several runs in one CSV), and bad options.
 *
 * usage: test_export_json RUNLOG
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exportutil.h"

typedef struct fixture {
    char *dir, *in;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);

    f->dir = tu_tmpdir();
    f->in = tu_path(f->dir, "run.runlog");
    xu_make_run(f->dir, f->in);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    tu_tmpdir_free(f->dir);
    free(f->in);
    free(f);
    return 0;
}

/* One stream export and the command that writes the same thing. */
typedef struct stream_case {
    runlog_export_format format;
    const char *table;
    const char *const *keys;
    size_t nkeys;
    const char *args[8]; /* the command's words; "IN" is the input, "OUT" -o's value */
    int to_stdout;       /* the command has no -o: compare its stdout */
} stream_case;

static const char *const history_keys[] = {"loss", "note", "acc", "samples/img"};

static const stream_case cases[] = {
    {RUNLOG_EXPORT_JSON, NULL, NULL, 0, {"export", "json", "IN", "-o", "OUT"}, 0},
    {RUNLOG_EXPORT_JSONL, NULL, NULL, 0, {"export", "json", "--history-jsonl", "IN", "-o", "OUT"}, 0},
    {RUNLOG_EXPORT_CSV, NULL, NULL, 0, {"export", "csv", "IN", "-o", "OUT"}, 0},
    {RUNLOG_EXPORT_CSV_LONG, NULL, NULL, 0, {"export", "csv", "--long", "IN", "-o", "OUT"}, 0},
    {RUNLOG_EXPORT_CSV_TABLE, "preds", NULL, 0, {"export", "csv", "IN", "--table", "preds", "-o", "OUT"}, 0},
    {RUNLOG_EXPORT_CSV_TABLE, "preds@1", NULL, 0, {"export", "csv", "IN", "--table", "preds@1", "-o", "OUT"}, 0},
    {RUNLOG_EXPORT_HISTORY, NULL, history_keys, 4, {"history", "IN", "loss", "note", "acc", "samples/img"}, 1},
    {RUNLOG_EXPORT_DUMP, NULL, NULL, 0, {"dump", "IN"}, 1},
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* The command's words for case c on in, writing out (or stdout), with
 * extra (e.g. "--strict") appended when not NULL. */
static void command_args(const char **argv, const stream_case *c, const char *in, const char *out,
                         const char *extra)
{
    size_t i, n = 0;

    for (i = 0; i < 8 && c->args[i]; i++)
        argv[n++] = strcmp(c->args[i], "IN") == 0 ? in : strcmp(c->args[i], "OUT") == 0 ? out
                                                                                      : c->args[i];
    if (extra)
        argv[n++] = extra;
    argv[n] = NULL;
}

/* Runs case c through the command: its output (the -o file, or stdout) at
 * out, stderr at err; returns the exit status. */
static int run_command(const stream_case *c, const char *in, const char *out, const char *err,
                       const char *extra)
{
    const char *argv[12];

    command_args(argv, c, in, out, extra);
    return xu_run(c->to_stdout ? out : NULL, err, argv);
}

static runlog_export_options case_options(const stream_case *c, xu_notices *n)
{
    runlog_export_options o = xu_options(c->format, n);

    o.table = c->table;
    o.keys = c->keys;
    o.nkeys = c->nkeys;
    return o;
}

static void test_stream_formats_match_command(void **state)
{
    fixture *f = *state;
    const char *in = f->in;
    size_t i;

    for (i = 0; i < N_CASES; i++) {
        char *lib = tu_path(f->dir, "lib.out"), *cmd = tu_path(f->dir, "cmd.out"),
             *err = tu_path(f->dir, "cmd.err");
        xu_notices n = {0};
        runlog_export_options o = case_options(&cases[i], &n);

        TU_OK(runlog_export(&in, 1, lib, &o));
        assert_int_equal(n.count[RUNLOG_NOTICE_DAMAGE] + n.count[RUNLOG_NOTICE_WARNING], 0);
        assert_true(tu_file_size(lib) > 20);
        assert_int_equal(run_command(&cases[i], in, cmd, err, NULL), 0);
        xu_assert_file_is(err, "", 0);
        xu_assert_same_file(lib, cmd);
        xu_notices_free(&n);
        free(lib);
        free(cmd);
        free(err);
    }
}

/* json_nan_null (`--nan null`): the NaN and Infinity of the test run become
 * null in JSON and JSONL, nowhere a string; the default keeps the strings;
 * the command's --nan null writes the same bytes. */
static void test_nan_null(void **state)
{
    fixture *f = *state;
    const char *in = f->in;
    runlog_export_format formats[2] = {RUNLOG_EXPORT_JSON, RUNLOG_EXPORT_JSONL};
    size_t i, len;

    for (i = 0; i < 2; i++) {
        char *out = tu_path(f->dir, "nan.json"), *dflt = tu_path(f->dir, "strings.json");
        runlog_export_options o = RUNLOG_EXPORT_OPTIONS_INIT;
        unsigned char *text;

        o.format = formats[i];
        TU_OK(runlog_export(&in, 1, dflt, &o));
        text = tu_read_file(dflt, &len);
        assert_non_null(strstr((char *)text, "\"loss\":\"NaN\""));
        assert_non_null(strstr((char *)text, "\"acc\":\"Infinity\""));
        free(text);
        o.json_nan_null = 1;
        TU_OK(runlog_export(&in, 1, out, &o));
        text = tu_read_file(out, &len);
        assert_non_null(strstr((char *)text, "\"loss\":null"));
        assert_non_null(strstr((char *)text, "\"acc\":null"));
        assert_null(strstr((char *)text, "\"NaN\""));
        assert_null(strstr((char *)text, "\"Infinity\""));
        free(text);
        if (i == 0) {
            char *cmd = tu_path(f->dir, "cmd.json");
            const char *args[] = {"export", "json", in, "-o", cmd, "--nan", "null", NULL};
            assert_int_equal(xu_run(NULL, NULL, args), 0);
            xu_assert_same_file(out, cmd);
            free(cmd);
        }
        free(out);
        free(dflt);
    }
}

/* A second run for csv_with_run: its own id and file, a nested config. */
static void make_second_run(const char *path, const char *id)
{
    tu_clock clock = {1700000100000000000LL, 1000000};
    runlog_writer_options o;
    runlog_writer *w;

    tu_fixed_options(&o, &clock, 1);
    o.run_id = id;
    o.name = "second, \"run\"";
    o.group = "g";
    o.file_uuid = NULL;
    TU_OK(runlog_writer_open(&w, path, &o));
    TU_OK(runlog_writer_config_json(w, "{\"lr\":0.1,\"opt\":{\"name\":\"sgd\",\"beta\":[1,2]},"
                                       "\"empty\":{}}"));
    TU_OK(runlog_writer_add_double(w, "val/acc", 0.75));
    TU_OK(runlog_writer_add_double(w, "loss", 2.0));
    TU_OK(runlog_writer_commit_step(w, 7));
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
}

static size_t count_lines(const char *text, const char *prefix)
{
    size_t n = 0;
    const char *p = text;

    for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        n += strncmp(p, prefix, strlen(prefix)) == 0;
    return n;
}

/* csv_with_run (`export csv --with-run`, spec/EXPORTS.md §4.6): two runs
 * in one wide CSV, each row starting with its run and config columns (the
 * union, nested maps as dotted names, empty where a run has none), the
 * history keys of both; the command writes the same bytes; a file given
 * twice is read once; a run in two files and other formats are refused. */
static void test_csv_with_run(void **state)
{
    fixture *f = *state;
    char *second = tu_path(f->dir, "second.runlog"), *out = tu_path(f->dir, "runs.csv");
    char *cmd = tu_path(f->dir, "cmd.csv"), *other = tu_path(f->dir, "resumed.runlog");
    const char *in[] = {f->in, second}, *twice[] = {f->in, second, f->in};
    const char *args[] = {"export", "csv", "--with-run", f->in, second, "-o", cmd, NULL};
    runlog_export_options o = RUNLOG_EXPORT_OPTIONS_INIT;
    xu_notices n = {0};
    unsigned char *text;
    size_t len;

    make_second_run(second, "second-run");
    o.format = RUNLOG_EXPORT_CSV;
    o.csv_with_run = 1;
    TU_OK(runlog_export(in, 2, out, &o));
    text = tu_read_file(out, &len);
    text = realloc(text, len + 1);
    text[len] = '\0';
    assert_true(strncmp((char *)text,
                        "_run_id,_run_name,_run_project,_run_group,config.optimizer,config.lr,"
                        "config.opt.name,config.opt.beta,config.empty,_step,_timestamp,loss,acc,",
                        strlen("_run_id,_run_name,_run_project,_run_group,config.optimizer,"
                               "config.lr,config.opt.name,config.opt.beta,config.empty,_step,"
                               "_timestamp,loss,acc,")) == 0);
    assert_non_null(strstr((char *)text, ",val/acc\n"));
    /* the first run's three rows, the second's one */
    assert_int_equal(count_lines((char *)text, "test-run-0001,fixed,runlog-tests,,adam,0.001,,,,"),
                     3);
    assert_int_equal(count_lines((char *)text, "second-run,\"second, \"\"run\"\"\",runlog-tests,g,,"
                                               "0.1,sgd,\"[1,2]\",{},7,1700000100."), 1);
    assert_non_null(strstr((char *)text, ",2.0,,"));
    assert_true(len > 2 && strcmp((char *)text + len - 6, ",0.75\n") == 0);
    assert_int_equal(xu_run(NULL, NULL, args), 0);
    xu_assert_same_file(out, cmd);
    free(text);

    /* the same file twice: once, with the run set's warning */
    o = xu_options(RUNLOG_EXPORT_CSV, &n);
    o.csv_with_run = 1;
    TU_OK(runlog_export(twice, 3, cmd, &o));
    assert_int_equal(n.count[RUNLOG_NOTICE_WARNING], 1);
    xu_assert_same_file(out, cmd);
    xu_notices_free(&n);

    /* one run in two files: refused, nothing at OUT */
    {
        tu_clock clock = {1700000200000000000LL, 1000};
        runlog_writer_options wo;
        runlog_writer *w;
        const char *split[] = {f->in, other};

        tu_fixed_options(&wo, &clock, 1);
        wo.file_uuid = NULL; /* the first run's id, another file */
        TU_OK(runlog_writer_open(&w, other, &wo));
        TU_OK(runlog_writer_config_string(w, "optimizer", "adam"));
        TU_OK(runlog_writer_config_double(w, "lr", 0.001));
        TU_OK(runlog_writer_add_double(w, "loss", 0.125));
        TU_OK(runlog_writer_commit_step(w, 9));
        TU_OK(runlog_writer_close(w));
        unlink(cmd);
        memset(&n, 0, sizeof n);
        o = xu_options(RUNLOG_EXPORT_CSV, &n);
        o.csv_with_run = 1;
        assert_int_equal(runlog_export(split, 2, cmd, &o), RUNLOG_EUNSUPPORTED);
        assert_non_null(strstr(runlog_error_detail(), "in 2 files"));
        assert_false(tu_exists(cmd));
        xu_notices_free(&n);
        o.notice = NULL;
    }
    /* other formats; several files without it */
    o.format = RUNLOG_EXPORT_JSON;
    assert_int_equal(runlog_export(in, 1, cmd, &o), RUNLOG_EINVAL);
    o.format = RUNLOG_EXPORT_CSV_LONG;
    assert_int_equal(runlog_export(in, 1, cmd, &o), RUNLOG_EINVAL);
    o.format = RUNLOG_EXPORT_CSV;
    o.csv_with_run = 0;
    assert_int_equal(runlog_export(in, 2, cmd, &o), RUNLOG_EINVAL);
    free(second);
    free(out);
    free(cmd);
    free(other);
}

/* out NULL: the stream goes to out_fd, which stays open (and positioned
 * after what was written) for the caller. */
static void test_out_fd(void **state)
{
    fixture *f = *state;
    const char *in = f->in;
    size_t i;

    for (i = 0; i < N_CASES; i++) {
        char *by_path = tu_path(f->dir, "path.out"), *by_fd = tu_path(f->dir, "fd.out");
        runlog_export_options o = case_options(&cases[i], NULL);
        unsigned char *want;
        size_t len;
        int fd;

        o.notice = NULL;
        TU_OK(runlog_export(&in, 1, by_path, &o));
        fd = open(by_fd, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "<", 1), 1);
        o.out_fd = fd;
        TU_OK(runlog_export(&in, 1, NULL, &o));
        assert_int_equal(write(fd, ">", 1), 1);
        assert_int_equal(close(fd), 0);
        want = tu_read_file(by_path, &len);
        want = realloc(want, len + 2);
        memmove(want + 1, want, len);
        want[0] = '<';
        want[len + 1] = '>';
        xu_assert_file_is(by_fd, want, len + 2);
        free(want);
        free(by_path);
        free(by_fd);
    }
}

/* An output that is the input, by a hard or a symbolic link, is refused
 * before anything is written; the input keeps every byte. */
static void test_output_is_input_refused(void **state)
{
    fixture *f = *state;
    char *hard = tu_path(f->dir, "hard.runlog"), *sym = tu_path(f->dir, "sym.runlog");
    const char *in = f->in, *outs[3];
    size_t len, i, k;
    unsigned char *before = tu_read_file(in, &len);
    long entries;

    outs[0] = hard;
    outs[1] = sym;
    outs[2] = in;
    assert_int_equal(link(in, hard), 0);
    assert_int_equal(symlink(in, sym), 0);
    entries = xu_dir_entries(f->dir);
    for (k = 0; k < 3; k++) {
        for (i = 0; i < N_CASES; i++) {
            runlog_export_options o = case_options(&cases[i], NULL);

            o.notice = NULL;
            TU_RC(runlog_export(&in, 1, outs[k], &o), RUNLOG_EINVAL);
            assert_non_null(strstr(runlog_error_detail(), "is the input"));
            xu_assert_file_is(in, before, len);
            assert_int_equal(xu_dir_entries(f->dir), entries);
        }
        {
            const char *argv[] = {"export", "json", in, "-o", outs[k], NULL};
            assert_int_equal(xu_run(NULL, NULL, argv), 1);
            xu_assert_file_is(in, before, len);
        }
    }
    assert_int_equal(xu_dir_entries(f->dir), entries);
    free(before);
    free(hard);
    free(sym);
}

/* Tolerant (the default): the damaged frame is skipped, reported as a
 * notice (the command's stderr line), the output written whole, and the
 * call returns RUNLOG_EDAMAGED (exit status 1). Strict: the damage fails
 * the call with the reader's code and nothing is left at the output. */
static void test_damage_policy(void **state)
{
    fixture *f = *state;
    char *bad = tu_path(f->dir, "bad.runlog"), *lib = tu_path(f->dir, "lib.out"),
         *cmd = tu_path(f->dir, "cmd.out"), *err = tu_path(f->dir, "cmd.err");
    const char *in = bad;
    uint64_t at = xu_damage_copy(f->in, bad);
    char where[64];
    size_t i;

    snprintf(where, sizeof where, "%s: byte ", bad);
    (void)at;
    for (i = 0; i < N_CASES; i++) {
        xu_notices n = {0};
        runlog_export_options o = case_options(&cases[i], &n);
        long entries;
        int rc;

        TU_RC(runlog_export(&in, 1, lib, &o), RUNLOG_EDAMAGED);
        assert_int_equal(n.count[RUNLOG_NOTICE_DAMAGE], 1);
        assert_non_null(strstr(n.stderr_.p, where));
        assert_non_null(strstr(n.stderr_.p, "bytes skipped"));
        assert_int_equal(run_command(&cases[i], in, cmd, err, NULL), 1);
        xu_assert_same_file(lib, cmd);
        xu_assert_file_is(err, n.stderr_.p, n.stderr_.len);
        xu_notices_free(&n);

        unlink(lib);
        entries = xu_dir_entries(f->dir);
        o.damage = RUNLOG_DAMAGE_STRICT;
        rc = runlog_export(&in, 1, lib, &o);
        if (rc >= 0 || rc == RUNLOG_EDAMAGED)
            fail_msg("case %zu strict: %d (%s)", i, rc, runlog_error_detail());
        assert_int_equal(strncmp(runlog_error_detail(), where, strlen(where)), 0);
        assert_int_equal(n.count[RUNLOG_NOTICE_DAMAGE], 0);
        assert_false(tu_exists(lib));
        assert_int_equal(xu_dir_entries(f->dir), entries);
        {
            char line[1200];
            int len = snprintf(line, sizeof line, "runlog: %s\n", runlog_error_detail());

            unlink(cmd);
            assert_int_equal(run_command(&cases[i], in, cmd, err, "--strict"), 1);
            xu_assert_file_is(err, line, (size_t)len);
            if (!cases[i].to_stdout)
                assert_false(tu_exists(cmd));
        }
        xu_notices_free(&n);
    }
    free(bad);
    free(lib);
    free(cmd);
    free(err);
}

/* A key that never appears: a warning, the other keys written, then
 * RUNLOG_ENOTFOUND naming it; the command prints the warning once per key
 * (not again as the failure) and exits 1. */
static void test_history_missing_key(void **state)
{
    static const char *const keys[] = {"loss", "nosuch", "acc", "other"};
    fixture *f = *state;
    char *lib = tu_path(f->dir, "lib.out"), *cmd = tu_path(f->dir, "cmd.out"),
         *err = tu_path(f->dir, "cmd.err");
    const char *in = f->in;
    const char *argv[] = {"history", in, "loss", "nosuch", "acc", "other", NULL};
    xu_notices n = {0};
    runlog_export_options o = xu_options(RUNLOG_EXPORT_HISTORY, &n);
    char want[1024];
    int fd;

    o.keys = keys;
    o.nkeys = 4;
    fd = open(lib, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    assert_true(fd >= 0);
    o.out_fd = fd;
    TU_RC(runlog_export(&in, 1, NULL, &o), RUNLOG_ENOTFOUND);
    close(fd);
    snprintf(want, sizeof want, "%s: no history for key 'other'", in);
    assert_string_equal(runlog_error_detail(), want);
    assert_int_equal(n.count[RUNLOG_NOTICE_WARNING], 2);
    snprintf(want, sizeof want,
             "runlog: %s: no history for key 'nosuch'\nrunlog: %s: no history for key 'other'\n",
             in, in);
    assert_string_equal(n.stderr_.p, want);

    assert_int_equal(xu_run(cmd, err, argv), 1);
    xu_assert_same_file(lib, cmd);
    xu_assert_file_is(err, want, strlen(want));
    {
        size_t len;
        char *text = (char *)tu_read_file(cmd, &len);

        assert_non_null(strstr(text, "\nloss,"));
        assert_non_null(strstr(text, "\nacc,"));
        free(text);
    }

    /* To a path, the failure leaves nothing there. */
    unlink(lib);
    TU_RC(runlog_export(&in, 1, lib, &o), RUNLOG_ENOTFOUND);
    assert_false(tu_exists(lib));
    xu_notices_free(&n);
    free(lib);
    free(cmd);
    free(err);
}

static void test_table_not_found(void **state)
{
    fixture *f = *state;
    char *lib = tu_path(f->dir, "lib.out");
    const char *in = f->in;
    runlog_export_options o = xu_options(RUNLOG_EXPORT_CSV_TABLE, NULL);
    char want[1024];

    o.notice = NULL;
    o.table = "preds@4";
    TU_RC(runlog_export(&in, 1, lib, &o), RUNLOG_ENOTFOUND);
    snprintf(want, sizeof want, "%s: no table under 'preds' at that step", in);
    assert_string_equal(runlog_error_detail(), want);
    o.table = "loss";
    TU_RC(runlog_export(&in, 1, lib, &o), RUNLOG_ENOTFOUND);
    assert_false(tu_exists(lib));
    free(lib);
}

static void test_bad_options(void **state)
{
    fixture *f = *state;
    char *lib = tu_path(f->dir, "lib.out");
    const char *in = f->in, *two[2];
    runlog_export_options o = xu_options(RUNLOG_EXPORT_JSON, NULL);

    two[0] = in;
    two[1] = in;
    o.notice = NULL;
    o.version = RUNLOG_EXPORT_OPTIONS_VERSION + 1;
    TU_RC(runlog_export(&in, 1, lib, &o), RUNLOG_EINVAL);
    assert_non_null(strstr(runlog_error_detail(), "version"));
    o.version = 0;
    TU_RC(runlog_export(&in, 1, lib, &o), RUNLOG_EINVAL);
    o.version = RUNLOG_EXPORT_OPTIONS_VERSION;

    o.damage = (runlog_damage_policy)7;
    TU_RC(runlog_export(&in, 1, lib, &o), RUNLOG_EINVAL);
    o.damage = RUNLOG_DAMAGE_TOLERANT;
    o.format = (runlog_export_format)0;
    TU_RC(runlog_export(&in, 1, lib, &o), RUNLOG_EINVAL);
    o.format = (runlog_export_format)99;
    TU_RC(runlog_export(&in, 1, lib, &o), RUNLOG_EINVAL);
    o.format = RUNLOG_EXPORT_JSON;

    TU_RC(runlog_export(two, 2, lib, &o), RUNLOG_EINVAL);
    TU_RC(runlog_export(&in, 0, lib, &o), RUNLOG_EINVAL);
    TU_RC(runlog_export(NULL, 1, lib, &o), RUNLOG_EINVAL);
    TU_RC(runlog_export(&in, 1, NULL, &o), RUNLOG_EINVAL); /* no path, out_fd -1 */
    TU_RC(runlog_export(&in, 1, lib, NULL), 0);             /* the defaults: JSON */
    assert_true(unlink(lib) == 0);

    o.format = RUNLOG_EXPORT_HISTORY;
    TU_RC(runlog_export(&in, 1, lib, &o), RUNLOG_EINVAL); /* no keys */
    o.keys = history_keys;
    TU_RC(runlog_export(&in, 1, lib, &o), RUNLOG_EINVAL); /* nkeys 0 */
    o.format = RUNLOG_EXPORT_CSV_TABLE;
    TU_RC(runlog_export(&in, 1, lib, &o), RUNLOG_EINVAL); /* no table */
    o.format = RUNLOG_EXPORT_ARTIFACT;
    TU_RC(runlog_export(&in, 1, lib, &o), RUNLOG_EINVAL); /* no artifact */
    o.artifact = "my-model";
    TU_RC(runlog_export(&in, 1, NULL, &o), RUNLOG_EINVAL); /* a folder is needed */
    assert_false(tu_exists(lib));

    o.format = RUNLOG_EXPORT_JSON;
    {
        const char *missing = "/nonexistent/run.runlog";
        char want[256];

        TU_RC(runlog_export(&missing, 1, lib, &o), RUNLOG_EIO);
        snprintf(want, sizeof want, "%s: ", missing);
        assert_int_equal(strncmp(runlog_error_detail(), want, strlen(want)), 0);
        assert_false(tu_exists(lib));
    }
    free(lib);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_formats_match_command),
        cmocka_unit_test(test_out_fd),
        cmocka_unit_test(test_nan_null),
        cmocka_unit_test(test_csv_with_run),
        cmocka_unit_test(test_output_is_input_refused),
        cmocka_unit_test(test_damage_policy),
        cmocka_unit_test(test_history_missing_key),
        cmocka_unit_test(test_table_not_found),
        cmocka_unit_test(test_bad_options),
    };
    int rc = xu_main_args(argc, argv);

    if (rc)
        return rc;
    return cmocka_run_group_tests(tests, setup, teardown);
}
