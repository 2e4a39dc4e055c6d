/* The broker's shared state, passed to every handler. One thread owns it.
 * Handlers queue what they send in the outbox (outbox.h); only the loop
 * (server.c) sends it. */
#ifndef QC_BROKER_H
#define QC_BROKER_H

#include <czmq.h>
#include <stdint.h>

#include "config.h"
#include "queuectl/clock.h"
#include "dispatch.h"
#include "metrics.h"
#include "outbox.h"
#include "store.h"

typedef struct {
    qc_store_t *store; /* not owned */
    qc_clock_t clock;  /* every decision's time: qc_broker_wall_ms, qc_broker_mono_ms */
    qc_dispatch_t *dispatch;
    qc_config_t config;
    qc_outbox_t *outbox; /* queued replies, jobs and events, sent after the commit */
    int publishing;      /* events are published (the loop has an events socket, or a test) */
    /* The prefixes the events socket's subscribers hold (events.h): only
     * events someone listens to are built. NULL: everything is wanted. */
    struct _qc_events_subs_t *event_subs;
    int64_t heartbeat_ms;
    int64_t liveness_ms;
    int maybe_due;                  /* a job may be due: try to claim */
    int64_t dispatch_after_mono_ms; /* after a failed commit: no claims before this */
    int64_t storage_backoff_ms;
    int64_t next_due_ms; /* wall clock of the next waiting job, -1 if none */
    /* A claim sent with the commit (wrkcmd.c): the workers it is for, in
     * order, handed their jobs once the commit succeeds. */
    qc_worker_t *claimed_for[QC_DISPATCH_PLAN_MAX];
    int claimed_for_count;
    int64_t claimed_at_ms;
    int claimed_nothing_due; /* a worker with a queue list found nothing before it */
    int64_t schedule_due_ms; /* wall clock of the next schedule tick; -1 none, 0 unknown */
    /* Since when the loop has run without a stall: silence before it is the
     * broker's own fault, not the workers'. */
    int64_t awake_since_mono_ms;
    int64_t started_wall_ms;
    int64_t retention_at_mono_ms; /* next retention sweep */
    int stepped_down;             /* lost the lease: send nothing more, stop serving */
    qc_metrics_t metrics;
    const char *worker_endpoint; /* as bound, reported by ping */
    const char *events_endpoint; /* as bound, or NULL */
    /* Remote access (enroll.h), set by the loop when CURVE is on ("" and
     * NULL otherwise): where keys are written, the client endpoint as bound,
     * the broker's public key, and, not owned (the loop's), the invite book
     * and the keyrings enroll.c reloads after it writes or removes a key. */
    const char *authorized_dir;
    const char *client_endpoint;
    char public_key[41];
    struct _qc_invites_t *invites;
    struct _qc_keyring_t *worker_keys;
    struct _qc_keyring_t *client_keys;
} qc_broker_t;

/* A broker over store (not owned; must outlive it) with an empty worker
 * registry and outbox, the default config, heartbeat and liveness. It has
 * no sockets: the loop (server.c) owns them and flushes the outbox; a unit
 * test drives the handlers and the timed work directly and reads the
 * outbox. clock NULL: the system's. Returns NULL if out of memory. */
qc_broker_t *qc_broker_new(qc_store_t *store, const qc_clock_t *clock);
/* Frees the registry and the outbox (not the store). Accepts NULL; nulls
 * the caller's pointer. */
void qc_broker_destroy(qc_broker_t **self_p);

/* The broker's clock. */
int64_t qc_broker_wall_ms(const qc_broker_t *self);
int64_t qc_broker_mono_ms(const qc_broker_t *self);

/* A reply {"ok":true} for a handler to add to. Caller owns. */
cJSON *qc_broker_ok(void);

/* The storage error reply, with the store's last error. Caller owns. */
cJSON *qc_broker_storage_error(qc_broker_t *broker);

/* Adds "next_cursor" to a paged reply: next_cursor as text (clients keep
 * it whole whatever their number type), or null at the end. Returns reply. */
cJSON *qc_broker_add_cursor(cJSON *reply, int64_t next_cursor);

/* Error reply object. Caller owns. */
cJSON *qc_broker_error(const char *code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
