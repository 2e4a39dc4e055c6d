/* queuectl-worker: parse flags, configure, run, destroy in reverse order.
 * Exit status: 0 stopped cleanly, 1 run-time failure or forced shutdown,
 * 2 usage error. */
#include "guard.h"
#include "runner.h"
#include "session.h"
#include "queuectl/flags.h"
#include "queuectl/job.h"
#include "queuectl/log.h"
#include "queuectl/parse.h"
#include "queuectl/paths.h"
#include "queuectl/protocol.h"

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *s_usage =
    "Usage: queuectl-worker [--broker ENDPOINT] [--concurrency N] [--name NAME] [--queues Q,...]\n"
    "                       [--curve-key FILE] [--server-key FILE|KEY] [--insecure]\n"
    "                       [--log-level LEVEL] [--help] [--version]\n"
    "\n"
    "Runs jobs from a queuectl broker, each as /bin/sh -c COMMAND in its own\n"
    "process group, up to N at a time.\n"
    "\n"
    "Options:\n"
    "  --broker ENDPOINT   the broker's worker endpoint (default: $QUEUECTL_WORKER_BROKER,\n"
    "                      else ipc://$QUEUECTL_HOME/worker.sock)\n"
    "  --concurrency N     jobs to run at once, 1-256 (default 1)\n"
    "  --name NAME         worker id, [A-Za-z0-9._:@-] (default HOST-PID-RANDOM)\n"
    "  --queues Q,...      serve only these queues, the first with a due job first\n"
    "                      (default: every queue)\n"
    "  --curve-key FILE    this worker's secret key for a tcp broker (default\n"
    "                      $QUEUECTL_CURVE_KEY, else $QUEUECTL_HOME/keys/worker.cert_secret;\n"
    "                      make one with 'queuectl keygen worker --role worker')\n"
    "  --server-key K      the broker's public key: its broker.cert, or the 40-char key\n"
    "                      (default $QUEUECTL_SERVER_KEY, else $QUEUECTL_HOME/keys/broker.cert)\n"
    "  --insecure          no CURVE, for a broker started with --insecure\n"
    "  --log-level LEVEL   debug, info, warn or error (default info)\n"
    "  --log-json          log lines as JSON objects, for log shippers\n"
    "  --help              show this help\n"
    "  --version           show the version\n"
    "\n"
    "SIGTERM, SIGINT or `queuectl worker stop` stops taking jobs, waits for the\n"
    "running ones, reports them and exits 0. A second SIGTERM/SIGINT kills the\n"
    "running jobs (reported as killed) and exits 1 if it killed any.\n"
    "Exit status: 0 stopped, 1 run-time failure or jobs killed, 2 usage error.\n"
    "\n"
    "Examples:\n"
    "  queuectl-worker --concurrency 4 --name build-1\n"
    "  queuectl-worker --queues urgent,default\n"
    "  queuectl-worker --broker tcp://queue-host:5556 --server-key broker.cert\n";

typedef struct {
    qc_session_security_t security;
    const char *broker;
    const char *name;
    char queues[QC_QUEUE_LIST_BYTES]; /* "" for every queue */
    int concurrency;
    int log_level;
} s_options_t;

static int __attribute__((format(printf, 1, 2))) s_usage_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "queuectl-worker: ");
    vfprintf(stderr, fmt, args);
    fprintf(stderr, "\nTry 'queuectl-worker --help'.\n");
    va_end(args);
    return 2;
}

/* Returns -1 to go on, or an exit status. */
static int s_apply(const qc_flags_t *flags, s_options_t *opts)
{
    const char *value;
    int64_t n;
    if (qc_flags_count(flags, "help")) {
        fputs(s_usage, stdout);
        return 0;
    }
    if (qc_flags_count(flags, "version")) {
        printf("queuectl-worker %s\n", QC_VERSION);
        return 0;
    }
    if (qc_flags_argc(flags) > 0)
        return s_usage_error("unexpected argument '%s'", qc_flags_arg(flags, 0));
    if ((value = qc_flags_value(flags, "broker"))) {
        if (!*value)
            return s_usage_error("%s needs an endpoint", "--broker");
        opts->broker = value;
    }
    if ((value = qc_flags_value(flags, "concurrency"))) {
        if (qc_parse_int(value, 1, QC_MAX_SLOTS, &n) != 0)
            return s_usage_error("--concurrency must be a whole number from 1 to 256, not '%s'",
                                 value);
        opts->concurrency = (int)n;
    }
    if ((value = qc_flags_value(flags, "curve-key")))
        opts->security.key_path = value;
    if ((value = qc_flags_value(flags, "server-key")))
        opts->security.server_key = value;
    if (qc_flags_count(flags, "log-json"))
        qc_log_set_json(1);
    if (qc_flags_count(flags, "insecure"))
        opts->security.insecure = 1;
    if ((value = qc_flags_value(flags, "name"))) {
        if (!qc_job_id_valid(value))
            return s_usage_error("--name must be 1-128 characters of A-Z a-z 0-9 . _ : @ - "
                                 "not starting with '-', not '%s'",
                                 value);
        opts->name = value;
    }
    if ((value = qc_flags_value(flags, "queues"))) {
        char why[256];
        if (qc_queue_list_parse(value, opts->queues, sizeof opts->queues, why, sizeof why) != 0)
            return s_usage_error("invalid --queues '%s': %s", value, why);
    }
    if ((value = qc_flags_value(flags, "log-level"))) {
        opts->log_level = qc_log_level_parse(value);
        if (opts->log_level < 0)
            return s_usage_error("--log-level must be debug, info, warn or error, not '%s'", value);
    }
    return -1;
}

/* Returns -1 to go on, or an exit status. */
static int s_parse(int argc, char **argv, s_options_t *opts)
{
    static const qc_flag_t table[] = {
        {"broker", 0, 1},    {"concurrency", 0, 1}, {"name", 0, 1},     {"queues", 0, 1},
        {"curve-key", 0, 1}, {"server-key", 0, 1},  {"insecure", 0, 0}, {"log-level", 0, 1},
        {"log-json", 0, 0},  {"help", 'h', 0},      {"version", 0, 0},  {NULL, 0, 0}};
    const qc_flag_t *const tables[] = {table, NULL};
    char err[256];
    qc_flags_t *flags = qc_flags_parse(tables, argc, argv, NULL, err, sizeof err);
    if (!flags)
        return s_usage_error("%s", err);
    int status = s_apply(flags, opts);
    qc_flags_destroy(&flags);
    return status;
}

/* Jobs get fds 0-2 from pipes by dup2; make sure no pipe can land there. */
static void s_ensure_std_fds(void)
{
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) < 0) {
            int null = open("/dev/null", O_RDWR);
            if (null >= 0 && null != fd) {
                dup2(null, fd);
                close(null);
            }
        }
    }
}

int main(int argc, char **argv)
{
    s_options_t opts = {.concurrency = 1, .log_level = QC_LOG_INFO};
    int status = s_parse(argc, argv, &opts);
    if (status >= 0)
        return status;
    qc_log_init("worker");
    qc_log_set_level((qc_log_level_t)opts.log_level);
    s_ensure_std_fds();

    char endpoint[PATH_MAX + 16];
    if (qc_worker_endpoint(opts.broker, endpoint, sizeof endpoint) != 0) {
        qc_error("no usable broker endpoint");
        return 1;
    }
    /* Signals first and the guard next: both before ZeroMQ starts threads. */
    if (qc_session_prepare_signals() != 0) {
        qc_error("cannot block signals");
        return 1;
    }
    qc_guard_t *guard = qc_guard_new();
    qc_runner_t *runner = guard ? qc_runner_new(opts.concurrency, guard) : NULL;
    qc_session_config_t config = {.endpoint = endpoint,
                                  .name = opts.name,
                                  .queues = opts.queues[0] ? opts.queues : NULL,
                                  .runner = runner,
                                  .guard = guard,
                                  .security = &opts.security};
    qc_session_t *session = runner ? qc_session_new(&config) : NULL;
    status = session ? qc_session_run(session) : 1;
    qc_session_destroy(&session);
    qc_runner_destroy(&runner);
    qc_guard_destroy(&guard);
    return status;
}
