/*
 * runlog.c — the `runlog` command: dispatch to subcommands and help.
 * Exit status: 0 success, 1 damage or failure, 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include "util.h"

int cmd_export_wandb(int argc, char **argv); /* cmd_export_wandb.c */
int cmd_export_hdf5(int argc, char **argv);  /* cmd_export_hdf5.c */
int cmd_report(int argc, char **argv);       /* cmd_report.c */

static const tool_cmd commands[] = {
    {"info", cmd_info, "runlog info FILE [--json]",
     "Shows the run's identity, state (running, finished, failed, crashed), exit code,\n"
     "rows, last step, keys, record counts, file size, raw and stored payload bytes,\n"
     "the compression ratio, and any damage found (byte offset, length, what).\n"
     "  --json   print one JSON object instead (spec/EXPORTS.md \"info\")\n"
     "Exit status 1 when the file cannot be read or holds damage.\n"},
    {"verify", cmd_verify, "runlog verify [--no-values] FILE...",
     "Checks every checksum and structure of each file, and decodes every value. Prints\n"
     "\"FILE: OK, N frames, M records\" for an intact file, else one line per damaged\n"
     "byte range and a summary. Exit status 0 only when every file is intact.\n"
     "  --no-values   check every checksum and structure but decode no value\n"
     "                (several times faster; misses only a value block that is\n"
     "                malformed behind a valid checksum)\n"},
    {"repair", cmd_repair, "runlog repair FILE",
     "Cuts a torn tail off (its bytes are kept in FILE.torn-OFFSET) and appends an\n"
     "index and trailer covering every intact frame. Damage in the middle is left\n"
     "in place (readers skip it). Takes the writer lock.\n"},
    {"dump", cmd_dump, "runlog dump FILE [--strict]",
     "Prints every record, in file order, as one JSON object per line\n"
     "(spec/EXPORTS.md \"dump\"). Damaged frames are skipped and reported on stderr\n"
     "(exit status 1).\n"
     "  --strict  stop at the first damaged frame instead (exit status 1)\n"},
    {"history", cmd_history, "runlog history FILE KEY... [--strict]",
     "Prints the history of each KEY as CSV with the columns key,step,timestamp,value\n"
     "(spec/EXPORTS.md \"history\"). Exit status 1 if a key never appears.\n"
     "  --strict  fail on a damaged frame instead of skipping it\n"},
    {"export", cmd_export,
     "runlog export json|csv FILE [-o OUT] [--history-jsonl] [--nan null|string] [--long]\n"
     "                           [--table KEY[@STEP]] [--strict]\n"
     "       runlog export csv --with-run FILE... [-o OUT] [--strict]\n"
     "       runlog export wandb FILE... -o DIR [--entity E] [--project P] [--strict]\n"
     "                           [--hash-references]\n"
     "       runlog export hdf5 FILE... -o OUT.h5 [--compression gzip|zstd[:L]|none]\n"
     "                          [--with-artifact-data] [--strict]",
     "  json   one JSON document with run, config, summary, history, alerts, console\n"
     "         --history-jsonl  only the history, one JSON object per row and line\n"
     "         --nan null|string  NaN and +-Infinity as null (float columns for\n"
     "                          pandas) or as the strings \"NaN\"... (the default, exact)\n"
     "  csv    the history as a wide table: _step,_timestamp, then every key\n"
     "         --long           one line per value: step,key,value\n"
     "         --table KEY[@STEP] one table logged under KEY (the last one, or the one\n"
     "                          at STEP): its columns; image cells as the file names\n"
     "                          that `runlog extract --images` writes\n"
     "         --with-run       every row starts with its run: _run_id, _run_name,\n"
     "                          _run_project, _run_group, config.KEY...; several\n"
     "                          FILEs (one per run) into one table for pandas\n"
     "                          (runlog ls --csv: one line per run instead)\n"
     "  json also lists tables, images and artifacts (digests as hex)\n"
     "  -o OUT write to OUT (whole or not at all) instead of stdout; '-' is stdout\n"
     "Shapes: spec/EXPORTS.md. Damaged frames are skipped and reported on stderr\n"
     "(exit status 1); --strict fails at the first one instead, writing nothing to OUT.\n"
     "\n"
     "runlog export wandb FILE... -o DIR [--entity E] [--project P] [--strict]\n"
     "  each run as W&B's offline run DIR/offline-run-YYYYMMDD_HHMMSS-ID/ (the .wandb\n"
     "  transaction log, files/ with config, summary, metadata, console, media, and\n"
     "  artifacts/), ready for `wandb sync DIR/offline-run-*`. FILEs with the same run\n"
     "  id are one (resumed) run; a crashed run is exported as failed. Each run's\n"
     "  directory appears whole or not at all (spec/EXPORTS.md section 10).\n"
     "  Export on the machine that runs `wandb sync`: artifact files are named by\n"
     "  absolute path, and `wandb sync` deletes them after an upload attempt, so an\n"
     "  export is synced once; the run-log stays the source (export again).\n"
     "  --project P  --entity E  set the W&B project (default: the run's) and entity\n"
     "  --hash-references  read the local regular files that artifact references name,\n"
     "               for W&B's MD5 (default: references are never opened)\n"
     "  damaged frames are skipped and reported (exit status 1; --tolerant, the\n"
     "  default, is accepted); --strict stops at the first, leaving no run directory\n"
     "\n"
     "runlog export hdf5 FILE... -o OUT.h5 [--compression C] [--with-artifact-data]\n"
     "                   [--strict]\n"
     "  every run into one HDF5 file for h5py: /runs/<id>/ with attributes, config,\n"
     "  summary, metadata, history/<key>/{step,timestamp,value}, system, alerts,\n"
     "  console, images, tables (also tables_by_step/<key>/<step>), artifacts\n"
     "  (spec/HDF5.md); /runs_index, one row per run for pandas; /projects/<project>/\n"
     "  <name>, links to the runs by name (a repeated name: the run that started\n"
     "  last, with a warning). FILEs with the same run id are merged by step; a\n"
     "  conflict is an error. OUT.h5 appears whole or not at all.\n"
     "  --compression gzip[:0-9] (default gzip:4, with shuffle; any h5py reads it),\n"
     "                zstd[:1-22] (filter 32015: readers need HDF5_PLUGIN_PATH set to\n"
     "                the directory of libh5zstd.so), or none\n"
     "  --with-artifact-data  embed the artifacts' stored files\n"
     "  Damaged frames are skipped and reported on stderr, the rest is exported\n"
     "  (exit status 1); --tolerant is that default, kept for old scripts.\n"
     "  --strict     stop at the first damaged frame instead; nothing is written\n"},
    {"log", cmd_log,
     "runlog log FILE [--project P] [--name N] [--step S] [--no-commit]\n"
     "           [--image KEY=IMAGE.png]... KEY=VALUE...",
     "Appends one history row (creates the run if FILE does not exist, else resumes\n"
     "it). VALUE is an integer, else a float (nan, inf, -inf included), else\n"
     "true/false, else a string.\n"
     "  --project P, --name N  identity of a new run (ignored on resume)\n"
     "  --step S               commit at step S (not lower than the last step)\n"
     "  --no-commit            keep the values pending; the next `log` commits them\n"
     "  --image KEY=FILE       log a PNG or JPEG file as an image under KEY (repeatable;\n"
     "                         the same KEY twice makes a list)\n"},
    {"finish", cmd_finish, "runlog finish FILE [--exit-code N]",
     "Ends the run: exit code 0 (the default) means finished, any other failed.\n"},
    {"ls", cmd_ls,
     "runlog ls [PATH...] [-c COLUMN]... [--sort [-]COLUMN] [--where EXPR]\n"
     "                    [--group-by COLUMN] [--json | --csv]",
     "Lists runs, one line each: the files given and every *.runlog under the\n"
     "folders given (default: .), searched recursively without following links.\n"
     "Files of one run (a resumed run continued in a new file) are one line.\n"
     "Only what is needed is read (run start, config, summary, finish), not the\n"
     "histories. Columns: name, id, project, group, state, start, duration, rows,\n"
     "last_step, damage, then every config.KEY and summary.KEY whose value differs\n"
     "across the runs listed (spec/EXPORTS.md section 12).\n"
     "  -c, --column COLUMN  show these columns instead (repeatable): a built-in\n"
     "                       (also path), config.KEY or summary.KEY\n"
     "  --sort COLUMN        order by COLUMN; -COLUMN descending (missing last)\n"
     "  --where EXPR         keep runs where EXPR holds: COLUMN OP VALUE with OP one\n"
     "                       of = != < <= > >=, joined by 'and' and 'or' ('and'\n"
     "                       first); VALUE a number, a word or 'quoted text', e.g.\n"
     "                       --where 'summary.val/acc>0.9 and state=finished'\n"
     "  --group-by COLUMN    runs of one value together, under a heading each\n"
     "  --json               one JSON array of one object per run\n"
     "  --csv                one CSV line per run, a header first (pandas.read_csv)\n"
     "A running run (a writer holds its lock) and a crashed one are told apart.\n"
     "Damaged or unreadable files are listed with their damage; the exit status is\n"
     "then 1 (a torn tail alone, a frame being written, is not damage).\n"},
    {"tail", cmd_tail, "runlog tail [-f [--ignore-lock]] [-n N] [-k KEY]... FILE",
     "Prints history rows, alerts and console text.\n"
     "  -f, --follow   wait for more as the file grows; stop when the run finishes\n"
     "                 (exit status 0; 1 when it failed: a non-zero exit code) or\n"
     "                 when no writer holds the file any more and it has no finish\n"
     "                 record: crashed (exit status 1). Which one is said on stderr.\n"
     "  --ignore-lock  with -f: wait for the finish record only, for filesystems\n"
     "                 whose locks a writer on another machine does not hold\n"
     "                 (docs/CLUSTERS.md)\n"
     "  -n, --lines N  start at the last N rows (what was logged before them,\n"
     "                 alerts and console text too, is not shown)\n"
     "  -k, --key KEY  show only these keys (repeatable); rows without them are\n"
     "                 not shown\n"},
    {"artifact", cmd_artifact,
     "runlog artifact FILE --name N [--type T] [--alias A]... [--reference] PATH...",
     "Logs an artifact (creates the run if FILE does not exist, else resumes it):\n"
     "each PATH is a file (stored under its base name) or a folder (its files\n"
     "stored under their paths relative to it). Prints NAME:vN. Content identical\n"
     "to an earlier version of NAME adds the aliases to it instead of a new version.\n"
     "  --type T          artifact type (default dataset; model for checkpoints)\n"
     "  --alias A         an alias for this version (repeatable); latest is always added\n"
     "  --description D   --metadata JSON (an object)   --project P (a new run)\n"
     "  --reference       record files by path, size and digest without storing them\n"},
    {"extract", cmd_extract,
     "runlog extract FILE (--artifact NAME[:vN|:ALIAS] | --images) -o DIR [--strict]",
     "Writes stored files under DIR (created if missing), checking every digest.\n"
     "  --artifact NAME[:vN|:ALIAS]  an artifact version's files (default: latest);\n"
     "                 references are listed, not fetched. An entry path that is\n"
     "                 absolute or holds '..', '.' or empty components is refused\n"
     "                 before anything is written; links in DIR are never followed.\n"
     "  --images       every image (history and table cells): PNG (raw pixels are\n"
     "                 encoded) or JPEG as stored, named KEY_STEP_INDEX.png or\n"
     "                 KEY_STEP_ROW_COLUMN.png, '/' in keys as '_' (spec/EXPORTS.md)\n"
     "  --strict       fail on a damaged frame (before DIR is made) instead of\n"
     "                 skipping it (reported, exit status 1)\n"},
    {"report", cmd_report, "runlog report PATH... -o OUT.html [--strict]",
     "Writes one self-contained HTML page of the runs (no network, no server: open\n"
     "it anywhere): a sortable runs table, a chart panel per metric key with one\n"
     "line per run, grouped by key prefix (hover values, drag to zoom, double-click\n"
     "to reset, a log-scale toggle), system metrics, and each run's tables, images,\n"
     "artifacts, alerts and console tail. A PATH that is a folder is searched\n"
     "recursively for *.runlog. Files of one run id are merged (spec/EXPORTS.md\n"
     "section 11). Long lines are down-sampled to 2,000 points keeping each\n"
     "bucket's minimum and maximum; the page's bounds: spec/EXPORTS.md section 12.\n"
     "OUT.html appears whole or not at all; '-' writes to stdout.\n"
     "  damaged frames are skipped and reported (exit status 1); --strict stops at\n"
     "  the first instead, writing nothing\n"},
    {"run", cmd_run, "runlog run [OPTIONS] -- CMD [ARGS...]",
     "Runs CMD as a run: its stdout and stderr are copied unchanged to runlog's and\n"
     "recorded; metadata (host, OS, CPU, memory, user, command line, git, batch job,\n"
     "ranks, GPUs) is recorded at start; system metrics of CMD's process tree and\n"
     "of the machine are sampled; the exit code ends the run (finished or failed).\n"
     "Each line CMD writes on the descriptor named by $RUNLOG_METRICS_FD is a JSON\n"
     "object logged as one history row (\"_step\": its step, else the next one;\n"
     "NaN/Infinity allowed; \"_alert\": {\"title\",\"text\",\"level\"} raises an alert).\n"
     "SIGINT, SIGTERM, SIGUSR1, SIGUSR2 and SIGHUP are passed on to CMD (except those\n"
     "the terminal already sent to it). Exit status: CMD's, 128+N if signal N killed\n"
     "it (recorded as exit code, metadata exit_signal and an alert).\n"
     "  -o FILE            the run-log (default ./runlog-YYYYmmdd_HHMMSS-PID.runlog)\n"
     "  --project P  --name N  --group G  --job-type J  --notes T  --tag T (repeatable)\n"
     "  --interval S       seconds between system samples (default 2; 0: none)\n"
     "  --no-console       let CMD write to the terminal directly; record nothing\n"
     "  --no-metadata      record no metadata\n"
     "  --alert-command C  run /bin/sh -c C on each alert, with RUNLOG_ALERT_TITLE,\n"
     "                     RUNLOG_ALERT_TEXT and RUNLOG_ALERT_LEVEL set\n"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

const tool_cmd *tool_find(const char *name)
{
    size_t i;

    for (i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void print_overview(FILE *f)
{
    size_t i;

    fputs("runlog — inspect, verify, repair, export and append to run-logs\n\n"
          "usage: runlog COMMAND [ARGS...]\n       runlog help COMMAND\n"
          "       runlog --version\n\ncommands:\n", f);
    for (i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %s\n", commands[i].usage);
    fputs("\nExit status: 0 success, 1 damage or failure, 2 usage error.\n", f);
}

static int print_help(const char *name)
{
    const tool_cmd *c = tool_find(name);

    if (!c) {
        fprintf(stderr, "runlog: unknown command '%s'\nTry 'runlog --help'.\n", name);
        return TOOL_USAGE;
    }
    printf("usage: %s\n\n%s", c->usage, c->help);
    return TOOL_OK;
}

/* 1 if --help or -h comes before any "--" in a subcommand's arguments. */
static int wants_help(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const tool_cmd *c;

    if (argc < 2) {
        print_overview(stderr);
        return TOOL_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_overview(stdout);
        return TOOL_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("runlog %s (file format %d)\n", RUNLOG_VERSION_STRING, RUNLOG_FORMAT_VERSION);
        return TOOL_OK;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc == 2) {
            print_overview(stdout);
            return TOOL_OK;
        }
        return argc == 3 ? print_help(argv[2]) : tool_usage("help", "one command at a time");
    }
    c = tool_find(argv[1]);
    if (!c) {
        fprintf(stderr, "runlog: unknown command '%s'\nTry 'runlog --help'.\n", argv[1]);
        return TOOL_USAGE;
    }
    if (wants_help(argc - 1, argv + 1))
        return print_help(c->name);
    /* `export wandb` writes directories, not one document: cmd_export_wandb.c */
    if (c->run == cmd_export && argc >= 3 && strcmp(argv[2], "wandb") == 0)
        return cmd_export_wandb(argc - 2, argv + 2);
    if (c->run == cmd_export && argc >= 3 && strcmp(argv[2], "hdf5") == 0)
        return cmd_export_hdf5(argc - 2, argv + 2);
    return c->run(argc - 1, argv + 1);
}
