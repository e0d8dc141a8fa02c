/* Live capture (runlog.h "Live capture"): starting and stopping, the sampler
 * thread, the console thread, and alerts that run a local command.
 * Metadata is in capture_meta.c, the metrics in capture_sampler.c, NVML in
 * capture_nvml.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture_internal.h"
#include "rlu.h"

extern char **environ;

#define DEFAULT_INTERVAL_MS 2000u
#define CONSOLE_CHUNK 65536

struct runlog_capture {
    runlog_writer *w;
    rl_nvml *nvml;
    rl_sampler *sampler;
    char *alert_command;
    uint32_t interval_ms;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;  /* CLOCK_MONOTONIC; signalled at stop */
    int stopping, first_err;
    char first_detail[512]; /* runlog_error_detail() of first_err's thread */
    int sampler_running, console_running;
    pthread_t sampler_thread, console_thread;
    int orig[3];  /* copies of fds 1 and 2 as they were (-1: closed) */
    int tee_off[3]; /* copying to orig[fd] failed: record only */
    int rd[3];    /* read ends of the pipes now behind fds 1 and 2 */
    int wake[2];  /* tells the console thread to drain and end */
    pid_t *shells; /* alert shells not yet reaped */
    size_t n_shells, cap_shells;
};

/* Fds 1 and 2 belong to the whole process: one console capture at a time. */
static atomic_int console_taken;

static void keep_error(runlog_capture *c, int rc)
{
    pthread_mutex_lock(&c->mu);
    if (rc && !c->first_err) {
        c->first_err = rc;
        snprintf(c->first_detail, sizeof c->first_detail, "%s", runlog_error_detail());
    }
    pthread_mutex_unlock(&c->mu);
}

/* Threads of the capture run with every signal blocked, so that the
 * program's handlers run in the program's own threads. */
static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    int rc;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* ---- the sampler thread ---- */

static void add_ms(struct timespec *t, uint32_t ms)
{
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000;
    if (t->tv_nsec >= 1000000000) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000;
    }
}

/* Samples at fixed times (no drift); after a long stall (a suspended
 * machine) it starts counting again from now instead of catching up. */
static void *sampler_main(void *arg)
{
    runlog_capture *c = arg;
    struct timespec next, now;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&c->mu);
    while (!c->stopping) {
        add_ms(&next, c->interval_ms);
        while (!c->stopping && pthread_cond_timedwait(&c->cv, &c->mu, &next) != ETIMEDOUT)
            ;
        if (c->stopping)
            break;
        pthread_mutex_unlock(&c->mu);
        rc = rl_sampler_sample(c->sampler, c->w);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > next.tv_sec + 1 + (time_t)(c->interval_ms / 1000))
            next = now;
        keep_error(c, rc);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* ---- the console thread ---- */


/* Copies what one pipe holds now to the original fd and the run-log.
 * Returns 1 while the pipe may hold more, 0 when empty, -1 at EOF. */
static int copy_once(runlog_capture *c, int fd, char *buf)
{
    ssize_t k = read(c->rd[fd], buf, CONSOLE_CHUNK);

    if (k < 0)
        return errno == EINTR ? 1 : errno == EAGAIN ? 0 : -1;
    if (k == 0)
        return -1;
    if (c->orig[fd] >= 0 && !c->tee_off[fd] && rlu_write_all(c->orig[fd], buf, (size_t)k) < 0) {
        keep_error(c, rl_fail(RUNLOG_EIO, "capture: copying console output to fd %d: %s", fd,
                              strerror(errno)));
        c->tee_off[fd] = 1;
    }
    keep_error(c, runlog_writer_console(c->w, fd == 1 ? RUNLOG_STDOUT : RUNLOG_STDERR, buf,
                                        (size_t)k));
    return 1;
}

static void *console_main(void *arg)
{
    runlog_capture *c = arg;
    struct pollfd p[3] = {{c->rd[1], POLLIN, 0}, {c->rd[2], POLLIN, 0}, {c->wake[0], POLLIN, 0}};
    char *buf = malloc(CONSOLE_CHUNK);
    int i, draining = 0;

    if (!buf) {
        keep_error(c, rl_fail(RUNLOG_ENOMEM, "out of memory"));
        return NULL; /* stop() still restores the fds */
    }
    while (!draining) {
        if (poll(p, 3, -1) < 0 && errno != EINTR)
            break;
        draining = p[2].revents != 0;
        for (i = 0; i < 2; i++)
            if (p[i].fd >= 0 && (p[i].revents || draining)) {
                int r;
                /* While draining, read until empty: fds 1 and 2 no longer
                 * lead here, so what the pipe holds is all there is. */
                while ((r = copy_once(c, i + 1, buf)) == 1 && draining)
                    ;
                if (r < 0)
                    p[i].fd = -1;
            }
    }
    free(buf);
    return NULL;
}

/* Puts a pipe behind fd (1 or 2), keeping a copy of what fd was. */
static int redirect_fd(runlog_capture *c, int fd)
{
    int p[2];

    c->orig[fd] = fcntl(fd, F_DUPFD_CLOEXEC, 3); /* -1 when fd was closed */
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
        return -1;
    /* Only the read end is non-blocking: writers block when the pipe is full,
     * as they would on a terminal. */
    fcntl(p[1], F_SETFL, 0);
    c->rd[fd] = p[0];
    if (dup2(p[1], fd) < 0) {
        close(p[1]);
        return -1;
    }
    close(p[1]);
    return 0;
}

/* Points fd back where it was. The copy in orig[fd] stays open until the
 * console thread has copied the pipe's last bytes to it. */
static void restore_fd(runlog_capture *c, int fd)
{
    if (c->orig[fd] >= 0)
        dup2(c->orig[fd], fd);
    else if (c->rd[fd] >= 0)
        close(fd); /* it was closed before */
}

static void stop_console(runlog_capture *c)
{
    fflush(stdout);
    fflush(stderr);
    restore_fd(c, 1);
    restore_fd(c, 2);
    if (c->console_running) {
        while (write(c->wake[1], "x", 1) < 0 && errno == EINTR)
            ;
        pthread_join(c->console_thread, NULL);
        c->console_running = 0;
    }
    for (int i = 1; i <= 2; i++) {
        if (c->rd[i] >= 0)
            close(c->rd[i]);
        if (c->orig[i] >= 0)
            close(c->orig[i]);
        c->rd[i] = c->orig[i] = -1;
    }
    if (c->wake[0] >= 0) {
        close(c->wake[0]);
        close(c->wake[1]);
        c->wake[0] = c->wake[1] = -1;
    }
    atomic_store(&console_taken, 0);
}

static int start_console(runlog_capture *c)
{
    int expected = 0;

    if (!atomic_compare_exchange_strong(&console_taken, &expected, 1))
        return rl_fail(RUNLOG_ESTATE, "capture: another capture holds the console");
    fflush(stdout);
    fflush(stderr);
    if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        c->wake[0] = c->wake[1] = -1;
        stop_console(c);
        return rl_fail(RUNLOG_EIO, "capture: pipe: %s", strerror(errno));
    }
    if (redirect_fd(c, 1) < 0 || redirect_fd(c, 2) < 0 ||
        start_thread(&c->console_thread, console_main, c) != 0) {
        int e = errno;
        stop_console(c);
        return rl_fail(RUNLOG_EIO, "capture: redirecting stdout and stderr: %s", strerror(e));
    }
    c->console_running = 1;
    return 0;
}

/* ---- alerts ---- */

/* Reaps the alert shells that have ended (blocking: wait for all). */
static void reap_shells(runlog_capture *c, int blocking)
{
    size_t i = 0;

    pthread_mutex_lock(&c->mu);
    while (i < c->n_shells) {
        pid_t r = waitpid(c->shells[i], NULL, blocking ? 0 : WNOHANG);
        if (r == 0 || (r < 0 && errno == EINTR)) {
            i += r == 0;
            continue;
        }
        c->shells[i] = c->shells[--c->n_shells]; /* reaped, or not ours (ECHILD) */
    }
    pthread_mutex_unlock(&c->mu);
}

static char *env_entry(const char *name, const char *value)
{
    char *s = malloc(strlen(name) + strlen(value) + 2);
    if (s)
        sprintf(s, "%s=%s", name, value);
    return s;
}

/* /bin/sh -c 'CMD' started by a shell that exits at once: the command runs
 * on its own (reparented to init) and the caller never waits for it. */
static int spawn_alert(runlog_capture *c, const char *title, const char *text, const char *level)
{
    char *argv[] = {"/bin/sh", "-c", "/bin/sh -c \"$1\" </dev/null &", "sh", c->alert_command, NULL};
    size_t n = 0, i;
    char **envp;
    posix_spawnattr_t at;
    pid_t pid;
    int rc = -1;

    while (environ && environ[n])
        n++;
    if (!(envp = calloc(n + 4, sizeof *envp)))
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    for (i = 0; i < n; i++)
        envp[i] = environ[i];
    envp[n] = env_entry("RUNLOG_ALERT_TITLE", title);
    envp[n + 1] = env_entry("RUNLOG_ALERT_TEXT", text ? text : "");
    envp[n + 2] = env_entry("RUNLOG_ALERT_LEVEL", level);
    if (envp[n] && envp[n + 1] && envp[n + 2]) {
        rl_spawn_attr(&at);
        rc = posix_spawn(&pid, "/bin/sh", NULL, &at, argv, envp);
        posix_spawnattr_destroy(&at);
    }
    for (i = n; i < n + 3; i++)
        free(envp[i]);
    free(envp);
    if (rc != 0)
        return rl_fail(rc < 0 ? RUNLOG_ENOMEM : RUNLOG_EIO, "capture: alert command: %s",
                       rc < 0 ? "out of memory" : strerror(rc));
    pthread_mutex_lock(&c->mu);
    if (c->n_shells == c->cap_shells) {
        size_t cap = c->cap_shells ? 2 * c->cap_shells : 8;
        pid_t *p = realloc(c->shells, cap * sizeof *p);
        if (p) {
            c->shells = p;
            c->cap_shells = cap;
        }
    }
    if (c->n_shells < c->cap_shells)
        c->shells[c->n_shells++] = pid;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

int runlog_capture_alert(runlog_capture *c, const char *title, const char *text,
                         runlog_alert_level level)
{
    int rc, rc2 = 0;

    if (!c)
        return rl_fail(RUNLOG_EINVAL, "capture is NULL");
    rc = runlog_writer_alert(c->w, title, text, level);
    if (rc == RUNLOG_EINVAL)
        return rc; /* bad arguments: nothing to tell anyone */
    reap_shells(c, 0);
    if (c->alert_command)
        rc2 = spawn_alert(c, title, text, runlog_alert_level_name(level));
    return rc ? rc : rc2;
}

/* ---- start and stop ---- */

static int capture_new(runlog_capture **out, runlog_writer *w, const runlog_capture_options *o)
{
    runlog_capture *c = calloc(1, sizeof *c);
    pthread_condattr_t ca;

    if (!c)
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    c->w = w;
    c->orig[1] = c->orig[2] = c->rd[1] = c->rd[2] = c->wake[0] = c->wake[1] = -1;
    c->interval_ms = o->interval_ms ? o->interval_ms : DEFAULT_INTERVAL_MS;
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (o->alert_command && !(c->alert_command = strdup(o->alert_command))) {
        runlog_capture_stop(c);
        return rl_fail(RUNLOG_ENOMEM, "out of memory");
    }
    *out = c;
    return 0;
}

static int start_sampler(runlog_capture *c, int pid, const char *disk_path)
{
    int rc = rl_sampler_new(&c->sampler, pid, disk_path, c->nvml);

    if (rc)
        return rc;
    if (start_thread(&c->sampler_thread, sampler_main, c) != 0)
        return rl_fail(RUNLOG_EIO, "capture: cannot start the sampler thread");
    c->sampler_running = 1;
    return 0;
}

int runlog_capture_start(runlog_capture **out, runlog_writer *w, const runlog_capture_options *opts)
{
    runlog_capture_options dflt = RUNLOG_CAPTURE_OPTIONS_INIT;
    const runlog_capture_options *o = opts ? opts : &dflt;
    int sampling = o->interval_ms != RUNLOG_CAPTURE_NO_SAMPLER;
    int pid = o->pid > 0 ? o->pid : (int)getpid();
    runlog_capture *c = NULL;
    int rc;

    if (!out || !w || o->version != RUNLOG_CAPTURE_OPTIONS_VERSION || o->pid < 0)
        return rl_fail(RUNLOG_EINVAL, "capture: NULL argument or bad options");
    if ((rc = capture_new(&c, w, o)))
        return rc;
    if (!o->no_metadata || sampling)
        c->nvml = rl_nvml_open(o->nvml_library);
    if ((!o->no_metadata && (rc = rl_capture_metadata(w, o, pid, c->nvml))) ||
        (sampling && (rc = start_sampler(c, pid, o->disk_path))) ||
        (o->console && (rc = start_console(c)))) {
        char detail[512];
        snprintf(detail, sizeof detail, "%s", runlog_error_detail());
        runlog_capture_stop(c);
        return rl_fail(rc, "%s", detail); /* stop() may have replaced it */
    }
    *out = c;
    return 0;
}

void runlog_capture_abandon(runlog_capture *c)
{
    /* The child's copy: no thread, no mutex taken (a parent thread may have
     * held it at the fork). Only descriptors change; see runlog.h. */
    if (!c)
        return;
    for (int i = 1; i <= 2; i++) {
        if (c->rd[i] >= 0) {
            restore_fd(c, i);
            close(c->rd[i]);
        }
        if (c->orig[i] >= 0)
            close(c->orig[i]);
        c->rd[i] = c->orig[i] = -1;
    }
    if (c->wake[0] >= 0) {
        close(c->wake[0]);
        close(c->wake[1]);
        c->wake[0] = c->wake[1] = -1;
    }
    if (c->console_running)
        atomic_store(&console_taken, 0);
}

int runlog_capture_stop(runlog_capture *c)
{
    int rc;

    if (!c)
        return 0;
    pthread_mutex_lock(&c->mu);
    c->stopping = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (c->sampler_running)
        pthread_join(c->sampler_thread, NULL);
    if (c->wake[0] >= 0 || c->rd[1] >= 0 || c->rd[2] >= 0)
        stop_console(c);
    reap_shells(c, 1);
    rc = c->first_err;
    if (rc)
        rl_fail(rc, "%s", c->first_detail);
    rl_sampler_free(c->sampler);
    rl_nvml_close(c->nvml);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c->shells);
    free(c->alert_command);
    free(c);
    return rc;
}
