/*
 * dump.c — RUNLOG_EXPORT_DUMP: every record as one JSON object per line
 * (spec/EXPORTS.md "dump"). Records are listed as the file holds them, so
 * the dump of a live file goes on to its end rather than stopping at a
 * snapshot.
 */
#include <string.h>

#include "export_internal.h"

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

int rx_export_dump(rx_ctx *x, FILE *f)
{
    const char *path = x->inputs[0];
    const runlog_record *rec;
    runlog_reader *r;
    rlu_json j;
    int rc;

    if ((rc = rx_open_reader(x, &r, path)) < 0)
        return rx_lib_error(path, rc);
    tj_init(&j, f);
    while ((rc = runlog_reader_next(r, &rec)) == 0)
        if ((rc = dump_record(&j, rec)) < 0)
            break;
    rc = rc == RUNLOG_ITEROVER ? 0 : rx_lib_error(path, rc);
    runlog_reader_close(r);
    return rc < 0 ? rc : rx_report_damage(x, path);
}
