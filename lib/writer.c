/*
 * The writer (spec/FORMAT.md §9 "Writing", "Durability", "Resume").
 *
 * The caller builds a row in its own memory; a commit copies it into the
 * current batch under a mutex. A batch is sealed when it reaches flush_bytes,
 * when flush_interval_ms passes (the writer thread's timer), or on flush. The
 * writer thread encodes, compresses and appends one frame per sealed batch.
 * At most max_queued_frames sealed batches wait, holding at most
 * max_queued_frames * flush_bytes bytes once more than one waits; a caller
 * that would exceed that waits (backpressure) instead of growing memory.
 *
 * Wide rows (hundreds of keys and more) with the default flush_bytes grow a
 * batch past it until it holds WIDE_ROWS (384) rows, its frame's bytes
 * reach WIDE_FRAME_MAX (40 MiB, by a bound on what the frame holds) or its
 * items WIDE_BATCH_MAX (64 MiB): each key's values then lie in a few frames,
 * a block or a large slice in each, not in a frame per few rows ("Wide
 * batches" below).
 * Such a batch is handed to the thread only when the thread is idle, so a
 * wide run holds two batches (the one being filled, the one being written)
 * and the thread's encoding of one: about rows x keys x 80 bytes for float
 * keys (13 bytes of item per cell in each batch, 24 of decoded cell and ~24
 * of values and compressed frame in the thread); bench/ measured a peak RSS
 * of 310 MiB at 10,000 keys and 37 MiB at 1,000 keys (384 rows a frame).
 * Whatever the rows, under 600 MiB: 2 x 64 MiB of items, 24
 * bytes for each of the at most 13 M cells (5 bytes of item for a null)
 * they hold, 3 x 40 MiB of frame. The timed flush still cuts first: a run
 * that commits 10 rows a second gets frames of 10 rows whatever its width.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "internal.h"

#define DEFAULT_INTERVAL_MS 1000u
#define DEFAULT_FLUSH_BYTES (1u << 20)
#define DEFAULT_MAX_QUEUED 4u
#define DEFAULT_ZSTD_LEVEL 3
#define INDEX_EVERY_FRAMES 1024u

/* ---- Queue items ----------------------------------------------------------
 *
 * What a caller's thread hands the writer thread: items in a batch's byte
 * buffer (one allocation per batch, not one per item). An item is a head,
 * then, by kind:
 *   ITEM_ROW     head.u.row.ncells row cells (global key id, type, value)
 *   ITEM_SYSTEM  head.u.row.ncells system cells (key text, float value)
 *   ITEM_RECORD  head.u.record.len bytes of record body
 *   ITEM_BLOB    head.u.blob.len bytes of blob data
 * The fields are stored one after the other, without padding, in the order
 * of the put functions below; each get function reads them in the same
 * order. Nothing else knows where a field is. These bytes never leave the
 * process, but their count decides where batches are sealed (flush_bytes),
 * hence where frames are cut: do not pad them. */
enum { ITEM_ROW = 'R', ITEM_SYSTEM = 'S', ITEM_RECORD = 'C', ITEM_BLOB = 'B' };

typedef struct item_head {
    uint8_t kind; /* ITEM_* */
    union {
        struct { uint64_t step; int64_t time_ns; uint32_t ncells; } row; /* ROW, SYSTEM */
        struct { uint8_t type; uint32_t len; } record;                    /* RL_REC_* */
        struct { uint8_t digest[16]; uint64_t offset, total; uint8_t compress; uint32_t len; } blob;
    } u;
} item_head;

/* A system cell: the sampler thread must not touch the caller's key
 * dictionary, so its keys travel as text. */
typedef struct item_sys_cell {
    const char *key;
    uint32_t len;
    double value;
} item_sys_cell;

/* Upper bounds on what the put functions write (a struct holds at least its
 * fields), for reserving room before writing in place; strings and keys add
 * their bytes. */
#define ITEM_HEAD_MAX sizeof(item_head)
#define ITEM_CELL_MAX sizeof(rl_cell)
#define ITEM_SYS_CELL_MAX sizeof(item_sys_cell)

#define ITEM_PUT(p, field) ((p) = item_put_field((p), &(field), sizeof(field)))
#define ITEM_GET(p, field) ((p) = item_get_field((p), &(field), sizeof(field)))

static uint8_t *item_put_field(uint8_t *p, const void *field, size_t n)
{
    memcpy(p, field, n);
    return p + n;
}

static const uint8_t *item_get_field(const uint8_t *p, void *field, size_t n)
{
    memcpy(field, p, n);
    return p + n;
}

/* Writes h at p; returns the end. */
static uint8_t *item_head_put(uint8_t *p, const item_head *h)
{
    ITEM_PUT(p, h->kind);
    switch (h->kind) {
    case ITEM_ROW:
    case ITEM_SYSTEM:
        ITEM_PUT(p, h->u.row.step);
        ITEM_PUT(p, h->u.row.time_ns);
        ITEM_PUT(p, h->u.row.ncells);
        break;
    case ITEM_RECORD:
        ITEM_PUT(p, h->u.record.type);
        ITEM_PUT(p, h->u.record.len);
        break;
    case ITEM_BLOB:
        ITEM_PUT(p, h->u.blob.digest);
        ITEM_PUT(p, h->u.blob.offset);
        ITEM_PUT(p, h->u.blob.total);
        ITEM_PUT(p, h->u.blob.compress);
        ITEM_PUT(p, h->u.blob.len);
        break;
    }
    return p;
}

/* Reads the head item_head_put wrote at p into *h; returns the end. */
static const uint8_t *item_head_get(const uint8_t *p, item_head *h)
{
    ITEM_GET(p, h->kind);
    switch (h->kind) {
    case ITEM_ROW:
    case ITEM_SYSTEM:
        ITEM_GET(p, h->u.row.step);
        ITEM_GET(p, h->u.row.time_ns);
        ITEM_GET(p, h->u.row.ncells);
        break;
    case ITEM_RECORD:
        ITEM_GET(p, h->u.record.type);
        ITEM_GET(p, h->u.record.len);
        break;
    case ITEM_BLOB:
        ITEM_GET(p, h->u.blob.digest);
        ITEM_GET(p, h->u.blob.offset);
        ITEM_GET(p, h->u.blob.total);
        ITEM_GET(p, h->u.blob.compress);
        ITEM_GET(p, h->u.blob.len);
        break;
    }
    return p;
}

/* Writes a row cell (c->key: a global key id) at p; returns the end. */
static uint8_t *item_cell_put(uint8_t *p, const rl_cell *c)
{
    ITEM_PUT(p, c->key);
    ITEM_PUT(p, c->type);
    switch (c->type) {
    case RL_COL_FLOAT: ITEM_PUT(p, c->v.f); break;
    case RL_COL_INT: ITEM_PUT(p, c->v.i); break;
    case RL_COL_BOOL: {
        uint8_t b = (uint8_t)(c->v.b != 0);
        ITEM_PUT(p, b);
        break;
    }
    case RL_COL_NULL: break;
    default: /* string or CBOR */
        ITEM_PUT(p, c->v.s.n);
        if (c->v.s.n) /* an empty string may have no bytes anywhere */
            memcpy(p, c->v.s.p, c->v.s.n);
        p += c->v.s.n;
    }
    return p;
}

/* Reads a row cell item_cell_put wrote at p; strings and CBOR point into
 * the item. Returns the end. */
static const uint8_t *item_cell_get(const uint8_t *p, rl_cell *c)
{
    ITEM_GET(p, c->key);
    ITEM_GET(p, c->type);
    switch (c->type) {
    case RL_COL_FLOAT: ITEM_GET(p, c->v.f); break;
    case RL_COL_INT: ITEM_GET(p, c->v.i); break;
    case RL_COL_BOOL: {
        uint8_t b;
        ITEM_GET(p, b);
        c->v.b = b;
        break;
    }
    case RL_COL_NULL: break;
    default:
        ITEM_GET(p, c->v.s.n);
        c->v.s.p = p;
        p += c->v.s.n;
    }
    return p;
}

static uint8_t *item_sys_cell_put(uint8_t *p, const item_sys_cell *c)
{
    ITEM_PUT(p, c->len);
    memcpy(p, c->key, c->len);
    p += c->len;
    ITEM_PUT(p, c->value);
    return p;
}

static const uint8_t *item_sys_cell_get(const uint8_t *p, item_sys_cell *c)
{
    ITEM_GET(p, c->len);
    c->key = (const char *)p;
    p += c->len;
    ITEM_GET(p, c->value);
    return p;
}

/* A bound on the bytes a batch's frame will hold, its blocks decoded and
 * its block directory (a block is stored raw when compressing does not
 * shrink it, §4, so the frame's payload is at most this): what sizes a wide
 * batch ("Wide batches"). The queue items are no such bound: they overstate
 * the values (a float cell is 13 bytes of item, 8 of frame) and do not hold
 * the key table or the column descriptors, which a record repeats for each
 * of its columns, with a bitmap of its rows. */
typedef struct frame_est {
    uint64_t bytes;        /* values, steps, times, record bodies */
    uint64_t desc;         /* record heads and column descriptors of the finished records */
    uint64_t key_bytes;    /* the key table: names of the keys defined at its last row */
    uint8_t run_kind;      /* ITEM_ROW or ITEM_SYSTEM: the record being gathered; 0 none */
    uint64_t run_rows;
    uint64_t run_cols;     /* its columns: (key, type) pairs (history), cells (system) */
    uint32_t run_stamp;    /* a history record's mark in col_stamp */
} frame_est;

typedef struct batch {
    rl_buf data;
    uint32_t nitems;
    uint32_t nrows;        /* history rows among the items */
    int has_blob;          /* holds blob chunks (never grown past flush_bytes) */
    uint32_t nkeys;        /* keys defined when its last item was added (under mu, by
                            * the caller's thread, the one that defines keys) */
    /* For the frame's block limit (see make_room_locked): cells of its
     * history rows, history columns possible (non-null types x keys defined
     * at its last commit), and blocks of everything else. */
    uint64_t hist_cells, hist_cols_max, other_blocks;
    frame_est est;         /* the bound on its frame's bytes ("Wide batches") */
    uint64_t opened_ms;    /* monotonic, when the first item came */
    struct batch *next;    /* free list */
} batch;

typedef struct wcell {
    uint32_t key;
    uint8_t type;          /* RL_COL_* */
    union { int b; int64_t i; double f; } v;
    uint32_t off, len;     /* bytes in row_bytes for strings and CBOR */
} wcell;

typedef struct pending_entry {
    rl_index_entry e;      /* keys are global key ids */
} pending_entry;

struct runlog_writer {
    char *path;
    int fd;
    rl_file_header hdr;
    char *run_id;
    int resumed;

    uint32_t interval_ms, flush_bytes, max_queued;
    int adaptive_batches;  /* flush_bytes left at its default: wide batches grow */
    int synchronous;
    runlog_clock_fn clock;
    void *clock_ctx;

    /* Caller side. */
    rl_keymap keys;
    wcell *cells;
    uint32_t ncells, cells_cap;
    uint32_t *row_slot;    /* per key id: index + 1 of its cell in the row */
    size_t row_slot_cap;
    rl_buf row_bytes;
    rl_buf scratch;        /* record bodies */
    uint64_t next_step;
    uint64_t system_seq;   /* under mu */
    rl_digest_set blobs;   /* blobs the file holds */
    rl_artifact_version *arts;
    size_t narts, arts_cap;
    int has_rows;
    int finished;

    /* Shared with the writer thread, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_idle, cv_space;
    batch *cur;
    batch **queue;
    uint32_t qhead, qlen;
    batch *free_batches;
    int busy, stop;
    int err;
    char err_detail[512];
    pthread_t thread;
    int thread_started;

    /* Writer thread side (the caller's, in synchronous mode). */
    rl_frame_builder fb;
    rl_buf frame;
    uint64_t seq;
    uint64_t end;          /* file size: where the next frame goes */
    uint64_t frames_written;
    uint64_t prev_index;   /* offset of the last index frame, UINT64_MAX none */
    pending_entry *pending;
    uint32_t npending, pending_cap;
    uint64_t trailer_end;  /* end offset when the last trailer was written */
    uint32_t *local_of, *local_gen, local_cap, gen;
    uint32_t thread_nkeys; /* keys the thread may look up (ids below) */
    uint32_t *frame_keys;  /* global ids of the frame's history keys */
    uint32_t nframe_keys;
    rl_buf tbody;          /* record bodies built by the thread */
    rl_keymap sys_keys;    /* system metric names seen by the thread */
    uint32_t *sys_local_of, *sys_local_gen;
    size_t sys_local_cap;
    rl_row *rows;
    uint32_t *row_first;
    rl_cell *tcells;
    size_t rows_cap, row_first_cap, tcells_cap;

    /* For frame_est ("Wide batches"), last so that the fields above keep
     * their cache lines (the caller's and the thread's apart). Caller side:
     * the names of the first key_bytes_n keys, as a key table holds them.
     * Under mu: per (key id, type), the stamp of the last history record
     * (of the current batch) that had that column. */
    uint64_t key_bytes;
    uint32_t key_bytes_n;
    uint32_t *col_stamp;
    size_t col_stamp_cap;
    uint32_t last_stamp;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int64_t now_ns(const runlog_writer *w)
{
    if (w->clock)
        return w->clock(w->clock_ctx);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- Frames: encoding and appending (writer thread) --------------------- */

static int write_frame(runlog_writer *w, uint8_t kind, uint32_t nrecords, const uint8_t *payload,
                       size_t len, uint64_t *offset)
{
    /* Sealed files (§4.1): data and index payloads are checked by their
     * directory; a trailer's by its bytes. */
    int sealed = (w->hdr.incompat_flags & RL_INCOMPAT_SEALED_BLOCKS) && kind != RL_FRAME_TRAILER;
    uint64_t sum;
    const char *why;
    if (rl_payload_checksum(payload, len, sealed, &sum, &why))
        return rl_fail(RUNLOG_ECORRUPT, "%s: a frame the writer built: %s", w->path, why);
    rl_frame_header h = { kind, 0, w->hdr.salt, w->seq, (uint32_t)len, nrecords, sum };
    uint8_t hdr[RL_FRAME_HEADER_SIZE];
    rl_frame_header_encode(hdr, &h);
    if (rl_pwrite_all(w->fd, hdr, sizeof hdr, w->end) ||
        rl_pwrite_all(w->fd, payload, len, w->end + sizeof hdr)) {
        int saved = errno;
        /* Keep the file valid up to its last complete frame. */
        if (rl_io.ftruncate(w->fd, (off_t)w->end) != 0) { /* best effort */ }
        return rl_fail(RUNLOG_EIO, "%s: byte %llu: writing a frame: %s", w->path,
                       (unsigned long long)w->end, strerror(saved));
    }
    *offset = w->end;
    w->end += sizeof hdr + len;
    w->seq++;
    w->frames_written++;
    return 0;
}

static int grow_array(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q)
        return RUNLOG_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

static int ensure_local(runlog_writer *w, uint32_t nkeys)
{
    if (nkeys <= w->local_cap)
        return 0;
    uint32_t cap = w->local_cap ? w->local_cap : 256;
    while (cap < nkeys)
        cap *= 2;
    uint32_t *a = realloc(w->local_of, cap * sizeof *a);
    if (a)
        w->local_of = a;
    uint32_t *b = realloc(w->local_gen, cap * sizeof *b);
    if (b)
        w->local_gen = b;
    uint32_t *c = realloc(w->frame_keys, cap * sizeof *c);
    if (c)
        w->frame_keys = c;
    if (!a || !b || !c)
        return RUNLOG_ENOMEM;
    memset(w->local_gen + w->local_cap, 0, (cap - w->local_cap) * sizeof *b);
    w->local_cap = cap;
    return 0;
}

/* Frame-local index of a global key, adding it to the frame's key table. */
static int local_key(runlog_writer *w, uint32_t global, uint32_t *out)
{
    if (w->local_gen[global] != w->gen) {
        uint32_t len;
        const char *s = rl_keymap_str(&w->keys, global, &len);
        int rc = rl_fb_add_key(&w->fb, s, len);
        if (rc)
            return rc;
        w->local_gen[global] = w->gen;
        w->local_of[global] = w->fb.nkeys - 1;
        w->frame_keys[w->nframe_keys++] = global;
    }
    *out = w->local_of[global];
    return 0;
}

/* Frame-local index of a system metric name (kept apart from history keys:
 * the index lists history keys only). */
static int local_sys_key(runlog_writer *w, const char *key, uint32_t len, uint32_t *out)
{
    uint32_t id;
    int rc = rl_keymap_intern(&w->sys_keys, key, len, &id);
    if (rc)
        return rc;
    if (id >= w->sys_local_cap) {
        size_t cap = w->sys_local_cap, cap2 = cap;
        if (grow_array((void **)&w->sys_local_of, &cap, (size_t)id + 1, sizeof *w->sys_local_of) ||
            grow_array((void **)&w->sys_local_gen, &cap2, (size_t)id + 1, sizeof *w->sys_local_gen))
            return RUNLOG_ENOMEM;
        memset(w->sys_local_gen + w->sys_local_cap, 0, (cap2 - w->sys_local_cap) * sizeof *w->sys_local_gen);
        w->sys_local_cap = cap < cap2 ? cap : cap2;
    }
    if (w->sys_local_gen[id] != w->gen) {
        if ((rc = rl_fb_add_key(&w->fb, key, len)))
            return rc;
        w->sys_local_gen[id] = w->gen;
        w->sys_local_of[id] = w->fb.nkeys - 1;
    }
    *out = w->sys_local_of[id];
    return 0;
}

static int encode_rows(runlog_writer *w, size_t nrows, uint8_t record_type)
{
    if (nrows == 0)
        return 0;
    for (size_t r = 0; r < nrows; r++)
        w->rows[r].cells = w->tcells + w->row_first[r];
    return rl_history_encode(&w->fb, record_type, w->rows, nrows);
}

static int add_pending_entry(runlog_writer *w, uint64_t offset, uint32_t size, uint64_t nrows,
                             uint64_t first, uint64_t last, const uint32_t *globals, uint32_t nkeys)
{
    size_t cap = w->pending_cap;
    if (grow_array((void **)&w->pending, &cap, w->npending + 1, sizeof *w->pending))
        return RUNLOG_ENOMEM;
    w->pending_cap = (uint32_t)cap;
    rl_index_entry *e = &w->pending[w->npending].e;
    memset(e, 0, sizeof *e);
    e->offset = offset;
    e->seq = w->seq - 1;
    e->size = size;
    e->rows = nrows;
    e->first_step = first;
    e->last_step = last;
    e->nkeys = nkeys;
    if (nkeys) {
        e->keys = malloc(nkeys * sizeof *e->keys);
        if (!e->keys)
            return RUNLOG_ENOMEM;
        memcpy(e->keys, globals, nkeys * sizeof *e->keys);
    }
    w->npending++;
    return 0;
}

static void clear_pending(runlog_writer *w)
{
    for (uint32_t i = 0; i < w->npending; i++)
        free(w->pending[i].e.keys);
    w->npending = 0;
}

static int write_index(runlog_writer *w)
{
    rl_fb_reset(&w->fb);
    w->gen++;
    w->nframe_keys = 0;
    if (ensure_local(w, w->thread_nkeys))
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    rl_index idx = { w->prev_index, w->npending, NULL };
    rl_index_entry *entries = calloc(w->npending ? w->npending : 1, sizeof *entries);
    uint32_t *keys = NULL;
    size_t total = 0;
    for (uint32_t i = 0; i < w->npending; i++)
        total += w->pending[i].e.nkeys;
    keys = malloc((total ? total : 1) * sizeof *keys);
    int rc = RUNLOG_ENOMEM;
    if (!entries || !keys)
        goto done;
    size_t k = 0;
    for (uint32_t i = 0; i < w->npending; i++) {
        entries[i] = w->pending[i].e;
        entries[i].keys = keys + k;
        for (uint32_t j = 0; j < w->pending[i].e.nkeys; j++)
            if ((rc = local_key(w, w->pending[i].e.keys[j], &keys[k++])))
                goto done;
    }
    idx.entries = entries;
    rl_buf body = { 0 };
    if ((rc = rl_index_encode(&body, &idx)) ||
        (rc = rl_fb_add_record(&w->fb, RL_REC_INDEX, body.p, body.len))) {
        rl_buf_free(&body);
        goto done;
    }
    rl_buf_free(&body);
    w->frame.len = 0;
    if ((rc = rl_fb_finish(&w->fb, &w->frame, NULL)))
        goto done;
    uint64_t offset;
    if ((rc = write_frame(w, RL_FRAME_INDEX, 1, w->frame.p, w->frame.len, &offset)))
        goto done;
    w->prev_index = offset;
    clear_pending(w);
done:
    free(entries);
    free(keys);
    if (rc && rc != RUNLOG_EIO)
        rc = rl_fail(rc, "%s: writing the index: %s", w->path, runlog_strerror(rc));
    return rc;
}

/* Encodes one batch as a data frame and appends it. */
static int write_batch(runlog_writer *w, batch *b)
{
    rl_fb_reset(&w->fb);
    w->gen++;
    w->nframe_keys = 0;
    if (ensure_local(w, b->nkeys))
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    if (b->nkeys > w->thread_nkeys)
        w->thread_nkeys = b->nkeys;
    size_t nrows = 0, ncells = 0, total_rows = 0;
    uint64_t first_step = 0, last_step = 0;
    uint32_t nrecords = 0;
    uint8_t rows_tag = ITEM_ROW; /* the kind of the rows being gathered */
    int rc = 0;
    const uint8_t *p = b->data.p, *end = b->data.p + b->data.len;
    while (p < end) {
        item_head h;
        p = item_head_get(p, &h);
        /* Rows of one kind in a row become one record; anything else ends it. */
        if (nrows > 0 && h.kind != rows_tag) {
            if ((rc = encode_rows(w, nrows, rows_tag == ITEM_ROW ? RL_REC_HISTORY : RL_REC_SYSTEM)))
                goto fail;
            nrecords++;
            nrows = ncells = 0;
        }
        if (h.kind == ITEM_BLOB) {
            uint32_t idx;
            rl_buf *blk;
            if ((rc = rl_fb_new_block(&w->fb, &blk, &idx)) || (rc = rl_buf_put(blk, p, h.u.blob.len)))
                goto fail;
            if (!h.u.blob.compress)
                rl_fb_block_raw(&w->fb, idx);
            p += h.u.blob.len;
            rl_buf *b = &w->tbody;
            b->len = 0;
            if ((rc = rl_cbor_map(b, 4)) || (rc = rl_cbor_text(b, "digest", 6)) ||
                (rc = rl_cbor_bytes(b, h.u.blob.digest, 16)) || (rc = rl_cbor_text(b, "offset", 6)) ||
                (rc = rl_cbor_uint(b, h.u.blob.offset)) || (rc = rl_cbor_text(b, "size", 4)) ||
                (rc = rl_cbor_uint(b, h.u.blob.total)) || (rc = rl_cbor_text(b, "block", 5)) ||
                (rc = rl_cbor_uint(b, idx)) || (rc = rl_fb_add_record(&w->fb, RL_REC_BLOB_CHUNK, b->p, b->len)))
                goto fail;
            nrecords++;
            continue;
        }
        if (h.kind == ITEM_RECORD) {
            if ((rc = rl_fb_add_record(&w->fb, h.u.record.type, p, h.u.record.len)))
                goto fail;
            nrecords++;
            p += h.u.record.len;
            continue;
        }
        rows_tag = h.kind;
        if (grow_array((void **)&w->rows, &w->rows_cap, nrows + 1, sizeof *w->rows) ||
            grow_array((void **)&w->row_first, &w->row_first_cap, nrows + 1, sizeof *w->row_first)) {
            rc = RUNLOG_ENOMEM;
            goto fail;
        }
        rl_row *row = &w->rows[nrows];
        uint32_t n = h.u.row.ncells;
        row->step = h.u.row.step;
        row->time_ns = h.u.row.time_ns;
        row->ncells = n;
        w->row_first[nrows] = (uint32_t)ncells;
        if (grow_array((void **)&w->tcells, &w->tcells_cap, ncells + n, sizeof *w->tcells)) {
            rc = RUNLOG_ENOMEM;
            goto fail;
        }
        for (uint32_t i = 0; i < n; i++) {
            rl_cell *cell = &w->tcells[ncells + i];
            if (h.kind == ITEM_SYSTEM) {
                item_sys_cell sc;
                p = item_sys_cell_get(p, &sc);
                if ((rc = local_sys_key(w, sc.key, sc.len, &cell->key)))
                    goto fail;
                cell->type = RL_COL_FLOAT;
                cell->v.f = sc.value;
                continue;
            }
            p = item_cell_get(p, cell);
            if ((rc = local_key(w, cell->key, &cell->key)))
                goto fail;
        }
        if (h.kind == ITEM_ROW) {
            if (total_rows == 0)
                first_step = row->step;
            last_step = row->step;
            total_rows++;
        }
        ncells += n;
        nrows++;
    }
    if ((rc = encode_rows(w, nrows, rows_tag == ITEM_ROW ? RL_REC_HISTORY : RL_REC_SYSTEM)))
        goto fail;
    nrecords += nrows > 0;
    w->frame.len = 0;
    if ((rc = rl_fb_finish(&w->fb, &w->frame, NULL)))
        goto fail;
    uint64_t offset;
    if ((rc = write_frame(w, RL_FRAME_DATA, nrecords, w->frame.p, w->frame.len, &offset)))
        return rc;
    if ((rc = add_pending_entry(w, offset, (uint32_t)(RL_FRAME_HEADER_SIZE + w->frame.len),
                                total_rows, first_step, last_step, w->frame_keys, w->nframe_keys)))
        goto fail;
    if (w->npending >= INDEX_EVERY_FRAMES)
        return write_index(w);
    return 0;
fail:
    return rl_fail(rc, "%s: encoding a frame: %s", w->path, runlog_strerror(rc));
}

static int write_trailer(runlog_writer *w)
{
    if (w->trailer_end == w->end && w->npending == 0)
        return 0;
    int rc = write_index(w);
    if (rc)
        return rc;
    uint8_t payload[RL_TRAILER_PAYLOAD];
    rl_trailer t = { w->prev_index, w->frames_written };
    rl_trailer_encode(payload, &t);
    uint64_t offset;
    if ((rc = write_frame(w, RL_FRAME_TRAILER, 0, payload, sizeof payload, &offset)))
        return rc;
    w->trailer_end = w->end;
    return 0;
}

/* ---- Batches and the writer thread -------------------------------------- */

static batch *batch_get(runlog_writer *w)
{
    batch *b = w->free_batches;
    if (b) {
        w->free_batches = b->next;
    } else {
        b = calloc(1, sizeof *b);
        if (!b)
            return NULL;
    }
    b->data.len = 0;
    b->nitems = 0;
    b->nrows = 0;
    b->has_blob = 0;
    b->hist_cells = b->hist_cols_max = b->other_blocks = 0;
    memset(&b->est, 0, sizeof b->est);
    b->next = NULL;
    return b;
}

static void batch_put(runlog_writer *w, batch *b)
{
    b->next = w->free_batches;
    w->free_batches = b;
}

static void set_err_locked(runlog_writer *w, int rc)
{
    if (!w->err) {
        w->err = rc;
        snprintf(w->err_detail, sizeof w->err_detail, "%s", runlog_error_detail());
    }
}

static int sticky_err(const runlog_writer *w)
{
    return w->err ? rl_fail(w->err, "%s", w->err_detail) : 0;
}

/* ---- Wide batches ----------------------------------------------------------
 *
 * With the default flush_bytes, a batch of wide rows grows past it until it
 * holds WIDE_ROWS rows, so that each key's column of the frame is long
 * enough to compress well and to be read as one block: a 1 MiB batch holds
 * ~80 rows of 1,000 keys, 8 of 10,000, and columns of a few hundred bytes
 * compress slowly and poorly (bench/ measured 120 MB/s at 800 bytes against
 * 250 MB/s at 8 KB), and reading one key then walks one frame per few rows.
 * It stops growing before its frame could pass WIDE_FRAME_MAX bytes (a
 * bound on what the frame holds, well within the frame limits of §4 and
 * §10: 64 MiB stored, 256 MiB raw) or its items WIDE_BATCH_MAX bytes (the
 * memory a batch may take; items are bigger than the values). A row that
 * would carry a growing batch past either starts the next batch. At 1,000
 * and at 10,000 float keys that is WIDE_ROWS; rows of 200 strings of 1 KB,
 * ~200 (the 40 MiB bound). Narrower rows (fewer than 209 float keys: 21 +
 * 13 bytes of item a key) reach flush_bytes with more than WIDE_ROWS rows
 * and are cut there, as they always were. Why 384 and not more: a column
 * of 384 floats (3 KiB) is still packed with its neighbours into blocks of
 * 16 KiB (§6.1), which zstd compresses fast; at 512 rows and more each
 * column is a block of its own (4 KiB and up) and writing 1,000 keys was
 * 30 % slower (bench/, docs/BENCHMARKS.md). */
#define WIDE_ROWS 384u
#define WIDE_FRAME_MAX (40u << 20)
#define WIDE_BATCH_MAX (64u << 20)

/* Bytes of a column descriptor and its block's directory entry, bitmap
 * aside (§6: key, type, presence, block, slice length; §4: codec, raw and
 * stored lengths, as varints of their largest values), and of a record's
 * head and row and column counts in block 0. */
#define EST_DESC_MAX 24u
#define EST_RECORD_MAX 32u
/* A history cell's value in its column at most (§6): a float 8 bytes, an
 * integer a 10-byte varint, a bool a bit, a string its bytes (counted
 * apart) and a varint length. Steps and times: two varints a row. */
#define EST_ROW_MAX 20u

static const uint8_t est_cell_fixed[RL_COL_NTYPES] = {
    [RL_COL_NULL] = 0, [RL_COL_BOOL] = 1, [RL_COL_INT] = 10,
    [RL_COL_FLOAT] = 8, [RL_COL_STRING] = 5, [RL_COL_CBOR] = 0,
};

/* Descriptors of the record being gathered: one per column, each with a
 * bitmap of its rows. */
static uint64_t est_run_desc(const frame_est *e)
{
    if (!e->run_kind)
        return 0;
    return EST_RECORD_MAX + e->run_cols * (EST_DESC_MAX + (e->run_rows + 7) / 8);
}

/* Counts an item in e: kind (ITEM_*), the columns it adds to the record
 * being gathered (rows), the bytes it puts in the frame besides
 * descriptors, the key table (history rows), and (history rows) the stamp
 * of its record. Rows of one kind in a row are one record, as write_batch()
 * gathers them. */
static void est_add(frame_est *e, uint8_t kind, uint64_t new_cols, uint64_t bytes, uint64_t key_bytes,
                    uint32_t stamp)
{
    int is_row = kind == ITEM_ROW || kind == ITEM_SYSTEM;
    if (e->run_kind && e->run_kind != (is_row ? kind : 0)) {
        e->desc += est_run_desc(e);
        e->run_kind = 0;
        e->run_rows = e->run_cols = 0;
    }
    if (is_row) {
        e->run_kind = kind;
        e->run_rows++;
        e->run_cols += new_cols;
        e->run_stamp = stamp;
    }
    e->bytes += bytes;
    if (key_bytes > e->key_bytes)
        e->key_bytes = key_bytes;
}

/* The bound on the bytes of the frame of the items counted in e. */
static uint64_t est_total(const frame_est *e)
{
    return e->bytes + e->desc + est_run_desc(e) + e->key_bytes + 64;
}

/* Whether a batch grows on past flush_bytes (see above). */
static int batch_growing(const runlog_writer *w, const batch *b)
{
    return b->data.len >= w->flush_bytes && w->adaptive_batches && !b->has_blob && b->nrows > 0 &&
           b->nrows < WIDE_ROWS && b->data.len < WIDE_BATCH_MAX && est_total(&b->est) < WIDE_FRAME_MAX;
}

/* Whether a batch is to be sealed by size: at flush_bytes, or past it when
 * it was growing (see above). */
static int batch_full(const runlog_writer *w, const batch *b)
{
    return b->data.len >= w->flush_bytes && !batch_growing(w, b);
}

/* The first item entered an empty batch, under mu: start its clock and wake
 * the writer thread, which sleeps without a deadline while nothing is
 * pending, so that it can seal the batch when flush_interval_ms has passed. */
static void batch_opened(runlog_writer *w, batch *b)
{
    b->opened_ms = mono_ms();
    if (!w->synchronous && w->interval_ms != RUNLOG_NO_TIMED_FLUSH)
        pthread_cond_signal(&w->cv_work);
}

/* Whether the current batch is to be sealed now: full, or (synchronous
 * mode, where no thread watches the clock) older than flush_interval_ms. */
static int batch_due(const runlog_writer *w, const batch *b)
{
    return batch_full(w, b) || (w->synchronous && w->interval_ms != RUNLOG_NO_TIMED_FLUSH &&
                                mono_ms() >= b->opened_ms + w->interval_ms);
}

/* Data bytes of the sealed batches waiting in the queue, under mu. */
static size_t queued_bytes(const runlog_writer *w)
{
    size_t n = 0;
    for (uint32_t i = 0; i < w->qlen; i++)
        n += w->queue[(w->qhead + i) % w->max_queued]->data.len;
    return n;
}

/* Hands the current batch to the writer (thread), under mu. */
static int seal_locked(runlog_writer *w)
{
    if (!w->cur || w->cur->nitems == 0)
        return 0;
    if (w->synchronous) {
        int rc = write_batch(w, w->cur);
        w->cur->data.len = 0;
        w->cur->nitems = w->cur->nrows = 0;
        w->cur->has_blob = 0;
        w->cur->hist_cells = w->cur->hist_cols_max = w->cur->other_blocks = 0;
        memset(&w->cur->est, 0, sizeof w->cur->est);
        if (rc)
            set_err_locked(w, rc);
        return rc;
    }
    /* At most max_queued batches, and (past the first) at most
     * max_queued * flush_bytes of them. A wide batch bigger than that (see
     * batch_growing) waits until the thread has written the one before it:
     * a wide run holds two batches (the one being filled, the one being
     * written), not three, and the thread, slower than the caller at such
     * rows, still never waits for work. */
    size_t budget = (size_t)w->max_queued * w->flush_bytes;
    while ((w->qlen == w->max_queued || (w->qlen > 0 && queued_bytes(w) + w->cur->data.len > budget) ||
            (w->adaptive_batches && w->cur->data.len > budget && (w->qlen > 0 || w->busy))) &&
           !w->err)
        pthread_cond_wait(&w->cv_space, &w->mu);
    if (w->err)
        return sticky_err(w);
    batch *next = batch_get(w);
    if (!next)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    w->queue[(w->qhead + w->qlen) % w->max_queued] = w->cur;
    w->qlen++;
    w->cur = next;
    pthread_cond_signal(&w->cv_work);
    return 0;
}

static void *writer_thread(void *arg)
{
    runlog_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->qlen == 0 && !w->stop) {
            if (w->interval_ms != RUNLOG_NO_TIMED_FLUSH && w->cur->nitems > 0) {
                uint64_t due = w->cur->opened_ms + w->interval_ms, now = mono_ms();
                if (now >= due) {
                    /* its nkeys was set as its items were added: the
                     * caller may be defining a key right now */
                    batch *next = batch_get(w);
                    if (!next)
                        break;
                    w->queue[(w->qhead + w->qlen) % w->max_queued] = w->cur;
                    w->qlen++;
                                    w->cur = next;
                    continue;
                }
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                uint64_t wait_ms = due - now;
                ts.tv_sec += (time_t)(wait_ms / 1000);
                ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&w->cv_work, &w->mu, &ts);
            } else {
                pthread_cond_wait(&w->cv_work, &w->mu);
            }
        }
        if (w->qlen == 0)
            break;
        batch *b = w->queue[w->qhead];
        w->qhead = (w->qhead + 1) % w->max_queued;
        w->qlen--;
        w->busy = 1;
        pthread_cond_broadcast(&w->cv_space);
        int failed = w->err;
        pthread_mutex_unlock(&w->mu);
        int rc = failed ? 0 : write_batch(w, b);
        pthread_mutex_lock(&w->mu);
        w->busy = 0;
        batch_put(w, b);
        if (rc)
            set_err_locked(w, rc);
        pthread_cond_broadcast(&w->cv_idle);
        pthread_cond_broadcast(&w->cv_space);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Blocks of one frame besides block 0 (the record stream), §10. */
#define FRAME_MAX_BLOCKS (RL_MAX_BLOCKS - 1u)

/* Seals the current batch, under mu, when an item taking more blocks would
 * carry its frame past FRAME_MAX_BLOCKS (the encoder refuses such a frame,
 * and the whole batch would be lost). A history row takes a block per
 * (key, type) column of the batch, which the caller's thread does not count;
 * the bound is its cells, or the columns its keys allow (non-null types x
 * keys defined), whichever is less, so that a run of fewer than 13 107 keys
 * never seals a batch here. hist_cols_max: that product at this commit. */
static int make_room_locked(runlog_writer *w, uint64_t hist_cells, uint64_t hist_cols_max,
                            uint64_t other_blocks)
{
    const batch *b = w->cur;
    if (b->nitems == 0)
        return 0;
    uint64_t cols_max = b->hist_cols_max > hist_cols_max ? b->hist_cols_max : hist_cols_max;
    uint64_t hist = b->hist_cells + hist_cells;
    if (hist > cols_max)
        hist = cols_max;
    return hist + b->other_blocks + other_blocks > FRAME_MAX_BLOCKS ? seal_locked(w) : 0;
}

/* Counts an item's blocks in the current batch (see make_room_locked). */
static void count_blocks_locked(runlog_writer *w, uint64_t hist_cells, uint64_t hist_cols_max,
                                uint64_t other_blocks)
{
    batch *b = w->cur;
    b->hist_cells += hist_cells;
    if (hist_cols_max > b->hist_cols_max)
        b->hist_cols_max = hist_cols_max;
    b->other_blocks += other_blocks;
}

/* An item as frame_est counts it (see est_add). A history row's bytes are
 * EST_ROW_MAX and its strings', and its cells' others, counted from cells
 * when they are needed. */
typedef struct est_item {
    uint8_t kind;
    uint64_t ncells, bytes, key_bytes;
    const wcell *cells; /* a history row's, NULL for other items */
} est_item;

/* A stamp for a new history record in col_stamp, under mu (0: none). */
static uint32_t new_stamp(runlog_writer *w)
{
    if (++w->last_stamp == 0) {
        memset(w->col_stamp, 0, w->col_stamp_cap * sizeof *w->col_stamp);
        w->last_stamp = 1;
    }
    return w->last_stamp;
}


/* Grows a zero-initialised array to hold at least `need` entries (doubling
 * from `first`); the new entries are 0. 0 or RUNLOG_ENOMEM. */
static int grow_zeroed(uint32_t **arr, size_t *cap, size_t need, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : first;
    while (c < need)
        c *= 2;
    uint32_t *p = realloc(*arr, c * sizeof *p);
    if (!p)
        return RUNLOG_ENOMEM;
    memset(p + *cap, 0, (c - *cap) * sizeof *p);
    *arr = p;
    *cap = c;
    return 0;
}

/* Marks the columns of a history row's n cells as the record stamp's, under
 * mu; *fresh: how many it did not have; *values: their bytes in the frame
 * but for those of strings (est_cell_fixed). Keys with ids below nkeys.
 * One pass over the cells: a 1,000-key commit is ~3 us, this ~1 more. */
static int mark_columns(runlog_writer *w, const wcell *cells, uint64_t n, uint32_t nkeys, uint32_t stamp,
                        uint64_t *fresh, uint64_t *values)
{
    if (grow_zeroed(&w->col_stamp, &w->col_stamp_cap, (size_t)nkeys * RL_COL_NTYPES, 1024))
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    uint64_t k = 0, v = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint8_t type = cells[i].type;
        uint32_t *s = &w->col_stamp[(size_t)cells[i].key * RL_COL_NTYPES + type];
        k += *s != stamp;
        *s = stamp;
        v += est_cell_fixed[type];
    }
    *fresh = k;
    *values = v;
    return 0;
}

/* Seals the current batch, under mu, when it is growing past flush_bytes
 * and an item of size bytes (it as counted) would carry it past
 * WIDE_FRAME_MAX or WIDE_BATCH_MAX: a grown batch never passes them. Then
 * counts the item in the current batch. A batch that can no longer grow
 * (WIDE_ROWS rows already, or flush_bytes given) is not counted: a batch of
 * 10-key rows counts its first WIDE_ROWS rows of ~7,000. A history row's
 * columns are counted exactly (col_stamp), not bounded by its cells or the
 * keys defined: at 10,000 keys the difference is ~50 rows a frame. */
static int make_wide_room_locked(runlog_writer *w, size_t size, const est_item *it)
{
    if (!w->adaptive_batches || w->cur->nrows >= WIDE_ROWS)
        return 0;
    uint64_t bytes = it->bytes, cols = it->ncells;
    uint32_t stamp = 0;
    int continues = it->cells && w->cur->est.run_kind == ITEM_ROW;
    if (it->cells) {
        uint64_t values;
        stamp = continues ? w->cur->est.run_stamp : new_stamp(w);
        int rc = mark_columns(w, it->cells, it->ncells, w->keys.count, stamp, &cols, &values);
        if (rc)
            return rc;
        bytes += values;
    }
    if (batch_growing(w, w->cur)) {
        frame_est e = w->cur->est;
        est_add(&e, it->kind, cols, bytes, it->key_bytes, stamp);
        if (est_total(&e) > WIDE_FRAME_MAX || w->cur->data.len + size > WIDE_BATCH_MAX) {
            int rc = seal_locked(w);
            if (rc)
                return rc;
            if (continues) { /* a record of the next batch, its columns all new */
                uint64_t values;
                stamp = new_stamp(w);
                if ((rc = mark_columns(w, it->cells, it->ncells, w->keys.count, stamp, &cols, &values)))
                    return rc;
            }
        }
    }
    est_add(&w->cur->est, it->kind, cols, bytes, it->key_bytes, stamp);
    return 0;
}

/* Appends an item (taking blocks frame blocks) to the current batch; seals
 * it when it is full. */
static int add_item_locked(runlog_writer *w, const void *head, size_t head_len, const void *body,
                           size_t body_len, uint32_t blocks)
{
    if (blocks) {
        int rc = make_room_locked(w, 0, 0, blocks);
        if (rc)
            return rc;
    }
    /* A large item (a blob chunk) that would carry the batch past its size
     * starts a batch of its own: batches, queued or recycled, then stay near
     * flush_bytes instead of growing to twice it. */
    if (w->cur->nitems > 0 && body_len >= w->flush_bytes / 4 &&
        w->cur->data.len + head_len + body_len > w->flush_bytes) {
        int rc = seal_locked(w);
        if (rc)
            return rc;
    }
    /* Records and blob chunks hold their bodies in the frame. */
    est_item it = { *(const uint8_t *)head, 0, head_len + body_len, 0, NULL };
    int rc = make_wide_room_locked(w, head_len + body_len, &it);
    if (rc)
        return rc;
    batch *b = w->cur;
    if (rl_buf_reserve(&b->data, head_len + body_len))
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    if (b->nitems == 0)
        batch_opened(w, b);
    memcpy(b->data.p + b->data.len, head, head_len);
    if (body_len)
        memcpy(b->data.p + b->data.len + head_len, body, body_len);
    b->data.len += head_len + body_len;
    b->nitems++;
    b->nkeys = w->keys.count;
    count_blocks_locked(w, 0, 0, blocks);
    return batch_due(w, b) ? seal_locked(w) : 0;
}

static void lock(runlog_writer *w) { pthread_mutex_lock(&w->mu); }
static void unlock(runlog_writer *w) { pthread_mutex_unlock(&w->mu); }

/* Starts an item of size bytes in the current batch, taking frame blocks
 * as make_room_locked() counts them and frame bytes as est counts them
 * (make_wide_room_locked): takes mu and returns where to write it, or NULL
 * with *rc set and mu released. */
static uint8_t *item_begin(runlog_writer *w, size_t size, uint64_t hist_cells, uint64_t hist_cols_max,
                           uint64_t other_blocks, const est_item *est, int *rc)
{
    lock(w);
    *rc = sticky_err(w);
    if (!*rc)
        *rc = make_room_locked(w, hist_cells, hist_cols_max, other_blocks);
    if (!*rc)
        *rc = make_wide_room_locked(w, size, est);
    batch *b = w->cur;
    if (!*rc && rl_buf_reserve(&b->data, size))
        *rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
    if (*rc) {
        unlock(w);
        return NULL;
    }
    if (b->nitems == 0)
        batch_opened(w, b);
    count_blocks_locked(w, hist_cells, hist_cols_max, other_blocks);
    return b->data.p + b->data.len;
}

/* Ends the item item_begin() started (len bytes written; is_row: a history
 * row), seals the batch when it is due, and releases mu. */
static int item_end(runlog_writer *w, size_t len, int is_row)
{
    batch *b = w->cur;
    b->data.len += len;
    b->nitems++;
    b->nkeys = w->keys.count;
    b->nrows += is_row != 0;
    int rc = batch_due(w, b) ? seal_locked(w) : 0;
    unlock(w);
    return rc;
}

int rl_writer_record(runlog_writer *w, uint8_t type, const rl_buf *body)
{
    item_head h = { .kind = ITEM_RECORD, .u.record = { type, (uint32_t)body->len } };
    uint8_t head[ITEM_HEAD_MAX];
    size_t head_len = (size_t)(item_head_put(head, &h) - head);
    lock(w);
    int rc = w->err ? sticky_err(w) : add_item_locked(w, head, head_len, body->p, body->len, 0);
    unlock(w);
    return rc;
}

/* ---- Record bodies -------------------------------------------------------- */

int rl_check_key(const char *key)
{
    if (!key)
        return rl_fail(RUNLOG_EINVAL, "key is NULL");
    size_t n = strlen(key);
    if (n > RUNLOG_MAX_KEY)
        return rl_fail(RUNLOG_EINVAL, "key of %zu bytes is over the limit of %u bytes", n, RUNLOG_MAX_KEY);
    if (!rl_utf8_valid((const uint8_t *)key, n))
        return rl_fail(RUNLOG_EINVAL, "key is not valid UTF-8");
    return 0;
}

int rl_check_text(const char *what, const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    if (n > RUNLOG_MAX_STRING)
        return rl_fail(RUNLOG_EINVAL, "%s of %zu bytes is over the limit", what, n);
    if (!rl_utf8_valid((const uint8_t *)s, n))
        return rl_fail(RUNLOG_EINVAL, "%s is not valid UTF-8", what);
    return 0;
}

static int put_text_entry(rl_buf *b, const char *key, const char *value)
{
    int rc = rl_cbor_text(b, key, strlen(key));
    if (rc)
        return rc;
    return value ? rl_cbor_text(b, value, strlen(value)) : rl_cbor_null(b);
}

/* Starts a record body map {"t": now, ...} with n more entries in b. */
int rl_writer_body_start(runlog_writer *w, rl_buf *b, size_t n)
{
    b->len = 0;
    int rc = rl_cbor_map(b, n + 1);
    if (!rc)
        rc = rl_cbor_text(b, "t", 1);
    if (!rc)
        rc = rl_cbor_int(b, now_ns(w));
    return rc;
}

/* Adds a record built in a buffer of the caller's own and frees it. The
 * record functions build bodies in such local buffers, so that a capture
 * thread may call them while the training loop adds rows. */
static int add_record_free(runlog_writer *w, uint8_t type, rl_buf *b, int rc)
{
    if (!rc)
        rc = rl_writer_record(w, type, b);
    else if (rc == RUNLOG_ENOMEM)
        rc = rl_fail(rc, "out of memory");
    rl_buf_free(b);
    return rc;
}

typedef int (*put_value_fn)(rl_buf *b, const void *arg);

/* A config or summary update: {"t": now, "set": {key: value}}. */
static int set_record(runlog_writer *w, uint8_t type, const char *key, put_value_fn put, const void *arg)
{
    if (!w)
        return rl_fail(RUNLOG_EINVAL, "writer is NULL");
    int rc = rl_check_key(key);
    if (rc)
        return rc;
    if (w->finished)
        return rl_fail(RUNLOG_ESTATE, "%s: the run is finished", w->path);
    rl_buf b = { 0 };
    if (!(rc = rl_writer_body_start(w, &b, 1)) && !(rc = rl_cbor_text(&b, "set", 3)) &&
        !(rc = rl_cbor_map(&b, 1)) && !(rc = rl_cbor_text(&b, key, strlen(key))))
        rc = put(&b, arg);
    return add_record_free(w, type, &b, rc);
}

static int put_double(rl_buf *b, const void *a) { return rl_cbor_float(b, *(const double *)a); }
static int put_int(rl_buf *b, const void *a) { return rl_cbor_int(b, *(const int64_t *)a); }
static int put_bool(rl_buf *b, const void *a) { return rl_cbor_bool(b, *(const int *)a); }
static int put_string(rl_buf *b, const void *a)
{
    int rc = rl_check_text("string value", a);
    return rc ? rc : (a ? rl_cbor_text(b, a, strlen(a)) : rl_fail(RUNLOG_EINVAL, "string is NULL"));
}
static int put_json(rl_buf *b, const void *a) { return rl_json_to_cbor(b, a, 0, RL_VALUE_DEPTH); }

int runlog_writer_config_double(runlog_writer *w, const char *key, double v) { return set_record(w, RL_REC_CONFIG, key, put_double, &v); }
int runlog_writer_config_int(runlog_writer *w, const char *key, int64_t v) { return set_record(w, RL_REC_CONFIG, key, put_int, &v); }
int runlog_writer_config_bool(runlog_writer *w, const char *key, int v) { v = v != 0; return set_record(w, RL_REC_CONFIG, key, put_bool, &v); }
int runlog_writer_config_string(runlog_writer *w, const char *key, const char *v) { return set_record(w, RL_REC_CONFIG, key, put_string, v); }
int runlog_writer_summary_double(runlog_writer *w, const char *key, double v) { return set_record(w, RL_REC_SUMMARY, key, put_double, &v); }
int runlog_writer_summary_int(runlog_writer *w, const char *key, int64_t v) { return set_record(w, RL_REC_SUMMARY, key, put_int, &v); }
int runlog_writer_summary_string(runlog_writer *w, const char *key, const char *v) { return set_record(w, RL_REC_SUMMARY, key, put_string, v); }
int runlog_writer_summary_json(runlog_writer *w, const char *key, const char *json) { return set_record(w, RL_REC_SUMMARY, key, put_json, json); }

/* {"t": now, "set": {the JSON object}} as a config or metadata record. */
static int json_object_record(runlog_writer *w, uint8_t type, const char *json)
{
    if (!w || !json)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    if (w->finished)
        return rl_fail(RUNLOG_ESTATE, "%s: the run is finished", w->path);
    rl_buf b = { 0 };
    int rc;
    if ((rc = rl_writer_body_start(w, &b, 1)) || (rc = rl_cbor_text(&b, "set", 3))) {
        rl_buf_free(&b);
        return rl_fail(rc, "out of memory");
    }
    if ((rc = rl_json_to_cbor(&b, json, 1, RL_VALUE_DEPTH - 1))) {
        rl_buf_free(&b);
        return rc;
    }
    return add_record_free(w, type, &b, 0);
}

int runlog_writer_config_json(runlog_writer *w, const char *json)
{
    return json_object_record(w, RL_REC_CONFIG, json);
}

int runlog_writer_metadata_json(runlog_writer *w, const char *json)
{
    return json_object_record(w, RL_REC_METADATA, json);
}

const char *runlog_alert_level_name(runlog_alert_level level)
{
    switch (level) {
    case RUNLOG_ALERT_INFO: return "INFO";
    case RUNLOG_ALERT_WARN: return "WARN";
    case RUNLOG_ALERT_ERROR: return "ERROR";
    }
    return NULL;
}

const char *runlog_stream_name(runlog_stream stream)
{
    switch (stream) {
    case RUNLOG_STDOUT: return "stdout";
    case RUNLOG_STDERR: return "stderr";
    }
    return NULL;
}

int runlog_writer_alert(runlog_writer *w, const char *title, const char *text, runlog_alert_level level)
{
    if (!w || !title)
        return rl_fail(RUNLOG_EINVAL, "writer or title is NULL");
    const char *lv = runlog_alert_level_name(level);
    if (!lv)
        return rl_fail(RUNLOG_EINVAL, "unknown alert level %d", (int)level);
    int rc;
    if ((rc = rl_check_text("alert title", title)) || (rc = rl_check_text("alert text", text)))
        return rc;
    rl_buf b = { 0 };
    if (!(rc = rl_writer_body_start(w, &b, 3)) && !(rc = put_text_entry(&b, "title", title)) &&
        !(rc = put_text_entry(&b, "text", text ? text : "")))
        rc = put_text_entry(&b, "level", lv);
    return add_record_free(w, RL_REC_ALERT, &b, rc);
}

int runlog_writer_console(runlog_writer *w, runlog_stream stream, const void *data, size_t len)
{
    if (!w || (!data && len))
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    if (stream != RUNLOG_STDOUT && stream != RUNLOG_STDERR)
        return rl_fail(RUNLOG_EINVAL, "unknown stream %d", (int)stream);
    const uint8_t *p = data;
    do {
        size_t n = len > RUNLOG_MAX_STRING ? RUNLOG_MAX_STRING : len;
        rl_buf b = { 0 };
        int rc;
        if (!(rc = rl_writer_body_start(w, &b, 2)) &&
            !(rc = put_text_entry(&b, "stream", runlog_stream_name(stream))) &&
            !(rc = rl_cbor_text(&b, "data", 4)))
            rc = rl_cbor_bytes(&b, p, n);
        if ((rc = add_record_free(w, RL_REC_CONSOLE, &b, rc)))
            return rc;
        p += n;
        len -= n;
    } while (len > 0);
    return 0;
}

/* A system sample: an item like a row, but its keys travel as text (the
 * sampler thread must not touch the caller's key dictionary) and its step
 * is the sample's sequence number. */
static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A key twice in one sample would be two values of one column in a row,
 * which the encoder refuses (§6, "One value per key and row"). */
static int check_unique_keys(const char *const *keys, size_t n)
{
    const char **sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    memcpy(sorted, keys, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_key);
    int rc = 0;
    for (size_t i = 1; i < n && !rc; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            rc = rl_fail(RUNLOG_EINVAL, "system key %s given twice in one sample", sorted[i]);
    free(sorted);
    return rc;
}

int runlog_writer_system(runlog_writer *w, const char *const *keys, const double *values, size_t n)
{
    if (!w || (n && (!keys || !values)))
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    if (n > RUNLOG_MAX_ROW_KEYS)
        return rl_fail(RUNLOG_ETOOLARGE, "a system sample of %zu keys is over the limit of %u keys (RUNLOG_MAX_ROW_KEYS)",
                       n, RUNLOG_MAX_ROW_KEYS);
    size_t size = ITEM_HEAD_MAX;
    for (size_t i = 0; i < n; i++) {
        int rc = rl_check_key(keys[i]);
        if (rc)
            return rc;
        size += ITEM_SYS_CELL_MAX + strlen(keys[i]);
    }
    if (n > 1) {
        int rc = check_unique_keys(keys, n);
        if (rc)
            return rc;
    }
    item_head h = { .kind = ITEM_SYSTEM, .u.row = { 0, now_ns(w), (uint32_t)n } };
    /* Its item holds what the frame will: key names, values, step and time. */
    est_item est = { ITEM_SYSTEM, n, size, 0, NULL };
    int rc;
    uint8_t *p = item_begin(w, size, 0, 0, n, &est, &rc), *start = p;
    if (!p)
        return rc;
    h.u.row.step = w->system_seq++; /* under mu: samplers may run in parallel */
    p = item_head_put(p, &h);
    for (size_t i = 0; i < n; i++) {
        item_sys_cell c = { keys[i], (uint32_t)strlen(keys[i]), values[i] };
        p = item_sys_cell_put(p, &c);
    }
    return item_end(w, (size_t)(p - start), 0);
}

/* ---- Blobs and media (used by blob.c, media.c, artifact.c) ------------------- */

int rl_writer_check(runlog_writer *w)
{
    if (!w)
        return rl_fail(RUNLOG_EINVAL, "writer is NULL");
    if (w->finished)
        return rl_fail(RUNLOG_ESTATE, "%s: the run is finished", w->path);
    return 0;
}

rl_digest_set *rl_writer_blobs(runlog_writer *w) { return &w->blobs; }

int rl_writer_blob_chunk(runlog_writer *w, const uint8_t digest[16], uint64_t offset, uint64_t total,
                         const void *data, size_t len, int compress)
{
    item_head h = { .kind = ITEM_BLOB };
    memcpy(h.u.blob.digest, digest, sizeof h.u.blob.digest);
    h.u.blob.offset = offset;
    h.u.blob.total = total;
    h.u.blob.compress = (uint8_t)(compress != 0);
    h.u.blob.len = (uint32_t)len;
    uint8_t head[ITEM_HEAD_MAX];
    size_t head_len = (size_t)(item_head_put(head, &h) - head);
    lock(w);
    w->cur->has_blob = 1;
    int rc = w->err ? sticky_err(w) : add_item_locked(w, head, head_len, data, len, 1);
    unlock(w);
    return rc;
}

void rl_writer_artifact_lookup(runlog_writer *w, const char *name, const uint8_t digest[16], int *found,
                               uint32_t *version, uint32_t *next)
{
    *found = 0;
    *next = 0;
    for (size_t i = 0; i < w->narts; i++) {
        if (strcmp(w->arts[i].name, name) != 0)
            continue;
        if (w->arts[i].version + 1 > *next)
            *next = w->arts[i].version + 1;
        if (!*found && memcmp(w->arts[i].digest, digest, 16) == 0) {
            *found = 1;
            *version = w->arts[i].version;
        }
    }
}

int rl_writer_artifact_note(runlog_writer *w, const char *name, const uint8_t digest[16], uint32_t version)
{
    if (grow_array((void **)&w->arts, &w->arts_cap, w->narts + 1, sizeof *w->arts))
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    rl_artifact_version *a = &w->arts[w->narts];
    if (!(a->name = strdup(name)))
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    memcpy(a->digest, digest, 16);
    a->version = version;
    w->narts++;
    return 0;
}

/* ---- History rows ----------------------------------------------------------- */

/* The cell of key in the row being built, new or the key's cell already
 * (then emptied: len 0); was (NULL: not wanted) receives what the cell
 * held before, type RL_COL_NULL and len 0 for a new one. */
static int row_cell(runlog_writer *w, const char *key, wcell **out, wcell *was)
{
    if (!w || !key)
        return rl_fail(RUNLOG_EINVAL, "writer or key is NULL");
    if (w->finished)
        return rl_fail(RUNLOG_ESTATE, "%s: the run is finished", w->path);
    uint32_t id;
    int rc = rl_keymap_intern(&w->keys, key, strlen(key), &id);
    if (rc)
        return rc;
    if (grow_zeroed(&w->row_slot, &w->row_slot_cap, (size_t)id + 1, 256))
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    if (was)
        *was = (wcell){ .type = RL_COL_NULL };
    if (w->row_slot[id]) {
        *out = &w->cells[w->row_slot[id] - 1];
        if (was)
            *was = **out;
    } else {
        /* Each key is a column and a block of the row's frame (§10). */
        if (w->ncells >= RUNLOG_MAX_ROW_KEYS)
            return rl_fail(RUNLOG_ETOOLARGE, "key %s: a row holds at most %u keys (RUNLOG_MAX_ROW_KEYS)",
                           key, RUNLOG_MAX_ROW_KEYS);
        if (w->ncells == w->cells_cap) {
            uint32_t cap = w->cells_cap ? w->cells_cap * 2 : 32;
            wcell *c = realloc(w->cells, cap * sizeof *c);
            if (!c)
                return rl_fail(RUNLOG_ENOMEM, "out of memory");
            w->cells = c;
            w->cells_cap = cap;
        }
        w->row_slot[id] = ++w->ncells;
        *out = &w->cells[w->ncells - 1];
    }
    (*out)->key = id;
    (*out)->len = 0;
    return 0;
}

/* A cell whose value lives in the cell itself (numbers, bools, null). */
static int add_scalar(runlog_writer *w, const char *key, uint8_t type, int64_t i, double f)
{
    wcell *c;
    int rc = row_cell(w, key, &c, NULL);
    if (rc)
        return rc;
    c->type = type;
    if (type == RL_COL_FLOAT)
        c->v.f = f;
    else if (type == RL_COL_BOOL)
        c->v.b = i != 0;
    else
        c->v.i = i;
    return 0;
}

int runlog_writer_add_double(runlog_writer *w, const char *key, double v) { return add_scalar(w, key, RL_COL_FLOAT, 0, v); }
int runlog_writer_add_int(runlog_writer *w, const char *key, int64_t v) { return add_scalar(w, key, RL_COL_INT, v, 0); }
int runlog_writer_add_bool(runlog_writer *w, const char *key, int v) { return add_scalar(w, key, RL_COL_BOOL, v, 0); }
int runlog_writer_add_null(runlog_writer *w, const char *key) { return add_scalar(w, key, RL_COL_NULL, 0, 0); }

/* The cell of key in the row being built, or NULL. */
static wcell *row_cell_of(runlog_writer *w, const char *key)
{
    uint32_t id;
    if (rl_keymap_find(&w->keys, key, strlen(key), &id) != 0 || id >= w->row_slot_cap || !w->row_slot[id])
        return NULL;
    return &w->cells[w->row_slot[id] - 1];
}

static int has_bytes(const wcell *c)
{
    return c->type == RL_COL_STRING || c->type == RL_COL_CBOR;
}

/* Bytes of a string or CBOR cell go to row_bytes (p must not point into
 * it). A value that replaces the cell's value in this row takes the place
 * of the old bytes when they are the last ones there (one key set again
 * and again, or a list of images grown one by one: the row's bytes stay
 * the size of its values); other replaced bytes stay until the commit.
 * Cells address row_bytes with 32 bits: a row's bytes stop at 4 GiB. */
static int add_bytes_cell(runlog_writer *w, const char *key, uint8_t type, const void *p, size_t n)
{
    if (n > RUNLOG_MAX_STRING)
        return rl_fail(RUNLOG_EINVAL, "value of %zu bytes is over the limit", n);
    size_t off = w->row_bytes.len;
    if (n > UINT32_MAX - off)
        return rl_fail(RUNLOG_ETOOLARGE, "key %s: the row's string and structured values are over 4 GiB", key);
    if (rl_buf_put(&w->row_bytes, p, n))
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    wcell *c, was;
    int rc = row_cell(w, key, &c, &was);
    if (rc) {
        w->row_bytes.len = off;
        return rc;
    }
    if (has_bytes(&was) && (size_t)was.off + was.len == off) {
        /* the old value was last: the new one takes its place */
        memmove(w->row_bytes.p + was.off, w->row_bytes.p + off, n);
        w->row_bytes.len = was.off + n;
        off = was.off;
    }
    c->type = type;
    c->off = (uint32_t)off;
    c->len = (uint32_t)n;
    return 0;
}

/* CBOR head of a list: its item count and where its items start. */
static int cbor_list_head(const uint8_t *p, size_t n, uint64_t *count, size_t *skip)
{
    if (n == 0 || (p[0] >> 5) != 4)
        return 0;
    uint8_t ai = p[0] & 31;
    size_t w = ai < 24 ? 0 : ai == 24 ? 1 : ai == 25 ? 2 : ai == 26 ? 4 : ai == 27 ? 8 : 99;
    if (w == 99 || n < 1 + w)
        return 0;
    uint64_t v = ai < 24 ? ai : 0;
    for (size_t i = 0; i < w; i++)
        v = v << 8 | p[1 + i];
    *count = v;
    *skip = 1 + w;
    return 1;
}

int rl_writer_media_cell(runlog_writer *w, const char *key, const uint8_t *cbor, size_t n, int append)
{
    int rc = rl_writer_check(w);
    if (rc || (rc = rl_check_key(key)))
        return rc;
    wcell *old = append ? row_cell_of(w, key) : NULL;
    if (old && old->type != RL_COL_CBOR)
        old = NULL;
    if (!old)
        return add_bytes_cell(w, key, RL_COL_CBOR, cbor, n);
    /* Another image under the same key in this row: [old..., new]. */
    rl_buf list = { 0 };
    const uint8_t *p = w->row_bytes.p + old->off;
    uint64_t count;
    size_t skip;
    int is_list = cbor_list_head(p, old->len, &count, &skip);
    if (is_list && (size_t)old->off + old->len == w->row_bytes.len && n <= RUNLOG_MAX_STRING - old->len &&
        n <= UINT32_MAX - w->row_bytes.len) {
        /* The list is the row's last bytes: the item goes after it and the
         * count is rewritten in place, when its head keeps its length (a
         * list grown one image at a time costs its items once, not once
         * per image). */
        if (rl_cbor_array(&list, count + 1)) {
            rl_buf_free(&list);
            return rl_fail(RUNLOG_ENOMEM, "out of memory");
        }
        if (list.len == skip) {
            if (rl_buf_put(&w->row_bytes, cbor, n)) {
                rl_buf_free(&list);
                return rl_fail(RUNLOG_ENOMEM, "out of memory");
            }
            memcpy(w->row_bytes.p + old->off, list.p, skip);
            old->len += (uint32_t)n;
            rl_buf_free(&list);
            return 0;
        }
        list.len = 0;
    }
    if (is_list)
        rc = rl_cbor_array(&list, count + 1);
    else {
        skip = 0;
        rc = rl_cbor_array(&list, 2);
    }
    if (!rc)
        rc = rl_buf_put(&list, p + skip, old->len - skip);
    if (!rc)
        rc = rl_buf_put(&list, cbor, n);
    if (!rc)
        rc = add_bytes_cell(w, key, RL_COL_CBOR, list.p, list.len);
    else
        rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
    rl_buf_free(&list);
    return rc;
}

int runlog_writer_add_string(runlog_writer *w, const char *key, const char *v)
{
    if (!v)
        return rl_fail(RUNLOG_EINVAL, "string is NULL");
    int rc = rl_check_text("string value", v);
    return rc ? rc : add_bytes_cell(w, key, RL_COL_STRING, v, strlen(v));
}

int runlog_writer_add_json(runlog_writer *w, const char *key, const char *json)
{
    if (!w)
        return rl_fail(RUNLOG_EINVAL, "writer is NULL");
    w->scratch.len = 0;
    int rc = rl_json_to_cbor(&w->scratch, json, 0, RL_VALUE_DEPTH);
    return rc ? rc : add_bytes_cell(w, key, RL_COL_CBOR, w->scratch.p, w->scratch.len);
}

static void clear_row(runlog_writer *w)
{
    for (uint32_t i = 0; i < w->ncells; i++)
        w->row_slot[w->cells[i].key] = 0;
    w->ncells = 0;
    w->row_bytes.len = 0;
}

static int commit_at(runlog_writer *w, uint64_t step)
{
    /* row_bytes holds every string's bytes (and those of replaced ones):
     * a bound without a loop over the cells, which gcc vectorizes into
     * stalls (a 10-key commit took 14 ns more). */
    size_t size = ITEM_HEAD_MAX + (size_t)w->ncells * ITEM_CELL_MAX + w->row_bytes.len;
    /* The key table's bound: each name and a length varint of 2 bytes at
     * most (RUNLOG_MAX_KEY), counted once per key, here rather than in the
     * add functions, which a commit calls once per key. */
    for (; w->key_bytes_n < w->keys.count; w->key_bytes_n++) {
        uint32_t len;
        rl_keymap_str(&w->keys, w->key_bytes_n, &len);
        w->key_bytes += (uint64_t)len + 2;
    }
    est_item est = { ITEM_ROW, w->ncells, EST_ROW_MAX + w->row_bytes.len, w->key_bytes, w->cells };
    item_head h = { .kind = ITEM_ROW, .u.row = { step, now_ns(w), w->ncells } };
    int rc;
    uint8_t *p = item_begin(w, size, w->ncells, (uint64_t)(RL_COL_NTYPES - 1) * w->keys.count, 0, &est, &rc),
            *start = p;
    if (!p)
        return rc;
    p = item_head_put(p, &h);
    /* Local copies: stores through p might alias *w, for all the compiler knows. */
    const wcell *cells = w->cells;
    const uint8_t *row_bytes = w->row_bytes.p;
    for (uint32_t i = 0, n = h.u.row.ncells; i < n; i++) {
        const wcell *wc = &cells[i];
        rl_cell c; /* only the fields of its type are put */
        c.key = wc->key;
        c.type = wc->type;
        switch (wc->type) {
        case RL_COL_FLOAT: c.v.f = wc->v.f; break;
        case RL_COL_INT: c.v.i = wc->v.i; break;
        case RL_COL_BOOL: c.v.b = wc->v.b; break;
        case RL_COL_NULL: break;
        default:
            /* row_bytes.p is NULL while every string is empty */
            c.v.s.p = wc->len ? row_bytes + wc->off : NULL;
            c.v.s.n = wc->len;
        }
        p = item_cell_put(p, &c);
    }
    w->next_step = step + 1;
    w->has_rows = 1;
    clear_row(w);
    return item_end(w, (size_t)(p - start), 1);
}

int runlog_writer_discard_row(runlog_writer *w)
{
    if (!w)
        return rl_fail(RUNLOG_EINVAL, "writer is NULL");
    clear_row(w);
    return 0;
}

/* The step rule of a commit, in one place for both commits and for
 * runlog_writer_open_for_step(), which asks it before anything is written:
 * an explicit step is at most RUNLOG_MAX_STEP and not lower than the last
 * one; an automatic step (step NULL) needs a last step that one follows.
 * 0, or the refusal with its detail. */
static int step_refused(const runlog_writer *w, const uint64_t *step)
{
    if (!step) {
        /* next_step is 0 after a last step of 2^64 - 1 (a file of another writer). */
        if (w->has_rows && (w->next_step == 0 || w->next_step > RUNLOG_MAX_STEP))
            return rl_fail(RUNLOG_EINVAL, "%s: no automatic step follows the last step %llu (steps are at most %llu)",
                           w->path, (unsigned long long)(w->next_step - 1), (unsigned long long)RUNLOG_MAX_STEP);
        return 0;
    }
    if (*step > RUNLOG_MAX_STEP)
        return rl_fail(RUNLOG_EINVAL, "%s: step %llu is over the limit of %llu (RUNLOG_MAX_STEP: the automatic step after it must fit in 64 bits)",
                       w->path, (unsigned long long)*step, (unsigned long long)RUNLOG_MAX_STEP);
    if (w->has_rows && *step < w->next_step - 1)
        return rl_fail(RUNLOG_ESTATE, "%s: step %llu is lower than the last step %llu", w->path,
                       (unsigned long long)*step, (unsigned long long)(w->next_step - 1));
    return 0;
}

int runlog_writer_commit(runlog_writer *w)
{
    if (!w)
        return rl_fail(RUNLOG_EINVAL, "writer is NULL");
    if (w->finished)
        return rl_fail(RUNLOG_ESTATE, "%s: the run is finished", w->path);
    int rc = step_refused(w, NULL);
    return rc ? rc : commit_at(w, w->next_step);
}

int runlog_writer_commit_step(runlog_writer *w, uint64_t step)
{
    if (!w)
        return rl_fail(RUNLOG_EINVAL, "writer is NULL");
    if (w->finished)
        return rl_fail(RUNLOG_ESTATE, "%s: the run is finished", w->path);
    int rc = step_refused(w, &step);
    return rc ? rc : commit_at(w, step);
}

/* ---- Flush, finish, close --------------------------------------------------- */

static int drain(runlog_writer *w)
{
    lock(w);
    int rc = seal_locked(w);
    while (!w->synchronous && (w->qlen > 0 || w->busy))
        pthread_cond_wait(&w->cv_idle, &w->mu);
    if (!rc)
        rc = sticky_err(w);
    unlock(w);
    return rc;
}

int runlog_writer_flush(runlog_writer *w)
{
    if (!w)
        return rl_fail(RUNLOG_EINVAL, "writer is NULL");
    return drain(w);
}

/* A failed fsync is sticky: the kernel may have dropped the pages it could
 * not write and report success next time, so nothing after it is trusted to
 * be durable (§9.6). */
static int sync_file(runlog_writer *w)
{
    if (rl_io.fsync(w->fd) == 0)
        return 0;
    int rc = rl_fail(RUNLOG_EIO, "%s: fsync: %s", w->path, strerror(errno));
    lock(w);
    set_err_locked(w, rc);
    unlock(w);
    return rc;
}

int runlog_writer_sync(runlog_writer *w)
{
    int rc = runlog_writer_flush(w);
    return rc ? rc : sync_file(w);
}

static void stop_thread(runlog_writer *w)
{
    if (!w->thread_started)
        return;
    lock(w);
    w->stop = 1;
    pthread_cond_signal(&w->cv_work);
    unlock(w);
    pthread_join(w->thread, NULL);
    w->thread_started = 0;
    w->synchronous = 1; /* from here on the caller writes */
}

/* Pending, uncommitted values as a partial record {"t", "set": {...}}. */
static int write_partial(runlog_writer *w)
{
    if (w->ncells == 0)
        return 0;
    int rc;
    if ((rc = rl_writer_body_start(w, &w->scratch, 1)) || (rc = rl_cbor_text(&w->scratch, "set", 3)) ||
        (rc = rl_cbor_map(&w->scratch, w->ncells)))
        return rl_fail(rc, "out of memory");
    for (uint32_t i = 0; i < w->ncells && !rc; i++) {
        const wcell *c = &w->cells[i];
        uint32_t klen;
        const char *k = rl_keymap_str(&w->keys, c->key, &klen);
        if ((rc = rl_cbor_text(&w->scratch, k, klen)))
            break;
        switch (c->type) {
        case RL_COL_FLOAT: rc = rl_cbor_float(&w->scratch, c->v.f); break;
        case RL_COL_INT: rc = rl_cbor_int(&w->scratch, c->v.i); break;
        case RL_COL_BOOL: rc = rl_cbor_bool(&w->scratch, c->v.b); break;
        case RL_COL_NULL: rc = rl_cbor_null(&w->scratch); break;
        case RL_COL_STRING: rc = rl_cbor_text(&w->scratch, (const char *)w->row_bytes.p + c->off, c->len); break;
        default: rc = rl_buf_put(&w->scratch, w->row_bytes.p + c->off, c->len);
        }
    }
    if (rc)
        return rl_fail(rc, "out of memory");
    return rl_writer_record(w, RL_REC_PARTIAL, &w->scratch);
}

int runlog_writer_finish(runlog_writer *w, int exit_code)
{
    if (!w)
        return rl_fail(RUNLOG_EINVAL, "writer is NULL");
    if (w->finished)
        return rl_fail(RUNLOG_ESTATE, "%s: the run is finished already", w->path);
    int rc = 0;
    if (w->ncells > 0 && (rc = runlog_writer_commit(w)))
        return rc;
    if ((rc = rl_writer_body_start(w, &w->scratch, 2)) || (rc = rl_cbor_text(&w->scratch, "exit_code", 9)) ||
        (rc = rl_cbor_int(&w->scratch, exit_code)) ||
        (rc = put_text_entry(&w->scratch, "state", exit_code == 0 ? "finished" : "failed")))
        return rl_fail(rc, "out of memory");
    if ((rc = rl_writer_record(w, RL_REC_FINISH, &w->scratch)) || (rc = drain(w)))
        return rc;
    w->finished = 1;
    stop_thread(w);
    if ((rc = write_trailer(w))) {
        set_err_locked(w, rc); /* close reports it too */
        return rc;
    }
    return sync_file(w);
}

static void writer_free(runlog_writer *w)
{
    if (w->fd >= 0)
        close(w->fd); /* releases the lock */
    if (w->queue) {
        for (uint32_t i = 0; i < w->qlen; i++) {
            batch *b = w->queue[(w->qhead + i) % w->max_queued];
            rl_buf_free(&b->data);
            free(b);
        }
    }
    free(w->queue);
    if (w->cur) {
        rl_buf_free(&w->cur->data);
        free(w->cur);
    }
    while (w->free_batches) {
        batch *b = w->free_batches;
        w->free_batches = b->next;
        rl_buf_free(&b->data);
        free(b);
    }
    clear_pending(w);
    free(w->pending);
    rl_keymap_free(&w->keys);
    free(w->cells);
    free(w->row_slot);
    rl_buf_free(&w->row_bytes);
    rl_buf_free(&w->scratch);
    rl_fb_free(&w->fb);
    rl_buf_free(&w->frame);
    free(w->local_of);
    free(w->local_gen);
    free(w->frame_keys);
    rl_keymap_free(&w->sys_keys);
    rl_buf_free(&w->tbody);
    rl_digest_set_free(&w->blobs);
    for (size_t i = 0; i < w->narts; i++)
        free(w->arts[i].name);
    free(w->arts);
    free(w->sys_local_of);
    free(w->sys_local_gen);
    free(w->rows);
    free(w->col_stamp);
    free(w->row_first);
    free(w->tcells);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv_work);
    pthread_cond_destroy(&w->cv_idle);
    pthread_cond_destroy(&w->cv_space);
    free(w->run_id);
    free(w->path);
    free(w);
}

int runlog_writer_close(runlog_writer *w)
{
    if (!w)
        return 0;
    int rc = 0;
    if (!w->finished) {
        rc = write_partial(w);
        int rc2 = drain(w);
        if (!rc)
            rc = rc2;
        stop_thread(w);
        if (!w->err) {
            rc2 = write_trailer(w);
            if (!rc)
                rc = rc2;
        }
    }
    if (!rc && w->err) /* an earlier failure (finish, sync) is reported again */
        rc = sticky_err(w);
    if (rc) {
        /* Keep the detail past the frees below. */
        char detail[512];
        snprintf(detail, sizeof detail, "%s", runlog_error_detail());
        writer_free(w);
        return rl_fail(rc, "%s", detail);
    }
    writer_free(w);
    return 0;
}

void runlog_writer_abandon(runlog_writer *w)
{
    /* Only the descriptor: see runlog.h for why nothing else is safe here. */
    if (w && w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
}

const char *runlog_writer_run_id(const runlog_writer *w) { return w ? w->run_id : NULL; }
int runlog_writer_resumed(const runlog_writer *w) { return w ? w->resumed : 0; }
uint64_t runlog_writer_next_step(const runlog_writer *w) { return w ? w->next_step : 0; }

/* ---- Open: create or resume --------------------------------------------------- */

static int restore_partial(runlog_writer *w, const runlog_value *body)
{
    const runlog_value *set = runlog_value_get(body, "set");
    if (!set || set->type != RUNLOG_MAP)
        return 0; /* nothing pending that can be read (spec/FORMAT.md §5.2) */
    for (size_t i = 0; i < runlog_value_count(set); i++) {
        const runlog_value *v = &set->u.items[i];
        const char *key = set->keys[i].p;
        int rc;
        switch (v->type) {
        case RUNLOG_FLOAT: rc = runlog_writer_add_double(w, key, v->u.f); break;
        case RUNLOG_INT: rc = runlog_writer_add_int(w, key, v->u.i); break;
        case RUNLOG_BOOL: rc = runlog_writer_add_bool(w, key, v->u.b); break;
        case RUNLOG_NULL: rc = runlog_writer_add_null(w, key); break;
        case RUNLOG_STRING: rc = add_bytes_cell(w, key, RL_COL_STRING, v->u.s, v->n); break;
        default: {
            rl_buf tmp = { 0 };
            rc = rl_cbor_value(&tmp, v);
            if (!rc)
                rc = add_bytes_cell(w, key, RL_COL_CBOR, tmp.p, tmp.len);
            rl_buf_free(&tmp);
        }
        }
        if (rc)
            return rc;
    }
    return 0;
}

typedef struct resume_state {
    int have_start;
    uint64_t damaged;
    rl_arena arena;        /* the last partial record */
    runlog_value *partial;
    rl_frame ws;
} resume_state;

/* Reads one intact data frame while resuming: run id, steps, index entry. */
static int resume_data_frame(runlog_writer *w, resume_state *st, const rl_scan_item *it)
{
#define f (st->ws)
    const char *why = NULL;
    int rc = rl_frame_load(&f, it, &why);
    uint64_t rows = 0, first = 0, last = 0;
    uint32_t *globals = NULL, nglobals = 0;
    rl_record_view rec;
    if (rc)
        goto bad;
    globals = malloc((f.stream.nkeys ? f.stream.nkeys : 1) * sizeof *globals);
    uint8_t *seen = calloc(f.stream.nkeys ? f.stream.nkeys : 1, 1);
    if (!globals || !seen) {
        free(seen);
        rc = RUNLOG_ENOMEM;
        goto done;
    }
    while ((rc = rl_stream_next(&f.stream, &rec, &why)) == 0) {
        if (rec.type == RL_REC_SYSTEM) {
            rl_history h;
            if ((rc = rl_frame_history(&f, &rec, &h, &why)))
                break;
            w->system_seq = h.steps[h.nrows - 1] + 1;
        } else if (rec.type == RL_REC_HISTORY) {
            rl_history h;
            if ((rc = rl_frame_history(&f, &rec, &h, &why)))
                break;
            if (rows == 0)
                first = h.steps[0];
            last = h.steps[h.nrows - 1];
            rows += h.nrows;
            w->next_step = last + 1;
            w->has_rows = 1;
            if (st->partial) {
                rl_arena_reset(&st->arena);
                st->partial = NULL;
            }
            for (uint32_t c = 0; c < h.ncols; c++) {
                uint32_t k = h.cols[c].key;
                if (seen[k])
                    continue;
                seen[k] = 1;
                if ((rc = rl_keymap_intern(&w->keys, f.stream.keys[k].p, f.stream.keys[k].n,
                                           &globals[nglobals++])))
                    break;
            }
        } else if (rec.type == RL_REC_BLOB_CHUNK || rec.type == RL_REC_ARTIFACT) {
            /* Blobs already stored are not stored again; artifact versions go on. */
            rl_cur c = rl_cur_make(rec.body, rec.len);
            runlog_value *body;
            if ((rc = rl_cbor_decode(&c, &f.arena, &body, &why)))
                break;
            const runlog_value *d = runlog_value_get(body, "digest");
            if (!d || d->type != RUNLOG_BYTES || d->n != 16)
                continue;
            if (rec.type == RL_REC_BLOB_CHUNK) {
                int64_t off = rl_map_int(body, "offset", -1), size = rl_map_int(body, "size", -1);
                int64_t block = rl_map_int(body, "block", -1);
                if (off >= 0 && block >= 1 && (uint64_t)block < f.payload.nblocks &&
                    (uint64_t)off + f.payload.blocks[block].raw_len == (uint64_t)size &&
                    rl_digest_set_add(&w->blobs, (const uint8_t *)d->u.s)) {
                    rc = RUNLOG_ENOMEM;
                    break;
                }
            } else {
                const char *name = rl_map_text(body, "name");
                int64_t version = rl_map_int(body, "version", -1);
                if (name && version >= 0 &&
                    (rc = rl_writer_artifact_note(w, name, (const uint8_t *)d->u.s, (uint32_t)version)))
                    break;
            }
        } else if (rec.type == RL_REC_RUN_START || rec.type == RL_REC_PARTIAL) {
            rl_cur c = rl_cur_make(rec.body, rec.len);
            runlog_value *body;
            rl_arena *a = rec.type == RL_REC_PARTIAL ? &st->arena : &f.arena;
            if (rec.type == RL_REC_PARTIAL)
                rl_arena_reset(&st->arena);
            if ((rc = rl_cbor_decode(&c, a, &body, &why)))
                break;
            if (rec.type == RL_REC_PARTIAL) {
                st->partial = body;
            } else if (!st->have_start) {
                const char *id = rl_map_text(body, "id");
                st->have_start = 1;
                if (id && !w->run_id && !(w->run_id = strdup(id))) {
                    rc = RUNLOG_ENOMEM;
                    break;
                }
            }
        }
        if (rc)
            break;
    }
    free(seen);
    if (rc == RUNLOG_ITEROVER)
        rc = 0;
    if (rc == RUNLOG_ENOMEM)
        goto done;
    if (rc)
        goto bad;
    rc = add_pending_entry(w, it->offset, (uint32_t)it->length, rows, first, last, globals, nglobals);
    goto done;
bad:
    /* An intact checksum around undecodable contents: skip it as readers do. */
    st->damaged++;
    rc = 0;
done:
    free(globals);
    return rc;
#undef f
}

typedef struct resume_pass {
    runlog_writer *w;
    resume_state *st;
    uint64_t *cut_at;
} resume_pass;

/* An intact frame: what resuming after it needs (sequence, keys, index chain). */
static int resume_frame(void *ctx, const rl_scan_item *it)
{
    resume_pass *p = ctx;
    runlog_writer *w = p->w;
    w->seq = it->h.seq + 1;
    if (it->h.kind == RL_FRAME_DATA)
        return resume_data_frame(w, p->st, it);
    if (it->h.kind == RL_FRAME_INDEX) {
        w->prev_index = it->offset;
        clear_pending(w);
    } else if (it->h.kind == RL_FRAME_TRAILER) {
        w->trailer_end = it->offset + it->length;
    }
    return 0;
}

static int resume_damage(void *ctx, const rl_scan_item *it)
{
    (void)it;
    ((resume_pass *)ctx)->st->damaged++;
    return 0;
}

/* Where a torn tail starts: the caller cuts it there. */
static int resume_end(void *ctx, const rl_scan_item *it)
{
    if (it->kind == RL_SCAN_TORN)
        *((resume_pass *)ctx)->cut_at = it->offset;
    return 0;
}

static int resume_scan(runlog_writer *w, resume_state *st, uint64_t *cut_at, uint64_t size)
{
    static const rl_walk_ops ops = { .frame = resume_frame, .damage = resume_damage, .end = resume_end };
    resume_pass p = { .w = w, .st = st, .cut_at = cut_at };
    rl_scanner s;
    rl_scanner_init(&s, w->fd, w->path, &w->hdr, RL_FILE_HEADER_SIZE);
    *cut_at = UINT64_MAX;
    int rc = rl_scan_walk(&s, &ops, &p);
    w->end = *cut_at == UINT64_MAX ? size : *cut_at;
    w->thread_nkeys = w->keys.count;
    rl_scanner_free(&s);
    return rc;
}

static int put_identity(runlog_writer *w, const runlog_writer_options *o)
{
    rl_buf *b = &w->scratch;
    int rc;
    if ((rc = rl_writer_body_start(w, b, 8)) || (rc = put_text_entry(b, "id", w->run_id)) ||
        (rc = put_text_entry(b, "project", o->project)) || (rc = put_text_entry(b, "name", o->name)) ||
        (rc = put_text_entry(b, "group", o->group)) || (rc = put_text_entry(b, "job_type", o->job_type)) ||
        (rc = put_text_entry(b, "notes", o->notes)) || (rc = rl_cbor_text(b, "tags", 4)) ||
        (rc = rl_cbor_array(b, o->n_tags)))
        return rc;
    for (size_t i = 0; i < o->n_tags && !rc; i++)
        rc = rl_cbor_text(b, o->tags[i], strlen(o->tags[i]));
    if (!rc)
        rc = put_text_entry(b, "library", "runlog " RUNLOG_VERSION_STRING);
    return rc;
}

static int check_options(const runlog_writer_options *o)
{
    if (o->version != RUNLOG_WRITER_OPTIONS_VERSION)
        return rl_fail(RUNLOG_EINVAL, "writer options version %u (this library knows %u)", o->version,
                       RUNLOG_WRITER_OPTIONS_VERSION);
    const char *names[] = { "run_id", "project", "name", "group", "job_type", "notes" };
    const char *vals[] = { o->run_id, o->project, o->name, o->group, o->job_type, o->notes };
    for (size_t i = 0; i < 6; i++) {
        int rc = rl_check_text(names[i], vals[i]);
        if (rc)
            return rc;
    }
    if (o->run_id && (o->run_id[0] == 0 || strlen(o->run_id) > 128))
        return rl_fail(RUNLOG_EINVAL, "run_id must be 1 to 128 bytes");
    if (o->n_tags && !o->tags)
        return rl_fail(RUNLOG_EINVAL, "tags is NULL with n_tags > 0");
    for (size_t i = 0; i < o->n_tags; i++) {
        if (!o->tags[i])
            return rl_fail(RUNLOG_EINVAL, "tag %zu is NULL", i);
        int rc = rl_check_text("tag", o->tags[i]);
        if (rc)
            return rc;
    }
    if (o->zstd_level < 0 || o->zstd_level > 22)
        return rl_fail(RUNLOG_EINVAL, "zstd_level %d out of range 0..22", o->zstd_level);
    return 0;
}

static int random_bytes(void *out, size_t n)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t got = read(fd, out, n);
    close(fd);
    return got == (ssize_t)n ? 0 : -1;
}

/* A new file header from the options (uuid, salt, creation time). */
static int new_header(runlog_writer *w, const runlog_writer_options *o, rl_file_header *out)
{
    rl_file_header h = { RL_VERSION_MAJOR, RL_VERSION_MINOR, 0,
                         RL_INCOMPAT_PACKED_COLUMNS | RL_INCOMPAT_SEALED_BLOCKS, { 0 }, o->salt, 0 };
    if (o->file_uuid)
        memcpy(h.uuid, o->file_uuid, 16);
    else
        uuid_generate_random(h.uuid);
    while (!h.salt)
        if (random_bytes(&h.salt, sizeof h.salt))
            return rl_fail(RUNLOG_EIO, "cannot read /dev/urandom for the salt");
    h.created_ns = now_ns(w);
    *out = h;
    return 0;
}

/* Makes path appear with its whole file header or not at all: the header is
 * written to a file of our own and linked into place (link, unlike rename,
 * never replaces a file another writer created meanwhile). A kill at any
 * moment leaves no file, or a file that starts with a valid header.
 * *created: 1 if path is ours, 0 if it existed. */
static int publish_header(runlog_writer *w, const rl_file_header *h, int *created)
{
    /* A fresh name of our own, created exclusively: a link planted at a
     * guessable name (PATH.new-PID) would have had us write through it. */
    char *tmp = NULL;
    int rc = 0, fd = rl_create_temp(&tmp, w->path);
    if (fd < 0)
        return rl_fail(errno == ENOMEM ? RUNLOG_ENOMEM : RUNLOG_EIO, "%s: cannot create a temporary file beside it: %s",
                       w->path, strerror(errno));
    uint8_t buf[RL_FILE_HEADER_SIZE];
    rl_file_header_encode(buf, h);
    if (rl_pwrite_all(fd, buf, sizeof buf, 0)) {
        rc = rl_fail(RUNLOG_EIO, "%s: writing the file header: %s", tmp, strerror(errno));
    } else if (link(tmp, w->path) == 0) {
        *created = 1;
    } else if (errno == EEXIST) {
        *created = 0;
    } else {
        rc = rl_fail(RUNLOG_EIO, "%s: cannot create: %s", w->path, strerror(errno));
    }
    close(fd);
    unlink(tmp);
    free(tmp);
    return rc;
}

static int create_file(runlog_writer *w, const runlog_writer_options *o, const rl_file_header *h)
{
    uint8_t buf[RL_FILE_HEADER_SIZE];
    rl_file_header_encode(buf, h);
    if (rl_file_size(w->fd) < RL_FILE_HEADER_SIZE && rl_pwrite_all(w->fd, buf, sizeof buf, 0))
        return rl_fail(RUNLOG_EIO, "%s: writing the file header: %s", w->path, strerror(errno));
    w->hdr = *h;
    w->fb.pack_columns = (h->incompat_flags & RL_INCOMPAT_PACKED_COLUMNS) != 0;
    w->fb.seal_blocks = (h->incompat_flags & RL_INCOMPAT_SEALED_BLOCKS) != 0;
    w->end = RL_FILE_HEADER_SIZE;
    if (!w->run_id) {
        uuid_t u;
        char text[37];
        uuid_generate_random(u);
        uuid_unparse_lower(u, text);
        if (!(w->run_id = strdup(text)))
            return rl_fail(RUNLOG_ENOMEM, "out of memory");
    }
    int rc = put_identity(w, o);
    if (rc)
        return rl_fail(rc, "out of memory");
    return rl_writer_record(w, RL_REC_RUN_START, &w->scratch);
}

/* check_step: 1 when the first commit's step (NULL: automatic) is to be
 * checked once the file's steps are known, before anything is cut or
 * recorded (runlog_writer_open_for_step()). */
static int resume_file(runlog_writer *w, const runlog_writer_options *o, uint64_t size, int repair,
                       uint64_t *cut, int check_step, const uint64_t *step)
{
    int rc = rl_read_file_header(w->fd, w->path, &w->hdr, &size);
    if (rc)
        return rc;
    /* Packed columns and sealed payloads only where the header announces
     * them (§2.2): a file created by a 1.0 or 1.1 writer stays readable by
     * the readers of its version. */
    w->fb.pack_columns = (w->hdr.incompat_flags & RL_INCOMPAT_PACKED_COLUMNS) != 0;
    w->fb.seal_blocks = (w->hdr.incompat_flags & RL_INCOMPAT_SEALED_BLOCKS) != 0;
    resume_state st = { 0 };
    uint64_t cut_at;
    char *sidecar = NULL;
    const char *given_id = o->run_id;
    if ((rc = resume_scan(w, &st, &cut_at, size)))
        goto done;
    if (given_id && w->run_id && strcmp(given_id, w->run_id) != 0) {
        rc = rl_fail(RUNLOG_EINVAL, "%s: holds run %s, not %s", w->path, w->run_id, given_id);
        goto done;
    }
    if (check_step && (rc = step_refused(w, step)))
        goto done;
    if (cut_at != UINT64_MAX && (rc = rl_cut_tail(w->fd, w->path, cut_at, size, &sidecar)))
        goto done;
    *cut = cut_at == UINT64_MAX ? 0 : size - cut_at;
    if (repair)
        goto done;
    if (st.partial && (rc = restore_partial(w, st.partial)))
        goto done;
    if (!st.have_start) {
        if (!w->run_id && given_id && !(w->run_id = strdup(given_id))) {
            rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
            goto done;
        }
        if (!w->run_id) {
            uuid_t u;
            char text[37];
            uuid_generate_random(u);
            uuid_unparse_lower(u, text);
            w->run_id = strdup(text);
        }
        if (!w->run_id || (rc = put_identity(w, o)) || (rc = rl_writer_record(w, RL_REC_RUN_START, &w->scratch)))
            goto done;
    }
    rl_buf *b = &w->scratch;
    if ((rc = rl_writer_body_start(w, b, 4)) || (rc = rl_cbor_text(b, "offset", 6)) ||
        (rc = rl_cbor_uint(b, w->end)) || (rc = rl_cbor_text(b, "cut_bytes", 9)) ||
        (rc = rl_cbor_uint(b, *cut)) || (rc = put_text_entry(b, "sidecar", sidecar)) ||
        (rc = rl_cbor_text(b, "damaged_ranges", 14)) || (rc = rl_cbor_uint(b, st.damaged)))
        goto done;
    rc = rl_writer_record(w, RL_REC_RESUME, &w->scratch);
    w->resumed = 1;
done:
    free(sidecar);
    rl_arena_reset(&st.arena);
    rl_frame_free(&st.ws);
    if (rc == RUNLOG_ENOMEM)
        rl_fail(rc, "out of memory");
    return rc;
}

/* check_step, step: as resume_file(). */
static int writer_open(runlog_writer **out, const char *path, const runlog_writer_options *opts,
                       int repair, uint64_t *cut, int check_step, const uint64_t *step)
{
    runlog_writer_options defaults = RUNLOG_WRITER_OPTIONS_INIT;
    const runlog_writer_options *o = opts ? opts : &defaults;
    if (!out || !path)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    int rc = check_options(o);
    if (rc)
        return rc;
    runlog_writer *w = calloc(1, sizeof *w);
    if (!w)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    w->fd = -1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv_work, NULL);
    pthread_cond_init(&w->cv_idle, NULL);
    {
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_destroy(&w->cv_work);
        pthread_cond_init(&w->cv_work, &attr);
        pthread_condattr_destroy(&attr);
    }
    pthread_cond_init(&w->cv_space, NULL);
    w->interval_ms = o->flush_interval_ms ? o->flush_interval_ms : DEFAULT_INTERVAL_MS;
    w->flush_bytes = o->flush_bytes ? o->flush_bytes : DEFAULT_FLUSH_BYTES;
    w->adaptive_batches = o->flush_bytes == 0;
    if (w->flush_bytes > RUNLOG_MAX_BLOCK_RAW / 2)
        w->flush_bytes = RUNLOG_MAX_BLOCK_RAW / 2;
    w->max_queued = o->max_queued_frames ? o->max_queued_frames : DEFAULT_MAX_QUEUED;
    w->synchronous = o->synchronous || repair;
    w->clock = o->clock;
    w->clock_ctx = o->clock_ctx;
    w->prev_index = UINT64_MAX;
    w->path = strdup(path);
    w->queue = calloc(w->max_queued, sizeof *w->queue);
    w->cur = batch_get(w);
    if (!w->path || !w->queue || !w->cur ||
        rl_fb_init(&w->fb, o->zstd_level ? o->zstd_level : DEFAULT_ZSTD_LEVEL)) {
        rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
        goto fail;
    }
    if (o->run_id && !(w->run_id = strdup(o->run_id)) ) {
        rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
        goto fail;
    }
    /* A step over the limit is refused before a new file is created; the
     * rest of the rule needs the file's last step (resume_file()). */
    if (check_step && (rc = step_refused(w, step)))
        goto fail;
    rl_file_header fresh;
    int created = 0;
    if (!repair && ((rc = new_header(w, o, &fresh)) ||
                    (access(path, F_OK) != 0 && errno == ENOENT && (rc = publish_header(w, &fresh, &created)))))
        goto fail;
    /* Not a regular file (/dev/null, a FIFO): refused, instead of "starting
     * it afresh" into a device and reporting success. */
    if ((rc = rl_open_file(&w->fd, path, repair ? O_RDWR : O_RDWR | O_CREAT, 0644)))
        goto fail;
    if ((rc = rl_lock_file(w->fd, path)))
        goto fail;
    uint64_t size = rl_file_size(w->fd);
    if (size > 0 && size < RL_FILE_HEADER_SIZE && !repair) {
        /* A writer killed while writing the file header: nothing was
         * recorded yet. Keep the bytes in a sidecar and start afresh. */
        rl_file_header h;
        uint64_t n;
        if ((rc = rl_read_file_header(w->fd, path, &h, &n)) != RUNLOG_ETRUNCATED)
            goto fail;
        if ((rc = rl_cut_tail(w->fd, path, 0, size, NULL)))
            goto fail;
        size = 0;
    }
    /* The file we published, untouched since (same salt, nothing after the
     * header), starts the run; so does an empty file (made by hand, or by a
     * writer from before atomic creation). Anything else is resumed. */
    int start = 0;
    if (!repair && size == 0) {
        start = 1;
    } else if (!repair && created && size == RL_FILE_HEADER_SIZE) {
        rl_file_header h;
        uint64_t n;
        if ((rc = rl_read_file_header(w->fd, path, &h, &n)))
            goto fail;
        start = h.salt == fresh.salt && memcmp(h.uuid, fresh.uuid, 16) == 0;
    }
    if (start) {
        rc = create_file(w, o, &fresh);
    } else {
        /* On resume the file's own run id wins; opts->run_id is checked. */
        free(w->run_id);
        w->run_id = NULL;
        rc = resume_file(w, o, size, repair, cut, check_step, step);
    }
    if (rc)
        goto fail;
    if (!w->synchronous) {
        if (pthread_create(&w->thread, NULL, writer_thread, w) != 0) {
            rc = rl_fail(RUNLOG_ENOMEM, "cannot start the writer thread");
            goto fail;
        }
        w->thread_started = 1;
    }
    *out = w;
    return 0;
fail: {
        char detail[512];
        snprintf(detail, sizeof detail, "%s", runlog_error_detail());
        writer_free(w);
        return rl_fail(rc, "%s", detail);
    }
}

int runlog_writer_open(runlog_writer **out, const char *path, const runlog_writer_options *opts)
{
    uint64_t cut = 0;
    return writer_open(out, path, opts, 0, &cut, 0, NULL);
}

int runlog_writer_open_for_step(runlog_writer **out, const char *path, const runlog_writer_options *opts,
                                const uint64_t *step)
{
    uint64_t cut = 0;
    return writer_open(out, path, opts, 0, &cut, 1, step);
}

int runlog_repair(uint64_t *out_cut, const char *path)
{
    runlog_writer *w;
    uint64_t cut = 0;
    int rc = writer_open(&w, path, NULL, 1, &cut, 0, NULL);
    if (rc)
        return rc;
    w->finished = 1; /* nothing new is recorded; only the index and trailer */
    rc = write_trailer(w);
    if (!rc && rl_io.fsync(w->fd) != 0)
        rc = rl_fail(RUNLOG_EIO, "%s: fsync: %s", path, strerror(errno));
    writer_free(w);
    if (!rc && out_cut)
        *out_cut = cut;
    return rc;
}
