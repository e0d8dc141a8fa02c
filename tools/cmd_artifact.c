/*
 * cmd_artifact.c — `runlog artifact FILE --name N [--type T] [--alias A]...
 * [--description D] [--metadata JSON] [--reference] PATH...`: logs an
 * artifact from a shell script, e.g. a checkpoint that any job wrote.
 *
 * The artifact is assembled (names, aliases and entry paths checked) before
 * the writer is opened, so a refused command leaves the file as it was.
 */
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

#define ART_MAX_ALIASES 64

typedef struct artifact_opts {
    const char *path, *name, *type, *description, *metadata, *project;
    const char *aliases[ART_MAX_ALIASES];
    size_t n_aliases;
    int reference, first_path;
} artifact_opts;

static int parse_artifact(int argc, char **argv, artifact_opts *o)
{
    static const struct option longopts[] = {
        {"name", required_argument, NULL, 'n'},
        {"type", required_argument, NULL, 't'},
        {"alias", required_argument, NULL, 'a'},
        {"description", required_argument, NULL, 'd'},
        {"metadata", required_argument, NULL, 'm'},
        {"project", required_argument, NULL, 'p'},
        {"reference", no_argument, NULL, 'r'},
        {NULL, 0, NULL, 0}};
    int c;

    memset(o, 0, sizeof *o);
    o->type = "dataset"; /* W&B's most common non-model type; log_model uses "model" */
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': o->name = optarg; break;
        case 't': o->type = optarg; break;
        case 'd': o->description = optarg; break;
        case 'm': o->metadata = optarg; break;
        case 'p': o->project = optarg; break;
        case 'r': o->reference = 1; break;
        case 'a':
            if (o->n_aliases == ART_MAX_ALIASES)
                return tool_usage(argv[0], "at most %d aliases", ART_MAX_ALIASES);
            o->aliases[o->n_aliases++] = optarg;
            break;
        default: return tool_bad_option(argv[0], argv, c);
        }
    }
    if (!o->name)
        return tool_usage(argv[0], "--name is required");
    if (argc - optind < 2)
        return tool_usage(argv[0], "expected FILE and at least one PATH");
    o->path = argv[optind];
    o->first_path = optind + 1;
    return TOOL_OK;
}

/* Adds one PATH: a file under its base name, a folder's files under their
 * paths relative to it (as wandb's Artifact.add_dir), or a reference.
 * 0, a negative library code, or 1 for a failure already reported. */
static int add_path(runlog_artifact *a, const char *path, int reference)
{
    char *copy = strdup(path), *abs = NULL, *base;
    struct stat st;
    int rc;

    if (!copy)
        return RUNLOG_ENOMEM;
    base = basename(copy);
    if (stat(path, &st) < 0) {
        tool_sys_error(path);
        free(copy);
        return 1;
    }
    if (reference) {
        if (!S_ISREG(st.st_mode) || !(abs = realpath(path, NULL))) {
            fprintf(stderr, "runlog: %s: --reference takes regular files\n", path);
            free(copy);
            return 1;
        }
        rc = runlog_artifact_add_reference(a, abs, base, (uint64_t)st.st_size, NULL);
    } else if (S_ISDIR(st.st_mode)) {
        rc = runlog_artifact_add_dir(a, path, NULL);
    } else {
        rc = runlog_artifact_add_file(a, path, base);
    }
    free(abs);
    free(copy);
    return rc;
}

/* 0 and *out, or TOOL_FAIL / TOOL_USAGE already reported. */
static int build(runlog_artifact **out, const artifact_opts *o, int argc, char **argv)
{
    runlog_artifact *a;
    size_t i;
    int rc, k;

    if ((rc = runlog_artifact_new(&a, o->name, o->type)) < 0)
        return tool_usage(argv[0], "bad --name or --type: %s", runlog_error_detail());
    if (o->description && (rc = runlog_artifact_description(a, o->description)) < 0)
        goto bad;
    if (o->metadata && (rc = runlog_artifact_metadata_json(a, o->metadata)) < 0)
        goto bad;
    for (i = 0; i < o->n_aliases; i++)
        if ((rc = runlog_artifact_alias(a, o->aliases[i])) < 0)
            goto bad;
    for (k = o->first_path; k < argc; k++) {
        if ((rc = add_path(a, argv[k], o->reference)) > 0) {
            runlog_artifact_free(a);
            return TOOL_FAIL;
        }
        if (rc < 0)
            goto bad;
    }
    *out = a;
    return TOOL_OK;
bad:
    runlog_artifact_free(a);
    return tool_usage(argv[0], "%s", runlog_error_detail());
}

int cmd_artifact(int argc, char **argv)
{
    runlog_writer_options wo = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_artifact *a = NULL;
    runlog_writer *w;
    artifact_opts o;
    uint32_t version = 0;
    int status = parse_artifact(argc, argv, &o), rc, rc2;

    if (status != TOOL_OK || (status = build(&a, &o, argc, argv)) != TOOL_OK)
        return status;
    wo.project = o.project;
    wo.synchronous = 1; /* a one-shot command gains nothing from a writer thread */
    if ((rc = runlog_writer_open(&w, o.path, &wo)) < 0) {
        runlog_artifact_free(a);
        return tool_lib_error(o.path, rc);
    }
    rc = runlog_writer_log_artifact(&version, w, a);
    runlog_artifact_free(a);
    if (rc < 0) {
        status = tool_lib_error(o.path, rc);
        runlog_writer_close(w);
        return status;
    }
    if ((rc2 = runlog_writer_close(w)) < 0)
        return tool_lib_error(o.path, rc2);
    printf("%s:v%" PRIu32 "\n", o.name, version);
    return TOOL_OK;
}
