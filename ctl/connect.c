/* The CLI's connection to the broker: resolve, call, and start the local
 * broker on demand. */
#include "ctl.h"
#include "queuectl/client.h"
#include "queuectl/clock.h"
#include "queuectl/paths.h"
#include "queuectl/proto.h"
#include "queuectl/protocol.h"

#include <string.h>
#include <unistd.h>

int qc_ctl_resolve(qc_ctl_t *ctl)
{
    if (ctl->endpoint[0])
        return QC_CTL_OK;
    if (qc_client_endpoint(ctl->endpoint_flag, ctl->endpoint, sizeof ctl->endpoint) != 0)
        return qc_ctl_usage_error("cannot work out the broker endpoint (QUEUECTL_HOME too long?)");
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

static int s_call_once(qc_ctl_t *ctl, const cJSON *request, cJSON **reply, int timeout_ms)
{
    qc_client_t *client = qc_client_new(ctl->endpoint, timeout_ms);
    if (!client)
        return -1;
    char err[512];
    if (qc_client_set_security(client, ctl->curve_key, ctl->server_key, ctl->insecure, err,
                               sizeof err) != 0) {
        qc_client_destroy(&client);
        fprintf(stderr, "queuectl: %s\n", err);
        return -3;
    }
    int rc = qc_client_call(client, request, reply);
    qc_client_destroy(&client);
    return rc;
}

static int s_no_broker(qc_ctl_t *ctl)
{
    fprintf(stderr,
            "queuectl: no broker answered at %s within %.1fs; start one with 'queuectl broker "
            "start' (or check --broker / QUEUECTL_BROKER%s)\n",
            ctl->endpoint, ctl->timeout_ms / 1000.0,
            strncmp(ctl->endpoint, "tcp://", 6) == 0
                ? "; a refused CURVE key looks the same: check --curve-key and --server-key"
                : "");
    return QC_CTL_NO_BROKER;
}

int qc_ctl_call(qc_ctl_t *ctl, cJSON *request, cJSON **reply)
{
    *reply = NULL;
    int rc = qc_ctl_resolve(ctl);
    if (rc == QC_CTL_OK && ctl->autostart)
        rc = qc_ctl_ensure_broker(ctl);
    if (rc != QC_CTL_OK) {
        cJSON_Delete(request);
        return rc;
    }
    int call = s_call_once(ctl, request, reply, ctl->timeout_ms);
    cJSON_Delete(request);
    if (call == -3)
        return QC_CTL_USAGE;
    if (call == -1)
        return s_no_broker(ctl);
    if (call != 0) {
        fprintf(stderr, "queuectl: the broker at %s sent a malformed reply\n", ctl->endpoint);
        return QC_CTL_REFUSED;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(*reply, "ok")))
        return QC_CTL_OK;
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(*reply, "error");
    const char *code = qc_json_string(error, "code");
    const char *message = qc_json_string(error, "message");
    if (ctl->json) {
        qc_out_json(*reply);
    }
    fprintf(stderr, "queuectl: %s\n", message ? message : "the broker refused the request");
    int exit_code = s_exit_for(code);
    cJSON_Delete(*reply);
    *reply = NULL;
    return exit_code;
}

/* Answers a ping quickly? Used to decide whether to start a broker. */
static int s_broker_answers(qc_ctl_t *ctl, int timeout_ms)
{
    cJSON *request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "op", "ping");
    cJSON *reply = NULL;
    int rc = s_call_once(ctl, request, &reply, timeout_ms);
    cJSON_Delete(request);
    cJSON_Delete(reply);
    return rc == 0;
}

int qc_ctl_ensure_broker(qc_ctl_t *ctl)
{
    int rc = qc_ctl_resolve(ctl);
    if (rc != QC_CTL_OK)
        return rc;
    ctl->autostart = 0; /* once per command */
    /* Only ever start the local broker, and only when none is running. */
    if (!qc_endpoint_is_default_client(ctl->endpoint))
        return QC_CTL_OK;
    char pid_path[4096], log_path[4096], program[4096];
    if (qc_home_path(pid_path, sizeof pid_path, "broker.pid") != 0 ||
        qc_home_path(log_path, sizeof log_path, "broker.log") != 0)
        return QC_CTL_USAGE;
    int pid = qc_spawn_read_pid(pid_path);
    if (pid && s_broker_answers(ctl, ctl->timeout_ms))
        return QC_CTL_OK;
    if (pid) /* alive but silent: don't start a second one on the same database */
        return s_no_broker(ctl);
    if (qc_spawn_program_path("queuectl-broker", program, sizeof program) != 0)
        return qc_ctl_usage_error("cannot find queuectl-broker next to queuectl or on PATH");
    char *argv[] = {program, NULL};
    pid = qc_spawn_detached(argv, log_path);
    if (pid < 0)
        return qc_ctl_usage_error("cannot start queuectl-broker");
    int64_t deadline = qc_clock_mono_ms() + 5000;
    while (qc_clock_mono_ms() < deadline) {
        if (!qc_spawn_alive(pid)) {
            fprintf(stderr, "queuectl: the broker exited at start-up; see %s\n", log_path);
            return QC_CTL_NO_BROKER;
        }
        if (s_broker_answers(ctl, 200)) {
            fprintf(stderr, "queuectl: started a local broker (pid %d, log %s)\n", pid, log_path);
            return QC_CTL_OK;
        }
    }
    fprintf(stderr, "queuectl: started a broker (pid %d) but it did not answer within 5s; see %s\n",
            pid, log_path);
    return QC_CTL_NO_BROKER;
}

int qc_ctl_broker_endpoint(qc_ctl_t *ctl, const char *which, char *buf, size_t len)
{
    cJSON *request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "op", "ping");
    cJSON *reply;
    int rc = qc_ctl_call(ctl, request, &reply);
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

/* Matches "--name VALUE" or "--name=VALUE" at argv[*i]. Returns 1 on a match
 * (advancing *i past the value), with *value NULL if the value is missing. */
int qc_ctl_flag_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t len = strlen(name);
    if (strncmp(argv[*i], name, len) != 0)
        return 0;
    if (argv[*i][len] == '=') {
        *value = argv[*i] + len + 1;
        return 1;
    }
    if (argv[*i][len] != '\0')
        return 0;
    *value = (*i + 1 < argc) ? argv[++*i] : NULL;
    return 1;
}

/* Flags every command takes. Returns 1 if argv[*i] was one (*rc set on error). */
int qc_ctl_common_flag(qc_ctl_t *ctl, int argc, char **argv, int *i, int *rc)
{
    const char *value;
    *rc = 0;
    if (strcmp(argv[*i], "--json") == 0) {
        ctl->json = 1;
        return 1;
    }
    if (strcmp(argv[*i], "--no-color") == 0) {
        qc_out_no_color();
        return 1;
    }
    if (qc_ctl_flag_value(argc, argv, i, "--broker", &value)) {
        if (!value)
            *rc = qc_ctl_usage_error("--broker needs an endpoint, e.g. tcp://host:5556");
        ctl->endpoint_flag = value;
        return 1;
    }
    return 0;
}
