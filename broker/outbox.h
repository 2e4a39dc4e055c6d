/* The outbox: everything a pass wants to send (client replies, worker
 * messages, events), queued while the pass's transaction is open and sent
 * only after it commits (persist before acknowledge). Handlers queue here;
 * only the loop (server.c) flushes. Needs no socket until the flush, so a
 * unit test can read what a handler queued. */
#ifndef QC_OUTBOX_H
#define QC_OUTBOX_H

#include <cjson/cJSON.h>
#include <czmq.h>

/* What a queued outgoing message becomes if the pass's commit fails. */
typedef enum {
    QC_OUT_ALWAYS,       /* send anyway (WELCOME, RESET, STOP, HEARTBEAT) */
    QC_OUT_CLIENT_REPLY, /* any client reply: replaced by a storage error */
    QC_OUT_AFTER_COMMIT  /* dropped (JOB, ACK, events): nothing it announces was stored */
} qc_out_kind_t;

/* Which socket a queued message goes out on. */
typedef enum {
    QC_OUT_TO_CLIENT,
    QC_OUT_TO_WORKER,
    QC_OUT_TO_EVENTS,
    QC_OUT_TO_LOCAL /* the local client socket (ipc) beside a network one */
} qc_out_to_t;

typedef struct _qc_outbox_t qc_outbox_t;

/* An empty outbox. NULL if out of memory. */
qc_outbox_t *qc_outbox_new(void);
/* Frees what is still queued. Accepts NULL; nulls the caller's pointer. */
void qc_outbox_destroy(qc_outbox_t **self_p);

/* Queues a reply to the client whose envelope (routing id + empty frame) is
 * given. Takes ownership of envelope and reply. A reply larger than
 * QC_MAX_REPLY_BYTES becomes a too_large error. If the pass's commit fails,
 * every reply becomes a storage error, reads and refusals included: what
 * they said was read inside the transaction that was rolled back. */
void qc_outbox_reply(qc_outbox_t *self, zmsg_t **envelope_p, cJSON **reply_p);
/* The same, to the client socket to (QC_OUT_TO_CLIENT or QC_OUT_TO_LOCAL). */
void qc_outbox_reply_to(qc_outbox_t *self, qc_out_to_t to, zmsg_t **envelope_p, cJSON **reply_p);

/* Queues a worker-protocol message to routing_id (copied). msg holds the
 * header, command and body frames; takes ownership of msg. */
void qc_outbox_send_worker(qc_outbox_t *self, zframe_t *routing_id, zmsg_t **msg_p,
                           qc_out_kind_t kind);

/* Queues an event (PROTOCOL.md 4) to publish after the commit. body is not taken. */
void qc_outbox_publish(qc_outbox_t *self, const char *topic, const cJSON *body);

/* Messages queued so far; truncate drops those queued after the first size
 * (what a rolled-back savepoint queued never happened). */
size_t qc_outbox_size(qc_outbox_t *self);
void qc_outbox_truncate(qc_outbox_t *self, size_t size);
/* Drops everything queued. */
void qc_outbox_purge(qc_outbox_t *self);

/* Sends everything queued and empties the outbox. committed = 0 after a
 * failed commit: client replies become storage errors, AFTER_COMMIT
 * messages are dropped; -1 after a commit in doubt (QC_STORE_IN_DOUBT): the
 * same, with in_doubt errors (it may have been stored). A socket may be NULL (its messages are
 * dropped). local: the broker's local client socket (QC_OUT_TO_LOCAL), or NULL. Returns which
 * sockets were sent on, as bits 1 << qc_out_to_t. */
unsigned qc_outbox_flush(qc_outbox_t *self, zsock_t *client, zsock_t *worker, zsock_t *events,
                         zsock_t *local, int committed);

/* Reading what is queued, oldest first (for tests): the message (still
 * owned by the outbox) and, if to/kind are given, where it goes and its
 * kind. NULL at the end. Not safe across queueing. */
zmsg_t *qc_outbox_first(qc_outbox_t *self, qc_out_to_t *to, qc_out_kind_t *kind);
zmsg_t *qc_outbox_next(qc_outbox_t *self, qc_out_to_t *to, qc_out_kind_t *kind);

/* An error reply {"ok":false,"error":{code,message}}. Caller owns. */
cJSON *qc_outbox_error(const char *code, const char *message);

#endif
