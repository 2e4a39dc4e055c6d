/* A client of the broker's REQ/REP protocol that never hangs: each request
 * waits at most timeout_ms, and a silent broker is an error, not a hang. */
#ifndef QC_CLIENT_H
#define QC_CLIENT_H

#include <cjson/cJSON.h>

typedef struct _qc_client_t qc_client_t;

/* A client of endpoint; connects on the first call. Returns NULL on failure. */
qc_client_t *qc_client_new(const char *endpoint, int timeout_ms);

/* CURVE settings for a network endpoint (see queuectl/curve.h); checked now,
 * applied on every (re)connect. Returns 0, or -1 with err. */
int qc_client_set_security(qc_client_t *self, const char *key_path, const char *server_key,
                           int insecure, char *err, size_t errlen);
void qc_client_destroy(qc_client_t **self_p);

/* Sends request (not taken) and waits for the reply.
 * Returns 0 with *reply set (caller owns), -1 if no broker answered in time
 * (the socket is reset so the client can retry), -2 if the reply was not JSON. */
int qc_client_call(qc_client_t *self, const cJSON *request, cJSON **reply);

/* The two halves of a call, for a caller that does something while it
 * waits (the CLI starts the local broker if nothing answers).
 * qc_client_send sends request (not taken): 0, or -1 on failure.
 * qc_client_recv waits at most timeout_ms for its reply: 0 with *reply set
 * (caller owns), 1 if none yet (the request stays outstanding: call again,
 * or qc_client_reset), -1 on error or with nothing outstanding, -2 if the
 * reply was not JSON. */
int qc_client_send(qc_client_t *self, const cJSON *request);
int qc_client_recv(qc_client_t *self, int timeout_ms, cJSON **reply);

/* Abandons an outstanding request: the socket is closed (linger 0), so the
 * request is never delivered later; the next send reconnects. */
void qc_client_reset(qc_client_t *self);

/* ---- Convenience calls (libqueuectl). Each returns 0 on success, -1 if no
 * broker answered, or 1 if the broker refused (err says why, with its code
 * first: "duplicate: a job with id ... exists"). err may be NULL. */

/* A client of the default broker: QUEUECTL_BROKER, else the local one in
 * QUEUECTL_HOME (~/.queuectl), waiting at most 2 s per call. NULL on failure. */
qc_client_t *qc_client_connect(void);

/* Enqueues one job given as JSON fields (see docs/PROTOCOL.md 2.2); job is
 * not taken. The id used is written to id_out (at least 129 bytes). */
int qc_client_enqueue(qc_client_t *self, const cJSON *job, char *id_out, char *err, size_t errlen);

/* Enqueues a plain command with the broker's defaults. */
int qc_client_enqueue_command(qc_client_t *self, const char *command, char *id_out, char *err,
                              size_t errlen);

/* Enqueues an array of jobs atomically (all or none). *ids_out (caller owns)
 * is the array of ids in the same order. */
int qc_client_enqueue_many(qc_client_t *self, const cJSON *jobs, cJSON **ids_out, char *err,
                           size_t errlen);

/* The job with every attempt; *job_out is caller-owned. */
int qc_client_get(qc_client_t *self, const char *id, cJSON **job_out, char *err, size_t errlen);

/* The states of up to 10,000 jobs in one request (no command, no output):
 * *jobs_out (caller owns) is an array, in the order of ids, of {id, state,
 * attempts, max_retries, exit_code, last_error, updated_at, finished_at},
 * state null for an id that does not exist. */
int qc_client_states(qc_client_t *self, const char *const *ids, int count, cJSON **jobs_out,
                     char *err, size_t errlen);

/* Waits until the job is completed, dead or canceled (polling its state, at
 * most timeout_ms; -1 for no limit). *job_out (caller owns) is then the whole
 * job, as qc_client_get gives it. Returns 2 if the time ran out. */
int qc_client_wait(qc_client_t *self, const char *id, int timeout_ms, cJSON **job_out, char *err,
                   size_t errlen);

/* Up to limit jobs, newest first, of state (NULL for all). *jobs_out is
 * caller-owned. */
int qc_client_list(qc_client_t *self, const char *state, int limit, cJSON **jobs_out, char *err,
                   size_t errlen);

/* The endpoint this client talks to. */
const char *qc_client_get_endpoint(qc_client_t *self);

#endif
