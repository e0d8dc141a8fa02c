/*
 * Fuzz target: one frame payload (spec/FORMAT.md §4, §5) as the reader
 * decodes it — block directory (rl_payload_parse, unsealed and sealed), every block
 * (rl_block_decode), the record stream of block 0 (rl_stream_open/next), and
 * each record's body by type: history columns, index entries, CBOR maps.
 * The input is a frame payload, without the 48-byte frame header.
 */
#include <string.h>

#include "fuzz_common.h"
#include "rlformat.h"

static void decode_history(const rl_payload *p, uint8_t **raw, const rl_stream *s,
                           const rl_record_view *rv, rl_arena *arena)
{
    rl_history h;
    const char *why = NULL;
    if (rl_history_decode(&h, rv->body, rv->len, s->nkeys, p->blocks, p->nblocks, arena, &why) != 0) {
        FUZZ_ASSERT(why != NULL);
        return;
    }
    FUZZ_ASSERT(h.nrows >= 1);
    for (uint32_t r = 1; r < h.nrows; r++)
        FUZZ_ASSERT(h.steps[r] >= h.steps[r - 1]);
    for (uint32_t i = 0; i < h.ncols; i++) {
        const rl_hcol *col = &h.cols[i];
        FUZZ_ASSERT(col->key < s->nkeys);
        FUZZ_ASSERT(col->count <= h.nrows);
        const uint8_t *bytes = NULL;
        if (col->type != RL_COL_NULL) {
            FUZZ_ASSERT(col->block >= 1 && col->block < p->nblocks);
            /* A packed slice lies inside its block (§6.1). */
            FUZZ_ASSERT(col->len <= p->blocks[col->block].raw_len &&
                        col->offset <= p->blocks[col->block].raw_len - col->len);
            if (!raw[col->block])
                continue; /* the block did not decode */
            bytes = raw[col->block] + col->offset;
        }
        runlog_value *values = NULL;
        if (rl_history_column(col, bytes, arena, &values, &why) == 0)
            for (uint32_t k = 0; k < col->count; k++)
                fuzz_touch_value(&values[k]);
        if (col->type == RL_COL_FLOAT || col->type == RL_COL_INT) {
            double *d = malloc((col->count ? col->count : 1) * sizeof *d);
            FUZZ_ASSERT(d != NULL);
            (void)rl_history_column_f64(col, bytes, d, &why);
            free(d);
        }
    }
}

/* The payload decoded as unsealed (§4) or sealed (§4.1); a sealed one is
 * also checked (rl_sealed_check) as a scan checks it, then decoded anyway:
 * the decoder must hold up whatever the checksums say. */
static void decode_payload(const uint8_t *data, size_t size, int sealed)
{
    rl_payload p;
    const char *why = NULL;
    if (sealed) {
        (void)rl_sealed_check(data, size, 0, &why);
        size_t dir;
        if (rl_sealed_dir_len(data, size, &dir, &why) == 0)
            FUZZ_ASSERT(dir <= size);
    }
    if (rl_payload_parse(&p, data, size, size, sealed, &why) != 0) {
        FUZZ_ASSERT(why != NULL);
        return;
    }
    FUZZ_ASSERT(p.nblocks >= 1);
    void *dctx = rl_dctx_new();
    uint8_t **raw = calloc(p.nblocks, sizeof *raw);
    FUZZ_ASSERT(dctx && raw);
    for (uint32_t i = 0; i < p.nblocks; i++) {
        const rl_block *b = &p.blocks[i];
        FUZZ_ASSERT(b->stored >= data && b->stored + b->stored_len <= data + size);
        uint8_t *dst = malloc((size_t)b->raw_len + 1);
        FUZZ_ASSERT(dst != NULL);
        if (rl_block_decode(b, dst, dctx, &why) == 0)
            raw[i] = dst;
        else
            free(dst);
    }
    rl_arena arena = { 0 };
    rl_stream s;
    if (raw[0] && rl_stream_open(&s, raw[0], p.blocks[0].raw_len, &arena, &why) == 0) {
        rl_record_view rv;
        int rc;
        while ((rc = rl_stream_next(&s, &rv, &why)) == 0) {
            FUZZ_ASSERT(rv.body >= raw[0] && rv.body + rv.len <= raw[0] + p.blocks[0].raw_len);
            if (rv.type == RL_REC_HISTORY || rv.type == RL_REC_SYSTEM) {
                decode_history(&p, raw, &s, &rv, &arena);
            } else if (rv.type == RL_REC_INDEX) {
                rl_index idx;
                (void)rl_index_decode(&idx, rv.body, rv.len, s.nkeys, &arena, &why);
            } else {
                rl_cur c = rl_cur_make(rv.body, rv.len);
                runlog_value *v;
                if (rl_cbor_decode(&c, &arena, &v, &why) == 0)
                    fuzz_touch_value(v);
            }
        }
        FUZZ_ASSERT(rc == RUNLOG_ITEROVER || rc < 0);
    }
    rl_arena_reset(&arena);
    for (uint32_t i = 0; i < p.nblocks; i++)
        free(raw[i]);
    free(raw);
    rl_dctx_free(dctx);
    rl_payload_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode_payload(data, size, 0);
    decode_payload(data, size, 1);
    return 0;
}
