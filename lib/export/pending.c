/*
 * pending.c — the converters still inside the `runlog` command (tools/),
 * being moved here one by one; each returns RUNLOG_EUNSUPPORTED until its
 * file in lib/export/ replaces its entry below. Removed when empty.
 */
#include "export_internal.h"

static int pending(const char *what)
{
    return runlog_error_set(RUNLOG_EUNSUPPORTED, "%s: not yet in librunlog-export", what);
}

#ifndef RX_HAS_JSON
int rx_export_json(rx_ctx *x, FILE *f) { (void)x; (void)f; return pending("json"); }
#endif
#ifndef RX_HAS_CSV
int rx_export_csv(rx_ctx *x, FILE *f) { (void)x; (void)f; return pending("csv"); }
int rx_export_history(rx_ctx *x, FILE *f) { (void)x; (void)f; return pending("history"); }
#endif
#ifndef RX_HAS_DUMP
int rx_export_dump(rx_ctx *x, FILE *f) { (void)x; (void)f; return pending("dump"); }
#endif
#if defined(RX_HAVE_HDF5) && !defined(RX_HAS_HDF5)
int rx_export_hdf5(rx_ctx *x) { (void)x; return pending("hdf5"); }
#endif
#if defined(RX_HAVE_WANDB) && !defined(RX_HAS_WANDB)
int rx_export_wandb(rx_ctx *x) { (void)x; return pending("wandb"); }
#endif
#ifndef RX_HAS_EXTRACT
#ifdef RX_HAVE_IMAGES
int rx_export_images(rx_ctx *x) { (void)x; return pending("images"); }
#endif
int rx_export_artifact(rx_ctx *x) { (void)x; return pending("artifact"); }
#endif
