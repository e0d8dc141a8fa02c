/*
 * export_run — a program that links only the libraries (librunlog,
 * librunlog-export), no `runlog` command, and exports one run-log four
 * ways: what `runlog export json|csv|hdf5|wandb` write, through
 * runlog_export().
 *
 *   export_run RUN.runlog OUTDIR
 *     writes OUTDIR/run.json, OUTDIR/run.csv, OUTDIR/run.h5 and the W&B
 *     offline run under OUTDIR/wandb/ (the formats this build has).
 *
 * Build: cc export_run.c $(pkg-config --cflags --libs runlog-export)
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <runlog_export.h>

/* Damage skipped, a key left out, a file written: printed as the command would. */
static void on_notice(void *payload, runlog_notice_kind kind, const char *text)
{
    (void)payload;
    fprintf(kind == RUNLOG_NOTICE_OUTPUT ? stdout : stderr, "%s%s\n",
            kind == RUNLOG_NOTICE_OUTPUT ? "" : "export_run: ", text);
}

int main(int argc, char **argv)
{
    static const struct {
        runlog_export_format format;
        const char *name;
    } outputs[] = {
        {RUNLOG_EXPORT_JSON, "run.json"},
        {RUNLOG_EXPORT_CSV, "run.csv"},
        {RUNLOG_EXPORT_HDF5, "run.h5"},
        {RUNLOG_EXPORT_WANDB, "wandb"},
    };
    const char *inputs[1];
    char out[4096];
    int status = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: export_run RUN.runlog OUTDIR\n");
        return 2;
    }
    inputs[0] = argv[1];
    if (mkdir(argv[2], 0777) < 0 && strcmp(argv[2], ".") != 0) {
        struct stat st;
        if (stat(argv[2], &st) < 0 || !S_ISDIR(st.st_mode)) {
            perror(argv[2]);
            return 1;
        }
    }
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        runlog_export_options opts = RUNLOG_EXPORT_OPTIONS_INIT;
        int rc;

        if (!runlog_export_supported(outputs[i].format)) {
            printf("%s: not in this build\n", outputs[i].name);
            continue;
        }
        opts.format = outputs[i].format;
        opts.notice = on_notice;
        snprintf(out, sizeof out, "%s/%s", argv[2], outputs[i].name);
        rc = runlog_export(inputs, 1, out, &opts);
        if (rc == 0) {
            printf("wrote %s\n", out);
        } else {
            /* RUNLOG_EDAMAGED: written whole, damaged frames skipped. */
            fprintf(stderr, "export_run: %s: %s\n", runlog_strerror(rc), runlog_error_detail());
            status = 1;
        }
    }
    return status;
}
