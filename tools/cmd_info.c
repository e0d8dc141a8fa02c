/*
 * cmd_info.c — `runlog info FILE [--json]`: what a run-log holds and how
 * healthy it is (spec/EXPORTS.md "info").
 */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "media.h"
#include "util.h"

/* Record types 1..9 of runlog.h, for the per-type counts. */
#define INFO_TYPES RUNLOG_RECORD_ALIAS /* every record type the API names */
/* Keys listed by name in the text output; the rest are counted. */
#define INFO_KEYS_SHOWN 32

static void text_line(const char *label, const char *value)
{
    printf("%-12s %s\n", label, value && value[0] ? value : "-");
}

static void text_identity(const runlog_run *run)
{
    static const char *const keys[] = {"id", "project", "name", "group", "job_type", "notes"};
    static const char *const labels[] = {"id", "project", "name", "group", "job type", "notes"};
    const runlog_value *ident = runlog_run_identity(run);
    const runlog_value *tags = ident ? runlog_value_get(ident, "tags") : NULL;
    size_t i, n = tags ? runlog_value_count(tags) : 0;

    for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
        text_line(labels[i], rlu_map_str(ident, keys[i], NULL));
    printf("%-12s ", "tags");
    for (i = 0; i < n; i++) {
        const char *t = runlog_value_string(runlog_value_item(tags, i), NULL);
        printf("%s%s", i ? ", " : "", t ? t : "?");
    }
    puts(n ? "" : "-");
}

static void text_state(const runlog_run *run)
{
    runlog_state st = runlog_run_state(run);
    char buf[RLU_NUM_MAX];
    int64_t start;

    text_line("state", runlog_state_name(st));
    if (st == RUNLOG_STATE_FINISHED || st == RUNLOG_STATE_FAILED)
        printf("%-12s %d\n", "exit code", runlog_run_exit_code(run));
    else
        text_line("exit code", NULL);
    if (rlu_map_int(runlog_run_identity(run), "start_time", &start)) {
        rlu_fmt_iso(buf, start);
        text_line("started", buf);
    } else {
        text_line("started", NULL);
    }
    rlu_fmt_iso(buf, runlog_run_end_time(run));
    text_line(st == RUNLOG_STATE_FINISHED || st == RUNLOG_STATE_FAILED ? "ended" : "last record",
              buf);
}

static void text_contents(const runlog_run *run)
{
    size_t i, nkeys = runlog_run_key_count(run);
    int t, any = 0;

    printf("%-12s %" PRIu64 "\n", "rows", runlog_run_rows(run));
    if (runlog_run_rows(run) > 0)
        printf("%-12s %" PRIu64 "\n", "last step", runlog_run_last_step(run));
    else
        text_line("last step", NULL);
    printf("%-12s %" PRIu64 "\n", "resumes", runlog_run_resumes(run));
    printf("%-12s %zu", "keys", nkeys);
    for (i = 0; i < nkeys && i < INFO_KEYS_SHOWN; i++)
        printf("%s%s", i ? ", " : ": ", runlog_run_key(run, i));
    if (nkeys > INFO_KEYS_SHOWN)
        printf(", ... (%zu more)", nkeys - INFO_KEYS_SHOWN);
    printf("\n%-12s ", "records");
    for (t = 1; t <= INFO_TYPES; t++) {
        uint64_t n = runlog_run_record_count(run, t);
        if (n)
            printf("%s%s %" PRIu64, any++ ? ", " : "", runlog_record_type_name(t), n);
    }
    puts(any ? "" : "-");
}

static void text_report(const runlog_report *rep)
{
    uint64_t raw = runlog_report_raw_bytes(rep), stored = runlog_report_stored_bytes(rep);
    size_t i, n = runlog_report_damage_count(rep);

    printf("%-12s %" PRIu64 " bytes\n", "file size", runlog_report_file_size(rep));
    printf("%-12s %" PRIu64 " intact, %" PRIu64 " records, trailer: %s\n", "frames",
           runlog_report_frames(rep), runlog_report_records(rep),
           runlog_report_has_trailer(rep) ? "yes" : "no");
    printf("%-12s %" PRIu64 " bytes raw, %" PRIu64 " stored", "payload", raw, stored);
    if (stored)
        printf(", ratio %.2f", (double)raw / (double)stored);
    putchar('\n');
    if (n == 0)
        text_line("damage", "none");
    for (i = 0; i < n; i++) {
        runlog_damage_kind kind;
        uint64_t off, len;
        const char *what;

        if (runlog_report_damage(rep, i, &kind, &off, &len, &what) < 0)
            continue;
        printf("%-12s byte %" PRIu64 ", %" PRIu64 " bytes: %s (%s)\n", i ? "" : "damage", off,
               len, rlu_damage_name(kind, 0), what ? what : "");
    }
}

static void json_contents(rlu_json *j, const runlog_run *run)
{
    size_t i;
    int t;

    tj_key(j, "keys");
    tj_arr(j);
    for (i = 0; i < runlog_run_key_count(run); i++)
        tj_str(j, runlog_run_key(run, i));
    tj_arr_end(j);
    tj_key(j, "records");
    tj_obj(j);
    for (t = 1; t <= INFO_TYPES; t++) {
        tj_key(j, runlog_record_type_name(t));
        tj_uint(j, runlog_run_record_count(run, t));
    }
    tj_obj_end(j);
}

static void json_report(rlu_json *j, const runlog_report *rep)
{
    uint64_t raw = runlog_report_raw_bytes(rep), stored = runlog_report_stored_bytes(rep);
    size_t i;

    tj_key(j, "file_size");
    tj_uint(j, runlog_report_file_size(rep));
    tj_key(j, "frames");
    tj_uint(j, runlog_report_frames(rep));
    tj_key(j, "frame_records");
    tj_uint(j, runlog_report_records(rep));
    tj_key(j, "raw_bytes");
    tj_uint(j, raw);
    tj_key(j, "stored_bytes");
    tj_uint(j, stored);
    tj_key(j, "compression_ratio");
    if (stored)
        tj_double(j, (double)raw / (double)stored);
    else
        tj_null(j);
    tj_key(j, "has_trailer");
    tj_bool(j, runlog_report_has_trailer(rep));
    tj_key(j, "intact");
    tj_bool(j, runlog_report_intact(rep));
    tj_key(j, "damage");
    tj_arr(j);
    for (i = 0; i < runlog_report_damage_count(rep); i++) {
        runlog_damage_kind kind;
        uint64_t off, len;
        const char *what;

        if (runlog_report_damage(rep, i, &kind, &off, &len, &what) < 0)
            continue;
        tj_obj(j);
        tj_key(j, "kind");
        tj_str(j, rlu_damage_name(kind, 1));
        tj_key(j, "offset");
        tj_uint(j, off);
        tj_key(j, "length");
        tj_uint(j, len);
        tj_key(j, "what");
        tj_str(j, what ? what : "");
        tj_obj_end(j);
    }
    tj_arr_end(j);
}

/* ---- media: artifacts, tables, images (spec/EXPORTS.md "info") ---- */

/* Counts the tables and images of the history rows (a pass of
 * runlog_reader_next(), independent of runlog_reader_run()). */
static int count_media(runlog_reader *r, media_counts *c)
{
    const runlog_record *rec;
    int rc;

    memset(c, 0, sizeof *c);
    while ((rc = runlog_reader_next(r, &rec)) == 0)
        if (runlog_record_type_of(rec) == RUNLOG_RECORD_HISTORY)
            media_count_row(c, rec);
    return rc == RUNLOG_ITEROVER ? 0 : rc;
}

static void text_aliases(const runlog_value *art)
{
    const runlog_value *list = runlog_value_get(art, "aliases");
    size_t i, n = list ? runlog_value_count(list) : 0;
    const char *s;

    for (i = 0; i < n; i++)
        if ((s = runlog_value_string(runlog_value_item(list, i), NULL)))
            printf("%s%s", i ? ", " : " aliases: ", s);
}

/* Printed only when the run holds media, so that other runs read as before. */
static void text_media(const runlog_run *run, const media_counts *c)
{
    const runlog_value *arts = runlog_run_artifacts(run), *a;
    size_t i, n = arts ? runlog_value_count(arts) : 0;
    int64_t version, size;
    const char *name, *type;

    if (n)
        printf("%-12s %zu version%s\n", "artifacts", n, n == 1 ? "" : "s");
    for (i = 0; i < n; i++) {
        a = runlog_value_item(arts, i);
        name = rlu_map_str(a, "name", NULL);
        type = rlu_map_str(a, "type", NULL);
        version = size = 0;
        rlu_map_int(a, "version", &version);
        rlu_map_int(a, "size", &size);
        printf("%-12s %s:v%" PRId64 " (%s, %" PRId64 " bytes, %zu files)", "", name ? name : "?",
               version, type ? type : "?", size,
               runlog_value_count(runlog_value_get(a, "entries")));
        text_aliases(a);
        putchar('\n');
    }
    if (c->tables)
        printf("%-12s %" PRIu64 "\n", "tables", c->tables);
    if (c->images || c->table_images)
        printf("%-12s %" PRIu64 " in rows, %" PRIu64 " in table cells\n", "images", c->images,
               c->table_images);
}

/* "artifacts": [{name, version, type, aliases, size, files}], "tables": N,
 * "images": N, "table_images": N */
static void json_media(rlu_json *j, const runlog_run *run, const media_counts *c)
{
    const runlog_value *arts = runlog_run_artifacts(run), *a, *v;
    size_t i, n = arts ? runlog_value_count(arts) : 0;
    static const char *const keys[] = {"name", "version", "type", "aliases", "size"};
    size_t k;

    tj_key(j, "artifacts");
    tj_arr(j);
    for (i = 0; i < n; i++) {
        a = runlog_value_item(arts, i);
        tj_obj(j);
        for (k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            tj_key(j, keys[k]);
            if ((v = runlog_value_get(a, keys[k])) == NULL || tj_value(j, v) < 0)
                tj_null(j);
        }
        tj_key(j, "files");
        tj_uint(j, runlog_value_count(runlog_value_get(a, "entries")));
        tj_obj_end(j);
    }
    tj_arr_end(j);
    tj_key(j, "tables");
    tj_uint(j, c->tables);
    tj_key(j, "images");
    tj_uint(j, c->images);
    tj_key(j, "table_images");
    tj_uint(j, c->table_images);
}

/* ---- live capture: metadata and system samples (spec/EXPORTS.md "info") ---- */

/* "sh -c 'x'": the command line, words joined by spaces, cut for the screen. */
static void text_argv(const runlog_value *argv)
{
    size_t i, n = runlog_value_count(argv), used = 0;

    printf("%-12s ", "command");
    for (i = 0; i < n && used < 200; i++) {
        const char *a = runlog_value_string(runlog_value_item(argv, i), NULL);
        used += (size_t)printf("%s%.*s", i ? " " : "", (int)(200 - used), a ? a : "?");
    }
    puts(used >= 200 ? " ..." : "");
}

/* Printed only when the run holds metadata or system samples, so that other
 * runs read as before. */
static void text_capture(const runlog_run *run)
{
    const runlog_value *m = runlog_run_metadata(run), *git, *batch, *argv;
    uint64_t samples = runlog_run_record_count(run, RUNLOG_RECORD_SYSTEM);
    const char *s;

    if (m && (s = rlu_map_str(m, "host", NULL)) != NULL) {
        const char *kernel = rlu_map_str(m, "kernel", NULL), *user = rlu_map_str(m, "user", NULL);
        printf("%-12s %s%s%s%s\n", "host", s, user ? " (user " : "", user ? user : "",
               user ? ")" : "");
        if (kernel)
            text_line("kernel", kernel);
    }
    if (m && (argv = runlog_value_get(m, "argv")) != NULL && runlog_value_count(argv) > 0)
        text_argv(argv);
    if (m && (git = runlog_value_get(m, "git")) != NULL && (s = rlu_map_str(git, "commit", NULL))) {
        const runlog_value *dirty = runlog_value_get(git, "dirty");
        const char *branch = rlu_map_str(git, "branch", NULL);
        printf("%-12s %.12s%s%s%s\n", "git", s, branch ? " on " : "", branch ? branch : "",
               dirty && runlog_value_bool(dirty) ? " (dirty)" : "");
    }
    if (m && (batch = runlog_value_get(m, "batch")) != NULL)
        printf("%-12s %s job %s\n", "batch", rlu_map_str(batch, "system", NULL),
               (s = rlu_map_str(batch, "job_id", NULL)) ? s : "?");
    if (m && (s = rlu_map_str(m, "exit_signal", NULL)) != NULL)
        text_line("killed by", s);
    if (samples > 0)
        printf("%-12s %" PRIu64 " samples\n", "system", samples);
}

/* "metadata": the merged metadata ({} if none); "system_samples": a count. */
static int json_capture(rlu_json *j, const runlog_run *run)
{
    const runlog_value *m = runlog_run_metadata(run);

    tj_key(j, "metadata");
    if (m) {
        if (tj_value(j, m) < 0)
            return -1;
    } else {
        tj_obj(j);
        tj_obj_end(j);
    }
    tj_key(j, "system_samples");
    tj_uint(j, runlog_run_record_count(run, RUNLOG_RECORD_SYSTEM));
    return 0;
}

static int print_json(const char *path, const runlog_run *run, const runlog_report *rep,
                      const media_counts *c)
{
    rlu_json j;

    tj_init(&j, stdout);
    tj_obj(&j);
    tj_key(&j, "file");
    tj_str(&j, path);
    tj_key(&j, "run");
    if (tj_run_object(&j, run) < 0)
        return tool_lib_error(path, RUNLOG_ENOMEM);
    json_contents(&j, run);
    json_media(&j, run, c);
    if (json_capture(&j, run) < 0)
        return tool_lib_error(path, RUNLOG_ENOMEM);
    json_report(&j, rep);
    tj_obj_end(&j);
    tj_newline(&j);
    return TOOL_OK;
}

int cmd_info(int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                             {NULL, 0, NULL, 0}};
    runlog_reader *r = NULL;
    runlog_report *rep = NULL;
    runlog_run *run = NULL;
    media_counts media;
    int c, rc, json = 0, status;
    const char *path;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (c != 'j')
            return tool_bad_option(argv[0], argv, c);
        json = 1;
    }
    if (argc - optind != 1)
        return tool_usage(argv[0], "expected one FILE");
    path = argv[optind];
    rc = runlog_verify(&rep, path);
    if (rc < 0)
        return tool_lib_error(path, rc);
    status = tool_open_reader(&r, path, RUNLOG_READ_TOLERANT);
    if (status == TOOL_OK && (rc = runlog_reader_run(&run, r)) < 0)
        status = tool_lib_error(path, rc);
    if (status == TOOL_OK && (rc = count_media(r, &media)) < 0)
        status = tool_lib_error(path, rc);
    if (status == TOOL_OK) {
        if (json) {
            status = print_json(path, run, rep, &media);
        } else {
            text_line("file", path);
            text_identity(run);
            text_state(run);
            text_contents(run);
            text_media(run, &media);
            text_capture(run);
            text_report(rep);
        }
        if (status == TOOL_OK && !runlog_report_intact(rep))
            status = TOOL_FAIL;
    }
    if (fflush(stdout) != 0)
        status = tool_sys_error("stdout");
    runlog_run_free(run);
    runlog_reader_close(r);
    runlog_report_free(rep);
    return status;
}
