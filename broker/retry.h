/* The retry policy, in one place: what follows a failed attempt. */
#ifndef QC_RETRY_H
#define QC_RETRY_H

#include <stdint.h>

#include "config.h"
#include "queuectl/protocol.h"

/* Seconds to wait after failed attempt k (k >= 1): min(base^k, max). */
int64_t qc_retry_backoff_s(const qc_config_t *config, int attempt);

/* Given a job that has now made `attempts` counted attempts, the last one
 * ending with `outcome`: sets *next_state (completed, failed, dead, canceled,
 * or pending again for a run that never started) and,
 * for failed, *next_run_at_ms. */
void qc_retry_decide(const qc_config_t *config, qc_outcome_t outcome, int attempts, int max_retries,
                     int64_t now_ms, qc_state_t *next_state, int64_t *next_run_at_ms);

#endif
