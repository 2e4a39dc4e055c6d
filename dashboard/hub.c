/* The hub: SSE queues per stream, the latest status, the live mode and the
 * throughput ring, all under one mutex; one condition variable wakes the
 * streams' readers. */
#include "hub.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One message waiting in a stream's queue: SSE text, ready to send. */
typedef struct s_msg {
    struct s_msg *next;
    size_t len;
    char text[];
} s_msg_t;

struct _qc_hub_stream_t {
    qc_hub_stream_t *next;
    qc_hub_t *hub;
    char output_id[QC_MAX_ID_BYTES + 1]; /* "" for a main stream */
    s_msg_t *head, *tail;
    size_t queued, bytes; /* messages and bytes in the queue, head included */
    size_t offset;        /* bytes of head already sent */
};

/* The kept output of one running job: the last QC_HUB_TAIL_BYTES of stdout
 * ([0]) and stderr ([1]). */
typedef struct {
    char id[QC_MAX_ID_BYTES + 1]; /* "" when free */
    int attempt;
    int64_t used; /* hub's tail_clock at the last write */
    char *text[2];
    size_t len[2];
} s_tail_t;

static void s_tail_clear(s_tail_t *tail);

struct _qc_hub_t {
    pthread_mutex_t mutex; /* guards everything below */
    pthread_cond_t cond;   /* a stream has messages, or we are stopping */
    int stopping;
    qc_hub_stream_t *streams;
    int stream_count;
    char *last_status; /* SSE text of the latest status event */
    int polling;
    int64_t tp_sec[QC_HUB_TP_SECONDS];
    int tp_completed[QC_HUB_TP_SECONDS], tp_failed[QC_HUB_TP_SECONDS];
    s_tail_t tails[QC_HUB_TAIL_JOBS];
    int64_t tail_clock;
};

qc_hub_t *qc_hub_new(void)
{
    qc_hub_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&self->mutex, NULL);
    pthread_cond_init(&self->cond, &attr);
    pthread_condattr_destroy(&attr);
    for (int i = 0; i < QC_HUB_TP_SECONDS; i++)
        self->tp_sec[i] = -1;
    return self;
}

void qc_hub_destroy(qc_hub_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qc_hub_t *self = *self_p;
    for (int i = 0; i < QC_HUB_TAIL_JOBS; i++)
        s_tail_clear(&self->tails[i]);
    free(self->last_status);
    pthread_cond_destroy(&self->cond);
    pthread_mutex_destroy(&self->mutex);
    free(self);
    *self_p = NULL;
}

/* ------------------------------------------------------------ queues */

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

static void s_stream_clear(qc_hub_stream_t *stream)
{
    for (s_msg_t *msg = stream->head, *next; msg; msg = next) {
        next = msg->next;
        free(msg);
    }
    stream->head = stream->tail = NULL;
    stream->queued = stream->bytes = stream->offset = 0;
}

static void s_stream_append(qc_hub_stream_t *stream, s_msg_t *msg)
{
    if (stream->tail)
        stream->tail->next = msg;
    else
        stream->head = msg;
    stream->tail = msg;
    stream->queued++;
    stream->bytes += msg->len;
}

/* The stream fell behind: drop its queue and tell it to resync. A message
 * the reader is half-way through stays, with its offset: the client has its
 * beginning, so the rest must follow or that event arrives corrupt. */
static void s_stream_overflow(qc_hub_stream_t *stream)
{
    s_msg_t *keep = NULL;
    size_t offset = stream->offset;
    if (offset) {
        keep = stream->head;
        stream->head = keep->next;
        keep->next = NULL;
    }
    s_stream_clear(stream);
    if (keep) {
        s_stream_append(stream, keep);
        stream->offset = offset;
    }
    static const char resync[] = "event: resync\ndata: {}\n\n";
    s_msg_t *msg = s_msg_new(resync, sizeof resync - 1);
    if (msg)
        s_stream_append(stream, msg);
}

/* Appends text to one stream (hub locked). */
static void s_stream_push(qc_hub_stream_t *stream, const char *text, size_t len)
{
    if (stream->queued >= QC_HUB_STREAM_MAX_QUEUED ||
        stream->bytes + len > QC_HUB_STREAM_MAX_BYTES) {
        s_stream_overflow(stream);
        return;
    }
    s_msg_t *msg = s_msg_new(text, len);
    if (msg)
        s_stream_append(stream, msg);
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

/* Queues text on the streams it is for (hub locked). */
static void s_fanout(qc_hub_t *self, const char *text, size_t len, const char *job_id,
                     int output_only)
{
    int woke = 0;
    for (qc_hub_stream_t *stream = self->streams; stream; stream = stream->next) {
        int main_stream = stream->output_id[0] == '\0';
        if ((main_stream && !output_only) ||
            (!main_stream && job_id && strcmp(stream->output_id, job_id) == 0)) {
            s_stream_push(stream, text, len);
            woke = 1;
        }
    }
    if (woke)
        pthread_cond_broadcast(&self->cond);
}

void qc_hub_publish(qc_hub_t *self, const char *event, const cJSON *data, const char *job_id,
                    int output_only)
{
    size_t len = 0;
    char *text = s_sse_text(event, data, &len);
    if (!text)
        return;
    pthread_mutex_lock(&self->mutex);
    s_fanout(self, text, len, job_id, output_only);
    if (strcmp(event, "status") == 0) {
        free(self->last_status);
        self->last_status = text;
        text = NULL;
    }
    pthread_mutex_unlock(&self->mutex);
    free(text);
}

/* ------------------------------------------------------------ output tails */

/* The kept tail of job id, or NULL (hub locked). */
static s_tail_t *s_tail_find(qc_hub_t *self, const char *id)
{
    for (int i = 0; i < QC_HUB_TAIL_JOBS; i++)
        if (self->tails[i].id[0] && strcmp(self->tails[i].id, id) == 0)
            return &self->tails[i];
    return NULL;
}

static void s_tail_clear(s_tail_t *tail)
{
    for (int k = 0; k < 2; k++) {
        free(tail->text[k]);
        tail->text[k] = NULL;
        tail->len[k] = 0;
    }
    tail->id[0] = '\0';
}

/* Appends data to the tail of one stream, keeping the last
 * QC_HUB_TAIL_BYTES, cut at a UTF-8 character boundary. */
static void s_tail_append(s_tail_t *tail, int k, const char *data, size_t n)
{
    if (n >= QC_HUB_TAIL_BYTES) {
        data += n - QC_HUB_TAIL_BYTES;
        n = QC_HUB_TAIL_BYTES;
        tail->len[k] = 0;
    }
    if (!tail->text[k]) {
        tail->text[k] = malloc(QC_HUB_TAIL_BYTES + 1);
        if (!tail->text[k])
            return;
        tail->len[k] = 0;
    }
    if (tail->len[k] + n > QC_HUB_TAIL_BYTES) {
        size_t drop = tail->len[k] + n - QC_HUB_TAIL_BYTES;
        memmove(tail->text[k], tail->text[k] + drop, tail->len[k] - drop);
        tail->len[k] -= drop;
    }
    memcpy(tail->text[k] + tail->len[k], data, n);
    tail->len[k] += n;
    size_t skip = 0; /* never start in the middle of a character */
    while (skip < tail->len[k] && ((unsigned char)tail->text[k][skip] & 0xC0) == 0x80)
        skip++;
    if (skip) {
        memmove(tail->text[k], tail->text[k] + skip, tail->len[k] - skip);
        tail->len[k] -= skip;
    }
    tail->text[k][tail->len[k]] = '\0';
}

void qc_hub_output(qc_hub_t *self, const char *id, int attempt, const char *stream,
                   const char *data)
{
    int k = strcmp(stream, "stderr") == 0;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "id", id);
    cJSON_AddNumberToObject(body, "attempt", attempt);
    cJSON_AddStringToObject(body, "stream", k ? "stderr" : "stdout");
    cJSON_AddStringToObject(body, "data", data);
    size_t len = 0;
    char *text = s_sse_text("output", body, &len);
    cJSON_Delete(body);
    if (!text)
        return;
    pthread_mutex_lock(&self->mutex);
    s_tail_t *tail = s_tail_find(self, id);
    if (tail && tail->attempt != attempt)
        s_tail_clear(tail);
    if (!tail || !tail->id[0]) {
        if (!tail) { /* a free entry, else the one written to least recently */
            tail = &self->tails[0];
            for (int i = 0; i < QC_HUB_TAIL_JOBS && tail->id[0]; i++)
                if (!self->tails[i].id[0] || self->tails[i].used < tail->used)
                    tail = &self->tails[i];
            s_tail_clear(tail);
        }
        snprintf(tail->id, sizeof tail->id, "%s", id);
        tail->attempt = attempt;
    }
    tail->used = ++self->tail_clock;
    s_tail_append(tail, k, data, strlen(data));
    s_fanout(self, text, len, id, 1);
    pthread_mutex_unlock(&self->mutex);
    free(text);
}

void qc_hub_output_forget(qc_hub_t *self, const char *id)
{
    pthread_mutex_lock(&self->mutex);
    s_tail_t *tail = s_tail_find(self, id);
    if (tail)
        s_tail_clear(tail);
    pthread_mutex_unlock(&self->mutex);
}

/* A new output stream starts with what is kept of its job's output
 * (hub locked, so nothing falls between this and the live output). */
static void s_tail_replay(qc_hub_t *self, qc_hub_stream_t *stream)
{
    s_tail_t *tail = s_tail_find(self, stream->output_id);
    for (int k = 0; tail && k < 2; k++) {
        if (!tail->len[k])
            continue;
        cJSON *body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "id", tail->id);
        cJSON_AddNumberToObject(body, "attempt", tail->attempt);
        cJSON_AddStringToObject(body, "stream", k ? "stderr" : "stdout");
        cJSON_AddStringToObject(body, "data", tail->text[k]);
        cJSON_AddBoolToObject(body, "replay", 1);
        size_t len = 0;
        char *text = s_sse_text("output", body, &len);
        cJSON_Delete(body);
        if (text)
            s_stream_push(stream, text, len);
        free(text);
    }
}

/* ------------------------------------------------------------ streams */

qc_hub_stream_t *qc_hub_stream_open(qc_hub_t *self, const char *output_id)
{
    qc_hub_stream_t *stream = calloc(1, sizeof *stream);
    if (!stream)
        return NULL;
    stream->hub = self;
    if (output_id)
        snprintf(stream->output_id, sizeof stream->output_id, "%s", output_id);
    pthread_mutex_lock(&self->mutex);
    if (self->stream_count >= QC_HUB_MAX_STREAMS || self->stopping) {
        pthread_mutex_unlock(&self->mutex);
        free(stream);
        return NULL;
    }
    char hello[128];
    int n = snprintf(hello, sizeof hello, "retry: 2000\nevent: hello\ndata: {\"live\":\"%s\"}\n\n",
                     self->polling ? "polling" : "events");
    s_stream_push(stream, hello, (size_t)n);
    if (!stream->output_id[0] && self->last_status)
        s_stream_push(stream, self->last_status, strlen(self->last_status));
    if (stream->output_id[0])
        s_tail_replay(self, stream);
    stream->next = self->streams;
    self->streams = stream;
    self->stream_count++;
    pthread_mutex_unlock(&self->mutex);
    return stream;
}

ssize_t qc_hub_stream_read(qc_hub_stream_t *stream, char *buf, size_t max, int wait_ms)
{
    qc_hub_t *self = stream->hub;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += wait_ms / 1000;
    deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&self->mutex);
    while (!stream->head && !self->stopping)
        if (pthread_cond_timedwait(&self->cond, &self->mutex, &deadline) == ETIMEDOUT)
            break;
    if (self->stopping) {
        pthread_mutex_unlock(&self->mutex);
        return -1;
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
    pthread_mutex_unlock(&self->mutex);
    return (ssize_t)n;
}

void qc_hub_stream_close(qc_hub_stream_t **stream_p)
{
    if (!stream_p || !*stream_p)
        return;
    qc_hub_stream_t *stream = *stream_p;
    qc_hub_t *self = stream->hub;
    pthread_mutex_lock(&self->mutex);
    for (qc_hub_stream_t **link = &self->streams; *link; link = &(*link)->next)
        if (*link == stream) {
            *link = stream->next;
            self->stream_count--;
            break;
        }
    s_stream_clear(stream);
    pthread_mutex_unlock(&self->mutex);
    free(stream);
    *stream_p = NULL;
}

void qc_hub_stop(qc_hub_t *self)
{
    pthread_mutex_lock(&self->mutex);
    self->stopping = 1;
    pthread_cond_broadcast(&self->cond);
    pthread_mutex_unlock(&self->mutex);
}

/* ------------------------------------------------------------ shared state */

void qc_hub_set_polling(qc_hub_t *self, int polling)
{
    pthread_mutex_lock(&self->mutex);
    int changed = self->polling != polling;
    self->polling = polling;
    pthread_mutex_unlock(&self->mutex);
    if (changed) {
        cJSON *hello = cJSON_CreateObject();
        cJSON_AddStringToObject(hello, "live", polling ? "polling" : "events");
        qc_hub_publish(self, "hello", hello, NULL, 0);
        cJSON_Delete(hello);
    }
}

int qc_hub_polling(qc_hub_t *self)
{
    pthread_mutex_lock(&self->mutex);
    int polling = self->polling;
    pthread_mutex_unlock(&self->mutex);
    return polling;
}

int qc_hub_main_streams(qc_hub_t *self)
{
    int count = 0;
    pthread_mutex_lock(&self->mutex);
    for (qc_hub_stream_t *s = self->streams; s; s = s->next)
        count += s->output_id[0] == '\0';
    pthread_mutex_unlock(&self->mutex);
    return count;
}

char *qc_hub_last_status(qc_hub_t *self)
{
    pthread_mutex_lock(&self->mutex);
    char *copy = self->last_status ? strdup(self->last_status) : NULL;
    pthread_mutex_unlock(&self->mutex);
    return copy;
}

void qc_hub_tp_add(qc_hub_t *self, int64_t sec, int completed, int failed)
{
    int slot = (int)(sec % QC_HUB_TP_SECONDS);
    pthread_mutex_lock(&self->mutex);
    if (self->tp_sec[slot] != sec) {
        self->tp_sec[slot] = sec;
        self->tp_completed[slot] = self->tp_failed[slot] = 0;
    }
    self->tp_completed[slot] += completed;
    self->tp_failed[slot] += failed;
    pthread_mutex_unlock(&self->mutex);
}

void qc_hub_tp_get(qc_hub_t *self, int64_t sec, int *completed, int *failed)
{
    int slot = (int)(sec % QC_HUB_TP_SECONDS);
    pthread_mutex_lock(&self->mutex);
    int fresh = self->tp_sec[slot] == sec;
    *completed = fresh ? self->tp_completed[slot] : 0;
    *failed = fresh ? self->tp_failed[slot] : 0;
    pthread_mutex_unlock(&self->mutex);
}

cJSON *qc_hub_throughput(qc_hub_t *self, int64_t now_s)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddNumberToObject(obj, "interval_s", 1);
    cJSON_AddNumberToObject(obj, "end", (double)now_s);
    cJSON *completed = cJSON_AddArrayToObject(obj, "completed");
    cJSON *failed = cJSON_AddArrayToObject(obj, "failed");
    for (int64_t sec = now_s - QC_HUB_TP_SECONDS + 1; sec <= now_s; sec++) {
        int c, f;
        qc_hub_tp_get(self, sec, &c, &f);
        cJSON_AddItemToArray(completed, cJSON_CreateNumber(c));
        cJSON_AddItemToArray(failed, cJSON_CreateNumber(f));
    }
    return obj;
}
