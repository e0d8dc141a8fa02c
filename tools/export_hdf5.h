/*
 * export_hdf5.h — `runlog export hdf5 FILE... -o OUT.h5` (spec/HDF5.md).
 *
 * export_hdf5.c       the command: options, inputs grouped by run id, the
 *                     merge of several files of one run, history, system
 *                     metrics, alerts, console, the whole-or-nothing output
 * export_hdf5_h5.c    HDF5 helpers: escaped names, groups, 1-D chunked
 *                     columns, attributes, nested values as groups
 * export_hdf5_media.c images (decoded to uint8 arrays), tables, artifacts
 */
#ifndef RUNLOG_TOOLS_EXPORT_HDF5_H
#define RUNLOG_TOOLS_EXPORT_HDF5_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

int cmd_export_hdf5(int argc, char **argv);

/* ---- the output file ---- */

enum { H5X_GZIP = 0, H5X_ZSTD = 1, H5X_NONE = 2 };

typedef struct h5x {
    hid_t file;
    hid_t str_t;  /* variable-length UTF-8 text */
    hid_t bool_t; /* h5py's bool: an int8 enum FALSE=0, TRUE=1 */
    hid_t lcpl;   /* link names are UTF-8, intermediate groups created */
    int compression, level;
    int tolerant;    /* a blob that cannot be read is skipped with a warning */
    const char *out; /* the output path, for messages */
} h5x;

/* Elements per chunk of a 1-D column (spec/HDF5.md "Datasets"). */
#define H5X_CHUNK 65536u

int h5x_init(h5x *x, hid_t file, int compression, int level);
void h5x_fini(h5x *x);

/* Keeps HDF5 from printing its error stacks; h5x_fail() reports instead. */
void h5x_quiet_errors(void);
/* Reports an HDF5 failure: "runlog: OUT: HDF5: <what>: <innermost error>".
 * Returns TOOL_FAIL. */
int h5x_fail(const h5x *x, const char *what);

/* ---- names (spec/HDF5.md "Names") ---- */

/* Which component names a tree keeps for itself (they get escaped). */
typedef enum h5x_reserved {
    H5X_RES_NONE = 0,
    H5X_RES_SERIES = 1, /* step, timestamp, value (history, system) */
    H5X_RES_DIGITS = 2, /* names made of digits only (images, tables) */
    H5X_RES_JSON = 3    /* json (config, summary, metadata) */
} h5x_reserved;

/* Escapes one name: '%' -> %25, '/' -> %2F, "." -> %2E, "" -> %, a
 * reserved name N -> %_N. Returns a malloc'd string or NULL. */
char *h5x_escape(const char *s, size_t len, h5x_reserved res);

/* Opens (creating what is missing) the group for a key below loc: one
 * group per '/'-separated component, each escaped. Sets attribute "key" on
 * the leaf group. Returns the group or H5I_INVALID_HID. */
hid_t h5x_key_group(h5x *x, hid_t loc, const char *key, h5x_reserved res);
/* Opens or creates one child group (name taken as it is). */
hid_t h5x_group(h5x *x, hid_t loc, const char *name);

/* ---- datasets ---- */

/* A 1-D chunked column of n elements (maxshape unlimited, chunks of up to
 * H5X_CHUNK elements, the file's compression), written from data. */
int h5x_column(h5x *x, hid_t loc, const char *name, hid_t type, size_t n, const void *data);
/* A column of texts (NULL written as ""). */
int h5x_column_str(h5x *x, hid_t loc, const char *name, size_t n, char *const *s);
/* An N-D uint8 dataset, chunked by its first dimension, compressed. */
hid_t h5x_create_u8(h5x *x, hid_t loc, const char *name, int rank, const hsize_t *dims);
/* A scalar text dataset. */
int h5x_scalar_str(h5x *x, hid_t loc, const char *name, const char *s);

/* ---- attributes ---- */

int h5x_attr_str(h5x *x, hid_t loc, const char *name, const char *s); /* NULL: h5py.Empty */
int h5x_attr_strn(h5x *x, hid_t loc, const char *name, const char *s, size_t len);
int h5x_attr_ascii(hid_t loc, const char *name, const char *s); /* fixed-length ASCII */
int h5x_attr_i64(hid_t loc, const char *name, int64_t v);
int h5x_attr_u64(hid_t loc, const char *name, uint64_t v);
int h5x_attr_f64(hid_t loc, const char *name, double v);
int h5x_attr_u8(hid_t loc, const char *name, uint8_t v);
int h5x_attr_null(h5x *x, hid_t loc, const char *name);
int h5x_attr_strs(h5x *x, hid_t loc, const char *name, size_t n, const char *const *s);

/* A key -> value pair list (merged maps are built from several runs). */
typedef struct h5x_kv {
    const char *key;
    const runlog_value *v;
} h5x_kv;

/* Writes a map as spec/HDF5.md "Config, summary and metadata" says: the
 * scalar dataset "json" holding the JSON text, an attribute per entry whose
 * value is a scalar or a list of scalars, a subgroup per map entry. */
int h5x_tree(h5x *x, hid_t loc, const char *name, const h5x_kv *kv, size_t n);

/* JSON text of a map given as pairs (runlog_value_to_json() per value). */
char *h5x_kv_json(const h5x_kv *kv, size_t n);

/* Float64 Unix seconds of a time in ns. */
double h5x_seconds(int64_t ns);

/* How a series of values is stored (spec/HDF5.md "Values"): int64 when
 * every value is an int, float64 when every value is a number, bool, UTF-8
 * text when every value is a string, else the JSON text of each value. */
enum { H5X_C_NONE = 0, H5X_C_INT, H5X_C_FLOAT, H5X_C_BOOL, H5X_C_STRING, H5X_C_JSON };
int h5x_class_join(int cls, runlog_type t);

/* The JSON text of a history or table cell, as `runlog export json` writes
 * it (images with their "file" name; column is NULL for history cells,
 * index is then the place in a list of images). malloc'd; NULL on failure. */
char *h5x_cell_json(const char *key, uint64_t step, size_t index, const char *column,
                    const runlog_value *v);

/* ---- media (export_hdf5_media.c) ---- */

/* A source of blobs: the readers of the files of one run. */
typedef struct h5x_blobs {
    runlog_reader **readers;
    const char **paths;
    size_t n;
} h5x_blobs;

/* One image cell (an image map) as a uint8 dataset named name under loc
 * with the HDF5 Image attributes, step, index and caption. src is the
 * reader that holds the blob. */
int h5x_image(h5x *x, hid_t loc, const char *name, runlog_reader *src, const char *path,
              const runlog_value *img, uint64_t step, size_t index);
/* A table cell: the group name under loc holding one dataset per column. */
int h5x_table(h5x *x, hid_t loc, const char *name, runlog_reader *src, const char *path,
              const char *key, const runlog_value *cell, uint64_t step);
/* The artifact versions of a run: runlog_run_artifacts() of each of its
 * files (in b's order, later files' aliases winning), merged by name and
 * version; a version whose manifest differs between files is an error. */
int h5x_artifacts(h5x *x, hid_t run, const h5x_blobs *b, const runlog_value *const *arts,
                  int with_data);

#endif
