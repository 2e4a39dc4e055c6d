/* HTTP answers built by the handlers: JSON bodies and JSON errors. */
#include "reply.h"
#include "queuectl/parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void qc_reply_clear(qc_reply_t *reply)
{
    free(reply->body);
    reply->body = NULL;
    reply->len = 0;
}

void qc_reply_json(qc_reply_t *reply, int status, cJSON *value)
{
    qc_reply_clear(reply);
    reply->status = status;
    reply->content_type = QC_REPLY_JSON;
    reply->body = value ? cJSON_PrintUnformatted(value) : NULL;
    reply->len = reply->body ? strlen(reply->body) : 0;
    if (value && !reply->body)
        qc_reply_text(reply, 500, QC_REPLY_TEXT, "out of memory\n");
    cJSON_Delete(value);
}

void qc_reply_text(qc_reply_t *reply, int status, const char *content_type, const char *text)
{
    qc_reply_clear(reply);
    reply->status = status;
    reply->content_type = content_type;
    reply->body = strdup(text);
    reply->len = reply->body ? strlen(reply->body) : 0;
}

void qc_reply_error(qc_reply_t *reply, int status, const char *code, const char *fmt, ...)
{
    char message[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    qc_utf8_sanitize(message, strlen(message));
    cJSON *obj = cJSON_CreateObject();
    cJSON *error = cJSON_AddObjectToObject(obj, "error");
    cJSON_AddStringToObject(error, "code", code);
    cJSON_AddStringToObject(error, "message", message);
    qc_reply_json(reply, status, obj);
}
