/*
 * cmd_export_hdf5.c — `runlog export hdf5 FILE... -o OUT.h5` (spec/HDF5.md):
 * argv into runlog_export_options, then tool_export(). The export itself is
 * librunlog-export's (lib/export/hdf5.c).
 */
#include <getopt.h>
#include <string.h>

#include "util.h"

static int parse_compression(const char *s, runlog_export_options *o)
{
    const char *colon = strchr(s, ':');
    size_t n = colon ? (size_t)(colon - s) : strlen(s);
    int level;

    if (n == 4 && strncmp(s, "none", 4) == 0 && !colon) {
        o->hdf5_compression = RUNLOG_HDF5_NONE;
        o->hdf5_level = -1;
        return 0;
    }
    if (n == 4 && strncmp(s, "gzip", 4) == 0) {
        o->hdf5_compression = RUNLOG_HDF5_GZIP;
        if (colon && (tool_parse_int(colon + 1, &level) < 0 || level < 0 || level > 9))
            return -1;
    } else if (n == 4 && strncmp(s, "zstd", 4) == 0) {
        o->hdf5_compression = RUNLOG_HDF5_ZSTD;
        if (colon && (tool_parse_int(colon + 1, &level) < 0 || level < 1 || level > 22))
            return -1;
    } else {
        return -1;
    }
    o->hdf5_level = colon ? level : -1; /* -1: the compression's default */
    return 0;
}

int cmd_export_hdf5(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"compression", required_argument, NULL, 'c'},
        {"with-artifact-data", no_argument, NULL, 'a'},
        {"tolerant", no_argument, NULL, 't'},
        {"strict", no_argument, NULL, 's'},
        {NULL, 0, NULL, 0}};
    runlog_export_options o = RUNLOG_EXPORT_OPTIONS_INIT;
    const char *out = NULL;
    int c;

    o.format = RUNLOG_EXPORT_HDF5;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'c':
            if (parse_compression(optarg, &o) < 0)
                return tool_usage("export", "bad --compression '%s' (gzip[:0-9], zstd[:1-22] "
                                  "or none)", optarg);
            break;
        case 'a': o.hdf5_artifact_data = 1; break;
        /* --tolerant is the default now (spec/EXPORTS.md §1.5); kept so
         * that scripts written for the old default still run. */
        case 't': o.damage = RUNLOG_DAMAGE_TOLERANT; break;
        case 's': o.damage = RUNLOG_DAMAGE_STRICT; break;
        default: return tool_bad_option("export", argv, c);
        }
    }
    if (optind >= argc)
        return tool_usage("export", "hdf5 needs at least one FILE");
    if (!out || strcmp(out, "-") == 0)
        return tool_usage("export", "hdf5 needs -o OUT.h5 (a file, not stdout)");
    return tool_export("export hdf5", (const char *const *)argv + optind,
                       (size_t)(argc - optind), out, &o);
}
