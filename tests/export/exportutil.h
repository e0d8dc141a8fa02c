/*
 * exportutil.h — what the librunlog-export tests (tests/export/) share: the
 * `runlog` command run as a child (its path is the program's first
 * argument), a run-log holding every kind of record, a damaged copy of it,
 * notices collected, and files and trees compared byte for byte.
 */
#ifndef RUNLOG_TESTS_EXPORTUTIL_H
#define RUNLOG_TESTS_EXPORTUTIL_H

#include "runlog_export.h"
#include "testutil.h"

/* The `runlog` command under test (set from argv[1] by xu_main_args()). */
extern const char *xu_runlog;
/* Takes the command's path from argv (usage error otherwise): 0 or 2. */
int xu_main_args(int argc, char **argv);

/* Runs `runlog ARGS...` (args NULL-terminated), stdout and stderr into the
 * files named (NULL: /dev/null); returns its exit status. */
int xu_run(const char *out_path, const char *err_path, const char *const *args);

/* Writes the test run at path: config, rows with numbers, NaN, a string,
 * raw images (alone and a list), a table with an image column, an alert,
 * console text with invalid UTF-8, a system sample, a summary value, and an
 * artifact (two files, one in a folder, and a reference) with an alias;
 * finished. The artifact's files are made under dir. */
void xu_make_run(const char *dir, const char *path);
/* Copies src to dst with one byte flipped in the middle of the frame that
 * holds the alert (a frame in the middle of the file); returns that
 * frame's offset. */
uint64_t xu_damage_copy(const char *src, const char *dst);

/* Notices received by xu_notice (the payload is an xu_notices). */
typedef struct xu_notices {
    tu_str output;  /* RUNLOG_NOTICE_OUTPUT texts, one per line */
    tu_str stderr_; /* the others, as the command prints them: "runlog: TEXT\n" */
    size_t count[RUNLOG_NOTICE_OUTPUT + 1];
} xu_notices;
void xu_notice(void *payload, runlog_notice_kind kind, const char *text);
void xu_notices_free(xu_notices *n);

/* Options for format with the notices collected into n. */
runlog_export_options xu_options(runlog_export_format format, xu_notices *n);

/* The file at path holds exactly len bytes of data (fails the test if not). */
void xu_assert_file_is(const char *path, const void *data, size_t len);
void xu_assert_same_file(const char *a, const char *b);
/* Trees a and b hold the same names (folders and regular files) with the
 * same bytes; returns how many regular files they hold. */
size_t xu_assert_same_tree(const char *a, const char *b);
/* Number of entries in a folder (-1 if it does not exist). */
long xu_dir_entries(const char *dir);

#endif
