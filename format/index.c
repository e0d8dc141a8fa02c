/*
 * Index records (spec/FORMAT.md §7.1): which keys and steps each data frame
 * holds, so that a reader of one key decodes only the frames that hold it.
 *
 * Body: varint (previous index frame offset + 1, or 0 for none)
 *       varint entry count, then per entry:
 *         varint frame offset, varint sequence number, varint frame size
 *         (header + payload), varint rows, [varint first step,
 *         varint last step - first step: only when rows > 0],
 *         varint key count, key count x varint index into the frame's key table
 */
#include "rlformat.h"

int rl_index_encode(rl_buf *body, const rl_index *idx)
{
    int rc = rl_buf_varint(body, idx->prev_offset == UINT64_MAX ? 0 : idx->prev_offset + 1);
    if (!rc)
        rc = rl_buf_varint(body, idx->nentries);
    for (uint32_t i = 0; !rc && i < idx->nentries; i++) {
        const rl_index_entry *e = &idx->entries[i];
        if ((rc = rl_buf_reserve(body, 70 + (size_t)e->nkeys * 5)))
            break;
        rl_buf_varint_unchecked(body, e->offset);
        rl_buf_varint_unchecked(body, e->seq);
        rl_buf_varint_unchecked(body, e->size);
        rl_buf_varint_unchecked(body, e->rows);
        if (e->rows) {
            rl_buf_varint_unchecked(body, e->first_step);
            rl_buf_varint_unchecked(body, e->last_step - e->first_step);
        }
        rl_buf_varint_unchecked(body, e->nkeys);
        for (uint32_t k = 0; k < e->nkeys; k++)
            rl_buf_varint_unchecked(body, e->keys[k]);
    }
    return rc;
}

int rl_index_decode(rl_index *out, const uint8_t *body, size_t len, uint32_t nkeys,
                    rl_arena *arena, const char **why)
{
    rl_cur c = rl_cur_make(body, len);
    uint64_t prev, n, v;
    int rc;
    if ((rc = rl_cur_varint(&c, &prev, why)) || (rc = rl_cur_varint(&c, &n, why)))
        return rc;
    if (n > rl_cur_left(&c) / 5) {
        *why = "index entry count impossible for the record size";
        return RUNLOG_ECORRUPT;
    }
    rl_index_entry *e = n ? rl_arena_alloc(arena, n * sizeof *e) : NULL;
    if (n && !e)
        return RUNLOG_ENOMEM;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t size, kn;
        if ((rc = rl_cur_varint(&c, &e[i].offset, why)) || (rc = rl_cur_varint(&c, &e[i].seq, why)) ||
            (rc = rl_cur_count(&c, RL_FRAME_HEADER_SIZE + (uint64_t)RUNLOG_MAX_FRAME_PAYLOAD, &size, why)) ||
            (rc = rl_cur_varint(&c, &e[i].rows, why)))
            return rc;
        e[i].size = (uint32_t)size;
        if (e[i].rows) {
            if ((rc = rl_cur_varint(&c, &e[i].first_step, why)) || (rc = rl_cur_varint(&c, &v, why)))
                return rc;
            if (v > UINT64_MAX - e[i].first_step) {
                *why = "index step range overflows 64 bits";
                return RUNLOG_ECORRUPT;
            }
            e[i].last_step = e[i].first_step + v;
        }
        if ((rc = rl_cur_varint(&c, &kn, why)))
            return rc;
        if (kn > rl_cur_left(&c) || kn > nkeys) {
            *why = "index key count impossible";
            return RUNLOG_ECORRUPT;
        }
        e[i].nkeys = (uint32_t)kn;
        e[i].keys = kn ? rl_arena_alloc(arena, kn * sizeof *e[i].keys) : NULL;
        if (kn && !e[i].keys)
            return RUNLOG_ENOMEM;
        for (uint64_t k = 0; k < kn; k++) {
            if ((rc = rl_cur_varint(&c, &v, why)))
                return rc;
            if (v >= nkeys) {
                *why = "index names a key outside its key table";
                return RUNLOG_ECORRUPT;
            }
            e[i].keys[k] = (uint32_t)v;
        }
    }
    if (rl_cur_left(&c)) {
        *why = "bytes left over after the index entries";
        return RUNLOG_ECORRUPT;
    }
    out->prev_offset = prev ? prev - 1 : UINT64_MAX;
    out->nentries = (uint32_t)n;
    out->entries = e;
    return 0;
}
