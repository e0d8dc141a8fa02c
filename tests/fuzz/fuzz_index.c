/*
 * Fuzz target: an index record body (spec/FORMAT.md §7.1) through
 * rl_index_decode. Input: u8 nkeys of the frame's key table, then the body.
 * Accepted indexes are re-encoded and must give the same bytes back.
 */
#include <string.h>

#include "fuzz_common.h"
#include "rlformat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint32_t nkeys = data[0];
    rl_arena arena = { 0 };
    rl_index idx;
    const char *why = NULL;
    if (rl_index_decode(&idx, data + 1, size - 1, nkeys, &arena, &why) == 0) {
        for (uint32_t i = 0; i < idx.nentries; i++) {
            const rl_index_entry *e = &idx.entries[i];
            FUZZ_ASSERT(e->nkeys <= nkeys);
            if (e->rows)
                FUZZ_ASSERT(e->last_step >= e->first_step);
            for (uint32_t k = 0; k < e->nkeys; k++)
                FUZZ_ASSERT(e->keys[k] < nkeys);
        }
        rl_buf b = { 0 };
        FUZZ_ASSERT(rl_index_encode(&b, &idx) == 0);
        /* Varints are minimal (§1), so the encoding is unique. */
        FUZZ_ASSERT(b.len == size - 1 && memcmp(b.p, data + 1, b.len) == 0);
        rl_buf_free(&b);
    } else {
        FUZZ_ASSERT(why != NULL);
    }
    rl_arena_reset(&arena);
    return 0;
}
