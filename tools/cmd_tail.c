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
#include <string.h>
#include <time.h>

#include "util.h"

typedef struct tail_state {
    int line_open; /* the last console chunk did not end with a newline */
} tail_state;

static void start_line(tail_state *s)
{
    if (s->line_open)
        putchar('\n');
    s->line_open = 0;
}

static int tail_row(tail_state *s, const runlog_record *rec)
{
    size_t i, n = runlog_record_field_count(rec);
    int rc = 0;

    start_line(s);
    printf("step %" PRIu64 ":", runlog_record_step(rec));
    for (i = 0; i < n && rc == 0; i++) {
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
        start_line(s);
        printf("-- %s, exit code %" PRId64 " --\n", code ? "failed" : "finished", code);
        return 1;
    default:
        return 0;
    }
}

int cmd_tail(int argc, char **argv)
{
    static const struct option longopts[] = {{"follow", no_argument, NULL, 'f'},
                                             {NULL, 0, NULL, 0}};
    const struct timespec nap = {0, 100 * 1000 * 1000}; /* between polls of a live file */
    tail_state s = {0};
    const runlog_record *rec;
    runlog_reader *r;
    const char *path;
    int c, rc, follow = 0, status = TOOL_OK;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f", longopts, NULL)) != -1) {
        if (c != 'f')
            return tool_bad_option(argv[0], argv, c);
        follow = 1;
    }
    if (argc - optind != 1)
        return tool_usage(argv[0], "expected one FILE");
    path = argv[optind];
    if (tool_open_reader(&r, path, RUNLOG_READ_TOLERANT | (follow ? RUNLOG_READ_FOLLOW : 0)))
        return TOOL_FAIL;
    for (;;) {
        rc = runlog_reader_next(r, &rec);
        if (rc == RUNLOG_EAGAIN) {
            fflush(stdout);
            nanosleep(&nap, NULL);
            continue;
        }
        if (rc < 0)
            break;
        if (tail_record(&s, rec, &rc) && follow)
            break;
        if (rc < 0)
            break;
    }
    if (rc < 0 && rc != RUNLOG_ITEROVER)
        status = tool_lib_error(path, rc);
    start_line(&s);
    runlog_reader_close(r);
    if (fflush(stdout) != 0)
        status = tool_sys_error("stdout");
    /* A finished listing reports what it skipped; a followed file is live,
     * and its last frame may still be being written. */
    if (status == TOOL_OK && !follow)
        status = tool_warn_damage(path);
    return status;
}
