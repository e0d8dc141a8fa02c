/*
 * png.c — see png.h. libspng does the deflate, the filters and the CRCs;
 * this file only maps channel counts to PNG colour types.
 */
#include "png.h"
#include "export_internal.h"

#include <stdlib.h>
#include <string.h>

#include <spng.h>

static int color_type(uint32_t channels)
{
    switch (channels) {
    case 1: return SPNG_COLOR_TYPE_GRAYSCALE;
    case 2: return SPNG_COLOR_TYPE_GRAYSCALE_ALPHA;
    case 3: return SPNG_COLOR_TYPE_TRUECOLOR;
    case 4: return SPNG_COLOR_TYPE_TRUECOLOR_ALPHA;
    default: return -1;
    }
}

int png_write(FILE *f, const uint8_t *pixels, uint32_t height, uint32_t width,
              uint32_t channels, const char **why)
{
    struct spng_ihdr ihdr = {0};
    spng_ctx *ctx;
    int ct = color_type(channels), rc;

    if (ct < 0 || height == 0 || width == 0) {
        *why = "unsupported image shape for PNG";
        return -1;
    }
    if (!(ctx = spng_ctx_new(SPNG_CTX_ENCODER))) {
        *why = "out of memory";
        return -1;
    }
    ihdr.width = width;
    ihdr.height = height;
    ihdr.bit_depth = 8;
    ihdr.color_type = (uint8_t)ct;
    rc = spng_set_png_file(ctx, f);
    if (rc == 0)
        rc = spng_set_ihdr(ctx, &ihdr);
    if (rc == 0)
        rc = spng_encode_image(ctx, pixels, (size_t)height * width * channels, SPNG_FMT_PNG,
                               SPNG_ENCODE_FINALIZE);
    if (rc != 0)
        *why = spng_strerror(rc);
    spng_ctx_free(ctx);
    return rc == 0 ? 0 : -1;
}

int png_image_file_bytes(runlog_reader *r, const char *src, const runlog_value *img,
                         runlog_image_info *info, void **out, size_t *len)
{
    const char *why = "";
    size_t n = 0, mlen = 0;
    char *mem = NULL;
    void *px = NULL;
    FILE *f;
    int rc;

    if ((rc = runlog_value_image(info, img)) < 0 || (rc = runlog_reader_image(&px, &n, r, img)) < 0)
        return rx_lib_error(src, rc);
    if (info->format != RUNLOG_IMAGE_RAW) {
        /* copied so that every buffer handed out is the caller's to free() */
        if (!(*out = malloc(n ? n : 1))) {
            runlog_free(px);
            return runlog_error_set(RUNLOG_ENOMEM, "%s: out of memory", src);
        }
        memcpy(*out, px, n);
        runlog_free(px);
        *len = n;
        return 0;
    }
    rc = (f = open_memstream(&mem, &mlen)) ? png_write(f, px, info->height, info->width,
                                                       info->channels, &why)
                                           : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    runlog_free(px);
    if (rc < 0) {
        free(mem);
        return runlog_error_set(f ? RUNLOG_EIO : RUNLOG_ENOMEM, "%s: PNG encoding: %s", src,
                                f ? why : "out of memory");
    }
    *out = mem, *len = mlen;
    return 0;
}
