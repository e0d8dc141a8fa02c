/*
 * Fuzz target: a history record body and its column blocks (spec/FORMAT.md
 * §6) through rl_history_decode, rl_history_column and
 * rl_history_column_f64, without the frame around them.
 *
 * Input: u8 nkeys, u8 nblocks (the frame's, block 0 included), u32le body
 * length, body, then for blocks 1.. : u32le length + raw (decompressed)
 * bytes, as long as input remains. Missing blocks are empty.
 */
#include <string.h>

#include "fuzz_common.h"
#include "rlformat.h"

#define MAX_BLOCKS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 6)
        return 0;
    uint32_t nkeys = data[0], nblocks = data[1] ? data[1] : 1;
    size_t body_len = rl_le32(data + 2), pos = 6;
    if (body_len > size - pos)
        body_len = size - pos;
    const uint8_t *body = data + pos;
    pos += body_len;
    const uint8_t *blk[MAX_BLOCKS] = { 0 };
    rl_block dir[MAX_BLOCKS] = { { 0 } }; /* raw_len of each block */
    for (uint32_t i = 1; i < nblocks && size - pos >= 4; i++) {
        size_t n = rl_le32(data + pos);
        pos += 4;
        if (n > size - pos)
            n = size - pos;
        blk[i] = data + pos;
        dir[i].raw_len = (uint32_t)n;
        pos += n;
    }
    rl_arena arena = { 0 };
    rl_history h;
    const char *why = NULL;
    if (rl_history_decode(&h, body, body_len, nkeys, dir, nblocks, &arena, &why) == 0) {
        FUZZ_ASSERT(h.nrows >= 1 && h.nrows <= RL_MAX_ROWS);
        for (uint32_t r = 1; r < h.nrows; r++)
            FUZZ_ASSERT(h.steps[r] >= h.steps[r - 1]);
        for (uint32_t i = 0; i < h.ncols; i++) {
            const rl_hcol *col = &h.cols[i];
            FUZZ_ASSERT(col->key < nkeys && col->count <= h.nrows);
            uint32_t present = 0;
            for (uint32_t r = 0; r < h.nrows; r++)
                present += (uint32_t)rl_hcol_present(col, r);
            FUZZ_ASSERT(present == col->count); /* bitmap and count agree */
            if (col->type != RL_COL_NULL) {
                FUZZ_ASSERT(col->block >= 1 && col->block < nblocks);
                /* A packed slice lies inside its block (§6.1). */
                FUZZ_ASSERT(col->len <= dir[col->block].raw_len &&
                            col->offset <= dir[col->block].raw_len - col->len);
            } else {
                FUZZ_ASSERT(col->len == 0);
            }
            /* Copy the column's bytes so that ASan sees reads past them. */
            size_t n = col->len;
            uint8_t *raw = malloc(n ? n : 1);
            FUZZ_ASSERT(raw != NULL);
            if (n)
                memcpy(raw, blk[col->block] + col->offset, n);
            runlog_value *values = NULL;
            if (rl_history_column(col, raw, &arena, &values, &why) == 0)
                for (uint32_t k = 0; k < col->count; k++)
                    fuzz_touch_value(&values[k]);
            if (col->type == RL_COL_FLOAT || col->type == RL_COL_INT) {
                double *d = malloc((col->count ? col->count : 1) * sizeof *d);
                FUZZ_ASSERT(d != NULL);
                (void)rl_history_column_f64(col, raw, d, &why);
                free(d);
            }
            free(raw);
        }
    } else {
        FUZZ_ASSERT(why != NULL);
    }
    rl_arena_reset(&arena);
    return 0;
}
