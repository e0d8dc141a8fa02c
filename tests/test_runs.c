/*
 * test_runs.c — the runs table (runlog_runs_*, spec/EXPORTS.md §12): rows,
 * default columns, --where, --sort, --group-by, unreadable files, errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static void write_run(const char *dir, const char *name, const char *group, double acc, int code)
{
    char *path = tu_path(dir, name);
    char file[256];
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_writer *w;
    free(path);
    snprintf(file, sizeof file, "%s.runlog", name);
    path = tu_path(dir, file);
    o.name = name;
    o.group = group;
    o.project = "p";
    TU_OK(runlog_writer_open(&w, path, &o));
    TU_OK(runlog_writer_config_double(w, "lr", 0.1));
    TU_OK(runlog_writer_add_double(w, "acc", acc));
    TU_OK(runlog_writer_commit(w));
    TU_OK(runlog_writer_finish(w, code));
    TU_OK(runlog_writer_close(w));
    free(path);
}

static const char *cell_str(const runlog_runs *t, size_t row, const char *col)
{
    return runlog_value_string(runlog_value_get(runlog_runs_row(t, row), col), NULL);
}

static void test_table(void **state)
{
    tu_fixture *fx = *state;
    write_run(fx->dir, "a", "g1", 0.5, 0);
    write_run(fx->dir, "b", "g2", 0.9, 0);
    write_run(fx->dir, "c", "g1", 0.7, 1);
    char *junk = tu_path(fx->dir, "junk.runlog");
    tu_write_file(junk, "nope", 4);
    const char *paths[] = { fx->dir };
    runlog_runs *t;

    TU_OK(runlog_runs_open(&t, paths, 1, NULL));
    assert_int_equal(runlog_runs_count(t), 4);
    assert_int_equal(runlog_runs_file_count(t), 4);
    assert_int_equal(runlog_runs_damaged(t), 1);
    /* Defaults: the built-ins, then what varies (summary.acc; not config.lr). */
    size_t nc = runlog_runs_column_count(t);
    assert_string_equal(runlog_runs_column(t, 0), "name");
    assert_string_equal(runlog_runs_column(t, nc - 1), "summary.acc");
    assert_string_equal(cell_str(t, 0, "name"), "a");
    assert_string_equal(cell_str(t, 2, "state"), "failed");
    assert_string_equal(cell_str(t, 3, "state"), "unreadable");
    assert_non_null(strstr(cell_str(t, 3, "damage"), "junk.runlog"));
    char *json;
    TU_OK(runlog_runs_to_json(&json, t));
    assert_non_null(strstr(json, "\"summary.acc\":0.9"));
    runlog_free(json);
    runlog_runs_free(t);

    runlog_runs_options o = RUNLOG_RUNS_OPTIONS_INIT;
    const char *cols[] = { "name", "config.lr" };
    o.columns = cols;
    o.n_columns = 2;
    o.where = "summary.acc>=0.7 or name=a";
    o.sort = "-summary.acc";
    TU_OK(runlog_runs_open(&t, paths, 1, &o));
    assert_int_equal(runlog_runs_count(t), 3);
    assert_string_equal(cell_str(t, 0, "name"), "b");
    assert_string_equal(cell_str(t, 1, "name"), "c");
    assert_string_equal(cell_str(t, 2, "name"), "a");
    assert_true(runlog_value_float(runlog_runs_cell(t, 0, 1)) == 0.1);
    runlog_runs_free(t);

    o.where = "state!=unreadable";
    o.sort = NULL;
    o.group_by = "group";
    TU_OK(runlog_runs_open(&t, paths, 1, &o));
    assert_int_equal(runlog_runs_count(t), 3);
    assert_string_equal(cell_str(t, 0, "name"), "a");
    assert_string_equal(cell_str(t, 1, "name"), "c");
    assert_string_equal(cell_str(t, 2, "name"), "b");
    assert_int_equal(runlog_runs_group_index(t, 1), 0);
    assert_int_equal(runlog_runs_group_index(t, 2), 1);
    assert_int_equal(runlog_runs_damaged(t), 0);
    runlog_runs_free(t);

    o.group_by = NULL;
    o.where = "summary.acc ~ 1";
    TU_RC(runlog_runs_open(&t, paths, 1, &o), RUNLOG_EINVAL);
    o.where = "nosuch=1";
    TU_RC(runlog_runs_open(&t, paths, 1, &o), RUNLOG_EINVAL);
    o.where = NULL;
    cols[1] = "bogus";
    TU_RC(runlog_runs_open(&t, paths, 1, &o), RUNLOG_EINVAL);
    const char *missing[] = { "/nonexistent/runs" };
    TU_RC(runlog_runs_open(&t, missing, 1, NULL), RUNLOG_EIO);
    runlog_runs_free(NULL);
    free(junk);
}

/* runlog_find_runlogs(): the search of runlog ls and runlog report. */
static void test_find_runlogs(void **state)
{
    tu_fixture *fx = *state;
    char *sub = tu_path(fx->dir, "sub"), *other = tu_path(fx->dir, "notes.txt");
    char *link = tu_path(fx->dir, "link.runlog"), *loop = tu_path(sub, "loop");
    char **found = NULL;
    size_t n = 99;

    assert_int_equal(mkdir(sub, 0777), 0);
    write_run(fx->dir, "b", NULL, 0.5, 0);
    write_run(sub, "a", NULL, 0.5, 0);
    tu_write_file(other, "x", 1);
    assert_int_equal(symlink("b.runlog", link), 0);  /* a link: never followed */
    assert_int_equal(symlink("..", loop), 0);        /* a loop: never entered */
    TU_OK(runlog_find_runlogs(&found, &n, fx->dir));
    assert_int_equal(n, 2);
    /* name order: b.runlog, then sub/ (link.runlog and notes.txt left out) */
    assert_non_null(strstr(found[0], "/b.runlog"));
    assert_non_null(strstr(found[1], "/sub/a.runlog"));
    assert_null(found[2]);
    runlog_paths_free(found);
    /* a file named on its own is kept whatever its name */
    TU_OK(runlog_find_runlogs(&found, &n, other));
    assert_int_equal(n, 1);
    assert_string_equal(found[0], other);
    runlog_paths_free(found);
    TU_RC(runlog_find_runlogs(&found, &n, "/nonexistent/runs"), RUNLOG_EIO);
    TU_RC(runlog_find_runlogs(NULL, &n, fx->dir), RUNLOG_EINVAL);
    runlog_paths_free(NULL);
    free(sub), free(other), free(link), free(loop);
}

/* One file is one row, however often and under whatever names it is given:
 * twice by name, through its folder, and through a hard link -- even when
 * it holds no run id to merge by (a file with no run start). */
static void test_same_file_once(void **state)
{
    tu_fixture *fx = *state;
    char *torn = tu_path(fx->dir, "torn.runlog"), *hard = tu_path(fx->dir, "hard.runlog");
    static const char junk[] = "not a run-log header, and no run id in it";
    tu_write_file(torn, junk, sizeof junk - 1);
    assert_int_equal(link(torn, hard), 0);
    const char *paths[] = {torn, torn, fx->dir, hard};
    runlog_runs *t = NULL;
    TU_OK(runlog_runs_open(&t, paths, 4, NULL));
    assert_int_equal(runlog_runs_file_count(t), 1);
    assert_int_equal(runlog_runs_count(t), 1);
    runlog_runs_free(t);
    free(torn), free(hard);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_table, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_find_runlogs, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_same_file_once, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
