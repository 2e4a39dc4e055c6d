/* The events thread: SUB socket -> hub, status pushes, polling fallback. */
#include "feed.h"
#include "queuectl/client.h"
#include "queuectl/clock.h"
#include "queuectl/curve.h"
#include "queuectl/log.h"
#include "queuectl/json.h"

#include <czmq.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_EVENTS_POLL_MS 100
#define S_STATUS_MIN_MS 500   /* at most two status pushes a second */
#define S_STATUS_IDLE_MS 5000 /* and one every 5 s even without events */
#define S_POLLING_MS 1000     /* without an event stream: status every second */
#define S_MODE_CHECK_MS 2000  /* how often to look for the event stream's socket */

struct _qc_feed_t {
    qc_hub_t *hub;
    qc_upstream_t *upstream;
    char endpoint[1024]; /* "" if unknown: polling */
    atomic_int quit;
    pthread_t thread;
};

void qc_feed_resolve_endpoint(qc_upstream_t *upstream, const char *flag, char *buf, size_t len)
{
    buf[0] = '\0';
    if (flag) {
        snprintf(buf, len, "%s", flag);
        return;
    }
    cJSON *request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "op", "ping");
    int no_answer = 0;
    cJSON *reply = qc_upstream_call(upstream, request, &no_answer);
    cJSON_Delete(request);
    const char *endpoint = qc_json_string(reply, "events_endpoint");
    const char *broker = qc_upstream_config(upstream)->endpoint;
    if (!reply)
        fprintf(stderr,
                "queuectl-dashboard: warning: no broker answers at %s yet; the page will say so "
                "until one does\n",
                broker);
    if (endpoint && strncmp(endpoint, "tcp://", 6) == 0 &&
        (strncmp(endpoint + 6, "0.0.0.0:", 8) == 0 || strncmp(endpoint + 6, "*:", 2) == 0) &&
        strncmp(broker, "tcp://", 6) == 0) {
        /* bound on every interface: reach it on the broker's host */
        const char *port = strrchr(endpoint, ':');
        const char *host_end = strrchr(broker, ':');
        snprintf(buf, len, "%.*s%s", (int)(host_end - broker), broker, port);
    } else if (endpoint) {
        snprintf(buf, len, "%s", endpoint);
    } else if (strncmp(broker, "ipc://", 6) == 0 && strrchr(broker, '/') > broker + 5) {
        const char *slash = strrchr(broker, '/');
        snprintf(buf, len, "%.*s/events.sock", (int)(slash - broker), broker);
    }
    cJSON_Delete(reply);
}

/* ------------------------------------------------------------ events */

/* One message from the event stream: topic and JSON body. */
static void s_on_event(qc_hub_t *hub, zmsg_t *msg, int *dirty, int *completed, int *failed)
{
    char *topic = zmsg_popstr(msg);
    zframe_t *frame = zmsg_pop(msg);
    char err[128];
    cJSON *body = (topic && frame) ? qc_json_parse_object((const char *)zframe_data(frame),
                                                          zframe_size(frame), err, sizeof err)
                                   : NULL;
    if (body) {
        const char *id = qc_json_string(body, "id");
        cJSON_AddStringToObject(body, "topic", topic);
        if (strncmp(topic, "job.", 4) == 0) {
            if (strcmp(topic, "job.completed") == 0)
                (*completed)++;
            else if (strcmp(topic, "job.failed") == 0 || strcmp(topic, "job.dead") == 0)
                (*failed)++;
            if (id) /* a finished attempt's output is stored with it; a new one starts afresh */
                qc_hub_output_forget(hub, id);
            qc_hub_publish(hub, "job", body, id, 0);
            *dirty = 1;
        } else if (strncmp(topic, "worker.", 7) == 0) {
            qc_hub_publish(hub, "worker", body, NULL, 0);
            *dirty = 1;
        } else if (strncmp(topic, "output.", 7) == 0 && id && strcmp(topic + 7, id) == 0) {
            int64_t attempt = 0;
            const char *stream = qc_json_string(body, "stream");
            const char *data = qc_json_string(body, "data");
            if (stream && data && qc_json_int(body, "attempt", &attempt) == 0)
                qc_hub_output(hub, id, (int)attempt, stream, data);
        }
    } else {
        qc_debug("dashboard: dropped a malformed event (%s)", topic ? topic : "no topic");
    }
    cJSON_Delete(body);
    zframe_destroy(&frame);
    zstr_free(&topic);
}

/* Fetches status (or metrics, which holds it and the totals) and pushes it.
 * Returns the reply (caller owns) or NULL if the broker did not answer. */
static cJSON *s_fetch_status(qc_hub_t *hub, qc_client_t *client, int *metrics_ok)
{
    cJSON *request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "op", *metrics_ok ? "metrics" : "status");
    cJSON *reply = NULL;
    int rc = qc_client_call(client, request, &reply);
    cJSON_Delete(request);
    const char *code = qc_json_string(cJSON_GetObjectItemCaseSensitive(reply, "error"), "code");
    if (rc == 0 && *metrics_ok && code && strcmp(code, QC_E_UNKNOWN_OP) == 0) {
        *metrics_ok = 0; /* an older broker: status has what the page needs */
        cJSON_Delete(reply);
        return s_fetch_status(hub, client, metrics_ok);
    }
    cJSON *data = cJSON_CreateObject();
    int up = rc == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"));
    cJSON_AddBoolToObject(data, "broker_up", up);
    static const char *keys[] = {"counts", "workers", "busy", "oldest_pending_age_s"};
    for (size_t i = 0; up && i < sizeof keys / sizeof keys[0]; i++) {
        cJSON *item = cJSON_GetObjectItemCaseSensitive(reply, keys[i]);
        if (item)
            cJSON_AddItemToObject(data, keys[i], cJSON_Duplicate(item, 1));
    }
    cJSON_AddStringToObject(data, "live", qc_hub_polling(hub) ? "polling" : "events");
    qc_hub_publish(hub, "status", data, NULL, 0);
    cJSON_Delete(data);
    if (!up) {
        cJSON_Delete(reply);
        return NULL;
    }
    return reply;
}

/* Completed and failed totals from a status or metrics reply, for polling
 * mode's throughput: the metrics totals, else the state counts. */
static void s_totals(const cJSON *reply, double *completed, double *failed)
{
    const cJSON *totals = cJSON_GetObjectItemCaseSensitive(reply, "totals");
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(reply, "counts");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(totals ? totals : counts, "completed");
    *completed = cJSON_IsNumber(c) ? c->valuedouble : 0;
    *failed = 0;
    if (totals) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(totals, "failed");
        *failed = cJSON_IsNumber(f) ? f->valuedouble : 0;
        return;
    }
    static const char *keys[] = {"failed", "dead"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(counts, keys[i]);
        *failed += cJSON_IsNumber(f) ? f->valuedouble : 0;
    }
}

/* Whether the event stream can exist: an ipc endpoint needs its socket file. */
static int s_events_available(qc_feed_t *self)
{
    if (!self->endpoint[0])
        return 0;
    if (strncmp(self->endpoint, "ipc://", 6) != 0)
        return 1;
    struct stat st;
    return stat(self->endpoint + 6, &st) == 0 && S_ISSOCK(st.st_mode);
}

static void s_set_polling(qc_feed_t *self, int polling)
{
    int before = qc_hub_polling(self->hub);
    qc_hub_set_polling(self->hub, polling);
    if (before != polling)
        qc_info("dashboard: live updates by %s", polling ? "polling status" : "the event stream");
}

/* The throughput seconds that ended since the last flush, pushed as "tp". */
static void s_flush_tp(qc_hub_t *hub, int64_t *flushed_sec, int64_t now_sec)
{
    int64_t from = *flushed_sec + 1;
    if (from < now_sec - QC_HUB_TP_SECONDS)
        from = now_sec - QC_HUB_TP_SECONDS;
    for (int64_t sec = from; sec < now_sec; sec++) {
        int completed, failed;
        qc_hub_tp_get(hub, sec, &completed, &failed);
        if (!completed && !failed)
            continue;
        cJSON *tp = cJSON_CreateObject();
        cJSON_AddNumberToObject(tp, "t", (double)sec);
        cJSON_AddNumberToObject(tp, "completed", completed);
        cJSON_AddNumberToObject(tp, "failed", failed);
        qc_hub_publish(hub, "tp", tp, NULL, 0);
        cJSON_Delete(tp);
    }
    if (now_sec - 1 > *flushed_sec)
        *flushed_sec = now_sec - 1;
}

static zsock_t *s_open_sub(qc_feed_t *self)
{
    if (!self->endpoint[0])
        return NULL;
    zsock_t *sub = zsock_new(ZMQ_SUB);
    if (!sub)
        return NULL;
    const qc_upstream_config_t *config = qc_upstream_config(self->upstream);
    char err[512] = "";
    zsock_set_linger(sub, 0);
    zsock_set_rcvhwm(sub, 100000);
    if (qc_curve_client_apply(sub, self->endpoint, config->curve_key, config->server_key, "client",
                              config->insecure, err, sizeof err) != 0 ||
        zsock_connect(sub, "%s", self->endpoint) != 0) {
        qc_warn("dashboard: cannot subscribe to %s: %s", self->endpoint,
                err[0] ? err : "connect failed");
        zsock_destroy(&sub);
        return NULL;
    }
    zsock_set_subscribe(sub, "job.");
    zsock_set_subscribe(sub, "worker.");
    zsock_set_subscribe(sub, "output."); /* every running job's, so a panel opened late has it */
    return sub;
}

static int64_t s_now_s(void)
{
    return qc_clock_wall_ms() / 1000;
}

static void *s_run(void *arg)
{
    qc_feed_t *self = arg;
    qc_hub_t *hub = self->hub;
    zsock_t *sub = s_open_sub(self);
    qc_client_t *client = qc_upstream_client_new(self->upstream);
    int dirty = 1, metrics_ok = 1, have_totals = 0;
    double last_completed = 0, last_failed = 0;
    int64_t last_status_ms = 0, last_check_ms = 0;
    int64_t flushed_sec = s_now_s() - 1;
    s_set_polling(self, !sub || !s_events_available(self));
    while (!atomic_load(&self->quit)) {
        int64_t now_ms = qc_clock_mono_ms();
        if (now_ms - last_check_ms >= S_MODE_CHECK_MS) {
            s_set_polling(self, !sub || !s_events_available(self));
            last_check_ms = now_ms;
        }
        int completed = 0, failed = 0;
        if (sub) {
            zmq_pollitem_t item = {zsock_resolve(sub), 0, ZMQ_POLLIN, 0};
            if (zmq_poll(&item, 1, S_EVENTS_POLL_MS) > 0) {
                for (int i = 0; i < 1000; i++) { /* drain, bounded */
                    zmsg_t *msg = zmsg_recv_nowait(sub);
                    if (!msg)
                        break;
                    s_on_event(hub, msg, &dirty, &completed, &failed);
                    zmsg_destroy(&msg);
                }
            }
        } else {
            zclock_sleep(S_EVENTS_POLL_MS);
        }
        int64_t now_s = s_now_s();
        if (completed || failed)
            qc_hub_tp_add(hub, now_s, completed, failed);
        now_ms = qc_clock_mono_ms();
        int polling = qc_hub_polling(hub);
        int due;
        if (polling)
            due = now_ms - last_status_ms >= S_POLLING_MS;
        else
            due = qc_hub_main_streams(hub) > 0 &&
                  ((dirty && now_ms - last_status_ms >= S_STATUS_MIN_MS) ||
                   now_ms - last_status_ms >= S_STATUS_IDLE_MS);
        if (due && client) {
            char *before = qc_hub_last_status(hub);
            cJSON *reply = s_fetch_status(hub, client, &metrics_ok);
            last_status_ms = qc_clock_mono_ms();
            dirty = 0;
            if (polling && reply) {
                double c, f;
                s_totals(reply, &c, &f);
                if (have_totals && (c > last_completed || f > last_failed))
                    qc_hub_tp_add(hub, now_s, c > last_completed ? (int)(c - last_completed) : 0,
                                  f > last_failed ? (int)(f - last_failed) : 0);
                last_completed = c;
                last_failed = f;
                have_totals = 1;
                /* something changed: let the pages refetch what they show */
                char *after = qc_hub_last_status(hub);
                if (!before || !after || strcmp(before, after) != 0) {
                    cJSON *empty = cJSON_CreateObject();
                    qc_hub_publish(hub, "refresh", empty, NULL, 0);
                    cJSON_Delete(empty);
                }
                free(after);
            }
            free(before);
            cJSON_Delete(reply);
        }
        s_flush_tp(hub, &flushed_sec, s_now_s());
    }
    qc_client_destroy(&client);
    zsock_destroy(&sub);
    return NULL;
}

qc_feed_t *qc_feed_new(qc_hub_t *hub, qc_upstream_t *upstream, const char *events_endpoint)
{
    qc_feed_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->hub = hub;
    self->upstream = upstream;
    snprintf(self->endpoint, sizeof self->endpoint, "%s", events_endpoint);
    atomic_init(&self->quit, 0);
    if (pthread_create(&self->thread, NULL, s_run, self) != 0) {
        free(self);
        return NULL;
    }
    return self;
}

void qc_feed_destroy(qc_feed_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qc_feed_t *self = *self_p;
    atomic_store(&self->quit, 1);
    pthread_join(self->thread, NULL);
    free(self);
    *self_p = NULL;
}
