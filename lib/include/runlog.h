/*
 * runlog.h — the public API of librunlog.
 *
 * librunlog writes and reads run-logs: append-only, compressed, checksummed
 * files that hold one machine-learning experiment run (identity, config,
 * metric history, summary, alerts, console output, how the run ended).
 * The byte format is specified in spec/FORMAT.md; this header is the only
 * one installed.
 *
 * Conventions (docs/CONVENTIONS.md):
 *  - Every fallible function returns 0 on success or a negative
 *    runlog_error code. On failure, *out is left untouched and
 *    runlog_error_detail() describes what went wrong (file, byte offset,
 *    field) for the calling thread.
 *  - The one output parameter comes first and is named `out`.
 *  - Destructors (`*_free`, `*_close`) accept NULL and return nothing.
 *  - Strings are UTF-8 and NUL-terminated unless a length is given.
 *  - The library never prints, never exits and never installs signal
 *    handlers.
 *  - A writer or reader handle may be used by one thread at a time; distinct
 *    handles are independent. A reader and its cursors count as one handle
 *    (see runlog_cursor_open()).
 */
#ifndef RUNLOG_H
#define RUNLOG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && !defined(__GNUC__)
#  define RUNLOG_API
#elif defined(RUNLOG_BUILDING_LIBRARY)
#  define RUNLOG_API __attribute__((visibility("default")))
#else
#  define RUNLOG_API
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define RUNLOG_NODISCARD __attribute__((warn_unused_result))
#else
#  define RUNLOG_NODISCARD
#endif

/** Library version (not the file format version, see RUNLOG_FORMAT_VERSION). */
#define RUNLOG_VERSION_MAJOR 0
#define RUNLOG_VERSION_MINOR 3
#define RUNLOG_VERSION_PATCH 0
#define RUNLOG_VERSION_STRING "0.3.0"

/** The file format version this library writes (spec/FORMAT.md). */
#define RUNLOG_FORMAT_VERSION 1

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/** Result codes. 0 is success; failures are small negative numbers that
 *  never change meaning between releases. */
typedef enum runlog_error {
    RUNLOG_OK = 0,
    RUNLOG_ENOMEM = -1,       /**< out of memory */
    RUNLOG_EIO = -2,          /**< a system call on the file failed */
    RUNLOG_EINVAL = -3,       /**< invalid argument (NULL, bad UTF-8, over a limit) */
    RUNLOG_ENOTRUNLOG = -4,   /**< the file is not a run-log (bad magic) */
    RUNLOG_EUNSUPPORTED = -5, /**< unsupported format version, feature or record */
    RUNLOG_ECORRUPT = -6,     /**< malformed bytes inside a checksummed unit */
    RUNLOG_ECHECKSUM = -7,    /**< a checksum does not match */
    RUNLOG_ETRUNCATED = -8,   /**< the file ends inside a header or frame */
    RUNLOG_ELOCKED = -9,      /**< another writer holds the file */
    RUNLOG_ETOOLARGE = -10,   /**< a size is over a limit of spec/FORMAT.md */
    RUNLOG_ESTATE = -11,      /**< call not valid now (step going back, run finished) */
    RUNLOG_ENOTFOUND = -12,   /**< no such key or item */
    RUNLOG_EAGAIN = -13,      /**< following a live file: nothing new yet */
    RUNLOG_ITEROVER = -14,    /**< iteration is over (not a failure) */
    RUNLOG_EDAMAGED = -15     /**< done, but damaged frames were skipped (tolerant reads) */
} runlog_error;

/** Static English text for a code; never NULL. */
RUNLOG_API const char *runlog_strerror(int code);

/** Where the last failure of this thread happened, e.g.
 *  "run.runlog: byte 4096: frame header checksum mismatch". Never NULL;
 *  empty when nothing failed yet. Valid until the next librunlog call on
 *  this thread. */
RUNLOG_API const char *runlog_error_detail(void);

/** Sets this thread's detail text (printf-style) and returns code, for
 *  libraries and bindings layered on librunlog (librunlog-export, the
 *  Python package) that report through the same error model:
 *  `return runlog_error_set(RUNLOG_EINVAL, "%s: no table '%s'", path, key);` */
RUNLOG_API int runlog_error_set(int code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** Frees memory that the library allocated for the caller (JSON texts). */
RUNLOG_API void runlog_free(void *ptr);

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

/** A structured value (config entries, summary entries, record bodies,
 *  history cells). Values returned by the library are owned by the object
 *  they came from (reader, record or history) and are read-only. */
typedef struct runlog_value runlog_value;

typedef enum runlog_type {
    RUNLOG_NULL = 0,
    RUNLOG_BOOL = 1,
    RUNLOG_INT = 2,    /**< int64 */
    RUNLOG_FLOAT = 3,  /**< float64, bit-exact (NaN payloads, -0.0, inf) */
    RUNLOG_STRING = 4, /**< UTF-8 text */
    RUNLOG_BYTES = 5,
    RUNLOG_LIST = 6,
    RUNLOG_MAP = 7     /**< text keys, in insertion order */
} runlog_type;

RUNLOG_API runlog_type runlog_value_type(const runlog_value *v);
/** 1 or 0; 0 when v is not a bool. */
RUNLOG_API int runlog_value_bool(const runlog_value *v);
/** The integer; 0 when v is not an int. */
RUNLOG_API int64_t runlog_value_int(const runlog_value *v);
/** The float, or an int converted to double; NaN for anything else. */
RUNLOG_API double runlog_value_float(const runlog_value *v);
/** The bytes of a string or byte string (NUL-terminated for convenience,
 *  though strings may hold NUL); NULL for other types. len may be NULL. */
RUNLOG_API const char *runlog_value_string(const runlog_value *v, size_t *len);
/** Number of items of a list or entries of a map; 0 otherwise. */
RUNLOG_API size_t runlog_value_count(const runlog_value *v);
/** Item i of a list, or the value of entry i of a map; NULL if out of range. */
RUNLOG_API const runlog_value *runlog_value_item(const runlog_value *v, size_t i);
/** Key of entry i of a map; NULL if out of range or not a map. */
RUNLOG_API const char *runlog_value_key(const runlog_value *v, size_t i, size_t *len);
/** The value under key in a map (the last one, if repeated); NULL if none. */
RUNLOG_API const runlog_value *runlog_value_get(const runlog_value *v, const char *key);

/** Flags for runlog_value_to_json(). */
#define RUNLOG_JSON_PRETTY 1u   /**< indent with two spaces */
#define RUNLOG_JSON_NAN_NULL 2u /**< NaN and the infinities as null (pandas, json.load
                                     users), not as the strings "NaN", "Infinity" */

/**
 * Renders a value as JSON text (spec/EXPORTS.md: NaN and infinities become
 * the strings "NaN", "Infinity", "-Infinity"; bytes become base64 strings).
 *
 * @param out   receives a NUL-terminated text; free it with runlog_free().
 * @param v     the value; must not be NULL.
 * @param flags 0, or RUNLOG_JSON_PRETTY and RUNLOG_JSON_NAN_NULL or'd.
 * @return 0, RUNLOG_EINVAL, RUNLOG_ENOMEM.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_value_to_json(char **out, const runlog_value *v,
                                                     unsigned flags);

/* ------------------------------------------------------------------------ */
/* Writer                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct runlog_writer runlog_writer;

/** A clock for tests: returns Unix time in nanoseconds. */
typedef int64_t (*runlog_clock_fn)(void *clock_ctx);

#define RUNLOG_WRITER_OPTIONS_VERSION 1

/** Options of runlog_writer_open(). Start from RUNLOG_WRITER_OPTIONS_INIT;
 *  every pointer may be NULL and every number 0 for "the default". */
typedef struct runlog_writer_options {
    unsigned version; /**< RUNLOG_WRITER_OPTIONS_VERSION */

    /* Identity, recorded when the file is created (ignored on resume except
     * run_id, which must then match the file's). */
    const char *run_id;   /**< NULL: a random UUIDv4 (libuuid), as text */
    const char *project;
    const char *name;     /**< display name */
    const char *group;
    const char *job_type;
    const char *notes;
    const char *const *tags; /**< array of n_tags strings */
    size_t n_tags;

    /* Flush policy (spec/FORMAT.md "Durability"). A SIGKILL loses at most the
     * rows committed in the last flush_interval_ms plus those not yet written
     * by the writer thread. */
    uint32_t flush_interval_ms; /**< 0: 1000 ms; RUNLOG_NO_TIMED_FLUSH: never by time */
    uint32_t flush_bytes;       /**< a frame is cut at this many pending bytes; 0: 1 MiB,
                                     grown while fewer than 384 rows are pending, up
                                     to a 40 MiB frame (wide rows: each key's values
                                     in a few long slices; ~rows x keys x 80 bytes of
                                     memory for float keys, ~310 MiB at 10,000 keys) */
    uint32_t max_queued_frames; /**< sealed batches waiting for the thread; 0: 4. Past
                                     the first, they hold at most this many times
                                     flush_bytes; a grown batch of wide rows waits
                                     until the thread has written the one before */
    int synchronous;            /**< 1: no writer thread; the caller encodes and writes */
    int zstd_level;             /**< 0: 3 */

    /* Determinism, for tests and reproducible files. */
    runlog_clock_fn clock;   /**< NULL: CLOCK_REALTIME */
    void *clock_ctx;
    uint64_t salt;           /**< 0: random */
    const uint8_t *file_uuid; /**< 16 bytes; NULL: random */
} runlog_writer_options;

#define RUNLOG_NO_TIMED_FLUSH UINT32_MAX
#define RUNLOG_WRITER_OPTIONS_INIT { RUNLOG_WRITER_OPTIONS_VERSION, NULL, NULL, NULL, NULL, \
    NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL }

/**
 * Opens a run-log for writing: creates it (writing the header and a run-start
 * record with the identity in opts), or resumes an existing one. On resume a
 * torn tail (bytes after the last intact frame) is moved to the sidecar file
 * "PATH.torn-OFFSET" and cut off, a resume record is written, and the
 * automatic step continues after the last committed step.
 *
 * The file is locked for writing (an advisory OFD lock); readers may read it
 * meanwhile.
 *
 * @param out  receives the writer; close it with runlog_writer_close().
 * @param path file path; must not be NULL.
 * @param opts NULL for all defaults.
 * @return 0; RUNLOG_ELOCKED if another writer holds the file; RUNLOG_EIO;
 *         RUNLOG_ENOTRUNLOG, RUNLOG_EUNSUPPORTED, RUNLOG_ECORRUPT when an
 *         existing file cannot be resumed; RUNLOG_EINVAL for bad options
 *         (or a run_id different from the file's); RUNLOG_ENOMEM.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_open(runlog_writer **out, const char *path,
                                                   const runlog_writer_options *opts);

/**
 * As runlog_writer_open(), for a caller that commits a row at a step it
 * knows before opening (`runlog log`: one row per open): when the commit
 * rules would refuse that row (runlog_writer_commit_step(step), or
 * runlog_writer_commit() when step is NULL), the open fails with the same
 * error and detail as that commit, and the file is left byte for byte as it
 * was: a new file is not created, a torn tail is not cut, and no run-start
 * or resume record is written (which runlog_writer_open() would write even
 * if the commit were then refused). The step is checked after the file is
 * locked, so the first commit at that step is not refused for its step.
 *
 * @param out  receives the writer; close it with runlog_writer_close().
 * @param path file path; must not be NULL.
 * @param opts NULL for all defaults.
 * @param step the step of the first commit; NULL for the automatic step.
 *             Not kept: the commit still names its step.
 * @return as runlog_writer_open(), and: RUNLOG_EINVAL for a step above
 *         RUNLOG_MAX_STEP, or with step NULL when no automatic step follows
 *         the file's last step; RUNLOG_ESTATE for a step lower than the
 *         file's last step. The detail names the file and the steps.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_open_for_step(runlog_writer **out, const char *path,
                                                            const runlog_writer_options *opts,
                                                            const uint64_t *step);

/** The run id (text); owned by the writer. */
RUNLOG_API const char *runlog_writer_run_id(const runlog_writer *w);

/** 1 if runlog_writer_open() resumed an existing file, else 0. */
RUNLOG_API int runlog_writer_resumed(const runlog_writer *w);

/** The step the next runlog_writer_commit() will use. */
RUNLOG_API uint64_t runlog_writer_next_step(const runlog_writer *w);

/* Config. Keys are UTF-8, at most RUNLOG_MAX_KEY bytes. A later set of the
 * same key replaces the earlier value. */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_config_double(runlog_writer *w, const char *key, double v);
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_config_int(runlog_writer *w, const char *key, int64_t v);
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_config_bool(runlog_writer *w, const char *key, int v);
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_config_string(runlog_writer *w, const char *key, const char *v);
/** Sets every entry of a JSON object (nested values allowed).
 *  @return RUNLOG_EINVAL when json is not a JSON object (detail: line and column). */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_config_json(runlog_writer *w, const char *json);

/* History: values added to the current row stay pending until a commit
 * (like wandb.log(..., commit=False)). Adding a key twice to one row keeps
 * the last value. A row holds at most RUNLOG_MAX_ROW_KEYS keys: adding one
 * more is refused with RUNLOG_ETOOLARGE (the row keeps its other values). */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_add_double(runlog_writer *w, const char *key, double v);
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_add_int(runlog_writer *w, const char *key, int64_t v);
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_add_bool(runlog_writer *w, const char *key, int v);
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_add_string(runlog_writer *w, const char *key, const char *v);
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_add_null(runlog_writer *w, const char *key);
/** Adds a structured value given as JSON text (any JSON value). */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_add_json(runlog_writer *w, const char *key, const char *json);

/**
 * Commits the pending row at the automatic step (the last committed step + 1,
 * or 0 for the first row), stamped with the current time. Committing with no
 * pending values is allowed (an empty row advances the step).
 * @return 0; RUNLOG_ESTATE after finish; RUNLOG_EINVAL when the last step is
 *         above RUNLOG_MAX_STEP - 1 (no automatic step follows it; the row is
 *         kept pending); RUNLOG_EIO/RUNLOG_ENOMEM when the writer thread
 *         failed earlier (the row is kept pending).
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_commit(runlog_writer *w);

/**
 * Commits the pending row at an explicit step. A step lower than the last
 * committed one is refused with RUNLOG_ESTATE, a step above RUNLOG_MAX_STEP
 * with RUNLOG_EINVAL; either way nothing is written (the pending values stay
 * pending). An equal step records another row at the same step.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_commit_step(runlog_writer *w, uint64_t step);

/** Drops the values added since the last commit (nothing is written).
 *  @return 0; RUNLOG_EINVAL when w is NULL. */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_discard_row(runlog_writer *w);

/* Summary values (explicit; readers derive the rest from the last value of
 * each history key). */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_summary_double(runlog_writer *w, const char *key, double v);
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_summary_int(runlog_writer *w, const char *key, int64_t v);
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_summary_string(runlog_writer *w, const char *key, const char *v);
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_summary_json(runlog_writer *w, const char *key, const char *json);

typedef enum runlog_alert_level {
    RUNLOG_ALERT_INFO = 0,
    RUNLOG_ALERT_WARN = 1,
    RUNLOG_ALERT_ERROR = 2
} runlog_alert_level;

/** Records an alert (as wandb.alert). text may be NULL. */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_alert(runlog_writer *w, const char *title,
                                                    const char *text, runlog_alert_level level);

typedef enum runlog_stream {
    RUNLOG_STDOUT = 1,
    RUNLOG_STDERR = 2
} runlog_stream;

/** Records console bytes (any bytes, partial lines included) of one stream.
 *  A chunk over RUNLOG_MAX_STRING bytes is split into several records. */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_console(runlog_writer *w, runlog_stream stream,
                                                      const void *data, size_t len);

/**
 * Records run metadata (host, OS, git, batch-system context...): every entry
 * of a JSON object; later calls add to or replace earlier entries.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_metadata_json(runlog_writer *w, const char *json);

/**
 * Records one sample of system metrics (CPU, memory, GPU...): n named float64
 * values stamped with the current time, kept apart from the history (they do
 * not take history steps or appear in the auto-summary). At most
 * RUNLOG_MAX_ROW_KEYS keys, each once: RUNLOG_ETOOLARGE, RUNLOG_EINVAL.
 *
 * Thread safety: this, runlog_writer_console(), runlog_writer_alert(), the
 * config, summary and metadata setters may be called from another thread
 * (a sampler, a console reader) while one thread adds and commits rows.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_system(runlog_writer *w, const char *const *keys,
                                                     const double *values, size_t n);

/**
 * Puts every committed row and record into the file (write(2)); after it
 * returns they survive the process being killed. Pending, uncommitted values
 * are not written. Blocks until the writer thread has written them.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_flush(runlog_writer *w);

/** runlog_writer_flush(), then fsync(2): the data survives a power loss. */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_sync(runlog_writer *w);

/**
 * Records how the run ended (exit code 0: "finished", else "failed"), flushes,
 * writes the index and trailer, and fsyncs. Later history calls return
 * RUNLOG_ESTATE. A pending uncommitted row is committed first.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_finish(runlog_writer *w, int exit_code);

/**
 * Writes pending uncommitted values as a partial record (a resumed writer
 * restores them), flushes, writes the index and trailer, releases the lock
 * and frees the writer. A run closed without runlog_writer_finish() stays "running" (a
 * later open resumes it; readers call it "crashed" once nobody holds the
 * lock). Returns the first error met while writing, if any; the writer is
 * freed in every case. Accepts NULL.
 */
RUNLOG_API int runlog_writer_close(runlog_writer *w);

/**
 * For a child process after fork(): forgets the parent's writer without
 * writing anything. It closes the child's copy of the file descriptor and
 * nothing else: no record, no flush, no lock call, no mutex (the writer
 * thread does not exist in the child, and a parent thread may have held the
 * writer's mutex at the fork). The lock is an OFD lock, which belongs to the
 * open file description that parent and child share; it is released only
 * when every descriptor of it is closed, so a child that keeps its copy
 * (a DataLoader worker) keeps the run locked after the parent dies. After
 * this call w must not be used again, not even closed; its memory is left
 * to the child's exit. Calls only close(2), so it is safe in a
 * pthread_atfork() child handler. Accepts NULL.
 */
RUNLOG_API void runlog_writer_abandon(runlog_writer *w);

/* ------------------------------------------------------------------------ */
/* Reader                                                                    */
/* ------------------------------------------------------------------------ */

/* A reader is one open file: its descriptor, its checked header, and what
 * passes over it learn (the blob index, where each key's frames lie). Every
 * read goes through that one descriptor with pread(2): nothing reopens the
 * path, so the file may be renamed or unlinked once it is open. Passes over
 * the records are cursors (runlog_cursor_open()); runlog_reader_next() is a
 * cursor the reader owns, and runlog_reader_run(), runlog_reader_history(),
 * the blob and table reads each make their own internal pass, so none of
 * them moves another pass. */
typedef struct runlog_reader runlog_reader;
typedef struct runlog_record runlog_record;
/** One pass over the records of a reader, in file order. */
typedef struct runlog_cursor runlog_cursor;

#define RUNLOG_READER_OPTIONS_VERSION 1

/** Reader modes. */
#define RUNLOG_READ_STRICT 0u   /**< damage in the middle of the file is an error */
#define RUNLOG_READ_TOLERANT 1u /**< damaged frames are skipped and reported */
#define RUNLOG_READ_FOLLOW 2u   /**< at the end, report RUNLOG_EAGAIN instead of ITEROVER
                                     until a finish record is read */

typedef struct runlog_reader_options {
    unsigned version; /**< RUNLOG_READER_OPTIONS_VERSION */
    unsigned flags;   /**< RUNLOG_READ_* */
} runlog_reader_options;

#define RUNLOG_READER_OPTIONS_INIT { RUNLOG_READER_OPTIONS_VERSION, 0u }

/**
 * Opens a run-log for reading. Only the file header is checked here; frames
 * are checked as they are read. A torn tail (an incomplete last frame) is
 * never an error: it is "not yet written".
 * @return 0; RUNLOG_EIO; RUNLOG_ENOTRUNLOG; RUNLOG_ETRUNCATED (shorter than
 *         the file header); RUNLOG_EUNSUPPORTED (version or required feature);
 *         RUNLOG_ECHECKSUM (file header); RUNLOG_ENOMEM.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_reader_open(runlog_reader **out, const char *path,
                                                   const runlog_reader_options *opts);

RUNLOG_API void runlog_reader_close(runlog_reader *r);

/** The file's UUID (16 bytes) and salt, from the file header. */
RUNLOG_API const uint8_t *runlog_reader_file_uuid(const runlog_reader *r);
/** Creation time from the file header, Unix ns. */
RUNLOG_API int64_t runlog_reader_created(const runlog_reader *r);

typedef enum runlog_record_type {
    RUNLOG_RECORD_RUN_START = 1,
    RUNLOG_RECORD_CONFIG = 2,
    RUNLOG_RECORD_HISTORY = 3, /**< one committed row */
    RUNLOG_RECORD_SUMMARY = 4,
    RUNLOG_RECORD_ALERT = 5,
    RUNLOG_RECORD_CONSOLE = 6,
    RUNLOG_RECORD_RESUME = 7,
    RUNLOG_RECORD_FINISH = 8,
    RUNLOG_RECORD_PARTIAL = 9,  /**< values added but not committed when the writer
                                     closed; a resumed writer commits them with its
                                     next row, so readers need not merge them */
    RUNLOG_RECORD_SYSTEM = 10,  /**< one system metrics sample: fields like a history
                                     row; its step is the sample's sequence number */
    RUNLOG_RECORD_METADATA = 11, /**< run metadata (host, git, batch system...) */
    RUNLOG_RECORD_ARTIFACT = 12, /**< a logged artifact version (manifest) */
    RUNLOG_RECORD_ALIAS = 13     /**< aliases given to an existing artifact version */
} runlog_record_type;

/** Name of a record type ("run_start", "history", ...); "unknown" otherwise. */
RUNLOG_API const char *runlog_record_type_name(int type);

/**
 * The next record in file order, from the reader's own cursor (made on the
 * first call; it is runlog_cursor_next() on it). A history chunk yields one
 * record per row. The record is owned by the reader and valid until the
 * next runlog_reader_next() or runlog_reader_close(); other calls on the
 * reader (run, history, blobs, other cursors) leave it valid.
 * @return 0; RUNLOG_ITEROVER at the end; RUNLOG_EAGAIN when following and
 *         nothing new is complete yet (call again later); in strict mode
 *         RUNLOG_ECHECKSUM / RUNLOG_ECORRUPT / RUNLOG_EUNSUPPORTED at damage
 *         (detail names the byte offset); RUNLOG_EIO; RUNLOG_ENOMEM;
 *         RUNLOG_EINVAL (NULL argument).
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_reader_next(runlog_reader *r, const runlog_record **out);

/**
 * Starts a pass over the records of r, from the first frame. A cursor takes
 * the reader's flags (RUNLOG_READ_TOLERANT, RUNLOG_READ_FOLLOW): they are a
 * property of how the file is read, chosen once at runlog_reader_open().
 * Any number of cursors may be open on one reader; each keeps its own
 * position and workspace and reads through the reader's descriptor.
 *
 * Threads: a reader and all its cursors share the reader's caches (blob
 * index, scanned frames), so together they are one handle: calls on any of
 * them must not overlap in time. Several cursors may be used alternately
 * from one thread (or from several threads that take turns under their own
 * lock); to read one file in parallel, open one reader per thread.
 *
 * Every cursor must be closed before its reader.
 *
 * @param out receives the cursor; close it with runlog_cursor_close().
 * @param r   an open reader; must not be NULL.
 * @return 0; RUNLOG_EINVAL (NULL argument); RUNLOG_ENOMEM.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_cursor_open(runlog_cursor **out, runlog_reader *r);

/**
 * The next record of the cursor's pass, exactly as runlog_reader_next()
 * (same records, same errors, same following). The record is owned by the
 * cursor and valid until the next runlog_cursor_next() on the same cursor,
 * or until the cursor or its reader is closed; calls on other cursors or on
 * the reader leave it valid.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_cursor_next(runlog_cursor *c, const runlog_record **out);

/** Ends a pass and frees the cursor (and the record it last gave). Accepts NULL. */
RUNLOG_API void runlog_cursor_close(runlog_cursor *c);

RUNLOG_API runlog_record_type runlog_record_type_of(const runlog_record *rec);
/** Byte offset of the frame that holds the record. */
RUNLOG_API uint64_t runlog_record_frame_offset(const runlog_record *rec);
/** Wall time of the record (Unix ns). */
RUNLOG_API int64_t runlog_record_time(const runlog_record *rec);
/** Step of a history row; 0 for other records. */
RUNLOG_API uint64_t runlog_record_step(const runlog_record *rec);
/** Fields of a history row: count, key and value of field i. */
RUNLOG_API size_t runlog_record_field_count(const runlog_record *rec);
RUNLOG_API const char *runlog_record_field_key(const runlog_record *rec, size_t i);
RUNLOG_API const runlog_value *runlog_record_field_value(const runlog_record *rec, size_t i);
/** Body of any other record: a map whose entries spec/FORMAT.md lists per type
 *  (e.g. an alert's "title", "text", "level"). NULL for history rows. */
RUNLOG_API const runlog_value *runlog_record_body(const runlog_record *rec);

/* Typed access to records. Each accessor checks the body against the rules
 * of spec/FORMAT.md for its record type and refuses a form the spec does not
 * define (RUNLOG_ECORRUPT; the detail names the file, the frame's byte
 * offset and the entry at fault); it never guesses a meaning for one. The
 * out-parameters may each be NULL (not wanted) and are written only on
 * success; texts and bytes given out are owned by the record and valid as
 * long as it is (the text is NUL-terminated, but may itself hold NULs: use
 * the length). */

/**
 * An alert record (§5.2): its title, its text ("" when none was given) and
 * its level, which must be the text "INFO", "WARN" or "ERROR".
 * @return 0; RUNLOG_EINVAL (rec NULL or not an alert record);
 *         RUNLOG_ECORRUPT (title or text missing or not text; level missing,
 *         not text, or another word).
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_record_alert(const runlog_record *rec, const char **title,
                                                    size_t *title_len, const char **text,
                                                    size_t *text_len, runlog_alert_level *level);

/**
 * A console record (§5.2): its stream (the text "stdout" or "stderr") and
 * its bytes (a byte string, not necessarily UTF-8). Its time is
 * runlog_record_time().
 * @return 0; RUNLOG_EINVAL (rec NULL or not a console record);
 *         RUNLOG_ECORRUPT (stream missing or another value; data missing or
 *         not a byte string).
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_record_console(const runlog_record *rec, runlog_stream *stream,
                                                      const void **data, size_t *len);

/** How the run stands. */
typedef enum runlog_state {
    RUNLOG_STATE_RUNNING = 0,  /**< no finish record; a writer holds the lock */
    RUNLOG_STATE_FINISHED = 1, /**< finished with exit code 0 */
    RUNLOG_STATE_FAILED = 2,   /**< finished with a non-zero exit code */
    RUNLOG_STATE_CRASHED = 3   /**< no finish record and no writer holds the lock */
} runlog_state;

RUNLOG_API const char *runlog_state_name(runlog_state state);
/** "INFO", "WARN", "ERROR" (the names the format stores, §5.2, and W&B's
 *  AlertLevel); NULL for another value. */
RUNLOG_API const char *runlog_alert_level_name(runlog_alert_level level);
/** "stdout", "stderr" (§5.2); NULL for another value. */
RUNLOG_API const char *runlog_stream_name(runlog_stream stream);

/**
 * Reads the whole run once, in a pass of its own over the reader's open
 * descriptor (it does not move runlog_reader_next() or any cursor, and does
 * not follow: it is what the file holds now), and returns what it holds.
 * The values are owned by the run and valid until runlog_run_free(), which
 * may come after runlog_reader_close().
 */
typedef struct runlog_run runlog_run;

RUNLOG_API RUNLOG_NODISCARD int runlog_reader_run(runlog_run **out, runlog_reader *r);
RUNLOG_API void runlog_run_free(runlog_run *run);
/** Identity: a map with "id", "project", "name", "group", "job_type",
 *  "notes", "tags" (list), "start_time" (Unix ns). */
RUNLOG_API const runlog_value *runlog_run_identity(const runlog_run *run);
/** Metadata: every metadata record merged (an empty map if none). */
RUNLOG_API const runlog_value *runlog_run_metadata(const runlog_run *run);
/** Config: every config update merged, later keys replacing earlier ones. */
RUNLOG_API const runlog_value *runlog_run_config(const runlog_run *run);
/** Summary: the last value of each history key, then explicit summary
 *  values on top. */
RUNLOG_API const runlog_value *runlog_run_summary(const runlog_run *run);
RUNLOG_API runlog_state runlog_run_state(const runlog_run *run);
/** Exit code of the finish record; 0 if none. A recorded value outside int
 *  reads as INT_MIN or INT_MAX (the state still says failed). */
RUNLOG_API int runlog_run_exit_code(const runlog_run *run);
/** End time (Unix ns) from the finish record, or the last record's time. */
RUNLOG_API int64_t runlog_run_end_time(const runlog_run *run);
/** Rows committed, and the last step (valid when rows > 0). */
RUNLOG_API uint64_t runlog_run_rows(const runlog_run *run);
RUNLOG_API uint64_t runlog_run_last_step(const runlog_run *run);
/** Number of records of a type (runlog_record_type). */
RUNLOG_API uint64_t runlog_run_record_count(const runlog_run *run, int type);
/** History keys in the order they first appear. */
RUNLOG_API size_t runlog_run_key_count(const runlog_run *run);
RUNLOG_API const char *runlog_run_key(const runlog_run *run, size_t i);
/** Number of times the run was resumed. */
RUNLOG_API uint64_t runlog_run_resumes(const runlog_run *run);

/**
 * What runlog_reader_run() gives, without decoding the history: the same
 * identity, config, metadata, summary (the auto-summary included), state,
 * exit code, times, rows, steps, keys, record counts, artifacts, resumes and
 * damage, for a listing of many runs (`runlog ls`). Every frame is read and
 * checked as a scan does (spec/FORMAT.md §8.2), and block 0 of every data
 * frame is decoded (the records and the steps and times of history rows),
 * but a history column's values are decompressed only in the one frame that
 * holds the key's last value (spec/FORMAT.md §7's index lists no values, so
 * the last frame holding each key is read). So a column block that is
 * malformed although its frame's checksum holds goes unnoticed unless it
 * holds a last value (then, read tolerantly, it is counted as damage and the
 * key's summary value is null; read strictly, it is the error).
 *
 * @param out receives the run; free it with runlog_run_free().
 * @param r   an open reader; its RUNLOG_READ_TOLERANT flag applies, FOLLOW
 *            does not (the run is what the file holds now).
 * @return 0; RUNLOG_EINVAL (NULL argument); errors as runlog_reader_run().
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_reader_run_summary(runlog_run **out, runlog_reader *r);

/** Damaged ranges and malformed frames the pass skipped (tolerant reading;
 *  0 when read strictly, which fails instead). */
RUNLOG_API uint64_t runlog_run_damage_count(const runlog_run *run);
/** 1 when the pass ended at a torn tail (an incomplete last frame: a frame
 *  being written, or a crash while writing one), else 0. */
RUNLOG_API int runlog_run_torn(const runlog_run *run);

/**
 * Whether a writer holds the file's lock now (spec/FORMAT.md §9.3, asked with
 * F_OFD_GETLK): 1 yes, 0 no (or r NULL). What tells a running run from a
 * crashed one; a follower (`runlog tail -f`) asks it when the file stops
 * growing. Where the filesystem does not honour OFD locks (some NFS and
 * Lustre mounts, docs/CLUSTERS.md) it may answer 0 while a writer on
 * another machine is alive.
 */
RUNLOG_API int runlog_reader_writer_alive(const runlog_reader *r);

/**
 * One key's full history as arrays. In a sealed file (format 1.2, what
 * librunlog 0.3 writes; spec/FORMAT.md §4.1) every read reads and checks
 * only each data frame's directory and block 0 (not its value blocks) and
 * the blocks that hold the key, and the first read of an open reader builds
 * the reader's key map from them; later reads read from the map, which
 * touches no block 0 (§7.1). A frame of more than 4,096 keys makes the
 * first read read the key only, as the map would cost more than the read,
 * and the second builds the map. A read that meets damage reads the file
 * again whole, as a scan. In a
 * 1.0 or 1.1 file, with a trailer and
 * index (a cleanly closed file), the first read decodes every frame's
 * record stream to check each index entry against its frame (§7.2), and
 * from the second on the key map says which frames hold the key, each read
 * whole; without an index the first read scans the file. An index that
 * does not check out is not used (runlog_reader_index_notice()): the result
 * is always the scan's. Damage in a block that a read does not need is not
 * seen by it (strict readers get no error from it; runlog_verify() reports
 * it). For many keys, runlog_reader_histories() reads them all in one pass.
 * @return 0; RUNLOG_ENOTFOUND if the key never appears; errors as
 *         runlog_reader_next().
 */
typedef struct runlog_history runlog_history;

RUNLOG_API RUNLOG_NODISCARD int runlog_reader_history(runlog_history **out, runlog_reader *r,
                                                      const char *key);
RUNLOG_API void runlog_history_free(runlog_history *h);
RUNLOG_API size_t runlog_history_length(const runlog_history *h);
RUNLOG_API const uint64_t *runlog_history_steps(const runlog_history *h);
RUNLOG_API const int64_t *runlog_history_times(const runlog_history *h);
/** Values as float64: floats bit-exact, ints converted, bools 0/1, other
 *  types NaN (see runlog_history_value()). */
RUNLOG_API const double *runlog_history_values(const runlog_history *h);
/** Value i with its own type. Numbers, bools and nulls come back in one
 *  value slot owned by h, valid until the next call on h; other values are
 *  owned by h until runlog_history_free(). NULL when i is out of range. */
RUNLOG_API const runlog_value *runlog_history_value(const runlog_history *h, size_t i);
/**
 * The one type every value of h has, in *out: what a caller turning the
 * history into one typed array (numpy's float64, int64 or bool) needs,
 * without a runlog_history_value() call per value.
 * @return 0 and *out; RUNLOG_ENOTFOUND when h is empty or its values have
 *         more than one type (*out not written); RUNLOG_EINVAL (NULL).
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_history_type(runlog_type *out, const runlog_history *h);
/** Number of frames the reader decoded to build this history. */
RUNLOG_API uint64_t runlog_history_frames_read(const runlog_history *h);
/** Bytes of blocks (decompressed, or stored raw) the reader decoded to build
 *  this history: divided by runlog_history_length(), what one point cost. */
RUNLOG_API uint64_t runlog_history_bytes_decoded(const runlog_history *h);

/**
 * What the reader r noticed about the file's index, or NULL: when a history
 * read through the index met a frame that its index entry misdescribes (other
 * history keys or rows than the frame holds, spec/FORMAT.md §7.2), the read
 * scanned the file instead (the answer is the scan's) and this says where:
 * "PATH: byte OFFSET: WHY", the first such frame. Owned by r; NULL for r NULL.
 * `runlog verify` reports every such entry.
 */
RUNLOG_API const char *runlog_reader_index_notice(const runlog_reader *r);

/**
 * Every history key's full history at once, in one pass over the file: each
 * data frame is decoded once and each of its columns appended to its key's
 * history (the read that exports and data frames want; K keys through
 * runlog_reader_history() decode a wide run's frames K times). The index is
 * not used (every frame is needed), so a file without one (a crashed run)
 * costs the same single scan. Each key's history is what
 * runlog_reader_history() returns for it. Keys come in the order they first
 * appear in the history (the auto-summary's order); system metrics are not
 * history keys.
 * @param out  receives the set, owned by the caller (runlog_histories_free()).
 *             A file without history gives an empty set.
 * @return 0; RUNLOG_EINVAL (NULL argument); damage as runlog_reader_next():
 *         strict readers fail at the first damaged frame (RUNLOG_ECHECKSUM,
 *         RUNLOG_ECORRUPT), tolerant ones leave out every value of a damaged
 *         frame; RUNLOG_EUNSUPPORTED; RUNLOG_EIO; RUNLOG_ETOOLARGE (more than
 *         2^20 distinct keys); RUNLOG_ENOMEM.
 */
typedef struct runlog_histories runlog_histories;
RUNLOG_API RUNLOG_NODISCARD int runlog_reader_histories(runlog_histories **out, runlog_reader *r);
/** Destroys a set and its histories (accepts NULL). */
RUNLOG_API void runlog_histories_free(runlog_histories *hs);
/** Number of keys in the set; 0 for NULL. */
RUNLOG_API size_t runlog_histories_count(const runlog_histories *hs);
/** Key i (NUL-terminated, owned by hs) and its length in *len (NULL: not
 *  wanted); NULL when i is out of range. */
RUNLOG_API const char *runlog_histories_key(const runlog_histories *hs, size_t i, size_t *len);
/** Key i's history, owned by hs (do not free it); NULL when i is out of
 *  range. Read it with the runlog_history_* accessors. Its arrays are valid
 *  until runlog_histories_free() and may be shared with other keys of the
 *  set (keys logged at the same steps share one steps and times array). */
RUNLOG_API const runlog_history *runlog_histories_get(const runlog_histories *hs, size_t i);
/** The index of key in the set: 0 and *out (out may be NULL: only whether
 *  it is there); RUNLOG_ENOTFOUND when the key has no history, RUNLOG_EINVAL
 *  (hs or key NULL). *out is not written on failure. */
RUNLOG_API RUNLOG_NODISCARD int runlog_histories_find(size_t *out, const runlog_histories *hs,
                                                      const char *key);
/** Data frames the pass decoded, and the bytes of blocks it decoded. */
RUNLOG_API uint64_t runlog_histories_frames_read(const runlog_histories *hs);
RUNLOG_API uint64_t runlog_histories_bytes_decoded(const runlog_histories *hs);

/* ------------------------------------------------------------------------ */
/* Blobs, images, tables, artifacts (spec/FORMAT.md §12)                     */
/* ------------------------------------------------------------------------ */

/** A blob's identity: XXH3-128 of its bytes, canonical (big-endian) form. */
typedef struct runlog_digest {
    uint8_t bytes[16];
} runlog_digest;

/** Writes the 32 lowercase hex digits and a NUL into out (33 bytes). */
RUNLOG_API void runlog_digest_hex(char out[33], const runlog_digest *d);
/** Parses 32 hex digits. @return 0 or RUNLOG_EINVAL. */
RUNLOG_API RUNLOG_NODISCARD int runlog_digest_parse(runlog_digest *out, const char *hex);

/**
 * Stores bytes as a blob, once per file: the same bytes logged again are not
 * stored again. The bytes are cut into chunks of at most 1 MiB that go
 * through the writer's queue, so memory stays bounded. Data that zstd does
 * not shrink (PNG, JPEG, most checkpoints) is stored as it is.
 * @param out receives the digest (may be NULL).
 * @return 0; RUNLOG_EINVAL; RUNLOG_ESTATE after finish; write errors.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_blob(runlog_digest *out, runlog_writer *w,
                                                   const void *data, size_t len);
/** The same for a file's contents, read in 1 MiB pieces (twice: to hash it,
 *  then to store it unless the file already holds it). size may be NULL. */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_blob_file(runlog_digest *out, uint64_t *size,
                                                        runlog_writer *w, const char *path);

/** Pixel types for images given as arrays. */
typedef enum runlog_pixel_type {
    RUNLOG_PIXELS_U8 = 0,
    RUNLOG_PIXELS_F32 = 1, /**< scaled to 0..255 as W&B does (see below) */
    RUNLOG_PIXELS_F64 = 2
} runlog_pixel_type;

/**
 * Adds an image to the pending row under key (several images under one key
 * in one row make a list). Pixels are height x width x channels (1 grey,
 * 3 RGB, 4 RGBA), row-major; they are stored losslessly as uint8. Float
 * pixels are converted as W&B does: when every value lies in [0, 1] they are
 * multiplied by 255; when the minimum is below 0 and every value lies in
 * [-1, 1], v -> (v + 1) * 127.5; otherwise they are taken as they are; then
 * rounded to nearest and clipped to [0, 255]. NaN becomes 0.
 * @param caption may be NULL.
 * @return 0; RUNLOG_EINVAL (bad shape, channels, NULL); RUNLOG_ESTATE.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_add_image(runlog_writer *w, const char *key,
                                                        const void *pixels, uint32_t height,
                                                        uint32_t width, uint32_t channels,
                                                        runlog_pixel_type type, const char *caption);
/** Adds an encoded PNG or JPEG image (validated; width, height and channels
 *  taken from its header; bytes stored as they are). */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_add_image_encoded(runlog_writer *w, const char *key,
                                                                const void *data, size_t len,
                                                                const char *caption);

/** A table being built (wandb.Table). */
typedef struct runlog_table runlog_table;

typedef enum runlog_column_type {
    RUNLOG_COLUMN_INT = 0,
    RUNLOG_COLUMN_FLOAT = 1,
    RUNLOG_COLUMN_STRING = 2,
    RUNLOG_COLUMN_BOOL = 3,
    RUNLOG_COLUMN_IMAGE = 4,
    RUNLOG_COLUMN_VALUE = 5 /**< any structured value, given as JSON */
} runlog_column_type;

#define RUNLOG_MAX_TABLE_COLUMNS 4096u
#define RUNLOG_MAX_TABLE_ROWS (1u << 24)

/**
 * Starts a table with named, typed columns. Image cells are stored as blobs
 * of w as soon as they are added, so the table holds only small cells.
 * @return 0; RUNLOG_EINVAL (no columns, more than RUNLOG_MAX_TABLE_COLUMNS,
 *         a bad name or type); RUNLOG_ENOMEM.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_table_new(runlog_table **out, runlog_writer *w,
                                                 const char *const *names,
                                                 const runlog_column_type *types, size_t ncols);
/* Cells are given left to right; each must match its column's type
 * (RUNLOG_EINVAL otherwise); null_cell fits any column. */
RUNLOG_API RUNLOG_NODISCARD int runlog_table_int(runlog_table *t, int64_t v);
RUNLOG_API RUNLOG_NODISCARD int runlog_table_float(runlog_table *t, double v);
RUNLOG_API RUNLOG_NODISCARD int runlog_table_string(runlog_table *t, const char *v);
RUNLOG_API RUNLOG_NODISCARD int runlog_table_bool(runlog_table *t, int v);
RUNLOG_API RUNLOG_NODISCARD int runlog_table_json(runlog_table *t, const char *json);
RUNLOG_API RUNLOG_NODISCARD int runlog_table_null(runlog_table *t);
RUNLOG_API RUNLOG_NODISCARD int runlog_table_image(runlog_table *t, const void *pixels, uint32_t height,
                                                   uint32_t width, uint32_t channels,
                                                   runlog_pixel_type type, const char *caption);
/** Ends a row; every column must have had its cell. */
RUNLOG_API RUNLOG_NODISCARD int runlog_table_end_row(runlog_table *t);
/**
 * Stores the table's cells as one blob (CBOR, §12.4) and adds a reference to
 * it under key in the pending row, like wandb.log({key: table}, commit=False).
 * The table stays usable (logging it again after more rows is allowed).
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_add_table(runlog_writer *w, const char *key, runlog_table *t);
RUNLOG_API void runlog_table_free(runlog_table *t);

/** An artifact being assembled (wandb.Artifact). */
typedef struct runlog_artifact runlog_artifact;

#define RUNLOG_MAX_PATH 4096u /**< bytes of an artifact entry path */

/** @return 0; RUNLOG_EINVAL for an empty name or type, or over RUNLOG_MAX_KEY. */
RUNLOG_API RUNLOG_NODISCARD int runlog_artifact_new(runlog_artifact **out, const char *name, const char *type);
RUNLOG_API RUNLOG_NODISCARD int runlog_artifact_description(runlog_artifact *a, const char *text);
/** Metadata: a JSON object. */
RUNLOG_API RUNLOG_NODISCARD int runlog_artifact_metadata_json(runlog_artifact *a, const char *json);
RUNLOG_API RUNLOG_NODISCARD int runlog_artifact_alias(runlog_artifact *a, const char *alias);
/**
 * Adds a file under the entry path name (NULL: the file's base name). Entry
 * paths are relative, '/'-separated UTF-8 without "." or ".." components,
 * empty components or NUL bytes, at most RUNLOG_MAX_PATH bytes; others are
 * refused with RUNLOG_EINVAL. The bytes are read when the artifact is logged.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_artifact_add_file(runlog_artifact *a, const char *path, const char *name);
/** Adds every regular file under dir, recursively, as prefix/relative/path
 *  (prefix may be NULL). Symbolic links are not followed. */
RUNLOG_API RUNLOG_NODISCARD int runlog_artifact_add_dir(runlog_artifact *a, const char *dir, const char *prefix);
/** Adds a reference: the bytes stay where uri says (a shared filesystem);
 *  size and digest are recorded. For a local path, size and digest are
 *  computed when the artifact is logged; otherwise digest may be NULL. */
RUNLOG_API RUNLOG_NODISCARD int runlog_artifact_add_reference(runlog_artifact *a, const char *uri, const char *name,
                                                              uint64_t size, const runlog_digest *digest);
RUNLOG_API void runlog_artifact_free(runlog_artifact *a);

/**
 * Logs an artifact: stores its files as blobs and records its manifest as
 * the next version of its name (v0, v1, ...), moving the alias "latest" to
 * it. When the manifest is identical to an earlier version of the name, no
 * new version is made: the aliases are added to that version instead (as
 * W&B does). The artifact may be freed afterwards.
 * @param out_version receives the version number (may be NULL).
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_log_artifact(uint32_t *out_version, runlog_writer *w,
                                                           runlog_artifact *a);
/** wandb.log_model: an artifact of type "model" holding path (a file or a
 *  directory) under name, with aliases. */
RUNLOG_API RUNLOG_NODISCARD int runlog_writer_log_model(uint32_t *out_version, runlog_writer *w,
                                                        const char *path, const char *name,
                                                        const char *const *aliases, size_t n_aliases);

/* Reading blobs, tables and artifacts. */

/**
 * Reads a whole blob into memory (blobs up to RUNLOG_MAX_BLOCK_RAW bytes).
 * The bytes are checked against the digest before they are returned.
 * @param out receives the bytes (free with runlog_free()); len their count.
 * @return 0; RUNLOG_ENOTFOUND (no such blob, or chunks missing);
 *         RUNLOG_ECHECKSUM (the bytes do not match the digest; detail names it);
 *         RUNLOG_ETOOLARGE.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_reader_blob(void **out, size_t *len, runlog_reader *r,
                                                   const runlog_digest *digest);
/**
 * Writes a blob to a file: to a new "PATH.tmp-XXXXXXXXXXXX" beside it
 * (random name, created exclusively, never through a link), checking the digest,
 * then renamed to path, so a blob that does not match never appears.
 * Memory stays bounded whatever the blob's size.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_reader_blob_to_file(runlog_reader *r, const runlog_digest *digest,
                                                           const char *path);
/**
 * Writes a blob's bytes to the open file descriptor fd (at its offset), in
 * chunks, checking the digest as it goes: for a caller that places the file
 * itself (a temporary created with openat() in a directory it walked
 * without following links, say). On failure some bytes may have been
 * written: discard the file. fd stays the caller's.
 * @return 0; RUNLOG_EINVAL; RUNLOG_EIO (a write failed); the errors of
 *         runlog_reader_blob().
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_reader_blob_to_fd(runlog_reader *r, const runlog_digest *digest,
                                                         int fd);
/**
 * Number of frames r has loaded to read blobs (runlog_reader_blob(),
 * _blob_to_file(), _blob_to_fd(), _image(), _table(); the one pass that
 * finds the blobs' chunks not counted). A read from the frame the previous
 * blob read loaded does not load it again: reading the blobs of a frame
 * one after another, or one blob many times, costs one load. r keeps that
 * frame, when it takes at most 32 MiB, until it needs another or is
 * closed. 0 when r is NULL.
 */
RUNLOG_API uint64_t runlog_reader_blob_frames_read(const runlog_reader *r);

/** A decoded structured document (a table's cells). */
typedef struct runlog_doc runlog_doc;
/** Reads a table blob: a map with "columns" (names), "types" (names) and
 *  "data" (a list per column). Image cells are image maps (§12.3). */
RUNLOG_API RUNLOG_NODISCARD int runlog_reader_table(runlog_doc **out, runlog_reader *r,
                                                    const runlog_digest *digest);
RUNLOG_API const runlog_value *runlog_doc_value(const runlog_doc *doc);
RUNLOG_API void runlog_doc_free(runlog_doc *doc);

/** How an image's blob is encoded (§12.3). */
typedef enum runlog_image_format {
    RUNLOG_IMAGE_RAW = 0,  /**< height x width x channels uint8, row-major, interleaved */
    RUNLOG_IMAGE_PNG = 1,
    RUNLOG_IMAGE_JPEG = 2
} runlog_image_format;

#define RUNLOG_IMAGE_INFO_VERSION 1

/** What an image map says (§12.3). Start from RUNLOG_IMAGE_INFO_INIT (the
 *  version tells the library which fields the caller knows); filled by
 *  runlog_value_image(). A raw image's samples are always uint8 (§12.3);
 *  the map records no bit depth for PNG and JPEG. */
typedef struct runlog_image_info {
    unsigned version;          /**< RUNLOG_IMAGE_INFO_VERSION */
    runlog_image_format format;
    uint32_t width, height;    /**< 1..2^32-1 */
    uint32_t channels;         /**< raw: 1, 3 or 4; PNG/JPEG: 1..4 */
    uint64_t size;             /**< bytes of the blob; raw: height x width x channels */
    runlog_digest digest;      /**< the blob */
    const char *caption;       /**< NULL when none; owned by the map's owner */
    size_t caption_len;
} runlog_image_info;

#define RUNLOG_IMAGE_INFO_INIT { RUNLOG_IMAGE_INFO_VERSION, RUNLOG_IMAGE_RAW, 0, 0, 0, 0, { { 0 } }, NULL, 0 }

/**
 * Reads an image map (a history cell, an item of a list of images, or a
 * table's image cell) and checks it: "_type" "image", a 16-byte digest,
 * format "raw", "png" or "jpeg", width and height in 1..2^32-1, channels
 * (raw: 1, 3 or 4; others 1..4), and for raw, height x width x channels
 * equal to "size" without wrapping; a caption, if any, is text.
 * @param out its version set by RUNLOG_IMAGE_INFO_INIT; filled on success.
 * @return 0; RUNLOG_EINVAL (NULL, unknown version); RUNLOG_ECORRUPT (not an
 *         image map, or one of the rules above broken; detail says which).
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_value_image(runlog_image_info *out, const runlog_value *v);

/**
 * Reads the blob of an image map checked as runlog_value_image() does: the
 * bytes (digest checked) and their count, which must equal the map's size
 * (for raw, height x width x channels).
 * @param out receives the bytes (free with runlog_free()); len their count.
 * @return 0; RUNLOG_EINVAL; RUNLOG_ECORRUPT (bad map, or a blob of another
 *         size); errors of runlog_reader_blob().
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_reader_image(void **out, size_t *len, runlog_reader *r,
                                                    const runlog_value *image);

/**
 * A table document's shape (runlog_reader_table() checked it, §12.4).
 * ncols and nrows may be NULL.
 * @return 0; RUNLOG_EINVAL (doc NULL).
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_doc_table(const runlog_doc *doc, size_t *ncols, size_t *nrows);
/** Column i of a table document: its name (owned by doc) and type. name,
 *  name_len and type may be NULL.
 *  @return 0; RUNLOG_EINVAL (doc NULL); RUNLOG_ENOTFOUND (no column i). */
RUNLOG_API RUNLOG_NODISCARD int runlog_doc_table_column(const runlog_doc *doc, size_t i, const char **name,
                                                        size_t *name_len, runlog_column_type *type);
/** The cell at row, col: null or a value of the column's type (an image
 *  column's cells are image maps for runlog_value_image()); NULL when out
 *  of range. Owned by doc. */
RUNLOG_API const runlog_value *runlog_doc_table_cell(const runlog_doc *doc, size_t row, size_t col);

/** The digest in an image or table map ("digest" entry); RUNLOG_EINVAL if none. */
RUNLOG_API RUNLOG_NODISCARD int runlog_value_digest(runlog_digest *out, const runlog_value *v);

/**
 * Artifacts of the run, one map per version in the order logged: "name",
 * "type", "version", "description", "metadata", "aliases" (the aliases the
 * version holds at the end of the run), "digest", "size", "entries" (maps
 * with "path", "size", "digest", and "ref" for references), "t".
 */
RUNLOG_API const runlog_value *runlog_run_artifacts(const runlog_run *run);

/**
 * Checks an artifact entry path against the one rule the writer, the typed
 * reader and extract share (spec/FORMAT.md §12.5): 1 to RUNLOG_MAX_PATH
 * bytes of valid UTF-8, relative, '/'-separated, with no NUL byte or
 * backslash and no empty, "." or ".." component or one over 255 bytes.
 * @param path the bytes (need not be NUL-terminated); len their count.
 * @return 0; RUNLOG_EINVAL (path NULL, or the rule broken: the detail
 *         quotes the path and says why).
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_artifact_path_check(const char *path, size_t len);

/**
 * An artifact record (§12.5), checked whole: name text of 1 to 1024 bytes,
 * type text, version in 0..2^32-1, aliases a list of text, a 16-byte
 * digest, entries a list sorted by path with no path twice, each entry as
 * runlog_record_artifact_entry() checks it, and size the sum of the entries'
 * sizes. An entry path runlog_artifact_path_check() refuses makes the whole
 * record corrupt (detail: file, byte offset, entry, path, why). The aliases
 * are those given with this version; runlog_run_artifacts() has those each
 * version holds at the end.
 * @return 0; RUNLOG_EINVAL (rec NULL or not an artifact record);
 *         RUNLOG_ECORRUPT.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_record_artifact(const runlog_record *rec, const char **name,
                                                       const char **type, uint32_t *version,
                                                       const runlog_value **aliases, size_t *n_entries);

#define RUNLOG_ARTIFACT_ENTRY_INFO_VERSION 1

/** One entry of an artifact version. Start from
 *  RUNLOG_ARTIFACT_ENTRY_INFO_INIT; filled by runlog_record_artifact_entry().
 *  Texts are owned by the record. */
typedef struct runlog_artifact_entry_info {
    unsigned version;     /**< RUNLOG_ARTIFACT_ENTRY_INFO_VERSION */
    const char *path;     /**< checked by runlog_artifact_path_check() */
    size_t path_len;
    uint64_t size;
    int has_digest;       /**< 0 only for a reference whose bytes were not hashed */
    runlog_digest digest; /**< a stored entry's blob (runlog_reader_blob_to_file()) */
    const char *ref;      /**< NULL: stored in the file; else where the bytes lie */
    size_t ref_len;
} runlog_artifact_entry_info;

#define RUNLOG_ARTIFACT_ENTRY_INFO_INIT { RUNLOG_ARTIFACT_ENTRY_INFO_VERSION, NULL, 0, 0, 0, { { 0 } }, NULL, 0 }

/**
 * Entry i of an artifact record: a map with a text path that
 * runlog_artifact_path_check() accepts, a size, a 16-byte digest (a
 * reference may lack it) and, for a reference, a text ref. Call
 * runlog_record_artifact() first for the rules that span entries (order,
 * no path twice, the total size); this one checks entry i's own.
 * @return 0; RUNLOG_EINVAL (NULL, not an artifact record, unknown version);
 *         RUNLOG_ENOTFOUND (no entry i); RUNLOG_ECORRUPT.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_record_artifact_entry(runlog_artifact_entry_info *out,
                                                             const runlog_record *rec, size_t i);

/* ------------------------------------------------------------------------ */
/* Run sets: several files, several runs (spec/EXPORTS.md §11)               */
/* ------------------------------------------------------------------------ */

/**
 * A run set holds the runs of a list of files, for a caller that reads or
 * exports them as runs rather than as files: files are grouped by run id; a
 * file given twice (the same file UUID: the same path again, or a copy) is
 * read once; the files of one run (a run continued into a new file) are
 * ordered and merged; files that share a run id but disagree (per-rank files
 * that were given one id) are refused, naming both. The rule is spec/EXPORTS.md
 * §11 ("Several files of one run"); every exporter follows it.
 *
 * A run set is used by one thread at a time. Runs are numbered 0..count-1 in
 * the order their id first appears among the paths; the files of run i are
 * numbered 0..n-1 in merge order (§11.2). Indexes out of range give NULL, 0
 * or RUNLOG_EINVAL.
 */
typedef struct runlog_runset runlog_runset;

#define RUNLOG_RUNSET_OPTIONS_VERSION 1

/** Options of runlog_runset_open(). Start from RUNLOG_RUNSET_OPTIONS_INIT. */
typedef struct runlog_runset_options {
    unsigned version; /**< RUNLOG_RUNSET_OPTIONS_VERSION */
    unsigned flags;   /**< RUNLOG_READ_STRICT or RUNLOG_READ_TOLERANT, for every file,
                           optionally with RUNLOG_RUNSET_SUMMARY */
} runlog_runset_options;

/** Runset flag: read each file with runlog_reader_run_summary() instead of
 *  runlog_reader_run() (the merged view is the same; only the steps that
 *  several files of one run hold have their history read). */
#define RUNLOG_RUNSET_SUMMARY 0x100u

#define RUNLOG_RUNSET_OPTIONS_INIT { RUNLOG_RUNSET_OPTIONS_VERSION, 0u }

/**
 * Opens every file, reads each run once (runlog_reader_run()), groups the
 * files by run id, drops duplicates, orders the files of each run and checks
 * that they are one run: identity, config, history at the steps that several
 * files hold, and artifact versions must agree (§11.3). Reading the history
 * of the steps that several files hold is the only history read here.
 *
 * @param out   receives the run set; free it with runlog_runset_free().
 * @param paths n file paths; none may be NULL; the strings are copied.
 * @param n     at least 1.
 * @param opts  NULL for strict reading.
 * @return 0; RUNLOG_EINVAL for NULL arguments, n == 0, a bad options version
 *         or flags (RUNLOG_READ_FOLLOW is refused), a file whose run has no
 *         id, or files of one run id that are not one run (the detail names
 *         both files, e.g. "a.runlog and b.runlog: run ID: key 'loss' at
 *         step 3 differs (steps 0..19 and 0..19): not one run"); errors of
 *         runlog_reader_open(), runlog_reader_run() and
 *         runlog_reader_history() (a damaged file read strictly: the detail
 *         names the file and byte offset); RUNLOG_ENOMEM.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_runset_open(runlog_runset **out, const char *const *paths,
                                                   size_t n, const runlog_runset_options *opts);

/** Closes every file and frees the set and everything it handed out
 *  (readers, runs, values, strings). Accepts NULL. */
RUNLOG_API void runlog_runset_free(runlog_runset *s);

/** Number of runs. */
RUNLOG_API size_t runlog_runset_run_count(const runlog_runset *s);
/** The run id of run i; owned by the set. */
RUNLOG_API const char *runlog_runset_run_id(const runlog_runset *s, size_t run);

/** Number of files of a run (duplicates not counted; at least 1). */
RUNLOG_API size_t runlog_runset_file_count(const runlog_runset *s, size_t run);
/** The path of file j of a run, as given; owned by the set. */
RUNLOG_API const char *runlog_runset_file_path(const runlog_runset *s, size_t run, size_t file);
/** The reader of file j of a run, owned by the set (do not close it). Use it
 *  for what the merged view does not give: records (runlog_reader_next()),
 *  blobs, tables. */
RUNLOG_API runlog_reader *runlog_runset_file_reader(runlog_runset *s, size_t run, size_t file);
/** What file j of a run holds on its own (runlog_reader_run()); owned by the set. */
RUNLOG_API const runlog_run *runlog_runset_file_run(const runlog_runset *s, size_t run, size_t file);

/* The merged view of a run (§11.4). Values are owned by the set and valid
 * until runlog_runset_free(). */

/** Identity of the run's first file (every file's agrees, §11.3). */
RUNLOG_API const runlog_value *runlog_runset_identity(const runlog_runset *s, size_t run);
/** Config: the union of the files' keys, in order of first appearance. */
RUNLOG_API const runlog_value *runlog_runset_config(const runlog_runset *s, size_t run);
/** Summary and metadata: the union of the files' keys, in order of first
 *  appearance, a later file's value replacing an earlier one's. */
RUNLOG_API const runlog_value *runlog_runset_summary(const runlog_runset *s, size_t run);
RUNLOG_API const runlog_value *runlog_runset_metadata(const runlog_runset *s, size_t run);
/** State and exit code of the run's last file. */
RUNLOG_API runlog_state runlog_runset_state(const runlog_runset *s, size_t run);
RUNLOG_API int runlog_runset_exit_code(const runlog_runset *s, size_t run);
/** Start time of the first file (Unix ns); the latest end time of any file. */
RUNLOG_API int64_t runlog_runset_start_time(const runlog_runset *s, size_t run);
RUNLOG_API int64_t runlog_runset_end_time(const runlog_runset *s, size_t run);
/** Committed rows of all files (a step that several files hold counts once
 *  per file), and the highest last step (valid when rows > 0). */
RUNLOG_API uint64_t runlog_runset_rows(const runlog_runset *s, size_t run);
RUNLOG_API uint64_t runlog_runset_last_step(const runlog_runset *s, size_t run);
/** Resume records of all files, plus one per file after the first. */
RUNLOG_API uint64_t runlog_runset_resumes(const runlog_runset *s, size_t run);
/** History keys of all files, each once, in order of first appearance. */
RUNLOG_API size_t runlog_runset_key_count(const runlog_runset *s, size_t run);
RUNLOG_API const char *runlog_runset_key(const runlog_runset *s, size_t run, size_t i);

/**
 * One key's history across the files of a run, merged by step (§11.5): steps
 * in order; at a step that several files hold, the first file's entries
 * (with their times). runlog_history_file() says which file each entry came
 * from. A run of one file gives what runlog_reader_history() gives.
 *
 * @param out receives the history; free it with runlog_history_free().
 * @return 0; RUNLOG_ENOTFOUND when no file of the run has the key;
 *         RUNLOG_EINVAL for NULL arguments, a run out of range, or entries
 *         that differ at a step (possible only when a file grew after
 *         runlog_runset_open(); the detail names both files); errors of
 *         runlog_reader_history(); RUNLOG_ENOMEM.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_runset_history(runlog_history **out, runlog_runset *s,
                                                      size_t run, const char *key);
/** For a history from runlog_runset_history(): the file (its index in the
 *  run, as runlog_runset_file_path()) that entry i came from. 0 for a
 *  history of runlog_reader_history() and for i out of range. */
RUNLOG_API size_t runlog_history_file(const runlog_history *h, size_t i);

/** Paths dropped as duplicates (a file UUID already given, §11.1), in the
 *  order given, each with the path of the file kept in its place (so that a
 *  caller can warn). Both strings are owned by the set. */
RUNLOG_API size_t runlog_runset_duplicate_count(const runlog_runset *s);
RUNLOG_API const char *runlog_runset_duplicate_path(const runlog_runset *s, size_t i);
RUNLOG_API const char *runlog_runset_duplicate_of(const runlog_runset *s, size_t i);

/* ------------------------------------------------------------------------ */
/* The runs table: many runs at a glance (spec/EXPORTS.md §12, `runlog ls`)  */
/* ------------------------------------------------------------------------ */

/**
 * A runs table: one row per run of the files found under some paths, as W&B's
 * runs table shows them. Folders are walked recursively for *.runlog files
 * (symbolic links inside them are never followed, so no loop can form; a
 * *.runlog that is a link or not a regular file is listed as unreadable);
 * each file is read with runlog_reader_run_summary() (tolerant, no history
 * values decoded); the files of one run id are merged by the run-set rule
 * (runlog_runset_open(), §11), and files that share an id without being one
 * run are each a row of their own, saying so in their "damage" cell. A file
 * that cannot be read is a row too (state "unreadable", the reason as its
 * damage): nothing is skipped silently.
 *
 * Columns: the built-ins "name", "id", "project", "group", "state", "start"
 * (ISO 8601 UTC text), "duration" (seconds, float), "rows", "last_step",
 * "damage" (NULL when none), "path" (the first file), and "config.KEY",
 * "summary.KEY" (a key as it is, else a dotted path into nested maps).
 * A row is a map of the chosen columns, in order; a missing value is null.
 */
typedef struct runlog_runs runlog_runs;

#define RUNLOG_RUNS_OPTIONS_VERSION 1

/** Options of runlog_runs_open(). Start from RUNLOG_RUNS_OPTIONS_INIT. */
typedef struct runlog_runs_options {
    unsigned version;            /**< RUNLOG_RUNS_OPTIONS_VERSION */
    const char *const *columns;  /**< n_columns names; NULL: the built-ins but "path",
                                      then every config and summary key with a scalar
                                      value that differs across the rows kept */
    size_t n_columns;
    const char *where;    /**< keep rows where this holds (§12.2); NULL: all */
    const char *sort;     /**< a column, ascending; "-COLUMN" descending; NULL: order found */
    const char *group_by; /**< a column: rows of one value together, groups in order of
                               first appearance (runlog_runs_group()); NULL: none */
} runlog_runs_options;

#define RUNLOG_RUNS_OPTIONS_INIT { RUNLOG_RUNS_OPTIONS_VERSION, NULL, 0, NULL, NULL, NULL }

/**
 * Finds and reads the runs under paths (files or folders) and builds the table.
 * @param out   receives the table; free it with runlog_runs_free().
 * @param paths n paths (files are listed whatever their name); the strings are copied.
 * @param opts  NULL for the defaults.
 * @return 0; RUNLOG_EINVAL (NULL argument, bad options version, an unknown column
 *         name, a --where expression that does not parse: the detail says where);
 *         RUNLOG_EIO (a path given that cannot be found or opened); RUNLOG_ENOMEM.
 *         Damaged and unreadable files are rows, not errors.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_runs_open(runlog_runs **out, const char *const *paths, size_t n,
                                                 const runlog_runs_options *opts);
/** Frees the table and everything it handed out. Accepts NULL. */
RUNLOG_API void runlog_runs_free(runlog_runs *t);

/**
 * The run-logs under a path, found as runlog_runs_open() finds them: a
 * folder is searched recursively for "*.runlog" in name order, never
 * following a symbolic link (no loop can form), and only regular files are
 * kept (runlog_runs_open() lists the others with the reason); a path that is
 * not a folder is kept as it is, whatever its name (reading it will say
 * what is wrong with it).
 * @param out  receives a NULL-terminated array of paths (folder/.../NAME);
 *             free it with runlog_paths_free(). Written on success only.
 * @param n    receives the number of paths (0: none found).
 * @return 0; RUNLOG_EINVAL (NULL argument); RUNLOG_EIO (the path cannot be
 *         found, or a folder cannot be read); RUNLOG_ENOMEM.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_find_runlogs(char ***out, size_t *n, const char *path);
/** Frees what runlog_find_runlogs() gave. Accepts NULL. */
RUNLOG_API void runlog_paths_free(char **paths);
/** Rows kept (after where), and files found (before merging and where). */
RUNLOG_API size_t runlog_runs_count(const runlog_runs *t);
RUNLOG_API size_t runlog_runs_file_count(const runlog_runs *t);
/** Columns, and the name of column col (owned by the table; NULL out of range). */
RUNLOG_API size_t runlog_runs_column_count(const runlog_runs *t);
RUNLOG_API const char *runlog_runs_column(const runlog_runs *t, size_t col);
/** Row row, in order, as a map of column -> value; NULL out of range. Owned by the table. */
RUNLOG_API const runlog_value *runlog_runs_row(const runlog_runs *t, size_t row);
/** The cell at row, col (a null value when the run has none); NULL out of range. */
RUNLOG_API const runlog_value *runlog_runs_cell(const runlog_runs *t, size_t row, size_t col);
/** The group_by column's value of row (NULL without group_by or a value). */
RUNLOG_API const runlog_value *runlog_runs_group(const runlog_runs *t, size_t row);
/** The group number of row: 0 for the first group, +1 at each next (0 without group_by). */
RUNLOG_API size_t runlog_runs_group_index(const runlog_runs *t, size_t row);
/** Rows kept that are unreadable, not one run with the files sharing their id,
 *  or hold damaged ranges (a torn tail alone is not counted: a frame being written). */
RUNLOG_API size_t runlog_runs_damaged(const runlog_runs *t);

/**
 * The table as text: JSON (an array of one object per row, keys the column
 * names, values as spec/EXPORTS.md §1.2) or CSV (a header of the column
 * names, then one line per row, cells as §4.1: `pandas.read_csv` gives one
 * row per run).
 * @param out receives the text; free it with runlog_free().
 * @return 0; RUNLOG_EINVAL (NULL); RUNLOG_ENOMEM.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_runs_to_json(char **out, const runlog_runs *t);
RUNLOG_API RUNLOG_NODISCARD int runlog_runs_to_csv(char **out, const runlog_runs *t);

/* ------------------------------------------------------------------------ */
/* Verification and repair                                                   */
/* ------------------------------------------------------------------------ */

typedef struct runlog_report runlog_report;

/** What runlog_verify() found. */
typedef enum runlog_damage_kind {
    RUNLOG_DAMAGE_FRAME = 1, /**< a frame whose checksum or contents are bad */
    RUNLOG_DAMAGE_GARBAGE = 2, /**< bytes that are no frame, with frames after them */
    RUNLOG_DAMAGE_TORN_TAIL = 3 /**< an incomplete last frame (a crash while writing) */
} runlog_damage_kind;

/**
 * Reads every frame of a file and checks every checksum and structure.
 * Damage is reported, not returned as an error: the call fails only when the
 * file cannot be read at all (missing, not a run-log, bad file header).
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_verify(runlog_report **out, const char *path);
/**
 * runlog_verify() without decompressing the value blocks: every checksum
 * (each block of a sealed frame against its stored bytes), every frame
 * header and directory, every block 0 (key table, every record, every
 * column descriptor and the sizes the directory gives each fixed-width
 * column) and every index entry are checked as runlog_verify() checks
 * them; the values inside blocks 1.. are not decoded. What it reports as
 * damage runlog_verify() reports too; a file it finds intact can still hold
 * a value block that is malformed behind a valid checksum (only a broken or
 * hostile writer makes one), which runlog_verify() and the read that
 * decodes that block report. The check `runlog history` makes before it
 * reads one key: it costs the checksums and each block 0, not the values.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_verify_structure(runlog_report **out, const char *path);
RUNLOG_API void runlog_report_free(runlog_report *rep);
RUNLOG_API uint64_t runlog_report_file_size(const runlog_report *rep);
RUNLOG_API uint64_t runlog_report_frames(const runlog_report *rep);  /**< intact frames */
RUNLOG_API uint64_t runlog_report_records(const runlog_report *rep); /**< in intact frames */
/** Payload bytes after decompression, and as stored, of the intact frames. */
RUNLOG_API uint64_t runlog_report_raw_bytes(const runlog_report *rep);
RUNLOG_API uint64_t runlog_report_stored_bytes(const runlog_report *rep);
/** 1 if a trailer ends the file (a clean close). */
RUNLOG_API int runlog_report_has_trailer(const runlog_report *rep);
RUNLOG_API size_t runlog_report_damage_count(const runlog_report *rep);
/** Damage i: kind, byte offset, length, and a static description. */
RUNLOG_API int runlog_report_damage(const runlog_report *rep, size_t i, runlog_damage_kind *kind,
                                    uint64_t *offset, uint64_t *length, const char **what);
/** 1 when the file has no damage at all (a torn tail counts as damage). */
RUNLOG_API int runlog_report_intact(const runlog_report *rep);

/**
 * Repairs a file in place: a torn tail is moved to the sidecar
 * "PATH.torn-OFFSET" and cut off, then an index and trailer covering every
 * intact frame are appended. Damage in the middle is left as it is (readers
 * skip it; nothing intact is ever rewritten). Takes the writer lock.
 * @param out_cut receives the number of bytes cut (may be NULL).
 * @return 0; RUNLOG_ELOCKED; errors as runlog_verify().
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_repair(uint64_t *out_cut, const char *path);

/* ------------------------------------------------------------------------ */
/* Live capture: run metadata, system metrics, console output, alerts        */
/* ------------------------------------------------------------------------ */

/**
 * A capture records, into an open writer, what a run does beside its own
 * logging (spec/EXPORTS.md "System metrics and metadata"):
 *  - run metadata once at start: host, OS and kernel, CPU model and count,
 *    memory, user, working directory, command line, executable, pid, start
 *    time, git commit/branch/remote/dirty, batch-system job (SLURM, PBS, LSF),
 *    ranks, CUDA_VISIBLE_DEVICES and GPU names. The environment is never
 *    dumped; credentials in a git remote URL are removed.
 *  - system metric samples from a sampler thread: CPU and memory of a
 *    process tree and of the machine, disk I/O and space, network bytes, and
 *    per-GPU utilisation, memory, temperature and power through NVML, which
 *    is loaded at run time with dlopen() (no GPU or no driver: no GPU keys,
 *    no error).
 *  - optionally, this process's stdout and stderr: file descriptors 1 and 2
 *    are redirected through pipes; a thread copies every byte, unchanged, to
 *    the original descriptors and records it with its stream.
 *
 * The writer must stay open until runlog_capture_stop() returns. The
 * capture's threads only call the writer's thread-safe record functions, so
 * the caller keeps adding and committing rows meanwhile.
 */
typedef struct runlog_capture runlog_capture;

#define RUNLOG_CAPTURE_OPTIONS_VERSION 1
/** interval_ms value that turns the sampler off. */
#define RUNLOG_CAPTURE_NO_SAMPLER UINT32_MAX

/** Options of runlog_capture_start(). Start from RUNLOG_CAPTURE_OPTIONS_INIT;
 *  every pointer may be NULL and every number 0 for "the default". */
typedef struct runlog_capture_options {
    unsigned version;         /**< RUNLOG_CAPTURE_OPTIONS_VERSION */
    int no_metadata;          /**< 1: record no metadata */
    int console;              /**< 1: capture fds 1 and 2 of this process */
    uint32_t interval_ms;     /**< between samples; 0: 2000 ms;
                                   RUNLOG_CAPTURE_NO_SAMPLER: no sampler */
    int pid;                  /**< the process described and whose tree (it and
                                   its descendants) is sampled; 0: this process */
    const char *const *argv;  /**< NULL-terminated command line for the metadata;
                                   NULL: read from /proc/PID/cmdline */
    const char *disk_path;    /**< a path on the filesystem whose space is
                                   sampled (the run-log's); NULL: "."; its
                                   mount point is recorded as metadata
                                   disk_mount */
    const char *alert_command; /**< a /bin/sh command run by runlog_capture_alert()
                                    with RUNLOG_ALERT_TITLE, RUNLOG_ALERT_TEXT and
                                    RUNLOG_ALERT_LEVEL in its environment; NULL: none */
    const char *nvml_library; /**< NULL: "libnvidia-ml.so.1"; "": no GPU metrics */
    uint32_t git_timeout_ms;  /**< each git command is killed after this; 0: 2000 */
} runlog_capture_options;

#define RUNLOG_CAPTURE_OPTIONS_INIT { RUNLOG_CAPTURE_OPTIONS_VERSION, 0, 0, 0, 0, NULL, \
    NULL, NULL, NULL, 0 }

/**
 * Starts a capture: records the metadata (unless opts->no_metadata), then
 * starts the sampler thread (unless turned off) and the console capture
 * (when opts->console). Sampling reads /proc; a metric that cannot be read is
 * left out of the sample, never an error.
 *
 * @param out  receives the capture; stop it with runlog_capture_stop().
 * @param w    an open writer; must not be NULL; must outlive the capture.
 * @param opts NULL for all defaults (metadata, a 2 s sampler, no console).
 * @return 0; RUNLOG_EINVAL (NULL writer, bad options version); RUNLOG_ESTATE
 *         when another capture of this process already holds the console, or
 *         the run is finished; RUNLOG_EIO when a pipe, descriptor or thread
 *         cannot be made (detail: which); RUNLOG_ENOMEM; errors of
 *         runlog_writer_metadata_json(). On failure nothing is left running
 *         and fds 1 and 2 are as they were.
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_capture_start(runlog_capture **out, runlog_writer *w,
                                                     const runlog_capture_options *opts);

/**
 * Records an alert (runlog_writer_alert()) and, when the capture has an
 * alert_command, starts it with /bin/sh without waiting for it: the command
 * gets RUNLOG_ALERT_TITLE, RUNLOG_ALERT_TEXT (empty when text is NULL) and
 * RUNLOG_ALERT_LEVEL ("INFO", "WARN", "ERROR") in its environment. The shell
 * that starts it is reaped by later calls and by runlog_capture_stop(); the
 * command itself is not waited for. Safe to call from any thread.
 * @return 0; errors of runlog_writer_alert(); RUNLOG_EIO when the command
 *         cannot be started (the alert is recorded all the same).
 */
RUNLOG_API RUNLOG_NODISCARD int runlog_capture_alert(runlog_capture *c, const char *title,
                                                     const char *text,
                                                     runlog_alert_level level);

/**
 * Stops a capture and frees it: stops the sampler; for a console capture,
 * flushes stdout and stderr (stdio), restores fds 1 and 2, copies and records
 * everything still in the pipes, and joins the thread. Output written after
 * this by processes that inherited the pipes is lost (they get EPIPE).
 * Accepts NULL.
 * @return the first error met by the capture's threads (a writer error,
 *         RUNLOG_EIO for a failed copy to the original descriptor), else 0.
 *         The capture is freed in every case.
 */
RUNLOG_API int runlog_capture_stop(runlog_capture *c);

/**
 * For a child process after fork(): forgets the parent's capture without
 * stopping it (its threads do not exist in the child). For a console
 * capture, fds 1 and 2 of the child are put back to what they were before
 * the capture started, so that the child's output goes straight to the
 * original destinations instead of into pipes only the parent reads (and
 * that break when the parent dies); the child's copies of the capture's
 * descriptors are closed. Nothing is recorded. Call it before
 * runlog_writer_abandon() on the capture's writer. After this call c must
 * not be used again; its memory is left to the child's exit. Uses only
 * dup2(2) and close(2). Accepts NULL.
 */
RUNLOG_API void runlog_capture_abandon(runlog_capture *c);

/* ------------------------------------------------------------------------ */
/* Limits (spec/FORMAT.md "Limits"); readers enforce them before allocating. */
/* ------------------------------------------------------------------------ */

#define RUNLOG_MAX_KEY 1024u              /**< bytes of a key */
#define RUNLOG_MAX_STRING (16u << 20)     /**< bytes of a string or byte string */
#define RUNLOG_MAX_DEPTH 64u              /**< nesting of lists and maps */
#define RUNLOG_MAX_FRAME_PAYLOAD (64u << 20) /**< stored bytes of a frame */
#define RUNLOG_MAX_BLOCK_RAW (64u << 20)  /**< decompressed bytes of a block */
/** Highest step of a history row: 2^64 - 2, so that the automatic step after
 *  any row (its step + 1) still fits in 64 bits. */
#define RUNLOG_MAX_STEP 0xFFFFFFFFFFFFFFFEull
/** Keys in one history row or system sample: each is a column of its own,
 *  and one frame holds at most 65 536 blocks and 64 MiB of key table. */
#define RUNLOG_MAX_ROW_KEYS 32768u

#ifdef __cplusplus
}
#endif
#endif /* RUNLOG_H */
