/* The store's front: picks the backend from the database name and passes
 * every call to it. The broker above knows nothing of which one runs. */
#include "store_backend.h"
#include "queuectl/log.h"
#include "queuectl/parse.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct _qc_store_t {
    const qc_store_ops_t *ops;
    qc_store_backend_t *backend;
};

int qc_store_is_postgres(const char *db)
{
    return db && (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0);
}

const char *qc_store_display_name(const char *db, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", db);
    if (!qc_store_is_postgres(out))
        return out;
    /* user:password@ in the authority */
    char *start = strstr(out, "://") + 3;
    char *at = strchr(start, '@');
    char *slash = strchr(start, '/');
    if (at && (!slash || at < slash)) {
        char *colon = memchr(start, ':', (size_t)(at - start));
        if (colon) {
            memmove(colon + 4, at, strlen(at) + 1);
            memcpy(colon, ":***", 4);
        }
    }
    /* password=... in the query */
    char *query = strchr(out, '?');
    for (char *p = query; p && (p = strstr(p, "password=")) != NULL;) {
        if (p[-1] != '?' && p[-1] != '&') {
            p += 9;
            continue;
        }
        char *value = p + 9;
        char *end = value + strcspn(value, "&");
        memmove(value + 3, end, strlen(end) + 1);
        memcpy(value, "***", 3);
        p = value + 3;
    }
    return out;
}

/* Removes db's password from text (a libpq message may quote the URI). */
static void s_scrub_password(const char *db, char *text)
{
    char password[256] = "";
    const char *start = strstr(db, "://");
    if (!start)
        return;
    start += 3;
    const char *at = strchr(start, '@'), *slash = strchr(start, '/');
    const char *colon = at ? memchr(start, ':', (size_t)(at - start)) : NULL;
    if (at && (!slash || at < slash) && colon && (size_t)(at - colon - 1) < sizeof password)
        snprintf(password, sizeof password, "%.*s", (int)(at - colon - 1), colon + 1);
    const char *query = strstr(db, "password=");
    if (!password[0] && query)
        snprintf(password, sizeof password, "%.*s", (int)strcspn(query + 9, "&"), query + 9);
    size_t n = strlen(password);
    if (n == 0)
        return;
    for (char *hit; (hit = strstr(text, password)) != NULL;) {
        memmove(hit + 3, hit + n, strlen(hit + n) + 1);
        memcpy(hit, "***", 3);
    }
}

/* The PostgreSQL store is queuectl-pg.so, loaded the first time a
 * postgresql:// database is opened, so a broker on SQLite never maps libpq
 * and the TLS, LDAP and Kerberos libraries it pulls in. Looked for in
 * $QUEUECTL_PG_MODULE, beside the running executable (a build tree), then
 * where it is installed. Never unloaded. */
typedef qc_store_backend_t *s_pg_open_fn(const char *uri, int synchronous_full, int64_t lease_ms,
                                         int *failure, char *err, size_t errlen);
static const qc_store_ops_t *s_pg_ops;
static s_pg_open_fn *s_pg_open;

static int s_pg_load(char *err, size_t errlen)
{
    if (s_pg_ops)
        return 0;
    char beside[PATH_MAX] = "";
    ssize_t n = readlink("/proc/self/exe", beside, sizeof beside - 1);
    if (n > 0) {
        beside[n] = '\0';
        char *slash = strrchr(beside, '/');
        if (slash && (size_t)(slash - beside) + sizeof "/queuectl-pg.so" <= sizeof beside)
            strcpy(slash, "/queuectl-pg.so");
        else
            beside[0] = '\0';
    }
    const char *env = getenv("QUEUECTL_PG_MODULE");
    const char *paths[] = {beside[0] ? beside : NULL, QC_PG_MODULE_DIR "/queuectl-pg.so"};
    if (env && *env) /* that one only */
        paths[0] = env, paths[1] = NULL;
    void *module = NULL;
    char why[PATH_MAX + 128] = "";
    for (size_t i = 0; i < sizeof paths / sizeof paths[0] && !module; i++) {
        if (!paths[i] || (paths[i] != env && access(paths[i], F_OK) != 0))
            continue;
        if (!(module = dlopen(paths[i], RTLD_NOW | RTLD_LOCAL)))
            snprintf(why, sizeof why, "%s", dlerror());
    }
    if (module) {
        s_pg_ops = dlsym(module, "qc_pg_ops");
        /* POSIX's way to take a function from dlsym without a cast C forbids. */
        *(void **)&s_pg_open = dlsym(module, "qc_pg_open");
        if (!s_pg_ops || !s_pg_open) {
            snprintf(why, sizeof why, "%s", "it is not queuectl's PostgreSQL module");
            s_pg_ops = NULL;
        }
    }
    if (!s_pg_ops) {
        snprintf(err, errlen, "PostgreSQL support is not available: %s",
                 why[0] ? why : "no queuectl-pg.so beside the broker or in " QC_PG_MODULE_DIR);
        return -1;
    }
    return 0;
}

qc_store_t *qc_store_connect(const char *db, int synchronous_full, int64_t lease_ms, int *failure,
                             char *err, size_t errlen)
{
    int why = QC_STORE_FAIL_OTHER;
    qc_store_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        if (failure)
            *failure = why;
        return NULL;
    }
    if (qc_store_is_postgres(db)) {
        if (s_pg_load(err, errlen) == 0) {
            self->ops = s_pg_ops;
            self->backend = s_pg_open(db, synchronous_full, lease_ms, &why, err, errlen);
        }
    } else {
        self->ops = &qc_sqlite_ops;
        self->backend = qc_sqlite_open(db, synchronous_full, err, errlen);
    }
    if (!self->backend) {
        free(self);
        s_scrub_password(db, err);
        if (failure)
            *failure = why;
        return NULL;
    }
    return self;
}

qc_store_t *qc_store_open(const char *path, int synchronous_full, char *err, size_t errlen)
{
    return qc_store_connect(path, synchronous_full, 0, NULL, err, errlen);
}

static unsigned s_features_of(const qc_job_spec_t *spec, const qc_config_t *config);

int qc_store_job_insert_many(qc_store_t *self, const qc_job_spec_t *specs, int n,
                             const qc_config_t *config, int64_t now_ms,
                             char (*ids_out)[QC_MAX_ID_BYTES + 1], int *failed_index)
{
    if (!self->ops->job_insert_many)
        return QC_STORE_UNSUPPORTED;
    for (int i = 0; i < n; i++)
        if (s_features_of(&specs[i], config))
            return QC_STORE_UNSUPPORTED;
    return self->ops->job_insert_many(self->backend, specs, n, config, now_ms, ids_out,
                                      failed_index);
}

int qc_store_lease_acquire(qc_store_t *self)
{
    return self->ops->lease_acquire ? self->ops->lease_acquire(self->backend) : 1;
}

int qc_store_take_reconnected(qc_store_t *self)
{
    return self->ops->take_reconnected ? self->ops->take_reconnected(self->backend) : 0;
}

int qc_store_lease_valid(qc_store_t *self)
{
    return self->ops->lease_valid ? self->ops->lease_valid(self->backend) : 1;
}

void qc_store_stats(qc_store_t *self, qc_store_stats_t *stats)
{
    stats->round_trips = stats->transactions = -1;
    if (self->ops->stats)
        self->ops->stats(self->backend, stats);
}

void qc_store_destroy(qc_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qc_store_t *self = *self_p;
    self->ops->destroy(&self->backend);
    free(self);
    *self_p = NULL;
}

const char *qc_store_errmsg(qc_store_t *self)
{
    return self->ops->errmsg(self->backend);
}

int64_t qc_store_total_changes(qc_store_t *self)
{
    return self->ops->total_changes(self->backend);
}

int qc_store_begin(qc_store_t *self)
{
    return self->ops->begin(self->backend);
}

int qc_store_commit(qc_store_t *self)
{
    return self->ops->commit(self->backend);
}

void qc_store_rollback(qc_store_t *self)
{
    self->ops->rollback(self->backend);
}

int qc_store_savepoint(qc_store_t *self)
{
    return self->ops->savepoint(self->backend);
}

int qc_store_release(qc_store_t *self)
{
    return self->ops->release(self->backend);
}

void qc_store_rollback_savepoint(qc_store_t *self)
{
    self->ops->rollback_savepoint(self->backend);
}

int qc_store_config_load(qc_store_t *self, qc_config_t *config)
{
    return self->ops->config_load(self->backend, config);
}

int qc_store_config_save(qc_store_t *self, const char *key, const char *value)
{
    return self->ops->config_save(self->backend, key, value);
}

void qc_claim_clear(qc_claim_t *claim)
{
    free(claim->command);
    free(claim->env_json);
    free(claim->cwd);
    claim->command = claim->env_json = claim->cwd = NULL;
}

int qc_store_supports(qc_store_t *self, unsigned features)
{
    return (features & ~self->ops->features) == 0;
}

static unsigned s_features_of(const qc_job_spec_t *spec, const qc_config_t *config);

int qc_store_job_storable(qc_store_t *self, const qc_job_spec_t *spec, const qc_config_t *config)
{
    return qc_store_supports(self, s_features_of(spec, config));
}

/* The QC_STORE_FEAT_ bits a job spec needs. */
static unsigned s_features_of(const qc_job_spec_t *spec, const qc_config_t *config)
{
    unsigned needs = 0;
    if (spec->env_json || spec->cwd)
        needs |= QC_STORE_FEAT_ENV;
    if (spec->unique_key[0])
        needs |= QC_STORE_FEAT_UNIQUE;
    if (spec->queue[0] && strcmp(spec->queue, "default") != 0)
        needs |= QC_STORE_FEAT_QUEUE;
    if (spec->after_count)
        needs |= QC_STORE_FEAT_DEPS;
    if ((spec->retry_on_exit ? spec->retry_on_exit : config->retry_on_exit)[0] ||
        (spec->no_retry_on_exit ? spec->no_retry_on_exit : config->no_retry_on_exit)[0])
        needs |= QC_STORE_FEAT_EXIT_POLICY;
    return needs;
}

int qc_store_job_insert(qc_store_t *self, const qc_job_spec_t *spec, const qc_config_t *config,
                        int64_t now_ms, char *id_out)
{
    unsigned missing = s_features_of(spec, config) & ~self->ops->features;
    if (missing) {
        qc_warn("store: job %s uses fields (0x%x) not available on %s yet", spec->id, missing,
                self->ops->name);
        return QC_STORE_UNSUPPORTED;
    }
    return self->ops->job_insert(self->backend, spec, config, now_ms, id_out);
}

int qc_store_job_claim_next(qc_store_t *self, const qc_worker_ref_t *worker, int64_t now_ms,
                            qc_claim_t *claim)
{
    memset(claim, 0, sizeof *claim);
    return self->ops->job_claim_next(self->backend, worker, now_ms, claim);
}

int qc_store_job_claim_many(qc_store_t *self, const qc_worker_ref_t *workers, int n, int64_t now_ms,
                            qc_claim_t *claims)
{
    memset(claims, 0, (size_t)n * sizeof *claims);
    if (self->ops->job_claim_many)
        return self->ops->job_claim_many(self->backend, workers, n, now_ms, claims);
    int got = 0;
    for (; got < n; got++) {
        int rc = qc_store_job_claim_for(self, &workers[got], now_ms, NULL, &claims[got]);
        if (rc != 1)
            return rc < 0 && got == 0 ? -1 : got;
    }
    return got;
}

int qc_store_job_claim_with_commit(qc_store_t *self, const qc_worker_ref_t *workers, int n,
                                   int64_t now_ms)
{
    if (!self->ops->job_claim_with_commit)
        return QC_STORE_UNSUPPORTED;
    return self->ops->job_claim_with_commit(self->backend, workers, n, now_ms);
}

int qc_store_claims_committed(qc_store_t *self, qc_claim_t *claims, int max)
{
    memset(claims, 0, (size_t)max * sizeof *claims);
    return self->ops->claims_committed ? self->ops->claims_committed(self->backend, claims, max)
                                       : 0;
}

int64_t qc_store_next_due_ms(qc_store_t *self)
{
    return self->ops->next_due_ms(self->backend);
}

int qc_store_job_running(qc_store_t *self, const char *id, qc_running_t *running)
{
    memset(running, 0, sizeof *running);
    return self->ops->job_running(self->backend, id, running);
}

int qc_store_job_finish(qc_store_t *self, const qc_running_t *running, const qc_result_t *result,
                        qc_state_t next_state, int64_t run_at_ms, int64_t now_ms)
{
    return self->ops->job_finish(self->backend, running, result, next_state, run_at_ms, now_ms);
}

int qc_store_each_running(qc_store_t *self, qc_store_running_fn *fn, void *arg)
{
    return self->ops->each_running(self->backend, fn, arg);
}

int qc_store_job_revive(qc_store_t *self, const char *id, int64_t now_ms)
{
    return self->ops->job_revive(self->backend, id, now_ms);
}

int qc_store_job_cancel(qc_store_t *self, const char *id, int64_t now_ms)
{
    return self->ops->job_cancel(self->backend, id, now_ms);
}

int64_t qc_store_purge(qc_store_t *self, int state, int64_t before_ms, int64_t max_rows)
{
    return self->ops->purge(self->backend, state, before_ms, max_rows);
}

cJSON *qc_store_totals(qc_store_t *self)
{
    return self->ops->totals(self->backend);
}

/* Operations a backend may not have yet: refused as a storage error. */
#define S_OPTIONAL(self, op, fail)                                                                 \
    do {                                                                                           \
        if (!(self)->ops->op) {                                                                    \
            qc_error("store: %s is not available on %s", #op, (self)->ops->name);                  \
            return fail;                                                                           \
        }                                                                                          \
    } while (0)

int qc_store_job_started(qc_store_t *self, int64_t seq, int attempt, int64_t started_at_ms)
{
    S_OPTIONAL(self, job_started, -1);
    return self->ops->job_started(self->backend, seq, attempt, started_at_ms);
}

cJSON *qc_store_job_brief(qc_store_t *self, const char *id)
{
    S_OPTIONAL(self, job_brief, NULL);
    return self->ops->job_brief(self->backend, id);
}

int qc_store_job_states(qc_store_t *self, const char *const *ids, int count, cJSON *out)
{
    S_OPTIONAL(self, job_states, -1);
    return self->ops->job_states(self->backend, ids, count, out);
}

cJSON *qc_store_job_search(qc_store_t *self, const qc_store_search_t *search, int64_t *next_cursor,
                           int *scanned)
{
    S_OPTIONAL(self, job_search, NULL);
    return self->ops->job_search(self->backend, search, next_cursor, scanned);
}

int qc_store_job_claim_for(qc_store_t *self, const qc_worker_ref_t *worker, int64_t now_ms,
                           const char *queues, qc_claim_t *claim)
{
    memset(claim, 0, sizeof *claim);
    if (!self->ops->job_claim_for) {
        /* No queues here: every job is in "default". */
        if (!queues || qc_exit_list_has(queues, "default"))
            return self->ops->job_claim_next(self->backend, worker, now_ms, claim);
        return 0;
    }
    return self->ops->job_claim_for(self->backend, worker, now_ms, queues, claim);
}

int qc_store_schedule_add(qc_store_t *self, const qc_schedule_t *schedule)
{
    S_OPTIONAL(self, schedule_add, -1);
    return self->ops->schedule_add(self->backend, schedule);
}

int qc_store_schedule_update(qc_store_t *self, const qc_schedule_update_t *update)
{
    S_OPTIONAL(self, schedule_update, -1);
    return self->ops->schedule_update(self->backend, update);
}

int qc_store_schedule_remove(qc_store_t *self, const char *name)
{
    S_OPTIONAL(self, schedule_remove, -1);
    return self->ops->schedule_remove(self->backend, name);
}

cJSON *qc_store_schedule_list(qc_store_t *self, const char *name, int64_t due_by_ms)
{
    S_OPTIONAL(self, schedule_list, NULL);
    return self->ops->schedule_list(self->backend, name, due_by_ms);
}

cJSON *qc_store_schedule_runs(qc_store_t *self, const char *name, int limit)
{
    S_OPTIONAL(self, schedule_runs, NULL);
    return self->ops->schedule_runs(self->backend, name, limit);
}

int64_t qc_store_schedule_next_due(qc_store_t *self)
{
    if (!self->ops->schedule_next_due) /* no schedules there */
        return -1;
    return self->ops->schedule_next_due(self->backend);
}

int qc_store_deps_settle(qc_store_t *self, const char *id, int64_t now_ms, qc_store_dep_fn *fn,
                         void *arg)
{
    if (!self->ops->deps_settle) /* no dependencies can exist there */
        return 0;
    return self->ops->deps_settle(self->backend, id, now_ms, fn, arg);
}

int qc_store_deps_revive(qc_store_t *self, const char *id, int64_t now_ms, qc_store_dep_fn *fn,
                         void *arg)
{
    if (!self->ops->deps_revive)
        return 0;
    return self->ops->deps_revive(self->backend, id, now_ms, fn, arg);
}

cJSON *qc_store_job_deps(qc_store_t *self, const char *id, int max_dependents)
{
    if (!self->ops->job_deps) /* none there: empty lists */
        return cJSON_Parse("{\"after\":[],\"dependents\":[],\"more_dependents\":false}");
    return self->ops->job_deps(self->backend, id, max_dependents);
}

int qc_store_queue_update(qc_store_t *self, const qc_queue_update_t *update)
{
    S_OPTIONAL(self, queue_update, -1);
    return self->ops->queue_update(self->backend, update);
}

cJSON *qc_store_queue_list(qc_store_t *self, int64_t now_ms)
{
    S_OPTIONAL(self, queue_list, NULL);
    return self->ops->queue_list(self->backend, now_ms);
}

int qc_store_queue_counts(qc_store_t *self, const char *queue, int64_t counts[QC_STATE_COUNT])
{
    S_OPTIONAL(self, queue_counts, -1);
    return self->ops->queue_counts(self->backend, queue, counts);
}

cJSON *qc_store_job_list_in(qc_store_t *self, const qc_store_list_t *list, int64_t *next_cursor)
{
    S_OPTIONAL(self, job_list_in, NULL);
    return self->ops->job_list_in(self->backend, list, next_cursor);
}

int qc_store_job_get(qc_store_t *self, const char *id, int with_attempts, cJSON **job_out)
{
    return self->ops->job_get(self->backend, id, with_attempts, job_out);
}

cJSON *qc_store_job_list(qc_store_t *self, int state, int limit, int64_t cursor,
                         int64_t *next_cursor)
{
    return self->ops->job_list(self->backend, state, limit, cursor, next_cursor);
}

int qc_store_counts(qc_store_t *self, int64_t counts[QC_STATE_COUNT], int64_t *oldest_pending_ms)
{
    return self->ops->counts(self->backend, counts, oldest_pending_ms);
}

cJSON *qc_store_queue_entry(cJSON *queues, const char *name)
{
    cJSON *entry = cJSON_GetObjectItemCaseSensitive(queues, name);
    if (entry)
        return entry;
    entry = cJSON_AddObjectToObject(queues, name);
    cJSON *counts = cJSON_AddObjectToObject(entry, "counts");
    for (int s = 0; s < QC_STATE_COUNT; s++)
        cJSON_AddNumberToObject(counts, qc_state_name(s), 0);
    cJSON_AddBoolToObject(entry, "paused", 0);
    cJSON_AddNullToObject(entry, "max_running");
    return entry;
}
