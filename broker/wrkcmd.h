/* Workers: the worker protocol's handlers and the claims that hand due jobs
 * to free slots (docs/PROTOCOL.md section 3). Which worker gets a job is
 * the registry's policy (dispatch.h); liveness and leases are timed work
 * (timers.h); how an attempt ends is attempt.h. */
#ifndef QC_WRKCMD_H
#define QC_WRKCMD_H

#include "broker.h"

/* Handles one message from the worker socket (routing frame popped into
 * routing_id; msg is what follows). curve_key: the sender's CURVE public key
 * (Z85) on an authenticated socket, else NULL. Never trusts the peer. */
void qc_wrkcmd_handle(qc_broker_t *broker, zframe_t *routing_id, const char *curve_key,
                      zmsg_t *msg);

/* Hands due jobs to free slots, committing attempts in the open transaction.
 * Where the store can (PostgreSQL), the last claim of the pass goes with the
 * commit instead: then qc_wrkcmd_dispatch_committed hands its jobs out once
 * the commit succeeded (a failed one drops it: qc_wrkcmd_resync). */
void qc_wrkcmd_dispatch(qc_broker_t *broker, int64_t now_wall_ms);
void qc_wrkcmd_dispatch_committed(qc_broker_t *broker);

/* Counts a message from routing_id as a sign of life, nothing more. */
void qc_wrkcmd_touch(qc_broker_t *broker, zframe_t *routing_id);

/* Sends HEARTBEAT to every worker. */
void qc_wrkcmd_heartbeat(qc_broker_t *broker);

/* A revoked key: every worker registered with it is told DENIED and
 * dropped at once, its jobs failed as with a lost worker. Returns how many. */
int qc_wrkcmd_drop_key(qc_broker_t *broker, const char *curve_key);

/* Sends STOP to one worker (by worker_id) or all (NULL). Returns how many. */
int qc_wrkcmd_stop(qc_broker_t *broker, const char *worker_id);

/* Asks the worker holding id (processing, marked canceled) to kill it. */
void qc_wrkcmd_cancel_running(qc_broker_t *broker, const char *id);

/* After a failed commit: rebuild held jobs from the store and ask workers
 * to say HELLO again, so nothing in memory claims what was rolled back. */
void qc_wrkcmd_resync(qc_broker_t *broker);

#endif
