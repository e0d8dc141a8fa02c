/*
 * test_lock — one writer per file (spec/FORMAT.md): a second writer, in this
 * process or another, gets RUNLOG_ELOCKED with a detail naming the file;
 * readers read meanwhile; the run's state is "running" while a writer holds
 * the lock, "crashed" when it was closed without finish, and "finished" or
 * "failed" after finish. A forked child that abandons the writer does not
 * keep the lock.
 */
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef tu_fixture fixture;

static runlog_writer *open_writer(const char *path, int synchronous)
{
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    o.synchronous = synchronous;
    runlog_writer *w = NULL;
    TU_OK(runlog_writer_open(&w, path, &o));
    return w;
}

static int state_of(const char *path)
{
    runlog_reader *r = NULL;
    TU_OK(runlog_reader_open(&r, path, NULL));
    runlog_run *run = NULL;
    TU_OK(runlog_reader_run(&run, r));
    int st = (int)runlog_run_state(run);
    runlog_run_free(run);
    runlog_reader_close(r);
    return st;
}

/* In a child: 10 if the open was refused with ELOCKED and a detail naming
 * the file, 20 + code otherwise. No cmocka calls here: exit codes only. */
static int child_second_writer(void *arg)
{
    const char *path = arg;
    runlog_writer *w = NULL;
    int rc = runlog_writer_open(&w, path, NULL);
    if (rc == RUNLOG_ELOCKED && w == NULL && strstr(runlog_error_detail(), "test.runlog"))
        return 10;
    if (rc == 0)
        runlog_writer_close(w);
    return 20 - rc;
}

/* In a child: the state a reader sees, plus 10. */
static int child_state(void *arg)
{
    const char *path = arg;
    runlog_reader *r = NULL;
    if (runlog_reader_open(&r, path, NULL) != 0)
        return 1;
    runlog_run *run = NULL;
    if (runlog_reader_run(&run, r) != 0)
        return 2;
    int st = (int)runlog_run_state(run);
    runlog_run_free(run);
    runlog_reader_close(r);
    return 10 + st;
}

static void second_writer_refused(fixture *fx, int synchronous)
{
    runlog_writer *w = open_writer(fx->path, synchronous);
    TU_OK(runlog_writer_add_int(w, "a", 1));
    TU_OK(runlog_writer_commit(w));
    TU_OK(runlog_writer_flush(w));

    /* same process, another open file description */
    runlog_writer *w2 = NULL;
    TU_RC(runlog_writer_open(&w2, fx->path, NULL), RUNLOG_ELOCKED);
    assert_null(w2);
    if (strstr(runlog_error_detail(), "test.runlog") == NULL)
        fail_msg("detail does not name the file: \"%s\"", runlog_error_detail());
    /* repair takes the writer lock too */
    TU_RC(runlog_repair(NULL, fx->path), RUNLOG_ELOCKED);
    /* another process */
    assert_int_equal(tu_fork_run(child_second_writer, fx->path), 10);

    /* readers read meanwhile and see a running run */
    assert_int_equal(state_of(fx->path), RUNLOG_STATE_RUNNING);
    assert_int_equal(tu_fork_run(child_state, fx->path), 10 + RUNLOG_STATE_RUNNING);

    /* the refused writers changed nothing: the first goes on */
    TU_OK(runlog_writer_add_int(w, "a", 2));
    TU_OK(runlog_writer_commit(w));
    TU_OK(runlog_writer_close(w));
    assert_int_equal(state_of(fx->path), RUNLOG_STATE_CRASHED);
    assert_int_equal(tu_fork_run(child_state, fx->path), 10 + RUNLOG_STATE_CRASHED);

    /* after close, a new writer may open (and resumes) */
    w = open_writer(fx->path, synchronous);
    assert_int_equal(runlog_writer_resumed(w), 1);
    assert_int_equal(runlog_writer_next_step(w), 2);
    assert_int_equal(tu_fork_run(child_second_writer, fx->path), 10);
    TU_OK(runlog_writer_finish(w, 0));
    /* finished, but the writer still holds the file until close */
    TU_RC(runlog_writer_open(&w2, fx->path, NULL), RUNLOG_ELOCKED);
    TU_OK(runlog_writer_close(w));
    assert_int_equal(state_of(fx->path), RUNLOG_STATE_FINISHED);
}

static void test_lock_threaded(void **state)
{
    second_writer_refused(*state, 0);
}

static void test_lock_sync(void **state)
{
    second_writer_refused(*state, 1);
}

static void test_state_failed(void **state)
{
    fixture *fx = *state;
    runlog_writer *w = open_writer(fx->path, 0);
    assert_int_equal(state_of(fx->path), RUNLOG_STATE_RUNNING);
    TU_OK(runlog_writer_finish(w, 3));
    TU_OK(runlog_writer_close(w));
    assert_int_equal(state_of(fx->path), RUNLOG_STATE_FAILED);
    assert_int_equal(tu_fork_run(child_state, fx->path), 10 + RUNLOG_STATE_FAILED);
    runlog_reader *r = NULL;
    TU_OK(runlog_reader_open(&r, fx->path, NULL));
    runlog_run *run = NULL;
    TU_OK(runlog_reader_run(&run, r));
    assert_int_equal(runlog_run_exit_code(run), 3);
    runlog_run_free(run);
    runlog_reader_close(r);
    assert_string_equal(runlog_state_name(RUNLOG_STATE_FAILED), "failed");
    assert_string_equal(runlog_state_name(RUNLOG_STATE_FINISHED), "finished");
    assert_string_equal(runlog_state_name(RUNLOG_STATE_RUNNING), "running");
    assert_string_equal(runlog_state_name(RUNLOG_STATE_CRASHED), "crashed");
}

/* Two writers on two files do not block each other. */
static void test_two_files(void **state)
{
    fixture *fx = *state;
    char *other = tu_path(fx->dir, "other.runlog");
    runlog_writer *a = open_writer(fx->path, 0), *b = open_writer(other, 1);
    TU_OK(runlog_writer_finish(a, 0));
    TU_OK(runlog_writer_finish(b, 0));
    runlog_writer_close(a);
    runlog_writer_close(b);
    free(other);
}

/* A trainer forks a worker (a DataLoader worker) that calls
 * runlog_writer_abandon(), then dies without closing its writer. The worker,
 * still alive, must not keep the run locked (OFD locks are shared across
 * fork) nor have written anything: the run reads as crashed and a new
 * writer resumes it. Without abandon, the worker's inherited descriptor
 * keeps the lock: "running" and RUNLOG_ELOCKED until the worker exits. */
static void test_abandon_in_forked_child(void **state)
{
    fixture *fx = *state;
    int to_parent[2];
    assert_int_equal(pipe(to_parent), 0);
    pid_t trainer = fork();
    assert_true(trainer >= 0);
    if (trainer == 0) {
        runlog_writer *w = NULL;
        if (runlog_writer_open(&w, fx->path, NULL) || runlog_writer_add_int(w, "a", 1) ||
            runlog_writer_commit(w) || runlog_writer_flush(w))
            _exit(1);
        int ready[2];
        if (pipe(ready) != 0)
            _exit(2);
        pid_t worker = fork();
        if (worker == 0) {
            runlog_writer_abandon(w);
            char c = 'x';
            if (write(ready[1], &c, 1) != 1)
                _exit(3);
            for (;;)
                pause();
        }
        char c;
        if (worker < 0 || read(ready[0], &c, 1) != 1 ||
            write(to_parent[1], &worker, sizeof worker) != (ssize_t)sizeof worker)
            _exit(4);
        /* Dies holding the writer, as a trainer the scheduler kills (and
         * without the exit-time leak check valgrind would run). */
        kill(getpid(), SIGKILL);
        _exit(5);
    }
    close(to_parent[1]);
    pid_t worker = 0;
    int status = 0;
    ssize_t got = read(to_parent[0], &worker, sizeof worker);
    close(to_parent[0]);
    pid_t waited = waitpid(trainer, &status, 0);
    int64_t size = tu_file_size(fx->path);

    int st = state_of(fx->path);
    runlog_writer *w = NULL;
    int rc = runlog_writer_open(&w, fx->path, NULL);
    /* The worker was alive until here; reaped before any assertion, so a
     * failure cannot leave it holding the test's output open. */
    if (got == (ssize_t)sizeof worker && worker > 0) {
        kill(worker, SIGKILL);
        waitpid(worker, NULL, 0);
    }
    assert_int_equal(got, (ssize_t)sizeof worker);
    assert_int_equal(waited, trainer);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_int_equal(st, RUNLOG_STATE_CRASHED);
    TU_OK(rc);
    assert_int_equal(runlog_writer_resumed(w), 1);
    assert_int_equal(runlog_writer_next_step(w), 1);
    TU_OK(runlog_writer_close(w));
    assert_true(size > 0);
    runlog_writer_abandon(NULL); /* accepts NULL */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lock_threaded, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_lock_sync, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_state_failed, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_two_files, tu_setup, tu_teardown),
        cmocka_unit_test_setup_teardown(test_abandon_in_forked_child, tu_setup, tu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
