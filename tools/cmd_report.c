/*
 * cmd_report.c — `runlog report PATH... -o report.html [--strict]`: files
 * and folders into a list of run-logs, then runlog_export(RUNLOG_EXPORT_REPORT)
 * (lib/export/report.c, spec/EXPORTS.md §13).
 *
 * A folder is searched for *.runlog by the library's one search
 * (runlog_find_runlogs(), the one `runlog ls` uses): recursively, in name
 * order (so that the page's runs come in the same order every time), never
 * through a symbolic link.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

typedef struct path_list {
    char **p;
    size_t n, cap;
} path_list;

/* Appends the run-logs under path (the library's search: runlog_find_runlogs);
 * TOOL_OK or TOOL_FAIL (printed). */
static int add_path(path_list *l, const char *path)
{
    char **found = NULL;
    size_t n = 0, i;
    int rc = runlog_find_runlogs(&found, &n, path);

    if (rc < 0)
        return tool_lib_error(path, rc);
    if (n == 0)
        fprintf(stderr, "runlog report: %s: no *.runlog file in it\n", path);
    if (l->n + n > l->cap) {
        size_t cap = l->cap ? l->cap : 16;
        char **grown;
        while (cap < l->n + n)
            cap *= 2;
        if (!(grown = realloc(l->p, cap * sizeof *grown))) {
            runlog_paths_free(found);
            return tool_lib_error(path, RUNLOG_ENOMEM);
        }
        l->p = grown;
        l->cap = cap;
    }
    for (i = 0; i < n; i++) {
        l->p[l->n++] = found[i]; /* handed over */
        found[i] = NULL;
    }
    free(found);
    return TOOL_OK;
}

int cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"strict", no_argument, NULL, 's'},
        {NULL, 0, NULL, 0}};
    runlog_export_options opts = RUNLOG_EXPORT_OPTIONS_INIT;
    path_list files = {NULL, 0, 0};
    const char *out = NULL;
    size_t i;
    int c, rc = TOOL_OK;

    opts.format = RUNLOG_EXPORT_REPORT;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 's': opts.damage = RUNLOG_DAMAGE_STRICT; break;
        default: return tool_bad_option("report", argv, c);
        }
    }
    if (argc - optind < 1)
        return tool_usage("report", "expected at least one PATH (a run-log or a folder)");
    if (!out)
        return tool_usage("report", "-o OUT.html is required ('-' for stdout)");
    for (; rc == TOOL_OK && optind < argc; optind++)
        rc = add_path(&files, argv[optind]);
    if (rc == TOOL_OK && files.n == 0) {
        fprintf(stderr, "runlog report: no run-log found\n");
        rc = TOOL_FAIL;
    }
    if (rc == TOOL_OK) {
        if (strcmp(out, "-") == 0) {
            opts.out_fd = 1;
            out = NULL;
        }
        rc = tool_export("report", (const char *const *)files.p, files.n, out, &opts);
    }
    for (i = 0; i < files.n; i++)
        free(files.p[i]);
    free(files.p);
    return rc;
}
