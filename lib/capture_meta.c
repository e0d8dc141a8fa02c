/* Run metadata (runlog.h "Live capture"; keys listed in spec/EXPORTS.md
 * "Metadata"). Everything is read from the system or from a fixed list of
 * environment variables: the environment is never dumped, so secrets kept
 * there (tokens, passwords) never reach the file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <linux/magic.h>

#include "capture_internal.h"

extern char **environ;

static void set_str(json_t *o, const char *key, const char *v)
{
    if (v && v[0])
        json_object_set_new(o, key, json_string(v));
}

/* Text from the first line that starts with label, after the first `sep`
 * of that line ("model name\t: X" in cpuinfo, PRETTY_NAME="X" in os-release). */
static void set_field(json_t *o, const char *key, const char *text, const char *label, char sep)
{
    const char *p = strstr(text, label);
    char val[256];
    size_t n;

    while (p && p != text && p[-1] != '\n')
        p = strstr(p + 1, label);
    if (!p || !(p = strchr(p, sep)))
        return;
    p += 1 + strspn(p + 1, " \t\"");
    n = strcspn(p, "\n\"");
    snprintf(val, sizeof val, "%.*s", (int)(n < sizeof val ? n : sizeof val - 1), p);
    set_str(o, key, val);
}

static void meta_system(json_t *m)
{
    char buf[16384], host[256];
    struct utsname u;
    long n;

    if (gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = '\0';
        set_str(m, "host", host);
    }
    if (uname(&u) == 0) {
        set_str(m, "os", u.sysname);
        set_str(m, "kernel", u.release);
        set_str(m, "kernel_version", u.version);
        set_str(m, "arch", u.machine);
    }
    if (rl_read_small("/etc/os-release", -1, buf, sizeof buf) > 0)
        set_field(m, "os_release", buf, "PRETTY_NAME=", '=');
    /* The first CPU's model is enough: nodes are not mixed within a socket. */
    if (rl_read_small("/proc/cpuinfo", -1, buf, sizeof buf) > 0)
        set_field(m, "cpu_model", buf, "model name", ':');
    if ((n = sysconf(_SC_NPROCESSORS_ONLN)) > 0)
        json_object_set_new(m, "cpu_count", json_integer(n));
    if (rl_read_small("/proc/meminfo", -1, buf, sizeof buf) > 0 && (n = atol(buf + 9)) > 0 &&
        strncmp(buf, "MemTotal:", 9) == 0)
        json_object_set_new(m, "memory_total_bytes", json_integer((json_int_t)n * 1024));
}

static void meta_process(json_t *m, int pid, const char *const *argv)
{
    char path[64], buf[16384];
    cpu_set_t set;
    struct passwd pw, *pwp = NULL;
    ssize_t k;

    json_object_set_new(m, "pid", json_integer(pid));
    if (sched_getaffinity(pid, sizeof set, &set) == 0)
        json_object_set_new(m, "cpu_count_allowed", json_integer(CPU_COUNT(&set)));
    if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &pwp) == 0 && pwp)
        set_str(m, "user", pw.pw_name);
    else
        set_str(m, "user", getenv("USER"));
    snprintf(path, sizeof path, "/proc/%d/cwd", pid);
    if ((k = readlink(path, buf, sizeof buf - 1)) > 0) {
        buf[k] = '\0';
        set_str(m, "cwd", buf);
    }
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    if ((k = readlink(path, buf, sizeof buf - 1)) > 0) {
        buf[k] = '\0';
        set_str(m, "executable", buf);
    }
    json_t *list = json_array();
    if (argv) {
        for (; *argv; argv++)
            json_array_append_new(list, json_string(*argv));
    } else {
        /* NUL-separated arguments; a longer command line is cut. */
        snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
        long len = rl_read_small(path, -1, buf, sizeof buf), i = 0;
        while (i < len) {
            json_array_append_new(list, json_string(buf + i));
            i += (long)strlen(buf + i) + 1;
        }
    }
    json_object_set_new(m, "argv", list);
}

static void meta_time(json_t *m)
{
    struct timespec ts;
    struct tm tm;
    char buf[64];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ".%03ldZ", ts.tv_nsec / 1000000);
    set_str(m, "started_at", buf);
    set_str(m, "runlog_version", RUNLOG_VERSION_STRING);
}

/* ---- the filesystem of the disk samples ---- */

/* A field of a mountinfo line: [*p, end) up to the next space. Moves *p past
 * it and its space; NULL at the end of the line or at an empty field (two
 * spaces: not a line the kernel writes). */
static const char *next_field(const char **p, const char *end, size_t *len)
{
    const char *f = *p, *sp;

    if (f >= end)
        return NULL;
    sp = memchr(f, ' ', (size_t)(end - f));
    *len = (size_t)((sp ? sp : end) - f);
    *p = sp ? sp + 1 : end;
    return *len ? f : NULL;
}

static int all_digits(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return n > 0;
}

/* One line of /proc/PID/mountinfo (proc(5)), without its newline:
 *   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw
 *   (1)(2)(3)  (4)   (5)         (6)        (7...)  (8) (9)  (10)     (11)
 * mount id, parent id, major:minor, root, mount point, mount options, zero
 * or more optional fields, "-", then type, source and superblock options.
 * The kernel writes space, tab, newline and backslash in paths as \ooo
 * (\040, \011, \012, \134). Writes field 5 unescaped and NUL-terminated to
 * out; its length, or -1 when the line is not of that form (a field
 * missing or malformed, no "-" with a field after it, a bad or \000
 * escape or a NUL byte, a mount point that is not absolute) or the point
 * does not fit. */
long rl_mountinfo_point(const char *line, size_t len, char *out, size_t size)
{
    const char *p = line, *end = line + len, *f, *colon, *mp;
    size_t n, mlen, i, k = 0;

    if (!(f = next_field(&p, end, &n)) || !all_digits(f, n) ||   /* (1) */
        !(f = next_field(&p, end, &n)) || !all_digits(f, n) ||   /* (2) */
        !(f = next_field(&p, end, &n)) || !(colon = memchr(f, ':', n)) ||
        !all_digits(f, (size_t)(colon - f)) ||
        !all_digits(colon + 1, n - (size_t)(colon + 1 - f)) ||   /* (3) */
        !next_field(&p, end, &n) ||                              /* (4) */
        !(mp = next_field(&p, end, &mlen)) ||                    /* (5) */
        !next_field(&p, end, &n))                                /* (6) */
        return -1;
    while ((f = next_field(&p, end, &n)) && !(n == 1 && f[0] == '-'))
        ; /* (7): optional fields up to the separator */
    if (!f || !next_field(&p, end, &n)) /* no separator, or no type after it */
        return -1;
    if (mp[0] != '/')
        return -1;
    for (i = 0; i < mlen; i++) {
        unsigned char c = (unsigned char)mp[i];
        if (c == '\\') {
            if (mlen - i < 4 || mp[i + 1] < '0' || mp[i + 1] > '3' || mp[i + 2] < '0' ||
                mp[i + 2] > '7' || mp[i + 3] < '0' || mp[i + 3] > '7')
                return -1;
            c = (unsigned char)((mp[i + 1] - '0') * 64 + (mp[i + 2] - '0') * 8 + (mp[i + 3] - '0'));
            if (c == 0)
                return -1; /* a NUL would cut the name */
            i += 3;
        } else if (c == 0) {
            return -1;
        }
        if (k + 1 >= size)
            return -1;
        out[k++] = (char)c;
    }
    out[k] = '\0';
    return (long)k;
}

/* Whether mount point m (its length n) is path or a folder above it. */
static int mount_holds(const char *m, size_t n, const char *path)
{
    if (n == 1)
        return path[0] == '/'; /* "/" */
    return strncmp(path, m, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Lines longer than this are skipped (no mount point the kernel can write,
 * PATH_MAX escaped four bytes a byte, needs one); reading stops after
 * RL_MOUNTINFO_MAX bytes, without an answer: a listing cut short may lack
 * the mount that holds the path. */
#define RL_MOUNTINFO_LINE (64 * 1024)
#define RL_MOUNTINFO_MAX (64u << 20)

int rl_mount_of(int fd, const char *path, char *out, size_t size)
{
    char *buf = malloc(RL_MOUNTINFO_LINE), *mp = malloc(size);
    size_t have = 0, total = 0, best = 0;
    int skipping = 0, found = 0, rc = -1;
    ssize_t k;

    if (!buf || !mp || size == 0 || path[0] != '/')
        goto done;
    for (;;) {
        char *nl, *line = buf;
        k = read(fd, buf + have, RL_MOUNTINFO_LINE - have);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 || (total += (size_t)k) > RL_MOUNTINFO_MAX)
            goto done;
        if (k == 0 && have > 0 && !skipping) /* a last line without a newline */
            buf[have++] = '\n';
        have += (size_t)(k > 0 ? k : 0);
        while ((nl = memchr(line, '\n', have - (size_t)(line - buf))) != NULL) {
            long n;
            if (!skipping &&
                (n = rl_mountinfo_point(line, (size_t)(nl - line), mp, size)) > 0 &&
                (size_t)n >= best && mount_holds(mp, (size_t)n, path)) {
                /* Of equal ones (mounted over each other), any: the
                 * name is the same. */
                best = (size_t)n;
                memcpy(out, mp, (size_t)n + 1);
                found = 1;
            }
            skipping = 0;
            line = nl + 1;
        }
        have -= (size_t)(line - buf);
        memmove(buf, line, have);
        if (have == RL_MOUNTINFO_LINE) { /* a line longer than the buffer */
            skipping = 1;
            have = 0;
        }
        if (k == 0)
            break;
    }
    rc = found ? 0 : -1;
done:
    free(buf);
    free(mp);
    return rc;
}

/* disk_mount: the mount point of the filesystem the sampler's statvfs()
 * reads (the one that holds disk_path), so that an export can name disk
 * space by it (W&B: disk.<path>.usagePercent). This process's view: the
 * sampler runs here. Only /proc is opened; realpath() reads links but
 * opens nothing. Left out when anything fails. disk_total_bytes and
 * disk_used_bytes: that filesystem's size and the bytes in use at the
 * start (rl_disk_space_of()), as W&B's environment record keeps them. */
static void meta_disk(json_t *m, const char *disk_path)
{
    char *real = realpath(disk_path ? disk_path : ".", NULL), point[PATH_MAX + 1];
    struct statfs sf;
    rl_disk_space space;
    struct stat st;
    int fd = -1;

    if (!real)
        return;
    if (rl_disk_space_of(real, &space) == 0) {
        json_object_set_new(m, "disk_total_bytes", json_integer((json_int_t)space.total));
        json_object_set_new(m, "disk_used_bytes", json_integer((json_int_t)space.used));
    }
    fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    /* A /proc that is not procfs (a chroot's own folder) could say anything. */
    if (fd >= 0 && fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC &&
        fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
        rl_mount_of(fd, real, point, sizeof point) == 0) {
        json_t *s = json_string(point); /* NULL when not UTF-8: left out */
        if (s)
            json_object_set_new(m, "disk_mount", s);
    }
    if (fd >= 0)
        close(fd);
    free(real);
}

/* ---- git ---- */

/* Reads the child's output until EOF or the deadline; -1 on timeout. */
static int read_until(int fd, char *buf, size_t size, int64_t deadline_ms)
{
    size_t len = 0;
    struct timespec ts;
    struct pollfd p = {fd, POLLIN, 0};

    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t left = deadline_ms - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
        if (left <= 0)
            return -1;
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        char tmp[4096];
        ssize_t k = read(fd, tmp, sizeof tmp);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        size_t take = (size_t)k < size - 1 - len ? (size_t)k : size - 1 - len;
        memcpy(buf + len, tmp, take); /* the rest is drained and dropped */
        len += take;
    }
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    buf[len] = '\0';
    return 0;
}

typedef struct git_ctx {
    const char *dir;
    char **envp;
    int timeout_ms;
} git_ctx;

void rl_spawn_attr(posix_spawnattr_t *at)
{
    sigset_t none, deflt;

    /* The caller may block or ignore signals; a command must not inherit that. */
    posix_spawnattr_init(at);
    sigemptyset(&none);
    sigemptyset(&deflt);
    sigaddset(&deflt, SIGPIPE);
    sigaddset(&deflt, SIGINT);
    sigaddset(&deflt, SIGTERM);
    sigaddset(&deflt, SIGHUP);
    posix_spawnattr_setsigmask(at, &none);
    posix_spawnattr_setsigdefault(at, &deflt);
    posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

static void spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at, int out_fd)
{
    posix_spawn_file_actions_init(fa);
    posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(fa, out_fd, 1);
    posix_spawn_file_actions_addopen(fa, 2, "/dev/null", O_WRONLY, 0);
    rl_spawn_attr(at);
}

/* Runs `git -C dir ARGS...`; its output (trimmed) into buf. 0, or -1 when
 * git is missing, or timed out (then it is killed). */
static int run_git(const git_ctx *g, const char *a1, const char *a2, const char *a3,
                   char *buf, size_t size)
{
    char *argv[] = {"git", "-C", (char *)g->dir, (char *)a1, (char *)a2, (char *)a3, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    struct timespec ts;
    int fds[2], rc, st;
    pid_t pid;

    buf[0] = '\0';
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    spawn_setup(&fa, &at, fds[1]);
    rc = posix_spawnp(&pid, "git", &fa, &at, argv, g->envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    rc = read_until(fds[0], buf, size, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
                                           g->timeout_ms);
    close(fds[0]);
    if (rc < 0)
        kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return rc;
}

/* "https://user:token@host/x" -> "https://host/x": credentials stay out. */
static void strip_credentials(char *url)
{
    char *scheme = strstr(url, "://"), *at, *slash;

    if (!scheme)
        return;
    scheme += 3;
    slash = strchr(scheme, '/');
    at = strchr(scheme, '@');
    if (at && (!slash || at < slash))
        memmove(scheme, at + 1, strlen(at + 1) + 1);
}

/* environ plus settings that keep git from prompting or taking locks that
 * would get in the way of the user's own git commands. */
static char **git_env(void)
{
    size_t n = 0, i;
    char **e;

    while (environ && environ[n])
        n++;
    if (!(e = calloc(n + 3, sizeof *e)))
        return NULL;
    for (i = 0; i < n; i++)
        e[i] = environ[i];
    e[n] = "GIT_OPTIONAL_LOCKS=0";
    e[n + 1] = "GIT_TERMINAL_PROMPT=0";
    return e;
}

static void meta_git(json_t *m, const char *dir, int timeout_ms)
{
    git_ctx g = {dir, git_env(), timeout_ms};
    char buf[4096];
    json_t *git;

    if (!g.envp)
        return;
    if (run_git(&g, "rev-parse", "--verify", "HEAD", buf, sizeof buf) < 0 || strlen(buf) < 7 ||
        strchr(buf, ' ')) {
        free(g.envp); /* not a repository, or no git */
        return;
    }
    git = json_object();
    set_str(git, "commit", buf);
    if (run_git(&g, "rev-parse", "--abbrev-ref", "HEAD", buf, sizeof buf) == 0 &&
        strcmp(buf, "HEAD") != 0)
        set_str(git, "branch", buf);
    if (run_git(&g, "config", "--get", "remote.origin.url", buf, sizeof buf) == 0) {
        strip_credentials(buf);
        set_str(git, "remote", buf);
    }
    if (run_git(&g, "status", "--porcelain", "--untracked-files=no", buf, sizeof buf) == 0)
        json_object_set_new(git, "dirty", json_boolean(buf[0] != '\0'));
    json_object_set_new(m, "git", git);
    free(g.envp);
}

/* ---- batch systems and ranks ---- */

typedef struct env_field {
    const char *system, *var, *key;
} env_field;

/* Job identity only: never anything that could hold a credential. */
static const env_field batch_vars[] = {
    {"slurm", "SLURM_JOB_ID", "job_id"},
    {"slurm", "SLURM_ARRAY_JOB_ID", "array_job_id"},
    {"slurm", "SLURM_ARRAY_TASK_ID", "array_index"},
    {"slurm", "SLURM_JOB_NODELIST", "node_list"},
    {"slurm", "SLURM_JOB_NAME", "job_name"},
    {"slurm", "SLURM_JOB_PARTITION", "queue"},
    {"slurm", "SLURM_JOB_NUM_NODES", "num_nodes"},
    {"slurm", "SLURM_STEP_ID", "step_id"},
    {"slurm", "SLURM_CLUSTER_NAME", "cluster"},
    /* How many times the job was requeued (preempted, node failure): the
     * files of one run id with a higher count are its later sessions. */
    {"slurm", "SLURM_RESTART_COUNT", "restart_count"},
    {"pbs", "PBS_JOBID", "job_id"},
    {"pbs", "PBS_ARRAY_INDEX", "array_index"},
    {"pbs", "PBS_ARRAYID", "array_index"},
    {"pbs", "PBS_JOBNAME", "job_name"},
    {"pbs", "PBS_QUEUE", "queue"},
    {"lsf", "LSB_JOBID", "job_id"},
    {"lsf", "LSB_JOBINDEX", "array_index"},
    {"lsf", "LSB_HOSTS", "node_list"},
    {"lsf", "LSB_JOBNAME", "job_name"},
    {"lsf", "LSB_QUEUE", "queue"},
};

/* PBS gives the nodes as a file with one line per slot: unique names. */
static void pbs_nodes(json_t *b)
{
    const char *path = getenv("PBS_NODEFILE");
    char buf[16384], list[16384] = "", *line, *save = NULL;
    size_t len = 0;

    if (!path || rl_read_small(path, -1, buf, sizeof buf) <= 0)
        return;
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t n = strlen(line);
        char *hit = strstr(list, line);
        if ((hit && (hit[n] == ',' || hit[n] == '\0') && (hit == list || hit[-1] == ',')) ||
            len + n + 2 > sizeof list)
            continue;
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? "," : "", line);
    }
    set_str(b, "node_list", list);
}

static void meta_batch(json_t *m)
{
    json_t *b = json_object();
    const char *system = NULL;
    size_t i;

    for (i = 0; i < sizeof batch_vars / sizeof batch_vars[0]; i++) {
        const char *v = getenv(batch_vars[i].var);
        if (!v || !v[0] || (system && strcmp(system, batch_vars[i].system) != 0))
            continue;
        system = batch_vars[i].system;
        set_str(b, batch_vars[i].key, v);
    }
    if (system && strcmp(system, "pbs") == 0)
        pbs_nodes(b);
    if (system) {
        set_str(b, "system", system);
        json_object_set_new(m, "batch", b);
    } else {
        json_decref(b);
    }
}

/* The first of the variables that holds a whole number. */
static void set_rank(json_t *m, const char *key, const char *const *vars)
{
    for (; *vars; vars++) {
        const char *v = getenv(*vars);
        char *end;
        long long n;
        if (!v || !v[0])
            continue;
        errno = 0;
        n = strtoll(v, &end, 10);
        if (!*end && errno == 0) {
            json_object_set_new(m, key, json_integer(n));
            return;
        }
    }
}

static void meta_ranks(json_t *m)
{
    static const char *const rank[] = {"RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK",
                                       "PMI_RANK", "PMIX_RANK", "MV2_COMM_WORLD_RANK", NULL};
    static const char *const local[] = {"LOCAL_RANK", "SLURM_LOCALID",
                                        "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID",
                                        "MV2_COMM_WORLD_LOCAL_RANK", NULL};
    static const char *const world[] = {"WORLD_SIZE", "SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE",
                                        "PMI_SIZE", "MV2_COMM_WORLD_SIZE", NULL};
    static const char *const local_world[] = {"LOCAL_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_SIZE",
                                              "SLURM_NTASKS_PER_NODE", NULL};
    static const char *const node[] = {"NODE_RANK", "GROUP_RANK", "SLURM_NODEID", NULL};

    set_rank(m, "rank", rank);
    set_rank(m, "local_rank", local);
    set_rank(m, "world_size", world);
    set_rank(m, "local_world_size", local_world);
    set_rank(m, "node_rank", node);
    set_str(m, "cuda_visible_devices", getenv("CUDA_VISIBLE_DEVICES"));
}

static void meta_gpus(json_t *m, rl_nvml *nvml)
{
    unsigned i, n = rl_nvml_count(nvml);
    json_t *list;
    char name[96];
    uint64_t total;

    if (n == 0)
        return;
    list = json_array();
    for (i = 0; i < n; i++) {
        json_t *g = json_object();
        if (rl_nvml_info(nvml, i, name, sizeof name, &total) == 0) {
            set_str(g, "name", name);
            json_object_set_new(g, "memory_total_bytes", json_integer((json_int_t)total));
            if (i == 0)
                set_str(m, "gpu", name);
        }
        json_array_append_new(list, g);
    }
    json_object_set_new(m, "gpu_count", json_integer(n));
    json_object_set_new(m, "gpus", list);
}

int rl_capture_metadata(runlog_writer *w, const runlog_capture_options *o, int pid,
                        rl_nvml *nvml)
{
    json_t *m = json_object();
    const char *cwd;
    char *text;
    int rc;

    if (!m)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    meta_system(m);
    meta_process(m, pid, o->argv);
    meta_time(m);
    cwd = json_string_value(json_object_get(m, "cwd"));
    meta_git(m, cwd ? cwd : ".", o->git_timeout_ms ? (int)o->git_timeout_ms : 2000);
    meta_batch(m);
    meta_ranks(m);
    meta_gpus(m, nvml);
    meta_disk(m, o->disk_path);
    text = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    if (!text)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    rc = runlog_writer_metadata_json(w, text);
    free(text);
    return rc;
}
