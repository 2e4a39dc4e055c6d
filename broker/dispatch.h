/* The worker registry: who is connected, their slots, the jobs each holds,
 * liveness, the leases of jobs found running after a broker restart, and
 * the dispatch policy (which free worker gets the next job).
 * In memory only; the store is the truth it can be rebuilt from. */
#ifndef QC_DISPATCH_H
#define QC_DISPATCH_H

#include <czmq.h>
#include <stdint.h>

#include "queuectl/protocol.h"

typedef struct {
    int64_t seq;
    char id[QC_MAX_ID_BYTES + 1];
    int attempt;
    int started;  /* the worker said STARTED: a shell runs (or ran) */
    int finished; /* its RESULT is on the way (listed in HELLO.finished): no slot */
    int draining; /* a stale run being killed: it holds its slot until its RESULT */
} qc_held_t;

/* Who a worker says it is (HELLO), plus what the connection proves. */
typedef struct {
    const char *worker_id;
    const char *instance;  /* random secret of this worker process */
    const char *curve_key; /* CURVE public key of the connection (Z85), "" on ipc */
    const char *host;
    int pid;
    int slots;
    const char *queues; /* comma-separated preference list, NULL for every queue */
} qc_worker_hello_t;

/* A registration belongs to one connection (routing id) and, on CURVE, one
 * key; the instance secret ties it to the process that holds its jobs. */
typedef struct {
    zframe_t *routing_id;  /* owned */
    char key[2 * 256 + 1]; /* routing id in hex: the registry's key */
    char worker_id[QC_MAX_ID_BYTES + 1];
    char instance[QC_INSTANCE_HEX + 1];
    char curve_key[41];
    char host[256];
    int pid;
    int slots;
    int stopping; /* sent STOP: give it no more work */
    int64_t jobs_done;
    uint64_t last_given;     /* dispatch order: least recently given goes first */
    int64_t connected_at_ms; /* wall clock */
    int64_t last_seen_mono_ms;
    int held_count;
    int held_cap;
    qc_held_t *held; /* [held_cap], grows */
    char *queues;    /* owned: the queues it serves, in preference order ("a,b"); NULL: all */
    uint64_t nothing_due_pass; /* found nothing it may take in this dispatch pass */
} qc_worker_t;

typedef struct _qc_dispatch_t qc_dispatch_t;

qc_dispatch_t *qc_dispatch_new(void);
void qc_dispatch_destroy(qc_dispatch_t **self_p);

/* The worker behind a routing id, or NULL. */
qc_worker_t *qc_dispatch_find(qc_dispatch_t *self, zframe_t *routing_id);
/* The worker with this worker_id, or NULL. */
qc_worker_t *qc_dispatch_find_by_name(qc_dispatch_t *self, const char *worker_id);
/* The worker whose instance secret is this, or NULL. */
qc_worker_t *qc_dispatch_find_by_instance(qc_dispatch_t *self, const char *instance);

/* Registers a worker (replacing any entry with the same routing id). Returns
 * the registry's record (owned by the registry), or NULL on bad slots. */
qc_worker_t *qc_dispatch_add(qc_dispatch_t *self, zframe_t *routing_id,
                             const qc_worker_hello_t *hello, int64_t now_mono_ms,
                             int64_t now_wall_ms);
/* Removes and frees a worker. Its held jobs must have been dealt with. */
void qc_dispatch_remove(qc_dispatch_t *self, qc_worker_t **worker_p);

/* Iteration over workers (not safe across add/remove). */
qc_worker_t *qc_dispatch_first(qc_dispatch_t *self);
qc_worker_t *qc_dispatch_next(qc_dispatch_t *self);
size_t qc_dispatch_size(qc_dispatch_t *self);

/* The dispatch policy: the worker the next job goes to, among those with a
 * free slot the one given a job least recently (so load spreads instead of
 * filling the first worker). NULL if no worker has a free slot. */
qc_worker_t *qc_dispatch_pick(qc_dispatch_t *self);
/* The workers pick would return for the next picks if each were given a
 * job (a slot taken, last in the order), up to max of them, into out; the
 * plan ends at the first worker with a queue list (included). Changes
 * nothing: the caller then calls qc_dispatch_given for those given a job.
 * Returns how many. */
#define QC_DISPATCH_PLAN_MAX 64
int qc_dispatch_plan(qc_dispatch_t *self, qc_worker_t **out, int max);
/* Records that worker was just given a job: it goes last in the order. */
void qc_dispatch_given(qc_dispatch_t *self, qc_worker_t *worker);
/* A dispatch pass: pick leaves out the workers marked with nothing_due
 * since the pass began (nothing due in the queues they serve). */
void qc_dispatch_pass_begin(qc_dispatch_t *self);
void qc_dispatch_nothing_due(qc_dispatch_t *self, qc_worker_t *worker);

/* Held jobs. hold returns the new entry (zeroed flags), or NULL if out of
 * memory. release returns 0 if the worker held (id, attempt), -1 if not. */
qc_held_t *qc_worker_hold(qc_worker_t *worker, int64_t seq, const char *id, int attempt);
int qc_worker_release(qc_worker_t *worker, const char *id, int attempt);
/* The held entry for (id, attempt), or NULL. */
qc_held_t *qc_worker_held(qc_worker_t *worker, const char *id, int attempt);
int qc_worker_holds(qc_worker_t *worker, const char *id, int attempt);
/* Slots not taken by a running or draining job (0 while stopping). */
int qc_worker_free_slots(const qc_worker_t *worker);
/* Jobs whose shell runs (started, not finished): the truth of "busy". */
int qc_worker_running_count(const qc_worker_t *worker);

/* Orphans: jobs found processing at start-up, leased until deadline. */
void qc_dispatch_orphan_add(qc_dispatch_t *self, int64_t seq, const char *id, int attempt,
                            int64_t deadline_mono_ms);
/* Takes the orphan (id, attempt) if present: returns 0 and removes it, else -1. */
int qc_dispatch_orphan_take(qc_dispatch_t *self, const char *id, int attempt, int64_t *seq);
/* Pops one orphan whose deadline has passed: returns 0 and fills, else -1. */
int qc_dispatch_orphan_expired(qc_dispatch_t *self, int64_t now_mono_ms, qc_held_t *out);
/* Earliest orphan deadline, or -1. */
int64_t qc_dispatch_orphan_deadline(qc_dispatch_t *self);
void qc_dispatch_orphans_clear(qc_dispatch_t *self);

#endif
