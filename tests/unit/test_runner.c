/* Unit test of the process runner and the guard: real processes, no
 * sockets. Every wait is on events (the runner's pipes and a signalfd) with
 * a deadline, never a fixed sleep. */
#include "check.h"
#include "guard.h"
#include "runner.h"
#include "queuectl/clock.h"
#include "queuectl/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* qc_runner_start with only the fields these tests vary. */
static int s_start(qc_runner_t *runner, const char *id, int attempt, const char *command,
                   int timeout_s)
{
    qc_runner_job_t job = {
        .id = id, .attempt = attempt, .command = command, .timeout_s = timeout_s};
    return qc_runner_start(runner, &job);
}

static int s_sigfd = -1;

/* Drives the runner until a result comes out or max_ms pass. Returns 0 with
 * *result filled (caller clears it), or -1 on timeout. */
static int s_wait_result(qc_runner_t *runner, qc_result_t *result, int max_ms)
{
    static struct pollfd items[1 + 2 * QC_MAX_SLOTS];
    int64_t deadline = qc_clock_mono_ms() + max_ms;
    while (qc_runner_take_result(runner, result) != 0) {
        int64_t now = qc_clock_mono_ms();
        if (now >= deadline)
            return -1;
        int64_t wake = deadline;
        int64_t job = qc_runner_next_deadline_ms(runner);
        if (job >= 0 && job < wake)
            wake = job;
        items[0] = (struct pollfd){.fd = s_sigfd, .events = POLLIN};
        int n = 1 + qc_runner_poll_items(runner, items + 1, 2 * QC_MAX_SLOTS);
        CHECK(poll(items, (nfds_t)n, wake > now ? (int)(wake - now) : 0) >= 0);
        for (int i = 1; i < n; i++)
            if (items[i].revents)
                qc_runner_on_readable(runner, items[i].fd);
        if (items[0].revents) {
            struct signalfd_siginfo info;
            while (read(s_sigfd, &info, sizeof info) == (ssize_t)sizeof info)
                ;
            qc_runner_on_sigchld(runner);
        }
        qc_runner_on_timer(runner, qc_clock_mono_ms());
    }
    return 0;
}

/* Runs one command in a fresh 1-slot runner and returns its result. */
static void s_run(const char *command, int timeout_s, qc_result_t *result)
{
    qc_runner_t *runner = qc_runner_new(1, NULL);
    CHECK(runner);
    CHECK(s_start(runner, "job-1", 1, command, timeout_s) == 0);
    CHECK(qc_runner_busy(runner) == 1);
    CHECK(s_wait_result(runner, result, 10000) == 0);
    CHECK(qc_runner_busy(runner) == 0);
    qc_runner_destroy(&runner);
    CHECK(runner == NULL);
}

static void test_success(void)
{
    qc_result_t r;
    int64_t before = qc_clock_wall_ms();
    s_run("echo hi", 10, &r);
    CHECK(strcmp(r.id, "job-1") == 0);
    CHECK(r.attempt == 1);
    CHECK(r.outcome == QC_OUTCOME_SUCCEEDED);
    CHECK(r.exit_code == 0);
    CHECK(r.signal == 0);
    CHECK(r.error[0] == '\0');
    CHECK(strcmp(r.stdout_tail, "hi\n") == 0);
    CHECK(strcmp(r.stderr_tail, "") == 0);
    CHECK(r.started_at_ms >= before && r.finished_at_ms >= r.started_at_ms);
    CHECK(r.cpu_ms >= 0 && r.max_rss_kb > 0);
    qc_result_clear(&r);
}

/* env over the worker's own, the job's own variables, cwd; a missing cwd
 * fails the attempt saying so. */
static void test_env_cwd(void)
{
    setenv("QC_TEST_INHERITED", "from-worker", 1);
    setenv("QC_TEST_OVERRIDE", "worker-value", 1);
    setenv("QUEUECTL_JOB_ID", "leaked", 1);
    cJSON *env = cJSON_Parse("{\"QC_TEST_OVERRIDE\":\"job value\",\"EMPTY\":\"\"}");
    qc_runner_t *runner = qc_runner_new(1, NULL);
    CHECK(runner && env);
    qc_runner_job_t job = {.id = "env-1",
                           .attempt = 3,
                           .command = "printf '%s|%s|%s|%s|%s|%s|%s|%s' \"$QC_TEST_INHERITED\" "
                                      "\"$QC_TEST_OVERRIDE\" \"${EMPTY-unset}\" "
                                      "\"$QUEUECTL_JOB_ID\" \"$QUEUECTL_ATTEMPT\" "
                                      "\"$QUEUECTL_QUEUE\" \"$QUEUECTL_WORKER_ID\" \"$(pwd)\"",
                           .timeout_s = 10,
                           .env = env,
                           .cwd = "/usr",
                           .queue = "mail",
                           .worker_id = "w-1"};
    CHECK(qc_runner_start(runner, &job) == 0);
    qc_result_t r;
    CHECK(s_wait_result(runner, &r, 10000) == 0);
    CHECK(r.outcome == QC_OUTCOME_SUCCEEDED);
    CHECK(strcmp(r.stdout_tail, "from-worker|job value||env-1|3|mail|w-1|/usr") == 0);
    qc_result_clear(&r);

    job.cwd = "/nonexistent/qc-test-dir";
    CHECK(qc_runner_start(runner, &job) == -1);
    CHECK(qc_runner_take_result(runner, &r) == 0);
    CHECK(r.outcome == QC_OUTCOME_SPAWN_FAILED);
    CHECK(strstr(r.error, "working directory /nonexistent/qc-test-dir does not exist") != NULL);
    qc_result_clear(&r);
    job.cwd = "/etc/hostname";
    CHECK(qc_runner_start(runner, &job) == -1);
    CHECK(qc_runner_take_result(runner, &r) == 0);
    CHECK(strstr(r.error, "is not a directory") != NULL);
    qc_result_clear(&r);
    /* Without a queue or env: "default", and the worker's values. */
    qc_runner_job_t plain = {.id = "env-2",
                             .attempt = 1,
                             .command = "printf '%s|%s' \"$QUEUECTL_QUEUE\" \"$QC_TEST_OVERRIDE\"",
                             .timeout_s = 10};
    CHECK(qc_runner_start(runner, &plain) == 0);
    CHECK(s_wait_result(runner, &r, 10000) == 0);
    CHECK(strcmp(r.stdout_tail, "default|worker-value") == 0);
    qc_result_clear(&r);
    qc_runner_destroy(&runner);
    cJSON_Delete(env);
}

static void test_exit_code(void)
{
    qc_result_t r;
    s_run("echo oops >&2; exit 3", 10, &r);
    CHECK(r.outcome == QC_OUTCOME_FAILED);
    CHECK(r.exit_code == 3);
    CHECK(r.signal == 0);
    CHECK(strstr(r.error, "exit code 3") != NULL);
    CHECK(strcmp(r.stderr_tail, "oops\n") == 0);
    qc_result_clear(&r);
}

static void test_command_not_found(void)
{
    qc_result_t r;
    s_run("nosuchcmd_xyz", 10, &r);
    CHECK(r.outcome == QC_OUTCOME_FAILED);
    CHECK(r.exit_code == 127);
    CHECK(strstr(r.error, "command not found") != NULL);
    CHECK(strstr(r.stderr_tail, "nosuchcmd_xyz") != NULL);
    CHECK(strstr(r.stderr_tail, "not found") != NULL);
    qc_result_clear(&r);
}

static void test_killed_by_signal(void)
{
    qc_result_t r;
    s_run("kill -KILL $$", 10, &r);
    CHECK(r.outcome == QC_OUTCOME_FAILED);
    CHECK(r.exit_code == -1);
    CHECK(r.signal == SIGKILL);
    CHECK(strcmp(r.error, "killed by signal 9 (SIGKILL)") == 0);
    qc_result_clear(&r);
}

static void test_timeout(void)
{
    qc_result_t r;
    int64_t start = qc_clock_mono_ms();
    s_run("sleep 5", 1, &r);
    int64_t took = qc_clock_mono_ms() - start;
    CHECK(r.outcome == QC_OUTCOME_TIMED_OUT);
    CHECK(took >= 900 && took < 2500);
    CHECK(strcmp(r.error, "timed out after 1s") == 0);
    qc_result_clear(&r);
}

/* A job that ignores SIGTERM is SIGKILLed after the grace. */
static void test_timeout_grace(void)
{
    qc_result_t r;
    int64_t start = qc_clock_mono_ms();
    s_run("trap '' TERM; sleep 10", 1, &r);
    int64_t took = qc_clock_mono_ms() - start;
    CHECK(r.outcome == QC_OUTCOME_TIMED_OUT);
    CHECK(r.signal == SIGKILL);
    CHECK(took >= 1000 + QC_RUNNER_GRACE_MS - 100 && took < 1000 + QC_RUNNER_GRACE_MS + 1500);
    qc_result_clear(&r);
}

/* The last QC_OUTPUT_TAIL_BYTES of "seq 1 count" output. */
static char *s_seq_tail(int count)
{
    size_t cap = (size_t)count * 8 + 1, len = 0;
    char *all = malloc(cap);
    CHECK(all);
    for (int i = 1; i <= count; i++)
        len += (size_t)snprintf(all + len, cap - len, "%d\n", i);
    CHECK(len > QC_OUTPUT_TAIL_BYTES);
    memmove(all, all + len - QC_OUTPUT_TAIL_BYTES, QC_OUTPUT_TAIL_BYTES);
    all[QC_OUTPUT_TAIL_BYTES] = '\0';
    return all;
}

static void test_output_tail(void)
{
    qc_result_t r;
    s_run("seq 1 30000; seq 1 20000 >&2", 10, &r);
    CHECK(r.outcome == QC_OUTCOME_SUCCEEDED);
    char *out = s_seq_tail(30000), *err = s_seq_tail(20000);
    CHECK(strlen(r.stdout_tail) == QC_OUTPUT_TAIL_BYTES);
    CHECK(strcmp(r.stdout_tail, out) == 0);
    CHECK(strlen(r.stderr_tail) == QC_OUTPUT_TAIL_BYTES);
    CHECK(strcmp(r.stderr_tail, err) == 0);
    free(out);
    free(err);
    qc_result_clear(&r);
}

static void test_invalid_utf8(void)
{
    qc_result_t r;
    s_run("printf 'a\\377b\\000c'", 10, &r);
    CHECK(strcmp(r.stdout_tail, "a?b?c") == 0);
    qc_result_clear(&r);
}

static void test_cancel(void)
{
    qc_runner_t *runner = qc_runner_new(2, NULL);
    CHECK(runner);
    CHECK(s_start(runner, "c", 4, "sleep 30", 60) == 0);
    CHECK(qc_runner_is_running(runner, "c", 4));
    CHECK(qc_runner_cancel(runner, "c", 3) == -1); /* wrong attempt */
    CHECK(qc_runner_cancel(runner, "other", 4) == -1);
    int64_t start = qc_clock_mono_ms();
    CHECK(qc_runner_cancel(runner, "c", 4) == 0);
    qc_result_t r;
    CHECK(s_wait_result(runner, &r, 5000) == 0);
    CHECK(qc_clock_mono_ms() - start < 1500);
    CHECK(strcmp(r.id, "c") == 0 && r.attempt == 4);
    CHECK(r.outcome == QC_OUTCOME_CANCELED);
    CHECK(!qc_runner_is_running(runner, "c", 4));
    qc_result_clear(&r);
    qc_runner_destroy(&runner);
}

static void test_slots_and_kill_all(void)
{
    qc_runner_t *runner = qc_runner_new(2, NULL);
    CHECK(runner);
    CHECK(s_start(runner, "a", 1, "sleep 30", 60) == 0);
    CHECK(s_start(runner, "b", 2, "sleep 30", 60) == 0);
    CHECK(qc_runner_busy(runner) == 2);
    qc_wmsg_run_t running[4];
    CHECK(qc_runner_running(runner, running, 4) == 2);
    CHECK(qc_runner_running(runner, running, 1) == 1);

    /* A third job is refused at once, not dropped, and not charged: it never ran. */
    CHECK(s_start(runner, "c", 1, "true", 60) == -1);
    qc_result_t r;
    CHECK(qc_runner_take_result(runner, &r) == 0);
    CHECK(strcmp(r.id, "c") == 0);
    CHECK(r.outcome == QC_OUTCOME_NOT_STARTED && r.started_at_ms == 0);
    CHECK(strcmp(r.error, "no free slot") == 0);
    qc_result_clear(&r);

    CHECK(qc_runner_kill_all(runner) == 2);
    for (int i = 0; i < 2; i++) {
        CHECK(s_wait_result(runner, &r, 5000) == 0);
        CHECK(r.outcome == QC_OUTCOME_KILLED);
        CHECK(r.signal == SIGKILL);
        CHECK(strcmp(r.error, "worker shut down") == 0);
        qc_result_clear(&r);
    }
    CHECK(qc_runner_busy(runner) == 0);
    CHECK(qc_runner_next_deadline_ms(runner) == -1);
    qc_runner_destroy(&runner);
}

static void test_concurrent(void)
{
    qc_runner_t *runner = qc_runner_new(4, NULL);
    CHECK(runner);
    char id[16], command[64];
    for (int i = 0; i < 4; i++) {
        snprintf(id, sizeof id, "j%d", i);
        snprintf(command, sizeof command, "sleep 0.%d; echo %d", i + 1, i);
        CHECK(s_start(runner, id, 1, command, 10) == 0);
    }
    int seen = 0;
    for (int i = 0; i < 4; i++) {
        qc_result_t r;
        CHECK(s_wait_result(runner, &r, 5000) == 0);
        CHECK(r.outcome == QC_OUTCOME_SUCCEEDED);
        int n = r.id[1] - '0';
        snprintf(command, sizeof command, "%d\n", n);
        CHECK(strcmp(r.stdout_tail, command) == 0);
        seen |= 1 << n;
        qc_result_clear(&r);
    }
    CHECK(seen == 0xf);
    qc_runner_destroy(&runner);
}

/* Destroying the runner kills and reaps what still runs, without leaks. */
/* Destroying a runner with a job still running kills and reaps the job
 * (and frees a result nobody took: ASan checks that). */
static void test_destroy_running(void)
{
    char dir[] = "/tmp/qc-runner-XXXXXX", path[64], command[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/pid", dir);
    snprintf(command, sizeof command, "echo $$ > %s.tmp && mv %s.tmp %s && exec sleep 30", path,
             path, path);
    qc_runner_t *runner = qc_runner_new(1, NULL);
    CHECK(runner);
    CHECK(s_start(runner, "d", 1, command, 60) == 0);
    qc_runner_reject(runner, "e", 1, "worker stopping");
    /* The shell wrote its pid (then became the sleep): the job is running. */
    pid_t pid = 0;
    for (int64_t deadline = qc_clock_mono_ms() + 5000; !pid && qc_clock_mono_ms() < deadline;) {
        FILE *file = fopen(path, "r");
        if (!file || fscanf(file, "%d", &pid) != 1)
            pid = 0;
        if (file)
            fclose(file);
        if (!pid)
            poll(NULL, 0, 10);
    }
    CHECK(pid > 0);
    CHECK(kill(pid, 0) == 0);
    CHECK(qc_runner_busy(runner) == 1);
    qc_runner_destroy(&runner);
    CHECK(runner == NULL);
    /* Killed and reaped: not even a zombie is left. */
    CHECK(kill(pid, 0) == -1 && errno == ESRCH);
    unlink(path);
    CHECK(rmdir(dir) == 0);
}

/* Waits (reaping any orphan handed to us as subreaper) until pid is reaped.
 * Returns its status, or -1 if it is still alive at the deadline. */
static int s_wait_reaped(pid_t pid, int max_ms)
{
    int64_t deadline = qc_clock_mono_ms() + max_ms;
    while (qc_clock_mono_ms() < deadline) {
        int status;
        pid_t got;
        while ((got = waitpid(-1, &status, WNOHANG)) > 0)
            if (got == pid)
                return status;
        struct pollfd pfd = {.fd = s_sigfd, .events = POLLIN};
        poll(&pfd, 1, 50);
        struct signalfd_siginfo info;
        while (read(s_sigfd, &info, sizeof info) == (ssize_t)sizeof info)
            ;
    }
    return -1;
}

/* What the job leaves in the background dies with it. */
static void test_grandchild_killed(void)
{
    qc_result_t r;
    int64_t start = qc_clock_mono_ms();
    s_run("sleep 30 & echo $!", 10, &r);
    CHECK(qc_clock_mono_ms() - start < 2000); /* did not wait for the pipe's EOF */
    CHECK(r.outcome == QC_OUTCOME_SUCCEEDED);
    pid_t grandchild = (pid_t)atoi(r.stdout_tail);
    CHECK(grandchild > 1);
    int status = s_wait_reaped(grandchild, 3000);
    CHECK(status != -1);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    qc_result_clear(&r);
}

/* The guard kills registered groups when its pipe closes. */
static void test_guard_destroy(void)
{
    qc_guard_t *guard = qc_guard_new();
    CHECK(guard);
    CHECK(qc_guard_alive(guard));
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        setpgid(0, 0);
        execl("/bin/sleep", "sleep", "30", (char *)NULL);
        _exit(127);
    }
    setpgid(child, child); /* either side may win the race; both ask the same */
    CHECK(qc_guard_add(guard, child) == 0);
    qc_guard_destroy(&guard);
    CHECK(guard == NULL);
    int status = s_wait_reaped(child, 3000);
    CHECK(status != -1);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* A worker that is SIGKILLed leaves no job behind: a child process plays
 * the worker, with a guard and a runner running a job that backgrounds a
 * grandchild; we kill it and expect the grandchild to die too. */
static void test_guard_worker_killed(void)
{
    char dir[] = "/tmp/qc-test-runner-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char pidfile[64], command[256];
    snprintf(pidfile, sizeof pidfile, "%s/pid", dir);
    snprintf(command, sizeof command, "sleep 30 & echo $! > %s.tmp && mv %s.tmp %s; wait", pidfile,
             pidfile, pidfile);

    pid_t worker = fork();
    CHECK(worker >= 0);
    if (worker == 0) {
        qc_guard_t *guard = qc_guard_new();
        qc_runner_t *runner = guard ? qc_runner_new(1, guard) : NULL;
        if (!runner || s_start(runner, "g", 1, command, 60) != 0)
            _exit(1);
        for (;;)
            pause(); /* until SIGKILLed */
    }
    pid_t grandchild = 0;
    int64_t deadline = qc_clock_mono_ms() + 5000;
    while (!grandchild && qc_clock_mono_ms() < deadline) {
        FILE *f = fopen(pidfile, "r");
        int pid = 0;
        if (f) {
            if (fscanf(f, "%d", &pid) == 1)
                grandchild = (pid_t)pid;
            fclose(f);
        } else {
            poll(NULL, 0, 10); /* the file appears when the job ran; nothing to wait on */
        }
    }
    CHECK(grandchild > 1);
    CHECK(kill(grandchild, 0) == 0);
    CHECK(kill(worker, SIGKILL) == 0);
    int status = s_wait_reaped(grandchild, 3000);
    CHECK(status != -1);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    while (waitpid(-1, NULL, WNOHANG) > 0) /* the worker, its shell, maybe the guard */
        ;
    unlink(pidfile);
    rmdir(dir);
}

int main(void)
{
    qc_log_init("test_runner");
    qc_log_set_level(QC_LOG_WARN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
    s_sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    CHECK(s_sigfd >= 0);
    /* Orphans of our jobs become our children, so their end can be observed. */
    CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);

    test_success();
    test_env_cwd();
    test_exit_code();
    test_command_not_found();
    test_killed_by_signal();
    test_timeout();
    test_timeout_grace();
    test_output_tail();
    test_invalid_utf8();
    test_cancel();
    test_slots_and_kill_all();
    test_concurrent();
    test_destroy_running();
    test_grandchild_killed();
    test_guard_destroy();
    test_guard_worker_killed();

    close(s_sigfd);
    printf("test_runner: all passed\n");
    return 0;
}
