/* The client request table: one handler per op, each decoding its arguments,
 * calling the store or the registry, and building exactly one reply. */
#include "ctlcmd.h"
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

static cJSON *s_ok(void)
{
    cJSON *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(reply, "ok", 1);
    return reply;
}

static cJSON *s_storage_error(qc_broker_t *broker)
{
    return qc_broker_error(QC_E_STORAGE, "database error: %s", qc_store_errmsg(broker->store));
}

static cJSON *s_op_ping(qc_broker_t *broker, const cJSON *request)
{
    (void)request;
    cJSON *reply = s_ok();
    cJSON_AddStringToObject(reply, "version", QC_VERSION);
    cJSON_AddNumberToObject(reply, "pid", getpid());
    cJSON_AddStringToObject(reply, "worker_endpoint", broker->worker_endpoint);
    if (broker->events_endpoint)
        cJSON_AddStringToObject(reply, "events_endpoint", broker->events_endpoint);
    return reply;
}

/* Stores one job; returns NULL on success (id in id_out) or an error reply. */
static cJSON *s_insert_one(qc_broker_t *broker, const cJSON *obj, const char *where, int64_t now_ms,
                           char *id_out)
{
    qc_job_spec_t spec;
    char err[256];
    if (qc_job_spec_from_json(obj, &spec, err, sizeof err) != 0)
        return qc_broker_error(QC_E_INVALID_JOB, "%s%s", where, err);
    int rc = qc_store_job_insert(broker->store, &spec, &broker->config, now_ms, id_out);
    if (rc == 0)
        qc_events_job(broker, id_out, QC_STATE_PENDING, spec.command, 0,
                      spec.max_retries >= 0 ? spec.max_retries : broker->config.max_retries,
                      spec.priority, 0, -1, NULL, NULL);
    qc_job_spec_clear(&spec);
    if (rc == QC_STORE_DUPLICATE)
        return qc_broker_error(QC_E_DUPLICATE, "%sa job with id \"%s\" already exists", where,
                               id_out);
    if (rc != 0)
        return s_storage_error(broker);
    return NULL;
}

static cJSON *s_op_enqueue(qc_broker_t *broker, const cJSON *request)
{
    const cJSON *job = cJSON_GetObjectItemCaseSensitive(request, "job");
    const cJSON *jobs = cJSON_GetObjectItemCaseSensitive(request, "jobs");
    int64_t now_ms = qc_clock_wall_ms();
    char id[QC_MAX_ID_BYTES + 1];
    if ((job == NULL) == (jobs == NULL))
        return qc_broker_error(QC_E_BAD_REQUEST, "enqueue needs either \"job\" or \"jobs\"");
    if (job) {
        cJSON *error = s_insert_one(broker, job, "", now_ms, id);
        if (error)
            return error;
        broker->maybe_due = 1;
        cJSON *reply = s_ok();
        cJSON_AddStringToObject(reply, "id", id);
        return reply;
    }
    if (!cJSON_IsArray(jobs))
        return qc_broker_error(QC_E_BAD_REQUEST, "\"jobs\" must be an array");
    int count = cJSON_GetArraySize(jobs);
    if (count < 1 || count > QC_MAX_BATCH_JOBS)
        return qc_broker_error(QC_E_TOO_LARGE, "a batch holds 1 to %d jobs, not %d",
                               QC_MAX_BATCH_JOBS, count);
    /* Validate all, then store all at once (one statement on PostgreSQL). */
    qc_job_spec_t *specs = calloc((size_t)count, sizeof *specs);
    char(*new_ids)[QC_MAX_ID_BYTES + 1] = calloc((size_t)count, sizeof *new_ids);
    cJSON *reply = NULL;
    int parsed = 0;
    if (!specs || !new_ids) {
        reply = s_storage_error(broker);
        goto done;
    }
    for (const cJSON *item = jobs->child; item; item = item->next, parsed++) {
        char err[256];
        if (qc_job_spec_from_json(item, &specs[parsed], err, sizeof err) != 0) {
            reply = qc_broker_error(QC_E_INVALID_JOB, "jobs[%d]: %s", parsed, err);
            goto done;
        }
    }
    int failed = 0;
    int rc = qc_store_job_insert_many(broker->store, specs, count, &broker->config, now_ms, new_ids,
                                      &failed);
    if (rc == QC_STORE_DUPLICATE) { /* the caller's savepoint undoes the jobs inserted */
        reply = qc_broker_error(QC_E_DUPLICATE, "jobs[%d]: a job with id \"%s\" already exists",
                                failed, new_ids[failed]);
        goto done;
    }
    if (rc != 0) {
        reply = s_storage_error(broker);
        goto done;
    }
    reply = s_ok();
    cJSON *ids = cJSON_AddArrayToObject(reply, "ids");
    for (int i = 0; i < count; i++) {
        qc_events_job(broker, new_ids[i], QC_STATE_PENDING, specs[i].command, 0,
                      specs[i].max_retries >= 0 ? specs[i].max_retries : broker->config.max_retries,
                      specs[i].priority, 0, -1, NULL, NULL);
        cJSON_AddItemToArray(ids, cJSON_CreateString(new_ids[i]));
    }
    broker->maybe_due = 1;
done:
    for (int i = 0; specs && i < parsed; i++)
        qc_job_spec_clear(&specs[i]);
    free(specs);
    free(new_ids);
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
    cJSON *job = qc_store_job_get(broker->store, id, 1);
    if (!job)
        return qc_broker_error(QC_E_NOT_FOUND, "no job with id \"%s\"", id);
    cJSON *reply = s_ok();
    cJSON_AddItemToObject(reply, "job", job);
    return reply;
}

/* Shared by list and dlq.list. */
static cJSON *s_list(qc_broker_t *broker, const cJSON *request, int state)
{
    int64_t limit = 100, cursor = 0;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(request, "limit");
    if (item && (qc_json_int(request, "limit", &limit) != 0 || limit < 1 || limit > 1000))
        return qc_broker_error(QC_E_BAD_REQUEST, "limit must be an integer from 1 to 1000");
    item = cJSON_GetObjectItemCaseSensitive(request, "cursor");
    if (item && !cJSON_IsNull(item)) {
        if (!cJSON_IsString(item) || qc_parse_int(item->valuestring, 1, INT64_MAX, &cursor) != 0)
            return qc_broker_error(QC_E_BAD_REQUEST, "cursor must be a value from next_cursor");
    }
    int64_t next_cursor = 0;
    cJSON *jobs = qc_store_job_list(broker->store, state, (int)limit, cursor, &next_cursor);
    if (!jobs)
        return s_storage_error(broker);
    cJSON *reply = s_ok();
    cJSON_AddItemToObject(reply, "jobs", jobs);
    if (next_cursor > 0) {
        char text[24];
        snprintf(text, sizeof text, "%lld", (long long)next_cursor);
        cJSON_AddStringToObject(reply, "next_cursor", text);
    } else {
        cJSON_AddNullToObject(reply, "next_cursor");
    }
    return reply;
}

static cJSON *s_op_list(qc_broker_t *broker, const cJSON *request)
{
    int state = -1;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(request, "state");
    if (item && !cJSON_IsNull(item)) {
        state = cJSON_IsString(item) ? qc_state_parse(item->valuestring) : -1;
        if (state < 0)
            return qc_broker_error(QC_E_BAD_REQUEST, "state must be one of pending, processing, "
                                                     "completed, failed, dead, canceled");
    }
    return s_list(broker, request, state);
}

static cJSON *s_op_dlq_list(qc_broker_t *broker, const cJSON *request)
{
    return s_list(broker, request, QC_STATE_DEAD);
}

static cJSON *s_op_status(qc_broker_t *broker, const cJSON *request)
{
    (void)request;
    int64_t counts[QC_STATE_COUNT], oldest_ms;
    if (qc_store_counts(broker->store, counts, &oldest_ms) != 0)
        return s_storage_error(broker);
    cJSON *reply = s_ok();
    cJSON *obj = cJSON_AddObjectToObject(reply, "counts");
    for (int s = 0; s < QC_STATE_COUNT; s++)
        cJSON_AddNumberToObject(obj, qc_state_name(s), (double)counts[s]);
    int busy = 0;
    for (qc_worker_t *w = qc_dispatch_first(broker->dispatch); w;
         w = qc_dispatch_next(broker->dispatch))
        busy += w->held_count;
    cJSON_AddNumberToObject(reply, "workers", (double)qc_dispatch_size(broker->dispatch));
    cJSON_AddNumberToObject(reply, "busy", busy);
    if (oldest_ms >= 0)
        cJSON_AddNumberToObject(reply, "oldest_pending_age_s",
                                (double)(qc_clock_wall_ms() - oldest_ms) / 1000.0);
    else
        cJSON_AddNullToObject(reply, "oldest_pending_age_s");
    return reply;
}

static cJSON *s_op_dlq_retry(qc_broker_t *broker, const cJSON *request)
{
    const char *id = s_required_id(request);
    if (!id)
        return qc_broker_error(QC_E_BAD_REQUEST, "dlq.retry needs a valid \"id\"");
    int rc = qc_store_job_revive(broker->store, id, qc_clock_wall_ms());
    if (rc == QC_STORE_NOT_FOUND)
        return qc_broker_error(QC_E_NOT_FOUND, "no job with id \"%s\"", id);
    if (rc == QC_STORE_CONFLICT)
        return qc_broker_error(QC_E_CONFLICT, "job \"%s\" is not in the dead-letter queue", id);
    if (rc != 0)
        return s_storage_error(broker);
    qc_info("job %s: revived from the dead-letter queue", id);
    broker->maybe_due = 1;
    cJSON *reply = s_op_get(broker, request);
    const cJSON *job = cJSON_GetObjectItemCaseSensitive(reply, "job");
    int64_t max_retries = -1, priority = 0;
    qc_json_int(job, "max_retries", &max_retries);
    qc_json_int(job, "priority", &priority);
    qc_events_job(broker, id, QC_STATE_PENDING, qc_json_string(job, "command"), 0, (int)max_retries,
                  (int)priority, 0, -1, NULL, NULL);
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
                                   "backoff-max, job-timeout, retention)");
    }
    cJSON *reply = s_ok();
    cJSON_AddItemToObject(reply, "config", qc_config_to_json(&broker->config, key));
    return reply;
}

static cJSON *s_op_config_set(qc_broker_t *broker, const cJSON *request)
{
    const char *key = qc_json_string(request, "key");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(request, "value");
    char text[64];
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
    char stored[32];
    qc_config_format(&updated, canonical, stored, sizeof stored);
    if (qc_store_config_save(broker->store, canonical, stored) != 0)
        return s_storage_error(broker);
    broker->config = updated;
    qc_info("config: %s = %s", canonical, stored);
    cJSON *reply = s_ok();
    cJSON_AddItemToObject(reply, "config", qc_config_to_json(&broker->config, canonical));
    return reply;
}

static cJSON *s_op_workers_list(qc_broker_t *broker, const cJSON *request)
{
    (void)request;
    cJSON *reply = s_ok();
    cJSON *workers = cJSON_AddArrayToObject(reply, "workers");
    int64_t now_mono = qc_clock_mono_ms(), now_wall = qc_clock_wall_ms();
    for (qc_worker_t *w = qc_dispatch_first(broker->dispatch); w;
         w = qc_dispatch_next(broker->dispatch)) {
        cJSON *obj = cJSON_CreateObject();
        char iso[32];
        cJSON_AddStringToObject(obj, "worker_id", w->worker_id);
        cJSON_AddStringToObject(obj, "host", w->host);
        cJSON_AddNumberToObject(obj, "pid", w->pid);
        cJSON_AddNumberToObject(obj, "slots", w->slots);
        cJSON_AddNumberToObject(obj, "prefetch", w->prefetch);
        cJSON_AddNumberToObject(obj, "busy", w->held_count);
        cJSON_AddNumberToObject(obj, "jobs_done", (double)w->jobs_done);
        cJSON_AddStringToObject(obj, "connected_at",
                                qc_clock_format_iso(w->connected_at_ms, iso, sizeof iso));
        cJSON_AddStringToObject(
            obj, "last_seen",
            qc_clock_format_iso(now_wall - (now_mono - w->last_seen_mono_ms), iso, sizeof iso));
        cJSON_AddBoolToObject(obj, "stopping", w->stopping);
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
    cJSON *reply = s_ok();
    cJSON_AddNumberToObject(reply, "stopped", stopped);
    return reply;
}

static cJSON *s_op_cancel(qc_broker_t *broker, const cJSON *request)
{
    const char *id = s_required_id(request);
    if (!id)
        return qc_broker_error(QC_E_BAD_REQUEST, "cancel needs a valid \"id\"");
    int rc = qc_store_job_cancel(broker->store, id, qc_clock_wall_ms());
    if (rc == QC_STORE_NOT_FOUND)
        return qc_broker_error(QC_E_NOT_FOUND, "no job with id \"%s\"", id);
    if (rc == QC_STORE_CONFLICT)
        return qc_broker_error(QC_E_CONFLICT, "job \"%s\" has already finished", id);
    if (rc == -1)
        return s_storage_error(broker);
    if (rc == 0) {
        qc_info("job %s: canceled", id);
        qc_events_job(broker, id, QC_STATE_CANCELED, NULL, -1, -1, 0, 0, -1, "canceled", NULL);
    } else {
        qc_wrkcmd_cancel_running(broker, id);
    }
    return s_op_get(broker, request);
}

/* older_than_s (optional, >= 0) as a cutoff time; -1 on a bad value. */
static int s_cutoff(const cJSON *request, int64_t *before_ms)
{
    int64_t older = 0;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(request, "older_than_s");
    if (item && (qc_json_int(request, "older_than_s", &older) != 0 || older < 0))
        return -1;
    *before_ms = qc_clock_wall_ms() - older * 1000;
    return 0;
}

/* One request deletes at most this many jobs, so the loop (and the client's
 * wait for its reply) stays short; "more" tells the client to ask again. */
#define S_PURGE_MAX_ROWS 50000

static cJSON *s_deleted_reply(qc_broker_t *broker, int64_t deleted, int more)
{
    if (deleted < 0)
        return s_storage_error(broker);
    cJSON *reply = s_ok();
    cJSON_AddNumberToObject(reply, "deleted", (double)deleted);
    cJSON_AddBoolToObject(reply, "more", more);
    return reply;
}

static cJSON *s_op_dlq_purge(qc_broker_t *broker, const cJSON *request)
{
    int64_t before;
    if (s_cutoff(request, &before) != 0)
        return qc_broker_error(QC_E_BAD_REQUEST, "older_than_s must be a whole number >= 0");
    int64_t deleted = qc_store_purge(broker->store, QC_STATE_DEAD, before, S_PURGE_MAX_ROWS);
    if (deleted > 0)
        qc_info("dlq: purged %lld dead job(s)", (long long)deleted);
    return s_deleted_reply(broker, deleted, deleted >= S_PURGE_MAX_ROWS);
}

static cJSON *s_op_prune(qc_broker_t *broker, const cJSON *request)
{
    int64_t before;
    if (s_cutoff(request, &before) != 0)
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
            return s_storage_error(broker);
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
        return s_storage_error(broker);
    }
    cJSON_AddItemToObject(reply, "totals", totals);
    cJSON_AddItemToObject(reply, "dispatch_latency_ms",
                          qc_histogram_to_json(&broker->metrics.dispatch_latency));
    cJSON_AddItemToObject(reply, "run_time_ms", qc_histogram_to_json(&broker->metrics.run_time));
    cJSON_AddNumberToObject(reply, "uptime_s",
                            (double)(qc_clock_wall_ms() - broker->started_wall_ms) / 1000.0);
    return reply;
}

static const struct {
    const char *op;
    s_handler_fn *handler;
    int writes; /* needs the pass's transaction */
} s_ops[] = {
    {"ping", s_op_ping, 0},
    {"enqueue", s_op_enqueue, 1},
    {"get", s_op_get, 0},
    {"list", s_op_list, 0},
    {"status", s_op_status, 0},
    {"dlq.list", s_op_dlq_list, 0},
    {"dlq.retry", s_op_dlq_retry, 1},
    {"config.get", s_op_config_get, 0},
    {"config.set", s_op_config_set, 1},
    {"workers.list", s_op_workers_list, 0},
    {"workers.stop", s_op_workers_stop, 0},
    {"cancel", s_op_cancel, 1},
    {"dlq.purge", s_op_dlq_purge, 1},
    {"prune", s_op_prune, 1},
    {"metrics", s_op_metrics, 0},
};

cJSON *qc_ctlcmd_handle(qc_broker_t *broker, const char *text, size_t len, int writable)
{
    char err[128];
    cJSON *request = qc_json_parse_object(text, len, err, sizeof err);
    if (!request)
        return qc_broker_error(QC_E_BAD_REQUEST, "%s", err);
    const char *op = qc_json_string(request, "op");
    cJSON *reply = NULL;
    if (!op)
        reply = qc_broker_error(QC_E_BAD_REQUEST, "request needs a string \"op\"");
    for (size_t i = 0; op && !reply && i < sizeof s_ops / sizeof s_ops[0]; i++)
        if (strcmp(op, s_ops[i].op) == 0)
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
