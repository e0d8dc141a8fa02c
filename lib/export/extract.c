/*
 * extract.c — RUNLOG_EXPORT_ARTIFACT (one artifact version's files) and
 * RUNLOG_EXPORT_IMAGES (every image) under a directory (spec/EXPORTS.md
 * "extract"). What the command prints about the files written comes as
 * RUNLOG_NOTICE_OUTPUT notices, one per line.
 *
 * The file is not trusted: a crafted run-log can name any entry path, so
 * every path is checked here again (the library checks only on write), all
 * of them before anything is written, and nothing is created through a
 * symbolic link. Blobs are written by runlog_reader_blob_to_file(), which
 * checks each digest and renames a file into place only when it matches.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_internal.h"
#include "media.h"
#ifdef RX_HAVE_IMAGES
#include "image.h"
#endif

/* ---- paths ---- */

/* mkdir -p of DIR itself (the user's choice, may be anywhere). */
static int make_dirs(const char *dir)
{
    char *p = strdup(dir), *s;
    int rc = 0;

    if (!p)
        return -1;
    for (s = p + 1; *s && rc == 0; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0777) < 0 && errno != EEXIST)
            rc = -1;
        *s = '/';
    }
    if (rc == 0 && mkdir(p, 0777) < 0 && errno != EEXIST)
        rc = -1;
    free(p);
    return rc;
}


/* Refuses to write over something that is not a regular file (a folder, a
 * symbolic link, a device): rename() would replace a link rather than
 * follow it, but an error is clearer than a surprise. Nor over the run-log
 * being read (`-o .` beside it, with an entry of the same name). */
static int target_ok(int dirfd, const char *rel, const char *input)
{
    struct stat st, in;

    if (fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISREG(st.st_mode) ||
        (stat(input, &in) == 0 && st.st_dev == in.st_dev && st.st_ino == in.st_ino)) {
        errno = EEXIST;
        return -1;
    }
    return 0;
}

/* DIR/rel as text, for the library and for messages. */
static char *join(const char *dir, const char *rel)
{
    size_t a = strlen(dir), b = strlen(rel);
    char *s = malloc(a + b + 2);

    if (s) {
        memcpy(s, dir, a);
        s[a] = '/';
        memcpy(s + a + 1, rel, b + 1);
    }
    return s;
}

/* DIR/rel could not be made (errno): RUNLOG_ESTATE when something that must
 * not be replaced or followed stands there (a folder, a link), else
 * RUNLOG_EIO; the detail "DIR/rel: strerror". */
static int target_error(const char *dir, const char *rel)
{
    int err = errno;

    return runlog_error_set(err == EEXIST || err == ELOOP || err == ENOTDIR ? RUNLOG_ESTATE
                            : err == ENOMEM ? RUNLOG_ENOMEM : RUNLOG_EIO,
                            "%s/%s: %s", dir, rel, strerror(err));
}

static int no_memory(const char *file)
{
    return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", file);
}

/* Writes one blob to DIR/rel (rel already checked), relative to DIR's
 * descriptor all the way (media_blob_to_fileat): a folder of DIR swapped
 * for a link meanwhile cannot send it elsewhere. */
static int write_blob(runlog_reader *r, const char *file, int dirfd, const char *dir,
                      const char *rel, const runlog_digest *d, int64_t want_size)
{
    char *shown = join(dir, rel);
    int rc;

    if (!shown)
        return no_memory(file);
    rc = media_blob_to_fileat(r, d, dirfd, rel, shown, file, want_size);
    free(shown);
    return rc;
}

/* ---- --artifact ---- */

static int has_alias(const runlog_value *art, const char *alias)
{
    const runlog_value *list = runlog_value_get(art, "aliases");
    size_t i, n = list ? runlog_value_count(list) : 0;
    const char *s;

    for (i = 0; i < n; i++)
        if ((s = runlog_value_string(runlog_value_item(list, i), NULL)) && strcmp(s, alias) == 0)
            return 1;
    return 0;
}

/* The version of `name` that sel picks: NULL/"latest" the alias latest
 * (else the highest version), "vN" version N, else an alias. */
static const runlog_value *find_version(const runlog_value *arts, const char *name,
                                        size_t name_len, const char *sel)
{
    const runlog_value *a, *best = NULL;
    size_t i, n = arts ? runlog_value_count(arts) : 0, len;
    int64_t v, best_v = -1, want = -1;
    const char *s;
    char *end;

    if (sel && sel[0] == 'v' && sel[1] >= '0' && sel[1] <= '9') {
        want = strtoll(sel + 1, &end, 10);
        if (*end)
            want = -1; /* "v1x": an alias */
    }
    for (i = 0; i < n; i++) {
        a = runlog_value_item(arts, i);
        s = rlu_map_str(a, "name", &len);
        if (!s || len != name_len || memcmp(s, name, len) != 0 ||
            !rlu_map_int(a, "version", &v))
            continue;
        if (want >= 0 ? v == want : sel ? has_alias(a, sel) : has_alias(a, "latest"))
            return a;
        if (!sel && v > best_v)
            best = a, best_v = v;
    }
    return best;
}

/* Splits NAME[:SEL] at its last ':' and finds the version; a name that
 * itself holds ':' is tried whole first. */
static const runlog_value *pick_artifact(const runlog_value *arts, const char *spec)
{
    const char *colon = strrchr(spec, ':');
    const runlog_value *a = find_version(arts, spec, strlen(spec), NULL);

    if (a || !colon)
        return a;
    return find_version(arts, spec, (size_t)(colon - spec), colon + 1);
}

/* Every entry path must be safe before anything is written: a run-log
 * that names an unsafe one is refused whole (RUNLOG_ECORRUPT). */
typedef struct entry_path {
    const char *p;
    size_t len, index;
} entry_path;

static int entry_path_cmp(const void *a, const void *b)
{
    const entry_path *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    return c ? c : x->len < y->len ? -1 : x->len > y->len;
}

/* Two entries of one path (FORMAT §12.5 forbids it): the second would
 * overwrite the first, and extract would report both. Sorted, so that a
 * large artifact is checked in n log n. */
static int check_unique_paths(const char *file, const runlog_value *entries)
{
    size_t i, n = runlog_value_count(entries);
    entry_path *v = calloc(n ? n : 1, sizeof *v);
    int rc = 0;

    if (!v)
        return no_memory(file);
    for (i = 0; i < n; i++) {
        v[i].p = rlu_map_str(runlog_value_item(entries, i), "path", &v[i].len);
        v[i].index = i;
        if (!v[i].p)
            v[i].p = "", v[i].len = 0; /* refused by check_entries() before */
    }
    qsort(v, n, sizeof *v, entry_path_cmp);
    for (i = 1; i < n && rc == 0; i++)
        if (entry_path_cmp(&v[i - 1], &v[i]) == 0)
            rc = runlog_error_set(RUNLOG_ECORRUPT,
                                  "%s: artifact entries %zu and %zu both have the path \"%.200s\"; "
                                  "nothing extracted", file, v[i - 1].index < v[i].index ? v[i - 1].index : v[i].index,
                                  v[i - 1].index < v[i].index ? v[i].index : v[i - 1].index, v[i].p);
    free(v);
    return rc;
}

static int check_entries(const char *file, const runlog_value *entries)
{
    size_t i, n = runlog_value_count(entries), len;
    const runlog_value *e;
    const char *p, *why;
    runlog_digest d;

    for (i = 0; i < n; i++) {
        e = runlog_value_item(entries, i);
        p = rlu_map_str(e, "path", &len);
        /* The library's one path rule (spec/FORMAT.md §12.5); its detail
         * quotes the path and says why. */
        if (p && runlog_artifact_path_check(p, len) < 0)
            return runlog_error_set(RUNLOG_ECORRUPT,
                                    "%s: artifact entry %zu (\"%.200s\"): %s; nothing extracted",
                                    file, i, p, runlog_error_detail());
        why = !p ? "entry without a path"
            : !runlog_value_get(e, "ref") && runlog_value_digest(&d, e) < 0 ? "entry without a digest"
            : NULL;
        if (why)
            return runlog_error_set(RUNLOG_ECORRUPT,
                                    "%s: artifact entry %zu (\"%.200s\"): %s; nothing extracted",
                                    file, i, p ? p : "", why);
    }
    return check_unique_paths(file, entries);
}

static void print_ref(rx_ctx *x, const runlog_value *e, const char *path)
{
    const char *uri = rlu_map_str(e, "ref", NULL);
    int64_t size = 0;

    rlu_map_int(e, "size", &size);
    rx_notice(x, RUNLOG_NOTICE_OUTPUT, "reference %s -> %s (%" PRId64 " bytes, not fetched)", path,
              uri ? uri : "?", size);
}

static int extract_entries(rx_ctx *x, runlog_reader *r, const char *file,
                           const runlog_value *entries, int dirfd, const char *dir)
{
    size_t i, n = runlog_value_count(entries), files = 0;
    int64_t size, total = 0;
    const runlog_value *e;
    runlog_digest d;
    const char *p;
    int status;

    for (i = 0; i < n; i++) {
        e = runlog_value_item(entries, i);
        p = rlu_map_str(e, "path", NULL);
        if (runlog_value_get(e, "ref")) {
            print_ref(x, e, p);
            continue;
        }
        if (runlog_value_digest(&d, e) < 0)
            return runlog_error_set(RUNLOG_ECORRUPT, "%s: artifact entry %zu has no digest",
                                    file, i);
        size = -1;
        rlu_map_int(e, "size", &size);
        if ((status = write_blob(r, file, dirfd, dir, p, &d, size < 0 ? 0 : size)) < 0)
            return status;
        total += size;
        files++;
        rx_notice(x, RUNLOG_NOTICE_OUTPUT, "%s/%s (%" PRId64 " bytes)", dir, p, size);
    }
    rx_notice(x, RUNLOG_NOTICE_OUTPUT, "extracted %zu files, %" PRId64 " bytes", files, total);
    return 0;
}

/* The output folder, created if missing: its descriptor, or a negative
 * runlog_error. */
static int open_dir(const char *dir)
{
    int fd;

    if (make_dirs(dir) < 0 || (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return rx_sys_error(dir);
    return fd;
}

static int extract_artifact(rx_ctx *x, runlog_reader *r, const runlog_run *run)
{
    const char *path = x->inputs[0], *spec = x->o->artifact;
    const runlog_value *a = pick_artifact(runlog_run_artifacts(run), spec), *entries;
    int64_t version = 0;
    int status, dirfd;

    if (!a)
        return runlog_error_set(RUNLOG_ENOTFOUND, "%s: no artifact '%s'", path, spec);
    entries = runlog_value_get(a, "entries");
    if (!entries || runlog_value_type(entries) != RUNLOG_LIST)
        return runlog_error_set(RUNLOG_ECORRUPT, "%s: artifact '%s' has no entry list", path,
                                spec);
    if ((status = check_entries(path, entries)) < 0)
        return status;
    if ((dirfd = open_dir(x->out)) < 0)
        return dirfd;
    rlu_map_int(a, "version", &version);
    rx_notice(x, RUNLOG_NOTICE_OUTPUT, "artifact %s:v%" PRId64, rlu_map_str(a, "name", NULL),
              version);
    status = extract_entries(x, r, path, entries, dirfd, x->out);
    close(dirfd);
    return status;
}

/* Opens the input and its run, runs one extraction, reports damage. Strict
 * policy: runlog_reader_run() reads every frame of the file, so damage
 * fails it before the folder is made. */
static int with_run(rx_ctx *x, int (*extract)(rx_ctx *, runlog_reader *, const runlog_run *))
{
    const char *path = x->inputs[0];
    runlog_reader *r;
    runlog_run *run;
    int rc;

    if ((rc = rx_open_run(x, &r, &run, path)) < 0)
        return rc;
    rc = extract(x, r, run);
    runlog_run_free(run);
    runlog_reader_close(r);
    return rc < 0 ? rc : rx_report_damage(x, path);
}

int rx_export_artifact(rx_ctx *x)
{
    return with_run(x, extract_artifact);
}


/* ---- images (needs libspng for raw pixels) ---- */

#ifdef RX_HAVE_IMAGES

typedef struct image_pass {
    runlog_reader *blobs; /* the pass's reader (blob reads do not move it) */
    const char *file, *dir;
    int dirfd;
    size_t written;
} image_pass;

/* A raw image: pixels -> PNG, written beside the target and renamed. */
static int write_raw(image_pass *p, const runlog_value *img, const char *name)
{
    runlog_image_info info = RUNLOG_IMAGE_INFO_INIT;
    char *tmp = NULL;
    void *png = NULL;
    size_t len = 0;
    int fd, rc, err;

    /* The PNG bytes the W&B export writes too (image.c: the library's shape
     * rules, libspng's encoder). */
    if ((rc = png_image_file_bytes(p->blobs, p->file, img, &info, &png, &len)) < 0)
        return rc;
    /* DIR/.runlog-tmp-XXXXXX: mkstemp's random name, created exclusively (a
     * guessable one could be taken ahead by a link), and short whatever the
     * length of NAME (a name near 255 bytes plus a suffix would not fit). */
    if (asprintf(&tmp, "%s/.runlog-tmp-XXXXXX", p->dir) < 0) {
        free(png);
        return no_memory(p->file);
    }
    if ((fd = rlu_mkstemp(tmp)) < 0) {
        free(png);
        free(tmp);
        return target_error(p->dir, name);
    }
    rc = rlu_write_all(fd, png, len);
    err = errno;
    free(png);
    if (close(fd) != 0 && rc == 0)
        rc = -1, err = errno;
    if (rc == 0 && renameat(AT_FDCWD, tmp, p->dirfd, name) < 0)
        rc = -1, err = errno;
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc < 0 ? runlog_error_set(RUNLOG_EIO, "%s/%s: %s", p->dir, name, strerror(err)) : 0;
}

static int write_image(image_pass *p, const runlog_value *img, const char *name)
{
    const char *fmt = rlu_map_str(img, "format", NULL);
    runlog_digest d;
    int status;

    if (runlog_value_digest(&d, img) < 0)
        return runlog_error_set(RUNLOG_ECORRUPT, "%s: image %s has no digest", p->file, name);
    if (target_ok(p->dirfd, name, p->file) < 0)
        return target_error(p->dir, name);
    if (fmt && strcmp(fmt, "raw") == 0)
        status = write_raw(p, img, name);
    else if (fmt && (strcmp(fmt, "png") == 0 || strcmp(fmt, "jpeg") == 0)) {
        /* The map's size, as runlog_reader_image() holds the blob to it. */
        int64_t size = -1;
        rlu_map_int(img, "size", &size);
        status = write_blob(p->blobs, p->file, p->dirfd, p->dir, name, &d, size < 0 ? 0 : size);
    }
    else
        return runlog_error_set(RUNLOG_EUNSUPPORTED, "%s: image %s: unknown format '%s'",
                                p->file, name, fmt ? fmt : "");
    if (status == 0)
        p->written++;
    return status;
}

static int table_images(image_pass *p, const char *key, uint64_t step, const runlog_value *t)
{
    char name[MEDIA_NAME_MAX];
    runlog_digest d;
    runlog_doc *doc;
    const runlog_value *v, *cell;
    size_t c, row, ncols, nrows;
    const char *type;
    int rc, status = 0;

    if ((rc = runlog_value_digest(&d, t)) < 0 || (rc = runlog_reader_table(&doc, p->blobs, &d)) < 0)
        return rx_lib_error(p->file, rc);
    v = runlog_doc_value(doc);
    ncols = media_table_ncols(v);
    nrows = media_table_nrows(v);
    for (c = 0; c < ncols && status == 0; c++) {
        type = media_table_type(v, c);
        if (!type || strcmp(type, "image") != 0)
            continue;
        for (row = 0; row < nrows && status == 0; row++) {
            cell = media_table_cell(v, row, c);
            if (media_kind_of(cell) != MEDIA_IMAGE)
                continue; /* a null cell */
            media_image_name(name, key, step, row, media_table_column(v, c), cell);
            status = write_image(p, cell, name);
        }
    }
    runlog_doc_free(doc);
    return status;
}

static int row_images(image_pass *p, const runlog_record *rec)
{
    size_t i, k, n = runlog_record_field_count(rec);
    uint64_t step = runlog_record_step(rec);
    char name[MEDIA_NAME_MAX];
    const runlog_value *v;
    const char *key;
    int status = 0;

    for (i = 0; i < n && status == 0; i++) {
        v = runlog_record_field_value(rec, i);
        key = runlog_record_field_key(rec, i);
        switch (media_kind_of(v)) {
        case MEDIA_IMAGE:
        case MEDIA_IMAGES:
            for (k = 0; k < media_image_count(v) && status == 0; k++) {
                media_image_name(name, key, step, k, NULL, media_image_at(v, k));
                status = write_image(p, media_image_at(v, k), name);
            }
            break;
        case MEDIA_TABLE:
            status = table_images(p, key, step, v);
            break;
        default:
            break;
        }
    }
    return status;
}

/* One pass over the rows of the snapshot (rx_quota). */
static int extract_images(rx_ctx *x, runlog_reader *r, const runlog_run *run)
{
    /* Blob reads go through the pass's own reader: they do not move it. */
    image_pass p = {r, x->inputs[0], x->out, -1, 0};
    const runlog_record *rec;
    rx_quota q;
    int rc = 0, status = 0;

    if ((p.dirfd = open_dir(p.dir)) < 0)
        return p.dirfd;
    rx_quota_init(&q, run);
    while (status == 0 && (rc = runlog_reader_next(r, &rec)) == 0)
        if (runlog_record_type_of(rec) == RUNLOG_RECORD_HISTORY &&
            rx_quota_take(&q, RUNLOG_RECORD_HISTORY))
            status = row_images(&p, rec);
    if (status == 0 && rc != RUNLOG_ITEROVER)
        status = rx_lib_error(p.file, rc);
    close(p.dirfd);
    if (status == 0)
        rx_notice(x, RUNLOG_NOTICE_OUTPUT, "extracted %zu images into %s", p.written, p.dir);
    return status;
}

int rx_export_images(rx_ctx *x)
{
    return with_run(x, extract_images);
}

#endif /* RX_HAVE_IMAGES */
