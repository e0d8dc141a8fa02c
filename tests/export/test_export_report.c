/*
 * test_export_report.c — runlog_export(RUNLOG_EXPORT_REPORT) (spec/
 * EXPORTS.md §13): the page equals what `runlog report` writes for the same
 * files; its data document holds every run with its lines, media, alerts,
 * console and artifacts; a long line is down-sampled with its extremes
 * kept; no "<" of the data can end the script element; an input is never
 * the output. The page in a browser: tests/report/.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "exportutil.h"

#define LONG_ROWS 5000

typedef struct fixture {
    char *dir, *a, *b, *out;
} fixture;

/* A run of LONG_ROWS rows of "train/loss" with one spike up and one down,
 * named with a "</script>" in it. */
static void make_long_run(const char *path)
{
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_writer *w;
    int i;

    o.name = "long </script><b>run";
    o.project = "report-test";
    assert_int_equal(runlog_writer_open(&w, path, &o), 0);
    for (i = 0; i < LONG_ROWS; i++) {
        double v = 1.0 / (1 + i) + (i == 1234 ? 9.0 : 0) - (i == 4321 ? 9.0 : 0);
        assert_int_equal(runlog_writer_add_double(w, "train/loss", v), 0);
        assert_int_equal(runlog_writer_commit(w), 0);
    }
    assert_int_equal(runlog_writer_finish(w, 0), 0);
    assert_int_equal(runlog_writer_close(w), 0);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);

    f->dir = tu_tmpdir();
    f->a = tu_path(f->dir, "a.runlog");
    f->b = tu_path(f->dir, "b.runlog");
    f->out = tu_path(f->dir, "report.html");
    xu_make_run(f->dir, f->a);
    make_long_run(f->b);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    tu_tmpdir_free(f->dir);
    free(f->a);
    free(f->b);
    free(f->out);
    free(f);
    return 0;
}

/* The data document of a page, parsed. */
static json_t *page_data(const char *page)
{
    static const char open[] = "<script type=\"application/json\" id=\"runlog-data\">";
    const char *s = strstr(page, open), *e;
    json_error_t err;
    json_t *j;

    assert_non_null(s);
    s += strlen(open);
    e = strstr(s, "</script>");
    assert_non_null(e);
    j = json_loadb(s, (size_t)(e - s), 0, &err);
    if (!j)
        fail_msg("data: %s (line %d)", err.text, err.line);
    return j;
}

static json_t *run_named(json_t *data, const char *name)
{
    size_t i;
    json_t *r;

    json_array_foreach(json_object_get(data, "runs"), i, r)
        if (strcmp(json_string_value(json_object_get(r, "name")), name) == 0)
            return r;
    fail_msg("no run %s", name);
    return NULL;
}

static void test_report_equals_command(void **state)
{
    fixture *f = *state;
    xu_notices n = {0};
    runlog_export_options o = xu_options(RUNLOG_EXPORT_REPORT, &n);
    const char *inputs[] = {f->a, f->b};
    char *cmd_out = tu_path(f->dir, "cmd.html");
    const char *args[] = {"report", f->a, f->b, "-o", cmd_out, NULL};

    assert_true(runlog_export_supported(RUNLOG_EXPORT_REPORT));
    assert_int_equal(runlog_export(inputs, 2, f->out, &o), 0);
    assert_int_equal(xu_run(NULL, NULL, args), 0);
    xu_assert_same_file(f->out, cmd_out);
    assert_non_null(strstr(n.output.p, "2 runs in the report"));
    xu_notices_free(&n);
    free(cmd_out);
}

static void test_report_data(void **state)
{
    fixture *f = *state;
    runlog_export_options o = xu_options(RUNLOG_EXPORT_REPORT, NULL);
    const char *inputs[] = {f->a, f->b};
    size_t len, i, k;
    char *page;
    json_t *data, *a, *b, *line, *x, *y, *v;
    double prev = -1, lo = INFINITY, hi = -INFINITY;

    o.notice = NULL;
    assert_int_equal(runlog_export(inputs, 2, f->out, &o), 0);
    page = (char *)tu_read_file(f->out, &len);
    /* self-contained: no URL to fetch anything from */
    assert_null(strstr(page, "src=\"http"));
    assert_null(strstr(page, "<link"));
    /* the run's name holds "</script>": only the page's own tags may */
    assert_null(strstr(page, "long </script>"));
    data = page_data(page);
    assert_int_equal(json_array_size(json_object_get(data, "runs")), 2);

    b = run_named(data, "long </script><b>run");
    line = json_object_get(json_object_get(b, "metrics"), "train/loss");
    assert_non_null(line);
    assert_int_equal(json_integer_value(json_object_get(line, "n")), LONG_ROWS);
    x = json_object_get(line, "x");
    y = json_object_get(line, "y");
    assert_true(json_array_size(x) <= 2000 && json_array_size(x) > 1000);
    assert_int_equal(json_array_size(x), json_array_size(y));
    json_array_foreach(x, i, v) {
        assert_true(json_number_value(v) > prev); /* steps increasing */
        prev = json_number_value(v);
    }
    json_array_foreach(y, k, v) {
        lo = fmin(lo, json_number_value(v));
        hi = fmax(hi, json_number_value(v));
    }
    assert_true(hi > 9.0);  /* the spikes survive the thinning */
    assert_true(lo < -8.0);

    a = json_array_get(json_object_get(data, "runs"), 0); /* in the order given */
    assert_true(json_object_size(json_object_get(a, "metrics")) >= 1);
    assert_true(json_object_size(json_object_get(a, "system")) >= 1);
    assert_true(json_array_size(json_object_get(a, "alerts")) == 1);
    assert_true(json_array_size(json_object_get(a, "tables")) >= 1);
    assert_true(json_array_size(json_object_get(a, "images")) >= 1);
    json_array_foreach(json_object_get(a, "images"), i, v) {
        const char *src = json_string_value(json_object_get(v, "src"));
        assert_non_null(src);
        assert_true(strncmp(src, "data:image/png;base64,", 22) == 0);
    }
    v = json_array_get(json_object_get(a, "artifacts"), 0);
    assert_non_null(v);
    assert_true(json_array_size(json_object_get(v, "aliases")) >= 1);
    assert_true(json_integer_value(json_object_get(v, "size")) > 0);
    assert_true(json_integer_value(json_object_get(json_object_get(a, "console"), "bytes")) > 0);
    json_decref(data);
    free(page);
}

static void test_report_refuses_input_as_output(void **state)
{
    fixture *f = *state;
    runlog_export_options o = xu_options(RUNLOG_EXPORT_REPORT, NULL);
    const char *inputs[] = {f->a, f->b};
    int64_t size = tu_file_size(f->b);

    o.notice = NULL;
    assert_int_equal(runlog_export(inputs, 2, f->b, &o), RUNLOG_EINVAL);
    assert_int_equal(tu_file_size(f->b), size);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_equals_command),
        cmocka_unit_test(test_report_data),
        cmocka_unit_test(test_report_refuses_input_as_output),
    };
    int rc = xu_main_args(argc, argv);

    if (rc)
        return rc;
    return cmocka_run_group_tests(tests, setup, teardown);
}
