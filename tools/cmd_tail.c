/*
 * cmd_tail.c — `runlog tail [-f] FILE`: history rows, alerts and console
 * text for people (spec/EXPORTS.md "tail").
 *
 * Console bytes are copied unchanged (they are the program's own output);
 * rows and alerts are lines of their own, so a line break is inserted first
 * when console text left a line open.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

typedef struct tail_state {
    int line_open;       /* the last console chunk did not end with a newline */
    char **keys;         /* -k: the keys shown (NULL: all) */
    size_t nkeys;
    uint64_t skip_rows;  /* -n: rows (and what comes with them) not shown */
    int64_t exit_code;   /* of the finish record met */
} tail_state;

static int key_wanted(const tail_state *s, const char *key)
{
    if (!s->keys)
        return 1;
    for (size_t i = 0; i < s->nkeys; i++)
        if (strcmp(s->keys[i], key) == 0)
            return 1;
    return 0;
}

static void start_line(tail_state *s)
{
    if (s->line_open)
        putchar('\n');
    s->line_open = 0;
}

static int tail_row(tail_state *s, const runlog_record *rec)
{
    size_t i, n = runlog_record_field_count(rec), shown = 0;
    int rc = 0;

    for (i = 0; i < n; i++)
        shown += key_wanted(s, runlog_record_field_key(rec, i));
    if (shown == 0 && s->keys)
        return 0; /* -k: a row without the keys asked for is not shown */
    start_line(s);
    printf("step %" PRIu64 ":", runlog_record_step(rec));
    for (i = 0; i < n && rc == 0; i++) {
        if (!key_wanted(s, runlog_record_field_key(rec, i)))
            continue;
        printf(" %s=", runlog_record_field_key(rec, i));
        rc = plain_value(stdout, runlog_record_field_value(rec, i));
    }
    putchar('\n');
    return rc;
}

/* A malformed alert or console record is printed as what the library says
 * of it, on stderr, and the tail goes on. */
static void tail_malformed(tail_state *s)
{
    start_line(s);
    fflush(stdout);
    fprintf(stderr, "runlog: %s; record skipped\n", runlog_error_detail());
}

static void tail_alert(tail_state *s, const runlog_record *rec)
{
    const char *title, *text;
    size_t title_len, text_len;
    runlog_alert_level level;

    if (runlog_record_alert(rec, &title, &title_len, &text, &text_len, &level) < 0) {
        tail_malformed(s);
        return;
    }
    start_line(s);
    printf("alert [%s] %.*s: %.*s\n", runlog_alert_level_name(level), (int)title_len, title,
           (int)text_len, text);
}

static void tail_console(tail_state *s, const runlog_record *rec)
{
    runlog_stream stream;
    const void *data;
    size_t len;

    if (runlog_record_console(rec, &stream, &data, &len) < 0) {
        tail_malformed(s);
        return;
    }
    if (len == 0)
        return;
    fwrite(data, 1, len, stdout);
    s->line_open = ((const char *)data)[len - 1] != '\n';
}

/* Prints one record; 1 when it is the finish record. */
static int tail_record(tail_state *s, const runlog_record *rec, int *rc)
{
    int64_t code = 0;

    *rc = 0;
    if (s->skip_rows) {
        /* -n: everything before the first row shown is left out. */
        if (runlog_record_type_of(rec) == RUNLOG_RECORD_HISTORY)
            s->skip_rows--;
        return runlog_record_type_of(rec) == RUNLOG_RECORD_FINISH;
    }
    switch (runlog_record_type_of(rec)) {
    case RUNLOG_RECORD_HISTORY:
        *rc = tail_row(s, rec);
        return 0;
    case RUNLOG_RECORD_ALERT:
        tail_alert(s, rec);
        return 0;
    case RUNLOG_RECORD_CONSOLE:
        tail_console(s, rec);
        return 0;
    case RUNLOG_RECORD_RESUME:
        start_line(s);
        puts("-- resumed --");
        return 0;
    case RUNLOG_RECORD_FINISH:
        rlu_map_int(runlog_record_body(rec), "exit_code", &code);
        s->exit_code = code;
        start_line(s);
        printf("-- %s, exit code %" PRId64 " --\n", code ? "failed" : "finished", code);
        return 1;
    default:
        return 0;
    }
}

/* -n N: how many rows to leave out so that the last N are shown; the run's
 * row count comes from runlog_reader_run_summary(), which decodes no history. */
static int rows_to_skip(runlog_reader *r, const char *path, uint64_t last, uint64_t *out)
{
    runlog_run *run;
    int rc = runlog_reader_run_summary(&run, r);

    if (rc < 0)
        return tool_lib_error(path, rc);
    *out = runlog_run_rows(run) > last ? runlog_run_rows(run) - last : 0;
    runlog_run_free(run);
    return TOOL_OK;
}

int cmd_tail(int argc, char **argv)
{
    static const struct option longopts[] = {{"follow", no_argument, NULL, 'f'},
                                             {"lines", required_argument, NULL, 'n'},
                                             {"key", required_argument, NULL, 'k'},
                                             {"ignore-lock", no_argument, NULL, 'L'},
                                             {NULL, 0, NULL, 0}};
    const struct timespec nap = {0, 100 * 1000 * 1000}; /* between polls of a live file */
    tail_state s = {0};
    const runlog_record *rec;
    runlog_reader *r;
    const char *path;
    uint64_t last = 0;
    int c, rc, follow = 0, ignore_lock = 0, have_n = 0, finished = 0, crashed = 0, idle = 0;
    int status = TOOL_OK;

    optind = 0;
    opterr = 0;
    if (!(s.keys = calloc((size_t)argc + 1, sizeof *s.keys))) {
        fprintf(stderr, "runlog tail: out of memory\n");
        return TOOL_FAIL;
    }
    while ((c = getopt_long(argc, argv, ":fn:k:", longopts, NULL)) != -1) {
        if (c == 'f') {
            follow = 1;
        } else if (c == 'n') {
            if (rlu_parse_u64(optarg, &last) != 0) {
                free(s.keys);
                return tool_usage(argv[0], "-n: expected a number of rows, not '%s'", optarg);
            }
            have_n = 1;
        } else if (c == 'k') {
            s.keys[s.nkeys++] = optarg;
        } else if (c == 'L') {
            ignore_lock = 1;
        } else {
            free(s.keys);
            return tool_bad_option(argv[0], argv, c);
        }
    }
    if (!s.nkeys) {
        free(s.keys);
        s.keys = NULL;
    }
    if (argc - optind != 1) {
        free(s.keys);
        return tool_usage(argv[0], "expected one FILE");
    }
    path = argv[optind];
    if (tool_open_reader(&r, path, RUNLOG_READ_TOLERANT | (follow ? RUNLOG_READ_FOLLOW : 0))) {
        free(s.keys);
        return TOOL_FAIL;
    }
    if (have_n && rows_to_skip(r, path, last, &s.skip_rows) != TOOL_OK) {
        runlog_reader_close(r);
        free(s.keys);
        return TOOL_FAIL;
    }
    for (;;) {
        rc = runlog_reader_next(r, &rec);
        if (rc == RUNLOG_EAGAIN) {
            /* Nothing new. With no writer holding the file, read once more
             * (a writer that finished and closed since the last read left
             * its finish record), then it is a crash. */
            if (!ignore_lock && !runlog_reader_writer_alive(r)) {
                if (idle++) {
                    crashed = 1;
                    break;
                }
                continue;
            }
            idle = 0;
            fflush(stdout);
            nanosleep(&nap, NULL);
            continue;
        }
        idle = 0;
        if (rc < 0)
            break;
        if (tail_record(&s, rec, &rc) && follow) {
            finished = 1;
            break;
        }
        if (rc < 0)
            break;
    }
    if (rc < 0 && rc != RUNLOG_ITEROVER && rc != RUNLOG_EAGAIN)
        status = tool_lib_error(path, rc);
    start_line(&s);
    runlog_reader_close(r);
    free(s.keys);
    if (fflush(stdout) != 0)
        status = tool_sys_error("stdout");
    if (follow && status == TOOL_OK) {
        /* How the run ended, and an exit status a script can test. */
        if (finished && s.exit_code == 0) {
            fprintf(stderr, "runlog tail: %s: the run finished\n", path);
        } else if (finished) {
            fprintf(stderr, "runlog tail: %s: the run failed (exit code %" PRId64 ")\n", path, s.exit_code);
            status = TOOL_FAIL;
        } else if (crashed) {
            fprintf(stderr, "runlog tail: %s: the run crashed (no writer holds the file, and it has no finish record)\n",
                    path);
            status = TOOL_FAIL;
        }
    }
    /* A finished listing reports what it skipped; a followed file is live,
     * and its last frame may still be being written. */
    if (status == TOOL_OK && !follow)
        status = tool_warn_damage(path);
    return status;
}
