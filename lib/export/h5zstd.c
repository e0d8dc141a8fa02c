/*
 * h5zstd.c — the zstd HDF5 filter (see h5zstd.h) and, compiled with
 * -DRX_H5ZSTD_PLUGIN (the shared module libh5zstd.so), the two functions
 * that make it an HDF5 filter plugin. librunlog-export links the filter
 * alone: a library must not carry a plugin's entry points.
 *
 * Each chunk is one zstd frame that carries its content size: the reference
 * decoder of filter 32015 (H5Zzstd in the HDF5 plugin collection) refuses
 * frames without it, and so do we, so that files written here read there
 * and the other way round.
 */
#include "h5zstd.h"

#ifdef RX_H5ZSTD_PLUGIN
#include <H5PLextern.h>
#endif
#include <zstd.h>

/* Replaces *buf by out (allocated with H5allocate_memory(): HDF5 frees the
 * buffers that filters hand back). */
static size_t swap_buffer(void **buf, size_t *buf_size, void *out, size_t out_size, size_t len)
{
    H5free_memory(*buf);
    *buf = out;
    *buf_size = out_size;
    return len;
}

static size_t zstd_compress(int level, size_t nbytes, size_t *buf_size, void **buf)
{
    size_t cap = ZSTD_compressBound(nbytes), n;
    void *out = H5allocate_memory(cap, 0);

    if (!out)
        return 0;
    /* ZSTD_compress() knows the input size and writes it into the frame. */
    n = ZSTD_compress(out, cap, *buf, nbytes, level);
    if (ZSTD_isError(n)) {
        H5free_memory(out);
        return 0;
    }
    return swap_buffer(buf, buf_size, out, cap, n);
}

static size_t zstd_decompress(size_t nbytes, size_t *buf_size, void **buf)
{
    unsigned long long size = ZSTD_getFrameContentSize(*buf, nbytes);
    void *out;
    size_t n;

    /* A frame without content size, or not a zstd frame: fail (0), which
     * HDF5 reports as a filter error rather than returning wrong data. */
    if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ||
        size > (unsigned long long)SIZE_MAX)
        return 0;
    out = H5allocate_memory(size ? (size_t)size : 1, 0);
    if (!out)
        return 0;
    n = ZSTD_decompress(out, (size_t)size, *buf, nbytes);
    if (ZSTD_isError(n) || n != size) {
        H5free_memory(out);
        return 0;
    }
    return swap_buffer(buf, buf_size, out, size ? (size_t)size : 1, n);
}

/* The H5Z_func_t: 0 on failure, else the number of valid bytes in *buf. */
static size_t h5zstd_filter(unsigned flags, size_t cd_nelmts, const unsigned cd_values[],
                            size_t nbytes, size_t *buf_size, void **buf)
{
    int level = cd_nelmts > 0 ? (int)cd_values[0] : ZSTD_CLEVEL_DEFAULT;

    if (flags & H5Z_FLAG_REVERSE)
        return zstd_decompress(nbytes, buf_size, buf);
    return zstd_compress(level, nbytes, buf_size, buf);
}

const H5Z_class2_t rx_h5zstd_class = {
    H5Z_CLASS_T_VERS,
    (H5Z_filter_t)RUNLOG_H5ZSTD_ID,
    1, /* encoder present */
    1, /* decoder present */
    "zstd (runlog h5zstd)",
    NULL, /* can_apply */
    NULL, /* set_local */
    h5zstd_filter,
};

#ifdef RX_H5ZSTD_PLUGIN
H5PL_type_t H5PLget_plugin_type(void)
{
    return H5PL_TYPE_FILTER;
}

const void *H5PLget_plugin_info(void)
{
    return &rx_h5zstd_class;
}
#endif
