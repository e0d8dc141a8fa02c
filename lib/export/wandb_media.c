/*
 * wandb_media.c — images, tables and artifacts of RUNLOG_EXPORT_WANDB
 * (spec/EXPORTS.md §10.2-10.3).
 *
 * A table is also a run_table artifact, as W&B logs one (table_artifact()),
 * its record sent before the history record that names it.
 *
 * Media files are named as W&B names them, "<key>_<step>_<hash20>.<ext>",
 * hash20 being the first 20 hex digits of the SHA-256 of the file's bytes,
 * so the same picture logged twice at one step is one file. Every file goes
 * into the staging directory, which this command created empty, so opens
 * use O_NOFOLLOW only as a belt: nothing else can have put links there.
 * Artifact entry paths come from the file and are not trusted: they are
 * checked before anything is written (as `runlog extract` checks them).
 */
#include "wandb.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "media.h"
#include "image.h"

#define WB_TABLE_MAX_ROWS 10000u /* wandb.Table.MAX_ROWS */
#define WB_NAME_MAX 128u         /* bytes of a key or name inside a file name */
#define WB_ARTIFACT_NAME_MAX 128u /* W&B's NAME_MAXLEN */

/* ---- arena ---- */

void *wb_alloc(wb_arena *a, size_t size)
{
    void *p = calloc(1, size ? size : 1);

    if (!p)
        return NULL;
    if (!wb_keep(a, p)) {
        return NULL;
    }
    return p;
}

char *wb_keep(wb_arena *a, char *s)
{
    void **p;

    if (!s)
        return NULL;
    if (a->n == a->cap) {
        if (!(p = realloc(a->p, (a->cap ? 2 * a->cap : 64) * sizeof *p))) {
            free(s);
            return NULL;
        }
        a->p = p;
        a->cap = a->cap ? 2 * a->cap : 64;
    }
    a->p[a->n++] = s;
    return s;
}

char *wb_strdup(wb_arena *a, const char *s)
{
    return wb_keep(a, rlu_utf8_text(s ? s : "", s ? strlen(s) : 0));
}

void wb_arena_free(wb_arena *a)
{
    size_t i;

    for (i = 0; i < a->n; i++)
        free(a->p[i]);
    free(a->p);
    memset(a, 0, sizeof *a);
}

/* ---- names and files ---- */

int wb_client_id(char out[129])
{
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[64];
    size_t n = 0, i;
    ssize_t got;

    while (n < 128) {
        if ((got = getrandom(r, sizeof r, 0)) < 0) {
            if (errno == EINTR)
                continue;
            return rx_sys_error("getrandom");
        }
        /* 252 = 7 * 36: bytes above it are dropped, so every digit is as likely */
        for (i = 0; i < (size_t)got && n < 128; i++)
            if (r[i] < 252)
                out[n++] = digits[r[i] % 36];
    }
    out[128] = '\0';
    return 0;
}

void wb_safe_name(char *out, size_t max, const char *s, int strict)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s), i = 0, n = 0, k;

    while (i < len) {
        k = rlu_utf8_len(u + i, len - i);
        if (k == 0)
            k = 1;
        if (n + k > max)
            break;
        if (strict ? !(k == 1 && (u[i] == '-' || u[i] == '_' || u[i] == '.' ||
                                  (u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'z') ||
                                  (u[i] >= 'A' && u[i] <= 'Z')))
                   : (k == 1 && (u[i] < 0x20 || u[i] >= 0x7f || u[i] == '/' || u[i] == '\\'))) {
            out[n++] = '_';
        } else {
            memcpy(out + n, u + i, k);
            n += k;
        }
        i += k;
    }
    out[n] = '\0';
    if (n == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        snprintf(out, max + 1, "_");
}


int wb_create_file(int dirfd, const char *rel)
{
    const char *leaf;
    int parent = media_open_parent(dirfd, rel, &leaf), fd, err;

    if (parent < 0)
        return -1;
    fd = openat(parent, leaf, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
    err = errno;
    close(parent);
    errno = err;
    return fd;
}

int wb_write_file(int dirfd, const char *rel, const void *data, size_t len, const char *shown)
{
    const char *p = data;
    ssize_t n;
    int fd = wb_create_file(dirfd, rel);

    if (fd < 0)
        return rx_sys_error(shown);
    while (len > 0) {
        if ((n = write(fd, p, len)) < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            return rx_sys_error(shown);
        }
        p += n;
        len -= (size_t)n;
    }
    if (close(fd) < 0)
        return rx_sys_error(shown);
    return 0;
}

static int add_new_file(wb_media *m, const char *rel)
{
    char **p;

    if (m->n_new == m->cap_new) {
        if (!(p = realloc(m->new_files, (m->cap_new ? 2 * m->cap_new : 16) * sizeof *p)))
            return -1;
        m->new_files = p;
        m->cap_new = m->cap_new ? 2 * m->cap_new : 16;
    }
    if (!(m->new_files[m->n_new] = strdup(rel)))
        return -1;
    m->n_new++;
    return 0;
}

/* Writes files/<rel> unless this run already wrote it (same name, same
 * bytes: the name holds their hash) and lists it for a FilesRecord. */
static int put_media_file(wb_media *m, const char *rel, const void *data, size_t len)
{
    char path[PATH_MAX], shown[PATH_MAX + 64];
    struct stat st;
    int status;

    snprintf(path, sizeof path, "files/%s", rel);
    snprintf(shown, sizeof shown, "%s/%s", m->stage, path);
    if (fstatat(m->stage_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        (uint64_t)st.st_size == len)
        return 0;
    if ((status = wb_write_file(m->stage_fd, path, data, len, shown)) != 0)
        return status;
    if (add_new_file(m, rel) < 0)
        return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", m->src);
    return 0;
}

/* ---- images ---- */

/* Writes one image file; rel receives "media/images/<key>_<step>_<hash20>.<ext>". */
static int image_file(wb_media *m, const char *key, uint64_t step, const runlog_value *img,
                      runlog_image_info *info, char rel[PATH_MAX], char sha[65], size_t *size)
{
    char safe[WB_NAME_MAX * 4 + 1];
    const char *ext;
    void *data = NULL;
    size_t len = 0;
    int status;

    if ((status = png_image_file_bytes(m->blobs, m->src, img, info, &data, &len)) != 0)
        return status;
    ext = info->format == RUNLOG_IMAGE_JPEG ? "jpg" : "png";
    wb_sha256_hex(sha, data, len);
    wb_safe_name(safe, WB_NAME_MAX, key, 0);
    snprintf(rel, PATH_MAX, "media/images/%s_%" PRIu64 "_%.20s.%s", safe, step, sha, ext);
    status = put_media_file(m, rel, data, len);
    free(data);
    *size = len;
    if (status == 0)
        m->images++;
    return status;
}

/* {"_type": "image-file", "path", "sha256", "size", "format", "width", "height"[, "caption"]} */
static int image_json(wb_media *m, rlu_buf *out, const char *key, uint64_t step,
                      const runlog_value *img, runlog_image_info *info, char rel[PATH_MAX])
{
    char sha[65];
    size_t size = 0;
    int status = image_file(m, key, step, img, info, rel, sha, &size);

    if (status != 0)
        return status;
    rlu_puts(out, "{\"_type\": \"image-file\", \"path\": ");
    rlu_json_str(rlu_sink_buf, out, rel, strlen(rel), RLU_JSON_YAML_SAFE);
    rlu_printf(out, ", \"sha256\": \"%s\", \"size\": %zu, \"format\": \"%s\", \"width\": %" PRIu32
                    ", \"height\": %" PRIu32, sha, size,
               info->format == RUNLOG_IMAGE_JPEG ? "jpg" : "png", info->width, info->height);
    if (info->caption) {
        rlu_puts(out, ", \"caption\": ");
        rlu_json_str(rlu_sink_buf, out, info->caption, info->caption_len, RLU_JSON_YAML_SAFE);
    }
    rlu_puts(out, "}");
    return 0;
}

/* Several images under one key in one row: W&B's "images/separated". */
static int images_json(wb_media *m, rlu_buf *out, const char *key, uint64_t step,
                       const runlog_value *v)
{
    size_t i, n = media_image_count(v);
    char rel[PATH_MAX];
    runlog_image_info first = RUNLOG_IMAGE_INFO_INIT, info = RUNLOG_IMAGE_INFO_INIT;
    rlu_buf scratch = {0}, names = {0}, caps = {0};
    int status = 0, any_caption = 0;

    for (i = 0; i < n && status == 0; i++) {
        scratch.len = 0;
        if ((status = image_json(m, &scratch, key, step, media_image_at(v, i), &info, rel)) != 0)
            break;
        if (i == 0)
            first = info;
        rlu_puts(&names, i ? ", " : "");
        rlu_json_str(rlu_sink_buf, &names, rel, strlen(rel), RLU_JSON_YAML_SAFE);
        rlu_puts(&caps, i ? ", " : "");
        if (info.caption) {
            rlu_json_str(rlu_sink_buf, &caps, info.caption, info.caption_len, RLU_JSON_YAML_SAFE);
            any_caption = 1;
        } else {
            rlu_puts(&caps, "\"\"");
        }
    }
    if (status == 0) {
        /* the shape of the first image, the format of the last, as W&B's */
        rlu_printf(out, "{\"_type\": \"images/separated\", \"width\": %" PRIu32 ", \"height\": %" PRIu32
                        ", \"format\": \"%s\", \"count\": %zu, \"filenames\": [%s]",
                   first.width, first.height, info.format == RUNLOG_IMAGE_JPEG ? "jpg" : "png", n,
                   names.p ? names.p : "");
        if (any_caption)
            rlu_printf(out, ", \"captions\": [%s]", caps.p);
        rlu_puts(out, "}");
    }
    rlu_buf_free(&scratch);
    rlu_buf_free(&names);
    rlu_buf_free(&caps);
    return status;
}

/* ---- tables ---- */

static int join(char out[PATH_MAX], const char *a, const char *b);
static char *manifest_digest(wb_arena *a, WandbInternal__ArtifactManifestEntry **e, size_t n);

/* The image files a table's cells name (paths relative to files/), for
 * its run_table artifact. */
typedef struct wb_rels {
    char **p;
    size_t n, cap;
} wb_rels;

static int rels_add(wb_rels *r, const char *rel)
{
    char **p;
    size_t i;

    for (i = 0; i < r->n; i++)
        if (strcmp(r->p[i], rel) == 0)
            return 0;
    if (r->n == r->cap) {
        if (!(p = realloc(r->p, (r->cap ? 2 * r->cap : 16) * sizeof *p)))
            return -1;
        r->p = p;
        r->cap = r->cap ? 2 * r->cap : 16;
    }
    return (r->p[r->n] = strdup(rel)) ? (r->n++, 0) : -1;
}

static void rels_free(wb_rels *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->p[i]);
    free(r->p);
}

/* {"columns": [...], "data": [[...], ...]}: row-major, the cells of image
 * columns as image-file objects (their files listed in rels). */
static int table_doc_json(wb_media *m, rlu_buf *out, const char *key, uint64_t step,
                          const runlog_doc *doc, size_t ncols, size_t nrows, wb_rels *rels)
{
    runlog_image_info info = RUNLOG_IMAGE_INFO_INIT;
    runlog_column_type type;
    size_t c, row, len;
    const runlog_value *cell;
    const char *col;
    char rel[PATH_MAX];
    int status = 0;

    rlu_puts(out, "{\"columns\": [");
    for (c = 0; c < ncols; c++) {
        if (runlog_doc_table_column(doc, c, &col, &len, NULL) < 0)
            col = "", len = 0;
        rlu_puts(out, c ? ", " : "");
        rlu_json_str(rlu_sink_buf, out, col, len, RLU_JSON_YAML_SAFE);
    }
    rlu_puts(out, "], \"data\": [");
    for (row = 0; row < nrows && status == 0; row++) {
        rlu_puts(out, row ? ",\n[" : "\n[");
        for (c = 0; c < ncols && status == 0; c++) {
            cell = runlog_doc_table_cell(doc, row, c);
            rlu_puts(out, c ? ", " : "");
            if (runlog_doc_table_column(doc, c, NULL, NULL, &type) == 0 &&
                type == RUNLOG_COLUMN_IMAGE && cell && runlog_value_type(cell) != RUNLOG_NULL) {
                status = image_json(m, out, key, step, cell, &info, rel);
                if (status == 0 && rels_add(rels, rel) < 0)
                    status = runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", m->src);
            } else
                wb_json_value(out, cell, WB_JSON);
        }
        rlu_puts(out, "]");
    }
    rlu_puts(out, "]}\n");
    return out->oom ? runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", m->src) : status;
}

/* W&B's sanitize_artifact_name() (wandb/sdk/artifacts/_internal_artifact.py):
 * characters other than [A-Za-z0-9_.-] dropped and, when any was, "-" and
 * the URL-safe base64 (unpadded) of the big-endian CRC-32 of the name
 * appended, so that different names stay different. W&B refuses names
 * over 128 characters (NAME_MAXLEN, wandb/sdk/artifacts/_validators.py;
 * its own log() fails on such a key): a name that would be longer is cut
 * to 121 characters and given the suffix. */
static char *table_artifact_name(wb_arena *a, const char *run_id, const char *key)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    rlu_buf name = {0}, clean = {0};
    unsigned char c4[4];
    uLong crc;
    size_t i;

    rlu_printf(&name, "run-%s-%s", run_id, key);
    for (i = 0; i < name.len; i++) {
        unsigned char c = (unsigned char)name.p[i];
        if (c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') ||
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            rlu_printf(&clean, "%c", c);
    }
    if (!name.oom && (clean.len != name.len || clean.len > WB_ARTIFACT_NAME_MAX)) {
        if (clean.len > WB_ARTIFACT_NAME_MAX - 7) /* room for the suffix */
            clean.len = WB_ARTIFACT_NAME_MAX - 7;
        crc = crc32(crc32(0L, Z_NULL, 0), (const Bytef *)name.p, (uInt)name.len);
        c4[0] = (unsigned char)(crc >> 24), c4[1] = (unsigned char)(crc >> 16);
        c4[2] = (unsigned char)(crc >> 8), c4[3] = (unsigned char)crc;
        rlu_printf(&clean, "-%c%c%c%c%c%c", b64[c4[0] >> 2], b64[(c4[0] & 3) << 4 | c4[1] >> 4],
                   b64[(c4[1] & 15) << 2 | c4[2] >> 6], b64[c4[2] & 63], b64[c4[3] >> 2],
                   b64[(c4[3] & 3) << 4]);
    }
    rlu_buf_free(&name);
    if (clean.oom) {
        rlu_buf_free(&clean);
        return NULL;
    }
    return wb_keep(a, rlu_take(&clean));
}

/* One manifest entry of a run_table artifact: bytes written to
 * stage/dir/path, local_path in the final directory. */
static int table_entry(wb_media *m, wb_arena *a, WandbInternal__ArtifactManifestEntry **out,
                       const char *dir, const char *path, const void *data, size_t len)
{
    WandbInternal__ArtifactManifestEntry *e = wb_alloc(a, sizeof *e);
    char rel[PATH_MAX], full[PATH_MAX], md5[25];
    int status;

    if (!e)
        return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", m->src);
    if (join(rel, dir, path) < 0 || join(full, m->stage, rel) < 0)
        return runlog_error_set(RUNLOG_ETOOLARGE, "%s: table entry '%s': path too long", m->src,
                                path);
    if ((status = wb_write_file(m->stage_fd, rel, data, len, full)) != 0)
        return status;
    if (join(full, m->final_dir, rel) < 0)
        return runlog_error_set(RUNLOG_ETOOLARGE, "%s: table entry '%s': path too long", m->src,
                                path);
    wb_md5_b64(md5, data, len);
    wandb_internal__artifact_manifest_entry__init(e);
    e->path = wb_strdup(a, path);
    e->digest = wb_strdup(a, md5);
    e->size = (int64_t)len;
    e->local_path = wb_strdup(a, full);
    *out = e;
    return e->path && e->digest && e->local_path
               ? 0 : runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", m->src);
}

/* The bytes of files/<rel>, which this export wrote (an image a table cell
 * names). 0 or an error; *data malloc'd. */
static int read_media(wb_media *m, const char *rel, void **data, size_t *len)
{
    char path[PATH_MAX];
    struct stat st;
    char *p = NULL;
    size_t got = 0;
    ssize_t n;
    int fd;

    snprintf(path, sizeof path, "files/%s", rel);
    if ((fd = openat(m->stage_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
        fstat(fd, &st) < 0 || !(p = malloc(st.st_size ? (size_t)st.st_size : 1))) {
        int rc = rx_sys_error(path); /* errno from openat, fstat or malloc */
        if (fd >= 0)
            close(fd);
        return rc;
    }
    while (got < (size_t)st.st_size && (n = read(fd, p + got, (size_t)st.st_size - got)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(p), close(fd);
            return rx_sys_error(path);
        }
        got += (size_t)n;
    }
    close(fd);
    *data = p, *len = got;
    return 0;
}

/* The run_table artifact W&B logs with each table (_log_table_artifact()
 * in wandb/sdk/data_types/utils.py): "run-<run id>-<key>" (sanitized as
 * W&B does), type run_table, alias latest, one entry "<key>.table.json"
 * holding the table in W&B's artifact form (Table.to_json(artifact) in
 * wandb/sdk/data_types/table.py: _type "table", columns, data, ncols,
 * nrows, log_mode; column_types left out: W&B's Table.from_json infers the
 * types when it is absent) and the image files its cells name, under the
 * same media/images/ paths. The entries are copies under
 * artifacts/run_table/t<N>/: wandb sync deletes the files at local_path,
 * and the run's own media files must stay. The ids name the artifact in
 * the history value (artifact_path, _latest_artifact_path). */
static int table_artifact(wb_media *m, const char *key, const char *entry, const rlu_buf *body,
                          size_t ncols, size_t nrows, const wb_rels *rels,
                          char client[129], char seq[129])
{
    WandbInternal__ArtifactRecord ar = WANDB_INTERNAL__ARTIFACT_RECORD__INIT;
    WandbInternal__ArtifactManifest man = WANDB_INTERNAL__ARTIFACT_MANIFEST__INIT;
    WandbInternal__StoragePolicyConfigItem layout = WANDB_INTERNAL__STORAGE_POLICY_CONFIG_ITEM__INIT,
                                           *layouts[1] = {&layout};
    static char latest[] = "latest";
    char *aliases[1] = {latest}, dir[64];
    rlu_buf doc = {0};
    wb_arena a = {0};
    void *data = NULL;
    size_t i, len = 0;
    int status;

    if ((status = wb_client_id(client)) != 0 || (status = wb_client_id(seq)) != 0)
        return status;
    snprintf(dir, sizeof dir, "artifacts/run_table/t%" PRIu64, m->tables);
    /* the run form is {"columns": [...], "data": [...]}\n: its members go
     * into the artifact form unchanged */
    rlu_puts(&doc, "{\"_type\": \"table\", ");
    if (body->len > 3)
        rlu_put(&doc, body->p + 1, body->len - 3);
    rlu_printf(&doc, ", \"ncols\": %zu, \"nrows\": %zu, \"log_mode\": \"IMMUTABLE\"}\n", ncols, nrows);
    man.n_contents = 1 + rels->n;
    if (doc.oom || !(man.contents = wb_alloc(&a, man.n_contents * sizeof *man.contents)))
        status = runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", m->src);
    if (status == 0)
        status = table_entry(m, &a, &man.contents[0], dir, entry, doc.p, doc.len);
    for (i = 0; i < rels->n && status == 0; i++) {
        if ((status = read_media(m, rels->p[i], &data, &len)) == 0) {
            status = table_entry(m, &a, &man.contents[i + 1], dir, rels->p[i], data, len);
            free(data);
        }
    }
    if (status == 0) {
        layout.key = "storageLayout";
        layout.value_json = "\"V2\"";
        man.version = 1;
        man.storage_policy = "wandb-storage-policy-v1";
        man.n_storage_policy_config = 1;
        man.storage_policy_config = layouts;
        ar.manifest = &man;
        ar.type = "run_table";
        ar.name = table_artifact_name(&a, m->run_id, key);
        ar.metadata = "{}";
        ar.n_aliases = 1;
        ar.aliases = aliases;
        ar.finalize = 1;
        ar.client_id = client;
        ar.sequence_client_id = seq;
        ar.digest = manifest_digest(&a, man.contents, man.n_contents);
        status = ar.name && ar.digest ? m->emit_artifact(m->ctx, &ar)
                                      : runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", m->src);
    }
    rlu_buf_free(&doc);
    wb_arena_free(&a);
    return status;
}

/* A table cell's history value, as W&B's Table.to_json(run) writes it
 * (wandb/sdk/data_types/table.py, Media.to_json() in base_types/media.py,
 * the artifact paths of base_types/wb_value.py): _type table-file, sha256,
 * size, artifact_path and _latest_artifact_path (wandb-client-artifact://
 * URLs of the run_table artifact's entry, by client id and by sequence
 * client id), path, ncols, nrows, log_mode IMMUTABLE. */
static int table_json(wb_media *m, rlu_buf *out, const char *key, uint64_t step,
                      const runlog_value *t)
{
    char sha[65], safe[WB_NAME_MAX * 4 + 1], rel[PATH_MAX], entry[RUNLOG_MAX_KEY + 16];
    char client[129], seq[129];
    size_t nrows = 0, ncols = 0;
    runlog_digest d;
    runlog_doc *doc;
    rlu_buf body = {0};
    wb_rels rels = {0};
    int rc, status;

    if ((rc = runlog_value_digest(&d, t)) < 0 || (rc = runlog_reader_table(&doc, m->blobs, &d)) < 0)
        return rx_lib_error(m->src, rc);
    if ((rc = runlog_doc_table(doc, &ncols, &nrows)) < 0) {
        runlog_doc_free(doc);
        return rx_lib_error(m->src, rc);
    }
    if (nrows > WB_TABLE_MAX_ROWS) {
        rx_notice(m->x, RUNLOG_NOTICE_WARNING,
                  "%s: table '%s' at step %" PRIu64 " has %zu rows; W&B takes "
                  "%u, the rest is left out (runlog export json has them all)",
                  m->src, key, step, nrows, WB_TABLE_MAX_ROWS);
        nrows = WB_TABLE_MAX_ROWS;
        m->truncated_tables++;
    }
    status = table_doc_json(m, &body, key, step, doc, ncols, nrows, &rels);
    runlog_doc_free(doc);
    wb_safe_name(safe, WB_NAME_MAX, key, 0);
    if (status == 0) {
        wb_sha256_hex(sha, body.p, body.len);
        snprintf(rel, sizeof rel, "media/table/%s_%" PRIu64 "_%.20s.table.json", safe, step, sha);
        status = put_media_file(m, rel, body.p, body.len);
    }
    /* W&B's WBValue.with_suffix(): the entry is the key with ".table.json"
     * (W&B keeps a key's '/' as a folder); a key that would not make an
     * entry path (spec/FORMAT.md §12.5: "..", a leading '/', ...) is
     * named by its file-name form instead */
    const char *name = key;
    for (int pass = 0; pass < 2; pass++, name = safe) {
        size_t kl = strlen(name);
        snprintf(entry, sizeof entry, "%s%s", name,
                 kl > 11 && strcmp(name + kl - 11, ".table.json") == 0 ? "" : ".table.json");
        if (runlog_artifact_path_check(entry, strlen(entry)) == 0)
            break;
    }
    if (status == 0)
        status = table_artifact(m, key, entry, &body, ncols, nrows, &rels, client, seq);
    if (status == 0) {
        char url[sizeof client + sizeof entry + 40];
        rlu_printf(out, "{\"_type\": \"table-file\", \"sha256\": \"%s\", \"size\": %zu, "
                        "\"artifact_path\": ", sha, body.len);
        snprintf(url, sizeof url, "wandb-client-artifact://%s/%s", client, entry);
        rlu_json_str(rlu_sink_buf, out, url, strlen(url), RLU_JSON_YAML_SAFE);
        rlu_puts(out, ", \"_latest_artifact_path\": ");
        snprintf(url, sizeof url, "wandb-client-artifact://%s:latest/%s", seq, entry);
        rlu_json_str(rlu_sink_buf, out, url, strlen(url), RLU_JSON_YAML_SAFE);
        rlu_puts(out, ", \"path\": ");
        rlu_json_str(rlu_sink_buf, out, rel, strlen(rel), RLU_JSON_YAML_SAFE);
        rlu_printf(out, ", \"ncols\": %zu, \"nrows\": %zu, \"log_mode\": \"IMMUTABLE\"}", ncols, nrows);
        m->tables++;
    }
    rels_free(&rels);
    rlu_buf_free(&body);
    return status;
}

int wb_media_value(wb_media *m, rlu_buf *out, const char *key, uint64_t step,
                   const runlog_value *v)
{
    runlog_image_info info = RUNLOG_IMAGE_INFO_INIT;
    char rel[PATH_MAX];

    switch (media_kind_of(v)) {
    case MEDIA_IMAGE: return image_json(m, out, key, step, v, &info, rel);
    case MEDIA_IMAGES: return images_json(m, out, key, step, v);
    case MEDIA_TABLE: return table_json(m, out, key, step, v);
    default:
        wb_json_value(out, v, WB_JSON);
        return 0;
    }
}

/* ---- artifacts ---- */

/* out = a/b; -1 when over PATH_MAX. */
static int join(char out[PATH_MAX], const char *a, const char *b)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", a, b);
    return n < 0 || n >= PATH_MAX ? -1 : 0;
}

/* A stored entry: its bytes to stage/dir/path, MD5 of what was written.
 * e->path passed runlog_artifact_path_check() (runlog_record_artifact_entry()):
 * relative, no "..", so the join stays under dir. */
static int stored_entry(wb_media *m, wb_arena *a, WandbInternal__ArtifactManifestEntry *e,
                        const runlog_artifact_entry_info *ent, const char *dir,
                        const char *final_dir)
{
    char rel[PATH_MAX], full[PATH_MAX], md5[25];
    int rc;

    if (join(rel, dir, e->path) < 0 || join(full, m->stage, rel) < 0) {
        return runlog_error_set(RUNLOG_ETOOLARGE, "%s: artifact entry '%s': path too long",
                                m->src, e->path);
    }
    if ((rc = media_blob_to_fileat(m->blobs, &ent->digest, m->stage_fd, rel, full, NULL, -1)) < 0)
        return rx_lib_error(m->src, rc);
    if (wb_md5_file_b64(md5, NULL, full, UINT64_MAX) < 0)
        return rx_sys_error(full);
    if (join(full, final_dir, rel) < 0) {
        return runlog_error_set(RUNLOG_ETOOLARGE, "%s: artifact entry '%s': path too long",
                                m->src, e->path);
    }
    e->digest = wb_strdup(a, md5);
    e->local_path = wb_strdup(a, full);
    return e->digest && e->local_path ? 0 : runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", m->src);
}

/* A reference: the bytes stay where ref says. W&B names local files
 * file://PATH and digests them by MD5. A reference is a name in a run-log
 * that may come from anywhere, so it is opened only when the caller asks
 * (wandb_hash_references) and is a regular file of the recorded size;
 * otherwise the digest is runlog's XXH3-128 in hex (W&B treats a
 * reference's digest as an opaque version tag). */
static int reference_entry(wb_media *m, wb_arena *a, WandbInternal__ArtifactManifestEntry *e,
                           const runlog_artifact_entry_info *ent)
{
    const char *ref = ent->ref;
    char md5[25], hex[33], uri[PATH_MAX + 8];
    uint64_t size = 0;

    snprintf(uri, sizeof uri, "%s%s", ref[0] == '/' ? "file://" : "", ref);
    e->ref = wb_strdup(a, uri);
    if (m->x->o->wandb_hash_references && ref[0] == '/' &&
        wb_md5_file_b64(md5, &size, ref, ent->size) == 0 && size == ent->size) {
        e->digest = wb_strdup(a, md5);
    } else {
        if (ent->has_digest)
            runlog_digest_hex(hex, &ent->digest);
        else
            memset(hex, '?', 32), hex[32] = '\0';
        e->digest = wb_strdup(a, hex);
    }
    return e->ref && e->digest ? 0 : runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", m->src);
}

static int cmp_entry(const void *x, const void *y)
{
    const WandbInternal__ArtifactManifestEntry *a = *(WandbInternal__ArtifactManifestEntry *const *)x,
                                                *b = *(WandbInternal__ArtifactManifestEntry *const *)y;
    return strcmp(a->path, b->path);
}

/* W&B's manifest digest: hex MD5 of "wandb-artifact-manifest-v1\n" then
 * "<path>:<digest>\n" for every entry sorted by path. */
static char *manifest_digest(wb_arena *a, WandbInternal__ArtifactManifestEntry **e, size_t n)
{
    rlu_buf b = {0};
    char hex[33];
    size_t i;

    qsort(e, n, sizeof *e, cmp_entry);
    rlu_puts(&b, "wandb-artifact-manifest-v1\n");
    for (i = 0; i < n; i++)
        rlu_printf(&b, "%s:%s\n", e[i]->path, e[i]->digest);
    if (b.oom) {
        rlu_buf_free(&b);
        return NULL;
    }
    wb_md5_hex(hex, b.p, b.len);
    rlu_buf_free(&b);
    return wb_strdup(a, hex);
}

/* The entries of artifact record r, each checked (runlog_record_artifact_entry():
 * the path rule of runlog_artifact_path_check()) before any is written. */
static int artifact_entries(wb_media *m, wb_arena *a, WandbInternal__ArtifactManifest *man,
                            const runlog_record *r, size_t n, const char *dir,
                            const char *final_dir)
{
    runlog_artifact_entry_info *info = wb_alloc(a, (n ? n : 1) * sizeof *info);
    WandbInternal__ArtifactManifestEntry *e;
    size_t i;
    int rc, status = 0;

    man->n_contents = n;
    if (!info || !(man->contents = wb_alloc(a, (n ? n : 1) * sizeof *man->contents)))
        return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", m->src);
    for (i = 0; i < n; i++) {
        info[i] = (runlog_artifact_entry_info)RUNLOG_ARTIFACT_ENTRY_INFO_INIT;
        if ((rc = runlog_record_artifact_entry(&info[i], r, i)) < 0)
            return rx_lib_error(m->src, rc);
    }
    for (i = 0; i < n && status == 0; i++) {
        if (!(e = man->contents[i] = wb_alloc(a, sizeof *e)))
            return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", m->src);
        wandb_internal__artifact_manifest_entry__init(e);
        e->path = wb_strdup(a, info[i].path);
        e->size = (int64_t)info[i].size;
        if (!e->path)
            return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", m->src);
        if (info[i].ref)
            status = reference_entry(m, a, e, &info[i]);
        else
            status = stored_entry(m, a, e, &info[i], dir, final_dir);
    }
    return status;
}

static char **string_list(wb_arena *a, const runlog_value *list, size_t *n)
{
    size_t i, k = list && runlog_value_type(list) == RUNLOG_LIST ? runlog_value_count(list) : 0;
    char **out = wb_alloc(a, (k ? k : 1) * sizeof *out);

    *n = 0;
    for (i = 0; out && i < k; i++)
        if (runlog_value_string(runlog_value_item(list, i), NULL))
            out[(*n)++] = wb_strdup(a, runlog_value_string(runlog_value_item(list, i), NULL));
    return out;
}

int wb_artifact(wb_media *m, wb_arena *a, WandbInternal__ArtifactRecord *rec,
                const runlog_record *r, const runlog_value *art, const char *final_dir)
{
    WandbInternal__StoragePolicyConfigItem *layout = wb_alloc(a, sizeof *layout),
                                           **layouts = wb_alloc(a, sizeof *layouts);
    const char *name, *type;
    char safe[WB_NAME_MAX + 1], dir[PATH_MAX], id[129];
    WandbInternal__ArtifactManifest *man = wb_alloc(a, sizeof *man);
    uint32_t version;
    size_t n;
    rlu_buf meta = {0};
    int status;

    if (!man || !layout || !layouts)
        return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", m->src);
    /* in the arena, not static: exports may run on several threads */
    wandb_internal__storage_policy_config_item__init(layout);
    layout->key = "storageLayout";
    layout->value_json = "\"V2\"";
    layouts[0] = layout;
    if ((status = runlog_record_artifact(r, &name, &type, &version, NULL, &n)) < 0)
        return rx_lib_error(m->src, status);
    wb_safe_name(safe, WB_NAME_MAX, name, 1);
    snprintf(dir, sizeof dir, "artifacts/%s/v%" PRIu32, safe, version);
    wandb_internal__artifact_manifest__init(man);
    man->version = 1;
    man->storage_policy = "wandb-storage-policy-v1";
    man->n_storage_policy_config = 1;
    man->storage_policy_config = layouts;
    if ((status = artifact_entries(m, a, man, r, n, dir, final_dir)) != 0)
        return status;
    rec->manifest = man;
    rec->name = wb_strdup(a, safe);
    rec->type = wb_strdup(a, type);
    rec->description = wb_strdup(a, rlu_map_str(art, "description", NULL));
    wb_json_value(&meta, runlog_value_get(art, "metadata"), WB_JSON);
    rec->metadata = wb_keep(a, rlu_take(&meta));
    rec->aliases = string_list(a, runlog_value_get(art, "aliases"), &rec->n_aliases);
    rec->digest = manifest_digest(a, man->contents, man->n_contents);
    /* client ids: new random ones for every artifact object, as W&B's SDK
     * makes them (spec/EXPORTS.md §10.3 says what a second export does) */
    if ((status = wb_client_id(id)) != 0)
        return status;
    rec->client_id = wb_strdup(a, id);
    if ((status = wb_client_id(id)) != 0)
        return status;
    rec->sequence_client_id = wb_strdup(a, id);
    if (!rec->name || !rec->type || !rec->description || !rec->metadata || !rec->aliases ||
        !rec->digest || !rec->client_id || !rec->sequence_client_id)
        return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", m->src);
    return 0;
}
