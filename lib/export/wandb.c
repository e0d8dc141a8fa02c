/*
 * wandb.c — rx_export_wandb(), RUNLOG_EXPORT_WANDB (spec/EXPORTS.md §10):
 * each run becomes DIR/offline-run-<YYYYMMDD_HHMMSS>-<run_id>/ as W&B's
 * offline mode lays it out, for `wandb sync`.
 *
 * The inputs are a run set (runlog_runset_open(), spec/EXPORTS.md §11):
 * files with the same run id (a run requeued into a new run-log) are one
 * run, their records exported file after file in the set's merge order; a
 * file given twice is exported once; per-rank files that share an id are
 * refused before anything is written. A run is built in
 * DIR/.tmp-<run_id>-XXXXXX/ (mkdtemp) and renamed into place at the end, so its
 * directory appears whole or not at all; on any failure the staging
 * directory is removed.
 *
 * Records are streamed (one history row in memory at a time) by a cursor on
 * each file's reader, which also reads its blobs; merged identity, config,
 * summary, metadata, times and state come from the run set.
 */
#define _XOPEN_SOURCE 700
#include "wandb.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "media.h"

/* The last media value_json of each history key (for the summary). */
typedef struct wb_last {
    char **keys, **json;
    size_t n, cap;
} wb_last;

/* Everything about the run being exported. */
typedef struct wb_run {
    rx_ctx *x;
    runlog_runset *set;
    size_t ri, n_files; /* run ri of set, its files */
    char id[RUNLOG_MAX_KEY + 1];
    char *stage, *final;
    int stage_fd, out_fd;
    int64_t start, end;
    int exit_code;
    const char *state;
    wb_log log;
    wb_media media;
    const runlog_value *config, *summary, *metadata; /* maps, merged by the set */
    wb_last last;
    uint64_t last_step;
    int has_rows, warned_reserved;
    char writer_id[129]; /* EnvironmentRecord.writer_id, one per export of the run */
} wb_run;

#define R(rec, field, type, val) \
    ((rec)->record_type_case = WANDB_INTERNAL__RECORD__RECORD_TYPE_##type, (rec)->field = (val))

/* ---- small helpers ---- */

static int oom(const char *file)
{
    return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", file);
}

/* b - a in nanoseconds, clamped to int64_t: times are any int64_t (a
 * clock may say anything), and their difference may not fit. */
static int64_t span(int64_t a, int64_t b)
{
    int64_t d;

    if (__builtin_sub_overflow(b, a, &d))
        return b > a ? INT64_MAX : INT64_MIN;
    return d;
}

static void ts_set(WandbInternal__Timestamp *ts, int64_t ns)
{
    int64_t s = ns / 1000000000, r = ns % 1000000000;

    if (r < 0)
        s--, r += 1000000000;
    ts->seconds = s;
    ts->nanos = (int32_t)r;
}

static const char *ident_str(const wb_run *run, const char *key)
{
    const char *s = rlu_map_str(runlog_runset_identity(run->set, run->ri), key, NULL);

    return s && *s ? s : NULL;
}

static int last_set(wb_last *l, const char *key, const char *json)
{
    size_t i;
    char *j = strdup(json), **nk, **nj;

    if (!j)
        return -1;
    for (i = 0; i < l->n; i++)
        if (strcmp(l->keys[i], key) == 0) {
            free(l->json[i]);
            l->json[i] = j;
            return 0;
        }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        if ((nk = realloc(l->keys, cap * sizeof *nk)))
            l->keys = nk;
        if (!nk || !(nj = realloc(l->json, cap * sizeof *nj))) {
            free(j);
            return -1;
        }
        l->json = nj;
        l->cap = cap;
    }
    if (!(l->keys[l->n] = strdup(key))) {
        free(j);
        return -1;
    }
    l->json[l->n++] = j;
    return 0;
}

static const char *last_get(const wb_last *l, const char *key)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (strcmp(l->keys[i], key) == 0)
            return l->json[i];
    return NULL;
}

static void last_free(wb_last *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->keys[i]), free(l->json[i]);
    free(l->keys);
    free(l->json);
}

/* ---- records ---- */

static int emit(wb_run *run, WandbInternal__Record *rec)
{
    char path[PATH_MAX];

    if (wb_log_record(&run->log, rec) < 0) {
        snprintf(path, sizeof path, "%s/run-%s.wandb", run->stage, run->id);
        return rx_sys_error(path);
    }
    return 0;
}

static int emit_header(wb_run *run)
{
    WandbInternal__Record rec = WANDB_INTERNAL__RECORD__INIT;
    WandbInternal__HeaderRecord h = WANDB_INTERNAL__HEADER_RECORD__INIT;
    WandbInternal__VersionInfo v = WANDB_INTERNAL__VERSION_INFO__INIT;

    v.producer = "runlog " RUNLOG_VERSION_STRING;
    h.version_info = &v;
    R(&rec, header, HEADER, &h);
    return emit(run, &rec);
}

/* Files named in one FilesRecord, paths relative to files/. */
static int emit_files(wb_run *run, char **paths, size_t n, int policy, int type)
{
    WandbInternal__Record rec = WANDB_INTERNAL__RECORD__INIT;
    WandbInternal__FilesRecord fr = WANDB_INTERNAL__FILES_RECORD__INIT;
    WandbInternal__FilesItem *items = calloc(n ? n : 1, sizeof *items);
    WandbInternal__FilesItem **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    size_t i;
    int status;

    if (!items || !ptrs) {
        free(items), free(ptrs);
        return oom(run->stage);
    }
    for (i = 0; i < n; i++) {
        wandb_internal__files_item__init(&items[i]);
        items[i].path = paths[i];
        items[i].policy = policy;
        items[i].type = type;
        ptrs[i] = &items[i];
    }
    fr.n_files = n;
    fr.files = ptrs;
    R(&rec, files, FILES, &fr);
    status = n ? emit(run, &rec) : 0;
    free(items);
    free(ptrs);
    return status;
}

/* ConfigItem and SummaryItem have the same layout; both are filled here. */
static int config_items(wb_run *run, wb_arena *a, const runlog_value *map,
                        WandbInternal__ConfigItem ***out, size_t *n)
{
    size_t k = runlog_value_count(map);
    WandbInternal__ConfigItem **items = wb_alloc(a, (k ? k : 1) * sizeof *items);
    rlu_buf b = {0};
    size_t i;

    if (!items)
        return oom(run->stage);
    for (i = 0; i < k; i++) {
        if (!(items[i] = wb_alloc(a, sizeof *items[i])))
            return oom(run->stage);
        wandb_internal__config_item__init(items[i]);
        items[i]->key = wb_strdup(a, runlog_value_key(map, i, NULL));
        wb_json_value(&b, runlog_value_item(map, i), WB_JSON);
        if (!items[i]->key || !(items[i]->value_json = wb_keep(a, rlu_take(&b))))
            return oom(run->stage);
    }
    *out = items;
    *n = k;
    return 0;
}

static int str_list(wb_arena *a, const runlog_value *list, char ***out, size_t *n)
{
    size_t i, k = list ? runlog_value_count(list) : 0;

    *n = 0;
    if (!(*out = wb_alloc(a, (k ? k : 1) * sizeof **out)))
        return -1;
    for (i = 0; i < k; i++)
        if (runlog_value_string(runlog_value_item(list, i), NULL))
            (*out)[(*n)++] = wb_strdup(a, runlog_value_string(runlog_value_item(list, i), NULL));
    return 0;
}

/* The run record: identity, host, git and start time, with the whole config. */
static int emit_run(wb_run *run)
{
    WandbInternal__Record rec = WANDB_INTERNAL__RECORD__INIT;
    WandbInternal__RunRecord rr = WANDB_INTERNAL__RUN_RECORD__INIT;
    WandbInternal__ConfigRecord cr = WANDB_INTERNAL__CONFIG_RECORD__INIT;
    WandbInternal__Timestamp ts = WANDB_INTERNAL__TIMESTAMP__INIT;
    WandbInternal__GitRepoRecord git = WANDB_INTERNAL__GIT_REPO_RECORD__INIT;
    const runlog_value *g = runlog_value_get(run->metadata, "git");
    const char *project = run->x->o->wandb_project ? run->x->o->wandb_project
                                                   : ident_str(run, "project");
    wb_arena a = {0};
    int status;

    rr.run_id = run->id;
    rr.entity = wb_strdup(&a, run->x->o->wandb_entity);
    rr.project = wb_strdup(&a, project ? project : "uncategorized");
    rr.display_name = wb_strdup(&a, ident_str(run, "name"));
    rr.run_group = wb_strdup(&a, ident_str(run, "group"));
    rr.job_type = wb_strdup(&a, ident_str(run, "job_type"));
    rr.notes = wb_strdup(&a, ident_str(run, "notes"));
    rr.host = wb_strdup(&a, runlog_value_string(runlog_value_get(run->metadata, "host"), NULL));
    if (str_list(&a, runlog_value_get(runlog_runset_identity(run->set, run->ri), "tags"), &rr.tags,
                 &rr.n_tags) < 0)
        return oom(run->stage);
    ts_set(&ts, run->start);
    rr.start_time = &ts;
    if (g && (rlu_map_str(g, "remote", NULL) || rlu_map_str(g, "commit", NULL))) {
        git.remote_url = wb_strdup(&a, rlu_map_str(g, "remote", NULL));
        git.commit = wb_strdup(&a, rlu_map_str(g, "commit", NULL));
        rr.git = &git;
    }
    if ((status = config_items(run, &a, run->config, &cr.update, &cr.n_update)) == 0) {
        rr.config = &cr;
        R(&rec, run, RUN, &rr);
        status = emit(run, &rec);
    }
    /* and a config record, the update W&B's sender applies to the run's config */
    if (status == 0) {
        rec = (WandbInternal__Record)WANDB_INTERNAL__RECORD__INIT;
        R(&rec, config, CONFIG, &cr);
        status = emit(run, &rec);
    }
    wb_arena_free(&a);
    return status;
}

static int item_json(wb_arena *a, WandbInternal__HistoryItem **out, const char *key, char *json)
{
    WandbInternal__HistoryItem *it = wb_alloc(a, sizeof *it);

    if (!it || !wb_keep(a, json))
        return -1;
    wandb_internal__history_item__init(it);
    it->key = wb_strdup(a, key);
    it->value_json = json;
    *out = it;
    return it->key ? 0 : -1;
}

static int is_reserved(const char *key)
{
    return strcmp(key, "_step") == 0 || strcmp(key, "_runtime") == 0 ||
           strcmp(key, "_timestamp") == 0 || strcmp(key, "_wandb") == 0;
}

/* The run's duration in whole seconds, as W&B's summary holds it (never
 * negative; span() already clamped it to int64). */
static int64_t runtime_seconds(const wb_run *run)
{
    int64_t secs = span(run->start, run->end) / 1000000000;
    return secs < 0 ? 0 : secs;
}

/* One history row: _step, _runtime, _timestamp, then the row's values;
 * media are written under files/media/ and named in a FilesRecord. */
static int emit_history(wb_run *run, const char *path, const runlog_record *r)
{
    size_t i, k = 0, n = runlog_record_field_count(r);
    WandbInternal__Record rec = WANDB_INTERNAL__RECORD__INIT;
    WandbInternal__HistoryRecord h = WANDB_INTERNAL__HISTORY_RECORD__INIT;
    WandbInternal__HistoryStep step = WANDB_INTERNAL__HISTORY_STEP__INIT;
    WandbInternal__HistoryItem **items;
    uint64_t st = runlog_record_step(r);
    int64_t t = runlog_record_time(r);
    char num[RLU_NUM_MAX];
    const char *key;
    wb_arena a = {0};
    rlu_buf b = {0};
    int status = 0;

    if (!(items = wb_alloc(&a, (n + 3) * sizeof *items)))
        return oom(path);
    rlu_printf(&b, "%" PRIu64, st);
    if (item_json(&a, &items[k++], "_step", rlu_take(&b)) < 0)
        status = oom(path);
    rlu_fmt_unix(num, span(run->start, t));
    if (status == 0 && item_json(&a, &items[k++], "_runtime", strdup(num)) < 0)
        status = oom(path);
    rlu_fmt_unix(num, t);
    if (status == 0 && item_json(&a, &items[k++], "_timestamp", strdup(num)) < 0)
        status = oom(path);
    for (i = 0; i < n && status == 0; i++) {
        key = runlog_record_field_key(r, i);
        if (is_reserved(key)) {
            if (!run->warned_reserved++)
                rx_notice(run->x, RUNLOG_NOTICE_WARNING,
                          "%s: history key '%s' is one of W&B's own; left out", path, key);
            continue;
        }
        status = wb_media_value(&run->media, &b, key, st, runlog_record_field_value(r, i));
        if (status == 0 && media_kind_of(runlog_record_field_value(r, i)) != MEDIA_NONE &&
            last_set(&run->last, key, b.p ? b.p : "null") < 0)
            status = oom(path);
        if (status == 0 && item_json(&a, &items[k++], key, rlu_take(&b)) < 0)
            status = oom(path);
    }
    rlu_buf_free(&b);
    if (status == 0) {
        h.n_item = k;
        h.item = items;
        step.num = (int64_t)st;
        h.step = &step;
        R(&rec, history, HISTORY, &h);
        status = emit(run, &rec);
    }
    wb_arena_free(&a);
    if (status == 0 && run->media.n_new) {
        status = emit_files(run, run->media.new_files, run->media.n_new,
                            WANDB_INTERNAL__FILES_ITEM__POLICY_TYPE__NOW,
                            WANDB_INTERNAL__FILES_ITEM__FILE_TYPE__MEDIA);
        for (i = 0; i < run->media.n_new; i++)
            free(run->media.new_files[i]);
        run->media.n_new = 0;
    }
    run->last_step = st;
    run->has_rows = 1;
    return status;
}

/* A system key as W&B's system monitor names it (core/internal/monitor/
 * system.go in the wandb repository; the mapping is the table in
 * spec/EXPORTS.md §10.1), in a; NULL when out of memory. Sets *div, the
 * divisor of the value: runlog's cpu is percent of one core (up to 100 x
 * CPUs), W&B's the process tree's CPU divided by the core count, so it is
 * divided by the metadata's cpu_count (1 when unknown). W&B names disk
 * space by the monitored path (disk.<path>.usagePercent, default path
 * "/"); runlog samples the filesystem that holds the run-log and records
 * its mount point as the metadata's disk_mount, so that is the path
 * written (disk_mount()); a file without it (written before it was
 * recorded, or with no /proc) gets "/", the path W&B's own sampler watches
 * unless told otherwise. runlog's system.cpu (all CPUs of the machine) has no W&B
 * counterpart of that name: cpu.system_percent keeps it apart from W&B's
 * per-core cpu.N.cpu_percent. Other keys are W&B's already. */
static const char *disk_mount(const wb_run *run)
{
    size_t len;
    const char *mount = rlu_map_str(run->metadata, "disk_mount", &len);
    if (!mount || mount[0] != '/' || strlen(mount) != len)
        mount = "/"; /* none, or not a path (another writer's file) */
    return mount;
}

static char *stats_key(const wb_run *run, wb_arena *a, const char *key, double *div)
{
    const char *suffix = NULL;
    rlu_buf b = {0};
    char *name, *text;
    int64_t cpus;

    *div = 1.0;
    if (strcmp(key, "cpu") == 0) {
        if (rlu_map_int(run->metadata, "cpu_count", &cpus) && cpus > 0)
            *div = (double)cpus;
    } else if (strcmp(key, "system.cpu") == 0) {
        key = "cpu.system_percent";
    } else if (strcmp(key, "disk.usagePercent") == 0) {
        suffix = "usagePercent";
    } else if (strcmp(key, "disk.usageGB") == 0) {
        suffix = "usageGB";
    }
    if (!suffix)
        return wb_strdup(a, key);
    rlu_puts(&b, "disk.");
    rlu_puts(&b, disk_mount(run));
    rlu_puts(&b, ".");
    rlu_puts(&b, suffix);
    if (!(text = rlu_take(&b)))
        return NULL;
    name = wb_strdup(a, text); /* as UTF-8, as every key */
    free(text);
    return name;
}

static int emit_stats(wb_run *run, const char *path, const runlog_record *r)
{
    size_t i, n = runlog_record_field_count(r);
    WandbInternal__Record rec = WANDB_INTERNAL__RECORD__INIT;
    WandbInternal__StatsRecord sr = WANDB_INTERNAL__STATS_RECORD__INIT;
    WandbInternal__Timestamp ts = WANDB_INTERNAL__TIMESTAMP__INIT;
    WandbInternal__StatsItem **items;
    const runlog_value *v;
    double div;
    wb_arena a = {0};
    rlu_buf b = {0};
    int status = 0;

    if (!(items = wb_alloc(&a, (n ? n : 1) * sizeof *items)))
        return oom(path);
    for (i = 0; i < n && status == 0; i++) {
        if (!(items[i] = wb_alloc(&a, sizeof *items[i])))
            status = oom(path);
        else {
            wandb_internal__stats_item__init(items[i]);
            items[i]->key = stats_key(run, &a, runlog_record_field_key(r, i), &div);
            v = runlog_record_field_value(r, i);
            if (div != 1.0 && runlog_value_type(v) == RUNLOG_FLOAT)
                wb_json_double(&b, runlog_value_float(v) / div, WB_JSON);
            else
                wb_json_value(&b, v, WB_JSON);
            if (!items[i]->key || !(items[i]->value_json = wb_keep(&a, rlu_take(&b))))
                status = oom(path);
        }
    }
    if (status == 0) {
        ts_set(&ts, runlog_record_time(r));
        sr.timestamp = &ts;
        sr.n_item = n;
        sr.item = items;
        R(&rec, stats, STATS, &sr);
        status = emit(run, &rec);
    }
    wb_arena_free(&a);
    return status;
}

/* A record whose body the typed accessor refused (its detail names the
 * file, the frame's offset and the entry at fault): damage inside an intact
 * frame, the one rule of rx_bad_record() (skipped when tolerant). */
static int left_out(wb_run *run, int rc)
{
    return rx_bad_record(run->x, rc);
}

/* Console bytes: exactly into files/output.log; into the record as UTF-8
 * text (bad bytes and NUL as U+FFFD), as protobuf strings must be. */
static int emit_console(wb_run *run, const char *path, const runlog_record *r)
{
    WandbInternal__Record rec = WANDB_INTERNAL__RECORD__INIT;
    WandbInternal__OutputRawRecord o = WANDB_INTERNAL__OUTPUT_RAW_RECORD__INIT;
    WandbInternal__Timestamp ts = WANDB_INTERNAL__TIMESTAMP__INIT;
    runlog_stream stream;
    const void *data;
    size_t len;
    int status;

    if ((status = runlog_record_console(r, &stream, &data, &len)) < 0)
        return left_out(run, status);
    if (rlu_write_all(run->out_fd, data, len) < 0)
        return rx_sys_error("output.log");
    if (!(o.line = rlu_utf8_text(data, len)))
        return oom(path);
    o.output_type = stream == RUNLOG_STDERR ? WANDB_INTERNAL__OUTPUT_RAW_RECORD__OUTPUT_TYPE__STDERR
                                            : WANDB_INTERNAL__OUTPUT_RAW_RECORD__OUTPUT_TYPE__STDOUT;
    ts_set(&ts, runlog_record_time(r));
    o.timestamp = &ts;
    R(&rec, output_raw, OUTPUT_RAW, &o);
    status = emit(run, &rec);
    free(o.line);
    return status;
}

static int emit_alert(wb_run *run, const char *path, const runlog_record *r)
{
    static char *const levels[] = {"INFO", "WARN", "ERROR"}; /* wandb.AlertLevel; never written */
    WandbInternal__Record rec = WANDB_INTERNAL__RECORD__INIT;
    WandbInternal__AlertRecord al = WANDB_INTERNAL__ALERT_RECORD__INIT;
    runlog_alert_level level;
    const char *title, *text;
    size_t title_len, text_len;
    wb_arena a = {0};
    int status;

    if ((status = runlog_record_alert(r, &title, &title_len, &text, &text_len, &level)) < 0)
        return left_out(run, status);
    al.title = wb_keep(&a, rlu_utf8_text(title, title_len));
    al.text = wb_keep(&a, rlu_utf8_text(text, text_len));
    al.level = levels[level];
    /* W&B's default: the same alert is not sent again within a minute. */
    al.wait_duration = 60000;
    R(&rec, alert, ALERT, &al);
    status = al.title && al.text ? emit(run, &rec) : oom(path);
    wb_arena_free(&a);
    return status;
}

/* The map runlog_run_artifacts() has for version `version` of `name` in
 * file j of the run, or NULL. */
static const runlog_value *artifact_map(const wb_run *run, size_t j, const char *name,
                                        int64_t version)
{
    const runlog_value *arts = runlog_run_artifacts(runlog_runset_file_run(run->set, run->ri, j));
    size_t i, n = arts ? runlog_value_count(arts) : 0;
    const char *s;
    int64_t v;

    for (i = 0; i < n; i++) {
        const runlog_value *art = runlog_value_item(arts, i);
        if ((s = rlu_map_str(art, "name", NULL)) && strcmp(s, name) == 0 &&
            rlu_map_int(art, "version", &v) && v == version)
            return art;
    }
    return NULL;
}

/* An artifact record of file j. A version that several files of the run
 * hold (equal, the run set checked) is exported once, from the first, with
 * the aliases the last of them gives it (spec/EXPORTS.md §11.4). */
static int emit_artifact(wb_run *run, const char *path, size_t j, const runlog_record *r)
{
    WandbInternal__Record rec = WANDB_INTERNAL__RECORD__INIT;
    WandbInternal__ArtifactRecord ar = WANDB_INTERNAL__ARTIFACT_RECORD__INIT;
    const runlog_value *art = NULL;

    ar.finalize = 1; /* committed once uploaded, as W&B's log_artifact does */
    const char *name;
    uint32_t version;
    wb_arena a = {0};
    size_t k;
    int status;

    /* checked whole, entry paths too, before anything of it is written */
    if ((status = runlog_record_artifact(r, &name, NULL, &version, NULL, NULL)) < 0)
        return rx_lib_error(path, status);
    for (k = 0; k < j; k++)
        if (artifact_map(run, k, name, version))
            return 0;
    for (k = run->n_files; !art && k-- > j;)
        art = artifact_map(run, k, name, version);
    ar.run_id = run->id;
    ar.entity = wb_strdup(&a, run->x->o->wandb_entity);
    ar.project = wb_strdup(&a, run->x->o->wandb_project ? run->x->o->wandb_project
                                                        : ident_str(run, "project"));
    if (!ar.entity || !ar.project)
        status = oom(path);
    else if ((status = wb_artifact(&run->media, &a, &ar, r, art, run->final)) == 0) {
        if (!*ar.project)
            ar.project = "uncategorized";
        R(&rec, artifact, ARTIFACT, &ar);
        status = emit(run, &rec);
    }
    wb_arena_free(&a);
    return status;
}

/* The run_table artifact of a table (wb_media's emit_artifact): the run's
 * id, project and entity, then the record, before the history record that
 * names it, as W&B's log() sends them. */
static int emit_table_artifact(void *ctx, WandbInternal__ArtifactRecord *ar)
{
    wb_run *run = ctx;
    WandbInternal__Record rec = WANDB_INTERNAL__RECORD__INIT;
    const char *project = run->x->o->wandb_project ? run->x->o->wandb_project
                                                   : ident_str(run, "project");
    wb_arena a = {0};
    int status;

    ar->run_id = run->id;
    ar->entity = wb_strdup(&a, run->x->o->wandb_entity);
    ar->project = wb_strdup(&a, project && *project ? project : "uncategorized");
    R(&rec, artifact, ARTIFACT, ar);
    status = ar->entity && ar->project ? emit(run, &rec) : oom(run->stage);
    wb_arena_free(&a);
    return status;
}

/* ---- the pass over one file ---- */

/* File j of the run: a cursor on its reader walks the records; the same
 * reader reads the blobs its images, tables and artifacts name. */
static int export_file(wb_run *run, size_t j)
{
    const char *path = runlog_runset_file_path(run->set, run->ri, j);
    runlog_reader *rd = runlog_runset_file_reader(run->set, run->ri, j);
    const runlog_run *fr = runlog_runset_file_run(run->set, run->ri, j);
    const runlog_value *arts = runlog_run_artifacts(fr);
    uint64_t n_arts = arts ? runlog_value_count(arts) : 0, art_i = 0;
    const runlog_record *r;
    runlog_cursor *c;
    rx_quota q;
    int rc, status = 0;

    if ((rc = runlog_cursor_open(&c, rd)) < 0)
        return rx_lib_error(path, rc);
    /* Records of each kind the snapshot of runlog_reader_run() counted (and
     * its artifact versions): a live file's later records are left out, so
     * every part describes one moment. */
    rx_quota_init(&q, fr);
    run->media.src = path;
    run->media.blobs = rd;
    while (status == 0 && (rc = runlog_cursor_next(c, &r)) == 0) {
        runlog_record_type t = runlog_record_type_of(r);
        if (t == RUNLOG_RECORD_ARTIFACT ? art_i++ >= n_arts : !rx_quota_take(&q, t))
            continue;
        switch (t) {
        case RUNLOG_RECORD_HISTORY: status = emit_history(run, path, r); break;
        case RUNLOG_RECORD_SYSTEM: status = emit_stats(run, path, r); break;
        case RUNLOG_RECORD_CONSOLE: status = emit_console(run, path, r); break;
        case RUNLOG_RECORD_ALERT: status = emit_alert(run, path, r); break;
        case RUNLOG_RECORD_ARTIFACT: status = emit_artifact(run, path, j, r); break;
        default: break;
        }
    }
    if (status == 0 && rc != RUNLOG_ITEROVER)
        status = rx_lib_error(path, rc);
    runlog_cursor_close(c);
    return status;
}

/* ---- files/ ---- */

/* The final summary (media values as their W&B files) with _step,
 * _runtime and _timestamp, as a SummaryRecord and as wandb-summary.json. */
static int emit_summary(wb_run *run)
{
    WandbInternal__Record rec = WANDB_INTERNAL__RECORD__INIT;
    WandbInternal__SummaryRecord sr = WANDB_INTERNAL__SUMMARY_RECORD__INIT;
    size_t i, n = runlog_value_count(run->summary);
    rlu_buf b = {0}, file = {0};
    char num[RLU_NUM_MAX];
    const char *last;
    wb_arena a = {0};
    int status = 0;

    if (!(sr.update = wb_alloc(&a, (n + 4) * sizeof *sr.update)))
        return oom(run->stage);
    rlu_puts(&file, "{");
    /* Then W&B's own keys: _runtime in whole seconds and _wandb.runtime
     * (W&B's summary writes both as integers), _timestamp, _step. */
    for (i = 0; i < n + 4 && status == 0; i++) {
        const char *key = i < n ? runlog_value_key(run->summary, i, NULL)
                        : i == n ? "_runtime" : i == n + 1 ? "_timestamp"
                        : i == n + 2 ? "_step" : "_wandb";
        if (i < n && is_reserved(key))
            continue;
        if (i == n + 2 && !run->has_rows)
            continue;
        if (i < n && (last = last_get(&run->last, key)) != NULL)
            rlu_puts(&b, last);
        else if (i < n)
            status = wb_media_value(&run->media, &b, key, run->last_step,
                                    runlog_value_item(run->summary, i));
        else if (i == n)
            rlu_printf(&b, "%" PRId64, runtime_seconds(run));
        else if (i == n + 1)
            rlu_fmt_unix(num, run->end), rlu_puts(&b, num);
        else if (i == n + 2)
            rlu_printf(&b, "%" PRIu64, run->last_step);
        else
            rlu_printf(&b, "{\"runtime\": %" PRId64 "}", runtime_seconds(run));
        if (status != 0)
            break;
        rlu_puts(&file, sr.n_update ? ",\n " : "\n ");
        rlu_json_str(rlu_sink_buf, &file, key, strlen(key), RLU_JSON_YAML_SAFE);
        rlu_puts(&file, ": ");
        rlu_puts(&file, b.p ? b.p : "null");
        if (!(sr.update[sr.n_update] = wb_alloc(&a, sizeof *sr.update[0])))
            status = oom(run->stage);
        else {
            wandb_internal__summary_item__init(sr.update[sr.n_update]);
            sr.update[sr.n_update]->key = wb_strdup(&a, key);
            if (!(sr.update[sr.n_update++]->value_json = wb_keep(&a, rlu_take(&b))))
                status = oom(run->stage);
        }
    }
    rlu_puts(&file, "\n}\n");
    if (status == 0 && file.oom)
        status = oom(run->stage);
    if (status == 0)
        status = wb_write_file(run->stage_fd, "files/wandb-summary.json", file.p, file.len,
                               "wandb-summary.json");
    if (status == 0) {
        R(&rec, summary, SUMMARY, &sr);
        status = emit(run, &rec);
    }
    rlu_buf_free(&b);
    rlu_buf_free(&file);
    wb_arena_free(&a);
    return status;
}

/* config.yaml as W&B writes it: each key -> {desc: null, value: ...}; the
 * values in YAML flow style (see WB_YAML). */
static int write_config_yaml(wb_run *run)
{
    rlu_buf b = {0};
    const char *key;
    size_t i, len;
    int status;

    rlu_puts(&b, "wandb_version: 1\n");
    for (i = 0; i < runlog_value_count(run->config); i++) {
        key = runlog_value_key(run->config, i, &len);
        rlu_puts(&b, "\n");
        rlu_json_str(rlu_sink_buf, &b, key, len, RLU_JSON_YAML_SAFE);
        rlu_puts(&b, ":\n  desc: null\n  value: ");
        wb_json_value(&b, runlog_value_item(run->config, i), WB_YAML);
        rlu_puts(&b, "\n");
    }
    status = b.oom ? oom(run->stage)
                   : wb_write_file(run->stage_fd, "files/config.yaml", b.p, b.len, "config.yaml");
    rlu_buf_free(&b);
    return status;
}

/* The run's EnvironmentRecord (wandb/proto/wandb_internal.proto) from
 * runlog's metadata (§8.1), strings in a. `wandb sync` makes
 * wandb-metadata.json and config _wandb.e of it (core/internal/stream/
 * sender.go sendEnvironment(), core/internal/runenvironment/). runlog's
 * cpu_count is the online CPUs: cpu_count_logical; W&B's cpu_count (the
 * physical cores) is not known and stays unset. writer_id: run->writer_id,
 * a new client id per export (W&B's is one per writing process). 0 or an
 * error. */
static int env_fill(wb_run *run, wb_arena *a, WandbInternal__EnvironmentRecord *env,
                    WandbInternal__Timestamp *ts, WandbInternal__GitRepoRecord *git,
                    WandbInternal__MemoryInfo *mem)
{
    const runlog_value *m = run->metadata, *argv = runlog_value_get(m, "argv"),
                       *g = runlog_value_get(m, "git");
    const char *os = rlu_map_str(m, "os_release", NULL);
    int64_t v;
    size_t i, n = argv && runlog_value_type(argv) == RUNLOG_LIST ? runlog_value_count(argv) : 0;

    env->os = wb_strdup(a, os ? os : rlu_map_str(m, "os", NULL));
    ts_set(ts, run->start);
    env->started_at = ts;
    if (n > 0) {
        env->program = wb_strdup(a, runlog_value_string(runlog_value_item(argv, 0), NULL));
        if (!(env->args = wb_alloc(a, n * sizeof *env->args)))
            return oom(run->stage);
        for (i = 1; i < n; i++)
            if (runlog_value_string(runlog_value_item(argv, i), NULL))
                env->args[env->n_args++] =
                    wb_strdup(a, runlog_value_string(runlog_value_item(argv, i), NULL));
    }
    if (g && runlog_value_type(g) == RUNLOG_MAP &&
        (rlu_map_str(g, "remote", NULL) || rlu_map_str(g, "commit", NULL))) {
        git->remote_url = wb_strdup(a, rlu_map_str(g, "remote", NULL));
        git->commit = wb_strdup(a, rlu_map_str(g, "commit", NULL));
        env->git = git;
    }
    env->root = wb_strdup(a, rlu_map_str(m, "cwd", NULL));
    env->host = wb_strdup(a, rlu_map_str(m, "host", NULL));
    env->username = wb_strdup(a, rlu_map_str(m, "user", NULL));
    env->executable = wb_strdup(a, rlu_map_str(m, "executable", NULL));
    if (rlu_map_int(m, "cpu_count", &v) && v > 0 && v <= UINT32_MAX)
        env->cpu_count_logical = (uint32_t)v;
    env->gpu_type = wb_strdup(a, rlu_map_str(m, "gpu", NULL));
    if (rlu_map_int(m, "gpu_count", &v) && v > 0 && v <= UINT32_MAX)
        env->gpu_count = (uint32_t)v;
    if (rlu_map_int(m, "memory_total_bytes", &v) && v > 0) { /* bytes, as W&B's */
        mem->total = (uint64_t)v;
        env->memory = mem;
    }
    int64_t used;
    if (rlu_map_int(m, "disk_total_bytes", &v) && v > 0 && rlu_map_int(m, "disk_used_bytes", &used) &&
        used >= 0 && used <= v) {
        /* W&B's disk map, keyed by the watched path: the disk metrics' path */
        WandbInternal__EnvironmentRecord__DiskEntry *e = wb_alloc(a, sizeof *e);
        WandbInternal__DiskInfo *d = wb_alloc(a, sizeof *d);
        WandbInternal__EnvironmentRecord__DiskEntry **list = wb_alloc(a, sizeof *list);
        if (!e || !d || !list)
            return oom(run->stage);
        wandb_internal__environment_record__disk_entry__init(e);
        wandb_internal__disk_info__init(d);
        d->total = (uint64_t)v;
        d->used = (uint64_t)used;
        e->key = wb_strdup(a, disk_mount(run));
        e->value = d;
        list[0] = e;
        env->disk = list;
        env->n_disk = 1;
        if (!e->key)
            return oom(run->stage);
    }
    env->writer_id = wb_strdup(a, run->writer_id);
    for (i = 0; i < env->n_args; i++)
        if (!env->args[i])
            return oom(run->stage);
    if (!env->os || !env->root || !env->host || !env->username || !env->executable ||
        !env->gpu_type || !env->writer_id || (n > 0 && !env->program) ||
        (env->git && (!git->remote_url || !git->commit)))
        return oom(run->stage);
    return 0;
}

static void json_member_str(rlu_buf *b, const char *key, const char *s, int *first)
{
    if (!s || !*s)
        return; /* protojson leaves out empty fields */
    rlu_printf(b, "%s\n  \"%s\": ", *first ? "" : ",", key);
    rlu_json_str(rlu_sink_buf, b, s, strlen(s), RLU_JSON_YAML_SAFE);
    *first = 0;
}

/* wandb-metadata.json as W&B's sender writes it: the EnvironmentRecord in
 * protojson (JSON names, fields in number order, empty ones left out,
 * uint64 as a string, startedAt RFC 3339), then runlog's own members: the
 * run's final state, exit code, and runlog's whole metadata under
 * "runlog". `wandb sync` uploads its own rendering of the same record
 * under this name too; either copy has W&B's members with the same
 * values (runlog's extras are in the run-log). */
static int write_metadata(wb_run *run)
{
    WandbInternal__EnvironmentRecord env = WANDB_INTERNAL__ENVIRONMENT_RECORD__INIT;
    WandbInternal__Timestamp ts = WANDB_INTERNAL__TIMESTAMP__INIT;
    WandbInternal__GitRepoRecord git = WANDB_INTERNAL__GIT_REPO_RECORD__INIT;
    WandbInternal__MemoryInfo mem = WANDB_INTERNAL__MEMORY_INFO__INIT;
    char iso[RLU_NUM_MAX];
    wb_arena a = {0};
    rlu_buf b = {0};
    const char *key;
    size_t i, len;
    int status, first = 1;

    if ((status = env_fill(run, &a, &env, &ts, &git, &mem)) != 0) {
        wb_arena_free(&a);
        return status;
    }
    rlu_puts(&b, "{");
    json_member_str(&b, "os", env.os, &first);
    rlu_fmt_iso(iso, run->start);
    json_member_str(&b, "startedAt", iso, &first);
    if (env.n_args) {
        rlu_puts(&b, ",\n  \"args\": [");
        for (i = 0; i < env.n_args; i++) {
            rlu_puts(&b, i ? ", " : "");
            rlu_json_str(rlu_sink_buf, &b, env.args[i], strlen(env.args[i]), RLU_JSON_YAML_SAFE);
        }
        rlu_puts(&b, "]");
    }
    json_member_str(&b, "program", env.program, &first);
    if (env.git) {
        rlu_puts(&b, ",\n  \"git\": {");
        int gfirst = 1;
        if (*git.remote_url) {
            rlu_puts(&b, "\"remote\": ");
            rlu_json_str(rlu_sink_buf, &b, git.remote_url, strlen(git.remote_url), RLU_JSON_YAML_SAFE);
            gfirst = 0;
        }
        if (*git.commit) {
            rlu_puts(&b, gfirst ? "\"commit\": " : ", \"commit\": ");
            rlu_json_str(rlu_sink_buf, &b, git.commit, strlen(git.commit), RLU_JSON_YAML_SAFE);
        }
        rlu_puts(&b, "}");
    }
    json_member_str(&b, "root", env.root, &first);
    json_member_str(&b, "host", env.host, &first);
    json_member_str(&b, "username", env.username, &first);
    json_member_str(&b, "executable", env.executable, &first);
    if (env.cpu_count_logical)
        rlu_printf(&b, ",\n  \"cpu_count_logical\": %" PRIu32, env.cpu_count_logical);
    json_member_str(&b, "gpu", env.gpu_type, &first);
    if (env.gpu_count)
        rlu_printf(&b, ",\n  \"gpu_count\": %" PRIu32, env.gpu_count);
    if (env.n_disk) {
        rlu_puts(&b, ",\n  \"disk\": {");
        rlu_json_str(rlu_sink_buf, &b, env.disk[0]->key, strlen(env.disk[0]->key), RLU_JSON_YAML_SAFE);
        rlu_printf(&b, ": {\"total\": \"%" PRIu64 "\"", env.disk[0]->value->total);
        if (env.disk[0]->value->used) /* protojson leaves out a zero */
            rlu_printf(&b, ", \"used\": \"%" PRIu64 "\"", env.disk[0]->value->used);
        rlu_puts(&b, "}}");
    }
    if (env.memory)
        rlu_printf(&b, ",\n  \"memory\": {\"total\": \"%" PRIu64 "\"}", mem.total);
    json_member_str(&b, "writerId", env.writer_id, &first);
    rlu_printf(&b, ",\n  \"state\": \"%s\",\n  \"exitcode\": %d,\n  \"runlog\": {",
               run->state, run->exit_code);
    for (i = 0; i < runlog_value_count(run->metadata); i++) {
        key = runlog_value_key(run->metadata, i, &len);
        rlu_puts(&b, i ? ", " : "");
        rlu_json_str(rlu_sink_buf, &b, key, len, RLU_JSON_YAML_SAFE);
        rlu_puts(&b, ": ");
        wb_json_value(&b, runlog_value_item(run->metadata, i), WB_JSON);
    }
    rlu_puts(&b, "}\n}\n");
    status = b.oom ? oom(run->stage)
                   : wb_write_file(run->stage_fd, "files/wandb-metadata.json", b.p, b.len,
                                   "wandb-metadata.json");
    rlu_buf_free(&b);
    wb_arena_free(&a);
    return status;
}

/* The EnvironmentRecord, after the run record as W&B's SDK sends it. */
static int emit_environment(wb_run *run)
{
    WandbInternal__Record rec = WANDB_INTERNAL__RECORD__INIT;
    WandbInternal__EnvironmentRecord env = WANDB_INTERNAL__ENVIRONMENT_RECORD__INIT;
    WandbInternal__Timestamp ts = WANDB_INTERNAL__TIMESTAMP__INIT;
    WandbInternal__GitRepoRecord git = WANDB_INTERNAL__GIT_REPO_RECORD__INIT;
    WandbInternal__MemoryInfo mem = WANDB_INTERNAL__MEMORY_INFO__INIT;
    wb_arena a = {0};
    int status = wb_client_id(run->writer_id);

    if (status == 0)
        status = env_fill(run, &a, &env, &ts, &git, &mem);
    if (status == 0) {
        R(&rec, environment, ENVIRONMENT, &env);
        status = emit(run, &rec);
    }
    wb_arena_free(&a);
    return status;
}

static int emit_exit(wb_run *run)
{
    WandbInternal__Record rec = WANDB_INTERNAL__RECORD__INIT;
    WandbInternal__RunExitRecord ex = WANDB_INTERNAL__RUN_EXIT_RECORD__INIT;
    WandbInternal__FinalRecord fin = WANDB_INTERNAL__FINAL_RECORD__INIT;
    int64_t secs = runtime_seconds(run);

    ex.exit_code = run->exit_code;
    ex.runtime = secs > INT32_MAX ? INT32_MAX : (int32_t)secs; /* int32 in W&B's schema */
    int rc;

    R(&rec, exit, EXIT, &ex);
    if ((rc = emit(run, &rec)) < 0)
        return rc;
    rec = (WandbInternal__Record)WANDB_INTERNAL__RECORD__INIT;
    R(&rec, final, FINAL, &fin);
    return emit(run, &rec);
}

/* ---- one run ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* Identity, times, state and merged values of run ri of the set. */
static void run_facts(wb_run *run)
{
    const char *id = runlog_runset_run_id(run->set, run->ri);

    wb_safe_name(run->id, 128, id, 1);
    if (strcmp(run->id, id) != 0)
        rx_notice(run->x, RUNLOG_NOTICE_WARNING,
                  "run id '%s' exported as '%s' (W&B's characters: A-Z a-z 0-9 _ . -)", id,
                  run->id);
    run->start = runlog_runset_start_time(run->set, run->ri);
    run->end = runlog_runset_end_time(run->set, run->ri);
    switch (runlog_runset_state(run->set, run->ri)) {
    case RUNLOG_STATE_FINISHED: run->exit_code = 0, run->state = "finished"; break;
    case RUNLOG_STATE_FAILED:
        run->exit_code = runlog_runset_exit_code(run->set, run->ri), run->state = "failed";
        if (run->exit_code == 0)
            run->exit_code = 1;
        break;
    case RUNLOG_STATE_RUNNING:
        rx_notice(run->x, RUNLOG_NOTICE_WARNING,
                  "%s: a writer still holds the run; exported as it stands now, as failed",
                  runlog_runset_file_path(run->set, run->ri, run->n_files - 1));
        /* fall through */
    default: run->exit_code = 1, run->state = "failed"; break; /* crashed: as W&B marks it */
    }
    run->config = runlog_runset_config(run->set, run->ri);
    run->summary = runlog_runset_summary(run->set, run->ri);
    run->metadata = runlog_runset_metadata(run->set, run->ri);
}

/* DIR/.tmp-<id>-XXXXXX (with files/, logs/, tmp/) and the final path. The
 * stage is mkdtemp()'s: a new folder under a random name, 0700 until it is
 * renamed into place, so nothing can be planted in it while we write. */
static int make_stage(wb_run *run, const char *absdir)
{
    char when[32];
    time_t secs = (time_t)(run->start / 1000000000 - (run->start % 1000000000 < 0));
    struct tm tm;
    struct stat st;

    if (!gmtime_r(&secs, &tm) || !strftime(when, sizeof when, "%Y%m%d_%H%M%S", &tm))
        snprintf(when, sizeof when, "%" PRId64, run->start); /* a year past int */
    if (asprintf(&run->final, "%s/offline-run-%s-%s", absdir, when, run->id) < 0 ||
        asprintf(&run->stage, "%s/.tmp-%s-XXXXXX", absdir, run->id) < 0)
        return oom(absdir);
    if (lstat(run->final, &st) == 0)
        return runlog_error_set(RUNLOG_ESTATE,
                                "%s: already exists; remove it to export the run again",
                                run->final);
    if (!mkdtemp(run->stage)) {
        int rc = rx_sys_error(run->stage);
        free(run->stage);
        run->stage = NULL; /* not ours: never removed */
        return rc;
    }
    if ((run->stage_fd = open(run->stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
        mkdirat(run->stage_fd, "files", 0777) < 0 || mkdirat(run->stage_fd, "logs", 0777) < 0 ||
        mkdirat(run->stage_fd, "tmp", 0777) < 0)
        return rx_sys_error(run->stage);
    return 0;
}

static int export_body(wb_run *run)
{
    static char *first_files[] = {"wandb-metadata.json", "requirements.txt"};
    static char *end_files[] = {"config.yaml", "output.log", "wandb-summary.json"};
    char path[PATH_MAX];
    size_t i;
    int status;

    snprintf(path, sizeof path, "%s/run-%s.wandb", run->stage, run->id);
    if (wb_log_open(&run->log, path) < 0)
        return rx_sys_error(path);
    if ((run->out_fd = wb_create_file(run->stage_fd, "files/output.log")) < 0)
        return rx_sys_error("output.log");
    if ((status = wb_write_file(run->stage_fd, "files/requirements.txt", "", 0, "requirements.txt")) != 0 ||
        (status = emit_header(run)) != 0 || (status = emit_run(run)) != 0 ||
        (status = emit_environment(run)) != 0 ||
        (status = emit_files(run, first_files, 2, WANDB_INTERNAL__FILES_ITEM__POLICY_TYPE__NOW,
                             WANDB_INTERNAL__FILES_ITEM__FILE_TYPE__WANDB)) != 0)
        return status;
    for (i = 0; i < run->n_files && status == 0; i++)
        status = export_file(run, i);
    if (status == 0 && close(run->out_fd) < 0)
        status = rx_sys_error("output.log");
    run->out_fd = -1;
    if (status == 0 && (status = emit_summary(run)) == 0 &&
        (status = write_config_yaml(run)) == 0 && (status = write_metadata(run)) == 0 &&
        (status = emit_files(run, end_files, 3, WANDB_INTERNAL__FILES_ITEM__POLICY_TYPE__END,
                             WANDB_INTERNAL__FILES_ITEM__FILE_TYPE__WANDB)) == 0)
        status = emit_exit(run);
    if (wb_log_close(&run->log) < 0 && status == 0)
        status = rx_sys_error(path);
    return status;
}

static int export_run(rx_ctx *x, runlog_runset *set, size_t ri, const char *absdir)
{
    wb_run run;
    struct stat st;
    int status, dfd;

    memset(&run, 0, sizeof run);
    run.x = x, run.set = set, run.ri = ri, run.stage_fd = -1, run.out_fd = -1;
    run.n_files = runlog_runset_file_count(set, ri);
    run.media.x = x;
    run_facts(&run);
    if ((status = make_stage(&run, absdir)) == 0) {
        run.media.stage_fd = run.stage_fd;
        run.media.stage = run.stage;
        run.media.run_id = run.id;
        run.media.final_dir = run.final;
        run.media.emit_artifact = emit_table_artifact;
        run.media.ctx = &run;
        status = export_body(&run);
    }
    if (run.out_fd >= 0)
        close(run.out_fd);
    if (run.log.f)
        wb_log_close(&run.log);
    if (status == 0) { /* mkdtemp made it 0700: the mode a plain mkdir would give */
        mode_t mask = umask(0);
        umask(mask);
        if (fchmod(run.stage_fd, 0777 & ~mask) < 0)
            status = rx_sys_error(run.stage);
    }
    if (status == 0 && rename(run.stage, run.final) < 0)
        status = rx_sys_error(run.final);
    if (status == 0 && (dfd = open(absdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
        fsync(dfd), close(dfd);
    if (status != 0 && run.stage && lstat(run.stage, &st) == 0)
        nftw(run.stage, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (status == 0)
        rx_notice(x, RUNLOG_NOTICE_OUTPUT,
                  "%s: %" PRIu64 " records, %" PRIu64 " bytes in run-%s.wandb, %" PRIu64
                  " images, %" PRIu64 " tables, state %s",
                  run.final, run.log.records, run.log.off, run.id, run.media.images,
                  run.media.tables, run.state);
    if (run.stage_fd >= 0)
        close(run.stage_fd);
    for (size_t i = 0; i < run.media.n_new; i++)
        free(run.media.new_files[i]);
    free(run.media.new_files);
    last_free(&run.last);
    free(run.stage);
    free(run.final);
    return status;
}

/* ---- rx_export_wandb() ---- */

/* mkdir -p DIR, then its absolute path (local_path of artifact entries). */
static int abs_dir(char **out, const char *dir)
{
    char *p = strdup(dir), *s;

    if (!p)
        return oom(dir);
    for (s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0777);
            *s = '/';
        }
    mkdir(p, 0777);
    free(p);
    if (!(*out = realpath(dir, NULL)))
        return rx_sys_error(dir);
    return 0;
}

/* A failed run does not stop the others (each run's directory is whole or
 * absent). The last failure is what the call returns; an earlier one is
 * given as a warning when the next one comes, so that every failure is
 * said once, in order. */
typedef struct wb_failure {
    int code;
    char detail[1024];
} wb_failure;

static void failure_keep(rx_ctx *x, wb_failure *f, int code)
{
    wb_failure now;

    now.code = code;
    snprintf(now.detail, sizeof now.detail, "%s",
             runlog_error_detail()[0] ? runlog_error_detail() : runlog_strerror(code));
    if (f->code)
        rx_notice(x, RUNLOG_NOTICE_WARNING, "%s", f->detail);
    *f = now;
}

int rx_export_wandb(rx_ctx *x)
{
    runlog_runset_options so = RUNLOG_RUNSET_OPTIONS_INIT;
    runlog_runset *set = NULL;
    wb_failure fail = {0};
    char *absdir = NULL;
    size_t i, j, n, runs;
    int rc;

    /* Every file opened and read once, grouped and checked before anything
     * is written: a refused input (per-rank files sharing one id) leaves
     * nothing in DIR. */
    so.flags = rx_read_flags(x);
    if ((rc = runlog_runset_open(&set, x->inputs, x->n, &so)) < 0)
        return rc;
    for (i = 0; i < runlog_runset_duplicate_count(set); i++)
        rx_notice(x, RUNLOG_NOTICE_WARNING, "%s: the same file as %s (file UUID); exported once",
                  runlog_runset_duplicate_path(set, i), runlog_runset_duplicate_of(set, i));
    if ((rc = abs_dir(&absdir, x->out)) < 0) {
        runlog_runset_free(set);
        return rc;
    }
    runs = runlog_runset_run_count(set);
    for (i = 0; i < runs; i++) {
        n = runlog_runset_file_count(set, i);
        for (j = 0; n > 1 && j < n; j++)
            rx_notice(x, RUNLOG_NOTICE_WARNING, "%s: part %zu of run %s",
                      runlog_runset_file_path(set, i, j), j + 1, runlog_runset_run_id(set, i));
        if ((rc = export_run(x, set, i, absdir)) < 0)
            failure_keep(x, &fail, rc);
        rx_progress(x, i + 1, runs);
    }
    /* exported, but was damage skipped? (spec/EXPORTS.md §1.5) Every file
     * read, each once (a dropped duplicate was read no further than its
     * header). */
    for (i = 0; !fail.code && rx_tolerant(x) && i < runs; i++)
        for (j = 0; !fail.code && j < runlog_runset_file_count(set, i); j++) {
            const char *path = runlog_runset_file_path(set, i, j);
            if ((rc = rx_report_damage(x, path)) < 0)
                failure_keep(x, &fail, rx_lib_error(path, rc));
        }
    runlog_runset_free(set);
    free(absdir);
    if (fail.code)
        return runlog_error_set(fail.code, "%s", fail.detail);
    return 0;
}
