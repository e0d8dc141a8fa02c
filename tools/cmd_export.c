/*
 * cmd_export.c — `runlog export json|csv FILE [-o OUT] [--history-jsonl]
 * [--nan null|string] [--long] [--table KEY[@STEP]] [--strict]` and `runlog
 * export csv --with-run FILE...`: argv into runlog_export_options
 * for tool_export(); the converters are librunlog-export's (lib/export/json.c,
 * csv.c; spec/EXPORTS.md "export json", "export csv").
 */
#include <getopt.h>
#include <string.h>

#include "util.h"

typedef struct export_opts {
    const char *format, *out;
    const char *const *paths;
    size_t npaths;
    const char *table; /* --table KEY[@STEP] */
    const char *nan;   /* --nan null|string */
    int history_jsonl, long_csv, strict, with_run;
} export_opts;

static int parse_export(int argc, char **argv, export_opts *o)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"history-jsonl", no_argument, NULL, 'j'},
        {"long", no_argument, NULL, 'l'},
        {"table", required_argument, NULL, 'T'},
        {"strict", no_argument, NULL, 'S'},
        {"nan", required_argument, NULL, 'N'},
        {"with-run", no_argument, NULL, 'R'},
        {NULL, 0, NULL, 0}};
    int c;

    memset(o, 0, sizeof *o);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o->out = optarg; break;
        case 'j': o->history_jsonl = 1; break;
        case 'l': o->long_csv = 1; break;
        case 'T': o->table = optarg; break;
        case 'S': o->strict = 1; break;
        case 'N': o->nan = optarg; break;
        case 'R': o->with_run = 1; break;
        default: return tool_bad_option(argv[0], argv, c);
        }
    }
    if (argc - optind < 2 || (argc - optind > 2 && !o->with_run))
        return tool_usage(argv[0], "expected a format (json or csv) and one FILE%s",
                          argc - optind > 2 ? " (several with csv --with-run)" : "");
    o->format = argv[optind];
    o->paths = (const char *const *)argv + optind + 1;
    o->npaths = (size_t)(argc - optind - 1);
    if (strcmp(o->format, "json") != 0 && strcmp(o->format, "csv") != 0)
        return tool_usage(argv[0], "unknown format '%s' (json or csv)", o->format);
    if (o->long_csv && strcmp(o->format, "csv") != 0)
        return tool_usage(argv[0], "--long applies to csv only");
    if (o->history_jsonl && strcmp(o->format, "json") != 0)
        return tool_usage(argv[0], "--history-jsonl applies to json only");
    if (o->nan && strcmp(o->format, "json") != 0)
        return tool_usage(argv[0], "--nan applies to json only");
    if (o->nan && strcmp(o->nan, "null") != 0 && strcmp(o->nan, "string") != 0)
        return tool_usage(argv[0], "--nan takes null or string, not '%s'", o->nan);
    if (o->table && (strcmp(o->format, "csv") != 0 || o->long_csv))
        return tool_usage(argv[0], "--table applies to csv only, without --long");
    if (o->with_run && (strcmp(o->format, "csv") != 0 || o->long_csv || o->table))
        return tool_usage(argv[0], "--with-run applies to csv only, without --long or --table");
    return TOOL_OK;
}

int cmd_export(int argc, char **argv)
{
    runlog_export_options opts = RUNLOG_EXPORT_OPTIONS_INIT;
    export_opts o;
    int status = parse_export(argc, argv, &o);

    if (status != TOOL_OK)
        return status;
    if (o.format[0] == 'j')
        opts.format = o.history_jsonl ? RUNLOG_EXPORT_JSONL : RUNLOG_EXPORT_JSON;
    else if (o.table)
        opts.format = RUNLOG_EXPORT_CSV_TABLE;
    else
        opts.format = o.long_csv ? RUNLOG_EXPORT_CSV_LONG : RUNLOG_EXPORT_CSV;
    opts.table = o.table;
    opts.json_nan_null = o.nan && strcmp(o.nan, "null") == 0;
    opts.csv_with_run = o.with_run;
    opts.damage = o.strict ? RUNLOG_DAMAGE_STRICT : RUNLOG_DAMAGE_TOLERANT;
    if (!o.out || strcmp(o.out, "-") == 0) {
        o.out = NULL;
        opts.out_fd = 1;
    }
    return tool_export(argv[0], o.paths, o.npaths, o.out, &opts);
}
