/* The file I/O seam: tests replace rl_io's members to inject failures. */
#include <errno.h>
#include <sys/stat.h>
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
