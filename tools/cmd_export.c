/*
 * cmd_export.c — `runlog export json|csv FILE [-o OUT] [--history-jsonl] [--long]`
 * (spec/EXPORTS.md "export json", "export csv").
 *
 * History is streamed: one pass of runlog_reader_next() writes each row as
 * it is read, so memory does not grow with the run. The JSON document's
 * alerts and console arrays come after the history, so they are spooled to
 * temporary files during the same pass.
 *
 * The run summary (runlog_reader_run()) and the pass are two reads; when a
 * live file grows between them, the pass stops at the record counts of the
 * summary so that every part of the export describes the same moment.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct export_opts {
    const char *format, *path, *out;
    int history_jsonl, long_csv;
} export_opts;

/* Records of each type still to export (the snapshot of runlog_reader_run()). */
typedef struct export_quota {
    uint64_t rows, alerts, console;
} export_quota;

static void quota_init(export_quota *q, const runlog_run *run)
{
    q->rows = runlog_run_record_count(run, RUNLOG_RECORD_HISTORY);
    q->alerts = runlog_run_record_count(run, RUNLOG_RECORD_ALERT);
    q->console = runlog_run_record_count(run, RUNLOG_RECORD_CONSOLE);
}

/* 1 if the record is to be exported (and counts it), 0 if past the snapshot. */
static int quota_take(export_quota *q, runlog_record_type type)
{
    uint64_t *left = type == RUNLOG_RECORD_HISTORY ? &q->rows
                   : type == RUNLOG_RECORD_ALERT ? &q->alerts
                   : type == RUNLOG_RECORD_CONSOLE ? &q->console : NULL;

    if (!left || *left == 0)
        return 0;
    (*left)--;
    return 1;
}

static int64_t run_start(const runlog_run *run, const runlog_reader *r)
{
    int64_t start;

    if (tool_map_int(runlog_run_identity(run), "start_time", &start))
        return start;
    return runlog_reader_created(r);
}

/* ---- JSON ---- */

/* {"_step":..,"_timestamp":..,"_runtime":.., key: value...} */
static int json_row(tool_json *j, const runlog_record *rec, int64_t start)
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
        rc = tj_value(j, runlog_record_field_value(rec, i));
    }
    tj_obj_end(j);
    return rc;
}

static void json_alert(tool_json *j, const runlog_record *rec)
{
    const runlog_value *body = runlog_record_body(rec);
    char buf[TOOL_NUM_MAX];
    size_t len;
    const char *s;

    tj_obj(j);
    tj_key(j, "title");
    s = tool_map_str(body, "title", &len);
    if (s)
        tj_strn(j, s, len);
    else
        tj_null(j);
    tj_key(j, "text");
    s = tool_map_str(body, "text", &len);
    if (s)
        tj_strn(j, s, len);
    else
        tj_null(j);
    tj_key(j, "level");
    tj_str(j, tool_alert_level(body, buf));
    tj_key(j, "timestamp");
    tj_unix(j, runlog_record_time(rec));
    tj_obj_end(j);
}

/* Console bytes go in "text" as UTF-8; when they are not valid UTF-8, "text"
 * has U+FFFD in place of each bad byte and "data_base64" holds them exactly. */
static void json_console(tool_json *j, const runlog_record *rec)
{
    const char *stream, *data = "";
    size_t len = 0;

    if (tool_console_fields(runlog_record_body(rec), &stream, &data, &len) < 0)
        stream = "stdout";
    tj_obj(j);
    tj_key(j, "stream");
    tj_str(j, stream);
    tj_key(j, "timestamp");
    tj_unix(j, runlog_record_time(rec));
    tj_key(j, "text");
    if (tj_strn(j, data, len) > 0) {
        tj_key(j, "data_base64");
        tj_base64(j, data, len);
    }
    tj_obj_end(j);
}

/* Copies a spool file into the output. */
static int copy_spool(FILE *from, FILE *to)
{
    char buf[65536];
    size_t n;

    if (fflush(from) != 0 || ferror(from) || fseek(from, 0, SEEK_SET) != 0)
        return -1;
    while ((n = fread(buf, 1, sizeof buf, from)) > 0)
        if (fwrite(buf, 1, n, to) != n)
            return -1;
    return ferror(from) ? -1 : 0;
}

typedef struct json_pass {
    tool_json doc, alerts, console;
    FILE *alerts_f, *console_f;
    int jsonl;
} json_pass;

/* Routes one record to the history (written now) or a spool. */
static int json_record(json_pass *p, const runlog_record *rec, int64_t start)
{
    int rc;

    switch (runlog_record_type_of(rec)) {
    case RUNLOG_RECORD_HISTORY:
        if (p->jsonl) {
            tj_init(&p->doc, p->doc.f); /* each line is its own document */
            rc = json_row(&p->doc, rec, start);
            tj_newline(&p->doc);
            return rc;
        }
        tj_item_break(&p->doc);
        return json_row(&p->doc, rec, start);
    case RUNLOG_RECORD_ALERT:
        if (!p->jsonl) {
            tj_item_break(&p->alerts);
            json_alert(&p->alerts, rec);
        }
        return 0;
    case RUNLOG_RECORD_CONSOLE:
        if (!p->jsonl) {
            tj_item_break(&p->console);
            json_console(&p->console, rec);
        }
        return 0;
    default:
        return 0;
    }
}

static int json_pass_run(json_pass *p, runlog_reader *r, const runlog_run *run)
{
    export_quota q;
    const runlog_record *rec;
    int64_t start = run_start(run, r);
    int rc;

    quota_init(&q, run);
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        if (!quota_take(&q, runlog_record_type_of(rec)))
            continue;
        if ((rc = json_record(p, rec, start)) < 0)
            return rc;
    }
    return rc == RUNLOG_ITEROVER ? 0 : rc;
}

/* A map value, or {} when the run has none. */
static int json_map(tool_json *j, const char *key, const runlog_value *map)
{
    tj_item_break(j);
    tj_key(j, key);
    if (map)
        return tj_value(j, map);
    tj_obj(j);
    tj_obj_end(j);
    return 0;
}

/* {"run":..,"config":..,"summary":..,"history":[ */
static int json_head(tool_json *j, const runlog_run *run)
{
    tj_obj(j);
    tj_key(j, "run");
    if (tj_run_object(j, run) < 0 || json_map(j, "config", runlog_run_config(run)) < 0 ||
        json_map(j, "summary", runlog_run_summary(run)) < 0)
        return RUNLOG_ENOMEM;
    tj_item_break(j);
    tj_key(j, "history");
    tj_arr(j);
    return 0;
}

/* A spooled array under key. */
static int json_spooled(tool_json *j, const char *key, FILE *spool)
{
    tj_item_break(j);
    tj_key(j, key);
    tj_arr(j);
    if (copy_spool(spool, j->f) < 0)
        return -1;
    tj_arr_end(j);
    return 0;
}

/* ],"alerts":[..],"console":[..]} */
static int json_tail(json_pass *p)
{
    tj_arr_end(&p->doc);
    if (json_spooled(&p->doc, "alerts", p->alerts_f) < 0 ||
        json_spooled(&p->doc, "console", p->console_f) < 0)
        return -1;
    tj_obj_end(&p->doc);
    tj_newline(&p->doc);
    return 0;
}

static int export_json(FILE *f, const char *path, runlog_reader *r, const runlog_run *run,
                       int jsonl)
{
    json_pass p;
    int rc, status = TOOL_OK;

    memset(&p, 0, sizeof p);
    p.jsonl = jsonl;
    tj_init(&p.doc, f);
    if (jsonl)
        return (rc = json_pass_run(&p, r, run)) < 0 ? tool_lib_error(path, rc) : TOOL_OK;
    p.alerts_f = tmpfile();
    p.console_f = tmpfile();
    if (!p.alerts_f || !p.console_f) {
        status = tool_sys_error("temporary file");
        goto out;
    }
    tj_init(&p.alerts, p.alerts_f);
    tj_init(&p.console, p.console_f);
    if ((rc = json_head(&p.doc, run)) < 0 || (rc = json_pass_run(&p, r, run)) < 0)
        status = tool_lib_error(path, rc);
    else if (json_tail(&p) < 0)
        status = tool_sys_error("temporary file");
out:
    if (p.alerts_f)
        fclose(p.alerts_f);
    if (p.console_f)
        fclose(p.console_f);
    return status;
}

/* ---- CSV ---- */

/* Key -> column, open addressing over the run's key list. */
typedef struct key_index {
    size_t mask;
    size_t *slot; /* column + 1; 0 is empty */
    const runlog_run *run;
} key_index;

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
        rc = csv_value(f, runlog_record_field_value(rec, i));
        fputc('\n', f);
    }
    return rc;
}

/* cells has one slot per key, all NULL on entry and on return. */
static int csv_wide_row(FILE *f, const runlog_record *rec, const key_index *k,
                        const runlog_value **cells, size_t ncells)
{
    char buf[TOOL_NUM_MAX];
    size_t i, col, n = runlog_record_field_count(rec);
    int rc = 0;

    for (i = 0; i < n; i++) {
        col = key_index_find(k, runlog_record_field_key(rec, i));
        if (col != (size_t)-1)
            cells[col] = runlog_record_field_value(rec, i);
    }
    tool_fmt_unix(buf, runlog_record_time(rec));
    fprintf(f, "%" PRIu64 ",%s", runlog_record_step(rec), buf);
    for (i = 0; i < ncells; i++) {
        fputc(',', f);
        if (cells[i] && rc == 0)
            rc = csv_value(f, cells[i]);
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
    export_quota q;
    key_index k = {0, NULL, NULL};
    int rc;

    if (!cells || key_index_build(&k, run) < 0) {
        free(cells);
        return tool_lib_error(path, RUNLOG_ENOMEM);
    }
    quota_init(&q, run);
    csv_header(f, run, long_csv);
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        if (runlog_record_type_of(rec) != RUNLOG_RECORD_HISTORY ||
            !quota_take(&q, RUNLOG_RECORD_HISTORY))
            continue;
        rc = long_csv ? csv_long_row(f, rec) : csv_wide_row(f, rec, &k, cells, ncells);
        if (rc < 0)
            break;
    }
    free(cells);
    free(k.slot);
    return rc == RUNLOG_ITEROVER ? TOOL_OK : tool_lib_error(path, rc);
}

/* ---- the subcommand ---- */

static int parse_export(int argc, char **argv, export_opts *o)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"history-jsonl", no_argument, NULL, 'j'},
        {"long", no_argument, NULL, 'l'},
        {NULL, 0, NULL, 0}};
    int c;

    memset(o, 0, sizeof *o);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o->out = optarg; break;
        case 'j': o->history_jsonl = 1; break;
        case 'l': o->long_csv = 1; break;
        default: return tool_bad_option(argv[0], argv, c);
        }
    }
    if (argc - optind != 2)
        return tool_usage(argv[0], "expected a format (json or csv) and one FILE");
    o->format = argv[optind];
    o->path = argv[optind + 1];
    if (strcmp(o->format, "json") != 0 && strcmp(o->format, "csv") != 0)
        return tool_usage(argv[0], "unknown format '%s' (json or csv)", o->format);
    if (o->long_csv && strcmp(o->format, "csv") != 0)
        return tool_usage(argv[0], "--long applies to csv only");
    if (o->history_jsonl && strcmp(o->format, "json") != 0)
        return tool_usage(argv[0], "--history-jsonl applies to json only");
    return TOOL_OK;
}

int cmd_export(int argc, char **argv)
{
    export_opts o;
    runlog_reader *r = NULL;
    runlog_run *run = NULL;
    tool_out out;
    int status = parse_export(argc, argv, &o), rc;

    if (status != TOOL_OK)
        return status;
    if (tool_open_reader(&r, o.path, RUNLOG_READ_TOLERANT) != TOOL_OK)
        return TOOL_FAIL;
    if ((rc = runlog_reader_run(&run, r)) < 0) {
        status = tool_lib_error(o.path, rc);
    } else if ((status = tool_out_open(&out, o.out)) == TOOL_OK) {
        if (o.format[0] == 'j')
            status = export_json(out.f, o.path, r, run, o.history_jsonl);
        else
            status = export_csv(out.f, o.path, r, run, o.long_csv);
        status = tool_out_close(&out, status == TOOL_OK);
    }
    runlog_run_free(run);
    runlog_reader_close(r);
    if (status == TOOL_OK)
        status = tool_warn_damage(o.path);
    return status;
}
