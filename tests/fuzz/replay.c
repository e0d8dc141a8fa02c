/*
 * Standalone replay driver: runs one fuzz target's LLVMFuzzerTestOneInput
 * over every file of the directories (or files) named on the command line,
 * so that `meson test --suite fuzz` replays the corpora and the saved
 * crash reproducers on every build, without libFuzzer.
 *
 *   replay DIR|FILE... [--optional DIR...]
 * Each required argument must yield at least one input; directories after
 * --optional may be missing or empty (regressions/ of a target with no
 * crash found yet). Names starting with '.' or "README" are skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    /* An exact-size heap copy, so that ASan catches a read past the end. */
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
        fprintf(stderr, "replay: %s: cannot read\n", path);
        fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Returns the number of inputs run, or -1. */
static long run_path(const char *path, int optional)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (optional)
            return 0;
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path) == 0 ? 1 : -1;
    DIR *d = opendir(path);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, cap * sizeof *names);
            if (!names)
                abort();
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp); /* the same order on every run */
    long done = 0;
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        if (!failed && run_file(full) != 0)
            failed = 1;
        else if (!failed)
            done++;
        free(names[i]);
    }
    free(names);
    return failed ? -1 : done;
}

int main(int argc, char **argv)
{
    int optional = 0;
    long total = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--optional") == 0) {
            optional = 1;
            continue;
        }
        long n = run_path(argv[i], optional);
        if (n < 0 || (n == 0 && !optional)) {
            fprintf(stderr, "replay: %s: no input run\n", argv[i]);
            return 1;
        }
        printf("replay: %s: %ld inputs\n", argv[i], n);
        total += n;
    }
    printf("replay: %ld inputs, no crash\n", total);
    return 0;
}
