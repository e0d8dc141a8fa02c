/*
 * Artifacts (spec/FORMAT.md §12.5): named, versioned sets of files stored as
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

/* Entry paths (§12.5): 1..RUNLOG_MAX_PATH bytes of UTF-8, relative,
 * '/'-separated, with no NUL or backslash and no empty, "." or ".."
 * component or one over 255 bytes (NAME_MAX: a component becomes a file
 * name when extracted). */
const char *rl_artifact_path_problem(const char *p, size_t len)
{
    if (len == 0)
        return "empty path";
    if (len > RUNLOG_MAX_PATH)
        return "path longer than 4096 bytes";
    if (memchr(p, '\0', len))
        return "NUL byte in path";
    if (!rl_utf8_valid((const uint8_t *)p, len))
        return "path is not valid UTF-8";
    if (memchr(p, '\\', len))
        return "backslash in path";
    if (p[0] == '/')
        return "absolute path";
    for (const char *c = p, *end = p + len;;) {
        const char *slash = memchr(c, '/', (size_t)(end - c));
        size_t n = (size_t)((slash ? slash : end) - c);
        if (n == 0)
            return "empty path component";
        if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return "'.' or '..' component";
        if (n > 255)
            return "path component longer than 255 bytes";
        if (!slash)
            return NULL;
        c = slash + 1;
    }
}

int runlog_artifact_path_check(const char *path, size_t len)
{
    if (!path)
        return rl_fail(RUNLOG_EINVAL, "artifact entry path is NULL");
    const char *why = rl_artifact_path_problem(path, len);
    if (why)
        return rl_fail(RUNLOG_EINVAL, "artifact entry path \"%.*s\": %s", len > 200 ? 200 : (int)len, path, why);
    return 0;
}

static int check_entry_path(const char *p)
{
    return runlog_artifact_path_check(p, p ? strlen(p) : 0);
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

/* ---- Reading: typed access to artifact records (§12.5) ------------------------ */

static const runlog_value *get_typed(const runlog_value *map, const char *key, runlog_type type)
{
    const runlog_value *v = runlog_value_get(map, key);
    return v && v->type == type ? v : NULL;
}

/* Why entry i of an artifact body breaks §12.5, in why[] (NULL when it
 * does not): a map with a text "path" that rl_artifact_path_problem
 * accepts, a "size" >= 0, a 16-byte "digest" (a reference may lack it) and
 * for a reference a text "ref". */
static const char *entry_problem(const runlog_value *e, size_t i, char *why, size_t n)
{
    const runlog_value *path = get_typed(e, "path", RUNLOG_STRING), *size = get_typed(e, "size", RUNLOG_INT),
                       *digest = runlog_value_get(e, "digest"), *ref = runlog_value_get(e, "ref");
    const char *p;
    if (!e || e->type != RUNLOG_MAP)
        snprintf(why, n, "entry %zu is not a map", i);
    else if (!path)
        snprintf(why, n, "entry %zu: \"path\" is missing or not text", i);
    else if ((p = rl_artifact_path_problem(path->u.s, path->n)) != NULL)
        snprintf(why, n, "entry %zu: path \"%.200s\": %s", i, path->u.s, p);
    else if (!size || size->u.i < 0)
        snprintf(why, n, "entry %zu (\"%.200s\"): \"size\" is missing or not an unsigned integer", i, path->u.s);
    else if (ref && ref->type != RUNLOG_STRING)
        snprintf(why, n, "entry %zu (\"%.200s\"): \"ref\" is not text", i, path->u.s);
    else if ((digest || !ref) && (!digest || digest->type != RUNLOG_BYTES || digest->n != 16))
        snprintf(why, n, "entry %zu (\"%.200s\"): \"digest\" is %s", i, path->u.s,
                 digest ? "not 16 bytes" : "missing on a stored entry");
    else
        return NULL;
    return why;
}

static int artifact_body(const runlog_record *rec, const runlog_value **out)
{
    if (!rec)
        return rl_fail(RUNLOG_EINVAL, "NULL argument");
    if (runlog_record_type_of(rec) != RUNLOG_RECORD_ARTIFACT)
        return rl_fail(RUNLOG_EINVAL, "%s: byte %llu: a %s record is not an artifact", rl_record_path(rec),
                       (unsigned long long)runlog_record_frame_offset(rec),
                       runlog_record_type_name(runlog_record_type_of(rec)));
    *out = runlog_record_body(rec);
    return 0;
}

int runlog_record_artifact(const runlog_record *rec, const char **name, const char **type, uint32_t *version,
                           const runlog_value **aliases, size_t *n_entries)
{
    const runlog_value *b;
    int rc = artifact_body(rec, &b);
    if (rc)
        return rc;
    const runlog_value *nm = get_typed(b, "name", RUNLOG_STRING), *ty = get_typed(b, "type", RUNLOG_STRING),
                       *ver = get_typed(b, "version", RUNLOG_INT), *al = get_typed(b, "aliases", RUNLOG_LIST),
                       *dg = get_typed(b, "digest", RUNLOG_BYTES), *sz = get_typed(b, "size", RUNLOG_INT),
                       *en = get_typed(b, "entries", RUNLOG_LIST);
    if (!nm || nm->n == 0 || nm->n > RUNLOG_MAX_KEY)
        return rl_record_corrupt(rec, "artifact: \"name\" is not text of 1 to 1024 bytes");
    const char *an = nm->u.s;
    if (!ty)
        return rl_record_corrupt(rec, "artifact \"%.200s\": \"type\" is missing or not text", an);
    if (!ver || ver->u.i < 0 || ver->u.i > UINT32_MAX)
        return rl_record_corrupt(rec, "artifact \"%.200s\": \"version\" is not an integer in 0..2^32-1", an);
    if (!al)
        return rl_record_corrupt(rec, "artifact \"%.200s\": \"aliases\" is missing or not a list", an);
    for (uint32_t i = 0; i < al->n; i++)
        if (al->u.items[i].type != RUNLOG_STRING)
            return rl_record_corrupt(rec, "artifact \"%.200s\": alias %u is not text", an, i);
    if (!dg || dg->n != 16)
        return rl_record_corrupt(rec, "artifact \"%.200s\": \"digest\" is not 16 bytes", an);
    if (!sz || sz->u.i < 0)
        return rl_record_corrupt(rec, "artifact \"%.200s\": \"size\" is not an unsigned integer", an);
    if (!en)
        return rl_record_corrupt(rec, "artifact \"%.200s\": \"entries\" is missing or not a list", an);
    uint64_t total = 0;
    int wrapped = 0;
    char why[400];
    for (uint32_t i = 0; i < en->n; i++) {
        const runlog_value *e = &en->u.items[i];
        const char *p = entry_problem(e, i, why, sizeof why);
        if (p)
            return rl_record_corrupt(rec, "artifact \"%.200s\" v%lld: %s", an, (long long)ver->u.i, p);
        const runlog_value *path = runlog_value_get(e, "path");
        if (i > 0) {
            const runlog_value *prev = runlog_value_get(&en->u.items[i - 1], "path");
            size_t m = prev->n < path->n ? prev->n : path->n;
            int c = memcmp(prev->u.s, path->u.s, m);
            if (c > 0 || (c == 0 && prev->n >= path->n))
                return rl_record_corrupt(rec, "artifact \"%.200s\" v%lld: entry %u (\"%.200s\") is %s", an,
                                         (long long)ver->u.i, i, path->u.s,
                                         c == 0 && prev->n == path->n ? "a second entry at that path"
                                                                      : "out of path order");
        }
        uint64_t s = (uint64_t)runlog_value_get(e, "size")->u.i;
        wrapped |= total + s < total;
        total += s;
    }
    if (wrapped || total != (uint64_t)sz->u.i)
        return rl_record_corrupt(rec, "artifact \"%.200s\" v%lld: \"size\" %lld is not the sum of its entries' sizes",
                                 an, (long long)ver->u.i, (long long)sz->u.i);
    if (name)
        *name = an;
    if (type)
        *type = ty->u.s;
    if (version)
        *version = (uint32_t)ver->u.i;
    if (aliases)
        *aliases = al;
    if (n_entries)
        *n_entries = en->n;
    return 0;
}

int runlog_record_artifact_entry(runlog_artifact_entry_info *out, const runlog_record *rec, size_t i)
{
    const runlog_value *b;
    int rc = artifact_body(rec, &b);
    if (rc)
        return rc;
    if (!out || out->version != RUNLOG_ARTIFACT_ENTRY_INFO_VERSION)
        return rl_fail(RUNLOG_EINVAL, "entry info is NULL or not RUNLOG_ARTIFACT_ENTRY_INFO_VERSION");
    const runlog_value *en = get_typed(b, "entries", RUNLOG_LIST);
    if (!en || i >= en->n)
        return rl_fail(RUNLOG_ENOTFOUND, "%s: byte %llu: artifact has no entry %zu", rl_record_path(rec),
                       (unsigned long long)runlog_record_frame_offset(rec), i);
    char why[400];
    const runlog_value *e = &en->u.items[i];
    const char *p = entry_problem(e, i, why, sizeof why);
    if (p)
        return rl_record_corrupt(rec, "artifact \"%.200s\": %s", rl_map_text(b, "name") ? rl_map_text(b, "name") : "?", p);
    const runlog_value *path = runlog_value_get(e, "path"), *dg = runlog_value_get(e, "digest"),
                       *ref = runlog_value_get(e, "ref");
    runlog_artifact_entry_info info = *out;
    info.path = path->u.s;
    info.path_len = path->n;
    info.size = (uint64_t)runlog_value_get(e, "size")->u.i;
    info.has_digest = dg != NULL;
    memset(&info.digest, 0, sizeof info.digest);
    if (dg)
        memcpy(info.digest.bytes, dg->u.s, 16);
    info.ref = ref ? ref->u.s : NULL;
    info.ref_len = ref ? ref->n : 0;
    *out = info;
    return 0;
}
