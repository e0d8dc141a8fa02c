/*
 * hdf5_history.c — every key's history of a run of RUNLOG_EXPORT_HDF5, read
 * in one pass over each file of the run (spec/HDF5.md §1 "Memory", §6).
 *
 * runlog_reader_history() (and runlog_runset_history(), built on it) reads
 * one key: each call decodes every frame that holds the key, and a frame of
 * a wide run holds every key, so K keys cost K passes over the file (issue
 * 17: 10 000 keys x 600 steps took 148 s). Here one cursor pass over each
 * file (the same pass gathers system samples, alerts and console chunks)
 * hands each row's fields to their keys' series.
 *
 * Numbers, bools and nulls are copied into the series. A key that holds any
 * other value (text, bytes, lists, maps, media among them) cannot keep it:
 * the value lives in the cursor's record, and the library has no copy of a
 * value. Such a key ("complex") is dropped from the pass and read alone,
 * merged by runlog_runset_history(), when it is written; those keys are few
 * (media, phases), so the per-key cost stays off the wide numeric case.
 *
 * The files' series of a key are merged by step exactly as
 * runlog_runset_history() merges (spec/EXPORTS.md §11.5): steps in order;
 * at a step several files hold, the first file's entries. The run set has
 * checked at open that the files agree there (§11.3).
 *
 * A library all-keys read would replace this file; its interface is
 * h5x_hist_* (h5x.h).
 */
#include "h5x.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct hkey {
    const char *name; /* the run set's */
    h5x_series s;     /* the entries of every file, file after file */
    size_t cap;
    int complex;
} hkey;

struct h5x_hist {
    const h5x_run *run;
    size_t nkeys;
    hkey *keys;
    size_t *slots; /* open addressing: key index + 1, 0 empty */
    size_t nslots; /* a power of two, at least twice nkeys */
    size_t last;   /* the key h5x_hist_series() gave last (freed at the next) */
    h5x_series merged;
    runlog_history *h; /* the complex key's */
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static size_t key_find(const h5x_hist *h, const char *key)
{
    size_t s = (size_t)hash_str(key) & (h->nslots - 1);

    for (; h->slots[s]; s = (s + 1) & (h->nslots - 1))
        if (strcmp(h->keys[h->slots[s] - 1].name, key) == 0)
            return h->slots[s] - 1;
    return (size_t)-1;
}

void h5x_series_free(h5x_series *s)
{
    free(s->step);
    free(s->t);
    free(s->c);
    memset(s, 0, sizeof *s);
}

int h5x_series_alloc(h5x_series *s, size_t n)
{
    memset(s, 0, sizeof *s);
    s->step = malloc((n ? n : 1) * sizeof *s->step);
    s->t = malloc((n ? n : 1) * sizeof *s->t);
    s->c = malloc((n ? n : 1) * sizeof *s->c);
    if (!s->step || !s->t || !s->c) {
        h5x_series_free(s);
        return -1;
    }
    return 0;
}

static int key_grow(hkey *k)
{
    size_t cap = k->cap ? 2 * k->cap : 16;
    void *p;

    if ((p = realloc(k->s.step, cap * sizeof *k->s.step)) == NULL)
        return -1;
    k->s.step = p;
    if ((p = realloc(k->s.t, cap * sizeof *k->s.t)) == NULL)
        return -1;
    k->s.t = p;
    if ((p = realloc(k->s.c, cap * sizeof *k->s.c)) == NULL)
        return -1;
    k->s.c = p;
    k->cap = cap;
    return 0;
}

/* One committed row of file f. */
static int add_row(h5x_hist *h, size_t f, const runlog_record *rec)
{
    size_t i, n = runlog_record_field_count(rec);
    uint64_t step = runlog_record_step(rec);
    int64_t t = runlog_record_time(rec);

    for (i = 0; i < n; i++) {
        const char *name = runlog_record_field_key(rec, i);
        const runlog_value *v = runlog_record_field_value(rec, i);
        size_t ki = key_find(h, name);
        runlog_type type = runlog_value_type(v);
        hkey *k;
        h5x_cell *c;

        /* The run's keys come from the same records (runlog_reader_run()):
         * a key outside them is not lost silently. */
        if (ki == (size_t)-1)
            return runlog_error_set(RUNLOG_ESTATE,
                                    "%s: byte %" PRIu64 ": history key '%s' is not among the "
                                    "run's keys", h->run->paths[f],
                                    runlog_record_frame_offset(rec), name);
        k = &h->keys[ki];
        if (k->complex)
            continue;
        if (type != RUNLOG_INT && type != RUNLOG_FLOAT && type != RUNLOG_BOOL &&
            type != RUNLOG_NULL) {
            k->complex = 1; /* read alone when written */
            h5x_series_free(&k->s);
            k->cap = 0;
            continue;
        }
        if (k->s.n == k->cap && key_grow(k) < 0)
            return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory reading the history",
                                    h->run->paths[f]);
        k->s.step[k->s.n] = step;
        k->s.t[k->s.n] = t;
        c = &k->s.c[k->s.n++];
        c->type = (uint8_t)type;
        c->src = (uint32_t)f;
        if (type == RUNLOG_FLOAT)
            c->u.f = runlog_value_float(v);
        else if (type == RUNLOG_INT)
            c->u.i = runlog_value_int(v);
        else if (type == RUNLOG_BOOL)
            c->u.i = runlog_value_bool(v);
        else
            c->u.i = 0;
    }
    return 0;
}

/* The pass over file f, inside its snapshot (spec/EXPORTS.md §1.5). */
static int read_file(h5x_hist *h, size_t f, h5x_record_fn on_record, void *ctx)
{
    const h5x_run *run = h->run;
    const runlog_record *rec;
    runlog_cursor *c;
    rx_quota q;
    int rc;

    if ((rc = runlog_cursor_open(&c, run->readers[f])) < 0)
        return h5x_lib_fail(run->paths[f], rc);
    rx_quota_init(&q, run->runs[f]);
    while ((rc = runlog_cursor_next(c, &rec)) == 0) {
        runlog_record_type type = runlog_record_type_of(rec);
        if (type != RUNLOG_RECORD_HISTORY && type != RUNLOG_RECORD_SYSTEM &&
            type != RUNLOG_RECORD_ALERT && type != RUNLOG_RECORD_CONSOLE)
            continue;
        if (!rx_quota_take(&q, type))
            continue;
        if (type == RUNLOG_RECORD_HISTORY)
            rc = add_row(h, f, rec);
        else if (on_record)
            rc = on_record(ctx, f, rec);
        if (rc != 0)
            break;
    }
    runlog_cursor_close(c);
    if (rc == RUNLOG_ITEROVER)
        return 0;
    /* add_row and on_record set their details; the cursor's get the path. */
    return rc == 0 ? 0 : h5x_lib_fail(run->paths[f], rc);
}

void h5x_hist_free(h5x_hist *h)
{
    size_t i;

    if (!h)
        return;
    for (i = 0; i < h->nkeys; i++)
        h5x_series_free(&h->keys[i].s);
    h5x_series_free(&h->merged);
    runlog_history_free(h->h);
    free(h->keys);
    free(h->slots);
    free(h);
}

int h5x_hist_read(h5x_hist **out, const h5x_run *run, h5x_record_fn on_record, void *ctx)
{
    h5x_hist *h = calloc(1, sizeof *h);
    size_t i, f, s;
    int rc = 0;

    if (!h)
        return runlog_error_set(RUNLOG_ENOMEM, "out of memory");
    h->run = run;
    h->last = (size_t)-1;
    h->nkeys = runlog_runset_key_count(run->set, run->index);
    for (h->nslots = 16; h->nslots < 2 * h->nkeys; h->nslots *= 2)
        ;
    h->keys = calloc(h->nkeys ? h->nkeys : 1, sizeof *h->keys);
    h->slots = calloc(h->nslots, sizeof *h->slots);
    if (!h->keys || !h->slots) {
        h5x_hist_free(h);
        return runlog_error_set(RUNLOG_ENOMEM, "out of memory");
    }
    for (i = 0; i < h->nkeys; i++) {
        h->keys[i].name = runlog_runset_key(run->set, run->index, i);
        for (s = (size_t)hash_str(h->keys[i].name) & (h->nslots - 1); h->slots[s];
             s = (s + 1) & (h->nslots - 1))
            ;
        h->slots[s] = i + 1;
    }
    for (f = 0; f < run->n && rc == 0; f++)
        rc = read_file(h, f, on_record, ctx);
    if (rc != 0) {
        h5x_hist_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

/* ---- merging the files' series of a key ---- */

static int cells_equal(const h5x_cell *a, const h5x_cell *b)
{
    if (a->type != b->type)
        return 0;
    if (a->type == RUNLOG_FLOAT)
        return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0; /* bit-exact */
    return a->u.i == b->u.i;
}

/* Entries of s from i on that share s->step[i]. */
static size_t step_run(const h5x_series *s, size_t i)
{
    size_t j = i;

    while (j < s->n && s->step[j] == s->step[i])
        j++;
    return j - i;
}

static void series_put(h5x_series *out, const h5x_series *s, size_t i, size_t len)
{
    memcpy(out->step + out->n, s->step + i, len * sizeof *s->step);
    memcpy(out->t + out->n, s->t + i, len * sizeof *s->t);
    memcpy(out->c + out->n, s->c + i, len * sizeof *s->c);
    out->n += len;
}

/* The n per-file series in (merge order) merged by step into out. */
static int series_merge(h5x_series *out, const h5x_series *in, size_t n, const h5x_run *run,
                        const char *key)
{
    size_t total = 0, f, *pos = calloc(n, sizeof *pos), ref, len, k;
    uint64_t s = 0;
    int rc = 0;

    for (f = 0; f < n; f++)
        total += in[f].n;
    if (!pos || h5x_series_alloc(out, total) < 0) {
        free(pos);
        return runlog_error_set(RUNLOG_ENOMEM, "out of memory");
    }
    for (;;) {
        ref = n;
        for (f = 0; f < n; f++)
            if (pos[f] < in[f].n && (ref == n || in[f].step[pos[f]] < s))
                ref = f, s = in[f].step[pos[f]];
        if (ref == n)
            break;
        len = step_run(&in[ref], pos[ref]);
        for (f = ref + 1; f < n; f++) {
            int differ;
            if (pos[f] >= in[f].n || in[f].step[pos[f]] != s)
                continue;
            differ = step_run(&in[f], pos[f]) != len;
            for (k = 0; k < len && !differ; k++)
                differ = !cells_equal(&in[ref].c[pos[ref] + k], &in[f].c[pos[f] + k]);
            /* runlog_runset_open() checked these steps; they cannot differ
             * inside the snapshot, but a disagreement is never merged. */
            if (differ) {
                rc = runlog_error_set(RUNLOG_EINVAL,
                                      "%s and %s: run %s: key '%s' at step %" PRIu64
                                      " differs: not one run",
                                      run->paths[in[ref].c[pos[ref]].src],
                                      run->paths[in[f].c[pos[f]].src], run->id, key, s);
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
        h5x_series_free(out);
    return rc;
}

/* A complex key: runlog_runset_history(), each entry kept when it lies in
 * its file's snapshot (steps never go back in a file, so the rows a live
 * writer appended after the export started are those past the snapshot's
 * last step). */
static int load_complex(h5x_hist *h, const char *key)
{
    const h5x_run *run = h->run;
    size_t i, n, k = 0;
    const uint64_t *steps;
    const int64_t *times;
    int rc = runlog_runset_history(&h->h, run->set, run->index, key);

    if (rc == RUNLOG_ENOTFOUND)
        return h5x_series_alloc(&h->merged, 0) < 0 ? runlog_error_set(RUNLOG_ENOMEM, "out of memory") : 0;
    if (rc < 0)
        return run->n == 1 ? h5x_lib_fail(run->paths[0], rc) : rc;
    n = runlog_history_length(h->h);
    steps = runlog_history_steps(h->h);
    times = runlog_history_times(h->h);
    if (h5x_series_alloc(&h->merged, n) < 0)
        return runlog_error_set(RUNLOG_ENOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        size_t f = runlog_history_file(h->h, i);
        const runlog_run *snap = run->runs[f < run->n ? f : 0];
        const runlog_value *v = runlog_history_value(h->h, i);
        h5x_cell *c = &h->merged.c[k];
        if (runlog_run_rows(snap) == 0 || steps[i] > runlog_run_last_step(snap))
            continue;
        h->merged.step[k] = steps[i];
        h->merged.t[k] = times[i];
        c->type = (uint8_t)runlog_value_type(v);
        c->src = (uint32_t)f;
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
        k++;
    }
    h->merged.n = k;
    return 0;
}

int h5x_hist_series(h5x_hist *h, size_t i, const h5x_series **out)
{
    const h5x_run *run = h->run;
    h5x_series *views = NULL;
    hkey *k;
    size_t j, nv = 0;
    int rc;

    /* What the last call gave is written: free it. */
    if (h->last < h->nkeys)
        h5x_series_free(&h->keys[h->last].s);
    h5x_series_free(&h->merged);
    runlog_history_free(h->h);
    h->h = NULL;
    h->last = i;
    if (i >= h->nkeys)
        return runlog_error_set(RUNLOG_EINVAL, "history key %zu of %zu", i, h->nkeys);
    k = &h->keys[i];
    if (k->complex) {
        if ((rc = load_complex(h, k->name)) < 0)
            return rc;
        *out = &h->merged;
        return 0;
    }
    /* One file holds the key: its entries are the series. */
    if (k->s.n == 0 || k->s.c[0].src == k->s.c[k->s.n - 1].src) {
        *out = &k->s;
        return 0;
    }
    /* Each file's entries are contiguous (file after file): views. */
    if (!(views = calloc(run->n, sizeof *views)))
        return runlog_error_set(RUNLOG_ENOMEM, "out of memory");
    for (j = 0; j < k->s.n; j++) {
        if (j == 0 || k->s.c[j].src != k->s.c[j - 1].src) {
            views[nv].step = k->s.step + j;
            views[nv].t = k->s.t + j;
            views[nv].c = k->s.c + j;
            nv++;
        }
        views[nv - 1].n++;
    }
    rc = series_merge(&h->merged, views, nv, run, k->name);
    free(views);
    if (rc < 0)
        return rc;
    *out = &h->merged;
    return 0;
}
