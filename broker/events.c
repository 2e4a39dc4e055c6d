#include "events.h"
#include "queuectl/clock.h"

#include <stdio.h>

static void s_add_now(qc_broker_t *broker, cJSON *body)
{
    char iso[32];
    cJSON_AddStringToObject(body, "at",
                            qc_clock_format_iso(qc_broker_wall_ms(broker), iso, sizeof iso));
}

void qc_events_job(qc_broker_t *broker, const qc_job_event_t *event)
{
    if (!broker->publishing)
        return;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "id", event->id);
    cJSON_AddStringToObject(body, "state", qc_state_name(event->state));
    if (event->command)
        cJSON_AddStringToObject(body, "command", event->command);
    if (event->with_counts) {
        cJSON_AddNumberToObject(body, "attempts", event->attempts);
        if (event->max_retries >= 0) /* a job row that couldn't be read */
            cJSON_AddNumberToObject(body, "max_retries", event->max_retries);
    }
    cJSON_AddNumberToObject(body, "priority", event->priority);
    if (event->attempt > 0)
        cJSON_AddNumberToObject(body, "attempt", event->attempt);
    if (event->has_exit_code && event->exit_code >= 0)
        cJSON_AddNumberToObject(body, "exit_code", event->exit_code);
    if (event->error && *event->error)
        cJSON_AddStringToObject(body, "error", event->error);
    if (event->worker_id)
        cJSON_AddStringToObject(body, "worker_id", event->worker_id);
    s_add_now(broker, body);
    char topic[32];
    snprintf(topic, sizeof topic, "job.%s", qc_state_name(event->state));
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
    if (!broker->publishing)
        return;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "worker_id", worker->worker_id);
    cJSON_AddStringToObject(body, "host", worker->host);
    cJSON_AddNumberToObject(body, "pid", worker->pid);
    cJSON_AddNumberToObject(body, "slots", worker->slots);
    s_add_now(broker, body);
    char topic[32];
    snprintf(topic, sizeof topic, "worker.%s", what);
    qc_outbox_publish(broker->outbox, topic, body);
    cJSON_Delete(body);
}
