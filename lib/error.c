/* Result codes and the per-thread detail message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static _Thread_local char detail[1024];

/* Formatted aside first: an argument may be runlog_error_detail() itself
 * (a layer adding its context to the detail below it). */
static int set_detail(int code, const char *fmt, va_list ap)
{
    char text[sizeof detail];
    vsnprintf(text, sizeof text, fmt, ap);
    memcpy(detail, text, sizeof detail);
    return code;
}

int rl_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    code = set_detail(code, fmt, ap);
    va_end(ap);
    return code;
}

int rl_fail_at(int code, const char *path, uint64_t offset, const char *why)
{
    return rl_fail(code, "%s: byte %llu: %s", path, (unsigned long long)offset, why);
}

/* The public name of rl_fail(), for the layers above librunlog. */
int runlog_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    code = set_detail(code, fmt, ap);
    va_end(ap);
    return code;
}

const char *runlog_error_detail(void)
{
    return detail;
}

const char *runlog_strerror(int code)
{
    switch (code) {
    case RUNLOG_OK: return "success";
    case RUNLOG_ENOMEM: return "out of memory";
    case RUNLOG_EIO: return "input/output error";
    case RUNLOG_EINVAL: return "invalid argument";
    case RUNLOG_ENOTRUNLOG: return "not a run-log file";
    case RUNLOG_EUNSUPPORTED: return "unsupported format version, feature or record";
    case RUNLOG_ECORRUPT: return "corrupt data";
    case RUNLOG_ECHECKSUM: return "checksum mismatch";
    case RUNLOG_ETRUNCATED: return "file is truncated";
    case RUNLOG_ELOCKED: return "another writer holds the file";
    case RUNLOG_ETOOLARGE: return "size over a format limit";
    case RUNLOG_ESTATE: return "call not valid in this state";
    case RUNLOG_ENOTFOUND: return "not found";
    case RUNLOG_EAGAIN: return "nothing new yet";
    case RUNLOG_ITEROVER: return "end of iteration";
    case RUNLOG_EDAMAGED: return "damaged frames were skipped";
    default: return "unknown error";
    }
}

void runlog_free(void *ptr)
{
    free(ptr);
}
