/*
 * hdf5.c — RUNLOG_EXPORT_HDF5: every run of inputs[0..n) into one HDF5 file
 * (spec/HDF5.md).
 *
 * The inputs are a run set (runlog_runset_open(), spec/EXPORTS.md §11):
 * files grouped by run id, a file given twice read once, the files of one
 * run ordered, checked to be one run (a conflict is an error naming both
 * files, before anything is written) and merged; each run becomes
 * /runs/<id>. The set's readers serve every pass and every blob.
 *
 * Memory: one pass over each file of a run gathers the history of every
 * key (hdf5_history.c), system samples, alerts and console chunks, held
 * until the run is written; images and blobs are read one at a time.
 *
 * The output is written to OUT.tmp-XXXXXX (a new file, a random name) and
 * renamed at the end: it appears whole or not at all.
 *
 * HDF5 state: HDF5's automatic error printing is replaced by our handler
 * only while the export runs, and the caller's handler is put back after;
 * the zstd filter is registered for the export when HDF5 has none, and
 * unregistered after.
 */
#include "h5x.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <unistd.h>

#include "h5zstd.h"
#include "media.h"

typedef h5x_run hrun;
typedef h5x_cell cell;
typedef h5x_series series;

typedef struct hopts {
    int compression, level, with_data;
} hopts;

/* Progress: units of work are history keys, plus one per run for its
 * records and artifacts. */
typedef struct progress {
    rx_ctx *rx;
    uint64_t done, total;
} progress;

static void progress_step(progress *p)
{
    p->done++;
    rx_progress(p->rx, p->done, p->total);
}

/* ------------------------------------------------------------------ */
/* Options                                                              */
/* ------------------------------------------------------------------ */

static int check_options(const runlog_export_options *o, hopts *h)
{
    memset(h, 0, sizeof *h);
    h->compression = (int)o->hdf5_compression;
    h->with_data = o->hdf5_artifact_data != 0;
    switch (o->hdf5_compression) {
    case RUNLOG_HDF5_GZIP:
        h->level = o->hdf5_level < 0 ? 4 : o->hdf5_level;
        if (h->level > 9)
            return runlog_error_set(RUNLOG_EINVAL, "gzip level %d (0-9)", o->hdf5_level);
        return 0;
    case RUNLOG_HDF5_ZSTD:
        h->level = o->hdf5_level < 0 ? 3 : o->hdf5_level;
        if (h->level < 1 || h->level > 22)
            return runlog_error_set(RUNLOG_EINVAL, "zstd level %d (1-22)", o->hdf5_level);
        return 0;
    case RUNLOG_HDF5_NONE:
        /* The level is not used; 4 as before, harmless. */
        h->level = 4;
        return 0;
    }
    return runlog_error_set(RUNLOG_EINVAL, "unknown HDF5 compression %d",
                            (int)o->hdf5_compression);
}

/* ------------------------------------------------------------------ */
/* Inputs                                                               */
/* ------------------------------------------------------------------ */

/* The runs of the run set: their files' paths, readers, snapshots. */
static void runs_free(hrun *runs, size_t nruns)
{
    size_t i;

    for (i = 0; runs && i < nruns; i++) {
        free(runs[i].paths);
        free(runs[i].readers);
        free(runs[i].runs);
        free(runs[i].damaged);
    }
    free(runs);
}

/* Each file of the set: its damage reported (tolerant: a notice per range;
 * strict: the first one is the error), which also says whether its
 * unreadable blobs may be left out. */
static int runs_make(rx_ctx *x, runlog_runset *set, hrun **out, size_t *nout)
{
    size_t nruns = runlog_runset_run_count(set), i, f;
    hrun *runs = calloc(nruns ? nruns : 1, sizeof *runs);
    int rc = 0;

    if (!runs)
        return runlog_error_set(RUNLOG_ENOMEM, "out of memory");
    for (i = 0; i < nruns && rc == 0; i++) {
        hrun *r = &runs[i];
        r->set = set;
        r->index = i;
        r->id = runlog_runset_run_id(set, i);
        r->n = runlog_runset_file_count(set, i);
        r->paths = calloc(r->n, sizeof *r->paths);
        r->readers = calloc(r->n, sizeof *r->readers);
        r->runs = calloc(r->n, sizeof *r->runs);
        r->damaged = calloc(r->n, sizeof *r->damaged);
        if (!r->paths || !r->readers || !r->runs || !r->damaged) {
            rc = runlog_error_set(RUNLOG_ENOMEM, "out of memory");
            break;
        }
        for (f = 0; f < r->n && rc == 0; f++) {
            uint64_t before = x->damaged;
            r->paths[f] = runlog_runset_file_path(set, i, f);
            r->readers[f] = runlog_runset_file_reader(set, i, f);
            r->runs[f] = runlog_runset_file_run(set, i, f);
            if ((rc = rx_report_damage(x, r->paths[f])) < 0)
                rc = h5x_lib_fail(r->paths[f], rc);
            r->damaged[f] = x->damaged > before;
        }
    }
    if (rc < 0) {
        runs_free(runs, nruns);
        return rc;
    }
    *out = runs;
    *nout = nruns;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Identity, config, summary, metadata                                  */
/* ------------------------------------------------------------------ */

/* A merged map of the run set as pairs. */
static int write_tree(h5x *x, hid_t g, const char *name, const runlog_value *m)
{
    size_t i, n = m && runlog_value_type(m) == RUNLOG_MAP ? runlog_value_count(m) : 0;
    h5x_kv *kv = calloc(n + 1, sizeof *kv);
    int rc;

    if (!kv)
        return runlog_error_set(RUNLOG_ENOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        kv[i].key = runlog_value_key(m, i, NULL);
        kv[i].v = runlog_value_item(m, i);
    }
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
    return h5x_attr_str(x, g, name, iso) < 0 || h5x_attr_f64(x, g, unix_name, h5x_seconds(ns)) < 0
               ? -1 : 0;
}

/* The run's attributes, from the run set's merged view (§11.4). */
static int run_attrs(h5x *x, hid_t g, const hrun *run)
{
    static const char *const texts[] = {"project", "name", "group", "job_type", "notes"};
    runlog_runset *set = run->set;
    size_t ri = run->index;
    const runlog_value *ident = runlog_runset_identity(set, ri);
    const runlog_value *tags = runlog_value_get(ident, "tags");
    runlog_state st = runlog_runset_state(set, ri);
    const char **tagv;
    uint64_t rows = runlog_runset_rows(set, ri);
    size_t i, ntags = tags ? runlog_value_count(tags) : 0;
    int rc = 0;

    if (!(tagv = calloc(ntags + 1, sizeof *tagv)))
        rc = -1;
    for (i = 0; rc == 0 && i < ntags; i++)
        if (!(tagv[i] = runlog_value_string(runlog_value_item(tags, i), NULL)))
            tagv[i] = "";
    if (rc == 0 && h5x_attr_str(x, g, "id", run->id) < 0)
        rc = -1;
    for (i = 0; rc == 0 && i < sizeof texts / sizeof texts[0]; i++)
        rc = attr_ident(x, g, ident, texts[i]);
    if (rc == 0 && (h5x_attr_strs(x, g, "tags", ntags, tagv) < 0 ||
                    h5x_attr_str(x, g, "state", runlog_state_name(st)) < 0 ||
                    (st == RUNLOG_STATE_FINISHED || st == RUNLOG_STATE_FAILED
                         ? h5x_attr_i64(x, g, "exit_code", runlog_runset_exit_code(set, ri))
                         : h5x_attr_null(x, g, "exit_code")) < 0 ||
                    attr_time(x, g, "start_time", runlog_runset_start_time(set, ri)) < 0 ||
                    attr_time(x, g, "end_time", runlog_runset_end_time(set, ri)) < 0 ||
                    (rows > 0 ? h5x_attr_u64(x, g, "last_step", runlog_runset_last_step(set, ri))
                              : h5x_attr_null(x, g, "last_step")) < 0 ||
                    h5x_attr_u64(x, g, "resumes", runlog_runset_resumes(set, ri)) < 0 ||
                    h5x_attr_strs(x, g, "files", run->n, run->paths) < 0))
        rc = -1;
    if (rc == 0 && run->n == 1 && h5x_attr_u64(x, g, "rows", rows) < 0)
        rc = -1;
    free(tagv);
    return rc < 0 ? h5x_fail(x, "writing run attributes") : 0;
}

/* ------------------------------------------------------------------ */
/* History                                                              */
/* ------------------------------------------------------------------ */

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
        if (secs)
            secs[i] = h5x_seconds(s->t[i]);
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
 * tables/<key>/<n> (n counts from 0 in step order); each table also as
 * tables_by_step/<key>/<step>. */
static int write_media(h5x *x, hid_t rg, const char *key, const series *s, const hrun *run)
{
    hid_t ig = H5I_INVALID_HID, tg = H5I_INVALID_HID, bg = H5I_INVALID_HID, parent;
    size_t i, k, nimg = 0, ntab = 0;
    char name[32];
    int rc = 0;

    for (i = 0; i < s->n && rc == 0; i++) {
        const cell *c = &s->c[i];
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
        x->skip_bad_blobs = run->damaged[c->src];
        if (kind == MEDIA_TABLE) {
            snprintf(name, sizeof name, "%zu", ntab++);
            rc = h5x_table(x, tg, name, run->readers[c->src], run->paths[c->src], key, c->u.v,
                           s->step[i]);
            if (rc == 0 && h5x_table_step_link(x, rg, &bg, key, tg, name, s->step[i]) < 0)
                rc = h5x_fail(x, key);
            continue;
        }
        for (k = 0; k < media_image_count(c->u.v) && rc == 0; k++) {
            snprintf(name, sizeof name, "%zu", nimg++);
            rc = h5x_image(x, ig, name, run->readers[c->src], run->paths[c->src],
                           media_image_at(c->u.v, k), s->step[i], k);
        }
    }
    x->skip_bad_blobs = 0;
    if (ig >= 0)
        H5Gclose(ig);
    if (tg >= 0)
        H5Gclose(tg);
    if (bg >= 0)
        H5Gclose(bg);
    return rc;
}

/* Key i of the run: its series, merged by step, and its media. */
static int export_key(h5x *x, hid_t rg, hid_t hist, const hrun *run, h5x_hist *h, size_t i)
{
    const char *key = runlog_runset_key(run->set, run->index, i);
    const series *s;
    int rc = h5x_hist_series(h, i, &s);

    if (rc == 0 && s->n > 0)
        rc = write_series(x, hist, key, s);
    if (rc == 0 && s->n > 0)
        rc = write_media(x, rg, key, s, run);
    return rc;
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

/* An alert (runlog_record_alert()); texts made valid UTF-8 (invalid bytes
 * and NUL, which ends HDF5 texts, as U+FFFD, as `export json` writes). */
static int rec_alert(records *r, const runlog_record *rec)
{
    static const char *const levels[] = {"INFO", "WARN", "ERROR"};
    const char *title, *text;
    size_t tlen, xlen, n = r->nalerts, cap;
    runlog_alert_level level;
    int rc = runlog_record_alert(rec, &title, &tlen, &text, &xlen, &level);

    if (rc < 0)
        return rc;
    if ((cap = r->acap, grow((void **)&r->title, &cap, n + 1, sizeof(char *))) < 0 ||
        (cap = r->acap, grow((void **)&r->text, &cap, n + 1, sizeof(char *))) < 0 ||
        (cap = r->acap, grow((void **)&r->level, &cap, n + 1, sizeof(char *))) < 0 ||
        (cap = r->acap, grow((void **)&r->at, &cap, n + 1, sizeof(double))) < 0)
        return RUNLOG_ENOMEM;
    r->acap = cap;
    r->title[n] = rlu_utf8_text(title, tlen);
    r->text[n] = rlu_utf8_text(text, xlen);
    r->level[n] = strdup(levels[level]);
    r->at[n] = h5x_seconds(runlog_record_time(rec));
    r->nalerts++;
    return r->title[n] && r->text[n] && r->level[n] ? 0 : RUNLOG_ENOMEM;
}

static int rec_console(records *r, const runlog_record *rec)
{
    const void *data;
    size_t len, n = r->nconsole, cap;
    runlog_stream stream;
    int rc = runlog_record_console(rec, &stream, &data, &len);

    if (rc < 0)
        return rc;
    if ((cap = r->ccap, grow((void **)&r->stream, &cap, n + 1, sizeof(char *))) < 0 ||
        (cap = r->ccap, grow((void **)&r->ctext, &cap, n + 1, sizeof(char *))) < 0 ||
        (cap = r->ccap, grow((void **)&r->ct, &cap, n + 1, sizeof(double))) < 0)
        return RUNLOG_ENOMEM;
    r->ccap = cap;
    r->stream[n] = strdup(stream == RUNLOG_STDERR ? "stderr" : "stdout");
    r->ctext[n] = rlu_utf8_text(data, len);
    r->ct[n] = h5x_seconds(runlog_record_time(rec));
    r->nconsole++;
    return r->stream[n] && r->ctext[n] ? 0 : RUNLOG_ENOMEM;
}

static void records_free(records *r)
{
    size_t i;

    for (i = 0; i < r->nsys; i++) {
        free(r->sys[i].key);
        h5x_series_free(&r->sys[i].s);
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

/* The records that are not history rows, from the pass of hdf5_history.c
 * (inside each file's snapshot, file after file in merge order). An alert
 * or console record that breaks the spec inside an intact frame is
 * rx_bad_record()'s (tolerant: skipped with a notice; strict: the error). */
typedef struct pass_ctx {
    rx_ctx *rx;
    const hrun *run;
    records *r;
} pass_ctx;

static int on_record(void *ctx, size_t f, const runlog_record *rec)
{
    pass_ctx *p = ctx;
    int rc;

    switch (runlog_record_type_of(rec)) {
    case RUNLOG_RECORD_SYSTEM: rc = rec_system(p->r, rec) < 0 ? RUNLOG_ENOMEM : 0; break;
    case RUNLOG_RECORD_ALERT: rc = rec_alert(p->r, rec); break;
    case RUNLOG_RECORD_CONSOLE: rc = rec_console(p->r, rec); break;
    default: return 0;
    }
    if (rc == RUNLOG_ENOMEM)
        return runlog_error_set(rc, "%s: out of memory", p->run->paths[f]);
    return rc < 0 ? rx_bad_record(p->rx, rc) : 0;
}

static int write_records(h5x *x, hid_t rg, const records *r)
{
    hid_t sys = h5x_group(x, rg, "system"), al = h5x_group(x, rg, "alerts"),
          co = h5x_group(x, rg, "console");
    const char *what = "writing system samples, alerts, console";
    size_t i;
    int rc = sys < 0 || al < 0 || co < 0 ? h5x_fail(x, what) : 0;

    for (i = 0; i < r->nsys && rc == 0; i++)
        rc = write_series(x, sys, r->sys[i].key, &r->sys[i].s);
    if (rc == 0 && (h5x_column_str(x, al, "title", r->nalerts, r->title) < 0 ||
                    h5x_column_str(x, al, "text", r->nalerts, r->text) < 0 ||
                    h5x_column_str(x, al, "level", r->nalerts, r->level) < 0 ||
                    h5x_column(x, al, "timestamp", H5T_NATIVE_DOUBLE, r->nalerts, r->at) < 0 ||
                    h5x_column_str(x, co, "stream", r->nconsole, r->stream) < 0 ||
                    h5x_column(x, co, "timestamp", H5T_NATIVE_DOUBLE, r->nconsole, r->ct) < 0 ||
                    h5x_column_str(x, co, "text", r->nconsole, r->ctext) < 0))
        rc = h5x_fail(x, what);
    if (sys >= 0)
        H5Gclose(sys);
    if (al >= 0)
        H5Gclose(al);
    if (co >= 0)
        H5Gclose(co);
    return rc;
}

/* ------------------------------------------------------------------ */
/* A run, the file, the export                                          */
/* ------------------------------------------------------------------ */

static int export_history(h5x *x, hid_t g, const hrun *run, h5x_hist *h, progress *p)
{
    hid_t hist = h5x_group(x, g, "history");
    size_t i, n = runlog_runset_key_count(run->set, run->index);
    int rc = hist < 0 ? h5x_fail(x, "history") : 0;

    for (i = 0; i < n && rc == 0; i++) {
        rc = export_key(x, g, hist, run, h, i);
        progress_step(p);
    }
    if (hist >= 0)
        H5Gclose(hist);
    return rc;
}

static int export_artifacts(h5x *x, hid_t g, const hrun *run, int with_data)
{
    const runlog_value **arts = calloc(run->n, sizeof *arts);
    h5x_blobs b;
    size_t f;
    int rc;

    if (!arts)
        return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", x->out);
    for (f = 0; f < run->n; f++)
        arts[f] = runlog_run_artifacts(run->runs[f]);
    b.readers = run->readers;
    b.paths = run->paths;
    b.damaged = run->damaged;
    b.n = run->n;
    rc = h5x_artifacts(x, g, &b, arts, with_data);
    free(arts);
    return rc;
}

static int export_run(h5x *x, hid_t runs, const hrun *run, const hopts *o, progress *p)
{
    h5x_hist *h = NULL;
    records r;
    pass_ctx pc = {x->rx, run, &r};
    char *name;
    hid_t g;
    int rc;

    /* One pass over each file: every key's history and the records. */
    memset(&r, 0, sizeof r);
    if ((rc = h5x_hist_read(&h, run, on_record, &pc)) < 0) {
        records_free(&r);
        return rc;
    }
    name = h5x_escape(run->id, strlen(run->id), H5X_RES_NONE);
    g = name ? h5x_group(x, runs, name) : H5I_INVALID_HID;
    free(name);
    if (g < 0)
        rc = h5x_fail(x, "creating the run group");
    if (rc == 0)
        rc = run_attrs(x, g, run);
    if (rc == 0)
        rc = write_tree(x, g, "config", runlog_runset_config(run->set, run->index));
    if (rc == 0)
        rc = write_tree(x, g, "summary", runlog_runset_summary(run->set, run->index));
    if (rc == 0)
        rc = write_tree(x, g, "metadata", runlog_runset_metadata(run->set, run->index));
    if (rc == 0)
        rc = export_history(x, g, run, h, p);
    h5x_hist_free(h);
    if (rc == 0)
        rc = write_records(x, g, &r);
    records_free(&r);
    if (rc == 0)
        rc = export_artifacts(x, g, run, o->with_data);
    progress_step(p);
    if (g >= 0)
        H5Gclose(g);
    return rc;
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
    progress p = {x->rx, 0, 0};
    hid_t rg = h5x_group(x, x->file, "runs");
    size_t i;
    int rc = rg < 0 || root_attrs(x, x->file, o) < 0 ? h5x_fail(x, "creating /runs") : 0;

    for (i = 0; i < nruns; i++)
        p.total += runlog_runset_key_count(runs[i].set, runs[i].index) + 1;
    rx_progress(x->rx, 0, p.total);
    for (i = 0; i < nruns && rc == 0; i++)
        rc = export_run(x, rg, &runs[i], o, &p);
    if (rc == 0)
        rc = h5x_runs_index(x, runs, nruns);
    if (rc == 0)
        rc = h5x_name_links(x, runs, nruns);
    if (rg >= 0)
        H5Gclose(rg);
    return rc;
}

/* Creates the temporary file beside out exclusively, under a random name
 * (so two exports to one output, in one process or not, never share it):
 * *fd stays open, to check that HDF5 opened this very file. */
static int make_temp(const char *out, char **tmp, int *fd)
{
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[8];
    char *name = malloc(strlen(out) + sizeof ".tmp-XXXXXXXX");
    int tries, k, err = EEXIST;

    if (!name)
        return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", out);
    for (tries = 0; tries < 100 && err == EEXIST; tries++) {
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
            err = errno;
            break;
        }
        sprintf(name, "%s.tmp-", out);
        for (k = 0; k < 8; k++)
            name[strlen(out) + 5 + k] = digits[rnd[k] % (sizeof digits - 1)];
        name[strlen(out) + 13] = '\0';
        *fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (*fd >= 0) {
            *tmp = name;
            return 0;
        }
        err = errno;
    }
    free(name);
    return runlog_error_set(RUNLOG_EIO, "%s: cannot create the output: %s", out, strerror(err));
}

static hid_t create_file(const char *tmp, int tmp_fd)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = H5I_INVALID_HID;
    struct stat a, b;
    int *hfd;

    /* The 1.8 object format: dense attribute storage (many config keys,
     * large attributes) and creation-order indexes; h5py reads it. A
     * strong close: H5Fclose() closes whatever is still open in the file. */
    if (fapl >= 0 && H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) >= 0 &&
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0)
        f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    /* HDF5 opens by name: the file it opened must be the one we created. */
    if (f >= 0 && (H5Fget_vfd_handle(f, H5P_DEFAULT, (void **)&hfd) < 0 || fstat(*hfd, &a) < 0 ||
                   fstat(tmp_fd, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)) {
        H5Fclose(f);
        f = H5I_INVALID_HID;
    }
    return f;
}

/*
 * HDF5 before 1.14.1 (Debian 12 has 1.10.8) frees a file's state when
 * H5Fclose() fails on a write (a full disk while flushing) yet keeps its
 * id, and closes that id again from its atexit handler: the process dies of
 * SIGSEGV at exit (HDFGroup/hdf5 PR #2291). A failed H5Fflush() is no
 * better: the close that must follow fails the same way. So no flush may
 * fail on a write:
 * - before the final flush, the blocks it may write are reserved with
 *   fallocate(): what lies below the end of allocation (EOA) plus the
 *   metadata cache's size and a margin; if that fails (ENOSPC), the export
 *   fails there, before HDF5 has written anything that could fail;
 * - a file that is thrown away (that, or any other failure) gets its
 *   descriptor pointed at an anonymous memory file before the close, so the
 *   close's own writes cannot fail. Its bytes were going to be unlinked
 *   anyway.
 * A file system without fallocate() is written without the reservation.
 */
static void divert_writes(hid_t f)
{
    int *fd, m;

    if (H5Fget_vfd_handle(f, H5P_DEFAULT, (void **)&fd) < 0)
        return;
    if ((m = memfd_create("runlog-hdf5-discarded", MFD_CLOEXEC)) < 0)
        return;
    dup2(m, *fd);
    close(m);
}

static int reserve_flush(h5x *x, hid_t f, int fd)
{
    size_t max_size, min_clean, cur_size;
    int nentries;
    haddr_t eoa;
    off_t want;

    if (H5Fget_eoa(f, &eoa) < 0 ||
        H5Fget_mdc_size(f, &max_size, &min_clean, &cur_size, &nentries) < 0)
        return h5x_fail(x, "writing the output");
    want = (off_t)eoa + (off_t)cur_size + ((off_t)1 << 16);
    if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, want) == 0 || errno == EOPNOTSUPP ||
        errno == ENOSYS)
        return 0;
    return runlog_error_set(RUNLOG_EIO, "%s: writing the output: %s", x->out, strerror(errno));
}

static int close_file(h5x *x, hid_t f, int failed, int fd)
{
    struct stat st;
    int rc = 0;

    if (!failed && (rc = reserve_flush(x, f, fd)) < 0)
        failed = 1;
    if (failed)
        divert_writes(f);
    if (H5Fclose(f) < 0 && rc == 0)
        rc = h5x_fail(x, "closing the output");
    /* Give back the blocks reserved past the end of the file. */
    if (rc == 0 && !failed && fstat(fd, &st) == 0)
        (void)ftruncate(fd, st.st_size);
    return rc;
}

/* Creates OUT.tmp-XXXXXXXX, exports, renames it over OUT; removes it on
 * failure. */
static int write_output(h5x *x, hrun *runs, size_t nruns, const hopts *o)
{
    char *tmp = NULL;
    hid_t f;
    int rc, crc, fd = -1;

    if ((rc = make_temp(x->out, &tmp, &fd)) < 0)
        return rc;
    x->tmp = tmp;
    f = create_file(tmp, fd);
    if (f < 0) {
        rc = h5x_fail(x, "cannot create the output");
    } else {
        rc = h5x_init(x, f, o->compression, o->level) < 0 ? h5x_fail(x, "types") : 0;
        if (rc == 0)
            rc = export_all(x, runs, nruns, o);
        h5x_fini(x);
        crc = close_file(x, f, rc != 0, fd);
        if (rc == 0)
            rc = crc;
    }
    close(fd);
    if (rc == 0 && rename(tmp, x->out) < 0)
        rc = runlog_error_set(RUNLOG_EIO, "%s: %s", x->out, strerror(errno));
    if (rc != 0)
        unlink(tmp);
    x->tmp = NULL;
    free(tmp);
    return rc;
}

/* Everything but HDF5's process state (installed by rx_export_hdf5). */
static int export_inputs(rx_ctx *rx, h5x *x, const hopts *o)
{
    runlog_runset_options so = RUNLOG_RUNSET_OPTIONS_INIT;
    runlog_runset *set;
    hrun *runs = NULL;
    size_t i, nruns = 0;
    int rc;

    so.flags = rx_read_flags(rx);
    if ((rc = runlog_runset_open(&set, rx->inputs, rx->n, &so)) < 0)
        return rx->n == 1 ? h5x_lib_fail(rx->inputs[0], rc) : rc;
    for (i = 0; i < runlog_runset_duplicate_count(set); i++)
        rx_notice(rx, RUNLOG_NOTICE_WARNING, "%s: the same file as %s (file UUID); exported once",
                  runlog_runset_duplicate_path(set, i), runlog_runset_duplicate_of(set, i));
    rc = runs_make(rx, set, &runs, &nruns);
    if (rc == 0)
        rc = write_output(x, runs, nruns, o);
    runs_free(runs, nruns);
    runlog_runset_free(set);
    return rc;
}

int rx_export_hdf5(rx_ctx *rx)
{
    H5E_auto2_t old_func = NULL;
    void *old_data = NULL;
    int rc, registered = 0, have_auto;
    hopts o;
    h5x x;

    if ((rc = check_options(rx->o, &o)) < 0)
        return rc;
    memset(&x, 0, sizeof x);
    x.out = rx->out;
    x.rx = rx;
    /* We report HDF5 errors ourselves (h5x_fail), once, with the path; the
     * caller's handler (HDF5's printer by default) comes back after. */
    have_auto = H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data) >= 0;
    H5Eset_auto2(H5E_DEFAULT, h5x_save_error, &x);
    if (o.compression == H5X_ZSTD && H5Zfilter_avail(RUNLOG_H5ZSTD_ID) <= 0) {
        if (H5Zregister(&rx_h5zstd_class) < 0)
            rc = runlog_error_set(RUNLOG_EIO, "%s: cannot register the zstd HDF5 filter",
                                  rx->out);
        else
            registered = 1;
    }
    if (rc == 0)
        rc = export_inputs(rx, &x, &o);
    if (registered)
        H5Zunregister(RUNLOG_H5ZSTD_ID);
    if (have_auto)
        H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    H5Eclear2(H5E_DEFAULT);
    return rc;
}
