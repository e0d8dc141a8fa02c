/* The file I/O seam: tests replace rl_io's members to inject failures. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static int sys_fsync(int fd) { return fsync(fd); }
static int sys_ftruncate(int fd, off_t len) { return ftruncate(fd, len); }

rl_io_hooks rl_io = { pwrite, pread, sys_fsync, sys_ftruncate };

int rl_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = rl_io.pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = ENOSPC;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int rl_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = rl_io.pread(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = EIO; /* the file shrank under us */
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

uint64_t rl_file_size(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return 0;
    return (uint64_t)st.st_size;
}

int rl_open_file(int *out, const char *path, int flags, mode_t mode)
{
    /* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
    int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC, mode);
    if (fd < 0)
        return rl_fail(RUNLOG_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = rl_fail(RUNLOG_EIO, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        /* A FIFO would hang every read; a device (/dev/null) would swallow
         * a run and report success. */
        close(fd);
        return rl_fail(RUNLOG_EINVAL, "%s: not a regular file", path);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int rc = rl_fail(RUNLOG_EIO, "%s: fcntl: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

/* Letters of a temporary name: enough randomness that a name cannot be
 * guessed ahead; O_EXCL, not the randomness, is what keeps us safe. */
static void random_name(char *p, size_t n)
{
    static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint8_t r[16];
    if (n > sizeof r)
        n = sizeof r;
    if (getrandom(r, n, GRND_NONBLOCK) != (ssize_t)n) {
        /* No entropy yet (early boot): still unique enough for O_EXCL
         * retries, just not secret. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40) ^
                     (uint64_t)(uintptr_t)p;
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            r[i] = (uint8_t)(x >> 56);
        }
    }
    for (size_t i = 0; i < n; i++)
        p[i] = abc[r[i] % (sizeof abc - 1)];
}

int rl_create_temp(char **out, const char *target)
{
    enum { LETTERS = 12 };
    size_t n = strlen(target);
    char *name = malloc(n + sizeof ".tmp-" + LETTERS);
    if (!name) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(name, target, n);
    memcpy(name + n, ".tmp-", 5);
    for (int attempt = 0; attempt < 100; attempt++) {
        random_name(name + n + 5, LETTERS);
        name[n + 5 + LETTERS] = '\0';
        /* O_EXCL with O_CREAT also refuses a symbolic link at the name,
         * dangling or not; O_NOFOLLOW says so twice. */
        int fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0) {
            *out = name;
            return fd;
        }
        if (errno != EEXIST)
            break;
    }
    int err = errno;
    free(name);
    errno = err;
    return -1;
}
