/* Tokens and what a newcomer keeps after joining (queuectl/join.h). */
#include "queuectl/join.h"
#include "queuectl/clock.h"
#include "queuectl/curve.h"
#include "queuectl/paths.h"
#include "queuectl/proto.h"

#include <cjson/cJSON.h>
#include <czmq.h>
#include <ctype.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static zarmour_t *s_armour(void)
{
    zarmour_t *armour = zarmour_new();
    if (armour) {
        zarmour_set_mode(armour, ZARMOUR_MODE_BASE64_URL);
        zarmour_set_pad(armour, false);
        zarmour_set_line_breaks(armour, false);
    }
    return armour;
}

char *qc_token_encode(const qc_token_t *token)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddNumberToObject(obj, "v", 1);
    cJSON_AddStringToObject(obj, "role", token->role);
    cJSON_AddStringToObject(obj, "endpoint", token->endpoint);
    cJSON_AddStringToObject(obj, "key", token->key);
    cJSON_AddStringToObject(obj, "invite", token->invite);
    cJSON_AddStringToObject(obj, "secret", token->secret);
    char *json = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    zarmour_t *armour = s_armour();
    char *armoured =
        json && armour ? zarmour_encode(armour, (const byte *)json, strlen(json)) : NULL;
    zarmour_destroy(&armour);
    cJSON_free(json);
    char *text = NULL;
    if (armoured && (text = malloc(strlen(QC_TOKEN_PREFIX) + strlen(armoured) + 1)))
        sprintf(text, "%s%s", QC_TOKEN_PREFIX, armoured);
    zstr_free(&armoured);
    return text;
}

static int s_hex(const char *text, size_t len)
{
    if (strlen(text) != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isxdigit((unsigned char)text[i]) || isupper((unsigned char)text[i]))
            return 0;
    return 1;
}

/* Copies obj[key] (a string of at most size-1 bytes) into out. */
static int s_field(const cJSON *obj, const char *key, char *out, size_t size)
{
    const char *value = qc_json_string(obj, key);
    if (!value || !*value || strlen(value) >= size)
        return -1;
    memcpy(out, value, strlen(value) + 1);
    return 0;
}

int qc_token_decode(const char *text, qc_token_t *token, char *err, size_t errlen)
{
    memset(token, 0, sizeof *token);
    while (isspace((unsigned char)*text))
        text++;
    size_t len = strlen(text);
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    size_t prefix = strlen(QC_TOKEN_PREFIX);
    if (len <= prefix || strncmp(text, QC_TOKEN_PREFIX, prefix) != 0 || len > 4096) {
        snprintf(err, errlen,
                 "that is not a join token (one starts with '%s': copy the whole line "
                 "'queuectl invite' printed)",
                 QC_TOKEN_PREFIX);
        return -1;
    }
    char body[4097];
    memcpy(body, text + prefix, len - prefix);
    body[len - prefix] = '\0';
    for (const char *p = body; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
            snprintf(err, errlen,
                     "the token holds a character it cannot ('%c'): was it cut or "
                     "changed on the way?",
                     *p);
            return -1;
        }
    zarmour_t *armour = s_armour();
    zchunk_t *chunk = armour ? zarmour_decode(armour, body) : NULL;
    zarmour_destroy(&armour);
    char jerr[128];
    size_t size = chunk ? zchunk_size(chunk) : 0;
    while (size > 0 && zchunk_data(chunk)[size - 1] == '\0')
        size--; /* zarmour ends what it decodes with a NUL, counted in the size */
    cJSON *obj =
        chunk ? qc_json_parse_object((const char *)zchunk_data(chunk), size, jerr, sizeof jerr)
              : NULL;
    zchunk_destroy(&chunk);
    int64_t version = 0;
    if (!obj || qc_json_int(obj, "v", &version) != 0) {
        cJSON_Delete(obj);
        snprintf(err, errlen, "the token is damaged (truncated when copied?)");
        return -1;
    }
    if (version != 1) {
        cJSON_Delete(obj);
        snprintf(err, errlen, "the token is of version %lld; this queuectl reads version 1",
                 (long long)version);
        return -1;
    }
    int bad = s_field(obj, "role", token->role, sizeof token->role) != 0 ||
              s_field(obj, "endpoint", token->endpoint, sizeof token->endpoint) != 0 ||
              s_field(obj, "key", token->key, sizeof token->key) != 0 ||
              s_field(obj, "invite", token->invite, sizeof token->invite) != 0 ||
              s_field(obj, "secret", token->secret, sizeof token->secret) != 0;
    cJSON_Delete(obj);
    if (bad || (strcmp(token->role, "worker") != 0 && strcmp(token->role, "client") != 0) ||
        strlen(token->key) != 40 || strncmp(token->endpoint, "tcp://", 6) != 0 ||
        !s_hex(token->invite, QC_INVITE_ID_HEX) || !s_hex(token->secret, QC_INVITE_SECRET_HEX)) {
        snprintf(err, errlen, "the token is damaged: a field is missing or malformed");
        return -1;
    }
    return 0;
}

/* The public key of the cert at path, or "" if none. */
static void s_cert_key(const char *path, char *out, size_t len)
{
    out[0] = '\0';
    zcert_t *cert = access(path, F_OK) == 0 ? zcert_load(path) : NULL;
    if (cert)
        snprintf(out, len, "%s", zcert_public_txt(cert));
    zcert_destroy(&cert);
}

int qc_join_prepare(const qc_token_t *token, char *key_path, size_t len, char *err, size_t errlen)
{
    char dir[4096], path[4200], key[64];
    if (qc_home_path(dir, sizeof dir, "keys") != 0) {
        snprintf(err, errlen, "QUEUECTL_HOME is unusable");
        return -1;
    }
    snprintf(path, sizeof path, "%s/broker.cert_secret", dir);
    if (access(path, F_OK) == 0) {
        snprintf(err, errlen,
                 "%s/ holds a broker's own key: this home belongs to a broker. Join from "
                 "another machine, or set QUEUECTL_HOME to another directory",
                 dir);
        return -1;
    }
    snprintf(path, sizeof path, "%s/broker.cert", dir);
    s_cert_key(path, key, sizeof key);
    if (key[0] && strcmp(key, token->key) != 0) {
        snprintf(err, errlen,
                 "this home has already joined another broker (key %s in %s): set "
                 "QUEUECTL_HOME to another directory, or remove that file first",
                 key, path);
        return -1;
    }
    int n = snprintf(key_path, len, "%s/%s.cert_secret", dir, token->role);
    if (n < 0 || (size_t)n >= len) {
        snprintf(err, errlen, "QUEUECTL_HOME is too long");
        return -1;
    }
    if (access(key_path, F_OK) == 0)
        return 0; /* an existing keypair is enrolled as it is */
    return qc_curve_keygen(dir, token->role, token->role, err, errlen);
}

int qc_join_save(const qc_token_t *token, char *err, size_t errlen)
{
    char path[4200], meta[32];
    if (qc_home_path(path, sizeof path, "keys/broker.cert") != 0) {
        snprintf(err, errlen, "QUEUECTL_HOME is unusable");
        return -1;
    }
    byte public_key[32], secret_key[32] = {0};
    if (!zmq_z85_decode(public_key, token->key)) {
        snprintf(err, errlen, "the token's broker key is not a Z85 key");
        return -1;
    }
    zcert_t *cert = zcert_new_from(public_key, secret_key);
    if (!cert) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    zcert_set_meta(cert, "name", "broker");
    zcert_set_meta(cert, "role", "broker");
    /* The other role's endpoint, if this broker was joined for it before. */
    zcert_t *old = access(path, F_OK) == 0 ? zcert_load(path) : NULL;
    const char *other = strcmp(token->role, "worker") == 0 ? "client" : "worker";
    snprintf(meta, sizeof meta, "%s-endpoint", other);
    if (old && strcmp(zcert_public_txt(old), token->key) == 0 && zcert_meta(old, meta))
        zcert_set_meta(cert, meta, "%s", zcert_meta(old, meta));
    zcert_destroy(&old);
    snprintf(meta, sizeof meta, "%s-endpoint", token->role);
    zcert_set_meta(cert, meta, "%s", token->endpoint);
    int rc = zcert_save_public(cert, path);
    zcert_destroy(&cert);
    if (rc != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    chmod(path, 0644);
    return 0;
}

int qc_joined_endpoint(const char *role, char *buf, size_t len)
{
    char path[4200], meta[32];
    if (qc_home_path(path, sizeof path, "keys/broker.cert") != 0 || access(path, F_OK) != 0)
        return -1;
    zcert_t *cert = zcert_load(path);
    if (!cert)
        return -1;
    snprintf(meta, sizeof meta, "%s-endpoint", role);
    const char *endpoint = zcert_meta(cert, meta);
    int rc = -1;
    if (endpoint && *endpoint) {
        int n = snprintf(buf, len, "%s", endpoint);
        rc = (n < 0 || (size_t)n >= len) ? -1 : 0;
    }
    zcert_destroy(&cert);
    return rc;
}

int qc_join_exit_code(const char *code)
{
    if (!code)
        return 1;
    if (strcmp(code, QC_E_INVITE_INVALID) == 0)
        return QC_EXIT_JOIN_INVALID;
    if (strcmp(code, QC_E_INVITE_EXPIRED) == 0)
        return QC_EXIT_JOIN_EXPIRED;
    if (strcmp(code, QC_E_INVITE_USED) == 0)
        return QC_EXIT_JOIN_USED;
    if (strcmp(code, QC_E_RATE_LIMITED) == 0)
        return QC_EXIT_JOIN_LIMITED;
    return 1;
}

/* ---- Enrolling a key: ENROLL on the worker socket, op enroll on the client one */

/* The answer to our ENROLL (worker) or enroll (client): 0 with name_out,
 * an exit status with err, or -1 if it was not an answer. */
static int s_answer(const qc_token_t *token, zmsg_t *frames, char *name_out, size_t len, char *err,
                    size_t errlen)
{
    int status = -1;
    char why[128];
    if (strcmp(token->role, "worker") == 0) {
        qc_wmsg_t msg = {0};
        if (qc_wmsg_decode(frames, &msg, why, sizeof why) == 0 && msg.valid &&
            msg.type == QC_WMSG_ENROLLED) {
            snprintf(name_out, len, "%s", msg.enrolled.name);
            status = 0;
        } else if (msg.type == QC_WMSG_DENIED) {
            snprintf(err, errlen, "%s",
                     msg.denied.message ? msg.denied.message : "the broker refused this key");
            status = qc_join_exit_code(msg.denied.code);
        }
        qc_wmsg_clear(&msg);
        return status;
    }
    zframe_t *frame = zmsg_last(frames);
    cJSON *reply = frame ? qc_json_parse_object((const char *)zframe_data(frame),
                                                zframe_size(frame), why, sizeof why)
                         : NULL;
    if (reply && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
        const char *name = qc_json_string(reply, "name");
        snprintf(name_out, len, "%s", name ? name : "?");
        status = 0;
    } else if (reply) {
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(reply, "error");
        const char *message = qc_json_string(error, "message");
        snprintf(err, errlen, "%s", message ? message : "the broker refused this key");
        status = qc_join_exit_code(qc_json_string(error, "code"));
    }
    cJSON_Delete(reply);
    return status;
}

/* Waits for the answer, or a refused handshake. Returns an exit status. */
static int s_wait(const qc_token_t *token, zsock_t *sock, zsock_t *monitor, int timeout_ms,
                  char *name_out, size_t len, char *err, size_t errlen)
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
                snprintf(err, errlen,
                         "the broker at %s refused this key at the handshake: no invite for "
                         "%ss is open there (the token expired or was used up over a day ago, "
                         "or was revoked): ask for a new token",
                         token->endpoint, token->role);
            else
                snprintf(err, errlen,
                         "the secure handshake with %s failed: the broker there is not the one "
                         "that made this token (its key differs), or it does not use CURVE",
                         token->endpoint);
            status = QC_EXIT_JOIN_INVALID;
        } else if (which == sock) {
            zmsg_t *frames = zmsg_recv(sock);
            if (frames)
                status = s_answer(token, frames, name_out, len, err, errlen);
            zmsg_destroy(&frames);
        } else {
            break; /* interrupted */
        }
    }
    zpoller_destroy(&poller);
    if (status < 0) {
        snprintf(err, errlen,
                 "no answer from the broker at %s within %d s: is it running, and reachable "
                 "from here (firewall, address)?",
                 token->endpoint, timeout_ms / 1000);
        status = QC_EXIT_JOIN_NO_BROKER;
    }
    return status;
}

/* Sends the enrollment: ENROLL (worker) or {"op":"enroll"} (client). */
static int s_send_enroll(const qc_token_t *token, zsock_t *sock, const char *name, const char *host)
{
    if (strcmp(token->role, "worker") == 0) {
        qc_wmsg_t enroll = {.type = QC_WMSG_ENROLL,
                            .enroll = {token->invite, token->secret, name, host}};
        return qc_wmsg_send(sock, &enroll);
    }
    cJSON *request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "op", "enroll");
    cJSON_AddStringToObject(request, "invite", token->invite);
    cJSON_AddStringToObject(request, "secret", token->secret);
    cJSON_AddStringToObject(request, "name", name);
    cJSON_AddStringToObject(request, "host", host);
    char *text = cJSON_PrintUnformatted(request);
    cJSON_Delete(request);
    int rc = text ? zstr_send(sock, text) : -1;
    cJSON_free(text);
    return rc;
}

int qc_join_enroll(const qc_token_t *token, const char *key_path, const char *name, int timeout_ms,
                   char *name_out, size_t len, char *err, size_t errlen)
{
    int worker = strcmp(token->role, "worker") == 0;
    zsock_t *sock = zsock_new(worker ? ZMQ_DEALER : ZMQ_REQ);
    zsock_t *monitor = NULL;
    int status = 1;
    snprintf(err, errlen, "out of memory");
    if (!sock)
        goto done;
    zsock_set_linger(sock, 0);
    zsock_set_maxmsgsize(sock, QC_MAX_MESSAGE_BYTES);
    if (qc_curve_client_apply(sock, token->endpoint, key_path, token->key, token->role, 0, err,
                              errlen) != 0)
        goto done;
    static atomic_int seq; /* a monitor address of its own per call, whatever the thread */
    char address[64];
    snprintf(address, sizeof address, "inproc://qc-join-monitor-%d-%d", (int)getpid(),
             atomic_fetch_add(&seq, 1));
    if (zmq_socket_monitor(zsock_resolve(sock), address,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0) {
        monitor = zsock_new(ZMQ_PAIR);
        if (monitor && zsock_connect(monitor, "%s", address) != 0)
            zsock_destroy(&monitor);
    }
    if (!monitor || zsock_connect(sock, "%s", token->endpoint) != 0) {
        snprintf(err, errlen, "cannot connect to %s", token->endpoint);
        goto done;
    }
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    if (s_send_enroll(token, sock,
                      name && *name ? name
                      : host[0]     ? host
                                    : token->role,
                      host) != 0) {
        snprintf(err, errlen, "cannot send to %s", token->endpoint);
        goto done;
    }
    status = s_wait(token, sock, monitor, timeout_ms, name_out, len, err, errlen);
done:
    if (sock)
        zmq_socket_monitor(zsock_resolve(sock), NULL, 0);
    zsock_destroy(&monitor);
    zsock_destroy(&sock);
    return status;
}
