/* The process runner: see runner.h.
 *
 * Each job is /bin/sh -c COMMAND in a fresh process group whose id is the
 * shell's pid, so one kill(-pgid) reaches everything the job started (unless
 * it left the group on purpose). The end of a job is the end of its shell:
 * what is left of the group is SIGKILLed then, and the pipes are read without
 * blocking and closed, because a grandchild holding them open must not keep
 * the slot busy. */
#include "runner.h"
#include "queuectl/clock.h"
#include "queuectl/job.h"
#include "queuectl/log.h"
#include "queuectl/parse.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Per wake-up, read at most this much from one pipe so a chatty job cannot
 * starve the rest of the loop; the next poll comes back at once. */
#define QC_READ_BURST (4 * QC_OUTPUT_TAIL_BYTES)
/* After the shell ended, read at most this much more from a pipe: someone
 * outside the group may still be writing into it. */
#define QC_DRAIN_LIMIT (16 * QC_OUTPUT_TAIL_BYTES)

/* The last QC_OUTPUT_TAIL_BYTES of one output stream. */
typedef struct {
    char *buf;         /* QC_OUTPUT_TAIL_BYTES, inside the runner's buffer block */
    size_t head;       /* where the next byte goes */
    uint64_t total;    /* bytes ever written; the ring holds the last ones */
    uint64_t streamed; /* total at the last output flush */
    int fd;            /* read end of the pipe, -1 once closed */
} s_ring_t;

typedef enum {
    S_REASON_NONE = 0, /* the job ended on its own */
    S_REASON_TIMEOUT,
    S_REASON_CANCEL,
    S_REASON_SHUTDOWN
} s_reason_t;

typedef struct {
    int busy;
    pid_t pid; /* of the shell; also the process group id */
    char id[QC_MAX_ID_BYTES + 1];
    int attempt;
    int timeout_s;
    int64_t started_at_ms;   /* wall */
    int64_t started_mono_ms; /* for the duration */
    int64_t deadline_ms;     /* mono: timeout, then end of grace; -1 if none */
    s_reason_t reason;
    int term_sent;
    int kill_sent;
    int64_t flushed_mono_ms; /* last output flush */
    s_ring_t out;
    s_ring_t err;
} s_slot_t;

struct _qc_runner_t {
    s_slot_t *slots;
    int slot_count;
    int busy;
    char *buffers; /* 2 rings per slot, allocated once */
    qc_guard_t *guard;
    int devnull; /* every job's stdin; O_CLOEXEC */
    /* Finished results not taken yet, oldest first. */
    qc_result_t *done;
    size_t done_count;
    size_t done_cap;
    qc_runner_output_fn *output_fn; /* live output, NULL for none */
    void *output_arg;
};

static void s_ring_reset(s_ring_t *ring, int fd)
{
    ring->head = 0;
    ring->total = 0;
    ring->streamed = 0;
    ring->fd = fd;
}

static void s_ring_close(s_ring_t *ring)
{
    if (ring->fd >= 0)
        close(ring->fd);
    ring->fd = -1;
}

/* Reads up to limit bytes from the pipe into the ring; closes it on EOF or
 * error. Stops early when the pipe is empty. */
static void s_ring_read(s_ring_t *ring, size_t limit)
{
    size_t got = 0;
    while (ring->fd >= 0 && got < limit) {
        ssize_t n = read(ring->fd, ring->buf + ring->head, QC_OUTPUT_TAIL_BYTES - ring->head);
        if (n > 0) {
            ring->head = (ring->head + (size_t)n) % QC_OUTPUT_TAIL_BYTES;
            ring->total += (uint64_t)n;
            got += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            return;
        } else {
            s_ring_close(ring); /* EOF, or an error that will not go away */
        }
    }
}

/* The ring's content as a NUL-terminated, valid UTF-8 string. Caller owns
 * the result; NULL if out of memory. */
static char *s_ring_tail(const s_ring_t *ring)
{
    size_t len = ring->total < QC_OUTPUT_TAIL_BYTES ? (size_t)ring->total : QC_OUTPUT_TAIL_BYTES;
    char *tail = malloc(len + 1);
    if (!tail)
        return NULL;
    if (ring->total <= QC_OUTPUT_TAIL_BYTES) {
        memcpy(tail, ring->buf, len);
    } else { /* wrapped: the oldest byte is at head */
        size_t first = QC_OUTPUT_TAIL_BYTES - ring->head;
        memcpy(tail, ring->buf + ring->head, first);
        memcpy(tail + first, ring->buf, ring->head);
    }
    qc_utf8_sanitize(tail, len); /* also turns NUL bytes into '?' */
    tail[len] = '\0';
    return tail;
}

qc_runner_t *qc_runner_new(int slots, qc_guard_t *guard)
{
    assert(slots >= 1 && slots <= QC_MAX_SLOTS);
    qc_runner_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->slot_count = slots;
    self->guard = guard;
    self->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    self->slots = calloc((size_t)slots, sizeof *self->slots);
    /* One block; pages a slot never uses are never touched. */
    self->buffers = malloc((size_t)slots * 2 * QC_OUTPUT_TAIL_BYTES);
    self->done_cap = (size_t)slots * 2 + 4;
    self->done = calloc(self->done_cap, sizeof *self->done);
    if (self->devnull < 0 || !self->slots || !self->buffers || !self->done) {
        qc_error("runner: cannot allocate %d slots: %s", slots, strerror(errno));
        qc_runner_destroy(&self);
        return NULL;
    }
    for (int i = 0; i < slots; i++) {
        self->slots[i].out.buf = self->buffers + (size_t)(2 * i) * QC_OUTPUT_TAIL_BYTES;
        self->slots[i].err.buf = self->buffers + (size_t)(2 * i + 1) * QC_OUTPUT_TAIL_BYTES;
        self->slots[i].out.fd = -1;
        self->slots[i].err.fd = -1;
    }
    return self;
}

void qc_runner_destroy(qc_runner_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qc_runner_t *self = *self_p;
    for (int i = 0; self->slots && i < self->slot_count; i++) {
        s_slot_t *slot = &self->slots[i];
        if (!slot->busy)
            continue;
        qc_warn("job %s attempt %d still running at exit: killed", slot->id, slot->attempt);
        kill(-slot->pid, SIGKILL);
        qc_guard_remove(self->guard, slot->pid);
        while (waitpid(slot->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        s_ring_close(&slot->out);
        s_ring_close(&slot->err);
    }
    for (size_t i = 0; i < self->done_count; i++)
        qc_result_clear(&self->done[i]);
    free(self->done);
    free(self->buffers);
    free(self->slots);
    if (self->devnull >= 0)
        close(self->devnull);
    free(self);
    *self_p = NULL;
}

/* Takes the result's contents (its tails) and queues it. */
static void s_push_result(qc_runner_t *self, qc_result_t *result)
{
    if (self->done_count == self->done_cap) {
        size_t cap = self->done_cap * 2;
        qc_result_t *done = realloc(self->done, cap * sizeof *done);
        if (!done) {
            qc_error("job %s attempt %d: out of memory, result lost", result->id, result->attempt);
            qc_result_clear(result);
            return;
        }
        self->done = done;
        self->done_cap = cap;
    }
    self->done[self->done_count++] = *result;
    qc_result_init(result);
}

static void s_not_run(qc_runner_t *self, const char *id, int attempt, qc_outcome_t outcome,
                      const char *error)
{
    qc_result_t result;
    qc_result_init(&result);
    snprintf(result.id, sizeof result.id, "%s", id);
    result.attempt = attempt;
    result.outcome = outcome;
    result.finished_at_ms = qc_clock_wall_ms();
    result.started_at_ms = outcome == QC_OUTCOME_NOT_STARTED ? 0 : result.finished_at_ms;
    snprintf(result.error, sizeof result.error, "%s", error);
    qc_warn("job %s attempt %d not started: %s", id, attempt, error);
    s_push_result(self, &result);
}

void qc_runner_reject(qc_runner_t *self, const char *id, int attempt, const char *error)
{
    s_not_run(self, id, attempt, QC_OUTCOME_SPAWN_FAILED, error);
}

void qc_runner_refuse(qc_runner_t *self, const char *id, int attempt, const char *error)
{
    s_not_run(self, id, attempt, QC_OUTCOME_NOT_STARTED, error);
}

/* Starts the job into slot with posix_spawn (a vfork-style clone in glibc:
 * no copy of the worker's address space, which fork() paid ~200 us a job for).
 * The child gets its own process group, default signal dispositions and an
 * empty mask, /dev/null as stdin, the pipes as stdout/stderr, and nothing
 * else of the worker's. PR_SET_PDEATHSIG is not available this way; the guard
 * process (guard.c) is what kills a dead worker's jobs. Returns 0, or -1 with
 * the reason in err (nothing is left running then). */
/* The variables queuectl sets itself: always the job's, never inherited. */
static const char *s_own_vars[] = {
    "QUEUECTL_JOB_ID=", "QUEUECTL_ATTEMPT=", "QUEUECTL_QUEUE=", "QUEUECTL_WORKER_ID="};
#define S_OWN_VARS 4

/* Whether "NAME=value" entry's name is set by the job (env) or by us. */
static int s_overridden(const char *entry, const cJSON *env)
{
    for (int i = 0; i < S_OWN_VARS; i++)
        if (strncmp(entry, s_own_vars[i], strlen(s_own_vars[i])) == 0)
            return 1;
    const char *eq = strchr(entry, '=');
    size_t len = eq ? (size_t)(eq - entry) : strlen(entry);
    for (const cJSON *var = env ? env->child : NULL; var; var = var->next)
        if (var->string && strlen(var->string) == len && strncmp(entry, var->string, len) == 0)
            return 1;
    return 0;
}

static void s_envp_free(char **envp)
{
    for (char **p = envp; p && *p; p++)
        free(*p);
    free(envp);
}

/* The job's environment: the worker's, less what the job or queuectl sets,
 * then the job's env, then queuectl's own. Caller frees with s_envp_free;
 * NULL if out of memory. */
static char **s_envp_build(const qc_runner_job_t *job)
{
    size_t count = 0;
    for (char **p = environ; *p; p++)
        count++;
    int env_count = job->env ? cJSON_GetArraySize(job->env) : 0;
    char **envp = calloc(count + (size_t)env_count + S_OWN_VARS + 1, sizeof *envp);
    if (!envp)
        return NULL;
    size_t n = 0;
    for (char **p = environ; *p; p++)
        if (!s_overridden(*p, job->env) && !(envp[n++] = strdup(*p)))
            goto oom;
    for (const cJSON *var = job->env ? job->env->child : NULL; var; var = var->next) {
        if (!var->string || !cJSON_IsString(var))
            continue;
        if (asprintf(&envp[n], "%s=%s", var->string, var->valuestring) < 0) {
            envp[n] = NULL;
            goto oom;
        }
        n++;
    }
    const char *values[S_OWN_VARS];
    char attempt[16];
    snprintf(attempt, sizeof attempt, "%d", job->attempt);
    values[0] = job->id;
    values[1] = attempt;
    values[2] = job->queue ? job->queue : "default";
    values[3] = job->worker_id ? job->worker_id : "";
    for (int i = 0; i < S_OWN_VARS; i++) {
        if (asprintf(&envp[n], "%s%s", s_own_vars[i], values[i]) < 0) {
            envp[n] = NULL;
            goto oom;
        }
        n++;
    }
    return envp;
oom:
    s_envp_free(envp);
    return NULL;
}

static int s_spawn(qc_runner_t *self, s_slot_t *slot, const qc_runner_job_t *job, char *err,
                   size_t errlen)
{
    const char *command = job->command;
    char **envp = NULL;
    int out[2] = {-1, -1}, errp[2] = {-1, -1};
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    int have_actions = 0, have_attr = 0, rc;
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot create pipes: %s", strerror(errno));
        goto fail;
    }
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    if ((rc = posix_spawn_file_actions_init(&actions)) != 0)
        goto spawn_error;
    have_actions = 1;
    if ((rc = posix_spawnattr_init(&attr)) != 0)
        goto spawn_error;
    have_attr = 1;
    /* dup2 onto 0-2 clears O_CLOEXEC there; everything else is closed. */
    if ((rc = posix_spawn_file_actions_adddup2(&actions, self->devnull, STDIN_FILENO)) != 0 ||
        (rc = posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO)) != 0 ||
        (rc = posix_spawn_file_actions_adddup2(&actions, errp[1], STDERR_FILENO)) != 0 ||
        (rc = posix_spawn_file_actions_addclosefrom_np(&actions, 3)) != 0 ||
        (rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                  POSIX_SPAWN_SETSIGDEF)) != 0 ||
        (rc = posix_spawnattr_setpgroup(&attr, 0)) != 0 ||
        (rc = posix_spawnattr_setsigmask(&attr, &none)) != 0 ||
        (rc = posix_spawnattr_setsigdefault(&attr, &all)) != 0 ||
        (job->cwd && (rc = posix_spawn_file_actions_addchdir_np(&actions, job->cwd)) != 0))
        goto spawn_error;
    if (!(envp = s_envp_build(job))) {
        rc = ENOMEM;
        goto spawn_error;
    }
    char *argv[] = {"sh", "-c", (char *)command, NULL};
    pid_t pid;
    /* glibc reports a failed chdir or exec as the return value, so no status pipe. */
    if ((rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp)) != 0) {
        if (job->cwd)
            snprintf(err, errlen, "cannot run /bin/sh in working directory %s: %s", job->cwd,
                     strerror(rc));
        else
            snprintf(err, errlen, "cannot run /bin/sh: %s", strerror(rc));
        goto fail;
    }
    s_envp_free(envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(out[1]);
    close(errp[1]);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(errp[0], F_SETFL, O_NONBLOCK);
    slot->pid = pid;
    s_ring_reset(&slot->out, out[0]);
    s_ring_reset(&slot->err, errp[0]);
    return 0;
spawn_error:
    snprintf(err, errlen, "cannot set up the job's process: %s", strerror(rc));
fail:
    s_envp_free(envp);
    if (have_actions)
        posix_spawn_file_actions_destroy(&actions);
    if (have_attr)
        posix_spawnattr_destroy(&attr);
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close(out[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    return -1;
}

int qc_runner_start(qc_runner_t *self, const qc_runner_job_t *job)
{
    assert(self && job && job->id && job->command);
    const char *id = job->id;
    int attempt = job->attempt;
    int timeout_s = job->timeout_s;
    s_slot_t *slot = NULL;
    for (int i = 0; i < self->slot_count && !slot; i++)
        if (!self->slots[i].busy)
            slot = &self->slots[i];
    if (!slot) {
        qc_runner_refuse(self, id, attempt, "no free slot");
        return -1;
    }
    char err[QC_MAX_CWD_BYTES + 200];
    struct stat st = {0};
    errno = 0;
    /* Said plainly rather than as a failed exec of /bin/sh. */
    if (job->cwd && (stat(job->cwd, &st) != 0 || !S_ISDIR(st.st_mode))) {
        int missing = errno == ENOENT || errno == ENOTDIR;
        snprintf(err, sizeof err, "working directory %.*s %s", qc_utf8_prefix(job->cwd, 160),
                 job->cwd,
                 S_ISDIR(st.st_mode) || missing ? "does not exist"
                 : errno == EACCES              ? "is not accessible"
                                                : "is not a directory");
        qc_runner_reject(self, id, attempt, err);
        return -1;
    }
    int64_t started_at_ms = qc_clock_wall_ms();
    if (s_spawn(self, slot, job, err, sizeof err) != 0) {
        qc_runner_reject(self, id, attempt, err);
        return -1;
    }
    slot->busy = 1;
    self->busy++;
    snprintf(slot->id, sizeof slot->id, "%s", id);
    slot->attempt = attempt;
    slot->timeout_s = timeout_s;
    slot->started_at_ms = started_at_ms;
    slot->started_mono_ms = qc_clock_mono_ms();
    slot->flushed_mono_ms = slot->started_mono_ms;
    slot->deadline_ms = timeout_s > 0 ? slot->started_mono_ms + (int64_t)timeout_s * 1000 : -1;
    slot->reason = S_REASON_NONE;
    slot->term_sent = 0;
    slot->kill_sent = 0;
    qc_guard_add(self->guard, slot->pid);
    qc_info("job %s attempt %d started (pid %d, timeout %ds)", id, attempt, (int)slot->pid,
            timeout_s);
    return 0;
}

static void s_describe_end(qc_result_t *r, const s_slot_t *slot, int status)
{
    switch (slot->reason) {
    case S_REASON_TIMEOUT:
        r->outcome = QC_OUTCOME_TIMED_OUT;
        snprintf(r->error, sizeof r->error, "timed out after %ds", slot->timeout_s);
        return;
    case S_REASON_CANCEL:
        r->outcome = QC_OUTCOME_CANCELED;
        snprintf(r->error, sizeof r->error, "canceled by the broker");
        return;
    case S_REASON_SHUTDOWN:
        r->outcome = QC_OUTCOME_KILLED;
        snprintf(r->error, sizeof r->error, "worker shut down");
        return;
    case S_REASON_NONE:
        break;
    }
    if (WIFEXITED(status) && r->exit_code == 0) {
        r->outcome = QC_OUTCOME_SUCCEEDED;
        return;
    }
    r->outcome = QC_OUTCOME_FAILED;
    if (WIFEXITED(status)) {
        const char *why = r->exit_code == 127   ? " (command not found)"
                          : r->exit_code == 126 ? " (command not executable)"
                                                : "";
        snprintf(r->error, sizeof r->error, "exit code %d%s", r->exit_code, why);
    } else {
        const char *name = sigabbrev_np(r->signal);
        snprintf(r->error, sizeof r->error, "killed by signal %d (SIG%s)", r->signal,
                 name ? name : "?");
    }
}

/* Hands the bytes written since the last flush (at most the ring) to the
 * output callback. */
static void s_flush_ring(qc_runner_t *self, s_slot_t *slot, s_ring_t *ring, const char *stream)
{
    uint64_t fresh = ring->total - ring->streamed;
    if (!self->output_fn || fresh == 0)
        return;
    size_t len = fresh < QC_OUTPUT_TAIL_BYTES ? (size_t)fresh : QC_OUTPUT_TAIL_BYTES;
    char *chunk = malloc(len + 1);
    if (!chunk)
        return;
    size_t start = (ring->head + QC_OUTPUT_TAIL_BYTES - len) % QC_OUTPUT_TAIL_BYTES;
    size_t first = QC_OUTPUT_TAIL_BYTES - start < len ? QC_OUTPUT_TAIL_BYTES - start : len;
    memcpy(chunk, ring->buf + start, first);
    memcpy(chunk + first, ring->buf, len - first);
    chunk[len] = '\0';
    qc_utf8_sanitize(chunk, len);
    ring->streamed = ring->total;
    self->output_fn(self->output_arg, slot->id, slot->attempt, stream, chunk);
    free(chunk);
}

static void s_flush_slot(qc_runner_t *self, s_slot_t *slot)
{
    s_flush_ring(self, slot, &slot->out, "stdout");
    s_flush_ring(self, slot, &slot->err, "stderr");
    slot->flushed_mono_ms = qc_clock_mono_ms();
}

void qc_runner_set_output(qc_runner_t *self, qc_runner_output_fn *fn, void *arg)
{
    self->output_fn = fn;
    self->output_arg = arg;
}

void qc_runner_flush_output(qc_runner_t *self, int64_t now_ms)
{
    for (int i = 0; self->output_fn && i < self->slot_count; i++) {
        s_slot_t *slot = &self->slots[i];
        if (slot->busy && now_ms - slot->flushed_mono_ms >= QC_RUNNER_OUTPUT_MS)
            s_flush_slot(self, slot);
    }
}

/* The shell has exited but is not reaped yet: its zombie pins the pid, so
 * the group id cannot have been reused when we signal it. lost: someone
 * else reaped it, so its status is unknown. */
static void s_finish(qc_runner_t *self, s_slot_t *slot, int lost)
{
    kill(-slot->pid, SIGKILL);
    qc_guard_remove(self->guard, slot->pid);
    int status = W_EXITCODE(0, SIGKILL);
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (!lost && wait4(slot->pid, &status, 0, &ru) < 0 && errno == EINTR)
        ;
    s_ring_read(&slot->out, QC_DRAIN_LIMIT);
    s_ring_read(&slot->err, QC_DRAIN_LIMIT);
    s_ring_close(&slot->out);
    s_ring_close(&slot->err);
    s_flush_slot(self, slot); /* followers get the last words before the result */

    qc_result_t r;
    qc_result_init(&r);
    snprintf(r.id, sizeof r.id, "%s", slot->id);
    r.attempt = slot->attempt;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    r.started_at_ms = slot->started_at_ms;
    r.finished_at_ms = qc_clock_wall_ms();
    r.cpu_ms = (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
               (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
    r.max_rss_kb = ru.ru_maxrss; /* kilobytes on Linux */
    s_describe_end(&r, slot, status);
    if (lost && slot->reason == S_REASON_NONE)
        snprintf(r.error, sizeof r.error, "exit status lost (reaped elsewhere)");
    r.stdout_tail = s_ring_tail(&slot->out);
    r.stderr_tail = s_ring_tail(&slot->err);

    int64_t ms = qc_clock_mono_ms() - slot->started_mono_ms;
    char plain[32]; /* the error, unless it only repeats the exit code */
    snprintf(plain, sizeof plain, "exit code %d", r.exit_code);
    int say_error = r.error[0] && strcmp(r.error, plain) != 0;
    qc_info("job %s attempt %d ended: %s, exit code %d, %lld.%03llds%s%s", r.id, r.attempt,
            qc_outcome_name(r.outcome), r.exit_code, (long long)(ms / 1000), (long long)(ms % 1000),
            say_error ? ": " : "", say_error ? r.error : "");
    s_push_result(self, &r);
    slot->busy = 0;
    self->busy--;
}

int qc_runner_on_sigchld(qc_runner_t *self)
{
    int ended = 0;
    for (int i = 0; i < self->slot_count; i++) {
        s_slot_t *slot = &self->slots[i];
        if (!slot->busy)
            continue;
        siginfo_t info;
        info.si_pid = 0;
        /* WNOWAIT: look, but leave the zombie until the group is killed. */
        int rc = waitid(P_PID, (id_t)slot->pid, &info, WEXITED | WNOHANG | WNOWAIT);
        if ((rc == 0 && info.si_pid == slot->pid) || (rc < 0 && errno == ECHILD)) {
            s_finish(self, slot, rc < 0);
            ended++;
        }
    }
    return ended;
}

int qc_runner_poll_items(qc_runner_t *self, struct pollfd *items, int max)
{
    int n = 0;
    for (int i = 0; i < self->slot_count; i++) {
        s_slot_t *slot = &self->slots[i];
        if (!slot->busy)
            continue;
        int fds[2] = {slot->out.fd, slot->err.fd};
        for (int j = 0; j < 2; j++) {
            if (fds[j] >= 0 && n < max)
                items[n++] = (struct pollfd){.fd = fds[j], .events = POLLIN};
        }
    }
    return n;
}

int qc_runner_poll_max(qc_runner_t *self)
{
    return 2 * self->slot_count;
}

void qc_runner_on_readable(qc_runner_t *self, int fd)
{
    for (int i = 0; i < self->slot_count; i++) {
        s_slot_t *slot = &self->slots[i];
        if (!slot->busy)
            continue;
        if (slot->out.fd == fd) {
            s_ring_read(&slot->out, QC_READ_BURST);
            return;
        }
        if (slot->err.fd == fd) {
            s_ring_read(&slot->err, QC_READ_BURST);
            return;
        }
    }
}

int64_t qc_runner_next_deadline_ms(qc_runner_t *self)
{
    int64_t next = -1;
    for (int i = 0; i < self->slot_count; i++) {
        const s_slot_t *slot = &self->slots[i];
        if (slot->busy && slot->deadline_ms >= 0 && (next < 0 || slot->deadline_ms < next))
            next = slot->deadline_ms;
    }
    return next;
}

/* SIGTERM now, SIGKILL when the grace is over. SIGCONT so that a stopped job
 * can act on the SIGTERM. */
static void s_terminate(s_slot_t *slot, int64_t now_ms)
{
    kill(-slot->pid, SIGTERM);
    kill(-slot->pid, SIGCONT);
    slot->term_sent = 1;
    slot->deadline_ms = now_ms + QC_RUNNER_GRACE_MS;
}

void qc_runner_on_timer(qc_runner_t *self, int64_t now_ms)
{
    for (int i = 0; i < self->slot_count; i++) {
        s_slot_t *slot = &self->slots[i];
        if (!slot->busy || slot->deadline_ms < 0 || slot->deadline_ms > now_ms)
            continue;
        if (!slot->term_sent) {
            slot->reason = S_REASON_TIMEOUT;
            qc_warn("job %s attempt %d timed out after %ds: SIGTERM", slot->id, slot->attempt,
                    slot->timeout_s);
            s_terminate(slot, now_ms);
        } else {
            qc_warn("job %s attempt %d still running %dms after SIGTERM: SIGKILL", slot->id,
                    slot->attempt, QC_RUNNER_GRACE_MS);
            kill(-slot->pid, SIGKILL);
            slot->kill_sent = 1;
            slot->deadline_ms = -1;
        }
    }
}

static s_slot_t *s_find(qc_runner_t *self, const char *id, int attempt)
{
    for (int i = 0; i < self->slot_count; i++) {
        s_slot_t *slot = &self->slots[i];
        if (slot->busy && slot->attempt == attempt && strcmp(slot->id, id) == 0)
            return slot;
    }
    return NULL;
}

int qc_runner_cancel(qc_runner_t *self, const char *id, int attempt)
{
    s_slot_t *slot = s_find(self, id, attempt);
    if (!slot)
        return -1;
    if (slot->reason == S_REASON_NONE)
        slot->reason = S_REASON_CANCEL;
    if (!slot->term_sent && !slot->kill_sent) {
        qc_info("job %s attempt %d canceled: SIGTERM", id, attempt);
        s_terminate(slot, qc_clock_mono_ms());
    }
    return 0;
}

int qc_runner_kill_all(qc_runner_t *self)
{
    int killed = 0;
    for (int i = 0; i < self->slot_count; i++) {
        s_slot_t *slot = &self->slots[i];
        if (!slot->busy)
            continue;
        if (slot->reason == S_REASON_NONE)
            slot->reason = S_REASON_SHUTDOWN;
        qc_warn("job %s attempt %d: worker shutting down, SIGKILL", slot->id, slot->attempt);
        kill(-slot->pid, SIGKILL);
        slot->kill_sent = 1;
        slot->deadline_ms = -1;
        killed++;
    }
    return killed;
}

int qc_runner_busy(qc_runner_t *self)
{
    return self->busy;
}

int qc_runner_slots(qc_runner_t *self)
{
    return self->slot_count;
}

int qc_runner_is_running(qc_runner_t *self, const char *id, int attempt)
{
    return s_find(self, id, attempt) != NULL;
}

int qc_runner_running(qc_runner_t *self, qc_wmsg_run_t *runs, int max)
{
    int count = 0;
    for (int i = 0; i < self->slot_count && count < max; i++) {
        const s_slot_t *slot = &self->slots[i];
        if (slot->busy)
            runs[count++] = (qc_wmsg_run_t){slot->id, slot->attempt};
    }
    return count;
}

int qc_runner_take_result(qc_runner_t *self, qc_result_t *result)
{
    if (self->done_count == 0)
        return -1;
    *result = self->done[0];
    self->done_count--;
    memmove(self->done, self->done + 1, self->done_count * sizeof *self->done);
    return 0;
}
