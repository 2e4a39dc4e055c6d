#include "timers.h"
#include "attempt.h"
#include "schedule.h"
#include "queuectl/log.h"

typedef struct {
    qc_dispatch_t *dispatch;
    int64_t deadline_mono_ms;
    int count;
} s_orphan_ctx_t;

static void s_add_orphan(void *arg, int64_t seq, const char *id, int attempt, const char *worker_id)
{
    s_orphan_ctx_t *ctx = arg;
    (void)worker_id;
    qc_dispatch_orphan_add(ctx->dispatch, seq, id, attempt, ctx->deadline_mono_ms);
    ctx->count++;
}

int qc_timers_load_orphans(qc_broker_t *broker, int64_t now_mono_ms)
{
    qc_dispatch_orphans_clear(broker->dispatch);
    /* Long enough for every worker that survived the outage to be back: it
     * notices the silence within a liveness window and retries at least
     * every QC_RECONNECT_MAX_MS; a second gap is the margin. */
    int64_t lease_ms = broker->liveness_ms + 2 * QC_RECONNECT_MAX_MS;
    s_orphan_ctx_t ctx = {broker->dispatch, now_mono_ms + lease_ms, 0};
    if (qc_store_each_running(broker->store, s_add_orphan, &ctx) != 0)
        return -1;
    if (ctx.count)
        qc_info("%d job%s found processing: leased for %lld ms to reconnecting workers", ctx.count,
                ctx.count == 1 ? "" : "s", (long long)lease_ms);
    return 0;
}

/* When the worker was last heard, or when the broker could last hear it
 * again after a stall of its own, whichever is later. */
static int64_t s_heard_since(const qc_broker_t *broker, const qc_worker_t *worker)
{
    return worker->last_seen_mono_ms > broker->awake_since_mono_ms ? worker->last_seen_mono_ms
                                                                   : broker->awake_since_mono_ms;
}

int64_t qc_timers_sweep(qc_broker_t *broker, int64_t now_mono_ms)
{
    /* Collect first: removing while iterating the registry is not allowed. */
    qc_worker_t *lost[64];
    int lost_count;
    do {
        lost_count = 0;
        for (qc_worker_t *w = qc_dispatch_first(broker->dispatch); w && lost_count < 64;
             w = qc_dispatch_next(broker->dispatch))
            if (now_mono_ms - s_heard_since(broker, w) >= broker->liveness_ms)
                lost[lost_count++] = w;
        for (int i = 0; i < lost_count; i++) {
            qc_warn("worker %s lost: silent for %lld ms, %d job%s to retry", lost[i]->worker_id,
                    (long long)(now_mono_ms - lost[i]->last_seen_mono_ms), lost[i]->held_count,
                    lost[i]->held_count == 1 ? "" : "s");
            qc_attempt_lose_worker(broker, &lost[i], "worker lost (no heartbeat)");
        }
    } while (lost_count == 64);

    qc_held_t orphan;
    while (qc_dispatch_orphan_expired(broker->dispatch, now_mono_ms, &orphan) == 0) {
        qc_warn("job %s: lease of attempt %d expired after restart", orphan.id, orphan.attempt);
        qc_attempt_lose(broker, orphan.id, orphan.attempt, -1,
                        "lease expired: no worker reclaimed the job");
    }

    return qc_timers_deadline(broker);
}

int64_t qc_timers_deadline(qc_broker_t *broker)
{
    int64_t next = qc_dispatch_orphan_deadline(broker->dispatch);
    for (qc_worker_t *w = qc_dispatch_first(broker->dispatch); w;
         w = qc_dispatch_next(broker->dispatch)) {
        int64_t deadline = s_heard_since(broker, w) + broker->liveness_ms;
        if (next < 0 || deadline < next)
            next = deadline;
    }
    return next;
}

void qc_timers_retention(qc_broker_t *broker, int64_t now_mono_ms)
{
    if (broker->config.retention_s <= 0 || now_mono_ms < broker->retention_at_mono_ms)
        return;
    /* At most a batch per state per minute: retention never stalls the loop. */
    int64_t before = qc_broker_wall_ms(broker) - (int64_t)broker->config.retention_s * 1000;
    int64_t gone = qc_store_purge(broker->store, QC_STATE_COMPLETED, before, 5000);
    int64_t canceled = qc_store_purge(broker->store, QC_STATE_CANCELED, before, 5000);
    if (gone > 0 || canceled > 0)
        qc_info("retention: deleted %lld finished job(s) older than %ds",
                (long long)((gone > 0 ? gone : 0) + (canceled > 0 ? canceled : 0)),
                broker->config.retention_s);
    broker->retention_at_mono_ms = now_mono_ms + 60000;
}

void qc_timers_pass(qc_broker_t *broker, int64_t *sweep_at_mono)
{
    int64_t now_mono = qc_broker_mono_ms(broker);
    if (*sweep_at_mono >= 0 && now_mono >= *sweep_at_mono)
        *sweep_at_mono = qc_timers_sweep(broker, now_mono);
    qc_timers_retention(broker, now_mono);
    if (qc_schedule_fire_due(broker, qc_broker_wall_ms(broker)) != 0)
        qc_warn("schedules: %s", qc_store_errmsg(broker->store)); /* the commit decides */
}
