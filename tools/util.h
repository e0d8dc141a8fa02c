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

/* ---- errors ---- */

/* Prints "runlog CMD: message", the usage line and a hint; returns TOOL_USAGE. */
int tool_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses the options of a subcommand that has none but --help (handled
 * by main()); afterwards optind is the first operand. */
int tool_no_options(int argc, char **argv);
/* Reports a bad option met by getopt_long() (opterr is 0). */
int tool_bad_option(const char *cmd, char **argv, int c);
/* Prints "runlog: FILE: <runlog_error_detail()>" for a library failure
 * `code`; returns TOOL_FAIL. */
int tool_lib_error(const char *file, int code);
/* Prints "runlog: FILE: <strerror(errno)>"; returns TOOL_FAIL. */
int tool_sys_error(const char *file);

/* Strict decimal parsers (whole string, no sign for u64); 0 or -1. */
int tool_parse_u64(const char *s, uint64_t *out);
int tool_parse_int(const char *s, int *out);

/* Opens a reader with `flags` (RUNLOG_READ_*), reporting failure. */
int tool_open_reader(runlog_reader **out, const char *path, unsigned flags);

/* Runs runlog_verify() on a file that was just read tolerantly and warns on
 * stderr about each damaged range (whose records were skipped). Returns
 * TOOL_FAIL if damage other than a torn tail was found, else TOOL_OK. */
int tool_warn_damage(const char *path);

/* "frame", "garbage", "torn tail" (text) or "frame", "garbage", "torn_tail" (JSON). */
const char *tool_damage_name(runlog_damage_kind kind, int json);

/* ---- output: FILE or "-" (stdout) ---- */

/* Which of inputs[0..n) `out` is: the same file (device and inode, so a hard
 * link or a symbolic link to an input counts too; "-" or NULL: what stdout
 * is), or -1 when none (or out does not exist). Prints nothing. */
int tool_out_is_input(const char *out, const char *const *inputs, size_t n);
/* tool_out_is_input(), reported: TOOL_OK, or TOOL_FAIL with "runlog: OUT:
 * is the input FILE ..." on stderr. Run before anything is written, so that
 * the input (often the only copy of the run) is left untouched. */
int tool_check_output(const char *out, const char *const *inputs, size_t n);

typedef struct tool_out {
    FILE *f;
    char *path; /* NULL for stdout */
    char *tmp;  /* the temporary file beside path, renamed over it at the end */
} tool_out;

/* mkstemp(tmpl) (a new file, created exclusively under a random name, never
 * through a link), with the mode a plain create would give (0666 & ~umask).
 * The descriptor, or -1 with errno set (nothing left behind). */
int tool_mkstemp(char *tmpl);
/* Opens `path` for writing ("-" or NULL: stdout). A file is written to a
 * temporary file beside it, so it appears whole or not at all. */
int tool_out_open(tool_out *o, const char *path);
/* ok != 0: flush and rename into place (TOOL_OK or TOOL_FAIL on a write
 * error); ok == 0: discard the temporary file (returns TOOL_FAIL). */
int tool_out_close(tool_out *o, int ok);

/* ---- formatting ---- */

#define TOOL_NUM_MAX 48
/* ISO-8601 UTC with nine fractional digits: 2024-05-01T12:00:00.250000000Z */
void tool_fmt_iso(char buf[TOOL_NUM_MAX], int64_t ns);
/* Unix seconds as an exact decimal with nine fractional digits: 1714564800.250000000 */
void tool_fmt_unix(char buf[TOOL_NUM_MAX], int64_t ns);
/* Shortest round-trip text (%.15g..%.17g, ".0" kept on integral values),
 * or NaN / Infinity / -Infinity. */
void tool_fmt_double(char buf[TOOL_NUM_MAX], double v);

/* Map accessors for record bodies and the run identity; NULL / 0 when the
 * entry is missing or of another type. */
const char *tool_map_str(const runlog_value *map, const char *key, size_t *len);
int tool_map_int(const runlog_value *map, const char *key, int64_t *out);

/* Body of a console record: stream name and bytes. 0, or -1 if malformed. */
int tool_console_fields(const runlog_value *body, const char **stream, const char **data,
                        size_t *len);
/* Alert level as text ("INFO", "WARN", "ERROR", as wandb.AlertLevel). */
const char *tool_alert_level(const runlog_value *body, char buf[TOOL_NUM_MAX]);

/* ---- JSON writer (compact; the caller adds newlines between tokens) ---- */

#define TOOL_JSON_DEPTH 32

typedef struct tool_json {
    FILE *f;
    unsigned depth;
    int after_key;
    unsigned char has_item[TOOL_JSON_DEPTH];
} tool_json;

void tj_init(tool_json *j, FILE *f);
void tj_obj(tool_json *j);
void tj_obj_end(tool_json *j);
void tj_arr(tool_json *j);
void tj_arr_end(tool_json *j);
void tj_key(tool_json *j, const char *key);
/* Writes a string; invalid UTF-8 bytes become U+FFFD. Returns how many were
 * replaced. */
size_t tj_strn(tool_json *j, const char *s, size_t len);
void tj_str(tool_json *j, const char *s); /* NULL writes null */
void tj_int(tool_json *j, int64_t v);
void tj_uint(tool_json *j, uint64_t v);
void tj_double(tool_json *j, double v); /* NaN/inf as strings */
void tj_bool(tool_json *j, int v);
void tj_null(tool_json *j);
void tj_unix(tool_json *j, int64_t ns); /* tool_fmt_unix() as a number */
void tj_iso(tool_json *j, int64_t ns);  /* tool_fmt_iso() as a string */
/* A library value, rendered by runlog_value_to_json(); NULL writes null. */
int tj_value(tool_json *j, const runlog_value *v);
/* A newline. */
void tj_newline(tool_json *j);
/* Writes the separator that the next value or key would write, then a
 * newline, so that each item of a long array starts its own line. */
void tj_item_break(tool_json *j);
/* Base64 (RFC 4648, with padding) of bytes, as a JSON string. */
void tj_base64(tool_json *j, const void *data, size_t len);

/* The "run" object of spec/EXPORTS.md (identity, state, times, counts). */
int tj_run_object(tool_json *j, const runlog_run *run);

/* ---- CSV (RFC 4180 quoting) and plain text ---- */

void csv_field(FILE *f, const char *s, size_t len);
/* A value as one CSV cell (spec/EXPORTS.md "Cells"). */
int csv_value(FILE *f, const runlog_value *v);
/* A value for people: numbers and bools bare, strings and the rest as JSON. */
int plain_value(FILE *f, const runlog_value *v);

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
size_t tool_utf8_len(const unsigned char *s, size_t n);

#endif
