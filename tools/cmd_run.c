/*
 * cmd_run.c — `runlog run [options] -- CMD [ARGS...]`: runs a command as a
 * run. Its stdout and stderr go through pipes to runlog, which copies them
 * unchanged to its own and records them; the library's capture records the
 * metadata and samples the command's process tree; each line the command
 * writes on the descriptor named by RUNLOG_METRICS_FD is a JSON object logged
 * as one history row; signals sent to runlog are passed on; the command's
 * exit code (128 + N when signal N killed it) ends the run and is runlog's
 * own exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "util.h"

extern char **environ;

#define MAX_TAGS 64
#define CHUNK 65536
#define MAX_METRICS_LINE (64u << 20)
#define MAX_WARNINGS 10

typedef struct run_opts {
    const char *project, *name, *group, *job_type, *notes, *out, *alert_command;
    const char *tags[MAX_TAGS];
    size_t n_tags;
    uint32_t interval_ms;
    int no_console, no_metadata;
    char **cmd;
} run_opts;

/* The pipes from the command: stdout, stderr, metrics; and the wake pipe
 * that the signal handler writes to. */
enum { P_OUT, P_ERR, P_METRICS, P_WAKE, N_PIPES };

typedef struct run_state {
    runlog_writer *w;
    runlog_capture *cap;
    const char *path;
    int rd[N_PIPES];
    int tee_off[3];
    char *line;            /* the metrics line being received */
    size_t line_len, line_cap;
    int dropping;          /* inside a line that was too long */
    uint64_t lines, rows, warnings;
    int status;            /* TOOL_FAIL once something was not recorded */
} run_state;

static volatile sig_atomic_t child_pid;
static int wake_fd = -1;

/* ---- options ---- */

static int parse_interval(const char *s, uint32_t *ms)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (!*s || *end || errno || !(v >= 0 && v <= 86400))
        return -1;
    *ms = v == 0 ? RUNLOG_CAPTURE_NO_SAMPLER : (uint32_t)(v * 1000 + 0.5);
    if (*ms == 0)
        *ms = 1;
    return 0;
}

static int parse_run(int argc, char **argv, run_opts *o)
{
    static const struct option longopts[] = {
        {"project", required_argument, NULL, 'p'}, {"name", required_argument, NULL, 'n'},
        {"group", required_argument, NULL, 'g'},   {"job-type", required_argument, NULL, 'j'},
        {"notes", required_argument, NULL, 'N'},   {"tag", required_argument, NULL, 't'},
        {"output", required_argument, NULL, 'o'},  {"interval", required_argument, NULL, 'i'},
        {"no-console", no_argument, NULL, 'C'},    {"no-metadata", no_argument, NULL, 'M'},
        {"alert-command", required_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
    int c;

    memset(o, 0, sizeof *o);
    optind = 0;
    opterr = 0;
    /* '+': options end at the command's name, so its own options stay its. */
    while ((c = getopt_long(argc, argv, "+:o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': o->project = optarg; break;
        case 'n': o->name = optarg; break;
        case 'g': o->group = optarg; break;
        case 'j': o->job_type = optarg; break;
        case 'N': o->notes = optarg; break;
        case 'o': o->out = optarg; break;
        case 'a': o->alert_command = optarg; break;
        case 'C': o->no_console = 1; break;
        case 'M': o->no_metadata = 1; break;
        case 't':
            if (o->n_tags == MAX_TAGS)
                return tool_usage(argv[0], "at most %d tags", MAX_TAGS);
            o->tags[o->n_tags++] = optarg;
            break;
        case 'i':
            if (parse_interval(optarg, &o->interval_ms) < 0)
                return tool_usage(argv[0], "--interval needs seconds (0 to 86400), not '%s'",
                                  optarg);
            break;
        default: return tool_bad_option(argv[0], argv, c);
        }
    }
    if (optind >= argc)
        return tool_usage(argv[0], "expected a command after --");
    o->cmd = argv + optind;
    return TOOL_OK;
}

/* ./runlog-YYYYmmdd_HHMMSS-PID.runlog */
static char *default_path(void)
{
    char stamp[32], *p;
    time_t t = time(NULL);
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d_%H%M%S", &tm);
    if (asprintf(&p, "runlog-%s-%ld.runlog", stamp, (long)getpid()) < 0)
        return NULL;
    return p;
}

/* ---- signals ---- */

/* Passes the signal on, unless the terminal sent it (SI_KERNEL): the
 * terminal signals the whole foreground process group, so the command got
 * it already and a second copy could cut its cleanup short. */
static void on_signal(int sig, siginfo_t *si, void *ctx)
{
    int saved = errno;

    (void)ctx;
    if (sig != SIGCHLD && child_pid > 0 && si->si_code != SI_KERNEL)
        kill((pid_t)child_pid, sig);
    if (wake_fd >= 0)
        (void)!write(wake_fd, "x", 1);
    errno = saved;
}

static const int passed_signals[] = {SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGHUP, SIGCHLD};
#define N_SIGNALS (sizeof passed_signals / sizeof passed_signals[0])

static void block_signals(sigset_t *old)
{
    sigset_t set;
    size_t i;

    sigemptyset(&set);
    for (i = 0; i < N_SIGNALS; i++)
        sigaddset(&set, passed_signals[i]);
    sigprocmask(SIG_BLOCK, &set, old);
}

static void install_handlers(void)
{
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < N_SIGNALS; i++)
        sigaction(passed_signals[i], &sa, NULL);
    /* A closed stdout must not kill runlog before the run is recorded. */
    signal(SIGPIPE, SIG_IGN);
}

/* ---- the command ---- */

/* fds 0-2 open, so that no pipe lands on them. */
static void ensure_std_fds(void)
{
    int fd;

    while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
        ;
    if (fd > 2)
        close(fd);
}

/* environ plus RUNLOG_METRICS_FD=fd (an older value replaced). */
static char **child_env(int fd)
{
    size_t n = 0, i, k = 0;
    char **e;

    while (environ[n])
        n++;
    if (!(e = calloc(n + 2, sizeof *e)) || asprintf(&e[k], "RUNLOG_METRICS_FD=%d", fd) < 0) {
        free(e);
        return NULL;
    }
    for (k = 1, i = 0; i < n; i++)
        if (strncmp(environ[i], "RUNLOG_METRICS_FD=", 18) != 0)
            e[k++] = environ[i];
    return e;
}

/* In the child: only async-signal-safe calls until exec. */
static void exec_child(const run_opts *o, int pipes[][2], int exec_err, char **envp,
                       const sigset_t *mask)
{
    int e;

    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, mask, NULL);
    if (!o->no_console && (dup2(pipes[P_OUT][1], 1) < 0 || dup2(pipes[P_ERR][1], 2) < 0))
        _exit(127);
    fcntl(pipes[P_METRICS][1], F_SETFD, 0); /* the one pipe end that stays open */
    execvpe(o->cmd[0], o->cmd, envp);
    e = errno;
    (void)!write(exec_err, &e, sizeof e);
    _exit(127);
}

/* Starts the command; its exec errno in *exec_errno (0 when it started). */
static pid_t start_child(const run_opts *o, run_state *s, const sigset_t *mask, int *exec_errno)
{
    int pipes[N_PIPES][2], ep[2], i;
    char **envp;
    pid_t pid;

    for (i = 0; i < N_PIPES; i++)
        pipes[i][0] = pipes[i][1] = -1;
    for (i = 0; i < N_PIPES; i++)
        if ((i == P_OUT || i == P_ERR) && o->no_console)
            continue;
        else if (pipe2(pipes[i], O_CLOEXEC) < 0)
            return -1;
    if (pipe2(ep, O_CLOEXEC) < 0 || !(envp = child_env(pipes[P_METRICS][1])))
        return -1;
    if ((pid = fork()) == 0)
        exec_child(o, pipes, ep[1], envp, mask);
    free(envp[0]);
    free(envp);
    close(ep[1]);
    for (i = 0; i < N_PIPES; i++) {
        if (i != P_WAKE && pipes[i][1] >= 0)
            close(pipes[i][1]);
        if (pipes[i][0] >= 0)
            fcntl(pipes[i][0], F_SETFL, O_NONBLOCK);
        s->rd[i] = pipes[i][0];
    }
    fcntl(pipes[P_WAKE][1], F_SETFL, O_NONBLOCK);
    wake_fd = pipes[P_WAKE][1];
    *exec_errno = 0;
    if (pid > 0)
        while (read(ep[0], exec_errno, sizeof *exec_errno) < 0 && errno == EINTR)
            ;
    close(ep[0]);
    return pid;
}

/* ---- console ---- */


static void console_chunk(run_state *s, int fd, const char *buf, size_t n)
{
    int rc;

    if (!s->tee_off[fd] && rlu_write_all(fd, buf, n) < 0)
        s->tee_off[fd] = 1; /* e.g. a closed pipe: keep recording */
    rc = runlog_writer_console(s->w, fd == 1 ? RUNLOG_STDOUT : RUNLOG_STDERR, buf, n);
    if (rc < 0 && s->status == TOOL_OK)
        s->status = tool_lib_error(s->path, rc);
}

/* ---- metrics lines ---- */

static void warn_line(run_state *s, const char *fmt, const char *what)
{
    if (++s->warnings <= MAX_WARNINGS) {
        fprintf(stderr, "runlog run: RUNLOG_METRICS_FD line %" PRIu64 ": ", s->lines);
        fprintf(stderr, fmt, what);
        fputc('\n', stderr);
    }
}

/* Python's json.dumps() writes NaN, Infinity and -Infinity, which JSON does
 * not have: outside strings they become the strings "\u0000NaN"... that
 * add_value() turns back into floats. */
static char *replace_nonfinite(const char *line, size_t len, size_t *out_len)
{
    static const char *const words[] = {"-Infinity", "Infinity", "NaN"};
    char *out = malloc(2 * len + 16), *q = out;
    int in_str = 0;
    size_t i, k;

    if (!out)
        return NULL;
    for (i = 0; i < len; i++) {
        if (in_str) {
            if (line[i] == '\\' && i + 1 < len)
                *q++ = line[i++];
            else if (line[i] == '"')
                in_str = 0;
        } else if (line[i] == '"') {
            in_str = 1;
        } else {
            for (k = 0; k < 3; k++) {
                size_t n = strlen(words[k]);
                if (len - i >= n && memcmp(line + i, words[k], n) == 0) {
                    q += sprintf(q, "\"\\u0000%s\"", words[k]);
                    i += n - 1;
                    break;
                }
            }
            if (k < 3)
                continue;
        }
        *q++ = line[i];
    }
    *out_len = (size_t)(q - out);
    return out;
}

static int add_string(runlog_writer *w, const char *key, json_t *v)
{
    const char *str = json_string_value(v);
    size_t n = json_string_length(v);
    char *text;
    int rc;

    if (n > 1 && str[0] == '\0') {
        if (strcmp(str + 1, "NaN") == 0)
            return runlog_writer_add_double(w, key, NAN);
        if (strcmp(str + 1, "Infinity") == 0)
            return runlog_writer_add_double(w, key, INFINITY);
        if (strcmp(str + 1, "-Infinity") == 0)
            return runlog_writer_add_double(w, key, -INFINITY);
    }
    if (strlen(str) == n)
        return runlog_writer_add_string(w, key, str);
    /* A string with NUL inside: pass it as JSON. */
    if (!(text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)))
        return RUNLOG_ENOMEM;
    rc = runlog_writer_add_json(w, key, text);
    free(text);
    return rc;
}

static int add_value(runlog_writer *w, const char *key, json_t *v)
{
    char *text;
    int rc;

    switch (json_typeof(v)) {
    case JSON_INTEGER: return runlog_writer_add_int(w, key, json_integer_value(v));
    case JSON_REAL: return runlog_writer_add_double(w, key, json_real_value(v));
    case JSON_TRUE: return runlog_writer_add_bool(w, key, 1);
    case JSON_FALSE: return runlog_writer_add_bool(w, key, 0);
    case JSON_NULL: return runlog_writer_add_null(w, key);
    case JSON_STRING: return add_string(w, key, v);
    default:
        if (!(text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)))
            return RUNLOG_ENOMEM;
        rc = runlog_writer_add_json(w, key, text);
        free(text);
        return rc;
    }
}

/* {"_alert": {"title": T, "text": X, "level": "INFO"|"WARN"|"ERROR"}} */
static void metrics_alert(run_state *s, json_t *a)
{
    const char *title = json_string_value(json_object_get(a, "title"));
    const char *text = json_string_value(json_object_get(a, "text"));
    const char *level = json_string_value(json_object_get(a, "level"));
    runlog_alert_level lv = RUNLOG_ALERT_INFO;
    int rc;

    if (!title) {
        warn_line(s, "%s", "_alert needs a \"title\" string");
        return;
    }
    if (level && strcmp(level, "WARN") == 0)
        lv = RUNLOG_ALERT_WARN;
    else if (level && strcmp(level, "ERROR") == 0)
        lv = RUNLOG_ALERT_ERROR;
    rc = s->cap ? runlog_capture_alert(s->cap, title, text, lv)
                : runlog_writer_alert(s->w, title, text, lv);
    if (rc < 0)
        warn_line(s, "alert not recorded: %s", runlog_error_detail());
}

/* Adds every member as a value of one row, then commits it ("_step": the
 * row's step; otherwise the next one). */
static void metrics_row(run_state *s, json_t *obj)
{
    const char *key;
    json_t *v, *step = NULL;
    int rc = 0, alert = 0;

    json_object_foreach(obj, key, v) {
        if (strcmp(key, "_step") == 0)
            step = v;
        else if (strcmp(key, "_alert") == 0)
            alert = 1, metrics_alert(s, v);
        else if ((rc = add_value(s->w, key, v)) < 0)
            break;
    }
    if (alert && json_object_size(obj) == 1)
        return; /* an alert alone is no row */
    if (rc == 0 && step && (!json_is_integer(step) || json_integer_value(step) < 0)) {
        warn_line(s, "%s", "_step must be a whole number; row dropped");
        rc = -1;
    } else if (rc == 0) {
        rc = step ? runlog_writer_commit_step(s->w, (uint64_t)json_integer_value(step))
                  : runlog_writer_commit(s->w);
        if (rc < 0)
            warn_line(s, "row dropped: %s", runlog_error_detail());
    } else {
        warn_line(s, "row dropped: %s", runlog_error_detail());
    }
    if (rc < 0)
        (void)!runlog_writer_discard_row(s->w);
    else
        s->rows++;
}

static void metrics_line(run_state *s, const char *line, size_t len)
{
    json_error_t err;
    json_t *obj;
    size_t n;
    char *fixed;

    s->lines++;
    while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    if (len == 0)
        return;
    obj = json_loadb(line, len, JSON_ALLOW_NUL, &err);
    if (!obj && (fixed = replace_nonfinite(line, len, &n)) != NULL) {
        obj = json_loadb(fixed, n, JSON_ALLOW_NUL, &err);
        free(fixed);
    }
    if (!obj || !json_is_object(obj))
        warn_line(s, "not a JSON object (%s); ignored", obj ? "another JSON value" : err.text);
    else
        metrics_row(s, obj);
    json_decref(obj);
}

/* Appends to the unfinished line; -1 when it grows over the limit. */
static int line_append(run_state *s, const char *buf, size_t n)
{
    if (s->line_len + n > s->line_cap) {
        size_t cap = s->line_cap ? s->line_cap : 4096;
        char *p;
        while (cap < s->line_len + n)
            cap *= 2;
        if (cap > MAX_METRICS_LINE || !(p = realloc(s->line, cap)))
            return -1;
        s->line = p;
        s->line_cap = cap;
    }
    memcpy(s->line + s->line_len, buf, n);
    s->line_len += n;
    return 0;
}

/* Splits the bytes into lines; keeps the unfinished last one. Whole lines
 * inside one read are parsed where they lie, without a copy. */
static void metrics_bytes(run_state *s, const char *buf, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(buf, '\n', n);
        size_t part = nl ? (size_t)(nl - buf) : n;

        if (!s->dropping && (!nl || s->line_len) && line_append(s, buf, part) < 0) {
            s->lines++;
            warn_line(s, "%s", "line too long; dropped");
            s->lines--;
            s->dropping = 1;
            s->line_len = 0;
        }
        if (nl) {
            if (s->dropping)
                s->lines++;
            else if (s->line_len)
                metrics_line(s, s->line, s->line_len);
            else
                metrics_line(s, buf, part);
            s->line_len = 0;
            s->dropping = 0;
        }
        buf += nl ? part + 1 : part;
        n -= nl ? part + 1 : part;
    }
}

/* ---- the loop ---- */

/* Reads what one pipe holds now. 1: more may come, 0: empty, -1: EOF. */
static int pump(run_state *s, int i, char *buf)
{
    ssize_t k = read(s->rd[i], buf, CHUNK);

    if (k < 0)
        return errno == EINTR ? 1 : errno == EAGAIN ? 0 : -1;
    if (k == 0)
        return -1;
    if (i == P_METRICS)
        metrics_bytes(s, buf, (size_t)k);
    else
        console_chunk(s, i == P_OUT ? 1 : 2, buf, (size_t)k);
    return 1;
}

static void close_pipe(run_state *s, int i)
{
    if (s->rd[i] >= 0)
        close(s->rd[i]);
    s->rd[i] = -1;
}

/* Copies output until the command has ended, then what the pipes still
 * hold (a descendant that keeps them open does not hold runlog up). */
static int wait_child(run_state *s, pid_t pid, char *buf)
{
    struct pollfd p[N_PIPES];
    int st = 0, i, done = 0;

    while (!done) {
        for (i = 0; i < N_PIPES; i++)
            p[i] = (struct pollfd){s->rd[i], POLLIN, 0};
        if (poll(p, N_PIPES, -1) < 0 && errno != EINTR)
            break;
        for (i = 0; i < P_WAKE; i++)
            if (p[i].fd >= 0 && p[i].revents && pump(s, i, buf) < 0)
                close_pipe(s, i);
        if (p[P_WAKE].revents)
            while (read(s->rd[P_WAKE], buf, CHUNK) > 0)
                ;
        done = waitpid(pid, &st, WNOHANG) == pid;
    }
    for (i = 0; i < P_WAKE; i++) {
        while (s->rd[i] >= 0 && pump(s, i, buf) == 1)
            ;
        close_pipe(s, i);
    }
    if (s->line_len) { /* a last line without its newline */
        metrics_line(s, s->line, s->line_len);
        s->line_len = 0;
    }
    return st;
}

/* Exit code of the run: the command's, or 128 + N when signal N killed it
 * (as shells report it), with the signal in the metadata and an alert. */
static int record_end(run_state *s, const run_opts *o, pid_t pid, int st)
{
    char json[256], title[96], text[512];
    const char *abbrev;
    int sig, rc;

    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    sig = WTERMSIG(st);
    abbrev = sigabbrev_np(sig);
    snprintf(json, sizeof json,
             "{\"exit_signal\":\"SIG%s\",\"exit_signal_number\":%d,\"core_dumped\":%s}",
             abbrev ? abbrev : "UNKNOWN", sig, WCOREDUMP(st) ? "true" : "false");
    if ((rc = runlog_writer_metadata_json(s->w, json)) < 0)
        tool_lib_error(s->path, rc);
    snprintf(title, sizeof title, "Command killed by SIG%s", abbrev ? abbrev : "UNKNOWN");
    snprintf(text, sizeof text, "%s (pid %ld) was killed by signal %d (%s)", o->cmd[0],
             (long)pid, sig, strsignal(sig));
    rc = s->cap ? runlog_capture_alert(s->cap, title, text, RUNLOG_ALERT_ERROR)
                : runlog_writer_alert(s->w, title, text, RUNLOG_ALERT_ERROR);
    if (rc < 0)
        tool_lib_error(s->path, rc);
    return 128 + sig;
}

static void start_capture(run_state *s, const run_opts *o, pid_t pid)
{
    runlog_capture_options co = RUNLOG_CAPTURE_OPTIONS_INIT;
    char *dir = strdup(s->path), *slash;
    int rc;

    if (dir && (slash = strrchr(dir, '/')) != NULL)
        slash[slash == dir] = '\0'; /* "/x" keeps "/" */
    co.pid = (int)pid;
    co.argv = (const char *const *)o->cmd;
    co.no_metadata = o->no_metadata;
    co.interval_ms = o->interval_ms;
    co.alert_command = o->alert_command;
    co.disk_path = dir && strchr(s->path, '/') ? dir : ".";
    if ((rc = runlog_capture_start(&s->cap, s->w, &co)) < 0) {
        /* The command runs on; only metadata and metrics are missing. */
        fprintf(stderr, "runlog run: %s: no metadata or system metrics: %s\n", s->path,
                runlog_error_detail());
        s->cap = NULL;
    }
    free(dir);
}

static int open_writer(run_state *s, const run_opts *o)
{
    runlog_writer_options wo = RUNLOG_WRITER_OPTIONS_INIT;
    int rc;

    wo.project = o->project;
    wo.name = o->name;
    wo.group = o->group;
    wo.job_type = o->job_type;
    wo.notes = o->notes;
    wo.tags = o->tags;
    wo.n_tags = o->n_tags;
    if ((rc = runlog_writer_open(&s->w, s->path, &wo)) < 0)
        return tool_lib_error(s->path, rc);
    return TOOL_OK;
}

/* Ends the run with `code`; returns code, or TOOL_FAIL if the file failed
 * and the command itself succeeded. */
static int finish(run_state *s, int code)
{
    int rc = runlog_capture_stop(s->cap), rc2, rc3;

    if (rc < 0)
        tool_lib_error(s->path, rc);
    rc2 = runlog_writer_finish(s->w, code);
    if (rc2 < 0)
        tool_lib_error(s->path, rc2);
    rc3 = runlog_writer_close(s->w);
    if (rc3 < 0 && rc2 == 0)
        tool_lib_error(s->path, rc3);
    if (code == 0 && (rc < 0 || rc2 < 0 || rc3 < 0 || s->status != TOOL_OK))
        return TOOL_FAIL;
    return code;
}

int cmd_run(int argc, char **argv)
{
    run_state s;
    run_opts o;
    sigset_t old;
    char *auto_path = NULL, *buf;
    int status = parse_run(argc, argv, &o), exec_errno, st, code;
    pid_t pid;

    if (status != TOOL_OK)
        return status;
    memset(&s, 0, sizeof s);
    if (!(buf = malloc(CHUNK)))
        return tool_sys_error("memory");
    s.path = o.out;
    if (!s.path) {
        if (!(s.path = auto_path = default_path()))
            return free(buf), tool_sys_error("memory");
        fprintf(stderr, "runlog run: writing %s\n", s.path);
    }
    ensure_std_fds();
    block_signals(&old);
    if ((status = open_writer(&s, &o)) != TOOL_OK)
        goto out;
    pid = start_child(&o, &s, &old, &exec_errno);
    if (pid < 0) {
        status = tool_sys_error("runlog run");
        runlog_writer_close(s.w);
        goto out;
    }
    child_pid = pid;
    install_handlers();
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (exec_errno) {
        fprintf(stderr, "runlog run: %s: %s\n", o.cmd[0], strerror(exec_errno));
        waitpid(pid, &st, 0);
        code = exec_errno == ENOENT ? 127 : 126; /* as shells say it */
    } else {
        start_capture(&s, &o, pid);
        st = wait_child(&s, pid, buf);
        code = record_end(&s, &o, pid, st);
    }
    child_pid = 0;
    close(wake_fd);
    wake_fd = -1;
    status = finish(&s, code);
    if (s.warnings > MAX_WARNINGS)
        fprintf(stderr, "runlog run: %" PRIu64 " RUNLOG_METRICS_FD lines had problems\n",
                s.warnings);
out:
    for (int i = 0; i < N_PIPES; i++)
        if (s.rd[i] > 0)
            close(s.rd[i]);
    free(s.line);
    free(buf);
    free(auto_path);
    return status;
}
