/*
 * export_internal.h — what the converters of librunlog-export share (not
 * installed). runlog_export() (export.c) checks the options and the output,
 * opens the output stream, and calls one rx_export_* per format with an
 * rx_ctx; every converter reports through it: failures as a runlog_error
 * with the detail set (runlog_error_set), everything else as notices.
 *
 * Adding a format: a value in runlog_export_format (runlog_export.h), one
 * rx_export_* here, its file in lib/export/ listed in lib/export/meson.build
 * (under its feature if it needs a dependency), a case in export.c, its
 * shape in spec/EXPORTS.md, its subcommand in tools/, tests in tests/export/.
 */
#ifndef RUNLOG_EXPORT_INTERNAL_H
#define RUNLOG_EXPORT_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "rlu.h"
#include "runlog.h"
#include "runlog_export.h"

typedef struct rx_ctx {
    const runlog_export_options *o;
    const char *const *inputs;
    size_t n;
    const char *out;  /* NULL: the stream goes to o->out_fd */
    uint64_t damaged; /* damaged ranges skipped so far (tolerant policy) */
} rx_ctx;

/* Gives the caller a notice (printf-style); nothing if it has no callback. */
void rx_notice(rx_ctx *x, runlog_notice_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rx_progress(rx_ctx *x, uint64_t done, uint64_t total);

/* RUNLOG_READ_TOLERANT or RUNLOG_READ_STRICT, as the damage policy says. */
unsigned rx_read_flags(const rx_ctx *x);
int rx_tolerant(const rx_ctx *x);
/* Opens a reader of path with rx_read_flags(). */
int rx_open_reader(rx_ctx *x, runlog_reader **out, const char *path);
/* After a read of path: every damaged range of it as a notice (DAMAGE, or
 * TORN for a torn tail), each counted in x->damaged but a torn tail. Called
 * once per input by the converters, before the output is closed. Strict
 * policy: the first damage that is not a torn tail is the error
 * (RUNLOG_ECHECKSUM for a frame, RUNLOG_ECORRUPT for garbage; "PATH: byte
 * OFFSET: WHY"), so that damage the read never met fails too. 0 or an
 * error. */
int rx_report_damage(rx_ctx *x, const char *path);
/* The same from a verify report of path already made (runlog_verify), which
 * it frees. */
int rx_report_damage_of(rx_ctx *x, const char *path, runlog_report *rep);

/* A record (or a value in one) that breaks the spec although its frame is
 * intact, as a typed accessor reports it (rc < 0, the detail naming file,
 * offset and what): tolerant, it is skipped like a damaged frame — a DAMAGE
 * notice with the detail, counted, 0 returned; strict, rc is returned. */
int rx_bad_record(rx_ctx *x, int rc);

/* RUNLOG_EINVAL (detail naming both) when out (or, out NULL, the file open
 * at out_fd) is one of x's inputs: the same file, through a hard or
 * symbolic link or not. A missing out is fine. */
int rx_check_not_input(const rx_ctx *x, const char *out);


/* The snapshot of a live file (spec/EXPORTS.md §1.5): the record counts of
 * runlog_reader_run() taken when the export starts; a pass over records
 * exports only that many of each type, so every part of the export
 * describes one moment. */
typedef struct rx_quota {
    uint64_t rows, alerts, console, system;
} rx_quota;

void rx_quota_init(rx_quota *q, const runlog_run *run);
/* 1 if the record is inside the snapshot (and counts it), 0 if past it. */
int rx_quota_take(rx_quota *q, runlog_record_type type);

/* A librunlog failure `code` while reading path, its detail made to name
 * the file (as "PATH: detail") when it does not already; returns code. */
int rx_lib_error(const char *path, int code);
/* A system call's failure on `what` (a path, "temporary file"): RUNLOG_EIO,
 * or RUNLOG_ENOMEM for ENOMEM, the detail "WHAT: strerror(errno)". */
int rx_sys_error(const char *what);

/* Opens path with rx_open_reader() and reads its summary
 * (runlog_reader_run()); on failure nothing is left open and the detail
 * names path. */
int rx_open_run(rx_ctx *x, runlog_reader **r, runlog_run **run, const char *path);

/* ---- the formats (one file each) ---- */

int rx_export_json(rx_ctx *x, FILE *f);    /* JSON, JSONL: json.c */
int rx_export_csv(rx_ctx *x, FILE *f);     /* CSV, CSV_LONG, CSV_TABLE: csv.c */
int rx_export_history(rx_ctx *x, FILE *f); /* HISTORY: csv.c */
int rx_export_dump(rx_ctx *x, FILE *f);    /* DUMP: dump.c */
int rx_export_hdf5(rx_ctx *x);             /* HDF5: hdf5.c */
int rx_export_wandb(rx_ctx *x);            /* WANDB: wandb.c */
int rx_export_images(rx_ctx *x);           /* IMAGES: extract.c */
int rx_export_artifact(rx_ctx *x);         /* ARTIFACT: extract.c */
int rx_export_report(rx_ctx *x, FILE *f);  /* REPORT: report.c */

#endif
