/*
 * test_media — blobs, images, tables and artifacts (issue 3), through the
 * public API: every image input (uint8 grey/RGB/RGBA, float32 and float64
 * under each scaling rule, PNG and JPEG bytes) and every table cell type
 * read back bit for bit; identical blobs stored once; artifact versions and
 * aliases, re-logging identical content, log_model; entry path validation;
 * digests checked on read (a flipped byte inside a stored blob, with the
 * frame checksums rebuilt so that only the digest can catch it); a table of
 * 10 000 rows x 13 columns with a 28x28 image column, read back cell by cell.
 *
 * Expected pixels and digests are computed here by hand or with libxxhash
 * (XXH3-128, canonical bytes), never taken from the library.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>
#include <xxhash.h>

typedef tu_fixture fixture;

/* ---- helpers ------------------------------------------------------------- */

static runlog_writer *open_writer(const char *path, tu_clock *clock)
{
    runlog_writer_options o;
    runlog_writer *w = NULL;

    clock->now = 1700000000000000000LL;
    clock->step_ns = 1000;
    tu_fixed_options(&o, clock, 1);
    TU_OK(runlog_writer_open(&w, path, &o));
    return w;
}

static runlog_reader *open_reader(const char *path)
{
    runlog_reader *r = NULL;
    TU_OK(runlog_reader_open(&r, path, NULL));
    return r;
}

/* The digest as XXH3-128 of the bytes, canonical form (computed here). */
static runlog_digest digest_of(const void *data, size_t len)
{
    XXH128_canonical_t c;
    runlog_digest d;

    XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
    memcpy(d.bytes, c.digest, 16);
    return d;
}

/* Runs check(value, ctx) on the value of key in the history row at step. */
typedef void (*field_check)(const runlog_value *v, void *ctx);

static void with_field(const char *path, uint64_t step, const char *key, field_check check,
                       void *ctx)
{
    runlog_reader *r = open_reader(path);
    const runlog_record *rec;
    int rc, seen = 0;
    size_t i;

    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        if (runlog_record_type_of(rec) != RUNLOG_RECORD_HISTORY || runlog_record_step(rec) != step)
            continue;
        for (i = 0; i < runlog_record_field_count(rec); i++)
            if (strcmp(runlog_record_field_key(rec, i), key) == 0) {
                check(runlog_record_field_value(rec, i), ctx);
                seen++;
            }
    }
    assert_int_equal(rc, RUNLOG_ITEROVER);
    assert_int_equal(seen, 1);
    runlog_reader_close(r);
}

static int64_t map_int(const runlog_value *m, const char *key)
{
    const runlog_value *v = runlog_value_get(m, key);
    assert_non_null(v);
    assert_int_equal(runlog_value_type(v), RUNLOG_INT);
    return runlog_value_int(v);
}

static const char *map_str(const runlog_value *m, const char *key)
{
    const runlog_value *v = runlog_value_get(m, key);
    assert_non_null(v);
    assert_int_equal(runlog_value_type(v), RUNLOG_STRING);
    return runlog_value_string(v, NULL);
}

/* An expected image: its map fields and its blob bytes. */
typedef struct want_image {
    const char *format;
    int64_t width, height, channels;
    const uint8_t *bytes;
    size_t len;
    const char *caption; /* NULL: no caption entry expected */
    const char *path;    /* the run-log, to read the blob */
} want_image;

static void check_image(const runlog_value *img, const want_image *w)
{
    runlog_digest got, want = digest_of(w->bytes, w->len);
    runlog_reader *r;
    void *data = NULL;
    size_t len = 0;

    assert_int_equal(runlog_value_type(img), RUNLOG_MAP);
    assert_string_equal(map_str(img, "_type"), "image");
    assert_string_equal(map_str(img, "format"), w->format);
    assert_int_equal(map_int(img, "width"), w->width);
    assert_int_equal(map_int(img, "height"), w->height);
    assert_int_equal(map_int(img, "channels"), w->channels);
    assert_int_equal(map_int(img, "size"), (int64_t)w->len);
    if (w->caption)
        assert_string_equal(map_str(img, "caption"), w->caption);
    else
        assert_null(runlog_value_get(img, "caption"));
    TU_OK(runlog_value_digest(&got, img));
    assert_memory_equal(got.bytes, want.bytes, 16);
    r = open_reader(w->path);
    TU_OK(runlog_reader_blob(&data, &len, r, &got));
    assert_int_equal(len, w->len);
    assert_memory_equal(data, w->bytes, len);
    runlog_free(data);
    runlog_reader_close(r);
}

static void check_one_image(const runlog_value *v, void *ctx)
{
    check_image(v, ctx);
}

/* ---- images -------------------------------------------------------------- */

/* A 1x1 RGB PNG, pixel (255, 128, 0): signature, IHDR (width 1, height 1,
 * depth 8, colour type 2), IDAT (zlib of filter byte 0 and ff 80 00), IEND;
 * CRCs computed with zlib.crc32 when this was written. */
static const uint8_t png_1x1[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00,
    0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0xf8, 0xdf, 0xc0, 0x00, 0x00, 0x04, 0x01, 0x01, 0x80, 0xc5, 0x2a, 0x18,
    0x5d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

/* A 3-wide, 2-high greyscale baseline JPEG (libjpeg, quality 50, no JFIF
 * segment): SOI, DQT, SOF0 at byte 0x47 (ff c0, length 11, precision 8,
 * height 00 02, width 00 03, 1 component), DHT x2, SOS, data, EOI. */
static const uint8_t jpeg_3x2[] = {
    0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x10, 0x0b, 0x0c, 0x0e, 0x0c, 0x0a, 0x10, 0x0e,
    0x0d, 0x0e, 0x12, 0x11, 0x10, 0x13, 0x18, 0x28, 0x1a, 0x18, 0x16, 0x16, 0x18, 0x31, 0x23,
    0x25, 0x1d, 0x28, 0x3a, 0x33, 0x3d, 0x3c, 0x39, 0x33, 0x38, 0x37, 0x40, 0x48, 0x5c, 0x4e,
    0x40, 0x44, 0x57, 0x45, 0x37, 0x38, 0x50, 0x6d, 0x51, 0x57, 0x5f, 0x62, 0x67, 0x68, 0x67,
    0x3e, 0x4d, 0x71, 0x79, 0x70, 0x64, 0x78, 0x5c, 0x65, 0x67, 0x63, 0xff, 0xc0, 0x00, 0x0b,
    0x08, 0x00, 0x02, 0x00, 0x03, 0x01, 0x01, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x06, 0xff, 0xc4, 0x00, 0x1d, 0x10, 0x00, 0x00, 0x05, 0x05, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x04, 0x05,
    0x15, 0x24, 0x32, 0x53, 0xd1, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00,
    0x55, 0x1b, 0x1c, 0xc6, 0x9e, 0x8d, 0x93, 0x7c, 0x75, 0x17, 0x83, 0xff, 0xd9};

/* Float inputs and the uint8 pixels the documented rule gives, by hand:
 * all in [0,1] -> x255; min < 0 and all in [-1,1] -> (v+1)*127.5; otherwise
 * as they are; then rounded to nearest and clipped; NaN -> 0. */
static const float f_unit[4] = {0.0f, 0.5f, 1.0f, 0.25f};   /* 0, 127.5, 255, 63.75 */
static const uint8_t u_unit[4] = {0, 128, 255, 64};
static const double f_signed[4] = {-1.0, 0.0, 0.5, 1.0};    /* 0, 127.5, 191.25, 255 */
static const uint8_t u_signed[4] = {0, 128, 191, 255};
static const float f_raw[4] = {0.0f, 3.0f, 300.0f, 7.6f};   /* as they are, 300 clipped */
static const uint8_t u_raw[4] = {0, 3, 255, 8};
static const double f_nan[2] = {NAN, 200.0};                /* NaN -> 0 */
static const uint8_t u_nan[2] = {0, 200};
static const double f_neg[2] = {-5.0, 10.0};                /* outside [-1,1]: clipped */
static const uint8_t u_neg[2] = {0, 10};

static const uint8_t grey_2x3[6] = {0, 1, 127, 128, 254, 255};
static uint8_t rgb_2x2[12], rgba_1x2[8];

typedef struct list_ctx {
    const want_image *want;
    size_t n;
} list_ctx;

static void check_image_list(const runlog_value *v, void *ctx)
{
    const list_ctx *l = ctx;
    size_t i;

    assert_int_equal(runlog_value_type(v), RUNLOG_LIST);
    assert_int_equal(runlog_value_count(v), l->n);
    for (i = 0; i < l->n; i++)
        check_image(runlog_value_item(v, i), &l->want[i]);
}

static void test_images(void **state)
{
    fixture *fx = *state;
    tu_clock clock;
    runlog_writer *w = open_writer(fx->path, &clock);
    uint8_t bad_png[sizeof png_1x1];
    size_t i;

    for (i = 0; i < sizeof rgb_2x2; i++)
        rgb_2x2[i] = (uint8_t)(i * 21);
    for (i = 0; i < sizeof rgba_1x2; i++)
        rgba_1x2[i] = (uint8_t)(255 - i * 30);
    TU_OK(runlog_writer_add_image(w, "grey", grey_2x3, 2, 3, 1, RUNLOG_PIXELS_U8, "a grey"));
    TU_OK(runlog_writer_add_image(w, "rgb", rgb_2x2, 2, 2, 3, RUNLOG_PIXELS_U8, NULL));
    TU_OK(runlog_writer_add_image(w, "rgba", rgba_1x2, 1, 2, 4, RUNLOG_PIXELS_U8, NULL));
    TU_OK(runlog_writer_add_image(w, "f/unit", f_unit, 2, 2, 1, RUNLOG_PIXELS_F32, NULL));
    TU_OK(runlog_writer_add_image(w, "f/signed", f_signed, 1, 4, 1, RUNLOG_PIXELS_F64, NULL));
    TU_OK(runlog_writer_add_image(w, "f/raw", f_raw, 4, 1, 1, RUNLOG_PIXELS_F32, NULL));
    TU_OK(runlog_writer_add_image(w, "f/nan", f_nan, 1, 2, 1, RUNLOG_PIXELS_F64, NULL));
    TU_OK(runlog_writer_add_image(w, "f/neg", f_neg, 1, 2, 1, RUNLOG_PIXELS_F64, NULL));
    TU_OK(runlog_writer_add_image_encoded(w, "png", png_1x1, sizeof png_1x1, "tiny png"));
    TU_OK(runlog_writer_add_image_encoded(w, "jpeg", jpeg_3x2, sizeof jpeg_3x2, NULL));
    /* Several images under one key in one row: a list, in order. */
    TU_OK(runlog_writer_add_image(w, "many", grey_2x3, 3, 2, 1, RUNLOG_PIXELS_U8, "first"));
    TU_OK(runlog_writer_add_image_encoded(w, "many", png_1x1, sizeof png_1x1, "second"));
    /* Refused: bad shapes and bad encoded bytes. */
    TU_RC(runlog_writer_add_image(w, "bad", grey_2x3, 2, 3, 2, RUNLOG_PIXELS_U8, NULL),
          RUNLOG_EINVAL);
    TU_RC(runlog_writer_add_image(w, "bad", grey_2x3, 0, 3, 1, RUNLOG_PIXELS_U8, NULL),
          RUNLOG_EINVAL);
    TU_RC(runlog_writer_add_image(w, "bad", NULL, 2, 3, 1, RUNLOG_PIXELS_U8, NULL), RUNLOG_EINVAL);
    memcpy(bad_png, png_1x1, sizeof bad_png);
    bad_png[1] = 'Q'; /* the signature */
    TU_RC(runlog_writer_add_image_encoded(w, "bad", bad_png, sizeof bad_png, NULL), RUNLOG_EINVAL);
    TU_RC(runlog_writer_add_image_encoded(w, "bad", png_1x1, 20, NULL), RUNLOG_EINVAL);
    TU_RC(runlog_writer_add_image_encoded(w, "bad", jpeg_3x2, 4, NULL), RUNLOG_EINVAL);
    TU_OK(runlog_writer_commit(w));
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));

    const char *p = fx->path;
    want_image grey = {"raw", 3, 2, 1, grey_2x3, 6, "a grey", p};
    want_image rgb = {"raw", 2, 2, 3, rgb_2x2, 12, NULL, p};
    want_image rgba = {"raw", 2, 1, 4, rgba_1x2, 8, NULL, p};
    want_image unit = {"raw", 2, 2, 1, u_unit, 4, NULL, p};
    want_image sgn = {"raw", 4, 1, 1, u_signed, 4, NULL, p};
    want_image raw = {"raw", 1, 4, 1, u_raw, 4, NULL, p};
    want_image nan_ = {"raw", 2, 1, 1, u_nan, 2, NULL, p};
    want_image neg = {"raw", 2, 1, 1, u_neg, 2, NULL, p};
    want_image png = {"png", 1, 1, 3, png_1x1, sizeof png_1x1, "tiny png", p};
    want_image jpg = {"jpeg", 3, 2, 1, jpeg_3x2, sizeof jpeg_3x2, NULL, p};
    want_image many[2] = {{"raw", 2, 3, 1, grey_2x3, 6, "first", p},
                          {"png", 1, 1, 3, png_1x1, sizeof png_1x1, "second", p}};
    list_ctx lc = {many, 2};

    with_field(p, 0, "grey", check_one_image, &grey);
    with_field(p, 0, "rgb", check_one_image, &rgb);
    with_field(p, 0, "rgba", check_one_image, &rgba);
    with_field(p, 0, "f/unit", check_one_image, &unit);
    with_field(p, 0, "f/signed", check_one_image, &sgn);
    with_field(p, 0, "f/raw", check_one_image, &raw);
    with_field(p, 0, "f/nan", check_one_image, &nan_);
    with_field(p, 0, "f/neg", check_one_image, &neg);
    with_field(p, 0, "png", check_one_image, &png);
    with_field(p, 0, "jpeg", check_one_image, &jpg);
    with_field(p, 0, "many", check_image_list, &lc);
}

/* ---- tables: every cell type --------------------------------------------- */

static const char *const t_names[] = {"i", "f", "s", "b", "img", "v"};
static const runlog_column_type t_types[] = {RUNLOG_COLUMN_INT, RUNLOG_COLUMN_FLOAT,
                                             RUNLOG_COLUMN_STRING, RUNLOG_COLUMN_BOOL,
                                             RUNLOG_COLUMN_IMAGE, RUNLOG_COLUMN_VALUE};
static const char *const t_type_names[] = {"int", "float", "string", "bool", "image", "value"};
#define T_ROWS 4
static const int64_t t_ints[T_ROWS] = {INT64_MIN, -1, 0, INT64_MAX};
static const uint64_t t_float_bits[T_ROWS] = {0x8000000000000000ull /* -0.0 */,
                                              0x7ff8000000000123ull /* NaN, payload */,
                                              0x7ff0000000000000ull /* +inf */,
                                              0x0000000000000001ull /* denormal */};
static const char *const t_strings[T_ROWS] = {"", "h\xc3\xa9llo", "a,b\n\"c\"", NULL};
static const char *const t_json[T_ROWS] = {"{\"a\":[1,2.5,null]}", "true", "null", "\"x\""};

static void add_table_rows(runlog_table *t)
{
    uint8_t px[4] = {9, 8, 7, 6};
    float fpx[4] = {0.0f, 0.5f, 1.0f, 0.25f};
    int r;

    for (r = 0; r < T_ROWS; r++) {
        TU_OK(runlog_table_int(t, t_ints[r]));
        TU_OK(runlog_table_float(t, tu_bits2d(t_float_bits[r])));
        if (t_strings[r])
            TU_OK(runlog_table_string(t, t_strings[r]));
        else
            TU_OK(runlog_table_null(t));
        TU_OK(runlog_table_bool(t, r & 1));
        if (r == 0)
            TU_OK(runlog_table_image(t, px, 2, 2, 1, RUNLOG_PIXELS_U8, "cell"));
        else if (r == 1)
            TU_OK(runlog_table_image(t, fpx, 2, 2, 1, RUNLOG_PIXELS_F32, NULL));
        else
            TU_OK(runlog_table_null(t));
        TU_OK(runlog_table_json(t, t_json[r]));
        TU_OK(runlog_table_end_row(t));
    }
}

static void check_table_map(const runlog_value *v, void *ctx)
{
    runlog_digest *out = ctx;
    const runlog_value *cols = runlog_value_get(v, "columns"), *types = runlog_value_get(v, "types");
    size_t c;

    assert_string_equal(map_str(v, "_type"), "table");
    assert_int_equal(map_int(v, "nrows"), T_ROWS);
    assert_int_equal(map_int(v, "ncols"), 6);
    assert_non_null(cols);
    assert_non_null(types);
    for (c = 0; c < 6; c++) {
        assert_string_equal(runlog_value_string(runlog_value_item(cols, c), NULL), t_names[c]);
        assert_string_equal(runlog_value_string(runlog_value_item(types, c), NULL), t_type_names[c]);
    }
    TU_OK(runlog_value_digest(out, v));
}

static void test_table_cells(void **state)
{
    fixture *fx = *state;
    tu_clock clock;
    runlog_writer *w = open_writer(fx->path, &clock);
    runlog_table *t = NULL;
    runlog_digest d;
    runlog_doc *doc = NULL;
    const runlog_value *data, *col, *cell;
    int r;

    TU_OK(runlog_table_new(&t, w, t_names, t_types, 6));
    /* A cell of the wrong type, and a row ended early, are refused. */
    TU_RC(runlog_table_string(t, "not an int"), RUNLOG_EINVAL);
    TU_OK(runlog_table_int(t, 1));
    TU_RC(runlog_table_end_row(t), RUNLOG_EINVAL);
    runlog_table_free(t);
    TU_OK(runlog_table_new(&t, w, t_names, t_types, 6));
    add_table_rows(t);
    TU_OK(runlog_writer_add_table(w, "tab", t));
    TU_OK(runlog_writer_commit(w));
    runlog_table_free(t);
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));

    with_field(fx->path, 0, "tab", check_table_map, &d);
    runlog_reader *rd = open_reader(fx->path);
    TU_OK(runlog_reader_table(&doc, rd, &d));
    data = runlog_value_get(runlog_doc_value(doc), "data");
    assert_non_null(data);
    assert_int_equal(runlog_value_count(data), 6);
    for (r = 0; r < T_ROWS; r++) {
        col = runlog_value_item(data, 0);
        assert_int_equal(runlog_value_count(col), T_ROWS);
        cell = runlog_value_item(col, r);
        assert_int_equal(runlog_value_type(cell), RUNLOG_INT);
        assert_true(runlog_value_int(cell) == t_ints[r]);
        cell = runlog_value_item(runlog_value_item(data, 1), r);
        assert_int_equal(runlog_value_type(cell), RUNLOG_FLOAT);
        assert_int_equal(tu_dbits(runlog_value_float(cell)), t_float_bits[r]);
        cell = runlog_value_item(runlog_value_item(data, 2), r);
        if (t_strings[r])
            assert_string_equal(runlog_value_string(cell, NULL), t_strings[r]);
        else
            assert_int_equal(runlog_value_type(cell), RUNLOG_NULL);
        cell = runlog_value_item(runlog_value_item(data, 3), r);
        assert_int_equal(runlog_value_type(cell), RUNLOG_BOOL);
        assert_int_equal(runlog_value_bool(cell), r & 1);
    }
    /* The value cells, checked against their JSON by type and content. */
    col = runlog_value_item(data, 5);
    cell = runlog_value_get(runlog_value_item(col, 0), "a");
    assert_int_equal(runlog_value_count(cell), 3);
    assert_int_equal(runlog_value_int(runlog_value_item(cell, 0)), 1);
    assert_int_equal(tu_dbits(runlog_value_float(runlog_value_item(cell, 1))), tu_dbits(2.5));
    assert_int_equal(runlog_value_type(runlog_value_item(cell, 2)), RUNLOG_NULL);
    assert_int_equal(runlog_value_type(runlog_value_item(col, 1)), RUNLOG_BOOL);
    assert_int_equal(runlog_value_type(runlog_value_item(col, 2)), RUNLOG_NULL);
    assert_string_equal(runlog_value_string(runlog_value_item(col, 3), NULL), "x");
    /* Image cells: image maps whose blobs hold the exact pixels. */
    col = runlog_value_item(data, 4);
    static const uint8_t px0[4] = {9, 8, 7, 6};
    want_image c0 = {"raw", 2, 2, 1, px0, 4, "cell", fx->path};
    want_image c1 = {"raw", 2, 2, 1, u_unit, 4, NULL, fx->path};
    check_image(runlog_value_item(col, 0), &c0);
    check_image(runlog_value_item(col, 1), &c1);
    assert_int_equal(runlog_value_type(runlog_value_item(col, 2)), RUNLOG_NULL);
    runlog_doc_free(doc);
    runlog_reader_close(rd);
}

/* ---- identical blobs stored once ----------------------------------------- */

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
    size_t i;
    uint64_t x;

    for (i = 0; i + 8 <= n; i += 8) {
        x = tu_rand64(&seed);
        memcpy(p + i, &x, 8);
    }
    for (; i < n; i++)
        p[i] = (uint8_t)tu_rand64(&seed);
}

static void test_blob_dedup(void **state)
{
    fixture *fx = *state;
    const size_t mib = 1u << 20;
    uint8_t *a = malloc(mib), *b = malloc(mib);
    char *file = tu_path(fx->dir, "same.bin");
    runlog_digest d1, d2, d3, d4;
    tu_clock clock;
    int64_t s0, s1, s2, s3, s4;
    uint64_t size = 0;

    assert_non_null(a);
    assert_non_null(b);
    fill_random(a, mib, 1);
    fill_random(b, mib, 2);
    tu_write_file(file, a, mib);
    runlog_writer *w = open_writer(fx->path, &clock);
    TU_OK(runlog_writer_flush(w));
    s0 = tu_file_size(fx->path);
    TU_OK(runlog_writer_blob(&d1, w, a, mib));
    TU_OK(runlog_writer_flush(w));
    s1 = tu_file_size(fx->path);
    TU_OK(runlog_writer_blob(&d2, w, a, mib));
    TU_OK(runlog_writer_flush(w));
    s2 = tu_file_size(fx->path);
    TU_OK(runlog_writer_blob_file(&d3, &size, w, file));
    TU_OK(runlog_writer_flush(w));
    s3 = tu_file_size(fx->path);
    TU_OK(runlog_writer_blob(&d4, w, b, mib));
    TU_OK(runlog_writer_flush(w));
    s4 = tu_file_size(fx->path);
    TU_OK(runlog_writer_close(w));
    print_message("# 1 MiB random blob: +%lld bytes; again: +%lld; as a file: +%lld; "
                  "other bytes: +%lld\n", (long long)(s1 - s0), (long long)(s2 - s1),
                  (long long)(s3 - s2), (long long)(s4 - s3));
    runlog_digest want = digest_of(a, mib);
    assert_memory_equal(d1.bytes, want.bytes, 16);
    assert_memory_equal(d2.bytes, want.bytes, 16);
    assert_memory_equal(d3.bytes, want.bytes, 16);
    assert_int_equal(size, mib);
    assert_memory_not_equal(d4.bytes, want.bytes, 16);
    /* Random bytes do not compress: the first copy takes at least 1 MiB, the
     * copies after it almost nothing (a record naming the digest at most). */
    assert_true(s1 - s0 >= (int64_t)mib);
    assert_true(s1 - s0 < (int64_t)(mib + mib / 16));
    assert_true(s2 - s1 < 4096);
    assert_true(s3 - s2 < 4096);
    assert_true(s4 - s3 >= (int64_t)mib);
    /* Both read back. */
    runlog_reader *r = open_reader(fx->path);
    void *data = NULL;
    size_t len = 0;
    TU_OK(runlog_reader_blob(&data, &len, r, &d1));
    assert_int_equal(len, mib);
    assert_memory_equal(data, a, mib);
    runlog_free(data);
    TU_OK(runlog_reader_blob(&data, &len, r, &d4));
    assert_int_equal(len, mib);
    assert_memory_equal(data, b, mib);
    runlog_free(data);
    /* A digest the file does not hold. */
    runlog_digest none;
    memset(none.bytes, 0xab, 16);
    data = (void *)&none;
    TU_RC(runlog_reader_blob(&data, &len, r, &none), RUNLOG_ENOTFOUND);
    assert_ptr_equal(data, (void *)&none); /* *out untouched on failure */
    runlog_reader_close(r);
    free(a);
    free(b);
    free(file);
}

/* Blobs read one after another from one frame load it once: a row of 300
 * small images (their chunks written in one frame) read image by image,
 * then one of them 1000 times (a history cell of 10^5 images naming one
 * blob took 10^5 frame loads, a decompression context made for each). A
 * second frame's blob read in between loads that frame, then the first
 * again, and every read returns its own bytes. */
#define FR_IMAGES 300
static void test_blob_frames_read(void **state)
{
    fixture *fx = *state;
    uint8_t px[FR_IMAGES][4], big[4096];
    runlog_digest d[FR_IMAGES], other;
    tu_clock clock;
    void *data;
    size_t len, i;

    runlog_writer *w = open_writer(fx->path, &clock);
    for (i = 0; i < FR_IMAGES; i++) {
        px[i][0] = (uint8_t)i, px[i][1] = (uint8_t)(i >> 8), px[i][2] = 7, px[i][3] = 9;
        d[i] = digest_of(px[i], 4);
        TU_OK(runlog_writer_add_image(w, "many", px[i], 2, 2, 1, RUNLOG_PIXELS_U8, NULL));
    }
    TU_OK(runlog_writer_commit(w));
    TU_OK(runlog_writer_flush(w));
    fill_random(big, sizeof big, 5);
    TU_OK(runlog_writer_blob(&other, w, big, sizeof big)); /* in a later frame */
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));

    runlog_reader *r = open_reader(fx->path);
    assert_int_equal(runlog_reader_blob_frames_read(r), 0);
    assert_int_equal(runlog_reader_blob_frames_read(NULL), 0);
    for (i = 0; i < FR_IMAGES; i++) {
        TU_OK(runlog_reader_blob(&data, &len, r, &d[i]));
        assert_int_equal(len, 4);
        assert_memory_equal(data, px[i], 4);
        runlog_free(data);
    }
    uint64_t loads = runlog_reader_blob_frames_read(r);
    print_message("# %d small blobs of one row: %llu frame loads\n", FR_IMAGES, (unsigned long long)loads);
    assert_true(loads >= 1);
    assert_true(loads <= 2); /* one frame, or two if the writer split them */
    for (i = 0; i < 1000; i++) {
        TU_OK(runlog_reader_blob(&data, &len, r, &d[FR_IMAGES - 1]));
        assert_int_equal(len, 4);
        assert_memory_equal(data, px[FR_IMAGES - 1], 4);
        runlog_free(data);
    }
    assert_int_equal(runlog_reader_blob_frames_read(r), loads);
    /* Another frame, then back. */
    TU_OK(runlog_reader_blob(&data, &len, r, &other));
    assert_int_equal(len, sizeof big);
    assert_memory_equal(data, big, sizeof big);
    runlog_free(data);
    assert_int_equal(runlog_reader_blob_frames_read(r), loads + 1);
    TU_OK(runlog_reader_blob(&data, &len, r, &d[FR_IMAGES - 1]));
    assert_memory_equal(data, px[FR_IMAGES - 1], 4);
    runlog_free(data);
    assert_int_equal(runlog_reader_blob_frames_read(r), loads + 2);
    runlog_reader_close(r);
}

/* ASan and TSan reserve terabytes of shadow memory: not under RLIMIT_AS. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MEDIA_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define MEDIA_SANITIZER 1
#endif
#endif

static const char *self_path; /* this program: argv[0] */

/* test_media --read-blob-limited PATH DIGEST: reads blob DIGEST of PATH
 * to /dev/null in this fresh process (whose heap holds no free space that
 * the writer left), its address space allowed to grow by 512 KiB only, less
 * than one 1 MiB chunk. Exit status 0: read (the limit is not enforced, as
 * under valgrind); 1: RUNLOG_ENOMEM saying "out of memory"; 2: another
 * error; 3: the set-up failed. */
static int read_blob_limited(const char *path, const char *hex)
{
    unsigned long pages = 0;
    runlog_reader *r = NULL;
    runlog_digest d;
    FILE *f;
    int null = open("/dev/null", O_WRONLY), rc;

    if (null < 0 || runlog_digest_parse(&d, hex) != 0 || runlog_reader_open(&r, path, NULL) != 0 ||
        !(f = fopen("/proc/self/statm", "r")))
        return 3;
    rc = fscanf(f, "%lu", &pages);
    fclose(f);
    if (rc != 1)
        return 3;
    /* Blocks over 128 KiB get address space of their own (mmap). */
    mallopt(M_MMAP_THRESHOLD, 128 << 10);
    rlim_t lim = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (512u << 10);
    struct rlimit rl = {lim, lim};
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        return 3;
    rc = runlog_reader_blob_to_fd(r, &d, null);
    if (rc == 0)
        return 0;
    fprintf(stderr, "# rc %d: %s\n", rc, runlog_error_detail());
    return rc == RUNLOG_ENOMEM && strstr(runlog_error_detail(), "out of memory") ? 1 : 2;
}

/* A blob read that runs out of memory says so (RUNLOG_ENOMEM), rather than
 * calling the frame malformed (it was RUNLOG_ECORRUPT "malformed frame"):
 * a 24 MiB blob of zeros (1 MiB chunks, each decompressed) read by
 * read_blob_limited(). Skipped under ASan and TSan. */
static void test_blob_enomem(void **state)
{
#ifdef MEDIA_SANITIZER
    (void)state;
    skip();
#else
    fixture *fx = *state;
    const size_t n = 24u << 20;
    uint8_t *zeros = calloc(1, n);
    runlog_digest d;
    tu_clock clock;
    char hex[33];
    int st;

    assert_non_null(zeros);
    runlog_writer *w = open_writer(fx->path, &clock);
    TU_OK(runlog_writer_blob(&d, w, zeros, n));
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
    free(zeros);
    runlog_digest_hex(hex, &d);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* argv[0], not /proc/self/exe: under valgrind (which does not
         * follow exec here) that is valgrind, which refuses to run it and
         * exits 1, read as "out of memory"; the program runs natively. */
        execl(self_path, "test_media", "--read-blob-limited", fx->path, hex, (char *)NULL);
        _exit(4);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    print_message("# 24 MiB blob read with 512 KiB of address space to spare: %s\n",
                  WEXITSTATUS(st) == 0 ? "read (the limit is not enforced here)"
                  : WEXITSTATUS(st) == 1 ? "out of memory" : "another error");
    assert_true(WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 1);
#endif
}

/* ---- one row's values replaced or grown many times ------------------------ */

enum { ROW_IMAGES = 4000, ROW_SETS = 400 };

/* In this process (a child of the test), its address space allowed to grow
 * by 256 MiB only (limited 0: no limit), one row of ROW_IMAGES 2x2 images under
 * "imgs" (pixel i: bytes i, i >> 8, 0, 1) and ROW_SETS 1 MiB strings set
 * under "note" one after another (the last, of 'z', kept), committed.
 * A row whose replaced values stayed in the writer's buffer held 600 MB of
 * earlier lists and 400 MB of strings. Exit status 0: written; 1: a call
 * failed (printed); 3: the set-up failed. */
static int write_row_limited(const char *path, int limited)
{
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%lu", &pages) != 1)
        return 3;
    fclose(f);
    char *note = malloc((1u << 20) + 1);
    if (!note)
        return 3;
    rlim_t lim = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (256u << 20);
    struct rlimit rl = {lim, lim};
    if (limited && setrlimit(RLIMIT_AS, &rl) != 0)
        return 3;
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_writer *w = NULL;
    int rc = runlog_writer_open(&w, path, &o);
    for (int i = 0; !rc && i < ROW_IMAGES; i++) {
        uint8_t px[4] = {(uint8_t)i, (uint8_t)(i >> 8), 0, 1};
        rc = runlog_writer_add_image(w, "imgs", px, 2, 2, 1, RUNLOG_PIXELS_U8, NULL);
    }
    for (int i = 0; !rc && i < ROW_SETS; i++) {
        memset(note, i == ROW_SETS - 1 ? 'z' : 'a' + i % 25, 1u << 20);
        note[1u << 20] = 0;
        rc = runlog_writer_add_string(w, "note", note);
    }
    if (!rc)
        rc = runlog_writer_commit(w);
    int crc = w ? runlog_writer_close(w) : 0;
    free(note);
    if (rc || crc) {
        fprintf(stderr, "# rc %d: %s\n", rc ? rc : crc, runlog_error_detail());
        return 1;
    }
    return 0;
}

static void check_row_images(const runlog_value *v, void *ctx)
{
    (void)ctx;
    assert_int_equal(runlog_value_type(v), RUNLOG_LIST);
    assert_int_equal(runlog_value_count(v), ROW_IMAGES);
    for (size_t i = 0; i < ROW_IMAGES; i++) {
        const runlog_value *m = runlog_value_item(v, i);
        assert_string_equal(map_str(m, "_type"), "image");
        uint8_t px[4] = {(uint8_t)i, (uint8_t)(i >> 8), 0, 1};
        runlog_digest want = digest_of(px, 4), got;
        TU_OK(runlog_value_digest(&got, m));
        assert_memory_equal(got.bytes, want.bytes, 16);
    }
}

static void check_row_note(const runlog_value *v, void *ctx)
{
    (void)ctx;
    size_t n;
    const char *s = runlog_value_string(v, &n);
    assert_int_equal(n, 1u << 20);
    assert_true(s[0] == 'z' && s[n - 1] == 'z');
}

/* A value that replaces the one its key has in the row being built takes
 * the old one's place in the writer's buffer, and an image added under a
 * key that holds a list of images grows the list where it is: the buffer
 * stays the size of the row's values. Before, every image copied the
 * list and every set kept the old bytes (10,600 images in one cell made
 * 4 GiB of them, past the cells' 32-bit offsets: a corrupt frame). Written
 * under a 256 MiB address-space limit (write_row_limited), which the old
 * buffer overran; under ASan and TSan, which cannot run under the limit,
 * without it. */
static void test_row_values_replaced(void **state)
{
    fixture *fx = *state;
#ifdef MEDIA_SANITIZER
    assert_int_equal(write_row_limited(fx->path, 0), 0);
#else
    int st;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(write_row_limited(fx->path, 1));
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
#endif
    runlog_report *rep = NULL;
    TU_OK(runlog_verify(&rep, fx->path));
    assert_int_equal(runlog_report_intact(rep), 1);
    runlog_report_free(rep);
    with_field(fx->path, 0, "imgs", check_row_images, NULL);
    with_field(fx->path, 0, "note", check_row_note, NULL);
}

/* ---- artifacts: versions, aliases, identical content --------------------- */

static const runlog_value *artifact_version(const runlog_value *arts, const char *name,
                                            int64_t version)
{
    size_t i;

    for (i = 0; i < runlog_value_count(arts); i++) {
        const runlog_value *a = runlog_value_item(arts, i);
        if (strcmp(map_str(a, "name"), name) == 0 && map_int(a, "version") == version)
            return a;
    }
    return NULL;
}

static int holds_alias(const runlog_value *a, const char *alias)
{
    const runlog_value *l = runlog_value_get(a, "aliases");
    size_t i;

    assert_non_null(l);
    for (i = 0; i < runlog_value_count(l); i++)
        if (strcmp(runlog_value_string(runlog_value_item(l, i), NULL), alias) == 0)
            return 1;
    return 0;
}

static uint32_t log_dir_artifact(runlog_writer *w, const char *dir, const char *alias)
{
    runlog_artifact *a = NULL;
    uint32_t v = 99;

    TU_OK(runlog_artifact_new(&a, "ckpt", "model"));
    TU_OK(runlog_artifact_description(a, "a checkpoint"));
    TU_OK(runlog_artifact_metadata_json(a, "{\"epoch\": 3, \"dropout\": 0.41}"));
    if (alias)
        TU_OK(runlog_artifact_alias(a, alias));
    TU_OK(runlog_artifact_add_dir(a, dir, NULL));
    TU_OK(runlog_writer_log_artifact(&v, w, a));
    runlog_artifact_free(a);
    return v;
}

static void test_artifact_versions(void **state)
{
    fixture *fx = *state;
    char *src = tu_path(fx->dir, "src"), *sub = tu_path(fx->dir, "src/sub");
    char *f1 = tu_path(fx->dir, "src/weights.bin"), *f2 = tu_path(fx->dir, "src/sub/config.json");
    char *single = tu_path(fx->dir, "model.pt");
    uint8_t weights[5000];
    tu_clock clock;
    uint32_t v;

    assert_int_equal(mkdir(src, 0777), 0);
    assert_int_equal(mkdir(sub, 0777), 0);
    fill_random(weights, sizeof weights, 3);
    tu_write_file(f1, weights, sizeof weights);
    tu_write_file(f2, "{\"lr\": 0.1}", 11);
    tu_write_file(single, "pt", 2);

    runlog_writer *w = open_writer(fx->path, &clock);
    assert_int_equal(log_dir_artifact(w, src, "best"), 0);
    tu_write_file(f2, "{\"lr\": 0.2}", 11); /* new content: a new version */
    assert_int_equal(log_dir_artifact(w, src, "best"), 1);
    /* Identical to v1 (the latest): no new version, the alias is added. */
    assert_int_equal(log_dir_artifact(w, src, "again"), 1);
    /* Identical to v0: back to v0, still no new version. */
    tu_write_file(f2, "{\"lr\": 0.1}", 11);
    assert_int_equal(log_dir_artifact(w, src, "old"), 0);
    /* log_model: type "model", versions per name. */
    const char *aliases[] = {"epoch-3_dropout-0.41"};
    TU_OK(runlog_writer_log_model(&v, w, single, "net", aliases, 1));
    assert_int_equal(v, 0);
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));

    runlog_reader *r = open_reader(fx->path);
    runlog_run *run = NULL;
    TU_OK(runlog_reader_run(&run, r));
    const runlog_value *arts = runlog_run_artifacts(run);
    assert_non_null(arts);
    assert_int_equal(runlog_value_count(arts), 3); /* ckpt v0, ckpt v1, net v0 */
    const runlog_value *a0 = artifact_version(arts, "ckpt", 0);
    const runlog_value *a1 = artifact_version(arts, "ckpt", 1);
    const runlog_value *n0 = artifact_version(arts, "net", 0);
    assert_non_null(a0);
    assert_non_null(a1);
    assert_non_null(n0);
    assert_null(artifact_version(arts, "ckpt", 2));
    assert_string_equal(map_str(a0, "type"), "model");
    assert_string_equal(map_str(a0, "description"), "a checkpoint");
    assert_int_equal(map_int(runlog_value_get(a0, "metadata"), "epoch"), 3);
    /* Aliases at the end of the run: "best" moved to v1 (an alias names one
     * version of a name, as in W&B); "again" on v1; "old" on v0; "latest" on
     * exactly one version. */
    assert_false(holds_alias(a0, "best"));
    assert_true(holds_alias(a1, "best"));
    assert_true(holds_alias(a1, "again"));
    assert_true(holds_alias(a0, "old"));
    assert_int_equal(holds_alias(a0, "latest") + holds_alias(a1, "latest"), 1);
    print_message("# after re-logging v0's content last, latest is on v%d\n",
                  holds_alias(a0, "latest") ? 0 : 1);
    assert_true(holds_alias(n0, "latest"));
    assert_true(holds_alias(n0, "epoch-3_dropout-0.41"));
    assert_string_equal(map_str(n0, "type"), "model");
    /* Entries: relative paths kept, sizes, digests; bytes read back. */
    const runlog_value *entries = runlog_value_get(a0, "entries");
    assert_int_equal(runlog_value_count(entries), 2);
    int found_w = 0, found_c = 0;
    for (size_t i = 0; i < 2; i++) {
        const runlog_value *e = runlog_value_item(entries, i);
        const char *p = map_str(e, "path");
        runlog_digest d, want;
        char *out = tu_path(fx->dir, "out.bin");
        size_t len;
        unsigned char *got;
        TU_OK(runlog_value_digest(&d, e));
        TU_OK(runlog_reader_blob_to_file(r, &d, out));
        got = tu_read_file(out, &len);
        if (strcmp(p, "weights.bin") == 0) {
            found_w = 1;
            want = digest_of(weights, sizeof weights);
            assert_int_equal(map_int(e, "size"), sizeof weights);
            assert_int_equal(len, sizeof weights);
            assert_memory_equal(got, weights, len);
        } else {
            assert_string_equal(p, "sub/config.json");
            found_c = 1;
            want = digest_of("{\"lr\": 0.1}", 11);
            assert_int_equal(map_int(e, "size"), 11);
            assert_int_equal(len, 11);
            assert_memory_equal(got, "{\"lr\": 0.1}", 11);
        }
        assert_memory_equal(d.bytes, want.bytes, 16);
        free(got);
        free(out);
    }
    assert_true(found_w && found_c);
    runlog_run_free(run);
    runlog_reader_close(r);
    free(src), free(sub), free(f1), free(f2), free(single);
}

/* ---- entry paths --------------------------------------------------------- */

static void test_entry_paths(void **state)
{
    fixture *fx = *state;
    char *file = tu_path(fx->dir, "f.bin");
    static const char *const bad[] = {"/etc/passwd", "../evil", "a/../b", "a/..", "..",
                                      "./a", "a/./b", "a//b", "a/", "", "."};
    runlog_artifact *a = NULL;
    char *longp = malloc(RUNLOG_MAX_PATH + 2);
    size_t i;

    tu_write_file(file, "x", 1);
    TU_OK(runlog_artifact_new(&a, "paths", "dataset"));
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = runlog_artifact_add_file(a, file, bad[i]);
        if (rc != RUNLOG_EINVAL)
            fail_msg("entry path \"%s\": got %d, want RUNLOG_EINVAL", bad[i], rc);
        rc = runlog_artifact_add_reference(a, "/shared/x", bad[i], 1, NULL);
        if (rc != RUNLOG_EINVAL)
            fail_msg("reference path \"%s\": got %d, want RUNLOG_EINVAL", bad[i], rc);
    }
    TU_RC(runlog_artifact_add_dir(a, fx->dir, "../up"), RUNLOG_EINVAL);
    TU_RC(runlog_artifact_add_dir(a, fx->dir, "/abs"), RUNLOG_EINVAL);
    /* Over-long: RUNLOG_MAX_PATH + 1 bytes ("a/" repeated, then "a"). */
    for (i = 0; i < RUNLOG_MAX_PATH + 1; i++)
        longp[i] = (i % 2) ? '/' : 'a';
    longp[RUNLOG_MAX_PATH] = 'a';
    longp[RUNLOG_MAX_PATH + 1] = '\0';
    TU_RC(runlog_artifact_add_file(a, file, longp), RUNLOG_EINVAL);
    /* Exactly RUNLOG_MAX_PATH bytes is allowed (ends with 'a': "a/a/.../a" has
     * odd length, so cut one "a/" pair and end with "aa"). */
    longp[RUNLOG_MAX_PATH] = '\0';
    longp[RUNLOG_MAX_PATH - 1] = 'a';
    TU_OK(runlog_artifact_add_file(a, file, longp));
    /* Good paths. */
    TU_OK(runlog_artifact_add_file(a, file, "d/e/f.bin"));
    TU_OK(runlog_artifact_add_file(a, file, "..hidden/.x"));
    TU_OK(runlog_artifact_add_file(a, file, NULL));
    /* Names and types. */
    runlog_artifact *b = NULL;
    TU_RC(runlog_artifact_new(&b, "", "model"), RUNLOG_EINVAL);
    TU_RC(runlog_artifact_new(&b, "x", ""), RUNLOG_EINVAL);
    assert_null(b);
    runlog_artifact_free(a);
    free(longp);
    free(file);
}

/* ---- digests checked on read --------------------------------------------- */

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t varint_at(const uint8_t *p, size_t *i)
{
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
        uint8_t c = p[(*i)++];
        v |= (uint64_t)(c & 0x7f) << shift;
        if (c < 0x80)
            return v;
    }
}

/* Rebuilds the checksums (XXH3-64, seed 0) of the frame that holds byte pos
 * (spec/FORMAT.md §3: 48-byte headers from byte 72, payload_size at +24,
 * payload checksum at +32, header checksum of bytes 0..39 at +40), so that
 * only the blob's digest can notice the change. In a sealed file (header
 * incompat bit 1, §4.1) that is the checksum of the block holding pos in
 * the directory, then the directory's in the header. */
static void rechecksum_frame(uint8_t *buf, size_t len, size_t pos)
{
    size_t off = 72, size;
    int sealed = (le64(buf + 24) & 0x2) != 0;

    while (off + 48 <= len) {
        size = (size_t)(le64(buf + off + 24) & 0xffffffffu);
        uint8_t *payload = buf + off + 48;
        if (pos >= off + 48 && pos < off + 48 + size) {
            size_t dir = size;
            if (sealed) {
                size_t i = 0, n = (size_t)varint_at(payload, &i), at;
                static size_t sums[65536], starts[65536], lens[65536];
                for (size_t k = 0; k < n; k++) {
                    i++; /* codec */
                    (void)varint_at(payload, &i);
                    lens[k] = (size_t)varint_at(payload, &i);
                    sums[k] = i;
                    i += 8;
                }
                dir = at = i;
                for (size_t k = 0; k < n; k++) {
                    starts[k] = at;
                    at += lens[k];
                    if (pos - (off + 48) >= starts[k] && pos - (off + 48) < at)
                        put_le64(payload + sums[k], XXH3_64bits(payload + starts[k], lens[k]));
                }
            }
            put_le64(buf + off + 32, XXH3_64bits(payload, dir));
            put_le64(buf + off + 40, XXH3_64bits(buf + off, 40));
            return;
        }
        off += 48 + size;
    }
    fail_msg("no frame holds byte %zu", pos);
}

static void test_digest_checked(void **state)
{
    fixture *fx = *state;
    const size_t n = 256u << 10;
    uint8_t *blob = malloc(n), *file, *hit;
    char *copy = tu_path(fx->dir, "flipped.runlog"), *out = tu_path(fx->dir, "blob.out");
    runlog_digest d;
    tu_clock clock;
    size_t len;

    fill_random(blob, n, 4);
    runlog_writer *w = open_writer(fx->path, &clock);
    TU_OK(runlog_writer_blob(&d, w, blob, n));
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));

    /* Random bytes are stored as they are: find them and flip one byte in
     * the middle. */
    file = tu_read_file(fx->path, &len);
    hit = memmem(file, len, blob, 64);
    assert_non_null(hit);
    size_t pos = (size_t)(hit - file) + n / 2;
    assert_int_equal(file[pos], blob[n / 2]);
    file[pos] ^= 0x20;
    rechecksum_frame(file, len, pos);
    tu_write_file(copy, file, len);

    runlog_reader *r = open_reader(copy);
    void *data = (void *)blob;
    size_t got = 12345;
    char hex[33];
    TU_RC(runlog_reader_blob(&data, &got, r, &d), RUNLOG_ECHECKSUM);
    assert_ptr_equal(data, (void *)blob); /* no bytes returned */
    runlog_digest_hex(hex, &d);
    if (!strstr(runlog_error_detail(), hex))
        fail_msg("the detail \"%s\" does not name the digest %s", runlog_error_detail(), hex);
    TU_RC(runlog_reader_blob_to_file(r, &d, out), RUNLOG_ECHECKSUM);
    assert_false(tu_exists(out));
    char **names;
    size_t nn = tu_list_prefix(fx->dir, "blob.out", &names);
    assert_int_equal(nn, 0); /* no temporary file left either */
    tu_free_names(names, nn);
    runlog_reader_close(r);

    /* The same flip without rebuilt checksums: the frame is damaged, and
     * the blob is not returned either. */
    free(file);
    file = tu_read_file(fx->path, &len);
    file[pos] ^= 0x20;
    tu_write_file(copy, file, len);
    r = open_reader(copy);
    data = (void *)blob;
    assert_true(runlog_reader_blob(&data, &got, r, &d) < 0);
    assert_ptr_equal(data, (void *)blob);
    runlog_reader_close(r);
    /* The intact file reads back. */
    r = open_reader(fx->path);
    TU_OK(runlog_reader_blob(&data, &got, r, &d));
    assert_int_equal(got, n);
    assert_memory_equal(data, blob, n);
    runlog_free(data);
    runlog_reader_close(r);
    free(file);
    free(blob);
    free(copy);
    free(out);
}

/* ---- a 10 000 x 13 table with a 28x28 image column ----------------------- */

#define BIG_ROWS 10000
#define BIG_COLS 13

static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Image of row r: a digit-like pattern, distinct per row. */
static void big_image(uint8_t px[28 * 28], int r)
{
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++)
            px[y * 28 + x] = (uint8_t)((x * 7 + y * 13 + r * 31 + (x * y * r) % 17) & 0xff);
}

static double big_score(int r, int k)
{
    return (double)((r * 10 + k) % 997) / 997.0 - (k == 3 ? 0.0 : 1e-9 * r);
}

static void big_table_map(const runlog_value *v, void *ctx)
{
    assert_string_equal(map_str(v, "_type"), "table");
    assert_int_equal(map_int(v, "nrows"), BIG_ROWS);
    assert_int_equal(map_int(v, "ncols"), BIG_COLS);
    TU_OK(runlog_value_digest(ctx, v));
}

static void test_big_table(void **state)
{
    fixture *fx = *state;
    const char *names[BIG_COLS] = {"image", "pred", "target", "score_0", "score_1", "score_2",
                                   "score_3", "score_4", "score_5", "score_6", "score_7",
                                   "score_8", "score_9"};
    runlog_column_type types[BIG_COLS];
    uint8_t px[28 * 28];
    runlog_table *t = NULL;
    runlog_digest d;
    tu_clock clock;
    int r, k;

    types[0] = RUNLOG_COLUMN_IMAGE;
    types[1] = types[2] = RUNLOG_COLUMN_INT;
    for (k = 3; k < BIG_COLS; k++)
        types[k] = RUNLOG_COLUMN_FLOAT;
    long rss0 = peak_rss_kib();
    runlog_writer *w = open_writer(fx->path, &clock);
    TU_OK(runlog_table_new(&t, w, names, types, BIG_COLS));
    for (r = 0; r < BIG_ROWS; r++) {
        big_image(px, r);
        TU_OK(runlog_table_image(t, px, 28, 28, 1, RUNLOG_PIXELS_U8, NULL));
        TU_OK(runlog_table_int(t, r % 10));
        TU_OK(runlog_table_int(t, (r * 7) % 10));
        for (k = 0; k < 10; k++)
            TU_OK(runlog_table_float(t, big_score(r, k)));
        TU_OK(runlog_table_end_row(t));
    }
    TU_OK(runlog_writer_add_table(w, "predictions", t));
    TU_OK(runlog_writer_commit(w));
    runlog_table_free(t);
    TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
    long rss_write = peak_rss_kib();

    with_field(fx->path, 0, "predictions", big_table_map, &d);
    runlog_reader *rd = open_reader(fx->path);
    runlog_doc *doc = NULL;
    TU_OK(runlog_reader_table(&doc, rd, &d));
    const runlog_value *data = runlog_value_get(runlog_doc_value(doc), "data");
    assert_non_null(data);
    assert_int_equal(runlog_value_count(data), BIG_COLS);
    for (k = 0; k < BIG_COLS; k++)
        assert_int_equal(runlog_value_count(runlog_value_item(data, k)), BIG_ROWS);
    for (r = 0; r < BIG_ROWS; r++) {
        const runlog_value *img = runlog_value_item(runlog_value_item(data, 0), r);
        runlog_digest got, want;
        big_image(px, r);
        want = digest_of(px, sizeof px);
        assert_string_equal(map_str(img, "format"), "raw");
        assert_int_equal(map_int(img, "width"), 28);
        assert_int_equal(map_int(img, "height"), 28);
        assert_int_equal(map_int(img, "channels"), 1);
        assert_int_equal(map_int(img, "size"), 784);
        TU_OK(runlog_value_digest(&got, img));
        assert_memory_equal(got.bytes, want.bytes, 16);
        if (r % 500 == 0) { /* and some of the pixels themselves */
            void *bytes = NULL;
            size_t len = 0;
            TU_OK(runlog_reader_blob(&bytes, &len, rd, &got));
            assert_int_equal(len, sizeof px);
            assert_memory_equal(bytes, px, len);
            runlog_free(bytes);
        }
        assert_int_equal(runlog_value_int(runlog_value_item(runlog_value_item(data, 1), r)), r % 10);
        assert_int_equal(runlog_value_int(runlog_value_item(runlog_value_item(data, 2), r)),
                         (r * 7) % 10);
        for (k = 0; k < 10; k++) {
            const runlog_value *c = runlog_value_item(runlog_value_item(data, 3 + k), r);
            assert_int_equal(runlog_value_type(c), RUNLOG_FLOAT);
            TU_ASSERT_SAME_DOUBLE(runlog_value_float(c), big_score(r, k));
        }
    }
    long rss_read = peak_rss_kib();
    runlog_doc_free(doc);
    runlog_reader_close(rd);
    print_message("# table of %d rows x %d columns (raw cells %d KiB): file %lld KiB; peak RSS "
                  "%ld KiB at start, %ld KiB after logging, %ld KiB after reading back\n",
                  BIG_ROWS, BIG_COLS, BIG_ROWS * (784 + 12 * 8) / 1024,
                  (long long)tu_file_size(fx->path) / 1024, rss0, rss_write, rss_read);
}

int main(int argc, char **argv)
{
    self_path = argv[0];
    if (argc == 4 && strcmp(argv[1], "--read-blob-limited") == 0)
        return read_blob_limited(argv[2], argv[3]);
    /* The big table first, so that the peak RSS it prints is its own. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_big_table, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_images, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_table_cells, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_blob_dedup, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_blob_frames_read, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_blob_enomem, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_row_values_replaced, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_artifact_versions, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_entry_paths, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_digest_checked, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests_name("media", tests, NULL, NULL);
}
