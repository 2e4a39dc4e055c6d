/* Event bodies for the PUB socket (PROTOCOL.md section 4). */
#ifndef QC_EVENTS_H
#define QC_EVENTS_H

#include "broker.h"

/* A job changed state. Fields left zero are left out of the event. */
typedef struct {
    const char *id;
    qc_state_t state;
    const char *command; /* NULL: not known at that point */
    int with_counts;     /* attempts and max_retries are known (attempts may be 0) */
    int attempts;        /* counted toward max_retries */
    int max_retries;     /* left out if negative (not read) */
    int priority;        /* always sent */
    int attempt;         /* the run; 0 for none */
    int has_exit_code;
    int exit_code;         /* sent if has_exit_code and >= 0 */
    const char *error;     /* NULL or "" for none */
    const char *worker_id; /* NULL for none */
} qc_job_event_t;

void qc_events_job(qc_broker_t *broker, const qc_job_event_t *event);

/* A job was stored in state (pending or waiting) from spec: its event,
 * with the config's max_retries where spec leaves it unset. */
void qc_events_enqueued(qc_broker_t *broker, const char *id, qc_state_t state,
                        const qc_job_spec_t *spec);

/* A worker joined, left or was lost (what = "joined" | "left" | "lost"). */
void qc_events_worker(qc_broker_t *broker, const char *what, const qc_worker_t *worker);

#endif
