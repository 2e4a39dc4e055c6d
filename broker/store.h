/* The job store's interface, in queuectl's terms (no SQL): the broker above
 * it does not know which backend runs (store_front.c picks SQLite or
 * PostgreSQL; each backend holds all of its SQL in its own file). Every
 * write happens inside the transaction the server opened with
 * qc_store_begin. */
#ifndef QC_STORE_H
#define QC_STORE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "queuectl/job.h"
#include "queuectl/proto.h"

typedef struct _qc_store_t qc_store_t;

#define QC_STORE_SCHEMA_VERSION 9

/* Return codes beside 0 / -1 (an SQLite error, logged). */
#define QC_STORE_DUPLICATE 1
#define QC_STORE_NOT_FOUND 2
#define QC_STORE_CONFLICT 3
#define QC_STORE_RUNNING 4
/* qc_store_begin: this broker no longer holds the lease (PostgreSQL): step down. */
#define QC_STORE_LEASE_LOST 5
/* qc_store_job_insert: the job uses a field this backend cannot store yet. */
#define QC_STORE_UNSUPPORTED 6
/* An unfinished job holds the unique key (insert: its id is in id_out). */
#define QC_STORE_UNIQUE_HELD 7
/* qc_store_job_insert: a dependency does not exist / ended dead or canceled
 * (its id in id_out). */
#define QC_STORE_DEP_MISSING 8
#define QC_STORE_DEP_ENDED 9

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
/* True once after the backend opened a new database session (PostgreSQL
 * reconnected: recent unflushed commits may be gone, or the server is a
 * promoted standby): the caller rebuilds what it keeps in memory. SQLite: 0. */
int qc_store_take_reconnected(qc_store_t *self);

/* True while the lease, last renewed by qc_store_begin, is surely still ours
 * (by the local monotonic clock, with a margin). SQLite: always true. */
int qc_store_lease_valid(qc_store_t *self);

/* What talking to a database server costs, since the store was opened:
 * round trips (each time the broker waited for the server) and
 * transactions begun. Both -1 where the backend is a file (SQLite). */
typedef struct {
    int64_t round_trips;
    int64_t transactions;
} qc_store_stats_t;
void qc_store_stats(qc_store_t *self, qc_store_stats_t *stats);
void qc_store_destroy(qc_store_t **self_p);

/* The last SQLite error message, for logs and error replies. */
const char *qc_store_errmsg(qc_store_t *self);
int64_t qc_store_total_changes(qc_store_t *self);

/* Transactions: begin (IMMEDIATE) / commit / rollback, and savepoints
 * inside them so one bad request doesn't undo its neighbours. 0 or -1;
 * qc_store_commit returns QC_STORE_IN_DOUBT instead of -1 when the
 * connection to the database broke once COMMIT may have reached it (a
 * server: PostgreSQL), so the transaction may or may not have committed. */
#define QC_STORE_IN_DOUBT (-2)
int qc_store_begin(qc_store_t *self);
int qc_store_commit(qc_store_t *self);
void qc_store_rollback(qc_store_t *self);
int qc_store_savepoint(qc_store_t *self);
int qc_store_release(qc_store_t *self);
void qc_store_rollback_savepoint(qc_store_t *self);

/* Config: loads stored values over the defaults already in config; saves one key. */
int qc_store_config_load(qc_store_t *self, qc_config_t *config);
int qc_store_config_save(qc_store_t *self, const char *key, const char *value);

/* Job fields beyond the first schema that a backend may not store yet: a
 * job using one is refused (storage error) rather than run without it. */
#define QC_STORE_FEAT_ENV 0x1         /* env, cwd */
#define QC_STORE_FEAT_UNIQUE 0x4      /* unique_key */
#define QC_STORE_FEAT_QUEUE 0x8       /* a queue other than "default" */
#define QC_STORE_FEAT_DEPS 0x10       /* after */
#define QC_STORE_FEAT_EXIT_POLICY 0x2 /* retry_on_exit, no_retry_on_exit (or config defaults) */

/* True if the backend stores every field of features (QC_STORE_FEAT_ bits). */
int qc_store_supports(qc_store_t *self, unsigned features);
/* True if the backend can store every field spec uses. */
int qc_store_job_storable(qc_store_t *self, const qc_job_spec_t *spec, const qc_config_t *config);

/* Inserts a new pending job. spec->id may be empty (an id is generated); the
 * id used is written to id_out (QC_MAX_ID_BYTES + 1). Unset fields take the
 * config's defaults. A job with a unique key that an unfinished job (not
 * completed, dead or canceled) holds is not inserted: QC_STORE_UNIQUE_HELD,
 * with that job's id in id_out. Returns 0, QC_STORE_DUPLICATE (the id is
 * taken), QC_STORE_UNIQUE_HELD, QC_STORE_UNSUPPORTED or -1. */
int qc_store_job_insert(qc_store_t *self, const qc_job_spec_t *spec, const qc_config_t *config,
                        int64_t now_ms, char *id_out);

/* Inserts a batch of n plain jobs (no env, cwd, exit policy, unique key,
 * queue or dependencies) in one statement, in order (ids_out: n ids).
 * Returns 0, QC_STORE_DUPLICATE with *failed_index the first job whose id
 * exists (some may have been inserted: the caller's savepoint undoes them),
 * -1, or QC_STORE_UNSUPPORTED having done nothing (the backend has no batch
 * insert, SQLite, or a job isn't plain): insert them one by one then. */
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
    char *command;                   /* owned */
    char *env_json;                  /* owned, NULL if the job sets no environment */
    char *cwd;                       /* owned, NULL: the worker's directory */
    char queue[QC_MAX_ID_BYTES + 1]; /* "" means "default" */
} qc_claim_t;

/* Frees what a claim owns (accepts a zeroed claim). */
void qc_claim_clear(qc_claim_t *claim);

/* The worker a claim or attempt belongs to. */
typedef struct {
    const char *worker_id;
    const char *instance; /* the worker's instance secret: only it may report on the job */
    const char *host;
    int pid;
} qc_worker_ref_t;

/* Claims the next due job (highest priority, then oldest) for worker: marks
 * it processing and opens its attempt. Returns 1 with *claim filled, 0 if
 * nothing is due, -1 on error. */
int qc_store_job_claim_next(qc_store_t *self, const qc_worker_ref_t *worker, int64_t now_ms,
                            qc_claim_t *claim);

/* Claims the next due job for a worker serving queues (a comma-separated
 * preference list, or NULL for every queue), skipping paused queues and
 * queues at their max_running. With a list, the first queue in it with a
 * due job wins; over every queue, the best (priority, then oldest) head of
 * a queue that may run. Same returns as qc_store_job_claim_next. */
int qc_store_job_claim_for(qc_store_t *self, const qc_worker_ref_t *worker, int64_t now_ms,
                           const char *queues, qc_claim_t *claim);
/* Claims for n workers that serve every queue, in the order given: the same
 * jobs, handed out the same way, as n qc_store_job_claim_for calls without a
 * queue list one after another (claims[i] is workers[i]'s), in one statement
 * where the backend can (PostgreSQL). Returns how many were claimed, 0 to n
 * (fewer than n: nothing more is due for them), or -1 if none could be. The
 * caller clears each claim returned. */
int qc_store_job_claim_many(qc_store_t *self, const qc_worker_ref_t *workers, int n, int64_t now_ms,
                            qc_claim_t *claims);
/* The same claim sent with the commit instead of waited for (PostgreSQL:
 * its rows come back with COMMIT's answer, no round trip of its own): 0 if
 * queued, -1 on error, QC_STORE_UNSUPPORTED where the store can't (SQLite;
 * a paused or capped queue): claim at once instead. After the commit
 * succeeds, qc_store_claims_committed fills claims as claim_many would have
 * (claims[i] for workers[i]) and returns how many (0 to max), once; a
 * rollback drops them. The caller clears each claim returned. */
int qc_store_job_claim_with_commit(qc_store_t *self, const qc_worker_ref_t *workers, int n,
                                   int64_t now_ms);
int qc_store_claims_committed(qc_store_t *self, qc_claim_t *claims, int max);

/* Named queues' settings: paused and max_running (-1 leaves one as it is;
 * max_running 0 lifts the cap). 0 or -1. */
typedef struct {
    const char *name;
    int paused;
    int max_running;
} qc_queue_update_t;
int qc_store_queue_update(qc_store_t *self, const qc_queue_update_t *update);

/* Every queue that has jobs or settings: [{name, counts: {state: n},
 * paused, max_running (null for none), oldest_pending_age_s (null)}],
 * unordered. Caller owns; NULL on error. */
cJSON *qc_store_queue_list(qc_store_t *self, int64_t now_ms);

/* Counts per state of one queue's jobs. 0 or -1. */
int qc_store_queue_counts(qc_store_t *self, const char *queue, int64_t counts[QC_STATE_COUNT]);

/* A page of one queue's jobs (newest first), in one state or all (< 0). */
typedef struct {
    const char *queue;
    int state;
    int limit;
    int64_t cursor;
} qc_store_list_t;
cJSON *qc_store_job_list_in(qc_store_t *self, const qc_store_list_t *list, int64_t *next_cursor);

/* Dependencies. fn is told of each job whose state a call changed (reason:
 * why it was canceled, else NULL). */
typedef void(qc_store_dep_fn)(void *arg, const char *id, qc_state_t state, const char *reason);

/* Job id just ended (completed, dead or canceled): completed releases its
 * waiting dependents whose last dependency it was (to pending, due now);
 * dead or canceled cancels every waiting job downstream, each with a reason
 * naming its dependency and id. 0, or -1 on error. */
int qc_store_deps_settle(qc_store_t *self, const char *id, int64_t now_ms, qc_store_dep_fn *fn,
                         void *arg);

/* Job id was revived (dlq retry): the jobs its end canceled go back to
 * waiting (or pending if nothing is left to wait for), unless another of
 * their dependencies is dead or canceled. 0 or -1. */
int qc_store_deps_revive(qc_store_t *self, const char *id, int64_t now_ms, qc_store_dep_fn *fn,
                         void *arg);

/* {after: [{id, state}], dependents: [{id, state}] (at most max_dependents),
 * more_dependents}. Caller owns; NULL if not found or on error. */
cJSON *qc_store_job_deps(qc_store_t *self, const char *id, int max_dependents);

/* Recurring jobs. */
typedef struct {
    const char *name;
    const char *cron;
    const char *tz;
    const char *job_json; /* the job each tick enqueues */
    int skip_if_running;
    int64_t next_run_ms; /* -1: none */
    int64_t created_at_ms;
} qc_schedule_t;
/* 0, QC_STORE_DUPLICATE (the name is taken) or -1. */
int qc_store_schedule_add(qc_store_t *self, const qc_schedule_t *schedule);

/* Changes to a schedule; -1 (NULL) leaves a field as it is; ran and skipped
 * are added to its counts. 0, QC_STORE_NOT_FOUND or -1. */
typedef struct {
    const char *name;
    int paused;
    int64_t next_run_ms;
    int64_t last_tick_ms;
    const char *last_job;
    int ran;
    int skipped;
} qc_schedule_update_t;
int qc_store_schedule_update(qc_store_t *self, const qc_schedule_update_t *update);
int qc_store_schedule_remove(qc_store_t *self, const char *name);

/* Schedules as [{name, cron, tz, job, skip_if_running, paused, next_run_ms,
 * last_tick_ms, last_job, runs, skipped, created_at}]: the one named (name
 * not NULL), those due by due_by_ms (>= 0; at most 100, unpaused), or all.
 * Caller owns; NULL on error. */
cJSON *qc_store_schedule_list(qc_store_t *self, const char *name, int64_t due_by_ms);

/* The latest jobs a schedule enqueued (ids NAME@...), newest first:
 * [{id, state, run_at, finished_at, exit_code, last_error}]. NULL on error. */
cJSON *qc_store_schedule_runs(qc_store_t *self, const char *name, int limit);

/* The earliest next run of an unpaused schedule, -1 if none, -2 on error. */
int64_t qc_store_schedule_next_due(qc_store_t *self);

/* The earliest run_at of a waiting job, or -1 if none waits. */
int64_t qc_store_next_due_ms(qc_store_t *self);

/* A job that is processing: seq, current run number and the holding worker. */
typedef struct {
    int64_t seq;
    int attempt;
    int attempts; /* counted toward max_retries */
    int max_retries;
    int cancel_requested;
    int started; /* the worker said its shell started */
    char worker_id[QC_MAX_ID_BYTES + 1];
    char worker_token[QC_INSTANCE_HEX + 1]; /* instance of the holding worker */
    char retry_on_exit[QC_EXIT_LIST_BYTES]; /* the job's exit policy ("" for none) */
    char no_retry_on_exit[QC_EXIT_LIST_BYTES];
} qc_running_t;

/* Looks up id; returns 0 if it is processing (fills *running), QC_STORE_NOT_FOUND
 * if it doesn't exist or isn't processing, -1 on error. */
int qc_store_job_running(qc_store_t *self, const char *id, qc_running_t *running);

/* Records the end of running->attempt with result and moves the job to
 * next_state (run_at used when failed). An attempt whose outcome is
 * not_started is recorded but not counted toward max_retries. Returns 0 or -1. */
int qc_store_job_finish(qc_store_t *self, const qc_running_t *running, const qc_result_t *result,
                        qc_state_t next_state, int64_t run_at_ms, int64_t now_ms);

/* Records that the shell of (seq, attempt) started at started_at_ms (the
 * job's started_at means a shell ran). Returns 0 or -1. */
int qc_store_job_started(qc_store_t *self, int64_t seq, int attempt, int64_t started_at_ms);

/* Calls fn for every processing job (used at start-up to rebuild leases). */
typedef void(qc_store_running_fn)(void *arg, int64_t seq, const char *id, int attempt,
                                  const char *worker_id);
int qc_store_each_running(qc_store_t *self, qc_store_running_fn *fn, void *arg);

/* A dead job back to pending with attempts reset (its history kept).
 * Returns 0, QC_STORE_NOT_FOUND, QC_STORE_CONFLICT (not dead),
 * QC_STORE_UNIQUE_HELD (an unfinished job holds its unique key) or -1. */
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

/* The job id as JSON, with its attempts if with_attempts (only the last
 * QC_TAILED_ATTEMPTS carry their output tails). Returns 0 with *job_out
 * set (caller owns), QC_STORE_NOT_FOUND, or -1 on a read error; *job_out
 * is NULL unless 0. */
#define QC_TAILED_ATTEMPTS 8
int qc_store_job_get(qc_store_t *self, const char *id, int with_attempts, cJSON **job_out);

/* JSON views; the caller owns what is returned. NULL on not found / error. */
/* state < 0 for all. cursor 0 for the first page; *next_cursor 0 at the end.
 * A page holds at most limit jobs and about QC_LIST_PAGE_BYTES of commands. */
#define QC_LIST_PAGE_BYTES (2 * 1024 * 1024)
cJSON *qc_store_job_list(qc_store_t *self, int state, int limit, int64_t cursor,
                         int64_t *next_cursor);
/* The job as list shows it (no output tails, no attempts). NULL if not
 * found or on error. */
cJSON *qc_store_job_brief(qc_store_t *self, const char *id);

/* For each of ids[count], appends to out (an array) {id, state, attempts,
 * max_retries, exit_code, last_error, updated_at, finished_at}, or {id,
 * state: null} for an id that doesn't exist. 0, or -1 on error. */
int qc_store_job_states(qc_store_t *self, const char *const *ids, int count, cJSON *out);

/* A search: jobs whose id or command contains text (ASCII letters
 * case-insensitively), newest first. */
typedef struct {
    int state;           /* < 0 for all */
    const char *text;    /* what to look for */
    const char *skip_id; /* a job to leave out (the caller showed it already), or NULL */
    int limit;           /* matches wanted */
    int max_scan;        /* jobs looked at, at most */
    int64_t cursor;      /* 0 from the newest, else below this next_cursor */
} qc_store_search_t;

/* Up to search->limit matches, looking at no more than search->max_scan jobs.
 * *next_cursor is where to go on (0 at the end), *scanned how many jobs were
 * looked at. Caller owns; NULL on error. */
cJSON *qc_store_job_search(qc_store_t *self, const qc_store_search_t *search, int64_t *next_cursor,
                           int *scanned);

/* counts[QC_STATE_COUNT]; *oldest_pending_ms = since when the longest-waiting
 * due job (pending or failed, run_at passed) has been due, or -1. 0 or -1. */
int qc_store_counts(qc_store_t *self, int64_t counts[QC_STATE_COUNT], int64_t *oldest_pending_ms);

#endif
