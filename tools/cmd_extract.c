/*
 * cmd_extract.c — `runlog extract FILE --artifact NAME[:vN|:ALIAS] -o DIR`
 * and `runlog extract FILE --images -o DIR` (spec/EXPORTS.md "extract").
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

#include "media.h"
#include "util.h"
#include "png.h"

typedef struct extract_opts {
    const char *path, *artifact, *dir;
    int images;
} extract_opts;

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


/* The run-log being read (device and inode), which no extracted file may
 * replace: `-o .` beside it with an entry of the same name would. */
static struct stat input_st;

/* Refuses to write over something that is not a regular file (a folder, a
 * symbolic link, a device): rename() would replace a link rather than
 * follow it, but an error is clearer than a surprise. Nor over the input. */
static int target_ok(int dirfd, const char *rel)
{
    struct stat st;

    if (fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISREG(st.st_mode) || (st.st_dev == input_st.st_dev && st.st_ino == input_st.st_ino)) {
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

/* Writes one blob to DIR/rel (rel already checked). The library writes
 * a temporary file of its own beside it first (exclusively, random name). */
static int write_blob(runlog_reader *r, const char *file, int dirfd, const char *dir,
                      const char *rel, const runlog_digest *d)
{
    char *full = NULL;
    int rc, ok;

    ok = media_make_parents(dirfd, rel) == 0 && target_ok(dirfd, rel) == 0;
    if (!ok) {
        fprintf(stderr, "runlog: %s/%s: %s\n", dir, rel, strerror(errno));
        return TOOL_FAIL;
    }
    if (!(full = join(dir, rel)))
        return tool_lib_error(file, RUNLOG_ENOMEM);
    rc = runlog_reader_blob_to_file(r, d, full);
    free(full);
    return rc < 0 ? tool_lib_error(file, rc) : TOOL_OK;
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

/* Every entry path must be safe before anything is written. */
static int check_entries(const char *file, const runlog_value *entries)
{
    size_t i, n = runlog_value_count(entries), len;
    const runlog_value *e;
    const char *p, *why;
    runlog_digest d;

    for (i = 0; i < n; i++) {
        e = runlog_value_item(entries, i);
        p = rlu_map_str(e, "path", &len);
        why = p ? media_entry_path_problem(p, len) : "entry without a path";
        if (!why && !runlog_value_get(e, "ref") && runlog_value_digest(&d, e) < 0)
            why = "entry without a digest";
        if (why) {
            fprintf(stderr, "runlog: %s: artifact entry %zu (\"%.200s\"): %s; nothing extracted\n",
                    file, i, p ? p : "", why);
            return TOOL_FAIL;
        }
    }
    return TOOL_OK;
}

static void print_ref(const runlog_value *e, const char *path)
{
    const char *uri = rlu_map_str(e, "ref", NULL);
    int64_t size = 0;

    rlu_map_int(e, "size", &size);
    printf("reference %s -> %s (%" PRId64 " bytes, not fetched)\n", path, uri ? uri : "?", size);
}

static int extract_entries(runlog_reader *r, const char *file, const runlog_value *entries,
                           int dirfd, const char *dir)
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
            print_ref(e, p);
            continue;
        }
        if (runlog_value_digest(&d, e) < 0)
            return tool_lib_error(file, RUNLOG_ECORRUPT);
        if ((status = write_blob(r, file, dirfd, dir, p, &d)) != TOOL_OK)
            return status;
        size = 0;
        rlu_map_int(e, "size", &size);
        total += size;
        files++;
        printf("%s/%s (%" PRId64 " bytes)\n", dir, p, size);
    }
    printf("extracted %zu files, %" PRId64 " bytes\n", files, total);
    return TOOL_OK;
}

static int open_dir(const char *dir)
{
    int fd = -1;

    if (make_dirs(dir) < 0 || (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        tool_sys_error(dir);
    return fd;
}

static int extract_artifact(runlog_reader *r, const runlog_run *run, const extract_opts *o)
{
    const runlog_value *a = pick_artifact(runlog_run_artifacts(run), o->artifact), *entries;
    int64_t version = 0;
    int status, dirfd;

    if (!a) {
        fprintf(stderr, "runlog: %s: no artifact '%s'\n", o->path, o->artifact);
        return TOOL_FAIL;
    }
    entries = runlog_value_get(a, "entries");
    if (!entries || runlog_value_type(entries) != RUNLOG_LIST) {
        fprintf(stderr, "runlog: %s: artifact '%s' has no entry list\n", o->path, o->artifact);
        return TOOL_FAIL;
    }
    if ((status = check_entries(o->path, entries)) != TOOL_OK)
        return status;
    if ((dirfd = open_dir(o->dir)) < 0)
        return TOOL_FAIL;
    rlu_map_int(a, "version", &version);
    printf("artifact %s:v%" PRId64 "\n", rlu_map_str(a, "name", NULL), version);
    status = extract_entries(r, o->path, entries, dirfd, o->dir);
    close(dirfd);
    return status;
}

/* ---- --images ---- */

typedef struct image_pass {
    runlog_reader *blobs; /* a second reader: blob reads must not disturb the walk */
    const char *file, *dir;
    int dirfd;
    size_t written;
} image_pass;

/* A raw image: pixels -> PNG, written beside the target and renamed. */
static int write_raw(image_pass *p, const runlog_value *img, const runlog_digest *d,
                     const char *name)
{
    uint32_t h, w, c;
    char *tmp = NULL;
    const char *why = "";
    void *px = NULL;
    size_t len = 0;
    FILE *f = NULL;
    int fd, rc;

    if ((rc = runlog_reader_blob(&px, &len, p->blobs, d)) < 0)
        return tool_lib_error(p->file, rc);
    if (media_raw_shape(img, len, &h, &w, &c, &why) < 0) {
        runlog_free(px);
        fprintf(stderr, "runlog: %s: image %s (%zu bytes): %s\n", p->file, name, len, why);
        return TOOL_FAIL;
    }
    /* DIR/.NAME.tmp-XXXXXX: mkstemp()'s random name, created exclusively;
     * a guessable one (.NAME.tmp-PID) could have been taken ahead. */
    if (asprintf(&tmp, "%s/.%s.tmp-XXXXXX", p->dir, name) < 0) {
        runlog_free(px);
        return tool_lib_error(p->file, RUNLOG_ENOMEM);
    }
    fd = rlu_mkstemp(tmp);
    if (fd >= 0 && !(f = fdopen(fd, "wb"))) {
        close(fd);
        unlink(tmp);
    }
    rc = f ? png_write(f, px, h, w, c, &why) : -1;
    if (f && fclose(f) != 0 && rc == 0)
        rc = -1, why = strerror(errno);
    runlog_free(px);
    if (rc == 0 && renameat(AT_FDCWD, tmp, p->dirfd, name) < 0)
        rc = -1, why = strerror(errno);
    if (rc < 0) {
        if (f)
            unlink(tmp);
        fprintf(stderr, "runlog: %s/%s: %s\n", p->dir, name, f ? why : strerror(errno));
    }
    free(tmp);
    return rc < 0 ? TOOL_FAIL : TOOL_OK;
}

static int write_image(image_pass *p, const runlog_value *img, const char *name)
{
    const char *fmt = rlu_map_str(img, "format", NULL);
    runlog_digest d;
    int status;

    if (runlog_value_digest(&d, img) < 0) {
        fprintf(stderr, "runlog: %s: image %s has no digest\n", p->file, name);
        return TOOL_FAIL;
    }
    if (target_ok(p->dirfd, name) < 0) {
        fprintf(stderr, "runlog: %s/%s: %s\n", p->dir, name, strerror(errno));
        return TOOL_FAIL;
    }
    if (fmt && strcmp(fmt, "raw") == 0)
        status = write_raw(p, img, &d, name);
    else if (fmt && (strcmp(fmt, "png") == 0 || strcmp(fmt, "jpeg") == 0))
        status = write_blob(p->blobs, p->file, p->dirfd, p->dir, name, &d);
    else {
        fprintf(stderr, "runlog: %s: image %s: unknown format '%s'\n", p->file, name,
                fmt ? fmt : "");
        return TOOL_FAIL;
    }
    if (status == TOOL_OK)
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
    int rc, status = TOOL_OK;

    if ((rc = runlog_value_digest(&d, t)) < 0 || (rc = runlog_reader_table(&doc, p->blobs, &d)) < 0)
        return tool_lib_error(p->file, rc);
    v = runlog_doc_value(doc);
    ncols = media_table_ncols(v);
    nrows = media_table_nrows(v);
    for (c = 0; c < ncols && status == TOOL_OK; c++) {
        type = media_table_type(v, c);
        if (!type || strcmp(type, "image") != 0)
            continue;
        for (row = 0; row < nrows && status == TOOL_OK; row++) {
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
    int status = TOOL_OK;

    for (i = 0; i < n && status == TOOL_OK; i++) {
        v = runlog_record_field_value(rec, i);
        key = runlog_record_field_key(rec, i);
        switch (media_kind_of(v)) {
        case MEDIA_IMAGE:
        case MEDIA_IMAGES:
            for (k = 0; k < media_image_count(v) && status == TOOL_OK; k++) {
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

static int extract_images(runlog_reader *r, const extract_opts *o)
{
    image_pass p = {NULL, o->path, o->dir, -1, 0};
    const runlog_record *rec;
    int rc = 0, status = TOOL_OK;

    if ((p.dirfd = open_dir(o->dir)) < 0)
        return TOOL_FAIL;
    if (tool_open_reader(&p.blobs, o->path, RUNLOG_READ_TOLERANT) != TOOL_OK) {
        close(p.dirfd);
        return TOOL_FAIL;
    }
    while (status == TOOL_OK && (rc = runlog_reader_next(r, &rec)) == 0)
        if (runlog_record_type_of(rec) == RUNLOG_RECORD_HISTORY)
            status = row_images(&p, rec);
    if (status == TOOL_OK && rc != RUNLOG_ITEROVER)
        status = tool_lib_error(o->path, rc);
    runlog_reader_close(p.blobs);
    close(p.dirfd);
    if (status == TOOL_OK)
        printf("extracted %zu images into %s\n", p.written, o->dir);
    return status;
}

/* ---- the subcommand ---- */

static int parse_extract(int argc, char **argv, extract_opts *o)
{
    static const struct option longopts[] = {
        {"artifact", required_argument, NULL, 'a'},
        {"images", no_argument, NULL, 'i'},
        {"output", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0}};
    int c;

    memset(o, 0, sizeof *o);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'a': o->artifact = optarg; break;
        case 'i': o->images = 1; break;
        case 'o': o->dir = optarg; break;
        default: return tool_bad_option(argv[0], argv, c);
        }
    }
    if (argc - optind != 1)
        return tool_usage(argv[0], "expected one FILE");
    o->path = argv[optind];
    if (!o->artifact == !o->images)
        return tool_usage(argv[0], "give either --artifact NAME or --images");
    if (!o->dir || !o->dir[0] || strcmp(o->dir, "-") == 0)
        return tool_usage(argv[0], "-o DIR is required (a folder)");
    if (o->artifact && !o->artifact[0])
        return tool_usage(argv[0], "--artifact needs a name");
    return TOOL_OK;
}

int cmd_extract(int argc, char **argv)
{
    extract_opts o;
    runlog_reader *r = NULL;
    runlog_run *run = NULL;
    int status = parse_extract(argc, argv, &o), rc;

    if (status != TOOL_OK)
        return status;
    if (tool_check_output(o.dir, &o.path, 1) != TOOL_OK ||
        tool_open_reader(&r, o.path, RUNLOG_READ_TOLERANT) != TOOL_OK)
        return TOOL_FAIL;
    if (stat(o.path, &input_st) < 0)
        memset(&input_st, 0, sizeof input_st); /* just opened: not expected */
    if ((rc = runlog_reader_run(&run, r)) < 0) {
        status = tool_lib_error(o.path, rc);
        goto out;
    }
    status = o.images ? extract_images(r, &o) : extract_artifact(r, run, &o);
out:
    runlog_run_free(run);
    runlog_reader_close(r);
    if (fflush(stdout) != 0)
        status = tool_sys_error("stdout");
    if (status == TOOL_OK)
        status = tool_warn_damage(o.path);
    return status;
}
