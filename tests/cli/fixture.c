/*
 * fixture.c — writes the run-log that the CLI tests read: every kind of
 * record the command prints (config, rows with every scalar type, NaN and
 * infinities, an alert, console text with a byte that is not UTF-8, a
 * summary value, finish), with a fixed clock, run id, salt and file UUID so
 * that the file, and so every output, is the same on every run.
 *
 * usage: cli-fixture OUT [--no-finish]
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runlog.h"

/* 1700000000 s (2023-11-14T22:13:20Z), then 250 ms later at every call. */
static int64_t fixed_clock(void *ctx)
{
    int64_t *t = ctx;
    int64_t now = *t;

    *t += 250000000;
    return now;
}

#define CHECK(call)                                                              \
    do {                                                                         \
        if ((call) < 0) {                                                        \
            fprintf(stderr, "cli-fixture: %s: %s\n", #call, runlog_error_detail()); \
            return 1;                                                            \
        }                                                                        \
    } while (0)

static int write_rows(runlog_writer *w)
{
    static const char bad_utf8[] = "bad \xff byte\n";

    CHECK(runlog_writer_add_double(w, "acc", 0.5));
    CHECK(runlog_writer_add_double(w, "loss", 1.25));
    CHECK(runlog_writer_add_int(w, "epoch", 0));
    CHECK(runlog_writer_commit(w));
    CHECK(runlog_writer_flush(w)); /* one frame per row: the tests cut between them */
    CHECK(runlog_writer_add_double(w, "acc", 0.75));
    CHECK(runlog_writer_add_double(w, "loss", NAN));
    CHECK(runlog_writer_add_int(w, "epoch", 1));
    CHECK(runlog_writer_add_string(w, "note", "hi, \"quoted\"\nsecond line"));
    CHECK(runlog_writer_commit(w));
    CHECK(runlog_writer_flush(w));
    CHECK(runlog_writer_alert(w, "Loss is NaN", "loss became NaN at epoch 1", RUNLOG_ALERT_WARN));
    CHECK(runlog_writer_console(w, RUNLOG_STDOUT, "epoch 1 done\n", 13));
    CHECK(runlog_writer_console(w, RUNLOG_STDERR, bad_utf8, sizeof bad_utf8 - 1));
    CHECK(runlog_writer_add_double(w, "acc", INFINITY));
    CHECK(runlog_writer_add_double(w, "loss", -INFINITY));
    CHECK(runlog_writer_add_bool(w, "flag", 1));
    CHECK(runlog_writer_add_null(w, "empty"));
    CHECK(runlog_writer_add_int(w, "big", 9007199254740993LL));
    CHECK(runlog_writer_add_double(w, "neg_zero", -0.0));
    CHECK(runlog_writer_commit_step(w, 5));
    CHECK(runlog_writer_flush(w));
    CHECK(runlog_writer_summary_double(w, "best_acc", 0.75));
    return 0;
}

int main(int argc, char **argv)
{
    static const uint8_t uuid[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x47, 0x88,
                                     0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00};
    static const char *const tags[] = {"baseline", "cli"};
    runlog_writer_options wo = RUNLOG_WRITER_OPTIONS_INIT;
    int64_t now = 1700000000LL * 1000000000LL;
    runlog_writer *w;
    int finish = !(argc == 3 && strcmp(argv[2], "--no-finish") == 0);

    if (argc < 2) {
        fprintf(stderr, "usage: cli-fixture OUT [--no-finish]\n");
        return 2;
    }
    wo.run_id = "fixture-run-0001";
    wo.project = "demo";
    wo.name = "fixture";
    wo.group = "sweep-1";
    wo.job_type = "train";
    wo.notes = "made by tests/cli/fixture.c";
    wo.tags = tags;
    wo.n_tags = 2;
    wo.synchronous = 1;
    wo.clock = fixed_clock;
    wo.clock_ctx = &now;
    wo.salt = 0x0123456789abcdefULL;
    wo.file_uuid = uuid;
    CHECK(runlog_writer_open(&w, argv[1], &wo));
    CHECK(runlog_writer_config_double(w, "learning_rate", 0.001));
    CHECK(runlog_writer_config_string(w, "architecture", "CNN"));
    CHECK(runlog_writer_config_int(w, "epochs", 3));
    CHECK(runlog_writer_config_json(w, "{\"optimizer\": {\"name\": \"adam\", \"betas\": [0.9, 0.999]}}"));
    if (write_rows(w))
        return 1;
    if (finish)
        CHECK(runlog_writer_finish(w, 0));
    return runlog_writer_close(w) < 0;
}
