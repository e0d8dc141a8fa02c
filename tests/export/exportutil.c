/*
 * exportutil.c — see exportutil.h.
 */
#include "exportutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

const char *xu_runlog;

int xu_main_args(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s RUNLOG (the command to compare with)\n", argv[0]);
        return 2;
    }
    xu_runlog = argv[1];
    return 0;
}

int xu_run(const char *out_path, const char *err_path, const char *const *args)
{
    posix_spawn_file_actions_t fa;
    const char *argv[32];
    size_t n = 0;
    pid_t pid;
    int status = 0;

    argv[n++] = xu_runlog;
    while (*args && n < 31)
        argv[n++] = *args++;
    argv[n] = NULL;
    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0666);
    posix_spawn_file_actions_addopen(&fa, 2, err_path ? err_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0666);
    assert_int_equal(posix_spawn(&pid, xu_runlog, &fa, NULL, (char *const *)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void add_row_images(runlog_writer *w, uint8_t shade)
{
    uint8_t px[2 * 3 * 3];

    memset(px, shade, sizeof px);
    TU_OK(runlog_writer_add_image(w, "samples/img", px, 2, 3, 3, RUNLOG_PIXELS_U8, "a caption"));
    px[0] = 255;
    TU_OK(runlog_writer_add_image(w, "pair", px, 3, 2, 3, RUNLOG_PIXELS_U8, NULL));
    TU_OK(runlog_writer_add_image(w, "pair", px, 2, 3, 1, RUNLOG_PIXELS_U8, NULL));
}

static void add_table(runlog_writer *w)
{
    static const char *const names[] = {"id", "label", "pic"};
    static const runlog_column_type types[] = {RUNLOG_COLUMN_INT, RUNLOG_COLUMN_STRING,
                                               RUNLOG_COLUMN_IMAGE};
    uint8_t px[4 * 4];
    runlog_table *t;
    int i;

    TU_OK(runlog_table_new(&t, w, names, types, 3));
    for (i = 0; i < 3; i++) {
        memset(px, 40 * i, sizeof px);
        TU_OK(runlog_table_int(t, i));
        TU_OK(runlog_table_string(t, i == 1 ? "two, \"quoted\"" : "plain"));
        if (i == 2)
            TU_OK(runlog_table_null(t));
        else
            TU_OK(runlog_table_image(t, px, 4, 4, 1, RUNLOG_PIXELS_U8, NULL));
        TU_OK(runlog_table_end_row(t));
    }
    TU_OK(runlog_writer_add_table(w, "preds", t));
    runlog_table_free(t);
}

static void add_artifact(runlog_writer *w, const char *dir)
{
    char *a = tu_path(dir, "art"), *sub = tu_path(a, "sub"), *f1 = tu_path(a, "model.bin"),
         *f2 = tu_path(sub, "notes.txt");
    runlog_artifact *art;
    uint32_t version;

    assert_int_equal(mkdir(a, 0777), 0);
    assert_int_equal(mkdir(sub, 0777), 0);
    tu_write_file(f1, "\x00\x01weights\xff", 10);
    tu_write_file(f2, "hello\n", 6);
    TU_OK(runlog_artifact_new(&art, "my-model", "model"));
    TU_OK(runlog_artifact_add_dir(art, a, NULL));
    TU_OK(runlog_artifact_add_reference(art, "s3://bucket/train.tar", "data/train.tar", 1234,
                                        NULL));
    TU_OK(runlog_artifact_alias(art, "best"));
    TU_OK(runlog_writer_log_artifact(&version, w, art));
    assert_int_equal(version, 0);
    runlog_artifact_free(art);
    free(a);
    free(sub);
    free(f1);
    free(f2);
}

void xu_make_run(const char *dir, const char *path)
{
    static const char *const sys_keys[] = {"cpu.percent", "memory.rss_mb"};
    static const double sys_values[] = {12.5, 300.0};
    runlog_writer_options o;
    runlog_writer *w;
    tu_clock clock;

    clock.now = 1700000000000000000LL;
    clock.step_ns = 250000000;
    tu_fixed_options(&o, &clock, 1);
    TU_OK(runlog_writer_open(&w, path, &o));
    TU_OK(runlog_writer_config_string(w, "optimizer", "adam"));
    TU_OK(runlog_writer_config_double(w, "lr", 0.001));
    TU_OK(runlog_writer_flush(w));

    TU_OK(runlog_writer_add_double(w, "loss", 1.25));
    TU_OK(runlog_writer_add_double(w, "acc", 0.5));
    add_row_images(w, 10);
    TU_OK(runlog_writer_commit(w));
    TU_OK(runlog_writer_flush(w));

    TU_OK(runlog_writer_console(w, RUNLOG_STDOUT, "epoch 1\n\xff\xfe bad bytes\n", 21));
    TU_OK(runlog_writer_system(w, sys_keys, sys_values, 2));
    TU_OK(runlog_writer_flush(w));
    TU_OK(runlog_writer_alert(w, "Loss is NaN", "at step 1, \"quoted\"", RUNLOG_ALERT_WARN));
    TU_OK(runlog_writer_flush(w));

    TU_OK(runlog_writer_add_double(w, "loss", 0.0 / 0.0));
    TU_OK(runlog_writer_add_string(w, "note", "a, \"note\"\nwith a newline"));
    add_table(w);
    TU_OK(runlog_writer_commit(w));
    TU_OK(runlog_writer_flush(w));

    TU_OK(runlog_writer_add_double(w, "loss", 0.25));
    TU_OK(runlog_writer_add_double(w, "acc", 1.0 / 0.0));
    add_row_images(w, 200);
    TU_OK(runlog_writer_commit_step(w, 5));
    TU_OK(runlog_writer_summary_string(w, "best", "step 5"));
    add_artifact(w, dir);
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
}

uint64_t xu_damage_copy(const char *src, const char *dst)
{
    runlog_reader *r;
    const runlog_record *rec;
    uint64_t start = 0, end = 0;
    unsigned char *data;
    size_t len;
    int rc, found = 0;

    TU_OK(runlog_reader_open(&r, src, NULL));
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        if (found && runlog_record_frame_offset(rec) != start) {
            end = runlog_record_frame_offset(rec);
            break;
        }
        if (!found && runlog_record_type_of(rec) == RUNLOG_RECORD_ALERT) {
            start = runlog_record_frame_offset(rec);
            found = 1;
        }
    }
    runlog_reader_close(r);
    assert_true(found && end > start + 2);
    data = tu_read_file(src, &len);
    data[start + (end - start) / 2] ^= 0x5a;
    tu_write_file(dst, data, len);
    free(data);
    return start;
}

void xu_notice(void *payload, runlog_notice_kind kind, const char *text)
{
    xu_notices *n = payload;

    assert_true(kind >= RUNLOG_NOTICE_DAMAGE && kind <= RUNLOG_NOTICE_OUTPUT);
    n->count[kind]++;
    if (kind == RUNLOG_NOTICE_OUTPUT)
        tu_str_addf(&n->output, "%s\n", text);
    else
        tu_str_addf(&n->stderr_, "runlog: %s\n", text);
}

void xu_notices_free(xu_notices *n)
{
    tu_str_free(&n->output);
    tu_str_free(&n->stderr_);
    memset(n, 0, sizeof *n);
}

runlog_export_options xu_options(runlog_export_format format, xu_notices *n)
{
    runlog_export_options o = RUNLOG_EXPORT_OPTIONS_INIT;

    o.format = format;
    o.notice = xu_notice;
    o.payload = n;
    return o;
}

void xu_assert_file_is(const char *path, const void *data, size_t len)
{
    size_t got_len;
    unsigned char *got = tu_read_file(path, &got_len);

    if (got_len != len || (len && memcmp(got, data, len) != 0))
        fail_msg("%s: %zu bytes, not the %zu expected:\n--- got\n%.*s\n--- expected\n%.*s", path,
                 got_len, len, (int)(got_len > 2000 ? 2000 : got_len), (const char *)got,
                 (int)(len > 2000 ? 2000 : len), (const char *)data);
    free(got);
}

void xu_assert_same_file(const char *a, const char *b)
{
    size_t len;
    unsigned char *data = tu_read_file(b, &len);

    xu_assert_file_is(a, data, len);
    free(data);
}

/* Walks a, checking each entry against b; counts a's regular files. */
static size_t same_tree(const char *a, const char *b, long *entries)
{
    DIR *d = opendir(a);
    struct dirent *e;
    size_t files = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        struct stat sa, sb;
        char *pa, *pb;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        pa = tu_path(a, e->d_name);
        pb = tu_path(b, e->d_name);
        assert_int_equal(lstat(pa, &sa), 0);
        if (lstat(pb, &sb) != 0)
            fail_msg("%s is missing (%s is there)", pb, pa);
        assert_int_equal(sa.st_mode & S_IFMT, sb.st_mode & S_IFMT);
        if (S_ISDIR(sa.st_mode)) {
            files += same_tree(pa, pb, entries);
        } else {
            assert_true(S_ISREG(sa.st_mode));
            xu_assert_same_file(pa, pb);
            files++;
        }
        (*entries)++;
        free(pa);
        free(pb);
    }
    closedir(d);
    return files;
}

size_t xu_assert_same_tree(const char *a, const char *b)
{
    long na = 0, nb = 0;
    size_t files = same_tree(a, b, &na);

    same_tree(b, a, &nb);
    assert_int_equal(na, nb);
    return files;
}

long xu_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    long n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}
