/*
 * runset.c — several files, several runs (spec/EXPORTS.md §11).
 *
 * The one rule by which every exporter (and the Python package) turns a list
 * of files into runs: group by run id, drop duplicate file UUIDs, order the
 * files of a run, refuse files of one id that are not one run, merge the
 * rest. Conflicts are found when the set is opened, so that an exporter
 * never fails half-way through writing a run.
 *
 * Merged maps (config, summary, metadata) are shallow: their entries are
 * copies of the runlog_value structs of the files' runlog_run, whose memory
 * the set keeps until runlog_runset_free().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct rs_file {
    char *path;
    runlog_reader *r;
    runlog_run *run;
    const char *id;
    size_t id_len; /* ids are compared byte for byte (§11.2): text may hold NUL */
    int64_t start;
    uint64_t first, last; /* step range, when rows > 0 */
    size_t given;         /* first position among the paths of its file UUID */
} rs_file;

typedef struct rs_run {
    rs_file **f;
    size_t n;
    runlog_value config, summary, metadata; /* shallow maps */
    const char **keys;
    size_t nkeys;
    uint64_t rows, last_step, resumes;
    int64_t end;
} rs_run;

struct runlog_runset {
    rs_file *files; /* the files kept, in the order given */
    size_t nfiles;
    rs_run *runs;
    size_t nruns;
    char **dup_path, **dup_of;
    size_t ndup;
};

/* ---- Helpers ------------------------------------------------------------------ */

/* Equal values: same type, floats bit for bit, strings and bytes byte for
 * byte, lists item by item, maps entry by entry in order (§11.3). */
static int values_same(const runlog_value *a, const runlog_value *b)
{
    if (!a || !b)
        return a == b;
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case RUNLOG_NULL: return 1;
    case RUNLOG_BOOL: return !a->u.b == !b->u.b;
    case RUNLOG_INT: return a->u.i == b->u.i;
    case RUNLOG_FLOAT: return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
    case RUNLOG_STRING:
    case RUNLOG_BYTES: return a->n == b->n && memcmp(a->u.s, b->u.s, a->n) == 0;
    case RUNLOG_LIST:
    case RUNLOG_MAP:
        if (a->n != b->n)
            return 0;
        for (uint32_t i = 0; i < a->n; i++) {
            if (a->type == RUNLOG_MAP &&
                (a->keys[i].n != b->keys[i].n || memcmp(a->keys[i].p, b->keys[i].p, a->keys[i].n) != 0))
                return 0;
            if (!values_same(&a->u.items[i], &b->u.items[i]))
                return 0;
        }
        return 1;
    default: return 0;
    }
}

/* A set of strings -> dense index (open addressing; FNV-1a). Keys of one
 * run may number in the thousands: merging them pairwise would be
 * quadratic. */
typedef struct rs_index {
    const char **p;
    size_t *len;
    size_t n;
    size_t *slots; /* index + 1; 0 empty */
    size_t cap;
} rs_index;

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* The index of (p, n), added if new (*added = 1). */
static int index_put(rs_index *x, const char *p, size_t n, size_t *out, int *added)
{
    if (2 * (x->n + 1) > x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 64;
        size_t *slots = calloc(cap, sizeof *slots);
        const char **np = realloc(x->p, cap / 2 * sizeof *np);
        if (np)
            x->p = np;
        size_t *nl = np ? realloc(x->len, cap / 2 * sizeof *nl) : NULL;
        if (nl)
            x->len = nl;
        if (!slots || !np || !nl) {
            free(slots);
            return RUNLOG_ENOMEM;
        }
        for (size_t i = 0; i < x->n; i++) {
            size_t s = (size_t)hash_bytes(x->p[i], x->len[i]) & (cap - 1);
            while (slots[s])
                s = (s + 1) & (cap - 1);
            slots[s] = i + 1;
        }
        free(x->slots);
        x->slots = slots;
        x->cap = cap;
    }
    size_t s = (size_t)hash_bytes(p, n) & (x->cap - 1);
    for (; x->slots[s]; s = (s + 1) & (x->cap - 1)) {
        size_t i = x->slots[s] - 1;
        if (x->len[i] == n && memcmp(x->p[i], p, n) == 0) {
            *out = i;
            *added = 0;
            return 0;
        }
    }
    x->p[x->n] = p;
    x->len[x->n] = n;
    x->slots[s] = ++x->n;
    *out = x->n - 1;
    *added = 1;
    return 0;
}

static void index_free(rs_index *x)
{
    free(x->p);
    free(x->len);
    free(x->slots);
    memset(x, 0, sizeof *x);
}

/* The conflict of §11.3: both files named, then what differs. */
static int not_one_run(const rs_file *a, const rs_file *b, const char *why)
{
    return rl_fail(RUNLOG_EINVAL, "%s and %s: run %s: %s: not one run", a->path, b->path, a->id, why);
}

/* ---- Merged maps (§11.4) ---------------------------------------------------------- */

static const runlog_value *get_config(const runlog_run *r) { return runlog_run_config(r); }
static const runlog_value *get_summary(const runlog_run *r) { return runlog_run_summary(r); }
static const runlog_value *get_metadata(const runlog_run *r) { return runlog_run_metadata(r); }

/* The union of one map of each file, keys in order of first appearance.
 * strict (config): a key whose values differ between files is a conflict;
 * else a later file's value replaces an earlier one's. */
static int merge_map(rs_run *run, const runlog_value *(*get)(const runlog_run *), int strict,
                     runlog_value *out)
{
    size_t total = 0, k, *owner;
    int added, rc = 0;
    rs_index x = { 0 };

    for (size_t f = 0; f < run->n; f++)
        total += runlog_value_count(get(run->f[f]->run));
    out->type = RUNLOG_MAP;
    out->n = 0;
    out->u.items = calloc(total + 1, sizeof *out->u.items);
    out->keys = calloc(total + 1, sizeof *out->keys);
    owner = calloc(total + 1, sizeof *owner);
    if (!out->u.items || !out->keys || !owner)
        rc = RUNLOG_ENOMEM;
    for (size_t f = 0; f < run->n && !rc; f++) {
        const runlog_value *m = get(run->f[f]->run);
        for (uint32_t i = 0; i < runlog_value_count(m) && !rc; i++) {
            if ((rc = index_put(&x, m->keys[i].p, m->keys[i].n, &k, &added)))
                break;
            if (!added && strict && owner[k] != f && !values_same(&out->u.items[k], &m->u.items[i])) {
                char why[RUNLOG_MAX_KEY + 32];
                snprintf(why, sizeof why, "config key '%s' differs", m->keys[i].p);
                rc = not_one_run(run->f[owner[k]], run->f[f], why);
                break;
            }
            out->keys[k] = m->keys[i];
            out->u.items[k] = m->u.items[i];
            owner[k] = f;
        }
    }
    out->n = (uint32_t)x.n;
    free(owner);
    index_free(&x);
    return rc == RUNLOG_ENOMEM ? rl_fail(rc, "out of memory merging run %s", run->f[0]->id) : rc;
}

/* ---- History merged by step (§11.5) ------------------------------------------------- */

/* Entries of h from i on that share its step. */
static size_t step_run(const runlog_history *h, size_t i)
{
    const uint64_t *st = runlog_history_steps(h);
    size_t n = runlog_history_length(h), j = i;
    while (j < n && st[j] == st[i])
        j++;
    return j - i;
}

/* Reads key from the files of run marked in use (NULL: all) and merges them
 * by step. out NULL: only checks that they agree. */
static int merge_key(rs_run *run, const char *key, const uint8_t *use, runlog_history **out)
{
    runlog_history **h = calloc(run->n, sizeof *h), *m = NULL;
    size_t *file = calloc(run->n, sizeof *file), *pos = calloc(run->n, sizeof *pos), nh = 0;
    int rc = h && file && pos ? 0 : RUNLOG_ENOMEM;

    for (size_t f = 0; f < run->n && !rc; f++) {
        if (use && !use[f])
            continue;
        rc = runlog_reader_history(&h[nh], run->f[f]->r, key);
        if (rc == RUNLOG_ENOTFOUND) {
            rc = 0;
            continue;
        }
        if (!rc)
            file[nh++] = f;
    }
    if (!rc && nh == 0)
        rc = rl_fail(RUNLOG_ENOTFOUND, "run %s: key \"%s\" has no history", run->f[0]->id, key);
    if (!rc && out && nh == 1) {
        /* One file holds the key: its history as it is. */
        if (!(rc = rl_history_set_file(h[0], (uint32_t)file[0]))) {
            *out = h[0];
            h[0] = NULL;
        }
        goto done;
    }
    if (!rc && out && (rc = rl_history_new(&m)) == 0)
        for (size_t a = 0; a < nh; a++)
            rl_history_add_frames(m, runlog_history_frames_read(h[a]));
    while (!rc) {
        size_t ref = nh, len;
        uint64_t s = 0;
        for (size_t a = 0; a < nh; a++)
            if (pos[a] < runlog_history_length(h[a]) &&
                (ref == nh || runlog_history_steps(h[a])[pos[a]] < s))
                ref = a, s = runlog_history_steps(h[a])[pos[a]];
        if (ref == nh)
            break;
        len = step_run(h[ref], pos[ref]);
        /* Files after ref that hold step s: the same entries, or a conflict. */
        for (size_t b = ref + 1; b < nh && !rc; b++) {
            if (pos[b] >= runlog_history_length(h[b]) || runlog_history_steps(h[b])[pos[b]] != s)
                continue;
            int same = step_run(h[b], pos[b]) == len;
            for (size_t k = 0; k < len && same; k++)
                same = values_same(runlog_history_value(h[ref], pos[ref] + k),
                                   runlog_history_value(h[b], pos[b] + k));
            if (!same) {
                const rs_file *fa = run->f[file[ref]], *fb = run->f[file[b]];
                char why[RUNLOG_MAX_KEY + 160];
                snprintf(why, sizeof why, "key '%s' at step %llu differs (steps %llu..%llu and %llu..%llu)",
                         key, (unsigned long long)s, (unsigned long long)fa->first,
                         (unsigned long long)fa->last, (unsigned long long)fb->first,
                         (unsigned long long)fb->last);
                rc = not_one_run(fa, fb, why);
                break;
            }
            pos[b] += len;
        }
        for (size_t k = 0; k < len && m && !rc; k++)
            rc = rl_history_append(m, h[ref], pos[ref] + k, (uint32_t)file[ref]);
        pos[ref] += len;
    }
    if (!rc && out) {
        *out = m;
        m = NULL;
    }
done:
    if (rc == RUNLOG_ENOMEM)
        rl_fail(rc, "out of memory merging the history of \"%s\" of run %s", key, run->f[0]->id);
    runlog_history_free(m);
    for (size_t a = 0; h && a < nh; a++)
        runlog_history_free(h[a]);
    free(h);
    free(file);
    free(pos);
    return rc;
}

/* ---- Checks and merge of one run (§11.3, §11.4) ------------------------------------- */

static int check_identity(const rs_run *run)
{
    static const char *const keys[] = { "project", "name", "group", "job_type", "notes", "tags" };
    const runlog_value *a = runlog_run_identity(run->f[0]->run);

    for (size_t f = 1; f < run->n; f++) {
        const runlog_value *b = runlog_run_identity(run->f[f]->run);
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (!values_same(runlog_value_get(a, keys[k]), runlog_value_get(b, keys[k]))) {
                char why[64];
                snprintf(why, sizeof why, "identity differs (%s)", keys[k]);
                return not_one_run(run->f[0], run->f[f], why);
            }
    }
    return 0;
}

/* An artifact version (name, vN) in two files must have one manifest. */
static int check_artifacts(const rs_run *run)
{
    for (size_t f = 0; f < run->n; f++) {
        const runlog_value *la = runlog_run_artifacts(run->f[f]->run);
        for (size_t g = f + 1; g < run->n; g++) {
            const runlog_value *lb = runlog_run_artifacts(run->f[g]->run);
            for (size_t i = 0; i < runlog_value_count(la); i++) {
                const runlog_value *a = runlog_value_item(la, i);
                for (size_t j = 0; j < runlog_value_count(lb); j++) {
                    const runlog_value *b = runlog_value_item(lb, j);
                    if (values_same(runlog_value_get(a, "name"), runlog_value_get(b, "name")) &&
                        values_same(runlog_value_get(a, "version"), runlog_value_get(b, "version")) &&
                        !values_same(runlog_value_get(a, "digest"), runlog_value_get(b, "digest"))) {
                        const char *name = rl_map_text(a, "name");
                        char why[RUNLOG_MAX_KEY + 64];
                        snprintf(why, sizeof why, "artifact %s:v%lld has another manifest",
                                 name ? name : "", (long long)rl_map_int(a, "version", -1));
                        return not_one_run(run->f[f], run->f[g], why);
                    }
                }
            }
        }
    }
    return 0;
}

/* Keys in order of first appearance; the history of every key that two
 * files with overlapping step ranges hold is compared at those steps. */
static int merge_keys(rs_run *run)
{
    size_t total = 0, k, *holders = NULL;
    uint8_t *use = calloc(run->n, 1);
    int added, rc = use ? 0 : RUNLOG_ENOMEM, overlap = 0;
    rs_index x = { 0 };

    for (size_t f = 0; f < run->n; f++)
        total += runlog_run_key_count(run->f[f]->run);
    for (size_t f = 0; f < run->n && use; f++)
        for (size_t g = 0; g < run->n; g++) {
            const rs_file *a = run->f[f], *b = run->f[g];
            if (g != f && runlog_run_rows(a->run) && runlog_run_rows(b->run) && a->first <= b->last &&
                b->first <= a->last)
                use[f] = 1, overlap = 1;
        }
    if (!rc && (!(run->keys = calloc(total + 1, sizeof *run->keys)) ||
                !(holders = calloc(total + 1, sizeof *holders))))
        rc = RUNLOG_ENOMEM;
    for (size_t f = 0; f < run->n && !rc; f++)
        for (size_t i = 0; i < runlog_run_key_count(run->f[f]->run) && !rc; i++) {
            const char *key = runlog_run_key(run->f[f]->run, i);
            if ((rc = index_put(&x, key, strlen(key), &k, &added)))
                break;
            if (added)
                run->keys[k] = key;
            holders[k] += use[f];
        }
    run->nkeys = x.n;
    index_free(&x);
    if (rc)
        rc = rl_fail(rc, "out of memory merging run %s", run->f[0]->id);
    for (k = 0; k < run->nkeys && !rc && overlap; k++)
        if (holders[k] >= 2)
            rc = merge_key(run, run->keys[k], use, NULL);
    free(use);
    free(holders);
    return rc;
}

static int settle_run(rs_run *run)
{
    int rc;

    if ((rc = check_identity(run)) || (rc = merge_map(run, get_config, 1, &run->config)) ||
        (rc = merge_map(run, get_summary, 0, &run->summary)) ||
        (rc = merge_map(run, get_metadata, 0, &run->metadata)) || (rc = check_artifacts(run)) ||
        (rc = merge_keys(run)))
        return rc;
    run->resumes = run->n - 1;
    for (size_t f = 0; f < run->n; f++) {
        const runlog_run *r = run->f[f]->run;
        if (runlog_run_rows(r) && (!run->rows || run->f[f]->last > run->last_step))
            run->last_step = run->f[f]->last;
        run->rows += runlog_run_rows(r);
        run->resumes += runlog_run_resumes(r);
        if (f == 0 || runlog_run_end_time(r) > run->end)
            run->end = runlog_run_end_time(r);
    }
    return 0;
}

/* ---- Opening -------------------------------------------------------------------------- */

/* Merge order (§11.2): start time, then first step (files without rows
 * last), then the order given. */
static int file_before(const rs_file *a, const rs_file *b)
{
    uint64_t fa = runlog_run_rows(a->run) ? a->first : UINT64_MAX;
    uint64_t fb = runlog_run_rows(b->run) ? b->first : UINT64_MAX;
    if (a->start != b->start)
        return a->start < b->start;
    if (fa != fb)
        return fa < fb;
    return a->given < b->given;
}

static int read_file(rs_file *f, int summary)
{
    int rc = summary ? runlog_reader_run_summary(&f->run, f->r) : runlog_reader_run(&f->run, f->r);
    if (rc)
        return rc; /* the detail names the file */
    const runlog_value *ident = runlog_run_identity(f->run);
    const runlog_value *id = runlog_value_get(ident, "id");
    if (runlog_value_type(id) != RUNLOG_STRING || id->n == 0)
        return rl_fail(RUNLOG_EINVAL, "%s: the run has no id (its run_start record is lost)", f->path);
    f->id = id->u.s;
    f->id_len = id->n;
    const runlog_value *t = runlog_value_get(ident, "start_time");
    f->start = runlog_value_type(t) == RUNLOG_INT ? t->u.i : runlog_reader_created(f->r);
    f->first = rl_run_first_step(f->run);
    f->last = runlog_run_last_step(f->run);
    return 0;
}

int runlog_runset_open(runlog_runset **out, const char *const *paths, size_t n,
                       const runlog_runset_options *opts)
{
    runlog_reader_options ro = RUNLOG_READER_OPTIONS_INIT;
    runlog_reader **r = NULL;
    size_t *keep = NULL;
    runlog_runset *s = NULL;
    int rc = 0;

    if (!out || !paths || n == 0)
        return rl_fail(RUNLOG_EINVAL, "runlog_runset_open: NULL argument or no paths");
    for (size_t i = 0; i < n; i++)
        if (!paths[i])
            return rl_fail(RUNLOG_EINVAL, "runlog_runset_open: path %zu is NULL", i);
    if (opts && (opts->version != RUNLOG_RUNSET_OPTIONS_VERSION || (opts->flags & ~(RUNLOG_READ_TOLERANT | RUNLOG_RUNSET_SUMMARY))))
        return rl_fail(RUNLOG_EINVAL, "runlog_runset_open: bad options version or flags");
    ro.flags = opts ? opts->flags & RUNLOG_READ_TOLERANT : RUNLOG_READ_STRICT;
    r = calloc(n, sizeof *r);
    keep = calloc(n, sizeof *keep);
    s = calloc(1, sizeof *s);
    if (!r || !keep || !s || !(s->files = calloc(n, sizeof *s->files)) ||
        !(s->runs = calloc(n, sizeof *s->runs)) || !(s->dup_path = calloc(n, sizeof *s->dup_path)) ||
        !(s->dup_of = calloc(n, sizeof *s->dup_of))) {
        rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n && !rc; i++)
        rc = runlog_reader_open(&r[i], paths[i], &ro);
    if (rc)
        goto fail;

    /* §11.1: one file UUID, one file; the longest copy is kept (a copy made
     * earlier of an append-only file is a prefix of it). keep[i]: the path
     * kept for path i's UUID. */
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < i && memcmp(runlog_reader_file_uuid(r[j]), runlog_reader_file_uuid(r[i]), 16) != 0)
            j++;
        keep[i] = i;
        if (j < i) {
            size_t k = keep[j];
            if (rl_file_size(rl_reader_fd(r[i])) > rl_file_size(rl_reader_fd(r[k])))
                for (size_t m = 0; m < i; m++)
                    if (keep[m] == k)
                        keep[m] = i;
            keep[i] = keep[j];
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (keep[i] != i) {
            /* A dropped copy is read no further than its header. */
            runlog_reader_close(r[i]);
            r[i] = NULL;
            if (!(s->dup_path[s->ndup] = strdup(paths[i])) || !(s->dup_of[s->ndup] = strdup(paths[keep[i]]))) {
                free(s->dup_path[s->ndup]);
                rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
                goto fail;
            }
            s->ndup++;
            continue;
        }
        size_t given = 0;
        while (keep[given] != i)
            given++;
        rs_file *f = &s->files[s->nfiles];
        if (!(f->path = strdup(paths[i]))) {
            rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
            goto fail;
        }
        f->r = r[i];
        r[i] = NULL;
        f->given = given;
        s->nfiles++;
    }
    /* Files in the order their UUID was first given (that of a kept later
     * copy is where the first copy was given). */
    for (size_t i = 1; i < s->nfiles; i++)
        for (size_t j = i; j > 0 && s->files[j - 1].given > s->files[j].given; j--) {
            rs_file t = s->files[j];
            s->files[j] = s->files[j - 1];
            s->files[j - 1] = t;
        }
    for (size_t i = 0; i < s->nfiles; i++)
        if ((rc = read_file(&s->files[i], opts && (opts->flags & RUNLOG_RUNSET_SUMMARY))))
            goto fail;

    /* §11.2: runs in order of first appearance, files of a run in merge order. */
    for (size_t i = 0; i < s->nfiles; i++) {
        rs_file *f = &s->files[i];
        size_t k = 0, j;
        while (k < s->nruns && (s->runs[k].f[0]->id_len != f->id_len ||
                                memcmp(s->runs[k].f[0]->id, f->id, f->id_len) != 0))
            k++;
        rs_run *run = &s->runs[k];
        if (k == s->nruns) {
            if (!(run->f = calloc(s->nfiles, sizeof *run->f))) {
                rc = rl_fail(RUNLOG_ENOMEM, "out of memory");
                goto fail;
            }
            s->nruns++;
        }
        for (j = run->n; j > 0 && file_before(f, run->f[j - 1]); j--)
            run->f[j] = run->f[j - 1];
        run->f[j] = f;
        run->n++;
    }
    for (size_t k = 0; k < s->nruns; k++)
        if ((rc = settle_run(&s->runs[k])))
            goto fail;
    free(r);
    free(keep);
    *out = s;
    return 0;
fail:
    for (size_t i = 0; r && i < n; i++)
        runlog_reader_close(r[i]);
    free(r);
    free(keep);
    runlog_runset_free(s);
    return rc;
}

void runlog_runset_free(runlog_runset *s)
{
    if (!s)
        return;
    for (size_t k = 0; k < s->nruns; k++) {
        rs_run *run = &s->runs[k];
        free(run->f);
        free(run->keys);
        runlog_value *maps[] = { &run->config, &run->summary, &run->metadata };
        for (size_t i = 0; i < 3; i++) {
            free(maps[i]->u.items);
            free(maps[i]->keys);
        }
    }
    for (size_t i = 0; i < s->nfiles; i++) {
        runlog_run_free(s->files[i].run);
        runlog_reader_close(s->files[i].r);
        free(s->files[i].path);
    }
    for (size_t i = 0; i < s->ndup; i++) {
        free(s->dup_path[i]);
        free(s->dup_of[i]);
    }
    free(s->files);
    free(s->runs);
    free(s->dup_path);
    free(s->dup_of);
    free(s);
}

/* ---- Accessors ------------------------------------------------------------------------ */

static const rs_run *get_run(const runlog_runset *s, size_t run)
{
    return s && run < s->nruns ? &s->runs[run] : NULL;
}

static const rs_file *get_file(const runlog_runset *s, size_t run, size_t file)
{
    const rs_run *r = get_run(s, run);
    return r && file < r->n ? r->f[file] : NULL;
}

size_t runlog_runset_run_count(const runlog_runset *s) { return s ? s->nruns : 0; }

const char *runlog_runset_run_id(const runlog_runset *s, size_t run)
{
    const rs_run *r = get_run(s, run);
    return r ? r->f[0]->id : NULL;
}

size_t runlog_runset_file_count(const runlog_runset *s, size_t run)
{
    const rs_run *r = get_run(s, run);
    return r ? r->n : 0;
}

const char *runlog_runset_file_path(const runlog_runset *s, size_t run, size_t file)
{
    const rs_file *f = get_file(s, run, file);
    return f ? f->path : NULL;
}

runlog_reader *runlog_runset_file_reader(runlog_runset *s, size_t run, size_t file)
{
    const rs_file *f = get_file(s, run, file);
    return f ? f->r : NULL;
}

const runlog_run *runlog_runset_file_run(const runlog_runset *s, size_t run, size_t file)
{
    const rs_file *f = get_file(s, run, file);
    return f ? f->run : NULL;
}

const runlog_value *runlog_runset_identity(const runlog_runset *s, size_t run)
{
    const rs_run *r = get_run(s, run);
    return r ? runlog_run_identity(r->f[0]->run) : NULL;
}

const runlog_value *runlog_runset_config(const runlog_runset *s, size_t run)
{
    const rs_run *r = get_run(s, run);
    return r ? &r->config : NULL;
}

const runlog_value *runlog_runset_summary(const runlog_runset *s, size_t run)
{
    const rs_run *r = get_run(s, run);
    return r ? &r->summary : NULL;
}

const runlog_value *runlog_runset_metadata(const runlog_runset *s, size_t run)
{
    const rs_run *r = get_run(s, run);
    return r ? &r->metadata : NULL;
}

runlog_state runlog_runset_state(const runlog_runset *s, size_t run)
{
    const rs_run *r = get_run(s, run);
    return r ? runlog_run_state(r->f[r->n - 1]->run) : RUNLOG_STATE_CRASHED;
}

int runlog_runset_exit_code(const runlog_runset *s, size_t run)
{
    const rs_run *r = get_run(s, run);
    return r ? runlog_run_exit_code(r->f[r->n - 1]->run) : 0;
}

int64_t runlog_runset_start_time(const runlog_runset *s, size_t run)
{
    const rs_run *r = get_run(s, run);
    return r ? r->f[0]->start : 0;
}

int64_t runlog_runset_end_time(const runlog_runset *s, size_t run)
{
    const rs_run *r = get_run(s, run);
    return r ? r->end : 0;
}

uint64_t runlog_runset_rows(const runlog_runset *s, size_t run)
{
    const rs_run *r = get_run(s, run);
    return r ? r->rows : 0;
}

uint64_t runlog_runset_last_step(const runlog_runset *s, size_t run)
{
    const rs_run *r = get_run(s, run);
    return r ? r->last_step : 0;
}

uint64_t runlog_runset_resumes(const runlog_runset *s, size_t run)
{
    const rs_run *r = get_run(s, run);
    return r ? r->resumes : 0;
}

size_t runlog_runset_key_count(const runlog_runset *s, size_t run)
{
    const rs_run *r = get_run(s, run);
    return r ? r->nkeys : 0;
}

const char *runlog_runset_key(const runlog_runset *s, size_t run, size_t i)
{
    const rs_run *r = get_run(s, run);
    return r && i < r->nkeys ? r->keys[i] : NULL;
}

int runlog_runset_history(runlog_history **out, runlog_runset *s, size_t run, const char *key)
{
    if (!out || !s || !key)
        return rl_fail(RUNLOG_EINVAL, "runlog_runset_history: NULL argument");
    if (run >= s->nruns)
        return rl_fail(RUNLOG_EINVAL, "runlog_runset_history: run %zu of %zu", run, s->nruns);
    return merge_key(&s->runs[run], key, NULL, out);
}

size_t runlog_runset_duplicate_count(const runlog_runset *s) { return s ? s->ndup : 0; }

const char *runlog_runset_duplicate_path(const runlog_runset *s, size_t i)
{
    return s && i < s->ndup ? s->dup_path[i] : NULL;
}

const char *runlog_runset_duplicate_of(const runlog_runset *s, size_t i)
{
    return s && i < s->ndup ? s->dup_of[i] : NULL;
}
