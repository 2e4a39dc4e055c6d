#include "outbox.h"
#include "queuectl/protocol.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    qc_out_to_t to;
    zmsg_t *msg;
    qc_out_kind_t kind;
} s_out_t;

struct _qc_outbox_t {
    zlistx_t *queue; /* s_out_t*, owned */
};

static const char s_oom_reply[] =
    "{\"ok\":false,\"error\":{\"code\":\"storage\",\"message\":\"out of memory\"}}";

static void s_out_free(void **item)
{
    s_out_t *out = *item;
    if (out) {
        zmsg_destroy(&out->msg);
        free(out);
    }
    *item = NULL;
}

qc_outbox_t *qc_outbox_new(void)
{
    qc_outbox_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->queue = zlistx_new();
    if (!self->queue) {
        free(self);
        return NULL;
    }
    zlistx_set_destructor(self->queue, s_out_free);
    return self;
}

void qc_outbox_destroy(qc_outbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zlistx_destroy(&(*self_p)->queue);
    free(*self_p);
    *self_p = NULL;
}

cJSON *qc_outbox_error(const char *code, const char *message)
{
    cJSON *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(reply, "ok", 0);
    cJSON *error = cJSON_AddObjectToObject(reply, "error");
    cJSON_AddStringToObject(error, "code", code);
    cJSON_AddStringToObject(error, "message", message);
    return reply;
}

static void s_queue(qc_outbox_t *self, qc_out_to_t to, zmsg_t *msg, qc_out_kind_t kind)
{
    s_out_t *out = calloc(1, sizeof *out);
    if (!out) {
        zmsg_destroy(&msg);
        return;
    }
    out->to = to;
    out->msg = msg;
    out->kind = kind;
    zlistx_add_end(self->queue, out);
}

static void s_add_json(zmsg_t *msg, const cJSON *obj)
{
    char *text = cJSON_PrintUnformatted(obj);
    if (text) {
        zmsg_addmem(msg, text, strlen(text));
        cJSON_free(text);
    } else {
        zmsg_addstr(msg, s_oom_reply);
    }
}

void qc_outbox_reply(qc_outbox_t *self, zmsg_t **envelope_p, cJSON **reply_p)
{
    qc_outbox_reply_to(self, QC_OUT_TO_CLIENT, envelope_p, reply_p);
}

void qc_outbox_reply_to(qc_outbox_t *self, qc_out_to_t to, zmsg_t **envelope_p, cJSON **reply_p)
{
    zmsg_t *msg = *envelope_p;
    *envelope_p = NULL;
    char *text = cJSON_PrintUnformatted(*reply_p);
    cJSON_Delete(*reply_p);
    *reply_p = NULL;
    if (text && strlen(text) > QC_MAX_REPLY_BYTES) {
        cJSON_free(text);
        char message[128];
        snprintf(message, sizeof message,
                 "the reply would exceed %d bytes: ask for less (a smaller limit or page)",
                 QC_MAX_REPLY_BYTES);
        cJSON *error = qc_outbox_error(QC_E_TOO_LARGE, message);
        text = cJSON_PrintUnformatted(error);
        cJSON_Delete(error);
    }
    if (text) {
        zmsg_addmem(msg, text, strlen(text));
        cJSON_free(text);
    } else {
        zmsg_addstr(msg, s_oom_reply);
    }
    s_queue(self, to, msg, QC_OUT_CLIENT_REPLY);
}

void qc_outbox_publish(qc_outbox_t *self, const char *topic, const cJSON *body)
{
    zmsg_t *msg = zmsg_new();
    zmsg_addstr(msg, topic);
    s_add_json(msg, body);
    s_queue(self, QC_OUT_TO_EVENTS, msg, QC_OUT_AFTER_COMMIT);
}

void qc_outbox_send_worker(qc_outbox_t *self, zframe_t *routing_id, zmsg_t **msg_p,
                           qc_out_kind_t kind)
{
    zmsg_t *msg = *msg_p;
    *msg_p = NULL;
    if (!msg)
        return;
    zmsg_prepend(msg, &(zframe_t *){zframe_dup(routing_id)});
    s_queue(self, QC_OUT_TO_WORKER, msg, kind);
}

size_t qc_outbox_size(qc_outbox_t *self)
{
    return zlistx_size(self->queue);
}

void qc_outbox_truncate(qc_outbox_t *self, size_t size)
{
    while (zlistx_size(self->queue) > size) {
        zlistx_last(self->queue);
        zlistx_delete(self->queue, zlistx_cursor(self->queue));
    }
}

void qc_outbox_purge(qc_outbox_t *self)
{
    zlistx_purge(self->queue);
}

unsigned qc_outbox_flush(qc_outbox_t *self, zsock_t *client, zsock_t *worker, zsock_t *events,
                         zsock_t *local, int committed)
{
    unsigned sent_on = 0;
    for (s_out_t *out = zlistx_first(self->queue); out; out = zlistx_next(self->queue)) {
        if (committed <= 0 && out->kind == QC_OUT_AFTER_COMMIT)
            continue;
        /* Every client reply of a failed pass becomes an error, reads and
         * refusals included: a "duplicate" or a count read inside the
         * rolled-back transaction may describe what was never stored. */
        if (committed <= 0 && out->kind == QC_OUT_CLIENT_REPLY) {
            zframe_t *last = zmsg_last(out->msg);
            zmsg_remove(out->msg, last);
            zframe_destroy(&last);
            cJSON *error =
                committed < 0
                    ? qc_outbox_error(QC_E_IN_DOUBT,
                                      "the connection to the database broke while committing: "
                                      "this may or may not have been stored; send it again "
                                      "with the same ids ('duplicate' then means it was)")
                    : qc_outbox_error(QC_E_STORAGE, "the database could not commit: "
                                                    "nothing was stored, try again");
            s_add_json(out->msg, error);
            cJSON_Delete(error);
        }
        zsock_t *sock = out->to == QC_OUT_TO_CLIENT   ? client
                        : out->to == QC_OUT_TO_WORKER ? worker
                        : out->to == QC_OUT_TO_LOCAL  ? local
                                                      : events;
        /* A send can only fail for a vanished peer: that is the peer's loss. */
        if (sock) {
            zmsg_send(&out->msg, sock);
            sent_on |= 1u << out->to;
        }
    }
    zlistx_purge(self->queue);
    return sent_on;
}

static zmsg_t *s_read(s_out_t *out, qc_out_to_t *to, qc_out_kind_t *kind)
{
    if (!out)
        return NULL;
    if (to)
        *to = out->to;
    if (kind)
        *kind = out->kind;
    return out->msg;
}

zmsg_t *qc_outbox_first(qc_outbox_t *self, qc_out_to_t *to, qc_out_kind_t *kind)
{
    return s_read(zlistx_first(self->queue), to, kind);
}

zmsg_t *qc_outbox_next(qc_outbox_t *self, qc_out_to_t *to, qc_out_kind_t *kind)
{
    return s_read(zlistx_next(self->queue), to, kind);
}
