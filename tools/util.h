/*
 * util.h — helpers shared by the subcommands of the `runlog` command:
 * option parsing and error reporting, output files that appear whole or not
 * at all, a small streaming JSON writer, CSV cells, and time and number
 * formatting. The shapes they produce are specified in spec/EXPORTS.md.
 */
#ifndef RUNLOG_TOOLS_UTIL_H
#define RUNLOG_TOOLS_UTIL_H

#include <stdint.h>
#include <stdio.h>

#include "runlog.h"
#include "rlu.h"
#include "runlog_export.h"

/* Exit status of every subcommand. */
enum { TOOL_OK = 0, TOOL_FAIL = 1, TOOL_USAGE = 2 };

/* ---- subcommands (argv[0] is the subcommand's name) ---- */

typedef int (*tool_cmd_fn)(int argc, char **argv);

typedef struct tool_cmd {
    const char *name;
    tool_cmd_fn run;
    const char *usage; /* one line: "runlog info FILE [--json]" */
    const char *help;  /* the rest of `runlog help CMD` */
} tool_cmd;

const tool_cmd *tool_find(const char *name);

int cmd_info(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_repair(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_finish(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_artifact(int argc, char **argv); /* cmd_artifact.c */
int cmd_extract(int argc, char **argv);  /* cmd_extract.c */
int cmd_run(int argc, char **argv);      /* cmd_run.c */
int cmd_ls(int argc, char **argv);       /* cmd_ls.c */

/* ---- errors ---- */

/* Prints "runlog CMD: message", the usage line and a hint; returns TOOL_USAGE. */
int tool_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses the options of a subcommand that has none but --help (handled
 * by main()); afterwards optind is the first operand. */
int tool_no_options(int argc, char **argv);
/* The same for a subcommand whose one option is --strict (the damage
 * policy of the converters: *strict is set to 1 when given). */
int tool_strict_option(int argc, char **argv, int *strict);
/* Reports a bad option met by getopt_long() (opterr is 0). */
int tool_bad_option(const char *cmd, char **argv, int c);
/* Prints "runlog: FILE: <runlog_error_detail()>" for a library failure
 * `code`; returns TOOL_FAIL. */
int tool_lib_error(const char *file, int code);
/* Prints "runlog: FILE: <strerror(errno)>"; returns TOOL_FAIL. */
int tool_sys_error(const char *file);

/* Strict decimal parsers (whole string, no sign for u64); 0 or -1. */
int tool_parse_int(const char *s, int *out);

/* Opens a reader with `flags` (RUNLOG_READ_*), reporting failure. */
int tool_open_reader(runlog_reader **out, const char *path, unsigned flags);

/* Runs runlog_verify() on a file that was just read tolerantly and warns on
 * stderr about each damaged range (whose records were skipped). Returns
 * TOOL_FAIL if damage other than a torn tail was found, else TOOL_OK. */
int tool_warn_damage(const char *path);


/* rlu_same_file_index() reported: TOOL_OK, or TOOL_FAIL with "runlog: OUT:
 * is the input FILE ..." on stderr ("-" or NULL: stdout). Run before anything
 * is written, so that the input (often the only copy of the run) is left
 * untouched. Subcommands that call runlog_export() get the same check from
 * the library. */
int tool_check_output(const char *out, const char *const *inputs, size_t n);

/* ---- converters (librunlog-export) ---- */

/* Runs runlog_export() for subcommand `cmd` the same way for every format:
 * notices printed ("runlog: TEXT" on stderr; RUNLOG_NOTICE_OUTPUT lines on
 * stdout, or on stderr when the export itself goes to stdout), a progress
 * bar on stderr when it is a terminal, and the result mapped to the exit
 * status: 0 -> TOOL_OK; RUNLOG_EDAMAGED -> TOOL_FAIL (the output is
 * complete, damage was reported); any other failure printed as
 * "runlog: <detail>" (unless it is the text of the last warning notice)
 * -> TOOL_FAIL. opts->notice/progress/payload are set here. */
int tool_export(const char *cmd, const char *const *inputs, size_t n, const char *out,
                runlog_export_options *opts);

#endif
