/*
 * h5x.h — RUNLOG_EXPORT_HDF5: every run into one HDF5 file (spec/HDF5.md).
 * Internal to librunlog-export.
 *
 * hdf5.c        rx_export_hdf5(): options, history, system metrics, alerts,
 *               console, the whole-or-nothing output, HDF5's error handler
 * hdf5_history.c every key's history of a run in one pass over its files,
 *               merged by step as runlog_runset_history() merges (the runs
 *               themselves are the library's run set, runlog_runset_*)
 * hdf5_h5.c     HDF5 helpers: escaped names, groups, 1-D chunked columns,
 *               attributes, nested values as groups
 * hdf5_media.c  images (decoded to uint8 arrays), tables, artifacts
 * hdf5_index.c  above the runs: /runs_index and the /projects name links
 * h5zstd.c      the zstd filter (32015), registered by the export
 *
 * Conventions: leaf helpers (h5x_column, h5x_attr_*, ...) return -1 on an
 * HDF5 failure that is not yet reported; their callers turn it into
 * h5x_fail(). Everything else returns 0 or a negative runlog_error with the
 * detail set.
 */
#ifndef RUNLOG_EXPORT_H5X_H
#define RUNLOG_EXPORT_H5X_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "export_internal.h"

/* ---- the output file ---- */

enum { H5X_GZIP = RUNLOG_HDF5_GZIP, H5X_ZSTD = RUNLOG_HDF5_ZSTD, H5X_NONE = RUNLOG_HDF5_NONE };

/* The innermost message of the last failed HDF5 call of this export. */
#define H5X_ERROR_MAX 256

typedef struct h5x {
    hid_t file;
    hid_t str_t;  /* variable-length UTF-8 text */
    hid_t bool_t; /* h5py's bool: an int8 enum FALSE=0, TRUE=1 */
    hid_t lcpl;   /* link names are UTF-8, intermediate groups created */
    hid_t acpl;   /* attribute names are UTF-8 (config keys are) */
    hid_t gcpl;   /* groups track creation order: h5py lists keys as logged */
    hid_t gcpl_many; /* gcpl without attribute creation order (H5X_ORDERED_ATTRS) */
    int compression, level;
    /* A blob that cannot be read is left out with a warning (set while the
     * blobs of an input with damaged frames are written, tolerant policy). */
    int skip_bad_blobs;
    const char *out; /* the output path, for messages */
    const char *tmp; /* the temporary file beside it (unique name) */
    rx_ctx *rx;      /* notices */
    char last_error[H5X_ERROR_MAX]; /* saved by the export's error handler */
    char *buf;       /* H5X_COPY_BUF bytes for copying artifact files */
} h5x;

/* Elements per chunk of a 1-D column (spec/HDF5.md "Datasets"). */
#define H5X_CHUNK 65536u
#define H5X_COPY_BUF ((size_t)1 << 20)

/* x->out, x->tmp and x->rx must be set; the rest is initialized here. */
int h5x_init(h5x *x, hid_t file, int compression, int level);
void h5x_fini(h5x *x);

/* The error handler the export installs for its duration (client data: the
 * h5x): it saves the innermost message of a failed call into x->last_error,
 * because the cleanup calls that follow clear HDF5's error stack before the
 * failure is reported. */
herr_t h5x_save_error(hid_t stack, void *h5x);
/* An HDF5 failure: sets the detail to "OUT: HDF5: <what>: <innermost
 * error>" and returns RUNLOG_EIO. */
int h5x_fail(h5x *x, const char *what);
/* Reserves room in the output for bytes more of dataset values, before the
 * dataset is created: 0, or -1 with the reason in x->last_error (for the
 * caller's h5x_fail()). HDF5 1.10.8 can report success for a raw-data
 * write whose pwrite() failed (a full disk: H5Dwrite() returned 0 and the
 * file kept zeros), so a full disk must fail before HDF5 writes. A file
 * system without fallocate() is written without it. */
int h5x_reserve(h5x *x, uint64_t bytes);
/* A librunlog failure `code` while reading path: the detail is prefixed
 * with "path: " unless it names the file already. Returns code. */
int h5x_lib_fail(const char *path, int code);

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
/* HDF5 numbers the attributes of an object that tracks their creation
 * order with 16 bits: the 65 536th fails ("attribute creation index can't
 * be incremented"). A group that gets more attributes (a config, summary
 * or metadata of more keys) does not track their order (spec/HDF5.md
 * §4.1); its links still do. */
#define H5X_ORDERED_ATTRS 65535u
/* h5x_group() for a new group that will get nattrs attributes. */
hid_t h5x_group_attrs(h5x *x, hid_t loc, const char *name, size_t nattrs);

/* ---- datasets ---- */

/* A 1-D chunked column of n elements (maxshape unlimited, chunks of up to
 * H5X_CHUNK elements, the file's compression), written from data. */
int h5x_column(h5x *x, hid_t loc, const char *name, hid_t type, size_t n, const void *data);
/* A column of texts (NULL written as ""). */
int h5x_column_str(h5x *x, hid_t loc, const char *name, size_t n, char *const *s);
/* An N-D uint8 dataset, chunked by its first dimension, compressed, that
 * will get nattrs attributes. */
hid_t h5x_create_u8(h5x *x, hid_t loc, const char *name, int rank, const hsize_t *dims,
                    size_t nattrs);
/* The attributes an image dataset gets (spec/HDF5.md §4.3): the Image
 * specification's four, step, index, digest, format and caption. */
#define H5X_IMAGE_ATTRS 9u
/* A scalar text dataset. */
int h5x_scalar_str(h5x *x, hid_t loc, const char *name, const char *s);

/* ---- attributes ---- */

int h5x_attr_str(h5x *x, hid_t loc, const char *name, const char *s); /* NULL: h5py.Empty */
int h5x_attr_strn(h5x *x, hid_t loc, const char *name, const char *s, size_t len);
int h5x_attr_ascii(h5x *x, hid_t loc, const char *name, const char *s); /* fixed-length ASCII */
int h5x_attr_i64(h5x *x, hid_t loc, const char *name, int64_t v);
int h5x_attr_u64(h5x *x, hid_t loc, const char *name, uint64_t v);
int h5x_attr_f64(h5x *x, hid_t loc, const char *name, double v);
int h5x_attr_u8(h5x *x, hid_t loc, const char *name, uint8_t v);
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

/* ---- media (hdf5_media.c) ---- */

/* A source of blobs: the readers of the files of one run. damaged[i]: file
 * i had damaged frames skipped (its unreadable blobs are left out). */
typedef struct h5x_blobs {
    runlog_reader **readers;
    const char **paths;
    const int *damaged;
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

/* ---- runs: the run set (spec/EXPORTS.md §11) and their history ---- */

/* A run of the run set, its files in merge order (the set's readers, read
 * by every pass and for blobs). damaged[f]: damaged frames of file f were
 * skipped (tolerant), so its unreadable blobs are left out. */
typedef struct h5x_run {
    runlog_runset *set;
    size_t index; /* the run in set */
    const char *id;
    size_t n;
    const char **paths;
    runlog_reader **readers;
    const runlog_run **runs;
    int *damaged;
} h5x_run;

/* One history value. Numbers, bools and nulls are copied; other values
 * point into the runlog_history they came from, which lives until the key
 * is written. */
typedef struct h5x_cell {
    union {
        double f;
        int64_t i;
        const runlog_value *v;
    } u;
    uint32_t src; /* the file (its index in the run) */
    uint8_t type; /* runlog_type */
} h5x_cell;

typedef struct h5x_series {
    size_t n;
    uint64_t *step;
    int64_t *t;
    h5x_cell *c;
} h5x_series;

void h5x_series_free(h5x_series *s);
int h5x_series_alloc(h5x_series *s, size_t n);

/* The history of every key of a run, read in one pass over each file
 * (hdf5_history.c): runlog_reader_history() per key decodes every frame
 * once per key, which made wide runs quadratic. Keys whose values are all
 * numbers, bools or nulls are held as series; the others ("complex":
 * strings, maps, lists, bytes, media) are read alone, as merged by
 * runlog_runset_history(). */
typedef struct h5x_hist h5x_hist;

/* The pass over the files of run, inside each file's snapshot; every
 * record that is not a history row goes to on_record (NULL: skipped), with
 * f the file's index; a non-zero return ends the pass with it. */
typedef int (*h5x_record_fn)(void *ctx, size_t f, const runlog_record *rec);
int h5x_hist_read(h5x_hist **out, const h5x_run *run, h5x_record_fn on_record, void *ctx);
void h5x_hist_free(h5x_hist *h);
/* Key i of the run (runlog_runset_key order): its merged series, owned by
 * h and valid until the next call (a complex key's values point into the
 * history read for it). 0 or a runlog_error with the detail set. */
int h5x_hist_series(h5x_hist *h, size_t i, const h5x_series **out);

/* ---- above the runs (hdf5_index.c), once every run is written ---- */

/* /runs_index: one compound row per run, in the order of /runs
 * (spec/HDF5.md §3.1). 0 or a runlog_error with the detail set. */
int h5x_runs_index(h5x *x, const h5x_run *runs, size_t nruns);
/* /projects/<project>/<name>: soft links to /runs/<id>; of several runs
 * with one project and name, the one that started last (§3.2). A notice
 * names each repeated name. 0 or a runlog_error with the detail set. */
int h5x_name_links(h5x *x, const h5x_run *runs, size_t nruns);
/* The table just written as tables/<n> (its group `name` under the key's
 * group `tables`) also as the soft link tables_by_step/<key>/<step> of the
 * run group rg (§4.4); *by_step is the key's group there, opened on the
 * first call (H5I_INVALID_HID before; the caller closes it). -1 on an
 * HDF5 failure. */
int h5x_table_step_link(h5x *x, hid_t rg, hid_t *by_step, const char *key, hid_t tables,
                        const char *name, uint64_t step);

#endif
