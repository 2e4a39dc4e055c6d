/* How an attempt ends: its result recorded through the retry policy, or
 * its loss when its worker is gone or its lease ran out. Used by the
 * worker protocol's handlers (wrkcmd.c) and the timed work (timers.c). */
#ifndef QC_ATTEMPT_H
#define QC_ATTEMPT_H

#include "broker.h"

/* Records the end of an attempt and applies the retry policy; publishes
 * the job's new state. Returns 0, or -1 if the store refused. */
int qc_attempt_finish(qc_broker_t *broker, const qc_running_t *running,
                      const qc_result_t *reported);

/* Fails a held attempt whose worker is gone (or whose lease ran out).
 * started: 1 if a shell ran, 0 if it never did (not charged), -1 to take
 * the store's word (after a restart, STARTED is what was committed). */
void qc_attempt_lose(qc_broker_t *broker, const char *id, int attempt, int started,
                     const char *why);

/* A worker is gone (why says how: "... left ..." or lost): publishes it,
 * fails every attempt it held but those draining, and removes it from the
 * registry (nulls *worker_p). */
void qc_attempt_lose_worker(qc_broker_t *broker, qc_worker_t **worker_p, const char *why);

#endif
