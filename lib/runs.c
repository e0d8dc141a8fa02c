/*
 * runs.c — the runs table (spec/EXPORTS.md §12, `runlog ls`): folders walked
 * for *.runlog, each file read with runlog_reader_run_summary() (no history
 * values decoded), files of one run merged by the run-set rule (§11), one
 * row per run as a map of column -> value, filtered (--where), ordered
 * (--sort, --group-by), and written as JSON or CSV.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "rlu.h"

/* The built-in columns, in their default order. */
static const char *const builtin[] = { "name", "id", "project", "group", "state", "start",
                                       "duration", "rows", "last_step", "damage", "path" };
enum { C_NAME, C_ID, C_PROJECT, C_GROUP, C_STATE, C_START, C_DURATION, C_ROWS, C_LAST, C_DAMAGE,
       C_PATH, C_NBUILTIN };

#define MAX_DEPTH 64 /* folders below a given path; deeper ones are not walked */

/* One file found, and what reading it gave. */
typedef struct rt_file {
    char *path;
    runlog_run *run;    /* NULL: unreadable */
    char *error;        /* why it is unreadable, or why it is not one run with its id's others */
    int grouped;        /* taken into a run set */
    int regular;        /* a regular file: dev and ino identify it */
    dev_t dev;
    ino_t ino;
} rt_file;

/* One row: a run of one file, a merged run set, or an unreadable file. */
typedef struct rt_row {
    rt_file *file;      /* the first (or only) file */
    runlog_runset *set; /* files of one id, merged; NULL for one file */
    size_t order;       /* position among the files found (stable sorts) */
    runlog_value *builtins; /* the built-in cells, C_* order */
    runlog_value map;   /* the row: the chosen columns */
    int keep;
    int damaged;        /* unreadable, not one run, or damaged ranges (not a torn tail alone) */
    size_t group;       /* group number, in view order (group_by) */
} rt_row;

struct runlog_runs {
    rt_file *files;
    size_t nfiles, files_cap;
    rt_row *rows;
    size_t nrows;
    size_t *view;       /* rows kept, in order */
    size_t nview;
    char **cols;
    rl_str *colkeys;
    size_t ncols;
    char *group_by;
    rl_arena arena;
};

/* ---- finding files ---------------------------------------------------------------- */

/* st: what stat/lstat said of path, or NULL. A regular file found before,
 * under this name or another (a path given twice, a folder and a file in
 * it, a hard link), is not added again: one file is one row, read once,
 * whether or not it holds a run id to merge by. */
static int add_file(runlog_runs *t, const char *path, const char *error, const struct stat *st)
{
    int regular = st && S_ISREG(st->st_mode);
    for (size_t i = 0; regular && i < t->nfiles; i++)
        if (t->files[i].regular && t->files[i].dev == st->st_dev && t->files[i].ino == st->st_ino)
            return 0;
    if (t->nfiles == t->files_cap) {
        size_t cap = t->files_cap ? t->files_cap * 2 : 64;
        rt_file *n = realloc(t->files, cap * sizeof *n);
        if (!n)
            return rl_fail(RUNLOG_ENOMEM, "out of memory");
        t->files = n;
        t->files_cap = cap;
    }
    rt_file *f = &t->files[t->nfiles];
    memset(f, 0, sizeof *f);
    if (regular) {
        f->regular = 1;
        f->dev = st->st_dev;
        f->ino = st->st_ino;
    }
    if (!(f->path = strdup(path)))
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    if (error) {
        size_t len = strlen(path) + strlen(error) + 3;
        if (!(f->error = malloc(len))) {
            free(f->path);
            return rl_fail(RUNLOG_ENOMEM, "out of memory");
        }
        snprintf(f->error, len, "%s: %s", path, error);
    }
    t->nfiles++;
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

/* Walks the folder open at dfd (named path): entries in name order; links
 * are never followed (no loop can form), sub-folders are opened with
 * O_NOFOLLOW from their parent's descriptor. A *.runlog that is not a
 * regular file is listed as unreadable. Takes dfd. */
static int walk(runlog_runs *t, int dfd, const char *path, int depth)
{
    DIR *d = fdopendir(dfd);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    if (!d) {
        close(dfd);
        return rl_fail(RUNLOG_EIO, "%s: %s", path, strerror(errno));
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
                goto done;
            }
            names = nn;
        }
        if (!(names[n] = strdup(e->d_name))) {
            rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
            goto done;
        }
        n++;
    }
    qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n && !rc; i++) {
        struct stat st;
        size_t len = strlen(path) + strlen(names[i]) + 2;
        char *child = malloc(len);
        if (!child) {
            rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
            break;
        }
        snprintf(child, len, "%s%s%s", path, ends_with(path, "/") ? "" : "/", names[i]);
        if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (ends_with(names[i], ".runlog"))
                rc = add_file(t, child, strerror(errno), NULL);
        } else if (S_ISDIR(st.st_mode)) {
            if (depth < MAX_DEPTH) {
                int sub = openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                rc = sub < 0 ? 0 : walk(t, sub, child, depth + 1); /* an unreadable folder holds nothing we can list */
            }
        } else if (ends_with(names[i], ".runlog")) {
            rc = add_file(t, child, S_ISREG(st.st_mode) ? NULL
                                    : S_ISLNK(st.st_mode) ? "a symbolic link (not followed inside a folder)"
                                                          : "not a regular file", &st);
        }
        free(child);
    }
done:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

static int find_files(runlog_runs *t, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return rl_fail(RUNLOG_EIO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            return rl_fail(RUNLOG_EIO, "%s: %s", path, strerror(errno));
        return walk(t, dfd, path, 0);
    }
    /* A file named on its own is listed whatever its name. */
    return add_file(t, path, S_ISREG(st.st_mode) ? NULL : "not a regular file", &st);
}

int runlog_find_runlogs(char ***out, size_t *n, const char *path)
{
    if (!out || !n || !path)
        return rl_fail(RUNLOG_EINVAL, "runlog_find_runlogs: NULL argument");
    struct stat st;
    if (stat(path, &st) != 0)
        return rl_fail(RUNLOG_EIO, "%s: %s", path, strerror(errno));
    runlog_runs t;
    memset(&t, 0, sizeof t);
    int rc = S_ISDIR(st.st_mode) ? find_files(&t, path) : add_file(&t, path, NULL, &st);
    char **list = rc ? NULL : calloc(t.nfiles + 1, sizeof *list);
    size_t k = 0;
    if (!rc && !list)
        rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
    for (size_t i = 0; i < t.nfiles; i++) {
        if (!rc && !t.files[i].error) {
            list[k++] = t.files[i].path; /* handed over */
            t.files[i].path = NULL;
        }
        free(t.files[i].path);
        free(t.files[i].error);
    }
    free(t.files);
    if (rc) {
        runlog_paths_free(list);
        return rc;
    }
    *out = list;
    *n = k;
    return 0;
}

void runlog_paths_free(char **paths)
{
    if (!paths)
        return;
    for (char **p = paths; *p; p++)
        free(*p);
    free(paths);
}

/* ---- reading ---------------------------------------------------------------------- */

static const char *run_id(const runlog_run *run)
{
    const runlog_value *id = runlog_value_get(runlog_run_identity(run), "id");
    return runlog_value_type(id) == RUNLOG_STRING && id->n ? id->u.s : NULL;
}

static void read_file(rt_file *f)
{
    runlog_reader_options ro = RUNLOG_READER_OPTIONS_INIT;
    runlog_reader *r = NULL;
    if (f->error)
        return;
    ro.flags = RUNLOG_READ_TOLERANT;
    int rc = runlog_reader_open(&r, f->path, &ro);
    if (!rc)
        rc = runlog_reader_run_summary(&f->run, r);
    if (rc) {
        const char *d = runlog_error_detail();
        f->error = strdup(*d ? d : runlog_strerror(rc));
    }
    runlog_reader_close(r);
}

/* ---- the rows ----------------------------------------------------------------------- */

static runlog_value *cell(rt_row *row, size_t col) { return &row->builtins[col]; }

static int set_text(runlog_runs *t, runlog_value *v, const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    char *p = rl_arena_alloc_raw(&t->arena, n + 1);
    if (!p)
        return RUNLOG_ENOMEM;
    memcpy(p, s, n + 1);
    v->type = RUNLOG_STRING;
    v->n = (uint32_t)n;
    v->u.s = p;
    return 0;
}

static void set_int(runlog_value *v, int64_t i)
{
    v->type = RUNLOG_INT;
    v->u.i = i;
}

/* Text of an identity entry; NULL when absent, empty or not text. */
static const char *ident_text(const runlog_value *ident, const char *key)
{
    const runlog_value *v = runlog_value_get(ident, key);
    return runlog_value_type(v) == RUNLOG_STRING && v->n ? v->u.s : NULL;
}

/* A config or summary entry named by the rest of a column name: the key as
 * it is, else (for nested config) a path through maps split at dots. */
static const runlog_value *lookup(const runlog_value *map, const char *key)
{
    const runlog_value *v = runlog_value_get(map, key);
    if (v || runlog_value_type(map) != RUNLOG_MAP)
        return v;
    for (const char *dot = strchr(key, '.'); dot; dot = strchr(dot + 1, '.')) {
        size_t n = (size_t)(dot - key);
        for (size_t i = 0; i < runlog_value_count(map); i++) {
            size_t klen;
            const char *k = runlog_value_key(map, i, &klen);
            if (klen == n && memcmp(k, key, n) == 0 && runlog_value_type(runlog_value_item(map, i)) == RUNLOG_MAP) {
                const runlog_value *sub = lookup(runlog_value_item(map, i), dot + 1);
                if (sub)
                    return sub;
            }
        }
    }
    return NULL;
}

static const runlog_value *row_config(const rt_row *row)
{
    return row->set ? runlog_runset_config(row->set, 0) : row->file->run ? runlog_run_config(row->file->run) : NULL;
}

static const runlog_value *row_summary(const rt_row *row)
{
    return row->set ? runlog_runset_summary(row->set, 0) : row->file->run ? runlog_run_summary(row->file->run) : NULL;
}

static int is_scalar(const runlog_value *v)
{
    runlog_type ty = runlog_value_type(v);
    return ty == RUNLOG_NULL || ty == RUNLOG_BOOL || ty == RUNLOG_INT || ty == RUNLOG_FLOAT || ty == RUNLOG_STRING;
}

/* Fills the built-in cells of a row. */
static int fill_builtin(runlog_runs *t, rt_row *row)
{
    int rc = 0;
    char buf[256], iso[RLU_NUM_MAX];
    rc |= set_text(t, cell(row, C_PATH), row->file->path);
    if (!row->file->run && !row->set) {
        row->damaged = 1;
        rc |= set_text(t, cell(row, C_STATE), "unreadable");
        rc |= set_text(t, cell(row, C_DAMAGE), row->file->error);
        return rc ? RUNLOG_ENOMEM : 0;
    }
    const runlog_value *ident;
    runlog_state state;
    int64_t start, end;
    uint64_t rows, last, damaged = 0;
    int torn = 0;
    if (row->set) {
        ident = runlog_runset_identity(row->set, 0);
        state = runlog_runset_state(row->set, 0);
        start = runlog_runset_start_time(row->set, 0);
        end = runlog_runset_end_time(row->set, 0);
        rows = runlog_runset_rows(row->set, 0);
        last = runlog_runset_last_step(row->set, 0);
        for (size_t j = 0; j < runlog_runset_file_count(row->set, 0); j++) {
            damaged += runlog_run_damage_count(runlog_runset_file_run(row->set, 0, j));
            torn |= runlog_run_torn(runlog_runset_file_run(row->set, 0, j));
        }
    } else {
        const runlog_run *run = row->file->run;
        ident = runlog_run_identity(run);
        state = runlog_run_state(run);
        const runlog_value *st = runlog_value_get(ident, "start_time");
        start = runlog_value_type(st) == RUNLOG_INT ? runlog_value_int(st) : 0;
        end = runlog_run_end_time(run);
        rows = runlog_run_rows(run);
        last = runlog_run_last_step(run);
        damaged = runlog_run_damage_count(run);
        torn = runlog_run_torn(run);
    }
    rc |= set_text(t, cell(row, C_NAME), ident_text(ident, "name"));
    rc |= set_text(t, cell(row, C_ID), ident_text(ident, "id"));
    rc |= set_text(t, cell(row, C_PROJECT), ident_text(ident, "project"));
    rc |= set_text(t, cell(row, C_GROUP), ident_text(ident, "group"));
    rc |= set_text(t, cell(row, C_STATE), runlog_state_name(state));
    if (start) {
        rlu_fmt_iso(iso, start);
        rc |= set_text(t, cell(row, C_START), iso);
        if (end >= start) {
            cell(row, C_DURATION)->type = RUNLOG_FLOAT;
            cell(row, C_DURATION)->u.f = (double)(end - start) / 1e9;
        }
    }
    set_int(cell(row, C_ROWS), (int64_t)rows);
    if (rows)
        set_int(cell(row, C_LAST), last > INT64_MAX ? INT64_MAX : (int64_t)last);
    row->damaged = row->file->error != NULL || damaged > 0;
    if (row->file->error) {
        rc |= set_text(t, cell(row, C_DAMAGE), row->file->error);
    } else if (damaged || torn) {
        if (damaged && torn)
            snprintf(buf, sizeof buf, "%" PRIu64 " damaged range%s, torn tail", damaged, damaged == 1 ? "" : "s");
        else if (damaged)
            snprintf(buf, sizeof buf, "%" PRIu64 " damaged range%s", damaged, damaged == 1 ? "" : "s");
        else
            snprintf(buf, sizeof buf, "torn tail");
        rc |= set_text(t, cell(row, C_DAMAGE), buf);
    }
    return rc ? RUNLOG_ENOMEM : 0;
}

/* ---- columns ---------------------------------------------------------------------- */

static int builtin_index(const char *name)
{
    for (int i = 0; i < C_NBUILTIN; i++)
        if (strcmp(builtin[i], name) == 0)
            return i;
    return -1;
}

static int valid_column(const char *name)
{
    return builtin_index(name) >= 0 || (strncmp(name, "config.", 7) == 0 && name[7]) ||
           (strncmp(name, "summary.", 8) == 0 && name[8]);
}

static int add_col(runlog_runs *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strlen(t->cols[i]) == len && memcmp(t->cols[i], name, len) == 0)
            return 0;
    char **n = realloc(t->cols, (t->ncols + 1) * sizeof *n);
    if (!n)
        return RUNLOG_ENOMEM;
    t->cols = n;
    if (!(t->cols[t->ncols] = strndup(name, len)))
        return RUNLOG_ENOMEM;
    t->ncols++;
    return 0;
}

/* Whether a config or summary key takes more than one value over the kept
 * rows (a run without it counts as a value of its own). */
static int varies(runlog_runs *t, int summary, const char *key)
{
    char *first = NULL;
    int have = 0, differ = 0;
    for (size_t i = 0; i < t->nrows && !differ; i++) {
        rt_row *row = &t->rows[i];
        if (!row->keep || (!row->file->run && !row->set))
            continue;
        const runlog_value *v = runlog_value_get(summary ? row_summary(row) : row_config(row), key);
        char *text = NULL;
        if (v && runlog_value_to_json(&text, v, 0) != 0)
            text = NULL;
        if (!have) {
            first = text;
            have = 1;
            continue;
        }
        differ = (first == NULL) != (text == NULL) || (first && strcmp(first, text) != 0);
        runlog_free(text);
    }
    runlog_free(first);
    return differ;
}

/* Default columns: the built-ins, then every scalar config and summary key
 * whose value varies over the kept rows, in order of first appearance. */
static int default_columns(runlog_runs *t)
{
    rl_keymap checked = { 0 }; /* config./summary. names decided */
    int rc = 0;
    for (int i = 0; i < C_NBUILTIN && !rc; i++)
        if (i != C_PATH)
            rc = add_col(t, builtin[i], strlen(builtin[i]));
    for (int summary = 0; summary < 2 && !rc; summary++) {
        const char *prefix = summary ? "summary." : "config.";
        for (size_t i = 0; i < t->nrows && !rc; i++) {
            rt_row *row = &t->rows[i];
            if (!row->keep)
                continue;
            const runlog_value *m = summary ? row_summary(row) : row_config(row);
            for (size_t k = 0; k < runlog_value_count(m) && !rc; k++) {
                size_t klen;
                const char *key = runlog_value_key(m, k, &klen);
                if (!is_scalar(runlog_value_item(m, k)) || klen != strlen(key))
                    continue;
                char *name = malloc(strlen(prefix) + klen + 1);
                if (!name) {
                    rc = RUNLOG_ENOMEM;
                    break;
                }
                sprintf(name, "%s%s", prefix, key);
                /* Each name is decided once, at its first row: deciding it
                 * again at every row that holds it made the table quadratic
                 * in runs (1,000 runs of 26 keys: 0.72 s). */
                uint32_t id, before = checked.count;
                if (rl_keymap_intern(&checked, name, strlen(name), &id))
                    rc = RUNLOG_ENOMEM;
                else if (checked.count > before && varies(t, summary, key))
                    rc = add_col(t, name, strlen(name));
                free(name);
            }
        }
    }
    rl_keymap_free(&checked);
    return rc;
}

/* The value of a named column in a row (builtin cells filled already). */
static const runlog_value *column_value(const rt_row *row, const char *name)
{
    int b = builtin_index(name);
    if (b >= 0)
        return &row->builtins[b];
    if (strncmp(name, "config.", 7) == 0)
        return lookup(row_config(row), name + 7);
    if (strncmp(name, "summary.", 8) == 0)
        return lookup(row_summary(row), name + 8);
    return NULL;
}

/* ---- where ---------------------------------------------------------------------- */

enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

typedef struct cmp_term {
    char *column;
    int op;
    char *text;      /* the value as written */
    int numeric;     /* the value is a number */
    double number;
} cmp_term;

/* Disjunctive form: clauses joined by "or", each terms joined by "and". */
typedef struct where_expr {
    cmp_term *terms;
    size_t nterms;
    size_t *clause_end; /* terms of clause c end before clause_end[c] */
    size_t nclauses;
} where_expr;

static void where_free(where_expr *w)
{
    for (size_t i = 0; i < w->nterms; i++) {
        free(w->terms[i].column);
        free(w->terms[i].text);
    }
    free(w->terms);
    free(w->clause_end);
}

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n')
        p++;
    return p;
}

/* A word ends at space or an operator character. */
static size_t word_len(const char *p)
{
    size_t n = 0;
    while (p[n] && !strchr(" \t\n=!<>", p[n]))
        n++;
    return n;
}

static int is_keyword(const char *p, const char *kw)
{
    size_t n = strlen(kw);
    return strncmp(p, kw, n) == 0 && (p[n] == ' ' || p[n] == '\t' || p[n] == '\n');
}

static int where_parse(where_expr *w, const char *expr)
{
    const char *p = skip_space(expr);
    size_t cap = 0;
    if (!*p)
        return rl_fail(RUNLOG_EINVAL, "--where: empty expression");
    for (;;) {
        size_t n = word_len(p);
        if (n == 0)
            return rl_fail(RUNLOG_EINVAL, "--where: a column name expected at '%s'", p);
        if (w->nterms == cap) {
            cap = cap ? cap * 2 : 8;
            cmp_term *nt = realloc(w->terms, cap * sizeof *nt);
            if (!nt)
                return rl_fail(RUNLOG_ENOMEM, "out of memory");
            w->terms = nt;
        }
        cmp_term *c = &w->terms[w->nterms];
        memset(c, 0, sizeof *c);
        if (!(c->column = strndup(p, n)))
            return rl_fail(RUNLOG_ENOMEM, "out of memory");
        w->nterms++;
        if (!valid_column(c->column))
            return rl_fail(RUNLOG_EINVAL, "--where: unknown column '%s' (a built-in column, config.KEY or summary.KEY)",
                           c->column);
        p = skip_space(p + n);
        if (p[0] == '=' && p[1] == '=') { c->op = OP_EQ; p += 2; }
        else if (p[0] == '=') { c->op = OP_EQ; p += 1; }
        else if (p[0] == '!' && p[1] == '=') { c->op = OP_NE; p += 2; }
        else if (p[0] == '<' && p[1] == '=') { c->op = OP_LE; p += 2; }
        else if (p[0] == '>' && p[1] == '=') { c->op = OP_GE; p += 2; }
        else if (p[0] == '<') { c->op = OP_LT; p += 1; }
        else if (p[0] == '>') { c->op = OP_GT; p += 1; }
        else
            return rl_fail(RUNLOG_EINVAL, "--where: after '%s', one of = != < <= > >= expected", c->column);
        p = skip_space(p);
        if (*p == '\'' || *p == '"') {
            const char *end = strchr(p + 1, *p);
            if (!end)
                return rl_fail(RUNLOG_EINVAL, "--where: unterminated quote in '%s'", p);
            if (!(c->text = strndup(p + 1, (size_t)(end - p - 1))))
                return rl_fail(RUNLOG_ENOMEM, "out of memory");
            p = end + 1;
        } else {
            size_t m = 0;
            while (p[m] && p[m] != ' ' && p[m] != '\t' && p[m] != '\n')
                m++;
            if (m == 0)
                return rl_fail(RUNLOG_EINVAL, "--where: a value expected after '%s'", c->column);
            if (!(c->text = strndup(p, m)))
                return rl_fail(RUNLOG_ENOMEM, "out of memory");
            char *endp;
            errno = 0;
            c->number = strtod(c->text, &endp);
            c->numeric = *endp == 0 && errno == 0;
            p += m;
        }
        p = skip_space(p);
        int end = !*p, is_or = !end && is_keyword(p, "or");
        if (end || is_or) {
            size_t *ce = realloc(w->clause_end, (w->nclauses + 1) * sizeof *ce);
            if (!ce)
                return rl_fail(RUNLOG_ENOMEM, "out of memory");
            w->clause_end = ce;
            w->clause_end[w->nclauses++] = w->nterms;
        }
        if (end)
            return 0;
        if (is_or)
            p = skip_space(p + 2);
        else if (is_keyword(p, "and"))
            p = skip_space(p + 3);
        else
            return rl_fail(RUNLOG_EINVAL, "--where: 'and' or 'or' expected at '%s'", p);
    }
}

/* Orders two cells: numbers (ints, floats, bools as 0/1) numerically,
 * text by bytes, numbers before text. Missing cells are handled by callers. */
static int is_number(const runlog_value *v, double *out)
{
    switch (runlog_value_type(v)) {
    case RUNLOG_INT: *out = (double)runlog_value_int(v); return 1;
    case RUNLOG_FLOAT: *out = runlog_value_float(v); return !isnan(*out);
    default: return 0;
    }
}

/* The text a cell compares as: a string's bytes, "true"/"false" for a bool. */
static const char *cell_text(const runlog_value *v)
{
    switch (runlog_value_type(v)) {
    case RUNLOG_STRING: return runlog_value_string(v, NULL);
    case RUNLOG_BOOL: return runlog_value_bool(v) ? "true" : "false";
    default: return NULL;
    }
}

static int term_true(const cmp_term *c, const runlog_value *v)
{
    double x = 0;
    int order;
    if (!v || runlog_value_type(v) == RUNLOG_NULL)
        return 0; /* a missing cell satisfies no comparison */
    if (is_number(v, &x) && c->numeric) {
        order = x < c->number ? -1 : x > c->number;
    } else {
        const char *s = cell_text(v);
        if (!s)
            return 0; /* a number against text, a list, a map: no comparison holds */
        order = strcmp(s, c->text);
        order = order < 0 ? -1 : order > 0;
    }
    switch (c->op) {
    case OP_EQ: return order == 0;
    case OP_NE: return order != 0;
    case OP_LT: return order < 0;
    case OP_LE: return order <= 0;
    case OP_GT: return order > 0;
    default: return order >= 0;
    }
}

static int where_true(const where_expr *w, const rt_row *row)
{
    size_t start = 0;
    for (size_t c = 0; c < w->nclauses; c++) {
        int all = 1;
        for (size_t i = start; i < w->clause_end[c] && all; i++)
            all = term_true(&w->terms[i], column_value(row, w->terms[i].column));
        if (all)
            return 1;
        start = w->clause_end[c];
    }
    return 0;
}

/* ---- sort ------------------------------------------------------------------------- */

/* Missing last; numbers before text; then by value. */
static int value_order(const runlog_value *a, const runlog_value *b)
{
    int ma = !a || runlog_value_type(a) == RUNLOG_NULL, mb = !b || runlog_value_type(b) == RUNLOG_NULL;
    double x = 0, y = 0;
    if (ma || mb)
        return ma - mb;
    int na = is_number(a, &x), nb = is_number(b, &y);
    if (na && nb)
        return x < y ? -1 : x > y;
    if (na != nb)
        return nb - na;
    const char *s = cell_text(a), *u = cell_text(b);
    if (!s || !u)
        return !s - !u;
    int c = strcmp(s, u);
    return c < 0 ? -1 : c > 0;
}

typedef struct sort_ctx {
    runlog_runs *t;
    const char *key;
    int desc;
    const char *group;
    size_t *group_rank; /* by row: rank of its group's first appearance */
} sort_ctx;

static int row_cmp_ctx(const sort_ctx *s, size_t a, size_t b)
{
    const rt_row *ra = &s->t->rows[a], *rb = &s->t->rows[b];
    if (s->group_rank && s->group_rank[a] != s->group_rank[b])
        return s->group_rank[a] < s->group_rank[b] ? -1 : 1;
    if (s->key) {
        const runlog_value *va = column_value(ra, s->key);
        const runlog_value *vb = column_value(rb, s->key);
        int ma = !va || runlog_value_type(va) == RUNLOG_NULL, mb = !vb || runlog_value_type(vb) == RUNLOG_NULL;
        int c = ma || mb ? ma - mb : value_order(va, vb) * (s->desc ? -1 : 1);
        if (c)
            return c;
    }
    return ra->order < rb->order ? -1 : ra->order > rb->order;
}

/* A stable merge sort of the view with a context (qsort has none, and a
 * global would break the library's "no process-wide mutable state"). */
static void sort_view(sort_ctx *s, size_t *v, size_t *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_view(s, v, tmp, h);
    sort_view(s, v + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = row_cmp_ctx(s, v[j], v[i]) < 0 ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

/* ---- opening ---------------------------------------------------------------------- */

static int check_options(const runlog_runs_options *o)
{
    if (o->version != RUNLOG_RUNS_OPTIONS_VERSION)
        return rl_fail(RUNLOG_EINVAL, "runs options version %u (this library knows %u)", o->version,
                       RUNLOG_RUNS_OPTIONS_VERSION);
    if (o->n_columns && !o->columns)
        return rl_fail(RUNLOG_EINVAL, "runs options: n_columns without columns");
    for (size_t i = 0; i < o->n_columns; i++)
        if (!o->columns[i] || !valid_column(o->columns[i]))
            return rl_fail(RUNLOG_EINVAL, "unknown column '%s' (a built-in column, config.KEY or summary.KEY)",
                           o->columns[i] ? o->columns[i] : "(null)");
    const char *sort = o->sort && o->sort[0] == '-' ? o->sort + 1 : o->sort;
    if (sort && !valid_column(sort))
        return rl_fail(RUNLOG_EINVAL, "--sort: unknown column '%s'", sort);
    if (o->group_by && !valid_column(o->group_by))
        return rl_fail(RUNLOG_EINVAL, "--group-by: unknown column '%s'", o->group_by);
    return 0;
}

/* Files of one run id become one row (a run set); files whose id another
 * file shares but that are not one run with it are rows of their own, the
 * set's refusal as their damage text. */
static int make_rows(runlog_runs *t)
{
    if (!(t->rows = calloc(t->nfiles + 1, sizeof *t->rows)))
        return RUNLOG_ENOMEM;
    for (size_t i = 0; i < t->nfiles; i++) {
        rt_file *f = &t->files[i];
        if (f->grouped)
            continue;
        rt_row *row = &t->rows[t->nrows++];
        row->file = f;
        row->order = i;
        const char *id = f->run ? run_id(f->run) : NULL;
        size_t n = 1;
        for (size_t j = i + 1; id && j < t->nfiles; j++)
            n += t->files[j].run && run_id(t->files[j].run) && strcmp(run_id(t->files[j].run), id) == 0;
        if (n < 2)
            continue;
        const char **paths = malloc(n * sizeof *paths);
        size_t *which = malloc(n * sizeof *which), k = 0;
        if (!paths || !which) {
            free(paths);
            free(which);
            return RUNLOG_ENOMEM;
        }
        for (size_t j = i; j < t->nfiles; j++)
            if (t->files[j].run && run_id(t->files[j].run) && strcmp(run_id(t->files[j].run), id) == 0) {
                which[k] = j;
                paths[k++] = t->files[j].path;
            }
        runlog_runset_options so = RUNLOG_RUNSET_OPTIONS_INIT;
        so.flags = RUNLOG_READ_TOLERANT | RUNLOG_RUNSET_SUMMARY;
        runlog_runset *set = NULL;
        int rc = runlog_runset_open(&set, paths, n, &so);
        if (rc == RUNLOG_ENOMEM) {
            free(paths);
            free(which);
            return rc;
        }
        if (rc == 0 && runlog_runset_run_count(set) == 1) {
            row->set = set;
            for (size_t m = 0; m < n; m++)
                t->files[which[m]].grouped = 1;
        } else {
            /* Not one run: each file is its own row, saying why. */
            const char *why = rc ? runlog_error_detail() : "files of one run id that are not one run";
            for (size_t m = 0; m < n && !rc; m++) {
                rt_file *g = &t->files[which[m]];
                free(g->error);
                size_t len = strlen(why) + 64;
                if ((g->error = malloc(len)))
                    snprintf(g->error, len, "shares its run id, not one run: %s", why);
            }
            runlog_runset_free(set);
        }
        free(paths);
        free(which);
    }
    return 0;
}

int runlog_runs_open(runlog_runs **out, const char *const *paths, size_t n, const runlog_runs_options *opts)
{
    runlog_runs_options defaults = RUNLOG_RUNS_OPTIONS_INIT;
    const runlog_runs_options *o = opts ? opts : &defaults;
    where_expr w = { 0 };
    size_t *tmp = NULL, *rank = NULL;
    int rc;
    if (!out || (!paths && n))
        return rl_fail(RUNLOG_EINVAL, "runlog_runs_open: NULL argument");
    if ((rc = check_options(o)))
        return rc;
    if (o->where && (rc = where_parse(&w, o->where))) {
        where_free(&w);
        return rc;
    }
    runlog_runs *t = calloc(1, sizeof *t);
    if (!t) {
        where_free(&w);
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n && !rc; i++) {
        if (!paths[i])
            rc = rl_fail(RUNLOG_EINVAL, "runlog_runs_open: path %zu is NULL", i);
        else
            rc = find_files(t, paths[i]);
    }
    if (rc)
        goto fail;
    for (size_t i = 0; i < t->nfiles; i++)
        read_file(&t->files[i]);
    if ((rc = make_rows(t)))
        goto nomem;
    for (size_t i = 0; i < t->nrows; i++) {
        rt_row *row = &t->rows[i];
        row->map.type = RUNLOG_MAP;
        if (!(row->builtins = rl_arena_alloc(&t->arena, C_NBUILTIN * sizeof *row->builtins)) ||
            (rc = fill_builtin(t, row)))
            goto nomem;
        row->keep = !o->where || where_true(&w, row);
    }
    /* Columns. */
    for (size_t i = 0; i < o->n_columns && !rc; i++)
        rc = add_col(t, o->columns[i], strlen(o->columns[i]));
    if (!rc && !o->n_columns)
        rc = default_columns(t);
    if (rc || !(t->colkeys = rl_arena_alloc(&t->arena, (t->ncols + 1) * sizeof *t->colkeys)))
        goto nomem;
    for (size_t c = 0; c < t->ncols; c++) {
        t->colkeys[c].p = t->cols[c];
        t->colkeys[c].n = (uint32_t)strlen(t->cols[c]);
    }
    /* Each row's map: the chosen columns, in order (values borrowed from the
     * runs, which the table keeps). */
    for (size_t i = 0; i < t->nrows; i++) {
        rt_row *row = &t->rows[i];
        runlog_value *items = rl_arena_alloc(&t->arena, (t->ncols + 1) * sizeof *items);
        if (!items)
            goto nomem;
        for (size_t c = 0; c < t->ncols; c++) {
            const runlog_value *v = column_value(row, t->cols[c]);
            if (v)
                items[c] = *v;
        }
        row->map.u.items = items;
        row->map.n = (uint32_t)t->ncols;
        row->map.keys = t->colkeys;
    }
    /* Order: the kept rows, by group (first appearance), then --sort, then
     * the order the files were found. */
    if (!(t->view = malloc((t->nrows + 1) * sizeof *t->view)) || !(tmp = malloc((t->nrows + 1) * sizeof *tmp)))
        goto nomem;
    for (size_t i = 0; i < t->nrows; i++)
        if (t->rows[i].keep)
            t->view[t->nview++] = i;
    sort_ctx sc = { 0 };
    sc.t = t;
    if (o->sort) {
        sc.desc = o->sort[0] == '-';
        sc.key = sc.desc ? o->sort + 1 : o->sort;
    }
    if (o->group_by) {
        if (!(t->group_by = strdup(o->group_by)) || !(rank = calloc(t->nrows + 1, sizeof *rank)))
            goto nomem;
        /* rank: the view position of the first row with an equal group value. */
        for (size_t i = 0; i < t->nview; i++) {
            const rt_row *ri = &t->rows[t->view[i]];
            const runlog_value *vi = column_value(ri, o->group_by);
            size_t r = i;
            for (size_t j = 0; j < i; j++) {
                const runlog_value *vj = column_value(&t->rows[t->view[j]], o->group_by);
                int mi = !vi || runlog_value_type(vi) == RUNLOG_NULL, mj = !vj || runlog_value_type(vj) == RUNLOG_NULL;
                if ((mi && mj) || (!mi && !mj && value_order(vi, vj) == 0 && runlog_value_type(vi) == runlog_value_type(vj))) {
                    r = rank[t->view[j]];
                    break;
                }
            }
            rank[t->view[i]] = r;
        }
        sc.group_rank = rank;
    }
    if (sc.key || sc.group_rank)
        sort_view(&sc, t->view, tmp, t->nview);
    for (size_t i = 1; rank && i < t->nview; i++)
        t->rows[t->view[i]].group = t->rows[t->view[i - 1]].group + (rank[t->view[i]] != rank[t->view[i - 1]]);
    free(tmp);
    free(rank);
    where_free(&w);
    *out = t;
    return 0;
nomem:
    rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
fail:
    free(tmp);
    free(rank);
    where_free(&w);
    runlog_runs_free(t);
    return rc;
}

void runlog_runs_free(runlog_runs *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows; i++)
        runlog_runset_free(t->rows[i].set);
    for (size_t i = 0; i < t->nfiles; i++) {
        free(t->files[i].path);
        free(t->files[i].error);
        runlog_run_free(t->files[i].run);
    }
    for (size_t c = 0; c < t->ncols; c++)
        free(t->cols[c]);
    free(t->cols);
    free(t->files);
    free(t->rows);
    free(t->view);
    free(t->group_by);
    rl_arena_reset(&t->arena);
    free(t);
}

size_t runlog_runs_count(const runlog_runs *t) { return t ? t->nview : 0; }
size_t runlog_runs_file_count(const runlog_runs *t) { return t ? t->nfiles : 0; }
size_t runlog_runs_column_count(const runlog_runs *t) { return t ? t->ncols : 0; }
const char *runlog_runs_column(const runlog_runs *t, size_t col)
{
    return t && col < t->ncols ? t->cols[col] : NULL;
}

const runlog_value *runlog_runs_row(const runlog_runs *t, size_t row)
{
    return t && row < t->nview ? &t->rows[t->view[row]].map : NULL;
}

const runlog_value *runlog_runs_cell(const runlog_runs *t, size_t row, size_t col)
{
    return t && row < t->nview && col < t->ncols ? &t->rows[t->view[row]].map.u.items[col] : NULL;
}

const runlog_value *runlog_runs_group(const runlog_runs *t, size_t row)
{
    return t && t->group_by && row < t->nview ? column_value(&t->rows[t->view[row]], t->group_by) : NULL;
}

size_t runlog_runs_group_index(const runlog_runs *t, size_t row)
{
    return t && row < t->nview ? t->rows[t->view[row]].group : 0;
}

size_t runlog_runs_damaged(const runlog_runs *t)
{
    size_t n = 0;
    for (size_t i = 0; t && i < t->nview; i++)
        n += t->rows[t->view[i]].damaged;
    return n;
}

int runlog_runs_to_json(char **out, const runlog_runs *t)
{
    char *text = NULL;
    size_t len = 0;
    if (!out || !t)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    rlu_json j;
    int rc = 0;
    tj_init(&j, f);
    tj_arr(&j);
    for (size_t r = 0; r < t->nview && !rc; r++) {
        tj_item_break(&j);
        tj_obj(&j);
        for (size_t c = 0; c < t->ncols && !rc; c++) {
            tj_key(&j, t->cols[c]);
            rc = tj_value(&j, runlog_runs_cell(t, r, c));
        }
        tj_obj_end(&j);
    }
    tj_arr_end(&j);
    tj_newline(&j);
    if (fclose(f) != 0 || !text)
        rc = RUNLOG_ENOMEM;
    if (rc) {
        free(text);
        return rl_fail(rc, "runs table as JSON: %s", runlog_strerror(rc));
    }
    *out = text;
    return 0;
}

int runlog_runs_to_csv(char **out, const runlog_runs *t)
{
    char *text = NULL;
    size_t len = 0;
    if (!out || !t)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t c = 0; c < t->ncols; c++) {
        if (c)
            fputc(',', f);
        csv_field(f, t->cols[c], strlen(t->cols[c]));
    }
    fputc('\n', f);
    for (size_t r = 0; r < t->nview && !rc; r++) {
        for (size_t c = 0; c < t->ncols && !rc; c++) {
            if (c)
                fputc(',', f);
            rc = csv_value(f, runlog_runs_cell(t, r, c));
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0 || !text)
        rc = RUNLOG_ENOMEM;
    if (rc) {
        free(text);
        return rl_fail(rc, "runs table as CSV: %s", runlog_strerror(rc));
    }
    *out = text;
    return 0;
}
