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

/* The endpoint this client talks to. */
const char *qc_client_get_endpoint(qc_client_t *self);

#endif
