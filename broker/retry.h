/* The retry policy, in one place: what follows a failed attempt. */
#ifndef QC_RETRY_H
#define QC_RETRY_H

#include <stdint.h>

#include "config.h"
#include "queuectl/protocol.h"

/* Seconds to wait after failed attempt k (k >= 1): min(base^k, max). */
int64_t qc_retry_backoff_s(const qc_config_t *config, int attempt);

/* An attempt that just ended, and the job's policy. */
typedef struct {
    qc_outcome_t outcome;
    int exit_code; /* -1 if the shell did not exit normally */
    int attempts;  /* counted attempts, this one included */
    int max_retries;
    const char *retry_on_exit;    /* canonical list: only these exit codes retry; "" or NULL: any */
    const char *no_retry_on_exit; /* these exit codes, "timeout", "lost": straight to dead */
    int64_t now_ms;
} qc_retry_input_t;

typedef struct {
    qc_state_t next_state; /* completed, failed, dead, canceled, or pending for a run
                              that never started */
    int64_t run_at_ms;     /* for failed: when the retry is due */
    const char *why_dead;  /* dead by the exit policy rather than by max_retries: a
                              phrase for last_error ("not retried: ..."), else NULL */
} qc_retry_decision_t;

/* Applies backoff, max_retries and the exit-code policy. An exit-code list
 * only governs attempts that ended with an exit code (outcome failed,
 * exit_code >= 0); timeouts and lost workers retry unless no_retry_on_exit
 * names "timeout" / "lost"; signals and spawn failures always may. */
void qc_retry_decide(const qc_config_t *config, const qc_retry_input_t *in,
                     qc_retry_decision_t *out);

#endif
