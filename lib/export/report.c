/*
 * report.c — RUNLOG_EXPORT_REPORT: one self-contained HTML page of many runs
 * (spec/EXPORTS.md §13). The page needs no network and no server: the
 * charting library (Debian's dygraphs), the page's own script and style, the
 * data and the images are all inline, so it opens from a laptop after scp.
 *
 * The data goes in one JSON document (<script type="application/json">)
 * that report.js (lib/export/report/) turns into the runs table, the chart
 * panels and each run's media; this file only reads the runs (the run set,
 * §11) and writes that document, bounded as §13.3 says so that the page
 * stays small whatever the runs hold.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "downsample.h"
#include "export_internal.h"
#include "media.h"
#ifdef RX_HAVE_IMAGES
#include "image.h"
#endif

/* The bounds of spec/EXPORTS.md §13.3. */
#define REPORT_POINTS 2000            /* points per line, after down-sampling */
#define REPORT_IMAGES 8               /* images per run and key: the last logged */
#define REPORT_TABLE_ROWS 20          /* rows of a table shown: its first */
#define REPORT_IMAGE_BYTES (1u << 20) /* an image larger than this is not inlined */
#define REPORT_ALERTS 100             /* alerts per run: the first */
#define REPORT_CONSOLE_LINES 200      /* console tail: the last lines ... */
#define REPORT_CONSOLE_BYTES (64u << 10) /* ... of the last bytes */

/* lib/export/report/embed.c makes these at build time (meson.build). */
extern const char rx_asset_dygraph_js[], rx_asset_dygraph_css[], rx_asset_report_js[],
    rx_asset_report_css[];
extern const size_t rx_asset_dygraph_js_len, rx_asset_dygraph_css_len, rx_asset_report_js_len,
    rx_asset_report_css_len;

typedef struct report {
    rx_ctx *x;
    rlu_json j;
    runlog_runset *set;
    size_t *keep; /* REPORT_POINTS indexes, for rx_downsample() */
} report;

/* A failure to read one image or table: a warning and a placeholder when
 * tolerant (the damage behind it, if any, is reported by rx_report_damage),
 * the error when strict or out of memory. */
static int media_failure(report *p, const char *src, int rc)
{
    if (!rx_tolerant(p->x) || rc == RUNLOG_ENOMEM)
        return rx_lib_error(src, rc);
    rx_lib_error(src, rc);
    rx_notice(p->x, RUNLOG_NOTICE_WARNING, "%s; left out of the report", runlog_error_detail());
    tj_key(&p->j, "error");
    tj_str(&p->j, runlog_error_detail());
    return 0;
}

/* "src": a data: URI of the image's PNG or JPEG bytes (raw pixels encoded
 * as PNG where the images feature is built), or "error" / "omitted". */
static int report_image_src(report *p, runlog_reader *r, const char *src, const runlog_value *img)
{
    runlog_image_info info = RUNLOG_IMAGE_INFO_INIT;
    void *bytes = NULL;
    size_t len = 0;
    rlu_buf b = {0};
    int rc;

    if ((rc = runlog_value_image(&info, img)) < 0)
        return media_failure(p, src, rc);
    tj_key(&p->j, "width");
    tj_uint(&p->j, info.width);
    tj_key(&p->j, "height");
    tj_uint(&p->j, info.height);
    if (info.caption) {
        tj_key(&p->j, "caption");
        tj_strn(&p->j, info.caption, info.caption_len);
    }
    if (info.size > REPORT_IMAGE_BYTES) {
        tj_key(&p->j, "omitted");
        tj_str(&p->j, "larger than the report's 1 MiB bound");
        return 0;
    }
#ifdef RX_HAVE_IMAGES
    rc = png_image_file_bytes(r, src, img, &info, &bytes, &len);
#else
    if (info.format == RUNLOG_IMAGE_RAW) {
        tj_key(&p->j, "omitted");
        tj_str(&p->j, "raw pixels need the images feature to be shown");
        return 0;
    }
    rc = runlog_reader_image(&bytes, &len, r, img);
#endif
    if (rc < 0)
        return media_failure(p, src, rc);
    rlu_puts(&b, info.format == RUNLOG_IMAGE_JPEG ? "data:image/jpeg;base64," : "data:image/png;base64,");
    rlu_base64(rlu_sink_buf, &b, bytes, len);
#ifdef RX_HAVE_IMAGES
    free(bytes);
#else
    runlog_free(bytes);
#endif
    if (b.oom) {
        rlu_buf_free(&b);
        return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", src);
    }
    tj_key(&p->j, "src");
    tj_strn(&p->j, b.p, b.len);
    rlu_buf_free(&b);
    return 0;
}

/* Opens a media object of the page's data: {"key": KEY, "step": STEP, ... */
static void media_head(report *p, const char *key, uint64_t step)
{
    tj_item_break(&p->j);
    tj_obj(&p->j);
    tj_key(&p->j, "key");
    tj_str(&p->j, key);
    tj_key(&p->j, "step");
    tj_uint(&p->j, step);
}

/* {"key","step","index",("src"|"omitted"|"error"),"width","height","caption"} */
static int report_image(report *p, runlog_reader *r, const char *src, const char *key,
                        uint64_t step, size_t index, const runlog_value *img)
{
    int rc;

    media_head(p, key, step);
    tj_key(&p->j, "index");
    tj_uint(&p->j, index);
    rc = report_image_src(p, r, src, img);
    tj_obj_end(&p->j);
    return rc;
}

/* A line: {"n": points before down-sampling, "x": [...], "y": [...]};
 * non-finite values are null (a gap). */
static void report_line(report *p, const double *x, const uint64_t *steps, const double *y,
                        size_t n)
{
    size_t i, k = rx_downsample(y, n, REPORT_POINTS, p->keep);

    tj_obj(&p->j);
    tj_key(&p->j, "n");
    tj_uint(&p->j, n);
    tj_key(&p->j, "x");
    tj_arr(&p->j);
    for (i = 0; i < k; i++) {
        if (steps)
            tj_uint(&p->j, steps[p->keep[i]]);
        else
            tj_double(&p->j, x[p->keep[i]]);
    }
    tj_arr_end(&p->j);
    tj_key(&p->j, "y");
    tj_arr(&p->j);
    for (i = 0; i < k; i++) {
        if (isfinite(y[p->keep[i]]))
            tj_double(&p->j, y[p->keep[i]]);
        else
            tj_null(&p->j);
    }
    tj_arr_end(&p->j);
    tj_obj_end(&p->j);
}

/* The last table of a key: {"key","step","columns","types","nrows","rows"}
 * with the first REPORT_TABLE_ROWS rows, image cells as image objects. */
static int report_table(report *p, runlog_reader *r, const char *src, const char *key,
                        uint64_t step, const runlog_value *t)
{
    runlog_digest d;
    runlog_doc *doc = NULL;
    const runlog_value *dv;
    size_t c, row, ncols, nrows;
    int rc;

    media_head(p, key, step);
    if ((rc = runlog_value_digest(&d, t)) < 0 || (rc = runlog_reader_table(&doc, r, &d)) < 0) {
        rc = media_failure(p, src, rc);
        tj_obj_end(&p->j);
        return rc;
    }
    dv = runlog_doc_value(doc);
    ncols = media_table_ncols(dv);
    nrows = media_table_nrows(dv);
    tj_key(&p->j, "nrows");
    tj_uint(&p->j, nrows);
    tj_key(&p->j, "columns");
    tj_arr(&p->j);
    for (c = 0; c < ncols; c++)
        tj_str(&p->j, media_table_column(dv, c));
    tj_arr_end(&p->j);
    tj_key(&p->j, "rows");
    tj_arr(&p->j);
    for (row = 0; rc == 0 && row < nrows && row < REPORT_TABLE_ROWS; row++) {
        tj_arr(&p->j);
        for (c = 0; rc == 0 && c < ncols; c++) {
            const runlog_value *cell = media_table_cell(dv, row, c);
            if (cell && media_kind_of(cell) == MEDIA_IMAGE) {
                tj_obj(&p->j);
                rc = report_image_src(p, r, src, cell);
                tj_obj_end(&p->j);
            } else if (!cell || media_kind_of(cell) != MEDIA_NONE) {
                tj_null(&p->j);
            } else {
                rc = tj_value(&p->j, cell);
            }
        }
        tj_arr_end(&p->j);
    }
    tj_arr_end(&p->j);
    tj_obj_end(&p->j);
    runlog_doc_free(doc);
    return rc;
}

/* What one history key of a run holds. */
typedef struct key_kinds {
    size_t numbers, images, last_table; /* last_table: index + 1, 0 if none */
} key_kinds;

static key_kinds classify(const runlog_history *h)
{
    key_kinds k = {0, 0, 0};
    size_t i, n = runlog_history_length(h);

    for (i = 0; i < n; i++) {
        const runlog_value *v = runlog_history_value(h, i);
        switch (v ? runlog_value_type(v) : RUNLOG_NULL) {
        case RUNLOG_BOOL: case RUNLOG_INT: case RUNLOG_FLOAT:
            k.numbers++;
            break;
        default:
            switch (media_kind_of(v)) {
            case MEDIA_IMAGE: case MEDIA_IMAGES: k.images += media_image_count(v); break;
            case MEDIA_TABLE: k.last_table = i + 1; break;
            default: break;
            }
        }
    }
    return k;
}

/* The last REPORT_IMAGES images of a key, in the order logged. */
static int report_key_images(report *p, size_t ri, const char *key, const runlog_history *h)
{
    size_t i, n = runlog_history_length(h), first = n, count = 0;
    int rc = 0;

    while (first > 0 && count < REPORT_IMAGES) {
        const runlog_value *v = runlog_history_value(h, first - 1);
        media_kind mk = media_kind_of(v);
        if (mk == MEDIA_IMAGE || mk == MEDIA_IMAGES)
            count += media_image_count(v);
        first--;
    }
    for (i = first; rc == 0 && i < n; i++) {
        const runlog_value *v = runlog_history_value(h, i);
        media_kind mk = media_kind_of(v);
        size_t file = runlog_history_file(h, i), k;
        runlog_reader *r = runlog_runset_file_reader(p->set, ri, file);
        const char *src = runlog_runset_file_path(p->set, ri, file);

        if (mk != MEDIA_IMAGE && mk != MEDIA_IMAGES)
            continue;
        for (k = 0; rc == 0 && k < media_image_count(v); k++)
            rc = report_image(p, r, src, key, runlog_history_steps(h)[i], k,
                              media_image_at(v, k));
    }
    return rc;
}

/* "metrics": {key: line}, "images": [...], "tables": [...] of one run. The
 * media go to spools (their own JSON arrays) written after the metrics. */
static int report_history(report *p, size_t ri, rlu_json *images, rlu_json *tables)
{
    size_t i, nkeys = runlog_runset_key_count(p->set, ri);
    rlu_json keep = p->j;
    int rc = 0;

    tj_item_break(&p->j);
    tj_key(&p->j, "metrics");
    tj_obj(&p->j);
    for (i = 0; rc == 0 && i < nkeys; i++) {
        const char *key = runlog_runset_key(p->set, ri, i);
        runlog_history *h;
        key_kinds k;

        if ((rc = runlog_runset_history(&h, p->set, ri, key)) < 0) {
            rc = rx_lib_error(runlog_runset_file_path(p->set, ri, 0), rc);
            break;
        }
        k = classify(h);
        if (k.numbers) {
            tj_item_break(&p->j);
            tj_key(&p->j, key);
            report_line(p, NULL, runlog_history_steps(h), runlog_history_values(h),
                        runlog_history_length(h));
        }
        keep = p->j;
        if (k.images) {
            p->j = *images;
            rc = report_key_images(p, ri, key, h);
            *images = p->j;
        }
        if (rc == 0 && k.last_table) {
            size_t t = k.last_table - 1, file = runlog_history_file(h, t);
            p->j = *tables;
            rc = report_table(p, runlog_runset_file_reader(p->set, ri, file),
                              runlog_runset_file_path(p->set, ri, file), key,
                              runlog_history_steps(h)[t], runlog_history_value(h, t));
            *tables = p->j;
        }
        p->j = keep;
        runlog_history_free(h);
    }
    tj_obj_end(&p->j);
    return rc;
}

/* ---- records without a step: system samples, alerts, console ---- */

typedef struct series {
    char *key;
    double *x, *y;
    size_t n, cap;
} series;

typedef struct run_pass {
    series *sys;
    size_t nsys;
    rlu_json alerts;
    uint64_t nalerts;
    rlu_buf console; /* the tail: at most 2 x REPORT_CONSOLE_BYTES */
    uint64_t console_bytes;
    int oom;
} run_pass;

static void series_add(run_pass *rp, const char *key, double x, double y)
{
    series *s = NULL;
    size_t i;

    for (i = 0; i < rp->nsys; i++)
        if (strcmp(rp->sys[i].key, key) == 0) {
            s = &rp->sys[i];
            break;
        }
    if (!s) {
        series *grown = realloc(rp->sys, (rp->nsys + 1) * sizeof *grown);
        if (!grown) {
            rp->oom = 1;
            return;
        }
        rp->sys = grown;
        s = &rp->sys[rp->nsys];
        memset(s, 0, sizeof *s);
        if (!(s->key = strdup(key))) {
            rp->oom = 1;
            return;
        }
        rp->nsys++;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        double *nx = realloc(s->x, cap * sizeof *nx), *ny;
        if (nx)
            s->x = nx;
        ny = nx ? realloc(s->y, cap * sizeof *ny) : NULL;
        if (!ny) {
            rp->oom = 1;
            return;
        }
        s->y = ny;
        s->cap = cap;
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->n++;
}

static void console_add(run_pass *rp, const void *data, size_t len)
{
    rp->console_bytes += len;
    if (len > REPORT_CONSOLE_BYTES) {
        data = (const char *)data + (len - REPORT_CONSOLE_BYTES);
        len = REPORT_CONSOLE_BYTES;
    }
    rlu_put(&rp->console, data, len);
    if (rp->console.len > 2 * REPORT_CONSOLE_BYTES) {
        size_t drop = rp->console.len - REPORT_CONSOLE_BYTES;
        memmove(rp->console.p, rp->console.p + drop, REPORT_CONSOLE_BYTES + 1);
        rp->console.len = REPORT_CONSOLE_BYTES;
    }
}

static int pass_record(rx_ctx *x, run_pass *rp, const runlog_record *rec, int64_t start)
{
    size_t i;

    switch (runlog_record_type_of(rec)) {
    case RUNLOG_RECORD_SYSTEM:
        for (i = 0; i < runlog_record_field_count(rec); i++) {
            const runlog_value *v = runlog_record_field_value(rec, i);
            runlog_type t = runlog_value_type(v);
            if (t == RUNLOG_INT || t == RUNLOG_FLOAT)
                series_add(rp, runlog_record_field_key(rec, i),
                           (double)(runlog_record_time(rec) - start) / 1e9,
                           runlog_value_float(v));
        }
        return 0;
    case RUNLOG_RECORD_ALERT: {
        const char *title, *text;
        size_t title_len, text_len;
        runlog_alert_level level;
        int rc = runlog_record_alert(rec, &title, &title_len, &text, &text_len, &level);
        if (rc < 0)
            return rx_bad_record(x, rc);
        if (rp->nalerts++ >= REPORT_ALERTS)
            return 0;
        tj_item_break(&rp->alerts);
        tj_obj(&rp->alerts);
        tj_key(&rp->alerts, "title");
        tj_strn(&rp->alerts, title, title_len);
        tj_key(&rp->alerts, "text");
        tj_strn(&rp->alerts, text, text_len);
        tj_key(&rp->alerts, "level");
        tj_str(&rp->alerts, runlog_alert_level_name(level));
        tj_key(&rp->alerts, "time");
        tj_unix(&rp->alerts, runlog_record_time(rec));
        tj_obj_end(&rp->alerts);
        return 0;
    }
    case RUNLOG_RECORD_CONSOLE: {
        runlog_stream stream;
        const void *data;
        size_t len;
        int rc = runlog_record_console(rec, &stream, &data, &len);
        if (rc < 0)
            return rx_bad_record(x, rc);
        console_add(rp, data, len);
        return 0;
    }
    default:
        return 0;
    }
}

/* Every file of the run, in merge order (§11.4), within its snapshot. */
static int report_pass(report *p, size_t ri, run_pass *rp)
{
    int64_t start = runlog_runset_start_time(p->set, ri);
    size_t j;
    int rc = 0;

    for (j = 0; rc == 0 && j < runlog_runset_file_count(p->set, ri); j++) {
        const char *path = runlog_runset_file_path(p->set, ri, j);
        const runlog_record *rec;
        runlog_cursor *c;
        rx_quota q;

        if ((rc = runlog_cursor_open(&c, runlog_runset_file_reader(p->set, ri, j))) < 0)
            return rx_lib_error(path, rc);
        rx_quota_init(&q, runlog_runset_file_run(p->set, ri, j));
        while (rc == 0 && (rc = runlog_cursor_next(c, &rec)) == 0) {
            if (!rx_quota_take(&q, runlog_record_type_of(rec)))
                continue;
            rc = pass_record(p->x, rp, rec, start);
        }
        if (rc == RUNLOG_ITEROVER)
            rc = 0;
        else if (rc < 0)
            rc = rx_lib_error(path, rc);
        runlog_cursor_close(c);
    }
    if (rc == 0 && (rp->oom || rp->console.oom))
        rc = runlog_error_set(RUNLOG_ENOMEM, "report: out of memory");
    return rc;
}

/* "console": {"bytes": all, "lines": the last REPORT_CONSOLE_LINES} */
static void report_console(report *p, run_pass *rp)
{
    const char *s = rp->console.p ? rp->console.p : "";
    size_t len = rp->console.len, from = len, lines = 0;

    if (len > REPORT_CONSOLE_BYTES)
        s += len - REPORT_CONSOLE_BYTES, len = REPORT_CONSOLE_BYTES;
    from = len;
    if (from > 0 && s[from - 1] == '\n')
        from--; /* a final newline ends the last line, it does not start one */
    while (from > 0) {
        if (s[from - 1] == '\n' && ++lines == REPORT_CONSOLE_LINES)
            break;
        from--;
    }
    tj_item_break(&p->j);
    tj_key(&p->j, "console");
    tj_obj(&p->j);
    tj_key(&p->j, "bytes");
    tj_uint(&p->j, rp->console_bytes);
    tj_key(&p->j, "complete");
    tj_bool(&p->j, from == 0 && rp->console_bytes == rp->console.len);
    tj_key(&p->j, "text");
    tj_strn(&p->j, s + from, len - from);
    tj_obj_end(&p->j);
}

/* A map's scalar entries; media values as "[image]" or "[table]". */
static int report_map(report *p, const char *name, const runlog_value *map)
{
    size_t i, n = map ? runlog_value_count(map) : 0;
    int rc = 0;

    tj_item_break(&p->j);
    tj_key(&p->j, name);
    tj_obj(&p->j);
    for (i = 0; rc == 0 && i < n; i++) {
        const runlog_value *v = runlog_value_item(map, i);
        tj_key(&p->j, runlog_value_key(map, i, NULL));
        switch (media_kind_of(v)) {
        case MEDIA_NONE: rc = tj_value(&p->j, v); break;
        case MEDIA_TABLE: tj_str(&p->j, "[table]"); break;
        default: tj_str(&p->j, "[image]"); break;
        }
    }
    tj_obj_end(&p->j);
    return rc;
}

/* "artifacts": every version of every file (§11.4): name, type, version,
 * aliases, size, files, digest. */
static int report_artifacts(report *p, size_t ri)
{
    size_t j, i;
    int rc = 0;

    tj_item_break(&p->j);
    tj_key(&p->j, "artifacts");
    tj_arr(&p->j);
    for (j = 0; rc == 0 && j < runlog_runset_file_count(p->set, ri); j++) {
        const runlog_value *arts = runlog_run_artifacts(runlog_runset_file_run(p->set, ri, j));
        for (i = 0; rc == 0 && arts && i < runlog_value_count(arts); i++) {
            const runlog_value *a = runlog_value_item(arts, i), *v;
            char hex[33];
            tj_obj(&p->j);
            tj_key(&p->j, "name");
            rc = tj_value(&p->j, runlog_value_get(a, "name"));
            tj_key(&p->j, "type");
            if (rc == 0)
                rc = tj_value(&p->j, runlog_value_get(a, "type"));
            tj_key(&p->j, "version");
            if (rc == 0)
                rc = tj_value(&p->j, runlog_value_get(a, "version"));
            tj_key(&p->j, "aliases");
            if (rc == 0)
                rc = tj_value(&p->j, runlog_value_get(a, "aliases"));
            tj_key(&p->j, "size");
            if (rc == 0)
                rc = tj_value(&p->j, runlog_value_get(a, "size"));
            tj_key(&p->j, "files");
            v = runlog_value_get(a, "entries");
            tj_uint(&p->j, v ? runlog_value_count(v) : 0);
            media_digest_hex(hex, a);
            tj_key(&p->j, "digest");
            tj_str(&p->j, hex);
            tj_obj_end(&p->j);
        }
    }
    tj_arr_end(&p->j);
    return rc;
}

static int spooled(report *p, const char *key, FILE *spool)
{
    tj_item_break(&p->j);
    tj_key(&p->j, key);
    tj_arr(&p->j);
    if (rlu_copy_spool(spool, p->j.f) < 0)
        return rx_sys_error("temporary file");
    tj_arr_end(&p->j);
    return 0;
}

static void report_identity(report *p, size_t ri)
{
    static const char *const keys[] = {"name", "project", "group", "job_type", "notes"};
    const runlog_value *id = runlog_runset_identity(p->set, ri);
    size_t k, j;

    tj_key(&p->j, "id");
    tj_str(&p->j, runlog_runset_run_id(p->set, ri));
    for (k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        size_t len;
        const char *s = rlu_map_str(id, keys[k], &len);
        tj_key(&p->j, keys[k]);
        if (s)
            tj_strn(&p->j, s, len);
        else
            tj_null(&p->j);
    }
    tj_key(&p->j, "tags");
    if (!runlog_value_get(id, "tags") || tj_value(&p->j, runlog_value_get(id, "tags")) < 0)
        tj_null(&p->j);
    tj_key(&p->j, "state");
    tj_str(&p->j, runlog_state_name(runlog_runset_state(p->set, ri)));
    tj_key(&p->j, "exit_code");
    tj_int(&p->j, runlog_runset_exit_code(p->set, ri));
    tj_key(&p->j, "start");
    tj_unix(&p->j, runlog_runset_start_time(p->set, ri));
    tj_key(&p->j, "end");
    tj_unix(&p->j, runlog_runset_end_time(p->set, ri));
    tj_key(&p->j, "rows");
    tj_uint(&p->j, runlog_runset_rows(p->set, ri));
    tj_key(&p->j, "last_step");
    if (runlog_runset_rows(p->set, ri))
        tj_uint(&p->j, runlog_runset_last_step(p->set, ri));
    else
        tj_null(&p->j);
    tj_key(&p->j, "files");
    tj_arr(&p->j);
    for (j = 0; j < runlog_runset_file_count(p->set, ri); j++)
        tj_str(&p->j, runlog_runset_file_path(p->set, ri, j));
    tj_arr_end(&p->j);
}

static void pass_free(run_pass *rp)
{
    size_t i;

    for (i = 0; i < rp->nsys; i++) {
        free(rp->sys[i].key);
        free(rp->sys[i].x);
        free(rp->sys[i].y);
    }
    free(rp->sys);
    rlu_buf_free(&rp->console);
}

/* One run's object of "runs" (spec/EXPORTS.md §13.2). */
static int report_run(report *p, size_t ri)
{
    FILE *images_f = tmpfile(), *tables_f = tmpfile(), *alerts_f = tmpfile();
    rlu_json images, tables;
    run_pass rp;
    size_t i;
    int rc = 0;

    memset(&rp, 0, sizeof rp);
    if (!images_f || !tables_f || !alerts_f) {
        rc = rx_sys_error("temporary file");
        goto out;
    }
    tj_init(&images, images_f);
    tj_init(&tables, tables_f);
    tj_init(&rp.alerts, alerts_f);
    tj_item_break(&p->j);
    tj_obj(&p->j);
    report_identity(p, ri);
    if ((rc = report_map(p, "config", runlog_runset_config(p->set, ri))) < 0 ||
        (rc = report_map(p, "summary", runlog_runset_summary(p->set, ri))) < 0 ||
        (rc = report_history(p, ri, &images, &tables)) < 0 ||
        (rc = report_pass(p, ri, &rp)) < 0)
        goto out;
    tj_item_break(&p->j);
    tj_key(&p->j, "system");
    tj_obj(&p->j);
    for (i = 0; i < rp.nsys; i++) {
        tj_item_break(&p->j);
        tj_key(&p->j, rp.sys[i].key);
        report_line(p, rp.sys[i].x, NULL, rp.sys[i].y, rp.sys[i].n);
    }
    tj_obj_end(&p->j);
    if ((rc = spooled(p, "images", images_f)) < 0 || (rc = spooled(p, "tables", tables_f)) < 0 ||
        (rc = spooled(p, "alerts", alerts_f)) < 0)
        goto out;
    tj_key(&p->j, "alerts_total");
    tj_uint(&p->j, rp.nalerts);
    if ((rc = report_artifacts(p, ri)) < 0)
        goto out;
    report_console(p, &rp);
    tj_obj_end(&p->j);
out:
    pass_free(&rp);
    if (images_f)
        fclose(images_f);
    if (tables_f)
        fclose(tables_f);
    if (alerts_f)
        fclose(alerts_f);
    return rc;
}

/* The data document: {"runlog": version, "bounds": {...}, "runs": [...]} */
static int report_data(report *p)
{
    size_t i, runs = runlog_runset_run_count(p->set);
    int rc = 0;

    tj_obj(&p->j);
    tj_key(&p->j, "runlog");
    tj_str(&p->j, RUNLOG_VERSION_STRING);
    tj_key(&p->j, "bounds");
    tj_obj(&p->j);
    tj_key(&p->j, "points");
    tj_uint(&p->j, REPORT_POINTS);
    tj_key(&p->j, "images");
    tj_uint(&p->j, REPORT_IMAGES);
    tj_key(&p->j, "table_rows");
    tj_uint(&p->j, REPORT_TABLE_ROWS);
    tj_key(&p->j, "alerts");
    tj_uint(&p->j, REPORT_ALERTS);
    tj_key(&p->j, "console_lines");
    tj_uint(&p->j, REPORT_CONSOLE_LINES);
    tj_obj_end(&p->j);
    tj_key(&p->j, "runs");
    tj_arr(&p->j);
    for (i = 0; rc == 0 && i < runs; i++) {
        rc = report_run(p, i);
        rx_progress(p->x, i + 1, runs);
    }
    tj_arr_end(&p->j);
    tj_obj_end(&p->j);
    return rc;
}

/* The JSON inside <script>: "<" written as \u003c, so that no "</script>"
 * (or "<!--") in a key, a caption or the console ends the element early.
 * '<' only ever appears inside JSON strings, where the escape means the
 * same character. */
static int put_script_json(FILE *to, FILE *json)
{
    char buf[65536];
    size_t n, i, from;

    if (fflush(json) != 0 || ferror(json) || fseek(json, 0, SEEK_SET) != 0)
        return -1;
    while ((n = fread(buf, 1, sizeof buf, json)) > 0) {
        for (i = from = 0; i < n; i++) {
            if (buf[i] != '<')
                continue;
            if (fwrite(buf + from, 1, i - from, to) != i - from || fputs("\\u003c", to) < 0)
                return -1;
            from = i + 1;
        }
        if (fwrite(buf + from, 1, n - from, to) != n - from)
            return -1;
    }
    return ferror(json) ? -1 : 0;
}

/* The page: report.js reads #runlog-data and builds everything. The first
 * script records errors (window.onerror, console.error) from the start, so
 * that a failure of dygraphs' own load is seen too; a browser test reads
 * them from the page (tests/report/). */
static int write_page(FILE *f, FILE *json, size_t runs)
{
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"generator\" content=\"runlog %s\">\n"
               "<title>runlog report: %zu run%s</title>\n",
            RUNLOG_VERSION_STRING, runs, runs == 1 ? "" : "s");
    fputs("<script>window.runlogErrors=[];window.addEventListener('error',function(e){"
          "window.runlogErrors.push(String(e.message||e));});(function(){var ce=console.error;"
          "console.error=function(){window.runlogErrors.push(Array.prototype.join.call("
          "arguments,' '));return ce.apply(console,arguments);};})();</script>\n<style>\n", f);
    fwrite(rx_asset_dygraph_css, 1, rx_asset_dygraph_css_len, f);
    fputs("\n</style>\n<style>\n", f);
    fwrite(rx_asset_report_css, 1, rx_asset_report_css_len, f);
    fputs("\n</style>\n<script>\n", f);
    fwrite(rx_asset_dygraph_js, 1, rx_asset_dygraph_js_len, f);
    fputs("\n</script>\n</head>\n<body>\n<noscript>This report needs JavaScript.</noscript>\n"
          "<script type=\"application/json\" id=\"runlog-data\">", f);
    if (put_script_json(f, json) < 0)
        return -1;
    fputs("</script>\n<script>\n", f);
    fwrite(rx_asset_report_js, 1, rx_asset_report_js_len, f);
    fputs("\n</script>\n</body>\n</html>\n", f);
    return ferror(f) ? -1 : 0;
}

int rx_export_report(rx_ctx *x, FILE *f)
{
    runlog_runset_options so = RUNLOG_RUNSET_OPTIONS_INIT;
    report p;
    FILE *json = NULL;
    size_t i, j, runs = 0;
    int rc;

    memset(&p, 0, sizeof p);
    p.x = x;
    so.flags = rx_read_flags(x);
    if ((rc = runlog_runset_open(&p.set, x->inputs, x->n, &so)) < 0)
        return rc;
    for (i = 0; i < runlog_runset_duplicate_count(p.set); i++)
        rx_notice(x, RUNLOG_NOTICE_WARNING, "%s: the same file as %s (file UUID); read once",
                  runlog_runset_duplicate_path(p.set, i), runlog_runset_duplicate_of(p.set, i));
    runs = runlog_runset_run_count(p.set);
    if (!(p.keep = malloc(REPORT_POINTS * sizeof *p.keep))) {
        rc = runlog_error_set(RUNLOG_ENOMEM, "report: out of memory");
        goto out;
    }
    /* The data first, aside: a run that fails leaves no page at all. */
    if (!(json = tmpfile())) {
        rc = rx_sys_error("temporary file");
        goto out;
    }
    tj_init(&p.j, json);
    if ((rc = report_data(&p)) < 0)
        goto out;
    /* Damage skipped in any file (spec/EXPORTS.md §1.5): each file once. */
    for (i = 0; rc == 0 && i < runs; i++)
        for (j = 0; rc == 0 && j < runlog_runset_file_count(p.set, i); j++) {
            const char *path = runlog_runset_file_path(p.set, i, j);
            if ((rc = rx_report_damage(x, path)) < 0)
                rc = rx_lib_error(path, rc);
        }
    if (rc == 0 && write_page(f, json, runs) < 0)
        rc = rx_sys_error("report");
    if (rc == 0)
        rx_notice(x, RUNLOG_NOTICE_OUTPUT, "%zu run%s in the report", runs, runs == 1 ? "" : "s");
out:
    if (json)
        fclose(json);
    free(p.keep);
    runlog_runset_free(p.set);
    return rc;
}
