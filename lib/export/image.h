/*
 * image.h — the one place where librunlog-export encodes and decodes
 * images (spec/FORMAT.md §12.3): raw uint8 pixels to PNG (extract, the W&B
 * export), PNG and JPEG to pixels (the HDF5 export), with Debian's libspng
 * and libjpeg(-turbo) — no deflate, CRC or DCT code of our own. Without the
 * images feature the encoder and decoders answer "not in this build".
 */
#ifndef RUNLOG_EXPORT_PNG_H
#define RUNLOG_EXPORT_PNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runlog.h"

/* Encodes height x width x channels uint8 pixels (row-major; 1 grey,
 * 2 grey+alpha, 3 RGB, 4 RGBA) as a PNG into f. Returns 0, or -1 with a
 * static message in *why. */
int png_write(FILE *f, const uint8_t *pixels, uint32_t height, uint32_t width,
              uint32_t channels, const char **why);

/* An image's file bytes, as extract and the W&B export write them (spec/
 * EXPORTS.md §9.5): PNG or JPEG as logged, raw pixels encoded as PNG. info
 * receives what the map says (runlog_value_image(): the library's rules),
 * *out is malloc'd (the caller frees it). 0, or an error naming src. */
int png_image_file_bytes(runlog_reader *r, const char *src, const runlog_value *img,
                         runlog_image_info *info, void **out, size_t *len);

/* Decoded images larger than this are refused (a crafted header must not
 * make a decoder allocate gigabytes). */
#define IMAGE_MAX_PIXEL_BYTES ((size_t)1 << 30)

/* Pixels of one image: height x width x channels uint8, row-major. */
typedef struct image_pixels {
    uint8_t *data;
    uint32_t h, w, c;
} image_pixels;

/* Reads an image map's blob (runlog_reader_image(): map, digest and size
 * checked) and decodes it: raw pixels as they are, PNG and JPEG decoded,
 * at most 1 GiB of pixels (a crafted header must not make it allocate
 * more). 0, or an error naming path and the image's digest. */
int image_pixels_read(image_pixels *p, runlog_reader *src, const char *path,
                      const runlog_value *img);
void image_pixels_free(image_pixels *p);

#endif
