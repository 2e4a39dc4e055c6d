/* The enqueue op: a job or an atomic batch of jobs, each validated, checked
 * for a held unique key, and stored (PROTOCOL.md 2.4). */
#ifndef QC_ENQUEUE_H
#define QC_ENQUEUE_H

#include "broker.h"

/* Handles {"op":"enqueue","job":{...}} or {"jobs":[...]}: returns the reply
 * (caller owns; never NULL). An error reply means the caller's savepoint
 * must undo what was inserted. */
cJSON *qc_enqueue_handle(qc_broker_t *broker, const cJSON *request);

#endif
