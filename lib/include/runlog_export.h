/*
 * runlog_export.h — librunlog-export: the converters over librunlog.
 *
 * One call, runlog_export(), turns one or more run-logs into another form:
 * JSON, JSON Lines, CSV (wide, long, one table), the per-key history CSV,
 * the record dump, HDF5 for h5py, W&B's offline-run directory, or files
 * extracted from the run (every image, one artifact version). The shapes are
 * specified in spec/EXPORTS.md and spec/HDF5.md; the command `runlog export`,
 * `dump`, `history` and `extract` are this call with options parsed from
 * argv.
 *
 * It is a second library so that a training job that only writes run-logs
 * links librunlog alone: this one links HDF5, protobuf-c, libspng, libjpeg
 * and libmd where they were found at build time. runlog_export_supported()
 * says which formats this build has.
 *
 * Conventions are librunlog's (runlog.h): 0 or a negative runlog_error, the
 * detail in runlog_error_detail(), no printing, no globals. What a command
 * would print along the way (damage skipped, a key left out, a file
 * written) goes to the caller's notice callback; progress to the progress
 * callback. Both are called on the caller's thread, from inside
 * runlog_export().
 */
#ifndef RUNLOG_EXPORT_H
#define RUNLOG_EXPORT_H

#include "runlog.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && !defined(__GNUC__)
#  define RUNLOG_EXPORT_API
#elif defined(RUNLOG_BUILDING_EXPORT)
#  define RUNLOG_EXPORT_API __attribute__((visibility("default")))
#else
#  define RUNLOG_EXPORT_API
#endif

/** What runlog_export() writes. */
typedef enum runlog_export_format {
    RUNLOG_EXPORT_JSON = 1,      /**< one JSON document (spec/EXPORTS.md §2) */
    RUNLOG_EXPORT_JSONL = 2,     /**< the history only, one JSON object per row (§3) */
    RUNLOG_EXPORT_CSV = 3,       /**< the wide history: _step,_timestamp, every key (§4.2) */
    RUNLOG_EXPORT_CSV_LONG = 4,  /**< one line per value: step,key,value (§4.3) */
    RUNLOG_EXPORT_CSV_TABLE = 5, /**< one table, options.table (§4.5) */
    RUNLOG_EXPORT_HISTORY = 6,   /**< key,step,timestamp,value of options.keys (§4.4) */
    RUNLOG_EXPORT_DUMP = 7,      /**< every record, one JSON object per line (§5) */
    RUNLOG_EXPORT_HDF5 = 8,      /**< every run into one HDF5 file (spec/HDF5.md) */
    RUNLOG_EXPORT_WANDB = 9,     /**< each run as a W&B offline run under a directory (§10) */
    RUNLOG_EXPORT_IMAGES = 10,   /**< every image as a file under a directory (§9.5) */
    RUNLOG_EXPORT_ARTIFACT = 11, /**< one artifact version's files under a directory (§9.6) */
    RUNLOG_EXPORT_REPORT = 12    /**< one self-contained HTML page of any number of runs:
                                      runs table, charts, media (§13); a stream format
                                      (a path or out_fd); meson feature 'report' */
} runlog_export_format;

/** What to do with damage in the middle of a file (spec/EXPORTS.md §1.5).
 *  A torn tail is never damage: it is "not yet written". */
typedef enum runlog_damage_policy {
    RUNLOG_DAMAGE_TOLERANT = 0, /**< the default: damaged frames are skipped, each
                                     range is a RUNLOG_NOTICE_DAMAGE, the output is
                                     written whole and the call returns
                                     RUNLOG_EDAMAGED */
    RUNLOG_DAMAGE_STRICT = 1    /**< the first damaged frame fails the call (its
                                     checksum or corruption code, the detail naming
                                     file and offset); nothing is left at the output */
} runlog_damage_policy;

/** Kinds of notices. */
typedef enum runlog_notice_kind {
    RUNLOG_NOTICE_DAMAGE = 1,  /**< "FILE: byte OFFSET: KIND, LENGTH bytes skipped (WHY)" */
    RUNLOG_NOTICE_TORN = 2,    /**< the same for a torn tail (not an error) */
    RUNLOG_NOTICE_WARNING = 3, /**< something left out, renamed or taken as it stands */
    RUNLOG_NOTICE_OUTPUT = 4   /**< one line on what was written (a file, a run, a count) */
} runlog_notice_kind;

/** text is valid during the call only. */
typedef void (*runlog_notice_fn)(void *payload, runlog_notice_kind kind, const char *text);
/** done of total units of work (total may grow while the export runs). */
typedef void (*runlog_progress_fn)(void *payload, uint64_t done, uint64_t total);

/** HDF5 compression (spec/HDF5.md "Datasets"). */
typedef enum runlog_hdf5_compression {
    RUNLOG_HDF5_GZIP = 0, /**< deflate + shuffle, level 0-9 (default 4): any h5py reads it */
    RUNLOG_HDF5_ZSTD = 1, /**< filter 32015, level 1-22 (default 3): readers need the plugin */
    RUNLOG_HDF5_NONE = 2
} runlog_hdf5_compression;

#define RUNLOG_EXPORT_OPTIONS_VERSION 1

typedef struct runlog_export_options {
    unsigned version;            /**< RUNLOG_EXPORT_OPTIONS_VERSION */
    runlog_export_format format;
    runlog_damage_policy damage;
    runlog_notice_fn notice;     /**< NULL: notices are dropped */
    runlog_progress_fn progress; /**< NULL: no progress */
    void *payload;               /**< passed to notice and progress */
    /** Stream formats (JSON ... DUMP) write here when `out` is NULL: a file
     *  descriptor that stays the caller's (not closed). -1 (the default):
     *  `out` is required. */
    int out_fd;
    /** RUNLOG_EXPORT_HISTORY: the keys, in order (required, nkeys >= 1). A
     *  key that never appears is a RUNLOG_NOTICE_WARNING and the other keys
     *  are still written; the call then returns RUNLOG_ENOTFOUND (detail:
     *  the last such warning), so an output path is not left. */
    const char *const *keys;
    size_t nkeys;
    /** RUNLOG_EXPORT_CSV_TABLE: "KEY" (the last table logged under KEY) or
     *  "KEY@STEP". */
    const char *table;
    /** RUNLOG_EXPORT_ARTIFACT: "NAME" (latest), "NAME:vN" or "NAME:ALIAS". */
    const char *artifact;
    /** RUNLOG_EXPORT_HDF5. */
    runlog_hdf5_compression hdf5_compression;
    int hdf5_level;              /**< -1: the compression's default */
    int hdf5_artifact_data;      /**< non-zero: embed artifacts' stored files */
    /** RUNLOG_EXPORT_WANDB: W&B entity and project (NULL: none, and the run's
     *  own project). */
    const char *wandb_entity;
    const char *wandb_project;
    /** RUNLOG_EXPORT_WANDB: 0 (the default): an artifact's reference entries
     *  are names only, never opened (a run-log from elsewhere may name
     *  /dev/zero or a FIFO); their digest is runlog's XXH3-128 in hex.
     *  Non-zero: a reference to a local regular file whose size is the
     *  recorded one is read for W&B's MD5 (opened without blocking, refused
     *  unless a regular file, read up to the recorded size). */
    int wandb_hash_references;
    /** RUNLOG_EXPORT_JSON, JSONL: 0 (the default): NaN and the infinities as
     *  the strings "NaN", "Infinity", "-Infinity" (exact, but a pandas
     *  column holding them is of objects); non-zero: as null (a float
     *  column with NaN in pandas; ±Inf become NaN too). spec/EXPORTS.md §1.2. */
    int json_nan_null;
    /** RUNLOG_EXPORT_CSV: 0 (the default): one file's rows. Non-zero
     *  (`export csv --with-run`): several inputs may be given, read as a run
     *  set (spec/EXPORTS.md §11), one file per run (a run kept in several
     *  files is RUNLOG_EUNSUPPORTED: export hdf5 merges them); every row
     *  starts with its run's `_run_id`, `_run_name`, `_run_project`,
     *  `_run_group` and a `config.KEY` column per config entry of any run,
     *  then `_step`, `_timestamp` and every history key of any run
     *  (spec/EXPORTS.md §4.6). Other formats: RUNLOG_EINVAL. */
    int csv_with_run;
} runlog_export_options;

#define RUNLOG_EXPORT_OPTIONS_INIT { RUNLOG_EXPORT_OPTIONS_VERSION, RUNLOG_EXPORT_JSON, \
    RUNLOG_DAMAGE_TOLERANT, NULL, NULL, NULL, -1, NULL, 0, NULL, NULL, \
    RUNLOG_HDF5_GZIP, -1, 0, NULL, NULL, 0, 0, 0 }

/**
 * Exports inputs[0..n) as opts->format says.
 *
 * @param inputs  run-log paths. HDF5, W&B and REPORT take any number (files of one
 *                run are merged by the run-set rule, spec/EXPORTS.md); every
 *                other format takes exactly one.
 * @param out     the output: a file for the stream formats and HDF5, written
 *                beside and renamed into place, so that it appears whole or
 *                not at all; a directory for WANDB, IMAGES and ARTIFACT
 *                (created if missing; nothing is ever written outside it). NULL
 *                for a stream format: write to opts->out_fd. An output that is
 *                one of the inputs (same file, through a link or not) is
 *                refused before anything is written.
 * @param opts    NULL: RUNLOG_EXPORT_OPTIONS_INIT (JSON to ... nothing: then
 *                out is required).
 * @return 0; RUNLOG_EDAMAGED: the output is complete but damaged frames were
 *         skipped (tolerant policy; each range was a notice); RUNLOG_EINVAL
 *         (bad options, output is an input, wrong number of inputs, a bad
 *         table or artifact spec, files of one run id that conflict, as
 *         runlog_runset_open() refuses them); RUNLOG_ENOTFOUND (no such key,
 *         table or artifact); RUNLOG_EUNSUPPORTED (format not in this build);
 *         RUNLOG_ESTATE (an output that must not be replaced exists); RUNLOG_EIO; RUNLOG_ENOMEM; and, strict,
 *         the code of the first damage. On failure nothing is left at `out`
 *         (a directory output keeps what other, complete runs wrote there).
 */
RUNLOG_EXPORT_API RUNLOG_NODISCARD int runlog_export(const char *const *inputs, size_t n,
                                                     const char *out,
                                                     const runlog_export_options *opts);

/** Non-zero when this build of librunlog-export writes `format`. */
RUNLOG_EXPORT_API int runlog_export_supported(runlog_export_format format);

/** Version of librunlog-export; always equal to librunlog's RUNLOG_VERSION_STRING. */
RUNLOG_EXPORT_API const char *runlog_export_version(void);

#ifdef __cplusplus
}
#endif

#endif
