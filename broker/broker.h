/* The broker's shared state, passed to every handler. One thread owns it. */
#ifndef QC_BROKER_H
#define QC_BROKER_H

#include <czmq.h>
#include <stdint.h>

#include "config.h"
#include "dispatch.h"
#include "keyring.h"
#include "metrics.h"
#include "store.h"

/* What a queued outgoing message becomes if the pass's commit fails. */
typedef enum {
    QC_OUT_ALWAYS,       /* send anyway (WELCOME, RESET, STOP, HEARTBEAT) */
    QC_OUT_CLIENT_REPLY, /* any client reply: replaced by a storage error */
    QC_OUT_AFTER_COMMIT  /* dropped (JOB, ACK): nothing it announces was stored */
} qc_out_kind_t;

typedef struct {
    qc_store_t *store;
    qc_dispatch_t *dispatch;
    qc_config_t config;
    zsock_t *client_sock;
    zsock_t *local_sock; /* ipc in the home when client_sock is on the network, or NULL */
    zsock_t *worker_sock;
    zsock_t *events_sock; /* PUB: state changes and live output */
    zlistx_t *outbox;     /* queued replies and jobs, sent after the commit */
    int64_t heartbeat_ms;
    int64_t liveness_ms;
    int maybe_due;                  /* a job may be due: try to claim */
    int64_t dispatch_after_mono_ms; /* after a failed commit: no claims before this */
    int64_t storage_backoff_ms;
    int64_t next_due_ms; /* wall clock of the next waiting job, -1 if none */
    /* Since when the loop has run without a stall: silence before it is the
     * broker's own fault, not the workers'. */
    int64_t awake_since_mono_ms;
    int64_t started_wall_ms;
    int64_t retention_at_mono_ms; /* next retention sweep */
    int stepped_down;             /* lost the lease: send nothing more, stop serving */
    qc_metrics_t metrics;
    const char *worker_endpoint; /* as bound, reported by ping */
    const char *events_endpoint; /* as bound, or NULL */
    /* Keys allowed per role on CURVE sockets; NULL where a socket has no CURVE. */
    qc_keyring_t *worker_keys;
    qc_keyring_t *client_keys;
    /* Remote access (enroll.h): where keys are written, the client endpoint
     * as bound, the broker's public key ("" without CURVE), the invite book
     * (NULL without CURVE). */
    const char *authorized_dir;
    const char *client_endpoint;
    char public_key[41];
    struct _qc_invites_t *invites;
} qc_broker_t;

/* Queues a reply to the client whose envelope (routing id + empty frame) is
 * given. Takes ownership of envelope and reply. If the pass's commit fails,
 * every reply becomes a storage error, reads and refusals included: what they
 * said was read inside the transaction that was rolled back. */
void qc_broker_reply(qc_broker_t *broker, zmsg_t **envelope_p, cJSON **reply_p);

/* Queues a worker-protocol message (body may be NULL; not taken). */
void qc_broker_send_worker(qc_broker_t *broker, zframe_t *routing_id, const char *command,
                           const cJSON *body, qc_out_kind_t kind);

/* Queues an event (PROTOCOL.md 4) to publish after the commit. body is not taken. */
void qc_broker_publish(qc_broker_t *broker, const char *topic, const cJSON *body);

/* Error reply object. Caller owns. */
cJSON *qc_broker_error(const char *code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
