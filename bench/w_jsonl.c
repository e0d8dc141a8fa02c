/*
 * w_jsonl.c — JSON Lines, one line per step, as W&B keeps history:
 *   {"_step":12,"_timestamp":1712345678.123,"loss":0.4158...,...}
 * Floats are written as Python's json does: the shortest text that reads
 * back to the same double. Two writers: streamed through zstd level 3
 * (ZSTD_compressStream2, written out as its buffer fills), and uncompressed
 * with one write(2) per line (W&B's offline log).
 *
 * Reading one key back decompresses every line and picks the key out with a
 * substring search, far cheaper than the json.loads a user would run, so
 * the read figure flatters this writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "bench.h"

typedef struct bench_jl {
    int fd;
    const bench_shape *s;
    const char *path;
    char *line;
    size_t line_cap;
    ZSTD_CCtx *cctx; /* NULL: uncompressed */
    char *zbuf;
    size_t zcap, zlen;
} bench_jl;

static void bench_jl_write_all(const char *path, int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            bench_die_errno(path, "write");
        p += w;
        n -= (size_t)w;
    }
}

/* The shortest %.Ng text that reads back as v (Python's float repr). */
static size_t bench_jl_double(char *out, double v)
{
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, 32, "%.*g", prec, v);
        if (prec == 17 || strtod(out, NULL) == v)
            break;
    }
    return (size_t)n;
}

static void *bench_jl_open(const bench_writer *wr, const char *path, const bench_shape *s,
                           uint32_t run)
{
    bench_jl *h = bench_xmalloc(sizeof *h);
    memset(h, 0, sizeof *h);
    h->s = s;
    h->path = path;
    h->line_cap = 64;
    for (uint32_t k = 0; k < s->keys; k++)
        h->line_cap += strlen(s->key_names[k]) + 4 + 32;
    h->line = bench_xmalloc(h->line_cap);
    h->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (h->fd < 0)
        bench_die_errno(path, "create");
    if (wr->variant) {
        h->cctx = ZSTD_createCCtx();
        h->zcap = ZSTD_CStreamOutSize();
        h->zbuf = bench_xmalloc(h->zcap);
        if (!h->cctx || ZSTD_isError(ZSTD_CCtx_setParameter(h->cctx, ZSTD_c_compressionLevel, 3)))
            bench_die(path, "zstd", "cannot set up the compressor");
    }
    return h;
}

static size_t bench_jl_format(bench_jl *h, uint64_t step, const double *vals)
{
    char *p = h->line;
    p += sprintf(p, "{\"_step\":%llu,\"_timestamp\":", (unsigned long long)step);
    p += bench_jl_double(p, (double)bench_wall_ms() / 1e3);
    for (uint32_t k = 0; k < h->s->keys; k++) {
        p += sprintf(p, ",\"%s\":", h->s->key_names[k]);
        p += bench_jl_double(p, vals[k]);
    }
    *p++ = '}';
    *p++ = '\n';
    return (size_t)(p - h->line);
}

/* Feeds bytes to the compressor; writes its output each time the buffer
 * fills, as a zstd stream over a buffered file does. */
static void bench_jl_compress(bench_jl *h, const char *src, size_t n, ZSTD_EndDirective end)
{
    ZSTD_inBuffer in = { src, n, 0 };
    for (;;) {
        ZSTD_outBuffer out = { h->zbuf, h->zcap, h->zlen };
        size_t left = ZSTD_compressStream2(h->cctx, &out, &in, end);
        if (ZSTD_isError(left))
            bench_die(h->path, "zstd", ZSTD_getErrorName(left));
        h->zlen = out.pos;
        if (h->zlen == h->zcap || (end == ZSTD_e_end && h->zlen > 0)) {
            bench_jl_write_all(h->path, h->fd, h->zbuf, h->zlen);
            h->zlen = 0;
        }
        int done = end == ZSTD_e_end ? left == 0 : in.pos == in.size;
        if (done && h->zlen < h->zcap)
            return;
    }
}

static uint64_t bench_jl_step(void *hv, uint64_t step, const double *vals)
{
    bench_jl *h = hv;
    uint64_t t0 = bench_now_ns();
    size_t n = bench_jl_format(h, step, vals);
    if (h->cctx)
        bench_jl_compress(h, h->line, n, ZSTD_e_continue);
    else
        bench_jl_write_all(h->path, h->fd, h->line, n);
    return bench_now_ns() - t0;
}

static void bench_jl_close(void *hv)
{
    bench_jl *h = hv;
    if (h->cctx) {
        bench_jl_compress(h, "", 0, ZSTD_e_end);
        ZSTD_freeCCtx(h->cctx);
        free(h->zbuf);
    }
    if (fsync(h->fd) != 0)
        bench_die_errno(h->path, "fsync");
    close(h->fd);
    free(h->line);
    free(h);
}

/* ------------------------------------------------------------------------ */
/* Reading one key back                                                      */
/* ------------------------------------------------------------------------ */

typedef struct bench_jl_reader {
    const char *path;
    char pattern[1100]; /* "KEY": */
    char *acc;          /* the line being assembled */
    size_t acc_len, acc_cap;
    uint64_t n;
    double sum;
} bench_jl_reader;

static void bench_jl_parse_line(bench_jl_reader *r, char *line)
{
    char *p = strstr(line, "{\"_step\":");
    char *q = strstr(line, r->pattern);
    if (!p || !q)
        bench_die(r->path, "read", "a line without _step or the key");
    if (strtoull(p + 9, NULL, 10) != r->n)
        bench_die(r->path, "read", "steps out of order");
    r->sum += strtod(q + strlen(r->pattern), NULL);
    r->n++;
}

static void bench_jl_feed(bench_jl_reader *r, const char *p, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (r->acc_len + take + 1 > r->acc_cap) {
            r->acc_cap = 2 * (r->acc_len + take + 1);
            r->acc = realloc(r->acc, r->acc_cap);
            if (!r->acc)
                bench_die(r->path, "read", "out of memory");
        }
        memcpy(r->acc + r->acc_len, p, take);
        r->acc_len += take;
        if (!nl)
            return;
        r->acc[r->acc_len] = '\0';
        bench_jl_parse_line(r, r->acc);
        r->acc_len = 0;
        p += take + 1;
        n -= take + 1;
    }
}

static uint64_t bench_jl_read(const bench_writer *wr, const char *path, const bench_shape *s,
                              uint32_t run, double *sum, bench_read_info *info)
{
    bench_jl_reader r = { .path = path };
    snprintf(r.pattern, sizeof r.pattern, "\"%s\":", s->key_names[s->read_key]);
    uint64_t t0 = bench_now_ns();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    info->open_ns = bench_now_ns() - t0;
    if (fd < 0)
        bench_die_errno(path, "open for reading");
    size_t in_cap = ZSTD_DStreamInSize(), out_cap = ZSTD_DStreamOutSize();
    char *in = bench_xmalloc(in_cap), *out = bench_xmalloc(out_cap);
    ZSTD_DCtx *d = wr->variant ? ZSTD_createDCtx() : NULL;
    ssize_t got;
    while ((got = read(fd, in, in_cap)) > 0) {
        if (!d) {
            bench_jl_feed(&r, in, (size_t)got);
            continue;
        }
        ZSTD_inBuffer ib = { in, (size_t)got, 0 };
        while (ib.pos < ib.size) {
            ZSTD_outBuffer ob = { out, out_cap, 0 };
            size_t rc = ZSTD_decompressStream(d, &ob, &ib);
            if (ZSTD_isError(rc))
                bench_die(path, "zstd", ZSTD_getErrorName(rc));
            bench_jl_feed(&r, out, ob.pos);
        }
    }
    if (got < 0)
        bench_die_errno(path, "read");
    close(fd);
    ZSTD_freeDCtx(d);
    free(in);
    free(out);
    free(r.acc);
    *sum = r.sum;
    return r.n;
}

const bench_writer bench_jsonl_zstd_writer = {
    "jsonl-zstd", "jsonl.zst", 1, 0, bench_jl_open, bench_jl_step, bench_jl_close, bench_jl_read, NULL,
};

const bench_writer bench_jsonl_writer = {
    "jsonl", "jsonl", 0, 0, bench_jl_open, bench_jl_step, bench_jl_close, bench_jl_read, NULL,
};
