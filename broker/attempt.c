#include "attempt.h"
#include "deps.h"
#include "events.h"
#include "retry.h"
#include "queuectl/log.h"

#include <stdio.h>
#include <string.h>

/* Records the end of an attempt and applies the retry policy. */
int qc_attempt_finish(qc_broker_t *broker, const qc_running_t *running, const qc_result_t *reported)
{
    int64_t now_ms = qc_broker_wall_ms(broker);
    /* A job canceled while it ran ends canceled, however its run ended
     * (unless it managed to succeed first). */
    qc_outcome_t outcome = running->cancel_requested && reported->outcome != QC_OUTCOME_SUCCEEDED
                               ? QC_OUTCOME_CANCELED
                               : reported->outcome;
    qc_retry_input_t input = {.outcome = outcome,
                              .exit_code = reported->exit_code,
                              .attempts = running->attempts,
                              .max_retries = running->max_retries,
                              .retry_on_exit = running->retry_on_exit,
                              .no_retry_on_exit = running->no_retry_on_exit,
                              .now_ms = now_ms};
    qc_retry_decision_t decision;
    qc_retry_decide(&broker->config, &input, &decision);
    qc_state_t next_state = decision.next_state;
    int64_t run_at_ms = decision.run_at_ms;
    /* Dead by the exit policy: last_error says so (the tails stay the worker's). */
    qc_result_t annotated = *reported;
    const qc_result_t *result = reported;
    if (decision.why_dead) {
        char error[sizeof annotated.error];
        snprintf(error, sizeof error, "%s", reported->error);
        snprintf(annotated.error, sizeof annotated.error, "%.160s; %s",
                 error[0] ? error : qc_outcome_name(outcome), decision.why_dead);
        result = &annotated;
    }
    if (qc_store_job_finish(broker->store, running, result, next_state, run_at_ms, now_ms) != 0)
        return -1;
    if (result->started_at_ms > 0 && result->finished_at_ms >= result->started_at_ms)
        qc_histogram_observe(&broker->metrics.run_time,
                             (double)(result->finished_at_ms - result->started_at_ms));
    qc_events_job(broker, &(qc_job_event_t){.id = result->id,
                                            .state = next_state,
                                            .with_counts = 1,
                                            .attempts = running->attempts,
                                            .max_retries = running->max_retries,
                                            .attempt = running->attempt,
                                            .has_exit_code = 1,
                                            .exit_code = result->exit_code,
                                            .error = result->error,
                                            .worker_id = running->worker_id});
    if ((next_state == QC_STATE_COMPLETED || next_state == QC_STATE_DEAD ||
         next_state == QC_STATE_CANCELED) &&
        qc_deps_settled(broker, result->id) != 0)
        return -1;
    const char *name = qc_outcome_name(result->outcome);
    if (next_state == QC_STATE_COMPLETED)
        qc_info("job %s: attempt %d succeeded", result->id, running->attempt);
    else if (next_state == QC_STATE_FAILED)
        qc_info("job %s: attempt %d %s (%s), retry %d/%d in %llds", result->id, running->attempt,
                name, result->error[0] ? result->error : "no detail", running->attempts,
                running->max_retries, (long long)(run_at_ms - now_ms) / 1000);
    else if (next_state == QC_STATE_PENDING)
        qc_info("job %s: attempt %d never started (%s): due again, not counted", result->id,
                running->attempt, result->error[0] ? result->error : "no detail");
    else if (next_state == QC_STATE_CANCELED)
        qc_info("job %s: attempt %d %s, job canceled", result->id, running->attempt, name);
    else
        qc_warn("job %s: attempt %d %s (%s), moved to the dead-letter queue", result->id,
                running->attempt, name, result->error[0] ? result->error : "no detail");
    broker->maybe_due = 1;
    return 0;
}

/* Fails a held attempt whose worker is gone (or whose lease ran out).
 * started: 1 if a shell ran, 0 if it never did (not charged), -1 to take
 * the store's word (after a restart, STARTED is what was committed). */
void qc_attempt_lose(qc_broker_t *broker, const char *id, int attempt, int started, const char *why)
{
    qc_running_t running;
    if (qc_store_job_running(broker->store, id, &running) != 0 || running.attempt != attempt)
        return; /* already finished: nothing to lose */
    if (started < 0)
        started = running.started;
    qc_result_t result;
    qc_result_init(&result);
    snprintf(result.id, sizeof result.id, "%s", id);
    result.attempt = attempt;
    result.outcome = started ? QC_OUTCOME_WORKER_LOST : QC_OUTCOME_NOT_STARTED;
    snprintf(result.error, sizeof result.error, "%s%s", why,
             started ? "" : " (it never started: not counted)");
    qc_attempt_finish(broker, &running, &result);
}

/* The event a worker's departure is published as. */
static const char *s_why_event(const char *why)
{
    return strstr(why, "left") ? "left" : "lost";
}

void qc_attempt_lose_worker(qc_broker_t *broker, qc_worker_t **worker_p, const char *why)
{
    qc_worker_t *worker = *worker_p;
    qc_events_worker(broker, s_why_event(why), worker);
    for (int i = 0; i < worker->held_count; i++) {
        const qc_held_t *held = &worker->held[i];
        if (!held->draining) /* a finished run whose result never came did run */
            qc_attempt_lose(broker, held->id, held->attempt, held->started || held->finished, why);
    }
    worker->held_count = 0;
    qc_dispatch_remove(broker->dispatch, worker_p);
}
