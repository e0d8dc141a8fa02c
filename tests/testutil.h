/*
 * testutil.h — helpers shared by the library tests (tests/test_*.c).
 *
 * Every helper fails the current cmocka test on a system error, so the tests
 * themselves only check what the library does. Nothing here looks inside the
 * file format: tests use the public API (runlog.h) only.
 */
#ifndef RUNLOG_TESTUTIL_H
#define RUNLOG_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runlog.h"

/* Fails the test with the code, its text and the library's detail. */
#define TU_OK(expr) TU_RC((expr), 0)
#define TU_RC(expr, want)                                                        \
    do {                                                                         \
        int tu_rc_ = (expr);                                                     \
        if (tu_rc_ != (want))                                                    \
            fail_msg("%s:%d: %s returned %d (%s), expected %d (%s); detail: %s", \
                     __FILE__, __LINE__, #expr, tu_rc_, runlog_strerror(tu_rc_), \
                     (int)(want), runlog_strerror(want), runlog_error_detail()); \
    } while (0)

/* ---- files --------------------------------------------------------------- */

/* The cmocka fixture most tests share: a fresh directory and the path of a
 * run-log in it ("test.runlog", not created). */
typedef struct tu_fixture {
    char *dir, *path;
} tu_fixture;
int tu_setup(void **state);
int tu_teardown(void **state);

/* A fresh directory under $TMPDIR (or /tmp); free with tu_tmpdir_free(). */
char *tu_tmpdir(void);
/* Removes the directory and everything in it, then frees the string. */
void tu_tmpdir_free(char *dir);
/* dir + "/" + name, malloc'd. */
char *tu_path(const char *dir, const char *name);
/* Whole file into memory (malloc'd, plus a NUL after the end). */
unsigned char *tu_read_file(const char *path, size_t *len);
/* Creates or replaces path with exactly these bytes. */
void tu_write_file(const char *path, const void *data, size_t len);
/* Size of a file, or -1 if it does not exist. */
int64_t tu_file_size(const char *path);
int tu_exists(const char *path);
/* Names in dir starting with prefix (malloc'd array of malloc'd names). */
size_t tu_list_prefix(const char *dir, const char *prefix, char ***names);
void tu_free_names(char **names, size_t n);

/* ---- doubles, bit for bit ------------------------------------------------ */

uint64_t tu_dbits(double d);
double tu_bits2d(uint64_t bits);
#define TU_ASSERT_SAME_DOUBLE(a, b) assert_int_equal(tu_dbits(a), tu_dbits(b))

/* ---- a growing text buffer ----------------------------------------------- */

typedef struct tu_str {
    char *p;
    size_t len, cap;
} tu_str;

void tu_str_add(tu_str *s, const void *data, size_t len);
void tu_str_addf(tu_str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tu_str_free(tu_str *s);

/* ---- canonical dumps (bit-exact: doubles as hex bits, bytes as hex) ------ */

/* Appends a text that identifies the value exactly: type, and every bit. */
void tu_dump_value(tu_str *s, const runlog_value *v);
/* Appends type, step, time, fields (history) or body (other records).
 * The frame offset is not included; see tu_records. */
void tu_dump_record(tu_str *s, const runlog_record *rec);

/* Every record of a file, in order, as canonical dumps. */
typedef struct tu_records {
    size_t n;
    char **dump;      /* tu_dump_record() text of each record */
    uint64_t *frame;  /* runlog_record_frame_offset() */
    int *type;        /* runlog_record_type_of() */
    int open_rc;      /* runlog_reader_open() result */
    int end_rc;       /* the code that ended iteration (RUNLOG_ITEROVER or an error) */
} tu_records;

/* Reads path with the given flags until runlog_reader_next() returns
 * anything but 0. Never fails the test by itself; callers check open_rc and
 * end_rc. */
void tu_read_records(tu_records *out, const char *path, unsigned flags);
void tu_records_free(tu_records *r);

/* ---- deterministic writer options ---------------------------------------- */

/* A clock: returns *now and advances it by step_ns (atomically: a writer
 * thread may read it). */
typedef struct tu_clock {
    int64_t now;
    int64_t step_ns;
} tu_clock;
int64_t tu_clock_fn(void *ctx);
/* Sets the clock's next reading. */
void tu_clock_set(tu_clock *c, int64_t now);

/* Options with a fixed clock, salt, file UUID and run id, no timed flush. */
void tu_fixed_options(runlog_writer_options *o, tu_clock *clock, int synchronous);

/* ---- small fixtures ------------------------------------------------------ */

/* Runs fn(arg) in a forked child; returns the child's exit status (0..255),
 * or -1 if it died by a signal. */
int tu_fork_run(int (*fn)(void *arg), void *arg);

/* Deterministic pseudo-random 64-bit numbers (splitmix64). */
uint64_t tu_rand64(uint64_t *state);

#endif /* RUNLOG_TESTUTIL_H */

/* ---- a small multi-frame file ------------------------------------------- */

#define TU_MAX_FRAMES 64

/* Writes a small run synchronously with fixed options: config, then
 * `groups` groups of `rows` rows, runlog_writer_flush() after each group
 * (an alert in group 1, console text in group 2), then finish(0) when
 * `finish`, then close. bounds[] receives the file size after the flush
 * that follows open and after each group's flush: every frame holding
 * records ends at one of them or where the next record frame starts. */
typedef struct tu_small {
    uint64_t bounds[TU_MAX_FRAMES];
    size_t n_bounds;
    uint64_t size;
} tu_small;
void tu_write_small(const char *path, int groups, int rows, int finish, tu_small *out);

/* Frames that hold records, from a full read and the flush sizes: start,
 * and end (UINT64_MAX when unknown: a frame after the last flush, such as
 * the finish record's). rec_frame[i] is the frame index of record i. */
typedef struct tu_frames {
    size_t n;
    uint64_t start[TU_MAX_FRAMES];
    uint64_t end[TU_MAX_FRAMES];
    size_t *rec_frame;
} tu_frames;
void tu_frames_from(tu_frames *f, const tu_records *all, const tu_small *sm);
void tu_frames_free(tu_frames *f);
