/*
 * rlu.c — text and file primitives shared by librunlog, librunlog-export
 * and the command (see rlu.h).
 */
#include "rlu.h"
#include "utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <poll.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Output files                                                         */
/* ------------------------------------------------------------------ */

int rlu_mkstemp(char *tmpl)
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

int rlu_same_file_index(const char *out, int out_fd, const char *const *inputs, size_t n)
{
    struct stat so, si;
    size_t i;
    int rc = out ? stat(out, &so) : fstat(out_fd, &so);

    if (rc < 0)
        return -1; /* nothing there yet (or unreadable): nothing to lose */
    for (i = 0; i < n; i++)
        if (stat(inputs[i], &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino)
            return (int)i;
    return -1;
}

int rlu_out_open(rlu_out *o, const char *path)
{
    int fd, err;

    memset(o, 0, sizeof *o);
    if (!path || strcmp(path, "-") == 0) {
        o->f = stdout;
        return 0;
    }
    o->path = strdup(path);
    o->tmp = malloc(strlen(path) + sizeof ".tmp-XXXXXX");
    if (!o->path || !o->tmp) {
        errno = ENOMEM;
        goto fail;
    }
    sprintf(o->tmp, "%s.tmp-XXXXXX", path);
    fd = rlu_mkstemp(o->tmp);
    if (fd < 0)
        goto fail;
    if (!(o->f = fdopen(fd, "w"))) {
        err = errno;
        close(fd);
        unlink(o->tmp);
        errno = err;
        goto fail;
    }
    return 0;
fail:
    err = errno;
    free(o->path);
    free(o->tmp);
    memset(o, 0, sizeof *o);
    return runlog_error_set(err == ENOMEM ? RUNLOG_ENOMEM : RUNLOG_EIO, "%s: %s", path,
                            strerror(err));
}

int rlu_out_close(rlu_out *o, int ok)
{
    int failed = fflush(o->f) != 0 || ferror(o->f);
    int rc = 0;
    const char *name = o->path ? o->path : "stdout";

    if (ok && failed)
        rc = runlog_error_set(RUNLOG_EIO, "%s: write error: %s", name, strerror(errno));
    if (o->path) {
        if (fclose(o->f) != 0 && ok && !failed) {
            rc = runlog_error_set(RUNLOG_EIO, "%s: write error: %s", name, strerror(errno));
            failed = 1;
        }
        if (ok && !failed && rename(o->tmp, o->path) < 0) {
            rc = runlog_error_set(RUNLOG_EIO, "%s: %s", o->path, strerror(errno));
            failed = 1;
        }
        if (!ok || failed)
            unlink(o->tmp);
        free(o->path);
        free(o->tmp);
    }
    memset(o, 0, sizeof *o);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Formatting                                                           */
/* ------------------------------------------------------------------ */

void rlu_fmt_iso(char buf[RLU_NUM_MAX], int64_t ns)
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
        snprintf(buf, RLU_NUM_MAX, "%" PRId64 "ns", ns);
        return;
    }
    snprintf(buf, RLU_NUM_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRId64 "Z",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec, frac);
}

void rlu_fmt_unix(char buf[RLU_NUM_MAX], int64_t ns)
{
    uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

    snprintf(buf, RLU_NUM_MAX, "%s%" PRIu64 ".%09" PRIu64, ns < 0 ? "-" : "",
             u / 1000000000u, u % 1000000000u);
}

void rlu_fmt_double(char buf[RLU_NUM_MAX], double v)
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
        char shorter[RLU_NUM_MAX];
        snprintf(buf, RLU_NUM_MAX, "%.16g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, RLU_NUM_MAX, "%.17g", v);
        else if (snprintf(shorter, sizeof shorter, "%.15g", v) > 0 && strtod(shorter, NULL) == v)
            strcpy(buf, shorter);
        if (!strpbrk(buf, ".eE"))
            strcat(buf, ".0");
    }
}

const char *rlu_map_str(const runlog_value *map, const char *key, size_t *len)
{
    const runlog_value *v = map ? runlog_value_get(map, key) : NULL;

    if (!v || runlog_value_type(v) != RUNLOG_STRING)
        return NULL;
    return runlog_value_string(v, len);
}

int rlu_map_int(const runlog_value *map, const char *key, int64_t *out)
{
    const runlog_value *v = map ? runlog_value_get(map, key) : NULL;

    if (!v || runlog_value_type(v) != RUNLOG_INT)
        return 0;
    *out = runlog_value_int(v);
    return 1;
}



size_t rlu_utf8_len(const unsigned char *s, size_t n)
{
    return utf8_seq_len(s, n);
}

/* ------------------------------------------------------------------ */
/* JSON writer                                                          */
/* ------------------------------------------------------------------ */

void tj_init(rlu_json *j, FILE *f)
{
    memset(j, 0, sizeof *j);
    j->f = f;
}

/* Writes the comma that separates this value from the previous one. */
static void tj_sep(rlu_json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->has_item[j->depth])
        fputc(',', j->f);
    j->has_item[j->depth] = 1;
}

static void tj_open(rlu_json *j, int c)
{
    tj_sep(j);
    fputc(c, j->f);
    if (j->depth + 1 < RLU_JSON_DEPTH)
        j->depth++;
    j->has_item[j->depth] = 0;
}

static void tj_close(rlu_json *j, int c)
{
    fputc(c, j->f);
    if (j->depth > 0)
        j->depth--;
}

void tj_obj(rlu_json *j) { tj_open(j, '{'); }
void tj_obj_end(rlu_json *j) { tj_close(j, '}'); }
void tj_arr(rlu_json *j) { tj_open(j, '['); }
void tj_arr_end(rlu_json *j) { tj_close(j, ']'); }

static size_t tj_escape(FILE *f, const char *s, size_t len)
{
    return rlu_json_str(rlu_sink_file, f, s, len, 0);
}

void tj_key(rlu_json *j, const char *key)
{
    tj_sep(j);
    tj_escape(j->f, key, strlen(key));
    fputc(':', j->f);
    j->after_key = 1;
}

size_t tj_strn(rlu_json *j, const char *s, size_t len)
{
    tj_sep(j);
    return tj_escape(j->f, s, len);
}

void tj_str(rlu_json *j, const char *s)
{
    if (s)
        tj_strn(j, s, strlen(s));
    else
        tj_null(j);
}

void tj_int(rlu_json *j, int64_t v)
{
    tj_sep(j);
    fprintf(j->f, "%" PRId64, v);
}

void tj_uint(rlu_json *j, uint64_t v)
{
    tj_sep(j);
    fprintf(j->f, "%" PRIu64, v);
}

void tj_double(rlu_json *j, double v)
{
    char buf[RLU_NUM_MAX];

    rlu_fmt_double(buf, v);
    if (!isfinite(v) && (j->value_flags & RUNLOG_JSON_NAN_NULL)) {
        tj_null(j);
        return;
    }
    if (!isfinite(v)) {
        tj_str(j, buf);
        return;
    }
    tj_sep(j);
    fputs(buf, j->f);
}

void tj_bool(rlu_json *j, int v)
{
    tj_sep(j);
    fputs(v ? "true" : "false", j->f);
}

void tj_null(rlu_json *j)
{
    tj_sep(j);
    fputs("null", j->f);
}

void tj_unix(rlu_json *j, int64_t ns)
{
    char buf[RLU_NUM_MAX];

    rlu_fmt_unix(buf, ns);
    tj_sep(j);
    fputs(buf, j->f);
}

void tj_iso(rlu_json *j, int64_t ns)
{
    char buf[RLU_NUM_MAX];

    rlu_fmt_iso(buf, ns);
    tj_str(j, buf);
}

int tj_value(rlu_json *j, const runlog_value *v)
{
    char *text;
    int rc;

    if (!v) {
        tj_null(j);
        return 0;
    }
    rc = runlog_value_to_json(&text, v, j->value_flags);
    if (rc < 0)
        return rc;
    tj_sep(j);
    fputs(text, j->f);
    runlog_free(text);
    return 0;
}

void tj_newline(rlu_json *j)
{
    fputc('\n', j->f);
}

void tj_item_break(rlu_json *j)
{
    tj_sep(j);
    fputc('\n', j->f);
    j->after_key = 1; /* the separator is written; the next item skips it */
}

void tj_base64(rlu_json *j, const void *data, size_t len)
{
    tj_sep(j);
    fputc('"', j->f);
    rlu_base64(rlu_sink_file, j->f, data, len);
    fputc('"', j->f);
}

/* A text entry of the identity map, or null. */
static void tj_ident_str(rlu_json *j, const runlog_value *ident, const char *key)
{
    size_t len;
    const char *s = rlu_map_str(ident, key, &len);

    tj_key(j, key);
    if (s)
        tj_strn(j, s, len);
    else
        tj_null(j);
}

int tj_run_object(rlu_json *j, const runlog_run *run)
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
    if (rlu_map_int(ident, "start_time", &start)) {
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
    char buf[RLU_NUM_MAX];

    switch (runlog_value_type(v)) {
    case RUNLOG_BOOL:
        fputs(runlog_value_bool(v) ? "true" : "false", f);
        return 1;
    case RUNLOG_INT:
        fprintf(f, "%" PRId64, runlog_value_int(v));
        return 1;
    case RUNLOG_FLOAT:
        rlu_fmt_double(buf, runlog_value_float(v));
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

/* ------------------------------------------------------------------ */
/* Growable text buffers and the one JSON string / base64 encoder        */
/* ------------------------------------------------------------------ */

static int rlu_grow(rlu_buf *b, size_t more)
{
    size_t cap;
    char *p;

    if (b->oom)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1) {
        if (cap > SIZE_MAX / 2) {
            b->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    if (!(p = realloc(b->p, cap))) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    b->p[b->len] = '\0'; /* an empty buffer taken is "" too */
    return 0;
}

void rlu_put(rlu_buf *b, const void *data, size_t len)
{
    if (rlu_grow(b, len) < 0)
        return;
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void rlu_puts(rlu_buf *b, const char *s)
{
    rlu_put(b, s, strlen(s));
}

void rlu_printf(rlu_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || rlu_grow(b, (size_t)n) < 0) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void rlu_buf_free(rlu_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

char *rlu_take(rlu_buf *b)
{
    char *s;

    if (b->oom || rlu_grow(b, 0) < 0) {
        rlu_buf_free(b);
        return NULL;
    }
    s = b->p;
    memset(b, 0, sizeof *b);
    return s;
}

void rlu_sink_buf(void *buf, const void *data, size_t len)
{
    rlu_put(buf, data, len);
}

void rlu_sink_file(void *file, const void *data, size_t len)
{
    fwrite(data, 1, len, file);
}

/* The code point of the valid UTF-8 sequence of k bytes at u. */
static uint32_t utf8_cp(const unsigned char *u, size_t k)
{
    switch (k) {
    case 1: return u[0];
    case 2: return (uint32_t)(u[0] & 0x1f) << 6 | (u[1] & 0x3f);
    case 3: return (uint32_t)(u[0] & 0x0f) << 12 | (uint32_t)(u[1] & 0x3f) << 6 | (u[2] & 0x3f);
    default: return 0x10000; /* only "not a character to escape" matters */
    }
}

static int must_escape(uint32_t cp, unsigned flags)
{
    if (cp == '"' || cp == '\\' || cp < 0x20 || cp == 0x7f)
        return 1;
    return (flags & RLU_JSON_YAML_SAFE) &&
           ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff ||
            cp == 0xfffe || cp == 0xffff);
}

size_t rlu_json_str(rlu_sink sink, void *ctx, const char *s, size_t len, unsigned flags)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, plain = 0, bad = 0, k;
    char esc[8];
    uint32_t cp;

    sink(ctx, "\"", 1);
    while (i < len) {
        k = u[i] < 0x80 ? 1 : rlu_utf8_len(u + i, len - i);
        cp = k ? utf8_cp(u + i, k) : 0;
        if (k && !must_escape(cp, flags)) {
            i += k;
            continue;
        }
        /* Runs of bytes that need no escape go out in one piece. */
        if (i > plain)
            sink(ctx, u + plain, i - plain);
        if (k == 0) {
            sink(ctx, "\xef\xbf\xbd", 3); /* U+FFFD */
            bad++;
            k = 1;
        } else if (cp == '"' || cp == '\\') {
            esc[0] = '\\';
            esc[1] = (char)cp;
            sink(ctx, esc, 2);
        } else if (cp == '\n') {
            sink(ctx, "\\n", 2);
        } else if (cp == '\t') {
            sink(ctx, "\\t", 2);
        } else if (cp == '\r') {
            sink(ctx, "\\r", 2);
        } else {
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
            sink(ctx, esc, 6);
        }
        i += k;
        plain = i;
    }
    if (i > plain)
        sink(ctx, u + plain, i - plain);
    sink(ctx, "\"", 1);
    return bad;
}

void rlu_base64(rlu_sink sink, void *ctx, const void *data, size_t len)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    char out[256];
    size_t i = 0, n = 0;

    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[n++] = abc[v >> 18];
        out[n++] = abc[v >> 12 & 63];
        out[n++] = abc[v >> 6 & 63];
        out[n++] = abc[v & 63];
        if (n == sizeof out) {
            sink(ctx, out, n);
            n = 0;
        }
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        out[n++] = abc[v >> 18];
        out[n++] = abc[v >> 12 & 63];
        out[n++] = i + 1 < len ? abc[v >> 6 & 63] : '=';
        out[n++] = '=';
    }
    if (n)
        sink(ctx, out, n);
}

char *rlu_utf8_text(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    rlu_buf b = {0};
    size_t i = 0, plain = 0, k;

    rlu_grow(&b, len);
    while (i < len) {
        k = rlu_utf8_len(u + i, len - i);
        if (k && u[i] != 0) {
            i += k;
            continue;
        }
        rlu_put(&b, u + plain, i - plain);
        rlu_put(&b, "\xef\xbf\xbd", 3);
        plain = ++i;
    }
    rlu_put(&b, u + plain, i - plain);
    return rlu_take(&b);
}

int rlu_write_all(int fd, const void *data, size_t n)
{
    const char *p = data;

    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && errno == EAGAIN) {
            struct pollfd pf = {fd, POLLOUT, 0};
            poll(&pf, 1, -1);
            continue;
        }
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int rlu_parse_u64(const char *s, uint64_t *out)
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

const char *rlu_damage_name(runlog_damage_kind kind, int json)
{
    switch (kind) {
    case RUNLOG_DAMAGE_FRAME: return "frame";
    case RUNLOG_DAMAGE_GARBAGE: return "garbage";
    case RUNLOG_DAMAGE_TORN_TAIL: return json ? "torn_tail" : "torn tail";
    }
    return "unknown";
}

int rlu_copy_spool(FILE *from, FILE *to)
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
