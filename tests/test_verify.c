/*
 * test_verify — runlog_verify() and runlog_repair() on known damage: an
 * intact file, a corrupt frame in the middle, garbage between frames, a torn
 * tail; repair moves a torn tail into the sidecar and leaves a file that
 * verifies intact with a trailer. runlog_verify_structure() reports the same
 * but for a value block malformed behind its checksum.
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
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->dir = tu_tmpdir();
    fx->full = tu_path(fx->dir, "full.runlog");
    fx->bad = tu_path(fx->dir, "bad.runlog");
    tu_write_small(fx->full, 5, 4, 1, &fx->sm);
    fx->bytes = tu_read_file(fx->full, &fx->size);
    tu_read_records(&fx->all, fx->full, RUNLOG_READ_STRICT);
    TU_RC(fx->all.end_rc, RUNLOG_ITEROVER);
    tu_frames_from(&fx->fr, &fx->all, &fx->sm);
    assert_true(fx->fr.n >= 6);
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

static runlog_report *verify(const char *path)
{
    runlog_report *rep = NULL;
    TU_OK(runlog_verify(&rep, path));
    assert_non_null(rep);
    return rep;
}

static runlog_report *verify_structure(const char *path)
{
    runlog_report *rep = NULL;
    TU_OK(runlog_verify_structure(&rep, path));
    assert_non_null(rep);
    return rep;
}

static void assert_one_damage(const runlog_report *rep, runlog_damage_kind kind, uint64_t off,
                              uint64_t len)
{
    assert_int_equal(runlog_report_intact(rep), 0);
    assert_int_equal(runlog_report_damage_count(rep), 1);
    runlog_damage_kind k;
    uint64_t o, l;
    const char *what = NULL;
    TU_OK(runlog_report_damage(rep, 0, &k, &o, &l, &what));
    if (k != kind || o != off || l != len)
        fail_msg("damage kind %d at %llu, %llu bytes (%s); expected kind %d at %llu, %llu bytes",
                 (int)k, (unsigned long long)o, (unsigned long long)l, what ? what : "?",
                 (int)kind, (unsigned long long)off, (unsigned long long)len);
    assert_non_null(what);
    assert_true(what[0] != '\0');
}

static void test_intact(void **state)
{
    fixture *fx = *state;
    runlog_report *rep = verify(fx->full);
    assert_int_equal(runlog_report_intact(rep), 1);
    assert_int_equal(runlog_report_damage_count(rep), 0);
    assert_int_equal(runlog_report_has_trailer(rep), 1);
    assert_int_equal(runlog_report_file_size(rep), fx->size);
    /* the record frames, and at least one index frame */
    assert_true(runlog_report_frames(rep) > fx->fr.n);
    assert_int_equal(runlog_report_records(rep), fx->all.n);
    assert_true(runlog_report_raw_bytes(rep) > 0);
    assert_true(runlog_report_stored_bytes(rep) > 0);
    assert_true(runlog_report_stored_bytes(rep) < fx->size);
    runlog_damage_kind k;
    uint64_t o, l;
    const char *what;
    assert_true(runlog_report_damage(rep, 0, &k, &o, &l, &what) < 0);
    runlog_report_free(rep);
    runlog_report_free(NULL);
}

/* The last byte of frame 3 flipped: that frame is damaged, the rest reads. */
static void test_corrupt_middle_frame(void **state)
{
    fixture *fx = *state;
    size_t j = 3;
    unsigned char *copy = malloc(fx->size);
    assert_non_null(copy);
    memcpy(copy, fx->bytes, fx->size);
    copy[fx->fr.end[j] - 1] ^= 0x10;
    tu_write_file(fx->bad, copy, fx->size);
    runlog_report *rep = verify(fx->bad);
    assert_one_damage(rep, RUNLOG_DAMAGE_FRAME, fx->fr.start[j], fx->fr.end[j] - fx->fr.start[j]);
    /* the structure check finds it too: it checks every block's checksum,
     * value blocks included, without decoding them */
    runlog_report *st = verify_structure(fx->bad);
    assert_one_damage(st, RUNLOG_DAMAGE_FRAME, fx->fr.start[j], fx->fr.end[j] - fx->fr.start[j]);
    runlog_report_free(st);
    runlog_report *good = verify(fx->full);
    assert_int_equal(runlog_report_frames(rep), runlog_report_frames(good) - 1);
    assert_int_equal(runlog_report_has_trailer(rep), 1);
    runlog_report_free(good);
    runlog_report_free(rep);

    /* strict: an error naming the frame's offset; tolerant: the rest */
    tu_records got;
    tu_read_records(&got, fx->bad, RUNLOG_READ_STRICT);
    assert_true(got.end_rc == RUNLOG_ECHECKSUM || got.end_rc == RUNLOG_ECORRUPT);
    char off[32];
    snprintf(off, sizeof off, "%llu", (unsigned long long)fx->fr.start[j]);
    if (strstr(runlog_error_detail(), off) == NULL)
        fail_msg("detail does not name byte %s: \"%s\"", off, runlog_error_detail());
    tu_records_free(&got);
    tu_read_records(&got, fx->bad, RUNLOG_READ_TOLERANT);
    TU_RC(got.end_rc, RUNLOG_ITEROVER);
    size_t k = 0;
    for (size_t i = 0; i < fx->all.n; i++) {
        if (fx->fr.rec_frame[i] == j)
            continue;
        assert_true(k < got.n);
        assert_string_equal(got.dump[k], fx->all.dump[i]);
        k++;
    }
    assert_int_equal(k, got.n);
    tu_records_free(&got);
    free(copy);
}

/* 37 bytes of junk between two frames of a crashed file (no index). */
static void test_garbage_between_frames(void **state)
{
    fixture *fx = *state;
    uint64_t at = fx->sm.bounds[2], end = fx->sm.bounds[fx->sm.n_bounds - 1];
    unsigned char *copy = malloc(end + 37);
    assert_non_null(copy);
    memcpy(copy, fx->bytes, at);
    memset(copy + at, 'G', 37);
    memcpy(copy + at + 37, fx->bytes + at, end - at);
    tu_write_file(fx->bad, copy, end + 37);
    runlog_report *rep = verify(fx->bad);
    assert_one_damage(rep, RUNLOG_DAMAGE_GARBAGE, at, 37);
    assert_int_equal(runlog_report_has_trailer(rep), 0);
    runlog_report_free(rep);
    /* every record is still read (tolerant) */
    tu_records got;
    tu_read_records(&got, fx->bad, RUNLOG_READ_TOLERANT);
    TU_RC(got.end_rc, RUNLOG_ITEROVER);
    size_t want = 0;
    while (want < fx->all.n && fx->all.frame[want] < end)
        want++;
    assert_int_equal(got.n, want);
    for (size_t i = 0; i < want; i++)
        assert_string_equal(got.dump[i], fx->all.dump[i]);
    tu_records_free(&got);
    free(copy);
}

/* A crash in the middle of the frame after bounds[3]. */
static void test_torn_tail_and_repair(void **state)
{
    fixture *fx = *state;
    uint64_t at = fx->sm.bounds[3], cut = at + (fx->sm.bounds[4] - at) / 2;
    tu_write_file(fx->bad, fx->bytes, (size_t)cut);
    runlog_report *rep = verify(fx->bad);
    assert_one_damage(rep, RUNLOG_DAMAGE_TORN_TAIL, at, cut - at);
    assert_int_equal(runlog_report_has_trailer(rep), 0);
    runlog_report_free(rep);

    uint64_t cut_len = 0;
    TU_OK(runlog_repair(&cut_len, fx->bad));
    assert_int_equal(cut_len, cut - at);
    char sidecar[64];
    snprintf(sidecar, sizeof sidecar, "bad.runlog.torn-%llu", (unsigned long long)at);
    char *side = tu_path(fx->dir, sidecar);
    size_t n;
    unsigned char *tail = tu_read_file(side, &n);
    assert_int_equal(n, cut - at);
    assert_memory_equal(tail, fx->bytes + at, n);
    free(tail);
    free(side);

    rep = verify(fx->bad);
    assert_int_equal(runlog_report_intact(rep), 1);
    assert_int_equal(runlog_report_has_trailer(rep), 1);
    runlog_report_free(rep);
    /* the intact part unchanged, and all its records read */
    size_t size;
    unsigned char *now = tu_read_file(fx->bad, &size);
    assert_true(size > at);
    assert_memory_equal(now, fx->bytes, at);
    free(now);
    tu_records got;
    tu_read_records(&got, fx->bad, RUNLOG_READ_STRICT);
    TU_RC(got.end_rc, RUNLOG_ITEROVER);
    size_t want = 0;
    while (want < fx->all.n && fx->all.frame[want] < at)
        want++;
    assert_int_equal(got.n, want);
    for (size_t i = 0; i < want; i++)
        assert_string_equal(got.dump[i], fx->all.dump[i]);
    tu_records_free(&got);

    /* repairing an intact file cuts nothing and changes nothing */
    size_t before_n;
    unsigned char *before = tu_read_file(fx->bad, &before_n);
    TU_OK(runlog_repair(&cut_len, fx->bad));
    assert_int_equal(cut_len, 0);
    now = tu_read_file(fx->bad, &size);
    assert_int_equal(size, before_n);
    assert_memory_equal(now, before, size);
    free(now);
    free(before);
}

/* Without the values, an intact file reads the same: every count but none
 * of the value blocks decoded. */
static void test_structure_intact(void **state)
{
    fixture *fx = *state;
    runlog_report *full = verify(fx->full), *rep = verify_structure(fx->full);
    assert_int_equal(runlog_report_intact(rep), 1);
    assert_int_equal(runlog_report_frames(rep), runlog_report_frames(full));
    assert_int_equal(runlog_report_records(rep), runlog_report_records(full));
    assert_int_equal(runlog_report_raw_bytes(rep), runlog_report_raw_bytes(full));
    assert_int_equal(runlog_report_stored_bytes(rep), runlog_report_stored_bytes(full));
    assert_int_equal(runlog_report_has_trailer(rep), 1);
    runlog_report_free(rep);
    runlog_report_free(full);
}

/* Hostile files (tests/data/hostile): a zstd block whose declared size lies
 * is found from its framing alone; a string column whose value claims 2^31
 * bytes, behind a valid checksum, only by decoding it. */
static void test_structure_hostile(void **state)
{
    (void)state;
    const char *data = getenv("RUNLOG_TEST_DATA");
    assert_non_null(data);
    char path[4096];
    snprintf(path, sizeof path, "%s/hostile/directory_raw_len_lies.runlog", data);
    runlog_report *full = verify(path), *rep = verify_structure(path);
    uint64_t off, len;
    runlog_damage_kind kind;
    TU_OK(runlog_report_damage(full, 0, &kind, &off, &len, NULL));
    assert_one_damage(rep, kind, off, len);
    runlog_report_free(rep);
    runlog_report_free(full);

    snprintf(path, sizeof path, "%s/hostile/value_block_other_key.runlog", data);
    full = verify(path);
    rep = verify_structure(path);
    assert_int_equal(runlog_report_intact(rep), 1);
    assert_int_equal(runlog_report_damage_count(full), 1);
    TU_OK(runlog_report_damage(full, 0, &kind, &off, &len, NULL));
    assert_int_equal(kind, RUNLOG_DAMAGE_FRAME);
    assert_int_equal(off, 307);
    runlog_report_free(rep);
    runlog_report_free(full);
}

static void test_not_runlog(void **state)
{
    fixture *fx = *state;
    runlog_report *rep = NULL;
    tu_write_file(fx->bad, "GIF89a, not a run-log at all, but long enough to hold a header",
                  63);
    TU_RC(runlog_verify(&rep, fx->bad), RUNLOG_ENOTRUNLOG);
    assert_null(rep);
    char *missing = tu_path(fx->dir, "missing.runlog");
    TU_RC(runlog_verify(&rep, missing), RUNLOG_EIO);
    assert_non_null(strstr(runlog_error_detail(), "missing.runlog"));
    TU_RC(runlog_verify_structure(&rep, missing), RUNLOG_EIO);
    TU_RC(runlog_verify_structure(&rep, fx->bad), RUNLOG_ENOTRUNLOG);
    assert_null(rep);
    free(missing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intact),
        cmocka_unit_test(test_corrupt_middle_frame),
        cmocka_unit_test(test_garbage_between_frames),
        cmocka_unit_test(test_torn_tail_and_repair),
        cmocka_unit_test(test_structure_intact),
        cmocka_unit_test(test_structure_hostile),
        cmocka_unit_test(test_not_runlog),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
