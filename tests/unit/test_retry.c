/* Unit tests: the retry policy and config validation. */
#include "check.h"
#include "config.h"
#include "retry.h"

#include <string.h>

int main(void)
{
    char err_l[256];
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
    const char *why;
#define DECIDE(outcome_, code_, attempts_, max_, only_, no_)                                       \
    do {                                                                                           \
        qc_retry_input_t in_ = {.outcome = (outcome_),                                             \
                                .exit_code = (code_),                                              \
                                .attempts = (attempts_),                                           \
                                .max_retries = (max_),                                             \
                                .retry_on_exit = (only_),                                          \
                                .no_retry_on_exit = (no_),                                         \
                                .now_ms = 1000};                                                   \
        qc_retry_decision_t out_;                                                                  \
        qc_retry_decide(&config, &in_, &out_);                                                     \
        state = out_.next_state;                                                                   \
        run_at = out_.run_at_ms;                                                                   \
        why = out_.why_dead;                                                                       \
    } while (0)
    DECIDE(QC_OUTCOME_SUCCEEDED, 0, 1, 3, NULL, NULL);
    CHECK(state == QC_STATE_COMPLETED);
    DECIDE(QC_OUTCOME_FAILED, 1, 1, 3, NULL, NULL);
    CHECK(state == QC_STATE_FAILED && run_at == 3000 && !why);
    DECIDE(QC_OUTCOME_TIMED_OUT, -1, 3, 3, NULL, NULL);
    CHECK(state == QC_STATE_FAILED && run_at == 9000);
    DECIDE(QC_OUTCOME_WORKER_LOST, -1, 4, 3, NULL, NULL);
    CHECK(state == QC_STATE_DEAD && !why); /* 1 + max_retries runs at most */
    DECIDE(QC_OUTCOME_FAILED, 1, 1, 0, NULL, NULL);
    CHECK(state == QC_STATE_DEAD);

    /* The exit-code policy. */
    DECIDE(QC_OUTCOME_FAILED, 75, 1, 3, "75,111", "");
    CHECK(state == QC_STATE_FAILED);
    DECIDE(QC_OUTCOME_FAILED, 7, 1, 3, "75,111", "");
    CHECK(state == QC_STATE_DEAD && why && strstr(why, "not in retry_on_exit"));
    DECIDE(QC_OUTCOME_FAILED, 2, 1, 3, "", "2,64");
    CHECK(state == QC_STATE_DEAD && strstr(why, "in no_retry_on_exit"));
    DECIDE(QC_OUTCOME_FAILED, 3, 1, 3, "", "2,64");
    CHECK(state == QC_STATE_FAILED);
    DECIDE(QC_OUTCOME_FAILED, 64, 1, 3, "64", "64"); /* both: the refusal wins */
    CHECK(state == QC_STATE_DEAD);
    /* Timeouts, lost workers, signals: retried unless named. */
    DECIDE(QC_OUTCOME_TIMED_OUT, -1, 1, 3, "75", "2");
    CHECK(state == QC_STATE_FAILED);
    DECIDE(QC_OUTCOME_TIMED_OUT, -1, 1, 3, "", "timeout");
    CHECK(state == QC_STATE_DEAD && strstr(why, "timeout"));
    DECIDE(QC_OUTCOME_WORKER_LOST, -1, 1, 3, "75", "timeout");
    CHECK(state == QC_STATE_FAILED);
    DECIDE(QC_OUTCOME_WORKER_LOST, -1, 1, 3, "", "lost");
    CHECK(state == QC_STATE_DEAD);
    DECIDE(QC_OUTCOME_FAILED, -1, 1, 3, "75", ""); /* killed by a signal: no exit code */
    CHECK(state == QC_STATE_FAILED);
    DECIDE(QC_OUTCOME_SPAWN_FAILED, -1, 1, 3, "75", "");
    CHECK(state == QC_STATE_FAILED);
    DECIDE(QC_OUTCOME_NOT_STARTED, -1, 1, 3, "75", "lost,timeout");
    CHECK(state == QC_STATE_PENDING);
    DECIDE(QC_OUTCOME_CANCELED, -1, 1, 3, "75", "");
    CHECK(state == QC_STATE_CANCELED);

    /* Exit lists: canonical form, words where allowed, bad input named. */
    char list[QC_EXIT_LIST_BYTES];
    CHECK(qc_parse_exit_list("111,75,75", 0, list, sizeof list, err_l, sizeof err_l) == 0 &&
          strcmp(list, "75,111") == 0);
    CHECK(qc_parse_exit_list("lost,2,timeout", 1, list, sizeof list, err_l, sizeof err_l) == 0 &&
          strcmp(list, "2,timeout,lost") == 0);
    CHECK(qc_parse_exit_list("none", 1, list, sizeof list, err_l, sizeof err_l) == 0 && !list[0]);
    CHECK(qc_parse_exit_list("timeout", 0, list, sizeof list, err_l, sizeof err_l) == -1);
    CHECK(qc_parse_exit_list("0", 0, list, sizeof list, err_l, sizeof err_l) == -1);
    CHECK(qc_parse_exit_list("256", 0, list, sizeof list, err_l, sizeof err_l) == -1);
    CHECK(qc_parse_exit_list("1,,2", 0, list, sizeof list, err_l, sizeof err_l) == -1);
    CHECK(qc_parse_exit_list("1,", 0, list, sizeof list, err_l, sizeof err_l) == -1);
    CHECK(strstr(err_l, "comma"));
    CHECK(qc_exit_list_has("2,64,timeout", "64") && !qc_exit_list_has("2,64", "6"));
    CHECK(qc_config_set(&config, "no-retry-on-exit", "64,2,timeout", err_l, sizeof err_l) == 0 &&
          strcmp(config.no_retry_on_exit, "2,64,timeout") == 0);
    CHECK(qc_config_set(&config, "retry-on-exit", "lost", err_l, sizeof err_l) == -1);
    CHECK(qc_config_set(&config, "no-retry-on-exit", "none", err_l, sizeof err_l) == 0 &&
          !config.no_retry_on_exit[0]);

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
