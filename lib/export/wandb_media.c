/*
 * wandb_media.c — images, tables and artifacts of RUNLOG_EXPORT_WANDB
 * (spec/EXPORTS.md §10.2-10.3).
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
#include <sys/stat.h>
#include <unistd.h>

#include "media.h"
#include "image.h"

#define WB_TABLE_MAX_ROWS 10000u /* wandb.Table.MAX_ROWS */
#define WB_NAME_MAX 128u         /* bytes of a key or name inside a file name */

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

/* {"columns": [...], "data": [[...], ...]}: row-major, the cells of image
 * columns as image-file objects. */
static int table_doc_json(wb_media *m, rlu_buf *out, const char *key, uint64_t step,
                          const runlog_doc *doc, size_t ncols, size_t nrows)
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
                type == RUNLOG_COLUMN_IMAGE && cell && runlog_value_type(cell) != RUNLOG_NULL)
                status = image_json(m, out, key, step, cell, &info, rel);
            else
                wb_json_value(out, cell, WB_JSON);
        }
        rlu_puts(out, "]");
    }
    rlu_puts(out, "]}\n");
    return out->oom ? runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", m->src) : status;
}

static int table_json(wb_media *m, rlu_buf *out, const char *key, uint64_t step,
                      const runlog_value *t)
{
    char sha[65], safe[WB_NAME_MAX * 4 + 1], rel[PATH_MAX];
    size_t nrows = 0, ncols = 0;
    runlog_digest d;
    runlog_doc *doc;
    rlu_buf body = {0};
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
    status = table_doc_json(m, &body, key, step, doc, ncols, nrows);
    runlog_doc_free(doc);
    if (status == 0) {
        wb_sha256_hex(sha, body.p, body.len);
        wb_safe_name(safe, WB_NAME_MAX, key, 0);
        snprintf(rel, sizeof rel, "media/table/%s_%" PRIu64 "_%.20s.table.json", safe, step, sha);
        status = put_media_file(m, rel, body.p, body.len);
    }
    if (status == 0) {
        rlu_puts(out, "{\"_type\": \"table-file\", \"path\": ");
        rlu_json_str(rlu_sink_buf, out, rel, strlen(rel), RLU_JSON_YAML_SAFE);
        rlu_printf(out, ", \"sha256\": \"%s\", \"size\": %zu, \"ncols\": %zu, \"nrows\": %zu}",
                   sha, body.len, ncols, nrows);
        m->tables++;
    }
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
    if ((rc = media_blob_to_fileat(m->blobs, &ent->digest, m->stage_fd, rel, full, NULL)) < 0)
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
    char safe[WB_NAME_MAX + 1], dir[PATH_MAX], hex[33];
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
    /* client ids: stable across exports of the same run (sync deduplicates by them) */
    snprintf(dir, sizeof dir, "%s\n%s\n%" PRIu32, rec->run_id, safe, version);
    wb_md5_hex(hex, dir, strlen(dir));
    rec->client_id = wb_strdup(a, hex);
    snprintf(dir, sizeof dir, "%s\n%s", rec->run_id, safe);
    wb_md5_hex(hex, dir, strlen(dir));
    rec->sequence_client_id = wb_strdup(a, hex);
    if (!rec->name || !rec->type || !rec->description || !rec->metadata || !rec->aliases ||
        !rec->digest || !rec->client_id || !rec->sequence_client_id)
        return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", m->src);
    return 0;
}
