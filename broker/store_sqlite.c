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
};
#define S_MIGRATION_COUNT ((int)(sizeof s_migrations / sizeof s_migrations[0]))

#define S_JOB_COLUMNS                                                                              \
    "seq, id, command, state, priority, attempts, max_retries, timeout_s, run_at, created_at, "    \
    "updated_at, started_at, finished_at, exit_code, last_error, worker_id, runs"

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
                 " created_at, updated_at) VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7, ?7)",
    /* INDEXED BY: left alone, the planner prefers jobs_state and sorts every
     * waiting job (17 ms a claim at 100,000 waiting instead of 5 us). */
    [S_CLAIM_SELECT] = "SELECT seq, id, command, runs, timeout_s, run_at, attempts, max_retries,"
                       " priority FROM jobs INDEXED BY jobs_ready"
                       " WHERE state IN (0, 3) AND run_at <= ?1"
                       " ORDER BY priority DESC, seq LIMIT 1",
    [S_CLAIM_UPDATE] = "UPDATE jobs SET state = 1, attempts = attempts + 1, runs = runs + 1,"
                       " started_at = NULL, finished_at = NULL, updated_at = ?2, worker_id = ?3,"
                       " worker_token = ?4 WHERE seq = ?1",
    [S_ATTEMPT_INSERT] = "INSERT INTO attempts (job_seq, attempt, worker_id, worker_host,"
                         " worker_pid, started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_NEXT_DUE] = "SELECT MIN(run_at) FROM jobs INDEXED BY jobs_due WHERE state IN (0, 3)",
    [S_RUNNING] = "SELECT seq, runs, attempts, max_retries, worker_id, cancel_requested,"
                  " worker_token, started_at IS NOT NULL FROM jobs WHERE id = ?1 AND state = 1",
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
    [S_GET] = "SELECT " S_JOB_COLUMNS ", stdout_tail, stderr_tail FROM jobs WHERE id = ?1",
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
                         " last_error = 'canceled' WHERE id = ?1 AND state IN (0, 3)",
    [S_CANCEL_REQUEST] = "UPDATE jobs SET cancel_requested = 1, updated_at = ?2"
                         " WHERE id = ?1 AND state = 1",
    /* Bounded, so a purge of millions never stalls the loop for long. */
    [S_PURGE] = "DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs WHERE state = ?1"
                " AND updated_at < ?2 LIMIT 5000)",
    [S_TOTALS] = "SELECT name, n FROM totals",
    [S_JOB_BRIEF] = "SELECT " S_JOB_COLUMNS " FROM jobs WHERE id = ?1",
};

struct _qc_store_backend_t {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT_STMTS];
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

qc_store_backend_t *qc_sqlite_open(const char *path, int synchronous_full, char *err, size_t errlen)
{
    qc_store_backend_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
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
    char pragmas[160];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; PRAGMA foreign_keys = OFF;"
             " PRAGMA temp_store = MEMORY;",
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
    /* Not logged here: the server logs when writability changes, not every pass. */
    sqlite3_stmt *stmt = self->stmt[S_BEGIN];
    int rc = sqlite3_step(stmt);
    s_done(stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

int64_t qc_sqlite_total_changes(qc_store_backend_t *self)
{
    return sqlite3_total_changes64(self->db);
}

int qc_sqlite_commit(qc_store_backend_t *self)
{
    return s_exec_stmt(self, S_COMMIT);
}

void qc_sqlite_rollback(qc_store_backend_t *self)
{
    if (!sqlite3_get_autocommit(self->db))
        s_exec_stmt(self, S_ROLLBACK);
}

int qc_sqlite_savepoint(qc_store_backend_t *self)
{
    return s_exec_stmt(self, S_SAVEPOINT);
}

int qc_sqlite_release(qc_store_backend_t *self)
{
    return s_exec_stmt(self, S_RELEASE);
}

void qc_sqlite_rollback_savepoint(qc_store_backend_t *self)
{
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
    snprintf(id, len, "j-%011llx%04x", (unsigned long long)now_ms, (unsigned)counter++);
}

int qc_sqlite_job_insert(qc_store_backend_t *self, const qc_job_spec_t *spec,
                         const qc_config_t *config, int64_t now_ms, char *id_out)
{
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
        int rc = sqlite3_step(stmt);
        int ext = sqlite3_extended_errcode(self->db);
        s_done(stmt);
        if (rc == SQLITE_DONE)
            return 0;
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

int qc_sqlite_job_claim_next(qc_store_backend_t *self, const qc_worker_ref_t *worker,
                             int64_t now_ms, qc_claim_t *claim)
{
    sqlite3_stmt *stmt = self->stmt[S_CLAIM_SELECT];
    sqlite3_bind_int64(stmt, 1, now_ms);
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
    s_done(stmt);
    if (!claim->command)
        return -1;

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
    return 1;
fail:
    free(claim->command);
    claim->command = NULL;
    return -1;
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
    }
    s_done(stmt);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return QC_STORE_NOT_FOUND;
    qc_error("store: lookup %s: %s", id, sqlite3_errmsg(self->db));
    return -1;
}

static void s_bind_text_or_null(sqlite3_stmt *stmt, int index, const char *text)
{
    if (text && *text)
        sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, index);
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
    return s_exec_stmt(self, S_JOB_FINISH);
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
    sqlite3_stmt *stmt = self->stmt[S_REVIVE];
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now_ms);
    if (s_exec_stmt(self, S_REVIVE) != 0)
        return -1;
    if (sqlite3_changes(self->db) == 1)
        return 0;
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
    s_add_text(job, "stdout_tail", stmt, 17);
    s_add_text(job, "stderr_tail", stmt, 18);
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

cJSON *qc_sqlite_job_list(qc_store_backend_t *self, int state, int limit, int64_t cursor,
                          int64_t *next_cursor)
{
    int which = state < 0 ? S_LIST_ALL : S_LIST_STATE;
    sqlite3_stmt *stmt = self->stmt[which];
    sqlite3_bind_int64(stmt, 1, cursor > 0 ? cursor : INT64_MAX);
    sqlite3_bind_int(stmt, 2, limit);
    if (state >= 0)
        sqlite3_bind_int(stmt, 3, state);
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
            counts[state] = sqlite3_column_int64(stmt, 1);
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
    sqlite3_stmt *stmt = self->stmt[S_CANCEL_WAITING];
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now_ms);
    if (s_exec_stmt(self, S_CANCEL_WAITING) != 0)
        return -1;
    if (sqlite3_changes(self->db) == 1)
        return 0;
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
        int changed = sqlite3_changes(self->db);
        deleted += changed;
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
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        cJSON_AddNumberToObject(totals, (const char *)sqlite3_column_text(stmt, 0),
                                (double)sqlite3_column_int64(stmt, 1));
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

const qc_store_ops_t qc_sqlite_ops = {
    .name = "sqlite",
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
