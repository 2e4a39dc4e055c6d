/* A job as a client submits it: JSON codec and validation shared by the CLI
 * (to refuse bad input early) and the broker (which never trusts a peer). */
#ifndef QC_JOB_H
#define QC_JOB_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "queuectl/protocol.h"

typedef struct {
    char id[QC_MAX_ID_BYTES + 1]; /* "" means the broker generates one */
    char *command;                /* owned; never NULL after a successful parse */
    int max_retries;              /* -1: the broker's configured default */
    int priority;                 /* higher runs first */
    int64_t run_at_ms;            /* 0: now */
    int64_t delay_ms;             /* added to now when run_at_ms is 0 */
    int timeout_s;                /* 0: the broker's configured default */
    char *env_json; /* owned: {"NAME":"value",...} compact, names checked; NULL: none */
    char *cwd;      /* owned: absolute directory the command runs in; NULL: the worker's */
    /* owned: canonical exit lists (qc_parse_exit_list); NULL: the config's
     * default, "": explicitly none. */
    char *retry_on_exit;    /* only these exit codes retry */
    char *no_retry_on_exit; /* these exit codes (and timeout, lost) go to the DLQ */
    /* While a job with this key is unfinished, enqueueing another returns
     * it instead; "" for none. Same rules as ids. */
    char unique_key[QC_MAX_ID_BYTES + 1];
    char queue[QC_MAX_ID_BYTES + 1]; /* "" means "default"; same rules as ids */
    /* owned: ids of jobs that must complete first (after_count of them, each
     * once, not the job's own id); NULL when none. */
    char (*after)[QC_MAX_ID_BYTES + 1];
    int after_count;
} qc_job_spec_t;

/* Dependencies one job may have. */
#define QC_MAX_DEPS 100

/* Limits of a job's environment and working directory. */
#define QC_MAX_ENV_VARS 128
#define QC_MAX_ENV_NAME_BYTES 128
#define QC_MAX_ENV_BYTES (64 * 1024) /* names and values together */
#define QC_MAX_CWD_BYTES 4096

/* Sets every field to its "unset" value. */
void qc_job_spec_init(qc_job_spec_t *spec);
/* Frees what the spec owns and re-inits it. */
void qc_job_spec_clear(qc_job_spec_t *spec);

/* Validates a JSON object and fills spec. Unknown fields are refused.
 * Returns 0, or -1 with a message naming the field in err. */
int qc_job_spec_from_json(const cJSON *obj, qc_job_spec_t *spec, char *err, size_t errlen);

/* Caller owns the returned object. Unset fields are left out. */
cJSON *qc_job_spec_to_json(const qc_job_spec_t *spec);

/* A variable name a job may set: [A-Za-z_][A-Za-z0-9_]*, at most
 * QC_MAX_ENV_NAME_BYTES, not starting with QUEUECTL_ (queuectl sets those).
 * Returns 1 if valid; else 0 with the reason in err. */
int qc_job_env_name_valid(const char *name, char *err, size_t errlen);

/* A canonical exit list as JSON: [75, 111, "timeout"]. Caller owns. */
cJSON *qc_exit_list_to_json(const char *list);

/* A worker's queues: "a,b" (names as ids, each once, at most
 * QC_MAX_WORKER_QUEUES; order is preference). Copies it to out (at least
 * QC_QUEUE_LIST_BYTES). Returns 0, or -1 with the reason in err. */
int qc_queue_list_parse(const char *text, char *out, size_t outlen, char *err, size_t errlen);

/* Ids: 1..QC_MAX_ID_BYTES of [A-Za-z0-9._:@-], not starting with '-'. */
int qc_job_id_valid(const char *id);

#endif
