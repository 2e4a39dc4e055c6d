/* The client request table: one handler per op, each decoding its arguments,
 * calling the store or the registry, and building exactly one reply. */
#include "ctlcmd.h"
#include "deps.h"
#include "enqueue.h"
#include "queues.h"
#include "schedule.h"
#include "events.h"
#include "wrkcmd.h"
#include "queuectl/clock.h"
#include "queuectl/job.h"
#include "queuectl/log.h"
#include "queuectl/parse.h"
#include "queuectl/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef cJSON *(s_handler_fn)(qc_broker_t *broker, const cJSON *request);

static cJSON *s_op_ping(qc_broker_t *broker, const cJSON *request)
{
    (void)request;
    cJSON *reply = qc_broker_ok();
    cJSON_AddStringToObject(reply, "version", QC_VERSION);
    cJSON_AddNumberToObject(reply, "pid", getpid());
    cJSON_AddStringToObject(reply, "worker_endpoint", broker->worker_endpoint);
    if (broker->events_endpoint)
        cJSON_AddStringToObject(reply, "events_endpoint", broker->events_endpoint);
    return reply;
}

static const char *s_required_id(const cJSON *request)
{
    const char *id = qc_json_string(request, "id");
    return (id && qc_job_id_valid(id)) ? id : NULL;
}

static cJSON *s_op_get(qc_broker_t *broker, const cJSON *request)
{
    const char *id = s_required_id(request);
    if (!id)
        return qc_broker_error(QC_E_BAD_REQUEST, "get needs a valid \"id\"");
    cJSON *job;
    int rc = qc_store_job_get(broker->store, id, 1, &job);
    if (rc == QC_STORE_NOT_FOUND)
        return qc_broker_error(QC_E_NOT_FOUND, "no job with id \"%s\"", id);
    if (rc != 0)
        return qc_broker_storage_error(broker);
    if (qc_deps_annotate(broker, job) != 0) {
        cJSON_Delete(job);
        return qc_broker_storage_error(broker);
    }
    cJSON *reply = qc_broker_ok();
    cJSON_AddItemToObject(reply, "job", job);
    return reply;
}

/* A paged request's "cursor" (a next_cursor; 0 if absent). NULL, or the
 * error reply. */
static cJSON *s_cursor_arg(const cJSON *request, int64_t *cursor)
{
    *cursor = 0;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(request, "cursor");
    if (item && !cJSON_IsNull(item) &&
        (!cJSON_IsString(item) || qc_parse_int(item->valuestring, 1, INT64_MAX, cursor) != 0))
        return qc_broker_error(QC_E_BAD_REQUEST, "cursor must be a value from next_cursor");
    return NULL;
}

/* A paged request's "limit" (1-1000, default 100) and "cursor". NULL, or
 * the error reply. */
static cJSON *s_page_args(const cJSON *request, int64_t *limit, int64_t *cursor)
{
    *limit = 100;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(request, "limit");
    if (item && (qc_json_int(request, "limit", limit) != 0 || *limit < 1 || *limit > 1000))
        return qc_broker_error(QC_E_BAD_REQUEST, "limit must be an integer from 1 to 1000");
    return s_cursor_arg(request, cursor);
}

/* Shared by list and dlq.list. */
static cJSON *s_list(qc_broker_t *broker, const cJSON *request, int state)
{
    int64_t limit, cursor;
    cJSON *error = s_page_args(request, &limit, &cursor);
    if (error)
        return error;
    int64_t next_cursor = 0;
    cJSON *jobs = qc_store_job_list(broker->store, state, (int)limit, cursor, &next_cursor);
    if (!jobs)
        return qc_broker_storage_error(broker);
    cJSON *reply = qc_broker_ok();
    cJSON_AddItemToObject(reply, "jobs", jobs);
    return qc_broker_add_cursor(reply, next_cursor);
}

/* Jobs one search request looks at, at most: a search of a million jobs is a
 * hundred requests, each a short stop of the loop, not one long one. */
#define S_SEARCH_MAX_SCAN 10000
#define S_SEARCH_MAX_TEXT 256

/* list with "q": jobs whose id or command contains q, paged like list; a
 * job whose id is q comes first on the first page. */
static cJSON *s_search(qc_broker_t *broker, const cJSON *request, int state, const char *q)
{
    int64_t limit, cursor;
    cJSON *error = s_page_args(request, &limit, &cursor);
    if (error)
        return error;
    if (strlen(q) > S_SEARCH_MAX_TEXT)
        return qc_broker_error(QC_E_BAD_REQUEST, "q must be at most %d bytes", S_SEARCH_MAX_TEXT);
    cJSON *reply = qc_broker_ok();
    cJSON *jobs = cJSON_AddArrayToObject(reply, "jobs");
    qc_store_search_t search = {.state = state,
                                .text = q,
                                .skip_id = qc_job_id_valid(q) ? q : NULL,
                                .limit = (int)limit,
                                .max_scan = S_SEARCH_MAX_SCAN,
                                .cursor = cursor};
    cJSON *exact = (!cursor && search.skip_id) ? qc_store_job_brief(broker->store, q) : NULL;
    if (exact && (state < 0 || qc_state_parse(qc_json_string(exact, "state")) == state)) {
        cJSON_AddItemToArray(jobs, exact);
        search.limit--;
    } else {
        cJSON_Delete(exact);
    }
    int64_t next_cursor = 0;
    int scanned = 0;
    if (search.limit == 0) {
        next_cursor = INT64_MAX; /* the whole id filled the page: the scan starts at the top */
    } else {
        cJSON *found = qc_store_job_search(broker->store, &search, &next_cursor, &scanned);
        if (!found) {
            cJSON_Delete(reply);
            return qc_broker_storage_error(broker);
        }
        while (found->child)
            cJSON_AddItemToArray(jobs, cJSON_DetachItemViaPointer(found, found->child));
        cJSON_Delete(found);
    }
    cJSON_AddNumberToObject(reply, "scanned", scanned);
    return qc_broker_add_cursor(reply, next_cursor);
}

static cJSON *s_op_list(qc_broker_t *broker, const cJSON *request)
{
    int state = -1;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(request, "state");
    if (item && !cJSON_IsNull(item)) {
        state = cJSON_IsString(item) ? qc_state_parse(item->valuestring) : -1;
        if (state < 0)
            return qc_broker_error(QC_E_BAD_REQUEST, "state must be one of pending, processing, "
                                                     "completed, failed, dead, canceled, waiting");
    }
    const char *queue;
    cJSON *error = qc_queues_filter(request, &queue);
    if (error)
        return error;
    item = cJSON_GetObjectItemCaseSensitive(request, "q");
    if (item && !cJSON_IsNull(item) && !cJSON_IsString(item))
        return qc_broker_error(QC_E_BAD_REQUEST, "q must be a string");
    if (queue && cJSON_IsString(item) && item->valuestring[0])
        return qc_broker_error(QC_E_BAD_REQUEST, "list takes q or queue, not both");
    if (queue)
        return qc_queues_jobs(broker, request, queue, state);
    if (cJSON_IsString(item) && item->valuestring[0])
        return s_search(broker, request, state, item->valuestring);
    return s_list(broker, request, state);
}

static cJSON *s_op_dlq_list(qc_broker_t *broker, const cJSON *request)
{
    return s_list(broker, request, QC_STATE_DEAD);
}

static cJSON *s_op_status(qc_broker_t *broker, const cJSON *request)
{
    const char *queue;
    cJSON *error = qc_queues_filter(request, &queue);
    if (error)
        return error;
    if (queue)
        return qc_queues_status(broker, queue);
    int64_t counts[QC_STATE_COUNT], oldest_ms;
    if (qc_store_counts(broker->store, counts, &oldest_ms) != 0)
        return qc_broker_storage_error(broker);
    cJSON *reply = qc_broker_ok();
    cJSON *obj = cJSON_AddObjectToObject(reply, "counts");
    for (int s = 0; s < QC_STATE_COUNT; s++)
        cJSON_AddNumberToObject(obj, qc_state_name(s), (double)counts[s]);
    int busy = 0;
    for (qc_worker_t *w = qc_dispatch_first(broker->dispatch); w;
         w = qc_dispatch_next(broker->dispatch))
        busy += qc_worker_running_count(w);
    cJSON_AddNumberToObject(reply, "workers", (double)qc_dispatch_size(broker->dispatch));
    cJSON_AddNumberToObject(reply, "busy", busy);
    if (oldest_ms >= 0)
        cJSON_AddNumberToObject(reply, "oldest_pending_age_s",
                                (double)(qc_broker_wall_ms(broker) - oldest_ms) / 1000.0);
    else
        cJSON_AddNullToObject(reply, "oldest_pending_age_s");
    return reply;
}

/* Jobs one dlq.retry with "ids" or "all" revives at most. */
#define S_RETRY_MAX_JOBS 1000

/* A revived job's event, from its row as list shows it. */
static void s_revived_event(qc_broker_t *broker, const cJSON *job)
{
    int64_t max_retries = -1, priority = 0;
    qc_json_int(job, "max_retries", &max_retries);
    qc_json_int(job, "priority", &priority);
    qc_events_job(broker, &(qc_job_event_t){.id = qc_json_string(job, "id"),
                                            .state = QC_STATE_PENDING,
                                            .command = qc_json_string(job, "command"),
                                            .with_counts = 1,
                                            .max_retries = (int)max_retries,
                                            .priority = (int)priority});
}

/* dlq.retry with "all": true (the newest S_RETRY_MAX_JOBS dead jobs below
 * "cursor") or "ids": [...] (each reported retried or failed). */
static cJSON *s_dlq_retry_many(qc_broker_t *broker, const cJSON *request)
{
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(request, "ids");
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(request, "all");
    if ((ids && all) || cJSON_GetObjectItemCaseSensitive(request, "id"))
        return qc_broker_error(QC_E_BAD_REQUEST, "dlq.retry takes one of \"id\", \"ids\", \"all\"");
    int64_t now_ms = qc_broker_wall_ms(broker);
    cJSON *reply = qc_broker_ok();
    cJSON *retried = cJSON_AddArrayToObject(reply, "retried");
    cJSON *jobs = NULL;
    int64_t next_cursor = 0;
    if (all) {
        int64_t cursor;
        cJSON *error = cJSON_IsTrue(all) ? s_cursor_arg(request, &cursor)
                                         : qc_broker_error(QC_E_BAD_REQUEST, "all must be true");
        if (error) {
            cJSON_Delete(reply);
            return error;
        }
        jobs =
            qc_store_job_list(broker->store, QC_STATE_DEAD, S_RETRY_MAX_JOBS, cursor, &next_cursor);
    } else {
        int count = cJSON_GetArraySize(ids);
        if (!cJSON_IsArray(ids) || count < 1) {
            cJSON_Delete(reply);
            return qc_broker_error(QC_E_BAD_REQUEST, "ids must be an array of 1 to %d job ids",
                                   S_RETRY_MAX_JOBS);
        }
        if (count > S_RETRY_MAX_JOBS) {
            cJSON_Delete(reply);
            return qc_broker_error(QC_E_TOO_LARGE, "ids holds at most %d job ids, not %d",
                                   S_RETRY_MAX_JOBS, count);
        }
        for (const cJSON *item = ids->child; item; item = item->next)
            if (!cJSON_IsString(item) || !qc_job_id_valid(item->valuestring)) {
                cJSON_Delete(reply);
                return qc_broker_error(QC_E_BAD_REQUEST, "ids must hold valid job ids");
            }
        jobs = cJSON_CreateArray();
        for (const cJSON *item = ids->child; item; item = item->next) {
            cJSON *job = cJSON_CreateObject();
            cJSON_AddStringToObject(job, "id", item->valuestring);
            cJSON_AddItemToArray(jobs, job);
        }
    }
    if (!jobs) {
        cJSON_Delete(reply);
        return qc_broker_storage_error(broker);
    }
    cJSON *failed = ids ? cJSON_AddArrayToObject(reply, "failed") : NULL;
    for (const cJSON *job = jobs->child; job; job = job->next) {
        const char *id = qc_json_string(job, "id");
        int rc = qc_store_job_revive(broker->store, id, now_ms);
        if (rc == 0 && qc_deps_revived(broker, id) != 0)
            rc = -1;
        if (rc == 0) {
            cJSON_AddItemToArray(retried, cJSON_CreateString(id));
            cJSON *brief = all ? NULL : qc_store_job_brief(broker->store, id);
            s_revived_event(broker, all ? job : brief);
            cJSON_Delete(brief);
        } else if (rc == -1) {
            cJSON_Delete(jobs);
            cJSON_Delete(reply);
            return qc_broker_storage_error(broker);
        } else if (failed) {
            cJSON *entry = cJSON_CreateObject();
            cJSON_AddStringToObject(entry, "id", id);
            cJSON *error = cJSON_AddObjectToObject(entry, "error");
            cJSON_AddStringToObject(error, "code",
                                    rc == QC_STORE_NOT_FOUND ? QC_E_NOT_FOUND : QC_E_CONFLICT);
            cJSON_AddStringToObject(error, "message",
                                    rc == QC_STORE_NOT_FOUND ? "no such job"
                                    : rc == QC_STORE_UNIQUE_HELD
                                        ? "its unique key is held by an unfinished job"
                                        : "not in the dead-letter queue");
            cJSON_AddItemToArray(failed, entry);
        }
    }
    cJSON_Delete(jobs);
    int count = cJSON_GetArraySize(retried);
    if (count > 0) {
        qc_info("dlq: revived %d job(s)", count);
        broker->maybe_due = 1;
    }
    if (all) {
        cJSON_AddBoolToObject(reply, "more", next_cursor > 0);
        qc_broker_add_cursor(reply, next_cursor);
    }
    return reply;
}

static cJSON *s_op_dlq_retry(qc_broker_t *broker, const cJSON *request)
{
    if (cJSON_GetObjectItemCaseSensitive(request, "ids") ||
        cJSON_GetObjectItemCaseSensitive(request, "all"))
        return s_dlq_retry_many(broker, request);
    const char *id = s_required_id(request);
    if (!id)
        return qc_broker_error(QC_E_BAD_REQUEST, "dlq.retry needs a valid \"id\"");
    int rc = qc_store_job_revive(broker->store, id, qc_broker_wall_ms(broker));
    if (rc == 0 && qc_deps_revived(broker, id) != 0)
        rc = -1;
    if (rc == QC_STORE_NOT_FOUND)
        return qc_broker_error(QC_E_NOT_FOUND, "no job with id \"%s\"", id);
    if (rc == QC_STORE_CONFLICT)
        return qc_broker_error(QC_E_CONFLICT, "job \"%s\" is not in the dead-letter queue", id);
    if (rc == QC_STORE_UNIQUE_HELD)
        return qc_broker_error(QC_E_CONFLICT,
                               "job \"%s\" stays in the dead-letter queue: its unique key is "
                               "held by an unfinished job",
                               id);
    if (rc != 0)
        return qc_broker_storage_error(broker);
    qc_info("job %s: revived from the dead-letter queue", id);
    broker->maybe_due = 1;
    cJSON *reply = s_op_get(broker, request);
    const cJSON *job = cJSON_GetObjectItemCaseSensitive(reply, "job");
    int64_t max_retries = -1, priority = 0;
    qc_json_int(job, "max_retries", &max_retries);
    qc_json_int(job, "priority", &priority);
    qc_events_job(broker, &(qc_job_event_t){.id = id,
                                            .state = QC_STATE_PENDING,
                                            .command = qc_json_string(job, "command"),
                                            .with_counts = 1,
                                            .max_retries = (int)max_retries,
                                            .priority = (int)priority});
    return reply;
}

static cJSON *s_op_config_get(qc_broker_t *broker, const cJSON *request)
{
    const char *key = NULL;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(request, "key");
    if (item && !cJSON_IsNull(item)) {
        key = cJSON_IsString(item) ? qc_config_key_canonical(item->valuestring) : NULL;
        if (!key)
            return qc_broker_error(QC_E_INVALID_CONFIG,
                                   "unknown config key (known: max-retries, backoff-base, "
                                   "backoff-max, job-timeout, retention, retry-on-exit, "
                                   "no-retry-on-exit)");
    }
    cJSON *reply = qc_broker_ok();
    cJSON_AddItemToObject(reply, "config", qc_config_to_json(&broker->config, key));
    return reply;
}

static cJSON *s_op_config_set(qc_broker_t *broker, const cJSON *request)
{
    const char *key = qc_json_string(request, "key");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(request, "value");
    char text[QC_CONFIG_VALUE_BYTES + 64];
    if (cJSON_IsString(value))
        snprintf(text, sizeof text, "%s", value->valuestring);
    else if (cJSON_IsNumber(value))
        snprintf(text, sizeof text, "%.17g", value->valuedouble);
    else
        return qc_broker_error(QC_E_BAD_REQUEST, "config.set needs \"key\" and \"value\"");
    if (!key)
        return qc_broker_error(QC_E_BAD_REQUEST, "config.set needs \"key\" and \"value\"");
    qc_config_t updated = broker->config;
    char err[256];
    if (qc_config_set(&updated, key, text, err, sizeof err) != 0)
        return qc_broker_error(QC_E_INVALID_CONFIG, "%s", err);
    const char *canonical = qc_config_key_canonical(key);
    char stored[QC_CONFIG_VALUE_BYTES];
    qc_config_format(&updated, canonical, stored, sizeof stored);
    if (strstr(canonical, "retry_on_exit") && stored[0] &&
        !qc_store_supports(broker->store, QC_STORE_FEAT_EXIT_POLICY))
        return qc_broker_error(QC_E_STORAGE, "this broker's database backend cannot store an "
                                             "exit-code retry policy yet");
    if (qc_store_config_save(broker->store, canonical, stored) != 0)
        return qc_broker_storage_error(broker);
    broker->config = updated;
    qc_info("config: %s = %s", canonical, stored);
    cJSON *reply = qc_broker_ok();
    cJSON_AddItemToObject(reply, "config", qc_config_to_json(&broker->config, canonical));
    return reply;
}

static cJSON *s_op_workers_list(qc_broker_t *broker, const cJSON *request)
{
    (void)request;
    cJSON *reply = qc_broker_ok();
    cJSON *workers = cJSON_AddArrayToObject(reply, "workers");
    int64_t now_mono = qc_broker_mono_ms(broker), now_wall = qc_broker_wall_ms(broker);
    for (qc_worker_t *w = qc_dispatch_first(broker->dispatch); w;
         w = qc_dispatch_next(broker->dispatch)) {
        cJSON *obj = cJSON_CreateObject();
        char iso[32];
        cJSON_AddStringToObject(obj, "worker_id", w->worker_id);
        cJSON_AddStringToObject(obj, "host", w->host);
        cJSON_AddNumberToObject(obj, "pid", w->pid);
        cJSON_AddNumberToObject(obj, "slots", w->slots);
        cJSON_AddNumberToObject(obj, "busy", qc_worker_running_count(w));
        cJSON_AddNumberToObject(obj, "jobs_done", (double)w->jobs_done);
        cJSON_AddStringToObject(obj, "connected_at",
                                qc_clock_format_iso(w->connected_at_ms, iso, sizeof iso));
        cJSON_AddStringToObject(
            obj, "last_seen",
            qc_clock_format_iso(now_wall - (now_mono - w->last_seen_mono_ms), iso, sizeof iso));
        cJSON_AddBoolToObject(obj, "stopping", w->stopping);
        if (w->queues)
            cJSON_AddStringToObject(obj, "queues", w->queues);
        else
            cJSON_AddNullToObject(obj, "queues");
        cJSON_AddItemToArray(workers, obj);
    }
    return reply;
}

static cJSON *s_op_workers_stop(qc_broker_t *broker, const cJSON *request)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(request, "worker_id");
    const char *only = NULL;
    if (item && !cJSON_IsNull(item)) {
        only = cJSON_IsString(item) ? item->valuestring : NULL;
        if (!only)
            return qc_broker_error(QC_E_BAD_REQUEST, "worker_id must be a string");
        if (!qc_dispatch_find_by_name(broker->dispatch, only))
            return qc_broker_error(QC_E_NOT_FOUND, "no connected worker \"%.*s\"",
                                   qc_utf8_prefix(only, 128), only);
    }
    int stopped = qc_wrkcmd_stop(broker, only);
    cJSON *reply = qc_broker_ok();
    cJSON_AddNumberToObject(reply, "stopped", stopped);
    return reply;
}

static cJSON *s_op_cancel(qc_broker_t *broker, const cJSON *request)
{
    const char *id = s_required_id(request);
    if (!id)
        return qc_broker_error(QC_E_BAD_REQUEST, "cancel needs a valid \"id\"");
    int rc = qc_store_job_cancel(broker->store, id, qc_broker_wall_ms(broker));
    if (rc == QC_STORE_NOT_FOUND)
        return qc_broker_error(QC_E_NOT_FOUND, "no job with id \"%s\"", id);
    if (rc == QC_STORE_CONFLICT)
        return qc_broker_error(QC_E_CONFLICT, "job \"%s\" has already finished", id);
    if (rc == -1)
        return qc_broker_storage_error(broker);
    if (rc == 0) {
        qc_info("job %s: canceled", id);
        qc_events_job(broker,
                      &(qc_job_event_t){.id = id, .state = QC_STATE_CANCELED, .error = "canceled"});
        if (qc_deps_settled(broker, id) != 0)
            return qc_broker_storage_error(broker);
    } else {
        qc_wrkcmd_cancel_running(broker, id);
    }
    return s_op_get(broker, request);
}

/* older_than_s (optional, >= 0) as a cutoff time; -1 on a bad value. */
static int s_cutoff(qc_broker_t *broker, const cJSON *request, int64_t *before_ms)
{
    int64_t older = 0;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(request, "older_than_s");
    if (item && (qc_json_int(request, "older_than_s", &older) != 0 || older < 0))
        return -1;
    *before_ms = qc_broker_wall_ms(broker) - older * 1000;
    return 0;
}

/* One request deletes at most this many jobs, so the loop (and the client's
 * wait for its reply) stays short; "more" tells the client to ask again. */
#define S_PURGE_MAX_ROWS 50000

static cJSON *s_deleted_reply(qc_broker_t *broker, int64_t deleted, int more)
{
    if (deleted < 0)
        return qc_broker_storage_error(broker);
    cJSON *reply = qc_broker_ok();
    cJSON_AddNumberToObject(reply, "deleted", (double)deleted);
    cJSON_AddBoolToObject(reply, "more", more);
    return reply;
}

static cJSON *s_op_dlq_purge(qc_broker_t *broker, const cJSON *request)
{
    int64_t before;
    if (s_cutoff(broker, request, &before) != 0)
        return qc_broker_error(QC_E_BAD_REQUEST, "older_than_s must be a whole number >= 0");
    int64_t deleted = qc_store_purge(broker->store, QC_STATE_DEAD, before, S_PURGE_MAX_ROWS);
    if (deleted > 0)
        qc_info("dlq: purged %lld dead job(s)", (long long)deleted);
    return s_deleted_reply(broker, deleted, deleted >= S_PURGE_MAX_ROWS);
}

static cJSON *s_op_prune(qc_broker_t *broker, const cJSON *request)
{
    int64_t before;
    if (s_cutoff(broker, request, &before) != 0)
        return qc_broker_error(QC_E_BAD_REQUEST, "older_than_s must be a whole number >= 0");
    const cJSON *states = cJSON_GetObjectItemCaseSensitive(request, "states");
    if (!cJSON_IsArray(states) || cJSON_GetArraySize(states) == 0)
        return qc_broker_error(QC_E_BAD_REQUEST,
                               "prune needs \"states\": completed, dead, canceled");
    int64_t total = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, states)
    {
        int state = cJSON_IsString(item) ? qc_state_parse(item->valuestring) : -1;
        if (state != QC_STATE_COMPLETED && state != QC_STATE_DEAD && state != QC_STATE_CANCELED)
            return qc_broker_error(QC_E_BAD_REQUEST,
                                   "prune takes only finished states: completed, dead, canceled");
    }
    cJSON_ArrayForEach(item, states)
    {
        int64_t deleted = qc_store_purge(broker->store, qc_state_parse(item->valuestring), before,
                                         S_PURGE_MAX_ROWS - total);
        if (deleted < 0)
            return qc_broker_storage_error(broker);
        total += deleted;
    }
    if (total > 0)
        qc_info("prune: deleted %lld job(s)", (long long)total);
    return s_deleted_reply(broker, total, total >= S_PURGE_MAX_ROWS);
}

static cJSON *s_op_metrics(qc_broker_t *broker, const cJSON *request)
{
    cJSON *reply = s_op_status(broker, request);
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")))
        return reply;
    cJSON *totals = qc_store_totals(broker->store);
    if (!totals) {
        cJSON_Delete(reply);
        return qc_broker_storage_error(broker);
    }
    cJSON_AddItemToObject(reply, "totals", totals);
    /* Per queue (O(queues)): counts per state and settings, for labels. */
    if (qc_store_supports(broker->store, QC_STORE_FEAT_QUEUE)) {
        cJSON *queues = qc_store_queue_list(broker->store, qc_broker_wall_ms(broker));
        if (!queues) {
            cJSON_Delete(reply);
            return qc_broker_storage_error(broker);
        }
        cJSON_AddItemToObject(reply, "queues", queues);
    }
    cJSON_AddItemToObject(reply, "dispatch_latency_ms",
                          qc_histogram_to_json(&broker->metrics.dispatch_latency));
    cJSON_AddItemToObject(reply, "run_time_ms", qc_histogram_to_json(&broker->metrics.run_time));
    cJSON_AddNumberToObject(reply, "uptime_s",
                            (double)(qc_broker_wall_ms(broker) - broker->started_wall_ms) / 1000.0);
    /* A database server's cost (PostgreSQL): counted up to this request. */
    qc_store_stats_t stats;
    qc_store_stats(broker->store, &stats);
    if (stats.round_trips >= 0) {
        cJSON_AddNumberToObject(reply, "store_round_trips", (double)stats.round_trips);
        cJSON_AddNumberToObject(reply, "store_transactions", (double)stats.transactions);
    }
    return reply;
}

/* What a waiter needs of many jobs at once: each one's state, no output. */
static cJSON *s_op_states(qc_broker_t *broker, const cJSON *request)
{
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(request, "ids");
    int count = cJSON_GetArraySize(ids);
    if (!cJSON_IsArray(ids) || count < 1)
        return qc_broker_error(QC_E_BAD_REQUEST, "states needs \"ids\": an array of 1 to %d ids",
                               QC_MAX_BATCH_JOBS);
    if (count > QC_MAX_BATCH_JOBS)
        return qc_broker_error(QC_E_TOO_LARGE, "states takes at most %d ids, not %d",
                               QC_MAX_BATCH_JOBS, count);
    const char **list = calloc((size_t)count, sizeof *list);
    if (!list)
        return qc_broker_error(QC_E_STORAGE, "out of memory");
    int n = 0;
    for (const cJSON *item = ids->child; item; item = item->next) {
        if (!cJSON_IsString(item) || !qc_job_id_valid(item->valuestring)) {
            free(list);
            return qc_broker_error(QC_E_BAD_REQUEST, "ids[%d] is not a valid job id", n);
        }
        list[n++] = item->valuestring;
    }
    cJSON *reply = qc_broker_ok();
    cJSON *jobs = cJSON_AddArrayToObject(reply, "jobs");
    int rc = qc_store_job_states(broker->store, list, n, jobs);
    free(list);
    if (rc != 0) {
        cJSON_Delete(reply);
        return qc_broker_storage_error(broker);
    }
    return reply;
}

static const struct {
    const char *op;
    s_handler_fn *handler;
    int writes; /* needs the pass's transaction */
    int local;  /* only from this machine (no CURVE key): who may connect */
} s_ops[] = {
    {"ping", s_op_ping, 0, 0},
    {"enqueue", qc_enqueue_handle, 1, 0},
    {"queue.list", qc_queues_list, 0, 0},
    {"schedule.add", qc_schedule_add, 1, 0},
    {"schedule.list", qc_schedule_list, 0, 0},
    {"schedule.get", qc_schedule_get, 0, 0},
    {"schedule.remove", qc_schedule_remove, 1, 0},
    {"schedule.pause", qc_schedule_pause, 1, 0},
    {"schedule.resume", qc_schedule_resume, 1, 0},
    {"queue.pause", qc_queues_pause, 1, 0},
    {"queue.resume", qc_queues_resume, 1, 0},
    {"queue.set", qc_queues_set, 1, 0},
    {"get", s_op_get, 0, 0},
    {"list", s_op_list, 0, 0},
    {"status", s_op_status, 0, 0},
    {"dlq.list", s_op_dlq_list, 0, 0},
    {"dlq.retry", s_op_dlq_retry, 1, 0},
    {"config.get", s_op_config_get, 0, 0},
    {"config.set", s_op_config_set, 1, 0},
    {"workers.list", s_op_workers_list, 0, 0},
    {"workers.stop", s_op_workers_stop, 0, 0},
    {"cancel", s_op_cancel, 1, 0},
    {"dlq.purge", s_op_dlq_purge, 1, 0},
    {"prune", s_op_prune, 1, 0},
    {"metrics", s_op_metrics, 0, 0},
    {"states", s_op_states, 0, 0},
    /* Remote access (enroll.c): files under authorized/, not the database. */
    {"invite", qc_enroll_op_invite, 0, 1},
    {"keys.list", qc_enroll_op_keys_list, 0, 0},
    {"keys.revoke", qc_enroll_op_keys_revoke, 0, 1},
};

cJSON *qc_ctlcmd_handle(qc_broker_t *broker, const char *text, size_t len, int writable,
                        const qc_peer_t *peer)
{
    char err[128];
    int guest = peer && peer->key && !peer->enrolled;
    cJSON *request = qc_json_parse_object(text, len, err, sizeof err);
    if (!request) {
        if (guest)
            qc_warn("refused a message from %s: key %s is not authorized as a client",
                    peer->address ? peer->address : "an unknown address", peer->key);
        return guest ? qc_broker_error(QC_E_FORBIDDEN, "this key is not authorized as a client")
                     : qc_broker_error(QC_E_BAD_REQUEST, "%s", err);
    }
    const char *op = qc_json_string(request, "op");
    cJSON *reply = NULL;
    if (op && strcmp(op, "enroll") == 0) {
        static const qc_peer_t local = {NULL, NULL, 0};
        reply = qc_enroll_handle(broker, "client", peer ? peer : &local, request);
    } else if (guest) {
        qc_warn("refused a message from %s: key %s is not authorized as a client",
                peer->address ? peer->address : "an unknown address", peer->key);
        reply = qc_broker_error(QC_E_FORBIDDEN,
                                "this key is not authorized as a client (revoked, or never "
                                "enrolled: join with a token from 'queuectl invite')");
    } else if (!op)
        reply = qc_broker_error(QC_E_BAD_REQUEST, "request needs a string \"op\"");
    for (size_t i = 0; op && !reply && i < sizeof s_ops / sizeof s_ops[0]; i++)
        if (strcmp(op, s_ops[i].op) != 0)
            continue;
        else if (s_ops[i].local && peer && peer->key)
            reply = qc_broker_error(
                QC_E_FORBIDDEN, "%s changes who may connect: run it on the broker's machine", op);
        else
            reply = (s_ops[i].writes && !writable)
                        ? qc_broker_error(QC_E_STORAGE,
                                          "the database cannot be written right now (%s); "
                                          "nothing was stored",
                                          qc_store_errmsg(broker->store))
                        : s_ops[i].handler(broker, request);
    if (!reply)
        reply = qc_broker_error(QC_E_UNKNOWN_OP, "unknown op \"%.*s\"", qc_utf8_prefix(op, 64), op);
    cJSON_Delete(request);
    return reply;
}
