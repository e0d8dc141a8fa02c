/*
 * test_export_extract.c — librunlog-export's folder outputs called directly
 * (runlog_export(): IMAGES, ARTIFACT): the same files as `runlog extract`
 * writes for the same run-log, and the command's stdout lines received as
 * RUNLOG_NOTICE_OUTPUT notices; the damage policy (strict creates nothing);
 * an artifact or selector that is not there; the output that is an input.
 *
 * usage: test_export_extract RUNLOG
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Extracts with the library into out, moves it aside, runs the command
 * with the same -o out, and compares the trees and the lines: the
 * command's stdout must be the OUTPUT notices. Returns the file count;
 * the notices stay in n. */
static size_t extract_both(fixture *f, const char *in, runlog_export_options *o, xu_notices *n,
                           const char *const *cmd_args, int want_rc)
{
    char *out = tu_path(f->dir, "out"), *aside = tu_path(f->dir, "out.lib"),
         *cmd_out = tu_path(f->dir, "cmd.out"), *cmd_err = tu_path(f->dir, "cmd.err");
    const char *argv[12];
    size_t i = 0, files;

    TU_RC(runlog_export(&in, 1, out, o), want_rc);
    assert_int_equal(rename(out, aside), 0);
    argv[i++] = "extract";
    argv[i++] = in;
    while (*cmd_args)
        argv[i++] = *cmd_args++;
    argv[i++] = "-o";
    argv[i++] = out;
    argv[i] = NULL;
    assert_int_equal(xu_run(cmd_out, cmd_err, argv), want_rc == 0 ? 0 : 1);
    xu_assert_file_is(cmd_out, n->output.p ? n->output.p : "", n->output.len);
    xu_assert_file_is(cmd_err, n->stderr_.p ? n->stderr_.p : "", n->stderr_.len);
    files = xu_assert_same_tree(out, aside);
    tu_tmpdir_free(aside); /* removes the trees, frees the names */
    tu_tmpdir_free(out);
    free(cmd_out);
    free(cmd_err);
    return files;
}

static void test_images_match_command(void **state)
{
    static const char *const args[] = {"--images", NULL};
    fixture *f = *state;
    xu_notices n = {0};
    runlog_export_options o = xu_options(RUNLOG_EXPORT_IMAGES, &n);
    char want[1024];
    size_t files;

    if (!runlog_export_supported(RUNLOG_EXPORT_IMAGES))
        skip();
    files = extract_both(f, f->in, &o, &n, args, 0);
    /* Two rows of three images, and two image cells of the table (the
     * third is null). */
    assert_int_equal(files, 8);
    snprintf(want, sizeof want, "extracted 8 images into %s/out\n", f->dir);
    assert_string_equal(n.output.p, want);
    assert_int_equal(n.count[RUNLOG_NOTICE_OUTPUT], 1);
    xu_notices_free(&n);
}

static void test_artifact_match_command(void **state)
{
    static const char *const specs[] = {"my-model", "my-model:v0", "my-model:best",
                                        "my-model:latest"};
    fixture *f = *state;
    size_t i;

    for (i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        const char *args[] = {"--artifact", specs[i], NULL};
        xu_notices n = {0};
        runlog_export_options o = xu_options(RUNLOG_EXPORT_ARTIFACT, &n);
        char want[2048];

        o.artifact = specs[i];
        assert_int_equal(extract_both(f, f->in, &o, &n, args, 0), 2);
        snprintf(want, sizeof want,
                 "artifact my-model:v0\n"
                 "reference data/train.tar -> s3://bucket/train.tar (1234 bytes, not fetched)\n"
                 "%s/out/model.bin (10 bytes)\n"
                 "%s/out/sub/notes.txt (6 bytes)\n"
                 "extracted 2 files, 16 bytes\n",
                 f->dir, f->dir);
        assert_string_equal(n.output.p, want);
        assert_int_equal(n.count[RUNLOG_NOTICE_OUTPUT], 5);
        xu_notices_free(&n);
    }
}

/* Without a notice callback the lines are dropped; the files are the same. */
static void test_no_callback(void **state)
{
    fixture *f = *state;
    char *out = tu_path(f->dir, "out");
    const char *in = f->in;
    runlog_export_options o = RUNLOG_EXPORT_OPTIONS_INIT;

    o.format = RUNLOG_EXPORT_ARTIFACT;
    o.artifact = "my-model";
    TU_OK(runlog_export(&in, 1, out, &o));
    assert_int_equal(xu_dir_entries(out), 2);
    tu_tmpdir_free(out);
}

static void test_not_found(void **state)
{
    fixture *f = *state;
    char *out = tu_path(f->dir, "out"), want[1024];
    const char *in = f->in;
    const char *specs[] = {"nosuch", "my-model:v1", "my-model:worst"};
    size_t i;

    for (i = 0; i < 3; i++) {
        xu_notices n = {0};
        runlog_export_options o = xu_options(RUNLOG_EXPORT_ARTIFACT, &n);

        o.artifact = specs[i];
        TU_RC(runlog_export(&in, 1, out, &o), RUNLOG_ENOTFOUND);
        snprintf(want, sizeof want, "%s: no artifact '%s'", in, specs[i]);
        assert_string_equal(runlog_error_detail(), want);
        assert_int_equal(n.count[RUNLOG_NOTICE_OUTPUT], 0);
        assert_false(tu_exists(out)); /* the folder is not even made */
        xu_notices_free(&n);
    }
    free(out);
}

/* Tolerant: skipped, reported, the files written as the command writes
 * them, RUNLOG_EDAMAGED. Strict: the damage fails the call before the
 * folder is made. */
static void test_damage_policy(void **state)
{
    static const char *const image_args[] = {"--images", NULL};
    static const char *const art_args[] = {"--artifact", "my-model", NULL};
    fixture *f = *state;
    char *bad = tu_path(f->dir, "bad.runlog"), *out = tu_path(f->dir, "out"), where[1024];
    const char *in = bad;
    int k;

    xu_damage_copy(f->in, bad);
    snprintf(where, sizeof where, "%s: byte ", bad);
    for (k = 0; k < 2; k++) {
        runlog_export_format format = k ? RUNLOG_EXPORT_ARTIFACT : RUNLOG_EXPORT_IMAGES;
        xu_notices n = {0};
        runlog_export_options o = xu_options(format, &n);
        int rc;

        if (!runlog_export_supported(format))
            continue;
        o.artifact = "my-model";
        extract_both(f, bad, &o, &n, k ? art_args : image_args, RUNLOG_EDAMAGED);
        assert_int_equal(n.count[RUNLOG_NOTICE_DAMAGE], 1);
        assert_non_null(strstr(n.stderr_.p, where));
        xu_notices_free(&n);

        o.damage = RUNLOG_DAMAGE_STRICT;
        rc = runlog_export(&in, 1, out, &o);
        assert_true(rc < 0 && rc != RUNLOG_EDAMAGED);
        assert_int_equal(strncmp(runlog_error_detail(), where, strlen(where)), 0);
        assert_int_equal(n.count[RUNLOG_NOTICE_OUTPUT] + n.count[RUNLOG_NOTICE_DAMAGE], 0);
        assert_false(tu_exists(out));
        {
            const char *argv[] = {"extract", bad, "-o", out, "--strict",
                                  k ? "--artifact" : "--images", k ? "my-model" : NULL, NULL};
            char *err = tu_path(f->dir, "cmd.err"), line[1200];
            int len = snprintf(line, sizeof line, "runlog: %s\n", runlog_error_detail());

            assert_int_equal(xu_run(NULL, err, argv), 1);
            xu_assert_file_is(err, line, (size_t)len);
            assert_false(tu_exists(out));
            free(err);
        }
        xu_notices_free(&n);
    }
    free(bad);
    free(out);
}

/* The output folder named by a link to the input is refused. */
static void test_output_is_input_refused(void **state)
{
    fixture *f = *state;
    char *hard = tu_path(f->dir, "hard.runlog"), *sym = tu_path(f->dir, "sym.runlog");
    const char *in = f->in;
    size_t len;
    unsigned char *before = tu_read_file(in, &len);
    runlog_export_options o = RUNLOG_EXPORT_OPTIONS_INIT;

    assert_int_equal(link(in, hard), 0);
    assert_int_equal(symlink(in, sym), 0);
    o.format = RUNLOG_EXPORT_ARTIFACT;
    o.artifact = "my-model";
    TU_RC(runlog_export(&in, 1, hard, &o), RUNLOG_EINVAL);
    TU_RC(runlog_export(&in, 1, sym, &o), RUNLOG_EINVAL);
    xu_assert_file_is(in, before, len);
    unlink(hard);
    unlink(sym);
    free(before);
    free(hard);
    free(sym);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_images_match_command),
        cmocka_unit_test(test_artifact_match_command),
        cmocka_unit_test(test_no_callback),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_damage_policy),
        cmocka_unit_test(test_output_is_input_refused),
    };
    int rc = xu_main_args(argc, argv);

    if (rc)
        return rc;
    return cmocka_run_group_tests(tests, setup, teardown);
}
