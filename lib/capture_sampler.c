/* System metrics for the capture's sampler thread (spec/EXPORTS.md "System
 * metrics" lists the keys and units). Everything comes from /proc, statvfs()
 * and NVML; a source that cannot be read leaves its keys out of the sample.
 *
 * Cost matters (under 0.5% of one core at a 1 s interval): the /proc files
 * read every time are kept open and re-read from offset 0, and the process
 * tree scan reads /proc/PID/stat only for processes it has not yet seen
 * outside the tree (a process outside cannot later join it: only a fork by a
 * tree member adds one, and that is a new pid). */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "capture_internal.h"

#define MAX_DISKS 64
#define GPU_KEYS 7
#define GPU_KEY_LEN 40

/* One process read from /proc/PID/stat. */
typedef struct proc_info {
    int pid, ppid;
    uint64_t ticks; /* utime + stime + cutime + cstime */
    uint64_t rss_pages, threads;
    int state;      /* 0 unknown, 1 in the tree, 2 outside, 3 being resolved */
    int exited;     /* a zombie (Z) or dead (X): it runs no more, holds no memory */
    int depth;      /* in the tree: 0 for the root, its parent's + 1 */
} proc_info;

typedef struct pid_list {
    int *p;
    size_t n, cap;
} pid_list;

struct rl_sampler {
    int root;
    char *disk_path;
    rl_nvml *nvml;
    double tick_hz, page_size;
    int fd_stat, fd_meminfo, fd_diskstats, fd_netdev;
    DIR *proc;
    char disks[MAX_DISKS][32];
    size_t n_disks;
    /* baselines */
    int64_t prev_tree_ns;  /* when the last tree scan's ticks were read */
    uint64_t prev_tree_ticks, prev_busy, prev_total;
    int has_prev_tree, has_prev_cpu;
    uint64_t disk_rd0, disk_wr0, net_rx0, net_tx0;
    int has_disk0, has_net0;
    /* the tree scan */
    pid_list outside, cur;
    proc_info *cand;
    size_t n_cand, cap_cand;
    proc_info *tree;   /* the tree's processes, read again parents first */
    size_t cap_tree;
    /* one sample */
    const char **keys;
    double *vals;
    size_t n;
    char (*gpu_keys)[GPU_KEYS][GPU_KEY_LEN];
    char buf[16384];
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

long rl_read_small(const char *path, int fd, char *buf, size_t size)
{
    int own = fd < 0;
    size_t len = 0;
    ssize_t k;

    if (own && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    if (!own && lseek(fd, 0, SEEK_SET) < 0)
        return -1;
    while (len + 1 < size && (k = read(fd, buf + len, size - 1 - len)) > 0)
        len += (size_t)k;
    buf[len] = '\0';
    if (own)
        close(fd);
    return (long)len;
}

static void put(rl_sampler *s, const char *key, double v)
{
    s->keys[s->n] = key;
    s->vals[s->n++] = v;
}

/* ---- the process tree ---- */

static int pid_push(pid_list *l, int pid)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        int *p = realloc(l->p, cap * sizeof *p);
        if (!p)
            return -1;
        l->p = p;
        l->cap = cap;
    }
    l->p[l->n++] = pid;
    return 0;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int pid_has(const pid_list *l, int pid)
{
    return l->n && bsearch(&pid, l->p, l->n, sizeof *l->p, cmp_int) != NULL;
}

/* Fields of /proc/PID/stat after "pid (comm) ": the comm may hold spaces
 * and parentheses, so parsing starts after the last ')'. */
static int read_proc(rl_sampler *s, int pid, proc_info *out)
{
    char path[64], *p;
    unsigned long long ut, st, rss;
    long long cut, cst, threads;
    char run_state;

    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (rl_read_small(path, -1, s->buf, 1024) <= 0 || !(p = strrchr(s->buf, ')')))
        return -1;
    if (sscanf(p + 1, " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld "
                      "%*d %*d %lld %*d %*u %*u %llu",
               &run_state, &out->ppid, &ut, &st, &cut, &cst, &threads, &rss) != 8)
        return -1;
    out->exited = run_state == 'Z' || run_state == 'X';
    out->pid = pid;
    out->ticks = ut + st + (uint64_t)(cut > 0 ? cut : 0) + (uint64_t)(cst > 0 ? cst : 0);
    out->rss_pages = rss;
    out->threads = (uint64_t)(threads > 0 ? threads : 0);
    out->state = pid == s->root ? 1 : 0;
    out->depth = 0;
    return 0;
}

static int cmp_proc(const void *a, const void *b)
{
    return cmp_int(&((const proc_info *)a)->pid, &((const proc_info *)b)->pid);
}

static int cmp_depth(const void *a, const void *b)
{
    int x = ((const proc_info *)a)->depth, y = ((const proc_info *)b)->depth;
    return (x > y) - (x < y);
}

static proc_info *find_cand(rl_sampler *s, int pid)
{
    proc_info key;
    key.pid = pid;
    return bsearch(&key, s->cand, s->n_cand, sizeof key, cmp_proc);
}

/* 1 if the candidate descends from the root (memoised in ->state). */
static int in_tree(rl_sampler *s, proc_info *c)
{
    proc_info *parent;

    if (c->state == 1 || c->state == 2)
        return c->state == 1;
    if (c->state == 3) /* a cycle: only possible in a torn read of /proc */
        return 0;
    c->state = 3;
    parent = find_cand(s, c->ppid);
    c->state = parent && in_tree(s, parent) ? 1 : 2;
    if (c->state == 1)
        c->depth = parent->depth + 1;
    return c->state == 1;
}

static int add_cand(rl_sampler *s, int pid)
{
    if (s->n_cand == s->cap_cand) {
        size_t cap = s->cap_cand ? 2 * s->cap_cand : 64;
        proc_info *p = realloc(s->cand, cap * sizeof *p);
        if (!p)
            return -1;
        s->cand = p;
        s->cap_cand = cap;
    }
    if (read_proc(s, pid, &s->cand[s->n_cand]) == 0)
        s->n_cand++;
    return 0;
}

/* Lists /proc, reads the processes not known to be outside, and sums the
 * tree's ticks, resident pages and threads. -1 when the root is gone.
 * *consistent is 0 when a process left the tree during the scan, so that
 * the ticks may miss it (they are then no base for a rate). */
static int scan_tree(rl_sampler *s, uint64_t *ticks, uint64_t *rss, uint64_t *threads,
                     int *consistent)
{
    struct dirent *e;
    pid_list tmp;
    int found = 0;
    size_t i;

    s->cur.n = s->n_cand = 0;
    rewinddir(s->proc);
    while ((e = readdir(s->proc)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        int pid = atoi(e->d_name);
        if (pid_push(&s->cur, pid) < 0 || (!pid_has(&s->outside, pid) && add_cand(s, pid) < 0))
            return -1;
    }
    if (s->n_cand)
        qsort(s->cand, s->n_cand, sizeof *s->cand, cmp_proc);
    if (s->cur.n)
        qsort(s->cur.p, s->cur.n, sizeof *s->cur.p, cmp_int);
    /* The tree's members, read a second time parents first. A child
     * reaped while /proc is being read moves its ticks into its parent's
     * cutime: reading the child before that and the parent after (the pid
     * order of /proc when pids wrap) counted them twice, and one sample
     * showed 790 % for one busy process. Parents first, a child reaped
     * after its parent was read is missing from both: that read fails, and
     * the ticks of this scan are marked unusable for a rate (*consistent). */
    size_t nt = 0;
    for (i = 0; i < s->n_cand; i++)
        nt += in_tree(s, &s->cand[i]);
    if (nt > s->cap_tree) {
        proc_info *t = realloc(s->tree, nt * sizeof *t);
        if (!t)
            return -1;
        s->tree = t;
        s->cap_tree = nt;
    }
    nt = 0;
    for (i = 0; i < s->n_cand; i++)
        if (s->cand[i].state == 1)
            s->tree[nt++] = s->cand[i];
    if (nt)
        qsort(s->tree, nt, sizeof *s->tree, cmp_depth);
    *ticks = *rss = *threads = 0;
    *consistent = 1;
    for (i = 0; i < nt; i++) {
        proc_info now;
        if (read_proc(s, s->tree[i].pid, &now) < 0) {
            *consistent = 0; /* reaped just now: maybe after its parent was read */
            continue;
        }
        /* A command that exited but is not yet reaped is gone too, and so is
         * one in the middle of exiting (its memory already released, its
         * state not yet Z): their 0-page RSS would be reported as the run's
         * memory. A live process always has resident pages. */
        found |= now.pid == s->root && !now.exited && now.rss_pages > 0;
        *ticks += now.ticks;
        *rss += now.rss_pages;
        *threads += now.threads;
    }
    /* Next time, every listed pid outside the tree is skipped. */
    tmp = s->outside;
    tmp.n = 0;
    for (i = 0; i < s->cur.n; i++) {
        proc_info *c = find_cand(s, s->cur.p[i]);
        if ((!c || c->state != 1) && pid_push(&tmp, s->cur.p[i]) < 0) {
            s->outside = tmp; /* it may have moved */
            return -1;
        }
    }
    s->outside = tmp;
    return found ? 0 : -1;
}

static void sample_tree(rl_sampler *s, double mem_total_kb)
{
    uint64_t ticks, rss, threads;
    int consistent;

    if (scan_tree(s, &ticks, &rss, &threads, &consistent) < 0) {
        s->has_prev_tree = 0;
        return;
    }
    /* No rate from an inconsistent scan: the next one spans two intervals. */
    if (consistent) {
        /* The rate's interval is the one between the two reads of the ticks,
         * not between the samples' start times: on a loaded machine the
         * sampler can be held up between the two. */
        int64_t now = mono_ns();
        double secs = (now - s->prev_tree_ns) / 1e9;
        s->prev_tree_ns = now;
        /* A descendant that was reaped moved its ticks into its parent's
         * cutime; one that left the tree (orphaned) took them along: never
         * below 0. */
        if (s->has_prev_tree && secs > 0)
            put(s, "cpu", ticks > s->prev_tree_ticks
                              ? (double)(ticks - s->prev_tree_ticks) / s->tick_hz / secs * 100.0 : 0.0);
        s->prev_tree_ticks = ticks;
        s->has_prev_tree = 1;
    }
    put(s, "proc.cpu.threads", (double)threads);
    put(s, "proc.memory.rssMB", (double)rss * s->page_size / 1048576.0);
    if (mem_total_kb > 0)
        put(s, "proc.memory.percent", (double)rss * s->page_size / 1024.0 / mem_total_kb * 100.0);
}

/* ---- the machine ---- */

/* busy and total jiffies from the "cpu" line of /proc/stat. */
static int read_cpu(rl_sampler *s, uint64_t *busy, uint64_t *total)
{
    unsigned long long v[8] = {0};

    /* Only the first line is needed; /proc/stat can be long on big machines. */
    if (rl_read_small(NULL, s->fd_stat, s->buf, 512) <= 0 ||
        sscanf(s->buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]) < 4)
        return -1;
    *total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
    *busy = *total - v[3] - v[4]; /* idle and iowait */
    return 0;
}

static void sample_cpu(rl_sampler *s)
{
    uint64_t busy, total;

    if (read_cpu(s, &busy, &total) < 0)
        return;
    if (s->has_prev_cpu && total > s->prev_total)
        put(s, "system.cpu", busy >= s->prev_busy
                                 ? (double)(busy - s->prev_busy) / (double)(total - s->prev_total) * 100.0
                                 : 0.0);
    s->prev_busy = busy;
    s->prev_total = total;
    s->has_prev_cpu = 1;
}

static double meminfo_kb(const char *text, const char *label)
{
    const char *p = strstr(text, label);
    return p ? strtod(p + strlen(label), NULL) : -1;
}

/* Returns MemTotal in kB (or 0). */
static double sample_memory(rl_sampler *s)
{
    double total, avail;

    if (rl_read_small(NULL, s->fd_meminfo, s->buf, sizeof s->buf) <= 0)
        return 0;
    total = meminfo_kb(s->buf, "MemTotal:");
    avail = meminfo_kb(s->buf, "MemAvailable:");
    if (total <= 0 || avail < 0)
        return total > 0 ? total : 0;
    put(s, "memory_percent", (total - avail) / total * 100.0);
    put(s, "proc.memory.availableMB", avail / 1024.0);
    return total;
}

/* Whole disks (those in /sys/block), less loop, RAM and stacked devices
 * whose I/O their member disks count already. */
static void list_disks(rl_sampler *s)
{
    static const char *const skip[] = {"loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd"};
    DIR *d = opendir("/sys/block");
    struct dirent *e;
    size_t i;

    if (!d)
        return;
    while ((e = readdir(d)) != NULL && s->n_disks < MAX_DISKS) {
        int ok = e->d_name[0] != '.' && strlen(e->d_name) < sizeof s->disks[0];
        for (i = 0; ok && i < sizeof skip / sizeof skip[0]; i++)
            ok = strncmp(e->d_name, skip[i], strlen(skip[i])) != 0;
        if (ok)
            strcpy(s->disks[s->n_disks++], e->d_name);
    }
    closedir(d);
}

static int is_disk(const rl_sampler *s, const char *name)
{
    size_t i;
    for (i = 0; i < s->n_disks; i++)
        if (strcmp(s->disks[i], name) == 0)
            return 1;
    return 0;
}

/* Sectors (512 bytes, whatever the device's sector size) read and written. */
static int read_disks(rl_sampler *s, uint64_t *rd, uint64_t *wr)
{
    char *line, *save = NULL, name[64];
    unsigned long long r, w;

    if (s->fd_diskstats < 0 || rl_read_small(NULL, s->fd_diskstats, s->buf, sizeof s->buf) <= 0)
        return -1;
    *rd = *wr = 0;
    for (line = strtok_r(s->buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (sscanf(line, " %*u %*u %63s %*u %*u %llu %*u %*u %*u %llu", name, &r, &w) == 3 &&
            is_disk(s, name)) {
            *rd += r;
            *wr += w;
        }
    return 0;
}

/* Bytes received and sent on every interface but loopback. */
static int read_net(rl_sampler *s, uint64_t *rx, uint64_t *tx)
{
    char *line, *save = NULL, *colon;
    unsigned long long r, t;
    int n = 0;

    if (s->fd_netdev < 0 || rl_read_small(NULL, s->fd_netdev, s->buf, sizeof s->buf) <= 0)
        return -1;
    *rx = *tx = 0;
    for (line = strtok_r(s->buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (n++ < 2 || !(colon = strchr(line, ':')))
            continue; /* two header lines */
        *colon = '\0';
        while (*line == ' ')
            line++;
        if (strcmp(line, "lo") != 0 &&
            sscanf(colon + 1, " %llu %*u %*u %*u %*u %*u %*u %*u %llu", &r, &t) == 2) {
            *rx += r;
            *tx += t;
        }
    }
    return 0;
}

int rl_disk_space_of(const char *path, rl_disk_space *out)
{
    struct statvfs v;
    uint64_t unit;

    if (statvfs(path, &v) != 0 || v.f_blocks == 0 || v.f_bfree > v.f_blocks)
        return -1;
    unit = v.f_frsize ? v.f_frsize : 1;
    if (v.f_blocks > (uint64_t)INT64_MAX / unit || v.f_bavail > v.f_blocks)
        return -1;
    out->total = v.f_blocks * unit;
    out->used = (v.f_blocks - v.f_bfree) * unit;
    out->avail = v.f_bavail * unit;
    return 0;
}

static void sample_io(rl_sampler *s)
{
    uint64_t a, b;
    rl_disk_space d;

    if (read_disks(s, &a, &b) == 0 && s->has_disk0) {
        put(s, "disk.in", (double)(a - s->disk_rd0) * 512.0 / 1048576.0);
        put(s, "disk.out", (double)(b - s->disk_wr0) * 512.0 / 1048576.0);
    }
    if (rl_disk_space_of(s->disk_path, &d) == 0) {
        double used = (double)d.used, avail = (double)d.avail;
        if (used + avail > 0)
            put(s, "disk.usagePercent", used / (used + avail) * 100.0);
        put(s, "disk.usageGB", used / 1073741824.0);
    }
    if (read_net(s, &a, &b) == 0 && s->has_net0) {
        put(s, "network.recv", (double)(a - s->net_rx0));
        put(s, "network.sent", (double)(b - s->net_tx0));
    }
}

static void sample_gpus(rl_sampler *s)
{
    unsigned i, n = rl_nvml_count(s->nvml);
    rl_gpu_sample g;

    for (i = 0; i < n; i++) {
        char (*k)[GPU_KEY_LEN] = s->gpu_keys[i];
        rl_nvml_sample(s->nvml, i, &g);
        if (g.has_util) {
            put(s, k[0], g.util);
            put(s, k[1], g.mem_util);
        }
        if (g.has_mem && g.mem_total > 0) {
            put(s, k[2], g.mem_used / g.mem_total * 100.0);
            put(s, k[3], g.mem_used);
        }
        if (g.has_temp)
            put(s, k[4], g.temp);
        if (g.has_power)
            put(s, k[5], g.power_w);
        if (g.has_power && g.has_limit)
            put(s, k[6], g.power_w / g.limit_w * 100.0);
    }
}

/* ---- life cycle ---- */

static int make_gpu_keys(rl_sampler *s)
{
    static const char *const names[GPU_KEYS] = {"gpu", "memory", "memoryAllocated",
        "memoryAllocatedBytes", "temp", "powerWatts", "powerPercent"};
    unsigned i, j, n = rl_nvml_count(s->nvml);

    if (n && !(s->gpu_keys = calloc(n, sizeof *s->gpu_keys)))
        return -1;
    for (i = 0; i < n; i++)
        for (j = 0; j < GPU_KEYS; j++)
            snprintf(s->gpu_keys[i][j], GPU_KEY_LEN, "gpu.%u.%s", i, names[j]);
    return 0;
}

int rl_sampler_new(rl_sampler **out, int pid, const char *disk_path, rl_nvml *nvml)
{
    rl_sampler *s = calloc(1, sizeof *s);
    size_t max_keys = 16 + GPU_KEYS * (size_t)rl_nvml_count(nvml);
    uint64_t a, b, c;

    if (!s)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    s->root = pid;
    s->nvml = nvml;
    s->tick_hz = (double)sysconf(_SC_CLK_TCK);
    s->page_size = (double)sysconf(_SC_PAGESIZE);
    s->fd_stat = open("/proc/stat", O_RDONLY | O_CLOEXEC);
    s->fd_meminfo = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
    s->fd_diskstats = open("/proc/diskstats", O_RDONLY | O_CLOEXEC);
    s->fd_netdev = open("/proc/net/dev", O_RDONLY | O_CLOEXEC);
    s->proc = opendir("/proc");
    s->disk_path = strdup(disk_path ? disk_path : ".");
    s->keys = calloc(max_keys, sizeof *s->keys);
    s->vals = calloc(max_keys, sizeof *s->vals);
    if (!s->disk_path || !s->keys || !s->vals || make_gpu_keys(s) < 0) {
        rl_sampler_free(s);
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    }
    if (!s->proc || s->fd_stat < 0 || s->fd_meminfo < 0) {
        rl_sampler_free(s);
        return rl_fail(RUNLOG_EIO, "capture: /proc cannot be read");
    }
    list_disks(s);
    s->has_disk0 = read_disks(s, &s->disk_rd0, &s->disk_wr0) == 0;
    s->has_net0 = read_net(s, &s->net_rx0, &s->net_tx0) == 0;
    /* Baselines of the rates: the first sample covers one interval. */
    s->has_prev_cpu = read_cpu(s, &s->prev_busy, &s->prev_total) == 0;
    int consistent;
    s->has_prev_tree = scan_tree(s, &a, &b, &c, &consistent) == 0 && consistent;
    s->prev_tree_ns = mono_ns();
    s->prev_tree_ticks = a;
    *out = s;
    return 0;
}

int rl_sampler_sample(rl_sampler *s, runlog_writer *w)
{
    double mem_total;

    s->n = 0;
    mem_total = sample_memory(s);
    sample_tree(s, mem_total);
    sample_cpu(s);
    sample_io(s);
    sample_gpus(s);
    return runlog_writer_system(w, s->keys, s->vals, s->n);
}

void rl_sampler_free(rl_sampler *s)
{
    if (!s)
        return;
    if (s->proc)
        closedir(s->proc);
    if (s->fd_stat >= 0)
        close(s->fd_stat);
    if (s->fd_meminfo >= 0)
        close(s->fd_meminfo);
    if (s->fd_diskstats >= 0)
        close(s->fd_diskstats);
    if (s->fd_netdev >= 0)
        close(s->fd_netdev);
    free(s->outside.p);
    free(s->cur.p);
    free(s->cand);
    free(s->tree);
    free(s->keys);
    free(s->vals);
    free(s->gpu_keys);
    free(s->disk_path);
    free(s);
}
