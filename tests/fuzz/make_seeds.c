/*
 * Writes the seed corpora of the fuzz targets: small run-logs written by the
 * library (every record type, images, a table, an artifact; resumed, with
 * partial rows, many small frames; torn and bit-flipped copies), and the pieces cut out of them — frame payloads,
 * history bodies with their column blocks, index bodies, CBOR record bodies.
 *
 *   fuzz_make_seeds OUTDIR      (creates OUTDIR/{reader,frame,history,index,cbor})
 *
 * Deterministic: fixed clock, salt and UUID, so re-running gives the same
 * files (names are a hash of the contents, so duplicates collapse).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static const char *outdir;
static char tmpdir[] = "/tmp/runlog-seeds-XXXXXX";

#define CHECK(x)                                                                     \
    do {                                                                             \
        if ((x) != 0) {                                                              \
            fprintf(stderr, "make_seeds: %s:%d: %s: %s\n", __FILE__, __LINE__, #x,   \
                    runlog_error_detail());                                          \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

static void put(const char *sub, const void *data, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a of the contents: its name */
    for (size_t i = 0; i < len; i++)
        h = (h ^ ((const uint8_t *)data)[i]) * 1099511628211ull;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, sub);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/seed-%016llx", outdir, sub, (unsigned long long)h);
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        fprintf(stderr, "make_seeds: %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

static int64_t fixed_clock(void *ctx)
{
    int64_t *t = ctx;
    return *t += 1000003;
}

static runlog_writer *open_writer(const char *path, int64_t *clock, uint32_t flush_bytes)
{
    static const uint8_t uuid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    static const char *tags[] = { "seed", "fuzz" };
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    o.run_id = "seedrun";
    o.project = "fuzz";
    o.name = "seed";
    o.group = "g";
    o.tags = tags;
    o.n_tags = 2;
    o.synchronous = 1;
    o.flush_interval_ms = RUNLOG_NO_TIMED_FLUSH;
    o.flush_bytes = flush_bytes;
    o.clock = fixed_clock;
    o.clock_ctx = clock;
    o.salt = 0x1122334455667788ull;
    o.file_uuid = uuid;
    runlog_writer *w;
    CHECK(runlog_writer_open(&w, path, &o));
    return w;
}

static void rows(runlog_writer *w, int from, int to)
{
    for (int i = from; i < to; i++) {
        CHECK(runlog_writer_add_double(w, "loss", 1.0 / (i + 1)));
        CHECK(runlog_writer_add_int(w, "epoch", i / 3));
        if (i % 2)
            CHECK(runlog_writer_add_double(w, "acc", i * 0.01));
        if (i % 3 == 0)
            CHECK(runlog_writer_add_bool(w, "best", i % 2));
        if (i == 4)
            CHECK(runlog_writer_add_string(w, "note", "h\xc3\xa9llo"));
        if (i == 5)
            CHECK(runlog_writer_add_null(w, "none"));
        if (i == 6)
            CHECK(runlog_writer_add_json(w, "hist", "{\"bins\":[1,2,3],\"n\":{\"x\":-1.5e300}}"));
        CHECK(runlog_writer_commit(w));
    }
}

/* A file with every record type, closed cleanly (index and trailer). */
static void write_full(const char *path)
{
    int64_t clock = 1700000000000000000;
    runlog_writer *w = open_writer(path, &clock, 0);
    CHECK(runlog_writer_config_json(w, "{\"lr\":0.001,\"arch\":\"CNN\",\"layers\":[64,128],"
                                       "\"opt\":{\"name\":\"adam\",\"betas\":[0.9,0.999]}}"));
    CHECK(runlog_writer_config_int(w, "epochs", 10));
    CHECK(runlog_writer_metadata_json(w, "{\"host\":\"node1\",\"gpu\":null}"));
    rows(w, 0, 8);
    CHECK(runlog_writer_summary_double(w, "best_acc", 0.93));
    CHECK(runlog_writer_alert(w, "slow", "step took 5 s", RUNLOG_ALERT_WARN));
    CHECK(runlog_writer_console(w, RUNLOG_STDOUT, "epoch 1\n", 8));
    /* Blobs (§12): an image cell, a table with an image column, a model
     * artifact of one small file. */
    uint8_t px[4 * 4 * 3];
    for (size_t k = 0; k < sizeof px; k++)
        px[k] = (uint8_t)(k * 13);
    CHECK(runlog_writer_add_image(w, "img", px, 4, 4, 3, RUNLOG_PIXELS_U8, "seed"));
    static const char *cols[] = { "id", "image", "label" };
    static const runlog_column_type types[] = { RUNLOG_COLUMN_INT, RUNLOG_COLUMN_IMAGE,
                                                RUNLOG_COLUMN_STRING };
    runlog_table *t;
    CHECK(runlog_table_new(&t, w, cols, types, 3));
    CHECK(runlog_table_int(t, 1));
    CHECK(runlog_table_image(t, px, 4, 4, 1, RUNLOG_PIXELS_U8, NULL));
    CHECK(runlog_table_string(t, "cat"));
    CHECK(runlog_table_end_row(t));
    CHECK(runlog_writer_add_table(w, "preds", t));
    runlog_table_free(t);
    CHECK(runlog_writer_commit(w));
    char model[600];
    snprintf(model, sizeof model, "%s/model.bin", tmpdir);
    FILE *mf = fopen(model, "wb");
    if (!mf || fputs("weights 0.1 0.2 0.3\n", mf) < 0 || fclose(mf) != 0)
        exit(1);
    static const char *aliases[] = { "best" };
    CHECK(runlog_writer_log_model(NULL, w, model, "model", aliases, 1));
    unlink(model);
    const char *keys[] = { "cpu", "mem" };
    const double vals[] = { 12.5, 0.75 };
    CHECK(runlog_writer_system(w, keys, vals, 2));
    CHECK(runlog_writer_finish(w, 0));
    CHECK(runlog_writer_close(w));
}

/* Closed without finish, resumed, closed with a row pending; small frames. */
static void write_resumed(const char *path)
{
    int64_t clock = 1700000000000000000;
    runlog_writer *w = open_writer(path, &clock, 200);
    rows(w, 0, 10);
    CHECK(runlog_writer_close(w));
    w = open_writer(path, &clock, 200);
    rows(w, 10, 14);
    CHECK(runlog_writer_add_double(w, "loss", 0.5)); /* pending: a partial record */
    CHECK(runlog_writer_close(w));
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        exit(1);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(*len + 1);
    if (!p || fread(p, 1, *len, f) != *len)
        exit(1);
    fclose(f);
    return p;
}

/* Cuts frame payloads and record bodies out of a file. */
static void extract(const char *path)
{
    int fd = open(path, O_RDONLY);
    rl_file_header hdr;
    uint64_t size;
    CHECK(rl_read_file_header(fd, path, &hdr, &size));
    rl_scanner s;
    rl_scanner_init(&s, fd, path, &hdr, RL_FILE_HEADER_SIZE);
    rl_frame f;
    memset(&f, 0, sizeof f);
    rl_scan_item it;
    while (rl_scanner_next(&s, &it) == 0 && it.kind != RL_SCAN_END && it.kind != RL_SCAN_TORN) {
        if (it.kind != RL_SCAN_FRAME)
            continue;
        put("frame", it.payload, it.h.payload_size);
        const char *why;
        if (it.h.kind != RL_FRAME_DATA && it.h.kind != RL_FRAME_INDEX)
            continue;
        CHECK(rl_frame_load(&f, &it, &why));
        rl_record_view rv;
        while (rl_stream_next(&f.stream, &rv, &why) == 0) {
            rl_buf b = { 0 };
            if (rv.type == RL_REC_HISTORY || rv.type == RL_REC_SYSTEM) {
                uint8_t head[6] = { (uint8_t)f.stream.nkeys, (uint8_t)f.payload.nblocks };
                rl_put_le32(head + 2, (uint32_t)rv.len);
                CHECK(rl_buf_put(&b, head, 6));
                CHECK(rl_buf_put(&b, rv.body, rv.len));
                for (uint32_t i = 1; i < f.payload.nblocks; i++) {
                    const uint8_t *raw;
                    CHECK(rl_frame_block(&f, i, &raw, &why));
                    uint8_t n[4];
                    rl_put_le32(n, f.payload.blocks[i].raw_len);
                    CHECK(rl_buf_put(&b, n, 4));
                    CHECK(rl_buf_put(&b, raw, f.payload.blocks[i].raw_len));
                }
                put("history", b.p, b.len);
            } else if (rv.type == RL_REC_INDEX) {
                CHECK(rl_buf_u8(&b, (uint8_t)f.stream.nkeys));
                CHECK(rl_buf_put(&b, rv.body, rv.len));
                put("index", b.p, b.len);
            } else {
                put("cbor", rv.body, rv.len);
            }
            rl_buf_free(&b);
        }
    }
    rl_frame_free(&f);
    rl_scanner_free(&s);
    close(fd);
}

/* The whole file, some torn prefixes, and a copy with a flipped bit. */
static void whole(const char *path)
{
    size_t len;
    uint8_t *p = slurp(path, &len);
    put("reader", p, len);
    put("reader", p, len * 2 / 3);
    put("reader", p, RL_FILE_HEADER_SIZE + 30);
    p[len / 2] ^= 0x10;
    put("reader", p, len);
    free(p);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_make_seeds OUTDIR\n");
        return 2;
    }
    outdir = argv[1];
    mkdir(outdir, 0755);
    if (!mkdtemp(tmpdir))
        return 1;
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/full.runlog", tmpdir);
    snprintf(b, sizeof b, "%s/resumed.runlog", tmpdir);
    write_full(a);
    write_resumed(b);
    extract(a);
    extract(b);
    whole(a);
    whole(b);
    /* Hand-made CBOR edge cases next to the extracted bodies. */
    static const uint8_t c1[] = { 0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1 }; /* NaN payload */
    static const uint8_t c2[] = { 0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }; /* INT64_MIN */
    static const uint8_t c3[] = { 0x82, 0xa1, 0x61, 0x6b, 0xf9, 0x3c, 0x00, 0x40 }; /* half float, bytes */
    put("cbor", c1, sizeof c1);
    put("cbor", c2, sizeof c2);
    put("cbor", c3, sizeof c3);
    unlink(a);
    unlink(b);
    rmdir(tmpdir);
    return 0;
}
