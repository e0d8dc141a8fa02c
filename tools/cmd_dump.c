/*
 * cmd_dump.c — `runlog dump FILE`: every record as one JSON object per line
 * (spec/EXPORTS.md "dump").
 */
#include <string.h>
#include <unistd.h>

#include "util.h"

/* {"offset":..,"type":..,"time":..,"time_ns":..,("step","fields")|"body"} */
static int dump_record(rlu_json *j, const runlog_record *rec)
{
    runlog_record_type type = runlog_record_type_of(rec);
    int64_t t = runlog_record_time(rec);
    size_t i, n;
    int rc = 0;

    tj_init(j, j->f); /* each line is its own document */
    tj_obj(j);
    tj_key(j, "offset");
    tj_uint(j, runlog_record_frame_offset(rec));
    tj_key(j, "type");
    tj_str(j, runlog_record_type_name((int)type));
    if (strcmp(runlog_record_type_name((int)type), "unknown") == 0) {
        tj_key(j, "type_id");
        tj_int(j, (int64_t)type);
    }
    tj_key(j, "time");
    tj_iso(j, t);
    tj_key(j, "time_ns");
    tj_int(j, t);
    /* System samples are rows too: their step is the sample's number. */
    if (type == RUNLOG_RECORD_HISTORY || type == RUNLOG_RECORD_SYSTEM) {
        tj_key(j, "step");
        tj_uint(j, runlog_record_step(rec));
        tj_key(j, "fields");
        tj_obj(j);
        n = runlog_record_field_count(rec);
        for (i = 0; i < n && rc == 0; i++) {
            tj_key(j, runlog_record_field_key(rec, i));
            rc = tj_value(j, runlog_record_field_value(rec, i));
        }
        tj_obj_end(j);
    } else {
        tj_key(j, "body");
        rc = tj_value(j, runlog_record_body(rec));
    }
    tj_obj_end(j);
    tj_newline(j);
    return rc;
}

int cmd_dump(int argc, char **argv)
{
    int status = tool_no_options(argc, argv), rc;
    const runlog_record *rec;
    runlog_reader *r;
    const char *path;
    rlu_json j;

    if (status != TOOL_OK)
        return status;
    if (argc - optind != 1)
        return tool_usage(argv[0], "expected one FILE");
    path = argv[optind];
    /* `>> FILE` would append the dump to the run-log itself. */
    if (tool_check_output(NULL, &path, 1) != TOOL_OK ||
        tool_open_reader(&r, path, RUNLOG_READ_TOLERANT) != TOOL_OK)
        return TOOL_FAIL;
    tj_init(&j, stdout);
    while ((rc = runlog_reader_next(r, &rec)) == 0)
        if ((rc = dump_record(&j, rec)) < 0)
            break;
    if (rc != RUNLOG_ITEROVER)
        status = tool_lib_error(path, rc);
    runlog_reader_close(r);
    if (fflush(stdout) != 0)
        status = tool_sys_error("stdout");
    if (status == TOOL_OK)
        status = tool_warn_damage(path);
    return status;
}
