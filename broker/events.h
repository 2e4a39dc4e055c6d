/* Event bodies for the events socket (PROTOCOL.md section 4), and who
 * listens: the socket is an XPUB, so the broker sees every subscription and
 * builds no event that no subscriber's prefix matches (most of the time,
 * nobody listens, and an event cost as much as the insert it announced). */
#ifndef QC_EVENTS_H
#define QC_EVENTS_H

#include "broker.h"

/* The topic prefixes subscribers hold, counted. */
typedef struct _qc_events_subs_t qc_events_subs_t;

/* An empty set. NULL if out of memory. */
qc_events_subs_t *qc_events_subs_new(void);
/* Accepts NULL; nulls the caller's pointer. */
void qc_events_subs_destroy(qc_events_subs_t **self_p);
/* Applies one message read from the XPUB socket: byte 1 subscribes, byte 0
 * unsubscribes, the rest is the prefix (libzmq reports a prefix when its
 * first subscriber comes and when its last one goes, a subscriber that
 * disconnects included). Anything else is ignored. */
void qc_events_subs_apply(qc_events_subs_t *self, const void *data, size_t size);
/* 1 if some subscribed prefix is a prefix of topic (the empty prefix is). */
int qc_events_subs_match(const qc_events_subs_t *self, const char *topic);
/* Prefixes held (for tests and logs). */
size_t qc_events_subs_size(const qc_events_subs_t *self);

/* 1 if an event with this topic would reach anyone: the broker publishes,
 * and a subscriber's prefix matches (or, without a subscription set, as in
 * a test's broker without sockets, always). Build an event only if so. */
int qc_events_wanted(const qc_broker_t *broker, const char *topic);

/* A job changed state. Fields left zero are left out of the event. */
typedef struct {
    const char *id;
    qc_state_t state;
    const char *command; /* NULL: not known at that point */
    int with_counts;     /* attempts and max_retries are known (attempts may be 0) */
    int attempts;        /* counted toward max_retries */
    int max_retries;     /* left out if negative (not read) */
    int priority;        /* always sent */
    int attempt;         /* the run; 0 for none */
    int has_exit_code;
    int exit_code;         /* sent if has_exit_code and >= 0 */
    const char *error;     /* NULL or "" for none */
    const char *worker_id; /* NULL for none */
} qc_job_event_t;

void qc_events_job(qc_broker_t *broker, const qc_job_event_t *event);

/* A job was stored in state (pending or waiting) from spec: its event,
 * with the config's max_retries where spec leaves it unset. */
void qc_events_enqueued(qc_broker_t *broker, const char *id, qc_state_t state,
                        const qc_job_spec_t *spec);

/* A worker joined, left or was lost (what = "joined" | "left" | "lost"). */
void qc_events_worker(qc_broker_t *broker, const char *what, const qc_worker_t *worker);

#endif
