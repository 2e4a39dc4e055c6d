/* queuectl wire protocol: constants shared by broker, worker and clients.
 * The normative description is docs/PROTOCOL.md; keep the two in step. */
#ifndef QC_PROTOCOL_H
#define QC_PROTOCOL_H

#include <czmq.h>

#if CZMQ_VERSION < 40200
#error "queuectl needs czmq 4.2 or newer"
#endif

/* Worker protocol (DEALER <-> ROUTER): every message is
 *   frame 0: QC_WORKER_HEADER     frame 1: command     [frame 2: JSON body] */
#define QC_WORKER_HEADER "QCW1"

/* Worker -> broker */
#define QC_W_HELLO                                                                                 \
    "HELLO" /* body: {worker_id, instance, host, pid, slots, version, running:[], finished:[]} */
#define QC_W_HEARTBEAT "HEARTBEAT" /* no body */
#define QC_W_RESULT "RESULT"       /* body: result object, see PROTOCOL.md */
#define QC_W_BYE "BYE"             /* no body: worker leaves, nothing running */
#define QC_W_OUTPUT "OUTPUT"       /* body: {id, attempt, stream, data}: live output */
#define QC_W_STOPPING "STOPPING"   /* no body: taking no more jobs (finishing) */
#define QC_W_STARTED "STARTED"     /* body: {id, attempt, started_at_ms}: its shell runs */
#define QC_W_ENROLL "ENROLL"       /* body: {invite, secret, name, host}: enroll this key (join) */

/* Broker -> worker */
#define QC_B_WELCOME "WELCOME"     /* body: {worker_id, heartbeat_ms, liveness_ms} */
#define QC_B_JOB "JOB"             /* body: {id, attempt, command, timeout_s} */
#define QC_B_ACK "ACK"             /* body: {id, attempt} */
#define QC_B_CANCEL "CANCEL"       /* body: {id, attempt}: kill that run */
#define QC_B_STOP "STOP"           /* no body: finish running jobs, then BYE */
#define QC_B_RESET "RESET"         /* no body: unknown to the broker, send HELLO */
#define QC_B_HEARTBEAT "HEARTBEAT" /* no body */
#define QC_B_ENROLLED "ENROLLED"   /* body: {name, role, key}: this key is now a worker's */
#define QC_B_DENIED "DENIED"       /* body: {code, message}: this key may not do that */

/* Timing defaults */
#define QC_HEARTBEAT_MS 1000
#define QC_LIVENESS_MS 3000
/* A worker that lost the broker retries with backoff up to this gap; a
 * restarted broker leases running jobs for liveness + 2 gaps so that any
 * worker that survived the outage is back before its jobs are given up. */
#define QC_RECONNECT_MAX_MS 4000
#define QC_CLIENT_TIMEOUT_MS 2000

/* Limits on what a peer may send (documented in PROTOCOL.md). */
#define QC_MAX_MESSAGE_BYTES (16 * 1024 * 1024) /* ZMQ_MAXMSGSIZE per frame */
#define QC_MAX_COMMAND_BYTES (64 * 1024)
#define QC_MAX_REPLY_BYTES (4 * 1024 * 1024) /* larger replies become too_large */
#define QC_MAX_ID_BYTES 128
#define QC_MAX_BATCH_JOBS 10000
#define QC_MAX_JSON_DEPTH 16
#define QC_OUTPUT_TAIL_BYTES (64 * 1024)
#define QC_MAX_PRIORITY 1000
#define QC_MAX_RETRIES_LIMIT 1000
#define QC_MAX_TIMEOUT_S (30 * 24 * 3600)
#define QC_MAX_SLOTS 256
/* Finished-but-unacknowledged results a HELLO may list. */
#define QC_MAX_UNACKED 1024
/* A worker's instance: a random secret of 32 hex digits it makes at start,
 * proving on a reconnect that it is the worker that holds its jobs. */
#define QC_INSTANCE_HEX 32
/* Queues one worker may serve (worker --queues). */
#define QC_MAX_WORKER_QUEUES 32
#define QC_QUEUE_LIST_BYTES (QC_MAX_WORKER_QUEUES * (QC_MAX_ID_BYTES + 1))

/* Error codes in client replies {"ok":false,"error":{"code":..., "message":...}} */
#define QC_E_BAD_REQUEST "bad_request"
#define QC_E_INVALID_JOB "invalid_job"
#define QC_E_DUPLICATE "duplicate"
#define QC_E_NOT_FOUND "not_found"
#define QC_E_CONFLICT "conflict"
#define QC_E_STORAGE "storage"
/* The database connection broke after COMMIT was sent: it may have committed. */
#define QC_E_IN_DOUBT "in_doubt"
#define QC_E_UNKNOWN_OP "unknown_op"
#define QC_E_TOO_LARGE "too_large"
#define QC_E_INVALID_CONFIG "invalid_config"
#define QC_E_FORBIDDEN "forbidden"
/* Enrollment (join) refusals: the secret is wrong or its invite unknown, the
 * invite has expired, it has no uses left, too many wrong secrets lately. */
#define QC_E_INVITE_INVALID "invite_invalid"
#define QC_E_INVITE_EXPIRED "invite_expired"
#define QC_E_INVITE_USED "invite_used"
#define QC_E_RATE_LIMITED "rate_limited"

/* Exit codes of `queuectl join` and `queuectl-worker --join` when the broker
 * refuses the token (3 when no broker answers, as for every command). */
#define QC_EXIT_JOIN_NO_BROKER 3
#define QC_EXIT_JOIN_INVALID 5
#define QC_EXIT_JOIN_EXPIRED 6
#define QC_EXIT_JOIN_USED 7
#define QC_EXIT_JOIN_LIMITED 8

/* Invites: an id of 12 hex digits names one; its secret is 32 random bytes
 * (64 hex digits) of which the broker keeps only the SHA-256. */
#define QC_INVITE_ID_HEX 12
#define QC_INVITE_SECRET_HEX 64

/* Job states as stored and shown. */
typedef enum {
    QC_STATE_PENDING = 0,
    QC_STATE_PROCESSING,
    QC_STATE_COMPLETED,
    QC_STATE_FAILED, /* waiting for its next retry */
    QC_STATE_DEAD,
    QC_STATE_CANCELED,
    QC_STATE_WAITING, /* for its dependencies to complete */
    QC_STATE_COUNT
} qc_state_t;

/* Attempt outcomes. */
typedef enum {
    QC_OUTCOME_SUCCEEDED = 0,
    QC_OUTCOME_FAILED,
    QC_OUTCOME_TIMED_OUT,
    QC_OUTCOME_KILLED,
    QC_OUTCOME_WORKER_LOST,
    QC_OUTCOME_SPAWN_FAILED,
    QC_OUTCOME_CANCELED,
    QC_OUTCOME_NOT_STARTED, /* never ran: not counted toward max_retries */
    QC_OUTCOME_COUNT
} qc_outcome_t;

/* Name tables for logs and JSON. Return NULL / -1 on an unknown value. */
const char *qc_state_name(qc_state_t state);
int qc_state_parse(const char *name); /* -1 if unknown */
const char *qc_outcome_name(qc_outcome_t outcome);
int qc_outcome_parse(const char *name); /* -1 if unknown */

#endif
