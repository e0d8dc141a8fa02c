/* Live capture (runlog.h "Live capture"): what the parts of capture*.c share.
 * capture.c: start/stop, console, alerts; capture_meta.c: run metadata;
 * capture_sampler.c: system metrics; capture_nvml.c: GPUs through NVML. */
#ifndef RUNLOG_CAPTURE_INTERNAL_H
#define RUNLOG_CAPTURE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* ---- NVML, loaded with dlopen() ---- */

typedef struct rl_nvml rl_nvml;

/* One GPU's reading; a field whose `has_` flag is 0 could not be read. */
typedef struct rl_gpu_sample {
    int has_util, has_mem, has_temp, has_power, has_limit;
    double util, mem_util;         /* percent */
    double mem_used, mem_total;    /* bytes */
    double temp;                   /* degrees C */
    double power_w, limit_w;       /* watts */
} rl_gpu_sample;

/* NULL when the library is absent, "" is given, or nvmlInit fails. */
rl_nvml *rl_nvml_open(const char *library);
void rl_nvml_close(rl_nvml *n);
unsigned rl_nvml_count(const rl_nvml *n);
/* Name and total memory of GPU i; 0, or -1 if NVML fails. */
int rl_nvml_info(rl_nvml *n, unsigned i, char *name, size_t name_size, uint64_t *mem_total);
void rl_nvml_sample(rl_nvml *n, unsigned i, rl_gpu_sample *out);

/* ---- the sampler's state (capture_sampler.c) ---- */

typedef struct rl_sampler rl_sampler;

/* Takes the baseline readings (counters are reported as rates or as totals
 * since this call). nvml may be NULL; the sampler does not own it. */
int rl_sampler_new(rl_sampler **out, int pid, const char *disk_path, rl_nvml *nvml);
/* Reads everything and records one sample with runlog_writer_system(). */
int rl_sampler_sample(rl_sampler *s, runlog_writer *w);
void rl_sampler_free(rl_sampler *s);

/* Space of the filesystem that holds a path, in bytes (statvfs): total;
 * used, all blocks but the free ones (reserved blocks included: what df
 * and W&B's environment record call used); avail, what unprivileged users
 * may still write. */
typedef struct rl_disk_space {
    uint64_t total, used, avail;
} rl_disk_space;
/* 0, or -1 (statvfs fails, the filesystem reports no blocks, or sizes
 * beyond 2^63 bytes). */
int rl_disk_space_of(const char *path, rl_disk_space *out);

/* ---- metadata (capture_meta.c) ---- */

/* Collects the run metadata and records it with runlog_writer_metadata_json(). */
int rl_capture_metadata(runlog_writer *w, const runlog_capture_options *o, int pid,
                        rl_nvml *nvml);

/* One line of /proc/PID/mountinfo, without its newline: its mount point
 * (field 5) unescaped into out (size bytes, NUL-terminated). Its length, or
 * -1 for a line not of proc(5)'s form or a point that does not fit. */
long rl_mountinfo_point(const char *line, size_t len, char *out, size_t size);
/* The mount point, among the mountinfo lines read from fd, of the
 * filesystem that holds path (absolute, symbolic links resolved): the
 * longest one that is path or a folder above it. Malformed and overlong
 * lines are skipped; reading is bounded. 0, or -1 (none, a read error, the
 * bound reached; out then undefined). */
int rl_mount_of(int fd, const char *path, char *out, size_t size);

/* Spawn attributes with an empty signal mask and default dispositions for
 * the signals a caller commonly blocks or ignores. */
#include <spawn.h>
void rl_spawn_attr(posix_spawnattr_t *at);

/* Reads a small file (from /proc) into buf, NUL-terminated; its length, or
 * -1. fd >= 0 re-reads an open file from offset 0 instead of opening path. */
long rl_read_small(const char *path, int fd, char *buf, size_t size);

#endif
