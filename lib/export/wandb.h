/*
 * wandb.h — RUNLOG_EXPORT_WANDB (spec/EXPORTS.md §10): run-logs converted
 * into the offline-run directories that `wandb sync` uploads.
 *
 *   wandb.c        rx_export_wandb(): the run set (runlog_runset, spec/EXPORTS.md
 *                  §11), the staging directory, the record stream
 *   wandb_log.c    W&B's transaction-log framing (LevelDB log variant),
 *                  value JSON/YAML, MD5 and SHA-256
 *   wandb_media.c  images, tables (and their run_table artifacts), artifacts,
 *                  client ids
 *
 * Protobuf messages are encoded by protobuf-c from
 * lib/export/wandb/wandb_subset.proto. Functions that can fail return 0 or
 * a negative runlog_error with the detail set (naming the file).
 */
#ifndef RUNLOG_EXPORT_WANDB_H
#define RUNLOG_EXPORT_WANDB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "export_internal.h"
#include "wandb_subset.pb-c.h"

/* ---- errors ---- */


/* ---- values as W&B writes them ---- */

/* WB_JSON: Python's json.dumps (NaN, Infinity, -Infinity bare, as W&B's
 *          value_json and wandb-summary.json hold them).
 * WB_YAML: a YAML 1.1 flow value that PyYAML (wandb's config.yaml reader)
 *          reads back as the same value: floats always with a '.' and a
 *          signed exponent, .nan/.inf/-.inf; strings double-quoted with
 *          JSON escapes (a subset of YAML's). */
enum { WB_JSON = 0, WB_YAML = 1 };

void wb_json_double(rlu_buf *b, double v, int mode);
/* Bytes become base64 strings (as in spec/EXPORTS.md §1.2). */
void wb_json_value(rlu_buf *b, const runlog_value *v, int mode);

/* ---- hashes (Debian's libmd) ---- */

/* base64 of the MD5 of a file's bytes; 0, or -1 with errno. size may be NULL. */
int wb_md5_file_b64(char out[25], uint64_t *size, const char *path, uint64_t max);
void wb_md5_hex(char out[33], const void *data, size_t len);
void wb_md5_b64(char out[25], const void *data, size_t len);
void wb_sha256_hex(char out[65], const void *data, size_t len);

/* ---- the transaction log ---- */

typedef struct wb_log {
    FILE *f;
    uint64_t off; /* bytes written so far (header included) */
    int64_t num;  /* Record.num of the next record */
    uint64_t records;
} wb_log;

/* Creates the file and writes the 7-byte header. 0, or -1 with errno. */
int wb_log_open(wb_log *l, const char *path);
/* Sets rec->num and appends the serialized Record as one log record,
 * split into FULL or FIRST/MIDDLE.../LAST chunks. 0, or -1 with errno. */
int wb_log_record(wb_log *l, WandbInternal__Record *rec);
/* Appends one log record of raw bytes (used by the above). */
int wb_log_write(wb_log *l, const void *data, size_t len);
/* Flushes, fsyncs and closes. 0, or -1 with errno. */
int wb_log_close(wb_log *l);

/* ---- media and artifacts (wandb_media.c) ---- */

/* Where media files go and what has been written (paths relative to files/). */
typedef struct wb_media {
    rx_ctx *x;             /* for notices */
    const char *src;       /* the run-log, for messages */
    runlog_reader *blobs;  /* the file's reader (a cursor on it walks the records) */
    int stage_fd;          /* the staging directory (files/ is in it) */
    const char *stage;     /* its path */
    char **new_files;      /* written since the last wb_media_take_files() */
    size_t n_new, cap_new;
    uint64_t images, tables, truncated_tables;
    /* For the run_table artifact of each table (W&B logs every table also as
     * an artifact, before the history record that names it): the run id,
     * the path the staging directory will have (local_path of its entries),
     * and where the artifact record goes (run, project and entity filled
     * there). */
    const char *run_id, *final_dir;
    int (*emit_artifact)(void *ctx, WandbInternal__ArtifactRecord *rec);
    void *ctx;
} wb_media;

/* The W&B value_json of a media cell (image, list of images or table) of
 * row `step` under key: the files are written under files/media/ and listed
 * in new_files. Appends the JSON to out. 0 or an error. */
int wb_media_value(wb_media *m, rlu_buf *out, const char *key, uint64_t step,
                   const runlog_value *v);

/* Arena for the strings and sub-messages of one protobuf record. */
typedef struct wb_arena {
    void **p;
    size_t n, cap;
} wb_arena;

void *wb_alloc(wb_arena *a, size_t size);    /* zeroed; NULL on failure */
char *wb_keep(wb_arena *a, char *s);         /* owns s (may be NULL) */
char *wb_strdup(wb_arena *a, const char *s); /* "" for NULL */
void wb_arena_free(wb_arena *a);

/* The artifact version of record r (runlog_record_artifact(), checked
 * whole before anything is written): its stored files written under
 * stage/artifacts/<name>/v<N>/, and rec filled (strings in a) with manifest
 * entries whose local_path lies under final_dir, the path the staging
 * directory will have. Description, metadata and the aliases the version
 * holds at the end of the run come from art, its map of
 * runlog_run_artifacts() (NULL: none). 0 or an error. */
int wb_artifact(wb_media *m, wb_arena *a, WandbInternal__ArtifactRecord *rec,
                const runlog_record *r, const runlog_value *art, const char *final_dir);

/* A new client id as W&B's SDK makes one for every Artifact object
 * (wandb/sdk/artifacts/artifact.py: generate_fast_id(128)): 128 random
 * base-36 digits [a-z0-9] from getrandom(). 0, or an error. */
int wb_client_id(char out[129]);

/* A run id, artifact name or key made safe: W&B's characters for names
 * ([A-Za-z0-9_.-], others '_') when strict, else only '/', '\\', control
 * bytes and invalid UTF-8 replaced (file names); cut to max bytes. */
void wb_safe_name(char *out, size_t max, const char *s, int strict);

/* Creates the parents of rel under dirfd and opens rel for writing, every
 * component reached from dirfd with O_NOFOLLOW (media_open_parent); the
 * leaf is truncated if the export wrote it already (the staging directory
 * is ours: mkdtemp, 0700 until renamed). fd, or -1 with errno. */
int wb_create_file(int dirfd, const char *rel);
/* Writes len bytes to dirfd/rel. 0 or an error naming `shown`. */
int wb_write_file(int dirfd, const char *rel, const void *data, size_t len, const char *shown);

#endif
