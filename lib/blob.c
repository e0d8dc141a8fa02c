/*
 * Blobs (spec/FORMAT.md §12.1): content-addressed payloads stored once per
 * file in chunks of at most 1 MiB, each chunk a record whose bytes sit in
 * their own block. Writing goes through the writer's queue; reading checks
 * every blob against its digest before anything is returned.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

/* ---- Digests --------------------------------------------------------------- */

void runlog_digest_hex(char out[33], const runlog_digest *d)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[d->bytes[i] >> 4];
        out[2 * i + 1] = hex[d->bytes[i] & 15];
    }
    out[32] = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int runlog_digest_parse(runlog_digest *out, const char *hex)
{
    if (!out || !hex || strlen(hex) != 32)
        return rl_fail(RUNLOG_EINVAL, "a digest is 32 hex digits");
    runlog_digest d;
    for (int i = 0; i < 16; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return rl_fail(RUNLOG_EINVAL, "a digest is 32 hex digits");
        d.bytes[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = d;
    return 0;
}

int runlog_value_digest(runlog_digest *out, const runlog_value *v)
{
    const runlog_value *d = runlog_value_get(v, "digest");
    if (!out || !d || d->type != RUNLOG_BYTES || d->n != 16)
        return rl_fail(RUNLOG_EINVAL, "value has no 16-byte \"digest\" entry");
    memcpy(out->bytes, d->u.s, 16);
    return 0;
}

/* ---- Digest sets ------------------------------------------------------------ */

static size_t slot_of(const uint8_t d[16], size_t cap)
{
    uint64_t h;
    memcpy(&h, d, 8);
    return (size_t)h & (cap - 1);
}

int rl_digest_set_has(const rl_digest_set *s, const uint8_t d[16])
{
    if (!s->cap)
        return 0;
    for (size_t i = slot_of(d, s->cap); s->slots[i][16]; i = (i + 1) & (s->cap - 1))
        if (memcmp(s->slots[i], d, 16) == 0)
            return 1;
    return 0;
}

int rl_digest_set_add(rl_digest_set *s, const uint8_t d[16])
{
    if (rl_digest_set_has(s, d))
        return 0;
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uint8_t (*slots)[17] = calloc(cap, sizeof *slots);
        if (!slots)
            return RUNLOG_ENOMEM;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slots[i][16])
                continue;
            size_t j = slot_of(s->slots[i], cap);
            while (slots[j][16])
                j = (j + 1) & (cap - 1);
            memcpy(slots[j], s->slots[i], 17);
        }
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
    }
    size_t j = slot_of(d, s->cap);
    while (s->slots[j][16])
        j = (j + 1) & (s->cap - 1);
    memcpy(s->slots[j], d, 16);
    s->slots[j][16] = 1;
    s->n++;
    return 0;
}

void rl_digest_set_free(rl_digest_set *s)
{
    free(s->slots);
    memset(s, 0, sizeof *s);
}

/* ---- Writing ---------------------------------------------------------------- */

/* Queues the chunks of a blob the file does not hold yet. */
static int store_chunks(runlog_writer *w, const uint8_t digest[16], const uint8_t *data, size_t len)
{
    int compress = rl_compressible(data, len);
    for (size_t off = 0; off < len || (len == 0 && off == 0);) {
        size_t n = len - off < RL_BLOB_CHUNK ? len - off : RL_BLOB_CHUNK;
        int rc = rl_writer_blob_chunk(w, digest, off, len, data + off, n, compress);
        if (rc)
            return rc;
        off += n;
        if (len == 0)
            break;
    }
    return rl_digest_set_add(rl_writer_blobs(w), digest) ? rl_fail(RUNLOG_ENOMEM, "out of memory") : 0;
}

int runlog_writer_blob(runlog_digest *out, runlog_writer *w, const void *data, size_t len)
{
    int rc = rl_writer_check(w);
    if (rc)
        return rc;
    if (!data && len)
        return rl_fail(RUNLOG_EINVAL, "data is NULL");
    runlog_digest d;
    rl_digest(d.bytes, data, len);
    if (!rl_digest_set_has(rl_writer_blobs(w), d.bytes) && (rc = store_chunks(w, d.bytes, data, len)))
        return rc;
    if (out)
        *out = d;
    return 0;
}

int rl_writer_blob_pieces(runlog_digest *out, runlog_writer *w, const rl_piece *pieces, size_t n)
{
    rl_digest_state *st = rl_digest_begin();
    if (!st)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        rl_digest_update(st, pieces[i].p, pieces[i].n);
        total += pieces[i].n;
    }
    runlog_digest d;
    rl_digest_end(st, d.bytes);
    int rc = 0;
    if (!rl_digest_set_has(rl_writer_blobs(w), d.bytes)) {
        /* Gather the pieces into chunks of RL_BLOB_CHUNK bytes. */
        uint8_t *chunk = malloc(RL_BLOB_CHUNK);
        if (!chunk)
            return rl_fail(RUNLOG_ENOMEM, "out of memory");
        size_t fill = 0;
        uint64_t off = 0;
        int compress = -1;
        for (size_t i = 0; !rc && i < n; i++) {
            for (size_t used = 0; !rc && used < pieces[i].n;) {
                size_t take = pieces[i].n - used < RL_BLOB_CHUNK - fill ? pieces[i].n - used : RL_BLOB_CHUNK - fill;
                memcpy(chunk + fill, pieces[i].p + used, take);
                fill += take;
                used += take;
                if (fill == RL_BLOB_CHUNK) {
                    if (compress < 0)
                        compress = rl_compressible(chunk, fill);
                    rc = rl_writer_blob_chunk(w, d.bytes, off, total, chunk, fill, compress);
                    off += fill;
                    fill = 0;
                }
            }
        }
        if (!rc && (fill > 0 || total == 0))
            rc = rl_writer_blob_chunk(w, d.bytes, off, total, chunk, fill,
                                      compress < 0 ? rl_compressible(chunk, fill) : compress);
        free(chunk);
        if (!rc && rl_digest_set_add(rl_writer_blobs(w), d.bytes))
            rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
    }
    if (!rc && out)
        *out = d;
    return rc;
}

static int read_piece(int fd, const char *path, uint8_t *buf, size_t want, size_t *got)
{
    size_t n = 0;
    while (n < want) {
        ssize_t r = read(fd, buf + n, want - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return rl_fail(RUNLOG_EIO, "%s: read failed: %s", path, strerror(errno));
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *got = n;
    return 0;
}

int runlog_writer_blob_file(runlog_digest *out, uint64_t *size, runlog_writer *w, const char *path)
{
    int rc = rl_writer_check(w);
    if (rc)
        return rc;
    if (!path)
        return rl_fail(RUNLOG_EINVAL, "path is NULL");
    int fd;
    if ((rc = rl_open_file(&fd, path, O_RDONLY, 0)))
        return rc; /* a FIFO would hang, and be read twice */
    uint8_t *buf = malloc(RL_BLOB_CHUNK);
    rl_digest_state *st = rl_digest_begin();
    runlog_digest d;
    uint64_t total = 0;
    size_t got;
    if (!buf || !st) {
        rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
        goto done;
    }
    /* First pass: the digest (the file is stored only if the run lacks it). */
    while (!(rc = read_piece(fd, path, buf, RL_BLOB_CHUNK, &got)) && got > 0) {
        rl_digest_update(st, buf, got);
        total += got;
    }
    rl_digest_end(st, d.bytes);
    st = NULL;
    if (rc || rl_digest_set_has(rl_writer_blobs(w), d.bytes))
        goto done;
    if (lseek(fd, 0, SEEK_SET) != 0) {
        rc = rl_fail(RUNLOG_EIO, "%s: cannot seek: %s", path, strerror(errno));
        goto done;
    }
    /* Second pass: the chunks. The digest is taken again so that a file
     * changed in between is noticed rather than stored under a wrong name. */
    st = rl_digest_begin();
    uint64_t off = 0;
    int compress = -1;
    while (st && !(rc = read_piece(fd, path, buf, RL_BLOB_CHUNK, &got)) && got > 0) {
        if (compress < 0)
            compress = rl_compressible(buf, got);
        rl_digest_update(st, buf, got);
        if ((rc = rl_writer_blob_chunk(w, d.bytes, off, total, buf, got, compress)))
            break;
        off += got;
    }
    if (!st) {
        rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
        goto done;
    }
    uint8_t again[16];
    rl_digest_end(st, again);
    st = NULL;
    if (!rc && (off != total || memcmp(again, d.bytes, 16) != 0))
        rc = rl_fail(RUNLOG_EIO, "%s: the file changed while it was being stored", path);
    if (!rc && total == 0)
        rc = rl_writer_blob_chunk(w, d.bytes, 0, 0, buf, 0, 0);
    if (!rc && rl_digest_set_add(rl_writer_blobs(w), d.bytes))
        rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
done:
    if (st)
        rl_digest_end(st, d.bytes);
    free(buf);
    close(fd);
    if (!rc) {
        if (out)
            *out = d;
        if (size)
            *size = total;
    }
    return rc;
}

/* ---- Reading ---------------------------------------------------------------- */

typedef struct chunk {
    uint8_t digest[16];
    uint64_t offset, size;   /* in the blob; the blob's total size */
    uint64_t frame;          /* file offset of the frame */
    uint32_t block, len;
} chunk;

/* The reader's blob state: the index of chunks, and the frame the last
 * read loaded. The frame is kept because blobs are read one after another
 * from the same frames: a history cell of 10^5 images naming one blob, or
 * 10^5 small blobs whose chunks share a frame. Loading the frame for each
 * read (a decompression context, the frame read and checked, block 0
 * decoded) made such a cell cost 10^5 frame loads, and the second case
 * quadratic in the frame's size. Each read still checks the blob's bytes
 * against its digest. */
struct rl_blob_index {
    chunk *c;
    size_t n, cap;
    rl_scanner s;        /* its buffer holds the frame loaded into f */
    rl_frame f;
    uint64_t at;         /* file offset of the frame in f, when loaded */
    int loaded;
    uint64_t held;       /* stored bytes read into s since s and f were last emptied
                          * (f.decoded: the bytes decoded into f since then) */
    uint64_t frames_read;
};

/* What s and f may keep between reads: once more bytes were read into them
 * or decoded since they were last emptied, they are emptied after the read
 * (and before another frame is loaded), so that a reader does not hold a
 * large frame, nor the buffers that earlier frames grew (one per block
 * index), while it does something else. Every frame of small blobs fits:
 * 65 535 chunks of a few bytes take about 7 MiB. A frame of large blobs
 * is loaded again by the next read, which costs little beside the blob. */
#define BLOB_FRAME_KEEP ((uint64_t)32 << 20)

static void blob_frame_drop(rl_blob_index *ix)
{
    rl_frame_free(&ix->f);
    rl_buf_free(&ix->s.buf);
    ix->loaded = 0;
    ix->held = 0;
}

void rl_blob_index_free(rl_blob_index *ix)
{
    if (!ix)
        return;
    blob_frame_drop(ix);
    free(ix->c);
    free(ix);
}

static int chunk_cmp(const void *a, const void *b)
{
    const chunk *x = a, *y = b;
    int c = memcmp(x->digest, y->digest, 16);
    if (c)
        return c;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    /* Chunks at one offset in file order (spec/FORMAT.md §12.1): whatever
     * qsort's stability, the first written is the one used. */
    if (x->frame != y->frame)
        return x->frame < y->frame ? -1 : 1;
    return x->block < y->block ? -1 : x->block > y->block;
}

typedef struct index_pass {
    rl_blob_index *ix;
    rl_frame f;
} index_pass;

/* One intact frame of build_index: its blob chunk records join the index. */
static int index_frame(void *ctx, const rl_scan_item *it)
{
    index_pass *p = ctx;
    rl_blob_index *ix = p->ix;
    if (it->h.kind != RL_FRAME_DATA)
        return 0;
    const char *why;
    if (rl_frame_load(&p->f, it, &why))
        return 0;
    rl_record_view v;
    while (rl_stream_next(&p->f.stream, &v, &why) == 0) {
        if (v.type != RL_REC_BLOB_CHUNK)
            continue;
        rl_cur c = rl_cur_make(v.body, v.len);
        runlog_value *body;
        if (rl_cbor_decode(&c, &p->f.arena, &body, &why))
            continue;
        const runlog_value *dg = runlog_value_get(body, "digest");
        int64_t off = rl_map_int(body, "offset", -1), size = rl_map_int(body, "size", -1),
                block = rl_map_int(body, "block", -1);
        if (!dg || dg->type != RUNLOG_BYTES || dg->n != 16 || off < 0 || size < 0 || block < 1 ||
            (uint64_t)block >= p->f.payload.nblocks)
            continue;
        uint32_t len = p->f.payload.blocks[block].raw_len;
        if ((uint64_t)off > (uint64_t)size || len > (uint64_t)size - (uint64_t)off)
            continue;
        if (ix->n == ix->cap) {
            size_t cap = ix->cap ? ix->cap * 2 : 64;
            chunk *nc = realloc(ix->c, cap * sizeof *nc);
            if (!nc)
                return rl_fail(RUNLOG_ENOMEM, "out of memory");
            ix->c = nc;
            ix->cap = cap;
        }
        chunk *ch = &ix->c[ix->n++];
        memcpy(ch->digest, dg->u.s, 16);
        ch->offset = (uint64_t)off;
        ch->size = (uint64_t)size;
        ch->frame = it->offset;
        ch->block = (uint32_t)block;
        ch->len = len;
    }
    return 0;
}

/* One pass over the file: every intact blob chunk record, sorted by digest
 * and offset. Damaged frames are skipped (their chunks are then missing),
 * and so is a torn tail. */
static int build_index(rl_blob_index **out, int fd, const char *path, const rl_file_header *hdr)
{
    static const rl_walk_ops ops = { .frame = index_frame };
    index_pass p = { 0 };
    if (!(p.ix = calloc(1, sizeof *p.ix)))
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    rl_scanner s;
    rl_scanner_init(&s, fd, path, hdr, RL_FILE_HEADER_SIZE);
    int rc = rl_scan_walk(&s, &ops, &p);
    if (!rc && p.ix->n)
        qsort(p.ix->c, p.ix->n, sizeof *p.ix->c, chunk_cmp);
    rl_frame_free(&p.f);
    rl_scanner_free(&s);
    if (rc) {
        rl_blob_index_free(p.ix);
        return rc;
    }
    /* The reads' scanner: every chunk lies in the file as this pass saw it. */
    rl_scanner_init(&p.ix->s, fd, path, hdr, RL_FILE_HEADER_SIZE);
    *out = p.ix;
    return 0;
}

/* The chunks of one blob, in order, covering it exactly once. */
static int find_chunks(runlog_reader *r, const uint8_t digest[16], const chunk **first, size_t *count,
                       uint64_t *size)
{
    rl_blob_index **cache = rl_reader_blob_cache(r);
    int rc;
    if (!*cache && (rc = build_index(cache, rl_reader_fd(r), rl_reader_path(r), rl_reader_header(r))))
        return rc;
    rl_blob_index *ix = *cache;
    chunk key;
    memcpy(key.digest, digest, 16);
    size_t lo = 0, hi = ix->n;
    while (lo < hi) { /* first chunk of the digest */
        size_t mid = (lo + hi) / 2;
        if (memcmp(ix->c[mid].digest, digest, 16) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    runlog_digest d;
    char hex[33];
    memcpy(d.bytes, digest, 16);
    runlog_digest_hex(hex, &d);
    if (lo == ix->n || memcmp(ix->c[lo].digest, digest, 16) != 0)
        return rl_fail(RUNLOG_ENOTFOUND, "%s: no blob %s", rl_reader_path(r), hex);
    size_t end = lo;
    while (end < ix->n && memcmp(ix->c[end].digest, digest, 16) == 0)
        end++;
    /* Walk the chunks in offset order; a repeated chunk (a resumed writer
     * storing it again) is skipped, a gap means the blob is incomplete. */
    uint64_t next = 0, total = ix->c[lo].size;
    size_t used = 0;
    for (size_t i = lo; i < end; i++) {
        if (ix->c[i].size != total)
            return rl_fail(RUNLOG_ECORRUPT, "%s: blob %s: chunks disagree on its size", rl_reader_path(r), hex);
        if (ix->c[i].offset < next)
            continue;
        if (ix->c[i].offset > next)
            break;
        ix->c[lo + used] = ix->c[i]; /* compact in place: the index stays sorted */
        used++;
        next += ix->c[i].len;
        if (ix->c[i].len == 0 && next == total)
            break;
    }
    if (next != total || used == 0)
        return rl_fail(RUNLOG_ENOTFOUND, "%s: blob %s is incomplete (%llu of %llu bytes)", rl_reader_path(r),
                       hex, (unsigned long long)next, (unsigned long long)total);
    *first = &ix->c[lo];
    *count = used;
    *size = total;
    return 0;
}

typedef int (*sink_fn)(void *ctx, const uint8_t *p, size_t n);

/* A frame rl_frame_load() or rl_frame_block() refused: out of memory, or
 * damage at the frame's offset. */
static int frame_failed(runlog_reader *r, int rc, uint64_t at, const char *why)
{
    if (rc == RUNLOG_ENOMEM)
        return rl_fail(RUNLOG_ENOMEM, "%s: byte %llu: out of memory reading a blob", rl_reader_path(r),
                       (unsigned long long)at);
    return rl_fail_at(RUNLOG_ECORRUPT, rl_reader_path(r), at, why ? why : "malformed frame");
}

/* Block `block` of the frame at file offset `at`, loading the frame unless
 * it is the one loaded already (read and checked then: its bytes are in
 * memory, not read again). */
static int chunk_bytes(runlog_reader *r, rl_blob_index *ix, uint64_t at, uint32_t block,
                       const uint8_t **bytes)
{
    const char *why = NULL;
    int rc;
    if (!ix->loaded || ix->at != at) {
        rl_scan_item it;
        if (ix->held + ix->f.decoded > BLOB_FRAME_KEEP)
            blob_frame_drop(ix);
        ix->loaded = 0;
        if ((rc = rl_scanner_frame_at(&ix->s, at, &it)))
            return rc;
        ix->held += RL_FRAME_HEADER_SIZE + (uint64_t)it.h.payload_size;
        ix->frames_read++;
        if ((rc = rl_frame_load(&ix->f, &it, &why)))
            return frame_failed(r, rc, at, why);
        ix->at = at;
        ix->loaded = 1;
    }
    if ((rc = rl_frame_block(&ix->f, block, bytes, &why)))
        return frame_failed(r, rc, at, why);
    return 0;
}

/* Feeds the blob's bytes to sink in order and checks the digest at the end. */
static int stream_blob(runlog_reader *r, const uint8_t digest[16], sink_fn sink, void *ctx, uint64_t *size_out)
{
    const chunk *c;
    size_t n;
    uint64_t size;
    int rc = find_chunks(r, digest, &c, &n, &size);
    if (rc)
        return rc;
    if (size_out)
        *size_out = size;
    rl_blob_index *ix = *rl_reader_blob_cache(r);
    rl_digest_state *st = rl_digest_begin();
    if (!st)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        const uint8_t *bytes;
        if ((rc = chunk_bytes(r, ix, c[i].frame, c[i].block, &bytes)))
            break;
        rl_digest_update(st, bytes, c[i].len);
        rc = sink(ctx, bytes, c[i].len);
    }
    uint8_t got[16];
    rl_digest_end(st, got);
    if (rc || ix->held + ix->f.decoded > BLOB_FRAME_KEEP)
        blob_frame_drop(ix);
    if (!rc && memcmp(got, digest, 16) != 0) {
        runlog_digest d;
        char hex[33];
        memcpy(d.bytes, digest, 16);
        runlog_digest_hex(hex, &d);
        rc = rl_fail(RUNLOG_ECHECKSUM, "%s: blob %s: its bytes do not match its digest", rl_reader_path(r), hex);
    }
    return rc;
}

typedef struct mem_sink {
    uint8_t *p;
    size_t len;
} mem_sink;

static int to_memory(void *ctx, const uint8_t *p, size_t n)
{
    mem_sink *m = ctx;
    if (n)
        memcpy(m->p + m->len, p, n);
    m->len += n;
    return 0;
}

int runlog_reader_blob(void **out, size_t *len, runlog_reader *r, const runlog_digest *digest)
{
    if (!out || !len || !r || !digest)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    const chunk *c;
    size_t n;
    uint64_t size;
    int rc = find_chunks(r, digest->bytes, &c, &n, &size);
    if (rc)
        return rc;
    if (size > RUNLOG_MAX_BLOCK_RAW)
        return rl_fail(RUNLOG_ETOOLARGE, "%s: blob of %llu bytes: read it with runlog_reader_blob_to_file",
                       rl_reader_path(r), (unsigned long long)size);
    mem_sink m = { malloc(size + 1), 0 };
    if (!m.p)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    if ((rc = stream_blob(r, digest->bytes, to_memory, &m, NULL))) {
        free(m.p);
        return rc;
    }
    *out = m.p;
    *len = m.len;
    return 0;
}

uint64_t runlog_reader_blob_frames_read(const runlog_reader *r)
{
    rl_blob_index *ix = r ? *rl_reader_blob_cache((runlog_reader *)r) : NULL;
    return ix ? ix->frames_read : 0;
}

typedef struct file_sink {
    int fd;
    const char *path;
} file_sink;

static int to_file(void *ctx, const uint8_t *p, size_t n)
{
    file_sink *f = ctx;
    while (n > 0) {
        ssize_t w = write(f->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return rl_fail(RUNLOG_EIO, "%s: write failed: %s", f->path, strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int runlog_reader_blob_to_file(runlog_reader *r, const runlog_digest *digest, const char *path)
{
    if (!r || !digest || !path)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    /* A random name: one guessable from the PID could be taken ahead. */
    char *tmp = NULL;
    file_sink f = { rl_create_temp(&tmp, path), NULL };
    int rc;
    if (f.fd < 0)
        return rl_fail(errno == ENOMEM ? RUNLOG_ENOMEM : RUNLOG_EIO, "%s: cannot create a temporary file beside it: %s",
                       path, strerror(errno));
    f.path = tmp;
    rc = stream_blob(r, digest->bytes, to_file, &f, NULL);
    if (close(f.fd) != 0 && !rc)
        rc = rl_fail(RUNLOG_EIO, "%s: close failed: %s", tmp, strerror(errno));
    if (!rc && rename(tmp, path) != 0)
        rc = rl_fail(RUNLOG_EIO, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

int runlog_reader_blob_to_fd(runlog_reader *r, const runlog_digest *digest, int fd)
{
    if (!r || !digest || fd < 0)
        return rl_fail(RUNLOG_EINVAL, "NULL argument or bad descriptor");
    char name[32];
    snprintf(name, sizeof name, "descriptor %d", fd);
    file_sink f = { fd, name };
    return stream_blob(r, digest->bytes, to_file, &f, NULL);
}

struct runlog_doc {
    rl_arena arena;
    runlog_value *value;
};

/* Why a decoded table blob is not a §12.4 table, in why[] (NULL when it is):
 * a map whose "columns" (text) and "types" (type names) have one entry per
 * list of "data", at most RUNLOG_MAX_TABLE_COLUMNS, every list holding the
 * same number of cells (at most RUNLOG_MAX_TABLE_ROWS), each cell null or of
 * its column's type. Readers check it so that no caller gets a table whose
 * columns disagree (which would drop or shift cells). */
static const char *table_problem(const runlog_value *v, char *why, size_t n)
{
    static const char *const names[] = { "int", "float", "string", "bool", "image", "value" };
    static const uint8_t want[] = { RUNLOG_INT, RUNLOG_FLOAT, RUNLOG_STRING, RUNLOG_BOOL, RUNLOG_MAP, 0 };
    static const char *const type_names[] = { "null", "bool", "int", "float", "text", "bytes", "list", "map" };
    const runlog_value *cols = runlog_value_get(v, "columns"), *types = runlog_value_get(v, "types"),
                       *data = runlog_value_get(v, "data");

    if (!v || v->type != RUNLOG_MAP || !cols || cols->type != RUNLOG_LIST || !types ||
        types->type != RUNLOG_LIST || !data || data->type != RUNLOG_LIST)
        return "a table blob is one CBOR map with \"columns\", \"types\" and \"data\" lists";
    if (data->n > RUNLOG_MAX_TABLE_COLUMNS) {
        snprintf(why, n, "%u columns, over the limit of %u", data->n, RUNLOG_MAX_TABLE_COLUMNS);
        return why;
    }
    if (cols->n != data->n || types->n != data->n) {
        snprintf(why, n, "%u column names and %u types for %u data lists", cols->n, types->n, data->n);
        return why;
    }
    for (uint32_t c = 0; c < data->n; c++) {
        const runlog_value *name = &cols->u.items[c], *type = &types->u.items[c], *list = &data->u.items[c];
        size_t t = 0;
        while (type->type == RUNLOG_STRING && t < 6 &&
               !(type->n == strlen(names[t]) && memcmp(type->u.s, names[t], type->n) == 0))
            t++;
        if (name->type != RUNLOG_STRING || t == 6 || list->type != RUNLOG_LIST) {
            snprintf(why, n, "column %u: %s", c,
                     name->type != RUNLOG_STRING ? "its name is not text"
                     : t == 6 ? "unknown column type (int, float, string, bool, image or value)"
                              : "its data is not a list");
            return why;
        }
        if (list->n > RUNLOG_MAX_TABLE_ROWS || list->n != data->u.items[0].n) {
            if (list->n > RUNLOG_MAX_TABLE_ROWS)
                snprintf(why, n, "column %u (\"%.64s\") holds %u cells, over the limit of %u rows", c,
                         name->u.s, list->n, RUNLOG_MAX_TABLE_ROWS);
            else
                snprintf(why, n, "column %u (\"%.64s\") holds %u cells, column 0 holds %u", c, name->u.s,
                         list->n, data->u.items[0].n);
            return why;
        }
        for (uint32_t row = 0; want[t] && row < list->n; row++) {
            const runlog_value *cell = &list->u.items[row], *kind = runlog_value_get(cell, "_type");
            int image = kind && kind->type == RUNLOG_STRING && strcmp(kind->u.s, "image") == 0;
            if (cell->type == RUNLOG_NULL || (cell->type == want[t] && (want[t] != RUNLOG_MAP || image)))
                continue;
            snprintf(why, n, "column %u (\"%.64s\", %s), row %u: %s, expected %s or null", c, name->u.s,
                     names[t], row,
                     cell->type == RUNLOG_MAP && want[t] == RUNLOG_MAP ? "a map that is not an image"
                     : cell->type < 8 ? type_names[cell->type] : "?",
                     want[t] == RUNLOG_MAP ? "an image map" : names[t]);
            return why;
        }
    }
    return NULL;
}

int runlog_reader_table(runlog_doc **out, runlog_reader *r, const runlog_digest *digest)
{
    void *bytes;
    size_t len;
    int rc = runlog_reader_blob(&bytes, &len, r, digest);
    if (rc)
        return rc;
    runlog_doc *doc = calloc(1, sizeof *doc);
    if (!doc) {
        free(bytes);
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    }
    rl_cur c = rl_cur_make(bytes, len);
    const char *why = NULL;
    char buf[200];
    rc = rl_cbor_decode(&c, &doc->arena, &doc->value, &why);
    if (!rc && rl_cur_left(&c)) {
        why = "bytes after the table's CBOR item";
        rc = RUNLOG_ECORRUPT;
    } else if (!rc && (why = table_problem(doc->value, buf, sizeof buf)) != NULL) {
        rc = RUNLOG_ECORRUPT;
    }
    free(bytes);
    if (rc) {
        char hex[33];
        runlog_digest_hex(hex, digest);
        runlog_doc_free(doc);
        return rc == RUNLOG_ENOMEM ? rl_fail(rc, "out of memory")
                                   : rl_fail(rc, "%s: table %s: %s", rl_reader_path(r), hex, why);
    }
    *out = doc;
    return 0;
}

const runlog_value *runlog_doc_value(const runlog_doc *doc) { return doc ? doc->value : NULL; }

void runlog_doc_free(runlog_doc *doc)
{
    if (!doc)
        return;
    rl_arena_reset(&doc->arena);
    free(doc);
}

/* ---- Typed access to a table document (§12.4) --------------------------------- */

/* runlog_reader_table() made every doc and checked it with table_problem():
 * these only read what that check guarantees. */
static const runlog_value *doc_list(const runlog_doc *doc, const char *key)
{
    return runlog_value_get(doc->value, key);
}

int runlog_doc_table(const runlog_doc *doc, size_t *ncols, size_t *nrows)
{
    if (!doc)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    const runlog_value *data = doc_list(doc, "data");
    if (ncols)
        *ncols = data->n;
    if (nrows)
        *nrows = data->n ? data->u.items[0].n : 0;
    return 0;
}

int runlog_doc_table_column(const runlog_doc *doc, size_t i, const char **name, size_t *name_len,
                            runlog_column_type *type)
{
    static const char *const names[] = { "int", "float", "string", "bool", "image", "value" };
    if (!doc)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    const runlog_value *cols = doc_list(doc, "columns"), *types = doc_list(doc, "types");
    if (i >= cols->n)
        return rl_fail(RUNLOG_ENOTFOUND, "table has %u columns, no column %zu", cols->n, i);
    int t = 0;
    while (t < 5 && strcmp(types->u.items[i].u.s, names[t]) != 0)
        t++;
    if (name)
        *name = cols->u.items[i].u.s;
    if (name_len)
        *name_len = cols->u.items[i].n;
    if (type)
        *type = (runlog_column_type)t;
    return 0;
}

const runlog_value *runlog_doc_table_cell(const runlog_doc *doc, size_t row, size_t col)
{
    const runlog_value *data = doc ? doc_list(doc, "data") : NULL;
    if (!data || col >= data->n || row >= data->u.items[col].n)
        return NULL;
    return &data->u.items[col].u.items[row];
}
