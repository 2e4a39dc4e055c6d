/* Unit tests: the store against a real SQLite file, or with QC_TEST_DB set
 * (a postgresql:// URI of an empty database) the same checks on PostgreSQL. */
#include "check.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static qc_job_spec_t s_spec(const char *id, const char *command, int priority)
{
    qc_job_spec_t spec;
    qc_job_spec_init(&spec);
    snprintf(spec.id, sizeof spec.id, "%s", id);
    spec.command = strdup(command);
    spec.priority = priority;
    return spec;
}

static void s_insert(qc_store_t *store, const char *id, int priority, int64_t delay_ms, int64_t now)
{
    qc_config_t config;
    qc_config_defaults(&config);
    qc_job_spec_t spec = s_spec(id, "true", priority);
    spec.delay_ms = delay_ms;
    char out[QC_MAX_ID_BYTES + 1];
    CHECK(qc_store_job_insert(store, &spec, &config, now, out) == 0);
    CHECK(strcmp(out, id) == 0);
    qc_job_spec_clear(&spec);
}

int main(void)
{
    char dir[] = "/tmp/qc-store-XXXXXX", path[512], err[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/q.db", dir);
    const char *pg = getenv("QC_TEST_DB");
    if (pg && *pg)
        snprintf(path, sizeof path, "%s", pg);
    qc_store_t *store = qc_store_open(path, 0, err, sizeof err);
    CHECK(store != NULL);
    CHECK(qc_store_lease_acquire(store) == 1);
    qc_config_t config;
    qc_config_defaults(&config);
    int64_t now = 1000000;

    CHECK(qc_store_begin(store) == 0);
    s_insert(store, "low", -10, 0, now);
    s_insert(store, "a", 0, 0, now);
    s_insert(store, "b", 0, 0, now);
    s_insert(store, "hi", 10, 0, now);
    s_insert(store, "later", 100, 5000, now);
    /* duplicate ids are refused and the original kept */
    qc_job_spec_t dup = s_spec("a", "rm -rf /nope", 0);
    char out[QC_MAX_ID_BYTES + 1];
    CHECK(qc_store_job_insert(store, &dup, &config, now, out) == QC_STORE_DUPLICATE);
    qc_job_spec_clear(&dup);
    /* generated ids */
    qc_job_spec_t anon = s_spec("", "true", -20);
    CHECK(qc_store_job_insert(store, &anon, &config, now, out) == 0 && strncmp(out, "j-", 2) == 0);
    qc_job_spec_clear(&anon);
    CHECK(qc_store_commit(store) == 0);

    /* claims: priority first, FIFO within a priority, delayed jobs wait */
    qc_worker_ref_t worker = {"w1", "0123456789abcdef0123456789abcdef", "host", 42};
    const char *order[] = {"hi", "a", "b", "low"};
    CHECK(qc_store_begin(store) == 0);
    for (int i = 0; i < 4; i++) {
        qc_claim_t claim;
        CHECK(qc_store_job_claim_next(store, &worker, now, &claim) == 1);
        CHECK(strcmp(claim.id, order[i]) == 0);
        CHECK(claim.attempt == 1 && claim.timeout_s == 300);
        free(claim.command);
    }
    qc_claim_t claim;
    CHECK(qc_store_job_claim_next(store, &worker, now, &claim) == 1); /* the anonymous one */
    free(claim.command);
    CHECK(qc_store_job_claim_next(store, &worker, now, &claim) == 0);
    CHECK(qc_store_next_due_ms(store) == now + 5000);
    CHECK(qc_store_job_claim_next(store, &worker, now + 5000, &claim) == 1);
    CHECK(strcmp(claim.id, "later") == 0);
    free(claim.command);
    CHECK(qc_store_next_due_ms(store) == -1);
    CHECK(qc_store_commit(store) == 0);

    /* a failed attempt: running lookup, finish, counts */
    qc_running_t running;
    CHECK(qc_store_job_running(store, "a", &running) == 0);
    CHECK(running.attempt == 1 && running.attempts == 1 && strcmp(running.worker_id, "w1") == 0);
    CHECK(qc_store_job_running(store, "nope", &running) == QC_STORE_NOT_FOUND);
    qc_result_t result;
    qc_result_init(&result);
    strcpy(result.id, "a");
    result.attempt = 1;
    result.outcome = QC_OUTCOME_FAILED;
    result.exit_code = 1;
    strcpy(result.error, "exit code 1");
    CHECK(qc_store_job_running(store, "a", &running) == 0);
    CHECK(qc_store_begin(store) == 0);
    CHECK(qc_store_job_finish(store, &running, &result, QC_STATE_DEAD, now, now + 10) == 0);
    CHECK(qc_store_commit(store) == 0);
    CHECK(qc_store_job_running(store, "a", &running) == QC_STORE_NOT_FOUND);
    int64_t counts[QC_STATE_COUNT], oldest;
    CHECK(qc_store_counts(store, counts, &oldest) == 0);
    CHECK(counts[QC_STATE_DEAD] == 1 && counts[QC_STATE_PROCESSING] == 5);
    CHECK(counts[QC_STATE_PENDING] == 0 && oldest == -1);

    /* revive keeps history and starts a new run number */
    CHECK(qc_store_begin(store) == 0);
    CHECK(qc_store_job_revive(store, "a", now + 20) == 0);
    CHECK(qc_store_job_revive(store, "hi", now + 20) == QC_STORE_CONFLICT);
    CHECK(qc_store_job_revive(store, "ghost", now + 20) == QC_STORE_NOT_FOUND);
    CHECK(qc_store_job_claim_next(store, &worker, now + 30, &claim) == 1);
    CHECK(strcmp(claim.id, "a") == 0 && claim.attempt == 2);
    free(claim.command);
    CHECK(qc_store_commit(store) == 0);
    cJSON *job = NULL;
    CHECK(qc_store_job_get(store, "a", 1, &job) == 0);
    CHECK(job != NULL);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(job, "attempts_log")) == 2);
    CHECK(cJSON_GetObjectItem(job, "attempts")->valueint == 1);
    cJSON_Delete(job);

    /* a run that never started is recorded but not charged; STARTED sets started_at */
    CHECK(qc_store_job_running(store, "b", &running) == 0);
    CHECK(running.started == 0 && running.attempts == 1);
    CHECK(strcmp(running.worker_token, "0123456789abcdef0123456789abcdef") == 0);
    qc_result_init(&result);
    strcpy(result.id, "b");
    result.attempt = running.attempt;
    result.outcome = QC_OUTCOME_NOT_STARTED;
    CHECK(qc_store_begin(store) == 0);
    CHECK(qc_store_job_finish(store, &running, &result, QC_STATE_PENDING, now, now + 40) == 0);
    CHECK(qc_store_job_claim_next(store, &worker, now + 50, &claim) == 1);
    CHECK(strcmp(claim.id, "b") == 0 && claim.attempt == 2 && claim.attempts == 1);
    free(claim.command);
    CHECK(qc_store_job_running(store, "b", &running) == 0 && running.started == 0);
    CHECK(qc_store_job_started(store, running.seq, running.attempt, now + 55) == 0);
    CHECK(qc_store_commit(store) == 0);
    CHECK(qc_store_job_running(store, "b", &running) == 0 && running.started == 1);
    CHECK(qc_store_job_get(store, "b", 1, &job) == 0);
    CHECK(job != NULL);
    CHECK(cJSON_GetObjectItem(job, "attempts")->valueint == 1);
    cJSON *log0 = cJSON_GetArrayItem(cJSON_GetObjectItem(job, "attempts_log"), 0);
    CHECK(log0 && strcmp(cJSON_GetObjectItem(log0, "outcome")->valuestring, "not_started") == 0);
    cJSON_Delete(job);
    cJSON *totals = qc_store_totals(store);
    CHECK(totals && cJSON_GetObjectItem(totals, "failed")->valueint == 1); /* only "a" failed */
    cJSON_Delete(totals);

    /* paging by cursor, newest first */
    int64_t cursor = 0, seen = 0;
    do {
        cJSON *page = qc_store_job_list(store, -1, 2, cursor, &cursor);
        CHECK(page != NULL);
        seen += cJSON_GetArraySize(page);
        cJSON_Delete(page);
    } while (cursor);
    CHECK(seen == 6);

    /* a batch (PostgreSQL: one statement): stored in order, or refused naming
     * its first duplicate; SQLite has no batch insert (one by one instead) */
    int batched = 0; /* jobs the batch stored */
    {
        qc_job_spec_t batch[3] = {s_spec("b1", "true", 0), s_spec("", "true", 0),
                                  s_spec("b3", "true", 0)};
        char ids[3][QC_MAX_ID_BYTES + 1];
        int failed = -1;
        CHECK(qc_store_begin(store) == 0);
        CHECK(qc_store_savepoint(store) == 0);
        int rc = qc_store_job_insert_many(store, batch, 3, &config, now, ids, &failed);
        CHECK(rc == 0 || (rc == QC_STORE_UNSUPPORTED && !qc_store_is_postgres(path)));
        if (rc == 0) {
            CHECK(strcmp(ids[0], "b1") == 0 && strncmp(ids[1], "j-", 2) == 0 &&
                  strcmp(ids[2], "b3") == 0);
            CHECK(qc_store_release(store) == 0);
            qc_job_spec_clear(&batch[1]);
            batch[1] = s_spec("b1", "true", 0); /* exists now */
            snprintf(batch[0].id, sizeof batch[0].id, "b0");
            CHECK(qc_store_savepoint(store) == 0);
            CHECK(qc_store_job_insert_many(store, batch, 3, &config, now, ids, &failed) ==
                  QC_STORE_DUPLICATE);
            CHECK(failed == 1);
            qc_store_rollback_savepoint(store);
            CHECK(qc_store_commit(store) == 0);
            cJSON *b0 = NULL;
            CHECK(qc_store_job_get(store, "b0", 0, &b0) == QC_STORE_NOT_FOUND && b0 == NULL);
            int64_t batch_counts[QC_STATE_COUNT];
            CHECK(qc_store_counts(store, batch_counts, &oldest) == 0);
            CHECK(batch_counts[QC_STATE_PENDING] == 3);
            batched = 3;
        } else {
            CHECK(qc_store_release(store) == 0);
            CHECK(qc_store_commit(store) == 0);
        }
        for (int i = 0; i < 3; i++)
            qc_job_spec_clear(&batch[i]);
    }

    /* savepoints undo one request only */
    CHECK(qc_store_begin(store) == 0);
    CHECK(qc_store_savepoint(store) == 0);
    s_insert(store, "undone", 0, 0, now);
    qc_store_rollback_savepoint(store);
    CHECK(qc_store_savepoint(store) == 0);
    s_insert(store, "kept", 0, 0, now);
    CHECK(qc_store_release(store) == 0);
    CHECK(qc_store_commit(store) == 0);
    CHECK(qc_store_job_get(store, "undone", 0, &job) == QC_STORE_NOT_FOUND);
    CHECK(job == NULL);
    CHECK(qc_store_job_get(store, "kept", 0, &job) == 0);
    CHECK(job != NULL);
    cJSON_Delete(job);

    /* counts: a transaction sees its own changes; a rollback takes them back */
    int64_t before[QC_STATE_COUNT];
    CHECK(qc_store_counts(store, before, &oldest) == 0);
    CHECK(qc_store_begin(store) == 0);
    s_insert(store, "rolled-back", 0, 0, now);
    CHECK(qc_store_job_cancel(store, "kept", now) == 0);
    CHECK(qc_store_counts(store, counts, &oldest) == 0);
    CHECK(counts[QC_STATE_PENDING] == before[QC_STATE_PENDING]); /* +1 -1 */
    CHECK(counts[QC_STATE_CANCELED] == before[QC_STATE_CANCELED] + 1);
    qc_store_rollback(store);
    CHECK(qc_store_counts(store, counts, &oldest) == 0);
    CHECK(memcmp(counts, before, sizeof counts) == 0);
    totals = qc_store_totals(store);
    CHECK(totals && cJSON_GetObjectItem(totals, "canceled")->valueint == 0);
    CHECK(cJSON_GetObjectItem(totals, "enqueued")->valueint == 7 + batched);
    cJSON_Delete(totals);

    /* PostgreSQL's pipeline: what decides nothing is queued and costs no round
     * trip of its own, and a queued statement that fails fails the commit
     * with everything of its transaction */
    qc_store_stats_t stats_before, stats_after;
    qc_store_stats(store, &stats_before);
    if (stats_before.round_trips >= 0) {
        /* BEGIN, the renewal, savepoint, insert, release, totals, COMMIT */
        CHECK(qc_store_begin(store) == 0);
        CHECK(qc_store_savepoint(store) == 0);
        qc_job_spec_t plain = s_spec("", "true", 0);
        CHECK(qc_store_job_insert(store, &plain, &config, now, out) == 0);
        qc_job_spec_clear(&plain);
        CHECK(qc_store_release(store) == 0);
        CHECK(qc_store_commit(store) == 0);
        qc_store_stats(store, &stats_after);
        CHECK(stats_after.round_trips - stats_before.round_trips == 1);
        CHECK(stats_after.transactions - stats_before.transactions == 1);
        CHECK(qc_store_job_get(store, out, 0, &job) == 0 && job != NULL);
        cJSON_Delete(job);
        /* smallint out of range: the server refuses it, after the insert */
        CHECK(qc_store_counts(store, before, &oldest) == 0);
        CHECK(qc_store_begin(store) == 0);
        CHECK(qc_store_savepoint(store) == 0);
        plain = s_spec("", "true", 0);
        CHECK(qc_store_job_insert(store, &plain, &config, now, out) == 0);
        qc_job_spec_clear(&plain);
        CHECK(qc_store_release(store) == 0);
        qc_queue_update_t bad = {"q", 70000, -1};
        CHECK(qc_store_queue_update(store, &bad) == 0); /* queued: not known yet */
        CHECK(qc_store_commit(store) != 0);
        qc_store_rollback(store);
        job = NULL;
        CHECK(qc_store_job_get(store, out, 0, &job) == QC_STORE_NOT_FOUND && job == NULL);
        CHECK(qc_store_counts(store, counts, &oldest) == 0);
        CHECK(memcmp(counts, before, sizeof counts) == 0);
        /* and the next transaction works */
        CHECK(qc_store_begin(store) == 0);
        s_insert(store, "after-doom", 0, 0, now);
        CHECK(qc_store_commit(store) == 0);
        CHECK(qc_store_job_get(store, "after-doom", 0, &job) == 0 && job != NULL);
        cJSON_Delete(job);
        /* a claim sent with COMMIT: its claims come after it, in the workers'
         * order, by priority then age, and cost no round trip of their own;
         * a rolled-back one never comes */
        qc_worker_ref_t two[2] = {{"w1", "0123456789abcdef0123456789abcdef", "host", 42},
                                  {"w2", "fedcba9876543210fedcba9876543210", "host", 43}};
        qc_claim_t taken[2];
        CHECK(qc_store_begin(store) == 0);
        s_insert(store, "c-low", 4, 0, now);
        s_insert(store, "c-high", 5, 0, now);
        CHECK(qc_store_job_claim_with_commit(store, two, 2, now) == 0);
        qc_store_rollback(store);
        CHECK(qc_store_claims_committed(store, taken, 2) == 0);
        CHECK(qc_store_begin(store) == 0);
        s_insert(store, "c-low", 4, 0, now);
        s_insert(store, "c-high", 5, 0, now);
        qc_store_stats(store, &stats_before);
        CHECK(qc_store_job_claim_with_commit(store, two, 2, now) == 0);
        CHECK(qc_store_claims_committed(store, taken, 2) == 0); /* not before the commit */
        CHECK(qc_store_commit(store) == 0);
        qc_store_stats(store, &stats_after);
        CHECK(stats_after.round_trips - stats_before.round_trips == 1);
        CHECK(qc_store_claims_committed(store, taken, 2) == 2);
        CHECK(strcmp(taken[0].id, "c-high") == 0 && strcmp(taken[1].id, "c-low") == 0);
        CHECK(taken[0].attempt == 1 && taken[0].command && strcmp(taken[0].command, "true") == 0);
        qc_claim_t again;
        CHECK(qc_store_claims_committed(store, &again, 1) == 0); /* once */
        qc_claim_clear(&taken[0]);
        qc_claim_clear(&taken[1]);
        CHECK(qc_store_job_running(store, "c-high", &running) == 0);
        CHECK(strcmp(running.worker_id, "w1") == 0);
        CHECK(qc_store_job_running(store, "c-low", &running) == 0);
        CHECK(strcmp(running.worker_id, "w2") == 0);
    }

    /* config round trip and reopen (schema already current) */
    CHECK(qc_store_config_save(store, "max_retries", "9") == 0);
    qc_store_destroy(&store);
    CHECK(store == NULL);
    store = qc_store_open(path, 1, err, sizeof err);
    CHECK(store != NULL);
    CHECK(qc_store_lease_acquire(store) == 1); /* released by the clean close */
    qc_config_defaults(&config);
    CHECK(qc_store_config_load(store, &config) == 0 && config.max_retries == 9);
    qc_store_destroy(&store);

    char command[1200];
    if (qc_store_is_postgres(path)) { /* the rest is SQLite's file */
        snprintf(command, sizeof command, "rm -rf %s", dir);
        CHECK(system(command) == 0);
        return 0;
    }
    /* the counts kept with each commit are the rows' (schema 10 keeps them
     * without triggers) */
    snprintf(command, sizeof command,
             "test \"$(sqlite3 %s 'SELECT COUNT(*) FROM state_counts s WHERE n !="
             " (SELECT COUNT(*) FROM jobs WHERE state = s.state)')\" = 0",
             path);
    CHECK(system(command) == 0);
    snprintf(command, sizeof command,
             "test \"$(sqlite3 %s 'SELECT COUNT(*) FROM queue_counts c WHERE n !="
             " (SELECT COUNT(*) FROM jobs WHERE queue = c.queue AND state = c.state)')\" = 0",
             path);
    CHECK(system(command) == 0);
    /* a read error is not "not found": on a copy whose attempts table is gone
     * behind the store's back, the job's history cannot be read */
    char copy[64];
    snprintf(copy, sizeof copy, "%s/copy.db", dir);
    snprintf(command, sizeof command, "sqlite3 %s \".backup %s\"", path, copy);
    CHECK(system(command) == 0);
    store = qc_store_open(copy, 0, err, sizeof err);
    CHECK(store != NULL);
    snprintf(command, sizeof command, "sqlite3 %s 'DROP TABLE attempts'", copy);
    CHECK(system(command) == 0);
    job = NULL;
    CHECK(qc_store_job_get(store, "kept", 1, &job) == -1 && job == NULL);
    CHECK(qc_store_job_get(store, "kept", 0, &job) == 0 && job != NULL);
    cJSON_Delete(job);
    CHECK(qc_store_job_get(store, "ghost", 0, &job) == QC_STORE_NOT_FOUND && job == NULL);
    qc_store_destroy(&store);

    /* a database from a newer release is refused, not damaged */
    snprintf(command, sizeof command, "sqlite3 %s 'PRAGMA user_version = 99'", path);
    CHECK(system(command) == 0);
    store = qc_store_open(path, 0, err, sizeof err);
    CHECK(store == NULL && strstr(err, "newer") != NULL);

    snprintf(command, sizeof command, "rm -rf %s", dir);
    CHECK(system(command) == 0);
    return 0;
}
