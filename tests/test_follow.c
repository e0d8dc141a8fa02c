/*
 * test_follow — a reader following a live file (RUNLOG_READ_FOLLOW) gets
 * RUNLOG_EAGAIN while nothing new is complete, never a partial frame, and
 * finally every row, the finish record, then RUNLOG_ITEROVER.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef tu_fixture fixture;

static runlog_reader *open_follow(const char *path)
{
    runlog_reader_options ro = RUNLOG_READER_OPTIONS_INIT;
    ro.flags = RUNLOG_READ_FOLLOW;
    runlog_reader *r = NULL;
    TU_OK(runlog_reader_open(&r, path, &ro));
    return r;
}

/* Reads history rows until EAGAIN; checks x == step * 0.25 and steps in
 * order; returns the code that stopped it. */
static int read_available(runlog_reader *r, uint64_t *rows, int *finished)
{
    const runlog_record *rec;
    int rc;
    while ((rc = runlog_reader_next(r, &rec)) == 0) {
        int type = runlog_record_type_of(rec);
        if (type == RUNLOG_RECORD_FINISH)
            *finished = 1;
        if (type != RUNLOG_RECORD_HISTORY)
            continue;
        assert_int_equal(*finished, 0);
        assert_int_equal(runlog_record_step(rec), *rows);
        assert_int_equal(runlog_record_field_count(rec), 1);
        assert_string_equal(runlog_record_field_key(rec, 0), "x");
        double x = runlog_value_float(runlog_record_field_value(rec, 0));
        assert_int_equal(tu_dbits(x), tu_dbits((double)*rows * 0.25));
        (*rows)++;
    }
    return rc;
}

static void add_rows(runlog_writer *w, uint64_t from, uint64_t to)
{
    for (uint64_t s = from; s < to; s++) {
        TU_OK(runlog_writer_add_double(w, "x", (double)s * 0.25));
        TU_OK(runlog_writer_commit(w));
    }
}

/* Writer and reader in lock step: after each flush the reader sees exactly
 * the rows flushed so far, then EAGAIN. */
static void lockstep(fixture *fx, int synchronous)
{
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    o.synchronous = synchronous;
    o.flush_interval_ms = RUNLOG_NO_TIMED_FLUSH;
    runlog_writer *w = NULL;
    TU_OK(runlog_writer_open(&w, fx->path, &o));
    TU_OK(runlog_writer_flush(w));
    runlog_reader *r = open_follow(fx->path);
    uint64_t rows = 0;
    int finished = 0;
    for (uint64_t g = 0; g < 10; g++) {
        TU_RC(read_available(r, &rows, &finished), RUNLOG_EAGAIN);
        assert_int_equal(rows, g * 50);
        TU_RC(read_available(r, &rows, &finished), RUNLOG_EAGAIN); /* still nothing */
        add_rows(w, g * 50, g * 50 + 50);
        /* committed but not flushed: not in the file yet */
        TU_RC(read_available(r, &rows, &finished), RUNLOG_EAGAIN);
        assert_int_equal(rows, g * 50);
        TU_OK(runlog_writer_flush(w));
    }
    TU_RC(read_available(r, &rows, &finished), RUNLOG_EAGAIN);
    assert_int_equal(rows, 500);
    assert_int_equal(finished, 0);
    TU_OK(runlog_writer_finish(w, 0));
    TU_RC(read_available(r, &rows, &finished), RUNLOG_ITEROVER);
    assert_int_equal(finished, 1);
    assert_int_equal(rows, 500);
    const runlog_record *rec;
    TU_RC(runlog_reader_next(r, &rec), RUNLOG_ITEROVER);
    TU_OK(runlog_writer_close(w));
    TU_RC(runlog_reader_next(r, &rec), RUNLOG_ITEROVER);
    runlog_reader_close(r);
}

static void test_lockstep_threaded(void **state)
{
    lockstep(*state, 0);
}

static void test_lockstep_sync(void **state)
{
    lockstep(*state, 1);
}

/* A file growing one byte at a time (a writer's write(2) seen in pieces):
 * after each byte the reader has read exactly the records of the complete
 * frames, never part of a frame. */
static void test_byte_by_byte(void **state)
{
    fixture *fx = *state;
    char *full = tu_path(fx->dir, "full.runlog");
    tu_small sm;
    tu_write_small(full, 4, 3, 1, &sm);
    tu_records all;
    tu_read_records(&all, full, RUNLOG_READ_STRICT);
    TU_RC(all.end_rc, RUNLOG_ITEROVER);
    tu_frames fr;
    tu_frames_from(&fr, &all, &sm);
    size_t size;
    unsigned char *bytes = tu_read_file(full, &size);

    /* the reader opens once the file header is there */
    uint64_t have = fr.start[0];
    tu_write_file(fx->path, bytes, (size_t)have);
    runlog_reader *r = open_follow(fx->path);
    int fd = open(fx->path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    size_t n = 0;
    int rc = 0;
    for (;;) {
        const runlog_record *rec;
        while ((rc = runlog_reader_next(r, &rec)) == 0) {
            assert_true(n < all.n);
            tu_str s = {0};
            tu_dump_record(&s, rec);
            if (strcmp(s.p, all.dump[n]) != 0)
                fail_msg("at %llu bytes, record %zu:\n got  %s\n want %s",
                         (unsigned long long)have, n, s.p, all.dump[n]);
            tu_str_free(&s);
            size_t f = fr.rec_frame[n];
            if (fr.end[f] != UINT64_MAX && fr.end[f] > have)
                fail_msg("at %llu bytes, record %zu of the frame %llu..%llu was read",
                         (unsigned long long)have, n, (unsigned long long)fr.start[f],
                         (unsigned long long)fr.end[f]);
            n++;
        }
        if (rc == RUNLOG_ITEROVER)
            break;
        TU_RC(rc, RUNLOG_EAGAIN);
        /* EAGAIN: every complete record frame has been read */
        if (n < all.n) {
            size_t f = fr.rec_frame[n];
            assert_true(fr.end[f] == UINT64_MAX || fr.end[f] > have);
        }
        if (have == size)
            fail_msg("EAGAIN at the end of a finished file (%zu of %zu records)", n, all.n);
        assert_int_equal(write(fd, bytes + have, 1), 1);
        have++;
    }
    assert_int_equal(n, all.n);
    close(fd);
    runlog_reader_close(r);
    tu_frames_free(&fr);
    tu_records_free(&all);
    free(bytes);
    free(full);
}

/* A writer thread logs fast while the reader polls: same rows, in order. */
#define FREE_ROWS 20000

static void *writer_thread(void *arg)
{
    runlog_writer *w = arg;
    for (uint64_t s = 0; s < FREE_ROWS; s++) {
        if (runlog_writer_add_double(w, "x", (double)s * 0.25) != 0 ||
            runlog_writer_commit(w) != 0)
            return (void *)1;
        if (s % 1000 == 999 && runlog_writer_flush(w) != 0)
            return (void *)2;
    }
    if (runlog_writer_finish(w, 0) != 0)
        return (void *)3;
    return NULL;
}

static void test_free_running(void **state)
{
    fixture *fx = *state;
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    o.flush_bytes = 8192;
    o.flush_interval_ms = 1;
    runlog_writer *w = NULL;
    TU_OK(runlog_writer_open(&w, fx->path, &o));
    TU_OK(runlog_writer_flush(w));
    runlog_reader *r = open_follow(fx->path);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, writer_thread, w), 0);
    uint64_t rows = 0, waits = 0;
    int finished = 0, rc;
    while ((rc = read_available(r, &rows, &finished)) == RUNLOG_EAGAIN) {
        waits++;
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    TU_RC(rc, RUNLOG_ITEROVER);
    void *ret;
    assert_int_equal(pthread_join(t, &ret), 0);
    assert_null(ret);
    TU_OK(runlog_writer_close(w));
    assert_int_equal(rows, FREE_ROWS);
    assert_int_equal(finished, 1);
    print_message("%llu rows read while written, %llu waits\n", (unsigned long long)rows,
                  (unsigned long long)waits);
    runlog_reader_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lockstep_threaded, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_lockstep_sync, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_byte_by_byte, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_free_running, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
