/* Encoding and decoding of worker-protocol messages and results. */
#ifndef QC_PROTO_H
#define QC_PROTO_H

#include <cjson/cJSON.h>
#include <czmq.h>
#include <stdint.h>

#include "queuectl/protocol.h"

/* The outcome of one attempt, as the worker reports it. */
typedef struct {
    char id[QC_MAX_ID_BYTES + 1];
    int attempt;
    qc_outcome_t outcome;
    int exit_code; /* -1 if it did not exit normally */
    int signal;    /* 0 if not killed by a signal */
    int64_t started_at_ms;
    int64_t finished_at_ms;
    int64_t cpu_ms;
    int64_t max_rss_kb;
    char error[256];   /* "" if none */
    char *stdout_tail; /* owned, may be NULL */
    char *stderr_tail; /* owned, may be NULL */
} qc_result_t;

void qc_result_init(qc_result_t *result);
void qc_result_clear(qc_result_t *result);
/* Caller owns the returned object. */
cJSON *qc_result_to_json(const qc_result_t *result);
/* Returns 0, or -1 with the reason in err. */
int qc_result_from_json(const cJSON *obj, qc_result_t *result, char *err, size_t errlen);

/* The one framing of the worker protocol: a message of header, command and
 * (if body is not NULL) body. Does not take body. Caller owns; NULL if out
 * of memory. */
zmsg_t *qc_wmsg_new(const char *command, const cJSON *body);

/* Sends header, command and (if body is not NULL) body on sock, prefixed by a
 * copy of routing_id when it is not NULL (broker side). Does not take body.
 * Returns 0 or -1. */
int qc_wmsg_send(void *sock, zframe_t *routing_id, const char *command, const cJSON *body);

/* Decodes a worker-protocol message whose routing frame (if any) is already
 * popped. On success sets *command (static string from the QC_ names table,
 * or NULL if unknown) and *body (caller owns, may be NULL) and returns 0.
 * Returns -2 on a malformed message with the reason in err. */
int qc_wmsg_decode(zmsg_t *msg, const char **command, cJSON **body, char *err, size_t errlen);

/* Parses a JSON text of len bytes that must be an object, valid UTF-8 and
 * no deeper than QC_MAX_JSON_DEPTH. Caller owns the result; NULL if not. */
cJSON *qc_json_parse_object(const char *text, size_t len, char *err, size_t errlen);

/* Helpers to read typed fields; return 0 if present and well-typed. */
const char *qc_json_string(const cJSON *obj, const char *key); /* NULL if absent/not a string */
int qc_json_int(const cJSON *obj, const char *key,
                int64_t *value); /* -1 if absent/not an integer */

#endif
