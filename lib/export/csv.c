/*
 * csv.c — RUNLOG_EXPORT_CSV, CSV_LONG and CSV_TABLE (spec/EXPORTS.md
 * "export csv", "export csv --long", "export csv --table") and
 * RUNLOG_EXPORT_HISTORY (spec/EXPORTS.md "history": key,step,timestamp,value
 * per key).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "media.h"


/* Key -> column, open addressing over the run's key list. */
typedef struct key_index {
    size_t mask;
    size_t *slot; /* column + 1; 0 is empty */
    const runlog_run *run;
} key_index;


/* A cell (spec/EXPORTS.md §4.1): a media map (image, list of images,
 * table) as the JSON object export json writes, digests in hex — one form
 * of a digest in every export — anything else as csv_value(). */
static int csv_cell(FILE *f, const runlog_value *v)
{
    char *text = NULL;
    size_t len = 0, i, n;
    FILE *m;
    rlu_json j;
    int rc = 0;

    if (media_kind_of(v) == MEDIA_NONE)
        return csv_value(f, v);
    if (!(m = open_memstream(&text, &len)))
        return runlog_error_set(RUNLOG_ENOMEM, "out of memory");
    tj_init(&j, m);
    if (media_kind_of(v) == MEDIA_IMAGES) {
        n = media_image_count(v);
        tj_arr(&j);
        for (i = 0; i < n && rc == 0; i++)
            rc = media_json(&j, media_image_at(v, i), NULL);
        tj_arr_end(&j);
    } else {
        rc = media_json(&j, v, NULL);
    }
    if (fclose(m) != 0 && rc == 0)
        rc = runlog_error_set(RUNLOG_ENOMEM, "out of memory");
    if (rc == 0)
        csv_field(f, text, len);
    free(text);
    return rc;
}

static uint64_t key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static int key_index_build(key_index *k, const runlog_run *run)
{
    size_t n = runlog_run_key_count(run), cap = 16, i, h;

    while (cap < 2 * n)
        cap *= 2;
    k->run = run;
    k->mask = cap - 1;
    k->slot = calloc(cap, sizeof *k->slot);
    if (!k->slot)
        return -1;
    for (i = 0; i < n; i++) {
        h = key_hash(runlog_run_key(run, i)) & k->mask;
        while (k->slot[h])
            h = (h + 1) & k->mask;
        k->slot[h] = i + 1;
    }
    return 0;
}

/* The column of key, or (size_t)-1 when the key is not in the list. */
static size_t key_index_find(const key_index *k, const char *key)
{
    size_t h = key_hash(key) & k->mask;

    while (k->slot[h]) {
        if (strcmp(runlog_run_key(k->run, k->slot[h] - 1), key) == 0)
            return k->slot[h] - 1;
        h = (h + 1) & k->mask;
    }
    return (size_t)-1;
}

static void csv_header(FILE *f, const runlog_run *run, int long_csv)
{
    size_t i, n = runlog_run_key_count(run);

    if (long_csv) {
        fputs("step,key,value\n", f);
        return;
    }
    fputs("_step,_timestamp", f);
    for (i = 0; i < n; i++) {
        const char *key = runlog_run_key(run, i);
        fputc(',', f);
        csv_field(f, key, strlen(key));
    }
    fputc('\n', f);
}

static int csv_long_row(FILE *f, const runlog_record *rec)
{
    size_t i, n = runlog_record_field_count(rec);
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        const char *key = runlog_record_field_key(rec, i);
        fprintf(f, "%" PRIu64 ",", runlog_record_step(rec));
        csv_field(f, key, strlen(key));
        fputc(',', f);
        rc = csv_cell(f, runlog_record_field_value(rec, i));
        fputc('\n', f);
    }
    return rc;
}

/* cells has one slot per key, all NULL on entry and on return. */
static int csv_wide_row(FILE *f, const runlog_record *rec, const key_index *k,
                        const runlog_value **cells, size_t ncells)
{
    char buf[RLU_NUM_MAX];
    size_t i, col, n = runlog_record_field_count(rec);
    int rc = 0;

    for (i = 0; i < n; i++) {
        col = key_index_find(k, runlog_record_field_key(rec, i));
        if (col != (size_t)-1)
            cells[col] = runlog_record_field_value(rec, i);
    }
    rlu_fmt_unix(buf, runlog_record_time(rec));
    fprintf(f, "%" PRIu64 ",%s", runlog_record_step(rec), buf);
    for (i = 0; i < ncells; i++) {
        fputc(',', f);
        if (cells[i] && rc == 0)
            rc = csv_cell(f, cells[i]);
        cells[i] = NULL;
    }
    fputc('\n', f);
    return rc;
}

static int export_csv(FILE *f, const char *path, runlog_reader *r, const runlog_run *run,
                      int long_csv)
{
    size_t ncells = runlog_run_key_count(run);
    const runlog_value **cells = calloc(ncells ? ncells : 1, sizeof *cells);
    const runlog_record *rec;
    rx_quota q;
    key_index k = {0, NULL, NULL};
    int rc;

    if (!cells || key_index_build(&k, run) < 0) {
        free(cells);
        return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", path);
    }
    rx_quota_init(&q, run);
    csv_header(f, run, long_csv);
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        if (runlog_record_type_of(rec) != RUNLOG_RECORD_HISTORY ||
            !rx_quota_take(&q, RUNLOG_RECORD_HISTORY))
            continue;
        rc = long_csv ? csv_long_row(f, rec) : csv_wide_row(f, rec, &k, cells, ncells);
        if (rc < 0)
            break;
    }
    free(cells);
    free(k.slot);
    return rc == RUNLOG_ITEROVER ? 0 : rx_lib_error(path, rc);
}

/* ---- one table (CSV_TABLE, options.table = KEY[@STEP]) ---- */

/* Finds the table logged under key: at step (the last one logged at that
 * step) or, without a step, the last one, among the rows of the snapshot. */
static int find_table(runlog_reader *r, const runlog_run *run, const char *key, int has_step,
                      uint64_t step, runlog_digest *out, uint64_t *out_step)
{
    const runlog_record *rec;
    rx_quota q;
    const runlog_value *v;
    size_t i, n;
    int rc, found = 0;

    rx_quota_init(&q, run);
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        if (runlog_record_type_of(rec) != RUNLOG_RECORD_HISTORY ||
            !rx_quota_take(&q, RUNLOG_RECORD_HISTORY) ||
            (has_step && runlog_record_step(rec) != step))
            continue;
        n = runlog_record_field_count(rec);
        for (i = 0; i < n; i++) {
            v = runlog_record_field_value(rec, i);
            if (strcmp(runlog_record_field_key(rec, i), key) == 0 &&
                media_kind_of(v) == MEDIA_TABLE && runlog_value_digest(out, v) == 0) {
                *out_step = runlog_record_step(rec);
                found = 1;
            }
        }
    }
    if (rc != RUNLOG_ITEROVER)
        return rc;
    return found ? 0 : RUNLOG_ENOTFOUND;
}

/* A header of column names, then one line per row; image cells hold the
 * file name `extract --images` writes (spec/EXPORTS.md §4.5). */
static int csv_table_doc(FILE *f, const char *key, uint64_t step, const runlog_value *doc)
{
    size_t c, row, ncols = media_table_ncols(doc), nrows = media_table_nrows(doc);
    char name[MEDIA_NAME_MAX];
    const runlog_value *cell;
    const char *col;
    int rc = 0;

    for (c = 0; c < ncols; c++) {
        col = media_table_column(doc, c);
        if (c)
            fputc(',', f);
        csv_field(f, col ? col : "", col ? strlen(col) : 0);
    }
    fputc('\n', f);
    for (row = 0; row < nrows && rc == 0; row++) {
        for (c = 0; c < ncols && rc == 0; c++) {
            if (c)
                fputc(',', f);
            cell = media_table_cell(doc, row, c);
            if (media_kind_of(cell) == MEDIA_IMAGE) {
                media_image_name(name, key, step, row, media_table_column(doc, c), cell);
                csv_field(f, name, strlen(name));
            } else if (cell) {
                rc = csv_value(f, cell);
            }
        }
        fputc('\n', f);
    }
    return rc;
}

static int export_table_csv(FILE *f, const char *path, runlog_reader *r, const runlog_run *run,
                            const char *spec)
{
    const char *at = strrchr(spec, '@');
    uint64_t step = 0, found_step = 0;
    runlog_digest d;
    runlog_doc *doc;
    char *key;
    int rc, has_step = 0;

    /* KEY@STEP when what follows the last '@' is a number; else KEY is all. */
    if (at && rlu_parse_u64(at + 1, &step) == 0)
        has_step = 1;
    if (!(key = strndup(spec, has_step ? (size_t)(at - spec) : strlen(spec))))
        return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", path);
    rc = find_table(r, run, key, has_step, step, &d, &found_step);
    if (rc == RUNLOG_ENOTFOUND) {
        rc = runlog_error_set(RUNLOG_ENOTFOUND, "%s: no table under '%s'%s", path, key,
                              has_step ? " at that step" : "");
        free(key);
        return rc;
    }
    if (rc == 0 && (rc = runlog_reader_table(&doc, r, &d)) == 0) {
        rc = csv_table_doc(f, key, found_step, runlog_doc_value(doc));
        runlog_doc_free(doc);
    }
    free(key);
    return rc < 0 ? rx_lib_error(path, rc) : 0;
}

int rx_export_csv(rx_ctx *x, FILE *f)
{
    const char *path = x->inputs[0];
    runlog_reader *r;
    runlog_run *run;
    int rc;

    if ((rc = rx_open_run(x, &r, &run, path)) < 0)
        return rc;
    if (x->o->format == RUNLOG_EXPORT_CSV_TABLE)
        rc = export_table_csv(f, path, r, run, x->o->table);
    else
        rc = export_csv(f, path, r, run, x->o->format == RUNLOG_EXPORT_CSV_LONG);
    runlog_run_free(run);
    runlog_reader_close(r);
    return rc < 0 ? rc : rx_report_damage(x, path);
}

/* ---- HISTORY ---- */

/* Writes one key's rows; a library error code or 0. */
static int history_rows(FILE *f, const runlog_history *h, const char *key)
{
    char buf[RLU_NUM_MAX];
    size_t i, n = runlog_history_length(h);
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        csv_field(f, key, strlen(key));
        rlu_fmt_unix(buf, runlog_history_times(h)[i]);
        fprintf(f, ",%" PRIu64 ",%s,", runlog_history_steps(h)[i], buf);
        rc = csv_cell(f, runlog_history_value(h, i));
        fputc('\n', f);
    }
    return rc;
}

/* One key read alone, or found in every key's history read at once (all:
 * several keys asked for, whose per-key reads would each decode every
 * frame of a wide run). */
static int history_key(FILE *f, runlog_reader *r, const runlog_histories *all, const char *key)
{
    runlog_history *h;
    size_t at;
    int rc;

    if (all) {
        if ((rc = runlog_histories_find(&at, all, key)) < 0)
            return rc;
        return history_rows(f, runlog_histories_get(all, at), key);
    }
    if ((rc = runlog_reader_history(&h, r, key)) < 0)
        return rc;
    rc = history_rows(f, h, key);
    runlog_history_free(h);
    return rc;
}

/* A key that never appears is a warning and the other keys are still
 * written; the call then fails with RUNLOG_ENOTFOUND, its detail the
 * warning about the last such key (spec/EXPORTS.md §4.4). */
int rx_export_history(rx_ctx *x, FILE *f)
{
    const char *path = x->inputs[0], *missing = NULL;
    runlog_reader *r;
    size_t i;
    int rc;

    if ((rc = rx_open_reader(x, &r, path)) < 0)
        return rx_lib_error(path, rc);
    runlog_histories *all = NULL;
    if (x->o->nkeys > 1 && (rc = runlog_reader_histories(&all, r)) < 0) {
        runlog_reader_close(r);
        return rx_lib_error(path, rc);
    }
    fputs("key,step,timestamp,value\n", f);
    for (i = 0; i < x->o->nkeys; i++) {
        const char *key = x->o->keys[i];

        rc = history_key(f, r, all, key);
        if (rc == RUNLOG_ENOTFOUND) {
            /* The warning comes after the rows written so far, as it did when
             * the command printed them itself. */
            fflush(f);
            rx_notice(x, RUNLOG_NOTICE_WARNING, "%s: no history for key '%s'", path, key);
            missing = key;
            rc = 0;
        } else if (rc < 0) {
            rc = rx_lib_error(path, rc);
            break;
        }
    }
    runlog_histories_free(all);
    runlog_reader_close(r);
    if (rc < 0 || (rc = rx_report_damage(x, path)) < 0)
        return rc;
    if (missing)
        return runlog_error_set(RUNLOG_ENOTFOUND, "%s: no history for key '%s'", path, missing);
    return 0;
}
