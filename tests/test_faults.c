/*
 * I/O fault injection through the rl_io seam (lib/internal.h): every pwrite,
 * pread, fsync and ftruncate the library makes on a run-log goes through
 * rl_io, so this test replaces the hooks and makes the Nth call fail, for
 * N = 1, 2, 3, ... until a whole scenario runs without reaching call N.
 *
 * Failure modes: ENOSPC, EIO, a short write (half the bytes written, then
 * ENOSPC on the retry, as a filling disk does), and a full disk (call N and
 * every later call fail, so the truncation back to the last complete frame
 * fails too). For each N and mode:
 *   - every API call returns 0 or a negative code (never crashes); once one
 *     fails, the writer keeps failing (the error is sticky) and
 *     runlog_writer_close() is safe;
 *   - the file then verifies with at most a torn tail (no damage in the
 *     middle), and every row in it has its exact values, with steps
 *     contiguous from 0 — a prefix of what was committed;
 *   - the file resumes (runlog_writer_open with the hooks restored), takes
 *     more rows at the next step, and verifies intact after close.
 * Both the synchronous writer and the writer thread are covered. A second
 * loop makes the Nth pread fail while reading, checking clean errors.
 * Leaks are caught by the ASan build (LeakSanitizer at exit).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

enum mode { FAIL_ENOSPC, FAIL_EIO, FAIL_SHORT, FAIL_FULL, NMODES };
static const char *mode_name[NMODES] = { "ENOSPC", "EIO", "short write", "full disk" };

static rl_io_hooks real;
static long calls, fail_at;      /* fail the call numbered fail_at (1-based) */
static enum mode fail_mode;
static int injected, short_pending;
static long close_ok_after_finish; /* close returned 0 after finish failed */
static const char *injected_what;  /* "pwrite", "fsync", "ftruncate", "pread" */
static int later_ok;               /* API successes after the first failure */
static int only_pread;           /* count pread calls only (reader loop) */

static int hit(void)
{
    /* FAIL_FULL: the Nth call and every later one fail (the truncation
     * after a failed write included), as on a disk that stays full. */
    if (fail_mode == FAIL_FULL && injected)
        return 1;
    if (injected || fail_at <= 0)
        return 0;
    if (++calls == fail_at) {
        injected = 1;
        return 1;
    }
    return 0;
}

static ssize_t f_pwrite(int fd, const void *buf, size_t len, off_t off)
{
    if (short_pending) { /* the retry after a short write: the disk is full */
        short_pending = 0;
        errno = ENOSPC;
        return -1;
    }
    if (!only_pread && hit()) {
        if (!injected_what)
            injected_what = "pwrite";
        if (fail_mode == FAIL_SHORT && len > 1) {
            short_pending = 1;
            return real.pwrite(fd, buf, len / 2, off);
        }
        errno = fail_mode == FAIL_EIO ? EIO : ENOSPC;
        return -1;
    }
    return real.pwrite(fd, buf, len, off);
}

static ssize_t f_pread(int fd, void *buf, size_t len, off_t off)
{
    if (hit()) {
        if (!injected_what)
            injected_what = "pread";
        errno = EIO;
        return -1;
    }
    return real.pread(fd, buf, len, off);
}

static int f_fsync(int fd)
{
    if (!only_pread && hit()) {
        if (!injected_what)
            injected_what = "fsync";
        errno = EIO;
        return -1;
    }
    return real.fsync(fd);
}

static int f_ftruncate(int fd, off_t len)
{
    if (!only_pread && hit()) {
        if (!injected_what)
            injected_what = "ftruncate";
        errno = EIO;
        return -1;
    }
    return real.ftruncate(fd, len);
}

static void arm(long n, enum mode m, int preads)
{
    if (n == 0)
        m = FAIL_ENOSPC; /* disarmed: FAIL_FULL must not keep failing */
    calls = 0;
    fail_at = n;
    fail_mode = m;
    injected = 0;
    injected_what = NULL;
    later_ok = 0;
    short_pending = 0;
    only_pread = preads;
}

static int failures;

#define CHECK(cond, ...)                                                          \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                  \
            fprintf(stderr, __VA_ARGS__);                                         \
            fprintf(stderr, " (detail: %s)\n", runlog_error_detail());            \
            failures++;                                                           \
            return -1;                                                            \
        }                                                                         \
    } while (0)

static double value_of(uint64_t step) { return (double)step * 0.5 - 3.0; }

#define ROWS 60

/* The writing scenario. Returns how many API calls failed. */
static int scenario(const char *path, int synchronous, int *first_fail_call)
{
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    o.synchronous = synchronous;
    o.flush_interval_ms = RUNLOG_NO_TIMED_FLUSH;
    o.flush_bytes = 400; /* many frames */
    o.salt = 42;
    runlog_writer *w = NULL;
    int nfail = 0, call = 0, finish_failed = 0;
    *first_fail_call = -1;
#define STEP(expr)                                                                \
    do {                                                                          \
        call++;                                                                   \
        int rc_ = (expr);                                                         \
        if (rc_ > 0 || (rc_ < 0 && runlog_error_detail() == NULL)) {              \
            fprintf(stderr, "FAIL: %s returned %d\n", #expr, rc_);                \
            failures++;                                                           \
        }                                                                         \
        /* add_* only fill the pending row; close after a failed finish  \
         * has nothing left to write (counted apart). */                  \
        if (rc_ == 0 && *first_fail_call > 0 && !strstr(#expr, "_add_")) {       \
            if (finish_failed && strstr(#expr, "_close("))                       \
                close_ok_after_finish++;                                          \
            else                                                                  \
                later_ok++;                                                       \
        }                                                                         \
        if (rc_ < 0 && strstr(#expr, "_finish("))                                 \
            finish_failed = 1;                                                    \
        if (rc_ < 0 && *first_fail_call < 0)                                      \
            *first_fail_call = call;                                              \
        nfail += rc_ < 0;                                                         \
    } while (0)
    STEP(runlog_writer_open(&w, path, &o));
    if (!w)
        return nfail;
    STEP(runlog_writer_config_json(w, "{\"lr\":0.1,\"layers\":[1,2]}"));
    for (int i = 0; i < ROWS; i++) {
        STEP(runlog_writer_add_double(w, "v", value_of((uint64_t)i)));
        STEP(runlog_writer_add_int(w, "i", i));
        STEP(runlog_writer_commit(w));
        if (i == 20)
            STEP(runlog_writer_flush(w));
        if (i == 40)
            STEP(runlog_writer_sync(w));
    }
    STEP(runlog_writer_alert(w, "done", "all rows", RUNLOG_ALERT_INFO));
    STEP(runlog_writer_finish(w, 0));
    STEP(runlog_writer_close(w));
#undef STEP
    return nfail;
}

/* Rows of the file: exact values, steps 0..n-1. Returns n or -1. */
static long check_rows(const char *path)
{
    runlog_reader_options o = RUNLOG_READER_OPTIONS_INIT;
    o.flags = RUNLOG_READ_STRICT; /* only a torn tail is allowed */
    runlog_reader *r = NULL;
    CHECK(runlog_reader_open(&r, path, &o) == 0, "%s: reader open", path);
    const runlog_record *rec;
    long n = 0;
    int rc;
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        if (runlog_record_type_of(rec) != RUNLOG_RECORD_HISTORY)
            continue;
        uint64_t step = runlog_record_step(rec);
        if (step != (uint64_t)n || runlog_record_field_count(rec) != 2 ||
            runlog_value_float(runlog_record_field_value(rec, 0)) != value_of(step) ||
            runlog_value_int(runlog_record_field_value(rec, 1)) != (int64_t)step) {
            runlog_reader_close(r);
            CHECK(0, "%s: row %ld (step %llu) is not exact", path, n, (unsigned long long)step);
        }
        n++;
    }
    runlog_reader_close(r);
    CHECK(rc == RUNLOG_ITEROVER, "%s: strict reader stopped with %d", path, rc);
    return n;
}

/* At most a torn tail. Returns 1 if there is one, 0 if intact, -1. */
static int check_verify(const char *path)
{
    runlog_report *rep = NULL;
    CHECK(runlog_verify(&rep, path) == 0, "%s: verify", path);
    size_t nd = runlog_report_damage_count(rep);
    int torn = 0;
    for (size_t i = 0; i < nd; i++) {
        runlog_damage_kind kind;
        uint64_t off, len;
        const char *what;
        if (runlog_report_damage(rep, i, &kind, &off, &len, &what) != 0 ||
            kind != RUNLOG_DAMAGE_TORN_TAIL || i != nd - 1) {
            runlog_report_free(rep);
            CHECK(0, "%s: damage %zu is not a torn tail", path, i);
        }
        torn = 1;
    }
    runlog_report_free(rep);
    return torn;
}

/* Resume with real I/O: more rows at the next step, then intact. */
static int check_resume(const char *path, long rows)
{
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    o.synchronous = 1;
    runlog_writer *w = NULL;
    CHECK(runlog_writer_open(&w, path, &o) == 0, "%s: resume", path);
    uint64_t next = runlog_writer_next_step(w);
    if (next != (uint64_t)rows) {
        runlog_writer_close(w);
        CHECK(0, "%s: resumed at step %llu, the file holds %ld rows", path,
              (unsigned long long)next, rows);
    }
    for (uint64_t s = next; s < next + 3; s++) {
        CHECK(runlog_writer_add_double(w, "v", value_of(s)) == 0 &&
              runlog_writer_add_int(w, "i", (int64_t)s) == 0 && runlog_writer_commit(w) == 0,
              "%s: commit after resume", path);
    }
    CHECK(runlog_writer_close(w) == 0, "%s: close after resume", path);
    CHECK(check_verify(path) == 0, "%s: not intact after resume", path);
    CHECK(check_rows(path) == rows + 3, "%s: rows after resume", path);
    return 0;
}

static int file_exists_nonempty(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    int c = fgetc(f);
    fclose(f);
    return c != EOF;
}

static void cleanup(const char *path)
{
    char cmd[1200];
    unlink(path);
    snprintf(cmd, sizeof cmd, "rm -f '%s'.torn-*", path); /* sidecars of resume */
    if (system(cmd) != 0) { /* nothing to clean */ }
}

static long kinds[5];      /* injected: none, pwrite, fsync, ftruncate, pread */
static long not_sticky[2]; /* failures of fsync / ftruncate+pread the writer went on after */

static void writer_loop(const char *dir, int synchronous, enum mode m)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/faults.runlog", dir);
    long n, min_rows = -1, max_rows = 0, errors = 0;
    for (n = 1;; n++) {
        cleanup(path);
        arm(n, m, 0);
        int first;
        int nfail = scenario(path, synchronous, &first);
        int was_injected = injected, later = later_ok;
        const char *what = injected_what;
        arm(0, m, 0);
        if (!was_injected) {
            if (nfail)
                fprintf(stderr, "FAIL: %d API errors without an injected failure\n", nfail), failures++;
            break;
        }
        if (nfail == 0) {
            /* A failed fsync at sync()/finish() must be reported. A read
             * failure (pread during open) may be retried... none is. */
            fprintf(stderr, "FAIL: %s at I/O call %ld not reported by any API call (%s)\n",
                    mode_name[m], n, synchronous ? "synchronous" : "thread");
            failures++;
        }
        errors++;
        /* spec/FORMAT.md §9.6: after a failed frame write every later call
         * that would put data in the file fails too (sticky error). */
        if (what && strcmp(what, "pwrite") == 0 && later > 0) {
            fprintf(stderr, "FAIL: %s at I/O call %ld (pwrite): %d later API calls succeeded\n",
                    mode_name[m], n, later);
            failures++;
        }
        if (what && strcmp(what, "pwrite") != 0 && later > 0)
            not_sticky[strcmp(what, "fsync") == 0 ? 0 : 1]++;
        kinds[what == NULL ? 0 : what[1] == 'w' ? 1 : what[1] == 's' ? 2 : what[1] == 't' ? 3 : 4]++;
        if (!file_exists_nonempty(path))
            continue; /* the header itself could not be written */
        runlog_report *rep = NULL;
        if (runlog_verify(&rep, path) != 0) {
            /* The header write failed: the file must not pass as a run-log
             * with content, and a writer must be able to start it afresh. */
            runlog_report_free(rep);
            if (check_resume(path, 0) != 0)
                fprintf(stderr, "  (call %ld, %s)\n", n, mode_name[m]);
            continue;
        }
        runlog_report_free(rep);
        long rows = check_rows(path);
        if (rows < 0 || check_verify(path) < 0 || check_resume(path, rows) != 0) {
            fprintf(stderr, "  (call %ld, %s, %s)\n", n, mode_name[m],
                    synchronous ? "synchronous" : "thread");
            continue;
        }
        if (min_rows < 0 || rows < min_rows)
            min_rows = rows;
        if (rows > max_rows)
            max_rows = rows;
    }
    cleanup(path);
    printf("%-11s %-11s: %ld I/O calls in the scenario, each failed in turn: %ld API errors, "
           "rows kept %ld..%ld of %d\n", synchronous ? "synchronous" : "thread", mode_name[m],
           n - 1, errors, min_rows, max_rows, ROWS);
}

/* Readers: the Nth pread fails with EIO; every call fails cleanly. */
static void reader_loop(const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/faults-read.runlog", dir);
    cleanup(path);
    int first;
    if (scenario(path, 1, &first) != 0) {
        fprintf(stderr, "FAIL: clean scenario\n");
        failures++;
        return;
    }
    long n;
    for (n = 1;; n++) {
        arm(n, FAIL_EIO, 1);
        runlog_reader *r = NULL;
        runlog_reader_options o = RUNLOG_READER_OPTIONS_INIT;
        if (runlog_reader_open(&r, path, &o) == 0) {
            const runlog_record *rec;
            while (runlog_reader_next(r, &rec) == 0)
                ;
            runlog_run *run = NULL;
            if (runlog_reader_run(&run, r) == 0)
                runlog_run_free(run);
            runlog_history *h = NULL;
            if (runlog_reader_history(&h, r, "v") == 0) {
                if (runlog_history_length(h) != ROWS && !injected)
                    fprintf(stderr, "FAIL: history length\n"), failures++;
                runlog_history_free(h);
            }
            runlog_reader_close(r);
        }
        runlog_report *rep = NULL;
        if (runlog_verify(&rep, path) == 0)
            runlog_report_free(rep);
        int was = injected;
        arm(0, FAIL_EIO, 0);
        if (!was)
            break;
    }
    cleanup(path);
    printf("reader     EIO        : %ld pread calls, each failed in turn, no crash\n", n - 1);
}

int main(void)
{
    real = rl_io;
    rl_io.pwrite = f_pwrite;
    rl_io.pread = f_pread;
    rl_io.fsync = f_fsync;
    rl_io.ftruncate = f_ftruncate;
    char dir[] = "/tmp/runlog-faults-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    for (int sync = 1; sync >= 0; sync--)
        for (int m = 0; m < NMODES; m++)
            writer_loop(dir, sync, (enum mode)m);
    reader_loop(dir);
    printf("failures injected: %ld pwrite, %ld fsync, %ld ftruncate, %ld pread\n", kinds[1],
           kinds[2], kinds[3], kinds[4]);
    printf("after a failed fsync the writer went on (later calls succeeded) %ld times; "
           "after a failed ftruncate or pread %ld times; close returned 0 after a failed "
           "finish %ld times\n", not_sticky[0], not_sticky[1], close_ok_after_finish);
    rmdir(dir);
    printf("%d failures\n", failures);
    return failures ? 1 : 0;
}
