/* queuectl-broker: parse flags, configure, run the loop. */
#include "server.h"
#include "queuectl/flags.h"
#include "store.h"
#include "queuectl/log.h"
#include "queuectl/parse.h"
#include "queuectl/paths.h"
#include "queuectl/protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_usage(FILE *out)
{
    fprintf(
        out,
        "usage: queuectl-broker [options]\n"
        "\n"
        "The queuectl broker: sole owner of the job database; hands jobs to workers.\n"
        "Runs in the foreground (use 'queuectl broker start' for the background).\n"
        "A tcp:// endpoint uses CURVE: the broker's keypair is $QUEUECTL_HOME/keys/broker.cert\n"
        "(created on first use); only keys under --authorized-keys may connect.\n"
        "\n"
        "options:\n"
        "  --db PATH|URI            SQLite file (default $QUEUECTL_HOME/queue.db), or a\n"
        "                           postgresql:// URI (also $QUEUECTL_DB): brokers on one\n"
        "                           PostgreSQL database elect one active, the others wait\n"
        "  --worker-endpoint EP     where workers connect (default "
        "ipc://$QUEUECTL_HOME/worker.sock)\n"
        "  --client-endpoint EP     where clients connect (default "
        "ipc://$QUEUECTL_HOME/client.sock)\n"
        "  --events-endpoint EP     where state changes are published (default\n"
        "                           ipc://$QUEUECTL_HOME/events.sock; none to disable)\n"
        "  --authorized-keys DIR    public keys allowed on tcp endpoints, in DIR/workers/ and\n"
        "                           DIR/clients/ (default $QUEUECTL_HOME/authorized)\n"
        "  --insecure               tcp:// endpoints without CURVE authentication (dangerous)\n"
        "  --synchronous MODE       normal (default: survives a crash) or full (survives power "
        "loss)\n"
        "  --liveness DURATION      a silent worker is lost after this (default 3s)\n"
        "  --heartbeat DURATION     heartbeat interval (default 1s)\n"
        "  --log-level LEVEL        debug, info (default), warn, error\n"
        "  --log-json               log lines as JSON objects, for log shippers\n"
        "  --help, --version\n"
        "\n"
        "exit codes: 0 clean stop, 1 runtime error, 2 usage, 3 database error,\n"
        "            4 another broker holds the database, 5 cannot bind an endpoint,\n"
        "            6 database unreachable, 7 database authentication failed,\n"
        "            8 no such database, 9 not a valid database URI\n"
        "\n"
        "example:\n"
        "  QUEUECTL_HOME=/tmp/q queuectl-broker --log-level debug\n");
}

static int s_duration_flag(const char *name, const char *text, int64_t min_ms, int64_t *ms)
{
    if (qc_parse_duration_ms(text, ms) != 0 || *ms < min_ms) {
        fprintf(stderr,
                "queuectl-broker: invalid %s \"%s\": expected a duration such as 3s or "
                "500ms, at least %lldms\n",
                name, text, (long long)min_ms);
        return -1;
    }
    return 0;
}

/* Paths and endpoints given on the command line (NULL: the default). */
typedef struct {
    const char *db, *worker_ep, *client_ep, *authorized, *events_ep;
} s_paths_t;

/* Returns -1 to go on, or an exit code (--help, --version, a bad value).
 * The strings in paths point into argv. */
static int s_apply_flags(const qc_flags_t *flags, qc_server_options_t *options, s_paths_t *paths)
{
    const char *value;
    if (qc_flags_count(flags, "help")) {
        s_usage(stdout);
        return QC_EXIT_OK;
    }
    if (qc_flags_count(flags, "version")) {
        printf("queuectl-broker %s\n", QC_VERSION);
        return QC_EXIT_OK;
    }
    if (qc_flags_argc(flags) > 0) {
        fprintf(stderr, "queuectl-broker: unexpected argument \"%s\" (see --help)\n",
                qc_flags_arg(flags, 0));
        return QC_EXIT_USAGE;
    }
    paths->db = qc_flags_value(flags, "db");
    paths->worker_ep = qc_flags_value(flags, "worker-endpoint");
    paths->client_ep = qc_flags_value(flags, "client-endpoint");
    paths->authorized = qc_flags_value(flags, "authorized-keys");
    paths->events_ep = qc_flags_value(flags, "events-endpoint");
    if (qc_flags_count(flags, "log-json"))
        qc_log_set_json(1);
    if (qc_flags_count(flags, "insecure"))
        options->insecure = 1;
    if ((value = qc_flags_value(flags, "synchronous"))) {
        if (strcmp(value, "full") == 0)
            options->synchronous_full = 1;
        else if (strcmp(value, "normal") != 0) {
            fprintf(stderr, "queuectl-broker: invalid --synchronous \"%s\": use normal or full\n",
                    value);
            return QC_EXIT_USAGE;
        }
    }
    if ((value = qc_flags_value(flags, "liveness")) &&
        s_duration_flag("--liveness", value, 100, &options->liveness_ms) != 0)
        return QC_EXIT_USAGE;
    if ((value = qc_flags_value(flags, "heartbeat")) &&
        s_duration_flag("--heartbeat", value, 10, &options->heartbeat_ms) != 0)
        return QC_EXIT_USAGE;
    if ((value = qc_flags_value(flags, "log-level"))) {
        int level = qc_log_level_parse(value);
        if (level < 0) {
            fprintf(stderr,
                    "queuectl-broker: invalid --log-level \"%s\": use debug, info, warn or error\n",
                    value);
            return QC_EXIT_USAGE;
        }
        qc_log_set_level(level);
    }
    return -1;
}

/* A password given in --db's URI is overwritten in our argv (ps shows
 * argv); the copy in options is what we use. Prefer PGPASSFILE. */
static void s_hide_password(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        qc_hide_db_password(argv[i]);
}

int main(int argc, char **argv)
{
    qc_log_init("broker");
    qc_server_options_t options = {0};
    options.heartbeat_ms = QC_HEARTBEAT_MS;
    options.liveness_ms = QC_LIVENESS_MS;
    s_paths_t paths = {0};

    static const qc_flag_t flags_table[] = {{"db", 0, 1},
                                            {"worker-endpoint", 0, 1},
                                            {"client-endpoint", 0, 1},
                                            {"insecure", 0, 0},
                                            {"authorized-keys", 0, 1},
                                            {"events-endpoint", 0, 1},
                                            {"synchronous", 0, 1},
                                            {"liveness", 0, 1},
                                            {"heartbeat", 0, 1},
                                            {"log-level", 0, 1},
                                            {"log-json", 0, 0},
                                            {"help", 'h', 0},
                                            {"version", 0, 0},
                                            {NULL, 0, 0}};
    const qc_flag_t *const tables[] = {flags_table, NULL};
    char err[256];
    qc_flags_t *flags = qc_flags_parse(tables, argc, argv, NULL, err, sizeof err);
    if (!flags) {
        fprintf(stderr, "queuectl-broker: %s (see --help)\n", err);
        return QC_EXIT_USAGE;
    }
    int rc = s_apply_flags(flags, &options, &paths);
    qc_flags_destroy(&flags);
    if (rc >= 0)
        return rc;
    if (options.heartbeat_ms * 2 > options.liveness_ms) {
        fprintf(stderr, "queuectl-broker: --liveness must be at least twice --heartbeat\n");
        return QC_EXIT_USAGE;
    }
    if (!qc_home())
        return QC_EXIT_USAGE;
    const char *db = paths.db;
    if (!db && getenv("QUEUECTL_DB") && *getenv("QUEUECTL_DB"))
        db = getenv("QUEUECTL_DB");
    if (db)
        snprintf(options.db_path, sizeof options.db_path, "%s", db);
    else if (qc_home_path(options.db_path, sizeof options.db_path, "queue.db") != 0)
        return QC_EXIT_USAGE;
    if (qc_home_path(options.pid_path, sizeof options.pid_path, "broker.pid") != 0)
        return QC_EXIT_USAGE;
    if (paths.authorized)
        snprintf(options.authorized_dir, sizeof options.authorized_dir, "%s", paths.authorized);
    else if (qc_home_path(options.authorized_dir, sizeof options.authorized_dir, "authorized") != 0)
        return QC_EXIT_USAGE;
    if (paths.worker_ep)
        snprintf(options.worker_endpoint, sizeof options.worker_endpoint, "%s", paths.worker_ep);
    else if (qc_default_worker_endpoint(options.worker_endpoint, sizeof options.worker_endpoint) !=
             0)
        return QC_EXIT_USAGE;
    if (paths.client_ep)
        snprintf(options.client_endpoint, sizeof options.client_endpoint, "%s", paths.client_ep);
    else if (qc_default_client_endpoint(options.client_endpoint, sizeof options.client_endpoint) !=
             0)
        return QC_EXIT_USAGE;
    if (paths.events_ep && strcmp(paths.events_ep, "none") == 0)
        options.events_endpoint[0] = '\0';
    else if (paths.events_ep)
        snprintf(options.events_endpoint, sizeof options.events_endpoint, "%s", paths.events_ep);
    else if (qc_default_events_endpoint(options.events_endpoint, sizeof options.events_endpoint) !=
             0)
        return QC_EXIT_USAGE;
    s_hide_password(argc, argv);
    /* A broker that lost the lease steps down and waits as a passive one. */
    while ((rc = qc_server_run(&options)) == QC_EXIT_STEPPED_DOWN)
        options.keep_trying = 1;
    return rc;
}
