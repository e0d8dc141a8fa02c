/*
 * Structured values as CBOR (RFC 8949), spec/FORMAT.md §5.1.
 *
 * Encoding uses libcbor's item encoders; decoding drives libcbor's streaming
 * decoder one item head at a time, so that limits (depth, lengths, counts)
 * are checked before anything is allocated.
 */
#include <cbor.h>

#include "rlformat.h"

#define CBOR_HEAD_MAX 9 /* initial byte + 8-byte argument */


static int put_head(rl_buf *b, size_t (*enc)(size_t, unsigned char *, size_t), size_t n)
{
    int rc = rl_buf_reserve(b, CBOR_HEAD_MAX);
    if (rc)
        return rc;
    b->len += enc(n, b->p + b->len, CBOR_HEAD_MAX);
    return 0;
}

int rl_cbor_null(rl_buf *b)
{
    int rc = rl_buf_reserve(b, 1);
    if (rc)
        return rc;
    b->len += cbor_encode_null(b->p + b->len, 1);
    return 0;
}

int rl_cbor_bool(rl_buf *b, int v)
{
    int rc = rl_buf_reserve(b, 1);
    if (rc)
        return rc;
    b->len += cbor_encode_bool(v != 0, b->p + b->len, 1);
    return 0;
}

int rl_cbor_uint(rl_buf *b, uint64_t v)
{
    int rc = rl_buf_reserve(b, CBOR_HEAD_MAX);
    if (rc)
        return rc;
    b->len += cbor_encode_uint(v, b->p + b->len, CBOR_HEAD_MAX);
    return 0;
}

int rl_cbor_int(rl_buf *b, int64_t v)
{
    if (v >= 0)
        return rl_cbor_uint(b, (uint64_t)v);
    int rc = rl_buf_reserve(b, CBOR_HEAD_MAX);
    if (rc)
        return rc;
    /* CBOR negative integers hold -1 - v, which fits in uint64 for INT64_MIN. */
    b->len += cbor_encode_negint((uint64_t)(-(v + 1)), b->p + b->len, CBOR_HEAD_MAX);
    return 0;
}

int rl_cbor_float(rl_buf *b, double v)
{
    int rc = rl_buf_reserve(b, CBOR_HEAD_MAX);
    if (rc)
        return rc;
    b->len += cbor_encode_double(v, b->p + b->len, CBOR_HEAD_MAX);
    return 0;
}

int rl_cbor_text(rl_buf *b, const char *s, size_t n)
{
    int rc = put_head(b, cbor_encode_string_start, n);
    return rc ? rc : rl_buf_put(b, s, n);
}

int rl_cbor_bytes(rl_buf *b, const void *s, size_t n)
{
    int rc = put_head(b, cbor_encode_bytestring_start, n);
    return rc ? rc : rl_buf_put(b, s, n);
}

int rl_cbor_array(rl_buf *b, size_t n)
{
    return put_head(b, cbor_encode_array_start, n);
}

int rl_cbor_map(rl_buf *b, size_t n)
{
    return put_head(b, cbor_encode_map_start, n);
}

int rl_cbor_value(rl_buf *b, const runlog_value *v)
{
    int rc = 0;
    switch (v->type) {
    case RUNLOG_NULL: return rl_cbor_null(b);
    case RUNLOG_BOOL: return rl_cbor_bool(b, v->u.b);
    case RUNLOG_INT: return rl_cbor_int(b, v->u.i);
    case RUNLOG_FLOAT: return rl_cbor_float(b, v->u.f);
    case RUNLOG_STRING: return rl_cbor_text(b, v->u.s, v->n);
    case RUNLOG_BYTES: return rl_cbor_bytes(b, v->u.s, v->n);
    case RUNLOG_LIST:
        rc = rl_cbor_array(b, v->n);
        for (uint32_t i = 0; !rc && i < v->n; i++)
            rc = rl_cbor_value(b, &v->u.items[i]);
        return rc;
    case RUNLOG_MAP:
        rc = rl_cbor_map(b, v->n);
        for (uint32_t i = 0; !rc && i < v->n; i++) {
            rc = rl_cbor_text(b, v->keys[i].p, v->keys[i].n);
            if (!rc)
                rc = rl_cbor_value(b, &v->u.items[i]);
        }
        return rc;
    default:
        return RUNLOG_EINVAL;
    }
}

/* ---- Decoding ------------------------------------------------------------ */

enum ev_kind { EV_NONE, EV_UINT, EV_NEGINT, EV_BYTES, EV_TEXT, EV_ARRAY, EV_MAP, EV_FLOAT,
               EV_NULL, EV_BOOL, EV_UNSUPPORTED };

typedef struct ev {
    enum ev_kind kind;
    uint64_t u;
    double f;
    const uint8_t *p;
    size_t n;
    const char *unsupported;
} ev;

static void on_u8(void *c, uint8_t v) { ((ev *)c)->kind = EV_UINT; ((ev *)c)->u = v; }
static void on_u16(void *c, uint16_t v) { ((ev *)c)->kind = EV_UINT; ((ev *)c)->u = v; }
static void on_u32(void *c, uint32_t v) { ((ev *)c)->kind = EV_UINT; ((ev *)c)->u = v; }
static void on_u64(void *c, uint64_t v) { ((ev *)c)->kind = EV_UINT; ((ev *)c)->u = v; }
static void on_n8(void *c, uint8_t v) { ((ev *)c)->kind = EV_NEGINT; ((ev *)c)->u = v; }
static void on_n16(void *c, uint16_t v) { ((ev *)c)->kind = EV_NEGINT; ((ev *)c)->u = v; }
static void on_n32(void *c, uint32_t v) { ((ev *)c)->kind = EV_NEGINT; ((ev *)c)->u = v; }
static void on_n64(void *c, uint64_t v) { ((ev *)c)->kind = EV_NEGINT; ((ev *)c)->u = v; }
static void on_bytes(void *c, cbor_data p, size_t n) { ev *e = c; e->kind = EV_BYTES; e->p = p; e->n = n; }
static void on_text(void *c, cbor_data p, size_t n) { ev *e = c; e->kind = EV_TEXT; e->p = p; e->n = n; }
static void on_array(void *c, size_t n) { ((ev *)c)->kind = EV_ARRAY; ((ev *)c)->n = n; }
static void on_map(void *c, size_t n) { ((ev *)c)->kind = EV_MAP; ((ev *)c)->n = n; }
static void on_f4(void *c, float v) { ((ev *)c)->kind = EV_FLOAT; ((ev *)c)->f = v; }
static void on_f8(void *c, double v) { ((ev *)c)->kind = EV_FLOAT; ((ev *)c)->f = v; }
static void on_null(void *c) { ((ev *)c)->kind = EV_NULL; }
static void on_bool(void *c, bool v) { ((ev *)c)->kind = EV_BOOL; ((ev *)c)->u = v; }
static void on_indef(void *c) { ev *e = c; e->kind = EV_UNSUPPORTED; e->unsupported = "indefinite-length CBOR item (not allowed, §5.1)"; }
static void on_tag(void *c, uint64_t v) { ev *e = c; e->kind = EV_UNSUPPORTED; e->unsupported = "CBOR tag (not allowed, §5.1)"; }
static void on_undef(void *c) { ev *e = c; e->kind = EV_UNSUPPORTED; e->unsupported = "CBOR undefined (not allowed, §5.1)"; }
static void on_break(void *c) { ev *e = c; e->kind = EV_UNSUPPORTED; e->unsupported = "CBOR break outside an indefinite item"; }

static const struct cbor_callbacks callbacks = {
    .uint8 = on_u8, .uint16 = on_u16, .uint32 = on_u32, .uint64 = on_u64,
    .negint8 = on_n8, .negint16 = on_n16, .negint32 = on_n32, .negint64 = on_n64,
    .byte_string_start = on_indef, .byte_string = on_bytes,
    .string = on_text, .string_start = on_indef,
    .indef_array_start = on_indef, .array_start = on_array,
    .indef_map_start = on_indef, .map_start = on_map,
    .tag = on_tag, .float2 = on_f4, .float4 = on_f4, .float8 = on_f8,
    .undefined = on_undef, .null = on_null, .boolean = on_bool, .indef_break = on_break,
};

static int next_event(rl_cur *c, ev *e, const char **why)
{
    if (rl_cur_left(c) == 0) {
        *why = "CBOR item expected, end of data found";
        return RUNLOG_ECORRUPT;
    }
    memset(e, 0, sizeof *e);
    struct cbor_decoder_result r = cbor_stream_decode(c->p + c->pos, rl_cur_left(c), &callbacks, e);
    if (r.status == CBOR_DECODER_NEDATA) {
        *why = "CBOR item runs past the end of its record";
        return RUNLOG_ECORRUPT;
    }
    if (r.status != CBOR_DECODER_FINISHED || e->kind == EV_NONE) {
        *why = "malformed CBOR item";
        return RUNLOG_ECORRUPT;
    }
    if (e->kind == EV_UNSUPPORTED) {
        *why = e->unsupported;
        return RUNLOG_ECORRUPT;
    }
    c->pos += r.read;
    return 0;
}

static char *copy_str(rl_arena *a, const uint8_t *p, size_t n)
{
    char *s = rl_arena_alloc(a, n + 1);
    if (s && n)
        memcpy(s, p, n);
    return s;
}

static int decode_item(rl_cur *c, rl_arena *a, runlog_value *v, unsigned depth, uint64_t *items,
                       const char **why)
{
    ev e;
    int rc = next_event(c, &e, why);
    if (rc)
        return rc;
    /* Each value costs a node whatever its encoded size (one byte for a
     * null): the count per data item bounds memory, not just the bytes. */
    if (++*items > RL_MAX_CBOR_ITEMS) {
        *why = "more values in one CBOR item than the limit (2^24)";
        return RUNLOG_ETOOLARGE;
    }
    switch (e.kind) {
    case EV_UINT:
        if (e.u > INT64_MAX) {
            *why = "CBOR integer outside int64";
            return RUNLOG_ECORRUPT;
        }
        v->type = RUNLOG_INT;
        v->u.i = (int64_t)e.u;
        return 0;
    case EV_NEGINT:
        if (e.u > INT64_MAX) {
            *why = "CBOR integer outside int64";
            return RUNLOG_ECORRUPT;
        }
        v->type = RUNLOG_INT;
        v->u.i = -1 - (int64_t)e.u;
        return 0;
    case EV_FLOAT: v->type = RUNLOG_FLOAT; v->u.f = e.f; return 0;
    case EV_NULL: v->type = RUNLOG_NULL; return 0;
    case EV_BOOL: v->type = RUNLOG_BOOL; v->u.b = (int)e.u; return 0;
    case EV_TEXT:
    case EV_BYTES:
        if (e.n > RUNLOG_MAX_STRING) {
            *why = "string longer than the limit (16 MiB)";
            return RUNLOG_ETOOLARGE;
        }
        if (e.kind == EV_TEXT && !rl_utf8_valid(e.p, e.n)) {
            *why = "CBOR text string is not valid UTF-8";
            return RUNLOG_ECORRUPT;
        }
        v->type = e.kind == EV_TEXT ? RUNLOG_STRING : RUNLOG_BYTES;
        v->n = (uint32_t)e.n;
        v->u.s = copy_str(a, e.p, e.n);
        return v->u.s ? 0 : RUNLOG_ENOMEM;
    case EV_ARRAY:
    case EV_MAP:
        if (depth >= RUNLOG_MAX_DEPTH) {
            *why = "values nested deeper than the limit (64)";
            return RUNLOG_ETOOLARGE;
        }
        /* Each item takes at least one byte (a map entry two): a count over
         * the bytes left is corrupt, and is caught before allocating. */
        if (e.n > rl_cur_left(c) / (e.kind == EV_MAP ? 2 : 1)) {
            *why = "CBOR count larger than the bytes that follow";
            return RUNLOG_ECORRUPT;
        }
        if (e.n > RL_MAX_CBOR_ITEMS - *items) {
            *why = "more values in one CBOR item than the limit (2^24)";
            return RUNLOG_ETOOLARGE;
        }
        v->type = e.kind == EV_ARRAY ? RUNLOG_LIST : RUNLOG_MAP;
        v->n = (uint32_t)e.n;
        if (e.n == 0)
            return 0;
        v->u.items = rl_arena_alloc(a, e.n * sizeof *v->u.items);
        if (!v->u.items)
            return RUNLOG_ENOMEM;
        if (e.kind == EV_MAP) {
            v->keys = rl_arena_alloc(a, e.n * sizeof *v->keys);
            if (!v->keys)
                return RUNLOG_ENOMEM;
        }
        for (size_t i = 0; i < e.n; i++) {
            if (e.kind == EV_MAP) {
                ev k;
                rc = next_event(c, &k, why);
                if (rc)
                    return rc;
                if (k.kind != EV_TEXT) {
                    *why = "CBOR map key is not a text string";
                    return RUNLOG_ECORRUPT;
                }
                if (k.n > RUNLOG_MAX_KEY) {
                    *why = "map key longer than the limit (1024 bytes)";
                    return RUNLOG_ETOOLARGE;
                }
                if (!rl_key_valid(k.p, k.n)) {
                    *why = "CBOR map key is not valid UTF-8, or holds U+0000 (§5)";
                    return RUNLOG_ECORRUPT;
                }
                v->keys[i].p = copy_str(a, k.p, k.n);
                v->keys[i].n = (uint32_t)k.n;
                if (!v->keys[i].p)
                    return RUNLOG_ENOMEM;
            }
            rc = decode_item(c, a, &v->u.items[i], depth + 1, items, why);
            if (rc)
                return rc;
        }
        return 0;
    default:
        *why = "unexpected CBOR item";
        return RUNLOG_ECORRUPT;
    }
}

int rl_cbor_decode(rl_cur *c, rl_arena *arena, runlog_value **out, const char **why)
{
    runlog_value *v = rl_arena_alloc(arena, sizeof *v);
    if (!v)
        return RUNLOG_ENOMEM;
    uint64_t items = 0;
    int rc = decode_item(c, arena, v, 0, &items, why);
    if (rc)
        return rc;
    *out = v;
    return 0;
}
