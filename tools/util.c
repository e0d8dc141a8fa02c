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

int tool_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
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

const char *tool_damage_name(runlog_damage_kind kind, int json)
{
    switch (kind) {
    case RUNLOG_DAMAGE_FRAME: return "frame";
    case RUNLOG_DAMAGE_GARBAGE: return "garbage";
    case RUNLOG_DAMAGE_TORN_TAIL: return json ? "torn_tail" : "torn tail";
    }
    return "unknown";
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
                path, off, tool_damage_name(kind, 0), len, what ? what : "");
        if (kind != RUNLOG_DAMAGE_TORN_TAIL)
            status = TOOL_FAIL;
    }
    runlog_report_free(rep);
    return status;
}

/* ------------------------------------------------------------------ */
/* Output files                                                         */
/* ------------------------------------------------------------------ */

int tool_out_is_input(const char *out, const char *const *inputs, size_t n)
{
    struct stat so, si;
    size_t i;
    int rc = !out || strcmp(out, "-") == 0 ? fstat(STDOUT_FILENO, &so) : stat(out, &so);

    if (rc < 0)
        return -1; /* nothing there yet (or unreadable): nothing to lose */
    for (i = 0; i < n; i++)
        if (stat(inputs[i], &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino)
            return (int)i;
    return -1;
}

int tool_check_output(const char *out, const char *const *inputs, size_t n)
{
    int i = tool_out_is_input(out, inputs, n);

    if (i < 0)
        return TOOL_OK;
    fprintf(stderr, "runlog: %s: is the input %s (the same file); refusing to write over it\n",
            !out || strcmp(out, "-") == 0 ? "stdout" : out, inputs[i]);
    return TOOL_FAIL;
}

int tool_mkstemp(char *tmpl)
{
    int fd = mkstemp(tmpl);
    mode_t mask;

    if (fd < 0)
        return -1;
    /* mkstemp() makes 0600; give the result the mode a plain create would. */
    mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) < 0) {
        int err = errno;
        close(fd);
        unlink(tmpl);
        errno = err;
        return -1;
    }
    return fd;
}

int tool_out_open(tool_out *o, const char *path)
{
    int fd;

    memset(o, 0, sizeof *o);
    if (!path || strcmp(path, "-") == 0) {
        o->f = stdout;
        return TOOL_OK;
    }
    o->path = strdup(path);
    o->tmp = malloc(strlen(path) + sizeof ".tmp-XXXXXX");
    if (!o->path || !o->tmp) {
        errno = ENOMEM;
        goto fail;
    }
    sprintf(o->tmp, "%s.tmp-XXXXXX", path);
    fd = tool_mkstemp(o->tmp);
    if (fd < 0)
        goto fail;
    if (!(o->f = fdopen(fd, "w"))) {
        close(fd);
        unlink(o->tmp);
        goto fail;
    }
    return TOOL_OK;
fail:
    tool_sys_error(path);
    free(o->path);
    free(o->tmp);
    memset(o, 0, sizeof *o);
    return TOOL_FAIL;
}

int tool_out_close(tool_out *o, int ok)
{
    int failed = fflush(o->f) != 0 || ferror(o->f);
    const char *name = o->path ? o->path : "stdout";

    if (ok && failed)
        fprintf(stderr, "runlog: %s: write error: %s\n", name, strerror(errno));
    if (o->path) {
        failed |= fclose(o->f) != 0;
        if (ok && !failed && rename(o->tmp, o->path) < 0) {
            tool_sys_error(o->path);
            failed = 1;
        }
        if (!ok || failed)
            unlink(o->tmp);
        free(o->path);
        free(o->tmp);
    }
    memset(o, 0, sizeof *o);
    return ok && !failed ? TOOL_OK : TOOL_FAIL;
}

/* ------------------------------------------------------------------ */
/* Formatting                                                           */
/* ------------------------------------------------------------------ */

void tool_fmt_iso(char buf[TOOL_NUM_MAX], int64_t ns)
{
    int64_t sec = ns / 1000000000, frac = ns % 1000000000;
    time_t t;
    struct tm tm;

    if (frac < 0) { /* floor, so times before 1970 read correctly */
        frac += 1000000000;
        sec -= 1;
    }
    t = (time_t)sec;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, TOOL_NUM_MAX, "%" PRId64 "ns", ns);
        return;
    }
    snprintf(buf, TOOL_NUM_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRId64 "Z",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec, frac);
}

void tool_fmt_unix(char buf[TOOL_NUM_MAX], int64_t ns)
{
    uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

    snprintf(buf, TOOL_NUM_MAX, "%s%" PRIu64 ".%09" PRIu64, ns < 0 ? "-" : "",
             u / 1000000000u, u % 1000000000u);
}

void tool_fmt_double(char buf[TOOL_NUM_MAX], double v)
{
    if (isnan(v))
        strcpy(buf, "NaN");
    else if (isinf(v))
        strcpy(buf, v > 0 ? "Infinity" : "-Infinity");
    else {
        /* The shortest of %.15g..%.17g that reads back as v, and ".0" on an
         * integral value so that it reads as a float: the same text as the
         * library's runlog_value_to_json(), so CSV and JSON agree. Tried as
         * 16, then 15 or 17: fewer conversions on noisy data, same result
         * (if 15 digits read back, so do 16). */
        char shorter[TOOL_NUM_MAX];
        snprintf(buf, TOOL_NUM_MAX, "%.16g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, TOOL_NUM_MAX, "%.17g", v);
        else if (snprintf(shorter, sizeof shorter, "%.15g", v) > 0 && strtod(shorter, NULL) == v)
            strcpy(buf, shorter);
        if (!strpbrk(buf, ".eE"))
            strcat(buf, ".0");
    }
}

const char *tool_map_str(const runlog_value *map, const char *key, size_t *len)
{
    const runlog_value *v = map ? runlog_value_get(map, key) : NULL;

    if (!v || runlog_value_type(v) != RUNLOG_STRING)
        return NULL;
    return runlog_value_string(v, len);
}

int tool_map_int(const runlog_value *map, const char *key, int64_t *out)
{
    const runlog_value *v = map ? runlog_value_get(map, key) : NULL;

    if (!v || runlog_value_type(v) != RUNLOG_INT)
        return 0;
    *out = runlog_value_int(v);
    return 1;
}

int tool_console_fields(const runlog_value *body, const char **stream, const char **data,
                        size_t *len)
{
    static const char *const names[] = {"data", "text", "bytes"};
    const runlog_value *s = body ? runlog_value_get(body, "stream") : NULL;
    size_t i;

    *stream = "stdout";
    if (s && runlog_value_type(s) == RUNLOG_INT)
        *stream = runlog_value_int(s) == RUNLOG_STDERR ? "stderr" : "stdout";
    else if (s && runlog_value_type(s) == RUNLOG_STRING)
        *stream = runlog_value_string(s, NULL);
    for (i = 0; body && i < sizeof names / sizeof names[0]; i++) {
        const runlog_value *d = runlog_value_get(body, names[i]);
        runlog_type t = d ? runlog_value_type(d) : RUNLOG_NULL;

        if (t == RUNLOG_BYTES || t == RUNLOG_STRING) {
            *data = runlog_value_string(d, len);
            return 0;
        }
    }
    return -1;
}

const char *tool_alert_level(const runlog_value *body, char buf[TOOL_NUM_MAX])
{
    static const char *const names[] = {"INFO", "WARN", "ERROR"};
    const runlog_value *l = body ? runlog_value_get(body, "level") : NULL;
    int64_t n;

    if (!l)
        return "INFO";
    if (runlog_value_type(l) == RUNLOG_STRING)
        return runlog_value_string(l, NULL);
    n = runlog_value_int(l);
    if (n >= 0 && n <= 2)
        return names[n];
    snprintf(buf, TOOL_NUM_MAX, "%" PRId64, n);
    return buf;
}

size_t tool_utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len, i;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    /* Overlong forms, surrogates and code points past U+10FFFF are invalid. */
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* ------------------------------------------------------------------ */
/* JSON writer                                                          */
/* ------------------------------------------------------------------ */

void tj_init(tool_json *j, FILE *f)
{
    memset(j, 0, sizeof *j);
    j->f = f;
}

/* Writes the comma that separates this value from the previous one. */
static void tj_sep(tool_json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->has_item[j->depth])
        fputc(',', j->f);
    j->has_item[j->depth] = 1;
}

static void tj_open(tool_json *j, int c)
{
    tj_sep(j);
    fputc(c, j->f);
    if (j->depth + 1 < TOOL_JSON_DEPTH)
        j->depth++;
    j->has_item[j->depth] = 0;
}

static void tj_close(tool_json *j, int c)
{
    fputc(c, j->f);
    if (j->depth > 0)
        j->depth--;
}

void tj_obj(tool_json *j) { tj_open(j, '{'); }
void tj_obj_end(tool_json *j) { tj_close(j, '}'); }
void tj_arr(tool_json *j) { tj_open(j, '['); }
void tj_arr_end(tool_json *j) { tj_close(j, ']'); }

static size_t tj_escape(FILE *f, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, bad = 0;

    fputc('"', f);
    while (i < len) {
        unsigned c = p[i];
        size_t n;

        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
        } else if (c == '\n') {
            fputs("\\n", f);
        } else if (c == '\t') {
            fputs("\\t", f);
        } else if (c == '\r') {
            fputs("\\r", f);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
        } else if (c >= 0x80) {
            n = tool_utf8_len(p + i, len - i);
            if (n == 0) {
                fputs("\xef\xbf\xbd", f); /* U+FFFD */
                bad++;
                n = 1;
            } else {
                fwrite(p + i, 1, n, f);
            }
            i += n;
            continue;
        } else {
            fputc((int)c, f);
        }
        i++;
    }
    fputc('"', f);
    return bad;
}

void tj_key(tool_json *j, const char *key)
{
    tj_sep(j);
    tj_escape(j->f, key, strlen(key));
    fputc(':', j->f);
    j->after_key = 1;
}

size_t tj_strn(tool_json *j, const char *s, size_t len)
{
    tj_sep(j);
    return tj_escape(j->f, s, len);
}

void tj_str(tool_json *j, const char *s)
{
    if (s)
        tj_strn(j, s, strlen(s));
    else
        tj_null(j);
}

void tj_int(tool_json *j, int64_t v)
{
    tj_sep(j);
    fprintf(j->f, "%" PRId64, v);
}

void tj_uint(tool_json *j, uint64_t v)
{
    tj_sep(j);
    fprintf(j->f, "%" PRIu64, v);
}

void tj_double(tool_json *j, double v)
{
    char buf[TOOL_NUM_MAX];

    tool_fmt_double(buf, v);
    if (!isfinite(v)) {
        tj_str(j, buf);
        return;
    }
    tj_sep(j);
    fputs(buf, j->f);
}

void tj_bool(tool_json *j, int v)
{
    tj_sep(j);
    fputs(v ? "true" : "false", j->f);
}

void tj_null(tool_json *j)
{
    tj_sep(j);
    fputs("null", j->f);
}

void tj_unix(tool_json *j, int64_t ns)
{
    char buf[TOOL_NUM_MAX];

    tool_fmt_unix(buf, ns);
    tj_sep(j);
    fputs(buf, j->f);
}

void tj_iso(tool_json *j, int64_t ns)
{
    char buf[TOOL_NUM_MAX];

    tool_fmt_iso(buf, ns);
    tj_str(j, buf);
}

int tj_value(tool_json *j, const runlog_value *v)
{
    char *text;
    int rc;

    if (!v) {
        tj_null(j);
        return 0;
    }
    rc = runlog_value_to_json(&text, v, 0);
    if (rc < 0)
        return rc;
    tj_sep(j);
    fputs(text, j->f);
    runlog_free(text);
    return 0;
}

void tj_newline(tool_json *j)
{
    fputc('\n', j->f);
}

void tj_item_break(tool_json *j)
{
    tj_sep(j);
    fputc('\n', j->f);
    j->after_key = 1; /* the separator is written; the next item skips it */
}

void tj_base64(tool_json *j, const void *data, size_t len)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    size_t i;

    tj_sep(j);
    fputc('"', j->f);
    for (i = 0; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        fputc(abc[v >> 18], j->f);
        fputc(abc[v >> 12 & 63], j->f);
        fputc(abc[v >> 6 & 63], j->f);
        fputc(abc[v & 63], j->f);
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        fputc(abc[v >> 18], j->f);
        fputc(abc[v >> 12 & 63], j->f);
        fputc(i + 1 < len ? abc[v >> 6 & 63] : '=', j->f);
        fputc('=', j->f);
    }
    fputc('"', j->f);
}

/* A text entry of the identity map, or null. */
static void tj_ident_str(tool_json *j, const runlog_value *ident, const char *key)
{
    size_t len;
    const char *s = tool_map_str(ident, key, &len);

    tj_key(j, key);
    if (s)
        tj_strn(j, s, len);
    else
        tj_null(j);
}

int tj_run_object(tool_json *j, const runlog_run *run)
{
    static const char *const texts[] = {"id", "project", "name", "group", "job_type", "notes"};
    const runlog_value *ident = runlog_run_identity(run);
    const runlog_value *tags = ident ? runlog_value_get(ident, "tags") : NULL;
    runlog_state st = runlog_run_state(run);
    int64_t start = 0;
    size_t i;

    tj_obj(j);
    for (i = 0; i < sizeof texts / sizeof texts[0]; i++)
        tj_ident_str(j, ident, texts[i]);
    tj_key(j, "tags");
    if (tags && runlog_value_type(tags) == RUNLOG_LIST) {
        if (tj_value(j, tags) < 0)
            return -1;
    } else {
        tj_arr(j);
        tj_arr_end(j);
    }
    tj_key(j, "state");
    tj_str(j, runlog_state_name(st));
    tj_key(j, "exit_code");
    if (st == RUNLOG_STATE_FINISHED || st == RUNLOG_STATE_FAILED)
        tj_int(j, runlog_run_exit_code(run));
    else
        tj_null(j);
    tj_key(j, "start_time");
    if (tool_map_int(ident, "start_time", &start)) {
        tj_iso(j, start);
        tj_key(j, "start_time_unix");
        tj_unix(j, start);
    } else {
        tj_null(j);
        tj_key(j, "start_time_unix");
        tj_null(j);
    }
    tj_key(j, "end_time");
    tj_iso(j, runlog_run_end_time(run));
    tj_key(j, "end_time_unix");
    tj_unix(j, runlog_run_end_time(run));
    tj_key(j, "rows");
    tj_uint(j, runlog_run_rows(run));
    tj_key(j, "last_step");
    if (runlog_run_rows(run) > 0)
        tj_uint(j, runlog_run_last_step(run));
    else
        tj_null(j);
    tj_key(j, "resumes");
    tj_uint(j, runlog_run_resumes(run));
    tj_obj_end(j);
    return 0;
}

/* ------------------------------------------------------------------ */
/* CSV and plain text                                                   */
/* ------------------------------------------------------------------ */

void csv_field(FILE *f, const char *s, size_t len)
{
    size_t i;

    if (len == 0 || !memchr(s, '"', len)) {
        int quote = 0;
        for (i = 0; i < len && !quote; i++)
            quote = s[i] == ',' || s[i] == '\n' || s[i] == '\r';
        if (!quote) {
            fwrite(s, 1, len, f);
            return;
        }
    }
    fputc('"', f);
    for (i = 0; i < len; i++) {
        if (s[i] == '"')
            fputc('"', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}

/* Numbers and bools as bare text; 1 if v was one of them. */
static int scalar_text(FILE *f, const runlog_value *v)
{
    char buf[TOOL_NUM_MAX];

    switch (runlog_value_type(v)) {
    case RUNLOG_BOOL:
        fputs(runlog_value_bool(v) ? "true" : "false", f);
        return 1;
    case RUNLOG_INT:
        fprintf(f, "%" PRId64, runlog_value_int(v));
        return 1;
    case RUNLOG_FLOAT:
        tool_fmt_double(buf, runlog_value_float(v));
        fputs(buf, f);
        return 1;
    default:
        return 0;
    }
}

int csv_value(FILE *f, const runlog_value *v)
{
    runlog_type t = runlog_value_type(v);
    char *text;
    size_t len;
    const char *s;
    int rc;

    if (scalar_text(f, v) || t == RUNLOG_NULL)
        return 0;
    if (t == RUNLOG_STRING) {
        s = runlog_value_string(v, &len);
        csv_field(f, s, len);
        return 0;
    }
    rc = runlog_value_to_json(&text, v, 0);
    if (rc < 0)
        return rc;
    csv_field(f, text, strlen(text));
    runlog_free(text);
    return 0;
}

int plain_value(FILE *f, const runlog_value *v)
{
    char *text;
    int rc;

    if (scalar_text(f, v))
        return 0;
    rc = runlog_value_to_json(&text, v, 0);
    if (rc < 0)
        return rc;
    fputs(text, f);
    runlog_free(text);
    return 0;
}
