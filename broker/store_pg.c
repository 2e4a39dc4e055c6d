/* PostgreSQL job store (libpq). Every statement has its values as
 * parameters: nothing from a job is ever spliced into SQL. Claims and
 * results are single statements with data-modifying CTEs; claims for
 * several workers are one statement. Inside a transaction the connection is
 * in pipeline mode: statements whose results decide nothing are queued and
 * sent with the next one the broker waits for, or with COMMIT (see "the
 * pipeline" below), so a pass costs a round trip per decision, not per
 * statement. Savepoints are opened lazily, on a request's first write.
 *
 * The fence: a one-row table `leader` (epoch, holder, expires_at). The
 * active broker took it with an expired lease and renews it as the first
 * statement of every pass's transaction, matching its epoch; the row lock
 * it then holds until COMMIT means no one can take over mid-transaction, and
 * a renewal that matches nothing means someone did: it fails (so the
 * server runs nothing queued behind it), the transaction rolls back and the
 * broker steps down. A session paused inside a transaction is
 * killed by the server (idle_in_transaction_session_timeout = the lease).
 *
 * Counts per state live in memory (one writer: the active broker), read at
 * takeover and moved by each committed transaction's deltas, so status is
 * O(1) and no row is updated by every commit for them. Totals are rows,
 * bumped once per committing transaction that changed them. */
#include "store_backend.h"
#include "queuectl/clock.h"
#include "queuectl/log.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Upgrade recipe: version N's script takes a version N-1 schema to N. Never
 * edit a shipped one: add one. Applied under an advisory transaction lock,
 * so brokers starting together migrate once. */
static const char *s_migrations[] = {
    /* 1: initial schema. Times are ms since the epoch (as in SQLite). The jobs
     * table is updated several times per job: a low fillfactor keeps updates
     * HOT and aggressive autovacuum keeps dead tuples from slowing claims. */
    "CREATE TABLE jobs ("
    "  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  id text NOT NULL UNIQUE,"
    "  command text NOT NULL,"
    "  state smallint NOT NULL,"
    "  priority integer NOT NULL,"
    "  attempts integer NOT NULL DEFAULT 0,"
    "  runs integer NOT NULL DEFAULT 0,"
    "  max_retries integer NOT NULL,"
    "  timeout_s integer NOT NULL,"
    "  run_at bigint NOT NULL,"
    "  created_at bigint NOT NULL,"
    "  updated_at bigint NOT NULL,"
    "  started_at bigint, finished_at bigint, worker_id text,"
    "  exit_code integer, last_error text, stdout_tail text, stderr_tail text,"
    "  cancel_requested smallint NOT NULL DEFAULT 0"
    ") WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.01,"
    "  autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_insert_scale_factor = 0.05,"
    "  autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_cost_delay = 1);"
    "CREATE INDEX jobs_ready ON jobs (priority DESC, seq) WHERE state IN (0, 3);"
    "CREATE INDEX jobs_due ON jobs (run_at) WHERE state IN (0, 3);"
    "CREATE INDEX jobs_state ON jobs (state, seq);"
    "CREATE TABLE attempts ("
    "  job_seq bigint NOT NULL, attempt integer NOT NULL,"
    "  worker_id text, worker_host text, worker_pid integer,"
    "  started_at bigint NOT NULL, finished_at bigint, outcome smallint,"
    "  exit_code integer, signal integer, cpu_ms bigint, max_rss_kb bigint,"
    "  error text, stdout_tail text, stderr_tail text,"
    "  PRIMARY KEY (job_seq, attempt)"
    ") WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02);"
    "CREATE TABLE config (key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE totals (name text PRIMARY KEY, n bigint NOT NULL);"
    "INSERT INTO totals VALUES ('enqueued', 0), ('completed', 0), ('failed', 0), ('dead', 0),"
    "  ('retried', 0), ('canceled', 0);"
    "CREATE TABLE leader (id integer PRIMARY KEY CHECK (id = 1), epoch bigint NOT NULL,"
    "  holder text NOT NULL, expires_at timestamptz NOT NULL);"
    "INSERT INTO leader VALUES (1, 0, '', '-infinity');",

    /* 2: the instance secret of the worker holding a job (only it may adopt
     * or report on it); started_at is NULL until the worker says STARTED. */
    "ALTER TABLE jobs ADD COLUMN worker_token text;",

    /* 3 (issue 12): a job's environment and directory, its exit-code policy
     * (canonical lists, '' for none) and its unique key: at most one
     * unfinished job (not completed, dead or canceled) per key. */
    "ALTER TABLE jobs ADD COLUMN env text, ADD COLUMN cwd text,"
    "  ADD COLUMN retry_on_exit text NOT NULL DEFAULT '',"
    "  ADD COLUMN no_retry_on_exit text NOT NULL DEFAULT '', ADD COLUMN unique_key text;"
    "CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key)"
    "  WHERE unique_key IS NOT NULL AND state NOT IN (2, 4, 5);",

    /* 4 (issue 12): recurring jobs, as in SQLite's schema 9. */
    "CREATE TABLE schedules (name text PRIMARY KEY, cron text NOT NULL, tz text NOT NULL,"
    "  job text NOT NULL, skip_if_running smallint NOT NULL DEFAULT 0,"
    "  paused smallint NOT NULL DEFAULT 0, next_run bigint, last_tick bigint, last_job text,"
    "  runs integer NOT NULL DEFAULT 0, skipped integer NOT NULL DEFAULT 0,"
    "  created_at bigint NOT NULL);"
    "CREATE INDEX schedules_due ON schedules (next_run) WHERE paused = 0;",

    /* 5 (issue 12): dependencies, as in SQLite's schema 8 (waiting = 6). */
    "ALTER TABLE jobs ADD COLUMN deps_left integer NOT NULL DEFAULT 0,"
    "  ADD COLUMN canceled_by bigint;"
    "CREATE INDEX jobs_canceled_by ON jobs (canceled_by, seq) WHERE canceled_by IS NOT NULL;"
    "CREATE TABLE deps (dep_seq bigint NOT NULL, job_seq bigint NOT NULL,"
    "  PRIMARY KEY (dep_seq, job_seq));"
    "CREATE INDEX deps_job ON deps (job_seq, dep_seq);",

    /* 6 (issue 12): named queues. Waiting jobs indexed per queue (claims,
     * due times, and the queues that have any: a loose index scan); the
     * (queue, state, seq) index pages list --queue and counts a queue. */
    "ALTER TABLE jobs ADD COLUMN queue text NOT NULL DEFAULT 'default';"
    "CREATE INDEX jobs_ready_q ON jobs (queue, priority DESC, seq) WHERE state IN (0, 3);"
    "CREATE INDEX jobs_due_q ON jobs (queue, run_at) WHERE state IN (0, 3);"
    "CREATE INDEX jobs_queue_state ON jobs (queue, state, seq);"
    "CREATE TABLE queues (name text PRIMARY KEY, paused smallint NOT NULL DEFAULT 0,"
    "  max_running integer NOT NULL DEFAULT 0);",
};
#define S_MIGRATION_COUNT ((int)(sizeof s_migrations / sizeof s_migrations[0]))

#define S_JOB_COLUMNS                                                                              \
    "seq, id, command, state, priority, attempts, max_retries, timeout_s, run_at, created_at, "    \
    "updated_at, started_at, finished_at, exit_code, last_error, worker_id, runs, queue"

static const char *s_sql_insert =
    "INSERT INTO jobs (id, command, state, priority, max_retries, timeout_s, run_at, created_at,"
    " updated_at, env, cwd, retry_on_exit, no_retry_on_exit, unique_key, deps_left, queue)"
    " VALUES ($1, $2, CASE WHEN $13::integer > 0 THEN 6 ELSE 0 END, $3, $4, $5, $6, $7, $7, $8,"
    " $9, $10, $11, $12, $13::integer, $14)"
    " ON CONFLICT (id) DO NOTHING RETURNING seq";
/* The same without a given id, unique key or dependency: nothing in it can
 * conflict short of a generated id colliding, which fails the statement
 * (and the pass: the client retries), so it can be queued unread. */
static const char *s_sql_insert_new =
    "INSERT INTO jobs (id, command, state, priority, max_retries, timeout_s, run_at, created_at,"
    " updated_at, env, cwd, retry_on_exit, no_retry_on_exit, unique_key, deps_left, queue)"
    " VALUES ($1, $2, CASE WHEN $13::integer > 0 THEN 6 ELSE 0 END, $3, $4, $5, $6, $7, $7, $8,"
    " $9, $10, $11, $12, $13::integer, $14)";
/* The unfinished job holding a unique key (the partial index). */
static const char *s_sql_unique_holder =
    "SELECT id FROM jobs WHERE unique_key = $1 AND state NOT IN (2, 4, 5)";
static const char *s_sql_unique_of_dead =
    "SELECT unique_key FROM jobs WHERE id = $1 AND state = 4 AND unique_key IS NOT NULL";
/* A whole batch in one statement: the jobs travel as one JSON parameter
 * (built by cJSON), in order (ordinality gives FIFO seq); RETURNING says
 * which were new, so the first duplicate can be named. */
static const char *s_sql_insert_many =
    "INSERT INTO jobs (id, command, state, priority, max_retries, timeout_s, run_at, created_at,"
    " updated_at) SELECT x.id, x.command, 0, x.priority, x.max_retries, x.timeout_s, x.run_at,"
    " $2, $2 FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (id text, command text,"
    " priority integer, max_retries integer, timeout_s integer, run_at bigint))"
    " WITH ORDINALITY AS x(id, command, priority, max_retries, timeout_s, run_at, n)"
    " ORDER BY x.n ON CONFLICT (id) DO NOTHING RETURNING id";
/* The same for a batch without any given id (generated ids don't collide
 * short of a clock gone back: then the statement fails, and the pass). */
static const char *s_sql_insert_many_new =
    "INSERT INTO jobs (id, command, state, priority, max_retries, timeout_s, run_at, created_at,"
    " updated_at) SELECT x.id, x.command, 0, x.priority, x.max_retries, x.timeout_s, x.run_at,"
    " $2, $2 FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (id text, command text,"
    " priority integer, max_retries integer, timeout_s integer, run_at bigint))"
    " WITH ORDINALITY AS x(id, command, priority, max_retries, timeout_s, run_at, n)"
    " ORDER BY x.n";
/* Select, mark and open the attempt in one statement; SKIP LOCKED so a
 * second writer (there should be none) never blocks or double-claims. */
static const char *s_sql_claim =
    "WITH next AS (SELECT seq, state FROM jobs WHERE state IN (0, 3) AND run_at <= $1"
    "  ORDER BY priority DESC, seq LIMIT 1 FOR UPDATE SKIP LOCKED),"
    " claimed AS (UPDATE jobs j SET state = 1, attempts = j.attempts + 1, runs = j.runs + 1,"
    "  started_at = NULL, finished_at = NULL, updated_at = $1, worker_id = $2,"
    "  worker_token = $5 FROM next"
    "  WHERE j.seq = next.seq RETURNING j.seq, j.id, j.command, j.runs, j.timeout_s, j.run_at,"
    "  j.attempts, j.max_retries, j.priority, next.state AS old_state, j.env, j.cwd, j.queue),"
    " opened AS (INSERT INTO attempts (job_seq, attempt, worker_id, worker_host, worker_pid,"
    "  started_at) SELECT seq, runs, $2, $3, $4, $1 FROM claimed)"
    " SELECT * FROM claimed";
/* The same for one job chosen by seq (a queue's head, claim_for). */
static const char *s_sql_claim_seq =
    "WITH next AS (SELECT seq, state FROM jobs WHERE seq = $6::bigint AND state IN (0, 3)"
    "  FOR UPDATE SKIP LOCKED),"
    " claimed AS (UPDATE jobs j SET state = 1, attempts = j.attempts + 1, runs = j.runs + 1,"
    "  started_at = NULL, finished_at = NULL, updated_at = $1, worker_id = $2,"
    "  worker_token = $5 FROM next"
    "  WHERE j.seq = next.seq RETURNING j.seq, j.id, j.command, j.runs, j.timeout_s, j.run_at,"
    "  j.attempts, j.max_retries, j.priority, next.state AS old_state, j.env, j.cwd, j.queue),"
    " opened AS (INSERT INTO attempts (job_seq, attempt, worker_id, worker_host, worker_pid,"
    "  started_at) SELECT seq, runs, $2, $3, $4, $1 FROM claimed)"
    " SELECT * FROM claimed";
/* Up to n jobs for n workers at once: the k-th due job (by priority, then
 * age) goes to the k-th worker ($2: a JSON array of {worker_id, host, pid,
 * token} in the order the dispatch policy picks them), exactly as n claims
 * one after another would hand them out. */
static const char *s_sql_claim_many =
    "WITH w AS (SELECT * FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (worker_id text,"
    "  host text, pid integer, token text)) WITH ORDINALITY AS w(worker_id, host, pid, token, n)),"
    " next AS (SELECT seq, state, row_number() OVER (ORDER BY priority DESC, seq) AS n"
    "  FROM (SELECT seq, state, priority FROM jobs WHERE state IN (0, 3) AND run_at <= $1"
    "   ORDER BY priority DESC, seq LIMIT (SELECT count(*) FROM w) FOR UPDATE SKIP LOCKED) d),"
    " claimed AS (UPDATE jobs j SET state = 1, attempts = j.attempts + 1, runs = j.runs + 1,"
    "  started_at = NULL, finished_at = NULL, updated_at = $1, worker_id = w.worker_id,"
    "  worker_token = w.token FROM next JOIN w ON w.n = next.n"
    "  WHERE j.seq = next.seq RETURNING j.seq, j.id, j.command, j.runs, j.timeout_s, j.run_at,"
    "  j.attempts, j.max_retries, j.priority, next.state AS old_state, j.env, j.cwd, j.queue,"
    "  next.n, w.worker_id AS w_id, w.host AS w_host, w.pid AS w_pid),"
    " opened AS (INSERT INTO attempts (job_seq, attempt, worker_id, worker_host, worker_pid,"
    "  started_at) SELECT seq, runs, w_id, w_host, w_pid, $1 FROM claimed)"
    " SELECT * FROM claimed ORDER BY n";
static const char *s_sql_next_due = "SELECT MIN(run_at) FROM jobs WHERE state IN (0, 3)";
static const char *s_sql_running = "SELECT seq, runs, attempts, max_retries, worker_id,"
                                   " cancel_requested, worker_token, started_at IS NOT NULL,"
                                   " retry_on_exit, no_retry_on_exit"
                                   " FROM jobs WHERE id = $1 AND state = 1";
/* run_at moves only for a retry: otherwise it keeps when the job was due.
 * It is queued unread (the running lookup just found the job processing in
 * this transaction): should it match no job after all, the division fails
 * it, and with it the transaction, COMMIT included. */
static const char *s_sql_finish =
    "WITH a AS (UPDATE attempts SET finished_at = $3, outcome = $4, exit_code = $5,"
    "  signal = $6, cpu_ms = $7, max_rss_kb = $8, error = $9, stdout_tail = $10,"
    "  stderr_tail = $11,"
    "  started_at = CASE WHEN $16::bigint > 0 THEN $16::bigint ELSE started_at END"
    "  WHERE job_seq = $1 AND attempt = $2),"
    " j AS (UPDATE jobs SET state = $12::smallint,"
    "  run_at = CASE WHEN $12::smallint = 3 THEN $13::bigint ELSE run_at END,"
    "  updated_at = $14, finished_at = $14, exit_code = $5, last_error = $9,"
    "  stdout_tail = $10, stderr_tail = $11, attempts = attempts - $15::integer,"
    "  started_at = CASE WHEN $15::integer = 0 AND $16::bigint > 0 THEN $16::bigint"
    "    ELSE started_at END"
    "  WHERE seq = $1 AND state = 1 RETURNING 1)"
    " SELECT 1 / count(*)::integer FROM j";
static const char *s_sql_started =
    "WITH a AS (UPDATE attempts SET started_at = $3 WHERE job_seq = $1 AND attempt = $2)"
    " UPDATE jobs SET started_at = $3, updated_at = $3 WHERE seq = $1 AND runs = $2 AND state = 1";
static const char *s_sql_brief = "SELECT " S_JOB_COLUMNS " FROM jobs WHERE id = $1";
/* Many ids in one round trip: ids never hold a comma (the id character set). */
static const char *s_sql_states =
    "SELECT w.id, j.state, j.attempts, j.max_retries, j.exit_code, j.last_error, j.updated_at,"
    " j.finished_at FROM unnest(string_to_array($1, ',')) WITH ORDINALITY AS w(id, n)"
    " LEFT JOIN jobs j ON j.id = w.id ORDER BY w.n";
static const char *s_sql_each_running = "SELECT seq, id, runs, worker_id FROM jobs WHERE state = 1";
static const char *s_sql_revive = "UPDATE jobs SET state = 0, attempts = 0, run_at = $2,"
                                  " updated_at = $2 WHERE id = $1 AND state = 4";
static const char *s_sql_state_of = "SELECT state FROM jobs WHERE id = $1";
static const char *s_sql_get =
    "SELECT " S_JOB_COLUMNS ", stdout_tail, stderr_tail, env, cwd, retry_on_exit,"
    " no_retry_on_exit, unique_key FROM jobs WHERE id = $1";
static const char *s_sql_attempts_of =
    "SELECT attempt, worker_id, worker_host, worker_pid, started_at, finished_at, outcome,"
    " exit_code, signal, cpu_ms, max_rss_kb, error, stdout_tail, stderr_tail FROM attempts"
    " WHERE job_seq = $1 ORDER BY attempt";
static const char *s_sql_list_all =
    "SELECT " S_JOB_COLUMNS " FROM jobs WHERE seq < $1 ORDER BY seq DESC LIMIT $2";
static const char *s_sql_list_state = "SELECT " S_JOB_COLUMNS " FROM jobs WHERE state = $3"
                                      " AND seq < $1 ORDER BY seq DESC LIMIT $2";
static const char *s_sql_count_all = "SELECT state, count(*) FROM jobs GROUP BY state";
static const char *s_sql_oldest =
    "SELECT MIN(run_at) FROM jobs WHERE state IN (0, 3) AND run_at <= $1";
static const char *s_sql_config_all = "SELECT key, value FROM config";
static const char *s_sql_config_save = "INSERT INTO config (key, value) VALUES ($1, $2)"
                                       " ON CONFLICT (key) DO UPDATE SET value = excluded.value";
static const char *s_sql_cancel_waiting =
    "WITH old AS (SELECT seq, state FROM jobs WHERE id = $1 AND state IN (0, 3, 6) FOR UPDATE)"
    " UPDATE jobs SET state = 5, updated_at = $2, finished_at = $2, last_error = 'canceled'"
    " FROM old WHERE jobs.seq = old.seq RETURNING old.state";
static const char *s_sql_cancel_request = "UPDATE jobs SET cancel_requested = 1, updated_at = $2"
                                          " WHERE id = $1 AND state = 1";
/* Bounded, so a purge of millions never stalls the loop for long. */
static const char *s_sql_purge =
    "WITH d AS (SELECT seq FROM jobs WHERE state = $1 AND updated_at < $2 LIMIT 5000"
    "  FOR UPDATE SKIP LOCKED),"
    " a AS (DELETE FROM attempts WHERE job_seq IN (SELECT seq FROM d)),"
    " x AS (DELETE FROM deps WHERE job_seq IN (SELECT seq FROM d) OR dep_seq IN (SELECT seq FROM "
    "d))"
    " DELETE FROM jobs WHERE seq IN (SELECT seq FROM d)";
static const char *s_sql_totals = "SELECT name, n FROM totals";
static const char *s_sql_totals_add =
    "UPDATE totals SET n = n + CASE name WHEN 'enqueued' THEN $1::bigint"
    " WHEN 'completed' THEN $2::bigint WHEN 'failed' THEN $3::bigint WHEN 'dead' THEN $4::bigint"
    " WHEN 'retried' THEN $5::bigint WHEN 'canceled' THEN $6::bigint ELSE 0 END";
/* The lease: taken only when expired (the database's clock decides), renewed
 * only by the epoch that took it. */
static const char *s_sql_lease_take =
    "UPDATE leader SET epoch = epoch + 1, holder = $1,"
    " expires_at = clock_timestamp() + $2::bigint * interval '1 millisecond'"
    " WHERE id = 1 AND expires_at < clock_timestamp() RETURNING epoch";
/* Renewed only by the epoch that took it; when that matches no row (someone
 * took over), the division fails the statement, so the server refuses
 * everything queued behind it in the pipeline, COMMIT included. */
static const char *s_sql_lease_renew =
    "WITH r AS (UPDATE leader SET expires_at = clock_timestamp() + $2::bigint"
    "  * interval '1 millisecond' WHERE id = 1 AND epoch = $1 RETURNING 1)"
    " SELECT 1 / count(*)::integer FROM r";
static const char *s_sql_lease_release =
    "UPDATE leader SET expires_at = '-infinity' WHERE id = 1 AND epoch = $1";

/* Prepared once per session (on first use), so the server parses and plans
 * each of these once, not on every call. */
static const char *const *s_prepared_sql[] = {
    &s_sql_insert,      &s_sql_claim,           &s_sql_next_due,
    &s_sql_running,     &s_sql_finish,          &s_sql_each_running,
    &s_sql_revive,      &s_sql_state_of,        &s_sql_get,
    &s_sql_attempts_of, &s_sql_list_all,        &s_sql_list_state,
    &s_sql_count_all,   &s_sql_oldest,          &s_sql_config_all,
    &s_sql_config_save, &s_sql_cancel_waiting,  &s_sql_cancel_request,
    &s_sql_purge,       &s_sql_totals,          &s_sql_totals_add,
    &s_sql_lease_take,  &s_sql_lease_renew,     &s_sql_insert_many,
    &s_sql_insert_new,  &s_sql_insert_many_new, &s_sql_claim_many,
    &s_sql_started,     &s_sql_claim_seq};
#define S_PREPARED_COUNT ((int)(sizeof s_prepared_sql / sizeof s_prepared_sql[0]))

/* What a statement queued in the pipeline is (see s_queue). */
typedef enum {
    S_Q_OK,      /* any success */
    S_Q_RENEW,   /* the lease renewal; arg: when it was queued (monotonic) */
    S_Q_PREPARE, /* arg: which prepared statement */
    S_Q_COMMIT,
    S_Q_CLAIM,  /* a claim sent with COMMIT: its result is kept (claims_committed) */
    S_Q_WANTED, /* the statement s_exec waits for */
} s_qkind_t;

typedef struct {
    s_qkind_t kind;
    int64_t arg;
    int select; /* a SELECT: its row count is not a change */
} s_queued_t;

enum { S_T_ENQUEUED, S_T_COMPLETED, S_T_FAILED, S_T_DEAD, S_T_RETRIED, S_T_CANCELED, S_T_COUNT };

struct _qc_store_backend_t {
    PGconn *conn;
    char err[512];
    int64_t changes;                /* rows written, like sqlite3_total_changes */
    int64_t round_trips;            /* waits for the server (qc_store_stats) */
    int64_t transactions;           /* begun */
    int prepared[S_PREPARED_COUNT]; /* in this session */
    int durable;                    /* this transaction must be flushed before its replies */
    int reconnected;                /* a new session since qc_pg_take_reconnected */
    int synchronous_full;           /* every transaction is flushed (--synchronous full) */
    int in_tx;
    int begun;          /* BEGIN was sent for the open transaction (on its first statement) */
    int pipeline;       /* in libpq pipeline mode: the open transaction's statements */
    int doomed;         /* a queued statement failed: the transaction can only roll back */
    int committed;      /* the last COMMIT committed */
    s_queued_t *queued; /* statements sent whose results are not read yet, in order */
    int queued_count, queued_cap;
    int64_t queued_bytes;   /* sent since the last sync point (about) */
    PGresult *claimed;      /* an S_Q_CLAIM's rows, until claims_committed takes them */
    int queues_changed;     /* this transaction changed a queue's settings */
    int restricted;         /* some queue is paused or capped: 1, 0, -1 unknown (ask) */
    int any_deps;           /* a dependency row exists: 1, 0, -1 unknown (ask) */
    int sp_wanted, sp_open; /* a request's savepoint: asked for / opened */
    int counts_loaded;
    int64_t counts[QC_STATE_COUNT]; /* committed */
    int64_t tx_counts[QC_STATE_COUNT], sp_counts[QC_STATE_COUNT];
    int64_t tx_totals[S_T_COUNT], sp_totals[S_T_COUNT];
    int64_t lease_ms;
    int64_t epoch;              /* the lease we hold; 0 for none */
    int64_t lease_until_mono;   /* when we must assume it is gone */
    int64_t renewed_until_mono; /* the same, once the open transaction commits */
    int64_t renew_queued_mono;  /* when the open transaction's renewal was queued */
    char holder[128];
};

/* Integer parameters as text (the values are ours, never spliced into SQL). */
typedef struct {
    char buf[16][24];
} s_ints_t;

static const char *s_int(s_ints_t *ints, int slot, int64_t value)
{
    snprintf(ints->buf[slot], sizeof ints->buf[slot], "%lld", (long long)value);
    return ints->buf[slot];
}

/* items as the JSON text of a statement's parameter (jsonb_to_recordset),
 * consuming them; NULL if out of memory. The caller frees it (cJSON_free). */
static char *s_json_param(cJSON *items)
{
    char *json = items ? cJSON_PrintUnformatted(items) : NULL;
    cJSON_Delete(items);
    return json;
}

static void s_set_error(qc_store_backend_t *self, const char *what)
{
    const char *msg = PQerrorMessage(self->conn);
    snprintf(self->err, sizeof self->err, "%s%s%s", what ? what : "", what ? ": " : "",
             msg && *msg ? msg : "unknown error");
    size_t n = strlen(self->err);
    while (n > 0 && (self->err[n - 1] == '\n' || self->err[n - 1] == ' '))
        self->err[--n] = '\0';
}

/* Every PQexec of the store goes through here: one round trip. */
static PGresult *s_pqexec(qc_store_backend_t *self, const char *sql)
{
    self->round_trips++;
    return PQexec(self->conn, sql);
}

/* ---- the pipeline ---------------------------------------------------------
 * Inside a transaction the connection is in libpq pipeline mode: a statement
 * whose result decides nothing (a savepoint, STARTED, an attempt's end, a
 * plain insert, the totals) is only queued (s_defer); one whose result the
 * broker needs (s_exec) is queued behind them and then waited for, with
 * every result before it: one round trip for all. COMMIT goes out with
 * whatever is still queued. Failures:
 *  - a queued statement that fails fails the transaction (self->doomed):
 *    what the pass did is rolled back and every reply becomes a storage
 *    error, exactly as when COMMIT fails;
 *  - a statement waited for that fails alone returns NULL, as outside a
 *    pipeline: the request's savepoint can still undo it;
 *  - the lease renewal raises an error when it matches no row, so the
 *    server itself refuses everything queued behind it, COMMIT included. */

/* At most this many statements, or bytes, queued before they are waited
 * for anyway. */
#define S_MAX_QUEUED 1024
#define S_MAX_QUEUED_BYTES 16384

static void s_set_result_error(qc_store_backend_t *self, PGresult *res, const char *what)
{
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    if (!msg || !*msg) {
        s_set_error(self, what);
        return;
    }
    snprintf(self->err, sizeof self->err, "%s%s%s", what ? what : "", what ? ": " : "", msg);
    size_t n = strlen(self->err);
    while (n > 0 && (self->err[n - 1] == '\n' || self->err[n - 1] == ' '))
        self->err[--n] = '\0';
}

/* The transaction can't commit any more: remember the first reason. */
static void s_doom(qc_store_backend_t *self, PGresult *res, const char *what)
{
    if (!self->doomed) {
        s_set_result_error(self, res, what);
        qc_error("store: %s", self->err);
    }
    self->doomed = 1;
}

static int s_prepared_index(const char *sql)
{
    for (int i = 0; i < S_PREPARED_COUNT; i++)
        if (*s_prepared_sql[i] == sql)
            return i;
    return -1;
}

static int s_push(qc_store_backend_t *self, s_qkind_t kind, int64_t arg, int select)
{
    if (self->queued_count == self->queued_cap) {
        int cap = self->queued_cap ? 2 * self->queued_cap : 64;
        s_queued_t *grown = realloc(self->queued, (size_t)cap * sizeof *grown);
        if (!grown)
            return -1;
        self->queued = grown;
        self->queued_cap = cap;
    }
    self->queued[self->queued_count++] = (s_queued_t){kind, arg, select};
    return 0;
}

/* Reads the pipeline's results up to the sync point after a failure or
 * after PQpipelineSync: the connection is usable again afterwards. */
static void s_read_to_sync(qc_store_backend_t *self)
{
    int nulls = 0;
    while (nulls < 2) {
        PGresult *res = PQgetResult(self->conn);
        if (!res) {
            nulls++;
            continue;
        }
        nulls = 0;
        ExecStatusType status = PQresultStatus(res);
        PQclear(res);
        if (status == PGRES_PIPELINE_SYNC)
            return;
    }
}

static PGresult *s_wait(qc_store_backend_t *self, int synced);
static int s_open(qc_store_backend_t *self);
static void s_move(qc_store_backend_t *self, int from, int to);
static int64_t s_i64(PGresult *res, int row, int col);

/* Queues one statement in the pipeline. 0, or -1 (the transaction is doomed). */
static int s_queue(qc_store_backend_t *self, const char *sql, int n, const char *const *params,
                   s_qkind_t kind, int64_t arg)
{
    if (self->doomed || s_open(self) != 0)
        return -1;
    int which = s_prepared_index(sql);
    char name[16];
    int sent, text = which < 0; /* the SQL text goes out with it */
    if (which >= 0) {
        snprintf(name, sizeof name, "qc%d", which);
        if (!self->prepared[which]) {
            text = 1;
            if (!PQsendPrepare(self->conn, name, sql, n, NULL) ||
                s_push(self, S_Q_PREPARE, which, 0) != 0) {
                s_doom(self, NULL, "prepare");
                return -1;
            }
            self->prepared[which] = 1;
        }
        sent = PQsendQueryPrepared(self->conn, name, n, params, NULL, NULL, 0);
    } else {
        sent = PQsendQueryParams(self->conn, sql, n, NULL, params, NULL, NULL, 0);
    }
    if (!sent || s_push(self, kind, arg, strncmp(sql, "SELECT", 6) == 0) != 0) {
        s_doom(self, NULL, "send");
        return -1;
    }
    /* libpq sends what is queued once it passes 64 KiB, and the server would
     * then wait for more without a sync point (so without its idle timeout,
     * the fence): wait well before that, or at once after a big statement. */
    self->queued_bytes += 64 + (text ? (int64_t)strlen(sql) : 0);
    for (int i = 0; i < n; i++)
        self->queued_bytes += params[i] ? (int64_t)strlen(params[i]) : 0;
    if (kind != S_Q_WANTED &&
        (self->queued_count >= S_MAX_QUEUED || self->queued_bytes >= S_MAX_QUEUED_BYTES)) {
        PQclear(s_wait(self, 0)); /* bounds what waits in memory */
        return self->doomed ? -1 : 0;
    }
    return 0;
}

/* Waits for every queued result (one round trip), checking each. synced:
 * the caller sent PQpipelineSync already (COMMIT); otherwise it is sent
 * here. Returns the S_Q_WANTED result if it is last and succeeded
 * (caller PQclears), else NULL. */
static PGresult *s_wait(qc_store_backend_t *self, int synced)
{
    PGresult *wanted = NULL;
    if (self->queued_count == 0 && !synced)
        return NULL;
    self->round_trips++;
    self->queued_bytes = 0;
    /* Always a sync point, never a mere flush: the server only arms
     * idle_in_transaction_session_timeout (the fence for a broker paused
     * mid-transaction) once it has answered a Sync. */
    if (!synced && PQpipelineSync(self->conn) != 1)
        s_doom(self, NULL, "sync");
    synced = 1;
    int failed = 0; /* the server skips everything after a failure until the sync */
    for (int i = 0; i < self->queued_count; i++) {
        s_queued_t *q = &self->queued[i];
        PGresult *res = PQgetResult(self->conn);
        for (PGresult *extra; res && (extra = PQgetResult(self->conn)) != NULL;)
            PQclear(extra); /* one result per statement: the rest can't be ours */
        ExecStatusType status = PQresultStatus(res);
        int ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
        if (ok && !q->select && *PQcmdTuples(res))
            self->changes += atoll(PQcmdTuples(res));
        if (q->kind == S_Q_PREPARE && !ok)
            self->prepared[q->arg] = 0;   /* never made: make it again */
        if (q->kind == S_Q_RENEW && ok) { /* the lease is longer once this commits */
            self->renewed_until_mono = q->arg + self->lease_ms - self->lease_ms / 5;
        } else if (q->kind == S_Q_RENEW && status == PGRES_FATAL_ERROR) {
            const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            if (state && strcmp(state, "22012") == 0) { /* our division: no row matched */
                qc_warn("store: the lease (epoch %lld) was taken over by another broker",
                        (long long)self->epoch);
                self->epoch = 0;
                self->doomed = 1;
                snprintf(self->err, sizeof self->err, "the lease was taken over by another broker");
            }
        } else if (q->kind == S_Q_COMMIT && status != PGRES_PIPELINE_ABORTED) {
            self->in_tx = 0; /* it ran: committed, or answered ROLLBACK */
            self->committed = ok && strcmp(PQcmdStatus(res), "COMMIT") == 0;
        }
        if (!ok && !failed) {
            failed = 1;
            if (q->kind == S_Q_WANTED && i == self->queued_count - 1 && !self->doomed) {
                s_set_result_error(self, res, NULL); /* alone: as outside a pipeline */
                qc_error("store: %s", self->err);
            } else {
                s_doom(self, res, NULL);
            }
        }
        if (ok && q->kind == S_Q_CLAIM && !failed && !self->doomed) {
            for (int row = 0; row < PQntuples(res); row++) /* before COMMIT's counts */
                s_move(self, (int)s_i64(res, row, 9), QC_STATE_PROCESSING);
            PQclear(self->claimed);
            self->claimed = res;
        } else if (ok && q->kind == S_Q_WANTED && i == self->queued_count - 1 && !failed) {
            wanted = res;
        } else {
            PQclear(res);
        }
    }
    self->queued_count = 0;
    s_read_to_sync(self);
    return wanted;
}

/* Runs one statement; returns its result if it succeeded (caller PQclears),
 * NULL after logging otherwise. */
static PGresult *s_exec(qc_store_backend_t *self, const char *sql, int n, const char *const *params)
{
    if (self->pipeline) /* queued behind what waits, and waited for with it */
        return s_queue(self, sql, n, params, S_Q_WANTED, 0) == 0 ? s_wait(self, 0) : NULL;
    int which = s_prepared_index(sql);
    char name[16];
    if (which >= 0) {
        snprintf(name, sizeof name, "qc%d", which);
        if (!self->prepared[which]) {
            self->round_trips++;
            PGresult *prep = PQprepare(self->conn, name, sql, n, NULL);
            int ok = PQresultStatus(prep) == PGRES_COMMAND_OK;
            PQclear(prep);
            if (!ok) {
                s_set_error(self, "prepare");
                qc_error("store: %.60s...: %s", sql, self->err);
                return NULL;
            }
            self->prepared[which] = 1;
        }
    }
    self->round_trips++;
    PGresult *res = which >= 0 ? PQexecPrepared(self->conn, name, n, params, NULL, NULL, 0)
                               : PQexecParams(self->conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        const char *rows = PQcmdTuples(res);
        if (rows && *rows && strncmp(sql, "SELECT", 6) != 0)
            self->changes += atoll(rows);
        return res;
    }
    s_set_error(self, NULL);
    qc_error("store: %.60s...: %s", sql, self->err);
    PQclear(res);
    return NULL;
}

static int s_exec_ok(qc_store_backend_t *self, const char *sql, int n, const char *const *params)
{
    PGresult *res = s_exec(self, sql, n, params);
    PQclear(res);
    return res ? 0 : -1;
}

/* A statement whose result decides nothing: queued in the pipeline (inside a
 * transaction), its success checked later (a failure fails the
 * transaction); outside one, run now. 0 or -1. */
static int s_defer(qc_store_backend_t *self, const char *sql, int n, const char *const *params)
{
    if (self->pipeline)
        return s_queue(self, sql, n, params, S_Q_OK, 0);
    return s_exec_ok(self, sql, n, params);
}

/* Before a write inside a request: opens its savepoint if asked for. */
static int s_write(qc_store_backend_t *self)
{
    if (self->sp_wanted && !self->sp_open) {
        if (s_defer(self, "SAVEPOINT req", 0, NULL) != 0)
            return -1;
        self->sp_open = 1;
        self->durable = 1; /* a client write: acknowledged after the commit */
    }
    return 0;
}

static void s_move(qc_store_backend_t *self, int from, int to)
{
    if (from >= 0 && from < QC_STATE_COUNT)
        self->tx_counts[from]--;
    if (to >= 0 && to < QC_STATE_COUNT)
        self->tx_counts[to]++;
}

static const char *s_text(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static int64_t s_i64(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : atoll(PQgetvalue(res, row, col));
}

const char *qc_pg_errmsg(qc_store_backend_t *self)
{
    return self->err[0] ? self->err : "no error";
}

/* Session settings: a paused or cut broker's open transaction is ended by
 * the server after one lease; waits on locks are bounded. */
static int s_session_setup(qc_store_backend_t *self)
{
    s_ints_t ints;
    const char *p[1] = {s_int(&ints, 0, self->lease_ms)};
    PGresult *res = s_exec(self,
                           "SELECT set_config('idle_in_transaction_session_timeout', $1, false),"
                           " set_config('lock_timeout', '500', false),"
                           " set_config('statement_timeout', '30000', false),"
                           " set_config('tcp_keepalives_idle', '1', false),"
                           " set_config('tcp_keepalives_interval', '1', false),"
                           " set_config('tcp_keepalives_count', '3', false),"
                           " set_config('synchronous_commit', 'on', false)",
                           1, p);
    PQclear(res);
    return res ? 0 : -1;
}

static int s_load_counts(qc_store_backend_t *self);
void qc_pg_rollback(qc_store_backend_t *self);

/* After a lost connection: one reconnect attempt (bounded by connect_timeout). */
static int s_reconnect(qc_store_backend_t *self)
{
    if (PQstatus(self->conn) == CONNECTION_OK)
        return 0;
    PQreset(self->conn);
    if (PQstatus(self->conn) != CONNECTION_OK) {
        s_set_error(self, "reconnect");
        return -1;
    }
    self->in_tx = self->sp_wanted = self->sp_open = 0;
    self->pipeline = self->doomed = 0; /* PQreset left pipeline mode */
    self->queued_count = 0;
    self->restricted = self->any_deps = -1;
    memset(self->prepared, 0, sizeof self->prepared); /* a new session */
    self->reconnected = 1;
    qc_info("store: reconnected to the database");
    if (s_session_setup(self) != 0)
        return -1;
    /* The server may have lost our last unflushed commits (a crash) or be
     * another one (a promoted standby): count again rather than trust memory. */
    return self->epoch > 0 ? s_load_counts(self) : 0;
}

static int s_migrate(qc_store_backend_t *self, char *err, size_t errlen)
{
    PGresult *res = s_pqexec(self, "BEGIN");
    PQclear(res);
    /* One migrator at a time, whatever broker starts first. */
    res = s_pqexec(self, "SELECT pg_advisory_xact_lock(7170775968471654011);"
                         "CREATE TABLE IF NOT EXISTS queuectl_schema (version integer NOT NULL);"
                         "INSERT INTO queuectl_schema SELECT 0 WHERE NOT EXISTS"
                         " (SELECT 1 FROM queuectl_schema)");
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    int version = -1;
    if (ok) {
        res = s_pqexec(self, "SELECT version FROM queuectl_schema");
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
            version = atoi(PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    if (version < 0) {
        snprintf(err, errlen, "cannot read the schema version: %s", PQerrorMessage(self->conn));
        goto fail;
    }
    if (version > S_MIGRATION_COUNT) {
        snprintf(err, errlen, "database schema version %d is newer than this broker's (%d)",
                 version, S_MIGRATION_COUNT);
        goto fail;
    }
    for (int v = version; v < S_MIGRATION_COUNT; v++) {
        res = s_pqexec(self, s_migrations[v]);
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        s_ints_t ints;
        const char *p[1] = {s_int(&ints, 0, v + 1)};
        if (!ok || s_exec_ok(self, "UPDATE queuectl_schema SET version = $1::integer", 1, p) != 0) {
            snprintf(err, errlen, "migration to schema %d failed: %s", v + 1,
                     PQerrorMessage(self->conn));
            goto fail;
        }
        if (version > 0)
            qc_info("store: migrated database to schema %d", v + 1);
    }
    res = s_pqexec(self, "COMMIT");
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
        snprintf(err, errlen, "migration commit failed: %s", PQerrorMessage(self->conn));
        return -1;
    }
    return 0;
fail:
    PQclear(s_pqexec(self, "ROLLBACK"));
    return -1;
}

/* Why a connection failed, from libpq's message (its server errors come
 * before the session exists, so there is no SQLSTATE to read). */
static int s_classify(PGconn *conn)
{
    const char *msg = PQerrorMessage(conn);
    if (PQconnectionNeedsPassword(conn) || strstr(msg, "password authentication failed") ||
        strstr(msg, "no password supplied") || strstr(msg, "authentication failed") ||
        strstr(msg, "no pg_hba.conf entry"))
        return QC_STORE_FAIL_AUTH;
    if (strstr(msg, "database \"") && strstr(msg, "does not exist"))
        return QC_STORE_FAIL_NO_DATABASE;
    /* Refused by libpq before connecting: a value in the URI is wrong. */
    if (strncmp(msg, "invalid ", 8) == 0)
        return QC_STORE_FAIL_BAD_URI;
    return QC_STORE_FAIL_UNREACHABLE;
}

qc_store_backend_t *qc_pg_open(const char *uri, int synchronous_full, int64_t lease_ms,
                               int *failure, char *err, size_t errlen)
{
    *failure = QC_STORE_FAIL_OTHER;
    char *perr = NULL;
    PQconninfoOption *parsed = PQconninfoParse(uri, &perr);
    if (!parsed) {
        *failure = QC_STORE_FAIL_BAD_URI;
        snprintf(err, errlen, "not a valid PostgreSQL connection URI: %s",
                 perr ? perr : "out of memory");
        size_t n = strlen(err);
        while (n > 0 && err[n - 1] == '\n')
            err[--n] = '\0';
        PQfreemem(perr);
        return NULL;
    }
    PQconninfoFree(parsed);
    qc_store_backend_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->lease_ms = lease_ms > 0 ? lease_ms : 3000;
    self->synchronous_full = synchronous_full;
    self->restricted = self->any_deps = -1;
    char host[64] = "?";
    gethostname(host, sizeof host - 1);
    snprintf(self->holder, sizeof self->holder, "%s:%d", host, (int)getpid());
    /* Defaults first: the URI's own values override them (expand_dbname).
     * tcp_user_timeout bounds a write on a cut link; keepalives notice one. */
    char timeout_ms[24];
    snprintf(timeout_ms, sizeof timeout_ms, "%lld", (long long)self->lease_ms);
    const char *keys[] = {"connect_timeout",     "tcp_user_timeout", "keepalives_idle",
                          "keepalives_interval", "keepalives_count", "application_name",
                          "client_encoding",     "dbname",           NULL};
    const char *values[] = {"2", timeout_ms, "1", "1", "3", "queuectl-broker", "UTF8", uri, NULL};
    self->conn = PQconnectdbParams(keys, values, 1);
    if (!self->conn || PQstatus(self->conn) != CONNECTION_OK) {
        *failure = self->conn ? s_classify(self->conn) : QC_STORE_FAIL_OTHER;
        s_set_error(self, NULL);
        snprintf(err, errlen, "cannot connect to the database: %s", self->err);
        qc_pg_destroy(&self);
        return NULL;
    }
    PQclear(s_pqexec(self, "SET client_min_messages = warning"));
    if (s_session_setup(self) != 0 || s_migrate(self, err, errlen) != 0) {
        if (!err[0])
            snprintf(err, errlen, "cannot set up the session: %s", self->err);
        qc_pg_destroy(&self);
        return NULL;
    }
    return self;
}

void qc_pg_destroy(qc_store_backend_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qc_store_backend_t *self = *self_p;
    if (self->conn && PQstatus(self->conn) == CONNECTION_OK) {
        if (self->in_tx || self->pipeline)
            qc_pg_rollback(self);
        if (self->epoch > 0) { /* a clean stop hands over at once */
            s_ints_t ints;
            const char *p[1] = {s_int(&ints, 0, self->epoch)};
            PQclear(PQexecParams(self->conn, s_sql_lease_release, 1, NULL, p, NULL, NULL, 0));
        }
    }
    PQclear(self->claimed);
    PQfinish(self->conn);
    free(self->queued);
    free(self);
    *self_p = NULL;
}

static int s_load_counts(qc_store_backend_t *self)
{
    PGresult *res = s_exec(self, s_sql_count_all, 0, NULL);
    if (!res)
        return -1;
    memset(self->counts, 0, sizeof self->counts);
    for (int i = 0; i < PQntuples(res); i++) {
        int state = atoi(PQgetvalue(res, i, 0));
        if (state >= 0 && state < QC_STATE_COUNT)
            self->counts[state] = atoll(PQgetvalue(res, i, 1));
    }
    PQclear(res);
    self->counts_loaded = 1;
    return 0;
}

int qc_pg_lease_acquire(qc_store_backend_t *self)
{
    if (s_reconnect(self) != 0)
        return -1;
    s_ints_t ints;
    const char *p[2] = {self->holder, s_int(&ints, 0, self->lease_ms)};
    int64_t sent_mono = qc_clock_mono_ms();
    PGresult *res = s_exec(self, s_sql_lease_take, 2, p);
    if (!res)
        return -1;
    int got = PQntuples(res) == 1;
    if (got)
        self->epoch = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!got)
        return 0;
    self->lease_until_mono = sent_mono + self->lease_ms - self->lease_ms / 5;
    self->restricted = self->any_deps = -1; /* the last holder may have changed them */
    /* Counts are ours to keep from now on: read them once. */
    if (s_load_counts(self) != 0) {
        self->epoch = 0;
        return -1;
    }
    qc_info("store: took the lease (epoch %lld, %lld ms)", (long long)self->epoch,
            (long long)self->lease_ms);
    return 1;
}

int qc_pg_take_reconnected(qc_store_backend_t *self)
{
    int was = self->reconnected;
    self->reconnected = 0;
    return was;
}

int qc_pg_lease_valid(qc_store_backend_t *self)
{
    return self->epoch > 0 && qc_clock_mono_ms() < self->lease_until_mono;
}

int qc_pg_begin(qc_store_backend_t *self)
{
    if (self->epoch <= 0)
        return QC_STORE_LEASE_LOST;
    if (s_reconnect(self) != 0)
        return -1;
    memset(self->tx_counts, 0, sizeof self->tx_counts);
    memset(self->tx_totals, 0, sizeof self->tx_totals);
    self->sp_wanted = self->sp_open = self->durable = 0;
    self->doomed = self->committed = self->queues_changed = 0;
    self->queued_count = 0;
    PQclear(self->claimed);
    self->claimed = NULL;
    self->queued_bytes = 0;
    self->renewed_until_mono = 0;
    if (PQenterPipelineMode(self->conn) != 1) {
        s_set_error(self, "begin");
        return -1;
    }
    self->pipeline = self->in_tx = 1;
    self->begun = 0; /* BEGIN goes with the first statement, if any */
    return 0;
}

/* Before a transaction's first statement: BEGIN and the renewal, queued
 * ahead of it. The renewal fails (and with it all that is queued behind it,
 * COMMIT included) if someone took the lease. 0, or -1 (doomed). */
static int s_open(qc_store_backend_t *self)
{
    if (!self->pipeline || self->begun)
        return 0;
    self->begun = 1;
    self->transactions++;
    s_ints_t ints;
    const char *p[2] = {s_int(&ints, 0, self->epoch), s_int(&ints, 1, self->lease_ms)};
    self->renew_queued_mono = qc_clock_mono_ms();
    if (s_queue(self, "BEGIN", 0, NULL, S_Q_OK, 0) != 0 ||
        s_queue(self, s_sql_lease_renew, 2, p, S_Q_RENEW, self->renew_queued_mono) != 0)
        return -1;
    return 0;
}

int64_t qc_pg_total_changes(qc_store_backend_t *self)
{
    return self->changes;
}

/* Leaves pipeline mode once every result is read. */
static void s_pipeline_end(qc_store_backend_t *self)
{
    if (self->pipeline && PQpipelineStatus(self->conn) != PQ_PIPELINE_OFF &&
        PQexitPipelineMode(self->conn) != 1)
        qc_warn("store: cannot leave pipeline mode: %s", PQerrorMessage(self->conn));
    self->pipeline = 0;
    self->queued_count = 0;
}

/* A COMMIT that was queued did not succeed. If the connection is gone, the
 * server may have committed before it went (and a synchronous standby may
 * have it): in doubt, and the replies must not say nothing was stored. */
static int s_commit_failed(qc_store_backend_t *self)
{
    return PQstatus(self->conn) == CONNECTION_OK ? -1 : QC_STORE_IN_DOUBT;
}

int qc_pg_commit(qc_store_backend_t *self)
{
    if (!self->in_tx || !self->pipeline)
        return -1;
    /* Every check of a queued statement is the server's (a failure skips
     * all behind it, COMMIT included): nothing to read before COMMIT. */
    if (self->doomed)
        return -1; /* the caller rolls back */
    /* A pass that touched nothing costs nothing until a quarter of the lease
     * has gone since its last renewal; then it renews it (BEGIN, renewal,
     * COMMIT: one round trip). Passes come at least every heartbeat (at most
     * half the lease), so a renewal is committed by three quarters of the
     * lease, before the four fifths after which the broker sends nothing. */
    if (!self->begun && qc_clock_mono_ms() <=
                            self->lease_until_mono - self->lease_ms * 4 / 5 + self->lease_ms / 4) {
        s_pipeline_end(self);
        self->in_tx = 0;
        return 0;
    }
    if (s_open(self) != 0)
        return -1;
    int any = 0;
    for (int i = 0; i < S_T_COUNT; i++)
        any |= self->tx_totals[i] != 0;
    s_ints_t ints;
    if (any) {
        const char *p[S_T_COUNT];
        for (int i = 0; i < S_T_COUNT; i++)
            p[i] = s_int(&ints, i, self->tx_totals[i]);
        if (s_queue(self, s_sql_totals_add, S_T_COUNT, p, S_Q_OK, 0) != 0)
            return -1;
    }
    /* A long pass renews again: we hold the row, so this always matches, and
     * what we send after the commit is covered from here. */
    int64_t renew_mono = qc_clock_mono_ms();
    if (renew_mono >
        self->renew_queued_mono + self->lease_ms - self->lease_ms / 5 - self->lease_ms / 2) {
        const char *p[2] = {s_int(&ints, S_T_COUNT, self->epoch),
                            s_int(&ints, S_T_COUNT + 1, self->lease_ms)};
        if (s_queue(self, s_sql_lease_renew, 2, p, S_Q_RENEW, renew_mono) != 0)
            return -1;
    }
    /* Client writes are acknowledged after the commit: they are flushed, and
     * reach a synchronous standby, before COMMIT returns. With --synchronous
     * normal (the default) a transaction without any (claims, results,
     * sweeps) doesn't wait for that: lost in a database crash, a claim is
     * made again and a result's job is retried after its orphan lease (at
     * least once; a job may briefly run twice at once, until the first
     * worker reconnects and is told CANCEL). --synchronous full flushes all. */
    if (!self->durable && !self->synchronous_full &&
        s_queue(self, "SET LOCAL synchronous_commit = off", 0, NULL, S_Q_OK, 0) != 0)
        return -1;
    /* COMMIT goes with everything still queued: one round trip. */
    if (s_queue(self, "COMMIT", 0, NULL, S_Q_COMMIT, 0) != 0)
        return -1;
    if (PQpipelineSync(self->conn) != 1) {
        s_doom(self, NULL, "commit");
        return s_commit_failed(self);
    }
    PQclear(s_wait(self, 1));
    s_pipeline_end(self);
    if (!self->committed) {
        if (!self->doomed) /* COMMIT of an aborted transaction answers ROLLBACK */
            snprintf(self->err, sizeof self->err, "commit: the transaction was aborted");
        return s_commit_failed(self);
    }
    if (self->renewed_until_mono > self->lease_until_mono)
        self->lease_until_mono = self->renewed_until_mono;
    for (int i = 0; i < QC_STATE_COUNT; i++)
        self->counts[i] += self->tx_counts[i];
    memset(self->tx_counts, 0, sizeof self->tx_counts);
    memset(self->tx_totals, 0, sizeof self->tx_totals);
    return 0;
}

void qc_pg_rollback(qc_store_backend_t *self)
{
    if (self->pipeline && PQstatus(self->conn) == CONNECTION_OK) {
        /* Read what is queued (prepared statements made or not), then end. */
        if (self->in_tx && self->begun &&
            PQsendQueryParams(self->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0))
            s_push(self, S_Q_OK, 0, 0);
        self->doomed = 1; /* a rolled-back transaction's failures are not news */
        if (self->queued_count > 0 && PQpipelineSync(self->conn) == 1)
            PQclear(s_wait(self, 1));
        s_pipeline_end(self);
    } else if (self->pipeline) {
        self->pipeline = 0; /* the connection is gone: its reset ends the pipeline */
        self->queued_count = 0;
    } else if (self->in_tx && PQstatus(self->conn) == CONNECTION_OK) {
        PQclear(s_pqexec(self, "ROLLBACK"));
    }
    self->in_tx = self->doomed = 0;
    PQclear(self->claimed); /* never committed */
    self->claimed = NULL;
    if (self->queues_changed) /* the change is undone: ask again */
        self->restricted = -1;
    self->queues_changed = 0;
    memset(self->tx_counts, 0, sizeof self->tx_counts);
    memset(self->tx_totals, 0, sizeof self->tx_totals);
}

int qc_pg_savepoint(qc_store_backend_t *self)
{
    if (!self->in_tx)
        return -1;
    self->sp_wanted = 1;
    self->sp_open = 0;
    memcpy(self->sp_counts, self->tx_counts, sizeof self->sp_counts);
    memcpy(self->sp_totals, self->tx_totals, sizeof self->sp_totals);
    return 0;
}

int qc_pg_release(qc_store_backend_t *self)
{
    int rc = 0;
    if (self->sp_open)
        rc = s_defer(self, "RELEASE req", 0, NULL);
    self->sp_wanted = self->sp_open = 0;
    return rc;
}

void qc_pg_rollback_savepoint(qc_store_backend_t *self)
{
    if (self->sp_open && s_defer(self, "ROLLBACK TO req", 0, NULL) == 0)
        s_defer(self, "RELEASE req", 0, NULL);
    memcpy(self->tx_counts, self->sp_counts, sizeof self->tx_counts);
    memcpy(self->tx_totals, self->sp_totals, sizeof self->tx_totals);
    self->sp_wanted = self->sp_open = 0;
    if (self->queues_changed)
        self->restricted = -1; /* it may have changed a queue */
}

int qc_pg_config_load(qc_store_backend_t *self, qc_config_t *config)
{
    PGresult *res = s_exec(self, s_sql_config_all, 0, NULL);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        char err[200];
        if (qc_config_set(config, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), err, sizeof err) !=
            0)
            qc_warn("store: ignoring stored config: %s", err);
    }
    PQclear(res);
    return 0;
}

int qc_pg_config_save(qc_store_backend_t *self, const char *key, const char *value)
{
    if (s_write(self) != 0)
        return -1;
    const char *p[2] = {key, value};
    return s_defer(self, s_sql_config_save, 2, p);
}

/* Time-ordered ids, as in the SQLite store. */
static void s_generate_id(char *id, size_t len, int64_t now_ms)
{
    static uint16_t counter;
    static int seeded;
    if (!seeded) {
        counter = (uint16_t)(getpid() ^ (now_ms * 2654435761u));
        seeded = 1;
    }
    snprintf(id, len, "j-%011llx%04x", (unsigned long long)now_ms, (unsigned)counter++);
}

/* The unfinished job holding key into holder: 1, 0 if none, -1 on error. */
static int s_unique_holder(qc_store_backend_t *self, const char *key, char *holder)
{
    const char *p[1] = {key};
    PGresult *res = s_exec(self, s_sql_unique_holder, 1, p);
    if (!res)
        return -1;
    int held = PQntuples(res) == 1;
    if (held)
        snprintf(holder, QC_MAX_ID_BYTES + 1, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return held;
}

int qc_pg_job_insert(qc_store_backend_t *self, const qc_job_spec_t *spec, const qc_config_t *config,
                     int64_t now_ms, char *id_out)
{
    if (s_write(self) != 0)
        return -1;
    int plain = !spec->id[0] && !spec->unique_key[0] && spec->after_count == 0;
    if (spec->unique_key[0]) {
        int held = s_unique_holder(self, spec->unique_key, id_out);
        if (held != 0)
            return held > 0 ? QC_STORE_UNIQUE_HELD : -1;
    }
    /* Dependencies: each must exist and may not have ended dead or canceled. */
    char dep_seqs[QC_MAX_DEPS][24];
    int deps_left = 0;
    for (int i = 0; i < spec->after_count; i++) {
        const char *q[1] = {spec->after[i]};
        PGresult *dep = s_exec(self, "SELECT seq, state FROM jobs WHERE id = $1", 1, q);
        if (!dep)
            return -1;
        int found = PQntuples(dep) == 1;
        int state = found ? (int)s_i64(dep, 0, 1) : -1;
        if (found)
            snprintf(dep_seqs[i], sizeof dep_seqs[i], "%s", PQgetvalue(dep, 0, 0));
        PQclear(dep);
        if (!found || state == QC_STATE_DEAD || state == QC_STATE_CANCELED) {
            snprintf(id_out, QC_MAX_ID_BYTES + 1, "%s", spec->after[i]);
            return found ? QC_STORE_DEP_ENDED : QC_STORE_DEP_MISSING;
        }
        deps_left += state != QC_STATE_COMPLETED;
    }
    for (int tries = 0; tries < 4; tries++) {
        if (spec->id[0])
            snprintf(id_out, QC_MAX_ID_BYTES + 1, "%s", spec->id);
        else
            s_generate_id(id_out, QC_MAX_ID_BYTES + 1, now_ms);
        int64_t run_at = spec->run_at_ms ? spec->run_at_ms : now_ms + spec->delay_ms;
        s_ints_t ints;
        const char *p[14] = {
            id_out,
            spec->command,
            s_int(&ints, 0, spec->priority),
            s_int(&ints, 1, spec->max_retries >= 0 ? spec->max_retries : config->max_retries),
            s_int(&ints, 2, spec->timeout_s > 0 ? spec->timeout_s : config->job_timeout_s),
            s_int(&ints, 3, run_at),
            s_int(&ints, 4, now_ms),
            spec->env_json,
            spec->cwd,
            spec->retry_on_exit ? spec->retry_on_exit : config->retry_on_exit,
            spec->no_retry_on_exit ? spec->no_retry_on_exit : config->no_retry_on_exit,
            spec->unique_key[0] ? spec->unique_key : NULL,
            s_int(&ints, 5, deps_left),
            spec->queue[0] ? spec->queue : "default"};
        if (plain) { /* it inserts its row or fails (and the pass with it): queued */
            if (s_defer(self, s_sql_insert_new, 14, p) != 0)
                return -1;
            s_move(self, -1, QC_STATE_PENDING);
            self->tx_totals[S_T_ENQUEUED]++;
            return 0;
        }
        PGresult *res = s_exec(self, s_sql_insert, 14, p);
        if (!res)
            return -1;
        int inserted = PQntuples(res) == 1;
        char seq[24] = "";
        if (inserted)
            snprintf(seq, sizeof seq, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        if (inserted) {
            if (spec->after_count > 0)
                self->any_deps = 1;
            for (int i = 0; i < spec->after_count; i++) {
                const char *d[2] = {dep_seqs[i], seq};
                if (s_exec_ok(self,
                              "INSERT INTO deps (dep_seq, job_seq) VALUES ($1, $2)"
                              " ON CONFLICT DO NOTHING",
                              2, d) != 0)
                    return -1;
            }
            s_move(self, -1, deps_left > 0 ? QC_STATE_WAITING : QC_STATE_PENDING);
            self->tx_totals[S_T_ENQUEUED]++;
            return 0;
        }
        if (spec->id[0])
            return QC_STORE_DUPLICATE;
    }
    return -1;
}

int qc_pg_job_insert_many(qc_store_backend_t *self, const qc_job_spec_t *specs, int n,
                          const qc_config_t *config, int64_t now_ms,
                          char (*ids_out)[QC_MAX_ID_BYTES + 1], int *failed_index)
{
    if (s_write(self) != 0)
        return -1;
    cJSON *rows = cJSON_CreateArray();
    for (int i = 0; rows && i < n; i++) {
        const qc_job_spec_t *spec = &specs[i];
        if (spec->id[0])
            snprintf(ids_out[i], QC_MAX_ID_BYTES + 1, "%s", spec->id);
        else
            s_generate_id(ids_out[i], QC_MAX_ID_BYTES + 1, now_ms);
        cJSON *row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "id", ids_out[i]);
        cJSON_AddStringToObject(row, "command", spec->command);
        cJSON_AddNumberToObject(row, "priority", spec->priority);
        cJSON_AddNumberToObject(row, "max_retries",
                                spec->max_retries >= 0 ? spec->max_retries : config->max_retries);
        cJSON_AddNumberToObject(row, "timeout_s",
                                spec->timeout_s > 0 ? spec->timeout_s : config->job_timeout_s);
        cJSON_AddNumberToObject(
            row, "run_at", (double)(spec->run_at_ms ? spec->run_at_ms : now_ms + spec->delay_ms));
        cJSON_AddItemToArray(rows, row);
    }
    char *json = s_json_param(rows);
    if (!json)
        return -1;
    s_ints_t ints;
    const char *p[2] = {json, s_int(&ints, 0, now_ms)};
    int given_ids = 0;
    for (int i = 0; i < n && !given_ids; i++)
        given_ids = specs[i].id[0] != 0;
    if (!given_ids) { /* nothing to name as a duplicate: all inserted or it fails, queued */
        int rc = s_defer(self, s_sql_insert_many_new, 2, p);
        cJSON_free(json);
        if (rc != 0)
            return -1;
        self->tx_counts[QC_STATE_PENDING] += n;
        self->tx_totals[S_T_ENQUEUED] += n;
        return 0;
    }
    PGresult *res = s_exec(self, s_sql_insert_many, 2, p);
    cJSON_free(json);
    if (!res)
        return -1;
    int inserted = PQntuples(res);
    self->tx_counts[QC_STATE_PENDING] += inserted;
    self->tx_totals[S_T_ENQUEUED] += inserted;
    int rc = 0;
    if (inserted < n) { /* the first id that wasn't inserted: in order, so compare */
        int r = 0, i = 0;
        for (; i < n && r < inserted; i++)
            if (strcmp(PQgetvalue(res, r, 0), ids_out[i]) == 0)
                r++;
            else
                break;
        *failed_index = i;
        /* A generated id that collided (time + counter): rare; let the client retry. */
        rc = specs[i].id[0] ? QC_STORE_DUPLICATE : -1;
    }
    PQclear(res);
    return rc;
}

static cJSON *s_job_row(PGresult *res, int row);
static int s_claim_row(qc_store_backend_t *self, PGresult *res, int row, qc_claim_t *claim);
static int s_claim_many_send(qc_store_backend_t *self, const qc_worker_ref_t *workers, int n,
                             int64_t now_ms, s_qkind_t kind);

/* A claim by s_sql_claim (seq < 0) or s_sql_claim_seq. */
static int s_claim(qc_store_backend_t *self, const qc_worker_ref_t *worker, int64_t now_ms,
                   int64_t seq, qc_claim_t *claim)
{
    if (s_write(self) != 0)
        return -1;
    s_ints_t ints;
    const char *p[6] = {s_int(&ints, 0, now_ms),      worker->worker_id, worker->host,
                        s_int(&ints, 1, worker->pid), worker->instance,  s_int(&ints, 2, seq)};
    PGresult *res = s_exec(self, seq < 0 ? s_sql_claim : s_sql_claim_seq, seq < 0 ? 5 : 6, p);
    if (!res)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return 0;
    }
    int rc = s_claim_row(self, res, 0, claim);
    PQclear(res);
    return rc == 0 ? 1 : -1;
}

int qc_pg_job_claim_next(qc_store_backend_t *self, const qc_worker_ref_t *worker, int64_t now_ms,
                         qc_claim_t *claim)
{
    return s_claim(self, worker, now_ms, -1, claim);
}

/* 1 if queue is paused or at its cap (a count bounded by the cap), 0 if
 * not, -1 on error. */
static int s_queue_blocked(qc_store_backend_t *self, const char *queue)
{
    const char *p[1] = {queue};
    PGresult *res = s_exec(self,
                           "SELECT paused != 0 OR (max_running > 0 AND (SELECT count(*) FROM jobs"
                           " WHERE queue = $1 AND state = 1) >= max_running) FROM queues"
                           " WHERE name = $1",
                           1, p);
    if (!res)
        return -1;
    int blocked = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return blocked;
}

#define S_MAX_QUEUES_SCANNED 1024

/* 1 if some queue is paused or capped, 0 if not, -1 on error. Asked once and
 * kept: only queue_update changes it (and a rollback may undo that). */
static int s_restricted(qc_store_backend_t *self)
{
    if (self->restricted >= 0)
        return self->restricted;
    PGresult *r = s_exec(self,
                         "SELECT EXISTS (SELECT 1 FROM queues WHERE paused != 0 OR"
                         " max_running > 0)",
                         0, NULL);
    if (!r)
        return -1;
    self->restricted = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return self->restricted;
}

static int qc_pg_job_claim_for(qc_store_backend_t *self, const qc_worker_ref_t *worker,
                               int64_t now_ms, const char *queues, qc_claim_t *claim);

/* Fills claim from row of a claim statement's result. 0, or -1 out of memory. */
static int s_claim_fill(PGresult *res, int row, qc_claim_t *claim)
{
    claim->seq = s_i64(res, row, 0);
    snprintf(claim->id, sizeof claim->id, "%s", PQgetvalue(res, row, 1));
    claim->command = strdup(PQgetvalue(res, row, 2));
    claim->attempt = (int)s_i64(res, row, 3);
    claim->timeout_s = (int)s_i64(res, row, 4);
    claim->run_at_ms = s_i64(res, row, 5);
    claim->attempts = (int)s_i64(res, row, 6);
    claim->max_retries = (int)s_i64(res, row, 7);
    claim->priority = (int)s_i64(res, row, 8);
    const char *env = s_text(res, row, 10), *cwd = s_text(res, row, 11);
    claim->env_json = env ? strdup(env) : NULL;
    claim->cwd = cwd ? strdup(cwd) : NULL;
    snprintf(claim->queue, sizeof claim->queue, "%s", PQgetvalue(res, row, 12));
    return claim->command ? 0 : -1;
}

/* The same, moving the job's count to processing. */
static int s_claim_row(qc_store_backend_t *self, PGresult *res, int row, qc_claim_t *claim)
{
    s_move(self, (int)s_i64(res, row, 9), QC_STATE_PROCESSING);
    return s_claim_fill(res, row, claim);
}

/* The claim for n workers sent with COMMIT (the pass waits for nothing more
 * before it): its rows are read with COMMIT's answer. */
static int qc_pg_job_claim_with_commit(qc_store_backend_t *self, const qc_worker_ref_t *workers,
                                       int n, int64_t now_ms)
{
    int restricted = s_restricted(self);
    if (restricted < 0)
        return -1;
    if (restricted || self->claimed)
        return QC_STORE_UNSUPPORTED; /* one at a time through the queues' checks */
    for (int i = 0; i < self->queued_count; i++)
        if (self->queued[i].kind == S_Q_CLAIM)
            return QC_STORE_UNSUPPORTED; /* one such claim per transaction */
    return s_claim_many_send(self, workers, n, now_ms, S_Q_CLAIM);
}

static int qc_pg_claims_committed(qc_store_backend_t *self, qc_claim_t *claims, int max)
{
    if (!self->claimed || self->in_tx)
        return 0;
    int got = PQntuples(self->claimed) < max ? PQntuples(self->claimed) : max;
    for (int i = 0; i < got; i++)
        if (s_claim_fill(self->claimed, i, &claims[i]) != 0)
            qc_error("store: out of memory reading claim %d", i); /* handed out without command */
    PQclear(self->claimed);
    self->claimed = NULL;
    return got;
}

/* Queues s_sql_claim_many for workers[0..n) as kind. 0 or -1. */
static int s_claim_many_send(qc_store_backend_t *self, const qc_worker_ref_t *workers, int n,
                             int64_t now_ms, s_qkind_t kind)
{
    if (!self->pipeline || s_write(self) != 0)
        return -1;
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; list && i < n; i++) {
        cJSON *w = cJSON_CreateObject();
        cJSON_AddStringToObject(w, "worker_id", workers[i].worker_id);
        cJSON_AddStringToObject(w, "host", workers[i].host);
        cJSON_AddNumberToObject(w, "pid", workers[i].pid);
        cJSON_AddStringToObject(w, "token", workers[i].instance);
        cJSON_AddItemToArray(list, w);
    }
    char *json = s_json_param(list);
    if (!json)
        return -1;
    s_ints_t ints;
    const char *p[2] = {s_int(&ints, 0, now_ms), json};
    int rc = s_queue(self, s_sql_claim_many, 2, p, kind, n);
    cJSON_free(json);
    return rc;
}

/* Claims for n workers in one statement when no queue is paused or capped;
 * otherwise one by one, as claim_for would. */
static int qc_pg_job_claim_many(qc_store_backend_t *self, const qc_worker_ref_t *workers, int n,
                                int64_t now_ms, qc_claim_t *claims)
{
    int restricted = s_restricted(self);
    if (restricted < 0)
        return -1;
    if (restricted || n == 1) {
        int got = 0;
        for (; got < n; got++) {
            int rc = qc_pg_job_claim_for(self, &workers[got], now_ms, NULL, &claims[got]);
            if (rc != 1)
                return rc < 0 && got == 0 ? -1 : got;
        }
        return got;
    }
    PGresult *res = NULL;
    if (s_claim_many_send(self, workers, n, now_ms, S_Q_WANTED) == 0)
        res = s_wait(self, 0);
    if (!res)
        return -1;
    int got = PQntuples(res) < n ? PQntuples(res) : n;
    for (int i = 0; i < got; i++)
        if (s_claim_row(self, res, i, &claims[i]) != 0) {
            got = -1; /* out of memory: the pass must not keep these claims */
            break;
        }
    PQclear(res);
    return got;
}

static int qc_pg_job_claim_for(qc_store_backend_t *self, const qc_worker_ref_t *worker,
                               int64_t now_ms, const char *queues, qc_claim_t *claim)
{
    PGresult *names = NULL;
    char *list = NULL;
    const char *name[S_MAX_QUEUES_SCANNED];
    int count = 0;
    if (!queues) {
        /* Every queue: the global claim, unless a queue is paused or capped. */
        int restricted = s_restricted(self);
        if (restricted < 0)
            return -1;
        if (!restricted)
            return s_claim(self, worker, now_ms, -1, claim);
        /* The queues with waiting jobs: a loose index scan of jobs_ready_q. */
        names = s_exec(self,
                       "WITH RECURSIVE q AS ((SELECT queue FROM jobs WHERE state IN (0, 3)"
                       "  ORDER BY queue LIMIT 1) UNION ALL SELECT (SELECT j.queue FROM jobs j"
                       "  WHERE j.state IN (0, 3) AND j.queue > q.queue ORDER BY j.queue LIMIT 1)"
                       "  FROM q WHERE q.queue IS NOT NULL)"
                       " SELECT queue FROM q WHERE queue IS NOT NULL",
                       0, NULL);
        if (!names)
            return -1;
        for (int i = 0; i < PQntuples(names) && count < S_MAX_QUEUES_SCANNED; i++)
            name[count++] = PQgetvalue(names, i, 0);
    } else {
        list = strdup(queues);
        for (char *save = NULL, *q = list ? strtok_r(list, ",", &save) : NULL;
             q && count < S_MAX_QUEUES_SCANNED; q = strtok_r(NULL, ",", &save))
            name[count++] = q;
    }
    int64_t best_seq = -1, best_priority = 0;
    int rc = 0;
    s_ints_t ints;
    for (int i = 0; i < count; i++) {
        int blocked = s_queue_blocked(self, name[i]);
        if (blocked < 0) {
            rc = -1;
            break;
        }
        if (blocked)
            continue;
        const char *p[2] = {name[i], s_int(&ints, 0, now_ms)};
        PGresult *head = s_exec(self,
                                "SELECT seq, priority FROM jobs WHERE queue = $1"
                                " AND state IN (0, 3) AND run_at <= $2::bigint"
                                " ORDER BY priority DESC, seq LIMIT 1",
                                2, p);
        if (!head) {
            rc = -1;
            break;
        }
        int found = PQntuples(head) == 1;
        int64_t seq = found ? s_i64(head, 0, 0) : -1, priority = found ? s_i64(head, 0, 1) : 0;
        PQclear(head);
        if (found && (best_seq < 0 || priority > best_priority ||
                      (priority == best_priority && seq < best_seq))) {
            best_seq = seq;
            best_priority = priority;
            if (queues)
                break; /* the worker's order is strict */
        }
    }
    PQclear(names);
    free(list);
    if (rc < 0 || best_seq < 0)
        return rc;
    return s_claim(self, worker, now_ms, best_seq, claim);
}

static int qc_pg_queue_update(qc_store_backend_t *self, const qc_queue_update_t *update)
{
    if (s_write(self) != 0)
        return -1;
    s_ints_t ints;
    const char *p[3] = {update->name, update->paused >= 0 ? s_int(&ints, 0, update->paused) : NULL,
                        update->max_running >= 0 ? s_int(&ints, 1, update->max_running) : NULL};
    self->restricted = -1; /* ask again */
    self->queues_changed = 1;
    return s_defer(self,
                   "INSERT INTO queues (name, paused, max_running) VALUES ($1,"
                   " COALESCE($2::smallint, 0), COALESCE($3::integer, 0)) ON CONFLICT (name)"
                   " DO UPDATE SET paused = COALESCE($2::smallint, queues.paused),"
                   " max_running = COALESCE($3::integer, queues.max_running)",
                   3, p);
}

/* Counts per queue come from counting (jobs_queue_state), not from tallies
 * as on SQLite: queue list costs the jobs there are (status does not). */
static cJSON *qc_pg_queue_list(qc_store_backend_t *self, int64_t now_ms)
{
    PGresult *res =
        s_exec(self, "SELECT queue, state, count(*) FROM jobs GROUP BY queue, state", 0, NULL);
    if (!res)
        return NULL;
    cJSON *by_name = cJSON_CreateObject();
    for (int i = 0; i < PQntuples(res); i++) {
        int state = (int)s_i64(res, i, 1);
        cJSON *counts = cJSON_GetObjectItemCaseSensitive(
            qc_store_queue_entry(by_name, PQgetvalue(res, i, 0)), "counts");
        if (state >= 0 && state < QC_STATE_COUNT)
            cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(counts, qc_state_name(state)),
                                 (double)s_i64(res, i, 2));
    }
    PQclear(res);
    res = s_exec(self, "SELECT name, paused, max_running FROM queues", 0, NULL);
    if (!res) {
        cJSON_Delete(by_name);
        return NULL;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        cJSON *entry = qc_store_queue_entry(by_name, PQgetvalue(res, i, 0));
        cJSON_ReplaceItemInObjectCaseSensitive(entry, "paused",
                                               cJSON_CreateBool(s_i64(res, i, 1) != 0));
        int64_t cap = s_i64(res, i, 2);
        cJSON_ReplaceItemInObjectCaseSensitive(
            entry, "max_running", cap > 0 ? cJSON_CreateNumber((double)cap) : cJSON_CreateNull());
    }
    PQclear(res);
    cJSON *list = cJSON_CreateArray();
    s_ints_t ints;
    for (cJSON *entry = by_name->child; entry; entry = entry->next) {
        cJSON *item = cJSON_Duplicate(entry, 1);
        cJSON_AddStringToObject(item, "name", entry->string);
        const char *p[2] = {entry->string, s_int(&ints, 0, now_ms)};
        PGresult *oldest = s_exec(self,
                                  "SELECT MIN(run_at) FROM jobs WHERE queue = $1"
                                  " AND state IN (0, 3) AND run_at <= $2::bigint",
                                  2, p);
        if (oldest && PQntuples(oldest) == 1 && !PQgetisnull(oldest, 0, 0))
            cJSON_AddNumberToObject(item, "oldest_pending_age_s",
                                    (double)(now_ms - s_i64(oldest, 0, 0)) / 1000.0);
        else
            cJSON_AddNullToObject(item, "oldest_pending_age_s");
        PQclear(oldest);
        cJSON_AddItemToArray(list, item);
    }
    cJSON_Delete(by_name);
    return list;
}

static int qc_pg_queue_counts(qc_store_backend_t *self, const char *queue,
                              int64_t counts[QC_STATE_COUNT])
{
    memset(counts, 0, sizeof(int64_t) * QC_STATE_COUNT);
    const char *p[1] = {queue};
    PGresult *res =
        s_exec(self, "SELECT state, count(*) FROM jobs WHERE queue = $1 GROUP BY state", 1, p);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        int state = (int)s_i64(res, i, 0);
        if (state >= 0 && state < QC_STATE_COUNT)
            counts[state] = s_i64(res, i, 1);
    }
    PQclear(res);
    return 0;
}

/* A page of `list` from res (S_JOB_COLUMNS rows, newest first, at most
 * limit), which it clears. A page also ends at about QC_LIST_PAGE_BYTES of
 * commands (store.h); *next_cursor is where the next one starts, or 0. */
static cJSON *s_job_page(PGresult *res, int limit, int64_t *next_cursor)
{
    cJSON *jobs = cJSON_CreateArray();
    int rows = PQntuples(res), taken = 0;
    int64_t bytes = 0;
    while (taken < rows && bytes < QC_LIST_PAGE_BYTES) {
        cJSON_AddItemToArray(jobs, s_job_row(res, taken));
        bytes += PQgetlength(res, taken, 2) + 512;
        taken++;
    }
    *next_cursor = (taken == limit || taken < rows) && taken > 0 ? s_i64(res, taken - 1, 0) : 0;
    PQclear(res);
    return jobs;
}

static cJSON *qc_pg_job_list_in(qc_store_backend_t *self, const qc_store_list_t *list,
                                int64_t *next_cursor)
{
    s_ints_t ints;
    const char *p[4] = {s_int(&ints, 0, list->cursor > 0 ? list->cursor : INT64_MAX),
                        s_int(&ints, 1, list->limit), list->queue, s_int(&ints, 2, list->state)};
    PGresult *res =
        list->state < 0
            ? s_exec(self,
                     "SELECT " S_JOB_COLUMNS " FROM jobs WHERE queue = $3 AND seq < $1::bigint"
                     " ORDER BY seq DESC LIMIT $2::integer",
                     3, p)
            : s_exec(self,
                     "SELECT " S_JOB_COLUMNS " FROM jobs WHERE queue = $3 AND state = $4::smallint"
                     " AND seq < $1::bigint ORDER BY seq DESC LIMIT $2::integer",
                     4, p);
    return res ? s_job_page(res, list->limit, next_cursor) : NULL;
}

int64_t qc_pg_next_due_ms(qc_store_backend_t *self)
{
    PGresult *res = s_exec(self, s_sql_next_due, 0, NULL);
    int64_t due = -1;
    if (res && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        due = s_i64(res, 0, 0);
    PQclear(res);
    return due;
}

int qc_pg_job_running(qc_store_backend_t *self, const char *id, qc_running_t *running)
{
    const char *p[1] = {id};
    PGresult *res = s_exec(self, s_sql_running, 1, p);
    if (!res)
        return -1;
    int found = PQntuples(res) == 1;
    if (found) {
        running->seq = s_i64(res, 0, 0);
        running->attempt = (int)s_i64(res, 0, 1);
        running->attempts = (int)s_i64(res, 0, 2);
        running->max_retries = (int)s_i64(res, 0, 3);
        const char *worker = s_text(res, 0, 4);
        snprintf(running->worker_id, sizeof running->worker_id, "%s", worker ? worker : "");
        running->cancel_requested = (int)s_i64(res, 0, 5);
        const char *token = s_text(res, 0, 6);
        snprintf(running->worker_token, sizeof running->worker_token, "%s", token ? token : "");
        running->started = strcmp(PQgetvalue(res, 0, 7), "t") == 0;
        snprintf(running->retry_on_exit, sizeof running->retry_on_exit, "%s",
                 PQgetvalue(res, 0, 8));
        snprintf(running->no_retry_on_exit, sizeof running->no_retry_on_exit, "%s",
                 PQgetvalue(res, 0, 9));
    }
    PQclear(res);
    return found ? 0 : QC_STORE_NOT_FOUND;
}

static const char *s_or_null(const char *text)
{
    return text && *text ? text : NULL;
}

int qc_pg_job_finish(qc_store_backend_t *self, const qc_running_t *running,
                     const qc_result_t *result, qc_state_t next_state, int64_t run_at_ms,
                     int64_t now_ms)
{
    if (s_write(self) != 0)
        return -1;
    s_ints_t ints;
    /* A run that never started is recorded but not charged. */
    int uncharged = result->outcome == QC_OUTCOME_NOT_STARTED;
    const char *p[16] = {s_int(&ints, 0, running->seq),
                         s_int(&ints, 1, running->attempt),
                         s_int(&ints, 2, result->finished_at_ms ? result->finished_at_ms : now_ms),
                         s_int(&ints, 3, result->outcome),
                         result->exit_code >= 0 ? s_int(&ints, 4, result->exit_code) : NULL,
                         s_int(&ints, 5, result->signal),
                         s_int(&ints, 6, result->cpu_ms),
                         s_int(&ints, 7, result->max_rss_kb),
                         s_or_null(result->error),
                         s_or_null(result->stdout_tail),
                         s_or_null(result->stderr_tail),
                         s_int(&ints, 8, next_state),
                         s_int(&ints, 9, run_at_ms),
                         s_int(&ints, 10, now_ms),
                         s_int(&ints, 11, uncharged),
                         s_int(&ints, 12, uncharged ? 0 : result->started_at_ms)};
    /* The running lookup just found it processing in this transaction: one
     * row changes (if none did, the statement fails, and the transaction). */
    if (s_defer(self, s_sql_finish, 16, p) != 0)
        return -1;
    {
        s_move(self, QC_STATE_PROCESSING, next_state);
        if (result->outcome != QC_OUTCOME_SUCCEEDED && !uncharged)
            self->tx_totals[S_T_FAILED]++;
        if (next_state == QC_STATE_COMPLETED)
            self->tx_totals[S_T_COMPLETED]++;
        else if (next_state == QC_STATE_FAILED)
            self->tx_totals[S_T_RETRIED]++;
        else if (next_state == QC_STATE_DEAD)
            self->tx_totals[S_T_DEAD]++;
        else if (next_state == QC_STATE_CANCELED)
            self->tx_totals[S_T_CANCELED]++;
    }
    return 0;
}

int qc_pg_each_running(qc_store_backend_t *self, qc_store_running_fn *fn, void *arg)
{
    PGresult *res = s_exec(self, s_sql_each_running, 0, NULL);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *worker = s_text(res, i, 3);
        fn(arg, s_i64(res, i, 0), PQgetvalue(res, i, 1), (int)s_i64(res, i, 2),
           worker ? worker : "");
    }
    PQclear(res);
    return 0;
}

static int s_missing_or_conflict(qc_store_backend_t *self, const char *id)
{
    const char *p[1] = {id};
    PGresult *res = s_exec(self, s_sql_state_of, 1, p);
    if (!res)
        return -1;
    int found = PQntuples(res) == 1;
    PQclear(res);
    return found ? QC_STORE_CONFLICT : QC_STORE_NOT_FOUND;
}

int qc_pg_job_revive(qc_store_backend_t *self, const char *id, int64_t now_ms)
{
    if (s_write(self) != 0)
        return -1;
    /* A dead job whose unique key an unfinished job took meanwhile stays dead. */
    const char *k[1] = {id};
    PGresult *key = s_exec(self, s_sql_unique_of_dead, 1, k);
    if (!key)
        return -1;
    if (PQntuples(key) == 1) {
        char holder[QC_MAX_ID_BYTES + 1];
        int held = s_unique_holder(self, PQgetvalue(key, 0, 0), holder);
        if (held != 0) {
            PQclear(key);
            return held > 0 ? QC_STORE_UNIQUE_HELD : -1;
        }
    }
    PQclear(key);
    s_ints_t ints;
    const char *p[2] = {id, s_int(&ints, 0, now_ms)};
    PGresult *res = s_exec(self, s_sql_revive, 2, p);
    if (!res)
        return -1;
    int changed = atoi(PQcmdTuples(res)) == 1;
    PQclear(res);
    if (changed) {
        s_move(self, QC_STATE_DEAD, QC_STATE_PENDING);
        return 0;
    }
    return s_missing_or_conflict(self, id);
}

int qc_pg_job_cancel(qc_store_backend_t *self, const char *id, int64_t now_ms)
{
    if (s_write(self) != 0)
        return -1;
    s_ints_t ints;
    const char *p[2] = {id, s_int(&ints, 0, now_ms)};
    PGresult *res = s_exec(self, s_sql_cancel_waiting, 2, p);
    if (!res)
        return -1;
    if (PQntuples(res) == 1) {
        s_move(self, (int)s_i64(res, 0, 0), QC_STATE_CANCELED);
        PQclear(res);
        return 0;
    }
    PQclear(res);
    res = s_exec(self, s_sql_cancel_request, 2, p);
    if (!res)
        return -1;
    int changed = atoi(PQcmdTuples(res)) == 1;
    PQclear(res);
    return changed ? QC_STORE_RUNNING : s_missing_or_conflict(self, id);
}

int64_t qc_pg_purge(qc_store_backend_t *self, int state, int64_t before_ms, int64_t max_rows)
{
    if (s_write(self) != 0)
        return -1;
    int64_t deleted = 0;
    while (deleted < max_rows) {
        s_ints_t ints;
        const char *p[2] = {s_int(&ints, 0, state), s_int(&ints, 1, before_ms)};
        PGresult *res = s_exec(self, s_sql_purge, 2, p);
        if (!res)
            return -1;
        int64_t changed = atoll(PQcmdTuples(res));
        PQclear(res);
        deleted += changed;
        if (state >= 0 && state < QC_STATE_COUNT)
            self->tx_counts[state] -= changed;
        if (changed == 0)
            break;
    }
    return deleted;
}

cJSON *qc_pg_totals(qc_store_backend_t *self)
{
    PGresult *res = s_exec(self, s_sql_totals, 0, NULL);
    if (!res)
        return NULL;
    cJSON *totals = cJSON_CreateObject();
    static const char *names[S_T_COUNT] = {"enqueued", "completed", "failed",
                                           "dead",     "retried",   "canceled"};
    for (int i = 0; i < PQntuples(res); i++) {
        const char *name = PQgetvalue(res, i, 0);
        int64_t n = s_i64(res, i, 1);
        for (int t = 0; t < S_T_COUNT; t++)
            if (strcmp(names[t], name) == 0)
                n += self->tx_totals[t]; /* this transaction's, as SQLite would show */
        cJSON_AddNumberToObject(totals, name, (double)n);
    }
    PQclear(res);
    return totals;
}

static void s_add_time(cJSON *obj, const char *key, PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col)) {
        cJSON_AddNullToObject(obj, key);
        return;
    }
    char iso[32];
    cJSON_AddStringToObject(obj, key, qc_clock_format_iso(s_i64(res, row, col), iso, sizeof iso));
}

static void s_add_int(cJSON *obj, const char *key, PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        cJSON_AddNullToObject(obj, key);
    else
        cJSON_AddNumberToObject(obj, key, (double)s_i64(res, row, col));
}

static void s_add_text(cJSON *obj, const char *key, PGresult *res, int row, int col)
{
    const char *text = s_text(res, row, col);
    if (text)
        cJSON_AddStringToObject(obj, key, text);
    else
        cJSON_AddNullToObject(obj, key);
}

static cJSON *s_job_row(PGresult *res, int row)
{
    cJSON *job = cJSON_CreateObject();
    s_add_text(job, "id", res, row, 1);
    s_add_text(job, "command", res, row, 2);
    cJSON_AddStringToObject(job, "state", qc_state_name((int)s_i64(res, row, 3)));
    s_add_int(job, "priority", res, row, 4);
    s_add_int(job, "attempts", res, row, 5);
    s_add_int(job, "max_retries", res, row, 6);
    s_add_int(job, "timeout_s", res, row, 7);
    s_add_time(job, "run_at", res, row, 8);
    s_add_time(job, "created_at", res, row, 9);
    s_add_time(job, "updated_at", res, row, 10);
    s_add_time(job, "started_at", res, row, 11);
    s_add_time(job, "finished_at", res, row, 12);
    s_add_int(job, "exit_code", res, row, 13);
    s_add_text(job, "last_error", res, row, 14);
    s_add_text(job, "worker_id", res, row, 15);
    s_add_int(job, "runs", res, row, 16);
    s_add_text(job, "queue", res, row, 17);
    return job;
}

int qc_pg_job_get(qc_store_backend_t *self, const char *id, int with_attempts, cJSON **job_out)
{
    const char *p[1] = {id};
    *job_out = NULL;
    PGresult *res = s_exec(self, s_sql_get, 1, p);
    if (!res || PQntuples(res) != 1) {
        int rc = res ? QC_STORE_NOT_FOUND : -1;
        PQclear(res);
        return rc;
    }
    cJSON *job = s_job_row(res, 0);
    s_add_text(job, "stdout_tail", res, 0, 18);
    s_add_text(job, "stderr_tail", res, 0, 19);
    const char *env = s_text(res, 0, 20);
    cJSON *env_obj = env ? cJSON_Parse(env) : NULL;
    cJSON_AddItemToObject(job, "env", env_obj ? env_obj : cJSON_CreateNull());
    s_add_text(job, "cwd", res, 0, 21);
    cJSON_AddItemToObject(job, "retry_on_exit", qc_exit_list_to_json(PQgetvalue(res, 0, 22)));
    cJSON_AddItemToObject(job, "no_retry_on_exit", qc_exit_list_to_json(PQgetvalue(res, 0, 23)));
    s_add_text(job, "unique_key", res, 0, 24);
    s_ints_t ints;
    const char *seq[1] = {s_int(&ints, 0, s_i64(res, 0, 0))};
    int runs = (int)s_i64(res, 0, 16);
    PQclear(res);
    if (!with_attempts) {
        *job_out = job;
        return 0;
    }
    cJSON *log = cJSON_AddArrayToObject(job, "attempts_log");
    res = s_exec(self, s_sql_attempts_of, 1, seq);
    if (!res) {
        cJSON_Delete(job);
        return -1;
    }
    for (int i = 0; res && i < PQntuples(res); i++) {
        cJSON *a = cJSON_CreateObject();
        s_add_int(a, "attempt", res, i, 0);
        s_add_text(a, "worker_id", res, i, 1);
        s_add_text(a, "worker_host", res, i, 2);
        s_add_int(a, "worker_pid", res, i, 3);
        s_add_time(a, "started_at", res, i, 4);
        s_add_time(a, "finished_at", res, i, 5);
        if (PQgetisnull(res, i, 6))
            cJSON_AddNullToObject(a, "outcome");
        else
            cJSON_AddStringToObject(a, "outcome", qc_outcome_name((int)s_i64(res, i, 6)));
        s_add_int(a, "exit_code", res, i, 7);
        s_add_int(a, "signal", res, i, 8);
        s_add_int(a, "cpu_ms", res, i, 9);
        s_add_int(a, "max_rss_kb", res, i, 10);
        s_add_text(a, "error", res, i, 11);
        /* Tails of the last attempts only (store.h). */
        if (s_i64(res, i, 0) > runs - QC_TAILED_ATTEMPTS) {
            s_add_text(a, "stdout_tail", res, i, 12);
            s_add_text(a, "stderr_tail", res, i, 13);
        }
        cJSON_AddItemToArray(log, a);
    }
    PQclear(res);
    *job_out = job;
    return 0;
}

cJSON *qc_pg_job_list(qc_store_backend_t *self, int state, int limit, int64_t cursor,
                      int64_t *next_cursor)
{
    s_ints_t ints;
    const char *p[3] = {s_int(&ints, 0, cursor > 0 ? cursor : INT64_MAX), s_int(&ints, 1, limit),
                        s_int(&ints, 2, state)};
    PGresult *res =
        s_exec(self, state < 0 ? s_sql_list_all : s_sql_list_state, state < 0 ? 2 : 3, p);
    return res ? s_job_page(res, limit, next_cursor) : NULL;
}

int qc_pg_job_started(qc_store_backend_t *self, int64_t seq, int attempt, int64_t started_at_ms)
{
    if (s_write(self) != 0)
        return -1;
    s_ints_t ints;
    const char *p[3] = {s_int(&ints, 0, seq), s_int(&ints, 1, attempt),
                        s_int(&ints, 2, started_at_ms)};
    return s_defer(self, s_sql_started, 3, p);
}

cJSON *qc_pg_job_brief(qc_store_backend_t *self, const char *id)
{
    const char *p[1] = {id};
    PGresult *res = s_exec(self, s_sql_brief, 1, p);
    cJSON *job = res && PQntuples(res) == 1 ? s_job_row(res, 0) : NULL;
    PQclear(res);
    return job;
}

int qc_pg_job_states(qc_store_backend_t *self, const char *const *ids, int count, cJSON *out)
{
    size_t len = 1;
    for (int i = 0; i < count; i++)
        len += strlen(ids[i]) + 1;
    char *joined = malloc(len), *at = joined;
    if (!joined)
        return -1;
    *at = '\0';
    for (int i = 0; i < count; i++)
        at += sprintf(at, "%s%s", i ? "," : "", ids[i]);
    const char *p[1] = {joined};
    PGresult *res = s_exec(self, s_sql_states, 1, p);
    free(joined);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        cJSON *obj = cJSON_CreateObject();
        cJSON_AddStringToObject(obj, "id", PQgetvalue(res, i, 0));
        if (!PQgetisnull(res, i, 1)) {
            cJSON_AddStringToObject(obj, "state", qc_state_name((int)s_i64(res, i, 1)));
            s_add_int(obj, "attempts", res, i, 2);
            s_add_int(obj, "max_retries", res, i, 3);
            s_add_int(obj, "exit_code", res, i, 4);
            s_add_text(obj, "last_error", res, i, 5);
            s_add_time(obj, "updated_at", res, i, 6);
            s_add_time(obj, "finished_at", res, i, 7);
        } else {
            cJSON_AddNullToObject(obj, "state");
        }
        cJSON_AddItemToArray(out, obj);
    }
    PQclear(res);
    return 0;
}

cJSON *qc_pg_job_search(qc_store_backend_t *self, const qc_store_search_t *search,
                        int64_t *next_cursor, int *scanned)
{
    s_ints_t ints;
    const char *p[3] = {s_int(&ints, 0, search->cursor > 0 ? search->cursor : INT64_MAX),
                        s_int(&ints, 1, search->max_scan), s_int(&ints, 2, search->state)};
    PGresult *res = s_exec(self, search->state < 0 ? s_sql_list_all : s_sql_list_state,
                           search->state < 0 ? 2 : 3, p);
    if (!res)
        return NULL;
    cJSON *jobs = cJSON_CreateArray();
    int matches = 0, rows = PQntuples(res);
    int64_t last_seq = 0;
    *scanned = 0;
    for (int i = 0; i < rows && matches < search->limit; i++) {
        (*scanned)++;
        last_seq = s_i64(res, i, 0);
        const char *id = PQgetvalue(res, i, 1), *command = PQgetvalue(res, i, 2);
        if (search->skip_id && strcmp(id, search->skip_id) == 0)
            continue;
        if (strcasestr(id, search->text) || strcasestr(command, search->text)) {
            cJSON_AddItemToArray(jobs, s_job_row(res, i));
            matches++;
        }
    }
    PQclear(res);
    *next_cursor = (matches == search->limit || *scanned == search->max_scan) ? last_seq : 0;
    return jobs;
}

int qc_pg_counts(qc_store_backend_t *self, int64_t counts[QC_STATE_COUNT],
                 int64_t *oldest_pending_ms)
{
    if (!self->counts_loaded && s_load_counts(self) != 0)
        return -1;
    for (int i = 0; i < QC_STATE_COUNT; i++)
        counts[i] = self->counts[i] + (self->in_tx ? self->tx_counts[i] : 0);
    s_ints_t ints;
    const char *p[1] = {s_int(&ints, 0, qc_clock_wall_ms())};
    PGresult *res = s_exec(self, s_sql_oldest, 1, p);
    if (!res)
        return -1;
    *oldest_pending_ms = PQgetisnull(res, 0, 0) ? -1 : s_i64(res, 0, 0);
    PQclear(res);
    return 0;
}

/* ---- recurring jobs (store.h) ------------------------------------------- */

#define S_SCHED_COLUMNS                                                                            \
    "name, cron, tz, job, skip_if_running, paused, next_run, last_tick, last_job, runs, skipped, " \
    "created_at"

static int qc_pg_schedule_add(qc_store_backend_t *self, const qc_schedule_t *schedule)
{
    if (s_write(self) != 0)
        return -1;
    s_ints_t ints;
    const char *p[7] = {schedule->name,
                        schedule->cron,
                        schedule->tz,
                        schedule->job_json,
                        s_int(&ints, 0, schedule->skip_if_running),
                        schedule->next_run_ms >= 0 ? s_int(&ints, 1, schedule->next_run_ms) : NULL,
                        s_int(&ints, 2, schedule->created_at_ms)};
    PGresult *res = s_exec(self,
                           "INSERT INTO schedules (name, cron, tz, job, skip_if_running, next_run,"
                           " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                           " ON CONFLICT (name) DO NOTHING RETURNING name",
                           7, p);
    if (!res)
        return -1;
    int added = PQntuples(res) == 1;
    PQclear(res);
    return added ? 0 : QC_STORE_DUPLICATE;
}

static int qc_pg_schedule_update(qc_store_backend_t *self, const qc_schedule_update_t *update)
{
    if (s_write(self) != 0)
        return -1;
    s_ints_t ints;
    const char *p[7] = {update->name,
                        update->paused >= 0 ? s_int(&ints, 0, update->paused) : NULL,
                        update->next_run_ms >= 0 ? s_int(&ints, 1, update->next_run_ms) : NULL,
                        update->last_tick_ms >= 0 ? s_int(&ints, 2, update->last_tick_ms) : NULL,
                        update->last_job,
                        s_int(&ints, 3, update->ran),
                        s_int(&ints, 4, update->skipped)};
    PGresult *res = s_exec(self,
                           "UPDATE schedules SET paused = COALESCE($2::smallint, paused),"
                           " next_run = COALESCE($3::bigint, next_run),"
                           " last_tick = COALESCE($4::bigint, last_tick),"
                           " last_job = COALESCE($5::text, last_job), runs = runs + $6::integer,"
                           " skipped = skipped + $7::integer WHERE name = $1",
                           7, p);
    if (!res)
        return -1;
    int changed = atoi(PQcmdTuples(res)) == 1;
    PQclear(res);
    return changed ? 0 : QC_STORE_NOT_FOUND;
}

static int qc_pg_schedule_remove(qc_store_backend_t *self, const char *name)
{
    if (s_write(self) != 0)
        return -1;
    const char *p[1] = {name};
    PGresult *res = s_exec(self, "DELETE FROM schedules WHERE name = $1", 1, p);
    if (!res)
        return -1;
    int changed = atoi(PQcmdTuples(res)) == 1;
    PQclear(res);
    return changed ? 0 : QC_STORE_NOT_FOUND;
}

static cJSON *qc_pg_schedule_list(qc_store_backend_t *self, const char *name, int64_t due_by_ms)
{
    s_ints_t ints;
    const char *p[1] = {name ? name : s_int(&ints, 0, due_by_ms)};
    PGresult *res =
        name ? s_exec(self, "SELECT " S_SCHED_COLUMNS " FROM schedules WHERE name = $1", 1, p)
        : due_by_ms >= 0
            ? s_exec(self,
                     "SELECT " S_SCHED_COLUMNS " FROM schedules WHERE paused = 0 AND"
                     " next_run <= $1::bigint ORDER BY next_run LIMIT 100",
                     1, p)
            : s_exec(self, "SELECT " S_SCHED_COLUMNS " FROM schedules ORDER BY name", 0, NULL);
    if (!res)
        return NULL;
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; i < PQntuples(res); i++) {
        cJSON *s = cJSON_CreateObject();
        s_add_text(s, "name", res, i, 0);
        s_add_text(s, "cron", res, i, 1);
        s_add_text(s, "tz", res, i, 2);
        cJSON *job = cJSON_Parse(PQgetvalue(res, i, 3));
        cJSON_AddItemToObject(s, "job", job ? job : cJSON_CreateNull());
        cJSON_AddBoolToObject(s, "skip_if_running", s_i64(res, i, 4) != 0);
        cJSON_AddBoolToObject(s, "paused", s_i64(res, i, 5) != 0);
        s_add_int(s, "next_run_ms", res, i, 6);
        s_add_int(s, "last_tick_ms", res, i, 7);
        s_add_text(s, "last_job", res, i, 8);
        s_add_int(s, "runs", res, i, 9);
        s_add_int(s, "skipped", res, i, 10);
        s_add_time(s, "created_at", res, i, 11);
        cJSON_AddItemToArray(list, s);
    }
    PQclear(res);
    return list;
}

static cJSON *qc_pg_schedule_runs(qc_store_backend_t *self, const char *name, int limit)
{
    char low[QC_MAX_ID_BYTES + 2], high[QC_MAX_ID_BYTES + 2];
    snprintf(low, sizeof low, "%s@", name);
    snprintf(high, sizeof high, "%s@~", name);
    s_ints_t ints;
    const char *p[3] = {low, high, s_int(&ints, 0, limit)};
    /* COLLATE "C": the id index's byte order, whatever the database's locale. */
    PGresult *res = s_exec(self,
                           "SELECT id, state, run_at, finished_at, exit_code, last_error FROM jobs"
                           " WHERE id > $1 COLLATE \"C\" AND id < $2 COLLATE \"C\""
                           " ORDER BY id COLLATE \"C\" DESC LIMIT $3::integer",
                           3, p);
    if (!res)
        return NULL;
    cJSON *runs = cJSON_CreateArray();
    for (int i = 0; i < PQntuples(res); i++) {
        cJSON *run = cJSON_CreateObject();
        s_add_text(run, "id", res, i, 0);
        cJSON_AddStringToObject(run, "state", qc_state_name((int)s_i64(res, i, 1)));
        s_add_time(run, "run_at", res, i, 2);
        s_add_time(run, "finished_at", res, i, 3);
        s_add_int(run, "exit_code", res, i, 4);
        s_add_text(run, "last_error", res, i, 5);
        cJSON_AddItemToArray(runs, run);
    }
    PQclear(res);
    return runs;
}

static int64_t qc_pg_schedule_next_due(qc_store_backend_t *self)
{
    PGresult *res = s_exec(self, "SELECT MIN(next_run) FROM schedules WHERE paused = 0", 0, NULL);
    if (!res)
        return -2;
    int64_t due = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ? s_i64(res, 0, 0) : -1;
    PQclear(res);
    return due;
}

/* ---- dependencies (store.h) ---------------------------------------------- */

/* seq and state of job id: 1, 0 if none, -1 on error. */
static int s_seq_state(qc_store_backend_t *self, const char *id, char *seq, int *state)
{
    const char *p[1] = {id};
    PGresult *res = s_exec(self, "SELECT seq, state FROM jobs WHERE id = $1", 1, p);
    if (!res)
        return -1;
    int found = PQntuples(res) == 1;
    if (found) {
        snprintf(seq, 24, "%s", PQgetvalue(res, 0, 0));
        *state = (int)s_i64(res, 0, 1);
    }
    PQclear(res);
    return found;
}

typedef struct {
    char seq[24];
    char id[QC_MAX_ID_BYTES + 1];
} s_ref_t;

static int qc_pg_deps_settle(qc_store_backend_t *self, const char *id, int64_t now_ms,
                             qc_store_dep_fn *fn, void *arg)
{
    /* No dependency anywhere (the usual case): nothing to ask. Only the
     * lease holder inserts them, so once known this holds until we do. */
    if (self->any_deps < 0) {
        PGresult *any = s_exec(self, "SELECT EXISTS (SELECT 1 FROM deps)", 0, NULL);
        if (!any)
            return -1;
        self->any_deps = strcmp(PQgetvalue(any, 0, 0), "t") == 0;
        PQclear(any);
    }
    if (!self->any_deps)
        return 0;
    char root[24];
    int root_state, found = s_seq_state(self, id, root, &root_state);
    if (found <= 0)
        return found;
    if (root_state != QC_STATE_COMPLETED && root_state != QC_STATE_DEAD &&
        root_state != QC_STATE_CANCELED)
        return 0;
    if (s_write(self) != 0)
        return -1;
    s_ints_t ints;
    if (root_state == QC_STATE_COMPLETED) {
        /* One dependency fewer for each waiting dependent; the last frees it. */
        const char *p[2] = {root, s_int(&ints, 0, now_ms)};
        PGresult *res =
            s_exec(self,
                   "UPDATE jobs j SET deps_left = j.deps_left - 1,"
                   " state = CASE WHEN j.deps_left <= 1 THEN 0 ELSE 6 END,"
                   " run_at = CASE WHEN j.deps_left <= 1 AND j.run_at < $2::bigint THEN $2::bigint"
                   "  ELSE j.run_at END, updated_at = $2::bigint"
                   " FROM deps d WHERE d.dep_seq = $1::bigint AND j.seq = d.job_seq AND j.state = 6"
                   " RETURNING j.id, j.state",
                   2, p);
        if (!res)
            return -1;
        for (int i = 0; i < PQntuples(res); i++)
            if (s_i64(res, i, 1) == QC_STATE_PENDING) {
                s_move(self, QC_STATE_WAITING, QC_STATE_PENDING);
                if (fn)
                    fn(arg, PQgetvalue(res, i, 0), QC_STATE_PENDING, NULL);
            }
        PQclear(res);
        return 0;
    }
    /* Cancel everything waiting downstream, breadth first. */
    size_t count = 1, cap = 16;
    s_ref_t *refs = malloc(cap * sizeof *refs);
    if (!refs)
        return -1;
    snprintf(refs[0].seq, sizeof refs[0].seq, "%s", root);
    snprintf(refs[0].id, sizeof refs[0].id, "%s", id);
    int rc = 0;
    for (size_t next = 0; next < count && rc == 0; next++) {
        char reason[3 * QC_MAX_ID_BYTES];
        if (next == 0)
            snprintf(reason, sizeof reason, "dependency %s ended %s", id,
                     qc_state_name(root_state));
        else
            snprintf(reason, sizeof reason, "dependency %s was canceled: %s ended %s",
                     refs[next].id, id, qc_state_name(root_state));
        const char *p[4] = {refs[next].seq, root, reason, s_int(&ints, 0, now_ms)};
        PGresult *res = s_exec(self,
                               "UPDATE jobs j SET state = 5, canceled_by = $2::bigint,"
                               " last_error = $3, updated_at = $4::bigint,"
                               " finished_at = $4::bigint FROM deps d"
                               " WHERE d.dep_seq = $1::bigint AND j.seq = d.job_seq"
                               " AND j.state = 6 RETURNING j.seq, j.id",
                               4, p);
        if (!res) {
            rc = -1;
            break;
        }
        for (int i = 0; i < PQntuples(res); i++) {
            if (count == cap) {
                s_ref_t *more = realloc(refs, 2 * cap * sizeof *refs);
                if (!more) {
                    rc = -1;
                    break;
                }
                refs = more;
                cap *= 2;
            }
            snprintf(refs[count].seq, sizeof refs[count].seq, "%s", PQgetvalue(res, i, 0));
            snprintf(refs[count].id, sizeof refs[count].id, "%s", PQgetvalue(res, i, 1));
            count++;
            s_move(self, QC_STATE_WAITING, QC_STATE_CANCELED);
            self->tx_totals[S_T_CANCELED]++;
            if (fn)
                fn(arg, PQgetvalue(res, i, 1), QC_STATE_CANCELED, reason);
        }
        PQclear(res);
    }
    free(refs);
    return rc;
}

static int qc_pg_deps_revive(qc_store_backend_t *self, const char *id, int64_t now_ms,
                             qc_store_dep_fn *fn, void *arg)
{
    char root[24];
    int root_state, found = s_seq_state(self, id, root, &root_state);
    if (found <= 0)
        return found;
    const char *p[1] = {root};
    PGresult *list = s_exec(self,
                            "SELECT seq, id FROM jobs WHERE canceled_by = $1::bigint"
                            " AND state = 5 ORDER BY seq",
                            1, p);
    if (!list)
        return -1;
    if (PQntuples(list) > 0 && s_write(self) != 0) {
        PQclear(list);
        return -1;
    }
    s_ints_t ints;
    int rc = 0;
    /* In seq order: a job's dependencies are older than it. A job whose
     * unique key was taken meanwhile stays canceled (checked first: a
     * failed statement would end the transaction). */
    for (int i = 0; i < PQntuples(list) && rc == 0; i++) {
        const char *q[2] = {PQgetvalue(list, i, 0), s_int(&ints, 0, now_ms)};
        PGresult *res = s_exec(
            self,
            "UPDATE jobs SET canceled_by = NULL, last_error = NULL, finished_at = NULL,"
            " updated_at = $2::bigint, deps_left = (SELECT count(*) FROM deps d JOIN jobs x"
            "  ON x.seq = d.dep_seq WHERE d.job_seq = $1::bigint AND x.state != 2),"
            " state = CASE WHEN (SELECT count(*) FROM deps d JOIN jobs x ON x.seq = d.dep_seq"
            "  WHERE d.job_seq = $1::bigint AND x.state != 2) > 0 THEN 6 ELSE 0 END"
            " WHERE seq = $1::bigint AND state = 5 AND NOT EXISTS (SELECT 1 FROM deps d"
            "  JOIN jobs x ON x.seq = d.dep_seq WHERE d.job_seq = $1::bigint"
            "  AND x.state IN (4, 5))"
            " AND (unique_key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs h"
            "  WHERE h.unique_key = jobs.unique_key AND h.state NOT IN (2, 4, 5)))"
            " RETURNING state",
            2, q);
        if (!res) {
            rc = -1;
            break;
        }
        if (PQntuples(res) == 1) {
            int state = (int)s_i64(res, 0, 0);
            s_move(self, QC_STATE_CANCELED, state);
            if (fn)
                fn(arg, PQgetvalue(list, i, 1), (qc_state_t)state, NULL);
        }
        PQclear(res);
    }
    PQclear(list);
    return rc;
}

/* Appends [{id, state}] rows of res to array. */
static void s_id_states(PGresult *res, cJSON *array, int max)
{
    for (int i = 0; i < PQntuples(res) && i < max; i++) {
        cJSON *item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "id", PQgetvalue(res, i, 0));
        cJSON_AddStringToObject(item, "state", qc_state_name((int)s_i64(res, i, 1)));
        cJSON_AddItemToArray(array, item);
    }
}

static cJSON *qc_pg_job_deps(qc_store_backend_t *self, const char *id, int max_dependents)
{
    char seq[24];
    int state;
    if (s_seq_state(self, id, seq, &state) <= 0)
        return NULL;
    s_ints_t ints;
    const char *p[2] = {seq, s_int(&ints, 0, max_dependents + 1)};
    PGresult *after = s_exec(self,
                             "SELECT x.id, x.state FROM deps d JOIN jobs x ON x.seq = d.dep_seq"
                             " WHERE d.job_seq = $1::bigint ORDER BY x.seq",
                             1, p);
    PGresult *dependents =
        after ? s_exec(self,
                       "SELECT x.id, x.state FROM deps d JOIN jobs x ON x.seq = d.job_seq"
                       " WHERE d.dep_seq = $1::bigint ORDER BY x.seq LIMIT $2::integer",
                       2, p)
              : NULL;
    if (!after || !dependents) {
        PQclear(after);
        PQclear(dependents);
        return NULL;
    }
    cJSON *deps = cJSON_CreateObject();
    s_id_states(after, cJSON_AddArrayToObject(deps, "after"), QC_MAX_DEPS);
    s_id_states(dependents, cJSON_AddArrayToObject(deps, "dependents"), max_dependents);
    cJSON_AddBoolToObject(deps, "more_dependents", PQntuples(dependents) > max_dependents);
    PQclear(after);
    PQclear(dependents);
    return deps;
}

static void qc_pg_stats(qc_store_backend_t *self, qc_store_stats_t *stats)
{
    stats->round_trips = self->round_trips;
    stats->transactions = self->transactions;
}

const qc_store_ops_t qc_pg_ops = {
    .stats = qc_pg_stats,
    .name = "postgresql",
    .features = QC_STORE_FEAT_ENV | QC_STORE_FEAT_EXIT_POLICY | QC_STORE_FEAT_UNIQUE |
                QC_STORE_FEAT_DEPS | QC_STORE_FEAT_QUEUE,
    .job_claim_for = qc_pg_job_claim_for,
    .job_claim_many = qc_pg_job_claim_many,
    .job_claim_with_commit = qc_pg_job_claim_with_commit,
    .claims_committed = qc_pg_claims_committed,
    .queue_update = qc_pg_queue_update,
    .queue_list = qc_pg_queue_list,
    .queue_counts = qc_pg_queue_counts,
    .job_list_in = qc_pg_job_list_in,
    .deps_settle = qc_pg_deps_settle,
    .deps_revive = qc_pg_deps_revive,
    .job_deps = qc_pg_job_deps,
    .schedule_add = qc_pg_schedule_add,
    .schedule_update = qc_pg_schedule_update,
    .schedule_remove = qc_pg_schedule_remove,
    .schedule_list = qc_pg_schedule_list,
    .schedule_runs = qc_pg_schedule_runs,
    .schedule_next_due = qc_pg_schedule_next_due,
    .destroy = qc_pg_destroy,
    .errmsg = qc_pg_errmsg,
    .total_changes = qc_pg_total_changes,
    .begin = qc_pg_begin,
    .commit = qc_pg_commit,
    .rollback = qc_pg_rollback,
    .savepoint = qc_pg_savepoint,
    .release = qc_pg_release,
    .rollback_savepoint = qc_pg_rollback_savepoint,
    .config_load = qc_pg_config_load,
    .config_save = qc_pg_config_save,
    .job_insert = qc_pg_job_insert,
    .job_insert_many = qc_pg_job_insert_many,
    .job_claim_next = qc_pg_job_claim_next,
    .next_due_ms = qc_pg_next_due_ms,
    .job_running = qc_pg_job_running,
    .job_finish = qc_pg_job_finish,
    .each_running = qc_pg_each_running,
    .job_revive = qc_pg_job_revive,
    .job_cancel = qc_pg_job_cancel,
    .purge = qc_pg_purge,
    .totals = qc_pg_totals,
    .job_get = qc_pg_job_get,
    .job_list = qc_pg_job_list,
    .counts = qc_pg_counts,
    .job_started = qc_pg_job_started,
    .job_brief = qc_pg_job_brief,
    .job_states = qc_pg_job_states,
    .job_search = qc_pg_job_search,
    .lease_acquire = qc_pg_lease_acquire,
    .lease_valid = qc_pg_lease_valid,
    .take_reconnected = qc_pg_take_reconnected,
};
