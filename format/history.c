/*
 * History records: a batch of committed rows stored as columns
 * (spec/FORMAT.md §6).
 *
 * Body, in block 0:
 *   varint nrows (>= 1)
 *   varint step[0], then varint step[i] - step[i-1]          (steps never decrease)
 *   varint zigzag(time[0]), then varint zigzag(time[i] - time[i-1])   (ns, wrapping)
 *   varint ncols, then per column:
 *     varint key index, u8 column type,
 *     u8 presence (bit 0: a bitmap follows, bit 1: packed),
 *     [bitmap: ceil(nrows/8) bytes, row r is bit r%8 of byte r/8],
 *     [varint block index >= 1, absent for the null type],
 *     [varint len: packed only; the column's slice of its block (§6.1)]
 * A packed column's bytes follow those of the earlier packed columns of the
 * record that name the same block; an unpacked column owns its whole block.
 * Column bytes, for the `count` rows where the column is present:
 *   float : count * 8 bytes, byte-shuffled (byte j of value i at j*count + i)
 *   int   : varint zigzag(v[i] - v[i-1]), v[-1] = 0, wrapping
 *   bool  : ceil(count/8) bytes, bit i%8 of byte i/8
 *   string: varint length + UTF-8 bytes, per value
 *   cbor  : one CBOR data item (§5.1) per value
 */
#include <stdlib.h>

#include "rlformat.h"

typedef struct enc_col {
    uint32_t key;
    uint8_t type;
    uint32_t count;
    uint32_t block;     /* index in fb (1-based), 0 for null */
    uint32_t len;       /* bytes in its block */
    int packed;
    size_t bitmap;      /* nrows bits at fb->enc_bitmaps.p + bitmap */
    int64_t prev;
} enc_col;

static void shuffle8(uint8_t *dst, const uint8_t *src, size_t count)
{
    for (size_t i = 0; i < count; i++)
        for (size_t j = 0; j < 8; j++)
            dst[j * count + i] = src[i * 8 + j];
}

/* Reads the 8 byte planes side by side so that every write is sequential. */
static void unshuffle8(uint8_t *dst, const uint8_t *src, size_t count)
{
    const uint8_t *p0 = src, *p1 = src + count, *p2 = src + 2 * count, *p3 = src + 3 * count,
                  *p4 = src + 4 * count, *p5 = src + 5 * count, *p6 = src + 6 * count,
                  *p7 = src + 7 * count;
    /* One 8-byte store a value (the compiler vectorises the gathers), the
     * value assembled from its bytes, least significant first (§6). */
    for (size_t i = 0; i < count; i++) {
        uint64_t v = (uint64_t)p0[i] | (uint64_t)p1[i] << 8 | (uint64_t)p2[i] << 16 |
                     (uint64_t)p3[i] << 24 | (uint64_t)p4[i] << 32 | (uint64_t)p5[i] << 40 |
                     (uint64_t)p6[i] << 48 | (uint64_t)p7[i] << 56;
        memcpy(dst + i * 8, &v, 8);
    }
}

static int append_cell(rl_frame_builder *fb, enc_col *col, const rl_cell *cell)
{
    if (col->type == RL_COL_NULL)
        return 0;
    rl_buf *b = &fb->blocks[col->block - 1];
    int rc = rl_buf_ensure(b, 16);
    if (rc)
        return rc;
    switch (col->type) {
    case RL_COL_FLOAT:
        memcpy(b->p + b->len, &cell->v.f, 8);
        b->len += 8;
        return 0;
    case RL_COL_INT:
        rl_buf_varint_unchecked(b, rl_zigzag((int64_t)((uint64_t)cell->v.i - (uint64_t)col->prev)));
        col->prev = cell->v.i;
        return 0;
    case RL_COL_BOOL:
        if ((col->count & 7) == 0)
            b->p[b->len++] = 0;
        if (cell->v.b)
            b->p[b->len - 1] |= (uint8_t)(1u << (col->count & 7));
        return 0;
    case RL_COL_STRING:
        rl_buf_varint_unchecked(b, cell->v.s.n);
        return rl_buf_put(b, cell->v.s.p, cell->v.s.n);
    case RL_COL_CBOR:
        return rl_buf_put(b, cell->v.s.p, cell->v.s.n);
    default:
        return RUNLOG_EINVAL;
    }
}

/*
 * Packs the record's small columns into shared blocks (§6.1). The record's
 * columns own fb blocks first..fb->nblocks in descriptor order, one each
 * (null columns none). They are renumbered: a large column keeps its buffer
 * as a block of its own; a run of small ones is copied into one of fb's pack
 * buffers until it holds RL_PACK_TARGET bytes (large columns in between do
 * not interrupt it), and its block's slot points
 * there (fb->pack_of). The pack buffers are kept for packs only, so the
 * column buffers stay the size of one column and memory stays flat however
 * long the run. The column buffers left empty go after the record's blocks,
 * as spare capacity: every buffer stays owned by exactly one slot.
 */
static rl_buf *pack_open(rl_frame_builder *fb, uint32_t slot)
{
    if (fb->npacks == fb->packs_cap) {
        uint32_t cap = fb->packs_cap ? fb->packs_cap * 2 : 8;
        rl_buf *p = realloc(fb->packs, cap * sizeof *p);
        if (!p)
            return NULL;
        memset(p + fb->packs_cap, 0, (cap - fb->packs_cap) * sizeof *p);
        fb->packs = p;
        fb->packs_cap = cap;
    }
    rl_buf *pack = &fb->packs[fb->npacks];
    pack->len = 0;
    if (rl_buf_reserve(pack, RL_PACK_TARGET + RL_PACK_BELOW))
        return NULL;
    fb->pack_of[slot] = ++fb->npacks;
    return pack;
}

static void pack_small_columns(rl_frame_builder *fb, enc_col *cols, size_t ncols)
{
    uint32_t first = 0, nsmall = 0;
    for (size_t i = 0; i < ncols; i++) {
        if (cols[i].type == RL_COL_NULL)
            continue;
        if (!first)
            first = cols[i].block;
        nsmall += cols[i].len < RL_PACK_BELOW;
    }
    if (nsmall < 2)
        return;
    uint32_t nown = fb->nblocks - first + 1;  /* the record's blocks, in order */
    /* own: the record's buffers; emptied: those whose bytes went to a pack. */
    rl_buf *own = malloc(2 * (size_t)nown * sizeof *own);
    if (!own)
        return; /* unpacked is valid too */
    rl_buf *emptied = own + nown;
    uint32_t nemptied = 0;
    memcpy(own, &fb->blocks[first - 1], nown * sizeof *own);
    uint32_t out = first - 1;  /* next free slot of fb->blocks */
    enc_col *open_col = NULL;  /* first column of the pack being filled */
    rl_buf *pack = NULL;       /* its bytes, once a second column joined */
    for (size_t i = 0; i < ncols; i++) {
        enc_col *c = &cols[i];
        if (c->type == RL_COL_NULL)
            continue;
        rl_buf *mine = &own[c->block - first];
        if (c->len < RL_PACK_BELOW && open_col) {
            rl_buf *slot = &fb->blocks[open_col->block - 1];
            if (!pack && (pack = pack_open(fb, open_col->block - 1)) != NULL) {
                /* A second column joins: the first one's bytes move over. */
                memcpy(pack->p, slot->p, slot->len);
                pack->len = slot->len;
                slot->len = 0;
                open_col->packed = 1;
            }
            if (pack) {
                rl_buf_put_unchecked(pack, mine->p, mine->len);
                mine->len = 0;
                emptied[nemptied++] = *mine;
                c->block = open_col->block;
                c->packed = 1;
                if (pack->len >= RL_PACK_TARGET)
                    open_col = NULL, pack = NULL;
                continue;
            }
            /* Out of memory: unpacked from here on, which is valid too. */
        }
        fb->blocks[out] = *mine;
        fb->stored_raw[out] = 0;
        c->block = ++out;
        if (c->len < RL_PACK_BELOW) { /* a new pack starts (a large column leaves it open) */
            open_col = c;
            pack = NULL;
        }
    }
    memcpy(&fb->blocks[out], emptied, nemptied * sizeof *emptied);
    fb->nblocks = out;
    free(own);
}

int rl_history_encode(rl_frame_builder *fb, uint8_t record_type, const rl_row *rows, size_t nrows)
{
    if (nrows == 0 || nrows > RL_MAX_ROWS)
        return RUNLOG_EINVAL;
    size_t bitmap_len = (nrows + 7) / 8;
    size_t map_len = (size_t)fb->nkeys * RL_COL_NTYPES;
    /* The workspaces live in fb between calls; colmap is all -1 between them. */
    if (map_len > fb->colmap_len) {
        int32_t *m = realloc(fb->colmap, map_len * sizeof *m);
        if (!m)
            return RUNLOG_ENOMEM;
        for (size_t i = fb->colmap_len; i < map_len; i++)
            m[i] = -1;
        fb->colmap = m;
        fb->colmap_len = map_len;
    }
    int32_t *colmap = fb->colmap;
    enc_col *cols = (enc_col *)fb->enc_cols.p;
    size_t ncols = 0;
    fb->enc_bitmaps.len = 0;
    int rc = RUNLOG_ENOMEM;

    for (size_t r = 0; r < nrows; r++) {
        if (r > 0 && rows[r].step < rows[r - 1].step) {
            rc = RUNLOG_EINVAL;
            goto done;
        }
        for (uint32_t k = 0; k < rows[r].ncells; k++) {
            const rl_cell *cell = &rows[r].cells[k];
            if (cell->key >= fb->nkeys || cell->type >= RL_COL_NTYPES) {
                rc = RUNLOG_EINVAL;
                goto done;
            }
            int32_t *slot = &colmap[(size_t)cell->key * RL_COL_NTYPES + cell->type];
            if (*slot < 0) {
                rl_buf *bm = &fb->enc_bitmaps;
                if (rl_buf_ensure(&fb->enc_cols, sizeof *cols) || rl_buf_ensure(bm, bitmap_len))
                    goto done;
                cols = (enc_col *)fb->enc_cols.p;
                enc_col *c = &cols[ncols];
                memset(c, 0, sizeof *c);
                c->key = cell->key;
                c->type = cell->type;
                c->bitmap = bm->len;
                memset(bm->p + bm->len, 0, bitmap_len);
                bm->len += bitmap_len;
                fb->enc_cols.len += sizeof *cols;
                *slot = (int32_t)ncols++;
                if (cell->type != RL_COL_NULL) {
                    rl_buf *b;
                    if ((rc = rl_fb_new_block(fb, &b, &c->block)))
                        goto done;
                    rc = RUNLOG_ENOMEM;
                    /* A float column takes at most 8 bytes a row from here:
                     * no growing cell by cell. */
                    if (cell->type == RL_COL_FLOAT && rl_buf_reserve(b, (nrows - r) * 8))
                        goto done;
                }
            }
            enc_col *c = &cols[*slot];
            uint8_t *bitmap = fb->enc_bitmaps.p + c->bitmap;
            /* A key set twice in one row keeps its last value: rows given to
             * the encoder hold each key once (the writer merges). */
            if ((bitmap[r >> 3] >> (r & 7)) & 1) {
                rc = RUNLOG_EINVAL;
                goto done;
            }
            if ((rc = append_cell(fb, c, cell)))
                goto done;
            rc = RUNLOG_ENOMEM;
            bitmap[r >> 3] |= (uint8_t)(1u << (r & 7));
            c->count++;
        }
    }

    for (size_t i = 0; i < ncols; i++) {
        enc_col *c = &cols[i];
        if (c->type == RL_COL_FLOAT) {
            rl_buf *b = &fb->blocks[c->block - 1];
            rl_buf *tmp = &fb->scratch;
            tmp->len = 0;
            if (rl_buf_reserve(tmp, b->len + 1))
                goto done;
            shuffle8(tmp->p, b->p, c->count);
            memcpy(b->p, tmp->p, b->len);
        }
        if (c->type != RL_COL_NULL)
            c->len = (uint32_t)fb->blocks[c->block - 1].len;
    }
    if (fb->pack_columns)
        pack_small_columns(fb, cols, ncols);

    /* Body: steps, times, column descriptors. */
    rl_buf *body = &fb->scratch;
    body->len = 0;
    if (rl_buf_reserve(body, 10 + nrows * 20 + ncols * (34 + bitmap_len)))
        goto done;
    rl_buf_varint_unchecked(body, nrows);
    for (size_t r = 0; r < nrows; r++)
        rl_buf_varint_unchecked(body, r ? rows[r].step - rows[r - 1].step : rows[0].step);
    for (size_t r = 0; r < nrows; r++)
        rl_buf_varint_unchecked(body, rl_zigzag(r ? (int64_t)((uint64_t)rows[r].time_ns -
                                                              (uint64_t)rows[r - 1].time_ns)
                                                  : rows[0].time_ns));
    rl_buf_varint_unchecked(body, ncols);
    for (size_t i = 0; i < ncols; i++) {
        enc_col *c = &cols[i];
        rl_buf_varint_unchecked(body, c->key);
        body->p[body->len++] = c->type;
        int all = c->count == nrows;
        body->p[body->len++] = (uint8_t)((all ? 0 : RL_PRESENCE_BITMAP) | (c->packed ? RL_PRESENCE_PACKED : 0));
        if (!all) {
            memcpy(body->p + body->len, fb->enc_bitmaps.p + c->bitmap, bitmap_len);
            body->len += bitmap_len;
        }
        if (c->type != RL_COL_NULL)
            rl_buf_varint_unchecked(body, c->block);
        if (c->packed)
            rl_buf_varint_unchecked(body, c->len);
    }
    rc = rl_fb_add_record(fb, record_type, body->p, body->len);
done:
    for (size_t i = 0; i < ncols; i++)
        colmap[(size_t)cols[i].key * RL_COL_NTYPES + cols[i].type] = -1;
    fb->enc_cols.len = 0;
    return rc;
}

static uint32_t popcount_bits(const uint8_t *p, size_t nbits)
{
    uint32_t n = 0;
    for (size_t i = 0; i < nbits; i++)
        n += (p[i >> 3] >> (i & 7)) & 1;
    return n;
}

/* Orders columns by block, then by descriptor position. */
static int cmp_block_then_position(const void *a, const void *b)
{
    const rl_hcol *x = *(rl_hcol *const *)a, *y = *(rl_hcol *const *)b;
    if (x->block != y->block)
        return x->block < y->block ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* §4 and §6.1 for one record: a block named by an unpacked column is named
 * by no other column; the packed columns naming one block take consecutive
 * slices of it in descriptor order, which end exactly at its end. Sets each
 * packed column's offset. Costs O(ncols log ncols), whatever the frame's
 * block count: columns are grouped by block by sorting. */
static int place_columns(rl_hcol *cols, uint32_t ncols, const rl_block *blocks, rl_arena *arena,
                         const char **why)
{
    rl_hcol **by_block = ncols ? rl_arena_alloc_raw(arena, ncols * sizeof *by_block) : NULL;
    uint32_t n = 0;
    if (ncols && !by_block)
        return RUNLOG_ENOMEM;
    int sorted = 1;
    for (uint32_t i = 0; i < ncols; i++)
        if (cols[i].block) {
            sorted &= n == 0 || by_block[n - 1]->block <= cols[i].block;
            by_block[n++] = &cols[i];
        }
    /* Writers name blocks in descriptor order (runlog does): no sort then. */
    if (n > 1 && !sorted)
        qsort(by_block, n, sizeof *by_block, cmp_block_then_position);
    for (uint32_t i = 0; i < n;) {
        uint32_t b = by_block[i]->block, end = i, fill = 0;
        while (end < n && by_block[end]->block == b)
            end++;
        for (uint32_t k = i; k < end; k++) {
            rl_hcol *col = by_block[k];
            if (end - i > 1 && !col->packed) {
                *why = "two history columns use one block";
                return RUNLOG_ECORRUPT;
            }
            if (!col->packed)
                continue;
            if (col->len > blocks[b].raw_len - fill) {
                *why = "packed history column runs past the end of its block";
                return RUNLOG_ECORRUPT;
            }
            col->offset = fill;
            fill += col->len;
        }
        if (by_block[i]->packed && fill != blocks[b].raw_len) {
            *why = "packed history columns do not fill their block";
            return RUNLOG_ECORRUPT;
        }
        i = end;
    }
    return 0;
}

int rl_history_decode(rl_history *out, const uint8_t *body, size_t len, uint32_t nkeys,
                      const rl_block *blocks, uint32_t nblocks, rl_arena *arena,
                      const char **why)
{
    rl_cur c = rl_cur_make(body, len);
    uint64_t nrows, ncols, v;
    int rc;
    if ((rc = rl_cur_count(&c, RL_MAX_ROWS, &nrows, why)))
        return rc;
    if (nrows == 0 || nrows > rl_cur_left(&c) / 2) {
        *why = "history row count impossible for the record size";
        return RUNLOG_ECORRUPT;
    }
    uint64_t *steps = rl_arena_alloc_raw(arena, nrows * sizeof *steps);
    int64_t *times = rl_arena_alloc_raw(arena, nrows * sizeof *times);
    if (!steps || !times)
        return RUNLOG_ENOMEM;
    for (uint64_t r = 0; r < nrows; r++) {
        if ((rc = rl_cur_varint(&c, &v, why)))
            return rc;
        if (r > 0 && v > UINT64_MAX - steps[r - 1]) {
            *why = "history step overflows 64 bits";
            return RUNLOG_ECORRUPT;
        }
        steps[r] = r ? steps[r - 1] + v : v;
    }
    for (uint64_t r = 0; r < nrows; r++) {
        if ((rc = rl_cur_varint(&c, &v, why)))
            return rc;
        times[r] = r ? (int64_t)((uint64_t)times[r - 1] + (uint64_t)rl_unzigzag(v)) : rl_unzigzag(v);
    }
    if ((rc = rl_cur_varint(&c, &ncols, why)))
        return rc;
    if (ncols > rl_cur_left(&c) / 3) {
        *why = "history column count impossible for the record size";
        return RUNLOG_ECORRUPT;
    }
    size_t bitmap_len = (nrows + 7) / 8;
    rl_hcol *cols = ncols ? rl_arena_alloc(arena, ncols * sizeof *cols) : NULL;
    /* For the rule that a key has at most one value per row: the first
     * column seen per key, and a union bitmap for keys with several. */
    int32_t *first = nkeys ? rl_arena_alloc(arena, (size_t)nkeys * sizeof *first) : NULL;
    if ((ncols && !cols) || (nkeys && !first))
        return RUNLOG_ENOMEM;
    for (uint32_t k = 0; k < nkeys; k++)
        first[k] = -1;
    uint8_t **unions = NULL;
    for (uint64_t i = 0; i < ncols; i++) {
        rl_hcol *col = &cols[i];
        uint8_t presence;
        if ((rc = rl_cur_varint(&c, &v, why)))
            return rc;
        if (v >= nkeys) {
            *why = "history column names a key outside the key table";
            return RUNLOG_ECORRUPT;
        }
        col->key = (uint32_t)v;
        if ((rc = rl_cur_u8(&c, &col->type, why)) || (rc = rl_cur_u8(&c, &presence, why)))
            return rc;
        if (col->type >= RL_COL_NTYPES) {
            *why = "unknown history column type";
            return RUNLOG_EUNSUPPORTED;
        }
        if (presence & ~(RL_PRESENCE_BITMAP | RL_PRESENCE_PACKED)) {
            *why = "unknown presence mode of a history column";
            return RUNLOG_ECORRUPT;
        }
        if (!(presence & RL_PRESENCE_BITMAP)) {
            col->bitmap = NULL;
            col->count = (uint32_t)nrows;
        } else {
            if ((rc = rl_cur_bytes(&c, bitmap_len, &col->bitmap, why)))
                return rc;
            if ((nrows & 7) && (col->bitmap[bitmap_len - 1] >> (nrows & 7))) {
                *why = "presence bitmap has bits set past the last row";
                return RUNLOG_ECORRUPT;
            }
            col->count = popcount_bits(col->bitmap, nrows);
        }
        col->block = col->offset = col->len = 0;
        col->packed = (presence & RL_PRESENCE_PACKED) != 0;
        if (col->packed && col->type == RL_COL_NULL) {
            *why = "a null history column is marked packed";
            return RUNLOG_ECORRUPT;
        }
        if (col->type != RL_COL_NULL) {
            if ((rc = rl_cur_varint(&c, &v, why)))
                return rc;
            if (v == 0 || v >= nblocks) {
                *why = "history column names a block outside the frame";
                return RUNLOG_ECORRUPT;
            }
            col->block = (uint32_t)v;
            col->len = blocks[v].raw_len;
            if (col->packed) {
                if ((rc = rl_cur_varint(&c, &v, why)))
                    return rc;
                if (v > blocks[col->block].raw_len) { /* the rest in place_columns */
                    *why = "packed history column runs past the end of its block";
                    return RUNLOG_ECORRUPT;
                }
                col->len = (uint32_t)v; /* placed in its block below */
            }
        }
        /* Overlap check between columns of the same key. */
        if (first[col->key] < 0) {
            first[col->key] = (int32_t)i;
            continue;
        }
        if (!unions) {
            unions = rl_arena_alloc(arena, (size_t)nkeys * sizeof *unions);
            if (!unions)
                return RUNLOG_ENOMEM;
        }
        uint8_t *u = unions[col->key];
        if (!u) {
            const rl_hcol *f = &cols[first[col->key]];
            u = unions[col->key] = rl_arena_alloc(arena, bitmap_len);
            if (!u)
                return RUNLOG_ENOMEM;
            for (uint64_t r = 0; r < nrows; r++)
                if (rl_hcol_present(f, (uint32_t)r))
                    u[r >> 3] |= (uint8_t)(1u << (r & 7));
        }
        for (uint64_t r = 0; r < nrows; r++) {
            if (!rl_hcol_present(col, (uint32_t)r))
                continue;
            if ((u[r >> 3] >> (r & 7)) & 1) {
                *why = "two history columns give one key a value in the same row";
                return RUNLOG_ECORRUPT;
            }
            u[r >> 3] |= (uint8_t)(1u << (r & 7));
        }
    }
    if (rl_cur_left(&c) != 0) {
        *why = "bytes left over after the history columns";
        return RUNLOG_ECORRUPT;
    }
    if ((rc = place_columns(cols, (uint32_t)ncols, blocks, arena, why)))
        return rc;
    out->nrows = (uint32_t)nrows;
    out->steps = steps;
    out->times = times;
    out->ncols = (uint32_t)ncols;
    out->cols = cols;
    return 0;
}

static int column_size_error(const char **why)
{
    *why = "history column size does not match its values";
    return RUNLOG_ECORRUPT;
}

int rl_history_column_size(const rl_hcol *col, const char **why)
{
    size_t n = col->count;
    switch (col->type) {
    case RL_COL_NULL: return col->len == 0 ? 0 : column_size_error(why);
    case RL_COL_FLOAT: return col->len == n * 8 ? 0 : column_size_error(why);
    case RL_COL_BOOL: return col->len == (n + 7) / 8 ? 0 : column_size_error(why);
    default: return 0;
    }
}

int rl_history_column(const rl_hcol *col, const uint8_t *raw, rl_arena *arena,
                      runlog_value **values, const char **why)
{
    size_t raw_len = col->len;
    uint32_t n = col->count;
    int rc = rl_history_column_size(col, why);
    if (rc)
        return rc;
    runlog_value *v = rl_arena_alloc(arena, (size_t)(n ? n : 1) * sizeof *v);
    if (!v)
        return RUNLOG_ENOMEM;
    rl_cur c = rl_cur_make(raw, raw_len);
    switch (col->type) {
    case RL_COL_NULL:
        for (uint32_t i = 0; i < n; i++)
            v[i].type = RUNLOG_NULL;
        break;
    case RL_COL_FLOAT:
        for (uint32_t i = 0; i < n; i++) {
            uint8_t b[8];
            for (int j = 0; j < 8; j++)
                b[j] = raw[(size_t)j * n + i];
            v[i].type = RUNLOG_FLOAT;
            memcpy(&v[i].u.f, b, 8);
        }
        break;
    case RL_COL_INT: {
        int64_t prev = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t z;
            if ((rc = rl_cur_varint(&c, &z, why)))
                return rc;
            prev = (int64_t)((uint64_t)prev + (uint64_t)rl_unzigzag(z));
            v[i].type = RUNLOG_INT;
            v[i].u.i = prev;
        }
        if (rl_cur_left(&c))
            return column_size_error(why);
        break;
    }
    case RL_COL_BOOL:
        if ((n & 7) && (raw[raw_len - 1] >> (n & 7)))
            return column_size_error(why);
        for (uint32_t i = 0; i < n; i++) {
            v[i].type = RUNLOG_BOOL;
            v[i].u.b = (raw[i >> 3] >> (i & 7)) & 1;
        }
        break;
    case RL_COL_STRING:
        for (uint32_t i = 0; i < n; i++) {
            uint64_t len;
            const uint8_t *p;
            if ((rc = rl_cur_count(&c, RUNLOG_MAX_STRING, &len, why)) ||
                (rc = rl_cur_bytes(&c, len, &p, why)))
                return rc;
            if (!rl_utf8_valid(p, len)) {
                *why = "history string is not valid UTF-8";
                return RUNLOG_ECORRUPT;
            }
            char *s = rl_arena_alloc(arena, len + 1);
            if (!s)
                return RUNLOG_ENOMEM;
            memcpy(s, p, len);
            v[i].type = RUNLOG_STRING;
            v[i].n = (uint32_t)len;
            v[i].u.s = s;
        }
        if (rl_cur_left(&c))
            return column_size_error(why);
        break;
    case RL_COL_CBOR:
        for (uint32_t i = 0; i < n; i++) {
            runlog_value *item;
            if ((rc = rl_cbor_decode(&c, arena, &item, why)))
                return rc;
            v[i] = *item;
        }
        if (rl_cur_left(&c))
            return column_size_error(why);
        break;
    default:
        *why = "unknown history column type";
        return RUNLOG_EUNSUPPORTED;
    }
    *values = v;
    return 0;
}

int rl_history_column_f64(const rl_hcol *col, const uint8_t *raw, double *out, const char **why)
{
    size_t raw_len = col->len;
    uint32_t n = col->count;
    if (col->type == RL_COL_FLOAT) {
        int rc = rl_history_column_size(col, why);
        if (rc)
            return rc;
        unshuffle8((uint8_t *)out, raw, n);
        return 0;
    }
    if (col->type == RL_COL_INT) {
        rl_cur c = rl_cur_make(raw, raw_len);
        int64_t prev = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t z;
            int rc = rl_cur_varint(&c, &z, why);
            if (rc)
                return rc;
            prev = (int64_t)((uint64_t)prev + (uint64_t)rl_unzigzag(z));
            out[i] = (double)prev;
        }
        return rl_cur_left(&c) ? column_size_error(why) : 0;
    }
    *why = "not a numeric column";
    return RUNLOG_EINVAL;
}
