/*
 * png.h — PNG encoding of raw uint8 pixels for `runlog extract --images`,
 * with Debian's libspng (a maintained PNG library; we write no deflate or
 * CRC code of our own).
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

#endif
