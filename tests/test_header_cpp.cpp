// test_header_cpp — the public header compiles alone as C++ (-pedantic
// -Werror -Wall -Wextra) and links: its declarations have C linkage.
#include "runlog.h"

#include <cstdio>
#include <cstring>

int main()
{
    runlog_writer_options wo = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_reader_options ro = RUNLOG_READER_OPTIONS_INIT;
    if (wo.version != RUNLOG_WRITER_OPTIONS_VERSION || ro.version != RUNLOG_READER_OPTIONS_VERSION) {
        std::fprintf(stderr, "options initializers are wrong\n");
        return 1;
    }
    runlog_writer *w = NULL;
    // a NULL path is refused: a call through the C API from C++
    if (runlog_writer_open(&w, NULL, &wo) != RUNLOG_EINVAL || w != NULL) {
        std::fprintf(stderr, "runlog_writer_open(NULL path) was not refused\n");
        return 1;
    }
    runlog_writer_close(NULL);
    std::printf("%s\n", runlog_strerror(RUNLOG_EAGAIN));
    return std::strlen(runlog_strerror(RUNLOG_EIO)) > 0 ? 0 : 1;
}
