/* The guard process: see guard.h. It is the worker's child, so the worker's
 * death (by any signal, SIGKILL included) closes the only write end of the
 * pipe and the guard reads EOF. That is more reliable than PR_SET_PDEATHSIG
 * on each job, which only reaches the shell and not what the shell started. */
#include "guard.h"
#include "queuectl/clock.h"
#include "queuectl/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Far more than QC_MAX_SLOTS jobs can ever be registered at once. */
#define QC_GUARD_MAX_GROUPS 4096

/* Held-back removals: a few "-pgid" lines, always well under PIPE_BUF. */
#define S_HELD_MAX 256

struct _qc_guard_t {
    pid_t pid; /* 0 once reaped */
    int fd;    /* write end of the pipe, O_CLOEXEC | O_NONBLOCK */
    char held[S_HELD_MAX];
    size_t held_len;
    int64_t held_since_ms; /* when the oldest held removal was made */
};

static pid_t s_groups[QC_GUARD_MAX_GROUPS];
static int s_group_count;

static void s_group_add(pid_t pgid)
{
    for (int i = 0; i < s_group_count; i++)
        if (s_groups[i] == pgid)
            return;
    if (s_group_count < QC_GUARD_MAX_GROUPS)
        s_groups[s_group_count++] = pgid;
}

static void s_group_remove(pid_t pgid)
{
    for (int i = 0; i < s_group_count; i++) {
        if (s_groups[i] == pgid) {
            s_groups[i] = s_groups[--s_group_count];
            return;
        }
    }
}

static void s_handle_line(const char *line)
{
    char *end;
    long pgid = strtol(line + 1, &end, 10);
    if (*end != '\0' || pgid <= 1) /* never kill(-1) or our own group by accident */
        return;
    if (line[0] == '+')
        s_group_add((pid_t)pgid);
    else if (line[0] == '-')
        s_group_remove((pid_t)pgid);
}

/* Leaves only the pipe (as fd 3) and stderr (for one log line) open, so the
 * guard holds no socket, pipe or file of the worker's. */
static void s_isolate_fds(int rfd, int wfd)
{
    close(wfd);
    if (rfd != 3) {
        dup2(rfd, 3);
        if (rfd < 3)
            close(rfd);
    }
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
        if (fcntl(STDERR_FILENO, F_GETFD) < 0)
            dup2(devnull, STDERR_FILENO);
    }
    if (close_range(4, ~0U, 0) != 0) {
        long max = sysconf(_SC_OPEN_MAX);
        for (long fd = 4; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
            close((int)fd);
    }
}

static void __attribute__((noreturn)) s_guard_main(int rfd, int wfd)
{
    /* Ctrl-C, a hangup or a plain kill of the whole process group must not
     * take the guard down before the worker: EOF is its only signal. */
    struct sigaction ignore = {.sa_handler = SIG_IGN};
    int ignored[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        sigaction(ignored[i], &ignore, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_NAME, "qc-guard", 0, 0, 0);
    s_isolate_fds(rfd, wfd);

    char buf[512];
    size_t used = 0;
    for (;;) {
        ssize_t n = read(3, buf + used, sizeof buf - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
        buf[used] = '\0';
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
            *nl = '\0';
            s_handle_line(line);
            line = nl + 1;
        }
        used -= (size_t)(line - buf);
        memmove(buf, line, used);
        if (used == sizeof buf - 1) /* a line this long is garbage: drop it */
            used = 0;
    }
    int killed = 0;
    for (int i = 0; i < s_group_count; i++)
        if (kill(-s_groups[i], SIGKILL) == 0)
            killed++;
    if (killed > 0)
        qc_warn("guard: worker is gone, killed %d leftover job process group(s)", killed);
    /* _exit: no atexit handlers (or leak checks) on the copy of the worker's heap. */
    _exit(0);
}

qc_guard_t *qc_guard_new(void)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        qc_error("guard: pipe: %s", strerror(errno));
        return NULL;
    }
    qc_guard_t *self = calloc(1, sizeof *self);
    if (!self) {
        close(fds[0]);
        close(fds[1]);
        return NULL;
    }
    pid_t pid = fork();
    if (pid < 0) {
        qc_error("guard: fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        free(self);
        return NULL;
    }
    if (pid == 0)
        s_guard_main(fds[0], fds[1]);
    close(fds[0]);
    /* Never block the worker on a stuck guard; a lost line is logged. */
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    self->pid = pid;
    self->fd = fds[1];
    qc_debug("guard process %d started", (int)pid);
    return self;
}

void qc_guard_destroy(qc_guard_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qc_guard_t *self = *self_p;
    close(self->fd);
    while (self->pid > 0 && waitpid(self->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    free(self);
    *self_p = NULL;
}

/* Writes the held removals and then line (may be empty) in one write. */
static int s_tell(qc_guard_t *self, const char *line, size_t len)
{
    if (!self || self->pid == 0)
        return -1;
    char out[S_HELD_MAX + 32];
    memcpy(out, self->held, self->held_len);
    memcpy(out + self->held_len, line, len);
    len += self->held_len;
    if (len == 0)
        return 0;
    /* Shorter than PIPE_BUF, so the write is atomic: all or nothing. */
    ssize_t n;
    do
        n = write(self->fd, out, len);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)len) {
        qc_warn("guard: cannot update its process groups: %s",
                n < 0 ? strerror(errno) : "short write");
        return -1;
    }
    self->held_len = 0;
    return 0;
}

int qc_guard_add(qc_guard_t *self, pid_t pgid)
{
    char line[32];
    int len = snprintf(line, sizeof line, "+%d\n", (int)pgid);
    return s_tell(self, line, (size_t)len);
}

int qc_guard_remove(qc_guard_t *self, pid_t pgid)
{
    if (!self || self->pid == 0)
        return -1;
    char line[32];
    int len = snprintf(line, sizeof line, "-%d\n", (int)pgid);
    if (self->held_len + (size_t)len > sizeof self->held && s_tell(self, "", 0) != 0)
        return -1;
    if (self->held_len == 0)
        self->held_since_ms = qc_clock_mono_ms();
    memcpy(self->held + self->held_len, line, (size_t)len);
    self->held_len += (size_t)len;
    return 0;
}

void qc_guard_tick(qc_guard_t *self)
{
    if (self && self->held_len > 0 && qc_clock_mono_ms() - self->held_since_ms >= 1000)
        s_tell(self, "", 0);
}

int qc_guard_alive(qc_guard_t *self)
{
    if (!self || self->pid == 0)
        return 0;
    int status;
    if (waitpid(self->pid, &status, WNOHANG) == self->pid) {
        qc_error("guard process %d died (%s %d): job processes are no longer cleaned up if "
                 "the worker is killed",
                 (int)self->pid, WIFSIGNALED(status) ? "signal" : "exit code",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        self->pid = 0;
        return 0;
    }
    return 1;
}

pid_t qc_guard_pid(qc_guard_t *self)
{
    return self ? self->pid : 0;
}
