/*
 * cmd_ls.c — `runlog ls [PATH...]`: the runs table (runlog_runs_open(),
 * spec/EXPORTS.md §12) as aligned columns, JSON or CSV. The library finds,
 * reads, merges, filters and orders the runs; this file parses the options
 * and renders cells for people.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* A cell for people: '-' when missing, the id shortened, times to the
 * second, durations as h:mm:ss, numbers bare, other values as JSON. */
static char *cell_text(const char *column, const runlog_value *v)
{
    rlu_buf b = {0};
    char num[RLU_NUM_MAX];
    size_t len;
    const char *s;
    char *json;

    switch (runlog_value_type(v)) {
    case RUNLOG_NULL:
        rlu_puts(&b, "-");
        break;
    case RUNLOG_BOOL:
        rlu_puts(&b, runlog_value_bool(v) ? "true" : "false");
        break;
    case RUNLOG_INT:
        rlu_printf(&b, "%" PRId64, runlog_value_int(v));
        break;
    case RUNLOG_FLOAT:
        if (strcmp(column, "duration") == 0 && isfinite(runlog_value_float(v))) {
            double d = runlog_value_float(v);
            uint64_t sec = (uint64_t)(d + 0.5);
            rlu_printf(&b, "%" PRIu64 ":%02u:%02u", sec / 3600, (unsigned)(sec / 60 % 60), (unsigned)(sec % 60));
        } else {
            snprintf(num, sizeof num, "%.6g", runlog_value_float(v));
            rlu_puts(&b, num);
        }
        break;
    case RUNLOG_STRING:
        s = runlog_value_string(v, &len);
        if (strcmp(column, "id") == 0 && len > 8)
            len = 8;
        else if (strcmp(column, "start") == 0 && len >= 19)
            len = 19; /* YYYY-MM-DDTHH:MM:SS */
        for (size_t i = 0; i < len; i++)
            rlu_put(&b, (unsigned char)s[i] < 0x20 ? " " : s + i, 1); /* one line per run */
        break;
    default:
        if (runlog_value_to_json(&json, v, 0) == 0) {
            rlu_puts(&b, json);
            runlog_free(json);
        }
        break;
    }
    return rlu_take(&b);
}

/* Display width of UTF-8 text: its code points (no wide-character tables). */
static size_t width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int print_table(const runlog_runs *t, const char *group_by)
{
    size_t rows = runlog_runs_count(t), cols = runlog_runs_column_count(t);
    char **text = calloc(rows * cols + 1, sizeof *text);
    size_t *w = calloc(cols + 1, sizeof *w);
    int rc = TOOL_OK, grouped = group_by != NULL;

    if (!text || !w) {
        free(text);
        free(w);
        fprintf(stderr, "runlog ls: out of memory\n");
        return TOOL_FAIL;
    }
    for (size_t c = 0; c < cols; c++)
        w[c] = width(runlog_runs_column(t, c));
    for (size_t r = 0; r < rows && rc == TOOL_OK; r++)
        for (size_t c = 0; c < cols; c++) {
            char **cell = &text[r * cols + c];
            if (!(*cell = cell_text(runlog_runs_column(t, c), runlog_runs_cell(t, r, c)))) {
                rc = TOOL_FAIL;
                break;
            }
            if (width(*cell) > w[c])
                w[c] = width(*cell);
        }
    for (size_t r = 0; r <= rows && rc == TOOL_OK; r++) {
        int starts = r == 0 || (grouped && r < rows &&
                                runlog_runs_group_index(t, r) != runlog_runs_group_index(t, r - 1));
        if (grouped && r < rows && starts) {
            /* A group starts: its value and its size, then the header again. */
            size_t n = 1;
            char *g = cell_text("group", runlog_runs_group(t, r));
            while (r + n < rows && runlog_runs_group_index(t, r + n) == runlog_runs_group_index(t, r))
                n++;
            printf("%s== %s=%s (%zu run%s)\n", r ? "\n" : "", group_by, g ? g : "-", n,
                   n == 1 ? "" : "s");
            free(g);
        }
        if (starts) {
            for (size_t c = 0; c < cols; c++) {
                const char *h = runlog_runs_column(t, c);
                printf("%s%s", c ? "  " : "", h);
                if (c + 1 < cols)
                    for (size_t pad = width(h); pad < w[c]; pad++)
                        putchar(' ');
            }
            putchar('\n');
        }
        if (r == rows)
            break;
        for (size_t c = 0; c < cols; c++) {
            const char *s = text[r * cols + c];
            /* Left-aligned; the padding counts code points, not bytes. */
            printf("%s%s", c ? "  " : "", s);
            if (c + 1 < cols)
                for (size_t pad = width(s); pad < w[c]; pad++)
                    putchar(' ');
        }
        putchar('\n');
    }
    for (size_t i = 0; i < rows * cols; i++)
        free(text[i]);
    free(text);
    free(w);
    if (rc != TOOL_OK)
        fprintf(stderr, "runlog ls: out of memory\n");
    return rc;
}

int cmd_ls(int argc, char **argv)
{
    static const struct option longopts[] = {{"column", required_argument, NULL, 'c'},
                                             {"sort", required_argument, NULL, 's'},
                                             {"where", required_argument, NULL, 'w'},
                                             {"group-by", required_argument, NULL, 'g'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"csv", no_argument, NULL, 'v'},
                                             {NULL, 0, NULL, 0}};
    runlog_runs_options o = RUNLOG_RUNS_OPTIONS_INIT;
    const char **columns = calloc((size_t)argc + 1, sizeof *columns);
    const char *here[] = {"."};
    runlog_runs *t = NULL;
    int c, rc, json = 0, csv = 0, status = TOOL_OK;
    size_t ncol = 0;

    if (!columns) {
        fprintf(stderr, "runlog ls: out of memory\n");
        return TOOL_FAIL;
    }
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': columns[ncol++] = optarg; break;
        case 's': o.sort = optarg; break;
        case 'w': o.where = optarg; break;
        case 'g': o.group_by = optarg; break;
        case 'j': json = 1; break;
        case 'v': csv = 1; break;
        default:
            free(columns);
            return tool_bad_option(argv[0], argv, c);
        }
    }
    if (json && csv) {
        free(columns);
        return tool_usage(argv[0], "--json and --csv exclude each other");
    }
    o.columns = ncol ? columns : NULL;
    o.n_columns = ncol;
    rc = optind < argc ? runlog_runs_open(&t, (const char *const *)argv + optind, (size_t)(argc - optind), &o)
                       : runlog_runs_open(&t, here, 1, &o);
    free(columns);
    if (rc == RUNLOG_EINVAL) {
        fprintf(stderr, "runlog ls: %s\n", runlog_error_detail());
        return TOOL_USAGE;
    }
    if (rc < 0) {
        fprintf(stderr, "runlog: %s\n", runlog_error_detail());
        return TOOL_FAIL;
    }
    if (json || csv) {
        char *text = NULL;
        if ((json ? runlog_runs_to_json(&text, t) : runlog_runs_to_csv(&text, t)) < 0) {
            fprintf(stderr, "runlog: %s\n", runlog_error_detail());
            status = TOOL_FAIL;
        } else {
            fputs(text, stdout);
        }
        runlog_free(text);
    } else {
        status = print_table(t, o.group_by);
    }
    if (status == TOOL_OK && runlog_runs_damaged(t) > 0)
        status = TOOL_FAIL; /* listed, with their damage; the status says so too */
    runlog_runs_free(t);
    if (fflush(stdout) != 0)
        status = tool_sys_error("stdout");
    return status;
}
