/*
 * wandb_runs.c — the input files of RUNLOG_EXPORT_WANDB grouped into runs
 * (spec/EXPORTS.md §10 "Runs"): files with equal run ids are one run (a
 * requeued job that wrote a new run-log with the same id), in order of
 * start time; runs come in the order of their first file.
 *
 * Files are not de-duplicated: a file given twice is two parts of its run.
 * This whole file is to be replaced by the library's run set
 * (runlog_runset), which also merges by file UUID; wandb.c sees only the
 * interface in wandb.h.
 */
#include "wandb.h"

#include <stdlib.h>
#include <string.h>

struct wb_runs {
    wb_src *srcs;
    size_t n_srcs;
    wb_src **order; /* every file, grouped by run, each group by start */
    size_t *first;  /* run i is order[first[i] .. first[i + 1]) */
    size_t n_runs;
};

static int open_src(rx_ctx *x, wb_src *s, const char *path)
{
    runlog_reader_options ro = RUNLOG_READER_OPTIONS_INIT;
    int rc;

    s->path = path;
    /* Blobs are looked up by digest wherever they are; the pass over the
     * records with r applies the damage policy to every frame. */
    ro.flags = RUNLOG_READ_TOLERANT;
    if ((rc = rx_open_reader(x, &s->r, path)) < 0 ||
        (rc = runlog_reader_open(&s->blobs, path, &ro)) < 0 ||
        (rc = runlog_reader_run(&s->run, s->r)) < 0)
        return wb_lib_error(path, rc);
    s->id = rlu_map_str(runlog_run_identity(s->run), "id", NULL);
    if (!s->id || !*s->id)
        return runlog_error_set(RUNLOG_ENOTFOUND,
                                "%s: the run has no id (its run_start record is lost)", path);
    if (!rlu_map_int(runlog_run_identity(s->run), "start_time", &s->start))
        s->start = runlog_reader_created(s->r);
    return 0;
}

int wb_runs_open(wb_runs **out, rx_ctx *x)
{
    wb_runs *s = calloc(1, sizeof *s);
    size_t f, g, i, n;
    int rc = 0;

    if (!s || !(s->srcs = calloc(x->n, sizeof *s->srcs)) ||
        !(s->order = calloc(x->n, sizeof *s->order)) ||
        !(s->first = calloc(x->n + 1, sizeof *s->first))) {
        wb_runs_free(s);
        return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", x->out);
    }
    s->n_srcs = x->n;
    for (f = 0; f < x->n && rc == 0; f++)
        rc = open_src(x, &s->srcs[f], x->inputs[f]);
    if (rc < 0) {
        wb_runs_free(s);
        return rc;
    }
    /* grouped by id in order of first appearance; each group sorted by
     * start time (insertion sort: a handful of files) */
    for (n = 0, f = 0; f < x->n; f++) {
        for (i = 0; i < n && strcmp(s->order[i]->id, s->srcs[f].id) != 0; i++)
            ;
        if (i < n)
            continue; /* its run is grouped already */
        s->first[s->n_runs++] = n;
        for (g = f; g < x->n; g++) {
            if (strcmp(s->srcs[g].id, s->srcs[f].id) != 0)
                continue;
            for (i = n++; i > s->first[s->n_runs - 1] && s->order[i - 1]->start > s->srcs[g].start;
                 i--)
                s->order[i] = s->order[i - 1];
            s->order[i] = &s->srcs[g];
        }
    }
    s->first[s->n_runs] = n;
    *out = s;
    return 0;
}

size_t wb_runs_count(const wb_runs *s)
{
    return s->n_runs;
}

wb_src **wb_runs_files(wb_runs *s, size_t i, size_t *n)
{
    *n = s->first[i + 1] - s->first[i];
    return s->order + s->first[i];
}

void wb_runs_free(wb_runs *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; s->srcs && i < s->n_srcs; i++) {
        runlog_run_free(s->srcs[i].run);
        runlog_reader_close(s->srcs[i].r);
        runlog_reader_close(s->srcs[i].blobs);
    }
    free(s->srcs);
    free(s->order);
    free(s->first);
    free(s);
}
