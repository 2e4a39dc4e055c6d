#include "wrkcmd.h"
#include "attempt.h"
#include "events.h"
#include "timers.h"
#include "queuectl/log.h"
#include "queuectl/proto.h"

#include <string.h>

/* Queues a worker-protocol message (encoded by the codec, proto.h). */
static void s_send(qc_broker_t *broker, zframe_t *routing_id, const qc_wmsg_t *msg,
                   qc_out_kind_t kind)
{
    zmsg_t *frames = qc_wmsg_encode(msg);
    qc_outbox_send_worker(broker->outbox, routing_id, &frames, kind);
}

/* A message without a body (RESET, STOP, HEARTBEAT). */
static void s_send_bare(qc_broker_t *broker, zframe_t *routing_id, qc_wmsg_type_t type)
{
    s_send(broker, routing_id, &(qc_wmsg_t){.type = type}, QC_OUT_ALWAYS);
}

static void s_on_result(qc_broker_t *broker, zframe_t *routing_id, qc_worker_t *worker,
                        qc_wmsg_t *msg)
{
    if (!msg->valid) {
        qc_warn("worker %s: malformed RESULT dropped: %s", worker->worker_id, msg->error);
        return;
    }
    qc_result_t *result = &msg->result;
    qc_wmsg_t ack = {.type = QC_WMSG_ACK, .run = {result->id, result->attempt}};

    qc_running_t running;
    int rc = qc_store_job_running(broker->store, result->id, &running);
    if (rc == -1) /* no ACK: the worker sends it again */
        return;
    /* Only the connection that holds the run, of the worker instance the
     * store gave it to, reports on it: a name proves nothing. */
    qc_held_t *held = qc_worker_held(worker, result->id, result->attempt);
    if (held && held->started && result->outcome == QC_OUTCOME_NOT_STARTED)
        result->outcome = QC_OUTCOME_FAILED; /* it said STARTED: a run is charged */
    if (rc != 0 || running.attempt != result->attempt ||
        strcmp(running.worker_token, worker->instance) != 0 || !held || held->draining) {
        /* Stale (already recorded, or its lease expired) or not this worker's:
         * acknowledge so it stops resending, record nothing. */
        qc_info("job %s: result for attempt %d from %s ignored (%s)", result->id, result->attempt,
                worker->worker_id,
                rc != 0                                          ? "not running"
                : running.attempt != result->attempt             ? "not the current attempt"
                : strcmp(running.worker_token, worker->instance) ? "held by another worker"
                                                                 : "not held on this connection");
        if (qc_worker_release(worker, result->id, result->attempt) == 0)
            broker->maybe_due = 1; /* a draining slot is free again */
        s_send(broker, routing_id, &ack, QC_OUT_ALWAYS);
    } else if (qc_attempt_finish(broker, &running, result) == 0) {
        if (qc_worker_release(worker, result->id, result->attempt) == 0)
            worker->jobs_done++;
        qc_dispatch_orphan_take(broker->dispatch, result->id, result->attempt, &running.seq);
        s_send(broker, routing_id, &ack, QC_OUT_AFTER_COMMIT);
    }
}

/* Live output: relayed to subscribers of output.<id>, never stored. Only
 * from the worker that holds the job. */
static void s_on_output(qc_broker_t *broker, qc_worker_t *worker, const qc_wmsg_t *msg)
{
    const char *id = msg->run.id;
    if (!msg->valid || !qc_worker_holds(worker, id, msg->run.attempt))
        return;
    char topic[QC_MAX_ID_BYTES + 16];
    snprintf(topic, sizeof topic, "output.%s", id);
    if (qc_events_wanted(broker, topic))                     /* someone follows this job's output */
        qc_outbox_publish(broker->outbox, topic, msg->body); /* relayed as the worker sent it */
}

/* A name no live registration holds: worker_id itself, or worker_id.N. */
static void s_free_name(qc_broker_t *broker, const char *worker_id, char *name, size_t len)
{
    snprintf(name, len, "%s", worker_id);
    for (int n = 2; qc_dispatch_find_by_name(broker->dispatch, name); n++)
        snprintf(name, len, "%.*s.%d", QC_MAX_ID_BYTES - 12, worker_id, n);
}

/* Adopts the runs a HELLO lists whose current attempt the store gave to
 * this worker instance; a listed run that isn't its own any more is
 * cancelled (running) or left to be acknowledged as stale (finished).
 * Adopted runs are crossed off carried[]. */
static void s_adopt(qc_broker_t *broker, qc_worker_t *worker, zframe_t *routing_id,
                    const qc_wmsg_run_t *runs, int count, int finished, qc_held_t *carried,
                    int carried_count)
{
    for (int r = 0; r < count; r++) {
        const char *id = runs[r].id;
        int attempt = runs[r].attempt;
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
            s_send(broker, routing_id, &(qc_wmsg_t){.type = QC_WMSG_CANCEL, .run = runs[r]},
                   QC_OUT_ALWAYS);
            held = qc_worker_hold(worker, 0, id, attempt);
            if (held)
                held->draining = 1;
        }
    }
}

static void s_on_hello(qc_broker_t *broker, zframe_t *routing_id, const char *curve_key,
                       const qc_wmsg_t *msg)
{
    if (!msg->valid) {
        qc_warn("malformed HELLO dropped: %s", msg->error);
        return;
    }
    const qc_wmsg_hello_t *hello = &msg->hello;
    qc_worker_hello_t who = {.worker_id = hello->worker_id,
                             .instance = hello->instance,
                             .curve_key = curve_key ? curve_key : "",
                             .host = hello->host,
                             .pid = hello->pid,
                             .slots = hello->slots,
                             .queues = hello->queues};
    /* A registration belongs to its connection and, with CURVE, its key.
     * The same worker process (same instance secret) may come back on a new
     * connection: its earlier records give up their jobs to the new one, or
     * lose them below. Anyone else never displaces a live registration. */
    qc_worker_t *previous[2] = {qc_dispatch_find(broker->dispatch, routing_id),
                                qc_dispatch_find_by_instance(broker->dispatch, who.instance)};
    if (previous[0] && strcmp(previous[0]->instance, who.instance) != 0) {
        qc_warn("HELLO from the connection of worker %s with another instance: dropped",
                previous[0]->worker_id);
        return;
    }
    if (previous[1] == previous[0])
        previous[1] = NULL;
    if (previous[1] && strcmp(previous[1]->curve_key, who.curve_key) != 0) {
        qc_warn("HELLO for worker %s's instance from another CURVE key (%s): refused",
                previous[1]->worker_id, who.curve_key[0] ? who.curve_key : "none");
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
    s_free_name(broker, who.worker_id, name, sizeof name);
    if (strcmp(name, who.worker_id) != 0) {
        qc_worker_t *holder = qc_dispatch_find_by_name(broker->dispatch, who.worker_id);
        qc_warn("worker name %s is held by a live worker (host %s, pid %d); registering the "
                "worker from host %s, pid %d as %s",
                who.worker_id, holder ? holder->host : "?", holder ? holder->pid : 0, who.host,
                who.pid, name);
    }
    who.worker_id = name;
    qc_worker_t *worker = qc_dispatch_add(broker->dispatch, routing_id, &who,
                                          qc_broker_mono_ms(broker), qc_broker_wall_ms(broker));
    if (!worker)
        return;
    worker->stopping = hello->stopping;
    s_adopt(broker, worker, routing_id, hello->running, hello->running_count, 0, carried,
            carried_count);
    s_adopt(broker, worker, routing_id, hello->finished, hello->finished_count, 1, carried,
            carried_count);
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

    qc_wmsg_t welcome = {.type = QC_WMSG_WELCOME,
                         .welcome = {.worker_id = worker->worker_id,
                                     .heartbeat_ms = broker->heartbeat_ms,
                                     .liveness_ms = broker->liveness_ms}};
    s_send(broker, routing_id, &welcome, QC_OUT_ALWAYS);
    qc_events_worker(broker, "joined", worker);
    qc_info("worker %s registered (host %s, pid %d, %d slot%s, %d held, queues %s)",
            worker->worker_id, worker->host, worker->pid, worker->slots,
            worker->slots == 1 ? "" : "s", worker->held_count,
            worker->queues ? worker->queues : "all");
    broker->maybe_due = 1;
}

/* The worker says the shell of a run it holds has started: from now on the
 * run counts toward max_retries, and started_at is the truth. */
static void s_on_started(qc_broker_t *broker, qc_worker_t *worker, const qc_wmsg_t *msg)
{
    qc_held_t *held;
    int attempt = msg->run.attempt;
    if (!msg->valid || !(held = qc_worker_held(worker, msg->run.id, attempt)) || held->draining ||
        held->started)
        return;
    int64_t started_at_ms = msg->started.started_at_ms;
    /* The worker's clock: trusted only within a day of ours. */
    int64_t now_ms = qc_broker_wall_ms(broker);
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
        qc_wmsg_t denied = {.type = QC_WMSG_DENIED,
                            .denied = {QC_E_FORBIDDEN, "this worker's key was revoked"}};
        s_send(broker, found->routing_id, &denied, QC_OUT_ALWAYS);
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
        worker->last_seen_mono_ms = qc_broker_mono_ms(broker);
}

void qc_wrkcmd_handle(qc_broker_t *broker, zframe_t *routing_id, const char *curve_key,
                      zmsg_t *frames)
{
    qc_wmsg_t msg;
    char err[128];
    if (qc_wmsg_decode(frames, &msg, err, sizeof err) != 0) {
        qc_warn("worker socket: malformed message dropped: %s", err);
        qc_wmsg_clear(&msg);
        return;
    }
    qc_worker_t *worker = qc_dispatch_find(broker->dispatch, routing_id);
    if (worker)
        worker->last_seen_mono_ms = qc_broker_mono_ms(broker);

    if (msg.type == QC_WMSG_HELLO) {
        s_on_hello(broker, routing_id, curve_key, &msg);
    } else if (!worker) {
        /* Unknown peer (e.g. the broker restarted): ask it to introduce itself. */
        if (msg.type == QC_WMSG_HEARTBEAT || msg.type == QC_WMSG_RESULT)
            s_send_bare(broker, routing_id, QC_WMSG_RESET);
    } else if (msg.type == QC_WMSG_RESULT) {
        s_on_result(broker, routing_id, worker, &msg);
    } else if (msg.type == QC_WMSG_STARTED) {
        s_on_started(broker, worker, &msg);
    } else if (msg.type == QC_WMSG_STOPPING) {
        if (!worker->stopping)
            qc_info("worker %s: stopping, finishing %d job(s)", worker->worker_id,
                    worker->held_count);
        worker->stopping = 1;
    } else if (msg.type == QC_WMSG_OUTPUT) {
        s_on_output(broker, worker, &msg);
    } else if (msg.type == QC_WMSG_BYE) {
        qc_info("worker %s left (%lld jobs done)", worker->worker_id, (long long)worker->jobs_done);
        qc_attempt_lose_worker(broker, &worker, "worker left with the job unfinished");
    } else if (msg.type != QC_WMSG_HEARTBEAT) {
        qc_warn("worker %s: unexpected %s dropped", worker->worker_id, qc_wmsg_command(msg.type));
    }
    qc_wmsg_clear(&msg);
}

/* Hands a claimed job to worker: held, announced, its JOB sent after the
 * commit, and the worker goes last in the dispatch order. 0, or -1 (out of
 * memory: the pass's commit must not keep this claim). */
static int s_hand(qc_broker_t *broker, qc_worker_t *worker, const qc_claim_t *claim,
                  int64_t now_wall_ms)
{
    if (!qc_worker_hold(worker, claim->seq, claim->id, claim->attempt))
        return -1;
    qc_histogram_observe(
        &broker->metrics.dispatch_latency,
        (double)(now_wall_ms > claim->run_at_ms ? now_wall_ms - claim->run_at_ms : 0));
    qc_events_job(broker, &(qc_job_event_t){.id = claim->id,
                                            .state = QC_STATE_PROCESSING,
                                            .command = claim->command,
                                            .with_counts = 1,
                                            .attempts = claim->attempts,
                                            .max_retries = claim->max_retries,
                                            .priority = claim->priority,
                                            .attempt = claim->attempt,
                                            .worker_id = worker->worker_id});
    cJSON *env = claim->env_json ? cJSON_Parse(claim->env_json) : NULL;
    qc_wmsg_t job = {.type = QC_WMSG_JOB,
                     .run = {claim->id, claim->attempt},
                     .job = {.command = claim->command,
                             .timeout_s = claim->timeout_s,
                             .env = env,
                             .cwd = claim->cwd,
                             .queue = claim->queue[0] ? claim->queue : NULL}};
    s_send(broker, worker->routing_id, &job, QC_OUT_AFTER_COMMIT);
    cJSON_Delete(env);
    qc_debug("job %s: attempt %d sent to worker %s", claim->id, claim->attempt, worker->worker_id);
    qc_dispatch_given(broker->dispatch, worker);
    return 0;
}

/* Gives one due job to worker (one with a queue list); returns 1 if it did,
 * 0 if nothing is due, -1 on error. */
static int s_give_one(qc_broker_t *broker, qc_worker_t *worker, int64_t now_wall_ms)
{
    qc_worker_ref_t ref = {worker->worker_id, worker->instance, worker->host, worker->pid};
    qc_claim_t claim;
    int rc = qc_store_job_claim_for(broker->store, &ref, now_wall_ms, worker->queues, &claim);
    if (rc == 1 && s_hand(broker, worker, &claim, now_wall_ms) != 0)
        rc = -1;
    qc_claim_clear(&claim);
    return rc;
}

/* Gives due jobs to workers[0..n), which serve every queue, in that order,
 * with one claim for all where the store can. Returns how many got one
 * (fewer than n: nothing more is due), or -1 on error. */
static int s_give_many(qc_broker_t *broker, qc_worker_t **workers, int n, int64_t now_wall_ms)
{
    qc_worker_ref_t refs[QC_DISPATCH_PLAN_MAX];
    qc_claim_t claims[QC_DISPATCH_PLAN_MAX];
    for (int i = 0; i < n; i++)
        refs[i] = (qc_worker_ref_t){workers[i]->worker_id, workers[i]->instance, workers[i]->host,
                                    workers[i]->pid};
    int got = qc_store_job_claim_many(broker->store, refs, n, now_wall_ms, claims);
    int rc = got;
    for (int i = 0; i < got; i++) {
        if (rc >= 0 && s_hand(broker, workers[i], &claims[i], now_wall_ms) != 0)
            rc = -1;
        qc_claim_clear(&claims[i]);
    }
    return rc;
}

/* The pass's last claim, for every free slot left (workers[0..n), all
 * serving every queue), sent with the commit: nothing in the pass waits for
 * its rows, since the JOBs go out after the commit anyway. 0 if sent, else
 * the caller claims at once. */
static int s_claim_with_commit(qc_broker_t *broker, qc_worker_t **workers, int n,
                               int64_t now_wall_ms, int nothing_due)
{
    qc_worker_ref_t refs[QC_DISPATCH_PLAN_MAX];
    for (int i = 0; i < n; i++)
        refs[i] = (qc_worker_ref_t){workers[i]->worker_id, workers[i]->instance, workers[i]->host,
                                    workers[i]->pid};
    if (qc_store_job_claim_with_commit(broker->store, refs, n, now_wall_ms) != 0)
        return -1;
    memcpy(broker->claimed_for, workers, (size_t)n * sizeof *workers);
    broker->claimed_for_count = n;
    broker->claimed_at_ms = now_wall_ms;
    broker->claimed_nothing_due = nothing_due;
    /* Whether it found enough is known after the commit. */
    broker->maybe_due = 0;
    broker->next_due_ms = -1;
    return 0;
}

void qc_wrkcmd_dispatch_committed(qc_broker_t *broker)
{
    int n = broker->claimed_for_count;
    if (n == 0)
        return;
    broker->claimed_for_count = 0;
    qc_claim_t claims[QC_DISPATCH_PLAN_MAX];
    int got = qc_store_claims_committed(broker->store, claims, n);
    for (int i = 0; i < got; i++) {
        if (!claims[i].command ||
            s_hand(broker, broker->claimed_for[i], &claims[i], broker->claimed_at_ms) != 0)
            /* Committed but not held (out of memory): its lease after a
             * restart, or worker_lost when that worker reconnects, ends it. */
            qc_error("job %s: claimed but not handed out (out of memory)", claims[i].id);
        qc_claim_clear(&claims[i]);
    }
    if (got < n || broker->claimed_nothing_due) { /* as qc_wrkcmd_dispatch's end */
        int64_t now_ms = broker->claimed_at_ms;
        broker->next_due_ms = qc_store_next_due_ms(broker->store);
        if (broker->next_due_ms >= 0 && broker->next_due_ms <= now_ms)
            broker->next_due_ms = now_ms + 1000;
    }
}

void qc_wrkcmd_dispatch(qc_broker_t *broker, int64_t now_wall_ms)
{
    broker->claimed_for_count = 0; /* only this pass's claim may go with its commit */
    if (qc_broker_mono_ms(broker) < broker->dispatch_after_mono_ms)
        return;
    if (!broker->maybe_due && (broker->next_due_ms < 0 || broker->next_due_ms > now_wall_ms))
        return;
    /* Which worker gets each job is the registry's policy (dispatch.h); its
     * plan of the next picks lets the workers that serve every queue be
     * given theirs with one claim, the same jobs one claim each would give. */
    int nothing_due = 0;
    qc_dispatch_pass_begin(broker->dispatch);
    for (;;) {
        qc_worker_t *plan[QC_DISPATCH_PLAN_MAX];
        int n = qc_dispatch_plan(broker->dispatch, plan, QC_DISPATCH_PLAN_MAX);
        if (n == 0)
            break;                                       /* nobody is free */
        int serve_all = plan[n - 1]->queues ? n - 1 : n; /* a queue list ends a plan */
        if (serve_all == n && n < QC_DISPATCH_PLAN_MAX &&
            s_claim_with_commit(broker, plan, n, now_wall_ms, nothing_due) == 0)
            return; /* every free slot is in this last claim: handed out after the commit */
        if (serve_all > 0) {
            int given = s_give_many(broker, plan, serve_all, now_wall_ms);
            if (given < 0)
                return; /* storage trouble: try again on the next pass */
            if (given < serve_all) {
                nothing_due = 1; /* nothing is due for anyone */
                break;
            }
            continue;
        }
        int rc = s_give_one(broker, plan[0], now_wall_ms);
        if (rc < 0)
            return;
        if (rc == 0) {
            /* Nothing in its queues: a worker serving others may find some. */
            nothing_due = 1;
            qc_dispatch_nothing_due(broker->dispatch, plan[0]);
        }
    }
    /* Nothing more is due now (or nobody is free): remember when to look again. */
    broker->maybe_due = 0;
    broker->next_due_ms = nothing_due ? qc_store_next_due_ms(broker->store) : -1;
    /* Due, yet nobody may take it (its queue is paused or full, or no worker
     * serves it): a resume, a finished job or a new worker set maybe_due;
     * meanwhile look again in a second rather than spin. */
    if (nothing_due && broker->next_due_ms >= 0 && broker->next_due_ms <= now_wall_ms)
        broker->next_due_ms = now_wall_ms + 1000;
}

void qc_wrkcmd_heartbeat(qc_broker_t *broker)
{
    for (qc_worker_t *w = qc_dispatch_first(broker->dispatch); w;
         w = qc_dispatch_next(broker->dispatch))
        s_send_bare(broker, w->routing_id, QC_WMSG_HEARTBEAT);
}

int qc_wrkcmd_stop(qc_broker_t *broker, const char *worker_id)
{
    int count = 0;
    for (qc_worker_t *w = qc_dispatch_first(broker->dispatch); w;
         w = qc_dispatch_next(broker->dispatch)) {
        if (worker_id && strcmp(w->worker_id, worker_id) != 0)
            continue;
        w->stopping = 1;
        s_send_bare(broker, w->routing_id, QC_WMSG_STOP);
        qc_info("worker %s: asked to stop", w->worker_id);
        count++;
    }
    return count;
}

void qc_wrkcmd_resync(qc_broker_t *broker)
{
    /* Forget every worker: each gets RESET, says HELLO again, and re-adopts
     * from the store's view of what it holds. */
    broker->claimed_for_count = 0; /* a claim sent with a failed commit: never made */
    qc_worker_t *w;
    while ((w = qc_dispatch_first(broker->dispatch)) != NULL) {
        s_send_bare(broker, w->routing_id, QC_WMSG_RESET);
        qc_dispatch_remove(broker->dispatch, &w);
    }
    qc_timers_load_orphans(broker, qc_broker_mono_ms(broker));
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
    s_send(broker, worker->routing_id,
           &(qc_wmsg_t){.type = QC_WMSG_CANCEL, .run = {id, running.attempt}}, QC_OUT_AFTER_COMMIT);
}
