/*
 * test_export_wandb.c — runlog_export(RUNLOG_EXPORT_WANDB) called directly:
 * the directory it writes is the one `runlog export wandb` writes for the
 * same inputs (every file, byte for byte; the notices are the command's
 * lines), option and output errors, strict vs tolerant on a damaged file,
 * a run whose times are INT64_MIN and INT64_MAX (issue 17 item 14:
 * signed overflow, caught by the ASan+UBSan build, and a wrapped _runtime,
 * caught by any build), and the run-set rule (spec/EXPORTS.md §11): a file
 * given twice is exported once, per-rank files sharing an id are refused,
 * a run continued in a second file is one offline run.
 *
 * usage: test_export_wandb RUNLOG MAKE_RUNS
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runlog_export.h"
#include "testutil.h"

static const char *runlog_bin, *make_runs_bin;
static char *runs; /* the make_runs output, made once */

/* ---- notices ---- */

typedef struct notices {
    tu_str out;  /* RUNLOG_NOTICE_OUTPUT lines, as the command prints them */
    tu_str err;  /* the others, "runlog: TEXT" lines */
    int kinds[8];
} notices;

static void on_notice(void *payload, runlog_notice_kind kind, const char *text)
{
    notices *n = payload;

    assert_true(kind >= 1 && kind <= 4);
    n->kinds[kind]++;
    if (kind == RUNLOG_NOTICE_OUTPUT)
        tu_str_addf(&n->out, "%s\n", text);
    else
        tu_str_addf(&n->err, "runlog: %s\n", text);
}

static void notices_free(notices *n)
{
    tu_str_free(&n->out);
    tu_str_free(&n->err);
}

static const char *text_of(tu_str *s)
{
    return s->p ? s->p : "";
}

static int export_wandb(const char *const *in, size_t n, const char *out, runlog_damage_policy d,
                        const char *project, notices *nt)
{
    runlog_export_options o = RUNLOG_EXPORT_OPTIONS_INIT;

    o.format = RUNLOG_EXPORT_WANDB;
    o.damage = d;
    o.wandb_project = project;
    o.notice = nt ? on_notice : NULL;
    o.payload = nt;
    return runlog_export(in, n, out, &o);
}

/* ---- processes and directories ---- */

/* Runs argv with stdout and stderr into files; the exit status. */
static int run_cmd(char *const argv[], const char *out_path, const char *err_path)
{
    pid_t pid;
    int status;

    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static tu_str walk_list;
static size_t walk_root;

static int walk_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (path[walk_root])
        tu_str_addf(&walk_list, "%s %c %lld\n", path + walk_root,
                    flag == FTW_D ? 'd' : S_ISREG(st->st_mode) ? 'f' : '?',
                    S_ISREG(st->st_mode) ? (long long)st->st_size : 0LL);
    return 0;
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every entry under dir, sorted: "REL TYPE SIZE" lines. */
static char *tree_of(const char *dir)
{
    char **lines = NULL, *p, *out;
    size_t n = 0, i;
    tu_str s = {0};

    memset(&walk_list, 0, sizeof walk_list);
    walk_root = strlen(dir);
    assert_int_equal(nftw(dir, walk_entry, 16, FTW_PHYS), 0);
    for (p = walk_list.p ? strtok(walk_list.p, "\n") : NULL; p; p = strtok(NULL, "\n")) {
        lines = realloc(lines, (n + 1) * sizeof *lines);
        assert_non_null(lines);
        lines[n++] = p;
    }
    qsort(lines, n, sizeof *lines, cmp_line);
    for (i = 0; i < n; i++)
        tu_str_addf(&s, "%s\n", lines[i]);
    free(lines);
    tu_str_free(&walk_list);
    out = strdup(s.p ? s.p : "");
    tu_str_free(&s);
    return out;
}

/* Masks W&B's client ids (runs of exactly 128 [a-z0-9], new random ones
 * in every export, as W&B's SDK makes them) with 'x'. */
static void mask_ids(unsigned char *d, size_t n)
{
    size_t i = 0, j;

    while (i < n) {
        for (j = i; j < n && ((d[j] >= 'a' && d[j] <= 'z') || (d[j] >= '0' && d[j] <= '9')); j++)
            ;
        if (j - i == 128)
            memset(d + i, 'x', 128);
        i = j > i ? j : i + 1;
    }
}

/* A .wandb transaction log as its chunk types and its bytes without the
 * chunk headers (their CRCs change with the ids): W&B's framing, 7-byte
 * file header, 32 KiB blocks, 7-byte chunk headers (spec/EXPORTS.md §10.1). */
static unsigned char *log_body(const unsigned char *d, size_t n, size_t *len)
{
    unsigned char *out = malloc(n + 1);
    size_t off = 7, k = 0, left, clen;

    assert_non_null(out);
    while (off + 7 <= n) {
        left = 32768 - off % 32768;
        if (left < 7) {
            off += left;
            continue;
        }
        clen = (size_t)d[off + 4] | (size_t)d[off + 5] << 8;
        out[k++] = d[off + 6]; /* the chunk type */
        assert_true(off + 7 + clen <= n);
        memcpy(out + k, d + off + 7, clen);
        k += clen;
        off += 7 + clen;
    }
    *len = k;
    return out;
}

/* Both trees have the same entries and every file the same bytes, but for
 * artifact client ids and the writer id (random in each export): JSON
 * files are compared with them masked, .wandb logs record by record with
 * them masked (the chunk CRCs differ, the lengths may not). */
static size_t assert_same_tree(const char *a, const char *b)
{
    char *ta = tree_of(a), *tb = tree_of(b), *line, *save = NULL;
    size_t files = 0;

    assert_string_equal(ta, tb);
    for (line = strtok_r(ta, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char rel[4096], type, *sp;
        long long size;
        /* "REL TYPE SIZE", REL possibly with spaces (a table key's file) */
        assert_non_null(sp = strrchr(line, ' '));
        assert_true(sp - line >= 2 && sp[-2] == ' ' && sscanf(sp + 1, "%lld", &size) == 1);
        type = sp[-1];
        assert_true(sp - 2 - line < (ptrdiff_t)sizeof rel);
        memcpy(rel, line, (size_t)(sp - 2 - line));
        rel[sp - 2 - line] = '\0';
        if (type != 'f')
            continue;
        char *pa = tu_path(a, rel + 1), *pb = tu_path(b, rel + 1);
        size_t la, lb;
        unsigned char *da = tu_read_file(pa, &la), *db = tu_read_file(pb, &lb);
        size_t rl = strlen(rel);
        int is_log = rl > 6 && strcmp(rel + rl - 6, ".wandb") == 0,
            is_json = rl > 5 && strcmp(rel + rl - 5, ".json") == 0;
        if (is_log && la == lb) {
            unsigned char *ba = log_body(da, la, &la), *bb = log_body(db, lb, &lb);
            free(da), free(db);
            da = ba, db = bb;
        }
        if (is_log || is_json)
            mask_ids(da, la), mask_ids(db, lb);
        if (la != lb || memcmp(da, db, la) != 0)
            fail_msg("%s differs between the API's and the command's export", rel);
        files++;
        free(da), free(db), free(pa), free(pb);
    }
    free(ta);
    free(tb);
    return files;
}

static char *find_run_dir(const char *dir, const char *suffix)
{
    char **names;
    size_t n = tu_list_prefix(dir, "offline-run-", &names), i;
    char *found = NULL;

    for (i = 0; i < n; i++)
        if (strlen(names[i]) > strlen(suffix) &&
            strcmp(names[i] + strlen(names[i]) - strlen(suffix), suffix) == 0)
            found = tu_path(dir, names[i]);
    tu_free_names(names, n);
    return found;
}

/* ---- tests ---- */

/* The API and the command write the same directory for the same inputs.
 * Both write into the same path (moved aside after each): the .wandb
 * stream holds artifact entries' absolute local_path under it. Nothing
 * else is time-based: the run directory is named by the run's start time
 * and id; the random client ids (new in every export, as W&B's) are masked
 * by assert_same_tree(). */
static void same_as_command(void **state)
{
    (void)state;
    char *d = tu_tmpdir(), *out = tu_path(d, "out"), *api = tu_path(d, "api"),
         *cmd = tu_path(d, "cmd"), *so = tu_path(d, "stdout"), *se = tu_path(d, "stderr");
    const char *names[] = {"full", "crashed", "resumed", "split-b", "split-a"};
    char *in[5];
    notices nt = {0};
    size_t i, len;

    for (i = 0; i < 5; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.runlog", names[i]);
        in[i] = tu_path(runs, name);
    }
    TU_OK(export_wandb((const char *const *)in, 5, out, RUNLOG_DAMAGE_TOLERANT, "wandb-tests",
                       &nt));
    assert_int_equal(rename(out, api), 0);
    char *argv[] = {(char *)runlog_bin, "export", "wandb", in[0], in[1], in[2], in[3], in[4],
                    "-o", out, "--project", "wandb-tests", NULL};
    assert_int_equal(run_cmd(argv, so, se), 0);
    assert_int_equal(rename(out, cmd), 0);
    assert_true(assert_same_tree(api, cmd) >= 20);

    /* notices: the command's stdout lines are the OUTPUT notices (one per
     * run), its stderr the others ("part N of run" for the split run) */
    unsigned char *o = tu_read_file(so, &len), *e = tu_read_file(se, &len);
    /* the paths in the lines name `out`, the same for both */
    assert_string_equal((char *)o, text_of(&nt.out));
    assert_string_equal((char *)e, text_of(&nt.err));
    assert_int_equal(nt.kinds[RUNLOG_NOTICE_OUTPUT], 4);
    assert_int_equal(nt.kinds[RUNLOG_NOTICE_WARNING], 2);
    assert_non_null(strstr(text_of(&nt.err), "split-a.runlog: part 1 of run split-run\n"));
    free(o), free(e);
    notices_free(&nt);
    for (i = 0; i < 5; i++)
        free(in[i]);
    free(out), free(api), free(cmd), free(so), free(se);
    tu_tmpdir_free(d);
}

static void option_errors(void **state)
{
    (void)state;
    char *d = tu_tmpdir(), *in = tu_path(runs, "full.runlog"), *out = tu_path(d, "out"),
         *hard = tu_path(d, "hard.runlog"), *sym = tu_path(d, "sym.runlog"),
         *copy = tu_path(d, "copy.runlog");
    const char *inputs[1] = {copy};
    runlog_export_options o = RUNLOG_EXPORT_OPTIONS_INIT;
    size_t len;
    unsigned char *bytes = tu_read_file(in, &len);

    tu_write_file(copy, bytes, len);
    free(bytes);
    o.format = RUNLOG_EXPORT_WANDB;
    o.version = 99;
    TU_RC(runlog_export(inputs, 1, out, &o), RUNLOG_EINVAL);
    assert_non_null(strstr(runlog_error_detail(), "version"));
    o.version = RUNLOG_EXPORT_OPTIONS_VERSION;
    TU_RC(runlog_export(inputs, 0, out, &o), RUNLOG_EINVAL);
    TU_RC(runlog_export(NULL, 1, out, &o), RUNLOG_EINVAL);
    TU_RC(runlog_export(inputs, 1, NULL, &o), RUNLOG_EINVAL); /* a directory is required */
    o.damage = (runlog_damage_policy)7;
    TU_RC(runlog_export(inputs, 1, out, &o), RUNLOG_EINVAL);
    o.damage = RUNLOG_DAMAGE_TOLERANT;
    assert_false(tu_exists(out));

    /* the output is the input: through a hard link, a symbolic link */
    assert_int_equal(link(copy, hard), 0);
    assert_int_equal(symlink(copy, sym), 0);
    TU_RC(runlog_export(inputs, 1, hard, &o), RUNLOG_EINVAL);
    assert_non_null(strstr(runlog_error_detail(), "is the input"));
    TU_RC(runlog_export(inputs, 1, sym, &o), RUNLOG_EINVAL);
    assert_non_null(strstr(runlog_error_detail(), "is the input"));
    assert_int_equal(tu_file_size(copy), (int64_t)len); /* untouched */

    /* not a run-log: its path in the detail, nothing made */
    const char *notrl[1] = {"/dev/null"};
    assert_true(runlog_export(notrl, 1, out, &o) < 0);
    assert_non_null(strstr(runlog_error_detail(), "/dev/null"));
    assert_false(tu_exists(out));

    /* an existing run directory is not replaced: ESTATE, the rest kept */
    TU_OK(runlog_export(inputs, 1, out, &o));
    char *before = tree_of(out);
    TU_RC(runlog_export(inputs, 1, out, &o), RUNLOG_ESTATE);
    assert_non_null(strstr(runlog_error_detail(), "already exists"));
    char *after = tree_of(out);
    assert_string_equal(before, after);
    free(before), free(after);
    free(in), free(out), free(hard), free(sym), free(copy);
    tu_tmpdir_free(d);
}

/* Bytes flipped in the middle of full.runlog: tolerant (the default)
 * exports the rest, says so and returns RUNLOG_EDAMAGED; strict fails
 * with the checksum code naming the file, and leaves nothing. */
static void damage_policy(void **state)
{
    (void)state;
    char *d = tu_tmpdir(), *src = tu_path(runs, "full.runlog"), *bad = tu_path(d, "bad.runlog"),
         *tol = tu_path(d, "tol"), *str = tu_path(d, "strict");
    const char *inputs[1] = {bad};
    notices nt = {0};
    size_t len, i;
    unsigned char *bytes = tu_read_file(src, &len);

    for (i = 0; i < 16; i++)
        bytes[len / 2 + i] ^= 0x5a;
    tu_write_file(bad, bytes, len);
    free(bytes);

    TU_RC(export_wandb(inputs, 1, tol, RUNLOG_DAMAGE_TOLERANT, NULL, &nt), RUNLOG_EDAMAGED);
    assert_int_equal(nt.kinds[RUNLOG_NOTICE_DAMAGE], 1);
    assert_int_equal(nt.kinds[RUNLOG_NOTICE_OUTPUT], 1);
    assert_non_null(strstr(text_of(&nt.err), "bytes skipped"));
    char *run = find_run_dir(tol, "-full-run-1");
    assert_non_null(run);
    char *wandb = tu_path(run, "run-full-run-1.wandb");
    assert_true(tu_file_size(wandb) > 0);
    free(wandb), free(run);
    notices_free(&nt);

    memset(&nt, 0, sizeof nt);
    int rc = export_wandb(inputs, 1, str, RUNLOG_DAMAGE_STRICT, NULL, &nt);
    assert_true(rc == RUNLOG_ECHECKSUM || rc == RUNLOG_ECORRUPT);
    assert_non_null(strstr(runlog_error_detail(), "bad.runlog: byte "));
    assert_int_equal(nt.kinds[RUNLOG_NOTICE_OUTPUT], 0);
    assert_true(!tu_exists(str) || find_run_dir(str, "") == NULL);
    notices_free(&nt);
    free(src), free(bad), free(tol), free(str);
    tu_tmpdir_free(d);
}

/* Warnings: a run id outside W&B's characters, a history key that is one of
 * W&B's own, a writer still holding the run. */
static void warnings(void **state)
{
    (void)state;
    char *d = tu_tmpdir(), *path = tu_path(d, "w.runlog"), *out = tu_path(d, "out");
    const char *inputs[1] = {path};
    tu_clock clock = {1700000000000000000LL, 1000};
    runlog_writer_options wo;
    runlog_writer *w = NULL;
    notices nt = {0};

    tu_fixed_options(&wo, &clock, 1);
    wo.run_id = "a b/c";
    TU_OK(runlog_writer_open(&w, path, &wo));
    TU_OK(runlog_writer_add_double(w, "_runtime", 1.5));
    TU_OK(runlog_writer_add_double(w, "loss", 0.5));
    TU_OK(runlog_writer_commit(w));
    TU_OK(runlog_writer_flush(w));
    /* still open: the export sees a live run */
    TU_OK(export_wandb(inputs, 1, out, RUNLOG_DAMAGE_TOLERANT, NULL, &nt));
    TU_OK(runlog_writer_close(w));
    const char *err = text_of(&nt.err);
    assert_non_null(strstr(err, "runlog: run id 'a b/c' exported as 'a_b_c' "));
    assert_non_null(strstr(err, "w.runlog: history key '_runtime' is one of W&B's own; left out\n"));
    assert_non_null(strstr(err, "w.runlog: a writer still holds the run; exported as it stands "
                                "now, as failed\n"));
    assert_int_equal(nt.kinds[RUNLOG_NOTICE_WARNING], 3);
    assert_non_null(strstr(text_of(&nt.out), "state failed\n"));
    notices_free(&nt);
    free(path), free(out);
    tu_tmpdir_free(d);
}

/* Times at both ends of int64: the start at INT64_MIN, rows and the end at
 * INT64_MAX. end - start does not fit in int64_t: the runtime is clamped
 * (summary _runtime and _wandb.runtime 9223372036 s, whole seconds as W&B
 * writes them; the exit record's runtime INT32_MAX s) instead of
 * overflowing. */
static int64_t extreme_clock(void *ctx)
{
    const int *opened = ctx;
    return *opened ? INT64_MAX : INT64_MIN;
}

static void extreme_times(void **state)
{
    (void)state;
    char *d = tu_tmpdir(), *path = tu_path(d, "t.runlog"), *out = tu_path(d, "out");
    const char *inputs[1] = {path};
    runlog_writer_options wo;
    runlog_writer *w = NULL;
    tu_clock unused = {0, 0};
    int opened = 0;
    size_t len;

    tu_fixed_options(&wo, &unused, 1);
    wo.clock = extreme_clock;
    wo.clock_ctx = &opened;
    TU_OK(runlog_writer_open(&w, path, &wo));
    opened = 1;
    TU_OK(runlog_writer_add_double(w, "loss", 0.25));
    TU_OK(runlog_writer_commit(w));
    TU_OK(runlog_writer_console(w, RUNLOG_STDOUT, "x\n", 2));
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));

    TU_OK(export_wandb(inputs, 1, out, RUNLOG_DAMAGE_TOLERANT, NULL, NULL));
    char *run = find_run_dir(out, "-test-run-0001");
    assert_non_null(run);
    char *summary = tu_path(run, "files/wandb-summary.json");
    unsigned char *s = tu_read_file(summary, &len);
    if (!strstr((char *)s, "\"_runtime\": 9223372036,") ||
        !strstr((char *)s, "\"_wandb\": {\"runtime\": 9223372036}") ||
        !strstr((char *)s, "\"_timestamp\": 9223372036.854775807"))
        fail_msg("wandb-summary.json: %s", (char *)s);
    free(s), free(summary), free(run);
    free(path), free(out);
    tu_tmpdir_free(d);
}

/* ---- several files (spec/EXPORTS.md §11) ---- */

/* A run-log of run `id` with its own file UUID (uuid_byte), started at
 * `start`, rows at steps from..from+n-1 with loss = base + step; finished
 * (exit code 0) or not. */
static char *write_part(const char *dir, const char *file, const char *id, uint8_t uuid_byte,
                        int64_t start, int from, int n, double base, int finish)
{
    uint8_t uuid[16] = {0x77, 0x61, 0x6e, 0x64, 0x62, 0x32, 0x40, 0x00,
                        0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    tu_clock clock = {start, 1000000};
    char *path = tu_path(dir, file);
    runlog_writer_options wo;
    runlog_writer *w = NULL;
    int i;

    uuid[15] = uuid_byte;
    tu_fixed_options(&wo, &clock, 1);
    wo.run_id = id;
    wo.file_uuid = uuid;
    TU_OK(runlog_writer_open(&w, path, &wo));
    TU_OK(runlog_writer_config_int(w, "seed", 7));
    for (i = from; i < from + n; i++) {
        TU_OK(runlog_writer_add_double(w, "loss", base + i));
        TU_OK(runlog_writer_commit_step(w, (uint64_t)i));
    }
    TU_OK(runlog_writer_console(w, RUNLOG_STDOUT, "line\n", 5));
    if (finish)
        TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
    return path;
}

static size_t count_runs(const char *dir)
{
    char **names;
    size_t n = tu_list_prefix(dir, "offline-run-", &names);

    tu_free_names(names, n);
    return n;
}

/* The same file given twice (and a hard link to it: the same UUID) is one
 * input: one run, exported as the file alone would be, and a warning for
 * each dropped path naming the kept one. The old grouping exported it as a
 * run of three parts, every record three times. */
static void given_twice(void **state)
{
    (void)state;
    char *d = tu_tmpdir(), *full = tu_path(runs, "full.runlog"), *link_path = tu_path(d, "l.runlog"),
         *out = tu_path(d, "out"), *once = tu_path(d, "once"), *twice = tu_path(d, "twice");
    const char *one[1] = {full}, *three[3] = {full, full, link_path};
    notices nt = {0};
    char want[8192];

    assert_int_equal(link(full, link_path), 0);
    TU_OK(export_wandb(one, 1, out, RUNLOG_DAMAGE_TOLERANT, NULL, NULL));
    assert_int_equal(rename(out, once), 0);
    TU_OK(export_wandb(three, 3, out, RUNLOG_DAMAGE_TOLERANT, NULL, &nt));
    assert_int_equal(rename(out, twice), 0);
    assert_int_equal(count_runs(twice), 1);
    assert_true(assert_same_tree(once, twice) >= 5);
    assert_int_equal(nt.kinds[RUNLOG_NOTICE_WARNING], 2);
    snprintf(want, sizeof want,
             "runlog: %s: the same file as %s (file UUID); exported once\n"
             "runlog: %s: the same file as %s (file UUID); exported once\n",
             full, full, link_path, full);
    assert_string_equal(text_of(&nt.err), want);
    assert_int_equal(nt.kinds[RUNLOG_NOTICE_OUTPUT], 1);
    notices_free(&nt);
    free(full), free(link_path), free(out), free(once), free(twice);
    tu_tmpdir_free(d);
}

/* Four per-rank files of a distributed job given one run id: each logged
 * its own loss at the same steps, so they are not one run (§11.3). The
 * export is refused with the run set's detail naming two of the files, and
 * nothing is left in DIR. The old grouping made one run of the four. */
static void per_rank_refused(void **state)
{
    (void)state;
    char *d = tu_tmpdir(), *out = tu_path(d, "out"), *in[4], name[32], *a, *b;
    notices nt = {0};
    int k;

    for (k = 0; k < 4; k++) {
        snprintf(name, sizeof name, "rank%d.runlog", k);
        in[k] = write_part(d, name, "ddp-run", (uint8_t)(k + 1), 1700000000000000000LL, 0, 3,
                           k * 0.25, 1);
    }
    TU_RC(export_wandb((const char *const *)in, 4, out, RUNLOG_DAMAGE_TOLERANT, NULL, &nt),
          RUNLOG_EINVAL);
    const char *detail = runlog_error_detail();
    a = strstr(detail, "rank");
    assert_non_null(a);
    b = strstr(a + 4, "rank");
    assert_non_null(b);
    assert_true(strncmp(a, b, strlen("rank0.runlog")) != 0); /* two different files */
    assert_non_null(strstr(detail, "not one run"));
    assert_true(!tu_exists(out) || count_runs(out) == 0);
    if (tu_exists(out)) {
        char **names;
        size_t n = tu_list_prefix(out, "", &names);
        tu_free_names(names, n);
        assert_int_equal(n, 0); /* no staging directory either */
    }
    assert_int_equal(nt.kinds[RUNLOG_NOTICE_OUTPUT], 0);
    notices_free(&nt);
    for (k = 0; k < 4; k++)
        free(in[k]);
    free(out);
    tu_tmpdir_free(d);
}

/* A run requeued into a second file (same id, later start, the steps going
 * on) is one offline run: its rows from both files, in merge order (the
 * files given in the other order), finished as the second file says. */
static void continued_run(void **state)
{
    (void)state;
    char *d = tu_tmpdir(), *out = tu_path(d, "out");
    char *first = write_part(d, "first.runlog", "requeued", 1, 1700000000000000000LL, 0, 2, 1.0, 0);
    char *second = write_part(d, "second.runlog", "requeued", 2, 1700000100000000000LL, 2, 3, 1.0, 1);
    const char *in[2] = {second, first};
    notices nt = {0};
    char want[8192];

    TU_OK(export_wandb(in, 2, out, RUNLOG_DAMAGE_TOLERANT, NULL, &nt));
    assert_int_equal(count_runs(out), 1);
    snprintf(want, sizeof want, "runlog: %s: part 1 of run requeued\nrunlog: %s: part 2 of run requeued\n",
             first, second);
    assert_string_equal(text_of(&nt.err), want);
    assert_int_equal(nt.kinds[RUNLOG_NOTICE_OUTPUT], 1);
    /* header, run, config, files, 5 rows, 2 console chunks, summary, files,
     * exit, final */
    assert_non_null(strstr(text_of(&nt.out), ": 16 records, "));
    assert_non_null(strstr(text_of(&nt.out), "state finished\n"));
    char *run = find_run_dir(out, "-requeued"), *summary = tu_path(run, "files/wandb-summary.json");
    size_t len;
    unsigned char *s = tu_read_file(summary, &len);
    if (!strstr((char *)s, "\"_step\": 4") || !strstr((char *)s, "\"loss\": 5.0"))
        fail_msg("wandb-summary.json: %s", (char *)s);
    free(s), free(summary), free(run);
    notices_free(&nt);
    free(first), free(second), free(out);
    tu_tmpdir_free(d);
}

static int make_runs(void **state)
{
    (void)state;
    runs = tu_tmpdir();
    char *argv[] = {(char *)make_runs_bin, runs, NULL};
    char *o = tu_path(runs, "make.out"), *e = tu_path(runs, "make.err");
    int rc = run_cmd(argv, o, e);
    free(o), free(e);
    return rc;
}

static int remove_runs(void **state)
{
    (void)state;
    tu_tmpdir_free(runs);
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_as_command),
        cmocka_unit_test(option_errors),
        cmocka_unit_test(damage_policy),
        cmocka_unit_test(warnings),
        cmocka_unit_test(extreme_times),
        cmocka_unit_test(given_twice),
        cmocka_unit_test(per_rank_refused),
        cmocka_unit_test(continued_run),
    };

    if (argc != 3) {
        fprintf(stderr, "usage: test_export_wandb RUNLOG MAKE_RUNS\n");
        return 2;
    }
    runlog_bin = argv[1];
    make_runs_bin = argv[2];
    if (!runlog_export_supported(RUNLOG_EXPORT_WANDB)) {
        printf("W&B export not in this build: skipped\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, make_runs, remove_runs);
}
