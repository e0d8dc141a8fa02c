/*
 * hdf5_runs.c — which inputs of RUNLOG_EXPORT_HDF5 are one run, and the
 * merge of several files of one run (spec/HDF5.md §3): history rows by
 * step, config by key; any disagreement is an error naming both files,
 * never a silent overwrite.
 *
 * Kept behind the h5x_runs_* / h5x_run_* interface of h5x.h on purpose:
 * the library's run-set (runlog_runset) will replace this file, and the
 * rest of the HDF5 export should not need to change when it does.
 */
#include "h5x.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int h5x_runs_make(h5x_input *in, size_t n, h5x_run **out, size_t *nruns)
{
    h5x_run *runs = calloc(n ? n : 1, sizeof *runs);
    size_t i, k, j, count = 0;

    if (!runs)
        return runlog_error_set(RUNLOG_ENOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        for (k = 0; k < count; k++)
            if (strcmp(runs[k].in[0]->id, in[i].id) == 0)
                break;
        if (k == count && !(runs[count++].in = calloc(n, sizeof(h5x_input *)))) {
            h5x_runs_free(runs, count);
            return runlog_error_set(RUNLOG_ENOMEM, "out of memory");
        }
        for (j = runs[k].n; j > 0 && runs[k].in[j - 1]->start > in[i].start; j--)
            runs[k].in[j] = runs[k].in[j - 1];
        runs[k].in[j] = &in[i];
        runs[k].n++;
    }
    /* A file given twice (same file UUID): its records are read once. */
    for (k = 0; k < count; k++)
        for (i = 1; i < runs[k].n; i++)
            for (j = 0; j < i; j++)
                if (memcmp(runlog_reader_file_uuid(runs[k].in[i]->r),
                           runlog_reader_file_uuid(runs[k].in[j]->r), 16) == 0)
                    runs[k].in[i]->skip_records = 1;
    *out = runs;
    *nruns = count;
    return 0;
}

void h5x_runs_free(h5x_run *runs, size_t nruns)
{
    size_t i;

    for (i = 0; runs && i < nruns; i++)
        free(runs[i].in);
    free(runs);
}

int h5x_values_equal(const runlog_value *a, const runlog_value *b)
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

int h5x_run_check_identity(const h5x_run *run)
{
    static const char *const keys[] = {"project", "name", "group", "job_type", "notes", "tags"};
    const runlog_value *a = runlog_run_identity(run->in[0]->run), *b;
    size_t i, k;

    for (i = 1; i < run->n; i++) {
        b = runlog_run_identity(run->in[i]->run);
        for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (!h5x_values_equal(runlog_value_get(a, keys[k]), runlog_value_get(b, keys[k])))
                return runlog_error_set(RUNLOG_ESTATE,
                                        "%s and %s: run %s: identity differs (%s); not merged",
                                        run->in[0]->path, run->in[i]->path, run->in[0]->id,
                                        keys[k]);
    }
    return 0;
}

int h5x_run_merge_map(const h5x_run *run, const runlog_value *(*get)(const runlog_run *),
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
        return runlog_error_set(RUNLOG_ENOMEM, "out of memory");
    }
    for (f = 0; f < run->n; f++) {
        const runlog_value *m = get(run->in[f]->run);
        cnt = m && runlog_value_type(m) == RUNLOG_MAP ? runlog_value_count(m) : 0;
        for (i = 0; i < cnt; i++) {
            const char *key = runlog_value_key(m, i, NULL);
            const runlog_value *v = runlog_value_item(m, i);
            for (k = 0; k < n && strcmp(kv[k].key, key) != 0; k++)
                ;
            if (k < n && strict && owner[k] != f && !h5x_values_equal(kv[k].v, v)) {
                int rc = runlog_error_set(RUNLOG_ESTATE,
                                          "%s and %s: run %s: %s key '%s' differs; not merged",
                                          run->in[owner[k]]->path, run->in[f]->path,
                                          run->in[0]->id, what, key);
                free(kv);
                free(owner);
                return rc;
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

const char **h5x_run_keys(const h5x_run *run, size_t *out_n)
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

/* ---- history series ---- */

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

static int cells_equal(const h5x_cell *a, const h5x_cell *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case RUNLOG_FLOAT: return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0; /* bit-exact */
    case RUNLOG_INT:
    case RUNLOG_BOOL:
    case RUNLOG_NULL: return a->u.i == b->u.i;
    default: return h5x_values_equal(a->u.v, b->u.v);
    }
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

int h5x_series_merge(h5x_series *out, h5x_series *in, size_t n, const h5x_run *run,
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
        for (f = ref + 1; f < n && rc == 0; f++) {
            int differ;
            if (pos[f] >= in[f].n || in[f].step[pos[f]] != s)
                continue;
            differ = step_run(&in[f], pos[f]) != len;
            for (k = 0; k < len && !differ; k++)
                differ = !cells_equal(&in[ref].c[pos[ref] + k], &in[f].c[pos[f] + k]);
            if (differ) {
                /* The cells know their file (a file without the key has no
                 * series here, so f is not the file's index). */
                rc = runlog_error_set(RUNLOG_ESTATE,
                                      "%s and %s: run %s: key '%s' at step %" PRIu64
                                      " differs; not merged",
                                      run->in[in[ref].c[pos[ref]].src]->path,
                                      run->in[in[f].c[pos[f]].src]->path, run->in[0]->id, key, s);
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
