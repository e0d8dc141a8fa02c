/*
 * cmd_verify.c — `runlog verify [--no-values] FILE...` and `runlog repair FILE`.
 */
#include <getopt.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* Verifies one file (values: decoding every value); TOOL_OK when it is intact. */
static int verify_one(const char *path, int values)
{
    runlog_report *rep;
    int rc = values ? runlog_verify(&rep, path) : runlog_verify_structure(&rep, path);
    size_t i, n;

    if (rc < 0)
        return tool_lib_error(path, rc);
    n = runlog_report_damage_count(rep);
    for (i = 0; i < n; i++) {
        runlog_damage_kind kind;
        uint64_t off, len;
        const char *what;

        if (runlog_report_damage(rep, i, &kind, &off, &len, &what) < 0)
            continue;
        printf("%s: byte %" PRIu64 ": %s, %" PRIu64 " bytes (%s)\n", path, off,
               rlu_damage_name(kind, 0), len, what ? what : "");
    }
    rc = runlog_report_intact(rep);
    printf("%s: %s, %" PRIu64 " frames, %" PRIu64 " records\n", path,
           rc ? "OK" : "DAMAGED", runlog_report_frames(rep), runlog_report_records(rep));
    runlog_report_free(rep);
    return rc ? TOOL_OK : TOOL_FAIL;
}

int cmd_verify(int argc, char **argv)
{
    static const struct option longopts[] = {{"no-values", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};
    int i, c, values = 1, status = TOOL_OK;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (c != 'V')
            return tool_bad_option(argv[0], argv, c);
        values = 0;
    }
    if (optind >= argc)
        return tool_usage(argv[0], "expected at least one FILE");
    for (i = optind; i < argc; i++) {
        if (verify_one(argv[i], values) != TOOL_OK)
            status = TOOL_FAIL;
        fflush(stdout); /* keep stdout lines and stderr errors in order */
    }
    return status;
}

int cmd_repair(int argc, char **argv)
{
    int status = tool_no_options(argc, argv), rc;
    const char *path;
    struct stat st;
    uint64_t cut = 0;

    if (status != TOOL_OK)
        return status;
    if (argc - optind != 1)
        return tool_usage(argv[0], "expected one FILE");
    path = argv[optind];
    /* The size before the cut tells where the torn tail began (the sidecar's name). */
    if (stat(path, &st) < 0)
        return tool_sys_error(path);
    rc = runlog_repair(&cut, path);
    if (rc < 0)
        return tool_lib_error(path, rc);
    if (cut) {
        uint64_t at = (uint64_t)st.st_size - cut;
        printf("%s: cut %" PRIu64 " bytes at byte %" PRIu64 " (kept in %s.torn-%" PRIu64
               "); index and trailer written\n", path, cut, at, path, at);
    } else {
        printf("%s: no torn tail; index and trailer written\n", path);
    }
    return TOOL_OK;
}
