/* A REQ client that never hangs ("Lazy Pirate", zguide mdcliapi.c): poll the
 * reply with a deadline; on silence, throw the socket away so the next call
 * starts clean instead of being stuck in REQ's send/recv lockstep. */
#include "queuectl/client.h"
#include "queuectl/curve.h"
#include "queuectl/paths.h"
#include "queuectl/json.h"
#include "queuectl/protocol.h"

#include <czmq.h>
#include <string.h>

struct _qc_client_t {
    char *endpoint;
    int timeout_ms;
    zsock_t *sock;
    char *key_path; /* CURVE settings, NULL for defaults */
    char *server_key;
    int insecure;
    int pending; /* a request was sent and its reply not received yet */
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
        qc_endpoint_connect(self->sock, self->endpoint) != 0) {
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

int qc_client_send(qc_client_t *self, const cJSON *request)
{
    if (self->pending)
        qc_client_reset(self); /* REQ allows one request at a time */
    if (!self->sock && s_connect(self) != 0)
        return -1;
    char *text = cJSON_PrintUnformatted(request);
    if (!text)
        return -1;
    zframe_t *frame = zframe_new(text, strlen(text));
    cJSON_free(text);
    if (zframe_send(&frame, self->sock, 0) != 0) {
        zframe_destroy(&frame);
        zsock_destroy(&self->sock);
        return -1;
    }
    self->pending = 1;
    return 0;
}

int qc_client_recv(qc_client_t *self, int timeout_ms, cJSON **reply)
{
    *reply = NULL;
    if (!self->pending || !self->sock)
        return -1;
    zmq_pollitem_t item = {zsock_resolve(self->sock), 0, ZMQ_POLLIN, 0};
    int rc = zmq_poll(&item, 1, timeout_ms);
    if (rc == 0)
        return 1;
    if (rc < 0 || !(item.revents & ZMQ_POLLIN)) {
        qc_client_reset(self);
        return -1;
    }
    zframe_t *answer = zframe_recv(self->sock);
    self->pending = 0;
    if (!answer) {
        qc_client_reset(self);
        return -1;
    }
    char err[128];
    *reply = qc_json_parse_object((const char *)zframe_data(answer), zframe_size(answer), err,
                                  sizeof err);
    zframe_destroy(&answer);
    return *reply ? 0 : -2;
}

void qc_client_reset(qc_client_t *self)
{
    zsock_destroy(&self->sock); /* linger 0: a queued request is dropped, never sent later */
    self->pending = 0;
}

int qc_client_call(qc_client_t *self, const cJSON *request, cJSON **reply)
{
    *reply = NULL;
    if (qc_client_send(self, request) != 0)
        return -1;
    int rc = qc_client_recv(self, self->timeout_ms, reply);
    if (rc == 1) {
        qc_client_reset(self);
        return -1;
    }
    return rc;
}

/* ---- Convenience calls ------------------------------------------------- */

qc_client_t *qc_client_connect(void)
{
    char endpoint[1024];
    if (qc_client_endpoint(NULL, endpoint, sizeof endpoint) != 0)
        return NULL;
    return qc_client_new(endpoint, 2000);
}

/* One request (taken) -> 0 with *reply (caller owns) / -1 / 1 with err. */
static int s_request(qc_client_t *self, cJSON *request, cJSON **reply, char *err, size_t errlen)
{
    int rc = qc_client_call(self, request, reply);
    cJSON_Delete(request);
    if (rc != 0) {
        if (err)
            snprintf(err, errlen, "no broker answered at %s", self->endpoint);
        return -1;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(*reply, "ok")))
        return 0;
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(*reply, "error");
    const char *code = qc_json_string(error, "code");
    const char *message = qc_json_string(error, "message");
    if (err)
        snprintf(err, errlen, "%s: %s", code ? code : "error", message ? message : "refused");
    cJSON_Delete(*reply);
    *reply = NULL;
    return 1;
}

static cJSON *s_op(const char *op)
{
    cJSON *request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "op", op);
    return request;
}

int qc_client_enqueue(qc_client_t *self, const cJSON *job, char *id_out, char *err, size_t errlen)
{
    cJSON *request = s_op("enqueue");
    cJSON_AddItemToObject(request, "job", cJSON_Duplicate(job, 1));
    cJSON *reply;
    int rc = s_request(self, request, &reply, err, errlen);
    if (rc == 0) {
        snprintf(id_out, QC_MAX_ID_BYTES + 1, "%s", qc_json_string(reply, "id"));
        cJSON_Delete(reply);
    }
    return rc;
}

int qc_client_enqueue_command(qc_client_t *self, const char *command, char *id_out, char *err,
                              size_t errlen)
{
    cJSON *job = cJSON_CreateObject();
    cJSON_AddStringToObject(job, "command", command);
    int rc = qc_client_enqueue(self, job, id_out, err, errlen);
    cJSON_Delete(job);
    return rc;
}

int qc_client_enqueue_many(qc_client_t *self, const cJSON *jobs, cJSON **ids_out, char *err,
                           size_t errlen)
{
    cJSON *request = s_op("enqueue");
    cJSON_AddItemToObject(request, "jobs", cJSON_Duplicate(jobs, 1));
    cJSON *reply;
    int rc = s_request(self, request, &reply, err, errlen);
    if (rc == 0) {
        *ids_out = cJSON_DetachItemFromObject(reply, "ids");
        cJSON_Delete(reply);
    }
    return rc;
}

int qc_client_get(qc_client_t *self, const char *id, cJSON **job_out, char *err, size_t errlen)
{
    cJSON *request = s_op("get");
    cJSON_AddStringToObject(request, "id", id);
    cJSON *reply;
    int rc = s_request(self, request, &reply, err, errlen);
    if (rc == 0) {
        *job_out = cJSON_DetachItemFromObject(reply, "job");
        cJSON_Delete(reply);
    }
    return rc;
}

int qc_client_states(qc_client_t *self, const char *const *ids, int count, cJSON **jobs_out,
                     char *err, size_t errlen)
{
    cJSON *request = s_op("states");
    cJSON *list = cJSON_AddArrayToObject(request, "ids");
    for (int i = 0; i < count; i++)
        cJSON_AddItemToArray(list, cJSON_CreateString(ids[i]));
    cJSON *reply;
    int rc = s_request(self, request, &reply, err, errlen);
    if (rc == 0) {
        *jobs_out = cJSON_DetachItemFromObject(reply, "jobs");
        cJSON_Delete(reply);
    }
    return rc;
}

static int s_finished(const char *state)
{
    return state && (strcmp(state, "completed") == 0 || strcmp(state, "dead") == 0 ||
                     strcmp(state, "canceled") == 0);
}

/* The job's state alone (the states op): 0 with state copied, or as
 * s_request; a broker without the op answers 1 with "unknown_op" in err. */
static int s_state_of(qc_client_t *self, const char *id, char *state, size_t len, char *err,
                      size_t errlen)
{
    cJSON *jobs = NULL;
    int rc = qc_client_states(self, &id, 1, &jobs, err, errlen);
    if (rc == 0) {
        const char *text = qc_json_string(cJSON_GetArrayItem(jobs, 0), "state");
        snprintf(state, len, "%s", text ? text : "");
    }
    cJSON_Delete(jobs);
    return rc;
}

int qc_client_wait(qc_client_t *self, const char *id, int timeout_ms, cJSON **job_out, char *err,
                   size_t errlen)
{
    int64_t deadline = zclock_mono() + timeout_ms;
    int pause_ms = 10;
    int by_state = 1; /* poll the state alone; read the whole job once it is done */
    *job_out = NULL;
    for (;;) {
        char state[32] = "", state_err[256];
        if (by_state) {
            int rc = s_state_of(self, id, state, sizeof state, state_err, sizeof state_err);
            if (rc == 1 && strncmp(state_err, QC_E_UNKNOWN_OP, strlen(QC_E_UNKNOWN_OP)) == 0) {
                by_state = 0; /* an older broker: read the whole job every time */
            } else if (rc != 0) {
                if (err)
                    snprintf(err, errlen, "%s", state_err);
                return rc;
            }
        }
        int out_of_time = timeout_ms >= 0 && zclock_mono() >= deadline;
        /* an empty state is an unknown id: get says not_found */
        if (!by_state || !state[0] || s_finished(state) || out_of_time) {
            int rc = qc_client_get(self, id, job_out, err, errlen);
            if (rc != 0 || s_finished(qc_json_string(*job_out, "state")))
                return rc;
            if (out_of_time)
                return 2; /* with the job as it is now */
            cJSON_Delete(*job_out);
            *job_out = NULL;
        }
        zclock_sleep(pause_ms);
        if (pause_ms < 200) /* quick for short jobs, gentle for long ones */
            pause_ms *= 2;
    }
}

int qc_client_list(qc_client_t *self, const char *state, int limit, cJSON **jobs_out, char *err,
                   size_t errlen)
{
    cJSON *request = s_op("list");
    if (state)
        cJSON_AddStringToObject(request, "state", state);
    cJSON_AddNumberToObject(request, "limit", limit);
    cJSON *reply;
    int rc = s_request(self, request, &reply, err, errlen);
    if (rc == 0) {
        *jobs_out = cJSON_DetachItemFromObject(reply, "jobs");
        cJSON_Delete(reply);
    }
    return rc;
}
