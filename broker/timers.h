/* Timed work of the broker, in one place: workers silent for the liveness
 * window are lost, leases of jobs found running at start-up expire,
 * finished jobs past the retention are deleted, and due schedule ticks
 * fire. The loop (server.c) calls qc_timers_pass in every pass; they act
 * on the registry and the store by the broker's clock. */
#ifndef QC_TIMERS_H
#define QC_TIMERS_H

#include "broker.h"

/* Start-up (and after a failed commit): every job found processing gets a
 * lease of one liveness window plus two of a worker's longest reconnect
 * gaps. Returns 0, or -1 if the store could not be read. */
int qc_timers_load_orphans(qc_broker_t *broker, int64_t now_mono_ms);

/* Declares silent workers lost and expires orphan leases. Returns the
 * monotonic time of the next deadline to check, or -1. */
int64_t qc_timers_sweep(qc_broker_t *broker, int64_t now_mono_ms);

/* The next sweep deadline without acting (monotonic ms), or -1. */
int64_t qc_timers_deadline(qc_broker_t *broker);

/* Deletes completed and canceled jobs older than the retention, a batch
 * per state at most once a minute (a no-op before that, or without a
 * retention). */
void qc_timers_retention(qc_broker_t *broker, int64_t now_mono_ms);

/* The pass's timed work, in order: the sweep (once *sweep_at_mono, the
 * monotonic time it is due, has come; updated), retention, and the due
 * ticks of recurring jobs (schedule.c). Writes in the open transaction. */
void qc_timers_pass(qc_broker_t *broker, int64_t *sweep_at_mono);

#endif
