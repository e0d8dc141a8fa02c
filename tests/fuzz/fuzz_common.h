/*
 * Shared helpers of the fuzz targets (tests/fuzz/). Each target is one
 * LLVMFuzzerTestOneInput(); the same .c file builds as a libFuzzer binary
 * (tests/fuzz/build.sh) and, linked with replay.c, as the corpus replay
 * test that `meson test --suite fuzz` runs on every build.
 */
#ifndef RUNLOG_FUZZ_COMMON_H
#define RUNLOG_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with a message: a broken invariant is a finding, like a crash. */
#define FUZZ_ASSERT(cond)                                                          \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                               \
        }                                                                          \
    } while (0)

/* A private scratch directory for this process (created once, under
 * $TMPDIR or /tmp). Files written there are removed by fuzz_cleanup_dir(). */
const char *fuzz_tmpdir(void);
/* Writes data to DIR/NAME (replacing it); returns the path (static buffer
 * per call site is not needed: the caller passes out[PATH_MAX]). 0 or -1. */
int fuzz_write_file(char *out, size_t outlen, const char *name, const uint8_t *data, size_t size);
/* Removes every file in the scratch directory (sidecars of repair...). */
void fuzz_cleanup_dir(void);
/* Touches every node of a value tree (and its JSON form), so that a
 * malformed tree shows up under ASan. */
void fuzz_touch_value(const void *value);

#endif
