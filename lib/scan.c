/*
 * Reading frames from a file (spec/FORMAT.md §3, §8): the scanner walks
 * frames in order, checks every checksum, resynchronises after damage and
 * tells a torn tail (a crash while writing) from damage in the middle.
 * Also: frame decoding, the file header, locks and torn-tail sidecars.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

void rl_scanner_init(rl_scanner *s, int fd, const char *path, const rl_file_header *hdr,
                     uint64_t offset)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->path = path;
    s->salt = hdr->salt;
    s->sealed = (hdr->incompat_flags & RL_INCOMPAT_SEALED_BLOCKS) != 0;
    s->offset = offset;
    s->size = rl_file_size(fd);
}

void rl_scanner_free(rl_scanner *s)
{
    rl_buf_free(&s->buf);
}

void rl_scanner_refresh(rl_scanner *s)
{
    s->size = rl_file_size(s->fd);
}

static int io_error(const rl_scanner *s, uint64_t offset)
{
    return rl_fail(RUNLOG_EIO, "%s: byte %llu: read failed: %s", s->path,
                   (unsigned long long)offset, strerror(errno));
}

/* Finds the next offset > from where an intact frame header of this file
 * starts (magic, checksum and salt all valid). *found = 0 if none. */
static int resync(rl_scanner *s, uint64_t from, uint64_t *at, int *found)
{
    enum { CHUNK = 1 << 16 };
    uint8_t *buf = malloc(CHUNK + RL_FRAME_HEADER_SIZE);
    if (!buf)
        return rl_fail_at(RUNLOG_ENOMEM, s->path, from, "out of memory searching for the next frame");
    *found = 0;
    for (uint64_t pos = from; pos + RL_FRAME_HEADER_SIZE <= s->size; pos += CHUNK) {
        uint64_t n = s->size - pos;
        if (n > CHUNK + RL_FRAME_HEADER_SIZE)
            n = CHUNK + RL_FRAME_HEADER_SIZE;
        if (rl_pread_all(s->fd, buf, n, pos)) {
            free(buf);
            return io_error(s, pos);
        }
        for (uint64_t i = 0; i + RL_FRAME_HEADER_SIZE <= n && i < CHUNK; i++) {
            if (buf[i] != 'R' || rl_le32(buf + i) != RL_FRAME_MAGIC)
                continue;
            rl_frame_header h;
            const char *why;
            if (rl_frame_header_decode(&h, buf + i, s->salt, &why) == 0) {
                *at = pos + i;
                *found = 1;
                free(buf);
                return 0;
            }
        }
    }
    free(buf);
    return 0;
}

/* Damage at s->offset whose extent is found by resynchronising. */
static int damage_or_torn(rl_scanner *s, rl_scan_item *out, const char *why)
{
    uint64_t at;
    int found, rc = resync(s, s->offset + 1, &at, &found);
    if (rc)
        return rc;
    out->offset = s->offset;
    if (!found) {
        out->kind = RL_SCAN_TORN;
        out->length = s->size - s->offset;
        out->damage = RUNLOG_DAMAGE_TORN_TAIL;
        out->why = why;
        return 0;
    }
    out->kind = RL_SCAN_DAMAGE;
    out->damage = RUNLOG_DAMAGE_GARBAGE;
    out->length = at - s->offset;
    out->why = why;
    s->offset = at;
    return 0;
}

/* The frame at s->offset (header h, total bytes with the header) whose
 * payload failed its checksum. */
static int payload_damage(rl_scanner *s, rl_scan_item *out, uint64_t total, const char *why)
{
    /* The header is intact but the payload is not: its length is not
     * trusted either (a header torn off a frame that was never finished
     * may claim bytes that a resumed writer filled with good frames), so
     * the damage ends at the next intact frame header. */
    uint64_t at;
    int found, rc = resync(s, s->offset + 1, &at, &found);
    if (rc)
        return rc;
    out->kind = RL_SCAN_DAMAGE;
    out->damage = RUNLOG_DAMAGE_FRAME;
    out->why = why;
    out->length = total;
    if (found && at < s->offset + total)
        out->length = at - s->offset;
    s->offset += out->length;
    return 0;
}

/* The sequence check (§3.2) of a frame whose payload checked, then the item. */
static int frame_checked(rl_scanner *s, rl_scan_item *out, const rl_frame_header *h,
                         const uint8_t *payload, uint32_t have, int sealed)
{
    uint64_t total = RL_FRAME_HEADER_SIZE + (uint64_t)h->payload_size;
    out->length = total;
    if (s->have_seq && h->seq <= s->last_seq) {
        out->kind = RL_SCAN_DAMAGE;
        out->damage = RUNLOG_DAMAGE_FRAME;
        out->why = "frame out of sequence (duplicated or moved)";
        s->offset += total;
        return 0;
    }
    s->have_seq = 1;
    s->last_seq = h->seq;
    out->kind = RL_SCAN_FRAME;
    out->h = *h;
    out->payload = payload;
    out->have = have;
    out->sealed = sealed;
    out->fd = s->fd;
    s->offset += total;
    return 0;
}

int rl_scanner_next(rl_scanner *s, rl_scan_item *out)
{
    memset(out, 0, sizeof *out);
    out->offset = s->offset;
    if (s->offset >= s->size) {
        out->kind = RL_SCAN_END;
        return 0;
    }
    uint64_t left = s->size - s->offset;
    if (left < RL_FRAME_HEADER_SIZE) {
        out->kind = RL_SCAN_TORN;
        out->damage = RUNLOG_DAMAGE_TORN_TAIL;
        out->length = left;
        out->why = "file ends inside a frame header";
        return 0;
    }
    uint8_t hdr[RL_FRAME_HEADER_SIZE];
    if (rl_pread_all(s->fd, hdr, sizeof hdr, s->offset))
        return io_error(s, s->offset);
    rl_frame_header h;
    const char *why;
    if (rl_frame_header_decode(&h, hdr, s->salt, &why) != 0)
        return damage_or_torn(s, out, why);
    uint64_t total = RL_FRAME_HEADER_SIZE + (uint64_t)h.payload_size;
    if (total > left)
        return damage_or_torn(s, out, "file ends inside a frame payload");
    s->buf.len = 0;
    if (rl_buf_reserve(&s->buf, h.payload_size + 1))
        return rl_fail(RUNLOG_ENOMEM, "%s: byte %llu: out of memory reading a frame of %llu bytes",
                       s->path, (unsigned long long)s->offset, (unsigned long long)total);
    if (rl_pread_all(s->fd, s->buf.p, h.payload_size, s->offset + RL_FRAME_HEADER_SIZE))
        return io_error(s, s->offset);
    out->length = total;
    int sealed = s->sealed && h.kind != RL_FRAME_TRAILER;
    uint64_t sum = 0;
    if (sealed ? rl_sealed_check(s->buf.p, h.payload_size, h.payload_checksum, &why) != 0
               : (rl_payload_checksum(s->buf.p, h.payload_size, 0, &sum, &why), sum != h.payload_checksum))
        return payload_damage(s, out, total, sealed ? why : "frame payload checksum mismatch");
    return frame_checked(s, out, &h, s->buf.p, h.payload_size, sealed);
}

/* Reads [at, at + n) of the file into s->buf (which it replaces). */
static int read_into(rl_scanner *s, uint64_t at, size_t n)
{
    s->buf.len = 0;
    if (rl_buf_reserve(&s->buf, n + 1))
        return rl_fail(RUNLOG_ENOMEM, "%s: byte %llu: out of memory reading a frame", s->path,
                       (unsigned long long)at);
    if (rl_pread_all(s->fd, s->buf.p, n, at))
        return io_error(s, at);
    s->buf.len = n;
    return 0;
}

int rl_scanner_next_head(rl_scanner *s, rl_scan_item *out)
{
    /* Anything but an intact-looking sealed data frame, and any check that
     * fails, is left to rl_scanner_next, which reads the frame whole and
     * reports what it finds exactly as a scan does. */
    uint64_t at = s->offset;
    if (!s->sealed || at >= s->size || s->size - at < RL_FRAME_HEADER_SIZE)
        return rl_scanner_next(s, out);
    uint8_t hdr[RL_FRAME_HEADER_SIZE];
    if (rl_pread_all(s->fd, hdr, sizeof hdr, at))
        return io_error(s, at);
    rl_frame_header h;
    const char *why;
    if (rl_frame_header_decode(&h, hdr, s->salt, &why) != 0 || h.kind != RL_FRAME_DATA ||
        RL_FRAME_HEADER_SIZE + (uint64_t)h.payload_size > s->size - at)
        return rl_scanner_next(s, out);
    uint64_t payload_at = at + RL_FRAME_HEADER_SIZE;
    size_t want = h.payload_size < (64u << 10) ? h.payload_size : (64u << 10), dir;
    int rc = read_into(s, payload_at, want);
    if (rc)
        return rc;
    int delimited = rl_sealed_dir_len(s->buf.p, want, &dir, &why) == 0;
    if (!delimited && want < h.payload_size) { /* a directory longer than the first read */
        want = h.payload_size < RL_SEALED_DIR_MAX ? h.payload_size : RL_SEALED_DIR_MAX;
        if ((rc = read_into(s, payload_at, want)))
            return rc;
        delimited = rl_sealed_dir_len(s->buf.p, want, &dir, &why) == 0;
    }
    uint64_t sum = 0; /* the directory's XXH3-64 (§4.1) */
    if (!delimited || rl_payload_checksum(s->buf.p, dir, 0, &sum, &why) || sum != h.payload_checksum)
        return rl_scanner_next(s, out);
    /* Block 0: the first directory entry (codec, raw_len, stored_len, checksum). */
    rl_cur c = rl_cur_make(s->buf.p, dir);
    uint64_t n, raw, stored;
    uint8_t codec;
    rl_cur_varint(&c, &n, &why);
    rl_cur_u8(&c, &codec, &why);
    rl_cur_varint(&c, &raw, &why);
    rl_cur_varint(&c, &stored, &why);
    rl_block b0 = { .stored_len = (uint32_t)stored, .checksum = rl_le64(c.p + c.pos) };
    if (stored > h.payload_size - dir)
        return rl_scanner_next(s, out);
    size_t have = dir + (size_t)stored;
    if (have > want && (rc = read_into(s, payload_at, have)))
        return rc;
    if (!rl_block_sealed_ok(&b0, s->buf.p + dir))
        return rl_scanner_next(s, out);
    memset(out, 0, sizeof *out);
    out->offset = at;
    return frame_checked(s, out, &h, s->buf.p, (uint32_t)have, 1);
}

int rl_scanner_frame_at(rl_scanner *s, uint64_t offset, rl_scan_item *out)
{
    s->offset = offset;
    s->have_seq = 0;
    int rc = rl_scanner_next(s, out);
    if (rc)
        return rc;
    if (out->kind != RL_SCAN_FRAME)
        return rl_fail_at(RUNLOG_ECORRUPT, s->path, offset,
                          out->why ? out->why : "no intact frame where the index points");
    return 0;
}

/* Where a head-only walk read a frame in part, and the scanner's sequence
 * state before it. */
typedef struct part_frame {
    uint64_t offset, seq;
    int have_seq;
} part_frame;

/* Whether the frame at part->offset is intact whole: 0 and *it untouched,
 * the scanner as it was, when it is; else *it the damage a scan reports
 * there, the scanner where that scan goes on. */

static int part_frame_recheck(rl_scanner *s, const part_frame *part, rl_scan_item *it)
{
    uint64_t offset = s->offset, seq = s->last_seq;
    int have_seq = s->have_seq;
    rl_scan_item whole;
    s->offset = part->offset;
    s->last_seq = part->seq;
    s->have_seq = part->have_seq;
    int rc = rl_scanner_next(s, &whole);
    if (rc)
        return rc;
    if (whole.kind == RL_SCAN_FRAME) {
        s->offset = offset;
        s->last_seq = seq;
        s->have_seq = have_seq;
        return 0;
    }
    *it = whole;
    return 0;
}

int rl_scan_walk(rl_scanner *s, const rl_walk_ops *ops, void *ctx)
{
    /* A frame read in part hides damage in the blocks not read, and a scan
     * goes on after a damaged frame at the next intact header past its
     * first byte, not at its declared end. So where what follows a frame
     * read in part is no frame (the declared end may lie past the next
     * frame's start), that frame is read whole first, and the walk goes on
     * as a scan would: it never passes over an intact frame. */
    part_frame part = { 0 };
    int after_part = 0;
    for (;;) {
        rl_scan_item it;
        part_frame before = { s->offset, s->last_seq, s->have_seq };
        int rc = ops->head_only ? rl_scanner_next_head(s, &it) : rl_scanner_next(s, &it);
        if (!rc && after_part && (it.kind == RL_SCAN_TORN || it.kind == RL_SCAN_DAMAGE))
            rc = part_frame_recheck(s, &part, &it);
        if (rc)
            return rc;
        after_part = it.kind == RL_SCAN_FRAME && it.have < it.h.payload_size;
        if (after_part)
            part = before;
        switch (it.kind) {
        case RL_SCAN_FRAME:
            rc = ops->frame(ctx, &it);
            break;
        case RL_SCAN_DAMAGE:
            rc = ops->damage ? ops->damage(ctx, &it) : 0;
            break;
        case RL_SCAN_TORN:
        case RL_SCAN_END:
            return ops->end ? ops->end(ctx, &it) : 0;
        }
        if (rc)
            return rc;
    }
}

/* ---- Frame decoding ------------------------------------------------------ */

/* Sizes the per-block arrays for n blocks and empties them. */
static int frame_arrays(rl_frame *f, uint32_t n)
{
    if (n > f->cap) {
        rl_buf *bufs = realloc(f->bufs, n * sizeof *bufs);
        if (bufs)
            f->bufs = bufs;
        const uint8_t **raw = realloc(f->raw, n * sizeof *raw);
        if (raw)
            f->raw = raw;
        uint32_t *owner = realloc(f->owner, n * sizeof *owner);
        if (owner)
            f->owner = owner;
        if (!bufs || !raw || !owner)
            return RUNLOG_ENOMEM;
        memset(f->bufs + f->cap, 0, (n - f->cap) * sizeof *bufs);
        f->cap = n;
    }
    memset(f->raw, 0, n * sizeof *f->raw);
    memset(f->owner, 0, n * sizeof *f->owner);
    f->block0_bytes = NULL;
    return 0;
}

static int frame_reset(rl_frame *f)
{
    rl_payload_free(&f->payload);
    rl_arena_clear(&f->arena);
    memset(&f->stream, 0, sizeof f->stream);
    f->fd = -1;
    f->sealed = 0;
    if (!f->dctx && !(f->dctx = rl_dctx_new()))
        return RUNLOG_ENOMEM;
    return 0;
}

int rl_frame_load_dir(rl_frame *f, const rl_scan_item *it, const char **why)
{
    int rc = frame_reset(f);
    if (rc || (rc = rl_payload_parse(&f->payload, it->payload, it->have, it->h.payload_size,
                                     it->sealed, why)))
        return rc;
    if (it->have < it->h.payload_size) {
        /* Read in part (rl_scanner_next_head): only block 0 was read and
         * checked; every other block is read and checked when asked. */
        for (uint32_t i = 1; i < f->payload.nblocks; i++)
            f->payload.blocks[i].stored = NULL;
        f->fd = it->fd;
        f->payload_at = it->offset + RL_FRAME_HEADER_SIZE;
        f->sealed = 1;
    }
    return frame_arrays(f, f->payload.nblocks);
}

int rl_frame_load_kept(rl_frame *f, const rl_block *blocks, uint32_t nblocks, int fd,
                       uint64_t payload_at, const char **why)
{
    (void)why;
    int rc = frame_reset(f);
    if (rc)
        return rc;
    f->payload.nblocks = nblocks;
    f->payload.blocks = (rl_block *)blocks; /* not written: borrowed */
    f->payload.borrowed = 1;
    f->fd = fd;
    f->payload_at = payload_at;
    f->sealed = 1;
    return frame_arrays(f, nblocks);
}

/* The stored bytes of block b of a frame read in part, read from the file
 * and checked against the block's checksum (§4.1), into buf. */
static int frame_fetch(rl_frame *f, const rl_block *b, rl_buf *buf, const char **why)
{
    buf->len = 0;
    if (rl_buf_reserve(buf, (size_t)b->stored_len + 1))
        return RUNLOG_ENOMEM;
    if (f->fd < 0 || !f->sealed) {
        *why = "block not read";
        return RUNLOG_ECORRUPT;
    }
    if (rl_pread_all(f->fd, buf->p, b->stored_len, f->payload_at + b->pos)) {
        *why = "reading a block failed";
        return RUNLOG_EIO;
    }
    if (!rl_block_sealed_ok(b, buf->p)) {
        *why = "block checksum mismatch";
        return RUNLOG_ECHECKSUM;
    }
    return 0;
}

/* A key table kept for the next frame is at most this long. */
#define TABLE_KEEP_BYTES ((size_t)4 << 20)

/* The record stream of block 0: its key table the one of the frame loaded
 * before when the bytes are the same (a key table delimits itself, so the
 * same bytes are the same table), else decoded and checked (§5) and kept. */
static int frame_stream(rl_frame *f, const uint8_t *block0, size_t len, const char **why)
{
    size_t tl = f->table.len;
    if (tl && tl <= len && memcmp(block0, f->table.p, tl) == 0) {
        f->stream.nkeys = f->table_nkeys;
        f->stream.keys = f->table_keys;
        f->stream.cur = rl_cur_make(block0, len);
        f->stream.cur.pos = tl;
        return 0;
    }
    f->table.len = 0;
    rl_arena_clear(&f->table_arena);
    int rc = rl_stream_open(&f->stream, block0, len, &f->table_arena, why);
    size_t n = f->stream.cur.pos;
    if (rc || n > TABLE_KEEP_BYTES || rl_buf_reserve(&f->table, n + 1))
        return rc; /* not kept: the next frame's table is decoded afresh */
    memcpy(f->table.p, block0, n);
    f->table.len = n;
    f->table_keys = f->stream.keys;
    f->table_nkeys = f->stream.nkeys;
    return 0;
}

int rl_frame_load(rl_frame *f, const rl_scan_item *it, const char **why)
{
    int rc = rl_frame_load_dir(f, it, why);
    if (rc)
        return rc;
    rl_block *b0 = &f->payload.blocks[0];
    const uint8_t *block0 = b0->stored;
    if (!block0) {
        *why = "block 0 not read";
        return RUNLOG_ECORRUPT;
    }
    if (b0->codec != RL_CODEC_RAW) {
        f->block0.len = 0;
        if (rl_buf_reserve(&f->block0, (size_t)b0->raw_len + 1))
            return RUNLOG_ENOMEM;
        if ((rc = rl_block_decode(b0, f->block0.p, f->dctx, why)))
            return rc;
        block0 = f->block0.p;
    }
    f->decoded += b0->raw_len;
    f->block0_bytes = block0;
    return frame_stream(f, block0, b0->raw_len, why);
}

int rl_frame_block(rl_frame *f, uint32_t i, const uint8_t **out, const char **why)
{
    if (i == 0 || i >= f->payload.nblocks) {
        *why = "block index outside the frame";
        return RUNLOG_ECORRUPT;
    }
    if (!f->raw[i]) {
        rl_block b = f->payload.blocks[i];
        rl_buf *buf = &f->bufs[i];
        int rc;
        if (!b.stored) {
            rl_buf *into = b.codec == RL_CODEC_RAW ? buf : &f->fetch;
            if ((rc = frame_fetch(f, &b, into, why)))
                return rc;
            b.stored = into->p;
        }
        if (b.codec == RL_CODEC_RAW) {
            f->raw[i] = b.stored;
        } else {
            buf->len = 0;
            if (rl_buf_reserve(buf, (size_t)b.raw_len + 1))
                return RUNLOG_ENOMEM;
            if ((rc = rl_block_decode(&b, buf->p, f->dctx, why)))
                return rc;
            f->raw[i] = buf->p;
        }
        f->decoded += b.raw_len;
    }
    *out = f->raw[i];
    return 0;
}

int rl_frame_column(rl_frame *f, const rl_hcol *col, runlog_value **values, const char **why)
{
    const uint8_t *raw = NULL;
    if (col->block) {
        int rc = rl_frame_block(f, col->block, &raw, why);
        if (rc)
            return rc;
        raw += col->offset;
    }
    return rl_history_column(col, raw, &f->arena, values, why);
}

int rl_frame_claim_block(rl_frame *f, uint32_t i, const rl_record_view *rec, const char **why)
{
    if (i == 0 || i >= f->payload.nblocks)
        return 0; /* not a block: reported where it is used */
    /* A record is known by where its body starts in block 0 (block 0 is at
     * most 64 MiB): the same record decoded again is no conflict. */
    uint32_t who = (uint32_t)(rec->body - f->block0_bytes) + 1;
    if (f->owner[i] && f->owner[i] != who) {
        *why = "a block is used by two records of the frame";
        return RUNLOG_ECORRUPT;
    }
    f->owner[i] = who;
    return 0;
}

int rl_frame_history(rl_frame *f, const rl_record_view *rec, rl_history *out, const char **why)
{
    int rc = rl_history_decode(out, rec->body, rec->len, f->stream.nkeys, f->payload.blocks,
                               f->payload.nblocks, &f->arena, why);
    for (uint32_t c = 0; !rc && c < out->ncols; c++)
        rc = rl_frame_claim_block(f, out->cols[c].block, rec, why);
    return rc;
}

void rl_frame_free(rl_frame *f)
{
    for (uint32_t i = 0; i < f->cap; i++)
        rl_buf_free(&f->bufs[i]);
    free(f->bufs);
    free(f->raw);
    free(f->owner);
    rl_buf_free(&f->block0);
    rl_buf_free(&f->fetch);
    rl_buf_free(&f->table);
    rl_arena_reset(&f->table_arena);
    rl_payload_free(&f->payload);
    rl_arena_reset(&f->arena);
    rl_dctx_free(f->dctx);
    memset(f, 0, sizeof *f);
}

/* ---- File header, locks, sidecars ------------------------------------------ */

int rl_read_file_header(int fd, const char *path, rl_file_header *out, uint64_t *size)
{
    uint8_t hdr[RL_FILE_HEADER_SIZE];
    uint64_t n = rl_file_size(fd);
    size_t want = n < sizeof hdr ? (size_t)n : sizeof hdr;
    if (want == 0)
        return rl_fail(RUNLOG_ETRUNCATED, "%s: byte 0: file is empty (a 72-byte file header expected)", path);
    if (rl_pread_all(fd, hdr, want, 0))
        return rl_fail(RUNLOG_EIO, "%s: byte 0: read failed: %s", path, strerror(errno));
    const char *why;
    int rc = rl_file_header_decode(out, hdr, want, &why);
    if (rc) {
        if (rc == RUNLOG_ETRUNCATED)
            return rl_fail(rc, "%s: byte %zu: %s", path, want, why);
        return rl_fail_at(rc, path, 0, why);
    }
    *size = n;
    return 0;
}

static void whole_file_lock(struct flock *fl, short type)
{
    memset(fl, 0, sizeof *fl);
    fl->l_type = type;
    fl->l_whence = SEEK_SET;
    fl->l_start = 0;
    fl->l_len = 0;
}

int rl_lock_file(int fd, const char *path)
{
    struct flock fl;
    whole_file_lock(&fl, F_WRLCK);
    if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
        return 0;
    if (errno == EAGAIN || errno == EACCES)
        return rl_fail(RUNLOG_ELOCKED, "%s: another writer holds the file (advisory lock)", path);
    return rl_fail(RUNLOG_EIO, "%s: cannot lock: %s", path, strerror(errno));
}

int rl_lock_held_by_other(int fd)
{
    struct flock fl;
    whole_file_lock(&fl, F_RDLCK);
    if (fcntl(fd, F_OFD_GETLK, &fl) != 0)
        return 0;
    return fl.l_type != F_UNLCK;
}

/* 1 if the file at name holds a prefix (possibly empty) of [offset, size)
 * of fd: a sidecar left by an attempt that died or failed while copying
 * (before sidecars were linked into place whole). Replacing it with the
 * whole tail loses nothing. */
static int partial_sidecar(const char *name, int fd, uint64_t offset, uint64_t size, uint8_t *buf,
                           size_t chunk)
{
    int side;
    if (rl_open_file(&side, name, O_RDONLY | O_NOFOLLOW, 0))
        return 0;
    uint64_t n = rl_file_size(side);
    int same = n <= size - offset;
    size_t half = chunk / 2;
    for (uint64_t pos = 0; same && pos < n; pos += half) {
        size_t k = n - pos < half ? (size_t)(n - pos) : half;
        same = !rl_pread_all(side, buf, k, pos) && !rl_pread_all(fd, buf + half, k, offset + pos) &&
               memcmp(buf, buf + half, k) == 0;
    }
    close(side);
    return same;
}

int rl_cut_tail(int fd, const char *path, uint64_t offset, uint64_t size, char **sidecar)
{
    size_t plen = strlen(path) + 64;
    char *name = malloc(plen), *tmp = NULL;
    uint8_t *buf = NULL;
    int side = -1, rc, placed = 0;
    enum { CHUNK = 1 << 20 };
    if (!name || !(buf = malloc(CHUNK))) {
        rc = rl_fail_at(RUNLOG_ENOMEM, path, offset, "out of memory moving the torn tail aside");
        goto fail;
    }
    /* The tail is copied to a temporary file of our own and linked into
     * place only when whole: a failed or killed copy leaves no sidecar
     * behind to take one of the names. */
    snprintf(name, plen, "%s.torn-%llu", path, (unsigned long long)offset);
    if ((side = rl_create_temp(&tmp, name)) < 0) {
        rc = rl_fail(errno == ENOMEM ? RUNLOG_ENOMEM : RUNLOG_EIO, "%s: cannot create sidecar: %s", name,
                     strerror(errno));
        goto fail;
    }
    for (uint64_t pos = offset; pos < size; pos += CHUNK) {
        size_t n = size - pos < CHUNK ? (size_t)(size - pos) : CHUNK;
        if (rl_pread_all(fd, buf, n, pos) || rl_pwrite_all(side, buf, n, pos - offset)) {
            rc = rl_fail(RUNLOG_EIO, "%s: copying the torn tail: %s", name, strerror(errno));
            goto fail;
        }
    }
    if (rl_io.fsync(side) != 0) {
        rc = rl_fail(RUNLOG_EIO, "%s: fsync: %s", name, strerror(errno));
        goto fail;
    }
    close(side);
    side = -1;
    for (int attempt = 0; attempt < 100 && !placed; attempt++) {
        if (attempt)
            snprintf(name, plen, "%s.torn-%llu.%d", path, (unsigned long long)offset, attempt);
        if (link(tmp, name) == 0) {
            placed = 1;
        } else if (errno != EEXIST) {
            rc = rl_fail(RUNLOG_EIO, "%s: cannot create sidecar: %s", name, strerror(errno));
            goto fail;
        } else if (partial_sidecar(name, fd, offset, size, buf, CHUNK)) {
            /* We hold the file's lock, so no other writer is making it. */
            if (rename(tmp, name) != 0) {
                rc = rl_fail(RUNLOG_EIO, "%s: cannot replace sidecar: %s", name, strerror(errno));
                goto fail;
            }
            free(tmp);
            tmp = NULL;
            placed = 1;
        }
    }
    if (!placed) {
        rc = rl_fail(RUNLOG_EIO, "%s: no free sidecar name", path);
        goto fail;
    }
    if (tmp) {
        unlink(tmp);
        free(tmp);
        tmp = NULL;
    }
    /* Only once the bytes are safe in the sidecar is the tail cut. */
    if (rl_io.ftruncate(fd, (off_t)offset) != 0 || rl_io.fsync(fd) != 0) {
        rc = rl_fail(RUNLOG_EIO, "%s: cutting the torn tail at byte %llu: %s", path,
                     (unsigned long long)offset, strerror(errno));
        goto fail;
    }
    free(buf);
    if (sidecar)
        *sidecar = name;
    else
        free(name);
    return 0;
fail:
    if (side >= 0)
        close(side);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    free(buf);
    free(name);
    return rc;
}

const char *rl_map_text(const runlog_value *map, const char *key)
{
    const runlog_value *v = runlog_value_get(map, key);
    return v && v->type == RUNLOG_STRING ? v->u.s : NULL;
}

int64_t rl_map_int(const runlog_value *map, const char *key, int64_t dflt)
{
    const runlog_value *v = runlog_value_get(map, key);
    return v && v->type == RUNLOG_INT ? v->u.i : dflt;
}
