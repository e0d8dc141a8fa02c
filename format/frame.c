/*
 * File header, frame header, payload blocks and the frame builder
 * (spec/FORMAT.md §2, §3, §4).
 */
#include <stdlib.h>

#include <xxhash.h>
#include <zstd.h>

#include "rlformat.h"

/* §2 file header, 72 bytes, little-endian:
 *   0 magic "\x89RUNLOG\n"   8 u16 major   10 u16 minor   12 u32 header size (72)
 *  16 u64 compat flags      24 u64 incompat flags         32 uuid[16]
 *  48 u64 salt              56 i64 created (Unix ns)      64 u64 XXH3-64 of bytes 0..63 */
void rl_file_header_encode(uint8_t out[RL_FILE_HEADER_SIZE], const rl_file_header *h)
{
    memcpy(out, RL_FILE_MAGIC, 8);
    rl_put_le16(out + 8, h->version_major);
    rl_put_le16(out + 10, h->version_minor);
    rl_put_le32(out + 12, RL_FILE_HEADER_SIZE);
    rl_put_le64(out + 16, h->compat_flags);
    rl_put_le64(out + 24, h->incompat_flags);
    memcpy(out + 32, h->uuid, 16);
    rl_put_le64(out + 48, h->salt);
    rl_put_le64(out + 56, (uint64_t)h->created_ns);
    rl_put_le64(out + 64, XXH3_64bits(out, 64));
}

int rl_file_header_decode(rl_file_header *out, const uint8_t *p, size_t len, const char **why)
{
    if (len < 8 || memcmp(p, RL_FILE_MAGIC, 8) != 0) {
        if (len < 8 && memcmp(p, RL_FILE_MAGIC, len) == 0) {
            *why = "file ends inside the file header (72 bytes expected)";
            return RUNLOG_ETRUNCATED;
        }
        *why = "not a run-log: magic \\x89RUNLOG\\n expected at byte 0";
        return RUNLOG_ENOTRUNLOG;
    }
    if (len < RL_FILE_HEADER_SIZE) {
        *why = "file ends inside the file header (72 bytes expected)";
        return RUNLOG_ETRUNCATED;
    }
    rl_file_header h;
    h.version_major = rl_le16(p + 8);
    h.version_minor = rl_le16(p + 10);
    /* The version comes before the checksum: another major version may lay
     * its header out differently. */
    if (h.version_major != RL_VERSION_MAJOR) {
        *why = "unsupported format major version (this reader knows version 1)";
        return RUNLOG_EUNSUPPORTED;
    }
    if (rl_le64(p + 64) != XXH3_64bits(p, 64)) {
        *why = "file header checksum mismatch (bytes 0..63)";
        return RUNLOG_ECHECKSUM;
    }
    if (rl_le32(p + 12) != RL_FILE_HEADER_SIZE) {
        *why = "unsupported file header size (72 expected)";
        return RUNLOG_EUNSUPPORTED;
    }
    h.compat_flags = rl_le64(p + 16);
    h.incompat_flags = rl_le64(p + 24);
    if (h.incompat_flags & ~RL_INCOMPAT_KNOWN) {
        *why = "file uses an incompatible feature this reader does not know";
        return RUNLOG_EUNSUPPORTED;
    }
    memcpy(h.uuid, p + 32, 16);
    h.salt = rl_le64(p + 48);
    h.created_ns = (int64_t)rl_le64(p + 56);
    *out = h;
    return 0;
}

/* §3 frame header, 48 bytes:
 *   0 u32 magic "RLFR"  4 u8 kind  5 u8 flags (0)  6 u16 reserved (0)
 *   8 u64 salt         16 u64 sequence number
 *  24 u32 payload size 28 u32 record count
 *  32 u64 XXH3-64 of the payload   40 u64 XXH3-64 of bytes 0..39 */
void rl_frame_header_encode(uint8_t out[RL_FRAME_HEADER_SIZE], const rl_frame_header *h)
{
    rl_put_le32(out, RL_FRAME_MAGIC);
    out[4] = h->kind;
    out[5] = h->flags;
    rl_put_le16(out + 6, 0);
    rl_put_le64(out + 8, h->salt);
    rl_put_le64(out + 16, h->seq);
    rl_put_le32(out + 24, h->payload_size);
    rl_put_le32(out + 28, h->record_count);
    rl_put_le64(out + 32, h->payload_checksum);
    rl_put_le64(out + 40, XXH3_64bits(out, 40));
}

int rl_frame_header_decode(rl_frame_header *out, const uint8_t p[RL_FRAME_HEADER_SIZE],
                           uint64_t salt, const char **why)
{
    if (rl_le32(p) != RL_FRAME_MAGIC) {
        *why = "frame magic \"RLFR\" expected";
        return RUNLOG_ECORRUPT;
    }
    if (rl_le64(p + 40) != XXH3_64bits(p, 40)) {
        *why = "frame header checksum mismatch";
        return RUNLOG_ECHECKSUM;
    }
    if (rl_le64(p + 8) != salt) {
        *why = "frame salt differs from the file's (a frame of another file)";
        return RUNLOG_ECORRUPT;
    }
    if (p[5] != 0 || rl_le16(p + 6) != 0) {
        *why = "reserved frame header bytes are not zero";
        return RUNLOG_ECORRUPT;
    }
    rl_frame_header h;
    h.kind = p[4];
    h.flags = p[5];
    h.salt = salt;
    h.seq = rl_le64(p + 16);
    h.payload_size = rl_le32(p + 24);
    h.record_count = rl_le32(p + 28);
    h.payload_checksum = rl_le64(p + 32);
    if (h.payload_size > RUNLOG_MAX_FRAME_PAYLOAD) {
        *why = "frame payload size over the limit (64 MiB)";
        return RUNLOG_ETOOLARGE;
    }
    *out = h;
    return 0;
}

/* Delimits a sealed directory (§4.1) in the first `have` bytes: the
 * varints must be well formed and the last checksum must end within them.
 * Only the structure is read here; limits and codecs are rl_payload_parse's. */
int rl_sealed_dir_len(const uint8_t *payload, size_t have, size_t *out, const char **why)
{
    rl_cur c = rl_cur_make(payload, have);
    uint64_t n, v;
    int rc = rl_cur_varint(&c, &n, why);
    if (rc)
        return RUNLOG_ECORRUPT;
    if (n == 0 || n > RL_MAX_BLOCKS || n * 11 > rl_cur_left(&c)) {
        *why = "sealed block directory: block count impossible for the bytes read";
        return RUNLOG_ECORRUPT;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (c.pos + 1 > c.len)
            goto short_dir;
        c.pos++; /* codec */
        if ((rc = rl_cur_varint(&c, &v, why)) || (rc = rl_cur_varint(&c, &v, why)))
            return RUNLOG_ECORRUPT;
        if (rl_cur_left(&c) < 8)
            goto short_dir;
        c.pos += 8;
    }
    *out = c.pos;
    return 0;
short_dir:
    *why = "sealed block directory runs past the bytes read";
    return RUNLOG_ECORRUPT;
}

int rl_payload_checksum(const uint8_t *payload, size_t len, int sealed, uint64_t *out,
                        const char **why)
{
    size_t n = len;
    if (sealed) {
        int rc = rl_sealed_dir_len(payload, len, &n, why);
        if (rc)
            return rc;
    }
    *out = XXH3_64bits(payload, n);
    return 0;
}

int rl_block_sealed_ok(const rl_block *b, const uint8_t *stored)
{
    return XXH3_64bits(stored, b->stored_len) == b->checksum;
}

/* §4 payload: varint block count, then per block {u8 codec, varint raw
 * length, varint stored length[, u64 checksum when sealed, §4.1]}, then the
 * blocks' stored bytes in order, filling the payload exactly. */
int rl_payload_parse(rl_payload *out, const uint8_t *payload, size_t have, size_t len, int sealed,
                     const char **why)
{
    rl_cur c = rl_cur_make(payload, have);
    uint64_t n;
    int rc = rl_cur_count(&c, RL_MAX_BLOCKS, &n, why);
    if (rc)
        return rc;
    uint64_t entry_min = sealed ? 11 : 3;
    if (n == 0 || n * entry_min > len - c.pos) {
        *why = "block count impossible for the payload size";
        return RUNLOG_ECORRUPT;
    }
    rl_block *blocks = calloc(n, sizeof *blocks);
    if (!blocks)
        return RUNLOG_ENOMEM;
    uint64_t raw_total = 0, stored_total = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t raw, stored;
        if ((rc = rl_cur_u8(&c, &blocks[i].codec, why)) ||
            (rc = rl_cur_count(&c, RUNLOG_MAX_BLOCK_RAW, &raw, why)) ||
            (rc = rl_cur_count(&c, RUNLOG_MAX_FRAME_PAYLOAD, &stored, why)))
            goto fail;
        if (sealed) {
            if (rl_cur_left(&c) < 8) {
                *why = "sealed block directory runs past the payload";
                rc = RUNLOG_ECORRUPT;
                goto fail;
            }
            blocks[i].checksum = rl_le64(c.p + c.pos);
            c.pos += 8;
        }
        if (blocks[i].codec != RL_CODEC_RAW && blocks[i].codec != RL_CODEC_ZSTD) {
            *why = "unknown block codec";
            rc = RUNLOG_EUNSUPPORTED;
            goto fail;
        }
        if (blocks[i].codec == RL_CODEC_RAW && raw != stored) {
            *why = "raw block whose stored length differs from its raw length";
            rc = RUNLOG_ECORRUPT;
            goto fail;
        }
        raw_total += raw;
        stored_total += stored;
        blocks[i].raw_len = (uint32_t)raw;
        blocks[i].stored_len = (uint32_t)stored;
    }
    if (raw_total > RL_MAX_FRAME_RAW) {
        *why = "frame decompresses to more than the limit (256 MiB)";
        rc = RUNLOG_ETOOLARGE;
        goto fail;
    }
    if (stored_total != len - c.pos) {
        *why = "block lengths do not add up to the payload size";
        rc = RUNLOG_ECORRUPT;
        goto fail;
    }
    size_t pos = c.pos;
    for (uint64_t i = 0; i < n; i++) {
        blocks[i].pos = (uint32_t)pos;
        blocks[i].stored = pos + blocks[i].stored_len <= have ? payload + pos : NULL;
        pos += blocks[i].stored_len;
    }
    out->nblocks = (uint32_t)n;
    out->blocks = blocks;
    out->borrowed = 0;
    return 0;
fail:
    free(blocks);
    return rc;
}

int rl_sealed_check(const uint8_t *payload, size_t len, uint64_t checksum, const char **why)
{
    size_t dir;
    if (rl_sealed_dir_len(payload, len, &dir, why)) {
        *why = "sealed block directory cannot be delimited";
        return RUNLOG_ECHECKSUM;
    }
    if (XXH3_64bits(payload, dir) != checksum) {
        *why = "frame directory checksum mismatch";
        return RUNLOG_ECHECKSUM;
    }
    /* The directory is the writer's: walk its blocks again for their
     * checksums (its varints are well formed: delimited above). */
    rl_cur c = rl_cur_make(payload, dir);
    uint64_t n, v, stored, total = 0;
    const char *ignored;
    rl_cur_varint(&c, &n, &ignored);
    size_t at = dir;
    for (uint64_t i = 0; i < n; i++) {
        c.pos++;
        rl_cur_varint(&c, &v, &ignored);
        rl_cur_varint(&c, &stored, &ignored);
        uint64_t sum = rl_le64(c.p + c.pos);
        c.pos += 8;
        total += stored;
        if (total > len - dir)
            return 0; /* malformed, not damaged: rl_payload_parse says so */
        if (XXH3_64bits(payload + at, (size_t)stored) != sum) {
            *why = "block checksum mismatch";
            return RUNLOG_ECHECKSUM;
        }
        at += (size_t)stored;
    }
    return 0;
}

void rl_payload_free(rl_payload *p)
{
    if (!p->borrowed)
        free(p->blocks);
    p->borrowed = 0;
    p->blocks = NULL;
    p->nblocks = 0;
}

void *rl_dctx_new(void) { return ZSTD_createDCtx(); }
void rl_dctx_free(void *dctx) { ZSTD_freeDCtx(dctx); }

int rl_block_check_framing(const rl_block *b, const char **why)
{
    if (b->codec == RL_CODEC_RAW)
        return 0;
    /* One whole zstd frame that declares its content size (§4). */
    unsigned long long size = ZSTD_getFrameContentSize(b->stored, b->stored_len);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
        *why = "zstd block without a valid frame header and content size";
        return RUNLOG_ECORRUPT;
    }
    if (size != b->raw_len) {
        *why = "zstd content size differs from the block's raw length";
        return RUNLOG_ECORRUPT;
    }
    if (ZSTD_findFrameCompressedSize(b->stored, b->stored_len) != b->stored_len) {
        *why = "zstd block is not exactly one zstd frame";
        return RUNLOG_ECORRUPT;
    }
    return 0;
}

int rl_block_decode(const rl_block *b, uint8_t *dst, void *zstd_dctx, const char **why)
{
    if (b->codec == RL_CODEC_RAW) {
        if (b->raw_len)
            memcpy(dst, b->stored, b->raw_len);
        return 0;
    }
    int rc = rl_block_check_framing(b, why);
    if (rc)
        return rc;
    size_t got = zstd_dctx ? ZSTD_decompressDCtx(zstd_dctx, dst, b->raw_len, b->stored, b->stored_len)
                           : ZSTD_decompress(dst, b->raw_len, b->stored, b->stored_len);
    if (ZSTD_isError(got) || got != b->raw_len) {
        *why = "zstd block does not decompress";
        return RUNLOG_ECORRUPT;
    }
    return 0;
}

/* ---- Builder -------------------------------------------------------------- */

int rl_fb_init(rl_frame_builder *fb, int zstd_level)
{
    memset(fb, 0, sizeof *fb);
    fb->zstd_level = zstd_level;
    fb->zcctx = ZSTD_createCCtx();
    return fb->zcctx ? 0 : RUNLOG_ENOMEM;
}

void rl_fb_free(rl_frame_builder *fb)
{
    rl_buf_free(&fb->keys);
    rl_buf_free(&fb->records);
    rl_buf_free(&fb->scratch);
    rl_buf_free(&fb->enc_cols);
    rl_buf_free(&fb->enc_bitmaps);
    free(fb->colmap);
    rl_buf_free(&fb->fin_block0);
    rl_buf_free(&fb->fin_dir);
    rl_buf_free(&fb->fin_data);
    for (uint32_t i = 0; i < fb->blocks_cap; i++)
        rl_buf_free(&fb->blocks[i]);
    free(fb->blocks);
    free(fb->stored_raw);
    free(fb->pack_of);
    for (uint32_t i = 0; i < fb->packs_cap; i++)
        rl_buf_free(&fb->packs[i]);
    free(fb->packs);
    ZSTD_freeCCtx(fb->zcctx);
    memset(fb, 0, sizeof *fb);
}

void rl_fb_reset(rl_frame_builder *fb)
{
    fb->keys.len = 0;
    fb->nkeys = 0;
    fb->records.len = 0;
    fb->nrecords = 0;
    for (uint32_t i = 0; i < fb->nblocks; i++) {
        fb->blocks[i].len = 0;
        fb->pack_of[i] = 0;
    }
    fb->nblocks = 0;
    fb->npacks = 0;
}

int rl_fb_add_key(rl_frame_builder *fb, const char *key, size_t len)
{
    int rc = rl_buf_varint(&fb->keys, len);
    if (!rc)
        rc = rl_buf_put(&fb->keys, key, len);
    if (!rc)
        fb->nkeys++;
    return rc;
}

int rl_fb_add_record(rl_frame_builder *fb, uint8_t type, const void *body, size_t len)
{
    int rc = rl_buf_u8(&fb->records, type);
    if (!rc)
        rc = rl_buf_varint(&fb->records, len);
    if (!rc)
        rc = rl_buf_put(&fb->records, body, len);
    if (!rc)
        fb->nrecords++;
    return rc;
}

int rl_fb_new_block(rl_frame_builder *fb, rl_buf **out, uint32_t *index)
{
    if (fb->nblocks + 2 > RL_MAX_BLOCKS)
        return RUNLOG_ETOOLARGE;
    if (fb->nblocks == fb->blocks_cap) {
        uint32_t cap = fb->blocks_cap ? fb->blocks_cap * 2 : 16;
        rl_buf *b = realloc(fb->blocks, cap * sizeof *b);
        if (b)
            fb->blocks = b;
        uint8_t *r = realloc(fb->stored_raw, cap);
        if (r)
            fb->stored_raw = r;
        uint32_t *k = realloc(fb->pack_of, cap * sizeof *k);
        if (k)
            fb->pack_of = k;
        if (!b || !r || !k)
            return RUNLOG_ENOMEM;
        memset(b + fb->blocks_cap, 0, (cap - fb->blocks_cap) * sizeof *b);
        memset(k + fb->blocks_cap, 0, (cap - fb->blocks_cap) * sizeof *k);
        fb->blocks_cap = cap;
    }
    fb->stored_raw[fb->nblocks] = 0;
    *out = &fb->blocks[fb->nblocks];
    *index = ++fb->nblocks; /* block 0 is the record stream */
    return 0;
}

void rl_fb_block_raw(rl_frame_builder *fb, uint32_t index)
{
    if (index >= 1 && index <= fb->nblocks)
        fb->stored_raw[index - 1] = 1;
}

void rl_digest(uint8_t out[16], const void *data, size_t len)
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
    memcpy(out, c.digest, 16);
}

struct rl_digest_state {
    XXH3_state_t *x;
};

rl_digest_state *rl_digest_begin(void)
{
    rl_digest_state *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    s->x = XXH3_createState();
    if (!s->x) {
        free(s);
        return NULL;
    }
    XXH3_128bits_reset(s->x);
    return s;
}

void rl_digest_update(rl_digest_state *s, const void *data, size_t len)
{
    XXH3_128bits_update(s->x, data, len);
}

void rl_digest_end(rl_digest_state *s, uint8_t out[16])
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(s->x));
    memcpy(out, c.digest, 16);
    XXH3_freeState(s->x);
    free(s);
}

int rl_compressible(const void *data, size_t len)
{
    size_t n = len < 65536 ? len : 65536;
    if (n < 64)
        return 0;
    size_t bound = ZSTD_compressBound(n);
    void *tmp = malloc(bound);
    if (!tmp)
        return 1;
    size_t z = ZSTD_compress(tmp, bound, data, n, 1);
    free(tmp);
    return !ZSTD_isError(z) && z < n - n / 20;
}

/* Compresses src into dst (appended), or copies it when zstd does not help. */
static int put_block(rl_frame_builder *fb, rl_buf *dir, rl_buf *data, const uint8_t *src, size_t len,
                     int raw_only)
{
    if (len > RUNLOG_MAX_BLOCK_RAW)
        return RUNLOG_ETOOLARGE;
    size_t bound = ZSTD_compressBound(len);
    int rc = rl_buf_reserve(data, bound);
    if (rc)
        return rc;
    size_t z = 0;
    if (len >= 64 && !raw_only) {
        ZSTD_CCtx_setParameter(fb->zcctx, ZSTD_c_compressionLevel, fb->zstd_level);
        ZSTD_CCtx_setParameter(fb->zcctx, ZSTD_c_contentSizeFlag, 1);
        z = ZSTD_compress2(fb->zcctx, data->p + data->len, bound, src, len);
        if (ZSTD_isError(z))
            return RUNLOG_ENOMEM;
    }
    uint8_t codec = RL_CODEC_ZSTD;
    if (z == 0 || z >= len) {
        codec = RL_CODEC_RAW;
        z = len;
        if (len)
            memcpy(data->p + data->len, src, len);
    }
    const uint8_t *stored = data->p + data->len;
    data->len += z;
    if ((rc = rl_buf_u8(dir, codec)) || (rc = rl_buf_varint(dir, len)) || (rc = rl_buf_varint(dir, z)))
        return rc;
    if (!fb->seal_blocks)
        return 0;
    uint8_t sum[8];
    rl_put_le64(sum, XXH3_64bits(stored, z));
    return rl_buf_put(dir, sum, sizeof sum);
}

int rl_fb_finish(rl_frame_builder *fb, rl_buf *out, uint64_t *raw_total)
{
    rl_buf *block0 = &fb->fin_block0, *dir = &fb->fin_dir, *data = &fb->fin_data;
    int rc;
    block0->len = dir->len = data->len = 0;
    /* Block 0: key table then records (§5). */
    if ((rc = rl_buf_varint(block0, fb->nkeys)) ||
        (rc = rl_buf_put(block0, fb->keys.p, fb->keys.len)) ||
        (rc = rl_buf_put(block0, fb->records.p, fb->records.len)))
        goto done;
    if ((rc = rl_buf_varint(dir, fb->nblocks + 1)))
        goto done;
    uint64_t raw = block0->len;
    if ((rc = put_block(fb, dir, data, block0->p, block0->len, 0)))
        goto done;
    for (uint32_t i = 0; i < fb->nblocks; i++) {
        const rl_buf *b = fb->pack_of[i] ? &fb->packs[fb->pack_of[i] - 1] : &fb->blocks[i];
        raw += b->len;
        if ((rc = put_block(fb, dir, data, b->p, b->len, fb->stored_raw[i])))
            goto done;
    }
    if (raw > RL_MAX_FRAME_RAW || dir->len + data->len > RUNLOG_MAX_FRAME_PAYLOAD) {
        rc = RUNLOG_ETOOLARGE;
        goto done;
    }
    if ((rc = rl_buf_put(out, dir->p, dir->len)) || (rc = rl_buf_put(out, data->p, data->len)))
        goto done;
    if (raw_total)
        *raw_total = raw;
done:
    /* Keep the workspaces of ordinary frames; give back what an unusually
     * large one (a big table or blob chunk) made them grow to. */
    if (data->cap > RL_FB_KEEP_BYTES) {
        rl_buf_free(block0);
        rl_buf_free(dir);
        rl_buf_free(data);
    }
    return rc;
}

/* ---- Record stream (§5) ------------------------------------------------------ */

int rl_stream_open(rl_stream *out, const uint8_t *block0, size_t len, rl_arena *arena,
                   const char **why)
{
    rl_cur c = rl_cur_make(block0, len);
    uint64_t n;
    int rc = rl_cur_count(&c, RL_MAX_KEYS, &n, why);
    if (rc)
        return rc;
    if (n > rl_cur_left(&c)) {
        *why = "key count larger than the bytes that follow";
        return RUNLOG_ECORRUPT;
    }
    rl_str *keys = n ? rl_arena_alloc(arena, n * sizeof *keys) : NULL;
    if (n && !keys)
        return RUNLOG_ENOMEM;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t klen;
        const uint8_t *p;
        if ((rc = rl_cur_count(&c, RUNLOG_MAX_KEY, &klen, why)) ||
            (rc = rl_cur_bytes(&c, klen, &p, why)))
            return rc;
        if (!rl_key_valid(p, klen)) {
            *why = "key is not valid UTF-8, or holds U+0000 (§5)";
            return RUNLOG_ECORRUPT;
        }
        char *s = rl_arena_alloc(arena, klen + 1);
        if (!s)
            return RUNLOG_ENOMEM;
        memcpy(s, p, klen);
        keys[i].p = s;
        keys[i].n = (uint32_t)klen;
    }
    out->nkeys = (uint32_t)n;
    out->keys = keys;
    out->cur = c;
    return 0;
}

int rl_stream_next(rl_stream *s, rl_record_view *out, const char **why)
{
    if (rl_cur_left(&s->cur) == 0)
        return RUNLOG_ITEROVER;
    uint8_t type;
    uint64_t len;
    const uint8_t *body;
    int rc;
    if ((rc = rl_cur_u8(&s->cur, &type, why)) ||
        (rc = rl_cur_count(&s->cur, RUNLOG_MAX_BLOCK_RAW, &len, why)) ||
        (rc = rl_cur_bytes(&s->cur, len, &body, why)))
        return rc;
    out->type = type;
    out->body = body;
    out->len = len;
    return 0;
}

/* ---- Trailer (§7.2) ------------------------------------------------------------ */

void rl_trailer_encode(uint8_t out[RL_TRAILER_PAYLOAD], const rl_trailer *t)
{
    rl_put_le64(out, RL_TRAILER_MAGIC);
    rl_put_le64(out + 8, t->index_offset);
    rl_put_le64(out + 16, t->frame_count);
}

int rl_trailer_decode(rl_trailer *out, const uint8_t *p, size_t len, const char **why)
{
    if (len != RL_TRAILER_PAYLOAD || rl_le64(p) != RL_TRAILER_MAGIC) {
        *why = "trailer payload malformed";
        return RUNLOG_ECORRUPT;
    }
    out->index_offset = rl_le64(p + 8);
    out->frame_count = rl_le64(p + 16);
    return 0;
}
