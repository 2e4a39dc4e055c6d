/* queuectl dashboard: a web page, a REST API and Prometheus metrics, served
 * by libmicrohttpd, as one more client of the broker.
 *
 * Threads: libmicrohttpd's listener and one thread per HTTP connection (an
 * API request makes its own REQ client for its broker calls; a Server-Sent
 * Events stream blocks in its content reader on the hub's condition
 * variable); one events thread that owns the SUB socket on the broker's
 * event stream and fans messages out to the streams' queues; the main thread
 * waits for SIGINT/SIGTERM. All shared state is in the hub, under one mutex. */
#include "dashboard.h"
#include "queuectl/client.h"
#include "queuectl/clock.h"
#include "queuectl/curve.h"
#include "queuectl/job.h"
#include "queuectl/log.h"
#include "queuectl/parse.h"
#include "queuectl/proto.h"
#include "queuectl/protocol.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define S_MAX_BODY_BYTES (1024 * 1024) /* request bodies (a job is at most 64 KiB) */
#define S_MAX_FILE_BYTES (4 * 1024 * 1024)
#define S_MAX_CONNECTIONS 64
#define S_MAX_STREAMS 32         /* concurrent /api/events streams */
#define S_STREAM_MAX_QUEUED 2000 /* messages waiting for one slow stream */
#define S_STREAM_MAX_BYTES (4 * 1024 * 1024)
#define S_KEEPALIVE_MS 15000 /* SSE comment line on an idle stream */
#define S_TP_SECONDS 600     /* throughput history */
#define S_EVENTS_POLL_MS 100
#define S_STATUS_MIN_MS 500   /* at most two status pushes a second */
#define S_STATUS_IDLE_MS 5000 /* and one every 5 s even without events */
#define S_POLLING_MS 1000     /* without an event stream: status every second */
#define S_TOKEN_MIN 16
#define S_TOKEN_MAX 1024

/* One message waiting in a stream's queue: SSE text, ready to send. */
typedef struct s_msg {
    struct s_msg *next;
    size_t len;
    char text[];
} s_msg_t;

/* One open /api/events stream. */
typedef struct s_stream {
    struct s_stream *next;
    qc_dash_t *dash;
    char output_id[QC_MAX_ID_BYTES + 1]; /* "" for the main stream */
    s_msg_t *head, *tail;
    size_t queued, bytes, offset; /* offset: bytes of head already sent */
} s_stream_t;

struct _qc_dash_t {
    qc_ctl_t *ctl;
    char events_endpoint[1024]; /* "" if unknown: polling */
    char web_dir[4096];
    char token[S_TOKEN_MAX + 1]; /* "" if none */
    size_t token_len;
    int loopback; /* bound to a loopback address: check Host */
    char listen_host[256];

    pthread_mutex_t mutex; /* guards everything below */
    pthread_cond_t cond;   /* a stream has messages, or we are stopping */
    int stopping;
    s_stream_t *streams;
    int stream_count;
    int generation;    /* bumped when streams come and go (output subscriptions) */
    char *last_status; /* SSE text of the latest status push, for new streams */
    int polling;       /* live updates come from polling status */
    int64_t tp_sec[S_TP_SECONDS];
    int tp_completed[S_TP_SECONDS], tp_failed[S_TP_SECONDS];

    atomic_int quit; /* the events thread's stop flag */
    pthread_t events_thread;
    int events_started;
};

/* ------------------------------------------------------------ broker calls */

cJSON *qc_dash_broker_call(qc_dash_t *dash, cJSON *request, int *no_answer)
{
    *no_answer = 1;
    qc_client_t *client = qc_client_new(dash->ctl->endpoint, dash->ctl->timeout_ms);
    char err[512];
    cJSON *reply = NULL;
    if (client && qc_client_set_security(client, dash->ctl->curve_key, dash->ctl->server_key,
                                         dash->ctl->insecure, err, sizeof err) == 0) {
        int rc = qc_client_call(client, request, &reply);
        *no_answer = rc == -1;
    }
    qc_client_destroy(&client);
    cJSON_Delete(request);
    return reply;
}

/* ------------------------------------------------------------ the hub */

static int64_t s_now_s(void)
{
    return qc_clock_wall_ms() / 1000;
}

cJSON *qc_dash_throughput(qc_dash_t *dash)
{
    cJSON *obj = cJSON_CreateObject();
    int64_t end = s_now_s();
    cJSON_AddNumberToObject(obj, "interval_s", 1);
    cJSON_AddNumberToObject(obj, "end", (double)end);
    cJSON *completed = cJSON_AddArrayToObject(obj, "completed");
    cJSON *failed = cJSON_AddArrayToObject(obj, "failed");
    pthread_mutex_lock(&dash->mutex);
    for (int64_t sec = end - S_TP_SECONDS + 1; sec <= end; sec++) {
        int slot = (int)(sec % S_TP_SECONDS);
        int fresh = dash->tp_sec[slot] == sec;
        cJSON_AddItemToArray(completed, cJSON_CreateNumber(fresh ? dash->tp_completed[slot] : 0));
        cJSON_AddItemToArray(failed, cJSON_CreateNumber(fresh ? dash->tp_failed[slot] : 0));
    }
    pthread_mutex_unlock(&dash->mutex);
    return obj;
}

const char *qc_dash_events_mode(qc_dash_t *dash)
{
    pthread_mutex_lock(&dash->mutex);
    int polling = dash->polling;
    pthread_mutex_unlock(&dash->mutex);
    return polling ? "polling" : "events";
}

static void s_tp_add(qc_dash_t *dash, int64_t sec, int completed, int failed)
{
    int slot = (int)(sec % S_TP_SECONDS);
    pthread_mutex_lock(&dash->mutex);
    if (dash->tp_sec[slot] != sec) {
        dash->tp_sec[slot] = sec;
        dash->tp_completed[slot] = dash->tp_failed[slot] = 0;
    }
    dash->tp_completed[slot] += completed;
    dash->tp_failed[slot] += failed;
    pthread_mutex_unlock(&dash->mutex);
}

static s_msg_t *s_msg_new(const char *text, size_t len)
{
    s_msg_t *msg = malloc(sizeof *msg + len);
    if (!msg)
        return NULL;
    msg->next = NULL;
    msg->len = len;
    memcpy(msg->text, text, len);
    return msg;
}

static void s_stream_clear(s_stream_t *stream)
{
    for (s_msg_t *msg = stream->head, *next; msg; msg = next) {
        next = msg->next;
        free(msg);
    }
    stream->head = stream->tail = NULL;
    stream->queued = stream->bytes = stream->offset = 0;
}

/* Appends text to one stream (hub locked). A stream that falls too far
 * behind loses its queue and is told to resync: the page refetches. */
static void s_stream_push(s_stream_t *stream, const char *text, size_t len)
{
    if (stream->queued >= S_STREAM_MAX_QUEUED || stream->bytes + len > S_STREAM_MAX_BYTES) {
        s_msg_t *keep = stream->offset ? stream->head : NULL; /* half sent: finish it */
        if (keep) {
            stream->head = keep->next;
            keep->next = NULL;
        }
        s_stream_clear(stream);
        static const char resync[] = "event: resync\ndata: {}\n\n";
        s_msg_t *msg = s_msg_new(resync, sizeof resync - 1);
        if (keep) {
            keep->next = msg;
            stream->head = keep;
            stream->tail = msg ? msg : keep;
            stream->offset = 0;
        } else {
            stream->head = stream->tail = msg;
        }
        stream->queued = msg ? 1 : 0;
        stream->bytes = msg ? msg->len : 0;
        return;
    }
    s_msg_t *msg = s_msg_new(text, len);
    if (!msg)
        return;
    if (stream->tail)
        stream->tail->next = msg;
    else
        stream->head = msg;
    stream->tail = msg;
    stream->queued++;
    stream->bytes += len;
}

/* Formats "event: NAME\ndata: JSON\n\n". Caller frees. */
static char *s_sse_text(const char *event, const cJSON *data, size_t *len)
{
    char *json = cJSON_PrintUnformatted(data);
    if (!json)
        return NULL;
    size_t size = strlen(event) + strlen(json) + 32;
    char *text = malloc(size);
    if (text)
        *len = (size_t)snprintf(text, size, "event: %s\ndata: %s\n\n", event, json);
    cJSON_free(json);
    return text;
}

/* Sends an event to the main streams, and to the output streams of job_id
 * when job_id is given (output_only: to those alone). */
static void s_publish(qc_dash_t *dash, const char *event, const cJSON *data, const char *job_id,
                      int output_only)
{
    size_t len = 0;
    char *text = s_sse_text(event, data, &len);
    if (!text)
        return;
    pthread_mutex_lock(&dash->mutex);
    int woke = 0;
    for (s_stream_t *stream = dash->streams; stream; stream = stream->next) {
        int main_stream = stream->output_id[0] == '\0';
        if ((main_stream && !output_only) ||
            (!main_stream && job_id && strcmp(stream->output_id, job_id) == 0)) {
            s_stream_push(stream, text, len);
            woke = 1;
        }
    }
    if (strcmp(event, "status") == 0) {
        free(dash->last_status);
        dash->last_status = text;
        text = NULL;
    }
    if (woke)
        pthread_cond_broadcast(&dash->cond);
    pthread_mutex_unlock(&dash->mutex);
    free(text);
}

/* The content reader of a stream: waits (at most S_KEEPALIVE_MS) for queued
 * messages and copies as many as fit. Runs on the connection's thread. */
static ssize_t s_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    s_stream_t *stream = cls;
    qc_dash_t *dash = stream->dash;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += S_KEEPALIVE_MS / 1000;
    pthread_mutex_lock(&dash->mutex);
    while (!stream->head && !dash->stopping)
        if (pthread_cond_timedwait(&dash->cond, &dash->mutex, &deadline) == ETIMEDOUT)
            break;
    if (dash->stopping) {
        pthread_mutex_unlock(&dash->mutex);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    size_t n = 0;
    if (!stream->head) {
        static const char keepalive[] = ": keepalive\n\n";
        n = sizeof keepalive - 1 < max ? sizeof keepalive - 1 : max;
        memcpy(buf, keepalive, n);
    }
    while (stream->head && n < max) {
        s_msg_t *msg = stream->head;
        size_t chunk = msg->len - stream->offset;
        if (chunk > max - n)
            chunk = max - n;
        memcpy(buf + n, msg->text + stream->offset, chunk);
        n += chunk;
        stream->offset += chunk;
        if (stream->offset < msg->len)
            break;
        stream->head = msg->next;
        if (!stream->head)
            stream->tail = NULL;
        stream->queued--;
        stream->bytes -= msg->len;
        stream->offset = 0;
        free(msg);
    }
    pthread_mutex_unlock(&dash->mutex);
    return (ssize_t)n;
}

static void s_stream_free(void *cls)
{
    s_stream_t *stream = cls;
    qc_dash_t *dash = stream->dash;
    pthread_mutex_lock(&dash->mutex);
    for (s_stream_t **link = &dash->streams; *link; link = &(*link)->next)
        if (*link == stream) {
            *link = stream->next;
            dash->stream_count--;
            dash->generation++;
            break;
        }
    s_stream_clear(stream);
    pthread_mutex_unlock(&dash->mutex);
    free(stream);
}

/* ------------------------------------------------------------ events thread */

/* Keeps the SUB socket's output.<id> subscriptions equal to the ids the
 * streams ask for (at most S_MAX_STREAMS). */
typedef struct {
    char ids[S_MAX_STREAMS][QC_MAX_ID_BYTES + 1];
    int count;
    int generation;
} s_outputs_t;

static void s_sync_outputs(qc_dash_t *dash, zsock_t *sub, s_outputs_t *have)
{
    s_outputs_t want = {.count = 0};
    pthread_mutex_lock(&dash->mutex);
    if (dash->generation == have->generation) {
        pthread_mutex_unlock(&dash->mutex);
        return;
    }
    want.generation = dash->generation;
    for (s_stream_t *s = dash->streams; s && want.count < S_MAX_STREAMS; s = s->next) {
        int dup = !s->output_id[0];
        for (int i = 0; i < want.count && !dup; i++)
            dup = strcmp(want.ids[i], s->output_id) == 0;
        if (!dup)
            snprintf(want.ids[want.count++], sizeof want.ids[0], "%s", s->output_id);
    }
    pthread_mutex_unlock(&dash->mutex);
    char topic[QC_MAX_ID_BYTES + 16];
    for (int i = 0; i < have->count; i++) {
        int keep = 0;
        for (int j = 0; j < want.count && !keep; j++)
            keep = strcmp(have->ids[i], want.ids[j]) == 0;
        snprintf(topic, sizeof topic, "output.%s", have->ids[i]);
        if (!keep && sub)
            zsock_set_unsubscribe(sub, topic);
    }
    for (int j = 0; j < want.count; j++) {
        int had = 0;
        for (int i = 0; i < have->count && !had; i++)
            had = strcmp(have->ids[i], want.ids[j]) == 0;
        snprintf(topic, sizeof topic, "output.%s", want.ids[j]);
        if (!had && sub)
            zsock_set_subscribe(sub, topic);
    }
    *have = want;
}

/* One message from the event stream: topic and JSON body. */
static void s_on_event(qc_dash_t *dash, zmsg_t *msg, int *dirty, int *completed, int *failed)
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
            s_publish(dash, "job", body, id, 0);
            *dirty = 1;
        } else if (strncmp(topic, "worker.", 7) == 0) {
            s_publish(dash, "worker", body, NULL, 0);
            *dirty = 1;
        } else if (strncmp(topic, "output.", 7) == 0 && id && strcmp(topic + 7, id) == 0) {
            s_publish(dash, "output", body, id, 1);
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
static cJSON *s_fetch_status(qc_dash_t *dash, qc_client_t *client, int *metrics_ok)
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
        return s_fetch_status(dash, client, metrics_ok);
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
    cJSON_AddStringToObject(data, "live", qc_dash_events_mode(dash));
    s_publish(dash, "status", data, NULL, 0);
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
static int s_events_available(qc_dash_t *dash)
{
    if (!dash->events_endpoint[0])
        return 0;
    if (strncmp(dash->events_endpoint, "ipc://", 6) != 0)
        return 1;
    struct stat st;
    return stat(dash->events_endpoint + 6, &st) == 0 && S_ISSOCK(st.st_mode);
}

static void s_set_polling(qc_dash_t *dash, int polling)
{
    pthread_mutex_lock(&dash->mutex);
    int changed = dash->polling != polling;
    dash->polling = polling;
    pthread_mutex_unlock(&dash->mutex);
    if (changed) {
        cJSON *hello = cJSON_CreateObject();
        cJSON_AddStringToObject(hello, "live", polling ? "polling" : "events");
        s_publish(dash, "hello", hello, NULL, 0);
        cJSON_Delete(hello);
        qc_info("dashboard: live updates by %s", polling ? "polling status" : "the event stream");
    }
}

static int s_main_streams(qc_dash_t *dash)
{
    int count = 0;
    pthread_mutex_lock(&dash->mutex);
    for (s_stream_t *s = dash->streams; s; s = s->next)
        count += s->output_id[0] == '\0';
    pthread_mutex_unlock(&dash->mutex);
    return count;
}

/* The throughput seconds that ended since the last flush, pushed as "tp". */
static void s_flush_tp(qc_dash_t *dash, int64_t *flushed_sec, int64_t now_sec)
{
    int64_t from = *flushed_sec + 1;
    if (from < now_sec - S_TP_SECONDS)
        from = now_sec - S_TP_SECONDS;
    for (int64_t sec = from; sec < now_sec; sec++) {
        int slot = (int)(sec % S_TP_SECONDS), completed = 0, failed = 0;
        pthread_mutex_lock(&dash->mutex);
        if (dash->tp_sec[slot] == sec) {
            completed = dash->tp_completed[slot];
            failed = dash->tp_failed[slot];
        }
        pthread_mutex_unlock(&dash->mutex);
        if (!completed && !failed)
            continue;
        cJSON *tp = cJSON_CreateObject();
        cJSON_AddNumberToObject(tp, "t", (double)sec);
        cJSON_AddNumberToObject(tp, "completed", completed);
        cJSON_AddNumberToObject(tp, "failed", failed);
        s_publish(dash, "tp", tp, NULL, 0);
        cJSON_Delete(tp);
    }
    if (now_sec - 1 > *flushed_sec)
        *flushed_sec = now_sec - 1;
}

static zsock_t *s_open_sub(qc_dash_t *dash)
{
    if (!dash->events_endpoint[0])
        return NULL;
    zsock_t *sub = zsock_new(ZMQ_SUB);
    char err[512];
    if (!sub)
        return NULL;
    zsock_set_linger(sub, 0);
    zsock_set_rcvhwm(sub, 100000);
    if (qc_curve_client_apply(sub, dash->events_endpoint, dash->ctl->curve_key,
                              dash->ctl->server_key, "client", dash->ctl->insecure, err,
                              sizeof err) != 0 ||
        zsock_connect(sub, "%s", dash->events_endpoint) != 0) {
        qc_warn("dashboard: cannot subscribe to %s: %s", dash->events_endpoint,
                err[0] ? err : "connect failed");
        zsock_destroy(&sub);
        return NULL;
    }
    zsock_set_subscribe(sub, "job.");
    zsock_set_subscribe(sub, "worker.");
    return sub;
}

static void *s_events_main(void *arg)
{
    qc_dash_t *dash = arg;
    zsock_t *sub = s_open_sub(dash);
    qc_client_t *client = qc_client_new(dash->ctl->endpoint, dash->ctl->timeout_ms);
    char err[512];
    if (client && qc_client_set_security(client, dash->ctl->curve_key, dash->ctl->server_key,
                                         dash->ctl->insecure, err, sizeof err) != 0)
        qc_client_destroy(&client);
    s_outputs_t outputs = {.count = 0, .generation = -1};
    int dirty = 1, metrics_ok = 1, have_totals = 0;
    double last_completed = 0, last_failed = 0;
    int64_t last_status_ms = 0, last_check_ms = 0;
    int64_t flushed_sec = s_now_s() - 1;
    s_set_polling(dash, !sub || !s_events_available(dash));
    while (!atomic_load(&dash->quit)) {
        int64_t now_ms = qc_clock_mono_ms();
        if (now_ms - last_check_ms >= 2000) {
            s_set_polling(dash, !sub || !s_events_available(dash));
            last_check_ms = now_ms;
        }
        s_sync_outputs(dash, sub, &outputs);
        int completed = 0, failed = 0;
        if (sub) {
            zmq_pollitem_t item = {zsock_resolve(sub), 0, ZMQ_POLLIN, 0};
            if (zmq_poll(&item, 1, S_EVENTS_POLL_MS) > 0) {
                for (int i = 0; i < 1000; i++) { /* drain, bounded */
                    zmsg_t *msg = zmsg_recv_nowait(sub);
                    if (!msg)
                        break;
                    s_on_event(dash, msg, &dirty, &completed, &failed);
                    zmsg_destroy(&msg);
                }
            }
        } else {
            zclock_sleep(S_EVENTS_POLL_MS);
        }
        int64_t now_s = s_now_s();
        if (completed || failed)
            s_tp_add(dash, now_s, completed, failed);
        now_ms = qc_clock_mono_ms();
        int polling = strcmp(qc_dash_events_mode(dash), "polling") == 0;
        int due;
        if (polling)
            due = now_ms - last_status_ms >= S_POLLING_MS;
        else
            due = s_main_streams(dash) > 0 &&
                  ((dirty && now_ms - last_status_ms >= S_STATUS_MIN_MS) ||
                   now_ms - last_status_ms >= S_STATUS_IDLE_MS);
        if (due && client) {
            char *before = NULL;
            pthread_mutex_lock(&dash->mutex);
            before = dash->last_status ? strdup(dash->last_status) : NULL;
            pthread_mutex_unlock(&dash->mutex);
            cJSON *reply = s_fetch_status(dash, client, &metrics_ok);
            last_status_ms = qc_clock_mono_ms();
            dirty = 0;
            if (polling && reply) {
                double c, f;
                s_totals(reply, &c, &f);
                if (have_totals && (c > last_completed || f > last_failed))
                    s_tp_add(dash, now_s, c > last_completed ? (int)(c - last_completed) : 0,
                             f > last_failed ? (int)(f - last_failed) : 0);
                last_completed = c;
                last_failed = f;
                have_totals = 1;
                /* something changed: let the pages refetch what they show */
                pthread_mutex_lock(&dash->mutex);
                int changed =
                    !before || !dash->last_status || strcmp(before, dash->last_status) != 0;
                pthread_mutex_unlock(&dash->mutex);
                if (changed) {
                    cJSON *empty = cJSON_CreateObject();
                    s_publish(dash, "refresh", empty, NULL, 0);
                    cJSON_Delete(empty);
                }
            }
            free(before);
            cJSON_Delete(reply);
        }
        s_flush_tp(dash, &flushed_sec, s_now_s());
    }
    qc_client_destroy(&client);
    zsock_destroy(&sub);
    return NULL;
}

/* ------------------------------------------------------------ HTTP */

typedef struct {
    char *data;
    size_t len, cap;
    int too_large;
} s_upload_t;

static void s_common_headers(struct MHD_Response *response)
{
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(response, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(response, "X-Frame-Options", "DENY");
    MHD_add_response_header(response, "Cache-Control", "no-store");
}

static enum MHD_Result s_queue(struct MHD_Connection *conn, qc_dash_reply_t *reply,
                               const char *extra_name, const char *extra_value)
{
    struct MHD_Response *response =
        reply->body
            ? MHD_create_response_from_buffer(reply->len, reply->body, MHD_RESPMEM_MUST_FREE)
            : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!response) {
        free(reply->body);
        reply->body = NULL;
        return MHD_NO;
    }
    reply->body = NULL; /* the response owns it now */
    s_common_headers(response);
    if (reply->content_type)
        MHD_add_response_header(response, "Content-Type", reply->content_type);
    if (reply->allow)
        MHD_add_response_header(response, "Allow", reply->allow);
    if (extra_name)
        MHD_add_response_header(response, extra_name, extra_value);
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)reply->status, response);
    MHD_destroy_response(response);
    return rc;
}

/* Answers text (copied) with status. */
static enum MHD_Result s_queue_text(struct MHD_Connection *conn, int status,
                                    const char *content_type, const char *text)
{
    qc_dash_reply_t reply = {status, strdup(text), strlen(text), content_type, NULL};
    if (!reply.body)
        return MHD_NO;
    return s_queue(conn, &reply, NULL, NULL);
}

static const char *s_query(void *cls, const char *key)
{
    return MHD_lookup_connection_value(cls, MHD_GET_ARGUMENT_KIND, key);
}

/* Compares in time that depends only on the token's length. */
static int s_token_equal(const qc_dash_t *dash, const char *given)
{
    if (!given)
        return 0;
    size_t given_len = strnlen(given, S_TOKEN_MAX + 1);
    unsigned char diff = given_len != dash->token_len;
    for (size_t i = 0; i < dash->token_len; i++)
        diff |= (unsigned char)(dash->token[i] ^ (i < given_len ? given[i] : 0));
    return diff == 0;
}

static int s_authorized(qc_dash_t *dash, struct MHD_Connection *conn)
{
    if (!dash->token_len)
        return 1;
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
        return s_token_equal(dash, auth + 7);
    return s_token_equal(dash, MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "qc_token"));
}

/* Host without its port: "[::1]:8080" -> "::1", "localhost:8080" -> "localhost". */
static void s_host_name(const char *host, char *buf, size_t len)
{
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        snprintf(buf, len, "%.*s", end ? (int)(end - host - 1) : 0, host + 1);
        return;
    }
    const char *colon = strrchr(host, ':');
    snprintf(buf, len, "%.*s", colon ? (int)(colon - host) : (int)strlen(host), host);
}

/* Loopback only: the Host header must name this machine (DNS rebinding). */
static int s_host_ok(qc_dash_t *dash, struct MHD_Connection *conn)
{
    if (!dash->loopback)
        return 1;
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    if (!host)
        return 0;
    char name[256];
    s_host_name(host, name, sizeof name);
    struct in_addr v4;
    return strcasecmp(name, "localhost") == 0 || strcmp(name, "::1") == 0 ||
           strcmp(name, dash->listen_host) == 0 ||
           (inet_pton(AF_INET, name, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127);
}

/* CSRF: a state-changing request must be JSON and, when the browser says where
 * it comes from, come from this origin. Returns 0 or the HTTP status. */
static int s_csrf_check(struct MHD_Connection *conn, const char **why)
{
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    const char *site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
    if (origin) {
        char expected[512];
        snprintf(expected, sizeof expected, "http://%s", host ? host : "");
        if (strcasecmp(origin, expected) != 0) {
            *why = "cross-origin request refused (the Origin header does not match the Host)";
            return 403;
        }
    }
    if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0) {
        *why = "cross-site request refused (Sec-Fetch-Site)";
        return 403;
    }
    const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    size_t n = strlen("application/json");
    if (!type || strncasecmp(type, "application/json", n) != 0 ||
        (type[n] != '\0' && type[n] != ';' && type[n] != ' ')) {
        *why = "state-changing requests need Content-Type: application/json";
        return 415;
    }
    return 0;
}

/* Serves one of the page's files from the web directory. */
static enum MHD_Result s_static(qc_dash_t *dash, struct MHD_Connection *conn, const char *url)
{
    static const struct {
        const char *url, *file, *type;
    } files[] = {
        {"/", "index.html", "text/html; charset=utf-8"},
        {"/index.html", "index.html", "text/html; charset=utf-8"},
        {"/app.js", "app.js", "text/javascript; charset=utf-8"},
        {"/style.css", "style.css", "text/css; charset=utf-8"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (strcmp(url, files[i].url) != 0)
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dash->web_dir, files[i].file);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
            st.st_size > S_MAX_FILE_BYTES) {
            if (fd >= 0)
                close(fd);
            return s_queue_text(conn, 500, "text/plain; charset=utf-8",
                                "the dashboard's web files are missing\n");
        }
        qc_dash_reply_t reply = {200, malloc((size_t)st.st_size + 1), 0, files[i].type, NULL};
        ssize_t got = reply.body ? read(fd, reply.body, (size_t)st.st_size) : -1;
        close(fd);
        if (got < 0) {
            free(reply.body);
            return MHD_NO;
        }
        reply.len = (size_t)got;
        return s_queue(conn, &reply, "Content-Security-Policy",
                       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' "
                       "data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
                       "frame-ancestors 'none'");
    }
    return s_queue_text(conn, 404, "text/plain; charset=utf-8", "not found\n");
}

/* GET /api/events[?output=ID]: a Server-Sent Events stream. */
static enum MHD_Result s_events(qc_dash_t *dash, struct MHD_Connection *conn)
{
    const char *output = s_query(conn, "output");
    if (output && !qc_job_id_valid(output)) {
        qc_dash_reply_t reply = {0};
        qc_dash_reply_error(&reply, 400, QC_E_BAD_REQUEST, "output must be a job id");
        return s_queue(conn, &reply, NULL, NULL);
    }
    s_stream_t *stream = calloc(1, sizeof *stream);
    if (!stream)
        return MHD_NO;
    stream->dash = dash;
    if (output)
        snprintf(stream->output_id, sizeof stream->output_id, "%s", output);
    char hello[128];
    pthread_mutex_lock(&dash->mutex);
    if (dash->stream_count >= S_MAX_STREAMS || dash->stopping) {
        pthread_mutex_unlock(&dash->mutex);
        free(stream);
        qc_dash_reply_t reply = {0};
        qc_dash_reply_error(&reply, 503, "unavailable", "too many event streams are open");
        return s_queue(conn, &reply, NULL, NULL);
    }
    int n = snprintf(hello, sizeof hello, "retry: 2000\nevent: hello\ndata: {\"live\":\"%s\"}\n\n",
                     dash->polling ? "polling" : "events");
    s_stream_push(stream, hello, (size_t)n);
    if (!output && dash->last_status)
        s_stream_push(stream, dash->last_status, strlen(dash->last_status));
    stream->next = dash->streams;
    dash->streams = stream;
    dash->stream_count++;
    dash->generation++;
    pthread_mutex_unlock(&dash->mutex);
    struct MHD_Response *response = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 16384, s_stream_read, stream, s_stream_free);
    if (!response) {
        s_stream_free(stream);
        return MHD_NO;
    }
    s_common_headers(response);
    MHD_add_response_header(response, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(response, "X-Accel-Buffering", "no");
    enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_OK, response);
    MHD_destroy_response(response);
    return rc;
}

static enum MHD_Result s_unauthorized(struct MHD_Connection *conn, int api)
{
    qc_dash_reply_t reply = {0};
    if (api) {
        qc_dash_reply_error(&reply, 401, "unauthorized",
                            "a bearer token is required (Authorization: Bearer TOKEN)");
    } else {
        static const char page[] =
            "<!doctype html><title>queuectl: token required</title><p>This dashboard needs its "
            "token: open <code>/?token=TOKEN</code> once (it is then kept in a cookie), or send "
            "<code>Authorization: Bearer TOKEN</code>.</p>\n";
        reply =
            (qc_dash_reply_t){401, strdup(page), sizeof page - 1, "text/html; charset=utf-8", NULL};
    }
    return s_queue(conn, &reply, "WWW-Authenticate", "Bearer realm=\"queuectl\"");
}

/* GET /?token=T with the right token: keep it in a cookie and go to /. */
static enum MHD_Result s_login(qc_dash_t *dash, struct MHD_Connection *conn)
{
    char cookie[S_TOKEN_MAX + 96];
    snprintf(cookie, sizeof cookie, "qc_token=%s; Path=/; HttpOnly; SameSite=Strict", dash->token);
    struct MHD_Response *response =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!response)
        return MHD_NO;
    s_common_headers(response);
    MHD_add_response_header(response, "Set-Cookie", cookie);
    MHD_add_response_header(response, "Location", "/");
    enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_SEE_OTHER, response);
    MHD_destroy_response(response);
    return rc;
}

static enum MHD_Result s_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls)
{
    (void)version;
    qc_dash_t *dash = cls;
    s_upload_t *upload = *con_cls;
    if (!upload) {
        upload = calloc(1, sizeof *upload);
        *con_cls = upload;
        return upload ? MHD_YES : MHD_NO;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (upload->too_large || upload->len + n > S_MAX_BODY_BYTES) {
            upload->too_large = 1;
            return MHD_YES;
        }
        if (upload->len + n + 1 > upload->cap) {
            size_t cap = upload->cap ? upload->cap : 4096;
            while (cap < upload->len + n + 1)
                cap *= 2;
            char *grown = realloc(upload->data, cap);
            if (!grown)
                return MHD_NO;
            upload->data = grown;
            upload->cap = cap;
        }
        memcpy(upload->data + upload->len, upload_data, n);
        upload->len += n;
        upload->data[upload->len] = '\0';
        return MHD_YES;
    }

    int api = strncmp(url, "/api/", 5) == 0 || strcmp(url, "/metrics") == 0;
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (!s_host_ok(dash, conn))
        return s_queue_text(conn, 403, "text/plain; charset=utf-8",
                            "this Host is not served here (the dashboard listens on loopback)\n");
    if (dash->token_len && get && strcmp(url, "/") == 0 && s_query(conn, "token")) {
        if (s_token_equal(dash, s_query(conn, "token")))
            return s_login(dash, conn);
        return s_unauthorized(conn, 0);
    }
    if (!s_authorized(dash, conn))
        return s_unauthorized(conn, api);
    if (!get) {
        const char *why = NULL;
        int status = s_csrf_check(conn, &why);
        if (status) {
            qc_dash_reply_t reply = {0};
            qc_dash_reply_error(&reply, status, status == 403 ? "forbidden" : "bad_request", "%s",
                                why);
            return s_queue(conn, &reply, NULL, NULL);
        }
    }
    if (upload->too_large) {
        qc_dash_reply_t reply = {0};
        qc_dash_reply_error(&reply, 413, QC_E_TOO_LARGE, "the body is larger than %d bytes",
                            S_MAX_BODY_BYTES);
        return s_queue(conn, &reply, NULL, NULL);
    }
    if (strcmp(url, "/api/events") == 0) {
        if (get)
            return s_events(dash, conn);
        qc_dash_reply_t reply = {0};
        qc_dash_reply_error(&reply, 405, "method_not_allowed", "use GET");
        reply.allow = "GET";
        return s_queue(conn, &reply, NULL, NULL);
    }
    if (api) {
        qc_dash_reply_t reply = {0};
        qc_dash_api_handle(dash, method, url, s_query, conn, upload->data, upload->len, &reply);
        return s_queue(conn, &reply, NULL, NULL);
    }
    if (!get)
        return s_queue_text(conn, 405, "text/plain; charset=utf-8", "method not allowed\n");
    return s_static(dash, conn, url);
}

static void s_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                        enum MHD_RequestTerminationCode code)
{
    (void)cls, (void)conn, (void)code;
    s_upload_t *upload = *con_cls;
    if (upload) {
        free(upload->data);
        free(upload);
    }
    *con_cls = NULL;
}

static void s_mhd_log(void *cls, const char *fmt, va_list args)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, args);
    line[strcspn(line, "\n")] = '\0';
    qc_warn("dashboard: http: %s", line);
}

/* ------------------------------------------------------------ the command */

typedef struct {
    const char *listen;
    const char *events;
    const char *token_file;
    const char *web_dir;
    int insecure;
} s_options_t;

static void s_usage(FILE *out)
{
    fprintf(
        out,
        "usage: queuectl dashboard [--listen HOST:PORT] [--broker ENDPOINT] [--events ENDPOINT]\n"
        "                          [--token-file FILE | --insecure] [--web-dir DIR]\n"
        "\n"
        "Serves the web dashboard, the REST API under /api and Prometheus metrics at\n"
        "/metrics (docs/API.md).\n"
        "\n"
        "  --listen HOST:PORT  address to serve on (default 127.0.0.1:8080; port 0 picks one)\n"
        "  --broker EP         the broker's client endpoint (default as for every command)\n"
        "  --events EP         the broker's event stream (default: what the broker says, else\n"
        "                      events.sock beside an ipc broker endpoint)\n"
        "  --token-file FILE   require this bearer token on every request; needed to listen\n"
        "                      on anything but loopback\n"
        "  --insecure          listen on a non-loopback address WITHOUT a token (anyone who\n"
        "                      reaches it can run commands on your workers)\n"
        "  --web-dir DIR       serve the page from DIR (default the built-in location)\n"
        "\n"
        "SIGINT or SIGTERM stop it. The first line on stdout is the URL it serves.\n");
}

static int s_parse_options(qc_ctl_t *ctl, int argc, char **argv, s_options_t *opt)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *names[] = {"--listen", "--broker", "--events", "--token-file", "--web-dir"};
        const char **slots[] = {&opt->listen, &ctl->endpoint_flag, &opt->events, &opt->token_file,
                                &opt->web_dir};
        int matched = 0;
        for (size_t k = 0; k < sizeof names / sizeof names[0] && !matched; k++) {
            size_t len = strlen(names[k]);
            if (strncmp(arg, names[k], len) != 0 || (arg[len] != '\0' && arg[len] != '='))
                continue;
            const char *value = arg[len] == '=' ? arg + len + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!value || !*value)
                return qc_ctl_usage_error("dashboard: %s needs a value (see queuectl dashboard "
                                          "--help)",
                                          names[k]);
            *slots[k] = value;
            matched = 1;
        }
        if (matched)
            continue;
        if (strcmp(arg, "--insecure") == 0) {
            opt->insecure = 1;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            s_usage(stdout);
            return -1;
        } else {
            return qc_ctl_usage_error("dashboard: unknown option \"%s\" (see queuectl dashboard "
                                      "--help)",
                                      arg);
        }
    }
    return 0;
}

/* Parses HOST:PORT (HOST may be [v6]) into addr. 0 or a usage error. */
static int s_parse_listen(const char *text, struct sockaddr_storage *addr, socklen_t *addr_len,
                          char *host, size_t host_len, int *loopback)
{
    char buf[300];
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || strlen(text) >= sizeof buf)
        goto bad;
    const char *port_text = colon + 1;
    int64_t port;
    if (qc_parse_int(port_text, 0, 65535, &port) != 0)
        goto bad;
    snprintf(buf, sizeof buf, "%.*s", (int)(colon - text), text);
    char *name = buf;
    if (name[0] == '[') {
        size_t n = strlen(name);
        if (n < 3 || name[n - 1] != ']')
            goto bad;
        name[n - 1] = '\0';
        name++;
    }
    if (strlen(name) >= host_len)
        goto bad;
    memcpy(host, name, strlen(name) + 1);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *found = NULL;
    char port_buf[8];
    snprintf(port_buf, sizeof port_buf, "%d", (int)port);
    if (getaddrinfo(name, port_buf, &hints, &found) != 0 || !found)
        return qc_ctl_usage_error("dashboard: --listen \"%s\": cannot resolve \"%s\"", text, name);
    memcpy(addr, found->ai_addr, found->ai_addrlen);
    *addr_len = found->ai_addrlen;
    freeaddrinfo(found);
    if (addr->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        *loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        *loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return 0;
bad:
    return qc_ctl_usage_error("dashboard: --listen \"%s\": expected HOST:PORT, e.g. "
                              "127.0.0.1:8080 or [::1]:8080",
                              text);
}

static int s_read_token(const char *path, qc_dash_t *dash)
{
    FILE *file = fopen(path, "r");
    if (!file)
        return qc_ctl_usage_error("dashboard: --token-file \"%s\": %s", path, strerror(errno));
    char buf[S_TOKEN_MAX + 2];
    size_t n = fread(buf, 1, sizeof buf - 1, file);
    struct stat st;
    if (fstat(fileno(file), &st) == 0 && (st.st_mode & 077))
        fprintf(stderr,
                "queuectl: dashboard: warning: --token-file \"%s\" is readable by others "
                "(chmod 600 it)\n",
                path);
    fclose(file);
    buf[n] = '\0';
    while (n > 0 &&
           (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        buf[--n] = '\0';
    if (n < S_TOKEN_MIN || n > S_TOKEN_MAX)
        return qc_ctl_usage_error("dashboard: --token-file \"%s\": the token must be %d to %d "
                                  "characters (e.g. openssl rand -hex 32)",
                                  path, S_TOKEN_MIN, S_TOKEN_MAX);
    for (size_t i = 0; i < n; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=",
                    buf[i]))
            return qc_ctl_usage_error("dashboard: --token-file \"%s\": the token may hold only "
                                      "letters, digits and -._~+/=",
                                      path);
    memcpy(dash->token, buf, n + 1);
    dash->token_len = n;
    return 0;
}

/* The event stream's endpoint: --events, else the broker's ping answer, else
 * events.sock beside an ipc client endpoint. "" if none is known. */
static void s_resolve_events(qc_dash_t *dash, const char *flag)
{
    if (flag) {
        snprintf(dash->events_endpoint, sizeof dash->events_endpoint, "%s", flag);
        return;
    }
    cJSON *request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "op", "ping");
    int no_answer = 0;
    cJSON *reply = qc_dash_broker_call(dash, request, &no_answer);
    const char *endpoint = qc_json_string(reply, "events_endpoint");
    const char *broker = dash->ctl->endpoint;
    if (!reply)
        fprintf(stderr,
                "queuectl: dashboard: warning: no broker answers at %s yet; the page will say "
                "so until one does\n",
                broker);
    if (endpoint && strncmp(endpoint, "tcp://", 6) == 0 &&
        (strncmp(endpoint + 6, "0.0.0.0:", 8) == 0 || strncmp(endpoint + 6, "*:", 2) == 0) &&
        strncmp(broker, "tcp://", 6) == 0) {
        /* bound on every interface: reach it on the broker's host */
        const char *port = strrchr(endpoint, ':');
        const char *host_end = strrchr(broker, ':');
        snprintf(dash->events_endpoint, sizeof dash->events_endpoint, "%.*s%s",
                 (int)(host_end - broker), broker, port);
    } else if (endpoint) {
        snprintf(dash->events_endpoint, sizeof dash->events_endpoint, "%s", endpoint);
    } else if (strncmp(broker, "ipc://", 6) == 0 && strrchr(broker, '/') > broker + 5) {
        const char *slash = strrchr(broker, '/');
        snprintf(dash->events_endpoint, sizeof dash->events_endpoint, "%.*s/events.sock",
                 (int)(slash - broker), broker);
    }
    cJSON_Delete(reply);
}

static int s_dir_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void s_dash_destroy(qc_dash_t **dash_p)
{
    qc_dash_t *dash = *dash_p;
    if (!dash)
        return;
    free(dash->last_status);
    pthread_cond_destroy(&dash->cond);
    pthread_mutex_destroy(&dash->mutex);
    free(dash);
    *dash_p = NULL;
}

static qc_dash_t *s_dash_new(qc_ctl_t *ctl)
{
    qc_dash_t *dash = calloc(1, sizeof *dash);
    if (!dash)
        return NULL;
    dash->ctl = ctl;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&dash->mutex, NULL);
    pthread_cond_init(&dash->cond, &attr);
    pthread_condattr_destroy(&attr);
    atomic_init(&dash->quit, 0);
    for (int i = 0; i < S_TP_SECONDS; i++)
        dash->tp_sec[i] = -1;
    return dash;
}

int qc_cmd_dashboard(qc_ctl_t *ctl, int argc, char **argv)
{
    s_options_t opt = {.listen = "127.0.0.1:8080"};
    int rc = s_parse_options(ctl, argc, argv, &opt);
    if (rc != 0)
        return rc < 0 ? QC_CTL_OK : rc;
    struct sockaddr_storage addr;
    socklen_t addr_len = 0;
    char host[256];
    int loopback = 0;
    rc = s_parse_listen(opt.listen, &addr, &addr_len, host, sizeof host, &loopback);
    if (rc != 0)
        return rc;
    if (opt.token_file && opt.insecure)
        return qc_ctl_usage_error("dashboard: --insecure and --token-file exclude each other");
    if (opt.web_dir && !s_dir_exists(opt.web_dir))
        return qc_ctl_usage_error("dashboard: --web-dir \"%s\" is not a directory", opt.web_dir);
    if (!loopback && !opt.token_file && !opt.insecure)
        return qc_ctl_usage_error(
            "dashboard: --listen %s is not a loopback address: pass --token-file FILE (a bearer "
            "token), or --insecure to serve it to anyone who can reach it",
            opt.listen);
    rc = qc_ctl_resolve(ctl);
    if (rc != QC_CTL_OK)
        return rc;
    qc_dash_t *dash = s_dash_new(ctl);
    if (!dash)
        return QC_CTL_REFUSED;
    dash->loopback = loopback;
    snprintf(dash->listen_host, sizeof dash->listen_host, "%s", host);
    if (opt.token_file && (rc = s_read_token(opt.token_file, dash)) != 0) {
        s_dash_destroy(&dash);
        return rc;
    }
    if (opt.web_dir)
        snprintf(dash->web_dir, sizeof dash->web_dir, "%s", opt.web_dir);
    else
        snprintf(dash->web_dir, sizeof dash->web_dir, "%s",
                 s_dir_exists(QC_WEB_DIR_BUILD) ? QC_WEB_DIR_BUILD : QC_WEB_DIR_INSTALL);
    if (!loopback && opt.insecure)
        fprintf(stderr,
                "\n"
                "queuectl: dashboard: WARNING: serving %s WITHOUT AUTHENTICATION (--insecure).\n"
                "queuectl: dashboard: WARNING: anyone who can reach this address can enqueue\n"
                "queuectl: dashboard: WARNING: jobs, i.e. run any command on your workers.\n"
                "\n",
                opt.listen);

    /* Signals go to the main thread only: block them before any thread starts. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGPIPE);
    sigset_t old_mask;
    pthread_sigmask(SIG_BLOCK, &signals, &old_mask);
    zsys_handler_set(NULL);
    zsys_init();

    s_resolve_events(dash, opt.events);
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_Daemon *daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, s_handle, dash, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, dash,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)S_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, dash, MHD_OPTION_END);
    if (!daemon) {
        fprintf(stderr, "queuectl: dashboard: cannot listen on %s: %s\n", opt.listen,
                errno ? strerror(errno) : "libmicrohttpd refused");
        pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
        s_dash_destroy(&dash);
        return QC_CTL_REFUSED;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    int port = info ? info->port : 0;
    if (pthread_create(&dash->events_thread, NULL, s_events_main, dash) == 0)
        dash->events_started = 1;
    else
        fprintf(stderr, "queuectl: dashboard: warning: no live updates (cannot start a thread)\n");
    int v6 = addr.ss_family == AF_INET6;
    printf("queuectl dashboard: http://%s%s%s:%d/ (broker %s, events %s)\n", v6 ? "[" : "", host,
           v6 ? "]" : "", port, ctl->endpoint,
           dash->events_endpoint[0] ? dash->events_endpoint : "none: polling");
    fflush(stdout);

    int sig = 0;
    sigset_t wait_for;
    sigemptyset(&wait_for);
    sigaddset(&wait_for, SIGINT);
    sigaddset(&wait_for, SIGTERM);
    sigwait(&wait_for, &sig);
    fprintf(stderr, "queuectl: dashboard: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");

    /* Stop in reverse order: streams end, connections close, the events
     * thread leaves, then the hub goes. */
    pthread_mutex_lock(&dash->mutex);
    dash->stopping = 1;
    pthread_cond_broadcast(&dash->cond);
    pthread_mutex_unlock(&dash->mutex);
    MHD_stop_daemon(daemon);
    atomic_store(&dash->quit, 1);
    if (dash->events_started)
        pthread_join(dash->events_thread, NULL);
    s_dash_destroy(&dash);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    return QC_CTL_OK;
}
