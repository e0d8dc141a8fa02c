/*
 * hdf5.c — RUNLOG_EXPORT_HDF5: every run of inputs[0..n) into one HDF5 file
 * (spec/HDF5.md).
 *
 * Inputs are grouped by run id; each run becomes /runs/<id>. Several files
 * of one run (a resumed run kept in two files, or one file given twice) are
 * merged (hdf5_runs.c): history rows by step, config by key, and any
 * disagreement is an error naming both files, never a silent overwrite.
 *
 * Memory: history is read one key at a time (runlog_reader_history()), so
 * the exporter holds one key's series (of every file of the run) at once;
 * images and blobs one at a time. Alerts, console chunks and system samples
 * of a run are gathered in one pass and held until written.
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

typedef h5x_input input;
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

static int open_input(rx_ctx *x, input *in, const char *path)
{
    const runlog_value *ident;
    uint64_t before = x->damaged;
    int rc;

    memset(in, 0, sizeof *in);
    in->path = path;
    if ((rc = rx_open_reader(x, &in->r, path)) < 0)
        return h5x_lib_fail(path, rc);
    if ((rc = runlog_reader_run(&in->run, in->r)) < 0)
        return h5x_lib_fail(path, rc);
    ident = runlog_run_identity(in->run);
    in->id = rlu_map_str(ident, "id", NULL);
    if (!in->id || !in->id[0])
        return runlog_error_set(RUNLOG_ECORRUPT, "%s: the run has no id", path);
    if (!rlu_map_int(ident, "start_time", &in->start))
        in->start = runlog_reader_created(in->r);
    /* Tolerant: name the byte ranges that were skipped. */
    if (rx_tolerant(x) && (rc = rx_report_damage(x, path)) < 0)
        return h5x_lib_fail(path, rc);
    in->damaged = x->damaged > before;
    return 0;
}

static void close_input(input *in)
{
    runlog_run_free(in->run);
    runlog_reader_close(in->r);
}

/* ------------------------------------------------------------------ */
/* Identity, config, summary, metadata                                  */
/* ------------------------------------------------------------------ */

static int write_tree(h5x *x, hid_t g, const hrun *run, const char *name,
                      const runlog_value *(*get)(const runlog_run *), int strict)
{
    h5x_kv *kv;
    size_t n;
    int rc = h5x_run_merge_map(run, get, name, strict, &kv, &n);

    if (rc < 0)
        return rc;
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
                         ? h5x_attr_i64(x, g, "exit_code", runlog_run_exit_code(last))
                         : h5x_attr_null(x, g, "exit_code")) < 0 ||
                    attr_time(x, g, "start_time", run->in[0]->start) < 0 ||
                    attr_time(x, g, "end_time", end) < 0 ||
                    (any_rows ? h5x_attr_u64(x, g, "last_step", last_step)
                              : h5x_attr_null(x, g, "last_step")) < 0 ||
                    h5x_attr_u64(x, g, "resumes", resumes) < 0 ||
                    h5x_attr_strs(x, g, "files", run->n, names) < 0))
        rc = -1;
    if (rc == 0 && run->n == 1 && h5x_attr_u64(x, g, "rows", runlog_run_rows(last)) < 0)
        rc = -1;
    free(names);
    free(tagv);
    return rc < 0 ? h5x_fail(x, "writing run attributes") : 0;
}

/* ------------------------------------------------------------------ */
/* History                                                              */
/* ------------------------------------------------------------------ */

/* The entries of h inside the snapshot of its file (spec/EXPORTS.md
 * §1.5): steps never go back in a file, so the rows appended by a live
 * writer after the export started are those past the snapshot's last
 * step. */
static int series_load(series *s, const runlog_history *h, size_t src, const runlog_run *snap)
{
    size_t i, n = runlog_history_length(h);
    const uint64_t *steps = runlog_history_steps(h);

    if (runlog_run_rows(snap) == 0)
        n = 0;
    while (n > 0 && steps[n - 1] > runlog_run_last_step(snap))
        n--;
    if (h5x_series_alloc(s, n) < 0)
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
        x->skip_bad_blobs = in->damaged;
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
    x->skip_bad_blobs = 0;
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
            rc = h5x_lib_fail(run->in[f]->path, lrc);
        else if (series_load(&in[used++], h[f], f, run->in[f]->run) < 0)
            rc = h5x_fail(x, "out of memory");
    }
    if (rc == 0 && used > 0) {
        if (used == 1)
            s = &in[0];
        else if ((rc = h5x_series_merge(&merged, in, used, run, key)) == 0)
            s = &merged;
    }
    if (rc == 0 && s)
        rc = write_series(x, hist, key, s);
    if (rc == 0 && s)
        rc = write_media(x, rg, key, s, run);
    if (s == &merged)
        h5x_series_free(&merged);
    for (f = 0; in && f < run->n; f++)
        h5x_series_free(&in[f]);
    for (f = 0; h && f < run->n; f++)
        runlog_history_free(h[f]);
    free(in);
    free(h);
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

/* One pass over a file's records (a second reader: the first one's
 * iteration state is left alone), inside the file's snapshot. */
static int read_records(rx_ctx *rx, records *r, const input *in)
{
    runlog_reader *rd;
    const runlog_record *rec;
    rx_quota q;
    int rc;

    if ((rc = rx_open_reader(rx, &rd, in->path)) < 0)
        return h5x_lib_fail(in->path, rc);
    rx_quota_init(&q, in->run);
    while ((rc = runlog_reader_next(rd, &rec)) == 0) {
        runlog_record_type type = runlog_record_type_of(rec);
        if ((type == RUNLOG_RECORD_SYSTEM || type == RUNLOG_RECORD_ALERT ||
             type == RUNLOG_RECORD_CONSOLE) && !rx_quota_take(&q, type))
            continue;
        switch (type) {
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
    if (rc == RUNLOG_ENOMEM)
        return runlog_error_set(rc, "%s: out of memory", in->path);
    return rc == RUNLOG_ITEROVER ? 0 : h5x_lib_fail(in->path, rc);
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

static const runlog_value *get_config(const runlog_run *r) { return runlog_run_config(r); }
static const runlog_value *get_summary(const runlog_run *r) { return runlog_run_summary(r); }
static const runlog_value *get_metadata(const runlog_run *r) { return runlog_run_metadata(r); }

static int export_history(h5x *x, hid_t g, const hrun *run, progress *p)
{
    hid_t hist = h5x_group(x, g, "history");
    size_t i, n = 0;
    const char **keys = h5x_run_keys(run, &n);
    int rc = hist < 0 || !keys ? h5x_fail(x, "history") : 0;

    for (i = 0; i < n && rc == 0; i++) {
        rc = export_key(x, g, hist, run, keys[i]);
        progress_step(p);
    }
    free(keys);
    if (hist >= 0)
        H5Gclose(hist);
    return rc;
}

static int export_records(h5x *x, hid_t g, const hrun *run)
{
    records r;
    size_t f;
    int rc = 0;

    memset(&r, 0, sizeof r);
    for (f = 0; f < run->n && rc == 0; f++)
        if (!run->in[f]->skip_records)
            rc = read_records(x->rx, &r, run->in[f]);
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
    int *damaged = calloc(run->n, sizeof *damaged);
    h5x_blobs b;
    size_t f;
    int rc;

    if (!readers || !paths || !arts || !damaged) {
        rc = runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", x->out);
    } else {
        for (f = 0; f < run->n; f++) {
            readers[f] = run->in[f]->r;
            paths[f] = run->in[f]->path;
            arts[f] = runlog_run_artifacts(run->in[f]->run);
            damaged[f] = run->in[f]->damaged;
        }
        b.readers = readers;
        b.paths = paths;
        b.damaged = damaged;
        b.n = run->n;
        rc = h5x_artifacts(x, g, &b, arts, with_data);
    }
    free(readers);
    free(paths);
    free(arts);
    free(damaged);
    return rc;
}

static int export_run(h5x *x, hid_t runs, const hrun *run, const hopts *o, progress *p)
{
    char *name;
    hid_t g;
    int rc;

    if ((rc = h5x_run_check_identity(run)) < 0)
        return rc;
    name = h5x_escape(run->in[0]->id, strlen(run->in[0]->id), H5X_RES_NONE);
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
        rc = export_records(x, g, run);
    if (rc == 0)
        rc = export_artifacts(x, g, run, o->with_data);
    progress_step(p);
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
    size_t i, nkeys;
    const char **keys;
    int rc = rg < 0 || root_attrs(x, x->file, o) < 0 ? h5x_fail(x, "creating /runs") : 0;

    for (i = 0; i < nruns; i++) {
        if ((keys = h5x_run_keys(&runs[i], &nkeys)) != NULL)
            p.total += nkeys;
        free(keys);
        p.total++;
    }
    rx_progress(x->rx, 0, p.total);
    for (i = 0; i < nruns && rc == 0; i++)
        rc = export_run(x, rg, &runs[i], o, &p);
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
    input *in;
    hrun *runs = NULL;
    size_t i, nopen = 0, nruns = 0;
    int rc = 0;

    if (!(in = calloc(rx->n, sizeof *in)))
        return runlog_error_set(RUNLOG_ENOMEM, "out of memory");
    for (i = 0; i < rx->n && rc == 0; i++, nopen++)
        rc = open_input(rx, &in[i], rx->inputs[i]);
    if (rc == 0)
        rc = h5x_runs_make(in, rx->n, &runs, &nruns);
    if (rc == 0)
        rc = write_output(x, runs, nruns, o);
    h5x_runs_free(runs, nruns);
    for (i = 0; i < nopen; i++)
        close_input(&in[i]);
    free(in);
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
