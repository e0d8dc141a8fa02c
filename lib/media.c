/*
 * Images and tables (spec/FORMAT.md §12.3, §12.4). Both are blobs plus a
 * small CBOR map placed in a history cell: the map names the blob by digest.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

/* ---- Images ------------------------------------------------------------------ */

/* Converts pixels to uint8 as W&B does (runlog.h, runlog_writer_add_image). */
static uint8_t *to_u8(const void *pixels, size_t n, runlog_pixel_type type)
{
    uint8_t *out = malloc(n ? n : 1);
    if (!out || type == RUNLOG_PIXELS_U8) {
        if (out && n)
            memcpy(out, pixels, n);
        return out;
    }
    const float *f32 = pixels;
    const double *f64 = pixels;
#define PX(i) (type == RUNLOG_PIXELS_F32 ? (double)f32[i] : f64[i])
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double v = PX(i);
        if (isnan(v))
            continue;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    double scale = 1, shift = 0;
    if (lo >= 0 && hi <= 1) {
        scale = 255;
    } else if (lo < 0 && lo >= -1 && hi <= 1) {
        scale = 127.5;
        shift = 1;
    }
    for (size_t i = 0; i < n; i++) {
        double v = PX(i);
        v = isnan(v) ? 0 : (v + shift) * scale;
        v = v < 0 ? 0 : v > 255 ? 255 : v;
        out[i] = (uint8_t)lround(v);
    }
#undef PX
    return out;
}

/* The image map of §12.3. */
static int image_map(rl_buf *b, const runlog_digest *d, const char *format, uint32_t width, uint32_t height,
                     uint32_t channels, uint64_t size, const char *caption)
{
    int rc;
    if ((rc = rl_cbor_map(b, caption ? 8 : 7)) || (rc = rl_cbor_text(b, "_type", 5)) ||
        (rc = rl_cbor_text(b, "image", 5)) || (rc = rl_cbor_text(b, "digest", 6)) ||
        (rc = rl_cbor_bytes(b, d->bytes, 16)) || (rc = rl_cbor_text(b, "format", 6)) ||
        (rc = rl_cbor_text(b, format, strlen(format))) || (rc = rl_cbor_text(b, "width", 5)) ||
        (rc = rl_cbor_uint(b, width)) || (rc = rl_cbor_text(b, "height", 6)) ||
        (rc = rl_cbor_uint(b, height)) || (rc = rl_cbor_text(b, "channels", 8)) ||
        (rc = rl_cbor_uint(b, channels)) || (rc = rl_cbor_text(b, "size", 4)) || (rc = rl_cbor_uint(b, size)))
        return rc;
    if (caption && ((rc = rl_cbor_text(b, "caption", 7)) || (rc = rl_cbor_text(b, caption, strlen(caption)))))
        return rc;
    return 0;
}

/* Stores pixels as a blob and writes their image map into b. */
static int pixels_map(rl_buf *b, runlog_writer *w, const void *pixels, uint32_t height, uint32_t width,
                      uint32_t channels, runlog_pixel_type type, const char *caption)
{
    if (!pixels || height == 0 || width == 0)
        return rl_fail(RUNLOG_EINVAL, "image pixels are NULL or empty");
    if (channels != 1 && channels != 3 && channels != 4)
        return rl_fail(RUNLOG_EINVAL, "an image has 1, 3 or 4 channels, not %u", channels);
    if (type != RUNLOG_PIXELS_U8 && type != RUNLOG_PIXELS_F32 && type != RUNLOG_PIXELS_F64)
        return rl_fail(RUNLOG_EINVAL, "unknown pixel type %d", (int)type);
    uint64_t n = (uint64_t)height * width * channels;
    if (n > RUNLOG_MAX_BLOCK_RAW)
        return rl_fail(RUNLOG_EINVAL, "image of %llu bytes is over the limit of %u", (unsigned long long)n,
                       RUNLOG_MAX_BLOCK_RAW);
    int rc = rl_check_text("caption", caption);
    if (rc)
        return rc;
    uint8_t *u8 = to_u8(pixels, (size_t)n, type);
    if (!u8)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    runlog_digest d;
    rc = runlog_writer_blob(&d, w, u8, (size_t)n);
    free(u8);
    if (!rc && image_map(b, &d, "raw", width, height, channels, n, caption))
        rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
    return rc;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Width, height and channels from a PNG's IHDR or a JPEG's SOF marker. */
static int encoded_shape(const uint8_t *p, size_t n, const char **format, uint32_t *width, uint32_t *height,
                         uint32_t *channels)
{
    static const uint8_t png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    if (n >= 33 && memcmp(p, png_sig, 8) == 0 && be32(p + 8) == 13 && memcmp(p + 12, "IHDR", 4) == 0) {
        static const uint32_t by_color[7] = { 1, 0, 3, 3, 2, 0, 4 };
        uint8_t color = p[25];
        *width = be32(p + 16);
        *height = be32(p + 20);
        *channels = color < 7 ? by_color[color] : 0;
        *format = "png";
        if (*width == 0 || *height == 0 || *channels == 0)
            return rl_fail(RUNLOG_EINVAL, "PNG header is invalid (size or color type)");
        return 0;
    }
    if (n >= 4 && p[0] == 0xff && p[1] == 0xd8) {
        size_t i = 2;
        while (i + 4 <= n) {
            if (p[i] != 0xff)
                break;
            uint8_t m = p[i + 1];
            if (m == 0xff) { /* fill byte */
                i++;
                continue;
            }
            if (m == 0xd8 || (m >= 0xd0 && m <= 0xd7) || m == 0x01) {
                i += 2;
                continue;
            }
            size_t len = (size_t)p[i + 2] << 8 | p[i + 3];
            if (len < 2 || i + 2 + len > n)
                break;
            int sof = m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
            if (sof && len >= 8) {
                *height = (uint32_t)p[i + 5] << 8 | p[i + 6];
                *width = (uint32_t)p[i + 7] << 8 | p[i + 8];
                *channels = p[i + 9];
                *format = "jpeg";
                if (*width == 0 || *height == 0 || *channels == 0)
                    return rl_fail(RUNLOG_EINVAL, "JPEG frame header is invalid");
                return 0;
            }
            if (m == 0xda)
                break;
            i += 2 + len;
        }
        return rl_fail(RUNLOG_EINVAL, "JPEG without a readable frame header");
    }
    return rl_fail(RUNLOG_EINVAL, "image bytes are neither PNG nor JPEG");
}

int runlog_writer_add_image(runlog_writer *w, const char *key, const void *pixels, uint32_t height,
                            uint32_t width, uint32_t channels, runlog_pixel_type type, const char *caption)
{
    int rc = rl_writer_check(w);
    if (rc || (rc = rl_check_key(key)))
        return rc;
    rl_buf b = { 0 };
    if (!(rc = pixels_map(&b, w, pixels, height, width, channels, type, caption)))
        rc = rl_writer_media_cell(w, key, b.p, b.len, 1);
    rl_buf_free(&b);
    return rc;
}

int runlog_writer_add_image_encoded(runlog_writer *w, const char *key, const void *data, size_t len,
                                    const char *caption)
{
    int rc = rl_writer_check(w);
    if (rc || (rc = rl_check_key(key)) || (rc = rl_check_text("caption", caption)))
        return rc;
    if (!data)
        return rl_fail(RUNLOG_EINVAL, "image data is NULL");
    const char *format = NULL;
    uint32_t width = 0, height = 0, channels = 0;
    if ((rc = encoded_shape(data, len, &format, &width, &height, &channels)))
        return rc;
    runlog_digest d;
    if ((rc = runlog_writer_blob(&d, w, data, len)))
        return rc;
    rl_buf b = { 0 };
    if (image_map(&b, &d, format, width, height, channels, len, caption))
        rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
    else
        rc = rl_writer_media_cell(w, key, b.p, b.len, 1);
    rl_buf_free(&b);
    return rc;
}

/* ---- Tables ------------------------------------------------------------------- */

static const char *const column_type_names[] = { "int", "float", "string", "bool", "image", "value" };

struct runlog_table {
    runlog_writer *w;
    size_t ncols;
    char **names;
    runlog_column_type *types;
    rl_buf *cells;       /* per column: its CBOR cells, one after another */
    size_t *committed;   /* per column: bytes of the rows ended so far */
    size_t nrows;
    size_t col;          /* the next cell's column */
};

int runlog_table_new(runlog_table **out, runlog_writer *w, const char *const *names,
                     const runlog_column_type *types, size_t ncols)
{
    int rc = rl_writer_check(w);
    if (rc)
        return rc;
    if (!out || !names || !types || ncols == 0 || ncols > RUNLOG_MAX_TABLE_COLUMNS)
        return rl_fail(RUNLOG_EINVAL, "a table has 1 to %u columns, with names and types", RUNLOG_MAX_TABLE_COLUMNS);
    for (size_t i = 0; i < ncols; i++) {
        if ((rc = rl_check_key(names[i])))
            return rc;
        if ((unsigned)types[i] > RUNLOG_COLUMN_VALUE)
            return rl_fail(RUNLOG_EINVAL, "column %zu has an unknown type %d", i, (int)types[i]);
    }
    runlog_table *t = calloc(1, sizeof *t);
    if (!t)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    t->w = w;
    t->ncols = ncols;
    t->names = calloc(ncols, sizeof *t->names);
    t->types = calloc(ncols, sizeof *t->types);
    t->cells = calloc(ncols, sizeof *t->cells);
    t->committed = calloc(ncols, sizeof *t->committed);
    if (!t->names || !t->types || !t->cells || !t->committed) {
        runlog_table_free(t);
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < ncols; i++) {
        t->types[i] = types[i];
        if (!(t->names[i] = strdup(names[i]))) {
            runlog_table_free(t);
            return rl_fail(RUNLOG_ENOMEM, "out of memory");
        }
    }
    *out = t;
    return 0;
}

void runlog_table_free(runlog_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->ncols; i++) {
        if (t->names)
            free(t->names[i]);
        if (t->cells)
            rl_buf_free(&t->cells[i]);
    }
    free(t->names);
    free(t->types);
    free(t->cells);
    free(t->committed);
    free(t);
}

/* The buffer for the next cell, which must be of type want (-1: any). */
static int next_cell(runlog_table *t, int want, rl_buf **out)
{
    *out = NULL;
    if (!t)
        return rl_fail(RUNLOG_EINVAL, "table is NULL");
    if (t->col >= t->ncols)
        return rl_fail(RUNLOG_EINVAL, "row already has its %zu cells: end it first", t->ncols);
    if (t->nrows >= RUNLOG_MAX_TABLE_ROWS)
        return rl_fail(RUNLOG_ETOOLARGE, "table has %u rows, the limit", RUNLOG_MAX_TABLE_ROWS);
    if (want >= 0 && (int)t->types[t->col] != want && !(want == RUNLOG_COLUMN_INT && t->types[t->col] == RUNLOG_COLUMN_FLOAT))
        return rl_fail(RUNLOG_EINVAL, "column \"%s\" holds %s cells, not %s", t->names[t->col],
                       column_type_names[t->types[t->col]], column_type_names[want]);
    *out = &t->cells[t->col];
    return 0;
}

static int cell_done(runlog_table *t, int rc)
{
    if (!rc)
        t->col++;
    return rc == RUNLOG_ENOMEM ? rl_fail(rc, "out of memory") : rc;
}

int runlog_table_int(runlog_table *t, int64_t v)
{
    rl_buf *b;
    int rc = next_cell(t, RUNLOG_COLUMN_INT, &b);
    if (rc)
        return rc;
    /* An int in a float column is stored as a float: columns keep one type. */
    return cell_done(t, t->types[t->col] == RUNLOG_COLUMN_FLOAT ? rl_cbor_float(b, (double)v) : rl_cbor_int(b, v));
}

int runlog_table_float(runlog_table *t, double v)
{
    rl_buf *b;
    int rc = next_cell(t, RUNLOG_COLUMN_FLOAT, &b);
    return rc ? rc : cell_done(t, rl_cbor_float(b, v));
}

int runlog_table_string(runlog_table *t, const char *v)
{
    rl_buf *b;
    int rc = next_cell(t, RUNLOG_COLUMN_STRING, &b);
    if (rc || (rc = rl_check_text("table string", v)))
        return rc;
    if (!v)
        return rl_fail(RUNLOG_EINVAL, "string is NULL");
    return cell_done(t, rl_cbor_text(b, v, strlen(v)));
}

int runlog_table_bool(runlog_table *t, int v)
{
    rl_buf *b;
    int rc = next_cell(t, RUNLOG_COLUMN_BOOL, &b);
    return rc ? rc : cell_done(t, rl_cbor_bool(b, v));
}

int runlog_table_null(runlog_table *t)
{
    rl_buf *b;
    int rc = next_cell(t, -1, &b);
    return rc ? rc : cell_done(t, rl_cbor_null(b));
}

int runlog_table_json(runlog_table *t, const char *json)
{
    rl_buf *b;
    int rc = next_cell(t, RUNLOG_COLUMN_VALUE, &b);
    if (rc)
        return rc;
    size_t before = b->len;
    /* Cells sit at depth 2 of the table blob: the map, "data", the column list. */
    if ((rc = rl_json_to_cbor(b, json, 0, 3))) {
        b->len = before;
        return rc;
    }
    return cell_done(t, 0);
}

int runlog_table_image(runlog_table *t, const void *pixels, uint32_t height, uint32_t width, uint32_t channels,
                       runlog_pixel_type type, const char *caption)
{
    rl_buf *b;
    int rc = next_cell(t, RUNLOG_COLUMN_IMAGE, &b);
    if (rc)
        return rc;
    size_t before = b->len;
    if ((rc = pixels_map(b, t->w, pixels, height, width, channels, type, caption))) {
        b->len = before;
        return rc;
    }
    return cell_done(t, 0);
}

int runlog_table_end_row(runlog_table *t)
{
    if (!t)
        return rl_fail(RUNLOG_EINVAL, "table is NULL");
    if (t->col != t->ncols)
        return rl_fail(RUNLOG_EINVAL, "row has %zu of its %zu cells", t->col, t->ncols);
    for (size_t i = 0; i < t->ncols; i++)
        t->committed[i] = t->cells[i].len;
    t->nrows++;
    t->col = 0;
    return 0;
}

static int put_names(rl_buf *b, const runlog_table *t)
{
    int rc = rl_cbor_text(b, "columns", 7);
    if (!rc)
        rc = rl_cbor_array(b, t->ncols);
    for (size_t i = 0; !rc && i < t->ncols; i++)
        rc = rl_cbor_text(b, t->names[i], strlen(t->names[i]));
    if (!rc)
        rc = rl_cbor_text(b, "types", 5);
    if (!rc)
        rc = rl_cbor_array(b, t->ncols);
    for (size_t i = 0; !rc && i < t->ncols; i++)
        rc = rl_cbor_text(b, column_type_names[t->types[i]], strlen(column_type_names[t->types[i]]));
    return rc;
}

int runlog_writer_add_table(runlog_writer *w, const char *key, runlog_table *t)
{
    int rc = rl_writer_check(w);
    if (rc || (rc = rl_check_key(key)))
        return rc;
    if (!t || t->w != w)
        return rl_fail(RUNLOG_EINVAL, "table is NULL or belongs to another writer");
    /* The blob (§12.4): {"columns": [...], "types": [...], "data": [[cells of
     * column 0], ...]} with the rows ended so far. It is stored piece by
     * piece (heads here, cells from the columns' own buffers), never copied
     * whole: a table costs its cells' bytes once. */
    rl_buf blob = { 0 }, cell = { 0 };
    rl_piece *pieces = calloc(2 * t->ncols + 1, sizeof *pieces);
    size_t *heads = calloc(t->ncols + 1, sizeof *heads);
    runlog_digest d;
    if (!pieces || !heads) {
        rc = RUNLOG_ENOMEM;
        goto done;
    }
    if ((rc = rl_cbor_map(&blob, 3)) || (rc = put_names(&blob, t)) || (rc = rl_cbor_text(&blob, "data", 4)) ||
        (rc = rl_cbor_array(&blob, t->ncols)))
        goto done;
    heads[0] = blob.len;
    for (size_t i = 0; i < t->ncols; i++) {
        if ((rc = rl_cbor_array(&blob, t->nrows)))
            goto done;
        heads[i + 1] = blob.len;
    }
    /* blob.p is final now: point the pieces into it. */
    pieces[0] = (rl_piece){ blob.p, heads[0] };
    for (size_t i = 0; i < t->ncols; i++) {
        pieces[1 + 2 * i] = (rl_piece){ blob.p + heads[i], heads[i + 1] - heads[i] };
        pieces[2 + 2 * i] = (rl_piece){ t->cells[i].p, t->committed[i] };
    }
    if ((rc = rl_writer_blob_pieces(&d, w, pieces, 2 * t->ncols + 1)))
        goto done;
    if ((rc = rl_cbor_map(&cell, 6)) || (rc = rl_cbor_text(&cell, "_type", 5)) ||
        (rc = rl_cbor_text(&cell, "table", 5)) || (rc = rl_cbor_text(&cell, "digest", 6)) ||
        (rc = rl_cbor_bytes(&cell, d.bytes, 16)) || (rc = rl_cbor_text(&cell, "nrows", 5)) ||
        (rc = rl_cbor_uint(&cell, t->nrows)) || (rc = rl_cbor_text(&cell, "ncols", 5)) ||
        (rc = rl_cbor_uint(&cell, t->ncols)) || (rc = put_names(&cell, t)))
        goto done;
    rc = rl_writer_media_cell(w, key, cell.p, cell.len, 0);
done:
    if (rc == RUNLOG_ENOMEM)
        rc = rl_fail(rc, "out of memory");
    free(pieces);
    free(heads);
    rl_buf_free(&blob);
    rl_buf_free(&cell);
    return rc;
}

/* ---- Reading: typed access to image maps (§12.3) ------------------------------- */

/* 1 when v is exactly the text s (a text may hold NUL bytes: no strcmp). */
static int text_is(const runlog_value *v, const char *s)
{
    return v && v->type == RUNLOG_STRING && v->n == strlen(s) && memcmp(v->u.s, s, v->n) == 0;
}

/* Why v is not a §12.3 image map (NULL when it is); fills *info. The raw
 * shape rule: height and width in 1..2^32-1, channels 1, 3 or 4, and
 * height x width x channels equal to "size" (compared without wrapping), so
 * that nobody sizes a pixel array from a map that disagrees with its blob. */
static const char *image_problem(const runlog_value *v, runlog_image_info *info)
{
    static const char *const formats[] = { "raw", "png", "jpeg" };
    const runlog_value *ty = runlog_value_get(v, "_type"), *dg = runlog_value_get(v, "digest"),
                       *fm = runlog_value_get(v, "format"), *cap = runlog_value_get(v, "caption");
    if (!v || v->type != RUNLOG_MAP || !text_is(ty, "image"))
        return "not an image map (a map whose \"_type\" is \"image\")";
    if (!dg || dg->type != RUNLOG_BYTES || dg->n != 16)
        return "\"digest\" is not 16 bytes";
    int f = 0;
    while (f < 3 && !text_is(fm, formats[f]))
        f++;
    if (f == 3)
        return "\"format\" is not \"raw\", \"png\" or \"jpeg\"";
    const char *const keys[] = { "width", "height", "channels", "size" };
    int64_t n[4];
    for (int k = 0; k < 4; k++) {
        const runlog_value *x = runlog_value_get(v, keys[k]);
        if (!x || x->type != RUNLOG_INT || x->u.i < 0)
            return k == 3 ? "\"size\" is not an unsigned integer"
                          : "\"width\", \"height\" or \"channels\" is not an unsigned integer";
        n[k] = x->u.i;
    }
    if (n[0] < 1 || n[0] > UINT32_MAX || n[1] < 1 || n[1] > UINT32_MAX)
        return "height or width outside 1..2^32-1";
    if (f == 0 ? n[2] != 1 && n[2] != 3 && n[2] != 4 : n[2] < 1 || n[2] > 4)
        return f == 0 ? "raw image channels not 1, 3 or 4" : "channels outside 1..4";
    /* h * w < 2^64; the product with c is compared without wrapping. */
    if (f == 0 && ((uint64_t)n[0] * (uint64_t)n[1] > UINT64_MAX / (uint64_t)n[2] ||
                   (uint64_t)n[0] * (uint64_t)n[1] * (uint64_t)n[2] != (uint64_t)n[3]))
        return "raw image size is not height x width x channels";
    if (cap && cap->type != RUNLOG_STRING)
        return "\"caption\" is not text";
    info->format = (runlog_image_format)f;
    info->width = (uint32_t)n[0];
    info->height = (uint32_t)n[1];
    info->channels = (uint32_t)n[2];
    info->size = (uint64_t)n[3];
    memcpy(info->digest.bytes, dg->u.s, 16);
    info->caption = cap ? cap->u.s : NULL;
    info->caption_len = cap ? cap->n : 0;
    return NULL;
}

int runlog_value_image(runlog_image_info *out, const runlog_value *v)
{
    if (!out || !v || out->version != RUNLOG_IMAGE_INFO_VERSION)
        return rl_fail(RUNLOG_EINVAL, "NULL argument, or info not RUNLOG_IMAGE_INFO_VERSION");
    runlog_image_info info = *out;
    const char *why = image_problem(v, &info);
    if (why)
        return rl_fail(RUNLOG_ECORRUPT, "image map: %s", why);
    *out = info;
    return 0;
}

int runlog_reader_image(void **out, size_t *len, runlog_reader *r, const runlog_value *image)
{
    if (!out || !len || !r || !image)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    runlog_image_info info = RUNLOG_IMAGE_INFO_INIT;
    const char *why = image_problem(image, &info);
    if (why)
        return rl_fail(RUNLOG_ECORRUPT, "%s: image map: %s", rl_reader_path(r), why);
    void *bytes;
    size_t n;
    int rc = runlog_reader_blob(&bytes, &n, r, &info.digest);
    if (rc)
        return rc;
    if (n != info.size) {
        char hex[33];
        runlog_digest_hex(hex, &info.digest);
        runlog_free(bytes);
        return rl_fail(RUNLOG_ECORRUPT, "%s: image %s: its map says %llu bytes, the blob holds %zu",
                       rl_reader_path(r), hex, (unsigned long long)info.size, n);
    }
    *out = bytes;
    *len = n;
    return 0;
}
