/*
 * util.c — helpers shared by the subcommands (see util.h).
 */
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Errors                                                               */
/* ------------------------------------------------------------------ */

int tool_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    const tool_cmd *c = tool_find(cmd);

    fprintf(stderr, "runlog %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (c)
        fprintf(stderr, "usage: %s\nTry 'runlog help %s'.\n", c->usage, cmd);
    return TOOL_USAGE;
}

int tool_bad_option(const char *cmd, char **argv, int c)
{
    /* getopt_long() leaves the offending word just before optind. */
    const char *word = optind > 0 ? argv[optind - 1] : "?";

    if (c == ':')
        return tool_usage(cmd, "option '%s' needs a value", word);
    return tool_usage(cmd, "unknown option '%s'", word);
}

int tool_no_options(int argc, char **argv)
{
    static const struct option longopts[] = {{NULL, 0, NULL, 0}};
    int c;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1)
        return tool_bad_option(argv[0], argv, c);
    return TOOL_OK;
}

int tool_strict_option(int argc, char **argv, int *strict)
{
    static const struct option longopts[] = {{"strict", no_argument, NULL, 'S'},
                                             {NULL, 0, NULL, 0}};
    int c;

    *strict = 0;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (c != 'S')
            return tool_bad_option(argv[0], argv, c);
        *strict = 1;
    }
    return TOOL_OK;
}

int tool_lib_error(const char *file, int code)
{
    const char *detail = runlog_error_detail();
    size_t n = strlen(file);

    if (!detail[0])
        detail = runlog_strerror(code);
    /* The library's detail usually names the file already; don't say it twice. */
    if (strncmp(detail, file, n) == 0 && detail[n] == ':')
        fprintf(stderr, "runlog: %s\n", detail);
    else
        fprintf(stderr, "runlog: %s: %s\n", file, detail);
    return TOOL_FAIL;
}

int tool_sys_error(const char *file)
{
    fprintf(stderr, "runlog: %s: %s\n", file, strerror(errno));
    return TOOL_FAIL;
}

int tool_parse_int(const char *s, int *out)
{
    char *end;
    long v;

    if (!*s || (*s != '-' && *s != '+' && (*s < '0' || *s > '9')))
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < -2147483647L - 1 || v > 2147483647L)
        return -1;
    *out = (int)v;
    return 0;
}

int tool_open_reader(runlog_reader **out, const char *path, unsigned flags)
{
    runlog_reader_options ro = RUNLOG_READER_OPTIONS_INIT;
    int rc;

    ro.flags = flags;
    rc = runlog_reader_open(out, path, &ro);
    if (rc < 0)
        return tool_lib_error(path, rc);
    return TOOL_OK;
}

int tool_warn_damage(const char *path)
{
    runlog_report *rep;
    int rc = runlog_verify(&rep, path), status = TOOL_OK;
    size_t i;

    if (rc < 0)
        return tool_lib_error(path, rc);
    for (i = 0; i < runlog_report_damage_count(rep); i++) {
        runlog_damage_kind kind;
        uint64_t off, len;
        const char *what;

        if (runlog_report_damage(rep, i, &kind, &off, &len, &what) < 0)
            continue;
        fprintf(stderr, "runlog: %s: byte %" PRIu64 ": %s, %" PRIu64 " bytes skipped (%s)\n",
                path, off, rlu_damage_name(kind, 0), len, what ? what : "");
        if (kind != RUNLOG_DAMAGE_TORN_TAIL)
            status = TOOL_FAIL;
    }
    runlog_report_free(rep);
    return status;
}


int tool_check_output(const char *out, const char *const *inputs, size_t n)
{
    int to_stdout = !out || strcmp(out, "-") == 0;
    int i = rlu_same_file_index(to_stdout ? NULL : out, STDOUT_FILENO, inputs, n);

    if (i < 0)
        return TOOL_OK;
    fprintf(stderr, "runlog: %s: is the input %s (the same file); refusing to write over it\n",
            to_stdout ? "stdout" : out, inputs[i]);
    return TOOL_FAIL;
}

/* ------------------------------------------------------------------ */
/* Converters                                                           */
/* ------------------------------------------------------------------ */

typedef struct export_ui {
    const char *cmd;
    int bar;          /* stderr is a terminal: draw the progress bar */
    int drawn;        /* a bar is on the screen */
    FILE *output_to;  /* where RUNLOG_NOTICE_OUTPUT lines go */
    char warned[1024]; /* the last RUNLOG_NOTICE_WARNING printed */
} export_ui;

static void ui_clear(export_ui *ui)
{
    if (ui->drawn) {
        fprintf(stderr, "\r%70s\r", "");
        ui->drawn = 0;
    }
}

static void ui_notice(void *payload, runlog_notice_kind kind, const char *text)
{
    export_ui *ui = payload;

    ui_clear(ui);
    if (kind == RUNLOG_NOTICE_OUTPUT)
        fprintf(ui->output_to, "%s\n", text);
    else
        fprintf(stderr, "runlog: %s\n", text);
    if (kind == RUNLOG_NOTICE_WARNING)
        snprintf(ui->warned, sizeof ui->warned, "%s", text);
}

static void ui_progress(void *payload, uint64_t done, uint64_t total)
{
    export_ui *ui = payload;
    char bar[31];
    uint64_t fill;
    size_t i;

    if (!ui->bar || total == 0)
        return;
    if (done > total)
        done = total;
    fill = done * 30 / total;
    for (i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : ' ';
    bar[30] = '\0';
    fprintf(stderr, "\r%s: [%s] %3u%%", ui->cmd, bar, (unsigned)(done * 100 / total));
    fflush(stderr);
    ui->drawn = 1;
}

int tool_export(const char *cmd, const char *const *inputs, size_t n, const char *out,
                runlog_export_options *opts)
{
    export_ui ui = {cmd, isatty(2), 0, stdout, ""};
    const char *detail;
    int rc;

    if (!out && opts->out_fd == 1)
        ui.output_to = stderr;
    opts->notice = ui_notice;
    opts->progress = ui_progress;
    opts->payload = &ui;
    rc = runlog_export(inputs, n, out, opts);
    ui_clear(&ui);
    if (rc == 0)
        return TOOL_OK;
    if (rc == RUNLOG_EDAMAGED)
        return TOOL_FAIL;
    detail = runlog_error_detail()[0] ? runlog_error_detail() : runlog_strerror(rc);
    /* A failure that is the warning just printed (`history` of a key that
     * never appears) is not printed twice. */
    if (strcmp(detail, ui.warned) != 0)
        fprintf(stderr, "runlog: %s\n", detail);
    return TOOL_FAIL;
}
