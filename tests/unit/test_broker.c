/* Unit tests of the broker without sockets: a broker object over a real
 * SQLite store, driven by a fake clock. Worker messages go straight to the
 * handlers (wrkcmd.c); what the broker would send is read from its outbox.
 * Covers dispatch order, HELLO adoption, draining, lost workers and the
 * restart lease. No sleeps: time moves only when a test moves it. */
#include "broker.h"
#include "check.h"
#include "fake_clock.h"
#include "ctlcmd.h"
#include "timers.h"
#include "wrkcmd.h"
#include "queuectl/proto.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Instance secrets: 32 lowercase hex digits. */
#define S_INSTANCE_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define S_INSTANCE_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define S_INSTANCE_C "cccccccccccccccccccccccccccccccc"

static void s_enqueue(qc_broker_t *broker, const char *id)
{
    char request[256];
    snprintf(request, sizeof request,
             "{\"op\":\"enqueue\",\"job\":{\"id\":\"%s\",\"command\":\"true\"}}", id);
    CHECK(qc_store_begin(broker->store) == 0);
    cJSON *reply = qc_ctlcmd_handle(broker, request, strlen(request), 1, NULL);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(reply, "ok")));
    cJSON_Delete(reply);
    CHECK(qc_store_commit(broker->store) == 0);
}

/* A worker message from the connection named conn, in a transaction, as
 * the server's pass runs it. body is JSON text or NULL. */
static void s_from_worker(qc_broker_t *broker, const char *conn, const char *command,
                          const char *body)
{
    /* The frames as they come off the socket: the handler decodes them. */
    zmsg_t *msg = zmsg_new();
    zmsg_addstr(msg, QC_WORKER_HEADER);
    zmsg_addstr(msg, command);
    if (body)
        zmsg_addstr(msg, body);
    zframe_t *routing_id = zframe_new(conn, strlen(conn));
    CHECK(qc_store_begin(broker->store) == 0);
    qc_wrkcmd_handle(broker, routing_id, NULL, msg);
    CHECK(qc_store_commit(broker->store) == 0);
    zframe_destroy(&routing_id);
    zmsg_destroy(&msg);
}

static void s_hello(qc_broker_t *broker, const char *conn, const char *name, const char *instance,
                    int slots, const char *running, const char *finished)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"worker_id\":\"%s\",\"instance\":\"%s\",\"host\":\"h\",\"pid\":1,\"slots\":%d,"
             "\"running\":[%s],\"finished\":[%s]}",
             name, instance, slots, running ? running : "", finished ? finished : "");
    s_from_worker(broker, conn, QC_W_HELLO, body);
}

/* What the timed work and dispatch of a pass do, committed. */
static void s_pass(qc_broker_t *broker)
{
    CHECK(qc_store_begin(broker->store) == 0);
    qc_timers_sweep(broker, qc_broker_mono_ms(broker));
    qc_wrkcmd_dispatch(broker, qc_broker_wall_ms(broker));
    CHECK(qc_store_commit(broker->store) == 0);
}

/* Takes the first queued worker message to conn with this command out of
 * the outbox's reading: returns its body (caller owns; an empty object if
 * it has none), or NULL if there is no such message. */
static cJSON *s_sent(qc_broker_t *broker, const char *conn, const char *command)
{
    qc_out_to_t to;
    for (zmsg_t *msg = qc_outbox_first(broker->outbox, &to, NULL); msg;
         msg = qc_outbox_next(broker->outbox, &to, NULL)) {
        if (to != QC_OUT_TO_WORKER)
            continue;
        zframe_t *routing_id = zmsg_first(msg);
        zframe_t *header = zmsg_next(msg);
        zframe_t *cmd = zmsg_next(msg);
        zframe_t *body = zmsg_next(msg);
        CHECK(header && zframe_streq(header, QC_WORKER_HEADER));
        if (!zframe_streq(routing_id, conn) || !zframe_streq(cmd, command))
            continue;
        if (!body)
            return cJSON_CreateObject();
        return cJSON_ParseWithLength((const char *)zframe_data(body), zframe_size(body));
    }
    return NULL;
}

/* The id of the JOB queued for conn (into id), or "" if none. */
static void s_job_for(qc_broker_t *broker, const char *conn, char *id, size_t len)
{
    cJSON *job = s_sent(broker, conn, QC_B_JOB);
    snprintf(id, len, "%s", job ? qc_json_string(job, "id") : "");
    cJSON_Delete(job);
}

/* How many JOBs are queued for conn. */
static int s_jobs_for(qc_broker_t *broker, const char *conn)
{
    int count = 0;
    qc_out_to_t to;
    for (zmsg_t *msg = qc_outbox_first(broker->outbox, &to, NULL); msg;
         msg = qc_outbox_next(broker->outbox, &to, NULL)) {
        zframe_t *routing_id = zmsg_first(msg);
        zmsg_next(msg);
        if (to == QC_OUT_TO_WORKER && zframe_streq(routing_id, conn) &&
            zframe_streq(zmsg_next(msg), QC_B_JOB))
            count++;
    }
    return count;
}

/* The body of the first queued event on topic (caller owns), or NULL. */
static cJSON *s_published(qc_broker_t *broker, const char *topic)
{
    qc_out_to_t to;
    qc_out_kind_t kind;
    for (zmsg_t *msg = qc_outbox_first(broker->outbox, &to, &kind); msg;
         msg = qc_outbox_next(broker->outbox, &to, &kind)) {
        if (to != QC_OUT_TO_EVENTS || !zframe_streq(zmsg_first(msg), topic))
            continue;
        CHECK(kind == QC_OUT_AFTER_COMMIT); /* never announced before it is stored */
        zframe_t *body = zmsg_next(msg);
        return cJSON_ParseWithLength((const char *)zframe_data(body), zframe_size(body));
    }
    return NULL;
}

static qc_worker_t *s_worker(qc_broker_t *broker, const char *conn)
{
    zframe_t *routing_id = zframe_new(conn, strlen(conn));
    qc_worker_t *worker = qc_dispatch_find(broker->dispatch, routing_id);
    zframe_destroy(&routing_id);
    return worker;
}

static const char *s_state(qc_broker_t *broker, const char *id, char *buf, size_t len)
{
    cJSON *job = NULL;
    CHECK(qc_store_job_get(broker->store, id, 0, &job) == 0);
    snprintf(buf, len, "%s", qc_json_string(job, "state"));
    cJSON_Delete(job);
    return buf;
}

static void s_result(qc_broker_t *broker, const char *conn, const char *id, int attempt)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"attempt\":%d,\"outcome\":\"succeeded\",\"exit_code\":0}", id,
             attempt);
    s_from_worker(broker, conn, QC_W_RESULT, body);
}

static void s_started(qc_broker_t *broker, const char *conn, const char *id, int attempt)
{
    char body[256];
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"attempt\":%d,\"started_at_ms\":%lld}", id,
             attempt, (long long)s_now.wall_ms);
    s_from_worker(broker, conn, QC_W_STARTED, body);
}

/* A broker on the fake clock over a fresh store in its own directory. */
typedef struct {
    char dir[32];
    qc_store_t *store;
    qc_broker_t *broker;
} s_fixture_t;

static void s_setup(s_fixture_t *f)
{
    char path[64], err[256];
    snprintf(f->dir, sizeof f->dir, "/tmp/qc-broker-XXXXXX");
    CHECK(mkdtemp(f->dir) != NULL);
    snprintf(path, sizeof path, "%s/q.db", f->dir);
    f->store = qc_store_open(path, 0, err, sizeof err);
    CHECK(f->store != NULL);
    f->broker = qc_broker_new(f->store, &s_clock);
    CHECK(f->broker != NULL);
}

static void s_teardown(s_fixture_t *f)
{
    qc_broker_destroy(&f->broker);
    CHECK(f->broker == NULL);
    qc_store_destroy(&f->store);
    char command[64];
    snprintf(command, sizeof command, "rm -rf %s", f->dir);
    CHECK(system(command) == 0);
}

/* Each job goes to the free worker given one least recently; a worker gets
 * no more jobs than free slots; a freed slot is filled on the next pass. */
static void test_dispatch_order(qc_broker_t *broker, qc_store_t *store)
{
    s_hello(broker, "A", "a", S_INSTANCE_A, 1, NULL, NULL);
    s_hello(broker, "B", "b", S_INSTANCE_B, 2, NULL, NULL);
    CHECK(qc_dispatch_size(broker->dispatch) == 2);
    cJSON *welcome = s_sent(broker, "B", QC_B_WELCOME);
    CHECK(welcome && strcmp(qc_json_string(welcome, "worker_id"), "b") == 0);
    cJSON_Delete(welcome);
    qc_outbox_purge(broker->outbox);

    /* Two jobs, two idle workers: one each, not both to the first. */
    s_enqueue(broker, "j1");
    s_enqueue(broker, "j2");
    qc_outbox_purge(broker->outbox);
    s_pass(broker);
    CHECK(s_jobs_for(broker, "A") == 1 && s_jobs_for(broker, "B") == 1);
    char on_a[64], on_b[64], state[32];
    s_job_for(broker, "A", on_a, sizeof on_a);
    s_job_for(broker, "B", on_b, sizeof on_b);
    CHECK(strcmp(on_a, on_b) != 0);
    /* The claims are in the store, each for the instance that got its JOB. */
    qc_running_t running;
    CHECK(qc_store_job_running(store, on_a, &running) == 0 && running.attempt == 1);
    CHECK(strcmp(running.worker_token, S_INSTANCE_A) == 0);
    CHECK(qc_store_job_running(store, on_b, &running) == 0);
    CHECK(strcmp(running.worker_token, S_INSTANCE_B) == 0);
    qc_outbox_purge(broker->outbox);
    CHECK(qc_worker_free_slots(s_worker(broker, "A")) == 0);
    CHECK(qc_worker_free_slots(s_worker(broker, "B")) == 1);

    /* Three more: only B has a free slot, it gets one; the rest wait. */
    s_enqueue(broker, "j3");
    s_enqueue(broker, "j4");
    s_enqueue(broker, "j5");
    qc_outbox_purge(broker->outbox);
    s_pass(broker);
    CHECK(s_jobs_for(broker, "A") == 0 && s_jobs_for(broker, "B") == 1);
    char third[64];
    s_job_for(broker, "B", third, sizeof third);
    CHECK(strcmp(third, "j3") == 0); /* FIFO within a priority */
    qc_outbox_purge(broker->outbox);
    CHECK(strcmp(s_state(broker, "j4", state, sizeof state), "pending") == 0);

    /* A finishes: its slot is filled with the next job (B is full). */
    s_result(broker, "A", on_a, 1);
    cJSON *ack = s_sent(broker, "A", QC_B_ACK);
    CHECK(ack && strcmp(qc_json_string(ack, "id"), on_a) == 0);
    cJSON_Delete(ack);
    CHECK(strcmp(s_state(broker, on_a, state, sizeof state), "completed") == 0);
    qc_outbox_purge(broker->outbox);
    s_pass(broker);
    char next[64];
    s_job_for(broker, "A", next, sizeof next);
    CHECK(strcmp(next, "j4") == 0 && s_jobs_for(broker, "B") == 0);
    qc_outbox_purge(broker->outbox);

    /* Both finish one: B was given a job less recently than A, so it gets j5. */
    s_result(broker, "A", "j4", 1);
    s_result(broker, "B", third, 1);
    qc_outbox_purge(broker->outbox);
    s_pass(broker);
    CHECK(s_jobs_for(broker, "A") == 0 && s_jobs_for(broker, "B") == 1);
    qc_outbox_purge(broker->outbox);
}

/* HELLO adoption: the same worker process (instance) on a new connection
 * keeps its jobs, running and finished; another instance under the same
 * name gets name.2 and adopts nothing; the run it lists is cancelled and
 * holds its slot (draining) until its RESULT. */
static void test_hello_adoption_and_draining(qc_broker_t *broker, qc_store_t *store)
{
    s_hello(broker, "c1", "w", S_INSTANCE_A, 2, NULL, NULL);
    s_enqueue(broker, "run");
    s_enqueue(broker, "done");
    s_pass(broker);
    CHECK(s_jobs_for(broker, "c1") == 2);
    qc_outbox_purge(broker->outbox);
    s_started(broker, "c1", "run", 1);
    s_started(broker, "c1", "done", 1);

    /* The worker reconnects (new connection, same instance): "run" still
     * runs, "done" finished and its result is on the way. */
    s_hello(broker, "c2", "w", S_INSTANCE_A, 2, "{\"id\":\"run\",\"attempt\":1}",
            "{\"id\":\"done\",\"attempt\":1}");
    CHECK(qc_dispatch_size(broker->dispatch) == 1 && s_worker(broker, "c1") == NULL);
    qc_worker_t *w = s_worker(broker, "c2");
    CHECK(w && strcmp(w->worker_id, "w") == 0 && w->held_count == 2);
    CHECK(qc_worker_held(w, "run", 1) && !qc_worker_held(w, "run", 1)->finished);
    CHECK(qc_worker_held(w, "done", 1) && qc_worker_held(w, "done", 1)->finished);
    CHECK(qc_worker_free_slots(w) == 1); /* a finished run takes no slot */
    CHECK(s_sent(broker, "c2", QC_B_CANCEL) == NULL);
    qc_running_t running;
    CHECK(qc_store_job_running(store, "run", &running) == 0 && running.attempt == 1);
    CHECK(qc_store_job_running(store, "done", &running) == 0 && running.attempt == 1);
    qc_outbox_purge(broker->outbox);
    /* The finished run's RESULT is recorded (kept, not lost). */
    s_result(broker, "c2", "done", 1);
    char state[32];
    CHECK(strcmp(s_state(broker, "done", state, sizeof state), "completed") == 0);
    cJSON *ack = s_sent(broker, "c2", QC_B_ACK);
    CHECK(ack != NULL);
    cJSON_Delete(ack);
    qc_outbox_purge(broker->outbox);

    /* Another process under the same name, listing "run" as its own: it is
     * registered as w.2, adopts nothing, and is told to kill that run. */
    s_hello(broker, "c3", "w", S_INSTANCE_B, 1, "{\"id\":\"run\",\"attempt\":1}", NULL);
    CHECK(qc_dispatch_size(broker->dispatch) == 2);
    qc_worker_t *other = s_worker(broker, "c3");
    CHECK(other && strcmp(other->worker_id, "w.2") == 0);
    cJSON *welcome = s_sent(broker, "c3", QC_B_WELCOME);
    CHECK(welcome && strcmp(qc_json_string(welcome, "worker_id"), "w.2") == 0);
    cJSON_Delete(welcome);
    cJSON *cancel = s_sent(broker, "c3", QC_B_CANCEL);
    CHECK(cancel && strcmp(qc_json_string(cancel, "id"), "run") == 0);
    cJSON_Delete(cancel);
    CHECK(qc_worker_held(other, "run", 1) && qc_worker_held(other, "run", 1)->draining);
    CHECK(qc_worker_holds(s_worker(broker, "c2"), "run", 1)); /* still the owner's */
    CHECK(qc_store_job_running(store, "run", &running) == 0 && running.attempt == 1);
    qc_outbox_purge(broker->outbox);

    /* Draining: its one slot stays taken until the stale RESULT comes. */
    s_enqueue(broker, "next");
    qc_outbox_purge(broker->outbox);
    CHECK(qc_worker_free_slots(other) == 0);
    s_pass(broker); /* c2 has a free slot: "next" goes there, not to c3 */
    CHECK(s_jobs_for(broker, "c3") == 0 && s_jobs_for(broker, "c2") == 1);
    qc_outbox_purge(broker->outbox);
    s_enqueue(broker, "later");
    qc_outbox_purge(broker->outbox);
    s_pass(broker); /* everyone is full */
    CHECK(s_jobs_for(broker, "c3") == 0 && s_jobs_for(broker, "c2") == 0);
    s_result(broker, "c3", "run", 1); /* stale: acknowledged, not recorded */
    ack = s_sent(broker, "c3", QC_B_ACK);
    CHECK(ack != NULL);
    cJSON_Delete(ack);
    CHECK(qc_store_job_running(store, "run", &running) == 0 && running.attempt == 1);
    CHECK(qc_worker_free_slots(other) == 1);
    qc_outbox_purge(broker->outbox);
    s_pass(broker);
    char given[64];
    s_job_for(broker, "c3", given, sizeof given);
    CHECK(strcmp(given, "later") == 0);
    qc_outbox_purge(broker->outbox);
}

/* A worker silent for the liveness window is lost, by the fake clock: its
 * started job is charged a worker_lost attempt, a job that never started is
 * due again uncharged. A message in time keeps it. */
static void test_lost_worker(qc_broker_t *broker, qc_store_t *store)
{
    CHECK(broker->liveness_ms == QC_LIVENESS_MS);
    s_hello(broker, "c1", "w", S_INSTANCE_A, 2, NULL, NULL);
    s_enqueue(broker, "ran");
    s_enqueue(broker, "queued");
    s_pass(broker);
    CHECK(s_jobs_for(broker, "c1") == 2);
    qc_outbox_purge(broker->outbox);
    s_started(broker, "c1", "ran", 1);

    CHECK(qc_timers_deadline(broker) == s_now.mono_ms + broker->liveness_ms);
    s_advance(broker->liveness_ms - 1);
    s_from_worker(broker, "c1", QC_W_HEARTBEAT, NULL); /* heard just in time */
    s_advance(broker->liveness_ms - 1);
    s_pass(broker);
    CHECK(qc_dispatch_size(broker->dispatch) == 1);
    s_advance(1);
    s_pass(broker);
    CHECK(qc_dispatch_size(broker->dispatch) == 0);
    char state[32];
    CHECK(strcmp(s_state(broker, "ran", state, sizeof state), "failed") == 0);
    CHECK(strcmp(s_state(broker, "queued", state, sizeof state), "pending") == 0);
    cJSON *job = NULL;
    CHECK(qc_store_job_get(store, "ran", 1, &job) == 0);
    cJSON *log0 = cJSON_GetArrayItem(cJSON_GetObjectItem(job, "attempts_log"), 0);
    CHECK(log0 && strcmp(qc_json_string(log0, "outcome"), "worker_lost") == 0);
    CHECK(cJSON_GetObjectItem(job, "attempts")->valueint == 1);
    cJSON_Delete(job);
    CHECK(qc_store_job_get(store, "queued", 0, &job) == 0);
    CHECK(cJSON_GetObjectItem(job, "attempts")->valueint == 0); /* not charged */
    cJSON_Delete(job);
}

/* After a restart, jobs found processing are leased to reconnecting
 * workers for liveness + 2 reconnect gaps: one its worker claims in time is
 * adopted, one nobody claims fails worker_lost when the lease ends. */
static void test_restart_lease(qc_broker_t *broker, qc_store_t *store)
{
    s_hello(broker, "c1", "w1", S_INSTANCE_A, 1, NULL, NULL);
    s_hello(broker, "c2", "w2", S_INSTANCE_B, 1, NULL, NULL);
    s_enqueue(broker, "k1");
    s_enqueue(broker, "k2");
    s_pass(broker);
    char on_c1[64];
    s_job_for(broker, "c1", on_c1, sizeof on_c1);
    const char *on_c2 = strcmp(on_c1, "k1") == 0 ? "k2" : "k1";
    s_started(broker, "c1", on_c1, 1);
    s_started(broker, "c2", on_c2, 1);
    /* The broker "restarts" on the same store: a new one, nothing registered
     * (the old one is left idle; the fixture frees it). */
    broker = qc_broker_new(store, &s_clock);
    CHECK(broker && qc_dispatch_size(broker->dispatch) == 0);
    int64_t lease_ms = broker->liveness_ms + 2 * QC_RECONNECT_MAX_MS;
    CHECK(qc_timers_load_orphans(broker, s_now.mono_ms) == 0);
    CHECK(qc_timers_deadline(broker) == s_now.mono_ms + lease_ms);
    s_advance(lease_ms - 1);
    s_hello(broker, "c1b", "w1", S_INSTANCE_A, 1, NULL, NULL);
    s_pass(broker); /* an empty HELLO adopts nothing: the lease still runs */
    qc_running_t running;
    CHECK(qc_store_job_running(store, on_c1, &running) == 0);
    char listed[96];
    snprintf(listed, sizeof listed, "{\"id\":\"%s\",\"attempt\":1}", on_c1);
    s_hello(broker, "c1b", "w1", S_INSTANCE_A, 1, listed, NULL); /* HELLO again, listing it */
    CHECK(qc_worker_holds(s_worker(broker, "c1b"), on_c1, 1));
    s_advance(1);
    s_pass(broker);
    char state[32];
    CHECK(strcmp(s_state(broker, on_c1, state, sizeof state), "processing") == 0);
    CHECK(strcmp(s_state(broker, on_c2, state, sizeof state), "failed") == 0);
    cJSON *job = NULL;
    CHECK(qc_store_job_get(store, on_c2, 1, &job) == 0);
    cJSON *log0 = cJSON_GetArrayItem(cJSON_GetObjectItem(job, "attempts_log"), 0);
    CHECK(log0 && strcmp(qc_json_string(log0, "outcome"), "worker_lost") == 0);
    cJSON_Delete(job);
    qc_outbox_purge(broker->outbox);
    /* The adopted run's result is recorded. */
    s_result(broker, "c1b", on_c1, 1);
    CHECK(strcmp(s_state(broker, on_c1, state, sizeof state), "completed") == 0);

    qc_broker_destroy(&broker);
}

/* Events (with publishing on): each state change is queued after the
 * commit with the fields the event struct says, and nothing without it. */
static void test_events(qc_broker_t *broker, qc_store_t *store)
{
    s_enqueue(broker, "quiet");
    CHECK(qc_outbox_size(broker->outbox) == 0); /* no events socket: nothing queued */
    broker->publishing = 1;
    s_hello(broker, "c1", "w", S_INSTANCE_A, 1, NULL, NULL);
    cJSON *event = s_published(broker, "worker.joined");
    CHECK(event && strcmp(qc_json_string(event, "worker_id"), "w") == 0);
    cJSON_Delete(event);
    qc_outbox_purge(broker->outbox);

    s_enqueue(broker, "loud");
    event = s_published(broker, "job.pending");
    CHECK(event && strcmp(qc_json_string(event, "id"), "loud") == 0);
    CHECK(strcmp(qc_json_string(event, "command"), "true") == 0);
    int64_t v;
    CHECK(qc_json_int(event, "attempts", &v) == 0 && v == 0);
    CHECK(qc_json_int(event, "max_retries", &v) == 0 && v == broker->config.max_retries);
    CHECK(!cJSON_GetObjectItem(event, "attempt") && !cJSON_GetObjectItem(event, "exit_code"));
    cJSON_Delete(event);
    qc_outbox_purge(broker->outbox);

    s_pass(broker); /* "quiet" goes first (FIFO) */
    event = s_published(broker, "job.processing");
    CHECK(event && strcmp(qc_json_string(event, "id"), "quiet") == 0);
    CHECK(qc_json_int(event, "attempt", &v) == 0 && v == 1);
    CHECK(strcmp(qc_json_string(event, "worker_id"), "w") == 0);
    cJSON_Delete(event);
    qc_outbox_purge(broker->outbox);
    s_result(broker, "c1", "quiet", 1);
    event = s_published(broker, "job.completed");
    CHECK(event && qc_json_int(event, "exit_code", &v) == 0 && v == 0);
    CHECK(!cJSON_GetObjectItem(event, "error"));
    cJSON_Delete(event);
    qc_outbox_purge(broker->outbox);

    /* A pending job canceled: state and error only, no counts. */
    const char *cancel = "{\"op\":\"cancel\",\"id\":\"loud\"}";
    CHECK(qc_store_begin(store) == 0);
    cJSON *reply = qc_ctlcmd_handle(broker, cancel, strlen(cancel), 1, NULL);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(reply, "ok")));
    cJSON_Delete(reply);
    CHECK(qc_store_commit(store) == 0);
    event = s_published(broker, "job.canceled");
    CHECK(event && strcmp(qc_json_string(event, "error"), "canceled") == 0);
    CHECK(!cJSON_GetObjectItem(event, "attempts") && !cJSON_GetObjectItem(event, "max_retries"));
    cJSON_Delete(event);
}

/* Runs a test on a fresh fixture. */
static void s_run(void (*test)(qc_broker_t *broker, qc_store_t *store))
{
    s_fixture_t f;
    s_setup(&f);
    test(f.broker, f.store);
    s_teardown(&f);
}

int main(void)
{
    s_run(test_dispatch_order);
    s_run(test_hello_adoption_and_draining);
    s_run(test_lost_worker);
    s_run(test_restart_lease);
    s_run(test_events);
    printf("test_broker: all passed\n");
    return 0;
}
