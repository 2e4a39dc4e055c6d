/* queuectl dashboard: shared pieces of the web dashboard.
 *
 * dashboard.c     the command: flags, the HTTP server (libmicrohttpd, one
 *                 thread per connection), authentication and CSRF checks,
 *                 static files, the Server-Sent Events hub and the thread
 *                 that reads the broker's event stream.
 * dashboard_api.c the REST API under /api and /metrics: decode the HTTP
 *                 request, call the broker, encode the answer.
 *
 * Every ZeroMQ socket is owned by one thread for its whole life: each API
 * request opens its own REQ client, and the events thread owns the SUB
 * socket and a REQ client of its own. */
#ifndef QC_DASHBOARD_H
#define QC_DASHBOARD_H

#include "ctl.h"

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct _qc_dash_t qc_dash_t;

/* An answer to one HTTP request, built by the API. */
typedef struct {
    int status;               /* HTTP status code */
    char *body;               /* owned (malloc), may be NULL for an empty body */
    size_t len;               /* bytes in body */
    const char *content_type; /* static string */
    const char *allow;        /* for 405: the Allow header, else NULL */
} qc_dash_reply_t;

/* Query-string lookup: the value of key, or NULL. */
typedef const char *(qc_dash_query_fn)(void *cls, const char *key);

/* Calls the broker with request (taken). Returns the broker's reply, ok or
 * not (caller owns), or NULL if no broker answered in time or the reply was
 * not JSON (*no_answer is 1 for silence, 0 for a malformed reply). */
cJSON *qc_dash_broker_call(qc_dash_t *dash, cJSON *request, int *no_answer);

/* Throughput history as JSON {interval_s, end, completed:[], failed:[]}
 * (oldest first). Caller owns. */
cJSON *qc_dash_throughput(qc_dash_t *dash);

/* Whether live updates come from the broker's event stream ("events") or
 * from polling status ("polling"). Static string. */
const char *qc_dash_events_mode(qc_dash_t *dash);

/* Handles one request under /api or /metrics. method is upper case, path is
 * the decoded path without the query string, body (may be NULL) holds len
 * bytes. Fills reply (caller frees reply->body). */
void qc_dash_api_handle(qc_dash_t *dash, const char *method, const char *path,
                        qc_dash_query_fn *query, void *query_cls, const char *body, size_t len,
                        qc_dash_reply_t *reply);

/* Sets reply to a JSON error {"error":{"code","message"}} with status. */
void qc_dash_reply_error(qc_dash_reply_t *reply, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Sets reply to a JSON body (value taken) with status. */
void qc_dash_reply_json(qc_dash_reply_t *reply, int status, cJSON *value);

#endif
