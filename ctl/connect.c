/* The CLI's connection to the broker: one client per process; a request is
 * sent first, and the local broker is started only when nothing answers. */
#include "ctl.h"
#include "queuectl/clock.h"
#include "queuectl/paths.h"
#include "queuectl/json.h"
#include "queuectl/protocol.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_SLICE_MS 50           /* how often a wait checks whether a broker runs at all */
#define S_START_TIMEOUT_MS 5000 /* a broker we started must answer within this */
#define S_BROKER_LOCKED 4       /* queuectl-broker's exit code: another broker holds the database */

int qc_ctl_resolve(qc_ctl_t *ctl)
{
    if (ctl->endpoint[0])
        return QC_CTL_OK;
    if (qc_client_endpoint(ctl->endpoint_flag, ctl->endpoint, sizeof ctl->endpoint) != 0)
        return qc_ctl_usage_error("cannot work out the broker endpoint (QUEUECTL_HOME too long?)");
    return QC_CTL_OK;
}

cJSON *qc_ctl_request(const char *op)
{
    cJSON *request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "op", op);
    return request;
}

void qc_ctl_close(qc_ctl_t *ctl)
{
    qc_client_destroy(&ctl->client);
}

/* The process's one client, created on first use. Returns an exit code. */
static int s_client(qc_ctl_t *ctl)
{
    if (ctl->client)
        return QC_CTL_OK;
    int rc = qc_ctl_resolve(ctl);
    if (rc != QC_CTL_OK)
        return rc;
    ctl->client = qc_client_new(ctl->endpoint, ctl->timeout_ms);
    if (!ctl->client)
        return QC_CTL_REFUSED;
    char err[512];
    if (qc_client_set_security(ctl->client, ctl->curve_key, ctl->server_key, ctl->insecure, err,
                               sizeof err) != 0) {
        qc_client_destroy(&ctl->client);
        return qc_ctl_usage_error("%s", err);
    }
    return QC_CTL_OK;
}

/* Maps a broker error code to the CLI's exit code. */
static int s_exit_for(const char *code)
{
    static const char *usage_codes[] = {"bad_request", "invalid_job", "invalid_config", "too_large",
                                        "unknown_op"};
    for (size_t i = 0; code && i < sizeof usage_codes / sizeof usage_codes[0]; i++)
        if (strcmp(code, usage_codes[i]) == 0)
            return QC_CTL_USAGE;
    return QC_CTL_REFUSED;
}

static int s_no_broker(qc_ctl_t *ctl)
{
    if (qc_endpoint_is_default_client(ctl->endpoint) && !qc_spawn_broker_pid()) {
        fprintf(stderr,
                "queuectl: no broker is running in $QUEUECTL_HOME (%s); start one with 'queuectl "
                "broker start'\n",
                ctl->endpoint);
        return QC_CTL_NO_BROKER;
    }
    fprintf(stderr,
            "queuectl: no broker answered at %s within %.1fs; start one with 'queuectl broker "
            "start' (or check --broker / QUEUECTL_BROKER%s)\n",
            ctl->endpoint, ctl->timeout_ms / 1000.0,
            strncmp(ctl->endpoint, "tcp://", 6) == 0
                ? "; a refused CURVE key looks the same: check --curve-key and --server-key"
                : "");
    return QC_CTL_NO_BROKER;
}

/* Starts the local broker in the background. Returns its pid, or 0 after
 * printing why not. */
static int s_start_broker(void)
{
    char log_path[4096], program[4096];
    if (qc_home_path(log_path, sizeof log_path, "broker.log") != 0) {
        qc_ctl_usage_error("cannot work out $QUEUECTL_HOME/broker.log");
        return 0;
    }
    if (qc_spawn_program_path("queuectl-broker", program, sizeof program) != 0) {
        qc_ctl_usage_error("cannot find queuectl-broker next to queuectl or on PATH");
        return 0;
    }
    char *argv[] = {program, NULL};
    int pid = qc_spawn_detached(argv, log_path);
    if (pid < 0) {
        qc_ctl_usage_error("cannot start queuectl-broker: %s", strerror(errno));
        return 0;
    }
    return pid;
}

/* Waits for the reply to the outstanding request: 0 with *reply, 1 if none
 * came in time, -1/-2 as qc_client_recv, -3 if a broker could not be
 * started (said on stderr). While it waits on the default
 * endpoint with autostart allowed, a broker is started the moment it is
 * clear that none runs (no live pid in broker.pid), and the request is sent
 * again, to it: the first copy went nowhere (the socket is reset, so it
 * can't be delivered later). */
static int s_wait_reply(qc_ctl_t *ctl, const cJSON *request, cJSON **reply)
{
    int local = qc_endpoint_is_default_client(ctl->endpoint);
    /* Aimed at a broker by name (--broker, QUEUECTL_BROKER): never start one. */
    int may_start = local && ctl->autostart && !ctl->no_autostart && !ctl->endpoint_flag &&
                    !getenv("QUEUECTL_BROKER");
    int64_t deadline = qc_clock_mono_ms() + ctl->timeout_ms;
    int started = 0, status;
    char log_path[4096] = "";
    for (;;) {
        int64_t left = deadline - qc_clock_mono_ms();
        if (left <= 0)
            break;
        int rc = qc_client_recv(
            ctl->client, local ? (left < S_SLICE_MS ? (int)left : S_SLICE_MS) : (int)left, reply);
        if (rc != 1) {
            /* Only if ours is the broker that runs (not one that lost the race). */
            if (rc == 0 && started > 0 && qc_spawn_broker_pid() == started)
                fprintf(stderr, "queuectl: started a local broker (pid %d, log %s)\n", started,
                        log_path);
            return rc;
        }
        if (!local)
            continue;
        if (started < 0)
            continue; /* ours lost the race; the broker that won will answer */
        if (started > 0) {
            /* Ours died at start-up: give up, unless another broker (started
             * by a concurrent command) holds the database and will answer. */
            if (waitpid(started, &status, WNOHANG) == started) {
                int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
                if (code != S_BROKER_LOCKED) {
                    qc_client_reset(ctl->client);
                    fprintf(stderr, "queuectl: the broker exited at start-up; see %s\n", log_path);
                    return -3;
                }
                started = -1;
            }
            continue;
        }
        if (qc_spawn_broker_pid())
            continue; /* a broker runs: it may just be busy */
        if (!may_start)
            break; /* nothing can answer */
        qc_client_reset(ctl->client);
        ctl->autostart = may_start = 0; /* once per process */
        if (!(started = s_start_broker()))
            return -3;
        qc_home_path(log_path, sizeof log_path, "broker.log");
        if (qc_client_send(ctl->client, request) != 0)
            return -1;
        deadline = qc_clock_mono_ms() +
                   (ctl->timeout_ms > S_START_TIMEOUT_MS ? ctl->timeout_ms : S_START_TIMEOUT_MS);
    }
    qc_client_reset(ctl->client);
    if (started > 0) {
        fprintf(stderr, "queuectl: started a broker (pid %d) but it did not answer; see %s\n",
                started, log_path);
        return -3;
    }
    return 1;
}

int qc_ctl_call(qc_ctl_t *ctl, cJSON *request, cJSON **reply)
{
    *reply = NULL;
    int rc = s_client(ctl);
    if (rc != QC_CTL_OK) {
        cJSON_Delete(request);
        return rc;
    }
    int got = qc_client_send(ctl->client, request);
    if (got == 0)
        got = s_wait_reply(ctl, request, reply);
    cJSON_Delete(request);
    if (got == -3)
        return QC_CTL_NO_BROKER;
    if (got == -1 || got == 1)
        return s_no_broker(ctl);
    if (got != 0) {
        fprintf(stderr, "queuectl: the broker at %s sent a malformed reply\n", ctl->endpoint);
        return QC_CTL_REFUSED;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(*reply, "ok")))
        return QC_CTL_OK;
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(*reply, "error");
    const char *code = qc_json_string(error, "code");
    const char *message = qc_json_string(error, "message");
    if (ctl->json)
        qc_out_json(*reply);
    fprintf(stderr, "queuectl: %s\n", message ? message : "the broker refused the request");
    int exit_code = s_exit_for(code);
    cJSON_Delete(*reply);
    *reply = NULL;
    return exit_code;
}

int qc_ctl_broker_endpoint(qc_ctl_t *ctl, const char *which, char *buf, size_t len)
{
    cJSON *reply;
    int rc = qc_ctl_call(ctl, qc_ctl_request("ping"), &reply);
    if (rc != QC_CTL_OK)
        return rc;
    const char *endpoint = qc_json_string(reply, which);
    if (!endpoint) {
        cJSON_Delete(reply);
        fprintf(stderr, "queuectl: the broker has no %s\n", which);
        return QC_CTL_REFUSED;
    }
    snprintf(buf, len, "%s", endpoint);
    cJSON_Delete(reply);
    /* A broker bound to every interface reports a wildcard: connect to the
     * host this CLI reached it by. */
    const char *port = NULL;
    if (strncmp(buf, "tcp://*:", 8) == 0)
        port = buf + 8;
    else if (strncmp(buf, "tcp://0.0.0.0:", 14) == 0)
        port = buf + 14;
    if (port && strncmp(ctl->endpoint, "tcp://", 6) == 0) {
        char host[256], port_text[16];
        snprintf(host, sizeof host, "%s", ctl->endpoint + 6);
        snprintf(port_text, sizeof port_text, "%s", port);
        char *colon = strrchr(host, ':');
        if (colon)
            *colon = '\0';
        snprintf(buf, len, "tcp://%s:%s", host, port_text);
    }
    return QC_CTL_OK;
}

int qc_ctl_list(qc_ctl_t *ctl, int argc, char **argv, const char *op, const char *key,
                cJSON **reply, const cJSON **items)
{
    *reply = NULL;
    int rc = qc_ctl_parse_none(ctl, argc, argv);
    if (rc != QC_CTL_OK || (rc = qc_ctl_call(ctl, qc_ctl_request(op), reply)) != QC_CTL_OK)
        return rc;
    *items = cJSON_GetObjectItemCaseSensitive(*reply, key);
    if (ctl->json) {
        qc_out_json(*items);
        cJSON_Delete(*reply);
        *reply = NULL;
    }
    return QC_CTL_OK;
}
