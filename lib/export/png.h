/*
 * png.h — PNG encoding of raw uint8 pixels for `runlog extract --images`,
 * with Debian's libspng (a maintained PNG library; we write no deflate or
 * CRC code of our own).
 */
#ifndef RUNLOG_TOOLS_PNG_H
#define RUNLOG_TOOLS_PNG_H

#include <stdint.h>
#include <stdio.h>

/* Encodes height x width x channels uint8 pixels (row-major; 1 grey,
 * 2 grey+alpha, 3 RGB, 4 RGBA) as a PNG into f. Returns 0, or -1 with a
 * static message in *why. */
int png_write(FILE *f, const uint8_t *pixels, uint32_t height, uint32_t width,
              uint32_t channels, const char **why);

#endif
