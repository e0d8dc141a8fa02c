/*
 * csv.c — RUNLOG_EXPORT_CSV, CSV_LONG and CSV_TABLE (spec/EXPORTS.md
 * "export csv", "export csv --long", "export csv --table"; with
 * csv_with_run, "export csv --with-run": several runs, each row with its
 * run's identity and config) and
 * RUNLOG_EXPORT_HISTORY (spec/EXPORTS.md "history": key,step,timestamp,value
 * per key).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "media.h"


/* Name -> column, open addressing over a list of names (a run's keys). */
typedef struct key_index {
    size_t mask;
    size_t *slot; /* column + 1; 0 is empty */
    const char *const *names;
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

/* names[0..n) must stay valid while the index is used; the slots are
 * replaced (a bigger table for more names: call again after adding). */
static int key_index_build(key_index *k, const char *const *names, size_t n)
{
    size_t cap = 16, i, h;

    while (cap < 2 * n)
        cap *= 2;
    free(k->slot);
    k->names = names;
    k->mask = cap - 1;
    k->slot = calloc(cap, sizeof *k->slot);
    if (!k->slot)
        return -1;
    for (i = 0; i < n; i++) {
        h = key_hash(names[i]) & k->mask;
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
        if (strcmp(k->names[k->slot[h] - 1], key) == 0)
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
    size_t ncells = runlog_run_key_count(run), i;
    const runlog_value **cells = calloc(ncells ? ncells : 1, sizeof *cells);
    const char **names = calloc(ncells ? ncells : 1, sizeof *names);
    const runlog_record *rec;
    rx_quota q;
    key_index k = {0, NULL, NULL};
    int rc;

    for (i = 0; names && i < ncells; i++)
        names[i] = runlog_run_key(run, i);
    if (!cells || !names || key_index_build(&k, names, ncells) < 0) {
        free(cells);
        free(names);
        free(k.slot);
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
    free(names);
    free(k.slot);
    return rc == RUNLOG_ITEROVER ? 0 : rx_lib_error(path, rc);
}

/* ---- every run's rows with its run (CSV, options.csv_with_run) ---- */

/* Unique names in order of first appearance, with their index. */
typedef struct name_set {
    char **names;
    size_t n, cap;
    key_index k;
} name_set;

static void name_set_free(name_set *ns)
{
    size_t i;

    for (i = 0; i < ns->n; i++)
        free(ns->names[i]);
    free(ns->names);
    free(ns->k.slot);
    memset(ns, 0, sizeof *ns);
}

/* The column of name, added when new; (size_t)-1: out of memory. */
static size_t name_set_add(name_set *ns, const char *name)
{
    size_t col = ns->k.slot ? key_index_find(&ns->k, name) : (size_t)-1, h;
    char **p;

    if (col != (size_t)-1)
        return col;
    if (ns->n == ns->cap) {
        if (!(p = realloc(ns->names, (ns->cap ? 2 * ns->cap : 16) * sizeof *p)))
            return (size_t)-1;
        ns->names = p;
        ns->cap = ns->cap ? 2 * ns->cap : 16;
    }
    if (!(ns->names[ns->n] = strdup(name)))
        return (size_t)-1;
    col = ns->n++;
    if (!ns->k.slot || 2 * ns->n > ns->k.mask + 1) /* at most half full */
        return key_index_build(&ns->k, (const char *const *)ns->names, ns->n) < 0 ? (size_t)-1
                                                                                   : col;
    ns->k.names = (const char *const *)ns->names;
    h = key_hash(name) & ns->k.mask;
    while (ns->k.slot[h])
        h = (h + 1) & ns->k.mask;
    ns->k.slot[h] = col + 1;
    return col;
}

/* A run's config as (column, value) leaves. */
typedef struct conf_leaf {
    size_t col;
    const runlog_value *v;
} conf_leaf;

typedef struct run_conf {
    conf_leaf *leaf;
    size_t n, cap;
} run_conf;

/* Entries of map m under prefix ("config"): a non-empty map that is no
 * media value is entered (its keys joined with '.', as `runlog ls` names
 * config columns, spec/EXPORTS.md §12.1); anything else is a column. */
static int flatten(name_set *cols, run_conf *rc, const char *prefix, const runlog_value *m)
{
    size_t i, n = runlog_value_count(m), len, col;
    const runlog_value *v;
    const char *key;
    char *name;
    conf_leaf *p;
    int err = 0;

    for (i = 0; i < n && err == 0; i++) {
        key = runlog_value_key(m, i, &len);
        v = runlog_value_item(m, i);
        if (!key || !(name = malloc(strlen(prefix) + len + 2)))
            return -1;
        sprintf(name, "%s.%s", prefix, key);
        if (runlog_value_type(v) == RUNLOG_MAP && runlog_value_count(v) > 0 &&
            media_kind_of(v) == MEDIA_NONE) {
            err = flatten(cols, rc, name, v);
        } else if ((col = name_set_add(cols, name)) == (size_t)-1) {
            err = -1;
        } else {
            if (rc->n == rc->cap) {
                if (!(p = realloc(rc->leaf, (rc->cap ? 2 * rc->cap : 16) * sizeof *p)))
                    err = -1;
                else {
                    rc->leaf = p;
                    rc->cap = rc->cap ? 2 * rc->cap : 16;
                }
            }
            if (err == 0)
                rc->leaf[rc->n++] = (conf_leaf){col, v};
        }
        free(name);
    }
    return err;
}

/* The first fields of every row of run r: identity, then each config
 * column (empty where the run has none), then the comma before _step. */
static int run_prefix(char **out, size_t *outlen, runlog_runset *set, size_t r,
                      const run_conf *conf, size_t ncols)
{
    static const char *const ident_keys[] = {"name", "project", "group"};
    const runlog_value *ident = runlog_runset_identity(set, r), **vals;
    const char *id = runlog_runset_run_id(set, r), *s;
    char *text = NULL;
    size_t len = 0, slen, i;
    FILE *m;
    int rc = 0;

    if (!(vals = calloc(ncols ? ncols : 1, sizeof *vals)))
        return -1;
    if (!(m = open_memstream(&text, &len))) {
        free(vals);
        return -1;
    }
    csv_field(m, id, strlen(id));
    for (i = 0; i < 3; i++) {
        fputc(',', m);
        if ((s = rlu_map_str(ident, ident_keys[i], &slen)) != NULL)
            csv_field(m, s, slen);
    }
    for (i = 0; i < conf->n; i++)
        vals[conf->leaf[i].col] = conf->leaf[i].v;
    for (i = 0; i < ncols && rc == 0; i++) {
        fputc(',', m);
        if (vals[i])
            rc = csv_cell(m, vals[i]);
    }
    fputc(',', m);
    free(vals);
    if (fclose(m) != 0 || rc < 0) {
        free(text);
        return -1;
    }
    *out = text;
    *outlen = len;
    return 0;
}

static void csv_runs_header(FILE *f, const name_set *conf, const name_set *keys)
{
    size_t i;

    fputs("_run_id,_run_name,_run_project,_run_group", f);
    for (i = 0; i < conf->n; i++) {
        fputc(',', f);
        csv_field(f, conf->names[i], strlen(conf->names[i]));
    }
    fputs(",_step,_timestamp", f);
    for (i = 0; i < keys->n; i++) {
        fputc(',', f);
        csv_field(f, keys->names[i], strlen(keys->names[i]));
    }
    fputc('\n', f);
}

/* Run r's rows (its one file, inside its snapshot), each after prefix. */
static int csv_run_rows(FILE *f, runlog_runset *set, size_t r, const char *prefix, size_t plen,
                        const key_index *k, const runlog_value **cells, size_t ncells)
{
    const char *path = runlog_runset_file_path(set, r, 0);
    const runlog_record *rec;
    runlog_cursor *c;
    rx_quota q;
    int rc;

    if ((rc = runlog_cursor_open(&c, runlog_runset_file_reader(set, r, 0))) < 0)
        return rx_lib_error(path, rc);
    rx_quota_init(&q, runlog_runset_file_run(set, r, 0));
    while ((rc = runlog_cursor_next(c, &rec)) == 0) {
        if (runlog_record_type_of(rec) != RUNLOG_RECORD_HISTORY ||
            !rx_quota_take(&q, RUNLOG_RECORD_HISTORY))
            continue;
        fwrite(prefix, 1, plen, f);
        if ((rc = csv_wide_row(f, rec, k, cells, ncells)) < 0)
            break;
    }
    runlog_cursor_close(c);
    return rc == RUNLOG_ITEROVER ? 0 : rx_lib_error(path, rc);
}

/* The inputs as a run set (spec/EXPORTS.md §11: a file given twice is read
 * once, files of one id that are not one run are refused); a run kept in
 * several files is refused (its rows would need the merge by step of
 * §11.5: export hdf5 does it), before anything is written. */
static int export_csv_runs(rx_ctx *x, FILE *f)
{
    runlog_runset_options so = RUNLOG_RUNSET_OPTIONS_INIT;
    runlog_runset *set;
    name_set conf, keys;
    run_conf *rconf = NULL;
    const runlog_value **cells = NULL;
    size_t nruns = 0, r, i;
    char *prefix;
    size_t plen;
    int rc;

    memset(&conf, 0, sizeof conf);
    memset(&keys, 0, sizeof keys);
    so.flags = rx_read_flags(x);
    if ((rc = runlog_runset_open(&set, x->inputs, x->n, &so)) < 0)
        return x->n == 1 ? rx_lib_error(x->inputs[0], rc) : rc;
    for (i = 0; i < runlog_runset_duplicate_count(set); i++)
        rx_notice(x, RUNLOG_NOTICE_WARNING, "%s: the same file as %s (file UUID); exported once",
                  runlog_runset_duplicate_path(set, i), runlog_runset_duplicate_of(set, i));
    nruns = runlog_runset_run_count(set);
    for (r = 0; r < nruns && rc == 0; r++)
        if (runlog_runset_file_count(set, r) > 1)
            rc = runlog_error_set(RUNLOG_EUNSUPPORTED,
                                  "%s and %s: one run (%s) in %zu files: export csv --with-run "
                                  "takes one file per run (export hdf5 merges them)",
                                  runlog_runset_file_path(set, r, 0),
                                  runlog_runset_file_path(set, r, 1), runlog_runset_run_id(set, r),
                                  runlog_runset_file_count(set, r));
    if (rc == 0 && !(rconf = calloc(nruns ? nruns : 1, sizeof *rconf)))
        rc = -1;
    for (r = 0; r < nruns && rc == 0; r++) {
        const runlog_value *m = runlog_runset_config(set, r);
        if (m && runlog_value_type(m) == RUNLOG_MAP && flatten(&conf, &rconf[r], "config", m) < 0)
            rc = -1;
        for (i = 0; i < runlog_runset_key_count(set, r) && rc == 0; i++)
            if (name_set_add(&keys, runlog_runset_key(set, r, i)) == (size_t)-1)
                rc = -1;
    }
    if (rc == 0 && !(cells = calloc(keys.n ? keys.n : 1, sizeof *cells)))
        rc = -1;
    if (rc == -1)
        rc = runlog_error_set(RUNLOG_ENOMEM, "out of memory");
    if (rc == 0)
        csv_runs_header(f, &conf, &keys);
    for (r = 0; r < nruns && rc == 0; r++) {
        if (run_prefix(&prefix, &plen, set, r, &rconf[r], conf.n) < 0) {
            rc = runlog_error_set(RUNLOG_ENOMEM, "out of memory");
            break;
        }
        rc = csv_run_rows(f, set, r, prefix, plen, &keys.k, cells, keys.n);
        free(prefix);
        if (rc == 0)
            rc = rx_report_damage(x, runlog_runset_file_path(set, r, 0));
    }
    for (r = 0; rconf && r < nruns; r++)
        free(rconf[r].leaf);
    free(rconf);
    free(cells);
    name_set_free(&conf);
    name_set_free(&keys);
    runlog_runset_free(set);
    return rc;
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

    if (x->o->format == RUNLOG_EXPORT_CSV && x->o->csv_with_run)
        return export_csv_runs(x, f);
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

/* The keys' histories, read before a line is written: every key's at once
 * when several are asked for (K one-key reads each decode every frame of a
 * wide run), else the one key's, in *one (NULL, with *one_rc
 * RUNLOG_ENOTFOUND, when it never appears). */
typedef struct history_read {
    runlog_histories *all;
    runlog_history *one;
    int one_rc;
} history_read;

static int read_histories(history_read *hr, runlog_reader *r, const rx_ctx *x)
{
    if (x->o->nkeys > 1)
        return runlog_reader_histories(&hr->all, r);
    hr->one_rc = runlog_reader_history(&hr->one, r, x->o->keys[0]);
    return hr->one_rc == RUNLOG_ENOTFOUND ? 0 : hr->one_rc;
}

static void history_read_free(history_read *hr)
{
    runlog_histories_free(hr->all);
    runlog_history_free(hr->one);
    *hr = (history_read){ 0 };
}

/* Whether rep lists damage other than a torn tail. */
static int damaged(const runlog_report *rep)
{
    for (size_t i = 0; i < runlog_report_damage_count(rep); i++) {
        runlog_damage_kind kind;
        if (runlog_report_damage(rep, i, &kind, NULL, NULL, NULL) == 0 && kind != RUNLOG_DAMAGE_TORN_TAIL)
            return 1;
    }
    return 0;
}

/* The quick way, for a file that runlog_verify_structure() (checksums and
 * every block 0, no values) finds intact but for a torn tail: a strict
 * read of the keys alone, which checks the values it decodes. 1 when it
 * read them, with *rep that report; 0 when the file needs the whole way
 * (damage, or a value block that the read found malformed; nothing kept);
 * or an error. */
static int read_quick(history_read *hr, runlog_report **rep, const rx_ctx *x, const char *path)
{
    runlog_reader_options ro = RUNLOG_READER_OPTIONS_INIT;
    runlog_reader *r;
    int rc;

    if ((rc = runlog_verify_structure(rep, path)) < 0)
        return rx_lib_error(path, rc);
    if (damaged(*rep))
        goto whole;
    ro.flags = RUNLOG_READ_STRICT;
    if (runlog_reader_open(&r, path, &ro) < 0)
        goto whole;
    rc = read_histories(hr, r, x);
    runlog_reader_close(r);
    if (rc == 0)
        return 1;
    history_read_free(hr);
whole:
    runlog_report_free(*rep);
    *rep = NULL;
    return 0;
}

/* The whole way, as every export reads (§1.5): runlog_verify() lists the
 * damage, and a damaged file has every key read in one pass, which skips
 * each damaged frame whole (a key read alone from a sealed file reads only
 * its own blocks and may return rows of a frame whose other blocks are
 * damaged, spec/FORMAT.md §4.1). */
static int read_whole(history_read *hr, runlog_report **rep, rx_ctx *x, const char *path)
{
    runlog_reader *r;
    int rc;

    if ((rc = runlog_verify(rep, path)) < 0)
        return rx_lib_error(path, rc);
    if ((rc = rx_open_reader(x, &r, path)) == 0) {
        if (damaged(*rep))
            rc = runlog_reader_histories(&hr->all, r);
        else
            rc = read_histories(hr, r, x);
        runlog_reader_close(r);
    }
    if (rc < 0) {
        history_read_free(hr);
        runlog_report_free(*rep);
        *rep = NULL;
        return rx_lib_error(path, rc);
    }
    return 0;
}

/* A key that never appears is a warning and the other keys are still
 * written; the call then fails with RUNLOG_ENOTFOUND, its detail the
 * warning about the last such key (spec/EXPORTS.md §4.4). */
int rx_export_history(rx_ctx *x, FILE *f)
{
    const char *path = x->inputs[0], *missing = NULL;
    history_read hr = { 0 };
    runlog_report *rep = NULL;
    size_t i;
    int rc = read_quick(&hr, &rep, x, path);

    if (rc == 0)
        rc = read_whole(&hr, &rep, x, path);
    if (rc < 0)
        return rc;
    fputs("key,step,timestamp,value\n", f);
    for (i = 0; i < x->o->nkeys; i++) {
        const char *key = x->o->keys[i];
        size_t at;

        if (!hr.all)
            rc = hr.one ? history_rows(f, hr.one, key) : hr.one_rc;
        else if ((rc = runlog_histories_find(&at, hr.all, key)) == 0)
            rc = history_rows(f, runlog_histories_get(hr.all, at), key);
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
    history_read_free(&hr);
    if (rc < 0) {
        runlog_report_free(rep);
        return rc;
    }
    if ((rc = rx_report_damage_of(x, path, rep)) < 0)
        return rc;
    if (missing)
        return runlog_error_set(RUNLOG_ENOTFOUND, "%s: no history for key '%s'", path, missing);
    return 0;
}
