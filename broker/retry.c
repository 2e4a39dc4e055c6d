#include "retry.h"
#include "queuectl/parse.h"

#include <stdio.h>

int64_t qc_retry_backoff_s(const qc_config_t *config, int attempt)
{
    int64_t delay = 1;
    for (int i = 0; i < attempt; i++) {
        delay *= config->backoff_base;
        if (delay >= config->backoff_max_s)
            return config->backoff_max_s;
    }
    return delay;
}

/* Why the exit policy refuses a retry of this attempt, or NULL if it allows one. */
static const char *s_policy_refuses(const qc_retry_input_t *in)
{
    const char *no = in->no_retry_on_exit ? in->no_retry_on_exit : "";
    const char *only = in->retry_on_exit ? in->retry_on_exit : "";
    if (in->outcome == QC_OUTCOME_TIMED_OUT)
        return qc_exit_list_has(no, "timeout") ? "not retried: no_retry_on_exit names timeout"
                                               : NULL;
    if (in->outcome == QC_OUTCOME_WORKER_LOST)
        return qc_exit_list_has(no, "lost") ? "not retried: no_retry_on_exit names lost" : NULL;
    if (in->outcome != QC_OUTCOME_FAILED || in->exit_code < 0)
        return NULL;
    char code[16];
    snprintf(code, sizeof code, "%d", in->exit_code);
    if (qc_exit_list_has(no, code))
        return "not retried: its exit code is in no_retry_on_exit";
    /* "only" may hold no codes (just words would be refused at enqueue). */
    if (only[0] && !qc_exit_list_has(only, code))
        return "not retried: its exit code is not in retry_on_exit";
    return NULL;
}

void qc_retry_decide(const qc_config_t *config, const qc_retry_input_t *in,
                     qc_retry_decision_t *out)
{
    out->run_at_ms = in->now_ms;
    out->why_dead = NULL;
    if (in->outcome == QC_OUTCOME_SUCCEEDED) {
        out->next_state = QC_STATE_COMPLETED;
    } else if (in->outcome == QC_OUTCOME_CANCELED) {
        out->next_state = QC_STATE_CANCELED;
    } else if (in->outcome == QC_OUTCOME_NOT_STARTED) {
        out->next_state = QC_STATE_PENDING; /* it never ran: due again now, not charged */
    } else if (in->attempts > in->max_retries) {
        out->next_state = QC_STATE_DEAD;
    } else if ((out->why_dead = s_policy_refuses(in)) != NULL) {
        out->next_state = QC_STATE_DEAD;
    } else {
        out->next_state = QC_STATE_FAILED;
        out->run_at_ms = in->now_ms + qc_retry_backoff_s(config, in->attempts) * 1000;
    }
}
