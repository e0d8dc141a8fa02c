/*
 * Fuzz target: the `runlog export json|csv` code of tools/cmd_export.c, run
 * on the input as a file, with its output into a scratch file. The command
 * must return 0 (exported) or 1 (damage or failure), never crash; its
 * messages go to stderr.
 */
#include <string.h>

#include "fuzz_common.h"
#include "util.h"

/* tools/runlog.c holds the command table and main(); the usage lines it
 * would add to a usage error are not needed here. */
const tool_cmd *tool_find(const char *name)
{
    (void)name;
    return NULL;
}

static void export(const char *path, const char *format, const char *flag)
{
    char out[1024];
    snprintf(out, sizeof out, "%s/out", fuzz_tmpdir());
    char *argv[8];
    int argc = 0;
    argv[argc++] = (char *)"export";
    argv[argc++] = (char *)format;
    argv[argc++] = (char *)path;
    argv[argc++] = (char *)"-o";
    argv[argc++] = out;
    if (flag)
        argv[argc++] = (char *)flag;
    argv[argc] = NULL;
    int status = cmd_export(argc, argv);
    FUZZ_ASSERT(status == 0 || status == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[1024];
    if (fuzz_write_file(path, sizeof path, "in.runlog", data, size) != 0)
        return 0;
    export(path, "json", NULL);
    export(path, "json", "--history-jsonl");
    export(path, "csv", NULL);
    export(path, "csv", "--long");
    fuzz_cleanup_dir();
    return 0;
}
