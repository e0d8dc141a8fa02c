/*
 * rlformat.h — the on-disk codec of runlog (spec/FORMAT.md).
 *
 * Pure functions over byte buffers: no file I/O, no global state, no
 * printing. Decoders check every length against the bytes present before
 * using it and report failures as a negative runlog_error plus a static
 * description in *why. The fuzz targets call these functions directly.
 */
#ifndef RLFORMAT_H
#define RLFORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "runlog.h"

/* ---- Constants of spec/FORMAT.md ---------------------------------------- */

#define RL_FILE_MAGIC "\x89RUNLOG\n"       /* 8 bytes, §2 */
#define RL_FILE_HEADER_SIZE 72u            /* §2 */
#define RL_VERSION_MAJOR 1u
#define RL_VERSION_MINOR 2u
#define RL_FRAME_MAGIC 0x52464c52u        /* "RLFR" little-endian, §3 */
#define RL_FRAME_HEADER_SIZE 48u           /* §3 */
#define RL_TRAILER_PAYLOAD 24u             /* §7 */
#define RL_TRAILER_SIZE (RL_FRAME_HEADER_SIZE + RL_TRAILER_PAYLOAD)
#define RL_TRAILER_MAGIC 0x4c494154524c524cull /* "LRLRTAIL" */

/* Feature flags (§2.2). */
#define RL_COMPAT_KNOWN 0ull
#define RL_INCOMPAT_PACKED_COLUMNS 0x1ull  /* small columns share blocks (§6.1) */
#define RL_INCOMPAT_SEALED_BLOCKS 0x2ull   /* a checksum per block, payload_checksum over the directory (§4.1) */
#define RL_INCOMPAT_KNOWN (RL_INCOMPAT_PACKED_COLUMNS | RL_INCOMPAT_SEALED_BLOCKS)

/* Frame kinds (§3.1). Kinds with bit 7 set are ignorable. */
enum { RL_FRAME_DATA = 1, RL_FRAME_INDEX = 2, RL_FRAME_TRAILER = 3 };
#define RL_IGNORABLE 0x80u

/* Block codecs (§4). */
enum { RL_CODEC_RAW = 0, RL_CODEC_ZSTD = 1 };

/* Record types (§5). Bit 7 set: ignorable by readers that do not know it. */
enum {
    RL_REC_RUN_START = 0x01,
    RL_REC_CONFIG = 0x02,
    RL_REC_HISTORY = 0x03,
    RL_REC_SUMMARY = 0x04,
    RL_REC_RESUME = 0x07,
    RL_REC_FINISH = 0x08,
    RL_REC_INDEX = 0x0A,
    RL_REC_ALERT = 0x85,
    RL_REC_CONSOLE = 0x86,
    RL_REC_PARTIAL = 0x89,
    RL_REC_SYSTEM = 0x8B,   /* system metric samples: a history body (§6) */
    RL_REC_METADATA = 0x8C,
    RL_REC_BLOB_CHUNK = 0x8D, /* §12.1 */
    RL_REC_ARTIFACT = 0x8E,   /* §12.5 */
    RL_REC_ALIAS = 0x8F       /* §12.5 */
};

/* Whether a reader may go on past a record of this type (§5): a required
 * type of this version, or any ignorable one. A reader refuses any other,
 * tolerantly too. */
static inline int rl_record_type_allowed(uint8_t type)
{
    switch (type) {
    case RL_REC_RUN_START: case RL_REC_CONFIG: case RL_REC_HISTORY: case RL_REC_SUMMARY:
    case RL_REC_RESUME: case RL_REC_FINISH: case RL_REC_INDEX:
        return 1;
    default:
        return (type & RL_IGNORABLE) != 0;
    }
}

/* History column types (§6). */
enum {
    RL_COL_NULL = 0,
    RL_COL_BOOL = 1,
    RL_COL_INT = 2,
    RL_COL_FLOAT = 3,
    RL_COL_STRING = 4,
    RL_COL_CBOR = 5,
    RL_COL_NTYPES = 6
};

#define RL_MAX_BLOCKS 65536u           /* blocks in one frame */
#define RL_BLOB_CHUNK (1u << 20)       /* bytes of a blob chunk (§12.1) */
#define RL_MAX_CBOR_ITEMS (1u << 24)   /* values in one CBOR data item, all levels (§10) */
#define RL_MAX_FRAME_RAW (256u << 20)  /* sum of a frame's decompressed blocks */
#define RL_MAX_ROWS (1u << 24)         /* rows in one history record */
#define RL_MAX_KEYS (1u << 20)         /* keys in one key table */

/* ---- Little-endian and varint helpers ------------------------------------ */

static inline void rl_put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void rl_put_le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void rl_put_le64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t rl_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t rl_le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t rl_le64(const uint8_t *p) {
    return (uint64_t)rl_le32(p) | ((uint64_t)rl_le32(p + 4) << 32);
}
static inline uint64_t rl_zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t rl_unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* ---- Growable output buffer -------------------------------------------- */

typedef struct rl_buf {
    uint8_t *p;
    size_t len;
    size_t cap;
} rl_buf;

void rl_buf_free(rl_buf *b);
int rl_buf_reserve(rl_buf *b, size_t extra);             /* 0 or RUNLOG_ENOMEM */
/* Appends len bytes the caller has made room for. */
static inline void rl_buf_put_unchecked(rl_buf *b, const void *data, size_t len) {
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
}
/* rl_buf_reserve with the common case (room already there) inline. */
static inline int rl_buf_ensure(rl_buf *b, size_t extra) {
    return b->cap - b->len >= extra ? 0 : rl_buf_reserve(b, extra);
}
int rl_buf_put(rl_buf *b, const void *data, size_t len);
int rl_buf_u8(rl_buf *b, uint8_t v);
int rl_buf_varint(rl_buf *b, uint64_t v);                /* LEB128, §1 */
/* Unchecked varint append: the caller reserved 10 bytes. */
static inline void rl_buf_varint_unchecked(rl_buf *b, uint64_t v) {
    while (v >= 0x80) { b->p[b->len++] = (uint8_t)(v | 0x80); v >>= 7; }
    b->p[b->len++] = (uint8_t)v;
}

/* ---- Input cursor --------------------------------------------------------- */

typedef struct rl_cur {
    const uint8_t *p;
    size_t len;
    size_t pos;
} rl_cur;

static inline rl_cur rl_cur_make(const void *p, size_t len) { rl_cur c = { (const uint8_t *)p, len, 0 }; return c; }
static inline size_t rl_cur_left(const rl_cur *c) { return c->len - c->pos; }
int rl_cur_u8_slow(rl_cur *c, uint8_t *out, const char **why);
/* Inline: a wide frame's descriptors are tens of thousands of these. */
static inline int rl_cur_u8(rl_cur *c, uint8_t *out, const char **why) {
    if (c->pos < c->len) { *out = c->p[c->pos++]; return 0; }
    return rl_cur_u8_slow(c, out, why);
}
int rl_cur_varint_slow(rl_cur *c, uint64_t *out, const char **why);
/* LEB128 (§1); the one-byte case, the common one in history columns, inline. */
static inline int rl_cur_varint(rl_cur *c, uint64_t *out, const char **why) {
    if (c->pos + 1 < c->len) {
        uint8_t b0 = c->p[c->pos];
        if (b0 < 0x80) { *out = b0; c->pos++; return 0; }
        uint8_t b1 = c->p[c->pos + 1];
        if (b1 < 0x80 && b1 != 0) { *out = (uint64_t)(b0 & 0x7f) | ((uint64_t)b1 << 7); c->pos += 2; return 0; }
    }
    return rl_cur_varint_slow(c, out, why);
}
/* A varint that must be <= max. */
int rl_cur_count(rl_cur *c, uint64_t max, uint64_t *out, const char **why);
int rl_cur_bytes(rl_cur *c, size_t n, const uint8_t **out, const char **why);

/* ---- Arena: values decoded from one frame share one arena ---------------- */

typedef struct rl_arena_block rl_arena_block;
typedef struct rl_arena {
    rl_arena_block *head;
} rl_arena;

void *rl_arena_alloc(rl_arena *a, size_t size);  /* zeroed, 16-aligned; NULL on OOM */
void *rl_arena_alloc_raw(rl_arena *a, size_t size); /* the same, not zeroed */
void rl_arena_reset(rl_arena *a);                /* frees every block */
/* Forgets every allocation but keeps the memory (merged into one block), so
 * that decoding frame after frame does not go back to the system. */
void rl_arena_clear(rl_arena *a);

/* ---- Values (§5.1: CBOR, RFC 8949) -------------------------------------- */

typedef struct rl_str {
    const char *p;
    uint32_t n;
} rl_str;

struct runlog_value {
    uint8_t type;      /* runlog_type */
    uint32_t n;        /* string/bytes length; list/map count */
    union {
        int b;
        int64_t i;
        double f;
        const char *s;        /* NUL-terminated copy */
        runlog_value *items;  /* list items or map values */
    } u;
    rl_str *keys;      /* map keys */
};

int rl_utf8_valid(const uint8_t *p, size_t n);
/* A key (of a history row or of a map): valid UTF-8 without U+0000, so
 * that no two keys read the same in C strings (§5). */
int rl_key_valid(const uint8_t *p, size_t n);

/* Encoding (writer side). Floats are always written as 8-byte CBOR floats so
 * that every bit survives; integers and lengths in their shortest form. */
int rl_cbor_null(rl_buf *b);
int rl_cbor_bool(rl_buf *b, int v);
int rl_cbor_int(rl_buf *b, int64_t v);
int rl_cbor_uint(rl_buf *b, uint64_t v);
int rl_cbor_float(rl_buf *b, double v);
int rl_cbor_text(rl_buf *b, const char *s, size_t n);
int rl_cbor_bytes(rl_buf *b, const void *s, size_t n);
int rl_cbor_array(rl_buf *b, size_t n);
int rl_cbor_map(rl_buf *b, size_t n);
int rl_cbor_value(rl_buf *b, const runlog_value *v); /* a decoded value back to CBOR */

/* Decodes one CBOR data item at c into a value tree allocated in arena.
 * Enforces RUNLOG_MAX_DEPTH, RUNLOG_MAX_STRING, RUNLOG_MAX_KEY for map keys,
 * UTF-8 of text strings, text-only map keys, definite lengths. */
int rl_cbor_decode(rl_cur *c, rl_arena *arena, runlog_value **out, const char **why);

/* ---- File header (§2) ------------------------------------------------------ */

typedef struct rl_file_header {
    uint16_t version_major;
    uint16_t version_minor;
    uint64_t compat_flags;
    uint64_t incompat_flags;
    uint8_t uuid[16];
    uint64_t salt;
    int64_t created_ns;
} rl_file_header;

void rl_file_header_encode(uint8_t out[RL_FILE_HEADER_SIZE], const rl_file_header *h);
/* RUNLOG_ENOTRUNLOG (magic), RUNLOG_ECHECKSUM, RUNLOG_EUNSUPPORTED (major
 * version, header size, unknown incompatible flag), RUNLOG_ETRUNCATED. */
int rl_file_header_decode(rl_file_header *out, const uint8_t *p, size_t len, const char **why);

/* ---- Frames (§3, §4) ------------------------------------------------------- */

typedef struct rl_frame_header {
    uint8_t kind;
    uint8_t flags;
    uint64_t salt;
    uint64_t seq;
    uint32_t payload_size;
    uint32_t record_count;
    uint64_t payload_checksum;
} rl_frame_header;

void rl_frame_header_encode(uint8_t out[RL_FRAME_HEADER_SIZE], const rl_frame_header *h);
/* Checks magic, header checksum, salt, reserved bytes and size limits.
 * RUNLOG_ECORRUPT (not a frame header here), RUNLOG_ECHECKSUM,
 * RUNLOG_ETOOLARGE. */
int rl_frame_header_decode(rl_frame_header *out, const uint8_t p[RL_FRAME_HEADER_SIZE],
                           uint64_t salt, const char **why);
/* The payload_checksum of a frame's payload (§3): XXH3-64 of the whole
 * payload, or of its block directory when sealed (§4.1). 0, or
 * RUNLOG_ECORRUPT when a sealed directory cannot be delimited. */
int rl_payload_checksum(const uint8_t *payload, size_t len, int sealed, uint64_t *out,
                        const char **why);
/* The length of a sealed payload's block directory (§4.1), from the first
 * `have` bytes of the payload: 0; RUNLOG_ECORRUPT when it cannot be
 * delimited within them (why says so). */
int rl_sealed_dir_len(const uint8_t *payload, size_t have, size_t *out, const char **why);
/* The most bytes a sealed directory can take (65536 entries of the longest
 * form), for a reader that reads a directory alone. */
#define RL_SEALED_DIR_MAX ((size_t)10 + 65536u * (1 + 10 + 10 + 8))
/* Whether a whole sealed payload is intact (§4.1): its directory delimited,
 * matching `checksum`, and every block matching its own. 0, or
 * RUNLOG_ECHECKSUM with why. (Blocks whose lengths do not add up to the
 * payload are left to rl_payload_parse, which reports them as malformed.) */
int rl_sealed_check(const uint8_t *payload, size_t len, uint64_t checksum, const char **why);

/* A frame's payload is a block directory and blocks (§4). Block 0 is the
 * record stream; the others hold history columns. */
typedef struct rl_block {
    uint8_t codec;
    uint32_t raw_len;
    uint32_t stored_len;
    uint64_t checksum;      /* sealed payloads: XXH3-64 of the stored bytes (§4.1) */
    uint32_t pos;           /* where its stored bytes start in the payload */
    const uint8_t *stored;  /* points into the payload; NULL when the payload
                             * was read in part and this block was not */
} rl_block;

typedef struct rl_payload {
    uint32_t nblocks;
    rl_block *blocks;       /* allocated; free with rl_payload_free */
    int borrowed;           /* blocks belong to someone else: not freed */
} rl_payload;

/* Parses the block directory of a payload of `len` bytes (§4; §4.1 when
 * sealed), of which the first `have` are in `payload` (have == len: the
 * whole payload; a reader of part of a sealed frame passes what it read:
 * the blocks beyond it get stored == NULL). */
int rl_payload_parse(rl_payload *out, const uint8_t *payload, size_t have, size_t len, int sealed,
                     const char **why);
/* Whether a sealed block's stored bytes match its checksum (§4.1). */
int rl_block_sealed_ok(const rl_block *b, const uint8_t *stored);
void rl_payload_free(rl_payload *p);
/* The checks of a zstd block's framing that need no decompression: one
 * whole zstd frame whose declared content size is raw_len (§4). 0 for a
 * raw block. */
int rl_block_check_framing(const rl_block *b, const char **why);
/* Decompresses block i into dst (raw_len bytes), after
 * rl_block_check_framing(). */
int rl_block_decode(const rl_block *b, uint8_t *dst, void *zstd_dctx, const char **why);
/* A ZSTD_DCtx for rl_block_decode (NULL: one is made per call). */
void *rl_dctx_new(void);
void rl_dctx_free(void *dctx);

/* ---- Frame builder (writer side) ------------------------------------------ */

#define RL_FB_KEEP_BYTES (16u << 20)

typedef struct rl_frame_builder {
    rl_buf keys;          /* key table entries (varint len + bytes) */
    uint32_t nkeys;
    rl_buf records;       /* records after the key table */
    uint32_t nrecords;
    rl_buf *blocks;       /* raw column blocks, 1..n-1 */
    uint8_t *stored_raw;  /* per block: 1 = store without trying zstd */
    uint32_t *pack_of;    /* per block: 0, or 1 + the pack in `packs` that
                           * holds its bytes instead of blocks[i] (§6.1) */
    uint32_t nblocks;
    uint32_t blocks_cap;
    rl_buf *packs;        /* shared blocks of packed columns, reused */
    uint32_t npacks, packs_cap;
    rl_buf scratch;       /* reused by the history encoder */
    /* Workspaces kept between frames so that a wide frame does not map and
     * fault in fresh memory each time: */
    rl_buf enc_cols;      /* the history encoder's column table */
    rl_buf enc_bitmaps;   /* its presence bitmaps */
    int32_t *colmap;      /* its (key, type) -> column map, all -1 between uses */
    size_t colmap_len;
    rl_buf fin_block0, fin_dir, fin_data; /* rl_fb_finish's, freed past RL_FB_KEEP_BYTES */
    void *zcctx;          /* ZSTD_CCtx, reused between frames */
    int zstd_level;
    int pack_columns;     /* the file has RL_INCOMPAT_PACKED_COLUMNS (§6.1) */
    int seal_blocks;      /* the file has RL_INCOMPAT_SEALED_BLOCKS (§4.1) */
} rl_frame_builder;

int rl_fb_init(rl_frame_builder *fb, int zstd_level);
void rl_fb_free(rl_frame_builder *fb);
void rl_fb_reset(rl_frame_builder *fb);  /* empties it, keeps capacity */
/* Appends a key to the frame's key table; its index is fb->nkeys - 1. */
int rl_fb_add_key(rl_frame_builder *fb, const char *key, size_t len);
/* Appends a record with an already encoded body. */
int rl_fb_add_record(rl_frame_builder *fb, uint8_t type, const void *body, size_t len);
/* Adds an empty column block; *out is valid until the next call. */
int rl_fb_new_block(rl_frame_builder *fb, rl_buf **out, uint32_t *index);
/* Marks block index (from rl_fb_new_block) to be stored raw: data already
 * compressed (PNG, JPEG, checkpoints) is not given to zstd again. */
void rl_fb_block_raw(rl_frame_builder *fb, uint32_t index);

/* XXH3-128 of data in canonical big-endian form (§12.1). */
void rl_digest(uint8_t out[16], const void *data, size_t len);
typedef struct rl_digest_state rl_digest_state;
rl_digest_state *rl_digest_begin(void);
void rl_digest_update(rl_digest_state *s, const void *data, size_t len);
void rl_digest_end(rl_digest_state *s, uint8_t out[16]); /* frees s */
/* 1 when zstd shrinks a sample of data by at least 5% (worth compressing). */
int rl_compressible(const void *data, size_t len);
/* Compresses and writes the payload (directory + blocks) into out (appended).
 * Each block is stored raw when zstd would not make it smaller. */
int rl_fb_finish(rl_frame_builder *fb, rl_buf *out, uint64_t *raw_total);

/* ---- History records (§6) ---------------------------------------------------- */

/* One cell of a row, with its frame-local key index. */
typedef struct rl_cell {
    uint32_t key;
    uint8_t type;   /* RL_COL_* */
    union {
        int b;
        int64_t i;
        double f;
        struct { const uint8_t *p; uint32_t n; } s; /* string bytes or CBOR item */
    } v;
} rl_cell;

typedef struct rl_row {
    uint64_t step;
    int64_t time_ns;
    uint32_t ncells;
    const rl_cell *cells;
} rl_row;

/* Bits of a history column descriptor's presence byte (§6). */
#define RL_PRESENCE_BITMAP 0x01u
#define RL_PRESENCE_PACKED 0x02u

/* Packing of small columns (§6.1): columns shorter than RL_PACK_BELOW bytes
 * share blocks, each closed once it holds RL_PACK_TARGET bytes or more. */
#define RL_PACK_BELOW 4096u
#define RL_PACK_TARGET (16u << 10)

/* Encodes rows as one history (or system) record: body into fb->records,
 * columns as new blocks (small ones packed when fb->pack_columns is set).
 * Steps must not decrease. */
int rl_history_encode(rl_frame_builder *fb, uint8_t record_type, const rl_row *rows, size_t nrows);

/* A decoded history record. Column values are decoded lazily by key. */
typedef struct rl_hcol {
    uint32_t key;
    uint8_t type;
    uint32_t count;          /* present rows */
    const uint8_t *bitmap;   /* NULL: present in every row */
    uint32_t block;          /* block index; 0 for RL_COL_NULL */
    uint32_t offset, len;    /* the column's bytes within the decoded block:
                              * the whole block unless packed (§6.1) */
    uint8_t packed;
} rl_hcol;

typedef struct rl_history {
    uint32_t nrows;
    uint64_t *steps;         /* arena */
    int64_t *times;          /* arena */
    uint32_t ncols;
    rl_hcol *cols;           /* arena */
} rl_history;

/* Parses a history record body (steps, times, column descriptors). nkeys is
 * the frame's key count; blocks[0..nblocks) its block directory, to check
 * block references and place packed slices (col->offset, col->len). */
int rl_history_decode(rl_history *out, const uint8_t *body, size_t len, uint32_t nkeys,
                      const rl_block *blocks, uint32_t nblocks, rl_arena *arena,
                      const char **why);
/* Checks what a column's byte count says without its bytes: the count of a
 * null (0), float (8 per value) or bool (a bit per value) column is fixed
 * by its values. 0, or RUNLOG_ECORRUPT. rl_history_column() checks it too. */
int rl_history_column_size(const rl_hcol *col, const char **why);
/* Decodes the values of column col from its bytes (col->len bytes: the
 * column's slice of its decompressed block) into values[count] (arena). */
int rl_history_column(const rl_hcol *col, const uint8_t *bytes, rl_arena *arena,
                      runlog_value **values, const char **why);
/* Fast path for float and int columns: values as doubles into out[count]. */
int rl_history_column_f64(const rl_hcol *col, const uint8_t *bytes, double *out,
                          const char **why);
static inline int rl_hcol_present(const rl_hcol *col, uint32_t row) {
    return col->bitmap == NULL || (col->bitmap[row >> 3] >> (row & 7)) & 1;
}

/* ---- Record stream of block 0 (§5) ------------------------------------------- */

typedef struct rl_record_view {
    uint8_t type;
    const uint8_t *body;
    size_t len;
} rl_record_view;

typedef struct rl_stream {
    uint32_t nkeys;
    rl_str *keys;            /* arena; NUL-terminated copies */
    rl_cur cur;              /* positioned at the first record */
} rl_stream;

int rl_stream_open(rl_stream *out, const uint8_t *block0, size_t len, rl_arena *arena,
                   const char **why);
/* 0 and a record; RUNLOG_ITEROVER at the end of the block. */
int rl_stream_next(rl_stream *s, rl_record_view *out, const char **why);

/* ---- Index and trailer (§7) -------------------------------------------------- */

typedef struct rl_index_entry {
    uint64_t offset;         /* of the frame */
    uint64_t seq;
    uint32_t size;           /* header + payload */
    uint64_t first_step;     /* valid when rows > 0 */
    uint64_t last_step;
    uint64_t rows;
    uint32_t nkeys;
    uint32_t *keys;          /* indices into the index's key table */
} rl_index_entry;

/* An index record's keys are those of its frame's key table. */
typedef struct rl_index {
    uint64_t prev_offset;    /* previous index frame; UINT64_MAX: none */
    uint32_t nentries;
    rl_index_entry *entries;
} rl_index;

int rl_index_encode(rl_buf *body, const rl_index *idx);
int rl_index_decode(rl_index *out, const uint8_t *body, size_t len, uint32_t nkeys,
                    rl_arena *arena, const char **why);

typedef struct rl_trailer {
    uint64_t index_offset;
    uint64_t frame_count;
} rl_trailer;

void rl_trailer_encode(uint8_t out[RL_TRAILER_PAYLOAD], const rl_trailer *t);
int rl_trailer_decode(rl_trailer *out, const uint8_t *p, size_t len, const char **why);

#endif
