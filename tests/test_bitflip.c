/*
 * test_bitflip — every single-bit flip of a small multi-frame file.
 *
 * Every byte is under a checksum (file header,
 * frame headers, payloads, index, trailer), so runlog_verify() notices every
 * flip and reports a damaged range that holds the flipped byte; a tolerant
 * reader loses only the records of the frame that holds the flip and reads
 * every other record with its exact values; a strict reader stops with an
 * error or reads everything, never a wrong value.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    char *dir, *full, *bad;
    tu_small sm;
    tu_records all;
    tu_frames fr;
    unsigned char *bytes;
    size_t size;
    size_t failures;
} fixture;

/* A failed flip is printed and counted, and the next flip goes on, so that
 * one run lists every undetected flip (the first 50). */
#define FAIL(...)                                  \
    do {                                           \
        if (fx->failures++ < 50)                   \
            print_error(__VA_ARGS__);              \
        if (fx->failures <= 50)                    \
            print_error("\n");                    \
        return;                                    \
    } while (0)

/* The end of the last record frame (after the last flush) is not known from
 * flush sizes: it is the shortest prefix that reads every record. Every
 * shorter prefix is checked by test_truncate to read fewer. */
static uint64_t last_frame_end(fixture *fx)
{
    for (uint64_t c = fx->fr.start[fx->fr.n - 1]; c <= fx->size; c++) {
        tu_write_file(fx->bad, fx->bytes, (size_t)c);
        tu_records got;
        tu_read_records(&got, fx->bad, RUNLOG_READ_TOLERANT);
        size_t n = got.n;
        tu_records_free(&got);
        if (n == fx->all.n)
            return c;
    }
    fail_msg("the full file does not read all its records");
    return 0;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->dir = tu_tmpdir();
    fx->full = tu_path(fx->dir, "full.runlog");
    fx->bad = tu_path(fx->dir, "bad.runlog");
    tu_write_small(fx->full, 4, 3, 1, &fx->sm);
    fx->bytes = tu_read_file(fx->full, &fx->size);
    tu_read_records(&fx->all, fx->full, RUNLOG_READ_STRICT);
    TU_RC(fx->all.end_rc, RUNLOG_ITEROVER);
    tu_frames_from(&fx->fr, &fx->all, &fx->sm);
    assert_true(fx->fr.n >= 5);
    if (fx->fr.end[fx->fr.n - 1] == UINT64_MAX)
        fx->fr.end[fx->fr.n - 1] = last_frame_end(fx);
    /* the index and trailer follow the last record frame */
    assert_true(fx->fr.end[fx->fr.n - 1] < fx->size);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    tu_records_free(&fx->all);
    tu_frames_free(&fx->fr);
    free(fx->bytes);
    free(fx->full);
    free(fx->bad);
    tu_tmpdir_free(fx->dir);
    free(fx);
    return 0;
}

/* Index of the record frame holding byte x, or -1 (file header, index
 * frames, trailer). */
static int frame_of(const fixture *fx, uint64_t x)
{
    for (size_t j = 0; j < fx->fr.n; j++)
        if (x >= fx->fr.start[j] && x < fx->fr.end[j])
            return (int)j;
    return -1;
}

static void check_verify(fixture *fx, uint64_t x, int bit)
{
    runlog_report *rep = NULL;
    int rc = runlog_verify(&rep, fx->bad);
    if (rc != 0) {
        /* only a damaged file header makes the whole file unreadable */
        if (x >= fx->fr.start[0])
            FAIL("byte %llu bit %d: verify failed: %d (%s): %s", (unsigned long long)x,
                     bit, rc, runlog_strerror(rc), runlog_error_detail());
        return;
    }
    if (runlog_report_intact(rep) || runlog_report_damage_count(rep) == 0)
        FAIL("byte %llu bit %d: flip not detected by runlog_verify (BUG)",
                 (unsigned long long)x, bit);
    int covered = 0;
    for (size_t i = 0; i < runlog_report_damage_count(rep); i++) {
        runlog_damage_kind kind;
        uint64_t off, len;
        const char *what;
        runlog_report_damage(rep, i, &kind, &off, &len, &what);
        if (x >= off && x - off < len)
            covered = 1;
    }
    if (!covered)
        FAIL("byte %llu bit %d: no damage range of the report holds the flipped byte",
                 (unsigned long long)x, bit);
    runlog_report_free(rep);
}

static void check_tolerant(fixture *fx, uint64_t x, int bit)
{
    tu_records got;
    tu_read_records(&got, fx->bad, RUNLOG_READ_TOLERANT);
    if (x < fx->fr.start[0]) {
        /* a flip in the file header: the header checksum must catch it */
        if (got.open_rc == 0)
            FAIL("byte %llu bit %d (file header): tolerant open succeeded",
                     (unsigned long long)x, bit);
        tu_records_free(&got);
        return;
    }
    if (got.open_rc != 0 || got.end_rc != RUNLOG_ITEROVER)
        FAIL("byte %llu bit %d: tolerant read: open %d, end %d (%s) after %zu records: %s",
                 (unsigned long long)x, bit, got.open_rc, got.end_rc,
                 runlog_strerror(got.end_rc), got.n, runlog_error_detail());
    int lost = frame_of(fx, x);
    size_t k = 0;
    for (size_t i = 0; i < fx->all.n; i++) {
        if ((int)fx->fr.rec_frame[i] == lost)
            continue;
        if (k >= got.n)
            FAIL("byte %llu bit %d: record %zu (frame at %llu) lost; damaged frame %d",
                     (unsigned long long)x, bit, i, (unsigned long long)fx->all.frame[i], lost);
        if (strcmp(got.dump[k], fx->all.dump[i]) != 0)
            FAIL("byte %llu bit %d: record %zu differs:\n got  %s\n want %s",
                     (unsigned long long)x, bit, i, got.dump[k], fx->all.dump[i]);
        k++;
    }
    if (k != got.n)
        FAIL("byte %llu bit %d: %zu records read, %zu expected (invented: %s)",
                 (unsigned long long)x, bit, got.n, k, got.dump[k]);
    tu_records_free(&got);
}

static void check_strict(fixture *fx, uint64_t x, int bit)
{
    tu_records got;
    tu_read_records(&got, fx->bad, RUNLOG_READ_STRICT);
    if (got.open_rc != 0) {
        if (x >= fx->fr.start[0])
            FAIL("byte %llu bit %d: strict open failed past the header: %d",
                     (unsigned long long)x, bit, got.open_rc);
        tu_records_free(&got);
        return;
    }
    if (got.n > fx->all.n)
        FAIL("byte %llu bit %d: strict read invented records", (unsigned long long)x, bit);
    for (size_t i = 0; i < got.n; i++)
        if (strcmp(got.dump[i], fx->all.dump[i]) != 0)
            FAIL("byte %llu bit %d: strict record %zu differs:\n got  %s\n want %s",
                     (unsigned long long)x, bit, i, got.dump[i], fx->all.dump[i]);
    if (got.end_rc == RUNLOG_ITEROVER) {
        /* no error: then nothing may be missing */
        if (got.n != fx->all.n)
            FAIL("byte %llu bit %d: strict read ended without error after %zu of %zu "
                     "records", (unsigned long long)x, bit, got.n, fx->all.n);
    } else if (got.end_rc != RUNLOG_ECHECKSUM && got.end_rc != RUNLOG_ECORRUPT &&
               got.end_rc != RUNLOG_EUNSUPPORTED && got.end_rc != RUNLOG_ETOOLARGE) {
        FAIL("byte %llu bit %d: strict read ended with %d (%s)", (unsigned long long)x,
                 bit, got.end_rc, runlog_strerror(got.end_rc));
    }
    tu_records_free(&got);
}

static void test_every_bit(void **state)
{
    fixture *fx = *state;
    unsigned char *copy = malloc(fx->size);
    assert_non_null(copy);
    print_message("file of %zu bytes, %zu record frames, %zu records\n", fx->size, fx->fr.n,
                  fx->all.n);
    for (uint64_t x = 0; x < fx->size; x++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, fx->bytes, fx->size);
            copy[x] ^= (unsigned char)(1u << bit);
            tu_write_file(fx->bad, copy, fx->size);
            check_verify(fx, x, bit);
            check_tolerant(fx, x, bit);
            check_strict(fx, x, bit);
        }
    }
    free(copy);
    if (fx->failures)
        fail_msg("%zu of %zu flips mishandled", fx->failures, fx->size * 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_bit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
