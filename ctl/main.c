/* queuectl: the command-line client. Finds the command, hands it its
 * arguments, and returns its exit code. */
#include "ctl.h"
#include "queuectl/log.h"
#include "queuectl/parse.h"
#include "queuectl/paths.h"
#include "queuectl/protocol.h"

#include <stdlib.h>
#include <string.h>

static void s_usage(FILE *out)
{
    fprintf(
        out,
        "usage: queuectl [--broker ENDPOINT] [--json] [--no-color] COMMAND [ARGS] (options "
        "before or\n"
        "       after the command)\n"
        "\n"
        "A durable background job queue for shell commands.\n"
        "\n"
        "commands:\n"
        "  enqueue JOB|FILE|WORDS...   add a job (JSON, a .json file, or a command)\n"
        "          [--wait] [--file JOBS.jsonl|-] [--id ID] [--priority P] [--max-retries N]\n"
        "          [--delay D | --run-at TIME] [--timeout D]\n"
        "  wait ID... | --all          until the jobs finish (non-zero if any ended dead)\n"
        "  logs [-f] [--attempt N] ID  a job's output; -f follows it live\n"
        "  cancel ID                   cancel a pending job, or kill a running one\n"
        "  events [--state S] [--workers]   state changes as they happen\n"
        "  watch [--queue Q]           live view of counts, rates, workers, failures\n"
        "  prune --completed|--dead|--canceled [--older-than 7d]\n"
        "  status [--queue Q]          counts per state, workers, oldest pending job\n"
        "  queue list | pause Q | resume Q | set Q --max-running N   named queues\n"
        "  schedule add NAME --cron EXPR [--tz Z] -- CMD | list | show | remove | pause | resume\n"
        "  list [--state S] [--queue Q] [--limit N] [--cursor C | --all] [--jsonl]\n"
        "  show ID                     a job and every attempt, with output\n"
        "  dlq list | dlq retry ID | dlq purge [--older-than D]   the dead-letter queue\n"
        "  config get [KEY|all] | config set KEY VALUE\n"
        "  worker start [--count N] [--concurrency N] [--queues Q,...] [--foreground]\n"
        "  worker stop [--id WORKER] [--no-wait] [--wait-timeout D] | worker list\n"
        "  broker start [--db DB] | stop | status\n"
        "  invite --role worker|client [--ttl 1h] [--uses N] [--address HOST]\n"
        "                              a one-line token another machine joins with\n"
        "  join TOKEN [--name NAME]    join a remote broker (as a client, or a worker's home)\n"
        "  keys list | keys revoke NAME [--role worker|client]   enrolled keys\n"
        "  keygen NAME [--role worker|client] [--dir DIR]   a CURVE keypair, by hand\n"
        "  dashboard [--listen 127.0.0.1:8080]   web dashboard, REST API, /metrics\n"
        "  (colon forms work too: worker:start, dlq:list, config:set, ...)\n"
        "\n"
        "options:\n"
        "  --broker EP    broker client endpoint (default $QUEUECTL_BROKER, else\n"
        "                 ipc://$QUEUECTL_HOME/client.sock)\n"
        "  --json         machine-readable output\n"
        "  --no-color     no colors (NO_COLOR is respected too)\n"
        "  --timeout D    how long to wait for the broker (default 2s; after enqueue, the\n"
        "                 job's timeout: put it before the command there)\n"
        "  --curve-key F  our secret key for a tcp broker (default\n"
        "                 $QUEUECTL_HOME/keys/client.cert_secret, or $QUEUECTL_CURVE_KEY)\n"
        "  --server-key K the broker's public key: a cert file or 40-char Z85 key (default\n"
        "                 $QUEUECTL_HOME/keys/broker.cert, or $QUEUECTL_SERVER_KEY)\n"
        "  --insecure     talk to a tcp broker without CURVE (broker run with --insecure)\n"
        "  --no-autostart never start the local broker (for scripts and completion)\n"
        "\n"
        "examples:\n"
        "  queuectl enqueue echo hello\n"
        "  queuectl enqueue '{\"id\":\"job1\",\"command\":\"sleep 2\",\"max_retries\":3}'\n"
        "  queuectl enqueue --priority high --delay 10s --timeout 30s -- make test\n"
        "  queuectl worker start --count 2\n"
        "  queuectl status\n"
        "\n"
        "Every command that needs the local broker starts it if none runs (and says so on\n"
        "stderr); aimed at another broker (--broker, QUEUECTL_BROKER) none ever does.\n"
        "\n"
        "exit codes: 0 ok, 1 refused by the broker (not found, duplicate, ...),\n"
        "            2 usage or bad input, 3 no broker answered,\n"
        "            4 gave up waiting for workers or the broker to exit (stop),\n"
        "            join: 5 wrong secret or unknown invite, 6 token expired,\n"
        "            7 token used up, 8 too many wrong secrets lately\n"
        "environment: QUEUECTL_HOME (default ~/.queuectl), QUEUECTL_BROKER, NO_COLOR\n");
}

typedef int(s_command_fn)(qc_ctl_t *ctl, int argc, char **argv);

/* Each command with its help: usage, what it does, examples. */
static const struct {
    const char *name;
    s_command_fn *fn;
    const char *help;
} s_commands[] = {
    {"enqueue", qc_cmd_enqueue,
     "usage: queuectl enqueue [options] JSON | FILE.json | [--] COMMAND WORDS...\n"
     "       queuectl enqueue --file JOBS.jsonl|- [--priority P] [--max-retries N] [--timeout D]\n"
     "Adds a job and prints its id (after the broker has committed it).\n"
     "  --id ID            the job's id (default: generated)\n"
     "  --priority P       high, medium, low or -1000..1000 (higher runs first)\n"
     "  --max-retries N    retries after the first run (default: config max-retries)\n"
     "  --delay D          run after D (10s, 5m, 2h) | --run-at ISO-8601 time\n"
     "  --timeout D        kill the job after D (default: config job-timeout)\n"
     "  --env NAME=VALUE   set a variable for the command (repeatable; names not QUEUECTL_)\n"
     "  --cwd DIR          run the command in DIR on the worker (made absolute here)\n"
     "                     every job also sees QUEUECTL_JOB_ID, QUEUECTL_ATTEMPT,\n"
     "                     QUEUECTL_QUEUE and QUEUECTL_WORKER_ID\n"
     "  --queue NAME       the queue (default: default); each worker picks its queues\n"
     "  --after ID,...     waiting until these jobs complete (if one ends dead or\n"
     "                     canceled, this job is canceled; dlq retry of it brings it back)\n"
     "  --unique-key KEY   while an unfinished job has KEY, print its id (exit 0) and add\n"
     "                     nothing (--json: \"duplicate_of\"); makes retrying an enqueue safe\n"
     "  --retry-on-exit L  only these exit codes retry (75,111); others go to the DLQ\n"
     "  --no-retry-on-exit L  these go straight to the DLQ (2,64; also timeout, lost)\n"
     "                     none: not the config default (retry-on-exit, no-retry-on-exit)\n"
     "  --wait             wait for it; print its output; exit with its exit code\n"
     "  --file F           one JSON job per line (- for stdin), in atomic batches of 1,000\n"
     "examples:\n"
     "  queuectl enqueue echo hello\n"
     "  queuectl enqueue '{\"id\":\"job1\",\"command\":\"sleep 2\",\"max_retries\":3}'\n"
     "  queuectl enqueue --priority high --timeout 30s -- make test\n"
     "  queuectl enqueue --wait -- ./deploy.sh staging\n"
     "  queuectl enqueue --env STAGE=prod --env DEBUG= --cwd /srv/app -- ./migrate.sh\n"
     "  queuectl enqueue --retry-on-exit 75 --no-retry-on-exit timeout -- ./sync.sh\n"
     "  queuectl enqueue --unique-key report:2026-11-30 -- ./report.sh 2026-11-30\n"
     "  queuectl enqueue --id build -- make && queuectl enqueue --after build -- make test\n"
     "  seq 100 | sed 's/.*/{\"command\":\"echo &\"}/' | queuectl enqueue --file -\n"},
    {"schedule", qc_cmd_schedule,
     "usage: queuectl schedule add NAME --cron 'EXPR' [--tz ZONE] [--skip-if-running]\n"
     "                             [job options] -- COMMAND...\n"
     "       queuectl schedule list | show NAME | remove NAME | pause NAME | resume NAME\n"
     "Recurring jobs: each tick enqueues one job, id NAME@YYYYMMDDTHHMMZ (the tick in UTC),\n"
     "so a tick never runs twice, even across broker restarts.\n"
     "  --cron EXPR        minute hour day-of-month month day-of-week (*, a-b, lists, /step,\n"
     "                     jan-dec, sun-sat), or @hourly, @daily, @weekly, @monthly, @yearly\n"
     "  --tz ZONE          the cron's time zone, from tzdata (default UTC); a time a DST\n"
     "                     change skips runs just after it, one it repeats runs once\n"
     "  --skip-if-running  no job for a tick while the previous one is unfinished\n"
     "  job options        --queue --priority --max-retries --timeout --env --cwd\n"
     "                     --retry-on-exit --no-retry-on-exit --unique-key (as enqueue)\n"
     "Ticks missed while no broker ran get one catch-up job (the latest), not a flood;\n"
     "ticks missed while paused get none. list shows each one's next run, show its recent runs.\n"
     "examples:\n"
     "  queuectl schedule add nightly --cron '0 3 * * *' --tz Europe/Berlin -- ./backup.sh\n"
     "  queuectl schedule add poll --cron '*/5 * * * *' --skip-if-running -- ./poll.sh\n"},
    {"queue", qc_cmd_queue,
     "usage: queuectl queue list [--json]\n"
     "       queuectl queue pause NAME | queue resume NAME\n"
     "       queuectl queue set NAME --max-running N|none\n"
     "Named queues (enqueue --queue NAME; workers serve --queues a,b, default all).\n"
     "list: per queue, jobs per state, paused, the limit, how long the oldest due job waited.\n"
     "pause: nothing new starts from it (running jobs finish); resume undoes it. set\n"
     "--max-running: at most N of its jobs run at once over all workers (0 or none: no limit).\n"
     "examples:\n"
     "  queuectl queue pause emails\n"
     "  queuectl queue set reports --max-running 2\n"},
    {"status", qc_cmd_status,
     "usage: queuectl status [--queue Q] [--json]\n"
     "Counts per state, workers connected and busy, age of the oldest pending job.\n"
     "  --queue Q    one queue's counts and the workers that serve it\n"},
    {"list", qc_cmd_list,
     "usage: queuectl list [--state S] [--queue Q] [--limit N] [--cursor C | --all] [--json | "
     "--jsonl]\n"
     "Jobs, newest first. S: pending, processing, completed, failed, dead, canceled, waiting.\n"
     "  --queue Q    only the jobs of queue Q\n"
     "  --limit N    jobs per page, 1-1000 (default 100)\n"
     "  --cursor C   the page after the one that named C (on stderr: \"more jobs: ...\")\n"
     "  --all        every page from there on, asked for and printed one page at a time\n"
     "  --jsonl      one compact JSON object per line (for jq and log tools)\n"
     "examples:\n"
     "  queuectl list --state failed --limit 20\n"
     "  queuectl list --all --jsonl | jq -r 'select(.attempts > 1) | .id'\n"},
    {"show", qc_cmd_show,
     "usage: queuectl show ID [--json]\n"
     "A job and every attempt: worker, times, outcome, exit code, resources, output.\n"},
    {"dlq", qc_cmd_dlq,
     "usage: queuectl dlq list [--limit N] [--cursor C | --all] [--json | --jsonl]\n"
     "       queuectl dlq retry ID        back to pending, attempts reset, history kept\n"
     "       queuectl dlq purge [--older-than D]\n"
     "example: queuectl dlq purge --older-than 7d\n"},
    {"config", qc_cmd_config,
     "usage: queuectl config get [KEY|all] [--json] | queuectl config set KEY VALUE\n"
     "keys: max-retries (3), backoff-base (2), backoff-max (300s), job-timeout (300s),\n"
     "      retention (0 = keep; else delete completed/canceled jobs older than this),\n"
     "      retry-on-exit, no-retry-on-exit (exit-code lists for jobs that give none,\n"
     "      as --retry-on-exit and --no-retry-on-exit; none clears)\n"
     "example: queuectl config set backoff-max 10m\n"},
    {"worker", qc_cmd_worker,
     "usage: queuectl worker start [--count N] [--concurrency N] [--queues Q,...] [--foreground]\n"
     "       queuectl worker stop [--id WORKER] [--no-wait] [--wait-timeout D]\n"
     "       queuectl worker list [--json]\n"
     "start returns once the workers have registered; stop is graceful (running jobs\n"
     "finish first) and reaches every worker of this broker, local or remote. stop\n"
     "returns once they have exited (unregistered, and on this host their processes\n"
     "gone): --no-wait returns at once; after --wait-timeout (default 10m) it gives up\n"
     "with exit code 4.\n"
     "example: queuectl worker start --count 4\n"},
    {"broker", qc_cmd_broker,
     "usage: queuectl broker start [--db DB] | status [--json]\n"
     "       queuectl broker stop [--wait-timeout D]\n"
     "The local broker in $QUEUECTL_HOME (log in broker.log). stop returns once it has\n"
     "exited (exit code 4 if it is still running after --wait-timeout, default 10s).\n"
     "  --db DB   the broker's database: a postgresql:// URI (brokers on one database\n"
     "            take over from each other) or an SQLite file (default\n"
     "            $QUEUECTL_HOME/queue.db; also $QUEUECTL_DB). It reaches the broker in\n"
     "            its environment, so ps never shows a password (better: ~/.pgpass)\n"
     "example: queuectl broker start --db postgresql://queuectl@db1/queuectl\n"},
    {"keygen", qc_cmd_keygen,
     "usage: queuectl keygen NAME [--role worker|client] [--dir DIR]\n"
     "Writes a CURVE keypair NAME.cert / NAME.cert_secret (default in $QUEUECTL_HOME/keys).\n"
     "example: queuectl keygen build-box --role worker\n"},
    {"invite", qc_cmd_invite,
     "usage: queuectl invite --role worker|client [--ttl 1h] [--uses N] [--address HOST]\n"
     "Prints one line: a token another machine joins this broker with (its tcp endpoint\n"
     "for the role, its public key, and a one-time secret, of which the broker keeps only\n"
     "a hash). The broker needs a tcp:// endpoint for the role (see queuectl-broker).\n"
     "On the new machine, 'queuectl join TOKEN' enrolls it (a worker's token: then\n"
     "queuectl-worker runs with no flags; queuectl-worker's join option does both).\n"
     "  --role R      worker or client: what the new machine will be\n"
     "  --ttl D       how long the token works (default 1h, at most 30d)\n"
     "  --uses N      how many machines may join with it (default 1, at most 1000)\n"
     "  --address H   the host name or address the new machine reaches the broker by\n"
     "                (default: the bound address, or this machine's first IPv4 address\n"
     "                if bound to all)\n"
     "examples:\n"
     "  queuectl invite --role worker                 then, on the new machine:\n"
     "  queuectl join TOKEN && queuectl-worker\n"
     "  queuectl invite --role worker --uses 10 --ttl 1d --address queue.example.com\n"},
    {"join", qc_cmd_join,
     "usage: queuectl join TOKEN [--name NAME]\n"
     "Joins the remote broker that printed TOKEN ('queuectl invite' there): creates this\n"
     "machine's key for the token's role ($QUEUECTL_HOME/keys/client.cert or worker.cert),\n"
     "enrolls it with the token's secret, and keeps the broker's key and endpoint in\n"
     "$QUEUECTL_HOME/keys/broker.cert. With a client token, queuectl then talks to that\n"
     "broker with no flags; with a worker token, queuectl-worker (or its service) connects\n"
     "there with no flags (queuectl-worker's join option joins and runs at once).\n"
     "  --name NAME   the name the broker lists this key under (default: the host name)\n"
     "exit codes: 0 joined, 3 no broker answered, 5 wrong secret or unknown invite,\n"
     "            6 token expired, 7 token used up, 8 too many wrong secrets lately\n"},
    {"keys", qc_cmd_keys,
     "usage: queuectl keys list [--json]\n"
     "       queuectl keys revoke NAME [--role worker|client]\n"
     "The keys allowed on the broker's tcp endpoints (authorized/workers/ and\n"
     "authorized/clients/): role, name, key, when enrolled and through which invite.\n"
     "revoke removes the key at once: a worker using it is dropped (its running jobs are\n"
     "retried elsewhere) and every later message with it is refused.\n"
     "example: queuectl keys revoke build-3\n"},
    {"dashboard", qc_cmd_dashboard,
     "usage: queuectl dashboard [--listen 127.0.0.1:8080] [--events EP] [--token-file F | "
     "--insecure]\n"
     "                          [--web-dir DIR]\n"
     "Web dashboard, REST API (/api) and Prometheus metrics (/metrics): runs\n"
     "queuectl-dashboard with these flags and the global --broker, --curve-key, --server-key,\n"
     "--timeout (see queuectl-dashboard --help, docs/API.md).\n"},
    {"cancel", qc_cmd_cancel,
     "usage: queuectl cancel ID\n"
     "A pending or failed job is canceled at once; a running one is killed by its worker.\n"},
    {"prune", qc_cmd_prune,
     "usage: queuectl prune [--completed] [--dead] [--canceled] [--older-than D]\n"
     "Deletes finished jobs and their history. example: queuectl prune --completed "
     "--older-than 7d\n"},
    {"events", qc_cmd_events,
     "usage: queuectl events [--state S] [--workers] [--json]   (--state=S works too)\n"
     "State changes as they happen (until Ctrl-C). example: queuectl events --state dead\n"},
    {"logs", qc_cmd_logs,
     "usage: queuectl logs [-f] [--attempt N] ID\n"
     "The captured stdout/stderr of the latest (or Nth) attempt; -f follows a running job\n"
     "live and ends when the job does.\n"},
    {"wait", qc_cmd_wait,
     "usage: queuectl wait ID... | --all [--json]\n"
     "Blocks until the jobs finish (progress bar on a terminal); exit 1 if any ended\n"
     "dead or canceled.\n"},
    {"watch", qc_cmd_watch,
     "usage: queuectl watch [--interval D] [--queue NAME]\n"
     "A live view of counts, rates, workers and the latest failures; q or Ctrl-C quits.\n"
     "  --interval D    redraw every D (default 1s, at least 100ms)\n"
     "  --queue NAME    only that queue: its counts, settings, workers and dead jobs\n"},
};
#define S_COMMAND_COUNT (sizeof s_commands / sizeof s_commands[0])

/* Edit distance, for "did you mean". */
static size_t s_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 32 || lb > 32)
        return 99;
    size_t row[33];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diagonal + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

/* The global flags before the command: the first argument ends them. */
static int s_is_argument(const char *arg)
{
    (void)arg;
    return 1;
}

/* Runs the command named argv[0] with ctl set up. Returns an exit code. */
static int s_run(qc_ctl_t *ctl, int argc, char **argv)
{
    if (strcmp(argv[0], "help") == 0) {
        for (size_t c = 0; argc > 1 && c < S_COMMAND_COUNT; c++) {
            if (strcmp(argv[1], s_commands[c].name) == 0) {
                fputs(s_commands[c].help, stdout);
                return QC_CTL_OK;
            }
        }
        s_usage(stdout);
        return QC_CTL_OK;
    }
    /* "worker:start" is "worker start". */
    char name[64];
    snprintf(name, sizeof name, "%s", argv[0]);
    char *colon = strchr(name, ':');
    char *sub = NULL;
    if (colon) {
        *colon = '\0';
        sub = colon + 1;
    }
    for (size_t c = 0; c < S_COMMAND_COUNT; c++) {
        if (strcmp(name, s_commands[c].name) != 0)
            continue;
        /* "CMD --help" (for a subcommand family too: "worker --help"). Any
         * other --help among a command's flags is its parser's. */
        if (!sub && argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            fputs(s_commands[c].help, stdout);
            return QC_CTL_OK;
        }
        ctl->command = s_commands[c].name;
        ctl->help = s_commands[c].help;
        /* Hand the command its own argv: [name, (sub,) args...]. */
        char **sub_argv = calloc((size_t)argc + 2, sizeof *sub_argv);
        if (!sub_argv)
            return QC_CTL_REFUSED;
        int n = 0;
        sub_argv[n++] = name;
        if (sub)
            sub_argv[n++] = sub;
        for (int k = 1; k < argc; k++)
            sub_argv[n++] = argv[k];
        int rc = s_commands[c].fn(ctl, n, sub_argv);
        free(sub_argv);
        return rc == QC_CTL_HELP ? QC_CTL_OK : rc;
    }
    const char *best = NULL;
    size_t best_distance = 3;
    for (size_t c = 0; c < S_COMMAND_COUNT; c++) {
        size_t d = s_distance(name, s_commands[c].name);
        if (d < best_distance) {
            best_distance = d;
            best = s_commands[c].name;
        }
    }
    if (best)
        return qc_ctl_usage_error("unknown command \"%s\"; did you mean \"%s\"?", argv[0], best);
    return qc_ctl_usage_error("unknown command \"%s\" (see queuectl --help)", argv[0]);
}

int main(int argc, char **argv)
{
    qc_log_init("queuectl");
    qc_log_set_level(QC_LOG_WARN);
    /* Every command may start the local broker; those that must not
     * (broker status, worker stop) say so. */
    qc_ctl_t ctl = {.timeout_ms = QC_CLIENT_TIMEOUT_MS, .autostart = 1};
    static const qc_flag_t version[] = {{"version", 0, 0}, {NULL, 0, 0}};
    const qc_flag_t *const tables[] = {version, qc_ctl_global_flags, NULL};
    char err[256];
    qc_flags_t *flags = qc_flags_parse(tables, argc, argv, s_is_argument, err, sizeof err);
    if (!flags)
        return qc_ctl_usage_error("%s (see queuectl --help)", err);
    int rc = QC_CTL_OK;
    if (qc_flags_count(flags, "help")) {
        s_usage(stdout);
    } else if (qc_flags_count(flags, "version")) {
        printf("queuectl %s\n", QC_VERSION);
    } else if (qc_flags_argc(flags) == 0) {
        s_usage(stderr);
        rc = QC_CTL_USAGE;
    } else if ((rc = qc_ctl_apply_globals(&ctl, flags, version)) == QC_CTL_OK) {
        rc = s_run(&ctl, qc_flags_argc(flags), qc_flags_args(flags));
    }
    qc_ctl_close(&ctl);
    qc_flags_destroy(&flags);
    return rc;
}
