/*
 * cmd_export_wandb.c — `runlog export wandb FILE... -o DIR [--entity E]
 * [--project P] [--strict] [--tolerant] [--hash-references]`: argv into runlog_export_options,
 * then runlog_export(RUNLOG_EXPORT_WANDB) (lib/export/wandb.c,
 * spec/EXPORTS.md §10).
 */
#include <getopt.h>
#include <string.h>

#include "util.h"

int cmd_export_wandb(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"entity", required_argument, NULL, 'e'},
        {"project", required_argument, NULL, 'p'},
        {"strict", no_argument, NULL, 's'},
        {"tolerant", no_argument, NULL, 't'}, /* the default now; kept for scripts */
        {"hash-references", no_argument, NULL, 'H'},
        {NULL, 0, NULL, 0}};
    runlog_export_options opts = RUNLOG_EXPORT_OPTIONS_INIT;
    const char *dir = NULL;
    int c;

    opts.format = RUNLOG_EXPORT_WANDB;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': dir = optarg; break;
        case 'e': opts.wandb_entity = optarg; break;
        case 'p': opts.wandb_project = optarg; break;
        case 's': opts.damage = RUNLOG_DAMAGE_STRICT; break;
        case 't': opts.damage = RUNLOG_DAMAGE_TOLERANT; break;
        case 'H': opts.wandb_hash_references = 1; break;
        default: return tool_bad_option("export wandb", argv, c);
        }
    }
    if (argc - optind < 1)
        return tool_usage("export", "wandb: expected at least one FILE");
    if (!dir)
        return tool_usage("export", "wandb: -o DIR is required");
    return tool_export("export wandb", (const char *const *)(argv + optind),
                       (size_t)(argc - optind), dir, &opts);
}
