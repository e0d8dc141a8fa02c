/*
 * cmd_report.c — `runlog report PATH... -o report.html [--strict]`: files
 * and folders into a list of run-logs, then runlog_export(RUNLOG_EXPORT_REPORT)
 * (lib/export/report.c, spec/EXPORTS.md §13).
 *
 * A folder is searched recursively for *.runlog, in name order (so that the
 * page's runs come in the same order every time); links to folders are not
 * followed (a loop would never end), links to files are. The library takes
 * files only: the scan is the command's.
 */
#include <dirent.h>
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

static int list_add(path_list *l, const char *path)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **grown = realloc(l->p, cap * sizeof *grown);
        if (!grown)
            return -1;
        l->p = grown;
        l->cap = cap;
    }
    if (!(l->p[l->n] = strdup(path)))
        return -1;
    l->n++;
    return 0;
}

static int ends_with_runlog(const char *name)
{
    size_t n = strlen(name);

    return n > 7 && strcmp(name + n - 7, ".runlog") == 0;
}

/* Adds the *.runlog files under dir (recursively); TOOL_OK or TOOL_FAIL
 * (printed). */
static int scan(path_list *l, const char *dir)
{
    struct dirent **names;
    int i, n = scandir(dir, &names, NULL, alphasort), rc = TOOL_OK;

    if (n < 0)
        return tool_sys_error(dir);
    for (i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        struct stat st;
        char *path;

        if (rc != TOOL_OK || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            goto next;
        if (!(path = malloc(strlen(dir) + strlen(name) + 2))) {
            rc = tool_sys_error(dir);
            goto next;
        }
        sprintf(path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
        if (lstat(path, &st) != 0)
            rc = tool_sys_error(path);
        else if (S_ISDIR(st.st_mode))
            rc = scan(l, path);
        else if (ends_with_runlog(name) && (S_ISREG(st.st_mode) ||
                                            (stat(path, &st) == 0 && S_ISREG(st.st_mode))))
            rc = list_add(l, path) == 0 ? TOOL_OK : tool_sys_error(path);
        free(path);
    next:
        free(names[i]);
    }
    free(names);
    return rc;
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
    for (; rc == TOOL_OK && optind < argc; optind++) {
        struct stat st;
        if (stat(argv[optind], &st) == 0 && S_ISDIR(st.st_mode)) {
            size_t before = files.n;
            rc = scan(&files, argv[optind]);
            if (rc == TOOL_OK && files.n == before)
                fprintf(stderr, "runlog report: %s: no *.runlog file in it\n", argv[optind]);
        } else if (list_add(&files, argv[optind]) != 0) {
            rc = tool_sys_error(argv[optind]);
        }
    }
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
