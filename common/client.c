/* A REQ client that never hangs ("Lazy Pirate", zguide mdcliapi.c): poll the
 * reply with a deadline; on silence, throw the socket away so the next call
 * starts clean instead of being stuck in REQ's send/recv lockstep. */
#include "queuectl/client.h"
#include "queuectl/curve.h"
#include "queuectl/proto.h"

#include <czmq.h>
#include <string.h>

struct _qc_client_t {
    char *endpoint;
    int timeout_ms;
    zsock_t *sock;
    char *key_path; /* CURVE settings, NULL for defaults */
    char *server_key;
    int insecure;
};

static int s_connect(qc_client_t *self)
{
    self->sock = zsock_new(ZMQ_REQ);
    if (!self->sock)
        return -1;
    zsock_set_linger(self->sock, 0);
    zsock_set_sndtimeo(self->sock, self->timeout_ms);
    char err[512];
    if (qc_curve_client_apply(self->sock, self->endpoint, self->key_path, self->server_key,
                              "client", self->insecure, err, sizeof err) != 0 ||
        zsock_connect(self->sock, "%s", self->endpoint) != 0) {
        zsock_destroy(&self->sock);
        return -1;
    }
    return 0;
}

qc_client_t *qc_client_new(const char *endpoint, int timeout_ms)
{
    qc_client_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->endpoint = strdup(endpoint);
    self->timeout_ms = timeout_ms;
    if (!self->endpoint) {
        qc_client_destroy(&self);
        return NULL;
    }
    return self;
}

int qc_client_set_security(qc_client_t *self, const char *key_path, const char *server_key,
                           int insecure, char *err, size_t errlen)
{
    free(self->key_path);
    free(self->server_key);
    self->key_path = key_path ? strdup(key_path) : NULL;
    self->server_key = server_key ? strdup(server_key) : NULL;
    self->insecure = insecure;
    /* Check now, so a missing key is a clear error rather than a silent broker. */
    zsock_t *probe = zsock_new(ZMQ_REQ);
    if (!probe)
        return -1;
    int rc = qc_curve_client_apply(probe, self->endpoint, self->key_path, self->server_key,
                                   "client", insecure, err, errlen);
    zsock_destroy(&probe);
    return rc;
}

void qc_client_destroy(qc_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qc_client_t *self = *self_p;
    zsock_destroy(&self->sock);
    free(self->endpoint);
    free(self->key_path);
    free(self->server_key);
    free(self);
    *self_p = NULL;
}

const char *qc_client_get_endpoint(qc_client_t *self)
{
    return self->endpoint;
}

int qc_client_call(qc_client_t *self, const cJSON *request, cJSON **reply)
{
    *reply = NULL;
    if (!self->sock && s_connect(self) != 0)
        return -1;
    char *text = cJSON_PrintUnformatted(request);
    if (!text)
        return -2;
    zframe_t *frame = zframe_new(text, strlen(text));
    cJSON_free(text);
    if (zframe_send(&frame, self->sock, 0) != 0) {
        zframe_destroy(&frame);
        zsock_destroy(&self->sock);
        return -1;
    }
    zmq_pollitem_t item = {zsock_resolve(self->sock), 0, ZMQ_POLLIN, 0};
    int rc = zmq_poll(&item, 1, self->timeout_ms);
    if (rc <= 0 || !(item.revents & ZMQ_POLLIN)) {
        zsock_destroy(&self->sock);
        return -1;
    }
    zframe_t *answer = zframe_recv(self->sock);
    if (!answer) {
        zsock_destroy(&self->sock);
        return -1;
    }
    char err[128];
    *reply = qc_json_parse_object((const char *)zframe_data(answer), zframe_size(answer), err,
                                  sizeof err);
    zframe_destroy(&answer);
    return *reply ? 0 : -2;
}
