/*
 * hdf5_index.c — what RUNLOG_EXPORT_HDF5 writes above the runs, once every
 * run is under /runs (spec/HDF5.md §3.1, §3.2):
 *
 * - /runs_index: one compound row per run (id, identity, state, exit code,
 *   times, last step, tags, config, summary, the run's path), so that
 *   pandas.DataFrame(f["runs_index"][:]) is the sweep in one call;
 * - /projects/<project>/<name>: a soft link to /runs/<id> per project and
 *   name; when several runs share both, the one that started last (the
 *   later input on a tie) has the link.
 *
 * - /runs/<id>/tables_by_step/<key>/<step>: a soft link to the table's
 *   group under tables/<key>/<n>, written beside it.
 *
 * The first two read the run set's merged view only (runlog_runset_*), never the
 * history, so they stay apart from the one-pass history read.
 */
#include "h5x.h"

#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The path of run r's group: "/runs/" and the escaped id. malloc'd. */
static char *run_path(const h5x_run *r)
{
    char *name = h5x_escape(r->id, strlen(r->id), H5X_RES_NONE), *path;

    if (!name)
        return NULL;
    path = malloc(strlen(name) + sizeof "/runs/");
    if (path)
        sprintf(path, "/runs/%s", name);
    free(name);
    return path;
}

/* An identity text as a C string ("" when not given: a compound field
 * cannot be null). malloc'd. */
static char *ident_text(const runlog_value *ident, const char *key)
{
    size_t len;
    const char *s = rlu_map_str(ident, key, &len);

    return s ? strndup(s, len) : strdup("");
}

/* A merged map (config, summary) as the JSON text of its group's "json"
 * dataset (§4.1). malloc'd; NULL on failure. */
static char *map_json(const runlog_value *m)
{
    size_t i, n = m && runlog_value_type(m) == RUNLOG_MAP ? runlog_value_count(m) : 0;
    h5x_kv *kv = calloc(n + 1, sizeof *kv);
    char *text;

    if (!kv)
        return NULL;
    for (i = 0; i < n; i++) {
        kv[i].key = runlog_value_key(m, i, NULL);
        kv[i].v = runlog_value_item(m, i);
    }
    text = h5x_kv_json(kv, n);
    free(kv);
    return text;
}

/* ---- /runs_index ---- */

/* One row in memory; the file's type is this one packed. */
typedef struct index_row {
    char *id, *project, *name, *group, *job_type, *state;
    double exit_code, start_time, end_time, last_step;
    char *tags, *config, *summary, *path;
} index_row;

static void row_free(index_row *w)
{
    free(w->id);
    free(w->project);
    free(w->name);
    free(w->group);
    free(w->job_type);
    free(w->state);
    free(w->tags);
    free(w->config);
    free(w->summary);
    free(w->path);
}

static int row_make(index_row *w, const h5x_run *r)
{
    runlog_runset *set = r->set;
    size_t ri = r->index;
    const runlog_value *ident = runlog_runset_identity(set, ri);
    const runlog_value *tags = runlog_value_get(ident, "tags");
    runlog_state st = runlog_runset_state(set, ri);

    memset(w, 0, sizeof *w);
    w->id = strdup(r->id);
    w->project = ident_text(ident, "project");
    w->name = ident_text(ident, "name");
    w->group = ident_text(ident, "group");
    w->job_type = ident_text(ident, "job_type");
    w->state = strdup(runlog_state_name(st));
    /* NaN where the run has none: pandas' missing number. */
    w->exit_code = st == RUNLOG_STATE_FINISHED || st == RUNLOG_STATE_FAILED
                       ? (double)runlog_runset_exit_code(set, ri) : NAN;
    w->start_time = h5x_seconds(runlog_runset_start_time(set, ri));
    w->end_time = h5x_seconds(runlog_runset_end_time(set, ri));
    w->last_step = runlog_runset_rows(set, ri) > 0 ? (double)runlog_runset_last_step(set, ri)
                                                   : NAN;
    if (tags && runlog_value_to_json(&w->tags, tags, 0) == 0) {
        /* runlog_free()'d text: copied so that row_free() frees one way. */
        char *copy = strdup(w->tags);
        runlog_free(w->tags);
        w->tags = copy;
    } else if (!tags) {
        w->tags = strdup("[]");
    }
    w->config = map_json(runlog_runset_config(set, ri));
    w->summary = map_json(runlog_runset_summary(set, ri));
    w->path = run_path(r);
    return w->id && w->project && w->name && w->group && w->job_type && w->state && w->tags &&
                   w->config && w->summary && w->path ? 0 : -1;
}

/* The compound type of a row (in memory: native layout). */
static hid_t row_type(h5x *x)
{
    static const struct {
        const char *name;
        size_t off;
        int text;
    } f[] = {
        {"id", offsetof(index_row, id), 1},
        {"project", offsetof(index_row, project), 1},
        {"name", offsetof(index_row, name), 1},
        {"group", offsetof(index_row, group), 1},
        {"job_type", offsetof(index_row, job_type), 1},
        {"state", offsetof(index_row, state), 1},
        {"exit_code", offsetof(index_row, exit_code), 0},
        {"start_time", offsetof(index_row, start_time), 0},
        {"end_time", offsetof(index_row, end_time), 0},
        {"last_step", offsetof(index_row, last_step), 0},
        {"tags", offsetof(index_row, tags), 1},
        {"config", offsetof(index_row, config), 1},
        {"summary", offsetof(index_row, summary), 1},
        {"path", offsetof(index_row, path), 1},
    };
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(index_row));
    size_t i;

    for (i = 0; t >= 0 && i < sizeof f / sizeof f[0]; i++)
        if (H5Tinsert(t, f[i].name, f[i].off, f[i].text ? x->str_t : H5T_NATIVE_DOUBLE) < 0) {
            H5Tclose(t);
            t = H5I_INVALID_HID;
        }
    return t;
}

/* Chunked and extendible as every column (§2.1), without a filter: the
 * rows hold variable-length texts (§2.2). */
static int write_index(h5x *x, size_t n, const index_row *rows)
{
    hsize_t dims = n, maxd = H5S_UNLIMITED, chunk = n == 0 ? 1 : n < H5X_CHUNK ? n : H5X_CHUNK;
    hid_t mem = row_type(x), file = mem >= 0 ? H5Tcopy(mem) : H5I_INVALID_HID;
    hid_t space = H5Screate_simple(1, &dims, &maxd), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = H5I_INVALID_HID;
    int rc = -1;

    if (mem >= 0 && file >= 0 && H5Tpack(file) >= 0 && space >= 0 && dcpl >= 0 &&
        H5Pset_chunk(dcpl, 1, &chunk) >= 0 &&
        (d = H5Dcreate2(x->file, "runs_index", file, space, x->lcpl, dcpl, H5P_DEFAULT)) >= 0 &&
        (n == 0 || H5Dwrite(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0))
        rc = 0;
    if (d >= 0)
        H5Dclose(d);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    if (file >= 0)
        H5Tclose(file);
    if (mem >= 0)
        H5Tclose(mem);
    return rc;
}

int h5x_runs_index(h5x *x, const h5x_run *runs, size_t nruns)
{
    index_row *rows = calloc(nruns ? nruns : 1, sizeof *rows);
    size_t i, made = 0;
    int rc = rows ? 0 : -1;

    /* A row that fails holds what it got: freed with the others. */
    for (i = 0; rc == 0 && i < nruns; i++, made = i)
        rc = row_make(&rows[i], &runs[i]);
    if (rc < 0) {
        rc = runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", x->out);
    } else {
        rc = write_index(x, nruns, rows) < 0 ? h5x_fail(x, "writing /runs_index") : 0;
    }
    for (i = 0; rows && i < made; i++)
        row_free(&rows[i]);
    free(rows);
    return rc;
}

/* ---- /projects/<project>/<name> ---- */

typedef struct link_of {
    char *project, *name; /* escaped link names */
    const char *raw_project, *raw_name; /* as they are, for the notice (NULL: none) */
    int64_t start;
    size_t run;
} link_of;

/* By project, name, then start time and input order: the last of a run
 * of equal names is the one that gets the link. */
static int link_cmp(const void *pa, const void *pb)
{
    const link_of *a = pa, *b = pb;
    int c = strcmp(a->project, b->project);

    if (c == 0)
        c = strcmp(a->name, b->name);
    if (c == 0)
        c = a->start < b->start ? -1 : a->start > b->start;
    if (c == 0)
        c = a->run < b->run ? -1 : a->run > b->run;
    return c;
}

/* A link name from an identity text: escaped as one component (§2.4); a
 * missing or empty project is "%" (the empty name's escape); a missing or
 * empty name is the run id. */
static char *link_name(const runlog_value *ident, const char *key, const char *fallback)
{
    size_t len;
    const char *s = rlu_map_str(ident, key, &len);

    if (!s || len == 0) {
        s = fallback ? fallback : "";
        len = strlen(s);
    }
    return h5x_escape(s, len, H5X_RES_NONE);
}

static int make_link(h5x *x, hid_t projects, const link_of *l, const h5x_run *r)
{
    hid_t pg = h5x_group(x, projects, l->project);
    char *target = run_path(r);
    int rc = pg >= 0 && target &&
                     H5Lcreate_soft(target, pg, l->name, x->lcpl, H5P_DEFAULT) >= 0 ? 0 : -1;

    free(target);
    if (pg >= 0)
        H5Gclose(pg);
    return rc;
}

int h5x_name_links(h5x *x, const h5x_run *runs, size_t nruns)
{
    link_of *l = calloc(nruns ? nruns : 1, sizeof *l);
    hid_t projects = H5I_INVALID_HID;
    size_t i, same;
    int rc = l ? 0 : runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", x->out);

    for (i = 0; rc == 0 && i < nruns; i++) {
        const runlog_value *ident = runlog_runset_identity(runs[i].set, runs[i].index);
        l[i].project = link_name(ident, "project", NULL);
        l[i].name = link_name(ident, "name", runs[i].id);
        l[i].raw_project = rlu_map_str(ident, "project", NULL);
        l[i].raw_name = rlu_map_str(ident, "name", NULL);
        l[i].start = runlog_runset_start_time(runs[i].set, runs[i].index);
        l[i].run = i;
        if (!l[i].project || !l[i].name)
            rc = runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", x->out);
    }
    if (rc == 0) {
        qsort(l, nruns, sizeof *l, link_cmp);
        projects = h5x_group(x, x->file, "projects");
        if (projects < 0)
            rc = h5x_fail(x, "creating /projects");
    }
    for (i = 0; rc == 0 && i < nruns; i += same) {
        for (same = 1; i + same < nruns && strcmp(l[i].project, l[i + same].project) == 0 &&
                       strcmp(l[i].name, l[i + same].name) == 0; same++)
            ;
        if (same > 1)
            rx_notice(x->rx, RUNLOG_NOTICE_WARNING,
                      "%s: %zu runs named '%s' in project '%s': /projects/%s/%s links to the "
                      "one that started last (%s)",
                      x->out, same, l[i].raw_name ? l[i].raw_name : "",
                      l[i].raw_project ? l[i].raw_project : "", l[i].project, l[i].name,
                      runs[l[i + same - 1].run].id);
        if (make_link(x, projects, &l[i + same - 1], &runs[l[i + same - 1].run]) < 0)
            rc = h5x_fail(x, "writing /projects");
    }
    if (projects >= 0)
        H5Gclose(projects);
    for (i = 0; l && i < nruns; i++) {
        free(l[i].project);
        free(l[i].name);
    }
    free(l);
    return rc;
}

/* ---- tables_by_step/<key>/<step> ---- */

int h5x_table_step_link(h5x *x, hid_t rg, hid_t *by_step, const char *key, hid_t tables,
                        const char *name, uint64_t step)
{
    char stepname[24], *target = NULL;
    ssize_t len = H5Iget_name(tables, NULL, 0);
    htri_t exists;
    hid_t parent;
    int rc = -1;

    if (*by_step < 0) {
        parent = h5x_group(x, rg, "tables_by_step");
        *by_step = parent >= 0 ? h5x_key_group(x, parent, key, H5X_RES_DIGITS) : H5I_INVALID_HID;
        if (parent >= 0)
            H5Gclose(parent);
        if (*by_step < 0)
            return -1;
    }
    if (len <= 0 || !(target = malloc((size_t)len + strlen(name) + 2)))
        return -1;
    snprintf(stepname, sizeof stepname, "%" PRIu64, step);
    if (H5Iget_name(tables, target, (size_t)len + 1) == len) {
        sprintf(target + len, "/%s", name);
        /* Several rows at one step: the last one's table, as `export csv
         * --table KEY@STEP` takes it. */
        exists = H5Lexists(*by_step, stepname, H5P_DEFAULT);
        if (exists >= 0 && (!exists || H5Ldelete(*by_step, stepname, H5P_DEFAULT) >= 0) &&
            H5Lcreate_soft(target, *by_step, stepname, x->lcpl, H5P_DEFAULT) >= 0)
            rc = 0;
    }
    free(target);
    return rc;
}
