/* queuectl-worker --join (join.h). */
#include "join.h"
#include "queuectl/clock.h"
#include "queuectl/curve.h"
#include "queuectl/log.h"
#include "queuectl/proto.h"

#include <czmq.h>
#include <string.h>
#include <unistd.h>

#define S_NO_BROKER 3

/* Waits for ENROLLED or DENIED (or a refused handshake). Returns an exit status. */
static int s_wait(const qc_token_t *token, zsock_t *sock, zsock_t *monitor, int timeout_ms,
                  char *name_out, size_t len)
{
    zpoller_t *poller = zpoller_new(sock, monitor, NULL);
    int64_t deadline = qc_clock_mono_ms() + timeout_ms;
    int status = -1;
    while (status < 0 && poller) {
        int64_t left = deadline - qc_clock_mono_ms();
        if (left <= 0)
            break;
        zsock_t *which = zpoller_wait(poller, (int)left);
        if (which == monitor) {
            zmsg_t *event = zmsg_recv(monitor);
            zframe_t *head = event ? zmsg_first(event) : NULL;
            uint16_t code = 0;
            if (head && zframe_size(head) >= 2)
                memcpy(&code, zframe_data(head), sizeof code);
            zmsg_destroy(&event);
            if (code == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
                qc_error("the broker at %s refused this key at the handshake: no invite for "
                         "workers is open there (the token expired or was used up over a day "
                         "ago, or was revoked): ask for a new token",
                         token->endpoint);
            else
                qc_error("the secure handshake with %s failed: the broker there is not the one "
                         "that made this token (its key differs), or it does not use CURVE",
                         token->endpoint);
            status = QC_EXIT_JOIN_INVALID;
        } else if (which == sock) {
            zmsg_t *msg = zmsg_recv(sock);
            const char *command = NULL;
            cJSON *body = NULL;
            char err[128];
            if (msg && qc_wmsg_decode(msg, &command, &body, err, sizeof err) == 0 &&
                strcmp(command, QC_B_ENROLLED) == 0) {
                const char *name = qc_json_string(body, "name");
                snprintf(name_out, len, "%s", name ? name : "?");
                status = 0;
            } else if (command && strcmp(command, QC_B_DENIED) == 0) {
                const char *code = qc_json_string(body, "code");
                const char *message = qc_json_string(body, "message");
                qc_error("the broker refused to enroll this worker: %s", message ? message
                                                                         : code
                                                                             ? code
                                                                             : "no reason given");
                status = qc_join_exit_code(code);
            } else if (command) {
                qc_debug("join: ignored %s from the broker", command);
            }
            cJSON_Delete(body);
            zmsg_destroy(&msg);
        } else {
            break; /* interrupted */
        }
    }
    zpoller_destroy(&poller);
    if (status < 0) {
        qc_error("no answer from the broker at %s within %d s: is it running, and reachable "
                 "from here (firewall, address)?",
                 token->endpoint, timeout_ms / 1000);
        status = S_NO_BROKER;
    }
    return status;
}

int qc_worker_join(const qc_token_t *token, const char *key_path, const char *name, int timeout_ms,
                   char *name_out, size_t len)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    zsock_t *monitor = NULL;
    int status = 1;
    char err[512];
    if (!sock)
        goto done;
    zsock_set_linger(sock, 0);
    zsock_set_maxmsgsize(sock, QC_MAX_MESSAGE_BYTES);
    if (qc_curve_client_apply(sock, token->endpoint, key_path, token->key, "worker", 0, err,
                              sizeof err) != 0) {
        qc_error("%s", err);
        goto done;
    }
    static int seq = 0;
    char address[64];
    snprintf(address, sizeof address, "inproc://qc-join-monitor-%d", ++seq);
    if (zmq_socket_monitor(zsock_resolve(sock), address,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0) {
        monitor = zsock_new(ZMQ_PAIR);
        if (monitor && zsock_connect(monitor, "%s", address) != 0)
            zsock_destroy(&monitor);
    }
    if (!monitor || zsock_connect(sock, "%s", token->endpoint) != 0) {
        qc_error("cannot connect to %s", token->endpoint);
        goto done;
    }
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "invite", token->invite);
    cJSON_AddStringToObject(body, "secret", token->secret);
    cJSON_AddStringToObject(body, "name", name && *name ? name : host[0] ? host : "worker");
    cJSON_AddStringToObject(body, "host", host);
    int sent = qc_wmsg_send(sock, NULL, QC_W_ENROLL, body);
    cJSON_Delete(body);
    if (sent != 0) {
        qc_error("cannot send to %s", token->endpoint);
        goto done;
    }
    status = s_wait(token, sock, monitor, timeout_ms, name_out, len);
done:
    if (sock)
        zmq_socket_monitor(zsock_resolve(sock), NULL, 0);
    zsock_destroy(&monitor);
    zsock_destroy(&sock);
    return status;
}
