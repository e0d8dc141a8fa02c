/*
 * test_packed.c — packed columns (spec/FORMAT.md §2.2, §6.1): small columns
 * of one history record sharing a block.
 *
 * Below the public API on purpose: the codec (rl_history_encode/decode) is
 * driven directly to see which columns were packed and to feed it crafted
 * descriptors, and the frames a writer appended are decoded to check that a
 * file created without the packed_columns flag never gets a packed column.
 *
 * usage: test_packed GOLDEN_DIR   (tests/data/golden/v1.0)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "rlformat.h"
#include "runlog.h"

static const char *golden_dir;

static uint64_t tu_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

/* ---- the codec ----------------------------------------------------------- */

/* A frame built by the encoder and parsed back as a reader would. */
typedef struct built {
    rl_buf payload;
    rl_frame f;
    rl_history h;
} built;

static void build_and_parse(built *b, const rl_frame_builder *fb_in, int pack, const rl_row *rows,
                            size_t nrows, uint32_t nkeys, const char *const *keys)
{
    rl_frame_builder fb;
    assert_int_equal(rl_fb_init(&fb, 3), 0);
    (void)fb_in;
    fb.pack_columns = pack;
    for (uint32_t k = 0; k < nkeys; k++)
        assert_int_equal(rl_fb_add_key(&fb, keys[k], strlen(keys[k])), 0);
    assert_int_equal(rl_history_encode(&fb, RL_REC_HISTORY, rows, nrows), 0);
    memset(b, 0, sizeof *b);
    assert_int_equal(rl_fb_finish(&fb, &b->payload, NULL), 0);
    rl_fb_free(&fb);
    const char *why = NULL;
    rl_scan_item it = { .payload = b->payload.p, .have = (uint32_t)b->payload.len, .fd = -1 };
    it.h.payload_size = (uint32_t)b->payload.len;
    assert_int_equal(rl_frame_load(&b->f, &it, &why), 0);
    rl_record_view v;
    assert_int_equal(rl_stream_next(&b->f.stream, &v, &why), 0);
    assert_int_equal(v.type, RL_REC_HISTORY);
    int rc = rl_frame_history(&b->f, &v, &b->h, &why);
    if (rc)
        fail_msg("decoding the record: %s", why);
}

static void built_free(built *b)
{
    rl_frame_free(&b->f);
    rl_buf_free(&b->payload);
}

#define NKEYS 300
#define NROWS 600

/* Key k has a value in row r when it is "dense" (key 0: 600 floats, 4800
 * bytes, too big to pack) or when r % 20 == k % 20 (30 values: small). */
static int has_cell(uint32_t k, uint32_t r)
{
    return k == 0 || r % 20 == k % 20;
}

static void make_cell(rl_cell *c, uint32_t k, uint32_t r, char *text, size_t text_len)
{
    c->key = k;
    switch (k % 6) {
    case 0: c->type = RL_COL_FLOAT; c->v.f = k * 1000.0 + r + 0.25; break;
    case 1: c->type = RL_COL_INT; c->v.i = (int64_t)k * 1000 - (int64_t)r * 7; break;
    case 2: c->type = RL_COL_BOOL; c->v.b = (int)((r + k) & 1); break;
    case 3:
        c->type = RL_COL_STRING;
        snprintf(text, text_len, "k%u r%u", k, r);
        c->v.s.p = (const uint8_t *)text;
        c->v.s.n = (uint32_t)strlen(text);
        break;
    case 4: c->type = RL_COL_CBOR; text[0] = (char)(0x18); text[1] = (char)(r & 0xff);
        c->v.s.p = (const uint8_t *)text; c->v.s.n = 2; break; /* CBOR uint r & 255 */
    default: c->type = RL_COL_NULL; break;
    }
}

typedef struct rows_fixture {
    rl_row rows[NROWS];
    rl_cell *cells;
    char *texts;
    char *keys[NKEYS];
} rows_fixture;

static rows_fixture *make_rows(void)
{
    rows_fixture *x = calloc(1, sizeof *x);
    x->cells = calloc((size_t)NROWS * NKEYS, sizeof *x->cells);
    x->texts = calloc((size_t)NROWS * NKEYS, 24);
    assert_non_null(x);
    assert_non_null(x->cells);
    assert_non_null(x->texts);
    for (uint32_t k = 0; k < NKEYS; k++) {
        char name[32];
        snprintf(name, sizeof name, "layer%03u/stat", k);
        x->keys[k] = strdup(name);
    }
    size_t n = 0;
    for (uint32_t r = 0; r < NROWS; r++) {
        x->rows[r].step = r;
        x->rows[r].time_ns = 1700000000000000000 + (int64_t)r * 1000;
        x->rows[r].cells = x->cells + n;
        for (uint32_t k = 0; k < NKEYS; k++)
            if (has_cell(k, r)) {
                make_cell(&x->cells[n], k, r, x->texts + n * 24, 24);
                n++;
                x->rows[r].ncells++;
            }
    }
    return x;
}

static void free_rows(rows_fixture *x)
{
    for (uint32_t k = 0; k < NKEYS; k++)
        free(x->keys[k]);
    free(x->cells);
    free(x->texts);
    free(x);
}

/* Every value of every column equals what was encoded. */
static void check_values(built *b, rows_fixture *x)
{
    const char *why = NULL;
    assert_int_equal(b->h.nrows, NROWS);
    for (uint32_t c = 0; c < b->h.ncols; c++) {
        const rl_hcol *col = &b->h.cols[c];
        runlog_value *vals;
        int rc = rl_frame_column(&b->f, col, &vals, &why);
        if (rc)
            fail_msg("column %u (key %u): %s", c, col->key, why);
        uint32_t i = 0;
        for (uint32_t r = 0; r < NROWS; r++) {
            assert_int_equal(rl_hcol_present(col, r), has_cell(col->key, r));
            if (!rl_hcol_present(col, r))
                continue;
            rl_cell want;
            char text[24];
            make_cell(&want, col->key, r, text, sizeof text);
            const runlog_value *v = &vals[i++];
            switch (want.type) {
            case RL_COL_FLOAT: assert_int_equal(v->type, RUNLOG_FLOAT); assert_true(v->u.f == want.v.f); break;
            case RL_COL_INT: assert_int_equal(v->type, RUNLOG_INT); assert_int_equal(v->u.i, want.v.i); break;
            case RL_COL_BOOL: assert_int_equal(v->type, RUNLOG_BOOL); assert_int_equal(v->u.b, want.v.b); break;
            case RL_COL_STRING: assert_int_equal(v->type, RUNLOG_STRING); assert_string_equal(v->u.s, text); break;
            case RL_COL_CBOR: assert_int_equal(v->type, RUNLOG_INT); assert_int_equal(v->u.i, r & 0xff); break;
            default: assert_int_equal(v->type, RUNLOG_NULL); break;
            }
        }
        assert_int_equal(i, col->count);
    }
}

static void test_small_columns_share_blocks(void **state)
{
    (void)state;
    rows_fixture *x = make_rows();
    built b;
    build_and_parse(&b, NULL, 1, x->rows, NROWS, NKEYS, (const char *const *)x->keys);
    check_values(&b, x);
    uint32_t packed = 0, valued = 0;
    for (uint32_t c = 0; c < b.h.ncols; c++) {
        const rl_hcol *col = &b.h.cols[c];
        valued += col->type != RL_COL_NULL;
        packed += col->packed;
        if (col->key == 0) /* 4800 bytes: a block of its own */
            assert_false(col->packed);
        if (col->packed)
            assert_true(col->len < RL_PACK_BELOW);
    }
    assert_int_equal(valued, 250);
    assert_int_equal(packed, 249);
    /* 249 small columns of 30 values, a few KiB in all: a handful of shared
     * blocks, each holding at most one column past RL_PACK_TARGET. */
    assert_true(b.f.payload.nblocks - 1 < 10);
    for (uint32_t i = 1; i < b.f.payload.nblocks; i++)
        assert_true(b.f.payload.blocks[i].raw_len < RL_PACK_TARGET + RL_PACK_BELOW);
    built_free(&b);
    free_rows(x);
}

static void test_no_packing_without_the_flag(void **state)
{
    (void)state;
    rows_fixture *x = make_rows();
    built b;
    build_and_parse(&b, NULL, 0, x->rows, NROWS, NKEYS, (const char *const *)x->keys);
    check_values(&b, x);
    for (uint32_t c = 0; c < b.h.ncols; c++)
        assert_false(b.h.cols[c].packed);
    assert_int_equal(b.f.payload.nblocks - 1, 250); /* one per non-null column */
    built_free(&b);
    free_rows(x);
}

/* One small column alone is written unpacked: packing it would only add
 * its length to the descriptor. */
static void test_single_small_column_unpacked(void **state)
{
    (void)state;
    rl_cell cell = { .key = 0, .type = RL_COL_FLOAT, .v.f = 1.5 };
    rl_row row = { 3, 42, 1, &cell };
    const char *keys[] = { "loss" };
    built b;
    build_and_parse(&b, NULL, 1, &row, 1, 1, keys);
    assert_int_equal(b.h.ncols, 1);
    assert_false(b.h.cols[0].packed);
    assert_int_equal(b.f.payload.nblocks, 2);
    built_free(&b);
}

/* ---- crafted descriptors ---------------------------------------------------
 * One row (step 0, time 0) and two float columns, keys 0 and 1, each with
 * presence `p0`/`p1`, in block 1 with slice lengths l0/l1; block 1 decodes to
 * `raw_len` bytes. */
static int decode_crafted(uint8_t type0, uint8_t p0, uint8_t l0, uint8_t p1, uint8_t l1,
                          uint32_t raw_len, rl_history *h, rl_arena *arena, const char **why)
{
    uint8_t body[32];
    size_t n = 0;
    body[n++] = 1;      /* nrows */
    body[n++] = 0;      /* step */
    body[n++] = 0;      /* zigzag time */
    body[n++] = 2;      /* ncols */
    body[n++] = 0;      /* key */
    body[n++] = type0;
    body[n++] = p0;
    if (type0 != RL_COL_NULL)
        body[n++] = 1;  /* block */
    if (p0 & RL_PRESENCE_PACKED)
        body[n++] = l0;
    body[n++] = 1;
    body[n++] = RL_COL_FLOAT;
    body[n++] = p1;
    body[n++] = 1;
    if (p1 & RL_PRESENCE_PACKED)
        body[n++] = l1;
    rl_block dir[2] = { { 0 }, { .codec = RL_CODEC_RAW, .raw_len = raw_len, .stored_len = raw_len } };
    return rl_history_decode(h, body, n, 2, dir, 2, arena, why);
}

static void test_crafted_slices(void **state)
{
    (void)state;
    rl_arena arena = { 0 };
    rl_history h;
    const char *why = NULL;
    const uint8_t P = RL_PRESENCE_PACKED;

    /* Two 8-byte slices of a 16-byte block: the second starts at 8. */
    assert_int_equal(decode_crafted(RL_COL_FLOAT, P, 8, P, 8, 16, &h, &arena, &why), 0);
    assert_int_equal(h.cols[0].offset, 0);
    assert_int_equal(h.cols[1].offset, 8);
    assert_int_equal(h.cols[1].len, 8);

    static const struct {
        uint8_t type0, p0, l0, p1, l1;
        uint32_t raw_len;
        const char *why;
    } bad[] = {
        { RL_COL_FLOAT, P, 8, P, 8, 24, "packed history columns do not fill their block" },
        { RL_COL_FLOAT, P, 8, P, 8, 12, "packed history column runs past the end of its block" },
        { RL_COL_FLOAT, P, 200, P, 8, 16, "packed history column runs past the end of its block" },
        { RL_COL_FLOAT, 0x04, 0, P, 8, 8, "unknown presence mode of a history column" },
        { RL_COL_FLOAT, P | 0x80, 8, P, 8, 16, "unknown presence mode of a history column" },
        { RL_COL_NULL, P, 8, P, 8, 8, "a null history column is marked packed" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        int rc = decode_crafted(bad[i].type0, bad[i].p0, bad[i].l0, bad[i].p1, bad[i].l1,
                                bad[i].raw_len, &h, &arena, &why);
        if (rc != RUNLOG_ECORRUPT || !why || strcmp(why, bad[i].why) != 0)
            fail_msg("case %zu: rc %d, why \"%s\", expected \"%s\"", i, rc, why ? why : "(none)",
                     bad[i].why);
    }

    /* A slice whose length does not match its values (4 bytes for one
     * float) is caught when the column is decoded. */
    assert_int_equal(decode_crafted(RL_COL_FLOAT, P, 4, P, 12, 16, &h, &arena, &why), 0);
    uint8_t block[16] = { 0 };
    runlog_value *vals;
    assert_int_equal(rl_history_column(&h.cols[0], block + h.cols[0].offset, &arena, &vals, &why),
                     RUNLOG_ECORRUPT);
    assert_string_equal(why, "history column size does not match its values");
    rl_arena_reset(&arena);
}

/* ---- the writer and the file header --------------------------------------- */

static char *tmp_copy(const char *src_dir, const char *name, char *dir_out, size_t dir_len)
{
    snprintf(dir_out, dir_len, "%s/runlog-packed-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir_out));
    char *dst = malloc(strlen(dir_out) + strlen(name) + 2);
    sprintf(dst, "%s/%s", dir_out, name);
    if (src_dir) {
        char src[4096];
        snprintf(src, sizeof src, "%s/%s", src_dir, name);
        FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
        assert_non_null(in);
        assert_non_null(out);
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, in)) > 0)
            assert_int_equal(fwrite(buf, 1, n, out), n);
        fclose(in);
        fclose(out);
    }
    return dst;
}

static void remove_dir(const char *dir, char *path)
{
    unlink(path);
    free(path);
    rmdir(dir);
}

static void read_header(const char *path, uint8_t out[RL_FILE_HEADER_SIZE])
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, out, RL_FILE_HEADER_SIZE, 0), RL_FILE_HEADER_SIZE);
    close(fd);
}

/* Commits `steps` rows of `keys` float keys named by fmt (with the key's
 * number), key k of step s holding k + s / div. */
static void log_grid(runlog_writer *w, int steps, int keys, const char *fmt, double div)
{
    for (int s = 0; s < steps; s++) {
        for (int k = 0; k < keys; k++) {
            char key[32];
            snprintf(key, sizeof key, fmt, k);
            assert_int_equal(runlog_writer_add_double(w, key, k + s / div), 0);
        }
        assert_int_equal(runlog_writer_commit(w), 0);
    }
}

/* Logs `steps` rows of 100 float keys (800-byte columns: packed when the
 * file allows it). */
static void log_wide_rows(const char *path, int steps)
{
    runlog_writer *w;
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    o.project = "p";
    o.name = "packed";
    assert_int_equal(runlog_writer_open(&w, path, &o), 0);
    log_grid(w, steps, 100, "layer%02d/norm", 1000.0);
    assert_int_equal(runlog_writer_close(w), 0);
}

/* A scanner over path's frames, as a reader of its header's format makes
 * one; the file's descriptor, for close(). */
static int open_scanner(rl_scanner *s, const char *path)
{
    uint8_t hdr[RL_FILE_HEADER_SIZE];
    read_header(path, hdr);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    rl_file_header fh;
    const char *why;
    assert_int_equal(rl_file_header_decode(&fh, hdr, sizeof hdr, &why), 0);
    rl_scanner_init(s, fd, path, &fh, RL_FILE_HEADER_SIZE);
    return fd;
}

/* Counts the packed and unpacked columns of every history record. */
static void count_columns(const char *path, uint32_t *packed, uint32_t *unpacked)
{
    rl_scanner s;
    int fd = open_scanner(&s, path);
    rl_frame f = { 0 };
    rl_scan_item it;
    *packed = *unpacked = 0;
    while (rl_scanner_next(&s, &it) == 0 && it.kind == RL_SCAN_FRAME) {
        if (it.h.kind != RL_FRAME_DATA)
            continue;
        const char *why = NULL;
        assert_int_equal(rl_frame_load(&f, &it, &why), 0);
        rl_record_view v;
        while (rl_stream_next(&f.stream, &v, &why) == 0) {
            if (v.type != RL_REC_HISTORY)
                continue;
            rl_history h;
            assert_int_equal(rl_frame_history(&f, &v, &h, &why), 0);
            for (uint32_t c = 0; c < h.ncols; c++)
                *(h.cols[c].packed ? packed : unpacked) += 1;
        }
    }
    assert_int_equal(it.kind, RL_SCAN_END);
    rl_frame_free(&f);
    rl_scanner_free(&s);
    close(fd);
}

static void test_new_file_announces_packing(void **state)
{
    (void)state;
    char dir[256];
    char *path = tmp_copy(NULL, "new.runlog", dir, sizeof dir);
    log_wide_rows(path, 20);
    uint8_t hdr[RL_FILE_HEADER_SIZE];
    read_header(path, hdr);
    assert_int_equal(rl_le16(hdr + 8), 1);                   /* version_major */
    assert_int_equal(rl_le16(hdr + 10), 2);                  /* version_minor */
    assert_int_equal(rl_le64(hdr + 24), RL_INCOMPAT_PACKED_COLUMNS | RL_INCOMPAT_SEALED_BLOCKS);
    uint32_t packed, unpacked;
    count_columns(path, &packed, &unpacked);
    assert_int_equal(packed, 100);
    assert_int_equal(unpacked, 0);
    remove_dir(dir, path);
}

/* A file made by a 1.0 writer: resuming it appends unpacked columns only, and
 * leaves the header (version 1.0, no flag) as it was. */
static void test_resumed_v10_file_stays_unpacked(void **state)
{
    (void)state;
    char dir[256];
    char *path = tmp_copy(golden_dir, "fixture.runlog", dir, sizeof dir);
    uint8_t before[RL_FILE_HEADER_SIZE], after[RL_FILE_HEADER_SIZE];
    read_header(path, before);
    assert_int_equal(rl_le16(before + 10), 0);
    assert_int_equal(rl_le64(before + 24), 0);
    log_wide_rows(path, 20);
    read_header(path, after);
    assert_memory_equal(before, after, RL_FILE_HEADER_SIZE);
    uint32_t packed, unpacked;
    count_columns(path, &packed, &unpacked);
    assert_int_equal(packed, 0);
    assert_true(unpacked >= 100);
    /* And the rows read back through the public API. */
    runlog_reader *r;
    assert_int_equal(runlog_reader_open(&r, path, NULL), 0);
    runlog_history *hist;
    assert_int_equal(runlog_reader_history(&hist, r, "layer07/norm"), 0);
    size_t n = runlog_history_length(hist);
    assert_int_equal(n, 20);
    const double *values = runlog_history_values(hist);
    for (size_t i = 0; i < n; i++)
        assert_true(values[i] == 7 + i / 1000.0);
    runlog_history_free(hist);
    runlog_reader_close(r);
    remove_dir(dir, path);
}

/* ---- random shapes through the public API --------------------------------
 * Rows of random width (1..1,500 of 2,000 keys, each key with a fixed type
 * and a random chance of being present) under several flush sizes, so that
 * records mix packed and unpacked columns, packs fill and close, large
 * columns sit between small ones, and keys change type (a second column of
 * the same key in one record). Every value must read back exactly. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#define RKEYS 2000

/* The value of key k at step t: its type changes with t for keys % 97 == 0. */
static int cell_of(uint64_t seed, uint32_t k, uint64_t t, int *type, int64_t *iv, double *fv, char *sv)
{
    uint64_t s = seed ^ (k * 0x9E3779B97F4A7C15ull) ^ (t * 0xBF58476D1CE4E5B9ull) ^ 1;
    rng_next(&s);
    uint64_t r = rng_next(&s);
    uint32_t density = 1 + (uint32_t)((k * 2654435761u) % 100); /* 1..100 % */
    if (r % 100 >= density)
        return 0;
    *type = (int)((k + (k % 97 == 0 ? t / 3 : 0)) % 5);
    *iv = (int64_t)(rng_next(&s) >> 3) - (int64_t)(1ll << 59);
    uint64_t bits = rng_next(&s);
    memcpy(fv, &bits, 8);
    if (*fv != *fv)
        *fv = (double)k; /* NaN compares badly; NaN round trips are tested elsewhere */
    snprintf(sv, 32, "s%llu", (unsigned long long)(rng_next(&s) % 100000));
    return 1;
}

static void test_random_shapes_round_trip(void **state)
{
    (void)state;
    static const uint32_t flush[] = { 0, 4096, 65536, 300000 };
    for (size_t f = 0; f < sizeof flush / sizeof flush[0]; f++) {
        uint64_t seed = 0x1234567ull + f;
        char dir[256];
        char *path = tmp_copy(NULL, "random.runlog", dir, sizeof dir);
        runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
        o.flush_bytes = flush[f];
        runlog_writer *w;
        assert_int_equal(runlog_writer_open(&w, path, &o), 0);
        const uint64_t steps = 60;
        char key[32], sv[32];
        for (uint64_t t = 0; t < steps; t++) {
            uint64_t s = seed + t;
            uint32_t width = 1 + (uint32_t)(rng_next(&s) % 1500), first = (uint32_t)(rng_next(&s) % RKEYS);
            for (uint32_t j = 0; j < width; j++) {
                uint32_t k = (first + j) % RKEYS;
                int type;
                int64_t iv;
                double fv;
                if (!cell_of(seed, k, t, &type, &iv, &fv, sv))
                    continue;
                snprintf(key, sizeof key, "k%04u", k);
                switch (type) {
                case 0: assert_int_equal(runlog_writer_add_double(w, key, fv), 0); break;
                case 1: assert_int_equal(runlog_writer_add_int(w, key, iv), 0); break;
                case 2: assert_int_equal(runlog_writer_add_bool(w, key, (int)(iv & 1)), 0); break;
                case 3: assert_int_equal(runlog_writer_add_string(w, key, sv), 0); break;
                default: assert_int_equal(runlog_writer_add_null(w, key), 0); break;
                }
            }
            assert_int_equal(runlog_writer_commit(w), 0);
        }
        assert_int_equal(runlog_writer_close(w), 0);

        runlog_reader *r;
        assert_int_equal(runlog_reader_open(&r, path, NULL), 0);
        const runlog_record *rec;
        uint64_t t = 0, cells = 0;
        int rc;
        while ((rc = runlog_reader_next(r, &rec)) == 0) {
            if (runlog_record_type_of(rec) != RUNLOG_RECORD_HISTORY)
                continue;
            assert_int_equal(runlog_record_step(rec), t);
            /* Which keys the row should hold, and their values. */
            uint64_t s = seed + t;
            uint32_t width = 1 + (uint32_t)(rng_next(&s) % 1500), first = (uint32_t)(rng_next(&s) % RKEYS);
            size_t want = 0, n = runlog_record_field_count(rec);
            for (uint32_t j = 0; j < width; j++) {
                uint32_t k = (first + j) % RKEYS;
                int type;
                int64_t iv;
                double fv;
                if (cell_of(seed, k, t, &type, &iv, &fv, sv))
                    want++;
            }
            assert_int_equal(n, want);
            for (size_t i = 0; i < n; i++) {
                unsigned k;
                assert_int_equal(sscanf(runlog_record_field_key(rec, i), "k%u", &k), 1);
                int type;
                int64_t iv;
                double fv;
                assert_true(cell_of(seed, k, t, &type, &iv, &fv, sv));
                const runlog_value *v = runlog_record_field_value(rec, i);
                switch (type) {
                case 0: assert_int_equal(runlog_value_type(v), RUNLOG_FLOAT);
                        assert_int_equal(tu_bits(runlog_value_float(v)), tu_bits(fv)); break;
                case 1: assert_int_equal(runlog_value_type(v), RUNLOG_INT);
                        assert_int_equal(runlog_value_int(v), iv); break;
                case 2: assert_int_equal(runlog_value_type(v), RUNLOG_BOOL);
                        assert_int_equal(runlog_value_bool(v), (int)(iv & 1)); break;
                case 3: assert_int_equal(runlog_value_type(v), RUNLOG_STRING);
                        assert_string_equal(runlog_value_string(v, NULL), sv); break;
                default: assert_int_equal(runlog_value_type(v), RUNLOG_NULL); break;
                }
                cells++;
            }
            t++;
        }
        assert_int_equal(rc, RUNLOG_ITEROVER);
        assert_int_equal(t, steps);
        assert_true(cells > 10000);
        runlog_reader_close(r);
        uint32_t packed, unpacked;
        count_columns(path, &packed, &unpacked);
        if (packed == 0)
            fail_msg("flush_bytes %u: no column was packed", flush[f]);
        remove_dir(dir, path);
    }
}

/* ---- wide runs: long columns ----------------------------------------------
 * With the default flush size, a batch of wide rows grows past it until its
 * columns are long (lib/writer.c, "Wide batches"), within a bound on what
 * its frame holds. Under the old rule (up to 4 MiB of queue items) a row of
 * 2,000 float keys made frames of 162 rows. */

typedef struct frame_shape {
    uint32_t rows;      /* history rows */
    uint64_t raw;       /* decoded bytes of all its blocks, block 0 included */
    uint32_t ncols, unpacked;
} frame_shape;

/* The shape of each data frame of path that holds history rows; their count. */
static size_t frame_shapes(const char *path, frame_shape *out, size_t cap)
{
    rl_scanner s;
    int fd = open_scanner(&s, path);
    rl_frame f = { 0 };
    rl_scan_item it;
    size_t n = 0;
    while (rl_scanner_next(&s, &it) == 0 && it.kind == RL_SCAN_FRAME) {
        if (it.h.kind != RL_FRAME_DATA)
            continue;
        const char *why = NULL;
        assert_int_equal(rl_frame_load(&f, &it, &why), 0);
        frame_shape fs = { 0 };
        for (uint32_t b = 0; b < f.payload.nblocks; b++)
            fs.raw += f.payload.blocks[b].raw_len;
        rl_record_view v;
        while (rl_stream_next(&f.stream, &v, &why) == 0) {
            if (v.type != RL_REC_HISTORY)
                continue;
            rl_history h;
            assert_int_equal(rl_frame_history(&f, &v, &h, &why), 0);
            fs.rows += h.nrows;
            fs.ncols += h.ncols;
            for (uint32_t c = 0; c < h.ncols; c++)
                fs.unpacked += !h.cols[c].packed;
        }
        if (fs.rows) {
            assert_true(n < cap);
            out[n++] = fs;
        }
    }
    assert_int_equal(it.kind, RL_SCAN_END);
    rl_frame_free(&f);
    rl_scanner_free(&s);
    close(fd);
    return n;
}

/* flush_bytes: 0 for the default (batches of wide rows grow past it). */
static runlog_writer *open_untimed_flush(const char *path, uint32_t flush_bytes)
{
    runlog_writer *w;
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    o.project = "p";
    o.name = "wide";
    o.flush_interval_ms = RUNLOG_NO_TIMED_FLUSH; /* frames cut by size alone */
    o.flush_bytes = flush_bytes;
    assert_int_equal(runlog_writer_open(&w, path, &o), 0);
    return w;
}

static runlog_writer *open_untimed(const char *path) { return open_untimed_flush(path, 0); }

/* 1,200 rows of 2,000 float keys: frames of 384 rows (each key's column
 * 3 KiB, packed with its neighbours in blocks of 16 KiB, §6.1), then the rest. */
static void test_wide_rows_make_long_columns(void **state)
{
    (void)state;
    char dir[256];
    char *path = tmp_copy(NULL, "wide.runlog", dir, sizeof dir);
    runlog_writer *w = open_untimed(path);
    enum { KEYS = 2000, ROWS = 1200 };
    log_grid(w, ROWS, KEYS, "layers.%d.norm", 1024.0);
    assert_int_equal(runlog_writer_close(w), 0);
    frame_shape fs[64];
    size_t n = frame_shapes(path, fs, 64);
    print_message("%zu frames of history; the first: %u rows\n", n, fs[0].rows);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(fs[i].rows, 384);
    assert_int_equal(fs[3].rows, ROWS - 3 * 384);
    assert_int_equal(fs[0].ncols, KEYS);
    assert_int_equal(fs[0].unpacked, 0);
    /* And one key reads back whole. */
    runlog_reader *r;
    assert_int_equal(runlog_reader_open(&r, path, NULL), 0);
    runlog_history *hist;
    assert_int_equal(runlog_reader_history(&hist, r, "layers.1234.norm"), 0);
    assert_int_equal(runlog_history_length(hist), ROWS);
    const double *values = runlog_history_values(hist);
    for (size_t i = 0; i < ROWS; i++)
        assert_true(values[i] == 1234 + i / 1024.0);
    runlog_history_free(hist);
    runlog_reader_close(r);
    remove_dir(dir, path);
}

/* Rows of 10 keys reach the default 1 MiB with more than 384 rows: their
 * frames are cut where a flush_bytes of 1 MiB given explicitly (which never
 * grows) cuts them, row for row. */
static void test_narrow_rows_cut_at_flush_bytes(void **state)
{
    (void)state;
    frame_shape fs[2][64];
    size_t n[2];
    for (int pass = 0; pass < 2; pass++) {
        char dir[256];
        char *path = tmp_copy(NULL, "narrow.runlog", dir, sizeof dir);
        runlog_writer *w = open_untimed_flush(path, pass ? 1u << 20 : 0);
        log_grid(w, 30000, 10, "metric%d", 1024.0);
        assert_int_equal(runlog_writer_close(w), 0);
        n[pass] = frame_shapes(path, fs[pass], 64);
        remove_dir(dir, path);
    }
    print_message("%zu frames, the first of %u rows\n", n[0], fs[0][0].rows);
    assert_true(n[0] >= 4);
    assert_int_equal(n[0], n[1]);
    for (size_t i = 0; i < n[0]; i++)
        assert_int_equal(fs[0][i].rows, fs[1][i].rows);
}

/* Rows too big for 384 of them in a frame (200 string keys of 1,000
 * bytes: 200 KB a row) grow a batch only as far as the bound on what its
 * frame holds (40 MiB, within the 64 MiB of §4): ~200 rows a frame, where
 * the old rule (4 MiB of items) cut 20. */
static void test_wide_frames_stay_bounded(void **state)
{
    (void)state;
    char dir[256];
    char *path = tmp_copy(NULL, "bounded.runlog", dir, sizeof dir);
    runlog_writer *w = open_untimed(path);
    enum { KEYS = 200, ROWS = 300, LEN = 1000 };
    static char text[LEN + 1];
    uint64_t rng = 88172645463325252ull;
    for (int s = 0; s < ROWS; s++) {
        for (int k = 0; k < KEYS; k++) {
            char key[32];
            snprintf(key, sizeof key, "text.%d", k);
            for (int i = 0; i < LEN; i++)
                text[i] = (char)('a' + rng_next(&rng) % 26);
            assert_int_equal(runlog_writer_add_string(w, key, text), 0);
        }
        assert_int_equal(runlog_writer_commit(w), 0);
    }
    assert_int_equal(runlog_writer_close(w), 0);
    frame_shape fs[64];
    size_t n = frame_shapes(path, fs, 64);
    uint32_t total = 0;
    for (size_t i = 0; i < n; i++) {
        print_message("frame %zu: %u rows, %llu raw bytes\n", i, fs[i].rows, (unsigned long long)fs[i].raw);
        assert_true(fs[i].raw <= (40u << 20));
        total += fs[i].rows;
    }
    assert_int_equal(total, ROWS);
    assert_int_equal(n, 2);
    assert_true(fs[0].rows >= 180);
    remove_dir(dir, path);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_packed GOLDEN_DIR\n");
        return 2;
    }
    golden_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_columns_share_blocks),
        cmocka_unit_test(test_no_packing_without_the_flag),
        cmocka_unit_test(test_single_small_column_unpacked),
        cmocka_unit_test(test_crafted_slices),
        cmocka_unit_test(test_new_file_announces_packing),
        cmocka_unit_test(test_resumed_v10_file_stays_unpacked),
        cmocka_unit_test(test_random_shapes_round_trip),
        cmocka_unit_test(test_wide_rows_make_long_columns),
        cmocka_unit_test(test_narrow_rows_cut_at_flush_bytes),
        cmocka_unit_test(test_wide_frames_stay_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
