/* Named queues: the queue.* client ops (list, pause, resume, set) and the
 * queue filter of list and status. The queues' settings and counts live in
 * the store; dispatch honours them through qc_store_job_claim_for. */
#ifndef QC_QUEUES_H
#define QC_QUEUES_H

#include "broker.h"

/* {"op":"queue.list"}: every queue with its counts and settings, by name. */
cJSON *qc_queues_list(qc_broker_t *broker, const cJSON *request);
/* {"op":"queue.pause"|"queue.resume","queue":NAME}: the queue afterwards. */
cJSON *qc_queues_pause(qc_broker_t *broker, const cJSON *request);
cJSON *qc_queues_resume(qc_broker_t *broker, const cJSON *request);
/* {"op":"queue.set","queue":NAME,"max_running":N|null}: 0 or null lifts the cap. */
cJSON *qc_queues_set(qc_broker_t *broker, const cJSON *request);

/* The request's "queue" filter: *queue is NULL when absent, else a valid
 * name. Returns NULL, or an error reply (caller owns). */
cJSON *qc_queues_filter(const cJSON *request, const char **queue);

/* status for one queue (counts from the queue's own tally: O(1)). */
cJSON *qc_queues_status(qc_broker_t *broker, const char *queue);

/* list of one queue's jobs, paged like list. */
cJSON *qc_queues_jobs(qc_broker_t *broker, const cJSON *request, const char *queue, int state);

#endif
