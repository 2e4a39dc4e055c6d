#include "retry.h"

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

void qc_retry_decide(const qc_config_t *config, qc_outcome_t outcome, int attempts, int max_retries,
                     int64_t now_ms, qc_state_t *next_state, int64_t *next_run_at_ms)
{
    *next_run_at_ms = now_ms;
    if (outcome == QC_OUTCOME_SUCCEEDED) {
        *next_state = QC_STATE_COMPLETED;
    } else if (outcome == QC_OUTCOME_CANCELED) {
        *next_state = QC_STATE_CANCELED;
    } else if (outcome == QC_OUTCOME_NOT_STARTED) {
        *next_state = QC_STATE_PENDING; /* it never ran: due again now, not charged */
    } else if (attempts > max_retries) {
        *next_state = QC_STATE_DEAD;
    } else {
        *next_state = QC_STATE_FAILED;
        *next_run_at_ms = now_ms + qc_retry_backoff_s(config, attempts) * 1000;
    }
}
