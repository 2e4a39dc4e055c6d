/* Event bodies for the PUB socket (PROTOCOL.md section 4). */
#ifndef QC_EVENTS_H
#define QC_EVENTS_H

#include "broker.h"

/* A job changed state. command may be NULL (not known at that point),
 * attempt 0 and exit_code -1 when not applicable, error/worker_id may be NULL. */
void qc_events_job(qc_broker_t *broker, const char *id, qc_state_t state, const char *command,
                   int attempts, int max_retries, int priority, int attempt, int exit_code,
                   const char *error, const char *worker_id);

/* A worker joined, left or was lost (what = "joined" | "left" | "lost"). */
void qc_events_worker(qc_broker_t *broker, const char *what, const qc_worker_t *worker);

#endif
