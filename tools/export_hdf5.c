/*
 * export_hdf5.c — `runlog export hdf5 FILE... -o OUT.h5` (spec/HDF5.md).
 *
 * Inputs are grouped by run id; each run becomes /runs/<id>. Several files
 * of one run (a resumed run kept in two files, or one file given twice) are
 * merged: history rows by step, config by key, and any disagreement is an
 * error naming both files, never a silent overwrite.
 *
 * Memory: history is read one key at a time (runlog_reader_history()), so
 * the exporter holds one key's series (of every file of the run) at once;
 * images and blobs one at a time. Alerts, console chunks and system samples
 * of a run are gathered in one pass and held until written.
 *
 * The output is written to OUT.tmp-XXXXXX and renamed at the end: it appears
 * whole or not at all.
 */
#include "export_hdf5.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5zstd.h"
#include "media.h"
#include "util.h"

typedef struct hopts {
    const char *out;
    int compression, level, with_data, tolerant;
    char **files;
    size_t nfiles;
} hopts;

/* One input file. */
typedef struct input {
    const char *path;
    runlog_reader *r;
    runlog_run *run;
    const char *id;
    int64_t start;
    int skip_records; /* the same file (UUID) is given again: records once */
} input;

/* A run: the inputs that hold its id, oldest start first. */
typedef struct hrun {
    input **in;
    size_t n;
} hrun;

typedef struct progress {
    int on;
    size_t run, nruns, done, total;
} progress;

/* ------------------------------------------------------------------ */
/* Options                                                              */
/* ------------------------------------------------------------------ */

static int parse_compression(const char *s, hopts *o)
{
    const char *colon = strchr(s, ':');
    size_t n = colon ? (size_t)(colon - s) : strlen(s);
    int level;

    if (n == 4 && strncmp(s, "none", 4) == 0 && !colon) {
        o->compression = H5X_NONE;
        return 0;
    }
    if (n == 4 && strncmp(s, "gzip", 4) == 0) {
        o->compression = H5X_GZIP;
        o->level = 4;
        if (colon && (tool_parse_int(colon + 1, &level) < 0 || level < 0 || level > 9))
            return -1;
    } else if (n == 4 && strncmp(s, "zstd", 4) == 0) {
        o->compression = H5X_ZSTD;
        o->level = 3;
        if (colon && (tool_parse_int(colon + 1, &level) < 0 || level < 1 || level > 22))
            return -1;
    } else {
        return -1;
    }
    if (colon)
        o->level = level;
    return 0;
}

static int parse_hdf5(int argc, char **argv, hopts *o)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"compression", required_argument, NULL, 'c'},
        {"with-artifact-data", no_argument, NULL, 'a'},
        {"tolerant", no_argument, NULL, 't'},
        {NULL, 0, NULL, 0}};
    int c;

    memset(o, 0, sizeof *o);
    o->level = 4;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o->out = optarg; break;
        case 'c':
            if (parse_compression(optarg, o) < 0)
                return tool_usage("export", "bad --compression '%s' (gzip[:0-9], zstd[:1-22] "
                                  "or none)", optarg);
            break;
        case 'a': o->with_data = 1; break;
        case 't': o->tolerant = 1; break;
        default: return tool_bad_option("export", argv, c);
        }
    }
    if (optind >= argc)
        return tool_usage("export", "hdf5 needs at least one FILE");
    if (!o->out || strcmp(o->out, "-") == 0)
        return tool_usage("export", "hdf5 needs -o OUT.h5 (a file, not stdout)");
    o->files = argv + optind;
    o->nfiles = (size_t)(argc - optind);
    return TOOL_OK;
}

/* ------------------------------------------------------------------ */
/* Progress (stderr, only when it is a terminal)                        */
/* ------------------------------------------------------------------ */

static void progress_show(progress *p)
{
    char bar[31];
    size_t fill, i;

    if (!p->on || p->total == 0)
        return;
    fill = p->done * 30 / p->total;
    for (i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : ' ';
    bar[30] = '\0';
    fprintf(stderr, "\rexport hdf5: run %zu/%zu [%s] %3zu%%", p->run + 1, p->nruns, bar,
            p->done * 100 / p->total);
    fflush(stderr);
}

static void progress_end(progress *p)
{
    if (p->on)
        fprintf(stderr, "\r%60s\r", "");
}

/* ------------------------------------------------------------------ */
/* Inputs and runs                                                      */
/* ------------------------------------------------------------------ */

static int open_input(input *in, const char *path, int tolerant)
{
    const runlog_value *ident;
    int rc;

    memset(in, 0, sizeof *in);
    in->path = path;
    if (tool_open_reader(&in->r, path, tolerant ? RUNLOG_READ_TOLERANT : RUNLOG_READ_STRICT))
        return TOOL_FAIL;
    if ((rc = runlog_reader_run(&in->run, in->r)) < 0) {
        tool_lib_error(path, rc);
        if (!tolerant)
            fprintf(stderr, "runlog: %s: damaged; --tolerant exports its intact frames\n", path);
        return TOOL_FAIL;
    }
    ident = runlog_run_identity(in->run);
    in->id = rlu_map_str(ident, "id", NULL);
    if (!in->id || !in->id[0]) {
        fprintf(stderr, "runlog: %s: the run has no id\n", path);
        return TOOL_FAIL;
    }
    if (!rlu_map_int(ident, "start_time", &in->start))
        in->start = runlog_reader_created(in->r);
    /* Tolerant: name the byte ranges that were skipped. */
    if (tolerant)
        tool_warn_damage(path);
    return TOOL_OK;
}

static void close_input(input *in)
{
    runlog_run_free(in->run);
    runlog_reader_close(in->r);
}

/* Groups inputs by run id, in order of first appearance; each run's files
 * by start time (stable). */
static int make_runs(input *in, size_t n, hrun **out, size_t *nruns)
{
    hrun *runs = calloc(n, sizeof *runs);
    size_t i, k, j;

    if (!runs)
        return -1;
    *nruns = 0;
    for (i = 0; i < n; i++) {
        for (k = 0; k < *nruns; k++)
            if (strcmp(runs[k].in[0]->id, in[i].id) == 0)
                break;
        if (k == *nruns && !(runs[(*nruns)++].in = calloc(n, sizeof(input *))))
            return -1;
        for (j = runs[k].n; j > 0 && runs[k].in[j - 1]->start > in[i].start; j--)
            runs[k].in[j] = runs[k].in[j - 1];
        runs[k].in[j] = &in[i];
        runs[k].n++;
    }
    /* A file given twice (same file UUID): its records are read once. */
    for (k = 0; k < *nruns; k++)
        for (i = 1; i < runs[k].n; i++)
            for (j = 0; j < i; j++)
                if (memcmp(runlog_reader_file_uuid(runs[k].in[i]->r),
                           runlog_reader_file_uuid(runs[k].in[j]->r), 16) == 0)
                    runs[k].in[i]->skip_records = 1;
    *out = runs;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Identity, config, summary, metadata                                  */
/* ------------------------------------------------------------------ */

static int values_equal(const runlog_value *a, const runlog_value *b)
{
    char *ta = NULL, *tb = NULL;
    int eq;

    if (!a || !b)
        return a == b;
    if (runlog_value_to_json(&ta, a, 0) < 0 || runlog_value_to_json(&tb, b, 0) < 0) {
        runlog_free(ta);
        return 0;
    }
    eq = strcmp(ta, tb) == 0 && runlog_value_type(a) == runlog_value_type(b);
    runlog_free(ta);
    runlog_free(tb);
    return eq;
}

static int check_identity(const hrun *run)
{
    static const char *const keys[] = {"project", "name", "group", "job_type", "notes", "tags"};
    const runlog_value *a = runlog_run_identity(run->in[0]->run), *b;
    size_t i, k;

    for (i = 1; i < run->n; i++) {
        b = runlog_run_identity(run->in[i]->run);
        for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (!values_equal(runlog_value_get(a, keys[k]), runlog_value_get(b, keys[k]))) {
                fprintf(stderr, "runlog: %s and %s: run %s: identity differs (%s); not merged\n",
                        run->in[0]->path, run->in[i]->path, run->in[0]->id, keys[k]);
                return TOOL_FAIL;
            }
    }
    return TOOL_OK;
}

/* Merges one map of each file into pairs. strict: a key whose value
 * differs between files is an error (config); else later files win
 * (summary, metadata: they describe the latest state). */
static int merge_maps(const hrun *run, const runlog_value *(*get)(const runlog_run *),
                      const char *what, int strict, h5x_kv **out, size_t *nout)
{
    size_t f, i, k, total = 0, n = 0, cnt;
    size_t *owner;
    h5x_kv *kv;

    for (f = 0; f < run->n; f++)
        total += get(run->in[f]->run) ? runlog_value_count(get(run->in[f]->run)) : 0;
    kv = calloc(total + 1, sizeof *kv);
    owner = calloc(total + 1, sizeof *owner);
    if (!kv || !owner) {
        free(kv);
        free(owner);
        return -1;
    }
    for (f = 0; f < run->n; f++) {
        const runlog_value *m = get(run->in[f]->run);
        cnt = m && runlog_value_type(m) == RUNLOG_MAP ? runlog_value_count(m) : 0;
        for (i = 0; i < cnt; i++) {
            const char *key = runlog_value_key(m, i, NULL);
            const runlog_value *v = runlog_value_item(m, i);
            for (k = 0; k < n && strcmp(kv[k].key, key) != 0; k++)
                ;
            if (k < n && strict && owner[k] != f && !values_equal(kv[k].v, v)) {
                fprintf(stderr, "runlog: %s and %s: run %s: %s key '%s' differs; not merged\n",
                        run->in[owner[k]]->path, run->in[f]->path, run->in[0]->id, what, key);
                free(kv);
                free(owner);
                return TOOL_FAIL;
            }
            kv[k].key = key;
            kv[k].v = v;
            owner[k] = f;
            if (k == n)
                n++;
        }
    }
    free(owner);
    *out = kv;
    *nout = n;
    return 0;
}

static int write_tree(h5x *x, hid_t g, const hrun *run, const char *name,
                      const runlog_value *(*get)(const runlog_run *), int strict)
{
    h5x_kv *kv;
    size_t n;
    int rc = merge_maps(run, get, name, strict, &kv, &n);

    if (rc < 0)
        return h5x_fail(x, "out of memory");
    if (rc > 0)
        return TOOL_FAIL;
    rc = h5x_tree(x, g, name, kv, n) < 0 ? h5x_fail(x, name) : 0;
    free(kv);
    return rc;
}

static int attr_ident(h5x *x, hid_t g, const runlog_value *ident, const char *key)
{
    size_t len;
    const char *s = rlu_map_str(ident, key, &len);

    return s ? h5x_attr_strn(x, g, key, s, len) : h5x_attr_null(x, g, key);
}

static int attr_time(h5x *x, hid_t g, const char *name, int64_t ns)
{
    char iso[RLU_NUM_MAX], unix_name[32];

    rlu_fmt_iso(iso, ns);
    snprintf(unix_name, sizeof unix_name, "%s_unix", name);
    return h5x_attr_str(x, g, name, iso) < 0 || h5x_attr_f64(g, unix_name, h5x_seconds(ns)) < 0
               ? -1 : 0;
}

/* The run's attributes: identity of its files, state of the latest. */
static int run_attrs(h5x *x, hid_t g, const hrun *run)
{
    static const char *const texts[] = {"project", "name", "group", "job_type", "notes"};
    const runlog_run *last = run->in[run->n - 1]->run;
    const runlog_value *ident = runlog_run_identity(run->in[0]->run);
    const runlog_value *tags = runlog_value_get(ident, "tags");
    runlog_state st = runlog_run_state(last);
    const char **names = calloc(run->n, sizeof *names), **tagv = NULL;
    uint64_t resumes = run->n - 1, last_step = 0;
    int64_t end = 0;
    size_t i, ntags = tags ? runlog_value_count(tags) : 0;
    int rc = 0, any_rows = 0;

    tagv = calloc(ntags + 1, sizeof *tagv);
    if (!names || !tagv)
        rc = -1;
    for (i = 0; rc == 0 && i < run->n; i++) {
        const runlog_run *r = run->in[i]->run;
        names[i] = run->in[i]->path;
        resumes += runlog_run_resumes(r);
        if (runlog_run_rows(r) > 0 && (!any_rows || runlog_run_last_step(r) > last_step))
            last_step = runlog_run_last_step(r), any_rows = 1;
        if (i == 0 || runlog_run_end_time(r) > end)
            end = runlog_run_end_time(r);
    }
    for (i = 0; rc == 0 && i < ntags; i++)
        if (!(tagv[i] = runlog_value_string(runlog_value_item(tags, i), NULL)))
            tagv[i] = "";
    if (rc == 0 && h5x_attr_str(x, g, "id", run->in[0]->id) < 0)
        rc = -1;
    for (i = 0; rc == 0 && i < sizeof texts / sizeof texts[0]; i++)
        rc = attr_ident(x, g, ident, texts[i]);
    if (rc == 0 && (h5x_attr_strs(x, g, "tags", ntags, tagv) < 0 ||
                    h5x_attr_str(x, g, "state", runlog_state_name(st)) < 0 ||
                    (st == RUNLOG_STATE_FINISHED || st == RUNLOG_STATE_FAILED
                         ? h5x_attr_i64(g, "exit_code", runlog_run_exit_code(last))
                         : h5x_attr_null(x, g, "exit_code")) < 0 ||
                    attr_time(x, g, "start_time", run->in[0]->start) < 0 ||
                    attr_time(x, g, "end_time", end) < 0 ||
                    (any_rows ? h5x_attr_u64(g, "last_step", last_step)
                              : h5x_attr_null(x, g, "last_step")) < 0 ||
                    h5x_attr_u64(g, "resumes", resumes) < 0 ||
                    h5x_attr_strs(x, g, "files", run->n, names) < 0))
        rc = -1;
    if (rc == 0 && run->n == 1 && h5x_attr_u64(g, "rows", runlog_run_rows(last)) < 0)
        rc = -1;
    free(names);
    free(tagv);
    return rc < 0 ? h5x_fail(x, "writing run attributes") : 0;
}

/* ------------------------------------------------------------------ */
/* History                                                              */
/* ------------------------------------------------------------------ */

/* One history value. Numbers, bools and nulls are copied (the library
 * hands them out in a reused slot); other values point into their
 * runlog_history, which lives until the key is written. */
typedef struct cell {
    union {
        double f;
        int64_t i;
        const runlog_value *v;
    } u;
    uint8_t type; /* runlog_type */
    uint8_t src;  /* index of the file in its run */
} cell;

typedef struct series {
    size_t n;
    uint64_t *step;
    int64_t *t;
    cell *c;
} series;

static void series_free(series *s)
{
    free(s->step);
    free(s->t);
    free(s->c);
    memset(s, 0, sizeof *s);
}

static int series_alloc(series *s, size_t n)
{
    memset(s, 0, sizeof *s);
    s->step = malloc((n ? n : 1) * sizeof *s->step);
    s->t = malloc((n ? n : 1) * sizeof *s->t);
    s->c = malloc((n ? n : 1) * sizeof *s->c);
    if (!s->step || !s->t || !s->c) {
        series_free(s);
        return -1;
    }
    return 0;
}

static int series_load(series *s, const runlog_history *h, size_t src)
{
    size_t i, n = runlog_history_length(h);

    if (series_alloc(s, n) < 0)
        return -1;
    memcpy(s->step, runlog_history_steps(h), n * sizeof *s->step);
    memcpy(s->t, runlog_history_times(h), n * sizeof *s->t);
    for (i = 0; i < n; i++) {
        const runlog_value *v = runlog_history_value(h, i);
        cell *c = &s->c[i];
        c->type = (uint8_t)runlog_value_type(v);
        c->src = (uint8_t)src;
        if (c->type == RUNLOG_FLOAT)
            c->u.f = runlog_value_float(v);
        else if (c->type == RUNLOG_INT)
            c->u.i = runlog_value_int(v);
        else if (c->type == RUNLOG_BOOL)
            c->u.i = runlog_value_bool(v);
        else if (c->type == RUNLOG_NULL)
            c->u.i = 0;
        else
            c->u.v = v;
    }
    s->n = n;
    return 0;
}

static int cells_equal(const cell *a, const cell *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case RUNLOG_FLOAT: return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0; /* bit-exact */
    case RUNLOG_INT:
    case RUNLOG_BOOL:
    case RUNLOG_NULL: return a->u.i == b->u.i;
    default: return values_equal(a->u.v, b->u.v);
    }
}

/* Entries of s from i on that share s->step[i]. */
static size_t step_run(const series *s, size_t i)
{
    size_t j = i;

    while (j < s->n && s->step[j] == s->step[i])
        j++;
    return j - i;
}

static void series_put(series *out, const series *s, size_t i, size_t len)
{
    memcpy(out->step + out->n, s->step + i, len * sizeof *s->step);
    memcpy(out->t + out->n, s->t + i, len * sizeof *s->t);
    memcpy(out->c + out->n, s->c + i, len * sizeof *s->c);
    out->n += len;
}

/* Merges the series of several files by step. At a step that several
 * files hold, their entries must be equal (then the oldest file's are
 * kept); else it is a conflict. */
static int series_merge(series *out, series *in, size_t n, const hrun *run, const char *key)
{
    size_t total = 0, f, *pos = calloc(n, sizeof *pos), ref, len, k;
    uint64_t s = 0;
    int rc = 0;

    for (f = 0; f < n; f++)
        total += in[f].n;
    if (!pos || series_alloc(out, total) < 0) {
        free(pos);
        return -1;
    }
    for (;;) {
        ref = n;
        for (f = 0; f < n; f++)
            if (pos[f] < in[f].n && (ref == n || in[f].step[pos[f]] < s))
                ref = f, s = in[f].step[pos[f]];
        if (ref == n)
            break;
        len = step_run(&in[ref], pos[ref]);
        for (f = ref + 1; f < n && rc == 0; f++) {
            if (pos[f] >= in[f].n || in[f].step[pos[f]] != s)
                continue;
            rc = step_run(&in[f], pos[f]) == len ? 0 : 1;
            for (k = 0; k < len && rc == 0; k++)
                rc = !cells_equal(&in[ref].c[pos[ref] + k], &in[f].c[pos[f] + k]);
            if (rc) {
                fprintf(stderr, "runlog: %s and %s: run %s: key '%s' at step %" PRIu64
                        " differs; not merged\n", run->in[ref]->path, run->in[f]->path,
                        run->in[0]->id, key, s);
                break;
            }
            pos[f] += len;
        }
        if (rc)
            break;
        series_put(out, &in[ref], pos[ref], len);
        pos[ref] += len;
    }
    free(pos);
    if (rc)
        series_free(out);
    return rc ? TOOL_FAIL : 0;
}

/* JSON text of a cell of a mixed series. */
static char *cell_json(const cell *c, const char *key, uint64_t step)
{
    char buf[RLU_NUM_MAX + 2];

    switch (c->type) {
    case RUNLOG_NULL: return strdup("null");
    case RUNLOG_BOOL: return strdup(c->u.i ? "true" : "false");
    case RUNLOG_INT:
        snprintf(buf, sizeof buf, "%" PRId64, c->u.i);
        return strdup(buf);
    case RUNLOG_FLOAT:
        rlu_fmt_double(buf + 1, c->u.f);
        if (isfinite(c->u.f))
            return strdup(buf + 1);
        buf[0] = '"'; /* "NaN", "Infinity", "-Infinity", as export json */
        strcat(buf, "\"");
        return strdup(buf);
    default:
        return h5x_cell_json(key, step, 0, NULL, c->u.v);
    }
}

/* The value column in the series' class. */
static int write_values(h5x *x, hid_t g, const series *s, const char *key, int cls)
{
    size_t i, n = s->n;
    void *buf = calloc(n ? n : 1, 8);
    int rc;

    if (!buf)
        return -1;
    for (i = 0; i < n; i++) {
        const cell *c = &s->c[i];
        switch (cls) {
        case H5X_C_INT: ((int64_t *)buf)[i] = c->u.i; break;
        case H5X_C_FLOAT: ((double *)buf)[i] = c->type == RUNLOG_INT ? (double)c->u.i : c->u.f; break;
        case H5X_C_BOOL: ((int8_t *)buf)[i] = (int8_t)c->u.i; break;
        case H5X_C_STRING: ((const char **)buf)[i] = runlog_value_string(c->u.v, NULL); break;
        default: ((char **)buf)[i] = cell_json(c, key, s->step[i]); break;
        }
    }
    if (cls == H5X_C_STRING || cls == H5X_C_JSON)
        rc = h5x_column_str(x, g, "value", n, buf);
    else
        rc = h5x_column(x, g, "value", cls == H5X_C_INT ? H5T_NATIVE_INT64
                        : cls == H5X_C_FLOAT ? H5T_NATIVE_DOUBLE : x->bool_t, n, buf);
    if (rc == 0 && cls == H5X_C_JSON) {
        hid_t d = H5Dopen2(g, "value", H5P_DEFAULT);
        rc = d < 0 || h5x_attr_str(x, d, "encoding", "json") < 0 ? -1 : 0;
        if (d >= 0)
            H5Dclose(d);
    }
    if (cls == H5X_C_JSON)
        for (i = 0; i < n; i++)
            free(((char **)buf)[i]);
    free(buf);
    return rc;
}

/* step, timestamp and value of one key under loc (history or system). */
static int write_series(h5x *x, hid_t loc, const char *key, const series *s)
{
    hid_t g = h5x_key_group(x, loc, key, H5X_RES_SERIES);
    double *secs = malloc((s->n ? s->n : 1) * sizeof *secs);
    int cls = H5X_C_NONE, rc = -1;
    size_t i;

    for (i = 0; i < s->n; i++) {
        secs[i] = secs ? h5x_seconds(s->t[i]) : 0;
        cls = h5x_class_join(cls, (runlog_type)s->c[i].type);
    }
    if (cls == H5X_C_NONE)
        cls = H5X_C_FLOAT;
    if (g >= 0 && secs && h5x_column(x, g, "step", H5T_NATIVE_UINT64, s->n, s->step) == 0 &&
        h5x_column(x, g, "timestamp", H5T_NATIVE_DOUBLE, s->n, secs) == 0 &&
        write_values(x, g, s, key, cls) == 0)
        rc = 0;
    free(secs);
    if (g >= 0)
        H5Gclose(g);
    return rc < 0 ? h5x_fail(x, key) : 0;
}

/* Images and tables of a key's series, under images/<key>/<n> and
 * tables/<key>/<n> (n counts from 0 in step order). */
static int write_media(h5x *x, hid_t rg, const char *key, const series *s, const hrun *run)
{
    hid_t ig = H5I_INVALID_HID, tg = H5I_INVALID_HID, parent;
    size_t i, k, nimg = 0, ntab = 0;
    char name[32];
    int rc = 0;

    for (i = 0; i < s->n && rc == 0; i++) {
        const cell *c = &s->c[i];
        input *in = run->in[c->src];
        media_kind kind = c->type == RUNLOG_MAP || c->type == RUNLOG_LIST ? media_kind_of(c->u.v)
                                                                          : MEDIA_NONE;
        if (kind == MEDIA_NONE)
            continue;
        hid_t *grp = kind == MEDIA_TABLE ? &tg : &ig;
        if (*grp < 0) {
            parent = h5x_group(x, rg, kind == MEDIA_TABLE ? "tables" : "images");
            *grp = parent >= 0 ? h5x_key_group(x, parent, key, H5X_RES_DIGITS) : H5I_INVALID_HID;
            if (parent >= 0)
                H5Gclose(parent);
            if (*grp < 0)
                return h5x_fail(x, key);
        }
        if (kind == MEDIA_TABLE) {
            snprintf(name, sizeof name, "%zu", ntab++);
            rc = h5x_table(x, tg, name, in->r, in->path, key, c->u.v, s->step[i]);
            continue;
        }
        for (k = 0; k < media_image_count(c->u.v) && rc == 0; k++) {
            snprintf(name, sizeof name, "%zu", nimg++);
            rc = h5x_image(x, ig, name, in->r, in->path, media_image_at(c->u.v, k), s->step[i], k);
        }
    }
    if (ig >= 0)
        H5Gclose(ig);
    if (tg >= 0)
        H5Gclose(tg);
    return rc;
}

/* Reads one key from every file of the run, merges, writes. */
static int export_key(h5x *x, hid_t rg, hid_t hist, const hrun *run, const char *key)
{
    runlog_history **h = calloc(run->n, sizeof *h);
    series *in = calloc(run->n, sizeof *in), merged, *s = NULL;
    size_t f, used = 0;
    int rc = 0, lrc;

    if (!h || !in)
        rc = h5x_fail(x, "out of memory");
    for (f = 0; f < run->n && rc == 0; f++) {
        lrc = runlog_reader_history(&h[f], run->in[f]->r, key);
        if (lrc == RUNLOG_ENOTFOUND)
            continue;
        if (lrc < 0)
            rc = tool_lib_error(run->in[f]->path, lrc);
        else if (series_load(&in[used++], h[f], f) < 0)
            rc = h5x_fail(x, "out of memory");
    }
    if (rc == 0 && used > 0) {
        if (used == 1)
            s = &in[0];
        else if ((rc = series_merge(&merged, in, used, run, key)) == 0)
            s = &merged;
        if (rc < 0)
            rc = h5x_fail(x, "out of memory");
    }
    if (rc == 0 && s)
        rc = write_series(x, hist, key, s);
    if (rc == 0 && s)
        rc = write_media(x, rg, key, s, run);
    if (s == &merged)
        series_free(&merged);
    for (f = 0; in && f < run->n; f++)
        series_free(&in[f]);
    for (f = 0; h && f < run->n; f++)
        runlog_history_free(h[f]);
    free(in);
    free(h);
    return rc;
}

/* The history keys of every file of the run, each once, in order. */
static const char **run_keys(const hrun *run, size_t *out_n)
{
    size_t f, i, k, total = 0, n = 0;
    const char **keys;

    for (f = 0; f < run->n; f++)
        total += runlog_run_key_count(run->in[f]->run);
    if (!(keys = calloc(total + 1, sizeof *keys)))
        return NULL;
    for (f = 0; f < run->n; f++)
        for (i = 0; i < runlog_run_key_count(run->in[f]->run); i++) {
            const char *key = runlog_run_key(run->in[f]->run, i);
            /* One file lists each key once; only merged runs need the search. */
            for (k = f == 0 ? n : 0; k < n && strcmp(keys[k], key) != 0; k++)
                ;
            if (k == n)
                keys[n++] = key;
        }
    *out_n = n;
    return keys;
}

/* ------------------------------------------------------------------ */
/* System samples, alerts, console                                      */
/* ------------------------------------------------------------------ */

typedef struct gseries {
    char *key;
    series s;
    size_t cap;
} gseries;

typedef struct records {
    gseries *sys;
    size_t nsys;
    char **title, **text, **level, **stream, **ctext;
    double *at, *ct; /* alert and console times */
    size_t nalerts, nconsole, acap, ccap;
} records;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t cap2 = *cap ? *cap : 16;
    void *q;

    if (need <= *cap)
        return 0;
    while (cap2 < need)
        cap2 *= 2;
    if (!(q = realloc(*p, cap2 * elem)))
        return -1;
    *p = q;
    return 0;
}

static int gseries_push(gseries *g, uint64_t step, int64_t t, const runlog_value *v)
{
    size_t cap = g->cap;
    cell *c;

    if ((cap = g->cap, grow((void **)&g->s.step, &cap, g->s.n + 1, sizeof *g->s.step)) < 0 ||
        (cap = g->cap, grow((void **)&g->s.t, &cap, g->s.n + 1, sizeof *g->s.t)) < 0 ||
        (cap = g->cap, grow((void **)&g->s.c, &cap, g->s.n + 1, sizeof *g->s.c)) < 0)
        return -1;
    g->cap = cap;
    g->s.step[g->s.n] = step;
    g->s.t[g->s.n] = t;
    c = &g->s.c[g->s.n++];
    /* Samples are float64 (runlog_writer_system()); an int stays an int. */
    c->type = runlog_value_type(v) == RUNLOG_INT ? RUNLOG_INT : RUNLOG_FLOAT;
    c->src = 0;
    if (c->type == RUNLOG_INT)
        c->u.i = runlog_value_int(v);
    else
        c->u.f = runlog_value_float(v);
    return 0;
}

static int rec_system(records *r, const runlog_record *rec)
{
    size_t i, k, n = runlog_record_field_count(rec);
    void *p;

    for (i = 0; i < n; i++) {
        const char *key = runlog_record_field_key(rec, i);
        for (k = 0; k < r->nsys && strcmp(r->sys[k].key, key) != 0; k++)
            ;
        if (k == r->nsys) {
            if (!(p = realloc(r->sys, (r->nsys + 1) * sizeof *r->sys)))
                return -1;
            r->sys = p;
            memset(&r->sys[k], 0, sizeof r->sys[k]);
            if (!(r->sys[k].key = strdup(key)))
                return -1;
            r->nsys++;
        }
        if (gseries_push(&r->sys[k], runlog_record_step(rec), runlog_record_time(rec),
                         runlog_record_field_value(rec, i)) < 0)
            return -1;
    }
    return 0;
}

/* Valid UTF-8 text of any bytes: each bad byte (and NUL, which ends HDF5
 * texts) becomes U+FFFD, as `export json` writes console text. */
static char *utf8_text(const char *s, size_t len)
{
    char *out = malloc(3 * len + 1), *p = out;
    size_t i = 0, k;

    if (!out)
        return NULL;
    while (i < len) {
        k = rlu_utf8_len((const unsigned char *)s + i, len - i);
        if (k == 0 || s[i] == '\0') {
            memcpy(p, "\xef\xbf\xbd", 3), p += 3;
            i++;
            continue;
        }
        memcpy(p, s + i, k), p += k;
        i += k;
    }
    *p = '\0';
    return out;
}

static char *map_text(const runlog_value *body, const char *key)
{
    size_t len;
    const char *s = rlu_map_str(body, key, &len);

    return s ? utf8_text(s, len) : strdup("");
}

static int rec_alert(records *r, const runlog_record *rec)
{
    const runlog_value *body = runlog_record_body(rec);
    char buf[RLU_NUM_MAX];
    size_t n = r->nalerts, cap;

    if ((cap = r->acap, grow((void **)&r->title, &cap, n + 1, sizeof(char *))) < 0 ||
        (cap = r->acap, grow((void **)&r->text, &cap, n + 1, sizeof(char *))) < 0 ||
        (cap = r->acap, grow((void **)&r->level, &cap, n + 1, sizeof(char *))) < 0 ||
        (cap = r->acap, grow((void **)&r->at, &cap, n + 1, sizeof(double))) < 0)
        return -1;
    r->acap = cap;
    r->title[n] = map_text(body, "title");
    r->text[n] = map_text(body, "text");
    r->level[n] = strdup(rlu_alert_level(body, buf));
    r->at[n] = h5x_seconds(runlog_record_time(rec));
    r->nalerts++;
    return r->title[n] && r->text[n] && r->level[n] ? 0 : -1;
}

static int rec_console(records *r, const runlog_record *rec)
{
    const char *stream, *data = "";
    size_t len = 0, n = r->nconsole, cap;

    if (rlu_console_fields(runlog_record_body(rec), &stream, &data, &len) < 0)
        stream = "stdout";
    if ((cap = r->ccap, grow((void **)&r->stream, &cap, n + 1, sizeof(char *))) < 0 ||
        (cap = r->ccap, grow((void **)&r->ctext, &cap, n + 1, sizeof(char *))) < 0 ||
        (cap = r->ccap, grow((void **)&r->ct, &cap, n + 1, sizeof(double))) < 0)
        return -1;
    r->ccap = cap;
    r->stream[n] = strdup(stream ? stream : "stdout");
    r->ctext[n] = utf8_text(data, len);
    r->ct[n] = h5x_seconds(runlog_record_time(rec));
    r->nconsole++;
    return r->stream[n] && r->ctext[n] ? 0 : -1;
}

static void records_free(records *r)
{
    size_t i;

    for (i = 0; i < r->nsys; i++) {
        free(r->sys[i].key);
        series_free(&r->sys[i].s);
    }
    for (i = 0; i < r->nalerts; i++) {
        free(r->title[i]);
        free(r->text[i]);
        free(r->level[i]);
    }
    for (i = 0; i < r->nconsole; i++) {
        free(r->stream[i]);
        free(r->ctext[i]);
    }
    free(r->sys);
    free(r->title);
    free(r->text);
    free(r->level);
    free(r->at);
    free(r->stream);
    free(r->ctext);
    free(r->ct);
    memset(r, 0, sizeof *r);
}

/* One pass over a file's records (a second reader: the first one's
 * iteration state is left alone). */
static int read_records(records *r, const input *in, int tolerant)
{
    runlog_reader *rd;
    const runlog_record *rec;
    int rc;

    if (tool_open_reader(&rd, in->path, tolerant ? RUNLOG_READ_TOLERANT : RUNLOG_READ_STRICT))
        return TOOL_FAIL;
    while ((rc = runlog_reader_next(rd, &rec)) == 0) {
        switch (runlog_record_type_of(rec)) {
        case RUNLOG_RECORD_SYSTEM: rc = rec_system(r, rec); break;
        case RUNLOG_RECORD_ALERT: rc = rec_alert(r, rec); break;
        case RUNLOG_RECORD_CONSOLE: rc = rec_console(r, rec); break;
        default: break;
        }
        if (rc < 0) {
            rc = RUNLOG_ENOMEM;
            break;
        }
    }
    runlog_reader_close(rd);
    return rc == RUNLOG_ITEROVER ? 0 : tool_lib_error(in->path, rc);
}

static int write_records(h5x *x, hid_t rg, const records *r)
{
    hid_t sys = h5x_group(x, rg, "system"), al = h5x_group(x, rg, "alerts"),
          co = h5x_group(x, rg, "console");
    size_t i;
    int rc = sys < 0 || al < 0 || co < 0 ? -1 : 0;

    for (i = 0; i < r->nsys && rc == 0; i++)
        rc = write_series(x, sys, r->sys[i].key, &r->sys[i].s) ? 1 : 0;
    if (rc == 0 && (h5x_column_str(x, al, "title", r->nalerts, r->title) < 0 ||
                    h5x_column_str(x, al, "text", r->nalerts, r->text) < 0 ||
                    h5x_column_str(x, al, "level", r->nalerts, r->level) < 0 ||
                    h5x_column(x, al, "timestamp", H5T_NATIVE_DOUBLE, r->nalerts, r->at) < 0 ||
                    h5x_column_str(x, co, "stream", r->nconsole, r->stream) < 0 ||
                    h5x_column(x, co, "timestamp", H5T_NATIVE_DOUBLE, r->nconsole, r->ct) < 0 ||
                    h5x_column_str(x, co, "text", r->nconsole, r->ctext) < 0))
        rc = -1;
    if (sys >= 0)
        H5Gclose(sys);
    if (al >= 0)
        H5Gclose(al);
    if (co >= 0)
        H5Gclose(co);
    return rc < 0 ? h5x_fail(x, "writing system samples, alerts, console") : rc;
}

/* ------------------------------------------------------------------ */
/* A run, the file, the command                                         */
/* ------------------------------------------------------------------ */

static const runlog_value *get_config(const runlog_run *r) { return runlog_run_config(r); }
static const runlog_value *get_summary(const runlog_run *r) { return runlog_run_summary(r); }
static const runlog_value *get_metadata(const runlog_run *r) { return runlog_run_metadata(r); }

static int export_history(h5x *x, hid_t g, const hrun *run, progress *p)
{
    hid_t hist = h5x_group(x, g, "history");
    size_t i, n = 0;
    const char **keys = run_keys(run, &n);
    int rc = hist < 0 || !keys ? h5x_fail(x, "history") : 0;

    p->done = 0;
    p->total = n + 1;
    for (i = 0; i < n && rc == 0; i++) {
        rc = export_key(x, g, hist, run, keys[i]);
        p->done++;
        progress_show(p);
    }
    free(keys);
    if (hist >= 0)
        H5Gclose(hist);
    return rc;
}

static int export_records(h5x *x, hid_t g, const hrun *run, int tolerant)
{
    records r;
    size_t f;
    int rc = 0;

    memset(&r, 0, sizeof r);
    for (f = 0; f < run->n && rc == 0; f++)
        if (!run->in[f]->skip_records)
            rc = read_records(&r, run->in[f], tolerant);
    if (rc == 0)
        rc = write_records(x, g, &r);
    records_free(&r);
    return rc;
}

static int export_artifacts(h5x *x, hid_t g, const hrun *run, int with_data)
{
    runlog_reader **readers = calloc(run->n, sizeof *readers);
    const char **paths = calloc(run->n, sizeof *paths);
    const runlog_value **arts = calloc(run->n, sizeof *arts);
    h5x_blobs b;
    size_t f;
    int rc;

    if (!readers || !paths || !arts) {
        rc = h5x_fail(x, "out of memory");
    } else {
        for (f = 0; f < run->n; f++) {
            readers[f] = run->in[f]->r;
            paths[f] = run->in[f]->path;
            arts[f] = runlog_run_artifacts(run->in[f]->run);
        }
        b.readers = readers;
        b.paths = paths;
        b.n = run->n;
        rc = h5x_artifacts(x, g, &b, arts, with_data);
    }
    free(readers);
    free(paths);
    free(arts);
    return rc;
}

static int export_run(h5x *x, hid_t runs, const hrun *run, const hopts *o, progress *p)
{
    char *name = h5x_escape(run->in[0]->id, strlen(run->in[0]->id), H5X_RES_NONE);
    hid_t g;
    int rc;

    if (check_identity(run) != TOOL_OK) {
        free(name);
        return TOOL_FAIL;
    }
    g = name ? h5x_group(x, runs, name) : H5I_INVALID_HID;
    free(name);
    if (g < 0)
        return h5x_fail(x, "creating the run group");
    rc = run_attrs(x, g, run);
    if (rc == 0)
        rc = write_tree(x, g, run, "config", get_config, 1);
    if (rc == 0)
        rc = write_tree(x, g, run, "summary", get_summary, 0);
    if (rc == 0)
        rc = write_tree(x, g, run, "metadata", get_metadata, 0);
    if (rc == 0)
        rc = export_history(x, g, run, p);
    if (rc == 0)
        rc = export_records(x, g, run, o->tolerant);
    if (rc == 0)
        rc = export_artifacts(x, g, run, o->with_data);
    p->done = p->total;
    progress_show(p);
    H5Gclose(g);
    return rc;
}

static hid_t create_file(const char *tmp)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = H5I_INVALID_HID;

    /* The 1.8 object format: dense attribute storage (many config keys,
     * large attributes) and creation-order indexes; h5py reads it. */
    if (fapl >= 0 && H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) >= 0)
        f = H5Fcreate(tmp, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    return f;
}

static int root_attrs(h5x *x, hid_t file, const hopts *o)
{
    static const char *const names[] = {"gzip", "zstd", "none"};
    hid_t root = H5Gopen2(file, "/", H5P_DEFAULT);
    int rc;

    if (root < 0)
        return -1;
    rc = h5x_attr_str(x, root, "runlog_hdf5_layout", "1") < 0 ||
         h5x_attr_str(x, root, "creator", "runlog " RUNLOG_VERSION_STRING) < 0 ||
         h5x_attr_str(x, root, "compression", names[o->compression]) < 0 ? -1 : 0;
    H5Gclose(root);
    return rc;
}

/* Writes every run into the open file. */
static int export_all(h5x *x, hrun *runs, size_t nruns, const hopts *o)
{
    progress p = {isatty(2), 0, nruns, 0, 0};
    hid_t rg = h5x_group(x, x->file, "runs");
    size_t i;
    int rc = rg < 0 || root_attrs(x, x->file, o) < 0 ? h5x_fail(x, "creating /runs") : 0;

    for (i = 0; i < nruns && rc == 0; i++) {
        p.run = i;
        rc = export_run(x, rg, &runs[i], o, &p);
    }
    progress_end(&p);
    if (rg >= 0)
        H5Gclose(rg);
    return rc;
}

/* Creates OUT.tmp-XXXXXX, exports, renames it over OUT; removes it on
 * failure. The name is mkstemp()'s, random; HDF5 creates the file again
 * with O_CREAT|O_EXCL (H5F_ACC_EXCL), which refuses whatever took the name
 * meanwhile, a planted link included, instead of writing through it. */
static int write_output(hrun *runs, size_t nruns, const hopts *o)
{
    char *tmp = malloc(strlen(o->out) + 32);
    h5x x;
    hid_t f;
    int rc, fd;

    if (!tmp)
        return tool_sys_error(o->out);
    sprintf(tmp, "%s.tmp-XXXXXX", o->out);
    if ((fd = mkstemp(tmp)) < 0) {
        free(tmp);
        return tool_sys_error(o->out);
    }
    close(fd);
    unlink(tmp);
    f = create_file(tmp);
    memset(&x, 0, sizeof x);
    x.out = o->out;
    x.tolerant = o->tolerant;
    if (f < 0) {
        rc = h5x_fail(&x, "cannot create the output");
        free(tmp);
        return rc;
    }
    rc = h5x_init(&x, f, o->compression, o->level) < 0 ? h5x_fail(&x, "types") : 0;
    if (rc == 0)
        rc = export_all(&x, runs, nruns, o);
    h5x_fini(&x);
    if (H5Fclose(f) < 0 && rc == 0)
        rc = h5x_fail(&x, "closing the output");
    if (rc == 0 && rename(tmp, o->out) < 0)
        rc = tool_sys_error(o->out);
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

int cmd_export_hdf5(int argc, char **argv)
{
    hopts o;
    input *in;
    hrun *runs = NULL;
    size_t i, nopen = 0, nruns = 0;
    int status = parse_hdf5(argc, argv, &o);

    if (status != TOOL_OK)
        return status;
    /* We report HDF5 errors ourselves (h5x_fail), once, with the path. */
    h5x_quiet_errors();
    if (o.compression == H5X_ZSTD && H5Zfilter_avail(RUNLOG_H5ZSTD_ID) <= 0 &&
        H5Zregister(&runlog_h5zstd_class) < 0) {
        fprintf(stderr, "runlog: cannot register the zstd HDF5 filter\n");
        return TOOL_FAIL;
    }
    if (tool_check_output(o.out, (const char *const *)o.files, o.nfiles) != TOOL_OK)
        return TOOL_FAIL;
    if (!(in = calloc(o.nfiles, sizeof *in)))
        return tool_sys_error("memory");
    for (i = 0; i < o.nfiles && status == TOOL_OK; i++, nopen++)
        status = open_input(&in[i], o.files[i], o.tolerant);
    if (status == TOOL_OK && make_runs(in, o.nfiles, &runs, &nruns) < 0)
        status = tool_sys_error("memory");
    if (status == TOOL_OK)
        status = write_output(runs, nruns, &o);
    for (i = 0; runs && i < nruns; i++)
        free(runs[i].in);
    free(runs);
    for (i = 0; i < nopen; i++)
        close_input(&in[i]);
    free(in);
    return status == TOOL_OK ? TOOL_OK : TOOL_FAIL;
}
