/*
 * bench_ls.c — `runlog ls` on many runs: writes N run files of a realistic
 * size (20 keys x 500 steps, a config of 21 keys of which 20 shared by every
 * run, a finish) into a folder, then times
 * runlog_runs_open() on the folder (what `runlog ls` does) against reading
 * every run whole with runlog_reader_run(). Prints figures; asserts nothing.
 *
 * usage: runlog-bench-ls [DIR [N]]   (DIR default: a new folder under /tmp; N: 1000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "runlog.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int write_run(const char *path, int i)
{
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    char name[64], key[32];
    runlog_writer *w;
    int rc;

    snprintf(name, sizeof name, "run%d", i);
    o.project = "bench";
    o.name = name;
    o.group = i % 2 ? "odd" : "even";
    if ((rc = runlog_writer_open(&w, path, &o)))
        return rc;
    rc = runlog_writer_config_double(w, "lr", 0.001 * (i % 10 + 1));
    /* And 20 settings every run shares (a sweep varies few): the default
     * columns leave them out, which must not cost a pass over the runs
     * per run (3.13 s for `runlog ls` of 1,000 such runs before). */
    for (int k = 0; k < 20 && !rc; k++) {
        char ckey[32];
        snprintf(ckey, sizeof ckey, "shared_%02d", k);
        rc = runlog_writer_config_int(w, ckey, k);
    }
    for (int step = 0; step < 500 && !rc; step++) {
        for (int k = 0; k < 20 && !rc; k++) {
            snprintf(key, sizeof key, "metric/%02d", k);
            rc = runlog_writer_add_double(w, key, (double)step / (k + 1) + i);
        }
        if (!rc)
            rc = runlog_writer_commit(w);
    }
    if (!rc)
        rc = runlog_writer_finish(w, 0);
    int rc2 = runlog_writer_close(w);
    return rc ? rc : rc2;
}

int main(int argc, char **argv)
{
    char tmpl[] = "/tmp/runlog-bench-ls-XXXXXX";
    const char *dir = argc > 1 ? argv[1] : mkdtemp(tmpl);
    int n = argc > 2 ? atoi(argv[2]) : 1000;
    char path[4096];
    struct stat st;
    double bytes = 0;

    if (!dir || n <= 0) {
        fprintf(stderr, "usage: runlog-bench-ls [DIR [N]]\n");
        return 2;
    }
    mkdir(dir, 0755);
    double t0 = now();
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/run%04d.runlog", dir, i);
        if (stat(path, &st) != 0 && write_run(path, i) != 0) {
            fprintf(stderr, "%s: %s\n", path, runlog_error_detail());
            return 1;
        }
        if (stat(path, &st) == 0)
            bytes += st.st_size;
    }
    printf("files: %d in %s, %.1f KiB each, written in %.2f s\n", n, dir, bytes / n / 1024, now() - t0);

    for (int rep = 0; rep < 3; rep++) {
        const char *paths[] = {dir};
        runlog_runs *t;
        t0 = now();
        if (runlog_runs_open(&t, paths, 1, NULL) != 0) {
            fprintf(stderr, "%s\n", runlog_error_detail());
            return 1;
        }
        double dt = now() - t0;
        printf("runlog_runs_open (runlog ls): %zu runs, %zu columns in %.3f s (%.0f runs/s)\n",
               runlog_runs_count(t), runlog_runs_column_count(t), dt, runlog_runs_count(t) / dt);
        runlog_runs_free(t);
    }
    t0 = now();
    for (int i = 0; i < n; i++) {
        runlog_reader *r;
        runlog_run *run;
        snprintf(path, sizeof path, "%s/run%04d.runlog", dir, i);
        if (runlog_reader_open(&r, path, NULL) == 0) {
            if (runlog_reader_run(&run, r) == 0)
                runlog_run_free(run);
            runlog_reader_close(r);
        }
    }
    printf("runlog_reader_run on each (every history decoded): %.3f s\n", now() - t0);
    return 0;
}
