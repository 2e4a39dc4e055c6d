/* Unit tests: the retry policy and config validation. */
#include "check.h"
#include "config.h"
#include "retry.h"

#include <string.h>

int main(void)
{
    qc_config_t config;
    qc_config_defaults(&config);
    CHECK(qc_retry_backoff_s(&config, 1) == 2);
    CHECK(qc_retry_backoff_s(&config, 2) == 4);
    CHECK(qc_retry_backoff_s(&config, 3) == 8);
    CHECK(qc_retry_backoff_s(&config, 9) == 300); /* 512 capped at backoff_max */
    CHECK(qc_retry_backoff_s(&config, 1000) == 300);
    config.backoff_base = 1;
    CHECK(qc_retry_backoff_s(&config, 5) == 1);
    qc_config_defaults(&config);

    qc_state_t state;
    int64_t run_at;
    qc_retry_decide(&config, QC_OUTCOME_SUCCEEDED, 1, 3, 1000, &state, &run_at);
    CHECK(state == QC_STATE_COMPLETED);
    qc_retry_decide(&config, QC_OUTCOME_FAILED, 1, 3, 1000, &state, &run_at);
    CHECK(state == QC_STATE_FAILED && run_at == 3000);
    qc_retry_decide(&config, QC_OUTCOME_TIMED_OUT, 3, 3, 1000, &state, &run_at);
    CHECK(state == QC_STATE_FAILED && run_at == 9000);
    qc_retry_decide(&config, QC_OUTCOME_WORKER_LOST, 4, 3, 1000, &state, &run_at);
    CHECK(state == QC_STATE_DEAD); /* 1 + max_retries runs at most */
    qc_retry_decide(&config, QC_OUTCOME_FAILED, 1, 0, 1000, &state, &run_at);
    CHECK(state == QC_STATE_DEAD);

    char err[256];
    CHECK(qc_config_set(&config, "max-retries", "7", err, sizeof err) == 0 &&
          config.max_retries == 7);
    CHECK(qc_config_set(&config, "backoff_max", "5m", err, sizeof err) == 0 &&
          config.backoff_max_s == 300);
    CHECK(qc_config_set(&config, "job-timeout", "90", err, sizeof err) == 0 &&
          config.job_timeout_s == 90);
    CHECK(qc_config_set(&config, "max_retries", "-1", err, sizeof err) == -1);
    CHECK(strstr(err, "max_retries") != NULL);
    CHECK(qc_config_set(&config, "backoff-base", "11", err, sizeof err) == -1);
    CHECK(qc_config_set(&config, "job-timeout", "1.5s", err, sizeof err) == -1);
    CHECK(qc_config_set(&config, "nope", "1", err, sizeof err) == -1);
    CHECK(strstr(err, "unknown config key") != NULL);
    CHECK(config.max_retries == 7); /* refused values change nothing */
    CHECK(strcmp(qc_config_key_canonical("backoff-max"), "backoff_max") == 0);
    return 0;
}
