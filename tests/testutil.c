/* testutil.c — see testutil.h. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- files --------------------------------------------------------------- */

char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    char *dir = tu_path(base, "runlog-test-XXXXXX");
    if (mkdtemp(dir) == NULL)
        fail_msg("mkdtemp(%s): %s", dir, strerror(errno));
    return dir;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tu_tmpdir_free(char *dir)
{
    if (dir == NULL)
        return;
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

char *tu_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

unsigned char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("open %s: %s", path, strerror(errno));
    struct stat st;
    assert_int_equal(fstat(fileno(f), &st), 0);
    unsigned char *p = malloc((size_t)st.st_size + 1);
    assert_non_null(p);
    size_t got = fread(p, 1, (size_t)st.st_size, f);
    if (got != (size_t)st.st_size)
        fail_msg("read %s: %zu of %lld bytes", path, got, (long long)st.st_size);
    fclose(f);
    p[got] = '\0';
    *len = got;
    return p;
}

void tu_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        fail_msg("create %s: %s", path, strerror(errno));
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail_msg("write %s: %s", path, strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    close(fd);
}

int64_t tu_file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    return (int64_t)st.st_size;
}

int tu_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

size_t tu_list_prefix(const char *dir, const char *prefix, char ***names)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        fail_msg("opendir %s: %s", dir, strerror(errno));
    size_t n = 0;
    char **v = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        v = realloc(v, (n + 1) * sizeof *v);
        assert_non_null(v);
        v[n] = strdup(e->d_name);
        assert_non_null(v[n]);
        n++;
    }
    closedir(d);
    *names = v;
    return n;
}

void tu_free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* ---- doubles ------------------------------------------------------------- */

uint64_t tu_dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

double tu_bits2d(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* ---- text buffer --------------------------------------------------------- */

void tu_str_add(tu_str *s, const void *data, size_t len)
{
    if (s->len + len + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        while (cap < s->len + len + 1)
            cap *= 2;
        s->p = realloc(s->p, cap);
        assert_non_null(s->p);
        s->cap = cap;
    }
    memcpy(s->p + s->len, data, len);
    s->len += len;
    s->p[s->len] = '\0';
}

void tu_str_addf(tu_str *s, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    if ((size_t)n < sizeof small) {
        tu_str_add(s, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    assert_non_null(big);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    tu_str_add(s, big, (size_t)n);
    free(big);
}

void tu_str_free(tu_str *s)
{
    free(s->p);
    s->p = NULL;
    s->len = s->cap = 0;
}

/* ---- canonical dumps ----------------------------------------------------- */

static void dump_bytes(tu_str *s, const char *p, size_t n)
{
    tu_str_addf(s, "%zu:", n);
    for (size_t i = 0; i < n; i++)
        tu_str_addf(s, "%02x", (unsigned char)p[i]);
}

void tu_dump_value(tu_str *s, const runlog_value *v)
{
    if (v == NULL) {
        tu_str_addf(s, "<none>");
        return;
    }
    size_t len = 0;
    const char *p;
    switch (runlog_value_type(v)) {
    case RUNLOG_NULL:
        tu_str_addf(s, "null");
        break;
    case RUNLOG_BOOL:
        tu_str_addf(s, "b%d", runlog_value_bool(v));
        break;
    case RUNLOG_INT:
        tu_str_addf(s, "i%lld", (long long)runlog_value_int(v));
        break;
    case RUNLOG_FLOAT:
        tu_str_addf(s, "f%016llx", (unsigned long long)tu_dbits(runlog_value_float(v)));
        break;
    case RUNLOG_STRING:
    case RUNLOG_BYTES:
        p = runlog_value_string(v, &len);
        tu_str_addf(s, runlog_value_type(v) == RUNLOG_STRING ? "s" : "y");
        dump_bytes(s, p, len);
        break;
    case RUNLOG_LIST:
        tu_str_addf(s, "[");
        for (size_t i = 0; i < runlog_value_count(v); i++) {
            tu_dump_value(s, runlog_value_item(v, i));
            tu_str_addf(s, ",");
        }
        tu_str_addf(s, "]");
        break;
    case RUNLOG_MAP:
        tu_str_addf(s, "{");
        for (size_t i = 0; i < runlog_value_count(v); i++) {
            p = runlog_value_key(v, i, &len);
            dump_bytes(s, p, len);
            tu_str_addf(s, "=");
            tu_dump_value(s, runlog_value_item(v, i));
            tu_str_addf(s, ",");
        }
        tu_str_addf(s, "}");
        break;
    default:
        tu_str_addf(s, "?type%d", (int)runlog_value_type(v));
    }
}

void tu_dump_record(tu_str *s, const runlog_record *rec)
{
    int type = runlog_record_type_of(rec);
    tu_str_addf(s, "%s t=%lld", runlog_record_type_name(type),
                (long long)runlog_record_time(rec));
    if (type == RUNLOG_RECORD_HISTORY) {
        tu_str_addf(s, " step=%llu", (unsigned long long)runlog_record_step(rec));
        for (size_t i = 0; i < runlog_record_field_count(rec); i++) {
            const char *k = runlog_record_field_key(rec, i);
            tu_str_addf(s, " ");
            dump_bytes(s, k, strlen(k));
            tu_str_addf(s, "=");
            tu_dump_value(s, runlog_record_field_value(rec, i));
        }
    } else {
        tu_str_addf(s, " ");
        tu_dump_value(s, runlog_record_body(rec));
    }
}

void tu_read_records(tu_records *out, const char *path, unsigned flags)
{
    memset(out, 0, sizeof *out);
    runlog_reader_options ro = RUNLOG_READER_OPTIONS_INIT;
    ro.flags = flags;
    runlog_reader *r = NULL;
    out->open_rc = runlog_reader_open(&r, path, &ro);
    if (out->open_rc != 0) {
        out->end_rc = out->open_rc;
        return;
    }
    size_t cap = 0;
    for (;;) {
        const runlog_record *rec = NULL;
        int rc = runlog_reader_next(r, &rec);
        if (rc != 0) {
            out->end_rc = rc;
            break;
        }
        if (out->n == cap) {
            cap = cap ? cap * 2 : 64;
            out->dump = realloc(out->dump, cap * sizeof *out->dump);
            out->frame = realloc(out->frame, cap * sizeof *out->frame);
            out->type = realloc(out->type, cap * sizeof *out->type);
            assert_true(out->dump && out->frame && out->type);
        }
        tu_str s = {0};
        tu_dump_record(&s, rec);
        out->dump[out->n] = s.p;
        out->frame[out->n] = runlog_record_frame_offset(rec);
        out->type[out->n] = runlog_record_type_of(rec);
        out->n++;
    }
    runlog_reader_close(r);
}

void tu_records_free(tu_records *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->dump[i]);
    free(r->dump);
    free(r->frame);
    free(r->type);
    memset(r, 0, sizeof *r);
}

/* ---- deterministic options ----------------------------------------------- */

int64_t tu_clock_fn(void *ctx)
{
    tu_clock *c = ctx;
    return __atomic_fetch_add(&c->now, c->step_ns, __ATOMIC_SEQ_CST);
}

void tu_clock_set(tu_clock *c, int64_t now)
{
    __atomic_store_n(&c->now, now, __ATOMIC_SEQ_CST);
}

static const uint8_t tu_uuid[16] = {0x5e, 0xed, 0x00, 0x01, 0x02, 0x03, 0x44, 0x05,
                                    0x86, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d};

void tu_fixed_options(runlog_writer_options *o, tu_clock *clock, int synchronous)
{
    runlog_writer_options init = RUNLOG_WRITER_OPTIONS_INIT;
    *o = init;
    o->run_id = "test-run-0001";
    o->project = "runlog-tests";
    o->name = "fixed";
    o->flush_interval_ms = RUNLOG_NO_TIMED_FLUSH;
    o->synchronous = synchronous;
    o->clock = tu_clock_fn;
    o->clock_ctx = clock;
    o->salt = 0x0123456789abcdefULL;
    o->file_uuid = tu_uuid;
}

/* ---- fixtures ------------------------------------------------------------ */

int tu_fork_run(int (*fn)(void *arg), void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(fn(arg) & 0xff);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

uint64_t tu_rand64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e9b5ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* ---- a small multi-frame file ------------------------------------------- */

void tu_write_small(const char *path, int groups, int rows, int finish, tu_small *out)
{
    tu_clock clock = {1700000000000000000LL, 1000};
    runlog_writer_options o;
    tu_fixed_options(&o, &clock, 1);
    runlog_writer *w = NULL;
    memset(out, 0, sizeof *out);
    TU_OK(runlog_writer_open(&w, path, &o));
    TU_OK(runlog_writer_config_int(w, "seed", 7));
    TU_OK(runlog_writer_config_string(w, "arch", "cnn"));
    TU_OK(runlog_writer_flush(w));
    out->bounds[out->n_bounds++] = (uint64_t)tu_file_size(path);
    uint64_t rnd = 42;
    for (int g = 0; g < groups; g++) {
        for (int r = 0; r < rows; r++) {
            TU_OK(runlog_writer_add_double(w, "loss", tu_bits2d(tu_rand64(&rnd))));
            TU_OK(runlog_writer_add_int(w, "epoch", g));
            if (r % 2)
                TU_OK(runlog_writer_add_string(w, "tag", "λ/損失"));
            TU_OK(runlog_writer_commit(w));
        }
        if (g == 1)
            TU_OK(runlog_writer_alert(w, "slow", "step time doubled", RUNLOG_ALERT_WARN));
        if (g == 2)
            TU_OK(runlog_writer_console(w, RUNLOG_STDOUT, "epoch done\npart", 15));
        TU_OK(runlog_writer_flush(w));
        assert_true(out->n_bounds < TU_MAX_FRAMES);
        out->bounds[out->n_bounds++] = (uint64_t)tu_file_size(path);
    }
    if (finish)
        TU_OK(runlog_writer_finish(w, 0));
    TU_OK(runlog_writer_close(w));
    out->size = (uint64_t)tu_file_size(path);
}

void tu_frames_from(tu_frames *f, const tu_records *all, const tu_small *sm)
{
    memset(f, 0, sizeof *f);
    f->rec_frame = calloc(all->n + 1, sizeof *f->rec_frame);
    assert_non_null(f->rec_frame);
    for (size_t i = 0; i < all->n; i++) {
        if (f->n == 0 || f->start[f->n - 1] != all->frame[i]) {
            assert_true(f->n < TU_MAX_FRAMES);
            /* records come in file order, so frame starts only grow */
            if (f->n > 0)
                assert_true(all->frame[i] > f->start[f->n - 1]);
            f->start[f->n++] = all->frame[i];
        }
        f->rec_frame[i] = f->n - 1;
    }
    for (size_t j = 0; j < f->n; j++) {
        uint64_t end = UINT64_MAX;
        for (size_t b = 0; b < sm->n_bounds; b++)
            if (sm->bounds[b] > f->start[j] && sm->bounds[b] < end)
                end = sm->bounds[b];
        if (j + 1 < f->n && f->start[j + 1] < end)
            end = f->start[j + 1];
        f->end[j] = end;
    }
}

void tu_frames_free(tu_frames *f)
{
    free(f->rec_frame);
    f->rec_frame = NULL;
}

int tu_setup(void **state)
{
    tu_fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->dir = tu_tmpdir();
    fx->path = tu_path(fx->dir, "test.runlog");
    *state = fx;
    return 0;
}

int tu_teardown(void **state)
{
    tu_fixture *fx = *state;
    free(fx->path);
    tu_tmpdir_free(fx->dir);
    free(fx);
    return 0;
}
