/* Byte buffers, input cursors, arenas and UTF-8 checks (spec/FORMAT.md §1). */
#include <stdlib.h>
#include <string.h>

#include "rlformat.h"
#include "utf8.h"

void rl_buf_free(rl_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

int rl_buf_reserve(rl_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len)
        return RUNLOG_ENOMEM;
    /* Double, or grow to exactly what is needed when that is more: a 1 MiB
     * blob chunk then takes 1 MiB, not the 2 MiB the next power of two would. */
    size_t cap = b->cap ? b->cap * 2 : 256;
    if (cap - b->len < extra)
        cap = b->len + extra;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return RUNLOG_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

int rl_buf_put(rl_buf *b, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    int rc = rl_buf_reserve(b, len);
    if (rc)
        return rc;
    memcpy(b->p + b->len, data, len);
    b->len += len;
    return 0;
}

int rl_buf_u8(rl_buf *b, uint8_t v)
{
    return rl_buf_put(b, &v, 1);
}

int rl_buf_varint(rl_buf *b, uint64_t v)
{
    int rc = rl_buf_reserve(b, 10);
    if (rc)
        return rc;
    rl_buf_varint_unchecked(b, v);
    return 0;
}

/* rl_cur_u8 at the end of the data. */
int rl_cur_u8_slow(rl_cur *c, uint8_t *out, const char **why)
{
    (void)c;
    (void)out;
    *why = "unexpected end of data (byte expected)";
    return RUNLOG_ECORRUPT;
}

/* LEB128, at most 10 bytes; the 10th byte may only hold the top bit, and
 * encodings must be minimal (no trailing 0x80 0x00), so that each number has
 * one encoding (§1). */
int rl_cur_varint_slow(rl_cur *c, uint64_t *out, const char **why)
{
    uint64_t v = 0;
    for (unsigned shift = 0, i = 0;; shift += 7, i++) {
        if (c->pos >= c->len) {
            *why = "unexpected end of data inside a varint";
            return RUNLOG_ECORRUPT;
        }
        uint8_t byte = c->p[c->pos++];
        if (i == 9 && byte > 1) {
            *why = "varint over 64 bits";
            return RUNLOG_ECORRUPT;
        }
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            if (byte == 0 && i > 0) {
                *why = "varint not in its shortest form";
                return RUNLOG_ECORRUPT;
            }
            *out = v;
            return 0;
        }
    }
}

int rl_cur_count(rl_cur *c, uint64_t max, uint64_t *out, const char **why)
{
    uint64_t v;
    int rc = rl_cur_varint(c, &v, why);
    if (rc)
        return rc;
    if (v > max) {
        *why = "count or length over its limit";
        return RUNLOG_ETOOLARGE;
    }
    *out = v;
    return 0;
}

int rl_cur_bytes(rl_cur *c, size_t n, const uint8_t **out, const char **why)
{
    if (n > rl_cur_left(c)) {
        *why = "length runs past the end of its block";
        return RUNLOG_ECORRUPT;
    }
    *out = c->p + c->pos;
    c->pos += n;
    return 0;
}

struct rl_arena_block {
    rl_arena_block *next;
    size_t used, cap;
    _Alignas(16) uint8_t data[];
};

void *rl_arena_alloc(rl_arena *a, size_t size)
{
    void *p = rl_arena_alloc_raw(a, size);
    if (p)
        memset(p, 0, size);
    return p;
}

void *rl_arena_alloc_raw(rl_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    rl_arena_block *b = a->head;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > 65536 ? size : 65536;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

void rl_arena_clear(rl_arena *a)
{
    rl_arena_block *b = a->head;
    if (!b)
        return;
    if (!b->next) {
        b->used = 0;
        return;
    }
    size_t total = 0;
    for (; b; b = b->next)
        total += b->cap;
    rl_arena_reset(a);
    b = malloc(sizeof *b + total);
    if (!b)
        return; /* the next alloc will try again */
    b->used = 0;
    b->cap = total;
    b->next = NULL;
    a->head = b;
}

void rl_arena_reset(rl_arena *a)
{
    while (a->head) {
        rl_arena_block *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

/* RFC 3629 (lib/util/utf8.h, the one rule). */
int rl_utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0, k;
    while (i < n) {
        /* ASCII eight bytes at a time (keys and most text are ASCII). */
        uint64_t w;
        if (n - i >= 8 && (memcpy(&w, p + i, 8), (w & 0x8080808080808080ull) == 0)) {
            i += 8;
            continue;
        }
        if (!(k = utf8_seq_len(p + i, n - i)))
            return 0;
        i += k;
    }
    return 1;
}

int rl_key_valid(const uint8_t *p, size_t n)
{
    /* One pass: ASCII without a 0 byte eight bytes at a time (a key table
     * of a wide run is 10,000 short keys a frame), the rest by the rule. */
    size_t i = 0, k;
    while (i < n) {
        uint64_t w;
        if (n - i >= 8 && (memcpy(&w, p + i, 8),
                           ((w | ((w - 0x0101010101010101ull) & ~w)) & 0x8080808080808080ull) == 0)) {
            i += 8;
            continue;
        }
        if (p[i] == 0 || !(k = utf8_seq_len(p + i, n - i)))
            return 0;
        i += k;
    }
    return 1;
}
