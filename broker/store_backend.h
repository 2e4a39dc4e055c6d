/* What a store backend provides: store_front.c dispatches every qc_store_ call
 * through one of these tables. Each backend defines struct
 * _qc_store_backend_t its own way and keeps all of its SQL in its own file
 * (store_sqlite.c, store_pg.c). Only store_front.c and the backends include
 * this. */
#ifndef QC_STORE_BACKEND_H
#define QC_STORE_BACKEND_H

#include "store.h"

typedef struct _qc_store_backend_t qc_store_backend_t;

/* One entry per qc_store_ function, same meaning and return values. */
typedef struct {
    const char *name;
    unsigned features; /* QC_STORE_FEAT_ bits this backend stores */
    void (*destroy)(qc_store_backend_t **self_p);
    const char *(*errmsg)(qc_store_backend_t *self);
    int64_t (*total_changes)(qc_store_backend_t *self);
    int (*begin)(qc_store_backend_t *self);
    int (*commit)(qc_store_backend_t *self);
    void (*rollback)(qc_store_backend_t *self);
    int (*savepoint)(qc_store_backend_t *self);
    int (*release)(qc_store_backend_t *self);
    void (*rollback_savepoint)(qc_store_backend_t *self);
    int (*config_load)(qc_store_backend_t *self, qc_config_t *config);
    int (*config_save)(qc_store_backend_t *self, const char *key, const char *value);
    int (*job_insert)(qc_store_backend_t *self, const qc_job_spec_t *spec,
                      const qc_config_t *config, int64_t now_ms, char *id_out);
    /* NULL: the front inserts one by one. */
    int (*job_insert_many)(qc_store_backend_t *self, const qc_job_spec_t *specs, int n,
                           const qc_config_t *config, int64_t now_ms,
                           char (*ids_out)[QC_MAX_ID_BYTES + 1], int *failed_index);
    int (*job_claim_next)(qc_store_backend_t *self, const qc_worker_ref_t *worker, int64_t now_ms,
                          qc_claim_t *claim);
    int64_t (*next_due_ms)(qc_store_backend_t *self);
    int (*job_running)(qc_store_backend_t *self, const char *id, qc_running_t *running);
    int (*job_finish)(qc_store_backend_t *self, const qc_running_t *running,
                      const qc_result_t *result, qc_state_t next_state, int64_t run_at_ms,
                      int64_t now_ms);
    int (*each_running)(qc_store_backend_t *self, qc_store_running_fn *fn, void *arg);
    int (*job_revive)(qc_store_backend_t *self, const char *id, int64_t now_ms);
    int (*job_cancel)(qc_store_backend_t *self, const char *id, int64_t now_ms);
    int64_t (*purge)(qc_store_backend_t *self, int state, int64_t before_ms, int64_t max_rows);
    cJSON *(*totals)(qc_store_backend_t *self);
    int (*job_get)(qc_store_backend_t *self, const char *id, int with_attempts, cJSON **job_out);
    cJSON *(*job_list)(qc_store_backend_t *self, int state, int limit, int64_t cursor,
                       int64_t *next_cursor);
    int (*counts)(qc_store_backend_t *self, int64_t counts[QC_STATE_COUNT],
                  int64_t *oldest_pending_ms);
    int (*job_started)(qc_store_backend_t *self, int64_t seq, int attempt, int64_t started_at_ms);
    cJSON *(*job_brief)(qc_store_backend_t *self, const char *id);
    int (*job_states)(qc_store_backend_t *self, const char *const *ids, int count, cJSON *out);
    cJSON *(*job_search)(qc_store_backend_t *self, const qc_store_search_t *search,
                         int64_t *next_cursor, int *scanned);
    /* Named queues (NULL where a backend has none yet: refused). */
    int (*job_claim_for)(qc_store_backend_t *self, const qc_worker_ref_t *worker, int64_t now_ms,
                         const char *queues, qc_claim_t *claim);
    /* NULL: the front claims one by one (job_claim_for without queues). */
    int (*job_claim_many)(qc_store_backend_t *self, const qc_worker_ref_t *workers, int n,
                          int64_t now_ms, qc_claim_t *claims);
    /* NULL: unsupported (claims are made at once). */
    int (*job_claim_with_commit)(qc_store_backend_t *self, const qc_worker_ref_t *workers, int n,
                                 int64_t now_ms);
    int (*claims_committed)(qc_store_backend_t *self, qc_claim_t *claims, int max);
    int (*queue_update)(qc_store_backend_t *self, const qc_queue_update_t *update);
    cJSON *(*queue_list)(qc_store_backend_t *self, int64_t now_ms);
    int (*queue_counts)(qc_store_backend_t *self, const char *queue,
                        int64_t counts[QC_STATE_COUNT]);
    cJSON *(*job_list_in)(qc_store_backend_t *self, const qc_store_list_t *list,
                          int64_t *next_cursor);
    /* Recurring jobs (NULL where a backend has none yet: refused). */
    int (*schedule_add)(qc_store_backend_t *self, const qc_schedule_t *schedule);
    int (*schedule_update)(qc_store_backend_t *self, const qc_schedule_update_t *update);
    int (*schedule_remove)(qc_store_backend_t *self, const char *name);
    cJSON *(*schedule_list)(qc_store_backend_t *self, const char *name, int64_t due_by_ms);
    cJSON *(*schedule_runs)(qc_store_backend_t *self, const char *name, int limit);
    int64_t (*schedule_next_due)(qc_store_backend_t *self);
    /* Dependencies (NULL where a backend has none yet). */
    int (*deps_settle)(qc_store_backend_t *self, const char *id, int64_t now_ms,
                       qc_store_dep_fn *fn, void *arg);
    int (*deps_revive)(qc_store_backend_t *self, const char *id, int64_t now_ms,
                       qc_store_dep_fn *fn, void *arg);
    cJSON *(*job_deps)(qc_store_backend_t *self, const char *id, int max_dependents);
    /* NULL: the backend needs no lease (always held). */
    int (*lease_acquire)(qc_store_backend_t *self);
    int (*lease_valid)(qc_store_backend_t *self);
    int (*take_reconnected)(qc_store_backend_t *self);                /* NULL: never reconnects */
    void (*stats)(qc_store_backend_t *self, qc_store_stats_t *stats); /* NULL: none kept */
} qc_store_ops_t;

/* SQLite (store_sqlite.c): path is a file name. NULL with the reason in err. */
qc_store_backend_t *qc_sqlite_open(const char *path, int synchronous_full, char *err,
                                   size_t errlen);
void qc_sqlite_destroy(qc_store_backend_t **self_p);
extern const qc_store_ops_t qc_sqlite_ops;

/* PostgreSQL (store_pg.c, built as the module queuectl-pg.so that
 * store_front.c loads; these two are all it looks up): uri is a libpq
 * connection URI. NULL with
 * *failure (QC_STORE_FAIL_) and the reason in err. */
qc_store_backend_t *qc_pg_open(const char *uri, int synchronous_full, int64_t lease_ms,
                               int *failure, char *err, size_t errlen);
void qc_pg_destroy(qc_store_backend_t **self_p);
extern const qc_store_ops_t qc_pg_ops;

/* For the backends' queue lists: the entry for name in queues (an object
 * keyed by name), made with zero counts, not paused and no limit if new. Owned
 * by queues. (store_front.c) */
cJSON *qc_store_queue_entry(cJSON *queues, const char *name);

#endif
