#include "enqueue.h"
#include "events.h"
#include "queuectl/clock.h"
#include "queuectl/job.h"
#include "queuectl/log.h"

#include <stdio.h>
#include <stdlib.h>

/* What inserting one job came to. */
typedef struct {
    char id[QC_MAX_ID_BYTES + 1]; /* the new job's, or the unfinished one holding its key */
    int duplicate;                /* 1: nothing added, id holds the key */
} s_inserted_t;

/* Stores one job; returns NULL on success (*out filled) or an error reply. */
static cJSON *s_insert_one(qc_broker_t *broker, const cJSON *obj, const char *where, int64_t now_ms,
                           s_inserted_t *out)
{
    qc_job_spec_t spec;
    char err[256];
    out->duplicate = 0;
    if (qc_job_spec_from_json(obj, &spec, err, sizeof err) != 0)
        return qc_broker_error(QC_E_INVALID_JOB, "%s%s", where, err);
    int rc = qc_store_job_insert(broker->store, &spec, &broker->config, now_ms, out->id);
    qc_state_t state = QC_STATE_PENDING;
    if (rc == 0 && spec.after_count) { /* waiting, unless every dependency has completed */
        cJSON *brief = qc_store_job_brief(broker->store, out->id);
        if (!brief)
            rc = -1;
        else if (qc_state_parse(qc_json_string(brief, "state")) == QC_STATE_WAITING)
            state = QC_STATE_WAITING;
        cJSON_Delete(brief);
    }
    if (rc == 0)
        qc_events_enqueued(broker, out->id, state, &spec);
    if (rc == QC_STORE_UNIQUE_HELD) {
        qc_info("enqueue: unique key %s is held by unfinished job %s: not added", spec.unique_key,
                out->id);
        out->duplicate = 1;
        rc = 0;
    }
    qc_job_spec_clear(&spec);
    if (rc == QC_STORE_DUPLICATE)
        return qc_broker_error(QC_E_DUPLICATE, "%sa job with id \"%s\" already exists", where,
                               out->id);
    if (rc == QC_STORE_DEP_MISSING)
        return qc_broker_error(QC_E_NOT_FOUND,
                               "%safter: no job with id \"%s\" (a dependency must exist, or come "
                               "earlier in the same batch)",
                               where, out->id);
    if (rc == QC_STORE_DEP_ENDED)
        return qc_broker_error(QC_E_CONFLICT,
                               "%safter: job \"%s\" has ended dead or canceled, so this job could "
                               "never run (retry it first)",
                               where, out->id);
    if (rc == QC_STORE_UNSUPPORTED)
        return qc_broker_error(QC_E_STORAGE,
                               "%sthis broker's database backend cannot store env, cwd, an "
                               "exit-code retry policy, a unique key, a queue or dependencies yet",
                               where);
    if (rc != 0)
        return qc_broker_error(QC_E_STORAGE, "database error: %s", qc_store_errmsg(broker->store));
    return NULL;
}

/* A batch of plain jobs in one statement (PostgreSQL). Returns the reply,
 * or NULL with nothing stored when the store can't (then one by one). */
static cJSON *s_insert_batch(qc_broker_t *broker, const cJSON *jobs, int count, int64_t now_ms)
{
    qc_job_spec_t *specs = calloc((size_t)count, sizeof *specs);
    char(*ids)[QC_MAX_ID_BYTES + 1] = calloc((size_t)count, sizeof *ids);
    cJSON *reply = NULL;
    int parsed = 0, failed = 0;
    if (!specs || !ids)
        goto done;
    for (const cJSON *item = jobs->child; item; item = item->next, parsed++) {
        char err[256];
        if (qc_job_spec_from_json(item, &specs[parsed], err, sizeof err) != 0)
            goto done; /* one by one: the same error, found in the same order */
    }
    int rc = qc_store_job_insert_many(broker->store, specs, count, &broker->config, now_ms, ids,
                                      &failed);
    if (rc == QC_STORE_UNSUPPORTED)
        goto done;
    if (rc == QC_STORE_DUPLICATE) { /* the caller's savepoint undoes the jobs inserted */
        reply = qc_broker_error(QC_E_DUPLICATE, "jobs[%d]: a job with id \"%s\" already exists",
                                failed, ids[failed]);
        goto done;
    }
    if (rc != 0) {
        reply = qc_broker_error(QC_E_STORAGE, "database error: %s", qc_store_errmsg(broker->store));
        goto done;
    }
    reply = qc_broker_ok();
    cJSON *list = cJSON_AddArrayToObject(reply, "ids");
    for (int i = 0; i < count; i++) {
        qc_events_job(broker, &(qc_job_event_t){.id = ids[i],
                                                .state = QC_STATE_PENDING,
                                                .command = specs[i].command,
                                                .with_counts = 1,
                                                .max_retries = specs[i].max_retries >= 0
                                                                   ? specs[i].max_retries
                                                                   : broker->config.max_retries,
                                                .priority = specs[i].priority});
        cJSON_AddItemToArray(list, cJSON_CreateString(ids[i]));
    }
    broker->maybe_due = 1;
done:
    for (int i = 0; specs && i < parsed; i++)
        qc_job_spec_clear(&specs[i]);
    free(specs);
    free(ids);
    return reply;
}

cJSON *qc_enqueue_handle(qc_broker_t *broker, const cJSON *request)
{
    const cJSON *job = cJSON_GetObjectItemCaseSensitive(request, "job");
    const cJSON *jobs = cJSON_GetObjectItemCaseSensitive(request, "jobs");
    int64_t now_ms = qc_broker_wall_ms(broker);
    s_inserted_t inserted;
    if ((job == NULL) == (jobs == NULL))
        return qc_broker_error(QC_E_BAD_REQUEST, "enqueue needs either \"job\" or \"jobs\"");
    if (job) {
        cJSON *error = s_insert_one(broker, job, "", now_ms, &inserted);
        if (error)
            return error;
        broker->maybe_due = 1;
        cJSON *reply = qc_broker_ok();
        cJSON_AddStringToObject(reply, "id", inserted.id);
        if (inserted.duplicate)
            cJSON_AddStringToObject(reply, "duplicate_of", inserted.id);
        return reply;
    }
    if (!cJSON_IsArray(jobs))
        return qc_broker_error(QC_E_BAD_REQUEST, "\"jobs\" must be an array");
    int count = cJSON_GetArraySize(jobs);
    if (count < 1 || count > QC_MAX_BATCH_JOBS)
        return qc_broker_error(QC_E_TOO_LARGE, "a batch holds 1 to %d jobs, not %d",
                               QC_MAX_BATCH_JOBS, count);
    cJSON *batch = s_insert_batch(broker, jobs, count, now_ms);
    if (batch)
        return batch;
    cJSON *reply = qc_broker_ok();
    cJSON *ids = cJSON_AddArrayToObject(reply, "ids");
    cJSON *duplicate_of = cJSON_CreateArray(); /* parallel to ids; kept if any */
    int index = 0, duplicates = 0;
    for (const cJSON *item = jobs->child; item; item = item->next, index++) {
        char where[32];
        snprintf(where, sizeof where, "jobs[%d]: ", index);
        cJSON *error = s_insert_one(broker, item, where, now_ms, &inserted);
        if (error) { /* the caller's savepoint undoes the jobs already inserted */
            cJSON_Delete(duplicate_of);
            cJSON_Delete(reply);
            return error;
        }
        cJSON_AddItemToArray(ids, cJSON_CreateString(inserted.id));
        cJSON_AddItemToArray(duplicate_of, inserted.duplicate ? cJSON_CreateString(inserted.id)
                                                              : cJSON_CreateNull());
        duplicates += inserted.duplicate;
    }
    if (duplicates)
        cJSON_AddItemToObject(reply, "duplicate_of", duplicate_of);
    else
        cJSON_Delete(duplicate_of);
    broker->maybe_due = 1;
    return reply;
}
