/*
 * media.c — see media.h. Everything here reads values given by the library
 * and trusts none of them: a crafted file may put anything in a map that
 * says "_type": "image".
 */
#include "media.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *map_type(const runlog_value *v)
{
    if (!v || runlog_value_type(v) != RUNLOG_MAP)
        return NULL;
    return rlu_map_str(v, "_type", NULL);
}

static int is_image(const runlog_value *v)
{
    const char *t = map_type(v);
    return t && strcmp(t, "image") == 0;
}

media_kind media_kind_of(const runlog_value *v)
{
    const char *t = map_type(v);
    size_t i, n;

    if (t)
        return strcmp(t, "image") == 0 ? MEDIA_IMAGE
             : strcmp(t, "table") == 0 ? MEDIA_TABLE : MEDIA_NONE;
    if (!v || runlog_value_type(v) != RUNLOG_LIST || (n = runlog_value_count(v)) == 0)
        return MEDIA_NONE;
    for (i = 0; i < n; i++)
        if (!is_image(runlog_value_item(v, i)))
            return MEDIA_NONE;
    return MEDIA_IMAGES;
}

/* These two are called per image, often in a loop's condition: they must
 * not walk the list again (media_kind_of() did, once), or a cell of 10^5
 * images costs 10^10 steps. */
size_t media_image_count(const runlog_value *v)
{
    if (runlog_value_type(v) == RUNLOG_LIST)
        return is_image(runlog_value_item(v, 0)) ? runlog_value_count(v) : 0;
    return is_image(v) ? 1 : 0;
}

const runlog_value *media_image_at(const runlog_value *v, size_t i)
{
    if (runlog_value_type(v) == RUNLOG_MAP)
        return i == 0 ? v : NULL;
    return runlog_value_item(v, i);
}


/* Appends src to out[*n], safe for a file name, up to max bytes in all,
 * never cutting a UTF-8 sequence. */
static void put_safe(char *out, size_t *n, size_t max, const char *src)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t len = strlen(src), i = 0, k;

    while (i < len) {
        k = rlu_utf8_len(s + i, len - i);
        if (k == 0)
            k = 1; /* a stray byte: replaced below like a control byte */
        if (*n + k > max)
            break;
        if (k == 1 && (s[i] < 0x20 || s[i] == 0x7f || s[i] == '/' || s[i] == '\\' ||
                       s[i] >= 0x80))
            out[(*n)++] = '_';
        else
            memcpy(out + *n, s + i, k), *n += k;
        i += k;
    }
    out[*n] = '\0';
}

void media_image_name(char out[MEDIA_NAME_MAX], const char *key, uint64_t step, size_t index,
                      const char *column, const runlog_value *image)
{
    const char *fmt = rlu_map_str(image, "format", NULL);
    const char *ext = fmt && strcmp(fmt, "jpeg") == 0 ? "jpg" : "png";
    char tail[MEDIA_NAME_MAX], col[MEDIA_NAME_MAX];
    size_t n = 0, tn;

    /* The column is cut to 64 bytes and the key to what is left, so that
     * "<step>_<index>.<ext>" always fits in NAME_MAX (255). */
    col[0] = '\0';
    if (column) {
        tn = 0;
        put_safe(col, &tn, 64, column);
    }
    snprintf(tail, sizeof tail, "_%" PRIu64 "_%zu%s%s.%s", step, index, column ? "_" : "",
             col, ext);
    tn = strlen(tail);
    put_safe(out, &n, MEDIA_NAME_MAX - 1 - tn, key);
    memcpy(out + n, tail, tn + 1);
}

void media_digest_hex(char out[33], const runlog_value *map)
{
    runlog_digest d;

    if (runlog_value_digest(&d, map) == 0)
        runlog_digest_hex(out, &d);
    else
        memset(out, '?', 32), out[32] = '\0';
}

/* A value as tj_value() writes it, except that a 16-byte "digest" entry of
 * any map inside it becomes 32 hex digits. */
static int json_hexed(rlu_json *j, const runlog_value *v, int depth, const char *file)
{
    size_t i, n = runlog_value_count(v), len;
    const runlog_value *item;
    const char *key;
    runlog_digest d;
    char hex[33];
    int rc = 0;

    if (depth > 8 || (runlog_value_type(v) != RUNLOG_MAP && runlog_value_type(v) != RUNLOG_LIST))
        return tj_value(j, v); /* deeper: user metadata, written as it is */
    if (runlog_value_type(v) == RUNLOG_LIST) {
        tj_arr(j);
        for (i = 0; i < n && rc == 0; i++)
            rc = json_hexed(j, runlog_value_item(v, i), depth + 1, NULL);
        tj_arr_end(j);
        return rc;
    }
    tj_obj(j);
    for (i = 0; i < n && rc == 0; i++) {
        key = runlog_value_key(v, i, &len);
        item = runlog_value_item(v, i);
        tj_key(j, key ? key : "");
        if (key && strcmp(key, "digest") == 0 && runlog_value_digest(&d, v) == 0) {
            runlog_digest_hex(hex, &d);
            tj_str(j, hex);
        } else {
            rc = json_hexed(j, item, depth + 1, NULL);
        }
    }
    if (file) {
        tj_key(j, "file");
        tj_str(j, file);
    }
    tj_obj_end(j);
    return rc;
}

int media_json(rlu_json *j, const runlog_value *map, const char *file)
{
    return json_hexed(j, map, 0, runlog_value_type(map) == RUNLOG_MAP ? file : NULL);
}

static const runlog_value *doc_list(const runlog_value *doc, const char *key)
{
    const runlog_value *v = doc ? runlog_value_get(doc, key) : NULL;
    return v && runlog_value_type(v) == RUNLOG_LIST ? v : NULL;
}

size_t media_table_ncols(const runlog_value *doc)
{
    const runlog_value *c = doc_list(doc, "columns"), *t = doc_list(doc, "types"),
                       *d = doc_list(doc, "data");
    size_t n = c ? runlog_value_count(c) : 0;

    /* A document whose three lists disagree is treated as having no columns. */
    if (!t || !d || runlog_value_count(t) != n || runlog_value_count(d) != n)
        return 0;
    return n;
}

size_t media_table_nrows(const runlog_value *doc)
{
    const runlog_value *d = doc_list(doc, "data");
    size_t c, n = media_table_ncols(doc), rows = 0, k;

    for (c = 0; c < n; c++) {
        k = runlog_value_count(runlog_value_item(d, c));
        if (c == 0 || k < rows)
            rows = k; /* ragged columns: the rows every column has */
    }
    return rows;
}

const char *media_table_column(const runlog_value *doc, size_t c)
{
    return c < media_table_ncols(doc)
               ? runlog_value_string(runlog_value_item(doc_list(doc, "columns"), c), NULL)
               : NULL;
}

const char *media_table_type(const runlog_value *doc, size_t c)
{
    return c < media_table_ncols(doc)
               ? runlog_value_string(runlog_value_item(doc_list(doc, "types"), c), NULL)
               : NULL;
}

const runlog_value *media_table_cell(const runlog_value *doc, size_t row, size_t c)
{
    if (c >= media_table_ncols(doc))
        return NULL;
    return runlog_value_item(runlog_value_item(doc_list(doc, "data"), c), row);
}

void media_count_row(media_counts *c, const runlog_record *rec)
{
    size_t i, k, n = runlog_record_field_count(rec), ntypes;
    const runlog_value *v, *types;
    const char *t;
    int64_t nrows;

    for (i = 0; i < n; i++) {
        v = runlog_record_field_value(rec, i);
        switch (media_kind_of(v)) {
        case MEDIA_IMAGE:
        case MEDIA_IMAGES:
            c->images += media_image_count(v);
            break;
        case MEDIA_TABLE:
            c->tables++;
            types = runlog_value_get(v, "types");
            ntypes = types ? runlog_value_count(types) : 0;
            if (!rlu_map_int(v, "nrows", &nrows) || nrows < 0)
                nrows = 0;
            /* The map is not checked against its blob here: bound what a
             * crafted count can add (spec §12.4: at most 2^24 rows). */
            if (nrows > RUNLOG_MAX_TABLE_ROWS)
                nrows = RUNLOG_MAX_TABLE_ROWS;
            for (k = 0; k < ntypes; k++)
                if ((t = runlog_value_string(runlog_value_item(types, k), NULL)) &&
                    strcmp(t, "image") == 0)
                    c->table_images += (uint64_t)nrows;
            break;
        default:
            break;
        }
    }
}


int media_open_parent(int dirfd, const char *rel, const char **leaf)
{
    char *p = strdup(rel), *c, *slash;
    int fd = dup(dirfd), next, err;

    if (!p || fd < 0) {
        err = p ? errno : ENOMEM;
        free(p);
        if (fd >= 0)
            close(fd);
        errno = err;
        return -1;
    }
    for (c = p; (slash = strchr(c, '/')) != NULL; c = slash + 1) {
        *slash = '\0';
        if ((mkdirat(fd, c, 0777) < 0 && errno != EEXIST) ||
            /* ELOOP for a symbolic link, ENOTDIR for a file */
            (next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
            err = errno;
            close(fd);
            free(p);
            errno = err;
            return -1;
        }
        close(fd);
        fd = next;
    }
    *leaf = rel + (c - p);
    free(p);
    return fd;
}

int media_make_parents(int dirfd, const char *rel)
{
    const char *leaf;
    int fd = media_open_parent(dirfd, rel, &leaf);

    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

int media_blob_to_fileat(runlog_reader *r, const runlog_digest *d, int dirfd, const char *rel,
                         const char *shown, const char *input, int64_t want_size)
{
    static const char letters[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    char tmp[sizeof ".runlog-tmp-" + 12];
    unsigned char rnd[12];
    const char *leaf;
    int parent, fd = -1, rc, attempt, k;

    if ((parent = media_open_parent(dirfd, rel, &leaf)) < 0)
        return runlog_error_set(errno == ENOMEM ? RUNLOG_ENOMEM
                                : errno == ELOOP || errno == ENOTDIR || errno == EEXIST ? RUNLOG_ESTATE
                                : RUNLOG_EIO, "%s: %s", shown, strerror(errno));
    /* The leaf is replaced only when it is a regular file, and never when
     * it is the input (`-o .` beside the run-log). */
    {
        struct stat st, in;
        if (fstatat(parent, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            (!S_ISREG(st.st_mode) ||
             (input && stat(input, &in) == 0 && st.st_dev == in.st_dev && st.st_ino == in.st_ino))) {
            close(parent);
            return runlog_error_set(RUNLOG_ESTATE, "%s: %s", shown, strerror(EEXIST));
        }
    }
    /* A random name made here, in the parent reached without following a
     * link: O_EXCL|O_NOFOLLOW refuses whatever was planted under it. */
    for (attempt = 0; attempt < 100 && fd < 0; attempt++) {
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
            break;
        memcpy(tmp, ".runlog-tmp-", 12);
        for (k = 0; k < 12; k++)
            tmp[12 + k] = letters[rnd[k] % (sizeof letters - 1)];
        tmp[24] = '\0';
        fd = openat(parent, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        rc = runlog_error_set(RUNLOG_EIO, "%s: cannot create a temporary file beside it: %s", shown,
                              strerror(errno));
        close(parent);
        return rc;
    }
    rc = runlog_reader_blob_to_fd(r, d, fd);
    {
        /* A manifest whose entry size is not its blob's lies about the
         * file: refused, rather than written and reported at the size it
         * claims. */
        struct stat st;
        if (rc == 0 && want_size >= 0 && fstat(fd, &st) == 0 && st.st_size != want_size)
            rc = runlog_error_set(RUNLOG_ECORRUPT, "%s: the artifact entry records %lld bytes, its blob holds %lld",
                                  shown, (long long)want_size, (long long)st.st_size);
    }
    if (close(fd) != 0 && rc == 0)
        rc = runlog_error_set(RUNLOG_EIO, "%s: %s", shown, strerror(errno));
    if (rc == 0 && renameat(parent, tmp, parent, leaf) < 0)
        rc = runlog_error_set(RUNLOG_EIO, "%s: %s", shown, strerror(errno));
    if (rc < 0)
        unlinkat(parent, tmp, 0);
    close(parent);
    return rc;
}
