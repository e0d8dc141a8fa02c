/*
 * test_header_export_c99 — the converter header compiles alone as C99 with
 * -pedantic -Werror -Wall -Wextra, its initializer fills every field with
 * the documented defaults, and the library answers a malformed call.
 */
#include "runlog_export.h"

#include <stdio.h>

int main(void)
{
    runlog_export_options o = RUNLOG_EXPORT_OPTIONS_INIT;
    const char *in[1] = {"missing.runlog"};

    if (o.version != RUNLOG_EXPORT_OPTIONS_VERSION || o.format != RUNLOG_EXPORT_JSON ||
        o.damage != RUNLOG_DAMAGE_TOLERANT || o.notice != NULL || o.progress != NULL ||
        o.payload != NULL || o.out_fd != -1 || o.keys != NULL || o.nkeys != 0 ||
        o.table != NULL || o.artifact != NULL || o.hdf5_compression != RUNLOG_HDF5_GZIP ||
        o.hdf5_level != -1 || o.hdf5_artifact_data != 0 || o.wandb_entity != NULL ||
        o.wandb_project != NULL) {
        fprintf(stderr, "RUNLOG_EXPORT_OPTIONS_INIT is wrong\n");
        return 1;
    }
    if (!runlog_export_supported(RUNLOG_EXPORT_JSON) || runlog_export_supported(0)) {
        fprintf(stderr, "runlog_export_supported is wrong\n");
        return 1;
    }
    o.version = 99;
    if (runlog_export(in, 1, "out.json", &o) != RUNLOG_EINVAL) {
        fprintf(stderr, "an unknown options version was accepted\n");
        return 1;
    }
    o.version = RUNLOG_EXPORT_OPTIONS_VERSION;
    if (runlog_export(in, 1, NULL, &o) != RUNLOG_EINVAL) {
        fprintf(stderr, "a stream export with no output and no out_fd was accepted\n");
        return 1;
    }
    printf("runlog-export %s: %s\n", runlog_export_version(), runlog_error_detail());
    return 0;
}
