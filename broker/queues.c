#include "queues.h"
#include "queuectl/clock.h"
#include "queuectl/job.h"
#include "queuectl/log.h"
#include "queuectl/parse.h"
#include "queuectl/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_RUNNING_LIMIT 100000

cJSON *qc_queues_filter(const cJSON *request, const char **queue)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(request, "queue");
    *queue = NULL;
    if (!item || cJSON_IsNull(item))
        return NULL;
    if (!cJSON_IsString(item) || !qc_job_id_valid(item->valuestring))
        return qc_broker_error(QC_E_BAD_REQUEST,
                               "queue must be 1-%d characters of A-Z a-z 0-9 . _ : @ - (not "
                               "starting with -)",
                               QC_MAX_ID_BYTES);
    *queue = item->valuestring;
    return NULL;
}

/* Sorts by name, "default" first. */
static int s_by_name(const void *a, const void *b)
{
    const char *x = qc_json_string(*(cJSON *const *)a, "name");
    const char *y = qc_json_string(*(cJSON *const *)b, "name");
    int dx = strcmp(x, "default") == 0, dy = strcmp(y, "default") == 0;
    return dx != dy ? dy - dx : strcmp(x, y);
}

/* The store's list, sorted, "running" added, "default" always there. */
static cJSON *s_sorted_list(qc_broker_t *broker)
{
    cJSON *list = qc_store_queue_list(broker->store, qc_broker_wall_ms(broker));
    if (!list)
        return NULL;
    int count = cJSON_GetArraySize(list);
    cJSON **items = calloc((size_t)count + 1, sizeof *items);
    if (!items) {
        cJSON_Delete(list);
        return NULL;
    }
    int n = 0;
    while (list->child)
        items[n++] = cJSON_DetachItemViaPointer(list, list->child);
    qsort(items, (size_t)n, sizeof *items, s_by_name);
    for (int i = 0; i < n; i++) {
        cJSON *counts = cJSON_GetObjectItemCaseSensitive(items[i], "counts");
        int64_t running = 0;
        qc_json_int(counts, qc_state_name(QC_STATE_PROCESSING), &running);
        cJSON_AddNumberToObject(items[i], "running", (double)running);
        cJSON_AddItemToArray(list, items[i]);
    }
    free(items);
    return list;
}

cJSON *qc_queues_list(qc_broker_t *broker, const cJSON *request)
{
    (void)request;
    cJSON *list = s_sorted_list(broker);
    if (!list)
        return qc_broker_storage_error(broker);
    cJSON *reply = qc_broker_ok();
    cJSON_AddItemToObject(reply, "queues", list);
    return reply;
}

/* The queue named by the request, checked. */
static const char *s_queue_arg(const cJSON *request)
{
    const char *name = qc_json_string(request, "queue");
    return name && qc_job_id_valid(name) ? name : NULL;
}

/* The reply to a change: the queue as queue.list shows it. */
static cJSON *s_queue_reply(qc_broker_t *broker, const char *name)
{
    cJSON *list = s_sorted_list(broker);
    if (!list)
        return qc_broker_storage_error(broker);
    cJSON *reply = qc_broker_ok();
    for (cJSON *q = list->child; q; q = q->next)
        if (strcmp(qc_json_string(q, "name"), name) == 0) {
            cJSON_AddItemToObject(reply, "queue", cJSON_DetachItemViaPointer(list, q));
            break;
        }
    cJSON_Delete(list);
    return reply;
}

static cJSON *s_pause(qc_broker_t *broker, const cJSON *request, int paused)
{
    const char *name = s_queue_arg(request);
    if (!name)
        return qc_broker_error(QC_E_BAD_REQUEST, "queue.%s needs a valid \"queue\" name",
                               paused ? "pause" : "resume");
    qc_queue_update_t update = {.name = name, .paused = paused, .max_running = -1};
    if (qc_store_queue_update(broker->store, &update) != 0)
        return qc_broker_storage_error(broker);
    qc_info("queue %s %s", name,
            paused ? "paused: nothing new starts, running jobs finish" : "resumed");
    broker->maybe_due = 1;
    return s_queue_reply(broker, name);
}

cJSON *qc_queues_pause(qc_broker_t *broker, const cJSON *request)
{
    return s_pause(broker, request, 1);
}

cJSON *qc_queues_resume(qc_broker_t *broker, const cJSON *request)
{
    return s_pause(broker, request, 0);
}

cJSON *qc_queues_set(qc_broker_t *broker, const cJSON *request)
{
    const char *name = s_queue_arg(request);
    if (!name)
        return qc_broker_error(QC_E_BAD_REQUEST, "queue.set needs a valid \"queue\" name");
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(request, "max_running");
    int64_t cap = 0;
    if (!item)
        return qc_broker_error(QC_E_BAD_REQUEST, "queue.set needs \"max_running\"");
    if (!cJSON_IsNull(item) &&
        (qc_json_int(request, "max_running", &cap) != 0 || cap < 0 || cap > S_MAX_RUNNING_LIMIT))
        return qc_broker_error(QC_E_BAD_REQUEST,
                               "max_running must be an integer from 0 to %d (0 or null: no cap)",
                               S_MAX_RUNNING_LIMIT);
    qc_queue_update_t update = {.name = name, .paused = -1, .max_running = (int)cap};
    if (qc_store_queue_update(broker->store, &update) != 0)
        return qc_broker_storage_error(broker);
    if (cap)
        qc_info("queue %s: at most %lld running at once", name, (long long)cap);
    else
        qc_info("queue %s: no cap on running jobs", name);
    broker->maybe_due = 1;
    return s_queue_reply(broker, name);
}

cJSON *qc_queues_status(qc_broker_t *broker, const char *queue)
{
    int64_t counts[QC_STATE_COUNT];
    if (qc_store_queue_counts(broker->store, queue, counts) != 0)
        return qc_broker_storage_error(broker);
    cJSON *reply = qc_broker_ok();
    cJSON_AddStringToObject(reply, "queue", queue);
    cJSON *obj = cJSON_AddObjectToObject(reply, "counts");
    for (int s = 0; s < QC_STATE_COUNT; s++)
        cJSON_AddNumberToObject(obj, qc_state_name(s), (double)counts[s]);
    int workers = 0;
    for (qc_worker_t *w = qc_dispatch_first(broker->dispatch); w;
         w = qc_dispatch_next(broker->dispatch)) {
        if (w->queues && !qc_exit_list_has(w->queues, queue))
            continue; /* (a comma-separated list, like exit lists) */
        workers++;
    }
    cJSON_AddNumberToObject(reply, "workers", workers);
    cJSON_AddNumberToObject(reply, "running", (double)counts[QC_STATE_PROCESSING]);
    return reply;
}

cJSON *qc_queues_jobs(qc_broker_t *broker, const cJSON *request, const char *queue, int state)
{
    int64_t limit = 100, cursor = 0;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(request, "limit");
    if (item && (qc_json_int(request, "limit", &limit) != 0 || limit < 1 || limit > 1000))
        return qc_broker_error(QC_E_BAD_REQUEST, "limit must be an integer from 1 to 1000");
    item = cJSON_GetObjectItemCaseSensitive(request, "cursor");
    if (item && !cJSON_IsNull(item) &&
        (!cJSON_IsString(item) || qc_parse_int(item->valuestring, 1, INT64_MAX, &cursor) != 0))
        return qc_broker_error(QC_E_BAD_REQUEST, "cursor must be a value from next_cursor");
    qc_store_list_t list = {.queue = queue, .state = state, .limit = (int)limit, .cursor = cursor};
    int64_t next_cursor = 0;
    cJSON *jobs = qc_store_job_list_in(broker->store, &list, &next_cursor);
    if (!jobs)
        return qc_broker_storage_error(broker);
    cJSON *reply = qc_broker_ok();
    cJSON_AddItemToObject(reply, "jobs", jobs);
    return qc_broker_add_cursor(reply, next_cursor);
}
