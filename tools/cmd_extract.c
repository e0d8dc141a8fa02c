/*
 * cmd_extract.c — `runlog extract FILE --artifact NAME[:vN|:ALIAS] -o DIR`
 * and `runlog extract FILE --images -o DIR` [--strict]: argv into
 * runlog_export_options for tool_export(); the files are written by
 * librunlog-export (lib/export/extract.c; spec/EXPORTS.md "extract"), which
 * checks every path of the (untrusted) file and never follows a link.
 */
#include <getopt.h>
#include <string.h>

#include "util.h"

typedef struct extract_opts {
    const char *path, *artifact, *dir;
    int images, strict;
} extract_opts;

static int parse_extract(int argc, char **argv, extract_opts *o)
{
    static const struct option longopts[] = {
        {"artifact", required_argument, NULL, 'a'},
        {"images", no_argument, NULL, 'i'},
        {"output", required_argument, NULL, 'o'},
        {"strict", no_argument, NULL, 'S'},
        {NULL, 0, NULL, 0}};
    int c;

    memset(o, 0, sizeof *o);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'a': o->artifact = optarg; break;
        case 'i': o->images = 1; break;
        case 'o': o->dir = optarg; break;
        case 'S': o->strict = 1; break;
        default: return tool_bad_option(argv[0], argv, c);
        }
    }
    if (argc - optind != 1)
        return tool_usage(argv[0], "expected one FILE");
    o->path = argv[optind];
    if (!o->artifact == !o->images)
        return tool_usage(argv[0], "give either --artifact NAME or --images");
    if (!o->dir || !o->dir[0] || strcmp(o->dir, "-") == 0)
        return tool_usage(argv[0], "-o DIR is required (a folder)");
    if (o->artifact && !o->artifact[0])
        return tool_usage(argv[0], "--artifact needs a name");
    return TOOL_OK;
}

int cmd_extract(int argc, char **argv)
{
    runlog_export_options opts = RUNLOG_EXPORT_OPTIONS_INIT;
    extract_opts o;
    int status = parse_extract(argc, argv, &o);

    if (status != TOOL_OK)
        return status;
    opts.format = o.images ? RUNLOG_EXPORT_IMAGES : RUNLOG_EXPORT_ARTIFACT;
    opts.artifact = o.artifact;
    opts.damage = o.strict ? RUNLOG_DAMAGE_STRICT : RUNLOG_DAMAGE_TOLERANT;
    return tool_export(argv[0], &o.path, 1, o.dir, &opts);
}
