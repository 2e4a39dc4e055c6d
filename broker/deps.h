/* Dependencies between jobs (enqueue "after"): what a job's end or revival
 * does to the jobs waiting for it, published as events. The store keeps the
 * graph (indexed both ways); this module is the broker's side of it. */
#ifndef QC_DEPS_H
#define QC_DEPS_H

#include "broker.h"

/* Job id just ended: call with every completed, dead or canceled end.
 * Releases or cancels its dependents (transitively for cancels). 0 or -1
 * (a storage error: the caller's pass must fail). */
int qc_deps_settled(qc_broker_t *broker, const char *id);

/* Job id was revived from the DLQ: the dependents its end canceled wait again. 0 or -1. */
int qc_deps_revived(qc_broker_t *broker, const char *id);

/* Adds "after" and "dependents" ([{id, state}], at most 100 dependents,
 * "more_dependents") to a job object as get returns it. 0 or -1. */
int qc_deps_annotate(qc_broker_t *broker, cJSON *job);

#endif
