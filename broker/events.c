#include "events.h"
#include "queuectl/clock.h"

#include <stdio.h>

static void s_add_now(cJSON *body)
{
    char iso[32];
    cJSON_AddStringToObject(body, "at", qc_clock_format_iso(qc_clock_wall_ms(), iso, sizeof iso));
}

void qc_events_job(qc_broker_t *broker, const char *id, qc_state_t state, const char *command,
                   int attempts, int max_retries, int priority, int attempt, int exit_code,
                   const char *error, const char *worker_id)
{
    if (!broker->events_sock)
        return;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "id", id);
    cJSON_AddStringToObject(body, "state", qc_state_name(state));
    if (command)
        cJSON_AddStringToObject(body, "command", command);
    if (attempts >= 0)
        cJSON_AddNumberToObject(body, "attempts", attempts);
    if (max_retries >= 0)
        cJSON_AddNumberToObject(body, "max_retries", max_retries);
    cJSON_AddNumberToObject(body, "priority", priority);
    if (attempt > 0)
        cJSON_AddNumberToObject(body, "attempt", attempt);
    if (exit_code >= 0)
        cJSON_AddNumberToObject(body, "exit_code", exit_code);
    if (error && *error)
        cJSON_AddStringToObject(body, "error", error);
    if (worker_id)
        cJSON_AddStringToObject(body, "worker_id", worker_id);
    s_add_now(body);
    char topic[32];
    snprintf(topic, sizeof topic, "job.%s", qc_state_name(state));
    qc_broker_publish(broker, topic, body);
    cJSON_Delete(body);
}

void qc_events_worker(qc_broker_t *broker, const char *what, const qc_worker_t *worker)
{
    if (!broker->events_sock)
        return;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "worker_id", worker->worker_id);
    cJSON_AddStringToObject(body, "host", worker->host);
    cJSON_AddNumberToObject(body, "pid", worker->pid);
    cJSON_AddNumberToObject(body, "slots", worker->slots);
    s_add_now(body);
    char topic[32];
    snprintf(topic, sizeof topic, "worker.%s", what);
    qc_broker_publish(broker, topic, body);
    cJSON_Delete(body);
}
