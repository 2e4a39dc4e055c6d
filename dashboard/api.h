/* The REST API under /api and the /metrics route: decode the HTTP request,
 * call the broker, encode the answer (docs/API.md). Runs on the calling
 * connection's thread; broker calls go through that thread's client. */
#ifndef QC_API_H
#define QC_API_H

#include "hub.h"
#include "reply.h"
#include "upstream.h"

#include <stddef.h>

typedef struct _qc_api_t qc_api_t;

/* Query-string lookup: the value of key, or NULL. */
typedef const char *(qc_api_query_fn)(void *cls, const char *key);

/* One HTTP request, as far as the API is concerned. */
typedef struct {
    const char *method; /* upper case */
    const char *path;   /* decoded, without the query string */
    qc_api_query_fn *query;
    void *query_cls;
    const char *body; /* may be NULL */
    size_t len;       /* bytes in body */
} qc_api_request_t;

/* upstream and hub are not owned and must outlive the API. NULL on failure. */
qc_api_t *qc_api_new(qc_upstream_t *upstream, qc_hub_t *hub);
void qc_api_destroy(qc_api_t **self_p);

/* Handles a request under /api or /metrics; fills reply (caller frees its
 * body with qc_reply_clear). */
void qc_api_handle(qc_api_t *self, const qc_api_request_t *request, qc_reply_t *reply);

#endif
