/*
 * test_capture.c — live capture (runlog.h "Live capture"): metadata, system
 * samples, console capture, alert commands; no descriptor left behind.
 *
 * Nothing here asserts on timing: samples are checked for plausible ranges
 * and for facts the test arranges (a child that burns CPU, 32 MiB touched),
 * and waits are bounded only to turn a hang into a failure.
 */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#define NO_GPU "/nonexistent/libnvidia-ml.so.1"

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static runlog_writer *open_writer(const char *path)
{
    runlog_writer *w;
    TU_OK(runlog_writer_open(&w, path, NULL));
    return w;
}

static void finish_writer(runlog_writer *w)
{
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
}

/* The whole run (metadata, counts) of a closed file. */
static runlog_run *read_run(const char *path, runlog_reader **r)
{
    runlog_run *run;
    TU_OK(runlog_reader_open(r, path, NULL));
    TU_OK(runlog_reader_run(&run, *r));
    return run;
}

static const char *meta_str(const runlog_value *m, const char *key)
{
    const runlog_value *v = runlog_value_get(m, key);
    assert_non_null(v);
    assert_int_equal(runlog_value_type(v), RUNLOG_STRING);
    return runlog_value_string(v, NULL);
}

static int64_t meta_int(const runlog_value *m, const char *key)
{
    const runlog_value *v = runlog_value_get(m, key);
    assert_non_null(v);
    assert_int_equal(runlog_value_type(v), RUNLOG_INT);
    return runlog_value_int(v);
}

/* `git rev-parse HEAD` in the working directory, or "" outside a repository. */
static void git_head(char *buf, size_t size)
{
    FILE *p = popen("git rev-parse --verify HEAD 2>/dev/null", "r");
    buf[0] = '\0';
    if (!p)
        return;
    if (!fgets(buf, (int)size, p))
        buf[0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    pclose(p);
}

static void test_metadata(void **state)
{
    char *dir = tu_tmpdir(), *path = tu_path(dir, "m.runlog");
    runlog_capture_options o = RUNLOG_CAPTURE_OPTIONS_INIT;
    char host[256], cwd[4096], head[128], *json;
    runlog_capture *c;
    runlog_reader *r;
    runlog_run *run;
    const runlog_value *m, *argv, *batch, *git;
    const char *argv0;
    runlog_writer *w = open_writer(path);

    (void)state;
    setenv("SLURM_JOB_ID", "4242", 1);
    setenv("SLURM_ARRAY_TASK_ID", "3", 1);
    setenv("SLURM_RESTART_COUNT", "2", 1);
    setenv("RANK", "5", 1);
    setenv("LOCAL_RANK", "1", 1);
    setenv("WORLD_SIZE", "8", 1);
    setenv("WANDB_API_KEY", "hunter2-secret", 1);
    o.interval_ms = RUNLOG_CAPTURE_NO_SAMPLER;
    o.nvml_library = NO_GPU;
    TU_OK(runlog_capture_start(&c, w, &o));
    TU_OK(runlog_capture_stop(c));
    finish_writer(w);
    unsetenv("SLURM_JOB_ID");
    unsetenv("SLURM_ARRAY_TASK_ID");
    unsetenv("SLURM_RESTART_COUNT");
    unsetenv("RANK");
    unsetenv("LOCAL_RANK");
    unsetenv("WORLD_SIZE");
    unsetenv("WANDB_API_KEY");

    run = read_run(path, &r);
    m = runlog_run_metadata(run);
    assert_int_equal(runlog_run_record_count(run, RUNLOG_RECORD_METADATA), 1);
    assert_int_equal(gethostname(host, sizeof host), 0);
    assert_string_equal(meta_str(m, "host"), host);
    assert_int_equal(meta_int(m, "pid"), getpid());
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_string_equal(meta_str(m, "cwd"), cwd);
    assert_int_equal(meta_int(m, "cpu_count"), sysconf(_SC_NPROCESSORS_ONLN));
    assert_true(meta_int(m, "memory_total_bytes") > 0);
    assert_string_equal(meta_str(m, "os"), "Linux");
    assert_true(strlen(meta_str(m, "kernel")) > 0);
    assert_true(strstr(meta_str(m, "executable"), "test_capture") != NULL);
    argv = runlog_value_get(m, "argv");
    assert_non_null(argv);
    assert_true(runlog_value_count(argv) >= 1);
    argv0 = runlog_value_string(runlog_value_item(argv, 0), NULL);
    assert_true(strstr(argv0, "test_capture") != NULL);
    assert_true(strlen(meta_str(m, "started_at")) == 24); /* 2024-05-01T12:00:00.250Z */
    batch = runlog_value_get(m, "batch");
    assert_non_null(batch);
    assert_string_equal(meta_str(batch, "system"), "slurm");
    assert_string_equal(meta_str(batch, "job_id"), "4242");
    assert_string_equal(meta_str(batch, "array_index"), "3");
    assert_string_equal(meta_str(batch, "restart_count"), "2");
    assert_int_equal(meta_int(m, "rank"), 5);
    assert_int_equal(meta_int(m, "local_rank"), 1);
    assert_int_equal(meta_int(m, "world_size"), 8);
    assert_null(runlog_value_get(m, "gpus"));
    /* The same commit as git says, when the tests run inside a repository. */
    git_head(head, sizeof head);
    git = runlog_value_get(m, "git");
    if (head[0]) {
        assert_non_null(git);
        assert_string_equal(meta_str(git, "commit"), head);
        assert_non_null(runlog_value_get(git, "dirty"));
    } else {
        assert_null(git);
    }
    /* Nothing from the environment beyond the listed variables. */
    TU_OK(runlog_value_to_json(&json, m, 0));
    assert_null(strstr(json, "hunter2"));
    runlog_free(json);
    runlog_run_free(run);
    runlog_reader_close(r);
    free(path);
    tu_tmpdir_free(dir);
}

static void test_no_metadata(void **state)
{
    char *dir = tu_tmpdir(), *path = tu_path(dir, "n.runlog");
    runlog_capture_options o = RUNLOG_CAPTURE_OPTIONS_INIT;
    runlog_capture *c;
    runlog_reader *r;
    runlog_run *run;
    runlog_writer *w = open_writer(path);

    (void)state;
    o.no_metadata = 1;
    o.interval_ms = RUNLOG_CAPTURE_NO_SAMPLER;
    TU_OK(runlog_capture_start(&c, w, &o));
    TU_OK(runlog_capture_stop(c));
    runlog_capture_stop(NULL);
    o.version = 99;
    TU_RC(runlog_capture_start(&c, w, &o), RUNLOG_EINVAL);
    TU_RC(runlog_capture_start(&c, NULL, NULL), RUNLOG_EINVAL);
    finish_writer(w);
    run = read_run(path, &r);
    assert_int_equal(runlog_run_record_count(run, RUNLOG_RECORD_METADATA), 0);
    assert_int_equal(runlog_value_count(runlog_run_metadata(run)), 0);
    runlog_run_free(run);
    runlog_reader_close(r);
    free(path);
    tu_tmpdir_free(dir);
}

/* The metadata's disk_mount for a capture given disk_path, or NULL when
 * the key is absent; a copy to free. *total and *used (unless NULL): its
 * disk_total_bytes and disk_used_bytes, -1 when absent. */
static char *disk_meta_of(const char *disk_path, int64_t *total, int64_t *used)
{
    char *dir = tu_tmpdir(), *path = tu_path(dir, "d.runlog"), *mount = NULL;
    runlog_capture_options o = RUNLOG_CAPTURE_OPTIONS_INIT;
    const runlog_value *v;
    runlog_capture *c;
    runlog_reader *r;
    runlog_run *run;
    runlog_writer *w = open_writer(path);

    o.interval_ms = RUNLOG_CAPTURE_NO_SAMPLER;
    o.nvml_library = NO_GPU;
    o.disk_path = disk_path;
    TU_OK(runlog_capture_start(&c, w, &o));
    TU_OK(runlog_capture_stop(c));
    finish_writer(w);
    run = read_run(path, &r);
    if ((v = runlog_value_get(runlog_run_metadata(run), "disk_mount")) != NULL) {
        assert_int_equal(runlog_value_type(v), RUNLOG_STRING);
        mount = strdup(runlog_value_string(v, NULL));
    }
    const char *names[2] = { "disk_total_bytes", "disk_used_bytes" };
    int64_t *outs[2] = { total, used };
    for (int i = 0; i < 2; i++) {
        if (!outs[i])
            continue;
        v = runlog_value_get(runlog_run_metadata(run), names[i]);
        *outs[i] = v ? runlog_value_int(v) : -1;
        assert_true(!v || runlog_value_type(v) == RUNLOG_INT);
    }
    runlog_run_free(run);
    runlog_reader_close(r);
    free(path);
    tu_tmpdir_free(dir);
    return mount;
}

/* mount is the mount point of the filesystem that holds path, as far as a
 * check apart from /proc/self/mountinfo can tell: it is path, resolved, or
 * a folder above it, and on the same device. */
static void check_mount(const char *mount, const char *path)
{
    char *real = realpath(path, NULL);
    size_t n = strlen(mount);
    struct stat a, b;

    assert_non_null(real);
    assert_true(mount[0] == '/');
    assert_true(n == 1 || (strncmp(real, mount, n) == 0 && (real[n] == '/' || real[n] == '\0')));
    assert_int_equal(stat(mount, &a), 0);
    assert_int_equal(stat(real, &b), 0);
    assert_true(a.st_dev == b.st_dev);
    free(real);
}

/* disk_mount names the filesystem of disk_path (spec/EXPORTS.md §8.1):
 * the default "." is the working directory's; another filesystem (tmpfs
 * /dev/shm, when it is one) gives another answer; a path that does not
 * exist, none. */
/* disk_total_bytes and disk_used_bytes (§8.1): statvfs() of disk_path's
 * filesystem at the start, used as all blocks but the free ones. The used
 * bytes move with whatever else writes there: within 256 MiB of now. */
static void test_disk_space(void **state)
{
    char *dir = tu_tmpdir();
    int64_t total, used;
    struct statvfs v;

    (void)state;
    free(disk_meta_of(dir, &total, &used));
    assert_int_equal(statvfs(dir, &v), 0);
    assert_int_equal(total, (int64_t)(v.f_blocks * v.f_frsize));
    int64_t now = (int64_t)((v.f_blocks - v.f_bfree) * v.f_frsize);
    assert_true(used >= 0 && used <= total);
    assert_true(used > now - (256 << 20) && used < now + (256 << 20));
    free(disk_meta_of("/nonexistent/runlog/dir", &total, &used));
    assert_int_equal(total, -1);
    assert_int_equal(used, -1);
    tu_tmpdir_free(dir);
}

static void test_disk_mount(void **state)
{
    char cwd[4096], shm[] = "/dev/shm/runlog-test-XXXXXX";
    char *dot, *tmp, *dir = tu_tmpdir(), *other;
    struct stat a, b;

    (void)state;
    assert_non_null(getcwd(cwd, sizeof cwd));
    dot = disk_meta_of(NULL, NULL, NULL);
    assert_non_null(dot);
    check_mount(dot, cwd);
    tmp = disk_meta_of(dir, NULL, NULL);
    assert_non_null(tmp);
    check_mount(tmp, dir);
    assert_null(disk_meta_of("/nonexistent/runlog/dir", NULL, NULL));
    if (mkdtemp(shm)) {
        other = disk_meta_of(shm, NULL, NULL);
        assert_non_null(other);
        check_mount(other, shm);
        assert_int_equal(stat(shm, &a), 0);
        assert_int_equal(stat(dir, &b), 0);
        if (a.st_dev != b.st_dev)
            assert_string_not_equal(other, tmp);
        rmdir(shm);
        free(other);
    }
    free(dot);
    free(tmp);
    tu_tmpdir_free(dir);
}

/* The value of key in a system record, or NAN. */
static double field(const runlog_record *rec, const char *key)
{
    size_t i, n = runlog_record_field_count(rec);
    for (i = 0; i < n; i++)
        if (strcmp(runlog_record_field_key(rec, i), key) == 0)
            return runlog_value_float(runlog_record_field_value(rec, i));
    return NAN;
}

static void check_sample(const runlog_record *rec, double ncpu)
{
    size_t i, n = runlog_record_field_count(rec);
    double cpu = field(rec, "cpu");

    assert_true(isnan(cpu) || (cpu >= 0 && cpu <= 100 * ncpu));
    assert_true(field(rec, "proc.memory.rssMB") >= 32); /* the 32 MiB touched */
    assert_true(field(rec, "proc.cpu.threads") >= 1);
    assert_true(field(rec, "memory_percent") > 0 && field(rec, "memory_percent") <= 100);
    assert_true(field(rec, "system.cpu") >= 0 && field(rec, "system.cpu") <= 100);
    assert_true(field(rec, "disk.usagePercent") >= 0 && field(rec, "disk.usagePercent") <= 100);
    assert_true(field(rec, "network.recv") >= 0 && field(rec, "network.sent") >= 0);
    for (i = 0; i < n; i++)
        assert_true(strncmp(runlog_record_field_key(rec, i), "gpu.", 4) != 0);
}

/* A child burns CPU for a while; samples every 100 ms see the tree. */
static void test_system_samples(void **state)
{
    char *dir = tu_tmpdir(), *path = tu_path(dir, "s.runlog");
    runlog_capture_options o = RUNLOG_CAPTURE_OPTIONS_INIT;
    const runlog_record *rec;
    runlog_capture *c;
    runlog_reader *r;
    size_t mem = 32u << 20, i;
    unsigned char *p = malloc(mem);
    double max_cpu = 0, ncpu = (double)sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t samples = 0;
    int fds = count_fds(), st, rc;
    pid_t pid;
    runlog_writer *w = open_writer(path);

    (void)state;
    for (i = 0; i < mem; i += 4096)
        p[i] = (unsigned char)i | 1; /* resident */
    o.no_metadata = 1;
    o.interval_ms = 100;
    o.disk_path = dir;
    o.nvml_library = NO_GPU;
    TU_OK(runlog_capture_start(&c, w, &o));
    if ((pid = fork()) == 0) {
        struct timespec t0, t;
        volatile unsigned long x = 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        do {
            for (int k = 0; k < 100000; k++)
                x += (unsigned long)k;
            clock_gettime(CLOCK_MONOTONIC, &t);
        } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 800);
        _exit(0);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    sleep_ms(300);
    TU_OK(runlog_capture_stop(c));
    finish_writer(w);
    assert_int_equal(count_fds(), fds);

    TU_OK(runlog_reader_open(&r, path, NULL));
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        if (runlog_record_type_of(rec) != RUNLOG_RECORD_SYSTEM)
            continue;
        assert_int_equal(runlog_record_step(rec), samples); /* 0, 1, 2... */
        check_sample(rec, ncpu);
        if (field(rec, "cpu") > max_cpu)
            max_cpu = field(rec, "cpu");
        samples++;
    }
    assert_int_equal(rc, RUNLOG_ITEROVER);
    assert_true(samples >= 3);
    assert_true(max_cpu > 0); /* the child's 0.8 s of CPU was seen */
    runlog_reader_close(r);
    assert_int_equal(p[4096], 1);
    free(p);
    free(path);
    tu_tmpdir_free(dir);
}

/* ---- console ---- */

typedef struct console_case {
    tu_str out, err; /* what was written to each stream, in order */
} console_case;

static void put(console_case *k, int fd, const void *data, size_t len)
{
    tu_str_add(fd == 1 ? &k->out : &k->err, data, len);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
}

/* Everything a capture should record, written while fds 1 and 2 are the
 * pipes: binary bytes, \r progress, 256 KiB in one write (four times a
 * pipe's capacity), a child's output, and a last line without a newline
 * left in stdio's buffer for stop() to flush. */
static void write_console(console_case *k)
{
    static const unsigned char bin[] = {0, 1, 2, 0xff, 0xfe, '\n', 0x80, 0, '\r'};
    char *big = malloc(256 << 10);
    int st;
    pid_t pid;

    put(k, 1, "line one\n", 9);
    put(k, 1, bin, sizeof bin);
    put(k, 2, "progress 10%\rprogress 50%\r", 26);
    for (size_t i = 0; i < (256u << 10); i++)
        big[i] = (char)('a' + i % 26);
    put(k, 1, big, 256u << 10);
    free(big);
    fflush(NULL);
    if ((pid = fork()) == 0) {
        (void)!write(1, "child out\n", 10);
        (void)!write(2, "child err no newline", 20);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    tu_str_add(&k->out, "child out\n", 10);
    tu_str_add(&k->err, "child err no newline", 20);
    printf("stdio tail without newline");
    tu_str_add(&k->out, "stdio tail without newline", 26);
}

static void check_file(const char *path, const tu_str *want)
{
    size_t len;
    unsigned char *got = tu_read_file(path, &len);
    assert_int_equal(len, want->len);
    assert_memory_equal(got, want->p, len);
    free(got);
}

static void check_recorded(const char *path, const console_case *k)
{
    tu_str got[3] = {{0}};
    const runlog_record *rec;
    runlog_reader *r;
    const char *data;
    size_t len;
    int rc;

    TU_OK(runlog_reader_open(&r, path, NULL));
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        const runlog_value *body = runlog_record_body(rec);
        if (runlog_record_type_of(rec) != RUNLOG_RECORD_CONSOLE)
            continue;
        data = runlog_value_string(runlog_value_get(body, "data"), &len);
        const char *stream = runlog_value_string(runlog_value_get(body, "stream"), NULL);
        tu_str_add(&got[strcmp(stream, "stdout") == 0 ? 1 : 2], data, len);
    }
    assert_int_equal(rc, RUNLOG_ITEROVER);
    runlog_reader_close(r);
    assert_int_equal(got[1].len, k->out.len);
    assert_memory_equal(got[1].p, k->out.p, k->out.len);
    assert_int_equal(got[2].len, k->err.len);
    assert_memory_equal(got[2].p, k->err.p, k->err.len);
    tu_str_free(&got[1]);
    tu_str_free(&got[2]);
}

static void test_console(void **state)
{
    char *dir = tu_tmpdir(), *path = tu_path(dir, "c.runlog");
    char *out_path = tu_path(dir, "stdout"), *err_path = tu_path(dir, "stderr");
    runlog_capture_options o = RUNLOG_CAPTURE_OPTIONS_INIT;
    console_case k = {{0}, {0}};
    runlog_capture *c, *c2;
    int real1, real2, f1, f2, fds;
    runlog_writer *w = open_writer(path);

    (void)state;
    /* The "terminal" is a pair of files, to see what reaches it. */
    fflush(NULL);
    real1 = dup(1);
    real2 = dup(2);
    f1 = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    f2 = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(real1 >= 0 && real2 >= 0 && f1 >= 0 && f2 >= 0);
    dup2(f1, 1);
    dup2(f2, 2);
    close(f1);
    close(f2);
    fds = count_fds();

    o.console = 1;
    o.no_metadata = 1;
    o.interval_ms = RUNLOG_CAPTURE_NO_SAMPLER;
    TU_OK(runlog_capture_start(&c, w, &o));
    /* fds 1 and 2 belong to one capture at a time. */
    TU_RC(runlog_capture_start(&c2, w, &o), RUNLOG_ESTATE);
    write_console(&k);
    TU_OK(runlog_capture_stop(c));
    assert_int_equal(count_fds(), fds);
    /* Restored: this goes to the file, not to the run-log. */
    put(&k, 1, "after stop\n", 11);
    k.out.len -= 11;

    dup2(real1, 1);
    dup2(real2, 2);
    close(real1);
    close(real2);
    finish_writer(w);
    check_recorded(path, &k);
    tu_str_add(&k.out, "after stop\n", 11);
    check_file(out_path, &k.out);
    check_file(err_path, &k.err);
    tu_str_free(&k.out);
    tu_str_free(&k.err);
    free(out_path);
    free(err_path);
    free(path);
    tu_tmpdir_free(dir);
}

/* ---- alerts ---- */

static void test_alert_command(void **state)
{
    char *dir = tu_tmpdir(), *path = tu_path(dir, "a.runlog"), *cmd, *done;
    runlog_capture_options o = RUNLOG_CAPTURE_OPTIONS_INIT;
    const runlog_record *rec;
    runlog_capture *c;
    runlog_reader *r;
    int i, alerts = 0;
    size_t len;
    unsigned char *got;
    runlog_writer *w = open_writer(path);

    (void)state;
    done = tu_path(dir, "alert.txt");
    assert_true(asprintf(&cmd, "printf '%%s|%%s|%%s' \"$RUNLOG_ALERT_TITLE\" \"$RUNLOG_ALERT_TEXT\" "
                               "\"$RUNLOG_ALERT_LEVEL\" >'%s.tmp' && mv '%s.tmp' '%s'",
                         done, done, done) > 0);
    o.no_metadata = 1;
    o.interval_ms = RUNLOG_CAPTURE_NO_SAMPLER;
    o.alert_command = cmd;
    TU_OK(runlog_capture_start(&c, w, &o));
    TU_OK(runlog_capture_alert(c, "Loss is NaN", "at step 3; \"quoted\"", RUNLOG_ALERT_WARN));
    TU_RC(runlog_capture_alert(c, NULL, "x", RUNLOG_ALERT_INFO), RUNLOG_EINVAL);
    TU_OK(runlog_capture_stop(c));
    /* The command runs on its own; wait for its file (bounded, a hang guard). */
    for (i = 0; i < 1000 && !tu_exists(done); i++)
        sleep_ms(10);
    got = tu_read_file(done, &len);
    assert_string_equal((char *)got, "Loss is NaN|at step 3; \"quoted\"|WARN");
    free(got);
    finish_writer(w);
    TU_OK(runlog_reader_open(&r, path, NULL));
    while (runlog_reader_next(r, &rec) == 0)
        if (runlog_record_type_of(rec) == RUNLOG_RECORD_ALERT) {
            alerts++;
            assert_string_equal(runlog_value_string(
                runlog_value_get(runlog_record_body(rec), "title"), NULL), "Loss is NaN");
        }
    assert_int_equal(alerts, 1);
    runlog_reader_close(r);
    free(cmd);
    free(done);
    free(path);
    tu_tmpdir_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_no_metadata),
        cmocka_unit_test(test_disk_mount),
        cmocka_unit_test(test_disk_space),
        cmocka_unit_test(test_system_samples),
        cmocka_unit_test(test_console),
        cmocka_unit_test(test_alert_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
