/* An HTTP answer as the dashboard's handlers build it (status, body, content
 * type), before http.c turns it into a libmicrohttpd response. */
#ifndef QC_REPLY_H
#define QC_REPLY_H

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct {
    int status;               /* HTTP status code */
    char *body;               /* owned (malloc), may be NULL for an empty body */
    size_t len;               /* bytes in body */
    const char *content_type; /* static string */
    const char *allow;        /* for 405: the Allow header (static), else NULL */
} qc_reply_t;

#define QC_REPLY_JSON "application/json; charset=utf-8"
#define QC_REPLY_TEXT "text/plain; charset=utf-8"

/* Sets reply to a JSON body (value taken: freed here) with status. */
void qc_reply_json(qc_reply_t *reply, int status, cJSON *value);

/* Sets reply to {"error": {"code", "message"}} with status. */
void qc_reply_error(qc_reply_t *reply, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Sets reply to text (copied) with status and content_type (static). */
void qc_reply_text(qc_reply_t *reply, int status, const char *content_type, const char *text);

/* Frees the body; the reply can be filled again. */
void qc_reply_clear(qc_reply_t *reply);

#endif
