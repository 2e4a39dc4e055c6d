/* The broker's shared state, passed to every handler. One thread owns it.
 * Handlers queue what they send in the outbox (outbox.h); only the loop
 * (server.c) sends it. */
#ifndef QC_BROKER_H
#define QC_BROKER_H

#include <czmq.h>
#include <stdint.h>

#include "config.h"
#include "dispatch.h"
#include "keyring.h"
#include "metrics.h"
#include "outbox.h"
#include "store.h"

typedef struct {
    qc_store_t *store;
    qc_dispatch_t *dispatch;
    qc_config_t config;
    zsock_t *client_sock;
    zsock_t *local_sock; /* ipc in the home when client_sock is on the network, or NULL */
    zsock_t *worker_sock;
    zsock_t *events_sock; /* PUB: state changes and live output */
    qc_outbox_t *outbox;  /* queued replies, jobs and events, sent after the commit */
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

/* Error reply object. Caller owns. */
cJSON *qc_broker_error(const char *code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
