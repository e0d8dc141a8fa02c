/*
 * export.c — runlog_export(): options, inputs and output checked once for
 * every format, the output stream opened whole-or-nothing, the damage
 * policy applied the same way everywhere (spec/EXPORTS.md §1.5).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_internal.h"

void rx_notice(rx_ctx *x, runlog_notice_kind kind, const char *fmt, ...)
{
    char text[2048];
    va_list ap;

    if (!x->o->notice)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    x->o->notice(x->o->payload, kind, text);
}

void rx_progress(rx_ctx *x, uint64_t done, uint64_t total)
{
    if (x->o->progress)
        x->o->progress(x->o->payload, done, total);
}

int rx_tolerant(const rx_ctx *x)
{
    return x->o->damage != RUNLOG_DAMAGE_STRICT;
}

unsigned rx_read_flags(const rx_ctx *x)
{
    return rx_tolerant(x) ? RUNLOG_READ_TOLERANT : RUNLOG_READ_STRICT;
}

int rx_open_reader(rx_ctx *x, runlog_reader **out, const char *path)
{
    runlog_reader_options ro = RUNLOG_READER_OPTIONS_INIT;

    ro.flags = rx_read_flags(x);
    return runlog_reader_open(out, path, &ro);
}

int rx_report_damage(rx_ctx *x, const char *path)
{
    runlog_report *rep;
    int rc = runlog_verify(&rep, path);

    return rc < 0 ? rc : rx_report_damage_of(x, path, rep);
}

int rx_report_damage_of(rx_ctx *x, const char *path, runlog_report *rep)
{
    int rc = 0;
    size_t i;

    for (i = 0; i < runlog_report_damage_count(rep); i++) {
        runlog_damage_kind kind;
        uint64_t off, len;
        const char *what;

        if (runlog_report_damage(rep, i, &kind, &off, &len, &what) < 0)
            continue;
        /* Strict: damage the pass did not meet (a frame that an indexed
         * history read or a blob read never opened) fails the export too. */
        if (!rx_tolerant(x) && kind != RUNLOG_DAMAGE_TORN_TAIL) {
            rc = runlog_error_set(kind == RUNLOG_DAMAGE_FRAME ? RUNLOG_ECHECKSUM : RUNLOG_ECORRUPT,
                                  "%s: byte %" PRIu64 ": %s", path, off, what ? what : "damage");
            runlog_report_free(rep);
            return rc;
        }
        rx_notice(x, kind == RUNLOG_DAMAGE_TORN_TAIL ? RUNLOG_NOTICE_TORN : RUNLOG_NOTICE_DAMAGE,
                  "%s: byte %" PRIu64 ": %s, %" PRIu64 " bytes skipped (%s)", path, off,
                  rlu_damage_name(kind, 0), len, what ? what : "");
        if (kind != RUNLOG_DAMAGE_TORN_TAIL)
            x->damaged++;
    }
    runlog_report_free(rep);
    return 0;
}

int rx_bad_record(rx_ctx *x, int rc)
{
    if (!rx_tolerant(x) || rc == RUNLOG_ENOMEM)
        return rc;
    rx_notice(x, RUNLOG_NOTICE_DAMAGE, "%s; record skipped", runlog_error_detail());
    x->damaged++;
    return 0;
}

int rx_check_not_input(const rx_ctx *x, const char *out)
{
    int i;

    if (!out && x->o->out_fd < 0)
        return 0;
    i = rlu_same_file_index(out, x->o->out_fd, x->inputs, x->n);
    if (i < 0)
        return 0;
    return runlog_error_set(RUNLOG_EINVAL,
                            "%s: is the input %s (the same file); refusing to write over it",
                            out ? out : "stdout", x->inputs[i]);
}

void rx_quota_init(rx_quota *q, const runlog_run *run)
{
    q->rows = runlog_run_record_count(run, RUNLOG_RECORD_HISTORY);
    q->alerts = runlog_run_record_count(run, RUNLOG_RECORD_ALERT);
    q->console = runlog_run_record_count(run, RUNLOG_RECORD_CONSOLE);
    q->system = runlog_run_record_count(run, RUNLOG_RECORD_SYSTEM);
}

int rx_quota_take(rx_quota *q, runlog_record_type type)
{
    uint64_t *left = type == RUNLOG_RECORD_HISTORY ? &q->rows
                   : type == RUNLOG_RECORD_ALERT ? &q->alerts
                   : type == RUNLOG_RECORD_CONSOLE ? &q->console
                   : type == RUNLOG_RECORD_SYSTEM ? &q->system : NULL;

    if (!left || *left == 0)
        return 0;
    (*left)--;
    return 1;
}

int rx_lib_error(const char *path, int code)
{
    const char *detail = runlog_error_detail();
    size_t n = strlen(path);

    if (!detail[0])
        return runlog_error_set(code, "%s: %s", path, runlog_strerror(code));
    if (strncmp(detail, path, n) == 0 && detail[n] == ':')
        return code;
    return runlog_error_set(code, "%s: %s", path, detail);
}

int rx_sys_error(const char *what)
{
    int err = errno;

    return runlog_error_set(err == ENOMEM ? RUNLOG_ENOMEM : RUNLOG_EIO, "%s: %s", what,
                            strerror(err));
}

int rx_open_run(rx_ctx *x, runlog_reader **r, runlog_run **run, const char *path)
{
    int rc;

    *r = NULL;
    *run = NULL;
    if ((rc = rx_open_reader(x, r, path)) < 0)
        return rx_lib_error(path, rc);
    if ((rc = runlog_reader_run(run, *r)) < 0) {
        rc = rx_lib_error(path, rc);
        runlog_reader_close(*r);
        *r = NULL;
    }
    return rc;
}

/* ---- runlog_export() ---- */

/* The format's name and the build feature it needs (docs/BUILDING.md). */
static const char *format_name(runlog_export_format f, const char **feature)
{
    *feature = NULL;
    switch (f) {
    case RUNLOG_EXPORT_JSON: return "JSON";
    case RUNLOG_EXPORT_JSONL: return "JSON Lines";
    case RUNLOG_EXPORT_CSV: case RUNLOG_EXPORT_CSV_LONG: case RUNLOG_EXPORT_CSV_TABLE: return "CSV";
    case RUNLOG_EXPORT_HISTORY: return "history";
    case RUNLOG_EXPORT_DUMP: return "dump";
    case RUNLOG_EXPORT_HDF5: *feature = "hdf5"; return "the HDF5 export";
    case RUNLOG_EXPORT_WANDB: *feature = "wandb"; return "the W&B export";
    case RUNLOG_EXPORT_IMAGES: *feature = "images"; return "image extraction";
    case RUNLOG_EXPORT_ARTIFACT: return "artifact extraction";
    case RUNLOG_EXPORT_REPORT: *feature = "report"; return "the HTML report";
    }
    return NULL;
}

static int is_stream(runlog_export_format f)
{
    /* REPORT is one page written like a document: the same output path */
    return (f >= RUNLOG_EXPORT_JSON && f <= RUNLOG_EXPORT_DUMP) || f == RUNLOG_EXPORT_REPORT;
}

int runlog_export_supported(runlog_export_format format)
{
    switch (format) {
    case RUNLOG_EXPORT_JSON: case RUNLOG_EXPORT_JSONL: case RUNLOG_EXPORT_CSV:
    case RUNLOG_EXPORT_CSV_LONG: case RUNLOG_EXPORT_CSV_TABLE: case RUNLOG_EXPORT_HISTORY:
    case RUNLOG_EXPORT_DUMP: case RUNLOG_EXPORT_ARTIFACT:
        return 1;
#ifdef RX_HAVE_HDF5
    case RUNLOG_EXPORT_HDF5: return 1;
#endif
#ifdef RX_HAVE_WANDB
    case RUNLOG_EXPORT_WANDB: return 1;
#endif
#ifdef RX_HAVE_IMAGES
    case RUNLOG_EXPORT_IMAGES: return 1;
#endif
#ifdef RX_HAVE_REPORT
    case RUNLOG_EXPORT_REPORT: return 1;
#endif
    default:
        return 0;
    }
}

const char *runlog_export_version(void)
{
    return RUNLOG_VERSION_STRING;
}

/* A stream format: to out (whole or not at all) or to the caller's fd. */
static int export_stream(rx_ctx *x)
{
    runlog_export_format f = x->o->format;
    rlu_out out;
    FILE *fp = NULL;
    int rc, fd;

    if (x->out) {
        if ((rc = rlu_out_open(&out, x->out)) < 0)
            return rc;
        fp = out.f;
    } else {
        if (x->o->out_fd < 0)
            return runlog_error_set(RUNLOG_EINVAL, "no output: give a path or out_fd");
        if ((fd = dup(x->o->out_fd)) < 0 || !(fp = fdopen(fd, "w"))) {
            int err = errno;
            if (fd >= 0)
                close(fd);
            return runlog_error_set(RUNLOG_EIO, "output descriptor %d: %s", x->o->out_fd,
                                    strerror(err));
        }
    }
    switch (f) {
    case RUNLOG_EXPORT_JSON: case RUNLOG_EXPORT_JSONL:
        rc = rx_export_json(x, fp);
        break;
    case RUNLOG_EXPORT_HISTORY:
        rc = rx_export_history(x, fp);
        break;
    case RUNLOG_EXPORT_DUMP:
        rc = rx_export_dump(x, fp);
        break;
#ifdef RX_HAVE_REPORT
    case RUNLOG_EXPORT_REPORT:
        rc = rx_export_report(x, fp);
        break;
#endif
    default:
        rc = rx_export_csv(x, fp);
        break;
    }
    if (x->out) {
        int rc2 = rlu_out_close(&out, rc == 0);
        return rc < 0 ? rc : rc2;
    }
    if ((fflush(fp) != 0 || ferror(fp)) && rc == 0)
        rc = runlog_error_set(RUNLOG_EIO, "output: write error: %s", strerror(errno));
    fclose(fp);
    return rc;
}

int runlog_export(const char *const *inputs, size_t n, const char *out,
                  const runlog_export_options *opts)
{
    static const runlog_export_options defaults = RUNLOG_EXPORT_OPTIONS_INIT;
    runlog_export_format f;
    rx_ctx x;
    size_t i;
    int rc;

    if (!opts)
        opts = &defaults;
    if (opts->version != RUNLOG_EXPORT_OPTIONS_VERSION)
        return runlog_error_set(RUNLOG_EINVAL, "runlog_export_options version %u (expected %u)",
                                opts->version, RUNLOG_EXPORT_OPTIONS_VERSION);
    f = opts->format;
    if (opts->damage != RUNLOG_DAMAGE_TOLERANT && opts->damage != RUNLOG_DAMAGE_STRICT)
        return runlog_error_set(RUNLOG_EINVAL, "unknown damage policy %d", (int)opts->damage);
    if (!runlog_export_supported(f)) {
        const char *feature, *name = format_name(f, &feature);
        if (!name)
            return runlog_error_set(RUNLOG_EINVAL, "unknown export format %d", (int)f);
        return runlog_error_set(RUNLOG_EUNSUPPORTED,
                                "%s is not in this build of librunlog-export (meson feature "
                                "'%s', docs/BUILDING.md)", name, feature ? feature : "?");
    }
    if (!inputs || n == 0)
        return runlog_error_set(RUNLOG_EINVAL, "no input files");
    for (i = 0; i < n; i++)
        if (!inputs[i])
            return runlog_error_set(RUNLOG_EINVAL, "input %zu is NULL", i);
    if (opts->csv_with_run && f != RUNLOG_EXPORT_CSV)
        return runlog_error_set(RUNLOG_EINVAL, "csv_with_run applies to the wide CSV only");
    if (n > 1 && f != RUNLOG_EXPORT_HDF5 && f != RUNLOG_EXPORT_WANDB && f != RUNLOG_EXPORT_REPORT &&
        !(f == RUNLOG_EXPORT_CSV && opts->csv_with_run))
        return runlog_error_set(RUNLOG_EINVAL, "this format exports one file, %zu given", n);
    if (!out && !is_stream(f))
        return runlog_error_set(RUNLOG_EINVAL, "this format needs an output path");
    if (f == RUNLOG_EXPORT_HISTORY && (!opts->keys || opts->nkeys == 0))
        return runlog_error_set(RUNLOG_EINVAL, "history needs at least one key");
    if (f == RUNLOG_EXPORT_CSV_TABLE && !opts->table)
        return runlog_error_set(RUNLOG_EINVAL, "a table export needs options.table");
    if (f == RUNLOG_EXPORT_ARTIFACT && !opts->artifact)
        return runlog_error_set(RUNLOG_EINVAL, "an artifact extract needs options.artifact");

    memset(&x, 0, sizeof x);
    x.o = opts;
    x.inputs = inputs;
    x.n = n;
    x.out = out;
    if ((rc = rx_check_not_input(&x, out)) < 0)
        return rc;
    switch (f) {
#ifdef RX_HAVE_HDF5
    case RUNLOG_EXPORT_HDF5: rc = rx_export_hdf5(&x); break;
#endif
#ifdef RX_HAVE_WANDB
    case RUNLOG_EXPORT_WANDB: rc = rx_export_wandb(&x); break;
#endif
#ifdef RX_HAVE_IMAGES
    case RUNLOG_EXPORT_IMAGES: rc = rx_export_images(&x); break;
#endif
    case RUNLOG_EXPORT_ARTIFACT: rc = rx_export_artifact(&x); break;
    default: rc = export_stream(&x); break;
    }
    if (rc == 0 && x.damaged)
        rc = runlog_error_set(RUNLOG_EDAMAGED, "%s: %" PRIu64 " damaged range%s skipped",
                              n == 1 ? inputs[0] : "inputs", x.damaged,
                              x.damaged == 1 ? "" : "s");
    return rc;
}
