/*
 * cmd_history.c — `runlog history FILE KEY... [--strict]`: each key's
 * history as CSV with the columns key,step,timestamp,value on stdout
 * (lib/export/csv.c; spec/EXPORTS.md "history"). A key that never appears
 * is reported and makes the exit status 1; the other keys are still
 * written.
 */
#include <unistd.h>

#include "util.h"

int cmd_history(int argc, char **argv)
{
    runlog_export_options opts = RUNLOG_EXPORT_OPTIONS_INIT;
    int strict, status = tool_strict_option(argc, argv, &strict);
    const char *path;

    if (status != TOOL_OK)
        return status;
    if (argc - optind < 2)
        return tool_usage(argv[0], "expected FILE and at least one KEY");
    path = argv[optind];
    opts.format = RUNLOG_EXPORT_HISTORY;
    opts.damage = strict ? RUNLOG_DAMAGE_STRICT : RUNLOG_DAMAGE_TOLERANT;
    opts.keys = (const char *const *)(argv + optind + 1);
    opts.nkeys = (size_t)(argc - optind - 1);
    opts.out_fd = 1;
    return tool_export(argv[0], &path, 1, NULL, &opts);
}
