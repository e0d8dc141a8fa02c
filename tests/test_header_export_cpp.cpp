// test_header_export_cpp — the converter header compiles alone as C++11.
#include "runlog_export.h"

#include <cstdio>

int main()
{
    runlog_export_options o = RUNLOG_EXPORT_OPTIONS_INIT;
    if (o.version != RUNLOG_EXPORT_OPTIONS_VERSION || o.out_fd != -1) {
        std::fprintf(stderr, "RUNLOG_EXPORT_OPTIONS_INIT is wrong\n");
        return 1;
    }
    std::printf("runlog-export %s\n", runlog_export_version());
    return 0;
}
