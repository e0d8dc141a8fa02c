/*
 * cmd_dump.c — `runlog dump FILE [--strict]`: every record as one JSON
 * object per line on stdout (lib/export/dump.c; spec/EXPORTS.md "dump").
 */
#include <unistd.h>

#include "util.h"

int cmd_dump(int argc, char **argv)
{
    runlog_export_options opts = RUNLOG_EXPORT_OPTIONS_INIT;
    int strict, status = tool_strict_option(argc, argv, &strict);
    const char *path;

    if (status != TOOL_OK)
        return status;
    if (argc - optind != 1)
        return tool_usage(argv[0], "expected one FILE");
    path = argv[optind];
    opts.format = RUNLOG_EXPORT_DUMP;
    opts.damage = strict ? RUNLOG_DAMAGE_STRICT : RUNLOG_DAMAGE_TOLERANT;
    opts.out_fd = 1;
    return tool_export(argv[0], &path, 1, NULL, &opts);
}
