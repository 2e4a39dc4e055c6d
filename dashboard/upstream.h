/* The broker as the dashboard sees it: where it is, how to authenticate,
 * and one long-lived REQ client per thread (made on a thread's first call,
 * destroyed when that thread ends), so a ZeroMQ socket is never shared
 * between threads and never opened per request. */
#ifndef QC_UPSTREAM_H
#define QC_UPSTREAM_H

#include "queuectl/client.h"

#include <cjson/cJSON.h>

typedef struct {
    char endpoint[1024];    /* the broker's client endpoint */
    const char *curve_key;  /* our secret cert for tcp endpoints, or NULL */
    const char *server_key; /* the broker's public cert or key, or NULL */
    int insecure;           /* a tcp broker without CURVE */
    int timeout_ms;         /* per call */
} qc_upstream_config_t;

typedef struct _qc_upstream_t qc_upstream_t;

/* config is copied (the key strings are not: keep them alive). NULL on failure. */
qc_upstream_t *qc_upstream_new(const qc_upstream_config_t *config);

/* Destroys the calling thread's client and frees the rest. Call after every
 * other thread that made calls has ended. Accepts NULL; nulls *self_p. */
void qc_upstream_destroy(qc_upstream_t **self_p);

/* Calls the broker on this thread's client; request is not taken. Returns
 * the reply, ok or not (caller owns), or NULL when no broker answered in
 * time (*no_answer 1) or the reply was not JSON (*no_answer 0). */
cJSON *qc_upstream_call(qc_upstream_t *self, const cJSON *request, int *no_answer);

/* A REQ client of its own with this upstream's settings, for a thread that
 * manages it itself. Caller owns; NULL on failure. */
qc_client_t *qc_upstream_client_new(qc_upstream_t *self);

const qc_upstream_config_t *qc_upstream_config(qc_upstream_t *self);

#endif
