/* Recurring jobs: the schedule.* client ops (add, list, get, remove, pause,
 * resume) and the firing of due ticks from the broker's pass. Each tick
 * enqueues one job whose id is NAME@YYYYMMDDTHHMMZ (the tick in UTC), so a
 * tick fired twice (a pass rolled back, a restart) is one job. */
#ifndef QC_SCHEDULE_H
#define QC_SCHEDULE_H

#include "broker.h"

cJSON *qc_schedule_add(qc_broker_t *broker, const cJSON *request);
cJSON *qc_schedule_list(qc_broker_t *broker, const cJSON *request);
cJSON *qc_schedule_get(qc_broker_t *broker, const cJSON *request);
cJSON *qc_schedule_remove(qc_broker_t *broker, const cJSON *request);
cJSON *qc_schedule_pause(qc_broker_t *broker, const cJSON *request);
cJSON *qc_schedule_resume(qc_broker_t *broker, const cJSON *request);

/* In the pass's transaction: enqueues the job of every schedule whose next
 * tick has come. A schedule that missed several ticks (no broker ran) gets
 * one catch-up job, for the latest of them. Cheap when nothing is due
 * (broker->schedule_due_ms). Returns 0 or -1 (storage error). */
int qc_schedule_fire_due(qc_broker_t *broker, int64_t now_wall_ms);

/* Forget the cached next due time (after a rolled-back pass). */
void qc_schedule_forget(qc_broker_t *broker);

#endif
