/* Helpers of the fuzz targets: a scratch directory and a value walker. */
#include "fuzz_common.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "runlog.h"

static char dir[512];

const char *fuzz_tmpdir(void)
{
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/runlog-fuzz-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            abort();
        }
    }
    return dir;
}

int fuzz_write_file(char *out, size_t outlen, const char *name, const uint8_t *data, size_t size)
{
    snprintf(out, outlen, "%s/%s", fuzz_tmpdir(), name);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    close(fd);
    return 0;
}

void fuzz_cleanup_dir(void)
{
    DIR *d = opendir(fuzz_tmpdir());
    if (!d)
        return;
    struct dirent *e;
    char path[1024];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

static void walk(const runlog_value *v, unsigned depth)
{
    FUZZ_ASSERT(depth <= RUNLOG_MAX_DEPTH + 1);
    size_t len;
    switch (runlog_value_type(v)) {
    case RUNLOG_STRING:
    case RUNLOG_BYTES: {
        const char *s = runlog_value_string(v, &len);
        FUZZ_ASSERT(s != NULL);
        volatile char sink = len ? s[len - 1] : 0;
        FUZZ_ASSERT(s[len] == '\0');
        (void)sink;
        break;
    }
    case RUNLOG_LIST:
    case RUNLOG_MAP:
        for (size_t i = 0; i < runlog_value_count(v); i++) {
            if (runlog_value_type(v) == RUNLOG_MAP)
                FUZZ_ASSERT(runlog_value_key(v, i, &len) != NULL);
            walk(runlog_value_item(v, i), depth + 1);
        }
        break;
    default:
        break;
    }
}

void fuzz_touch_value(const void *value)
{
    const runlog_value *v = value;
    if (!v)
        return;
    walk(v, 0);
    char *json = NULL;
    if (runlog_value_to_json(&json, v, 0) == 0) {
        FUZZ_ASSERT(json != NULL);
        (void)strlen(json);
    }
    runlog_free(json);
}
