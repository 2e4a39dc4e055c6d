#include "events.h"
#include "queuectl/clock.h"
#include "queuectl/protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest topic the broker publishes ("output." and an id); a longer
 * prefix matches nothing and is not kept. */
#define S_MAX_TOPIC (16 + QC_MAX_ID_BYTES)

struct _qc_events_subs_t {
    zhashx_t *prefixes; /* prefix -> count (as a pointer-sized integer) */
    /* How many prefixes of each length are held: a match looks up only the
     * lengths someone subscribed with (typically one to three). */
    int by_length[S_MAX_TOPIC + 1];
    size_t held;
};

qc_events_subs_t *qc_events_subs_new(void)
{
    qc_events_subs_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->prefixes = zhashx_new(); /* string keys, copied; values not owned */
    if (!self->prefixes) {
        free(self);
        return NULL;
    }
    return self;
}

void qc_events_subs_destroy(qc_events_subs_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhashx_destroy(&(*self_p)->prefixes);
    free(*self_p);
    *self_p = NULL;
}

void qc_events_subs_apply(qc_events_subs_t *self, const void *data, size_t size)
{
    const char *bytes = data;
    if (!self || size < 1 || (bytes[0] != 0 && bytes[0] != 1))
        return;
    size_t len = size - 1;
    /* Topics hold no NUL and are at most S_MAX_TOPIC long: such a prefix
     * can never match, so it need not be kept. */
    if (len > S_MAX_TOPIC || memchr(bytes + 1, '\0', len))
        return;
    char prefix[S_MAX_TOPIC + 1];
    memcpy(prefix, bytes + 1, len);
    prefix[len] = '\0';
    uintptr_t count = (uintptr_t)zhashx_lookup(self->prefixes, prefix);
    if (bytes[0] == 1) {
        if (count == 0) {
            if (zhashx_insert(self->prefixes, prefix, (void *)(uintptr_t)1) != 0)
                return;
            self->by_length[len]++;
            self->held++;
        } else {
            zhashx_update(self->prefixes, prefix, (void *)(count + 1));
        }
    } else if (count == 1) {
        zhashx_delete(self->prefixes, prefix);
        self->by_length[len]--;
        self->held--;
    } else if (count > 1) {
        zhashx_update(self->prefixes, prefix, (void *)(count - 1));
    }
}

int qc_events_subs_match(const qc_events_subs_t *self, const char *topic)
{
    if (!self || self->held == 0)
        return 0;
    if (self->by_length[0] > 0)
        return 1; /* someone takes everything */
    char prefix[S_MAX_TOPIC + 1];
    size_t len = 0;
    for (; topic[len] && len < S_MAX_TOPIC; len++) {
        prefix[len] = topic[len];
        if (self->by_length[len + 1] > 0) {
            prefix[len + 1] = '\0';
            if (zhashx_lookup(self->prefixes, prefix))
                return 1;
        }
    }
    return 0;
}

size_t qc_events_subs_size(const qc_events_subs_t *self)
{
    return self ? self->held : 0;
}

int qc_events_wanted(const qc_broker_t *broker, const char *topic)
{
    return broker->publishing &&
           (!broker->event_subs || qc_events_subs_match(broker->event_subs, topic));
}

/* "job.<state>" into topic (at least 32 bytes). */
static void s_job_topic(qc_state_t state, char *topic)
{
    const char *name = qc_state_name(state);
    size_t len = strlen(name);
    if (len > 26)
        len = 26;
    memcpy(topic, "job.", 4);
    memcpy(topic + 4, name, len);
    topic[4 + len] = '\0';
}

static void s_add_now(qc_broker_t *broker, cJSON *body)
{
    char iso[32];
    cJSON_AddStringToObject(body, "at",
                            qc_clock_format_iso(qc_broker_wall_ms(broker), iso, sizeof iso));
}

void qc_events_job(qc_broker_t *broker, const qc_job_event_t *event)
{
    char topic[32];
    s_job_topic(event->state, topic);
    if (!qc_events_wanted(broker, topic))
        return;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "id", event->id);
    cJSON_AddStringToObject(body, "state", qc_state_name(event->state));
    if (event->command)
        cJSON_AddStringToObject(body, "command", event->command);
    if (event->with_counts) {
        qc_json_add_int(body, "attempts", event->attempts);
        if (event->max_retries >= 0) /* a job row that couldn't be read */
            qc_json_add_int(body, "max_retries", event->max_retries);
    }
    qc_json_add_int(body, "priority", event->priority);
    if (event->attempt > 0)
        qc_json_add_int(body, "attempt", event->attempt);
    if (event->has_exit_code && event->exit_code >= 0)
        qc_json_add_int(body, "exit_code", event->exit_code);
    if (event->error && *event->error)
        cJSON_AddStringToObject(body, "error", event->error);
    if (event->worker_id)
        cJSON_AddStringToObject(body, "worker_id", event->worker_id);
    s_add_now(broker, body);
    qc_outbox_publish(broker->outbox, topic, body);
    cJSON_Delete(body);
}

void qc_events_enqueued(qc_broker_t *broker, const char *id, qc_state_t state,
                        const qc_job_spec_t *spec)
{
    qc_events_job(broker, &(qc_job_event_t){.id = id,
                                            .state = state,
                                            .command = spec->command,
                                            .with_counts = 1,
                                            .max_retries = spec->max_retries >= 0
                                                               ? spec->max_retries
                                                               : broker->config.max_retries,
                                            .priority = spec->priority});
}

void qc_events_worker(qc_broker_t *broker, const char *what, const qc_worker_t *worker)
{
    char topic[32];
    snprintf(topic, sizeof topic, "worker.%s", what);
    if (!qc_events_wanted(broker, topic))
        return;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "worker_id", worker->worker_id);
    cJSON_AddStringToObject(body, "host", worker->host);
    qc_json_add_int(body, "pid", worker->pid);
    qc_json_add_int(body, "slots", worker->slots);
    s_add_now(broker, body);
    qc_outbox_publish(broker->outbox, topic, body);
    cJSON_Delete(body);
}
