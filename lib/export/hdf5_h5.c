/*
 * hdf5_h5.c — HDF5 helpers of RUNLOG_EXPORT_HDF5 (see h5x.h). Every name that comes from a run-log goes through
 * h5x_escape(), so that no key can collide with the names the layout
 * keeps for itself (spec/HDF5.md "Names").
 */
#include "h5x.h"
#include <errno.h>
#include <fcntl.h>

#include <stdlib.h>
#include <string.h>

#include "h5zstd.h"
#include "media.h"

int h5x_init(h5x *x, hid_t file, int compression, int level)
{
    const char *out = x->out, *tmp = x->tmp; /* kept: messages name the output */
    rx_ctx *rx = x->rx;
    int8_t v;

    memset(x, 0, sizeof *x);
    x->out = out;
    x->tmp = tmp;
    x->rx = rx;
    x->file = file;
    x->compression = compression;
    x->level = level;
    x->str_t = H5Tcopy(H5T_C_S1);
    x->bool_t = H5Tenum_create(H5T_NATIVE_INT8);
    x->lcpl = H5Pcreate(H5P_LINK_CREATE);
    x->acpl = H5Pcreate(H5P_ATTRIBUTE_CREATE);
    x->gcpl = H5Pcreate(H5P_GROUP_CREATE);
    x->gcpl_many = H5Pcreate(H5P_GROUP_CREATE);
    x->buf = malloc(H5X_COPY_BUF);
    if (x->str_t < 0 || x->bool_t < 0 || x->lcpl < 0 || x->acpl < 0 || x->gcpl < 0 ||
        x->gcpl_many < 0 || !x->buf)
        return -1;
    if (H5Tset_size(x->str_t, H5T_VARIABLE) < 0 || H5Tset_cset(x->str_t, H5T_CSET_UTF8) < 0)
        return -1;
    v = 0;
    if (H5Tenum_insert(x->bool_t, "FALSE", &v) < 0)
        return -1;
    v = 1;
    if (H5Tenum_insert(x->bool_t, "TRUE", &v) < 0)
        return -1;
    if (H5Pset_char_encoding(x->lcpl, H5T_CSET_UTF8) < 0 ||
        H5Pset_char_encoding(x->acpl, H5T_CSET_UTF8) < 0 ||
        H5Pset_link_creation_order(x->gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0 ||
        H5Pset_attr_creation_order(x->gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0 ||
        H5Pset_link_creation_order(x->gcpl_many, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0)
        return -1;
    return 0;
}

void h5x_fini(h5x *x)
{
    if (x->str_t > 0)
        H5Tclose(x->str_t);
    if (x->bool_t > 0)
        H5Tclose(x->bool_t);
    if (x->lcpl > 0)
        H5Pclose(x->lcpl);
    if (x->acpl > 0)
        H5Pclose(x->acpl);
    if (x->gcpl > 0)
        H5Pclose(x->gcpl);
    if (x->gcpl_many > 0)
        H5Pclose(x->gcpl_many);
    free(x->buf);
    x->str_t = x->bool_t = x->lcpl = x->acpl = x->gcpl = x->gcpl_many = H5I_INVALID_HID;
    x->buf = NULL;
}

/* Walks the stack from the innermost frame: keeps frame 0's message. HDF5
 * error descriptions of system calls hold a long "time = ..., filename =
 * ..., errno = N, error message = 'WHY', ..." text over two lines: only
 * the first words and WHY are kept. */
static herr_t innermost(unsigned n, const H5E_error2_t *e, void *ctx)
{
    h5x *x = ctx;
    const char *why, *end, *colon;

    if (n != 0 || !e->desc)
        return 0;
    why = strstr(e->desc, "error message = '");
    colon = strchr(e->desc, ':');
    if (why && colon && colon < why && (end = strchr(why + 17, '\'')) != NULL)
        snprintf(x->last_error, sizeof x->last_error, "%.*s: %.*s (%s)",
                 (int)(colon - e->desc), e->desc, (int)(end - why - 17), why + 17,
                 e->func_name ? e->func_name : "?");
    else
        snprintf(x->last_error, sizeof x->last_error, "%s (%s)", e->desc,
                 e->func_name ? e->func_name : "?");
    return 0;
}

herr_t h5x_save_error(hid_t stack, void *ctx)
{
    H5Ewalk2(stack, H5E_WALK_UPWARD, innermost, ctx);
    return 0;
}

int h5x_fail(h5x *x, const char *what)
{
    int rc = runlog_error_set(RUNLOG_EIO, "%s: HDF5: %s%s%s", x->out, what,
                              x->last_error[0] ? ": " : "", x->last_error);

    x->last_error[0] = '\0';
    return rc;
}

int h5x_lib_fail(const char *path, int code)
{
    char detail[1024];
    size_t n = strlen(path);

    /* runlog_error_set() formats into the detail buffer: copy it first. */
    snprintf(detail, sizeof detail, "%s",
             runlog_error_detail()[0] ? runlog_error_detail() : runlog_strerror(code));
    if (strncmp(detail, path, n) == 0 && detail[n] == ':')
        return runlog_error_set(code, "%s", detail);
    return runlog_error_set(code, "%s: %s", path, detail);
}

/* ---- names ---- */

static int is_reserved(const char *s, size_t len, h5x_reserved res)
{
    static const char *const series[] = {"step", "timestamp", "value"};
    size_t i;

    switch (res) {
    case H5X_RES_SERIES:
        for (i = 0; i < 3; i++)
            if (strlen(series[i]) == len && memcmp(series[i], s, len) == 0)
                return 1;
        return 0;
    case H5X_RES_DIGITS:
        for (i = 0; i < len; i++)
            if (s[i] < '0' || s[i] > '9')
                return 0;
        return len > 0;
    case H5X_RES_JSON:
        return len == 4 && memcmp(s, "json", 4) == 0;
    default:
        return 0;
    }
}

char *h5x_escape(const char *s, size_t len, h5x_reserved res)
{
    char *out = malloc(3 * len + 3), *p = out;
    size_t i;

    if (!out)
        return NULL;
    if (len == 0) {
        strcpy(out, "%");
        return out;
    }
    if (len == 1 && s[0] == '.') {
        strcpy(out, "%2E");
        return out;
    }
    if (is_reserved(s, len, res)) {
        *p++ = '%';
        *p++ = '_';
    }
    for (i = 0; i < len; i++) {
        if (s[i] == '%')
            memcpy(p, "%25", 3), p += 3;
        else if (s[i] == '/')
            memcpy(p, "%2F", 3), p += 3;
        else
            *p++ = s[i];
    }
    *p = '\0';
    return out;
}

hid_t h5x_group(h5x *x, hid_t loc, const char *name)
{
    htri_t exists = H5Lexists(loc, name, H5P_DEFAULT);

    if (exists < 0)
        return H5I_INVALID_HID;
    if (exists)
        return H5Gopen2(loc, name, H5P_DEFAULT);
    return H5Gcreate2(loc, name, x->lcpl, x->gcpl, H5P_DEFAULT);
}

hid_t h5x_group_attrs(h5x *x, hid_t loc, const char *name, size_t nattrs)
{
    if (nattrs <= H5X_ORDERED_ATTRS)
        return h5x_group(x, loc, name);
    return H5Gcreate2(loc, name, x->lcpl, x->gcpl_many, H5P_DEFAULT);
}

hid_t h5x_key_group(h5x *x, hid_t loc, const char *key, h5x_reserved res)
{
    const char *p = key, *slash;
    hid_t g = H5Oopen(loc, ".", H5P_DEFAULT), next;
    char *name;

    while (g >= 0) {
        slash = strchr(p, '/');
        name = h5x_escape(p, slash ? (size_t)(slash - p) : strlen(p), res);
        next = name ? h5x_group(x, g, name) : H5I_INVALID_HID;
        free(name);
        H5Oclose(g);
        g = next;
        if (!slash)
            break;
        p = slash + 1;
    }
    if (g >= 0 && h5x_attr_str(x, g, "key", key) < 0) {
        H5Gclose(g);
        return H5I_INVALID_HID;
    }
    return g;
}

/* ---- datasets ---- */

static int set_filters(const h5x *x, hid_t dcpl, int shuffle)
{
    unsigned level = (unsigned)x->level;

    if (x->compression == H5X_NONE)
        return 0;
    if (shuffle && H5Pset_shuffle(dcpl) < 0)
        return -1;
    if (x->compression == H5X_GZIP)
        return H5Pset_deflate(dcpl, level) < 0 ? -1 : 0;
    return H5Pset_filter(dcpl, RUNLOG_H5ZSTD_ID, H5Z_FLAG_MANDATORY, 1, &level) < 0 ? -1 : 0;
}

int h5x_reserve(h5x *x, uint64_t bytes)
{
    int *fd;
    haddr_t eoa;

    if (bytes == 0 || H5Fget_vfd_handle(x->file, H5P_DEFAULT, (void **)&fd) < 0 ||
        H5Fget_eoa(x->file, &eoa) < 0)
        return 0; /* nothing to reserve, or no way to: written as before */
    /* Past the end of allocation, where HDF5 puts what it allocates next;
     * a margin for the metadata that comes with the dataset. */
    if (fallocate(*fd, FALLOC_FL_KEEP_SIZE, (off_t)eoa, (off_t)(bytes + (1u << 16))) == 0 ||
        errno == EOPNOTSUPP || errno == ENOSYS)
        return 0;
    snprintf(x->last_error, sizeof x->last_error, "no room for %llu more bytes (%s)",
             (unsigned long long)bytes, strerror(errno));
    return -1;
}

int h5x_column(h5x *x, hid_t loc, const char *name, hid_t type, size_t n, const void *data)
{
    hsize_t dims = n, maxd = H5S_UNLIMITED, chunk = n == 0 ? 1 : n < H5X_CHUNK ? n : H5X_CHUNK;
    hid_t space = H5Screate_simple(1, &dims, &maxd), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = H5I_INVALID_HID;
    int vlen = H5Tis_variable_str(type) > 0, rc = -1;

    /* No filter on variable-length texts: HDF5 refuses a mandatory filter
     * there (zstd) and drops optional ones (gzip); only the heap references
     * would be compressed anyway. */
    if (space < 0 || dcpl < 0 || H5Pset_chunk(dcpl, 1, &chunk) < 0 ||
        (!vlen && set_filters(x, dcpl, H5Tget_size(type) > 1) < 0) ||
        h5x_reserve(x, (uint64_t)n * H5Tget_size(type)) < 0)
        goto out;
    d = H5Dcreate2(loc, name, type, space, x->lcpl, dcpl, H5P_DEFAULT);
    if (d < 0)
        goto out;
    rc = n == 0 || H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0 ? 0 : -1;
out:
    if (d >= 0)
        H5Dclose(d);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return rc;
}

int h5x_column_str(h5x *x, hid_t loc, const char *name, size_t n, char *const *s)
{
    const char **v = malloc((n ? n : 1) * sizeof *v);
    size_t i;
    int rc;

    if (!v)
        return -1;
    for (i = 0; i < n; i++)
        v[i] = s[i] ? s[i] : "";
    rc = h5x_column(x, loc, name, x->str_t, n, v);
    free(v);
    return rc;
}

/* HDF5 keeps up to 8 attributes in an object's header (its default phase
 * change); the ninth moves them all into dense storage, a fractal heap and
 * a B-tree of the object's own. */
#define H5X_COMPACT_ATTRS 8u

hid_t h5x_create_u8(h5x *x, hid_t loc, const char *name, int rank, const hsize_t *dims,
                    size_t nattrs)
{
    hsize_t chunk[8], row = 1, per;
    hid_t space, dcpl, d = H5I_INVALID_HID;
    int i;

    if (rank < 1 || rank > 8)
        return H5I_INVALID_HID;
    for (i = 0; i < rank; i++)
        chunk[i] = dims[i] ? dims[i] : 1;
    for (i = 1; i < rank; i++)
        row *= chunk[i];
    /* About 1 MiB per chunk: whole images, several per chunk when small. */
    per = row >= (1u << 20) ? 1 : (1u << 20) / row;
    if (chunk[0] > per)
        chunk[0] = per;
    uint64_t bytes = 1;
    for (i = 0; i < rank; i++)
        bytes = dims[i] && bytes > UINT64_MAX / dims[i] ? UINT64_MAX : bytes * dims[i];
    if (h5x_reserve(x, bytes) < 0)
        return H5I_INVALID_HID;
    space = H5Screate_simple(rank, dims, NULL);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    /* A dataset that will end up in dense storage starts there: the move
     * at the ninth attribute took a fifth of an export of many small
     * images (10^5 images: 13.4 s of user CPU with it, 10.8 s without).
     * The file holds the same attributes in the same kind of storage
     * either way. */
    if (space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, rank, chunk) >= 0 &&
        (nattrs <= H5X_COMPACT_ATTRS || H5Pset_attr_phase_change(dcpl, 0, 0) >= 0) &&
        set_filters(x, dcpl, 0) >= 0)
        d = H5Dcreate2(loc, name, H5T_NATIVE_UINT8, space, x->lcpl, dcpl, H5P_DEFAULT);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return d;
}

int h5x_scalar_str(h5x *x, hid_t loc, const char *name, const char *s)
{
    hid_t space = H5Screate(H5S_SCALAR), d;
    int rc = -1;

    if (space < 0)
        return -1;
    d = H5Dcreate2(loc, name, x->str_t, space, x->lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (d >= 0) {
        rc = H5Dwrite(d, x->str_t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) < 0 ? -1 : 0;
        H5Dclose(d);
    }
    H5Sclose(space);
    return rc;
}

/* ---- attributes ---- */

/* Creates (replacing an older one) and writes an attribute. */
static int attr_write(h5x *x, hid_t loc, const char *name, hid_t type, hid_t space, const void *data)
{
    hid_t a;
    htri_t exists = H5Aexists(loc, name);
    int rc;

    if (exists < 0 || (exists && H5Adelete(loc, name) < 0))
        return -1;
    a = H5Acreate2(loc, name, type, space, x->acpl, H5P_DEFAULT);
    if (a < 0)
        return -1;
    rc = data && H5Awrite(a, type, data) < 0 ? -1 : 0;
    H5Aclose(a);
    return rc;
}

static int attr_scalar(h5x *x, hid_t loc, const char *name, hid_t type, const void *data)
{
    hid_t space = H5Screate(H5S_SCALAR);
    int rc;

    if (space < 0)
        return -1;
    rc = attr_write(x, loc, name, type, space, data);
    H5Sclose(space);
    return rc;
}

int h5x_attr_null(h5x *x, hid_t loc, const char *name)
{
    hid_t space = H5Screate(H5S_NULL);
    int rc;

    if (space < 0)
        return -1;
    rc = attr_write(x, loc, name, x->str_t, space, NULL);
    H5Sclose(space);
    return rc;
}

int h5x_attr_str(h5x *x, hid_t loc, const char *name, const char *s)
{
    if (!s)
        return h5x_attr_null(x, loc, name);
    return attr_scalar(x, loc, name, x->str_t, &s);
}

int h5x_attr_strn(h5x *x, hid_t loc, const char *name, const char *s, size_t len)
{
    char *copy = strndup(s, len); /* HDF5 texts end at a NUL byte */
    int rc;

    if (!copy)
        return -1;
    rc = h5x_attr_str(x, loc, name, copy);
    free(copy);
    return rc;
}

int h5x_attr_ascii(h5x *x, hid_t loc, const char *name, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    int rc = -1;

    if (t < 0)
        return -1;
    if (H5Tset_size(t, strlen(s) + 1) >= 0 && H5Tset_strpad(t, H5T_STR_NULLTERM) >= 0)
        rc = attr_scalar(x, loc, name, t, s);
    H5Tclose(t);
    return rc;
}

int h5x_attr_i64(h5x *x, hid_t loc, const char *name, int64_t v)
{
    return attr_scalar(x, loc, name, H5T_NATIVE_INT64, &v);
}

int h5x_attr_u64(h5x *x, hid_t loc, const char *name, uint64_t v)
{
    return attr_scalar(x, loc, name, H5T_NATIVE_UINT64, &v);
}

int h5x_attr_f64(h5x *x, hid_t loc, const char *name, double v)
{
    return attr_scalar(x, loc, name, H5T_NATIVE_DOUBLE, &v);
}

int h5x_attr_u8(h5x *x, hid_t loc, const char *name, uint8_t v)
{
    return attr_scalar(x, loc, name, H5T_NATIVE_UINT8, &v);
}

static int attr_array(h5x *x, hid_t loc, const char *name, hid_t type, size_t n, const void *data)
{
    hsize_t dims = n;
    hid_t space = H5Screate_simple(1, &dims, NULL);
    int rc;

    if (space < 0)
        return -1;
    rc = attr_write(x, loc, name, type, space, n ? data : NULL);
    H5Sclose(space);
    return rc;
}

int h5x_attr_strs(h5x *x, hid_t loc, const char *name, size_t n, const char *const *s)
{
    return attr_array(x, loc, name, x->str_t, n, s);
}

/* ---- nested values ---- */

/* What a list holds, for an array attribute. */
enum { L_INT, L_FLOAT, L_BOOL, L_STRING, L_OTHER };

static int list_kind(const runlog_value *v)
{
    size_t i, n = runlog_value_count(v);
    int kind = -1, t;

    if (n == 0)
        return L_OTHER;
    for (i = 0; i < n; i++) {
        switch (runlog_value_type(runlog_value_item(v, i))) {
        case RUNLOG_INT: t = L_INT; break;
        case RUNLOG_FLOAT: t = L_FLOAT; break;
        case RUNLOG_BOOL: t = L_BOOL; break;
        case RUNLOG_STRING: t = L_STRING; break;
        default: return L_OTHER;
        }
        if (kind == -1 || kind == t)
            kind = t;
        else if ((kind == L_INT && t == L_FLOAT) || (kind == L_FLOAT && t == L_INT))
            kind = L_FLOAT;
        else
            return L_OTHER;
    }
    return kind;
}

static int attr_list(h5x *x, hid_t loc, const char *name, const runlog_value *v, int kind)
{
    size_t i, n = runlog_value_count(v), sz = kind == L_STRING ? sizeof(char *) : 8;
    unsigned char *buf = malloc(n * sz);
    const runlog_value *it;
    int rc;

    if (!buf)
        return -1;
    for (i = 0; i < n; i++) {
        it = runlog_value_item(v, i);
        if (kind == L_INT)
            ((int64_t *)buf)[i] = runlog_value_int(it);
        else if (kind == L_FLOAT)
            ((double *)buf)[i] = runlog_value_float(it);
        else if (kind == L_BOOL)
            buf[i] = (unsigned char)runlog_value_bool(it);
        else
            ((const char **)buf)[i] = runlog_value_string(it, NULL);
    }
    rc = attr_array(x, loc, name,
                    kind == L_INT ? H5T_NATIVE_INT64 : kind == L_FLOAT ? H5T_NATIVE_DOUBLE
                    : kind == L_BOOL ? x->bool_t : x->str_t, n, buf);
    free(buf);
    return rc;
}

/* A value as `export json` writes it in config, summary and metadata:
 * media values with their digests in hex. */
static int json_media_value(rlu_json *j, const runlog_value *v)
{
    size_t k;
    int rc = 0;

    switch (media_kind_of(v)) {
    case MEDIA_NONE:
        return tj_value(j, v);
    case MEDIA_IMAGES:
        tj_arr(j);
        for (k = 0; rc == 0 && k < media_image_count(v); k++)
            rc = media_json(j, media_image_at(v, k), NULL);
        tj_arr_end(j);
        return rc;
    default:
        return media_json(j, v, NULL);
    }
}

static int attr_json(h5x *x, hid_t loc, const char *name, const runlog_value *v)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    rlu_json j;
    int rc;

    if (!f)
        return -1;
    tj_init(&j, f);
    rc = json_media_value(&j, v);
    if (fclose(f) != 0 || rc < 0) {
        free(text);
        return -1;
    }
    rc = h5x_attr_str(x, loc, name, text);
    free(text);
    return rc;
}

static int tree_entries(h5x *x, hid_t g, const h5x_kv *kv, size_t n);

/* One entry: an attribute named by the key as it is (attribute names are
 * not paths; an empty key has none: it is only in "json"), or a subgroup
 * (escaped name) for a map. */
static int tree_entry(h5x *x, hid_t g, const char *key, const runlog_value *v)
{
    char *name = runlog_value_type(v) == RUNLOG_MAP ? h5x_escape(key, strlen(key), H5X_RES_JSON)
                                                    : strdup(key);
    int8_t b;
    int64_t i;
    double f;
    size_t len;
    const char *s;
    int rc = -1, kind;

    if (!name)
        return -1;
    if (!name[0]) {
        free(name);
        return 0;
    }
    switch (runlog_value_type(v)) {
    case RUNLOG_NULL: rc = h5x_attr_null(x, g, name); break;
    case RUNLOG_BOOL: b = (int8_t)runlog_value_bool(v); rc = attr_scalar(x, g, name, x->bool_t, &b); break;
    case RUNLOG_INT: i = runlog_value_int(v); rc = h5x_attr_i64(x, g, name, i); break;
    case RUNLOG_FLOAT: f = runlog_value_float(v); rc = h5x_attr_f64(x, g, name, f); break;
    case RUNLOG_STRING:
        s = runlog_value_string(v, &len);
        rc = h5x_attr_strn(x, g, name, s, len);
        break;
    case RUNLOG_BYTES:
        s = runlog_value_string(v, &len);
        if (len == 16 && strcmp(key, "digest") == 0) { /* a media map's: hex, as in JSON */
            char hex[33];
            runlog_digest d;
            memcpy(d.bytes, s, 16);
            runlog_digest_hex(hex, &d);
            rc = h5x_attr_str(x, g, name, hex);
            break;
        }
        rc = attr_array(x, g, name, H5T_NATIVE_UINT8, len, s);
        break;
    case RUNLOG_LIST:
        kind = list_kind(v);
        rc = kind == L_OTHER ? attr_json(x, g, name, v) : attr_list(x, g, name, v, kind);
        break;
    case RUNLOG_MAP: {
        size_t k, cnt = runlog_value_count(v);
        h5x_kv *sub = malloc((cnt ? cnt : 1) * sizeof *sub);
        hid_t child = sub ? h5x_group_attrs(x, g, name, cnt) : H5I_INVALID_HID;

        for (k = 0; k < cnt && sub; k++) {
            sub[k].key = runlog_value_key(v, k, NULL);
            sub[k].v = runlog_value_item(v, k);
        }
        if (child >= 0) {
            rc = tree_entries(x, child, sub, cnt);
            H5Gclose(child);
        }
        free(sub);
        break;
    }
    }
    free(name);
    return rc;
}

static int tree_entries(h5x *x, hid_t g, const h5x_kv *kv, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (kv[i].key && tree_entry(x, g, kv[i].key, kv[i].v) < 0)
            return -1;
    return 0;
}

char *h5x_kv_json(const h5x_kv *kv, size_t n)
{
    char *text = NULL;
    size_t len = 0, i;
    FILE *f = open_memstream(&text, &len);
    rlu_json j;
    int rc = 0;

    if (!f)
        return NULL;
    tj_init(&j, f);
    tj_obj(&j);
    for (i = 0; i < n && rc == 0; i++) {
        if (!kv[i].key)
            continue;
        tj_key(&j, kv[i].key);
        /* Media values (the summary's last image or table) as `export json`
         * writes them: digests in hex, no file name. */
        rc = json_media_value(&j, kv[i].v);
    }
    tj_obj_end(&j);
    if (fclose(f) != 0 || rc < 0) {
        free(text);
        return NULL;
    }
    return text;
}

int h5x_tree(h5x *x, hid_t loc, const char *name, const h5x_kv *kv, size_t n)
{
    hid_t g = h5x_group_attrs(x, loc, name, n);
    char *json = h5x_kv_json(kv, n);
    int rc = -1;

    if (g >= 0 && json && h5x_scalar_str(x, g, "json", json) == 0)
        rc = tree_entries(x, g, kv, n);
    free(json);
    if (g >= 0)
        H5Gclose(g);
    return rc;
}

double h5x_seconds(int64_t ns)
{
    /* long double holds every int64 exactly, so one rounding to double
     * (almost always the nearest) instead of two. */
    return (double)((long double)ns / 1e9L);
}

int h5x_class_join(int cls, runlog_type t)
{
    int c = t == RUNLOG_INT ? H5X_C_INT : t == RUNLOG_FLOAT ? H5X_C_FLOAT
          : t == RUNLOG_BOOL ? H5X_C_BOOL : t == RUNLOG_STRING ? H5X_C_STRING : H5X_C_JSON;

    if (cls == H5X_C_NONE || cls == c)
        return c;
    if ((cls == H5X_C_INT && c == H5X_C_FLOAT) || (cls == H5X_C_FLOAT && c == H5X_C_INT))
        return H5X_C_FLOAT;
    return H5X_C_JSON;
}
