/*
 * json.c — RUNLOG_EXPORT_JSON and RUNLOG_EXPORT_JSONL (spec/EXPORTS.md
 * "export json", "export json --history-jsonl").
 *
 * History is streamed: one pass of runlog_reader_next() writes each row as
 * it is read, so memory does not grow with the run. The JSON document's
 * alerts and console arrays come after the history, so they are spooled to
 * temporary files during the same pass.
 *
 * The run summary (runlog_reader_run()) and the pass are two reads; when a
 * live file grows between them, the pass stops at the record counts of the
 * summary (rx_quota) so that every part of the export describes the same
 * moment.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "media.h"

static int64_t run_start(const runlog_run *run, const runlog_reader *r)
{
    int64_t start;

    if (rlu_map_int(runlog_run_identity(run), "start_time", &start))
        return start;
    return runlog_reader_created(r);
}

/* ---- JSON ---- */

/* A history cell: media maps with their digests in hex and, for images,
 * the file name `extract --images` gives them (spec/EXPORTS.md §2.2). */
static int json_cell(rlu_json *j, const char *key, uint64_t step, const runlog_value *v)
{
    char name[MEDIA_NAME_MAX];
    size_t i, n;
    int rc = 0;

    switch (media_kind_of(v)) {
    case MEDIA_IMAGE:
        media_image_name(name, key, step, 0, NULL, v);
        return media_json(j, v, name);
    case MEDIA_IMAGES:
        n = media_image_count(v);
        tj_arr(j);
        for (i = 0; i < n && rc == 0; i++) {
            media_image_name(name, key, step, i, NULL, media_image_at(v, i));
            rc = media_json(j, media_image_at(v, i), name);
        }
        tj_arr_end(j);
        return rc;
    case MEDIA_TABLE:
        return media_json(j, v, NULL);
    default:
        return tj_value(j, v);
    }
}

/* {"_step":..,"_timestamp":..,"_runtime":.., key: value...} */
static int json_row(rlu_json *j, const runlog_record *rec, int64_t start)
{
    int64_t t = runlog_record_time(rec);
    size_t i, n = runlog_record_field_count(rec);
    int rc = 0;

    tj_obj(j);
    tj_key(j, "_step");
    tj_uint(j, runlog_record_step(rec));
    tj_key(j, "_timestamp");
    tj_unix(j, t);
    tj_key(j, "_runtime");
    tj_unix(j, t - start);
    for (i = 0; i < n && rc == 0; i++) {
        tj_key(j, runlog_record_field_key(rec, i));
        rc = json_cell(j, runlog_record_field_key(rec, i), runlog_record_step(rec),
                       runlog_record_field_value(rec, i));
    }
    tj_obj_end(j);
    return rc;
}

/* ---- JSON: images, tables, artifacts (spec/EXPORTS.md §2.5-2.7) ---- */

static const char *const image_keys[] = {"size", "format", "width", "height", "caption"};

/* {"key","step","index","digest","size","format","width","height","caption","file"} */
static void json_image_entry(rlu_json *j, const char *key, uint64_t step, size_t index,
                             const runlog_value *img)
{
    char name[MEDIA_NAME_MAX], hex[33];
    const runlog_value *v;
    runlog_digest d;
    int has_digest = runlog_value_digest(&d, img) == 0;
    size_t k;

    media_image_name(name, key, step, index, NULL, img);
    if (has_digest)
        runlog_digest_hex(hex, &d);
    tj_obj(j);
    tj_key(j, "key");
    tj_str(j, key);
    tj_key(j, "step");
    tj_uint(j, step);
    tj_key(j, "index");
    tj_uint(j, index);
    tj_key(j, "digest");
    /* null, not 32 placeholder characters, when the map names no blob
     * (spec/EXPORTS.md §9.3) */
    tj_str(j, has_digest ? hex : NULL);
    for (k = 0; k < sizeof image_keys / sizeof image_keys[0]; k++) {
        tj_key(j, image_keys[k]);
        if ((v = runlog_value_get(img, image_keys[k])) == NULL || tj_value(j, v) < 0)
            tj_null(j);
    }
    tj_key(j, "file");
    tj_str(j, name);
    tj_obj_end(j);
}

/* One table cell: image cells as image objects with their file name. */
static int json_table_cell(rlu_json *j, const char *key, uint64_t step, const runlog_value *doc,
                           size_t row, size_t c)
{
    const runlog_value *cell = media_table_cell(doc, row, c);
    char name[MEDIA_NAME_MAX];

    if (!cell) {
        tj_null(j);
        return 0;
    }
    if (media_kind_of(cell) == MEDIA_IMAGE) {
        media_image_name(name, key, step, row, media_table_column(doc, c), cell);
        return media_json(j, cell, name);
    }
    return tj_value(j, cell);
}

/* "columns", "types", then "rows": one array per row, row-major (as
 * wandb's table JSON), converted from the stored column-major lists. */
static int json_table_body(rlu_json *j, const char *key, uint64_t step, const runlog_value *doc)
{
    size_t c, row, ncols = media_table_ncols(doc), nrows = media_table_nrows(doc);
    int rc = 0;

    tj_key(j, "columns");
    tj_arr(j);
    for (c = 0; c < ncols; c++)
        tj_str(j, media_table_column(doc, c));
    tj_arr_end(j);
    tj_key(j, "types");
    tj_arr(j);
    for (c = 0; c < ncols; c++)
        tj_str(j, media_table_type(doc, c));
    tj_arr_end(j);
    tj_key(j, "rows");
    tj_arr(j);
    for (row = 0; row < nrows && rc == 0; row++) {
        tj_item_break(j);
        tj_arr(j);
        for (c = 0; c < ncols && rc == 0; c++)
            rc = json_table_cell(j, key, step, doc, row, c);
        tj_arr_end(j);
    }
    tj_arr_end(j);
    return rc;
}

/* {"key","step","digest","nrows","ncols","columns","types","rows"} */
static int json_table_entry(rlu_json *j, runlog_reader *blobs, const char *key, uint64_t step,
                            const runlog_value *t)
{
    runlog_digest d;
    runlog_doc *doc;
    char hex[33];
    int rc;

    if ((rc = runlog_value_digest(&d, t)) < 0 || (rc = runlog_reader_table(&doc, blobs, &d)) < 0)
        return rc;
    runlog_digest_hex(hex, &d);
    tj_obj(j);
    tj_key(j, "key");
    tj_str(j, key);
    tj_key(j, "step");
    tj_uint(j, step);
    tj_key(j, "digest");
    tj_str(j, hex);
    tj_key(j, "nrows");
    tj_uint(j, media_table_nrows(runlog_doc_value(doc)));
    tj_key(j, "ncols");
    tj_uint(j, media_table_ncols(runlog_doc_value(doc)));
    rc = json_table_body(j, key, step, runlog_doc_value(doc));
    tj_obj_end(j);
    runlog_doc_free(doc);
    return rc;
}

/* The images and tables of one row, into their spools. */
static int json_row_media(rlu_json *images, rlu_json *tables, runlog_reader *blobs,
                          const runlog_record *rec)
{
    size_t i, k, n = runlog_record_field_count(rec);
    uint64_t step = runlog_record_step(rec);
    const runlog_value *v;
    const char *key;
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        v = runlog_record_field_value(rec, i);
        key = runlog_record_field_key(rec, i);
        switch (media_kind_of(v)) {
        case MEDIA_IMAGE:
        case MEDIA_IMAGES:
            for (k = 0; k < media_image_count(v); k++) {
                tj_item_break(images);
                json_image_entry(images, key, step, k, media_image_at(v, k));
            }
            break;
        case MEDIA_TABLE:
            tj_item_break(tables);
            rc = json_table_entry(tables, blobs, key, step, v);
            break;
        default:
            break;
        }
    }
    return rc;
}

/* "artifacts": runlog_run_artifacts() with digests in hex, less the
 * versions whose record is malformed (bad[i], n_bad of them known). */
static int json_artifacts(rlu_json *j, const runlog_run *run, const unsigned char *bad,
                          size_t n_bad)
{
    const runlog_value *arts = runlog_run_artifacts(run);
    size_t i, n = arts ? runlog_value_count(arts) : 0;
    int rc = 0;

    tj_item_break(j);
    tj_key(j, "artifacts");
    tj_arr(j);
    for (i = 0; i < n && rc == 0; i++) {
        if (i < n_bad && bad[i])
            continue;
        tj_item_break(j);
        rc = media_json(j, runlog_value_item(arts, i), NULL);
    }
    tj_arr_end(j);
    return rc;
}

/* {"title","text","level","timestamp"}; a malformed alert is rx_bad_record's. */
static int json_alert(rx_ctx *x, rlu_json *j, const runlog_record *rec)
{
    const char *title, *text;
    size_t title_len, text_len;
    runlog_alert_level level;
    int rc = runlog_record_alert(rec, &title, &title_len, &text, &text_len, &level);

    if (rc < 0)
        return rx_bad_record(x, rc);
    tj_item_break(j);
    tj_obj(j);
    tj_key(j, "title");
    tj_strn(j, title, title_len);
    tj_key(j, "text");
    tj_strn(j, text, text_len);
    tj_key(j, "level");
    tj_str(j, runlog_alert_level_name(level));
    tj_key(j, "timestamp");
    tj_unix(j, runlog_record_time(rec));
    tj_obj_end(j);
    return 0;
}

/* Console bytes go in "text" as UTF-8; when they are not valid UTF-8, "text"
 * has U+FFFD in place of each bad byte and "data_base64" holds them exactly. */
static int json_console(rx_ctx *x, rlu_json *j, const runlog_record *rec)
{
    runlog_stream stream;
    const void *data;
    size_t len;
    int rc = runlog_record_console(rec, &stream, &data, &len);

    if (rc < 0)
        return rx_bad_record(x, rc);
    tj_item_break(j);
    tj_obj(j);
    tj_key(j, "stream");
    tj_str(j, runlog_stream_name(stream));
    tj_key(j, "timestamp");
    tj_unix(j, runlog_record_time(rec));
    tj_key(j, "text");
    if (tj_strn(j, data, len) > 0) {
        tj_key(j, "data_base64");
        tj_base64(j, data, len);
    }
    tj_obj_end(j);
    return 0;
}

/* A system sample (spec/EXPORTS.md §8.2): {"_timestamp":..,"_runtime":.., key: value...};
 * its step is only a sequence number and is left out. */
static int json_system(rlu_json *j, const runlog_record *rec, int64_t start)
{
    int64_t t = runlog_record_time(rec);
    size_t i, n = runlog_record_field_count(rec);
    int rc = 0;

    tj_obj(j);
    tj_key(j, "_timestamp");
    tj_unix(j, t);
    tj_key(j, "_runtime");
    tj_unix(j, t - start);
    for (i = 0; i < n && rc == 0; i++) {
        tj_key(j, runlog_record_field_key(rec, i));
        rc = tj_value(j, runlog_record_field_value(rec, i));
    }
    tj_obj_end(j);
    return rc;
}

typedef struct json_pass {
    rlu_json doc, alerts, console, images, tables;
    FILE *alerts_f, *console_f, *images_f, *tables_f;
    rx_ctx *x;
    runlog_reader *blobs; /* the reader of the pass: blob reads do not move it */
    int jsonl;
    rlu_json system; /* system samples, spooled like alerts */
    FILE *system_f;
    /* Per artifact version of runlog_run_artifacts(), in order: 1 when its
     * record breaks spec/FORMAT.md §12.5 (left out of "artifacts"). */
    unsigned char *bad_artifact;
    size_t n_artifacts;
} json_pass;

/* Whether runlog_run_artifacts() lists this artifact record: it lists every
 * record with a text name and a version >= 0, in file order. */
static int run_lists_artifact(const runlog_record *rec)
{
    const runlog_value *b = runlog_record_body(rec), *name = runlog_value_get(b, "name"),
                       *version = runlog_value_get(b, "version");

    return name && runlog_value_type(name) == RUNLOG_STRING && version &&
           runlog_value_type(version) == RUNLOG_INT && runlog_value_int(version) >= 0;
}

/* An artifact record: a malformed one is reported as a malformed alert is,
 * and marked so that json_artifacts() leaves it out. */
static int json_artifact_record(json_pass *p, const runlog_record *rec)
{
    int rc = runlog_record_artifact(rec, NULL, NULL, NULL, NULL, NULL), listed = run_lists_artifact(rec);
    unsigned char *more;

    if (listed) {
        if (!(more = realloc(p->bad_artifact, p->n_artifacts + 1)))
            return RUNLOG_ENOMEM;
        p->bad_artifact = more;
        p->bad_artifact[p->n_artifacts++] = rc < 0;
    }
    return rc < 0 ? rx_bad_record(p->x, rc) : 0;
}

/* Routes one record to the history (written now) or a spool. */
static int json_record(json_pass *p, const runlog_record *rec, int64_t start)
{
    int rc;

    switch (runlog_record_type_of(rec)) {
    case RUNLOG_RECORD_HISTORY:
        if (p->jsonl) {
            unsigned flags = p->doc.value_flags;
            tj_init(&p->doc, p->doc.f); /* each line is its own document */
            p->doc.value_flags = flags;
            rc = json_row(&p->doc, rec, start);
            tj_newline(&p->doc);
            return rc;
        }
        tj_item_break(&p->doc);
        if ((rc = json_row(&p->doc, rec, start)) < 0)
            return rc;
        return json_row_media(&p->images, &p->tables, p->blobs, rec);
    case RUNLOG_RECORD_ALERT:
        return p->jsonl ? 0 : json_alert(p->x, &p->alerts, rec);
    case RUNLOG_RECORD_CONSOLE:
        return p->jsonl ? 0 : json_console(p->x, &p->console, rec);
    case RUNLOG_RECORD_SYSTEM:
        if (p->jsonl)
            return 0;
        tj_item_break(&p->system);
        return json_system(&p->system, rec, start);
    default:
        return 0;
    }
}

static int json_pass_run(json_pass *p, runlog_reader *r, const runlog_run *run)
{
    rx_quota q;
    const runlog_record *rec;
    int64_t start = run_start(run, r);
    int rc;

    rx_quota_init(&q, run);
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        if (!p->jsonl && runlog_record_type_of(rec) == RUNLOG_RECORD_ARTIFACT &&
            (rc = json_artifact_record(p, rec)) < 0)
            return rc;
        if (!rx_quota_take(&q, runlog_record_type_of(rec)))
            continue;
        if ((rc = json_record(p, rec, start)) < 0)
            return rc;
    }
    return rc == RUNLOG_ITEROVER ? 0 : rc;
}

/* A map value, or {} when the run has none. Media values in it (the
 * summary's last image or table) are rendered as in history rows, digests
 * in hex; their step is not known here, so images carry no file name. */
static int json_map(rlu_json *j, const char *key, const runlog_value *map)
{
    tj_item_break(j);
    tj_key(j, key);
    tj_obj(j);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < runlog_value_count(map); i++) {
        const runlog_value *v = runlog_value_item(map, i);
        tj_key(j, runlog_value_key(map, i, NULL));
        switch (media_kind_of(v)) {
        case MEDIA_NONE:
            rc = tj_value(j, v);
            break;
        case MEDIA_IMAGES:
            tj_arr(j);
            for (size_t k = 0; rc == 0 && k < media_image_count(v); k++)
                rc = media_json(j, media_image_at(v, k), NULL);
            tj_arr_end(j);
            break;
        default:
            rc = media_json(j, v, NULL);
        }
    }
    tj_obj_end(j);
    return rc;
}

/* {"run":..,"config":..,"summary":..,"metadata":..,"history":[ */
static int json_head(rlu_json *j, const runlog_run *run)
{
    tj_obj(j);
    tj_key(j, "run");
    if (tj_run_object(j, run) < 0 || json_map(j, "config", runlog_run_config(run)) < 0 ||
        json_map(j, "summary", runlog_run_summary(run)) < 0 ||
        json_map(j, "metadata", runlog_run_metadata(run)) < 0)
        return RUNLOG_ENOMEM;
    tj_item_break(j);
    tj_key(j, "history");
    tj_arr(j);
    return 0;
}

/* A spooled array under key. */
static int json_spooled(rlu_json *j, const char *key, FILE *spool)
{
    tj_item_break(j);
    tj_key(j, key);
    tj_arr(j);
    if (rlu_copy_spool(spool, j->f) < 0)
        return -1;
    tj_arr_end(j);
    return 0;
}

/* ],"system":[..],"alerts":[..],"console":[..],"tables":[..],"images":[..],"artifacts":[..]} */
static int json_tail(json_pass *p, const runlog_run *run)
{
    tj_arr_end(&p->doc);
    if (json_spooled(&p->doc, "system", p->system_f) < 0 ||
        json_spooled(&p->doc, "alerts", p->alerts_f) < 0 ||
        json_spooled(&p->doc, "console", p->console_f) < 0 ||
        json_spooled(&p->doc, "tables", p->tables_f) < 0 ||
        json_spooled(&p->doc, "images", p->images_f) < 0 ||
        json_artifacts(&p->doc, run, p->bad_artifact, p->n_artifacts) < 0)
        return -1;
    tj_obj_end(&p->doc);
    tj_newline(&p->doc);
    return 0;
}

static int export_json(rx_ctx *x, FILE *f, const char *path, runlog_reader *r,
                       const runlog_run *run, int jsonl)
{
    json_pass p;
    int rc, status = 0;

    memset(&p, 0, sizeof p);
    p.x = x;
    p.jsonl = jsonl;
    tj_init(&p.doc, f);
    p.doc.value_flags = x->o->json_nan_null ? RUNLOG_JSON_NAN_NULL : 0;
    if (jsonl)
        return (rc = json_pass_run(&p, r, run)) < 0 ? rx_lib_error(path, rc) : 0;
    p.alerts_f = tmpfile();
    p.console_f = tmpfile();
    p.images_f = tmpfile();
    p.tables_f = tmpfile();
    p.system_f = tmpfile();
    if (!p.alerts_f || !p.console_f || !p.images_f || !p.tables_f || !p.system_f) {
        status = rx_sys_error("temporary file");
        goto out;
    }
    p.blobs = r;
    tj_init(&p.alerts, p.alerts_f);
    tj_init(&p.console, p.console_f);
    tj_init(&p.images, p.images_f);
    tj_init(&p.tables, p.tables_f);
    tj_init(&p.system, p.system_f);
    p.alerts.value_flags = p.console.value_flags = p.images.value_flags = p.tables.value_flags =
        p.system.value_flags = p.doc.value_flags;
    if ((rc = json_head(&p.doc, run)) < 0 || (rc = json_pass_run(&p, r, run)) < 0)
        status = rx_lib_error(path, rc);
    else if (json_tail(&p, run) < 0)
        status = rx_sys_error("temporary file");
out:
    if (p.alerts_f)
        fclose(p.alerts_f);
    if (p.console_f)
        fclose(p.console_f);
    if (p.images_f)
        fclose(p.images_f);
    if (p.tables_f)
        fclose(p.tables_f);
    if (p.system_f)
        fclose(p.system_f);
    free(p.bad_artifact);
    return status;
}

int rx_export_json(rx_ctx *x, FILE *f)
{
    const char *path = x->inputs[0];
    runlog_reader *r;
    runlog_run *run;
    int rc;

    if ((rc = rx_open_run(x, &r, &run, path)) < 0)
        return rc;
    rc = export_json(x, f, path, r, run, x->o->format == RUNLOG_EXPORT_JSONL);
    runlog_run_free(run);
    runlog_reader_close(r);
    return rc < 0 ? rc : rx_report_damage(x, path);
}
