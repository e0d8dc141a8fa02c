/* Internal declarations of librunlog (not installed). */
#ifndef RUNLOG_INTERNAL_H
#define RUNLOG_INTERNAL_H

#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>

#include "rlformat.h"
#include "runlog.h"

/* ---- Errors (error.c) ------------------------------------------------------- */

/* Sets the thread's detail text and returns code, for `return rl_fail(...)`. */
int rl_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "PATH: byte OFFSET: WHY" */
int rl_fail_at(int code, const char *path, uint64_t offset, const char *why);

/* ---- File I/O seam (fileio.c): every system call on a run-log goes through
 * these, so that tests can inject failures (ENOSPC, EIO, short writes). ---- */

typedef struct rl_io_hooks {
    ssize_t (*pwrite)(int fd, const void *buf, size_t len, off_t off);
    ssize_t (*pread)(int fd, void *buf, size_t len, off_t off);
    int (*fsync)(int fd);
    int (*ftruncate)(int fd, off_t len);
} rl_io_hooks;

extern rl_io_hooks rl_io;

/* Whole-buffer helpers: 0, or -1 with errno set (short writes retried). */
int rl_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
int rl_pread_all(int fd, void *buf, size_t len, uint64_t off);
uint64_t rl_file_size(int fd);

/* Opens an existing run-log (or input file) with flags | O_CLOEXEC, refusing
 * what is not a regular file (RUNLOG_EINVAL, "PATH: not a regular file"):
 * a FIFO would hang, a device would take a run and lose it. Opened with
 * O_NONBLOCK, which is cleared again. 0 and *out, or RUNLOG_EIO/EINVAL. */
int rl_open_file(int *out, const char *path, int flags, mode_t mode);

/* Creates a new empty file "TARGET.tmp-XXXXXXXXXXXX" (random letters)
 * beside target, O_RDWR, exclusively and without following links
 * (O_CREAT|O_EXCL|O_NOFOLLOW), mode 0644 & ~umask: never an existing
 * file, never through a link planted at a guessable name. Returns the
 * descriptor and *out (the name, to free), or -1 with errno set. */
int rl_create_temp(char **out, const char *target);

/* ---- Key dictionary (keymap.c): key text -> dense id. Strings never move,
 * so another thread may read ids below a published count. ----------------- */

#define RL_KEY_CHUNK 4096u
typedef struct rl_keymap {
    char **chunks[RL_MAX_KEYS / RL_KEY_CHUNK];
    uint32_t *lens[RL_MAX_KEYS / RL_KEY_CHUNK];
    uint32_t count;
    uint32_t *slots;   /* open addressing: id + 1, 0 empty */
    uint64_t *hashes;
    uint32_t cap;
} rl_keymap;

/* 0 and the id (new or existing); RUNLOG_EINVAL for bad UTF-8 or too long. */
int rl_keymap_intern(rl_keymap *m, const char *key, size_t len, uint32_t *id);
int rl_keymap_find(const rl_keymap *m, const char *key, size_t len, uint32_t *id);
static inline const char *rl_keymap_str(const rl_keymap *m, uint32_t id, uint32_t *len) {
    if (len) *len = m->lens[id / RL_KEY_CHUNK][id % RL_KEY_CHUNK];
    return m->chunks[id / RL_KEY_CHUNK][id % RL_KEY_CHUNK];
}
void rl_keymap_free(rl_keymap *m);
/* Sorts the key hashes h[0..n) and drops repeats; the new count. The one
 * way a frame's history keys and its index entry's are compared as sets
 * (the reader's index check and verify, spec/FORMAT.md §7.2). */
size_t rl_hash_set(uint64_t *h, size_t n);

/* ---- Frame scanner (scan.c) --------------------------------------------- */

enum rl_scan_kind {
    RL_SCAN_FRAME,   /* an intact frame: header and payload checked */
    RL_SCAN_DAMAGE,  /* damaged bytes [offset, offset+length) followed by more frames */
    RL_SCAN_TORN,    /* [offset, end of file) holds no complete frame */
    RL_SCAN_END      /* end of file exactly after the last frame */
};

typedef struct rl_scan_item {
    enum rl_scan_kind kind;
    uint64_t offset;
    uint64_t length;
    runlog_damage_kind damage;  /* for RL_SCAN_DAMAGE */
    const char *why;            /* for RL_SCAN_DAMAGE */
    rl_frame_header h;          /* for RL_SCAN_FRAME */
    const uint8_t *payload;     /* for RL_SCAN_FRAME; valid until the next call */
    uint32_t have;              /* bytes of the payload in `payload`: all of them,
                                 * but for rl_scanner_next_head() */
    int sealed;                 /* a sealed payload (§4.1): the file's flag, for
                                 * data and index frames */
    int fd;                     /* the file, for the blocks not in `payload` */
} rl_scan_item;

typedef struct rl_scanner {
    int fd;
    const char *path;
    uint64_t salt;
    int sealed;         /* the file has RL_INCOMPAT_SEALED_BLOCKS */
    uint64_t offset;    /* next frame */
    uint64_t size;      /* file size seen */
    uint64_t last_seq;
    int have_seq;
    rl_buf buf;
} rl_scanner;

/* A scanner of the file whose header is hdr (its salt and flags). */
void rl_scanner_init(rl_scanner *s, int fd, const char *path, const rl_file_header *hdr,
                     uint64_t offset);
void rl_scanner_free(rl_scanner *s);
/* Refreshes the file size (for following a growing file). */
void rl_scanner_refresh(rl_scanner *s);
/* 0 and an item; RUNLOG_EIO or RUNLOG_ENOMEM. */
int rl_scanner_next(rl_scanner *s, rl_scan_item *out);
/* Reads and checks the frame at a known offset (from an index). */
int rl_scanner_frame_at(rl_scanner *s, uint64_t offset, rl_scan_item *out);
/* As rl_scanner_next, but a sealed data frame (§4.1) is read in part: its
 * header, directory and block 0, each checked; out->have says how much of
 * the payload out->payload holds (the other blocks are not read, nor
 * checked). Any other frame is read whole. Damage is reported with its
 * offset and reason; its extent is exact only where rl_scanner_next's
 * would be (callers of this give up at damage). */
int rl_scanner_next_head(rl_scanner *s, rl_scan_item *out);

/* One pass over the frames from the scanner's offset to the end of the
 * file, the same for every whole-file pass: what each pass does with an
 * item is its policy. A callback returns 0 to go on; anything else ends
 * the walk and is what rl_scan_walk returns. */
typedef struct rl_walk_ops {
    int (*frame)(void *ctx, const rl_scan_item *it);  /* RL_SCAN_FRAME, any frame kind */
    int (*damage)(void *ctx, const rl_scan_item *it); /* RL_SCAN_DAMAGE; NULL: skipped */
    int (*end)(void *ctx, const rl_scan_item *it);    /* RL_SCAN_END or RL_SCAN_TORN (it->kind
                                                          says), the last item; NULL: nothing */
    int head_only;   /* sealed data frames read in part: rl_scanner_next_head() */
} rl_walk_ops;
/* 0 after the end; the scanner's error (RUNLOG_EIO, RUNLOG_ENOMEM) or the
 * first nonzero callback return. The scanner is left where the walk
 * stopped (s->size: the file size it saw). */
int rl_scan_walk(rl_scanner *s, const rl_walk_ops *ops, void *ctx);

/* A decoded frame: the block directory, block 0 and its record stream;
 * column blocks decompressed on demand. Values live in `arena`. An rl_frame
 * is a workspace: loading the next frame reuses its buffers. Start from a
 * zeroed struct; rl_frame_free() releases it. */
typedef struct rl_frame {
    rl_payload payload;
    rl_buf block0;
    rl_stream stream;
    rl_arena arena;
    rl_buf *bufs;            /* decompression buffers, by block index */
    const uint8_t **raw;     /* decoded bytes by block index, NULL until asked */
    uint32_t *owner;         /* by block index: 0, or who uses it (rl_frame_claim_block) */
    const uint8_t *block0_bytes; /* decoded block 0 */
    uint32_t cap;            /* entries of bufs and raw */
    void *dctx;
    uint64_t decoded;        /* bytes of blocks decoded since the caller last zeroed it */
    /* A frame read in part (§4.1): blocks whose stored bytes were not read
     * (stored == NULL) are read from fd at payload_at + pos when asked. */
    int fd;
    uint64_t payload_at;
    int sealed;
    rl_buf fetch;            /* their stored bytes, when compressed */
    /* The key table of the frame loaded last (block 0 up to its first
     * record) and its keys (in table_arena): a writer repeats its key
     * table frame after frame, and a table of 10,000 keys costs more to
     * check and copy than to compare. */
    rl_buf table;
    rl_str *table_keys;
    uint32_t table_nkeys;
    rl_arena table_arena;
} rl_frame;

/* Loads the frame of a scan item: its directory, block 0 and the record
 * stream (it->have bytes of the payload may be fewer than all, §4.1). */
int rl_frame_load(rl_frame *f, const rl_scan_item *it, const char **why);
/* Only the block directory (§4): block 0 is not decoded, the stream is
 * empty; rl_frame_block() works. For readers that know the frame's
 * records already (the reader's key map). */
int rl_frame_load_dir(rl_frame *f, const rl_scan_item *it, const char **why);
/* A frame whose directory a reader kept (the key map): nblocks entries of
 * the sealed payload that starts at file offset `payload_at` of fd. Its
 * blocks are read from the file when asked (rl_frame_block), each checked
 * against its checksum (§4.1). */
int rl_frame_load_kept(rl_frame *f, const rl_block *blocks, uint32_t nblocks, int fd,
                       uint64_t payload_at, const char **why);
/* The decompressed bytes of block i (>= 1). */
int rl_frame_block(rl_frame *f, uint32_t i, const uint8_t **out, const char **why);
/* Decodes the values of history column col (its block decompressed once per
 * frame; a packed column's slice of it, §6.1) into values[count] (f->arena). */
int rl_frame_column(rl_frame *f, const rl_hcol *col, runlog_value **values, const char **why);
/* Decodes a history or system record of the frame (rl_history_decode with
 * the frame's key count and block directory), and checks that no other
 * record of the frame uses its column blocks (§4). */
int rl_frame_history(rl_frame *f, const rl_record_view *rec, rl_history *out, const char **why);
/* Notes that record rec uses block i (§4: one record per block);
 * RUNLOG_ECORRUPT when another record of the frame already does. */
int rl_frame_claim_block(rl_frame *f, uint32_t i, const rl_record_view *rec, const char **why);
void rl_frame_free(rl_frame *f);

/* Opens a file's header: 0, or an error with detail set. */
int rl_read_file_header(int fd, const char *path, rl_file_header *out, uint64_t *size);

/* ---- JSON (json.c) ---------------------------------------------------------- */

/* Parses JSON text into CBOR (appended to out). want_object: the top level
 * must be an object. depth: the nesting at which the value will sit in its
 * record body (§5.1), so that nothing written exceeds what readers accept. */
int rl_json_to_cbor(rl_buf *out, const char *json, int want_object, unsigned depth);

/* Depth of a value under {"t", "set": {key: value}} (config, summary,
 * metadata, partial records); history cells use it too, since a pending
 * cell may be written as a partial record. */
#define RL_VALUE_DEPTH 2u

/* ---- Writer internals shared with blob.c, media.c, artifact.c -------------- */

/* A set of 16-byte digests (open addressing on their first 8 bytes). */
typedef struct rl_digest_set {
    uint8_t (*slots)[17]; /* 16 digest bytes + 1 used flag */
    size_t n, cap;
} rl_digest_set;

int rl_digest_set_add(rl_digest_set *s, const uint8_t d[16]);
int rl_digest_set_has(const rl_digest_set *s, const uint8_t d[16]);
void rl_digest_set_free(rl_digest_set *s);

/* One logged version of an artifact name, as the writer remembers it. */
typedef struct rl_artifact_version {
    char *name;
    uint8_t digest[16];   /* of the manifest */
    uint32_t version;
} rl_artifact_version;

int rl_check_key(const char *key);
int rl_check_text(const char *what, const char *s);
/* 0, or RUNLOG_EINVAL for NULL, RUNLOG_ESTATE after finish. */
int rl_writer_check(runlog_writer *w);
int rl_writer_body_start(runlog_writer *w, rl_buf *b, size_t n);
int rl_writer_record(runlog_writer *w, uint8_t type, const rl_buf *body);
/* Queues one chunk of a blob (§12.1). */
int rl_writer_blob_chunk(runlog_writer *w, const uint8_t digest[16], uint64_t offset, uint64_t total,
                         const void *data, size_t len, int compress);
rl_digest_set *rl_writer_blobs(runlog_writer *w);
/* A blob given as pieces, stored without first being copied into one buffer
 * (tables: headers and each column's cells). */
typedef struct rl_piece {
    const uint8_t *p;
    size_t n;
} rl_piece;
int rl_writer_blob_pieces(runlog_digest *out, runlog_writer *w, const rl_piece *pieces, size_t n);
/* Adds a CBOR value (an image or table map) under key to the pending row.
 * append: an image joins the images already under key in a list. */
int rl_writer_media_cell(runlog_writer *w, const char *key, const uint8_t *cbor, size_t n, int append);
/* The version an identical manifest of name already has (0 and *found=1),
 * and the next version number of name. */
void rl_writer_artifact_lookup(runlog_writer *w, const char *name, const uint8_t digest[16], int *found,
                               uint32_t *version, uint32_t *next);
int rl_writer_artifact_note(runlog_writer *w, const char *name, const uint8_t digest[16], uint32_t version);

/* ---- Reader internals shared with blob.c ------------------------------------- */

typedef struct rl_blob_index rl_blob_index;
void rl_blob_index_free(rl_blob_index *ix);
int rl_reader_fd(const runlog_reader *r);
const char *rl_reader_path(const runlog_reader *r);
const rl_file_header *rl_reader_header(const runlog_reader *r);
rl_blob_index **rl_reader_blob_cache(runlog_reader *r);

/* ---- Reader internals used by run sets (runset.c) --------------------------- */

/* The step of the run's first committed row (valid when rows > 0). */
uint64_t rl_run_first_step(const runlog_run *run);
/* An empty history, to be filled by rl_history_append(). */
int rl_history_new(runlog_history **out);
/* Appends entry i of src (step, time, value copied) as coming from file. */
int rl_history_append(runlog_history *h, const runlog_history *src, size_t i, uint32_t file);
/* Marks every entry of h as coming from file. */
int rl_history_set_file(runlog_history *h, uint32_t file);
/* Counts frames that another history's reading decoded. */
void rl_history_add_frames(runlog_history *h, uint64_t frames_read);

/* The reader's path of a record, and its ECORRUPT: "PATH: byte OFFSET: WHY"
 * with the frame's offset (for the typed accessors). */
const char *rl_record_path(const runlog_record *rec);
int rl_record_corrupt(const runlog_record *rec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* NULL when an artifact entry path is one §12.5 allows, else why not. The
 * one rule, used by the writer, the typed reader and (through
 * runlog_artifact_path_check) the tools. */
const char *rl_artifact_path_problem(const char *p, size_t len);

/* ---- Shared by writer, reader, repair ------------------------------------- */

int rl_lock_file(int fd, const char *path);       /* RUNLOG_ELOCKED if held */
int rl_lock_held_by_other(int fd);                 /* 1 if a writer holds it */

/* Copies [offset, size) of the file to a new sidecar "PATH.torn-OFFSET[.N]"
 * (through a temporary file linked into place whole, so that a failure
 * leaves none; a sidecar holding a prefix of the same bytes, left by an
 * older failed attempt, is replaced), fsyncs it, then truncates the file to
 * offset. The caller holds the file's lock. */
int rl_cut_tail(int fd, const char *path, uint64_t offset, uint64_t size, char **sidecar);

const char *rl_map_text(const runlog_value *map, const char *key);
int64_t rl_map_int(const runlog_value *map, const char *key, int64_t dflt);

#endif
