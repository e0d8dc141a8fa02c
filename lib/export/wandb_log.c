/*
 * wandb_log.c — W&B's transaction-log container, value texts and
 * hashes for RUNLOG_EXPORT_WANDB (see wandb.h, spec/EXPORTS.md §10).
 *
 * The container is LevelDB's log format with W&B's file header:
 *
 *   file:   ":W&B" | uint16 LE 0xBEE1 | uint8 version 0      (7 bytes, in block 0)
 *   blocks: 32768 bytes; chunks never cross a block end
 *   chunk:  uint32 LE crc | uint16 LE length | uint8 type | length bytes
 *           type 1 FULL, 2 FIRST, 3 MIDDLE, 4 LAST
 *           crc = CRC-32/IEEE (zlib's crc32) of the type byte then the data,
 *           not masked (W&B's writers do not mask it, unlike LevelDB)
 *   when fewer than 7 bytes are left in a block they are zeros and the next
 *   chunk starts at the next block; with exactly 7 left a chunk of 0 data
 *   bytes is written there, as LevelDB and W&B do.
 */
#include "wandb.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <md5.h>
#include <sha2.h>
#include <zlib.h>

#define WB_BLOCK 32768u
#define WB_CHUNK_HEADER 7u

enum { WB_FULL = 1, WB_FIRST = 2, WB_MIDDLE = 3, WB_LAST = 4 };

/* ---- JSON and YAML values ---- */

void wb_json_double(rlu_buf *b, double v, int mode)
{
    char num[RLU_NUM_MAX], *e;

    if (isnan(v)) {
        rlu_puts(b, mode == WB_YAML ? ".nan" : "NaN");
        return;
    }
    if (isinf(v)) {
        rlu_puts(b, mode == WB_YAML ? (v > 0 ? ".inf" : "-.inf") : (v > 0 ? "Infinity" : "-Infinity"));
        return;
    }
    rlu_fmt_double(num, v); /* shortest round trip, ".0" on integral values */
    if (mode != WB_YAML || !(e = strchr(num, 'e'))) {
        rlu_puts(b, num);
        return;
    }
    /* YAML 1.1 floats need a '.' in the mantissa and a sign in the exponent:
     * "1e-05" -> "1.0e-05", "1e+20" stays signed. */
    rlu_put(b, num, (size_t)(e - num));
    if (!memchr(num, '.', (size_t)(e - num)))
        rlu_puts(b, ".0");
    rlu_puts(b, "e");
    if (e[1] != '-' && e[1] != '+')
        rlu_puts(b, "+");
    rlu_puts(b, e + 1);
}

/* rlu_base64() into a char array big enough (ctx: char **, the write position). */
static void sink_chars(void *ctx, const void *data, size_t len)
{
    char **p = ctx;

    memcpy(*p, data, len);
    *p += len;
}

/* The base64 of an MD5 (16 bytes): 24 characters and a NUL. */
static void md5_b64(char out[25], const uint8_t d[MD5_DIGEST_LENGTH])
{
    char *p = out;

    rlu_base64(sink_chars, &p, d, MD5_DIGEST_LENGTH);
    *p = '\0';
}

static void json_value_depth(rlu_buf *b, const runlog_value *v, int mode, unsigned depth)
{
    size_t i, n, len;
    const char *s;

    if (!v || depth > RUNLOG_MAX_DEPTH) {
        rlu_puts(b, "null");
        return;
    }
    switch (runlog_value_type(v)) {
    case RUNLOG_BOOL: rlu_puts(b, runlog_value_bool(v) ? "true" : "false"); return;
    case RUNLOG_INT: rlu_printf(b, "%lld", (long long)runlog_value_int(v)); return;
    case RUNLOG_FLOAT: wb_json_double(b, runlog_value_float(v), mode); return;
    case RUNLOG_STRING:
        s = runlog_value_string(v, &len);
        rlu_json_str(rlu_sink_buf, b, s, len, RLU_JSON_YAML_SAFE);
        return;
    case RUNLOG_BYTES:
        s = runlog_value_string(v, &len);
        rlu_puts(b, "\"");
        rlu_base64(rlu_sink_buf, b, s, len);
        rlu_puts(b, "\"");
        return;
    case RUNLOG_LIST:
        n = runlog_value_count(v);
        rlu_puts(b, "[");
        for (i = 0; i < n; i++) {
            if (i)
                rlu_puts(b, ", ");
            json_value_depth(b, runlog_value_item(v, i), mode, depth + 1);
        }
        rlu_puts(b, "]");
        return;
    case RUNLOG_MAP:
        n = runlog_value_count(v);
        rlu_puts(b, "{");
        for (i = 0; i < n; i++) {
            if (i)
                rlu_puts(b, ", ");
            s = runlog_value_key(v, i, &len);
            rlu_json_str(rlu_sink_buf, b, s ? s : "", s ? len : 0, RLU_JSON_YAML_SAFE);
            rlu_puts(b, ": ");
            json_value_depth(b, runlog_value_item(v, i), mode, depth + 1);
        }
        rlu_puts(b, "}");
        return;
    default:
        rlu_puts(b, "null");
        return;
    }
}

void wb_json_value(rlu_buf *b, const runlog_value *v, int mode)
{
    json_value_depth(b, v, mode, 0);
}

/* ---- hashes ---- */

void wb_md5_hex(char out[33], const void *data, size_t len)
{
    uint8_t d[MD5_DIGEST_LENGTH];
    MD5_CTX c;
    int i;

    MD5Init(&c);
    MD5Update(&c, data, len);
    MD5Final(d, &c);
    for (i = 0; i < MD5_DIGEST_LENGTH; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

void wb_md5_b64(char out[25], const void *data, size_t len)
{
    uint8_t d[MD5_DIGEST_LENGTH];
    MD5_CTX c;

    MD5Init(&c);
    MD5Update(&c, data, len);
    MD5Final(d, &c);
    md5_b64(out, d);
}

int wb_md5_file_b64(char out[25], uint64_t *size, const char *path, uint64_t max)
{
    uint8_t d[MD5_DIGEST_LENGTH], buf[65536];
    uint64_t total = 0;
    ssize_t n = 0;
    struct stat st;
    MD5_CTX c;
    /* O_NONBLOCK: a FIFO must not block the open; then only a regular file
     * is read, and no more than max bytes (a device never ends). */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    MD5Init(&c);
    while (total <= max && (n = read(fd, buf, sizeof buf)) > 0) {
        MD5Update(&c, buf, (size_t)n);
        total += (uint64_t)n;
    }
    close(fd);
    if (n < 0 || total > max)
        return -1;
    MD5Final(d, &c);
    md5_b64(out, d);
    if (size)
        *size = total;
    return 0;
}

void wb_sha256_hex(char out[65], const void *data, size_t len)
{
    uint8_t d[SHA256_DIGEST_LENGTH];
    SHA2_CTX c;
    int i;

    SHA256Init(&c);
    SHA256Update(&c, data, len);
    SHA256Final(d, &c);
    for (i = 0; i < SHA256_DIGEST_LENGTH; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

/* ---- the log ---- */

int wb_log_open(wb_log *l, const char *path)
{
    static const unsigned char header[WB_CHUNK_HEADER] = {':', 'W', '&', 'B', 0xE1, 0xBE, 0};
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);

    memset(l, 0, sizeof *l);
    if (fd < 0)
        return -1;
    if (!(l->f = fdopen(fd, "wb"))) {
        close(fd);
        return -1;
    }
    l->num = 1;
    if (fwrite(header, 1, sizeof header, l->f) != sizeof header)
        return -1;
    l->off = sizeof header;
    return 0;
}

static int put_chunk(wb_log *l, int type, const unsigned char *data, size_t len)
{
    unsigned char h[WB_CHUNK_HEADER], t = (unsigned char)type;
    uLong crc = crc32(crc32(0L, Z_NULL, 0), &t, 1);

    crc = crc32(crc, data, (uInt)len);
    h[0] = (unsigned char)crc, h[1] = (unsigned char)(crc >> 8);
    h[2] = (unsigned char)(crc >> 16), h[3] = (unsigned char)(crc >> 24);
    h[4] = (unsigned char)len, h[5] = (unsigned char)(len >> 8);
    h[6] = t;
    if (fwrite(h, 1, sizeof h, l->f) != sizeof h || (len && fwrite(data, 1, len, l->f) != len))
        return -1;
    l->off += sizeof h + len;
    return 0;
}

int wb_log_write(wb_log *l, const void *data, size_t len)
{
    static const unsigned char zeros[WB_CHUNK_HEADER];
    const unsigned char *p = data;
    size_t left, take;
    int first = 1, type;

    do {
        left = WB_BLOCK - (size_t)(l->off % WB_BLOCK);
        if (left < WB_CHUNK_HEADER) {
            if (fwrite(zeros, 1, left, l->f) != left)
                return -1;
            l->off += left;
            left = WB_BLOCK;
        }
        take = left - WB_CHUNK_HEADER;
        if (take >= len) {
            take = len;
            type = first ? WB_FULL : WB_LAST;
        } else {
            type = first ? WB_FIRST : WB_MIDDLE;
        }
        if (put_chunk(l, type, p, take) < 0)
            return -1;
        p += take;
        len -= take;
        first = 0;
    } while (len > 0 || type == WB_FIRST || type == WB_MIDDLE);
    l->records++;
    return 0;
}

int wb_log_record(wb_log *l, WandbInternal__Record *rec)
{
    size_t n;
    uint8_t *buf;
    int rc;

    rec->num = l->num++;
    n = wandb_internal__record__get_packed_size(rec);
    if (!(buf = malloc(n ? n : 1))) {
        errno = ENOMEM;
        return -1;
    }
    wandb_internal__record__pack(rec, buf);
    rc = wb_log_write(l, buf, n);
    free(buf);
    return rc;
}

int wb_log_close(wb_log *l)
{
    int rc = 0;

    if (!l->f)
        return 0;
    if (fflush(l->f) != 0 || ferror(l->f) || fsync(fileno(l->f)) != 0)
        rc = -1;
    if (fclose(l->f) != 0)
        rc = -1;
    l->f = NULL;
    return rc;
}
