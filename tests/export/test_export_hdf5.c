/*
 * test_export_hdf5.c — runlog_export(RUNLOG_EXPORT_HDF5) called directly.
 *
 * usage: test_export_hdf5 RUNLOG GOLDEN_DIR PLUGIN_DIR
 *
 * - the file it writes equals the one `runlog export hdf5` writes for the
 *   same inputs and options. HDF5 stores object modification times (whole
 *   seconds), so two exports are byte-identical only within one second; the
 *   comparison is `h5dump -p` of both (every object, attribute, value,
 *   filter and chunk shape), which holds no time;
 * - options errors, an output that is an input (hard and symbolic link);
 * - tolerant vs strict on a damaged file, the notices and progress;
 * - HDF5's process state is the caller's again after the export (its error
 *   handler, no zstd filter left registered);
 * - several files (spec/EXPORTS.md §11): a file given twice is exported once
 *   with a warning; per-rank files that share a run id are refused, naming
 *   two of them, with nothing left at OUT;
 * - the runs index and the name links (spec/HDF5.md §3.1, §3.2), a
 *   repeated name linked to the run that started last, with a warning;
 * - a run of 70 000 keys (more than HDF5's 65 535 attributes an object that
 *   tracks their creation order can hold: its summary) exports;
 * - a full disk (a 200 KB tmpfs; skipped when mount(2) is not permitted) is
 *   a clean RUNLOG_EIO, nothing left behind, and no crash at exit (HDF5
 *   1.10's atexit handler used to die of SIGSEGV after a failed H5Fclose).
 */
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runlog_export.h"
#include "testutil.h"

static const char *runlog_bin, *golden, *plugin_dir;

static size_t count_prefix(const char *dir, const char *prefix)
{
    char **names;
    size_t n = tu_list_prefix(dir, prefix, &names);

    tu_free_names(names, n);
    return n;
}

static char *golden_path(const char *name)
{
    return tu_path(golden, name);
}

/* `h5dump -p FILE` without its first line (which names the file). */
static char *dump(const char *path)
{
    char cmd[4096], *text = NULL;
    size_t len = 0, n;
    char buf[65536];
    FILE *p;

    snprintf(cmd, sizeof cmd, "HDF5_PLUGIN_PATH='%s' h5dump -p '%s' | tail -n +2", plugin_dir,
             path);
    p = popen(cmd, "r");
    assert_non_null(p);
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
        text = realloc(text, len + n + 1);
        assert_non_null(text);
        memcpy(text + len, buf, n);
        len += n;
    }
    assert_int_equal(pclose(p), 0);
    assert_true(len > 100);
    text[len] = '\0';
    return text;
}

/* The command on inputs with extra options ("" for none). */
static void command(const char *const *in, size_t n, const char *out, const char *opts)
{
    char cmd[8192];
    size_t i, k;

    k = (size_t)snprintf(cmd, sizeof cmd, "'%s' export hdf5", runlog_bin);
    for (i = 0; i < n; i++)
        k += (size_t)snprintf(cmd + k, sizeof cmd - k, " '%s'", in[i]);
    snprintf(cmd + k, sizeof cmd - k, " -o '%s' %s", out, opts);
    assert_int_equal(system(cmd), 0);
}

typedef struct seen {
    int damage, torn, warning, output, progress_calls;
    uint64_t last_done, last_total;
    char first_damage[512], last_warning[1024];
} seen;

static void on_notice(void *payload, runlog_notice_kind kind, const char *text)
{
    seen *s = payload;

    if (kind == RUNLOG_NOTICE_DAMAGE && s->damage++ == 0)
        snprintf(s->first_damage, sizeof s->first_damage, "%s", text);
    s->torn += kind == RUNLOG_NOTICE_TORN;
    if (kind == RUNLOG_NOTICE_WARNING) {
        s->warning++;
        snprintf(s->last_warning, sizeof s->last_warning, "%s", text);
    }
    s->output += kind == RUNLOG_NOTICE_OUTPUT;
}

static void on_progress(void *payload, uint64_t done, uint64_t total)
{
    seen *s = payload;

    assert_true(done <= total);
    s->progress_calls++;
    s->last_done = done;
    s->last_total = total;
}

static runlog_export_options hdf5_opts(seen *s)
{
    runlog_export_options o = RUNLOG_EXPORT_OPTIONS_INIT;

    o.format = RUNLOG_EXPORT_HDF5;
    if (s) {
        memset(s, 0, sizeof *s);
        o.notice = on_notice;
        o.progress = on_progress;
        o.payload = s;
    }
    return o;
}

static void same_as_command(const char *const *in, size_t n, runlog_hdf5_compression c,
                            int level, int with_data, const char *cli_opts)
{
    char *dir = tu_tmpdir(), *a = tu_path(dir, "lib.h5"), *b = tu_path(dir, "cli.h5");
    runlog_export_options o = hdf5_opts(NULL);
    char *da, *db;

    o.hdf5_compression = c;
    o.hdf5_level = level;
    o.hdf5_artifact_data = with_data;
    TU_OK(runlog_export(in, n, a, &o));
    command(in, n, b, cli_opts);
    da = dump(a);
    db = dump(b);
    assert_string_equal(da, db);
    free(da);
    free(db);
    free(a);
    free(b);
    tu_tmpdir_free(dir);
}

static void test_same_as_command(void **state)
{
    char *fixture = golden_path("fixture.runlog"), *media = golden_path("media.runlog");
    char *demo = golden_path("demo.runlog"), *crashed = golden_path("crashed.runlog");
    const char *one[] = {fixture}, *img[] = {media}, *several[] = {demo, crashed, fixture};
    (void)state;

    same_as_command(one, 1, RUNLOG_HDF5_GZIP, -1, 0, "");
    same_as_command(img, 1, RUNLOG_HDF5_GZIP, 6, 1, "--compression gzip:6 --with-artifact-data");
    same_as_command(img, 1, RUNLOG_HDF5_ZSTD, 5, 0, "--compression zstd:5");
    same_as_command(several, 3, RUNLOG_HDF5_NONE, -1, 1,
                    "--compression none --with-artifact-data");
    free(fixture);
    free(media);
    free(demo);
    free(crashed);
}

static void test_options_errors(void **state)
{
    char *dir = tu_tmpdir(), *out = tu_path(dir, "out.h5"), *in = tu_path(dir, "in.runlog");
    char *hard = tu_path(dir, "hard.h5"), *soft = tu_path(dir, "soft.h5");
    char *fixture = golden_path("fixture.runlog");
    const char *inputs[] = {in};
    runlog_export_options o = hdf5_opts(NULL);
    unsigned char *bytes;
    size_t len, len2;
    unsigned char *after;
    (void)state;

    bytes = tu_read_file(fixture, &len);
    tu_write_file(in, bytes, len);
    o.version = 99;
    TU_RC(runlog_export(inputs, 1, out, &o), RUNLOG_EINVAL);
    o = hdf5_opts(NULL);
    TU_RC(runlog_export(inputs, 0, out, &o), RUNLOG_EINVAL);
    TU_RC(runlog_export(inputs, 1, NULL, &o), RUNLOG_EINVAL);
    o.hdf5_level = 10; /* gzip: 0-9 */
    TU_RC(runlog_export(inputs, 1, out, &o), RUNLOG_EINVAL);
    o.hdf5_compression = RUNLOG_HDF5_ZSTD;
    o.hdf5_level = 0; /* zstd: 1-22 */
    TU_RC(runlog_export(inputs, 1, out, &o), RUNLOG_EINVAL);
    o.hdf5_compression = (runlog_hdf5_compression)7;
    o.hdf5_level = -1;
    TU_RC(runlog_export(inputs, 1, out, &o), RUNLOG_EINVAL);
    assert_false(tu_exists(out));

    /* The output is the input: through a hard link, through a symlink. */
    o = hdf5_opts(NULL);
    assert_int_equal(link(in, hard), 0);
    assert_int_equal(symlink(in, soft), 0);
    TU_RC(runlog_export(inputs, 1, hard, &o), RUNLOG_EINVAL);
    assert_non_null(strstr(runlog_error_detail(), "hard.h5"));
    TU_RC(runlog_export(inputs, 1, soft, &o), RUNLOG_EINVAL);
    after = tu_read_file(in, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(bytes, after, len);
    assert_int_equal(count_prefix(dir, "hard.h5.") + count_prefix(dir, "soft.h5."), 0);

    /* A missing input: the detail names it, nothing written. */
    inputs[0] = "/nonexistent/x.runlog";
    assert_true(runlog_export(inputs, 1, out, &o) < 0);
    assert_non_null(strstr(runlog_error_detail(), "/nonexistent/x.runlog"));
    assert_false(tu_exists(out));
    free(bytes);
    free(after);
    free(fixture);
    free(hard);
    free(soft);
    free(out);
    free(in);
    tu_tmpdir_free(dir);
}

/* A copy of fixture.runlog with one byte flipped inside a middle frame. */
static char *damaged_copy(const char *dir)
{
    char *fixture = golden_path("fixture.runlog"), *path = tu_path(dir, "damaged.runlog");
    size_t len, pos;
    unsigned char *bytes = tu_read_file(fixture, &len);

    for (pos = len / 2; pos < len - 64; pos += 7) {
        runlog_report *rep;
        runlog_damage_kind kind;
        uint64_t off, dlen;
        const char *what;
        int frame = 0;

        bytes[pos] ^= 0xFF;
        tu_write_file(path, bytes, len);
        TU_OK(runlog_verify(&rep, path));
        frame = runlog_report_damage_count(rep) > 0 &&
                runlog_report_damage(rep, 0, &kind, &off, &dlen, &what) == 0 &&
                kind == RUNLOG_DAMAGE_FRAME;
        runlog_report_free(rep);
        if (frame)
            break;
        bytes[pos] ^= 0xFF;
    }
    assert_true(pos < len - 64);
    free(bytes);
    free(fixture);
    return path;
}

static void test_damage_policy(void **state)
{
    char *dir = tu_tmpdir(), *out = tu_path(dir, "out.h5"), *cli = tu_path(dir, "cli.h5");
    char *bad = damaged_copy(dir);
    const char *inputs[] = {bad};
    runlog_export_options o;
    char **names;
    size_t nn;
    seen s;
    char *a, *b;
    (void)state;

    /* Tolerant (the default): the output whole, each range a notice,
     * RUNLOG_EDAMAGED. */
    o = hdf5_opts(&s);
    TU_RC(runlog_export(inputs, 1, out, &o), RUNLOG_EDAMAGED);
    assert_true(tu_exists(out));
    assert_int_equal(s.damage, 1);
    assert_non_null(strstr(s.first_damage, "damaged.runlog: byte "));
    assert_non_null(strstr(s.first_damage, "bytes skipped"));
    assert_int_equal(s.output, 0);
    assert_true(s.progress_calls > 1);
    assert_true(s.last_total > 0);
    assert_int_equal(s.last_done, s.last_total);
    /* The command writes the same file (and exits 1: system() != 0). */
    {
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "'%s' export hdf5 '%s' -o '%s' 2>/dev/null", runlog_bin, bad,
                 cli);
        assert_int_not_equal(system(cmd), 0);
    }
    a = dump(out);
    b = dump(cli);
    assert_string_equal(a, b);
    free(a);
    free(b);

    /* Strict: the first damage fails the export; nothing left. */
    unlink(out);
    o = hdf5_opts(&s);
    o.damage = RUNLOG_DAMAGE_STRICT;
    {
        int rc = runlog_export(inputs, 1, out, &o);
        assert_true(rc < 0 && rc != RUNLOG_EDAMAGED);
    }
    assert_non_null(strstr(runlog_error_detail(), "damaged.runlog: byte "));
    assert_false(tu_exists(out));
    nn = tu_list_prefix(dir, "out.h5", &names);
    tu_free_names(names, nn);
    assert_int_equal(nn, 0);
    assert_int_equal(s.damage, 0);
    free(bad);
    free(out);
    free(cli);
    tu_tmpdir_free(dir);
}

/* The same file given twice (and a hard link to it) is one file: exported
 * once, a warning naming both paths; the output is the one-file export. */
static void test_duplicate_once(void **state)
{
    char *dir = tu_tmpdir(), *fixture = golden_path("fixture.runlog");
    char *one = tu_path(dir, "one.h5"), *twice = tu_path(dir, "twice.h5");
    const char *in1[] = {fixture}, *in2[] = {fixture, fixture};
    runlog_export_options o = hdf5_opts(NULL);
    char expect[4096], *a, *b;
    seen s;
    (void)state;

    TU_OK(runlog_export(in1, 1, one, &o));
    o = hdf5_opts(&s);
    TU_OK(runlog_export(in2, 2, twice, &o));
    assert_int_equal(s.warning, 1);
    snprintf(expect, sizeof expect, "%s: the same file as %s (file UUID); exported once", fixture,
             fixture);
    assert_string_equal(s.last_warning, expect);
    a = dump(one);
    b = dump(twice);
    assert_string_equal(a, b); /* files = [fixture], rows, resumes: one file's */
    free(a);
    free(b);
    free(one);
    free(twice);
    free(fixture);
    tu_tmpdir_free(dir);
}

/* A finished run of one row, started at `start` seconds. */
static void write_named(const char *path, const char *id, const char *name, int64_t start)
{
    tu_clock clock = {start * 1000000000LL, 1000};
    runlog_writer_options wo;
    runlog_writer *w;

    tu_fixed_options(&wo, &clock, 1);
    wo.run_id = id;
    wo.name = name;
    wo.file_uuid = NULL; /* one file each, not a file given twice */
    TU_OK(runlog_writer_open(&w, path, &wo));
    TU_OK(runlog_writer_config_double(w, "lr", 0.5));
    TU_OK(runlog_writer_add_double(w, "val/acc", 0.75));
    TU_OK(runlog_writer_commit(w));
    TU_OK(runlog_writer_finish(w, 3));
    TU_OK(runlog_writer_close(w));
}

/* The link at path: a soft link to target. */
static void assert_soft_link(hid_t f, const char *path, const char *target)
{
    H5L_info_t info;
    char val[256];

    assert_true(H5Lget_info(f, path, &info, H5P_DEFAULT) >= 0);
    assert_int_equal(info.type, H5L_TYPE_SOFT);
    assert_true(info.u.val_size <= sizeof val);
    assert_true(H5Lget_val(f, path, val, sizeof val, H5P_DEFAULT) >= 0);
    assert_string_equal(val, target);
}

/* spec/HDF5.md §3.1, §3.2: /runs_index (one row per run, in the order of
 * /runs) and /projects/<project>/<name>; of two runs of one name the later
 * start has the link (whatever the input order), with a warning; the same
 * file as the command writes. */
static void test_index_and_links(void **state)
{
    char *dir = tu_tmpdir(), *a = tu_path(dir, "a.runlog"), *b = tu_path(dir, "b.runlog");
    char *c = tu_path(dir, "c.runlog"), *out = tu_path(dir, "out.h5");
    const char *in[] = {a, b, c};
    runlog_export_options o = hdf5_opts(NULL);
    hid_t f, d, t, space;
    hsize_t n;
    double exit_code[3];
    seen s;
    (void)state;

    write_named(a, "run-new", "twin", 2000);
    write_named(b, "run-old", "twin", 1000);
    write_named(c, "run/odd", "a/b", 1500);
    o = hdf5_opts(&s);
    TU_OK(runlog_export(in, 3, out, &o));
    assert_int_equal(s.warning, 1);
    assert_non_null(strstr(s.last_warning, "2 runs named 'twin' in project 'runlog-tests'"));
    assert_non_null(strstr(s.last_warning, "(run-new)"));
    assert_true((f = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT)) >= 0);
    assert_soft_link(f, "/projects/runlog-tests/twin", "/runs/run-new");
    assert_soft_link(f, "/projects/runlog-tests/a%2Fb", "/runs/run%2Fodd");
    assert_true((d = H5Dopen2(f, "/runs_index", H5P_DEFAULT)) >= 0);
    space = H5Dget_space(d);
    assert_int_equal(H5Sget_simple_extent_dims(space, &n, NULL), 1);
    assert_int_equal(n, 3);
    t = H5Tcreate(H5T_COMPOUND, sizeof(double));
    assert_true(H5Tinsert(t, "exit_code", 0, H5T_NATIVE_DOUBLE) >= 0);
    assert_true(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, exit_code) >= 0);
    assert_true(exit_code[0] == 3 && exit_code[1] == 3 && exit_code[2] == 3);
    H5Tclose(t);
    H5Sclose(space);
    H5Dclose(d);
    H5Fclose(f);
    same_as_command(in, 3, RUNLOG_HDF5_GZIP, -1, 0, "");
    free(a);
    free(b);
    free(c);
    free(out);
    tu_tmpdir_free(dir);
}

/* Ends t's row, logs t under "tab" in the writer's current row, commits,
 * frees t, and finishes and closes w. */
static void log_table_and_close(runlog_writer *w, runlog_table *t)
{
    TU_OK(runlog_table_end_row(t));
    TU_OK(runlog_writer_add_table(w, "tab", t));
    TU_OK(runlog_writer_commit(w));
    runlog_table_free(t);
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
}

/* A table with two columns of one name (and a third whose own name is the
 * second's alternative): every column kept, datasets named apart, the
 * "datasets" attribute saying which column is which, and a warning. Before,
 * the whole export failed ("name already exists"). */
static void test_table_repeated_column(void **state)
{
    char *dir = tu_tmpdir(), *in = tu_path(dir, "t.runlog"), *out = tu_path(dir, "out.h5");
    const char *inputs[] = {in};
    runlog_writer_options wo = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_writer *w = NULL;
    runlog_table *t = NULL;
    static const char *names[] = {"a", "a", "a~1"};
    static const runlog_column_type types[] = {RUNLOG_COLUMN_INT, RUNLOG_COLUMN_FLOAT,
                                               RUNLOG_COLUMN_STRING};
    seen s;
    (void)state;

    wo.run_id = "tab";
    TU_OK(runlog_writer_open(&w, in, &wo));
    TU_OK(runlog_table_new(&t, w, names, types, 3));
    TU_OK(runlog_table_int(t, 7));
    TU_OK(runlog_table_float(t, 2.5));
    TU_OK(runlog_table_string(t, "x"));
    log_table_and_close(w, t);

    runlog_export_options o = hdf5_opts(&s);
    TU_OK(runlog_export(inputs, 1, out, &o));
    assert_int_equal(s.warning, 1);
    assert_non_null(strstr(s.last_warning, "two columns share a name"));
    hid_t f = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    int64_t iv = 0;
    double fv = 0;
    hid_t d = H5Dopen2(f, "/runs/tab/tables/tab/0/a", H5P_DEFAULT);
    assert_true(d >= 0 && H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &iv) >= 0);
    H5Dclose(d);
    assert_int_equal(iv, 7);
    /* the second "a" could not be a~1 (the third column's own name) */
    assert_true(H5Lexists(f, "/runs/tab/tables/tab/0/a~1", H5P_DEFAULT) > 0);
    d = H5Dopen2(f, "/runs/tab/tables/tab/0/a~~1", H5P_DEFAULT);
    assert_true(d >= 0 && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &fv) >= 0);
    H5Dclose(d);
    assert_true(fv == 2.5);
    assert_true(H5Aexists_by_name(f, "/runs/tab/tables/tab/0", "datasets", H5P_DEFAULT) > 0);
    H5Fclose(f);
    free(in);
    free(out);
    tu_tmpdir_free(dir);
}

/* An image dataset has nine attributes (spec/HDF5.md §4.3), one more than
 * HDF5 keeps in an object's header: it is created with its attributes in
 * dense storage (phase change 0/0) rather than moved there at the ninth,
 * the move having cost a fifth of an export of 10^5 small images. A
 * stacked table image column (two attributes) keeps HDF5's default. The
 * file is the same but for where HDF5 put things (h5dump -p: no change). */
static void test_image_attrs_dense(void **state)
{
    char *dir = tu_tmpdir(), *in = tu_path(dir, "i.runlog"), *out = tu_path(dir, "out.h5");
    const char *inputs[] = {in};
    runlog_writer_options wo = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_writer *w = NULL;
    runlog_table *t = NULL;
    static const char *names[] = {"pic"};
    static const runlog_column_type types[] = {RUNLOG_COLUMN_IMAGE};
    static const uint8_t px[4] = {1, 2, 3, 4};
    unsigned max_compact = 99, min_dense = 99;
    H5O_info_t info;
    (void)state;

    wo.run_id = "img";
    TU_OK(runlog_writer_open(&w, in, &wo));
    TU_OK(runlog_writer_add_image(w, "img", px, 2, 2, 1, RUNLOG_PIXELS_U8, NULL));
    TU_OK(runlog_table_new(&t, w, names, types, 1));
    TU_OK(runlog_table_image(t, px, 2, 2, 1, RUNLOG_PIXELS_U8, NULL));
    log_table_and_close(w, t);

    runlog_export_options o = hdf5_opts(NULL);
    TU_OK(runlog_export(inputs, 1, out, &o));
    hid_t f = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, "/runs/img/images/img/0", H5P_DEFAULT), p;
    assert_true(d >= 0);
    assert_true(H5Oget_info2(d, &info, H5O_INFO_NUM_ATTRS) >= 0);
    assert_int_equal(info.num_attrs, 9);
    assert_true((p = H5Dget_create_plist(d)) >= 0);
    assert_true(H5Pget_attr_phase_change(p, &max_compact, &min_dense) >= 0);
    assert_int_equal(max_compact, 0);
    assert_int_equal(min_dense, 0);
    H5Pclose(p);
    H5Dclose(d);
    d = H5Dopen2(f, "/runs/img/tables/tab/0/pic", H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true((p = H5Dget_create_plist(d)) >= 0);
    assert_true(H5Pget_attr_phase_change(p, &max_compact, &min_dense) >= 0);
    assert_int_equal(max_compact, 8);
    H5Pclose(p);
    H5Dclose(d);
    H5Fclose(f);
    free(in);
    free(out);
    tu_tmpdir_free(dir);
}

/* Four per-rank files of a distributed job that were given one run id:
 * not one run (their losses differ at step 0); refused naming two of them,
 * nothing at OUT. */
static void test_ranks_refused(void **state)
{
    char *dir = tu_tmpdir(), *out = tu_path(dir, "out.h5"), *paths[4], name[32];
    const char *in[4];
    runlog_export_options o = hdf5_opts(NULL);
    int rank, step, named = 0, rc;
    (void)state;

    for (rank = 0; rank < 4; rank++) {
        runlog_writer_options wo = RUNLOG_WRITER_OPTIONS_INIT;
        runlog_writer *w;
        snprintf(name, sizeof name, "rank%d.runlog", rank);
        paths[rank] = tu_path(dir, name);
        in[rank] = paths[rank];
        wo.run_id = "ddp-job";
        wo.project = "ranks";
        wo.synchronous = 1;
        TU_OK(runlog_writer_open(&w, paths[rank], &wo));
        for (step = 0; step < 5; step++) {
            TU_OK(runlog_writer_add_double(w, "loss", 1.0 / (step + 1) + rank));
            TU_OK(runlog_writer_commit(w));
        }
        TU_OK(runlog_writer_finish(w, 0));
        TU_OK(runlog_writer_close(w));
    }
    rc = runlog_export(in, 4, out, &o);
    assert_true(rc < 0 && rc != RUNLOG_EDAMAGED);
    for (rank = 0; rank < 4; rank++)
        named += strstr(runlog_error_detail(), paths[rank]) != NULL;
    if (named != 2)
        fail_msg("the error names %d files: %s", named, runlog_error_detail());
    assert_non_null(strstr(runlog_error_detail(), "not one run"));
    assert_false(tu_exists(out));
    assert_int_equal(count_prefix(dir, "out.h5"), 0);
    for (rank = 0; rank < 4; rank++)
        free(paths[rank]);
    free(out);
    tu_tmpdir_free(dir);
}

/* 70 000 keys at 2 steps: rows of 10 000 keys, one frame each (a frame
 * holds at most 65 536 blocks). The summary gets one attribute per key,
 * more than an object that tracks attribute creation order can have
 * ("attribute creation index can't be incremented"). */
static void test_many_keys(void **state)
{
    enum { KEYS = 70000, GROUP = 10000, STEPS = 2 };
    char *dir = tu_tmpdir(), *path = tu_path(dir, "wide.runlog"), *out = tu_path(dir, "wide.h5");
    const char *in[] = {path};
    runlog_writer_options wo = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_export_options o = hdf5_opts(NULL);
    runlog_writer *w;
    H5O_info_t info;
    hid_t f, g;
    char name[32];
    int s, k, gr;
    (void)state;

    wo.run_id = "wide";
    TU_OK(runlog_writer_open(&w, path, &wo));
    for (s = 0; s < STEPS; s++)
        for (gr = 0; gr < KEYS / GROUP; gr++) {
            for (k = gr * GROUP; k < (gr + 1) * GROUP; k++) {
                snprintf(name, sizeof name, "k%05d", k);
                TU_OK(runlog_writer_add_int(w, name, (int64_t)s * KEYS + k));
            }
            TU_OK(runlog_writer_commit(w));
            TU_OK(runlog_writer_flush(w));
        }
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
    o.hdf5_compression = RUNLOG_HDF5_NONE;
    TU_OK(runlog_export(in, 1, out, &o));
    f = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    g = H5Gopen2(f, "/runs/wide/summary", H5P_DEFAULT);
    assert_true(g >= 0);
    assert_true(H5Oget_info(g, &info) >= 0);
    assert_int_equal(info.num_attrs, KEYS);
    H5Gclose(g);
    {
        H5G_info_t gi;
        int64_t v[STEPS];
        hid_t d;
        g = H5Gopen2(f, "/runs/wide/history", H5P_DEFAULT);
        assert_true(g >= 0 && H5Gget_info(g, &gi) >= 0);
        assert_int_equal(gi.nlinks, KEYS);
        H5Gclose(g);
        d = H5Dopen2(f, "/runs/wide/history/k69999/value", H5P_DEFAULT);
        assert_true(d >= 0);
        assert_true(H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
        assert_int_equal(v[0], 69999);
        assert_int_equal(v[1], KEYS + 69999);
        H5Dclose(d);
    }
    H5Fclose(f);
    free(path);
    free(out);
    tu_tmpdir_free(dir);
}

static herr_t caller_handler(hid_t stack, void *data)
{
    (void)stack;
    (*(int *)data)++;
    return 0;
}

/* HDF5's error handler is the caller's again after the export, whether it
 * succeeded or failed, and the zstd filter is not left registered. */
static void test_hdf5_state_restored(void **state)
{
    char *dir = tu_tmpdir(), *out = tu_path(dir, "out.h5");
    char *fixture = golden_path("fixture.runlog"), *bad = tu_path(dir, "conflict.runlog");
    const char *inputs[] = {fixture}, *missing_dir[] = {fixture};
    char *nodir = tu_path(dir, "no/such/dir/out.h5");
    runlog_export_options o = hdf5_opts(NULL);
    H5E_auto2_t func;
    void *data;
    int calls = 0;
    (void)state;
    (void)bad;

    assert_true(H5Eset_auto2(H5E_DEFAULT, caller_handler, &calls) >= 0);
    o.hdf5_compression = RUNLOG_HDF5_ZSTD;
    TU_OK(runlog_export(inputs, 1, out, &o));
    assert_true(H5Eget_auto2(H5E_DEFAULT, &func, &data) >= 0);
    assert_ptr_equal(func, caller_handler);
    assert_ptr_equal(data, &calls);
    assert_int_equal(H5Zfilter_avail(32015), 0);
    /* A failing export (HDF5 cannot create the file) reports through the
     * detail, not the caller's handler, and gives the handler back. */
    assert_true(runlog_export(missing_dir, 1, nodir, &o) < 0);
    assert_non_null(strstr(runlog_error_detail(), "no/such/dir/out.h5"));
    assert_int_equal(calls, 0);
    assert_true(H5Eget_auto2(H5E_DEFAULT, &func, &data) >= 0);
    assert_ptr_equal(func, caller_handler);
    /* The caller's own HDF5 failures still reach its handler. */
    assert_true(H5Dopen2(-1, "x", H5P_DEFAULT) < 0);
    assert_int_equal(calls, 1);
    H5Eset_auto2(H5E_DEFAULT, (H5E_auto2_t)H5Eprint2, stderr);
    free(nodir);
    free(bad);
    free(fixture);
    free(out);
    tu_tmpdir_free(dir);
}

/* A full disk: RUNLOG_EIO with the path, nothing left, a clean exit. The
 * export runs in a child that exits through exit(), where HDF5's atexit
 * handler used to crash. */
static void test_full_disk(void **state)
{
    char *dir = tu_tmpdir(), *mnt = tu_path(dir, "full"), *out = tu_path(mnt, "out.h5");
    char *media = golden_path("media.runlog");
    const char *inputs[] = {media};
    size_t nn;
    pid_t pid;
    int st;
    (void)state;

    assert_int_equal(mkdir(mnt, 0700), 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=16k") != 0) {
        printf("test_full_disk: skipped: cannot mount a tmpfs (%s; needs root)\n",
               strerror(errno));
        free(media);
        free(out);
        free(mnt);
        tu_tmpdir_free(dir);
        skip();
    }
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        runlog_export_options o = hdf5_opts(NULL);
        int rc;
        o.hdf5_compression = RUNLOG_HDF5_NONE;
        o.hdf5_artifact_data = 1;
        rc = runlog_export(inputs, 1, out, &o);
        if (rc != RUNLOG_EIO || !strstr(runlog_error_detail(), "out.h5")) {
            fprintf(stderr, "child: rc %d (%s)\n", rc, runlog_error_detail());
            rc = 3;
        } else {
            rc = 0;
        }
        free(media), free(out), free(mnt), free(dir); /* the parent removes dir */
        exit(rc); /* through exit(): HDF5's atexit handler runs */
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    nn = count_prefix(mnt, "out.h5");
    umount2(mnt, MNT_DETACH);
    if (WIFSIGNALED(st))
        fail_msg("the export died of signal %d on a full disk", WTERMSIG(st));
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(nn, 0); /* nothing left behind */
    free(media);
    free(out);
    free(mnt);
    tu_tmpdir_free(dir);
}

/* A full disk while an artifact's data is copied in (--with-artifact-data,
 * a 1 MB entry, a 1.3 MB file system that the blob's temporary copy fills):
 * HDF5 1.10.8 returned success from the H5Dwrite() whose pwrite() failed,
 * and the export ended "ok" with zeros for the artifact's bytes. Now: an
 * error that names the artifact, nothing left behind, for every size
 * tried between too small and enough, and at enough, the bytes exact. */
static void test_full_disk_artifact_data(void **state)
{
    char *dir = tu_tmpdir(), *mnt = tu_path(dir, "full"), *out = tu_path(mnt, "out.h5");
    char *in = tu_path(dir, "a.runlog"), *big = tu_path(dir, "big.bin"), cmd[8192];
    const char *inputs[] = {in};
    static const unsigned sizes_k[] = {1100, 1300, 1600, 1900, 3000};
    (void)state;

    size_t n = 1000000;
    unsigned char *bytes = malloc(n);
    assert_non_null(bytes);
    uint64_t r = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) { /* incompressible */
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        bytes[i] = (unsigned char)(r >> 24);
    }
    tu_write_file(big, bytes, n);
    snprintf(cmd, sizeof cmd, "'%s' artifact '%s' --name model '%s' >/dev/null", runlog_bin, in, big);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(mkdir(mnt, 0700), 0);
    for (size_t k = 0; k < sizeof sizes_k / sizeof sizes_k[0]; k++) {
        char opt[64];
        snprintf(opt, sizeof opt, "size=%uk", sizes_k[k]);
        if (mount("tmpfs", mnt, "tmpfs", 0, opt) != 0) {
            printf("test_full_disk_artifact_data: skipped: cannot mount a tmpfs (%s; needs root)\n",
                   strerror(errno));
            break;
        }
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            runlog_export_options o = hdf5_opts(NULL);
            o.hdf5_compression = RUNLOG_HDF5_NONE;
            o.hdf5_artifact_data = 1;
            int rc = runlog_export(inputs, 1, out, &o), ok = 0;
            if (rc == 0) { /* enough room: then the bytes are the artifact's */
                hid_t f = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
                unsigned char *got = malloc(n);
                ok = got != NULL;
                /* the one run's group name is its id: find it by iterating */
                hsize_t idx = 0;
                char name[256];
                ok = ok && f >= 0 &&
                     H5Lget_name_by_idx(f, "/runs", H5_INDEX_NAME, H5_ITER_INC, idx, name,
                                        sizeof name, H5P_DEFAULT) > 0;
                char path[512];
                snprintf(path, sizeof path, "/runs/%s/artifacts/model/v0/data/0", name);
                hid_t ds = ok ? H5Dopen2(f, path, H5P_DEFAULT) : -1;
                ok = ok && ds >= 0 &&
                     H5Dread(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0 &&
                     memcmp(got, bytes, n) == 0;
                if (ds >= 0)
                    H5Dclose(ds);
                if (f >= 0)
                    H5Fclose(f);
                free(got);
                if (!ok)
                    fprintf(stderr, "child: %s: exported, but the artifact's bytes are not its own\n", opt);
            } else if (rc == RUNLOG_EIO && strstr(runlog_error_detail(), "out.h5")) {
                ok = 1;
            } else {
                fprintf(stderr, "child: %s: rc %d (%s)\n", opt, rc, runlog_error_detail());
            }
            exit(ok ? (rc == 0 ? 0 : 2) : 3); /* through exit(): HDF5's atexit handler runs */
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        size_t left = count_prefix(mnt, "out.h5");
        int has_out = access(out, F_OK) == 0;
        umount2(mnt, MNT_DETACH);
        if (WIFSIGNALED(st))
            fail_msg("%s: the export died of signal %d", opt, WTERMSIG(st));
        assert_true(WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 2));
        if (WEXITSTATUS(st) == 2)
            assert_int_equal(left, 0); /* failed: nothing left behind */
        else
            assert_true(has_out);
        if (sizes_k[k] == 3000)
            assert_int_equal(WEXITSTATUS(st), 0); /* room enough: it exports */
    }
    free(bytes);
    free(in);
    free(big);
    free(out);
    free(mnt);
    tu_tmpdir_free(dir);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_command),
        cmocka_unit_test(test_options_errors),
        cmocka_unit_test(test_damage_policy),
        cmocka_unit_test(test_duplicate_once),
        cmocka_unit_test(test_index_and_links),
        cmocka_unit_test(test_ranks_refused),
        cmocka_unit_test(test_table_repeated_column),
        cmocka_unit_test(test_image_attrs_dense),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_hdf5_state_restored),
        cmocka_unit_test(test_full_disk),
        cmocka_unit_test(test_full_disk_artifact_data),
    };

    if (argc != 4) {
        fprintf(stderr, "usage: test_export_hdf5 RUNLOG GOLDEN_DIR PLUGIN_DIR\n");
        return 2;
    }
    runlog_bin = argv[1];
    golden = argv[2];
    plugin_dir = argv[3];
    /* This process must not find the zstd plugin: the export registers the
     * filter itself (and only for its duration). h5dump gets the path. */
    unsetenv("HDF5_PLUGIN_PATH");
    return cmocka_run_group_tests_name("export_hdf5", tests, NULL, NULL);
}
