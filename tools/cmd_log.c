/*
 * cmd_log.c — `runlog log FILE ... KEY=VALUE...` (append one row from a
 * shell script) and `runlog finish FILE [--exit-code N]`.
 *
 * Both open the writer in synchronous mode: a one-shot command gains nothing
 * from a writer thread, and everything is in the file when it exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define LOG_MAX_IMAGES 256
/* An image file is read whole; the library stores blobs of any size, but a
 * PNG or JPEG over this is surely a mistake. */
#define LOG_MAX_IMAGE_BYTES (256u << 20)

typedef struct log_opts {
    const char *path, *project, *name;
    uint64_t step;
    int has_step, no_commit;
    int first_pair; /* argv index of the first KEY=VALUE */
    char *images[LOG_MAX_IMAGES]; /* --image KEY=FILE, as given */
    size_t n_images;
} log_opts;

/* Adds one KEY=VALUE: integer, else float (nan/inf too), else bool, else
 * string. `pair` is modified (the '=' is cut). */
static int add_pair(runlog_writer *w, char *pair)
{
    char *value = strchr(pair, '='), *end;
    long long i;
    double d;

    *value++ = '\0';
    /* strtoll/strtod skip leading blanks; a value that starts with one is text. */
    if (*value && *value != ' ' && *value != '\t' && *value != '\n') {
        errno = 0;
        i = strtoll(value, &end, 10);
        if (!*end && errno == 0)
            return runlog_writer_add_int(w, pair, (int64_t)i);
        d = strtod(value, &end);
        if (!*end)
            return runlog_writer_add_double(w, pair, d);
    }
    if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0)
        return runlog_writer_add_bool(w, pair, value[0] == 't');
    return runlog_writer_add_string(w, pair, value);
}

/* 1 if s is valid UTF-8 of at most max bytes. */
static int text_ok(const char *s, size_t max)
{
    size_t n = strlen(s), i = 0, k;

    if (n > max)
        return 0;
    for (; i < n; i += k)
        if ((k = rlu_utf8_len((const unsigned char *)s + i, n - i)) == 0)
            return 0;
    return 1;
}

/* Checks every pair before the writer is opened: the API cannot take back a
 * value once added (close() would keep it as a partial row), so a refused
 * command must be refused before anything is added. */
static int check_pair(const char *cmd, const char *pair)
{
    const char *eq = strchr(pair, '=');
    size_t klen;
    char *key;
    int ok;

    if (!eq)
        return tool_usage(cmd, "expected KEY=VALUE, not '%s'", pair);
    klen = (size_t)(eq - pair);
    if (!(key = strndup(pair, klen)))
        return tool_sys_error(pair);
    ok = klen <= RUNLOG_MAX_KEY && text_ok(key, RUNLOG_MAX_KEY) &&
         text_ok(eq + 1, RUNLOG_MAX_STRING);
    free(key);
    if (!ok)
        return tool_usage(cmd, "'%.40s...': the key must be UTF-8 of at most %u bytes "
                               "and the value UTF-8 of at most %u bytes",
                          pair, RUNLOG_MAX_KEY, RUNLOG_MAX_STRING);
    return TOOL_OK;
}

static int parse_log(int argc, char **argv, log_opts *o)
{
    static const struct option longopts[] = {
        {"project", required_argument, NULL, 'p'},
        {"name", required_argument, NULL, 'n'},
        {"step", required_argument, NULL, 's'},
        {"no-commit", no_argument, NULL, 'c'},
        {"image", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0}};
    int c, i;

    memset(o, 0, sizeof *o);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': o->project = optarg; break;
        case 'n': o->name = optarg; break;
        case 'c': o->no_commit = 1; break;
        case 'i':
            if (o->n_images == LOG_MAX_IMAGES)
                return tool_usage(argv[0], "at most %d --image options", LOG_MAX_IMAGES);
            if ((c = check_pair(argv[0], optarg)) != TOOL_OK)
                return c;
            o->images[o->n_images++] = optarg;
            break;
        case 's':
            if (rlu_parse_u64(optarg, &o->step) < 0)
                return tool_usage(argv[0], "--step needs a whole number, not '%s'", optarg);
            o->has_step = 1;
            break;
        default: return tool_bad_option(argv[0], argv, c);
        }
    }
    if (optind >= argc)
        return tool_usage(argv[0], "expected FILE");
    if (o->has_step && o->no_commit)
        return tool_usage(argv[0], "--step and --no-commit exclude each other");
    o->path = argv[optind];
    o->first_pair = optind + 1;
    for (i = o->first_pair; i < argc; i++)
        if ((c = check_pair(argv[0], argv[i])) != TOOL_OK)
            return c;
    return TOOL_OK;
}

/* Reads an image file given as KEY=FILE; checks the PNG or JPEG signature
 * (the library validates the rest). 0, or TOOL_FAIL reported. */
static int read_image(const char *arg, char **data, size_t *len)
{
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const char *file = strchr(arg, '=') + 1;
    struct stat st = {0};
    char *buf = NULL;
    FILE *f = NULL;
    int fd;

    errno = 0;
    /* O_NONBLOCK: fopen() of a FIFO would wait for a writer; S_ISREG below
     * refuses it. */
    if ((fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) >= 0 && !(f = fdopen(fd, "rb")))
        close(fd);
    if (!f || fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size > LOG_MAX_IMAGE_BYTES || !(buf = malloc((size_t)st.st_size + 1)) ||
        fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        fprintf(stderr, "runlog: %s: %s\n", file,
                f && st.st_size > 0 && (uint64_t)st.st_size > LOG_MAX_IMAGE_BYTES
                    ? "image file too large" : errno ? strerror(errno) : "not a readable file");
        free(buf);
        if (f)
            fclose(f);
        return TOOL_FAIL;
    }
    fclose(f);
    if (!((st.st_size >= 8 && memcmp(buf, png_sig, 8) == 0) ||
          (st.st_size >= 3 && (unsigned char)buf[0] == 0xff && (unsigned char)buf[1] == 0xd8 &&
           (unsigned char)buf[2] == 0xff))) {
        fprintf(stderr, "runlog: %s: not a PNG or JPEG file\n", file);
        free(buf);
        return TOOL_FAIL;
    }
    *data = buf;
    *len = (size_t)st.st_size;
    return TOOL_OK;
}

/* Adds the --image files; they were read before the writer was opened. */
static int add_images(runlog_writer *w, const log_opts *o, char **data, const size_t *len)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < o->n_images && rc == 0; i++) {
        char *key = strndup(o->images[i], (size_t)(strchr(o->images[i], '=') - o->images[i]));
        if (!key)
            return RUNLOG_ENOMEM;
        rc = runlog_writer_add_image_encoded(w, key, data[i], len[i], NULL);
        free(key);
    }
    return rc;
}

static int log_row(const log_opts *o, int argc, char **argv, char **img, const size_t *img_len);

int cmd_log(int argc, char **argv)
{
    log_opts o;
    char *img[LOG_MAX_IMAGES] = {NULL};
    size_t img_len[LOG_MAX_IMAGES], k;
    int status = parse_log(argc, argv, &o);

    if (status != TOOL_OK)
        return status;
    for (k = 0; k < o.n_images && status == TOOL_OK; k++)
        status = read_image(o.images[k], &img[k], &img_len[k]);
    if (status == TOOL_OK)
        status = log_row(&o, argc, argv, img, img_len);
    for (k = 0; k < o.n_images; k++)
        free(img[k]);
    return status;
}

/* Opens the writer, adds the pairs and images, commits. A row to commit
 * opens with its step: the library refuses a step it would not commit
 * before writing anything (a resume record, a cut torn tail), so a refused
 * command leaves the file as it was. */
static int log_row(const log_opts *op, int argc, char **argv, char **img, const size_t *img_len)
{
    runlog_writer_options wo = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_writer *w;
    const log_opts o = *op;
    int status, rc = 0, i;

    wo.project = o.project;
    wo.name = o.name;
    wo.synchronous = 1;
    rc = o.no_commit ? runlog_writer_open(&w, o.path, &wo)
                     : runlog_writer_open_for_step(&w, o.path, &wo, o.has_step ? &o.step : NULL);
    if (rc < 0)
        return tool_lib_error(o.path, rc);
    for (i = o.first_pair; i < argc && rc == 0; i++)
        rc = add_pair(w, argv[i]);
    if (rc == 0)
        rc = add_images(w, &o, img, img_len);
    if (rc == 0 && !o.no_commit)
        rc = o.has_step ? runlog_writer_commit_step(w, o.step) : runlog_writer_commit(w);
    if (rc < 0) {
        /* Not expected after the checks of parse_log() and the open (I/O,
         * memory, an image whose body the library finds bad past its
         * signature); values already added stay pending and close() keeps
         * them as a partial row. */
        status = tool_lib_error(o.path, rc);
        runlog_writer_close(w);
        return status;
    }
    if ((rc = runlog_writer_close(w)) < 0)
        return tool_lib_error(o.path, rc);
    return TOOL_OK;
}

int cmd_finish(int argc, char **argv)
{
    static const struct option longopts[] = {{"exit-code", required_argument, NULL, 'e'},
                                             {NULL, 0, NULL, 0}};
    runlog_writer_options wo = RUNLOG_WRITER_OPTIONS_INIT;
    runlog_writer *w;
    const char *path;
    struct stat st;
    int c, rc, code = 0;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (c != 'e')
            return tool_bad_option(argv[0], argv, c);
        if (tool_parse_int(optarg, &code) < 0)
            return tool_usage(argv[0], "--exit-code needs an integer, not '%s'", optarg);
    }
    if (argc - optind != 1)
        return tool_usage(argv[0], "expected one FILE");
    path = argv[optind];
    /* Finishing a run that was never started would create an empty one. */
    if (stat(path, &st) < 0)
        return tool_sys_error(path);
    wo.synchronous = 1;
    if ((rc = runlog_writer_open(&w, path, &wo)) < 0)
        return tool_lib_error(path, rc);
    rc = runlog_writer_finish(w, code);
    c = runlog_writer_close(w);
    if (rc < 0 || c < 0)
        return tool_lib_error(path, rc < 0 ? rc : c);
    return TOOL_OK;
}
