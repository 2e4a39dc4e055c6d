/* The job store: the only module that includes sqlite3.h. Its interface
 * speaks in queuectl's terms; every write happens inside the transaction the
 * server opened with qc_store_begin. */
#ifndef QC_STORE_H
#define QC_STORE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "queuectl/job.h"
#include "queuectl/proto.h"

typedef struct _qc_store_t qc_store_t;

#define QC_STORE_SCHEMA_VERSION 2

/* Return codes beside 0 / -1 (an SQLite error, logged). */
#define QC_STORE_DUPLICATE 1
#define QC_STORE_NOT_FOUND 2
#define QC_STORE_CONFLICT 3
#define QC_STORE_RUNNING 4
/* qc_store_begin: this broker no longer holds the lease (PostgreSQL): step down. */
#define QC_STORE_LEASE_LOST 5

/* Why qc_store_connect failed (each a distinct broker exit code). */
#define QC_STORE_FAIL_OTHER 1       /* cannot open or migrate */
#define QC_STORE_FAIL_UNREACHABLE 2 /* database server down or unreachable */
#define QC_STORE_FAIL_AUTH 3        /* password or authentication refused */
#define QC_STORE_FAIL_NO_DATABASE 4 /* the server has no such database */
#define QC_STORE_FAIL_BAD_URI 5     /* not a valid connection URI */

/* Opens (creating or migrating) the database at path. synchronous_full picks
 * PRAGMA synchronous=FULL over NORMAL. Returns NULL with the reason in err. */
qc_store_t *qc_store_open(const char *path, int synchronous_full, char *err, size_t errlen);

/* True if db names a PostgreSQL database (postgresql:// or postgres://). */
int qc_store_is_postgres(const char *db);

/* db's printable form: the password in a URI masked. Returns out. */
const char *qc_store_display_name(const char *db, char *out, size_t outlen);

/* Opens db: a PostgreSQL URI, else an SQLite file. lease_ms: how long a
 * PostgreSQL lease lasts without renewal. On NULL, *failure (if given) says
 * why (QC_STORE_FAIL_) and err holds a message without any password. */
qc_store_t *qc_store_connect(const char *db, int synchronous_full, int64_t lease_ms, int *failure,
                             char *err, size_t errlen);

/* The fence. Takes the lease if it is free or expired: 1 taken, 0 another
 * broker holds it, -1 error (logged). SQLite: always 1 (the data directory's
 * lock is the fence). */
int qc_store_lease_acquire(qc_store_t *self);
/* True while the lease, last renewed by qc_store_begin, is surely still ours
 * (by the local monotonic clock, with a margin). SQLite: always true. */
int qc_store_lease_valid(qc_store_t *self);
void qc_store_destroy(qc_store_t **self_p);

/* The last SQLite error message, for logs and error replies. */
const char *qc_store_errmsg(qc_store_t *self);
int64_t qc_store_total_changes(qc_store_t *self);

/* Transactions: begin (IMMEDIATE) / commit / rollback, and savepoints
 * inside them so one bad request doesn't undo its neighbours. 0 or -1. */
int qc_store_begin(qc_store_t *self);
int qc_store_commit(qc_store_t *self);
void qc_store_rollback(qc_store_t *self);
int qc_store_savepoint(qc_store_t *self);
int qc_store_release(qc_store_t *self);
void qc_store_rollback_savepoint(qc_store_t *self);

/* Config: loads stored values over the defaults already in config; saves one key. */
int qc_store_config_load(qc_store_t *self, qc_config_t *config);
int qc_store_config_save(qc_store_t *self, const char *key, const char *value);

/* Inserts a new pending job. spec->id may be empty (an id is generated); the
 * id used is written to id_out (QC_MAX_ID_BYTES + 1). Unset fields take the
 * config's defaults. Returns 0, QC_STORE_DUPLICATE or -1. */
int qc_store_job_insert(qc_store_t *self, const qc_job_spec_t *spec, const qc_config_t *config,
                        int64_t now_ms, char *id_out);

/* Inserts a batch of n jobs as qc_store_job_insert does each, in order
 * (ids_out: n ids). Returns 0, QC_STORE_DUPLICATE with *failed_index the
 * first job whose id exists (some may have been inserted: the caller's
 * savepoint undoes them), or -1. PostgreSQL: one statement for the batch. */
int qc_store_job_insert_many(qc_store_t *self, const qc_job_spec_t *specs, int n,
                             const qc_config_t *config, int64_t now_ms,
                             char (*ids_out)[QC_MAX_ID_BYTES + 1], int *failed_index);

/* A job handed to a worker. */
typedef struct {
    int64_t seq;
    char id[QC_MAX_ID_BYTES + 1];
    int attempt; /* the run number, sent on the wire */
    int timeout_s;
    int64_t run_at_ms; /* when it became due */
    int attempts;      /* counted toward max_retries, this one included */
    int max_retries;
    int priority;
    char *command; /* owned: free() */
} qc_claim_t;

/* The worker a claim or attempt belongs to. */
typedef struct {
    const char *worker_id;
    const char *host;
    int pid;
} qc_worker_ref_t;

/* Claims the next due job (highest priority, then oldest) for worker: marks
 * it processing and opens its attempt. Returns 1 with *claim filled, 0 if
 * nothing is due, -1 on error. */
int qc_store_job_claim_next(qc_store_t *self, const qc_worker_ref_t *worker, int64_t now_ms,
                            qc_claim_t *claim);

/* The earliest run_at of a waiting job, or -1 if none waits. */
int64_t qc_store_next_due_ms(qc_store_t *self);

/* A job that is processing: seq, current run number and the holding worker. */
typedef struct {
    int64_t seq;
    int attempt;
    int attempts; /* counted toward max_retries */
    int max_retries;
    int cancel_requested;
    char worker_id[QC_MAX_ID_BYTES + 1];
} qc_running_t;

/* Looks up id; returns 0 if it is processing (fills *running), QC_STORE_NOT_FOUND
 * if it doesn't exist or isn't processing, -1 on error. */
int qc_store_job_running(qc_store_t *self, const char *id, qc_running_t *running);

/* Records the end of running->attempt with result and moves the job to
 * next_state (run_at used when failed). Returns 0 or -1. */
int qc_store_job_finish(qc_store_t *self, const qc_running_t *running, const qc_result_t *result,
                        qc_state_t next_state, int64_t run_at_ms, int64_t now_ms);

/* Calls fn for every processing job (used at start-up to rebuild leases). */
typedef void(qc_store_running_fn)(void *arg, int64_t seq, const char *id, int attempt,
                                  const char *worker_id);
int qc_store_each_running(qc_store_t *self, qc_store_running_fn *fn, void *arg);

/* A dead job back to pending with attempts reset (its history kept).
 * Returns 0, QC_STORE_NOT_FOUND, QC_STORE_CONFLICT (not dead) or -1. */
int qc_store_job_revive(qc_store_t *self, const char *id, int64_t now_ms);

/* Cancels id: 0 if it was waiting (now canceled), QC_STORE_RUNNING if it is
 * processing (marked: its end will be recorded canceled), QC_STORE_CONFLICT
 * if it has finished, QC_STORE_NOT_FOUND, or -1. */
int qc_store_job_cancel(qc_store_t *self, const char *id, int64_t now_ms);

/* Deletes jobs in state last updated before before_ms, with their attempts,
 * at most max_rows (rounded up to a batch). Returns how many, or -1. */
int64_t qc_store_purge(qc_store_t *self, int state, int64_t before_ms, int64_t max_rows);

/* Totals since the database was created: enqueued, completed, failed, dead,
 * retried, canceled. Caller owns; NULL on error. */
cJSON *qc_store_totals(qc_store_t *self);

/* JSON views; the caller owns what is returned. NULL on not found / error. */
cJSON *qc_store_job_get(qc_store_t *self, const char *id, int with_attempts);
/* state < 0 for all. cursor 0 for the first page; *next_cursor 0 at the end. */
cJSON *qc_store_job_list(qc_store_t *self, int state, int limit, int64_t cursor,
                         int64_t *next_cursor);
/* counts[QC_STATE_COUNT]; *oldest_pending_ms = since when the longest-waiting
 * due job (pending or failed, run_at passed) has been due, or -1. 0 or -1. */
int qc_store_counts(qc_store_t *self, int64_t counts[QC_STATE_COUNT], int64_t *oldest_pending_ms);

#endif
