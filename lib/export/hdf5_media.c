/*
 * hdf5_media.c — images, tables and artifacts of RUNLOG_EXPORT_HDF5
 * (spec/HDF5.md "Images", "Tables", "Artifacts").
 *
 * Images become uint8 arrays (H x W, or H x W x C) with the attributes of
 * the HDF5 Image specification 1.2: raw image_pixels as they are, PNG decoded by
 * libspng, JPEG decoded by libjpeg(-turbo) (a build without the images
 * feature exports raw image_pixels only). Blobs are read one at a time, so memory
 * holds one image (or one artifact piece) at once.
 *
 * A blob that cannot be read or decoded fails the export, except in a
 * file whose damaged frames were skipped (tolerant policy): there the
 * blob's chunks may have been in those frames, and it is left out with a
 * warning (x->skip_bad_blobs).
 */
#include "h5x.h"

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "media.h"

char *h5x_cell_json(const char *key, uint64_t step, size_t index, const char *column,
                    const runlog_value *v)
{
    char name[MEDIA_NAME_MAX], *text = NULL;
    size_t len = 0, i, n;
    FILE *f = open_memstream(&text, &len);
    rlu_json j;
    int rc = 0;

    if (!f)
        return NULL;
    tj_init(&j, f);
    switch (media_kind_of(v)) {
    case MEDIA_IMAGE:
        media_image_name(name, key, step, index, column, v);
        rc = media_json(&j, v, name);
        break;
    case MEDIA_IMAGES:
        n = media_image_count(v);
        tj_arr(&j);
        for (i = 0; i < n && rc == 0; i++) {
            media_image_name(name, key, step, i, NULL, media_image_at(v, i));
            rc = media_json(&j, media_image_at(v, i), name);
        }
        tj_arr_end(&j);
        break;
    case MEDIA_TABLE:
        rc = media_json(&j, v, NULL);
        break;
    default:
        rc = tj_value(&j, v);
    }
    if (fclose(f) != 0 || rc < 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* A blob of an image or table failed with rc: left out with a warning
 * (the detail's text) where x->skip_bad_blobs allows it, else rc. */
static int blob_failed(h5x *x, int rc)
{
    if (!x->skip_bad_blobs)
        return rc;
    rx_notice(x->rx, RUNLOG_NOTICE_WARNING, "%s", runlog_error_detail());
    return 0;
}

/* ---- images ---- */

/* The Image spec 1.2 attributes (fixed-length ASCII, as the spec asks). */
static int image_attrs(h5x *x, hid_t d, uint32_t channels)
{
    if (h5x_attr_ascii(x, d, "CLASS", "IMAGE") < 0 || h5x_attr_ascii(x, d, "IMAGE_VERSION", "1.2") < 0)
        return -1;
    if (channels == 1)
        return h5x_attr_ascii(x, d, "IMAGE_SUBCLASS", "IMAGE_GRAYSCALE") < 0 ||
               h5x_attr_u8(x, d, "IMAGE_WHITE_IS_ZERO", 0) < 0 ? -1 : 0;
    return h5x_attr_ascii(x, d, "IMAGE_SUBCLASS", "IMAGE_TRUECOLOR") < 0 ||
           h5x_attr_ascii(x, d, "INTERLACE_MODE", "INTERLACE_PIXEL") < 0 ? -1 : 0;
}

/* step, index, caption, digest, format of an image. */
static int image_meta(h5x *x, hid_t d, const runlog_value *img, uint64_t step, size_t index)
{
    const char *fmt = rlu_map_str(img, "format", NULL);
    size_t len;
    const char *cap = rlu_map_str(img, "caption", &len);
    char hex[33];

    media_digest_hex(hex, img);
    if (h5x_attr_u64(x, d, "step", step) < 0 || h5x_attr_u64(x, d, "index", index) < 0 ||
        h5x_attr_str(x, d, "digest", hex) < 0 || h5x_attr_str(x, d, "format", fmt ? fmt : "") < 0)
        return -1;
    return cap ? h5x_attr_strn(x, d, "caption", cap, len) : h5x_attr_null(x, d, "caption");
}

int h5x_image(h5x *x, hid_t loc, const char *name, runlog_reader *src, const char *path,
              const runlog_value *img, uint64_t step, size_t index)
{
    image_pixels p;
    hsize_t dims[3];
    hid_t d;
    int rc = -1;

    if ((rc = image_pixels_read(&p, src, path, img)) != 0)
        return blob_failed(x, rc);
    dims[0] = p.h;
    dims[1] = p.w;
    dims[2] = p.c;
    d = h5x_create_u8(x, loc, name, p.c == 1 ? 2 : 3, dims, H5X_IMAGE_ATTRS);
    if (d >= 0) {
        if ((p.h == 0 || p.w == 0 ||
             H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data) >= 0) &&
            image_attrs(x, d, p.c) == 0 && image_meta(x, d, img, step, index) == 0)
            rc = 0;
        H5Dclose(d);
    }
    image_pixels_free(&p);
    return rc == 0 ? 0 : h5x_fail(x, "writing an image");
}

/* ---- tables ---- */

/* Same (height, width, channels) in every cell's map, no null cell: the
 * column can be one N x H x W [x C] array. The maps are not trusted: the
 * shape sizes the array before any image is decoded, so it must be one a
 * decoded image could have (else each row is decoded, and checked, alone). */
static int column_stackable(const runlog_value *doc, size_t c, size_t nrows, uint32_t shape[3])
{
    uint32_t s[3];
    size_t row;

    for (row = 0; row < nrows; row++) {
        const runlog_value *cell = media_table_cell(doc, row, c);
        runlog_image_info info = RUNLOG_IMAGE_INFO_INIT;
        if (media_kind_of(cell) != MEDIA_IMAGE || runlog_value_image(&info, cell) < 0)
            return 0;
        s[0] = info.height, s[1] = info.width, s[2] = info.channels;
        if ((uint64_t)s[0] * s[1] > IMAGE_MAX_PIXEL_BYTES / s[2])
            return 0;
        if (row == 0)
            memcpy(shape, s, sizeof s);
        else if (memcmp(shape, s, sizeof s) != 0)
            return 0;
    }
    return nrows > 0;
}

/* Writes image i into row i of the stacked dataset d. */
static int stack_row(h5x *x, hid_t d, const image_pixels *p, const uint32_t shape[3], size_t row)
{
    hsize_t start[4] = {row, 0, 0, 0}, count[4] = {1, shape[0], shape[1], shape[2]};
    int rank = shape[2] == 1 ? 3 : 4, rc = -1;
    hid_t fs = H5Dget_space(d), ms;

    if (p->h != shape[0] || p->w != shape[1] || p->c != shape[2]) {
        if (fs >= 0)
            H5Sclose(fs);
        return runlog_error_set(RUNLOG_ECORRUPT, "%s: a table image's image_pixels do not match its size",
                                x->out);
    }
    ms = H5Screate_simple(rank, count, NULL);
    if (fs >= 0 && ms >= 0 &&
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
        H5Dwrite(d, H5T_NATIVE_UINT8, ms, fs, H5P_DEFAULT, p->data) >= 0)
        rc = 0;
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    return rc == 0 ? 0 : h5x_fail(x, "writing a table image");
}

static int image_column_stacked(h5x *x, hid_t g, const char *name, runlog_reader *src,
                                const char *path, const runlog_value *doc, size_t c,
                                size_t nrows, const uint32_t shape[3])
{
    hsize_t dims[4] = {nrows, shape[0], shape[1], shape[2]};
    hid_t d = h5x_create_u8(x, g, name, shape[2] == 1 ? 3 : 4, dims, 2);
    size_t row;
    image_pixels p;
    int rc = 0;

    if (d < 0)
        return h5x_fail(x, "creating a table image column");
    for (row = 0; row < nrows && rc == 0; row++) {
        if ((rc = image_pixels_read(&p, src, path, media_table_cell(doc, row, c))) != 0)
            break;
        rc = stack_row(x, d, &p, shape, row);
        image_pixels_free(&p);
    }
    if (rc == 0 && (h5x_attr_str(x, d, "layout", shape[2] == 1 ? "NHW" : "NHWC") < 0 ||
                    h5x_attr_u64(x, d, "channels", shape[2]) < 0))
        rc = h5x_fail(x, "writing a table image column");
    H5Dclose(d);
    return rc;
}

/* Images of differing shapes: a group with one dataset per row (none for
 * a null cell). */
static int image_column_rows(h5x *x, hid_t g, const char *name, runlog_reader *src,
                             const char *path, const runlog_value *doc, size_t c, size_t nrows,
                             uint64_t step)
{
    hid_t col = h5x_group(x, g, name);
    char row_name[32];
    size_t row;
    int rc = 0;

    if (col < 0)
        return h5x_fail(x, "creating a table image column");
    for (row = 0; row < nrows && rc == 0; row++) {
        const runlog_value *cell = media_table_cell(doc, row, c);
        if (media_kind_of(cell) != MEDIA_IMAGE)
            continue;
        snprintf(row_name, sizeof row_name, "%zu", row);
        rc = h5x_image(x, col, row_name, src, path, cell, step, row);
    }
    H5Gclose(col);
    return rc;
}

/* A column of plain cells, stored like a history series. */
static int value_column(h5x *x, hid_t g, const char *name, const char *key, uint64_t step,
                        const char *colname, const runlog_value *doc, size_t c, size_t nrows)
{
    size_t row;
    int cls = H5X_C_NONE, rc = -1;
    void *buf;

    for (row = 0; row < nrows; row++)
        cls = h5x_class_join(cls, runlog_value_type(media_table_cell(doc, row, c)));
    if (!(buf = calloc(nrows ? nrows : 1, 8)))
        return h5x_fail(x, "out of memory");
    for (row = 0; row < nrows; row++) {
        const runlog_value *cell = media_table_cell(doc, row, c);
        switch (cls) {
        case H5X_C_INT: ((int64_t *)buf)[row] = runlog_value_int(cell); break;
        case H5X_C_FLOAT: ((double *)buf)[row] = runlog_value_float(cell); break;
        case H5X_C_BOOL: ((int8_t *)buf)[row] = (int8_t)runlog_value_bool(cell); break;
        case H5X_C_STRING: ((const char **)buf)[row] = runlog_value_string(cell, NULL); break;
        default: ((char **)buf)[row] = h5x_cell_json(key, step, row, colname, cell); break;
        }
    }
    if (cls == H5X_C_STRING || cls == H5X_C_JSON || cls == H5X_C_NONE)
        rc = h5x_column_str(x, g, name, nrows, buf);
    else
        rc = h5x_column(x, g, name, cls == H5X_C_INT ? H5T_NATIVE_INT64
                        : cls == H5X_C_FLOAT ? H5T_NATIVE_DOUBLE : x->bool_t, nrows, buf);
    if (rc == 0 && cls == H5X_C_JSON) {
        hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
        rc = d < 0 || h5x_attr_str(x, d, "encoding", "json") < 0 ? -1 : 0;
        if (d >= 0)
            H5Dclose(d);
    }
    if (cls == H5X_C_JSON)
        for (row = 0; row < nrows; row++)
            free(((char **)buf)[row]);
    free(buf);
    return rc == 0 ? 0 : h5x_fail(x, "writing a table column");
}

static int table_attrs(h5x *x, hid_t g, const runlog_value *doc, const runlog_value *cell,
                       uint64_t step)
{
    size_t c, ncols = media_table_ncols(doc);
    const char **cols = malloc((ncols ? ncols : 1) * sizeof *cols);
    const char **types = malloc((ncols ? ncols : 1) * sizeof *types);
    char hex[33];
    int rc = -1;

    if (cols && types) {
        for (c = 0; c < ncols; c++) {
            cols[c] = media_table_column(doc, c);
            types[c] = media_table_type(doc, c);
            cols[c] = cols[c] ? cols[c] : "";
            types[c] = types[c] ? types[c] : "";
        }
        media_digest_hex(hex, cell);
        rc = h5x_attr_u64(x, g, "step", step) < 0 || h5x_attr_str(x, g, "digest", hex) < 0 ||
             h5x_attr_u64(x, g, "nrows", media_table_nrows(doc)) < 0 ||
             h5x_attr_u64(x, g, "ncols", ncols) < 0 ||
             h5x_attr_strs(x, g, "columns", ncols, cols) < 0 ||
             h5x_attr_strs(x, g, "types", ncols, types) < 0 ? -1 : 0;
    }
    free(cols);
    free(types);
    return rc;
}

static int table_column(h5x *x, hid_t g, runlog_reader *src, const char *path, const char *key,
                        const runlog_value *doc, size_t c, uint64_t step, const char *name)
{
    const char *col = media_table_column(doc, c), *type = media_table_type(doc, c);
    size_t nrows = media_table_nrows(doc);
    uint32_t shape[3];

    if (type && strcmp(type, "image") == 0 && column_stackable(doc, c, nrows, shape))
        return image_column_stacked(x, g, name, src, path, doc, c, nrows, shape);
    if (type && strcmp(type, "image") == 0)
        return image_column_rows(x, g, name, src, path, doc, c, nrows, step);
    return value_column(x, g, name, key, step, col, doc, c, nrows);
}

static int name_taken(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

/* The dataset name of each column (spec/HDF5.md §4.4): the column's name,
 * escaped; a name an earlier column has already taken becomes NAME~C (C
 * the column's number), with more '~' until no column's own name is it.
 * *renamed: whether any was. names[] freed by the caller; -1 out of memory. */
static int column_names(char **names, size_t ncols, const runlog_value *doc, int *renamed)
{
    *renamed = 0;
    for (size_t c = 0; c < ncols; c++) {
        const char *col = media_table_column(doc, c);
        if (!(names[c] = h5x_escape(col ? col : "", col ? strlen(col) : 0, H5X_RES_NONE)))
            return -1;
    }
    for (size_t c = 1; c < ncols; c++) {
        if (!name_taken(names, c, names[c]))
            continue;
        size_t len = strlen(names[c]) + 24, tildes = 1;
        char *alt = malloc(len + ncols + 1);
        if (!alt)
            return -1;
        do /* past every column's own name and every name given so far */
            snprintf(alt, len + ncols + 1, "%s%.*s%zu", names[c], (int)tildes,
                     "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~", c);
        while (name_taken(names, ncols, alt) && ++tildes < 64);
        free(names[c]);
        names[c] = alt;
        *renamed = 1;
    }
    return 0;
}

int h5x_table(h5x *x, hid_t loc, const char *name, runlog_reader *src, const char *path,
              const char *key, const runlog_value *cell, uint64_t step)
{
    runlog_digest d;
    runlog_doc *doc;
    hid_t g;
    size_t c, ncols;
    int rc;

    if ((rc = runlog_value_digest(&d, cell)) < 0 || (rc = runlog_reader_table(&doc, src, &d)) < 0)
        return blob_failed(x, h5x_lib_fail(path, rc));
    g = h5x_group(x, loc, name);
    rc = g < 0 || table_attrs(x, g, runlog_doc_value(doc), cell, step) < 0
             ? h5x_fail(x, "writing a table") : 0;
    ncols = media_table_ncols(runlog_doc_value(doc));
    char **names = calloc(ncols ? ncols : 1, sizeof *names);
    int renamed = 0;
    if (rc == 0 && (!names || column_names(names, ncols, runlog_doc_value(doc), &renamed) < 0))
        rc = h5x_fail(x, "out of memory");
    if (rc == 0 && renamed) {
        /* Two columns of one name (wandb.Table allows it): both kept, the
         * datasets named apart, the attribute saying which is which. */
        rx_notice(x->rx, RUNLOG_NOTICE_WARNING,
                  "%s: table \"%s\" at step %llu: two columns share a name; their datasets are "
                  "named apart (attribute \"datasets\")",
                  path, key, (unsigned long long)step);
        rc = h5x_attr_strs(x, g, "datasets", ncols, (const char **)names) < 0
                 ? h5x_fail(x, "writing a table") : 0;
    }
    for (c = 0; c < ncols && rc == 0; c++)
        rc = table_column(x, g, src, path, key, runlog_doc_value(doc), c, step, names[c]);
    for (c = 0; names && c < ncols; c++)
        free(names[c]);
    free(names);
    if (g >= 0)
        H5Gclose(g);
    runlog_doc_free(doc);
    return rc;
}

/* ---- artifacts ---- */

typedef struct art_ref {
    const runlog_value *m; /* the version's map */
    size_t src;            /* the file that holds its blobs */
} art_ref;

static const char *art_name(const runlog_value *m)
{
    const char *s = rlu_map_str(m, "name", NULL);
    return s ? s : "";
}

static int64_t art_version(const runlog_value *m)
{
    int64_t v = 0;

    rlu_map_int(m, "version", &v);
    return v;
}

/* Adds the versions of one file; a version already seen must have the
 * same manifest (its later aliases win). */
static int art_collect(art_ref *refs, size_t *n, const h5x_blobs *b, size_t f,
                       const runlog_value *list)
{
    size_t i, k, cnt = list ? runlog_value_count(list) : 0;
    char h1[33], h2[33];

    for (i = 0; i < cnt; i++) {
        const runlog_value *m = runlog_value_item(list, i);
        for (k = 0; k < *n; k++)
            if (strcmp(art_name(refs[k].m), art_name(m)) == 0 &&
                art_version(refs[k].m) == art_version(m))
                break;
        if (k < *n) {
            media_digest_hex(h1, refs[k].m);
            media_digest_hex(h2, m);
            if (strcmp(h1, h2) != 0)
                return runlog_error_set(RUNLOG_ESTATE, "%s and %s: artifact %s:v%" PRId64
                                        " differs (manifest %s vs %s); not merged",
                                        b->paths[refs[k].src], b->paths[f], art_name(m),
                                        art_version(m), h1, h2);
        }
        refs[k].m = m;
        refs[k].src = f;
        if (k == *n)
            (*n)++;
    }
    return 0;
}

static int list_strs(h5x *x, hid_t g, const char *name, const runlog_value *list)
{
    size_t i, n = list ? runlog_value_count(list) : 0;
    const char **s = malloc((n ? n : 1) * sizeof *s);
    int rc;

    if (!s)
        return -1;
    for (i = 0; i < n; i++) {
        s[i] = runlog_value_string(runlog_value_item(list, i), NULL);
        s[i] = s[i] ? s[i] : "";
    }
    rc = h5x_attr_strs(x, g, name, n, s);
    free(s);
    return rc;
}

static int art_attrs(h5x *x, hid_t g, const runlog_value *m)
{
    static const char *const texts[] = {"name", "type", "description"};
    const runlog_value *meta = runlog_value_get(m, "metadata");
    char hex[33], *json = NULL;
    int64_t v = 0;
    size_t i, len;
    const char *s;
    int rc = 0;

    for (i = 0; i < 3 && rc == 0; i++) {
        s = rlu_map_str(m, texts[i], &len);
        rc = h5x_attr_strn(x, g, texts[i], s ? s : "", s ? len : 0);
    }
    media_digest_hex(hex, m);
    if (rc < 0 || h5x_attr_i64(x, g, "version", art_version(m)) < 0 ||
        h5x_attr_str(x, g, "digest", hex) < 0 ||
        list_strs(x, g, "aliases", runlog_value_get(m, "aliases")) < 0)
        return -1;
    if (rlu_map_int(m, "size", &v) && h5x_attr_i64(x, g, "size", v) < 0)
        return -1;
    if (rlu_map_int(m, "t", &v) && h5x_attr_f64(x, g, "timestamp", h5x_seconds(v)) < 0)
        return -1;
    if (meta && runlog_value_to_json(&json, meta, 0) < 0)
        return -1;
    rc = h5x_attr_str(x, g, "metadata", json ? json : "{}");
    runlog_free(json);
    return rc;
}

/* path, size, digest, ref: one entry per element. */
static int art_entries(h5x *x, hid_t g, const runlog_value *entries)
{
    size_t i, n = entries ? runlog_value_count(entries) : 0, len;
    char **path = calloc(n + 1, sizeof *path), **digest = calloc(n + 1, sizeof *digest),
         **ref = calloc(n + 1, sizeof *ref);
    uint64_t *size = calloc(n + 1, sizeof *size);
    runlog_digest d;
    int64_t v;
    int rc = -1;

    if (!path || !digest || !ref || !size)
        goto out;
    for (i = 0; i < n; i++) {
        const runlog_value *e = runlog_value_item(entries, i);
        const char *s = rlu_map_str(e, "path", &len);
        path[i] = s ? strndup(s, len) : strdup("");
        s = rlu_map_str(e, "ref", &len);
        ref[i] = s ? strndup(s, len) : strdup("");
        digest[i] = calloc(33, 1);
        if (!path[i] || !ref[i] || !digest[i])
            goto out;
        if (runlog_value_digest(&d, e) == 0)
            runlog_digest_hex(digest[i], &d);
        size[i] = rlu_map_int(e, "size", &v) && v > 0 ? (uint64_t)v : 0;
    }
    rc = h5x_column_str(x, g, "path", n, path) < 0 ||
         h5x_column(x, g, "size", H5T_NATIVE_UINT64, n, size) < 0 ||
         h5x_column_str(x, g, "digest", n, digest) < 0 ||
         h5x_column_str(x, g, "ref", n, ref) < 0 ? -1 : 0;
out:
    for (i = 0; i < n; i++) {
        if (path)
            free(path[i]);
        if (digest)
            free(digest[i]);
        if (ref)
            free(ref[i]);
    }
    free(path);
    free(digest);
    free(ref);
    free(size);
    return rc;
}

/* Copies size bytes of fd (from its start) into a new 1-D uint8 dataset,
 * 1 MiB at a time. */
static int copy_fd(h5x *x, hid_t g, const char *name, int fd, uint64_t size)
{
    hsize_t dims = size, start, count;
    hid_t d = h5x_create_u8(x, g, name, 1, &dims, 0), fs = H5I_INVALID_HID, ms;
    uint8_t *buf = (uint8_t *)x->buf; /* H5X_COPY_BUF bytes, one per export */
    ssize_t got;
    int rc = -1;

    if (d < 0 || (fs = H5Dget_space(d)) < 0)
        goto out;
    for (start = 0; start < size; start += (hsize_t)got) {
        got = pread(fd, buf, H5X_COPY_BUF, (off_t)start);
        if (got <= 0 || start + (hsize_t)got > size)
            goto out;
        count = got;
        ms = H5Screate_simple(1, &count, NULL);
        if (ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
            H5Dwrite(d, H5T_NATIVE_UINT8, ms, fs, H5P_DEFAULT, buf) < 0) {
            if (ms >= 0)
                H5Sclose(ms);
            goto out;
        }
        H5Sclose(ms);
    }
    rc = 0;
out:
    if (fs >= 0)
        H5Sclose(fs);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

/* --with-artifact-data: data/<i> holds the bytes of stored entry i. Each
 * blob goes through a temporary file beside the output (digest checked by
 * runlog_reader_blob_to_fd()), so memory stays bounded. The file is
 * unlinked as soon as it is made: only its descriptor is used, so no one
 * can swap it for a link or a FIFO, and nothing is left after a kill. */
static int art_data(h5x *x, hid_t g, const char *art, const runlog_value *entries,
                    runlog_reader *src, const char *path)
{
    size_t i, n = entries ? runlog_value_count(entries) : 0;
    hid_t data = h5x_group(x, g, "data");
    char *tmp = malloc(strlen(x->out) + sizeof ".blob-XXXXXX"), name[32];
    runlog_digest d;
    int64_t size;
    int rc = 0, fd = -1;

    if (tmp)
        sprintf(tmp, "%s.blob-XXXXXX", x->out);
    if (data < 0 || !tmp || (fd = mkstemp(tmp)) < 0) {
        int err = errno; /* mkstemp's, before anything else can change it */
        char what[512];
        snprintf(what, sizeof what, "artifact \"%.200s\": %s", art,
                 data < 0 ? "creating its data group"
                 : !tmp   ? "out of memory"
                          : "creating a temporary file beside the output for its data");
        if (tmp && data >= 0 && fd < 0)
            snprintf(what + strlen(what), sizeof what - strlen(what), " (%s)", strerror(err));
        free(tmp);
        if (data >= 0)
            H5Gclose(data);
        return h5x_fail(x, what);
    }
    unlink(tmp);
    free(tmp);
    for (i = 0; i < n && rc == 0; i++) {
        const runlog_value *e = runlog_value_item(entries, i);
        const char *entry = rlu_map_str(e, "path", NULL);
        if (runlog_value_get(e, "ref") || runlog_value_digest(&d, e) < 0 ||
            !rlu_map_int(e, "size", &size) || size < 0)
            continue; /* a reference: the bytes are elsewhere */
        if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
            rc = runlog_error_set(RUNLOG_EIO, "%s: a temporary file for artifact data: %s", x->out,
                                  strerror(errno));
            break;
        }
        if ((rc = runlog_reader_blob_to_fd(src, &d, fd)) < 0) {
            /* The library's detail, then which artifact and entry it was. */
            char detail[1024];
            rc = h5x_lib_fail(path, rc);
            snprintf(detail, sizeof detail, "%s", runlog_error_detail());
            rc = runlog_error_set(rc, "%s: artifact \"%.200s\", entry %zu \"%.200s\" (%lld bytes): %s",
                                  x->out, art, i, entry ? entry : "", (long long)size, detail);
            rc = blob_failed(x, rc);
            continue;
        }
        snprintf(name, sizeof name, "%zu", i);
        if (copy_fd(x, data, name, fd, (uint64_t)size) < 0) {
            /* Which artifact, entry and size: a disk that fills up here is
             * the usual cause, and the entry says how much was wanted. */
            char what[768];
            snprintf(what, sizeof what, "artifact \"%.200s\": writing the data of entry %zu \"%.200s\" "
                     "(%lld bytes) into data/%zu", art, i, entry ? entry : "", (long long)size, i);
            rc = h5x_fail(x, what);
        }
    }
    close(fd);
    H5Gclose(data);
    return rc;
}

static int art_write(h5x *x, hid_t arts, const art_ref *r, const h5x_blobs *b, int with_data)
{
    const char *name = art_name(r->m);
    char *esc = h5x_escape(name, strlen(name), H5X_RES_NONE), vname[32];
    hid_t ng = esc ? h5x_group(x, arts, esc) : H5I_INVALID_HID, g;
    const runlog_value *entries = runlog_value_get(r->m, "entries");
    int rc = -1;

    free(esc);
    if (ng < 0)
        return h5x_fail(x, "creating an artifact group");
    snprintf(vname, sizeof vname, "v%" PRId64, art_version(r->m));
    g = h5x_group(x, ng, vname);
    if (g >= 0 && art_attrs(x, g, r->m) == 0 && art_entries(x, g, entries) == 0)
        rc = 0;
    rc = rc == 0 ? 0 : h5x_fail(x, "writing an artifact");
    if (rc == 0 && with_data) {
        x->skip_bad_blobs = b->damaged && b->damaged[r->src];
        rc = art_data(x, g, name, entries, b->readers[r->src], b->paths[r->src]);
        x->skip_bad_blobs = 0;
    }
    if (g >= 0)
        H5Gclose(g);
    H5Gclose(ng);
    return rc;
}

int h5x_artifacts(h5x *x, hid_t run, const h5x_blobs *b, const runlog_value *const *arts,
                  int with_data)
{
    size_t f, total = 0, n = 0, i;
    art_ref *refs;
    hid_t g;
    int rc = 0;

    for (f = 0; f < b->n; f++)
        total += arts[f] ? runlog_value_count(arts[f]) : 0;
    if (total == 0)
        return 0;
    if (!(refs = calloc(total, sizeof *refs)))
        return h5x_fail(x, "out of memory");
    for (f = 0; f < b->n && rc == 0; f++)
        rc = art_collect(refs, &n, b, f, arts[f]);
    g = rc == 0 ? h5x_group(x, run, "artifacts") : H5I_INVALID_HID;
    if (rc == 0 && g < 0)
        rc = h5x_fail(x, "creating artifacts");
    for (i = 0; i < n && rc == 0; i++)
        rc = art_write(x, g, &refs[i], b, with_data);
    if (g >= 0)
        H5Gclose(g);
    free(refs);
    return rc;
}
