/*
 * Artifacts (spec/FORMAT.md §13.5): named, versioned sets of files stored as
 * blobs (or referenced where they lie), with aliases; wandb.log_model.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

typedef struct entry {
    char *path;       /* inside the artifact */
    char *src;        /* local file to store or hash; NULL for a remote reference */
    char *uri;        /* references only */
    uint64_t size;
    runlog_digest digest;
    int have_digest;
} entry;

struct runlog_artifact {
    char *name, *type, *description;
    rl_buf metadata;  /* a CBOR map, or empty */
    char **aliases;
    size_t naliases;
    entry *e;
    size_t n, cap;
};

/* Entry paths: relative, '/'-separated, no empty, "." or ".." component,
 * UTF-8, at most RUNLOG_MAX_PATH bytes (§13.5). Readers check it again. */
static int check_entry_path(const char *p)
{
    if (!p)
        return rl_fail(RUNLOG_EINVAL, "artifact entry path is NULL");
    size_t n = strlen(p);
    if (n == 0 || n > RUNLOG_MAX_PATH)
        return rl_fail(RUNLOG_EINVAL, "artifact entry path of %zu bytes (1 to %u allowed)", n, RUNLOG_MAX_PATH);
    if (!rl_utf8_valid((const uint8_t *)p, n))
        return rl_fail(RUNLOG_EINVAL, "artifact entry path is not valid UTF-8");
    if (p[0] == '/')
        return rl_fail(RUNLOG_EINVAL, "artifact entry path \"%s\" is absolute", p);
    for (const char *c = p;;) {
        const char *slash = strchr(c, '/');
        size_t len = slash ? (size_t)(slash - c) : strlen(c);
        if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
            return rl_fail(RUNLOG_EINVAL, "artifact entry path \"%s\" has an empty, \".\" or \"..\" component", p);
        if (!slash)
            break;
        c = slash + 1;
    }
    return 0;
}

int runlog_artifact_new(runlog_artifact **out, const char *name, const char *type)
{
    if (!out || !name || !type || !*name || !*type)
        return rl_fail(RUNLOG_EINVAL, "an artifact needs a name and a type");
    int rc;
    if ((rc = rl_check_key(name)) || (rc = rl_check_key(type)))
        return rc;
    runlog_artifact *a = calloc(1, sizeof *a);
    if (!a || !(a->name = strdup(name)) || !(a->type = strdup(type))) {
        runlog_artifact_free(a);
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    }
    *out = a;
    return 0;
}

void runlog_artifact_free(runlog_artifact *a)
{
    if (!a)
        return;
    free(a->name);
    free(a->type);
    free(a->description);
    rl_buf_free(&a->metadata);
    for (size_t i = 0; i < a->naliases; i++)
        free(a->aliases[i]);
    free(a->aliases);
    for (size_t i = 0; i < a->n; i++) {
        free(a->e[i].path);
        free(a->e[i].src);
        free(a->e[i].uri);
    }
    free(a->e);
    free(a);
}

int runlog_artifact_description(runlog_artifact *a, const char *text)
{
    int rc;
    if (!a || !text)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    if ((rc = rl_check_text("description", text)))
        return rc;
    char *d = strdup(text);
    if (!d)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    free(a->description);
    a->description = d;
    return 0;
}

int runlog_artifact_metadata_json(runlog_artifact *a, const char *json)
{
    if (!a)
        return rl_fail(RUNLOG_EINVAL, "artifact is NULL");
    rl_buf b = { 0 };
    /* The metadata map sits at depth 1 of the artifact record body. */
    int rc = rl_json_to_cbor(&b, json, 1, 1);
    if (rc) {
        rl_buf_free(&b);
        return rc;
    }
    rl_buf_free(&a->metadata);
    a->metadata = b;
    return 0;
}

int runlog_artifact_alias(runlog_artifact *a, const char *alias)
{
    if (!a || !alias || !*alias)
        return rl_fail(RUNLOG_EINVAL, "alias is NULL or empty");
    int rc = rl_check_key(alias);
    if (rc)
        return rc;
    for (size_t i = 0; i < a->naliases; i++)
        if (strcmp(a->aliases[i], alias) == 0)
            return 0;
    char **n = realloc(a->aliases, (a->naliases + 1) * sizeof *n);
    if (!n)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    a->aliases = n;
    if (!(a->aliases[a->naliases] = strdup(alias)))
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    a->naliases++;
    return 0;
}

static int add_entry(runlog_artifact *a, const char *path, const char *src, const char *uri, uint64_t size,
                     const runlog_digest *digest)
{
    int rc = check_entry_path(path);
    if (rc)
        return rc;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        entry *e = realloc(a->e, cap * sizeof *e);
        if (!e)
            return rl_fail(RUNLOG_ENOMEM, "out of memory");
        a->e = e;
        a->cap = cap;
    }
    entry *e = &a->e[a->n];
    memset(e, 0, sizeof *e);
    e->path = strdup(path);
    e->src = src ? strdup(src) : NULL;
    e->uri = uri ? strdup(uri) : NULL;
    if (!e->path || (src && !e->src) || (uri && !e->uri)) {
        free(e->path);
        free(e->src);
        free(e->uri);
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    }
    e->size = size;
    if (digest) {
        e->digest = *digest;
        e->have_digest = 1;
    }
    a->n++;
    return 0;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int runlog_artifact_add_file(runlog_artifact *a, const char *path, const char *name)
{
    if (!a || !path)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    struct stat st;
    if (stat(path, &st) != 0)
        return rl_fail(RUNLOG_EIO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return rl_fail(RUNLOG_EINVAL, "%s: not a regular file", path);
    return add_entry(a, name ? name : base_name(path), path, NULL, 0, NULL);
}

static int add_tree(runlog_artifact *a, const char *dir, const char *prefix, unsigned depth)
{
    if (depth > 64)
        return rl_fail(RUNLOG_EINVAL, "%s: directories nested too deep", dir);
    DIR *d = opendir(dir);
    if (!d)
        return rl_fail(RUNLOG_EIO, "%s: %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        size_t n = strlen(dir) + strlen(de->d_name) + 2, m = (prefix ? strlen(prefix) : 0) + strlen(de->d_name) + 2;
        char *full = malloc(n), *inner = malloc(m);
        if (!full || !inner) {
            free(full);
            free(inner);
            rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
            break;
        }
        snprintf(full, n, "%s/%s", dir, de->d_name);
        if (prefix && *prefix)
            snprintf(inner, m, "%s/%s", prefix, de->d_name);
        else
            snprintf(inner, m, "%s", de->d_name);
        struct stat st;
        if (lstat(full, &st) != 0)
            rc = rl_fail(RUNLOG_EIO, "%s: %s", full, strerror(errno));
        else if (S_ISDIR(st.st_mode))
            rc = add_tree(a, full, inner, depth + 1);
        else if (S_ISREG(st.st_mode))
            rc = add_entry(a, inner, full, NULL, 0, NULL);
        free(full);
        free(inner);
    }
    closedir(d);
    return rc;
}

int runlog_artifact_add_dir(runlog_artifact *a, const char *dir, const char *prefix)
{
    if (!a || !dir)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    if (prefix && *prefix) {
        int rc = check_entry_path(prefix);
        if (rc)
            return rc;
    }
    return add_tree(a, dir, prefix, 0);
}

int runlog_artifact_add_reference(runlog_artifact *a, const char *uri, const char *name, uint64_t size,
                                  const runlog_digest *digest)
{
    if (!a || !uri || !*uri)
        return rl_fail(RUNLOG_EINVAL, "reference URI is NULL or empty");
    int rc = rl_check_text("reference", uri);
    if (rc)
        return rc;
    /* A local path (or file:// URI) is hashed when logged; others are taken as given. */
    const char *local = strncmp(uri, "file://", 7) == 0 ? uri + 7 : strstr(uri, "://") ? NULL : uri;
    if ((rc = add_entry(a, name ? name : base_name(uri), local, uri, size, digest)))
        return rc;
    return 0;
}

/* Hashes a local file without storing it (references). */
static int hash_file(const char *path, runlog_digest *d, uint64_t *size)
{
    int fd;
    int rc = rl_open_file(&fd, path, O_RDONLY, 0);
    if (rc)
        return rc;
    uint8_t *buf = malloc(RL_BLOB_CHUNK);
    rl_digest_state *st = rl_digest_begin();
    uint64_t total = 0;
    if (!buf || !st)
        rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
    for (ssize_t got; !rc && (got = read(fd, buf, RL_BLOB_CHUNK)) != 0;) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            rc = rl_fail(RUNLOG_EIO, "%s: read failed: %s", path, strerror(errno));
            break;
        }
        rl_digest_update(st, buf, (size_t)got);
        total += (uint64_t)got;
    }
    if (st)
        rl_digest_end(st, d->bytes);
    free(buf);
    close(fd);
    *size = total;
    return rc;
}

static int entry_cmp(const void *x, const void *y)
{
    return strcmp(((const entry *)x)->path, ((const entry *)y)->path);
}

static int put_aliases(rl_buf *b, const runlog_artifact *a)
{
    int latest = 0, rc;
    for (size_t i = 0; i < a->naliases; i++)
        latest |= strcmp(a->aliases[i], "latest") == 0;
    if ((rc = rl_cbor_text(b, "aliases", 7)) || (rc = rl_cbor_array(b, a->naliases + !latest)))
        return rc;
    for (size_t i = 0; !rc && i < a->naliases; i++)
        rc = rl_cbor_text(b, a->aliases[i], strlen(a->aliases[i]));
    if (!rc && !latest)
        rc = rl_cbor_text(b, "latest", 6);
    return rc;
}

int runlog_writer_log_artifact(uint32_t *out_version, runlog_writer *w, runlog_artifact *a)
{
    int rc = rl_writer_check(w);
    if (rc)
        return rc;
    if (!a)
        return rl_fail(RUNLOG_EINVAL, "artifact is NULL");
    /* Store (or hash) every file; then the manifest, sorted by path. */
    uint64_t total = 0;
    for (size_t i = 0; i < a->n; i++) {
        entry *e = &a->e[i];
        if (e->uri && e->src && !e->have_digest)
            rc = hash_file(e->src, &e->digest, &e->size);
        else if (!e->uri)
            rc = runlog_writer_blob_file(&e->digest, &e->size, w, e->src);
        if (rc)
            return rc;
        e->have_digest = e->have_digest || e->src;
        total += e->size;
    }
    if (a->n)
        qsort(a->e, a->n, sizeof *a->e, entry_cmp);
    for (size_t i = 1; i < a->n; i++)
        if (strcmp(a->e[i - 1].path, a->e[i].path) == 0)
            return rl_fail(RUNLOG_EINVAL, "artifact %s has two entries at \"%s\"", a->name, a->e[i].path);
    /* Manifest digest: XXH3-128 of "path\0hexdigest\0size\0ref\n" per entry. */
    rl_buf m = { 0 }, body = { 0 };
    for (size_t i = 0; i < a->n && !rc; i++) {
        char hex[33] = "", num[24];
        if (a->e[i].have_digest)
            runlog_digest_hex(hex, &a->e[i].digest);
        snprintf(num, sizeof num, "%llu", (unsigned long long)a->e[i].size);
        const char *ref = a->e[i].uri ? a->e[i].uri : "";
        if ((rc = rl_buf_put(&m, a->e[i].path, strlen(a->e[i].path) + 1)) || (rc = rl_buf_put(&m, hex, strlen(hex) + 1)) ||
            (rc = rl_buf_put(&m, num, strlen(num) + 1)) || (rc = rl_buf_put(&m, ref, strlen(ref))) ||
            (rc = rl_buf_u8(&m, '\n')))
            break;
    }
    uint8_t digest[16];
    rl_digest(digest, m.p, m.len);
    rl_buf_free(&m);
    if (rc)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    int found;
    uint32_t version, next;
    rl_writer_artifact_lookup(w, a->name, digest, &found, &version, &next);
    if (found) {
        /* Identical content: the aliases go to the existing version. */
        if (!(rc = rl_writer_body_start(w, &body, 3)) && !(rc = rl_cbor_text(&body, "name", 4)) &&
            !(rc = rl_cbor_text(&body, a->name, strlen(a->name))) && !(rc = rl_cbor_text(&body, "version", 7)) &&
            !(rc = rl_cbor_uint(&body, version)) && !(rc = put_aliases(&body, a)))
            rc = rl_writer_record(w, RL_REC_ALIAS, &body);
    } else {
        version = next;
        rl_buf *b = &body;
        const char *desc = a->description ? a->description : "";
        if (!(rc = rl_writer_body_start(w, b, 9)) && !(rc = rl_cbor_text(b, "name", 4)) &&
            !(rc = rl_cbor_text(b, a->name, strlen(a->name))) && !(rc = rl_cbor_text(b, "type", 4)) &&
            !(rc = rl_cbor_text(b, a->type, strlen(a->type))) && !(rc = rl_cbor_text(b, "version", 7)) &&
            !(rc = rl_cbor_uint(b, version)) && !(rc = rl_cbor_text(b, "description", 11)) &&
            !(rc = rl_cbor_text(b, desc, strlen(desc))) && !(rc = rl_cbor_text(b, "metadata", 8)))
            rc = a->metadata.len ? rl_buf_put(b, a->metadata.p, a->metadata.len) : rl_cbor_map(b, 0);
        if (!rc && !(rc = put_aliases(b, a)) && !(rc = rl_cbor_text(b, "digest", 6)) &&
            !(rc = rl_cbor_bytes(b, digest, 16)) && !(rc = rl_cbor_text(b, "size", 4)) &&
            !(rc = rl_cbor_uint(b, total)) && !(rc = rl_cbor_text(b, "entries", 7)))
            rc = rl_cbor_array(b, a->n);
        for (size_t i = 0; !rc && i < a->n; i++) {
            const entry *e = &a->e[i];
            size_t fields = 2 + (e->have_digest != 0) + (e->uri != NULL);
            if ((rc = rl_cbor_map(b, fields)) || (rc = rl_cbor_text(b, "path", 4)) ||
                (rc = rl_cbor_text(b, e->path, strlen(e->path))) || (rc = rl_cbor_text(b, "size", 4)) ||
                (rc = rl_cbor_uint(b, e->size)))
                break;
            if (e->have_digest && ((rc = rl_cbor_text(b, "digest", 6)) || (rc = rl_cbor_bytes(b, e->digest.bytes, 16))))
                break;
            if (e->uri && ((rc = rl_cbor_text(b, "ref", 3)) || (rc = rl_cbor_text(b, e->uri, strlen(e->uri)))))
                break;
        }
        if (!rc)
            rc = rl_writer_record(w, RL_REC_ARTIFACT, b);
        if (!rc)
            rc = rl_writer_artifact_note(w, a->name, digest, version);
    }
    rl_buf_free(&body);
    if (rc == RUNLOG_ENOMEM)
        rc = rl_fail(rc, "out of memory");
    if (!rc && out_version)
        *out_version = version;
    return rc;
}

int runlog_writer_log_model(uint32_t *out_version, runlog_writer *w, const char *path, const char *name,
                            const char *const *aliases, size_t n_aliases)
{
    if (!path || !name || (n_aliases && !aliases))
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    struct stat st;
    if (stat(path, &st) != 0)
        return rl_fail(RUNLOG_EIO, "%s: %s", path, strerror(errno));
    runlog_artifact *a;
    int rc = runlog_artifact_new(&a, name, "model");
    if (rc)
        return rc;
    rc = S_ISDIR(st.st_mode) ? runlog_artifact_add_dir(a, path, NULL) : runlog_artifact_add_file(a, path, NULL);
    for (size_t i = 0; !rc && i < n_aliases; i++)
        rc = runlog_artifact_alias(a, aliases[i]);
    if (!rc)
        rc = runlog_writer_log_artifact(out_version, w, a);
    runlog_artifact_free(a);
    return rc;
}
