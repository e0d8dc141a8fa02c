/*
 * cmd_history.c — `runlog history FILE KEY...`: each key's history as CSV
 * with the columns key,step,timestamp,value (spec/EXPORTS.md "history").
 */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Writes one key's rows; a library error code or 0. */
static int history_key(runlog_reader *r, const char *key)
{
    runlog_history *h;
    char buf[RLU_NUM_MAX];
    size_t i, n;
    int rc = runlog_reader_history(&h, r, key);

    if (rc < 0)
        return rc;
    n = runlog_history_length(h);
    for (i = 0; i < n && rc == 0; i++) {
        csv_field(stdout, key, strlen(key));
        rlu_fmt_unix(buf, runlog_history_times(h)[i]);
        printf(",%" PRIu64 ",%s,", runlog_history_steps(h)[i], buf);
        rc = csv_value(stdout, runlog_history_value(h, i));
        putchar('\n');
    }
    runlog_history_free(h);
    return rc;
}

int cmd_history(int argc, char **argv)
{
    int status = tool_no_options(argc, argv), rc, i;
    runlog_reader *r;
    const char *path;

    if (status != TOOL_OK)
        return status;
    if (argc - optind < 2)
        return tool_usage(argv[0], "expected FILE and at least one KEY");
    path = argv[optind];
    /* `>> FILE` would append the dump to the run-log itself. */
    if (tool_check_output(NULL, &path, 1) != TOOL_OK ||
        tool_open_reader(&r, path, RUNLOG_READ_TOLERANT) != TOOL_OK)
        return TOOL_FAIL;
    puts("key,step,timestamp,value");
    for (i = optind + 1; i < argc; i++) {
        rc = history_key(r, argv[i]);
        if (rc == RUNLOG_ENOTFOUND) {
            fflush(stdout);
            fprintf(stderr, "runlog: %s: no history for key '%s'\n", path, argv[i]);
            status = TOOL_FAIL;
        } else if (rc < 0) {
            fflush(stdout);
            status = tool_lib_error(path, rc);
            break;
        }
    }
    runlog_reader_close(r);
    if (fflush(stdout) != 0)
        status = tool_sys_error("stdout");
    if (tool_warn_damage(path) != TOOL_OK)
        status = TOOL_FAIL;
    return status;
}
