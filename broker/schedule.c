#include "schedule.h"
#include "events.h"
#include "queuectl/clock.h"
#include "queuectl/cron.h"
#include "queuectl/job.h"
#include "queuectl/log.h"
#include "queuectl/proto.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Room in a job id for "@YYYYMMDDTHHMMZ". */
#define S_MAX_NAME_BYTES (QC_MAX_ID_BYTES - 15)
#define S_RECENT_RUNS 10

void qc_schedule_forget(qc_broker_t *broker)
{
    broker->schedule_due_ms = 0;
}

/* A request's schedule name, checked. */
static const char *s_name(const cJSON *request)
{
    const char *name = qc_json_string(request, "name");
    return name && qc_job_id_valid(name) && strlen(name) <= S_MAX_NAME_BYTES ? name : NULL;
}

/* ISO times added beside the stored ms, for people. */
static void s_decorate(cJSON *schedule)
{
    static const char *fields[][2] = {{"next_run_ms", "next_run"}, {"last_tick_ms", "last_tick"}};
    for (int i = 0; i < 2; i++) {
        int64_t ms;
        char iso[32];
        if (qc_json_int(schedule, fields[i][0], &ms) == 0)
            cJSON_AddStringToObject(schedule, fields[i][1],
                                    qc_clock_format_iso(ms, iso, sizeof iso));
        else
            cJSON_AddNullToObject(schedule, fields[i][1]);
        cJSON_DeleteItemFromObject(schedule, fields[i][0]);
    }
}

/* The job of a schedule is a job without id, run_at, delay_s or after:
 * those belong to each tick. Returns NULL or an error reply. */
static cJSON *s_check_job(qc_broker_t *broker, const cJSON *job)
{
    static const char *refused[] = {"id", "run_at", "delay_s", "after"};
    if (!cJSON_IsObject(job))
        return qc_broker_error(QC_E_INVALID_JOB, "schedule.add needs \"job\": a job object");
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (cJSON_GetObjectItemCaseSensitive(job, refused[i]))
            return qc_broker_error(QC_E_INVALID_JOB,
                                   "a schedule's job can't have \"%s\": each tick sets it",
                                   refused[i]);
    qc_job_spec_t spec;
    char err[256];
    if (qc_job_spec_from_json(job, &spec, err, sizeof err) != 0)
        return qc_broker_error(QC_E_INVALID_JOB, "%s", err);
    int storable = qc_store_job_storable(broker->store, &spec, &broker->config);
    qc_job_spec_clear(&spec);
    if (!storable)
        return qc_broker_error(QC_E_STORAGE, "this broker's database backend cannot store a field "
                                             "of this job yet (a queue other than default?)");
    return NULL;
}

cJSON *qc_schedule_add(qc_broker_t *broker, const cJSON *request)
{
    const char *name = s_name(request);
    if (!name)
        return qc_broker_error(QC_E_BAD_REQUEST,
                               "schedule.add needs \"name\": 1-%d characters of A-Z a-z 0-9 . _ "
                               ": @ - (not starting with -)",
                               S_MAX_NAME_BYTES);
    const char *expr = qc_json_string(request, "cron");
    qc_cron_t cron;
    char err[256];
    if (!expr)
        return qc_broker_error(QC_E_BAD_REQUEST, "schedule.add needs \"cron\"");
    if (qc_cron_parse(expr, &cron, err, sizeof err) != 0)
        return qc_broker_error(QC_E_BAD_REQUEST, "cron: %s", err);
    const cJSON *tz_item = cJSON_GetObjectItemCaseSensitive(request, "tz");
    const char *tz = "UTC";
    if (tz_item && !cJSON_IsNull(tz_item)) {
        if (!cJSON_IsString(tz_item) || !qc_tz_valid(tz_item->valuestring))
            return qc_broker_error(QC_E_BAD_REQUEST,
                                   "tz must name a time zone of the system's tzdata, such as "
                                   "Europe/Berlin or UTC");
        tz = tz_item->valuestring;
    }
    const cJSON *job = cJSON_GetObjectItemCaseSensitive(request, "job");
    cJSON *error = s_check_job(broker, job);
    if (error)
        return error;
    int64_t now_ms = qc_broker_wall_ms(broker);
    int64_t next = qc_cron_next(&cron, tz, now_ms);
    if (next < 0)
        return qc_broker_error(QC_E_BAD_REQUEST, "cron: \"%s\" never fires", expr);
    char *job_text = cJSON_PrintUnformatted(job);
    qc_schedule_t schedule = {.name = name,
                              .cron = expr,
                              .tz = tz,
                              .job_json = job_text,
                              .skip_if_running = cJSON_IsTrue(
                                  cJSON_GetObjectItemCaseSensitive(request, "skip_if_running")),
                              .next_run_ms = next,
                              .created_at_ms = now_ms};
    int rc = job_text ? qc_store_schedule_add(broker->store, &schedule) : -1;
    cJSON_free(job_text);
    if (rc == QC_STORE_DUPLICATE)
        return qc_broker_error(
            QC_E_DUPLICATE, "a schedule named \"%s\" exists (remove it first to change it)", name);
    if (rc != 0)
        return qc_broker_storage_error(broker);
    char iso[32];
    qc_info("schedule %s added: \"%s\" in %s, next run %s", name, expr, tz,
            qc_clock_format_iso(next, iso, sizeof iso));
    qc_schedule_forget(broker);
    return qc_schedule_get(broker, request);
}

cJSON *qc_schedule_list(qc_broker_t *broker, const cJSON *request)
{
    (void)request;
    cJSON *list = qc_store_schedule_list(broker->store, NULL, -1);
    if (!list)
        return qc_broker_storage_error(broker);
    cJSON *s;
    cJSON_ArrayForEach(s, list) s_decorate(s);
    cJSON *reply = qc_broker_ok();
    cJSON_AddItemToObject(reply, "schedules", list);
    return reply;
}

cJSON *qc_schedule_get(qc_broker_t *broker, const cJSON *request)
{
    const char *name = s_name(request);
    if (!name)
        return qc_broker_error(QC_E_BAD_REQUEST, "needs a valid schedule \"name\"");
    cJSON *list = qc_store_schedule_list(broker->store, name, -1);
    if (!list)
        return qc_broker_storage_error(broker);
    if (cJSON_GetArraySize(list) == 0) {
        cJSON_Delete(list);
        return qc_broker_error(QC_E_NOT_FOUND, "no schedule named \"%s\"", name);
    }
    cJSON *schedule = cJSON_DetachItemFromArray(list, 0);
    cJSON_Delete(list);
    s_decorate(schedule);
    cJSON *runs = qc_store_schedule_runs(broker->store, name, S_RECENT_RUNS);
    if (!runs) {
        cJSON_Delete(schedule);
        return qc_broker_storage_error(broker);
    }
    cJSON_AddItemToObject(schedule, "recent_runs", runs);
    cJSON *reply = qc_broker_ok();
    cJSON_AddItemToObject(reply, "schedule", schedule);
    return reply;
}

cJSON *qc_schedule_remove(qc_broker_t *broker, const cJSON *request)
{
    const char *name = s_name(request);
    if (!name)
        return qc_broker_error(QC_E_BAD_REQUEST, "schedule.remove needs a valid \"name\"");
    int rc = qc_store_schedule_remove(broker->store, name);
    if (rc == QC_STORE_NOT_FOUND)
        return qc_broker_error(QC_E_NOT_FOUND, "no schedule named \"%s\"", name);
    if (rc != 0)
        return qc_broker_storage_error(broker);
    qc_info("schedule %s removed (its jobs stay)", name);
    qc_schedule_forget(broker);
    cJSON *reply = qc_broker_ok();
    cJSON_AddStringToObject(reply, "removed", name);
    return reply;
}

/* pause, or resume from the next tick after now (ticks missed while paused
 * are not caught up). */
static cJSON *s_set_paused(qc_broker_t *broker, const cJSON *request, int paused)
{
    const char *name = s_name(request);
    if (!name)
        return qc_broker_error(QC_E_BAD_REQUEST, "schedule.%s needs a valid \"name\"",
                               paused ? "pause" : "resume");
    qc_schedule_update_t update = {
        .name = name, .paused = paused, .next_run_ms = -1, .last_tick_ms = -1};
    if (!paused) {
        cJSON *list = qc_store_schedule_list(broker->store, name, -1);
        const cJSON *s = list ? cJSON_GetArrayItem(list, 0) : NULL;
        qc_cron_t cron;
        char err[256];
        if (s && qc_cron_parse(qc_json_string(s, "cron"), &cron, err, sizeof err) == 0)
            update.next_run_ms =
                qc_cron_next(&cron, qc_json_string(s, "tz"), qc_broker_wall_ms(broker));
        cJSON_Delete(list);
        if (!list)
            return qc_broker_storage_error(broker);
    }
    int rc = qc_store_schedule_update(broker->store, &update);
    if (rc == QC_STORE_NOT_FOUND)
        return qc_broker_error(QC_E_NOT_FOUND, "no schedule named \"%s\"", name);
    if (rc != 0)
        return qc_broker_storage_error(broker);
    qc_info("schedule %s %s", name, paused ? "paused" : "resumed");
    qc_schedule_forget(broker);
    return qc_schedule_get(broker, request);
}

cJSON *qc_schedule_pause(qc_broker_t *broker, const cJSON *request)
{
    return s_set_paused(broker, request, 1);
}

cJSON *qc_schedule_resume(qc_broker_t *broker, const cJSON *request)
{
    return s_set_paused(broker, request, 0);
}

/* Enqueues the job of schedule s for tick_ms. *job_id gets its id. 1 if
 * enqueued, 0 if that tick's job exists already, -1 on error. */
static int s_enqueue_tick(qc_broker_t *broker, const cJSON *s, int64_t tick_ms, char *job_id)
{
    time_t tick_s = (time_t)(tick_ms / 1000);
    struct tm utc;
    gmtime_r(&tick_s, &utc);
    char stamp[24];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%MZ", &utc);
    snprintf(job_id, QC_MAX_ID_BYTES + 1, "%s@%s", qc_json_string(s, "name"), stamp);
    qc_job_spec_t spec;
    char err[256];
    if (qc_job_spec_from_json(cJSON_GetObjectItemCaseSensitive(s, "job"), &spec, err, sizeof err) !=
        0) {
        qc_error("schedule %s: its job is invalid (%s): tick skipped", qc_json_string(s, "name"),
                 err);
        return 0;
    }
    snprintf(spec.id, sizeof spec.id, "%s", job_id);
    spec.run_at_ms = tick_ms;
    char id[QC_MAX_ID_BYTES + 1];
    int rc =
        qc_store_job_insert(broker->store, &spec, &broker->config, qc_broker_wall_ms(broker), id);
    if (rc == 0)
        qc_events_enqueued(broker, id, QC_STATE_PENDING, &spec);
    qc_job_spec_clear(&spec);
    if (rc == 0)
        return 1;
    if (rc == QC_STORE_DUPLICATE || rc == QC_STORE_UNIQUE_HELD)
        return 0; /* fired already (or its unique key is held: the job that holds it runs) */
    if (rc == QC_STORE_UNSUPPORTED) {
        qc_error("schedule %s: its job uses fields this database cannot store: tick skipped",
                 qc_json_string(s, "name"));
        return 0;
    }
    return -1;
}

/* Whether job id has not finished (pending, processing, failed, waiting). */
static int s_unfinished(qc_broker_t *broker, const char *id)
{
    cJSON *brief = id ? qc_store_job_brief(broker->store, id) : NULL;
    int state = brief ? qc_state_parse(qc_json_string(brief, "state")) : -1;
    cJSON_Delete(brief);
    return state == QC_STATE_PENDING || state == QC_STATE_PROCESSING || state == QC_STATE_FAILED ||
           state == QC_STATE_WAITING;
}

/* Fires one due schedule. 0 or -1. */
static int s_fire(qc_broker_t *broker, const cJSON *s, int64_t now_ms)
{
    const char *name = qc_json_string(s, "name"), *tz = qc_json_string(s, "tz");
    qc_cron_t cron;
    char err[256];
    int64_t tick;
    if (qc_cron_parse(qc_json_string(s, "cron"), &cron, err, sizeof err) != 0 ||
        qc_json_int(s, "next_run_ms", &tick) != 0) {
        qc_error("schedule %s: bad stored cron (%s): paused", name, err);
        qc_schedule_update_t stop = {
            .name = name, .paused = 1, .next_run_ms = -1, .last_tick_ms = -1};
        return qc_store_schedule_update(broker->store, &stop) == -1 ? -1 : 0;
    }
    /* Ticks missed while no broker ran: one catch-up run, for the latest. */
    int64_t after = qc_cron_next(&cron, tz, tick);
    if (after >= 0 && after <= now_ms) {
        int64_t latest = qc_cron_prev(&cron, tz, now_ms);
        char a[32], b[32];
        qc_warn("schedule %s: ticks from %s to %s were missed: one catch-up run", name,
                qc_clock_format_iso(tick, a, sizeof a), qc_clock_format_iso(latest, b, sizeof b));
        tick = latest;
    }
    qc_schedule_update_t update = {.name = name,
                                   .paused = -1,
                                   .next_run_ms = qc_cron_next(&cron, tz, now_ms),
                                   .last_tick_ms = tick};
    char job_id[QC_MAX_ID_BYTES + 1];
    const char *last = qc_json_string(s, "last_job");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "skip_if_running")) &&
        s_unfinished(broker, last)) {
        qc_info("schedule %s: tick skipped, %s is still running", name, last);
        update.skipped = 1;
    } else {
        int rc = s_enqueue_tick(broker, s, tick, job_id);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            qc_info("schedule %s: enqueued %s", name, job_id);
            update.last_job = job_id;
            update.ran = 1;
            broker->maybe_due = 1;
        }
    }
    if (update.next_run_ms < 0) { /* never again */
        update.paused = 1;
        qc_warn("schedule %s: no further tick within five years: paused", name);
    }
    return qc_store_schedule_update(broker->store, &update) == 0 ? 0 : -1;
}

int qc_schedule_fire_due(qc_broker_t *broker, int64_t now_wall_ms)
{
    if (broker->schedule_due_ms == 0) {
        int64_t due = qc_store_schedule_next_due(broker->store);
        if (due == -2)
            return -1;
        broker->schedule_due_ms = due < 0 ? -1 : due;
    }
    if (broker->schedule_due_ms < 0 || broker->schedule_due_ms > now_wall_ms)
        return 0;
    cJSON *due = qc_store_schedule_list(broker->store, NULL, now_wall_ms);
    if (!due)
        return -1;
    int rc = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, due)
    {
        if ((rc = s_fire(broker, s, now_wall_ms)) != 0)
            break;
    }
    cJSON_Delete(due);
    qc_schedule_forget(broker); /* look again next pass */
    return rc;
}
