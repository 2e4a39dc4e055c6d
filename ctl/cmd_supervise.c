/* Supervising the processes: the local broker (start, stop, status) and
 * workers (start, stop, list), and the background process helpers they
 * share with the broker's autostart. */
#include "ctl.h"
#include "queuectl/clock.h"
#include "queuectl/job.h"
#include "queuectl/paths.h"
#include "queuectl/parse.h"
#include "queuectl/json.h"
#include "queuectl/protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- background processes ------------------------------------------------ */

int qc_spawn_program_path(const char *name, char *buf, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            int written = snprintf(buf, len, "%s/%s", self, name);
            if (written > 0 && (size_t)written < len && access(buf, X_OK) == 0)
                return 0;
        }
    }
    /* Fall back to PATH. */
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *colon = strchr(path, ':');
        size_t dir_len = colon ? (size_t)(colon - path) : strlen(path);
        int written = snprintf(buf, len, "%.*s/%s", (int)dir_len, path, name);
        if (written > 0 && (size_t)written < len && access(buf, X_OK) == 0)
            return 0;
        path = colon ? colon + 1 : NULL;
    }
    return -1;
}

int qc_spawn_detached(char *const argv[], const char *log_path)
{
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(log_fd);
        return -1;
    }
    if (pid == 0) {
        setsid(); /* out of the terminal's session: Ctrl-C there won't reach it */
        int null_fd = open("/dev/null", O_RDONLY);
        if (null_fd >= 0)
            dup2(null_fd, STDIN_FILENO);
        dup2(log_fd, STDOUT_FILENO);
        dup2(log_fd, STDERR_FILENO);
        execv(argv[0], argv);
        fprintf(stderr, "cannot exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(log_fd);
    return pid;
}

/* /proc/PID/WHAT into buf, NUL-terminated (empty if unreadable). */
static void s_read_proc(int pid, const char *what, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, what);
    FILE *file = fopen(path, "r");
    size_t got = file ? fread(buf, 1, len - 1, file) : 0;
    if (file)
        fclose(file);
    buf[got] = '\0';
}

/* A zombie has exited: only its parent hasn't collected it yet. */
static int s_zombie(int pid)
{
    char stat[512];
    s_read_proc(pid, "stat", stat, sizeof stat);
    const char *paren = strrchr(stat, ')'); /* "pid (comm) S ..." */
    return paren && paren[1] == ' ' && paren[2] == 'Z';
}

int qc_spawn_alive(int pid)
{
    int status;
    if (pid <= 0)
        return 0;
    if (waitpid(pid, &status, WNOHANG) == pid)
        return 0;
    if (kill(pid, 0) != 0 && errno != EPERM)
        return 0;
    return !s_zombie(pid);
}

int qc_spawn_broker_pid(void)
{
    char path[4096];
    if (qc_home_path(path, sizeof path, "broker.pid") != 0)
        return 0;
    FILE *file = fopen(path, "r");
    if (!file)
        return 0;
    int pid = 0;
    if (fscanf(file, "%d", &pid) != 1 || pid <= 1)
        pid = 0;
    fclose(file);
    if (!pid || !qc_spawn_alive(pid))
        return 0;
    /* After a crash or a reboot the pid may belong to someone else now. */
    char cmdline[4096];
    s_read_proc(pid, "cmdline", cmdline, sizeof cmdline); /* argv[0] is the first string */
    return strstr(cmdline, "queuectl-broker") ? pid : 0;
}

static int s_worker_list(qc_ctl_t *ctl, cJSON **workers_out)
{
    cJSON *reply;
    int rc = qc_ctl_call(ctl, qc_ctl_request("workers.list"), &reply);
    if (rc != QC_CTL_OK)
        return rc;
    *workers_out = cJSON_DetachItemFromObject(reply, "workers");
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

/* How many of pids[] are registered with the broker (-1 on error). */
static int s_registered(qc_ctl_t *ctl, const int *pids, int count)
{
    cJSON *workers;
    if (s_worker_list(ctl, &workers) != QC_CTL_OK)
        return -1;
    int found = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, workers)
    {
        int64_t pid;
        if (qc_json_int(w, "pid", &pid) != 0)
            continue;
        for (int i = 0; i < count; i++)
            if (pids[i] == pid)
                found++;
    }
    cJSON_Delete(workers);
    return found;
}

static volatile sig_atomic_t s_forward_signal = 0;
static void s_on_forward(int signo)
{
    s_forward_signal = signo;
}

static int s_worker_start(qc_ctl_t *ctl, int argc, char **argv)
{
    static const qc_flag_t table[] = {{"count", 0, 1},
                                      {"concurrency", 0, 1},
                                      {"foreground", 0, 0},
                                      {"queues", 0, 1},
                                      {NULL, 0, 0}};
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, table, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    const char *count_text = qc_flags_value(flags, "count"),
               *concurrency_text_flag = qc_flags_value(flags, "concurrency");
    const char *queues_flag = qc_flags_value(flags, "queues");
    char queues[QC_QUEUE_LIST_BYTES], why[256];
    int64_t count = 1, concurrency = 1;
    int foreground = qc_flags_count(flags, "foreground") > 0;
    if (qc_flags_argc(flags) > 0)
        rc = qc_ctl_usage_error("worker start: unexpected \"%s\"", qc_flags_arg(flags, 0));
    else if (count_text && qc_parse_int(count_text, 1, 64, &count) != 0)
        rc = qc_ctl_usage_error("worker start: --count must be from 1 to 64");
    else if (concurrency_text_flag &&
             qc_parse_int(concurrency_text_flag, 1, QC_MAX_SLOTS, &concurrency) != 0)
        rc = qc_ctl_usage_error("worker start: --concurrency must be from 1 to %d", QC_MAX_SLOTS);
    else if (queues_flag &&
             qc_queue_list_parse(queues_flag, queues, sizeof queues, why, sizeof why) != 0)
        rc = qc_ctl_usage_error("worker start: invalid --queues \"%s\": %s", queues_flag, why);
    qc_flags_destroy(&flags);
    if (rc != QC_CTL_OK)
        return rc;
    /* Workers connect to the broker's worker endpoint, which it reports. */
    char worker_endpoint[1024];
    if ((rc = qc_ctl_broker_endpoint(ctl, "worker_endpoint", worker_endpoint,
                                     sizeof worker_endpoint)) != QC_CTL_OK)
        return rc;

    char program[4096], concurrency_text[16], log_path[4096];
    if (qc_spawn_program_path("queuectl-worker", program, sizeof program) != 0)
        return qc_ctl_usage_error("cannot find queuectl-worker next to queuectl or on PATH");
    snprintf(concurrency_text, sizeof concurrency_text, "%d", (int)concurrency);
    char *child_argv[] = {
        program, "--broker", worker_endpoint, "--concurrency", concurrency_text, NULL, NULL, NULL};
    if (queues_flag) {
        child_argv[5] = "--queues";
        child_argv[6] = queues;
    }
    int pids[64];
    if (foreground) {
        /* Supervisor mode: children in our process group, signals forwarded. */
        struct sigaction action = {0};
        action.sa_handler = s_on_forward;
        sigaction(SIGTERM, &action, NULL);
        sigaction(SIGINT, &action, NULL);
        int alive = 0, status, worst = 0;
        for (int i = 0; i < count; i++) {
            pids[i] = fork();
            if (pids[i] == 0) {
                execv(program, child_argv);
                _exit(127);
            }
            if (pids[i] < 0) {
                fprintf(stderr, "queuectl: cannot start worker %d: %s\n", i + 1, strerror(errno));
                worst = 1;
            } else {
                alive++;
            }
        }
        while (alive > 0) {
            pid_t pid = waitpid(-1, &status, 0);
            if (pid < 0 && errno == EINTR && s_forward_signal) {
                for (int i = 0; i < count; i++)
                    if (pids[i] > 0) /* never kill(-1) or a reaped pid */
                        kill(pids[i], s_forward_signal);
                s_forward_signal = 0;
                continue;
            }
            if (pid < 0)
                break;
            for (int i = 0; i < count; i++)
                if (pids[i] == pid)
                    pids[i] = 0;
            alive--;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                worst = 1;
        }
        return worst;
    }
    if (qc_home_path(log_path, sizeof log_path, "logs") != 0)
        return QC_CTL_USAGE;
    mkdir(log_path, 0700);
    for (int i = 0; i < count; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/worker-%lld-%d.log", log_path,
                 (long long)qc_clock_wall_ms(), i);
        pids[i] = qc_spawn_detached(child_argv, path);
        if (pids[i] < 0)
            return qc_ctl_usage_error("cannot start queuectl-worker: %s", strerror(errno));
    }
    /* Return once every one has registered (or died trying). */
    int64_t deadline = qc_clock_mono_ms() + 10000;
    int registered = 0;
    while (qc_clock_mono_ms() < deadline) {
        registered = s_registered(ctl, pids, (int)count);
        if (registered == count)
            break;
        int dead = 0;
        for (int i = 0; i < count; i++)
            dead += !qc_spawn_alive(pids[i]);
        if (dead) {
            fprintf(stderr, "queuectl: %d worker%s exited during start-up; see %s\n", dead,
                    dead == 1 ? "" : "s", log_path);
            return QC_CTL_REFUSED;
        }
        usleep(20000);
    }
    if (registered != count) {
        fprintf(stderr, "queuectl: only %d of %lld workers registered within 10s; see %s\n",
                registered, (long long)count, log_path);
        return QC_CTL_REFUSED;
    }
    if (ctl->json) {
        cJSON *out = cJSON_CreateObject();
        cJSON *list = cJSON_AddArrayToObject(out, "pids");
        for (int i = 0; i < count; i++)
            cJSON_AddItemToArray(list, cJSON_CreateNumber(pids[i]));
        qc_out_json(out);
        cJSON_Delete(out);
    } else {
        printf("started %lld worker%s (pid", (long long)count, count == 1 ? "" : "s");
        for (int i = 0; i < count; i++)
            printf(" %d", pids[i]);
        printf("), logs in %s\n", log_path);
    }
    return QC_CTL_OK;
}

/* A worker being stopped, and how to tell it has gone. */
typedef struct {
    char worker_id[QC_MAX_ID_BYTES + 1];
    int pid;  /* on this host: its process must be gone too; else 0 */
    int gone; /* no longer registered (and, if local, exited) */
} s_stopping_t;

/* Which workers a stop reaches (all, or the one named only), from the
 * broker's list. *out (caller frees) gets *count entries. */
static int s_stopping_list(qc_ctl_t *ctl, const char *only, s_stopping_t **out, int *count)
{
    cJSON *workers;
    int rc = s_worker_list(ctl, &workers);
    if (rc != QC_CTL_OK)
        return rc;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    *out = calloc((size_t)cJSON_GetArraySize(workers) + 1, sizeof **out);
    *count = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, workers)
    {
        const char *id = qc_json_string(w, "worker_id");
        if (!id || (only && strcmp(id, only) != 0))
            continue;
        s_stopping_t *entry = &(*out)[(*count)++];
        snprintf(entry->worker_id, sizeof entry->worker_id, "%s", id);
        int64_t pid = 0;
        if (strcmp(qc_out_text(w, "host", ""), host) == 0 && qc_json_int(w, "pid", &pid) == 0)
            entry->pid = (int)pid;
    }
    cJSON_Delete(workers);
    return QC_CTL_OK;
}

/* Updates each entry's gone; returns how many are left, with the jobs they
 * still run in *busy. -1 with *rc on a failed call. */
static int s_stopping_left(qc_ctl_t *ctl, s_stopping_t *list, int count, int64_t *busy, int *rc)
{
    cJSON *workers;
    *busy = 0;
    if ((*rc = s_worker_list(ctl, &workers)) != QC_CTL_OK)
        return -1;
    int left = 0;
    for (int i = 0; i < count; i++) {
        if (list[i].gone)
            continue;
        int registered = 0;
        const cJSON *w;
        cJSON_ArrayForEach(w, workers)
        {
            if (strcmp(qc_out_text(w, "worker_id", ""), list[i].worker_id) == 0) {
                int64_t b = 0;
                qc_json_int(w, "busy", &b);
                *busy += b;
                registered = 1;
            }
        }
        list[i].gone = !registered && !(list[i].pid && qc_spawn_alive(list[i].pid));
        left += !list[i].gone;
    }
    cJSON_Delete(workers);
    return left;
}

/* Parses --wait-timeout (default default_ms) into *ms. Returns an exit code. */
static int s_wait_timeout(const qc_flags_t *flags, int64_t default_ms, int64_t *ms)
{
    const char *text = qc_flags_value(flags, "wait-timeout");
    *ms = default_ms;
    if (text && (qc_parse_duration_ms(text, ms) != 0 || *ms < 1))
        return qc_ctl_usage_error("invalid --wait-timeout \"%s\": use a duration such as 30s or "
                                  "10m",
                                  text);
    return QC_CTL_OK;
}

static int s_worker_stop(qc_ctl_t *ctl, int argc, char **argv)
{
    static const qc_flag_t table[] = {
        {"id", 0, 1}, {"wait", 0, 0}, {"no-wait", 0, 0}, {"wait-timeout", 0, 1}, {NULL, 0, 0}};
    qc_flags_t *flags;
    ctl->autostart = 0; /* no broker: nothing connected to stop */
    int rc = qc_ctl_parse(ctl, table, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    const char *only = qc_flags_value(flags, "id");
    int wait = !qc_flags_count(flags, "no-wait");
    int64_t timeout_ms;
    if (qc_flags_argc(flags) > 0)
        rc = qc_ctl_usage_error("worker stop: unexpected \"%s\"", qc_flags_arg(flags, 0));
    else if (only && !*only)
        rc = qc_ctl_usage_error("worker stop: --id needs a worker id");
    else if (!wait && qc_flags_count(flags, "wait"))
        rc = qc_ctl_usage_error("worker stop: --wait and --no-wait exclude each other");
    else
        rc = s_wait_timeout(flags, 10 * 60 * 1000, &timeout_ms);
    qc_flags_destroy(&flags);
    if (rc != QC_CTL_OK)
        return rc;

    s_stopping_t *list = NULL;
    int count = 0;
    if (wait && (rc = s_stopping_list(ctl, only, &list, &count)) != QC_CTL_OK)
        return rc;
    cJSON *request = qc_ctl_request("workers.stop");
    if (only)
        cJSON_AddStringToObject(request, "worker_id", only);
    cJSON *reply;
    if ((rc = qc_ctl_call(ctl, request, &reply)) != QC_CTL_OK) {
        free(list);
        return rc;
    }
    int64_t stopped = 0;
    qc_json_int(reply, "stopped", &stopped);
    cJSON_Delete(reply);
    if (!ctl->json)
        printf("asked %lld worker%s to stop: %s\n", (long long)stopped, stopped == 1 ? "" : "s",
               wait ? "waiting for them to finish their running jobs and exit"
                    : "each finishes its running jobs first");
    fflush(stdout);
    /* Until every one is unregistered and, on this host, its process gone. */
    int progress = wait && isatty(STDERR_FILENO), left = 0;
    int64_t deadline = qc_clock_mono_ms() + timeout_ms, busy = 0;
    while (wait && count > 0) {
        left = s_stopping_left(ctl, list, count, &busy, &rc);
        if (left <= 0 || qc_clock_mono_ms() >= deadline)
            break;
        if (progress)
            fprintf(stderr, "\rwaiting for %d worker%s to exit (%lld job%s running)...   ", left,
                    left == 1 ? "" : "s", (long long)busy, busy == 1 ? "" : "s");
        usleep(100000);
    }
    if (progress && count > 0)
        fprintf(stderr, "\r%*s\r", 60, "");
    if (left < 0) {
        free(list);
        return rc;
    }
    if (left > 0) {
        fprintf(stderr, "queuectl: gave up waiting after %.0fs: %d worker%s still running (",
                (double)timeout_ms / 1000.0, left, left == 1 ? "" : "s");
        for (int i = 0, first = 1; i < count; i++) {
            if (list[i].gone)
                continue;
            fprintf(stderr, "%s%s", first ? "" : ", ", list[i].worker_id);
            first = 0;
        }
        fprintf(stderr, ") with %lld job%s; they exit when their jobs finish\n", (long long)busy,
                busy == 1 ? "" : "s");
        free(list);
        return QC_CTL_TIMED_OUT;
    }
    free(list);
    if (ctl->json) {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddNumberToObject(out, "stopped", (double)stopped);
        qc_out_json(out);
        cJSON_Delete(out);
    } else if (wait && count > 0) {
        printf("%d worker%s stopped\n", count, count == 1 ? "" : "s");
    }
    return QC_CTL_OK;
}

static int s_worker_list_cmd(qc_ctl_t *ctl, int argc, char **argv)
{
    int rc = qc_ctl_parse_none(ctl, argc, argv);
    if (rc != QC_CTL_OK)
        return rc;
    cJSON *workers;
    if ((rc = s_worker_list(ctl, &workers)) != QC_CTL_OK)
        return rc;
    if (ctl->json) {
        qc_out_json(workers);
        cJSON_Delete(workers);
        return QC_CTL_OK;
    }
    int rows = cJSON_GetArraySize(workers);
    if (rows == 0) {
        printf("no workers connected\n");
        cJSON_Delete(workers);
        return QC_CTL_OK;
    }
    static const char *const header[] = {"WORKER", "HOST", "PID",      "SLOTS",
                                         "BUSY",   "DONE", "LAST SEEN"};
    enum { COLUMNS = 7 };
    char(*text)[5][40] = calloc((size_t)rows, sizeof *text);
    const char **cells = calloc((size_t)rows * COLUMNS, sizeof *cells);
    int r = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, workers)
    {
        static const char *const numeric[] = {"pid", "slots", "busy", "jobs_done"};
        for (int k = 0; k < 4; k++) {
            int64_t v = 0;
            qc_json_int(w, numeric[k], &v);
            snprintf(text[r][k], sizeof text[r][k], "%lld", (long long)v);
            cells[r * COLUMNS + 2 + k] = text[r][k];
        }
        cells[r * COLUMNS + 0] = qc_json_string(w, "worker_id");
        cells[r * COLUMNS + 1] = qc_json_string(w, "host");
        cells[r * COLUMNS + 6] =
            qc_out_ago(qc_out_text(w, "last_seen", ""), text[r][4], sizeof text[r][4]);
        r++;
    }
    qc_out_table(header, COLUMNS, cells, rows);
    free(cells);
    free(text);
    cJSON_Delete(workers);
    return QC_CTL_OK;
}

int qc_cmd_worker(qc_ctl_t *ctl, int argc, char **argv)
{
    /* Each subcommand parses argv from its own name on. */
    if (argc >= 2 && strcmp(argv[1], "start") == 0) {
        ctl->command = "worker start";
        return s_worker_start(ctl, argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "stop") == 0) {
        ctl->command = "worker stop";
        return s_worker_stop(ctl, argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "list") == 0) {
        ctl->command = "worker list";
        return s_worker_list_cmd(ctl, argc - 1, argv + 1);
    }
    return qc_ctl_usage_error("worker: use 'worker start', 'worker stop' or 'worker list'");
}

/* ---- broker ------------------------------------------------------------ */

static int s_broker_stop(qc_ctl_t *ctl, int argc, char **argv)
{
    static const qc_flag_t table[] = {{"wait-timeout", 0, 1}, {NULL, 0, 0}};
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, table, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    int64_t timeout_ms;
    if (qc_flags_argc(flags) > 0)
        rc = qc_ctl_usage_error("broker stop: unexpected \"%s\"", qc_flags_arg(flags, 0));
    else
        rc = s_wait_timeout(flags, 10000, &timeout_ms);
    qc_flags_destroy(&flags);
    if (rc != QC_CTL_OK)
        return rc;
    int pid = qc_spawn_broker_pid();
    if (!pid) {
        printf("no broker running\n");
        return QC_CTL_OK;
    }
    if (kill(pid, SIGTERM) != 0)
        return qc_ctl_usage_error("cannot signal broker pid %d: %s", pid, strerror(errno));
    int64_t deadline = qc_clock_mono_ms() + timeout_ms;
    while (qc_spawn_alive(pid) && qc_clock_mono_ms() < deadline)
        usleep(20000);
    if (qc_spawn_alive(pid)) {
        fprintf(stderr, "queuectl: gave up waiting after %.1fs: broker pid %d is still running\n",
                (double)timeout_ms / 1000.0, pid);
        return QC_CTL_TIMED_OUT;
    }
    printf("broker stopped (pid %d)\n", pid);
    return QC_CTL_OK;
}

/* broker start [--db DB]: the database goes to the broker in its
 * environment (QUEUECTL_DB), never in its argv, so ps shows no password;
 * ours is overwritten in our own argv too. */
static int s_broker_start(qc_ctl_t *ctl, int argc, char **argv)
{
    static const qc_flag_t table[] = {{"db", 0, 1}, {NULL, 0, 0}};
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, table, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    char *db = NULL;
    if (qc_flags_argc(flags) > 0)
        rc = qc_ctl_usage_error("broker start: unexpected \"%s\"", qc_flags_arg(flags, 0));
    else if (qc_flags_value(flags, "db") && !*qc_flags_value(flags, "db"))
        rc = qc_ctl_usage_error("broker start: --db needs a postgresql:// URI or a file path");
    else if (qc_flags_value(flags, "db") && !(db = strdup(qc_flags_value(flags, "db"))))
        rc = qc_ctl_usage_error("out of memory");
    qc_flags_destroy(&flags);
    for (int i = 1; i < argc; i++)
        qc_hide_db_password(argv[i]);
    if (rc == QC_CTL_OK && (ctl->endpoint_flag || getenv("QUEUECTL_BROKER")))
        rc = qc_ctl_usage_error("broker start: starts the local broker only; run "
                                "queuectl-broker on the remote machine instead");
    int pid = rc == QC_CTL_OK ? qc_spawn_broker_pid() : 0;
    if (pid) {
        printf("broker already running (pid %d)\n", pid);
        if (db)
            fprintf(stderr, "queuectl: --db not applied: the running broker keeps its database "
                            "(stop it first)\n");
    } else if (rc == QC_CTL_OK && db && setenv("QUEUECTL_DB", db, 1) != 0) {
        rc = qc_ctl_usage_error("cannot pass --db on: %s", strerror(errno));
    } else if (rc == QC_CTL_OK) {
        cJSON *reply;
        ctl->autostart = 1;
        if ((rc = qc_ctl_call(ctl, qc_ctl_request("ping"), &reply)) == QC_CTL_OK)
            cJSON_Delete(reply);
    }
    free(db);
    return rc;
}

int qc_cmd_broker(qc_ctl_t *ctl, int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return qc_ctl_usage_error("broker: use 'broker start', 'broker stop' or 'broker status'");
    static char command[32];
    snprintf(command, sizeof command, "broker %s", argv[1]);
    ctl->command = command;
    if (strcmp(argv[1], "stop") == 0)
        return s_broker_stop(ctl, argc - 1, argv + 1);
    if (strcmp(argv[1], "start") == 0)
        return s_broker_start(ctl, argc - 1, argv + 1);
    int rc = qc_ctl_parse_none(ctl, argc - 1, argv + 1);
    if (rc != QC_CTL_OK)
        return rc;
    if (strcmp(argv[1], "status") == 0) {
        ctl->autostart = 0; /* it says whether one runs */
        cJSON *reply;
        if ((rc = qc_ctl_call(ctl, qc_ctl_request("ping"), &reply)) != QC_CTL_OK)
            return rc;
        if (ctl->json) {
            cJSON_DeleteItemFromObject(reply, "ok");
            qc_out_json(reply);
        } else {
            int64_t pid = 0;
            qc_json_int(reply, "pid", &pid);
            printf("broker %s running (pid %lld) at %s\n", qc_out_text(reply, "version", "?"),
                   (long long)pid, ctl->endpoint);
        }
        cJSON_Delete(reply);
        return QC_CTL_OK;
    }
    return qc_ctl_usage_error("broker: unknown subcommand \"%s\" (use start, stop or status)",
                              argv[1]);
}
