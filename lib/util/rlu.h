/*
 * rlu.h — the one home of the text and file primitives that librunlog,
 * librunlog-export and the `runlog` command share: output files that appear
 * whole or not at all, time and number formatting, a small streaming JSON
 * writer, CSV cells, UTF-8. A static library (lib/util/meson.build) linked
 * into each; nothing here is public API. The shapes they produce are
 * specified in spec/EXPORTS.md.
 */
#ifndef RUNLOG_UTIL_RLU_H
#define RUNLOG_UTIL_RLU_H

#include <stdint.h>
#include <stdio.h>

#include "runlog.h"

/* ---- output: FILE or "-" (stdout) ---- */

typedef struct rlu_out {
    FILE *f;
    char *path; /* NULL for stdout */
    char *tmp;  /* the temporary file beside path, renamed over it at the end */
} rlu_out;

/* mkstemp(tmpl) (a new file, created exclusively under a random name, never
 * through a link), with the mode a plain create would give (0666 & ~umask).
 * The descriptor, or -1 with errno set (nothing left behind). */
int rlu_mkstemp(char *tmpl);

/* Which of inputs[0..n) the output is: the same file (device and inode, so
 * a hard link or a symbolic link to an input counts too), or -1 when none
 * or when out does not exist yet. out NULL: the file open at out_fd (an
 * export to stdout appended to its input). Prints nothing. */
int rlu_same_file_index(const char *out, int out_fd, const char *const *inputs, size_t n);

/* Opens `path` for writing ("-" or NULL: stdout). A file is written to a
 * temporary file beside it (created exclusively, mkstemp), so it appears
 * whole or not at all. 0, or RUNLOG_EIO / RUNLOG_ENOMEM with the detail set. */
int rlu_out_open(rlu_out *o, const char *path);
/* ok != 0: flush and rename into place (0, or RUNLOG_EIO on a write error,
 * the detail set); ok == 0: discard the temporary file (returns 0). */
int rlu_out_close(rlu_out *o, int ok);

/* ---- formatting ---- */

#define RLU_NUM_MAX 48
/* ISO-8601 UTC with nine fractional digits: 2024-05-01T12:00:00.250000000Z */
void rlu_fmt_iso(char buf[RLU_NUM_MAX], int64_t ns);
/* Unix seconds as an exact decimal with nine fractional digits: 1714564800.250000000 */
void rlu_fmt_unix(char buf[RLU_NUM_MAX], int64_t ns);
/* Shortest round-trip text (%.15g..%.17g, ".0" kept on integral values),
 * or NaN / Infinity / -Infinity. */
void rlu_fmt_double(char buf[RLU_NUM_MAX], double v);

/* Map accessors for record bodies and the run identity; NULL / 0 when the
 * entry is missing or of another type. */
const char *rlu_map_str(const runlog_value *map, const char *key, size_t *len);
int rlu_map_int(const runlog_value *map, const char *key, int64_t *out);

/* ---- JSON writer (compact; the caller adds newlines between tokens) ---- */

#define RLU_JSON_DEPTH 32

typedef struct rlu_json {
    FILE *f;
    unsigned value_flags; /* runlog_value_to_json() flags: RUNLOG_JSON_NAN_NULL also
                             makes tj_double() write null for NaN and the infinities */
    unsigned depth;
    int after_key;
    unsigned char has_item[RLU_JSON_DEPTH];
} rlu_json;

void tj_init(rlu_json *j, FILE *f);
void tj_obj(rlu_json *j);
void tj_obj_end(rlu_json *j);
void tj_arr(rlu_json *j);
void tj_arr_end(rlu_json *j);
void tj_key(rlu_json *j, const char *key);
/* Writes a string; invalid UTF-8 bytes become U+FFFD. Returns how many were
 * replaced. */
size_t tj_strn(rlu_json *j, const char *s, size_t len);
void tj_str(rlu_json *j, const char *s); /* NULL writes null */
void tj_int(rlu_json *j, int64_t v);
void tj_uint(rlu_json *j, uint64_t v);
void tj_double(rlu_json *j, double v); /* NaN/inf as strings */
void tj_bool(rlu_json *j, int v);
void tj_null(rlu_json *j);
void tj_unix(rlu_json *j, int64_t ns); /* rlu_fmt_unix() as a number */
void tj_iso(rlu_json *j, int64_t ns);  /* rlu_fmt_iso() as a string */
/* A library value, rendered by runlog_value_to_json(); NULL writes null. */
int tj_value(rlu_json *j, const runlog_value *v);
/* A newline. */
void tj_newline(rlu_json *j);
/* Writes the separator that the next value or key would write, then a
 * newline, so that each item of a long array starts its own line. */
void tj_item_break(rlu_json *j);
/* Base64 (RFC 4648, with padding) of bytes, as a JSON string. */
void tj_base64(rlu_json *j, const void *data, size_t len);

/* The "run" object of spec/EXPORTS.md (identity, state, times, counts). */
int tj_run_object(rlu_json *j, const runlog_run *run);

/* ---- CSV (RFC 4180 quoting) and plain text ---- */

void csv_field(FILE *f, const char *s, size_t len);
/* A value as one CSV cell (spec/EXPORTS.md "Cells"). */
int csv_value(FILE *f, const runlog_value *v);
/* A value for people: numbers and bools bare, strings and the rest as JSON. */
int plain_value(FILE *f, const runlog_value *v);

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
size_t rlu_utf8_len(const unsigned char *s, size_t n);

/* ---- growable text buffers (always NUL-terminated; oom is sticky) ---- */

typedef struct rlu_buf {
    char *p;
    size_t len, cap;
    int oom;
} rlu_buf;

void rlu_put(rlu_buf *b, const void *data, size_t len);
void rlu_puts(rlu_buf *b, const char *s);
void rlu_printf(rlu_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rlu_buf_free(rlu_buf *b);
/* Takes the text out of b (the caller frees it); NULL when b ran out of memory. */
char *rlu_take(rlu_buf *b);

/* ---- the one JSON string and base64 encoder ----
 * They write through a sink, so that the same code serves a FILE* (the
 * streaming exports) and a buffer (values rendered in memory). */
typedef void (*rlu_sink)(void *ctx, const void *data, size_t len);
void rlu_sink_buf(void *buf, const void *data, size_t len);   /* ctx: rlu_buf * */
void rlu_sink_file(void *file, const void *data, size_t len); /* ctx: FILE * */

/* Besides what JSON requires, escape DEL, the C1 controls, U+2028/2029,
 * U+FEFF, U+FFFE and U+FFFF, so that the text is also a YAML 1.1
 * double-quoted scalar (PyYAML refuses them raw). */
#define RLU_JSON_YAML_SAFE 1u

/* A JSON string with its quotes: '"' '\' \n \t \r escaped, other
 * controls and DEL as \u00XX, invalid UTF-8 bytes as U+FFFD. Returns how
 * many bytes were replaced. */
size_t rlu_json_str(rlu_sink sink, void *ctx, const char *s, size_t len, unsigned flags);
/* Base64 (RFC 4648, with padding), no quotes. */
void rlu_base64(rlu_sink sink, void *ctx, const void *data, size_t len);
/* Text safe for a C string that must be UTF-8 (a protobuf string, an HDF5
 * UTF-8 attribute): invalid UTF-8 bytes and NUL become U+FFFD. malloc'd;
 * NULL when out of memory. */
char *rlu_utf8_text(const char *s, size_t len);

/* Writes all n bytes to fd, retrying after EINTR and waiting in poll() on
 * a non-blocking descriptor that is full. 0, or -1 with errno set. */
int rlu_write_all(int fd, const void *data, size_t n);
/* Copies a spool (a temporary stream written first) into to, from its
 * start: 0, or -1 on a read or write error. */
int rlu_copy_spool(FILE *from, FILE *to);

/* Strict decimal: the whole string, digits only (no sign, no space), no
 * overflow. 0, or -1. */
int rlu_parse_u64(const char *s, uint64_t *out);

/* A damaged range's kind as the exports and `info`/`verify` print it:
 * "frame", "garbage", "torn tail" (json: "torn_tail"). */
const char *rlu_damage_name(runlog_damage_kind kind, int json);

#endif
