#include "wrkcmd.h"
#include "attempt.h"
#include "events.h"
#include "timers.h"
#include "queuectl/clock.h"
#include "queuectl/job.h"
#include "queuectl/log.h"
#include "queuectl/proto.h"

#include <string.h>

/* Queues a worker-protocol message (body may be NULL; not taken). */
static void s_send(qc_broker_t *broker, zframe_t *routing_id, const char *command,
                   const cJSON *body, qc_out_kind_t kind)
{
    zmsg_t *msg = qc_wmsg_new(command, body);
    qc_outbox_send_worker(broker->outbox, routing_id, &msg, kind);
}

static void s_on_result(qc_broker_t *broker, zframe_t *routing_id, qc_worker_t *worker,
                        const cJSON *body)
{
    qc_result_t result;
    char err[128];
    if (!body || qc_result_from_json(body, &result, err, sizeof err) != 0) {
        qc_warn("worker %s: malformed RESULT dropped: %s", worker->worker_id,
                body ? err : "no body");
        return;
    }
    cJSON *ack = cJSON_CreateObject();
    cJSON_AddStringToObject(ack, "id", result.id);
    cJSON_AddNumberToObject(ack, "attempt", result.attempt);

    qc_running_t running;
    int rc = qc_store_job_running(broker->store, result.id, &running);
    if (rc == -1) { /* no ACK: the worker sends it again */
        cJSON_Delete(ack);
        qc_result_clear(&result);
        return;
    }
    /* Only the connection that holds the run, of the worker instance the
     * store gave it to, reports on it: a name proves nothing. */
    qc_held_t *held = qc_worker_held(worker, result.id, result.attempt);
    if (held && held->started && result.outcome == QC_OUTCOME_NOT_STARTED)
        result.outcome = QC_OUTCOME_FAILED; /* it said STARTED: a run is charged */
    if (rc != 0 || running.attempt != result.attempt ||
        strcmp(running.worker_token, worker->instance) != 0 || !held || held->draining) {
        /* Stale (already recorded, or its lease expired) or not this worker's:
         * acknowledge so it stops resending, record nothing. */
        qc_info("job %s: result for attempt %d from %s ignored (%s)", result.id, result.attempt,
                worker->worker_id,
                rc != 0                                          ? "not running"
                : running.attempt != result.attempt              ? "not the current attempt"
                : strcmp(running.worker_token, worker->instance) ? "held by another worker"
                                                                 : "not held on this connection");
        if (qc_worker_release(worker, result.id, result.attempt) == 0)
            broker->maybe_due = 1; /* a draining slot is free again */
        s_send(broker, routing_id, QC_B_ACK, ack, QC_OUT_ALWAYS);
    } else if (qc_attempt_finish(broker, &running, &result) == 0) {
        if (qc_worker_release(worker, result.id, result.attempt) == 0)
            worker->jobs_done++;
        qc_dispatch_orphan_take(broker->dispatch, result.id, result.attempt, &running.seq);
        s_send(broker, routing_id, QC_B_ACK, ack, QC_OUT_AFTER_COMMIT);
    }
    cJSON_Delete(ack);
    qc_result_clear(&result);
}

/* Live output: relayed to subscribers of output.<id>, never stored. Only
 * from the worker that holds the job. */
static void s_on_output(qc_broker_t *broker, qc_worker_t *worker, const cJSON *body)
{
    const char *id = qc_json_string(body, "id");
    const char *stream = qc_json_string(body, "stream");
    const char *data = qc_json_string(body, "data");
    int64_t attempt;
    if (!id || !qc_job_id_valid(id) || qc_json_int(body, "attempt", &attempt) != 0 || !data ||
        !stream || (strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0) ||
        !qc_worker_holds(worker, id, (int)attempt) || !broker->events_sock)
        return;
    char topic[QC_MAX_ID_BYTES + 16];
    snprintf(topic, sizeof topic, "output.%s", id);
    qc_outbox_publish(broker->outbox, topic, body);
}

/* HELLO, checked. */
typedef struct {
    qc_worker_hello_t who;
    const cJSON *running;  /* [{id, attempt}]: runs whose shell is going, or NULL */
    const cJSON *finished; /* [{id, attempt}]: results not yet acknowledged, or NULL */
    int stopping;
} s_hello_t;

static int s_instance_valid(const char *instance)
{
    if (!instance || strlen(instance) != QC_INSTANCE_HEX)
        return 0;
    for (const char *p = instance; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

/* Validates HELLO's fields into hello; returns 0 or -1 with the reason. */
static int s_hello_parse(const cJSON *body, const char *curve_key, s_hello_t *hello, char *err,
                         size_t errlen)
{
    int64_t v;
    memset(hello, 0, sizeof *hello);
    hello->who.worker_id = qc_json_string(body, "worker_id");
    hello->who.instance = qc_json_string(body, "instance");
    hello->who.host = qc_json_string(body, "host");
    hello->who.curve_key = curve_key ? curve_key : "";
    hello->running = cJSON_GetObjectItemCaseSensitive(body, "running");
    hello->finished = cJSON_GetObjectItemCaseSensitive(body, "finished");
    hello->stopping = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "stopping"));
    if (!hello->who.worker_id || !qc_job_id_valid(hello->who.worker_id))
        return snprintf(err, errlen, "worker_id missing or invalid"), -1;
    if (!s_instance_valid(hello->who.instance))
        return snprintf(err, errlen, "instance must be %d lowercase hex digits", QC_INSTANCE_HEX),
               -1;
    if (!hello->who.host || strlen(hello->who.host) > 255)
        return snprintf(err, errlen, "host missing or too long"), -1;
    if (qc_json_int(body, "pid", &v) != 0 || v < 0 || v > INT32_MAX)
        return snprintf(err, errlen, "pid missing or invalid"), -1;
    hello->who.pid = (int)v;
    if (qc_json_int(body, "slots", &v) != 0 || v < 1 || v > QC_MAX_SLOTS)
        return snprintf(err, errlen, "slots must be 1 to %d", QC_MAX_SLOTS), -1;
    hello->who.slots = (int)v;
    if (hello->running && !cJSON_IsArray(hello->running))
        return snprintf(err, errlen, "running must be an array"), -1;
    if (hello->running && cJSON_GetArraySize(hello->running) > hello->who.slots)
        return snprintf(err, errlen, "running lists more jobs than slots"), -1;
    if (hello->finished && !cJSON_IsArray(hello->finished))
        return snprintf(err, errlen, "finished must be an array"), -1;
    if (hello->finished && cJSON_GetArraySize(hello->finished) > QC_MAX_UNACKED)
        return snprintf(err, errlen, "finished lists more than %d results", QC_MAX_UNACKED), -1;
    return 0;
}

/* A name no live registration holds: worker_id itself, or worker_id.N. */
static void s_free_name(qc_broker_t *broker, const char *worker_id, char *name, size_t len)
{
    snprintf(name, len, "%s", worker_id);
    for (int n = 2; qc_dispatch_find_by_name(broker->dispatch, name); n++)
        snprintf(name, len, "%.*s.%d", QC_MAX_ID_BYTES - 12, worker_id, n);
}

/* Takes (id, attempt) of a HELLO list entry, or returns -1. */
static int s_entry_ref(const cJSON *entry, const char **id, int *attempt)
{
    int64_t value;
    *id = qc_json_string(entry, "id");
    if (!*id || !qc_job_id_valid(*id) || qc_json_int(entry, "attempt", &value) != 0 || value < 1 ||
        value > INT32_MAX)
        return -1;
    *attempt = (int)value;
    return 0;
}

/* Adopts the runs a HELLO lists whose current attempt the store gave to
 * this worker instance; a listed run that isn't its own any more is
 * cancelled (running) or left to be acknowledged as stale (finished).
 * Adopted runs are crossed off carried[]. */
static void s_adopt(qc_broker_t *broker, qc_worker_t *worker, zframe_t *routing_id,
                    const cJSON *list, int finished, qc_held_t *carried, int carried_count)
{
    const cJSON *entry;
    cJSON_ArrayForEach(entry, list)
    {
        const char *id;
        int attempt;
        if (s_entry_ref(entry, &id, &attempt) != 0)
            continue;
        qc_running_t running;
        qc_held_t *held;
        if (qc_store_job_running(broker->store, id, &running) == 0 && running.attempt == attempt &&
            strcmp(running.worker_token, worker->instance) == 0 &&
            (held = qc_worker_hold(worker, running.seq, id, attempt)) != NULL) {
            held->started = 1; /* listed by the worker: its shell ran */
            held->finished = finished;
            int64_t seq;
            qc_dispatch_orphan_take(broker->dispatch, id, attempt, &seq);
            for (int i = 0; i < carried_count; i++)
                if (carried[i].attempt == attempt && strcmp(carried[i].id, id) == 0)
                    carried[i].id[0] = '\0'; /* adopted: not lost */
            qc_info("job %s: attempt %d adopted by reconnected worker %s%s", id, attempt,
                    worker->worker_id, finished ? " (finished, result on its way)" : "");
            if (!finished && running.cancel_requested) /* canceled while the broker was away */
                qc_wrkcmd_cancel_running(broker, id);
        } else if (!finished) {
            /* Not its job any more: kill it, but count its slot as taken
             * until its (stale) RESULT says the process is gone. */
            cJSON *cancel = cJSON_CreateObject();
            cJSON_AddStringToObject(cancel, "id", id);
            cJSON_AddNumberToObject(cancel, "attempt", (double)attempt);
            s_send(broker, routing_id, QC_B_CANCEL, cancel, QC_OUT_ALWAYS);
            cJSON_Delete(cancel);
            held = qc_worker_hold(worker, 0, id, attempt);
            if (held)
                held->draining = 1;
        }
    }
}

static void s_on_hello(qc_broker_t *broker, zframe_t *routing_id, const char *curve_key,
                       const cJSON *body)
{
    s_hello_t hello;
    char err[128];
    if (!body || s_hello_parse(body, curve_key, &hello, err, sizeof err) != 0) {
        qc_warn("malformed HELLO dropped: %s", body ? err : "no body");
        return;
    }
    /* A registration belongs to its connection and, with CURVE, its key.
     * The same worker process (same instance secret) may come back on a new
     * connection: its earlier records give up their jobs to the new one, or
     * lose them below. Anyone else never displaces a live registration. */
    qc_worker_t *previous[2] = {qc_dispatch_find(broker->dispatch, routing_id),
                                qc_dispatch_find_by_instance(broker->dispatch, hello.who.instance)};
    if (previous[0] && strcmp(previous[0]->instance, hello.who.instance) != 0) {
        qc_warn("HELLO from the connection of worker %s with another instance: dropped",
                previous[0]->worker_id);
        return;
    }
    if (previous[1] == previous[0])
        previous[1] = NULL;
    if (previous[1] && strcmp(previous[1]->curve_key, hello.who.curve_key) != 0) {
        qc_warn("HELLO for worker %s's instance from another CURVE key (%s): refused",
                previous[1]->worker_id, hello.who.curve_key[0] ? hello.who.curve_key : "none");
        return;
    }
    qc_held_t carried[2 * QC_MAX_SLOTS + QC_MAX_UNACKED];
    int same_conn[2 * QC_MAX_SLOTS + QC_MAX_UNACKED];
    int carried_count = 0;
    for (int p = 0; p < 2; p++) {
        if (!previous[p])
            continue;
        for (int i = 0; i < previous[p]->held_count &&
                        carried_count < (int)(sizeof carried / sizeof carried[0]);
             i++) {
            same_conn[carried_count] = (p == 0);
            carried[carried_count++] = previous[p]->held[i];
        }
        previous[p]->held_count = 0;
        qc_dispatch_remove(broker->dispatch, &previous[p]);
    }

    /* Two live workers with one name (cloned hosts, a copied unit file):
     * the newcomer gets a name of its own instead of knocking the other off. */
    char name[QC_MAX_ID_BYTES + 1];
    s_free_name(broker, hello.who.worker_id, name, sizeof name);
    if (strcmp(name, hello.who.worker_id) != 0) {
        qc_worker_t *holder = qc_dispatch_find_by_name(broker->dispatch, hello.who.worker_id);
        qc_warn("worker name %s is held by a live worker (host %s, pid %d); registering the "
                "worker from host %s, pid %d as %s",
                hello.who.worker_id, holder ? holder->host : "?", holder ? holder->pid : 0,
                hello.who.host, hello.who.pid, name);
    }
    hello.who.worker_id = name;
    qc_worker_t *worker = qc_dispatch_add(broker->dispatch, routing_id, &hello.who,
                                          qc_clock_mono_ms(), qc_clock_wall_ms());
    if (!worker)
        return;
    worker->stopping = hello.stopping;
    s_adopt(broker, worker, routing_id, hello.running, 0, carried, carried_count);
    s_adopt(broker, worker, routing_id, hello.finished, 1, carried, carried_count);
    for (int i = 0; i < carried_count; i++) {
        if (!carried[i].id[0])
            continue;
        /* Same connection: a JOB sent after this HELLO left the worker is
         * still on its way to it (in order): keep holding it. */
        qc_held_t *held;
        if (same_conn[i] &&
            (held = qc_worker_hold(worker, carried[i].seq, carried[i].id, carried[i].attempt))) {
            *held = carried[i];
            continue;
        }
        if (!carried[i].draining)
            qc_attempt_lose(broker, carried[i].id, carried[i].attempt, carried[i].started,
                            "worker reconnected without it");
    }

    cJSON *welcome = cJSON_CreateObject();
    cJSON_AddStringToObject(welcome, "worker_id", worker->worker_id);
    cJSON_AddNumberToObject(welcome, "heartbeat_ms", (double)broker->heartbeat_ms);
    cJSON_AddNumberToObject(welcome, "liveness_ms", (double)broker->liveness_ms);
    s_send(broker, routing_id, QC_B_WELCOME, welcome, QC_OUT_ALWAYS);
    cJSON_Delete(welcome);
    qc_events_worker(broker, "joined", worker);
    qc_info("worker %s registered (host %s, pid %d, %d slot%s, %d held)", worker->worker_id,
            worker->host, worker->pid, worker->slots, worker->slots == 1 ? "" : "s",
            worker->held_count);
    broker->maybe_due = 1;
}

/* The worker says the shell of a run it holds has started: from now on the
 * run counts toward max_retries, and started_at is the truth. */
static void s_on_started(qc_broker_t *broker, qc_worker_t *worker, const cJSON *body)
{
    const char *id;
    int attempt;
    int64_t started_at_ms;
    qc_held_t *held;
    if (!body || s_entry_ref(body, &id, &attempt) != 0 ||
        qc_json_int(body, "started_at_ms", &started_at_ms) != 0 ||
        !(held = qc_worker_held(worker, id, attempt)) || held->draining || held->started)
        return;
    /* The worker's clock: trusted only within a day of ours. */
    int64_t now_ms = qc_clock_wall_ms();
    if (started_at_ms < now_ms - 86400000 || started_at_ms > now_ms + 86400000)
        started_at_ms = now_ms;
    held->started = 1;
    qc_store_job_started(broker->store, held->seq, attempt, started_at_ms);
}

int qc_wrkcmd_drop_key(qc_broker_t *broker, const char *curve_key)
{
    int dropped = 0;
    for (;;) { /* one at a time: removing a worker ends the iteration */
        qc_worker_t *found = NULL;
        for (qc_worker_t *w = qc_dispatch_first(broker->dispatch); w && !found;
             w = qc_dispatch_next(broker->dispatch))
            if (w->curve_key[0] && strcmp(w->curve_key, curve_key) == 0)
                found = w;
        if (!found)
            return dropped;
        cJSON *body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "code", QC_E_FORBIDDEN);
        cJSON_AddStringToObject(body, "message", "this worker's key was revoked");
        s_send(broker, found->routing_id, QC_B_DENIED, body, QC_OUT_ALWAYS);
        cJSON_Delete(body);
        qc_warn("worker %s dropped: its key was revoked, %d job%s to retry", found->worker_id,
                found->held_count, found->held_count == 1 ? "" : "s");
        qc_attempt_lose_worker(broker, &found, "worker lost (its key was revoked)");
        dropped++;
    }
}

void qc_wrkcmd_touch(qc_broker_t *broker, zframe_t *routing_id)
{
    qc_worker_t *worker = qc_dispatch_find(broker->dispatch, routing_id);
    if (worker)
        worker->last_seen_mono_ms = qc_clock_mono_ms();
}

void qc_wrkcmd_handle(qc_broker_t *broker, zframe_t *routing_id, const char *curve_key, zmsg_t *msg)
{
    const char *command;
    cJSON *body;
    char err[128];
    if (qc_wmsg_decode(msg, &command, &body, err, sizeof err) != 0) {
        qc_warn("worker socket: malformed message dropped: %s", err);
        return;
    }
    qc_worker_t *worker = qc_dispatch_find(broker->dispatch, routing_id);
    if (worker)
        worker->last_seen_mono_ms = qc_clock_mono_ms();

    if (strcmp(command, QC_W_HELLO) == 0) {
        s_on_hello(broker, routing_id, curve_key, body);
    } else if (!worker) {
        /* Unknown peer (e.g. the broker restarted): ask it to introduce itself. */
        if (strcmp(command, QC_W_HEARTBEAT) == 0 || strcmp(command, QC_W_RESULT) == 0)
            s_send(broker, routing_id, QC_B_RESET, NULL, QC_OUT_ALWAYS);
    } else if (strcmp(command, QC_W_RESULT) == 0) {
        s_on_result(broker, routing_id, worker, body);
    } else if (strcmp(command, QC_W_STARTED) == 0) {
        s_on_started(broker, worker, body);
    } else if (strcmp(command, QC_W_STOPPING) == 0) {
        if (!worker->stopping)
            qc_info("worker %s: stopping, finishing %d job(s)", worker->worker_id,
                    worker->held_count);
        worker->stopping = 1;
    } else if (strcmp(command, QC_W_OUTPUT) == 0) {
        s_on_output(broker, worker, body);
    } else if (strcmp(command, QC_W_BYE) == 0) {
        qc_info("worker %s left (%lld jobs done)", worker->worker_id, (long long)worker->jobs_done);
        qc_attempt_lose_worker(broker, &worker, "worker left with the job unfinished");
    } else if (strcmp(command, QC_W_HEARTBEAT) != 0) {
        qc_warn("worker %s: unexpected %s dropped", worker->worker_id, command);
    }
    cJSON_Delete(body);
}

/* Gives one due job to worker; returns 1 if it did, 0 if nothing is due, -1 on error. */
static int s_give_one(qc_broker_t *broker, qc_worker_t *worker, int64_t now_wall_ms)
{
    qc_worker_ref_t ref = {worker->worker_id, worker->instance, worker->host, worker->pid};
    qc_claim_t claim;
    int rc = qc_store_job_claim_next(broker->store, &ref, now_wall_ms, &claim);
    if (rc != 1)
        return rc;
    if (!qc_worker_hold(worker, claim.seq, claim.id, claim.attempt)) {
        free(claim.command);
        return -1; /* out of memory: the pass's commit must not keep this claim */
    }
    qc_histogram_observe(
        &broker->metrics.dispatch_latency,
        (double)(now_wall_ms > claim.run_at_ms ? now_wall_ms - claim.run_at_ms : 0));
    qc_events_job(broker, &(qc_job_event_t){.id = claim.id,
                                            .state = QC_STATE_PROCESSING,
                                            .command = claim.command,
                                            .with_counts = 1,
                                            .attempts = claim.attempts,
                                            .max_retries = claim.max_retries,
                                            .priority = claim.priority,
                                            .attempt = claim.attempt,
                                            .worker_id = worker->worker_id});
    cJSON *job = cJSON_CreateObject();
    cJSON_AddStringToObject(job, "id", claim.id);
    cJSON_AddNumberToObject(job, "attempt", claim.attempt);
    cJSON_AddStringToObject(job, "command", claim.command);
    cJSON_AddNumberToObject(job, "timeout_s", claim.timeout_s);
    s_send(broker, worker->routing_id, QC_B_JOB, job, QC_OUT_AFTER_COMMIT);
    cJSON_Delete(job);
    qc_debug("job %s: attempt %d sent to worker %s", claim.id, claim.attempt, worker->worker_id);
    free(claim.command);
    return 1;
}

void qc_wrkcmd_dispatch(qc_broker_t *broker, int64_t now_wall_ms)
{
    if (qc_clock_mono_ms() < broker->dispatch_after_mono_ms)
        return;
    if (!broker->maybe_due && (broker->next_due_ms < 0 || broker->next_due_ms > now_wall_ms))
        return;
    /* Which worker gets each job is the registry's policy (dispatch.h). */
    int nothing_due = 0;
    for (;;) {
        qc_worker_t *best = qc_dispatch_pick(broker->dispatch);
        if (!best)
            break;
        int rc = s_give_one(broker, best, now_wall_ms);
        if (rc < 0)
            return; /* storage trouble: try again on the next pass */
        if (rc == 0) {
            nothing_due = 1;
            break;
        }
        qc_dispatch_given(broker->dispatch, best);
    }
    /* Nothing more is due now (or nobody is free): remember when to look again. */
    broker->maybe_due = 0;
    broker->next_due_ms = nothing_due ? qc_store_next_due_ms(broker->store) : -1;
}

void qc_wrkcmd_heartbeat(qc_broker_t *broker)
{
    for (qc_worker_t *w = qc_dispatch_first(broker->dispatch); w;
         w = qc_dispatch_next(broker->dispatch))
        s_send(broker, w->routing_id, QC_B_HEARTBEAT, NULL, QC_OUT_ALWAYS);
}

int qc_wrkcmd_stop(qc_broker_t *broker, const char *worker_id)
{
    int count = 0;
    for (qc_worker_t *w = qc_dispatch_first(broker->dispatch); w;
         w = qc_dispatch_next(broker->dispatch)) {
        if (worker_id && strcmp(w->worker_id, worker_id) != 0)
            continue;
        w->stopping = 1;
        s_send(broker, w->routing_id, QC_B_STOP, NULL, QC_OUT_ALWAYS);
        qc_info("worker %s: asked to stop", w->worker_id);
        count++;
    }
    return count;
}

void qc_wrkcmd_resync(qc_broker_t *broker)
{
    /* Forget every worker: each gets RESET, says HELLO again, and re-adopts
     * from the store's view of what it holds. */
    qc_worker_t *w;
    while ((w = qc_dispatch_first(broker->dispatch)) != NULL) {
        s_send(broker, w->routing_id, QC_B_RESET, NULL, QC_OUT_ALWAYS);
        qc_dispatch_remove(broker->dispatch, &w);
    }
    qc_timers_load_orphans(broker, qc_clock_mono_ms());
    broker->maybe_due = 1;
}

void qc_wrkcmd_cancel_running(qc_broker_t *broker, const char *id)
{
    qc_running_t running;
    if (qc_store_job_running(broker->store, id, &running) != 0)
        return;
    qc_worker_t *worker = qc_dispatch_find_by_instance(broker->dispatch, running.worker_token);
    qc_info("job %s: cancel requested; attempt %d %s", id, running.attempt,
            worker ? "is being killed by its worker" : "ends canceled when its lease ends");
    if (!worker)
        return;
    cJSON *cancel = cJSON_CreateObject();
    cJSON_AddStringToObject(cancel, "id", id);
    cJSON_AddNumberToObject(cancel, "attempt", running.attempt);
    s_send(broker, worker->routing_id, QC_B_CANCEL, cancel, QC_OUT_AFTER_COMMIT);
    cJSON_Delete(cancel);
}
