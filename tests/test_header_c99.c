/*
 * test_header_c99 — the public header compiles alone as C99 with
 * -pedantic -Werror -Wall -Wextra (meson builds this file with those flags
 * and c_std=c99), and its initializers fill every field.
 */
#include "runlog.h"

#include <stdio.h>
#include <string.h>

int main(void)
{
    runlog_writer_options wo = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_reader_options ro = RUNLOG_READER_OPTIONS_INIT;
    if (wo.version != RUNLOG_WRITER_OPTIONS_VERSION || ro.version != RUNLOG_READER_OPTIONS_VERSION
        || wo.run_id != NULL || wo.file_uuid != NULL || wo.salt != 0 || ro.flags != 0u) {
        fprintf(stderr, "options initializers are wrong\n");
        return 1;
    }
    if (strcmp(runlog_strerror(RUNLOG_ELOCKED), runlog_strerror(RUNLOG_OK)) == 0) {
        fprintf(stderr, "runlog_strerror gives the same text for two codes\n");
        return 1;
    }
    printf("runlog %s, format %d\n", RUNLOG_VERSION_STRING, RUNLOG_FORMAT_VERSION);
    return 0;
}
