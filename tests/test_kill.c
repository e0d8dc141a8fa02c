/*
 * SIGKILL tests. A forked child logs rows continuously into a run-log
 * (value = f(step), so every row can be checked exactly; an image every
 * IMAGE_EVERY rows and a table with image cells every TABLE_EVERY rows,
 * whose blobs must be in the file with matching digests; a model artifact
 * at the start of each session), with the writer
 * thread's timed flush every FLUSH_MS and an explicit runlog_writer_flush()
 * every FLUSH_ROWS rows; it reports through shared memory the step of every
 * commit with its time, and the last step whose flush returned. The parent
 * kills it with SIGKILL at a random moment, then checks:
 *   - runlog_verify: at most a torn tail;
 *   - every row has exact values and steps are contiguous from 0 (nothing
 *     invented, nothing out of place), and no row beyond the last commit;
 *   - every row up to the last flushed step is there (flush = durable
 *     against a kill, spec/FORMAT.md §9.2);
 *   - the loss window: how long before the kill the first lost row was
 *     committed (measured and reported, not asserted: timing on a loaded
 *     machine is no test condition).
 * The same file is killed KILLS_PER_FILE times, each time resumed by the
 * next child (runlog_writer_open continues at the next step); then it is
 * resumed once more, finished, and exported with runlog_reader_run (a kill
 * that lands before a resume record is flushed leaves no trace of that
 * session, so only the final resume is certain to be counted).
 *
 *   test_kill              a CI run: 30 kills
 *   RUNLOG_KILL_CAMPAIGN=N test_kill     N kills, with figures
 *   RUNLOG_KILL_SEED=S     fixes the random kill moments
 *   RUNLOG_KILL_FLUSH_ROWS=R  explicit flush every R rows (0: only the
 *                          timed flush; default 2000)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runlog.h"

#define FLUSH_MS 50
#define FLUSH_ROWS_DEFAULT 2000
static unsigned long flush_rows = FLUSH_ROWS_DEFAULT; /* 0: never flush explicitly */
#define KILLS_PER_FILE 3
#define IMAGE_EVERY 50   /* an image every 50 rows, a table every 500 */
#define TABLE_EVERY 500
#define MAX_STEPS (1u << 22)

typedef struct shared {
    volatile uint64_t committed;   /* rows committed so far (next step) */
    volatile uint64_t flushed;     /* rows known to be in the file */
    volatile int started;
    int64_t commit_ns[MAX_STEPS];  /* CLOCK_MONOTONIC time of each commit */
} shared;

static shared *sh;
static char model_path[300];  /* a 4 KiB "checkpoint" logged as a model artifact */
static int failures;

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double f_of(uint64_t step) { return (double)step * 0.25 + 1.0 / 3.0; }

/* An 8x8 RGB image whose pixels depend on the step. */
static int add_image(runlog_writer *w, uint64_t step)
{
    uint8_t px[8 * 8 * 3];
    for (size_t k = 0; k < sizeof px; k++)
        px[k] = (uint8_t)(step + k);
    return runlog_writer_add_image(w, "img", px, 8, 8, 3, RUNLOG_PIXELS_U8, "kill");
}

/* A 2-row table (step, an image, a label), as a prediction table. */
static int add_table(runlog_writer *w, uint64_t step)
{
    static const char *names[] = { "step", "image", "label" };
    static const runlog_column_type types[] = { RUNLOG_COLUMN_INT, RUNLOG_COLUMN_IMAGE,
                                                RUNLOG_COLUMN_STRING };
    runlog_table *t = NULL;
    int rc = runlog_table_new(&t, w, names, types, 3);
    uint8_t px[4 * 4] = { 0 };
    for (int r = 0; !rc && r < 2; r++) {
        px[0] = (uint8_t)(step + (uint64_t)r);
        if ((rc = runlog_table_int(t, (int64_t)step)) == 0 &&
            (rc = runlog_table_image(t, px, 4, 4, 1, RUNLOG_PIXELS_U8, NULL)) == 0 &&
            (rc = runlog_table_string(t, r ? "cat" : "dog")) == 0)
            rc = runlog_table_end_row(t);
    }
    if (!rc)
        rc = runlog_writer_add_table(w, "tbl", t);
    runlog_table_free(t);
    return rc;
}

/* One row of step: the values every check knows. */
static int log_row(runlog_writer *w, uint64_t step)
{
    return runlog_writer_add_double(w, "v", f_of(step)) ||
           runlog_writer_add_int(w, "i", (int64_t)step) ||
           (step % 7 == 0 && runlog_writer_add_string(w, "s", "seven")) ||
           (step % IMAGE_EVERY == 0 && add_image(w, step)) ||
           (step % TABLE_EVERY == 0 && add_table(w, step)) || runlog_writer_commit(w);
}

/* The child: resume or create, then log until killed. */
static void child(const char *path)
{
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    o.project = "kill";
    o.flush_interval_ms = FLUSH_MS;
    runlog_writer *w;
    if (runlog_writer_open(&w, path, &o) != 0) {
        fprintf(stderr, "child: open: %s\n", runlog_error_detail());
        _exit(3);
    }
    static const char *aliases[] = { "best" };
    if (runlog_writer_log_model(NULL, w, model_path, "model", aliases, 1) != 0) {
        fprintf(stderr, "child: log_model: %s\n", runlog_error_detail());
        _exit(7);
    }
    uint64_t step = runlog_writer_next_step(w);
    if (step < sh->flushed) {
        fprintf(stderr, "child: resumed at step %llu, %llu were flushed\n",
                (unsigned long long)step, (unsigned long long)sh->flushed);
        _exit(4);
    }
    sh->committed = step;
    sh->started = 1;
    for (;; step++) {
        if (step >= MAX_STEPS) {
            pause();
            continue;
        }
        if (log_row(w, step)) {
            fprintf(stderr, "child: step %llu: %s\n", (unsigned long long)step, runlog_error_detail());
            _exit(5);
        }
        sh->commit_ns[step] = mono_ns();
        sh->committed = step + 1;
        /* A training loop's pace (~5k rows/s), so that the timed flush,
         * not the explicit one, bounds what a kill loses. */
        struct timespec pace = { 0, 200000 };
        nanosleep(&pace, NULL);
        if (flush_rows && (step + 1) % flush_rows == 0) {
            if (runlog_writer_flush(w) != 0)
                _exit(6);
            sh->flushed = step + 1;
        }
    }
}

#define CHECK(cond, ...)                                                          \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "FAIL %s: ", path);                                   \
            fprintf(stderr, __VA_ARGS__);                                         \
            fprintf(stderr, " (detail: %s)\n", runlog_error_detail());            \
            failures++;                                                           \
            return -1;                                                            \
        }                                                                         \
    } while (0)

/* The blob a row's image or table refers to is in the file and matches
 * its digest (runlog_reader_blob checks it). */
static int blob_ok(runlog_reader *r, const runlog_value *v, int table)
{
    runlog_digest d;
    if (runlog_value_digest(&d, v) != 0)
        return 0;
    if (table) {
        runlog_doc *doc = NULL;
        int rc = runlog_reader_table(&doc, r, &d);
        int ok = rc == 0 && runlog_value_count(runlog_value_get(runlog_doc_value(doc), "data")) == 3;
        runlog_doc_free(doc);
        return ok;
    }
    void *bytes = NULL;
    size_t len = 0;
    int rc = runlog_reader_blob(&bytes, &len, r, &d);
    runlog_free(bytes);
    return rc == 0 && len > 0;
}

/* Strict read of every row. Returns the number of rows, or -1. */
static long check_rows(const char *path)
{
    runlog_reader_options o = RUNLOG_READER_OPTIONS_INIT;
    runlog_reader *r = NULL;
    CHECK(runlog_reader_open(&r, path, &o) == 0, "reader open");
    const runlog_record *rec;
    long n = 0;
    int rc, bad = 0;
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        if (runlog_record_type_of(rec) != RUNLOG_RECORD_HISTORY)
            continue;
        uint64_t step = runlog_record_step(rec);
        size_t nf = runlog_record_field_count(rec);
        size_t want = 2 + (step % 7 == 0) + (step % IMAGE_EVERY == 0) + (step % TABLE_EVERY == 0);
        if (step != (uint64_t)n || nf != want)
            bad = 1;
        for (size_t k = 0; k < nf && !bad; k++) {
            const char *key = runlog_record_field_key(rec, k);
            const runlog_value *v = runlog_record_field_value(rec, k);
            if (strcmp(key, "v") == 0)
                bad = runlog_value_float(v) != f_of(step);
            else if (strcmp(key, "i") == 0)
                bad = runlog_value_int(v) != (int64_t)step;
            else if (strcmp(key, "s") == 0)
                bad = strcmp(runlog_value_string(v, NULL), "seven") != 0;
            else if (strcmp(key, "img") == 0 || strcmp(key, "tbl") == 0)
                bad = !blob_ok(r, v, key[0] == 't');
            else
                bad = 1;
        }
        if (bad) {
            runlog_reader_close(r);
            CHECK(0, "row %ld (step %llu, %zu fields) is not exact", n, (unsigned long long)step, nf);
        }
        n++;
    }
    runlog_reader_close(r);
    CHECK(rc == RUNLOG_ITEROVER, "strict reader stopped with %s", runlog_strerror(rc));
    return n;
}

static int check_verify(const char *path, int *torn)
{
    runlog_report *rep = NULL;
    CHECK(runlog_verify(&rep, path) == 0, "verify");
    size_t nd = runlog_report_damage_count(rep);
    runlog_damage_kind kind = RUNLOG_DAMAGE_TORN_TAIL;
    uint64_t off, len;
    const char *what = "";
    if (nd == 1 && runlog_report_damage(rep, 0, &kind, &off, &len, &what) != 0)
        kind = RUNLOG_DAMAGE_FRAME;
    runlog_report_free(rep);
    CHECK(nd == 0 || (nd == 1 && kind == RUNLOG_DAMAGE_TORN_TAIL),
          "verify: %zu damages (first: kind %d, %s), at most a torn tail expected", nd, (int)kind, what);
    *torn = nd == 1;
    return 0;
}

static uint8_t model_byte(size_t k) { return (uint8_t)(k * 7 + 3); }

/* Every version of the artifact holds one entry whose blob is the model. */
static int artifact_ok(runlog_reader *r, const runlog_value *arts)
{
    if (runlog_value_count(arts) < 1)
        return 0;
    for (size_t a = 0; a < runlog_value_count(arts); a++) {
        const runlog_value *entries = runlog_value_get(runlog_value_item(arts, a), "entries");
        runlog_digest d;
        void *bytes = NULL;
        size_t len = 0;
        if (runlog_value_count(entries) != 1 ||
            runlog_value_digest(&d, runlog_value_item(entries, 0)) != 0 ||
            runlog_reader_blob(&bytes, &len, r, &d) != 0)
            return 0;
        int same = len == 4096;
        for (size_t k = 0; same && k < len; k++)
            same = ((uint8_t *)bytes)[k] == model_byte(k);
        runlog_free(bytes);
        if (!same)
            return 0;
    }
    return 1;
}

static int finish_and_export(const char *path, long rows)
{
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_writer *w = NULL;
    CHECK(runlog_writer_open(&w, path, &o) == 0, "final resume");
    uint64_t step = runlog_writer_next_step(w);
    if (step != (uint64_t)rows) {
        runlog_writer_close(w);
        CHECK(0, "final resume at step %llu, file holds %ld rows", (unsigned long long)step, rows);
    }
    for (int k = 0; k < 10; k++, step++)
        CHECK(log_row(w, step) == 0, "commit after resume");
    static const char *aliases[] = { "final" };
    CHECK(runlog_writer_log_model(NULL, w, model_path, "model", aliases, 1) == 0, "log_model");
    CHECK(runlog_writer_finish(w, 0) == 0, "finish");
    CHECK(runlog_writer_close(w) == 0, "close");
    int torn;
    if (check_verify(path, &torn) != 0)
        return -1;
    CHECK(!torn, "torn tail after a clean finish");
    CHECK(check_rows(path) == rows + 10, "rows after finish");
    runlog_reader_options ro = RUNLOG_READER_OPTIONS_INIT;
    runlog_reader *r = NULL;
    runlog_run *run = NULL;
    CHECK(runlog_reader_open(&r, path, &ro) == 0, "reader open");
    int rc = runlog_reader_run(&run, r);
    if (rc == 0) {
        if (runlog_run_rows(run) != (uint64_t)rows + 10 || runlog_run_state(run) != RUNLOG_STATE_FINISHED ||
            runlog_run_resumes(run) < 1) {
            fprintf(stderr, "FAIL %s: run: %llu rows, state %s, %llu resumes\n", path,
                    (unsigned long long)runlog_run_rows(run), runlog_state_name(runlog_run_state(run)),
                    (unsigned long long)runlog_run_resumes(run));
            failures++;
        }
        if (!artifact_ok(r, runlog_run_artifacts(run))) {
            fprintf(stderr, "FAIL %s: the model artifact is missing or its bytes differ\n", path);
            failures++;
        }
        runlog_run_free(run);
    }
    runlog_reader_close(r);
    CHECK(rc == 0, "runlog_reader_run");
    return 0;
}

typedef struct stats {
    int kills, torn, during_open, no_file;
    long rows_lost_max;
    double window_ms_max;
    uint64_t rows_total;
} stats;

/* One kill of a child writing path. Returns the rows in the file, or -1. */
static long one_kill(const char *path, unsigned *seed, stats *st)
{
    sh->started = 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        child(path);
    /* A random moment: 0..300 ms after the fork (some kills land while the
     * child opens and resumes the file). */
    struct timespec d = { 0, (long)(rand_r(seed) % 300000) * 1000L };
    nanosleep(&d, NULL);
    int64_t kill_ns = mono_ns();
    kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFSIGNALED(status)) {
        fprintf(stderr, "FAIL %s: child exited with %d before the kill\n", path, WEXITSTATUS(status));
        failures++;
        return -1;
    }
    st->kills++;
    st->during_open += !sh->started;
    /* A file appears whole (its header linked into place) or not at all: a
     * kill before that leaves no file, which is right only if the child had
     * not started logging. */
    if (access(path, F_OK) != 0) {
        CHECK(!sh->started && sh->committed == 0, "no file after a kill, but rows were committed");
        st->no_file++;
        return 0;
    }
    int torn;
    if (check_verify(path, &torn) != 0)
        return -1;
    st->torn += torn;
    long rows = check_rows(path);
    if (rows < 0)
        return -1;
    uint64_t committed = sh->committed, flushed = sh->flushed;
    CHECK((uint64_t)rows <= committed, "%ld rows, only %llu committed", rows, (unsigned long long)committed);
    CHECK((uint64_t)rows >= flushed, "%ld rows, %llu were flushed before the kill", rows,
          (unsigned long long)flushed);
    long lost = (long)(committed - (uint64_t)rows);
    if (lost > st->rows_lost_max)
        st->rows_lost_max = lost;
    if (lost > 0 && (uint64_t)rows < MAX_STEPS) {
        double ms = (double)(kill_ns - sh->commit_ns[rows]) / 1e6;
        if (ms > st->window_ms_max)
            st->window_ms_max = ms;
    }
    /* The next child resumes here: what is in the file is what counts. */
    sh->flushed = (uint64_t)rows;
    sh->committed = (uint64_t)rows;
    return rows;
}

int main(void)
{
    const char *env = getenv("RUNLOG_KILL_CAMPAIGN");
    int kills = env ? atoi(env) : 30;
    unsigned seed = getenv("RUNLOG_KILL_SEED") ? (unsigned)atoi(getenv("RUNLOG_KILL_SEED"))
                                               : (unsigned)time(NULL);
    if (getenv("RUNLOG_KILL_FLUSH_ROWS"))
        flush_rows = strtoul(getenv("RUNLOG_KILL_FLUSH_ROWS"), NULL, 10);
    printf("%d kills, seed %u (RUNLOG_KILL_SEED reproduces), timed flush every %d ms, "
           "explicit flush every %lu rows (0: never)\n",
           kills, seed, FLUSH_MS, flush_rows);
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return 1;
    char dir[] = "/tmp/runlog-kill-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    snprintf(model_path, sizeof model_path, "%s/model.bin", dir);
    FILE *mf = fopen(model_path, "wb");
    for (size_t k = 0; mf && k < 4096; k++)
        fputc(model_byte(k), mf);
    if (!mf || fclose(mf) != 0)
        return 1;
    stats st = { 0 };
    int files = 0;
    for (int done = 0; done < kills; files++) {
        char path[256], cmd[600];
        snprintf(path, sizeof path, "%s/kill-%d.runlog", dir, files);
        sh->committed = sh->flushed = 0;
        long rows = 0;
        for (int k = 0; k < KILLS_PER_FILE && done < kills; k++, done++)
            if ((rows = one_kill(path, &seed, &st)) < 0)
                break;
        if (rows >= 0 && finish_and_export(path, rows) == 0)
            st.rows_total += (uint64_t)rows;
        snprintf(cmd, sizeof cmd, "rm -f '%s' '%s'.torn-*", path, path);
        if (system(cmd) != 0) { /* best effort */ }
        if (failures > 5)
            break;
    }
    unlink(model_path);
    rmdir(dir);
    printf("%d kills on %d files (%d during open/resume, %d before the file appeared), %d left a torn "
           "tail; %llu rows checked\n",
           st.kills, files, st.during_open, st.no_file, st.torn, (unsigned long long)st.rows_total);
    printf("largest loss: %ld rows; largest loss window: %.1f ms (first lost row committed that long "
           "before the kill; timed flush every %d ms)\n", st.rows_lost_max, st.window_ms_max, FLUSH_MS);
    printf("%d failures\n", failures);
    return failures ? 1 : 0;
}
