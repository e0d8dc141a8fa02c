/* runlog_verify (spec/FORMAT.md §8.4): every frame, every checksum, every
 * record decoded; damage is reported, not returned. runlog_verify_structure
 * is the same pass without decoding the value blocks. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <string.h>
#include <xxhash.h>

#include "internal.h"

typedef struct damage {
    runlog_damage_kind kind;
    uint64_t offset, length;
    const char *what;
} damage;

struct runlog_report {
    uint64_t size, frames, records, raw, stored;
    int trailer;
    damage *d;
    size_t nd, cap;
};

static int add_damage(runlog_report *rep, const char *path, runlog_damage_kind kind, uint64_t offset,
                      uint64_t length, const char *what)
{
    if (rep->nd == rep->cap) {
        size_t cap = rep->cap ? rep->cap * 2 : 8;
        damage *d = realloc(rep->d, cap * sizeof *d);
        if (!d)
            return rl_fail_at(RUNLOG_ENOMEM, path, offset, "out of memory listing the damaged ranges");
        rep->d = d;
        rep->cap = cap;
    }
    rep->d[rep->nd++] = (damage){ kind, offset, length, what };
    return 0;
}

/* A packed column is only allowed where the header announces packing
 * (§2.2); readers decode one anyway, verify reports it. */
static int check_packing_allowed(const rl_history *h, int packing, const char **why)
{
    for (uint32_t c = 0; !packing && c < h->ncols; c++)
        if (h->cols[c].packed) {
            *why = "packed column in a file whose header lacks the packed_columns flag";
            return RUNLOG_ECORRUPT;
        }
    return 0;
}

/* What a data frame holds that its index entry describes (§7.1): its
 * history rows and the names of its history keys, as a sorted set of
 * hashes; kept from the frame until the index frame that lists it. */
typedef struct frame_keys {
    uint64_t offset;
    uint64_t rows;
    size_t nkeys;
    uint64_t *keys;  /* NULL once checked */
} frame_keys;

/* Decodes everything in a frame (values: the value blocks too; else only
 * what the directory says of each column's size); 0, or an error with
 * *why. For a data frame, *fk gets its rows and history keys (fk->keys
 * allocated). */
static int check_frame(rl_frame *ws, const rl_scan_item *it, uint64_t incompat, int values,
                       uint64_t *records, uint64_t *raw, frame_keys *fk, const char **why)
{
    if (it->h.kind == RL_FRAME_TRAILER) {
        rl_trailer t;
        *raw = it->h.payload_size;
        return rl_trailer_decode(&t, it->payload, it->h.payload_size, why);
    }
    if (it->h.kind != RL_FRAME_DATA && it->h.kind != RL_FRAME_INDEX) {
        if (it->h.kind & RL_IGNORABLE)
            return 0;
        *why = "unknown required frame kind";
        return RUNLOG_EUNSUPPORTED;
    }
#define f (*ws)
    int rc = rl_frame_load(&f, it, why);
    uint64_t n = 0, total = 0;
    if (rc)
        goto done;
    for (uint32_t i = 0; i < f.payload.nblocks; i++)
        total += f.payload.blocks[i].raw_len;
    int packing = (incompat & RL_INCOMPAT_PACKED_COLUMNS) != 0;
    uint8_t *used = rl_arena_alloc(&f.arena, (size_t)f.stream.nkeys + 1);
    uint64_t hist_rows = 0;
    if (!used) {
        rc = RUNLOG_ENOMEM;
        goto done;
    }
    rl_record_view v;
    uint32_t wire_records = 0;
    while ((rc = rl_stream_next(&f.stream, &v, why)) == 0) {
        wire_records++;
        if (v.type == RL_REC_HISTORY || v.type == RL_REC_SYSTEM) {
            rl_history h;
            if ((rc = rl_frame_history(&f, &v, &h, why)) ||
                (rc = check_packing_allowed(&h, packing, why)))
                break;
            for (uint32_t c = 0; c < h.ncols && !rc; c++) {
                runlog_value *vals;
                rc = values ? rl_frame_column(&f, &h.cols[c], &vals, why)
                            : rl_history_column_size(&h.cols[c], why);
            }
            n += h.nrows;
            if (v.type == RL_REC_HISTORY) {
                hist_rows += h.nrows;
                for (uint32_t c = 0; c < h.ncols; c++)
                    used[h.cols[c].key] = 1;
            }
        } else if (v.type == RL_REC_INDEX) {
            rl_index idx;
            rc = rl_index_decode(&idx, v.body, v.len, f.stream.nkeys, &f.arena, why);
        } else {
            rl_cur c = rl_cur_make(v.body, v.len);
            runlog_value *body;
            if ((rc = rl_cbor_decode(&c, &f.arena, &body, why)))
                break;
            if (rl_cur_left(&c) || body->type != RUNLOG_MAP) {
                *why = "record body is not exactly one CBOR map";
                rc = RUNLOG_ECORRUPT;
            } else if (v.type == RL_REC_BLOB_CHUNK) {
                const runlog_value *b = runlog_value_get(body, "block");
                if (b && b->type == RUNLOG_INT && b->u.i >= 1 && (uint64_t)b->u.i < f.payload.nblocks)
                    rc = rl_frame_claim_block(&f, (uint32_t)b->u.i, &v, why);
            } else if (!rl_record_type_allowed(v.type)) {
                *why = "unknown required record type";
                rc = RUNLOG_EUNSUPPORTED;
            }
            n++;
        }
        if (rc)
            break;
    }
    if (rc == RUNLOG_ITEROVER) {
        rc = 0;
        if (wire_records != it->h.record_count) {
            *why = "record count in the frame header differs from the records found";
            rc = RUNLOG_ECORRUPT;
        }
    }
    /* Every block must be referenced or decodable: decode the rest too
     * (without values, check what its framing says). */
    for (uint32_t i = 1; !rc && i < f.payload.nblocks; i++) {
        const uint8_t *p;
        rc = values ? rl_frame_block(&f, i, &p, why) : rl_block_check_framing(&f.payload.blocks[i], why);
    }
    if (!rc && it->h.kind == RL_FRAME_DATA) {
        size_t m = 0;
        for (uint32_t k = 0; k < f.stream.nkeys; k++)
            m += used[k];
        if (!(fk->keys = malloc((m + 1) * sizeof *fk->keys))) {
            rc = RUNLOG_ENOMEM;
            goto done;
        }
        m = 0;
        for (uint32_t k = 0; k < f.stream.nkeys; k++)
            if (used[k])
                fk->keys[m++] = XXH3_64bits(f.stream.keys[k].p, f.stream.keys[k].n);
        fk->nkeys = rl_hash_set(fk->keys, m);
        fk->rows = hist_rows;
        fk->offset = it->offset;
    }
done:
#undef f
    if (!rc) {
        *records = it->h.kind == RL_FRAME_DATA ? n : 0;
        *raw = total;
    }
    return rc;
}

typedef struct verify_pass {
    runlog_report *rep;
    const char *path;
    uint64_t incompat;
    int values; /* decode the value blocks */
    int last_was_trailer;
    rl_frame ws;
    frame_keys *frames;  /* intact data frames, by offset */
    size_t nframes, frames_cap;
} verify_pass;

static frame_keys *find_frame(verify_pass *p, uint64_t offset)
{
    size_t lo = 0, hi = p->nframes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->frames[mid].offset < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < p->nframes && p->frames[lo].offset == offset ? &p->frames[lo] : NULL;
}

/* The index frame just decoded into p->ws: each entry that names an intact
 * data frame must list exactly its history keys and rows (§7.2: readers
 * check the frames they read through the index; verify checks them all).
 * 0, 1 when an entry lies, or RUNLOG_ENOMEM. */
static int index_lies(verify_pass *p)
{
    rl_frame *f = &p->ws;
    rl_stream st; /* check_frame read f->stream to its end: from the start again */
    rl_record_view v;
    rl_index idx;
    const char *why;
    int rc = rl_stream_open(&st, f->block0_bytes, f->payload.blocks[0].raw_len, &f->arena, &why);
    if (rc == RUNLOG_ENOMEM)
        return rc;
    if (rc || rl_stream_next(&st, &v, &why) || v.type != RL_REC_INDEX ||
        rl_index_decode(&idx, v.body, v.len, st.nkeys, &f->arena, &why))
        return 0; /* not an index record: reported by check_frame */
    int lies = 0;
    for (uint32_t e = 0; e < idx.nentries && !lies; e++) {
        const rl_index_entry *en = &idx.entries[e];
        frame_keys *fk = find_frame(p, en->offset);
        if (!fk || !fk->keys)
            continue; /* not an intact data frame, or listed twice: the reader's tiling check */
        uint64_t *h = malloc(((size_t)en->nkeys + 1) * sizeof *h);
        if (!h)
            return RUNLOG_ENOMEM;
        for (uint32_t k = 0; k < en->nkeys; k++)
            h[k] = XXH3_64bits(st.keys[en->keys[k]].p, st.keys[en->keys[k]].n);
        size_t n = rl_hash_set(h, en->nkeys);
        lies = en->rows != fk->rows || n != fk->nkeys || (n && memcmp(h, fk->keys, n * sizeof *h) != 0);
        free(h);
        free(fk->keys);
        fk->keys = NULL;
    }
    return lies;
}

/* An intact frame: decoded whole; one that does not decode is damage. */
static int verify_frame(void *ctx, const rl_scan_item *it)
{
    verify_pass *p = ctx;
    runlog_report *rep = p->rep;
    uint64_t records = 0, raw = 0;
    const char *why = NULL;
    frame_keys fk = { 0 };
    int bad = check_frame(&p->ws, it, p->incompat, p->values, &records, &raw, &fk, &why);
    if (bad == RUNLOG_ENOMEM)
        return rl_fail_at(bad, p->path, it->offset, "out of memory decoding the frame");
    if (!bad && fk.keys) {
        if (p->nframes == p->frames_cap) {
            size_t cap = p->frames_cap ? p->frames_cap * 2 : 64;
            frame_keys *n = realloc(p->frames, cap * sizeof *n);
            if (!n) {
                free(fk.keys);
                return rl_fail_at(RUNLOG_ENOMEM, p->path, it->offset, "out of memory decoding the frame");
            }
            p->frames = n;
            p->frames_cap = cap;
        }
        p->frames[p->nframes++] = fk;
    }
    if (!bad && it->h.kind == RL_FRAME_INDEX) {
        int lies = index_lies(p);
        if (lies < 0)
            return rl_fail_at(lies, p->path, it->offset, "out of memory checking the index");
        if (lies) {
            p->last_was_trailer = 0;
            return add_damage(rep, p->path, RUNLOG_DAMAGE_FRAME, it->offset, it->length,
                              "index entry misdescribes its data frame (other history keys or rows "
                              "than the frame holds)");
        }
    }
    if (bad) {
        p->last_was_trailer = 0;
        return add_damage(rep, p->path, RUNLOG_DAMAGE_FRAME, it->offset, it->length, why ? why : "malformed frame");
    }
    rep->frames++;
    rep->records += records;
    rep->raw += raw;
    rep->stored += it->h.payload_size;
    p->last_was_trailer = it->h.kind == RL_FRAME_TRAILER;
    return 0;
}

static int verify_damage(void *ctx, const rl_scan_item *it)
{
    verify_pass *p = ctx;
    p->last_was_trailer = 0;
    return add_damage(p->rep, p->path, it->damage, it->offset, it->length, it->why);
}

static int verify_end(void *ctx, const rl_scan_item *it)
{
    verify_pass *p = ctx;
    if (it->kind != RL_SCAN_TORN)
        return 0;
    p->last_was_trailer = 0;
    return add_damage(p->rep, p->path, RUNLOG_DAMAGE_TORN_TAIL, it->offset, it->length, it->why);
}

static int verify_file(runlog_report **out, const char *path, int values)
{
    if (!out || !path)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    int fd;
    int rc = rl_open_file(&fd, path, O_RDONLY, 0);
    if (rc)
        return rc;
    rl_file_header hdr;
    uint64_t size;
    rc = rl_read_file_header(fd, path, &hdr, &size);
    if (rc) {
        close(fd);
        return rc;
    }
    runlog_report *rep = calloc(1, sizeof *rep);
    if (!rep) {
        close(fd);
        return rl_fail(RUNLOG_ENOMEM, "%s: out of memory", path);
    }
    rep->size = size;
    static const rl_walk_ops ops = { .frame = verify_frame, .damage = verify_damage, .end = verify_end };
    verify_pass p = { .rep = rep, .path = path, .incompat = hdr.incompat_flags, .values = values };
    rl_scanner s;
    rl_scanner_init(&s, fd, path, &hdr, RL_FILE_HEADER_SIZE);
    s.size = size;
    rc = rl_scan_walk(&s, &ops, &p);
    rep->trailer = p.last_was_trailer;
    rl_frame_free(&p.ws);
    for (size_t i = 0; i < p.nframes; i++)
        free(p.frames[i].keys);
    free(p.frames);
    rl_scanner_free(&s);
    close(fd);
    if (rc) {
        runlog_report_free(rep);
        return rc; /* the detail names the file (and the frame, for memory) */
    }
    *out = rep;
    return 0;
}

int runlog_verify(runlog_report **out, const char *path)
{
    return verify_file(out, path, 1);
}

int runlog_verify_structure(runlog_report **out, const char *path)
{
    return verify_file(out, path, 0);
}

void runlog_report_free(runlog_report *rep)
{
    if (!rep)
        return;
    free(rep->d);
    free(rep);
}

uint64_t runlog_report_file_size(const runlog_report *rep) { return rep ? rep->size : 0; }
uint64_t runlog_report_frames(const runlog_report *rep) { return rep ? rep->frames : 0; }
uint64_t runlog_report_records(const runlog_report *rep) { return rep ? rep->records : 0; }
uint64_t runlog_report_raw_bytes(const runlog_report *rep) { return rep ? rep->raw : 0; }
uint64_t runlog_report_stored_bytes(const runlog_report *rep) { return rep ? rep->stored : 0; }
int runlog_report_has_trailer(const runlog_report *rep) { return rep ? rep->trailer : 0; }
size_t runlog_report_damage_count(const runlog_report *rep) { return rep ? rep->nd : 0; }
int runlog_report_intact(const runlog_report *rep) { return rep && rep->nd == 0; }

int runlog_report_damage(const runlog_report *rep, size_t i, runlog_damage_kind *kind, uint64_t *offset,
                         uint64_t *length, const char **what)
{
    if (!rep || i >= rep->nd)
        return rl_fail(RUNLOG_ENOTFOUND, "no damage entry %zu", i);
    if (kind)
        *kind = rep->d[i].kind;
    if (offset)
        *offset = rep->d[i].offset;
    if (length)
        *length = rep->d[i].length;
    if (what)
        *what = rep->d[i].what;
    return 0;
}
