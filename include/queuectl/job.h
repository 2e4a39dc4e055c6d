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
} qc_job_spec_t;

/* Sets every field to its "unset" value. */
void qc_job_spec_init(qc_job_spec_t *spec);
/* Frees what the spec owns and re-inits it. */
void qc_job_spec_clear(qc_job_spec_t *spec);

/* Validates a JSON object and fills spec. Unknown fields are refused.
 * Returns 0, or -1 with a message naming the field in err. */
int qc_job_spec_from_json(const cJSON *obj, qc_job_spec_t *spec, char *err, size_t errlen);

/* Caller owns the returned object. Unset fields are left out. */
cJSON *qc_job_spec_to_json(const qc_job_spec_t *spec);

/* Ids: 1..QC_MAX_ID_BYTES of [A-Za-z0-9._:@-], not starting with '-'. */
int qc_job_id_valid(const char *id);

#endif
