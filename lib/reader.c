/*
 * The reader (spec/FORMAT.md §8 "Reading"): records in file order, the run
 * as a whole, and one key's history through the index.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <xxhash.h>
#include <unistd.h>

#include "internal.h"

struct runlog_record {
    int type;
    const char *path;        /* the reader's, for the details of the typed accessors */
    uint64_t frame_offset;
    int64_t time;
    uint64_t step;
    size_t nfields;
    const char **keys;
    const runlog_value **values;
    const runlog_value *body;
};

/* One pass over the records: its own scanner and frame workspace, so that
 * passes over one open file never disturb each other. Everything it reads
 * goes through the reader's descriptor with pread (no file position). */
struct runlog_cursor {
    runlog_reader *r;
    unsigned flags;          /* RUNLOG_READ_*, from the reader */
    rl_scanner scan;
    rl_frame frame;
    int frame_loaded;
    uint64_t frame_offset;
    /* The history record being walked row by row. */
    rl_history hist;
    int in_hist;
    int hist_type;           /* RUNLOG_RECORD_HISTORY or _SYSTEM */
    uint32_t row;
    runlog_value **colvals;
    uint32_t *colpos;
    struct runlog_record rec;
    size_t fields_cap;
    int finished_seen;
    uint64_t damaged;        /* damaged ranges and malformed frames skipped (tolerant) */
    int torn;                /* the pass ended at a torn tail */
};

/* The open file: descriptor, header, and what passes learn that others can
 * reuse (the blob index, the frames a history scan found). */
struct runlog_reader {
    char *path;
    int fd;
    rl_file_header hdr;
    unsigned flags;
    runlog_cursor *own;      /* runlog_reader_next()'s cursor, made on first use */
    rl_blob_index *blobs;    /* built on the first blob read */
    /* For files without a usable index: the data frames one history scan
     * found and the hashes of their keys, so that the next key reads only
     * its own frames (valid while the file keeps the size it had). */
    struct scanned_frame { uint64_t offset; uint32_t nkeys; uint64_t *hashes; } *scanned;
    size_t nscanned, scanned_cap;
    uint64_t scanned_size;
    int scanned_ok;
    rl_arena scanned_arena;
    /* The first lie of the index a history read met ("PATH: byte OFFSET:
     * WHY"), after which it scanned; NULL while none (§7.2). */
    char *index_notice;
    /* Every index entry was checked against its frame, at this file size. */
    int index_checked;
    uint64_t index_checked_size;
    uint64_t history_reads;
    struct key_map *map;     /* built by the first history read of a sealed file, the
                              * second of another (key_map_build) */
    uint64_t map_refused_size; /* + 1: the file size at which a map could not be
                                * built (damage, its budget): not tried again */
};

int rl_reader_fd(const runlog_reader *r) { return r->fd; }
const char *rl_reader_path(const runlog_reader *r) { return r->path; }
const rl_file_header *rl_reader_header(const runlog_reader *r) { return &r->hdr; }
rl_blob_index **rl_reader_blob_cache(runlog_reader *r) { return &r->blobs; }

static int reader_damage(runlog_reader *r, int code, uint64_t offset, const char *why)
{
    return rl_fail_at(code, r->path, offset, why);
}

/* An intact frame that is not a data frame: 0 where a reader passes over
 * it, the error for a kind it must know and does not. */
static int other_frame(runlog_reader *r, const rl_scan_item *it)
{
    if (it->h.kind != RL_FRAME_INDEX && it->h.kind != RL_FRAME_TRAILER && !(it->h.kind & RL_IGNORABLE))
        return reader_damage(r, RUNLOG_EUNSUPPORTED, it->offset,
                             "unknown required frame kind (written by a newer version?)");
    return 0;
}

/* The error a strict reader returns for damage the scanner found. */
static int scan_damage_code(const rl_scan_item *it)
{
    return it->damage == RUNLOG_DAMAGE_FRAME ? RUNLOG_ECHECKSUM : RUNLOG_ECORRUPT;
}

int runlog_reader_open(runlog_reader **out, const char *path, const runlog_reader_options *opts)
{
    runlog_reader_options defaults = RUNLOG_READER_OPTIONS_INIT;
    const runlog_reader_options *o = opts ? opts : &defaults;
    if (!out || !path)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    if (o->version != RUNLOG_READER_OPTIONS_VERSION)
        return rl_fail(RUNLOG_EINVAL, "reader options version %u (this library knows %u)", o->version,
                       RUNLOG_READER_OPTIONS_VERSION);
    int fd;
    int rc = rl_open_file(&fd, path, O_RDONLY, 0);
    if (rc)
        return rc;
    runlog_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        close(fd);
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    }
    r->fd = fd;
    r->flags = o->flags;
    uint64_t size;
    rc = rl_read_file_header(fd, path, &r->hdr, &size);
    if (rc) {
        runlog_reader_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

struct key_map;
static void key_map_free(struct key_map *m);

void runlog_reader_close(runlog_reader *r)
{
    if (!r)
        return;
    runlog_cursor_close(r->own);
    rl_blob_index_free(r->blobs);
    free(r->scanned);
    rl_arena_reset(&r->scanned_arena);
    free(r->index_notice);
    key_map_free(r->map);
    if (r->fd >= 0)
        close(r->fd);
    free(r->path);
    free(r);
}

const uint8_t *runlog_reader_file_uuid(const runlog_reader *r) { return r ? r->hdr.uuid : NULL; }
int64_t runlog_reader_created(const runlog_reader *r) { return r ? r->hdr.created_ns : 0; }

const char *runlog_record_type_name(int type)
{
    switch (type) {
    case RUNLOG_RECORD_RUN_START: return "run_start";
    case RUNLOG_RECORD_CONFIG: return "config";
    case RUNLOG_RECORD_HISTORY: return "history";
    case RUNLOG_RECORD_SUMMARY: return "summary";
    case RUNLOG_RECORD_ALERT: return "alert";
    case RUNLOG_RECORD_CONSOLE: return "console";
    case RUNLOG_RECORD_RESUME: return "resume";
    case RUNLOG_RECORD_FINISH: return "finish";
    case RUNLOG_RECORD_PARTIAL: return "partial";
    case RUNLOG_RECORD_SYSTEM: return "system";
    case RUNLOG_RECORD_METADATA: return "metadata";
    case RUNLOG_RECORD_ARTIFACT: return "artifact";
    case RUNLOG_RECORD_ALIAS: return "alias";
    default: return "unknown";
    }
}

/* Public record type of a wire record type; 0 for records not shown. */
static int public_type(uint8_t wire)
{
    switch (wire) {
    case RL_REC_RUN_START: return RUNLOG_RECORD_RUN_START;
    case RL_REC_CONFIG: return RUNLOG_RECORD_CONFIG;
    case RL_REC_SUMMARY: return RUNLOG_RECORD_SUMMARY;
    case RL_REC_ALERT: return RUNLOG_RECORD_ALERT;
    case RL_REC_CONSOLE: return RUNLOG_RECORD_CONSOLE;
    case RL_REC_RESUME: return RUNLOG_RECORD_RESUME;
    case RL_REC_FINISH: return RUNLOG_RECORD_FINISH;
    case RL_REC_PARTIAL: return RUNLOG_RECORD_PARTIAL;
    case RL_REC_METADATA: return RUNLOG_RECORD_METADATA;
    case RL_REC_ARTIFACT: return RUNLOG_RECORD_ARTIFACT;
    case RL_REC_ALIAS: return RUNLOG_RECORD_ALIAS;
    default: return 0;
    }
}

/* RUNLOG_EUNSUPPORTED and *why for a record type a reader must refuse
 * (spec/FORMAT.md §5: required and unknown, read tolerantly too), else 0.
 * Every pass over a frame's records asks it, whatever records it uses. */
static int record_refused(uint8_t type, const char **why)
{
    if (rl_record_type_allowed(type))
        return 0;
    *why = "unknown required record type (written by a newer version?)";
    return RUNLOG_EUNSUPPORTED;
}

/* Decodes every column of a history record (for row-by-row iteration). */
static int decode_columns(rl_frame *f, const rl_history *h, runlog_value **vals, const char **why)
{
    for (uint32_t c = 0; c < h->ncols; c++) {
        int rc = rl_frame_column(f, &h->cols[c], &vals[c], why);
        if (rc)
            return rc;
    }
    return 0;
}

static int grow_fields(runlog_cursor *c, size_t n)
{
    if (n <= c->fields_cap)
        return 0;
    size_t cap = c->fields_cap ? c->fields_cap : 16;
    while (cap < n)
        cap *= 2;
    const char **k = realloc(c->rec.keys, cap * sizeof *k);
    if (k)
        c->rec.keys = k;
    const runlog_value **v = realloc(c->rec.values, cap * sizeof *v);
    if (v)
        c->rec.values = v;
    if (!k || !v)
        return RUNLOG_ENOMEM;
    c->fields_cap = cap;
    return 0;
}

static void drop_frame(runlog_cursor *c)
{
    c->frame_loaded = 0; /* c->frame keeps its buffers for the next one */
    c->in_hist = 0;
}

/* Whether a finish body has the int exit_code that makes it end the run. */
static int finish_code_ok(const runlog_value *body)
{
    const runlog_value *code = runlog_value_get(body, "exit_code");
    return code && code->type == RUNLOG_INT;
}

/* Handles one record of the current frame. 1: a record is ready in c->rec;
 * 0: nothing to show, go on; < 0: error. */
static int take_record(runlog_cursor *c, const rl_record_view *v, const char **why)
{
    rl_frame *f = &c->frame;
    int rc;
    if (v->type == RL_REC_HISTORY || v->type == RL_REC_SYSTEM) {
        c->hist_type = v->type == RL_REC_HISTORY ? RUNLOG_RECORD_HISTORY : RUNLOG_RECORD_SYSTEM;
        if ((rc = rl_frame_history(f, v, &c->hist, why)))
            return rc;
        free(c->colvals);
        free(c->colpos);
        c->colvals = calloc(c->hist.ncols + 1, sizeof *c->colvals);
        c->colpos = calloc(c->hist.ncols + 1, sizeof *c->colpos);
        if (!c->colvals || !c->colpos || grow_fields(c, c->hist.ncols + 1))
            return RUNLOG_ENOMEM;
        if ((rc = decode_columns(f, &c->hist, c->colvals, why)))
            return rc;
        c->in_hist = 1;
        c->row = 0;
        return 0;
    }
    int type = public_type(v->type);
    if (!type)
        return record_refused(v->type, why);
    rl_cur cur = rl_cur_make(v->body, v->len);
    runlog_value *body;
    if ((rc = rl_cbor_decode(&cur, &f->arena, &body, why)))
        return rc;
    if (rl_cur_left(&cur) || body->type != RUNLOG_MAP) {
        *why = "record body is not exactly one CBOR map";
        return RUNLOG_ECORRUPT;
    }
    if (type == RUNLOG_RECORD_FINISH && finish_code_ok(body))
        c->finished_seen = 1;
    else if (type == RUNLOG_RECORD_RESUME)
        c->finished_seen = 0;
    c->rec.type = type;
    c->rec.path = c->r->path;
    c->rec.frame_offset = c->frame_offset;
    c->rec.time = rl_map_int(body, "t", 0);
    c->rec.step = 0;
    c->rec.nfields = 0;
    c->rec.body = body;
    return 1;
}

static void make_row(runlog_cursor *c)
{
    const rl_history *h = &c->hist;
    uint32_t row = c->row++;
    size_t n = 0;
    for (uint32_t col = 0; col < h->ncols; col++) {
        if (!rl_hcol_present(&h->cols[col], row))
            continue;
        c->rec.keys[n] = c->frame.stream.keys[h->cols[col].key].p;
        c->rec.values[n] = &c->colvals[col][c->colpos[col]++];
        n++;
    }
    c->rec.type = c->hist_type;
    c->rec.path = c->r->path;
    c->rec.frame_offset = c->frame_offset;
    c->rec.time = h->times[row];
    c->rec.step = h->steps[row];
    c->rec.nfields = n;
    c->rec.body = NULL;
}

static int frame_error(runlog_cursor *c, int rc, const char *why)
{
    uint64_t offset = c->frame_offset;
    if (rc == RUNLOG_ENOMEM) {
        /* Say which frame, and how big it decodes to: a frame within the
         * format's limits can still be too big for a process's memory. */
        uint64_t decoded = 0;
        for (uint32_t i = 0; i < c->frame.payload.nblocks; i++)
            decoded += c->frame.payload.blocks[i].raw_len;
        drop_frame(c);
        if (!decoded) /* the block directory itself did not fit */
            return rl_fail_at(rc, c->r->path, offset, "out of memory decoding the frame");
        return rl_fail(rc, "%s: byte %llu: out of memory decoding the frame (%llu bytes once decompressed)",
                       c->r->path, (unsigned long long)offset, (unsigned long long)decoded);
    }
    drop_frame(c);
    rc = reader_damage(c->r, rc, offset, why ? why : "malformed frame");
    if (rc == RUNLOG_EUNSUPPORTED || !(c->flags & RUNLOG_READ_TOLERANT))
        return rc;
    c->damaged++;
    return 0; /* tolerant: the rest of the frame is skipped */
}

/* A cursor with the given flags (the run and history passes drop FOLLOW). */
static int cursor_open(runlog_cursor **out, runlog_reader *r, unsigned flags)
{
    runlog_cursor *c = calloc(1, sizeof *c);
    if (!c)
        return rl_fail(RUNLOG_ENOMEM, "%s: out of memory", r->path);
    c->r = r;
    c->flags = flags;
    rl_scanner_init(&c->scan, r->fd, r->path, &r->hdr, RL_FILE_HEADER_SIZE);
    *out = c;
    return 0;
}

int runlog_cursor_open(runlog_cursor **out, runlog_reader *r)
{
    if (!out || !r)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    return cursor_open(out, r, r->flags);
}

void runlog_cursor_close(runlog_cursor *c)
{
    if (!c)
        return;
    rl_frame_free(&c->frame);
    rl_scanner_free(&c->scan);
    free(c->rec.keys);
    free(c->rec.values);
    free(c->colvals);
    free(c->colpos);
    free(c);
}

int runlog_reader_next(runlog_reader *r, const runlog_record **out)
{
    if (!r || !out)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    int rc;
    if (!r->own && (rc = cursor_open(&r->own, r, r->flags)))
        return rc;
    return runlog_cursor_next(r->own, out);
}

int runlog_cursor_next(runlog_cursor *c, const runlog_record **out)
{
    if (!c || !out)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    for (;;) {
        const char *why = NULL;
        int rc;
        if (c->in_hist) {
            if (c->row < c->hist.nrows) {
                make_row(c);
                *out = &c->rec;
                return 0;
            }
            c->in_hist = 0;
        }
        if (c->frame_loaded) {
            rl_record_view v;
            rc = rl_stream_next(&c->frame.stream, &v, &why);
            if (rc == RUNLOG_ITEROVER) {
                drop_frame(c);
                continue;
            }
            if (!rc)
                rc = take_record(c, &v, &why);
            if (rc == 1) {
                *out = &c->rec;
                return 0;
            }
            if (rc < 0 && (rc = frame_error(c, rc, why)))
                return rc;
            continue;
        }
        rl_scan_item it;
        if ((rc = rl_scanner_next(&c->scan, &it)))
            return rc;
        switch (it.kind) {
        case RL_SCAN_FRAME:
            if (it.h.kind == RL_FRAME_DATA) {
                c->frame_offset = it.offset;
                c->frame_loaded = 1;
                rc = rl_frame_load(&c->frame, &it, &why);
                if (rc && (rc = frame_error(c, rc, why)))
                    return rc;
            } else if ((rc = other_frame(c->r, &it))) {
                return rc;
            }
            continue;
        case RL_SCAN_DAMAGE:
            if (c->flags & RUNLOG_READ_TOLERANT) {
                c->damaged++;
                continue;
            }
            return reader_damage(c->r, scan_damage_code(&it), it.offset, it.why);
        case RL_SCAN_TORN:
        case RL_SCAN_END:
            c->torn = it.kind == RL_SCAN_TORN;
            if (!(c->flags & RUNLOG_READ_FOLLOW) || c->finished_seen)
                return RUNLOG_ITEROVER;
            {
                uint64_t before = c->scan.size;
                rl_scanner_refresh(&c->scan);
                if (c->scan.size != before)
                    continue;
            }
            return RUNLOG_EAGAIN;
        }
    }
}

runlog_record_type runlog_record_type_of(const runlog_record *rec) { return rec ? (runlog_record_type)rec->type : 0; }
uint64_t runlog_record_frame_offset(const runlog_record *rec) { return rec ? rec->frame_offset : 0; }
int64_t runlog_record_time(const runlog_record *rec) { return rec ? rec->time : 0; }
uint64_t runlog_record_step(const runlog_record *rec) { return rec ? rec->step : 0; }
size_t runlog_record_field_count(const runlog_record *rec) { return rec ? rec->nfields : 0; }
const char *runlog_record_field_key(const runlog_record *rec, size_t i) { return rec && i < rec->nfields ? rec->keys[i] : NULL; }
const runlog_value *runlog_record_field_value(const runlog_record *rec, size_t i) { return rec && i < rec->nfields ? rec->values[i] : NULL; }
const runlog_value *runlog_record_body(const runlog_record *rec) { return rec ? rec->body : NULL; }

const char *rl_record_path(const runlog_record *rec) { return rec->path; }

int rl_record_corrupt(const runlog_record *rec, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return rl_fail_at(RUNLOG_ECORRUPT, rec->path, rec->frame_offset, why);
}

/* The text under key, or NULL when it is missing or not text. */
static const runlog_value *body_text(const runlog_value *body, const char *key)
{
    const runlog_value *v = runlog_value_get(body, key);
    return v && v->type == RUNLOG_STRING ? v : NULL;
}

/* §5.2 alert: "title" and "text" are text ("" when none was given), "level"
 * exactly "INFO", "WARN" or "ERROR". Integer levels, a missing level or a
 * null text are not alerts this format defines: refused, never guessed. */
int runlog_record_alert(const runlog_record *rec, const char **title, size_t *title_len, const char **text,
                        size_t *text_len, runlog_alert_level *level)
{
    static const char *const names[] = { "INFO", "WARN", "ERROR" };
    if (!rec)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    if (rec->type != RUNLOG_RECORD_ALERT)
        return rl_fail(RUNLOG_EINVAL, "%s: byte %llu: a %s record is not an alert", rec->path,
                       (unsigned long long)rec->frame_offset, runlog_record_type_name(rec->type));
    const runlog_value *ti = body_text(rec->body, "title"), *tx = body_text(rec->body, "text"),
                       *lv = body_text(rec->body, "level");
    if (!ti)
        return rl_record_corrupt(rec, "alert: \"title\" is missing or not text");
    if (!tx)
        return rl_record_corrupt(rec, "alert: \"text\" is missing or not text (\"\" when none was given)");
    int l = 0;
    while (lv && l < 3 && !(lv->n == strlen(names[l]) && memcmp(lv->u.s, names[l], lv->n) == 0))
        l++;
    if (!lv || l == 3)
        return rl_record_corrupt(rec, "alert: \"level\" is not the text \"INFO\", \"WARN\" or \"ERROR\"");
    if (title)
        *title = ti->u.s;
    if (title_len)
        *title_len = ti->n;
    if (text)
        *text = tx->u.s;
    if (text_len)
        *text_len = tx->n;
    if (level)
        *level = (runlog_alert_level)l;
    return 0;
}

/* §5.2 console: "stream" is the text "stdout" or "stderr", "data" a byte
 * string (not text: the bytes need not be UTF-8). */
int runlog_record_console(const runlog_record *rec, runlog_stream *stream, const void **data, size_t *len)
{
    if (!rec)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    if (rec->type != RUNLOG_RECORD_CONSOLE)
        return rl_fail(RUNLOG_EINVAL, "%s: byte %llu: a %s record is not console output", rec->path,
                       (unsigned long long)rec->frame_offset, runlog_record_type_name(rec->type));
    const runlog_value *st = body_text(rec->body, "stream"), *d = runlog_value_get(rec->body, "data");
    runlog_stream which;
    if (st && st->n == 6 && memcmp(st->u.s, "stdout", 6) == 0)
        which = RUNLOG_STDOUT;
    else if (st && st->n == 6 && memcmp(st->u.s, "stderr", 6) == 0)
        which = RUNLOG_STDERR;
    else
        return rl_record_corrupt(rec, "console: \"stream\" is not the text \"stdout\" or \"stderr\"");
    if (!d || d->type != RUNLOG_BYTES)
        return rl_record_corrupt(rec, "console: \"data\" is missing or not a byte string");
    if (stream)
        *stream = which;
    if (data)
        *data = d->u.s;
    if (len)
        *len = d->n;
    return 0;
}

/* ---- Whole run ---------------------------------------------------------------- */

/* Deep copies into malloc'd memory (the run outlives the frames). */
static int clone_into(runlog_value *dst, const runlog_value *src)
{
    *dst = *src;
    dst->keys = NULL;
    switch (src->type) {
    case RUNLOG_STRING:
    case RUNLOG_BYTES: {
        char *s = malloc(src->n + 1);
        if (!s)
            return RUNLOG_ENOMEM;
        memcpy(s, src->u.s, src->n);
        s[src->n] = 0;
        dst->u.s = s;
        return 0;
    }
    case RUNLOG_LIST:
    case RUNLOG_MAP:
        dst->u.items = calloc(src->n ? src->n : 1, sizeof *dst->u.items);
        if (!dst->u.items)
            return RUNLOG_ENOMEM;
        if (src->type == RUNLOG_MAP) {
            dst->keys = calloc(src->n ? src->n : 1, sizeof *dst->keys);
            if (!dst->keys)
                return RUNLOG_ENOMEM;
        }
        for (uint32_t i = 0; i < src->n; i++) {
            if (src->type == RUNLOG_MAP) {
                char *k = malloc(src->keys[i].n + 1);
                if (!k)
                    return RUNLOG_ENOMEM;
                memcpy(k, src->keys[i].p, src->keys[i].n + 1);
                dst->keys[i].p = k;
                dst->keys[i].n = src->keys[i].n;
            }
            int rc = clone_into(&dst->u.items[i], &src->u.items[i]);
            if (rc)
                return rc;
        }
        return 0;
    default:
        return 0;
    }
}

static void value_release(runlog_value *v)
{
    switch (v->type) {
    case RUNLOG_STRING:
    case RUNLOG_BYTES:
        free((char *)v->u.s);
        break;
    case RUNLOG_LIST:
    case RUNLOG_MAP:
        for (uint32_t i = 0; v->u.items && i < v->n; i++) {
            value_release(&v->u.items[i]);
            if (v->keys)
                free((char *)v->keys[i].p);
        }
        free(v->u.items);
        free(v->keys);
        break;
    default:
        break;
    }
    v->type = RUNLOG_NULL;
}

/* A map under construction: keys in first-set order, later sets replace. */
typedef struct vmap {
    rl_keymap keys;
    runlog_value *vals;
    size_t cap;
} vmap;

static int vmap_set(vmap *m, const char *key, size_t len, const runlog_value *v)
{
    uint32_t id;
    int rc = rl_keymap_intern(&m->keys, key, len, &id);
    if (rc)
        return rc;
    if (id >= m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        while (cap <= id)
            cap *= 2;
        runlog_value *n = realloc(m->vals, cap * sizeof *n);
        if (!n)
            return RUNLOG_ENOMEM;
        memset(n + m->cap, 0, (cap - m->cap) * sizeof *n);
        m->vals = n;
        m->cap = cap;
    } else {
        value_release(&m->vals[id]);
    }
    return clone_into(&m->vals[id], v);
}

/* A `set` that is missing or not a map sets nothing (spec/FORMAT.md §5.2
 * "Malformed entries"): a list has no keys to read. */
static int vmap_set_all(vmap *m, const runlog_value *map)
{
    if (!map || map->type != RUNLOG_MAP)
        return 0;
    for (size_t i = 0; i < runlog_value_count(map); i++) {
        int rc = vmap_set(m, map->keys[i].p, map->keys[i].n, &map->u.items[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* The map as a value that borrows the vmap's memory. */
static void vmap_view(const vmap *m, runlog_value *out, rl_str *keys)
{
    out->type = RUNLOG_MAP;
    out->n = m->keys.count;
    out->u.items = m->vals;
    out->keys = keys;
    for (uint32_t i = 0; i < m->keys.count; i++)
        keys[i].p = rl_keymap_str(&m->keys, i, &keys[i].n);
}

static void vmap_free(vmap *m)
{
    for (uint32_t i = 0; i < m->keys.count; i++)
        value_release(&m->vals[i]);
    free(m->vals);
    rl_keymap_free(&m->keys);
}

struct runlog_run {
    vmap identity, config, summary_auto, summary_set, summary, metadata;
    runlog_value identity_v, config_v, summary_v, metadata_v;
    rl_str *key_bufs[4];
    runlog_state state;
    int exit_code;
    int64_t end_time, last_time;
    uint64_t rows, first_step, last_step, resumes;
    uint64_t counts[16];
    uint64_t damaged;         /* damaged ranges skipped by the pass (tolerant) */
    int torn;                 /* the pass ended at a torn tail */
    runlog_value artifacts;   /* list of artifact maps (clones) */
    size_t artifacts_cap;
    struct alias_event { char *name; int64_t version; char *alias; } *aliases;
    size_t naliases, aliases_cap;
};

/* An alias given to (name, version): later events take it from others. */
static int alias_event(runlog_run *run, const char *name, int64_t version, const runlog_value *list)
{
    for (size_t i = 0; i < runlog_value_count(list); i++) {
        const runlog_value *a = runlog_value_item(list, i);
        if (a->type != RUNLOG_STRING)
            continue;
        if (run->naliases == run->aliases_cap) {
            size_t cap = run->aliases_cap ? run->aliases_cap * 2 : 16;
            struct alias_event *n = realloc(run->aliases, cap * sizeof *n);
            if (!n)
                return RUNLOG_ENOMEM;
            run->aliases = n;
            run->aliases_cap = cap;
        }
        struct alias_event *e = &run->aliases[run->naliases];
        e->name = strdup(name);
        e->alias = strdup(a->u.s);
        e->version = version;
        if (!e->name || !e->alias) {
            free(e->name);
            free(e->alias);
            return RUNLOG_ENOMEM;
        }
        run->naliases++;
    }
    return 0;
}

static int run_artifact(runlog_run *run, const runlog_value *b)
{
    const char *name = rl_map_text(b, "name");
    int64_t version = rl_map_int(b, "version", -1);
    if (!name || version < 0)
        return 0; /* not an artifact this reader can place; verify reports malformed bodies */
    if (run->artifacts.n == run->artifacts_cap) {
        size_t cap = run->artifacts_cap ? run->artifacts_cap * 2 : 8;
        runlog_value *n = realloc(run->artifacts.u.items, cap * sizeof *n);
        if (!n)
            return RUNLOG_ENOMEM;
        run->artifacts.u.items = n;
        run->artifacts_cap = cap;
    }
    int rc = clone_into(&run->artifacts.u.items[run->artifacts.n], b);
    run->artifacts.n++;
    return rc ? rc : alias_event(run, name, version, runlog_value_get(b, "aliases"));
}

/* Each artifact's "aliases" becomes the aliases it holds at the end. */
static int settle_aliases(runlog_run *run)
{
    for (uint32_t i = 0; i < run->artifacts.n; i++) {
        runlog_value *art = &run->artifacts.u.items[i];
        const char *name = rl_map_text(art, "name");
        int64_t version = rl_map_int(art, "version", -1);
        runlog_value *list = (runlog_value *)runlog_value_get(art, "aliases");
        if (!list)
            continue;
        value_release(list);
        list->type = RUNLOG_LIST;
        list->n = 0;
        list->u.items = calloc(run->naliases + 1, sizeof *list->u.items);
        if (!list->u.items)
            return RUNLOG_ENOMEM;
        for (size_t e = 0; e < run->naliases; e++) {
            struct alias_event *ev = &run->aliases[e];
            if (ev->version != version || strcmp(ev->name, name) != 0)
                continue;
            int held = 1, dup = 0;
            for (size_t later = e + 1; later < run->naliases && held; later++)
                held = !(strcmp(run->aliases[later].name, name) == 0 &&
                         strcmp(run->aliases[later].alias, ev->alias) == 0 && run->aliases[later].version != version);
            for (uint32_t k = 0; k < list->n; k++)
                dup |= strcmp(list->u.items[k].u.s, ev->alias) == 0;
            if (!held || dup)
                continue;
            runlog_value *v = &list->u.items[list->n];
            v->type = RUNLOG_STRING;
            v->n = (uint32_t)strlen(ev->alias);
            if (!(v->u.s = strdup(ev->alias)))
                return RUNLOG_ENOMEM;
            list->n++;
        }
    }
    return 0;
}

static int run_take(runlog_run *run, const runlog_record *rec)
{
    int type = rec->type;
    const runlog_value *b = rec->body;
    if (type < 16)
        run->counts[type]++;
    if (rec->time)
        run->last_time = rec->time;
    switch (type) {
    case RUNLOG_RECORD_HISTORY:
        if (run->rows++ == 0)
            run->first_step = rec->step;
        run->last_step = rec->step;
        for (size_t i = 0; i < rec->nfields; i++) {
            int rc = vmap_set(&run->summary_auto, rec->keys[i], strlen(rec->keys[i]), rec->values[i]);
            if (rc)
                return rc;
        }
        return 0;
    case RUNLOG_RECORD_RUN_START:
        if (run->counts[type] > 1)
            return 0;
        for (size_t i = 0; i < b->n; i++) {
            const char *k = b->keys[i].p;
            if (strcmp(k, "t") == 0) {
                runlog_value t = b->u.items[i];
                int rc = vmap_set(&run->identity, "start_time", 10, &t);
                if (rc)
                    return rc;
            } else {
                int rc = vmap_set(&run->identity, k, b->keys[i].n, &b->u.items[i]);
                if (rc)
                    return rc;
            }
        }
        return 0;
    case RUNLOG_RECORD_CONFIG:
        return vmap_set_all(&run->config, runlog_value_get(b, "set"));
    case RUNLOG_RECORD_SUMMARY:
        return vmap_set_all(&run->summary_set, runlog_value_get(b, "set"));
    case RUNLOG_RECORD_METADATA:
        return vmap_set_all(&run->metadata, runlog_value_get(b, "set"));
    case RUNLOG_RECORD_ARTIFACT:
        return run_artifact(run, b);
    case RUNLOG_RECORD_ALIAS: {
        /* Without a text name and an unsigned version it names no version:
         * it takes no alias from any (§12.5). */
        const char *name = rl_map_text(b, "name");
        int64_t version = rl_map_int(b, "version", -1);
        return name && version >= 0 ? alias_event(run, name, version, runlog_value_get(b, "aliases")) : 0;
    }
    case RUNLOG_RECORD_FINISH: {
        /* A finish without an int exit_code says nothing about how the run
         * ended: it is not read as one (§5.2 "Malformed entries"), rather
         * than as exit code 0. */
        if (!finish_code_ok(b))
            return 0;
        /* The state follows the recorded value, not its int cast: 2^32
         * written by another writer is a failure, not "exit code 0". */
        int64_t code = rl_map_int(b, "exit_code", 0);
        run->exit_code = code < INT_MIN ? INT_MIN : code > INT_MAX ? INT_MAX : (int)code;
        run->state = code == 0 ? RUNLOG_STATE_FINISHED : RUNLOG_STATE_FAILED;
        run->end_time = rec->time;
        return 0;
    }
    case RUNLOG_RECORD_RESUME:
        run->resumes++;
        run->state = RUNLOG_STATE_RUNNING;
        run->end_time = 0;
        return 0;
    default:
        return 0;
    }
}

static int run_finish(runlog_run *run, int lock_held)
{
    /* Summary: the last value of each history key, explicit values on top. */
    for (uint32_t i = 0; i < run->summary_auto.keys.count; i++) {
        uint32_t n;
        const char *k = rl_keymap_str(&run->summary_auto.keys, i, &n);
        int rc = vmap_set(&run->summary, k, n, &run->summary_auto.vals[i]);
        if (rc)
            return rc;
    }
    for (uint32_t i = 0; i < run->summary_set.keys.count; i++) {
        uint32_t n;
        const char *k = rl_keymap_str(&run->summary_set.keys, i, &n);
        int rc = vmap_set(&run->summary, k, n, &run->summary_set.vals[i]);
        if (rc)
            return rc;
    }
    vmap *maps[4] = { &run->identity, &run->config, &run->summary, &run->metadata };
    runlog_value *views[4] = { &run->identity_v, &run->config_v, &run->summary_v, &run->metadata_v };
    for (int i = 0; i < 4; i++) {
        run->key_bufs[i] = calloc(maps[i]->keys.count + 1, sizeof(rl_str));
        if (!run->key_bufs[i])
            return RUNLOG_ENOMEM;
        vmap_view(maps[i], views[i], run->key_bufs[i]);
    }
    int rc = settle_aliases(run);
    if (rc)
        return rc;
    if (run->state == RUNLOG_STATE_RUNNING && !lock_held)
        run->state = RUNLOG_STATE_CRASHED;
    if (!run->end_time)
        run->end_time = run->last_time;
    return 0;
}

int runlog_reader_run(runlog_run **out, runlog_reader *r)
{
    if (!out || !r)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    /* Its own pass over the open file (not runlog_reader_next()'s), never
     * following: the run is what the file holds now. */
    runlog_cursor *pass;
    int rc = cursor_open(&pass, r, r->flags & RUNLOG_READ_TOLERANT);
    if (rc)
        return rc;
    runlog_run *run = calloc(1, sizeof *run);
    if (!run) {
        runlog_cursor_close(pass);
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    }
    run->state = RUNLOG_STATE_RUNNING;
    run->artifacts.type = RUNLOG_LIST;
    const runlog_record *rec;
    while ((rc = runlog_cursor_next(pass, &rec)) == 0) {
        if ((rc = run_take(run, rec))) {
            rc = rl_fail(rc, "%s: %s", r->path, runlog_strerror(rc));
            break;
        }
    }
    if (rc == RUNLOG_ITEROVER && (rc = run_finish(run, rl_lock_held_by_other(r->fd))))
        rc = rl_fail(rc, "%s: %s building the run summary", r->path, runlog_strerror(rc));
    run->damaged = pass->damaged;
    run->torn = pass->torn;
    runlog_cursor_close(pass);
    if (rc) {
        runlog_run_free(run);
        return rc; /* each failure above set a detail naming the file */
    }
    *out = run;
    return 0;
}

/* ---- The run without its histories (runlog_reader_run_summary) ---------------- */

/* Where a key's last value lies: the data frame, the history record (its
 * number among the frame's records), the column, and the row. */
typedef struct last_at {
    uint64_t frame;
    uint32_t record, col, row;
} last_at;

typedef struct light_pass {
    runlog_reader *r;
    runlog_run *run;
    rl_scanner scan;
    rl_frame frame;
    last_at *last;           /* by key id of run->summary_auto */
    size_t last_cap;
    unsigned flags;
    double *floats;          /* light_last_value()'s float column, reused */
    size_t floats_cap;
} light_pass;

static int light_note_key(light_pass *p, const char *key, size_t len, uint32_t *id)
{
    static const runlog_value null_value; /* a placeholder until the value is read */
    vmap *m = &p->run->summary_auto;
    if (rl_keymap_find(&m->keys, key, len, id) == 0)
        return 0;
    int rc = vmap_set(m, key, len, &null_value);
    if (rc || (rc = rl_keymap_find(&m->keys, key, len, id)))
        return rc;
    if (*id >= p->last_cap) {
        size_t cap = p->last_cap ? p->last_cap * 2 : 64;
        while (cap <= *id)
            cap *= 2;
        last_at *n = realloc(p->last, cap * sizeof *n);
        if (!n)
            return RUNLOG_ENOMEM;
        p->last = n;
        p->last_cap = cap;
    }
    p->last[*id].frame = UINT64_MAX;
    return 0;
}

static uint32_t first_row(const rl_hcol *col, uint32_t nrows)
{
    for (uint32_t row = 0; row < nrows; row++)
        if (rl_hcol_present(col, row))
            return row;
    return nrows;
}

static uint32_t last_row(const rl_hcol *col, uint32_t nrows)
{
    for (uint32_t row = nrows; row > 0; row--)
        if (rl_hcol_present(col, row - 1))
            return row - 1;
    return 0;
}

/* A history record seen without decoding its values: rows, steps, times,
 * and for each key where its last value so far lies. Keys are noted in the
 * order the rows would show them (row, then column), as runlog_reader_run()
 * meets them. */
static int light_history(light_pass *p, const rl_history *h, uint64_t frame, uint32_t record)
{
    runlog_run *run = p->run;
    if (h->nrows == 0)
        return 0;
    if (run->rows == 0)
        run->first_step = h->steps[0];
    run->rows += h->nrows;
    run->counts[RUNLOG_RECORD_HISTORY] += h->nrows;
    run->last_step = h->steps[h->nrows - 1];
    for (uint32_t row = h->nrows; row > 0; row--)
        if (h->times[row - 1]) {
            run->last_time = h->times[row - 1];
            break;
        }
    /* Columns by first present row, then descriptor order (a few columns:
     * insertion sort). */
    uint32_t *order = malloc((h->ncols + 1) * sizeof *order), *first = malloc((h->ncols + 1) * sizeof *first);
    int rc = 0;
    if (!order || !first) {
        rc = RUNLOG_ENOMEM;
        goto done;
    }
    uint32_t n = 0;
    for (uint32_t c = 0; c < h->ncols; c++) {
        if (h->cols[c].count == 0)
            continue;
        uint32_t fr = first_row(&h->cols[c], h->nrows), j = n++;
        while (j > 0 && first[j - 1] > fr) {
            order[j] = order[j - 1];
            first[j] = first[j - 1];
            j--;
        }
        order[j] = c;
        first[j] = fr;
    }
    for (uint32_t i = 0; i < n && !rc; i++) {
        const rl_hcol *col = &h->cols[order[i]];
        const rl_str *k = &p->frame.stream.keys[col->key];
        uint32_t id, lr = last_row(col, h->nrows);
        if ((rc = light_note_key(p, k->p, k->n, &id)))
            break;
        last_at *at = &p->last[id];
        /* Two columns of one key (its type changed in the batch): the one
         * present in the later row holds the last value. */
        if (at->frame == frame && at->record == record && at->row > lr)
            continue;
        at->frame = frame;
        at->record = record;
        at->col = order[i];
        at->row = lr;
    }
done:
    free(order);
    free(first);
    return rc;
}

/* A damaged frame or range: tolerant, counted and skipped; strict, the error. */
static int light_damage(light_pass *p, int rc, uint64_t offset, const char *why)
{
    if (rc == RUNLOG_ENOMEM)
        return rl_fail_at(rc, p->r->path, offset, "out of memory decoding the frame");
    rc = reader_damage(p->r, rc, offset, why ? why : "malformed frame");
    if (rc == RUNLOG_EUNSUPPORTED || !(p->flags & RUNLOG_READ_TOLERANT))
        return rc;
    p->run->damaged++;
    return 0;
}

/* One intact data frame: every record but the values of history columns. */
static int light_frame(light_pass *p, const rl_scan_item *it)
{
    rl_frame *f = &p->frame;
    const char *why = NULL;
    int rc = rl_frame_load(f, it, &why);
    uint32_t record = 0;
    rl_record_view v;
    while (!rc && (rc = rl_stream_next(&f->stream, &v, &why)) == 0) {
        uint32_t this = record++;
        if (v.type == RL_REC_HISTORY || v.type == RL_REC_SYSTEM) {
            rl_history h;
            if ((rc = rl_frame_history(f, &v, &h, &why)))
                break;
            if (v.type == RL_REC_HISTORY) {
                rc = light_history(p, &h, it->offset, this);
            } else {
                p->run->counts[RUNLOG_RECORD_SYSTEM] += h.nrows;
                if (h.nrows && h.times[h.nrows - 1])
                    p->run->last_time = h.times[h.nrows - 1];
            }
            if (rc)
                return rl_fail(rc, "%s: %s", p->r->path, runlog_strerror(rc));
            continue;
        }
        int type = public_type(v.type);
        if (!type) {
            if ((rc = record_refused(v.type, &why)))
                break;
            continue;
        }
        rl_cur cur = rl_cur_make(v.body, v.len);
        runlog_value *body;
        if ((rc = rl_cbor_decode(&cur, &f->arena, &body, &why)))
            break;
        if (rl_cur_left(&cur) || body->type != RUNLOG_MAP) {
            why = "record body is not exactly one CBOR map";
            rc = RUNLOG_ECORRUPT;
            break;
        }
        struct runlog_record rec = { 0 };
        rec.type = type;
        rec.path = p->r->path;
        rec.frame_offset = it->offset;
        rec.time = rl_map_int(body, "t", 0);
        rec.body = body;
        if ((rc = run_take(p->run, &rec)))
            return rl_fail(rc, "%s: %s", p->r->path, runlog_strerror(rc));
    }
    if (rc == RUNLOG_ITEROVER)
        return 0;
    return light_damage(p, rc, it->offset, why);
}

/* The last value of column col of the loaded frame. A float column goes
 * through the numeric path (the checks of rl_history_column(), the same
 * errors) into a buffer the pass reuses, not into a runlog_value per value
 * in the frame's arena: a wide run's last frame holds millions of values,
 * of which the summary wants one a key. Other types are decoded whole, as
 * their checks need every value. */
static int light_last_value(light_pass *p, const rl_hcol *col, runlog_value *out, const char **why)
{
    int rc;
    if (col->type == RL_COL_FLOAT && col->block) {
        const uint8_t *raw;
        if ((rc = rl_frame_block(&p->frame, col->block, &raw, why)))
            return rc;
        if (col->count > p->floats_cap) {
            double *n = realloc(p->floats, (size_t)col->count * sizeof *n);
            if (!n)
                return RUNLOG_ENOMEM;
            p->floats = n;
            p->floats_cap = col->count;
        }
        if ((rc = rl_history_column_f64(col, raw + col->offset, p->floats, why)))
            return rc;
        out->type = RUNLOG_FLOAT;
        out->u.f = p->floats[col->count - 1];
        return 0;
    }
    runlog_value *vals;
    if ((rc = rl_frame_column(&p->frame, col, &vals, why)))
        return rc;
    *out = vals[col->count - 1];
    return 0;
}

static int last_cmp(const void *a, const void *b)
{
    const last_at *x = *(const last_at *const *)a, *y = *(const last_at *const *)b;
    return x->frame < y->frame ? -1 : x->frame > y->frame;
}

/* The auto-summary: each key's last value, read from the one column that
 * holds it; each frame that holds a last value is decoded once. */
static int light_values(light_pass *p)
{
    runlog_run *run = p->run;
    uint32_t n = run->summary_auto.keys.count;
    const last_at **order = malloc((n + 1) * sizeof *order);
    int rc = 0;
    if (!order)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++)
        order[i] = &p->last[i];
    qsort(order, n, sizeof *order, last_cmp);
    for (uint32_t i = 0; i < n && !rc;) {
        uint64_t frame = order[i]->frame;
        const char *why = NULL;
        rl_scan_item it;
        uint32_t end = i;
        while (end < n && order[end]->frame == frame)
            end++;
        if ((rc = rl_scanner_frame_at(&p->scan, frame, &it)) ||
            (rc = rl_frame_load(&p->frame, &it, &why))) {
            rc = rc == RUNLOG_ENOMEM || why ? rl_fail_at(rc, p->r->path, frame, why ? why : "out of memory")
                                            : rc;
            break;
        }
        /* The frame's history records, in order; each key's value from its record. */
        rl_record_view v;
        uint32_t record = 0;
        while (!rc && i < end && (rc = rl_stream_next(&p->frame.stream, &v, &why)) == 0) {
            uint32_t this = record++;
            int wanted = 0;
            for (uint32_t k = i; k < end; k++)
                wanted |= order[k]->record == this;
            if (!wanted)
                continue;
            rl_history h;
            if ((rc = rl_frame_history(&p->frame, &v, &h, &why)))
                break;
            for (uint32_t k = i; k < end && !rc; k++) {
                if (order[k]->record != this)
                    continue;
                const rl_hcol *col = &h.cols[order[k]->col];
                runlog_value last;
                if ((rc = light_last_value(p, col, &last, &why))) {
                    /* Tolerant: counted as damage, the key keeps no value. */
                    if (rc != RUNLOG_ENOMEM && rc != RUNLOG_EUNSUPPORTED && (p->flags & RUNLOG_READ_TOLERANT)) {
                        run->damaged++;
                        rc = 0;
                        continue;
                    }
                    break;
                }
                uint32_t id = (uint32_t)(order[k] - p->last), len;
                const char *key = rl_keymap_str(&run->summary_auto.keys, id, &len);
                if ((rc = vmap_set(&run->summary_auto, key, len, &last)))
                    break;
            }
        }
        if (rc == RUNLOG_ITEROVER)
            rc = 0;
        if (rc)
            rc = rc == RUNLOG_ENOMEM ? rl_fail(rc, "%s: out of memory", p->r->path)
                                     : rl_fail_at(rc, p->r->path, frame, why ? why : "malformed frame");
        i = end;
    }
    free(order);
    return rc;
}

/* The run pass's policy for each item of the walk. */
static int light_walk_frame(void *ctx, const rl_scan_item *it)
{
    light_pass *p = ctx;
    return it->h.kind == RL_FRAME_DATA ? light_frame(p, it) : other_frame(p->r, it);
}

static int light_walk_damage(void *ctx, const rl_scan_item *it)
{
    return light_damage(ctx, scan_damage_code(it), it->offset, it->why);
}

static int light_walk_end(void *ctx, const rl_scan_item *it)
{
    ((light_pass *)ctx)->run->torn = it->kind == RL_SCAN_TORN;
    return 0;
}

int runlog_reader_run_summary(runlog_run **out, runlog_reader *r)
{
    if (!out || !r)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    light_pass p = { 0 };
    p.r = r;
    p.flags = r->flags & RUNLOG_READ_TOLERANT;
    if (!(p.run = calloc(1, sizeof *p.run)))
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    p.run->state = RUNLOG_STATE_RUNNING;
    p.run->artifacts.type = RUNLOG_LIST;
    rl_scanner_init(&p.scan, r->fd, r->path, &r->hdr, RL_FILE_HEADER_SIZE);
    static const rl_walk_ops ops = { .frame = light_walk_frame, .damage = light_walk_damage,
                                     .end = light_walk_end };
    int rc = rl_scan_walk(&p.scan, &ops, &p);
    if (!rc)
        rc = light_values(&p);
    if (!rc && (rc = run_finish(p.run, rl_lock_held_by_other(r->fd))))
        rc = rl_fail(rc, "%s: %s building the run summary", r->path, runlog_strerror(rc));
    rl_frame_free(&p.frame);
    rl_scanner_free(&p.scan);
    free(p.last);
    free(p.floats);
    if (rc) {
        runlog_run_free(p.run);
        return rc;
    }
    *out = p.run;
    return 0;
}

int runlog_reader_writer_alive(const runlog_reader *r)
{
    return r ? rl_lock_held_by_other(r->fd) : 0;
}

uint64_t runlog_run_damage_count(const runlog_run *run) { return run ? run->damaged : 0; }
int runlog_run_torn(const runlog_run *run) { return run ? run->torn : 0; }

void runlog_run_free(runlog_run *run)
{
    if (!run)
        return;
    vmap_free(&run->identity);
    vmap_free(&run->config);
    vmap_free(&run->summary_auto);
    vmap_free(&run->summary_set);
    vmap_free(&run->summary);
    vmap_free(&run->metadata);
    value_release(&run->artifacts);
    for (size_t i = 0; i < run->naliases; i++) {
        free(run->aliases[i].name);
        free(run->aliases[i].alias);
    }
    free(run->aliases);
    for (int i = 0; i < 4; i++)
        free(run->key_bufs[i]);
    free(run);
}

const runlog_value *runlog_run_identity(const runlog_run *run) { return run ? &run->identity_v : NULL; }
const runlog_value *runlog_run_config(const runlog_run *run) { return run ? &run->config_v : NULL; }
const runlog_value *runlog_run_metadata(const runlog_run *run) { return run ? &run->metadata_v : NULL; }
const runlog_value *runlog_run_artifacts(const runlog_run *run) { return run ? &run->artifacts : NULL; }
const runlog_value *runlog_run_summary(const runlog_run *run) { return run ? &run->summary_v : NULL; }
runlog_state runlog_run_state(const runlog_run *run) { return run ? run->state : RUNLOG_STATE_CRASHED; }
int runlog_run_exit_code(const runlog_run *run) { return run ? run->exit_code : 0; }
int64_t runlog_run_end_time(const runlog_run *run) { return run ? run->end_time : 0; }
uint64_t runlog_run_rows(const runlog_run *run) { return run ? run->rows : 0; }
uint64_t runlog_run_last_step(const runlog_run *run) { return run ? run->last_step : 0; }
uint64_t rl_run_first_step(const runlog_run *run) { return run ? run->first_step : 0; }
uint64_t runlog_run_resumes(const runlog_run *run) { return run ? run->resumes : 0; }
uint64_t runlog_run_record_count(const runlog_run *run, int type)
{
    return run && type >= 0 && type < 16 ? run->counts[type] : 0;
}
size_t runlog_run_key_count(const runlog_run *run) { return run ? run->summary_auto.keys.count : 0; }
const char *runlog_run_key(const runlog_run *run, size_t i)
{
    return run && i < run->summary_auto.keys.count ? rl_keymap_str(&run->summary_auto.keys, (uint32_t)i, NULL) : NULL;
}

const char *runlog_state_name(runlog_state state)
{
    switch (state) {
    case RUNLOG_STATE_RUNNING: return "running";
    case RUNLOG_STATE_FINISHED: return "finished";
    case RUNLOG_STATE_FAILED: return "failed";
    case RUNLOG_STATE_CRASHED: return "crashed";
    }
    return "unknown";
}

/* ---- One key's history ---------------------------------------------------------- */

struct runlog_history {
    size_t len, cap;
    uint64_t *steps;
    int64_t *times;
    double *values;
    uint8_t *types;
    int64_t *ints;           /* exact ints and bools; allocated once one appears */
    runlog_value **others;   /* strings and structured values; allocated once one appears */
    rl_arena arena;          /* non-numeric values live here */
    runlog_value scratch;
    uint64_t frames_read;
    uint64_t bytes_decoded;  /* block bytes the reads decoded (decompressed or raw) */
    uint32_t *files;         /* a run set's merged history: the file of each entry */
};

/* Grows array `field` of history h to cap entries (big_realloc), or returns
 * RUNLOG_ENOMEM from the function it is used in: the one growth of a
 * history's arrays, for the one-key and the all-keys reads. */
#define GROW(field)                                                     \
    do {                                                                \
        void *grown_ = big_realloc(h->field, cap * sizeof *h->field);   \
        if (!grown_)                                                    \
            return RUNLOG_ENOMEM;                                       \
        h->field = grown_;                                              \
    } while (0)

/* Large arrays are 2 MiB-aligned and marked for transparent huge pages: a
 * history of millions of points is otherwise mostly page faults. The memory
 * is still freed with free() and grown with realloc(). */
static void *big_realloc(void *old, size_t bytes)
{
    enum { HUGE = 2u << 20 };
    if (old || bytes < 2 * (size_t)HUGE) {
        void *p = realloc(old, bytes);
#ifdef MADV_POPULATE_WRITE
        if (p && bytes >= (1u << 20)) { /* fault the pages in in one call, not one trap each */
            uintptr_t lo = ((uintptr_t)p + 4095) & ~(uintptr_t)4095, hi = ((uintptr_t)p + bytes) & ~(uintptr_t)4095;
            if (hi > lo)
                madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
        }
#endif
        return p;
    }
    void *p;
    size_t size = (bytes + HUGE - 1) / HUGE * HUGE;
    if (posix_memalign(&p, HUGE, size) != 0)
        return NULL;
    madvise(p, size, MADV_HUGEPAGE); /* a hint; ignored where unsupported */
    return p;
}

static int hist_grow(runlog_history *h, size_t extra)
{
    if (h->len + extra <= h->cap)
        return 0;
    /* The first size is what is asked (the all-keys read keeps thousands of
     * histories, most of them short), then doubling. */
    size_t cap = h->cap ? h->cap : (extra > 16 ? extra : 16);
    while (cap < h->len + extra)
        cap *= 2;
    GROW(steps);
    GROW(times);
    GROW(values);
    GROW(types);
    if (h->ints)
        GROW(ints);
    if (h->others)
        GROW(others);
    if (h->files)
        GROW(files);
    h->cap = cap;
    return 0;
}

/* Allocates ints or others (zeroed for the entries before) on first need. */
static int hist_need(runlog_history *h, int others)
{
    void **p = others ? (void **)&h->others : (void **)&h->ints;
    if (!*p && !(*p = calloc(h->cap ? h->cap : 1, 8)))
        return RUNLOG_ENOMEM;
    return 0;
}

static int hist_copy_value(runlog_history *h, size_t i, const runlog_value *v)
{
    h->types[i] = v->type;
    if (h->others)
        h->others[i] = NULL;
    if (h->ints)
        h->ints[i] = 0;
    switch (v->type) {
    case RUNLOG_FLOAT: h->values[i] = v->u.f; return 0;
    case RUNLOG_INT:
    case RUNLOG_BOOL:
        if (hist_need(h, 0))
            return RUNLOG_ENOMEM;
        h->ints[i] = v->type == RUNLOG_INT ? v->u.i : v->u.b;
        h->values[i] = (double)h->ints[i];
        return 0;
    case RUNLOG_NULL: h->values[i] = NAN; return 0;
    default: {
        if (hist_need(h, 1))
            return RUNLOG_ENOMEM;
        /* Non-numeric: kept as CBOR and decoded again into the history's arena. */
        rl_buf tmp = { 0 };
        int rc = rl_cbor_value(&tmp, v);
        if (!rc) {
            rl_cur c = rl_cur_make(tmp.p, tmp.len);
            const char *why;
            rc = rl_cbor_decode(&c, &h->arena, &h->others[i], &why);
        }
        rl_buf_free(&tmp);
        h->values[i] = NAN;
        return rc;
    }
    }
}

/* Whether the columns of one key take the fast path of hist_fill(): one
 * numeric column; *type the type of its entries. */
static int hist_fast(const rl_history *hr, const uint32_t *cols, uint32_t ncols, uint8_t *type)
{
    const rl_hcol *c0 = &hr->cols[cols[0]];
    *type = c0->type == RL_COL_FLOAT ? RUNLOG_FLOAT : RUNLOG_INT;
    return ncols == 1 && (c0->type == RL_COL_FLOAT || c0->type == RL_COL_INT);
}

/* Appends to h, which has room for them, the values of columns
 * cols[0..ncols) of history record hr (frame f), the columns of one key:
 * the one rule for turning a record's columns into a key's entries, used by
 * the one-key read (hist_append()) and the all-keys read (all_append())
 * alike. rows: write each entry's step and time (0: h shares the record's
 * rows); types: write the type of each entry of the fast path (0: h knows
 * they all have it). */
static int hist_fill(runlog_history *h, rl_frame *f, const rl_history *hr, const uint32_t *cols,
                     uint32_t ncols, int rows, int types, const char **why)
{
    const rl_hcol *c0 = &hr->cols[cols[0]];
    uint8_t type;
    int rc;
    if (hist_fast(hr, cols, ncols, &type)) {
        const uint8_t *raw;
        if ((rc = rl_frame_block(f, c0->block, &raw, why)) ||
            (rc = rl_history_column_f64(c0, raw + c0->offset, h->values + h->len, why)))
            return rc;
        size_t j = h->len;
        if (!c0->bitmap) {
            if (rows) {
                memcpy(h->steps + j, hr->steps, hr->nrows * sizeof *hr->steps);
                memcpy(h->times + j, hr->times, hr->nrows * sizeof *hr->times);
            }
            if (types)
                memset(h->types + j, type, hr->nrows);
            if (h->others)
                memset(h->others + j, 0, hr->nrows * sizeof *h->others);
        }
        for (uint32_t r = 0; c0->bitmap && r < hr->nrows; r++) {
            if (!rl_hcol_present(c0, r))
                continue;
            if (rows) {
                h->steps[j] = hr->steps[r];
                h->times[j] = hr->times[r];
            }
            if (types)
                h->types[j] = type;
            if (h->others)
                h->others[j] = NULL;
            j++;
        }
        if (c0->type == RL_COL_INT) {
            /* Exact values: decode the ints again (doubles lose above 2^53). */
            runlog_value *vals;
            if ((rc = hist_need(h, 0)) || (rc = rl_frame_column(f, c0, &vals, why)))
                return rc;
            for (uint32_t i = 0; i < c0->count; i++)
                h->ints[h->len + i] = vals[i].u.i;
        }
        h->len += c0->count;
        return 0;
    }
    runlog_value *vals[RL_COL_NTYPES];
    uint32_t pos[RL_COL_NTYPES] = { 0 };
    for (uint32_t i = 0; i < ncols; i++) {
        if ((rc = rl_frame_column(f, &hr->cols[cols[i]], &vals[i], why)))
            return rc;
    }
    for (uint32_t r = 0; r < hr->nrows; r++) {
        for (uint32_t i = 0; i < ncols; i++) {
            const rl_hcol *col = &hr->cols[cols[i]];
            if (!rl_hcol_present(col, r))
                continue;
            if (rows) {
                h->steps[h->len] = hr->steps[r];
                h->times[h->len] = hr->times[r];
            }
            if ((rc = hist_copy_value(h, h->len, &vals[i][pos[i]++])))
                return rc;
            h->len++;
        }
    }
    return 0;
}

/* hist_fill() for the one-key read. */
static int hist_append(runlog_history *h, rl_frame *f, const rl_history *hr, const uint32_t *cols,
                       uint32_t ncols, const char **why)
{
    /* Columns of one key entry never share a row, but a key table that
     * names the key twice could: room for every column's values. */
    int rc = hist_grow(h, (size_t)hr->nrows * ncols);
    return rc ? rc : hist_fill(h, f, hr, cols, ncols, 1, 1, why);
}

/* What an index entry claims about a data frame (§7.1): its history keys
 * and rows, checked against the frame when it is decoded (issue 17: a
 * checksummed index may still lie). */
typedef struct entry_claim {
    uint64_t offset;
    uint64_t rows;
    uint32_t nkeys;
    const uint32_t *keys;    /* indices into names (the lookup's arena) */
    const rl_str *names;     /* the index frame's key table (the lookup's arena) */
    int has_key;             /* it lists the key being read */
} entry_claim;

static int same_str(const rl_str *a, const rl_str *b)
{
    return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

/* 0 when the history keys and rows of the loaded frame f are exactly what
 * its entry claims; else RUNLOG_ECORRUPT and *why. mark[k]: local key k
 * names a history column of the frame; rows: the frame's history rows.
 * Keys compare as sets of names. */
static int check_claim(rl_frame *f, const entry_claim *claim, const uint8_t *mark, uint64_t rows,
                       const char **why)
{
    uint32_t nkeys = f->stream.nkeys;
    if (rows != claim->rows) {
        *why = "its index entry gives another number of history rows than the frame holds";
        return RUNLOG_ECORRUPT;
    }
    uint32_t *used = rl_arena_alloc_raw(&f->arena, ((size_t)nkeys + 1) * sizeof *used);
    if (!used)
        return RUNLOG_ENOMEM;
    uint32_t n = 0;
    for (uint32_t k = 0; k < nkeys; k++)
        if (mark[k])
            used[n++] = k;
    /* runlog lists a frame's keys in the order of its key table: then the
     * names compare one by one. */
    int same = n == claim->nkeys;
    for (uint32_t i = 0; same && i < n; i++)
        same = same_str(&f->stream.keys[used[i]], &claim->names[claim->keys[i]]);
    if (!same) {
        /* Any other order: the two sets of names, hashed. */
        uint64_t *a = rl_arena_alloc_raw(&f->arena, ((size_t)n + 1) * sizeof *a);
        uint64_t *b = rl_arena_alloc_raw(&f->arena, ((size_t)claim->nkeys + 1) * sizeof *b);
        if (!a || !b)
            return RUNLOG_ENOMEM;
        for (uint32_t i = 0; i < n; i++)
            a[i] = XXH3_64bits(f->stream.keys[used[i]].p, f->stream.keys[used[i]].n);
        for (uint32_t i = 0; i < claim->nkeys; i++)
            b[i] = XXH3_64bits(claim->names[claim->keys[i]].p, claim->names[claim->keys[i]].n);
        size_t na = rl_hash_set(a, n), nb = rl_hash_set(b, claim->nkeys);
        same = na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
    }
    if (!same) {
        *why = "its index entry lists other history keys than the frame holds";
        return RUNLOG_ECORRUPT;
    }
    return 0;
}

/* Appends the key's values from one data frame. claim: the frame's index
 * entry, checked against the frame (NULL when the frame was found by a
 * scan). */
static int hist_frame_loaded(runlog_history *h, rl_frame *ws, const char *key,
                             const entry_claim *claim, const char **why);

static int hist_frame(runlog_history *h, rl_frame *ws, const rl_scan_item *it, const char *key,
                      const entry_claim *claim, const char **why)
{
    int rc = rl_frame_load(ws, it, why);
    if (rc) {
        h->bytes_decoded += ws->decoded;
        ws->decoded = 0;
        return rc;
    }
    return hist_frame_loaded(h, ws, key, claim, why);
}

/* hist_frame() of a frame loaded already (its stream at its first record). */
static int hist_frame_loaded(runlog_history *h, rl_frame *ws, const char *key,
                             const entry_claim *claim, const char **why)
{
#define f (*ws)
    int rc = 0;
    uint8_t *mark = NULL; /* with a claim: the frame's history keys */
    uint64_t rows = 0;
    if (claim && !(mark = rl_arena_alloc(&f.arena, (size_t)f.stream.nkeys + 1))) {
        rc = RUNLOG_ENOMEM;
        goto done;
    }
    /* A key table may name the key more than once (a system metric of the
     * same name has its own entry): mark every entry that matches. */
    size_t klen = strlen(key);
    uint8_t *match = rl_arena_alloc(&f.arena, f.stream.nkeys + 1);
    int any = 0;
    if (!match) {
        rc = RUNLOG_ENOMEM;
        goto done;
    }
    for (uint32_t i = 0; i < f.stream.nkeys; i++)
        if (f.stream.keys[i].n == klen && memcmp(f.stream.keys[i].p, key, klen) == 0)
            any = match[i] = 1;
    h->frames_read++;
    rl_record_view v;
    if (!any && !claim) { /* nothing to read here, but a frame to refuse (§5) */
        while ((rc = rl_stream_next(&f.stream, &v, why)) == 0)
            if ((rc = record_refused(v.type, why)))
                goto done;
        rc = rc == RUNLOG_ITEROVER ? 0 : rc;
        goto done;
    }
    while ((rc = rl_stream_next(&f.stream, &v, why)) == 0) {
        if (v.type != RL_REC_HISTORY) {
            if ((rc = record_refused(v.type, why)))
                goto done;
            continue;
        }
        rl_history hr;
        if ((rc = rl_frame_history(&f, &v, &hr, why)))
            goto done;
        if (mark) {
            for (uint32_t c = 0; c < hr.ncols; c++)
                mark[hr.cols[c].key] = 1;
            rows += hr.nrows;
        }
        if (!any)
            continue;
        uint32_t cols[RL_COL_NTYPES], ncols = 0;
        for (uint32_t c = 0; c < hr.ncols && ncols < RL_COL_NTYPES; c++)
            if (match[hr.cols[c].key])
                cols[ncols++] = c;
        if (ncols == 0)
            continue;
        if ((rc = hist_append(h, &f, &hr, cols, ncols, why)))
            goto done;
    }
    if (rc == RUNLOG_ITEROVER)
        rc = mark ? check_claim(&f, claim, mark, rows, why) : 0;
done:
    h->bytes_decoded += f.decoded;
    f.decoded = 0;
    return rc;
#undef f
}

/* Data frame offsets holding key, from the trailer and index chain.
 * 0 and a list; RUNLOG_ENOTFOUND when the file has no usable index. */
typedef struct span {
    uint64_t offset, size;
} span;

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int add_span(span **spans, size_t *n, size_t *cap, uint64_t offset, uint64_t size)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        span *p = realloc(*spans, c * sizeof *p);
        if (!p)
            return RUNLOG_ENOMEM;
        *spans = p;
        *cap = c;
    }
    (*spans)[(*n)++] = (span){ offset, size };
    return 0;
}

/* The index is trusted only if its frames and the frames it lists tile the
 * file from the header to the final trailer, with nothing between them but
 * the trailers of earlier closes (§7): a lying or partial index is then
 * noticed and the caller scans instead. */
static int index_tiles_file(rl_scanner *s, span *spans, size_t n, uint64_t end)
{
    if (n)
        qsort(spans, n, sizeof *spans, span_cmp);
    uint64_t cur = RL_FILE_HEADER_SIZE;
    for (size_t i = 0; i <= n; i++) {
        uint64_t next = i < n ? spans[i].offset : end;
        while (cur < next) {
            rl_scan_item it;
            if (rl_scanner_frame_at(s, cur, &it) || it.h.kind != RL_FRAME_TRAILER || it.length > next - cur)
                return 0;
            cur += it.length;
        }
        if (cur != next)
            return 0;
        if (i < n) {
            if (spans[i].size < RL_FRAME_HEADER_SIZE || spans[i].size > end - cur)
                return 0;
            cur += spans[i].size;
        }
    }
    return 1;
}

static int claim_cmp(const void *a, const void *b)
{
    const entry_claim *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Every index entry, in file order, with what it claims about its frame
 * (keys in arena) and whether it lists key; *rows: the rows of those that
 * do. */
static int index_lookup(runlog_reader *r, const char *key, rl_arena *arena, entry_claim **out, size_t *n,
                        uint64_t *rows)
{
    span *spans = NULL;
    size_t nspans = 0, spans_cap = 0;
    uint64_t size = rl_file_size(r->fd);
    if (size < RL_FILE_HEADER_SIZE + RL_TRAILER_SIZE)
        return RUNLOG_ENOTFOUND;
    rl_scanner s;
    rl_scanner_init(&s, r->fd, r->path, &r->hdr, size - RL_TRAILER_SIZE);
    rl_scan_item it;
    rl_frame f = { 0 };
    entry_claim *list = NULL;
    size_t len = 0, cap = 0;
    int rc = rl_scanner_next(&s, &it);
    rl_trailer t;
    const char *why;
    if (rc || it.kind != RL_SCAN_FRAME || it.h.kind != RL_FRAME_TRAILER ||
        rl_trailer_decode(&t, it.payload, it.h.payload_size, &why)) {
        rc = RUNLOG_ENOTFOUND;
        goto done;
    }
    uint64_t at = t.index_offset, limit = size - RL_TRAILER_SIZE;
    size_t klen = strlen(key);
    while (at != UINT64_MAX) {
        if (at >= limit || rl_scanner_frame_at(&s, at, &it) || it.h.kind != RL_FRAME_INDEX) {
            rc = RUNLOG_ENOTFOUND;
            goto done;
        }
        rl_record_view v;
        rl_index idx;
        if (rl_frame_load(&f, &it, &why) ||
            rl_stream_next(&f.stream, &v, &why) || v.type != RL_REC_INDEX ||
            rl_index_decode(&idx, v.body, v.len, f.stream.nkeys, &f.arena, &why)) {
            rc = RUNLOG_ENOTFOUND;
            goto done;
        }
        if (add_span(&spans, &nspans, &spans_cap, at, it.length)) {
            rc = RUNLOG_ENOMEM;
            goto done;
        }
        for (uint32_t e = 0; e < idx.nentries; e++)
            if (add_span(&spans, &nspans, &spans_cap, idx.entries[e].offset, idx.entries[e].size)) {
                rc = RUNLOG_ENOMEM;
                goto done;
            }
        uint8_t *match = rl_arena_alloc(&f.arena, f.stream.nkeys + 1);
        /* The index frame's key table, kept for the claims (copied once;
         * the frame's workspace is reused for the next index frame). */
        rl_str *names = rl_arena_alloc_raw(arena, ((size_t)f.stream.nkeys + 1) * sizeof *names);
        if (!match || !names) {
            rc = RUNLOG_ENOMEM;
            goto done;
        }
        for (uint32_t k = 0; k < f.stream.nkeys; k++) {
            match[k] = f.stream.keys[k].n == klen && memcmp(f.stream.keys[k].p, key, klen) == 0;
            uint8_t *p = rl_arena_alloc_raw(arena, f.stream.keys[k].n + 1);
            if (!p) {
                rc = RUNLOG_ENOMEM;
                goto done;
            }
            memcpy(p, f.stream.keys[k].p, f.stream.keys[k].n);
            names[k] = (rl_str){ .p = (const char *)p, .n = f.stream.keys[k].n };
        }
        /* Every entry: the first read through the index checks them all. */
        for (uint32_t e = 0; e < idx.nentries; e++) {
            const rl_index_entry *en = &idx.entries[e];
            if (len == cap) {
                cap = cap ? cap * 2 : 64;
                entry_claim *nl = realloc(list, cap * sizeof *nl);
                if (!nl) {
                    rc = RUNLOG_ENOMEM;
                    goto done;
                }
                list = nl;
            }
            uint32_t *keys = rl_arena_alloc_raw(arena, ((size_t)en->nkeys + 1) * sizeof *keys);
            if (!keys) {
                rc = RUNLOG_ENOMEM;
                goto done;
            }
            if (en->nkeys) /* keys is NULL for none */
                memcpy(keys, en->keys, (size_t)en->nkeys * sizeof *keys);
            int has = 0;
            for (uint32_t j = 0; j < en->nkeys && !has; j++)
                has = match[en->keys[j]];
            list[len++] = (entry_claim){ en->offset, en->rows, en->nkeys, keys, names, has };
            if (has)
                *rows += en->rows;
        }
        limit = at; /* the chain goes strictly backwards: no loops */
        at = idx.prev_offset;
    }
    if (!index_tiles_file(&s, spans, nspans, size - RL_TRAILER_SIZE)) {
        rc = RUNLOG_ENOTFOUND;
        goto done;
    }
    /* Entries come newest index first; frames must be read in file order. */
    if (len > 1)
        qsort(list, len, sizeof *list, claim_cmp);
    *out = list;
    *n = len;
    list = NULL;
    rc = 0;
done:
    free(list);
    free(spans);
    rl_frame_free(&f);
    rl_scanner_free(&s);
    return rc;
}

/* Notes a data frame and its key hashes for the next runlog_reader_history(). */
static int remember_frame(runlog_reader *r, uint64_t offset, const rl_stream *st)
{
    if (r->nscanned == r->scanned_cap) {
        size_t cap = r->scanned_cap ? r->scanned_cap * 2 : 64;
        struct scanned_frame *n = realloc(r->scanned, cap * sizeof *n);
        if (!n)
            return RUNLOG_ENOMEM;
        r->scanned = n;
        r->scanned_cap = cap;
    }
    struct scanned_frame *sf = &r->scanned[r->nscanned];
    sf->offset = offset;
    sf->nkeys = st->nkeys;
    sf->hashes = rl_arena_alloc_raw(&r->scanned_arena, (st->nkeys + 1) * sizeof *sf->hashes);
    if (!sf->hashes)
        return RUNLOG_ENOMEM;
    for (uint32_t k = 0; k < st->nkeys; k++)
        sf->hashes[k] = XXH3_64bits(st->keys[k].p, st->keys[k].n);
    r->nscanned++;
    return 0;
}

static void hist_reset(runlog_history *h)
{
    h->len = 0;
    h->frames_read = 0;
    h->bytes_decoded = 0;
    rl_arena_reset(&h->arena);
}

/* The whole-file scan of runlog_reader_history: every data frame's values
 * of the key, and each frame noted for the next call. */
typedef struct hist_pass {
    runlog_reader *r;
    runlog_history *h;
    rl_frame *ws;
    const char *key;
    const char **why;
    uint64_t *at; /* the frame being read, for an out-of-memory detail */
} hist_pass;

static int hist_walk_frame(void *ctx, const rl_scan_item *it)
{
    hist_pass *p = ctx;
    runlog_reader *r = p->r;
    if (it->h.kind != RL_FRAME_DATA)
        return 0;
    size_t before = p->h->len;
    *p->at = it->offset;
    int rc = hist_frame(p->h, p->ws, it, p->key, NULL, p->why);
    if (rc) {
        if (rc == RUNLOG_ENOMEM)
            return rc;
        rc = reader_damage(r, rc, it->offset, *p->why ? *p->why : "malformed frame");
        if (!(r->flags & RUNLOG_READ_TOLERANT) || rc == RUNLOG_EUNSUPPORTED)
            return rc;
        p->h->len = before; /* drop the partial frame */
        return 0;
    }
    return remember_frame(r, it->offset, &p->ws->stream);
}

static int hist_walk_damage(void *ctx, const rl_scan_item *it)
{
    runlog_reader *r = ((hist_pass *)ctx)->r;
    if (r->flags & RUNLOG_READ_TOLERANT)
        return 0;
    return reader_damage(r, scan_damage_code(it), it->offset, it->why);
}

/* The key table of the frame read last, to tell whether the next frame
 * repeats it byte for byte (a writer repeats its key table frame after
 * frame): a pass that keeps ids by key index then need not look 10,000
 * names up again each frame. The one such comparison of the key map and
 * the all-keys read. */
typedef struct table_memo {
    uint8_t *bytes;
    size_t len, cap;
    int valid;
} table_memo;

/* 1 when the key table of f (just loaded: block 0 up to its first record)
 * is the one remembered; else remembers f's and returns 0 (out of memory:
 * remembers none, and the next frame is looked up afresh too). */
static int table_repeats(table_memo *t, const rl_frame *f)
{
    size_t len = f->stream.cur.pos;
    if (t->valid && len == t->len && memcmp(t->bytes, f->block0_bytes, len) == 0)
        return 1;
    t->valid = 0;
    if (len > t->cap) {
        uint8_t *b = realloc(t->bytes, len);
        if (!b)
            return 0;
        t->bytes = b;
        t->cap = len;
    }
    memcpy(t->bytes, f->block0_bytes, len);
    t->len = len;
    t->valid = 1;
    return 0;
}

static void table_memo_free(table_memo *t)
{
    free(t->bytes);
    memset(t, 0, sizeof *t);
}

/* ---- The key map: where each key's columns are (spec/FORMAT.md §7.1,
 * "Reading one key with a key map"). One scan decodes every data frame's
 * record stream (no value blocks) and keeps, per key, its columns'
 * descriptors and their records' steps and times; a read of any key then
 * decodes just its blocks: block 0 (a wide run's key table and tens of
 * thousands of column descriptors a frame) is not decoded again.
 *
 * In a sealed file (§4.1) the scan reads each data frame's header,
 * directory and block 0 only, and the map keeps the directory, so that a
 * key's read reads and checks just its own blocks: the map is built by the
 * first read. In an unsealed file the scan reads every frame whole, and a
 * key's read must read and checksum each frame that holds the key whole
 * again: the map is built by the second read (a reader that opens once and
 * reads many keys, as the Python reader does).
 *
 * Built from a scan, not from the index, so an index cannot mislead it.
 * Valid while the file keeps the size it had; a scan that met damage, or a
 * map over its memory budget, is not kept (reads go on as before). ---- */

typedef struct map_rec {
    uint32_t frame;
    uint32_t nrows;
    uint64_t *steps;         /* map arena */
    int64_t *times;
} map_rec;

typedef struct map_col {
    uint32_t rec;
    uint32_t key;
    rl_hcol col;             /* bitmap copied into the map arena */
} map_col;

typedef struct key_map {
    uint64_t size;           /* the file size it describes */
    uint64_t build_decoded;  /* block bytes its scan decoded and the data frames it read, */
    uint64_t build_frames;   /* counted by the read that built it */
    /* The data frames: where, and the payload checksum the map was built
     * from (a frame rewritten in place since is not the one mapped); in a
     * sealed file, its block directory (blocks, stored == NULL), whose
     * checksums each block read is checked against. */
    struct map_frame { uint64_t offset, checksum; uint32_t size, nblocks; rl_block *blocks; } *frames;
    int sealed;
    size_t nframes, frames_cap;
    map_rec *recs;
    size_t nrecs, recs_cap;
    map_col *cols;
    size_t ncols, cols_cap;
    rl_keymap names;
    uint32_t *first;         /* by key id: its columns are order[first[id] .. first[id + 1]) */
    uint32_t *order;         /* column indices, by key, in file order */
    rl_arena arena;
    uint64_t bytes;          /* memory held, against KEY_MAP_MAX_BYTES */
    int bad;                 /* damage, a limit or memory: not kept */
    rl_frame ws;
    /* The previous frame's key table and the map's id of each of its keys
     * (+ 1; 0: not met yet), kept while frames repeat it. */
    table_memo table;
    uint32_t *table_ids;
} key_map;

/* Past this the map is not kept (a very long run: 16 bytes a row of steps
 * and times, 48 a column descriptor). */
#define KEY_MAP_MAX_BYTES ((uint64_t)512 << 20)

static void key_map_free(key_map *m)
{
    if (!m)
        return;
    free(m->frames);
    free(m->recs);
    free(m->cols);
    free(m->first);
    free(m->order);
    free(m->table_ids);
    table_memo_free(&m->table);
    rl_keymap_free(&m->names);
    rl_arena_reset(&m->arena);
    rl_frame_free(&m->ws);
    free(m);
}

static int grow(void **p, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 256;
    void *q = realloc(*p, c * elem);
    if (!q)
        return RUNLOG_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

/* Adds the data frame f of scan item it (loaded: its stream at its first
 * record) to the map. */
static int key_map_frame(key_map *m, rl_frame *f, const rl_scan_item *it)
{
    const char *why;
    if (grow((void **)&m->frames, &m->frames_cap, m->nframes, sizeof *m->frames))
        return RUNLOG_ENOMEM;
    uint32_t frame = (uint32_t)m->nframes;
    struct map_frame *mf = &m->frames[m->nframes++];
    *mf = (struct map_frame){ it->offset, it->h.payload_checksum, it->h.payload_size, 0, NULL };
    if (m->sealed) {
        size_t bl = (size_t)f->payload.nblocks * sizeof *mf->blocks;
        if (!(mf->blocks = rl_arena_alloc_raw(&m->arena, bl)))
            return RUNLOG_ENOMEM;
        memcpy(mf->blocks, f->payload.blocks, bl);
        for (uint32_t i = 0; i < f->payload.nblocks; i++)
            mf->blocks[i].stored = NULL;
        mf->nblocks = f->payload.nblocks;
        m->bytes += bl;
    }
    if (!m->table_ids || !table_repeats(&m->table, f)) {
        free(m->table_ids);
        if (!(m->table_ids = calloc((size_t)f->stream.nkeys + 1, sizeof *m->table_ids)))
            return RUNLOG_ENOMEM;
    }
    uint32_t *id_of = m->table_ids;
    rl_record_view v;
    int rc;
    while ((rc = rl_stream_next(&f->stream, &v, &why)) == 0) {
        if (v.type != RL_REC_HISTORY) {
            if ((rc = record_refused(v.type, &why)))
                return rc;
            continue;
        }
        rl_history hr;
        if (rl_frame_history(f, &v, &hr, &why))
            return RUNLOG_ECORRUPT;
        if (grow((void **)&m->recs, &m->recs_cap, m->nrecs, sizeof *m->recs))
            return RUNLOG_ENOMEM;
        map_rec *mr = &m->recs[m->nrecs];
        size_t st = (size_t)hr.nrows * sizeof *mr->steps;
        mr->frame = frame;
        mr->nrows = hr.nrows;
        mr->steps = rl_arena_alloc_raw(&m->arena, st);
        mr->times = rl_arena_alloc_raw(&m->arena, st);
        if (!mr->steps || !mr->times)
            return RUNLOG_ENOMEM;
        memcpy(mr->steps, hr.steps, st);
        memcpy(mr->times, hr.times, st);
        m->bytes += 2 * st + sizeof *mr;
        uint32_t rec = (uint32_t)m->nrecs++;
        for (uint32_t c = 0; c < hr.ncols; c++) {
            const rl_hcol *col = &hr.cols[c];
            if (!id_of[col->key]) {
                uint32_t id;
                const rl_str *name = &f->stream.keys[col->key];
                if (rl_keymap_intern(&m->names, name->p, name->n, &id))
                    return RUNLOG_ETOOLARGE;
                id_of[col->key] = id + 1;
            }
            if (grow((void **)&m->cols, &m->cols_cap, m->ncols, sizeof *m->cols))
                return RUNLOG_ENOMEM;
            map_col *mc = &m->cols[m->ncols++];
            mc->rec = rec;
            mc->key = id_of[col->key] - 1;
            mc->col = *col;
            if (col->bitmap) {
                size_t bl = ((size_t)hr.nrows + 7) / 8;
                uint8_t *b = rl_arena_alloc_raw(&m->arena, bl);
                if (!b)
                    return RUNLOG_ENOMEM;
                memcpy(b, col->bitmap, bl);
                mc->col.bitmap = b;
                m->bytes += bl;
            }
            m->bytes += sizeof *mc;
        }
        if (m->bytes > KEY_MAP_MAX_BYTES || m->ncols >= UINT32_MAX / 2)
            return RUNLOG_ETOOLARGE;
    }
    return rc == RUNLOG_ITEROVER ? 0 : RUNLOG_ECORRUPT;
}

/* The first read of a sealed file builds the map, unless the first data
 * frame has more keys than this: a map of every key of a frame of 10,000
 * costs more than the read (3.1 ms against 1.2 for one key of 1,000 rows,
 * keys1e7-10000), which a reader of one key (`runlog history`) never gets
 * back. That read then reads the key only, from the same parts of each
 * frame (spec/FORMAT.md §4.1), and the second read builds the map. At
 * 1,000 keys a frame (`wide`) the map costs a fifth of the read. */
#ifndef KEY_MAP_FIRST_READ_KEYS /* a fuzzing build sets it low, to reach both ways */
#define KEY_MAP_FIRST_READ_KEYS 4096u
#endif

typedef struct map_pass {
    key_map *m;
    hist_pass *first;  /* the first read of a sealed file, else NULL */
    int key_only;      /* first: its first data frame was too wide for a map */
    int decided;
} map_pass;

static int key_map_walk_frame(void *ctx, const rl_scan_item *it)
{
    map_pass *p = ctx;
    if (it->h.kind != RL_FRAME_DATA) {
        if (it->h.kind != RL_FRAME_INDEX && it->h.kind != RL_FRAME_TRAILER && !(it->h.kind & RL_IGNORABLE))
            return RUNLOG_EUNSUPPORTED;
        return 0;
    }
    rl_frame *f = &p->m->ws;
    const char *why;
    if (rl_frame_load(f, it, &why))
        return RUNLOG_ECORRUPT;
    if (p->first && !p->decided) {
        p->key_only = f->stream.nkeys > KEY_MAP_FIRST_READ_KEYS;
        p->decided = 1;
    }
    if (p->key_only) {
        *p->first->at = it->offset;
        return hist_frame_loaded(p->first->h, f, p->first->key, NULL, p->first->why);
    }
    return key_map_frame(p->m, f, it);
}

static int key_map_walk_damage(void *ctx, const rl_scan_item *it)
{
    (void)it;
    return RUNLOG_ECORRUPT; /* a damaged file is read as before, without a map */
}

/* The map of r's file, or NULL (then reads go on without one). first: the
 * first read of a sealed file (see KEY_MAP_FIRST_READ_KEYS); when its first
 * data frame is too wide, the pass reads first's key into first->h instead,
 * builds no map, and says so in *key_only, with *key_rc its result: 0, or
 * (any damage, anything that does not decode) an error, h then holding
 * nothing certain. */
static key_map *key_map_build(runlog_reader *r, hist_pass *first, int *key_only, int *key_rc)
{
    *key_only = 0;
    key_map *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->sealed = (r->hdr.incompat_flags & RL_INCOMPAT_SEALED_BLOCKS) != 0;
    rl_scanner s;
    rl_scanner_init(&s, r->fd, r->path, &r->hdr, RL_FILE_HEADER_SIZE);
    const rl_walk_ops ops = { .frame = key_map_walk_frame, .damage = key_map_walk_damage,
                              .head_only = m->sealed };
    map_pass p = { .m = m, .first = first };
    int rc = rl_scan_walk(&s, &ops, &p);
    if (p.key_only) {
        *key_only = 1;
        *key_rc = rc;
        rc = RUNLOG_ENOTFOUND; /* no map */
    }
    m->size = s.size;
    m->build_decoded = m->ws.decoded;
    m->build_frames = m->nframes;
    rl_scanner_free(&s);
    rl_frame_free(&m->ws);
    table_memo_free(&m->table);
    free(m->table_ids);
    m->table_ids = NULL;
    uint32_t nkeys = m->names.count;
    if (!rc && (!(m->first = calloc((size_t)nkeys + 2, sizeof *m->first)) ||
                !(m->order = malloc((m->ncols + 1) * sizeof *m->order))))
        rc = RUNLOG_ENOMEM;
    if (rc) {
        key_map_free(m);
        return NULL;
    }
    /* Counting sort of the columns by key, file order kept within a key. */
    for (size_t c = 0; c < m->ncols; c++)
        m->first[m->cols[c].key + 2]++;
    for (uint32_t k = 0; k < nkeys; k++)
        m->first[k + 2] += m->first[k + 1];
    for (size_t c = 0; c < m->ncols; c++)
        m->order[m->first[m->cols[c].key + 1]++] = (uint32_t)c;
    return m;
}

/* key's history from the map: 0; RUNLOG_ENOTFOUND (the map knows every
 * key: no history); anything else (a frame that no longer checks out, the
 * file changed) and the caller drops the map and reads as before. */
static int key_map_read(runlog_reader *r, key_map *m, runlog_history *h, const char *key,
                        const char **why)
{
    uint32_t id;
    if (rl_keymap_find(&m->names, key, strlen(key), &id) != 0)
        return RUNLOG_ENOTFOUND;
    uint32_t lo = m->first[id], hi = m->first[id + 1];
    uint64_t rows = 0;
    for (uint32_t i = lo; i < hi; i++)
        rows += m->recs[m->cols[m->order[i]].rec].nrows;
    if (rows <= (1u << 28) && hist_grow(h, (size_t)rows))
        return RUNLOG_ENOMEM;
    rl_scanner s;
    rl_scanner_init(&s, r->fd, r->path, &r->hdr, RL_FILE_HEADER_SIZE);
    rl_frame *f = &m->ws;
    uint32_t loaded = UINT32_MAX;
    int rc = 0;
    for (uint32_t i = lo; i < hi && !rc;) {
        const map_col *mc = &m->cols[m->order[i]];
        const map_rec *mr = &m->recs[mc->rec];
        if (mr->frame != loaded && m->sealed) {
            /* The directory the map checked; each block is read and
             * checked against its checksum as it is decoded (§4.1). */
            const struct map_frame *mf = &m->frames[mr->frame];
            if ((rc = rl_frame_load_kept(f, mf->blocks, mf->nblocks, r->fd,
                                         mf->offset + RL_FRAME_HEADER_SIZE, why)))
                break;
            loaded = mr->frame;
            h->frames_read++;
        } else if (mr->frame != loaded) {
            rl_scan_item it;
            /* Read and checked as a scan checks it: header, checksum,
             * directory; the record stream is the one the map decoded. */
            const struct map_frame *mf = &m->frames[mr->frame];
            if ((rc = rl_scanner_frame_at(&s, mf->offset, &it)))
                break;
            if (it.h.kind != RL_FRAME_DATA || it.h.payload_checksum != mf->checksum ||
                it.h.payload_size != mf->size) {
                rc = RUNLOG_ECORRUPT;
                break;
            }
            if ((rc = rl_frame_load_dir(f, &it, why)))
                break;
            loaded = mr->frame;
            h->frames_read++;
        }
        /* The key's columns of one record (one per value type it took). */
        rl_hcol cols[RL_COL_NTYPES];
        uint32_t idx[RL_COL_NTYPES], n = 0;
        for (; i < hi && m->cols[m->order[i]].rec == mc->rec; i++)
            if (n < RL_COL_NTYPES) {
                cols[n] = m->cols[m->order[i]].col;
                idx[n] = n;
                n++;
            }
        rl_history hr = { mr->nrows, mr->steps, mr->times, n, cols };
        rc = hist_append(h, f, &hr, idx, n, why);
    }
    h->bytes_decoded += f->decoded;
    f->decoded = 0;
    rl_scanner_free(&s);
    return rc;
}

int runlog_reader_history(runlog_history **out, runlog_reader *r, const char *key)
{
    if (!out || !r || !key)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    runlog_history *h = calloc(1, sizeof *h);
    if (!h)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    entry_claim *claims = NULL;
    rl_arena claim_arena = { 0 };
    size_t n = 0;
    const char *why = NULL;
    rl_frame ws = { 0 };
    uint64_t rows = 0;
    uint64_t at = 0; /* the frame being read, for an out-of-memory detail */
    /* Map where every key is, once, and read this key and the next ones
     * from the map: at the first read of a sealed file (the map costs its
     * frames' block 0s; but see KEY_MAP_FIRST_READ_KEYS), at the second of
     * another (the map costs a pass over its frames, which a second key
     * would cost anyway). */
    uint64_t size_now = rl_file_size(r->fd);
    if (r->map && r->map->size != size_now) {
        key_map_free(r->map);
        r->map = NULL;
    }
    int sealed = (r->hdr.incompat_flags & RL_INCOMPAT_SEALED_BLOCKS) != 0;
    uint64_t nth_read = r->history_reads++;
    if (!r->map && nth_read >= (sealed ? 0u : 1u) && r->map_refused_size != size_now + 1) {
        hist_pass first = { .r = r, .h = h, .key = key, .why = &why, .at = &at };
        int key_only, krc = 0;
        r->map = key_map_build(r, sealed && nth_read == 0 ? &first : NULL, &key_only, &krc);
        if (key_only && (krc == 0 || krc == RUNLOG_ENOMEM)) {
            if (krc == 0 && h->len > 0) {
                *out = h;
                return 0;
            }
            runlog_history_free(h);
            if (krc == RUNLOG_ENOMEM)
                return rl_fail(krc, "%s: byte %llu: out of memory reading the history of \"%s\"",
                               r->path, (unsigned long long)at, key);
            return rl_fail(RUNLOG_ENOTFOUND, "%s: key \"%s\" has no history", r->path, key);
        }
        if (key_only) { /* damage, or a frame that does not decode: as before */
            hist_reset(h);
            why = NULL;
        } else if (!r->map) {
            r->map_refused_size = size_now + 1;
        }
    }
    if (r->map) {
        h->bytes_decoded += r->map->build_decoded; /* once: the read that built it */
        h->frames_read += r->map->build_frames;
        r->map->build_decoded = r->map->build_frames = 0;
        int mrc = key_map_read(r, r->map, h, key, &why);
        if (mrc == 0 && h->len > 0) {
            *out = h;
            return 0;
        }
        if (mrc == RUNLOG_ENOTFOUND || (mrc == 0 && h->len == 0)) {
            runlog_history_free(h);
            return rl_fail(RUNLOG_ENOTFOUND, "%s: key \"%s\" has no history", r->path, key);
        }
        if (mrc == RUNLOG_ENOMEM) {
            runlog_history_free(h);
            return rl_fail(mrc, "%s: out of memory reading the history of \"%s\"", r->path, key);
        }
        /* The file changed under the map: without it, as before. */
        key_map_free(r->map);
        r->map = NULL;
        hist_reset(h);
    }
    int rc = index_lookup(r, key, &claim_arena, &claims, &n, &rows);
    /* The rows of the frames holding the key bound its length: one allocation. */
    if (rc == 0 && rows <= (1u << 28) && hist_grow(h, (size_t)rows))
        rc = RUNLOG_ENOMEM;
    uint64_t size = rl_file_size(r->fd);
    /* The first read through the index (of this reader, at this file size)
     * decodes every frame the index lists and checks each against its
     * entry, so that an entry that leaves the key out is noticed too; later
     * reads decode only the frames whose entries list the key (§7.2). */
    int check_all = !(r->index_checked && r->index_checked_size == size);
    if (rc == 0) {
        rl_scanner s;
        rl_scanner_init(&s, r->fd, r->path, &r->hdr, RL_FILE_HEADER_SIZE);
        for (size_t i = 0; i < n && !rc; i++) {
            rl_scan_item it;
            if (!check_all && !claims[i].has_key)
                continue;
            at = claims[i].offset;
            rc = rl_scanner_frame_at(&s, claims[i].offset, &it);
            if (!rc && it.h.kind == RL_FRAME_DATA)
                rc = hist_frame(h, &ws, &it, key, &claims[i], &why);
            else if (!rc)
                rc = RUNLOG_ECORRUPT;
        }
        rl_scanner_free(&s);
        if (rc == RUNLOG_EUNSUPPORTED) {
            /* Not the index's doing: a frame a reader must refuse (§5). */
            rc = reader_damage(r, rc, at, why ? why : "unsupported contents");
        } else if (rc && rc != RUNLOG_ENOMEM) {
            /* An index that misleads: say so, as other damage is said, and
             * fall back to scanning (§7.2). */
            rl_fail_at(rc, r->path, at, why ? why : "the index names a frame that does not check out");
            if (!r->index_notice)
                r->index_notice = strdup(runlog_error_detail()); /* NULL on OOM: no notice */
            hist_reset(h);
            rc = RUNLOG_ENOTFOUND;
        } else if (!rc && check_all) {
            r->index_checked = 1;
            r->index_checked_size = size;
        }
    }
    free(claims);
    rl_arena_reset(&claim_arena);
    uint64_t key_hash = XXH3_64bits(key, strlen(key));
    if (rc == RUNLOG_ENOTFOUND && r->scanned_ok && r->scanned_size == rl_file_size(r->fd)) {
        /* A scan of this file was done before: read the frames that hold it. */
        rl_scanner s;
        rl_scanner_init(&s, r->fd, r->path, &r->hdr, RL_FILE_HEADER_SIZE);
        rc = 0;
        for (size_t i = 0; i < r->nscanned && !rc; i++) {
            const struct scanned_frame *sf = &r->scanned[i];
            int has = 0;
            for (uint32_t k = 0; k < sf->nkeys && !has; k++)
                has = sf->hashes[k] == key_hash;
            rl_scan_item it;
            at = sf->offset;
            if (has && !(rc = rl_scanner_frame_at(&s, sf->offset, &it)))
                rc = hist_frame(h, &ws, &it, key, NULL, &why);
        }
        rl_scanner_free(&s);
        if (rc && rc != RUNLOG_ENOMEM) { /* the file changed under us: scan again */
            hist_reset(h);
            r->scanned_ok = 0;
            rc = RUNLOG_ENOTFOUND;
        }
    }
    if (rc == RUNLOG_ENOTFOUND) {
        rl_scanner s;
        rl_scanner_init(&s, r->fd, r->path, &r->hdr, RL_FILE_HEADER_SIZE);
        r->nscanned = 0;
        r->scanned_ok = 0;
        rl_arena_reset(&r->scanned_arena);
        static const rl_walk_ops ops = { .frame = hist_walk_frame, .damage = hist_walk_damage };
        hist_pass p = { .r = r, .h = h, .ws = &ws, .key = key, .why = &why, .at = &at };
        rc = rl_scan_walk(&s, &ops, &p);
        if (!rc) {
            r->scanned_ok = 1;
            r->scanned_size = s.size;
        }
        rl_scanner_free(&s);
    }
    rl_frame_free(&ws);
    if (!rc && h->len == 0)
        rc = rl_fail(RUNLOG_ENOTFOUND, "%s: key \"%s\" has no history", r->path, key);
    if (rc) {
        if (rc == RUNLOG_ENOMEM)
            rl_fail(rc, "%s: byte %llu: out of memory reading the history of \"%s\" (%zu values read)",
                    r->path, (unsigned long long)at, key, h->len);
        runlog_history_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

const char *runlog_reader_index_notice(const runlog_reader *r) { return r ? r->index_notice : NULL; }

/* ---- Every key's history in one pass -------------------------------------------- */

/* Memory carved for many arrays, freed at once: every key's values (and
 * types) of a set lie in a few big chunks (huge pages past 4 MiB) rather
 * than in two allocations a key, faulted in 4 KiB at a time. */
typedef struct all_arena {
    uint8_t **chunks;
    size_t n, cap;
    uint8_t *at, *end;       /* the rest of the last chunk */
    size_t next;             /* the size of the next chunk */
} all_arena;

struct runlog_histories {
    rl_keymap names;         /* key -> id, in order of first appearance */
    runlog_history **h;      /* by id */
    size_t cap;
    uint32_t *order;         /* ids of the keys with at least one entry */
    size_t n;
    uint64_t frames_read, bytes_decoded;
    /* What the histories borrow instead of owning (runlog_histories_free()
     * gives it back): a wide run is thousands of keys logged at the same
     * steps, and writing every step and time once per key was a third of
     * the pass (16 of 25 bytes a point, most of them page faults). */
    uint8_t *borrow;         /* by id: ALL_ROWS, ALL_SLAB */
    uint64_t *row_steps;     /* every history record's rows whose columns */
    int64_t *row_times;      /* were shared, in file order (ALL_ROWS) */
    size_t nrows, rows_cap;
    all_arena values, types; /* every key's values and types (ALL_SLAB) */
    uint8_t *same_types[2];  /* len bytes RUNLOG_INT, RUNLOG_FLOAT (ALL_TYPES) */
};

/* Borrowed arrays of a history of the set (hs->borrow). */
enum {
    ALL_ROWS = 1, /* steps and times are hs->row_*[start, start + len) */
    ALL_SLAB = 2, /* values and types lie in the arenas (cap entries) */
    ALL_TYPES = 4 /* types is hs->same_types[]: one type throughout */
};

/* all_pass.utype: a key whose entries so far all came from numeric columns
 * of one type has its types written only when that ends (or never). */
enum { ALL_WRITTEN = 0xff }; /* else the type + 1 (0: no entry yet) */

/* The all-keys pass: each data frame decoded once, each history column
 * appended to its key's history. */
typedef struct all_pass {
    runlog_reader *r;
    runlog_histories *hs;
    rl_frame ws;
    uint32_t *gid;           /* by local key index of the frame: id + 1, 0 not yet */
    size_t gid_cap;
    /* Per id: the record that last counted it and its columns there. */
    uint32_t *seen_rec, *ncols_rec;
    /* The entries each key had before the frame, to drop a frame that
     * fails half-way (tolerant mode). */
    struct undo { uint32_t id; size_t len; } *undo;
    size_t nundo, undo_cap;
    uint32_t *undo_frame;    /* per id: the frame (+1) it was noted for */
    size_t per_id_cap;
    uint32_t frame_no, rec_no;
    const char *why;
    uint64_t at;
    int over_limit;          /* more distinct keys than the reader takes */
    rl_keymap hint_names;    /* rows_hint(): key -> hint id */
    uint64_t *hint;          /* entries expected, by hint id; NULL: none */
    size_t chunk;            /* the arenas' chunk size past the first (values) */
    size_t rows_hint;        /* the most entries a key expects: hs->row_*'s first size */
    uint64_t size, done;     /* the file's size; where the frame being read ends */
    size_t *start;           /* per id: ALL_ROWS's start */
    uint8_t *utype;          /* per id: ALL_WRITTEN or the one type + 1 */
    size_t frame_rows;       /* hs->nrows before the frame */
    table_memo table;        /* the last frame's key table, while gid holds its ids */
    size_t rec_rows;         /* the record's rows in hs->row_*; SIZE_MAX: not there */
} all_pass;

static int all_per_id(all_pass *p, uint32_t id)
{
    if (id < p->per_id_cap)
        return 0;
    size_t cap = p->per_id_cap ? p->per_id_cap : 256;
    while (cap <= id)
        cap *= 2;
    uint32_t **arrays[] = { &p->seen_rec, &p->ncols_rec, &p->undo_frame };
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++) {
        uint32_t *a = realloc(*arrays[i], cap * sizeof *a);
        if (!a)
            return RUNLOG_ENOMEM;
        memset(a + p->per_id_cap, 0, (cap - p->per_id_cap) * sizeof *a);
        *arrays[i] = a;
    }
    size_t *start = realloc(p->start, cap * sizeof *start);
    if (!start)
        return RUNLOG_ENOMEM;
    p->start = start;
    uint8_t *utype = realloc(p->utype, cap);
    if (!utype)
        return RUNLOG_ENOMEM;
    memset(utype + p->per_id_cap, 0, cap - p->per_id_cap);
    p->utype = utype;
    runlog_histories *hs = p->hs;
    uint8_t *borrow = realloc(hs->borrow, cap);
    if (!borrow)
        return RUNLOG_ENOMEM;
    memset(borrow + p->per_id_cap, 0, cap - p->per_id_cap);
    hs->borrow = borrow;
    if (cap > hs->cap) {
        runlog_history **h = realloc(hs->h, cap * sizeof *h);
        if (!h)
            return RUNLOG_ENOMEM;
        memset(h + hs->cap, 0, (cap - hs->cap) * sizeof *h);
        hs->h = h;
        hs->cap = cap;
    }
    p->per_id_cap = cap;
    return 0;
}

/* How many entries each key will get, from the index when the file has one:
 * a hint only, for sizing each history once (thousands of histories grown
 * by doubling spend as long in realloc as in decoding). Nothing is checked
 * and nothing depends on it: a wrong or lying index costs memory within
 * the caps below, never an answer. 0 when there is no usable hint. */
static int rows_hint(runlog_reader *r, rl_keymap *names, uint64_t **rows)
{
    uint64_t size = rl_file_size(r->fd);
    if (size < RL_FILE_HEADER_SIZE + RL_TRAILER_SIZE)
        return 0;
    rl_scanner s;
    rl_scanner_init(&s, r->fd, r->path, &r->hdr, size - RL_TRAILER_SIZE);
    rl_scan_item it;
    rl_frame f = { 0 };
    rl_trailer t;
    const char *why;
    uint64_t *by_id = NULL, total = 0;
    size_t cap = 0;
    int ok = rl_scanner_next(&s, &it) == 0 && it.kind == RL_SCAN_FRAME && it.h.kind == RL_FRAME_TRAILER &&
             rl_trailer_decode(&t, it.payload, it.h.payload_size, &why) == 0;
    uint64_t at = ok ? t.index_offset : UINT64_MAX, limit = size - RL_TRAILER_SIZE;
    while (ok && at != UINT64_MAX) {
        rl_record_view v;
        rl_index idx;
        if (at >= limit || rl_scanner_frame_at(&s, at, &it) || it.h.kind != RL_FRAME_INDEX ||
            rl_frame_load(&f, &it, &why) || rl_stream_next(&f.stream, &v, &why) ||
            v.type != RL_REC_INDEX || rl_index_decode(&idx, v.body, v.len, f.stream.nkeys, &f.arena, &why)) {
            ok = 0;
            break;
        }
        uint32_t *id_of = rl_arena_alloc(&f.arena, ((size_t)f.stream.nkeys + 1) * sizeof *id_of);
        if (!id_of) {
            ok = 0;
            break;
        }
        for (uint32_t e = 0; ok && e < idx.nentries; e++) {
            const rl_index_entry *en = &idx.entries[e];
            for (uint32_t j = 0; ok && j < en->nkeys; j++) {
                uint32_t k = en->keys[j];
                if (!id_of[k]) {
                    uint32_t id;
                    if (rl_keymap_intern(names, f.stream.keys[k].p, f.stream.keys[k].n, &id)) {
                        ok = 0;
                        break;
                    }
                    if (id >= cap) {
                        size_t c = cap ? cap * 2 : 256;
                        while (c <= id)
                            c *= 2;
                        uint64_t *n = realloc(by_id, c * sizeof *n);
                        if (!n) {
                            ok = 0;
                            break;
                        }
                        memset(n + cap, 0, (c - cap) * sizeof *n);
                        by_id = n;
                        cap = c;
                    }
                    id_of[k] = id + 1;
                }
                uint64_t *slot = &by_id[id_of[k] - 1];
                /* At most 2^24 entries a key, and in all no more than 16 a byte
                 * of the file: past that the hint is not believed. */
                *slot += en->rows;
                total += en->rows;
                if (*slot > (1u << 24) || total / 16 > size)
                    ok = 0;
            }
        }
        limit = at;
        at = idx.prev_offset;
    }
    rl_frame_free(&f);
    rl_scanner_free(&s);
    if (!ok) {
        free(by_id);
        rl_keymap_free(names);
        memset(names, 0, sizeof *names);
        return 0;
    }
    *rows = by_id;
    return 1;
}

/* bytes from arena a (8-aligned); NULL: out of memory. A new chunk is
 * a->next bytes (or bytes), the chunks after it `chunk`. */
static void *all_carve(all_arena *a, size_t bytes, size_t chunk)
{
    bytes = (bytes + 7) & ~(size_t)7;
    if ((size_t)(a->end - a->at) < bytes) {
        size_t size = a->next > bytes ? a->next : bytes;
        if (a->n == a->cap) {
            size_t cap = a->cap ? a->cap * 2 : 8;
            uint8_t **c = realloc(a->chunks, cap * sizeof *c);
            if (!c)
                return NULL;
            a->chunks = c;
            a->cap = cap;
        }
        uint8_t *c = big_realloc(NULL, size);
        if (!c)
            return NULL;
        a->chunks[a->n++] = c;
        a->at = c;
        a->end = c + size;
        a->next = chunk;
    }
    void *out = a->at;
    a->at += bytes;
    return out;
}

static void all_arena_free(all_arena *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->chunks[i]);
    free(a->chunks);
}

/* Room for extra more entries in key id's history: hist_grow(), but for
 * the arrays the history borrows (the record rows are not its own; values
 * and types are carved from the arenas, moved to a bigger piece when they
 * outgrow theirs). */
static int all_grow(all_pass *p, uint32_t id, size_t extra)
{
    runlog_history *h = p->hs->h[id];
    uint8_t *b = &p->hs->borrow[id];
    if (h->len + extra <= h->cap)
        return 0;
    size_t cap = h->cap ? h->cap : (extra > 16 ? extra : 16);
    while (cap < h->len + extra)
        cap *= 2;
    if (h->cap && !p->hint && p->done && p->done < p->size) {
        /* Growing again without an index to size it (a crashed run): room
         * for as many entries as the rest of the file holds at this rate,
         * not five doublings of every key of a wide run. */
        double guess = (double)(h->len + extra) * ((double)p->size / (double)p->done);
        if (guess > (double)cap && guess < (double)(1u << 24))
            cap = (size_t)guess + 16;
    }
    double *v = all_carve(&p->hs->values, cap * sizeof *v, p->chunk);
    uint8_t *t = all_carve(&p->hs->types, cap, p->chunk / 8);
    if (!v || !t)
        return RUNLOG_ENOMEM;
    if (h->len) {
        memcpy(v, h->values, h->len * sizeof *v);
        if (p->utype[id] == ALL_WRITTEN) /* (else not written yet) */
            memcpy(t, h->types, h->len);
    }
    h->values = v;
    h->types = t;
    *b |= ALL_SLAB;
    if (!(*b & ALL_ROWS)) {
        GROW(steps);
        GROW(times);
    }
    if (h->ints)
        GROW(ints);
    if (h->others)
        GROW(others);
    h->cap = cap;
    return 0;
}

/* Gives key id steps and times of its own (cap entries), copied from the
 * record rows it shared: its next entries are not the rows that follow. */
static int all_own_rows(all_pass *p, uint32_t id)
{
    runlog_history *h = p->hs->h[id];
    int rc;
    if (h->cap == 0 && (rc = all_grow(p, id, 1)))
        return rc;
    uint64_t *steps = big_realloc(NULL, h->cap * sizeof *steps);
    int64_t *times = big_realloc(NULL, h->cap * sizeof *times);
    if (!steps || !times) {
        free(steps);
        free(times);
        return RUNLOG_ENOMEM;
    }
    if (h->len) {
        memcpy(steps, p->hs->row_steps + p->start[id], h->len * sizeof *steps);
        memcpy(times, p->hs->row_times + p->start[id], h->len * sizeof *times);
    }
    h->steps = steps;
    h->times = times;
    p->hs->borrow[id] &= (uint8_t)~ALL_ROWS;
    return 0;
}

/* Where the rows of history record hr start in hs->row_*, copied there
 * at the first key that shares them. */
static int all_rows_here(all_pass *p, const rl_history *hr, size_t *out)
{
    runlog_histories *hs = p->hs;
    if (p->rec_rows == SIZE_MAX) {
        if (hs->nrows + hr->nrows > hs->rows_cap) {
            size_t cap = hs->rows_cap ? hs->rows_cap : p->rows_hint > 1024 ? p->rows_hint : 1024;
            while (cap < hs->nrows + hr->nrows)
                cap *= 2;
            uint64_t *s = big_realloc(hs->row_steps, cap * sizeof *s);
            if (!s)
                return RUNLOG_ENOMEM;
            hs->row_steps = s;
            int64_t *t = big_realloc(hs->row_times, cap * sizeof *t);
            if (!t)
                return RUNLOG_ENOMEM;
            hs->row_times = t;
            hs->rows_cap = cap;
        }
        memcpy(hs->row_steps + hs->nrows, hr->steps, hr->nrows * sizeof *hr->steps);
        memcpy(hs->row_times + hs->nrows, hr->times, hr->nrows * sizeof *hr->times);
        p->rec_rows = hs->nrows;
        hs->nrows += hr->nrows;
    }
    *out = p->rec_rows;
    return 0;
}

/* Whether key id's next entries, of type t, need their types written:
 * not while every entry has that one type (all_types() fills them in, or
 * points them at hs->same_types[]). t: ALL_WRITTEN for other values. */
static int all_types_due(all_pass *p, uint32_t id, uint8_t t)
{
    runlog_history *h = p->hs->h[id];
    uint8_t *u = &p->utype[id];
    if (h->len == 0 && t != ALL_WRITTEN) {
        *u = (uint8_t)(t + 1);
        return 0;
    }
    if (t != ALL_WRITTEN && *u == t + 1)
        return 0;
    if (*u != ALL_WRITTEN && h->len)
        memset(h->types, *u - 1, h->len);
    *u = ALL_WRITTEN;
    return 1;
}

/* hist_fill() for the all-keys pass: a key whose every entry so far is a
 * run of the record rows (one column present in every row of each record,
 * the shape of a wide run) keeps sharing them rather than copying steps
 * and times, and a key whose entries all have one type leaves them
 * unwritten (all_types_due()). */
static int all_append(all_pass *p, uint32_t id, const rl_history *hr, const uint32_t *cols,
                      uint32_t ncols)
{
    runlog_history *h = p->hs->h[id];
    const rl_hcol *c0 = &hr->cols[cols[0]];
    int rc, shared = 0;
    if ((rc = all_grow(p, id, (size_t)hr->nrows * ncols)))
        return rc;
    if (p->hs->borrow[id] & ALL_ROWS) {
        size_t at;
        if (ncols == 1 && !c0->bitmap) {
            if ((rc = all_rows_here(p, hr, &at)))
                return rc;
            if (h->len == 0)
                p->start[id] = at;
            shared = p->start[id] + h->len == at;
        }
        if (!shared && (rc = all_own_rows(p, id)))
            return rc;
    }
    uint8_t type;
    /* (the other entries' types hist_copy_value() writes) */
    int types = all_types_due(p, id, hist_fast(hr, cols, ncols, &type) ? type : ALL_WRITTEN);
    return hist_fill(h, &p->ws, hr, cols, ncols, !shared, types, &p->why);
}

/* The id of local key k of the loaded frame, the key interned on first use
 * (system metric names never become keys: only history columns ask). */
static int all_key(all_pass *p, uint32_t k, uint32_t *out)
{
    if (p->gid[k]) {
        *out = p->gid[k] - 1;
        return 0;
    }
    const rl_str *name = &p->ws.stream.keys[k];
    uint32_t id;
    int rc = rl_keymap_intern(&p->hs->names, (const char *)name->p, name->n, &id);
    if (rc == RUNLOG_EINVAL) { /* the stream checked the key: not reached */
        p->why = "a key the reader cannot take";
        return RUNLOG_ECORRUPT;
    }
    if (rc == RUNLOG_ETOOLARGE)
        p->over_limit = 1; /* the reader's limit, not damage */
    if (rc || (rc = all_per_id(p, id)))
        return rc;
    if (!p->hs->h[id]) {
        runlog_history *h = p->hs->h[id] = calloc(1, sizeof *h);
        if (!h)
            return RUNLOG_ENOMEM;
        /* Every key starts out sharing the record rows (all_append()). */
        p->hs->borrow[id] = ALL_ROWS;
        uint32_t hid;
        if (p->hint && rl_keymap_find(&p->hint_names, (const char *)name->p, name->n, &hid) == 0 &&
            p->hint[hid] > 0) {
            if (all_grow(p, id, (size_t)p->hint[hid]))
                return RUNLOG_ENOMEM;
        }
    }
    p->gid[k] = id + 1;
    *out = id;
    return 0;
}

static int all_note_undo(all_pass *p, uint32_t id)
{
    if (p->undo_frame[id] == p->frame_no)
        return 0;
    if (p->nundo == p->undo_cap) {
        size_t cap = p->undo_cap ? p->undo_cap * 2 : 256;
        struct undo *u = realloc(p->undo, cap * sizeof *u);
        if (!u)
            return RUNLOG_ENOMEM;
        p->undo = u;
        p->undo_cap = cap;
    }
    p->undo[p->nundo++] = (struct undo){ id, p->hs->h[id]->len };
    p->undo_frame[id] = p->frame_no;
    return 0;
}

/* One history record: its columns grouped by key (a key has one column per
 * value type it took in the record; a key table may also name a key twice). */
static int all_record(all_pass *p, const rl_history *hr)
{
    int rc;
    uint32_t rec = ++p->rec_no;
    p->rec_rows = SIZE_MAX;
    for (uint32_t c = 0; c < hr->ncols; c++) {
        uint32_t id;
        if ((rc = all_key(p, hr->cols[c].key, &id)) || (rc = all_note_undo(p, id)))
            return rc;
        if (p->seen_rec[id] != rec) {
            p->seen_rec[id] = rec;
            p->ncols_rec[id] = 0;
        }
        p->ncols_rec[id]++;
    }
    for (uint32_t c = 0; c < hr->ncols; c++) {
        uint32_t id = p->gid[hr->cols[c].key] - 1;
        uint32_t cols[RL_COL_NTYPES], ncols = 0;
        if (p->ncols_rec[id] == 0)
            continue; /* done with the key's first column */
        if (p->ncols_rec[id] == 1) {
            cols[ncols++] = c;
        } else {
            for (uint32_t d = c; d < hr->ncols && ncols < RL_COL_NTYPES; d++)
                if (p->gid[hr->cols[d].key] - 1 == id)
                    cols[ncols++] = d;
        }
        p->ncols_rec[id] = 0;
        if ((rc = all_append(p, id, hr, cols, ncols)))
            return rc;
    }
    return 0;
}

static int all_frame_decode(all_pass *p, const rl_scan_item *it)
{
    int rc = rl_frame_load(&p->ws, it, &p->why);
    if (rc)
        return rc;
    uint32_t nkeys = p->ws.stream.nkeys;
    if (nkeys + 1 > p->gid_cap) {
        uint32_t *g = realloc(p->gid, ((size_t)nkeys + 1) * sizeof *g);
        if (!g)
            return RUNLOG_ENOMEM;
        p->gid = g;
        p->gid_cap = (size_t)nkeys + 1;
    }
    if (!table_repeats(&p->table, &p->ws))
        memset(p->gid, 0, ((size_t)nkeys + 1) * sizeof *p->gid);
    p->hs->frames_read++;
    rl_record_view v;
    while ((rc = rl_stream_next(&p->ws.stream, &v, &p->why)) == 0) {
        if (v.type != RL_REC_HISTORY) {
            if ((rc = record_refused(v.type, &p->why)))
                return rc;
            continue;
        }
        rl_history hr;
        if ((rc = rl_frame_history(&p->ws, &v, &hr, &p->why)) || (rc = all_record(p, &hr)))
            return rc;
    }
    return rc == RUNLOG_ITEROVER ? 0 : rc;
}

static int all_walk_frame(void *ctx, const rl_scan_item *it)
{
    all_pass *p = ctx;
    runlog_reader *r = p->r;
    if (it->h.kind != RL_FRAME_DATA)
        return other_frame(r, it);
    p->at = it->offset;
    p->done = it->offset + it->length;
    p->frame_no++;
    p->nundo = 0;
    p->why = NULL;
    p->frame_rows = p->hs->nrows;
    int rc = all_frame_decode(p, it);
    p->hs->bytes_decoded += p->ws.decoded;
    p->ws.decoded = 0;
    if (!rc)
        return 0;
    if (rc == RUNLOG_ENOMEM || p->over_limit) /* not damage: the reader's limits */
        return rc;
    rc = reader_damage(r, rc, it->offset, p->why ? p->why : "malformed frame");
    if (!(r->flags & RUNLOG_READ_TOLERANT) || rc == RUNLOG_EUNSUPPORTED)
        return rc;
    for (size_t i = 0; i < p->nundo; i++) /* drop the partial frame */
        p->hs->h[p->undo[i].id]->len = p->undo[i].len;
    /* and its rows: every key sharing them is back to entries before it */
    p->hs->nrows = p->frame_rows;
    return 0;
}

static int all_walk_damage(void *ctx, const rl_scan_item *it)
{
    runlog_reader *r = ((all_pass *)ctx)->r;
    if (r->flags & RUNLOG_READ_TOLERANT)
        return 0;
    return reader_damage(r, scan_damage_code(it), it->offset, it->why);
}

/* The types of the keys whose entries all have one numeric type: one
 * array of that type, as long as the longest of them, for them all (or,
 * short of memory for it, each key's own, filled in). */
static void all_types(all_pass *p)
{
    runlog_histories *hs = p->hs;
    static const uint8_t type[2] = { RUNLOG_INT, RUNLOG_FLOAT };
    size_t most[2] = { 0, 0 };
    for (uint32_t id = 0; id < hs->names.count; id++) {
        uint8_t u = p->utype[id];
        size_t len = hs->h[id]->len;
        if (len && u != ALL_WRITTEN && len > most[u - 1 == RUNLOG_FLOAT])
            most[u - 1 == RUNLOG_FLOAT] = len;
    }
    for (int i = 0; i < 2; i++)
        if (most[i] && (hs->same_types[i] = malloc(most[i])))
            memset(hs->same_types[i], type[i], most[i]);
    for (uint32_t id = 0; id < hs->names.count; id++) {
        runlog_history *h = hs->h[id];
        uint8_t u = p->utype[id];
        if (!h->len || u == ALL_WRITTEN)
            continue;
        uint8_t *same = hs->same_types[u - 1 == RUNLOG_FLOAT];
        if (!same) {
            memset(h->types, u - 1, h->len);
            continue;
        }
        if (!(hs->borrow[id] & ALL_SLAB))
            free(h->types);
        h->types = same;
        hs->borrow[id] |= ALL_TYPES;
    }
}

int runlog_reader_histories(runlog_histories **out, runlog_reader *r)
{
    if (!out || !r)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    runlog_histories *hs = calloc(1, sizeof *hs);
    if (!hs)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    /* Every frame is needed, index or not: one scan, in file order. */
    all_pass p = { .r = r, .hs = hs, .size = rl_file_size(r->fd) };
    if (!rows_hint(r, &p.hint_names, &p.hint))
        p.hint = NULL;
    /* The arenas' first chunks hold what the index expects of every key
     * (rows_hint() caps the sum), exactly as all_grow() carves it; the
     * chunks after them (no index, or one that fell short) a few times
     * the file's size, as values take several times the bytes they are
     * stored in. */
    size_t want = 0;
    for (uint32_t i = 0; p.hint && i < p.hint_names.count; i++) {
        size_t n = p.hint[i] > 16 ? (size_t)p.hint[i] : 16;
        want += (n + 7) & ~(size_t)7;
        if (p.hint[i] > p.rows_hint)
            p.rows_hint = (size_t)p.hint[i];
    }
    p.chunk = p.size < (1u << 18) ? 1u << 20 : p.size < (16u << 20) ? (size_t)p.size * 4 : 64u << 20;
    hs->values.next = want ? want * sizeof(double) : p.chunk;
    hs->types.next = want ? want : p.chunk / 8;
    rl_scanner s;
    rl_scanner_init(&s, r->fd, r->path, &r->hdr, RL_FILE_HEADER_SIZE);
    static const rl_walk_ops ops = { .frame = all_walk_frame, .damage = all_walk_damage };
    int rc = rl_scan_walk(&s, &ops, &p);
    rl_scanner_free(&s);
    rl_frame_free(&p.ws);
    free(p.gid);
    free(p.seen_rec);
    free(p.ncols_rec);
    free(p.undo_frame);
    free(p.undo);
    table_memo_free(&p.table);
    free(p.hint);
    rl_keymap_free(&p.hint_names);
    /* The record rows are final: the keys that share them point there. */
    for (uint32_t id = 0; !rc && id < hs->names.count; id++) {
        runlog_history *h = hs->h[id];
        if ((hs->borrow[id] & ALL_ROWS) && h->len > 0) {
            h->steps = hs->row_steps + p.start[id];
            h->times = hs->row_times + p.start[id];
        }
    }
    free(p.start);
    if (!rc)
        all_types(&p);
    free(p.utype);
    if (!rc && hs->names.count && !(hs->order = malloc(hs->names.count * sizeof *hs->order)))
        rc = RUNLOG_ENOMEM;
    if (rc) {
        if (rc == RUNLOG_ENOMEM)
            rl_fail(rc, "%s: byte %llu: out of memory reading every key's history", r->path,
                    (unsigned long long)p.at);
        runlog_histories_free(hs);
        return rc;
    }
    /* Keys whose every entry was dropped with a damaged frame have no
     * history (as runlog_reader_history() says of them). */
    for (uint32_t id = 0; id < hs->names.count; id++)
        if (hs->h[id]->len > 0)
            hs->order[hs->n++] = id;
    *out = hs;
    return 0;
}

void runlog_histories_free(runlog_histories *hs)
{
    if (!hs)
        return;
    /* (an id interned just before running out of memory may have no slot) */
    for (uint32_t id = 0; id < hs->names.count && id < hs->cap; id++) {
        runlog_history *h = hs->h[id];
        if (!h)
            continue;
        if (hs->borrow[id] & ALL_ROWS)
            h->steps = NULL, h->times = NULL;
        if (hs->borrow[id] & ALL_SLAB)
            h->values = NULL, h->types = NULL;
        if (hs->borrow[id] & ALL_TYPES)
            h->types = NULL;
        runlog_history_free(h);
    }
    free(hs->borrow);
    free(hs->row_steps);
    free(hs->row_times);
    all_arena_free(&hs->values);
    all_arena_free(&hs->types);
    free(hs->same_types[0]);
    free(hs->same_types[1]);
    free(hs->h);
    free(hs->order);
    rl_keymap_free(&hs->names);
    free(hs);
}

size_t runlog_histories_count(const runlog_histories *hs) { return hs ? hs->n : 0; }

const char *runlog_histories_key(const runlog_histories *hs, size_t i, size_t *len)
{
    if (!hs || i >= hs->n)
        return NULL;
    uint32_t n;
    const char *k = rl_keymap_str(&hs->names, hs->order[i], &n);
    if (len)
        *len = n;
    return k;
}

const runlog_history *runlog_histories_get(const runlog_histories *hs, size_t i)
{
    return hs && i < hs->n ? hs->h[hs->order[i]] : NULL;
}

int runlog_histories_find(size_t *out, const runlog_histories *hs, const char *key)
{
    if (!hs || !key)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    uint32_t id;
    if (rl_keymap_find(&hs->names, key, strlen(key), &id) == 0 && hs->h[id]->len > 0) {
        /* order is increasing in id: binary search */
        size_t lo = 0, hi = hs->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (hs->order[mid] < id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (out)
            *out = lo;
        return 0;
    }
    return rl_fail(RUNLOG_ENOTFOUND, "key \"%s\" has no history", key);
}

uint64_t runlog_histories_frames_read(const runlog_histories *hs) { return hs ? hs->frames_read : 0; }
uint64_t runlog_histories_bytes_decoded(const runlog_histories *hs) { return hs ? hs->bytes_decoded : 0; }
uint64_t runlog_history_bytes_decoded(const runlog_history *h) { return h ? h->bytes_decoded : 0; }

void runlog_history_free(runlog_history *h)
{
    if (!h)
        return;
    free(h->steps);
    free(h->times);
    free(h->values);
    free(h->types);
    free(h->ints);
    free(h->others);
    free(h->files);
    rl_arena_reset(&h->arena);
    free(h);
}

/* ---- Histories built by a run set (runset.c) ------------------------------------ */

int rl_history_new(runlog_history **out)
{
    runlog_history *h = calloc(1, sizeof *h);
    if (!h)
        return RUNLOG_ENOMEM;
    *out = h;
    return 0;
}

int rl_history_append(runlog_history *h, const runlog_history *src, size_t i, uint32_t file)
{
    const runlog_value *v = runlog_history_value(src, i);
    if (!v)
        return RUNLOG_EINVAL;
    if (hist_grow(h, 1))
        return RUNLOG_ENOMEM;
    if (!h->files && !(h->files = calloc(h->cap, sizeof *h->files)))
        return RUNLOG_ENOMEM;
    h->steps[h->len] = src->steps[i];
    h->times[h->len] = src->times[i];
    h->files[h->len] = file;
    int rc = hist_copy_value(h, h->len, v);
    if (rc)
        return rc;
    h->len++;
    return 0;
}

void rl_history_add_frames(runlog_history *h, uint64_t frames_read)
{
    h->frames_read += frames_read;
}

int rl_history_set_file(runlog_history *h, uint32_t file)
{
    if (file == 0 && !h->files)
        return 0; /* runlog_history_file() says 0 without the array */
    if (!h->files && !(h->files = calloc(h->cap ? h->cap : 1, sizeof *h->files)))
        return RUNLOG_ENOMEM;
    for (size_t i = 0; i < h->len; i++)
        h->files[i] = file;
    return 0;
}

size_t runlog_history_file(const runlog_history *h, size_t i)
{
    return h && h->files && i < h->len ? h->files[i] : 0;
}

size_t runlog_history_length(const runlog_history *h) { return h ? h->len : 0; }
const uint64_t *runlog_history_steps(const runlog_history *h) { return h ? h->steps : NULL; }
const int64_t *runlog_history_times(const runlog_history *h) { return h ? h->times : NULL; }
const double *runlog_history_values(const runlog_history *h) { return h ? h->values : NULL; }
uint64_t runlog_history_frames_read(const runlog_history *h) { return h ? h->frames_read : 0; }

int runlog_history_type(runlog_type *out, const runlog_history *h)
{
    if (!out || !h)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    if (h->len == 0)
        return rl_fail(RUNLOG_ENOTFOUND, "an empty history has no value type");
    const uint8_t *t = h->types, first = t[0];
    /* 8 type bytes at a time: a float history of millions of points is one
     * pass of word compares. */
    uint64_t eight = 0x0101010101010101ull * first;
    size_t i = 1;
    for (; i + 8 <= h->len; i += 8) {
        uint64_t w;
        memcpy(&w, t + i, 8);
        if (w != eight)
            break;
    }
    for (; i < h->len; i++)
        if (t[i] != first)
            return rl_fail(RUNLOG_ENOTFOUND, "values of more than one type");
    *out = (runlog_type)first;
    return 0;
}

const runlog_value *runlog_history_value(const runlog_history *h, size_t i)
{
    if (!h || i >= h->len)
        return NULL;
    if (h->others && h->others[i])
        return h->others[i];
    runlog_history *m = (runlog_history *)h; /* the scratch value */
    memset(&m->scratch, 0, sizeof m->scratch);
    m->scratch.type = h->types[i];
    switch (h->types[i]) {
    case RUNLOG_FLOAT: m->scratch.u.f = h->values[i]; break;
    case RUNLOG_INT: m->scratch.u.i = h->ints[i]; break;
    case RUNLOG_BOOL: m->scratch.u.b = (int)h->ints[i]; break;
    default: break;
    }
    return &m->scratch;
}
