/*
 * image.c — see image.h: the one place where images are encoded and
 * decoded. libspng does PNG's deflate, filters and CRCs, libjpeg(-turbo)
 * JPEG; this file maps channel counts and bounds what a decoder may
 * allocate.
 */
#include "image.h"
#include "export_internal.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#ifdef RX_HAVE_IMAGES
#include <jpeglib.h>
#include <spng.h>
#endif

#ifdef RX_HAVE_IMAGES
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
#else
int png_write(FILE *f, const uint8_t *pixels, uint32_t height, uint32_t width,
              uint32_t channels, const char **why)
{
    (void)f, (void)pixels, (void)height, (void)width, (void)channels;
    *why = "PNG encoding is not in this build (the images feature)";
    return -1;
}
#endif

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

/* ---- decoding ---- */


#ifdef RX_HAVE_IMAGES



static int decode_png(image_pixels *p, const void *data, size_t len, const char **why)
{
    spng_ctx *ctx = spng_ctx_new(0);
    struct spng_ihdr ihdr;
    size_t size, i, k, npx;
    uint8_t *rgba = NULL;
    int rc;

    *why = "cannot decode PNG";
    if (!ctx)
        return -1;
    rc = spng_set_png_buffer(ctx, data, len);
    if (rc == 0)
        rc = spng_get_ihdr(ctx, &ihdr);
    if (rc == 0)
        rc = spng_decoded_image_size(ctx, SPNG_FMT_RGBA8, &size);
    if (rc != 0 || size > IMAGE_MAX_PIXEL_BYTES || !(rgba = malloc(size ? size : 1)) ||
        spng_decode_image(ctx, rgba, size, SPNG_FMT_RGBA8, 0) != 0) {
        spng_ctx_free(ctx);
        free(rgba);
        return -1;
    }
    spng_ctx_free(ctx);
    /* Channels as spec/FORMAT.md §12.3 counts them (palette: 3). */
    p->c = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE ? 1
         : ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA ? 2
         : ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA ? 4 : 3;
    p->h = ihdr.height;
    p->w = ihdr.width;
    npx = (size_t)p->h * p->w;
    for (i = 0; i < npx; i++) { /* RGBA -> c channels, in place */
        const uint8_t *s = rgba + 4 * i;
        uint8_t *d = rgba + p->c * i;
        if (p->c == 1)
            d[0] = s[0];
        else if (p->c == 2)
            d[0] = s[0], d[1] = s[3];
        else
            for (k = 0; k < p->c; k++)
                d[k] = s[k];
    }
    p->data = rgba;
    return 0;
}

typedef struct jpeg_err {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
} jpeg_err;

static void jpeg_fail(j_common_ptr cinfo)
{
    longjmp(((jpeg_err *)cinfo->err)->jump, 1);
}

static void jpeg_quiet(j_common_ptr cinfo, int level)
{
    (void)cinfo;
    (void)level; /* warnings of a damaged JPEG: decoded as far as possible */
}

static int decode_jpeg(image_pixels *p, const void *data, size_t len, const char **why)
{
    struct jpeg_decompress_struct ci;
    jpeg_err err;
    uint8_t *volatile out = NULL;
    JSAMPROW row;
    size_t size;

    *why = "cannot decode JPEG";
    ci.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_fail;
    err.mgr.emit_message = jpeg_quiet;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&ci);
        free(out);
        return -1;
    }
    jpeg_create_decompress(&ci);
    jpeg_mem_src(&ci, data, (unsigned long)len);
    jpeg_read_header(&ci, TRUE);
    /* Grey stays grey; everything else (YCbCr, CMYK...) becomes RGB. */
    ci.out_color_space = ci.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    /* jpeg_start_decompress() allocates for the whole image as the header
     * says (a progressive JPEG: every block's coefficients, 2 bytes per
     * sample), so a 100-byte file could take gigabytes before the size
     * check below: check the header first and bound libjpeg's memory. */
    if ((uint64_t)ci.image_width * ci.image_height * (ci.num_components == 1 ? 1 : 3) > IMAGE_MAX_PIXEL_BYTES)
        longjmp(err.jump, 1);
    ci.mem->max_memory_to_use = IMAGE_MAX_PIXEL_BYTES;
    jpeg_start_decompress(&ci);
    size = (size_t)ci.output_height * ci.output_width * (size_t)ci.output_components;
    if (size > IMAGE_MAX_PIXEL_BYTES || !(out = malloc(size ? size : 1)))
        longjmp(err.jump, 1);
    while (ci.output_scanline < ci.output_height) {
        row = out + (size_t)ci.output_scanline * ci.output_width * (size_t)ci.output_components;
        jpeg_read_scanlines(&ci, &row, 1);
    }
    p->h = ci.output_height;
    p->w = ci.output_width;
    p->c = (uint32_t)ci.output_components;
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    p->data = out;
    return 0;
}
#else
static int decode_png(image_pixels *p, const void *data, size_t len, const char **why)
{
    (void)p, (void)data, (void)len;
    *why = "PNG decoding is not in this build (the images feature)";
    return -1;
}

static int decode_jpeg(image_pixels *p, const void *data, size_t len, const char **why)
{
    (void)p, (void)data, (void)len;
    *why = "JPEG decoding is not in this build (the images feature)";
    return -1;
}
#endif

/* Reads and decodes an image map's blob: the map checked and the blob read
 * by runlog_reader_image() (digest, size; raw: height x width x channels).
 * 0, or an error with the detail saying why. */
int image_pixels_read(image_pixels *p, runlog_reader *src, const char *path, const runlog_value *img)
{
    runlog_image_info info = RUNLOG_IMAGE_INFO_INIT;
    const char *why = "unknown image format";
    size_t len = 0;
    void *data = NULL;
    int rc;

    memset(p, 0, sizeof *p);
    if ((rc = runlog_value_image(&info, img)) < 0 ||
        (rc = runlog_reader_image(&data, &len, src, img)) < 0)
        return rx_lib_error(path, rc);
    rc = -1;
    if (info.format == RUNLOG_IMAGE_RAW) {
        p->h = info.height, p->w = info.width, p->c = info.channels;
        p->data = data;
        return 0;
    } else if (info.format == RUNLOG_IMAGE_PNG) {
        rc = decode_png(p, data, len, &why);
    } else if (info.format == RUNLOG_IMAGE_JPEG) {
        rc = decode_jpeg(p, data, len, &why);
    }
    runlog_free(data);
    if (rc < 0) {
        char hex[33];
        runlog_digest_hex(hex, &info.digest);
        return runlog_error_set(RUNLOG_ECORRUPT, "%s: image %s: %s", path, hex, why);
    }
    return 0;
}


void image_pixels_free(image_pixels *p)
{
    free(p->data); /* raw blobs come from runlog_reader_blob(): same allocator */
    p->data = NULL;
}
