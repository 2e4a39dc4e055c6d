/* SQLite job store. Statements are prepared once at open; every call binds,
 * steps and resets. Schema changes go through s_migrations, in order, each
 * bumping PRAGMA user_version by one (never edit a shipped migration: add one). */
#include "store_backend.h"
#include "queuectl/clock.h"
#include "queuectl/log.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upgrade recipe: version N's script takes a version N-1 database to N. */
static const char *s_migrations[] = {
    /* 1: initial schema */
    "CREATE TABLE jobs ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  command TEXT NOT NULL,"
    "  state INTEGER NOT NULL," /* qc_state_t */
    "  priority INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0," /* counted toward max_retries */
    "  runs INTEGER NOT NULL DEFAULT 0,"     /* every run, never reset: the attempt number */
    "  max_retries INTEGER NOT NULL,"
    "  timeout_s INTEGER NOT NULL,"
    "  run_at INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  started_at INTEGER, finished_at INTEGER, worker_id TEXT,"
    "  exit_code INTEGER, last_error TEXT, stdout_tail TEXT, stderr_tail TEXT);"
    /* waiting = pending (0) or failed (3): dispatch order and due times */
    "CREATE INDEX jobs_ready ON jobs(priority DESC, seq) WHERE state IN (0, 3);"
    "CREATE INDEX jobs_due ON jobs(run_at) WHERE state IN (0, 3);"
    "CREATE INDEX jobs_state ON jobs(state, seq);"
    "CREATE TABLE attempts ("
    "  job_seq INTEGER NOT NULL, attempt INTEGER NOT NULL,"
    "  worker_id TEXT, worker_host TEXT, worker_pid INTEGER,"
    "  started_at INTEGER NOT NULL, finished_at INTEGER, outcome INTEGER,"
    "  exit_code INTEGER, signal INTEGER, cpu_ms INTEGER, max_rss_kb INTEGER,"
    "  error TEXT, stdout_tail TEXT, stderr_tail TEXT,"
    "  PRIMARY KEY (job_seq, attempt)) WITHOUT ROWID;"
    "CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",

    /* 2: counts per state and totals kept by triggers, so status and metrics
     * cost the same with a million jobs as with ten; cancel requests. */
    "ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE state_counts (state INTEGER PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO state_counts VALUES (0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0);"
    "UPDATE state_counts SET n = (SELECT COUNT(*) FROM jobs WHERE jobs.state = state_counts.state);"
    "CREATE TABLE totals (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO totals VALUES"
    "  ('enqueued', (SELECT COUNT(*) FROM jobs)),"
    "  ('completed', (SELECT COUNT(*) FROM jobs WHERE state = 2)),"
    "  ('failed', (SELECT COUNT(*) FROM attempts WHERE outcome > 0)),"
    "  ('dead', (SELECT COUNT(*) FROM jobs WHERE state = 4)),"
    "  ('retried', 0), ('canceled', 0);"
    "CREATE TRIGGER jobs_counted_insert AFTER INSERT ON jobs BEGIN"
    "  UPDATE state_counts SET n = n + 1 WHERE state = NEW.state;"
    "  UPDATE totals SET n = n + 1 WHERE name = 'enqueued';"
    "END;"
    "CREATE TRIGGER jobs_counted_update AFTER UPDATE OF state ON jobs"
    "  WHEN OLD.state != NEW.state BEGIN"
    "  UPDATE state_counts SET n = n - 1 WHERE state = OLD.state;"
    "  UPDATE state_counts SET n = n + 1 WHERE state = NEW.state;"
    "  UPDATE totals SET n = n + 1 WHERE name = CASE NEW.state WHEN 2 THEN 'completed'"
    "    WHEN 3 THEN 'retried' WHEN 4 THEN 'dead' WHEN 5 THEN 'canceled' END;"
    "END;"
    "CREATE TRIGGER jobs_counted_delete AFTER DELETE ON jobs BEGIN"
    "  UPDATE state_counts SET n = n - 1 WHERE state = OLD.state;"
    "  DELETE FROM attempts WHERE job_seq = OLD.seq;"
    "END;"
    "CREATE TRIGGER attempts_counted_failure AFTER UPDATE OF outcome ON attempts"
    "  WHEN OLD.outcome IS NULL AND NEW.outcome > 0 BEGIN"
    "  UPDATE totals SET n = n + 1 WHERE name = 'failed';"
    "END;",

    /* 3: the instance secret of the worker holding a job, so only that
     * worker can adopt it after a restart or report on it; jobs.started_at
     * is NULL until the worker says the shell started; an attempt that
     * never started (outcome 7) is not a failure. */
    "ALTER TABLE jobs ADD COLUMN worker_token TEXT;"
    "DROP TRIGGER attempts_counted_failure;"
    "CREATE TRIGGER attempts_counted_failure AFTER UPDATE OF outcome ON attempts"
    "  WHEN OLD.outcome IS NULL AND NEW.outcome > 0 AND NEW.outcome != 7 BEGIN"
    "  UPDATE totals SET n = n + 1 WHERE name = 'failed';"
    "END;",

    /* 4: a job's own environment (JSON object text) and working directory. */
    "ALTER TABLE jobs ADD COLUMN env TEXT;"
    "ALTER TABLE jobs ADD COLUMN cwd TEXT;",

    /* 5: retry policy by exit code (canonical lists, '' for none). */
    "ALTER TABLE jobs ADD COLUMN retry_on_exit TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE jobs ADD COLUMN no_retry_on_exit TEXT NOT NULL DEFAULT '';",

    /* 6: unique keys: at most one unfinished job (any state but completed,
     * dead, canceled) per key, enforced by a partial unique index that is
     * also the lookup. */
    "ALTER TABLE jobs ADD COLUMN unique_key TEXT;"
    "CREATE UNIQUE INDEX jobs_unique_key ON jobs(unique_key)"
    "  WHERE unique_key IS NOT NULL AND state NOT IN (2, 4, 5);",

    /* 7: named queues. Waiting jobs indexed per queue for claims and due
     * times; (queue, seq) never changes, (queue, state, seq) pages list
     * --queue --state. Settings per queue (paused, cap on running jobs), and
     * counts per queue and state kept by triggers like state_counts. */
    "ALTER TABLE jobs ADD COLUMN queue TEXT NOT NULL DEFAULT 'default';"
    "CREATE INDEX jobs_ready_q ON jobs(queue, priority DESC, seq) WHERE state IN (0, 3);"
    "CREATE INDEX jobs_due_q ON jobs(queue, run_at) WHERE state IN (0, 3);"
    "CREATE INDEX jobs_queue ON jobs(queue, seq);"
    "CREATE INDEX jobs_queue_state ON jobs(queue, state, seq);"
    "CREATE TABLE queues (name TEXT PRIMARY KEY, paused INTEGER NOT NULL DEFAULT 0,"
    "  max_running INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE TABLE queue_counts (queue TEXT NOT NULL, state INTEGER NOT NULL, n INTEGER NOT NULL,"
    "  PRIMARY KEY (queue, state)) WITHOUT ROWID;"
    "INSERT INTO queue_counts SELECT 'default', state, COUNT(*) FROM jobs GROUP BY state;"
    "CREATE TRIGGER jobs_queue_counted_insert AFTER INSERT ON jobs BEGIN"
    "  INSERT INTO queue_counts VALUES (NEW.queue, NEW.state, 1)"
    "    ON CONFLICT (queue, state) DO UPDATE SET n = n + 1;"
    "END;"
    "CREATE TRIGGER jobs_queue_counted_update AFTER UPDATE OF state ON jobs"
    "  WHEN OLD.state != NEW.state BEGIN"
    "  UPDATE queue_counts SET n = n - 1 WHERE queue = OLD.queue AND state = OLD.state;"
    "  INSERT INTO queue_counts VALUES (NEW.queue, NEW.state, 1)"
    "    ON CONFLICT (queue, state) DO UPDATE SET n = n + 1;"
    "END;"
    "CREATE TRIGGER jobs_queue_counted_delete AFTER DELETE ON jobs BEGIN"
    "  UPDATE queue_counts SET n = n - 1 WHERE queue = OLD.queue AND state = OLD.state;"
    "END;",

    /* 8: dependencies. A job waiting (state 6) for others has deps_left of
     * them not completed; deps(dep_seq, job_seq) finds a job's dependents
     * (its key) and its dependencies (deps_job); canceled_by is the dead or
     * canceled job whose end canceled it, so reviving that one brings it
     * back (partial index: only such jobs). */
    "ALTER TABLE jobs ADD COLUMN deps_left INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN canceled_by INTEGER;"
    "CREATE INDEX jobs_canceled_by ON jobs(canceled_by, seq) WHERE canceled_by IS NOT NULL;"
    "CREATE TABLE deps (dep_seq INTEGER NOT NULL, job_seq INTEGER NOT NULL,"
    "  PRIMARY KEY (dep_seq, job_seq)) WITHOUT ROWID;"
    "CREATE INDEX deps_job ON deps(job_seq, dep_seq);"
    "INSERT INTO state_counts VALUES (6, 0);"
    "CREATE TRIGGER jobs_deps_delete AFTER DELETE ON jobs BEGIN"
    "  DELETE FROM deps WHERE job_seq = OLD.seq;"
    "  DELETE FROM deps WHERE dep_seq = OLD.seq;"
    "END;",

    /* 9: recurring jobs. job is the JSON of the job each tick enqueues;
     * next_run the next tick (ms); last_job the id of the last one enqueued. */
    "CREATE TABLE schedules (name TEXT PRIMARY KEY, cron TEXT NOT NULL, tz TEXT NOT NULL,"
    "  job TEXT NOT NULL, skip_if_running INTEGER NOT NULL DEFAULT 0,"
    "  paused INTEGER NOT NULL DEFAULT 0, next_run INTEGER, last_tick INTEGER, last_job TEXT,"
    "  runs INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX schedules_due ON schedules(next_run) WHERE paused = 0;",

    /* 10: counts and totals kept by the store instead of row triggers. Each
     * write adds to the open transaction's deltas (s_move), and the deltas
     * go into state_counts and totals once, just before COMMIT, in the same
     * transaction: a rollback or a crash takes them with the rows they
     * counted. The triggers cost two or three extra statements per row and
     * made every write a multi-row statement with its own statement journal.
     * Deleting a job still deletes its attempts. (queue_counts keeps its
     * triggers for now.) */
    "DROP TRIGGER jobs_counted_insert;"
    "DROP TRIGGER jobs_counted_update;"
    "DROP TRIGGER jobs_counted_delete;"
    "DROP TRIGGER attempts_counted_failure;"
    "CREATE TRIGGER jobs_deleted AFTER DELETE ON jobs BEGIN"
    "  DELETE FROM attempts WHERE job_seq = OLD.seq;"
    "END;",

    /* 11: counts per queue kept the same way (deltas per queue and state,
     * written at COMMIT, and before anything reads queue_counts). A
     * deletion still counts itself by trigger (purges only). */
    "DROP TRIGGER jobs_queue_counted_insert;"
    "DROP TRIGGER jobs_queue_counted_update;",

    /* 12: the counts per state, the totals and the counts per queue in one
     * table, so a commit that changes counts writes one page of them, not
     * one in each of three b-trees: every b-tree page a commit touches is a
     * frame in the WAL (two writes), and a one-job enqueue wrote 13. scope is
     * '' for states, '#' for totals (name is the total's name) or the queue
     * (no queue name is empty or holds '#'). The old tables stay as views for
     * readers. */
    "CREATE TABLE counts (scope TEXT NOT NULL, name NOT NULL, n INTEGER NOT NULL,"
    "  PRIMARY KEY (scope, name)) WITHOUT ROWID;"
    "INSERT INTO counts SELECT '', state, n FROM state_counts;"
    "INSERT INTO counts SELECT '#', name, n FROM totals;"
    "INSERT INTO counts SELECT queue, state, n FROM queue_counts;"
    "DROP TRIGGER jobs_queue_counted_delete;"
    "DROP TABLE state_counts;"
    "DROP TABLE totals;"
    "DROP TABLE queue_counts;"
    "CREATE VIEW state_counts AS SELECT name AS state, n FROM counts WHERE scope = '';"
    "CREATE VIEW totals AS SELECT name, n FROM counts WHERE scope = '#';"
    "CREATE VIEW queue_counts AS SELECT scope AS queue, name AS state, n FROM counts"
    "  WHERE scope NOT IN ('', '#');"
    "CREATE TRIGGER jobs_queue_counted_delete AFTER DELETE ON jobs BEGIN"
    "  UPDATE counts SET n = n - 1 WHERE scope = OLD.queue AND name = OLD.state;"
    "END;",
};
#define S_MIGRATION_COUNT ((int)(sizeof s_migrations / sizeof s_migrations[0]))

#define S_JOB_COLUMNS                                                                              \
    "seq, id, command, state, priority, attempts, max_retries, timeout_s, run_at, created_at, "    \
    "updated_at, started_at, finished_at, exit_code, last_error, worker_id, runs, queue"
/* Columns of S_JOB_COLUMNS: what a statement selects after them starts here. */
#define S_JOB_NCOLS 18

enum {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_SAVEPOINT,
    S_RELEASE,
    S_ROLLBACK_TO,
    S_INSERT,
    S_CLAIM_SELECT,
    S_CLAIM_UPDATE,
    S_ATTEMPT_INSERT,
    S_NEXT_DUE,
    S_RUNNING,
    S_ATTEMPT_FINISH,
    S_JOB_FINISH,
    S_EACH_RUNNING,
    S_STARTED_JOB,
    S_STARTED_ATTEMPT,
    S_REVIVE,
    S_STATE_OF,
    S_GET,
    S_ATTEMPTS_OF,
    S_LIST_ALL,
    S_LIST_STATE,
    S_COUNTS,
    S_OLDEST_PENDING,
    S_CONFIG_ALL,
    S_CONFIG_SAVE,
    S_CANCEL_WAITING,
    S_CANCEL_REQUEST,
    S_PURGE,
    S_TOTALS,
    S_JOB_BRIEF,
    S_UNIQUE_HOLDER,
    S_UNIQUE_OF_DEAD,
    S_RESTRICTED,
    S_QUEUE_BLOCKED,
    S_QUEUES_WAITING,
    S_CLAIM_HEAD_Q,
    S_CLAIM_BY_SEQ,
    S_QUEUE_COUNTS,
    S_QUEUE_SETTINGS,
    S_QUEUE_OLDEST,
    S_QUEUE_UPDATE,
    S_QUEUE_COUNTS_OF,
    S_LIST_QUEUE,
    S_LIST_QUEUE_STATE,
    S_SEQ_STATE_OF,
    S_DEP_INSERT,
    S_ANY_DEPS,
    S_DEPENDENTS,
    S_DEP_DONE,
    S_DEP_CANCEL,
    S_CANCELED_BY,
    S_DEP_REVIVE,
    S_DEPS_OF,
    S_DEPENDENTS_OF,
    S_SCHED_ADD,
    S_SCHED_UPDATE,
    S_SCHED_REMOVE,
    S_SCHED_ALL,
    S_SCHED_ONE,
    S_SCHED_DUE,
    S_SCHED_NEXT,
    S_SCHED_RUNS,
    S_STATE_OF_SEQ,
    S_COUNT_ADD,
    S_TOTAL_ADD,
    S_QUEUE_ADD,
    S_QUEUE_OF_SEQ,
    S_QUEUE_OF_ID,
    S_COUNT_STMTS
};

static const char *s_sql[S_COUNT_STMTS] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SAVEPOINT] = "SAVEPOINT req",
    [S_RELEASE] = "RELEASE req",
    [S_ROLLBACK_TO] = "ROLLBACK TO req",
    [S_INSERT] = "INSERT INTO jobs (id, command, state, priority, max_retries, timeout_s, run_at,"
                 " created_at, updated_at, env, cwd, retry_on_exit, no_retry_on_exit, unique_key,"
                 " queue, deps_left) VALUES (?1, ?2, CASE WHEN ?14 > 0 THEN 6 ELSE 0 END, ?3, ?4,"
                 " ?5, ?6, ?7, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    /* INDEXED BY: left alone, the planner prefers jobs_state and sorts every
     * waiting job (17 ms a claim at 100,000 waiting instead of 5 us). */
    [S_CLAIM_SELECT] = "SELECT seq, id, command, runs, timeout_s, run_at, attempts, max_retries,"
                       " priority, env, cwd, queue FROM jobs INDEXED BY jobs_ready"
                       " WHERE state IN (0, 3) AND run_at <= ?1"
                       " ORDER BY priority DESC, seq LIMIT 1",
    [S_CLAIM_UPDATE] = "UPDATE jobs SET state = 1, attempts = attempts + 1, runs = runs + 1,"
                       " started_at = NULL, finished_at = NULL, updated_at = ?2, worker_id = ?3,"
                       " worker_token = ?4 WHERE seq = ?1",
    [S_ATTEMPT_INSERT] = "INSERT INTO attempts (job_seq, attempt, worker_id, worker_host,"
                         " worker_pid, started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_NEXT_DUE] = "SELECT MIN(run_at) FROM jobs INDEXED BY jobs_due WHERE state IN (0, 3)",
    [S_RUNNING] = "SELECT seq, runs, attempts, max_retries, worker_id, cancel_requested,"
                  " worker_token, started_at IS NOT NULL, retry_on_exit, no_retry_on_exit"
                  " FROM jobs WHERE id = ?1 AND state = 1",
    [S_ATTEMPT_FINISH] = "UPDATE attempts SET finished_at = ?3, outcome = ?4, exit_code = ?5,"
                         " started_at = CASE WHEN ?12 > 0 THEN ?12 ELSE started_at END,"
                         " signal = ?6, cpu_ms = ?7, max_rss_kb = ?8, error = ?9,"
                         " stdout_tail = ?10, stderr_tail = ?11"
                         " WHERE job_seq = ?1 AND attempt = ?2",
    /* run_at moves only for a retry: otherwise it keeps when the job was due. */
    [S_JOB_FINISH] =
        "UPDATE jobs SET state = ?2, run_at = CASE WHEN ?2 = 3 THEN ?3 ELSE run_at END,"
        " updated_at = ?4, finished_at = ?4, attempts = attempts - ?9,"
        " started_at = CASE WHEN ?10 > 0 THEN ?10 ELSE started_at END,"
        " exit_code = ?5, last_error = ?6, stdout_tail = ?7, stderr_tail = ?8"
        " WHERE seq = ?1",
    [S_EACH_RUNNING] = "SELECT seq, id, runs, worker_id FROM jobs WHERE state = 1",
    [S_STARTED_JOB] = "UPDATE jobs SET started_at = ?3, updated_at = ?3"
                      " WHERE seq = ?1 AND runs = ?2 AND state = 1",
    [S_STARTED_ATTEMPT] = "UPDATE attempts SET started_at = ?3 WHERE job_seq = ?1 AND attempt = ?2",
    [S_REVIVE] = "UPDATE jobs SET state = 0, attempts = 0, run_at = ?2, updated_at = ?2"
                 " WHERE id = ?1 AND state = 4",
    [S_STATE_OF] = "SELECT state FROM jobs WHERE id = ?1",
    [S_GET] = "SELECT " S_JOB_COLUMNS ", stdout_tail, stderr_tail, env, cwd, retry_on_exit,"
              " no_retry_on_exit, unique_key FROM jobs WHERE id = ?1",
    [S_ATTEMPTS_OF] = "SELECT attempt, worker_id, worker_host, worker_pid, started_at,"
                      " finished_at, outcome, exit_code, signal, cpu_ms, max_rss_kb, error,"
                      " stdout_tail, stderr_tail FROM attempts WHERE job_seq = ?1"
                      " ORDER BY attempt",
    [S_LIST_ALL] = "SELECT " S_JOB_COLUMNS " FROM jobs WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2",
    [S_LIST_STATE] = "SELECT " S_JOB_COLUMNS " FROM jobs WHERE state = ?3 AND seq < ?1"
                     " ORDER BY seq DESC LIMIT ?2",
    [S_COUNTS] = "SELECT state, n FROM state_counts",
    /* The longest-waiting job that could run now: due the earliest. */
    [S_OLDEST_PENDING] = "SELECT MIN(run_at) FROM jobs INDEXED BY jobs_due"
                         " WHERE state IN (0, 3) AND run_at <= ?1",
    [S_CONFIG_ALL] = "SELECT key, value FROM config",
    [S_CONFIG_SAVE] = "INSERT INTO config (key, value) VALUES (?1, ?2)"
                      " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [S_CANCEL_WAITING] = "UPDATE jobs SET state = 5, updated_at = ?2, finished_at = ?2,"
                         " last_error = 'canceled' WHERE id = ?1 AND state IN (0, 3, 6)",
    [S_CANCEL_REQUEST] = "UPDATE jobs SET cancel_requested = 1, updated_at = ?2"
                         " WHERE id = ?1 AND state = 1",
    /* Bounded, so a purge of millions never stalls the loop for long. */
    [S_PURGE] = "DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs WHERE state = ?1"
                " AND updated_at < ?2 LIMIT 5000)",
    [S_TOTALS] = "SELECT name, n FROM totals",
    [S_JOB_BRIEF] = "SELECT " S_JOB_COLUMNS " FROM jobs WHERE id = ?1",
    [S_UNIQUE_HOLDER] = "SELECT id FROM jobs INDEXED BY jobs_unique_key WHERE unique_key = ?1"
                        " AND unique_key IS NOT NULL AND state NOT IN (2, 4, 5)",
    [S_RESTRICTED] = "SELECT EXISTS (SELECT 1 FROM queues WHERE paused != 0 OR max_running > 0)",
    /* Paused, or at its cap of running jobs. */
    [S_QUEUE_BLOCKED] = "SELECT paused != 0 OR (max_running > 0 AND COALESCE((SELECT n FROM"
                        " queue_counts WHERE queue = ?1 AND state = 1), 0) >= max_running)"
                        " FROM queues WHERE name = ?1",
    [S_QUEUES_WAITING] = "SELECT DISTINCT queue FROM queue_counts WHERE state IN (0, 3) AND n > 0",
    [S_CLAIM_HEAD_Q] = "SELECT seq, priority FROM jobs INDEXED BY jobs_ready_q"
                       " WHERE queue = ?1 AND state IN (0, 3) AND run_at <= ?2"
                       " ORDER BY priority DESC, seq LIMIT 1",
    [S_CLAIM_BY_SEQ] = "SELECT seq, id, command, runs, timeout_s, run_at, attempts, max_retries,"
                       " priority, env, cwd, queue FROM jobs WHERE seq = ?1",
    [S_QUEUE_COUNTS] = "SELECT queue, state, n FROM queue_counts WHERE n > 0",
    [S_QUEUE_SETTINGS] = "SELECT name, paused, max_running FROM queues",
    [S_QUEUE_OLDEST] = "SELECT MIN(run_at) FROM jobs INDEXED BY jobs_due_q"
                       " WHERE queue = ?1 AND state IN (0, 3) AND run_at <= ?2",
    [S_QUEUE_UPDATE] =
        "INSERT INTO queues (name, paused, max_running)"
        " VALUES (?1, COALESCE(?2, 0), COALESCE(?3, 0)) ON CONFLICT (name) DO UPDATE"
        " SET paused = COALESCE(?2, paused), max_running = COALESCE(?3, max_running)",
    [S_QUEUE_COUNTS_OF] = "SELECT state, n FROM queue_counts WHERE queue = ?1",
    [S_LIST_QUEUE] = "SELECT " S_JOB_COLUMNS " FROM jobs INDEXED BY jobs_queue WHERE queue = ?3"
                     " AND seq < ?1 ORDER BY seq DESC LIMIT ?2",
    [S_LIST_QUEUE_STATE] =
        "SELECT " S_JOB_COLUMNS " FROM jobs INDEXED BY jobs_queue_state"
        " WHERE queue = ?3 AND state = ?4 AND seq < ?1 ORDER BY seq DESC LIMIT ?2",
    [S_SEQ_STATE_OF] = "SELECT seq, state FROM jobs WHERE id = ?1",
    [S_DEP_INSERT] = "INSERT OR IGNORE INTO deps (dep_seq, job_seq) VALUES (?1, ?2)",
    [S_ANY_DEPS] = "SELECT EXISTS (SELECT 1 FROM deps)",
    [S_DEPENDENTS] = "SELECT j.seq, j.id FROM deps d JOIN jobs j ON j.seq = d.job_seq"
                     " WHERE d.dep_seq = ?1 AND j.state = 6",
    /* The last dependency done: due now (or at its own run_at if later). */
    [S_DEP_DONE] = "UPDATE jobs SET deps_left = deps_left - 1,"
                   " state = CASE WHEN deps_left <= 1 THEN 0 ELSE 6 END,"
                   " run_at = CASE WHEN deps_left <= 1 AND run_at < ?2 THEN ?2 ELSE run_at END,"
                   " updated_at = ?2 WHERE seq = ?1 AND state = 6 RETURNING state",
    [S_DEP_CANCEL] =
        "UPDATE jobs SET state = 5, canceled_by = ?2, last_error = ?3, updated_at = ?4,"
        " finished_at = ?4 WHERE seq = ?1 AND state = 6",
    [S_CANCELED_BY] = "SELECT seq, id FROM jobs INDEXED BY jobs_canceled_by"
                      " WHERE canceled_by = ?1 AND state = 5 ORDER BY seq",
    /* Back to waiting unless another dependency of it is dead or canceled. */
    [S_DEP_REVIVE] =
        "UPDATE jobs SET canceled_by = NULL, last_error = NULL, finished_at = NULL,"
        " updated_at = ?2, deps_left = (SELECT count(*) FROM deps d JOIN jobs x"
        "  ON x.seq = d.dep_seq WHERE d.job_seq = ?1 AND x.state != 2),"
        " state = CASE WHEN (SELECT count(*) FROM deps d JOIN jobs x ON x.seq = d.dep_seq"
        "  WHERE d.job_seq = ?1 AND x.state != 2) > 0 THEN 6 ELSE 0 END"
        " WHERE seq = ?1 AND state = 5 AND NOT EXISTS (SELECT 1 FROM deps d JOIN jobs x"
        "  ON x.seq = d.dep_seq WHERE d.job_seq = ?1 AND x.state IN (4, 5)) RETURNING state",
    [S_DEPS_OF] = "SELECT x.id, x.state FROM deps d INDEXED BY deps_job JOIN jobs x"
                  " ON x.seq = d.dep_seq WHERE d.job_seq = ?1 ORDER BY x.seq",
    [S_DEPENDENTS_OF] = "SELECT x.id, x.state FROM deps d JOIN jobs x ON x.seq = d.job_seq"
                        " WHERE d.dep_seq = ?1 ORDER BY x.seq LIMIT ?2",
    [S_SCHED_ADD] = "INSERT INTO schedules (name, cron, tz, job, skip_if_running, next_run,"
                    " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_SCHED_UPDATE] = "UPDATE schedules SET paused = COALESCE(?2, paused),"
                       " next_run = COALESCE(?3, next_run), last_tick = COALESCE(?4, last_tick),"
                       " last_job = COALESCE(?5, last_job), runs = runs + ?6,"
                       " skipped = skipped + ?7 WHERE name = ?1",
    [S_SCHED_REMOVE] = "DELETE FROM schedules WHERE name = ?1",
#define S_SCHED_COLUMNS                                                                            \
    "name, cron, tz, job, skip_if_running, paused, next_run, last_tick, last_job, runs, skipped, " \
    "created_at"
    [S_SCHED_ALL] = "SELECT " S_SCHED_COLUMNS " FROM schedules ORDER BY name",
    [S_SCHED_ONE] = "SELECT " S_SCHED_COLUMNS " FROM schedules WHERE name = ?1",
    [S_SCHED_DUE] = "SELECT " S_SCHED_COLUMNS " FROM schedules INDEXED BY schedules_due"
                    " WHERE paused = 0 AND next_run <= ?1 ORDER BY next_run LIMIT 100",
    [S_SCHED_NEXT] =
        "SELECT MIN(next_run) FROM schedules INDEXED BY schedules_due WHERE paused = 0",
    /* A schedule's jobs are NAME@<tick>: a range of the id index, newest first. */
    [S_SCHED_RUNS] = "SELECT id, state, run_at, finished_at, exit_code, last_error FROM jobs"
                     " WHERE id > ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
    [S_UNIQUE_OF_DEAD] = "SELECT unique_key FROM jobs WHERE id = ?1 AND state = 4"
                         " AND unique_key IS NOT NULL",
    [S_STATE_OF_SEQ] = "SELECT state FROM jobs WHERE seq = ?1",
    [S_COUNT_ADD] = "UPDATE counts SET n = n + ?2 WHERE scope = '' AND name = ?1",
    [S_TOTAL_ADD] = "UPDATE counts SET n = n + ?2 WHERE scope = '#' AND name = ?1",
    [S_QUEUE_ADD] = "INSERT INTO counts (scope, name, n) VALUES (?1, ?2, ?3)"
                    " ON CONFLICT (scope, name) DO UPDATE SET n = n + excluded.n",
    [S_QUEUE_OF_SEQ] = "SELECT queue FROM jobs WHERE seq = ?1",
    [S_QUEUE_OF_ID] = "SELECT queue FROM jobs WHERE id = ?1",
};

/* Totals since creation, in the order of s_total_names. */
enum { S_T_ENQUEUED, S_T_COMPLETED, S_T_FAILED, S_T_DEAD, S_T_RETRIED, S_T_CANCELED, S_T_COUNT };
static const char *s_total_names[S_T_COUNT] = {"enqueued", "completed", "failed",
                                               "dead",     "retried",   "canceled"};

/* A queue's count deltas in the open transaction. */
#define S_QUEUE_DELTAS 16
typedef struct {
    char queue[QC_MAX_ID_BYTES + 1];
    int64_t n[QC_STATE_COUNT];
} s_queue_delta_t;

struct _qc_store_backend_t {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT_STMTS];
    /* What the open transaction changed in state_counts and totals, written
     * just before its COMMIT; the request savepoint's copy is restored when
     * the request is rolled back. */
    int64_t tx_counts[QC_STATE_COUNT], sp_counts[QC_STATE_COUNT];
    int64_t tx_totals[S_T_COUNT], sp_totals[S_T_COUNT];
    /* The same for queue_counts, per queue; written early when full or
     * before a statement reads queue_counts. */
    s_queue_delta_t tx_queues[S_QUEUE_DELTAS], sp_queues[S_QUEUE_DELTAS];
    int tx_queue_used, sp_queue_used;
    int disk_full; /* a commit failed for want of space: checkpoint after the rollback */
    /* A row in deps: 1, 0, or -1 unknown (ask). Only this broker writes
     * them, so once known it holds until it inserts one or rolls back: a job
     * without dependencies (the usual case) settles none at its end without
     * two lookups (8,000 instructions a job). */
    int any_deps;
};

const char *qc_sqlite_errmsg(qc_store_backend_t *self)
{
    return sqlite3_errmsg(self->db);
}

/* Resets a statement whatever happened, so no path leaves one half-stepped. */
static void s_done(sqlite3_stmt *stmt)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

static int s_exec_stmt(qc_store_backend_t *self, int which)
{
    sqlite3_stmt *stmt = self->stmt[which];
    int rc = sqlite3_step(stmt);
    s_done(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        qc_error("store: %s: %s", s_sql[which], sqlite3_errmsg(self->db));
        return -1;
    }
    return 0;
}

static void s_deltas_clear(qc_store_backend_t *self)
{
    memset(self->tx_counts, 0, sizeof self->tx_counts);
    memset(self->tx_totals, 0, sizeof self->tx_totals);
    self->tx_queue_used = 0;
}

/* Adds the open transaction's per-queue deltas to queue_counts (in it). */
static int s_queue_deltas_write(qc_store_backend_t *self)
{
    for (int q = 0; q < self->tx_queue_used; q++) {
        s_queue_delta_t *d = &self->tx_queues[q];
        for (int i = 0; i < QC_STATE_COUNT; i++) {
            if (!d->n[i])
                continue;
            sqlite3_stmt *stmt = self->stmt[S_QUEUE_ADD];
            sqlite3_bind_text(stmt, 1, d->queue, -1, SQLITE_STATIC);
            sqlite3_bind_int(stmt, 2, i);
            sqlite3_bind_int64(stmt, 3, d->n[i]);
            if (s_exec_stmt(self, S_QUEUE_ADD) != 0)
                return -1;
        }
    }
    self->tx_queue_used = 0;
    return 0;
}

/* Adds the open transaction's deltas to state_counts and totals (in it). */
static int s_deltas_write(qc_store_backend_t *self)
{
    for (int i = 0; i < QC_STATE_COUNT; i++) {
        if (!self->tx_counts[i])
            continue;
        sqlite3_stmt *stmt = self->stmt[S_COUNT_ADD];
        sqlite3_bind_int(stmt, 1, i);
        sqlite3_bind_int64(stmt, 2, self->tx_counts[i]);
        if (s_exec_stmt(self, S_COUNT_ADD) != 0)
            return -1;
    }
    for (int i = 0; i < S_T_COUNT; i++) {
        if (!self->tx_totals[i])
            continue;
        sqlite3_stmt *stmt = self->stmt[S_TOTAL_ADD];
        sqlite3_bind_text(stmt, 1, s_total_names[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 2, self->tx_totals[i]);
        if (s_exec_stmt(self, S_TOTAL_ADD) != 0)
            return -1;
    }
    if (s_queue_deltas_write(self) != 0)
        return -1;
    s_deltas_clear(self);
    return 0;
}

/* A write outside any transaction (autocommit: unit tests) has committed
 * already; its deltas are written at once, in a transaction of their own. */
static void s_moved(qc_store_backend_t *self)
{
    if (sqlite3_get_autocommit(self->db) && s_deltas_write(self) != 0)
        s_deltas_clear(self);
}

/* A job went from state from to state to (-1: none, it was inserted or
 * deleted), with what that adds to the totals. */
static void s_move(qc_store_backend_t *self, int from, int to)
{
    if (from >= 0 && from < QC_STATE_COUNT)
        self->tx_counts[from]--;
    if (to >= 0 && to < QC_STATE_COUNT)
        self->tx_counts[to]++;
    if (from < 0)
        self->tx_totals[S_T_ENQUEUED]++;
    else if (to == QC_STATE_COMPLETED)
        self->tx_totals[S_T_COMPLETED]++;
    else if (to == QC_STATE_FAILED)
        self->tx_totals[S_T_RETRIED]++;
    else if (to == QC_STATE_DEAD)
        self->tx_totals[S_T_DEAD]++;
    else if (to == QC_STATE_CANCELED)
        self->tx_totals[S_T_CANCELED]++;
}

/* The same move in queue's counts (queue NULL: the job's, looked up by seq
 * if seq > 0, else by id), then written at once outside a transaction. */
static void s_move_q(qc_store_backend_t *self, const char *queue, int64_t seq, const char *id,
                     int from, int to)
{
    s_move(self, from, to);
    char found[QC_MAX_ID_BYTES + 1] = "default";
    if (!queue) {
        sqlite3_stmt *stmt = self->stmt[seq > 0 ? S_QUEUE_OF_SEQ : S_QUEUE_OF_ID];
        if (seq > 0)
            sqlite3_bind_int64(stmt, 1, seq);
        else
            sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
            snprintf(found, sizeof found, "%s", (const char *)sqlite3_column_text(stmt, 0));
        else
            qc_error("store: the queue of a job that moved: %s", sqlite3_errmsg(self->db));
        s_done(stmt);
        queue = found;
    } else if (!queue[0]) {
        queue = "default";
    }
    int q = 0;
    while (q < self->tx_queue_used && strcmp(self->tx_queues[q].queue, queue) != 0)
        q++;
    if (q == S_QUEUE_DELTAS) { /* full: write them now, in the transaction */
        if (s_queue_deltas_write(self) != 0)
            qc_error("store: queue counts: %s", sqlite3_errmsg(self->db));
        q = self->tx_queue_used = 0;
    }
    if (q == self->tx_queue_used) {
        s_queue_delta_t *d = &self->tx_queues[self->tx_queue_used++];
        snprintf(d->queue, sizeof d->queue, "%s", queue);
        memset(d->n, 0, sizeof d->n);
    }
    if (from >= 0 && from < QC_STATE_COUNT)
        self->tx_queues[q].n[from]--;
    if (to >= 0 && to < QC_STATE_COUNT)
        self->tx_queues[q].n[to]++;
    s_moved(self);
}

static int s_migrate(qc_store_backend_t *self, char *err, size_t errlen)
{
    sqlite3_stmt *stmt;
    int version = 0;
    if (sqlite3_prepare_v2(self->db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK) {
        if (sqlite3_step(stmt) == SQLITE_ROW)
            version = sqlite3_column_int(stmt, 0);
        sqlite3_finalize(stmt);
    }
    if (version > S_MIGRATION_COUNT) {
        snprintf(err, errlen, "database schema version %d is newer than this broker's (%d)",
                 version, S_MIGRATION_COUNT);
        return -1;
    }
    for (int v = version; v < S_MIGRATION_COUNT; v++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        char *msg = NULL;
        if (sqlite3_exec(self->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(self->db, s_migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(self->db, pragma, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(self->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "migration to schema %d failed: %s", v + 1,
                     msg ? msg : sqlite3_errmsg(self->db));
            sqlite3_free(msg);
            sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        if (version > 0)
            qc_info("store: migrated database to schema %d", v + 1);
    }
    return 0;
}

/* One thread uses SQLite in this process (the broker's loop, or a test's
 * main): no mutexes at all (NOMUTEX below still took the allocator's and the
 * page cache's global ones), and no memory statistics (kept under a mutex on
 * every malloc and free). Only possible before SQLite initializes: later
 * calls are refused (SQLITE_MISUSE) and change nothing. */
static void s_configure_process(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

qc_store_backend_t *qc_sqlite_open(const char *path, int synchronous_full, char *err, size_t errlen)
{
    s_configure_process();
    qc_store_backend_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->any_deps = -1;
    /* NOMUTEX: one thread owns the connection. */
    if (sqlite3_open_v2(path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 self->db ? sqlite3_errmsg(self->db) : "out of memory");
        qc_sqlite_destroy(&self);
        return NULL;
    }
    /* A short busy timeout: the broker is the only writer, so waiting longer
     * would only stall the loop behind an intruder holding a lock. */
    sqlite3_busy_timeout(self->db, 200);
    /* page_size (new databases only; an old one keeps its own): a commit
     * writes every page it touched to the WAL with a checksum over the whole
     * page, and a job's insert or state change touches a page in each of
     * about ten b-trees for a few bytes in each. With 1 KiB pages instead of
     * 4 KiB the broker runs 27 % fewer instructions per one-job enqueue
     * (callgrind: 210,744 -> 153,028) and 10 % fewer per job end to end, for
     * 7 % more in batches of 1,000 (scripts/profile.sh, PERFORMANCE.md).
     * wal_autocheckpoint: every checkpoint costs two fdatasync(2) calls that
     * stall the loop (1.5 ms each here); at SQLite's default of 1,000 pages
     * the end-to-end bench made 225 fdatasync calls for 5,000 jobs, at 10,000
     * 21 (a WAL of up to 10 MiB). */
    char pragmas[224];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA page_size = 1024; PRAGMA journal_mode = WAL; PRAGMA synchronous = %s;"
             " PRAGMA foreign_keys = OFF; PRAGMA temp_store = MEMORY;"
             " PRAGMA wal_autocheckpoint = 10000;",
             synchronous_full ? "FULL" : "NORMAL");
    char *msg = NULL;
    if (sqlite3_exec(self->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot set up %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        qc_sqlite_destroy(&self);
        return NULL;
    }
    if (s_migrate(self, err, errlen) != 0) {
        qc_sqlite_destroy(&self);
        return NULL;
    }
    for (int i = 0; i < S_COUNT_STMTS; i++) {
        if (sqlite3_prepare_v3(self->db, s_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &self->stmt[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, errlen, "cannot prepare \"%s\": %s", s_sql[i], sqlite3_errmsg(self->db));
            qc_sqlite_destroy(&self);
            return NULL;
        }
    }
    return self;
}

void qc_sqlite_destroy(qc_store_backend_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qc_store_backend_t *self = *self_p;
    for (int i = 0; i < S_COUNT_STMTS; i++)
        sqlite3_finalize(self->stmt[i]);
    if (self->db) {
        if (!sqlite3_get_autocommit(self->db))
            sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
        if (sqlite3_close(self->db) != SQLITE_OK)
            qc_error("store: close: %s", sqlite3_errmsg(self->db));
    }
    free(self);
    *self_p = NULL;
}

int qc_sqlite_begin(qc_store_backend_t *self)
{
    /* Below the autocheckpoint size the WAL only grows, and on a small disk
     * it can end up holding the whole database. After a commit failed for
     * want of space, copy it back and truncate it before writing again, so
     * space freed since goes to the database, not to more WAL frames; until
     * that works, nothing is written. */
    if (self->disk_full) {
        if (sqlite3_wal_checkpoint_v2(self->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) !=
            SQLITE_OK)
            return -1;
        self->disk_full = 0;
        qc_info("store: write-ahead log checkpointed and truncated after a full disk");
    }
    /* Not logged here: the server logs when writability changes, not every pass. */
    sqlite3_stmt *stmt = self->stmt[S_BEGIN];
    int rc = sqlite3_step(stmt);
    s_done(stmt);
    s_deltas_clear(self);
    return rc == SQLITE_DONE ? 0 : -1;
}

int64_t qc_sqlite_total_changes(qc_store_backend_t *self)
{
    return sqlite3_total_changes64(self->db);
}

int qc_sqlite_commit(qc_store_backend_t *self)
{
    /* On failure the caller rolls back, deltas included. */
    int rc = s_deltas_write(self) == 0 ? s_exec_stmt(self, S_COMMIT) : -1;
    if (rc != 0 && (sqlite3_errcode(self->db) & 0xff) == SQLITE_FULL)
        self->disk_full = 1;
    return rc;
}

void qc_sqlite_rollback(qc_store_backend_t *self)
{
    s_deltas_clear(self);
    self->any_deps = -1;
    if (!sqlite3_get_autocommit(self->db))
        s_exec_stmt(self, S_ROLLBACK);
}

int qc_sqlite_savepoint(qc_store_backend_t *self)
{
    memcpy(self->sp_counts, self->tx_counts, sizeof self->sp_counts);
    memcpy(self->sp_totals, self->tx_totals, sizeof self->sp_totals);
    memcpy(self->sp_queues, self->tx_queues, sizeof self->sp_queues[0] * self->tx_queue_used);
    self->sp_queue_used = self->tx_queue_used;
    return s_exec_stmt(self, S_SAVEPOINT);
}

int qc_sqlite_release(qc_store_backend_t *self)
{
    return s_exec_stmt(self, S_RELEASE);
}

void qc_sqlite_rollback_savepoint(qc_store_backend_t *self)
{
    memcpy(self->tx_counts, self->sp_counts, sizeof self->tx_counts);
    memcpy(self->tx_totals, self->sp_totals, sizeof self->tx_totals);
    memcpy(self->tx_queues, self->sp_queues, sizeof self->tx_queues[0] * self->sp_queue_used);
    self->tx_queue_used = self->sp_queue_used;
    self->any_deps = -1;
    if (s_exec_stmt(self, S_ROLLBACK_TO) == 0)
        s_exec_stmt(self, S_RELEASE);
}

int qc_sqlite_config_load(qc_store_backend_t *self, qc_config_t *config)
{
    sqlite3_stmt *stmt = self->stmt[S_CONFIG_ALL];
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(stmt, 0);
        const char *value = (const char *)sqlite3_column_text(stmt, 1);
        char err[200];
        if (qc_config_set(config, key, value, err, sizeof err) != 0)
            qc_warn("store: ignoring stored config: %s", err);
    }
    s_done(stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

int qc_sqlite_config_save(qc_store_backend_t *self, const char *key, const char *value)
{
    sqlite3_stmt *stmt = self->stmt[S_CONFIG_SAVE];
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, value, -1, SQLITE_STATIC);
    return s_exec_stmt(self, S_CONFIG_SAVE);
}

static void s_bind_text_or_null(sqlite3_stmt *stmt, int index, const char *text)
{
    if (text && *text)
        sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, index);
}

/* Time-ordered ids (ms, then a counter from a random start): new ids land at
 * the right edge of the UNIQUE index instead of on a random page of it. */
static void s_generate_id(char *id, size_t len, int64_t now_ms)
{
    static uint16_t counter;
    static int seeded;
    if (!seeded) {
        sqlite3_randomness(sizeof counter, &counter);
        seeded = 1;
    }
    /* "j-%011llx%04x", without printf (snprintf was 3 % of a batch insert). */
    char text[2 + 16 + 4];
    uint64_t ms = (uint64_t)now_ms;
    int digits = 11;
    while (digits < 16 && (ms >> (4 * digits)) != 0)
        digits++;
    text[0] = 'j';
    text[1] = '-';
    for (int i = 0; i < digits; i++)
        text[2 + i] = "0123456789abcdef"[(ms >> (4 * (digits - 1 - i))) & 15];
    unsigned n = counter++;
    for (int i = 0; i < 4; i++)
        text[2 + digits + i] = "0123456789abcdef"[(n >> (4 * (3 - i))) & 15];
    size_t used = (size_t)(2 + digits + 4);
    if (used >= len)
        used = len - 1;
    memcpy(id, text, used);
    id[used] = '\0';
}

/* The unfinished job holding key into holder (QC_MAX_ID_BYTES + 1): 1 if
 * there is one, 0 if not, -1 on error. */
static int s_unique_holder(qc_store_backend_t *self, const char *key, char *holder)
{
    sqlite3_stmt *stmt = self->stmt[S_UNIQUE_HOLDER];
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        snprintf(holder, QC_MAX_ID_BYTES + 1, "%s", (const char *)sqlite3_column_text(stmt, 0));
    s_done(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        qc_error("store: unique key lookup: %s", sqlite3_errmsg(self->db));
        return -1;
    }
    return rc == SQLITE_ROW;
}

/* seq and state of job id: 1, 0 if there is none, -1 on error. */
static int s_seq_state(qc_store_backend_t *self, const char *id, int64_t *seq, int *state)
{
    sqlite3_stmt *stmt = self->stmt[S_SEQ_STATE_OF];
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(stmt, 0);
        *state = sqlite3_column_int(stmt, 1);
    }
    s_done(stmt);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int qc_sqlite_job_insert(qc_store_backend_t *self, const qc_job_spec_t *spec,
                         const qc_config_t *config, int64_t now_ms, char *id_out)
{
    if (spec->unique_key[0]) {
        int held = s_unique_holder(self, spec->unique_key, id_out);
        if (held != 0)
            return held > 0 ? QC_STORE_UNIQUE_HELD : -1;
    }
    /* Dependencies: each must exist and may not have ended dead or canceled. */
    int64_t dep_seqs[QC_MAX_DEPS];
    int deps_left = 0;
    for (int i = 0; i < spec->after_count; i++) {
        int state, found = s_seq_state(self, spec->after[i], &dep_seqs[i], &state);
        if (found <= 0 || state == QC_STATE_DEAD || state == QC_STATE_CANCELED) {
            snprintf(id_out, QC_MAX_ID_BYTES + 1, "%s", spec->after[i]);
            return found < 0 ? -1 : found == 0 ? QC_STORE_DEP_MISSING : QC_STORE_DEP_ENDED;
        }
        deps_left += state != QC_STATE_COMPLETED;
    }
    /* A generated id may collide (48 random bits): try a few. */
    for (int tries = 0; tries < 4; tries++) {
        if (spec->id[0])
            snprintf(id_out, QC_MAX_ID_BYTES + 1, "%s", spec->id);
        else
            s_generate_id(id_out, QC_MAX_ID_BYTES + 1, now_ms);
        sqlite3_stmt *stmt = self->stmt[S_INSERT];
        int64_t run_at = spec->run_at_ms ? spec->run_at_ms : now_ms + spec->delay_ms;
        sqlite3_bind_text(stmt, 1, id_out, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, spec->command, -1, SQLITE_STATIC);
        sqlite3_bind_int(stmt, 3, spec->priority);
        sqlite3_bind_int(stmt, 4, spec->max_retries >= 0 ? spec->max_retries : config->max_retries);
        sqlite3_bind_int(stmt, 5, spec->timeout_s > 0 ? spec->timeout_s : config->job_timeout_s);
        sqlite3_bind_int64(stmt, 6, run_at);
        sqlite3_bind_int64(stmt, 7, now_ms);
        s_bind_text_or_null(stmt, 8, spec->env_json);
        s_bind_text_or_null(stmt, 9, spec->cwd);
        sqlite3_bind_text(stmt, 10,
                          spec->retry_on_exit ? spec->retry_on_exit : config->retry_on_exit, -1,
                          SQLITE_STATIC);
        sqlite3_bind_text(
            stmt, 11, spec->no_retry_on_exit ? spec->no_retry_on_exit : config->no_retry_on_exit,
            -1, SQLITE_STATIC);
        s_bind_text_or_null(stmt, 12, spec->unique_key);
        sqlite3_bind_text(stmt, 13, spec->queue[0] ? spec->queue : "default", -1, SQLITE_STATIC);
        sqlite3_bind_int(stmt, 14, deps_left);
        int rc = sqlite3_step(stmt);
        int ext = sqlite3_extended_errcode(self->db);
        s_done(stmt);
        if (rc == SQLITE_DONE) {
            int64_t seq = sqlite3_last_insert_rowid(self->db);
            for (int i = 0; i < spec->after_count; i++) {
                sqlite3_stmt *dep = self->stmt[S_DEP_INSERT];
                sqlite3_bind_int64(dep, 1, dep_seqs[i]);
                sqlite3_bind_int64(dep, 2, seq);
                if (s_exec_stmt(self, S_DEP_INSERT) != 0)
                    return -1;
                self->any_deps = 1;
            }
            s_move_q(self, spec->queue, 0, NULL, -1,
                     deps_left > 0 ? QC_STATE_WAITING : QC_STATE_PENDING);
            return 0;
        }
        if (ext == SQLITE_CONSTRAINT_UNIQUE) {
            if (spec->id[0])
                return QC_STORE_DUPLICATE;
            continue;
        }
        qc_error("store: insert %s: %s", id_out, sqlite3_errmsg(self->db));
        return -1;
    }
    return -1;
}

/* Claims the job the statement which (bound) selects first. */
static int s_claim(qc_store_backend_t *self, int which, const qc_worker_ref_t *worker,
                   int64_t now_ms, qc_claim_t *claim)
{
    sqlite3_stmt *stmt = self->stmt[which];
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        s_done(stmt);
        if (rc == SQLITE_DONE)
            return 0;
        qc_error("store: claim: %s", sqlite3_errmsg(self->db));
        return -1;
    }
    claim->seq = sqlite3_column_int64(stmt, 0);
    snprintf(claim->id, sizeof claim->id, "%s", (const char *)sqlite3_column_text(stmt, 1));
    claim->command = strdup((const char *)sqlite3_column_text(stmt, 2));
    claim->attempt = sqlite3_column_int(stmt, 3) + 1;
    claim->timeout_s = sqlite3_column_int(stmt, 4);
    claim->run_at_ms = sqlite3_column_int64(stmt, 5);
    claim->attempts = sqlite3_column_int(stmt, 6) + 1;
    claim->max_retries = sqlite3_column_int(stmt, 7);
    claim->priority = sqlite3_column_int(stmt, 8);
    const unsigned char *text = sqlite3_column_text(stmt, 9);
    claim->env_json = text ? strdup((const char *)text) : NULL;
    text = sqlite3_column_text(stmt, 10);
    claim->cwd = text ? strdup((const char *)text) : NULL;
    snprintf(claim->queue, sizeof claim->queue, "%s", (const char *)sqlite3_column_text(stmt, 11));
    s_done(stmt);
    if (!claim->command)
        goto fail;
    /* Pending or failed: which one leaves its count. */
    stmt = self->stmt[S_STATE_OF_SEQ];
    sqlite3_bind_int64(stmt, 1, claim->seq);
    rc = sqlite3_step(stmt);
    int was = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
    s_done(stmt);
    if (was < 0) {
        qc_error("store: claim: %s", sqlite3_errmsg(self->db));
        goto fail;
    }

    stmt = self->stmt[S_CLAIM_UPDATE];
    sqlite3_bind_int64(stmt, 1, claim->seq);
    sqlite3_bind_int64(stmt, 2, now_ms);
    sqlite3_bind_text(stmt, 3, worker->worker_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, worker->instance, -1, SQLITE_STATIC);
    if (s_exec_stmt(self, S_CLAIM_UPDATE) != 0)
        goto fail;
    stmt = self->stmt[S_ATTEMPT_INSERT];
    sqlite3_bind_int64(stmt, 1, claim->seq);
    sqlite3_bind_int(stmt, 2, claim->attempt);
    sqlite3_bind_text(stmt, 3, worker->worker_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, worker->host, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 5, worker->pid);
    sqlite3_bind_int64(stmt, 6, now_ms);
    if (s_exec_stmt(self, S_ATTEMPT_INSERT) != 0)
        goto fail;
    s_move_q(self, claim->queue, 0, NULL, was, QC_STATE_PROCESSING);
    return 1;
fail:
    qc_claim_clear(claim);
    return -1;
}

int qc_sqlite_job_claim_next(qc_store_backend_t *self, const qc_worker_ref_t *worker,
                             int64_t now_ms, qc_claim_t *claim)
{
    sqlite3_bind_int64(self->stmt[S_CLAIM_SELECT], 1, now_ms);
    return s_claim(self, S_CLAIM_SELECT, worker, now_ms, claim);
}

/* 1 if queue is paused or at its cap, 0 if not, -1 on error. */
static int s_queue_blocked(qc_store_backend_t *self, const char *queue)
{
    if (s_queue_deltas_write(self) != 0) /* it reads queue_counts */
        return -1;
    sqlite3_stmt *stmt = self->stmt[S_QUEUE_BLOCKED];
    sqlite3_bind_text(stmt, 1, queue, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    int blocked = rc == SQLITE_ROW && sqlite3_column_int(stmt, 0);
    s_done(stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? blocked : -1;
}

/* The head of queue's due jobs: 1 with *seq and *priority, 0 if none, -1. */
static int s_queue_head(qc_store_backend_t *self, const char *queue, int64_t now_ms, int64_t *seq,
                        int *priority)
{
    sqlite3_stmt *stmt = self->stmt[S_CLAIM_HEAD_Q];
    sqlite3_bind_text(stmt, 1, queue, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now_ms);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(stmt, 0);
        *priority = sqlite3_column_int(stmt, 1);
    }
    s_done(stmt);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

#define S_MAX_QUEUES_SCANNED 1024

int qc_sqlite_job_claim_for(qc_store_backend_t *self, const qc_worker_ref_t *worker, int64_t now_ms,
                            const char *queues, qc_claim_t *claim)
{
    sqlite3_stmt *stmt;
    int rc;
    if (!queues) {
        /* Every queue: the one global index, unless a queue is paused or capped. */
        stmt = self->stmt[S_RESTRICTED];
        rc = sqlite3_step(stmt);
        int restricted = rc == SQLITE_ROW && sqlite3_column_int(stmt, 0);
        s_done(stmt);
        if (rc != SQLITE_ROW)
            return -1;
        if (!restricted)
            return qc_sqlite_job_claim_next(self, worker, now_ms, claim);
    }
    /* The queues to look at: the worker's, in its order, or every queue
     * with waiting jobs (then the best head wins: priority, then age). */
    char *names[S_MAX_QUEUES_SCANNED];
    int count = 0;
    char *list = queues ? strdup(queues) : NULL;
    if (queues) {
        for (char *save = NULL, *q = strtok_r(list, ",", &save); q && count < S_MAX_QUEUES_SCANNED;
             q = strtok_r(NULL, ",", &save))
            names[count++] = q;
    } else {
        if (s_queue_deltas_write(self) != 0) { /* it reads queue_counts */
            free(list);
            return -1;
        }
        stmt = self->stmt[S_QUEUES_WAITING];
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && count < S_MAX_QUEUES_SCANNED)
            if ((names[count] = strdup((const char *)sqlite3_column_text(stmt, 0))) != NULL)
                count++;
        s_done(stmt);
    }
    int64_t best_seq = -1;
    int best_priority = 0, result = 0;
    for (int i = 0; i < count; i++) {
        int64_t seq = -1;
        int priority = 0, blocked = s_queue_blocked(self, names[i]);
        int found = blocked == 0 ? s_queue_head(self, names[i], now_ms, &seq, &priority)
                                 : (blocked < 0 ? -1 : 0);
        if (blocked < 0 || found < 0) {
            result = -1;
            break;
        }
        if (found && (best_seq < 0 || priority > best_priority ||
                      (priority == best_priority && seq < best_seq))) {
            best_seq = seq;
            best_priority = priority;
            if (queues)
                break; /* the worker's order is strict: its first queue with a due job */
        }
    }
    if (queues)
        free(list);
    else
        for (int i = 0; i < count; i++)
            free(names[i]);
    if (result < 0 || best_seq < 0)
        return result;
    sqlite3_bind_int64(self->stmt[S_CLAIM_BY_SEQ], 1, best_seq);
    return s_claim(self, S_CLAIM_BY_SEQ, worker, now_ms, claim);
}

int qc_sqlite_queue_update(qc_store_backend_t *self, const qc_queue_update_t *update)
{
    sqlite3_stmt *stmt = self->stmt[S_QUEUE_UPDATE];
    sqlite3_bind_text(stmt, 1, update->name, -1, SQLITE_STATIC);
    if (update->paused >= 0)
        sqlite3_bind_int(stmt, 2, update->paused);
    if (update->max_running >= 0)
        sqlite3_bind_int(stmt, 3, update->max_running);
    return s_exec_stmt(self, S_QUEUE_UPDATE);
}

cJSON *qc_sqlite_queue_list(qc_store_backend_t *self, int64_t now_ms)
{
    if (s_queue_deltas_write(self) != 0) /* it reads queue_counts */
        return NULL;
    cJSON *by_name = cJSON_CreateObject();
    sqlite3_stmt *stmt = self->stmt[S_QUEUE_COUNTS];
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int state = sqlite3_column_int(stmt, 1);
        cJSON *counts = cJSON_GetObjectItemCaseSensitive(
            qc_store_queue_entry(by_name, (const char *)sqlite3_column_text(stmt, 0)), "counts");
        if (state >= 0 && state < QC_STATE_COUNT)
            cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(counts, qc_state_name(state)),
                                 (double)sqlite3_column_int64(stmt, 2));
    }
    s_done(stmt);
    if (rc != SQLITE_DONE)
        goto fail;
    stmt = self->stmt[S_QUEUE_SETTINGS];
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        cJSON *entry = qc_store_queue_entry(by_name, (const char *)sqlite3_column_text(stmt, 0));
        cJSON_ReplaceItemInObjectCaseSensitive(entry, "paused",
                                               cJSON_CreateBool(sqlite3_column_int(stmt, 1)));
        int cap = sqlite3_column_int(stmt, 2);
        cJSON_ReplaceItemInObjectCaseSensitive(
            entry, "max_running", cap > 0 ? cJSON_CreateNumber(cap) : cJSON_CreateNull());
    }
    s_done(stmt);
    if (rc != SQLITE_DONE)
        goto fail;
    cJSON *list = cJSON_CreateArray();
    for (cJSON *entry = by_name->child; entry; entry = entry->next) {
        cJSON *item = cJSON_Duplicate(entry, 1);
        cJSON_AddStringToObject(item, "name", entry->string);
        stmt = self->stmt[S_QUEUE_OLDEST];
        sqlite3_bind_text(stmt, 1, entry->string, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 2, now_ms);
        if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
            cJSON_AddNumberToObject(item, "oldest_pending_age_s",
                                    (double)(now_ms - sqlite3_column_int64(stmt, 0)) / 1000.0);
        else
            cJSON_AddNullToObject(item, "oldest_pending_age_s");
        s_done(stmt);
        cJSON_AddItemToArray(list, item);
    }
    cJSON_Delete(by_name);
    return list;
fail:
    cJSON_Delete(by_name);
    return NULL;
}

int qc_sqlite_queue_counts(qc_store_backend_t *self, const char *queue,
                           int64_t counts[QC_STATE_COUNT])
{
    memset(counts, 0, sizeof(int64_t) * QC_STATE_COUNT);
    if (s_queue_deltas_write(self) != 0) /* it reads queue_counts */
        return -1;
    sqlite3_stmt *stmt = self->stmt[S_QUEUE_COUNTS_OF];
    sqlite3_bind_text(stmt, 1, queue, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int state = sqlite3_column_int(stmt, 0);
        if (state >= 0 && state < QC_STATE_COUNT)
            counts[state] = sqlite3_column_int64(stmt, 1);
    }
    s_done(stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

int64_t qc_sqlite_next_due_ms(qc_store_backend_t *self)
{
    sqlite3_stmt *stmt = self->stmt[S_NEXT_DUE];
    int64_t due = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
        due = sqlite3_column_int64(stmt, 0);
    s_done(stmt);
    return due;
}

int qc_sqlite_job_running(qc_store_backend_t *self, const char *id, qc_running_t *running)
{
    sqlite3_stmt *stmt = self->stmt[S_RUNNING];
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        running->seq = sqlite3_column_int64(stmt, 0);
        running->attempt = sqlite3_column_int(stmt, 1);
        running->attempts = sqlite3_column_int(stmt, 2);
        running->max_retries = sqlite3_column_int(stmt, 3);
        const unsigned char *worker = sqlite3_column_text(stmt, 4);
        snprintf(running->worker_id, sizeof running->worker_id, "%s",
                 worker ? (const char *)worker : "");
        running->cancel_requested = sqlite3_column_int(stmt, 5);
        const unsigned char *token = sqlite3_column_text(stmt, 6);
        snprintf(running->worker_token, sizeof running->worker_token, "%s",
                 token ? (const char *)token : "");
        running->started = sqlite3_column_int(stmt, 7);
        const unsigned char *list = sqlite3_column_text(stmt, 8);
        snprintf(running->retry_on_exit, sizeof running->retry_on_exit, "%s",
                 list ? (const char *)list : "");
        list = sqlite3_column_text(stmt, 9);
        snprintf(running->no_retry_on_exit, sizeof running->no_retry_on_exit, "%s",
                 list ? (const char *)list : "");
    }
    s_done(stmt);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return QC_STORE_NOT_FOUND;
    qc_error("store: lookup %s: %s", id, sqlite3_errmsg(self->db));
    return -1;
}

int qc_sqlite_job_finish(qc_store_backend_t *self, const qc_running_t *running,
                         const qc_result_t *result, qc_state_t next_state, int64_t run_at_ms,
                         int64_t now_ms)
{
    sqlite3_stmt *stmt = self->stmt[S_ATTEMPT_FINISH];
    sqlite3_bind_int64(stmt, 1, running->seq);
    sqlite3_bind_int(stmt, 2, running->attempt);
    sqlite3_bind_int64(stmt, 3, result->finished_at_ms ? result->finished_at_ms : now_ms);
    sqlite3_bind_int(stmt, 4, result->outcome);
    if (result->exit_code >= 0)
        sqlite3_bind_int(stmt, 5, result->exit_code);
    sqlite3_bind_int(stmt, 6, result->signal);
    sqlite3_bind_int64(stmt, 7, result->cpu_ms);
    sqlite3_bind_int64(stmt, 8, result->max_rss_kb);
    s_bind_text_or_null(stmt, 9, result->error);
    s_bind_text_or_null(stmt, 10, result->stdout_tail);
    s_bind_text_or_null(stmt, 11, result->stderr_tail);
    sqlite3_bind_int64(stmt, 12, result->started_at_ms);
    if (s_exec_stmt(self, S_ATTEMPT_FINISH) != 0)
        return -1;

    stmt = self->stmt[S_JOB_FINISH];
    sqlite3_bind_int64(stmt, 1, running->seq);
    sqlite3_bind_int(stmt, 2, next_state);
    sqlite3_bind_int64(stmt, 3, run_at_ms);
    sqlite3_bind_int64(stmt, 4, now_ms);
    if (result->exit_code >= 0)
        sqlite3_bind_int(stmt, 5, result->exit_code);
    s_bind_text_or_null(stmt, 6, result->error);
    s_bind_text_or_null(stmt, 7, result->stdout_tail);
    s_bind_text_or_null(stmt, 8, result->stderr_tail);
    /* A run that never started is recorded but not charged. */
    sqlite3_bind_int(stmt, 9, result->outcome == QC_OUTCOME_NOT_STARTED ? 1 : 0);
    sqlite3_bind_int64(stmt, 10,
                       result->outcome == QC_OUTCOME_NOT_STARTED ? 0 : result->started_at_ms);
    if (s_exec_stmt(self, S_JOB_FINISH) != 0)
        return -1;
    if (sqlite3_changes(self->db) == 1) {
        /* The caller read the job running, with this attempt unfinished. */
        if (result->outcome != QC_OUTCOME_SUCCEEDED && result->outcome != QC_OUTCOME_NOT_STARTED)
            self->tx_totals[S_T_FAILED]++;
        s_move_q(self, NULL, running->seq, NULL, QC_STATE_PROCESSING, next_state);
    }
    return 0;
}

int qc_sqlite_job_started(qc_store_backend_t *self, int64_t seq, int attempt, int64_t started_at_ms)
{
    for (int which = S_STARTED_JOB; which <= S_STARTED_ATTEMPT; which++) {
        sqlite3_stmt *stmt = self->stmt[which];
        sqlite3_bind_int64(stmt, 1, seq);
        sqlite3_bind_int(stmt, 2, attempt);
        sqlite3_bind_int64(stmt, 3, started_at_ms);
        if (s_exec_stmt(self, which) != 0)
            return -1;
    }
    return 0;
}

int qc_sqlite_each_running(qc_store_backend_t *self, qc_store_running_fn *fn, void *arg)
{
    sqlite3_stmt *stmt = self->stmt[S_EACH_RUNNING];
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const unsigned char *worker = sqlite3_column_text(stmt, 3);
        fn(arg, sqlite3_column_int64(stmt, 0), (const char *)sqlite3_column_text(stmt, 1),
           sqlite3_column_int(stmt, 2), worker ? (const char *)worker : "");
    }
    s_done(stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Why an update by id changed nothing: the job is not there, or it is but in
 * the wrong state. QC_STORE_NOT_FOUND, QC_STORE_CONFLICT or -1. */
static int s_missing_or_conflict(qc_store_backend_t *self, const char *id)
{
    sqlite3_stmt *stmt = self->stmt[S_STATE_OF];
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    s_done(stmt);
    return rc == SQLITE_ROW ? QC_STORE_CONFLICT : rc == SQLITE_DONE ? QC_STORE_NOT_FOUND : -1;
}

int qc_sqlite_job_revive(qc_store_backend_t *self, const char *id, int64_t now_ms)
{
    /* A dead job whose unique key an unfinished job took meanwhile stays dead. */
    sqlite3_stmt *key_stmt = self->stmt[S_UNIQUE_OF_DEAD];
    sqlite3_bind_text(key_stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(key_stmt);
    char key[QC_MAX_ID_BYTES + 1] = "", holder[QC_MAX_ID_BYTES + 1];
    if (rc == SQLITE_ROW)
        snprintf(key, sizeof key, "%s", (const char *)sqlite3_column_text(key_stmt, 0));
    s_done(key_stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return -1;
    if (key[0]) {
        int held = s_unique_holder(self, key, holder);
        if (held != 0)
            return held > 0 ? QC_STORE_UNIQUE_HELD : -1;
    }
    sqlite3_stmt *stmt = self->stmt[S_REVIVE];
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now_ms);
    if (s_exec_stmt(self, S_REVIVE) != 0)
        return -1;
    if (sqlite3_changes(self->db) == 1) {
        s_move_q(self, NULL, 0, id, QC_STATE_DEAD, QC_STATE_PENDING);
        return 0;
    }
    return s_missing_or_conflict(self, id);
}

/* JSON helpers: a column as an ISO time, integer or string, null when NULL. */
static void s_add_time(cJSON *obj, const char *key, sqlite3_stmt *stmt, int col)
{
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL) {
        cJSON_AddNullToObject(obj, key);
        return;
    }
    char iso[32];
    cJSON_AddStringToObject(obj, key,
                            qc_clock_format_iso(sqlite3_column_int64(stmt, col), iso, sizeof iso));
}

static void s_add_int(cJSON *obj, const char *key, sqlite3_stmt *stmt, int col)
{
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        cJSON_AddNullToObject(obj, key);
    else
        cJSON_AddNumberToObject(obj, key, (double)sqlite3_column_int64(stmt, col));
}

static void s_add_text(cJSON *obj, const char *key, sqlite3_stmt *stmt, int col)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    if (text)
        cJSON_AddStringToObject(obj, key, (const char *)text);
    else
        cJSON_AddNullToObject(obj, key);
}

/* Builds a job object from a row laid out as S_JOB_COLUMNS. */
static cJSON *s_job_row(sqlite3_stmt *stmt)
{
    cJSON *job = cJSON_CreateObject();
    s_add_text(job, "id", stmt, 1);
    s_add_text(job, "command", stmt, 2);
    cJSON_AddStringToObject(job, "state", qc_state_name(sqlite3_column_int(stmt, 3)));
    s_add_int(job, "priority", stmt, 4);
    s_add_int(job, "attempts", stmt, 5);
    s_add_int(job, "max_retries", stmt, 6);
    s_add_int(job, "timeout_s", stmt, 7);
    s_add_time(job, "run_at", stmt, 8);
    s_add_time(job, "created_at", stmt, 9);
    s_add_time(job, "updated_at", stmt, 10);
    s_add_time(job, "started_at", stmt, 11);
    s_add_time(job, "finished_at", stmt, 12);
    s_add_int(job, "exit_code", stmt, 13);
    s_add_text(job, "last_error", stmt, 14);
    s_add_text(job, "worker_id", stmt, 15);
    s_add_int(job, "runs", stmt, 16);
    s_add_text(job, "queue", stmt, 17);
    return job;
}

int qc_sqlite_job_get(qc_store_backend_t *self, const char *id, int with_attempts, cJSON **job_out)
{
    *job_out = NULL;
    sqlite3_stmt *stmt = self->stmt[S_GET];
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        s_done(stmt);
        return rc == SQLITE_DONE ? QC_STORE_NOT_FOUND : -1;
    }
    cJSON *job = s_job_row(stmt);
    s_add_text(job, "stdout_tail", stmt, S_JOB_NCOLS);
    s_add_text(job, "stderr_tail", stmt, S_JOB_NCOLS + 1);
    const unsigned char *env = sqlite3_column_text(stmt, S_JOB_NCOLS + 2);
    cJSON *env_obj = env ? cJSON_Parse((const char *)env) : NULL;
    if (env_obj)
        cJSON_AddItemToObject(job, "env", env_obj);
    else
        cJSON_AddNullToObject(job, "env");
    s_add_text(job, "cwd", stmt, S_JOB_NCOLS + 3);
    cJSON_AddItemToObject(
        job, "retry_on_exit",
        qc_exit_list_to_json((const char *)sqlite3_column_text(stmt, S_JOB_NCOLS + 4)));
    cJSON_AddItemToObject(
        job, "no_retry_on_exit",
        qc_exit_list_to_json((const char *)sqlite3_column_text(stmt, S_JOB_NCOLS + 5)));
    s_add_text(job, "unique_key", stmt, S_JOB_NCOLS + 6);
    int64_t seq = sqlite3_column_int64(stmt, 0);
    int runs = sqlite3_column_int(stmt, 16);
    s_done(stmt);
    if (!with_attempts) {
        *job_out = job;
        return 0;
    }

    cJSON *log = cJSON_AddArrayToObject(job, "attempts_log");
    stmt = self->stmt[S_ATTEMPTS_OF];
    sqlite3_bind_int64(stmt, 1, seq);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        cJSON *a = cJSON_CreateObject();
        s_add_int(a, "attempt", stmt, 0);
        s_add_text(a, "worker_id", stmt, 1);
        s_add_text(a, "worker_host", stmt, 2);
        s_add_int(a, "worker_pid", stmt, 3);
        s_add_time(a, "started_at", stmt, 4);
        s_add_time(a, "finished_at", stmt, 5);
        if (sqlite3_column_type(stmt, 6) == SQLITE_NULL)
            cJSON_AddNullToObject(a, "outcome");
        else
            cJSON_AddStringToObject(a, "outcome", qc_outcome_name(sqlite3_column_int(stmt, 6)));
        s_add_int(a, "exit_code", stmt, 7);
        s_add_int(a, "signal", stmt, 8);
        s_add_int(a, "cpu_ms", stmt, 9);
        s_add_int(a, "max_rss_kb", stmt, 10);
        s_add_text(a, "error", stmt, 11);
        /* Tails of the last attempts only: a reply stays a few MiB however
         * many times a job ran. */
        if (sqlite3_column_int(stmt, 0) > runs - QC_TAILED_ATTEMPTS) {
            s_add_text(a, "stdout_tail", stmt, 12);
            s_add_text(a, "stderr_tail", stmt, 13);
        }
        cJSON_AddItemToArray(log, a);
    }
    s_done(stmt);
    if (rc != SQLITE_DONE) { /* a history cut short by an error is not the job */
        cJSON_Delete(job);
        return -1;
    }
    *job_out = job;
    return 0;
}

/* A page of the bound statement which's rows. */
static cJSON *s_list_page(qc_store_backend_t *self, int which, int limit, int64_t *next_cursor);

cJSON *qc_sqlite_job_list(qc_store_backend_t *self, int state, int limit, int64_t cursor,
                          int64_t *next_cursor)
{
    int which = state < 0 ? S_LIST_ALL : S_LIST_STATE;
    sqlite3_stmt *stmt = self->stmt[which];
    sqlite3_bind_int64(stmt, 1, cursor > 0 ? cursor : INT64_MAX);
    sqlite3_bind_int(stmt, 2, limit);
    if (state >= 0)
        sqlite3_bind_int(stmt, 3, state);
    return s_list_page(self, which, limit, next_cursor);
}

cJSON *qc_sqlite_job_list_in(qc_store_backend_t *self, const qc_store_list_t *list,
                             int64_t *next_cursor)
{
    int which = list->state < 0 ? S_LIST_QUEUE : S_LIST_QUEUE_STATE;
    sqlite3_stmt *stmt = self->stmt[which];
    sqlite3_bind_int64(stmt, 1, list->cursor > 0 ? list->cursor : INT64_MAX);
    sqlite3_bind_int(stmt, 2, list->limit);
    sqlite3_bind_text(stmt, 3, list->queue, -1, SQLITE_STATIC);
    if (list->state >= 0)
        sqlite3_bind_int(stmt, 4, list->state);
    return s_list_page(self, which, list->limit, next_cursor);
}

static cJSON *s_list_page(qc_store_backend_t *self, int which, int limit, int64_t *next_cursor)
{
    sqlite3_stmt *stmt = self->stmt[which];
    cJSON *jobs = cJSON_CreateArray();
    int rows = 0, rc;
    int64_t last_seq = 0, bytes = 0;
    /* A page also ends at about QC_LIST_PAGE_BYTES of commands, so a reply
     * stays small whatever the jobs hold. */
    while (bytes < QC_LIST_PAGE_BYTES && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        cJSON_AddItemToArray(jobs, s_job_row(stmt));
        last_seq = sqlite3_column_int64(stmt, 0);
        bytes += sqlite3_column_bytes(stmt, 2) + 512;
        rows++;
    }
    int cut_short = bytes >= QC_LIST_PAGE_BYTES;
    s_done(stmt);
    if (!cut_short && rc != SQLITE_DONE) {
        cJSON_Delete(jobs);
        return NULL;
    }
    /* A full page may have more behind it; the next page starts below it. */
    *next_cursor = rows == limit || cut_short ? last_seq : 0;
    return jobs;
}

int qc_sqlite_counts(qc_store_backend_t *self, int64_t counts[QC_STATE_COUNT],
                     int64_t *oldest_pending_ms)
{
    memset(counts, 0, sizeof(int64_t) * QC_STATE_COUNT);
    sqlite3_stmt *stmt = self->stmt[S_COUNTS];
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int state = sqlite3_column_int(stmt, 0);
        if (state >= 0 && state < QC_STATE_COUNT)
            counts[state] = sqlite3_column_int64(stmt, 1) + self->tx_counts[state];
    }
    s_done(stmt);
    if (rc != SQLITE_DONE)
        return -1;
    stmt = self->stmt[S_OLDEST_PENDING];
    *oldest_pending_ms = -1;
    sqlite3_bind_int64(stmt, 1, qc_clock_wall_ms());
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
        *oldest_pending_ms = sqlite3_column_int64(stmt, 0);
    s_done(stmt);
    return 0;
}

int qc_sqlite_job_cancel(qc_store_backend_t *self, const char *id, int64_t now_ms)
{
    /* Its state now: pending and failed jobs are canceled at once. */
    sqlite3_stmt *stmt = self->stmt[S_STATE_OF];
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    int was = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
    s_done(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return -1;
    stmt = self->stmt[S_CANCEL_WAITING];
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now_ms);
    if (s_exec_stmt(self, S_CANCEL_WAITING) != 0)
        return -1;
    if (sqlite3_changes(self->db) == 1) {
        s_move_q(self, NULL, 0, id, was, QC_STATE_CANCELED);
        return 0;
    }
    stmt = self->stmt[S_CANCEL_REQUEST];
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now_ms);
    if (s_exec_stmt(self, S_CANCEL_REQUEST) != 0)
        return -1;
    if (sqlite3_changes(self->db) == 1)
        return QC_STORE_RUNNING;
    return s_missing_or_conflict(self, id);
}

int64_t qc_sqlite_purge(qc_store_backend_t *self, int state, int64_t before_ms, int64_t max_rows)
{
    int64_t deleted = 0;
    while (deleted < max_rows) {
        sqlite3_stmt *stmt = self->stmt[S_PURGE];
        sqlite3_bind_int(stmt, 1, state);
        sqlite3_bind_int64(stmt, 2, before_ms);
        if (s_exec_stmt(self, S_PURGE) != 0)
            return -1;
        int changed = sqlite3_changes(self->db); /* jobs only, not their attempts */
        deleted += changed;
        if (state >= 0 && state < QC_STATE_COUNT)
            self->tx_counts[state] -= changed;
        s_moved(self);
        if (changed == 0)
            break;
    }
    return deleted;
}

cJSON *qc_sqlite_totals(qc_store_backend_t *self)
{
    sqlite3_stmt *stmt = self->stmt[S_TOTALS];
    cJSON *totals = cJSON_CreateObject();
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(stmt, 0);
        int64_t n = sqlite3_column_int64(stmt, 1);
        for (int t = 0; t < S_T_COUNT; t++)
            if (strcmp(name, s_total_names[t]) == 0)
                n += self->tx_totals[t]; /* this transaction's, not yet written */
        cJSON_AddNumberToObject(totals, name, (double)n);
    }
    s_done(stmt);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(totals);
        return NULL;
    }
    return totals;
}

cJSON *qc_sqlite_job_brief(qc_store_backend_t *self, const char *id)
{
    sqlite3_stmt *stmt = self->stmt[S_JOB_BRIEF];
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    cJSON *job = sqlite3_step(stmt) == SQLITE_ROW ? s_job_row(stmt) : NULL;
    s_done(stmt);
    return job;
}

int qc_sqlite_job_states(qc_store_backend_t *self, const char *const *ids, int count, cJSON *out)
{
    sqlite3_stmt *stmt = self->stmt[S_JOB_BRIEF];
    for (int i = 0; i < count; i++) {
        sqlite3_bind_text(stmt, 1, ids[i], -1, SQLITE_STATIC);
        int rc = sqlite3_step(stmt);
        cJSON *obj = cJSON_CreateObject();
        cJSON_AddStringToObject(obj, "id", ids[i]);
        if (rc == SQLITE_ROW) {
            cJSON_AddStringToObject(obj, "state", qc_state_name(sqlite3_column_int(stmt, 3)));
            s_add_int(obj, "attempts", stmt, 5);
            s_add_int(obj, "max_retries", stmt, 6);
            s_add_int(obj, "exit_code", stmt, 13);
            s_add_text(obj, "last_error", stmt, 14);
            s_add_time(obj, "updated_at", stmt, 10);
            s_add_time(obj, "finished_at", stmt, 12);
        } else {
            cJSON_AddNullToObject(obj, "state");
        }
        cJSON_AddItemToArray(out, obj);
        s_done(stmt);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            qc_error("store: states of %s: %s", ids[i], sqlite3_errmsg(self->db));
            return -1;
        }
    }
    return 0;
}

cJSON *qc_sqlite_job_search(qc_store_backend_t *self, const qc_store_search_t *search,
                            int64_t *next_cursor, int *scanned)
{
    int which = search->state < 0 ? S_LIST_ALL : S_LIST_STATE;
    sqlite3_stmt *stmt = self->stmt[which];
    sqlite3_bind_int64(stmt, 1, search->cursor > 0 ? search->cursor : INT64_MAX);
    sqlite3_bind_int(stmt, 2, search->max_scan);
    if (search->state >= 0)
        sqlite3_bind_int(stmt, 3, search->state);
    cJSON *jobs = cJSON_CreateArray();
    int matches = 0, rc = SQLITE_DONE;
    int64_t last_seq = 0;
    *scanned = 0;
    while (matches < search->limit && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        (*scanned)++;
        last_seq = sqlite3_column_int64(stmt, 0);
        const char *id = (const char *)sqlite3_column_text(stmt, 1);
        const char *command = (const char *)sqlite3_column_text(stmt, 2);
        if (search->skip_id && id && strcmp(id, search->skip_id) == 0)
            continue;
        if ((id && strcasestr(id, search->text)) ||
            (command && strcasestr(command, search->text))) {
            cJSON_AddItemToArray(jobs, s_job_row(stmt));
            matches++;
        }
    }
    s_done(stmt);
    if (matches < search->limit && rc != SQLITE_DONE) {
        qc_error("store: search: %s", sqlite3_errmsg(self->db));
        cJSON_Delete(jobs);
        return NULL;
    }
    /* Go on below the last job looked at: after a full page of matches, or
     * when the scan stopped at max_scan before the end. */
    *next_cursor = (matches == search->limit || *scanned == search->max_scan) ? last_seq : 0;
    return jobs;
}

int qc_sqlite_deps_settle(qc_store_backend_t *self, const char *id, int64_t now_ms,
                          qc_store_dep_fn *fn, void *arg);
int qc_sqlite_deps_revive(qc_store_backend_t *self, const char *id, int64_t now_ms,
                          qc_store_dep_fn *fn, void *arg);
cJSON *qc_sqlite_job_deps(qc_store_backend_t *self, const char *id, int max_dependents);

int qc_sqlite_schedule_add(qc_store_backend_t *self, const qc_schedule_t *schedule);
int qc_sqlite_schedule_update(qc_store_backend_t *self, const qc_schedule_update_t *update);
int qc_sqlite_schedule_remove(qc_store_backend_t *self, const char *name);
cJSON *qc_sqlite_schedule_list(qc_store_backend_t *self, const char *name, int64_t due_by_ms);
cJSON *qc_sqlite_schedule_runs(qc_store_backend_t *self, const char *name, int limit);
int64_t qc_sqlite_schedule_next_due(qc_store_backend_t *self);

const qc_store_ops_t qc_sqlite_ops = {
    .name = "sqlite",
    .features = QC_STORE_FEAT_ENV | QC_STORE_FEAT_EXIT_POLICY | QC_STORE_FEAT_UNIQUE |
                QC_STORE_FEAT_QUEUE | QC_STORE_FEAT_DEPS,
    .schedule_add = qc_sqlite_schedule_add,
    .schedule_update = qc_sqlite_schedule_update,
    .schedule_remove = qc_sqlite_schedule_remove,
    .schedule_list = qc_sqlite_schedule_list,
    .schedule_runs = qc_sqlite_schedule_runs,
    .schedule_next_due = qc_sqlite_schedule_next_due,
    .deps_settle = qc_sqlite_deps_settle,
    .deps_revive = qc_sqlite_deps_revive,
    .job_deps = qc_sqlite_job_deps,
    .job_claim_for = qc_sqlite_job_claim_for,
    .queue_update = qc_sqlite_queue_update,
    .queue_list = qc_sqlite_queue_list,
    .queue_counts = qc_sqlite_queue_counts,
    .job_list_in = qc_sqlite_job_list_in,
    .destroy = qc_sqlite_destroy,
    .errmsg = qc_sqlite_errmsg,
    .total_changes = qc_sqlite_total_changes,
    .begin = qc_sqlite_begin,
    .commit = qc_sqlite_commit,
    .rollback = qc_sqlite_rollback,
    .savepoint = qc_sqlite_savepoint,
    .release = qc_sqlite_release,
    .rollback_savepoint = qc_sqlite_rollback_savepoint,
    .config_load = qc_sqlite_config_load,
    .config_save = qc_sqlite_config_save,
    .job_insert = qc_sqlite_job_insert,
    .job_claim_next = qc_sqlite_job_claim_next,
    .next_due_ms = qc_sqlite_next_due_ms,
    .job_running = qc_sqlite_job_running,
    .job_finish = qc_sqlite_job_finish,
    .each_running = qc_sqlite_each_running,
    .job_revive = qc_sqlite_job_revive,
    .job_cancel = qc_sqlite_job_cancel,
    .purge = qc_sqlite_purge,
    .totals = qc_sqlite_totals,
    .job_get = qc_sqlite_job_get,
    .job_list = qc_sqlite_job_list,
    .counts = qc_sqlite_counts,
    .job_started = qc_sqlite_job_started,
    .job_brief = qc_sqlite_job_brief,
    .job_states = qc_sqlite_job_states,
    .job_search = qc_sqlite_job_search,
};

/* ---- dependencies --------------------------------------------------------- */

/* A list of (seq, id) collected before changing the rows it came from. */
typedef struct {
    int64_t seq;
    char id[QC_MAX_ID_BYTES + 1];
} s_ref_t;

typedef struct {
    s_ref_t *items;
    size_t count, cap;
} s_refs_t;

static int s_refs_push(s_refs_t *refs, int64_t seq, const char *id)
{
    if (refs->count == refs->cap) {
        size_t cap = refs->cap ? refs->cap * 2 : 16;
        s_ref_t *items = realloc(refs->items, cap * sizeof *items);
        if (!items)
            return -1;
        refs->items = items;
        refs->cap = cap;
    }
    refs->items[refs->count].seq = seq;
    snprintf(refs->items[refs->count].id, sizeof refs->items[refs->count].id, "%s", id);
    refs->count++;
    return 0;
}

/* Appends the waiting dependents of seq (or, with canceled_by, the jobs
 * its end canceled) to refs. 0 or -1. */
static int s_collect(qc_store_backend_t *self, int which, int64_t seq, s_refs_t *refs)
{
    sqlite3_stmt *stmt = self->stmt[which];
    sqlite3_bind_int64(stmt, 1, seq);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        if (s_refs_push(refs, sqlite3_column_int64(stmt, 0),
                        (const char *)sqlite3_column_text(stmt, 1)) != 0) {
            rc = SQLITE_NOMEM;
            break;
        }
    s_done(stmt);
    if (rc != SQLITE_DONE) {
        qc_error("store: dependents of %lld: %s", (long long)seq, sqlite3_errmsg(self->db));
        return -1;
    }
    return 0;
}

int qc_sqlite_deps_settle(qc_store_backend_t *self, const char *id, int64_t now_ms,
                          qc_store_dep_fn *fn, void *arg)
{
    if (self->any_deps < 0) {
        sqlite3_stmt *any = self->stmt[S_ANY_DEPS];
        int rc = sqlite3_step(any);
        self->any_deps = rc == SQLITE_ROW ? sqlite3_column_int(any, 0) != 0 : -1;
        s_done(any);
        if (rc != SQLITE_ROW)
            return -1;
    }
    if (!self->any_deps)
        return 0;
    int64_t root_seq;
    int root_state;
    int found = s_seq_state(self, id, &root_seq, &root_state);
    if (found <= 0)
        return found;
    s_refs_t refs = {0};
    int rc = 0;
    if (root_state == QC_STATE_COMPLETED) {
        /* One dependency fewer for each waiting dependent; the last one frees it. */
        if (s_collect(self, S_DEPENDENTS, root_seq, &refs) != 0)
            return -1;
        for (size_t i = 0; i < refs.count && rc == 0; i++) {
            sqlite3_stmt *stmt = self->stmt[S_DEP_DONE];
            sqlite3_bind_int64(stmt, 1, refs.items[i].seq);
            sqlite3_bind_int64(stmt, 2, now_ms);
            int step = sqlite3_step(stmt);
            int state = step == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
            s_done(stmt);
            if (state >= 0 && state != QC_STATE_WAITING) { /* its last dependency */
                s_move_q(self, NULL, refs.items[i].seq, NULL, QC_STATE_WAITING, state);
            }
            if (step != SQLITE_ROW && step != SQLITE_DONE)
                rc = -1;
            else if (state == QC_STATE_PENDING && fn)
                fn(arg, refs.items[i].id, QC_STATE_PENDING, NULL);
        }
    } else if (root_state == QC_STATE_DEAD || root_state == QC_STATE_CANCELED) {
        /* Cancel every waiting job downstream, breadth first; each names its
         * own dependency and the job whose end started it. */
        if (s_refs_push(&refs, root_seq, id) != 0)
            return -1;
        for (size_t next = 0; next < refs.count && rc == 0; next++) {
            size_t first = refs.count;
            if (s_collect(self, S_DEPENDENTS, refs.items[next].seq, &refs) != 0) {
                rc = -1;
                break;
            }
            for (size_t i = first; i < refs.count && rc == 0; i++) {
                char reason[3 * QC_MAX_ID_BYTES];
                if (next == 0)
                    snprintf(reason, sizeof reason, "dependency %s ended %s", id,
                             qc_state_name(root_state));
                else
                    snprintf(reason, sizeof reason, "dependency %s was canceled: %s ended %s",
                             refs.items[next].id, id, qc_state_name(root_state));
                sqlite3_stmt *stmt = self->stmt[S_DEP_CANCEL];
                sqlite3_bind_int64(stmt, 1, refs.items[i].seq);
                sqlite3_bind_int64(stmt, 2, root_seq);
                sqlite3_bind_text(stmt, 3, reason, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(stmt, 4, now_ms);
                if (s_exec_stmt(self, S_DEP_CANCEL) != 0) {
                    rc = -1;
                } else {
                    if (sqlite3_changes(self->db) == 1) {
                        s_move_q(self, NULL, refs.items[i].seq, NULL, QC_STATE_WAITING,
                                 QC_STATE_CANCELED);
                    }
                    if (fn)
                        fn(arg, refs.items[i].id, QC_STATE_CANCELED, reason);
                }
            }
        }
    }
    free(refs.items);
    return rc;
}

int qc_sqlite_deps_revive(qc_store_backend_t *self, const char *id, int64_t now_ms,
                          qc_store_dep_fn *fn, void *arg)
{
    int64_t root_seq;
    int root_state;
    int found = s_seq_state(self, id, &root_seq, &root_state);
    if (found <= 0)
        return found;
    s_refs_t refs = {0};
    if (s_collect(self, S_CANCELED_BY, root_seq, &refs) != 0)
        return -1;
    int rc = 0;
    /* In seq order: a job's dependencies are older than it, so each one's
     * canceled dependencies are back before it is looked at. */
    for (size_t i = 0; i < refs.count && rc == 0; i++) {
        sqlite3_stmt *stmt = self->stmt[S_DEP_REVIVE];
        sqlite3_bind_int64(stmt, 1, refs.items[i].seq);
        sqlite3_bind_int64(stmt, 2, now_ms);
        int step = sqlite3_step(stmt);
        int state = step == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
        int ext = sqlite3_extended_errcode(self->db);
        s_done(stmt);
        if (step == SQLITE_ROW) {
            s_move_q(self, NULL, refs.items[i].seq, NULL, QC_STATE_CANCELED, state);
        }
        if (step == SQLITE_ROW && fn)
            fn(arg, refs.items[i].id, (qc_state_t)state, NULL);
        else if (step != SQLITE_ROW && step != SQLITE_DONE && ext != SQLITE_CONSTRAINT_UNIQUE)
            rc = -1; /* (its unique key taken meanwhile: it stays canceled) */
    }
    free(refs.items);
    return rc;
}

/* Appends [{id, state}] rows of the bound statement which to array. */
static int s_id_states(qc_store_backend_t *self, int which, cJSON *array)
{
    sqlite3_stmt *stmt = self->stmt[which];
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        cJSON *item = cJSON_CreateObject();
        s_add_text(item, "id", stmt, 0);
        cJSON_AddStringToObject(item, "state", qc_state_name(sqlite3_column_int(stmt, 1)));
        cJSON_AddItemToArray(array, item);
    }
    s_done(stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

cJSON *qc_sqlite_job_deps(qc_store_backend_t *self, const char *id, int max_dependents)
{
    int64_t seq;
    int state;
    if (s_seq_state(self, id, &seq, &state) <= 0)
        return NULL;
    cJSON *deps = cJSON_CreateObject();
    cJSON *after = cJSON_AddArrayToObject(deps, "after");
    cJSON *dependents = cJSON_AddArrayToObject(deps, "dependents");
    sqlite3_bind_int64(self->stmt[S_DEPS_OF], 1, seq);
    sqlite3_bind_int64(self->stmt[S_DEPENDENTS_OF], 1, seq);
    sqlite3_bind_int(self->stmt[S_DEPENDENTS_OF], 2, max_dependents + 1);
    if (s_id_states(self, S_DEPS_OF, after) != 0 ||
        s_id_states(self, S_DEPENDENTS_OF, dependents) != 0) {
        cJSON_Delete(deps);
        return NULL;
    }
    int more = cJSON_GetArraySize(dependents) > max_dependents;
    if (more)
        cJSON_DeleteItemFromArray(dependents, max_dependents);
    cJSON_AddBoolToObject(deps, "more_dependents", more);
    return deps;
}

/* ---- recurring jobs ------------------------------------------------------- */

int qc_sqlite_schedule_add(qc_store_backend_t *self, const qc_schedule_t *schedule)
{
    sqlite3_stmt *stmt = self->stmt[S_SCHED_ADD];
    sqlite3_bind_text(stmt, 1, schedule->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, schedule->cron, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, schedule->tz, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, schedule->job_json, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 5, schedule->skip_if_running);
    if (schedule->next_run_ms >= 0)
        sqlite3_bind_int64(stmt, 6, schedule->next_run_ms);
    sqlite3_bind_int64(stmt, 7, schedule->created_at_ms);
    int rc = sqlite3_step(stmt);
    int ext = sqlite3_extended_errcode(self->db);
    s_done(stmt);
    if (rc == SQLITE_DONE)
        return 0;
    if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE)
        return QC_STORE_DUPLICATE;
    qc_error("store: schedule add %s: %s", schedule->name, sqlite3_errmsg(self->db));
    return -1;
}

int qc_sqlite_schedule_update(qc_store_backend_t *self, const qc_schedule_update_t *update)
{
    sqlite3_stmt *stmt = self->stmt[S_SCHED_UPDATE];
    sqlite3_bind_text(stmt, 1, update->name, -1, SQLITE_STATIC);
    if (update->paused >= 0)
        sqlite3_bind_int(stmt, 2, update->paused);
    if (update->next_run_ms >= 0)
        sqlite3_bind_int64(stmt, 3, update->next_run_ms);
    if (update->last_tick_ms >= 0)
        sqlite3_bind_int64(stmt, 4, update->last_tick_ms);
    if (update->last_job)
        sqlite3_bind_text(stmt, 5, update->last_job, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 6, update->ran);
    sqlite3_bind_int(stmt, 7, update->skipped);
    if (s_exec_stmt(self, S_SCHED_UPDATE) != 0)
        return -1;
    return sqlite3_changes(self->db) == 1 ? 0 : QC_STORE_NOT_FOUND;
}

int qc_sqlite_schedule_remove(qc_store_backend_t *self, const char *name)
{
    sqlite3_stmt *stmt = self->stmt[S_SCHED_REMOVE];
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    if (s_exec_stmt(self, S_SCHED_REMOVE) != 0)
        return -1;
    return sqlite3_changes(self->db) == 1 ? 0 : QC_STORE_NOT_FOUND;
}

cJSON *qc_sqlite_schedule_list(qc_store_backend_t *self, const char *name, int64_t due_by_ms)
{
    int which = name ? S_SCHED_ONE : due_by_ms >= 0 ? S_SCHED_DUE : S_SCHED_ALL;
    sqlite3_stmt *stmt = self->stmt[which];
    if (name)
        sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    else if (due_by_ms >= 0)
        sqlite3_bind_int64(stmt, 1, due_by_ms);
    cJSON *list = cJSON_CreateArray();
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        cJSON *s = cJSON_CreateObject();
        s_add_text(s, "name", stmt, 0);
        s_add_text(s, "cron", stmt, 1);
        s_add_text(s, "tz", stmt, 2);
        cJSON *job = cJSON_Parse((const char *)sqlite3_column_text(stmt, 3));
        cJSON_AddItemToObject(s, "job", job ? job : cJSON_CreateNull());
        cJSON_AddBoolToObject(s, "skip_if_running", sqlite3_column_int(stmt, 4));
        cJSON_AddBoolToObject(s, "paused", sqlite3_column_int(stmt, 5));
        s_add_int(s, "next_run_ms", stmt, 6);
        s_add_int(s, "last_tick_ms", stmt, 7);
        s_add_text(s, "last_job", stmt, 8);
        s_add_int(s, "runs", stmt, 9);
        s_add_int(s, "skipped", stmt, 10);
        s_add_time(s, "created_at", stmt, 11);
        cJSON_AddItemToArray(list, s);
    }
    s_done(stmt);
    if (rc != SQLITE_DONE) {
        qc_error("store: schedules: %s", sqlite3_errmsg(self->db));
        cJSON_Delete(list);
        return NULL;
    }
    return list;
}

cJSON *qc_sqlite_schedule_runs(qc_store_backend_t *self, const char *name, int limit)
{
    char low[QC_MAX_ID_BYTES + 2], high[QC_MAX_ID_BYTES + 2];
    snprintf(low, sizeof low, "%s@", name);
    snprintf(high, sizeof high, "%s@~", name);
    sqlite3_stmt *stmt = self->stmt[S_SCHED_RUNS];
    sqlite3_bind_text(stmt, 1, low, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, high, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(stmt, 3, limit);
    cJSON *runs = cJSON_CreateArray();
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        cJSON *run = cJSON_CreateObject();
        s_add_text(run, "id", stmt, 0);
        cJSON_AddStringToObject(run, "state", qc_state_name(sqlite3_column_int(stmt, 1)));
        s_add_time(run, "run_at", stmt, 2);
        s_add_time(run, "finished_at", stmt, 3);
        s_add_int(run, "exit_code", stmt, 4);
        s_add_text(run, "last_error", stmt, 5);
        cJSON_AddItemToArray(runs, run);
    }
    s_done(stmt);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(runs);
        return NULL;
    }
    return runs;
}

int64_t qc_sqlite_schedule_next_due(qc_store_backend_t *self)
{
    sqlite3_stmt *stmt = self->stmt[S_SCHED_NEXT];
    int64_t due = -1;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
        due = sqlite3_column_int64(stmt, 0);
    s_done(stmt);
    return rc == SQLITE_ROW ? due : -2;
}
