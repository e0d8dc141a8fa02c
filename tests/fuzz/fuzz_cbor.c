/*
 * Fuzz target: structured values (CBOR, spec/FORMAT.md §5.1) through
 * rl_cbor_decode, item after item. Every accepted item must re-encode
 * (rl_cbor_value) to bytes that decode again to the same encoding — a
 * decoder that accepts what the encoder cannot reproduce would lose data.
 */
#include <string.h>

#include "fuzz_common.h"
#include "rlformat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rl_cur c = rl_cur_make(data, size);
    rl_arena arena = { 0 };
    for (int items = 0; rl_cur_left(&c) > 0 && items < 64; items++) {
        runlog_value *v = NULL;
        const char *why = NULL;
        size_t before = c.pos;
        if (rl_cbor_decode(&c, &arena, &v, &why) != 0) {
            FUZZ_ASSERT(why != NULL);
            break;
        }
        FUZZ_ASSERT(c.pos > before && c.pos <= size);
        fuzz_touch_value(v);
        rl_buf once = { 0 }, twice = { 0 };
        FUZZ_ASSERT(rl_cbor_value(&once, v) == 0);
        rl_cur c2 = rl_cur_make(once.p, once.len);
        runlog_value *v2 = NULL;
        FUZZ_ASSERT(rl_cbor_decode(&c2, &arena, &v2, &why) == 0);
        FUZZ_ASSERT(c2.pos == once.len);
        FUZZ_ASSERT(rl_cbor_value(&twice, v2) == 0);
        FUZZ_ASSERT(once.len == twice.len && memcmp(once.p, twice.p, once.len) == 0);
        rl_buf_free(&once);
        rl_buf_free(&twice);
    }
    rl_arena_reset(&arena);
    return 0;
}
