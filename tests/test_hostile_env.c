/*
 * A hostile place for the library's files (issue 17; docs/RELIABILITY.md
 * "Hostile environment"):
 *   - links planted at the names of temporary files: the writer's header
 *     file (once PATH.new-PID, a name anyone could guess) and every other
 *     temporary come from rl_create_temp(), which never opens an existing
 *     name. getrandom() is replaced below so that the test knows the names
 *     it will try, plants links there, and sees them refused (O_EXCL);
 *   - what is not a regular file: a FIFO given as a run-log hung every
 *     reader, /dev/null as a log target took the run and reported success;
 *   - sidecars: a failed copy of a torn tail left an empty
 *     PATH.torn-OFFSET behind, and after 100 failures every name was taken;
 *   - exit codes outside int in a finish record read as 0 ("finished").
 * Below the public API (lib/internal.h): linked with the static library.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "internal.h"

#define OK(expr)                                                                          \
    do {                                                                                  \
        int rc_ = (expr);                                                                 \
        if (rc_ != 0)                                                                     \
            fail_msg("%s:%d: %s returned %d; detail: %s", __FILE__, __LINE__, #expr, rc_, \
                     runlog_error_detail());                                              \
    } while (0)

/* ---- getrandom(), predictable on demand -------------------------------- */

/* 0: the kernel's. 1: call k fills every byte with k (a new name each try).
 * 2: every call fills zeros (always the same name). The library's
 * reference binds to this definition (the executable's comes first). */
static int fake_random;
static unsigned fake_calls;

ssize_t getrandom(void *buf, size_t n, unsigned flags)
{
    if (!fake_random)
        return syscall(SYS_getrandom, buf, n, flags);
    memset(buf, fake_random == 1 ? (int)fake_calls++ : 0, n);
    return (ssize_t)n;
}

/* The name rl_create_temp(target) tries on its k-th getrandom() call when
 * every byte is k: letter k of its alphabet, twelve times. */
static char *temp_name(const char *target, unsigned k)
{
    static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char *s = malloc(strlen(target) + 32);
    assert_non_null(s);
    sprintf(s, "%s.tmp-", target);
    size_t n = strlen(s);
    memset(s + n, abc[k % (sizeof abc - 1)], 12);
    s[n + 12] = '\0';
    return s;
}

/* ---- files --------------------------------------------------------------- */

typedef struct fixture {
    char dir[64];
    char path[128];   /* DIR/test.runlog, not created */
    char victim[128]; /* DIR/victim, holding "precious" */
} fixture;

static const char precious[] = "precious\n";

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof fx->dir, "%s/runlog-hostile-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx->dir))
        return -1;
    snprintf(fx->path, sizeof fx->path, "%s/test.runlog", fx->dir);
    snprintf(fx->victim, sizeof fx->victim, "%s/victim", fx->dir);
    FILE *f = fopen(fx->victim, "w");
    if (!f || fputs(precious, f) < 0 || fclose(f) != 0)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    int rc = system(cmd);
    free(fx);
    fake_random = 0;
    return rc == 0 ? 0 : -1;
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    *len = n;
    return buf;
}

static void write_all(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void assert_victim_intact(const fixture *fx)
{
    struct stat st;
    assert_int_equal(lstat(fx->victim, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    size_t n;
    unsigned char *b = read_all(fx->victim, &n);
    assert_int_equal(n, strlen(precious));
    assert_memory_equal(b, precious, n);
    free(b);
}

static void assert_regular(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
}

/* Names in dir starting with prefix. */
static size_t count_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static void write_rows(const char *path, int from, int to)
{
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    o.synchronous = 1;
    runlog_writer *w;
    OK(runlog_writer_open(&w, path, &o));
    for (int i = from; i < to; i++) {
        OK(runlog_writer_add_double(w, "loss", 1.0 / (i + 1)));
        OK(runlog_writer_commit(w));
    }
    OK(runlog_writer_flush(w));
    OK(runlog_writer_close(w));
}

static void assert_intact(const char *path)
{
    runlog_report *rep;
    OK(runlog_verify(&rep, path));
    assert_true(runlog_report_intact(rep));
    runlog_report_free(rep);
}

/* ---- temporary files --------------------------------------------------- */

/* rl_create_temp() makes a new file and never opens a name that exists:
 * with the first name it tries taken by a link, it takes the next one;
 * with every name taken, it fails with EEXIST. The link's target is left
 * alone either way. */
static void test_temp_exclusive(void **state)
{
    fixture *fx = *state;
    char target[160], *name = NULL, *planted;
    snprintf(target, sizeof target, "%s/out", fx->dir);

    fake_random = 1, fake_calls = 0;
    planted = temp_name(target, 0);
    assert_int_equal(symlink(fx->victim, planted), 0);
    int fd = rl_create_temp(&name, target);
    assert_true(fd >= 0);
    assert_string_not_equal(name, planted);
    char *second = temp_name(target, 1);
    assert_string_equal(name, second); /* the next try */
    free(second);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 0);
    assert_int_equal(st.st_nlink, 1);
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
    assert_victim_intact(fx);
    unlink(name);
    free(name);

    fake_random = 2; /* always the planted name */
    name = NULL;
    errno = 0;
    assert_int_equal(rl_create_temp(&name, target), -1);
    assert_int_equal(errno, EEXIST);
    assert_null(name);
    assert_victim_intact(fx);
    free(planted);

    fake_random = 0; /* a folder that does not exist: the open's error */
    snprintf(target, sizeof target, "%s/nothere/out", fx->dir);
    assert_int_equal(rl_create_temp(&name, target), -1);
    assert_int_equal(errno, ENOENT);
}

/* A new run-log beside links planted at the writer's old temporary name
 * (PATH.new-PID) and at the first names rl_create_temp() will try: the
 * writer neither writes through them nor puts a link at PATH. */
static void test_writer_planted_links(void **state)
{
    fixture *fx = *state;
    char old[200];
    snprintf(old, sizeof old, "%s.new-%ld", fx->path, (long)getpid());
    assert_int_equal(symlink(fx->victim, old), 0);
    for (unsigned k = 0; k < 8; k++) {
        char *p = temp_name(fx->path, k);
        assert_int_equal(symlink(fx->victim, p), 0);
        free(p);
    }
    fake_random = 1, fake_calls = 0;
    write_rows(fx->path, 0, 3);
    fake_random = 0;
    assert_victim_intact(fx);
    assert_regular(fx->path);
    assert_intact(fx->path);
    /* the writer's own temporary is gone; the planted links stay */
    assert_int_equal(count_prefix(fx->dir, "test.runlog.tmp-"), 8);
}

/* runlog_reader_blob_to_file() beside a link at its old name PATH.tmp-PID. */
static void test_blob_to_file_planted_link(void **state)
{
    fixture *fx = *state;
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    o.synchronous = 1;
    runlog_writer *w;
    runlog_digest d;
    OK(runlog_writer_open(&w, fx->path, &o));
    OK(runlog_writer_blob(&d, w, "blob bytes", 10));
    OK(runlog_writer_close(w));
    char out[160], old[200];
    snprintf(out, sizeof out, "%s/blob.bin", fx->dir);
    snprintf(old, sizeof old, "%s.tmp-%ld", out, (long)getpid());
    assert_int_equal(symlink(fx->victim, old), 0);
    runlog_reader *r;
    OK(runlog_reader_open(&r, fx->path, NULL));
    OK(runlog_reader_blob_to_file(r, &d, out));
    runlog_reader_close(r);
    assert_victim_intact(fx);
    assert_regular(out);
    size_t n;
    unsigned char *b = read_all(out, &n);
    assert_int_equal(n, 10);
    assert_memory_equal(b, "blob bytes", 10);
    free(b);
}

/* ---- not a regular file ------------------------------------------------ */

static void assert_not_regular(int rc, const char *path)
{
    assert_int_equal(rc, RUNLOG_EINVAL);
    char want[200];
    snprintf(want, sizeof want, "%s: not a regular file", path);
    assert_non_null(strstr(runlog_error_detail(), want));
}

/* A FIFO as a run-log: refused at once by every entry point, instead of
 * waiting for a writer forever (alarm() turns a hang into a failure). */
static void test_fifo(void **state)
{
    fixture *fx = *state;
    char fifo[160];
    snprintf(fifo, sizeof fifo, "%s/fifo", fx->dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    alarm(30);
    runlog_reader *r = NULL;
    assert_not_regular(runlog_reader_open(&r, fifo, NULL), fifo);
    assert_null(r);
    runlog_report *rep = NULL;
    assert_not_regular(runlog_verify(&rep, fifo), fifo);
    assert_null(rep);
    uint64_t cut = 7;
    assert_not_regular(runlog_repair(&cut, fifo), fifo);
    assert_int_equal(cut, 7);
    runlog_writer *w = NULL;
    assert_not_regular(runlog_writer_open(&w, fifo, NULL), fifo);
    assert_null(w);
    /* a FIFO logged as a blob (read twice: digest, then bytes) */
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    o.synchronous = 1;
    OK(runlog_writer_open(&w, fx->path, &o));
    runlog_digest d;
    uint64_t size;
    assert_not_regular(runlog_writer_blob_file(&d, &size, w, fifo), fifo);
    OK(runlog_writer_close(w));
    alarm(0);
}

/* /dev/null (and a link to it) as the log target: refused, not "started
 * afresh" into the device. */
static void test_device(void **state)
{
    fixture *fx = *state;
    char link[160];
    snprintf(link, sizeof link, "%s/null.runlog", fx->dir);
    assert_int_equal(symlink("/dev/null", link), 0);
    runlog_writer *w = NULL;
    assert_not_regular(runlog_writer_open(&w, "/dev/null", NULL), "/dev/null");
    assert_null(w);
    assert_not_regular(runlog_writer_open(&w, link, NULL), link);
    assert_null(w);
}

/* ---- sidecars ------------------------------------------------------------ */

static rl_io_hooks real_io;
static int fail_copies; /* pwrites to fail: a resume's first is the sidecar copy */

static ssize_t failing_pwrite(int fd, const void *buf, size_t len, off_t off)
{
    if (fail_copies > 0) {
        fail_copies--;
        errno = ENOSPC;
        return -1;
    }
    return real_io.pwrite(fd, buf, len, off);
}

/* A file with a torn tail: a closed run with its last 10 bytes (of the
 * trailer) cut off. The torn bytes start at *torn_at. */
static void make_torn(const char *path, uint64_t *torn_at, uint64_t *size)
{
    write_rows(path, 0, 5);
    size_t n;
    unsigned char *b = read_all(path, &n);
    write_all(path, b, n - 10);
    free(b);
    runlog_report *rep;
    OK(runlog_verify(&rep, path));
    assert_int_equal(runlog_report_damage_count(rep), 1);
    runlog_damage_kind kind;
    uint64_t off, len;
    OK(runlog_report_damage(rep, 0, &kind, &off, &len, NULL));
    assert_int_equal(kind, RUNLOG_DAMAGE_TORN_TAIL);
    *torn_at = off;
    *size = off + len;
    runlog_report_free(rep);
}

/* The torn tail of `path` at `at` is in sidecar `name`, byte for byte. */
static void assert_sidecar(const char *name, const unsigned char *torn, size_t n)
{
    size_t got;
    unsigned char *b = read_all(name, &got);
    assert_int_equal(got, n);
    assert_memory_equal(b, torn, n);
    free(b);
}

/* A copy of the torn tail that fails (a full disk) leaves no sidecar, so
 * that failures cannot use up the names; once the disk has room, the
 * resume moves the tail to PATH.torn-OFFSET. */
static void test_sidecar_failure_leaves_nothing(void **state)
{
    fixture *fx = *state;
    uint64_t at, size;
    make_torn(fx->path, &at, &size);
    size_t n;
    unsigned char *all = read_all(fx->path, &n);
    real_io = rl_io;
    rl_io.pwrite = failing_pwrite;
    /* more failures than there are sidecar names (100) */
    for (int i = 0; i < 101; i++) {
        fail_copies = 1;
        runlog_writer *w = NULL;
        assert_int_equal(runlog_writer_open(&w, fx->path, NULL), RUNLOG_EIO);
        assert_null(w);
        assert_int_equal(count_prefix(fx->dir, "test.runlog.torn-"), 0);
        assert_int_equal(count_prefix(fx->dir, "test.runlog."), 0);
    }
    rl_io = real_io;
    write_rows(fx->path, 5, 8);
    char name[200];
    snprintf(name, sizeof name, "%s.torn-%llu", fx->path, (unsigned long long)at);
    assert_sidecar(name, all + at, (size_t)(size - at));
    assert_int_equal(count_prefix(fx->dir, "test.runlog.torn-"), 1);
    assert_intact(fx->path);
    free(all);
}

/* Sidecars left by older versions: an empty one under every name, and a
 * partial copy (a prefix of the torn bytes) under the first. Each is
 * replaced by the whole tail rather than blocking the resume; a sidecar
 * holding other bytes is kept. */
static void test_sidecar_leftovers(void **state)
{
    fixture *fx = *state;
    uint64_t at, size;
    make_torn(fx->path, &at, &size);
    size_t n;
    unsigned char *all = read_all(fx->path, &n);
    char name[200];
    for (int k = 0; k < 100; k++) {
        if (k)
            snprintf(name, sizeof name, "%s.torn-%llu.%d", fx->path, (unsigned long long)at, k);
        else
            snprintf(name, sizeof name, "%s.torn-%llu", fx->path, (unsigned long long)at);
        write_all(name, all + at, k == 0 ? 3 : 0);
    }
    write_rows(fx->path, 5, 8);
    snprintf(name, sizeof name, "%s.torn-%llu", fx->path, (unsigned long long)at);
    assert_sidecar(name, all + at, (size_t)(size - at));
    assert_intact(fx->path);

    /* other bytes under the first name: kept, the tail goes to .1 */
    write_all(fx->path, all, n);
    write_all(name, "other", 5);
    write_rows(fx->path, 5, 8);
    assert_sidecar(name, (const unsigned char *)"other", 5);
    snprintf(name, sizeof name, "%s.torn-%llu.1", fx->path, (unsigned long long)at);
    assert_sidecar(name, all + at, (size_t)(size - at));
    assert_intact(fx->path);
    free(all);
}

/* ---- exit codes ---------------------------------------------------------- */

/* A finish record whose exit_code does not fit an int (written by another
 * writer: the format's int is 64 bits) reads as failed, the code saturated,
 * whatever its "state" text says. */
static void test_exit_code_outside_int(void **state)
{
    fixture *fx = *state;
    const int64_t codes[] = { INT64_C(4294967296), -INT64_C(4294967296), INT64_MAX, INT64_MIN };
    const int want[] = { INT_MAX, INT_MIN, INT_MAX, INT_MIN };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        unlink(fx->path);
        runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
        o.synchronous = 1;
        runlog_writer *w;
        OK(runlog_writer_open(&w, fx->path, &o));
        rl_buf b = { 0 };
        OK(rl_writer_body_start(w, &b, 2));
        OK(rl_cbor_text(&b, "exit_code", 9));
        OK(rl_cbor_int(&b, codes[i]));
        OK(rl_cbor_text(&b, "state", 5));
        OK(rl_cbor_text(&b, "finished", 8));
        OK(rl_writer_record(w, RL_REC_FINISH, &b));
        rl_buf_free(&b);
        OK(runlog_writer_close(w));
        runlog_reader *r;
        runlog_run *run;
        OK(runlog_reader_open(&r, fx->path, NULL));
        OK(runlog_reader_run(&run, r));
        assert_int_equal(runlog_run_state(run), RUNLOG_STATE_FAILED);
        assert_int_equal(runlog_run_exit_code(run), want[i]);
        runlog_run_free(run);
        runlog_reader_close(r);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_temp_exclusive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_planted_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blob_to_file_planted_link, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sidecar_failure_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sidecar_leftovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_code_outside_int, setup, teardown),
    };
    return cmocka_run_group_tests_name("hostile_env", tests, NULL, NULL);
}
