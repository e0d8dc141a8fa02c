/*
 * Hostile files (tests/data/hostile/, written by make_hostile.py and listed
 * in its MANIFEST.tsv with what each one gets wrong and what a reader must
 * do). Each file is read in a forked child, under RLIMIT_AS of 512 MiB and
 * an alarm, with: a strict reader, a tolerant reader, runlog_reader_run,
 * runlog_reader_history("loss"), runlog_verify and runlog_verify_structure.
 * The child checks:
 *   - strict: "ok" files read to the end; "err" files stop with an error
 *     whose detail names a byte offset; "open" files are refused at open;
 *   - tolerant: reads to the end; returns between rows_min and rows_max
 *     history rows, each "loss" value exactly 1/(step+1) (nothing invented);
 *   - history("loss"): the same bounds and exact values, index or not;
 *   - verify: "intact" or "damaged" as listed; runlog_verify_structure
 *     reports a subset of verify's damage (the same kind at the same byte).
 * The parent fails the file if the child crashed, hung, or broke a check.
 *
 *   test_hostile DIR              every file of DIR/MANIFEST.tsv but known bugs
 *   test_hostile --only NAME DIR  that file only (known bugs included)
 *   test_hostile --append DIR     the append check (see append_check)
 *   test_hostile --extract RUNLOG DIR   `RUNLOG extract` on the artifact_* and
 *                                 blob_* files, in a sandbox directory
 *   test_hostile --media RUNLOG DIR     info, dump, export json/csv/hdf5/wandb
 *                                 and extract --images on the media_* files,
 *                                 each in a sandbox (see media_check)
 *
 * Under ASan the address-space limit is not set (ASan reserves terabytes of
 * shadow memory) and files marked "big" are skipped; the output says so.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runlog.h"

#if defined(__SANITIZE_ADDRESS__)
#define HOSTILE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HOSTILE_ASAN 1
#endif
#endif
#ifndef HOSTILE_ASAN
#define HOSTILE_ASAN 0
#endif

#define MEM_LIMIT (512ull << 20)
#define TIME_LIMIT_S 30

typedef struct entry {
    char name[128];
    char strict[16];
    long rows_min, rows_max;
    char verify[16];
    char note[512];
} entry;

static const char *cur_file;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  %s: ", cur_file);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (detail: %s)\n", runlog_error_detail());
    va_end(ap);
    _exit(1);
}

static int names_offset(const char *detail)
{
    return detail && (strstr(detail, "byte ") != NULL);
}

static int value_ok(const runlog_value *v, uint64_t step)
{
    return runlog_value_type(v) == RUNLOG_FLOAT && runlog_value_float(v) == 1.0 / (double)(step + 1);
}

/* Reads every record; returns the final code and counts history rows. */
static int big_file; /* the file under test is marked "big" */

static int read_all(const char *path, unsigned flags, long *rows, int *opened)
{
    runlog_reader_options o = RUNLOG_READER_OPTIONS_INIT;
    o.flags = flags;
    runlog_reader *r = NULL;
    int rc = runlog_reader_open(&r, path, &o);
    *opened = rc == 0;
    *rows = 0;
    if (rc)
        return rc;
    const runlog_record *rec;
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        if (runlog_record_type_of(rec) != RUNLOG_RECORD_HISTORY)
            continue;
        (*rows)++;
        for (size_t i = 0; i < runlog_record_field_count(rec); i++)
            if (strcmp(runlog_record_field_key(rec, i), "loss") == 0 &&
                !value_ok(runlog_record_field_value(rec, i), runlog_record_step(rec)))
                fail("row at step %llu has a wrong loss value",
                     (unsigned long long)runlog_record_step(rec));
    }
    /* ENOMEM on a "big" file is the memory bound doing its job (its
     * detail names no offset: reported in docs/RELIABILITY.md). */
    if (rc != RUNLOG_ITEROVER && !(big_file && rc == RUNLOG_ENOMEM) &&
        !names_offset(runlog_error_detail()))
        fail("error %d without a byte offset in its detail", rc);
    runlog_reader_close(r);
    return rc;
}

static void check_history(const char *path, const entry *e)
{
    runlog_reader_options o = RUNLOG_READER_OPTIONS_INIT;
    o.flags = RUNLOG_READ_TOLERANT;
    runlog_reader *r = NULL;
    if (runlog_reader_open(&r, path, &o) != 0)
        fail("tolerant open failed");
    runlog_run *run = NULL;
    int rc = runlog_reader_run(&run, r);
    if (rc == 0) {
        if ((long)runlog_run_rows(run) > e->rows_max)
            fail("run counts %llu rows, more than %ld", (unsigned long long)runlog_run_rows(run),
                 e->rows_max);
        runlog_run_free(run);
    } else if (strcmp(e->strict, "big") != 0 && rc != RUNLOG_EUNSUPPORTED) {
        fail("runlog_reader_run: %s", runlog_strerror(rc));
    }
    runlog_history *h = NULL;
    rc = runlog_reader_history(&h, r, "loss");
    if (rc == 0) {
        long n = (long)runlog_history_length(h);
        if (n < e->rows_min || n > e->rows_max)
            fail("history of loss has %ld values, expected %ld..%ld", n, e->rows_min, e->rows_max);
        for (long i = 0; i < n; i++)
            if (runlog_history_values(h)[i] != 1.0 / (double)(runlog_history_steps(h)[i] + 1))
                fail("history value %ld (step %llu) is wrong", i,
                     (unsigned long long)runlog_history_steps(h)[i]);
        runlog_history_free(h);
    } else if (rc == RUNLOG_ENOTFOUND) {
        if (e->rows_min > 0)
            fail("history of loss not found, %ld rows expected", e->rows_min);
    } else if (strcmp(e->strict, "big") != 0 && rc != RUNLOG_EUNSUPPORTED) {
        fail("runlog_reader_history: %s", runlog_strerror(rc));
    }
    /* An index that lies about keys is noticed by the read that used it
     * (spec/FORMAT.md §7.2), which then scanned: the answer above is the
     * scan's. */
    const char *notice = runlog_reader_index_notice(r);
    if (strncmp(e->name, "index_lies_", 11) == 0 && (!notice || !strstr(notice, ": byte ")))
        fail("the index lies, and the reader gave no notice naming a byte offset");
    if (strcmp(e->name, "index_tiles_ok.runlog") == 0 && notice)
        fail("an honest index drew a notice: %s", notice);
    /* Every key at once: "loss" as runlog_reader_history() gives it. */
    runlog_histories *all = NULL;
    rc = runlog_reader_histories(&all, r);
    if (rc == 0) {
        size_t at;
        if (runlog_histories_find(&at, all, "loss") == 0) {
            const runlog_history *ha = runlog_histories_get(all, at);
            long n = (long)runlog_history_length(ha);
            if (n < e->rows_min || n > e->rows_max)
                fail("all keys: loss has %ld values, expected %ld..%ld", n, e->rows_min, e->rows_max);
            for (long i = 0; i < n; i++)
                if (runlog_history_values(ha)[i] != 1.0 / (double)(runlog_history_steps(ha)[i] + 1))
                    fail("all keys: value %ld is wrong", i);
        } else if (e->rows_min > 0) {
            fail("all keys: loss not found, %ld rows expected", e->rows_min);
        }
        runlog_histories_free(all);
    } else if (strcmp(e->strict, "big") != 0 && rc != RUNLOG_EUNSUPPORTED) {
        fail("runlog_reader_histories: %s", runlog_strerror(rc));
    }
    runlog_reader_close(r);
}

/* runlog_verify_structure() checks all that verify checks but the values:
 * each damage it reports, verify reports too. */
static void check_structure_subset(const char *path, const runlog_report *full)
{
    runlog_report *rep = NULL;
    if (runlog_verify_structure(&rep, path) != 0)
        fail("verify_structure failed where verify did not: %s", runlog_error_detail());
    for (size_t i = 0; i < runlog_report_damage_count(rep); i++) {
        runlog_damage_kind kind, kind2;
        uint64_t off, off2;
        size_t j;
        if (runlog_report_damage(rep, i, &kind, &off, NULL, NULL) != 0)
            fail("structure damage %zu badly reported", i);
        for (j = 0; j < runlog_report_damage_count(full); j++)
            if (runlog_report_damage(full, j, &kind2, &off2, NULL, NULL) == 0 && kind2 == kind && off2 == off)
                break;
        if (j == runlog_report_damage_count(full))
            fail("verify_structure reports damage at byte %llu that verify does not",
                 (unsigned long long)off);
    }
    runlog_report_free(rep);
}

static void check_file(const char *path, const entry *e)
{
    long rows;
    int opened;
    int big = strcmp(e->strict, "big") == 0;
    big_file = big;
    int rc = read_all(path, RUNLOG_READ_STRICT, &rows, &opened);
    if (strcmp(e->strict, "open") == 0) {
        if (opened || !names_offset(runlog_error_detail()))
            fail("open should fail naming a byte offset");
        runlog_report *rep = NULL;
        if (runlog_verify(&rep, path) == 0)
            fail("verify should fail");
        return;
    }
    if (!opened)
        fail("strict open failed: %s", runlog_strerror(rc));
    if (strcmp(e->strict, "ok") == 0 && rc != RUNLOG_ITEROVER)
        fail("strict reader stopped: %s", runlog_strerror(rc));
    if (strcmp(e->strict, "err") == 0 && rc == RUNLOG_ITEROVER)
        fail("strict reader read to the end of a damaged file");
    rc = read_all(path, RUNLOG_READ_TOLERANT, &rows, &opened);
    if (!big && rc != RUNLOG_ITEROVER && rc != RUNLOG_EUNSUPPORTED)
        fail("tolerant reader stopped: %s", runlog_strerror(rc));
    if (!big && (rows < e->rows_min || rows > e->rows_max))
        fail("tolerant reader returned %ld rows, expected %ld..%ld", rows, e->rows_min, e->rows_max);
    check_history(path, e);
    runlog_report *rep = NULL;
    if (runlog_verify(&rep, path) != 0) {
        if (!big)
            fail("verify failed: %s", runlog_error_detail());
        return;
    }
    int intact = runlog_report_intact(rep);
    if ((strcmp(e->verify, "intact") == 0 && !intact) || (strcmp(e->verify, "damaged") == 0 && intact))
        fail("verify says %s, expected %s", intact ? "intact" : "damaged", e->verify);
    for (size_t i = 0; i < runlog_report_damage_count(rep); i++) {
        runlog_damage_kind kind;
        uint64_t off, len;
        const char *what;
        if (runlog_report_damage(rep, i, &kind, &off, &len, &what) != 0 || !what ||
            off + len > runlog_report_file_size(rep))
            fail("damage %zu badly reported", i);
    }
    check_structure_subset(path, rep);
    runlog_report_free(rep);
}

static long peak_kib; /* peak RSS of the last child */

/* Runs fn in a child with the memory and time limits; 0 when it passed. */
static int in_child(const char *path, const entry *e, void (*fn)(const char *, const entry *))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (!HOSTILE_ASAN) {
            struct rlimit rl = { MEM_LIMIT, MEM_LIMIT };
            if (setrlimit(RLIMIT_AS, &rl) != 0)
                fail("setrlimit: %s", strerror(errno));
        }
        alarm(TIME_LIMIT_S);
        fn(path, e);
        _exit(0);
    }
    int st;
    struct rusage ru;
    while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
        ;
    peak_kib = ru.ru_maxrss;
    if (WIFSIGNALED(st)) {
        fprintf(stderr, "  %s: killed by signal %d%s\n", e->name, WTERMSIG(st),
                WTERMSIG(st) == SIGALRM || WTERMSIG(st) == SIGXCPU ? " (hang: over the time limit)" : " (crash)");
        return 1;
    }
    return WEXITSTATUS(st) != 0;
}

static int load_manifest(const char *dir, entry **out, size_t *n)
{
    char path[4200], line[2048];
    snprintf(path, sizeof path, "%s/MANIFEST.tsv", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *out = realloc(*out, cap * sizeof **out);
            if (!*out)
                abort();
        }
        entry *e = &(*out)[*n];
        memset(e, 0, sizeof *e);
        if (sscanf(line, "%127[^\t]\t%15[^\t]\t%ld\t%ld\t%15[^\t]\t%511[^\n]", e->name, e->strict,
                   &e->rows_min, &e->rows_max, e->verify, e->note) != 6) {
            fprintf(stderr, "%s: bad line: %s", path, line);
            fclose(f);
            return -1;
        }
        (*n)++;
    }
    fclose(f);
    return 0;
}

/*
 * Known bug (docs/RELIABILITY.md, tests/fuzz/open/repair/): a valid frame
 * header whose claimed payload runs past the end of the file, followed by
 * intact frames. Appending to the file (resume) completes the claimed extent;
 * the reader then trusts that header, finds a payload checksum mismatch and
 * skips the whole extent — the intact frames that were already there and
 * the new ones. This check resumes a copy, logs one row, and requires every
 * row to be there afterwards. Registered with should_fail until fixed.
 */
static void append_check(const char *path, const entry *e)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s/hostile-append-%d.runlog", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (int)getpid());
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, copy);
    if (system(cmd) != 0)
        fail("cannot copy");
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    o.synchronous = 1;
    runlog_writer *w;
    if (runlog_writer_open(&w, copy, &o) != 0)
        fail("resume failed");
    uint64_t step = runlog_writer_next_step(w);
    if (runlog_writer_add_double(w, "loss", 1.0 / (double)(step + 1)) != 0 ||
        runlog_writer_commit(w) != 0 || runlog_writer_close(w) != 0)
        fail("appending a row failed");
    long rows;
    int opened;
    read_all(copy, RUNLOG_READ_TOLERANT, &rows, &opened);
    unlink(copy);
    if (rows != e->rows_max + 1)
        fail("after appending one row a tolerant reader sees %ld rows, expected %ld", rows,
             e->rows_max + 1);
}


/* ---- `runlog` commands in a sandbox -------------------------------------- */

static const char *runlog_bin;

/* Names in dir (not "." or ".."), at most n, into names[]; their count
 * (all of them, also past n); -1 when dir cannot be opened. */
static int list_dir(const char *dir, char names[][256], int n)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int k = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            if (k < n)
                snprintf(names[k], 256, "%s", e->d_name);
            k++;
        }
    closedir(d);
    return k;
}

/* A command's sandbox: WRAP/box is its working directory and holds its
 * output (OUT, one name); WRAP/stderr its standard error. Nothing else may
 * appear in either, nor the file the path tests try to plant. */
typedef struct sandbox {
    char wrap[32], box[64], err[64];
} sandbox;

static void sandbox_make(sandbox *sb)
{
    snprintf(sb->wrap, sizeof sb->wrap, "/tmp/runlog-hostile-XXXXXX");
    if (!mkdtemp(sb->wrap))
        fail("mkdtemp: %s", strerror(errno));
    snprintf(sb->box, sizeof sb->box, "%s/box", sb->wrap);
    snprintf(sb->err, sizeof sb->err, "%s/stderr", sb->wrap);
    if (mkdir(sb->box, 0700) != 0)
        fail("mkdir: %s", strerror(errno));
}

static int sandbox_leaked(const sandbox *sb, const char *out)
{
    char names[4][256];
    int nw = list_dir(sb->wrap, names, 4), ok_w = 1;
    for (int i = 0; i < nw && i < 4; i++)
        ok_w &= strcmp(names[i], "box") == 0 || strcmp(names[i], "stderr") == 0;
    int nb = list_dir(sb->box, names, 4);
    int ok_b = nb == 0 || (nb == 1 && strcmp(names[0], out) == 0);
    FILE *evil = fopen("/tmp/runlog-hostile-evil.txt", "r");
    if (evil)
        fclose(evil);
    return !ok_w || nw > 2 || !ok_b || evil != NULL;
}

static void sandbox_remove(const sandbox *sb)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", sb->wrap);
    if (system(cmd) != 0) { /* best effort */ }
}

/* Runs RUNLOG argv[1..] in the sandbox's box, stdout discarded, stderr to
 * its file, under the file's time limit (the memory limit is inherited from
 * in_child); the wait status. Under ASan, which cannot run under RLIMIT_AS,
 * its hard_rss_limit_mb stands in (4 x MEM_LIMIT, for ASan's own overhead):
 * a decompression bomb then ends in a sanitizer report, not in the machine's
 * OOM killer. */
static int run_tool(const sandbox *sb, const char *const *argv)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        fail("fork: %s", strerror(errno));
    if (pid == 0) {
        int out = open("/dev/null", O_WRONLY), err = open(sb->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || chdir(sb->box) != 0)
            _exit(126);
        if (HOSTILE_ASAN) {
            const char *o = getenv("ASAN_OPTIONS");
            char opts[2048];
            snprintf(opts, sizeof opts, "%s%shard_rss_limit_mb=%llu", o ? o : "", o && *o ? ":" : "",
                     (unsigned long long)(4 * MEM_LIMIT >> 20));
            setenv("ASAN_OPTIONS", opts, 1);
        }
        /* A hang is caught two ways: a spin by its CPU time (TIME_LIMIT_S,
         * x4 in sanitizer builds, which run the tool 2-6x slower), and a
         * block (a read that never returns) by a wall-clock alarm four times
         * longer, so that a machine loaded by other jobs (wall 60 s for 16 s
         * of CPU at a load of 9 on 2 cores) is not taken for a hang. The
         * slowest file, media_images_100k, takes 12 s of CPU (user and
         * system) in `export hdf5`, HDF5's own work for its 10^5 image
         * datasets, 26 s under ASan (18 s and 35 s before a blob read kept
         * the frame it loaded and image datasets started with their
         * attributes in dense storage); its other commands under 1 s each,
         * but extract: 6 s, most of it the kernel making 10^5 files. */
        rlim_t cpu = HOSTILE_ASAN ? 4 * TIME_LIMIT_S : TIME_LIMIT_S;
        struct rlimit lim = {cpu, cpu + 1};
        if (setrlimit(RLIMIT_CPU, &lim) != 0)
            _exit(126);
        alarm((unsigned)(4 * cpu));
        execv(runlog_bin, (char *const *)argv);
        _exit(127);
    }
    unsigned left = alarm(0); /* the tool has its own limit; the checks get theirs after */
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    alarm(left > TIME_LIMIT_S / 3 ? left : TIME_LIMIT_S / 3);
    return st;
}

/* Reads the sandbox's stderr (at most n - 1 bytes). */
static void read_err(const sandbox *sb, char *buf, size_t n)
{
    FILE *f = fopen(sb->err, "r");
    size_t got = f ? fread(buf, 1, n - 1, f) : 0;
    buf[got] = 0;
    if (f)
        fclose(f);
}

/* ---- `runlog extract` on hostile artifacts ------------------------------ */

/* Runs `runlog extract FILE --artifact model -o SANDBOX/box/out` and checks
 * that nothing appears outside out/, that bad files are refused (status 1)
 * and that only artifact_ok.runlog yields ok.txt with the right bytes; for
 * that file, extracts again into a directory where ok.txt is a symbolic
 * link to a file outside, which must stay as it was. */
static void extract_check(const char *path, const entry *e)
{
    sandbox sb;
    sandbox_make(&sb);
    char out[128];
    snprintf(out, sizeof out, "%s/out", sb.box);
    const char *argv[] = { runlog_bin, "extract", path, "--artifact", "model", "-o", out, NULL };
    int st = run_tool(&sb, argv);
    int ok_file = strcmp(e->name, "artifact_ok.runlog") == 0;
    int leaked = sandbox_leaked(&sb, "out");
    char okp[160];
    snprintf(okp, sizeof okp, "%s/ok.txt", out);
    FILE *f = fopen(okp, "r");
    char buf[64] = "";
    size_t got = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    int victim_changed = 0;
    if (ok_file) {
        /* A link planted where ok.txt goes must not be followed. */
        char victim[128], out2[128], link[160];
        snprintf(victim, sizeof victim, "%s/victim", sb.wrap);
        snprintf(out2, sizeof out2, "%s/out2", sb.box);
        snprintf(link, sizeof link, "%s/ok.txt", out2);
        FILE *v = fopen(victim, "w");
        if (!v || fputs("victim\n", v) < 0 || fclose(v) != 0 || mkdir(out2, 0700) != 0 ||
            symlink(victim, link) != 0)
            fail("cannot plant the link");
        const char *argv2[] = { runlog_bin, "extract", path, "--artifact", "model", "-o", out2, NULL };
        run_tool(&sb, argv2);
        char vb[16] = "";
        v = fopen(victim, "r");
        size_t vn = v ? fread(vb, 1, sizeof vb - 1, v) : 0;
        if (v)
            fclose(v);
        victim_changed = vn != 7 || memcmp(vb, "victim\n", 7) != 0;
    }
    sandbox_remove(&sb);
    if (victim_changed)
        fail("extract wrote through a symbolic link planted in its target directory");
    if (leaked)
        fail("extract wrote outside its target directory");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != (ok_file ? 0 : 1))
        fail("extract exited with status %d, expected %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
             ok_file ? 0 : 1);
    if (ok_file && (got != 11 || memcmp(buf, "good bytes\n", 11) != 0))
        fail("ok.txt missing or wrong");
    if (!ok_file && f)
        fail("extract produced ok.txt from a bad blob or a refused manifest");
}

/* ---- `runlog` commands on images and tables (media_* files) ------------- */

/*
 * What the file's media should give, worked out here with the library's
 * reader and checks of our own: an image is good when its blob reads
 * (complete, digest matching) and, for "raw", holds exactly height x width
 * x channels bytes (channels 1..4); a table when runlog_reader_table()
 * accepts its blob and its image cells are good. A command that makes
 * images or table cells must fail on a file with anything bad in it.
 */
typedef struct media_facts {
    long images, good_images; /* in history cells and table image columns */
    int bad_image, bad_table, has_table;
} media_facts;

static int is_image_map(const runlog_value *v)
{
    const runlog_value *t = runlog_value_get(v, "_type");
    return runlog_value_type(v) == RUNLOG_MAP && t && runlog_value_type(t) == RUNLOG_STRING &&
           strcmp(runlog_value_string(t, NULL), "image") == 0;
}

static int is_table_map(const runlog_value *v)
{
    const runlog_value *t = runlog_value_get(v, "_type");
    return runlog_value_type(v) == RUNLOG_MAP && t && runlog_value_type(t) == RUNLOG_STRING &&
           strcmp(runlog_value_string(t, NULL), "table") == 0;
}

static int64_t map_int(const runlog_value *m, const char *key)
{
    const runlog_value *v = runlog_value_get(m, key);
    return v && runlog_value_type(v) == RUNLOG_INT ? runlog_value_int(v) : -1;
}

static void count_image(media_facts *mf, runlog_reader *r, const runlog_value *img)
{
    runlog_digest d;
    void *px = NULL;
    size_t len = 0;
    mf->images++;
    if (runlog_value_digest(&d, img) != 0 || runlog_reader_blob(&px, &len, r, &d) != 0) {
        mf->bad_image = 1;
        return;
    }
    runlog_free(px);
    const runlog_value *fmt = runlog_value_get(img, "format");
    const char *f = runlog_value_type(fmt) == RUNLOG_STRING ? runlog_value_string(fmt, NULL) : "";
    int64_t h = map_int(img, "height"), w = map_int(img, "width"), c = map_int(img, "channels");
    /* h, w <= len <= 64 MiB: the product cannot wrap. */
    int raw_ok = h >= 1 && w >= 1 && c >= 1 && c <= 4 && (uint64_t)h <= len && (uint64_t)w <= len &&
                 (uint64_t)h * (uint64_t)w * (uint64_t)c == len;
    if (strcmp(f, "png") != 0 && strcmp(f, "jpeg") != 0 && !(strcmp(f, "raw") == 0 && raw_ok))
        mf->bad_image = 1;
    else
        mf->good_images++;
}

static void count_table(media_facts *mf, runlog_reader *r, const runlog_value *t)
{
    runlog_digest d;
    runlog_doc *doc;
    mf->has_table = 1;
    if (runlog_value_digest(&d, t) != 0 || runlog_reader_table(&doc, r, &d) != 0) {
        mf->bad_table = 1;
        return;
    }
    const runlog_value *v = runlog_doc_value(doc), *types = runlog_value_get(v, "types"),
                       *data = runlog_value_get(v, "data");
    for (size_t c = 0; c < runlog_value_count(types); c++) {
        const char *ty = runlog_value_string(runlog_value_item(types, c), NULL);
        const runlog_value *col = runlog_value_item(data, c);
        for (size_t row = 0; ty && strcmp(ty, "image") == 0 && row < runlog_value_count(col); row++)
            if (is_image_map(runlog_value_item(col, row)))
                count_image(mf, r, runlog_value_item(col, row));
    }
    runlog_doc_free(doc);
}

static void media_facts_of(const char *path, media_facts *mf)
{
    runlog_reader_options o = RUNLOG_READER_OPTIONS_INIT;
    runlog_reader *r = NULL, *blobs = NULL;
    memset(mf, 0, sizeof *mf);
    if (runlog_reader_open(&r, path, &o) != 0 || runlog_reader_open(&blobs, path, &o) != 0)
        fail("cannot open");
    const runlog_record *rec;
    int rc;
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        if (runlog_record_type_of(rec) != RUNLOG_RECORD_HISTORY)
            continue;
        for (size_t i = 0; i < runlog_record_field_count(rec); i++) {
            const runlog_value *v = runlog_record_field_value(rec, i);
            size_t n = runlog_value_type(v) == RUNLOG_LIST ? runlog_value_count(v) : 0, k = 0;
            while (k < n && is_image_map(runlog_value_item(v, k)))
                k++;
            if (is_image_map(v))
                count_image(mf, blobs, v);
            else if (is_table_map(v))
                count_table(mf, blobs, v);
            for (size_t j = 0; n > 0 && k == n && j < n; j++)
                count_image(mf, blobs, runlog_value_item(v, j));
        }
    }
    if (rc != RUNLOG_ITEROVER)
        fail("reading the history failed");
    runlog_reader_close(blobs);
    runlog_reader_close(r);
}

/* Regular files in dir and below, and whether a temporary one is left. */
static long count_files(const char *dir, int *tmp_left)
{
    DIR *d = opendir(dir);
    long n = 0;
    struct dirent *e;
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[4096];
        struct stat st;
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        if (lstat(sub, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            n += count_files(sub, tmp_left);
        else
            n++;
        if (strstr(e->d_name, ".tmp-") || e->d_name[0] == '.')
            *tmp_left = 1;
    }
    closedir(d);
    return n;
}

enum { M_INFO, M_DUMP, M_JSON, M_CSV_TABLE, M_HDF5, M_WANDB, M_EXTRACT, M_NCMDS };
static const char *const media_cmd_names[M_NCMDS] = {
    "info", "dump", "export json", "export csv --table tbl", "export hdf5", "export wandb",
    "extract --images",
};
static int media_cmd; /* the command media_check runs */

/* One command on one media_* file (see NOTES.md): it must exit 0 or 1, 1
 * with a message naming the file, and write nothing outside its sandbox;
 * outputs appear whole or not at all; a file holding a bad image or table
 * makes every command that turns them into images or cells fail, and none
 * produces an image or a cell from them. */
static void media_check(const char *path, const entry *e)
{
    media_facts mf;
    media_facts_of(path, &mf);
    if (media_cmd == M_CSV_TABLE && !mf.has_table)
        return;
    sandbox sb;
    sandbox_make(&sb);
    char out[128];
    static const char *const out_names[M_NCMDS] = { "", "", "out.json", "out.csv", "out.h5", "out", "out" };
    const char *oname = out_names[media_cmd];
    snprintf(out, sizeof out, "%s/%s", sb.box, oname);
    const char *argv[M_NCMDS][9] = {
        { runlog_bin, "info", path, NULL },
        { runlog_bin, "dump", path, NULL },
        { runlog_bin, "export", "json", path, "-o", out, NULL },
        { runlog_bin, "export", "csv", path, "--table", "tbl", "-o", out, NULL },
        { runlog_bin, "export", "hdf5", path, "-o", out, NULL },
        { runlog_bin, "export", "wandb", path, "-o", out, NULL },
        { runlog_bin, "extract", path, "--images", "-o", out, NULL },
    };
    int st = run_tool(&sb, argv[media_cmd]);
    char err[4096];
    read_err(&sb, err, sizeof err);
    int leaked = sandbox_leaked(&sb, oname[0] ? oname : "-"), tmp_left = 0;
    struct stat ost;
    int out_exists = oname[0] && stat(out, &ost) == 0;
    long files = out_exists ? (S_ISDIR(ost.st_mode) ? count_files(out, &tmp_left) : 1) : 0;
    sandbox_remove(&sb);

    const char *cmd = media_cmd_names[media_cmd];
    if (WIFSIGNALED(st))
        fail("%s: killed by signal %d%s", cmd, WTERMSIG(st),
             WTERMSIG(st) == SIGALRM || WTERMSIG(st) == SIGXCPU ? " (hang: over the time limit)" : " (crash)");
    int code = WEXITSTATUS(st);
    if (strstr(err, "Sanitizer") || strstr(err, "runtime error:"))
        fail("%s: sanitizer report: %.300s", cmd, err);
    if (code != 0 && code != 1)
        fail("%s: exit status %d (expected 0 or 1): %.300s", cmd, code, err);
    if (code == 1 && !strstr(err, e->name))
        fail("%s: exit status 1 with a message that does not name the file: \"%.300s\"", cmd, err);
    if (leaked || tmp_left)
        fail("%s: wrote outside its target or left a temporary file", cmd);
    int ok_file = strncmp(e->name, "media_ok", 8) == 0;
    if (ok_file && code != 0)
        fail("%s: a correct file failed: %.300s", cmd, err);
    /* info and dump read no blob; json and csv read tables only. */
    int reads_images = media_cmd >= M_HDF5, reads_tables = media_cmd >= M_JSON;
    int bad = (reads_images && mf.bad_image) || (reads_tables && mf.bad_table);
    if (bad && code == 0)
        fail("%s: exit status 0 with a bad %s in the file", cmd, mf.bad_table ? "table" : "image");
    if (!reads_tables && code != 0)
        fail("%s: failed on a file whose frames are all intact: %.300s", cmd, err);
    if (code != 0 && media_cmd != M_EXTRACT && files > 0)
        fail("%s: failed but left %ld output files", cmd, files);
    if (media_cmd == M_EXTRACT && files > mf.good_images)
        fail("extract wrote %ld images, the file has %ld good ones", files, mf.good_images);
    if (media_cmd == M_EXTRACT && code == 0 && files != mf.good_images)
        fail("extract wrote %ld images, expected %ld", files, mf.good_images);
}

/* Files whose note starts with this are known library bugs: skipped by the
 * default run, each checked by its own should_fail test (--only NAME). */
#define KNOWN_BUG "KNOWN BUG"

int main(int argc, char **argv)
{
    const char *only = NULL;
    int append = 0, extract = 0, media = 0, i = 1;
    for (; i < argc - 1; i++) {
        if (strcmp(argv[i], "--append") == 0)
            append = 1;
        else if (strcmp(argv[i], "--extract") == 0 && i + 1 < argc - 1)
            extract = 1, runlog_bin = argv[++i];
        else if (strcmp(argv[i], "--media") == 0 && i + 1 < argc - 1)
            media = 1, runlog_bin = argv[++i];
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc - 1)
            only = argv[++i];
        else
            break;
    }
    if (i != argc - 1) {
        fprintf(stderr, "usage: test_hostile [--append | --extract RUNLOG | --media RUNLOG] [--only NAME] "
                        "DIR\n");
        return 2;
    }
    /* extract runs in a sandbox directory: make the paths absolute. */
    static char bin_abs[4096], dir_abs[4096];
    if (runlog_bin && realpath(runlog_bin, bin_abs))
        runlog_bin = bin_abs;
    const char *dir = realpath(argv[argc - 1], dir_abs) ? dir_abs : argv[argc - 1];
    if (append)
        only = "overlong_frame_then_intact.runlog";
    entry *es;
    size_t n;
    if (load_manifest(dir, &es, &n) != 0)
        return 1;
    if (HOSTILE_ASAN)
        printf("built with ASan: RLIMIT_AS not set, files marked \"big\" skipped\n");
    else
        printf("each file read under RLIMIT_AS = %llu MiB, alarm %d s\n",
               (unsigned long long)(MEM_LIMIT >> 20), TIME_LIMIT_S);
    int failed = 0, run = 0;
    for (size_t k = 0; k < n; k++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, es[k].name);
        cur_file = es[k].name;
        if (only && strcmp(es[k].name, only) != 0)
            continue;
        if (extract && strncmp(es[k].name, "artifact_", 9) != 0 && strncmp(es[k].name, "blob_", 5) != 0)
            continue;
        if (media && strncmp(es[k].name, "media_", 6) != 0)
            continue;
        if (!only && strncmp(es[k].note, KNOWN_BUG, strlen(KNOWN_BUG)) == 0) {
            printf("KNOWN %s: %s (test_hostile_known_*)\n", es[k].name, es[k].note);
            continue;
        }
        if (HOSTILE_ASAN && strcmp(es[k].strict, "big") == 0) {
            printf("SKIP %s (big, ASan build)\n", es[k].name);
            continue;
        }
        if (media) { /* each command in a child of its own, under the file's limits */
            int bad = 0;
            long peak = 0;
            for (media_cmd = 0; media_cmd < M_NCMDS; media_cmd++) {
                bad |= in_child(path, &es[k], media_check);
                peak = peak_kib > peak ? peak_kib : peak;
            }
            printf("%s %s (peak RSS %ld MiB): %s\n", bad ? "FAIL" : "ok  ", es[k].name,
                   (peak + 1023) / 1024, es[k].note);
            failed += bad != 0;
            run++;
            continue;
        }
        int bad = in_child(path, &es[k], append ? append_check : extract ? extract_check : check_file);
        printf("%s %s (peak RSS %ld MiB): %s\n", bad ? "FAIL" : "ok  ", es[k].name,
               (peak_kib + 1023) / 1024, es[k].note);
        failed += bad != 0;
        run++;
    }
    printf("%d files, %d failed\n", run, failed);
    free(es);
    return failed || run == 0 ? 1 : 0;
}
